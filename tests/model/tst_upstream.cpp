// upstream decoding and validation: node forms (map and array), IPv6 brackets, weights,
// priorities, balancing types, timeouts, retries and health checks (http, APISIX's default, and
// tcp; https refused).

#include "model/codec.h"
#include "modeltestutil.h"

#include <QJsonArray>
#include <QTest>

using namespace sg;
using sgtest::compact;
using sgtest::describe;
using sgtest::json;
using sgtest::merged;
using sgtest::object;

class TestUpstream : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void nodes_data();
    void nodes();
    void valid_data();
    void valid();
    void invalid_data();
    void invalid();
    void passiveLimits();
    void healthCheckValues();
    void defaults();
    void nodeAddress();
    void encodeSwitchesToArrayForPriority();
    void mapKeyWithLeadingZeroPort();
    void mapKeysForOneAddress();
    void idString();
};

namespace {

// Every stream variable a key may name, as the refusals list them.
const QString kStreamKeys =
    QStringLiteral("remote_addr, remote_port, server_addr, server_port, protocol, "
                   "proxy_protocol_addr, proxy_protocol_port, proxy_protocol_server_addr, "
                   "proxy_protocol_server_port, realip_remote_addr, realip_remote_port");

const QByteArray kBase = R"({"nodes": {"127.0.0.1:3306": 1}})";

QJsonObject upstream(const QByteArray& extra)
{
    return merged(object(kBase), object(extra));
}

QStringList describeNodes(const QList<Node>& nodes)
{
    QStringList out;
    for (const Node& n : nodes)
        out << QStringLiteral("%1|%2|%3|%4").arg(n.host).arg(n.port).arg(n.weight).arg(n.priority);
    out.sort();
    return out;
}

} // namespace

void TestUpstream::nodes_data()
{
    QTest::addColumn<QJsonValue>("nodes");
    QTest::addColumn<bool>("asMap");
    QTest::addColumn<QStringList>("expected"); // host|port|weight|priority, sorted

    QTest::newRow("map ipv4") << json(R"({"127.0.0.1:3306": 1})") << true
                              << QStringList{"127.0.0.1|3306|1|0"};
    QTest::newRow("map host name")
        << json(R"({"db.local:5432": 5})") << true << QStringList{"db.local|5432|5|0"};
    QTest::newRow("map bracketed ipv6")
        << json(R"({"[::1]:3306": 2})") << true << QStringList{"::1|3306|2|0"};
    QTest::newRow("map full ipv6")
        << json(R"({"[2001:db8::10]:443": 1})") << true << QStringList{"2001:db8::10|443|1|0"};
    QTest::newRow("map weight 0") << json(R"({"10.0.0.1:80": 0, "10.0.0.2:80": 3})") << true
                                  << QStringList{"10.0.0.1|80|0|0", "10.0.0.2|80|3|0"};
    QTest::newRow("map port 65535")
        << json(R"({"h:65535": 1})") << true << QStringList{"h|65535|1|0"};
    QTest::newRow("array ipv4") << json(R"([{"host": "127.0.0.1", "port": 5432, "weight": 1}])")
                                << false << QStringList{"127.0.0.1|5432|1|0"};
    QTest::newRow("array priorities")
        << json(R"([{"host": "a", "port": 1, "weight": 1, "priority": 2},
                    {"host": "b", "port": 2, "weight": 9, "priority": -1},
                    {"host": "c", "port": 3, "weight": 0, "priority": 0}])")
        << false << QStringList{"a|1|1|2", "b|2|9|-1", "c|3|0|0"};
    QTest::newRow("array ipv6 host without brackets")
        << json(R"([{"host": "::1", "port": 3306, "weight": 1}])") << false
        << QStringList{"::1|3306|1|0"};
    QTest::newRow("array metadata")
        << json(R"([{"host": "a", "port": 1, "weight": 1, "metadata": {"zone": "x"}}])") << false
        << QStringList{"a|1|1|0"};
    QTest::newRow("array same address twice")
        << json(R"([{"host": "a", "port": 1, "weight": 1}, {"host": "a", "port": 1, "weight": 2}])")
        << false << QStringList{"a|1|1|0", "a|1|2|0"};
}

void TestUpstream::nodes()
{
    QFETCH(QJsonValue, nodes);
    QFETCH(bool, asMap);
    QFETCH(QStringList, expected);
    QJsonObject in{{QStringLiteral("nodes"), nodes}};
    const Decoded<Upstream> d = decodeUpstream(in);
    QVERIFY2(d.ok(), qPrintable(describe(d.problems)));
    QCOMPARE(d.value.nodesAsMap, asMap);
    QCOMPARE(describeNodes(d.value.nodes), expected);
    // The form the user chose is the form written back.
    QCOMPARE(compact(encodeUpstream(d.value)), compact(in));
    const Decoded<Upstream> again = decodeUpstream(encodeUpstream(d.value));
    QVERIFY(again.ok());
    QVERIFY(again.value == d.value);
}

