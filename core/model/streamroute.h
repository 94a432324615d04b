#pragma once
// The APISIX stream data model: stream_route, upstream, service and the stream plugins
// Streamgate runs. Field names follow APISIX's schema_def.lua exactly. Value types only: decoding,
// validation and encoding live in codec.h; matching lives in proxy/.
// Invariant: a value that came out of the decoder is valid and re-encodes to the same JSON
// (fields given as strings stay strings, nodes given as a map stay a map, ...). Optional
// fields are written back when they differ from their default/empty value, or when their
// name is in `explicitFields` (given with the default value, e.g. "priority": 0).

#include "model/settings.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QMap>
#include <QString>
#include <QStringList>
#include <optional>

namespace sg {

using Labels = QMap<QString, QString>;

// An id (string or integer, as APISIX allows) as the text it is looked up by, as APISIX keys
// its etcd entries by the id's text; "" when absent or neither.
QString idText(const QJsonValue& id);

struct Node
{
    QString host;     // IPv6 without brackets
    int port = 0;     // 1-65535
    int weight = 1;   // >= 0; 0 is never chosen
    int priority = 0; // higher tiers are tried first
    QJsonObject metadata;
    QStringList explicitFields; // array form: "priority"/"metadata" given with default value

    QString address() const; // "host:port", IPv6 bracketed: "[::1]:3306"
    bool operator==(const Node&) const = default;
};

struct Timeout
{
    double connect = 60; // seconds, > 0
    double send = 600;
    double read = 600;
    bool operator==(const Timeout&) const = default;
};

// checks.active. type "http" (APISIX's default) probes with an HTTP request and judges the
// status line; "tcp" with a plain connect ("https" is refused by the codec). The fields the
// checker reads from `extra` (as given, so they are written back unchanged) have accessors
// that give APISIX's default when the field is absent.
struct ActiveHealthCheck
{
    QString type = "http";
    double timeout = 1;           // seconds
    int healthyInterval = 1;      // seconds between probes of a healthy node
    int healthySuccesses = 2;     // successes to mark a node up
    int unhealthyInterval = 1;    // seconds between probes of an unhealthy node
    int unhealthyTcpFailures = 2; // failed connects (or sends, reads) to mark a node down
    QJsonObject extra;            // other APISIX fields, preserved for export
    QStringList explicitFields;   // e.g. "timeout", "healthy.interval" given with default value

    bool http() const { return type == QLatin1String("http"); }
    int port() const;                       // the port probed instead of the node's; 0: the node's
    QString host() const;                   // the Host of HTTP probes; empty: the node's
    QString httpMethod() const;             // "GET"
    QString httpPath() const;               // "/"
    QString httpReqBody() const;            // ""
    QStringList reqHeaders() const;         // "Name: value" lines, as given
    QList<int> healthyHttpStatuses() const; // [200, 302]
    QList<int> unhealthyHttpStatuses() const; // [429, 404, 500, 501, 502, 503, 504, 505]
    int unhealthyHttpFailures() const;        // 5
    int unhealthyTimeouts() const;            // 3
    bool operator==(const ActiveHealthCheck&) const = default;
};

// checks.passive: the failures of real sessions count against a node as well. In a stream
// proxy only failures are reported (as in APISIX, nothing reports a passive success), so a node
// set down this way comes back through the active checks.
struct PassiveHealthCheck
{
    int unhealthyTcpFailures = 2; // failed connects to mark a node down (0: not counted)
    int unhealthyTimeouts = 7;    // connects out of time to mark a node down (0: not counted)
    QJsonObject given;            // checks.passive as given, written back unchanged
    bool operator==(const PassiveHealthCheck&) const = default;
};

// An upstream's `tls` (APISIX's schema_def.lua): what a `scheme: "tls"` upstream presents and
// checks when it reaches its nodes over TLS (proxy/tlsclient.h). client_cert + client_key (PEM,
// both or neither) or client_cert_id (an ssl of type "client", not with the other two) give the
// client certificate for upstreams that ask for one (mTLS); verify checks the node's certificate
// against the trusted CAs (streamgate.ssl_trusted_certificate, APISIX's
// apisix.ssl.ssl_trusted_certificate). A `tls` on an upstream without scheme "tls" is kept and
// unused, as in APISIX (the config check says so).
struct UpstreamTls
{
    QJsonValue clientCertId{QJsonValue::Undefined}; // string or integer as given
    QString clientCert;                             // PEM
    QString clientKey;                              // PEM private key
    std::optional<bool> verify;                     // default false, as APISIX's
    bool verifies() const { return verify.value_or(false); }
    bool hasClientCert() const { return !clientCert.isEmpty() || !clientCertId.isUndefined(); }
    bool operator==(const UpstreamTls&) const = default;
};

struct Upstream
{
    // string or integer as given; Undefined when absent (inline upstreams usually have none)
    QJsonValue id{QJsonValue::Undefined};
    QString name;
    QString desc;
    Labels labels;
    QString type = "roundrobin"; // roundrobin | chash | least_conn
    QList<Node> nodes;
    bool nodesAsMap = true;     // encode back in the form it was given
    QString hashOn;             // chash: "vars" (default) ...
    QString key;                // chash: e.g. "remote_addr"
    std::optional<int> retries; // default: nodes - 1
    std::optional<double> retryTimeout;
    std::optional<Timeout> timeout;
    std::optional<ActiveHealthCheck> checks;         // checks.active
    std::optional<PassiveHealthCheck> passiveChecks; // checks.passive (only beside checks.active)
    QString scheme; // "tcp" | "udp" | "tls" (stream); empty = not given
    std::optional<UpstreamTls> tls;
    qint64 createTime = 0;
    qint64 updateTime = 0;
    QStringList explicitFields; // optional fields given with their default/empty value

