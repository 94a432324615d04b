// The stats hub on its own: bounded rings, contiguous event sequence numbers, the denied table
// grouped by (ip, route), route totals that include live sessions, and the cost of a snapshot
// of 10,000 open connections (QBENCHMARK; run with -tickcounter or -callgrind for detail).

#include "stats/statshub.h"

#include <QElapsedTimer>
#include <QTest>
#include <ctime>

using namespace sg;

namespace {

std::shared_ptr<ConnectionRecord> record(StatsHub& hub, const QString& routeId, quint32 ip)
{
    auto r = std::make_shared<ConnectionRecord>();
    r->base.id = hub.nextConnectionId();
    r->base.routeId = routeId;
    r->base.listener = QStringLiteral("127.0.0.1:9000");
    r->base.clientAddress = QHostAddress(ip);
    r->base.clientPort = 40000;
    r->base.localAddress = QHostAddress(QHostAddress::LocalHost);
    r->base.localPort = 9000;
    r->base.startMs = StatsHub::nowMs();
    r->route = hub.routeStats(routeId);
    r->listener = hub.listenerStats(r->base.listener);
    r->setUpstreamNode(QStringLiteral("127.0.0.1:3306"));
    return r;
}

} // namespace

class TstStatsHub : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void eventRingKeepsTheNewestWithContiguousSeq()
    {
        StatsHub hub(10, 4);
        for (int i = 0; i < 10; ++i)
            hub.addEvent(EventKind::Info, {}, QString::number(i));
        QCOMPARE(hub.lastEventSeq(), 10);
        const QList<Event> all = hub.eventsSince(0, 100);
        QCOMPARE(all.size(), 4);
        QCOMPARE(all.first().seq, 7);
        QCOMPARE(all.first().text, QStringLiteral("6"));
        QCOMPARE(hub.eventsSince(8, 100).size(), 2);
        QCOMPARE(hub.eventsSince(8, 1).size(), 1);
        QCOMPARE(hub.eventsSince(10, 100).size(), 0);
        QCOMPARE(hub.eventsSince(-5, 2).constLast().seq, 8);
    }

    // Default addresses share one null QHostAddress (no allocation per default ConnectionInfo);
    // setting one must leave the others and the shared one null.
    void defaultAddressesStayNullWhenOneIsSet()
    {
        ConnectionInfo a;
        const ConnectionInfo b;
        a.clientAddress.setAddress(QStringLiteral("127.0.0.2"));
        a.localAddress = QHostAddress(QHostAddress::LocalHost);
        a.peerAddress.setAddress(quint32(0x7f000003));
        a.proxyHeader.emplace();
        a.proxyHeader->address.setAddress(QStringLiteral("fe80::1"));
        a.proxyHeader->address.setScopeId(QStringLiteral("eth0"));
        QCOMPARE(a.clientAddress, QHostAddress(QStringLiteral("127.0.0.2")));
        QCOMPARE(a.peerAddress, QHostAddress(QStringLiteral("127.0.0.3")));
        QCOMPARE(a.proxyHeader->address.scopeId(), QStringLiteral("eth0"));
        QVERIFY(b.clientAddress.isNull());
        QVERIFY(b.localAddress.isNull());
        QVERIFY(b.peerAddress.isNull());
        QVERIFY(ProxyHeaderInfo().address.isNull());
        QVERIFY(nullAddress().isNull());
        QVERIFY(nullAddress().scopeId().isEmpty());
        a.clientAddress.clear();
        QVERIFY(a.clientAddress.isNull());
        QCOMPARE(a.localAddress, QHostAddress(QHostAddress::LocalHost));
    }

    void closedRingAndTotals()
    {
        StatsHub hub(2, 100);
        hub.setTopology({"a"}, {}, {});
        QList<std::shared_ptr<ConnectionRecord>> open;
        for (int i = 0; i < 3; ++i) {
            auto r = record(hub, "a", 0x7f000001);
            hub.opened(r);
            r->bytesUp.add(10);
            r->bytesDown.add(100);
            open << r;
        }
        Snapshot s = hub.snapshot();
        QCOMPARE(s.active.size(), 3);
        QCOMPARE(s.routes.size(), 1);
        QCOMPARE(s.routes[0].active, quint64(3));
        QCOMPARE(s.routes[0].bytesDown, quint64(300));
        hub.closed(open[0], CloseReason::ClientClosed);
        hub.closed(open[1], CloseReason::Killed);
        hub.closed(open[2], CloseReason::IdleTimeout);
        s = hub.snapshot();
        QCOMPARE(s.active.size(), 0);
        QCOMPARE(s.closed.size(), 2); // bounded, oldest dropped
        QCOMPARE(toString(s.closed[0].closeReason), toString(CloseReason::Killed));
        QCOMPARE(toString(s.closed[1].closeReason), toString(CloseReason::IdleTimeout));
        QCOMPARE(toString(s.closed[1].state), toString(ConnectionState::Closed));
        QVERIFY(s.closed[1].endMs >= s.closed[1].startMs);
        QCOMPARE(s.routes[0].total, quint64(3));
        QCOMPARE(s.routes[0].active, quint64(0));
        QCOMPARE(s.routes[0].maxActive, quint64(3));
        QCOMPARE(s.routes[0].bytesUp, quint64(30)); // closed sessions still count
        QCOMPARE(s.routes[0].bytesDown, quint64(300));

        // open x3, close x3; texts are written for the reader
        const QList<Event> events = hub.eventsSince(0, 100);
        QCOMPARE(events.size(), 6);
        QVERIFY2(events[0].text.contains(QLatin1String("-> route a")), qPrintable(events[0].text));
        QVERIFY2(
            events[4].text.contains(QLatin1String("closed (killed), 10 bytes up, 100 bytes down")),
            qPrintable(events[4].text));
    }

    void deniedClientsAreGroupedByIpAndRoute()
    {
        StatsHub hub(10, 100);
        auto deny = [&](const QString& ip, const QString& route, CloseReason reason) {
            ConnectionInfo c;
            c.clientAddress = QHostAddress(ip);
            c.routeId = route;
            c.closeReason = reason;
            hub.denied(c, QStringLiteral("refused"));
        };
        deny("10.0.0.1", "db", CloseReason::DeniedIpRestriction);
        deny("10.0.0.1", "db", CloseReason::DeniedIpRestriction);
        deny("10.0.0.1", "web", CloseReason::Limited);
        deny("10.0.0.2", "", CloseReason::NoRoute);
        const Snapshot s = hub.snapshot();
        QCOMPARE(s.denied.size(), 3);
        int checked = 0;
        for (const DeniedClient& d : s.denied) {
            if (d.clientIp == "10.0.0.1" && d.routeId == "db") {
                QCOMPARE(d.count, quint64(2));
                QCOMPARE(toString(d.reason), toString(CloseReason::DeniedIpRestriction));
                QVERIFY(d.lastSeenMs >= d.firstSeenMs);
                ++checked;
            } else if (d.routeId == "web") {
                QCOMPARE(d.count, quint64(1));
                QCOMPARE(toString(d.reason), toString(CloseReason::Limited));
                ++checked;
            } else {
                QCOMPARE(toString(d.reason), toString(CloseReason::NoRoute));
                ++checked;
            }
        }
        QCOMPARE(checked, 3);
        QCOMPARE(hub.eventsSince(0, 100).size(), 4);
        QCOMPARE(toString(hub.eventsSince(0, 100).first().kind), toString(EventKind::Deny));
    }

    void snapshotOfTenThousandConnections()
    {
        StatsHub hub(1000, 100000);
        hub.setTopology({"a", "b"}, {}, {});
        QList<std::shared_ptr<ConnectionRecord>> open;
        for (int i = 0; i < 10000; ++i) {
            auto r = record(hub, i % 2 ? "a" : "b", 0x0a000000u + quint32(i));
            hub.opened(r);
            r->bytesUp.add(quint64(i));
            open << r;
        }
        // A direct figure independent of the benchmark harness' settings.
        // Thread CPU time as well as wall time: on a loaded machine the wall figure mostly
        // measures the scheduler.
        auto cpuNs = [] {
            timespec ts;
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
            return qint64(ts.tv_sec) * 1000000000 + ts.tv_nsec;
        };
        hub.snapshot(); // warm
        QElapsedTimer t;
        t.start();
        const qint64 cpu0 = cpuNs();
        const Snapshot once = hub.snapshot();
        const qint64 cpu = cpuNs() - cpu0;
        qInfo("one snapshot of %lld connections: %.2f ms wall, %.2f ms CPU",
              qlonglong(once.active.size()), double(t.nsecsElapsed()) / 1e6, double(cpu) / 1e6);
        QCOMPARE(once.active.size(), 10000);
        QCOMPARE(once.routes[0].bytesUp + once.routes[1].bytesUp, quint64(9999) * 10000 / 2);
        QBENCHMARK
        {
            const Snapshot s = hub.snapshot();
            Q_UNUSED(s);
        }
    }
};

QTEST_GUILESS_MAIN(TstStatsHub)
#include "tst_statshub.moc"
