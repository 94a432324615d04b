// Services and the service_id of stream routes: the codec accepts what APISIX's service schema
// accepts for streams and writes it back unchanged, refuses the HTTP-only fields by name, and a
// route runs with its service's upstream and plugins under APISIX's precedence (the route's own
// upstream, upstream_id and plugin confs win).
#include "model/codec.h"
#include "modeltestutil.h"

#include <QTest>

using namespace sg;
using namespace sgtest;

class TestService : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void valid_data();
    void valid();
    void invalid_data();
    void invalid();
    void routeWithServiceIdOnly();
    void configSection();
    void effectiveRoute_data();
    void effectiveRoute();
    void upstreamFor();
};

namespace {

const QByteArray kInline = R"({"nodes": {"127.0.0.1:3306": 1}})";

QJsonObject service(const QByteArray& extra)
{
    return merged(object(R"({"id": "s1", "upstream": )" + kInline + "}"), object(extra));
}

} // namespace

void TestService::valid_data()
{
    QTest::addColumn<QJsonObject>("json");
    QTest::addColumn<int>("mode");

    const int file = int(DecodeMode::File);
    const int client = int(DecodeMode::Client);
    QTest::newRow("inline upstream") << service("{}") << client;
    QTest::newRow("upstream_id") << service(R"({"upstream": null, "upstream_id": "u1"})") << client;
    QTest::newRow("integer id and upstream_id")
        << service(R"({"id": 7, "upstream": null, "upstream_id": 3})") << client;
    QTest::newRow("plugins only")
        << service(
               R"({"upstream": null, "plugins": {"ip-restriction": {"whitelist": ["127.0.0.1"]}}})")
        << client;
    QTest::newRow("nothing but an id") << service(R"({"upstream": null})") << client;
    QTest::newRow("name desc labels")
        << service(R"({"name": "db", "desc": "shared MySQL", "labels": {"env": "dev"}})") << client;
    QTest::newRow("empty plugins kept") << service(R"({"plugins": {}})") << client;
    QTest::newRow("limit-conn and prometheus")
        << service(
               R"({"plugins": {"limit-conn": {"conn": 2, "burst": 0, "default_conn_delay": 0.1, "key": "remote_addr"}, "prometheus": {"prefer_name": true}}})")
        << client;
    QTest::newRow("times from the file")
        << service(R"({"create_time": 1700000000, "update_time": 1700000001})") << file;
}

void TestService::valid()
{
    QFETCH(QJsonObject, json);
    QFETCH(int, mode);
    const Decoded<Service> d = decodeService(json, {}, DecodeMode(mode));
    QVERIFY2(d.ok(), qPrintable(describe(d.problems)));
    QCOMPARE(compact(encodeService(d.value)), compact(json));
}

