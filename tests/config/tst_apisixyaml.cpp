// APISIX standalone YAML: scalar typing, export -> import round trip, APISIX samples, and
// refusals that name the field and leave nothing half-applied.
#include "config/apisixyaml.h"
#include "config/configstore.h"
#include "model/codec.h"
#include "testcerts.h"
#include "testfiles.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using namespace sg;
using namespace sgtest;

namespace {

QJsonObject parseJson(const char* text)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray(text), &error);
    if (error.error != QJsonParseError::NoError)
        qFatal("bad JSON in test: %s", qPrintable(error.errorString()));
    return doc.object();
}

bool mentions(const Problems& problems, const QString& needle)
{
    for (const Problem& p : problems)
        if (p.text().contains(needle) || p.value.contains(needle))
            return true;
    return false;
}

// A config touching every part the exporter writes: listeners given three ways, an inline
// upstream, a shared one with array nodes, plugins, labels and Streamgate-only settings.
const char* kRichConfig = R"({
  "stream_proxy": { "tcp": [13306, "127.0.0.1:15432", "[::1]:16000"], "udp": [5353] },
  "stream_routes": [
    { "id": "mysql", "name": "Local MySQL", "desc": "dev database", "server_port": 13306,
      "remote_addr": "127.0.0.1/26", "labels": { "team": "db", "env": "1" },
      "plugins": { "ip-restriction": { "whitelist": ["127.0.0.1", "::1"], "message": "go away" },
                   "limit-conn": { "conn": 20, "burst": 5, "default_conn_delay": 0.1, "key": "remote_addr" } },
      "upstream": { "type": "roundrobin", "nodes": { "127.0.0.1:3306": 1, "[::1]:3307": 2 },
                    "timeout": { "connect": 3, "send": 600, "read": 600.5 }, "retries": 1 } },
    { "id": 7, "server_port": 15432, "upstream_id": "pg" },
    { "id": "dns", "server_port": 5353, "upstream_id": 2 }
  ],
  "upstreams": [
    { "id": "pg", "type": "least_conn", "name": "true",
      "nodes": [ { "host": "127.0.0.1", "port": 5432, "weight": 1, "priority": 1 },
                 { "host": "::1", "port": 5433, "weight": 0 } ] },
    { "id": 2, "type": "chash", "key": "remote_addr", "nodes": { "127.0.0.1:53": 1 } }
  ],
  "streamgate": { "admin": { "listen": "127.0.0.1:9180", "key": "secret" }, "mysql_inspect": false }
})";

} // namespace

class TestApisixYaml : public QObject
{
    Q_OBJECT

private slots:
    void scalarTyping_data();
    void scalarTyping();
    void syntaxErrorNamesLineAndColumn();
    void hostileYamlIsBounded_data();
    void hostileYamlIsBounded();
    void importFromTextMatchesFile();
    void sharedAnchorsWithinTheLimitImport();
    void exportWritesApisixFiles();
    void roundTripIsIdentical();
    void sslsRoundTrip();
    void prometheusRouteRoundTrip();
    void accessLogExport_data();
    void accessLogExport();
    void standaloneSampleImports();
    void missingIdsBecomeArrN();
    void everyProblemAtOnceNothingApplied();
    void apisixStreamPluginSamplesImport();
    void otherApisixSectionsAreWarnings();
    void danglingUpstreamIdWarned();
    void servicesRoundTrip();
    void pluginMetadataRoundTrip();
    void danglingServiceIdWarned();
    void mergeKeepsOwnSettings();
    void commandLineRoundTrip();
    void proxyProtocolListenersRoundTrip();
    void upstreamTlsAndPassthroughExport();
    void proxyProtocolImportDefaults();
    void portRangesRoundTrip();
    void overlappingRangeImportRefused();
    void proxyProtocolRefusals_data();
    void proxyProtocolRefusals();
};

void TestApisixYaml::scalarTyping_data()
{
    QTest::addColumn<QByteArray>("yaml");
    QTest::addColumn<QJsonValue>("expected");

    QTest::newRow("plain integer") << QByteArray("v: 13306") << QJsonValue(13306);
    QTest::newRow("negative integer") << QByteArray("v: -4") << QJsonValue(-4);
    QTest::newRow("hex integer") << QByteArray("v: 0x1F") << QJsonValue(31);
    QTest::newRow("float") << QByteArray("v: 0.25") << QJsonValue(0.25);
    QTest::newRow("float exponent") << QByteArray("v: 1e3") << QJsonValue(1000.0);
    QTest::newRow("quoted number stays string") << QByteArray("v: \"1\"") << QJsonValue("1");
    QTest::newRow("single-quoted number stays string") << QByteArray("v: '42'") << QJsonValue("42");
    QTest::newRow("true") << QByteArray("v: true") << QJsonValue(true);
    QTest::newRow("False capitalised") << QByteArray("v: False") << QJsonValue(false);
    QTest::newRow("quoted true stays string") << QByteArray("v: \"true\"") << QJsonValue("true");
    QTest::newRow("tilde is null") << QByteArray("v: ~") << QJsonValue(QJsonValue::Null);
    QTest::newRow("empty is null") << QByteArray("v:") << QJsonValue(QJsonValue::Null);
    QTest::newRow("ip is string") << QByteArray("v: 127.0.0.1") << QJsonValue("127.0.0.1");
    QTest::newRow("cidr is string") << QByteArray("v: 127.0.0.1/26") << QJsonValue("127.0.0.1/26");
    QTest::newRow("ipv6 is string") << QByteArray("v: \"::1\"") << QJsonValue("::1");
    QTest::newRow("host:port is string")
        << QByteArray("v: 127.0.0.1:3306") << QJsonValue("127.0.0.1:3306");
    QTest::newRow("yes is a string in YAML 1.2") << QByteArray("v: yes") << QJsonValue("yes");
    QTest::newRow("flow list") << QByteArray("v: [1, \"a\", b]")
                               << QJsonValue(QJsonArray{1, "a", "b"});
    QTest::newRow("flow map") << QByteArray("v: {\"127.0.0.1:80\": 1}")
                              << QJsonValue(QJsonObject{{"127.0.0.1:80", 1}});
}

void TestApisixYaml::scalarTyping()
{
    QFETCH(QByteArray, yaml);
    QFETCH(QJsonValue, expected);
    Problems problems;
    const QJsonValue value = yamlToJson(yaml, QStringLiteral("test.yaml"), &problems);
    QVERIFY2(problems.isEmpty(), qPrintable(formatProblems(problems)));
    QCOMPARE(value.toObject().value("v"), expected);

    // And back: what the exporter writes reads in as the same value.
    Problems again;
    const QJsonValue back = yamlToJson(jsonToYaml(value), QStringLiteral("back.yaml"), &again);
    QVERIFY(again.isEmpty());
    QCOMPARE(back.toObject().value("v"), expected);
}

void TestApisixYaml::syntaxErrorNamesLineAndColumn()
{
    Problems problems;
    const QJsonValue value = yamlToJson("stream_routes:\n  - id: 1\n    server_port: [1, 2\n",
                                        QStringLiteral("bad.yaml"), &problems);
    QVERIFY(value.isUndefined());
    QCOMPARE(problems.size(), 1);
    QVERIFY2(problems.first().path.startsWith("bad.yaml:"), qPrintable(problems.first().path));
    QVERIFY2(problems.first().path.count(':') == 2,
             qPrintable(problems.first().path)); // file:line:col
    QVERIFY(problems.first().reason.startsWith("YAML syntax error"));
}

