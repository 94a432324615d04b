#pragma once
// UpstreamProber tells whether the nodes of the upstreams in use answer at all: a TCP connect of
// its own, closed as soon as it succeeds, that runs out of time after timeoutMs. A node is
// probed when its route or upstream is applied (created, changed, at start), soon after a
// session's connect to it failed, and again while it does not answer, at retryMs doubling up to
// maxRetryMs, so it turns good by itself once its service starts. A node that answers is not
// probed again until one of those happens. Nodes of an upstream with checks.active are not
// given to it: the health checker already has their state.
// It never touches a session or its bytes: non-blocking sockets of its own, at most
// kMaxInFlight connecting at once (the rest wait their turn). Each result goes into the node's
// stats (NodeStats::reach), where snapshots read it; a change between answering and not
// answering is announced by reachChanged (not every probe).
// Lives on one thread (the engine's, never the GUI's) and must be called there, except
// connectFailed, which any thread may call.

#include "stats/snapshot.h"

#include <QHash>
#include <QHostAddress>
#include <QObject>
#include <QString>
#include <memory>
#include <mutex>
#include <vector>

namespace sg {

struct NodeStats;
class ReachProbe;

class UpstreamProber final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UpstreamProber)

public:
    struct Options
    {
        int timeoutMs = 2000;   // a connect neither accepted nor refused by then: no answer
        int retryMs = 2000;     // first re-probe of a node that does not answer
        int maxRetryMs = 30000; // the re-probe interval doubles up to this
    };
    struct Target
    {
        QString upstream;     // UpstreamEntry::key
        QString node;         // "127.0.0.1:3306"
        QHostAddress address; // null: the host name does not resolve
        quint16 port = 0;
        std::shared_ptr<NodeStats> stats; // where the result goes; may be null
        // Probe now even when it is known: its route or upstream was just created or changed.
        bool fresh = false;
    };
    static constexpr int kMaxInFlight = 16;

    explicit UpstreamProber(const Options& options, QObject* parent = nullptr);
    ~UpstreamProber() override;

    // The nodes to probe from now on. A node not known before, or fresh, is probed at once; a
    // known one keeps its state and schedule (its address, when it changed, from the next
    // probe); a node not listed is forgotten.
    void setTargets(const std::vector<Target>& targets);
    // A session's connect to the node failed: probed soon, at most once per retryMs (a burst
    // of failures is one probe). Any thread; unknown nodes are ignored.
    void connectFailed(const QString& upstream, const QString& node);

    // The last result (Unknown before the first one, or for a node not probed) and its error.
    NodeReach reach(const QString& upstream, const QString& node) const;
    QString error(const QString& upstream, const QString& node) const;
    int probesStarted() const { return m_started; }

Q_SIGNALS:
    // A node stopped answering (also the first result when it does not answer) or answers
    // again. error says why it does not ("connection refused", "no answer within 2 s").
    void reachChanged(const QString& upstream, const QString& node, bool answering,
                      const QString& error);
    // Every finished probe (tests, logs).
    void probed(const QString& upstream, const QString& node, bool answering);

private:
    friend class ReachProbe;
    Q_INVOKABLE void takeFailures();
    void request(ReachProbe* probe); // starts it, or queues it while kMaxInFlight run
    void startWaiting();
    void finished(ReachProbe* probe, bool answering, const QString& error);

    const Options m_options;
    QHash<QString, ReachProbe*> m_probes; // "upstream\nnode" -> probe (a child of this object)
    std::vector<ReachProbe*> m_waiting;   // requested while kMaxInFlight were running
    int m_inFlight = 0;
    int m_started = 0;
    std::mutex m_failuresLock;       // guards m_failures, which any thread appends to
    std::vector<QString> m_failures; // "upstream\nnode"
};

} // namespace sg
