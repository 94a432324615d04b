// The UDP stream proxy through real loopback sockets: sessions per (client ip, port, listener),
// allow-lists and refused clients, replies that never cross between clients, datagram size,
// idle expiry (sooner while the upstream has not answered), upstream errors, kill, the per-route
// session cap and one host's share of it, limit-conn, bind errors, port ranges, live
// edits, and a real DNS client and server (dig against dnsmasq) through the proxy.

#include "loopback.h"
#include "proxy/engine.h"
#include "proxyfixture.h"
#include "udppeers.h"

#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <csignal>
#include <memory>
#include <pwd.h>

using namespace sg;
using namespace sgtest;

namespace {

EngineOptions smallEngine()
{
    EngineOptions o;
    o.workers = 2;
    return o;
}

StreamRoute udpRoute(const QString& id, int upstreamPort, const QStringList& whitelist = {})
{
    StreamRoute r = route(id, upstream({node("127.0.0.1", upstreamPort)}));
    if (!whitelist.isEmpty()) {
        IpRestrictionConf ip;
        ip.whitelist = whitelist;
        r.plugins.ipRestriction = ip;
    }
    return r;
}

Config udpConfig(int listenPort, const QList<StreamRoute>& routes)
{
    Config c;
    c.streamProxy.udp << listenEntry("127.0.0.1", listenPort);
    c.streamRoutes = routes;
    return c;
}

int countEvents(const Engine& engine, EventKind kind, CloseReason reason)
{
    int n = 0;
    for (const Event& e : engine.eventsSince(0, 100000))
        if (e.kind == kind && e.connection.closeReason == reason)
            ++n;
    return n;
}

// SIGTERM to the child's own PID (never 0: QProcess reports 0 once the child is gone).
void stopByPid(QProcess& p)
{
    const qint64 pid = p.processId();
    if (p.state() != QProcess::NotRunning && pid > 0)
        ::kill(pid_t(pid), SIGTERM);
    if (!p.waitForFinished(5000) && pid > 0 && p.state() != QProcess::NotRunning)
        ::kill(pid_t(pid), SIGKILL);
    p.waitForFinished(2000);
}

std::optional<ConnectionInfo> closedWith(const Snapshot& s, CloseReason reason)
{
    for (const ConnectionInfo& c : s.closed)
        if (c.closeReason == reason && c.protocol == Protocol::Udp)
            return c;
    return std::nullopt;
}

} // namespace

