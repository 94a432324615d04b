#include "api/prometheus.h"

#include "config/configstore.h"
#include "config/logging.h"
#include "model/httplisten.h"
#include "proxy/engine.h"

#include <QHash>
#include <QHostInfo>
#include <QLoggingCategory>
#include <QMap>
#include <QSet>

namespace sg {

namespace {

QByteArray escapeLabel(const QString& value)
{
    QByteArray out;
    const QByteArray utf8 = value.toUtf8();
    out.reserve(utf8.size());
    for (char c : utf8) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

// One metric family: HELP and TYPE once, then its samples.
class Family
{
public:
    Family(QByteArray& out, const char* name, const char* type, const char* help)
        : m_out(out), m_name(name)
    {
        m_out += "# HELP ";
        m_out += name;
        m_out += ' ';
        m_out += help;
        m_out += "\n# TYPE ";
        m_out += name;
        m_out += ' ';
        m_out += type;
        m_out += '\n';
    }

    void sample(std::initializer_list<std::pair<const char*, QString>> labels, quint64 value)
    {
        sample(labels, QByteArray::number(value));
    }
    // suffix: "_bucket", "_sum", "_count" of a histogram
    void sample(std::initializer_list<std::pair<const char*, QString>> labels,
                const QByteArray& value, const char* suffix = "")
    {
        m_out += m_name;
        m_out += suffix;
        if (labels.size() > 0) {
            m_out += '{';
            bool first = true;
            for (const auto& [key, text] : labels) {
                if (!first)
                    m_out += ',';
                first = false;
                m_out += key;
                m_out += "=\"";
                m_out += escapeLabel(text);
                m_out += '"';
            }
            m_out += '}';
        }
        m_out += ' ';
        m_out += value;
        m_out += '\n';
    }

private:
    QByteArray& m_out;
    const char* m_name;
};

QString protocolLabel(Protocol p)
{
    return p == Protocol::Udp ? QStringLiteral("udp") : QStringLiteral("tcp");
}

// Families with one sample per route, listener or node, its value one counter of the row.
void routeFamily(QByteArray& out, const QList<RouteCounters>& routes, const char* name,
                 const char* type, const char* help, quint64 RouteCounters::*counter)
{
    Family f(out, name, type, help);
    for (const RouteCounters& r : routes)
        f.sample({{"route", r.routeId}}, r.*counter);
}

void listenerFamily(QByteArray& out, const QList<ListenerStatus>& listeners, const char* name,
                    const char* type, const char* help, quint64 ListenerStatus::*counter)
{
    Family f(out, name, type, help);
    for (const ListenerStatus& l : listeners)
        f.sample({{"listen_addr", l.address}, {"protocol", protocolLabel(l.protocol)}}, l.*counter);
}

void nodeFamily(QByteArray& out, const QList<NodeStatus>& nodes, const char* name, const char* type,
                const char* help, quint64 NodeStatus::*counter)
{
    Family f(out, name, type, help);
    for (const NodeStatus& n : nodes)
        f.sample({{"upstream", n.upstream}, {"node", n.node}}, n.*counter);
}

// One sample per toxic (streamgate.toxics), labelled with its route and name (unique per route).
template <typename Value>
void toxicFamily(QByteArray& out, const QList<ToxicStatus>& toxics, const char* name,
                 const char* type, const char* help, Value value)
{
    Family f(out, name, type, help);
    for (const ToxicStatus& t : toxics)
        f.sample({{"route", t.routeId}, {"toxic", t.name}}, value(t));
}

// One histogram's samples (cumulative buckets, as Prometheus has them) from per-bucket counts
// whose upper bounds are in microseconds; the last count is the one above every bound.
template <std::size_t N>
void histogramSamples(Family& f, const QString& route, const QString& command,
                      const std::array<qint64, N>& boundsUs,
                      const std::array<quint64, N + 1>& buckets, quint64 totalTimeUs, quint64 count)
{
    quint64 cumulative = 0;
    for (std::size_t i = 0; i < buckets.size(); ++i) {
        cumulative += buckets[i];
        const QByteArray le =
            i < N ? QByteArray::number(double(boundsUs[i]) / 1e6) : QByteArray("+Inf");
        f.sample({{"route", route}, {"command", command}, {"le", QString::fromLatin1(le)}},
                 QByteArray::number(cumulative), "_bucket");
    }
    f.sample({{"route", route}, {"command", command}},
             QByteArray::number(double(totalTimeUs) / 1e6, 'f', 6), "_sum");
    f.sample({{"route", route}, {"command", command}}, QByteArray::number(count), "_count");
}

// Routes with query digests on: each MySQL (or PostgreSQL) command's latency as a histogram
// with ProxySQL's buckets, and the commands answered with an error.
struct SqlFamilyNames
{
    const char* duration;
    const char* durationHelp;
    const char* errors;
    const char* errorsHelp;
    QList<SqlCommandCounters> RouteCounters::*commands;
};

const SqlFamilyNames kMySqlFamilies{
    "streamgate_mysql_command_duration_seconds",
    "Time from a MySQL command to the end of its response, per stream route and command "
    "(routes with mysql_digests on)",
    "streamgate_mysql_command_errors_total",
    "MySQL commands answered with an error, per stream route and command",
    &RouteCounters::mysqlCommands};

const SqlFamilyNames kPostgresFamilies{
    "streamgate_postgres_command_duration_seconds",
    "Time from a PostgreSQL command to the end of its response, per stream route and command "
    "(routes with postgres_digests on)",
    "streamgate_postgres_command_errors_total",
    "PostgreSQL commands answered with an error, per stream route and command",
    &RouteCounters::postgresCommands};

void sqlFamilies(QByteArray& out, const QList<RouteCounters>& routes, const SqlFamilyNames& names)
{
    {
        Family f(out, names.duration, "histogram", names.durationHelp);
        for (const RouteCounters& r : routes)
            for (const SqlCommandCounters& c : r.*names.commands)
                histogramSamples(f, r.routeId, c.command, SqlCommandCounters::kBoundsUs, c.buckets,
                                 c.totalTimeUs, c.totalCount);
    }
    Family f(out, names.errors, "counter", names.errorsHelp);
    for (const RouteCounters& r : routes) {
        for (const SqlCommandCounters& c : r.*names.commands)
            f.sample({{"route", r.routeId}, {"command", c.command}}, c.errors);
    }
}

// Routes with protocol "redis": APISIX's xRPC Redis metrics under their APISIX names and
// labels (the route's id, the command in lower case), and the commands answered with an error.
void redisFamilies(QByteArray& out, const QList<RouteCounters>& routes)
{
    {
        Family f(out, "apisix_redis_commands_total", "counter",
                 "Total number of requests for a specific Redis command");
        for (const RouteCounters& r : routes)
            for (const RedisCommandCounters& c : r.redisCommands)
                f.sample({{"route", r.routeId}, {"command", c.command}}, c.count);
    }
    {
        Family f(out, "apisix_redis_commands_latency_seconds", "histogram",
                 "Latency of requests for a specific Redis command");
        for (const RouteCounters& r : routes)
            for (const RedisCommandCounters& c : r.redisCommands)
                histogramSamples(f, r.routeId, c.command, RedisCommandCounters::kBoundsUs,
                                 c.buckets, c.totalTimeUs, c.count);
    }
    Family f(out, "streamgate_redis_command_errors_total", "counter",
             "Redis commands answered with an error reply, per stream route and command");
    for (const RouteCounters& r : routes) {
        for (const RedisCommandCounters& c : r.redisCommands)
            f.sample({{"route", r.routeId}, {"command", c.command}}, c.errors);
    }
}

// Counters per route: the snapshot's, plus zeros for configured routes it does not list yet.
QList<RouteCounters> routeRows(const Snapshot& snapshot, const Config& config)
{
    QList<RouteCounters> rows = snapshot.routes;
    QSet<QString> seen;
    for (const RouteCounters& r : rows)
        seen.insert(r.routeId);
    for (const StreamRoute& route : config.streamRoutes) {
        const QString id = route.idString();
        if (!seen.contains(id)) {
            RouteCounters zero;
            zero.routeId = id;
            rows << zero;
        }
    }
    return rows;
}

// apisix_stream_connection_total as APISIX's stream exporter labels it: `route` is the route's
// id, or its name when the route's prometheus plugin has prefer_name and the route has a name.
// Streamgate counts every route, with the plugin or without. Routes that end up with the same
// label (two routes of one name) add up into one series, as they do in APISIX.
void apisixConnectionFamily(QByteArray& out, const QList<RouteCounters>& routes,
                            const Config& config)
{
    QHash<QString, QString> names;
    for (const StreamRoute& given : config.streamRoutes) {
        const StreamRoute route = config.effectiveRoute(given); // its service's plugin too
        if (route.plugins.prometheus && route.plugins.prometheus->preferName &&
            !route.name.isEmpty())
            names.insert(route.idString(), route.name);
    }
    QList<std::pair<QString, quint64>> series;
    QHash<QString, qsizetype> index;
    for (const RouteCounters& r : routes) {
        const QString label = names.value(r.routeId, r.routeId);
        const auto found = index.constFind(label);
        if (found == index.constEnd()) {
            index.insert(label, series.size());
            series.append({label, r.total});
        } else {
            series[*found].second += r.total;
        }
    }
    Family f(out, "apisix_stream_connection_total", "counter",
             "Total number of connections handled per stream route");
    for (const auto& [label, total] : series)
        f.sample({{"route", label}}, total);
}

// The listening address as nginx (and so APISIX's stream metrics) names it: a listener given
// by its port alone is "0.0.0.0:<port>".
QString apisixListenAddr(const QString& address)
{
    bool isPort = false;
    address.toUInt(&isPort);
    return isPort ? QStringLiteral("0.0.0.0:") + address : address;
}

// APISIX 3.18's stream families, so its Grafana dashboard reads Streamgate: sessions by how they
// ended (every route's, with the prometheus plugin or without, as apisix_stream_connection_total
// here), and per listener the open sessions and the bytes, which move during a long session.
void apisixStreamFamilies(QByteArray& out, const Snapshot& snapshot)
{
    {
        Family f(out, "apisix_stream_status", "counter", "Stream sessions per termination status");
        for (const StreamStatusCount& s : snapshot.streamStatus)
            f.sample({{"code", QString::number(s.code)},
                      {"listen_addr", apisixListenAddr(s.listener)},
                      {"node", s.node}},
                     s.count);
    }
    {
        Family f(out, "apisix_stream_active_connections", "gauge",
                 "Number of stream sessions currently being proxied per listening address");
        for (const ListenerStatus& l : snapshot.listeners)
            f.sample({{"listen_addr", apisixListenAddr(l.address)}}, l.active);
    }
    Family f(out, "apisix_stream_bandwidth", "counter",
             "Total bandwidth in bytes proxied by the stream subsystem");
    for (const ListenerStatus& l : snapshot.listeners) {
        const QString addr = apisixListenAddr(l.address);
        const QString ingress = QStringLiteral("ingress"), egress = QStringLiteral("egress");
        const QString downstream = QStringLiteral("downstream"),
                      upstream = QStringLiteral("upstream");
        f.sample({{"listen_addr", addr}, {"type", ingress}, {"side", downstream}},
                 l.bytesFromClient);
        f.sample({{"listen_addr", addr}, {"type", egress}, {"side", downstream}}, l.bytesDown);
        f.sample({{"listen_addr", addr}, {"type", egress}, {"side", upstream}}, l.bytesUp);
        f.sample({{"listen_addr", addr}, {"type", ingress}, {"side", upstream}},
                 l.bytesFromUpstream);
    }
}

QList<NodeStatus> nodeRows(const Snapshot& snapshot, const Config& config)
{
    QList<NodeStatus> rows = snapshot.nodes;
    QSet<QString> seen;
    for (const NodeStatus& n : rows)
        seen.insert(n.upstream + u'\n' + n.node);
    auto add = [&](const QString& upstream, const Upstream& u) {
        for (const Node& node : u.nodes) {
            if (seen.contains(upstream + u'\n' + node.address()))
                continue;
            NodeStatus zero;
            zero.upstream = upstream;
            zero.node = node.address();
            seen.insert(upstream + u'\n' + zero.node);
            rows << zero;
        }
    };
    for (const Upstream& u : config.upstreams)
        add(u.idString(), u);
    for (const StreamRoute& r : config.streamRoutes)
        if (r.upstream)
            add(QStringLiteral("route:") + r.idString(), *r.upstream);
    for (const Service& s : config.services)
        if (s.upstream)
            add(QStringLiteral("service:") + s.idString(), *s.upstream);
    return rows;
}

} // namespace

QByteArray renderPrometheus(const Snapshot& snapshot, const Config& config)
{
    QByteArray out;
    out.reserve(4096);
    const QList<RouteCounters> routes = routeRows(snapshot, config);
    const QList<NodeStatus> nodes = nodeRows(snapshot, config);

    {
        Family f(out, "apisix_node_info", "gauge",
                 "Info of the Streamgate node (APISIX-compatible)");
        f.sample({{"hostname", QHostInfo::localHostName()},
                  {"version", QStringLiteral(STREAMGATE_VERSION)}},
                 1);
    }
    apisixConnectionFamily(out, routes, config);
    apisixStreamFamilies(out, snapshot);
    routeFamily(out, routes, "streamgate_route_active_connections", "gauge",
                "Open connections per stream route", &RouteCounters::active);
    routeFamily(out, routes, "streamgate_route_max_active_connections", "gauge",
                "Most connections open at once per stream route since start",
                &RouteCounters::maxActive);
    {
        Family f(out, "streamgate_route_bytes_total", "counter",
                 "Bytes relayed per stream route; direction up is client to upstream, down is "
                 "upstream to client");
        for (const RouteCounters& r : routes) {
            f.sample({{"route", r.routeId}, {"direction", QStringLiteral("up")}}, r.bytesUp);
            f.sample({{"route", r.routeId}, {"direction", QStringLiteral("down")}}, r.bytesDown);
        }
    }
    {
        Family f(out, "streamgate_route_denied_total", "counter",
                 "Connections refused per stream route by ip-restriction or limit-conn");
        for (const RouteCounters& r : routes) {
            f.sample({{"route", r.routeId}, {"reason", QStringLiteral("ip-restriction")}},
                     r.deniedIpRestriction);
            f.sample({{"route", r.routeId}, {"reason", QStringLiteral("limit-conn")}}, r.limited);
        }
    }
    sqlFamilies(out, routes, kMySqlFamilies);
    sqlFamilies(out, routes, kPostgresFamilies);
    redisFamilies(out, routes);
    routeFamily(out, routes, "streamgate_route_delayed_total", "counter",
                "Connections delayed by limit-conn burst per stream route",
                &RouteCounters::delayed);
    routeFamily(out, routes, "streamgate_route_connect_failures_total", "counter",
                "Failed upstream connect attempts per stream route",
                &RouteCounters::connectFailures);
    routeFamily(out, routes, "streamgate_route_timeouts_total", "counter",
                "Connections closed by an idle or connect timeout per stream route",
                &RouteCounters::timeouts);
    {
        Family f(out, "streamgate_listener_up", "gauge",
                 "1 when the stream listener is bound, 0 when it failed");
        for (const ListenerStatus& l : snapshot.listeners)
            f.sample({{"listen_addr", l.address}, {"protocol", protocolLabel(l.protocol)}},
                     l.listening ? 1 : 0);
    }
    listenerFamily(out, snapshot.listeners, "streamgate_listener_active_connections", "gauge",
                   "Open connections per stream listener", &ListenerStatus::active);
    listenerFamily(out, snapshot.listeners, "streamgate_listener_no_route_total", "counter",
                   "Connections closed because no stream route matched, per listener",
                   &ListenerStatus::noRoute);
    listenerFamily(out, snapshot.listeners, "streamgate_listener_no_descriptors_total", "counter",
                   "Connections refused because the proxy was out of descriptors, per listener",
                   &ListenerStatus::noDescriptors);
    {
        Family f(out, "streamgate_listener_bytes_total", "counter",
                 "Bytes relayed per stream listener; direction up is client to upstream, down is "
                 "upstream to client");
        for (const ListenerStatus& l : snapshot.listeners) {
            f.sample({{"listen_addr", l.address},
                      {"protocol", protocolLabel(l.protocol)},
                      {"direction", QStringLiteral("up")}},
                     l.bytesUp);
            f.sample({{"listen_addr", l.address},
                      {"protocol", protocolLabel(l.protocol)},
                      {"direction", QStringLiteral("down")}},
                     l.bytesDown);
        }
    }
    {
        Family f(
            out, "streamgate_upstream_node_up", "gauge",
            "1 when the upstream node is considered healthy, 0 when a health check marked it down");
        for (const NodeStatus& n : nodes)
            f.sample({{"upstream", n.upstream}, {"node", n.node}}, n.healthy ? 1 : 0);
    }
    nodeFamily(out, nodes, "streamgate_upstream_node_active_connections", "gauge",
               "Open connections per upstream node", &NodeStatus::active);
    nodeFamily(out, nodes, "streamgate_upstream_node_connections_total", "counter",
               "Connections relayed per upstream node", &NodeStatus::total);
    nodeFamily(out, nodes, "streamgate_upstream_node_failures_total", "counter",
               "Failed connect attempts per upstream node", &NodeStatus::failures);
    toxicFamily(out, snapshot.toxics, "streamgate_toxic_enabled", "gauge",
                "1 when the toxic is switched on, 0 when it is kept but switched off",
                [](const ToxicStatus& t) { return quint64(t.enabled ? 1 : 0); });
    toxicFamily(out, snapshot.toxics, "streamgate_toxic_connections", "gauge",
                "Open connections the toxic hits now",
                [](const ToxicStatus& t) { return quint64(t.hitting.size()); });
    toxicFamily(out, snapshot.toxics, "streamgate_toxic_connections_hit_total", "counter",
                "Connections the toxic has hit since it was added",
                [](const ToxicStatus& t) { return t.hitTotal; });
    toxicFamily(out, snapshot.toxics, "streamgate_toxic_bytes_held", "gauge",
                "Bytes the toxic holds back now over the connections it hits",
                [](const ToxicStatus& t) { return t.bytesHeld; });
    return out;
}

MetricsServer::MetricsServer(ConfigStore* store, Engine* engine, QObject* parent)
    : QObject(parent), m_store(store), m_engine(engine),
      m_endpoint({QStringLiteral("metrics endpoint"), QStringLiteral("--prometheus-listen"),
                  settingPath({settingkey::Prometheus, settingkey::Listen}), kDefaultListen,
                  QStringLiteral("anyone who reaches it reads route ids and upstream addresses")},
                 [this] {
                     HttpService service;
                     service.limits.maxBodyBytes = kMaxBodyBytes;
                     service.handle = [this](const HttpRequest& request) {
                         return handle(request);
                     };
                     service.refuse = [](const HttpRefusal& refusal) {
                         return HttpResponse("text/plain", refusal.message.toUtf8() + '\n',
                                             HttpStatus(refusal.status));
                     };
                     return service;
                 })
{
    connect(m_store, &ConfigStore::changed, this, [this](const ConfigDiff& diff, const Config& c) {
        if (diff.settingsChanged)
            m_endpoint.settingChanged(c.streamgate.prometheusListen());
    });
}

HttpResponse MetricsServer::handle(const HttpRequest& request) const
{
    if (request.url().path() != QLatin1String(kPath))
        return HttpResponse("text/plain", QByteArray("metrics are at ") + kPath + '\n',
                            HttpStatus::NotFound);
    if (request.method() != HttpRequest::Method::Get) {
        HttpResponse response("text/plain", "only GET is supported\n",
                              HttpStatus::MethodNotAllowed);
        response.setHeader("Allow", "GET");
        return response;
    }
    const Snapshot snapshot = m_engine ? m_engine->snapshot() : Snapshot{};
    return HttpResponse("text/plain; version=0.0.4; charset=utf-8",
                        renderPrometheus(snapshot, m_store->config()));
}

MetricsServer::~MetricsServer() = default;

bool MetricsServer::start(const QString& listenOverride, const HttpFrontOptions& connections)
{
    return m_endpoint.start(listenOverride, m_store->config().streamgate.prometheusListen(),
                            connections);
}

} // namespace sg
