// Prometheus exposition: series names and values from a snapshot, zero series for configured
// objects not seen yet, label escaping, promtool's verdict, the HTTP endpoint itself, and the
// route label of apisix_stream_connection_total under the prometheus plugin's prefer_name.
#include "api/prometheus.h"
#include "config/configstore.h"
#include "echoserver.h"
#include "httptestclient.h"
#include "loopback.h"
#include "model/codec.h"
#include "promtool.h"
#include "proxy/engine.h"
#include "proxyfixture.h"

#include <QFile>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

using namespace sg;

namespace {

Config sampleConfig()
{
    const QJsonObject json = QJsonDocument::fromJson(R"({
      "stream_proxy": {"tcp": [13306]},
      "stream_routes": [
        {"id": "mysql", "server_port": 13306, "upstream": {"nodes": {"127.0.0.1:3306": 1}}},
        {"id": "idle", "server_port": 13306, "upstream_id": "pg"}
      ],
      "upstreams": [{"id": "pg", "nodes": {"127.0.0.1:5432": 1, "[::1]:5433": 1}}]
    })")
                                 .object();
    const Decoded<Config> decoded = decodeConfig(json);
    if (!decoded.ok())
        qFatal("sample config invalid: %s", qPrintable(formatProblems(decoded.problems)));
    return decoded.value;
}

Config configFrom(const QByteArray& json)
{
    const Decoded<Config> decoded = decodeConfig(QJsonDocument::fromJson(json).object());
    if (!decoded.ok())
        qFatal("test config invalid: %s", qPrintable(formatProblems(decoded.problems)));
    return decoded.value;
}

RouteCounters counted(const QString& id, quint64 total)
{
    RouteCounters r;
    r.routeId = id;
    r.total = total;
    r.active = total;
    return r;
}

// The lines of `text` that start with `prefix`.
QList<QByteArray> linesStarting(const QByteArray& text, const QByteArray& prefix)
{
    QList<QByteArray> out;
    for (const QByteArray& line : text.split('\n'))
        if (line.startsWith(prefix))
            out << line;
    return out;
}

Snapshot sampleSnapshot()
{
    Snapshot s;
    RouteCounters mysql;
    mysql.routeId = "mysql";
    mysql.total = 7;
    mysql.active = 2;
    mysql.maxActive = 3;
    mysql.deniedIpRestriction = 4;
    mysql.limited = 1;
    mysql.delayed = 5;
    mysql.connectFailures = 6;
    mysql.timeouts = 8;
    mysql.bytesUp = 1234;
    mysql.bytesDown = 567890;
    // Query digests: 2 commands within 100 µs, 1 within 1 ms, 1 over 10 s; one failed.
    SqlCommandCounters query;
    query.command = "COM_QUERY";
    query.totalCount = 4;
    query.totalTimeUs = 20000350;
    query.errors = 1;
    query.buckets[0] = 2;
    query.buckets[2] = 1;
    query.buckets[SqlCommandCounters::kBoundsUs.size()] = 1;
    mysql.mysqlCommands << query;
    s.routes << mysql;
    ListenerStatus l;
    l.address = "13306";
    l.port = 13306;
    l.listening = true;
    l.noRoute = 9;
    l.noDescriptors = 3;
    l.active = 2;
    l.bytesUp = 1234;
    l.bytesDown = 567890;
    l.bytesFromClient = 1240;
    l.bytesFromUpstream = 567891;
    s.listeners << l;
    s.streamStatus << StreamStatusCount{200, "13306", "127.0.0.1:3306", 5}
                   << StreamStatusCount{403, "13306", "", 4}
                   << StreamStatusCount{502, "127.0.0.1:80", "127.0.0.1:3306", 1};
    ListenerStatus bad;
    bad.address = "127.0.0.1:80";
    bad.port = 80;
    bad.listening = false;
    bad.error = "Permission denied";
    s.listeners << bad;
    NodeStatus n;
    n.upstream = "route:mysql";
    n.node = "127.0.0.1:3306";
    n.active = 2;
    n.total = 7;
    n.failures = 6;
    n.healthy = false;
    n.checked = true;
    s.nodes << n;
    ToxicStatus slow;
    slow.routeId = "mysql";
    slow.name = "slow";
    slow.type = "latency";
    slow.stream = "downstream";
    slow.hitting = {11, 12};
    slow.hitTotal = 5;
    slow.bytesHeld = 4096;
    s.toxics << slow;
    ToxicStatus off = slow;
    off.name = "off";
    off.enabled = false;
    off.hitting = {};
    off.bytesHeld = 0;
    s.toxics << off;
    return s;
}

} // namespace

