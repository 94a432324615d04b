// What an operator does to open connections (Engine::resetConnection, killConnection,
// pauseConnection, resumeConnection and their per-client forms), checked on real sockets: a reset
// reaches both peers as ECONNRESET, a close as EOF; a pause holds a round trip until it ends
// (flow control, nothing read meanwhile) and a resume ends it early; the per-client forms touch
// every connection of that address on every route and nothing of another address. UDP: a pause
// drops the session's datagrams, a reset ends the session.

#include "loopback.h"
#include "proxy/engine.h"
#include "proxyfixture.h"
#include "udppeers.h"

#include <QTest>

using namespace sg;
using namespace sgtest;

namespace {

// Accepts the proxy's connection to a bare upstream listener (non-blocking), or -1.
int acceptWithin(int listenFd, int timeoutMs = 5000)
{
    pollfd p{listenFd, POLLIN, 0};
    if (::poll(&p, 1, timeoutMs) != 1)
        return -1;
    return ::accept4(listenFd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

// Milliseconds for `bytes` to go out and come back through an echo, or -1 after timeoutMs.
qint64 roundTrip(int fd, int timeoutMs = 5000, const QByteArray& bytes = "ping")
{
    const qint64 start = nowMs();
    if (!sendAll(fd, bytes))
        return -1;
    return recvExactly(fd, bytes.size(), timeoutMs) == bytes ? nowMs() - start : -1;
}

// The open connection of the client socket fd.
std::optional<ConnectionInfo> connectionOf(const Engine& engine, int clientFd)
{
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    ::getsockname(clientFd, reinterpret_cast<sockaddr*>(&a), &len);
    const quint16 port = ntohs(reinterpret_cast<sockaddr_in&>(a).sin_port);
    for (const ConnectionInfo& c : engine.snapshot().active)
        if (c.clientPort == port)
            return c;
    return std::nullopt;
}

std::optional<ConnectionInfo> closedWithId(const Engine& engine, quint64 id)
{
    for (const ConnectionInfo& c : engine.snapshot().closed)
        if (c.id == id)
            return c;
    return std::nullopt;
}

qint64 pausedUntil(const Engine& engine, quint64 id)
{
    for (const ConnectionInfo& c : engine.snapshot().active)
        if (c.id == id)
            return c.pausedUntilMs;
    return -1; // not open
}

} // namespace

class TestConnectionActions : public QObject
{
    Q_OBJECT

    // Listener port -> route id, each route to `upstreamPort`.
    Config tcpConfig(const QList<QPair<int, QString>>& routes, int upstreamPort,
                     double idleSeconds = 60)
    {
        Config c;
        for (const auto& [port, id] : routes) {
            c.streamProxy.tcp << listenEntry("127.0.0.1", port);
            StreamRoute r = route(id, upstream({node("127.0.0.1", upstreamPort)}));
            r.serverPort = port;
            r.upstream->timeout = Timeout{5, idleSeconds, idleSeconds};
            c.streamRoutes << r;
        }
        return c;
    }
    EngineOptions options() const
    {
        EngineOptions o = relayFlavourOptions();
        o.workers = 2;
        return o;
    }
    // A connection through `port` from `from` whose session is established (a round trip went
    // through the echo), and its id.
    int echoConnection(const Engine& engine, int port, quint64* id,
                       const QString& from = QStringLiteral("127.0.0.1"))
    {
        const int fd = connectTo("127.0.0.1", port, from);
        if (fd < 0 || roundTrip(fd) < 0)
            return -1;
        const auto c = connectionOf(engine, fd);
        if (!c)
            return -1;
        *id = c->id;
        return fd;
    }

private Q_SLOTS:
    void initTestCase_data() { addRelayFlavours(); }

    void resetGivesBothPeersConnectionReset()
    {
        int upstreamPort = 0;
        const int listenFd = listenOn("127.0.0.1", 0, 16, &upstreamPort);
        QVERIFY(listenFd >= 0);
        Engine engine(options());
        const int port = freePort();
        engine.apply(tcpConfig({{port, "r"}}, upstreamPort));
        const int client = connectTo("127.0.0.1", port);
        QVERIFY(client >= 0);
        const int server = acceptWithin(listenFd);
        QVERIFY(server >= 0);
        QVERIFY(sendAll(client, "up"));
        QCOMPARE(recvExactly(server, 2), QByteArray("up"));
        QVERIFY(sendAll(server, "down"));
        QCOMPARE(recvExactly(client, 4), QByteArray("down"));
        const auto c = connectionOf(engine, client);
        QVERIFY(c);

        QVERIFY(engine.resetConnection(c->id));
        QCOMPARE(waitForEnd(client, 5000), ReadEnd::Reset);
        QCOMPARE(waitForEnd(server, 5000), ReadEnd::Reset);
        // The closed history and the event log say who ended it.
        std::optional<ConnectionInfo> closed;
        QTRY_VERIFY_WITH_TIMEOUT((closed = closedWithId(engine, c->id)).has_value(), 5000);
        QCOMPARE(toString(closed->closeReason), toString(CloseReason::OperatorReset));
        QCOMPARE(toString(closed->closeReason), QStringLiteral("reset by operator"));
        bool logged = false;
        for (const Event& e : engine.eventsSince(0, 100000))
            logged |= e.kind == EventKind::Close && e.connection.id == c->id &&
                      e.connection.closeReason == CloseReason::OperatorReset;
        QVERIFY(logged);
        // Gone now: a second reset finds nothing.
        QVERIFY(!engine.resetConnection(c->id));
        ::close(client);
        ::close(server);
        ::close(listenFd);
    }

    void closeGivesBothPeersEof()
    {
        int upstreamPort = 0;
        const int listenFd = listenOn("127.0.0.1", 0, 16, &upstreamPort);
        QVERIFY(listenFd >= 0);
        Engine engine(options());
        const int port = freePort();
        engine.apply(tcpConfig({{port, "r"}}, upstreamPort));
        const int client = connectTo("127.0.0.1", port);
        QVERIFY(client >= 0);
        const int server = acceptWithin(listenFd);
        QVERIFY(server >= 0);
        QVERIFY(sendAll(client, "up"));
        QCOMPARE(recvExactly(server, 2), QByteArray("up"));
        const auto c = connectionOf(engine, client);
        QVERIFY(c);

        QVERIFY(engine.killConnection(c->id));
        QCOMPARE(waitForEnd(client, 5000), ReadEnd::Eof);
        QCOMPARE(waitForEnd(server, 5000), ReadEnd::Eof);
        std::optional<ConnectionInfo> closed;
        QTRY_VERIFY_WITH_TIMEOUT((closed = closedWithId(engine, c->id)).has_value(), 5000);
        QCOMPARE(toString(closed->closeReason), toString(CloseReason::Killed));
        ::close(client);
        ::close(server);
        ::close(listenFd);
    }

    void unknownConnectionIsRefused()
    {
        Engine engine(options());
        QVERIFY(!engine.resetConnection(987654));
        QVERIFY(!engine.killConnection(987654));
        QVERIFY(!engine.pauseConnection(987654, 1000));
        QVERIFY(!engine.resumeConnection(987654));
        QCOMPARE(engine.resetClient(QHostAddress("127.0.0.2")), 0);
    }

    void pauseHoldsARoundTripUntilItEnds()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(options());
        const int port = freePort();
        engine.apply(tcpConfig({{port, "r"}}, echo.port()));
        quint64 id = 0;
        const int fd = echoConnection(engine, port, &id);
        QVERIFY(fd >= 0);
        const qint64 plain = roundTrip(fd);
        QVERIFY2(plain >= 0 && plain < 200, qPrintable(QString::number(plain)));

        const qint64 wallBefore = QDateTime::currentMSecsSinceEpoch();
        QVERIFY(engine.pauseConnection(id, 500));
        // The table can show it: paused until about half a second from now.
        QTRY_VERIFY_WITH_TIMEOUT(pausedUntil(engine, id) > 0, 2000);
        const qint64 until = pausedUntil(engine, id);
        QVERIFY2(until >= wallBefore + 400 && until <= wallBefore + 1500,
                 qPrintable(QString::number(until - wallBefore)));

        // Nothing is read meanwhile: the bytes wait in the kernel, the counters do not move.
        const quint64 upBefore = connectionOf(engine, fd)->bytesUp;
        const qint64 held = roundTrip(fd, 5000, "held");
        QVERIFY2(held >= 400 && held < 3000, qPrintable(QString::number(held)));
        qInfo("round trip sent during a 500 ms pause: %lld ms (%lld ms after the pause began)",
              held, QDateTime::currentMSecsSinceEpoch() - wallBefore);
        QVERIFY(connectionOf(engine, fd)->bytesUp >= upBefore + 4);
        QTRY_COMPARE_WITH_TIMEOUT(pausedUntil(engine, id), 0, 2000);
        const qint64 after = roundTrip(fd);
        QVERIFY2(after >= 0 && after < 200, qPrintable(QString::number(after)));
        // Paused and resumed are in the event log.
        int notes = 0;
        for (const Event& e : engine.eventsSince(0, 100000))
            if (e.kind == EventKind::Info && e.connection.id == id &&
                (e.text.contains("paused") || e.text.contains("resumed")))
                ++notes;
        QCOMPARE(notes, 2);
        ::close(fd);
    }

    void bytesWaitInTheKernelWhilePaused()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(options());
        const int port = freePort();
        engine.apply(tcpConfig({{port, "r"}}, echo.port()));
        quint64 id = 0;
        const int fd = echoConnection(engine, port, &id);
        QVERIFY(fd >= 0);
        QVERIFY(engine.pauseConnection(id, 10000));
        QTRY_VERIFY_WITH_TIMEOUT(pausedUntil(engine, id) > 0, 2000);
        const quint64 upBefore = connectionOf(engine, fd)->bytesUp;
        QVERIFY(sendAll(fd, "waiting"));
        QByteArray got;
        QCOMPARE(readSome(fd, got, 1, 300), ReadEnd::Timeout);
        QCOMPARE(connectionOf(engine, fd)->bytesUp, upBefore);
        QCOMPARE(connectionOf(engine, fd)->buffered, quint64(0));
        ::close(fd);
    }