void TestUpstream::valid_data()
{
    QTest::addColumn<QJsonObject>("json");
    QTest::newRow("type roundrobin") << upstream(R"({"type": "roundrobin"})");
    QTest::newRow("type least_conn") << upstream(R"({"type": "least_conn"})");
    QTest::newRow("chash with key") << upstream(R"({"type": "chash", "key": "remote_addr"})");
    QTest::newRow("chash hash_on vars server_port")
        << upstream(R"({"type": "chash", "hash_on": "vars", "key": "server_port"})");
    QTest::newRow("chash vars_combinations")
        << upstream(R"({"type": "chash", "hash_on": "vars_combinations",
                    "key": "$remote_addr-$server_port"})");
    QTest::newRow("chash vars_combinations with braces")
        << upstream(R"({"type": "chash", "hash_on": "vars_combinations",
                    "key": "${remote_addr}:${server_port}"})");
    QTest::newRow("id name desc labels") << upstream(
        R"({"id": "pg", "name": "Postgres", "desc": "main", "labels": {"env": "dev"}})");
    QTest::newRow("integer id") << upstream(R"({"id": 3})");
    QTest::newRow("retries 0 and retry_timeout 0")
        << upstream(R"({"retries": 0, "retry_timeout": 0})");
    QTest::newRow("retries 3, retry_timeout 2.5")
        << upstream(R"({"retries": 3, "retry_timeout": 2.5})");
    QTest::newRow("timeout all three")
        << upstream(R"({"timeout": {"connect": 3, "send": 600, "read": 600}})");
    QTest::newRow("timeout fractions")
        << upstream(R"({"timeout": {"connect": 0.5, "send": 0.25, "read": 1.5}})");
    QTest::newRow("scheme tcp") << upstream(R"({"scheme": "tcp"})");
    QTest::newRow("scheme udp") << upstream(R"({"scheme": "udp"})");
    QTest::newRow("scheme tls") << upstream(R"({"scheme": "tls"})");
    QTest::newRow("scheme tls, tls.verify")
        << upstream(R"({"scheme": "tls", "tls": {"verify": true}})");
    QTest::newRow("tls.client_cert_id as integer")
        << upstream(R"({"scheme": "tls", "tls": {"client_cert_id": 1, "verify": false}})");
    // The schema's default, which APISIX's stream proxy runs as tcp (tools send it).
    QTest::newRow("scheme http") << upstream(R"({"scheme": "http"})");
    // APISIX's schema allows an upstream without nodes (its sessions fail; the check warns).
    QTest::newRow("map of no nodes") << object(R"({"nodes": {}})");
    QTest::newRow("array of no nodes") << object(R"({"nodes": []})");
    QTest::newRow("checks minimal") << upstream(R"({"checks": {"active": {"type": "tcp"}}})");
    QTest::newRow("checks without type") << upstream(R"({"checks": {"active": {"timeout": 2}}})");
    QTest::newRow("checks type http") << upstream(R"({"checks": {"active": {"type": "http"}}})");
    QTest::newRow("checks http with every field")
        << upstream(R"({"checks": {"active": {"type": "http", "timeout": 0.5, "port": 8080,
                    "host": "db.local", "http_method": "POST", "http_path": "/health",
                    "http_req_body": "ping", "req_headers": ["User-Agent: curl/7.29.0", "X-A: 1"],
                    "healthy": {"interval": 2, "successes": 1, "http_statuses": [200, 204]},
                    "unhealthy": {"interval": 3, "http_statuses": [500, 503], "http_failures": 1,
                                  "tcp_failures": 254, "timeouts": 1}}}})");
    QTest::newRow("checks http given as APISIX's defaults")
        << upstream(R"({"checks": {"active": {"type": "http", "timeout": 1, "http_method": "GET",
                    "http_path": "/", "http_req_body": "",
                    "healthy": {"interval": 1, "successes": 2, "http_statuses": [200, 302]},
                    "unhealthy": {"interval": 1, "http_statuses": [429, 404, 500, 501, 502, 503, 504, 505],
                                  "http_failures": 5, "tcp_failures": 2, "timeouts": 3}}}})");
    QTest::newRow("checks full") << upstream(R"({"checks": {"active": {"type": "tcp", "timeout": 1,
                    "healthy": {"interval": 1, "successes": 2},
                    "unhealthy": {"interval": 1, "tcp_failures": 2}}}})");
    QTest::newRow("checks with extra APISIX fields")
        << upstream(R"({"checks": {"active": {"type": "tcp", "concurrency": 5, "port": 3307,
                    "host": "db.local", "http_path": "/", "https_verify_certificate": false,
                    "req_headers": ["a: b"],
                    "healthy": {"interval": 3, "http_statuses": [200]},
                    "unhealthy": {"timeouts": 3, "http_failures": 5, "http_statuses": [500, 503]}}}})");
    QTest::newRow("checks empty healthy")
        << upstream(R"({"checks": {"active": {"type": "tcp", "healthy": {}}}})");
    QTest::newRow("checks passive") << upstream(R"({"checks": {"active": {"type": "tcp"},
                    "passive": {"type": "tcp", "unhealthy": {"tcp_failures": 3, "timeouts": 2}}}})");
    QTest::newRow("checks passive empty")
        << upstream(R"({"checks": {"active": {"type": "tcp"}, "passive": {}}})");
    QTest::newRow("checks passive with APISIX's http fields")
        << upstream(R"({"checks": {"active": {"type": "tcp"}, "passive": {"type": "http",
                    "healthy": {"http_statuses": [200, 201], "successes": 3},
                    "unhealthy": {"http_statuses": [500], "http_failures": 3, "tcp_failures": 0}}}})");
    QTest::newRow("timestamps") << upstream(R"({"create_time": 1, "update_time": 2})");
}

