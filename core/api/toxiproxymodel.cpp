#include "api/toxiproxymodel.h"

#include "config/routeedits.h"

#include <QHostAddress>
#include <QJsonArray>
#include <QTcpServer>

namespace sg::toxiproxy {

namespace {

QString hostPort(const QString& host, int port)
{
    if (host.contains(u':'))
        return QStringLiteral("[%1]:%2").arg(host).arg(port);
    return QStringLiteral("%1:%2").arg(host).arg(port);
}

QString listenText(const std::optional<RouteListen>& listen)
{
    if (!listen)
        return {};
    return hostPort(listen->host.isEmpty() ? QStringLiteral("0.0.0.0") : listen->host,
                    listen->port);
}

QString upstreamText(const Config& config, const StreamRoute& route)
{
    const Upstream* up = config.upstreamFor(route);
    if (!up || up->nodes.isEmpty())
        return {};
    return up->nodes.first().address();
}

ProxyView viewOf(const Config& config, const StreamRoute& route,
                 const std::optional<RouteListen>& listen, bool enabled)
{
    return ProxyView{route.idString(), listenText(listen), upstreamText(config, route), enabled};
}

// "host:port", "[v6]:port", ":port" (every address) or "localhost:port"; false when not.
bool splitHostPort(const QString& text, QString* host, int* port)
{
    const qsizetype colon = text.lastIndexOf(u':');
    if (colon < 0)
        return false;
    QString h = text.left(colon);
    if (h.startsWith(u'[') && h.endsWith(u']'))
        h = h.mid(1, h.size() - 2);
    bool ok = false;
    const int p = text.mid(colon + 1).toInt(&ok);
    if (!ok || p < 0 || p > 65535)
        return false;
    *host = h;
    *port = p;
    return true;
}

ApiError badField(const QString& prefix, const QString& field, const QString& reason)
{
    return ApiError{400, QStringLiteral("bad request body: %1%2: %3").arg(prefix, field, reason)};
}

// The listener a proxy's listen text asks for; port 0 takes a free one now.
std::variant<RouteListen, ApiError> parseListen(const QString& text)
{
    QString host;
    int port = 0;
    if (!splitHostPort(text, &host, &port))
        return badField({}, QStringLiteral("listen"),
                        QStringLiteral("\"%1\" is not host:port").arg(text));
    if (host == u"localhost")
        host = QStringLiteral("127.0.0.1");
    if (!host.isEmpty() && QHostAddress(host).isNull())
        return badField({}, QStringLiteral("listen"),
                        QStringLiteral("\"%1\" is not an IP address").arg(host));
    if (host == u"0.0.0.0")
        host.clear(); // every address, as a bare port in stream_proxy
    if (port == 0) {
        QTcpServer probe;
        if (!probe.listen(host.isEmpty() ? QHostAddress::AnyIPv4 : QHostAddress(host), 0))
            return ApiError{500,
                            QStringLiteral("listen tcp %1: %2").arg(text, probe.errorString())};
        port = probe.serverPort();
    }
    return RouteListen{Protocol::Tcp, host, port};
}

std::variant<Node, ApiError> parseUpstream(const QString& text)
{
    QString host;
    int port = 0;
    if (!splitHostPort(text, &host, &port) || host.isEmpty() || port == 0)
        return badField({}, QStringLiteral("upstream"),
                        QStringLiteral("\"%1\" is not host:port").arg(text));
    Node node;
    node.host = host;
    node.port = port;
    return node;
}

bool portTaken(const Config& config, int port, const QString& exceptRouteId)
{
    for (const StreamRoute& r : config.streamRoutes)
        if (r.idString() != exceptRouteId && r.serverPort == port)
            return true;
    for (const ListenEntry& e : config.streamProxy.tcp)
        if (e.hasPort(port))
            return true;
    return false;
}

StreamRoute* routeIn(Config& config, const QString& id)
{
    for (StreamRoute& r : config.streamRoutes)
        if (r.idString() == id)
            return &r;
    return nullptr;
}

bool validId(const QString& id)
{
    if (id.isEmpty() || id.size() > 64)
        return false;
    for (QChar c : id)
        if (!(c.isLetterOrNumber() && c.unicode() < 128) && c != u'-' && c != u'_' && c != u'.')
            return false;
    return true;
}

// Moves the route's listener and sets its upstream, as the input says.
std::optional<ApiError> applyChanges(Config& next, const QString& id, const ProxyView& before,
                                     const ProxyInput& input)
{
    StreamRoute* route = routeIn(next, id);
    if (!route)
        return ApiError{500, QStringLiteral("proxy %1 has no route").arg(id)};
    if (input.listen && *input.listen != before.listen) {
        auto parsed = parseListen(*input.listen);
        if (auto* e = std::get_if<ApiError>(&parsed))
            return *e;
        const RouteListen listen = std::get<RouteListen>(parsed);
        if (portTaken(next, listen.port, id))
            return ApiError{
                500, QStringLiteral("listen tcp %1: address already in use").arg(*input.listen)};
        const std::optional<RouteListen> previous = listenOf(next.streamProxy, *route);
        route->serverPort = listen.port;
        next.streamProxy = proxyWithListen(next, id, previous, listen);
    }
    if (input.upstream && *input.upstream != before.upstream) {
        auto parsed = parseUpstream(*input.upstream);
        if (auto* e = std::get_if<ApiError>(&parsed))
            return *e;
        Upstream up = route->upstream.value_or(Upstream{});
        up.nodes = {std::get<Node>(parsed)};
        route->upstream = up;
        route->upstreamId = QJsonValue(QJsonValue::Undefined);
    }
    return std::nullopt;
}

} // namespace

QList<ProxyView> proxies(const Config& config)
{
    QList<ProxyView> list;
    for (const StreamRoute& r : config.streamRoutes) {
        const std::optional<RouteListen> listen = listenOf(config.streamProxy, r);
        if (!listen || listen->protocol == Protocol::Tcp)
            list << viewOf(config, r, listen, true);
    }
    for (const DisabledRoute& d : disabledRoutes(config)) {
        if (!d.listen || d.listen->protocol == Protocol::Tcp)
            list << viewOf(config, d.route, d.listen, false);
    }
    return list;
}

std::optional<ProxyView> findProxy(const Config& config, const QString& name)
{
    for (const ProxyView& p : proxies(config))
        if (p.name == name)
            return p;
    return std::nullopt;
}

QJsonObject proxyJson(const Config& config, const ProxyView& proxy)
{
    QJsonArray toxics;
    for (const ToxicSpec& t : config.streamgate.toxicMap().value(proxy.name))
        toxics.append(encodeToxic(t));
    return QJsonObject{{QStringLiteral("name"), proxy.name},
                       {QStringLiteral("listen"), proxy.listen},
                       {QStringLiteral("upstream"), proxy.upstream},
                       {QStringLiteral("enabled"), proxy.enabled},
                       {QStringLiteral("toxics"), toxics}};
}

std::optional<ApiError> readProxyInput(const QJsonValue& body, const QString& prefix,
                                       ProxyInput* out)
{
    if (!body.isObject())
        return ApiError{400,
                        QStringLiteral("bad request body: %1must be a JSON object").arg(prefix)};
    const QJsonObject o = body.toObject();
    ProxyInput in;
    for (const char* key : {"name", "listen", "upstream"}) {
        const QJsonValue v = o.value(QLatin1String(key));
        if (v.isUndefined() || v.isNull())
            continue;
        if (!v.isString())
            return badField(prefix, QLatin1String(key), QStringLiteral("must be a string"));
        std::optional<QString>& field = key[0] == 'n'   ? in.name
                                        : key[0] == 'l' ? in.listen
                                                        : in.upstream;
        field = v.toString();
    }
    if (const QJsonValue v = o.value(QLatin1String("enabled")); !v.isUndefined() && !v.isNull()) {
        if (!v.isBool())
            return badField(prefix, QStringLiteral("enabled"),
                            QStringLiteral("must be true or false"));
        in.enabled = v.toBool();
    }
    *out = in;
    return std::nullopt;
}

std::variant<Config, ApiError> withProxyCreated(const Config& config, const ProxyInput& input)
{
    if (!input.name || input.name->isEmpty())
        return ApiError{400, QStringLiteral("missing required field: name")};
    if (!input.upstream || input.upstream->isEmpty())
        return ApiError{400, QStringLiteral("missing required field: upstream")};
    const QString name = *input.name;
    if (findProxy(config, name) || config.findRoute(name))
        return ApiError{409, QStringLiteral("proxy already exists")};
    if (!validId(name))
        return badField({}, QStringLiteral("name"),
                        QStringLiteral("\"%1\" must be 1 to 64 of a-z A-Z 0-9 - _ . (it becomes "
                                       "the route id)")
                            .arg(name));

    Config next = config;
    StreamRoute route;
    route.id = name;
    route.desc = QStringLiteral("Toxiproxy proxy");
    route.upstream = Upstream{};
    next.streamRoutes << route;
    ProxyView before{name, {}, {}, true};
    ProxyInput changes = input;
    if (!changes.listen || changes.listen->isEmpty())
        changes.listen = QStringLiteral("127.0.0.1:0");
    if (auto e = applyChanges(next, name, before, changes))
        return *e;
    QMap<QString, QList<ToxicSpec>> toxics = next.streamgate.toxicMap();
    toxics.insert(name, {});
    next.streamgate.toxics = toxics;
    if (!input.enabled.value_or(true))
        next = withRouteDisabled(next, name);
    return next;
}

std::variant<Config, ApiError> withProxyUpdated(const Config& config, const ProxyView& proxy,
                                                const ProxyInput& input)
{
    Config next = proxy.enabled ? config : withRouteEnabled(config, proxy.name);
    if (auto e = applyChanges(next, proxy.name, proxy, input))
        return *e;
    if (!input.enabled.value_or(proxy.enabled))
        next = withRouteDisabled(next, proxy.name);
    return next;
}

Config withProxyDeleted(const Config& config, const ProxyView& proxy)
{
    Config next = proxy.enabled ? withRouteDeleted(config, proxy.name)
                                : withDisabledRouteRemoved(config, proxy.name);
    if (next.streamgate.toxics && next.streamgate.toxics->contains(proxy.name)) {
        QMap<QString, QList<ToxicSpec>> toxics = *next.streamgate.toxics;
        toxics.remove(proxy.name);
        next.streamgate.toxics = toxics;
    }
    return next;
}

} // namespace sg::toxiproxy