void TestApisixYaml::hostileYamlIsBounded_data()
{
    QTest::addColumn<QByteArray>("yaml");
    QTest::addColumn<QString>("reason"); // the one problem must contain this
    // Aliases share nodes: nine levels of ten aliases each name 10^9 values in a few hundred
    // bytes. The conversion stops at its value limit (16 per byte of text plus 10,000) instead
    // of expanding them.
    QByteArray laughs = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
    for (int i = 1; i < 9; ++i) {
        laughs += QStringLiteral("a%1: &a%1 [").arg(i).toUtf8();
        for (int j = 0; j < 10; ++j)
            laughs += QStringLiteral("%1*a%2").arg(j ? ", " : "").arg(i - 1).toUtf8();
        laughs += "]\n";
    }
    laughs += "stream_routes: *a8\n";
    const QString tooMany = QStringLiteral("values (counting each use of an alias)");
    QTest::newRow("billion laughs") << laughs << tooMany;
    // An anchor used inside itself is a cycle in yaml-cpp's tree (an endless recursion before
    // the limits); the depth limit ends it.
    QTest::newRow("alias inside its own anchor")
        << QByteArray("stream_routes: &r [ {id: 1, upstream: *r} ]\n")
        << "nested deeper than 64 levels";
    // yaml-cpp refuses this itself (its own depth guard).
    QTest::newRow("100000 nested flow lists")
        << QByteArray(100000, '[') + QByteArray(100000, ']') << "YAML syntax error";
    QTest::newRow("65 nested block maps") << [] {
        QByteArray text;
        for (int i = 0; i < 65; ++i)
            text += QByteArray(i * 2, ' ') + "k:\n";
        return text;
    }() << "nested deeper than 64 levels";
    QTest::newRow("alias bomb in a map key")
        << laughs.replace("stream_routes: *a8\n", "? *a8\n: 1\n") << tooMany;
}

void TestApisixYaml::hostileYamlIsBounded()
{
    QFETCH(QByteArray, yaml);
    QFETCH(QString, reason);
    const ApisixImport imported = importApisixYaml(yaml, QStringLiteral("apisix.yaml"));
    QVERIFY(!imported.ok());
    QVERIFY(imported.config == Config{});
    QCOMPARE(imported.problems.size(), 1);
    QVERIFY2(imported.problems.first().text().contains(reason),
             qPrintable(imported.problems.first().text()));
    QVERIFY(imported.problems.first().text().startsWith(QStringLiteral("apisix.yaml")));
}

void TestApisixYaml::importFromTextMatchesFile()
{
    QTemporaryDir dir;
    const QString path = dir.filePath("apisix.yaml");
    const QByteArray text = "stream_routes:\n  - {id: r, server_port: 9100, upstream_id: u}\n"
                            "upstreams:\n  - {id: u, nodes: {\"127.0.0.1:1\": 1}}\n";
    QVERIFY(writeFile(path, text));
    const ApisixImport fromFile = importApisix(path);
    const ApisixImport fromText = importApisixYaml(text, path);
    QVERIFY2(fromFile.ok(), qPrintable(formatProblems(fromFile.problems)));
    QVERIFY(fromText.config == fromFile.config);
    QCOMPARE(fromText.config.streamRoutes.size(), 1);
    QCOMPARE(fromText.warnings, fromFile.warnings);
}

void TestApisixYaml::sharedAnchorsWithinTheLimitImport()
{
    // The ordinary use of anchors: one node list shared by many upstreams, each alias standing
    // for a few values, stays well inside the limit.
    QByteArray text = "upstreams:\n  - id: u0\n    nodes: &nodes {\"127.0.0.1:1\": 1, "
                      "\"127.0.0.1:2\": 2, \"[::1]:3\": 3}\n";
    for (int i = 1; i < 200; ++i)
        text += QStringLiteral("  - {id: u%1, nodes: *nodes}\n").arg(i).toUtf8();
    const ApisixImport imported = importApisixYaml(text, QStringLiteral("apisix.yaml"));
    QVERIFY2(imported.ok(), qPrintable(formatProblems(imported.problems)));
    QCOMPARE(imported.config.upstreams.size(), 200);
    QCOMPARE(imported.config.upstreams.last().nodes.size(), 3);
}

void TestApisixYaml::exportWritesApisixFiles()
{
    const Decoded<Config> decoded = decodeConfig(parseJson(kRichConfig));
    QVERIFY2(decoded.ok(), qPrintable(formatProblems(decoded.problems)));
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString out = dir.filePath("nested/export");

    const ApisixExport result = exportApisix(decoded.value, out);
    QVERIFY2(result.ok(), qPrintable(formatProblems(result.problems)));
    QCOMPARE(result.files.size(), 2);

    const QByteArray routes = readFile(out + "/apisix.yaml");
    QVERIFY(routes.trimmed().endsWith("#END"));
    QVERIFY(routes.contains("stream_routes:"));
    QVERIFY(routes.contains("upstreams:"));
    QVERIFY(!routes.contains("secret")); // the admin key never leaves Streamgate
    QVERIFY(!routes.contains("streamgate:"));

    Problems problems;
    const QJsonObject proxy =
        yamlToJson(readFile(out + "/config-stream.yaml"), "config-stream.yaml", &problems)
            .toObject();
    QVERIFY(problems.isEmpty());
    const QJsonObject apisix = proxy.value("apisix").toObject();
    QCOMPARE(apisix.value("proxy_mode").toString(), QString("stream"));
    QCOMPARE(apisix.value("stream_proxy").toObject().value("tcp").toArray(),
             (QJsonArray{13306, "127.0.0.1:15432", "[::1]:16000"}));
    QCOMPARE(apisix.value("stream_proxy").toObject().value("udp").toArray(), QJsonArray{5353});
    QCOMPARE(proxy.value("deployment")
                 .toObject()
                 .value("role_data_plane")
                 .toObject()
                 .value("config_provider")
                 .toString(),
             QString("yaml"));

    // Streamgate-only settings are listed, each by its path, never dropped silently.
    // No route uses prometheus: APISIX's own stream plugin list is left alone.
    QVERIFY(!proxy.contains("stream_plugins"));

    QVERIFY(mentions(result.warnings, "streamgate.admin"));
    QVERIFY(mentions(result.warnings, "streamgate.mysql_inspect"));
    QVERIFY(!mentions(result.warnings, "secret")); // nor is it printed in a warning
}

void TestApisixYaml::roundTripIsIdentical()
{
    const Decoded<Config> decoded = decodeConfig(parseJson(kRichConfig));
    QVERIFY2(decoded.ok(), qPrintable(formatProblems(decoded.problems)));
    Config original = decoded.value;
    // Store-owned timestamps travel too (APISIX keeps them on its objects).
    original.streamRoutes[0].createTime = 1700000000;
    original.streamRoutes[0].updateTime = 1700000100;
    original.upstreams[0].createTime = 1700000200;
    original.upstreams[0].updateTime = 1700000300;

    QTemporaryDir dir;
    const ApisixExport exported = exportApisix(original, dir.path());
    QVERIFY(exported.ok());

    const ApisixImport imported = importApisix(dir.filePath("apisix.yaml"));
    QVERIFY2(imported.ok(), qPrintable(formatProblems(imported.problems)));
    QVERIFY(imported.hasStreamProxy);
    QCOMPARE(imported.streamProxyFile, dir.filePath("config-stream.yaml"));
    QCOMPARE(imported.config.streamRoutes.size(), original.streamRoutes.size());
    for (int i = 0; i < original.streamRoutes.size(); ++i) {
        QCOMPARE(encodeStreamRoute(imported.config.streamRoutes[i]),
                 encodeStreamRoute(original.streamRoutes[i]));
        QVERIFY(imported.config.streamRoutes[i] == original.streamRoutes[i]);
    }
    QCOMPARE(imported.config.upstreams.size(), original.upstreams.size());
    for (int i = 0; i < original.upstreams.size(); ++i) {
        QCOMPARE(encodeUpstream(imported.config.upstreams[i]),
                 encodeUpstream(original.upstreams[i]));
        QVERIFY(imported.config.upstreams[i] == original.upstreams[i]);
    }
    QVERIFY(imported.config.streamProxy == original.streamProxy);
    QVERIFY(imported.config.streamgate.isEmpty());
}

