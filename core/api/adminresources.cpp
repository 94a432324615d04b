#include "api/adminresources.h"

#include "api/adminreply.h"
#include "config/configstore.h"
#include "model/codec.h"

#include <QDateTime>
#include <QJsonArray>
#include <QRegularExpression>
#include <QSet>
#include <QUrlQuery>
#include <algorithm>
#include <cmath>
#include <optional>

namespace sg {

namespace {

using Status = HttpStatus;
using Method = HttpRequest::Method;

using adminreply::apisixProblemsResponse;
using adminreply::error;
using adminreply::json;
using adminreply::keyNotFound;
using adminreply::methodNotAllowed;
using adminreply::methodNotSupportedFor;
using adminreply::refusalResponse;
using adminreply::refuseIgnoredBody;

const QString kAdminBase = QStringLiteral("/apisix/admin");

// The name of the resource in URLs and etcd keys.
QString resourceName(AdminKind kind)
{
    switch (kind) {
    case AdminKind::StreamRoutes:
        return QStringLiteral("stream_routes");
    case AdminKind::Upstreams:
        return QStringLiteral("upstreams");
    case AdminKind::Services:
        return QStringLiteral("services");
    case AdminKind::Ssls:
        break;
    }
    return QStringLiteral("ssls");
}

std::optional<AdminKind> kindNamed(const QString& name)
{
    for (const AdminKind kind :
         {AdminKind::StreamRoutes, AdminKind::Upstreams, AdminKind::Services, AdminKind::Ssls})
        if (name == resourceName(kind))
            return kind;
    return std::nullopt;
}

// APISIX's other admin resources: named in the refusal, rather than called unknown.
bool isOtherApisixResource(const QString& name)
{
    static const QSet<QString> names{
        QStringLiteral("routes"),         QStringLiteral("consumers"),
        QStringLiteral("credentials"),    QStringLiteral("global_rules"),
        QStringLiteral("plugin_configs"), QStringLiteral("consumer_groups"),
        QStringLiteral("secrets"),        QStringLiteral("protos"),
        QStringLiteral("plugins"),        QStringLiteral("schema"),
        QStringLiteral("configs"),        QStringLiteral("graphql_cost_decorations")};
    return names.contains(name);
}

HttpResponse unsupportedResource(const QString& name)
{
    if (isOtherApisixResource(name))
        return error(QStringLiteral("%1: not supported by Streamgate, whose admin API serves "
                                    "stream_routes, upstreams, services, ssls and "
                                    "plugin_metadata/syslog")
                         .arg(name),
                     Status::BadRequest);
    return error(QStringLiteral("Unsupported resource type: ") + name, Status::NotFound);
}

// The etcd key APISIX answers with: /apisix/stream_routes/ID, /apisix/upstreams/ID, ...
QString storeKey(AdminKind kind, const QString& id)
{
    return QStringLiteral("/apisix/%1/%2").arg(resourceName(kind), id);
}

// The methods a path serves, for the Allow header of a 405. A stream route has no PATCH; an
// upstream or a service is patched whole or at a sub path.
QByteArray allowedMethods(AdminKind kind, bool withId)
{
    if (!withId)
        return "GET, PUT, POST";
    return kind == AdminKind::StreamRoutes ? "GET, PUT, DELETE" : "GET, PUT, PATCH, DELETE";
}

// Every object of a kind as stored, by id, in the store's order; private keys in full (the
// answers redact them: shown()).
QList<QPair<QString, QJsonObject>> storedObjects(const Config& config, AdminKind kind)
{
    QList<QPair<QString, QJsonObject>> out;
    switch (kind) {
    case AdminKind::StreamRoutes:
        for (const StreamRoute& r : config.streamRoutes)
            out.append({r.idString(), encodeStreamRoute(r)});
        break;
    case AdminKind::Upstreams:
        for (const Upstream& u : config.upstreams)
            out.append({u.idString(), encodeUpstream(u)});
        break;
    case AdminKind::Services:
        for (const Service& v : config.services)
            out.append({v.idString(), encodeService(v)});
        break;
    case AdminKind::Ssls:
        for (const Ssl& v : config.ssls)
            out.append({v.idString(), encodeSsl(v)});
        break;
    }
    return out;
}

// One object as stored; nullopt when no object of the kind has the id.
std::optional<QJsonObject> storedObject(const Config& config, AdminKind kind, const QString& id)
{
    switch (kind) {
    case AdminKind::StreamRoutes:
        if (const StreamRoute* r = config.findRoute(id))
            return encodeStreamRoute(*r);
        break;
    case AdminKind::Upstreams:
        if (const Upstream* u = config.findUpstream(id))
            return encodeUpstream(*u);
        break;
    case AdminKind::Services:
        if (const Service* v = config.findService(id))
            return encodeService(*v);
        break;
    case AdminKind::Ssls:
        if (const Ssl* v = config.findSsl(id))
            return encodeSsl(*v);
        break;
    }
    return std::nullopt;
}

// An object as the API shows it: an ssl's private keys redacted, and an upstream's
// tls.client_key.
QJsonObject shown(AdminKind kind, const QJsonObject& value)
{
    return kind == AdminKind::Ssls ? redactedSsl(value) : redactedClientKeys(value);
}

// A write that gives back an upstream's tls.client_key as the API showed it keeps the stored
// key (GET, edit, PUT works as for an ssl).
void restoreRedactedClientKey(const QStringList& stored, std::optional<Upstream>& upstream)
{
    if (!upstream || !upstream->tls)
        return;
    for (const QString& candidate : stored) {
        if (upstream->tls->clientKey == redactedPrivateKey(candidate)) {
            upstream->tls->clientKey = candidate;
            return;
        }
    }
}

// A PUT or PATCH of an ssl that gives back a key as the API showed it (redactedPrivateKey)
// keeps that stored key.
void restoreRedactedKeys(const Ssl* stored, Ssl& ssl)
{
    if (!stored)
        return;
    QStringList storedKeys = stored->keys;
    storedKeys.prepend(stored->key);
    const auto restore = [&storedKeys](QString& key) {
        for (const QString& candidate : storedKeys) {
            if (key == redactedPrivateKey(candidate)) {
                key = candidate;
                return;
            }
        }
    };
    restore(ssl.key);
    for (QString& key : ssl.keys)
        restore(key);
}

// APISIX's check_conf of a written object looks its references up first, in these words.
std::optional<QString> missingReference(const Config& config, const AdminObject& object,
                                        AdminKind kind)
{
    const auto given = [](const QJsonValue& id) { return !id.isUndefined() && !id.isNull(); };
    const QJsonValue upstreamId = kind == AdminKind::StreamRoutes ? object.route.upstreamId
                                  : kind == AdminKind::Services   ? object.service.upstreamId
                                                                  : QJsonValue();
    if (given(upstreamId) && !config.findUpstream(adminIdText(upstreamId)))
        return QStringLiteral(
                   "failed to fetch upstream info by upstream id [%1], response code: 404")
            .arg(adminIdText(upstreamId));
    // traffic-split's upstream_ids (APISIX looks them up only when a session comes, and ends
    // that session with these words; here the object is refused before it is stored).
    const Plugins* plugins = kind == AdminKind::StreamRoutes ? &object.route.plugins
                             : kind == AdminKind::Services   ? &object.service.plugins
                                                             : nullptr;
    if (plugins && plugins->trafficSplit) {
        for (const TrafficSplitRule& rule : plugins->trafficSplit->rules)
            for (const TrafficSplitUpstream& w : rule.weightedUpstreams)
                if (given(w.upstreamId) && !config.findUpstream(adminIdText(w.upstreamId)))
                    return QStringLiteral("failed to fetch upstream info by upstream id [%1], "
                                          "response code: 404")
                        .arg(adminIdText(w.upstreamId));
    }
    if (kind == AdminKind::StreamRoutes && given(object.route.serviceId) &&
        !config.findService(adminIdText(object.route.serviceId)))
        return QStringLiteral("failed to fetch service info by service id [%1], response code: 404")
            .arg(adminIdText(object.route.serviceId));
    return std::nullopt;
}

// The path below /apisix/admin/ as APISIX's split_uri reads it, each segment decoded on its own:
// dispatch matched the decoded path, where "a%2Fb" already reads "a/b"; splitting the encoded
// one first keeps an encoded "/" inside its segment (an id, where it is then refused).
QStringList pathSegments(const HttpRequest& request)
{
    QString encoded = request.url().path(QUrl::FullyEncoded);
    // A client that encoded the base path itself: read the decoded one.
    if (!encoded.startsWith(kAdminBase))
        encoded = request.url().path();
    QStringList segments = encoded.mid(kAdminBase.size()).split(u'/');
    if (!segments.isEmpty() && segments.first().isEmpty())
        segments.removeFirst();
    for (QString& segment : segments)
        segment = QUrl::fromPercentEncoding(segment.toUtf8());
    return segments;
}

// APISIX's stream route resource lists PATCH in its unsupported_methods, which its handler
// checks before anything else it does: before the id, the sub path and what the body says.
// Only what init.lua does first comes before it: the key, and decoding the body.
std::optional<HttpResponse> refuseUnsupportedMethod(AdminKind kind, const HttpRequest& request,
                                                    const QByteArray& allow)
{
    if (kind != AdminKind::StreamRoutes || request.method() != Method::Patch)
        return std::nullopt;
    if (auto refusal = refuseIgnoredBody(request))
        return refusal;
    return methodNotSupportedFor(request.method(), adminKindName(kind), allow);
}

// ?ttl=N asks etcd for an object that expires; Streamgate's objects do not. APISIX refuses a
// ttl that is no number whatever the method.
std::optional<HttpResponse> refuseTtl(const HttpRequest& request)
{
    const QUrlQuery query = request.query();
    if (!query.hasQueryItem(QStringLiteral("ttl")))
        return std::nullopt;
    bool number = false;
    query.queryItemValue(QStringLiteral("ttl")).trimmed().toDouble(&number);
    if (!number)
        return error(QStringLiteral("invalid argument ttl: should be a number"),
                     Status::BadRequest);
    const Method method = request.method();
    if (method != Method::Put && method != Method::Post && method != Method::Patch)
        return std::nullopt;
    return error(QStringLiteral("ttl: not supported by Streamgate (objects stay until deleted)"),
                 Status::BadRequest);
}

// Lua's tonumber() of a query argument.
std::optional<double> queryNumber(const QUrlQuery& query, const QString& name)
{
    if (!query.hasQueryItem(name))
        return std::nullopt;
    bool ok = false;
    const double value = query.queryItemValue(name, QUrl::FullyDecoded).trimmed().toDouble(&ok);
    return ok ? std::optional<double>(value) : std::nullopt;
}

// APISIX's v3 list filters: `name` (a regular expression on the object's name), `label` (a
// label key the object has) and, for stream routes, `filter` (service_id=ID&upstream_id=ID,
// compared as text with ids that are text).
bool listed(AdminKind kind, const QJsonObject& value, const QUrlQuery& query)
{
    if (query.hasQueryItem(QStringLiteral("name"))) {
        const QRegularExpression pattern(
            query.queryItemValue(QStringLiteral("name"), QUrl::FullyDecoded));
        const QJsonValue name = value.value(u"name");
        if (!pattern.isValid() || !name.isString() || !pattern.match(name.toString()).hasMatch())
            return false;
    }
    if (query.hasQueryItem(QStringLiteral("label")) &&
        !value.value(u"labels").toObject().contains(
            query.queryItemValue(QStringLiteral("label"), QUrl::FullyDecoded)))
        return false;
    if (kind != AdminKind::StreamRoutes || !query.hasQueryItem(QStringLiteral("filter")))
        return true;
    const QUrlQuery filters(query.queryItemValue(QStringLiteral("filter"), QUrl::FullyDecoded));
    for (const QString& field : {QStringLiteral("service_id"), QStringLiteral("upstream_id")}) {
        const QStringList wanted = filters.allQueryItemValues(field, QUrl::FullyDecoded);
        if (wanted.isEmpty())
            continue;
        // Lua compares a number id with the text of the filter as unequal.
        const QJsonValue id = value.value(field);
        if (!id.isString() || id.toString() != wanted.last())
            return false;
    }
    return true;
}

} // namespace

void AdminIndex::reset(const QStringList& ids, qint64 revision)
{
    m_index.clear();
    for (const QString& id : ids)
        m_index.insert(id, {revision, revision});
}

void AdminIndex::apply(qint64 revision, const QStringList& added, const QStringList& changed,
                       const QStringList& removed)
{
    for (const QString& id : added)
        m_index.insert(id, {revision, revision});
    for (const QString& id : changed) {
        auto it = m_index.find(id);
        if (it == m_index.end())
            m_index.insert(id, {revision, revision});
        else
            it->second = revision;
    }
    for (const QString& id : removed)
        m_index.remove(id);
}

QPair<qint64, qint64> AdminIndex::at(const QString& id, qint64 revision) const
{
    return m_index.value(id, {revision, revision});
}

AdminResources::AdminResources(ConfigStore* store) : m_store(store)
{
    const Config config = m_store->config();
    const qint64 revision = m_store->revision();
    const auto ids = [&](AdminKind kind) {
        QStringList out;
        for (const auto& object : storedObjects(config, kind))
            out << object.first;
        return out;
    };
    m_routeIndex.reset(ids(Kind::StreamRoutes), revision);
    m_upstreamIndex.reset(ids(Kind::Upstreams), revision);
    m_serviceIndex.reset(ids(Kind::Services), revision);
    m_sslIndex.reset(ids(Kind::Ssls), revision);
}

bool AdminResources::owns(const QString& path)
{
    return path == kAdminBase || path.startsWith(kAdminBase + u'/');
}

HttpResponse AdminResources::handle(const HttpRequest& request)
{
    const QStringList segments = pathSegments(request);
    const QString resource = segments.value(0);
    if (resource.isEmpty()) {
        // APISIX answers HEAD /apisix/admin as a liveness check.
        if (request.method() == Method::Head)
            return HttpResponse(Status::Ok);
        return error(QStringLiteral("not found"), Status::NotFound);
    }
    if (const std::optional<Kind> kind = kindNamed(resource))
        return handleKind(*kind, segments.value(1), segments.mid(2).join(u'/'), request);
    if (resource == u"schema" && segments.value(1) == u"validate" &&
        request.method() == Method::Post)
        return validate(segments.value(2), request);
    return unsupportedResource(resource);
}

void AdminResources::track(const ConfigDiff& diff)
{
    const qint64 revision = m_store->revision();
    // A route is modified when what is stored for it is, not when only its service changed (its
    // modifiedIndex in APISIX's etcd stays).
    QStringList routesModified = diff.routesChanged;
    for (const QString& id : diff.routesChangedByService)
        routesModified.removeOne(id);
    m_routeIndex.apply(revision, diff.routesAdded, routesModified, diff.routesRemoved);
    m_upstreamIndex.apply(revision, diff.upstreamsAdded, diff.upstreamsChanged,
                          diff.upstreamsRemoved);
    m_serviceIndex.apply(revision, diff.servicesAdded, diff.servicesChanged, diff.servicesRemoved);
    m_sslIndex.apply(revision, diff.sslsAdded, diff.sslsChanged, diff.sslsRemoved);
}

const AdminIndex& AdminResources::indexOf(Kind kind) const
{
    switch (kind) {
    case Kind::StreamRoutes:
        return m_routeIndex;
    case Kind::Upstreams:
        return m_upstreamIndex;
    case Kind::Services:
        return m_serviceIndex;
    case Kind::Ssls:
        break;
    }
    return m_sslIndex;
}

QJsonObject AdminResources::item(Kind kind, const QString& id, const QJsonObject& value) const
{
    const QPair<qint64, qint64> at = indexOf(kind).at(id, m_store->revision());
    return QJsonObject{
        {QStringLiteral("key"), storeKey(kind, id)},
        {QStringLiteral("value"), value},
        {QStringLiteral("createdIndex"), at.first},
        {QStringLiteral("modifiedIndex"), at.second},
    };
}

// As APISIX's resource handlers read a path: the first segment is the id, the rest a sub path
// that only PATCH uses ("/ID/" is the whole object); GET, PUT and DELETE act on the id.
HttpResponse AdminResources::handleKind(Kind kind, const QString& id, const QString& subPath,
                                        const HttpRequest& request)
{
    const QByteArray allow = allowedMethods(kind, !id.isEmpty());
    if (auto refusal = refuseUnsupportedMethod(kind, request, allow))
        return std::move(*refusal);
    if (auto refusal = refuseTtl(request))
        return std::move(*refusal);
    // APISIX refuses any id on a POST before it looks at whether the id is valid.
    if (request.method() == Method::Post)
        return post(kind, id, request);
    if (!id.isEmpty()) {
        if (auto bad = checkAdminId(kind, id))
            return refusalResponse(*bad);
    }

    switch (request.method()) {
    case Method::Get:
        if (auto refusal = refuseIgnoredBody(request))
            return std::move(*refusal);
        return id.isEmpty() ? list(kind, request.query()) : get(kind, id);
    case Method::Put:
        return put(kind, id, request);
    case Method::Patch: // upstreams and services only (refuseUnsupportedMethod)
        if (id.isEmpty()) {
            // APISIX reads the body first, then asks for the id.
            if (auto refusal = refuseIgnoredBody(request))
                return std::move(*refusal);
            return error(QStringLiteral("missing %1 id").arg(adminKindName(kind)),
                         Status::BadRequest);
        }
        if (!subPath.isEmpty()) {
            if (auto bad = checkAdminSubPath(subPath))
                return refusalResponse(*bad);
        }
        return patch(kind, id, subPath, request);
    case Method::Delete:
        if (auto refusal = refuseIgnoredBody(request))
            return std::move(*refusal);
        if (id.isEmpty())
            return error(QStringLiteral("missing %1 id").arg(adminKindName(kind)),
                         Status::BadRequest);
        return remove(kind, id, request.query().queryItemValue(QStringLiteral("force")) == u"true");
    default:
        return methodNotAllowed(request.method(), allow);
    }
}

// POST /apisix/admin/schema/validate/KIND: the body checked as an object of the kind would be
// (references to other objects are not looked up); 200 with no body when it passes.
HttpResponse AdminResources::validate(const QString& resource, const HttpRequest& request) const
{
    const std::optional<Kind> kind = kindNamed(resource);
    if (!kind)
        return unsupportedResource(resource);
    const AdminObject checked = adminValidateBody(*kind, request.body());
    if (checked.refusal)
        return refusalResponse(*checked.refusal);
    return HttpResponse(Status::Ok);
}

// APISIX's v3 list: in etcd's key order; filtered (name, label, filter); `total` counts what
// the filters kept; with both page and page_size, one page in the order of creation.
HttpResponse AdminResources::list(Kind kind, const QUrlQuery& query) const
{
    struct Row
    {
        QString id;
        QJsonObject value;
        qint64 created = 0;
    };
    QList<Row> rows;
    const qint64 revision = m_store->revision();
    for (const auto& [id, value] : storedObjects(m_store->config(), kind))
        if (listed(kind, value, query))
            rows.append({id, shown(kind, value), indexOf(kind).at(id, revision).first});
    std::sort(rows.begin(), rows.end(),
              [](const Row& a, const Row& b) { return a.id < b.id; }); // ids are ASCII
    const qsizetype total = rows.size();

    const std::optional<double> page = queryNumber(query, QStringLiteral("page"));
    const std::optional<double> pageSize = queryNumber(query, QStringLiteral("page_size"));
    if (page && pageSize) {
        if (*pageSize < 10 || *pageSize > 500)
            return HttpResponse("text/plain", "page_size must be between 10 and 500",
                                Status::BadRequest);
        std::stable_sort(rows.begin(), rows.end(),
                         [](const Row& a, const Row& b) { return a.created < b.created; });
        const double first = std::max(*page, 1.0) * *pageSize - *pageSize; // 0-based
        QList<Row> onPage;
        for (double at = first; at < first + *pageSize; at += 1)
            if (at >= 0 && at < double(rows.size()) && std::floor(at) == at)
                onPage.append(rows.at(qsizetype(at)));
        rows = onPage;
    }
    QJsonArray items;
    for (const Row& row : rows)
        items.append(item(kind, row.id, row.value));
    return json(QJsonObject{{QStringLiteral("total"), total}, {QStringLiteral("list"), items}});
}

HttpResponse AdminResources::get(Kind kind, const QString& id) const
{
    if (const std::optional<QJsonObject> value = storedObject(m_store->config(), kind, id))
        return json(item(kind, id, shown(kind, *value)));
    return keyNotFound();
}

QString AdminResources::newId(Kind kind) const
{
    // APISIX's POST ids are 20-digit numbers; time-based so they sort by creation.
    const Config config = m_store->config();
    qint64 candidate = QDateTime::currentMSecsSinceEpoch() * 1000;
    for (;;) {
        const QString id = QStringLiteral("%1").arg(candidate, 20, 10, QLatin1Char('0'));
        if (!storedObject(config, kind, id))
            return id;
        ++candidate;
    }
}

HttpResponse AdminResources::put(Kind kind, const QString& id, const HttpRequest& request)
{
    const AdminObject object = adminPutBody(kind, id, request.body());
    if (object.refusal)
        return refusalResponse(*object.refusal);
    return save(kind, object);
}

HttpResponse AdminResources::post(Kind kind, const QString& pathId, const HttpRequest& request)
{
    const AdminObject object =
        adminPostBody(kind, pathId, pathId.isEmpty() ? newId(kind) : QString(), request.body());
    if (object.refusal)
        return refusalResponse(*object.refusal);
    return save(kind, object);
}

HttpResponse AdminResources::save(Kind kind, const AdminObject& object)
{
    const QString& id = object.id;
    const Config before = m_store->config();
    if (const std::optional<QString> missing = missingReference(before, object, kind))
        return error(*missing, Status::BadRequest);
    const bool existed = storedObject(before, kind, id).has_value();
    const ConfigStore::Stamp stamp =
        object.keepGivenTimes ? ConfigStore::Stamp::KeepGiven : ConfigStore::Stamp::Now;
    const QStringList storedClientKeys =
        clientKeysOf(storedObject(before, kind, id).value_or(QJsonObject()));
    Problems problems;
    switch (kind) {
    case Kind::StreamRoutes: {
        StreamRoute route = object.route;
        restoreRedactedClientKey(storedClientKeys, route.upstream);
        problems = m_store->putRoute(route);
        break;
    }
    case Kind::Ssls: {
        Ssl ssl = object.ssl;
        restoreRedactedKeys(before.findSsl(id), ssl);
        problems = m_store->putSsl(ssl, stamp);
        break;
    }
    case Kind::Upstreams: {
        std::optional<Upstream> upstream = object.upstream;
        restoreRedactedClientKey(storedClientKeys, upstream);
        problems = m_store->putUpstream(*upstream, stamp);
        break;
    }
    case Kind::Services: {
        Service service = object.service;
        restoreRedactedClientKey(storedClientKeys, service.upstream);
        problems = m_store->putService(service, stamp);
        break;
    }
    }
    if (!problems.isEmpty())
        return apisixProblemsResponse(apisixPluginsOf(kind), problems);

    const QJsonObject value =
        shown(kind, storedObject(m_store->config(), kind, id).value_or(QJsonObject()));
    // APISIX strips etcd's createdIndex and modifiedIndex from the answer to a write; a GET
    // still has them.
    return json(
        QJsonObject{{QStringLiteral("key"), storeKey(kind, id)}, {QStringLiteral("value"), value}},
        existed ? Status::Ok : Status::Created);
}

HttpResponse AdminResources::patch(Kind kind, const QString& id, const QString& subPath,
                                   const HttpRequest& request)
{
    const std::optional<QJsonObject> stored = storedObject(m_store->config(), kind, id);
    if (!stored)
        return keyNotFound();
    const AdminObject object = adminPatchBody(kind, id, *stored, subPath, request.body());
    if (object.refusal)
        return refusalResponse(*object.refusal);
    return save(kind, object);
}

HttpResponse AdminResources::remove(Kind kind, const QString& id, bool force)
{
    const Config config = m_store->config();
    if (!storedObject(config, kind, id))
        return keyNotFound();
    // APISIX's delete_checker, in its words, skipped with ?force=true. It leaves stream routes
    // out of an upstream's check: they may be left naming an upstream that is gone.
    if (!force) {
        const QString inUse = kind == Kind::Upstreams  ? upstreamInUse(config, id, true)
                              : kind == Kind::Services ? serviceInUse(config, id)
                                                       : QString();
        if (!inUse.isEmpty())
            return error(inUse, Status::BadRequest);
    }
    Problems problems;
    switch (kind) {
    case Kind::StreamRoutes:
        problems = m_store->deleteRoute(id);
        break;
    case Kind::Upstreams:
        problems = m_store->deleteUpstream(id, ConfigStore::InUse::Delete);
        break;
    case Kind::Services:
        problems = m_store->deleteService(id, ConfigStore::InUse::Delete);
        break;
    case Kind::Ssls:
        problems = m_store->deleteSsl(id);
        break;
    }
    // APISIX has no check of its own here (an ssl an upstream still names): what the delete
    // would break is said in Streamgate's words.
    for (Problem& p : problems)
        p.apisix = {};
    if (!problems.isEmpty())
        return apisixProblemsResponse(apisixPluginsOf(kind), problems);
    // etcd's count of deleted keys, as text (APISIX's strip_etcd_resp).
    return json(QJsonObject{{QStringLiteral("deleted"), QStringLiteral("1")},
                            {QStringLiteral("key"), storeKey(kind, id)}});
}

} // namespace sg
