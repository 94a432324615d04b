// /apisix/admin/services over real HTTP on loopback, the cases of APISIX's t/admin/services.t,
// services2.t and services-string-id.t that apply to a stream proxy: PUT, GET, list, POST,
// PATCH (whole, merged, at a sub path, with a trailing slash), DELETE, APISIX's id rules and
// words, references (upstream_id must exist, a service in use by a stream route is not deleted,
// an upstream in use by a service neither), and the HTTP-only fields refused by name.
#include "adminfixture.h"
#include "api/adminserver.h"
#include "config/configstore.h"
#include "httptestclient.h"
#include "model/codec.h"
#include "testfiles.h"

#include <QTemporaryDir>
#include <QTest>
#include <memory>

using namespace sg;
using namespace sgtest;

namespace {

const QByteArray kKey = "4054f7cf07e344346cd3f287985e76a2";

// The file as another process would read it, through the same validation as --check.
Config configOnDisk(const QString& path)
{
    const FileCheck check = checkFile(path);
    if (!check.problems.isEmpty())
        qWarning("%s", qPrintable(formatProblems(check.problems)));
    return check.config;
}

QJsonObject withoutTimes(QJsonObject value)
{
    value.remove(QStringLiteral("create_time"));
    value.remove(QStringLiteral("update_time"));
    return value;
}

QJsonObject parsed(const QByteArray& text)
{
    return QJsonDocument::fromJson(text).object();
}

} // namespace

class TestAdminServices : public QObject, protected AdminFixture
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void putGetListDelete();
    void postGeneratesId();
    void idInTheBody();
    void refusals_data();
    void refusals();
    void patchWholeAndSubPath();
    void emptyServiceThenPatched();
    void labels();
    void answersHoldNothingElse();
    void deleteInUse();
    void streamRouteServiceReference();
    void allowOnARouteOfAService();
    void pluginMetadata();
};

void TestAdminServices::init()
{
    const QString error = startAdmin(R"({"stream_proxy": {"tcp": [9100, 9101]}})", kKey);
    QVERIFY2(error.isEmpty(), qPrintable(error));
}

void TestAdminServices::cleanup()
{
    stopAdmin();
}

// services.t TEST 1-4, services-string-id.t TEST 1-4, TEST 37 (a dot in the id).
void TestAdminServices::putGetListDelete()
{
    const QByteArray body = R"({"upstream": {"nodes": {"127.0.0.1:8080": 1},
                                             "type": "roundrobin"}, "desc": "new service"})";
    const QJsonObject expected = parsed(R"({"id": "1", "upstream": {"nodes": {"127.0.0.1:8080": 1},
                                            "type": "roundrobin"}, "desc": "new service"})");
    HttpAnswer a = call("PUT", "/apisix/admin/services/1", body);
    QCOMPARE(a.status, 201);
    QCOMPARE(a.json.value("key").toString(), QString("/apisix/services/1"));
    const QJsonObject value = a.json.value("value").toObject();
    QCOMPARE(withoutTimes(value), expected);
    QVERIFY(value.value("create_time").toInteger() > 0);
    QVERIFY(value.value("update_time").toInteger() > 0);

    a = call("GET", "/apisix/admin/services/1");
    QCOMPARE(a.status, 200);
    QCOMPARE(a.json.value("key").toString(), QString("/apisix/services/1"));
    QCOMPARE(a.json.value("value").toObject(), value);
    QVERIFY(a.json.contains("modifiedIndex"));

    QCOMPARE(call("PUT", "/apisix/admin/services/5eeb3dc90f747328b2930b0b", body).status, 201);
    QCOMPARE(call("PUT", "/apisix/admin/services/a.b", body).status, 201);
    a = call("GET", "/apisix/admin/services");
    QCOMPARE(a.status, 200);
    QCOMPARE(a.json.value("total").toInt(), 3);
    QStringList keys;
    for (const QJsonValue& item : a.json.value("list").toArray())
        keys << item.toObject().value("key").toString();
    QCOMPARE(keys, (QStringList{"/apisix/services/1", "/apisix/services/5eeb3dc90f747328b2930b0b",
                                "/apisix/services/a.b"}));
    QCOMPARE(configOnDisk(m_path).services.size(), 3); // persisted

    a = call("DELETE", "/apisix/admin/services/1");
    QCOMPARE(a.status, 200);
    QCOMPARE(a.json, parsed(R"({"deleted": "1", "key": "/apisix/services/1"})"));
    QCOMPARE(call("DELETE", "/apisix/admin/services/not_found").status, 404);
    QCOMPARE(call("GET", "/apisix/admin/services/1").status, 404);
    QVERIFY(!configOnDisk(m_path).findService("1"));
}

