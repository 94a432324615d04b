// Fault injection from the window, against a real engine and store with real sockets on
// loopback: a preset added through the Faults tab lands in the config and a real connection
// through the route takes the latency; a value edited in the tab reaches the config and an open
// connection; the status bar reminder appears with the first fault and "Clear all faults" takes
// every toxic away; "Server down" refuses a real client and Clear all brings the listener back,
// while a route the user disabled stays disabled. The Hitting column counts the real connections a
// toxic acts on (none for a client outside its clients) and the connections table tints them;
// a paused connection shows in the reminder and Clear all resumes it. A picture of the tab is
// written to the build tree (faults-tab.png).
#include "config/configstore.h"
#include "config/routeedits.h"
#include "delegates.h"
#include "faults/faultspanel.h"
#include "loopback.h"
#include "mainwindow.h"
#include "models/roles.h"
#include "models/routesmodel.h"
#include "proxy/engine.h"
#include "windowfixture.h"

#include <QAction>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFile>
#include <QIcon>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSystemTrayIcon>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>
#include <QTreeView>
#include <memory>

using namespace sg;
using namespace sgtest;
using namespace sg::ui;

namespace {

template <typename T> T* child(QObject* parent, const char* name)
{
    T* w = parent->findChild<T*>(QLatin1String(name));
    if (!w)
        qFatal("no child %s", name);
    return w;
}

// One round trip of 4 bytes through an open connection, in ms; -1 when it failed.
qint64 roundTrip(int fd)
{
    QByteArray received;
    const qint64 start = nowMs();
    if (exchange(fd, QByteArrayLiteral("ping"), received, 4, false, 5000) != ReadEnd::Data ||
        received != "ping")
        return -1;
    return nowMs() - start;
}

// The engine's id of the connection whose client socket is fd; 0 when it is not open.
quint64 connectionId(Engine* engine, int fd)
{
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    const quint16 port = ntohs(reinterpret_cast<sockaddr_in&>(a).sin_port);
    for (const ConnectionInfo& c : engine->snapshot().active)
        if (c.clientPort == port)
            return c.id;
    return 0;
}

// Types a value into a spin box as a user does: select all, type, Enter.
void typeInto(QAbstractSpinBox* box, const QString& text)
{
    box->setFocus();
    QTest::keyClick(box, Qt::Key_A, Qt::ControlModifier);
    QTest::keyClicks(box, text);
    QTest::keyClick(box, Qt::Key_Return);
}

} // namespace