void TestApisixYaml::prometheusRouteRoundTrip()
{
    // A route with APISIX's stream prometheus moves to APISIX and back unchanged, and the
    // APISIX config fragment switches the plugin on (APISIX ships it off).
    const Decoded<Config> decoded = decodeConfig(parseJson(R"({
      "stream_proxy": { "tcp": [13306] },
      "stream_routes": [
        { "id": "mysql", "name": "Local MySQL", "server_port": 13306,
          "plugins": { "prometheus": { "prefer_name": true },
                       "ip-restriction": { "whitelist": ["127.0.0.1"] } },
          "upstream": { "nodes": { "127.0.0.1:3306": 1 } } },
        { "id": "pg", "server_port": 13306, "plugins": { "prometheus": {} },
          "upstream": { "nodes": { "127.0.0.1:5432": 1 } } }
      ]
    })"));
    QVERIFY2(decoded.ok(), qPrintable(formatProblems(decoded.problems)));
    const Config& original = decoded.value;

    QTemporaryDir dir;
    const ApisixExport exported = exportApisix(original, dir.path());
    QVERIFY2(exported.ok(), qPrintable(formatProblems(exported.problems)));

    Problems problems;
    const QJsonObject routesYaml =
        yamlToJson(readFile(dir.filePath("apisix.yaml")), "apisix.yaml", &problems).toObject();
    QVERIFY2(problems.isEmpty(), qPrintable(formatProblems(problems)));
    const QJsonArray routes = routesYaml.value("stream_routes").toArray();
    QCOMPARE(routes.size(), 2);
    QCOMPARE(routes.at(0).toObject().value("plugins").toObject().value("prometheus"),
             QJsonValue(QJsonObject{{"prefer_name", true}}));
    QCOMPARE(routes.at(1).toObject().value("plugins").toObject().value("prometheus"),
             QJsonValue(QJsonObject{}));

    const QJsonObject proxy =
        yamlToJson(readFile(dir.filePath("config-stream.yaml")), "config-stream.yaml", &problems)
            .toObject();
    QVERIFY2(problems.isEmpty(), qPrintable(formatProblems(problems)));
    QCOMPARE(proxy.value("stream_plugins").toArray(),
             (QJsonArray{"ip-restriction", "limit-conn", "mqtt-proxy", "traffic-split",
                         "prometheus", "syslog"}));

    const ApisixImport imported = importApisix(dir.filePath("apisix.yaml"));
    QVERIFY2(imported.ok(), qPrintable(formatProblems(imported.problems)));
    QVERIFY(!mentions(imported.warnings, "stream_plugins"));
    QCOMPARE(imported.config.streamRoutes.size(), 2);
    for (int i = 0; i < 2; ++i) {
        QCOMPARE(encodeStreamRoute(imported.config.streamRoutes[i]),
                 encodeStreamRoute(original.streamRoutes[i]));
        QVERIFY(imported.config.streamRoutes[i] == original.streamRoutes[i]);
    }
    QCOMPARE(imported.config.streamRoutes[0].plugins.prometheus,
             std::optional<PrometheusConf>(PrometheusConf{true}));
    QCOMPARE(imported.config.streamRoutes[1].plugins.prometheus,
             std::optional<PrometheusConf>(PrometheusConf{false}));
}

void TestApisixYaml::accessLogExport_data()
{
    QTest::addColumn<QString>("accessLog"); // streamgate.access_log as written, or empty
    QTest::addColumn<QJsonValue>("stream"); // nginx_config.stream in config-stream.yaml
    QTest::addColumn<QString>("warning");   // a warning that must be given, or empty
    QTest::newRow("not written: APISIX's settings left alone")
        << QString() << QJsonValue(QJsonValue::Undefined) << QString();
    QTest::newRow("a format of nginx variables goes as it is")
        << R"({"format": "$remote_addr [$time_iso8601] $status $upstream_addr \"$upstream_connect_time\""})"
        << QJsonValue(QJsonObject{
               {"enable_access_log", true},
               {"access_log_format",
                R"($remote_addr [$time_iso8601] $status $upstream_addr "$upstream_connect_time")"}})
        << QString();
    QTest::newRow("switched off") << R"({"enable": false})"
                                  << QJsonValue(QJsonObject{{"enable_access_log", false}})
                                  << QString();
    QTest::newRow("Streamgate's own variables stay behind")
        << R"({"format": "$remote_addr $route_id $close_reason ${route_id}"})"
        << QJsonValue(QJsonObject{{"enable_access_log", true}})
        << "streamgate.access_log.format: left out: $route_id, $close_reason are Streamgate's own, "
           "APISIX's stream access log has no such variable";
    QTest::newRow("the streamgate_ variables stay behind")
        << R"({"format": "$remote_addr $streamgate_closed_by $upstream_first_byte_time"})"
        << QJsonValue(QJsonObject{{"enable_access_log", true}})
        << "streamgate.access_log.format: left out: $streamgate_closed_by is Streamgate's own, "
           "APISIX's stream access log has no such variable";
    QTest::newRow("interim lines are Streamgate's own")
        << R"({"interim_interval": 60})" << QJsonValue(QJsonObject{{"enable_access_log", true}})
        << "streamgate.access_log.interim_interval: left out: APISIX's stream access log writes "
           "a session's line only when it ends";
    QTest::newRow("a single quote cannot go into APISIX's nginx.conf")
        << R"({"format": "'$remote_addr' $status"})"
        << QJsonValue(QJsonObject{{"enable_access_log", true}})
        << "streamgate.access_log.format: left out: APISIX puts the format between single quotes "
           "in nginx.conf, so it cannot hold a \"'\"";
}

void TestApisixYaml::accessLogExport()
{
    QFETCH(QString, accessLog);
    QFETCH(QJsonValue, stream);
    QFETCH(QString, warning);
    const QString settings =
        accessLog.isEmpty() ? QString() : R"(, "streamgate": {"access_log": )" + accessLog + "}";
    const Decoded<Config> decoded =
        decodeConfig(parseJson((R"({"stream_proxy": {"tcp": [13306]}, "stream_routes": [{"id": "db",
            "upstream": {"nodes": {"127.0.0.1:3306": 1}}}])" +
                                settings + "}")
                                   .toUtf8()
                                   .constData()));
    QVERIFY2(decoded.ok(), qPrintable(formatProblems(decoded.problems)));
    QTemporaryDir dir;
    const ApisixExport exported = exportApisix(decoded.value, dir.path());
    QVERIFY2(exported.ok(), qPrintable(formatProblems(exported.problems)));
    Problems problems;
    const QJsonObject proxy =
        yamlToJson(readFile(dir.filePath("config-stream.yaml")), "config-stream.yaml", &problems)
            .toObject();
    QVERIFY2(problems.isEmpty(), qPrintable(formatProblems(problems)));
    QCOMPARE(proxy.value("nginx_config").toObject().value("stream"), stream);
    if (warning.isEmpty())
        QVERIFY2(!mentions(exported.warnings, "access_log"),
                 qPrintable(formatProblems(exported.warnings)));
    else
        QVERIFY2(mentions(exported.warnings, warning),
                 qPrintable(formatProblems(exported.warnings)));
    // APISIX's stream_proxy beside it is still read back as before.
    const ApisixImport imported = importApisix(dir.filePath("apisix.yaml"));
    QVERIFY2(imported.ok(), qPrintable(formatProblems(imported.problems)));
    QVERIFY(imported.config.streamProxy == decoded.value.streamProxy);
}

