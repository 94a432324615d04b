#include "model/codec.h"

#include "model/jsoncheck.h"

#include <QHostAddress>
#include <QJsonArray>
#include <QSet>
#include <algorithm>
#include <limits>

namespace sg {

namespace {

using detail::Checker;
using detail::childPath;
using detail::indexPath;

const QString kStreamKeys = QStringLiteral("remote_addr, server_addr, server_port");

// Character-class checks are written out rather than regular expressions: they run on every
// decode, from whichever thread validates (GUI, admin API), with nothing shared.
bool isAsciiDigit(QChar c)
{
    return c >= QLatin1Char('0') && c <= QLatin1Char('9');
}

bool isAsciiAlnum(QChar c)
{
    return isAsciiDigit(c) || (c >= QLatin1Char('a') && c <= QLatin1Char('z')) ||
           (c >= QLatin1Char('A') && c <= QLatin1Char('Z'));
}

// [0-9a-zA-Z._-]+ : APISIX's host and id alphabet.
bool isNameChars(QStringView text)
{
    if (text.isEmpty())
        return false;
    for (QChar c : text) {
        if (!isAsciiAlnum(c) && c != QLatin1Char('.') && c != QLatin1Char('_') &&
            c != QLatin1Char('-'))
            return false;
    }
    return true;
}

// 1 to maxDigits ASCII digits, nothing else (no sign, no spaces).
bool isDigits(QStringView text, int maxDigits)
{
    if (text.isEmpty() || text.size() > maxDigits)
        return false;
    for (QChar c : text) {
        if (!isAsciiDigit(c))
            return false;
    }
    return true;
}

// Port text as in "host:port": 1-65535, or 0 when it is not a port.
int parsePort(QStringView text)
{
    if (!isDigits(text, 5))
        return 0;
    const int port = text.toInt();
    return port <= 65535 ? port : 0;
}

// APISIX host_def pattern ^\*?[0-9a-zA-Z-._]+$
bool isSniName(const QString& host)
{
    return isNameChars(host.startsWith(QLatin1Char('*')) ? QStringView(host).mid(1)
                                                         : QStringView(host));
}

// Strict dotted quad: four decimal octets 0-255 without leading zeros ("127.1" and "01.2.3.4"
// are refused, as APISIX's ipv4 format refuses them).
bool isIpv4(const QString& text)
{
    const QList<QStringView> parts = QStringView(text).split(QLatin1Char('.'));
    if (parts.size() != 4)
        return false;
    for (QStringView part : parts) {
        if (!isDigits(part, 3) || (part.size() > 1 && part.front() == QLatin1Char('0')) ||
            part.toInt() > 255)
            return false;
    }
    return true;
}

// APISIX host_def without the leading wildcard (a node is one host, never a pattern). A
// name made only of digits and dots is meant as an IPv4 address and must be a valid one.
bool isHostName(const QString& host)
{
    if (!isNameChars(host))
        return false;
    for (QChar c : host) {
        if (!isAsciiDigit(c) && c != QLatin1Char('.'))
            return true;
    }
    return isIpv4(host);
}

bool isIpv6(const QString& text)
{
    // Only hex digits, ':' and '.' (embedded IPv4): QHostAddress would also take surrounding
    // spaces and scope ids (fe80::1%eth0), and a route or allow-list entry names networks.
    if (!text.contains(QLatin1Char(':')))
        return false;
    for (QChar c : text) {
        const bool hex = isAsciiDigit(c) || (c >= QLatin1Char('a') && c <= QLatin1Char('f')) ||
                         (c >= QLatin1Char('A') && c <= QLatin1Char('F'));
        if (!hex && c != QLatin1Char(':') && c != QLatin1Char('.'))
            return false;
    }
    QHostAddress address;
    return address.setAddress(text) && address.protocol() == QAbstractSocket::IPv6Protocol;
}

// ---- labels, ids, timestamps --------------------------------------------------------------

void decodeLabels(Checker& c, const QJsonValue& v, const QString& path, Labels& out)
{
    if (!c.expectObject(v, path))
        return;
    const QJsonObject o = v.toObject();
    if (o.size() > 16)
        c.fail(path, v, QStringLiteral("at most 16 labels are allowed"));
    for (auto it = o.begin(); it != o.end(); ++it) {
        const QString p = childPath(path, it.key());
        if (!it.value().isString()) {
            c.wrongType(p, it.value(), QStringLiteral("string"));
            continue;
        }
        const QString value = it.value().toString();
        const bool hasSpace =
            std::any_of(value.begin(), value.end(), [](QChar ch) { return ch.isSpace(); });
        if (value.isEmpty() || value.size() > 64 || hasSpace) {
            c.fail(p, it.value(),
                   QStringLiteral("label values must be 1-64 characters without spaces"));
            continue;
        }
        out.insert(it.key(), value);
    }
}

void decodeId(Checker& c, const QJsonValue& v, const QString& path, QJsonValue& out)
{
    const QString rule = QStringLiteral(
        "must be a string of 1-64 characters from a-z, A-Z, 0-9, \"-\", \"_\", \".\" or an "
        "integer >= 1");
    if (v.isString()) {
        if (!isApisixIdText(v.toString())) {
            c.fail(path, v, rule);
            return;
        }
        out = v;
        return;
    }
    if (detail::isInteger(v) && v.toDouble() >= 1) {
        out = v;
        return;
    }
    c.fail(path, v, rule);
}

void decodeTimestamp(Checker& c, const QJsonObject& o, const QString& key, const QString& path,
                     DecodeMode mode, qint64& out, QStringList& explicitFields)
{
    if (!o.contains(key))
        return;
    const QString p = childPath(path, key);
    if (mode == DecodeMode::Client) {
        c.fail(p, o.value(key),
               QStringLiteral("%1 is set by the server and cannot be given").arg(key));
        return;
    }
    if (auto t = c.integer(o.value(key), p, 0, std::numeric_limits<qint64>::max())) {
        out = *t;
        if (out == 0)
            explicitFields << key;
    }
}

// Strings with optional length bounds; empty-but-given values are remembered for re-encode.
void decodeString(Checker& c, const QJsonObject& o, const QString& key, const QString& path,
                  int minLength, int maxLength, QString& out, QStringList& explicitFields)
{
    if (!o.contains(key))
        return;
    const QString p = childPath(path, key);
    if (auto s = c.string(o.value(key), p, minLength, maxLength)) {
        out = *s;
        if (out.isEmpty())
            explicitFields << key;
    }
}

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
        if (o.isEmpty()) {
            c.fail(path, v, QStringLiteral("at least one node is required"));
            return;
        }
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
        std::stable_sort(up.nodes.begin(), up.nodes.end(), [](const Node& a, const Node& b) {
            return a.address() < b.address();
        });
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
        if (a.isEmpty()) {
            c.fail(path, v, QStringLiteral("at least one node is required"));
            return;
        }
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

// ---- chash key ------------------------------------------------------------------------------

bool isStreamVar(const QString& name)
{
    return name == QLatin1String("remote_addr") || name == QLatin1String("server_addr") ||
           name == QLatin1String("server_port");
}

// "$remote_addr $server_port": every $name must be a variable a stream connection has.
QString checkVarCombination(const QString& key)
{
    int count = 0;
    for (qsizetype i = key.indexOf(QLatin1Char('$')); i >= 0;
         i = key.indexOf(QLatin1Char('$'), i + 1)) {
        // $name or ${name}; the name runs over [A-Za-z0-9_].
        qsizetype start = i + 1;
        if (start < key.size() && key.at(start) == QLatin1Char('{'))
            ++start;
        qsizetype end = start;
        while (end < key.size() && (isAsciiAlnum(key.at(end)) || key.at(end) == QLatin1Char('_')))
            ++end;
        if (end == start)
            continue;
        const QString name = key.mid(start, end - start);
        if (!isStreamVar(name))
            return QStringLiteral("$%1 is not available for stream routes; use %2")
                .arg(name, kStreamKeys);
        ++count;
    }
    if (count == 0)
        return QStringLiteral("a var_combination key needs at least one $variable, e.g. "
                              "\"$remote_addr $server_port\"");
    return {};
}

// ---- health checks --------------------------------------------------------------------------

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
    if (o.contains(statuses)) {
        const QString p = childPath(path, statuses);
        if (c.expectArray(o.value(statuses), p, 1)) {
            const QJsonArray a = o.value(statuses).toArray();
            bool ok = true;
            for (qsizetype i = 0; i < a.size(); ++i)
                ok = c.integer(a.at(i), indexPath(p, i), 200, 599).has_value() && ok;
            if (ok)
                extra.insert(statuses, a);
        }
    }
}

void decodeChecks(Checker& c, const QJsonValue& v, const QString& path, Upstream& up)
{
    if (!c.expectObject(v, path))
        return;
    const QJsonObject o = v.toObject();
    c.closed(o, path, {"active", "passive"});
    if (o.contains(QLatin1String("passive")))
        c.fail(childPath(path, QStringLiteral("passive")), o.value(QLatin1String("passive")),
               QStringLiteral("passive health checks are not supported for stream routes; use "
                              "active checks of type tcp"));
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
             {"type", "timeout", "concurrency", "host", "port", "http_path",
              "https_verify_certificate", "healthy", "unhealthy", "req_headers"});
    ActiveHealthCheck hc;
    if (a.contains(QLatin1String("type"))) {
        const QString p = childPath(ap, QStringLiteral("type"));
        if (auto type = c.string(a.value(QLatin1String("type")), p, 0, -1)) {
            if (*type != QLatin1String("tcp"))
                c.fail(p, *type,
                       QStringLiteral("stream upstreams are checked over tcp: type must be "
                                      "\"tcp\""));
            else
                hc.explicitFields << QStringLiteral("type");
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
    if (a.contains(QLatin1String("http_path")) &&
        c.string(a.value(QLatin1String("http_path")), childPath(ap, QStringLiteral("http_path")), 0,
                 -1))
        hc.extra.insert(QStringLiteral("http_path"), a.value(QLatin1String("http_path")));
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

// ---- upstream -------------------------------------------------------------------------------

void decodeUpstreamInto(Checker& c, const QJsonValue& v, const QString& path, DecodeMode mode,
                        Upstream& up)
{
    if (!c.expectObject(v, path))
        return;
    const QJsonObject o = v.toObject();
    c.closed(o, path,
             {"id", "name", "desc", "labels", "type", "nodes", "hash_on", "key", "retries",
              "retry_timeout", "timeout", "checks", "scheme", "create_time", "update_time"});
    if (o.contains(QLatin1String("id")))
        decodeId(c, o.value(QLatin1String("id")), childPath(path, QStringLiteral("id")), up.id);
    decodeString(c, o, QStringLiteral("name"), path, 1, 256, up.name, up.explicitFields);
    decodeString(c, o, QStringLiteral("desc"), path, 0, 256, up.desc, up.explicitFields);
    if (o.contains(QLatin1String("labels"))) {
        decodeLabels(c, o.value(QLatin1String("labels")), childPath(path, QStringLiteral("labels")),
                     up.labels);
        if (o.value(QLatin1String("labels")).toObject().isEmpty())
            up.explicitFields << QStringLiteral("labels");
    }
    if (o.contains(QLatin1String("type"))) {
        const QString p = childPath(path, QStringLiteral("type"));
        if (auto type = c.string(o.value(QLatin1String("type")), p, 0, -1)) {
            if (*type == QLatin1String("roundrobin") || *type == QLatin1String("chash") ||
                *type == QLatin1String("least_conn")) {
                up.type = *type;
                if (up.type == QLatin1String("roundrobin"))
                    up.explicitFields << QStringLiteral("type");
            } else if (*type == QLatin1String("ewma")) {
                c.fail(p, *type,
                       QStringLiteral("ewma is not supported for stream routes; use "
                                      "roundrobin, chash or least_conn"));
            } else {
                c.fail(p, *type,
                       QStringLiteral("type must be one of roundrobin, chash, least_conn"));
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
                       QStringLiteral("hash_on %1 is HTTP only; stream routes hash on vars or "
                                      "vars_combinations")
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
                    : (isStreamVar(*key) ? QString()
                                         : QStringLiteral("chash key must be one of %1 for stream "
                                                          "routes")
                                               .arg(kStreamKeys));
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
            if (*s == QLatin1String("tcp") || *s == QLatin1String("udp") ||
                *s == QLatin1String("tls"))
                up.scheme = *s;
            else
                c.fail(p, *s, QStringLiteral("scheme must be tcp, udp or tls for stream routes"));
        }
    }
    decodeTimestamp(c, o, QStringLiteral("create_time"), path, mode, up.createTime,
                    up.explicitFields);
    decodeTimestamp(c, o, QStringLiteral("update_time"), path, mode, up.updateTime,
                    up.explicitFields);
}

// ---- plugins --------------------------------------------------------------------------------

void decodeAddressList(Checker& c, const QJsonValue& v, const QString& path, QStringList& out)
{
    if (!c.expectArray(v, path, 0))
        return;
    const QJsonArray a = v.toArray();
    if (a.isEmpty()) {
        c.fail(path, v, QStringLiteral("must list at least one IP address or CIDR"));
        return;
    }
    for (qsizetype i = 0; i < a.size(); ++i) {
        const QString p = indexPath(path, i);
        if (auto s = c.string(a.at(i), p, 0, -1)) {
            if (isIpOrCidr(*s))
                out << *s;
            else
                c.fail(p, *s, QStringLiteral("invalid ip address: %1").arg(*s));
        }
    }
}

void decodeIpRestriction(Checker& c, const QJsonValue& v, const QString& path, Plugins& plugins)
{
    if (!c.expectObject(v, path))
        return;
    const QJsonObject o = v.toObject();
    c.closed(o, path, {"whitelist", "blacklist", "message"});
    const bool white = o.contains(QLatin1String("whitelist"));
    const bool black = o.contains(QLatin1String("blacklist"));
    const int before = int(c.problems.size());
    if (white && black)
        c.fail(path, v, QStringLiteral("give either whitelist or blacklist, not both"));
    else if (!white && !black)
        c.fail(path, v, QStringLiteral("one of whitelist or blacklist is required"));
    IpRestrictionConf conf;
    if (white)
        decodeAddressList(c, o.value(QLatin1String("whitelist")),
                          childPath(path, QStringLiteral("whitelist")), conf.whitelist);
    if (black)
        decodeAddressList(c, o.value(QLatin1String("blacklist")),
                          childPath(path, QStringLiteral("blacklist")), conf.blacklist);
    if (o.contains(QLatin1String("message"))) {
        if (auto m = c.string(o.value(QLatin1String("message")),
                              childPath(path, QStringLiteral("message")), 1, 1024))
            conf.message = *m;
    }
    if (c.problems.size() == before)
        plugins.ipRestriction = conf;
}

void decodeLimitConn(Checker& c, const QJsonValue& v, const QString& path, Plugins& plugins)
{
    if (!c.expectObject(v, path))
        return;
    const QJsonObject o = v.toObject();
    const int before = int(c.problems.size());
    // policy/rejected_*/allow_degradation are accepted because APISIX stores them with their
    // defaults; they are kept for export but mean nothing to a stream connection.
    c.closed(o, path,
             {"conn", "burst", "default_conn_delay", "key", "key_type", "only_use_default_delay",
              "policy", "rejected_code", "rejected_msg", "allow_degradation"});
    c.required(o, path, {"conn", "burst", "default_conn_delay", "key"});
    LimitConnConf conf;
    if (o.contains(QLatin1String("conn"))) {
        if (auto n =
                c.integer(o.value(QLatin1String("conn")), childPath(path, QStringLiteral("conn")),
                          1, std::numeric_limits<int>::max()))
            conf.conn = int(*n);
    }
    if (o.contains(QLatin1String("burst"))) {
        if (auto n =
                c.integer(o.value(QLatin1String("burst")), childPath(path, QStringLiteral("burst")),
                          0, std::numeric_limits<int>::max()))
            conf.burst = int(*n);
    }
    if (o.contains(QLatin1String("default_conn_delay"))) {
        if (auto n = c.positiveNumber(o.value(QLatin1String("default_conn_delay")),
                                      childPath(path, QStringLiteral("default_conn_delay"))))
            conf.defaultConnDelay = *n;
    }
    if (o.contains(QLatin1String("key_type"))) {
        const QString p = childPath(path, QStringLiteral("key_type"));
        if (auto kt = c.string(o.value(QLatin1String("key_type")), p, 0, -1)) {
            if (*kt == QLatin1String("var") || *kt == QLatin1String("var_combination"))
                conf.keyType = *kt;
            else
                c.fail(p, *kt, QStringLiteral("key_type must be var or var_combination"));
        }
    }
    if (o.contains(QLatin1String("key"))) {
        const QString p = childPath(path, QStringLiteral("key"));
        if (auto key = c.string(o.value(QLatin1String("key")), p, 1, -1)) {
            const QString error =
                conf.keyType == QLatin1String("var_combination")
                    ? checkVarCombination(*key)
                    : (isStreamVar(*key)
                           ? QString()
                           : QStringLiteral("key must be one of %1 for stream routes (or use "
                                            "key_type var_combination)")
                                 .arg(kStreamKeys));
            if (error.isEmpty())
                conf.key = *key;
            else
                c.fail(p, *key, error);
        }
    }
    if (o.contains(QLatin1String("only_use_default_delay"))) {
        if (auto b = c.boolean(o.value(QLatin1String("only_use_default_delay")),
                               childPath(path, QStringLiteral("only_use_default_delay"))))
            conf.onlyUseDefaultDelay = *b;
    }
    if (o.contains(QLatin1String("policy"))) {
        const QString p = childPath(path, QStringLiteral("policy"));
        if (auto policy = c.string(o.value(QLatin1String("policy")), p, 0, -1)) {
            if (*policy == QLatin1String("redis") || *policy == QLatin1String("redis-cluster"))
                c.fail(p, *policy,
                       QStringLiteral("policy %1 is not supported: connections are counted "
                                      "locally (policy local)")
                           .arg(*policy));
            else if (*policy != QLatin1String("local"))
                c.fail(p, *policy, QStringLiteral("policy must be local"));
        }
    }
    if (o.contains(QLatin1String("rejected_code")))
        c.integer(o.value(QLatin1String("rejected_code")),
                  childPath(path, QStringLiteral("rejected_code")), 200, 599);
    if (o.contains(QLatin1String("rejected_msg")))
        c.string(o.value(QLatin1String("rejected_msg")),
                 childPath(path, QStringLiteral("rejected_msg")), 1, -1);
    if (o.contains(QLatin1String("allow_degradation")))
        c.boolean(o.value(QLatin1String("allow_degradation")),
                  childPath(path, QStringLiteral("allow_degradation")));
    if (c.problems.size() == before)
        plugins.limitConn = conf;
}

void decodePlugins(Checker& c, const QJsonValue& v, const QString& path, Plugins& plugins)
{
    if (!c.expectObject(v, path))
        return;
    const QJsonObject o = v.toObject();
    for (auto it = o.begin(); it != o.end(); ++it) {
        const QString p = childPath(path, it.key());
        if (it.key() == QLatin1String("ip-restriction"))
            decodeIpRestriction(c, it.value(), p, plugins);
        else if (it.key() == QLatin1String("limit-conn"))
            decodeLimitConn(c, it.value(), p, plugins);
        else
            c.fail(p, it.value(), QStringLiteral("unknown plugin [%1]").arg(it.key()));
    }
    plugins.raw = o;
}

// ---- stream route ---------------------------------------------------------------------------

void decodeRouteInto(Checker& c, const QJsonValue& v, const QString& path, DecodeMode mode,
                     StreamRoute& r)
{
    if (!c.expectObject(v, path))
        return;
    const QJsonObject o = v.toObject();
    c.closed(o, path,
             {"id", "name", "desc", "labels", "remote_addr", "server_addr", "server_port", "sni",
              "upstream", "upstream_id", "plugins", "protocol", "create_time", "update_time"});
    if (o.contains(QLatin1String("id")))
        decodeId(c, o.value(QLatin1String("id")), childPath(path, QStringLiteral("id")), r.id);
    decodeString(c, o, QStringLiteral("name"), path, 1, 256, r.name, r.explicitFields);
    decodeString(c, o, QStringLiteral("desc"), path, 0, 256, r.desc, r.explicitFields);
    if (o.contains(QLatin1String("labels"))) {
        decodeLabels(c, o.value(QLatin1String("labels")), childPath(path, QStringLiteral("labels")),
                     r.labels);
        if (o.value(QLatin1String("labels")).toObject().isEmpty())
            r.explicitFields << QStringLiteral("labels");
    }
    for (const char* field : {"remote_addr", "server_addr"}) {
        const QString key = QLatin1String(field);
        if (!o.contains(key))
            continue;
        const QString p = childPath(path, key);
        if (auto addr = c.string(o.value(key), p, 0, -1)) {
            if (!isIpOrCidr(*addr))
                c.fail(p, *addr, QStringLiteral("invalid %1: %2").arg(key, *addr));
            else if (key == QLatin1String("remote_addr"))
                r.remoteAddr = *addr;
            else
                r.serverAddr = *addr;
        }
    }
    if (o.contains(QLatin1String("server_port"))) {
        if (auto port = c.integer(o.value(QLatin1String("server_port")),
                                  childPath(path, QStringLiteral("server_port")), 1, 65535))
            r.serverPort = int(*port);
    }
    if (o.contains(QLatin1String("sni"))) {
        const QString p = childPath(path, QStringLiteral("sni"));
        if (auto sni = c.string(o.value(QLatin1String("sni")), p, 0, -1)) {
            if (isSniName(*sni))
                r.sni = *sni;
            else
                c.fail(p, *sni,
                       QStringLiteral("sni must be a host name such as "
                                      "db.example.com or *.example.com"));
        }
    }
    const bool hasUpstream = o.contains(QLatin1String("upstream"));
    const bool hasUpstreamId = o.contains(QLatin1String("upstream_id"));
    if (hasUpstream) {
        Upstream up;
        const int before = int(c.problems.size());
        decodeUpstreamInto(c, o.value(QLatin1String("upstream")),
                           childPath(path, QStringLiteral("upstream")), mode, up);
        if (c.problems.size() == before)
            r.upstream = up;
    }
    if (hasUpstreamId)
        decodeId(c, o.value(QLatin1String("upstream_id")),
                 childPath(path, QStringLiteral("upstream_id")), r.upstreamId);
    if (hasUpstream && hasUpstreamId)
        c.fail(childPath(path, QStringLiteral("upstream_id")),
               o.value(QLatin1String("upstream_id")),
               QStringLiteral("give either upstream or upstream_id, not both"));
    else if (!hasUpstream && !hasUpstreamId)
        c.fail(path, QJsonValue(QJsonValue::Undefined),
               QStringLiteral("a stream route needs an upstream or an upstream_id"));
    if (o.contains(QLatin1String("plugins"))) {
        decodePlugins(c, o.value(QLatin1String("plugins")),
                      childPath(path, QStringLiteral("plugins")), r.plugins);
        if (r.plugins.raw.isEmpty())
            r.explicitFields << QStringLiteral("plugins");
    }
    if (o.contains(QLatin1String("protocol"))) {
        if (c.expectObject(o.value(QLatin1String("protocol")),
                           childPath(path, QStringLiteral("protocol")))) {
            r.protocol = o.value(QLatin1String("protocol")).toObject();
            if (r.protocol.isEmpty())
                r.explicitFields << QStringLiteral("protocol");
        }
    }
    decodeTimestamp(c, o, QStringLiteral("create_time"), path, mode, r.createTime,
                    r.explicitFields);
    decodeTimestamp(c, o, QStringLiteral("update_time"), path, mode, r.updateTime,
                    r.explicitFields);
}

// ---- listen entries -------------------------------------------------------------------------

void decodeListenInto(Checker& c, const QJsonValue& v, const QString& path, ListenEntry& entry,
                      bool& ok)
{
    ok = false;
    const QString portRule = QStringLiteral("port must be 1-65535");
    if (v.isDouble()) {
        if (auto port = c.integer(v, path, 1, 65535, portRule)) {
            entry.port = int(*port);
            entry.given = v;
            ok = true;
        }
        return;
    }
    if (!v.isString()) {
        c.fail(path, v,
               QStringLiteral("a listener is a port (9100) or \"ip:port\" (\"127.0.0.1:9100\", "
                              "\"[::1]:9100\")"));
        return;
    }
    const QString text = v.toString();
    QString host;
    QString portText;
    if (text.startsWith(QLatin1Char('['))) {
        const qsizetype close = text.indexOf(QLatin1Char(']'));
        if (close < 0 || text.mid(close + 1, 1) != QLatin1String(":")) {
            c.fail(path, v, QStringLiteral("expected \"[ipv6]:port\""));
            return;
        }
        host = text.mid(1, close - 1);
        portText = text.mid(close + 2);
        if (!isIpv6(host)) {
            c.fail(path, v, QStringLiteral("invalid IPv6 address \"%1\"").arg(host));
            return;
        }
    } else if (text.contains(QLatin1Char(':'))) {
        const qsizetype colon = text.lastIndexOf(QLatin1Char(':'));
        host = text.left(colon);
        portText = text.mid(colon + 1);
        if (host.contains(QLatin1Char(':'))) {
            c.fail(path, v,
                   QStringLiteral("IPv6 addresses must be in brackets, e.g. \"[::1]:9100\""));
            return;
        }
        if (!isIpv4(host)) {
            c.fail(path, v,
                   QStringLiteral("listen address must be an IP address, not \"%1\"").arg(host));
            return;
        }
    } else {
        portText = text;
    }
    const int port = parsePort(portText);
    if (port == 0) {
        c.fail(path, v, portRule);
        return;
    }
    entry.host = host;
    entry.port = port;
    entry.given = v;
    ok = true;
}

void decodeListenList(Checker& c, const QJsonValue& v, const QString& path, QList<ListenEntry>& out)
{
    if (!c.expectArray(v, path, 0))
        return;
    const QJsonArray a = v.toArray();
    QHash<QString, qsizetype> seen;
    for (qsizetype i = 0; i < a.size(); ++i) {
        const QString p = indexPath(path, i);
        ListenEntry entry;
        bool ok = false;
        decodeListenInto(c, a.at(i), p, entry, ok);
        if (!ok)
            continue;
        const QString key = entry.text();
        if (seen.contains(key)) {
            c.fail(p, a.at(i),
                   QStringLiteral("%1 is already listed as %2")
                       .arg(key, indexPath(path, seen.value(key))));
            continue;
        }
        seen.insert(key, i);
        out << entry;
    }
}

// ---- encoding -------------------------------------------------------------------------------

bool keep(const QStringList& explicitFields, const QString& name, bool nonDefault)
{
    return nonDefault || explicitFields.contains(name);
}

QJsonObject encodeLabels(const Labels& labels)
{
    QJsonObject o;
    for (auto it = labels.begin(); it != labels.end(); ++it)
        o.insert(it.key(), it.value());
    return o;
}

QJsonObject encodeChecks(const ActiveHealthCheck& hc)
{
    QJsonObject a = hc.extra;
    const QStringList& ex = hc.explicitFields;
    if (keep(ex, QStringLiteral("type"), hc.type != QLatin1String("tcp")))
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

QJsonObject encodeIpRestriction(const IpRestrictionConf& conf)
{
    QJsonObject o;
    if (!conf.whitelist.isEmpty())
        o.insert(QStringLiteral("whitelist"), QJsonArray::fromStringList(conf.whitelist));
    if (!conf.blacklist.isEmpty())
        o.insert(QStringLiteral("blacklist"), QJsonArray::fromStringList(conf.blacklist));
    if (!conf.message.isEmpty())
        o.insert(QStringLiteral("message"), conf.message);
    return o;
}

QJsonObject encodeLimitConn(const LimitConnConf& conf, const QJsonObject& given)
{
    QJsonObject o;
    for (const char* passThrough :
         {"policy", "rejected_code", "rejected_msg", "allow_degradation"}) {
        const QString key = QLatin1String(passThrough);
        if (given.contains(key))
            o.insert(key, given.value(key));
    }
    o.insert(QStringLiteral("conn"), conf.conn);
    o.insert(QStringLiteral("burst"), conf.burst);
    o.insert(QStringLiteral("default_conn_delay"), conf.defaultConnDelay);
    o.insert(QStringLiteral("key"), conf.key);
    if (conf.keyType != QLatin1String("var") || given.contains(QLatin1String("key_type")))
        o.insert(QStringLiteral("key_type"), conf.keyType);
    if (conf.onlyUseDefaultDelay || given.contains(QLatin1String("only_use_default_delay")))
        o.insert(QStringLiteral("only_use_default_delay"), conf.onlyUseDefaultDelay);
    return o;
}

QJsonObject encodePlugins(const Plugins& plugins)
{
    QJsonObject o = plugins.raw;
    const QString ip = QStringLiteral("ip-restriction");
    const QString lc = QStringLiteral("limit-conn");
    if (plugins.ipRestriction)
        o.insert(ip, encodeIpRestriction(*plugins.ipRestriction));
    else
        o.remove(ip);
    if (plugins.limitConn)
        o.insert(lc, encodeLimitConn(*plugins.limitConn, plugins.raw.value(lc).toObject()));
    else
        o.remove(lc);
    return o;
}

} // namespace

// ---- public API -----------------------------------------------------------------------------

bool isApisixIdText(QStringView text)
{
    return text.size() <= 64 && isNameChars(text);
}

bool isIpOrCidr(const QString& text)
{
    const qsizetype slash = text.indexOf(QLatin1Char('/'));
    const QString address = slash < 0 ? text : text.left(slash);
    const bool v4 = isIpv4(address);
    const bool v6 = !v4 && isIpv6(address);
    if (!v4 && !v6)
        return false;
    if (slash < 0)
        return true;
    const QStringView prefix = QStringView(text).mid(slash + 1);
    // APISIX's CIDR patterns take the prefix without leading zeros ("/8", not "/08").
    if (!isDigits(prefix, 3) || (prefix.size() > 1 && prefix.front() == QLatin1Char('0')))
        return false;
    return prefix.toInt() <= (v4 ? 32 : 128);
}

Decoded<StreamRoute> decodeStreamRoute(const QJsonValue& json, const QString& path, DecodeMode mode)
{
    Checker c;
    Decoded<StreamRoute> result;
    decodeRouteInto(c, json, path, mode, result.value);
    result.problems = c.problems;
    return result;
}

Decoded<Upstream> decodeUpstream(const QJsonValue& json, const QString& path, DecodeMode mode)
{
    Checker c;
    Decoded<Upstream> result;
    decodeUpstreamInto(c, json, path, mode, result.value);
    result.problems = c.problems;
    return result;
}

Decoded<ListenEntry> decodeListenEntry(const QJsonValue& json, const QString& path)
{
    Checker c;
    Decoded<ListenEntry> result;
    bool ok = false;
    decodeListenInto(c, json, path, result.value, ok);
    result.problems = c.problems;
    return result;
}

Decoded<Config> decodeConfig(const QJsonObject& json)
{
    Checker c;
    Decoded<Config> result;
    Config& config = result.value;
    c.closed(json, QString(), {"stream_proxy", "stream_routes", "upstreams", "streamgate"});

    const QString proxyKey = QStringLiteral("stream_proxy");
    if (json.contains(proxyKey) && c.expectObject(json.value(proxyKey), proxyKey)) {
        const QJsonObject proxy = json.value(proxyKey).toObject();
        c.closed(proxy, proxyKey, {"tcp", "udp"});
        if (proxy.isEmpty())
            config.explicitFields << proxyKey;
        for (const char* protocol : {"tcp", "udp"}) {
            const QString key = QLatin1String(protocol);
            if (!proxy.contains(key))
                continue;
            QList<ListenEntry>& list =
                key == QLatin1String("tcp") ? config.streamProxy.tcp : config.streamProxy.udp;
            decodeListenList(c, proxy.value(key), childPath(proxyKey, key), list);
            if (proxy.value(key).toArray().isEmpty())
                config.explicitFields << childPath(proxyKey, key);
        }
    }

    const QString routesKey = QStringLiteral("stream_routes");
    if (json.contains(routesKey) && c.expectArray(json.value(routesKey), routesKey, 0)) {
        const QJsonArray routes = json.value(routesKey).toArray();
        if (routes.isEmpty())
            config.explicitFields << routesKey;
        QHash<QString, qsizetype> seen;
        for (qsizetype i = 0; i < routes.size(); ++i) {
            const QString p = indexPath(routesKey, i);
            StreamRoute route;
            decodeRouteInto(c, routes.at(i), p, DecodeMode::File, route);
            const QString id = route.idString();
            if (!id.isEmpty()) {
                if (seen.contains(id))
                    c.fail(childPath(p, QStringLiteral("id")), route.id,
                           QStringLiteral("duplicate id \"%1\" (also used by %2)")
                               .arg(id, indexPath(routesKey, seen.value(id))));
                else
                    seen.insert(id, i);
            }
            config.streamRoutes << route;
        }
    }

    const QString upstreamsKey = QStringLiteral("upstreams");
    if (json.contains(upstreamsKey) && c.expectArray(json.value(upstreamsKey), upstreamsKey, 0)) {
        const QJsonArray upstreams = json.value(upstreamsKey).toArray();
        if (upstreams.isEmpty())
            config.explicitFields << upstreamsKey;
        QHash<QString, qsizetype> seen;
        for (qsizetype i = 0; i < upstreams.size(); ++i) {
            const QString p = indexPath(upstreamsKey, i);
            Upstream upstream;
            decodeUpstreamInto(c, upstreams.at(i), p, DecodeMode::File, upstream);
            const QString id = upstream.idString();
            if (!id.isEmpty()) {
                if (seen.contains(id))
                    c.fail(childPath(p, QStringLiteral("id")), upstream.id,
                           QStringLiteral("duplicate id \"%1\" (also used by %2)")
                               .arg(id, indexPath(upstreamsKey, seen.value(id))));
                else
                    seen.insert(id, i);
            }
            config.upstreams << upstream;
        }
    }

    const QString ownKey = QStringLiteral("streamgate");
    if (json.contains(ownKey) && c.expectObject(json.value(ownKey), ownKey)) {
        config.streamgate = json.value(ownKey).toObject();
        if (config.streamgate.isEmpty())
            config.explicitFields << ownKey;
        // The MySQL inspection switches (read by the engine): booleans, per route under "routes".
        const auto expectBool = [&c](const QJsonObject& o, const QString& path, const char* key) {
            const QJsonValue v = o.value(QLatin1String(key));
            if (!v.isUndefined() && !v.isBool())
                c.fail(childPath(path, QLatin1String(key)), v, QStringLiteral("must be true or false"));
        };
        expectBool(config.streamgate, ownKey, "mysql_inspect");
        const QString routesPath = childPath(ownKey, QStringLiteral("routes"));
        const QJsonValue routes = config.streamgate.value(QStringLiteral("routes"));
        if (!routes.isUndefined() && c.expectObject(routes, routesPath)) {
            const QJsonObject byId = routes.toObject();
            for (auto it = byId.begin(); it != byId.end(); ++it) {
                const QString path = childPath(routesPath, it.key());
                if (!c.expectObject(it.value(), path))
                    continue;
                expectBool(it.value().toObject(), path, "mysql_inspect");
                expectBool(it.value().toObject(), path, "mysql_commands");
            }
        }
    }
    result.problems = c.problems;
    return result;
}

QJsonObject encodeUpstream(const Upstream& up)
{
    QJsonObject o;
    const QStringList& ex = up.explicitFields;
    if (!up.id.isUndefined() && !up.id.isNull())
        o.insert(QStringLiteral("id"), up.id);
    if (keep(ex, QStringLiteral("name"), !up.name.isEmpty()))
        o.insert(QStringLiteral("name"), up.name);
    if (keep(ex, QStringLiteral("desc"), !up.desc.isEmpty()))
        o.insert(QStringLiteral("desc"), up.desc);
    if (keep(ex, QStringLiteral("labels"), !up.labels.isEmpty()))
        o.insert(QStringLiteral("labels"), encodeLabels(up.labels));
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
    if (up.checks)
        o.insert(QStringLiteral("checks"), encodeChecks(*up.checks));
    if (!up.scheme.isEmpty())
        o.insert(QStringLiteral("scheme"), up.scheme);
    if (keep(ex, QStringLiteral("create_time"), up.createTime != 0))
        o.insert(QStringLiteral("create_time"), up.createTime);
    if (keep(ex, QStringLiteral("update_time"), up.updateTime != 0))
        o.insert(QStringLiteral("update_time"), up.updateTime);
    return o;
}

QJsonObject encodeStreamRoute(const StreamRoute& r)
{
    QJsonObject o;
    const QStringList& ex = r.explicitFields;
    if (!r.id.isUndefined() && !r.id.isNull())
        o.insert(QStringLiteral("id"), r.id);
    if (keep(ex, QStringLiteral("name"), !r.name.isEmpty()))
        o.insert(QStringLiteral("name"), r.name);
    if (keep(ex, QStringLiteral("desc"), !r.desc.isEmpty()))
        o.insert(QStringLiteral("desc"), r.desc);
    if (keep(ex, QStringLiteral("labels"), !r.labels.isEmpty()))
        o.insert(QStringLiteral("labels"), encodeLabels(r.labels));
    if (!r.remoteAddr.isEmpty())
        o.insert(QStringLiteral("remote_addr"), r.remoteAddr);
    if (!r.serverAddr.isEmpty())
        o.insert(QStringLiteral("server_addr"), r.serverAddr);
    if (r.serverPort)
        o.insert(QStringLiteral("server_port"), *r.serverPort);
    if (!r.sni.isEmpty())
        o.insert(QStringLiteral("sni"), r.sni);
    if (r.upstream)
        o.insert(QStringLiteral("upstream"), encodeUpstream(*r.upstream));
    if (!r.upstreamId.isUndefined() && !r.upstreamId.isNull())
        o.insert(QStringLiteral("upstream_id"), r.upstreamId);
    const QJsonObject plugins = encodePlugins(r.plugins);
    if (keep(ex, QStringLiteral("plugins"), !plugins.isEmpty()))
        o.insert(QStringLiteral("plugins"), plugins);
    if (keep(ex, QStringLiteral("protocol"), !r.protocol.isEmpty()))
        o.insert(QStringLiteral("protocol"), r.protocol);
    if (keep(ex, QStringLiteral("create_time"), r.createTime != 0))
        o.insert(QStringLiteral("create_time"), r.createTime);
    if (keep(ex, QStringLiteral("update_time"), r.updateTime != 0))
        o.insert(QStringLiteral("update_time"), r.updateTime);
    return o;
}

QJsonValue encodeListenEntry(const ListenEntry& entry)
{
    // Keep the spelling the user chose ("9100" vs 9100) as long as it still says the same.
    if (!entry.given.isUndefined()) {
        const Decoded<ListenEntry> again = decodeListenEntry(entry.given);
        if (again.ok() && again.value == entry)
            return entry.given;
    }
    if (entry.host.isEmpty())
        return entry.port;
    return entry.text();
}

QJsonObject encodeConfig(const Config& config)
{
    QJsonObject o;
    const QStringList& ex = config.explicitFields;
    QJsonObject proxy;
    for (const bool tcp : {true, false}) {
        const QList<ListenEntry>& list = tcp ? config.streamProxy.tcp : config.streamProxy.udp;
        const QString key = tcp ? QStringLiteral("tcp") : QStringLiteral("udp");
        if (!keep(ex, QStringLiteral("stream_proxy.") + key, !list.isEmpty()))
            continue;
        QJsonArray a;
        for (const ListenEntry& entry : list)
            a.append(encodeListenEntry(entry));
        proxy.insert(key, a);
    }
    if (keep(ex, QStringLiteral("stream_proxy"), !proxy.isEmpty()))
        o.insert(QStringLiteral("stream_proxy"), proxy);
    if (keep(ex, QStringLiteral("stream_routes"), !config.streamRoutes.isEmpty())) {
        QJsonArray a;
        for (const StreamRoute& route : config.streamRoutes)
            a.append(encodeStreamRoute(route));
        o.insert(QStringLiteral("stream_routes"), a);
    }
    if (keep(ex, QStringLiteral("upstreams"), !config.upstreams.isEmpty())) {
        QJsonArray a;
        for (const Upstream& upstream : config.upstreams)
            a.append(encodeUpstream(upstream));
        o.insert(QStringLiteral("upstreams"), a);
    }
    if (keep(ex, QStringLiteral("streamgate"), !config.streamgate.isEmpty()))
        o.insert(QStringLiteral("streamgate"), config.streamgate);
    return o;
}

} // namespace sg
