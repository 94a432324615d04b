#include "proxy/admission.h"

#include "proxy/balancer.h"

#include <QMutexLocker>

namespace sg {

AdmissionTicket& AdmissionTicket::operator=(AdmissionTicket&& other) noexcept
{
    if (this != &other) {
        end();
        m_held = std::move(other.m_held);
    }
    return *this;
}

void AdmissionTicket::end(CloseReason reason, const StreamClient* refused)
{
    if (!m_held)
        return;
    const std::unique_ptr<Held> held = std::move(m_held);
    for (qsizetype i = held->kept.size() - 1; i >= 0; --i) {
        const auto& [plugin, key] = held->kept[i];
        held->route->plugins[size_t(plugin)].plugin->log(
            StreamLog{*held->route->stats, key, reason, held->record.get(), refused});
    }
}

Admission AdmissionPipeline::admit(const RouteTable& table, const StreamClient& client) const
{
    Admission a;
    // match
    const int index =
        table.router ? table.router->match(MatchInput{client.remoteAddress, client.serverAddress,
                                                      int(client.serverPort), client.tls.sni})
                     : -1;
    if (index < 0 || index >= int(table.routes.size())) {
        a.refusal = CloseReason::NoRoute;
        a.why = QStringLiteral("no route matches");
        return a;
    }
    a.route = table.routes[size_t(index)];
    // drained
    if (isDrained(a.route->id)) {
        a.route->stats->add(a.route->stats->limited);
        a.refusal = CloseReason::Limited;
        a.why = QStringLiteral("route %1 is drained").arg(a.route->id);
        a.underLoad = true;
        return a;
    }
    preread(a, client, 0);
    return a;
}

void AdmissionPipeline::resume(Admission& admission, const StreamClient& client) const
{
    const qsizetype from = admission.pausedAt;
    admission.pausedAt = -1;
    preread(admission, client, from);
}

void AdmissionPipeline::refuse(Admission& admission, const StreamClient& client, CloseReason reason,
                               const QString& why) const
{
    const qsizetype at = admission.pausedAt;
    admission.pausedAt = -1;
    refuseAt(admission, at, client, PrereadVerdict::refuse(reason, why, false));
}

void AdmissionPipeline::preread(Admission& a, const StreamClient& client, qsizetype from) const
{
    RouteEntry& route = *a.route;
    for (qsizetype i = from; i < qsizetype(route.plugins.size()); ++i) {
        StreamPlugin& plugin = *route.plugins[size_t(i)].plugin;
        if (plugin.readsMqttConnect() && !client.mqtt.detected) {
            if (client.protocol == Protocol::Udp) {
                refuseAt(a, i, client,
                         PrereadVerdict::refuse(CloseReason::BadMqttConnect,
                                                QStringLiteral("mqtt-proxy reads MQTT over TCP, "
                                                               "not UDP"),
                                                false));
                return;
            }
            a.pausedAt = i;
            return;
        }
        QString held;
        PrereadVerdict v = plugin.preread(client, route.id, *route.stats, held);
        if (v.refusal != CloseReason::None) {
            refuseAt(a, i, client, std::move(v));
            return;
        }
        if (!held.isEmpty() || plugin.logsEverySession()) {
            if (!a.ticket.m_held) {
                a.ticket.m_held = std::make_unique<AdmissionTicket::Held>();
                a.ticket.m_held->route = a.route;
            }
            a.ticket.m_held->kept.append({i, std::move(held)});
        }
        a.delaySeconds = qMax(a.delaySeconds, v.delaySeconds);
        if (v.upstream) [[unlikely]]
            a.upstream = v.upstream; // traffic-split
    }
    // balancer
    if (!a.upstream)
        a.upstream = route.upstream.get();
    if (a.upstream && a.upstream->balancer->usesHashKey())
        a.hashKey = chashKeyValue(a.upstream->upstream, client);
}

void AdmissionPipeline::refuseAt(Admission& a, qsizetype plugin, const StreamClient& client,
                                 PrereadVerdict&& v) const
{
    RouteEntry& route = *a.route;
    a.ticket.end(v.refusal, &client); // the plugins that admitted let go
    // The loggers that come after the refusing plugin log the refusal too.
    for (qsizetype j = qsizetype(route.plugins.size()) - 1; j > plugin; --j) {
        StreamPlugin& later = *route.plugins[size_t(j)].plugin;
        if (later.logsEverySession())
            later.log(StreamLog{*route.stats, QString(), v.refusal, nullptr, &client});
    }
    a.refusal = v.refusal;
    a.why = std::move(v.why);
    a.underLoad = v.underLoad;
}

void AdmissionPipeline::setDrained(const QString& routeId, bool drained)
{
    QMutexLocker lock(&m_drainedMutex);
    if (drained)
        m_drained.insert(routeId);
    else
        m_drained.remove(routeId);
}

bool AdmissionPipeline::isDrained(const QString& routeId) const
{
    QMutexLocker lock(&m_drainedMutex);
    return !m_drained.isEmpty() && m_drained.contains(routeId);
}

ConnectionInfo connectionOf(const StreamClient& client, const QString& listener, qint64 nowMs)
{
    ConnectionInfo base;
    base.protocol = client.protocol;
    base.listener = listener;
    base.clientAddress = client.remoteAddress;
    base.clientPort = client.remotePort;
    base.localAddress = client.serverAddress;
    base.localPort = client.serverPort;
    base.peerAddress = client.peerAddress;
    base.peerPort = client.peerPort;
    if (client.proxyProtocol)
        base.proxyHeader = ProxyHeaderInfo{client.proxyAddress, client.proxyPort,
                                           client.proxyServerAddress, client.proxyServerPort};
    base.mqtt = client.mqtt;
    base.tls = client.tls;
    base.startMs = nowMs;
    base.lastActivityMs = nowMs;
    return base;
}

void recordRefusal(StatsHub& hub, ConnectionInfo base, const Admission& admission,
                   const QString& where)
{
    base.id = hub.nextConnectionId();
    if (admission.route)
        base.routeId = admission.route->id;
    base.state = ConnectionState::Closed;
    base.closeReason = admission.refusal;
    base.closedBy = ClosedBy::Proxy;
    base.closePhase = ClosePhase::Admission;
    base.endMs = base.startMs;
    hub.denied(base, QStringLiteral("%1:%2 refused on %3: %4")
                         .arg(base.clientAddress.toString())
                         .arg(base.clientPort)
                         .arg(where, admission.why));
}

std::shared_ptr<ConnectionRecord> openRecord(StatsHub& hub, ConnectionInfo base,
                                             Admission& admission,
                                             std::shared_ptr<ListenerStats> listener, int worker)
{
    auto record = std::make_shared<ConnectionRecord>();
    base.id = hub.nextConnectionId();
    base.routeId = admission.route->id;
    record->base = std::move(base);
    record->lastActivityMs.set(quint64(record->base.startMs));
    record->route = admission.route->stats;
    record->listener = std::move(listener);
    record->worker = worker;
    hub.opened(record);
    admission.ticket.setRecord(record);
    return record;
}

} // namespace sg