    QString idString() const; // id as text ("" when none)
    bool reachedOverTls() const { return scheme == QLatin1String("tls"); }
    int effectiveRetries() const { return retries.value_or(qMax(0, int(nodes.size()) - 1)); }
    Timeout effectiveTimeout() const { return timeout.value_or(Timeout{60, 600, 600}); }
    bool operator==(const Upstream&) const = default;
};

struct IpRestrictionConf
{
    QStringList whitelist; // exactly one of whitelist / blacklist is non-empty
    QStringList blacklist;
    QString message;
    bool operator==(const IpRestrictionConf&) const = default;
};

// One of limit-conn's `rules`: its own conn and burst, counted per value of `key`, a template
// of stream variables such as "$remote_addr:$server_port".
struct LimitConnRule
{
    int conn = 0;  // > 0
    int burst = 0; // >= 0
    QString key;
    bool operator==(const LimitConnRule&) const = default;
};

struct LimitConnConf
{
    int conn = 0;                // > 0
    int burst = 0;               // >= 0
    double defaultConnDelay = 0; // > 0 seconds
    QString key = "remote_addr";
    QString keyType = "var"; // var | var_combination
    bool onlyUseDefaultDelay = false;
    // Given: every rule counts and all must admit, and conn, burst and key (still required, as
    // APISIX's stream schema requires them) are not used.
    QList<LimitConnRule> rules;
    bool operator==(const LimitConnConf&) const = default;
};

// APISIX's stream prometheus: Streamgate counts every route whether or not it is given; the
// plugin changes only the `route` label of apisix_stream_connection_total (api/prometheus.cpp).
struct PrometheusConf
{
    bool preferName = false; // label with the route's name (when it has one) instead of its id
    bool operator==(const PrometheusConf&) const = default;
};

// APISIX's stream syslog: one JSON entry per session, built from `log_format`, sent as an
// RFC 5424 message to a syslog server over TCP or UDP in batches (APISIX's batch processor:
// a batch goes when it holds batch_max_size entries, when no entry came for inactive_timeout
// seconds, or buffer_duration seconds after its first entry; a failed batch is tried again
// max_retry_count times, retry_delay seconds apart).
struct SyslogConf
{
    QString host;
    int port = 0;
    QString sockType = QStringLiteral("tcp"); // tcp | udp
    int flushLimit = 4096;                    // bytes written to the socket at a time
    int dropLimit = 1048576;                  // bytes of one batch beyond which entries drop
    int timeoutMs = 3000;                     // connect and send
    int poolSize = 5;
    // key -> "$variable", a constant, or a nested object. Without one, the route takes
    // plugin_metadata's (Config::effectiveRoute); with neither it logs nothing, as in APISIX.
    std::optional<QJsonObject> logFormat;
    // The batch processor's settings.
    QString name = QStringLiteral("stream sys logger");
    int maxRetryCount = 0;
    int retryDelay = 1;      // seconds
    int bufferDuration = 60; // seconds
    int inactiveTimeout = 5; // seconds
    int batchMaxSize = 1000;
    // From plugin_metadata (not part of the route's conf): messages that may wait to be sent.
    int maxPendingEntries = 8192;
    bool operator==(const SyslogConf&) const = default;
};

// APISIX's mqtt-proxy: the client's MQTT CONNECT is read before the session (up to its client
// identifier, which becomes mqtt_client_id for a chash upstream), and a client whose protocol
// name or level differs is refused.
struct MqttProxyConf
{
    QString protocolName = QStringLiteral("MQTT");
    int protocolLevel = 0; // required
    bool operator==(const MqttProxyConf&) const = default;
};

// APISIX's traffic-split: each new session tries the rules in order; the first that matches
// (no `match`, or one of its match entries' `vars` expression holds for the session) picks
// one of its weighted_upstreams by weighted round robin: an upstream_id names a shared
// upstream, an inline upstream is the rule's own, an entry with only a weight is the route's
// own upstream. No rule matching: the route's own upstream.
struct TrafficSplitUpstream
{
    QJsonValue upstreamId{QJsonValue::Undefined}; // wins over `upstream` when both are given
    std::optional<Upstream> upstream;
    int weight = 1;           // >= 0; 0: chosen only when every entry of the rule has 0
    bool weightGiven = false; // written back even when 1
    bool operator==(const TrafficSplitUpstream&) const = default;
};

struct TrafficSplitRule
{
    // Each match entry's `vars` (a lua-resty-expr expression, checked by model/varexpr.h), as
    // given; nullopt: the rule has no `match` and takes every session.
    std::optional<QList<QJsonArray>> match;
    // As given, or APISIX's default [{"weight": 1}] (the route's own upstream).
    QList<TrafficSplitUpstream> weightedUpstreams{TrafficSplitUpstream{}};
    bool weightedUpstreamsGiven = false;
    bool operator==(const TrafficSplitRule&) const = default;
};

struct TrafficSplitConf
{
    QList<TrafficSplitRule> rules;
    bool rulesGiven = false; // {"rules": []} is written back as given
    bool operator==(const TrafficSplitConf&) const = default;
};

struct Plugins
{
    std::optional<IpRestrictionConf> ipRestriction; // "ip-restriction"
    std::optional<LimitConnConf> limitConn;         // "limit-conn"
    std::optional<PrometheusConf> prometheus;       // "prometheus"
    std::optional<SyslogConf> syslog;               // "syslog"
    std::optional<MqttProxyConf> mqttProxy;         // "mqtt-proxy"
    std::optional<TrafficSplitConf> trafficSplit;   // "traffic-split"
    QJsonObject raw; // the plugins object exactly as given (for lossless re-encode)
    bool empty() const
    {
        return !ipRestriction && !limitConn && !prometheus && !syslog && !mqttProxy &&
               !trafficSplit;
    }
    bool operator==(const Plugins& o) const
    {
        return ipRestriction == o.ipRestriction && limitConn == o.limitConn &&
               prometheus == o.prometheus && syslog == o.syslog && mqttProxy == o.mqttProxy &&
               trafficSplit == o.trafficSplit;
    }
};

// protocol: {"name": "redis", "conf": {"faults": [...]}} (APISIX's xRPC Redis protocol): each
// fault delays the client's matching commands before they reach the server.
struct RedisFault
{
    QStringList commands; // lower case, as matched
    QString key;          // empty: any key (and commands that take none)
    double delay = 0;     // seconds
    bool operator==(const RedisFault&) const = default;
};

struct RedisProtocolConf
{
    QList<RedisFault> faults;
    bool operator==(const RedisProtocolConf&) const = default;
};

struct StreamRoute
{
    // string 1-64 of [a-zA-Z0-9-_.] or integer >= 1, kept as given; Undefined when absent
    QJsonValue id{QJsonValue::Undefined};
    QString name;
    QString desc;
    Labels labels;
    QString remoteAddr;            // IPv4/IPv6 with optional CIDR; empty = any
    QString serverAddr;            // idem, compared with the local address
    std::optional<int> serverPort; // 1-65535
    QString sni;
    // tls_passthrough (APISIX with apache/apisix#13912): on a listener with both tls and
    // tls_passthrough, this route's clients are passed through encrypted instead of terminated.
    std::optional<bool> tlsPassthrough;
    std::optional<Upstream> upstream;             // inline upstream
    QJsonValue upstreamId{QJsonValue::Undefined}; // or a reference to a shared one
    QJsonValue serviceId{QJsonValue::Undefined};  // the service it takes what it lacks from
    Plugins plugins;
    QJsonObject protocol; // as given (for lossless re-encode)
    // protocol.name "redis", decoded; the only xRPC protocol Streamgate runs.
    std::optional<RedisProtocolConf> redis;
    qint64 createTime = 0; // set by the store
    qint64 updateTime = 0;
    QStringList explicitFields; // optional fields given with their default/empty value

