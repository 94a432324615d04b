// The connections table's actions over real HTTP on loopback, on real proxied connections:
// POST /streamgate/v1/connections/ID/{reset,close,pause,resume} and
// /streamgate/v1/clients/IP/{reset,close,pause,resume}. What the peers see is checked (a reset
// is ECONNRESET, a close EOF, a pause holds a round trip), and every refusal's status and body.
#include "api/adminserver.h"
#include "config/configstore.h"
#include "httptestclient.h"
#include "loopback.h"
#include "proxy/engine.h"
#include "testfiles.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>
#include <memory>

using namespace sg;
using namespace sgtest;

namespace {

const QByteArray kKey = "connection-actions-key";

qint64 roundTrip(int fd, const QByteArray& bytes = "ping")
{
    const qint64 start = nowMs();
    if (!sendAll(fd, bytes))
        return -1;
    return recvExactly(fd, bytes.size(), 5000) == bytes ? nowMs() - start : -1;
}

quint16 localPort(int fd)
{
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    return ntohs(reinterpret_cast<sockaddr_in&>(a).sin_port);
}

QString firstProblem(const HttpAnswer& a, const char* field)
{
    const QJsonArray problems = a.json.value("problems").toArray();
    return problems.isEmpty() ? QStringLiteral("(no problems)")
                              : problems.first().toObject().value(field).toString();
}

} // namespace

class TestAdminConnections : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void connectionActions();
    void badPauseBody_data();
    void badPauseBody();
    void refusals_data();
    void refusals();
    void clientActions();
    void clientProcess();

private:
    HttpAnswer call(const QByteArray& verb, const QString& path, const QByteArray& body = {},
                    const QByteArray& key = kKey)
    {
        // A path may carry a query ("...?closed=true") and percent-encoding ("%2F").
        QUrl u = m_admin->url();
        u.setPath(path.section(u'?', 0, 0), QUrl::TolerantMode);
        if (path.contains(u'?'))
            u.setQuery(path.section(u'?', 1));
        return request(m_network, verb, u, body, key);
    }
    // A client connection from `from`, with one round trip through the echo done, and its id.
    int open(const QString& from, quint64* id)
    {
        const int fd = connectTo("127.0.0.1", m_proxyPort, from);
        if (fd < 0 || roundTrip(fd) < 0)
            return -1;
        const quint16 port = localPort(fd);
        for (const QJsonValue& v :
             call("GET", "/streamgate/v1/connections").json.value("list").toArray()) {
            if (v.toObject().value("client_port").toInt() == port) {
                *id = quint64(v.toObject().value("id").toInteger());
                return fd;
            }
        }
        ::close(fd);
        return -1;
    }
    QJsonObject connection(quint64 id)
    {
        return call("GET", "/streamgate/v1/connections/" + QString::number(id)).json;
    }

    std::unique_ptr<TestServer> m_echo;
    int m_proxyPort = 0;
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<ConfigStore> m_store;
    std::unique_ptr<Engine> m_engine;
    std::unique_ptr<AdminServer> m_admin;
    QNetworkAccessManager m_network;
};

void TestAdminConnections::init()
{
    m_echo = std::make_unique<TestServer>(TestServer::Echo);
    QVERIFY(m_echo->ok());
    m_proxyPort = freePort();
    m_dir = std::make_unique<QTemporaryDir>();
    const QString path = m_dir->filePath("streamgate.json");
    QVERIFY(writeFile(path, QStringLiteral(R"({"stream_proxy": {"tcp": ["127.0.0.1:%1"]},
        "stream_routes": [{"id": "e", "upstream": {"nodes": {"127.0.0.1:%2": 1}}}]})")
                                .arg(m_proxyPort)
                                .arg(m_echo->port())
                                .toUtf8()));
    m_store = std::make_unique<ConfigStore>(path);
    QVERIFY(m_store->load().ok());
    EngineOptions options;
    options.workers = 2;
    options.resolveClients = true; // client_process and client_host, as the application has them
    m_engine = std::make_unique<Engine>(options);
    m_engine->apply(m_store->config());
    m_admin = std::make_unique<AdminServer>(m_store.get(), m_engine.get());
    QVERIFY2(m_admin->start({QStringLiteral("127.0.0.1:0"), QString::fromLatin1(kKey)}),
             qPrintable(m_admin->errorString()));
}

void TestAdminConnections::cleanup()
{
    m_admin.reset();
    m_engine.reset();
    m_store.reset();
    m_dir.reset();
    m_echo.reset();
}

