// The engine's MySQL inspection on a live relay: a replaying server speaks the protocol-10
// bytes recorded from a real MariaDB (tests/data/mysql), a client replays its side, and the
// connection's snapshot shows user, database and server version while every byte passes
// unchanged both ways. A route that is not MySQL (an echo) stays byte-exact too.

#include "loopback.h"
#include "model/codec.h"
#include "mysqlconversation.h"
#include "proxy/engine.h"
#include "proxyfixture.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>
#include <poll.h>
#include <thread>

using namespace sg;
using namespace sgtest;

namespace {

// Accepts one connection and plays the server side of `chunks`: sends its chunks, reads the
// client's and keeps what it got, so the test can compare it with the recording.
class ReplayServer
{
public:
    explicit ReplayServer(QList<sg::test::Chunk> chunks) : m_chunks(std::move(chunks))
    {
        m_listenFd = listenOn(QStringLiteral("127.0.0.1"), 0, 16, &m_port);
        m_thread = std::thread([this] { run(); });
    }
    ~ReplayServer()
    {
        if (m_thread.joinable())
            m_thread.join();
        ::close(m_listenFd);
    }
    int port() const { return m_port; }
    // Waits for the replay to end (the proxy closed its side); what the client's side delivered.
    QByteArray received()
    {
        if (m_thread.joinable())
            m_thread.join();
        return m_received;
    }

private:
    void run()
    {
        pollfd p{m_listenFd, POLLIN, 0};
        if (::poll(&p, 1, 10000) != 1)
            return;
        const int fd = ::accept(m_listenFd, nullptr, nullptr);
        if (fd < 0)
            return;
        setNonBlocking(fd);
        for (const auto& c : m_chunks) {
            if (c.fromClient) {
                const QByteArray got = recvExactly(fd, c.bytes.size(), 10000);
                m_received += got;
                if (got.size() != c.bytes.size())
                    break;
            } else if (!sendAll(fd, c.bytes)) {
                break;
            }
        }
        ::shutdown(fd, SHUT_WR);
        QByteArray tail;
        waitForEnd(fd, 10000, &tail);
        m_received += tail;
        ::close(fd);
    }

    QList<sg::test::Chunk> m_chunks;
    int m_listenFd = -1;
    int m_port = 0;
    QByteArray m_received;
    std::thread m_thread;
};

} // namespace

class TstEngineMysql : public QObject
{
    Q_OBJECT

private:
    EngineOptions options() const
    {
        QFETCH_GLOBAL(bool, splice);
        EngineOptions o;
        o.workers = 1;
        o.splice = splice;
        return o;
    }

    static int start(Engine& engine, const Upstream& up, const QJsonObject& streamgate)
    {
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << listenEntry("127.0.0.1", port);
        c.streamRoutes << route("r", up);
        const Decoded<StreamgateSettings> settings = decodeSettings(streamgate);
        if (!settings.ok())
            return -1;
        c.streamgate = settings.value;
        engine.apply(c);
        const Snapshot s = engine.snapshot();
        if (s.listeners.size() != 1 || !s.listeners[0].listening)
            return -1;
        return port;
    }

private Q_SLOTS:
    void initTestCase_data()
    {
        QTest::addColumn<bool>("splice");
        QTest::newRow("splice") << true;
        QTest::newRow("copy") << false;
    }

