// The main window against a real engine and store, with real sockets on loopback: a route typed
// into the form carries traffic; a refused client shows under Denied and one click on Allow
// lets its next connection through without a restart; the selected connection stays selected
// while rows come and go; "Close connection" ends the real socket; a route whose upstream does
// not answer says so in its status until a server listens there; a screenshot with live
// traffic (and a MariaDB client session, when the "mariadb" fixture runs) is written to the build
// tree; the program owning a client's socket shows in the connections table; the connections
// table shows a MySQL route's columns on a 1400 px window, with column presets; empty views say
// what to do next; "Expose a local service" finds the program on a local port, suggests a free
// public port, refuses one in use naming its holder, and creates a route that carries bytes.
#include "accesscontroller.h"
#include "config/apisixyaml.h"
#include "config/configstore.h"
#include "config/routeedits.h"
#include "echoserver.h"
#include "emptystate.h"
#include "exposedialog.h"
#include "loopback.h"
#include "mainwindow.h"
#include "mariadbenv.h"
#include "model/codec.h"
#include "models/connectiontablemodel.h"
#include "models/deniedclientsmodel.h"
#include "models/roles.h"
#include "models/routesmodel.h"
#include "panes/connectionspane.h"
#include "proxy/engine.h"
#include "stats/portlookup.h"
#include "udppeers.h"
#include "windowfixture.h"

#include <QAction>
#include <QApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFrame>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QMessageBox>
#include <QMimeData>
#include <QNetworkInterface>
#include <QPointer>
#include <QProcess>
#include <QPushButton>
#include <QRadioButton>
#include <QScrollBar>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QToolButton>
#include <QTreeView>
#include <QUdpSocket>
#include <memory>

using namespace sg;
using namespace sg::test;
using namespace sgtest;
using namespace sg::ui;

namespace {

struct Client
{
    std::unique_ptr<QTcpSocket> socket = std::make_unique<QTcpSocket>();
    QByteArray received;
    bool closed = false;

    Client(const QString& from, quint16 port)
    {
        QObject::connect(socket.get(), &QTcpSocket::readyRead, socket.get(),
                         [this] { received += socket->readAll(); });
        QObject::connect(socket.get(), &QTcpSocket::disconnected, socket.get(),
                         [this] { closed = true; });
        if (!from.isEmpty())
            socket->bind(QHostAddress(from), 0);
        socket->connectToHost(QHostAddress::LocalHost, port);
    }
    bool waitConnected() { return socket->waitForConnected(5000); }
};

template <typename T> T* child(QObject* parent, const char* name)
{
    T* w = parent->findChild<T*>(QLatin1String(name));
    if (!w)
        qFatal("no child %s", name);
    return w;
}

// Clicks the button of the message box that is about to open.
void answerNextMessageBox(const QString& buttonText)
{
    QTimer::singleShot(0, [buttonText] {
        auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
        if (!box)
            return answerNextMessageBox(buttonText);
        for (QAbstractButton* b : box->buttons()) {
            if (b->text().remove(QLatin1Char('&')) == buttonText) {
                b->click();
                return;
            }
        }
    });
}

int rowOfClientPort(QTableView* view, quint16 port)
{
    for (int r = 0; r < view->model()->rowCount(); ++r) {
        const QString client =
            view->model()->index(r, ConnectionTableModel::ClientColumn).data().toString();
        if (client.endsWith(QStringLiteral(":%1").arg(port)))
            return r;
    }
    return -1;
}

// "tst_mainwindow (pid 1234)": this program as the window names a process.
QString ownProgram()
{
    QFile comm(QStringLiteral("/proc/self/comm"));
    if (!comm.open(QIODevice::ReadOnly))
        return {};
    return QStringLiteral("%1 (pid %2)")
        .arg(QString::fromLocal8Bit(comm.readAll().trimmed()))
        .arg(QCoreApplication::applicationPid());
}

// The share of a picture's pixels (sampled) that are dark.
double darkShare(const QImage& image)
{
    int dark = 0;
    int all = 0;
    for (int y = 0; y < image.height(); y += 5)
        for (int x = 0; x < image.width(); x += 5, ++all)
            dark += qGray(image.pixel(x, y)) < 100 ? 1 : 0;
    return all ? double(dark) / all : 0;
}

} // namespace