void TestUpstream::valid()
{
    QFETCH(QJsonObject, json);
    const Decoded<Upstream> d = decodeUpstream(json);
    QVERIFY2(d.ok(), qPrintable(describe(d.problems)));
    QCOMPARE(compact(encodeUpstream(d.value)), compact(json));
    const Decoded<Upstream> again = decodeUpstream(encodeUpstream(d.value));
    QVERIFY(again.ok());
    QVERIFY(again.value == d.value);
}

// checks.passive's limits as the checker uses them: APISIX's defaults (tcp_failures 2,
// timeouts 7) unless given.
void TestUpstream::passiveLimits()
{
    const auto limits = [](const QByteArray& passive) {
        const Decoded<Upstream> d =
            decodeUpstream(upstream(R"({"checks": {"active": {}, "passive": )" + passive + "}}"));
        if (!d.ok() || !d.value.passiveChecks)
            return std::pair{-1, -1};
        return std::pair{d.value.passiveChecks->unhealthyTcpFailures,
                         d.value.passiveChecks->unhealthyTimeouts};
    };
    QCOMPARE(limits("{}"), (std::pair{2, 7}));
    QCOMPARE(limits(R"({"unhealthy": {"tcp_failures": 5}})"), (std::pair{5, 7}));
    QCOMPARE(limits(R"({"unhealthy": {"timeouts": 0, "tcp_failures": 1}})"), (std::pair{1, 0}));
    QVERIFY(!decodeUpstream(upstream(R"({"checks": {"active": {}}})")).value.passiveChecks);
}