void TestApisixYaml::standaloneSampleImports()
{
    // Written the way APISIX's standalone documentation shows stream routes: integer ids,
    // upstream_id references, nodes as a map with quoted keys, comments, "#END".
    const QByteArray sample = R"(# apisix.yaml
stream_routes:
  - id: 1
    server_addr: 127.0.0.1
    server_port: 1985
    upstream_id: 1
  - id: 2
    remote_addr: 127.0.0.1
    server_port: 2000
    plugins:
      ip-restriction:
        whitelist:
          - 127.0.0.1
          - "192.168.1.0/24"
    upstream:
      nodes:
        "127.0.0.1:1995": 1
      type: roundrobin
upstreams:
  - nodes:
      "127.0.0.1:1995": 1
      "127.0.0.1:1996": 2
    type: roundrobin
    id: 1
#END
)";
    QTemporaryDir dir;
    QVERIFY(writeFile(dir.filePath("apisix.yaml"), sample));
    const ApisixImport imported = importApisix(dir.filePath("apisix.yaml"));
    QVERIFY2(imported.ok(), qPrintable(formatProblems(imported.problems)));
    QVERIFY(!imported.hasStreamProxy);

    const Config& c = imported.config;
    QCOMPARE(c.streamRoutes.size(), 2);
    QCOMPARE(c.streamRoutes[0].id, QJsonValue(1)); // kept as given: an integer
    QCOMPARE(c.streamRoutes[0].serverAddr, QString("127.0.0.1"));
    QCOMPARE(c.streamRoutes[0].serverPort, std::optional<int>(1985));
    QCOMPARE(c.streamRoutes[0].upstreamId, QJsonValue(1));
    QCOMPARE(c.streamRoutes[1].remoteAddr, QString("127.0.0.1"));
    QVERIFY(c.streamRoutes[1].plugins.ipRestriction.has_value());
    QCOMPARE(c.streamRoutes[1].plugins.ipRestriction->whitelist,
             (QStringList{"127.0.0.1", "192.168.1.0/24"}));
    QCOMPARE(c.upstreams.size(), 1);
    QCOMPARE(c.upstreams[0].nodes.size(), 2);
    QCOMPARE(c.upstreams[0].nodes[1].port, 1996);
    QCOMPARE(c.upstreams[0].nodes[1].weight, 2);
    QVERIFY(c.upstreamFor(c.streamRoutes[0]) != nullptr);
}

