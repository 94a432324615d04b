// Admin API over real HTTP on loopback: APISIX v3 stream_routes / upstreams / ssls semantics, the
// key, 405s, error wording, persistence through the config store and concurrent writers.
#include "adminfixture.h"
#include "api/adminbody.h"
#include "api/adminserver.h"
#include "config/configstore.h"
#include "httptestclient.h"
#include "loopback.h"
#include "model/codec.h"
#include "model/httplisten.h"
#include "testcerts.h"
#include "testfiles.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <memory>

using namespace sg;
using namespace sgtest;

namespace {

const QByteArray kKey = "edd1c9f034335f136f87ad84b625c8f1";

// The file as another process would read it, through the same validation as --check.
Config configOnDisk(const QString& path)
{
    const FileCheck check = checkFile(path);
    if (!check.problems.isEmpty())
        qWarning("%s", qPrintable(formatProblems(check.problems)));
    return check.config;
}

} // namespace

class TestAdminServer : public QObject, protected AdminFixture
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void parseListen_data();
    void parseListen();
    void keyRequired_data();
    void keyRequired();
    void keyWhereApisixLooksForIt();
    void expectContinueIsAnswered();
    void unsupportedMethods_data();
    void unsupportedMethods();
    void corsPreflightAsApisix_data();
    void corsPreflightAsApisix();
    void corsHeadersOnEveryAnswer();
    void streamRouteSequence();
    void upstreamReferenceAndDeleteInUse();
    void bodyErrors_data();
    void bodyErrors();
    void postGeneratesId();
    void writeAnswersAreKeyAndValue();
    void patchMergesLikeApisix();
    void patchOnStreamRouteIsRefused();
    void sslCrudKeepsKeysPrivate();
    void upstreamTlsClientKeyKeptPrivate();
    void sslRefusalsNameTheField_data();
    void sslRefusalsNameTheField();
    void changesAreLiveAndPersisted();
    void concurrentPutsLeaveValidFile();
    void generatedKeyIsSaved();
    void keyChangedInSettingsAppliesAtOnce();
    void listenChangedInSettingsRebinds();
    void engineEndpointsWithoutEngine();
    void unknownPath();
    void nonLoopbackIsWarned();
    void listenFailureIsReported();
};

void TestAdminServer::init()
{
    const QString error = startAdmin(R"({"stream_proxy": {"tcp": [9100, 9101]}})", kKey);
    QVERIFY2(error.isEmpty(), qPrintable(error));
}

void TestAdminServer::cleanup()
{
    stopAdmin();
}

void TestAdminServer::parseListen_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("expected"); // text() of the result, or "" when refused
    QTest::newRow("ipv4 and port") << "127.0.0.1:9180"
                                   << "127.0.0.1:9180";
    QTest::newRow("bare port means loopback") << "9180"
                                              << "127.0.0.1:9180";
    QTest::newRow("bracketed ipv6") << "[::1]:9180"
                                    << "[::1]:9180";
    QTest::newRow("localhost") << "localhost:9091"
                               << "127.0.0.1:9091";
    QTest::newRow("all interfaces on purpose") << "0.0.0.0:9180"
                                               << "0.0.0.0:9180";
    QTest::newRow("port zero picks a free one") << "127.0.0.1:0"
                                                << "127.0.0.1:0";
    QTest::newRow("port too large") << "127.0.0.1:65536"
                                    << "";
    QTest::newRow("not an address") << "example:9180"
                                    << "";
    QTest::newRow("unbracketed ipv6") << "::1:9180"
                                      << "";
    QTest::newRow("empty") << ""
                           << "";
    QTest::newRow("missing port") << "127.0.0.1:"
                                  << "";
}

void TestAdminServer::parseListen()
{
    QFETCH(QString, text);
    QFETCH(QString, expected);
    const HttpListen listen = parseHttpListen(text, QStringLiteral("streamgate.admin.listen"));
    if (expected.isEmpty()) {
        QVERIFY(!listen.ok());
        QVERIFY2(listen.error.startsWith("streamgate.admin.listen: \"" + text + "\""),
                 qPrintable(listen.error));
    } else {
        QVERIFY2(listen.ok(), qPrintable(listen.error));
        QCOMPARE(listen.text(), expected);
    }
}

void TestAdminServer::keyWhereApisixLooksForIt()
{
    // APISIX takes the key from the api_key query argument, then the X-API-KEY header, then the
    // x_api_key cookie; the first one present decides.
    auto get = [this](const QString& query, const QByteArray& header, const QByteArray& cookie) {
        QUrl u = url(QStringLiteral("/apisix/admin/upstreams"));
        if (!query.isEmpty())
            u.setQuery(query);
        QNetworkRequest r(u);
        if (!header.isEmpty())
            r.setRawHeader("X-API-KEY", header);
        if (!cookie.isEmpty())
            r.setRawHeader("Cookie", cookie);
        QNetworkReply* reply = m_network.get(r);
        QSignalSpy finished(reply, &QNetworkReply::finished);
        if (!reply->isFinished())
            finished.wait(15000);
        const HttpAnswer a = answerOf(reply);
        reply->deleteLater();
        return a;
    };
    const QString key = QString::fromLatin1(kKey);
    QCOMPARE(get("api_key=" + key, {}, {}).status, 200);
    QCOMPARE(get({}, {}, "theme=dark; x_api_key=" + kKey).status, 200);
    QCOMPARE(get({}, kKey, {}).status, 200);
    // The query argument wins over a right header, and a wrong one is refused.
    const HttpAnswer wrongQuery = get(QStringLiteral("api_key=nope"), kKey, {});
    QCOMPARE(wrongQuery.status, 401);
    QCOMPARE(wrongQuery.json.value("description").toString(), QString("wrong apikey"));
    QCOMPARE(get({}, "nope", "x_api_key=" + kKey).status, 401);
    QCOMPARE(get({}, {}, "x_api_key_other=" + kKey).status, 401);
    QCOMPARE(get("other=" + key, {}, {}).status, 401);
}

void TestAdminServer::expectContinueIsAnswered()
{
    // curl sends "Expect: 100-continue" with bodies over 1 KiB and holds the body back until the
    // server says go on (or a second passes). The server must say it, then answer the request.
    QJsonObject nodes;
    for (int i = 1; i <= 100; ++i)
        nodes.insert(QStringLiteral("127.0.0.%1:3306").arg(i), 1);
    const QByteArray body = QJsonDocument(QJsonObject{{"nodes", nodes}}).toJson(); // > 2 KiB
    QTcpSocket socket;
    socket.connectToHost(m_server->url().host(), quint16(m_server->url().port()));
    QVERIFY(socket.waitForConnected(5000));
    socket.write(
        "PUT /apisix/admin/upstreams/big HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-KEY: " + kKey +
        "\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) +
        "\r\nExpect: 100-continue\r\n\r\n");
    QByteArray got;
    QTRY_VERIFY_WITH_TIMEOUT((got += socket.readAll()).contains("\r\n\r\n"), 5000);
    QVERIFY2(got.startsWith("HTTP/1.1 100 Continue\r\n\r\n"), got.constData());
    got.clear();
    socket.write(body);
    QTRY_VERIFY2_WITH_TIMEOUT((got += socket.readAll()).contains("\"key\""), got.constData(), 5000);
    QVERIFY2(got.startsWith("HTTP/1.1 201"), got.constData());
    QVERIFY(!got.contains("100 Continue"));
    const Config config = m_store->config();
    QVERIFY(config.findUpstream(QStringLiteral("big")));
    QCOMPARE(config.findUpstream(QStringLiteral("big"))->nodes.size(), 100);
}