void TestService::invalid_data()
{
    QTest::addColumn<QJsonObject>("json");
    QTest::addColumn<int>("mode");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("reason");

    const int file = int(DecodeMode::File);
    const int client = int(DecodeMode::Client);
    QTest::newRow("hosts (HTTP only)") << service(R"({"hosts": ["foo.com"]})") << client << "hosts"
                                       << R"(["foo.com"])"
                                       << "hosts is not supported by Streamgate";
    QTest::newRow("enable_websocket (HTTP only)")
        << service(R"({"enable_websocket": true})") << client << "enable_websocket"
        << "true"
        << "enable_websocket is not supported by Streamgate";
    QTest::newRow("script (HTTP only)")
        << service(R"({"script": "local _M = {} return _M"})") << client << "script"
        << "local _M = {} return _M"
        << "script is not supported by Streamgate";
    QTest::newRow("unknown field")
        << service(R"({"invalid_property": "/index.html"})") << client << "invalid_property"
        << "/index.html"
        << "additional properties forbidden, found invalid_property";
    QTest::newRow("id invalid")
        << service(R"({"id": "a b"})") << client << "id"
        << "a b"
        << "must be a string of 1-64 characters from a-z, A-Z, 0-9, \"-\", \"_\", \".\" or an "
           "integer >= 1";
    QTest::newRow("id 0") << service(R"({"id": 0})") << client << "id"
                          << "0"
                          << "must be a string of 1-64 characters from a-z, A-Z, 0-9, \"-\", "
                             "\"_\", \".\" or an integer >= 1";
    QTest::newRow("inline upstream node port 0")
        << service(R"({"upstream": {"nodes": {"db:0": 1}}})") << client
        << R"(upstream.nodes["db:0"])"
        << "db:0"
        << "port must be 1-65535";
    // APISIX takes its HTTP plugins on a service; Streamgate runs none of them.
    QTest::newRow("HTTP plugin") << service(R"({"plugins": {"limit-count": {"count": 2}}})")
                                 << client << "plugins.limit-count"
                                 << R"({"count":2})"
                                 << "not supported by Streamgate (an HTTP plugin of APISIX; "
                                    "Streamgate runs stream plugins only)";
    QTest::newRow("unknown plugin")
        << service(R"({"plugins": {"limit-cont": {"count": 2}}})") << client << "plugins.limit-cont"
        << R"({"count":2})"
        << "unknown plugin [limit-cont]";
    QTest::newRow("plugin conf invalid")
        << service(R"({"plugins": {"ip-restriction": {"whitelist": ["x"]}}})") << client
        << "plugins.ip-restriction.whitelist[0]"
        << "x"
        << "invalid ip address: x";
    QTest::newRow("create_time from a client")
        << service(R"({"create_time": 1700000000})") << client << "create_time"
        << "1700000000"
        << "create_time is set by the server and cannot be given";
    QTest::newRow("name too long")
        << service(R"({"name": ")" + QByteArray(257, 'n') + R"("})") << file << "name"
        << QString(257, QLatin1Char('n')) << "must be 1-256 characters long";
}

void TestService::invalid()
{
    QFETCH(QJsonObject, json);
    QFETCH(int, mode);
    QFETCH(QString, path);
    QFETCH(QString, value);
    QFETCH(QString, reason);
    const Decoded<Service> d = decodeService(json, {}, DecodeMode(mode));
    QVERIFY2(d.problems.size() == 1, qPrintable(describe(d.problems)));
    QCOMPARE(d.problems.first().path, path);
    QCOMPARE(d.problems.first().value, value);
    QCOMPARE(d.problems.first().reason, reason);
}

void TestService::routeWithServiceIdOnly()
{
    const QJsonObject json = object(R"({"id": "r1", "server_port": 9100, "service_id": "s1"})");
    const Decoded<StreamRoute> d = decodeStreamRoute(json, {}, DecodeMode::Client);
    QVERIFY2(d.ok(), qPrintable(describe(d.problems)));
    QCOMPARE(d.value.serviceId, QJsonValue(QStringLiteral("s1")));
    QCOMPARE(compact(encodeStreamRoute(d.value)), compact(json));

    const Decoded<StreamRoute> integer =
        decodeStreamRoute(object(R"({"id": "r1", "service_id": 5})"));
    QVERIFY2(integer.ok(), qPrintable(describe(integer.problems)));
    QCOMPARE(idText(integer.value.serviceId), QStringLiteral("5"));

    // APISIX's schema takes an upstream and an upstream_id together (upstreamFor says which
    // runs), with a service_id or without.
    const Decoded<StreamRoute> both = decodeStreamRoute(object(
        R"({"id": "r1", "service_id": "s1", "upstream_id": "u1", "upstream": {"nodes": {"127.0.0.1:1": 1}}})"));
    QVERIFY2(both.ok(), qPrintable(describe(both.problems)));
}