class TestPrometheus : public QObject
{
    Q_OBJECT

private slots:
    void samples_data();
    void samples();
    void everyFamilyHasHelpAndType();
    void labelsAreEscaped();
    void promtoolAccepts();
    void endpointServesMetrics();
    void preferNameLabelsApisixFamily_data();
    void preferNameLabelsApisixFamily();
    void routesOfOneNameAddUp();
    void preferNameOverHttpAfterTraffic();
    void apisixStreamFamiliesFromTraffic();
};

void TestPrometheus::samples_data()
{
    QTest::addColumn<QString>("line");
    QTest::newRow("APISIX connection counter")
        << R"(apisix_stream_connection_total{route="mysql"} 7)";
    QTest::newRow("configured route without traffic")
        << R"(apisix_stream_connection_total{route="idle"} 0)";
    QTest::newRow("active per route") << R"(streamgate_route_active_connections{route="mysql"} 2)";
    QTest::newRow("max active") << R"(streamgate_route_max_active_connections{route="mysql"} 3)";
    QTest::newRow("bytes up")
        << R"(streamgate_route_bytes_total{route="mysql",direction="up"} 1234)";
    QTest::newRow("bytes down")
        << R"(streamgate_route_bytes_total{route="mysql",direction="down"} 567890)";
    QTest::newRow("denied by ip-restriction")
        << R"(streamgate_route_denied_total{route="mysql",reason="ip-restriction"} 4)";
    QTest::newRow("denied by limit-conn")
        << R"(streamgate_route_denied_total{route="mysql",reason="limit-conn"} 1)";
    QTest::newRow("delayed") << R"(streamgate_route_delayed_total{route="mysql"} 5)";
    QTest::newRow("connect failures")
        << R"(streamgate_route_connect_failures_total{route="mysql"} 6)";
    QTest::newRow("timeouts") << R"(streamgate_route_timeouts_total{route="mysql"} 8)";
    QTest::newRow("listener up")
        << R"(streamgate_listener_up{listen_addr="13306",protocol="tcp"} 1)";
    QTest::newRow("listener failed")
        << R"(streamgate_listener_up{listen_addr="127.0.0.1:80",protocol="tcp"} 0)";
    QTest::newRow("no route")
        << R"(streamgate_listener_no_route_total{listen_addr="13306",protocol="tcp"} 9)";
    QTest::newRow("refused at the descriptor limit")
        << R"(streamgate_listener_no_descriptors_total{listen_addr="13306",protocol="tcp"} 3)";
    QTest::newRow("listener active")
        << R"(streamgate_listener_active_connections{listen_addr="13306",protocol="tcp"} 2)";
    QTest::newRow("listener bytes")
        << R"(streamgate_listener_bytes_total{listen_addr="13306",protocol="tcp",direction="down"} 567890)";
    QTest::newRow("node down")
        << R"(streamgate_upstream_node_up{upstream="route:mysql",node="127.0.0.1:3306"} 0)";
    QTest::newRow("shared upstream node not seen yet")
        << R"(streamgate_upstream_node_up{upstream="pg",node="[::1]:5433"} 1)";
    QTest::newRow("node failures")
        << R"(streamgate_upstream_node_failures_total{upstream="route:mysql",node="127.0.0.1:3306"} 6)";
    QTest::newRow("toxic hitting now")
        << R"(streamgate_toxic_connections{route="mysql",toxic="slow"} 2)";
    QTest::newRow("toxic hit in total")
        << R"(streamgate_toxic_connections_hit_total{route="mysql",toxic="slow"} 5)";
    QTest::newRow("toxic bytes held")
        << R"(streamgate_toxic_bytes_held{route="mysql",toxic="slow"} 4096)";
    QTest::newRow("toxic switched on")
        << R"(streamgate_toxic_enabled{route="mysql",toxic="slow"} 1)";
    QTest::newRow("toxic switched off")
        << R"(streamgate_toxic_enabled{route="mysql",toxic="off"} 0)";
    QTest::newRow("switched-off toxic hits none")
        << R"(streamgate_toxic_connections{route="mysql",toxic="off"} 0)";
    QTest::newRow("mysql latency bucket 100us")
        << R"(streamgate_mysql_command_duration_seconds_bucket{route="mysql",command="COM_QUERY",le="0.0001"} 2)";
    QTest::newRow("mysql latency buckets are cumulative")
        << R"(streamgate_mysql_command_duration_seconds_bucket{route="mysql",command="COM_QUERY",le="0.001"} 3)";
    QTest::newRow("mysql latency bucket 10s")
        << R"(streamgate_mysql_command_duration_seconds_bucket{route="mysql",command="COM_QUERY",le="10"} 3)";
    QTest::newRow("mysql latency bucket +Inf")
        << R"(streamgate_mysql_command_duration_seconds_bucket{route="mysql",command="COM_QUERY",le="+Inf"} 4)";
    QTest::newRow("mysql latency sum")
        << R"(streamgate_mysql_command_duration_seconds_sum{route="mysql",command="COM_QUERY"} 20.000350)";
    QTest::newRow("mysql latency count")
        << R"(streamgate_mysql_command_duration_seconds_count{route="mysql",command="COM_QUERY"} 4)";
    QTest::newRow("mysql errors")
        << R"(streamgate_mysql_command_errors_total{route="mysql",command="COM_QUERY"} 1)";
    QTest::newRow("APISIX stream status, port-only listener")
        << R"(apisix_stream_status{code="200",listen_addr="0.0.0.0:13306",node="127.0.0.1:3306"} 5)";
    QTest::newRow("APISIX stream status, refused before a node")
        << R"(apisix_stream_status{code="403",listen_addr="0.0.0.0:13306",node=""} 4)";
    QTest::newRow("APISIX stream status, listener with an address")
        << R"(apisix_stream_status{code="502",listen_addr="127.0.0.1:80",node="127.0.0.1:3306"} 1)";
    QTest::newRow("APISIX active connections")
        << R"(apisix_stream_active_connections{listen_addr="0.0.0.0:13306"} 2)";
    QTest::newRow("APISIX bandwidth from clients")
        << R"(apisix_stream_bandwidth{listen_addr="0.0.0.0:13306",type="ingress",side="downstream"} 1240)";
    QTest::newRow("APISIX bandwidth to clients")
        << R"(apisix_stream_bandwidth{listen_addr="0.0.0.0:13306",type="egress",side="downstream"} 567890)";
    QTest::newRow("APISIX bandwidth to upstreams")
        << R"(apisix_stream_bandwidth{listen_addr="0.0.0.0:13306",type="egress",side="upstream"} 1234)";
    QTest::newRow("APISIX bandwidth from upstreams")
        << R"(apisix_stream_bandwidth{listen_addr="0.0.0.0:13306",type="ingress",side="upstream"} 567891)";
    QTest::newRow("node total")
        << R"(streamgate_upstream_node_connections_total{upstream="route:mysql",node="127.0.0.1:3306"} 7)";
}

