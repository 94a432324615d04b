// What tools written against APISIX's admin API send, and how APISIX answers it (its
// apisix/admin/init.lua, resource.lua, v3_adapter.lua and t/admin/*.t): list filters and pages
// in etcd's order, the id as the first path segment whatever follows it, PATCH keeping the
// times it gives and creating the levels of a sub path, ?ttl, ?force, schema validation,
// X-API-VERSION, other resources named, plugin_metadata's own indexes, and the objects APISIX's
// schema allows that once were refused (scheme http, no nodes, no upstream, both upstream and
// upstream_id).
#include "adminfixture.h"
#include "config/configstore.h"
#include "httptestclient.h"

#include <QDateTime>
#include <QJsonArray>
#include <QTest>

using namespace sg;
using namespace sgtest;

namespace {

const QByteArray kKey = "0d1f5e8c6b2a4f7e9c3b5a1d8e6f2c4a";

QStringList ids(const HttpAnswer& a)
{
    QStringList out;
    for (const QJsonValue& item : a.json.value("list").toArray())
        out << item.toObject().value("value").toObject().value("id").toVariant().toString();
    return out;
}

} // namespace

class TestAdminExact : public QObject, protected AdminFixture
{
    Q_OBJECT

private Q_SLOTS:
    void init()
    {
        const QString error = startAdmin(R"({"stream_proxy": {"tcp": [9100]}})", kKey);
        QVERIFY2(error.isEmpty(), qPrintable(error));
    }
    void cleanup() { stopAdmin(); }

    // v3_adapter: name (a regular expression), label (a key), and for stream routes filter=
    // (service_id, upstream_id); total counts what the filters kept; page and page_size
    // together give one page in the order of creation; the plain list is in etcd's key order.
    void listFiltersAndPages()
    {
        // Created in the order u12, u11, ..., u01.
        for (int i = 12; i >= 1; --i) {
            const QString id = QStringLiteral("u%1").arg(i, 2, 10, QLatin1Char('0'));
            QJsonObject body{{"nodes", QJsonObject{{"127.0.0.1:1", 1}}}};
            if (i % 2 == 0)
                body.insert("name", QStringLiteral("db-%1").arg(i));
            if (i % 3 == 0)
                body.insert("labels", QJsonObject{{"env", "dev"}});
            QCOMPARE(call("PUT", "/apisix/admin/upstreams/" + id,
                          QJsonDocument(body).toJson(QJsonDocument::Compact))
                         .status,
                     201);
        }
        HttpAnswer a = call("GET", "/apisix/admin/upstreams");
        QCOMPARE(a.json.value("total").toInt(), 12);
        QCOMPARE(ids(a).first(), QString("u01"));
        QCOMPARE(ids(a).last(), QString("u12"));

        a = call("GET", "/apisix/admin/upstreams?name=%5Edb-1");
        QCOMPARE(ids(a), (QStringList{"u10", "u12"}));
        QCOMPARE(a.json.value("total").toInt(), 2);
        a = call("GET", "/apisix/admin/upstreams?label=env");
        QCOMPARE(ids(a), (QStringList{"u03", "u06", "u09", "u12"}));
        a = call("GET", "/apisix/admin/upstreams?name=db&label=env");
        QCOMPARE(ids(a), (QStringList{"u06", "u12"}));
        a = call("GET", "/apisix/admin/upstreams?name=%5B"); // no valid expression: no match
        QCOMPARE(a.json.value("total").toInt(), 0);

        a = call("GET", "/apisix/admin/upstreams?page=1&page_size=10");
        QCOMPARE(a.json.value("total").toInt(), 12);
        QCOMPARE(ids(a).size(), 10);
        QCOMPARE(ids(a).first(), QString("u12")); // created first
        a = call("GET", "/apisix/admin/upstreams?page=2&page_size=10");
        QCOMPARE(ids(a), (QStringList{"u02", "u01"}));
        a = call("GET", "/apisix/admin/upstreams?page=3&page_size=10");
        QCOMPARE(ids(a), QStringList());
        QCOMPARE(a.json.value("total").toInt(), 12);
        a = call("GET", "/apisix/admin/upstreams?page_size=10"); // no page: no paging
        QCOMPARE(ids(a).size(), 12);
        a = call("GET", "/apisix/admin/upstreams?page=1&page_size=5");
        QCOMPARE(a.status, 400);
        QCOMPARE(a.body, QByteArray("page_size must be between 10 and 500"));

        QCOMPARE(call("PUT", "/apisix/admin/stream_routes/r1", R"({"upstream_id": "u01"})").status,
                 201);
        QCOMPARE(call("PUT", "/apisix/admin/stream_routes/r2", R"({"upstream_id": "u02"})").status,
                 201);
        a = call("GET", "/apisix/admin/stream_routes?filter=upstream_id%3Du02");
        QCOMPARE(ids(a), QStringList{"r2"});
        QCOMPARE(a.json.value("total").toInt(), 1);
        // Fields APISIX does not filter stream routes on are ignored; upstreams have none.
        QCOMPARE(ids(call("GET", "/apisix/admin/stream_routes?filter=desc%3Dx")).size(), 2);
        QCOMPARE(ids(call("GET", "/apisix/admin/upstreams?filter=name%3Dx")).size(), 12);
    }

