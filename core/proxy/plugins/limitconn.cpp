#include "proxy/plugins/limitconn.h"

#include "proxy/streamplugin.h"
#include "proxy/streamvariables.h"
#include "stats/statshub.h"

#include <QMutexLocker>
#include <cmath>

namespace sg {

namespace {

class LimitConnPlugin final : public StreamPlugin
{
public:
    explicit LimitConnPlugin(const LimitConnConf& conf) : m_given(conf), m_limit(conf) {}
    const LimitConnConf& given() const { return m_given; }

    PrereadVerdict preread(const StreamClient& client, const QString& routeId, RouteStats& stats,
                           QString& held) override
    {
        const LimitConn::Admission a =
            m_limit.acquire(client.remoteAddress, client.serverAddress, int(client.serverPort));
        if (!a.admitted) {
            stats.add(stats.limited);
            return PrereadVerdict::refuse(
                CloseReason::Limited,
                QStringLiteral("limit-conn on route %1 (key %2)").arg(routeId, a.key), true);
        }
        held = a.key;
        if (client.protocol != Protocol::Tcp || a.delaySeconds <= 0)
            return PrereadVerdict::admit();
        stats.add(stats.delayed);
        return PrereadVerdict::admit(a.delaySeconds);
    }

    void log(const StreamLog& log) override { m_limit.release(log.held); }

private:
    const LimitConnConf m_given; // as configured, to recognise it after an edit
    LimitConn m_limit;
};

} // namespace

LimitConn::LimitConn(const LimitConnConf& conf) : m_conf(conf)
{
    if (m_conf.conn < 1)
        m_conf.conn = 1; // validation requires conn > 0; never divide by zero
    if (m_conf.burst < 0)
        m_conf.burst = 0;
}

QString LimitConn::keyFor(const QHostAddress& remote, const QHostAddress& local,
                          int serverPort) const
{
    QString key;
    if (m_conf.keyType == u"var_combination") {
        int resolved = 0;
        key = resolveStreamVariables(m_conf.key, remote, local, serverPort, &resolved);
        if (resolved == 0)
            key = QString();
    } else {
        key = streamVariable(m_conf.key, remote, local, serverPort);
    }
    if (key.isEmpty())
        key = streamVariable(QStringLiteral("remote_addr"), remote, local, serverPort);
    return key;
}

LimitConn::Admission LimitConn::acquire(const QHostAddress& remote, const QHostAddress& local,
                                        int serverPort)
{
    const QString key = keyFor(remote, local, serverPort);
    Admission admission;
    QMutexLocker lock(&m_mutex);
    int& count = m_active[key];
    const int next = count + 1;
    if (next > m_conf.conn + m_conf.burst) {
        admission.concurrent = count;
        if (count == 0)
            m_active.remove(key);
        return admission;
    }
    count = next;
    admission.admitted = true;
    admission.key = key;
    admission.concurrent = next;
    if (next > m_conf.conn)
        admission.delaySeconds =
            m_conf.defaultConnDelay * std::floor(double(next - 1) / m_conf.conn);
    return admission;
}

void LimitConn::release(const QString& key)
{
    if (key.isEmpty())
        return;
    QMutexLocker lock(&m_mutex);
    auto it = m_active.find(key);
    if (it == m_active.end())
        return;
    if (--it.value() <= 0)
        m_active.erase(it);
}

int LimitConn::active(const QString& key) const
{
    QMutexLocker lock(&m_mutex);
    return m_active.value(key, 0);
}

namespace streamplugins {
StreamPluginType limitconn()
{
    return {QStringLiteral("limit-conn"), 1003,
            [](const StreamPluginBuild& b) -> std::shared_ptr<StreamPlugin> {
                const std::optional<LimitConnConf>& conf = b.route.plugins.limitConn;
                if (!conf)
                    return nullptr;
                // Same settings: the same counters, so connections admitted before the edit
                // still count against the limit after it.
                if (auto* old = dynamic_cast<LimitConnPlugin*>(b.previous.get());
                    old && old->given() == *conf)
                    return b.previous;
                return std::make_shared<LimitConnPlugin>(*conf);
            }};
}
} // namespace streamplugins

} // namespace sg