    QString idString() const;
    QString displayName() const { return name.isEmpty() ? idString() : name; }
    bool operator==(const StreamRoute&) const = default;
};

// APISIX's service, the part a stream route uses: an upstream (inline or by upstream_id) and
// plugins that every route naming it in service_id takes. The route's own upstream or
// upstream_id wins, and of the plugins both configure, the route's conf (Config::effectiveRoute).
// APISIX's HTTP-only service fields (hosts, enable_websocket, script) are refused by the codec.
struct Service
{
    QJsonValue id{QJsonValue::Undefined}; // string or integer as given
    QString name;
    QString desc;
    Labels labels;
    std::optional<Upstream> upstream;             // inline upstream
    QJsonValue upstreamId{QJsonValue::Undefined}; // or a reference to a shared one
    Plugins plugins;
    qint64 createTime = 0; // set by the store
    qint64 updateTime = 0;
    QStringList explicitFields; // optional fields given with their default/empty value

    QString idString() const;
    bool operator==(const Service&) const = default;
};

// APISIX's ssl object: a certificate and its private key (PEM), the names (`sni` or `snis`, a
// leading "*." for one label) a TLS listener presents it for, more pairs in `certs`/`keys` (one
// per key type, e.g. RSA and ECDSA), `client.ca` (+ `depth`) to require and verify client
// certificates (mTLS), `ssl_protocols` to narrow the TLS versions. Type "client" objects are
// the client certificate an upstream's tls.client_cert_id names. The PEM texts are checked (parse,
// key matches certificate) by config/sslcheck.h, which links OpenSSL; the model keeps them as text.
struct SslClient
{
    QString ca;                  // PEM, one or more CA certificates
    int depth = 1;               // verify depth (APISIX's default 1)
    QJsonArray skipMtlsUriRegex; // HTTP only in APISIX: kept, no effect on a stream
    QStringList explicitFields;  // "depth" given with its default
    bool operator==(const SslClient&) const = default;
};

struct Ssl
{
    QJsonValue id{QJsonValue::Undefined}; // string or integer as given
    QString name;                         // never set: APISIX's ssl has no name (decodeHead)
    QString desc;
    Labels labels;
    QString type = QStringLiteral("server"); // server | client
    QString cert;                            // PEM
    QString key;                             // PEM private key
    QString sni;                             // one of sni / snis (server)
    QStringList snis;
    QStringList certs; // more certificate/key pairs, certs[i] with keys[i]
    QStringList keys;
    std::optional<SslClient> client;
    int status = 1;           // 1 enabled, 0 disabled
    QStringList sslProtocols; // "TLSv1.1", "TLSv1.2", "TLSv1.3"; empty: not given
    qint64 createTime = 0;    // set by the store
    qint64 updateTime = 0;
    QStringList explicitFields; // optional fields given with their default/empty value

