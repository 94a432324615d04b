// ConnectionTableModel applies snapshots as row-level changes: these tests feed synthetic
// snapshots and check the exact signals, that selection and persistent indexes follow their
// connection while rows come and go, and that rates and sorting use raw numbers.
#include "csv.h"
#include "models/connectionfilter.h"
#include "models/connectiontablemodel.h"
#include "models/roles.h"

#include <QAbstractItemModelTester>
#include <QItemSelectionModel>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTest>
#include <algorithm>
#include <memory>

using namespace sg;
using namespace sg::ui;

namespace {

constexpr qint64 T0 = 1'700'000'000'000;

ConnectionInfo conn(quint64 id, quint64 up = 0, quint64 down = 0, const QString& route = "db")
{
    ConnectionInfo c;
    c.id = id;
    c.routeId = route;
    c.clientAddress = QHostAddress(QStringLiteral("10.0.0.%1").arg(id % 250 + 1));
    c.clientPort = quint16(40000 + id);
    c.upstreamNode = QStringLiteral("127.0.0.1:3306");
    c.state = ConnectionState::Established;
    c.startMs = T0;
    c.bytesUp = up;
    c.bytesDown = down;
    return c;
}

Snapshot snap(qint64 takenMs, const QList<ConnectionInfo>& active,
              const QList<ConnectionInfo>& closed = {})
{
    Snapshot s;
    s.takenMs = takenMs;
    s.active = active;
    s.closed = closed;
    return s;
}

QList<ConnectionInfo> range(quint64 first, quint64 last)
{
    QList<ConnectionInfo> list;
    for (quint64 id = first; id <= last; ++id)
        list << conn(id);
    return list;
}

ConnectionInfo closedConn(ConnectionInfo c, qint64 endMs, CloseReason reason)
{
    c.state = ConnectionState::Closed;
    c.endMs = endMs;
    c.closeReason = reason;
    return c;
}

QList<quint64> ids(const ConnectionTableModel& model)
{
    QList<quint64> list;
    for (int row = 0; row < model.rowCount(); ++row)
        list << model.connectionAt(row).id;
    return list;
}

// As in the window: the model behind the sorting filter sorted by ID, both checked by
// QAbstractItemModelTester, and a selection on the filter.
struct SortedTable
{
    explicit SortedTable(Qt::SortOrder order)
    {
        proxy.setSourceModel(&model);
        proxy.sort(ConnectionTableModel::IdColumn, order);
        proxyTester = std::make_unique<QAbstractItemModelTester>(
            &proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    }
    ConnectionTableModel model;
    QAbstractItemModelTester tester{&model, QAbstractItemModelTester::FailureReportingMode::QtTest};
    ConnectionFilter proxy;
    std::unique_ptr<QAbstractItemModelTester> proxyTester;
    QItemSelectionModel selection{&proxy};
};

} // namespace

class TestConnectionModel : public QObject
{
    Q_OBJECT

private slots:
    void mySqlColumnsFollowTheInspector()
    {
        ConnectionTableModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy seen(&model, &ConnectionTableModel::databaseFirstSeen);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);

        ConnectionInfo c = conn(1);
        model.applySnapshot(snap(T0 + 1000, {c, conn(2)}));
        QVERIFY(!model.databaseSeen());
        QCOMPARE(seen.size(), 0);
        QCOMPARE(model.index(0, ConnectionTableModel::MySqlUserColumn).data().toString(),
                 QString());
        QCOMPARE(model.index(0, ConnectionTableModel::MySqlTlsColumn).data().toString(), QString());
        QVERIFY(
            !model.index(0, ConnectionTableModel::MySqlQueriesColumn).data(RawValueRole).isValid());

        c.mysql.edit().detected = true;
        c.mysql.edit().serverVersion = QStringLiteral("10.11.19-MariaDB-0+deb12u1");
        c.mysql.edit().user = QStringLiteral("sg");
        c.mysql.edit().database = QStringLiteral("sgtest");
        // Detected, commands not counted: "–", not a 0 that reads as "no queries".
        model.applySnapshot(snap(T0 + 1050, {c, conn(2)}));
        QCOMPARE(model.index(0, ConnectionTableModel::MySqlQueriesColumn).data().toString(),
                 QStringLiteral("–"));
        QVERIFY(
            !model.index(0, ConnectionTableModel::MySqlQueriesColumn).data(RawValueRole).isValid());
        QVERIFY(model.index(0, ConnectionTableModel::MySqlQueriesColumn)
                    .data(Qt::ToolTipRole)
                    .toString()
                    .contains(QStringLiteral("counting is off")));
        QVERIFY(!model.index(0, ConnectionTableModel::ClientColumn)
                     .data(Qt::ToolTipRole)
                     .toString()
                     .contains(QStringLiteral("commands")));
        c.mysql.edit().commandsCounted = true;
        c.mysql.edit().commands = 3;
        changed.clear();
        model.applySnapshot(snap(T0 + 1100, {c, conn(2)}));
        QVERIFY(model.databaseSeen());
        QCOMPARE(seen.size(), 1);
        QVERIFY(!changed.isEmpty());
        QCOMPARE(changed.constLast().at(1).toModelIndex().column(),
                 ConnectionTableModel::ColumnCount - 1);
        QCOMPARE(model.index(0, ConnectionTableModel::MySqlUserColumn).data().toString(),
                 QStringLiteral("sg"));
        QCOMPARE(model.index(0, ConnectionTableModel::MySqlDatabaseColumn).data().toString(),
                 QStringLiteral("sgtest"));
        QCOMPARE(model.index(0, ConnectionTableModel::MySqlServerColumn).data().toString(),
                 c.mysql->serverVersion);
        QCOMPARE(model.index(0, ConnectionTableModel::MySqlTlsColumn).data().toString(),
                 QStringLiteral("no"));
        QCOMPARE(model.index(0, ConnectionTableModel::MySqlTlsColumn).data(RawValueRole),
                 QVariant(false));
        QCOMPARE(model.index(0, ConnectionTableModel::MySqlQueriesColumn)
                     .data(RawValueRole)
                     .toULongLong(),
                 3u);
        QCOMPARE(model.index(1, ConnectionTableModel::MySqlUserColumn).data().toString(),
                 QString());