void TestAdminServer::keyRequired_data()
{
    QTest::addColumn<QByteArray>("verb");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QByteArray>("key");
    QTest::addColumn<QString>("description");
    QTest::newRow("list without key")
        << QByteArray("GET") << "/apisix/admin/stream_routes" << QByteArray() << "missing apikey";
    QTest::newRow("get with wrong key") << QByteArray("GET") << "/apisix/admin/stream_routes/1"
                                        << QByteArray("nope") << "wrong apikey";
    QTest::newRow("put without key")
        << QByteArray("PUT") << "/apisix/admin/upstreams/1" << QByteArray() << "missing apikey";
    QTest::newRow("key prefix is not the key")
        << QByteArray("GET") << "/apisix/admin/upstreams" << kKey.left(8) << "wrong apikey";
    QTest::newRow("connections without key")
        << QByteArray("GET") << "/streamgate/v1/connections" << QByteArray() << "missing apikey";
    QTest::newRow("unknown path without key")
        << QByteArray("GET") << "/apisix/admin/routes" << QByteArray() << "missing apikey";
}

void TestAdminServer::keyRequired()
{
    QFETCH(QByteArray, verb);
    QFETCH(QString, path);
    QFETCH(QByteArray, key);
    QFETCH(QString, description);
    const QByteArray body =
        verb == "PUT" ? QByteArray(R"({"nodes": {"127.0.0.1:1": 1}})") : QByteArray();
    const HttpAnswer a = call(verb, path, body, key);
    QCOMPARE(a.status, 401);
    QCOMPARE(a.json.value("error_msg").toString(), QString("failed to check token"));
    QCOMPARE(a.json.value("description").toString(), description);
    QVERIFY(m_store->config().upstreams.isEmpty()); // nothing happened
}

void TestAdminServer::unsupportedMethods_data()
{
    QTest::addColumn<QByteArray>("verb");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QByteArray>("allow"); // what the path serves
    QTest::newRow("PATCH the collection")
        << QByteArray("PATCH") << "/apisix/admin/stream_routes" << QByteArray("GET, PUT, POST");
    QTest::newRow("PATCH a stream route")
        << QByteArray("PATCH") << "/apisix/admin/stream_routes/1" << QByteArray("GET, PUT, DELETE");
    // OPTIONS under /apisix/admin is a CORS preflight (corsPreflightAsApisix); Streamgate's own
    // endpoints do not take it.
    QTest::newRow("OPTIONS stats")
        << QByteArray("OPTIONS") << "/streamgate/v1/stats" << QByteArray("GET");
    QTest::newRow("POST stats") << QByteArray("POST") << "/streamgate/v1/stats"
                                << QByteArray("GET");
    QTest::newRow("PUT events") << QByteArray("PUT") << "/streamgate/v1/events"
                                << QByteArray("GET");
}

void TestAdminServer::unsupportedMethods()
{
    QFETCH(QByteArray, verb);
    QFETCH(QString, path);
    QFETCH(QByteArray, allow);
    const HttpAnswer a = call(verb, path, R"({"server_port": 9100})");
    QCOMPARE(a.status, 405);
    QVERIFY2(a.json.value("error_msg").toString().contains(QString::fromLatin1(verb)),
             a.body.constData());
    QCOMPARE(a.allow, allow);
    QVERIFY(m_store->config().streamRoutes.isEmpty());
}

void TestAdminServer::corsPreflightAsApisix_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<QByteArray>("key");
    QTest::addColumn<QByteArray>("body");
    QTest::newRow("a stream route") << "/apisix/admin/stream_routes/1" << kKey << QByteArray();
    QTest::newRow("upstreams, without a key")
        << "/apisix/admin/upstreams" << QByteArray() << QByteArray();
    QTest::newRow("a sub path, with a wrong key")
        << "/apisix/admin/upstreams/1/nodes" << QByteArray("nope") << QByteArray();
    QTest::newRow("plugin_metadata")
        << "/apisix/admin/plugin_metadata/syslog" << QByteArray() << QByteArray();
    // Answered before APISIX looks for the resource, the key or the body.
    QTest::newRow("a resource Streamgate does not serve")
        << "/apisix/admin/routes" << QByteArray() << QByteArray();
    QTest::newRow("with a body") << "/apisix/admin/stream_routes/1" << QByteArray()
                                 << QByteArray(R"({"server_port": 9100})");
    QTest::newRow("with a body over the limit")
        << "/apisix/admin/upstreams/1" << QByteArray() << QByteArray(2 << 20, ' ');
}

// APISIX's admin API with its default enable_admin_cors answers every OPTIONS itself, 200 with
// an empty text/plain body and its CORS headers, before anything else (cors_admin in
// apisix/init.lua): what a browser's preflight for a dashboard on another origin gets.
void TestAdminServer::corsPreflightAsApisix()
{
    QFETCH(QString, path);
    QFETCH(QByteArray, key);
    QFETCH(QByteArray, body);
    QNetworkRequest request(url(path));
    request.setRawHeader("Origin", "http://dashboard.example:9000");
    request.setRawHeader("Access-Control-Request-Method", "PUT");
    request.setRawHeader("Access-Control-Request-Headers", "content-type, x-api-key");
    if (!key.isNull())
        request.setRawHeader("X-API-KEY", key);
    request.setTransferTimeout(10000);
    QNetworkReply* reply = m_network.sendCustomRequest(request, "OPTIONS", body);
    QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 15000);
    const HttpAnswer a = answerOf(reply);
    reply->deleteLater();
    QVERIFY2(a.status == 200, qPrintable(a.transportError + QString::fromUtf8(a.body)));
    QCOMPARE(a.body, QByteArray());
    QCOMPARE(a.contentType, QByteArray("text/plain"));
    QCOMPARE(a.header("Content-Length"), QByteArray("0"));
    QCOMPARE(a.header("Access-Control-Allow-Origin"), QByteArray("*"));
    QCOMPARE(a.header("Access-Control-Allow-Methods"),
             QByteArray("POST, GET, PUT, OPTIONS, DELETE, PATCH"));
    QCOMPARE(a.header("Access-Control-Max-Age"), QByteArray("3600"));
    QCOMPARE(a.header("Access-Control-Allow-Headers"), QByteArray("*"));
    QCOMPARE(a.header("Access-Control-Allow-Credentials"), QByteArray("true"));
    // Only what APISIX's preflight answer has: not the headers of the other answers.
    QVERIFY(a.header("Access-Control-Expose-Headers").isNull());
    QVERIFY(a.apiVersion.isNull());
    QVERIFY(m_store->config().streamRoutes.isEmpty() && m_store->config().upstreams.isEmpty());
}

