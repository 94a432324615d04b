#include "api/adminserver.h"

#include "api/adminbody.h"
#include "api/adminreply.h"
#include "api/snapshotjson.h"
#include "config/configstore.h"
#include "config/developmentca.h"
#include "config/keyfile.h"
#include "config/logging.h"
#include "model/httplisten.h"
#include "proxy/engine.h"

#include <QJsonArray>
#include <QLoggingCategory>
#include <QUrlQuery>
#include <optional>

namespace sg {

namespace {

using Status = HttpStatus;
using Method = HttpRequest::Method;

using adminreply::error;
using adminreply::json;
using adminreply::methodNotAllowed;
using adminreply::refusalResponse;

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

// CORS as APISIX's default (deployment.admin.enable_admin_cors: true) has it, for the paths its
// nginx hands to the admin API (`location /apisix/admin`): an OPTIONS is answered at once, before
// the key is checked, and every other answer carries the same four headers (cors_admin in
// apisix/init.lua). Streamgate's own endpoints (/streamgate/v1/) are not APISIX's and have none.
bool isApisixAdminPath(const HttpRequest& request)
{
    return request.url().path().startsWith(u"/apisix/admin");
}

bool isCorsPreflight(const HttpRequest& request)
{
    return request.method() == Method::Options && isApisixAdminPath(request);
}

HttpResponse corsPreflight()
{
    HttpResponse response("text/plain", QByteArray());
    response.setHeader("Access-Control-Allow-Origin", "*");
    response.setHeader("Access-Control-Allow-Methods", "POST, GET, PUT, OPTIONS, DELETE, PATCH");
    response.setHeader("Access-Control-Max-Age", "3600");
    response.setHeader("Access-Control-Allow-Headers", "*");
    response.setHeader("Access-Control-Allow-Credentials", "true");
    return response;
}

void addCorsHeaders(const HttpRequest& request, HttpResponse& response)
{
    if (!isApisixAdminPath(request) || isCorsPreflight(request))
        return;
    response.setHeader("Access-Control-Allow-Origin", "*");
    response.setHeader("Access-Control-Allow-Credentials", "true");
    response.setHeader("Access-Control-Expose-Headers", "*");
    response.setHeader("Access-Control-Max-Age", "3600");
}

// The front's refusals in the admin API's format. A chunked body over the limit is refused as
// one whose Content-Length is (admit), a 400 in APISIX's words naming its size: APISIX reads a
// chunked body whole and then refuses it the same way (core.request.get_body). Streamgate stops
// reading where the body passes the limit, so the size it names is the size known then: the
// bytes read and the chunk that passes the limit.
HttpResponse frontRefusal(const HttpRefusal& refusal)
{
    if (refusal.bodyBytes >= 0) {
        if (auto tooLarge = checkAdminBodySize(qsizetype(refusal.bodyBytes)))
            return refusalResponse(*tooLarge);
    }
    return error(refusal.message, HttpStatus(refusal.status));
}

} // namespace

AdminServer::AdminServer(ConfigStore* store, Engine* engine, QObject* parent)
    : QObject(parent), m_store(store), m_engine(engine), m_resources(store),
      m_pluginMetadata(store), m_routeEdits(store, engine), m_connectionActions(engine),
      m_sqlStats(store, engine),
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
                     service.refuse = frontRefusal;
                     service.finish = addCorsHeaders;
                     return service;
                 })
{
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
    // APISIX answers a preflight without reading its body: one that has a body is answered here
    // (the connection then closes), one without once its head is complete (dispatch).
    if (isCorsPreflight(request))
        return request.head().hasBody() ? std::optional(corsPreflight()) : std::nullopt;
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
    if (isCorsPreflight(request))
        return corsPreflight();
    const QString path = request.url().path();
    if (AdminPluginMetadata::owns(path) || AdminResources::owns(path)) {
        QString why;
        if (!authorized(request, &why))
            return unauthorized(why);
        HttpResponse response = AdminPluginMetadata::owns(path) ? m_pluginMetadata.handle(request)
                                                                : m_resources.handle(request);
        response.setHeader("X-API-VERSION", "v3");
        return response;
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
    if (path == u"/streamgate/v1/development_ca") {
        QString why;
        if (!authorized(request, &why))
            return unauthorized(why);
        return handleDevelopmentCa(request);
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
    m_resources.track(diff);
    m_pluginMetadata.track(diff, config, m_store->revision());
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

// GET /streamgate/v1/development_ca: the certificate of the CA that database TLS presents
// (streamgate.routes.<id>.database_tls), PEM, made on first use beside the config.
HttpResponse AdminServer::handleDevelopmentCa(const HttpRequest& request)
{
    if (request.method() != Method::Get)
        return methodNotAllowed(request.method(), "GET");
    QString why;
    const QByteArray pem =
        DevelopmentCa(DevelopmentCa::directoryFor(m_store->path())).caCertificatePem(&why);
    if (pem.isEmpty())
        return error(why, Status::InternalServerError);
    return HttpResponse("application/x-pem-file", pem);
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
