#include "proxy/plugins/limitconn.h"

#include "proxy/streamplugin.h"
#include "proxy/streamvariables.h"
#include "stats/statshub.h"

#include <QMutexLocker>
#include <cmath>

namespace sg {

namespace {

// What a session holds: "<rule>:<length>:<key>" for each rule that counted it.
void appendHeld(QString& held, int rule, const QString& key)
{
    held += QString::number(rule) + u':' + QString::number(key.size()) + u':' + key;
}

class LimitConnPlugin final : public StreamPlugin
{
public:
    explicit LimitConnPlugin(const LimitConnConf& conf) : m_given(conf), m_limit(conf) {}
    const LimitConnConf& given() const { return m_given; }

    PrereadVerdict preread(const StreamClient& client, const QString& routeId, RouteStats& stats,
                           QString& held) override
    {
        const LimitConn::Admission a = m_limit.acquire(client);
        if (!a.admitted) {
            stats.add(stats.limited);
            const QString which = m_limit.conf().rules.isEmpty()
                                      ? QStringLiteral("key %1").arg(a.key)
                                      : QStringLiteral("rules[%1], key %2").arg(a.rule).arg(a.key);
            return PrereadVerdict::refuse(
                CloseReason::Limited,
                QStringLiteral("limit-conn on route %1 (%2)").arg(routeId, which), true);
        }
        held = a.held;
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
    const auto add = [this](LimitConnRule limit, bool combination, bool fallbackToClient) {
        limit.conn = qMax(1, limit.conn); // validation requires conn > 0; never divide by zero
        limit.burst = qMax(0, limit.burst);
        m_counters.push_back({std::move(limit), combination, fallbackToClient, {}});
    };
    if (m_conf.rules.isEmpty()) {
        add({m_conf.conn, m_conf.burst, m_conf.key}, m_conf.keyType == u"var_combination", true);
    } else {
        for (const LimitConnRule& rule : m_conf.rules)
            add(rule, true, false);
    }
}

QString LimitConn::keyFor(const StreamClient& client, int rule) const
{
    const Counter& counter = m_counters.at(size_t(rule));
    QString key;
    if (counter.combination) {
        int resolved = 0;
        key = resolveStreamVariables(counter.limit.key, client, &resolved);
        if (resolved == 0)
            key = QString();
    } else {
        key = streamVariable(counter.limit.key, client);
    }
    if (key.isEmpty() && counter.fallbackToClient)
        key = streamVariable(QStringLiteral("remote_addr"), client);
    return key;
}

LimitConn::Admission LimitConn::acquire(const StreamClient& client)
{
    std::vector<QString> keys;
    keys.reserve(m_counters.size());
    for (int i = 0; i < int(m_counters.size()); ++i)
        keys.push_back(keyFor(client, i));

    Admission admission;
    QMutexLocker lock(&m_mutex);
    for (int i = 0; i < int(m_counters.size()); ++i) {
        if (keys[size_t(i)].isNull())
            continue; // a rule whose key resolves nothing does not apply
        Counter& counter = m_counters[size_t(i)];
        const QString& key = keys[size_t(i)];
        const int count = counter.active.value(key, 0);
        const int next = count + 1;
        if (next > counter.limit.conn + counter.limit.burst) {
            for (int j = 0; j < i; ++j) // the rules counted so far give their count back
                if (!keys[size_t(j)].isNull())
                    releaseLocked(j, keys[size_t(j)]);
            return {false, 0, key, i, count, QString()};
        }
        counter.active[key] = next;
        appendHeld(admission.held, i, key);
        if (admission.key.isNull()) {
            admission.key = key;
            admission.rule = i;
            admission.concurrent = next;
        }
        if (next > counter.limit.conn)
            admission.delaySeconds +=
                m_conf.defaultConnDelay * std::floor(double(next - 1) / counter.limit.conn);
    }
    // No rule applied: APISIX refuses the connection (its key holds nothing, none is named).
    admission.admitted = !admission.held.isEmpty();
    return admission;
}

void LimitConn::releaseLocked(int rule, const QString& key)
{
    QHash<QString, int>& active = m_counters[size_t(rule)].active;
    auto it = active.find(key);
    if (it == active.end())
        return;
    if (--it.value() <= 0)
        active.erase(it);
}

void LimitConn::release(const QString& held)
{
    QMutexLocker lock(&m_mutex);
    for (qsizetype at = 0; at < held.size();) {
        const qsizetype colon = held.indexOf(u':', at);
        const qsizetype second = colon < 0 ? -1 : held.indexOf(u':', colon + 1);
        if (second < 0)
            return;
        bool ruleOk = false;
        bool lengthOk = false;
        const int rule = QStringView(held).mid(at, colon - at).toInt(&ruleOk);
        const qsizetype length =
            QStringView(held).mid(colon + 1, second - colon - 1).toLongLong(&lengthOk);
        if (!ruleOk || !lengthOk || rule < 0 || rule >= int(m_counters.size()) || length < 0 ||
            second + 1 + length > held.size())
            return; // not something acquire() gave out
        releaseLocked(rule, held.mid(second + 1, length));
        at = second + 1 + length;
    }
}

int LimitConn::active(const QString& key, int rule) const
{
    QMutexLocker lock(&m_mutex);
    return m_counters.at(size_t(rule)).active.value(key, 0);
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
