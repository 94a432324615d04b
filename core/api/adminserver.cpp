#include "api/adminserver.h"

#include "api/adminbody.h"
#include "api/adminreply.h"
#include "api/snapshotjson.h"
#include "config/configstore.h"
#include "config/keyfile.h"
#include "config/logging.h"
#include "model/codec.h"
#include "model/httplisten.h"
#include "proxy/engine.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QRandomGenerator>
#include <QUrlQuery>
#include <optional>

namespace sg {

namespace {

using Status = HttpStatus;
using Method = HttpRequest::Method;

constexpr AdminKind kKinds[] = {AdminKind::StreamRoutes, AdminKind::Upstreams, AdminKind::Services};

using adminreply::error;
using adminreply::json;
using adminreply::keyNotFound;
using adminreply::methodNotAllowed;
using adminreply::methodNotSupportedFor;
using adminreply::problemsResponse;
using adminreply::refusalResponse;
using adminreply::refuseIgnoredBody;

// APISIX's wording for a missing or wrong X-API-KEY, with our reason as the description.
QJsonObject unauthorizedBody(const QString& why)
{
    return QJsonObject{{QStringLiteral("error_msg"), QStringLiteral("failed to check token")},
                       {QStringLiteral("description"), why}};
}

HttpResponse unauthorized(const QString& why)
{
    return json(unauthorizedBody(why), Status::Unauthorized);
}

// Constant-time comparison: the key check must not leak how many leading bytes matched.
bool sameKey(const QByteArray& a, const QByteArray& b)
{
    if (a.size() != b.size())
        return false;
    unsigned char diff = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a.at(i) ^ b.at(i));
    return diff == 0;
}

QByteArray headerValue(const HttpRequest& request, const QByteArray& name)
{
    for (const auto& [key, value] : request.headers())
        if (key.compare(name, Qt::CaseInsensitive) == 0)
            return value;
    return {};
}

// The name of the resource in URLs and etcd keys.
QString resourceName(AdminKind kind)
{
    switch (kind) {
    case AdminKind::StreamRoutes:
        return QStringLiteral("stream_routes");
    case AdminKind::Upstreams:
        return QStringLiteral("upstreams");
    case AdminKind::Services:
        break;
    }
    return QStringLiteral("services");
}

// The etcd key APISIX answers with: /apisix/stream_routes/ID, /apisix/upstreams/ID, ...
QString storeKey(AdminKind kind, const QString& id)
{
    return QStringLiteral("/apisix/%1/%2").arg(resourceName(kind), id);
}

// The methods a path serves, for the Allow header of a 405. A stream route has no PATCH (and
// nothing is served below its id); an upstream or a service is patched whole or at a sub path.
QByteArray allowedMethods(AdminKind kind, bool withId, bool withSubPath)
{
    const bool patchable = kind != AdminKind::StreamRoutes;
    if (withSubPath)
        return patchable ? "PATCH" : "";
    if (!withId)
        return "GET, PUT, POST";
    return patchable ? "GET, PUT, PATCH, DELETE" : "GET, PUT, DELETE";
}

QString basePath(AdminKind kind)
{
    return QStringLiteral("/apisix/admin/") + resourceName(kind);
}

// Every object of a kind as stored, by id, in list order.
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
    }
    return std::nullopt;
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

// The id and sub path as the client sent them. dispatch() matches on the decoded path, where
// "a%2Fb" already reads "a/b"; here the encoded path is split first and each part decoded, so an
// encoded "/" stays inside the id (and is refused there). `matched` is the router's reading,
// used when the client encoded the base path itself.
QPair<QString, QString> splitPath(const HttpRequest& request, AdminKind kind,
                                  const QString& matchedId, const QString& matchedSubPath)
{
    const QString encoded = request.url().path(QUrl::FullyEncoded);
    const QString prefix = basePath(kind) + u'/';
    if (!encoded.startsWith(prefix))
        return {matchedId, matchedSubPath};
    const QString rest = encoded.mid(prefix.size());
    const qsizetype slash = rest.indexOf(u'/');
    const auto decode = [](const QString& part) {
        return QUrl::fromPercentEncoding(part.toUtf8());
    };
    if (slash < 0)
        return {decode(rest), QString()};
    return {decode(rest.left(slash)), decode(rest.mid(slash + 1))};
}

