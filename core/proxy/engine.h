#pragma once
// Engine is the stream proxy: listeners (QTcpServer / QUdpSocket) on an engine thread, byte
// relay on worker threads with an O(1)-per-event loop (epoll on Linux), APISIX matching,
// ip-restriction and limit-conn, balancing, retries and health checks. It is a client-agnostic
// core object: the GUI, the admin API and the headless logger drive it the same way.
// All public functions are thread-safe and may be called from any thread.

#include "model/streamroute.h"
#include "proxy/relayfilter.h"
#include "stats/snapshot.h"

#include <QObject>
#include <memory>
#include <vector>

namespace sg {

struct EngineOptions
{
    // Relay threads (each runs an event loop, accepts and relays); 0 = defaultWorkers(). The
    // environment variable STREAMGATE_WORKERS (1-256) overrides it.
    int workers = 0;
    int bufferSize = 64 * 1024; // per direction of a TCP session
    // What one direction's splice pipe may grow to while a bulk transfer keeps filling it and
    // its destination keeps up (back to bufferSize when it stalls or goes quiet). At most
    // bufferSize on the copy path; values below bufferSize mean bufferSize. The environment
    // variable STREAMGATE_BURST_BUFFER_KB overrides it.
    int burstBufferSize = 1024 * 1024;
    int closedHistory = 1000;          // closed connections kept for snapshots
    int eventHistory = 10000;          // events kept for eventsSince()
    int udpSessionCap = 10000;         // per route
    double defaultUdpIdleTimeout = 60; // seconds, when the upstream sets no timeout.read
    // Worker event loop: "epoll", "poll" (portable fallback), or empty for the environment
    // variable STREAMGATE_EVENT_LOOP when set, else the platform default (epoll on Linux).
    QString eventLoop;
    // Relay through kernel pipes with splice() on Linux; false copies through user-space
    // buffers (also chosen by STREAMGATE_RELAY=copy).
    bool splice = true;
    // Asked for the relay filters of every new TCP session, after the route's own (the MySQL
    // inspector); see proxy/relayfilter.h.
    std::vector<FilterProvider> filterProviders;
};

// One relay thread per core but one, at least one: the proxy shares the machine with its own
// GUI and engine threads and, usually, with the services it fronts and their clients. On 2
// cores one worker costs 14 % less CPU per connection than two and cuts the 8-client round
// trip p99 by 15 %, the other figures equal (tests/bench/README.md).
int defaultWorkers();

class EnginePrivate;

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

private:
    std::unique_ptr<EnginePrivate> d;
};

} // namespace sg