        c.mysql.edit().tls = true;
        c.mysql.edit().commands = 4;
        model.applySnapshot(snap(T0 + 1200, {c, conn(2)}));
        QCOMPARE(model.index(0, ConnectionTableModel::MySqlTlsColumn).data().toString(),
                 QStringLiteral("yes"));
        QCOMPARE(model.index(0, ConnectionTableModel::MySqlQueriesColumn).data().toString(),
                 QStringLiteral("4"));
        QCOMPARE(seen.size(), 1); // only the first time
        QCOMPARE(model.headerData(ConnectionTableModel::MySqlUserColumn, Qt::Horizontal).toString(),
                 QStringLiteral("User"));
    }

    // An MQTT client (a route with mqtt-proxy) shows its client id in the user column, which
    // the view reveals as it does for a database connection.
    void mqttClientIdInTheUserColumn()
    {
        ConnectionTableModel model;
        QSignalSpy seen(&model, &ConnectionTableModel::databaseFirstSeen);
        ConnectionInfo c = conn(1);
        c.mqtt.edit().detected = true;
        c.mqtt.edit().protocolName = QStringLiteral("MQTT");
        c.mqtt.edit().protocolLevel = 4;
        c.mqtt.edit().clientId = QStringLiteral("sensor-7");
        model.applySnapshot(snap(T0 + 1000, {c, conn(2)}));
        QCOMPARE(seen.size(), 1);
        QCOMPARE(model.index(0, ConnectionTableModel::MySqlUserColumn).data().toString(),
                 QStringLiteral("sensor-7"));
        QCOMPARE(model.index(1, ConnectionTableModel::MySqlUserColumn).data().toString(),
                 QString());
        QVERIFY(
            model.headerData(ConnectionTableModel::MySqlUserColumn, Qt::Horizontal, Qt::ToolTipRole)
                .toString()
                .contains(QStringLiteral("MQTT client id")));
    }

    // A paused connection says so in the State column, with the whole seconds left; the row
    // changes when the pause starts and ends.
    void pausedConnectionCountsDown()
    {
        ConnectionTableModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        const auto state = [&model] {
            return model.index(0, ConnectionTableModel::StateColumn).data().toString();
        };
        ConnectionInfo c = conn(1);
        model.applySnapshot(snap(T0 + 1000, {c}));
        QCOMPARE(state(), QStringLiteral("Established"));

        c.pausedUntilMs = T0 + 1250 + 30000;
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        model.applySnapshot(snap(T0 + 1250, {c}));
        QCOMPARE(changed.size(), 1);
        QCOMPARE(state(), QStringLiteral("Paused 30 s"));
        model.applySnapshot(snap(T0 + 1250 + 6500, {c}));
        QCOMPARE(state(), QStringLiteral("Paused 24 s")); // 23.5 s left, rounded up
        QVERIFY(model.index(0, ConnectionTableModel::StateColumn)
                    .data(Qt::ToolTipRole)
                    .toString()
                    .startsWith("Paused until "));

        c.pausedUntilMs = 0;
        changed.clear();
        model.applySnapshot(snap(T0 + 1250 + 6600, {c}));
        QCOMPARE(changed.size(), 1);
        QCOMPARE(state(), QStringLiteral("Established"));
        // A connection that closes while paused reads Closed.
        c.pausedUntilMs = T0 + 60000;
        model.applySnapshot(snap(T0 + 8000, {c}));
        model.applySnapshot(
            snap(T0 + 8250, {}, {closedConn(c, T0 + 8100, CloseReason::OperatorReset)}));
        QCOMPARE(state(), QStringLiteral("Closed"));
        QCOMPARE(model.index(0, ConnectionTableModel::CloseReasonColumn).data().toString(),
                 QStringLiteral("Reset by user"));
    }

    // The close reason column says who closed first when the other side ended the session;
    // its tooltip gives the phase and the timers ("–" for a first byte that never came).
    void closeReasonSaysWhoClosedFirst()
    {
        ConnectionTableModel model;
        ConnectionInfo c = conn(1);
        c.connectMs = 3;
        c.firstByteUpMs = 5;
        c.firstByteDownMs = -1;
        model.applySnapshot(snap(T0 + 1000, {c, conn(2), conn(3)}));
        const QModelIndex reason =
            model.index(model.rowOfConnection(1), ConnectionTableModel::CloseReasonColumn);
        QVERIFY2(reason.data(Qt::ToolTipRole).toString().contains(QLatin1String("Connect: 3 ms")),
                 qPrintable(reason.data(Qt::ToolTipRole).toString()));

        ConnectionInfo ended = closedConn(c, T0 + 1200, CloseReason::UpstreamReset);
        ended.closedBy = ClosedBy::Client;
        ended.closePhase = ClosePhase::Data;
        // Its own side closing needs no more words; nor does the proxy ending it.
        ConnectionInfo reset = closedConn(conn(2), T0 + 1200, CloseReason::ClientReset);
        reset.closedBy = ClosedBy::Client;
        ConnectionInfo idle = closedConn(conn(3), T0 + 1200, CloseReason::IdleTimeout);
        idle.closedBy = ClosedBy::Proxy;
        model.applySnapshot(snap(T0 + 1250, {}, {ended, reset, idle}));
        const auto reasonOf = [&](quint64 id, int role) {
            return model.index(model.rowOfConnection(id), ConnectionTableModel::CloseReasonColumn)
                .data(role)
                .toString();
        };
        QCOMPARE(reasonOf(1, Qt::DisplayRole),
                 QStringLiteral("Upstream reset · client closed first"));
        const QString tip = reasonOf(1, Qt::ToolTipRole);
        for (const char* part :
             {"Ended by the client while relaying data", "Connect: 3 ms",
              "First byte from the client: 5 ms", "First byte from the upstream: –"})
            QVERIFY2(tip.contains(QString::fromUtf8(part)), qPrintable(tip));
        QCOMPARE(reasonOf(2, Qt::DisplayRole), QStringLiteral("Client reset"));
        QCOMPARE(reasonOf(3, Qt::DisplayRole), QStringLiteral("Idle timeout"));
    }

