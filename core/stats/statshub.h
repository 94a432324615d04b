#pragma once
// StatsHub holds the engine's live statistics: the registry of open connections, counters per
// route / listener / node, the denied-clients table, and bounded rings of closed connections and
// events. The byte path never locks: a connection's counters are single-writer relaxed atomics
// owned by the worker that runs it; opening, closing, denials and events take one short mutex.
// snapshot() copies everything into a plain Snapshot and is safe from any thread.

#include "stats/clientresolver.h"
#include "stats/redisstats.h"
#include "stats/snapshot.h"
#include "stats/sqlstats.h"

#include <QContiguousCache>
#include <QHash>
#include <QMutex>
#include <QString>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <tuple>

namespace sg {

// A counter with one writer (the worker owning it) and any number of readers: the update is a
// plain load + store, no locked instruction on the byte path.
struct RelaxedCounter
{
    std::atomic<quint64> value{0};
    void add(quint64 n)
    {
        value.store(value.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    void set(quint64 n) { value.store(n, std::memory_order_relaxed); }
    quint64 get() const { return value.load(std::memory_order_relaxed); }
};

// Per route id; survives config edits so counters do not restart when a route is edited.
struct RouteStats
{
    std::atomic<quint64> total{0}, active{0}, maxActive{0}, deniedIpRestriction{0}, limited{0},
        delayed{0}, connectFailures{0}, timeouts{0}, closedBytesUp{0}, closedBytesDown{0};
    // UDP: datagrams/bytes dropped from refused clients, and live sessions (for the session cap)
    std::atomic<quint64> deniedDatagrams{0}, deniedBytes{0};
    std::atomic<int> udpSessions{0};
    // The route's upstream greeted as a MySQL server the last time the MySQL inspector saw
    // one answer (proxy/mysqlrefusal.h: refused clients are then told why in MySQL's words).
    std::atomic<bool> mysqlUpstream{false};
    SqlStats mysql;    // digests, errors and command counters (routes with mysql_digests on)
    SqlStats postgres; // the same for PostgreSQL (routes with postgres_digests on)
    SqlStats& sql(SqlProtocol p) { return p == SqlProtocol::MySql ? mysql : postgres; }
    RedisStats redis; // commands and their latency (routes with protocol "redis")
    void opened();
    void add(std::atomic<quint64>& c, quint64 n = 1) { c.fetch_add(n, std::memory_order_relaxed); }
};

struct ListenerStats
{
    std::atomic<quint64> noRoute{0}, noDescriptors{0}, active{0}, closedBytesUp{0},
        closedBytesDown{0}, closedFromClient{0}, closedFromUpstream{0};
};

struct NodeStats
{
    std::atomic<quint64> active{0}, total{0}, failures{0};
    // The active health check's view (NodeStatus::health and check*), written on the engine
    // thread after each probe.
    std::atomic<NodeHealth> health{NodeHealth::Healthy};
    std::atomic<quint32> checkSuccesses{0}, checkTcpFailures{0}, checkHttpFailures{0},
        checkTimeouts{0};
    // NodeStatus::reach and reachError, written on the engine thread after each probe.
    std::atomic<NodeReach> reach{NodeReach::Unknown};
    void setReach(NodeReach value, const QString& error);
    QString reachError() const;

private:
    mutable QMutex m_reachLock;
    QString m_reachError;
};

// One open connection (or UDP session). `base` is filled before registration and not changed
// afterwards; everything that moves is atomic or under the record's own small lock.
class ConnectionRecord
{
public:
    // id, routeId, protocol, listener, addresses, startMs (fixed once published), and what the
    // setters below write under m_mutex.
    ConnectionInfo base;
    RelaxedCounter bytesUp, bytesDown, datagramsUp, datagramsDown, buffered, lastActivityMs;
    // Set once, by the worker, just before closed(): ConnectionInfo::bytesFromClient/Upstream.
    RelaxedCounter bytesFromClient, bytesFromUpstream;
    std::atomic<qint64> connectMs{-1};
    // ConnectionInfo::upstreamStartMs, firstByteUpMs, firstByteDownMs (ms after base.startMs),
    // each written once by the worker: a first byte is noted on the read that brings it, and
    // nothing is done for the reads after it.
    std::atomic<qint64> upstreamStartMs{-1}, firstByteUpMs{-1}, firstByteDownMs{-1};
    // Set by the worker just before closed() when it knows better than the close reason which
    // peer ended the session first (a FIN, then the other side's reset or a timeout).
    ClosedBy closedBy = ClosedBy::None;
    std::atomic<ConnectionState> state{ConnectionState::Connecting};
    std::atomic<qint64> pausedUntilMs{0}; // ConnectionInfo::pausedUntilMs, set by its worker
    int worker = -1;                      // which worker runs it (kill routing)
    std::shared_ptr<RouteStats> route;
    std::shared_ptr<ListenerStats> listener;

    // Each call is one connect attempt: the node of the attempt before it, which failed, is
    // kept in ConnectionInfo::failedUpstreams.
    void setUpstreamNode(const QString& node);
    QString upstreamNode() const;
    // Notes the first byte from the client (up) or the upstream at wall time nowMs, unless one
    // was noted already; off the byte path but for the read that finds none noted.
    void noteFirstByte(bool up, qint64 nowMs)
    {
        std::atomic<qint64>& at = up ? firstByteUpMs : firstByteDownMs;
        if (at.load(std::memory_order_relaxed) < 0)
            at.store(qMax<qint64>(0, nowMs - base.startMs), std::memory_order_relaxed);
    }
    // Written by the worker while the MySQL inspector learns something, read by snapshots.
    void setMySql(const MySqlInfo& mysql);
    MySqlInfo mySql() const;
    // Written by the worker as the PostgreSQL reader learns something.
    void setPostgres(const PostgresInfo& postgres);
    // Written by the worker when a MySQL client's TLS is answered by Streamgate in the session
    // (database TLS): it then replaces base.tls in info().
    void setTls(const TlsInfo& tls);
    // Written by the worker as the Redis reader follows commands (routes with protocol "redis").
    void setRedis(const RedisInfo& redis);
    // Written by the worker once the upstream's TLS handshake is done (scheme "tls").
    void setUpstreamTls(const UpstreamTlsInfo& tls);
    // Written by the client resolver's thread once it knows who the client is.
    void setClient(const ClientProcess& process, const QString& host);
    ConnectionInfo info() const;

private:
    // Guards what the setters write into base after the record is published (upstreamNode,
    // failedUpstreams, mysql, postgres, redis, upstreamTls, clientProcess, clientHost; one copy
    // per connection, not a second set beside base's) and m_tls; info() copies base under it.
    // base's other fields never change once the record is published, so the worker reads them
    // without it.
    mutable QMutex m_mutex;
    SharedDetail<TlsInfo> m_tls; // set by setTls()
};

class StatsHub
{
public:
    StatsHub(int closedHistory, int eventHistory);
    ~StatsHub();
    Q_DISABLE_COPY_MOVE(StatsHub)

    // From now on every opened connection and refused client is handed to a ClientResolver,
    // which fills ConnectionInfo / DeniedClient::clientProcess and clientHost in the background.
    // Call once, before connections arrive.
    void resolveClients(ClientResolver::Options options = {});

    static qint64 nowMs();

    std::shared_ptr<RouteStats> routeStats(const QString& routeId);
    std::shared_ptr<ListenerStats> listenerStats(const QString& listener);
    std::shared_ptr<NodeStats> nodeStats(const QString& upstream, const QString& node);

    quint64 nextConnectionId() { return m_nextId.fetch_add(1, std::memory_order_relaxed); }

    // Registers an open connection (route/listener active counts, Open event).
    void opened(const std::shared_ptr<ConnectionRecord>& record);
    // Unregisters it: final counters into the route/listener totals, closed ring, Close event.
    void closed(const std::shared_ptr<ConnectionRecord>& record, CloseReason reason);
    // A refused attempt (no route, ip-restriction, limit-conn): denied table + Deny event.
    void denied(const ConnectionInfo& info, const QString& text);

    std::shared_ptr<ConnectionRecord> find(quint64 id) const;
    QList<std::shared_ptr<ConnectionRecord>> openRecords() const;
    int openCount() const;

    qint64 addEvent(EventKind kind, const QString& routeId, const QString& text,
                    const ConnectionInfo& connection = {});
    // The Open and Close events' texts are written on the way out, unless the reader has no
    // use for them (withTexts false: an access log formats the connection itself).
    QList<Event> eventsSince(qint64 seq, int max, bool withTexts = true) const;
    qint64 lastEventSeq() const;
    // Called (from the thread that added the event) when an event arrives while none was
    // pending; the consumer calls takeEventNotice() once it has announced them.
    void setEventNotifier(std::function<void()> notifier);
    void takeEventNotice() { m_eventNoticePending.store(false); }

    // What the current config shows; snapshot() lists routes, listeners and nodes from it.
    struct NodeEntry
    {
        QString upstream;
        QString node;
        QString ip;
        std::shared_ptr<NodeStats> stats;
        std::function<bool()> healthy;
        bool checked = false;
    };
    struct ListenerEntry
    {
        ListenerStatus status; // address, port, listening, error
        std::shared_ptr<ListenerStats> stats;
    };
    void setTopology(const QStringList& routeIds, const QList<ListenerEntry>& listeners,
                     const QList<NodeEntry>& nodes);

    Snapshot snapshot() const;

private:
    void pushEventLocked(Event&& event);

    std::atomic<quint64> m_nextId{1};

    mutable QMutex m_mutex;
    std::map<quint64, std::shared_ptr<ConnectionRecord>> m_open;
    // Rings of fixed capacity: a full one overwrites its oldest entry in place (a deque of
    // entries this large allocated and freed one block per entry).
    QContiguousCache<ConnectionInfo> m_closed;
    QContiguousCache<Event> m_events;
    qint64 m_lastSeq = 0;
    QHash<QString, std::shared_ptr<RouteStats>> m_routes;
    QHash<QString, std::shared_ptr<ListenerStats>> m_listeners;
    QHash<QString, std::shared_ptr<NodeStats>> m_nodes;
    QHash<QString, DeniedClient> m_denied; // key: ip + '\n' + routeId
    // Ended sessions by (code, listener, node): Snapshot::streamStatus.
    std::map<std::tuple<int, QString, QString>, quint64> m_streamStatus;
    QStringList m_routeOrder;
    QList<ListenerEntry> m_listenerEntries;
    QList<NodeEntry> m_nodeEntries;

    std::function<void()> m_notifier;
    std::atomic<bool> m_eventNoticePending{false};
    // Last member: destroyed (its thread stopped) first, while the hub it fills still exists.
    std::unique_ptr<ClientResolver> m_resolver;
};

} // namespace sg