// services.t TEST 5: POST generates the id; the service can be deleted by it.
void TestAdminServices::postGeneratesId()
{
    HttpAnswer a = call("POST", "/apisix/admin/services",
                        R"({"upstream": {"nodes": {"127.0.0.1:8080": 1}, "type": "roundrobin"}})");
    QVERIFY2(a.status == 200 || a.status == 201, a.body.constData());
    const QString id = a.json.value("value").toObject().value("id").toString();
    QCOMPARE(id.size(), 20);
    QCOMPARE(a.json.value("key").toString(), "/apisix/services/" + id);
    QVERIFY(a.json.value("value").toObject().value("create_time").toInteger() > 0);
    QCOMPARE(call("DELETE", "/apisix/admin/services/" + id).status, 200);
    QVERIFY(m_store->config().services.isEmpty());
}

// services.t TEST 10: PUT on the collection takes the id from the body.
void TestAdminServices::idInTheBody()
{
    const HttpAnswer a = call("PUT", "/apisix/admin/services", R"({"id": "1", "plugins": {}})");
    QCOMPARE(a.status, 201);
    QCOMPARE(a.json.value("key").toString(), QString("/apisix/services/1"));
    QCOMPARE(withoutTimes(a.json.value("value").toObject()),
             parsed(R"({"id": "1", "plugins": {}})"));
}