void TestUpstream::invalid_data()
{
    QTest::addColumn<QJsonObject>("json");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("reason");

    const auto nodes = [](const QByteArray& n) {
        return QJsonObject{{QStringLiteral("nodes"), json(n)}};
    };
    QTest::newRow("map port 0") << nodes(R"({"db:0": 1})") << R"(nodes["db:0"])"
                                << "db:0"
                                << "port must be 1-65535";
    QTest::newRow("map port 65536") << nodes(R"({"db:65536": 1})") << R"(nodes["db:65536"])"
                                    << "db:65536"
                                    << "port must be 1-65535";
    QTest::newRow("map port not a number") << nodes(R"({"db:http": 1})") << R"(nodes["db:http"])"
                                           << "db:http"
                                           << "port must be 1-65535";
    QTest::newRow("map without port") << nodes(R"({"db": 1})") << R"(nodes["db"])"
                                      << "db"
                                      << "a port is required for stream upstreams (\"db:3306\")";
    QTest::newRow("map ipv6 without brackets")
        << nodes(R"({"::1:3306": 1})") << R"(nodes["::1:3306"])"
        << "::1:3306"
        << "IPv6 addresses must be in brackets, e.g. \"[::1]:3306\"";
    QTest::newRow("map bracketed ipv6 without port")
        << nodes(R"({"[::1]": 1})") << R"(nodes["[::1]"])"
        << "[::1]"
        << "a port is required for stream upstreams (\"[::1]:3306\")";
    QTest::newRow("map bracketed garbage")
        << nodes(R"({"[zz::1]:80": 1})") << R"(nodes["[zz::1]:80"])"
        << "[zz::1]:80"
        << "invalid IPv6 address \"zz::1\"";
    QTest::newRow("map missing closing bracket")
        << nodes(R"({"[::1:80": 1})") << R"(nodes["[::1:80"])"
        << "[::1:80"
        << "missing \"]\" after the IPv6 address";
    QTest::newRow("map bad host") << nodes(R"({"db!:80": 1})") << R"(nodes["db!:80"])"
                                  << "db!:80"
                                  << "invalid host \"db!\"";
    QTest::newRow("map bad ipv4") << nodes(R"({"999.1.1.1:80": 1})") << R"(nodes["999.1.1.1:80"])"
                                  << "999.1.1.1:80"
                                  << "invalid host \"999.1.1.1\"";
    QTest::newRow("array short ipv4")
        << nodes(R"([{"host": "10.1", "port": 1, "weight": 1}])") << "nodes[0].host"
        << "10.1"
        << "invalid host";
    QTest::newRow("map empty host") << nodes(R"({":80": 1})") << R"(nodes[":80"])"
                                    << ":80"
                                    << "invalid host \"\"";
    QTest::newRow("map negative weight") << nodes(R"({"db:1": -1})") << R"(nodes["db:1"])"
                                         << "-1"
                                         << "weight must be an integer >= 0";
    QTest::newRow("map fractional weight") << nodes(R"({"db:1": 1.5})") << R"(nodes["db:1"])"
                                           << "1.5"
                                           << "weight must be an integer >= 0";
    QTest::newRow("map string weight") << nodes(R"({"db:1": "1"})") << R"(nodes["db:1"])"
                                       << "1"
                                       << "wrong type: expected integer, got string";
    QTest::newRow("nodes string") << nodes(R"("db:1")") << "nodes"
                                  << "db:1"
                                  << "nodes must be an object {\"host:port\": weight} or an "
                                     "array of {host, port, weight}";
    QTest::newRow("array without port")
        << nodes(R"([{"host": "a", "weight": 1}])") << "nodes[0].port"
        << ""
        << "property \"port\" is required";
    QTest::newRow("array without weight")
        << nodes(R"([{"host": "a", "port": 1}])") << "nodes[0].weight"
        << ""
        << "property \"weight\" is required";
    QTest::newRow("array without host") << nodes(R"([{"port": 1, "weight": 1}])") << "nodes[0].host"
                                        << ""
                                        << "property \"host\" is required";
    QTest::newRow("array negative weight")
        << nodes(
               R"([{"host": "a", "port": 1, "weight": 1}, {"host": "b", "port": 1, "weight": -2}])")
        << "nodes[1].weight"
        << "-2"
        << "must be an integer >= 0";
    QTest::newRow("array port 0") << nodes(R"([{"host": "a", "port": 0, "weight": 1}])")
                                  << "nodes[0].port"
                                  << "0"
                                  << "must be an integer from 1 to 65535";
    QTest::newRow("array bracketed host")
        << nodes(R"([{"host": "[::1]", "port": 1, "weight": 1}])") << "nodes[0].host"
        << "[::1]"
        << "write IPv6 hosts without brackets in the array form";
    QTest::newRow("array fractional priority")
        << nodes(R"([{"host": "a", "port": 1, "weight": 1, "priority": 1.5}])")
        << "nodes[0].priority"
        << "1.5"
        << "must be an integer";
    QTest::newRow("array metadata not object")
        << nodes(R"([{"host": "a", "port": 1, "weight": 1, "metadata": "x"}])")
        << "nodes[0].metadata"
        << "x"
        << "wrong type: expected object, got string";
    QTest::newRow("array unknown field")
        << nodes(R"([{"host": "a", "port": 1, "weight": 1, "zone": "x"}])") << "nodes[0].zone"
        << "x"
        << "additional properties forbidden, found zone";
    QTest::newRow("upstream tls unknown field")
        << upstream(R"({"tls": {"verify": true, "sni": "x"}})") << "tls.sni"
        << "x"
        << "additional properties forbidden, found sni";
    QTest::newRow("upstream tls.verify not boolean")
        << upstream(R"({"tls": {"verify": "yes"}})") << "tls.verify"
        << "yes"
        << "wrong type: expected boolean, got string";
    QTest::newRow("upstream tls client_cert and client_cert_id")
        << upstream(QStringLiteral(R"({"tls": {"client_cert_id": "c", "client_cert": "%1",
                                   "client_key": "%2"}})")
                        .arg(QString(200, u'C'), QString(100, u'K'))
                        .toUtf8())
        << "tls.client_cert_id"
        << "c"
        << "client_cert_id names an ssl of type client: give it or client_cert with client_key, "
           "not both";
    QTest::newRow("discovery_type") << upstream(R"({"discovery_type": "dns"})") << "discovery_type"
                                    << "dns"
                                    << "discovery_type is not supported by Streamgate";
    QTest::newRow("array element not object") << nodes(R"(["a:1"])") << "nodes[0]"
                                              << "a:1"
                                              << "wrong type: expected object, got string";
    QTest::newRow("no nodes") << object(R"({"type": "roundrobin"})") << "nodes"
                              << ""
                              << "property \"nodes\" is required";
    QTest::newRow("type ewma") << upstream(R"({"type": "ewma"})") << "type"
                               << "ewma"
                               << "type ewma: not supported by Streamgate; use roundrobin, "
                                  "chash or least_conn";
    QTest::newRow("type random") << upstream(R"({"type": "random"})") << "type"
                                 << "random"
                                 << "type random: not supported by Streamgate; use roundrobin, "
                                    "chash or least_conn";
    QTest::newRow("type not a string") << upstream(R"({"type": 1})") << "type"
                                       << "1"
                                       << "wrong type: expected string, got integer";
    QTest::newRow("chash without key") << upstream(R"({"type": "chash"})") << "key"
                                       << ""
                                       << "property \"key\" is required when type is chash "
                                          "(e.g. remote_addr)";
    QTest::newRow("chash http key")
        << upstream(R"({"type": "chash", "key": "uri"})") << "key"
        << "uri"
        << "chash key uri: not supported by Streamgate, which hashes stream routes on one of " +
               kStreamKeys;
    QTest::newRow("hash_on header")
        << upstream(R"({"type": "chash", "hash_on": "header", "key": "remote_addr"})") << "hash_on"
        << "header"
        << "hash_on header: not supported by Streamgate (HTTP only); stream routes hash on vars "
           "or vars_combinations";
    QTest::newRow("hash_on unknown")
        << upstream(R"({"type": "chash", "hash_on": "ip", "key": "remote_addr"})") << "hash_on"
        << "ip"
        << "hash_on must be vars or vars_combinations";
    QTest::newRow("vars_combinations without variable")
        << upstream(R"({"type": "chash", "hash_on": "vars_combinations", "key": "remote_addr"})")
        << "key"
        << "remote_addr"
        << "a var_combination key needs at least one $variable, e.g. \"$remote_addr "
           "$server_port\"";
    QTest::newRow("vars_combinations lone dollar")
        << upstream(R"({"type": "chash", "hash_on": "vars_combinations", "key": "$ $"})") << "key"
        << "$ $"
        << "a var_combination key needs at least one $variable, e.g. \"$remote_addr "
           "$server_port\"";
    QTest::newRow("timeout missing read")
        << upstream(R"({"timeout": {"connect": 1, "send": 1}})") << "timeout.read"
        << ""
        << "property \"read\" is required";
    QTest::newRow("timeout connect 0")
        << upstream(R"({"timeout": {"connect": 0, "send": 1, "read": 1}})") << "timeout.connect"
        << "0"
        << "must be a number > 0";
    QTest::newRow("timeout negative send")
        << upstream(R"({"timeout": {"connect": 1, "send": -5, "read": 1}})") << "timeout.send"
        << "-5"
        << "must be a number > 0";
    QTest::newRow("timeout string")
        << upstream(R"({"timeout": {"connect": "3s", "send": 1, "read": 1}})") << "timeout.connect"
        << "3s"
        << "wrong type: expected number, got string";
    QTest::newRow("timeout unknown field")
        << upstream(R"({"timeout": {"connect": 1, "send": 1, "read": 1, "idle": 5}})")
        << "timeout.idle"
        << "5"
        << "additional properties forbidden, found idle";
    QTest::newRow("timeout not an object") << upstream(R"({"timeout": 5})") << "timeout"
                                           << "5"
                                           << "wrong type: expected object, got integer";
    QTest::newRow("retries negative") << upstream(R"({"retries": -1})") << "retries"
                                      << "-1"
                                      << "must be an integer >= 0";
    QTest::newRow("retries fraction") << upstream(R"({"retries": 1.5})") << "retries"
                                      << "1.5"
                                      << "must be an integer >= 0";
    QTest::newRow("retry_timeout negative")
        << upstream(R"({"retry_timeout": -1})") << "retry_timeout"
        << "-1"
        << "must be a number >= 0";
    QTest::newRow("scheme https") << upstream(R"({"scheme": "https"})") << "scheme"
                                  << "https"
                                  << "scheme https: not supported by Streamgate (stream upstreams "
                                     "are reached over tcp or udp)";
    QTest::newRow("scheme unknown") << upstream(R"({"scheme": "quic"})") << "scheme"
                                    << "quic"
                                    << "scheme must be one of tcp, udp, tls, http";
    QTest::newRow("http only field pass_host")
        << upstream(R"({"pass_host": "node"})") << "pass_host"
        << "node"
        << "pass_host is not supported by Streamgate";
    QTest::newRow("checks https type")
        << upstream(R"({"checks": {"active": {"type": "https"}}})") << "checks.active.type"
        << "https"
        << "https is not supported by Streamgate (its active checks do not speak TLS); use "
           "\"http\" or "
           "\"tcp\"";
    QTest::newRow("checks type udp")
        << upstream(R"({"checks": {"active": {"type": "udp"}}})") << "checks.active.type"
        << "udp"
        << "type must be one of http, https, tcp";
    QTest::newRow("checks http status twice")
        << upstream(R"({"checks": {"active": {"unhealthy": {"http_statuses": [500, 503, 500]}}}})")
        << "checks.active.unhealthy.http_statuses[2]"
        << "500"
        << "listed twice";
    QTest::newRow("checks http status 199")
        << upstream(R"({"checks": {"active": {"unhealthy": {"http_statuses": [199]}}}})")
        << "checks.active.unhealthy.http_statuses[0]"
        << "199"
        << "must be an integer from 200 to 599";
    QTest::newRow("checks http statuses empty")
        << upstream(R"({"checks": {"active": {"healthy": {"http_statuses": []}}}})")
        << "checks.active.healthy.http_statuses"
        << "[]"
        << "must have at least 1 item(s)";
    QTest::newRow("checks http_failures 0")
        << upstream(R"({"checks": {"active": {"unhealthy": {"http_failures": 0}}}})")
        << "checks.active.unhealthy.http_failures"
        << "0"
        << "must be an integer from 1 to 254";
    QTest::newRow("checks http_failures 255")
        << upstream(R"({"checks": {"active": {"unhealthy": {"http_failures": 255}}}})")
        << "checks.active.unhealthy.http_failures"
        << "255"
        << "must be an integer from 1 to 254";
    QTest::newRow("checks timeouts 0")
        << upstream(R"({"checks": {"active": {"unhealthy": {"timeouts": 0}}}})")
        << "checks.active.unhealthy.timeouts"
        << "0"
        << "must be an integer from 1 to 254";
    QTest::newRow("checks http_method lower case")
        << upstream(R"({"checks": {"active": {"http_method": "get"}}})")
        << "checks.active.http_method"
        << "get"
        << "http_method must be one of GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS, CONNECT, "
           "TRACE, PURGE";
    QTest::newRow("checks http_path not a string")
        << upstream(R"({"checks": {"active": {"http_path": 1}}})") << "checks.active.http_path"
        << "1"
        << "wrong type: expected string, got integer";
    QTest::newRow("checks http_req_body not a string")
        << upstream(R"({"checks": {"active": {"http_req_body": {}}}})")
        << "checks.active.http_req_body"
        << "{}"
        << "wrong type: expected string, got object";
    QTest::newRow("checks req_headers empty")
        << upstream(R"({"checks": {"active": {"req_headers": []}}})") << "checks.active.req_headers"
        << "[]"
        << "must have at least 1 item(s)";
    QTest::newRow("checks req_headers not strings")
        << upstream(R"({"checks": {"active": {"req_headers": [{"a": "b"}]}}})")
        << "checks.active.req_headers[0]"
        << R"({"a":"b"})"
        << "wrong type: expected string, got object";
    QTest::newRow("checks passive without active")
        << upstream(R"({"checks": {"passive": {"type": "tcp"}}})") << "checks.active"
        << ""
        << "property \"active\" is required";
    QTest::newRow("checks passive type udp")
        << upstream(R"({"checks": {"active": {}, "passive": {"type": "udp"}}})")
        << "checks.passive.type"
        << "udp"
        << "type must be \"tcp\", \"http\" or \"https\"";
    QTest::newRow("checks passive tcp_failures 255")
        << upstream(
               R"({"checks": {"active": {}, "passive": {"unhealthy": {"tcp_failures": 255}}}})")
        << "checks.passive.unhealthy.tcp_failures"
        << "255"
        << "must be an integer from 0 to 254";
    QTest::newRow("checks passive interval")
        << upstream(R"({"checks": {"active": {}, "passive": {"unhealthy": {"interval": 1}}}})")
        << "checks.passive.unhealthy.interval"
        << "1"
        << "additional properties forbidden, found interval";
    QTest::newRow("checks passive status twice")
        << upstream(
               R"({"checks": {"active": {}, "passive": {"healthy": {"http_statuses": [200, 200]}}}})")
        << "checks.passive.healthy.http_statuses[1]"
        << "200"
        << "listed twice";
    QTest::newRow("checks without active") << upstream(R"({"checks": {}})") << "checks.active"
                                           << ""
                                           << "property \"active\" is required";
    QTest::newRow("checks healthy interval 0")
        << upstream(R"({"checks": {"active": {"healthy": {"interval": 0}}}})")
        << "checks.active.healthy.interval"
        << "0"
        << "must be an integer >= 1";
    QTest::newRow("checks successes 255")
        << upstream(R"({"checks": {"active": {"healthy": {"successes": 255}}}})")
        << "checks.active.healthy.successes"
        << "255"
        << "must be an integer from 1 to 254";
    QTest::newRow("checks tcp_failures 0")
        << upstream(R"({"checks": {"active": {"unhealthy": {"tcp_failures": 0}}}})")
        << "checks.active.unhealthy.tcp_failures"
        << "0"
        << "must be an integer from 1 to 254";
    QTest::newRow("checks timeout 0")
        << upstream(R"({"checks": {"active": {"timeout": 0}}})") << "checks.active.timeout"
        << "0"
        << "must be a number > 0";
    QTest::newRow("checks unknown field")
        << upstream(R"({"checks": {"active": {"type": "tcp", "retries": 1}}})")
        << "checks.active.retries"
        << "1"
        << "additional properties forbidden, found retries";
    QTest::newRow("checks bad http status")
        << upstream(R"({"checks": {"active": {"healthy": {"http_statuses": [200, 700]}}}})")
        << "checks.active.healthy.http_statuses[1]"
        << "700"
        << "must be an integer from 200 to 599";
    QTest::newRow("labels too many")
        << upstream(R"({"labels": {"a":"1","b":"1","c":"1","d":"1","e":"1","f":"1","g":"1",
                    "h":"1","i":"1","j":"1","k":"1","l":"1","m":"1","n":"1","o":"1","p":"1","q":"1"}})")
        << "labels"
        << R"({"a":"1","b":"1","c":"1","d":"1","e":"1","f":"1","g":"1","h":"1","i":"1","j":"1","k":"1","l":"1","m":"1","n":"1","o":"1","p":"1","q":"1"})"
        << "at most 16 labels are allowed";
    QTest::newRow("id with slash") << upstream(R"({"id": "a/b"})") << "id"
                                   << "a/b"
                                   << "must be a string of 1-64 characters from a-z, A-Z, 0-9, "
                                      "\"-\", \"_\", \".\" or an integer >= 1";
}

