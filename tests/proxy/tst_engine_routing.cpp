// Which route a connection takes, and who is refused before any upstream connect: APISIX
// stream-route matching (remote_addr, server_addr, server_port, list order), IPv6 and
// IPv4-mapped peers, ip-restriction, listener bind errors, port ranges, a route whose upstream
// is gone.

#include "loopback.h"
#include "proxy/engine.h"
#include "proxyfixture.h"

#include <QSignalSpy>
#include <QTest>
#include <memory>
#include <thread>

using namespace sg;
using namespace sgtest;

namespace {

// eventLoop: "epoll", "poll" or empty for the platform's default.
EngineOptions smallEngine(const QString& eventLoop = {})
{
    EngineOptions o;
    o.workers = 2;
    o.eventLoop = eventLoop;
    return o;
}

// Test data: one row per worker event loop, the epoll one and the portable poll() one.
void eventLoopRows()
{
    QTest::addColumn<QString>("eventLoop");
    QTest::newRow("epoll") << "epoll";
    QTest::newRow("poll") << "poll";
}

bool hasEvent(const Engine& engine, EventKind kind, CloseReason reason)
{
    for (const Event& e : engine.eventsSince(0, 100000))
        if (e.kind == kind && e.connection.closeReason == reason)
            return true;
    return false;
}

} // namespace

