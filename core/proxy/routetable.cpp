#include "proxy/routetable.h"

#include "config/developmentca.h"
#include "proxy/databasetls.h"
#include "proxy/engineoptions.h"
#include "proxy/healthchecker.h"
#include "proxy/redisfaults.h"
#include "proxy/tlsclient.h"
#include "proxy/tlsserver.h"
#include "proxy/upstreamprober.h"

#include <QHostInfo>
#include <QJsonObject>
#include <cstring>
#include <netinet/in.h>

namespace sg {

namespace {

// Node hosts are usually literal addresses; names are resolved once per config.
ResolvedNode resolveNode(const Node& node)
{
    ResolvedNode r;
    r.text = node.address();
    QHostAddress addr;
    if (!addr.setAddress(node.host)) {
        if (node.host.compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0) {
            addr = QHostAddress(QHostAddress::LocalHost);
        } else {
            const QHostInfo info = QHostInfo::fromName(node.host);
            if (info.addresses().isEmpty())
                return r;
            addr = info.addresses().constFirst();
        }
    }
    if (addr.protocol() == QAbstractSocket::IPv4Protocol) {
        auto& in = reinterpret_cast<sockaddr_in&>(r.address);
        in.sin_family = AF_INET;
        in.sin_port = htons(quint16(node.port));
        in.sin_addr.s_addr = htonl(addr.toIPv4Address());
        r.length = sizeof(sockaddr_in);
    } else {
        auto& in6 = reinterpret_cast<sockaddr_in6&>(r.address);
        in6.sin6_family = AF_INET6;
        in6.sin6_port = htons(quint16(node.port));
        const Q_IPV6ADDR a6 = addr.toIPv6Address();
        std::memcpy(&in6.sin6_addr, &a6, sizeof a6);
        r.length = sizeof(sockaddr_in6);
    }
    return r;
}

std::shared_ptr<UpstreamEntry> buildUpstream(const Upstream& upstream, const QString& key,
                                             StatsHub& hub, HealthChecker* health,
                                             UpstreamProber* prober)
{
    auto e = std::make_shared<UpstreamEntry>();
    if (upstream.checks && upstream.passiveChecks)
        e->passiveChecker = health;
    if (!upstream.checks)
        e->prober = prober;
    e->upstream = upstream;
    e->key = key;
    e->balancer = std::make_shared<Balancer>(upstream);
    e->timeout = upstream.effectiveTimeout();
    e->retries = upstream.effectiveRetries();
    e->retryTimeout = upstream.retryTimeout.value_or(0);
    e->nodes.reserve(size_t(upstream.nodes.size()));
    for (const Node& n : upstream.nodes) {
        ResolvedNode r = resolveNode(n);
        r.stats = hub.nodeStats(key, r.text);
        e->nodes.push_back(std::move(r));
    }
    return e;
}

std::shared_ptr<StreamPlugin> pluginNamed(const RouteEntry* entry, const QString& name)
{
    if (entry) {
        for (const RoutePlugin& p : entry->plugins)
            if (p.name == name)
                return p.plugin;
    }
    return nullptr;
}

// The key of the upstream a route uses: its inline one is the route's own, an inline one of its
// service is shared by every route of the service (one balancer, one health checker).
QString upstreamKey(const Config& config, const StreamRoute& route, const Upstream& upstream)
{
    if (route.upstream && &upstream == &*route.upstream)
        return QStringLiteral("route:") + route.idString();
    const Service* service = config.findService(idText(route.serviceId));
    if (service && service->upstream && &upstream == &*service->upstream)
        return QStringLiteral("service:") + service->idString();
    return upstream.idString();
}

// traffic-split's weighted_upstreams, rule by rule: an upstream_id's shared upstream (the
// same entry routes naming it use), an inline upstream as APISIX's traffic-split runs it (name,
// type, hash_on, key, nodes, timeout and scheme: no health checks, retries by node count), or
// null for the route's own upstream.
template <typename UpstreamEntryFor>
SplitUpstreams splitUpstreams(const Config& config, const StreamRoute& route,
                              const UpstreamEntryFor& upstreamEntry)
{
    SplitUpstreams split;
    if (!route.plugins.trafficSplit)
        return split;
    const QList<TrafficSplitRule>& rules = route.plugins.trafficSplit->rules;
    for (qsizetype r = 0; r < rules.size(); ++r) {
        QList<SplitUpstream> entries;
        const QList<TrafficSplitUpstream>& ups = rules.at(r).weightedUpstreams;
        for (qsizetype e = 0; e < ups.size(); ++e) {
            const TrafficSplitUpstream& w = ups.at(e);
            SplitUpstream s;
            if (!w.upstreamId.isUndefined() && !w.upstreamId.isNull()) {
                const QString upstreamId = idText(w.upstreamId);
                if (const Upstream* u = config.findUpstream(upstreamId))
                    s.upstream = upstreamEntry(u->idString(), *u);
                else
                    s.missingId = upstreamId;
            } else if (w.upstream) {
                Upstream runs;
                runs.name = w.upstream->name;
                runs.type = w.upstream->type;
                runs.hashOn = w.upstream->hashOn;
                runs.key = w.upstream->key;
                runs.nodes = w.upstream->nodes;
                runs.nodesAsMap = w.upstream->nodesAsMap;
                runs.timeout = w.upstream->timeout;
                runs.scheme = w.upstream->scheme;
                s.upstream = upstreamEntry(QStringLiteral("route:%1#traffic-split[%2][%3]")
                                               .arg(route.idString())
                                               .arg(r)
                                               .arg(e),
                                           runs);
            }
            entries.append(s);
        }
        split.append(entries);
    }
    return split;
}

} // namespace

void UpstreamEntry::nodeFailed(int node, bool timedOut) const
{
    const ResolvedNode& n = nodes[size_t(node)];
    if (n.stats)
        n.stats->failures.fetch_add(1, std::memory_order_relaxed);
    if (passiveChecker)
        passiveChecker->reportFailure(key, n.text, timedOut);
    if (prober)
        prober->connectFailed(key, n.text);
}

QString upstreamKeyFor(const Config& config, const StreamRoute& route)
{
    const Upstream* upstream = config.upstreamFor(route);
    return upstream ? upstreamKey(config, route, *upstream) : QString();
}

namespace {

// The development CA's server certificate, made (or read) on the engine thread when the first
// route asks for database TLS, and kept while it lasts.
std::shared_ptr<const DatabaseTlsServer>
developmentTlsServer(const RouteTable& previous, StatsHub& hub, const EngineOptions& options)
{
    const QDateTime now = QDateTime::currentDateTimeUtc();
    if (previous.databaseTls && previous.databaseTls->error().isEmpty() &&
        now.addDays(DevelopmentCa::kRenewDays) < previous.databaseTls->notAfter())
        return previous.databaseTls;
    DevelopmentCredentials credentials;
    if (options.developmentCaDir.isEmpty())
        credentials.error = QStringLiteral("no place for the development CA (the engine was "
                                           "started without one)");
    else
        credentials = DevelopmentCa(options.developmentCaDir).serverCredentials();
    auto server = std::make_shared<const DatabaseTlsServer>(credentials);
    if (!server->error().isEmpty())
        hub.addEvent(EventKind::ListenerError, QString(),
                     QStringLiteral("database TLS cannot be offered: %1").arg(server->error()));
    else
        hub.addEvent(EventKind::Info, QString(),
                     QStringLiteral("database TLS presents the development CA's certificate for "
                                    "%1 until %2 (the CA is in %3; clients that verify need its "
                                    "ca.crt)")
                         .arg(credentials.names.join(QStringLiteral(", ")),
                              credentials.notAfter.toString(Qt::ISODate),
                              options.developmentCaDir));
    return server;
}

} // namespace

std::shared_ptr<RouteTable> buildRouteTable(const Config& config, const RouteTable& previous,
                                            StatsHub& hub, const EngineOptions& options,
                                            HealthChecker* health, UpstreamProber* prober)
{
    // Routes: entries that did not change are carried over as the same objects.
    QHash<QString, std::shared_ptr<RouteEntry>> oldRoutes;
    QHash<QString, std::shared_ptr<UpstreamEntry>> oldUpstreams;
    for (const auto& r : previous.routes)
        oldRoutes.insert(r->id, r);
    for (auto it = previous.upstreams.cbegin(); it != previous.upstreams.cend(); ++it)
        oldUpstreams.insert(it.key(), it.value());
    const std::vector<StreamPluginType> pluginTypes = streamPluginTypes();
    auto table = std::make_shared<RouteTable>();
    // Validated with the config ("unix:" matches no TCP peer and is left out here).
    QStringList trusted = config.streamgate.realIpFromList();
    trusted.removeAll(QStringLiteral("unix:"));
    table->realIpFrom = AddressList::parse(trusted).value_or(AddressList());
    // Certificates are parsed once per change of the ssls, not on every apply.
    if (previous.tls && previous.tls->source() == config.ssls) {
        table->tls = previous.tls;
    } else {
        auto tls = std::make_shared<TlsServer>(config.ssls);
        for (const QString& problem : tls->problems())
            hub.addEvent(EventKind::ListenerError, QString(), problem);
        table->tls = std::move(tls);
    }
    // TLS to upstreams (scheme "tls"): the trusted CAs are loaded once per value of the setting,
    // and only once an upstream verifies.
    const auto upstreamTlsSpec = [&](const Config& c,
                                     const Upstream& u) -> std::optional<TlsClientSpec> {
        if (!u.reachedOverTls())
            return std::nullopt;
        QString problem;
        TlsClientSpec spec = tlsClientSpec(c, u, &problem);
        if (!problem.isEmpty())
            hub.addEvent(EventKind::ListenerError, QString(), problem);
        return spec;
    };
    const auto tlsClientFor = [&](const TlsClientSpec& spec, const QString& key) {
        if (spec.verify && !table->trust) {
            if (previous.trust && previous.trust->setting() == spec.trusted) {
                table->trust = previous.trust;
            } else {
                auto trust = std::make_shared<TlsTrust>(spec.trusted);
                if (!trust->problem().isEmpty())
                    hub.addEvent(EventKind::ListenerError, QString(),
                                 QStringLiteral("%1: %2: upstreams with tls.verify verify "
                                                "nothing")
                                     .arg(settingPath({settingkey::SslTrustedCertificate}),
                                          trust->problem()));
                table->trust = std::move(trust);
            }
        }
        auto client = std::make_shared<TlsClient>(spec, spec.verify ? table->trust : nullptr);
        if (!client->problem().isEmpty())
            hub.addEvent(EventKind::ListenerError, QString(),
                         QStringLiteral("upstream %1: %2").arg(key, client->problem()));
        return std::shared_ptr<const TlsClient>(std::move(client));
    };
    // Streamgate-only route settings live outside the APISIX objects, so an exported config
    // stays valid for APISIX: "streamgate": {"mysql_inspect": false} turns MySQL detection off
    // everywhere; "streamgate": {"routes": {"<route id>": {"mysql_inspect": bool,
    // "mysql_commands": bool, "mysql_digests": bool}}} overrides it per route and turns command
    // counting (and query digests) on. "postgres_inspect" and "postgres_digests" do the same
    // for PostgreSQL clients.
    for (const StreamRoute& given : config.streamRoutes) {
        // A route runs with what its service gives it: a change to the service changes the
        // entries of its routes (and only theirs) below.
        const StreamRoute route = config.effectiveRoute(given);
        const QString id = route.idString();
        const bool mysqlCommands = config.streamgate.mysqlCommandsFor(id);
        const bool mysqlInspect = config.streamgate.mysqlInspectFor(id);
        const bool mysqlDeclared = config.streamgate.mysqlDeclaredFor(id);
        const bool mysqlDigests = config.streamgate.mysqlDigestsFor(id);
        const bool postgresInspect = config.streamgate.postgresInspectFor(id);
        const bool postgresDigests = config.streamgate.postgresDigestsFor(id);
        const bool databaseTls = config.streamgate.databaseTlsFor(id);
        const DatabaseServerTls databaseServerTls = config.streamgate.databaseServerTlsFor(id);
        TlsClientSpec serverTlsSpec;
        serverTlsSpec.verify = databaseServerTls == DatabaseServerTls::Verify;
        if (serverTlsSpec.verify)
            serverTlsSpec.trusted = config.streamgate.trustedCertificates();
        // One entry per upstream key in the table: the same upstream, the same balancer.
        const auto upstreamEntry = [&](const QString& key, const Upstream& u) {
            std::shared_ptr<UpstreamEntry> e = table->upstreams.value(key);
            if (!e) {
                const auto old = oldUpstreams.value(key);
                const std::optional<TlsClientSpec> spec = upstreamTlsSpec(config, u);
                const bool sameTls = old && (old->tls ? spec && old->tls->spec() == *spec : !spec);
                if (old && old->upstream == u && sameTls) {
                    e = old;
                } else {
                    e = buildUpstream(u, key, hub, health, prober);
                    if (spec)
                        e->tls = tlsClientFor(*spec, key);
                }
                table->upstreams.insert(key, e);
            }
            return e;
        };
        std::shared_ptr<UpstreamEntry> up;
        if (const Upstream* u = config.upstreamFor(given))
            up = upstreamEntry(upstreamKey(config, given, *u), *u);
        const SplitUpstreams split = splitUpstreams(config, route, upstreamEntry);
        std::shared_ptr<RouteEntry> entry;
        const auto old = oldRoutes.value(id);
        if (old && old->route == route && old->upstream == up && old->splitUpstreams == split &&
            old->mysqlInspect == mysqlInspect && old->mysqlCommands == mysqlCommands &&
            old->mysqlDeclared == mysqlDeclared && old->mysqlDigests == mysqlDigests &&
            old->postgresInspect == postgresInspect && old->postgresDigests == postgresDigests &&
            old->databaseTls == databaseTls && old->databaseServerTls == databaseServerTls &&
            (!old->databaseServerTlsClient ||
             old->databaseServerTlsClient->spec() == serverTlsSpec)) {
            entry = old;
        } else {
            entry = std::make_shared<RouteEntry>();
            entry->route = route;
            entry->id = id;
            entry->upstream = up;
            entry->splitUpstreams = split;
            for (const StreamPluginType& type : pluginTypes) {
                StreamPluginBuild build{route, options, pluginNamed(old.get(), type.name),
                                        &entry->splitUpstreams};
                if (auto plugin = type.build(build))
                    entry->plugins.push_back(RoutePlugin{type.name, std::move(plugin)});
            }
            entry->stats = hub.routeStats(id);
            entry->mysqlInspect = mysqlInspect;
            entry->mysqlCommands = mysqlCommands;
            entry->mysqlDeclared = mysqlDeclared;
            entry->mysqlDigests = mysqlDigests;
            entry->postgresInspect = postgresInspect;
            entry->postgresDigests = postgresDigests;
            entry->databaseTls = databaseTls;
            entry->databaseServerTls = databaseServerTls;
            if (databaseServerTls != DatabaseServerTls::Off)
                entry->databaseServerTlsClient = tlsClientFor(
                    serverTlsSpec, QStringLiteral("of route %1's database_server_tls").arg(id));
            // A route that names its protocol is read as that protocol only.
            if (route.redis) {
                entry->redis = true;
                entry->mysqlInspect = false;
                entry->postgresInspect = false;
                if (!route.redis->faults.isEmpty())
                    entry->redisFaults = std::make_shared<const RedisFaults>(*route.redis);
            }
        }
        table->routes.push_back(entry);
        if (entry->databaseTls && !table->databaseTls)
            table->databaseTls = developmentTlsServer(previous, hub, options);
    }
    table->router.emplace(config.streamRoutes);
    return table;
}

} // namespace sg