class TestFaultsPanel : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::unique_ptr<TestServer> m_upstream;
    int m_port = 0;      // route "echo"
    int m_otherPort = 0; // route "other"
    WindowFixture m_ui;
    FaultsPanel* m_panel = nullptr;

    QList<ToxicSpec> toxics(const QString& routeId) const
    {
        return m_ui.store->config().streamgate.toxicMap().value(routeId);
    }
    QString indicator() const
    {
        auto* w = child<QWidget>(m_ui.window.get(), "faultIndicator");
        return w->isHidden() ? QString() : child<QToolButton>(w, "faultsIndicator")->text();
    }
    QModelIndex routeRow(const QString& id) const
    {
        auto* model =
            static_cast<RoutesModel*>(child<QTreeView>(m_ui.window.get(), "routesView")->model());
        return model->index(model->rowOfRoute(id), RoutesModel::NameColumn);
    }
    void clearAllFaults()
    {
        if (!toxics("echo").isEmpty() || !toxics("other").isEmpty() || isRouteDownNow("echo") ||
            isRouteDownNow("other"))
            QVERIFY(m_ui.window->clearAllFaults());
    }
    bool isRouteDownNow(const QString& id) const
    {
        for (const DisabledRoute& d : disabledRoutes(m_ui.store->config()))
            if (d.route.idString() == id)
                return d.fault;
        return false;
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        qputenv("XDG_CONFIG_HOME", m_dir.filePath("xdg").toLocal8Bit());
        m_upstream = std::make_unique<TestServer>(TestServer::Echo);
        QVERIFY(m_upstream->ok());
        const QList<int> ports = freePorts(2);
        QCOMPARE(ports.size(), 2);
        m_port = ports[0];
        m_otherPort = ports[1];
        const QString path = m_dir.filePath("streamgate.json");
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QStringLiteral(R"({
          "stream_proxy": {"tcp": ["127.0.0.1:%1", "127.0.0.1:%2"]},
          "stream_routes": [
            {"id": "echo", "name": "Echo", "server_port": %1,
             "upstream": {"nodes": {"127.0.0.1:%3": 1}}},
            {"id": "other", "name": "Other", "server_port": %2,
             "upstream": {"nodes": {"127.0.0.1:%3": 1}}}
          ]})")
                       .arg(m_port)
                       .arg(m_otherPort)
                       .arg(m_upstream->port())
                       .toUtf8());
        file.close();

        QVERIFY(m_ui.open(path));
        m_panel = child<FaultsPanel>(m_ui.window.get(), "faultsPanel");
    }

    void cleanupTestCase()
    {
        m_ui.window.reset();
        m_ui.engine.reset();
        m_ui.store.reset();
        m_upstream.reset();
    }

    void cleanup() { clearAllFaults(); }

    void slowNetworkPresetDelaysARealConnection()
    {
        m_ui.window->selectRoute("echo");
        m_ui.window->showFaults();
        auto* tabs = child<QTabWidget>(m_ui.window.get(), "tabs");
        QCOMPARE(tabs->currentWidget(), m_panel);
        QCOMPARE(m_panel->routeId(), QString("echo"));
        QVERIFY(indicator().isEmpty());

        const int before = connectTo("127.0.0.1", m_port);
        QVERIFY(before >= 0);
        const qint64 clean = roundTrip(before);
        ::close(before);
        QVERIFY2(clean >= 0 && clean < 100, qPrintable(QString::number(clean)));

        child<QAction>(m_panel, "preset_slow")->trigger();
        const QList<ToxicSpec> list = toxics("echo");
        QCOMPARE(list.size(), 1);
        QCOMPARE(list.first().name, QString("slow_network"));
        QCOMPARE(list.first().type, ToxicType::Latency);
        QVERIFY(!list.first().upstream);
        QCOMPARE(list.first().attribute("latency"), 200);
        QCOMPARE(list.first().attribute("jitter"), 50);

        auto* table = child<QTableWidget>(m_panel, "faultsTable");
        QCOMPARE(table->rowCount(), 1);
        QCOMPARE(table->item(0, FaultsPanel::EffectColumn)->text(),
                 QString("200 ms ± 50 ms downstream"));
        QCOMPARE(table->item(0, FaultsPanel::ToxicityColumn)->text(), QString("100 %"));

        // Each round trip now waits 200 ms ± 50 on the way back (wide upper bound: a loaded
        // machine).
        const int fd = connectTo("127.0.0.1", m_port);
        QVERIFY(fd >= 0);
        for (int i = 0; i < 3; ++i) {
            const qint64 ms = roundTrip(fd);
            QVERIFY2(ms >= 145 && ms < 1500, qPrintable(QString::number(ms)));
        }
        ::close(fd);

        // The other route is untouched.
        const int other = connectTo("127.0.0.1", m_otherPort);
        QVERIFY(other >= 0);
        const qint64 otherMs = roundTrip(other);
        ::close(other);
        QVERIFY2(otherMs >= 0 && otherMs < 100, qPrintable(QString::number(otherMs)));

        // Chaos is never invisible: the status bar, the route row and the tab say so.
        QCOMPARE(indicator(), QString("⚠ Faults active: 1 on 1 route"));
        const QModelIndex row = routeRow("echo");
        QCOMPARE(row.data(FaultsRole).toStringList().size(), 1);
        QVERIFY(!row.data(Qt::DecorationRole).value<QIcon>().isNull());
        QVERIFY(row.data(Qt::ToolTipRole).toString().contains("slow_network"));
        QVERIFY(row.data(Qt::ToolTipRole).toString().contains("200 ms ± 50 ms downstream"));
        QVERIFY(routeRow("other").data(FaultsRole).toStringList().isEmpty());
        QVERIFY(routeRow("other").data(Qt::DecorationRole).isNull());
        QCOMPARE(tabs->tabText(tabs->indexOf(m_panel)), QString("Faults (1)"));
        QVERIFY(child<QAction>(m_ui.window.get(), "clearFaultsAction")->isEnabled());

        // A picture of the tab with a fault on, in the build tree.
        child<QAction>(m_panel, "preset_mobile")->trigger();
        m_panel->selectToxic("slow_network");
        QCoreApplication::processEvents(); // the layout takes the new fields in
        const QImage shot = m_ui.window->grab().toImage();
        QVERIFY(!shot.isNull());
        QVERIFY(shot.save(QDir(QStringLiteral(QT_TESTCASE_BUILDDIR)).filePath("faults-tab.png")));
    }

    void liveEditReachesTheConfigAndAnOpenConnection()
    {
        m_ui.window->selectRoute("echo");
        child<QAction>(m_panel, "preset_slow")->trigger();
        QCOMPARE(m_panel->selectedToxic(), QString("slow_network"));

        const int fd = connectTo("127.0.0.1", m_port);
        QVERIFY(fd >= 0);
        const qint64 first = roundTrip(fd);
        QVERIFY2(first >= 145 && first < 1500, qPrintable(QString::number(first)));

        typeInto(child<QSpinBox>(m_panel, "attribute_latency"), "600");
        typeInto(child<QSpinBox>(m_panel, "attribute_jitter"), "0");
        QCOMPARE(toxics("echo").first().attribute("latency"), 600);
        QCOMPARE(toxics("echo").first().attribute("jitter"), 0);
        QCOMPARE(
            child<QTableWidget>(m_panel, "faultsTable")->item(0, FaultsPanel::EffectColumn)->text(),
            QString("600 ms downstream"));
        // The connection opened at 200 ms now waits 600.
        const qint64 after = roundTrip(fd);
        ::close(fd);
        QVERIFY2(after >= 590 && after < 3000, qPrintable(QString::number(after)));

        typeInto(child<QDoubleSpinBox>(m_panel, "toxicityEdit"), "25");
        QCOMPARE(toxics("echo").first().toxicity, 0.25);
        auto* stream = child<QComboBox>(m_panel, "streamEdit");
        stream->setCurrentIndex(1);
        Q_EMIT stream->activated(1);
        QVERIFY(toxics("echo").first().upstream);
        QCOMPARE(toxics("echo").first().name, QString("slow_network"));
        QCOMPARE(routeRow("echo").data(FaultsRole).toStringList().value(0),
                 QString("slow_network: latency, 600 ms upstream (25 % of connections)"));
    }

    // A query toxic by hand: its text attributes are fields of their own, checked as the config
    // checks them; a pattern that is not a regular expression is refused and not stored.
    void queryToxicTakesItsTextAttributes()
    {
        m_ui.window->selectRoute("echo");
        auto* type = child<QComboBox>(m_panel, "newTypeCombo");
        type->setCurrentIndex(type->findText("mysql_error"));
        QTest::mouseClick(child<QPushButton>(m_panel, "addToxicButton"), Qt::LeftButton);
        QCOMPARE(toxics("echo").size(), 1);
        QCOMPARE(toxics("echo").first().type, ToxicType::MySqlError);
        QCOMPARE(toxics("echo").first().attribute("code"), 1213);

        auto* match = child<QLineEdit>(m_panel, "attribute_match");
        match->setFocus();
        QTest::keyClicks(match, "^UPDATE accounts");
        QTest::keyClick(match, Qt::Key_Return);
        QCOMPARE(toxics("echo").first().text("match"), QString("^UPDATE accounts"));
        auto* command = child<QLineEdit>(m_panel, "attribute_command");
        command->setFocus();
        QTest::keyClicks(command, "com_query");
        QTest::keyClick(command, Qt::Key_Return);
        QCOMPARE(toxics("echo").first().text("command"), QString("COM_QUERY"));
        typeInto(child<QSpinBox>(m_panel, "attribute_code"), "1205");
        QCOMPARE(toxics("echo").first().attribute("code"), 1205);
        QCOMPARE(
            child<QTableWidget>(m_panel, "faultsTable")->item(0, FaultsPanel::EffectColumn)->text(),
            QString("commands answered with error 1205 (matching /^UPDATE accounts/, COM_QUERY)"));

        match->setFocus();
        QTest::keyClick(match, Qt::Key_A, Qt::ControlModifier);
        QTest::keyClicks(match, "(UPDATE");
        QTest::keyClick(match, Qt::Key_Return);
        QVERIFY2(match->toolTip().contains("attributes.match: invalid regular expression"),
                 qPrintable(match->toolTip()));
        QCOMPARE(toxics("echo").first().text("match"), QString("^UPDATE accounts"));
    }

    void clearAllRemovesTheIndicatorAndEveryToxic()
    {
        m_ui.window->selectRoute("echo");
        child<QAction>(m_panel, "preset_mobile")->trigger();
        child<QAction>(m_panel, "preset_slow")->trigger();
        QCOMPARE(toxics("echo").size(), 3);
        QCOMPARE(toxics("echo").at(0).name, QString("mobile_downstream"));
        QCOMPARE(toxics("echo").at(1).name, QString("mobile_upstream"));
        QVERIFY(toxics("echo").at(1).upstream);
        QCOMPARE(toxics("echo").at(1).attribute("rate"), 750);

        // By hand on the other route: a type and a stream, then Add.
        m_ui.window->selectRoute("other");
        QCOMPARE(m_panel->routeId(), QString("other"));
        auto* type = child<QComboBox>(m_panel, "newTypeCombo");
        type->setCurrentIndex(type->findText("reset_peer"));
        auto* stream = child<QComboBox>(m_panel, "newStreamCombo");
        stream->setCurrentIndex(1);
        QTest::mouseClick(child<QPushButton>(m_panel, "addToxicButton"), Qt::LeftButton);
        QCOMPARE(toxics("other").size(), 1);
        QCOMPARE(toxics("other").first().name, QString("reset_peer_upstream"));
        QCOMPARE(toxics("other").first().type, ToxicType::ResetPeer);
        QVERIFY(toxics("other").first().upstream);
        QCOMPARE(indicator(), QString("⚠ Faults active: 4 on 2 routes"));

        // Flaky on "other" too, then remove it again through the panel.
        child<QAction>(m_panel, "preset_flaky")->trigger();
        QCOMPARE(toxics("other").size(), 2);
        QCOMPARE(toxics("other").last().toxicity, 0.05);
        QCOMPARE(m_panel->selectedToxic(), QString("flaky_reset"));
        QTest::mouseClick(child<QPushButton>(m_panel, "removeToxicButton"), Qt::LeftButton);
        QCOMPARE(toxics("other").size(), 1);
        QCOMPARE(indicator(), QString("⚠ Faults active: 4 on 2 routes"));

        // Clicking the reminder opens the panel on the first route with faults.
        child<QTabWidget>(m_ui.window.get(), "tabs")->setCurrentIndex(0);
        QTest::mouseClick(child<QToolButton>(m_ui.window.get(), "faultsIndicator"), Qt::LeftButton);
        QCOMPARE(child<QTabWidget>(m_ui.window.get(), "tabs")->currentWidget(), m_panel);
        QCOMPARE(m_ui.window->selectedRouteId(), QString("echo"));

        QTest::mouseClick(child<QToolButton>(m_ui.window.get(), "clearFaultsButton"),
                          Qt::LeftButton);
        QVERIFY(toxics("echo").isEmpty());
        QVERIFY(toxics("other").isEmpty());
        QVERIFY(indicator().isEmpty());
        QVERIFY(routeRow("echo").data(FaultsRole).toStringList().isEmpty());
        QVERIFY(!child<QAction>(m_ui.window.get(), "clearFaultsAction")->isEnabled());
        QCOMPARE(child<QTableWidget>(m_panel, "faultsTable")->rowCount(), 0);

        const int fd = connectTo("127.0.0.1", m_port);
        QVERIFY(fd >= 0);
        const qint64 ms = roundTrip(fd);
        ::close(fd);
        QVERIFY2(ms >= 0 && ms < 100, qPrintable(QString::number(ms)));
    }

    void toxicSwitchedOffAndNarrowedToClients()
    {
        m_ui.window->selectRoute("echo");
        child<QAction>(m_panel, "preset_slow")->trigger();
        child<QAction>(m_panel, "preset_flaky")->trigger();
        QCOMPARE(indicator(), QString("⚠ Faults active: 2 on 1 route"));

        // The check box in the name cell switches a toxic off: kept, but no longer a fault.
        auto* table = child<QTableWidget>(m_panel, "faultsTable");
        QCOMPARE(table->item(0, FaultsPanel::NameColumn)->checkState(), Qt::Checked);
        table->item(0, FaultsPanel::NameColumn)->setCheckState(Qt::Unchecked);
        QCOMPARE(toxics("echo").size(), 2);
        QVERIFY(!toxics("echo").at(0).enabled);
        QVERIFY(toxics("echo").at(1).enabled);
        QCOMPARE(indicator(), QString("⚠ Faults active: 1 on 1 route"));
        QCOMPARE(routeRow("echo").data(FaultsRole).toStringList(),
                 QStringList{"flaky_reset: reset_peer, reset at once downstream (5 % of "
                             "connections)"});
        table->item(0, FaultsPanel::NameColumn)->setCheckState(Qt::Checked);
        QVERIFY(toxics("echo").at(0).enabled);
        QCOMPARE(indicator(), QString("⚠ Faults active: 2 on 1 route"));

        // Faults → Switch every toxic off: both kept, none active; Clear all still removes them.
        child<QAction>(m_ui.window.get(), "switchOffToxicsAction")->trigger();
        QCOMPARE(toxics("echo").size(), 2);
        QVERIFY(!toxics("echo").at(0).enabled && !toxics("echo").at(1).enabled);
        QVERIFY(indicator().isEmpty());
        QCOMPARE(table->item(1, FaultsPanel::NameColumn)->checkState(), Qt::Unchecked);
        QVERIFY(child<QAction>(m_ui.window.get(), "clearFaultsAction")->isEnabled());
        table->item(0, FaultsPanel::NameColumn)->setCheckState(Qt::Checked);

        // Clients: IPs and CIDRs, checked before anything is saved.
        m_panel->selectToxic("slow_network");
        auto* clients = child<QLineEdit>(m_panel, "clientsEdit");
        clients->setFocus();
        clients->clear();
        QTest::keyClicks(clients, "127.0.0.2, 10.0.0.0/8");
        QTest::keyClick(clients, Qt::Key_Return);
        QCOMPARE(toxics("echo").at(0).clients, (QStringList{"127.0.0.2", "10.0.0.0/8"}));
        QCOMPARE(table->item(0, FaultsPanel::ClientsColumn)->text(),
                 QString("127.0.0.2, 10.0.0.0/8"));
        clients->clear();
        QTest::keyClicks(clients, "127.0.0.3 db.local");
        QTest::keyClick(clients, Qt::Key_Return);
        auto* error = child<QLabel>(m_panel, "clientsError");
        QVERIFY(!error->isHidden());
        QVERIFY2(error->text().contains("clients[1]") && error->text().contains("db.local"),
                 qPrintable(error->text()));
        QCOMPARE(toxics("echo").at(0).clients, (QStringList{"127.0.0.2", "10.0.0.0/8"}));
        clients->clear();
        QTest::keyClick(clients, Qt::Key_Return);
        QVERIFY(error->isHidden());
        QVERIFY(toxics("echo").at(0).clients.isEmpty());
        QCOMPARE(table->item(0, FaultsPanel::ClientsColumn)->text(), QString("every client"));
    }

    void hittingColumnCountsTheConnectionsAToxicHits()
    {
        m_ui.window->selectRoute("echo");
        child<QAction>(m_panel, "preset_slow")->trigger(); // toxicity 100 %, every client
        QCOMPARE(m_panel->selectedToxic(), QString("slow_network"));
        auto* table = child<QTableWidget>(m_panel, "faultsTable");
        auto* view = child<QTableView>(m_ui.window.get(), "connectionsView");
        auto* tint = static_cast<ConnectionRowDelegate*>(view->itemDelegate());
        const auto hitting = [&] { return table->item(0, FaultsPanel::HittingColumn)->text(); };
        QTRY_COMPARE_WITH_TIMEOUT(hitting(), QString("0 now · 0 in all"), 3000);

        const int fd = connectTo("127.0.0.1", m_port, "127.0.0.2");
        QVERIFY(fd >= 0);
        QVERIFY(roundTrip(fd) >= 145);
        const quint64 id = connectionId(m_ui.engine.get(), fd);
        QVERIFY(id > 0);
        // The window's periodic refresh brings the count; the selected toxic's connection is
        // named under the table and tinted in the connections table.
        QTRY_COMPARE_WITH_TIMEOUT(hitting(), QString("1 now · 1 in all"), 3000);
        QCOMPARE(m_panel->selectedHits(), QList<quint64>{id});
        QVERIFY(tint->isHighlighted(id));
        // The row is drawn amber (red well above blue) in the Connections tab.
        const auto tinted = [&](quint64 connection) {
            for (int r = 0; r < view->model()->rowCount(); ++r) {
                const QModelIndex cell = view->model()->index(r, 0);
                if (cell.data(ConnectionIdRole).toULongLong() != connection)
                    continue;
                view->scrollTo(cell);
                const QRect rect = view->visualRect(cell);
                const QRgb pixel =
                    view->viewport()->grab().toImage().pixel(rect.right() - 2, rect.center().y());
                return qRed(pixel) - qBlue(pixel) > 40;
            }
            return false;
        };
        auto* tabs = child<QTabWidget>(m_ui.window.get(), "tabs");
        tabs->setCurrentIndex(0);
        view->clearSelection();
        QVERIFY(tinted(id));
        tabs->setCurrentWidget(m_panel);
        QVERIFY2(
            child<QLabel>(m_panel, "hitsLabel")->text().contains(QStringLiteral("#%1").arg(id)),
            qPrintable(child<QLabel>(m_panel, "hitsLabel")->text()));
        // The tint follows the selected toxic: one for another client hits nothing.
        QVERIFY(m_panel->addToxic(ToxicType::Latency, true));
        QCOMPARE(m_panel->selectedToxic(), QString("latency_upstream"));
        auto* clients = child<QLineEdit>(m_panel, "clientsEdit");
        clients->setFocus();
        clients->clear();
        QTest::keyClicks(clients, "127.0.0.9");
        QTest::keyClick(clients, Qt::Key_Return);
        QTRY_VERIFY_WITH_TIMEOUT(m_panel->selectedHits().isEmpty(), 3000);
        QVERIFY(!tint->isHighlighted(id));
        QTRY_COMPARE_WITH_TIMEOUT(table->item(1, FaultsPanel::HittingColumn)->text().left(5),
                                  QString("0 now"), 3000);
        tabs->setCurrentIndex(0);
        QVERIFY(!tinted(id));
        tabs->setCurrentWidget(m_panel);
        m_panel->selectToxic("slow_network");
        QVERIFY(tint->isHighlighted(id));

        ::close(fd);
        QTRY_COMPARE_WITH_TIMEOUT(hitting(), QString("0 now · 1 in all"), 5000);
        QVERIFY(!tint->isHighlighted(id));
    }

    void toxicScopedToAClientHitsNoOtherClient()
    {
        m_ui.window->selectRoute("other");
        child<QAction>(m_panel, "preset_slow")->trigger();
        auto* clients = child<QLineEdit>(m_panel, "clientsEdit");
        clients->setFocus();
        clients->clear();
        QTest::keyClicks(clients, "127.0.0.3");
        QTest::keyClick(clients, Qt::Key_Return);
        QCOMPARE(toxics("other").at(0).clients, QStringList{"127.0.0.3"});
        auto* table = child<QTableWidget>(m_panel, "faultsTable");
        const auto hitting = [&] { return table->item(0, FaultsPanel::HittingColumn)->text(); };

        // A client from 127.0.0.2 passes untouched: no latency, not counted.
        const int fd = connectTo("127.0.0.1", m_otherPort, "127.0.0.2");
        QVERIFY(fd >= 0);
        const qint64 ms = roundTrip(fd);
        QVERIFY2(ms >= 0 && ms < 100, qPrintable(QString::number(ms)));
        QVERIFY(connectionId(m_ui.engine.get(), fd) > 0);
        m_ui.window->refreshNow(); // a snapshot taken with the connection open
        QCOMPARE(hitting(), QString("0 now · 0 in all"));
        QVERIFY(m_panel->selectedHits().isEmpty());

        // The client it names is hit, beside the other one still open.
        const int hit = connectTo("127.0.0.1", m_otherPort, "127.0.0.3");
        QVERIFY(hit >= 0);
        QVERIFY(roundTrip(hit) >= 145);
        QTRY_COMPARE_WITH_TIMEOUT(hitting(), QString("1 now · 1 in all"), 3000);
        QCOMPARE(m_panel->selectedHits(), QList<quint64>{connectionId(m_ui.engine.get(), hit)});
        ::close(fd);
        ::close(hit);
    }

    void pausedConnectionsAreChaosAndClearAllResumesThem()
    {
        m_ui.window->selectRoute("echo");
        const int fd = connectTo("127.0.0.1", m_port);
        QVERIFY(fd >= 0);
        QVERIFY(roundTrip(fd) >= 0);
        const quint64 id = connectionId(m_ui.engine.get(), fd);
        QVERIFY(id > 0);
        QVERIFY(indicator().isEmpty());
        QVERIFY(m_ui.engine->pauseConnection(id, 30000));
        QTRY_COMPARE_WITH_TIMEOUT(indicator(), QString("⚠ 1 connection paused"), 3000);
        auto* clear = child<QAction>(m_ui.window.get(), "clearFaultsAction");
        QVERIFY(clear->isEnabled());
        // With a toxic as well, both are named.
        child<QAction>(m_panel, "preset_slow")->trigger();
        QCOMPARE(indicator(), QString("⚠ Faults active: 1 on 1 route · 1 connection paused"));
        if (auto* tray = m_ui.window->findChild<QSystemTrayIcon*>())
            QVERIFY2(tray->toolTip().contains("1 connection paused"), qPrintable(tray->toolTip()));

        // The paused connection holds the client's bytes until Clear all resumes it.
        QVERIFY(sendAll(fd, "held"));
        QByteArray got;
        QCOMPARE(exchange(fd, {}, got, 4, false, 400), ReadEnd::Timeout);
        QVERIFY(m_ui.window->clearAllFaults());
        QCOMPARE(exchange(fd, {}, got, 4, false, 3000), ReadEnd::Data);
        QCOMPARE(got, QByteArray("held"));
        QVERIFY(toxics("echo").isEmpty());
        for (const ConnectionInfo& c : m_ui.engine->snapshot().active)
            QCOMPARE(c.pausedUntilMs, 0);
        QTRY_VERIFY_WITH_TIMEOUT(indicator().isEmpty(), 3000);
        QVERIFY(!clear->isEnabled());

        // Paused alone: Clear all resumes it though the config has no fault.
        QVERIFY(m_ui.engine->pauseConnection(id, 30000));
        QTRY_COMPARE_WITH_TIMEOUT(indicator(), QString("⚠ 1 connection paused"), 3000);
        // Clicked, it shows the connections table, where the paused row is.
        auto* tabs = child<QTabWidget>(m_ui.window.get(), "tabs");
        tabs->setCurrentWidget(m_panel);
        QTest::mouseClick(child<QToolButton>(m_ui.window.get(), "faultsIndicator"), Qt::LeftButton);
        QCOMPARE(tabs->currentIndex(), 0);
        QVERIFY(sendAll(fd, "more"));
        clear->trigger();
        got.clear();
        QCOMPARE(exchange(fd, {}, got, 4, false, 3000), ReadEnd::Data);
        QCOMPARE(got, QByteArray("more"));
        // The resume reaches the worker after Clear all's own refresh: the next one shows it.
        QTRY_VERIFY_WITH_TIMEOUT(indicator().isEmpty(), 3000);
        ::close(fd);
    }

    void serverDownRefusesAndClearAllBringsItBack()
    {
        // A route the user disabled is not a fault, and stays disabled through Clear all.
        QVERIFY(m_ui.store
                    ->update([](Config& c) {
                        c = withRouteDisabled(c, "other");
                        return Problems{};
                    })
                    .isEmpty());
        QVERIFY(indicator().isEmpty());

        const int open = connectTo("127.0.0.1", m_port);
        QVERIFY(open >= 0);
        QVERIFY(roundTrip(open) >= 0);

        m_ui.window->selectRoute("echo");
        child<QAction>(m_panel, "preset_down")->trigger();
        QVERIFY(isRouteDownNow("echo"));
        QVERIFY(!m_ui.store->config().findRoute("echo"));
        // The open connection is cut and a new one is refused: nothing listens any more.
        QVERIFY(waitForEnd(open, 3000) != ReadEnd::Timeout);
        ::close(open);
        QCOMPARE(connectTo("127.0.0.1", m_port), -1);

        QCOMPARE(indicator(), QString("⚠ Faults active: 1 on 1 route"));
        QCOMPARE(m_ui.window->selectedRouteId(), QString("echo"));
        auto* model =
            static_cast<RoutesModel*>(child<QTreeView>(m_ui.window.get(), "routesView")->model());
        QCOMPARE(model->rowAt(model->rowOfRoute("echo")).status, QString("Down (fault)"));
        QCOMPARE(model->rowAt(model->rowOfRoute("other")).status, QString("Disabled"));
        QVERIFY(!child<QLabel>(m_panel, "serverDownLabel")->isHidden());

        // Faults → Clear all faults.
        QAction* clear = nullptr;
        for (QAction* a : m_ui.window->menuBar()->actions())
            if (a->menu() && a->menu()->objectName() == u"faultsMenu")
                for (QAction* item : a->menu()->actions())
                    if (item->objectName() == u"clearFaultsAction")
                        clear = item;
        QVERIFY(clear);
        clear->trigger();
        QVERIFY(m_ui.store->config().findRoute("echo"));
        QVERIFY(!m_ui.store->config().findRoute("other"));
        QVERIFY(indicator().isEmpty());
        QVERIFY(child<QLabel>(m_panel, "serverDownLabel")->isHidden());
        const int fd = connectTo("127.0.0.1", m_port);
        QVERIFY(fd >= 0);
        const qint64 ms = roundTrip(fd);
        ::close(fd);
        QVERIFY2(ms >= 0 && ms < 100, qPrintable(QString::number(ms)));

        QVERIFY(m_ui.store
                    ->update([](Config& c) {
                        c = withRouteEnabled(c, "other");
                        return Problems{};
                    })
                    .isEmpty());
    }
};

QTEST_MAIN(TestFaultsPanel)
#include "tst_faultspanel.moc"