// APISIX's stream route resource lists PATCH in its unsupported_methods, which its handler
// checks before anything else it does: before the id, the sub path and what the body says.
// Only what init.lua does first comes before it: the key, and decoding the body.
std::optional<HttpResponse> refuseUnsupportedMethod(AdminKind kind, const HttpRequest& request,
                                                    const QByteArray& allow)
{
    if (kind != AdminKind::StreamRoutes || request.method() != HttpRequest::Method::Patch)
        return std::nullopt;
    if (auto refusal = refuseIgnoredBody(request))
        return refusal;
    return methodNotSupportedFor(request.method(), adminKindName(kind), allow);
}

} // namespace

AdminServer::AdminServer(ConfigStore* store, Engine* engine, QObject* parent)
    : QObject(parent), m_store(store), m_engine(engine), m_pluginMetadata(store),
      m_routeEdits(store, engine), m_connectionActions(engine), m_sqlStats(store, engine),
      m_endpoint({QStringLiteral("admin API"), QStringLiteral("--admin-listen"),
                  settingPath({settingkey::Admin, settingkey::Listen}), kDefaultListen,
                  QStringLiteral("anyone who reaches it with the key can change routes")},
                 [this] {
                     HttpService service;
                     service.limits.maxBodyBytes = kAdminMaxBodyBytes;
                     service.admit = [this](const HttpRequest& request) { return admit(request); };
                     service.handle = [this](const HttpRequest& request) {
                         return dispatch(request);
                     };
                     service.refuse = [](HttpStatus status, const QString& message) {
                         return error(message, status);
                     };
                     return service;
                 })
{
    const Config config = m_store->config();
    const qint64 revision = m_store->revision();
    for (const StreamRoute& r : config.streamRoutes)
        m_routeIndex.insert(r.idString(), {revision, revision});
    for (const Upstream& u : config.upstreams)
        m_upstreamIndex.insert(u.idString(), {revision, revision});
    for (const Service& v : config.services)
        m_serviceIndex.insert(v.idString(), {revision, revision});
    connect(m_store, &ConfigStore::changed, this, &AdminServer::track);
}

AdminServer::~AdminServer() = default;

QString AdminServer::ensureKey(ConfigStore* store)
{
    const QString existing = store->config().streamgate.adminKey();
    if (!existing.isEmpty())
        return existing;
    // A generated key is kept beside the config, never in it: the user's file is not rewritten.
    const KeyFileResult generated = loadOrCreateKeyFile(store->keyPath());
    if (generated.ok)
        qCInfo(lcApi).noquote() << generated.message;
    else
        qCWarning(lcApi).noquote() << generated.message;
    return generated.key;
}

bool AdminServer::start(const AdminOptions& options, const HttpFrontOptions& connections)
{
    if (!options.key.isEmpty()) {
        m_key = options.key;
        m_keyFromOptions = true;
    } else {
        m_key = ensureKey(m_store);
    }
    return m_endpoint.start(options.listen, m_store->config().streamgate.adminListen(),
                            connections);
}

namespace {

// The key a request carries, where APISIX looks for it, in its order: the `api_key` query
// argument, the X-API-KEY header, the `x_api_key` cookie.
struct GivenKey
{
    QByteArray key;
    bool fromCookie = false;
};

GivenKey givenKey(const HttpRequest& request)
{
    const QUrlQuery query = request.query();
    if (query.hasQueryItem(QStringLiteral("api_key")))
        return {query.queryItemValue(QStringLiteral("api_key"), QUrl::FullyDecoded).toUtf8()};
    if (QByteArray header = headerValue(request, "X-API-KEY"); !header.isEmpty())
        return {header};
    for (const QByteArray& cookie : headerValue(request, "Cookie").split(';')) {
        const QByteArray pair = cookie.trimmed();
        if (pair.startsWith("x_api_key="))
            return {pair.mid(int(sizeof "x_api_key=") - 1), true};
    }
    return {};
}

// Why a cookie must not count as the key: a browser adds cookies to requests other sites make,
// so the cookie is taken only from a request no other site started (no Origin, or this
// endpoint's own; and no Sec-Fetch-Site other than same-origin or none). Empty when it may.
QString crossSiteCookie(const HttpRequest& request)
{
    const QByteArray origin = headerValue(request, "Origin");
    if (!origin.isNull() && !originNamesAddress(origin, request.localAddress()))
        return QStringLiteral("x_api_key cookie refused: the request comes from another site "
                              "(Origin \"%1\"); send the key in the X-API-KEY header")
            .arg(QString::fromLatin1(origin.left(100)));
    const QByteArray site = headerValue(request, "Sec-Fetch-Site").trimmed().toLower();
    if (!site.isNull() && site != "same-origin" && site != "none")
        return QStringLiteral("x_api_key cookie refused: the request comes from another site "
                              "(Sec-Fetch-Site \"%1\"); send the key in the X-API-KEY header")
            .arg(QString::fromLatin1(site.left(40)));
    return {};
}

} // namespace