void TestAdminConnections::connectionActions()
{
    quint64 id = 0;
    const int fd = open("127.0.0.1", &id);
    QVERIFY(fd >= 0);
    const QString base = "/streamgate/v1/connections/" + QString::number(id);

    // Pause 500 ms: the next round trip waits it out, and the connection says until when.
    HttpAnswer a = call("POST", base + "/pause", R"({"ms": 500})");
    QCOMPARE(a.status, 200);
    QCOMPARE(a.json.value("action").toString(), QStringLiteral("pause"));
    QCOMPARE(a.json.value("ms").toInteger(), 500);
    QCOMPARE(a.json.value("id").toInteger(), qint64(id));
    QTRY_VERIFY_WITH_TIMEOUT(connection(id).value("paused_until").toInteger() > 0, 2000);
    const qint64 held = roundTrip(fd);
    QVERIFY2(held >= 400 && held < 3000, qPrintable(QString::number(held)));
    QTRY_VERIFY_WITH_TIMEOUT(!connection(id).contains("paused_until"), 2000);

    // Pause long, resume now: the bytes sent meanwhile come back at once.
    QCOMPARE(call("POST", base + "/pause", R"({"ms": 60000})").status, 200);
    QTRY_VERIFY_WITH_TIMEOUT(connection(id).value("paused_until").toInteger() > 0, 2000);
    QVERIFY(sendAll(fd, "wait"));
    QByteArray got;
    QCOMPARE(readSome(fd, got, 4, 300), ReadEnd::Timeout);
    const qint64 resumedAt = nowMs();
    a = call("POST", base + "/resume", "{}");
    QCOMPARE(a.status, 200);
    QCOMPARE(a.json.value("action").toString(), QStringLiteral("resume"));
    QCOMPARE(readSome(fd, got, 4, 3000), ReadEnd::Data);
    QCOMPARE(got, QByteArray("wait"));
    QVERIFY2(nowMs() - resumedAt < 1000, qPrintable(QString::number(nowMs() - resumedAt)));

    // Reset: the client's read fails with ECONNRESET, the history says why.
    a = call("POST", base + "/reset");
    QCOMPARE(a.status, 200);
    QCOMPARE(a.json.value("action").toString(), QStringLiteral("reset"));
    QCOMPARE(waitForEnd(fd, 5000), ReadEnd::Reset);
    ::close(fd);
    QJsonArray closed;
    QTRY_VERIFY_WITH_TIMEOUT(
        !(closed =
              call("GET", "/streamgate/v1/connections?closed=true").json.value("closed").toArray())
             .isEmpty(),
        5000);
    QCOMPARE(closed.last().toObject().value("id").toInteger(), qint64(id));
    QCOMPARE(closed.last().toObject().value("close_reason").toString(),
             QStringLiteral("reset by operator"));
    // Who ended it, when, and the timers (ms after start_time): bytes went both ways, the
    // session lasted through a pause of over 400 ms.
    QCOMPARE(closed.last().toObject().value("closed_by").toString(), QStringLiteral("proxy"));
    QCOMPARE(closed.last().toObject().value("close_phase").toString(), QStringLiteral("data"));
    const QJsonObject timers = closed.last().toObject().value("timers").toObject();
    QVERIFY2(timers.value("connect_ms").toInteger(-2) >= 0 &&
                 timers.value("first_byte_up_ms").toInteger(-2) >= 0 &&
                 timers.value("first_byte_down_ms").toInteger(-2) >=
                     timers.value("first_byte_up_ms").toInteger() &&
                 timers.value("duration_ms").toInteger() >= 400 &&
                 timers.value("duration_ms").toInteger() ==
                     closed.last().toObject().value("end_time").toInteger() -
                         closed.last().toObject().value("start_time").toInteger(),
             QJsonDocument(timers).toJson(QJsonDocument::Compact).constData());
    // Gone: every action on it is 404, naming the id.
    for (const char* action : {"reset", "close", "resume"}) {
        a = call("POST", base + "/" + action);
        QCOMPARE(a.status, 404);
        QVERIFY2(a.json.value("error_msg").toString().contains(QString::number(id)),
                 a.body.constData());
    }
    QCOMPARE(call("POST", base + "/pause", R"({"ms": 10})").status, 404);

    // Close: the client sees EOF.
    quint64 second = 0;
    const int fd2 = open("127.0.0.1", &second);
    QVERIFY(fd2 >= 0);
    a = call("POST", "/streamgate/v1/connections/" + QString::number(second) + "/close");
    QCOMPARE(a.status, 200);
    QCOMPARE(waitForEnd(fd2, 5000), ReadEnd::Eof);
    ::close(fd2);
}