void TestAdminServer::corsHeadersOnEveryAnswer()
{
    const auto hasCors = [](const HttpAnswer& a) {
        return a.header("Access-Control-Allow-Origin") == "*" &&
               a.header("Access-Control-Allow-Credentials") == "true" &&
               a.header("Access-Control-Expose-Headers") == "*" &&
               a.header("Access-Control-Max-Age") == "3600";
    };
    // Every answer under /apisix/admin, whatever it is, as cors_admin sets them before routing.
    HttpAnswer a = call("PUT", "/apisix/admin/upstreams/1", R"({"nodes": {"127.0.0.1:1": 1}})");
    QCOMPARE(a.status, 201);
    QVERIFY2(hasCors(a), a.body.constData());
    QCOMPARE(a.apiVersion, QByteArray("v3"));
    a = call("GET", "/apisix/admin/upstreams");
    QCOMPARE(a.status, 200);
    QVERIFY(hasCors(a));
    a = call("GET", "/apisix/admin/upstreams", {}, QByteArray());
    QCOMPARE(a.status, 401);
    QVERIFY(hasCors(a));
    a = call("PUT", "/apisix/admin/upstreams/2", R"({"nodes": {"127.0.0.1:1": 1}, "retries": -1})");
    QCOMPARE(a.status, 400);
    QVERIFY(hasCors(a));
    a = call("GET", "/apisix/admin/nothing");
    QCOMPARE(a.status, 404);
    QVERIFY(hasCors(a));
    // Streamgate's own endpoints are not APISIX's: no CORS.
    a = call("GET", "/streamgate/v1/stats");
    QVERIFY(a.header("Access-Control-Allow-Origin").isNull());
}

void TestAdminServer::streamRouteSequence()
{
    // The APISIX documentation's stream route walk-through, as curl would send it.
    HttpAnswer a = call("PUT", "/apisix/admin/stream_routes/1", R"({
        "remote_addr": "127.0.0.1",
        "upstream": { "nodes": { "127.0.0.1:1995": 1 }, "type": "roundrobin" }
    })");
    QCOMPARE(a.status, 201);
    QCOMPARE(a.json.keys(), (QStringList{"key", "value"})); // no etcd indexes on a write
    QCOMPARE(a.json.value("key").toString(), QString("/apisix/stream_routes/1"));
    QJsonObject value = a.json.value("value").toObject();
    QCOMPARE(value.value("remote_addr").toString(), QString("127.0.0.1"));
    QCOMPARE(value.value("id").toString(), QString("1"));
    QVERIFY(value.value("create_time").toInteger() > 0); // set by the server
    QVERIFY(value.value("update_time").toInteger() > 0);
    // A GET has them: createdIndex stays while modifiedIndex moves with each change.
    a = call("GET", "/apisix/admin/stream_routes/1");
    QCOMPARE(a.status, 200);
    const qint64 created = a.json.value("createdIndex").toInteger();
    QVERIFY(created > 0);
    QCOMPARE(a.json.value("modifiedIndex").toInteger(), created);

    // Replace: same id, 200, new address, create_time kept.
    a = call("PUT", "/apisix/admin/stream_routes/1", R"({
        "remote_addr": "127.0.0.2",
        "upstream": { "nodes": { "127.0.0.1:1995": 1 }, "type": "roundrobin" }
    })");
    QCOMPARE(a.status, 200);
    QCOMPARE(a.json.keys(), (QStringList{"key", "value"}));
    QCOMPARE(a.json.value("value").toObject().value("remote_addr").toString(),
             QString("127.0.0.2"));
    QCOMPARE(a.json.value("value").toObject().value("create_time"), value.value("create_time"));

    a = call("GET", "/apisix/admin/stream_routes/1");
    QCOMPARE(a.status, 200);
    QCOMPARE(a.json.value("key").toString(), QString("/apisix/stream_routes/1"));
    QCOMPARE(a.json.value("value").toObject().value("remote_addr").toString(),
             QString("127.0.0.2"));
    QCOMPARE(a.json.value("createdIndex").toInteger(), created);
    QVERIFY(a.json.value("modifiedIndex").toInteger() > created);

    // CIDR.
    a = call("PUT", "/apisix/admin/stream_routes/2", R"({
        "remote_addr": "127.0.0.1/26", "server_port": 9101,
        "upstream": { "nodes": { "127.0.0.1:1995": 1 } }
    })");
    QCOMPARE(a.status, 201);

    // APISIX's own error text for a bad address, and nothing stored.
    a = call("PUT", "/apisix/admin/stream_routes/3", R"({
        "remote_addr": ":/8",
        "upstream": { "nodes": { "127.0.0.1:1995": 1 } }
    })");
    QCOMPARE(a.status, 400);
    QCOMPARE(a.json.value("error_msg").toString(), QString("invalid remote_addr: :/8"));
    QVERIFY(!m_store->config().findRoute("3"));

    a = call("GET", "/apisix/admin/stream_routes");
    QCOMPARE(a.status, 200);
    QCOMPARE(a.json.value("total").toInt(), 2);
    const QJsonArray list = a.json.value("list").toArray();
    QCOMPARE(list.size(), 2);
    QCOMPARE(list.at(0).toObject().value("key").toString(), QString("/apisix/stream_routes/1"));
    QCOMPARE(list.at(1).toObject().value("value").toObject().value("remote_addr").toString(),
             QString("127.0.0.1/26"));
    QVERIFY(list.at(1).toObject().contains("createdIndex"));
    QVERIFY(list.at(1).toObject().contains("modifiedIndex"));

    a = call("DELETE", "/apisix/admin/stream_routes/1");
    QCOMPARE(a.status, 200);
    QCOMPARE(a.json.value("deleted").toString(), QString("1"));
    QCOMPARE(a.json.value("key").toString(), QString("/apisix/stream_routes/1"));

    a = call("GET", "/apisix/admin/stream_routes/1");
    QCOMPARE(a.status, 404);
    QCOMPARE(a.json, (QJsonObject{{"message", "Key not found"}})); // etcd's words, nothing else
    a = call("DELETE", "/apisix/admin/stream_routes/1");
    QCOMPARE(a.status, 404);

    const Config disk = configOnDisk(m_path);
    QCOMPARE(disk.streamRoutes.size(), 1);
    QCOMPARE(disk.streamRoutes.first().idString(), QString("2"));
}

