#include "proxy/plugins/udpsessioncap.h"

#include "proxy/engineoptions.h"
#include "proxy/streamplugin.h"
#include "proxy/streamvariables.h"
#include "stats/statshub.h"

#include <QHash>
#include <QMutex>
#include <QMutexLocker>

namespace sg {

namespace {

class UdpSessionCapPlugin final : public StreamPlugin
{
public:
    explicit UdpSessionCapPlugin(int cap) : m_cap(cap), m_perClient(udpSessionsPerClient(cap)) {}

    PrereadVerdict preread(const StreamClient& client, const QString& routeId, RouteStats& stats,
                           QString& held) override
    {
        if (client.protocol != Protocol::Udp)
            return PrereadVerdict::admit();
        // The route's count lives in its stats, which outlive any edit of the route.
        if (stats.udpSessions.fetch_add(1, std::memory_order_relaxed) >= m_cap) {
            stats.udpSessions.fetch_sub(1, std::memory_order_relaxed);
            stats.add(stats.limited);
            return PrereadVerdict::refuse(
                CloseReason::SessionCap,
                QStringLiteral("route %1 has reached its cap of %2 UDP sessions")
                    .arg(routeId)
                    .arg(m_cap),
                true);
        }
        const QString address = streamVariable(QStringLiteral("remote_addr"), client);
        {
            QMutexLocker lock(&m_mutex);
            int& count = m_clients[address];
            if (count < m_perClient) {
                ++count;
                held = address;
                return PrereadVerdict::admit();
            }
        }
        stats.udpSessions.fetch_sub(1, std::memory_order_relaxed);
        stats.add(stats.limited);
        return PrereadVerdict::refuse(
            CloseReason::SessionCap,
            QStringLiteral("%1 holds its share of %2 of the %3 UDP sessions of route %4")
                .arg(address)
                .arg(m_perClient)
                .arg(m_cap)
                .arg(routeId),
            true);
    }

    void log(const StreamLog& log) override
    {
        if (log.held.isEmpty())
            return;
        log.stats.udpSessions.fetch_sub(1, std::memory_order_relaxed);
        QMutexLocker lock(&m_mutex);
        auto it = m_clients.find(log.held);
        if (it != m_clients.end() && --it.value() <= 0)
            m_clients.erase(it);
    }

    int cap() const { return m_cap; }

private:
    const int m_cap;
    const int m_perClient;
    QMutex m_mutex;
    QHash<QString, int> m_clients; // live sessions per client address
};

} // namespace

namespace streamplugins {
StreamPluginType udpsessioncap()
{
    return {QStringLiteral("streamgate-udp-session-cap"), 2000,
            [](const StreamPluginBuild& b) -> std::shared_ptr<StreamPlugin> {
                const int cap = qMax(1, b.options.udpSessionCap);
                if (auto* old = dynamic_cast<UdpSessionCapPlugin*>(b.previous.get());
                    old && old->cap() == cap)
                    return b.previous;
                return std::make_shared<UdpSessionCapPlugin>(cap);
            }};
}
} // namespace streamplugins

} // namespace sg
