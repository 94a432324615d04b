// RemoteApisix against a running admin API (the same protocol as APISIX's) over real HTTP:
// the remote store changes, the local config does not, errors come back in the server's words.
#include "api/adminserver.h"
#include "api/remoteapisix.h"
#include "config/configstore.h"
#include "model/codec.h"
#include "testfiles.h"

#include <QEventLoop>
#include <QFile>
#include <QJsonDocument>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <memory>
#include <optional>

using namespace sg;
using namespace sgtest;

namespace {

// Runs one asynchronous call to completion (bounded). On timeout the result says so, so a
// hanging call fails the test instead of blocking it.
template <typename Result, typename Call> Result wait(Call call)
{
    struct State
    {
        std::optional<Result> result;
        QEventLoop loop;
    };
    auto state = std::make_shared<State>();
    call([state](const Result& r) {
        state->result = r;
        state->loop.quit();
    });
    if (!state->result) {
        QTimer::singleShot(15000, &state->loop, &QEventLoop::quit);
        state->loop.exec();
    }
    if (state->result)
        return *state->result;
    Result timedOut;
    timedOut.httpStatus = -1;
    timedOut.error = QStringLiteral("no answer within 15 s");
    return timedOut;
}

template <typename T>
Decoded<T> decodeText(const char* json,
                      Decoded<T> (*decode)(const QJsonValue&, const QString&, DecodeMode))
{
    return decode(QJsonDocument::fromJson(json).object(), QString(), DecodeMode::Client);
}

} // namespace

class TestRemoteApisix : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void manageRoutesAndUpstreams();
    void manageServices();
    void serverErrorsArriveInItsWords();
    void localValidationBeforeSending();
    void wrongKeyAndUnreachable();

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<ConfigStore> m_remoteStore;
    std::unique_ptr<AdminServer> m_server;
    std::unique_ptr<RemoteApisix> m_client;
};

void TestRemoteApisix::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(writeFile(m_dir->filePath("remote.json"), R"({"stream_proxy": {"tcp": [9100]}})"));
    m_remoteStore = std::make_unique<ConfigStore>(m_dir->filePath("remote.json"));
    QVERIFY(m_remoteStore->load().ok());
    m_server = std::make_unique<AdminServer>(m_remoteStore.get(), nullptr);
    QVERIFY(m_server->start({QStringLiteral("127.0.0.1:0"), QStringLiteral("remote-key")}));
    m_client = std::make_unique<RemoteApisix>(m_server->url(), QStringLiteral("remote-key"));
}

void TestRemoteApisix::cleanup()
{
    m_client.reset();
    m_server.reset();
    m_remoteStore.reset();
    m_dir.reset();
}

