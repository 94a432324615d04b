#pragma once
// UDP relay on a worker thread. A UdpListenerSession owns one bound listener descriptor (bound by
// QUdpSocket on the engine thread, then handed over) and every session of its clients; a session
// is (client ip, client port, listener) and lives on the listener's worker, so the client table
// needs no lock. Each UdpSession has its own connected upstream socket, so a reply belongs to
// exactly one client; replies leave through the listener socket to the client's address.
// Datagrams move in recvmmsg/sendmmsg batches through the listener's preallocated slots (one
// datagram per slot, boundaries kept): nothing is allocated per datagram. A refused client is
// remembered, so it costs one Deny event, and its further datagrams are only counted.
// A session of a route listed under streamgate.toxics runs its datagrams through the route's
// toxics (toxics/udptoxics.h); every other session pays one null check per datagram and batch.

#include "proxy/admission.h"
#include "proxy/routetable.h"
#include "proxy/toxics/udptoxics.h"
#include "proxy/worker.h"

#include <QHostAddress>
#include <QString>
#include <functional>
#include <memory>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unordered_map>
#include <vector>

namespace sg {

class ToxicBoard;

// Engine settings every UDP listener shares.
struct UdpContext
{
    StatsHub* hub = nullptr;
    const AdmissionPipeline* admission = nullptr;
    double defaultIdleSeconds = 60; // when the upstream sets no timeout
    // A session whose upstream has not answered yet ends after this long without traffic (or
    // after the read timeout, if shorter): a client that sends once and is never answered
    // holds a session and a descriptor for seconds, not for the whole read timeout.
    double noReplySeconds = 5;
    const ToxicBoard* toxics = nullptr; // streamgate.toxics; outlives the listeners
};

// A client's address and port in one fixed form (IPv4 as mapped IPv6), hashed without allocation.
struct UdpClientKey
{
    quint8 addr[16] = {};
    quint16 port = 0;
    bool operator==(const UdpClientKey& o) const;
    static UdpClientKey from(const sockaddr_storage& a);
};

struct UdpClientKeyHash
{
    size_t operator()(const UdpClientKey& k) const noexcept;
};

// The local address a datagram arrived on (IP_PKTINFO / IPV6_PKTINFO); needed for server_addr
// matching and as the reply's source when the listener is bound to a wildcard address.
struct UdpLocal
{
    int family = 0; // 0: unknown
    in_addr v4{};
    in6_addr v6{};
    int ifindex = 0;
};

class UdpSession;

class UdpListenerSession final : public WorkerSession, public IoHandler
{
public:
    static constexpr int kBatch = 16;
    static constexpr int kSlotSize = 65536; // > 65,507, the largest UDP payload over IPv4
    static constexpr int kPassBatches = 8;  // batches per readiness pass before yielding to others
    // Refusals that depend on load (session cap, limit-conn, drained, no descriptors) are
    // retried after this long, so a client gets in once room frees up, with at most one Deny
    // event per client per interval.
    static constexpr qint64 kLoadRetryMs = 1000;

    UdpListenerSession(Worker& worker, quint64 id, int fd, const QString& key,
                       std::shared_ptr<ListenerStats> stats,
                       std::shared_ptr<const UdpContext> context,
                       std::shared_ptr<const RouteTable> table);
    ~UdpListenerSession() override;

    bool start();
    // A new config: later first datagrams are routed by it; remembered refusals are forgotten so
    // allow-list edits apply to the next datagram of a refused client.
    void setTable(std::shared_ptr<const RouteTable> table);

    void onIo(IoWatch& watch, quint32 bits) override;
    void onTimer(quint32 tag) override;
    void close(CloseReason reason) override;
    QString routeId() const override { return QString(); }
    void resume() override;

    // Used by the sessions of this listener.
    void forget(const UdpClientKey& key);
    // Moves the datagrams waiting on a session's upstream socket to its client. Returns false
    // when the upstream socket reported an error (errno kept).
    enum class DownResult { Drained, MoreLeft, Error };
    DownResult relayDown(UdpSession& session, int upstreamFd);
    // One datagram to a session's client, from the address the client wrote to (the path of
    // datagrams a toxic held). False when it could not be sent (dropped, as UDP drops).
    bool sendToClient(const UdpSession& session, const char* data, size_t length);
    int fd() const { return m_watch.fd; }
    const QString& key() const { return m_key; }
    std::shared_ptr<ListenerStats> stats() const { return m_stats; }
    int sessions() const { return int(m_sessions.size()); }
    qint64 monoMs() const { return m_worker.monoMs(); }
    qint64 wallMs() const { return m_worker.wallMs(); }

private:
    struct Refused
    {
        std::shared_ptr<RouteStats> route; // nullptr: no route matched
        qint64 expiresMs = 0;
        qint64 holdMs = 0; // > 0: every datagram extends the hold
    };

    bool drain(); // true when the socket may still hold datagrams
    // The control message that makes a reply to `local` leave from it; returns its length.
    size_t replyControl(const UdpLocal& local, char* control) const;
    void handle(int slot, size_t length);
    void admit(const UdpClientKey& key, int slot, size_t length);
    void remember(const UdpClientKey& key, std::shared_ptr<RouteStats> route, qint64 holdMs,
                  bool extend);

