// Prometheus exposition: series names and values from a snapshot, zero series for configured
// objects not seen yet, label escaping, promtool's verdict, and the HTTP endpoint itself.
#include "api/prometheus.h"
#include "config/configstore.h"
#include "httptestclient.h"
#include "model/codec.h"
#include "promtool.h"

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

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
    s.listeners << l;
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
            const QByteArray name = line.left(line.indexOf(line.contains('{') ? '{' : ' '));
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

QTEST_GUILESS_MAIN(TestPrometheus)
#include "tst_prometheus.moc"