void TestAdminConnections::badPauseBody_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("reason");
    QTest::newRow("no body") << QByteArray() << "ms"
                             << ""
                             << "ms is required";
    QTest::newRow("zero") << QByteArray(R"({"ms": 0})") << "ms"
                          << "0"
                          << "out of range";
    QTest::newRow("negative") << QByteArray(R"({"ms": -5})") << "ms"
                              << "-5"
                              << "out of range";
    QTest::newRow("over an hour") << QByteArray(R"({"ms": 3600001})") << "ms"
                                  << "3600001"
                                  << "1-3600000";
    QTest::newRow("fraction") << QByteArray(R"({"ms": 1.5})") << "ms"
                              << "1.5"
                              << "whole number";
    QTest::newRow("string") << QByteArray(R"({"ms": "500"})") << "ms"
                            << "\"500\""
                            << "whole number";
    QTest::newRow("missing") << QByteArray(R"({})") << "ms"
                             << ""
                             << "ms is required";
    QTest::newRow("unknown field") << QByteArray(R"({"ms": 5, "seconds": 5})") << "seconds"
                                   << "5"
                                   << "unknown field seconds";
    QTest::newRow("not an object") << QByteArray("[500]") << ""
                                   << "[500]"
                                   << "JSON object";
}

void TestAdminConnections::badPauseBody()
{
    QFETCH(QByteArray, body);
    QFETCH(QString, path);
    QFETCH(QString, value);
    QFETCH(QString, reason);
    quint64 id = 0;
    const int fd = open("127.0.0.1", &id);
    QVERIFY(fd >= 0);
    const HttpAnswer a =
        call("POST", "/streamgate/v1/connections/" + QString::number(id) + "/pause", body);
    QCOMPARE(a.status, 400);
    QVERIFY2(!a.json.value("error_msg").toString().isEmpty(), a.body.constData());
    QCOMPARE(firstProblem(a, "path"), path);
    QCOMPARE(firstProblem(a, "value"), value);
    QVERIFY2(firstProblem(a, "reason").contains(reason), a.body.constData());
    // Refused: nothing paused.
    QVERIFY(!connection(id).contains("paused_until"));
    const qint64 t = roundTrip(fd);
    QVERIFY2(t >= 0 && t < 300, qPrintable(QString::number(t)));
    ::close(fd);
}

void TestAdminConnections::refusals_data()
{
    QTest::addColumn<QByteArray>("verb");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("key");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("says");
    QTest::newRow("no key") << QByteArray("POST") << "/streamgate/v1/connections/1/reset"
                            << QByteArray() << QByteArray() << 401 << "missing apikey";
    QTest::newRow("wrong key") << QByteArray("POST") << "/streamgate/v1/clients/127.0.0.2/reset"
                               << QByteArray() << QByteArray("nope") << 401 << "wrong apikey";
    QTest::newRow("GET an action") << QByteArray("GET") << "/streamgate/v1/connections/1/reset"
                                   << QByteArray() << kKey << 405 << "GET";
    QTest::newRow("DELETE a client action")
        << QByteArray("DELETE") << "/streamgate/v1/clients/127.0.0.2/pause" << QByteArray() << kKey
        << 405 << "DELETE";
    QTest::newRow("unknown action") << QByteArray("POST") << "/streamgate/v1/connections/1/kick"
                                    << QByteArray() << kKey << 404 << "unknown action \"kick\"";
    QTest::newRow("id not a number") << QByteArray("POST") << "/streamgate/v1/connections/abc/reset"
                                     << QByteArray() << kKey << 400 << "invalid connection id: abc";
    QTest::newRow("unknown id") << QByteArray("POST") << "/streamgate/v1/connections/987654/close"
                                << QByteArray() << kKey << 404 << "987654";
    QTest::newRow("body on reset")
        << QByteArray("POST") << "/streamgate/v1/connections/1/reset"
        << QByteArray(R"({"now": true})") << kKey << 400 << "unknown field now";
    QTest::newRow("not an address") << QByteArray("POST") << "/streamgate/v1/clients/db.local/reset"
                                    << QByteArray() << kKey << 400 << "\"db.local\" is not an IPv4";
    QTest::newRow("a range") << QByteArray("POST") << "/streamgate/v1/clients/10.0.0.0%2F8/close"
                             << QByteArray() << kKey << 400 << "\"10.0.0.0/8\" is not an IPv4";
    QTest::newRow("client without connections")
        << QByteArray("POST") << "/streamgate/v1/clients/127.0.0.9/reset" << QByteArray() << kKey
        << 404 << "no open connection from client 127.0.0.9";
    QTest::newRow("too deep") << QByteArray("POST") << "/streamgate/v1/clients/127.0.0.2/reset/now"
                              << QByteArray() << kKey << 404 << "Route Not Found";
}