void TestAdminServices::refusals_data()
{
    QTest::addColumn<QByteArray>("verb");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("message"); // the whole error_msg, or its start when ending "..."

    const QString one = QStringLiteral("/apisix/admin/services/1");
    QTest::newRow("TEST 8 invalid id in the path")
        << QByteArray("PUT") << "/apisix/admin/services/invalid_id$" << QByteArray("{}")
        << "invalid service id \"invalid_id$\"...";
    QTest::newRow("TEST 9 body id differs")
        << QByteArray("PUT") << one << QByteArray(R"({"id": 3, "plugins": {}})")
        << "wrong service id";
    QTest::newRow("TEST 11 integer id less than 1")
        << QByteArray("PUT") << "/apisix/admin/services" << QByteArray(R"({"id": -100})")
        << "invalid configuration: property \"id\" validation failed: object matches none of the "
           "required";
    QTest::newRow("TEST 12 string id with symbols")
        << QByteArray("PUT") << "/apisix/admin/services" << QByteArray(R"({"id": "invalid_id$"})")
        << "invalid service id \"invalid_id$\"...";
    QTest::newRow("TEST 13 invalid upstream_id")
        << QByteArray("PUT") << one << QByteArray(R"({"upstream_id": "invalid$"})")
        << "invalid configuration: property \"upstream_id\" validation failed: object matches none "
           "of the required";
    QTest::newRow("TEST 14 upstream_id that does not exist")
        << QByteArray("PUT") << one << QByteArray(R"({"upstream_id": "9999999999"})")
        << "failed to fetch upstream info by upstream id [9999999999], response code: 404";
    QTest::newRow("TEST 15 POST with an id in the path")
        << QByteArray("POST") << one << QByteArray(R"({"plugins": {}})")
        << "wrong service id, do not need it";
    QTest::newRow("TEST 16 POST with an id in the body")
        << QByteArray("POST") << "/apisix/admin/services"
        << QByteArray(R"({"id": 1, "plugins": {}})") << "wrong service id, do not need it";
    QTest::newRow("TEST 23 chash upstream without key")
        << QByteArray("PUT") << one
        << QByteArray(R"({"upstream": {"nodes": {"127.0.0.1:8080": 1}, "type": "chash"}})")
        << "missing key";
    QTest::newRow("TEST 33 label value not a string")
        << QByteArray("PUT") << one << QByteArray(R"({"labels": {"env": ["production"]}})")
        << "invalid configuration: property \"labels\" validation failed: failed to validate env "
           "(matching \".*\"): wrong type: expected string, got table";
    QTest::newRow("TEST 34 create_time from a client")
        << QByteArray("PUT") << one << QByteArray(R"({"create_time": 1602883670})")
        << "the property is forbidden:  create_time";
    QTest::newRow("TEST 36 name longer than 256")
        << QByteArray("PUT") << one << QByteArray(R"({"name": ")" + QByteArray(257, 'n') + "\"}")
        << "invalid configuration: property \"name\" validation failed: string too long, expected "
           "at most 256, got 257";
    QTest::newRow("unknown field")
        << QByteArray("PUT") << one << QByteArray(R"({"invalid_property": "/index.html"})")
        << "invalid configuration: additional properties forbidden, found invalid_property";
    // Fields of an HTTP service: refused by name, never stored and ignored.
    QTest::newRow("hosts") << QByteArray("PUT") << one
                           << QByteArray(R"({"hosts": ["foo.com", "*.bar.com"]})")
                           << "hosts is not supported by Streamgate";
    QTest::newRow("enable_websocket")
        << QByteArray("PUT") << one << QByteArray(R"({"enable_websocket": true})")
        << "enable_websocket is not supported by Streamgate";
    QTest::newRow("script") << QByteArray("PUT") << one
                            << QByteArray(R"({"script": "local _M = {} return _M"})")
                            << "script is not supported by Streamgate";
    // APISIX would take the body whole: nothing to hide behind the first refusal.
    QTest::newRow("hosts and script, both named")
        << QByteArray("PUT") << one << QByteArray(R"({"hosts": ["foo.com"], "script": "x"})")
        << "hosts is not supported by Streamgate; script is not supported by Streamgate";
    // A service's plugins are APISIX's HTTP plugins: APISIX takes limit-count or proxy-rewrite
    // on a service; Streamgate runs none of them and refuses each by name. A name that is no
    // HTTP plugin of APISIX is its "unknown plugin" as before.
    const QString httpPlugin = QStringLiteral("plugins.%1: not supported by Streamgate (an HTTP "
                                              "plugin of APISIX; Streamgate runs stream plugins "
                                              "only)");
    QTest::newRow("HTTP plugin limit-count")
        << QByteArray("PUT") << one << QByteArray(R"({"plugins": {"limit-count": {"count": 2}}})")
        << httpPlugin.arg("limit-count");
    QTest::newRow("HTTP plugin proxy-rewrite")
        << QByteArray("PUT") << one
        << QByteArray(R"({"plugins": {"proxy-rewrite": {"uri": "/x"}}, "desc": "d"})")
        << httpPlugin.arg("proxy-rewrite");
    QTest::newRow("two HTTP plugins, both named")
        << QByteArray("PUT") << one
        << QByteArray(R"({"plugins": {"cors": {}, "limit-req": {"rate": 1, "burst": 1}}})")
        << httpPlugin.arg("cors") + "; " + httpPlugin.arg("limit-req");
    // APISIX refuses the name first; Streamgate says what APISIX would say.
    QTest::newRow("HTTP plugin beside a schema failure")
        << QByteArray("PUT") << one
        << QByteArray(R"({"plugins": {"limit-count": {"count": 2}}, "name": ""})")
        << "invalid configuration: property \"name\" validation failed: string too short, "
           "expected at least 1, got 0";
    QTest::newRow("no plugin at all")
        << QByteArray("PUT") << one << QByteArray(R"({"plugins": {"limit-cont": {}}})")
        << "unknown plugin [limit-cont]";
    // Shipped with APISIX but not in its default config's plugins: unknown there too.
    QTest::newRow("HTTP plugin APISIX leaves off")
        << QByteArray("PUT") << one << QByteArray(R"({"plugins": {"batch-requests": {}}})")
        << "unknown plugin [batch-requests]";
    QTest::newRow("stream plugin conf refused")
        << QByteArray("PUT") << one << QByteArray(R"({"plugins": {"limit-conn": {"conn": 1}}})")
        << "failed to check the configuration of plugin limit-conn err: property \"burst\" is "
           "required";
    // A service's plugins are APISIX's HTTP plugins, which have no mqtt-proxy.
    QTest::newRow("mqtt-proxy on a service")
        << QByteArray("PUT") << one
        << QByteArray(
               R"({"plugins": {"mqtt-proxy": {"protocol_name": "MQTT", "protocol_level": 4}}})")
        << "unknown plugin [mqtt-proxy]";
    QTest::newRow("traffic-split on a variable a stream connection does not have")
        << QByteArray("PUT") << one << QByteArray(R"({"plugins": {"traffic-split": {"rules": [
                          {"match": [{"vars": [["uri", "==", "/"]]}]}]}}})")
        << "plugins.traffic-split.rules[0].match[0].vars[0][0]: variable \"uri\" is not "
           "available to a stream route's traffic-split (known: ...";
    QTest::newRow("PATCH of a service that does not exist")
        << QByteArray("PATCH") << "/apisix/admin/services/nope" << QByteArray(R"({"desc": "x"})")
        << "Key not found";
}