    // APISIX reads the first segment after the resource as the id; GET, PUT and DELETE ignore
    // what follows it ("/ID/" included); only an upstream's or service's PATCH uses it.
    void idIsTheFirstSegment()
    {
        QCOMPARE(
            call("PUT", "/apisix/admin/upstreams/5", R"({"nodes": {"127.0.0.1:1": 1}})").status,
            201);
        HttpAnswer a = call("GET", "/apisix/admin/upstreams/5/nodes");
        QCOMPARE(a.status, 200);
        QCOMPARE(a.json.value("key").toString(), QString("/apisix/upstreams/5"));
        a = call("GET", "/apisix/admin/upstreams/5/");
        QCOMPARE(a.status, 200);
        a = call("PUT", "/apisix/admin/upstreams/6/", R"({"nodes": {"127.0.0.1:2": 1}})");
        QCOMPARE(a.status, 201);
        QCOMPARE(a.json.value("value").toObject().value("id").toString(), QString("6"));
        QCOMPARE(call("PUT", "/apisix/admin/stream_routes/r/", R"({"upstream_id": "5"})").status,
                 201);
        QCOMPARE(call("GET", "/apisix/admin/stream_routes/r/x").status, 200);
        a = call("DELETE", "/apisix/admin/upstreams/6/nodes");
        QCOMPARE(a.status, 200);
        QCOMPARE(a.json.value("key").toString(), QString("/apisix/upstreams/6"));
        QVERIFY(!m_store->config().findUpstream("6"));
        // The collection with a trailing slash is the collection.
        QCOMPARE(call("GET", "/apisix/admin/upstreams/").json.value("total").toInt(), 1);
    }

    // resource.lua's PATCH: a whole-object patch keeps the create_time and update_time it
    // gives (the stored ones otherwise, and a new update_time); a sub path creates the levels
    // it lacks and sets a new update_time; the id becomes the URL's text.
    void patchTimesAndSubPaths()
    {
        const qint64 start = QDateTime::currentSecsSinceEpoch();
        QCOMPARE(
            call("PUT", "/apisix/admin/upstreams/7", R"({"id": 7, "nodes": {"127.0.0.1:1": 1}})")
                .json.value("value")
                .toObject()
                .value("id"),
            QJsonValue("7"));
        HttpAnswer a =
            call("PATCH", "/apisix/admin/upstreams/7",
                 R"({"desc": "x", "create_time": 1705252779, "update_time": 1705252780})");
        QCOMPARE(a.status, 200);
        QJsonObject value = a.json.value("value").toObject();
        QCOMPARE(value.value("create_time").toInteger(), 1705252779);
        QCOMPARE(value.value("update_time").toInteger(), 1705252780);

        a = call("PATCH", "/apisix/admin/upstreams/7", R"({"desc": "y"})");
        value = a.json.value("value").toObject();
        QCOMPARE(value.value("create_time").toInteger(), 1705252779);
        QVERIFY(value.value("update_time").toInteger() >= start);

        QCOMPARE(call("PATCH", "/apisix/admin/upstreams/7", R"({"update_time": 5})").status, 200);
        a = call("PATCH", "/apisix/admin/upstreams/7/desc", R"("z")");
        QCOMPARE(a.status, 200);
        QVERIFY(a.json.value("value").toObject().value("update_time").toInteger() >= start);

        QCOMPARE(call("PUT", "/apisix/admin/services/s", R"({"upstream_id": "7"})").status, 201);
        a = call("PATCH", "/apisix/admin/services/s/plugins/ip-restriction",
                 R"({"whitelist": ["127.0.0.1"]})");
        QCOMPARE(a.status, 200);
        QCOMPARE(a.json.value("value").toObject().value("plugins").toObject().keys(),
                 QStringList{"ip-restriction"});
        QCOMPARE(m_store->config().findService("s")->plugins.ipRestriction->whitelist,
                 QStringList{"127.0.0.1"});

        a = call("PATCH", "/apisix/admin/upstreams/7", QByteArray());
        QCOMPARE(a.status, 400);
        QCOMPARE(a.json, (QJsonObject{{"error_msg", "missing new configuration"}}));
    }