void TestAdminServer::upstreamReferenceAndDeleteInUse()
{
    HttpAnswer a = call("PUT", "/apisix/admin/upstreams/1", R"({
        "type": "roundrobin", "nodes": { "127.0.0.1:1995": 1 }
    })");
    QCOMPARE(a.status, 201);
    QCOMPARE(a.json.value("key").toString(), QString("/apisix/upstreams/1"));

    a = call("PUT", "/apisix/admin/stream_routes/r1", R"({"server_port": 9100, "upstream_id": 1})");
    QCOMPARE(a.status, 201);
    QCOMPARE(a.json.value("value").toObject().value("upstream_id"), QJsonValue(1));

    a = call("PUT", "/apisix/admin/stream_routes/r2",
             R"({"server_port": 9100, "upstream_id": "missing"})");
    QCOMPARE(a.status, 400);
    QCOMPARE(a.json.value("error_msg").toString(),
             QString("failed to fetch upstream info by upstream id [missing], response code: 404"));

    // APISIX's delete_checker of an upstream looks at HTTP routes and services, not at stream
    // routes: the upstream goes, and r1 is left naming nothing (the check warns).
    a = call("DELETE", "/apisix/admin/upstreams/1");
    QCOMPARE(a.status, 200);
    QCOMPARE(a.json, (QJsonObject{{"deleted", "1"}, {"key", "/apisix/upstreams/1"}}));
    Config disk = configOnDisk(m_path);
    QVERIFY(disk.upstreams.isEmpty());
    QCOMPARE(disk.findRoute("r1")->upstreamId, QJsonValue(1));
    bool warned = false;
    for (const Problem& w : m_store->warnings())
        warned = warned || (w.path == u"stream_routes[0].upstream_id" && w.value == u"1");
    QVERIFY(warned);

    // A service still refuses the delete of its upstream, unless forced.
    QCOMPARE(call("PUT", "/apisix/admin/upstreams/1", R"({"nodes": {"127.0.0.1:1995": 1}})").status,
             201);
    QCOMPARE(call("PUT", "/apisix/admin/services/s1", R"({"upstream_id": "1"})").status, 201);
    a = call("DELETE", "/apisix/admin/upstreams/1");
    QCOMPARE(a.status, 400);
    QCOMPARE(a.json.value("error_msg").toString(),
             QString("can not delete this upstream, service [s1] is still using it now"));
    QVERIFY(m_store->config().findUpstream("1"));
    a = call("DELETE", "/apisix/admin/upstreams/1?force=true");
    QCOMPARE(a.status, 200);
    QVERIFY(configOnDisk(m_path).upstreams.isEmpty());
    QCOMPARE(configOnDisk(m_path).findService("s1")->upstreamId, QJsonValue("1"));

    // The same for a service a stream route names.
    QCOMPARE(call("PUT", "/apisix/admin/stream_routes/r1", R"({"server_port": 9100,
        "service_id": "s1"})")
                 .status,
             200);
    a = call("DELETE", "/apisix/admin/services/s1");
    QCOMPARE(a.status, 400);
    QCOMPARE(a.json.value("error_msg").toString(),
             QString("can not delete this service directly, stream_route [r1] is still using it "
                     "now"));
    QCOMPARE(call("DELETE", "/apisix/admin/services/s1?force=false").status, 400);
    QCOMPARE(call("DELETE", "/apisix/admin/services/s1?force=true").status, 200);
    disk = configOnDisk(m_path);
    QVERIFY(disk.services.isEmpty());
    QCOMPARE(disk.findRoute("r1")->serviceId, QJsonValue("s1"));
}

void TestAdminServer::bodyErrors_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("message"); // error_msg must contain this

    QTest::newRow("empty body") << "/apisix/admin/stream_routes/1" << QByteArray("")
                                << "missing configurations";
    QTest::newRow("not json") << "/apisix/admin/stream_routes/1" << QByteArray("{remote_addr")
                              << "invalid request body";
    QTest::newRow("json array") << "/apisix/admin/stream_routes/1" << QByteArray("[1]")
                                << "invalid request body";
    QTest::newRow("id disagrees with path")
        << "/apisix/admin/stream_routes/1"
        << QByteArray(R"({"id": "2", "upstream": {"nodes": {"127.0.0.1:1": 1}}})")
        << "wrong stream route id";
    QTest::newRow("upstream id disagrees")
        << "/apisix/admin/upstreams/a" << QByteArray(R"({"id": "b", "nodes": {"127.0.0.1:1": 1}})")
        << "wrong upstream id";
    QTest::newRow("create_time from a client")
        << "/apisix/admin/stream_routes/1"
        << QByteArray(R"({"create_time": 1, "upstream": {"nodes": {"127.0.0.1:1": 1}}})")
        << "create_time";
    QTest::newRow("port out of range")
        << "/apisix/admin/stream_routes/1"
        << QByteArray(R"({"server_port": 70000, "upstream": {"nodes": {"127.0.0.1:1": 1}}})")
        << "server_port";
    QTest::newRow("label value of the wrong type")
        << "/apisix/admin/stream_routes/1"
        << QByteArray(R"({"labels": {"x": {}}, "upstream": {"nodes": {"127.0.0.1:1": 1}}})")
        << "invalid configuration: property \"labels\" validation failed: failed to validate x "
           "(matching \".*\"): wrong type: expected string, got table";
    QTest::newRow("unknown plugin")
        << "/apisix/admin/stream_routes/1"
        << QByteArray(
               R"({"plugins": {"limit-req": {}}, "upstream": {"nodes": {"127.0.0.1:1": 1}}})")
        << "unknown plugin [limit-req]";
    QTest::newRow("mqtt-proxy without its required protocol_level")
        << "/apisix/admin/stream_routes/1"
        << QByteArray(
               R"({"plugins": {"mqtt-proxy": {}}, "upstream": {"nodes": {"127.0.0.1:1": 1}}})")
        << "property \"protocol_level\" is required";
    QTest::newRow("ewma refused for stream")
        << "/apisix/admin/upstreams/u"
        << QByteArray(R"({"type": "ewma", "nodes": {"127.0.0.1:1": 1}})") << "ewma";
    QTest::newRow("unknown field")
        << "/apisix/admin/upstreams/u"
        << QByteArray(R"({"nodes": {"127.0.0.1:1": 1}, "colour": "red"})") << "colour";
    QTest::newRow("put on collection without id")
        << "/apisix/admin/upstreams" << QByteArray(R"({"nodes": {"127.0.0.1:1": 1}})")
        << "missing upstream id";
}

void TestAdminServer::bodyErrors()
{
    QFETCH(QString, path);
    QFETCH(QByteArray, body);
    QFETCH(QString, message);
    const QByteArray before = readFile(m_path);
    const HttpAnswer a = call("PUT", path, body);
    QCOMPARE(a.status, 400);
    QVERIFY2(a.json.value("error_msg").toString().contains(message), a.body.constData());
    QCOMPARE(readFile(m_path), before); // nothing half-applied
}

void TestAdminServer::postGeneratesId()
{
    HttpAnswer a = call("POST", "/apisix/admin/upstreams", R"({"nodes": {"127.0.0.1:1": 1}})");
    QCOMPARE(a.status, 201);
    const QString id = a.json.value("value").toObject().value("id").toString();
    QCOMPARE(id.size(), 20);
    QCOMPARE(a.json.value("key").toString(), "/apisix/upstreams/" + id);
    QVERIFY(m_store->config().findUpstream(id));

    a = call("POST", "/apisix/admin/stream_routes",
             R"({"server_port": 9100, "upstream_id": ")" + id.toLatin1() + R"("})");
    QCOMPARE(a.status, 201);
    const QString routeId = a.json.value("value").toObject().value("id").toString();
    QVERIFY(!routeId.isEmpty());

    a = call("POST", "/apisix/admin/stream_routes",
             R"({"id": "x", "server_port": 9100, "upstream_id": ")" + id.toLatin1() + R"("})");
    QCOMPARE(a.status, 400);
    QCOMPARE(a.json.value("error_msg").toString(),
             QString("wrong stream route id, do not need it"));
}

