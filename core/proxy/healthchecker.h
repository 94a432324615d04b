#pragma once
// Active health checks (APISIX checks.active). Each node of a watched upstream is probed every
// healthy.interval / unhealthy.interval seconds, as lua-resty-healthcheck (APISIX's checker)
// probes it: type "tcp" with a plain connect; type "http" (APISIX's default) by sending
// "<http_method> <http_path> HTTP/1.1" with Connection: close, req_headers and Host (the
// node's host name, else checks.active.host, else its address) and reading the status line. A
// status in healthy.http_statuses is a success, one in unhealthy.http_statuses (or a line that
// is no status line) an HTTP failure, any other status counts nothing. A refused connect, or a
// connection that fails or closes before the status line, counts against
// unhealthy.tcp_failures; running out of checks.active.timeout (for the connect, then again
// for the request and its status line) against unhealthy.timeouts (default 3); a success
// towards healthy.successes. Reaching a limit sets the node unhealthy or healthy, and a first
// result against the state makes it mostly_healthy or mostly_unhealthy (which keep taking or
// refusing traffic as before). A success clears the failure counters and a failure the success
// counter; results that cannot change the state (successes on a healthy node, failures on an
// unhealthy one) are not counted. A change between taking and refusing traffic is pushed into
// the upstream's Balancer and announced by nodeHealthChanged. Nodes start healthy, as in
// APISIX. A probe reads at most kMaxStatusLine bytes of the answer.
// checks.passive adds the failures of real sessions (reportFailure, from the workers) to the
// same counters, against its own limits (unhealthy.tcp_failures, unhealthy.timeouts), as
// lua-resty-healthcheck counts a passive report; a stream session reports no successes, so a
// node passive reports set down comes back through the active probes.
// Lives on one thread (the engine's) and must be called there. Re-watching an upstream keeps
// the state and schedule of every node whose address is unchanged.

#include "model/streamroute.h"
#include "stats/snapshot.h"

#include <QHash>
#include <QObject>
#include <QString>
#include <QStringList>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace sg {

class Balancer;
class NodeProbe;

class HealthChecker final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HealthChecker)

public:
    // What a probe or a passive report counts as, lua-resty-healthcheck's counters.
    enum class Result { Success, TcpFailure, HttpFailure, Timeout };

    struct NodeState
    {
        NodeHealth health = NodeHealth::Healthy;
        int successes = 0;    // since the last failure (not counted while healthy)
        int tcpFailures = 0;  // refused or failed connects since the last success
        int httpFailures = 0; // unhealthy statuses (or no status line) since the last success
        int timeouts = 0;     // probes out of time since the last success
        Result last = Result::Success; // the result counted last: what made the latest change
        // Takes traffic: healthy or mostly_healthy.
        bool healthy() const
        {
            return health == NodeHealth::Healthy || health == NodeHealth::MostlyHealthy;
        }
    };
    // How much of an HTTP probe's answer is read: the status line, or its first bytes.
    static constexpr int kMaxStatusLine = 4096;

    explicit HealthChecker(QObject* parent = nullptr);
    ~HealthChecker() override;

    // Starts checking an upstream, or brings its checks in line with a changed config: probes of
    // nodes whose address stays keep their counters, state and timer; new nodes start healthy;
    // gone nodes stop. The balancer (which may be a new one) receives the current health of
    // every node at once. An upstream without checks.active is unwatched.
    // upstreamKey is the caller's name for the upstream (its id, "route:<id>" or "service:<id>"
    // when inline).
    void watch(const QString& upstreamKey, const Upstream& upstream,
               std::shared_ptr<Balancer> balancer);
    void unwatch(const QString& upstreamKey);

    // How long one second of checks.active's healthy and unhealthy intervals lasts: 1000 ms,
    // shortened by tests so that a run of probes does not take seconds. Applies to upstreams
    // watched afterwards.
    void setIntervalSecondMs(int ms) { m_intervalSecondMs = ms; }
    // Unwatches every upstream not in keys (after a config change).
    void retainOnly(const QStringList& keys);

    // checks.passive: a session's connect to the node failed (timedOut: out of time). Any
    // thread; counted on the checker's thread soon after. Ignored for an upstream that is not
    // watched or has no checks.passive, and for a node it does not have.
    void reportFailure(const QString& upstreamKey, const QString& nodeAddress, bool timedOut);

    QStringList watchedUpstreams() const;
    // nodeAddress as Node::address() writes it ("127.0.0.1:3306", "[::1]:3306").
    std::optional<NodeState> nodeState(const QString& upstreamKey,
                                       const QString& nodeAddress) const;

Q_SIGNALS:
    void nodeHealthChanged(const QString& upstreamKey, const QString& nodeAddress, bool healthy);
    // Every finished probe (for logs and the GUI; a few per second at most). passed: it counted
    // as a success (connected; for HTTP, a status in healthy.http_statuses).
    void nodeProbed(const QString& upstreamKey, const QString& nodeAddress, bool passed);
    // A reported failure was counted (checks.passive).
    void nodeReported(const QString& upstreamKey, const QString& nodeAddress, bool timedOut);

private:
    int m_intervalSecondMs = 1000;
    struct Watched;
    struct Report
    {
        QString upstreamKey;
        QString nodeAddress;
        bool timedOut = false;
    };
    Q_INVOKABLE void takeReports();
    void onProbeFinished(const QString& upstreamKey, NodeProbe* probe, bool passed, bool changed);
    void pushState(const Watched& watched, const QString& nodeAddress, bool healthy) const;

    QHash<QString, std::shared_ptr<Watched>> m_watched;
    std::mutex m_reportsLock; // guards m_reports, which any thread appends to
    std::vector<Report> m_reports;
};

} // namespace sg