void TestRemoteApisix::manageRoutesAndUpstreams()
{
    const Decoded<Upstream> up = decodeText<Upstream>(R"({"id": "db", "type": "least_conn",
        "nodes": [{"host": "127.0.0.1", "port": 3306, "weight": 1}]})",
                                                      &decodeUpstream);
    QVERIFY(up.ok());
    auto putUp =
        wait<RemoteResult<Upstream>>([&](auto done) { m_client->putUpstream(up.value, done); });
    QVERIFY2(putUp.ok(), qPrintable(putUp.error + formatProblems(putUp.problems)));
    QVERIFY(putUp.created);
    QCOMPARE(putUp.value.type, QString("least_conn"));
    QVERIFY(putUp.value.createTime > 0); // the server's timestamps come back

    const Decoded<StreamRoute> route =
        decodeText<StreamRoute>(R"({"id": "mysql", "server_port": 9100,
        "remote_addr": "127.0.0.1/26", "upstream_id": "db",
        "plugins": {"ip-restriction": {"whitelist": ["127.0.0.1"]}}})",
                                &decodeStreamRoute);
    QVERIFY(route.ok());
    auto putRoute = wait<RemoteResult<StreamRoute>>(
        [&](auto done) { m_client->putStreamRoute(route.value, done); });
    QVERIFY2(putRoute.ok(), qPrintable(putRoute.error + formatProblems(putRoute.problems)));
    QVERIFY(putRoute.created);
    QVERIFY(m_remoteStore->config().findRoute("mysql")); // the remote side changed

    // Replace: 200, not created.
    StreamRoute changed = putRoute.value;
    changed.remoteAddr = "127.0.0.2";
    auto replaced = wait<RemoteResult<StreamRoute>>(
        [&](auto done) { m_client->putStreamRoute(changed, done); });
    QVERIFY2(replaced.ok(), qPrintable(replaced.error));
    QVERIFY(!replaced.created);
    QCOMPARE(replaced.value.remoteAddr, QString("127.0.0.2"));

    auto list = wait<RemoteResult<QList<StreamRoute>>>(
        [&](auto done) { m_client->listStreamRoutes(done); });
    QVERIFY2(list.ok(), qPrintable(list.error + formatProblems(list.problems)));
    QCOMPARE(list.value.size(), 1);
    QCOMPARE(list.value.first().remoteAddr, QString("127.0.0.2"));
    QVERIFY(list.value.first().plugins.ipRestriction.has_value());

    auto ups =
        wait<RemoteResult<QList<Upstream>>>([&](auto done) { m_client->listUpstreams(done); });
    QVERIFY2(ups.ok(), qPrintable(ups.error + formatProblems(ups.problems)));
    QCOMPARE(ups.value.size(), 1);
    QCOMPARE(ups.value.first().nodes.first().port, 3306);

    auto got = wait<RemoteResult<StreamRoute>>(
        [&](auto done) { m_client->getStreamRoute("mysql", done); });
    QVERIFY2(got.ok(), qPrintable(got.error));
    QCOMPARE(got.value.upstreamId, QJsonValue("db"));

    // POST: an empty id lets the server choose.
    StreamRoute fresh = route.value;
    fresh.id = QJsonValue(QJsonValue::Undefined);
    fresh.serverPort = 9100;
    auto posted =
        wait<RemoteResult<StreamRoute>>([&](auto done) { m_client->putStreamRoute(fresh, done); });
    QVERIFY2(posted.ok(), qPrintable(posted.error + formatProblems(posted.problems)));
    QVERIFY(posted.created);
    QCOMPARE(posted.value.idString().size(), 20);

    auto del = wait<RemoteStatus>([&](auto done) { m_client->deleteStreamRoute("mysql", done); });
    QVERIFY2(del.ok(), qPrintable(del.error));
    auto del2 = wait<RemoteStatus>(
        [&](auto done) { m_client->deleteStreamRoute(posted.value.idString(), done); });
    QVERIFY2(del2.ok(), qPrintable(del2.error));
    auto delUp = wait<RemoteStatus>([&](auto done) { m_client->deleteUpstream("db", done); });
    QVERIFY2(delUp.ok(), qPrintable(delUp.error));
    QVERIFY(m_remoteStore->config().streamRoutes.isEmpty());
    QVERIFY(m_remoteStore->config().upstreams.isEmpty());
}

