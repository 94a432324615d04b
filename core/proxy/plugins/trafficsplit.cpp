// traffic-split (APISIX priority 966, preread): picks the session's upstream. The rules are
// tried in order, as APISIX's traffic-split.lua tries them: a rule without `match` takes the
// session; a rule with `match` takes it when one of its `vars` expressions holds (model/varexpr.h),
// and an empty `match` keeps what the rule before it decided. The rule that takes the session
// picks one of its weighted_upstreams by smooth weighted round robin (nginx's: each pick adds
// every entry's weight to its running score and takes the highest score, first entry on a tie,
// then takes the total off the winner), one sequence per rule shared by every session of the
// route, starting from zero when the config is applied. As in APISIX's resty.roundrobin, a
// weight 0 entry is never picked while another has a weight; a rule whose every weight is 0
// takes its entries in turn; entries naming the same upstream_id (or several with only a
// weight) are one entry with the last one's weight. An entry with an upstream_id or an
// inline upstream gives that upstream to the session (Admission::upstream: its balancer, retries,
// timeouts and health checks, its chash key); one with only a weight, or no rule taking the
// session, leaves the route's own. A rule any of whose upstream_ids names no upstream closes
// the session when it is tried, as APISIX ends it with 500.

#include "model/varexpr.h"
#include "proxy/routetable.h"
#include "proxy/streamplugin.h"

#include <QHash>
#include <memory>
#include <mutex>
#include <vector>

namespace sg {

namespace {

struct SplitRule
{
    bool hasMatch = false;
    std::vector<VarExpression> match;
    QString missingId;                     // an upstream_id of the rule that names no upstream
    std::vector<UpstreamEntry*> upstreams; // per entry (null: the route's own)
    std::vector<qint64> weights;
    qint64 total = 0;
    // The smooth weighted round robin's running scores, guarded by `mutex`.
    std::unique_ptr<std::mutex> mutex = std::make_unique<std::mutex>();
    std::vector<qint64> current;

    // The entry the next session gets; -1 when the rule has none.
    qsizetype pick()
    {
        if (weights.empty())
            return -1;
        std::lock_guard lock(*mutex);
        // Every weight 0: APISIX's resty.roundrobin then takes them all in turn (a single
        // entry always), so they count as equal here.
        const bool allZero = total <= 0;
        const qint64 sum = allZero ? qint64(weights.size()) : total;
        qsizetype best = -1;
        for (size_t i = 0; i < weights.size(); ++i) {
            const qint64 w = allZero ? 1 : weights[i];
            if (w <= 0)
                continue;
            current[i] += w;
            if (best < 0 || current[i] > current[size_t(best)])
                best = qsizetype(i);
        }
        current[size_t(best)] -= sum;
        return best;
    }
};

class TrafficSplitPlugin final : public StreamPlugin
{
public:
    TrafficSplitPlugin(const TrafficSplitConf& conf, const SplitUpstreams& upstreams)
        : m_conf(conf), m_upstreams(upstreams)
    {
        for (qsizetype r = 0; r < conf.rules.size(); ++r) {
            const TrafficSplitRule& given = conf.rules.at(r);
            SplitRule rule;
            rule.hasMatch = given.match.has_value();
            if (given.match) {
                for (const QJsonArray& vars : *given.match) {
                    // Checked by the codec: a failure here matches no session.
                    if (auto expr = VarExpression::compile(vars, QString(), {}, nullptr))
                        rule.match.push_back(std::move(*expr));
                }
            }
            const QList<SplitUpstream> resolved =
                r < upstreams.size() ? upstreams.at(r) : QList<SplitUpstream>();
            // APISIX keys its round robin by upstream_id, and every entry with only a weight by
            // one key: entries with the same key are one entry, with the last one's weight.
            QHash<QString, size_t> byKey;
            for (qsizetype e = 0; e < given.weightedUpstreams.size(); ++e) {
                const TrafficSplitUpstream& w = given.weightedUpstreams.at(e);
                const SplitUpstream s = e < resolved.size() ? resolved.at(e) : SplitUpstream();
                if (!s.missingId.isEmpty() && rule.missingId.isEmpty())
                    rule.missingId = s.missingId;
                QString key;
                if (!w.upstreamId.isUndefined() && !w.upstreamId.isNull())
                    key = QStringLiteral("id:") + idText(w.upstreamId);
                else if (!w.upstream)
                    key = QStringLiteral("route");
                if (!key.isEmpty()) {
                    if (const auto it = byKey.constFind(key); it != byKey.constEnd()) {
                        rule.weights[*it] = w.weight;
                        continue;
                    }
                    byKey.insert(key, rule.weights.size());
                }
                rule.upstreams.push_back(s.upstream.get());
                rule.weights.push_back(w.weight);
            }
            for (const qint64 weight : rule.weights)
                rule.total += qMax<qint64>(0, weight);
            rule.current.assign(rule.weights.size(), 0);
            m_rules.push_back(std::move(rule));
        }
    }

    bool sameAs(const TrafficSplitConf& conf, const SplitUpstreams& upstreams) const
    {
        return m_conf == conf && m_upstreams == upstreams;
    }

    PrereadVerdict preread(const StreamClient& client, const QString& routeId, RouteStats&,
                           QString&) override
    {
        const auto lookup = [&](const QString& name) {
            return name == QLatin1String("route_id") ? routeId : streamVariable(name, client);
        };
        bool passed = true; // as APISIX's match_passed, carried from one rule to the next
        for (SplitRule& rule : m_rules) {
            if (!rule.missingId.isEmpty())
                return PrereadVerdict::refuse(
                    CloseReason::ConnectFailed,
                    QStringLiteral("traffic-split on route %1: failed to fetch upstream info by "
                                   "upstream id: %2")
                        .arg(routeId, rule.missingId),
                    false);
            if (rule.hasMatch) {
                for (const VarExpression& expr : rule.match) {
                    passed = expr.eval(lookup);
                    if (passed)
                        break;
                }
                if (!passed)
                    continue;
            }
            const qsizetype chosen = rule.pick();
            PrereadVerdict v = PrereadVerdict::admit();
            if (chosen >= 0)
                v.upstream = rule.upstreams[size_t(chosen)];
            return v;
        }
        return PrereadVerdict::admit(); // no rule took the session: the route's own upstream
    }

private:
    const TrafficSplitConf m_conf;
    const SplitUpstreams m_upstreams; // keeps the chosen upstreams alive for the sessions
    std::vector<SplitRule> m_rules;
};

} // namespace

namespace streamplugins {
StreamPluginType trafficsplit()
{
    return {QStringLiteral("traffic-split"), 966,
            [](const StreamPluginBuild& b) -> std::shared_ptr<StreamPlugin> {
                if (!b.route.plugins.trafficSplit)
                    return nullptr;
                const SplitUpstreams none;
                const SplitUpstreams& upstreams = b.splitUpstreams ? *b.splitUpstreams : none;
                // The same rules over the same upstreams go on with the same sequences.
                if (const auto* previous = dynamic_cast<TrafficSplitPlugin*>(b.previous.get());
                    previous && previous->sameAs(*b.route.plugins.trafficSplit, upstreams))
                    return b.previous;
                return std::make_shared<TrafficSplitPlugin>(*b.route.plugins.trafficSplit,
                                                            upstreams);
            }};
}
} // namespace streamplugins

} // namespace sg