bool AdminServer::authorized(const HttpRequest& request, QString* why) const
{
    const auto [given, fromCookie] = givenKey(request);
    if (given.isEmpty()) {
        *why = QStringLiteral("missing apikey");
        return false;
    }
    if (fromCookie) {
        if (QString refused = crossSiteCookie(request); !refused.isEmpty()) {
            *why = refused;
            return false;
        }
    }
    if (m_key.isEmpty() || !sameKey(given, m_key.toUtf8())) {
        *why = QStringLiteral("wrong apikey");
        return false;
    }
    return true;
}

std::optional<HttpResponse> AdminServer::admit(const HttpRequest& request) const
{
    QString why;
    if (!authorized(request, &why))
        return unauthorized(why);
    if (auto tooLarge = checkAdminBodySize(qsizetype(request.head().contentLength)))
        return refusalResponse(*tooLarge);
    return std::nullopt;
}

// The paths of the Admin API. An id is one non-empty path segment; whatever follows it is a
// sub path (an upstream's PATCH). Matched on the decoded path; splitPath() then reads the id as
// sent.
HttpResponse AdminServer::dispatch(const HttpRequest& request)
{
    const QString path = request.url().path();
    for (const Kind kind : kKinds) {
        const QString base = basePath(kind);
        if (path == base)
            return handleResource(kind, {}, request);
        if (!path.startsWith(base + u'/'))
            continue;
        const QString rest = path.mid(base.size() + 1);
        const qsizetype slash = rest.indexOf(u'/');
        if (slash < 0 && !rest.isEmpty())
            return handleResource(kind, rest, request);
        if (slash > 0)
            return handleSubPath(kind, rest.left(slash), rest.mid(slash + 1), request);
        break;
    }
    if (AdminPluginMetadata::owns(path)) {
        QString why;
        if (!authorized(request, &why))
            return unauthorized(why);
        return m_pluginMetadata.handle(request);
    }
    if (AdminConnectionActions::owns(path)) {
        QString why;
        if (!authorized(request, &why))
            return unauthorized(why);
        return m_connectionActions.handle(request);
    }
    if (AdminSqlStats::owns(path)) {
        QString why;
        if (!authorized(request, &why))
            return unauthorized(why);
        return m_sqlStats.handle(request);
    }
    const QString connections = QStringLiteral("/streamgate/v1/connections");
    if (path == connections)
        return handleConnections({}, request);
    if (path.startsWith(connections + u'/')) {
        const QString id = path.mid(connections.size() + 1);
        if (!id.isEmpty() && !id.contains(u'/'))
            return handleConnections(id, request);
    }
    if (AdminRouteEdits::owns(path)) {
        QString why;
        if (!authorized(request, &why))
            return unauthorized(why);
        return m_routeEdits.handle(request);
    }
    if (path == u"/streamgate/v1/stats")
        return handleStats(request);
    if (path == u"/streamgate/v1/events")
        return handleEvents(request);
    QString why;
    if (!authorized(request, &why))
        return unauthorized(why);
    return error(QStringLiteral("404 Route Not Found"), Status::NotFound);
}

