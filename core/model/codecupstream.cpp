// Upstreams: nodes, hashing and timeouts (health checks: codecchecks.cpp).
#include "model/codec_p.h"

#include <QJsonArray>
#include <QRegularExpression>
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

// APISIX's upstream_hash_vars_schema: the variables a chash key with hash_on vars may name.
constexpr char kApisixHashVars[] =
    "^((uri|server_name|server_addr|request_uri|remote_port|remote_addr|query_string|host|"
    "hostname|mqtt_client_id)|arg_[0-9a-zA-z_-]+)$";

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
        // APISIX checks a port that is a number after the schema; any other is its host's.
        bool number = false;
        const qlonglong given = portText.toLongLong(&number);
        c.fail(path, key, QStringLiteral("port must be 1-65535"),
               number ? apisixCheck(QStringLiteral("invalid port %1").arg(given))
                      : ApisixWording{});
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
                          "{host, port, weight}"),
           apisixSchema(path, detail::kAnyOfNone));
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

// APISIX's upstream tls: its schema and its dependencies (client_cert and client_key together,
// client_cert_id not with them). Whether the PEM texts load and client_cert_id names an ssl of
// type client is the config check's (config/sslcheck.cpp).
void decodeUpstreamTls(Checker& c, const QJsonValue& v, const QString& path, Upstream& up)
{
    if (!c.expectObject(v, path))
        return;
    const QJsonObject o = v.toObject();
    c.closed(o, path, {"client_cert_id", "client_cert", "client_key", "verify"});
    UpstreamTls tls;
    const int before = int(c.problems.size());
    if (o.contains(u"client_cert_id"))
        detail::decodeId(c, o.value(u"client_cert_id"),
                         childPath(path, QStringLiteral("client_cert_id")), tls.clientCertId);
    if (o.contains(u"client_cert")) {
        if (auto pem = detail::pemText(c, o.value(u"client_cert"),
                                       childPath(path, QStringLiteral("client_cert")), false))
            tls.clientCert = *pem;
    }
    if (o.contains(u"client_key")) {
        if (auto pem = detail::pemText(c, o.value(u"client_key"),
                                       childPath(path, QStringLiteral("client_key")), true))
            tls.clientKey = *pem;
    }
    if (o.contains(u"verify"))
        tls.verify = c.boolean(o.value(u"verify"), childPath(path, QStringLiteral("verify")));
    const bool cert = o.contains(u"client_cert");
    const bool key = o.contains(u"client_key");
    if (cert != key)
        c.fail(childPath(path, cert ? QStringLiteral("client_key") : QStringLiteral("client_cert")),
               QJsonValue(QJsonValue::Undefined),
               QStringLiteral("property \"%1\" is required when %2 is given (a client "
                              "certificate and its private key go together)")
                   .arg(cert ? QStringLiteral("client_key") : QStringLiteral("client_cert"),
                        cert ? QStringLiteral("client_cert") : QStringLiteral("client_key")));
    if (cert && key && o.contains(u"client_cert_id"))
        c.fail(childPath(path, QStringLiteral("client_cert_id")), o.value(u"client_cert_id"),
               QStringLiteral("client_cert_id names an ssl of type client: give it or "
                              "client_cert with client_key, not both"));
    if (int(c.problems.size()) == before)
        up.tls = tls;
}

QJsonObject encodeUpstreamTls(const UpstreamTls& tls)
{
    QJsonObject o;
    if (!tls.clientCertId.isUndefined() && !tls.clientCertId.isNull())
        o.insert(QStringLiteral("client_cert_id"), tls.clientCertId);
    if (!tls.clientCert.isEmpty())
        o.insert(QStringLiteral("client_cert"), tls.clientCert);
    if (!tls.clientKey.isEmpty())
        o.insert(QStringLiteral("client_key"), tls.clientKey);
    if (tls.verify)
        o.insert(QStringLiteral("verify"), *tls.verify);
    return o;
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
              "retry_timeout", "timeout", "checks", "scheme", "tls", "create_time", "update_time"},
             {"keepalive_pool", "pass_host", "upstream_host", "service_name", "discovery_type",
              "discovery_args"});
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
    if (o.contains(QLatin1String("nodes"))) {
        const qsizetype since = c.problems.size();
        decodeNodes(c, o.value(QLatin1String("nodes")), nodesPath, up);
        c.withinAnyOf(since, nodesPath, detail::kAnyOfNone);
    } else {
        // APISIX's upstream is oneOf nodes, or service_name with discovery_type.
        c.fail(nodesPath, QJsonValue(QJsonValue::Undefined),
               QStringLiteral("property \"nodes\" is required"),
               apisixSchema(path, detail::kOneOfNone));
    }

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
                c.fail(p, *h, QStringLiteral("hash_on must be vars or vars_combinations"),
                       apisixSchema(p, detail::kNoEnumValue));
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
            // APISIX checks the key against its own pattern of variables; one that passes it
            // and is still refused here is one Streamgate does not hash on.
            const QRegularExpression apisixVars(QString::fromLatin1(kApisixHashVars));
            ApisixWording apisix;
            if (hashOn == QLatin1String("vars") && !apisixVars.match(*key).hasMatch())
                apisix =
                    apisixCheck(QStringLiteral("invalid configuration: failed to match "
                                               "pattern %1 with %2")
                                    .arg(detail::luaQuoted(QString::fromLatin1(kApisixHashVars)),
                                         detail::luaQuoted(*key)));
            if (error.isEmpty())
                up.key = *key;
            else
                c.fail(keyPath, *key, error, apisix);
        }
    } else if (up.type == QLatin1String("chash")) {
        c.fail(keyPath, QJsonValue(QJsonValue::Undefined),
               QStringLiteral("property \"key\" is required when type is chash (e.g. "
                              "remote_addr)"),
               apisixCheck(QStringLiteral("missing key")));
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
        detail::decodeChecks(c, o.value(QLatin1String("checks")),
                             childPath(path, QStringLiteral("checks")), up);
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
                c.fail(p, *s, QStringLiteral("scheme must be one of tcp, udp, tls, http"),
                       apisixSchema(p, detail::kNoEnumValue));
        }
    }
    if (o.contains(QLatin1String("tls")))
        decodeUpstreamTls(c, o.value(QLatin1String("tls")), childPath(path, QStringLiteral("tls")),
                          up);
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
        QJsonObject checks = detail::encodeChecks(*up.checks);
        if (up.passiveChecks)
            checks.insert(QStringLiteral("passive"), up.passiveChecks->given);
        o.insert(QStringLiteral("checks"), checks);
    }
    if (!up.scheme.isEmpty())
        o.insert(QStringLiteral("scheme"), up.scheme);
    if (up.tls)
        o.insert(QStringLiteral("tls"), encodeUpstreamTls(*up.tls));
    detail::encodeTimes(o, up);
    return o;
}

} // namespace sg
