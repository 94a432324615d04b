#include "api/adminserver.h"

#include "api/httplisten.h"
#include "api/snapshotjson.h"
#include "config/configstore.h"
#include "config/logging.h"
#include "model/codec.h"
#include "proxy/engine.h"

#include <QDateTime>
#include <QHttpServer>
#include <QHttpServerRequest>
#include <QHttpServerResponse>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QRandomGenerator>
#include <QTcpServer>
#include <QUrlQuery>
#include <optional>

namespace sg {

namespace {

using Status = QHttpServerResponder::StatusCode;
using Method = QHttpServerRequest::Method;

const QString kStreamRoutesPrefix = QStringLiteral("/apisix/stream_routes/");
const QString kUpstreamsPrefix = QStringLiteral("/apisix/upstreams/");

QHttpServerResponse json(const QJsonObject& body, Status status = Status::Ok)
{
    return QHttpServerResponse(body, status);
}

QHttpServerResponse error(const QString& message, Status status)
{
    return json(QJsonObject{{QStringLiteral("error_msg"), message}}, status);
}

// APISIX's wording for a missing or wrong X-API-KEY, with our reason as the description.
QJsonObject unauthorizedBody(const QString& why)
{
    return QJsonObject{{QStringLiteral("error_msg"), QStringLiteral("failed to check token")},
                       {QStringLiteral("description"), why}};
}

QHttpServerResponse unauthorized(const QString& why)
{
    return json(unauthorizedBody(why), Status::Unauthorized);
}

// APISIX's error_msg is one line; the field path is kept in front of the reason unless the
// reason already names the field (APISIX's own wording such as "invalid remote_addr: :/8").
QString problemsMessage(const Problems& problems)
{
    QStringList parts;
    for (const Problem& p : problems) {
        const QString field = p.path.section(u'.', -1);
        parts << ((p.path.isEmpty() || p.reason.contains(field)) ? p.reason : p.text());
    }
    return parts.join(QStringLiteral("; "));
}

QHttpServerResponse problemsResponse(const Problems& problems, Status status = Status::BadRequest)
{
    QJsonArray list;
    for (const Problem& p : problems)
        list.append(QJsonObject{{QStringLiteral("path"), p.path},
                                {QStringLiteral("value"), p.value},
                                {QStringLiteral("reason"), p.reason}});
    return json(QJsonObject{{QStringLiteral("error_msg"), problemsMessage(problems)},
                            {QStringLiteral("problems"), list}},
                status);
}

QHttpServerResponse notFound()
{
    // APISIX answers a missing key with etcd's wording.
    return json(QJsonObject{{QStringLiteral("error_msg"), QStringLiteral("Key not found")},
                            {QStringLiteral("message"), QStringLiteral("Key not found")}},
                Status::NotFound);
}

QString methodName(Method method)
{
    switch (method) {
    case Method::Get:
        return QStringLiteral("GET");
    case Method::Put:
        return QStringLiteral("PUT");
    case Method::Delete:
        return QStringLiteral("DELETE");
    case Method::Post:
        return QStringLiteral("POST");
    case Method::Head:
        return QStringLiteral("HEAD");
    case Method::Options:
        return QStringLiteral("OPTIONS");
    case Method::Patch:
        return QStringLiteral("PATCH");
    case Method::Connect:
        return QStringLiteral("CONNECT");
    case Method::Trace:
        return QStringLiteral("TRACE");
    default:
        return QStringLiteral("UNKNOWN");
    }
}

// QHttpServer 6.4 has no per-rule 405: rules accept every method and dispatch here instead.
QHttpServerResponse methodNotAllowed(Method method, const QByteArray& allow)
{
    QHttpServerResponse response =
        error(QStringLiteral("not supported `%1` operation").arg(methodName(method)),
              Status::MethodNotAllowed);
    response.setHeader("Allow", allow);
    return response;
}

// Ids compare as text, as APISIX does (tostring(conf.id) ~= tostring(id)).
QString idText(const QJsonValue& id)
{
    if (id.isString())
        return id.toString();
    if (id.isDouble()) {
        const double d = id.toDouble();
        if (d == double(qint64(d)))
            return QString::number(qint64(d));
        return QString::number(d, 'g', QLocale::FloatingPointShortest);
    }
    return QString::fromUtf8(QJsonDocument(QJsonArray{id}).toJson(QJsonDocument::Compact))
        .chopped(1)
        .mid(1);
}

QString kindName(bool routes)
{
    return routes ? QStringLiteral("stream route") : QStringLiteral("upstream");
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

QByteArray headerValue(const QHttpServerRequest& request, const QByteArray& name)
{
    for (const auto& [key, value] : request.headers())
        if (key.compare(name, Qt::CaseInsensitive) == 0)
            return value;
    return {};
}

QString settingText(const QJsonObject& streamgate, const char* section, const char* key)
{
    return streamgate.value(QLatin1String(section)).toObject().value(QLatin1String(key)).toString();
}

// The request body as JSON; empty or malformed bodies are refused in APISIX's words.
std::optional<QHttpServerResponse> parseBody(const QHttpServerRequest& request, QJsonValue* out)
{
    const QByteArray body = request.body();
    if (body.trimmed().isEmpty())
        return error(QStringLiteral("missing configurations"), Status::BadRequest);
    // Wrapped in an array so that a bare value ("sub path" PATCH bodies) parses as well.
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson("[" + body + "\n]", &parseError);
    if (parseError.error != QJsonParseError::NoError || doc.array().size() != 1)
        return error(QStringLiteral("invalid request body: %1 at character %2")
                         .arg(parseError.error != QJsonParseError::NoError
                                  ? parseError.errorString()
                                  : QStringLiteral("more than one value"))
                         .arg(qMax(1, parseError.offset)),
                     Status::BadRequest);
    *out = doc.array().first();
    return std::nullopt;
}

// JSON merge patch (RFC 7396), which is what APISIX's PATCH does: objects merge key by key,
// null removes a key, anything else (arrays included) replaces.
QJsonObject mergePatch(QJsonObject target, const QJsonObject& patch)
{
    for (auto it = patch.begin(); it != patch.end(); ++it) {
        if (it.value().isNull())
            target.remove(it.key());
        else if (it.value().isObject() && target.value(it.key()).isObject())
            target.insert(it.key(),
                          mergePatch(target.value(it.key()).toObject(), it.value().toObject()));
        else
            target.insert(it.key(), it.value());
    }
    return target;
}

// Replaces the value at a "/"-separated sub path (APISIX's PATCH .../ID/upstream/nodes).
bool patchAt(QJsonObject& target, QStringList keys, const QJsonValue& value)
{
    const QString key = keys.takeFirst();
    if (keys.isEmpty()) {
        if (value.isNull())
            target.remove(key);
        else
            target.insert(key, value);
        return true;
    }
    if (!target.value(key).isObject())
        return false;
    QJsonObject child = target.value(key).toObject();
    if (!patchAt(child, keys, value))
        return false;
    target.insert(key, child);
    return true;
}

} // namespace

AdminServer::AdminServer(ConfigStore* store, Engine* engine, QObject* parent)
    : QObject(parent), m_store(store), m_engine(engine), m_http(std::make_unique<QHttpServer>())
{
    const Config config = m_store->config();
    const qint64 revision = m_store->revision();
    for (const StreamRoute& r : config.streamRoutes)
        m_routeIndex.insert(r.idString(), {revision, revision});
    for (const Upstream& u : config.upstreams)
        m_upstreamIndex.insert(u.idString(), {revision, revision});
    connect(m_store, &ConfigStore::changed, this, &AdminServer::track);

    QHttpServer& http = *m_http;
    // The same three routes for each kind of object, stream routes first.
    const auto routeKind = [this, &http](const QString& base, Kind kind) {
        http.route(base, [this, kind](const QHttpServerRequest& request) {
            return handleResource(kind, {}, request);
        });
        http.route(base + QStringLiteral("/<arg>"),
                   [this, kind](const QString& id, const QHttpServerRequest& request) {
                       return handleResource(kind, id, request);
                   });
        http.route(base + QStringLiteral("/<arg>/<arg>"),
                   [this, kind](const QString& id, const QUrl& subPath,
                                const QHttpServerRequest& request) {
                       return handleSubPath(kind, id, subPath.path(), request);
                   });
    };
    routeKind(QStringLiteral("/apisix/admin/stream_routes"), Kind::StreamRoutes);
    routeKind(QStringLiteral("/apisix/admin/upstreams"), Kind::Upstreams);
    http.route(
        QStringLiteral("/streamgate/v1/connections"),
        [this](const QHttpServerRequest& request) { return handleConnections({}, request); });
    http.route(QStringLiteral("/streamgate/v1/connections/<arg>"),
               [this](const QString& id, const QHttpServerRequest& request) {
                   return handleConnections(id, request);
               });
    http.route(QStringLiteral("/streamgate/v1/stats"),
               [this](const QHttpServerRequest& request) { return handleStats(request); });
    http.route(QStringLiteral("/streamgate/v1/events"),
               [this](const QHttpServerRequest& request) { return handleEvents(request); });
    http.setMissingHandler(
        [this](const QHttpServerRequest& request, QHttpServerResponder&& responder) {
            QString why;
            if (!authorized(request, &why)) {
                responder.write(QJsonDocument(unauthorizedBody(why)), Status::Unauthorized);
                return;
            }
            responder.write(QJsonDocument(QJsonObject{{QStringLiteral("error_msg"),
                                                       QStringLiteral("404 Route Not Found")}}),
                            Status::NotFound);
        });
}

AdminServer::~AdminServer() = default;

QString AdminServer::ensureKey(ConfigStore* store)
{
    QJsonObject settings = store->config().streamgate;
    const QString existing = settingText(settings, "admin", "key");
    if (!existing.isEmpty())
        return existing;
    // 128 random bits from the OS, as hex: long enough that guessing is not an attack.
    QByteArray bytes(16, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32*>(bytes.data()),
                                          bytes.size() / 4);
    const QString key = QString::fromLatin1(bytes.toHex());
    QJsonObject admin = settings.value(QStringLiteral("admin")).toObject();
    admin.insert(QStringLiteral("key"), key);
    settings.insert(QStringLiteral("admin"), admin);
    const Problems problems = store->setSettings(settings);
    if (!problems.isEmpty())
        qCWarning(lcApi).noquote()
            << "could not save the generated admin key:" << formatProblems(problems);
    else
        qCInfo(lcApi).noquote()
            << "generated an admin API key and saved it in streamgate.admin.key";
    return key;
}

bool AdminServer::start(const AdminOptions& options)
{
    m_error.clear();
    const Config config = m_store->config();
    if (!options.key.isEmpty()) {
        m_key = options.key;
        m_keyFromOptions = true;
    } else {
        m_key = ensureKey(m_store);
    }

    const HttpListen listen =
        chooseHttpListen(options.listen, QStringLiteral("--admin-listen"),
                         settingText(config.streamgate, "admin", "listen"),
                         QStringLiteral("streamgate.admin.listen"), kDefaultListen);
    QTcpServer* server =
        bindHttpListen(m_http.get(), listen, QStringLiteral("admin API"), &m_error);
    if (!server)
        return false;
    m_address = server->serverAddress();
    m_port = server->serverPort();
    if (!listen.isLoopback())
        qCWarning(lcApi).noquote()
            << "the admin API listens on" << url().toString()
            << "which is not loopback: anyone who reaches it with the key can change routes";
    else
        qCInfo(lcApi).noquote() << "admin API on" << url().toString();
    return true;
}

QUrl AdminServer::url() const
{
    QUrl url;
    url.setScheme(QStringLiteral("http"));
    url.setHost(m_address.toString());
    url.setPort(m_port);
    return url;
}

bool AdminServer::authorized(const QHttpServerRequest& request, QString* why) const
{
    const QByteArray given = headerValue(request, "X-API-KEY");
    if (given.isEmpty()) {
        *why = QStringLiteral("missing apikey");
        return false;
    }
    if (m_key.isEmpty() || !sameKey(given, m_key.toUtf8())) {
        *why = QStringLiteral("wrong apikey");
        return false;
    }
    return true;
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
    apply(m_routeIndex, diff.routesAdded, diff.routesChanged, diff.routesRemoved);
    apply(m_upstreamIndex, diff.upstreamsAdded, diff.upstreamsChanged, diff.upstreamsRemoved);
    if (diff.settingsChanged)
        settingsChanged(config);
}

void AdminServer::settingsChanged(const Config& config)
{
    // A key changed in the GUI takes effect at once; a key given on the command line wins.
    const QString key = settingText(config.streamgate, "admin", "key");
    if (!m_keyFromOptions && !key.isEmpty() && key != m_key) {
        if (!m_key.isEmpty()) // not the first key, which start() is saving right now
            qCInfo(lcApi) << "admin API key changed";
        m_key = key;
    }
}

QJsonObject AdminServer::item(Kind kind, const QString& id, const QJsonObject& value) const
{
    const bool routes = kind == Kind::StreamRoutes;
    const auto& index = routes ? m_routeIndex : m_upstreamIndex;
    const QPair<qint64, qint64> at = index.value(id, {m_store->revision(), m_store->revision()});
    return QJsonObject{
        {QStringLiteral("key"), (routes ? kStreamRoutesPrefix : kUpstreamsPrefix) + id},
        {QStringLiteral("value"), value},
        {QStringLiteral("createdIndex"), at.first},
        {QStringLiteral("modifiedIndex"), at.second},
    };
}

QHttpServerResponse AdminServer::handleResource(Kind kind, const QString& id,
                                                const QHttpServerRequest& request)
{
    QString why;
    if (!authorized(request, &why))
        return unauthorized(why);

    switch (request.method()) {
    case Method::Get:
        return id.isEmpty() ? list(kind) : get(kind, id);
    case Method::Put:
        return put(kind, id, request, false);
    case Method::Post:
        if (!id.isEmpty())
            return methodNotAllowed(Method::Post, "GET, PUT, DELETE");
        return put(kind, {}, request, true);
    case Method::Patch:
        if (id.isEmpty())
            return methodNotAllowed(Method::Patch, "GET, PUT, POST");
        return patch(kind, id, {}, request);
    case Method::Delete:
        if (id.isEmpty())
            return error(QStringLiteral("missing %1 id").arg(kindName(kind == Kind::StreamRoutes)),
                         Status::BadRequest);
        return remove(kind, id);
    default:
        return methodNotAllowed(request.method(),
                                id.isEmpty() ? "GET, PUT, POST" : "GET, PUT, DELETE");
    }
}

QHttpServerResponse AdminServer::handleSubPath(Kind kind, const QString& id, const QString& subPath,
                                               const QHttpServerRequest& request)
{
    QString why;
    if (!authorized(request, &why))
        return unauthorized(why);
    if (request.method() != Method::Patch)
        return methodNotAllowed(request.method(), "PATCH");
    return patch(kind, id, subPath, request);
}

QHttpServerResponse AdminServer::list(Kind kind) const
{
    const Config config = m_store->config();
    QJsonArray items;
    if (kind == Kind::StreamRoutes) {
        for (const StreamRoute& r : config.streamRoutes)
            items.append(item(kind, r.idString(), encodeStreamRoute(r)));
    } else {
        for (const Upstream& u : config.upstreams)
            items.append(item(kind, u.idString(), encodeUpstream(u)));
    }
    return json(
        QJsonObject{{QStringLiteral("total"), items.size()}, {QStringLiteral("list"), items}});
}

QHttpServerResponse AdminServer::get(Kind kind, const QString& id) const
{
    const Config config = m_store->config();
    if (kind == Kind::StreamRoutes) {
        if (const StreamRoute* r = config.findRoute(id))
            return json(item(kind, id, encodeStreamRoute(*r)));
    } else if (const Upstream* u = config.findUpstream(id)) {
        return json(item(kind, id, encodeUpstream(*u)));
    }
    return notFound();
}

QString AdminServer::newId(Kind kind) const
{
    // APISIX's POST ids are 20-digit numbers; time-based so they sort by creation.
    const Config config = m_store->config();
    qint64 candidate = QDateTime::currentMSecsSinceEpoch() * 1000;
    for (;;) {
        const QString id = QStringLiteral("%1").arg(candidate, 20, 10, QLatin1Char('0'));
        const bool taken = kind == Kind::StreamRoutes ? config.findRoute(id) != nullptr
                                                      : config.findUpstream(id) != nullptr;
        if (!taken)
            return id;
        ++candidate;
    }
}

QHttpServerResponse AdminServer::put(Kind kind, QString id, const QHttpServerRequest& request,
                                     bool post)
{
    const bool routes = kind == Kind::StreamRoutes;
    QJsonValue parsed;
    if (auto refusal = parseBody(request, &parsed))
        return std::move(*refusal);
    if (!parsed.isObject())
        return error(QStringLiteral("invalid request body: expected a JSON object"),
                     Status::BadRequest);
    QJsonObject object = parsed.toObject();

    // The same id rules as APISIX's check_conf.
    const QJsonValue bodyId = object.value(QStringLiteral("id"));
    if (post) {
        if (!bodyId.isUndefined())
            return error(QStringLiteral("wrong %1 id, do not need it").arg(kindName(routes)),
                         Status::BadRequest);
        id = newId(kind);
        object.insert(QStringLiteral("id"), id);
    } else if (id.isEmpty()) {
        if (bodyId.isUndefined() || bodyId.isNull())
            return error(QStringLiteral("missing %1 id").arg(kindName(routes)), Status::BadRequest);
        id = idText(bodyId);
    } else if (!bodyId.isUndefined()) {
        if (idText(bodyId) != id)
            return error(QStringLiteral("wrong %1 id").arg(kindName(routes)), Status::BadRequest);
    } else {
        object.insert(QStringLiteral("id"), id);
    }

    return save(kind, id, object);
}

QHttpServerResponse AdminServer::save(Kind kind, const QString& id, const QJsonObject& object)
{
    const bool routes = kind == Kind::StreamRoutes;
    const Config before = m_store->config();
    bool existed = false;
    Problems problems;
    if (routes) {
        Decoded<StreamRoute> decoded = decodeStreamRoute(object, {}, DecodeMode::Client);
        if (!decoded.ok())
            return problemsResponse(decoded.problems);
        const StreamRoute& route = decoded.value;
        if (!route.upstreamId.isUndefined() && !route.upstreamId.isNull() &&
            !before.findUpstream(idText(route.upstreamId)))
            return error(
                QStringLiteral(
                    "failed to fetch upstream info by upstream id [%1], response code: 404")
                    .arg(idText(route.upstreamId)),
                Status::BadRequest);
        existed = before.findRoute(id) != nullptr;
        problems = m_store->putRoute(route);
    } else {
        Decoded<Upstream> decoded = decodeUpstream(object, {}, DecodeMode::Client);
        if (!decoded.ok())
            return problemsResponse(decoded.problems);
        existed = before.findUpstream(id) != nullptr;
        problems = m_store->putUpstream(decoded.value);
    }
    if (!problems.isEmpty())
        return problemsResponse(problems);

    const Config after = m_store->config();
    QJsonObject value;
    if (routes) {
        if (const StreamRoute* r = after.findRoute(id))
            value = encodeStreamRoute(*r);
    } else if (const Upstream* u = after.findUpstream(id)) {
        value = encodeUpstream(*u);
    }
    QJsonObject answer = item(kind, id, value);
    return json(answer, existed ? Status::Ok : Status::Created);
}

QHttpServerResponse AdminServer::patch(Kind kind, const QString& id, const QString& subPath,
                                       const QHttpServerRequest& request)
{
    const bool routes = kind == Kind::StreamRoutes;
    const Config config = m_store->config();
    QJsonObject current;
    if (routes) {
        const StreamRoute* r = config.findRoute(id);
        if (!r)
            return notFound();
        current = encodeStreamRoute(*r);
    } else {
        const Upstream* u = config.findUpstream(id);
        if (!u)
            return notFound();
        current = encodeUpstream(*u);
    }
    // The store owns the timestamps: it keeps create_time and sets update_time itself.
    current.remove(QStringLiteral("create_time"));
    current.remove(QStringLiteral("update_time"));

    QJsonValue body;
    if (auto refusal = parseBody(request, &body))
        return std::move(*refusal);
    QJsonObject next;
    if (subPath.isEmpty()) {
        if (!body.isObject())
            return error(QStringLiteral("invalid configuration"), Status::BadRequest);
        next = mergePatch(current, body.toObject());
    } else {
        next = current;
        const QStringList keys = subPath.split(u'/', Qt::SkipEmptyParts);
        if (keys.isEmpty() || !patchAt(next, keys, body))
            return error(QStringLiteral("invalid sub path: %1").arg(subPath), Status::BadRequest);
    }
    if (!next.contains(u"id") || idText(next.value(u"id")) != id)
        return error(QStringLiteral("wrong %1 id").arg(kindName(routes)), Status::BadRequest);
    return save(kind, id, next);
}

QHttpServerResponse AdminServer::remove(Kind kind, const QString& id)
{
    const Config config = m_store->config();
    Problems problems;
    if (kind == Kind::StreamRoutes) {
        if (!config.findRoute(id))
            return notFound();
        problems = m_store->deleteRoute(id);
    } else {
        if (!config.findUpstream(id))
            return notFound();
        QStringList users;
        for (const StreamRoute& r : config.streamRoutes)
            if (!r.upstreamId.isUndefined() && idText(r.upstreamId) == id)
                users << r.idString();
        if (users.size() == 1)
            return error(
                QStringLiteral(
                    "can not delete this upstream, stream_route [%1] is still using it now")
                    .arg(users.first()),
                Status::BadRequest);
        if (users.size() > 1)
            return error(
                QStringLiteral(
                    "can not delete this upstream, stream_routes [%1] are still using it now")
                    .arg(users.join(QStringLiteral(", "))),
                Status::BadRequest);
        problems = m_store->deleteUpstream(id);
    }
    if (!problems.isEmpty())
        return problemsResponse(problems);
    return json(
        QJsonObject{{QStringLiteral("deleted"), id},
                    {QStringLiteral("key"),
                     (kind == Kind::StreamRoutes ? kStreamRoutesPrefix : kUpstreamsPrefix) + id}});
}

QHttpServerResponse AdminServer::handleConnections(const QString& id,
                                                   const QHttpServerRequest& request)
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

QHttpServerResponse AdminServer::handleStats(const QHttpServerRequest& request)
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

QHttpServerResponse AdminServer::handleEvents(const QHttpServerRequest& request)
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