void TestService::configSection()
{
    const QJsonObject json = object(R"({
        "stream_routes": [{"id": "r1", "service_id": "s1"}],
        "services": [{"id": "s1", "upstream": {"nodes": {"127.0.0.1:1": 1}}},
                     {"id": "s2", "upstream_id": "u1"}],
        "upstreams": [{"id": "u1", "nodes": {"127.0.0.1:2": 1}}]})");
    const Decoded<Config> d = decodeConfig(json);
    QVERIFY2(d.ok(), qPrintable(describe(d.problems)));
    QCOMPARE(d.value.services.size(), 2);
    QVERIFY(d.value.findService(QStringLiteral("s2")));
    QCOMPARE(compact(encodeConfig(d.value)), compact(json));

    const Decoded<Config> dup = decodeConfig(object(R"({"services": [
        {"id": "s1", "upstream_id": "u1"}, {"id": "s1", "upstream_id": "u2"}]})"));
    QCOMPARE(dup.problems.size(), 1);
    QCOMPARE(dup.problems.first().path, QStringLiteral("services[1].id"));
    QCOMPARE(dup.problems.first().reason,
             QStringLiteral("duplicate id \"s1\" (also used by services[0])"));

    const Decoded<Config> bad =
        decodeConfig(object(R"({"services": [{"id": "s1", "hosts": ["a.com"]}]})"));
    QCOMPARE(bad.problems.size(), 1);
    QCOMPARE(bad.problems.first().path, QStringLiteral("services[0].hosts"));
}

void TestService::effectiveRoute_data()
{
    QTest::addColumn<QByteArray>("route");
    QTest::addColumn<QByteArray>("service");
    QTest::addColumn<QByteArray>("expected"); // the route as it runs, without id and service_id

    const QByteArray svcInline = R"({"id": "s1", "upstream": {"nodes": {"127.0.0.1:1": 1}}})";
    QTest::newRow("route takes the service's inline upstream")
        << QByteArray("{}") << svcInline
        << QByteArray(R"({"upstream": {"nodes": {"127.0.0.1:1": 1}}})");
    QTest::newRow("route takes the service's upstream_id")
        << QByteArray("{}") << QByteArray(R"({"id": "s1", "upstream_id": "u1"})")
        << QByteArray(R"({"upstream_id": "u1"})");
    QTest::newRow("route's inline upstream wins")
        << QByteArray(R"({"upstream": {"nodes": {"127.0.0.2:2": 1}}})") << svcInline
        << QByteArray(R"({"upstream": {"nodes": {"127.0.0.2:2": 1}}})");
    QTest::newRow("route's upstream_id wins over the service's inline upstream")
        << QByteArray(R"({"upstream_id": "u2"})") << svcInline
        << QByteArray(R"({"upstream_id": "u2"})");
    QTest::newRow("route's inline upstream wins over the service's upstream_id")
        << QByteArray(R"({"upstream": {"nodes": {"127.0.0.2:2": 1}}})")
        << QByteArray(R"({"id": "s1", "upstream_id": "u1"})")
        << QByteArray(R"({"upstream": {"nodes": {"127.0.0.2:2": 1}}})");
    QTest::newRow("service plugin added")
        << QByteArray("{}")
        << QByteArray(
               R"({"id": "s1", "upstream_id": "u1", "plugins": {"ip-restriction": {"whitelist": ["127.0.0.1"]}}})")
        << QByteArray(
               R"({"upstream_id": "u1", "plugins": {"ip-restriction": {"whitelist": ["127.0.0.1"]}}})");
    QTest::newRow("route's conf of a plugin wins, others merge")
        << QByteArray(R"({"plugins": {"ip-restriction": {"blacklist": ["127.0.0.9"]}}})")
        << QByteArray(
               R"({"id": "s1", "upstream_id": "u1", "plugins": {"ip-restriction": {"whitelist": ["127.0.0.1"]}, "prometheus": {}}})")
        << QByteArray(
               R"({"upstream_id": "u1", "plugins": {"ip-restriction": {"blacklist": ["127.0.0.9"]}, "prometheus": {}}})");
    QTest::newRow("route's own upstream_id: the service is not merged in, as in APISIX")
        << QByteArray(R"({"upstream_id": "u2"})")
        << QByteArray(
               R"({"id": "s1", "upstream_id": "u1", "plugins": {"ip-restriction": {"whitelist": ["127.0.0.1"]}}})")
        << QByteArray(R"({"upstream_id": "u2"})");
    QTest::newRow("service without upstream leaves none")
        << QByteArray("{}") << QByteArray(R"({"id": "s1"})") << QByteArray("{}");
}