    IoWatch m_watch;
    const QString m_key;
    std::shared_ptr<ListenerStats> m_stats;
    std::shared_ptr<const UdpContext> m_context;
    std::shared_ptr<const RouteTable> m_table;
    QHostAddress m_boundAddress;
    int m_boundFamily = AF_INET;
    int m_boundPort = 0;
    bool m_wildcard = false;
    bool m_closed = false;
    bool m_requeued = false;

    std::unordered_map<UdpClientKey, UdpSession*, UdpClientKeyHash> m_sessions;
    std::unordered_map<UdpClientKey, Refused, UdpClientKeyHash> m_refused;

    // Batch storage, allocated once: kBatch slots of kSlotSize bytes, their headers, addresses
    // and control buffers. Used for both directions (the worker runs one at a time).
    std::unique_ptr<char[]> m_slots;
    std::vector<mmsghdr> m_msgs;
    std::vector<iovec> m_iov;
    std::vector<sockaddr_storage> m_names;
    std::vector<char> m_control; // kControlSize per slot
    std::vector<UdpLocal> m_locals;

    friend class UdpSession;
};

struct UdpSessionSetup
{
    std::shared_ptr<RouteEntry> route;
    std::shared_ptr<ConnectionRecord> record;
    UdpClientKey key;
    sockaddr_storage client{};
    socklen_t clientLength = 0;
    UdpLocal local;
    // The session's upstream: the route's, or traffic-split's choice (kept alive by `route`)
    UpstreamEntry* upstream = nullptr;
    QString hashKey;
    AdmissionTicket admission;           // the plugins' hold on this session, released on close
    std::shared_ptr<RouteToxics> toxics; // the route's entry under streamgate.toxics, if any
    qint64 idleMs = 60000;               // once the upstream has answered
    qint64 noReplyMs = 5000;             // until then
};

class UdpSession final : public WorkerSession, public IoHandler, private DatagramSink
{
public:
    UdpSession(Worker& worker, UdpListenerSession* listener, UdpSessionSetup&& setup);
    ~UdpSession() override;

    // Picks the node and connects the upstream socket; false when it closed (ConnectFailed,
    // or NoDescriptors when the proxy is out of descriptors).
    bool start();
    // One datagram from the client toward the upstream (dropped when the socket is full).
    void sendUp(const char* data, size_t length);

    void onIo(IoWatch& watch, quint32 bits) override;
    void onTimer(quint32 tag) override;
    void close(CloseReason reason) override;
    QString routeId() const override;
    void resume() override;
    // The route's toxics changed (Worker::wakeRoutes): taken in now, even by a session that
    // started before its route was listed.
    void wake() override;

    // Whether replies go through toxics (toxicDown) rather than the listener's batch send: only
    // while a downstream toxic hits this session or holds something.
    bool repliesThroughToxics() const { return m_toxics && m_toxics->active(false); }
    // One datagram from the upstream toward the client, through the downstream toxics.
    void toxicDown(const char* data, size_t length);

    // The operator's pause: the session's datagrams are dropped both ways until it ends (a
    // network that loses everything for a while); the session itself stays.
    void pause(qint64 ms) override;
    void unpause() override;

    void detach() { m_listener = nullptr; } // the listener is closing
    const sockaddr_storage& client() const { return m_client; }
    socklen_t clientLength() const { return m_clientLength; }
    const UdpLocal& local() const { return m_local; }
    void countDown(quint64 datagrams, quint64 bytes);
    // Bytes of datagrams read from the upstream, delivered or not (the access log's
    // $upstream_bytes_received, handed to the record at close).
    void countReceivedDown(quint64 bytes);

private:
    enum TimerTag : quint32 { IdleTimer = 0, ToxicTimer = 1, PauseTimer = 2 };

    void sendToUpstream(const char* data, size_t length);
    void deliver(bool upstream, const char* data, size_t length) override;
    void afterToxics(); // lets go of the toxics when unneeded, else arms their timer
    void pumpDown();
    void dropDown();
    void touch();
    void armIdle(qint64 atMs);
    qint64 idleLimit() const { return m_answered ? m_idleMs : m_noReplyMs; }

    UdpListenerSession* m_listener;
    std::shared_ptr<RouteEntry> m_route;
    UpstreamEntry* m_upstream = nullptr; // the session's (see UdpSessionSetup::upstream)
    std::shared_ptr<ConnectionRecord> m_record;
    UdpClientKey m_key;
    sockaddr_storage m_client{};
    socklen_t m_clientLength = 0;
    UdpLocal m_local;
    QString m_hashKey;
    AdmissionTicket m_admission;
    const qint64 m_idleMs;
    const qint64 m_noReplyMs;
    bool m_answered = false; // the upstream has sent at least one datagram

    IoWatch m_watch;
    int m_node = -1;
    bool m_started = false;
    bool m_closed = false;
    bool m_requeued = false;
    qint64 m_lastMs = 0;
    qint64 m_lastWallMs = 0;
    std::unique_ptr<UdpToxics> m_toxics; // null while the route lists no toxic for UDP
    qint64 m_toxicTimerAt = 0;           // the earliest toxic timer armed, 0 for none
    qint64 m_pausedUntil = 0;            // monotonic ms; 0: not paused
    // Bytes read from each peer; plain, only this worker touches them, given to the record once.
    quint64 m_fromClient = 0;
    quint64 m_fromUpstream = 0;
};

} // namespace sg