    QString idString() const;
    bool isServer() const { return type == QLatin1String("server"); }
    // The names it is presented for, lower case and without a trailing dot, as APISIX's
    // ssl_filter stores them.
    QStringList serverNames() const;
    bool operator==(const Ssl&) const = default;
};

// One entry of stream_proxy.tcp / .udp: a port, "ip:port", or (TCP) APISIX's object form
// {addr, tls, proxy_protocol, proxy_protocol_to_upstream}. The PROXY protocol settings are kept
// as written (unset: off, as in APISIX without apisix.proxy_protocol); `tls: true` makes the
// listener terminate TLS with the config's ssls (proxy/tlsserver.h).
// The port may be a range, as in APISIX 3.17: "2000-2100", "127.0.0.1:2000-2100",
// "[::1]:2000-2100" (in the object form, in `addr`). A range listens on every port from `port`
// to `portEnd` with the same settings, one socket per port (singlePorts()), and a route's
// server_port matches the port a client connected to, as for a single port. A range holds at
// most kMaxRangePorts ports; two entries of one list may not share a port on the same address
// (config/configcheck.cpp).
struct ListenEntry
{
    // Each port of a range is one listening socket, so one descriptor for as long as the
    // listener is up: wider ranges are refused rather than eating the descriptors sessions need.
    static constexpr int kMaxRangePorts = 1024;