class TstEngineRouting : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void apisixRemoteAddr_data()
    {
        QTest::addColumn<QString>("remoteAddr");
        QTest::addColumn<QString>("clientIp");
        QTest::addColumn<bool>("served");
        QTest::newRow("exact 127.0.0.1 admits 127.0.0.1") << "127.0.0.1"
                                                          << "127.0.0.1" << true;
        QTest::newRow("127.0.0.2 refuses 127.0.0.1") << "127.0.0.2"
                                                     << "127.0.0.1" << false;
        QTest::newRow("127.0.0.1/26 admits 127.0.0.1") << "127.0.0.1/26"
                                                       << "127.0.0.1" << true;
        QTest::newRow("127.0.0.1/26 admits 127.0.0.63") << "127.0.0.1/26"
                                                        << "127.0.0.63" << true;
        QTest::newRow("127.0.0.1/26 refuses 127.0.0.64") << "127.0.0.1/26"
                                                         << "127.0.0.64" << false;
        // As in APISIX, an IPv4 client is matched against IPv4 rules only.
        QTest::newRow("::/0 refuses IPv4 127.0.0.1") << "::/0"
                                                     << "127.0.0.1" << false;
        QTest::newRow("0.0.0.0/0 admits 127.0.0.1") << "0.0.0.0/0"
                                                    << "127.0.0.1" << true;
    }
    void apisixRemoteAddr()
    {
        QFETCH(QString, remoteAddr);
        QFETCH(QString, clientIp);
        QFETCH(bool, served);
        auto up = greeter("echo\n");
        Engine engine(smallEngine());
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << listenEntry("127.0.0.1", port);
        StreamRoute r = route("r1", upstream({node("127.0.0.1", up->port())}));
        r.remoteAddr = remoteAddr;
        c.streamRoutes << r;
        engine.apply(c);

        ReadEnd end;
        const QByteArray got = greetingVia("127.0.0.1", port, clientIp, &end);
        if (served) {
            QCOMPARE(got, QByteArray("echo\n"));
            QCOMPARE(up->accepted.load(), 1);
        } else {
            QVERIFY2(got.isEmpty(), got.constData());
            QVERIFY(end == ReadEnd::Eof || end == ReadEnd::Reset);
            QCOMPARE(up->accepted.load(), 0);
            const Snapshot s = engine.snapshot();
            QCOMPARE(s.listeners.size(), 1);
            QCOMPARE(s.listeners[0].noRoute, quint64(1));
            QVERIFY(hasEvent(engine, EventKind::Deny, CloseReason::NoRoute));
            QCOMPARE(s.denied.size(), 1);
            QCOMPARE(s.denied[0].clientIp, clientIp);
            QCOMPARE(s.denied[0].routeId, QString());
        }
    }

    void serverPortAndServerAddrAcrossListeners()
    {
        auto a = greeter("A");
        auto b = greeter("B");
        auto d = greeter("D");
        Engine engine(smallEngine());
        const int p1 = freePort();
        const int p2 = freePort(QStringLiteral("127.0.0.3"));
        const int p3 = freePort();
        Config c;
        c.streamProxy.tcp << listenEntry("127.0.0.1", p1) << listenEntry("127.0.0.3", p2)
                          << listenEntry({}, p3);
        StreamRoute byPort = route("by-port", upstream({node("127.0.0.1", a->port())}));
        byPort.serverPort = p1;
        StreamRoute byAddr = route("by-addr", upstream({node("127.0.0.1", b->port())}));
        byAddr.serverAddr = "127.0.0.3";
        StreamRoute both = route("both", upstream({node("127.0.0.1", d->port())}));
        both.serverAddr = "127.0.0.4";
        both.serverPort = p3;
        c.streamRoutes << byPort << byAddr << both;
        engine.apply(c);

        QCOMPARE(greetingVia("127.0.0.1", p1), QByteArray("A"));
        QCOMPARE(greetingVia("127.0.0.3", p2), QByteArray("B"));
        // The all-address listener: server_addr is the address the client dialled.
        QCOMPARE(greetingVia("127.0.0.4", p3), QByteArray("D"));
        QCOMPARE(greetingVia("127.0.0.5", p3), QByteArray()); // 127.0.0.5 matches no route
        const Snapshot s = engine.snapshot();
        QCOMPARE(s.listeners.size(), 3);
        QCOMPARE(s.listeners[2].noRoute, quint64(1));
        QCOMPARE(s.listeners[0].noRoute, quint64(0));
    }

    // A route whose upstream_id names nothing (APISIX's admin API leaves one when it deletes
    // an upstream a stream route names, and after a force delete), or that names no upstream
    // at all: each connection is closed at once, as APISIX's preread ends it, and counted as a
    // failed connect; once the upstream exists the route serves.
    void routeWithoutItsUpstreamClosesAtOnce()
    {
        auto up = greeter("here\n");
        Engine engine(smallEngine());
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << listenEntry("127.0.0.1", port);
        StreamRoute r;
        r.id = QStringLiteral("r");
        r.upstreamId = QStringLiteral("gone");
        c.streamRoutes << r;
        engine.apply(c);

        ReadEnd end;
        QCOMPARE(greetingVia("127.0.0.1", port, "127.0.0.1", &end), QByteArray());
        QVERIFY(end == ReadEnd::Eof || end == ReadEnd::Reset);
        QCOMPARE(routeCounters(engine.snapshot(), "r").connectFailures, quint64(1));
        QTRY_VERIFY(hasEvent(engine, EventKind::Close, CloseReason::ConnectFailed));

        c.streamRoutes[0].upstreamId = QJsonValue();
        engine.apply(c);
        QCOMPARE(greetingVia("127.0.0.1", port, "127.0.0.1", &end), QByteArray());
        QCOMPARE(routeCounters(engine.snapshot(), "r").connectFailures, quint64(2));

        Upstream gone = upstream({node("127.0.0.1", up->port())});
        gone.id = QStringLiteral("gone");
        c.upstreams << gone;
        c.streamRoutes[0].upstreamId = QStringLiteral("gone");
        engine.apply(c);
        QCOMPARE(greetingVia("127.0.0.1", port), QByteArray("here\n"));
    }

    void firstMatchWins()
    {
        auto a = greeter("A");
        auto b = greeter("B");
        Engine engine(smallEngine());
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << listenEntry("127.0.0.1", port);
        StreamRoute narrow = route("narrow", upstream({node("127.0.0.1", a->port())}));
        narrow.remoteAddr = "127.0.0.2";
        StreamRoute any = route("any", upstream({node("127.0.0.1", b->port())}));
        c.streamRoutes << narrow << any;
        engine.apply(c);
        QCOMPARE(greetingVia("127.0.0.1", port, "127.0.0.2"), QByteArray("A"));
        QCOMPARE(greetingVia("127.0.0.1", port, "127.0.0.1"), QByteArray("B"));

        // Reordered: the catch-all now comes first and takes everyone.
        c.streamRoutes = {any, narrow};
        engine.apply(c);
        QCOMPARE(greetingVia("127.0.0.1", port, "127.0.0.2"), QByteArray("B"));
    }

    void ipv6Route()
    {
        auto six = greeter("six", QStringLiteral("::1"));
        QVERIFY(six->ok());
        Engine engine(smallEngine());
        const int port = freePort(QStringLiteral("::1"));
        Config c;
        c.streamProxy.tcp << listenEntry("::1", port);
        StreamRoute r = route("v6", upstream({node("::1", six->port())}));
        r.remoteAddr = "::1";
        c.streamRoutes << r;
        engine.apply(c);
        QVERIFY(engine.snapshot().listeners.value(0).listening);
        QCOMPARE(greetingVia("::1", port), QByteArray("six"));
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 1, 5000);
        const ConnectionInfo info = engine.snapshot().closed.constFirst();
        QCOMPARE(info.clientAddress, QHostAddress(QStringLiteral("::1")));
        QCOMPARE(info.upstreamNode, QStringLiteral("[::1]:%1").arg(six->port()));

        r.remoteAddr = "::2";
        c.streamRoutes = {r};
        engine.apply(c);
        QCOMPARE(greetingVia("::1", port), QByteArray());
    }

    void ipv4MappedPeerMatchesIpv4Rule()
    {
        auto up = greeter("mapped");
        Engine engine(smallEngine());
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << listenEntry({},
                                         port); // all addresses, dual-stack: peers arrive mapped
        StreamRoute r = route("r", upstream({node("127.0.0.1", up->port())}));
        r.remoteAddr = "127.0.0.2/32";
        r.serverAddr = "127.0.0.1";
        c.streamRoutes << r;
        engine.apply(c);
        QCOMPARE(greetingVia("127.0.0.1", port, "127.0.0.2"), QByteArray("mapped"));
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 1, 5000);
        const ConnectionInfo info = engine.snapshot().closed.constFirst();
        QCOMPARE(info.clientAddress.protocol(), QAbstractSocket::IPv4Protocol);
        QCOMPARE(info.clientAddress.toString(), QStringLiteral("127.0.0.2"));
        QCOMPARE(info.localAddress.toString(), QStringLiteral("127.0.0.1"));
        QCOMPARE(info.listener, QString::number(port));
    }

    void ipRestriction_data()
    {
        QTest::addColumn<QStringList>("whitelist");
        QTest::addColumn<QStringList>("blacklist");
        QTest::addColumn<QString>("clientIp");
        QTest::addColumn<bool>("served");
        QTest::newRow("whitelisted client served")
            << QStringList{"127.0.0.2"} << QStringList{} << "127.0.0.2" << true;
        QTest::newRow("client outside whitelist refused")
            << QStringList{"127.0.0.2"} << QStringList{} << "127.0.0.1" << false;
        QTest::newRow("whitelist CIDR admits")
            << QStringList{"10.0.0.1", "127.0.0.0/29"} << QStringList{} << "127.0.0.7" << true;
        QTest::newRow("blacklisted CIDR refused")
            << QStringList{} << QStringList{"127.0.0.0/30"} << "127.0.0.3" << false;
        QTest::newRow("client outside blacklist served")
            << QStringList{} << QStringList{"127.0.0.0/30"} << "127.0.0.9" << true;
        // IPv6 entries say nothing about IPv4 clients (APISIX matches each family apart).
        QTest::newRow("::/0 whitelist refuses an IPv4 client")
            << QStringList{"::/0"} << QStringList{} << "127.0.0.2" << false;
        QTest::newRow("::/0 blacklist serves an IPv4 client")
            << QStringList{} << QStringList{"::/0"} << "127.0.0.2" << true;
    }
    void ipRestriction()
    {
        QFETCH(QStringList, whitelist);
        QFETCH(QStringList, blacklist);
        QFETCH(QString, clientIp);
        QFETCH(bool, served);
        auto up = greeter("in");
        Engine engine(smallEngine());
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << listenEntry("127.0.0.1", port);
        StreamRoute r = route("guarded", upstream({node("127.0.0.1", up->port())}));
        IpRestrictionConf conf;
        conf.whitelist = whitelist;
        conf.blacklist = blacklist;
        r.plugins.ipRestriction = conf;
        c.streamRoutes << r;
        engine.apply(c);

        ReadEnd end;
        const QByteArray got = greetingVia("127.0.0.1", port, clientIp, &end);
        const Snapshot s = engine.snapshot();
        const RouteCounters rc = routeCounters(s, "guarded");
        if (served) {
            QCOMPARE(got, QByteArray("in"));
            QCOMPARE(rc.deniedIpRestriction, quint64(0));
        } else {
            QVERIFY(got.isEmpty());
            QVERIFY(end == ReadEnd::Eof || end == ReadEnd::Reset);
            QCOMPARE(up->accepted.load(), 0); // refused before any upstream connect
            QCOMPARE(rc.deniedIpRestriction, quint64(1));
            QCOMPARE(rc.total, quint64(0));
            QCOMPARE(s.denied.size(), 1);
            QCOMPARE(s.denied[0].clientIp, clientIp);
            QCOMPARE(s.denied[0].routeId, QStringLiteral("guarded"));
            QCOMPARE(s.denied[0].count, quint64(1));
            QVERIFY(hasEvent(engine, EventKind::Deny, CloseReason::DeniedIpRestriction));
            // A second attempt from the same client is grouped with the first.
            greetingVia("127.0.0.1", port, clientIp);
            QCOMPARE(engine.snapshot().denied.value(0).count, quint64(2));
        }
    }

    void bindErrorLeavesOtherListenersRunning()
    {
        int busyPort = 0;
        const int blocker = listenOn("127.0.0.1", 0, 1, &busyPort);
        QVERIFY(blocker >= 0);
        auto up = greeter("ok");
        Engine engine(smallEngine());
        const int freeP = freePort();
        Config c;
        c.streamProxy.tcp << listenEntry("127.0.0.1", busyPort) << listenEntry("127.0.0.1", freeP);
        c.streamRoutes << route("r", upstream({node("127.0.0.1", up->port())}));
        engine.apply(c);
        const Snapshot s = engine.snapshot();
        QCOMPARE(s.listeners.size(), 2);
        QVERIFY(!s.listeners[0].listening);
        QVERIFY2(s.listeners[0].error.contains(QLatin1String("in use"), Qt::CaseInsensitive),
                 qPrintable(s.listeners[0].error));
        QVERIFY(s.listeners[1].listening);
        QVERIFY(s.listeners[1].error.isEmpty());
        QCOMPARE(greetingVia("127.0.0.1", freeP), QByteArray("ok"));
        bool eventSeen = false;
        for (const Event& e : engine.eventsSince(0))
            eventSeen |=
                e.kind == EventKind::ListenerError && e.text.contains(QString::number(busyPort));
        QVERIFY(eventSeen);
        ::close(blocker);
    }

    // A port range listens on every port of it; server_port matches the port a client
    // connected to, as for single ports. Each port is a listener of its own in the snapshot,
    // and the range is announced by one event.
    void serverPortAcrossARange()
    {
        auto a = greeter("A");
        auto b = greeter("B");
        Engine engine(smallEngine());
        const int first = freePortRun(3);
        QVERIFY(first > 0);
        Config c;
        c.streamProxy.tcp << listenRange("127.0.0.1", first, first + 2);
        StreamRoute onFirst = route("first", upstream({node("127.0.0.1", a->port())}));
        onFirst.serverPort = first;
        StreamRoute onLast = route("last", upstream({node("127.0.0.1", b->port())}));
        onLast.serverPort = first + 2;
        c.streamRoutes << onFirst << onLast;
        engine.apply(c);

        const Snapshot s = engine.snapshot();
        QCOMPARE(s.listeners.size(), 3);
        for (int i = 0; i < 3; ++i) {
            QVERIFY(s.listeners[i].protocol == Protocol::Tcp);
            QCOMPARE(s.listeners[i].address, QStringLiteral("127.0.0.1:%1").arg(first + i));
            QCOMPARE(s.listeners[i].port, first + i);
            QVERIFY2(s.listeners[i].listening, qPrintable(s.listeners[i].error));
        }
        QCOMPARE(greetingVia("127.0.0.1", first), QByteArray("A"));
        QCOMPARE(greetingVia("127.0.0.1", first + 2), QByteArray("B"));
        QCOMPARE(greetingVia("127.0.0.1", first + 1), QByteArray()); // no route has that port
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().listeners[1].noRoute, quint64(1), 3000);
        QCOMPARE(routeCounters(engine.snapshot(), "first").total, quint64(1));
        QCOMPARE(routeCounters(engine.snapshot(), "last").total, quint64(1));
        QStringList up;
        for (const Event& e : engine.eventsSince(0))
            if (e.kind == EventKind::ListenerUp)
                up << e.text;
        QCOMPARE(up, QStringList{QStringLiteral("TCP listener 127.0.0.1:%1-%2 up (3 ports)")
                                     .arg(first)
                                     .arg(first + 2)});

        // Narrowing the range closes the port it no longer holds and keeps the others.
        c.streamProxy.tcp = {listenRange("127.0.0.1", first, first + 1)};
        engine.apply(c);
        QCOMPARE(engine.snapshot().listeners.size(), 2);
        QCOMPARE(greetingVia("127.0.0.1", first), QByteArray("A"));
        const auto refused = [port = first + 2] {
            const int fd = connectTo("127.0.0.1", port);
            if (fd >= 0)
                ::close(fd);
            return fd < 0;
        };
        QTRY_VERIFY_WITH_TIMEOUT(refused(), 3000);
    }

    // A port of a range that cannot be bound is that port's error, as for a single port; the
    // other ports of the range listen.
    void bindErrorInARangeLeavesItsOtherPorts()
    {
        const int first = freePortRun(3);
        QVERIFY(first > 0);
        const int blocker = listenOn("127.0.0.1", first + 1, 1);
        QVERIFY(blocker >= 0);
        auto up = greeter("ok");
        Engine engine(smallEngine());
        Config c;
        c.streamProxy.tcp << listenRange("127.0.0.1", first, first + 2);
        c.streamRoutes << route("r", upstream({node("127.0.0.1", up->port())}));
        engine.apply(c);
        const Snapshot s = engine.snapshot();
        QCOMPARE(s.listeners.size(), 3);
        QVERIFY(s.listeners[0].listening);
        QVERIFY(!s.listeners[1].listening);
        QVERIFY2(s.listeners[1].error.contains(QLatin1String("in use"), Qt::CaseInsensitive),
                 qPrintable(s.listeners[1].error));
        QVERIFY(s.listeners[2].listening);
        QCOMPARE(greetingVia("127.0.0.1", first), QByteArray("ok"));
        QCOMPARE(greetingVia("127.0.0.1", first + 2), QByteArray("ok"));
        QStringList errors;
        QStringList ups;
        for (const Event& e : engine.eventsSince(0)) {
            if (e.kind == EventKind::ListenerError)
                errors << e.text;
            if (e.kind == EventKind::ListenerUp)
                ups << e.text;
        }
        QCOMPARE(errors.size(), 1);
        QVERIFY2(
            errors.first().startsWith(QStringLiteral("TCP listener 127.0.0.1:%1: ").arg(first + 1)),
            qPrintable(errors.first()));
        QCOMPARE(ups, QStringList{QStringLiteral("TCP listener 127.0.0.1:%1-%2 up on 2 of 3 ports")
                                      .arg(first)
                                      .arg(first + 2)});
        ::close(blocker);
    }

    // The workers accept, a few clients per wake-up each: a burst far larger than that, queued
    // before any of it is accepted, is served whole, on the epoll loop and on the poll() one.
    void burstOfClientsIsServedWhole_data() { eventLoopRows(); }
    void burstOfClientsIsServedWhole()
    {
        QFETCH(QString, eventLoop);
        TestServer up(TestServer::Echo);
        QVERIFY(up.ok());
        Engine engine(smallEngine(eventLoop));
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << listenEntry("127.0.0.1", port);
        c.streamRoutes << route("burst", upstream({node("127.0.0.1", up.port())}));
        engine.apply(c);

        constexpr int kClients = 300;
        std::vector<int> clients;
        for (int i = 0; i < kClients; ++i) {
            const int fd = connectTo("127.0.0.1", port);
            QVERIFY2(fd >= 0, qPrintable(QStringLiteral("client %1 could not connect").arg(i)));
            clients.push_back(fd);
        }
        for (int i = 0; i < kClients; ++i)
            QVERIFY(sendAll(clients[size_t(i)], QByteArray("ping ") + QByteArray::number(i)));
        for (int i = 0; i < kClients; ++i) {
            const QByteArray want = QByteArray("ping ") + QByteArray::number(i);
            QCOMPARE(recvExactly(clients[size_t(i)], want.size()), want);
            ::close(clients[size_t(i)]);
        }
        QTRY_COMPARE_WITH_TIMEOUT(routeCounters(engine.snapshot(), "burst").total,
                                  quint64(kClients), 5000);
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().active.size(), 0, 5000);
    }

    // A client that connects the moment a listener opens is routed by the config that opened
    // it: the route table is in place before the workers accept (a client is not refused with
    // "no route" while a large table is still being built). Five openings, epoll and poll.
    void clientAtListenerOpeningIsRouted_data() { eventLoopRows(); }
    void clientAtListenerOpeningIsRouted()
    {
        QFETCH(QString, eventLoop);
        TestServer up(TestServer::Echo);
        QVERIFY(up.ok());
        Engine engine(smallEngine(eventLoop));
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << listenEntry("127.0.0.1", port);
        // Routes for ports nobody listens on make the table slow to build; the last one is ours.
        for (int i = 0; i < 3000; ++i) {
            StreamRoute other =
                route(QStringLiteral("other%1").arg(i), upstream({node("127.0.0.1", up.port())}));
            other.serverPort = 1 + (port + 1 + i) % 65535;
            c.streamRoutes << other;
        }
        c.streamRoutes << route("mine", upstream({node("127.0.0.1", up.port())}));
        for (int round = 0; round < 5; ++round) {
            // Connects until the listener is there (refused until then), then says hello.
            QByteArray got;
            std::thread client([&] {
                const qint64 deadline = nowMs() + 10000;
                int fd = -1;
                while (fd < 0 && nowMs() < deadline)
                    fd = connectTo("127.0.0.1", port, {}, 1000);
                if (fd < 0)
                    return;
                if (sendAll(fd, "hello"))
                    got = recvExactly(fd, 5, 5000);
                ::close(fd);
            });
            engine.apply(c);
            client.join();
            QCOMPARE(got, QByteArray("hello"));
            engine.apply(Config{}); // the listener closes again
        }
    }

    void eventsAreAnnouncedCoalesced()
    {
        auto up = greeter("hi");
        Engine engine(smallEngine());
        QSignalSpy spy(&engine, &Engine::eventsAvailable);
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << listenEntry("127.0.0.1", port);
        c.streamRoutes << route("r", upstream({node("127.0.0.1", up->port())}));
        engine.apply(c);
        for (int i = 0; i < 5; ++i)
            QCOMPARE(greetingVia("127.0.0.1", port), QByteArray("hi"));
        QVERIFY(spy.wait(2000));
        QTRY_VERIFY_WITH_TIMEOUT(engine.snapshot().closed.size() == 5, 5000);
        const QList<Event> all = engine.eventsSince(0);
        // listener up + 5 x (open, close), strictly increasing sequence numbers
        QCOMPARE(all.size(), 11);
        for (int i = 1; i < all.size(); ++i)
            QCOMPARE(all[i].seq, all[i - 1].seq + 1);
        QVERIFY(spy.count() < 11); // coalesced, not one signal per event
        QCOMPARE(engine.eventsSince(all.last().seq).size(), 0);
        QCOMPARE(engine.eventsSince(all[8].seq).size(), 2);
    }
};

QTEST_GUILESS_MAIN(TstEngineRouting)
#include "tst_engine_routing.moc"
