// The smaller snapshot-fed models: denied clients (grouping, one first-refusal per client and
// route), per-route statistics (rates, 5-minute history), nodes and the capped event log; the
// routes list's listener column for a port range.
#include "models/deniedclientsmodel.h"
#include "models/eventlogmodel.h"
#include "models/nodesmodel.h"
#include "models/roles.h"
#include "models/routesmodel.h"
#include "models/routestatsmodel.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

using namespace sg;
using namespace sg::ui;

namespace {

constexpr qint64 T0 = 1'700'000'000'000;

DeniedClient denied(const QString& ip, const QString& route, quint64 count, qint64 last = T0)
{
    DeniedClient d;
    d.clientIp = ip;
    d.routeId = route;
    d.count = count;
    d.firstSeenMs = T0;
    d.lastSeenMs = last;
    return d;
}

RouteCounters counters(const QString& route, quint64 up, quint64 down, quint64 active = 1)
{
    RouteCounters c;
    c.routeId = route;
    c.bytesUp = up;
    c.bytesDown = down;
    c.active = active;
    return c;
}

} // namespace

class TestStatsModels : public QObject
{
    Q_OBJECT

private slots:
    void deniedFirstRefusalOncePerClientAndRoute()
    {
        DeniedClientsModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setRouteNames({{"db", "Local MySQL"}});
        QSignalSpy first(&model, &DeniedClientsModel::firstRefusal);
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);

        Snapshot s;
        s.denied = {denied("192.168.1.20", "db", 1)};
        model.applySnapshot(s);
        QCOMPARE(first.size(), 1);
        QCOMPARE(first.at(0).at(0).value<DeniedClient>().clientIp, QStringLiteral("192.168.1.20"));
        QCOMPARE(model.index(0, DeniedClientsModel::RouteColumn).data().toString(),
                 QStringLiteral("Local MySQL"));
        QCOMPARE(model.index(0, DeniedClientsModel::ActionColumn).data(ButtonRole).toString(),
                 QStringLiteral("Allow"));

        // Same pair again (more attempts): a row update, no new notification.
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        s.denied = {denied("192.168.1.20", "db", 4, T0 + 500)};
        model.applySnapshot(s);
        QCOMPARE(first.size(), 1);
        QCOMPARE(changed.size(), 1);
        QCOMPARE(model.index(0, DeniedClientsModel::CountColumn).data(RawValueRole).toULongLong(),
                 4u);

        // The same IP on another route is a different pair; a no-route refusal has no Allow.
        DeniedClient noRoute = denied("192.168.1.20", "", 1);
        noRoute.reason = CloseReason::NoRoute;
        s.denied = {denied("192.168.1.20", "db", 4, T0 + 500), denied("192.168.1.20", "pg", 1),
                    noRoute};
        model.applySnapshot(s);
        QCOMPARE(first.size(), 3);
        QCOMPARE(model.rowCount(), 3);
        QVERIFY(
            model.index(2, DeniedClientsModel::ActionColumn).data(ButtonRole).toString().isEmpty());