    // Objects do not expire here: ?ttl on a write is refused by name, a ttl that is no number
    // in APISIX's words, and nothing is stored.
    void ttlIsRefused()
    {
        HttpAnswer a =
            call("PUT", "/apisix/admin/upstreams/1?ttl=2", R"({"nodes": {"127.0.0.1:1": 1}})");
        QCOMPARE(a.status, 400);
        QVERIFY2(
            a.json.value("error_msg").toString().startsWith("ttl: not supported by Streamgate"),
            a.body.constData());
        a = call("PUT", "/apisix/admin/upstreams/1?ttl=abc", R"({"nodes": {"127.0.0.1:1": 1}})");
        QCOMPARE(a.json, (QJsonObject{{"error_msg", "invalid argument ttl: should be a number"}}));
        QVERIFY(m_store->config().upstreams.isEmpty());
        QCOMPARE(call("GET", "/apisix/admin/upstreams?ttl=2").status, 200);
    }

    // POST /apisix/admin/schema/validate/KIND: 200 and no body, or 400 with the first problem.
    void schemaValidate()
    {
        HttpAnswer a = call("POST", "/apisix/admin/schema/validate/upstreams",
                            R"({"nodes": {"127.0.0.1:8080": 1}, "type": "roundrobin"})");
        QCOMPARE(a.status, 200);
        QVERIFY(a.body.isEmpty());
        a = call("POST", "/apisix/admin/schema/validate/stream_routes",
                 R"({"remote_addr": ":/8", "upstream_id": "not-looked-up"})");
        QCOMPARE(a.status, 400);
        QCOMPARE(a.json.value("error_msg").toString(), QString("invalid remote_addr: :/8"));
        a = call("POST", "/apisix/admin/schema/validate/services", R"({"hosts": ["a.com"]})");
        QCOMPARE(a.status, 400);
        QVERIFY(a.json.value("error_msg").toString().contains("hosts is not supported"));
        QVERIFY(m_store->config().upstreams.isEmpty());

        a = call("POST", "/apisix/admin/schema/validate/routes", R"({"uri": "/"})");
        QCOMPARE(a.status, 400);
        QVERIFY(a.json.value("error_msg").toString().startsWith("routes: not supported by"));
        a = call("POST", "/apisix/admin/schema/validate/foo", "{}");
        QCOMPARE(a.status, 404);
        QCOMPARE(a.json, (QJsonObject{{"error_msg", "Unsupported resource type: foo"}}));
    }

