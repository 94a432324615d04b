// Upstreams: nodes, hashing, timeouts and health checks.
#include "model/codec_p.h"

#include <QJsonArray>
#include <QSet>
#include <algorithm>
#include <limits>

namespace sg {

using detail::Checker;
using detail::childPath;
using detail::indexPath;
using detail::isHostName;
using detail::isIpv6;
using detail::keep;
using detail::parsePort;

namespace {

// ---- nodes ----------------------------------------------------------------------------------

// "host:port" or "[v6]:port" as written in the map form of nodes.
bool parseNodeKey(Checker& c, const QString& key, const QString& path, Node& node)
{
    QString host;
    QString portText;
    if (key.startsWith(QLatin1Char('['))) {
        const qsizetype close = key.indexOf(QLatin1Char(']'));
        if (close < 0) {
            c.fail(path, key, QStringLiteral("missing \"]\" after the IPv6 address"));
            return false;
        }
        host = key.mid(1, close - 1);
        if (!isIpv6(host)) {
            c.fail(path, key, QStringLiteral("invalid IPv6 address \"%1\"").arg(host));
            return false;
        }
        const QString rest = key.mid(close + 1);
        if (!rest.startsWith(QLatin1Char(':'))) {
            c.fail(path, key,
                   QStringLiteral("a port is required for stream upstreams (\"[%1]:3306\")")
                       .arg(host));
            return false;
        }
        portText = rest.mid(1);
    } else {
        const qsizetype colon = key.lastIndexOf(QLatin1Char(':'));
        if (colon < 0) {
            c.fail(
                path, key,
                QStringLiteral("a port is required for stream upstreams (\"%1:3306\")").arg(key));
            return false;
        }
        host = key.left(colon);
        portText = key.mid(colon + 1);
        if (host.contains(QLatin1Char(':'))) {
            c.fail(path, key,
                   QStringLiteral("IPv6 addresses must be in brackets, e.g. \"[::1]:3306\""));
            return false;
        }
        if (host.isEmpty() || !isHostName(host)) {
            c.fail(path, key, QStringLiteral("invalid host \"%1\"").arg(host));
            return false;
        }
    }
    const int port = parsePort(portText);
    if (port == 0) {
        c.fail(path, key, QStringLiteral("port must be 1-65535"));
        return false;
    }
    node.host = host;
    node.port = port;
    return true;
}

void decodeNodeObject(Checker& c, const QJsonValue& v, const QString& path, Node& node, bool& ok)
{
    ok = false;
    if (!c.expectObject(v, path))
        return;
    const QJsonObject o = v.toObject();
    c.closed(o, path, {"host", "port", "weight", "priority", "metadata"});
    bool good = true;
    if (!c.required(o, path, {"host", "port", "weight"}))
        good = false;
    if (o.contains(QLatin1String("host"))) {
        const QString p = childPath(path, QStringLiteral("host"));
        if (auto host = c.string(o.value(QLatin1String("host")), p, 1, 253)) {
            if (isIpv6(*host) || isHostName(*host))
                node.host = *host;
            else {
                c.fail(p, *host,
                       host->startsWith(QLatin1Char('['))
                           ? QStringLiteral("write IPv6 hosts without brackets in the array form")
                           : QStringLiteral("invalid host"));
                good = false;
            }
        } else {
            good = false;
        }
    }
    if (o.contains(QLatin1String("port"))) {
        if (auto port = c.integer(o.value(QLatin1String("port")),
                                  childPath(path, QStringLiteral("port")), 1, 65535))
            node.port = int(*port);
        else
            good = false;
    }
    if (o.contains(QLatin1String("weight"))) {
        if (auto weight = c.integer(o.value(QLatin1String("weight")),
                                    childPath(path, QStringLiteral("weight")), 0,
                                    std::numeric_limits<int>::max()))
            node.weight = int(*weight);
        else
            good = false;
    }
    if (o.contains(QLatin1String("priority"))) {
        if (auto priority = c.integer(
                o.value(QLatin1String("priority")), childPath(path, QStringLiteral("priority")),
                std::numeric_limits<int>::min(), std::numeric_limits<int>::max())) {
            node.priority = int(*priority);
            if (node.priority == 0)
                node.explicitFields << QStringLiteral("priority");
        } else {
            good = false;
        }
    }
    if (o.contains(QLatin1String("metadata"))) {
        const QString p = childPath(path, QStringLiteral("metadata"));
        if (c.expectObject(o.value(QLatin1String("metadata")), p)) {
            node.metadata = o.value(QLatin1String("metadata")).toObject();
            if (node.metadata.isEmpty())
                node.explicitFields << QStringLiteral("metadata");
        } else {
            good = false;
        }
    }
    ok = good;
}

void decodeNodes(Checker& c, const QJsonValue& v, const QString& path, Upstream& up)
{
    if (v.isObject()) {
        up.nodesAsMap = true;
        const QJsonObject o = v.toObject();
        for (auto it = o.begin(); it != o.end(); ++it) {
            const QString p = detail::keyPath(path, it.key());
            Node node;
            const bool keyOk = parseNodeKey(c, it.key(), p, node);
            const auto weight = c.integer(it.value(), p, 0, std::numeric_limits<int>::max(),
                                          QStringLiteral("weight must be an integer >= 0"));
            if (keyOk && weight) {
                node.weight = int(*weight);
                up.nodes << node;
            }
        }
        // A JSON object has no order; keep the nodes in the order their canonical addresses
        // sort, which is the order encodeNodes writes them ("h:0826" is read as "h:826").
        std::stable_sort(up.nodes.begin(), up.nodes.end(),
                         [](const Node& a, const Node& b) { return a.address() < b.address(); });
        // Two keys for one address ("h:3306" and "h:03306") are two nodes, as in APISIX; a
        // map cannot hold them, so they are written back as an array, and kept as one.
        for (qsizetype i = 1; i < up.nodes.size(); ++i) {
            if (up.nodes[i].address() == up.nodes[i - 1].address())
                up.nodesAsMap = false;
        }
        return;
    }
    if (v.isArray()) {
        up.nodesAsMap = false;
        const QJsonArray a = v.toArray();
        for (qsizetype i = 0; i < a.size(); ++i) {
            Node node;
            bool ok = false;
            decodeNodeObject(c, a.at(i), indexPath(path, i), node, ok);
            if (ok)
                up.nodes << node;
        }
        return;
    }
    c.fail(path, v,
           QStringLiteral("nodes must be an object {\"host:port\": weight} or an array of "
                          "{host, port, weight}"));
}

// ---- health checks --------------------------------------------------------------------------

// http_statuses, active or passive: at least one, each 200-599, none twice (APISIX's
// uniqueItems). True when the list is good.
bool checkHttpStatuses(Checker& c, const QJsonValue& v, const QString& path)
{
    if (!c.expectArray(v, path, 1))
        return false;
    const QJsonArray a = v.toArray();
    bool ok = true;
    for (qsizetype i = 0; i < a.size(); ++i) {
        if (!c.integer(a.at(i), indexPath(path, i), 200, 599)) {
            ok = false;
            continue;
        }
        for (qsizetype j = 0; j < i; ++j) {
            if (a.at(j) == a.at(i)) {
                c.fail(indexPath(path, i), a.at(i), QStringLiteral("listed twice"));
                ok = false;
                break;
            }
        }
    }
    return ok;
}

void decodeHealthy(Checker& c, const QJsonValue& v, const QString& path, ActiveHealthCheck& hc,
                   QJsonObject& extra, bool healthy)
{
    if (!c.expectObject(v, path))
        return;
    const QJsonObject o = v.toObject();
    const QString prefix = healthy ? QStringLiteral("healthy.") : QStringLiteral("unhealthy.");
    if (o.isEmpty())
        hc.explicitFields << prefix.chopped(1);
    if (healthy)
        c.closed(o, path, {"interval", "successes", "http_statuses"});
    else
        c.closed(o, path,
                 {"interval", "tcp_failures", "http_failures", "timeouts", "http_statuses"});
    const auto intField = [&](const char* key, qint64 min, qint64 max, int& out, int def) {
        const QString k = QLatin1String(key);
        if (!o.contains(k))
            return;
        if (auto n = c.integer(o.value(k), childPath(path, k), min, max)) {
            out = int(*n);
            if (out == def)
                hc.explicitFields << prefix + k;
        }
    };
    if (healthy) {
        intField("interval", 1, std::numeric_limits<int>::max(), hc.healthyInterval, 1);
        intField("successes", 1, 254, hc.healthySuccesses, 2);
    } else {
        intField("interval", 1, std::numeric_limits<int>::max(), hc.unhealthyInterval, 1);
        intField("tcp_failures", 1, 254, hc.unhealthyTcpFailures, 2);
        for (const char* key : {"http_failures", "timeouts"}) {
            const QString k = QLatin1String(key);
            if (o.contains(k) && c.integer(o.value(k), childPath(path, k), 1, 254))
                extra.insert(k, o.value(k));
        }
    }
    const QString statuses = QStringLiteral("http_statuses");
    if (o.contains(statuses) && checkHttpStatuses(c, o.value(statuses), childPath(path, statuses)))
        extra.insert(statuses, o.value(statuses));
}

// APISIX's health_checker_passive. Its http fields are checked and kept, as APISIX keeps them;
// a stream session has no HTTP status, so only tcp_failures and timeouts take effect.
void decodePassive(Checker& c, const QJsonValue& v, const QString& path, Upstream& up)
{
    if (!c.expectObject(v, path))
        return;
    const QJsonObject o = v.toObject();
    c.closed(o, path, {"type", "healthy", "unhealthy"});
    const qsizetype errors = c.problems.size();
    PassiveHealthCheck passive;
    if (o.contains(QLatin1String("type"))) {
        const QString p = childPath(path, QStringLiteral("type"));
        if (auto type = c.string(o.value(QLatin1String("type")), p, 0, -1);
            type && *type != QLatin1String("tcp") && *type != QLatin1String("http") &&
            *type != QLatin1String("https"))
            c.fail(p, *type, QStringLiteral("type must be \"tcp\", \"http\" or \"https\""));
    }
    const auto statuses = [&](const QJsonObject& parent, const QString& parentPath) {
        const QString key = QStringLiteral("http_statuses");
        if (parent.contains(key))
            checkHttpStatuses(c, parent.value(key), childPath(parentPath, key));
    };
    const auto counter = [&](const QJsonObject& parent, const QString& parentPath, const char* key,
                             int* out) {
        const QString k = QLatin1String(key);
        if (!parent.contains(k))
            return;
        if (auto n = c.integer(parent.value(k), childPath(parentPath, k), 0, 254); n && out)
            *out = int(*n);
    };
    for (const bool healthy : {true, false}) {
        const QString key = healthy ? QStringLiteral("healthy") : QStringLiteral("unhealthy");
        if (!o.contains(key))
            continue;
        const QString p = childPath(path, key);
        if (!c.expectObject(o.value(key), p))
            continue;
        const QJsonObject part = o.value(key).toObject();
        statuses(part, p);
        if (healthy) {
            c.closed(part, p, {"http_statuses", "successes"});
            counter(part, p, "successes", nullptr);
        } else {
            c.closed(part, p, {"http_statuses", "tcp_failures", "timeouts", "http_failures"});
            counter(part, p, "tcp_failures", &passive.unhealthyTcpFailures);
            counter(part, p, "timeouts", &passive.unhealthyTimeouts);
            counter(part, p, "http_failures", nullptr);
        }
    }
    if (c.problems.size() != errors)
        return;
    passive.given = o;
    up.passiveChecks = passive;
}

void decodeChecks(Checker& c, const QJsonValue& v, const QString& path, Upstream& up)
{
    if (!c.expectObject(v, path))
        return;
    const QJsonObject o = v.toObject();
    c.closed(o, path, {"active", "passive"});
    if (o.contains(QLatin1String("passive")))
        decodePassive(c, o.value(QLatin1String("passive")),
                      childPath(path, QStringLiteral("passive")), up);
    if (!o.contains(QLatin1String("active"))) {
        c.fail(childPath(path, QStringLiteral("active")), QJsonValue(QJsonValue::Undefined),
               QStringLiteral("property \"active\" is required"));
        return;
    }
    const QString ap = childPath(path, QStringLiteral("active"));
    const QJsonValue av = o.value(QLatin1String("active"));
    if (!c.expectObject(av, ap))
        return;
    const QJsonObject a = av.toObject();
    c.closed(a, ap,
             {"type", "timeout", "concurrency", "host", "port", "http_method", "http_path",
              "http_req_body", "https_verify_certificate", "healthy", "unhealthy", "req_headers"});
    ActiveHealthCheck hc;
    if (a.contains(QLatin1String("type"))) {
        const QString p = childPath(ap, QStringLiteral("type"));
        if (auto type = c.string(a.value(QLatin1String("type")), p, 0, -1)) {
            if (*type == QLatin1String("http") || *type == QLatin1String("tcp")) {
                hc.type = *type;
                hc.explicitFields << QStringLiteral("type");
            } else if (*type == QLatin1String("https")) {
                c.fail(p, *type,
                       QStringLiteral("https is not supported by Streamgate (no TLS to upstreams "
                                      "yet); use \"http\" or \"tcp\""));
            } else {
                c.fail(p, *type, QStringLiteral("type must be one of http, https, tcp"));
            }
        }
    }
    if (a.contains(QLatin1String("timeout"))) {
        if (auto t = c.positiveNumber(a.value(QLatin1String("timeout")),
                                      childPath(ap, QStringLiteral("timeout")))) {
            hc.timeout = *t;
            if (hc.timeout == 1)
                hc.explicitFields << QStringLiteral("timeout");
        }
    }
    if (a.contains(QLatin1String("concurrency")) &&
        c.integer(a.value(QLatin1String("concurrency")),
                  childPath(ap, QStringLiteral("concurrency")), 1, std::numeric_limits<int>::max()))
        hc.extra.insert(QStringLiteral("concurrency"), a.value(QLatin1String("concurrency")));
    if (a.contains(QLatin1String("host"))) {
        const QString p = childPath(ap, QStringLiteral("host"));
        if (auto host = c.string(a.value(QLatin1String("host")), p, 1, 253)) {
            if (isHostName(*host) || isIpv6(*host))
                hc.extra.insert(QStringLiteral("host"), *host);
            else
                c.fail(p, *host, QStringLiteral("invalid host"));
        }
    }
    if (a.contains(QLatin1String("port")) &&
        c.integer(a.value(QLatin1String("port")), childPath(ap, QStringLiteral("port")), 1, 65535))
        hc.extra.insert(QStringLiteral("port"), a.value(QLatin1String("port")));
    if (a.contains(QLatin1String("http_method"))) {
        const QString p = childPath(ap, QStringLiteral("http_method"));
        static const QStringList methods{"GET",  "POST",    "PUT",     "DELETE", "PATCH",
                                         "HEAD", "OPTIONS", "CONNECT", "TRACE",  "PURGE"};
        if (auto method = c.string(a.value(QLatin1String("http_method")), p, 0, -1)) {
            if (methods.contains(*method))
                hc.extra.insert(QStringLiteral("http_method"), *method);
            else
                c.fail(p, *method,
                       QStringLiteral("http_method must be one of %1")
                           .arg(methods.join(QStringLiteral(", "))));
        }
    }
    for (const char* key : {"http_path", "http_req_body"}) {
        const QString k = QLatin1String(key);
        if (a.contains(k) && c.string(a.value(k), childPath(ap, k), 0, -1))
            hc.extra.insert(k, a.value(k));
    }
    if (a.contains(QLatin1String("https_verify_certificate")) &&
        c.boolean(a.value(QLatin1String("https_verify_certificate")),
                  childPath(ap, QStringLiteral("https_verify_certificate"))))
        hc.extra.insert(QStringLiteral("https_verify_certificate"),
                        a.value(QLatin1String("https_verify_certificate")));
    if (a.contains(QLatin1String("req_headers"))) {
        const QString p = childPath(ap, QStringLiteral("req_headers"));
        if (c.expectArray(a.value(QLatin1String("req_headers")), p, 1)) {
            const QJsonArray headers = a.value(QLatin1String("req_headers")).toArray();
            bool ok = true;
            for (qsizetype i = 0; i < headers.size(); ++i)
                ok = c.string(headers.at(i), indexPath(p, i), 0, -1).has_value() && ok;
            if (ok)
                hc.extra.insert(QStringLiteral("req_headers"), headers);
        }
    }
    for (const bool healthy : {true, false}) {
        const QString key = healthy ? QStringLiteral("healthy") : QStringLiteral("unhealthy");
        if (!a.contains(key))
            continue;
        QJsonObject extra;
        decodeHealthy(c, a.value(key), childPath(ap, key), hc, extra, healthy);
        if (!extra.isEmpty())
            hc.extra.insert(key, extra);
    }
    up.checks = hc;
}

QJsonObject encodeChecks(const ActiveHealthCheck& hc)
{
    QJsonObject a = hc.extra;
    const QStringList& ex = hc.explicitFields;
    if (keep(ex, QStringLiteral("type"), hc.type != QLatin1String("http")))
        a.insert(QStringLiteral("type"), hc.type);
    if (keep(ex, QStringLiteral("timeout"), hc.timeout != 1))
        a.insert(QStringLiteral("timeout"), hc.timeout);
    QJsonObject healthy = hc.extra.value(QLatin1String("healthy")).toObject();
    if (keep(ex, QStringLiteral("healthy.interval"), hc.healthyInterval != 1))
        healthy.insert(QStringLiteral("interval"), hc.healthyInterval);
    if (keep(ex, QStringLiteral("healthy.successes"), hc.healthySuccesses != 2))
        healthy.insert(QStringLiteral("successes"), hc.healthySuccesses);
    if (keep(ex, QStringLiteral("healthy"), !healthy.isEmpty()))
        a.insert(QStringLiteral("healthy"), healthy);
    QJsonObject unhealthy = hc.extra.value(QLatin1String("unhealthy")).toObject();
    if (keep(ex, QStringLiteral("unhealthy.interval"), hc.unhealthyInterval != 1))
        unhealthy.insert(QStringLiteral("interval"), hc.unhealthyInterval);
    if (keep(ex, QStringLiteral("unhealthy.tcp_failures"), hc.unhealthyTcpFailures != 2))
        unhealthy.insert(QStringLiteral("tcp_failures"), hc.unhealthyTcpFailures);
    if (keep(ex, QStringLiteral("unhealthy"), !unhealthy.isEmpty()))
        a.insert(QStringLiteral("unhealthy"), unhealthy);
    return QJsonObject{{QStringLiteral("active"), a}};
}

QJsonValue encodeNodes(const Upstream& up)
{
    // The map form cannot carry priority or metadata, nor two nodes with one address.
    bool asMap = up.nodesAsMap;
    QSet<QString> addresses;
    for (const Node& node : up.nodes) {
        if (node.priority != 0 || !node.metadata.isEmpty() || addresses.contains(node.address()))
            asMap = false;
        addresses.insert(node.address());
    }
    if (asMap) {
        QJsonObject o;
        for (const Node& node : up.nodes)
            o.insert(node.address(), node.weight);
        return o;
    }
    QJsonArray a;
    for (const Node& node : up.nodes) {
        QJsonObject o{{QStringLiteral("host"), node.host},
                      {QStringLiteral("port"), node.port},
                      {QStringLiteral("weight"), node.weight}};
        if (keep(node.explicitFields, QStringLiteral("priority"), node.priority != 0))
            o.insert(QStringLiteral("priority"), node.priority);
        if (keep(node.explicitFields, QStringLiteral("metadata"), !node.metadata.isEmpty()))
            o.insert(QStringLiteral("metadata"), node.metadata);
        a.append(o);
    }
    return a;
}

} // namespace

namespace detail {

// ---- upstream -------------------------------------------------------------------------------

void decodeUpstreamInto(Checker& c, const QJsonValue& v, const QString& path, DecodeMode mode,
                        Upstream& up)
{
    if (!c.expectObject(v, path))
        return;
    const QJsonObject o = v.toObject();
    c.closed(o, path,
             {"id", "name", "desc", "labels", "type", "nodes", "hash_on", "key", "retries",
              "retry_timeout", "timeout", "checks", "scheme", "create_time", "update_time"},
             {"tls", "keepalive_pool", "pass_host", "upstream_host", "service_name",
              "discovery_type", "discovery_args"});
    detail::decodeHead(c, o, path, up);
    if (o.contains(QLatin1String("type"))) {
        const QString p = childPath(path, QStringLiteral("type"));
        if (auto type = c.string(o.value(QLatin1String("type")), p, 0, -1)) {
            if (*type == QLatin1String("roundrobin") || *type == QLatin1String("chash") ||
                *type == QLatin1String("least_conn")) {
                up.type = *type;
                if (up.type == QLatin1String("roundrobin"))
                    up.explicitFields << QStringLiteral("type");
            } else {
                // APISIX's schema takes any balancer name (ewma, or one of a plugin's).
                c.fail(p, *type,
                       QStringLiteral("type %1: not supported by Streamgate; use roundrobin, "
                                      "chash or least_conn")
                           .arg(*type));
            }
        }
    }
    const QString nodesPath = childPath(path, QStringLiteral("nodes"));
    if (o.contains(QLatin1String("nodes")))
        decodeNodes(c, o.value(QLatin1String("nodes")), nodesPath, up);
    else
        c.fail(nodesPath, QJsonValue(QJsonValue::Undefined),
               QStringLiteral("property \"nodes\" is required"));

    QString hashOn = QStringLiteral("vars");
    if (o.contains(QLatin1String("hash_on"))) {
        const QString p = childPath(path, QStringLiteral("hash_on"));
        if (auto h = c.string(o.value(QLatin1String("hash_on")), p, 0, -1)) {
            if (*h == QLatin1String("vars") || *h == QLatin1String("vars_combinations")) {
                up.hashOn = *h;
                hashOn = *h;
            } else if (*h == QLatin1String("header") || *h == QLatin1String("cookie") ||
                       *h == QLatin1String("consumer")) {
                c.fail(p, *h,
                       QStringLiteral("hash_on %1: not supported by Streamgate (HTTP only); "
                                      "stream routes hash on vars or vars_combinations")
                           .arg(*h));
            } else {
                c.fail(p, *h, QStringLiteral("hash_on must be vars or vars_combinations"));
            }
        }
    }
    const QString keyPath = childPath(path, QStringLiteral("key"));
    if (o.contains(QLatin1String("key"))) {
        if (auto key = c.string(o.value(QLatin1String("key")), keyPath, 1, -1)) {
            const QString error =
                hashOn == QLatin1String("vars_combinations")
                    ? checkVarCombination(*key)
                    : (isStreamVar(*key)
                           ? QString()
                           : QStringLiteral("chash key %1: not supported by Streamgate, which "
                                            "hashes stream routes on one of %2")
                                 .arg(*key, kStreamKeys));
            if (error.isEmpty())
                up.key = *key;
            else
                c.fail(keyPath, *key, error);
        }
    } else if (up.type == QLatin1String("chash")) {
        c.fail(keyPath, QJsonValue(QJsonValue::Undefined),
               QStringLiteral("property \"key\" is required when type is chash (e.g. "
                              "remote_addr)"));
    }
    if (o.contains(QLatin1String("retries"))) {
        if (auto r = c.integer(o.value(QLatin1String("retries")),
                               childPath(path, QStringLiteral("retries")), 0,
                               std::numeric_limits<int>::max()))
            up.retries = int(*r);
    }
    if (o.contains(QLatin1String("retry_timeout"))) {
        if (auto t = c.number(o.value(QLatin1String("retry_timeout")),
                              childPath(path, QStringLiteral("retry_timeout")), 0))
            up.retryTimeout = *t;
    }
    if (o.contains(QLatin1String("timeout"))) {
        const QString p = childPath(path, QStringLiteral("timeout"));
        const QJsonValue tv = o.value(QLatin1String("timeout"));
        if (c.expectObject(tv, p)) {
            const QJsonObject t = tv.toObject();
            c.closed(t, p, {"connect", "send", "read"});
            Timeout timeout;
            bool ok = c.required(t, p, {"connect", "send", "read"});
            const auto field = [&](const char* key, double& out) {
                const QString k = QLatin1String(key);
                if (!t.contains(k))
                    return;
                if (auto n = c.positiveNumber(t.value(k), childPath(p, k)))
                    out = *n;
                else
                    ok = false;
            };
            field("connect", timeout.connect);
            field("send", timeout.send);
            field("read", timeout.read);
            if (ok)
                up.timeout = timeout;
        }
    }
    if (o.contains(QLatin1String("checks")))
        decodeChecks(c, o.value(QLatin1String("checks")), childPath(path, QStringLiteral("checks")),
                     up);
    if (o.contains(QLatin1String("scheme"))) {
        const QString p = childPath(path, QStringLiteral("scheme"));
        if (auto s = c.string(o.value(QLatin1String("scheme")), p, 0, -1)) {
            // "http" is the schema's default, which APISIX's stream proxy runs as tcp.
            if (*s == QLatin1String("tcp") || *s == QLatin1String("udp") ||
                *s == QLatin1String("tls") || *s == QLatin1String("http"))
                up.scheme = *s;
            else if (*s == QLatin1String("https") || *s == QLatin1String("grpc") ||
                     *s == QLatin1String("grpcs") || *s == QLatin1String("kafka"))
                c.fail(p, *s,
                       QStringLiteral("scheme %1: not supported by Streamgate (stream upstreams "
                                      "are reached over tcp or udp)")
                           .arg(*s));
            else
                c.fail(p, *s, QStringLiteral("scheme must be one of tcp, udp, tls, http"));
        }
    }
    detail::decodeTimes(c, o, path, mode, up);
}

} // namespace detail

Decoded<Upstream> decodeUpstream(const QJsonValue& json, const QString& path, DecodeMode mode)
{
    Checker c;
    Decoded<Upstream> result;
    decodeUpstreamInto(c, json, path, mode, result.value);
    result.problems = c.problems;
    return result;
}

QJsonObject encodeUpstream(const Upstream& up)
{
    QJsonObject o;
    const QStringList& ex = up.explicitFields;
    detail::encodeHead(o, up);
    if (keep(ex, QStringLiteral("type"), up.type != QLatin1String("roundrobin")))
        o.insert(QStringLiteral("type"), up.type);
    o.insert(QStringLiteral("nodes"), encodeNodes(up));
    if (!up.hashOn.isEmpty())
        o.insert(QStringLiteral("hash_on"), up.hashOn);
    if (!up.key.isEmpty())
        o.insert(QStringLiteral("key"), up.key);
    if (up.retries)
        o.insert(QStringLiteral("retries"), *up.retries);
    if (up.retryTimeout)
        o.insert(QStringLiteral("retry_timeout"), *up.retryTimeout);
    if (up.timeout)
        o.insert(QStringLiteral("timeout"),
                 QJsonObject{{QStringLiteral("connect"), up.timeout->connect},
                             {QStringLiteral("send"), up.timeout->send},
                             {QStringLiteral("read"), up.timeout->read}});
    if (up.checks) {
        QJsonObject checks = encodeChecks(*up.checks);
        if (up.passiveChecks)
            checks.insert(QStringLiteral("passive"), up.passiveChecks->given);
        o.insert(QStringLiteral("checks"), checks);
    }
    if (!up.scheme.isEmpty())
        o.insert(QStringLiteral("scheme"), up.scheme);
    detail::encodeTimes(o, up);
    return o;
}

} // namespace sg