        // Gone from the engine (e.g. after Allow and a restart of counting): removed, not reset.
        s.denied = {denied("192.168.1.20", "pg", 1)};
        model.applySnapshot(s);
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(model.index(0, DeniedClientsModel::RouteColumn).data(RouteIdRole).toString(),
                 QStringLiteral("pg"));
        // And coming back later does not notify again.
        s.denied << denied("192.168.1.20", "db", 1);
        model.applySnapshot(s);
        QCOMPARE(first.size(), 3);
        QCOMPARE(reset.size(), 0);
    }

    // Who the client is arrives after the refusal: the row updates in place with its host name
    // in the Client column and its program (command line in the tooltip).
    void deniedClientShowsHostAndProgram()
    {
        DeniedClientsModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        Snapshot s;
        s.denied = {denied("192.168.1.20", "db", 1), denied("127.0.0.2", "db", 1)};
        model.applySnapshot(s);
        QCOMPARE(model.index(0, DeniedClientsModel::ProgramColumn).data().toString(), QString());
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        s.denied[0].clientHost = QStringLiteral("alice-laptop");
        s.denied[1].clientProcess = {
            4242, QStringLiteral("mysql"), QStringLiteral("mysql -h 127.0.0.1 -P 13306"), {}};
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        model.applySnapshot(s);
        QVERIFY(!changed.isEmpty()); // updated in place
        QCOMPARE(inserted.size(), 0);
        QCOMPARE(model.index(0, DeniedClientsModel::ClientColumn).data().toString(),
                 QStringLiteral("alice-laptop (192.168.1.20)"));
        QCOMPARE(model.index(0, DeniedClientsModel::ClientColumn).data(RawValueRole).toString(),
                 QStringLiteral("192.168.1.20"));
        QCOMPARE(model.index(1, DeniedClientsModel::ProgramColumn).data().toString(),
                 QStringLiteral("mysql (4242)"));
        QVERIFY(model.index(1, DeniedClientsModel::ProgramColumn)
                    .data(Qt::ToolTipRole)
                    .toString()
                    .contains(QStringLiteral("mysql -h 127.0.0.1 -P 13306")));
    }

    void routeStatsRatesAndHistory()
    {
        RouteStatsModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setHistorySpanMs(10'000);
        Snapshot s;
        for (int i = 0; i <= 60; ++i) {
            s.takenMs = T0 + i * 250;
            // 1000 B/s up, 4000 B/s down.
            s.routes = {counters("db", quint64(i) * 250, quint64(i) * 1000, quint64(i % 3))};
            model.applySnapshot(s);
        }
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(model.index(0, RouteStatsModel::RateUpColumn).data(RawValueRole).toDouble(),
                 1000.0);
        QCOMPARE(model.index(0, RouteStatsModel::RateDownColumn).data(RawValueRole).toDouble(),
                 4000.0);
        QCOMPARE(model.totalRateDown(), 4000.0);
        const QList<double> trend =
            model.index(0, RouteStatsModel::TrendColumn).data(HistoryRole).value<QList<double>>();
        QCOMPARE(trend.size(), 41); // bounded by the 10 s history here (60 points otherwise)
        QCOMPARE(trend.last(), 5000.0);

        // History keeps the last 10 s only (41 samples at 4/s), oldest first.
        const QList<RouteSample> history = model.history("db");
        QCOMPARE(history.size(), 41);
        QCOMPARE(history.first().timeMs, T0 + 20 * 250);
        QCOMPARE(history.last().timeMs, T0 + 60 * 250);
        QCOMPARE(history.last().active, 0u);

        // A route whose counters restart (re-created) never shows a negative rate.
        s.takenMs += 250;
        s.routes = {counters("db", 10, 10)};
        model.applySnapshot(s);
        QCOMPARE(model.index(0, RouteStatsModel::RateUpColumn).data(RawValueRole).toDouble(), 40.0);

        s.takenMs += 250;
        s.routes.clear();
        model.applySnapshot(s);
        QCOMPARE(model.rowCount(), 0);
        QVERIFY(model.history("db").isEmpty());
    }

    void nodesHealth()
    {
        NodesModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setNames({{"db", "Local MySQL"}}, {});
        NodeStatus up{"route:db", "127.0.0.1:3306", 1, 5, 0, true, true};
        NodeStatus down{"route:db", "127.0.0.1:3307", 0, 0, 3, false, true};
        Snapshot s;
        s.nodes = {up, down};
        model.applySnapshot(s);
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(model.index(0, NodesModel::UpstreamColumn).data().toString(),
                 QStringLiteral("Local MySQL (inline)"));
        QCOMPARE(model.index(0, NodesModel::HealthColumn).data(HealthRole).toInt(), 1);
        QCOMPARE(model.index(1, NodesModel::HealthColumn).data(HealthRole).toInt(), 3);
        QCOMPARE(model.index(1, NodesModel::HealthColumn).data().toString(),
                 QStringLiteral("Down"));

        // APISIX's in-between states, and the checker's counters in the tooltip.
        NodeStatus failing = up;
        failing.health = NodeHealth::MostlyHealthy;
        failing.checkTcpFailures = 1;
        failing.checkHttpFailures = 2;
        s.nodes = {failing, down};
        model.applySnapshot(s);
        QCOMPARE(model.index(0, NodesModel::HealthColumn).data().toString(),
                 QStringLiteral("Mostly healthy"));
        QCOMPARE(model.index(0, NodesModel::HealthColumn).data(HealthRole).toInt(), 2);
        QCOMPARE(model.index(0, NodesModel::HealthColumn).data(Qt::ToolTipRole).toString(),
                 QStringLiteral("Health check: 1 failed connects, 2 HTTP failures, 0 timeouts, "
                                "0 successful checks in a row"));
        NodeStatus unchecked = up;
        unchecked.checked = false;
        s.nodes = {unchecked};
        model.applySnapshot(s);
        QCOMPARE(model.index(0, NodesModel::HealthColumn).data().toString(),
                 QStringLiteral("Up (not checked)"));
    }

    void eventLogAppendsAndCaps()
    {
        EventLogModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setLimit(5);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
        QList<Event> events;
        for (int i = 1; i <= 4; ++i)
            events << Event{i, T0 + i, EventKind::Open, "db", QStringLiteral("open %1").arg(i), {}};
        model.addEvents(events);
        QCOMPARE(model.rowCount(), 4);
        // Overlapping batch: seq 3-4 already seen, 5-7 new; the cap drops the 2 oldest.
        QList<Event> more;
        for (int i = 3; i <= 7; ++i)
            more << Event{i, T0 + i, EventKind::Deny, "db", QStringLiteral("deny %1").arg(i), {}};
        model.addEvents(more);
        QCOMPARE(model.rowCount(), 5);
        QCOMPARE(model.lastSeq(), 7);
        QCOMPARE(model.eventAt(0).seq, 3);
        QCOMPARE(model.eventAt(4).text, QStringLiteral("deny 7"));
        QCOMPARE(inserted.size(), 2);
        QCOMPARE(removed.size(), 1);
        QCOMPARE(model.index(4, EventLogModel::KindColumn).data(HealthRole).toInt(), 3);
    }

    // A route on a port of a range shows that port as its listener, and the state of that
    // port's listener (each port of a range is a listener of its own).
    void routeOnAPortOfARange()
    {
        Config config;
        ListenEntry range;
        range.host = QStringLiteral("127.0.0.1");
        range.port = 2000;
        range.portEnd = 2002;
        config.streamProxy.tcp << range;
        for (const int port : {2001, 2002}) {
            StreamRoute r;
            r.id = QStringLiteral("r%1").arg(port);
            r.serverPort = port;
            config.streamRoutes << r;
        }
        RoutesModel model; // display texts only: its icons need a QApplication
        model.setConfig(config);
        QList<ListenerStatus> listeners;
        for (const int port : {2000, 2001, 2002}) {
            ListenerStatus l;
            l.address = QStringLiteral("127.0.0.1:%1").arg(port);
            l.port = port;
            l.listening = port != 2002;
            l.error = port == 2002 ? QStringLiteral("Address already in use") : QString();
            listeners << l;
        }
        model.setListeners(listeners);
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(model.index(0, RoutesModel::ListenColumn).data().toString(),
                 QStringLiteral("127.0.0.1:2001"));
        QCOMPARE(model.index(0, RoutesModel::ProtoColumn).data().toString(), QStringLiteral("TCP"));
        QCOMPARE(model.index(0, RoutesModel::StatusColumn).data().toString(),
                 QStringLiteral("Listening"));
        QCOMPARE(model.index(1, RoutesModel::ListenColumn).data().toString(),
                 QStringLiteral("127.0.0.1:2002"));
        QCOMPARE(model.index(1, RoutesModel::StatusColumn).data().toString(),
                 QStringLiteral("Error: Address already in use"));
    }
};

QTEST_GUILESS_MAIN(TestStatsModels)
#include "tst_statsmodels.moc"