    QString host;    // empty = all addresses (APISIX listens on 0.0.0.0 for a bare port)
    int port = 0;    // the port, or the first port of a range
    int portEnd = 0; // the last port of a range ("2000-2100": 2100); 0 = a single port
    QJsonValue given{QJsonValue::Undefined}; // as written in the file
    // proxy_protocol: every client starts with a PROXY protocol header (v1 or v2), required
    std::optional<bool> proxyProtocol;
    // proxy_protocol_to_upstream: each upstream connection starts with a v1 header
    std::optional<bool> proxyProtocolToUpstream;
    std::optional<bool> tls; // terminate TLS; written back as given
    // tls_passthrough: the client's ClientHello is read for its SNI (routes' sni match it), and
    // the connection goes to the upstream encrypted, untouched. With tls too, the route matched
    // decides (its tls_passthrough), as in APISIX.
    std::optional<bool> tlsPassthrough;
    // "9100", "127.0.0.1:9100", "[::1]:9100"; a range "2000-2100", "127.0.0.1:2000-2100", ...
    QString text() const;
    bool readsProxyProtocol() const { return proxyProtocol.value_or(false); }
    bool sendsProxyProtocol() const { return proxyProtocolToUpstream.value_or(false); }
    bool terminatesTls() const { return tls.value_or(false); }
    bool passesTlsThrough() const { return tlsPassthrough.value_or(false); }
    bool isRange() const { return portEnd > 0; }
    int lastPort() const { return isRange() ? portEnd : port; }
    int portCount() const { return lastPort() - port + 1; }
    bool hasPort(int p) const { return p >= port && p <= lastPort(); }
    // Both listen on one port of the same address (whatever their settings).
    bool overlaps(const ListenEntry& o) const
    {
        return host == o.host && port <= o.lastPort() && o.port <= lastPort();
    }
    // The single-port entries this entry stands for, one per listening socket, in port order,
    // with its settings: itself for a single port (given kept), each port of a range (given
    // unset, as they are never written back).
    QList<ListenEntry> singlePorts() const;
    // The address only: one listener per address, whatever its settings.
    bool sameAddress(const ListenEntry& o) const
    {
        return host == o.host && port == o.port && portEnd == o.portEnd;
    }
    bool operator==(const ListenEntry& o) const
    {
        return sameAddress(o) && proxyProtocol == o.proxyProtocol &&
               proxyProtocolToUpstream == o.proxyProtocolToUpstream && tls == o.tls &&
               tlsPassthrough == o.tlsPassthrough;
    }
};

// Every listening socket of a list: the entries with each range expanded (singlePorts()).
QList<ListenEntry> singlePorts(const QList<ListenEntry>& entries);
// How a range's listeners came up, in one event: "TCP listener 2000-2002 up (3 ports)", or
// "... up on 2 of 3 ports" when some could not listen.
QString rangeListeningText(const QString& protocol, const ListenEntry& range, int listening);

struct StreamProxy
{
    QList<ListenEntry> tcp;
    QList<ListenEntry> udp;
    bool operator==(const StreamProxy&) const = default;
};

// The whole config file. Every top-level key is optional.
// APISIX's plugin_metadata: one plugin's settings for every route that runs it. Streamgate runs
// syslog's: log_format (for a route's syslog without one) and max_pending_entries.
struct PluginMetadata
{
    QString id;        // the plugin's name
    QJsonObject value; // as given, without id
    QString idString() const { return id; }
    bool operator==(const PluginMetadata&) const = default;
};

struct Config
{
    StreamProxy streamProxy;
    QList<StreamRoute> streamRoutes;
    QList<Upstream> upstreams;
    QList<Service> services;
    QList<PluginMetadata> pluginMetadata;
    QList<Ssl> ssls;
    StreamgateSettings streamgate; // Streamgate's own settings (model/settings.h); never exported
    QStringList explicitFields;    // sections given empty ("stream_routes": [])

    const Upstream* findUpstream(const QString& id) const;
    const StreamRoute* findRoute(const QString& id) const;
    const Service* findService(const QString& id) const;
    const Ssl* findSsl(const QString& id) const;
    const PluginMetadata* findPluginMetadata(const QString& plugin) const;
    // The route as it runs (APISIX's merge_service_stream_route): without a service_id, when
    // the service does not exist, or when the route has an upstream_id of its own (APISIX then
    // never reaches the service), the route itself; otherwise the route with its service's
    // upstream or upstream_id when it has no inline upstream, and each plugin of the service
    // the route does not configure itself. A syslog without log_format takes plugin_metadata's,
    // and max_pending_entries comes from there.
    StreamRoute effectiveRoute(const StreamRoute& route) const;
    // The upstream a route uses, as APISIX picks it: the one its upstream_id names; else, with
    // a service, its own inline one, the service's inline one or the one the service's
    // upstream_id names; else its inline one. nullptr when that names nothing (the route's
    // sessions are then closed at once).
    const Upstream* upstreamFor(const StreamRoute& route) const;
    bool operator==(const Config&) const = default;
};

} // namespace sg