void TestPrometheus::samples()
{
    QFETCH(QString, line);
    const QByteArray text = renderPrometheus(sampleSnapshot(), sampleConfig());
    const QList<QByteArray> lines = text.split('\n');
    QVERIFY2(lines.contains(line.toUtf8()), qPrintable(QString::fromUtf8(text)));
}

void TestPrometheus::everyFamilyHasHelpAndType()
{
    const QByteArray text = renderPrometheus(sampleSnapshot(), sampleConfig());
    QSet<QByteArray> typed;
    QSet<QByteArray> helped;
    for (const QByteArray& line : text.split('\n')) {
        if (line.startsWith("# TYPE "))
            typed.insert(line.split(' ').value(2));
        else if (line.startsWith("# HELP "))
            helped.insert(line.split(' ').value(2));
        else if (!line.isEmpty()) {
            QByteArray name = line.left(line.indexOf(line.contains('{') ? '{' : ' '));
            // A histogram's samples are its name with _bucket, _sum and _count.
            for (const char* suffix : {"_bucket", "_sum", "_count"}) {
                if (!typed.contains(name) && name.endsWith(suffix))
                    name.chop(qsizetype(qstrlen(suffix)));
            }
            QVERIFY2(typed.contains(name), name.constData());
            QVERIFY2(helped.contains(name), name.constData());
        }
    }
    QVERIFY(typed.size() >= 10);
}