// APISIX strips etcd's createdIndex and modifiedIndex from the answer to every write: PUT, POST
// and PATCH answer exactly {"key", "value"}, the value being what a GET then returns.
void TestAdminServer::writeAnswersAreKeyAndValue()
{
    const auto verifyWrite = [this](const HttpAnswer& a, int status, const QString& kind,
                                    const QString& id) {
        QCOMPARE(a.status, status);
        const HttpAnswer got = call("GET", "/apisix/admin/" + kind + "/" + id);
        QCOMPARE(got.status, 200);
        QVERIFY(got.json.contains("createdIndex"));
        QVERIFY(got.json.contains("modifiedIndex"));
        const QJsonObject expected{{"key", "/apisix/" + kind + "/" + id},
                                   {"value", got.json.value("value")}};
        QCOMPARE(a.json, expected);
    };
    const QString upstreams = QStringLiteral("upstreams");
    const QString routes = QStringLiteral("stream_routes");

    verifyWrite(call("PUT", "/apisix/admin/upstreams/u1", R"({"nodes": {"127.0.0.1:1": 1}})"), 201,
                upstreams, "u1");
    verifyWrite(call("PUT", "/apisix/admin/upstreams/u1", R"({"nodes": {"127.0.0.1:2": 1}})"), 200,
                upstreams, "u1");
    verifyWrite(
        call("PUT", "/apisix/admin/upstreams", R"({"id": "u2", "nodes": {"127.0.0.1:3": 1}})"), 201,
        upstreams, "u2");
    verifyWrite(call("PATCH", "/apisix/admin/upstreams/u1", R"({"retries": 1})"), 200, upstreams,
                "u1");
    verifyWrite(call("PATCH", "/apisix/admin/upstreams/u1/nodes", R"({"127.0.0.1:4": 2})"), 200,
                upstreams, "u1");
    verifyWrite(call("PUT", "/apisix/admin/stream_routes/r1",
                     R"({"server_port": 9100, "upstream_id": "u1"})"),
                201, routes, "r1");
    verifyWrite(call("PUT", "/apisix/admin/stream_routes/r1",
                     R"({"server_port": 9101, "upstream_id": "u1"})"),
                200, routes, "r1");

    HttpAnswer a = call("POST", "/apisix/admin/upstreams", R"({"nodes": {"127.0.0.1:5": 1}})");
    verifyWrite(a, 201, upstreams, a.json.value("value").toObject().value("id").toString());
    a = call("POST", "/apisix/admin/stream_routes",
             R"({"server_port": 9100, "upstream_id": "u2"})");
    verifyWrite(a, 201, routes, a.json.value("value").toObject().value("id").toString());
    QCOMPARE(m_store->config().upstreams.size(), 3);
    QCOMPARE(m_store->config().streamRoutes.size(), 2);
}

void TestAdminServer::patchMergesLikeApisix()
{
    QCOMPARE(call("PATCH", "/apisix/admin/upstreams/u1", R"({"desc": "x"})").status, 404);
    HttpAnswer a = call(
        "PUT", "/apisix/admin/upstreams/u1",
        R"({"type": "roundrobin", "desc": "first", "nodes": {"127.0.0.1:1": 1}, "retries": 2})");
    QCOMPARE(a.status, 201);
    const QJsonValue created = a.json.value("value").toObject().value("create_time");

    // Merge: objects merge key by key, null removes, the rest replaces.
    a = call("PATCH", "/apisix/admin/upstreams/u1",
             R"({"desc": null, "retries": 0, "nodes": {"127.0.0.1:2": 5}})");
    QCOMPARE(a.status, 200);
    QJsonObject value = a.json.value("value").toObject();
    QVERIFY(!value.contains("desc"));
    QCOMPARE(value.value("retries").toInt(), 0);
    QCOMPARE(value.value("nodes").toObject(),
             (QJsonObject{{"127.0.0.1:1", 1}, {"127.0.0.1:2", 5}}));
    QCOMPARE(value.value("create_time"), created);

    // Sub path: the value there is replaced as a whole.
    a = call("PATCH", "/apisix/admin/upstreams/u1/nodes", R"({"127.0.0.1:3": 1})");
    QCOMPARE(a.status, 200);
    QCOMPARE(a.json.value("value").toObject().value("nodes").toObject(),
             (QJsonObject{{"127.0.0.1:3", 1}}));

    // A scalar at a sub path, and an object merged deeper than one level.
    a = call("PATCH", "/apisix/admin/upstreams/u1/desc", R"("second")");
    QCOMPARE(a.status, 200);
    QCOMPARE(a.json.value("value").toObject().value("desc").toString(), QString("second"));
    QCOMPARE(m_store->config().findUpstream("u1")->desc, QString("second"));
    a = call("PATCH", "/apisix/admin/upstreams/u1",
             R"({"timeout": {"connect": 1, "send": 2, "read": 3}})");
    QCOMPARE(a.status, 200);
    a = call("PATCH", "/apisix/admin/upstreams/u1", R"({"timeout": {"read": 9}})");
    QCOMPARE(a.status, 200);
    QCOMPARE(a.json.value("value").toObject().value("timeout").toObject(),
             (QJsonObject{{"connect", 1}, {"send", 2}, {"read", 9}}));

    // A trailing slash is the whole object, as APISIX splits the path.
    a = call("PATCH", "/apisix/admin/upstreams/u1/", R"({"desc": "third"})");
    QCOMPARE(a.status, 200);
    QCOMPARE(m_store->config().findUpstream("u1")->desc, QString("third"));

    // No id: APISIX's words, after the body has been read.
    a = call("PATCH", "/apisix/admin/upstreams", R"({"desc": "x"})");
    QCOMPARE(a.status, 400);
    QCOMPARE(a.json, (QJsonObject{{"error_msg", "missing upstream id"}}));
    a = call("PATCH", "/apisix/admin/upstreams", R"({"desc": )");
    QCOMPARE(a.status, 400);
    QVERIFY2(a.json.value("error_msg").toString().startsWith("invalid request body"),
             a.body.constData());

    // Refusals leave the object as it was.
    const QByteArray before = readFile(m_path);
    a = call("PATCH", "/apisix/admin/upstreams/u1", R"({"nodes": {"127.0.0.1:99999": 1}})");
    QCOMPARE(a.status, 400);
    QCOMPARE(a.json, (QJsonObject{{"error_msg", "invalid port 99999"}}));
    a = call("PATCH", "/apisix/admin/upstreams/u1", R"({"id": "other"})");
    QCOMPARE(a.status, 400);
    QCOMPARE(a.json, (QJsonObject{{"error_msg", "wrong upstream id"}}));
    a = call("PATCH", "/apisix/admin/upstreams/u1", R"({"create_time": -5})");
    QCOMPARE(a.status, 400);
    QVERIFY2(a.json.value("error_msg").toString().contains("create_time"), a.body.constData());
    a = call("PATCH", "/apisix/admin/upstreams/u1/id/x", R"("y")");
    QCOMPARE(a.status, 400); // the id is no object to reach into
    QCOMPARE(a.json, (QJsonObject{{"error_msg", "invalid sub-path: /id"}}));
    a = call("PATCH", "/apisix/admin/upstreams/u1", R"([1])");
    QCOMPARE(a.status, 400);
    QCOMPARE(a.json, (QJsonObject{{"error_msg", "invalid configuration"}}));
    QCOMPARE(readFile(m_path), before);
}