void TestAdminServices::refusals()
{
    QFETCH(QByteArray, verb);
    QFETCH(QString, path);
    QFETCH(QByteArray, body);
    QFETCH(QString, message);
    const QByteArray before = readFile(m_path);
    const HttpAnswer a = call(verb, path, body);
    QCOMPARE(a.status, message == u"Key not found" ? 404 : 400);
    const QString error = a.json.value(a.status == 404 ? "message" : "error_msg").toString();
    if (message.endsWith(u"..."))
        QVERIFY2(error.startsWith(message.chopped(3)), a.body.constData());
    else
        QCOMPARE(error, message);
    QCOMPARE(readFile(m_path), before); // nothing stored
    QVERIFY(m_store->config().services.isEmpty());
}

// services.t TEST 17-22: PATCH merges (create_time kept, update_time set), replaces at a sub
// path, and a trailing slash patches the whole service.
void TestAdminServices::patchWholeAndSubPath()
{
    HttpAnswer a = call("PUT", "/apisix/admin/services/1",
                        R"({"upstream": {"nodes": {"127.0.0.1:8080": 1}, "type": "roundrobin"},
                            "desc": "new service"})");
    QCOMPARE(a.status, 201);
    const qint64 created = a.json.value("value").toObject().value("create_time").toInteger();

    a = call("PATCH", "/apisix/admin/services/1",
             R"({"upstream": {"nodes": {"127.0.0.1:8080": 1}, "type": "roundrobin"},
                 "desc": "new 20 service"})");
    QCOMPARE(a.status, 200);
    QCOMPARE(a.json.value("key").toString(), QString("/apisix/services/1"));
    QCOMPARE(a.json.value("value").toObject().value("desc").toString(), QString("new 20 service"));
    QCOMPARE(a.json.value("value").toObject().value("create_time").toInteger(), created);

    a = call("PATCH", "/apisix/admin/services/1", R"({"desc": "new 19 service"})");
    QCOMPARE(a.status, 200);
    QCOMPARE(withoutTimes(a.json.value("value").toObject()),
             parsed(R"({"id": "1", "upstream": {"nodes": {"127.0.0.1:8080": 1},
                        "type": "roundrobin"}, "desc": "new 19 service"})"));

    // TEST 19: nodes merge into the ones there.
    a = call("PATCH", "/apisix/admin/services/1",
             R"({"upstream": {"nodes": {"127.0.0.1:8081": 3, "127.0.0.1:8082": 4},
                              "type": "roundrobin"}})");
    QCOMPARE(a.status, 200);
    QCOMPARE(a.json.value("value").toObject().value("upstream").toObject(),
             parsed(R"({"nodes": {"127.0.0.1:8080": 1, "127.0.0.1:8081": 3, "127.0.0.1:8082": 4},
                        "type": "roundrobin"})"));

    // TEST 20: "/1/" is the whole service.
    a = call("PATCH", "/apisix/admin/services/1/",
             R"({"upstream": {"nodes": {"127.0.0.1:8080": 1}, "type": "roundrobin"},
                 "desc": "new 22 service"})");
    QCOMPARE(a.status, 200);
    QCOMPARE(a.json.value("value").toObject().value("desc").toString(), QString("new 22 service"));

    // TEST 21-22: a sub path replaces the value there.
    a = call("PATCH", "/apisix/admin/services/1/desc", R"("new 23 service")");
    QCOMPARE(a.status, 200);
    QCOMPARE(m_store->config().findService("1")->desc, QString("new 23 service"));
    a = call("PATCH", "/apisix/admin/services/1/upstream",
             R"({"nodes": {"127.0.0.2:8081": 3, "127.0.0.3:8082": 4}, "type": "roundrobin"})");
    QCOMPARE(a.status, 200);
    QCOMPARE(a.json.value("value").toObject().value("upstream").toObject(),
             parsed(R"({"nodes": {"127.0.0.2:8081": 3, "127.0.0.3:8082": 4},
                        "type": "roundrobin"})"));
    QCOMPARE(configOnDisk(m_path).findService("1")->upstream->nodes.size(), 2);

    // No id, and a patch that would make the service invalid: refused, nothing changes.
    const QByteArray before = readFile(m_path);
    a = call("PATCH", "/apisix/admin/services", R"({"desc": "x"})");
    QCOMPARE(a.status, 400);
    QCOMPARE(a.json, parsed(R"({"error_msg": "missing service id"})"));
    a = call("PATCH", "/apisix/admin/services/1", R"({"upstream_id": "u1"})");
    QCOMPARE(a.status, 400);
    a = call("PATCH", "/apisix/admin/services/1/hosts", R"(["foo.com"])");
    QCOMPARE(a.status, 400);
    QCOMPARE(a.json.value("error_msg").toString(), QString("hosts is not supported by Streamgate"));
    QCOMPARE(readFile(m_path), before);
}

