#include "config/routeedits.h"

#include "model/codec.h"

#include <QCoreApplication>
#include <QHostAddress>
#include <QJsonArray>
#include <QRegularExpression>

namespace sg {

namespace {

QString tr(const char* text, int n = -1)
{
    return QCoreApplication::translate("sg::routeedits", text, nullptr, n);
}

QList<ListenEntry>& entries(StreamProxy& proxy, Protocol protocol)
{
    return protocol == Protocol::Udp ? proxy.udp : proxy.tcp;
}

bool usesPort(const StreamRoute& route, int port)
{
    // A route without server_port matches every listener, but does not own any.
    return route.serverPort && *route.serverPort == port;
}

DisabledRouteSettings encodeDisabled(const DisabledRoute& d)
{
    DisabledRouteSettings entry;
    entry.route = encodeStreamRoute(d.route);
    if (d.listen) {
        entry.protocol =
            d.listen->protocol == Protocol::Udp ? QStringLiteral("udp") : QStringLiteral("tcp");
        entry.listen = makeListenEntry(d.listen->host, d.listen->port).text();
    }
    if (d.fault)
        entry.fault = true;
    return entry;
}

} // namespace

ListenEntry makeListenEntry(const QString& host, int port)
{
    ListenEntry e;
    e.host = host;
    e.port = port;
    if (host.isEmpty())
        e.given = port;
    else if (host.contains(QLatin1Char(':')))
        e.given = QStringLiteral("[%1]:%2").arg(host).arg(port);
    else
        e.given = QStringLiteral("%1:%2").arg(host).arg(port);
    return e;
}

std::optional<RouteListen> listenOf(const StreamProxy& proxy, const StreamRoute& route)
{
    if (!route.serverPort)
        return std::nullopt;
    // Of one protocol, an entry for the port alone wins over a range holding it: it is the one
    // a route moved to another address got (proxyWithListen).
    for (const Protocol protocol : {Protocol::Tcp, Protocol::Udp}) {
        const QList<ListenEntry>& list = protocol == Protocol::Udp ? proxy.udp : proxy.tcp;
        const ListenEntry* found = nullptr;
        for (const ListenEntry& e : list) {
            if (e.hasPort(*route.serverPort) && (!found || (found->isRange() && !e.isRange())))
                found = &e;
        }
        if (found)
            return RouteListen{protocol, found->host, *route.serverPort};
    }
    return std::nullopt;
}

StreamProxy proxyWithListen(const Config& config, const QString& exceptRouteId,
                            const std::optional<RouteListen>& previous,
                            const std::optional<RouteListen>& next)
{
    StreamProxy proxy = config.streamProxy;
    if (previous && previous != next) {
        bool used = false;
        for (const StreamRoute& r : config.streamRoutes) {
            if (r.idString() != exceptRouteId && usesPort(r, previous->port))
                used = true;
        }
        if (!used) {
            // A range stays whole: it listens for its other ports as well.
            auto& list = entries(proxy, previous->protocol);
            for (qsizetype i = list.size() - 1; i >= 0; --i) {
                if (!list.at(i).isRange() && list.at(i).port == previous->port)
                    list.removeAt(i);
            }
        }
    }
    if (next) {
        auto& list = entries(proxy, next->protocol);
        bool inRange = false; // a range of that address listens on the port already
        for (const ListenEntry& e : std::as_const(list))
            inRange = inRange || (e.isRange() && e.host == next->host && e.hasPort(next->port));
        bool replaced = inRange;
        for (ListenEntry& e : list) {
            // A range is never moved or split for one of its ports: a route that moves to
            // another address gets a listener of its own there.
            if (inRange || e.isRange() || e.port != next->port)
                continue;
            // Same port, maybe another address: the form is the authority for its route;
            // the listener keeps its PROXY protocol settings.
            if (e.host != next->host) {
                ListenEntry moved = makeListenEntry(next->host, next->port);
                moved.proxyProtocol = e.proxyProtocol;
                moved.proxyProtocolToUpstream = e.proxyProtocolToUpstream;
                moved.tls = e.tls;
                e = moved;
            }
            replaced = true;
        }
        if (!replaced)
            list << makeListenEntry(next->host, next->port);
    }
    return proxy;
}

QList<DisabledRoute> disabledRoutes(const Config& config)
{
    QList<DisabledRoute> result;
    for (const DisabledRouteSettings& entry : config.streamgate.disabledRouteList()) {
        // The decoder validated both (an entry whose route did not decode is never stored).
        const Decoded<StreamRoute> decoded = decodeStreamRoute(entry.route);
        if (!decoded.ok())
            continue;
        DisabledRoute d{decoded.value, std::nullopt, entry.fault.value_or(false)};
        if (entry.listen) {
            const Decoded<ListenEntry> listen = decodeListenEntry(*entry.listen);
            if (listen.ok()) {
                const bool udp = entry.protocol == QLatin1String("udp");
                d.listen = RouteListen{udp ? Protocol::Udp : Protocol::Tcp, listen.value.host,
                                       listen.value.port};
            }
        }
        result << d;
    }
    return result;
}

Config withRouteDisabled(const Config& config, const QString& id, bool fault)
{
    Config next = config;
    for (qsizetype i = 0; i < next.streamRoutes.size(); ++i) {
        if (next.streamRoutes.at(i).idString() != id)
            continue;
        const StreamRoute route = next.streamRoutes.at(i);
        const std::optional<RouteListen> listen = listenOf(config.streamProxy, route);
        next.streamProxy = proxyWithListen(config, id, listen, std::nullopt);
        next.streamRoutes.removeAt(i);
        QList<DisabledRouteSettings> list = next.streamgate.disabledRouteList();
        list.append(encodeDisabled(DisabledRoute{route, listen, fault}));
        next.streamgate.disabledRoutes = list;
        break;
    }
    return next;
}

Config withRouteEnabled(const Config& config, const QString& id)
{
    Config next = withDisabledRouteRemoved(config, id);
    for (const DisabledRoute& d : disabledRoutes(config)) {
        if (d.route.idString() != id)
            continue;
        next.streamRoutes << d.route;
        if (d.listen)
            next.streamProxy = proxyWithListen(next, id, std::nullopt, d.listen);
        break;
    }
    return next;
}

Config withDisabledRouteRemoved(const Config& config, const QString& id)
{
    Config next = config;
    QList<DisabledRouteSettings> kept;
    for (const DisabledRouteSettings& entry : config.streamgate.disabledRouteList()) {
        const QJsonValue routeId = entry.route.value(QLatin1String("id"));
        const QString text =
            routeId.isString() ? routeId.toString() : QString::number(routeId.toInteger());
        if (text != id)
            kept.append(entry);
    }
    if (kept.isEmpty())
        next.streamgate.disabledRoutes.reset();
    else
        next.streamgate.disabledRoutes = kept;
    return next;
}

Config withRouteDeleted(const Config& config, const QString& id)
{
    Config next = config;
    for (qsizetype i = 0; i < next.streamRoutes.size(); ++i) {
        if (next.streamRoutes.at(i).idString() != id)
            continue;
        next.streamProxy = proxyWithListen(
            config, id, listenOf(config.streamProxy, next.streamRoutes.at(i)), std::nullopt);
        next.streamRoutes.removeAt(i);
        break;
    }
    return next;
}

QString upstreamSummary(const Config& config, const StreamRoute& route)
{
    // A route without an upstream of its own shows what its service gives it.
    const QString serviceId = idText(route.serviceId);
    if (!route.upstream && idText(route.upstreamId).isEmpty() && !serviceId.isEmpty()) {
        const Service* service = config.findService(serviceId);
        if (!service)
            return tr("service %1 (missing)").arg(serviceId);
        StreamRoute viaService = route;
        viaService.serviceId = QJsonValue(QJsonValue::Undefined);
        viaService.upstream = service->upstream;
        viaService.upstreamId = service->upstreamId;
        return tr("service %1: %2")
            .arg(service->name.isEmpty() ? serviceId : service->name,
                 upstreamSummary(config, viaService));
    }
    if (const QString id = idText(route.upstreamId); !route.upstream && !id.isEmpty()) {
        const Upstream* u = config.findUpstream(id);
        if (!u)
            return tr("upstream %1 (missing)").arg(id);
        return tr("upstream %1 (%n node(s))", int(u->nodes.size()))
            .arg(u->name.isEmpty() ? id : u->name);
    }
    const Upstream* u = route.upstream ? &*route.upstream : nullptr;
    if (!u || u->nodes.isEmpty())
        return tr("no upstream");
    if (u->nodes.size() == 1)
        return u->nodes.first().address();
    return tr("%n nodes, %1", int(u->nodes.size())).arg(u->type);
}

QString uniqueRouteId(const Config& config, const QString& base)
{
    QString clean = base.toLower();
    clean.replace(QRegularExpression(QStringLiteral("[^a-z0-9._-]+")), QStringLiteral("-"));
    clean = clean.left(56);
    while (clean.startsWith(QLatin1Char('-')))
        clean.remove(0, 1);
    while (clean.endsWith(QLatin1Char('-')))
        clean.chop(1);
    if (clean.isEmpty())
        clean = QStringLiteral("route");
    QSet<QString> used;
    for (const StreamRoute& r : config.streamRoutes)
        used.insert(r.idString());
    for (const DisabledRoute& d : disabledRoutes(config))
        used.insert(d.route.idString());
    QString candidate = clean;
    for (int n = 2; used.contains(candidate); ++n)
        candidate = QStringLiteral("%1-%2").arg(clean).arg(n);
    return candidate;
}

} // namespace sg

