// What APISIX accepts on a stream route or upstream and Streamgate does not run is refused by
// name on every surface a user writes through — the admin API over real HTTP, the config file,
// the APISIX YAML import and the store behind the window — and nothing is stored.
#include "adminfixture.h"
#include "api/adminserver.h"
#include "config/apisixyaml.h"
#include "config/configstore.h"
#include "httptestclient.h"
#include "testfiles.h"

#include <QTemporaryDir>
#include <QTest>
#include <memory>

using namespace sg;
using namespace sgtest;

namespace {

const QByteArray kKey = "0f3c5b1e9d7a4c2b8e6f1a3d5c7b9e0f";

bool mentions(const Problems& problems, const QString& text)
{
    return formatProblems(problems).contains(text);
}

// The problem at `path` carries the value as written and a reason that starts with `reason`.
bool refused(const Problems& problems, const QString& path, const QString& value,
             const QString& reason)
{
    for (const Problem& p : problems)
        if (p.path == path && p.value == value && p.reason.startsWith(reason))
            return true;
    return false;
}

} // namespace

class TestApisixRefusals : public QObject, protected AdminFixture
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void adminApiRefusesByName_data();
    void adminApiRefusesByName();
    void storeRefusesWhatTheWindowWouldWrite();
    void configFileWithSniLoadsAndWarns();
    void yamlImportTakesTlsListeners();
    void supportedValuesStillPass();
};

void TestApisixRefusals::init()
{
    const QString error = startAdmin(R"({"stream_proxy": {"tcp": [9100]}})", kKey);
    QVERIFY2(error.isEmpty(), qPrintable(error));
}

void TestApisixRefusals::cleanup()
{
    stopAdmin();
}

void TestApisixRefusals::adminApiRefusesByName_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("message"); // the start of error_msg

    QTest::newRow("route protocol dubbo")
        << "/apisix/admin/stream_routes/r"
        << QByteArray(R"({"protocol": {"name": "dubbo"}, "server_port": 9100,
                          "upstream": {"nodes": {"127.0.0.1:1": 1}}})")
        << "protocol.name: protocol dubbo is not supported by Streamgate";
    // scheme "tls" runs (tst_engine_upstreamtls); its client certificate must exist.
    QTest::newRow("upstream tls client_cert_id naming no ssl")
        << "/apisix/admin/upstreams/u"
        << QByteArray(R"({"scheme": "tls", "tls": {"client_cert_id": "1"},
                          "nodes": {"127.0.0.1:1": 1}})")
        << "failed to fetch ssl info by ssl id [1], response code: 404";
    QTest::newRow("service hosts")
        << "/apisix/admin/services/s"
        << QByteArray(R"({"hosts": ["a.example.com"], "upstream": {"nodes": {"127.0.0.1:1": 1}}})")
        << "hosts is not supported by Streamgate";
    QTest::newRow("service enable_websocket")
        << "/apisix/admin/services/s" << QByteArray(R"({"enable_websocket": true})")
        << "enable_websocket is not supported by Streamgate";
    QTest::newRow("upstream tls client_cert without client_key")
        << "/apisix/admin/upstreams/u"
        << QByteArray(R"({"scheme": "tls", "tls": {"client_cert": ")" + QByteArray(200, 'A') +
                      R"("}, "nodes": {"127.0.0.1:1": 1}})")
        << "property \"client_key\" is required when client_cert is given";
    QTest::newRow("route plugin syslog over tls")
        << "/apisix/admin/stream_routes/r"
        << QByteArray(R"({"plugins": {"syslog": {"host": "127.0.0.1", "port": 514, "tls": true,
                          "log_format": {"ip": "$remote_addr"}}},
                          "upstream": {"nodes": {"127.0.0.1:1": 1}}})")
        << "tls is not supported by Streamgate";
}

void TestApisixRefusals::adminApiRefusesByName()
{
    QFETCH(QString, path);
    QFETCH(QByteArray, body);
    QFETCH(QString, message);
    const QByteArray before = readFile(m_path);
    const HttpAnswer a = call("PUT", path, body);
    QCOMPARE(a.status, 400);
    QVERIFY2(a.json.value("error_msg").toString().startsWith(message), a.body.constData());
    QVERIFY(m_store->config().streamRoutes.isEmpty());
    QVERIFY(m_store->config().upstreams.isEmpty());
    QCOMPARE(readFile(m_path), before); // nothing stored
}