void TestRemoteApisix::manageServices()
{
    const Decoded<Upstream> up =
        decodeText<Upstream>(R"({"id": "db", "nodes": {"127.0.0.1:3306": 1}})", &decodeUpstream);
    QVERIFY(wait<RemoteResult<Upstream>>([&](auto done) {
                m_client->putUpstream(up.value, done);
            }).ok());

    const Decoded<Service> svc = decodeText<Service>(R"({"id": "mysql-svc", "name": "MySQL",
        "upstream_id": "db", "plugins": {"limit-conn": {"conn": 5, "burst": 0,
        "default_conn_delay": 0.1, "key": "remote_addr"}}})",
                                                     &decodeService);
    QVERIFY2(svc.ok(), qPrintable(formatProblems(svc.problems)));
    auto put =
        wait<RemoteResult<Service>>([&](auto done) { m_client->putService(svc.value, done); });
    QVERIFY2(put.ok(), qPrintable(put.error + formatProblems(put.problems)));
    QVERIFY(put.created);
    QVERIFY(put.value.createTime > 0);
    QVERIFY(put.value.plugins.limitConn.has_value());
    QCOMPARE(put.value.plugins.limitConn->conn, 5);
    QVERIFY(m_remoteStore->config().findService("mysql-svc"));

    // Replace: 200, not created.
    Service changed = put.value;
    changed.desc = QStringLiteral("primary");
    auto replaced =
        wait<RemoteResult<Service>>([&](auto done) { m_client->putService(changed, done); });
    QVERIFY2(replaced.ok(), qPrintable(replaced.error + formatProblems(replaced.problems)));
    QVERIFY(!replaced.created);
    QCOMPARE(replaced.value.desc, QString("primary"));

    // POST: no id, the server picks one; an inline upstream this time.
    const Decoded<Service> inlineSvc = decodeText<Service>(
        R"({"upstream": {"nodes": {"127.0.0.1:5432": 1}, "type": "roundrobin"}})", &decodeService);
    QVERIFY(inlineSvc.ok());
    auto posted = wait<RemoteResult<Service>>(
        [&](auto done) { m_client->putService(inlineSvc.value, done); });
    QVERIFY2(posted.ok(), qPrintable(posted.error + formatProblems(posted.problems)));
    QVERIFY(posted.created);
    QCOMPARE(posted.value.idString().size(), 20);
    QVERIFY(posted.value.upstream.has_value());

    auto got =
        wait<RemoteResult<Service>>([&](auto done) { m_client->getService("mysql-svc", done); });
    QVERIFY2(got.ok(), qPrintable(got.error));
    QCOMPARE(got.value.upstreamId, QJsonValue("db"));
    QCOMPARE(got.value.desc, QString("primary"));

    auto list =
        wait<RemoteResult<QList<Service>>>([&](auto done) { m_client->listServices(done); });
    QVERIFY2(list.ok(), qPrintable(list.error + formatProblems(list.problems)));
    QCOMPARE(list.value.size(), 2);

    // A stream route still using the service: the server refuses, in its words.
    const Decoded<StreamRoute> route = decodeText<StreamRoute>(
        R"({"id": "r", "server_port": 9100, "service_id": "mysql-svc"})", &decodeStreamRoute);
    QVERIFY(route.ok());
    QVERIFY(wait<RemoteResult<StreamRoute>>([&](auto done) {
                m_client->putStreamRoute(route.value, done);
            }).ok());
    auto refused =
        wait<RemoteStatus>([&](auto done) { m_client->deleteService("mysql-svc", done); });
    QCOMPARE(refused.httpStatus, 400);
    QCOMPARE(refused.error,
             QString("can not delete this service directly, stream_route [r] is still using it "
                     "now"));
    QVERIFY(m_remoteStore->config().findService("mysql-svc"));

    QVERIFY(wait<RemoteStatus>([&](auto done) { m_client->deleteStreamRoute("r", done); }).ok());
    auto del = wait<RemoteStatus>([&](auto done) { m_client->deleteService("mysql-svc", done); });
    QVERIFY2(del.ok(), qPrintable(del.error));
    auto del2 = wait<RemoteStatus>(
        [&](auto done) { m_client->deleteService(posted.value.idString(), done); });
    QVERIFY2(del2.ok(), qPrintable(del2.error));
    QVERIFY(m_remoteStore->config().services.isEmpty());

    // Checked here before sending, as for the other kinds.
    Service bad;
    bad.id = QStringLiteral("bad id!");
    const qint64 revision = m_remoteStore->revision();
    auto local = wait<RemoteResult<Service>>([&](auto done) { m_client->putService(bad, done); });
    QVERIFY(!local.ok());
    QCOMPARE(local.httpStatus, 0);
    QVERIFY2(formatProblems(local.problems).contains("id"),
             qPrintable(formatProblems(local.problems)));
    QCOMPARE(m_remoteStore->revision(), revision);
}

