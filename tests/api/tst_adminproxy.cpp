// The admin API driving a running engine, end to end over loopback: routes created over HTTP
// carry real TCP traffic (their own upstream, a shared one, or their service's), replacements
// refuse clients at once, connections are listed and killed, the metrics endpoint counts what
// went through, and the stats say which upstream nodes answer a connect.
#include "api/adminserver.h"
#include "api/prometheus.h"
#include "config/configstore.h"
#include "echoserver.h"
#include "httptestclient.h"
#include "loopback.h"
#include "model/codec.h"
#include "promtool.h"
#include "proxy/engine.h"
#include "testfiles.h"

#include <QFile>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <memory>

using namespace sg;
using namespace sgtest;

namespace {

const QByteArray kKey = "proxy-test-key";

// A client from `from` (127.0.0.x) to the proxy port.
std::unique_ptr<QTcpSocket> connectFrom(const QString& from, quint16 port)
{
    auto socket = std::make_unique<QTcpSocket>();
    socket->bind(QHostAddress(from), 0);
    socket->connectToHost(QHostAddress(QStringLiteral("127.0.0.1")), port);
    return socket;
}

} // namespace

class TestAdminProxy : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void apisixStreamRouteSequence();
    void upstreamIdReference();
    void serviceSequence();
    void killThroughApi();
    void statsAndEvents();
    void upstreamReachableInStats();
    void metricsCountTraffic();

private:
    // path may carry a query ("/streamgate/v1/events?since=3").
    QUrl url(const QString& path) const
    {
        QUrl u = m_admin->url();
        u.setPath(path.section(u'?', 0, 0));
        if (path.contains(u'?'))
            u.setQuery(path.section(u'?', 1));
        return u;
    }
    HttpAnswer call(const QByteArray& verb, const QString& path, const QByteArray& body = {})
    {
        return request(m_network, verb, url(path), body, kKey);
    }
    QByteArray echoRoute(const QString& remoteAddr) const
    {
        return QStringLiteral(
                   R"({"remote_addr": "%1", "upstream": {"type": "roundrobin", "nodes": {"127.0.0.1:%2": 1}}})")
            .arg(remoteAddr)
            .arg(m_echo.serverPort())
            .toUtf8();
    }
    // True when `from` gets its bytes echoed through the proxy.
    bool passes(const QString& from, const QByteArray& payload = "ping");
    // True when the proxy closes a client from `from` without sending a byte.
    bool refused(const QString& from);

    EchoServer m_echo;
    quint16 m_proxyPort = 0;
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<ConfigStore> m_store;
    std::unique_ptr<Engine> m_engine;
    std::unique_ptr<AdminServer> m_admin;
    QNetworkAccessManager m_network;
};

bool TestAdminProxy::passes(const QString& from, const QByteArray& payload)
{
    auto socket = connectFrom(from, m_proxyPort);
    QByteArray received;
    bool sent = false;
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < 5000 && received.size() < payload.size()) {
        if (!sent && socket->state() == QAbstractSocket::ConnectedState) {
            socket->write(payload);
            sent = true;
        }
        if (socket->state() == QAbstractSocket::UnconnectedState)
            break;
        QSignalSpy spy(socket.get(), &QIODevice::readyRead);
        spy.wait(50);
        received += socket->readAll();
    }
    return received == payload;
}

bool TestAdminProxy::refused(const QString& from)
{
    auto socket = connectFrom(from, m_proxyPort);
    QByteArray received;
    QElapsedTimer timer;
    timer.start();
    bool wrote = false;
    while (timer.elapsed() < 5000 && socket->state() != QAbstractSocket::UnconnectedState) {
        if (!wrote && socket->state() == QAbstractSocket::ConnectedState) {
            socket->write("hello?");
            wrote = true;
        }
        QSignalSpy spy(socket.get(), &QAbstractSocket::stateChanged);
        spy.wait(50);
        received += socket->readAll();
    }
    received += socket->readAll();
    return socket->state() == QAbstractSocket::UnconnectedState && received.isEmpty();
}

