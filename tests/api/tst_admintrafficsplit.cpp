// A stream route with traffic-split over the admin API on real HTTP: APISIX's TEST 1, 3, 5 and
// 7 bodies PUT as written and read back as given; an upstream_id in a rule that names no
// upstream refused with APISIX's words; a variable a stream connection does not have refused
// with the path and the variables it has; an upstream referenced only from a traffic-split
// rule (of a route or a service) is not deleted, in APISIX's words for a plugin's reference.
#include "adminfixture.h"
#include "config/configstore.h"
#include "httptestclient.h"
#include "model/codec.h"

#include <QTest>

using namespace sg;

namespace {

const QByteArray kKey = "edd1c9f034335f136f87ad84b625c8f1";

QJsonObject parsed(const QByteArray& text)
{
    return QJsonDocument::fromJson(text).object();
}

QJsonObject stored(const HttpAnswer& a)
{
    QJsonObject value = a.json.value(QStringLiteral("value")).toObject();
    value.remove(QStringLiteral("create_time"));
    value.remove(QStringLiteral("update_time"));
    value.remove(QStringLiteral("id"));
    return value;
}

} // namespace

class TestAdminTrafficSplit : public QObject, protected AdminFixture
{
    Q_OBJECT

private Q_SLOTS:
    void init()
    {
        const QString error = startAdmin(R"({"stream_proxy": {"tcp": [9100]}})", kKey);
        QVERIFY2(error.isEmpty(), qPrintable(error));
    }
    void cleanup() { stopAdmin(); }

