// Admission and upstream choice under load, and live config changes: limit-conn, priority
// failover with retries, 2,000 concurrent sessions, edits that must not disturb running
// sessions, kill/drain of a route, stop(), and the snapshot counters.

#include "loopback.h"
#include "proxy/engine.h"
#include "proxyfixture.h"

#include <QTest>
#include <memory>

using namespace sg;
using namespace sgtest;

namespace {

EngineOptions engineOptions()
{
    EngineOptions o;
    o.workers = 2;
    return o;
}

Config oneRoute(int port, const StreamRoute& r)
{
    Config c;
    c.streamProxy.tcp << listenEntry("127.0.0.1", port);
    c.streamRoutes << r;
    return c;
}

} // namespace

class TstEngineLimits : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void limitConnAdmitsDelaysRefuses()
    {
        TestServer up(TestServer::Greet);
        up.holdMs = 200; // the upstream holds every connection 0.2 s
        Engine engine(engineOptions());
        const int port = freePort();
        StreamRoute r = route("lc", upstream({node("127.0.0.1", up.port())}));
        LimitConnConf lc;
        lc.conn = 2;
        lc.burst = 1;
        lc.defaultConnDelay = 0.1;
        r.plugins.limitConn = lc;
        engine.apply(oneRoute(port, r));

        std::vector<int> clients;
        for (int i = 0; i < 5; ++i) {
            const int fd = connectTo("127.0.0.1", port);
            QVERIFY(fd >= 0);
            clients.push_back(fd);
        }
        int served = 0, refused = 0;
        for (int fd : clients) {
            QByteArray got;
            const ReadEnd end = waitForEnd(fd, 5000, &got);
            QVERIFY(end != ReadEnd::Timeout);
            if (got == "hello\n")
                ++served;
            else if (got.isEmpty())
                ++refused;
            ::close(fd);
        }
        QCOMPARE(served, 3);
        QCOMPARE(refused, 2);
        QCOMPARE(up.accepted.load(), 3);
        const RouteCounters rc = routeCounters(engine.snapshot(), "lc");
        QCOMPARE(rc.limited, quint64(2));
        QCOMPARE(rc.delayed, quint64(1));
        QCOMPARE(rc.total, quint64(3));
        QTRY_COMPARE_WITH_TIMEOUT(routeCounters(engine.snapshot(), "lc").active, quint64(0), 5000);

        // The counts were released: a new client is served at once.
        QCOMPARE(greetingVia("127.0.0.1", port), QByteArray("hello\n"));
    }

    void limitConnCountSurvivesAnEditOfTheRoute()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(engineOptions());
        const int port = freePort();
        StreamRoute r = route("one", upstream({node("127.0.0.1", echo.port())}));
        LimitConnConf lc;
        lc.conn = 1;
        lc.burst = 0;
        lc.defaultConnDelay = 0.1;
        r.plugins.limitConn = lc;
        engine.apply(oneRoute(port, r));
        const int first = connectTo("127.0.0.1", port);
        QVERIFY(sendAll(first, "a"));
        QCOMPARE(recvExactly(first, 1), QByteArray("a"));

        r.desc = "edited"; // the route changes, its limit-conn settings do not
        engine.apply(oneRoute(port, r));
        QCOMPARE(greetingVia("127.0.0.1", port), QByteArray()); // still one in use: refused
        QCOMPARE(routeCounters(engine.snapshot(), "one").limited, quint64(1));
        ::close(first);
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().active.size(), 0, 5000);
        const int second = connectTo("127.0.0.1", port);
        QVERIFY(sendAll(second, "b"));
        QCOMPARE(recvExactly(second, 1), QByteArray("b"));
        ::close(second);
    }

    // limit-conn rules on real connections: one per client and two on the route's port, as
    // APISIX's rules count them; a refusal by the second rule gives back the first's count.
    void limitConnRulesThroughTheEngine()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(engineOptions());
        const int port = freePort();
        StreamRoute r = route("rules", upstream({node("127.0.0.1", echo.port())}));
        LimitConnConf lc;
        lc.conn = 100;
        lc.burst = 0;
        lc.defaultConnDelay = 0.1;
        lc.rules = {{1, 0, "$remote_addr"}, {2, 0, "$server_port"}};
        r.plugins.limitConn = lc;
        engine.apply(oneRoute(port, r));

        const auto served = [port](const QString& from, int* keep) {
            const int fd = connectTo("127.0.0.1", port, from);
            if (fd < 0 || !sendAll(fd, "x") || recvExactly(fd, 1) != "x") {
                if (fd >= 0)
                    ::close(fd);
                return false;
            }
            *keep = fd;
            return true;
        };
        int a = -1, b = -1, c = -1;
        QVERIFY(served("127.0.0.2", &a));
        int again = -1;
        QVERIFY(!served("127.0.0.2", &again)); // rule 0: one per client
        QVERIFY(served("127.0.0.3", &b));
        QVERIFY(!served("127.0.0.4", &c)); // rule 1: two on the port
        QCOMPARE(routeCounters(engine.snapshot(), "rules").limited, quint64(2));

        ::close(a);
        QTRY_COMPARE_WITH_TIMEOUT(routeCounters(engine.snapshot(), "rules").active, quint64(1),
                                  5000);
        QVERIFY(served("127.0.0.4", &c)); // 127.0.0.4's refusal left nothing counted
        ::close(b);
        ::close(c);
    }

    void weightsAndChashThroughTheEngine()
    {
        TestServer a(TestServer::Greet), b(TestServer::Greet);
        a.setGreeting("A");
        b.setGreeting("B");
        a.holdMs = b.holdMs = 1;
        Engine engine(engineOptions());
        const int port = freePort();
        const int chashPort = freePort();
        Config c;
        c.streamProxy.tcp << listenEntry("127.0.0.1", port) << listenEntry("127.0.0.1", chashPort);
        StreamRoute rr =
            route("rr", upstream({node("127.0.0.1", a.port(), 9), node("127.0.0.1", b.port(), 1)}));
        rr.serverPort = port;
        Upstream hashed =
            upstream({node("127.0.0.1", a.port()), node("127.0.0.1", b.port())}, "chash");
        hashed.key = "remote_addr";
        StreamRoute ch = route("ch", hashed);
        ch.serverPort = chashPort;
        c.streamRoutes << rr << ch;
        engine.apply(c);

        int gotA = 0, gotB = 0;
        for (int i = 0; i < 100; ++i) {
            const QByteArray g = greetingVia("127.0.0.1", port);
            gotA += g == "A";
            gotB += g == "B";
        }
        QCOMPARE(gotA + gotB, 100); // every connection served
        QCOMPARE(gotA, 90);
        QCOMPARE(gotB, 10);

        // chash on remote_addr: each client address sticks to one node.
        for (const char* client : {"127.0.0.2", "127.0.0.3", "127.0.0.4"}) {
            const QByteArray first = greetingVia("127.0.0.1", chashPort, client);
            QVERIFY(first == "A" || first == "B");
            for (int i = 0; i < 5; ++i)
                QCOMPARE(greetingVia("127.0.0.1", chashPort, client), first);
        }
    }

    void priorityFailover()
    {
        TestServer live(TestServer::Greet);
        live.holdMs = 20;
        QList<Node> nodes;
        QStringList dead;
        std::vector<std::unique_ptr<RefusingPort>> refusing;
        for (int i = 0; i < 4; ++i) {
            refusing.push_back(std::make_unique<RefusingPort>());
            const int p = refusing.back()->port();
            QVERIFY(p > 0);
            nodes << node("127.0.0.1", p, 1, 10);
            dead << QStringLiteral("127.0.0.1:%1").arg(p);
        }
        nodes << node("127.0.0.1", live.port(), 1, 0);
        Engine engine(engineOptions());
        const int port = freePort();
        engine.apply(oneRoute(port, route("prio", upstream(nodes))));

        QCOMPARE(greetingVia("127.0.0.1", port), QByteArray("hello\n"));
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 1, 5000);
        const Snapshot s = engine.snapshot();
        QCOMPARE(s.closed.constFirst().upstreamNode,
                 QStringLiteral("127.0.0.1:%1").arg(live.port()));
        QCOMPARE(routeCounters(s, "prio").connectFailures, quint64(4));
        QCOMPARE(s.nodes.size(), 5);
        for (const NodeStatus& n : s.nodes) {
            if (dead.contains(n.node)) {
                QCOMPARE(n.failures, quint64(1));
                QCOMPARE(n.total, quint64(0));
            } else {
                QCOMPARE(n.failures, quint64(0));
                QCOMPARE(n.total, quint64(1));
            }
            QCOMPARE(n.upstream, QStringLiteral("route:prio"));
        }
    }

    void retriesAreBounded()
    {
        QList<Node> nodes;
        for (int i = 0; i < 4; ++i)
            nodes << node("127.0.0.1", freePort());
        Upstream up = upstream(nodes);
        up.retries = 1; // two attempts, then give up
        Engine engine(engineOptions());
        const int port = freePort();
        engine.apply(oneRoute(port, route("r", up)));
        QCOMPARE(greetingVia("127.0.0.1", port), QByteArray());
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 1, 5000);
        QCOMPARE(toString(engine.snapshot().closed.constFirst().closeReason),
                 toString(CloseReason::ConnectFailed));
        QCOMPARE(routeCounters(engine.snapshot(), "r").connectFailures, quint64(2));
    }

    void twoThousandConcurrentSessions()
    {
        constexpr int kClients = 2000;
        TestServer echo(TestServer::Echo);
        Engine engine(engineOptions());
        const int port = freePort();
        engine.apply(oneRoute(port, route("many", upstream({node("127.0.0.1", echo.port())}))));

        std::vector<int> fds;
        fds.reserve(kClients);
        for (int i = 0; i < kClients; ++i) {
            const int fd = connectTo("127.0.0.1", port);
            QVERIFY2(fd >= 0, qPrintable(QStringLiteral("client %1 could not connect").arg(i)));
            fds.push_back(fd);
        }
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().active.size(), kClients, 20000);
        QTRY_COMPARE_WITH_TIMEOUT(echo.open.load(), kClients, 20000);
        // Every client, all open at once, gets its own bytes back.
        for (int i = 0; i < kClients; ++i) {
            const QByteArray msg = QByteArray::number(i).rightJustified(8, '0');
            QVERIFY(sendAll(fds[size_t(i)], msg));
        }
        for (int i = 0; i < kClients; ++i) {
            const QByteArray msg = QByteArray::number(i).rightJustified(8, '0');
            QCOMPARE(recvExactly(fds[size_t(i)], 8, 10000), msg);
        }
        // A byte is counted just after the worker hands it on, so the reader may be faster.
        QTRY_COMPARE_WITH_TIMEOUT(routeCounters(engine.snapshot(), "many").bytesDown,
                                  quint64(8 * kClients), 5000);
        const Snapshot s = engine.snapshot();
        const RouteCounters rc = routeCounters(s, "many");
        QCOMPARE(rc.active, quint64(kClients));
        QCOMPARE(rc.maxActive, quint64(kClients));
        QCOMPARE(rc.bytesUp, quint64(8 * kClients));
        QCOMPARE(rc.bytesDown, quint64(8 * kClients));
        QCOMPARE(s.listeners.value(0).active, quint64(kClients));
        for (int fd : fds)
            ::close(fd);
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().active.size(), 0, 20000);
        QCOMPARE(routeCounters(engine.snapshot(), "many").total, quint64(kClients));
    }

    void editingRouteBKeepsRouteATransferIntact()
    {
        TestServer echo(TestServer::Echo);
        TestServer b1(TestServer::Greet), b2(TestServer::Greet);
        b1.setGreeting("B1");
        b2.setGreeting("B2");
        b1.holdMs = b2.holdMs = 20;
        Engine engine(engineOptions());
        const int portA = freePort();
        const int portB = freePort();
        Config c;
        c.streamProxy.tcp << listenEntry("127.0.0.1", portA) << listenEntry("127.0.0.1", portB);
        StreamRoute a = route("A", upstream({node("127.0.0.1", echo.port())}));
        a.serverPort = portA;
        StreamRoute b = route("B", upstream({node("127.0.0.1", b1.port())}));
        b.serverPort = portB;
        c.streamRoutes << a << b;
        engine.apply(c);

        const int fd = connectTo("127.0.0.1", portA);
        QVERIFY(fd >= 0);
        const QByteArray data = pattern(8 * 1024 * 1024, 11);
        const qsizetype chunk = 256 * 1024;
        QByteArray back;
        for (qsizetype off = 0; off < data.size(); off += chunk) {
            QByteArray got;
            QCOMPARE(exchange(fd, data.mid(off, chunk), got, chunk, false), ReadEnd::Data);
            back += got;
            if (off == 8 * chunk) {
                // Edit B: new upstream and an allow-list; add a route C; move B before A.
                StreamRoute b2r = route("B", upstream({node("127.0.0.1", b2.port())}));
                b2r.serverPort = portB;
                IpRestrictionConf ip;
                ip.whitelist = {"127.0.0.0/8"};
                b2r.plugins.ipRestriction = ip;
                StreamRoute cr = route("C", upstream({node("127.0.0.1", b1.port())}));
                cr.remoteAddr = "10.0.0.1";
                c.streamRoutes = {b2r, a, cr};
                engine.apply(c);
                QCOMPARE(greetingVia("127.0.0.1", portB), QByteArray("B2"));
            }
            if (off == 16 * chunk) {
                c.streamRoutes.removeAt(0); // B removed entirely
                engine.apply(c);
                QCOMPARE(greetingVia("127.0.0.1", portB), QByteArray());
            }
        }
        QCOMPARE(back.size(), data.size());
        QVERIFY(back == data);
        const Snapshot s = engine.snapshot();
        QCOMPARE(s.active.size(), 1);
        QCOMPARE(s.active.constFirst().routeId, QStringLiteral("A"));
        for (const ConnectionInfo& closed : s.closed)
            QVERIFY(closed.routeId != QLatin1String("A"));
        ::close(fd);
    }

    void allowListEditAppliesToNewConnections()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(engineOptions());
        const int port = freePort();
        StreamRoute r = route("w", upstream({node("127.0.0.1", echo.port())}));
        IpRestrictionConf ip;
        ip.whitelist = {"127.0.0.1"};
        r.plugins.ipRestriction = ip;
        engine.apply(oneRoute(port, r));

        const int old = connectTo("127.0.0.1", port, "127.0.0.1");
        QVERIFY(old >= 0);
        QVERIFY(sendAll(old, "1"));
        QCOMPARE(recvExactly(old, 1), QByteArray("1"));

        ip.whitelist = {"127.0.0.2"};
        r.plugins.ipRestriction = ip;
        engine.apply(oneRoute(port, r));
        // The running session stays; a new one from the same address is refused.
        QVERIFY(sendAll(old, "2"));
        QCOMPARE(recvExactly(old, 1), QByteArray("2"));
        ReadEnd end;
        const int refusedFd = connectTo("127.0.0.1", port, "127.0.0.1");
        QVERIFY(refusedFd >= 0);
        QByteArray none;
        end = waitForEnd(refusedFd, 3000, &none);
        QVERIFY(end == ReadEnd::Eof || end == ReadEnd::Reset);
        QVERIFY(none.isEmpty());
        ::close(refusedFd);
        const int fresh = connectTo("127.0.0.1", port, "127.0.0.2");
        QVERIFY(sendAll(fresh, "3"));
        QCOMPARE(recvExactly(fresh, 1), QByteArray("3"));
        QCOMPARE(routeCounters(engine.snapshot(), "w").deniedIpRestriction, quint64(1));
        ::close(old);
        ::close(fresh);
    }

    void listenersFollowTheListenerSet()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(engineOptions());
        const int p1 = freePort();
        const int p2 = freePort();
        StreamRoute r = route("r", upstream({node("127.0.0.1", echo.port())}));
        Config c = oneRoute(p1, r);
        engine.apply(c);
        const int fd = connectTo("127.0.0.1", p1);
        QVERIFY(sendAll(fd, "a"));
        QCOMPARE(recvExactly(fd, 1), QByteArray("a"));

        c.streamProxy.tcp << listenEntry("127.0.0.1", p2);
        engine.apply(c);
        const int fd2 = connectTo("127.0.0.1", p2);
        QVERIFY(fd2 >= 0);
        QVERIFY(sendAll(fd2, "b"));
        QCOMPARE(recvExactly(fd2, 1), QByteArray("b"));

        c.streamProxy.tcp.removeFirst();
        engine.apply(c);
        QCOMPARE(connectTo("127.0.0.1", p1, {}, 1000), -1); // closed for new connections
        QVERIFY(sendAll(fd, "c"));                          // the old session goes on
        QCOMPARE(recvExactly(fd, 1), QByteArray("c"));
        const Snapshot s = engine.snapshot();
        QCOMPARE(s.listeners.size(), 1);
        QCOMPARE(s.listeners[0].port, p2);
        ::close(fd);
        ::close(fd2);
    }

    void killAndDrainRoute()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(engineOptions());
        const int port = freePort();
        engine.apply(oneRoute(port, route("k", upstream({node("127.0.0.1", echo.port())}))));
        std::vector<int> fds;
        for (int i = 0; i < 3; ++i) {
            fds.push_back(connectTo("127.0.0.1", port));
            QVERIFY(sendAll(fds.back(), "x"));
            QCOMPARE(recvExactly(fds.back(), 1), QByteArray("x"));
        }
        QCOMPARE(engine.killRoute("k"), 3);
        for (int fd : fds) {
            QCOMPARE(waitForEnd(fd, 5000), ReadEnd::Eof);
            ::close(fd);
        }
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 3, 5000);
        QCOMPARE(engine.killRoute("k"), 0);

        engine.setRouteDrained("k", true);
        QCOMPARE(greetingVia("127.0.0.1", port), QByteArray());
        QCOMPARE(echo.accepted.load(), 3);
        engine.setRouteDrained("k", false);
        const int fd = connectTo("127.0.0.1", port);
        QVERIFY(sendAll(fd, "y"));
        QCOMPARE(recvExactly(fd, 1), QByteArray("y"));
        ::close(fd);
    }

    void stopGivesGraceThenShutsDown()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(engineOptions());
        const int port = freePort();
        engine.apply(oneRoute(port, route("s", upstream({node("127.0.0.1", echo.port())}))));
        const int fd = connectTo("127.0.0.1", port);
        QVERIFY(sendAll(fd, "x"));
        QCOMPARE(recvExactly(fd, 1), QByteArray("x"));
        const qint64 t0 = nowMs();
        engine.stop(300);
        QVERIFY(nowMs() - t0 >= 250);
        QCOMPARE(waitForEnd(fd, 3000), ReadEnd::Eof);
        QCOMPARE(connectTo("127.0.0.1", port, {}, 1000), -1);
        const Snapshot s = engine.snapshot();
        QCOMPARE(s.active.size(), 0);
        QCOMPARE(toString(s.closed.constFirst().closeReason), toString(CloseReason::Shutdown));
        QVERIFY(!s.listeners.value(0).listening);
        ::close(fd);
    }

    void healthCheckTakesANodeOutAndBack()
    {
        auto a = std::make_unique<TestServer>(TestServer::Greet);
        TestServer b(TestServer::Greet);
        a->setGreeting("A");
        b.setGreeting("B");
        a->holdMs = b.holdMs = 10;
        const int portA = a->port();
        Upstream up = upstream({node("127.0.0.1", portA), node("127.0.0.1", b.port())});
        ActiveHealthCheck hc;
        hc.type = "tcp"; // the nodes greet, they do not answer HTTP
        hc.timeout = 0.5;
        hc.healthyInterval = 1;
        hc.unhealthyInterval = 1;
        hc.healthySuccesses = 1;
        hc.unhealthyTcpFailures = 1;
        up.checks = hc;
        Engine engine(engineOptions());
        const int port = freePort();
        engine.apply(oneRoute(port, route("hc", up)));
        const QString nodeA = QStringLiteral("127.0.0.1:%1").arg(portA);
        auto healthOfA = [&] {
            for (const NodeStatus& n : engine.snapshot().nodes)
                if (n.node == nodeA)
                    return n.healthy ? 1 : 0;
            return -1;
        };
        auto eventFor = [&](EventKind kind) {
            for (const Event& e : engine.eventsSince(0, 100000))
                if (e.kind == kind && e.text.contains(nodeA))
                    return true;
            return false;
        };
        QCOMPARE(healthOfA(), 1);
        QVERIFY(engine.snapshot().nodes.value(0).checked);

        a.reset(); // node A stops
        QTRY_COMPARE_WITH_TIMEOUT(healthOfA(), 0, 8000);
        // The balancer changes first; the event follows on the engine thread.
        QTRY_VERIFY_WITH_TIMEOUT(eventFor(EventKind::NodeDown), 3000);
        for (int i = 0; i < 4; ++i)
            QCOMPARE(greetingVia("127.0.0.1", port), QByteArray("B"));

        a = std::make_unique<TestServer>(TestServer::Greet, QStringLiteral("127.0.0.1"), portA);
        QVERIFY(a->ok());
        a->setGreeting("A");
        a->holdMs = 10;
        QTRY_COMPARE_WITH_TIMEOUT(healthOfA(), 1, 8000);
        QTRY_VERIFY_WITH_TIMEOUT(eventFor(EventKind::NodeUp), 3000);
        QSet<QByteArray> seen;
        for (int i = 0; i < 4; ++i)
            seen.insert(greetingVia("127.0.0.1", port));
        QCOMPARE(seen, (QSet<QByteArray>{"A", "B"}));
    }

    // checks.passive: sessions whose connect to node A is refused report it; with one failure
    // from the first probe and two from sessions, A reaches unhealthy.tcp_failures 3 and takes
    // no more sessions, though its active probes (hourly) and their own limit would not have
    // taken it out.
    void passiveChecksTakeAFailingNodeOut()
    {
        TestServer b(TestServer::Greet);
        b.setGreeting("B");
        const int portA = freePort(); // nothing listens there
        Upstream up = upstream({node("127.0.0.1", portA), node("127.0.0.1", b.port())});
        ActiveHealthCheck hc;
        hc.type = "tcp";
        hc.healthyInterval = 3600;
        hc.unhealthyInterval = 3600;
        hc.unhealthyTcpFailures = 254;
        up.checks = hc;
        PassiveHealthCheck passive;
        passive.unhealthyTcpFailures = 3;
        up.passiveChecks = passive;
        Engine engine(engineOptions());
        const int port = freePort();
        engine.apply(oneRoute(port, route("passive", up)));
        const QString nodeA = QStringLiteral("127.0.0.1:%1").arg(portA);
        const auto statusOfA = [&] {
            for (const NodeStatus& n : engine.snapshot().nodes)
                if (n.node == nodeA)
                    return n;
            return NodeStatus{};
        };
        QTRY_COMPARE(statusOfA().checkTcpFailures, 1u); // the first probe
        QCOMPARE(toString(statusOfA().health), toString(NodeHealth::MostlyHealthy));

        // Round robin: every other session tries A first, fails, and retries on B.
        for (int i = 0; i < 4; ++i)
            QCOMPARE(greetingVia("127.0.0.1", port), QByteArray("B"));
        QTRY_COMPARE(toString(statusOfA().health), toString(NodeHealth::Unhealthy));
        QCOMPARE(statusOfA().checkTcpFailures, 3u);
        QVERIFY(!statusOfA().healthy);
        const quint64 failures = statusOfA().failures;
        QCOMPARE(failures, 2u);
        bool announced = false;
        for (const Event& e : engine.eventsSince(0, 100000))
            announced |= e.kind == EventKind::NodeDown &&
                         e.text == QStringLiteral("node %1 of upstream route:passive is down (3 "
                                                  "failed connects)")
                                       .arg(nodeA);
        QVERIFY(announced);
        for (int i = 0; i < 4; ++i)
            QCOMPARE(greetingVia("127.0.0.1", port), QByteArray("B"));
        QCOMPARE(statusOfA().failures, failures); // not tried any more
    }

    void snapshotCounters()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(engineOptions());
        const int port = freePort();
        engine.apply(oneRoute(port, route("n", upstream({node("127.0.0.1", echo.port())}))));
        const int a = connectTo("127.0.0.1", port, "127.0.0.2");
        const int b = connectTo("127.0.0.1", port, "127.0.0.3");
        QVERIFY(sendAll(a, "12345"));
        QCOMPARE(recvExactly(a, 5), QByteArray("12345"));
        QVERIFY(sendAll(b, "123"));
        QCOMPARE(recvExactly(b, 3), QByteArray("123"));
        QTRY_COMPARE_WITH_TIMEOUT(routeCounters(engine.snapshot(), "n").bytesDown, quint64(8),
                                  5000);
        Snapshot s = engine.snapshot();
        QCOMPARE(s.active.size(), 2);
        QVERIFY(s.active[0].id < s.active[1].id);
        // Two workers accept: the two clients may get their ids in either order.
        const bool firstIsA = s.active[0].clientAddress.toString() == QLatin1String("127.0.0.2");
        const ConnectionInfo& ca = s.active[firstIsA ? 0 : 1];
        QCOMPARE(ca.clientAddress.toString(), QStringLiteral("127.0.0.2"));
        QCOMPARE(s.active[firstIsA ? 1 : 0].clientAddress.toString(), QStringLiteral("127.0.0.3"));
        QCOMPARE(ca.localPort, quint16(port));
        QCOMPARE(ca.listener, QStringLiteral("127.0.0.1:%1").arg(port));
        QCOMPARE(ca.upstreamNode, QStringLiteral("127.0.0.1:%1").arg(echo.port()));
        QCOMPARE(toString(ca.state), toString(ConnectionState::Established));
        QVERIFY(ca.connectMs >= 0);
        QVERIFY(ca.startMs > 0 && ca.lastActivityMs >= ca.startMs);
        QCOMPARE(ca.bytesUp, quint64(5));
        QCOMPARE(ca.bytesDown, quint64(5));
        QCOMPARE(ca.buffered, quint64(0));
        QCOMPARE(s.nodes.value(0).active, quint64(2));

        ::shutdown(a, SHUT_WR);
        QCOMPARE(waitForEnd(a, 3000), ReadEnd::Eof);
        ::close(a);
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 1, 5000);
        s = engine.snapshot();
        const RouteCounters rc = routeCounters(s, "n");
        QCOMPARE(rc.total, quint64(2));
        QCOMPARE(rc.active, quint64(1));
        QCOMPARE(rc.maxActive, quint64(2));
        QCOMPARE(rc.bytesUp, quint64(8)); // closed + live sessions
        QCOMPARE(rc.bytesDown, quint64(8));
        QCOMPARE(s.listeners[0].active, quint64(1));
        QCOMPARE(s.listeners[0].bytesUp, quint64(8));
        QCOMPARE(s.nodes[0].active, quint64(1));
        QCOMPARE(s.nodes[0].total, quint64(2));
        QCOMPARE(s.closed[0].endMs >= s.closed[0].startMs, true);
        QCOMPARE(toString(s.closed[0].closeReason), toString(CloseReason::ClientClosed));
        ::close(b);
    }

    void closedHistoryIsBounded()
    {
        TestServer up(TestServer::Greet);
        up.holdMs = 1;
        EngineOptions o = engineOptions();
        o.closedHistory = 3;
        o.eventHistory = 5;
        Engine engine(o);
        const int port = freePort();
        engine.apply(oneRoute(port, route("h", upstream({node("127.0.0.1", up.port())}))));
        // One session at a time, each closed before the next opens: two workers may otherwise
        // close neighbouring sessions in either order, and the history keeps the order of closing.
        const auto lastClosedId = [&engine] {
            const Snapshot s = engine.snapshot();
            return s.closed.isEmpty() ? quint64(0) : quint64(s.closed.last().id);
        };
        for (int i = 0; i < 6; ++i) {
            const quint64 before = lastClosedId();
            QCOMPARE(greetingVia("127.0.0.1", port), QByteArray("hello\n"));
            QTRY_VERIFY_WITH_TIMEOUT(lastClosedId() != before, 5000);
        }
        const Snapshot s = engine.snapshot();
        QCOMPARE(s.closed.size(), 3);
        QCOMPARE(routeCounters(s, "h").total, quint64(6));
        QVERIFY(s.closed[0].id < s.closed[1].id && s.closed[1].id < s.closed[2].id);
        const QList<Event> events = engine.eventsSince(0);
        QCOMPARE(events.size(), 5);
        QCOMPARE(events.last().seq, s.lastEventSeq);
        QCOMPARE(events.first().seq, s.lastEventSeq - 4);
    }
};

QTEST_GUILESS_MAIN(TstEngineLimits)
#include "tst_engine_limits.moc"