void AdminServer::track(const ConfigDiff& diff, const Config& config)
{
    const qint64 revision = m_store->revision();
    auto apply = [revision](QHash<QString, QPair<qint64, qint64>>& index, const QStringList& added,
                            const QStringList& changed, const QStringList& removed) {
        for (const QString& id : added)
            index.insert(id, {revision, revision});
        for (const QString& id : changed) {
            auto it = index.find(id);
            if (it == index.end())
                index.insert(id, {revision, revision});
            else
                it->second = revision;
        }
        for (const QString& id : removed)
            index.remove(id);
    };
    // A route is modified when what is stored for it is, not when only its service changed (its
    // modifiedIndex in APISIX's etcd stays).
    QStringList routesModified = diff.routesChanged;
    for (const QString& id : diff.routesChangedByService)
        routesModified.removeOne(id);
    apply(m_routeIndex, diff.routesAdded, routesModified, diff.routesRemoved);
    apply(m_upstreamIndex, diff.upstreamsAdded, diff.upstreamsChanged, diff.upstreamsRemoved);
    apply(m_serviceIndex, diff.servicesAdded, diff.servicesChanged, diff.servicesRemoved);
    if (diff.settingsChanged)
        settingsChanged(config);
}

void AdminServer::settingsChanged(const Config& config)
{
    // A key changed in the GUI takes effect at once; a key given on the command line wins.
    const QString key = config.streamgate.adminKey();
    if (!m_keyFromOptions && !key.isEmpty() && key != m_key) {
        if (!m_key.isEmpty()) // a first key (none was usable at start) is not a change
            qCInfo(lcApi) << "admin API key changed";
        m_key = key;
    }
    // A new listen address rebinds (--admin-listen wins).
    m_endpoint.settingChanged(config.streamgate.adminListen());
}

const QHash<QString, QPair<qint64, qint64>>& AdminServer::indexOf(Kind kind) const
{
    switch (kind) {
    case Kind::StreamRoutes:
        return m_routeIndex;
    case Kind::Upstreams:
        return m_upstreamIndex;
    case Kind::Services:
        break;
    }
    return m_serviceIndex;
}

QJsonObject AdminServer::item(Kind kind, const QString& id, const QJsonObject& value) const
{
    const auto& index = indexOf(kind);
    const QPair<qint64, qint64> at = index.value(id, {m_store->revision(), m_store->revision()});
    return QJsonObject{
        {QStringLiteral("key"), storeKey(kind, id)},
        {QStringLiteral("value"), value},
        {QStringLiteral("createdIndex"), at.first},
        {QStringLiteral("modifiedIndex"), at.second},
    };
}

HttpResponse AdminServer::handleResource(Kind kind, const QString& matchedId,
                                         const HttpRequest& request)
{
    QString why;
    if (!authorized(request, &why))
        return unauthorized(why);
    const QByteArray allow = allowedMethods(kind, !matchedId.isEmpty(), false);
    if (auto refusal = refuseUnsupportedMethod(kind, request, allow))
        return std::move(*refusal);
    // APISIX refuses any id on a POST before it looks at whether the id is valid.
    if (request.method() == Method::Post)
        return post(kind, matchedId, request);
    const QString id =
        matchedId.isEmpty() ? QString() : splitPath(request, kind, matchedId, {}).first;
    if (!id.isEmpty()) {
        if (auto bad = checkAdminId(kind, id))
            return refusalResponse(*bad);
    }

    switch (request.method()) {
    case Method::Get:
        if (auto refusal = refuseIgnoredBody(request))
            return std::move(*refusal);
        return id.isEmpty() ? list(kind) : get(kind, id);
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
        return patch(kind, id, {}, request);
    case Method::Delete:
        if (auto refusal = refuseIgnoredBody(request))
            return std::move(*refusal);
        if (id.isEmpty())
            return error(QStringLiteral("missing %1 id").arg(adminKindName(kind)),
                         Status::BadRequest);
        return remove(kind, id);
    default:
        return methodNotAllowed(request.method(), allow);
    }
}

HttpResponse AdminServer::handleSubPath(Kind kind, const QString& matchedId,
                                        const QString& matchedSubPath, const HttpRequest& request)
{
    QString why;
    if (!authorized(request, &why))
        return unauthorized(why);
    const QByteArray allow = allowedMethods(kind, true, true);
    if (auto refusal = refuseUnsupportedMethod(kind, request, allow))
        return std::move(*refusal);
    if (request.method() == Method::Post) // APISIX ignores the sub path and refuses the id
        return post(kind, matchedId, request);
    const auto [id, subPath] = splitPath(request, kind, matchedId, matchedSubPath);
    if (auto bad = checkAdminId(kind, id))
        return refusalResponse(*bad);
    if (request.method() != Method::Patch)
        return methodNotAllowed(request.method(), allow);
    // "/ID/" is the whole object, as APISIX splits the path; any other sub path is checked.
    if (subPath.isEmpty())
        return patch(kind, id, {}, request);
    if (auto bad = checkAdminSubPath(subPath))
        return refusalResponse(*bad);
    return patch(kind, id, subPath, request);
}