    void newConnectionsAreInsertedNotReset()
    {
        ConnectionTableModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        QSignalSpy layout(&model, &QAbstractItemModel::layoutChanged);

        model.applySnapshot(snap(T0 + 1000, range(1, 5)));
        QCOMPARE(model.rowCount(), 5);
        QCOMPARE(inserted.size(), 1);
        QCOMPARE(inserted.at(0).at(1).toInt(), 0);
        QCOMPARE(inserted.at(0).at(2).toInt(), 4);

        model.applySnapshot(snap(T0 + 1250, range(1, 7)));
        QCOMPARE(model.rowCount(), 7);
        QCOMPARE(inserted.size(), 2);
        QCOMPARE(inserted.at(1).at(1).toInt(), 5);
        QCOMPARE(inserted.at(1).at(2).toInt(), 6);
        QCOMPARE(reset.size(), 0);
        QCOMPARE(layout.size(), 0);
    }

    // A third of a hundred connections close at once: their rows are scattered, and they leave
    // together after the linger time. Rows that stay keep their order, a selected row stays
    // selected, an index on a leaving row becomes invalid, and the sorting proxy follows.
    void scatteredClosedRowsLeaveTogether()
    {
        SortedTable table(Qt::DescendingOrder);
        auto& [model, tester, proxy, proxyTester, selection] = table;
        model.setClosedLingerMs(3000);
        model.applySnapshot(snap(T0 + 1000, range(1, 100)));

        QList<ConnectionInfo> active;
        QList<ConnectionInfo> closed;
        QList<quint64> staying;
        for (const ConnectionInfo& c : range(1, 100)) {
            if (c.id % 3 == 0) {
                closed << closedConn(c, T0 + 1200, CloseReason::ClientClosed);
            } else {
                active << c;
                staying << c.id;
            }
        }
        const auto proxyRowOf = [&](quint64 id) {
            return proxy.mapFromSource(model.index(model.rowOfConnection(id), 0));
        };
        selection.select(proxyRowOf(50),
                         QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
        const QPersistentModelIndex leaving = proxyRowOf(48);
        model.applySnapshot(snap(T0 + 1250, active, closed));
        QCOMPARE(model.rowCount(), 100);
        QVERIFY(model.isClosedAt(model.rowOfConnection(48)));

        QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
        model.applySnapshot(snap(T0 + 4300, active, closed));
        QCOMPARE(ids(model), staying);
        QCOMPARE(proxy.rowCount(), staying.size());
        QCOMPARE(proxy.index(0, 0).data(ConnectionIdRole).toULongLong(), quint64(100));
        QCOMPARE(proxy.index(1, 0).data(ConnectionIdRole).toULongLong(), quint64(98));
        QVERIFY(!leaving.isValid());
        const QModelIndexList selected = selection.selectedRows();
        QCOMPARE(selected.size(), 1);
        QCOMPARE(selected.first().data(ConnectionIdRole).toULongLong(), quint64(50));
        for (quint64 id : std::as_const(staying))
            QCOMPARE(model.connectionAt(model.rowOfConnection(id)).id, id);
        QCOMPARE(model.rowOfConnection(48), -1);

        // The engine still lists them closed: they do not come back.
        model.applySnapshot(snap(T0 + 4550, active, closed));
        QCOMPARE(ids(model), staying);
        QCOMPARE(removed.size(), 0); // one layout change, not 33 removals
    }

    void closedRowsStayRedThenLeave()
    {
        ConnectionTableModel model;
        model.setClosedLingerMs(3000);
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.applySnapshot(snap(T0 + 1000, range(1, 5)));

        QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QList<ConnectionInfo> active = range(1, 5);
        const ConnectionInfo gone = active.takeAt(2); // id 3
        model.applySnapshot(
            snap(T0 + 1250, active, {closedConn(gone, T0 + 1200, CloseReason::ClientClosed)}));

        // Still shown, as closed, with the engine's reason; only its row changed.
        QCOMPARE(model.rowCount(), 5);
        QCOMPARE(removed.size(), 0);
        const int row = model.rowOfConnection(3);
        QCOMPARE(row, 2);
        QVERIFY(model.isClosedAt(row));
        QCOMPARE(model.index(row, ConnectionTableModel::StateColumn).data().toString(),
                 QStringLiteral("Closed"));
        QCOMPARE(model.index(row, ConnectionTableModel::CloseReasonColumn).data().toString(),
                 QStringLiteral("Client closed"));
        QCOMPARE(model.index(row, 0).data(ClosedMsRole).toLongLong(), T0 + 1250);
        QCOMPARE(changed.size(), 1);
        QCOMPARE(changed.at(0).at(0).toModelIndex().row(), 2);
        QCOMPARE(changed.at(0).at(1).toModelIndex().row(), 2);
        QCOMPARE(changed.at(0).at(0).toModelIndex().column(), 0); // drawn closed: the whole row

        // Before the linger time is over it stays; after, it is removed with one rowsRemoved.
        model.applySnapshot(
            snap(T0 + 4000, active, {closedConn(gone, T0 + 1200, CloseReason::ClientClosed)}));
        QCOMPARE(model.rowCount(), 5);
        model.applySnapshot(
            snap(T0 + 4300, active, {closedConn(gone, T0 + 1200, CloseReason::ClientClosed)}));
        QCOMPARE(model.rowCount(), 4);
        QCOMPARE(removed.size(), 1);
        QCOMPARE(removed.at(0).at(1).toInt(), 2);
        QCOMPARE(ids(model), (QList<quint64>{1, 2, 4, 5}));

        // Still in the engine's closed ring: it must not come back.
        model.applySnapshot(
            snap(T0 + 4600, active, {closedConn(gone, T0 + 1200, CloseReason::ClientClosed)}));
        QCOMPARE(ids(model), (QList<quint64>{1, 2, 4, 5}));
    }

    void showClosedKeepsHistory()
    {
        ConnectionTableModel model;
        model.setClosedLingerMs(1000);
        model.setShowClosed(true);
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.applySnapshot(snap(T0 + 1000, range(1, 3)));
        const QList<ConnectionInfo> ring{closedConn(conn(2), T0 + 1100, CloseReason::Killed)};
        model.applySnapshot(snap(T0 + 1250, {conn(1), conn(3)}, ring));
        model.applySnapshot(snap(T0 + 5000, {conn(1), conn(3)}, ring));
        QCOMPARE(ids(model), (QList<quint64>{1, 2, 3}));
        QVERIFY(model.isClosedAt(1));

        QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
        model.setShowClosed(false);
        QCOMPARE(ids(model), (QList<quint64>{1, 3}));
        QCOMPARE(removed.size(), 1);

        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        model.setShowClosed(true);
        QCOMPARE(inserted.size(), 1);
        QCOMPARE(model.rowCount(), 3);
        QVERIFY(model.isClosedAt(model.rowOfConnection(2)));
    }

    void shortLivedConnectionIsShownClosed()
    {
        ConnectionTableModel model;
        model.applySnapshot(snap(T0 + 1000, range(1, 2)));
        // Opened and closed between two snapshots: only the closed ring knows it.
        ConnectionInfo brief = closedConn(conn(3, 10, 20), T0 + 1200, CloseReason::UpstreamClosed);
        model.applySnapshot(snap(T0 + 1250, range(1, 2), {brief}));
        QCOMPARE(model.rowCount(), 3);
        const int row = model.rowOfConnection(3);
        QVERIFY(row >= 0);
        QVERIFY(model.isClosedAt(row));
        QCOMPARE(model.index(row, ConnectionTableModel::BytesDownColumn)
                     .data(RawValueRole)
                     .toULongLong(),
                 20u);

        // A connection closed long before the view started is not news.
        ConnectionTableModel fresh;
        fresh.applySnapshot(snap(T0 + 1250, range(1, 2), {brief}));
        QCOMPARE(fresh.rowCount(), 2);
    }

    void rowLevelDataChanged()
    {
        ConnectionTableModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        // Same displayed second in all snapshots (start T0, taken at T0 + 10.0..10.9 s).
        model.applySnapshot(snap(T0 + 10'000, range(1, 10)));
        model.applySnapshot(snap(T0 + 10'100, range(1, 10)));

        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QList<ConnectionInfo> next = range(1, 10);
        next[1].bytesUp = 100;  // row 1
        next[6].bytesDown = 50; // row 6
        model.applySnapshot(snap(T0 + 10'200, next));
        QCOMPARE(changed.size(), 2);
        QCOMPARE(changed.at(0).at(0).toModelIndex().row(), 1);
        QCOMPARE(changed.at(0).at(1).toModelIndex().row(), 1);
        QCOMPARE(changed.at(0).at(1).toModelIndex().column(),
                 ConnectionTableModel::ColumnCount - 1);
        // Bytes moved: the columns that never change (ID, route, proto, client) are left out.
        QCOMPARE(changed.at(0).at(0).toModelIndex().column(),
                 int(ConnectionTableModel::UpstreamColumn));
        QCOMPARE(changed.at(1).at(0).toModelIndex().row(), 6);

        // Six of ten rows (2-5, 7-8) get bytes: most rows changed -> one signal over the range.
        changed.clear();
        next = range(1, 10);
        for (int i : {2, 3, 4, 5, 7, 8})
            next[i].bytesUp = 1000;
        next[1].bytesUp = 100;
        next[6].bytesDown = 50;
        model.applySnapshot(snap(T0 + 10'300, next));
        QCOMPARE(changed.size(), 1);
        QCOMPARE(changed.at(0).at(0).toModelIndex().row(), 0);
        QCOMPARE(changed.at(0).at(1).toModelIndex().row(), 9);

        // Nothing changed at all -> no signal (10'400 settles the rates measured over 200 ms).
        model.applySnapshot(snap(T0 + 10'400, next));
        changed.clear();
        model.applySnapshot(snap(T0 + 10'500, next));
        QCOMPARE(changed.size(), 0);
    }

    void ratesFromConsecutiveSnapshots()
    {
        ConnectionTableModel model;
        model.applySnapshot(snap(T0 + 10'000, {conn(1, 1000, 0)}));
        model.applySnapshot(snap(T0 + 10'500, {conn(1, 2000, 4096)}));
        const QModelIndex up = model.index(0, ConnectionTableModel::RateUpColumn);
        const QModelIndex down = model.index(0, ConnectionTableModel::RateDownColumn);
        QCOMPARE(up.data(RawValueRole).toDouble(), 2000.0);
        QCOMPARE(down.data(RawValueRole).toDouble(), 8192.0);
        QCOMPARE(down.data().toString(), QStringLiteral("8.00 KiB/s"));
        // A refresh 50 ms later (F5) keeps the rate instead of showing a burst or a zero.
        model.applySnapshot(snap(T0 + 10'550, {conn(1, 2000, 4096)}));
        QCOMPARE(up.data(RawValueRole).toDouble(), 2000.0);
        model.applySnapshot(snap(T0 + 11'000, {conn(1, 2000, 4096)}));
        QCOMPARE(up.data(RawValueRole).toDouble(), 0.0);
        QCOMPARE(
            model.index(0, ConnectionTableModel::DurationColumn).data(RawValueRole).toLongLong(),
            11'000);
        QCOMPARE(model.index(0, ConnectionTableModel::DurationColumn).data().toString(),
                 QStringLiteral("11s"));
    }

    void selectionAndPersistentIndexesFollowTheirConnection()
    {
        ConnectionTableModel model;
        QSortFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        proxy.setSortRole(SortRole);
        proxy.setDynamicSortFilter(true);
        proxy.sort(ConnectionTableModel::BytesUpColumn, Qt::DescendingOrder);
        QItemSelectionModel selection(&proxy);

        QList<ConnectionInfo> active;
        for (quint64 id = 1; id <= 20; ++id)
            active << conn(id, id * 100);
        model.applySnapshot(snap(T0 + 1000, active));
        const QModelIndex chosen = proxy.mapFromSource(model.index(model.rowOfConnection(12), 0));
        selection.select(chosen, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
        selection.setCurrentIndex(chosen, QItemSelectionModel::NoUpdate);
        const QPersistentModelIndex persistent(model.index(model.rowOfConnection(12), 0));

        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        qint64 t = T0 + 1000;
        for (int round = 0; round < 8; ++round) {
            t += 250;
            QList<ConnectionInfo> next;
            for (const ConnectionInfo& c : std::as_const(active)) {
                // Close a few ids around the chosen one, keep 12, grow everything.
                if (c.id != 12 && (c.id + quint64(round)) % 4 == 0)
                    continue;
                ConnectionInfo grown = c;
                grown.bytesUp += quint64(round) * 37 * c.id;
                next << grown;
            }
            for (int k = 0; k < 3; ++k)
                next << conn(100 + quint64(round) * 3 + quint64(k), 5000 + quint64(k));
            active = next;
            model.applySnapshot(snap(t, active));

            QVERIFY(persistent.isValid());
            QCOMPARE(persistent.data(ConnectionIdRole).toULongLong(), 12u);
            const QModelIndexList rows = selection.selectedRows();
            QCOMPARE(rows.size(), 1);
            QCOMPARE(rows.first().data(ConnectionIdRole).toULongLong(), 12u);
            QCOMPARE(selection.currentIndex().data(ConnectionIdRole).toULongLong(), 12u);
        }
        QCOMPARE(reset.size(), 0);
    }

    void csvExportHasRawNumbers()
    {
        ConnectionTableModel model;
        model.setRouteNames({{"db", "Local, MySQL"}});
        model.applySnapshot(snap(T0 + 10'000, {conn(7, 5 * 1024 * 1024, 42)}));
        const QStringList lines = tableToCsv(&model).split("\r\n", Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 2);
        QVERIFY(lines.at(0).startsWith(
            "ID,Route,Proto,Client,Program,Upstream,State,Started,Duration,Bytes ↑,Bytes ↓"));
        const QStringList cells = lines.at(1).split(',');
        QCOMPARE(cells.at(ConnectionTableModel::IdColumn), QStringLiteral("7"));
        QCOMPARE(cells.at(ConnectionTableModel::RouteColumn),
                 QStringLiteral("db")); // the id, not the name
        QCOMPARE(cells.at(ConnectionTableModel::StartedColumn), QString::number(T0));
        QCOMPARE(cells.at(ConnectionTableModel::DurationColumn), QStringLiteral("10000"));
        QCOMPARE(cells.at(ConnectionTableModel::BytesUpColumn),
                 QString::number(5 * 1024 * 1024)); // not "5.00 MiB"
        QCOMPARE(cells.at(ConnectionTableModel::BytesDownColumn), QStringLiteral("42"));
        // Text that needs quoting is quoted.
        model.setRouteNames({});
        ConnectionInfo odd = conn(8);
        odd.routeId = "a,\"b\"";
        model.applySnapshot(snap(T0 + 10'300, {conn(7, 5 * 1024 * 1024, 42), odd}));
        QVERIFY(tableToCsv(&model).contains("\"a,\"\"b\"\"\""));
    }

    void sortUsesRawValues()
    {
        ConnectionTableModel model;
        QSortFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        proxy.setSortRole(SortRole);
        QList<ConnectionInfo> list{conn(1, 9), conn(2, 2048), conn(3, 300)};
        list[0].clientAddress = QHostAddress(QStringLiteral("10.0.0.10"));
        list[1].clientAddress = QHostAddress(QStringLiteral("10.0.0.9"));
        list[2].clientAddress = QHostAddress(QStringLiteral("192.168.1.1"));
        model.applySnapshot(snap(T0 + 1000, list));

        proxy.sort(ConnectionTableModel::BytesUpColumn, Qt::AscendingOrder);
        QList<quint64> order;
        for (int r = 0; r < 3; ++r)
            order << proxy.index(r, 0).data(ConnectionIdRole).toULongLong();
        QCOMPARE(order,
                 (QList<quint64>{1, 3, 2})); // 9 B < 300 B < 2 KiB (text would put 2.00 KiB first)

        proxy.sort(ConnectionTableModel::ClientColumn, Qt::AscendingOrder);
        order.clear();
        for (int r = 0; r < 3; ++r)
            order << proxy.index(r, 0).data(ConnectionIdRole).toULongLong();
        QCOMPARE(order, (QList<quint64>{2, 1, 3})); // 10.0.0.9 < 10.0.0.10 < 192.168.1.1
    }

    // Rows stay in id order, so the view sorted by ID (the default) shows them in row order
    // without comparing them: a connection the engine lists late, and many at once (one layout
    // change), still come in at their place, and the selection stays on its connection.
    void lateConnectionsSortByIdInPlace()
    {
        SortedTable table(Qt::AscendingOrder);
        auto& [model, tester, proxy, proxyTester, selection] = table;
        const auto proxyIds = [&] {
            QList<quint64> list;
            for (int row = 0; row < proxy.rowCount(); ++row)
                list << proxy.index(row, 0).data(ConnectionIdRole).toULongLong();
            return list;
        };
        const auto sorted = [](QList<ConnectionInfo> list) {
            QList<quint64> order;
            for (const ConnectionInfo& c : list)
                order << c.id;
            std::sort(order.begin(), order.end());
            return order;
        };

        QList<ConnectionInfo> active;
        for (quint64 id = 2; id <= 60; id += 2)
            active << conn(id);
        model.applySnapshot(snap(T0 + 1000, active));
        selection.select(proxy.index(5, 0),
                         QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
        QCOMPARE(proxy.index(5, 0).data(ConnectionIdRole).toULongLong(), quint64(12));

        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy layout(&model, &QAbstractItemModel::layoutChanged);
        active << conn(7) << conn(61);
        model.applySnapshot(snap(T0 + 1250, active));
        QCOMPARE(inserted.size(), 2); // 7 between 6 and 8, 61 after the last
        QCOMPARE(layout.size(), 0);
        QCOMPARE(ids(model), sorted(active));
        QCOMPARE(proxyIds(), sorted(active));

        // Every odd id at once: too many places for a rowsInserted each.
        for (quint64 id = 1; id <= 59; id += 2)
            if (id != 7)
                active << conn(id);
        model.applySnapshot(snap(T0 + 1500, active));
        QCOMPARE(layout.size(), 1);
        QCOMPARE(ids(model), sorted(active));
        QCOMPARE(proxyIds(), sorted(active));
        QCOMPARE(model.rowOfConnection(12), 11);
        const QModelIndexList selected = selection.selectedRows();
        QCOMPARE(selected.size(), 1);
        QCOMPARE(selected.first().data(ConnectionIdRole).toULongLong(), quint64(12));

        // Descending, and back.
        proxy.sort(ConnectionTableModel::IdColumn, Qt::DescendingOrder);
        QCOMPARE(proxy.index(0, 0).data(ConnectionIdRole).toULongLong(), quint64(61));
        proxy.sort(ConnectionTableModel::IdColumn, Qt::AscendingOrder);
        QCOMPARE(proxyIds(), sorted(active));
    }

    // Who the client is arrives after the row: the Client column (left out of the usual
    // refresh) repaints with its host name, the Program column shows name and pid, sorting
    // by it groups a program's connections and the text filter and program filter find them.
    void clientHostAndProgramArriveLater()
    {
        ConnectionTableModel model;
        QAbstractItemModelTester tester(&model);
        model.applySnapshot(snap(T0, range(1, 4)));
        QCOMPARE(model.index(0, ConnectionTableModel::ProgramColumn).data().toString(), QString());
        QList<ConnectionInfo> later = range(1, 4);
        later[0].clientHost = QStringLiteral("alice-laptop");
        later[1].clientProcess = {
            4242, QStringLiteral("mysql"), QStringLiteral("mysql -h 127.0.0.1 -u root"), {}};
        later[2].clientProcess = {17, QStringLiteral("bash"), QStringLiteral("bash"), {}};
        later[3].clientProcess = {4243, QStringLiteral("mysql"), QStringLiteral("mysql"), {}};
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        model.applySnapshot(snap(T0 + 250, later));
        // Each row repaints whole, Client included.
        for (int row = 0; row < 4; ++row) {
            const bool whole =
                std::any_of(changed.cbegin(), changed.cend(), [row](const QList<QVariant>& s) {
                    const QModelIndex first = s.at(0).toModelIndex();
                    const QModelIndex last = s.at(1).toModelIndex();
                    return first.column() == 0 && first.row() <= row && last.row() >= row;
                });
            QVERIFY2(whole, qPrintable(QStringLiteral("row %1").arg(row)));
        }
        QCOMPARE(model.index(0, ConnectionTableModel::ClientColumn).data().toString(),
                 QStringLiteral("alice-laptop:40001")); // compact; the full form in the tooltip
        QCOMPARE(
            model.index(0, ConnectionTableModel::ClientColumn).data(Qt::ToolTipRole).toString(),
            QStringLiteral("alice-laptop (10.0.0.2:40001)"));
        QCOMPARE(model.index(1, ConnectionTableModel::ProgramColumn).data().toString(),
                 QStringLiteral("mysql (4242)"));
        QVERIFY(model.index(1, ConnectionTableModel::ProgramColumn)
                    .data(Qt::ToolTipRole)
                    .toString()
                    .contains(QStringLiteral("mysql -h 127.0.0.1 -u root")));
        QCOMPARE(model.index(1, ConnectionTableModel::ProgramColumn).data(RawValueRole).toString(),
                 QStringLiteral("mysql (4242)"));

        // A local client whose program was not found says why, in the tooltip.
        later[0].clientHost.clear();
        later[0].clientProcess.edit().unknown = QStringLiteral("another user's process (uid 1001)");
        model.applySnapshot(snap(T0 + 500, later));
        QCOMPARE(model.index(0, ConnectionTableModel::ProgramColumn).data().toString(),
                 QStringLiteral("–"));
        QVERIFY(model.index(0, ConnectionTableModel::ProgramColumn)
                    .data(Qt::ToolTipRole)
                    .toString()
                    .contains(QStringLiteral("uid 1001")));

        ConnectionFilter filter;
        filter.setSourceModel(&model);
        filter.sort(ConnectionTableModel::ProgramColumn, Qt::AscendingOrder);
        QStringList programs;
        for (int row = 0; row < filter.rowCount(); ++row)
            programs << filter.index(row, ConnectionTableModel::ProgramColumn).data().toString();
        QCOMPARE(programs, QStringList({QStringLiteral("bash (17)"), QStringLiteral("mysql (4242)"),
                                        QStringLiteral("mysql (4243)"), QStringLiteral("–")}));
        filter.setProgramFilter(QStringLiteral("mysql"));
        QCOMPARE(filter.rowCount(), 2);
        filter.setProgramFilter({});
        filter.setTextFilter(QStringLiteral("bash"));
        QCOMPARE(filter.rowCount(), 1);
        QCOMPARE(filter.index(0, ConnectionTableModel::IdColumn).data().toString(),
                 QStringLiteral("3"));
    }

    // Issue 21: a figure the readers did not collect reads "–" (and has no raw value), never a
    // 0 or an empty cell that reads as "none": queries without counting, the statement and
    // the last error without digests, the user and database of an encrypted login. A
    // connection no reader follows leaves those columns empty: they do not apply to it.
    void uncollectedFiguresReadAsDash()
    {
        ConnectionTableModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        const auto cell = [&model](quint64 id, int column, int role = Qt::DisplayRole) {
            return model.index(model.rowOfConnection(id), column).data(role);
        };
        const QString dash = QStringLiteral("–");

        ConnectionInfo counted = conn(1); // mysql_commands on, digests off
        counted.mysql.edit().detected = true;
        counted.mysql.edit().user = QStringLiteral("sg");
        counted.mysql.edit().commandsCounted = true;
        counted.mysql.edit().commands = 7;
        ConnectionInfo inspected = conn(2); // inspection only
        inspected.mysql.edit().detected = true;
        inspected.mysql.edit().user = QStringLiteral("app");
        ConnectionInfo encrypted = conn(3); // TLS from the login on
        encrypted.mysql.edit().detected = true;
        encrypted.mysql.edit().tls = true;
        encrypted.mysql.edit().serverVersion = QStringLiteral("10.11.6-MariaDB");
        ConnectionInfo followed = conn(4); // digests on, a statement running
        followed.mysql.edit().detected = true;
        followed.mysql.edit().user = QStringLiteral("sg");
        followed.mysql.edit().commandsCounted = true;
        followed.mysql.edit().statementsFollowed = true;
        followed.mysql.edit().statement = QStringLiteral("SELECT SLEEP(?)");
        followed.mysql.edit().statementSinceMs = T0 + 1000;
        ConnectionInfo pgTls = conn(5);
        pgTls.postgres.edit().detected = true;
        pgTls.postgres.edit().tls = true;
        ConnectionInfo plain = conn(6); // no reader: a web service, say
        model.applySnapshot(
            snap(T0 + 3000, {counted, inspected, encrypted, followed, pgTls, plain}));

        QCOMPARE(cell(1, ConnectionTableModel::MySqlQueriesColumn).toString(), QStringLiteral("7"));
        QCOMPARE(cell(1, ConnectionTableModel::MySqlStatementColumn).toString(), dash);
        QCOMPARE(cell(1, ConnectionTableModel::MySqlLastErrorColumn).toString(), dash);
        QVERIFY(cell(1, ConnectionTableModel::MySqlStatementColumn, Qt::ToolTipRole)
                    .toString()
                    .contains(QStringLiteral("mysql_digests")));
        QVERIFY(cell(1, ConnectionTableModel::MySqlLastErrorColumn, Qt::ToolTipRole)
                    .toString()
                    .contains(QStringLiteral("query digests are off")));
        QCOMPARE(cell(2, ConnectionTableModel::MySqlQueriesColumn).toString(), dash);
        QVERIFY(!cell(2, ConnectionTableModel::MySqlQueriesColumn, RawValueRole).isValid());
        QCOMPARE(cell(2, ConnectionTableModel::MySqlUserColumn).toString(), QStringLiteral("app"));
        // Encrypted: who logged in is not known; the server's greeting was in the clear.
        QCOMPARE(cell(3, ConnectionTableModel::MySqlUserColumn).toString(), dash);
        QCOMPARE(cell(3, ConnectionTableModel::MySqlDatabaseColumn).toString(), dash);
        QVERIFY(!cell(3, ConnectionTableModel::MySqlUserColumn, RawValueRole).isValid());
        QVERIFY(cell(3, ConnectionTableModel::MySqlUserColumn, Qt::ToolTipRole)
                    .toString()
                    .contains(QStringLiteral("encrypted")));
        QCOMPARE(cell(3, ConnectionTableModel::MySqlServerColumn).toString(),
                 QStringLiteral("10.11.6-MariaDB"));
        QCOMPARE(cell(3, ConnectionTableModel::MySqlTlsColumn).toString(), QStringLiteral("yes"));
        QCOMPARE(cell(3, ConnectionTableModel::MySqlStatementColumn, Qt::ToolTipRole).toString(),
                 QStringLiteral("Not followed: the session is encrypted (TLS)"));
        // Followed: the running statement; no error yet is an empty cell, not a dash.
        QCOMPARE(cell(4, ConnectionTableModel::MySqlStatementColumn).toString(),
                 QStringLiteral("SELECT SLEEP(?) · 2s"));
        QCOMPARE(cell(4, ConnectionTableModel::MySqlLastErrorColumn).toString(), QString());
        QCOMPARE(cell(4, ConnectionTableModel::MySqlQueriesColumn).toString(), QStringLiteral("0"));
        for (int column : {int(ConnectionTableModel::MySqlUserColumn),
                           int(ConnectionTableModel::MySqlDatabaseColumn),
                           int(ConnectionTableModel::MySqlServerColumn),
                           int(ConnectionTableModel::MySqlQueriesColumn),
                           int(ConnectionTableModel::MySqlStatementColumn)})
            QCOMPARE(cell(5, column).toString(), dash);
        for (int column = ConnectionTableModel::MySqlUserColumn;
             column < ConnectionTableModel::ColumnCount; ++column)
            QCOMPARE(cell(6, column).toString(), QString());

        // The statement ends: the cell empties (followed, nothing running).
        followed.mysql.edit().statement.clear();
        followed.mysql.edit().commands = 1;
        model.applySnapshot(
            snap(T0 + 3250, {counted, inspected, encrypted, followed, pgTls, plain}));
        QCOMPARE(cell(4, ConnectionTableModel::MySqlStatementColumn).toString(), QString());
        QCOMPARE(cell(4, ConnectionTableModel::MySqlQueriesColumn).toString(), QStringLiteral("1"));
    }

    // Database TLS: the client's TLS answered by Streamgate with its development CA shows both
    // legs, and the login read through it is shown as on a plaintext session.
    void databaseTlsShowsBothLegs()
    {
        ConnectionTableModel model;
        ConnectionInfo c = conn(1);
        c.postgres.edit().detected = true;
        c.postgres.edit().user = QStringLiteral("app");
        c.postgres.edit().database = QStringLiteral("shop");
        c.tls.edit().terminated = true;
        c.tls.edit().developmentCa = true;
        c.tls.edit().version = QStringLiteral("TLSv1.3");
        c.tls.edit().cipher = QStringLiteral("TLS_AES_256_GCM_SHA384");
        model.applySnapshot(snap(T0 + 1000, {c}));
        const QModelIndex tls = model.index(0, ConnectionTableModel::MySqlTlsColumn);
        QCOMPARE(tls.data().toString(), QStringLiteral("yes (dev CA) · server no"));
        const QString tip = tls.data(Qt::ToolTipRole).toString();
        QVERIFY2(tip.contains(QStringLiteral("TLSv1.3")) &&
                     tip.contains(QStringLiteral("development CA")) &&
                     tip.contains(QStringLiteral("server: plaintext")),
                 qPrintable(tip));
        QCOMPARE(model.index(0, ConnectionTableModel::MySqlUserColumn).data().toString(),
                 QStringLiteral("app"));
        QCOMPARE(model.index(0, ConnectionTableModel::MySqlDatabaseColumn).data().toString(),
                 QStringLiteral("shop"));

        // database_server_tls: the server leg is TLS too (verified), the server saw TLS, and the
        // statements are not said to be hidden by it: the reader sits between the two legs.
        c.upstreamTls.edit().used = true;
        c.upstreamTls.edit().verified = true;
        c.upstreamTls.edit().version = QStringLiteral("TLSv1.2");
        c.upstreamTls.edit().cipher = QStringLiteral("ECDHE-RSA-AES256-GCM-SHA384");
        c.postgres.edit().tls = true;
        model.applySnapshot(snap(T0 + 2000, {c}));
        QCOMPARE(tls.data().toString(), QStringLiteral("yes (dev CA) · server yes (verified)"));
        const QString both = tls.data(Qt::ToolTipRole).toString();
        QVERIFY2(both.contains(QStringLiteral("server: TLSv1.2 (ECDHE-RSA-AES256-GCM-SHA384), its "
                                              "certificate verified")),
                 qPrintable(both));
        const QString queries = model.index(0, ConnectionTableModel::MySqlQueriesColumn)
                                    .data(Qt::ToolTipRole)
                                    .toString();
        QVERIFY2(!queries.contains(QStringLiteral("encrypted")), qPrintable(queries));
        QVERIFY2(queries.contains(QStringLiteral("postgres_digests")), qPrintable(queries));
    }

    // Issue 21: compact addresses. A client on the address it reached (a local program) shows
    // its port only, a named one the first label of its host name; the full form is in the
    // tooltip with where it came in, and the sort and the CSV keep the full address.
    void compactClientAddress()
    {
        ConnectionTableModel model;
        QVERIFY(model.compactAddresses());
        ConnectionInfo local = conn(1);
        local.clientAddress = QHostAddress(QStringLiteral("127.0.0.1"));
        local.clientPort = 51234;
        local.localAddress = QHostAddress(QStringLiteral("127.0.0.1"));
        local.localPort = 13306;
        ConnectionInfo named = conn(2);
        named.clientHost = QStringLiteral("alice-laptop.example.net");
        named.localAddress = QHostAddress(QStringLiteral("192.168.1.2"));
        named.localPort = 13306;
        ConnectionInfo other = conn(3); // a network client without a name
        other.localAddress = QHostAddress(QStringLiteral("::ffff:192.168.1.2"));
        other.localPort = 13306;
        model.applySnapshot(snap(T0 + 1000, {local, named, other}));
        const auto client = [&model](int row, int role = Qt::DisplayRole) {
            return model.index(row, ConnectionTableModel::ClientColumn).data(role).toString();
        };
        QCOMPARE(client(0), QStringLiteral(":51234"));
        QCOMPARE(client(0, Qt::ToolTipRole), QStringLiteral("127.0.0.1:51234, to 127.0.0.1:13306"));
        QCOMPARE(client(0, RawValueRole), QStringLiteral("127.0.0.1:51234"));
        QCOMPARE(client(1), QStringLiteral("alice-laptop:40002"));
        QCOMPARE(client(1, Qt::ToolTipRole),
                 QStringLiteral("alice-laptop.example.net (10.0.0.3:40002), to 192.168.1.2:13306"));
        QCOMPARE(client(2), QStringLiteral("10.0.0.4:40003"));

        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        model.setCompactAddresses(false);
        QCOMPARE(changed.size(), 1);
        QCOMPARE(changed.first().at(0).toModelIndex().column(),
                 int(ConnectionTableModel::ClientColumn));
        QCOMPARE(changed.first().at(1).toModelIndex().row(), 2);
        QCOMPARE(client(0), QStringLiteral("127.0.0.1:51234"));
        QCOMPARE(client(1), QStringLiteral("alice-laptop.example.net (10.0.0.3:40002)"));
    }

    // Which routes carry a database protocol, learned from their connections: once per route,
    // when a new row is one or a reader recognises an open one.
    void databaseRoutesAreLearnedFromConnections()
    {
        ConnectionTableModel model;
        QSignalSpy routes(&model, &ConnectionTableModel::databaseRouteSeen);
        ConnectionInfo web = conn(1, 0, 0, QStringLiteral("web"));
        ConnectionInfo db = conn(2, 0, 0, QStringLiteral("db"));
        model.applySnapshot(snap(T0 + 1000, {web, db}));
        QCOMPARE(routes.size(), 0);
        QVERIFY(!model.databaseSeenOn(QStringLiteral("db")));
        db.mysql.edit().detected = true; // the server's greeting came
        model.applySnapshot(snap(T0 + 1250, {web, db}));
        QCOMPARE(routes.size(), 1);
        QCOMPARE(routes.first().first().toString(), QStringLiteral("db"));
        QVERIFY(model.databaseSeenOn(QStringLiteral("db")));
        QVERIFY(!model.databaseSeenOn(QStringLiteral("web")));
        ConnectionInfo pg = conn(3, 0, 0, QStringLiteral("pg"));
        pg.postgres.edit().detected = true;
        ConnectionInfo db2 = conn(4, 0, 0, QStringLiteral("db"));
        db2.mysql.edit().detected = true;
        model.applySnapshot(snap(T0 + 1500, {web, db, pg, db2}));
        QCOMPARE(routes.size(), 2);
        QCOMPARE(routes.last().first().toString(), QStringLiteral("pg"));
    }
};

QTEST_GUILESS_MAIN(TestConnectionModel)
#include "tst_connectionmodel.moc"
