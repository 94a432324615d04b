#pragma once
// Engine is the stream proxy: listeners (QTcpServer / QUdpSocket) on an engine thread, byte
// relay on worker threads with an O(1)-per-event loop (epoll on Linux), APISIX matching, the
// stream plugins (ip-restriction, limit-conn), balancing, retries and health checks. It is a
// client-agnostic core object: the GUI, the admin API and the headless logger drive it the same
// way. All public functions are thread-safe and may be called from any thread.
//
// Its parts, each named after its job: EngineOptions (settings and environment overrides),
// buildRouteTable (a config compiled for the accept path), AdmissionPipeline (match, drained,
// stream plugins), TcpListeners and UdpListeners (the listener sets, on the engine thread), the
// Workers (accept and relay), HealthChecker and StatsHub.

#include "model/streamroute.h"
#include "proxy/engineoptions.h"
#include "stats/snapshot.h"

#include <QHostAddress>
#include <QObject>
#include <functional>
#include <memory>

namespace sg {

class ConnectionRecord;
class SqlStats;
class WorkerSession;

class Engine final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Engine)

public:
    explicit Engine(const EngineOptions& options = {}, QObject* parent = nullptr);
    ~Engine() override; // stops at once (Shutdown close reason)

    // Brings the running proxy in line with config: opens/closes listeners only when the
    // listener set changes; routes and upstreams that did not change keep their connections.
    // Returns once listeners are (re)bound; their state is in snapshot().listeners.
    void apply(const Config& config);

    Snapshot snapshot() const;
    // A route's MySQL or Postgres digests, errors and command counters (stats/sqlstats.h),
    // kept for as long as the engine runs, also across config changes; never null.
    std::shared_ptr<SqlStats> sqlStats(const QString& routeId, SqlProtocol protocol) const;
    // withTexts: as StatsHub::eventsSince.
    QList<Event> eventsSince(qint64 seq, int max = 1000, bool withTexts = true) const;
    // Something an operator did from outside the window (e.g. through the Toxiproxy API), as
    // an Info event in the event log; routeId may be empty.
    void recordOperatorEvent(const QString& routeId, const QString& text);

    // What an operator does to open connections (the connections table, the admin API). Each
    // is carried out on the session's worker soon after the call returns; false when there is
    // no such open connection.
    bool killConnection(quint64 id); // closes: both peers see the end (FIN)
    // TCP: both peers get a reset (RST); UDP: the session ends. Close reason OperatorReset.
    bool resetConnection(quint64 id);
    // TCP: neither peer is read for ms (bytes wait in the kernel buffers, flow control holds
    // the senders back), then the session resumes by itself; a pause that would end later
    // already stays. UDP: the session's datagrams are dropped both ways meanwhile. ms is
    // clamped to 1..kMaxPauseMs. ConnectionInfo::pausedUntilMs shows it.
    static constexpr qint64 kMaxPauseMs = 3600000;
    bool pauseConnection(quint64 id, qint64 ms);
    bool resumeConnection(quint64 id); // ends a pause now (true for an open one not paused)
    // The same for every open connection of one client address, on every route; the number of
    // connections acted on. An IPv4-mapped IPv6 address is the IPv4 address.
    int killClient(const QHostAddress& client);
    int resetClient(const QHostAddress& client);
    int pauseClient(const QHostAddress& client, qint64 ms);
    int resumeClient(const QHostAddress& client);
    int resumeAll(); // ends every pause now; the number of paused connections resumed

    int killRoute(const QString& routeId); // closes every connection of a route
    void setRouteDrained(const QString& routeId, bool drained); // refuse new connections

    // Stops accepting, lets sessions finish for up to graceMs, then closes the rest.
    void stop(int graceMs);

Q_SIGNALS:
    // Coalesced (at most a few per second): new events are available via eventsSince().
    void eventsAvailable();
    // Emitted from any thread by the stats hub's notifier; queued to this object's thread.
    void eventNoticeQueued(QPrivateSignal);

private:
    struct Parts; // engine.cpp
    std::unique_ptr<Parts> m;
    void applyOnEngineThread(const Config& config);
    // Runs fn on the worker of an open connection, with its session if it is still there.
    bool post(const ConnectionRecord& record, const std::function<void(WorkerSession&)>& fn);
    bool onSession(quint64 id, const std::function<void(WorkerSession&)>& fn);
    // The same for every open connection `which` picks; how many it picked.
    int onOpen(const std::function<bool(const ConnectionRecord&)>& which,
               const std::function<void(WorkerSession&)>& fn);
    int onClient(const QHostAddress& client, const std::function<void(WorkerSession&)>& fn);
    void publishTopology();
};

} // namespace sg