HttpResponse AdminServer::list(Kind kind) const
{
    QJsonArray items;
    for (const auto& [id, value] : storedObjects(m_store->config(), kind))
        items.append(item(kind, id, value));
    return json(
        QJsonObject{{QStringLiteral("total"), items.size()}, {QStringLiteral("list"), items}});
}

HttpResponse AdminServer::get(Kind kind, const QString& id) const
{
    if (const std::optional<QJsonObject> value = storedObject(m_store->config(), kind, id))
        return json(item(kind, id, *value));
    return keyNotFound();
}

QString AdminServer::newId(Kind kind) const
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

HttpResponse AdminServer::put(Kind kind, const QString& id, const HttpRequest& request)
{
    const AdminObject object = adminPutBody(kind, id, request.body());
    if (object.refusal)
        return refusalResponse(*object.refusal);
    return save(kind, object);
}

HttpResponse AdminServer::post(Kind kind, const QString& pathId, const HttpRequest& request)
{
    const AdminObject object =
        adminPostBody(kind, pathId, pathId.isEmpty() ? newId(kind) : QString(), request.body());
    if (object.refusal)
        return refusalResponse(*object.refusal);
    return save(kind, object);
}

HttpResponse AdminServer::save(Kind kind, const AdminObject& object)
{
    const QString& id = object.id;
    const Config before = m_store->config();
    if (const std::optional<QString> missing = missingReference(before, object, kind))
        return error(*missing, Status::BadRequest);
    const bool existed = storedObject(before, kind, id).has_value();
    Problems problems;
    switch (kind) {
    case Kind::StreamRoutes:
        problems = m_store->putRoute(object.route);
        break;
    case Kind::Upstreams:
        problems = m_store->putUpstream(object.upstream);
        break;
    case Kind::Services:
        problems = m_store->putService(object.service);
        break;
    }
    if (!problems.isEmpty())
        return problemsResponse(problems);

    const QJsonObject value = storedObject(m_store->config(), kind, id).value_or(QJsonObject());
    // APISIX strips etcd's createdIndex and modifiedIndex from the answer to a write; a GET
    // still has them.
    return json(
        QJsonObject{{QStringLiteral("key"), storeKey(kind, id)}, {QStringLiteral("value"), value}},
        existed ? Status::Ok : Status::Created);
}

HttpResponse AdminServer::patch(Kind kind, const QString& id, const QString& subPath,
                                const HttpRequest& request)
{
    std::optional<QJsonObject> stored = storedObject(m_store->config(), kind, id);
    if (!stored)
        return keyNotFound();
    QJsonObject current = *stored;
    // The store owns the timestamps: it keeps create_time and sets update_time itself.
    current.remove(QStringLiteral("create_time"));
    current.remove(QStringLiteral("update_time"));

    const AdminObject object = adminPatchBody(kind, id, current, subPath, request.body());
    if (object.refusal)
        return refusalResponse(*object.refusal);
    return save(kind, object);
}

HttpResponse AdminServer::remove(Kind kind, const QString& id)
{
    const Config config = m_store->config();
    if (!storedObject(config, kind, id))
        return keyNotFound();
    // APISIX's delete_checker, in its words: nothing still referenced is deleted.
    const QString inUse = kind == Kind::Upstreams  ? upstreamInUse(config, id)
                          : kind == Kind::Services ? serviceInUse(config, id)
                                                   : QString();
    if (!inUse.isEmpty())
        return error(inUse, Status::BadRequest);
    Problems problems;
    switch (kind) {
    case Kind::StreamRoutes:
        problems = m_store->deleteRoute(id);
        break;
    case Kind::Upstreams:
        problems = m_store->deleteUpstream(id);
        break;
    case Kind::Services:
        problems = m_store->deleteService(id);
        break;
    }
    if (!problems.isEmpty())
        return problemsResponse(problems);
    return json(
        QJsonObject{{QStringLiteral("deleted"), id}, {QStringLiteral("key"), storeKey(kind, id)}});
}