void TestApisixYaml::missingIdsBecomeArrN()
{
    QTemporaryDir dir;
    QVERIFY(writeFile(dir.filePath("apisix.yaml"), R"(stream_routes:
  - server_port: 9100
    upstream: { nodes: { "127.0.0.1:1": 1 } }
  - id: keep
    server_port: 9101
    upstream: { nodes: { "127.0.0.1:2": 1 } }
  - server_port: 9102
    upstream: { nodes: { "127.0.0.1:3": 1 } }
upstreams:
  - nodes: { "127.0.0.1:4": 1 }
#END
)"));
    const ApisixImport imported = importApisix(dir.filePath("apisix.yaml"));
    QVERIFY2(imported.ok(), qPrintable(formatProblems(imported.problems)));
    QStringList ids;
    for (const StreamRoute& r : imported.config.streamRoutes)
        ids << r.idString();
    QCOMPARE(ids, (QStringList{"arr_1", "keep", "arr_3"})); // list order is match order
    QCOMPARE(imported.config.upstreams.value(0).idString(), QString("arr_1"));
}

void TestApisixYaml::everyProblemAtOnceNothingApplied()
{
    QTemporaryDir dir;
    QVERIFY(writeFile(dir.filePath("apisix.yaml"), R"(stream_routes:
  - id: ok
    server_port: 9100
    upstream: { nodes: { "127.0.0.1:1": 1 } }
  - id: bad-addr
    remote_addr: ":/8"
    upstream: { nodes: { "127.0.0.1:1": 1 } }
  - id: bad-port
    server_port: 65536
    upstream: { nodes: { "127.0.0.1:1": 1 } }
#END
)"));
    const ApisixImport imported = importApisix(dir.filePath("apisix.yaml"));
    QVERIFY(!imported.ok());
    QVERIFY2(mentions(imported.problems, "invalid remote_addr: :/8"),
             qPrintable(formatProblems(imported.problems)));
    QVERIFY2(mentions(imported.problems, "stream_routes[1]"),
             qPrintable(formatProblems(imported.problems)));
    QVERIFY2(mentions(imported.problems, "stream_routes[2].server_port"),
             qPrintable(formatProblems(imported.problems)));
    QVERIFY(imported.config.streamRoutes.isEmpty()); // nothing half-imported

    // Through the store: the config file is untouched.
    const QString configPath = dir.filePath("streamgate.json");
    QVERIFY(writeFile(configPath, R"({"stream_proxy": {"tcp": [9100]}})"));
    const QByteArray before = readFile(configPath);
    QCOMPARE(importApisixCommand(configPath, dir.filePath("apisix.yaml")), 1);
    QCOMPARE(readFile(configPath), before);
}

void TestApisixYaml::apisixStreamPluginSamplesImport()
{
    // APISIX's MQTT stream example and its traffic-split one: every stream plugin APISIX ships
    // is run, so both import as written.
    QTemporaryDir dir;
    QVERIFY(writeFile(dir.filePath("apisix.yaml"), R"(stream_routes:
  - server_addr: 127.0.0.1
    server_port: 1985
    id: 1
    upstream_id: 1
    plugins:
      mqtt-proxy:
        protocol_name: "MQTT"
        protocol_level: 4
  - server_port: 1986
    id: 2
    plugins:
      traffic-split:
        rules:
          - match:
              - vars:
                  - ["route_id", "==", "2"]
            weighted_upstreams:
              - upstream_id: 1
                weight: 9
              - upstream:
                  nodes:
                    "127.0.0.1:1996": 1
                  type: roundrobin
                weight: 1
upstreams:
  - nodes:
      "127.0.0.1:1995": 1
    type: roundrobin
    id: 1
#END
)"));
    const ApisixImport imported = importApisix(dir.filePath("apisix.yaml"));
    QVERIFY2(imported.ok(), qPrintable(formatProblems(imported.problems)));
    QCOMPARE(imported.config.streamRoutes.size(), 2);
    QVERIFY(imported.config.streamRoutes.at(0).plugins.mqttProxy.has_value());
    const auto& split = imported.config.streamRoutes.at(1).plugins.trafficSplit;
    QVERIFY(split.has_value());
    QCOMPARE(split->rules.size(), 1);
    QCOMPARE(split->rules.at(0).weightedUpstreams.size(), 2);
    QCOMPARE(split->rules.at(0).weightedUpstreams.at(0).weight, 9);
}

void TestApisixYaml::otherApisixSectionsAreWarnings()
{
    QTemporaryDir dir;
    QVERIFY(writeFile(dir.filePath("apisix.yaml"), R"(routes:
  - uri: /hello
    upstream_id: 1
upstreams:
  - id: 1
    nodes: { "127.0.0.1:80": 1 }
#END
)"));
    const ApisixImport imported = importApisix(dir.filePath("apisix.yaml"));
    QVERIFY2(imported.ok(), qPrintable(formatProblems(imported.problems)));
    QVERIFY(mentions(imported.warnings, "routes"));
    QCOMPARE(imported.config.upstreams.size(), 1);
}

// As APISIX standalone loads it: the route stays, and the check of what was imported (which the
// store runs once it is merged with the listeners) warns, naming the id.
void TestApisixYaml::danglingUpstreamIdWarned()
{
    QTemporaryDir dir;
    QVERIFY(writeFile(dir.filePath("apisix.yaml"), R"(stream_routes:
  - id: r1
    server_port: 9100
    upstream_id: nowhere
#END
)"));
    const ApisixImport imported = importApisix(dir.filePath("apisix.yaml"));
    QVERIFY2(imported.ok(), qPrintable(formatProblems(imported.problems)));
    const Problems warnings = checkConfig(imported.config).warnings;
    QVERIFY2(mentions(warnings, "nowhere"), qPrintable(formatProblems(warnings)));
    QCOMPARE(imported.config.streamRoutes.size(), 1);
}

// services: as APISIX standalone writes them, items without an id named arr_N; exported back
// as given, after the upstreams.
void TestApisixYaml::servicesRoundTrip()
{
    QTemporaryDir dir;
    QVERIFY(writeFile(dir.filePath("apisix.yaml"), R"(stream_routes:
  - id: r1
    server_port: 9100
    service_id: db
  - id: r2
    server_port: 9101
    service_id: arr_2
    plugins:
      ip-restriction: { blacklist: ["127.0.0.9"] }
upstreams:
  - id: u1
    nodes: { "127.0.0.1:3306": 1 }
services:
  - id: db
    name: shared MySQL
    upstream: { nodes: { "127.0.0.1:3307": 1 }, type: roundrobin }
    plugins:
      ip-restriction: { whitelist: ["127.0.0.1"] }
  - upstream_id: u1
#END
)"));
    const ApisixImport imported = importApisix(dir.filePath("apisix.yaml"));
    QVERIFY2(imported.ok(), qPrintable(formatProblems(imported.problems)));
    QVERIFY(!mentions(imported.warnings, "services"));
    const Config& config = imported.config;
    QCOMPARE(config.services.size(), 2);
    QCOMPARE(config.services.at(0).name, QStringLiteral("shared MySQL"));
    QCOMPARE(config.services.at(1).idString(), QStringLiteral("arr_2"));
    QCOMPARE(config.upstreamFor(config.streamRoutes.at(1))->idString(), QStringLiteral("u1"));
    QVERIFY(config.effectiveRoute(config.streamRoutes.at(0)).plugins.ipRestriction);

    const Config merged = mergeApisixImport(Config{}, imported);
    QCOMPARE(merged.services, config.services);

    QTemporaryDir out;
    Config withProxy = config;
    withProxy.streamProxy.tcp << decodeListenEntry(QJsonValue(9100)).value;
    const ApisixExport exported = exportApisix(withProxy, out.path());
    QVERIFY2(exported.ok(), qPrintable(formatProblems(exported.problems)));
    QVERIFY(!mentions(exported.warnings, "services"));
    const QByteArray text = readFile(out.filePath("apisix.yaml"));
    QVERIFY(text.indexOf("upstreams:") < text.indexOf("services:"));
    QVERIFY(text.indexOf("services:") < text.indexOf("#END"));
    const ApisixImport again = importApisix(out.filePath("apisix.yaml"));
    QVERIFY2(again.ok(), qPrintable(formatProblems(again.problems)));
    QCOMPARE(again.config.services.size(), 2);
    for (int i = 0; i < 2; ++i)
        QCOMPARE(encodeService(again.config.services[i]), encodeService(config.services[i]));
}

// plugin_metadata: syslog's is imported and exported back as given; another plugin's (a shared
// APISIX file) is left out with a warning rather than failing the import.
// ssls go both ways with their keys in full (an APISIX that serves them needs them), and the
// exported apisix.yaml is then the owner's only (0600).
void TestApisixYaml::sslsRoundTrip()
{
    TestCerts certs;
    QVERIFY2(certs.makeLeaf("a", "", "a.example.com", {"a.example.com"}),
             qPrintable(certs.error()));
    QVERIFY2(certs.makeCa("ca"), qPrintable(certs.error()));
    Config config;
    config.streamProxy.tcp
        << decodeTcpListenEntry(QJsonObject{{"addr", 9443}, {"tls", true}}).value;
    config.streamRoutes << decodeStreamRoute(parseJson(R"({"id": "r", "sni": "a.example.com",
        "upstream": {"nodes": {"127.0.0.1:1": 1}}})"))
                               .value;
    Ssl ssl;
    ssl.id = QStringLiteral("s1");
    ssl.cert = certs.pem("a", "crt");
    ssl.key = certs.pem("a", "key");
    ssl.snis = QStringList{QStringLiteral("a.example.com"), QStringLiteral("*.a.example.com")};
    ssl.client = SslClient{certs.pem("ca", "crt"), 2, {}, {}};
    ssl.sslProtocols = QStringList{QStringLiteral("TLSv1.3")};
    ssl.labels.insert(QStringLiteral("env"), QStringLiteral("dev"));
    config.ssls << ssl;
    QVERIFY2(checkConfig(config).errors.isEmpty(),
             qPrintable(formatProblems(checkConfig(config).errors)));

    QTemporaryDir out;
    const ApisixExport exported = exportApisix(config, out.path());
    QVERIFY2(exported.ok(), qPrintable(formatProblems(exported.problems)));
    const QString file = out.filePath("apisix.yaml");
    const QByteArray text = readFile(file);
    QVERIFY(text.contains("ssls:"));
    QVERIFY(text.contains("BEGIN PRIVATE KEY"));
    QVERIFY(text.indexOf("ssls:") < text.indexOf("#END"));
    QCOMPARE(QFileInfo(file).permissions() & (QFileDevice::ReadGroup | QFileDevice::ReadOther),
             QFileDevice::Permissions());
    const ApisixImport again = importApisix(file);
    QVERIFY2(again.ok(), qPrintable(formatProblems(again.problems)));
    QVERIFY(!mentions(again.warnings, "ssls"));
    QCOMPARE(again.config.ssls.size(), 1);
    QCOMPARE(encodeSsl(again.config.ssls.at(0)), encodeSsl(ssl));
    QVERIFY(again.config.streamProxy.tcp.at(0).terminatesTls());
    QCOMPARE(mergeApisixImport(Config{}, again).ssls, again.config.ssls);

    // A key that is not the certificate's is refused at import, naming the field.
    QVERIFY2(certs.makeLeaf("b", "", "b.example.com", {"b.example.com"}),
             qPrintable(certs.error()));
    QJsonObject sslJson = encodeSsl(ssl);
    sslJson.insert("key", certs.pem("b", "key"));
    // JSON is YAML: the file as APISIX would read it.
    QVERIFY(writeFile(out.filePath("bad.yaml"),
                      QJsonDocument(QJsonObject{{"ssls", QJsonArray{sslJson}}}).toJson()));
    const ApisixImport refused = importApisix(out.filePath("bad.yaml"));
    QVERIFY(!refused.ok());
    QVERIFY2(mentions(refused.problems, "ssls[0].key"),
             qPrintable(formatProblems(refused.problems)));
    QVERIFY2(!formatProblems(refused.problems).contains("PRIVATE KEY"),
             qPrintable(formatProblems(refused.problems)));
}

void TestApisixYaml::pluginMetadataRoundTrip()
{
    QTemporaryDir dir;
    QVERIFY(writeFile(dir.filePath("apisix.yaml"), R"(stream_routes:
  - id: r1
    server_port: 9100
    upstream: { nodes: { "127.0.0.1:3306": 1 } }
    plugins:
      syslog: { host: 127.0.0.1, port: 514 }
plugin_metadata:
  - id: http-logger
    log_format: { host: "$host" }
  - id: syslog
    log_format: { client: "$remote_addr" }
    max_pending_entries: 100
#END
)"));
    const ApisixImport imported = importApisix(dir.filePath("apisix.yaml"));
    QVERIFY2(imported.ok(), qPrintable(formatProblems(imported.problems)));
    QVERIFY(mentions(imported.warnings, "plugin_metadata[0].id"));
    QCOMPARE(imported.config.pluginMetadata.size(), 1);
    const QJsonObject syslog{{"id", "syslog"},
                             {"log_format", QJsonObject{{"client", "$remote_addr"}}},
                             {"max_pending_entries", 100}};
    QCOMPARE(encodePluginMetadata(imported.config.pluginMetadata[0]), syslog);
    QCOMPARE(mergeApisixImport(Config{}, imported).pluginMetadata, imported.config.pluginMetadata);

    QTemporaryDir out;
    Config withProxy = imported.config;
    withProxy.streamProxy.tcp << decodeListenEntry(QJsonValue(9100)).value;
    const ApisixExport exported = exportApisix(withProxy, out.path());
    QVERIFY2(exported.ok(), qPrintable(formatProblems(exported.problems)));
    const ApisixImport again = importApisix(out.filePath("apisix.yaml"));
    QVERIFY2(again.ok(), qPrintable(formatProblems(again.problems)));
    QVERIFY(again.warnings.isEmpty());
    QCOMPARE(again.config.pluginMetadata, imported.config.pluginMetadata);
}

void TestApisixYaml::danglingServiceIdWarned()
{
    QTemporaryDir dir;
    QVERIFY(writeFile(dir.filePath("apisix.yaml"), R"(stream_routes:
  - id: r1
    server_port: 9100
    service_id: nowhere
#END
)"));
    ApisixImport imported = importApisix(dir.filePath("apisix.yaml"));
    QVERIFY2(imported.ok(), qPrintable(formatProblems(imported.problems)));
    const Problems warnings = checkConfig(imported.config).warnings;
    QVERIFY2(mentions(warnings, "stream_routes[0].service_id"),
             qPrintable(formatProblems(warnings)));
    QVERIFY(mentions(warnings, "nowhere"));

    // An HTTP service is refused by its field, not imported half.
    QVERIFY(writeFile(dir.filePath("apisix.yaml"), R"(services:
  - id: s1
    hosts: [a.example.com]
#END
)"));
    imported = importApisix(dir.filePath("apisix.yaml"));
    QVERIFY(!imported.ok());
    QVERIFY2(mentions(imported.problems, "services[0].hosts"),
             qPrintable(formatProblems(imported.problems)));
}

void TestApisixYaml::mergeKeepsOwnSettings()
{
    const Decoded<Config> current = decodeConfig(parseJson(kRichConfig));
    QVERIFY(current.ok());
    QTemporaryDir dir;
    QVERIFY(writeFile(dir.filePath("apisix.yaml"), R"(stream_routes:
  - id: only
    server_port: 13306
    upstream: { nodes: { "127.0.0.1:1": 1 } }
#END
)"));
    const ApisixImport imported = importApisix(dir.filePath("apisix.yaml"));
    QVERIFY2(imported.ok(), qPrintable(formatProblems(imported.problems)));
    const Config merged = mergeApisixImport(current.value, imported);
    QCOMPARE(merged.streamRoutes.size(), 1);
    QVERIFY(merged.upstreams.isEmpty());
    QVERIFY(merged.streamProxy == current.value.streamProxy); // no config-stream.yaml beside it
    QCOMPARE(merged.streamgate, current.value.streamgate);
}

void TestApisixYaml::commandLineRoundTrip()
{
    QTemporaryDir dir;
    const QString source = dir.filePath("source.json");
    QVERIFY(writeFile(source, kRichConfig));
    QCOMPARE(exportApisixCommand(source, dir.filePath("out")), 0);
    QVERIFY(QFile::exists(dir.filePath("out/apisix.yaml")));
    QVERIFY(QFile::exists(dir.filePath("out/config-stream.yaml")));

    // Into another Streamgate config that has its own settings: they survive the import.
    const QString target = dir.filePath("target.json");
    QVERIFY(writeFile(target, R"({"streamgate": {"admin": {"key": "keep-me"}}})"));
    QCOMPARE(importApisixCommand(target, dir.filePath("out/apisix.yaml")), 0);
    const FileCheck after = checkFile(target);
    QVERIFY2(after.problems.isEmpty(), qPrintable(formatProblems(after.problems)));
    const Config expected = decodeConfig(parseJson(kRichConfig)).value;
    QCOMPARE(after.config.streamRoutes.size(), expected.streamRoutes.size());
    for (int i = 0; i < expected.streamRoutes.size(); ++i) {
        StreamRoute got = after.config.streamRoutes[i];
        got.createTime = got.updateTime = 0; // the store stamps what it saves
        QCOMPARE(encodeStreamRoute(got), encodeStreamRoute(expected.streamRoutes[i]));
    }
    QVERIFY(after.config.streamProxy == expected.streamProxy);
    QCOMPARE(after.config.streamgate.adminKey(), QString("keep-me"));

    QCOMPARE(exportApisixCommand(dir.filePath("missing.json"), dir.filePath("x")), 2);
    QCOMPARE(importApisixCommand(target, dir.filePath("missing.yaml")), 2);
}

// stream_proxy.tcp in APISIX's object form: the JSON config keeps it as written, the export
// writes it the way APISIX reads it, with the trusted sources in effect, and the import reads
// both back.
void TestApisixYaml::proxyProtocolListenersRoundTrip()
{
    const Decoded<Config> decoded = decodeConfig(parseJson(R"({
      "stream_proxy": { "tcp": [13306,
          {"addr": "127.0.0.1:15432", "proxy_protocol": true, "proxy_protocol_to_upstream": true},
          {"addr": 9100, "tls": false, "proxy_protocol": false}] },
      "stream_routes": [{"id": "db", "upstream": {"nodes": {"127.0.0.1:3306": 1}}}]
    })"));
    QVERIFY2(decoded.ok(), qPrintable(formatProblems(decoded.problems)));
    const QList<ListenEntry>& tcp = decoded.value.streamProxy.tcp;
    QCOMPARE(tcp.size(), 3);
    QVERIFY(!tcp[0].readsProxyProtocol() && !tcp[0].sendsProxyProtocol());
    QVERIFY(tcp[1].readsProxyProtocol() && tcp[1].sendsProxyProtocol());
    QCOMPARE(tcp[1].text(), QStringLiteral("127.0.0.1:15432"));
    QVERIFY(!tcp[2].readsProxyProtocol());
    // Written back exactly as given.
    QCOMPARE(encodeConfig(decoded.value).value("stream_proxy").toObject().value("tcp"),
             QJsonValue(QJsonArray{
                 13306,
                 QJsonObject{{"addr", "127.0.0.1:15432"},
                             {"proxy_protocol", true},
                             {"proxy_protocol_to_upstream", true}},
                 QJsonObject{{"addr", 9100}, {"tls", false}, {"proxy_protocol", false}}}));

    QTemporaryDir dir;
    const ApisixExport exported = exportApisix(decoded.value, dir.path());
    QVERIFY2(exported.ok(), qPrintable(formatProblems(exported.problems)));
    QVERIFY2(!mentions(exported.warnings, "real_ip_from"),
             qPrintable(formatProblems(exported.warnings)));
    Problems problems;
    const QJsonObject proxy =
        yamlToJson(readFile(dir.filePath("config-stream.yaml")), "config-stream.yaml", &problems)
            .toObject();
    QVERIFY2(problems.isEmpty(), qPrintable(formatProblems(problems)));
    QCOMPARE(proxy.value("apisix").toObject().value("stream_proxy").toObject().value("tcp"),
             encodeConfig(decoded.value).value("stream_proxy").toObject().value("tcp"));
    // APISIX trusts nobody by default: Streamgate's loopback default is written out.
    QCOMPARE(
        proxy.value("nginx_config").toObject().value("stream").toObject().value("real_ip_from"),
        QJsonValue(QJsonArray{"127.0.0.0/8", "::1"}));

    const ApisixImport imported = importApisix(dir.filePath("apisix.yaml"));
    QVERIFY2(imported.ok(), qPrintable(formatProblems(imported.problems)));
    QVERIFY(imported.config.streamProxy == decoded.value.streamProxy);
    QCOMPARE(imported.realIpFrom, std::optional<QStringList>({"127.0.0.0/8", "::1"}));
}

// An upstream's scheme "tls" and tls, tls_passthrough on a listener and a route, and the trusted
// CAs: kept as written in the JSON config; the export writes the APISIX objects as they are,
// the trusted CAs as APISIX's apisix.ssl.ssl_trusted_certificate, and warns that
// tls_passthrough needs an APISIX that has it. The import reads the objects back.
void TestApisixYaml::upstreamTlsAndPassthroughExport()
{
    const QByteArray text = R"({
      "stream_proxy": { "tcp": [{"addr": 9443, "tls_passthrough": true}] },
      "upstreams": [{"id": "u", "scheme": "tls", "tls": {"verify": true},
                     "nodes": {"127.0.0.1:8443": 1}}],
      "stream_routes": [{"id": "r", "sni": "a.example.com", "tls_passthrough": true,
                         "upstream_id": "u"}],
      "streamgate": {"ssl_trusted_certificate": "system"}
    })";
    const Decoded<Config> decoded = decodeConfig(parseJson(text));
    QVERIFY2(decoded.ok(), qPrintable(formatProblems(decoded.problems)));
    QCOMPARE(encodeConfig(decoded.value), parseJson(text));
    QVERIFY(decoded.value.upstreams[0].reachedOverTls());
    QVERIFY(decoded.value.upstreams[0].tls->verifies());
    QVERIFY(decoded.value.streamProxy.tcp[0].passesTlsThrough());
    // HTTP probes would reach TLS nodes in plaintext: said.
    Config probed = decoded.value;
    probed.upstreams[0].checks = ActiveHealthCheck{};
    QVERIFY2(mentions(checkConfig(probed).warnings, "upstreams[0].checks.active.type"),
             qPrintable(formatProblems(checkConfig(probed).warnings)));

    QTemporaryDir dir;
    const ApisixExport exported = exportApisix(decoded.value, dir.path());
    QVERIFY2(exported.ok(), qPrintable(formatProblems(exported.problems)));
    QVERIFY2(!mentions(exported.warnings, "ssl_trusted_certificate"),
             qPrintable(formatProblems(exported.warnings)));
    QVERIFY2(mentions(exported.warnings, "stream_proxy.tcp[0].tls_passthrough") &&
                 mentions(exported.warnings, "stream_routes[0].tls_passthrough"),
             qPrintable(formatProblems(exported.warnings)));
    Problems problems;
    const QJsonObject proxy =
        yamlToJson(readFile(dir.filePath("config-stream.yaml")), "config-stream.yaml", &problems)
            .toObject();
    QVERIFY2(problems.isEmpty(), qPrintable(formatProblems(problems)));
    const QJsonObject apisix = proxy.value("apisix").toObject();
    QCOMPARE(apisix.value("ssl").toObject().value("ssl_trusted_certificate").toString(),
             QStringLiteral("system"));
    QCOMPARE(apisix.value("stream_proxy").toObject().value("tcp"),
             QJsonValue(QJsonArray{QJsonObject{{"addr", 9443}, {"tls_passthrough", true}}}));

    const ApisixImport imported = importApisix(dir.filePath("apisix.yaml"));
    QVERIFY2(imported.ok(), qPrintable(formatProblems(imported.problems)));
    QVERIFY(imported.config.streamProxy == decoded.value.streamProxy);
    QCOMPARE(encodeUpstream(imported.config.upstreams.value(0)),
             encodeUpstream(decoded.value.upstreams[0]));
    QCOMPARE(imported.config.streamRoutes.value(0).tlsPassthrough, std::optional<bool>(true));
    QCOMPARE(imported.sslTrustedCertificate, std::optional<QString>(QStringLiteral("system")));
    QCOMPARE(mergeApisixImport(Config{}, imported).streamgate.trustedCertificates(),
             QStringLiteral("system"));

    // A CA file of the APISIX machine that is not here: left out, said.
    QVERIFY(writeFile(dir.filePath("config-stream.yaml"),
                      "apisix:\n  ssl:\n    ssl_trusted_certificate: /nowhere/ca.pem\n"
                      "  stream_proxy:\n    tcp:\n      - 9443\n"));
    const ApisixImport elsewhere = importApisix(dir.filePath("apisix.yaml"));
    QVERIFY2(elsewhere.ok(), qPrintable(formatProblems(elsewhere.problems)));
    QVERIFY(!elsewhere.sslTrustedCertificate);
    QVERIFY2(mentions(elsewhere.warnings, "apisix.ssl.ssl_trusted_certificate"),
             qPrintable(formatProblems(elsewhere.warnings)));
}

// apisix.proxy_protocol gives the entries that do not say their PROXY protocol settings, as
// APISIX's ops.lua does; nginx_config.stream.real_ip_from becomes streamgate.real_ip_from.
void TestApisixYaml::proxyProtocolImportDefaults()
{
    QTemporaryDir dir;
    QVERIFY(writeFile(dir.filePath("apisix.yaml"), "stream_routes: []\nupstreams: []\n#END\n"));
    QVERIFY(writeFile(dir.filePath("config.yaml"), R"(apisix:
  proxy_protocol:
    listen_http_port: 9181
    enable_tcp_pp: true
    enable_tcp_pp_to_upstream: false
  stream_proxy:
    tcp:
      - 9100
      - addr: 9101
        proxy_protocol: false
      - addr: 9102
        proxy_protocol_to_upstream: true
nginx_config:
  stream:
    real_ip_from:
      - 192.168.1.0/24
      - "unix:"
)"));
    const ApisixImport imported = importApisix(dir.filePath("apisix.yaml"));
    QVERIFY2(imported.ok(), qPrintable(formatProblems(imported.problems)));
    const QList<ListenEntry>& tcp = imported.config.streamProxy.tcp;
    QCOMPARE(tcp.size(), 3);
    QCOMPARE(tcp[0].proxyProtocol, std::optional<bool>(true));
    QCOMPARE(tcp[0].proxyProtocolToUpstream, std::optional<bool>(false));
    QCOMPARE(tcp[1].proxyProtocol, std::optional<bool>(false));
    QCOMPARE(tcp[2].proxyProtocol, std::optional<bool>(true));
    QCOMPARE(tcp[2].proxyProtocolToUpstream, std::optional<bool>(true));
    QVERIFY2(mentions(imported.warnings, "apisix.proxy_protocol.listen_http_port"),
             qPrintable(formatProblems(imported.warnings)));
    QCOMPARE(imported.realIpFrom, std::optional<QStringList>({"192.168.1.0/24", "unix:"}));
    const Config merged = mergeApisixImport(Config{}, imported);
    QCOMPARE(merged.streamgate.realIpFromList(), QStringList({"192.168.1.0/24", "unix:"}));
    QVERIFY(merged.streamProxy == imported.config.streamProxy);
}

// APISIX 3.17's port ranges import, run and export as written, in every form.
void TestApisixYaml::portRangesRoundTrip()
{
    QTemporaryDir dir;
    QVERIFY(writeFile(dir.filePath("apisix.yaml"), "stream_routes: []\nupstreams: []\n#END\n"));
    QVERIFY(writeFile(dir.filePath("config.yaml"), R"(apisix:
  stream_proxy:
    tcp:
      - "2000-2002"
      - addr: "127.0.0.1:3000-3010"
        proxy_protocol: true
    udp:
      - "[::1]:4000-4001"
)"));
    const ApisixImport imported = importApisix(dir.filePath("apisix.yaml"));
    QVERIFY2(imported.ok(), qPrintable(formatProblems(imported.problems)));
    const StreamProxy& proxy = imported.config.streamProxy;
    QCOMPARE(proxy.tcp.size(), 2);
    QCOMPARE(proxy.tcp[0].text(), QStringLiteral("2000-2002"));
    QCOMPARE(proxy.tcp[1].text(), QStringLiteral("127.0.0.1:3000-3010"));
    QVERIFY(proxy.tcp[1].readsProxyProtocol());
    QCOMPARE(proxy.udp.size(), 1);
    QCOMPARE(proxy.udp[0].host, QStringLiteral("::1"));
    QCOMPARE(proxy.udp[0].port, 4000);
    QCOMPARE(proxy.udp[0].portEnd, 4001);

    QTemporaryDir out;
    const ApisixExport exported = exportApisix(imported.config, out.path());
    QVERIFY2(exported.ok(), qPrintable(formatProblems(exported.problems)));
    Problems problems;
    const QJsonObject written =
        yamlToJson(readFile(out.filePath("config-stream.yaml")), "config-stream.yaml", &problems)
            .toObject()
            .value("apisix")
            .toObject()
            .value("stream_proxy")
            .toObject();
    QVERIFY2(problems.isEmpty(), qPrintable(formatProblems(problems)));
    QCOMPARE(written.value("tcp"),
             QJsonValue(QJsonArray{"2000-2002", QJsonObject{{"addr", "127.0.0.1:3000-3010"},
                                                            {"proxy_protocol", true}}}));
    QCOMPARE(written.value("udp"), QJsonValue(QJsonArray{"[::1]:4000-4001"}));
    const ApisixImport again = importApisix(out.filePath("apisix.yaml"));
    QVERIFY2(again.ok(), qPrintable(formatProblems(again.problems)));
    QVERIFY(again.config.streamProxy == imported.config.streamProxy);
}

// Listeners that share a port on one address are refused on import as in the file.
void TestApisixYaml::overlappingRangeImportRefused()
{
    QTemporaryDir dir;
    QVERIFY(writeFile(dir.filePath("apisix.yaml"), "stream_routes: []\nupstreams: []\n#END\n"));
    QVERIFY(writeFile(dir.filePath("config.yaml"), R"(apisix:
  stream_proxy:
    tcp:
      - "127.0.0.1:2000-2100"
      - addr: "127.0.0.1:2100"
)"));
    const ApisixImport imported = importApisix(dir.filePath("apisix.yaml"));
    QVERIFY(!imported.ok());
    QVERIFY2(mentions(imported.problems, "127.0.0.1:2100 overlaps stream_proxy.tcp[0] "
                                         "(127.0.0.1:2000-2100) at port 2100"),
             qPrintable(formatProblems(imported.problems)));
}

void TestApisixYaml::proxyProtocolRefusals_data()
{
    QTest::addColumn<QString>("json");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("reason");
    QTest::newRow("tls not a boolean")
        << R"({"stream_proxy": {"tcp": [{"addr": 9100, "tls": "yes"}]}})"
        << "stream_proxy.tcp[0].tls"
        << "";
    QTest::newRow("proxy_protocol not a boolean")
        << R"({"stream_proxy": {"tcp": [{"addr": 9100, "proxy_protocol": "yes"}]}})"
        << "stream_proxy.tcp[0].proxy_protocol"
        << "";
    QTest::newRow("addr missing") << R"({"stream_proxy": {"tcp": [{"proxy_protocol": true}]}})"
                                  << "stream_proxy.tcp[0].addr"
                                  << "required";
    QTest::newRow("addr bad port")
        << R"({"stream_proxy": {"tcp": [{"addr": 70000, "proxy_protocol": true}]}})"
        << "stream_proxy.tcp[0].addr"
        << "port must be 1-65535";
    QTest::newRow("port range start > end")
        << R"({"stream_proxy": {"tcp": [{"addr": "2100-2000", "proxy_protocol": true}]}})"
        << "stream_proxy.tcp[0].addr"
        << "invalid port range (start > end): 2100-2000";
    QTest::newRow("port range end out of range")
        << R"({"stream_proxy": {"udp": ["127.0.0.1:2000-70000"]}})"
        << "stream_proxy.udp[0]"
        << "port out of range (1-65535): 70000";
    QTest::newRow("port range wider than the cap")
        << R"({"stream_proxy": {"tcp": [{"addr": "1-2000"}]}})"
        << "stream_proxy.tcp[0].addr"
        << "Streamgate listens on at most 1024 ports per range";
    QTest::newRow("unknown key")
        << R"({"stream_proxy": {"tcp": [{"addr": 9100, "reuseport": true}]}})"
        << "stream_proxy.tcp[0].reuseport"
        << "";
    QTest::newRow("udp object") << R"({"stream_proxy": {"udp": [{"addr": 53}]}})"
                                << "stream_proxy.udp[0]"
                                << "object form is for stream_proxy.tcp only";
    QTest::newRow("real_ip_from bad cidr") << R"({"streamgate": {"real_ip_from": ["10.0.0.0/33"]}})"
                                           << "streamgate.real_ip_from[0]"
                                           << "a trusted source is an IP address";
    QTest::newRow("real_ip_from not a list") << R"({"streamgate": {"real_ip_from": "10.0.0.1"}})"
                                             << "streamgate.real_ip_from"
                                             << "";
}

void TestApisixYaml::proxyProtocolRefusals()
{
    QFETCH(QString, json);
    QFETCH(QString, path);
    QFETCH(QString, reason);
    const Decoded<Config> decoded = decodeConfig(parseJson(json.toUtf8().constData()));
    QVERIFY(!decoded.ok());
    bool found = false;
    for (const Problem& p : decoded.problems)
        found = found || (p.path == path && p.reason.contains(reason) && !p.reason.isEmpty());
    QVERIFY2(found, qPrintable(formatProblems(decoded.problems)));
}

QTEST_GUILESS_MAIN(TestApisixYaml)
#include "tst_apisixyaml.moc"
