// APISIX's control API for health checks, over real HTTP against a running engine whose checker
// probes real listeners on 127.0.0.1 (one that accepts, one closed port): the list and each
// checked object answer in APISIX's JSON to the byte, with lua-resty-healthcheck's states and
// counters; unknown ids, objects without checks, a wrong src type, a missing id, other paths and
// other methods answer as APISIX's control server does; "Accept: text/html" gets the status
// page; HTTP checks (APISIX's default type) show their HTTP failures; the listener follows
// streamgate.control.listen, and a port in use is reported.
#include "api/controlapi.h"
#include "config/configstore.h"
#include "httpnode.h"
#include "httptestclient.h"
#include "model/codec.h"
#include "proxy/engine.h"

#include <QFile>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

using namespace sg;

namespace {

// A port nothing listens on: bind one, note it, close it.
quint16 closedPort()
{
    QTcpServer server;
    if (!server.listen(QHostAddress::LocalHost, 0))
        qFatal("cannot listen on 127.0.0.1");
    return server.serverPort();
}

// A config file in dir, a store that drives an engine from it (as the application does), and
// the control API on a free loopback port.
struct Rig
{
    explicit Rig(const QByteArray& json)
    {
        path = dir.filePath("c.json");
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly) || f.write(json) != json.size())
            qFatal("cannot write the test config");
        f.close();
        store = std::make_unique<ConfigStore>(path);
        const LoadResult loaded = store->load();
        if (!loaded.ok())
            qFatal("test config invalid: %s", qPrintable(formatProblems(loaded.problems)));
        engine.apply(store->config());
        QObject::connect(store.get(), &ConfigStore::changed, &engine,
                         [this](const ConfigDiff&, const Config& c) { engine.apply(c); });
        control = std::make_unique<ControlApi>(store.get(), &engine);
    }

    QUrl url(const QString& path) const
    {
        QUrl u;
        u.setScheme("http");
        u.setHost("127.0.0.1");
        u.setPort(control->port());
        u.setPath(path);
        return u;
    }

    // The health of one checked node as the engine's snapshot has it.
    std::optional<NodeStatus> node(const QString& upstream, quint16 port) const
    {
        for (const NodeStatus& n : engine.snapshot().nodes)
            if (n.upstream == upstream && n.node == "127.0.0.1:" + QString::number(port))
                return n;
        return std::nullopt;
    }

    QTemporaryDir dir;
    QString path;
    std::unique_ptr<ConfigStore> store;
    Engine engine;
    std::unique_ptr<ControlApi> control;
};

HttpAnswer getWithAccept(QNetworkAccessManager& network, const QUrl& url, const QByteArray& accept)
{
    QNetworkRequest request(url);
    request.setRawHeader("Accept", accept);
    request.setTransferTimeout(10000);
    QNetworkReply* reply = network.get(request);
    if (!reply->isFinished()) {
        QSignalSpy finished(reply, &QNetworkReply::finished);
        finished.wait(15000);
    }
    HttpAnswer a = answerOf(reply);
    reply->deleteLater();
    return a;
}

// One target as APISIX writes it (keys in the order its stable encoder sorts them).
QByteArray target(quint16 port, const char* status, int success, int tcpFailure,
                  int httpFailure = 0)
{
    return QStringLiteral("{\"counter\":{\"http_failure\":%5,\"success\":%1,\"tcp_failure\":%2,"
                          "\"timeout_failure\":0},\"hostname\":\"127.0.0.1\",\"ip\":\"127.0.0.1\","
                          "\"port\":%3,\"status\":\"%4\"}")
        .arg(success)
        .arg(tcpFailure)
        .arg(port)
        .arg(QLatin1String(status))
        .arg(httpFailure)
        .toUtf8();
}

} // namespace

class TestControlApi : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void answersAsApisix();
    void httpFailuresAreCounted();
    void nothingCheckedIsAnEmptyObject();
    void followsTheSetting();
};