class TestMainWindow : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    EchoServer m_echo;
    quint16 m_port = 0; // the "echo" route's listener
    WindowFixture m_ui;
    QTableView* m_connectionsView = nullptr;

    QByteArray fileBytes() const
    {
        QFile f(m_ui.store->path());
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }

    // Deletes a route and its listener, as "Delete route…" does.
    Problems deleteRoute(const QString& id)
    {
        return m_ui.store->update([&](Config& config) {
            config = withRouteDeleted(config, id);
            return Problems{};
        });
    }

    // A route listening on 127.0.0.1:listen to one upstream node ("host:port"), with its
    // listener and its Streamgate settings, added in one config change.
    Problems addRoute(const QString& id, const QString& name, quint16 listen, const QString& node,
                      const RouteSettings& settings)
    {
        const auto route = decodeStreamRoute(QJsonDocument::fromJson(QStringLiteral(R"({
              "id": "%1", "name": "%2", "server_port": %3,
              "upstream": {"nodes": {"%4": 1}}})")
                                                                         .arg(id, name)
                                                                         .arg(listen)
                                                                         .arg(node)
                                                                         .toUtf8())
                                                 .object());
        if (!route.ok())
            return route.problems;
        return m_ui.store->update([&](Config& config) {
            config.streamProxy.tcp.append(makeListenEntry(QStringLiteral("127.0.0.1"), listen));
            config.streamRoutes.append(route.value);
            QMap<QString, RouteSettings> routes =
                config.streamgate.routes.value_or(QMap<QString, RouteSettings>());
            routes.insert(id, settings);
            config.streamgate.routes = routes;
            return Problems{};
        });
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        qputenv("XDG_CONFIG_HOME", m_dir.filePath("xdg").toLocal8Bit()); // QSettings stay here
        QVERIFY(m_echo.listen(QHostAddress::LocalHost, 0));
        m_port = freePort();
        const QString path = m_dir.filePath("streamgate.json");
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QStringLiteral(R"({
          "stream_proxy": {"tcp": ["127.0.0.1:%1"]},
          "stream_routes": [{
            "id": "echo", "name": "Echo", "server_port": %1,
            "plugins": {"ip-restriction": {"whitelist": ["127.0.0.1"]}},
            "upstream": {"nodes": {"127.0.0.1:%2": 1}, "timeout": {"connect": 2, "send": 60, "read": 60}}
          }]})")
                       .arg(m_port)
                       .arg(m_echo.serverPort())
                       .toUtf8());
        file.close();

        // The upstreams are probed and the clients resolved as the application does it; upstreams
        // that do not answer are probed again every 100 ms (not 2 s and more).
        EngineOptions options;
        options.probeUpstreams = true;
        options.resolveClients = true;
        options.reachRetryMs = 100;
        options.reachMaxRetryMs = 100;
        QVERIFY(m_ui.open(path, options));
        m_connectionsView = child<QTableView>(m_ui.window.get(), "connectionsView");
        QTRY_VERIFY_WITH_TIMEOUT(
            child<QLabel>(m_ui.window.get(), "listenersLabel")->text().contains("1 listener"),
            5000);
    }

    void cleanupTestCase()
    {
        m_ui.window.reset();
        m_ui.engine.reset();
        m_ui.store.reset();
    }

    // A file that could not be loaded at start shows a banner; once the user fixes it by hand
    // and the store takes it in, the banner goes and the routes appear.
    void brokenFileFixedByHandClearsTheBanner()
    {
        const QString path = m_dir.filePath("broken-at-start.json");
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("{\"stream_routes\": [");
        file.close();
        ConfigStore store(path);
        QVERIFY(!store.load().ok());
        MainWindow window(&store, nullptr);
        auto* banner = child<QFrame>(&window, "banner");
        QVERIFY(!banner->isHidden());
        QVERIFY(child<QLabel>(&window, "bannerText")->text().contains("could not be loaded"));

        QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
        file.write(
            R"({"stream_routes": [{"id": "fixed", "upstream": {"nodes": {"127.0.0.1:1": 1}}}]})");
        file.close();
        QCOMPARE(store.reload(), Problems{});
        QVERIFY(banner->isHidden());
        QCOMPARE(child<QTreeView>(&window, "routesView")->model()->rowCount(), 1);
    }

    void typedRouteCarriesTraffic()
    {
        const quint16 port = freePort();
        // The window of the test before was the active one.
        m_ui.window->activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(m_ui.window.get()));
        QTest::keyClick(m_ui.window.get(), Qt::Key_N, Qt::ControlModifier);
        auto* tabs = child<QTabWidget>(m_ui.window.get(), "tabs");
        QWidget* editor = child<QWidget>(m_ui.window.get(), "routeEditor");
        QCOMPARE(tabs->currentWidget(), editor);

        auto* id = child<QLineEdit>(editor, "idEdit");
        id->selectAll();
        QTest::keyClicks(id, "typed");
        auto* name = child<QLineEdit>(editor, "nameEdit");
        name->selectAll();
        QTest::keyClicks(name, "Typed echo");
        auto* portSpin = child<QSpinBox>(editor, "portSpin");
        portSpin->selectAll();
        QTest::keyClicks(portSpin, QString::number(port));
        auto* nodes = child<QTableWidget>(editor, "nodesTable");
        nodes->setCurrentCell(0, 1);
        nodes->editItem(nodes->item(0, 1));
        QWidget* cell = QApplication::focusWidget();
        QVERIFY(cell);
        if (auto* spin = qobject_cast<QAbstractSpinBox*>(cell))
            spin->selectAll();
        QTest::keyClicks(cell, QString::number(m_echo.serverPort()));
        QTest::keyClick(cell, Qt::Key_Return);
        auto* save = child<QPushButton>(editor, "saveButton");
        QVERIFY(save->isEnabled());
        QTest::mouseClick(save, Qt::LeftButton);
        QVERIFY(m_ui.store->config().findRoute("typed"));

        // The engine listens on it now: a client gets its bytes echoed through the proxy.
        Client client({}, port);
        QVERIFY(client.waitConnected());
        client.socket->write("through the typed route");
        QTRY_COMPARE_WITH_TIMEOUT(client.received, QByteArray("through the typed route"), 5000);
        // And the routes list shows it listening, selected.
        auto* routes = child<QTreeView>(m_ui.window.get(), "routesView");
        QCOMPARE(routes->currentIndex().data(RouteIdRole).toString(), QStringLiteral("typed"));
        QTRY_COMPARE_WITH_TIMEOUT(
            routes->model()
                ->index(routes->currentIndex().row(), RoutesModel::StatusColumn)
                .data()
                .toString(),
            QStringLiteral("Listening"), 5000);
    }

    void dragReordersMatchOrder()
    {
        auto* routes = child<QTreeView>(m_ui.window.get(), "routesView");
        auto* model = qobject_cast<RoutesModel*>(routes->model());
        QVERIFY(model);
        QCOMPARE(m_ui.store->config().streamRoutes.at(1).idString(), QStringLiteral("typed"));
        m_ui.window->selectRoute("typed");
        QSignalSpy moved(model, &QAbstractItemModel::rowsMoved);
        QSignalSpy reset(model, &QAbstractItemModel::modelReset);
        // What the view does when "Typed echo" is dropped above "Echo".
        std::unique_ptr<QMimeData> data(model->mimeData({model->index(1, 0)}));
        QVERIFY(model->canDropMimeData(data.get(), Qt::MoveAction, 0, 0, {}));
        model->dropMimeData(data.get(), Qt::MoveAction, 0, 0, {});
        QCOMPARE(m_ui.store->config().streamRoutes.at(0).idString(), QStringLiteral("typed"));
        QCOMPARE(moved.size(), 1);
        QCOMPARE(reset.size(), 0);
        QCOMPARE(routes->currentIndex().data(RouteIdRole).toString(), QStringLiteral("typed"));
        // And back, so the other tests see the original order.
        std::unique_ptr<QMimeData> back(model->mimeData({model->index(1, 0)}));
        model->dropMimeData(back.get(), Qt::MoveAction, 0, 0, {});
        QCOMPARE(m_ui.store->config().streamRoutes.at(0).idString(), QStringLiteral("echo"));
    }

    void refusedClientAllowedWithOneClick()
    {
        const QByteArray before = fileBytes();
        Client refused("127.0.0.2", m_port);
        QTRY_VERIFY_WITH_TIMEOUT(
            refused.closed || refused.socket->state() == QAbstractSocket::UnconnectedState, 5000);
        QVERIFY(refused.received.isEmpty());

        auto* denied = child<QTableView>(m_ui.window.get(), "deniedView");
        QTRY_VERIFY_WITH_TIMEOUT(denied->model()->rowCount() >= 1, 5000);
        int row = -1;
        for (int r = 0; r < denied->model()->rowCount(); ++r) {
            if (denied->model()->index(r, DeniedClientsModel::ClientColumn).data().toString() ==
                "127.0.0.2")
                row = r;
        }
        QVERIFY(row >= 0);
        QCOMPARE(denied->model()->index(row, DeniedClientsModel::RouteColumn).data().toString(),
                 QStringLiteral("Echo"));
        // The first refusal is announced (banner, no tray on the offscreen platform).
        auto* banner = child<QFrame>(m_ui.window.get(), "banner");
        QVERIFY(banner->isVisible());
        QVERIFY(child<QLabel>(m_ui.window.get(), "bannerText")->text().contains("127.0.0.2"));
        QCOMPARE(fileBytes(), before); // nothing written by a refusal

        // From the keyboard, Ctrl+Shift+A opens the banner's durations on "for 1 hour".
        auto* allowLast = child<QAction>(m_ui.window.get(), "allowLastAction");
        QCOMPARE(allowLast->shortcut(), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_A));
        allowLast->trigger();
        auto* bannerMenu = qobject_cast<QMenu*>(QApplication::activePopupWidget());
        QVERIFY(bannerMenu);
        QCOMPARE(bannerMenu->objectName(), QStringLiteral("refusalAllowMenu"));
        QCOMPARE(bannerMenu->activeAction()->text().remove('&'),
                 QStringLiteral("Allow for 1 hour"));
        QTest::keyClick(bannerMenu, Qt::Key_Escape);
        QTRY_VERIFY_WITH_TIMEOUT(!QApplication::activePopupWidget(), 2000);
        QCOMPARE(fileBytes(), before); // nothing chosen, nothing written

        // One click on the row's Allow button.
        child<QTabWidget>(m_ui.window.get(), "tabs")->setCurrentWidget(denied->parentWidget());
        const QModelIndex action = denied->model()->index(row, DeniedClientsModel::ActionColumn);
        QCOMPARE(action.data(ButtonRole).toString(), QStringLiteral("Allow"));
        denied->scrollTo(action);
        const QRect rect = denied->visualRect(action);
        const QPoint at(rect.left() + 12, rect.center().y());
        QTest::mousePress(denied->viewport(), Qt::LeftButton, {}, at);
        QTest::mouseRelease(denied->viewport(), Qt::LeftButton, {}, at);
        // How long: the choice pops up at the button; "Always allow" as before.
        auto* menu = qobject_cast<QMenu*>(QApplication::activePopupWidget());
        QVERIFY(menu);
        QCOMPARE(menu->actions().size(), 4);
        menu->actions().at(3)->trigger();
        menu->close();

        QVERIFY(m_ui.store->config().findRoute("echo")->plugins.ipRestriction->whitelist.contains(
            "127.0.0.2"));
        QVERIFY(fileBytes().contains("127.0.0.2"));
        QVERIFY(!banner->isVisible());

        // No restart: the very next connection from 127.0.0.2 passes.
        Client allowed("127.0.0.2", m_port);
        QVERIFY(allowed.waitConnected());
        allowed.socket->write("let me in");
        QTRY_COMPARE_WITH_TIMEOUT(allowed.received, QByteArray("let me in"), 5000);
        // The row says it is allowed now: no Allow button that would do nothing.
        QTRY_COMPARE_WITH_TIMEOUT(action.data().toString(), QStringLiteral("Allowed"), 3000);
        QVERIFY(!action.data(ButtonRole).isValid());
    }

    // Issue 21's acceptance: allow for 1 hour from the keyboard alone (Enter on the Denied row,
    // the duration picked with the arrow keys) on a clock where the hour lasts 2 s; the client
    // gets in through the real proxy, the row and the route show the time left, and after the
    // end it is refused, with the event in the log, and the banner asks about it again.
    void allowForAnHourFromTheKeyboardEndsOnAShortClock()
    {
        auto* access = m_ui.window->findChild<ui::AccessController*>("accessController");
        QVERIFY(access);
        access->setHourLength(2000);
        Client refused("127.0.0.4", m_port);
        QTRY_VERIFY_WITH_TIMEOUT(refused.socket->state() == QAbstractSocket::UnconnectedState,
                                 5000);
        auto* denied = child<QTableView>(m_ui.window.get(), "deniedView");
        child<QTabWidget>(m_ui.window.get(), "tabs")->setCurrentWidget(denied->parentWidget());
        const auto rowOf = [&] {
            for (int r = 0; r < denied->model()->rowCount(); ++r)
                if (denied->model()->index(r, DeniedClientsModel::ClientColumn).data() ==
                    "127.0.0.4")
                    return r;
            return -1;
        };
        QTRY_VERIFY_WITH_TIMEOUT(rowOf() >= 0, 5000);
        denied->setFocus();
        denied->setCurrentIndex(denied->model()->index(rowOf(), 0));
        QTest::keyClick(denied, Qt::Key_Return);
        auto* menu = qobject_cast<QMenu*>(QApplication::activePopupWidget());
        QVERIFY(menu);
        QCOMPARE(menu->activeAction()->text().remove('&'), QStringLiteral("Allow for 1 hour"));
        QTest::keyClick(menu, Qt::Key_Down);
        QTest::keyClick(menu, Qt::Key_Up); // back on "for 1 hour"
        QTest::keyClick(menu, Qt::Key_Return);
        QTRY_VERIFY_WITH_TIMEOUT(
            m_ui.store->config().streamgate.allowExpiryMap().value("echo").contains("127.0.0.4"),
            2000);

        Client in("127.0.0.4", m_port);
        QVERIFY(in.waitConnected());
        in.socket->write("for an hour");
        QTRY_COMPARE_WITH_TIMEOUT(in.received, QByteArray("for an hour"), 3000);
        const QModelIndex action =
            denied->model()->index(rowOf(), DeniedClientsModel::ActionColumn);
        QTRY_VERIFY_WITH_TIMEOUT(action.data().toString().startsWith("Allowed ("), 2000);
        QVERIFY(action.data().toString().endsWith(" left)")); // "1 h left)", then "59 min left)"
        auto* routes = m_ui.window->findChild<ui::RoutesModel*>();
        QVERIFY(routes);
        const QModelIndex route =
            routes->index(routes->rowOfRoute("echo"), RoutesModel::NameColumn);
        QVERIFY(route.data(Qt::ToolTipRole).toString().contains("127.0.0.4 ("));

        // The end: the open connection is closed (the default), the next one refused.
        QTRY_VERIFY_WITH_TIMEOUT(in.closed, 5000);
        QVERIFY(!m_ui.store->config().findRoute("echo")->plugins.ipRestriction->whitelist.contains(
            "127.0.0.4"));
        QVERIFY(!fileBytes().contains("127.0.0.4"));
        Client after("127.0.0.4", m_port);
        QTRY_VERIFY_WITH_TIMEOUT(after.socket->state() == QAbstractSocket::UnconnectedState, 5000);
        QVERIFY(after.received.isEmpty());
        bool logged = false;
        for (const Event& e : m_ui.engine->eventsSince(0, 100000))
            logged = logged || e.text == "access for 127.0.0.4 to route Echo ended";
        QVERIFY(logged);
        QTRY_VERIFY_WITH_TIMEOUT(action.data(ButtonRole).toString() == "Allow", 2000);
        QVERIFY(!route.data(Qt::ToolTipRole).toString().contains("127.0.0.4"));
        // Refused again after its access ended: the banner asks anew (once more, not at every
        // refusal).
        auto* banner = child<QFrame>(m_ui.window.get(), "banner");
        auto* bannerText = child<QLabel>(m_ui.window.get(), "bannerText");
        QTRY_VERIFY_WITH_TIMEOUT(banner->isVisible() && bannerText->text().contains("127.0.0.4"),
                                 3000);
        child<QPushButton>(banner, "bannerButton2")->click(); // Dismiss
        QVERIFY(!banner->isVisible());
        Client again("127.0.0.4", m_port);
        QTRY_VERIFY_WITH_TIMEOUT(again.socket->state() == QAbstractSocket::UnconnectedState, 5000);
        QTRY_VERIFY_WITH_TIMEOUT(
            denied->model()->index(rowOf(), DeniedClientsModel::CountColumn).data().toInt() >= 3,
            3000);
        QVERIFY(!banner->isVisible());
        access->setHourLength(3600000);
    }

    // Allow and Block work on the file as it is now: a hand edit of the same route, made
    // while the window is open and not yet taken in, is kept under the window's change.
    void allowAndBlockKeepAHandEditOfTheSameRoute()
    {
        QJsonObject root = QJsonDocument::fromJson(fileBytes()).object();
        QJsonArray routes = root.value("stream_routes").toArray();
        QJsonObject echo = routes.at(0).toObject();
        QCOMPARE(echo.value("id").toString(), QStringLiteral("echo"));
        echo.insert("desc", "edited by hand");
        routes.replace(0, echo);
        root.insert("stream_routes", routes);
        {
            QFile f(m_ui.store->path());
            QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
            f.write(QJsonDocument(root).toJson());
        }

        QVERIFY(m_ui.window->allowClient("127.0.0.9", "echo"));
        QVERIFY(fileBytes().contains("edited by hand"));
        const StreamRoute* route = m_ui.store->config().findRoute("echo");
        QVERIFY(route);
        QCOMPARE(route->desc, QStringLiteral("edited by hand"));
        QVERIFY(route->plugins.ipRestriction->whitelist.contains("127.0.0.9"));

        QVERIFY(m_ui.window->blockClient("127.0.0.9", "echo"));
        route = m_ui.store->config().findRoute("echo");
        QCOMPARE(route->desc, QStringLiteral("edited by hand"));
        QVERIFY(!route->plugins.ipRestriction->whitelist.contains("127.0.0.9"));
        QVERIFY(fileBytes().contains("edited by hand"));
        QVERIFY(!fileBytes().contains("127.0.0.9"));
    }

    void selectionSurvivesRefreshes()
    {
        std::vector<std::unique_ptr<Client>> clients;
        for (int i = 0; i < 4; ++i) {
            clients.push_back(std::make_unique<Client>(QString(), m_port));
            QVERIFY(clients.back()->waitConnected());
        }
        const quint16 chosenPort = clients[2]->socket->localPort();
        QTRY_VERIFY_WITH_TIMEOUT(rowOfClientPort(m_connectionsView, chosenPort) >= 0, 5000);
        const QModelIndex chosen =
            m_connectionsView->model()->index(rowOfClientPort(m_connectionsView, chosenPort), 0);
        const quint64 chosenId = chosen.data(ConnectionIdRole).toULongLong();
        m_connectionsView->selectionModel()->setCurrentIndex(
            chosen, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);

        // Rows come and go around it over several refreshes: one closes (red, then removed),
        // three new ones arrive, another moves bytes.
        const quint16 gonePort = clients[0]->socket->localPort();
        clients[0]->socket->disconnectFromHost();
        clients[1]->socket->write("traffic");
        for (int i = 0; i < 3; ++i) {
            clients.push_back(std::make_unique<Client>(QString(), m_port));
            QVERIFY(clients.back()->waitConnected());
        }
        QTRY_VERIFY_WITH_TIMEOUT(
            rowOfClientPort(m_connectionsView, clients[6]->socket->localPort()) >= 0, 5000);
        QTRY_VERIFY_WITH_TIMEOUT(rowOfClientPort(m_connectionsView, gonePort) < 0, 8000);
        const QModelIndexList selected = m_connectionsView->selectionModel()->selectedRows();
        QCOMPARE(selected.size(), 1);
        QCOMPARE(selected.first().data(ConnectionIdRole).toULongLong(), chosenId);
        QCOMPARE(m_connectionsView->currentIndex().data(ConnectionIdRole).toULongLong(), chosenId);
    }

    void closeConnectionEndsTheRealSocket()
    {
        Client victim({}, m_port);
        QVERIFY(victim.waitConnected());
        victim.socket->write("before");
        QTRY_COMPARE_WITH_TIMEOUT(victim.received, QByteArray("before"), 5000);
        const quint16 port = victim.socket->localPort();
        QTRY_VERIFY_WITH_TIMEOUT(rowOfClientPort(m_connectionsView, port) >= 0, 5000);
        const QModelIndex index =
            m_connectionsView->model()->index(rowOfClientPort(m_connectionsView, port), 0);
        m_connectionsView->selectionModel()->setCurrentIndex(
            index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);

        QAction* close = nullptr;
        for (QAction* a : m_connectionsView->actions()) {
            if (a->text().startsWith("&Close connection"))
                close = a;
        }
        QVERIFY(close);
        answerNextMessageBox("Close");
        close->trigger();
        // The client sees EOF.
        QTRY_VERIFY_WITH_TIMEOUT(victim.closed, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(m_connectionsView->model()
                                      ->index(rowOfClientPort(m_connectionsView, port),
                                              ConnectionTableModel::CloseReasonColumn)
                                      .data()
                                      .toString(),
                                  QStringLiteral("Closed by user"), 5000);
    }

    // Issue 21: the program that owns a client's socket is in the Program column (this test
    // process, and a bash connected through /dev/tcp), its command line in the tooltip; "Show
    // only this program's connections" hides the other program's rows until it is cleared.
    void programOfALocalClientIsShown()
    {
        Client own({}, m_port);
        QVERIFY(own.waitConnected());
        const quint16 port = own.socket->localPort();
        QProcess other;
        other.start(
            QStringLiteral("bash"),
            {QStringLiteral("-c"),
             QStringLiteral("exec 3<>/dev/tcp/127.0.0.1/%1 && read -t 20 <&3").arg(m_port)});
        QVERIFY(other.waitForStarted(3000));
        QFile comm(QStringLiteral("/proc/self/comm"));
        QVERIFY(comm.open(QIODevice::ReadOnly));
        const QString ownProgram = QStringLiteral("%1 (%2)")
                                       .arg(QString::fromLocal8Bit(comm.readAll().trimmed()))
                                       .arg(QCoreApplication::applicationPid());
        const QString bash = QStringLiteral("bash (%1)").arg(other.processId());
        QAbstractItemModel* model = m_connectionsView->model();
        const auto programAt = [&](int row) {
            return row < 0
                       ? QString()
                       : model->index(row, ConnectionTableModel::ProgramColumn).data().toString();
        };
        const auto rowOfProgram = [&](const QString& program) {
            for (int r = 0; r < model->rowCount(); ++r) {
                if (programAt(r) == program)
                    return r;
            }
            return -1;
        };
        QTRY_COMPARE_WITH_TIMEOUT(programAt(rowOfClientPort(m_connectionsView, port)), ownProgram,
                                  5000);
        QVERIFY(model
                    ->index(rowOfClientPort(m_connectionsView, port),
                            ConnectionTableModel::ProgramColumn)
                    .data(Qt::ToolTipRole)
                    .toString()
                    .contains(QStringLiteral("tst_mainwindow")));
        QTRY_VERIFY_WITH_TIMEOUT(rowOfProgram(bash) >= 0, 5000);

        m_connectionsView->selectionModel()->setCurrentIndex(
            model->index(rowOfClientPort(m_connectionsView, port), 0),
            QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
        auto* onlyThis = child<QAction>(m_ui.window.get(), "programFilterAction");
        auto* clear = child<QToolButton>(m_ui.window.get(), "programFilterButton");
        onlyThis->trigger();
        QCOMPARE(rowOfProgram(bash), -1);
        QVERIFY(rowOfClientPort(m_connectionsView, port) >= 0);
        QVERIFY(!clear->isHidden());
        QVERIFY(clear->text().contains(ownProgram.section(QLatin1Char(' '), 0, 0)));
        clear->click();
        QVERIFY(clear->isHidden());
        QVERIFY(rowOfProgram(bash) >= 0);
        other.kill();
        QVERIFY(other.waitForFinished(3000));
    }

    // Routes → Expose a local service (Ctrl+Shift+E, wherever the focus is) on the test's echo
    // server: the dialog names this program as what listens there, suggests a free public port and
    // a name, and Done creates the listener and the route in one change; bytes go through the new
    // port and come back. "Only me" is the whitelist 127.0.0.1, exactly as ip-restriction matches
    // it, so a client bound to 127.0.0.2 (another address of loopback) is refused.
    void exposeALocalServiceInOneStep()
    {
        const int routesBefore = int(m_ui.store->config().streamRoutes.size());
        // From a line edit of the window, whose own Ctrl+E (end of line) must not eat it.
        auto* tabs = child<QTabWidget>(m_ui.window.get(), "tabs");
        tabs->setCurrentIndex(0);
        m_ui.window->activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(m_ui.window.get()));
        auto* filter = child<QLineEdit>(m_ui.window.get(), "connectionFilterEdit");
        filter->setFocus();
        QTRY_COMPARE(QApplication::focusWidget(), filter);
        QTest::keyClick(filter, Qt::Key_E, Qt::ControlModifier | Qt::ShiftModifier);
        QPointer<ExposeDialog> dialog = m_ui.window->findChild<ExposeDialog*>();
        QVERIFY(dialog);
        QVERIFY(dialog->isVisible());
        auto* local = child<QLineEdit>(dialog, "localPortEdit");
        QTRY_COMPARE(QApplication::focusWidget(), local);
        QTest::keyClicks(local, QString::number(m_echo.serverPort()));
        QTRY_COMPARE_WITH_TIMEOUT(
            child<QLabel>(dialog, "localPortStatus")->text(),
            QStringLiteral("%1 listens on 127.0.0.1:%2").arg(ownProgram()).arg(m_echo.serverPort()),
            3000);
        auto* pub = child<QLineEdit>(dialog, "publicPortEdit");
        QTRY_VERIFY_WITH_TIMEOUT(!pub->text().isEmpty(), 3000);
        const quint16 port = pub->text().toUShort();
        QVERIFY(port != 0 && port != m_echo.serverPort() && port != m_port);
        QVERIFY(!ExposeDialog::configPorts(m_ui.store->config()).contains(port));
        QCOMPARE(child<QLineEdit>(dialog, "exposeNameEdit")->text(),
                 QStringLiteral("%1 on %2")
                     .arg(ownProgram().section(QLatin1Char(' '), 0, 0))
                     .arg(m_echo.serverPort()));
        QVERIFY(child<QRadioButton>(dialog, "onlyMeRadio")->isChecked());
        auto* done = child<QPushButton>(dialog, "exposeDoneButton");
        QTRY_VERIFY_WITH_TIMEOUT(done->isEnabled(), 3000);
        QTest::mouseClick(done, Qt::LeftButton);
        QTRY_VERIFY(dialog.isNull()); // closed and gone

        // One change: the route (first in match order) and its listener on loopback.
        const Config config = m_ui.store->config();
        QCOMPARE(int(config.streamRoutes.size()), routesBefore + 1);
        const StreamRoute& route = config.streamRoutes.first();
        const QString id = route.idString();
        QVERIFY2(id.startsWith(QStringLiteral("tst_mainwindow-")), qPrintable(id));
        QCOMPARE(route.serverPort, std::optional<int>(port));
        QCOMPARE(route.plugins.ipRestriction->whitelist, QStringList{QStringLiteral("127.0.0.1")});
        QCOMPARE(route.upstream->nodes.size(), 1);
        QCOMPARE(route.upstream->nodes.at(0).port, int(m_echo.serverPort()));
        QCOMPARE(listenOf(config.streamProxy, route),
                 std::optional<RouteListen>(
                     RouteListen{Protocol::Tcp, QStringLiteral("127.0.0.1"), port}));
        auto* routes = child<QTreeView>(m_ui.window.get(), "routesView");
        QCOMPARE(routes->currentIndex().data(RouteIdRole).toString(), id);

        Client client({}, port);
        QVERIFY(client.waitConnected());
        client.socket->write("exposed in one step");
        QTRY_COMPARE_WITH_TIMEOUT(client.received, QByteArray("exposed in one step"), 3000);
        Client other(QStringLiteral("127.0.0.2"), port);
        QTRY_VERIFY_WITH_TIMEOUT(other.closed, 3000);
        QVERIFY(other.received.isEmpty());

        // An ordinary APISIX route and listener: exported and read back as they are.
        QTemporaryDir apisix;
        const ApisixExport exported = exportApisix(config, apisix.path());
        QVERIFY(exported.ok());
        for (const Problem& w : exported.warnings)
            QVERIFY2(!w.path.contains(id), qPrintable(w.text()));
        const ApisixImport imported = importApisix(apisix.filePath("apisix.yaml"));
        QVERIFY2(imported.ok(), qPrintable(formatProblems(imported.problems)));
        const StreamRoute* back = imported.config.findRoute(id);
        QVERIFY(back);
        QCOMPARE(back->plugins, route.plugins);
        QCOMPARE(back->upstream->nodes, route.upstream->nodes);
        QCOMPARE(listenOf(imported.config.streamProxy, *back), listenOf(config.streamProxy, route));
        QCOMPARE(deleteRoute(id), Problems{});
    }

    // UDP as well: the dialog finds the test's UDP echo (this program, on its own thread) on its
    // port, and Done makes a UDP listener whose route carries a datagram there and back.
    void exposeAUdpService()
    {
        UdpEcho echo;
        QPointer<ExposeDialog> dialog = m_ui.window->openExposeDialog();
        QVERIFY(dialog);
        child<QRadioButton>(dialog, "udpRadio")->click();
        QTest::keyClicks(child<QLineEdit>(dialog, "localPortEdit"), QString::number(echo.port()));
        QTRY_COMPARE_WITH_TIMEOUT(
            child<QLabel>(dialog, "localPortStatus")->text(),
            QStringLiteral("%1 listens on 127.0.0.1:%2").arg(ownProgram()).arg(echo.port()), 3000);
        auto* done = child<QPushButton>(dialog, "exposeDoneButton");
        QTRY_VERIFY_WITH_TIMEOUT(done->isEnabled(), 3000);
        // A UDP port some socket of this test is bound to is refused, naming this program.
        QUdpSocket held;
        QVERIFY(held.bind(QHostAddress::LocalHost, 0));
        auto* pub = child<QLineEdit>(dialog, "publicPortEdit");
        const QString suggested = pub->text();
        pub->selectAll();
        QTest::keyClicks(pub, QString::number(held.localPort()));
        QTRY_COMPARE_WITH_TIMEOUT(
            child<QLabel>(dialog, "publicPortError")->text(),
            QStringLiteral("port %1 is in use by %2").arg(held.localPort()).arg(ownProgram()),
            3000);
        QVERIFY(!done->isEnabled());
        pub->selectAll();
        QTest::keyClicks(pub, suggested);
        QTRY_VERIFY_WITH_TIMEOUT(done->isEnabled(), 3000);
        QVERIFY(
            child<QLabel>(dialog, "exposeSummary")->text().startsWith("Done adds a UDP listener"));
        const quint16 port = child<QLineEdit>(dialog, "publicPortEdit")->text().toUShort();
        done->click();
        QTRY_VERIFY(dialog.isNull());
        const Config config = m_ui.store->config();
        const StreamRoute& route = config.streamRoutes.first();
        QCOMPARE(listenOf(config.streamProxy, route),
                 std::optional<RouteListen>(
                     RouteListen{Protocol::Udp, QStringLiteral("127.0.0.1"), port}));
        // The engine binds the new listener as it applies the change.
        std::optional<QByteArray> answer;
        UdpClient client(QStringLiteral("127.0.0.1"), port);
        QTRY_VERIFY_WITH_TIMEOUT((answer = client.ask("datagram", 200)).has_value(), 3000);
        QCOMPARE(*answer, QByteArray("datagram"));
        QCOMPARE(deleteRoute(route.idString()), Problems{});
    }

    // A public port in use is refused naming what holds it: a server of this test (this
    // program and its pid), or the config's echo route (its name); an address of "these
    // addresses" that ip-restriction would refuse is named; "my network" allows this machine's
    // interface subnets and shows them.
    void exposeRefusesWhatIsTaken()
    {
        QPointer<ExposeDialog> dialog = m_ui.window->openExposeDialog();
        QVERIFY(dialog);
        auto* lookup = dialog->findChild<PortLookup*>();
        QVERIFY(lookup);
        QSignalSpy lookedUp(lookup, &PortLookup::listenersFound);
        QTest::keyClicks(child<QLineEdit>(dialog, "localPortEdit"),
                         QString::number(m_echo.serverPort()));
        auto* done = child<QPushButton>(dialog, "exposeDoneButton");
        QTRY_VERIFY_WITH_TIMEOUT(done->isEnabled(), 3000);
        QCOMPARE(lookedUp.count(), 1); // one lookup for the port typed, not one per keystroke

        QTcpServer held;
        QVERIFY(held.listen(QHostAddress::Any));
        auto* pub = child<QLineEdit>(dialog, "publicPortEdit");
        auto* error = child<QLabel>(dialog, "publicPortError");
        pub->selectAll();
        QTest::keyClicks(pub, QString::number(held.serverPort()));
        QVERIFY(!done->isEnabled()); // until the answer, and after it
        QTRY_COMPARE_WITH_TIMEOUT(
            error->text(),
            QStringLiteral("port %1 is in use by %2").arg(held.serverPort()).arg(ownProgram()),
            3000);
        QVERIFY(error->isVisible());
        QVERIFY(!done->isEnabled());

        pub->selectAll();
        QTest::keyClicks(pub, QString::number(m_port));
        QCOMPARE(error->text(), QStringLiteral("port %1 is used by route Echo (echo)").arg(m_port));
        QVERIFY(!done->isEnabled());
        // Cleared, the field gets a suggestion again.
        pub->selectAll();
        QTest::keyClick(pub, Qt::Key_Backspace);
        QTRY_VERIFY_WITH_TIMEOUT(done->isEnabled(), 3000);
        QVERIFY(error->isHidden());

        child<QRadioButton>(dialog, "theseAddressesRadio")->click();
        auto* addresses = child<QLineEdit>(dialog, "addressesEdit");
        QTest::keyClicks(addresses, "192.168.1.20, 10.0.0.300");
        auto* addressError = child<QLabel>(dialog, "addressesError");
        QVERIFY2(addressError->text().startsWith(
                     QStringLiteral("these addresses: \"10.0.0.300\" is refused: ")),
                 qPrintable(addressError->text()));
        QVERIFY(addressError->isVisible());
        QVERIFY(!done->isEnabled());
        addresses->clear();
        QTest::keyClicks(addresses, "192.168.1.20 10.0.0.0/24");
        QVERIFY(addressError->isHidden());
        QVERIFY(done->isEnabled());
        QCOMPARE(dialog->whitelist(), (QStringList{"127.0.0.1", "192.168.1.20", "10.0.0.0/24"}));

        // Every address of this machine's interfaces that are up is inside a subnet shown.
        child<QRadioButton>(dialog, "myNetworkRadio")->click();
        const QStringList allowed = dialog->whitelist();
        QCOMPARE(allowed.value(0), QStringLiteral("127.0.0.1"));
        const QString shown = child<QLabel>(dialog, "networkLabel")->text();
        for (const QNetworkInterface& i : QNetworkInterface::allInterfaces()) {
            if (!i.flags().testFlag(QNetworkInterface::IsUp) ||
                !i.flags().testFlag(QNetworkInterface::IsRunning) ||
                i.flags().testFlag(QNetworkInterface::IsLoopBack))
                continue;
            for (const QNetworkAddressEntry& e : i.addressEntries()) {
                if (e.ip().protocol() != QAbstractSocket::IPv4Protocol || e.ip().isLinkLocal())
                    continue;
                bool covered = false;
                for (const QString& entry : allowed.mid(1)) {
                    covered |= e.ip().isInSubnet(QHostAddress::parseSubnet(entry));
                    QVERIFY2(shown.contains(entry), qPrintable(shown));
                }
                QVERIFY2(covered, qPrintable(e.ip().toString()));
            }
        }
        QVERIFY(done->isEnabled());
        dialog->reject();
        QTRY_VERIFY(dialog.isNull());
        QVERIFY(!m_ui.store->config().findRoute("tst_mainwindow-" +
                                                QString::number(m_echo.serverPort())));
    }

    // A MySQL route to a port nothing listens on: still listening, but its status says MySQL
    // there is not answering, in the warning colour, with the error in the tooltip and an event
    // in the log (once). When a server starts listening on that port the route turns green by
    // itself.
    void unreachableUpstreamShowsOnTheRoute()
    {
        const QList<int> ports = freePorts(2);
        const quint16 listen = quint16(ports.at(0));
        const quint16 upstream = quint16(ports.at(1));
        RouteSettings settings;
        settings.mysqlCommands = true; // the route says it fronts MySQL
        QCOMPARE(addRoute(QStringLiteral("db"), QStringLiteral("Database"), listen,
                          QStringLiteral("127.0.0.1:%1").arg(upstream), settings),
                 Problems{});

        auto* view = child<QTreeView>(m_ui.window.get(), "routesView");
        const auto status = [&] {
            const int row = static_cast<RoutesModel*>(view->model())->rowOfRoute("db");
            return view->model()->index(row, RoutesModel::StatusColumn);
        };
        const QString down =
            QStringLiteral("Listening · MySQL at 127.0.0.1:%1 is not answering").arg(upstream);
        QTRY_COMPARE_WITH_TIMEOUT(status().data().toString(), down, 3000);
        QCOMPARE(status().data(HealthRole).toInt(), 2); // the warning colour
        QVERIFY2(status()
                     .data(Qt::ToolTipRole)
                     .toString()
                     .contains(QStringLiteral("127.0.0.1:%1: connection refused").arg(upstream)),
                 qPrintable(status().data(Qt::ToolTipRole).toString()));
        const QModelIndex name = status().siblingAtColumn(RoutesModel::NameColumn);
        QVERIFY(!name.data(Qt::DecorationRole).value<QIcon>().isNull());
        // The route the window shows is the one the view paints (its delegate reads this text).
        QVERIFY(view->visualRect(status()).isValid());

        QTcpServer server;
        QVERIFY(server.listen(QHostAddress::LocalHost, upstream));
        QTRY_COMPARE_WITH_TIMEOUT(status().data().toString(), QStringLiteral("Listening"), 3000);
        QCOMPARE(status().data(HealthRole).toInt(), 1);
        QVERIFY(name.data(Qt::DecorationRole).value<QIcon>().isNull());

        // One event when it stopped answering and one when it answered again, however many
        // probes ran in between.
        int stopped = 0;
        int again = 0;
        for (const Event& e : m_ui.engine->eventsSince(0, 100000)) {
            if (e.routeId != u"db")
                continue;
            stopped += e.kind == EventKind::NodeDown && e.text.contains("is not answering") &&
                               e.text.contains("connection refused")
                           ? 1
                           : 0;
            again += e.kind == EventKind::NodeUp && e.text.contains("answers again") ? 1 : 0;
        }
        QCOMPARE(stopped, 1);
        QCOMPARE(again, 1);
        QCOMPARE(deleteRoute("db"), Problems{});
    }

    // Issue 21: an empty view says what to do next. A window on a file with a listener and no
    // route: the routes list offers "Add a route…" (which opens the route form), the
    // connections table, Denied clients and Statistics say what will appear. With a route, the
    // connections table says where to connect, and the hint goes when a connection arrives,
    // the chart's when traffic comes, Denied clients' when a client is refused.
    void emptyStatesSayWhatToDoNext()
    {
        const QList<int> ports = freePorts(1);
        const quint16 port = quint16(ports.at(0));
        const QString path = m_dir.filePath("empty-states.json");
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(
            QStringLiteral(R"({"stream_proxy": {"tcp": ["127.0.0.1:%1"]}})").arg(port).toUtf8());
        file.close();
        WindowFixture ui;
        QVERIFY(ui.open(path));
        const auto hintOf = [&](const char* view) {
            return child<QWidget>(ui.window.get(), view)->findChild<EmptyState*>();
        };
        EmptyState* routes = hintOf("routesView");
        EmptyState* connections = hintOf("connectionsView");
        EmptyState* denied = hintOf("deniedView");
        EmptyState* stats = hintOf("statsView");
        QVERIFY(routes && connections && denied && stats);
        QTRY_VERIFY(routes->isVisible());
        QVERIFY2(routes->text().startsWith("No routes yet."), qPrintable(routes->text()));
        QTRY_VERIFY(connections->isVisible());
        QCOMPARE(connections->text(),
                 QStringLiteral("No connections yet. Add a route, then connect to its listener."));
        QVERIFY(denied->isShowing());
        QVERIFY(denied->text().startsWith("No client has been refused."));
        QVERIFY(stats->isShowing());
        // Drawn over the view's viewport, in the palette's placeholder colour (dark mode too).
        auto* connectionsView = child<QTableView>(ui.window.get(), "connectionsView");
        QVERIFY(connectionsView->viewport()->geometry().contains(connections->geometry()));
        QCOMPARE(connections->findChild<QLabel*>("emptyStateText")->foregroundRole(),
                 QPalette::PlaceholderText);

        auto* add = routes->findChild<QPushButton*>("emptyStateButton");
        QVERIFY(add && add->isVisible());
        QCOMPARE(add->text(), QStringLiteral("Add a route…"));
        auto* tabs = child<QTabWidget>(ui.window.get(), "tabs");
        QTest::mouseClick(add, Qt::LeftButton);
        QCOMPARE(tabs->currentWidget(), child<QWidget>(ui.window.get(), "routeEditor"));

        // A route (the form is tested elsewhere): only 127.0.0.1 may connect.
        const auto route = decodeStreamRoute(QJsonDocument::fromJson(QStringLiteral(R"({
              "id": "hinted", "name": "Hinted echo", "server_port": %1,
              "plugins": {"ip-restriction": {"whitelist": ["127.0.0.1"]}},
              "upstream": {"nodes": {"127.0.0.1:%2": 1}}})")
                                                                         .arg(port)
                                                                         .arg(m_echo.serverPort())
                                                                         .toUtf8())
                                                 .object());
        QVERIFY(route.ok());
        QCOMPARE(ui.store->update([&](Config& config) {
            config.streamRoutes.append(route.value);
            return Problems{};
        }),
                 Problems{});
        QTRY_VERIFY(!routes->isShowing());
        answerNextMessageBox("Discard"); // the new route's form
        ui.window->selectRoute("hinted");
        tabs->setCurrentIndex(0);
        const QString reach =
            QStringLiteral("No connections yet. Connect to 127.0.0.1:%1 to reach Hinted echo.")
                .arg(port);
        QTRY_COMPARE(connections->text(), reach);
        QVERIFY(connections->isVisible());
        QTRY_VERIFY(!stats->isShowing()); // a row per route now

        // The chart of a route without traffic says so, and where to connect.
        tabs->setCurrentIndex(2);
        EmptyState* chart = child<QWidget>(ui.window.get(), "chartView")->findChild<EmptyState*>();
        QVERIFY(chart);
        QTRY_VERIFY(chart->isVisible());
        QCOMPARE(chart->text(), QStringLiteral("No traffic on Hinted echo in the last 5 minutes. "
                                               "Connect to 127.0.0.1:%1 to see it here.")
                                    .arg(port));

        Client client({}, port);
        QVERIFY(client.waitConnected());
        client.socket->write("hint");
        QTRY_COMPARE_WITH_TIMEOUT(client.received, QByteArray("hint"), 3000);
        QTRY_VERIFY_WITH_TIMEOUT(!chart->isShowing(), 3000);
        tabs->setCurrentIndex(0);
        QTRY_VERIFY_WITH_TIMEOUT(!connections->isShowing(), 3000);
        QVERIFY(connections->isHidden());

        Client refused("127.0.0.3", port);
        QTRY_VERIFY_WITH_TIMEOUT(!denied->isShowing(), 3000);
        QVERIFY(denied->isHidden());
        ui.window.reset();
        m_ui.window->activateWindow(); // window shortcuts need the active window
        QVERIFY(QTest::qWaitForWindowActive(m_ui.window.get()));
    }

    // Issue 21: on a 1400 px window, a route that carries MySQL shows User, Database, Server,
    // TLS and Queries without scrolling (the automatic columns); a route without a database
    // protocol shows the network columns instead.
    void mySqlColumnsVisibleAt1400Pixels()
    {
        const QList<int> ports = freePorts(2);
        RouteSettings settings;
        settings.mysqlCommands = true; // the route says it fronts MySQL
        QCOMPARE(addRoute(QStringLiteral("mysqlcols"), QStringLiteral("MySQL columns"),
                          quint16(ports.at(0)), QStringLiteral("127.0.0.1:%1").arg(ports.at(1)),
                          settings),
                 Problems{});
        QCOMPARE(m_ui.window->width(), 1400);
        auto* tabs = child<QTabWidget>(m_ui.window.get(), "tabs");
        tabs->setCurrentIndex(0);
        m_ui.window->selectRoute("mysqlcols");
        QHeaderView* header = m_connectionsView->horizontalHeader();
        m_connectionsView->horizontalScrollBar()->setValue(0);
        const auto inView = [&](int column) {
            const int left = header->sectionViewportPosition(column);
            return !header->isSectionHidden(column) && left >= 0 &&
                   left + header->sectionSize(column) <= header->viewport()->width();
        };
        for (int column :
             {int(ConnectionTableModel::MySqlUserColumn),
              int(ConnectionTableModel::MySqlDatabaseColumn),
              int(ConnectionTableModel::MySqlServerColumn),
              int(ConnectionTableModel::MySqlTlsColumn),
              int(ConnectionTableModel::MySqlQueriesColumn),
              int(ConnectionTableModel::ClientColumn), int(ConnectionTableModel::ProgramColumn)})
            QVERIFY2(inView(column), qPrintable(QStringLiteral("column %1 at %2 of %3")
                                                    .arg(column)
                                                    .arg(header->sectionViewportPosition(column))
                                                    .arg(header->viewport()->width())));

        m_ui.window->selectRoute("echo");
        QVERIFY(header->isSectionHidden(ConnectionTableModel::MySqlUserColumn));
        for (int column :
             {int(ConnectionTableModel::UpstreamColumn), int(ConnectionTableModel::ClientColumn),
              int(ConnectionTableModel::BytesDownColumn)})
            QVERIFY(inView(column));
        QCOMPARE(deleteRoute("mysqlcols"), Problems{});
    }

    // Issue 21: the column presets, from the View menu and the header's context menu: each
    // switches the columns; a column picked by hand makes the choice the user's own; the choice,
    // compact addresses and the columns are remembered in the settings.
    void columnPresetsSwitchAndPersist()
    {
        auto* pane = m_ui.window->findChild<ConnectionsPane*>();
        QVERIFY(pane);
        auto* menu = child<QMenu>(m_ui.window.get(), "connectionColumnsMenu");
        QVERIFY(
            child<QMenu>(m_ui.window.get(), "viewMenu")->actions().contains(menu->menuAction()));
        QHeaderView* header = m_connectionsView->horizontalHeader();
        const auto shown = [&] {
            QList<int> columns;
            for (int c = 0; c < ConnectionTableModel::ColumnCount; ++c) {
                if (!header->isSectionHidden(c))
                    columns << c;
            }
            return columns;
        };
        child<QAction>(m_ui.window.get(), "columnsAllAction")->trigger();
        QCOMPARE(shown().size(), int(ConnectionTableModel::ColumnCount));
        QCOMPARE(pane->columnPreset(), ConnectionsPane::ColumnPreset::All);
        child<QAction>(m_ui.window.get(), "columnsDatabaseAction")->trigger();
        QVERIFY(shown().contains(ConnectionTableModel::MySqlUserColumn));
        QVERIFY(!shown().contains(ConnectionTableModel::UpstreamColumn));
        child<QAction>(m_ui.window.get(), "columnsNetworkAction")->trigger();
        QVERIFY(!shown().contains(ConnectionTableModel::MySqlUserColumn));
        QVERIFY(shown().contains(ConnectionTableModel::UpstreamColumn));
        QVERIFY(child<QAction>(m_ui.window.get(), "columnsNetworkAction")->isChecked());
        // Selecting a route changes nothing while a preset is chosen.
        m_ui.window->selectRoute("echo");
        QVERIFY(shown().contains(ConnectionTableModel::UpstreamColumn));

        // One column by hand, from the menu as it opens: the user's own choice.
        Q_EMIT menu->aboutToShow();
        auto* started = menu->findChild<QAction*>(
            QStringLiteral("columnAction%1").arg(ConnectionTableModel::StartedColumn));
        QVERIFY(started && started->isChecked());
        started->trigger();
        QVERIFY(header->isSectionHidden(ConnectionTableModel::StartedColumn));
        QCOMPARE(pane->columnPreset(), ConnectionsPane::ColumnPreset::Custom);
        for (const char* name : {"columnsAutomaticAction", "columnsAllAction",
                                 "columnsNetworkAction", "columnsDatabaseAction"})
            QVERIFY(!child<QAction>(m_ui.window.get(), name)->isChecked());
        child<QAction>(m_ui.window.get(), "compactAddressesAction")->setChecked(false);

        // Saved and restored as the window does it, into another pane.
        const QList<int> custom = shown();
        {
            QSettings settings(m_dir.filePath("columns.ini"), QSettings::IniFormat);
            pane->saveSettings(settings);
            QCOMPARE(settings.value("connections/columns").toString(), QStringLiteral("custom"));
        }
        ConnectionTableModel model;
        {
            ConnectionsPane restored(&model, nullptr);
            QSettings settings(m_dir.filePath("columns.ini"), QSettings::IniFormat);
            restored.restoreSettings(settings);
            QCOMPARE(restored.columnPreset(), ConnectionsPane::ColumnPreset::Custom);
            auto* view = restored.findChild<QTableView*>("connectionsView");
            for (int c = 0; c < ConnectionTableModel::ColumnCount; ++c)
                QCOMPARE(view->horizontalHeader()->isSectionHidden(c), !custom.contains(c));
            QVERIFY(!model.compactAddresses());
        }
        child<QAction>(m_ui.window.get(), "compactAddressesAction")->setChecked(true);
        child<QAction>(m_ui.window.get(), "columnsDatabaseAction")->trigger();
        {
            QSettings settings(m_dir.filePath("columns.ini"), QSettings::IniFormat);
            pane->saveSettings(settings);
        }
        {
            ConnectionsPane restored(&model, nullptr);
            QSettings settings(m_dir.filePath("columns.ini"), QSettings::IniFormat);
            restored.restoreSettings(settings);
            QCOMPARE(restored.columnPreset(), ConnectionsPane::ColumnPreset::Database);
            QVERIFY(restored.findChild<QTableView*>("connectionsView")
                        ->horizontalHeader()
                        ->isSectionHidden(ConnectionTableModel::UpstreamColumn));
            QVERIFY(model.compactAddresses());
        }
        child<QAction>(m_ui.window.get(), "columnsAutomaticAction")->trigger();
        QCOMPARE(pane->columnPreset(), ConnectionsPane::ColumnPreset::Automatic);
        QVERIFY(header->isSectionHidden(ConnectionTableModel::MySqlUserColumn)); // echo: network
    }

    void screenshotWithLiveTraffic()
    {
        std::vector<std::unique_ptr<Client>> clients;
        for (const QString& from : {QString(), QString(), QStringLiteral("127.0.0.2"), QString()}) {
            clients.push_back(std::make_unique<Client>(from, m_port));
            QVERIFY(clients.back()->waitConnected());
        }
        Client refused("127.0.0.3", m_port);
        // A few seconds of traffic of different sizes, so rates and the chart have a shape.
        QByteArray chunk(48 * 1024, 'x');
        int ticks = 0;
        QTimer pump;
        connect(&pump, &QTimer::timeout, this, [&] {
            ++ticks;
            for (size_t i = 0; i < clients.size(); ++i) {
                if ((ticks + int(i)) % (int(i) + 1) == 0)
                    clients[i]->socket->write(
                        chunk.left(int(chunk.size() / (i + 1)) * (1 + ticks % 3)));
            }
        });
        pump.start(100);
        QTRY_VERIFY_WITH_TIMEOUT(ticks >= 40, 10000);
        pump.stop();
        // A fresh connection (drawn fading green) and one just closed (drawn red).
        clients.push_back(std::make_unique<Client>(QString(), m_port));
        QVERIFY(clients.back()->waitConnected());
        const quint16 closedPort = clients[1]->socket->localPort(); // 0 once disconnected
        clients[1]->socket->disconnectFromHost();
        QTRY_VERIFY_WITH_TIMEOUT(
            rowOfClientPort(m_connectionsView, closedPort) >= 0 &&
                m_connectionsView->model()
                        ->index(rowOfClientPort(m_connectionsView, closedPort), 0)
                        .data(ClosedMsRole)
                        .toLongLong() > 0,
            5000);
        auto* tabs = child<QTabWidget>(m_ui.window.get(), "tabs");

        // A real MariaDB client session through a MySQL route to the server of the "mariadb"
        // fixture (tests/e2e), when ctest started one: the picture shows the database columns
        // filled. Without MariaDB that part is left out, and said.
        const MariaDbEnv db = MariaDbEnv::load();
        QProcess mariadb;
        const bool withMySql = db.ok();
        if (!withMySql) {
            qInfo("no MariaDB (%s): the screenshot shows no MySQL session", qPrintable(db.error));
        } else {
            const quint16 listen = freePort();
            RouteSettings settings;
            settings.mysqlDigests = true; // commands counted, statements followed
            QCOMPARE(addRoute(QStringLiteral("mysql"), QStringLiteral("Local MySQL"), listen,
                              QStringLiteral("%1:%2").arg(db.host).arg(db.port), settings),
                     Problems{});
            mariadb.start(db.client, db.clientArgs(QStringLiteral("127.0.0.1"), listen, db.database,
                                                   db.password));
            QVERIFY(mariadb.waitForStarted(5000));
            // A statement still running when the picture is taken.
            mariadb.write("SELECT VERSION();\nSELECT COUNT(*) FROM information_schema.tables;\n"
                          "SELECT SLEEP(30);\n");
            QAbstractItemModel* model = m_connectionsView->model();
            const auto sessionShown = [&] {
                for (int r = 0; r < model->rowCount(); ++r) {
                    const QModelIndex row = model->index(r, 0);
                    if (row.data(RouteIdRole).toString() != u"mysql")
                        continue;
                    const auto at = [&](int column) {
                        return row.siblingAtColumn(column).data().toString();
                    };
                    return at(ConnectionTableModel::MySqlUserColumn) == db.user &&
                           at(ConnectionTableModel::MySqlDatabaseColumn) == db.database &&
                           at(ConnectionTableModel::MySqlServerColumn).contains("MariaDB") &&
                           at(ConnectionTableModel::MySqlTlsColumn) == u"no" &&
                           at(ConnectionTableModel::MySqlQueriesColumn).toInt() >= 2 &&
                           at(ConnectionTableModel::MySqlStatementColumn)
                               .startsWith("SELECT SLEEP") &&
                           at(ConnectionTableModel::ProgramColumn)
                               .startsWith(QFileInfo(db.client).fileName().left(15));
                }
                return false;
            };
            QTRY_VERIFY_WITH_TIMEOUT(sessionShown(), 10000);
        }

        const QDir out(QStringLiteral(QT_TESTCASE_BUILDDIR));
        tabs->setCurrentIndex(0);
        m_ui.window->selectRoute(withMySql ? "mysql" : "echo");
        m_connectionsView->horizontalScrollBar()->setValue(0);
        const QImage main = m_ui.window->grab().toImage();
        QVERIFY(!main.isNull());
        QCOMPARE(main.size(), m_ui.window->size() * m_ui.window->devicePixelRatio());
        QVERIFY(main.save(out.filePath("main-window.png")));
        tabs->setCurrentIndex(2);
        const QImage stats = m_ui.window->grab().toImage();
        QVERIFY(stats.save(out.filePath("main-window-statistics.png")));
        tabs->setCurrentIndex(3);
        QVERIFY(m_ui.window->grab().toImage().save(out.filePath("main-window-route.png")));
        // The picture is not blank: many distinct colours.
        QSet<QRgb> colours;
        for (int y = 0; y < main.height(); y += 7)
            for (int x = 0; x < main.width(); x += 7)
                colours.insert(main.pixel(x, y));
        QVERIFY(colours.size() > 20);
        QVERIFY2(darkShare(main) < 0.4, qPrintable(QString::number(darkShare(main))));

        // The same window dark, chosen from View > Colours, and back to following the desktop.
        auto* scheme = m_ui.window->findChild<QMenu*>(QStringLiteral("colorSchemeMenu"));
        QVERIFY(scheme);
        QCOMPARE(scheme->actions().size(), 3);
        scheme->actions().at(2)->trigger();
        // Widgets take the application's new palette from a posted event.
        QTRY_VERIFY(m_ui.window->palette().color(QPalette::Base).lightnessF() < 0.3);
        tabs->setCurrentIndex(0);
        const QImage dark = m_ui.window->grab().toImage();
        QVERIFY(dark.save(out.filePath("main-window-dark.png")));
        QVERIFY2(darkShare(dark) > 0.6, qPrintable(QString::number(darkShare(dark))));
        scheme->actions().at(0)->trigger();
        QTRY_VERIFY(m_ui.window->palette().color(QPalette::Base).lightnessF() > 0.7);
        QVERIFY(darkShare(m_ui.window->grab().toImage()) < 0.4);
        qInfo("screenshots: %s", qPrintable(out.filePath("main-window*.png")));
        if (withMySql) {
            mariadb.kill(); // our own child, by PID
            QVERIFY(mariadb.waitForFinished(5000));
            QCOMPARE(deleteRoute("mysql"), Problems{});
        }
    }
};

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