    // Every answer of the admin API's APISIX part says its version; other resources are named.
    void resourcesAndVersion()
    {
        HttpAnswer a = call("GET", "/apisix/admin/upstreams");
        QCOMPARE(a.apiVersion, QByteArray("v3"));
        a = call("GET", "/apisix/admin/upstreams/none");
        QCOMPARE(a.status, 404);
        QCOMPARE(a.apiVersion, QByteArray("v3"));
        QCOMPARE(call("GET", "/apisix/admin/plugin_metadata").apiVersion, QByteArray("v3"));

        a = call("GET", "/apisix/admin/foo");
        QCOMPARE(a.status, 404);
        QCOMPARE(a.json, (QJsonObject{{"error_msg", "Unsupported resource type: foo"}}));
        // A singular spelling is no resource of APISIX's either.
        a = call("PUT", "/apisix/admin/upstream/1", R"({"nodes": {"127.0.0.1:1": 1}})");
        QCOMPARE(a.status, 404);
        QCOMPARE(a.json, (QJsonObject{{"error_msg", "Unsupported resource type: upstream"}}));
        a = call("GET", "/apisix/admin/graphql_cost_decorations");
        QCOMPARE(a.status, 400);
        QVERIFY(a.json.value("error_msg").toString().contains("not supported by Streamgate"));
        a = call("PUT", "/apisix/admin/routes/1", R"({"uri": "/"})");
        QCOMPARE(a.status, 400);
        QVERIFY(a.json.value("error_msg").toString().startsWith("routes: not supported by"));
        QCOMPARE(call("HEAD", "/apisix/admin").status, 200);
        QCOMPARE(call("HEAD", "/apisix/admin", {}, "wrong").status, 401);
    }

    // What APISIX's schema allows and Streamgate once refused: scheme http (the schema's
    // default, run as tcp), an upstream without nodes, a route with no upstream at all, a
    // route with both upstream and upstream_id. A service's mqtt-proxy is refused as APISIX
    // refuses it.
    void whatApisixAllows()
    {
        QCOMPARE(call("PUT", "/apisix/admin/upstreams/h",
                      R"({"nodes": {"127.0.0.1:1": 1}, "scheme": "http"})")
                     .status,
                 201);
        QCOMPARE(call("PUT", "/apisix/admin/upstreams/e", R"({"nodes": {}})").status, 201);
        QCOMPARE(call("PUT", "/apisix/admin/upstreams/a", R"({"nodes": []})").status, 201);
        QCOMPARE(call("PUT", "/apisix/admin/stream_routes/p",
                      R"({"plugins": {"ip-restriction": {"whitelist": ["127.0.0.1"]}}})")
                     .status,
                 201);
        HttpAnswer a = call("PUT", "/apisix/admin/stream_routes/b",
                            R"({"upstream_id": "h", "upstream": {"nodes": {"127.0.0.1:2": 1}}})");
        QCOMPARE(a.status, 201);
        const Config config = m_store->config();
        QCOMPARE(config.upstreamFor(*config.findRoute("b"))->idString(), QString("h"));
        QCOMPARE(config.findUpstream("e")->nodes.size(), 0);

        a = call("PUT", "/apisix/admin/services/m",
                 R"({"plugins": {"mqtt-proxy": {"protocol_name": "MQTT", "protocol_level": 4}}})");
        QCOMPARE(a.status, 400);
        QVERIFY2(a.json.value("error_msg").toString().startsWith("unknown plugin [mqtt-proxy]"),
                 a.body.constData());
        QVERIFY(!m_store->config().findService("m"));
    }

    // Each plugin_metadata entry has indexes of its own, which other objects' changes leave.
    void pluginMetadataIndexes()
    {
        QCOMPARE(call("PUT", "/apisix/admin/plugin_metadata/syslog",
                      R"({"log_format": {"client": "$remote_addr"}})")
                     .status,
                 201);
        const QJsonObject first = call("GET", "/apisix/admin/plugin_metadata/syslog").json;
        QCOMPARE(
            call("PUT", "/apisix/admin/upstreams/1", R"({"nodes": {"127.0.0.1:1": 1}})").status,
            201);
        QCOMPARE(call("GET", "/apisix/admin/plugin_metadata/syslog").json, first);
        QCOMPARE(call("PUT", "/apisix/admin/plugin_metadata/syslog",
                      R"({"log_format": {"client": "$remote_port"}})")
                     .status,
                 200);
        const QJsonObject second = call("GET", "/apisix/admin/plugin_metadata/syslog").json;
        QCOMPARE(second.value("createdIndex"), first.value("createdIndex"));
        QVERIFY(second.value("modifiedIndex").toInteger() >
                first.value("modifiedIndex").toInteger());
    }
};

QTEST_GUILESS_MAIN(TestAdminExact)
#include "tst_adminexact.moc"