void TestPrometheus::labelsAreEscaped()
{
    Snapshot s;
    RouteCounters r;
    r.routeId = "we\"ird\\id\nx";
    r.total = 1;
    s.routes << r;
    const QByteArray text = renderPrometheus(s, Config{});
    const QByteArray expected = "apisix_stream_connection_total{route=\"we\\\"ird\\\\id\\nx\"} 1";
    QVERIFY2(text.contains(expected), text.constData());
    const PromtoolResult check = promtoolCheck(text);
    if (check.available)
        QVERIFY2(check.passed, qPrintable(check.output));
}

void TestPrometheus::promtoolAccepts()
{
    const PromtoolResult check = promtoolCheck(renderPrometheus(sampleSnapshot(), sampleConfig()));
    if (!check.available)
        QSKIP("promtool is not installed (Debian package prometheus); the exposition format was "
              "not linted");
    QVERIFY2(check.passed, qPrintable(check.output));
}

void TestPrometheus::endpointServesMetrics()
{
    QTemporaryDir dir;
    const QString path = dir.filePath("m.json");
    {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QJsonDocument(encodeConfig(sampleConfig())).toJson());
    }
    ConfigStore store(path);
    QVERIFY(store.load().ok());
    MetricsServer server(&store, nullptr);
    QVERIFY2(server.start(QStringLiteral("127.0.0.1:0")), qPrintable(server.errorString()));

    QNetworkAccessManager network;
    QUrl url;
    url.setScheme("http");
    url.setHost("127.0.0.1");
    url.setPort(server.port());
    url.setPath(MetricsServer::kPath);
    HttpAnswer a = request(network, "GET", url);
    QCOMPARE(a.status, 200);
    QVERIFY(a.contentType.startsWith("text/plain"));
    QVERIFY(a.body.contains(R"(apisix_stream_connection_total{route="mysql"} 0)"));
    QVERIFY(a.body.contains(R"(apisix_stream_connection_total{route="idle"} 0)"));

    a = request(network, "POST", url, "x");
    QCOMPARE(a.status, 405);
    url.setPath("/metrics");
    a = request(network, "GET", url);
    QCOMPARE(a.status, 404);

    MetricsServer clash(&store, nullptr);
    QVERIFY(!clash.start(QStringLiteral("127.0.0.1:%1").arg(server.port())));
    QVERIFY2(clash.errorString().contains(QString::number(server.port())),
             qPrintable(clash.errorString()));
}