void TestUpstream::invalid()
{
    QFETCH(QJsonObject, json);
    QFETCH(QString, path);
    QFETCH(QString, value);
    QFETCH(QString, reason);
    const Decoded<Upstream> d = decodeUpstream(json);
    QVERIFY2(d.problems.size() == 1, qPrintable(describe(d.problems)));
    QCOMPARE(d.problems.first().path, path);
    QCOMPARE(d.problems.first().value, value);
    QCOMPARE(d.problems.first().reason, reason);

    // The same problem inside a document carries the document path.
    const Decoded<Upstream> nested = decodeUpstream(json, QStringLiteral("upstreams[2]"));
    QCOMPARE(nested.problems.size(), 1);
    QVERIFY(nested.problems.first().path.startsWith(QLatin1String("upstreams[2]")));
}

void TestUpstream::healthCheckValues()
{
    const Decoded<Upstream> d = decodeUpstream(upstream(R"({"checks": {"active": {
        "type": "tcp", "timeout": 0.5, "port": 3307,
        "healthy": {"interval": 2, "successes": 3},
        "unhealthy": {"interval": 4, "tcp_failures": 5, "timeouts": 2}}}})"));
    QVERIFY2(d.ok(), qPrintable(describe(d.problems)));
    QVERIFY(d.value.checks);
    const ActiveHealthCheck& hc = *d.value.checks;
    QCOMPARE(hc.type, QStringLiteral("tcp"));
    QVERIFY(!hc.http());
    QCOMPARE(hc.timeout, 0.5);
    QCOMPARE(hc.healthyInterval, 2);
    QCOMPARE(hc.healthySuccesses, 3);
    QCOMPARE(hc.unhealthyInterval, 4);
    QCOMPARE(hc.unhealthyTcpFailures, 5);
    QCOMPARE(hc.port(), 3307);
    QCOMPARE(hc.unhealthyTimeouts(), 2);

    // Without a type the check is APISIX's default, HTTP, with APISIX's defaults.
    const Decoded<Upstream> plain = decodeUpstream(upstream(R"({"checks": {"active": {}}})"));
    QVERIFY2(plain.ok(), qPrintable(describe(plain.problems)));
    const ActiveHealthCheck& http = *plain.value.checks;
    QCOMPARE(http.type, QStringLiteral("http"));
    QVERIFY(http.http());
    QCOMPARE(http.port(), 0);
    QCOMPARE(http.host(), QString());
    QCOMPARE(http.httpMethod(), QStringLiteral("GET"));
    QCOMPARE(http.httpPath(), QStringLiteral("/"));
    QCOMPARE(http.httpReqBody(), QString());
    QCOMPARE(http.reqHeaders(), QStringList());
    QCOMPARE(http.healthyHttpStatuses(), (QList<int>{200, 302}));
    QCOMPARE(http.unhealthyHttpStatuses(), (QList<int>{429, 404, 500, 501, 502, 503, 504, 505}));
    QCOMPARE(http.unhealthyHttpFailures(), 5);
    QCOMPARE(http.unhealthyTimeouts(), 3);
    QCOMPARE(http.unhealthyTcpFailures, 2);
    QCOMPARE(http.healthySuccesses, 2);

    const Decoded<Upstream> given = decodeUpstream(upstream(R"({"checks": {"active": {
        "host": "db.local", "http_method": "HEAD", "http_path": "/ping", "http_req_body": "x",
        "req_headers": ["A: 1", "B: 2"], "healthy": {"http_statuses": [204]},
        "unhealthy": {"http_statuses": [418, 500], "http_failures": 7}}}})"));
    QVERIFY2(given.ok(), qPrintable(describe(given.problems)));
    const ActiveHealthCheck& g = *given.value.checks;
    QCOMPARE(g.host(), QStringLiteral("db.local"));
    QCOMPARE(g.httpMethod(), QStringLiteral("HEAD"));
    QCOMPARE(g.httpPath(), QStringLiteral("/ping"));
    QCOMPARE(g.httpReqBody(), QStringLiteral("x"));
    QCOMPARE(g.reqHeaders(), (QStringList{"A: 1", "B: 2"}));
    QCOMPARE(g.healthyHttpStatuses(), QList<int>{204});
    QCOMPARE(g.unhealthyHttpStatuses(), (QList<int>{418, 500}));
    QCOMPARE(g.unhealthyHttpFailures(), 7);

    // A check built in code writes only what differs from APISIX's defaults: no type is HTTP,
    // so a tcp check says so.
    Upstream up = decodeUpstream(object(kBase)).value;
    ActiveHealthCheck built;
    built.unhealthyTcpFailures = 3;
    up.checks = built;
    QCOMPARE(compact(encodeUpstream(up).value(QLatin1String("checks")).toObject()),
             compact(object(R"({"active": {"unhealthy": {"tcp_failures": 3}}})")));
    up.checks->type = QStringLiteral("tcp");
    QCOMPARE(compact(encodeUpstream(up).value(QLatin1String("checks")).toObject()),
             compact(object(R"({"active": {"type": "tcp", "unhealthy": {"tcp_failures": 3}}})")));
}