// services.t TEST 29-30: an empty service is allowed, and filled by a PATCH.
void TestAdminServices::emptyServiceThenPatched()
{
    HttpAnswer a = call("PUT", "/apisix/admin/services/1", "{}");
    QCOMPARE(a.status, 201);
    QCOMPARE(withoutTimes(a.json.value("value").toObject()), parsed(R"({"id": "1"})"));

    a = call("PATCH", "/apisix/admin/services/1",
             R"({"desc": "empty service",
                 "plugins": {"ip-restriction": {"whitelist": ["127.0.0.1"]}},
                 "upstream": {"type": "roundrobin", "nodes": {"127.0.0.1:80": 1}}})");
    QCOMPARE(a.status, 200);
    QCOMPARE(withoutTimes(a.json.value("value").toObject()),
             parsed(R"({"id": "1", "desc": "empty service",
                        "plugins": {"ip-restriction": {"whitelist": ["127.0.0.1"]}},
                        "upstream": {"type": "roundrobin", "nodes": {"127.0.0.1:80": 1}}})"));
}

// services.t TEST 31-32.
void TestAdminServices::labels()
{
    HttpAnswer a = call("PUT", "/apisix/admin/services/1",
                        R"({"upstream": {"nodes": {"127.0.0.1:8080": 1}, "type": "roundrobin"},
                            "labels": {"build": "16", "env": "production", "version": "v2"}})");
    QCOMPARE(a.status, 201);
    a = call("PATCH", "/apisix/admin/services/1", R"({"labels": {"build": "17"}})");
    QCOMPARE(a.status, 200);
    QCOMPARE(a.json.value("value").toObject().value("labels").toObject(),
             parsed(R"({"build": "17", "env": "production", "version": "v2"})"));
}