void TestRemoteApisix::serverErrorsArriveInItsWords()
{
    const Decoded<Upstream> up =
        decodeText<Upstream>(R"({"id": "u", "nodes": {"127.0.0.1:1": 1}})", &decodeUpstream);
    QVERIFY(wait<RemoteResult<Upstream>>([&](auto done) {
                m_client->putUpstream(up.value, done);
            }).ok());
    // APISIX's admin API refuses to delete an upstream a service still names.
    Service service;
    service.id = QStringLiteral("s");
    service.upstreamId = QStringLiteral("u");
    QVERIFY(m_remoteStore->putService(service).isEmpty());

    auto refused = wait<RemoteStatus>([&](auto done) { m_client->deleteUpstream("u", done); });
    QCOMPARE(refused.httpStatus, 400);
    QCOMPARE(refused.error,
             QString("can not delete this upstream, service [s] is still using it now"));

    auto missing =
        wait<RemoteResult<StreamRoute>>([&](auto done) { m_client->getStreamRoute("nope", done); });
    QCOMPARE(missing.httpStatus, 404);
    QVERIFY(!missing.ok());
    QVERIFY(!missing.error.isEmpty());

    const Decoded<StreamRoute> dangling = decodeText<StreamRoute>(
        R"({"id": "d", "server_port": 9100, "upstream_id": "ghost"})", &decodeStreamRoute);
    auto refusedPut = wait<RemoteResult<StreamRoute>>(
        [&](auto done) { m_client->putStreamRoute(dangling.value, done); });
    QCOMPARE(refusedPut.httpStatus, 400);
    QVERIFY2(refusedPut.error.contains("ghost"), qPrintable(refusedPut.error));
}

void TestRemoteApisix::localValidationBeforeSending()
{
    StreamRoute bad;
    bad.id = "bad";
    bad.remoteAddr = ":/8"; // not what a decoder would ever produce: a hand-made value
    bad.upstreamId = "x";
    const qint64 revision = m_remoteStore->revision();
    auto result =
        wait<RemoteResult<StreamRoute>>([&](auto done) { m_client->putStreamRoute(bad, done); });
    QVERIFY(!result.ok());
    QCOMPARE(result.httpStatus, 0); // never sent
    QVERIFY2(formatProblems(result.problems).contains("invalid remote_addr: :/8"),
             qPrintable(formatProblems(result.problems)));
    QCOMPARE(m_remoteStore->revision(), revision);
}

void TestRemoteApisix::wrongKeyAndUnreachable()
{
    RemoteApisix wrong(m_server->url(), QStringLiteral("not-the-key"));
    auto denied =
        wait<RemoteResult<QList<StreamRoute>>>([&](auto done) { wrong.listStreamRoutes(done); });
    QCOMPARE(denied.httpStatus, 401);
    QCOMPARE(denied.error, QString("failed to check token"));

    // A port nobody listens on: take a free one and close it again.
    quint16 port = 0;
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        port = probe.serverPort();
    }
    QUrl url;
    url.setScheme("http");
    url.setHost("127.0.0.1");
    url.setPort(port);
    RemoteApisix nobody(url, QStringLiteral("k"));
    nobody.setTimeout(5000);
    auto unreachable =
        wait<RemoteResult<QList<Upstream>>>([&](auto done) { nobody.listUpstreams(done); });
    QCOMPARE(unreachable.httpStatus, 0);
    QVERIFY(!unreachable.error.isEmpty());
}

QTEST_GUILESS_MAIN(TestRemoteApisix)
#include "tst_remoteapisix.moc"