void TestPrometheus::preferNameLabelsApisixFamily_data()
{
    QTest::addColumn<QByteArray>("route"); // the one route of the config, on port 13306
    QTest::addColumn<QString>("label");    // apisix_stream_connection_total's route label

    const QByteArray up = R"("server_port": 13306, "upstream": {"nodes": {"127.0.0.1:3306": 1}})";
    QTest::newRow("no plugin: the id") << R"({"id": "db", "name": "Local DB", )" + up + "}"
                                       << "db";
    QTest::newRow("prometheus without settings: the id")
        << R"({"id": "db", "name": "Local DB", "plugins": {"prometheus": {}}, )" + up + "}"
        << "db";
    QTest::newRow("prefer_name false: the id")
        << R"({"id": "db", "name": "Local DB", "plugins": {"prometheus": {"prefer_name": false}}, )" +
               up + "}"
        << "db";
    QTest::newRow("prefer_name true: the name")
        << R"({"id": "db", "name": "Local DB", "plugins": {"prometheus": {"prefer_name": true}}, )" +
               up + "}"
        << "Local DB";
    QTest::newRow("prefer_name true without a name: the id")
        << R"({"id": 12, "plugins": {"prometheus": {"prefer_name": true}}, )" + up + "}"
        << "12";
    QTest::newRow("a name that needs escaping")
        << R"({"id": "db", "name": "say \"hi\"", "plugins": {"prometheus": {"prefer_name": true}}, )" +
               up + "}"
        << R"(say \"hi\")";
}

void TestPrometheus::preferNameLabelsApisixFamily()
{
    QFETCH(QByteArray, route);
    QFETCH(QString, label);
    const Config config =
        configFrom(R"({"stream_proxy": {"tcp": [13306]}, "stream_routes": [)" + route + "]}");
    const QString id = config.streamRoutes.first().idString();
    Snapshot s;
    s.routes << counted(id, 5);
    const QByteArray text = renderPrometheus(s, config);

    // APISIX's family: exactly one series, under the label APISIX would give it.
    QCOMPARE(
        linesStarting(text, "apisix_stream_connection_total{"),
        QList<QByteArray>{
            QStringLiteral(R"(apisix_stream_connection_total{route="%1"} 5)").arg(label).toUtf8()});
    // Streamgate's own families keep the id whatever the plugin says.
    QCOMPARE(
        linesStarting(text, "streamgate_route_active_connections{"),
        QList<QByteArray>{QStringLiteral(R"(streamgate_route_active_connections{route="%1"} 5)")
                              .arg(id)
                              .toUtf8()});
    const PromtoolResult check = promtoolCheck(text);
    if (check.available)
        QVERIFY2(check.passed, qPrintable(check.output));
}

void TestPrometheus::routesOfOneNameAddUp()
{
    // Two routes of one name under prefer_name are one series in APISIX (one counter, one
    // label set); a third route whose id is that name joins it too. Repeating the series
    // would be an exposition Prometheus refuses.
    const Config config = configFrom(R"({"stream_proxy": {"tcp": [13306, 13307]},
      "stream_routes": [
        {"id": "a", "name": "shared", "server_port": 13306, "plugins": {"prometheus": {"prefer_name": true}},
         "upstream": {"nodes": {"127.0.0.1:3306": 1}}},
        {"id": "b", "name": "shared", "server_port": 13307, "plugins": {"prometheus": {"prefer_name": true}},
         "upstream": {"nodes": {"127.0.0.1:3307": 1}}},
        {"id": "shared", "server_port": 13307, "remote_addr": "127.0.0.9",
         "upstream": {"nodes": {"127.0.0.1:3308": 1}}},
        {"id": "c", "name": "other", "server_port": 13306, "remote_addr": "127.0.0.8",
         "upstream": {"nodes": {"127.0.0.1:3309": 1}}}
      ]})");
    Snapshot s;
    s.routes << counted("a", 2) << counted("b", 3) << counted("shared", 4) << counted("c", 1);
    const QByteArray text = renderPrometheus(s, config);
    QCOMPARE(linesStarting(text, "apisix_stream_connection_total{"),
             (QList<QByteArray>{R"(apisix_stream_connection_total{route="shared"} 9)",
                                R"(apisix_stream_connection_total{route="c"} 1)"}));
    QCOMPARE(linesStarting(text, "streamgate_route_active_connections{").size(), 4);
    const PromtoolResult check = promtoolCheck(text);
    if (check.available)
        QVERIFY2(check.passed, qPrintable(check.output));
}

