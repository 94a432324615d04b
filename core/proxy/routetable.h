#pragma once
// RouteTable is one config compiled for the accept path: the Router, and per route its stream
// plugins (in priority order), its upstream's Balancer and resolved node addresses, and its
// counters. It is immutable once built and swapped whole on apply(); sessions keep the RouteEntry
// they were admitted with (shared_ptr), so editing or removing a route never disturbs running
// sessions. buildRouteTable() carries entries whose route and upstream did not change over as the
// same objects, and hands each plugin its previous instance, so limit-conn counts, balancer state
// and health survive edits of other routes.

#include "model/streamroute.h"
#include "proxy/addressmatch.h"
#include "proxy/balancer.h"
#include "proxy/router.h"
#include "proxy/streamplugin.h"
#include "stats/statshub.h"

#include <QHash>
#include <QList>
#include <QString>
#include <memory>
#include <optional>
#include <sys/socket.h>
#include <vector>

namespace sg {

struct EngineOptions;
class RedisFaults;
class HealthChecker;
class UpstreamProber;
class TlsServer;
class TlsClient;
class TlsTrust;
class DatabaseTlsServer;

struct ResolvedNode
{
    sockaddr_storage address{};
    socklen_t length = 0; // 0: the host could not be resolved (every connect fails)
    QString text;         // "127.0.0.1:3306"
    std::shared_ptr<NodeStats> stats;
};

struct UpstreamEntry
{
    Upstream upstream;
    // upstream id, "route:<id>" for a route's inline upstream, "service:<id>" for a service's
    QString key;
    std::shared_ptr<Balancer> balancer;
    std::vector<ResolvedNode> nodes; // same order as upstream.nodes
    Timeout timeout;
    int retries = 0;
    double retryTimeout = 0; // seconds, 0 = no limit
    // checks.passive: where failed connects are reported (null without checks.passive).
    HealthChecker* passiveChecker = nullptr;
    // Without checks.active: the prober told of failed connects (proxy/upstreamprober.h).
    UpstreamProber* prober = nullptr;
    // scheme "tls": the client side of its TLS (proxy/tlsclient.h); null for a plain upstream,
    // whose sessions never meet TLS.
    std::shared_ptr<const TlsClient> tls;

    // A connect to nodes[node] failed (timedOut: it ran out of timeout.connect): counted on
    // the node, reported to checks.passive, and the node probed soon. Any thread.
    void nodeFailed(int node, bool timedOut) const;
};

struct RoutePlugin
{
    QString name;
    std::shared_ptr<StreamPlugin> plugin;
};

struct RouteEntry
{
    StreamRoute route; // as it runs: merged with its service (Config::effectiveRoute)
    QString id;
    std::shared_ptr<UpstreamEntry> upstream; // nullptr when upstream_id names nothing
    // traffic-split: the upstreams its rules name (streamplugin.h); a session's upstream is
    // then the route's or one of these (Admission::upstream).
    SplitUpstreams splitUpstreams;
    std::vector<RoutePlugin> plugins; // highest priority first
    std::shared_ptr<RouteStats> stats;
    // From the config's "streamgate" section (see buildRouteTable): watch the first packets
    // for a MySQL handshake, and after the login count the client's commands.
    bool mysqlInspect = true;
    bool mysqlCommands = false;
    bool mysqlDigests = false;    // record each command in stats->mysql (implies mysqlCommands)
    bool mysqlDeclared = false;   // the route's settings say it fronts MySQL
    bool postgresInspect = true;  // follow a PostgreSQL client's startup and login
    bool postgresDigests = false; // and every command after it, into stats->postgres
    // A database client's request for TLS is answered by Streamgate with the development CA's
    // certificate (RouteTable::databaseTls), the server gets plaintext (databasetls.h for
    // PostgreSQL, mysqltls.h for a route that fronts MySQL).
    bool databaseTls = false;
    // With databaseTls: the leg to the server (streamgate.routes.<id>.database_server_tls), and
    // the client side of its TLS (null when Off; verifies with Verify).
    DatabaseServerTls databaseServerTls = DatabaseServerTls::Off;
    std::shared_ptr<const TlsClient> databaseServerTlsClient;
    // protocol "redis" (APISIX's xRPC): commands followed, and delayed by the route's faults
    // (nullptr: none). Such a route is not inspected for MySQL.
    bool redis = false;
    std::shared_ptr<const RedisFaults> redisFaults;
};

struct RouteTable
{
    std::vector<std::shared_ptr<RouteEntry>> routes;
    std::optional<Router> router;
    // The upstreams the routes use, by UpstreamEntry::key (health checks follow these),
    // traffic-split's included: an inline one there is "route:<id>#traffic-split[<rule>][<entry>]".
    QHash<QString, std::shared_ptr<UpstreamEntry>> upstreams;
    // streamgate.real_ip_from: the peers whose PROXY protocol header sets remote_addr.
    AddressList realIpFrom;
    // The ssls compiled for the listeners with tls (carried over while the ssls are unchanged).
    std::shared_ptr<const TlsServer> tls;
    // The CAs upstreams with tls.verify trust (carried over while the setting is unchanged);
    // null while no upstream verifies.
    std::shared_ptr<const TlsTrust> trust;
    // The development CA's server certificate, while a route has database_tls (null otherwise;
    // carried over until it nears its end).
    std::shared_ptr<const DatabaseTlsServer> databaseTls;
};

// Compiles `config` for the accept path, reusing what did not change since `previous`. Node
// host names are resolved here (on the engine thread), never on a worker.
// health: the checker upstreams with checks.passive report their failed connects to; prober:
// where those without checks.active report them.
std::shared_ptr<RouteTable> buildRouteTable(const Config& config, const RouteTable& previous,
                                            StatsHub& hub, const EngineOptions& options,
                                            HealthChecker* health = nullptr,
                                            UpstreamProber* prober = nullptr);
// The key (UpstreamEntry::key) of the upstream a route of config uses; empty when it names
// none.
QString upstreamKeyFor(const Config& config, const StreamRoute& route);

} // namespace sg