    void replay_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<bool>("countCommands");
        for (const char* name :
             {"login_with_database", "login_without_database", "queries", "wrong_password"}) {
            QTest::addRow("%s-counting", name) << QString::fromLatin1(name) << true;
            QTest::addRow("%s-default", name) << QString::fromLatin1(name) << false;
        }
    }

    void replay()
    {
        QFETCH(QString, name);
        QFETCH(bool, countCommands);
        const QString base = QStringLiteral(SG_TEST_DATA_DIR "/mysql/") + name;
        QList<sg::test::Chunk> chunks;
        QString error;
        QVERIFY2(sg::test::readConversation(base + ".conv", chunks, &error), qPrintable(error));
        QFile jf(base + ".json");
        QVERIFY(jf.open(QIODevice::ReadOnly));
        const QJsonObject expect = QJsonDocument::fromJson(jf.readAll()).object();
        QVERIFY(!expect.isEmpty());

        QByteArray clientBytes, serverBytes;
        for (const auto& c : chunks)
            (c.fromClient ? clientBytes : serverBytes) += c.bytes;
        // The last chunk, when the client sends it, is kept back until the live check is done.
        const bool holdLast = chunks.constLast().fromClient;

        ReplayServer server(chunks);
        Engine engine(options());
        QJsonObject sgSection;
        if (countCommands)
            sgSection.insert(QStringLiteral("routes"),
                             QJsonObject{{QStringLiteral("r"),
                                          QJsonObject{{QStringLiteral("mysql_commands"), true}}}});
        const int port = start(engine, upstream({node("127.0.0.1", server.port())}), sgSection);
        QVERIFY(port > 0);
        const int fd = connectTo("127.0.0.1", port);
        QVERIFY(fd >= 0);

        QByteArray fromServer;
        for (qsizetype i = 0; i < chunks.size(); ++i) {
            const auto& c = chunks[i];
            if (c.fromClient) {
                if (holdLast && i == chunks.size() - 1)
                    break;
                QVERIFY(sendAll(fd, c.bytes));
            } else {
                const QByteArray got = recvExactly(fd, c.bytes.size(), 10000);
                QCOMPARE(got.size(), c.bytes.size());
                fromServer += got;
            }
        }

        // Live: what the inspector learned is on the open connection.
        QTRY_VERIFY_WITH_TIMEOUT(activeOn(engine.snapshot(), "r").has_value() &&
                                     activeOn(engine.snapshot(), "r")->mysql->detected,
                                 5000);
        const MySqlInfo live = activeOn(engine.snapshot(), "r")->mysql;
        QCOMPARE(live.serverVersion, expect.value("version").toString());
        QCOMPARE(live.user, expect.value("user").toString());
        QCOMPARE(live.database, expect.value("database").toString());
        QVERIFY(!live.tls);
        if (expect.contains("connection_id"))
            QCOMPARE(qint64(live.connectionId), expect.value("connection_id").toInteger());

        if (holdLast)
            QVERIFY(sendAll(fd, chunks.constLast().bytes));
        ::shutdown(fd, SHUT_WR);
        QByteArray rest;
        QCOMPARE(waitForEnd(fd, 10000, &rest), ReadEnd::Eof);
        fromServer += rest;
        ::close(fd);

        // Byte-exact both ways.
        QVERIFY(fromServer == serverBytes);
        QVERIFY(server.received() == clientBytes);

        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 1, 5000);
        const MySqlInfo done = engine.snapshot().closed.constFirst().mysql;
        QVERIFY(done.detected);
        QCOMPARE(done.user, expect.value("user").toString());
        if (countCommands && expect.contains("commands")) {
            QCOMPARE(qint64(done.commands), expect.value("commands").toInteger());
            QCOMPARE(done.lastCommand, expect.value("last_command").toString());
            QVERIFY(done.lastCommandMs > 0);
            QVERIFY(done.commandsCounted);
        } else {
            QCOMPARE(done.commands, quint64(0));
            if (!countCommands)
                QVERIFY(!done.commandsCounted); // shown as "not counted", never as a 0
        }
    }

    void inspectionOff()
    {
        QList<sg::test::Chunk> chunks;
        QVERIFY(sg::test::readConversation(
            QStringLiteral(SG_TEST_DATA_DIR "/mysql/login_with_database.conv"), chunks));
        ReplayServer server(chunks);
        Engine engine(options());
        const int port = start(engine, upstream({node("127.0.0.1", server.port())}),
                               QJsonObject{{QStringLiteral("mysql_inspect"), false}});
        QVERIFY(port > 0);
        const int fd = connectTo("127.0.0.1", port);
        QVERIFY(fd >= 0);
        for (const auto& c : chunks) {
            if (c.fromClient)
                QVERIFY(sendAll(fd, c.bytes));
            else
                QCOMPARE(recvExactly(fd, c.bytes.size(), 10000), c.bytes);
        }
        ::shutdown(fd, SHUT_WR);
        QCOMPARE(waitForEnd(fd, 10000), ReadEnd::Eof);
        ::close(fd);
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 1, 5000);
        QVERIFY(!engine.snapshot().closed.constFirst().mysql->detected);
    }

    // Not MySQL: the client speaks first, the inspector gives up and the bytes pass unchanged.
    void echoStaysExact()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(options());
        QJsonObject sgSection{
            {QStringLiteral("routes"),
             QJsonObject{
                 {QStringLiteral("r"), QJsonObject{{QStringLiteral("mysql_commands"), true}}}}}};
        const int port = start(engine, upstream({node("127.0.0.1", echo.port())}), sgSection);
        QVERIFY(port > 0);
        const int fd = connectTo("127.0.0.1", port);
        QVERIFY(fd >= 0);
        const QByteArray big = pattern(2 * 1024 * 1024, 3);
        QByteArray back;
        QCOMPARE(exchange(fd, big, back, big.size(), false), ReadEnd::Data);
        QVERIFY(back == big);
        const auto c = activeOn(engine.snapshot(), "r");
        QVERIFY(c.has_value());
        QVERIFY(!c->mysql->detected);
        ::close(fd);
    }

    // A server that speaks first but not MySQL (a banner): the greeting check fails cleanly.
    void bannerStaysExact()
    {
        TestServer greet(TestServer::Greet);
        greet.setGreeting(QByteArrayLiteral("220 smtp.example ESMTP ready\r\n"));
        Engine engine(options());
        const int port = start(engine, upstream({node("127.0.0.1", greet.port())}), {});
        QVERIFY(port > 0);
        const int fd = connectTo("127.0.0.1", port);
        QVERIFY(fd >= 0);
        QCOMPARE(recvExactly(fd, greet.greeting().size()), greet.greeting());
        const auto c = activeOn(engine.snapshot(), "r");
        QVERIFY(c.has_value());
        QVERIFY(!c->mysql->detected);
        ::close(fd);
    }
};

QTEST_GUILESS_MAIN(TstEngineMysql)
#include "tst_engine_mysql.moc"