void TestService::effectiveRoute()
{
    QFETCH(QByteArray, route);
    QFETCH(QByteArray, service);
    QFETCH(QByteArray, expected);
    Config config;
    const Decoded<Service> s = decodeService(object(service));
    QVERIFY2(s.ok(), qPrintable(describe(s.problems)));
    config.services << s.value;
    const Decoded<StreamRoute> r =
        decodeStreamRoute(merged(object(route), object(R"({"id": "r1", "service_id": "s1"})")));
    QVERIFY2(r.ok(), qPrintable(describe(r.problems)));
    config.streamRoutes << r.value;

    QJsonObject effective = encodeStreamRoute(config.effectiveRoute(r.value));
    effective.remove(QStringLiteral("id"));
    effective.remove(QStringLiteral("service_id"));
    QCOMPARE(compact(effective), compact(object(expected)));

    // A route without a service_id, or naming no service, runs as it is.
    StreamRoute alone = r.value;
    alone.serviceId = QJsonValue(QStringLiteral("nope"));
    QCOMPARE(config.effectiveRoute(alone), alone);
}

void TestService::upstreamFor()
{
    const Decoded<Config> d = decodeConfig(object(R"({
        "stream_routes": [{"id": "a", "service_id": "inline"},
                          {"id": "b", "service_id": "byid"},
                          {"id": "c", "service_id": "inline", "upstream_id": "u2"},
                          {"id": "d", "service_id": "empty"},
                          {"id": "e", "upstream": {"nodes": {"127.0.0.1:4": 1}},
                           "upstream_id": "u2"},
                          {"id": "f", "service_id": "both",
                           "upstream": {"nodes": {"127.0.0.1:5": 1}}},
                          {"id": "g", "service_id": "both"},
                          {"id": "h", "upstream_id": "gone",
                           "upstream": {"nodes": {"127.0.0.1:6": 1}}},
                          {"id": "i", "service_id": "gone",
                           "upstream": {"nodes": {"127.0.0.1:7": 1}}},
                          {"id": "j"}],
        "services": [{"id": "inline", "upstream": {"nodes": {"127.0.0.1:1": 1}}},
                     {"id": "byid", "upstream_id": "u1"},
                     {"id": "empty"},
                     {"id": "both", "upstream": {"nodes": {"127.0.0.1:8": 1}},
                      "upstream_id": "u1"}],
        "upstreams": [{"id": "u1", "nodes": {"127.0.0.1:2": 1}},
                      {"id": "u2", "nodes": {"127.0.0.1:3": 1}}]})"));
    QVERIFY2(d.ok(), qPrintable(describe(d.problems)));
    const Config& c = d.value;
    const auto port = [&c](const char* route) {
        const Upstream* u = c.upstreamFor(*c.findRoute(QLatin1String(route)));
        return u ? u->nodes.first().port : 0;
    };
    QCOMPARE(port("a"), 1);
    QCOMPARE(port("b"), 2);
    QCOMPARE(port("c"), 3);
    QCOMPARE(port("d"), 0);
    // As APISIX's stream preread picks: the route's upstream_id before its inline upstream;
    // merged with a service, an inline upstream (the route's, then the service's) before an
    // upstream_id; a name that finds nothing gives nothing, whatever else is inline.
    QCOMPARE(port("e"), 3);
    QCOMPARE(port("f"), 5);
    QCOMPARE(port("g"), 8);
    QCOMPARE(port("h"), 0);
    QCOMPARE(port("i"), 0);
    QCOMPARE(port("j"), 0);
}

QTEST_GUILESS_MAIN(TestService)
#include "tst_service.moc"