void TestUpstream::defaults()
{
    const Decoded<Upstream> d =
        decodeUpstream(object(R"({"nodes": {"a:1": 1, "b:1": 1, "c:1": 1}})"));
    QVERIFY(d.ok());
    QCOMPARE(d.value.type, QStringLiteral("roundrobin"));
    QVERIFY(!d.value.retries);
    QCOMPARE(d.value.effectiveRetries(), 2); // APISIX: nodes - 1
    QVERIFY(!d.value.timeout);
    QCOMPARE(d.value.effectiveTimeout(), (Timeout{60, 600, 600}));
    QVERIFY(!d.value.checks);
    QVERIFY(d.value.scheme.isEmpty());
    QVERIFY(d.value.id.isUndefined());
    QCOMPARE(d.value.idString(), QString());

    const Decoded<Upstream> set = decodeUpstream(
        upstream(R"({"retries": 0, "timeout": {"connect": 3, "send": 4, "read": 5}})"));
    QVERIFY(set.ok());
    QCOMPARE(set.value.effectiveRetries(), 0);
    QCOMPARE(set.value.effectiveTimeout(), (Timeout{3, 4, 5}));
}

void TestUpstream::nodeAddress()
{
    QCOMPARE((Node{QStringLiteral("::1"), 3306, 1, 0, {}, {}}).address(),
             QStringLiteral("[::1]:3306"));
    QCOMPARE((Node{QStringLiteral("10.0.0.1"), 80, 1, 0, {}, {}}).address(),
             QStringLiteral("10.0.0.1:80"));
    QCOMPARE((Node{QStringLiteral("db.local"), 5432, 1, 0, {}, {}}).address(),
             QStringLiteral("db.local:5432"));
}