void TestApisixRefusals::storeRefusesWhatTheWindowWouldWrite()
{
    StreamRoute route;
    route.id = QStringLiteral("r");
    route.serverPort = 9100;
    Upstream up;
    Node node;
    node.host = QStringLiteral("127.0.0.1");
    node.port = 1;
    up.nodes << node;
    route.upstream = up;
    route.upstream->scheme = QStringLiteral("tls");
    route.upstream->tls = UpstreamTls{};
    route.upstream->tls->clientCertId = QJsonValue(QStringLiteral("missing"));
    const Problems problems = m_store->putRoute(route);
    QVERIFY2(refused(problems, "stream_routes[0].upstream.tls.client_cert_id", "missing",
                     "failed to fetch ssl info by ssl id [missing]"),
             qPrintable(formatProblems(problems)));
    QVERIFY(m_store->config().streamRoutes.isEmpty());
}

// A route's sni runs since listeners terminate TLS (tst_engine_tls): a file with one loads; without
// a TLS listener the route can never match, which is said.
void TestApisixRefusals::configFileWithSniLoadsAndWarns()
{
    const QByteArray text = R"({"stream_proxy": {"tcp": [9100]}, "stream_routes": [
        {"id": "a", "server_port": 9100, "upstream": {"nodes": {"127.0.0.1:1": 1}}},
        {"id": "b", "sni": "db.local", "upstream": {"nodes": {"127.0.0.1:1": 1}}}]})";
    const QString path = m_dir->filePath("with-sni.json");
    QVERIFY(writeFile(path, text));
    ConfigStore store(path);
    const LoadResult loaded = store.load();
    QVERIFY2(loaded.ok(), qPrintable(formatProblems(loaded.problems)));
    QCOMPARE(store.config().findRoute("b")->sni, QStringLiteral("db.local"));
    QVERIFY2(refused(loaded.warnings, "stream_routes[1].sni", "db.local",
                     "no stream_proxy.tcp entry has tls: true"),
             qPrintable(formatProblems(loaded.warnings)));
}

// APISIX's listener objects with tls: true are imported as TLS listeners.
void TestApisixRefusals::yamlImportTakesTlsListeners()
{
    QTemporaryDir dir;
    QVERIFY(writeFile(dir.filePath("apisix.yaml"), R"(stream_routes:
  - id: r
    server_port: 9100
    upstream: { nodes: { "127.0.0.1:1": 1 } }
#END
)"));
    QVERIFY(writeFile(dir.filePath("config.yaml"), R"(apisix:
  stream_proxy:
    tcp:
      - addr: 9100
        tls: true
      - addr: 9101
        proxy_protocol: true
      - addr: 9102
        tls: false
)"));
    const ApisixImport imported = importApisix(dir.filePath("apisix.yaml"));
    QVERIFY2(imported.ok(), qPrintable(formatProblems(imported.problems)));
    const QList<ListenEntry>& tcp = imported.config.streamProxy.tcp;
    QCOMPARE(tcp.size(), 3);
    QVERIFY(tcp.at(0).terminatesTls());
    QVERIFY(tcp.at(1).readsProxyProtocol() && !tcp.at(1).terminatesTls());
    QVERIFY(!tcp.at(2).terminatesTls()); // tls: false is a plain listener
    QVERIFY2(mentions(imported.warnings, "stream_proxy.tcp[0].tls"),
             qPrintable(formatProblems(imported.warnings))); // and no ssl to present
}

void TestApisixRefusals::supportedValuesStillPass()
{
    // The refusals are exact: the plain values beside them are stored as before.
    HttpAnswer a = call("PUT", "/apisix/admin/upstreams/u",
                        R"({"scheme": "tcp", "nodes": {"127.0.0.1:1": 1}})");
    QCOMPARE(a.status, 201);
    a = call("PUT", "/apisix/admin/stream_routes/r",
             R"({"server_port": 9100, "upstream_id": "u", "remote_addr": "127.0.0.1"})");
    QCOMPARE(a.status, 201);
    QCOMPARE(m_store->config().findUpstream("u")->scheme, QStringLiteral("tcp"));

    // APISIX's stream prometheus is one Streamgate takes: stored, and answered as given.
    a = call("PUT", "/apisix/admin/stream_routes/p",
             R"({"name": "db", "server_port": 9100, "upstream_id": "u",
                 "plugins": {"prometheus": {"prefer_name": true}}})");
    QCOMPARE(a.status, 201);
    QCOMPARE(a.json.value("value").toObject().value("plugins").toObject().value("prometheus"),
             QJsonValue(QJsonObject{{"prefer_name", true}}));
    const StreamRoute* stored = m_store->config().findRoute("p");
    QVERIFY(stored && stored->plugins.prometheus);
    QVERIFY(stored->plugins.prometheus->preferName);
}

QTEST_GUILESS_MAIN(TestApisixRefusals)
#include "tst_apisixrefusals.moc"