void TestControlApi::answersAsApisix()
{
    QTcpServer live;
    QVERIFY(live.listen(QHostAddress::LocalHost, 0));
    const quint16 up = live.serverPort();
    const quint16 down = closedPort();
    const QString upText = QString::number(up);
    const QString downText = QString::number(down);

    // r1: inline upstream, probed every second, down after 2 refused connects. s1: the same as
    // the inline upstream of a service, one checker for its two routes r4 and r5; s2 uses u1.
    // u1: probed once at start, then only after an hour: its closed node stays mostly_healthy
    // with one tcp failure (tcp_failures 3); "localhost" resolves to the same address and port,
    // so as in APISIX it is the same target, shown once. plain: no checks. idle: checks, but no
    // route uses it, so nothing probes it.
    const QByteArray config = QStringLiteral(R"({
      "stream_routes": [
        {"id": "r1", "upstream": {"type": "roundrobin",
          "nodes": [{"host": "127.0.0.1", "port": %1, "weight": 1},
                    {"host": "127.0.0.1", "port": %2, "weight": 1}],
          "checks": {"active": {"type": "tcp", "healthy": {"interval": 1, "successes": 1},
                                "unhealthy": {"interval": 1, "tcp_failures": 2}}}}},
        {"id": "r2", "upstream_id": "u1"},
        {"id": "r3", "upstream_id": "plain"},
        {"id": "r4", "service_id": "s1"},
        {"id": "r5", "service_id": "s1"}
      ],
      "services": [
        {"id": "s1", "upstream": {"type": "roundrobin",
          "nodes": [{"host": "127.0.0.1", "port": %1, "weight": 1},
                    {"host": "127.0.0.1", "port": %2, "weight": 1}],
          "checks": {"active": {"type": "tcp", "healthy": {"interval": 1, "successes": 1},
                                "unhealthy": {"interval": 1, "tcp_failures": 2}}}}},
        {"id": "s2", "upstream_id": "u1"}
      ],
      "upstreams": [
        {"id": "u1", "type": "roundrobin",
         "nodes": [{"host": "127.0.0.1", "port": %1, "weight": 1},
                   {"host": "127.0.0.1", "port": %2, "weight": 1},
                   {"host": "localhost", "port": %2, "weight": 1}],
         "checks": {"active": {"type": "tcp", "healthy": {"interval": 3600},
                               "unhealthy": {"interval": 3600, "tcp_failures": 3}}}},
        {"id": "plain", "nodes": {"127.0.0.1:%1": 1}},
        {"id": "idle", "nodes": {"127.0.0.1:%2": 1}, "checks": {"active": {"type": "tcp"}}}
      ],
      "streamgate": {"control": {"listen": "127.0.0.1:0"}}
    })")
                                  .arg(upText, downText)
                                  .toUtf8();
    Rig rig(config);
    QVERIFY2(rig.control->start(), qPrintable(rig.control->errorString()));
    QVERIFY(rig.control->port() != 0);

    // The checker has settled when r1's closed node is down and u1's has failed its one probe.
    QTRY_VERIFY_WITH_TIMEOUT(rig.node("route:r1", down) &&
                                 rig.node("route:r1", down)->health == NodeHealth::Unhealthy,
                             10000);
    QTRY_VERIFY_WITH_TIMEOUT(
        rig.node("u1", down) && rig.node("u1", down)->health == NodeHealth::MostlyHealthy, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(rig.node("service:s1", down) &&
                                 rig.node("service:s1", down)->health == NodeHealth::Unhealthy,
                             10000);

    const QByteArray r1 = "{\"name\":\"/apisix/stream_routes/r1\",\"nodes\":[" +
                          target(up, "healthy", 0, 0) + "," + target(down, "unhealthy", 0, 2) +
                          "],\"type\":\"tcp\"}";
    const QByteArray u1 = "{\"name\":\"/apisix/upstreams/u1\",\"nodes\":[" +
                          target(up, "healthy", 0, 0) + "," + target(down, "mostly_healthy", 0, 1) +
                          "],\"type\":\"tcp\"}";
    const QByteArray idle = R"({"name":"/apisix/upstreams/idle","nodes":{},"type":"tcp"})";
    const QByteArray s1 = "{\"name\":\"/apisix/services/s1\",\"nodes\":[" +
                          target(up, "healthy", 0, 0) + "," + target(down, "unhealthy", 0, 2) +
                          "],\"type\":\"tcp\"}";

    QNetworkAccessManager network;
    HttpAnswer a = request(network, "GET", rig.url("/v1/healthcheck"));
    QCOMPARE(a.status, 200);
    QCOMPARE(a.contentType, QByteArray("application/json"));
    QCOMPARE(a.body, "[" + r1 + "," + s1 + "," + u1 + "," + idle + "]\n");
    a = request(network, "GET", rig.url("/v1/healthcheck/services/s1"));
    QCOMPARE(a.status, 200);
    QCOMPARE(a.body, s1 + "\n");

    a = request(network, "GET", rig.url("/v1/healthcheck/upstreams/u1"));
    QCOMPARE(a.status, 200);
    QCOMPARE(a.contentType, QByteArray("application/json"));
    QCOMPARE(a.body, u1 + "\n");
    a = request(network, "GET", rig.url("/v1/healthcheck/stream_routes/r1"));
    QCOMPARE(a.status, 200);
    QCOMPARE(a.body, r1 + "\n");
    a = request(network, "GET", rig.url("/v1/healthcheck/upstreams/idle"));
    QCOMPARE(a.status, 200);
    QCOMPARE(a.body, idle + "\n");
    // nginx's $uri: runs of slashes are one, and the query is not part of it.
    QUrl messy = rig.url("//v1//healthcheck/upstreams/u1");
    messy.setQuery("format=json");
    a = request(network, "GET", messy);
    QCOMPARE(a.body, u1 + "\n");

    // APISIX's answers where there is nothing to show.
    const struct
    {
        const char* path;
        int status;
        const char* error;
    } refusals[] = {
        {"/v1/healthcheck/upstreams/nope", 404, "upstreams[nope] not found"},
        {"/v1/healthcheck/upstreams/plain", 404, "no checker for upstreams[plain]"},
        {"/v1/healthcheck/stream_routes/r2", 404, "no checker for stream_routes[r2]"},
        {"/v1/healthcheck/stream_routes/nope", 404, "stream_routes[nope] not found"},
        // routes are APISIX's HTTP routes: Streamgate has none.
        {"/v1/healthcheck/routes/r1", 404, "routes[r1] not found"},
        {"/v1/healthcheck/services/1", 404, "services[1] not found"},
        {"/v1/healthcheck/services/s2", 404, "no checker for services[s2]"},
        {"/v1/healthcheck/route/1", 400, "invalid src type route"},
        {"/v1/healthcheck/upstreams", 404, "missing src id for src type upstreams"},
        {"/v1/healthcheck/upstreams/", 404, "upstreams[] not found"},
    };
    for (const auto& r : refusals) {
        a = request(network, "GET", rig.url(QLatin1String(r.path)));
        QVERIFY2(a.status == r.status, r.path);
        QCOMPARE(a.contentType, QByteArray("application/json"));
        QCOMPARE(a.body, compact(QJsonObject{{"error_msg", QLatin1String(r.error)}}) + "\n");
    }

    // No handler: the control server's bare 404 page, for other paths and other methods.
    const QList<std::pair<QByteArray, QString>> unrouted{
        {"GET", "/v1/healthchecks"},
        {"GET", "/healthcheck"},
        {"GET", "/"},
        {"POST", "/v1/healthcheck"},
        {"PUT", "/v1/healthcheck/upstreams/u1"},
        {"DELETE", "/v1/healthcheck/upstreams/u1"},
    };
    for (const auto& [verb, path] : unrouted) {
        a = request(network, verb, rig.url(path));
        QVERIFY2(a.status == 404, qPrintable(verb + ' ' + path));
        QCOMPARE(a.contentType, QByteArray("text/html"));
        QVERIFY(a.body.contains("<h1>404 Not Found</h1>"));
    }

    // A browser gets the status page: one row per target, the down one in red.
    a = getWithAccept(network, rig.url("/v1/healthcheck"),
                      "text/html,application/xhtml+xml,*/*;q=0.8");
    QCOMPARE(a.status, 200);
    QCOMPARE(a.contentType, QByteArray("text/html"));
    const QByteArray downRow = "<tr bgcolor=\"#FF0000\"><td>2</td><td>/apisix/stream_routes/r1</"
                               "td><td>tcp</td><td>127.0.0.1:" +
                               downText.toUtf8() +
                               "</td><td>unhealthy</td><td>0</td><td>2</td>"
                               "<td>0</td><td>0</td></tr>";
    QVERIFY2(a.body.contains(downRow), a.body.constData());
    // The heading and the six targets (r1, s1, u1: two each); idle has none.
    QCOMPARE(a.body.count("<tr"), 1 + 6);
    a = getWithAccept(network, rig.url("/v1/healthcheck/upstreams/u1"), "text/html");
    QCOMPARE(a.status, 200);
    QVERIFY2(a.body.contains("<td>127.0.0.1:" + downText.toUtf8() +
                             "</td><td>mostly_healthy</td><td>0</td><td>1</td>"),
             a.body.constData());
    a = getWithAccept(network, rig.url("/v1/healthcheck/upstreams/u1"), "application/json");
    QCOMPARE(a.body, u1 + "\n");

    // The closed node's server comes up: r1 takes the node back after one success.
    QTcpServer back;
    QVERIFY(back.listen(QHostAddress::LocalHost, down));
    QTRY_VERIFY_WITH_TIMEOUT(rig.node("route:r1", down) &&
                                 rig.node("route:r1", down)->health == NodeHealth::Healthy,
                             10000);
    a = request(network, "GET", rig.url("/v1/healthcheck/stream_routes/r1"));
    QCOMPARE(a.status, 200);
    const QJsonArray nodes = a.json.value("nodes").toArray();
    QCOMPARE(nodes.size(), 2);
    QCOMPARE(nodes.at(1).toObject().value("status").toString(), QStringLiteral("healthy"));
    QCOMPARE(nodes.at(1).toObject().value("counter").toObject().value("success").toInt(), 1);

    // Checks taken off u1: it leaves the list and answers "no checker".
    Config next = rig.store->config();
    for (Upstream& u : next.upstreams)
        if (u.idString() == "u1")
            u.checks.reset();
    QVERIFY(rig.store->replace(next).isEmpty());
    a = request(network, "GET", rig.url("/v1/healthcheck/upstreams/u1"));
    QCOMPARE(a.status, 404);
    QCOMPARE(a.body, QByteArray("{\"error_msg\":\"no checker for upstreams[u1]\"}\n"));
    a = request(network, "GET", rig.url("/v1/healthcheck"));
    QCOMPARE(a.status, 200);
    const QJsonArray names = QJsonDocument::fromJson(a.body).array();
    QCOMPARE(names.size(), 3);
    QCOMPARE(names.at(0).toObject().value("name").toString(),
             QStringLiteral("/apisix/stream_routes/r1"));
    QCOMPARE(names.at(1).toObject().value("name").toString(),
             QStringLiteral("/apisix/services/s1"));
    QCOMPARE(names.at(2).toObject().value("name").toString(),
             QStringLiteral("/apisix/upstreams/idle"));
}