// APISIX's stream route resource has no PATCH (unsupported_methods = {"patch"}): 405 in its
// words, at the id and below it, for a route that exists or not; the route stays as it was.
// The key is still checked first.
void TestAdminServer::patchOnStreamRouteIsRefused()
{
    QCOMPARE(call("PUT", "/apisix/admin/upstreams/u1", R"({"nodes": {"127.0.0.1:1": 1}})").status,
             201);
    QCOMPARE(call("PUT", "/apisix/admin/stream_routes/r",
                  R"({"remote_addr": "127.0.0.1", "upstream_id": "u1"})")
                 .status,
             201);
    const QByteArray before = readFile(m_path);
    const QJsonObject refused{{"error_msg", "not supported `PATCH` method for stream route"}};
    const QList<QPair<QString, QByteArray>> requests = {
        {"/apisix/admin/stream_routes/r", R"({"remote_addr": "127.0.0.2"})"},
        {"/apisix/admin/stream_routes/r", R"({"remote_addr": ":/8"})"},
        {"/apisix/admin/stream_routes/r/remote_addr", R"("127.0.0.2")"},
        {"/apisix/admin/stream_routes/r/upstream/nodes", R"({"127.0.0.1:9": 1})"},
        {"/apisix/admin/stream_routes/missing", R"({"desc": "x"})"},
        {"/apisix/admin/stream_routes", R"({"desc": "x"})"},
    };
    for (const auto& [path, body] : requests) {
        const HttpAnswer a = call("PATCH", path, body);
        QVERIFY2(a.status == 405, qPrintable(path + ": " + QString::fromUtf8(a.body)));
        QCOMPARE(a.json, refused);
    }
    QCOMPARE(m_store->config().findRoute("r")->remoteAddr, QString("127.0.0.1"));
    QCOMPARE(readFile(m_path), before);

    const HttpAnswer noKey =
        call("PATCH", "/apisix/admin/stream_routes/r", R"({"desc": "x"})", QByteArray());
    QCOMPARE(noKey.status, 401);
    QCOMPARE(noKey.json.value("error_msg").toString(), QString("failed to check token"));
}

// An upstream with scheme "tls" and a client certificate: accepted as APISIX accepts it; its
// tls.client_key is never answered in full (the upstream's own, and a route's inline one), and
// what GET answered can be PUT back and keeps the key.
void TestAdminServer::upstreamTlsClientKeyKeptPrivate()
{
    TestCerts certs;
    QVERIFY2(certs.makeLeaf("me", "", "me", {}, true), qPrintable(certs.error()));
    const QString key = certs.pem("me", "key");
    const QJsonObject tls{
        {"client_cert", certs.pem("me", "crt")}, {"client_key", key}, {"verify", false}};
    const QJsonObject body{
        {"scheme", "tls"}, {"tls", tls}, {"nodes", QJsonObject{{"127.0.0.1:1", 1}}}};
    HttpAnswer a = call("PUT", "/apisix/admin/upstreams/u", QJsonDocument(body).toJson());
    QCOMPARE(a.status, 201);
    QVERIFY(!a.body.contains("PRIVATE KEY"));
    QCOMPARE(a.json.value("value").toObject().value("tls").toObject().value("client_key"),
             QJsonValue(redactedPrivateKey(key)));
    QCOMPARE(m_store->config().findUpstream("u")->tls->clientKey, key);

    a = call("GET", "/apisix/admin/upstreams/u");
    QVERIFY(!a.body.contains("PRIVATE KEY"));
    QJsonObject value = a.json.value("value").toObject();
    value.insert("desc", "edited");
    value.remove("create_time");
    value.remove("update_time");
    a = call("PUT", "/apisix/admin/upstreams/u", QJsonDocument(value).toJson());
    QCOMPARE(a.status, 200);
    QCOMPARE(m_store->config().findUpstream("u")->tls->clientKey, key);
    QCOMPARE(m_store->config().findUpstream("u")->desc, QStringLiteral("edited"));

    const QJsonObject route{{"server_port", 9100}, {"upstream", body}};
    a = call("PUT", "/apisix/admin/stream_routes/r", QJsonDocument(route).toJson());
    QCOMPARE(a.status, 201);
    QVERIFY(!a.body.contains("PRIVATE KEY"));
    a = call("GET", "/apisix/admin/stream_routes");
    QVERIFY(!a.body.contains("PRIVATE KEY"));

    // client_cert_id: an ssl of type client, which is not deleted while an upstream names it.
    const QJsonObject client{{"type", "client"}, {"cert", certs.pem("me", "crt")}, {"key", key}};
    QCOMPARE(call("PUT", "/apisix/admin/ssls/me", QJsonDocument(client).toJson()).status, 201);
    const QJsonObject byId{{"scheme", "tls"},
                           {"tls", QJsonObject{{"client_cert_id", "me"}}},
                           {"nodes", QJsonObject{{"127.0.0.1:1", 1}}}};
    QCOMPARE(call("PUT", "/apisix/admin/upstreams/byid", QJsonDocument(byId).toJson()).status, 201);
    a = call("DELETE", "/apisix/admin/ssls/me");
    QCOMPARE(a.status, 400);
    QVERIFY2(a.json.value("error_msg").toString().contains("client_cert_id"), a.body.constData());
    QVERIFY(m_store->config().findSsl("me"));
}

// /apisix/admin/ssls: create, read, list, replace, patch, delete as APISIX's; a private key is
// stored in the config file (0600) and never answered in full; what GET answered can be PUT
// back and keeps the key.
void TestAdminServer::sslCrudKeepsKeysPrivate()
{
    TestCerts certs;
    QVERIFY2(certs.makeLeaf("a", "", "a.example.com", {"a.example.com"}),
             qPrintable(certs.error()));
    const QString cert = certs.pem("a", "crt");
    const QString key = certs.pem("a", "key");
    const QString redacted = redactedPrivateKey(key);
    QVERIFY(redacted.startsWith("[redacted] sha256:"));
    const QJsonObject body{{"cert", cert}, {"key", key}, {"snis", QJsonArray{"a.example.com"}}};
    HttpAnswer a = call("PUT", "/apisix/admin/ssls/1", QJsonDocument(body).toJson());
    QCOMPARE(a.status, 201);
    QCOMPARE(a.json.value("key").toString(), QStringLiteral("/apisix/ssls/1"));
    QCOMPARE(a.json.value("value").toObject().value("key").toString(), redacted);
    QCOMPARE(a.json.value("value").toObject().value("cert").toString(), cert);
    QVERIFY(!a.body.contains("PRIVATE KEY"));
    QCOMPARE(m_store->config().findSsl("1")->key, key);
    // In the file in full, and the file is the owner's only.
    QVERIFY(readFile(m_path).contains(
        QJsonDocument(QJsonArray{key}).toJson(QJsonDocument::Compact).mid(2).chopped(2)));
    QCOMPARE(QFileInfo(m_path).permissions() & (QFileDevice::ReadGroup | QFileDevice::ReadOther |
                                                QFileDevice::WriteGroup | QFileDevice::WriteOther),
             QFileDevice::Permissions());

    a = call("GET", "/apisix/admin/ssls/1");
    QCOMPARE(a.status, 200);
    QJsonObject value = a.json.value("value").toObject();
    QCOMPARE(value.value("key").toString(), redacted);
    QVERIFY(!a.body.contains("PRIVATE KEY"));
    a = call("GET", "/apisix/admin/ssls");
    QCOMPARE(a.json.value("total").toInt(), 1);
    QVERIFY(!a.body.contains("PRIVATE KEY"));

    // GET, edit, PUT: the redacted key stands for the stored one.
    value.insert("desc", "edited");
    value.remove("create_time");
    value.remove("update_time");
    a = call("PUT", "/apisix/admin/ssls/1", QJsonDocument(value).toJson());
    QCOMPARE(a.status, 200);
    QCOMPARE(m_store->config().findSsl("1")->key, key);
    QCOMPARE(m_store->config().findSsl("1")->desc, QStringLiteral("edited"));
    // The redacted text of another key is no key at all.
    value.insert("key", redactedPrivateKey(key + "x"));
    a = call("PUT", "/apisix/admin/ssls/1", QJsonDocument(value).toJson());
    QCOMPARE(a.status, 400);
    QVERIFY2(a.json.value("error_msg").toString().contains("key"), a.body.constData());

    a = call("PATCH", "/apisix/admin/ssls/1",
             R"({"snis": ["a.example.com", "www.a.example.com"], "status": 0})");
    QCOMPARE(a.status, 200);
    QCOMPARE(m_store->config().findSsl("1")->key, key);
    QCOMPARE(m_store->config().findSsl("1")->status, 0);
    QCOMPARE(a.json.value("value").toObject().value("key").toString(), redacted);

    a = call("POST", "/apisix/admin/ssls", QJsonDocument(body).toJson());
    QCOMPARE(a.status, 201);
    QVERIFY(a.json.value("key").toString().startsWith("/apisix/ssls/"));
    QCOMPARE(m_store->config().ssls.size(), 2);

    a = call("DELETE", "/apisix/admin/ssls/1");
    QCOMPARE(a.status, 200);
    QCOMPARE(call("GET", "/apisix/admin/ssls/1").status, 404);
    QCOMPARE(m_store->config().ssls.size(), 1);
}