void TestAdminProxy::init()
{
    if (!m_echo.isListening())
        QVERIFY(m_echo.listen(QHostAddress(QStringLiteral("127.0.0.1")), 0));
    m_proxyPort = freePort();
    m_dir = std::make_unique<QTemporaryDir>();
    const QString path = m_dir->filePath("streamgate.json");
    QVERIFY(writeFile(path, QStringLiteral(R"({"stream_proxy": {"tcp": ["127.0.0.1:%1"]}})")
                                .arg(m_proxyPort)
                                .toUtf8()));
    m_store = std::make_unique<ConfigStore>(path);
    QVERIFY(m_store->load().ok());
    EngineOptions options;
    options.workers = 2;
    options.probeUpstreams = true; // as the application runs it
    options.reachRetryMs = 200;    // a node is probed again soon after a failed connect
    m_engine = std::make_unique<Engine>(options);
    m_engine->apply(m_store->config());
    // What app/main.cpp wires: every accepted change reaches the engine.
    connect(m_store.get(), &ConfigStore::changed, m_engine.get(),
            [engine = m_engine.get()](const ConfigDiff&, const Config& config) {
                engine->apply(config);
            });
    m_admin = std::make_unique<AdminServer>(m_store.get(), m_engine.get());
    QVERIFY2(m_admin->start({QStringLiteral("127.0.0.1:0"), QString::fromLatin1(kKey)}),
             qPrintable(m_admin->errorString()));
    bool listening = false;
    for (const ListenerStatus& l : m_engine->snapshot().listeners)
        listening |= l.listening && l.port == m_proxyPort;
    QVERIFY2(listening, "the proxy listener did not come up");
}

void TestAdminProxy::cleanup()
{
    m_admin.reset();
    m_engine.reset();
    m_store.reset();
    m_dir.reset();
}

void TestAdminProxy::apisixStreamRouteSequence()
{
    HttpAnswer a = call("PUT", "/apisix/admin/stream_routes/1", echoRoute("127.0.0.1"));
    QCOMPARE(a.status, 201);
    QVERIFY(passes("127.0.0.1"));
    QVERIFY(refused("127.0.0.2")); // not the allowed client

    a = call("PUT", "/apisix/admin/stream_routes/1", echoRoute("127.0.0.2"));
    QCOMPARE(a.status, 200);
    QVERIFY(refused("127.0.0.1"));
    QVERIFY(passes("127.0.0.2"));

    a = call("PUT", "/apisix/admin/stream_routes/1", echoRoute("127.0.0.1/26"));
    QCOMPARE(a.status, 200);
    QVERIFY(passes("127.0.0.1"));
    QVERIFY(passes("127.0.0.63"));
    QVERIFY(refused("127.0.0.64"));

    a = call("PUT", "/apisix/admin/stream_routes/1", echoRoute(":/8"));
    QCOMPARE(a.status, 400);
    QCOMPARE(a.json.value("error_msg").toString(), QString("invalid remote_addr: :/8"));
    QVERIFY(passes("127.0.0.1")); // the refused change left the running route alone

    a = call("DELETE", "/apisix/admin/stream_routes/1");
    QCOMPARE(a.status, 200);
    QVERIFY(refused("127.0.0.1"));
}

void TestAdminProxy::upstreamIdReference()
{
    HttpAnswer a =
        call("PUT", "/apisix/admin/upstreams/echo",
             QStringLiteral(R"({"nodes": {"127.0.0.1:%1": 1}})").arg(m_echo.serverPort()).toUtf8());
    QCOMPARE(a.status, 201);
    a = call("PUT", "/apisix/admin/stream_routes/ref",
             R"({"remote_addr": "127.0.0.3", "upstream_id": "echo"})");
    QCOMPARE(a.status, 201);
    QVERIFY(passes("127.0.0.3"));
    QVERIFY(refused("127.0.0.4"));
    // As in APISIX, the upstream goes though the route names it: the route's connections are
    // closed at once, until an upstream of that id comes back.
    a = call("DELETE", "/apisix/admin/upstreams/echo");
    QCOMPARE(a.status, 200);
    QVERIFY(refused("127.0.0.3"));
    a = call("PUT", "/apisix/admin/upstreams/echo",
             QStringLiteral(R"({"nodes": {"127.0.0.1:%1": 1}})").arg(m_echo.serverPort()).toUtf8());
    QCOMPARE(a.status, 201);
    QVERIFY(passes("127.0.0.3"));
}