void TestUpstream::encodeSwitchesToArrayForPriority()
{
    // The map form has no room for a priority; setting one must not lose it on save.
    Decoded<Upstream> d =
        decodeUpstream(object(R"({"nodes": {"[::1]:3306": 1, "10.0.0.1:3306": 2}})"));
    QVERIFY(d.ok());
    QVERIFY(d.value.nodesAsMap);
    for (Node& n : d.value.nodes) {
        if (n.host == QLatin1String("::1"))
            n.priority = 5;
    }
    const QJsonObject encoded = encodeUpstream(d.value);
    QVERIFY(encoded.value(QLatin1String("nodes")).isArray());
    const Decoded<Upstream> back = decodeUpstream(encoded);
    QVERIFY2(back.ok(), qPrintable(describe(back.problems)));
    QCOMPARE(describeNodes(back.value.nodes), (QStringList{"10.0.0.1|3306|2|0", "::1|3306|1|5"}));
}

void TestUpstream::mapKeyWithLeadingZeroPort()
{
    // "h:0826" is port 826; its canonical key "h:826" sorts after "h:3306" where the written
    // one sorted before it. Decoding what was encoded must still give the same upstream.
    const Decoded<Upstream> d =
        decodeUpstream(object(R"({"nodes": {"h:0826": 1, "h:3306": 2, "h:3316": 3}})"));
    QVERIFY2(d.ok(), qPrintable(describe(d.problems)));
    QCOMPARE(describeNodes(d.value.nodes), (QStringList{"h|3306|2|0", "h|3316|3|0", "h|826|1|0"}));
    const QJsonObject encoded = encodeUpstream(d.value);
    QCOMPARE(compact(encoded),
             compact(object(R"({"nodes": {"h:3306": 2, "h:3316": 3, "h:826": 1}})")));
    const Decoded<Upstream> again = decodeUpstream(encoded);
    QVERIFY2(again.ok(), qPrintable(describe(again.problems)));
    QVERIFY(again.value == d.value);
    QCOMPARE(compact(encodeUpstream(again.value)), compact(encoded));
}

