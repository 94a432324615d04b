// The byte path of a TCP session through the engine: integrity, half-close, backpressure,
// resets, idle and connect timeouts, kill by id. Every test runs once per relay flavour
// (epoll + splice, epoll + copy, the portable poll loop).

#include "loopback.h"
#include "proxy/engine.h"
#include "proxyfixture.h"

#include <QTest>

using namespace sg;
using namespace sgtest;

class TstRelay : public QObject
{
    Q_OBJECT

private:
    EngineOptions options(int bufferSize = 64 * 1024) const
    {
        EngineOptions o = relayFlavourOptions();
        o.workers = 2;
        o.bufferSize = bufferSize;
        return o;
    }

    // One listener on 127.0.0.1 and one route "r" to `up`. Returns the proxy port.
    int start(Engine& engine, const Upstream& up)
    {
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << listenEntry("127.0.0.1", port);
        c.streamRoutes << route("r", up);
        engine.apply(c);
        const Snapshot s = engine.snapshot();
        if (s.listeners.size() != 1 || !s.listeners[0].listening)
            return -1;
        return port;
    }

    // The upstream's end of the next connection to `lfd` (-1 after timeoutMs).
    static int acceptOne(int lfd, int timeoutMs = 3000)
    {
        pollfd p{lfd, POLLIN, 0};
        if (::poll(&p, 1, timeoutMs) != 1)
            return -1;
        return ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    }

    static void resetClose(int fd)
    {
        linger l{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        ::close(fd);
    }

    static const ConnectionInfo* closedWith(const Snapshot& s, quint64 id)
    {
        for (const auto& c : s.closed)
            if (c.id == id)
                return &c;
        return nullptr;
    }

private Q_SLOTS:
    void initTestCase_data() { addRelayFlavours(); }

    void echoIntact()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(options());
        const int port = start(engine, upstream({node("127.0.0.1", echo.port())}));
        QVERIFY(port > 0);
        const int fd = connectTo("127.0.0.1", port);
        QVERIFY(fd >= 0);
        QVERIFY(sendAll(fd, "ping"));
        QCOMPARE(recvExactly(fd, 4), QByteArray("ping"));
        // 4 MiB both ways, bigger than every buffer on the path.
        const QByteArray big = pattern(4 * 1024 * 1024, 7);
        QByteArray back;
        QCOMPARE(exchange(fd, big, back, big.size(), false), ReadEnd::Data);
        QCOMPARE(back.size(), big.size());
        QVERIFY(back == big);
        QTRY_COMPARE_WITH_TIMEOUT(routeCounters(engine.snapshot(), "r").bytesDown,
                                  quint64(big.size() + 4), 5000);
        QCOMPARE(routeCounters(engine.snapshot(), "r").bytesUp, quint64(big.size() + 4));
        ::close(fd);
    }