// services2.t TEST 1-5: every answer holds exactly APISIX's keys.
void TestAdminServices::answersHoldNothingElse()
{
    const QByteArray body = R"({"upstream": {"nodes": {"127.0.0.1:8080": 1},
                                             "type": "roundrobin"}})";
    const QJsonObject value =
        parsed(R"({"upstream": {"nodes": {"127.0.0.1:8080": 1}, "type": "roundrobin"}})");
    HttpAnswer a = call("POST", "/apisix/admin/services", body);
    QCOMPARE(QStringList(a.json.keys()), (QStringList{"key", "value"}));
    QJsonObject got = withoutTimes(a.json.value("value").toObject());
    got.remove("id");
    QCOMPARE(got, value);

    a = call("PUT", "/apisix/admin/services/1", body);
    QCOMPARE(QStringList(a.json.keys()), (QStringList{"key", "value"}));
    QJsonObject expected = value;
    expected.insert("id", "1");
    QCOMPARE(withoutTimes(a.json.value("value").toObject()), expected);

    a = call("PATCH", "/apisix/admin/services/1", body);
    QCOMPARE(QStringList(a.json.keys()), (QStringList{"key", "value"}));
    QCOMPARE(withoutTimes(a.json.value("value").toObject()), expected);

    a = call("GET", "/apisix/admin/services/1");
    QCOMPARE(QStringList(a.json.keys()),
             (QStringList{"createdIndex", "key", "modifiedIndex", "value"}));

    a = call("DELETE", "/apisix/admin/services/1");
    QCOMPARE(a.json, parsed(R"({"deleted": "1", "key": "/apisix/services/1"})"));
}

// services2.t TEST 6-10 with a stream route, and upstreams.lua's delete_checker for services.
void TestAdminServices::deleteInUse()
{
    QCOMPARE(
        call("PUT", "/apisix/admin/upstreams/u1", R"({"nodes": {"127.0.0.1:1980": 1}})").status,
        201);
    QCOMPARE(call("PUT", "/apisix/admin/services/1", R"({"upstream_id": "u1"})").status, 201);
    QCOMPARE(call("PUT", "/apisix/admin/stream_routes/1", R"({"server_port": 9100,
                                                             "service_id": "1"})")
                 .status,
             201);

    HttpAnswer a = call("DELETE", "/apisix/admin/services/1");
    QCOMPARE(a.status, 400);
    QCOMPARE(a.json.value("error_msg").toString(),
             QString("can not delete this service directly, stream_route [1] is still using it "
                     "now"));
    a = call("DELETE", "/apisix/admin/upstreams/u1");
    QCOMPARE(a.status, 400);
    QCOMPARE(a.json.value("error_msg").toString(),
             QString("can not delete this upstream, service [1] is still using it now"));
    QVERIFY(configOnDisk(m_path).findService("1"));

    QCOMPARE(call("DELETE", "/apisix/admin/stream_routes/1").status, 200);
    QCOMPARE(call("DELETE", "/apisix/admin/services/1").status, 200);
    QCOMPARE(call("DELETE", "/apisix/admin/upstreams/u1").status, 200);
    const Config after = configOnDisk(m_path);
    QVERIFY(after.services.isEmpty());
    QVERIFY(after.upstreams.isEmpty());
}