// A check without a type probes over HTTP, as APISIX's does, and says so ("type": "http"): a
// node answering 500 counts http_failure until unhealthy.http_failures sets it down, one
// answering 200 stays healthy; the event log says why the node went down.
void TestControlApi::httpFailuresAreCounted()
{
    sgtest::HttpNode good("HTTP/1.1 200 OK\r\n\r\n");
    sgtest::HttpNode failing("HTTP/1.1 500 Internal Server Error\r\n\r\n");
    const QByteArray config = QStringLiteral(R"({
      "stream_routes": [{"id": "r", "upstream_id": "web"}],
      "upstreams": [
        {"id": "web", "nodes": [{"host": "127.0.0.1", "port": %1, "weight": 1},
                                {"host": "127.0.0.1", "port": %2, "weight": 1}],
         "checks": {"active": {"unhealthy": {"http_failures": 2}}}}
      ],
      "streamgate": {"control": {"listen": "127.0.0.1:0"}}
    })")
                                  .arg(good.port())
                                  .arg(failing.port())
                                  .toUtf8();
    Rig rig(config);
    QVERIFY2(rig.control->start(), qPrintable(rig.control->errorString()));
    QTRY_VERIFY_WITH_TIMEOUT(rig.node("web", failing.port()) &&
                                 rig.node("web", failing.port())->health == NodeHealth::Unhealthy,
                             10000);
    QVERIFY(rig.node("web", good.port())->health == NodeHealth::Healthy);

    QNetworkAccessManager network;
    const HttpAnswer a = request(network, "GET", rig.url("/v1/healthcheck/upstreams/web"));
    QCOMPARE(a.status, 200);
    QCOMPARE(a.body, "{\"name\":\"/apisix/upstreams/web\",\"nodes\":[" +
                         target(good.port(), "healthy", 0, 0) + "," +
                         target(failing.port(), "unhealthy", 0, 0, 2) + "],\"type\":\"http\"}\n");
    QVERIFY(good.requests.size() >= 2);
    QVERIFY(good.requests.at(0).startsWith("GET / HTTP/1.1\r\n"));

    bool announced = false;
    for (const Event& e : rig.engine.eventsSince(0))
        announced |= e.kind == EventKind::NodeDown &&
                     e.text == QStringLiteral("node 127.0.0.1:%1 of upstream web is down (2 HTTP "
                                              "failures)")
                                   .arg(failing.port());
    QVERIFY(announced);
}

