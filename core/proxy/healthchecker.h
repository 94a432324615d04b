#pragma once
// Active TCP health checks (APISIX checks.active, type tcp). Each node of a watched upstream is
// probed with a plain connect every healthy.interval / unhealthy.interval seconds, bounded by
// checks.active.timeout; healthy.successes consecutive successes mark it up, unhealthy.tcp_failures
// consecutive failures mark it down. A state change is pushed into the upstream's Balancer and
// announced by nodeHealthChanged. Nodes start healthy, as in APISIX.
// Lives on one thread (the engine's) and must be called there. Re-watching an upstream keeps
// the state and schedule of every node whose address is unchanged.

#include "model/streamroute.h"

#include <QHash>
#include <QObject>
#include <QString>
#include <QStringList>
#include <memory>
#include <optional>

namespace sg {

class Balancer;
class NodeProbe;

class HealthChecker final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HealthChecker)

public:
    struct NodeState
    {
        bool healthy = true;
        int successes = 0; // consecutive, since the last failure
        int failures = 0;  // consecutive, since the last success
    };

    explicit HealthChecker(QObject* parent = nullptr);
    ~HealthChecker() override;

    // Starts checking an upstream, or brings its checks in line with a changed config: probes of
    // nodes whose address stays keep their counters, state and timer; new nodes start healthy;
    // gone nodes stop. The balancer (which may be a new one) receives the current health of
    // every node at once. An upstream without checks.active of type tcp is unwatched.
    // upstreamKey is the caller's name for the upstream (its id, or "route:<id>" when inline).
    void watch(const QString& upstreamKey, const Upstream& upstream,
               std::shared_ptr<Balancer> balancer);
    void unwatch(const QString& upstreamKey);
    // Unwatches every upstream not in keys (after a config change).
    void retainOnly(const QStringList& keys);

    QStringList watchedUpstreams() const;
    // nodeAddress as Node::address() writes it ("127.0.0.1:3306", "[::1]:3306").
    std::optional<NodeState> nodeState(const QString& upstreamKey,
                                       const QString& nodeAddress) const;

Q_SIGNALS:
    void nodeHealthChanged(const QString& upstreamKey, const QString& nodeAddress, bool healthy);
    // Every finished probe (for logs and the GUI; a few per second at most).
    void nodeProbed(const QString& upstreamKey, const QString& nodeAddress, bool reachable);

private:
    struct Watched;
    void onProbeFinished(const QString& upstreamKey, NodeProbe* probe, bool reachable,
                         bool changed);
    void pushState(const Watched& watched, const QString& nodeAddress, bool healthy) const;

    QHash<QString, std::shared_ptr<Watched>> m_watched;
};

} // namespace sg