void TestPrometheus::preferNameOverHttpAfterTraffic()
{
    // Real connections through a running engine, then a real scrape: the route with
    // prefer_name is counted under its name, the one without under its id.
    sgtest::EchoServer echo;
    QVERIFY(echo.listen(QHostAddress(QStringLiteral("127.0.0.1")), 0));
    const QList<int> ports = sgtest::freePorts(2);
    QCOMPARE(ports.size(), 2);
    QTemporaryDir dir;
    const QString path = dir.filePath("m.json");
    {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QStringLiteral(R"({
          "stream_proxy": {"tcp": ["127.0.0.1:%1", "127.0.0.1:%2"]},
          "stream_routes": [
            {"id": "mysql", "name": "Local MySQL", "server_port": %1,
             "plugins": {"prometheus": {"prefer_name": true}},
             "upstream": {"nodes": {"127.0.0.1:%3": 1}}},
            {"id": "pg", "name": "Local PG", "server_port": %2,
             "upstream": {"nodes": {"127.0.0.1:%3": 1}}}
          ]})")
                    .arg(ports[0])
                    .arg(ports[1])
                    .arg(echo.serverPort())
                    .toUtf8());
    }
    ConfigStore store(path);
    QVERIFY(store.load().ok());
    Engine engine;
    engine.apply(store.config());
    MetricsServer server(&store, &engine);
    QVERIFY2(server.start(QStringLiteral("127.0.0.1:0")), qPrintable(server.errorString()));

    // The echo server lives on this thread: each exchange runs the event loop while it waits.
    auto exchange = [](quint16 port) {
        QTcpSocket socket;
        socket.connectToHost(QHostAddress(QStringLiteral("127.0.0.1")), port);
        QByteArray received;
        bool sent = false;
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < 5000 && received.size() < 4) {
            if (!sent && socket.state() == QAbstractSocket::ConnectedState) {
                socket.write("ping");
                sent = true;
            }
            QSignalSpy spy(&socket, &QIODevice::readyRead);
            spy.wait(50);
            received += socket.readAll();
        }
        return received == "ping";
    };
    QVERIFY(exchange(quint16(ports[0])));
    QVERIFY(exchange(quint16(ports[0])));
    QVERIFY(exchange(quint16(ports[1])));

    QNetworkAccessManager network;
    QUrl url;
    url.setScheme("http");
    url.setHost("127.0.0.1");
    url.setPort(server.port());
    url.setPath(MetricsServer::kPath);
    QByteArray text;
    auto scrape = [&] {
        text = request(network, "GET", url).body;
        return text;
    };
    QTRY_VERIFY2_WITH_TIMEOUT(
        scrape().contains("\napisix_stream_connection_total{route=\"Local MySQL\"} 2\n"),
        text.constData(), 5000);
    QVERIFY2(text.contains("\napisix_stream_connection_total{route=\"pg\"} 1\n"), text.constData());
    QVERIFY2(!text.contains("apisix_stream_connection_total{route=\"mysql\"}"), text.constData());
    QVERIFY2(!text.contains("{route=\"Local PG\"}"), text.constData());
    QTRY_VERIFY2_WITH_TIMEOUT(
        scrape().contains("\nstreamgate_route_bytes_total{route=\"mysql\",direction=\"up\"} 8\n"),
        text.constData(), 5000);

    const PromtoolResult check = promtoolCheck(text);
    if (!check.available)
        QSKIP("promtool is not installed (Debian package prometheus); labels were checked, the "
              "format was not linted");
    QVERIFY2(check.passed, qPrintable(check.output));
}

