#include "api/controlapi.h"

#include "config/configstore.h"
#include "model/settings.h"
#include "proxy/engine.h"

#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <QUrl>

namespace sg {

namespace {

const QString kPrefix = QStringLiteral("/v1/healthcheck");

// An object that may carry a checker: a stream route (its inline upstream) or an upstream.
struct Source
{
    QString type;     // "stream_routes", "services" or "upstreams", as in the URL
    QString id;       // as in the URL
    QString statsKey; // the upstream's key in the snapshot's nodes (NodeStatus::upstream)
    const Upstream* upstream = nullptr; // null: a route or service without an inline upstream
    QString name() const { return QStringLiteral("/apisix/%1/%2").arg(type, id); }
    bool checked() const { return upstream && upstream->checks; }
};

// APISIX's order: routes, stream routes, services, upstreams (Streamgate has all but the
// first). A service's inline upstream is one checker for all its routes (proxy/routetable.h).
QList<Source> sources(const Config& config)
{
    QList<Source> out;
    for (const StreamRoute& route : config.streamRoutes) {
        const QString id = route.idString();
        out << Source{QStringLiteral("stream_routes"), id, QStringLiteral("route:") + id,
                      route.upstream ? &*route.upstream : nullptr};
    }
    for (const Service& service : config.services) {
        const QString id = service.idString();
        out << Source{QStringLiteral("services"), id, QStringLiteral("service:") + id,
                      service.upstream ? &*service.upstream : nullptr};
    }
    for (const Upstream& upstream : config.upstreams) {
        const QString id = upstream.idString();
        out << Source{QStringLiteral("upstreams"), id, id, &upstream};
    }
    return out;
}

using NodeIndex = QHash<QString, NodeStatus>; // "<upstream key>\n<node address>"

NodeIndex indexNodes(const Snapshot& snapshot)
{
    NodeIndex index;
    for (const NodeStatus& n : snapshot.nodes)
        if (n.checked)
            index.insert(n.upstream + QLatin1Char('\n') + n.node, n);
    return index;
}

// One checker as APISIX's control API shows it. Targets are what the checker probes, as
// lua-resty-healthcheck keys them: the node's address (a host name resolved as for traffic),
// the port (checks.active.port when given) and the hostname (checks.active.host, else the
// address); nodes that share all three are one target. An upstream no route uses has no
// checker: no targets, written `{}` as APISIX's JSON encoder writes an empty table.
QJsonObject checkerInfo(const Source& source, const NodeIndex& nodes)
{
    const ActiveHealthCheck& checks = *source.upstream->checks;
    const int portOverride = checks.port();
    const QString checkHost = checks.host();
    QJsonArray targets;
    QSet<QString> seen;
    for (const Node& node : source.upstream->nodes) {
        const auto it = nodes.constFind(source.statsKey + QLatin1Char('\n') + node.address());
        if (it == nodes.cend())
            continue;
        const NodeStatus& n = *it;
        const QString ip = n.ip.isEmpty() ? node.host : n.ip;
        const int port = portOverride > 0 ? portOverride : node.port;
        const QString hostname = checkHost.isEmpty() ? ip : checkHost;
        const QString identity =
            ip + QLatin1Char('\n') + QString::number(port) + QLatin1Char('\n') + hostname;
        if (seen.contains(identity))
            continue;
        seen.insert(identity);
        const QJsonObject counter{
            {QStringLiteral("success"), qint64(n.checkSuccesses)},
            {QStringLiteral("tcp_failure"), qint64(n.checkTcpFailures)},
            {QStringLiteral("timeout_failure"), qint64(n.checkTimeouts)},
            {QStringLiteral("http_failure"), qint64(n.checkHttpFailures)},
        };
        targets.append(QJsonObject{{QStringLiteral("ip"), ip},
                                   {QStringLiteral("port"), port},
                                   {QStringLiteral("hostname"), hostname},
                                   {QStringLiteral("status"), toString(n.health)},
                                   {QStringLiteral("counter"), counter}});
    }
    return QJsonObject{
        {QStringLiteral("name"), source.name()},
        {QStringLiteral("type"), checks.type},
        {QStringLiteral("nodes"), targets.isEmpty() ? QJsonValue(QJsonObject()) : targets},
    };
}

QByteArray jsonLine(const QJsonDocument& document)
{
    return document.toJson(QJsonDocument::Compact) + '\n';
}

HttpResponse errorMessage(const QString& message, HttpStatus status)
{
    return HttpResponse(
        "application/json",
        jsonLine(QJsonDocument(QJsonObject{{QStringLiteral("error_msg"), message}})), status);
}

// What APISIX's control server answers for a path or method it has no handler for: nginx's
// bare 404 page.
HttpResponse notFoundPage()
{
    return HttpResponse("text/html",
                        "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n"
                        "<center><h1>404 Not Found</h1></center>\r\n</body>\r\n</html>\r\n",
                        HttpStatus::NotFound);
}

bool wantsHtml(const HttpRequest& request)
{
    return request.value("Accept").contains("text/html");
}

// The status page: one row per target, unhealthy ones in red.
HttpResponse htmlPage(const QJsonArray& checkers)
{
    QString rows;
    int index = 0;
    for (const QJsonValue& c : checkers) {
        const QJsonObject checker = c.toObject();
        for (const QJsonValue& t : checker.value(QLatin1String("nodes")).toArray()) {
            const QJsonObject node = t.toObject();
            const QJsonObject counter = node.value(QLatin1String("counter")).toObject();
            const QString status = node.value(QLatin1String("status")).toString();
            const bool up = status == u"healthy" || status == u"mostly_healthy";
            const auto cell = [](const QString& text) {
                return QStringLiteral("<td>%1</td>").arg(text.toHtmlEscaped());
            };
            const auto count = [&](const char* key) {
                return cell(QString::number(counter.value(QLatin1String(key)).toInteger()));
            };
            rows += up ? QStringLiteral("<tr>") : QStringLiteral("<tr bgcolor=\"#FF0000\">");
            rows += cell(QString::number(++index));
            rows += cell(checker.value(QLatin1String("name")).toString());
            rows += cell(checker.value(QLatin1String("type")).toString());
            rows += cell(node.value(QLatin1String("ip")).toString() + QLatin1Char(':') +
                         QString::number(node.value(QLatin1String("port")).toInt()));
            rows += cell(status);
            rows += count("success") + count("tcp_failure") + count("http_failure") +
                    count("timeout_failure");
            rows += QStringLiteral("</tr>\n");
        }
    }
    const QString page =
        QStringLiteral(
            "<html>\n<head><title>Streamgate upstream check status</title></head>\n<body>\n"
            "<h1>Streamgate upstream check status</h1>\n"
            "<table border=\"1\" cellpadding=\"3\" cellspacing=\"0\">\n"
            "<tr bgcolor=\"#C0C0C0\"><th>Index</th><th>Upstream</th><th>Check type</th>"
            "<th>Host</th><th>Status</th><th>Success counts</th><th>TCP Failures</th>"
            "<th>HTTP Failures</th><th>TIMEOUT Failures</th></tr>\n%1</table>\n</body>\n</html>\n")
            .arg(rows);
    return HttpResponse("text/html", page.toUtf8());
}

// The path as nginx's $uri holds it: decoded, runs of slashes merged.
QString normalizedPath(const HttpRequest& request)
{
    QString path = request.url().path(QUrl::FullyDecoded);
    QString merged;
    merged.reserve(path.size());
    for (const QChar c : path) {
        if (c == u'/' && merged.endsWith(u'/'))
            continue;
        merged += c;
    }
    return merged;
}

} // namespace

QJsonArray healthCheckers(const Config& config, const Snapshot& snapshot)
{
    const NodeIndex nodes = indexNodes(snapshot);
    QJsonArray out;
    for (const Source& source : sources(config))
        if (source.checked())
            out.append(checkerInfo(source, nodes));
    return out;
}

ControlApi::ControlApi(ConfigStore* store, Engine* engine, QObject* parent)
    : QObject(parent), m_store(store), m_engine(engine),
      m_endpoint({QStringLiteral("control API"), QString() /* no command-line option */,
                  settingPath({settingkey::Control, settingkey::Listen}), kDefaultListen,
                  QStringLiteral("anyone who reaches it reads route ids, upstream addresses and "
                                 "their health, without a key")},
                 [this] {
                     HttpService service;
                     service.limits.maxBodyBytes = kMaxBodyBytes;
                     service.handle = [this](const HttpRequest& request) {
                         return handle(request);
                     };
                     service.refuse = [](const HttpRefusal& refusal) {
                         return errorMessage(refusal.message, HttpStatus(refusal.status));
                     };
                     return service;
                 })
{
    connect(m_store, &ConfigStore::changed, this, [this](const ConfigDiff& diff, const Config& c) {
        if (diff.settingsChanged)
            m_endpoint.settingChanged(c.streamgate.controlListen());
    });
}

ControlApi::~ControlApi() = default;

bool ControlApi::start(const HttpFrontOptions& connections)
{
    return m_endpoint.start({}, m_store->config().streamgate.controlListen(), connections);
}

HttpResponse ControlApi::handle(const HttpRequest& request) const
{
    // APISIX routes GET only; anything else finds no handler.
    if (request.method() != HttpRequest::Method::Get)
        return notFoundPage();
    const QString path = normalizedPath(request);
    if (path == kPrefix) {
        const Snapshot snapshot = m_engine ? m_engine->snapshot() : Snapshot{};
        const QJsonArray checkers = healthCheckers(m_store->config(), snapshot);
        if (wantsHtml(request))
            return htmlPage(checkers);
        // APISIX's encoder writes an empty list as an empty object.
        return HttpResponse("application/json", checkers.isEmpty()
                                                    ? jsonLine(QJsonDocument(QJsonObject()))
                                                    : jsonLine(QJsonDocument(checkers)));
    }
    if (path.startsWith(kPrefix + QLatin1Char('/')))
        return oneChecker(request, path.split(QLatin1Char('/')));
    return notFoundPage();
}

// segments: "", "v1", "healthcheck", src_type[, src_id, ...]; what follows src_id is ignored,
// as in APISIX.
HttpResponse ControlApi::oneChecker(const HttpRequest& request, const QStringList& segments) const
{
    const QString type = segments.value(3);
    if (segments.size() < 5)
        return errorMessage(QStringLiteral("missing src id for src type %1").arg(type),
                            HttpStatus::NotFound);
    const QString id = segments.at(4);
    const QString notFound = QStringLiteral("%1[%2] not found").arg(type, id);
    // Streamgate has no HTTP routes: nothing to find there.
    if (type == u"routes")
        return errorMessage(notFound, HttpStatus::NotFound);
    if (type != u"stream_routes" && type != u"services" && type != u"upstreams")
        return errorMessage(QStringLiteral("invalid src type %1").arg(type),
                            HttpStatus::BadRequest);

    const Config config = m_store->config();
    for (const Source& source : sources(config)) {
        if (source.type != type || source.id != id)
            continue;
        if (!source.checked())
            return errorMessage(QStringLiteral("no checker for %1[%2]").arg(type, id),
                                HttpStatus::NotFound);
        const Snapshot snapshot = m_engine ? m_engine->snapshot() : Snapshot{};
        const QJsonObject info = checkerInfo(source, indexNodes(snapshot));
        if (wantsHtml(request))
            return htmlPage(QJsonArray{info});
        return HttpResponse("application/json", jsonLine(QJsonDocument(info)));
    }
    return errorMessage(notFound, HttpStatus::NotFound);
}

} // namespace sg