class TstUdp : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void echoThroughProxy()
    {
        UdpEcho echo;
        Engine engine(smallEngine());
        const int port = freeUdpPort();
        engine.apply(udpConfig(port, {udpRoute("dns", echo.port(), {"127.0.0.1"})}));

        const Snapshot before = engine.snapshot();
        QCOMPARE(before.listeners.size(), 1);
        QVERIFY(before.listeners[0].protocol == Protocol::Udp);
        QVERIFY(before.listeners[0].listening);
        QCOMPARE(before.listeners[0].port, port);

        UdpClient client("127.0.0.1", port);
        QVERIFY(client.valid());
        for (int i = 0; i < 3; ++i) {
            const QByteArray msg = "hello " + QByteArray::number(i);
            QCOMPARE(client.ask(msg).value_or("<nothing>"), msg);
        }
        QCOMPARE(echo.received.load(), 3);
        QCOMPARE(echo.peerCount(), 1); // one session, one upstream socket

        QTRY_VERIFY_WITH_TIMEOUT(activeOn(engine.snapshot(), "dns") &&
                                     activeOn(engine.snapshot(), "dns")->datagramsDown == 3,
                                 3000);
        const Snapshot s = engine.snapshot();
        const auto c = activeOn(s, "dns");
        QVERIFY(c->protocol == Protocol::Udp);
        QCOMPARE(c->clientAddress, QHostAddress("127.0.0.1"));
        QCOMPARE(int(c->clientPort), client.port());
        QCOMPARE(c->localAddress, QHostAddress("127.0.0.1"));
        QCOMPARE(int(c->localPort), port);
        QCOMPARE(c->upstreamNode, QStringLiteral("127.0.0.1:%1").arg(echo.port()));
        QVERIFY(c->state == ConnectionState::Established);
        QCOMPARE(c->datagramsUp, quint64(3));
        QCOMPARE(c->bytesUp, quint64(3 * 7));
        QCOMPARE(c->bytesDown, quint64(3 * 7));
        const RouteCounters rc = routeCounters(s, "dns");
        QCOMPARE(rc.total, quint64(1));
        QCOMPARE(rc.active, quint64(1));
        QCOMPARE(rc.bytesUp, quint64(21));
        QCOMPARE(rc.bytesDown, quint64(21));
        QCOMPARE(s.listeners[0].active, quint64(1));
        QCOMPARE(s.listeners[0].bytesUp, quint64(21));
    }

    void refusedClientIsDroppedAndCountedOnce()
    {
        UdpEcho echo;
        Engine engine(smallEngine());
        const int port = freeUdpPort();
        engine.apply(udpConfig(port, {udpRoute("r", echo.port(), {"127.0.0.1"})}));

        UdpClient refused("127.0.0.1", port, QStringLiteral("127.0.0.2"));
        UdpClient allowed("127.0.0.1", port);
        const int kDatagrams = 50;
        for (int i = 0; i < kDatagrams; ++i)
            QVERIFY(refused.send(QByteArray(100, 'x')));
        // The listener handles datagrams in arrival order: once this one is answered, every
        // refused datagram before it has been seen.
        QCOMPARE(allowed.ask("barrier").value_or("<nothing>"), QByteArray("barrier"));
        QCOMPARE(echo.received.load(), 1); // nothing from 127.0.0.2 reached the upstream
        QVERIFY(!refused.receive(50).has_value());

        const Snapshot s = engine.snapshot();
        const RouteCounters rc = routeCounters(s, "r");
        QCOMPARE(rc.deniedIpRestriction, quint64(1)); // one refused client
        QCOMPARE(rc.deniedDatagrams, quint64(kDatagrams));
        QCOMPARE(rc.deniedBytes, quint64(kDatagrams * 100));
        QCOMPARE(rc.total, quint64(1));
        QCOMPARE(countEvents(engine, EventKind::Deny, CloseReason::DeniedIpRestriction), 1);
        QCOMPARE(s.denied.size(), 1);
        QCOMPARE(s.denied[0].clientIp, QStringLiteral("127.0.0.2"));
        QCOMPARE(s.denied[0].routeId, QStringLiteral("r"));
        QCOMPARE(s.denied[0].count, quint64(1));
        for (const ConnectionInfo& c : s.active)
            QVERIFY(c.clientAddress != QHostAddress("127.0.0.2"));

        // An allow-list edit applies to the refused client's next datagram.
        engine.apply(udpConfig(port, {udpRoute("r", echo.port(), {"127.0.0.1", "127.0.0.2"})}));
        QCOMPARE(refused.ask("now").value_or("<nothing>"), QByteArray("now"));
        QCOMPARE(echo.received.load(), 2);
    }

    void noRouteIsCountedOnTheListener()
    {
        UdpEcho echo;
        Engine engine(smallEngine());
        const int port = freeUdpPort();
        StreamRoute r = udpRoute("only-2", echo.port());
        r.remoteAddr = "127.0.0.2";
        engine.apply(udpConfig(port, {r}));
        UdpClient stranger("127.0.0.1", port, QStringLiteral("127.0.0.3"));
        UdpClient known("127.0.0.1", port, QStringLiteral("127.0.0.2"));
        for (int i = 0; i < 10; ++i)
            QVERIFY(stranger.send("?"));
        QCOMPARE(known.ask("ok").value_or("<nothing>"), QByteArray("ok"));
        const Snapshot s = engine.snapshot();
        QCOMPARE(s.listeners[0].noRoute, quint64(1));
        QCOMPARE(countEvents(engine, EventKind::Deny, CloseReason::NoRoute), 1);
        QCOMPARE(echo.received.load(), 1);
    }

    void twoClientsGetOnlyTheirOwnReplies()
    {
        UdpEcho echo;
        Engine engine(smallEngine());
        const int port = freeUdpPort();
        engine.apply(udpConfig(port, {udpRoute("r", echo.port())}));

        const int kCount = 1000;
        std::atomic<int> good[2] = {0, 0};
        std::atomic<int> crossed{0};
        std::atomic<int> lost{0};
        auto run = [&](int who, const QString& bindHost) {
            UdpClient client("127.0.0.1", port, bindHost);
            for (int i = 0; i < kCount; ++i) {
                const QByteArray msg = "client" + QByteArray::number(who) + ":" +
                                       QByteArray::number(i) + ":" + QByteArray(who * 7, 'p');
                const auto reply = client.ask(msg, 2000);
                if (!reply)
                    lost.fetch_add(1);
                else if (*reply == msg)
                    good[who].fetch_add(1);
                else
                    crossed.fetch_add(1);
            }
        };
        std::thread a(run, 0, QStringLiteral("127.0.0.1"));
        std::thread b(run, 1, QStringLiteral("127.0.0.2"));
        a.join();
        b.join();
        QCOMPARE(crossed.load(), 0);
        QCOMPARE(lost.load(), 0);
        QCOMPARE(good[0].load(), kCount);
        QCOMPARE(good[1].load(), kCount);
        QCOMPARE(echo.peerCount(), 2);
        // A reply is counted after it was sent, so the client may read it before the count moves.
        auto counted = [&] {
            const Snapshot s = engine.snapshot();
            if (s.active.size() != 2)
                return false;
            for (const ConnectionInfo& c : s.active) {
                if (c.datagramsUp != quint64(kCount) || c.datagramsDown != quint64(kCount))
                    return false;
            }
            return true;
        };
        QTRY_VERIFY_WITH_TIMEOUT(counted(), 5000);
    }

    void largeDatagramsPassIntact_data()
    {
        QTest::addColumn<int>("size");
        QTest::newRow("one byte") << 1;
        QTest::newRow("empty datagram") << 0;
        QTest::newRow("60000 bytes") << 60000;
        QTest::newRow("65507 bytes, the IPv4 maximum") << 65507;
    }
    void largeDatagramsPassIntact()
    {
        QFETCH(int, size);
        UdpEcho echo;
        Engine engine(smallEngine());
        const int port = freeUdpPort();
        engine.apply(udpConfig(port, {udpRoute("r", echo.port())}));
        UdpClient client("127.0.0.1", port);
        const QByteArray data = pattern(size, quint32(size) + 7);
        const auto reply = client.ask(data);
        QVERIFY(reply.has_value());
        QCOMPARE(reply->size(), data.size());
        QVERIFY(*reply == data);
        QCOMPARE(echo.bytes.load(), qint64(size));
    }

    void idleExpiryEndsTheSessionAndTheNextDatagramOpensANewOne()
    {
        UdpEcho echo;
        Engine engine(smallEngine());
        const int port = freeUdpPort();
        StreamRoute r = udpRoute("r", echo.port());
        r.upstream->timeout = Timeout{1, 1, 0.3};
        engine.apply(udpConfig(port, {r}));
        UdpClient client("127.0.0.1", port);
        QCOMPARE(client.ask("one").value_or("<nothing>"), QByteArray("one"));
        const quint64 first = activeOn(engine.snapshot(), "r")->id;

        QTRY_VERIFY_WITH_TIMEOUT(closedWith(engine.snapshot(), CloseReason::IdleTimeout), 5000);
        const ConnectionInfo closed = *closedWith(engine.snapshot(), CloseReason::IdleTimeout);
        QCOMPARE(closed.id, first);
        // Who and when: the proxy timed it out after a datagram each way; the client's first
        // datagram opened the session, the echo came after it.
        QCOMPARE(toString(closed.closedBy), toString(ClosedBy::Proxy));
        QCOMPARE(toString(closed.closePhase), toString(ClosePhase::Data));
        QVERIFY2(
            closed.firstByteUpMs >= 0 && closed.firstByteUpMs <= closed.firstByteDownMs &&
                closed.firstByteDownMs <= closed.endMs - closed.startMs,
            qPrintable(
                QStringLiteral("%1 %2").arg(closed.firstByteUpMs).arg(closed.firstByteDownMs)));
        QVERIFY2(closed.endMs - closed.lastActivityMs >= 250,
                 qPrintable(QString::number(closed.endMs - closed.lastActivityMs)));
        QVERIFY(engine.snapshot().active.isEmpty());
        QCOMPARE(routeCounters(engine.snapshot(), "r").timeouts, quint64(1));

        QCOMPARE(client.ask("two").value_or("<nothing>"), QByteArray("two"));
        const Snapshot after = engine.snapshot();
        const auto again = activeOn(after, "r");
        QVERIFY(again);
        QVERIFY(again->id != first);
        QCOMPARE(routeCounters(engine.snapshot(), "r").total, quint64(2));
    }

    void activityKeepsTheSessionOpen()
    {
        UdpEcho echo;
        Engine engine(smallEngine());
        const int port = freeUdpPort();
        StreamRoute r = udpRoute("r", echo.port());
        r.upstream->timeout = Timeout{1, 1, 0.4};
        engine.apply(udpConfig(port, {r}));
        UdpClient client("127.0.0.1", port);
        QCOMPARE(client.ask("x").value_or("<nothing>"), QByteArray("x"));
        const quint64 id = activeOn(engine.snapshot(), "r")->id;
        // Twelve exchanges spaced by the 100 ms reply wait span well over the idle time.
        const qint64 start = nowMs();
        while (nowMs() - start < 1200) {
            QCOMPARE(client.ask("x").value_or("<nothing>"), QByteArray("x"));
            QVERIFY(!client.receive(100).has_value());
        }
        QCOMPARE(activeOn(engine.snapshot(), "r")->id, id);
        QVERIFY(!closedWith(engine.snapshot(), CloseReason::IdleTimeout));
    }

    void firstDatagramAfterAQuietSpellIsNotTakenForIdle()
    {
        UdpEcho echo;
        Engine engine(smallEngine());
        const int port = freeUdpPort();
        StreamRoute r = udpRoute("r", echo.port());
        r.upstream->timeout = Timeout{1, 1, 0.3};
        engine.apply(udpConfig(port, {r}));
        // The scenario itself is a worker that has slept (nothing to do, no timer) for longer
        // than the idle timeout before a new client's first datagram arrives.
        QTest::qWait(700);
        UdpClient client("127.0.0.1", port);
        QCOMPARE(client.ask("fresh").value_or("<nothing>"), QByteArray("fresh"));
        QVERIFY(activeOn(engine.snapshot(), "r"));
        QVERIFY(!closedWith(engine.snapshot(), CloseReason::IdleTimeout));
    }

    void upstreamPortClosedEndsWithUpstreamError()
    {
        Engine engine(smallEngine());
        const int port = freeUdpPort();
        const int dead = freeUdpPort(); // nobody listens: the kernel answers port unreachable
        engine.apply(udpConfig(port, {udpRoute("r", dead)}));
        UdpClient client("127.0.0.1", port);
        QVERIFY(client.send("anyone?"));
        QTRY_VERIFY_WITH_TIMEOUT(closedWith(engine.snapshot(), CloseReason::UpstreamError), 5000);
        const Snapshot s = engine.snapshot();
        QVERIFY(s.active.isEmpty());
        const ConnectionInfo closed = *closedWith(s, CloseReason::UpstreamError);
        QCOMPARE(toString(closed.closedBy), toString(ClosedBy::Upstream)); // its ICMP error
        QVERIFY(closed.firstByteUpMs >= 0);
        QCOMPARE(closed.firstByteDownMs, -1);
        QCOMPARE(routeCounters(s, "r").connectFailures, quint64(1));
        QCOMPARE(s.nodes.size(), 1);
        QCOMPARE(s.nodes[0].failures, quint64(1));
        QCOMPARE(s.nodes[0].active, quint64(0));
        QCOMPARE(countEvents(engine, EventKind::Close, CloseReason::UpstreamError), 1);
    }

    void killById()
    {
        UdpEcho echo;
        Engine engine(smallEngine());
        const int port = freeUdpPort();
        engine.apply(udpConfig(port, {udpRoute("r", echo.port())}));
        UdpClient client("127.0.0.1", port);
        QCOMPARE(client.ask("a").value_or("<nothing>"), QByteArray("a"));
        const quint64 id = activeOn(engine.snapshot(), "r")->id;
        QVERIFY(engine.killConnection(id));
        QTRY_VERIFY_WITH_TIMEOUT(engine.snapshot().active.isEmpty(), 3000);
        const auto killed = closedWith(engine.snapshot(), CloseReason::Killed);
        QVERIFY(killed);
        QCOMPARE(killed->id, id);
        QVERIFY(!engine.killConnection(id));
        QCOMPARE(client.ask("b").value_or("<nothing>"), QByteArray("b"));
        QVERIFY(activeOn(engine.snapshot(), "r")->id != id);
    }

    void sessionCapRefusesNewClients()
    {
        UdpEcho echo;
        EngineOptions o = smallEngine();
        o.udpSessionCap = 2;
        Engine engine(o);
        const int port = freeUdpPort();
        engine.apply(udpConfig(port, {udpRoute("r", echo.port())}));
        // Three hosts: one host alone holds at most a quarter of the cap (at least one session).
        UdpClient c1("127.0.0.1", port), c2("127.0.0.1", port, "127.0.0.2"),
            c3("127.0.0.1", port, "127.0.0.3");
        QCOMPARE(c1.ask("1").value_or("<nothing>"), QByteArray("1"));
        QCOMPARE(c2.ask("2").value_or("<nothing>"), QByteArray("2"));
        for (int i = 0; i < 5; ++i)
            QVERIFY(c3.send("3"));
        QCOMPARE(c1.ask("barrier").value_or("<nothing>"), QByteArray("barrier"));
        QCOMPARE(echo.received.load(), 3);
        Snapshot s = engine.snapshot();
        QCOMPARE(s.active.size(), 2);
        RouteCounters rc = routeCounters(s, "r");
        QCOMPARE(rc.limited, quint64(1));
        QCOMPARE(rc.deniedDatagrams, quint64(5));
        QCOMPARE(countEvents(engine, EventKind::Deny, CloseReason::SessionCap), 1);

        // Room frees up: the refused client gets a session within the retry interval.
        QVERIFY(engine.killConnection(activeOn(s, "r")->id));
        bool served = false;
        const qint64 deadline = nowMs() + 5000;
        while (!served && nowMs() < deadline)
            served = c3.ask("3", 200).has_value();
        QVERIFY(served);
        QCOMPARE(engine.snapshot().active.size(), 2);
    }

    void oneHostHoldsAtMostAQuarterOfTheSessionCap()
    {
        UdpEcho echo;
        EngineOptions o = smallEngine();
        o.udpSessionCap = 8; // two sessions per host
        Engine engine(o);
        const int port = freeUdpPort();
        engine.apply(udpConfig(port, {udpRoute("r", echo.port())}));
        UdpClient a1("127.0.0.1", port, "127.0.0.2"), a2("127.0.0.1", port, "127.0.0.2"),
            a3("127.0.0.1", port, "127.0.0.2"), b1("127.0.0.1", port, "127.0.0.3");
        QCOMPARE(a1.ask("a1").value_or("<nothing>"), QByteArray("a1"));
        QCOMPARE(a2.ask("a2").value_or("<nothing>"), QByteArray("a2"));
        for (int i = 0; i < 3; ++i)
            QVERIFY(a3.send("a3"));
        // Another host still gets in, although the route is far from its cap of 8.
        QCOMPARE(b1.ask("b1").value_or("<nothing>"), QByteArray("b1"));
        QCOMPARE(echo.received.load(), 3);
        const Snapshot s = engine.snapshot();
        QCOMPARE(s.active.size(), 3);
        const RouteCounters rc = routeCounters(s, "r");
        QCOMPARE(rc.limited, quint64(1));
        QCOMPARE(rc.deniedDatagrams, quint64(3));
        QCOMPARE(countEvents(engine, EventKind::Deny, CloseReason::SessionCap), 1);

        // The host's share frees up when one of its sessions ends.
        quint64 first = 0;
        for (const ConnectionInfo& c : s.active)
            if (int(c.clientPort) == a1.port())
                first = c.id;
        QVERIFY(engine.killConnection(first));
        bool served = false;
        const qint64 deadline = nowMs() + 5000;
        while (!served && nowMs() < deadline)
            served = a3.ask("a3", 200).has_value();
        QVERIFY(served);
    }

    void unansweredSessionEndsAfterTheNoReplyTimeout()
    {
        // A silent upstream: the datagrams queue on a socket nobody reads, so no ICMP error
        // ends the session either.
        int silentPort = 0;
        const int silent = boundUdpSocket(QStringLiteral("127.0.0.1"), 0, &silentPort);
        QVERIFY(silent >= 0);
        UdpEcho echo;
        Engine engine(smallEngine());
        const int quietPort = freeUdpPort();
        const int echoPort = freeUdpPort();
        StreamRoute quiet = udpRoute("quiet", silentPort);
        quiet.serverPort = quietPort;
        quiet.upstream->timeout = Timeout{1, 30, 30};
        StreamRoute answered = udpRoute("answered", echo.port());
        answered.serverPort = echoPort;
        answered.upstream->timeout = Timeout{1, 30, 30};
        Config c = udpConfig(quietPort, {quiet, answered});
        c.streamProxy.udp << listenEntry("127.0.0.1", echoPort);
        engine.apply(c);

        UdpClient asker("127.0.0.1", quietPort), talker("127.0.0.1", echoPort);
        QVERIFY(asker.send("x"));
        QCOMPARE(talker.ask("y").value_or("<nothing>"), QByteArray("y"));
        QTRY_VERIFY(activeOn(engine.snapshot(), "quiet"));

        // 5 s without an answer ends the session, though its read timeout is 30 s.
        QTRY_VERIFY_WITH_TIMEOUT(closedWith(engine.snapshot(), CloseReason::IdleTimeout), 9000);
        const ConnectionInfo closed = *closedWith(engine.snapshot(), CloseReason::IdleTimeout);
        QCOMPARE(closed.routeId, QStringLiteral("quiet"));
        QVERIFY2(closed.endMs - closed.startMs >= 4500,
                 qPrintable(QString::number(closed.endMs - closed.startMs)));
        // A session whose upstream answered keeps the configured read timeout.
        QVERIFY(activeOn(engine.snapshot(), "answered"));
        QCOMPARE(routeCounters(engine.snapshot(), "quiet").timeouts, quint64(1));
        ::close(silent);
    }

    void limitConnCountsConcurrentSessions()
    {
        UdpEcho echo;
        Engine engine(smallEngine());
        const int port = freeUdpPort();
        StreamRoute r = udpRoute("r", echo.port());
        LimitConnConf lc;
        lc.conn = 1;
        lc.burst = 0;
        lc.defaultConnDelay = 0.1;
        r.plugins.limitConn = lc;
        engine.apply(udpConfig(port, {r}));
        UdpClient c1("127.0.0.1", port), c2("127.0.0.1", port);
        QCOMPARE(c1.ask("1").value_or("<nothing>"), QByteArray("1"));
        QVERIFY(c2.send("2"));
        QCOMPARE(c1.ask("barrier").value_or("<nothing>"), QByteArray("barrier"));
        QCOMPARE(echo.received.load(), 2);
        QCOMPARE(routeCounters(engine.snapshot(), "r").limited, quint64(1));
        QCOMPARE(countEvents(engine, EventKind::Deny, CloseReason::Limited), 1);
    }

    void bindErrorIsListenerState()
    {
        int taken = 0;
        const int holder = boundUdpSocket(QStringLiteral("127.0.0.1"), 0, &taken);
        QVERIFY(holder >= 0);
        UdpEcho echo;
        Engine engine(smallEngine());
        const int good = freeUdpPort();
        Config c;
        c.streamProxy.udp << listenEntry("127.0.0.1", taken) << listenEntry("127.0.0.1", good);
        c.streamRoutes << udpRoute("r", echo.port());
        engine.apply(c);
        const Snapshot s = engine.snapshot();
        QCOMPARE(s.listeners.size(), 2);
        QVERIFY(s.listeners[0].protocol == Protocol::Udp);
        QVERIFY(!s.listeners[0].listening);
        QVERIFY2(!s.listeners[0].error.isEmpty(), "no error text");
        QVERIFY(s.listeners[1].listening);
        QCOMPARE(countEvents(engine, EventKind::ListenerError, CloseReason::None), 1);
        UdpClient client("127.0.0.1", good);
        QCOMPARE(client.ask("still works").value_or("<nothing>"), QByteArray("still works"));
        ::close(holder);
    }

    // A UDP port range listens on every port of it, and server_port picks the route by the
    // port a datagram was sent to.
    void portRangeRoutesByServerPort()
    {
        UdpEcho first;
        UdpEcho last;
        Engine engine(smallEngine());
        const int base = freePortRun(3, QStringLiteral("127.0.0.1"), SOCK_DGRAM);
        QVERIFY(base > 0);
        Config c;
        c.streamProxy.udp << listenRange("127.0.0.1", base, base + 2);
        StreamRoute onFirst = udpRoute("first", first.port());
        onFirst.serverPort = base;
        StreamRoute onLast = udpRoute("last", last.port());
        onLast.serverPort = base + 2;
        c.streamRoutes << onFirst << onLast;
        engine.apply(c);

        const Snapshot s = engine.snapshot();
        QCOMPARE(s.listeners.size(), 3);
        for (int i = 0; i < 3; ++i) {
            QVERIFY(s.listeners[i].protocol == Protocol::Udp);
            QCOMPARE(s.listeners[i].address, QStringLiteral("127.0.0.1:%1").arg(base + i));
            QVERIFY2(s.listeners[i].listening, qPrintable(s.listeners[i].error));
        }
        UdpClient toFirst("127.0.0.1", base);
        UdpClient toLast("127.0.0.1", base + 2);
        QCOMPARE(toFirst.ask("one").value_or("<nothing>"), QByteArray("one"));
        QCOMPARE(toLast.ask("three").value_or("<nothing>"), QByteArray("three"));
        QCOMPARE(first.received.load(), 1);
        QCOMPARE(last.received.load(), 1);
        UdpClient toMiddle("127.0.0.1", base + 1);
        QVERIFY(!toMiddle.ask("two", 300).has_value()); // no route has that port
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().listeners[1].noRoute, quint64(1), 3000);
        QCOMPARE(first.received.load(), 1);
        QCOMPARE(last.received.load(), 1);
    }

    void listenerSetChangesAndStop()
    {
        UdpEcho echo;
        Engine engine(smallEngine());
        const int p1 = freeUdpPort();
        const int p2 = freeUdpPort();
        Config c = udpConfig(p1, {udpRoute("r", echo.port())});
        engine.apply(c);
        UdpClient a("127.0.0.1", p1);
        QCOMPARE(a.ask("a").value_or("<nothing>"), QByteArray("a"));
        const quint64 id = activeOn(engine.snapshot(), "r")->id;

        // Adding a listener and editing another route keeps the running session.
        c.streamProxy.udp << listenEntry("127.0.0.1", p2);
        c.streamRoutes << udpRoute("other", echo.port());
        engine.apply(c);
        QCOMPARE(a.ask("a2").value_or("<nothing>"), QByteArray("a2"));
        QCOMPARE(activeOn(engine.snapshot(), "r")->id, id);
        UdpClient b("127.0.0.1", p2);
        QCOMPARE(b.ask("b").value_or("<nothing>"), QByteArray("b"));

        // Removing the first listener closes it and its session; its port is free at once.
        c.streamProxy.udp.removeFirst();
        engine.apply(c);
        QTRY_VERIFY_WITH_TIMEOUT(closedWith(engine.snapshot(), CloseReason::Shutdown), 3000);
        const int again = boundUdpSocket(QStringLiteral("127.0.0.1"), p1);
        QVERIFY(again >= 0);
        ::close(again);
        QCOMPARE(engine.snapshot().listeners.size(), 1);

        engine.stop(0);
        QTRY_VERIFY_WITH_TIMEOUT(engine.snapshot().active.isEmpty(), 3000);
        const Snapshot s = engine.snapshot();
        QVERIFY(!s.listeners[0].listening);
        QCOMPARE(s.listeners[0].error, QStringLiteral("engine stopped"));
        int shutdown = 0;
        for (const ConnectionInfo& ci : s.closed)
            shutdown += ci.closeReason == CloseReason::Shutdown ? 1 : 0;
        QCOMPARE(shutdown, 2);
    }

    void wildcardListenerRepliesFromTheAddressUsed()
    {
        UdpEcho echo;
        Engine engine(smallEngine());
        const int port = freeUdpPort(QStringLiteral("0.0.0.0"));
        Config c;
        c.streamProxy.udp << listenEntry({}, port);
        StreamRoute r = udpRoute("by-addr", echo.port());
        r.serverAddr = "127.0.0.5";
        c.streamRoutes << r;
        engine.apply(c);
        // A connected client only accepts replies from the address it wrote to.
        UdpClient client("127.0.0.5", port);
        QCOMPARE(client.ask("via .5").value_or("<nothing>"), QByteArray("via .5"));
        const Snapshot s = engine.snapshot();
        const auto ci = activeOn(s, "by-addr");
        QVERIFY(ci);
        QCOMPARE(ci->localAddress, QHostAddress("127.0.0.5"));
        UdpClient other("127.0.0.1", port);
        QVERIFY(other.send("no route"));
        QCOMPARE(client.ask("barrier").value_or("<nothing>"), QByteArray("barrier"));
        QCOMPARE(engine.snapshot().listeners[0].noRoute, quint64(1));
    }

    void ipv6WildcardListenerRepliesFromTheAddressUsed()
    {
        // The reply path that sets IPV6_PKTINFO: a listener on [::] and a client on ::1 that is
        // not connected, so it sees the source address and port of whatever comes back.
        const int port = freeUdpPort(QStringLiteral("::"));
        if (port < 0)
            QSKIP("no IPv6 on this host");
        UdpEcho echo;
        Engine engine(smallEngine());
        Config c;
        c.streamProxy.udp << listenEntry(QStringLiteral("::"), port);
        c.streamRoutes << udpRoute("v6", echo.port());
        engine.apply(c);
        QVERIFY(engine.snapshot().listeners.value(0).listening);

        const int fd = boundUdpSocket(QStringLiteral("::1"), 0);
        QVERIFY(fd >= 0);
        sockaddr_storage to;
        socklen_t toLen;
        QVERIFY(makeAddress(QStringLiteral("::1"), port, to, toLen));
        const QByteArray payload("over ::1");
        QCOMPARE(::sendto(fd, payload.constData(), size_t(payload.size()), 0,
                          reinterpret_cast<sockaddr*>(&to), toLen),
                 ssize_t(payload.size()));
        pollfd p{fd, POLLIN, 0};
        QCOMPARE(::poll(&p, 1, 3000), 1);
        QByteArray reply(65536, Qt::Uninitialized);
        sockaddr_storage from{};
        socklen_t fromLen = sizeof from;
        const ssize_t n = ::recvfrom(fd, reply.data(), size_t(reply.size()), MSG_DONTWAIT,
                                     reinterpret_cast<sockaddr*>(&from), &fromLen);
        ::close(fd);
        QVERIFY(n >= 0);
        reply.truncate(n);
        QCOMPARE(reply, payload);
        QCOMPARE(int(from.ss_family), AF_INET6);
        QCOMPARE(QHostAddress(reinterpret_cast<const sockaddr*>(&from)),
                 QHostAddress(QHostAddress::LocalHostIPv6));
        QCOMPARE(int(ntohs(reinterpret_cast<const sockaddr_in6&>(from).sin6_port)), port);
        const auto ci = activeOn(engine.snapshot(), "v6");
        QVERIFY(ci);
        QCOMPARE(ci->localAddress, QHostAddress(QHostAddress::LocalHostIPv6));
    }

    void digThroughTheProxyToDnsmasq()
    {
        const QString dnsmasq = QStandardPaths::findExecutable(
            QStringLiteral("dnsmasq"),
            {QStringLiteral("/usr/sbin"), QStringLiteral("/sbin"), QStringLiteral("/usr/bin")});
        const QString dig = QStandardPaths::findExecutable(QStringLiteral("dig"));
        if (dnsmasq.isEmpty() || dig.isEmpty())
            QSKIP("dnsmasq (dnsmasq-base) or dig (dnsutils) is not installed");
        QTemporaryDir dir;
        QVERIFY(dir.isValid());

        // dnsmasq also binds TCP, without SO_REUSEADDR: the port must be free for both, and
        // not held by a TIME_WAIT connection, so it is taken below the ephemeral range.
        auto bindable = [](int p, int type) {
            sockaddr_storage a;
            socklen_t len;
            makeAddress(QStringLiteral("127.0.0.1"), p, a, len);
            const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
            const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), len) == 0;
            ::close(fd);
            return ok;
        };
        QProcess server;
        int dnsPort = 0;
        const uid_t uid = ::geteuid();
        const passwd* pw = ::getpwuid(uid);
        const QString user = pw ? QString::fromLocal8Bit(pw->pw_name) : QStringLiteral("root");
        quint32 seed = quint32(nowMs()) ^ quint32(::getpid());
        for (int attempt = 0; attempt < 10 && dnsPort == 0; ++attempt) {
            seed = seed * 1664525u + 1013904223u;
            const int p = 20000 + int(seed % 12000u);
            if (!bindable(p, SOCK_DGRAM) || !bindable(p, SOCK_STREAM))
                continue;
            server.start(dnsmasq, {"--no-daemon", QStringLiteral("--port=%1").arg(p),
                                   "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv",
                                   "--no-hosts", "--address=/example.test/10.1.2.3",
                                   "--pid-file=" + dir.filePath("dnsmasq.pid"),
                                   "--conf-file=/dev/null", "--user=" + user});
            if (!server.waitForStarted(3000))
                QFAIL(qPrintable(server.errorString()));
            // Either it is up and answering, or it exited (port raced away): try again.
            UdpClient probe("127.0.0.1", p);
            const QByteArray query =
                QByteArray::fromHex("123401000001000000000000076578616d706c65047465737400000100"
                                    "01");
            bool up = false;
            const qint64 deadline = nowMs() + 8000;
            while (!up && server.state() == QProcess::Running && nowMs() < deadline)
                up = probe.ask(query, 200).has_value();
            if (up) {
                dnsPort = p;
            } else {
                stopByPid(server);
            }
        }
        QVERIFY2(dnsPort != 0, server.readAllStandardError().constData());

        Engine engine(smallEngine());
        const int port = freeUdpPort();
        engine.apply(udpConfig(port, {udpRoute("dns", dnsPort, {"127.0.0.1"})}));
        auto runDig = [&](const QString& bindHost) {
            QProcess p;
            p.start(dig, {"@127.0.0.1", "-p", QString::number(port), "-b", bindHost, "example.test",
                          "A", "+short", "+tries=1", "+time=2"});
            p.waitForFinished(10000);
            return QString::fromUtf8(p.readAllStandardOutput()).trimmed();
        };
        QCOMPARE(runDig("127.0.0.1"), QStringLiteral("10.1.2.3"));
        QCOMPARE(runDig("127.0.0.1"), QStringLiteral("10.1.2.3"));
        QTRY_COMPARE_WITH_TIMEOUT(routeCounters(engine.snapshot(), "dns").total, quint64(2), 3000);
        const QString refused = runDig("127.0.0.2");
        QVERIFY2(!refused.contains("10.1.2.3"), qPrintable(refused));
        QCOMPARE(routeCounters(engine.snapshot(), "dns").deniedIpRestriction, quint64(1));

        QVERIFY(server.state() == QProcess::Running);
        stopByPid(server);
        QCOMPARE(server.state(), QProcess::NotRunning);
    }
};

QTEST_GUILESS_MAIN(TstUdp)
#include "tst_udp.moc"
