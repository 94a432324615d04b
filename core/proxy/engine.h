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

#include <QObject>
#include <memory>

namespace sg {

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
    QList<Event> eventsSince(qint64 seq, int max = 1000) const;

    bool killConnection(quint64 id);       // false if no such open connection
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
    void publishTopology();
};

} // namespace sg
