#pragma once
// Immutable pictures of the engine's state, taken by consumers (GUI, admin API, metrics,
// headless logger) at their own rate. Plain values: copying one never touches the engine.
// Byte counters are "up" = client -> upstream, "down" = upstream -> client.

#include "stats/redisstats.h"
#include "stats/shareddetail.h"
#include "stats/sqlstats.h"

#include <QHostAddress>
#include <QList>
#include <QString>
#include <QStringList>
#include <optional>

namespace sg {

// The null address every default below starts from. A default QHostAddress allocates its own
// private part; a copy of this one only takes a reference, and each setter of QHostAddress
// detaches before it writes, so a copy that is set never changes this one.
const QHostAddress& nullAddress();

enum class Protocol : quint8 { Tcp, Udp };
enum class ConnectionState : quint8 { Connecting, Established, HalfClosed, Closed };
enum class CloseReason : quint8 {
    None,
    ClientClosed,
    UpstreamClosed,
    ClientReset,
    UpstreamReset,
    IdleTimeout,
    ConnectFailed,
    DeniedIpRestriction,
    Limited,
    Killed,
    Shutdown,
    UpstreamError, // UDP: ICMP error from the upstream
    SessionCap,    // UDP: the route's session cap was reached
    NoRoute,
    NoDescriptors,  // the proxy had no descriptor left for the connection
    InjectedReset,  // a relay filter reset both peers (e.g. a fault injected on purpose)
    OperatorReset,  // reset from the connections table or the admin API (TCP: RST to both peers)
    BadProxyHeader, // a listener with proxy_protocol: no valid header came in time
    BadMqttConnect, // mqtt-proxy: no valid MQTT CONNECT came in time, or not the one expected
    // A listener with tls: the handshake failed (OpenSSL's reason in the event), no enabled
    // ssl has a certificate for the client's SNI, the ssl's client.ca wanted a client
    // certificate and none came or it did not verify; a TLS error inside a running session.
    TlsHandshakeFailed,
    TlsNoCertificate,
    TlsClientCertMissing,
    TlsClientCertUntrusted,
    TlsError,
    // An upstream with scheme "tls": the handshake with the node failed (OpenSSL's reason in
    // the event), its certificate did not verify (tls.verify), it refused the proxy's client
    // certificate or wanted one and none was configured. With retries, the last attempt's.
    UpstreamTlsFailed,
    UpstreamCertUntrusted,
    UpstreamClientCertRefused,
    // A route with database_tls and database_server_tls "require" or "verify": the database
    // server did not offer TLS (PostgreSQL answered 'N' to the SSLRequest).
    UpstreamNoTls,
    // A listener with tls_passthrough: the client sent no TLS ClientHello (plaintext, a
    // malformed one, or none in time); or no route took its ClientHello without SNI.
    TlsNoClientHello,
    TlsNoSni,
};
// Who ended a session first: the peer whose FIN or reset came first, or the proxy (a timeout,
// a refusal, a kill, a shutdown, a fault). A session whose client sent its FIN first and whose
// upstream then reset says Client here and UpstreamReset as its CloseReason.
enum class ClosedBy : quint8 { None, Client, Upstream, Proxy };
// Where the session was when it ended: refused before any upstream was chosen (Admission),
// while connecting to the upstream (Connect), connected but before any byte came from either
// peer (BeforeFirstByte), or after (Data).
enum class ClosePhase : quint8 { None, Admission, Connect, BeforeFirstByte, Data };
QString toString(Protocol protocol);     // "TCP", "UDP"
QString toString(ConnectionState state); // "connecting", "established", "half-closed", "closed"
QString toString(CloseReason reason);    // "client closed", "denied by ip-restriction", ...
QString toString(ClosedBy closedBy);     // "client", "upstream", "proxy" ("" for None)
// "admission", "connect", "before_first_byte", "data" ("" for None)
QString toString(ClosePhase phase);
// The side a close reason itself names: Client for a client FIN or reset, Upstream for an
// upstream FIN, reset, ICMP error or failed connect, Proxy for the rest; None for None.
ClosedBy closedByOf(CloseReason reason);

// The MQTT CONNECT a client opened with, read by the mqtt-proxy plugin before admission.
struct MqttInfo
{
    bool detected = false;
    QString protocolName;  // "MQTT" (3.1.1, 5.0), "MQIsdp" (3.1)
    int protocolLevel = 0; // 3, 4 (3.1.1) or 5
    QString clientId;      // may be empty (the server assigns one)
    bool operator==(const MqttInfo&) const = default;
};

// A client of a listener with tls, or of a route with database_tls: its handshake as the proxy
// terminated it; or, passed through (tls_passthrough), the SNI its ClientHello carried (nothing
// else is known).
struct TlsInfo
{
    bool terminated = false;
    bool passthrough = false;
    QString sni;               // lower case; what routes' sni matched
    QString version;           // "TLSv1.3"
    QString cipher;            // OpenSSL's name, "TLS_AES_256_GCM_SHA384"
    QString clientCertificate; // the verified client certificate's subject (mTLS), or ""
    bool resumed = false;      // by a session ticket
    // Database TLS (streamgate.routes.<id>.database_tls): Streamgate answered the database
    // client's request for TLS itself, with a certificate of its development CA.
    bool developmentCa = false;
    bool operator==(const TlsInfo&) const = default;
};

// The proxy's own TLS to the upstream (scheme "tls"), once its handshake is done.
struct UpstreamTlsInfo
{
    bool used = false;
    QString sni;                    // sent; "apisix_backend" when the client gave none (as APISIX)
    QString version;                // "TLSv1.3"
    QString cipher;                 // OpenSSL's name
    QString serverCertificate;      // the upstream certificate's subject
    bool verified = false;          // tls.verify was on and the certificate verified
    bool clientCertificate = false; // the upstream asked for a client certificate and got one
    bool operator==(const UpstreamTlsInfo&) const = default;
};

// What the MySQL inspector learned about a connection (empty when not MySQL or not inspected).
struct MySqlInfo
{
    bool detected = false;
    QString serverVersion;
    quint32 connectionId = 0;
    QString user;
    QString database;
    bool tls = false;
    bool commandsCounted = false; // `commands` is a count: counting on, the session not TLS
    quint64 commands = 0;
    QString lastCommand; // "COM_QUERY", ...
    qint64 lastCommandMs = 0;
    // With query digests on (streamgate.routes.<id>.mysql_digests) and the login done:
    bool statementsFollowed = false;
    QString statement;           // the normalised statement waiting for its response, if any
    qint64 statementSinceMs = 0; // when it was sent
    QString lastError;           // "1062 (23000): Duplicate entry ..." of the last ERR
    QString notFollowed;         // why the commands stopped being followed ("compressed protocol")
};

// What the PostgreSQL reader (proxy/pgtracker.h) learns of a connection: the startup and the
// login, then, with query digests on (streamgate.routes.<id>.postgres_digests), each command.
struct PostgresInfo
{
    bool detected = false; // the client opened with a PostgreSQL startup packet
    QString user;
    QString database;
    QString applicationName;
    QString serverVersion; // the server_version the server reported after the login
    // the server saw TLS: it accepted the client's SSLRequest (or GSSAPI encryption), or
    // Streamgate's own (database_server_tls, an upstream with scheme "tls")
    bool tls = false;
    bool cancelRequest = false;
    QString loginError; // "28P01: password authentication failed for user ..."
    bool statementsFollowed = false;
    quint64 commands = 0;        // answered so far (with digests on)
    QString statement;           // the statement waiting for its answer, if any
    qint64 statementSinceMs = 0; // when it was sent
    QString lastError;           // "ERROR 42P01: relation \"t\" does not exist"
    QString notFollowed;         // why the connection stopped being followed
};

// What the Redis reader follows of a connection (routes with protocol "redis").
struct RedisInfo
{
    bool followed = false;
    quint64 commands = 0;      // answered so far
    QString command;           // the command waiting for its reply ("get user:1"), if any
    qint64 commandSinceMs = 0; // when it was sent
    QString lastCommand;       // the last one answered
    QString lastError;         // the last error reply ("WRONGTYPE Operation against ...")
    QString notFollowed;       // why the commands stopped being followed ("MONITOR: ...")
};

// The program on this machine that owns a client's socket (stats/clientresolver.h finds it).
// pid is 0 when it is not known: not looked up yet, a client on the network, or not found,
// and then `unknown` says why when a lookup ran ("another user's process (uid 1001)").
struct ClientProcess
{
    qint64 pid = 0;
    QString name;    // /proc/PID/comm
    QString cmdline; // /proc/PID/cmdline, arguments separated by spaces, bounded
    QString unknown; // why pid is 0 after a lookup; empty otherwise
    bool operator==(const ClientProcess&) const = default;
};

struct ProxyHeaderInfo
{
    QHostAddress address = nullAddress();
    quint16 port = 0;
    QHostAddress serverAddress = nullAddress();
    quint16 serverPort = 0;
};

struct ConnectionInfo
{
    quint64 id = 0;
    QString routeId;
    Protocol protocol = Protocol::Tcp;
    QString listener; // "127.0.0.1:13306" or "13306"
    QHostAddress clientAddress = nullAddress();
    quint16 clientPort = 0;
    QHostAddress localAddress = nullAddress();
    quint16 localPort = 0;
    // The TCP peer itself when a trusted PROXY protocol header gave clientAddress (a tunnel or
    // load balancer); null otherwise.
    QHostAddress peerAddress = nullAddress();
    quint16 peerPort = 0;
    // On a listener with proxy_protocol: what the client's header carried, believed or not
    // ($proxy_protocol_addr, _port, _server_addr, _server_port); null addresses for a header
    // without any (v1 UNKNOWN, v2 LOCAL). Unset on other listeners.
    std::optional<ProxyHeaderInfo> proxyHeader;
    QString upstreamNode; // "127.0.0.1:3306" (empty until chosen)
    // Nodes tried before upstreamNode whose connect failed (upstream.retries), oldest first.
    QStringList failedUpstreams;
    ConnectionState state = ConnectionState::Connecting;
    CloseReason closeReason = CloseReason::None;
    ClosedBy closedBy = ClosedBy::None;       // set when the session ends
    ClosePhase closePhase = ClosePhase::None; // set when the session ends
    qint64 startMs = 0;                       // ms since epoch
    qint64 connectMs = -1;                    // upstream connect duration, -1 until connected
    // The timers, in ms after startMs: when the connect attempt that succeeded began (after
    // failed attempts and a limit-conn delay), and when the first byte came from the client and
    // from the upstream; -1 while none did. For UDP, the client's first datagram is the one
    // that opened the session.
    qint64 upstreamStartMs = -1;
    qint64 firstByteUpMs = -1;
    qint64 firstByteDownMs = -1;
    qint64 lastActivityMs = 0;
    qint64 endMs = 0; // 0 while open
    quint64 bytesUp = 0;
    quint64 bytesDown = 0;
    // Bytes read from the client and from the upstream, set when the session ends (0 while it
    // is open). They differ from bytesUp/bytesDown, what was written on, by what filters and
    // toxics dropped or added and by what was still held when the session ended.
    quint64 bytesFromClient = 0;
    quint64 bytesFromUpstream = 0;
    quint64 datagramsUp = 0; // UDP only
    quint64 datagramsDown = 0;
    quint64 buffered = 0; // bytes the proxy holds for this session now (both directions)
    // While paused from the connections table or the admin API: when it resumes by itself
    // (ms since epoch); 0 when not paused.
    qint64 pausedUntilMs = 0;
    // What only some connections learn, out of line until set (stats/shareddetail.h).
    SharedDetail<MySqlInfo> mysql;
    SharedDetail<PostgresInfo> postgres;
    SharedDetail<RedisInfo> redis;
    SharedDetail<MqttInfo> mqtt;               // set at admission, never changes
    SharedDetail<TlsInfo> tls;                 // set at admission, never changes
    SharedDetail<UpstreamTlsInfo> upstreamTls; // set once the upstream's TLS handshake is done
    // Who the client is, filled in the background shortly after the connection opened: the
    // owning program of a client on this machine, the reverse-DNS name of one on the network
    // (empty while unresolved and when it has none).
    SharedDetail<ClientProcess> clientProcess;
    QString clientHost;
};

struct RouteCounters
{
    QString routeId;
    quint64 total = 0; // sessions accepted onto the route (after plugins)
    quint64 active = 0;
    quint64 maxActive = 0;
    quint64 deniedIpRestriction = 0;
    quint64 limited = 0; // refused by limit-conn (or the UDP session cap)
    quint64 delayed = 0; // delayed by limit-conn burst
    quint64 connectFailures = 0;
    quint64 timeouts = 0; // idle and connect timeouts
    quint64 bytesUp = 0;
    quint64 bytesDown = 0;
    quint64 deniedDatagrams = 0; // UDP
    quint64 deniedBytes = 0;     // UDP
    // With query digests on: per MySQL command, its count, time and latency buckets.
    QList<SqlCommandCounters> mysqlCommands;
    QList<SqlCommandCounters> postgresCommands; // the same for routes with postgres_digests on
    // Routes with protocol "redis": per command, its count, errors and latency buckets.
    QList<RedisCommandCounters> redisCommands;
};

struct ListenerStatus
{
    Protocol protocol = Protocol::Tcp;
    QString address; // as in stream_proxy: "13306", "127.0.0.1:13306", "[::1]:13306"
    int port = 0;
    bool listening = false;
    QString error; // OS error text when not listening
    quint64 noRoute = 0;
    quint64 noDescriptors = 0; // clients refused because the proxy was out of descriptors
    quint64 active = 0;
    quint64 bytesUp = 0;   // written to upstreams
    quint64 bytesDown = 0; // written to clients
    // Read from clients and from upstreams: exact for ended sessions, and an open session's
    // bytes once relayed (what the proxy holds for it is counted when it is written on).
    quint64 bytesFromClient = 0;
    quint64 bytesFromUpstream = 0;
};

// Sessions that ended with one nginx stream status on one listener and node, as APISIX's
// apisix_stream_status counts them (apisixStreamStatusCode()).
struct StreamStatusCount
{
    int code = 200;
    QString listener; // as ListenerStatus::address
    QString node;     // "127.0.0.1:3306"; empty when the session ended before one was picked
    quint64 count = 0;
};

// A node's state under an active health check, in lua-resty-healthcheck's (APISIX's) terms:
// "mostly_healthy" is a healthy node that has begun to fail probes, "mostly_unhealthy" an
// unhealthy one that has begun to pass them. Both "healthy" states take traffic.
enum class NodeHealth : quint8 { Healthy, Unhealthy, MostlyHealthy, MostlyUnhealthy };
QString toString(NodeHealth health); // "healthy", "unhealthy", "mostly_healthy", ...

// Whether a node answers a TCP connect: the reachability probe's last result
// (proxy/upstreamprober.h), or for a node under an active health check, the check's state.
// Unknown until the first result.
enum class NodeReach : quint8 { Unknown, Answering, NotAnswering };

struct NodeStatus
{
    QString upstream; // upstream id, or "route:<id>" / "service:<id>" for an inline upstream
    QString node;     // "127.0.0.1:3306"
    quint64 active = 0;
    quint64 total = 0;
    quint64 failures = 0;
    bool healthy = true;
    bool checked = false; // an active health check runs for it
    // The health check's view (meaningful when checked): its state and its consecutive
    // counters, which APISIX's control API shows as counter.success / tcp_failure /
    // http_failure / timeout_failure. A counter only moves while it can change the state:
    // successes are not counted on a healthy node, failures not on an unhealthy one.
    NodeHealth health = NodeHealth::Healthy;
    quint32 checkSuccesses = 0;
    quint32 checkTcpFailures = 0;
    quint32 checkHttpFailures = 0;
    quint32 checkTimeouts = 0;
    // Its host as resolved for traffic ("127.0.0.1" for "localhost"); empty when it does not
    // resolve.
    QString ip = {};
    NodeReach reach = NodeReach::Unknown;
    // Why it does not answer ("connection refused", "no answer within 2 s", "health check: 3
    // failed connects"); empty while it answers.
    QString reachError = {};
};

// Refused attempts grouped by client IP and route (the GUI's "Denied clients" view).
struct DeniedClient
{
    QString clientIp;
    QString routeId; // empty for "no route"
    QString listener;
    CloseReason reason = CloseReason::DeniedIpRestriction;
    quint64 count = 0;
    qint64 firstSeenMs = 0;
    qint64 lastSeenMs = 0;
    // Who made the latest refused attempt (as ConnectionInfo::clientProcess / clientHost).
    ClientProcess clientProcess;
    QString clientHost;
};

// One toxic of one route (streamgate.toxics) and what it does now. A connection is "hit" by a
// toxic when the toxic acts on it: enabled, the connection's client among its clients, and
// drawn by its toxicity; the others pass untouched and are not counted.
struct ToxicStatus
{
    QString routeId;
    QString name;
    QString type;   // "latency", "bandwidth", ...
    QString stream; // "upstream" (client -> server) or "downstream"
    bool enabled = true;
    QList<quint64> hitting; // ids of the open connections it hits now, ascending
    quint64 hitTotal = 0;   // connections it has hit since it was added
    quint64 bytesHeld = 0;  // bytes it holds back now, over every connection it hits
};

enum class EventKind : quint8 {
    Open,
    Close,
    Deny,
    NodeUp,
    NodeDown,
    ListenerUp,
    ListenerError,
    Info
};
QString toString(EventKind kind);

struct Event
{
    qint64 seq = 0; // strictly increasing
    qint64 timeMs = 0;
    EventKind kind = EventKind::Info;
    QString routeId;
    QString text;              // human-readable one-liner
    ConnectionInfo connection; // filled for Open / Close / Deny
};

struct Snapshot
{
    qint64 takenMs = 0;
    QList<ConnectionInfo> active; // open connections / live UDP sessions, by id
    QList<ConnectionInfo> closed; // most recent closed ones (bounded ring), oldest first
    QList<RouteCounters> routes;
    QList<ListenerStatus> listeners;
    QList<NodeStatus> nodes;
    QList<DeniedClient> denied;
    QList<ToxicStatus> toxics;             // by route id, then in chain order
    QList<StreamStatusCount> streamStatus; // by code, listener, node
    qint64 lastEventSeq = 0;
};

} // namespace sg