void TestAdminConnections::refusals()
{
    QFETCH(QByteArray, verb);
    QFETCH(QString, path);
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, key);
    QFETCH(int, status);
    QFETCH(QString, says);
    const HttpAnswer a = call(verb, path, body, key.isEmpty() ? QByteArray() : key);
    QCOMPARE(a.status, status);
    // 401 says why in its description, every other refusal in error_msg.
    const QString text = a.json.value(status == 401 ? "description" : "error_msg").toString();
    QVERIFY2(text.contains(says), a.body.constData());
    if (status == 405)
        QCOMPARE(a.allow, QByteArray("POST"));
}

void TestAdminConnections::clientActions()
{
    quint64 ids[3] = {};
    int fds[3];
    const QString from[3] = {"127.0.0.2", "127.0.0.2", "127.0.0.3"};
    for (int i = 0; i < 3; ++i) {
        fds[i] = open(from[i], &ids[i]);
        QVERIFY(fds[i] >= 0);
    }
    HttpAnswer a = call("POST", "/streamgate/v1/clients/127.0.0.2/pause", R"({"ms": 500})");
    QCOMPARE(a.status, 200);
    QCOMPARE(a.json.value("connections").toInt(), 2);
    QCOMPARE(a.json.value("client").toString(), QStringLiteral("127.0.0.2"));
    QTRY_VERIFY_WITH_TIMEOUT(connection(ids[0]).contains("paused_until") &&
                                 connection(ids[1]).contains("paused_until"),
                             2000);
    QVERIFY(!connection(ids[2]).contains("paused_until"));
    const qint64 other = roundTrip(fds[2]);
    QVERIFY2(other >= 0 && other < 300, qPrintable(QString::number(other)));
    const qint64 held = roundTrip(fds[0]);
    QVERIFY2(held >= 300 && held < 3000, qPrintable(QString::number(held)));

    a = call("POST", "/streamgate/v1/clients/127.0.0.2/reset");
    QCOMPARE(a.status, 200);
    QCOMPARE(a.json.value("connections").toInt(), 2);
    QCOMPARE(waitForEnd(fds[0], 5000), ReadEnd::Reset);
    QCOMPARE(waitForEnd(fds[1], 5000), ReadEnd::Reset);
    const qint64 still = roundTrip(fds[2]);
    QVERIFY2(still >= 0 && still < 300, qPrintable(QString::number(still)));
    QCOMPARE(call("POST", "/streamgate/v1/clients/127.0.0.2/resume").status, 404);

    a = call("POST", "/streamgate/v1/clients/127.0.0.3/close", "{}");
    QCOMPARE(a.status, 200);
    QCOMPARE(a.json.value("connections").toInt(), 1);
    QCOMPARE(waitForEnd(fds[2], 5000), ReadEnd::Eof);
    for (int fd : fds)
        ::close(fd);
}

QTEST_MAIN(TestAdminConnections)
// Issue 21: the program that owns a client's socket on this machine is in the connections
// JSON (this test process, connected from 127.0.0.2); a client on this machine has no host name.
void TestAdminConnections::clientProcess()
{
    quint64 id = 0;
    const int fd = open("127.0.0.2", &id);
    QVERIFY(fd >= 0);
    QFile comm(QStringLiteral("/proc/self/comm"));
    QVERIFY(comm.open(QIODevice::ReadOnly));
    const QString name = QString::fromLocal8Bit(comm.readAll().trimmed());
    QTRY_COMPARE_WITH_TIMEOUT(
        connection(id).value("client_process").toObject().value("pid").toInteger(),
        qint64(::getpid()), 3000);
    const QJsonObject c = connection(id);
    QCOMPARE(c.value("client_process").toObject().value("name").toString(), name);
    QVERIFY2(c.value("client_process")
                 .toObject()
                 .value("cmdline")
                 .toString()
                 .contains("tst_adminconnections"),
             qPrintable(c.value("client_process").toObject().value("cmdline").toString()));
    QVERIFY(c.contains("client_host"));
    QVERIFY(c.value("client_host").isNull());
    // The list gives the same.
    bool listed = false;
    for (const QJsonValue& v :
         call("GET", "/streamgate/v1/connections").json.value("list").toArray()) {
        if (quint64(v.toObject().value("id").toInteger()) != id)
            continue;
        listed = true;
        QCOMPARE(v.toObject().value("client_process").toObject().value("pid").toInteger(),
                 qint64(::getpid()));
    }
    QVERIFY(listed);
    ::close(fd);
}

#include "tst_adminconnections.moc"