// APISIX 3.18's stream families from a running engine: the bandwidth and the open-session
// gauge move while a session is open; ended sessions count under nginx stream's codes with
// their listener and node: 200 for a normal close, 502 for a node that refused the connect,
// 403 (and no node) for a client ip-restriction refused.
void TestPrometheus::apisixStreamFamiliesFromTraffic()
{
    using namespace sgtest;
    TestServer echo(TestServer::Echo);
    const QList<int> ports = freePorts(3);
    const int deadPort = freePort(); // nothing listens there
    const QString local = QStringLiteral("127.0.0.1");
    const Config config = configFrom(QStringLiteral(R"({
          "stream_proxy": {"tcp": ["127.0.0.1:%1", "127.0.0.1:%2", "127.0.0.1:%3"]},
          "stream_routes": [
            {"id": "echo", "server_port": %1, "upstream": {"nodes": {"127.0.0.1:%4": 1}}},
            {"id": "dead", "server_port": %2, "upstream": {"nodes": {"127.0.0.1:%5": 1}}},
            {"id": "closed", "server_port": %3,
             "plugins": {"ip-restriction": {"whitelist": ["10.9.9.9"]}},
             "upstream": {"nodes": {"127.0.0.1:%4": 1}}}
          ]})")
                                         .arg(ports[0])
                                         .arg(ports[1])
                                         .arg(ports[2])
                                         .arg(echo.port())
                                         .arg(deadPort)
                                         .toUtf8());
    Engine engine;
    engine.apply(config);
    const QString echoAddr = QStringLiteral("127.0.0.1:%1").arg(ports[0]);
    const auto metric = [&](const QString& line) {
        return renderPrometheus(engine.snapshot(), config).split('\n').contains(line.toUtf8());
    };

    const int fd = connectTo(local, ports[0]);
    QVERIFY(fd >= 0);
    const QByteArray payload = pattern(100000, 5);
    QByteArray got;
    QCOMPARE(exchange(fd, payload, got, payload.size(), false), ReadEnd::Data);
    const QString open =
        QStringLiteral("apisix_stream_bandwidth{listen_addr=\"%1\",type=\"%2\",side=\"%3\"} %4");
    for (const auto& [type, side] : {std::pair{"ingress", "downstream"},
                                     {"egress", "upstream"},
                                     {"ingress", "upstream"},
                                     {"egress", "downstream"}})
        QVERIFY2(metric(open.arg(echoAddr, type, side).arg(payload.size())),
                 renderPrometheus(engine.snapshot(), config).constData());
    QVERIFY(metric(
        QStringLiteral("apisix_stream_active_connections{listen_addr=\"%1\"} 1").arg(echoAddr)));
    ::close(fd);

    greetingVia(local, ports[1]);
    greetingVia(local, ports[2]);
    const QString status = QStringLiteral(
        "apisix_stream_status{code=\"%1\",listen_addr=\"127.0.0.1:%2\",node=\"%3\"} 1");
    QTRY_VERIFY_WITH_TIMEOUT(
        metric(status.arg(200).arg(ports[0]).arg(QStringLiteral("127.0.0.1:%1").arg(echo.port()))),
        5000);
    QTRY_VERIFY_WITH_TIMEOUT(
        metric(status.arg(502).arg(ports[1]).arg(QStringLiteral("127.0.0.1:%1").arg(deadPort))),
        5000);
    QTRY_VERIFY_WITH_TIMEOUT(metric(status.arg(403).arg(ports[2]).arg(QString())), 5000);
    QVERIFY(metric(
        QStringLiteral("apisix_stream_active_connections{listen_addr=\"%1\"} 0").arg(echoAddr)));
    QVERIFY(metric(open.arg(echoAddr, "ingress", "downstream").arg(payload.size())));
}

QTEST_GUILESS_MAIN(TestPrometheus)
#include "tst_prometheus.moc"