    void halfCloseDeliversEverything()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(options());
        const int port = start(engine, upstream({node("127.0.0.1", echo.port())}));
        QVERIFY(port > 0);
        const int fd = connectTo("127.0.0.1", port);
        QVERIFY(fd >= 0);
        const QByteArray mib = pattern(1024 * 1024, 3);
        QByteArray back;
        // Client: 1 MiB then SHUT_WR; upstream echoes everything, then closes.
        QCOMPARE(exchange(fd, mib, back, -1, true), ReadEnd::Eof);
        QCOMPARE(back.size(), mib.size());
        QVERIFY(back == mib);
        ::close(fd);
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 1, 5000);
        const ConnectionInfo c = engine.snapshot().closed.constFirst();
        QCOMPARE(toString(c.closeReason), toString(CloseReason::ClientClosed));
        QCOMPARE(toString(c.closedBy), toString(ClosedBy::Client));
        QCOMPARE(toString(c.closePhase), toString(ClosePhase::Data));
        QCOMPARE(c.bytesUp, quint64(mib.size()));
        QCOMPARE(c.bytesDown, quint64(mib.size()));
    }

    void upstreamCloseReachesClient()
    {
        TestServer greeter(TestServer::Greet);
        greeter.holdMs = 50;
        Engine engine(options());
        const int port = start(engine, upstream({node("127.0.0.1", greeter.port())}));
        QVERIFY(port > 0);
        const int fd = connectTo("127.0.0.1", port);
        QVERIFY(fd >= 0);
        QByteArray got;
        QCOMPARE(waitForEnd(fd, 5000, &got), ReadEnd::Eof);
        QCOMPARE(got, QByteArray("hello\n"));
        ::close(fd);
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 1, 5000);
        const ConnectionInfo c = engine.snapshot().closed.constFirst();
        QCOMPARE(toString(c.closeReason), toString(CloseReason::UpstreamClosed));
        QCOMPARE(toString(c.closedBy), toString(ClosedBy::Upstream));
        QCOMPARE(toString(c.closePhase), toString(ClosePhase::Data));
        QCOMPARE(c.firstByteUpMs, -1); // the client never spoke
        QVERIFY(c.firstByteDownMs >= 0);
    }

    // The upstream stops reading while the client writes as fast as it can for 2 s: what the
    // session holds must stay within `bound`. With `bulkFirst`, 8 MiB flow through before the
    // upstream stops, so a splice pipe has grown toward the burst size when the stall begins.
    // Both peers in the test's hands (the upstream is a bare listening socket): after one byte
    // each way, one side ends with a FIN or a reset and the other answers. The close reason is
    // what ended the session; closedBy is the side that closed first.
    void whoClosedFirst_data()
    {
        QTest::addColumn<QString>("first");    // "client" or "upstream"
        QTest::addColumn<bool>("firstReset");  // the first side resets rather than FIN
        QTest::addColumn<bool>("secondReset"); // the other side answers the FIN with a reset
        QTest::addColumn<int>("reason");
        QTest::newRow("client FIN, upstream FIN")
            << "client" << false << false << int(CloseReason::ClientClosed);
        QTest::newRow("client FIN, upstream reset")
            << "client" << false << true << int(CloseReason::UpstreamReset);
        QTest::newRow("client reset") << "client" << true << false << int(CloseReason::ClientReset);
        QTest::newRow("upstream FIN, client FIN")
            << "upstream" << false << false << int(CloseReason::UpstreamClosed);
        QTest::newRow("upstream FIN, client reset")
            << "upstream" << false << true << int(CloseReason::ClientReset);
        QTest::newRow("upstream reset")
            << "upstream" << true << false << int(CloseReason::UpstreamReset);
    }
    void whoClosedFirst()
    {
        QFETCH(QString, first);
        QFETCH(bool, firstReset);
        QFETCH(bool, secondReset);
        QFETCH(int, reason);
        int upPort = 0;
        const int lfd = listenOn("127.0.0.1", 0, 8, &upPort);
        QVERIFY(lfd >= 0);
        Engine engine(options());
        const int port = start(engine, upstream({node("127.0.0.1", upPort)}));
        QVERIFY(port > 0);
        const int cfd = connectTo("127.0.0.1", port);
        QVERIFY(cfd >= 0);
        const int ufd = acceptOne(lfd);
        QVERIFY(ufd >= 0);
        QVERIFY(sendAll(cfd, "q"));
        QCOMPARE(recvExactly(ufd, 1), QByteArray("q"));
        QVERIFY(sendAll(ufd, "a"));
        QCOMPARE(recvExactly(cfd, 1), QByteArray("a"));

        const bool clientFirst = first == QLatin1String("client");
        const int firstFd = clientFirst ? cfd : ufd;
        const int secondFd = clientFirst ? ufd : cfd;
        if (firstReset) {
            resetClose(firstFd);
            // The other side is reset by the proxy.
            QCOMPARE(waitForEnd(secondFd, 3000), ReadEnd::Reset);
            ::close(secondFd);
        } else {
            ::shutdown(firstFd, SHUT_WR);
            QCOMPARE(waitForEnd(secondFd, 3000), ReadEnd::Eof); // the FIN went through
            if (secondReset) {
                resetClose(secondFd);
            } else {
                ::close(secondFd);
                QCOMPARE(waitForEnd(firstFd, 3000), ReadEnd::Eof);
            }
            ::close(firstFd);
        }
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 1, 5000);
        const ConnectionInfo c = engine.snapshot().closed.constFirst();
        QCOMPARE(toString(c.closeReason), toString(CloseReason(reason)));
        QCOMPARE(toString(c.closedBy), first);
        QCOMPARE(toString(c.closePhase), toString(ClosePhase::Data));
        ::close(lfd);
    }

    // The upstream answers 300 ms after the client's first byte: the timers say so, each
    // counted from the session's start; a session where nobody spoke ends before the first
    // byte.
    void firstByteTimers()
    {
        int upPort = 0;
        const int lfd = listenOn("127.0.0.1", 0, 8, &upPort);
        QVERIFY(lfd >= 0);
        Engine engine(options());
        const int port = start(engine, upstream({node("127.0.0.1", upPort)}));
        QVERIFY(port > 0);
        const qint64 t0 = nowMs();
        const int cfd = connectTo("127.0.0.1", port);
        QVERIFY(cfd >= 0);
        const int ufd = acceptOne(lfd);
        QVERIFY(ufd >= 0);
        QVERIFY(sendAll(cfd, "q"));
        QCOMPARE(recvExactly(ufd, 1), QByteArray("q"));
        const qint64 asked = nowMs() - t0;
        QByteArray none;
        QCOMPARE(readSome(ufd, none, 1, 300), ReadEnd::Timeout); // the server thinks
        QVERIFY(sendAll(ufd, "a"));
        QCOMPARE(recvExactly(cfd, 1), QByteArray("a"));
        const Snapshot open = engine.snapshot();
        QCOMPARE(open.active.size(), 1);
        const ConnectionInfo& live = open.active.constFirst();
        QVERIFY(live.firstByteUpMs >= 0);
        QTRY_VERIFY_WITH_TIMEOUT(engine.snapshot().active.constFirst().firstByteDownMs >= 0, 3000);
        ::close(cfd);
        ::close(ufd);
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 1, 5000);
        const ConnectionInfo c = engine.snapshot().closed.constFirst();
        const QString timers = QStringLiteral("connect %1, upstream start %2, up %3, down %4")
                                   .arg(c.connectMs)
                                   .arg(c.upstreamStartMs)
                                   .arg(c.firstByteUpMs)
                                   .arg(c.firstByteDownMs);
        QVERIFY2(c.connectMs >= 0 && c.connectMs <= c.firstByteDownMs, qPrintable(timers));
        QVERIFY2(c.upstreamStartMs >= 0 && c.upstreamStartMs <= asked + 50, qPrintable(timers));
        QVERIFY2(c.firstByteUpMs >= 0 && c.firstByteUpMs <= asked + 50, qPrintable(timers));
        QVERIFY2(c.firstByteDownMs >= c.firstByteUpMs + 290 && c.firstByteDownMs < 3000,
                 qPrintable(timers));

        // Connected, and closed before anybody spoke.
        const int quiet = connectTo("127.0.0.1", port);
        QVERIFY(quiet >= 0);
        const int quietUp = acceptOne(lfd);
        QVERIFY(quietUp >= 0);
        QTRY_VERIFY_WITH_TIMEOUT(!engine.snapshot().active.isEmpty() &&
                                     engine.snapshot().active.constFirst().connectMs >= 0,
                                 3000);
        ::close(quietUp);
        QCOMPARE(waitForEnd(quiet, 3000), ReadEnd::Eof);
        ::close(quiet);
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 2, 5000);
        const ConnectionInfo q = engine.snapshot().closed.constLast();
        QCOMPARE(toString(q.closePhase), toString(ClosePhase::BeforeFirstByte));
        QCOMPARE(toString(q.closedBy), toString(ClosedBy::Upstream));
        QCOMPARE(q.firstByteUpMs, -1);
        QCOMPARE(q.firstByteDownMs, -1);
        ::close(lfd);
    }

    void checkBackpressure(const EngineOptions& o, quint64 bound, bool bulkFirst)
    {
        TestServer sink(TestServer::Sink);
        sink.paused = !bulkFirst;
        Engine engine(o);
        const int port = start(engine, upstream({node("127.0.0.1", sink.port())}));
        QVERIFY(port > 0);
        const int fd = connectTo("127.0.0.1", port);
        QVERIFY(fd >= 0);
        QTRY_VERIFY_WITH_TIMEOUT(
            activeOn(engine.snapshot(), "r").value_or(ConnectionInfo{}).state ==
                ConnectionState::Established,
            5000);

        const QByteArray chunk = pattern(64 * 1024, 5);
        qint64 written = 0;
        if (bulkFirst) {
            const QByteArray bulk = pattern(8 * 1024 * 1024, 6);
            QVERIFY(sendAll(fd, bulk));
            written = bulk.size();
            QTRY_COMPARE_WITH_TIMEOUT(sink.bytesIn.load(), written, 10000);
            sink.paused = true;
        }
        // A second of writing fills the kernel's buffers on both sides many times over.
        quint64 maxHeld = 0;
        const qint64 end = nowMs() + 1000;
        while (nowMs() < end) {
            const ssize_t n = ::send(fd, chunk.constData(), size_t(chunk.size()), MSG_NOSIGNAL);
            if (n > 0)
                written += n;
            else {
                pollfd p{fd, POLLOUT, 0};
                ::poll(&p, 1, 50);
            }
            if (const auto c = activeOn(engine.snapshot(), "r"))
                maxHeld = qMax(maxHeld, c->buffered);
        }
        QVERIFY2(maxHeld <= bound,
                 qPrintable(QStringLiteral("session held %1 bytes").arg(maxHeld)));
        QVERIFY2(maxHeld > 0,
                 "the proxy never reported bytes in flight while the upstream stalled");
        QVERIFY(written > 0);

        // Once the upstream reads again, every byte written arrives.
        sink.paused = false;
        sink.wake();
        ::shutdown(fd, SHUT_WR);
        QTRY_COMPARE_WITH_TIMEOUT(sink.bytesIn.load(), written, 10000);
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 1, 5000);
        QCOMPARE(engine.snapshot().closed.constFirst().bytesUp, quint64(written));
        ::close(fd);
    }

    void backpressureBoundsTheSession()
    {
        const int cap = 16 * 1024;
        EngineOptions o = options(cap);
        o.burstBufferSize = cap; // no growth: the buffer size is the bound
        checkBackpressure(o, 2 * cap, false);
    }

    void burstGrowthIsBounded()
    {
        // A pipe grown by a bulk transfer may hold up to the burst size when the upstream
        // stalls, never more.
        const int cap = 16 * 1024;
        const int burst = 64 * 1024;
        EngineOptions o = options(cap);
        o.burstBufferSize = burst;
        checkBackpressure(o, 2 * burst, true);
    }

    // Short reads end a read burst without waiting for EAGAIN; bytes followed at once by a FIN
    // must still reach the other side with the FIN, in both directions, on every connection.
    void shortMessageThenFin()
    {
        TestServer greeter(TestServer::Greet);
        greeter.holdMs = 0; // greeting and FIN back to back
        TestServer echo(TestServer::Echo);
        Engine engine(options());
        const int port = freePort();
        const int echoPort = freePort();
        Config c;
        c.streamProxy.tcp << listenEntry("127.0.0.1", port) << listenEntry("127.0.0.1", echoPort);
        StreamRoute greet = route("g", upstream({node("127.0.0.1", greeter.port())}));
        greet.serverPort = port;
        StreamRoute back = route("e", upstream({node("127.0.0.1", echo.port())}));
        back.serverPort = echoPort;
        c.streamRoutes << greet << back;
        engine.apply(c);
        for (int i = 0; i < 40; ++i) {
            const int g = connectTo("127.0.0.1", port);
            QVERIFY(g >= 0);
            QByteArray got;
            QCOMPARE(waitForEnd(g, 5000, &got), ReadEnd::Eof);
            QCOMPARE(got, QByteArray("hello\n"));
            ::close(g);

            const int e = connectTo("127.0.0.1", echoPort);
            QVERIFY(e >= 0);
            const QByteArray ping = "ping " + QByteArray::number(i);
            QVERIFY(sendAll(e, ping));
            ::shutdown(e, SHUT_WR);
            got.clear();
            QCOMPARE(waitForEnd(e, 5000, &got), ReadEnd::Eof);
            QCOMPARE(got, ping);
            ::close(e);
        }
    }

    void clientResetIsPropagated()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(options());
        const int port = start(engine, upstream({node("127.0.0.1", echo.port())}));
        QVERIFY(port > 0);
        const int fd = connectTo("127.0.0.1", port);
        QVERIFY(fd >= 0);
        QVERIFY(sendAll(fd, "x"));
        QCOMPARE(recvExactly(fd, 1), QByteArray("x"));
        linger l{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        ::close(fd);
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 1, 5000);
        QCOMPARE(toString(engine.snapshot().closed.constFirst().closeReason),
                 toString(CloseReason::ClientReset));
        QCOMPARE(toString(engine.snapshot().closed.constFirst().closedBy),
                 toString(ClosedBy::Client));
        QTRY_COMPARE_WITH_TIMEOUT(echo.open.load(), 0, 5000);
    }

    void idleTimeoutCloses()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(options());
        Upstream up = upstream({node("127.0.0.1", echo.port())});
        up.timeout = Timeout{5, 0.3, 0.3};
        const int port = start(engine, up);
        QVERIFY(port > 0);
        const int fd = connectTo("127.0.0.1", port);
        QVERIFY(fd >= 0);
        QVERIFY(sendAll(fd, "abc"));
        QCOMPARE(recvExactly(fd, 3), QByteArray("abc"));
        const qint64 t0 = nowMs();
        QCOMPARE(waitForEnd(fd, 5000), ReadEnd::Eof);
        const qint64 waited = nowMs() - t0;
        QVERIFY2(waited >= 200, qPrintable(QString::number(waited)));
        ::close(fd);
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 1, 5000);
        const ConnectionInfo c = engine.snapshot().closed.constFirst();
        QCOMPARE(toString(c.closeReason), toString(CloseReason::IdleTimeout));
        QCOMPARE(toString(c.closedBy), toString(ClosedBy::Proxy));
        QCOMPARE(toString(c.closePhase), toString(ClosePhase::Data));
        QCOMPARE(routeCounters(engine.snapshot(), "r").timeouts, quint64(1));
    }

    void activeSessionIsNotIdle()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(options());
        Upstream up = upstream({node("127.0.0.1", echo.port())});
        up.timeout = Timeout{5, 1.0, 1.0};
        const int port = start(engine, up);
        QVERIFY(port > 0);
        const int fd = connectTo("127.0.0.1", port);
        QVERIFY(fd >= 0);
        // Traffic every 100 ms for 1.5 s: past the idle timeout, never idle.
        for (int i = 0; i < 15; ++i) {
            QVERIFY(sendAll(fd, "k"));
            QCOMPARE(recvExactly(fd, 1, 2000), QByteArray("k"));
            QByteArray none;
            QCOMPARE(readSome(fd, none, 1, 100), ReadEnd::Timeout);
        }
        QCOMPARE(engine.snapshot().active.size(), 1);
        ::close(fd);
    }

    void sparseUploadIsNotIdle()
    {
        // One-way traffic with gaps shorter than the timeout but longer than the worker sleeps
        // between events: the idle clock must start when the bytes moved, not when the worker
        // last woke before they arrived.
        TestServer sink(TestServer::Sink);
        Engine engine(options());
        Upstream up = upstream({node("127.0.0.1", sink.port())});
        up.timeout = Timeout{5, 1.0, 1.0};
        const int port = start(engine, up);
        QVERIFY(port > 0);
        const int fd = connectTo("127.0.0.1", port);
        QVERIFY(fd >= 0);
        for (int i = 0; i < 3; ++i) {
            QVERIFY(sendAll(fd, "k"));
            QByteArray none;
            QCOMPARE(readSome(fd, none, 1, 700), ReadEnd::Timeout);
        }
        QCOMPARE(engine.snapshot().active.size(), 1);
        ::close(fd);
    }

    void connectTimeoutFails()
    {
        // A listener with backlog 0 whose queue is full: further SYNs go unanswered.
        int deadPort = 0;
        const int lfd = listenOn("127.0.0.1", 0, 0, &deadPort);
        QVERIFY(lfd >= 0);
        std::vector<int> fillers;
        for (int i = 0; i < 8; ++i) {
            const int f = connectTo("127.0.0.1", deadPort, {}, 150);
            if (f < 0)
                break;
            fillers.push_back(f);
        }
        QVERIFY(!fillers.empty());

        Engine engine(options());
        Upstream up = upstream({node("127.0.0.1", deadPort)});
        up.timeout = Timeout{0.3, 600, 600};
        up.retries = 0;
        const int port = start(engine, up);
        QVERIFY(port > 0);
        const qint64 t0 = nowMs();
        const int fd = connectTo("127.0.0.1", port);
        QVERIFY(fd >= 0);
        const ReadEnd end = waitForEnd(fd, 5000);
        QVERIFY(end == ReadEnd::Eof || end == ReadEnd::Reset);
        const qint64 waited = nowMs() - t0;
        QVERIFY2(waited >= 250 && waited < 3000, qPrintable(QString::number(waited)));
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 1, 5000);
        const ConnectionInfo c = engine.snapshot().closed.constFirst();
        QCOMPARE(toString(c.closeReason), toString(CloseReason::ConnectFailed));
        QCOMPARE(toString(c.closedBy), toString(ClosedBy::Upstream));
        QCOMPARE(toString(c.closePhase), toString(ClosePhase::Connect));
        QCOMPARE(c.connectMs, -1);
        QCOMPARE(c.firstByteDownMs, -1);
        const RouteCounters rc = routeCounters(engine.snapshot(), "r");
        QCOMPARE(rc.connectFailures, quint64(1));
        QCOMPARE(rc.timeouts, quint64(1));
        ::close(fd);
        for (int f : fillers)
            ::close(f);
        ::close(lfd);
    }

    void killByIdClosesBothSides()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(options());
        const int port = start(engine, upstream({node("127.0.0.1", echo.port())}));
        QVERIFY(port > 0);
        const int fd = connectTo("127.0.0.1", port);
        QVERIFY(fd >= 0);
        QVERIFY(sendAll(fd, "x"));
        QCOMPARE(recvExactly(fd, 1), QByteArray("x"));
        const Snapshot s = engine.snapshot();
        QCOMPARE(s.active.size(), 1);
        const quint64 id = s.active.constFirst().id;
        QVERIFY(!engine.killConnection(id + 1000));
        QVERIFY(engine.killConnection(id));
        QCOMPARE(waitForEnd(fd, 5000), ReadEnd::Eof);
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 1, 5000);
        const ConnectionInfo c = engine.snapshot().closed.constFirst();
        QCOMPARE(toString(c.closeReason), toString(CloseReason::Killed));
        QCOMPARE(toString(c.closedBy), toString(ClosedBy::Proxy));
        QCOMPARE(toString(c.closePhase), toString(ClosePhase::Data));
        QCOMPARE(engine.snapshot().active.size(), 0);
        QTRY_COMPARE_WITH_TIMEOUT(echo.open.load(), 0, 5000);
        ::close(fd);
    }
};

QTEST_GUILESS_MAIN(TstRelay)
#include "tst_relay.moc"