// stream_routes.lua's check_conf: a service_id must name a service; a route may then have no
// upstream of its own, and what it takes from the service shows in nothing it stores.
void TestAdminServices::streamRouteServiceReference()
{
    HttpAnswer a =
        call("PUT", "/apisix/admin/stream_routes/r1", R"({"server_port": 9100, "service_id": 9})");
    QCOMPARE(a.status, 400);
    QCOMPARE(a.json.value("error_msg").toString(),
             QString("failed to fetch service info by service id [9], response code: 404"));

    QCOMPARE(call("PUT", "/apisix/admin/services/9",
                  R"({"upstream": {"nodes": {"127.0.0.1:1980": 1}},
                      "plugins": {"ip-restriction": {"whitelist": ["127.0.0.1"]}}})")
                 .status,
             201);
    a = call("PUT", "/apisix/admin/stream_routes/r1", R"({"server_port": 9100, "service_id": 9})");
    QCOMPARE(a.status, 201);
    QCOMPARE(withoutTimes(a.json.value("value").toObject()),
             parsed(R"({"id": "r1", "server_port": 9100, "service_id": 9})"));
    const Config onDisk = configOnDisk(m_path);
    QCOMPARE(onDisk.streamRoutes.size(), 1);
    const StreamRoute effective = onDisk.effectiveRoute(onDisk.streamRoutes.first());
    QVERIFY(effective.upstream);
    QVERIFY(effective.plugins.ipRestriction);

    // A change to the service changes how the route runs, not what is stored for it: the
    // route keeps its modifiedIndex, the service's moves.
    const qint64 routeIndex =
        call("GET", "/apisix/admin/stream_routes/r1").json.value("modifiedIndex").toInteger();
    const qint64 serviceIndex =
        call("GET", "/apisix/admin/services/9").json.value("modifiedIndex").toInteger();
    QCOMPARE(call("PATCH", "/apisix/admin/services/9", R"({"desc": "changed"})").status, 200);
    QCOMPARE(call("GET", "/apisix/admin/stream_routes/r1").json.value("modifiedIndex").toInteger(),
             routeIndex);
    QVERIFY(call("GET", "/apisix/admin/services/9").json.value("modifiedIndex").toInteger() >
            serviceIndex);

    // A stream route's PATCH is still 405, service_id or not.
    QCOMPARE(call("PATCH", "/apisix/admin/stream_routes/r1", R"({"service_id": null})").status,
             405);
}

// Allowing a client on a route that takes its service's ip-restriction gives that route its
// own (the service's list plus the client): the service and its other routes stay as they were.
void TestAdminServices::allowOnARouteOfAService()
{
    QCOMPARE(call("PUT", "/apisix/admin/services/s1",
                  R"({"upstream": {"nodes": {"127.0.0.1:1980": 1}},
                      "plugins": {"ip-restriction": {"whitelist": ["127.0.0.1"]}}})")
                 .status,
             201);
    for (const char* id : {"r1", "r2"})
        QCOMPARE(call("PUT", QStringLiteral("/apisix/admin/stream_routes/") + QLatin1String(id),
                      R"({"server_port": 9100, "service_id": "s1"})")
                     .status,
                 201);
    const HttpAnswer a =
        call("POST", "/streamgate/v1/stream_routes/r1/allow", R"({"client": "127.0.0.5"})");
    QCOMPARE(a.status, 200);
    const Config config = configOnDisk(m_path);
    const StreamRoute* r1 = config.findRoute("r1");
    QVERIFY(r1 && r1->plugins.ipRestriction);
    QCOMPARE(r1->plugins.ipRestriction->whitelist, (QStringList{"127.0.0.1", "127.0.0.5"}));
    QVERIFY(!config.findRoute("r2")->plugins.ipRestriction);
    QCOMPARE(config.findService("s1")->plugins.ipRestriction->whitelist, QStringList{"127.0.0.1"});

    // A client the service's list already admits is not added again.
    QCOMPARE(
        call("POST", "/streamgate/v1/stream_routes/r2/allow", R"({"client": "127.0.0.1"})").status,
        409);
}