// APISIX's t/stream-node/sanity-with-service.t and service-change-rebuild-router.t: a route
// that names a service is served by the service's upstream (inline or by upstream_id), a change
// to the service alone keeps it served, and once route and service are gone nothing matches.
void TestAdminProxy::serviceSequence()
{
    const QByteArray inlineService =
        QStringLiteral(R"({"upstream": {"type": "roundrobin", "nodes": {"127.0.0.1:%1": 1}}})")
            .arg(m_echo.serverPort())
            .toUtf8();
    QCOMPARE(call("PUT", "/apisix/admin/services/1", inlineService).status, 201);
    HttpAnswer a = call("PUT", "/apisix/admin/stream_routes/1",
                        R"({"remote_addr": "127.0.0.1", "service_id": 1})");
    QCOMPARE(a.status, 201);
    QVERIFY(passes("127.0.0.1"));

    a = call("PUT", "/apisix/admin/stream_routes/1",
             R"({"remote_addr": "127.0.0.2", "service_id": 1})");
    QCOMPARE(a.status, 200);
    QVERIFY(refused("127.0.0.1"));
    QCOMPARE(call("DELETE", "/apisix/admin/stream_routes/1").status, 200);

    // The service by upstream_id.
    a = call("PUT", "/apisix/admin/upstreams/1",
             QStringLiteral(R"({"nodes": {"127.0.0.1:%1": 1}, "type": "roundrobin"})")
                 .arg(m_echo.serverPort())
                 .toUtf8());
    QCOMPARE(a.status, 201);
    QCOMPARE(call("PUT", "/apisix/admin/services/1", R"({"upstream_id": 1})").status, 200);
    a = call("PUT", "/apisix/admin/stream_routes/1",
             R"({"remote_addr": "127.0.0.1/26", "service_id": "1"})");
    QCOMPARE(a.status, 201);
    QVERIFY(passes("127.0.0.1"));
    a = call("PUT", "/apisix/admin/stream_routes/1",
             R"({"remote_addr": ":/8", "service_id": "1"})");
    QCOMPARE(a.status, 400);
    QCOMPARE(a.json.value("error_msg").toString(), QString("invalid remote_addr: :/8"));

    // A change to the service alone: the route still routes through it.
    a = call("PATCH", "/apisix/admin/services/1", R"({"desc": "updated"})");
    QCOMPARE(a.status, 200);
    QVERIFY(passes("127.0.0.1"));
    // A service whose plugins refuse the client refuses it on the route at once.
    a = call("PATCH", "/apisix/admin/services/1",
             R"({"plugins": {"ip-restriction": {"blacklist": ["127.0.0.1"]}}})");
    QCOMPARE(a.status, 200);
    QVERIFY(refused("127.0.0.1"));
    QVERIFY(passes("127.0.0.2"));

    QCOMPARE(call("DELETE", "/apisix/admin/stream_routes/1").status, 200);
    QCOMPARE(call("DELETE", "/apisix/admin/services/1").status, 200);
    QVERIFY(refused("127.0.0.2"));
}