namespace sg {

namespace {
bool listed(const QStringList& list, const QString& ip)
{
    const QHostAddress address(ip);
    for (const QString& entry : list) {
        if (entry == ip)
            return true;
        const QHostAddress other(entry);
        if (!other.isNull() && !address.isNull() &&
            other.isEqual(address, QHostAddress::TolerantConversion))
            return true;
    }
    return false;
}
} // namespace

StreamRoute withOwnIpRestriction(const Config& config, const StreamRoute& route)
{
    StreamRoute own = route;
    if (!own.plugins.ipRestriction)
        own.plugins.ipRestriction = config.effectiveRoute(route).plugins.ipRestriction;
    return own;
}

std::optional<StreamRoute> withClientAllowed(const StreamRoute& route, const QString& ip,
                                             QString* why)
{
    StreamRoute next = route;
    std::optional<IpRestrictionConf>& conf = next.plugins.ipRestriction;
    if (!conf) {
        *why = QCoreApplication::translate("sg::routeedits",
                                           "%1 has no client restriction: every client may connect")
                   .arg(route.displayName());
        return std::nullopt;
    }
    if (!conf->whitelist.isEmpty()) {
        if (listed(conf->whitelist, ip)) {
            *why = QCoreApplication::translate("sg::routeedits", "%1 is already allowed on %2")
                       .arg(ip, route.displayName());
            return std::nullopt;
        }
        conf->whitelist << ip;
        return next;
    }
    if (!listed(conf->blacklist, ip)) {
        *why = QCoreApplication::translate("sg::routeedits", "%1 is not on the block-list of %2")
                   .arg(ip, route.displayName());
        return std::nullopt;
    }
    const QHostAddress address(ip);
    conf->blacklist.removeIf([&](const QString& entry) {
        return entry == ip ||
               QHostAddress(entry).isEqual(address, QHostAddress::TolerantConversion);
    });
    if (conf->blacklist.isEmpty())
        conf.reset(); // an empty list is not valid APISIX: no restriction at all
    return next;
}

std::optional<StreamRoute> withClientBlocked(const StreamRoute& route, const QString& ip,
                                             QString* why)
{
    StreamRoute next = route;
    std::optional<IpRestrictionConf>& conf = next.plugins.ipRestriction;
    if (!conf) {
        IpRestrictionConf blocked;
        blocked.blacklist << ip;
        conf = blocked;
        return next;
    }
    if (!conf->blacklist.isEmpty()) {
        if (listed(conf->blacklist, ip)) {
            *why = QCoreApplication::translate("sg::routeedits", "%1 is already blocked on %2")
                       .arg(ip, route.displayName());
            return std::nullopt;
        }
        conf->blacklist << ip;
        return next;
    }
    if (!listed(conf->whitelist, ip)) {
        *why = QCoreApplication::translate("sg::routeedits",
                                           "%1 is allowed on %2 through a wider entry (CIDR); edit "
                                           "the allowed clients to narrow it")
                   .arg(ip, route.displayName());
        return std::nullopt;
    }
    const QHostAddress address(ip);
    conf->whitelist.removeIf([&](const QString& entry) {
        return entry == ip ||
               QHostAddress(entry).isEqual(address, QHostAddress::TolerantConversion);
    });
    if (conf->whitelist.isEmpty()) {
        *why = QCoreApplication::translate(
                   "sg::routeedits",
                   "%1 is the only allowed client of %2; an empty allow-list would let everyone in")
                   .arg(ip, route.displayName());
        return std::nullopt;
    }
    return next;
}

} // namespace sg