// /apisix/admin/plugin_metadata as APISIX's t/admin/plugin-metadata.t has it, for syslog: PUT
// (201, then 200), GET one and the list, DELETE, 404s, POST and PATCH refused, a missing name;
// other plugins refused by name; the value checked as the syslog metadata schema.
void TestAdminServices::pluginMetadata()
{
    const QByteArray body = R"({"log_format": {"host": "$remote_addr"}, "max_pending_entries": 10,
                                "id": "ignored"})";
    const QJsonObject stored = parsed(R"({"id": "syslog", "log_format": {"host": "$remote_addr"},
                   "max_pending_entries": 10})");
    HttpAnswer a = call("PUT", "/apisix/admin/plugin_metadata/syslog", body);
    QCOMPARE(a.status, 201);
    QCOMPARE(a.json, (QJsonObject{{"key", "/apisix/plugin_metadata/syslog"}, {"value", stored}}));
    QCOMPARE(call("PUT", "/apisix/admin/plugin_metadata/syslog", body).status, 200);
    a = call("GET", "/apisix/admin/plugin_metadata/syslog");
    QCOMPARE(a.status, 200);
    QCOMPARE(a.json.value("value").toObject(), stored);
    QVERIFY(a.json.contains("createdIndex") && a.json.contains("modifiedIndex"));
    a = call("GET", "/apisix/admin/plugin_metadata");
    QCOMPARE(a.json.value("total").toInt(), 1);
    QCOMPARE(configOnDisk(m_path).pluginMetadata.value(0).value.value("max_pending_entries"), 10);

    a = call("PUT", "/apisix/admin/plugin_metadata/http-logger", R"({"log_format": {}})");
    QCOMPARE(a.status, 400);
    QVERIFY2(a.body.contains("plugin_metadata of http-logger is not supported by Streamgate"),
             a.body.constData());
    // The first failure APISIX meets, in its words: its schema's before Streamgate's own rule
    // on log_format's variables.
    a = call("PUT", "/apisix/admin/plugin_metadata/syslog",
             R"({"log_format": {"x": "$no_such_var"}, "max_pending_entries": 0})");
    QCOMPARE(a.status, 400);
    QCOMPARE(a.json, (QJsonObject{{"error_msg", "invalid configuration: property "
                                                "\"max_pending_entries\" validation failed: "
                                                "expected 0 to be at least 1"}}));
    a = call("PUT", "/apisix/admin/plugin_metadata/syslog",
             R"({"log_format": {"x": "$no_such_var"}})");
    QCOMPARE(a.status, 400);
    QVERIFY2(
        a.json.value("error_msg")
            .toString()
            .startsWith("log_format.x: variable \"$no_such_var\" is not supported by Streamgate"),
        a.body.constData());
    a = call("PUT", "/apisix/admin/plugin_metadata/syslog", R"({"create_time": 1})");
    QCOMPARE(a.status, 400);
    QCOMPARE(a.json.value("error_msg").toString(),
             QStringLiteral("the property is forbidden:  create_time"));
    a = call("PUT", "/apisix/admin/plugin_metadata", R"({"k": "v"})");
    QCOMPARE(a.status, 400);
    QCOMPARE(a.json.value("error_msg").toString(), QStringLiteral("missing plugin name"));
    a = call("POST", "/apisix/admin/plugin_metadata/syslog", R"({"log_format": {}})");
    QCOMPARE(a.status, 405);
    QCOMPARE(a.json.value("error_msg").toString(),
             QStringLiteral("not supported `POST` method for plugin_metadata"));
    QCOMPARE(call("PATCH", "/apisix/admin/plugin_metadata/syslog", "{}").status, 405);

    a = call("DELETE", "/apisix/admin/plugin_metadata/syslog");
    QCOMPARE(a.status, 200);
    QCOMPARE(a.json, parsed(R"({"deleted": "1", "key": "/apisix/plugin_metadata/syslog"})"));
    QCOMPARE(call("DELETE", "/apisix/admin/plugin_metadata/not_found").status, 404);
    QCOMPARE(call("GET", "/apisix/admin/plugin_metadata/syslog").status, 404);
    QVERIFY(configOnDisk(m_path).pluginMetadata.isEmpty());
}

QTEST_MAIN(TestAdminServices)
#include "tst_adminservices.moc"