HttpResponse AdminServer::handleConnections(const QString& id, const HttpRequest& request)
{
    QString why;
    if (!authorized(request, &why))
        return unauthorized(why);
    if (!m_engine)
        return error(QStringLiteral("the proxy engine is not running"), Status::ServiceUnavailable);

    if (id.isEmpty()) {
        if (request.method() != Method::Get)
            return methodNotAllowed(request.method(), "GET");
        const QUrlQuery query = request.query();
        const bool filtered = query.hasQueryItem(QStringLiteral("route"));
        const QString route = query.queryItemValue(QStringLiteral("route"), QUrl::FullyDecoded);
        const bool withClosed = query.queryItemValue(QStringLiteral("closed")) == u"true";
        const Snapshot snapshot = m_engine->snapshot();
        QJsonArray active;
        for (const ConnectionInfo& c : snapshot.active)
            if (!filtered || c.routeId == route)
                active.append(connectionToJson(c));
        QJsonObject answer{{QStringLiteral("total"), active.size()},
                           {QStringLiteral("list"), active}};
        if (withClosed) {
            QJsonArray closed;
            for (const ConnectionInfo& c : snapshot.closed)
                if (!filtered || c.routeId == route)
                    closed.append(connectionToJson(c));
            answer.insert(QStringLiteral("closed"), closed);
        }
        return json(answer);
    }

    bool ok = false;
    const quint64 connectionId = id.toULongLong(&ok);
    if (!ok)
        return error(QStringLiteral("invalid connection id: %1 (expected a number)").arg(id),
                     Status::BadRequest);
    if (request.method() == Method::Get) {
        const Snapshot snapshot = m_engine->snapshot();
        for (const ConnectionInfo& c : snapshot.active)
            if (c.id == connectionId)
                return json(connectionToJson(c));
        return error(QStringLiteral("no open connection with id %1").arg(id), Status::NotFound);
    }
    if (request.method() == Method::Delete) {
        if (!m_engine->killConnection(connectionId))
            return error(QStringLiteral("no open connection with id %1").arg(id), Status::NotFound);
        qCInfo(lcApi).noquote() << "connection" << id << "killed through the admin API";
        return json(QJsonObject{{QStringLiteral("killed"), id}});
    }
    return methodNotAllowed(request.method(), "GET, DELETE");
}

HttpResponse AdminServer::handleStats(const HttpRequest& request)
{
    QString why;
    if (!authorized(request, &why))
        return unauthorized(why);
    if (request.method() != Method::Get)
        return methodNotAllowed(request.method(), "GET");
    if (!m_engine)
        return error(QStringLiteral("the proxy engine is not running"), Status::ServiceUnavailable);
    return json(statsToJson(m_engine->snapshot()));
}

HttpResponse AdminServer::handleEvents(const HttpRequest& request)
{
    QString why;
    if (!authorized(request, &why))
        return unauthorized(why);
    if (request.method() != Method::Get)
        return methodNotAllowed(request.method(), "GET");
    if (!m_engine)
        return error(QStringLiteral("the proxy engine is not running"), Status::ServiceUnavailable);

    const QUrlQuery query = request.query();
    qint64 since = 0;
    if (query.hasQueryItem(QStringLiteral("since"))) {
        bool ok = false;
        since = query.queryItemValue(QStringLiteral("since")).toLongLong(&ok);
        if (!ok || since < 0)
            return error(QStringLiteral("invalid since: %1 (expected a sequence number >= 0)")
                             .arg(query.queryItemValue(QStringLiteral("since"))),
                         Status::BadRequest);
    }
    int max = 1000;
    if (query.hasQueryItem(QStringLiteral("max"))) {
        bool ok = false;
        max = query.queryItemValue(QStringLiteral("max")).toInt(&ok);
        if (!ok || max < 1 || max > 10000)
            return error(QStringLiteral("invalid max: %1 (expected 1-10000)")
                             .arg(query.queryItemValue(QStringLiteral("max"))),
                         Status::BadRequest);
    }
    const QList<Event> events = m_engine->eventsSince(since, max);
    QJsonArray list;
    qint64 last = since;
    for (const Event& e : events) {
        list.append(eventToJson(e));
        last = qMax(last, e.seq);
    }
    return json(QJsonObject{{QStringLiteral("total"), list.size()},
                            {QStringLiteral("last_seq"), last},
                            {QStringLiteral("list"), list}});
}

} // namespace sg