void TestUpstream::mapKeysForOneAddress()
{
    // "h:03306" is "h:3306" again: two nodes (APISIX keeps both), which only the array form can
    // write back, so the upstream is held as array-form from the start and survives a round trip.
    const Decoded<Upstream> d =
        decodeUpstream(object(R"({"nodes": {"h:3306": 1, "h:03306": 2, "g:1": 3}})"));
    QVERIFY2(d.ok(), qPrintable(describe(d.problems)));
    QCOMPARE(describeNodes(d.value.nodes), (QStringList{"g|1|3|0", "h|3306|1|0", "h|3306|2|0"}));
    QVERIFY(!d.value.nodesAsMap);
    const QJsonObject encoded = encodeUpstream(d.value);
    QVERIFY(encoded.value(QStringLiteral("nodes")).isArray());
    const Decoded<Upstream> again = decodeUpstream(encoded);
    QVERIFY2(again.ok(), qPrintable(describe(again.problems)));
    QVERIFY(again.value == d.value);
    QCOMPARE(encodeUpstream(again.value), encoded);
}

void TestUpstream::idString()
{
    QCOMPARE(decodeUpstream(upstream(R"({"id": 42})")).value.idString(), QStringLiteral("42"));
    QCOMPARE(decodeUpstream(upstream(R"({"id": "pg"})")).value.idString(), QStringLiteral("pg"));
}

QTEST_GUILESS_MAIN(TestUpstream)
#include "tst_upstream.moc"