    void apisixBodies_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::newRow("TEST 1") << QByteArray(R"({"plugins": {"traffic-split": {"rules": [{
            "weighted_upstreams": [
                {"upstream": {"name": "upstream_A", "type": "roundrobin",
                              "nodes": {"127.0.0.1:1995": 1}}, "weight": 9},
                {"upstream": {"name": "upstream_B", "type": "roundrobin",
                              "nodes": {"127.0.0.1:1996": 1}}, "weight": 1}]}]}}})");
        QTest::newRow("TEST 3") << QByteArray(R"({"plugins": {"traffic-split": {"rules": [{
            "weighted_upstreams": [
                {"upstream": {"name": "upstream_A", "type": "roundrobin",
                              "nodes": {"127.0.0.1:1995": 1}}, "weight": 9},
                {"weight": 1}]}]}}, "upstream_id": "1"})");
        QTest::newRow("TEST 5") << QByteArray(R"({"plugins": {"traffic-split": {"rules": [{
            "weighted_upstreams": [{"upstream_id": "2", "weight": 1}]}]}},
            "upstream": {"nodes": {"127.0.0.1:1997": 1}, "type": "roundrobin"}})");
        QTest::newRow("TEST 7") << QByteArray(R"({"plugins": {"traffic-split": {"rules": [{
            "match": [{"vars": [["route_id", "==", "3"]]}],
            "weighted_upstreams": [{"upstream": {"name": "upstream_A", "type": "roundrobin",
                                   "nodes": {"127.0.0.1:1995": 1}}, "weight": 1}]}]}},
            "upstream": {"nodes": {"127.0.0.1:1997": 1}, "type": "roundrobin"}})");
    }

    void apisixBodies()
    {
        QFETCH(QByteArray, body);
        QCOMPARE(call("PUT", "/apisix/admin/upstreams/1",
                      R"({"nodes": {"127.0.0.1:1997": 1}, "type": "roundrobin"})")
                     .status,
                 201);
        QCOMPARE(call("PUT", "/apisix/admin/upstreams/2",
                      R"({"nodes": {"127.0.0.1:1995": 1}, "type": "roundrobin"})")
                     .status,
                 201);
        const HttpAnswer put = call("PUT", "/apisix/admin/stream_routes/3", body);
        QVERIFY2(put.status == 201, put.body.constData());
        QCOMPARE(stored(put), parsed(body));
        const HttpAnswer get = call("GET", "/apisix/admin/stream_routes/3");
        QCOMPARE(get.status, 200);
        QCOMPARE(stored(get), parsed(body));
        ConfigStore again(m_path);
        const LoadResult reloaded = again.load();
        QVERIFY2(reloaded.ok(), qPrintable(formatProblems(reloaded.problems)));
        QVERIFY(again.config().findRoute("3")->plugins.trafficSplit.has_value());
    }

    void missingUpstreamId()
    {
        const HttpAnswer a = call("PUT", "/apisix/admin/stream_routes/1", R"({
            "plugins": {"traffic-split": {"rules": [{"weighted_upstreams": [
                {"upstream_id": "404", "weight": 1}]}]}},
            "upstream": {"nodes": {"127.0.0.1:1997": 1}}})");
        QCOMPARE(a.status, 400);
        QCOMPARE(a.json.value("error_msg").toString(),
                 QString("failed to fetch upstream info by upstream id [404], response code: "
                         "404"));
        QCOMPARE(call("GET", "/apisix/admin/stream_routes/1").status, 404);
        // A service's traffic-split alike.
        const HttpAnswer s = call("PUT", "/apisix/admin/services/1", R"({
            "plugins": {"traffic-split": {"rules": [{"weighted_upstreams": [
                {"upstream_id": "405"}]}]}}})");
        QCOMPARE(s.status, 400);
        QCOMPARE(s.json.value("error_msg").toString(),
                 QString("failed to fetch upstream info by upstream id [405], response code: "
                         "404"));
    }

    void unknownVariable()
    {
        const HttpAnswer a = call("PUT", "/apisix/admin/stream_routes/1", R"({
            "plugins": {"traffic-split": {"rules": [{
                "match": [{"vars": [["http_user_agent", "~~", "curl"]]}]}]}},
            "upstream": {"nodes": {"127.0.0.1:1997": 1}}})");
        QCOMPARE(a.status, 400);
        const QString msg = a.json.value("error_msg").toString();
        QVERIFY2(msg.contains("plugins.traffic-split.rules[0].match[0].vars[0][0]"),
                 qPrintable(msg));
        QVERIFY2(msg.contains("variable \"http_user_agent\" is not available to a stream "
                              "route's traffic-split (known: remote_addr"),
                 qPrintable(msg));
    }

    void deleteReferencedFromARule()
    {
        QCOMPARE(
            call("PUT", "/apisix/admin/upstreams/2", R"({"nodes": {"127.0.0.1:1995": 1}})").status,
            201);
        QCOMPARE(call("PUT", "/apisix/admin/stream_routes/1", R"({
            "plugins": {"traffic-split": {"rules": [{"weighted_upstreams": [
                {"upstream_id": "2", "weight": 1}]}]}},
            "upstream": {"nodes": {"127.0.0.1:1997": 1}}})")
                     .status,
                 201);
        // APISIX's delete_checker of an upstream does not look at stream routes: the rule is
        // left naming nothing, and its sessions are closed (tst_engine_trafficsplit).
        HttpAnswer a = call("DELETE", "/apisix/admin/upstreams/2");
        QCOMPARE(a.status, 200);
        QVERIFY(!m_store->config().findUpstream("2"));
        QVERIFY(m_store->config().findRoute("1")->plugins.trafficSplit.has_value());

        // A service's rule holds it.
        QCOMPARE(
            call("PUT", "/apisix/admin/upstreams/2", R"({"nodes": {"127.0.0.1:1995": 1}})").status,
            201);
        QCOMPARE(call("DELETE", "/apisix/admin/stream_routes/1").status, 200);
        QCOMPARE(call("PUT", "/apisix/admin/services/s", R"({
            "plugins": {"traffic-split": {"rules": [{"weighted_upstreams": [
                {"upstream_id": "2"}]}]}}})")
                     .status,
                 201);
        a = call("DELETE", "/apisix/admin/upstreams/2");
        QCOMPARE(a.status, 400);
        QCOMPARE(a.json.value("error_msg").toString(),
                 QString("can not delete this upstream, plugin in service [s] is still using it "
                         "now"));
        QCOMPARE(call("DELETE", "/apisix/admin/services/s").status, 200);
        QCOMPARE(call("DELETE", "/apisix/admin/upstreams/2").status, 200);
    }
};

QTEST_GUILESS_MAIN(TestAdminTrafficSplit)
#include "tst_admintrafficsplit.moc"