void TestAdminServer::sslRefusalsNameTheField_data()
{
    QTest::addColumn<QString>("change"); // what is wrong
    QTest::addColumn<QString>("message");
    QTest::newRow("key of another certificate")
        << "key=b"
        << "key does not match cert: it is the private key of another certificate";
    QTest::newRow("certificate not PEM") << "cert=garbage"
                                         << "failed to parse cert: not a PEM certificate";
    QTest::newRow("key not PEM")
        << "key=garbage"
        << "failed to parse key: not a PEM private key without a passphrase";
    QTest::newRow("no sni") << "sni=none"
                            << "a server certificate needs sni or snis";
    QTest::newRow("sni and snis") << "sni=both"
                                  << "give sni or snis, not both";
    QTest::newRow("bad sni") << "sni=bad"
                             << "must be a host name";
    QTest::newRow("ssl_protocols") << "protocols=TLSv1.0"
                                   << "must be one of";
    QTest::newRow("certs without keys") << "certs=1"
                                        << "mismatched number of certs and keys";
    QTest::newRow("client without ca") << "client=noca"
                                       << "property \"ca\" is required";
    QTest::newRow("client ca not PEM") << "client=garbage"
                                       << "failed to parse client.ca";
    QTest::newRow("name is not an ssl field") << "name=x"
                                              << "name";
}

void TestAdminServer::sslRefusalsNameTheField()
{
    QFETCH(QString, change);
    QFETCH(QString, message);
    TestCerts certs;
    QVERIFY(certs.makeLeaf("a", "", "a.example.com", {"a.example.com"}));
    QVERIFY(certs.makeLeaf("b", "", "b.example.com", {"b.example.com"}));
    const QString garbage = QString(200, u'x');
    QJsonObject body{
        {"cert", certs.pem("a", "crt")}, {"key", certs.pem("a", "key")}, {"sni", "a.example.com"}};
    if (change == u"key=b")
        body.insert("key", certs.pem("b", "key"));
    else if (change == u"cert=garbage")
        body.insert("cert", garbage);
    else if (change == u"key=garbage")
        body.insert("key", garbage);
    else if (change == u"sni=none")
        body.remove("sni");
    else if (change == u"sni=both")
        body.insert("snis", QJsonArray{"a.example.com"});
    else if (change == u"sni=bad")
        body.insert("sni", "a b.example.com");
    else if (change == u"protocols=TLSv1.0")
        body.insert("ssl_protocols", QJsonArray{"TLSv1.0"});
    else if (change == u"certs=1")
        body.insert("certs", QJsonArray{certs.pem("b", "crt")});
    else if (change == u"client=noca")
        body.insert("client", QJsonObject{{"depth", 2}});
    else if (change == u"client=garbage")
        body.insert("client", QJsonObject{{"ca", garbage}});
    else if (change == u"name=x")
        body.insert("name", "x");
    else if (change == u"cert=env")
        body.insert("cert", "$ENV://APISIX_STREAM_ENV_CERT");
    const QByteArray before = readFile(m_path);
    const HttpAnswer a = call("PUT", "/apisix/admin/ssls/1", QJsonDocument(body).toJson());
    QCOMPARE(a.status, 400);
    QVERIFY2(a.json.value("error_msg").toString().contains(message), a.body.constData());
    QVERIFY2(!a.body.contains("PRIVATE KEY"), a.body.constData()); // never echoed
    QCOMPARE(readFile(m_path), before);
}

void TestAdminServer::changesAreLiveAndPersisted()
{
    QSignalSpy changed(m_store.get(), &ConfigStore::changed);
    const HttpAnswer a = call("PUT", "/apisix/admin/stream_routes/live", R"({
        "server_port": 9100, "upstream": {"nodes": {"127.0.0.1:1": 1}}})");
    QCOMPARE(a.status, 201);
    QCOMPARE(changed.count(), 1); // the engine and the GUI hear of it at once
    const ConfigDiff diff = changed.first().at(0).value<ConfigDiff>();
    QCOMPARE(diff.routesAdded, QStringList{"live"});
    QVERIFY(configOnDisk(m_path).findRoute("live"));
    QVERIFY(QFile::exists(m_store->backupPath())); // the previous good file is kept
}

void TestAdminServer::concurrentPutsLeaveValidFile()
{
    QCOMPARE(
        call("PUT", "/apisix/admin/upstreams/shared", R"({"nodes": {"127.0.0.1:3306": 1}})").status,
        201);

    // Twenty writers at once: all requests are in flight before the first answer is read.
    QList<QNetworkReply*> replies;
    for (int i = 0; i < 20; ++i) {
        const QByteArray body =
            QStringLiteral(
                R"({"server_port": %1, "remote_addr": "127.0.0.%2", "upstream_id": "shared"})")
                .arg(i % 2 ? 9100 : 9101)
                .arg(i + 1)
                .toUtf8();
        replies << startRequest(m_network, "PUT",
                                url(QStringLiteral("/apisix/admin/stream_routes/c%1").arg(i)), body,
                                kKey);
    }
    // Plus the same id written by several clients: last writer wins, no corruption.
    for (int i = 0; i < 5; ++i)
        replies << startRequest(
            m_network, "PUT", url("/apisix/admin/stream_routes/same"),
            QStringLiteral(R"({"server_port": 9100, "desc": "writer %1", "upstream_id": "shared"})")
                .arg(i)
                .toUtf8(),
            kKey);
    for (QNetworkReply* reply : replies)
        QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 20000);
    int created = 0;
    for (QNetworkReply* reply : replies) {
        const HttpAnswer a = answerOf(reply);
        QVERIFY2(a.status == 200 || a.status == 201, a.body.constData());
        created += a.status == 201;
        reply->deleteLater();
    }
    QCOMPARE(created, 21); // 20 + the first write of "same"

    const Config disk = configOnDisk(m_path);
    QCOMPARE(disk.streamRoutes.size(), 21);
    QVERIFY(disk == m_store->config()); // the file is exactly what the store serves
    QCOMPARE(call("GET", "/apisix/admin/stream_routes").json.value("total").toInt(), 21);
}