// APISIX's encoder writes an empty list as an empty object.
void TestControlApi::nothingCheckedIsAnEmptyObject()
{
    Rig rig(R"({"stream_routes": [{"id": "1", "upstream": {"nodes": {"127.0.0.1:9": 1}}}],
                "streamgate": {"control": {"listen": "127.0.0.1:0"}}})");
    QVERIFY2(rig.control->start(), qPrintable(rig.control->errorString()));
    QNetworkAccessManager network;
    const HttpAnswer a = request(network, "GET", rig.url("/v1/healthcheck"));
    QCOMPARE(a.status, 200);
    QCOMPARE(a.contentType, QByteArray("application/json"));
    QCOMPARE(a.body, QByteArray("{}\n"));
}

// streamgate.control.listen: a port in use is an error naming it; a new setting rebinds.
void TestControlApi::followsTheSetting()
{
    QTcpServer taken;
    QVERIFY(taken.listen(QHostAddress::LocalHost, 0));
    Rig rig(QStringLiteral(R"({"streamgate": {"control": {"listen": "127.0.0.1:%1"}}})")
                .arg(taken.serverPort())
                .toUtf8());
    QVERIFY(!rig.control->start());
    QVERIFY2(rig.control->errorString().contains(QString::number(taken.serverPort())),
             qPrintable(rig.control->errorString()));
    QCOMPARE(rig.control->port(), quint16(0));

    const quint16 port = closedPort();
    StreamgateSettings settings = rig.store->config().streamgate;
    settings.control->listen = QStringLiteral("127.0.0.1:%1").arg(port);
    QVERIFY(rig.store->setSettings(settings).isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(rig.control->port(), port, 5000);
    QNetworkAccessManager network;
    const HttpAnswer a = request(network, "GET", rig.url("/v1/healthcheck"));
    QCOMPARE(a.status, 200);
    QCOMPARE(a.body, QByteArray("{}\n"));
}

QTEST_GUILESS_MAIN(TestControlApi)
#include "tst_controlapi.moc"