void TestAdminProxy::killThroughApi()
{
    QCOMPARE(call("PUT", "/apisix/admin/stream_routes/k", echoRoute("127.0.0.1")).status, 201);
    auto client = connectFrom("127.0.0.1", m_proxyPort);
    QTRY_COMPARE_WITH_TIMEOUT(client->state(), QAbstractSocket::ConnectedState, 5000);
    client->write("hold");
    QByteArray echoed;
    QTRY_VERIFY_WITH_TIMEOUT((echoed += client->readAll()) == "hold", 5000);

    // The connection shows up in the live table, filtered by route.
    QJsonArray list;
    QTRY_VERIFY_WITH_TIMEOUT(
        (list = call("GET", "/streamgate/v1/connections?route=k").json.value("list").toArray())
                .size() == 1,
        5000);
    const QJsonObject connection = list.first().toObject();
    QCOMPARE(connection.value("route_id").toString(), QString("k"));
    QCOMPARE(connection.value("client_addr").toString(), QString("127.0.0.1"));
    QCOMPARE(connection.value("client_port").toInt(), int(client->localPort()));
    QCOMPARE(connection.value("bytes_up").toInteger(), 4);
    QCOMPARE(call("GET", "/streamgate/v1/connections?route=other").json.value("total").toInt(), 0);

    const QString id = QString::number(connection.value("id").toInteger());
    HttpAnswer a = call("DELETE", "/streamgate/v1/connections/" + id);
    QCOMPARE(a.status, 200);
    QTRY_COMPARE_WITH_TIMEOUT(client->state(), QAbstractSocket::UnconnectedState, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(
        call("GET", "/streamgate/v1/connections?route=k").json.value("total").toInt(), 0, 5000);

    a = call("DELETE", "/streamgate/v1/connections/" + id);
    QCOMPARE(a.status, 404);
    a = call("DELETE", "/streamgate/v1/connections/abc");
    QCOMPARE(a.status, 400);

    // The closed connection says why it ended.
    const QJsonArray closed = call("GET", "/streamgate/v1/connections?route=k&closed=true")
                                  .json.value("closed")
                                  .toArray();
    QVERIFY(!closed.isEmpty());
    QCOMPARE(closed.last().toObject().value("close_reason").toString(),
             toString(CloseReason::Killed));
}

void TestAdminProxy::statsAndEvents()
{
    QCOMPARE(call("PUT", "/apisix/admin/stream_routes/s", echoRoute("127.0.0.1")).status, 201);
    QVERIFY(passes("127.0.0.1", "abc"));
    QVERIFY(refused("127.0.0.9"));

    QJsonObject stats;
    auto routeStats = [&]() {
        stats = call("GET", "/streamgate/v1/stats").json;
        for (const QJsonValue& r : stats.value("routes").toArray())
            if (r.toObject().value("route_id").toString() == u"s")
                return r.toObject();
        return QJsonObject();
    };
    QTRY_COMPARE_WITH_TIMEOUT(routeStats().value("total").toInteger(), 1, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(routeStats().value("bytes_up").toInteger(), 3, 5000);
    QCOMPARE(routeStats().value("bytes_down").toInteger(), 3);
    QVERIFY(!stats.value("listeners").toArray().isEmpty());
    QVERIFY(!stats.value("nodes").toArray().isEmpty());

    HttpAnswer a = call("GET", "/streamgate/v1/events?since=0");
    QCOMPARE(a.status, 200);
    const QJsonArray events = a.json.value("list").toArray();
    QVERIFY(!events.isEmpty());
    qint64 previous = 0;
    for (const QJsonValue& e : events) {
        QVERIFY(e.toObject().value("seq").toInteger() > previous);
        previous = e.toObject().value("seq").toInteger();
    }
    const qint64 last = a.json.value("last_seq").toInteger();
    QCOMPARE(last, previous);
    a = call("GET", QStringLiteral("/streamgate/v1/events?since=%1").arg(last));
    QCOMPARE(a.json.value("total").toInt(), 0);
    QCOMPARE(call("GET", "/streamgate/v1/events?since=-1").status, 400);
}

// GET /streamgate/v1/stats: each node says whether it answers a connect (upstream_reachable)
// and, when it does not, why (upstream_error); a NodeDown event says it once. A node that
// answered and then went away is found out when a client's connect to it fails.
void TestAdminProxy::upstreamReachableInStats()
{
    auto server = std::make_unique<QTcpServer>();
    QVERIFY(server->listen(QHostAddress::LocalHost, 0));
    const quint16 live = server->serverPort();
    const quint16 dead = quint16(freePort());
    const auto route = [](const QString& remoteAddr, quint16 port) {
        return QStringLiteral(
                   R"({"remote_addr": "%1", "upstream": {"type": "roundrobin", "nodes": {"127.0.0.1:%2": 1}}})")
            .arg(remoteAddr)
            .arg(port)
            .toUtf8();
    };
    QCOMPARE(call("PUT", "/apisix/admin/stream_routes/live", route("127.0.0.1", live)).status, 201);
    QCOMPARE(call("PUT", "/apisix/admin/stream_routes/dead", route("127.0.0.9", dead)).status, 201);
    const auto node = [&](quint16 port) {
        for (const QJsonValue& n : call("GET", "/streamgate/v1/stats").json["nodes"].toArray())
            if (n["node"].toString() == QStringLiteral("127.0.0.1:%1").arg(port))
                return n.toObject();
        return QJsonObject();
    };
    QTRY_COMPARE_WITH_TIMEOUT(node(dead).value("upstream_reachable"), QJsonValue(false), 3000);
    QCOMPARE(node(dead).value("upstream_error").toString(), QStringLiteral("connection refused"));
    QTRY_COMPARE_WITH_TIMEOUT(node(live).value("upstream_reachable"), QJsonValue(true), 3000);
    QVERIFY(!node(live).contains("upstream_error"));

    server.reset();
    QVERIFY(refused("127.0.0.1")); // its connect to the upstream fails
    QTRY_COMPARE_WITH_TIMEOUT(node(live).value("upstream_reachable"), QJsonValue(false), 3000);
    QCOMPARE(node(live).value("upstream_error").toString(), QStringLiteral("connection refused"));
    int events = 0;
    for (const QJsonValue& e : call("GET", "/streamgate/v1/events?since=0").json["list"].toArray())
        events += e["kind"].toString() == toString(EventKind::NodeDown) &&
                          e["route_id"].toString() == u"live" &&
                          e["text"].toString().contains("is not answering: connection refused")
                      ? 1
                      : 0;
    QCOMPARE(events, 1);
}

void TestAdminProxy::metricsCountTraffic()
{
    MetricsServer metrics(m_store.get(), m_engine.get());
    QVERIFY2(metrics.start(QStringLiteral("127.0.0.1:0")), qPrintable(metrics.errorString()));
    QCOMPARE(call("PUT", "/apisix/admin/stream_routes/m", echoRoute("127.0.0.1")).status, 201);

    const QByteArray payload(1000, 'x');
    for (int i = 0; i < 3; ++i)
        QVERIFY(passes("127.0.0.1", payload));
    for (int i = 0; i < 2; ++i)
        QVERIFY(refused("127.0.0.5")); // no route matches: counted on the listener

    QUrl u;
    u.setScheme("http");
    u.setHost("127.0.0.1");
    u.setPort(metrics.port());
    u.setPath(MetricsServer::kPath);
    QByteArray text;
    auto scrape = [&]() {
        text = request(m_network, "GET", u).body;
        return text;
    };
    QTRY_VERIFY2_WITH_TIMEOUT(scrape().contains("apisix_stream_connection_total{route=\"m\"} 3\n"),
                              text.constData(), 5000);
    QTRY_VERIFY2_WITH_TIMEOUT(
        scrape().contains("streamgate_route_bytes_total{route=\"m\",direction=\"up\"} 3000\n"),
        text.constData(), 5000);
    QVERIFY2(text.contains("streamgate_route_bytes_total{route=\"m\",direction=\"down\"} 3000\n"),
             text.constData());
    const QByteArray noRoute =
        QStringLiteral(
            "streamgate_listener_no_route_total{listen_addr=\"127.0.0.1:%1\",protocol=\"tcp\"} 2\n")
            .arg(m_proxyPort)
            .toUtf8();
    QTRY_VERIFY2_WITH_TIMEOUT(scrape().contains(noRoute), text.constData(), 5000);
    QTRY_VERIFY2_WITH_TIMEOUT(
        scrape().contains("streamgate_route_active_connections{route=\"m\"} 0\n"), text.constData(),
        5000);

    const PromtoolResult check = promtoolCheck(text);
    if (!check.available)
        QSKIP("promtool is not installed (Debian package prometheus); counts were checked, the "
              "format was not linted");
    QVERIFY2(check.passed, qPrintable(check.output));
}

QTEST_GUILESS_MAIN(TestAdminProxy)
#include "tst_adminproxy.moc"