    void resumeEndsThePauseEarly()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(options());
        const int port = freePort();
        engine.apply(tcpConfig({{port, "r"}}, echo.port()));
        quint64 id = 0;
        const int fd = echoConnection(engine, port, &id);
        QVERIFY(fd >= 0);
        QVERIFY(engine.pauseConnection(id, 10000));
        QTRY_VERIFY_WITH_TIMEOUT(pausedUntil(engine, id) > 0, 2000);
        QVERIFY(sendAll(fd, "early"));
        QByteArray got;
        QCOMPARE(readSome(fd, got, 5, 300), ReadEnd::Timeout);
        QVERIFY(got.isEmpty());
        const qint64 start = nowMs();
        QVERIFY(engine.resumeConnection(id));
        QCOMPARE(readSome(fd, got, 5, 5000), ReadEnd::Data);
        QCOMPARE(got, QByteArray("early"));
        const qint64 took = nowMs() - start;
        QVERIFY2(took < 1000, qPrintable(QString::number(took)));
        qInfo("bytes held by a pause came back %lld ms after resume", took);
        QTRY_COMPARE_WITH_TIMEOUT(pausedUntil(engine, id), 0, 2000);
        // Resuming a connection that is not paused changes nothing.
        QVERIFY(engine.resumeConnection(id));
        const qint64 plain = roundTrip(fd);
        QVERIFY2(plain >= 0 && plain < 200, qPrintable(QString::number(plain)));
        ::close(fd);
    }

    void secondPauseExtends()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(options());
        const int port = freePort();
        engine.apply(tcpConfig({{port, "r"}}, echo.port()));
        quint64 id = 0;
        const int fd = echoConnection(engine, port, &id);
        QVERIFY(fd >= 0);
        // A longer second pause moves the end; a shorter third one does not bring it forward.
        QVERIFY(engine.pauseConnection(id, 300));
        QVERIFY(engine.pauseConnection(id, 900));
        QVERIFY(engine.pauseConnection(id, 100));
        QTRY_VERIFY_WITH_TIMEOUT(pausedUntil(engine, id) > 0, 2000);
        const qint64 held = roundTrip(fd);
        QVERIFY2(held >= 750 && held < 3500, qPrintable(QString::number(held)));
        ::close(fd);
    }

    // The route's idle timeout (0.5 s) is shorter than the pause: the pause is not idleness.
    void pauseOutlastsTheIdleTimeout()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(options());
        const int port = freePort();
        engine.apply(tcpConfig({{port, "r"}}, echo.port(), 0.5));
        quint64 id = 0;
        const int fd = echoConnection(engine, port, &id);
        QVERIFY(fd >= 0);
        QVERIFY(engine.pauseConnection(id, 1000));
        QTRY_VERIFY_WITH_TIMEOUT(pausedUntil(engine, id) > 0, 2000);
        const qint64 held = roundTrip(fd);
        QVERIFY2(held >= 850 && held < 3500, qPrintable(QString::number(held)));
        // And once it has ended, the timeout applies again.
        QCOMPARE(waitForEnd(fd, 5000), ReadEnd::Eof);
        ::close(fd);
    }

    void clientWideActionsTouchOnlyThatClient()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(options());
        const int portA = freePort();
        const int portB = freePort();
        engine.apply(tcpConfig({{portA, "a"}, {portB, "b"}}, echo.port()));
        // Two connections from each client, one on each route.
        quint64 ids[4] = {};
        int fds[4];
        const QString from[4] = {"127.0.0.2", "127.0.0.2", "127.0.0.3", "127.0.0.3"};
        const int ports[4] = {portA, portB, portA, portB};
        for (int i = 0; i < 4; ++i) {
            fds[i] = echoConnection(engine, ports[i], &ids[i], from[i]);
            QVERIFY(fds[i] >= 0);
        }

        QCOMPARE(engine.pauseClient(QHostAddress("127.0.0.2"), 500), 2);
        QTRY_VERIFY_WITH_TIMEOUT(pausedUntil(engine, ids[0]) > 0 && pausedUntil(engine, ids[1]) > 0,
                                 2000);
        QCOMPARE(pausedUntil(engine, ids[2]), 0);
        QCOMPARE(pausedUntil(engine, ids[3]), 0);
        for (int i = 2; i < 4; ++i) {
            const qint64 t = roundTrip(fds[i]);
            QVERIFY2(t >= 0 && t < 200, qPrintable(QString::number(t)));
        }
        for (int i = 0; i < 2; ++i) {
            const qint64 t = roundTrip(fds[i]);
            // The second one may have waited out part of its pause during the first.
            QVERIFY2(t >= 0 && t < 3000, qPrintable(QString::number(t)));
        }

        // Pause and resume by client: the other client is untouched.
        QCOMPARE(engine.pauseClient(QHostAddress("127.0.0.3"), 10000), 2);
        QTRY_VERIFY_WITH_TIMEOUT(pausedUntil(engine, ids[2]) > 0 && pausedUntil(engine, ids[3]) > 0,
                                 2000);
        QCOMPARE(pausedUntil(engine, ids[0]), 0);
        QCOMPARE(engine.resumeClient(QHostAddress("127.0.0.3")), 2);
        for (int i = 0; i < 4; ++i) {
            const qint64 t = roundTrip(fds[i]);
            QVERIFY2(t >= 0 && t < 500, qPrintable(QString::number(t)));
        }

        // An IPv4-mapped address means the same client.
        QCOMPARE(engine.resetClient(QHostAddress("::ffff:127.0.0.2")), 2);
        QCOMPARE(waitForEnd(fds[0], 5000), ReadEnd::Reset);
        QCOMPARE(waitForEnd(fds[1], 5000), ReadEnd::Reset);
        for (int i = 2; i < 4; ++i) {
            const qint64 t = roundTrip(fds[i]);
            QVERIFY2(t >= 0 && t < 200, qPrintable(QString::number(t)));
        }
        QCOMPARE(engine.killClient(QHostAddress("127.0.0.3")), 2);
        QCOMPARE(waitForEnd(fds[2], 5000), ReadEnd::Eof);
        QCOMPARE(waitForEnd(fds[3], 5000), ReadEnd::Eof);
        QCOMPARE(engine.killClient(QHostAddress("127.0.0.3")) +
                     engine.resetClient(QHostAddress("127.0.0.2")),
                 0);
        for (int fd : fds)
            ::close(fd);
    }

    void udpPauseDropsAndResetEnds()
    {
        UdpEcho echo;
        Engine engine(options());
        const int port = freeUdpPort();
        Config c;
        c.streamProxy.udp << listenEntry("127.0.0.1", port);
        c.streamRoutes << route("u", upstream({node("127.0.0.1", echo.port())}));
        engine.apply(c);
        UdpClient client("127.0.0.1", port, "127.0.0.2");
        QVERIFY(client.valid());
        QCOMPARE(client.ask("one").value_or("<nothing>"), QByteArray("one"));
        const auto session = activeOn(engine.snapshot(), "u");
        QVERIFY(session);

        QCOMPARE(engine.pauseClient(QHostAddress("127.0.0.2"), 600), 1);
        QTRY_VERIFY_WITH_TIMEOUT(pausedUntil(engine, session->id) > 0, 2000);
        const int before = echo.received.load();
        QVERIFY(!client.ask("lost", 300));
        QCOMPARE(echo.received.load(), before); // dropped on the way up
        QTRY_COMPARE_WITH_TIMEOUT(pausedUntil(engine, session->id), 0, 3000);
        QCOMPARE(client.ask("two").value_or("<nothing>"), QByteArray("two"));
        QCOMPARE(activeOn(engine.snapshot(), "u")->id, session->id); // the same session

        QVERIFY(engine.resetConnection(session->id));
        std::optional<ConnectionInfo> closed;
        QTRY_VERIFY_WITH_TIMEOUT((closed = closedWithId(engine, session->id)).has_value(), 5000);
        QCOMPARE(toString(closed->closeReason), toString(CloseReason::OperatorReset));
        // The client's next datagram opens a new session.
        QCOMPARE(client.ask("three").value_or("<nothing>"), QByteArray("three"));
        const auto next = activeOn(engine.snapshot(), "u");
        QVERIFY(next);
        QVERIFY(next->id != session->id);
    }
};

QTEST_GUILESS_MAIN(TestConnectionActions)
#include "tst_connectionactions.moc"