void TestAdminServer::generatedKeyIsSaved()
{
    QTemporaryDir dir;
    const QString path = dir.filePath("fresh.json");
    QVERIFY(writeFile(path, R"({"stream_proxy": {"tcp": [9100]}})"));
    ConfigStore store(path);
    QVERIFY(store.load().ok());
    AdminServer server(&store, nullptr);
    QVERIFY2(server.start({QStringLiteral("127.0.0.1:0"), {}}), qPrintable(server.errorString()));
    const QString key = server.key();
    QCOMPARE(key.size(), 32);
    // Kept beside the config, which is not rewritten for it.
    QVERIFY(configOnDisk(path).streamgate.isEmpty());
    QFile keyFile(store.keyPath());
    QVERIFY(keyFile.open(QIODevice::ReadOnly));
    QCOMPARE(keyFile.readAll().trimmed(), key.toLatin1());

    QUrl u = server.url();
    u.setPath("/apisix/admin/upstreams");
    QCOMPARE(request(m_network, "GET", u, {}, key.toLatin1()).status, 200);
    QCOMPARE(request(m_network, "GET", u, {}, kKey).status, 401);

    // A second start reuses the saved key instead of inventing a new one.
    AdminServer again(&store, nullptr);
    QVERIFY(again.start({QStringLiteral("127.0.0.1:0"), {}}));
    QCOMPARE(again.key(), key);
}

void TestAdminServer::keyChangedInSettingsAppliesAtOnce()
{
    QTemporaryDir dir;
    const QString path = dir.filePath("k.json");
    QVERIFY(writeFile(path, R"({"streamgate": {"admin": {"key": "first-key"}}})"));
    ConfigStore store(path);
    QVERIFY(store.load().ok());
    AdminServer server(&store, nullptr);
    QVERIFY(server.start({QStringLiteral("127.0.0.1:0"), {}}));
    QUrl u = server.url();
    u.setPath("/apisix/admin/stream_routes");
    QCOMPARE(request(m_network, "GET", u, {}, "first-key").status, 200);

    StreamgateSettings settings = store.config().streamgate;
    settings.admin = AdminSettings{std::nullopt, QStringLiteral("second-key")};
    QVERIFY(store.setSettings(settings).isEmpty());
    QCOMPARE(request(m_network, "GET", u, {}, "first-key").status, 401);
    QCOMPARE(request(m_network, "GET", u, {}, "second-key").status, 200);
}

// streamgate.admin.listen changed while running: the old port closes and the new one answers;
// an address that cannot be bound leaves the API closed with the reason in errorString(); with
// --admin-listen given, the setting never moves it.
void TestAdminServer::listenChangedInSettingsRebinds()
{
    QTemporaryDir dir;
    const QString path = dir.filePath("l.json");
    const int first = freePort(), second = freePort();
    QVERIFY(first != second);
    const auto listenAt = [](int port) {
        StreamgateSettings s;
        s.admin =
            AdminSettings{QStringLiteral("127.0.0.1:%1").arg(port), QString::fromLatin1(kKey)};
        return s;
    };
    QVERIFY(writeFile(path, "{}"));
    ConfigStore store(path);
    QVERIFY(store.load().ok());
    QVERIFY(store.setSettings(listenAt(first)).isEmpty());
    AdminServer server(&store, nullptr);
    AdminServer pinned(&store, nullptr); // --admin-listen
    QVERIFY2(server.start(), qPrintable(server.errorString()));
    QVERIFY(pinned.start({QStringLiteral("127.0.0.1:0"), {}}));
    const quint16 pinnedPort = pinned.port();
    QCOMPARE(server.port(), first);
    const auto status = [this](int port) {
        return request(m_network, "GET",
                       QUrl(QStringLiteral("http://127.0.0.1:%1/apisix/admin/upstreams").arg(port)),
                       {}, kKey)
            .status;
    };
    QCOMPARE(status(first), 200);

    QVERIFY(store.setSettings(listenAt(second)).isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(server.port(), second, 5000);
    QCOMPARE(status(second), 200);
    QCOMPARE(status(first), 0);
    QCOMPARE(pinned.port(), pinnedPort);
    QCOMPARE(status(pinnedPort), 200);

    QTcpServer squatter;
    QVERIFY(squatter.listen(QHostAddress::LocalHost, 0));
    QVERIFY(store.setSettings(listenAt(squatter.serverPort())).isEmpty());
    QTRY_VERIFY_WITH_TIMEOUT(!server.errorString().isEmpty(), 5000);
    QVERIFY2(
        server.errorString().startsWith(
            QStringLiteral("admin API cannot listen on 127.0.0.1:%1: ").arg(squatter.serverPort())),
        qPrintable(server.errorString()));
    QCOMPARE(server.port(), 0);
    QCOMPARE(status(second), 0);
}

void TestAdminServer::engineEndpointsWithoutEngine()
{
    const HttpAnswer a = call("GET", "/streamgate/v1/connections");
    QCOMPARE(a.status, 503);
    QVERIFY(a.json.value("error_msg").toString().contains("engine"));
}

void TestAdminServer::unknownPath()
{
    HttpAnswer a = call("GET", "/apisix/admin/nothing");
    QCOMPARE(a.status, 404);
    QCOMPARE(a.json, (QJsonObject{{"error_msg", "Unsupported resource type: nothing"}}));
    a = call("GET", "/streamgate/v1/nothing");
    QCOMPARE(a.status, 404);
    QVERIFY(!a.json.value("error_msg").toString().isEmpty());
}

void TestAdminServer::nonLoopbackIsWarned()
{
    // Only when asked for explicitly, and never silently.
    AdminServer open(m_store.get(), nullptr);
    QTest::ignoreMessage(
        QtWarningMsg,
        QRegularExpression("admin API listens on http://0\\.0\\.0\\.0:\\d+ which is not loopback"));
    QVERIFY2(open.start({QStringLiteral("0.0.0.0:0"), QString::fromLatin1(kKey)}),
             qPrintable(open.errorString()));
}

void TestAdminServer::listenFailureIsReported()
{
    AdminServer clash(m_store.get(), nullptr);
    QVERIFY(!clash.start(
        {QStringLiteral("127.0.0.1:%1").arg(m_server->port()), QString::fromLatin1(kKey)}));
    QVERIFY2(clash.errorString().contains(QString::number(m_server->port())),
             qPrintable(clash.errorString()));

    AdminServer bad(m_store.get(), nullptr);
    QVERIFY(!bad.start({QStringLiteral("nowhere:80"), QString::fromLatin1(kKey)}));
    QVERIFY2(bad.errorString().startsWith("--admin-listen: \"nowhere:80\""),
             qPrintable(bad.errorString()));
}

QTEST_GUILESS_MAIN(TestAdminServer)
#include "tst_adminserver.moc"
