// The remote APISIX window against a real admin API over loopback HTTP: list, add and edit
// through the route, upstream and service forms, refusal before sending, the server's refusals,
// delete, a wrong key, and the local store left alone. The window's admin key is kept in a private
// file when nothing on the session bus keeps secrets (a private bus with nothing on it), and in
// the desktop's secret store when one answers (GNOME Keyring on another private bus).

#include "api/adminserver.h"
#include "api/remoteapisix.h"
#include "config/configstore.h"
#include "config/keyfile.h"
#include "formfill.h"
#include "mainwindow.h"
#include "model/codec.h"
#include "remoteapisixwindow.h"
#include "routeeditor/routeeditor.h"
#include "routeeditor/serviceeditor.h"
#include "routeeditor/upstreameditor.h"
#include "secrets/remotekeystore.h"
#include "secretservicefixture.h"
#include "testfiles.h"

#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QDBusConnection>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableWidget>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <memory>
#include <optional>

using namespace sg;
using namespace sgtest;
using sgtest::child;
using sgtest::editCell;
using sgtest::typeInto;

namespace {

constexpr const char* kKey = "remote-test-key";

StreamRoute route(const char* json)
{
    const Decoded<StreamRoute> d =
        decodeStreamRoute(QJsonDocument::fromJson(json).object(), {}, DecodeMode::Client);
    if (!d.ok())
        qFatal("bad test route: %s", qPrintable(formatProblems(d.problems)));
    return d.value;
}

int rowOf(QTableWidget* table, const QString& id)
{
    for (int row = 0; row < table->rowCount(); ++row) {
        if (table->item(row, 0) && table->item(row, 0)->text() == id)
            return row;
    }
    return -1;
}

} // namespace

class TestRemoteApisixWindow : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();

    void menuOpensWindowAndListsServerRoutes();
    void addAndEditThroughTheForm();
    void invalidRemoteAddrRefusedBeforeSending();
    void serverRefusalShownInFormAndStatus();
    void deleteAfterConfirm();
    void declinedDeleteKeepsRoute();
    void deleteUpstreamInUseRefusedThenDeleted();
    void addAndEditUpstreamThroughTheForm();
    void invalidNodeKeepsUpstreamSaveDisabled();
    void upstreamRefusedByServerShowsErrorMsg();
    void serviceThroughTheFormPickedByARoute();
    void serviceWithoutIdGetsOneFromTheServer();
    void wrongKeyShowsServerError();
    void unreachableServerShowsTransportError();
    void settingsRemembered();
    void keyKeptInDesktopSecretStore();
    void keyInOldSettingsMovedOut();

private:
    ui::RemoteApisixWindow* connectedWindow();
    // The upstream as the server's Admin API answers a GET for it.
    std::optional<Upstream> fetchUpstream(const QString& id);
    Config serverConfig() const { return m_serverStore->config(); }

    QTemporaryDir m_settingsDir;
    sgtest::PrivateSessionBus m_sessionBus; // the session bus of this process: nothing on it
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<ConfigStore> m_serverStore;
    std::unique_ptr<AdminServer> m_server;
    std::unique_ptr<ConfigStore> m_localStore;
    QString m_localPath;
    QByteArray m_localBytes;
    std::unique_ptr<MainWindow> m_main;
};

void TestRemoteApisixWindow::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_settingsDir.isValid());
    qputenv("XDG_CONFIG_HOME", m_settingsDir.path().toLocal8Bit()); // QSettings stay here
    QCoreApplication::setOrganizationName(QStringLiteral("streamgate-tests"));
    QCoreApplication::setApplicationName(QStringLiteral("tst_remoteapisixwindow"));
    // Never the user's own session bus (or keyring): a private one, before anything uses it.
    const QString busError = m_sessionBus.start();
    QVERIFY2(busError.isEmpty(), qPrintable(busError));
    qputenv("DBUS_SESSION_BUS_ADDRESS", m_sessionBus.address().toLocal8Bit());
    // The session bus this process uses is that one: a name taken on it is seen there.
    const QString name =
        QStringLiteral("dev.streamgate.tests.p%1").arg(QCoreApplication::applicationPid());
    QVERIFY(QDBusConnection::sessionBus().registerService(name));
    QVERIFY2(sgtest::nameHasOwner(m_sessionBus.connect(QStringLiteral("check")), name),
             "the session bus was connected before the test could point it at a private one");
}

void TestRemoteApisixWindow::init()
{
    QSettings().clear();
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    const QString serverPath = m_dir->filePath(QStringLiteral("server.json"));
    QVERIFY(writeFile(serverPath, R"({"stream_proxy": {"tcp": [9100, 9101]}})"));
    m_serverStore = std::make_unique<ConfigStore>(serverPath);
    QVERIFY(m_serverStore->load().ok());
    const Decoded<Upstream> up = decodeUpstream(
        QJsonDocument::fromJson(R"({"id": "up1", "name": "Pool", "nodes": {"127.0.0.1:1996": 2}})")
            .object(),
        {}, DecodeMode::Client);
    QVERIFY2(up.ok(), qPrintable(formatProblems(up.problems)));
    Problems p = m_serverStore->putUpstream(up.value);
    QVERIFY2(p.isEmpty(), qPrintable(formatProblems(p)));
    p = m_serverStore->putRoute(
        route(R"({"id": "existing", "name": "Existing", "remote_addr": "127.0.0.3",
        "server_addr": "127.0.0.1", "server_port": 9100,
        "upstream": {"nodes": {"127.0.0.1:1995": 1}, "type": "roundrobin"}})"));
    QVERIFY2(p.isEmpty(), qPrintable(formatProblems(p)));
    m_server = std::make_unique<AdminServer>(m_serverStore.get(), nullptr);
    QVERIFY2(m_server->start({QStringLiteral("127.0.0.1:0"), QString::fromLatin1(kKey)}),
             qPrintable(m_server->errorString()));

    // The desktop's own config: nothing in the remote window may touch it.
    m_localPath = m_dir->filePath(QStringLiteral("local.json"));
    QVERIFY(writeFile(m_localPath, R"({"stream_proxy": {"tcp": [9200]}})"));
    m_localStore = std::make_unique<ConfigStore>(m_localPath);
    QVERIFY(m_localStore->load().ok());
    QVERIFY(m_localStore
                ->putRoute(route(R"({"id": "local", "server_port": 9200,
        "upstream": {"nodes": {"127.0.0.1:1997": 1}}})"))
                .isEmpty());
    m_localBytes = readFile(m_localPath);
    QVERIFY(!m_localBytes.isEmpty());
    m_main = std::make_unique<MainWindow>(m_localStore.get(), nullptr);
}

void TestRemoteApisixWindow::cleanup()
{
    if (m_localStore) {
        // Whatever the test did remotely, the local file and config are as they were.
        QCOMPARE(readFile(m_localPath), m_localBytes);
        QCOMPARE(m_localStore->config().streamRoutes.size(), 1);
    }
    m_main.reset();
    m_localStore.reset();
    m_server.reset();
    m_serverStore.reset();
    m_dir.reset();
}

ui::RemoteApisixWindow* TestRemoteApisixWindow::connectedWindow()
{
    auto* action = m_main->findChild<QAction*>(QStringLiteral("remoteApisixAction"));
    if (!action)
        return nullptr;
    action->trigger();
    auto* window = m_main->findChild<ui::RemoteApisixWindow*>();
    if (!window)
        return nullptr;
    window->setConfirm([](const QString&) { return true; });
    window->findChild<QLineEdit*>(QStringLiteral("adminUrlEdit"))
        ->setText(m_server->url().toString());
    window->findChild<QLineEdit*>(QStringLiteral("adminKeyEdit"))
        ->setText(QString::fromLatin1(kKey));
    QSignalSpy finished(window, &ui::RemoteApisixWindow::requestFinished);
    QTest::mouseClick(window->findChild<QPushButton*>(QStringLiteral("connectButton")),
                      Qt::LeftButton);
    if (!finished.wait(10000) || !finished.first().first().toBool()) {
        qWarning() << "connect failed:" << window->statusText();
        return nullptr;
    }
    return window;
}

void TestRemoteApisixWindow::menuOpensWindowAndListsServerRoutes()
{
    ui::RemoteApisixWindow* window = connectedWindow();
    QVERIFY(window);
    QVERIFY(window->isVisible());
    auto* routes = window->findChild<QTableWidget*>(QStringLiteral("routeTable"));
    QCOMPARE(routes->rowCount(), 1);
    QCOMPARE(routes->item(0, 0)->text(), QString("existing"));
    QCOMPARE(routes->item(0, 1)->text(), QString("Existing"));
    QCOMPARE(routes->item(0, 2)->text(), QString("127.0.0.3"));
    QCOMPARE(routes->item(0, 3)->text(), QString("127.0.0.1"));
    QCOMPARE(routes->item(0, 4)->text(), QString("9100"));
    QVERIFY2(routes->item(0, 5)->text().contains("127.0.0.1:1995"),
             qPrintable(routes->item(0, 5)->text()));
    auto* upstreams = window->findChild<QTableWidget*>(QStringLiteral("upstreamTable"));
    QCOMPARE(upstreams->rowCount(), 1);
    QCOMPARE(upstreams->item(0, 0)->text(), QString("up1"));
    QVERIFY(upstreams->item(0, 3)->text().contains("127.0.0.1:1996"));

    // A route added on the server behind the window's back shows up on Refresh.
    QVERIFY(m_serverStore
                ->putRoute(route(R"({"id": "later", "server_port": 9101,
        "upstream_id": "up1"})"))
                .isEmpty());
    QSignalSpy finished(window, &ui::RemoteApisixWindow::requestFinished);
    QTest::mouseClick(window->findChild<QPushButton*>(QStringLiteral("refreshButton")),
                      Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 10000);
    QCOMPARE(routes->rowCount(), 2);
    const int row = rowOf(routes, "later");
    QVERIFY(row >= 0);
    QVERIFY(routes->item(row, 5)->text().contains("up1"));
}

void TestRemoteApisixWindow::addAndEditThroughTheForm()
{
    ui::RemoteApisixWindow* window = connectedWindow();
    QVERIFY(window);
    ui::RouteEditor* editor = window->editor();
    QTest::mouseClick(window->findChild<QPushButton*>(QStringLiteral("addButton")), Qt::LeftButton);
    QVERIFY(editor->isNew());
    const QString id = editor->routeId();
    QVERIFY(!id.isEmpty());
    editor->findChild<QLineEdit*>(QStringLiteral("nameEdit"))->setText("From the form");
    editor->findChild<QLineEdit*>(QStringLiteral("remoteAddrEdit"))->setText("127.0.0.2");
    editor->findChild<QSpinBox*>(QStringLiteral("portSpin"))->setValue(9101);
    auto* save = editor->findChild<QPushButton*>(QStringLiteral("saveButton"));
    QVERIFY2(save->isEnabled(), qPrintable(formatProblems(editor->problems())));
    QTest::mouseClick(save, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(serverConfig().findRoute(id) != nullptr, 10000);
    {
        const Config c = serverConfig();
        const StreamRoute* r = c.findRoute(id);
        QCOMPARE(r->name, QString("From the form"));
        QCOMPARE(r->remoteAddr, QString("127.0.0.2"));
        QCOMPARE(r->serverPort.value_or(0), 9101);
    }
    auto* routes = window->findChild<QTableWidget*>(QStringLiteral("routeTable"));
    QTRY_VERIFY(rowOf(routes, id) >= 0);
    QTRY_VERIFY(!editor->isDirty());
    QVERIFY(!editor->isNew()); // the stored route is loaded back
    QVERIFY2(window->statusText().contains("created"), qPrintable(window->statusText()));

    // Edit the pre-existing route: the form loads it, the change lands on the server.
    routes->selectRow(rowOf(routes, "existing"));
    QTest::mouseClick(window->findChild<QPushButton*>(QStringLiteral("editButton")),
                      Qt::LeftButton);
    QCOMPARE(editor->routeId(), QString("existing"));
    QCOMPARE(editor->findChild<QLineEdit*>(QStringLiteral("remoteAddrEdit"))->text(),
             QString("127.0.0.3"));
    editor->findChild<QLineEdit*>(QStringLiteral("remoteAddrEdit"))->setText("127.0.0.0/24");
    QVERIFY(save->isEnabled());
    QTest::mouseClick(save, Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(serverConfig().findRoute("existing")->remoteAddr,
                              QString("127.0.0.0/24"), 10000);
    const Config c = serverConfig();
    QCOMPARE(c.findRoute("existing")->serverAddr, QString("127.0.0.1")); // unshown fields kept
    QTRY_COMPARE(routes->item(rowOf(routes, "existing"), 2)->text(), QString("127.0.0.0/24"));
}

void TestRemoteApisixWindow::invalidRemoteAddrRefusedBeforeSending()
{
    ui::RemoteApisixWindow* window = connectedWindow();
    QVERIFY(window);
    ui::RouteEditor* editor = window->editor();
    auto* routes = window->findChild<QTableWidget*>(QStringLiteral("routeTable"));
    routes->selectRow(rowOf(routes, "existing"));
    QTest::mouseClick(window->findChild<QPushButton*>(QStringLiteral("editButton")),
                      Qt::LeftButton);
    editor->findChild<QLineEdit*>(QStringLiteral("remoteAddrEdit"))->setText(":/8");

    // The core's own words for the same value.
    Problems expected;
    for (const Problem& p :
         decodeStreamRoute(QJsonObject{{"remote_addr", ":/8"}, {"server_port", 9100}}, {},
                           DecodeMode::Client)
             .problems) {
        if (p.path == QLatin1String("remote_addr"))
            expected << p;
    }
    QCOMPARE(expected.size(), 1);
    QCOMPARE(editor->problems().size(), 1);
    QCOMPARE(editor->problems().first().path, QString("remote_addr"));
    QCOMPARE(editor->problems().first().reason, expected.first().reason);
    QVERIFY(editor->problems().first().reason.contains(":/8"));
    bool shown = false;
    for (QLabel* label : editor->findChildren<QLabel*>())
        shown = shown ||
                (label->isVisibleTo(editor) && label->text().contains(expected.first().reason));
    QVERIFY(shown);

    QSignalSpy sent(window, &ui::RemoteApisixWindow::requestFinished);
    QSignalSpy serverChanged(m_serverStore.get(), &ConfigStore::changed);
    QVERIFY(!editor->findChild<QPushButton*>(QStringLiteral("saveButton"))->isEnabled());
    QVERIFY(!editor->save());
    QVERIFY(!window->isBusy()); // nothing went out
    QCOMPARE(sent.size(), 0);
    QCOMPARE(serverChanged.size(), 0);
    QCOMPARE(serverConfig().findRoute("existing")->remoteAddr, QString("127.0.0.3"));
}

void TestRemoteApisixWindow::serverRefusalShownInFormAndStatus()
{
    ui::RemoteApisixWindow* window = connectedWindow();
    QVERIFY(window);
    ui::RouteEditor* editor = window->editor();
    // Valid for the form, refused by the server: the shared upstream it names (offered by the
    // last refresh) is deleted there before Save.
    QVERIFY(m_serverStore->deleteUpstream("up1").isEmpty());
    StreamRoute r;
    r.id = QStringLiteral("refused");
    r.serverPort = 9101;
    r.upstreamId = QStringLiteral("up1");
    editor->editDetached(r, true, window->upstreams());
    QSignalSpy finished(window, &ui::RemoteApisixWindow::requestFinished);
    QVERIFY(editor->save());
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 10000);
    QCOMPARE(finished.first().first().toBool(), false);
    QVERIFY2(window->statusText().contains("400"), qPrintable(window->statusText()));
    QVERIFY2(window->statusText().contains("up1"), qPrintable(window->statusText()));
    auto* general = editor->findChild<QLabel*>(QStringLiteral("generalErrors"));
    QVERIFY(general->isVisibleTo(editor));
    QVERIFY2(general->text().contains("up1"), qPrintable(general->text()));
    QVERIFY(editor->isDirty()); // the user's edits stay for another try
    QVERIFY(serverConfig().findRoute("refused") == nullptr);
}

void TestRemoteApisixWindow::deleteAfterConfirm()
{
    ui::RemoteApisixWindow* window = connectedWindow();
    QVERIFY(window);
    QStringList questions;
    window->setConfirm([&questions](const QString& q) {
        questions << q;
        return true;
    });
    auto* routes = window->findChild<QTableWidget*>(QStringLiteral("routeTable"));
    routes->selectRow(rowOf(routes, "existing"));
    QTest::mouseClick(window->findChild<QPushButton*>(QStringLiteral("deleteButton")),
                      Qt::LeftButton);
    QCOMPARE(questions.size(), 1);
    QVERIFY(questions.first().contains("existing"));
    QTRY_VERIFY_WITH_TIMEOUT(serverConfig().findRoute("existing") == nullptr, 10000);
    QTRY_COMPARE(routes->rowCount(), 0);
    QVERIFY2(window->statusText().contains("deleted"), qPrintable(window->statusText()));
}

void TestRemoteApisixWindow::declinedDeleteKeepsRoute()
{
    ui::RemoteApisixWindow* window = connectedWindow();
    QVERIFY(window);
    window->setConfirm([](const QString&) { return false; });
    auto* routes = window->findChild<QTableWidget*>(QStringLiteral("routeTable"));
    routes->selectRow(rowOf(routes, "existing"));
    window->deleteSelectedRoute();
    QVERIFY(!window->isBusy());
    QVERIFY(serverConfig().findRoute("existing") != nullptr);
    QCOMPARE(routes->rowCount(), 1);
}

void TestRemoteApisixWindow::deleteUpstreamInUseRefusedThenDeleted()
{
    Service user;
    user.id = QStringLiteral("user");
    user.upstreamId = QStringLiteral("up1");
    QVERIFY(m_serverStore->putService(user).isEmpty());
    ui::RemoteApisixWindow* window = connectedWindow();
    QVERIFY(window);
    window->findChild<QTabWidget*>()->setCurrentIndex(1);
    auto* upstreams = window->findChild<QTableWidget*>(QStringLiteral("upstreamTable"));
    upstreams->selectRow(rowOf(upstreams, "up1"));
    auto* remove = window->findChild<QPushButton*>(QStringLiteral("deleteButton"));
    QSignalSpy finished(window, &ui::RemoteApisixWindow::requestFinished);
    QTest::mouseClick(remove, Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 10000);
    QCOMPARE(finished.last().first().toBool(), false); // a service uses it: the server says no
    QVERIFY2(window->statusText().contains("service [user] is still using it"),
             qPrintable(window->statusText()));
    QCOMPARE(upstreams->rowCount(), 1);
    QVERIFY(serverConfig().findUpstream("up1") != nullptr);

    QVERIFY(m_serverStore->deleteService("user").isEmpty());
    QTest::mouseClick(remove, Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 2, 10000);
    QCOMPARE(finished.last().first().toBool(), true);
    QVERIFY(serverConfig().findUpstream("up1") == nullptr);
    QCOMPARE(upstreams->rowCount(), 0);
}

std::optional<Upstream> TestRemoteApisixWindow::fetchUpstream(const QString& id)
{
    RemoteApisix client(m_server->url(), QString::fromLatin1(kKey));
    std::optional<RemoteResult<Upstream>> answer;
    client.getUpstream(id, [&answer](const RemoteResult<Upstream>& r) { answer = r; });
    if (!QTest::qWaitFor([&answer] { return answer.has_value(); }, 10000) || !answer->ok()) {
        qWarning() << "GET upstream" << id
                   << "failed:" << (answer ? answer->error : QString("timeout"));
        return std::nullopt;
    }
    return answer->value;
}

void TestRemoteApisixWindow::addAndEditUpstreamThroughTheForm()
{
    ui::RemoteApisixWindow* window = connectedWindow();
    QVERIFY(window);
    ui::UpstreamEditor* editor = window->upstreamEditor();
    auto* upstreams = window->findChild<QTableWidget*>(QStringLiteral("upstreamTable"));
    auto* tabs = window->findChild<QTabWidget*>();
    QTest::mouseClick(child<QPushButton>(window, "addUpstreamButton"), Qt::LeftButton);
    QVERIFY(editor->isVisible());
    QVERIFY(!window->editor()->isVisible()); // the upstream form replaces the route form
    QVERIFY(editor->isNew());
    QVERIFY(editor->upstreamId().isEmpty()); // no id: the server picks one (POST)

    typeInto(child<QLineEdit>(editor, "nameEdit"), "Replicas");
    auto* nodes = child<QTableWidget>(editor, "nodesTable");
    QCOMPARE(nodes->rowCount(), 1);
    QVERIFY(editCell(nodes, 0, 1, "1998"));
    QTest::mouseClick(child<QPushButton>(editor, "addNodeButton"), Qt::LeftButton);
    sgtest::closeCellEditor(nodes, 1, 0); // Add node opens the new host for typing
    QVERIFY(editCell(nodes, 1, 1, "1999"));
    QVERIFY(editCell(nodes, 1, 2, "3"));
    auto* balancer = child<QComboBox>(editor, "balancerCombo");
    balancer->setCurrentIndex(balancer->findData("least_conn"));
    typeInto(child<QDoubleSpinBox>(editor, "retryTimeoutSpin"), "4");
    auto* save = child<QPushButton>(editor, "saveButton");
    QVERIFY2(save->isEnabled(), qPrintable(formatProblems(editor->problems())));
    QSignalSpy finished(window, &ui::RemoteApisixWindow::requestFinished);
    QTest::mouseClick(save, Qt::LeftButton);
    QVERIFY(finished.wait(10000));
    QVERIFY2(finished.first().first().toBool(), qPrintable(window->statusText()));
    QVERIFY2(window->statusText().contains("created"), qPrintable(window->statusText()));

    // The server gave it an id; the list shows it, the form holds the stored upstream.
    const QString id = editor->upstreamId();
    QVERIFY(!id.isEmpty());
    QVERIFY(!editor->isNew());
    QVERIFY(!editor->isDirty());
    QVERIFY(rowOf(upstreams, id) >= 0);
    QCOMPARE(upstreams->rowCount(), 2);
    QCOMPARE(upstreams->item(rowOf(upstreams, id), 1)->text(), QString("Replicas"));
    std::optional<Upstream> stored = fetchUpstream(id);
    QVERIFY(stored);
    QCOMPARE(stored->name, QString("Replicas"));
    QCOMPARE(stored->type, QString("least_conn"));
    QCOMPARE(stored->retryTimeout.value_or(0), 4.0);
    QCOMPARE(stored->nodes.size(), 2);
    QCOMPARE(stored->nodes.at(0).address(), QString("127.0.0.1:1998"));
    QCOMPARE(stored->nodes.at(1).address(), QString("127.0.0.1:1999"));
    QCOMPARE(stored->nodes.at(1).weight, 3);

    // Edit the pre-existing upstream from the list (double-click): a node weight changes on
    // the server, and fields the form does not show (its health check) stay as they were.
    Upstream withCheck = *serverConfig().findUpstream("up1");
    withCheck.checks = ActiveHealthCheck{};
    withCheck.checks->healthySuccesses = 3;
    QVERIFY(m_serverStore->putUpstream(withCheck).isEmpty());
    QTest::mouseClick(window->findChild<QPushButton*>(QStringLiteral("refreshButton")),
                      Qt::LeftButton);
    QVERIFY(finished.wait(10000));
    tabs->setCurrentIndex(0);
    QVERIFY(window->editor()->isVisible()); // the route tab brings the route form back
    tabs->setCurrentIndex(1);
    QVERIFY(editor->isVisible());
    const int row = rowOf(upstreams, "up1");
    QVERIFY(row >= 0);
    sgtest::doubleClickRow(upstreams, row);
    QCOMPARE(editor->upstreamId(), QString("up1"));
    QCOMPARE(child<QLineEdit>(editor, "nameEdit")->text(), QString("Pool"));
    QVERIFY(child<QLineEdit>(editor, "idEdit")->isReadOnly());
    QCOMPARE(nodes->rowCount(), 1);
    QCOMPARE(nodes->item(0, 2)->data(Qt::EditRole).toInt(), 2);
    QVERIFY(!save->isEnabled());
    QVERIFY(editCell(nodes, 0, 2, "7"));
    QVERIFY(editor->isDirty());
    QVERIFY2(save->isEnabled(), qPrintable(formatProblems(editor->problems())));
    QTest::mouseClick(save, Qt::LeftButton);
    QVERIFY(finished.wait(10000));
    QVERIFY2(finished.last().first().toBool(), qPrintable(window->statusText()));
    QVERIFY2(window->statusText().contains("saved"), qPrintable(window->statusText()));
    stored = fetchUpstream("up1");
    QVERIFY(stored);
    QCOMPARE(stored->nodes.size(), 1);
    QCOMPARE(stored->nodes.first().address(), QString("127.0.0.1:1996"));
    QCOMPARE(stored->nodes.first().weight, 7);
    QCOMPARE(stored->name, QString("Pool"));
    QVERIFY(stored->checks);
    QCOMPARE(stored->checks->healthySuccesses, 3);
    QVERIFY(stored->nodesAsMap); // given as a map, kept as a map
    QVERIFY(upstreams->item(rowOf(upstreams, "up1"), 3)->text().contains("weight 7"));
    QCOMPARE(serverConfig().upstreams.size(), 2);
    // Nothing of this reached the desktop's own config.
    QVERIFY(m_localStore->config().upstreams.isEmpty());
}

void TestRemoteApisixWindow::invalidNodeKeepsUpstreamSaveDisabled()
{
    ui::RemoteApisixWindow* window = connectedWindow();
    QVERIFY(window);
    ui::UpstreamEditor* editor = window->upstreamEditor();
    window->findChild<QTabWidget*>()->setCurrentIndex(1);
    auto* upstreams = window->findChild<QTableWidget*>(QStringLiteral("upstreamTable"));
    upstreams->selectRow(rowOf(upstreams, "up1"));
    QTest::mouseClick(child<QPushButton>(window, "editUpstreamButton"), Qt::LeftButton);
    QCOMPARE(editor->upstreamId(), QString("up1"));
    auto* nodes = child<QTableWidget>(editor, "nodesTable");
    QVERIFY(editCell(nodes, 0, 0, "db.local"));
    QVERIFY(editCell(nodes, 0, 1, "99999"));

    // The core's own words for the node db.local:99999, naming the row.
    Problems expected =
        decodeUpstream(QJsonDocument::fromJson(
                           R"({"nodes": [{"host": "db.local", "port": 99999, "weight": 2}]})")
                           .object(),
                       {}, DecodeMode::Client)
            .problems;
    QCOMPARE(expected.size(), 1);
    QCOMPARE(editor->problems(), expected);
    QVERIFY(expected.first().path.startsWith("nodes[0]"));
    QVERIFY(expected.first().text().contains("99999") || expected.first().value == "99999");
    bool shown = false;
    for (QLabel* label : editor->findChildren<QLabel*>())
        shown = shown || (label->isVisible() && label->text() == expected.first().text());
    QVERIFY(shown);

    auto* save = child<QPushButton>(editor, "saveButton");
    QVERIFY(!save->isEnabled());
    QSignalSpy sent(window, &ui::RemoteApisixWindow::requestFinished);
    QSignalSpy serverChanged(m_serverStore.get(), &ConfigStore::changed);
    QVERIFY(!editor->save());
    QVERIFY(!window->isBusy()); // nothing went out
    QCOMPARE(sent.size(), 0);
    QCOMPARE(serverChanged.size(), 0);
    QCOMPARE(serverConfig().findUpstream("up1")->nodes.first().port, 1996);

    // A valid port clears the message and enables Save again.
    QVERIFY(editCell(nodes, 0, 1, "3307"));
    QVERIFY2(editor->isValid(), qPrintable(formatProblems(editor->problems())));
    QVERIFY(save->isEnabled());
    for (QLabel* label : editor->findChildren<QLabel*>())
        QVERIFY(!label->isVisible() || !label->text().contains("99999"));
}

void TestRemoteApisixWindow::upstreamRefusedByServerShowsErrorMsg()
{
    ui::RemoteApisixWindow* window = connectedWindow();
    QVERIFY(window);
    ui::UpstreamEditor* editor = window->upstreamEditor();
    window->findChild<QTabWidget*>()->setCurrentIndex(1);
    auto* upstreams = window->findChild<QTableWidget*>(QStringLiteral("upstreamTable"));
    upstreams->selectRow(rowOf(upstreams, "up1"));
    window->editSelectedUpstream();
    QVERIFY(editCell(child<QTableWidget>(editor, "nodesTable"), 0, 2, "5"));
    QVERIFY(child<QPushButton>(editor, "saveButton")->isEnabled());

    // Valid for the form, refused by the server: someone broke its config file by hand, and
    // it will not write over it.
    const QString serverPath = m_dir->filePath(QStringLiteral("server.json"));
    QVERIFY(writeFile(serverPath, "{ \"upstreams\": [ broken"));
    QSignalSpy finished(window, &ui::RemoteApisixWindow::requestFinished);
    QTest::mouseClick(child<QPushButton>(editor, "saveButton"), Qt::LeftButton);
    QVERIFY(finished.wait(10000));
    QCOMPARE(finished.first().first().toBool(), false);
    const QString status = window->statusText();
    QVERIFY2(status.contains("HTTP 400"), qPrintable(status));
    QVERIFY2(status.contains("could not be loaded and is kept untouched"), qPrintable(status));
    auto* general = child<QLabel>(editor, "generalErrors");
    QVERIFY(general->isVisible());
    QCOMPARE(general->text(), status);
    QVERIFY(editor->isDirty()); // the user's edits stay for another try
    QCOMPARE(child<QTableWidget>(editor, "nodesTable")->item(0, 2)->data(Qt::EditRole).toInt(), 5);
    QCOMPARE(serverConfig().findUpstream("up1")->nodes.first().weight, 2);
    QCOMPARE(readFile(serverPath), QByteArray("{ \"upstreams\": [ broken"));
    QVERIFY(upstreams->item(rowOf(upstreams, "up1"), 3)->text().contains("weight 2"));
}

void TestRemoteApisixWindow::serviceThroughTheFormPickedByARoute()
{
    ui::RemoteApisixWindow* window = connectedWindow();
    QVERIFY(window);
    ui::ServiceEditor* editor = window->serviceEditor();
    auto* services = child<QTableWidget>(window, "serviceTable");
    QCOMPARE(services->rowCount(), 0);
    QSignalSpy finished(window, &ui::RemoteApisixWindow::requestFinished);

    // Add: an id, a name, the shared upstream up1, and a plugin as JSON.
    QTest::mouseClick(child<QPushButton>(window, "addServiceButton"), Qt::LeftButton);
    QVERIFY(editor->isVisible());
    QVERIFY(!window->editor()->isVisible()); // the service form replaces the route form
    QVERIFY(editor->isNew());
    typeInto(child<QLineEdit>(editor, "idEdit"), "svc1");
    typeInto(child<QLineEdit>(editor, "nameEdit"), "Databases");
    QTest::mouseClick(child<QRadioButton>(editor, "useSharedRadio"), Qt::LeftButton);
    auto* shared = child<QComboBox>(editor, "sharedUpstream");
    shared->setCurrentIndex(shared->findData("up1"));
    auto* plugins = child<QPlainTextEdit>(editor, "pluginsEdit");
    plugins->setPlainText(R"({"limit-conn": {"conn": 5, "burst": 0,
        "default_conn_delay": 0.1, "key": "remote_addr"}})");
    auto* save = child<QPushButton>(editor, "saveButton");
    QVERIFY2(save->isEnabled(), qPrintable(formatProblems(editor->problems())));
    QTest::mouseClick(save, Qt::LeftButton);
    QVERIFY(finished.wait(10000));
    QVERIFY2(finished.last().first().toBool(), qPrintable(window->statusText()));
    QVERIFY2(window->statusText().contains("Service svc1 created"),
             qPrintable(window->statusText()));
    {
        const Config c = serverConfig();
        const Service* stored = c.findService("svc1");
        QVERIFY(stored);
        QCOMPARE(stored->name, QString("Databases"));
        QCOMPARE(stored->upstreamId, QJsonValue("up1"));
        QVERIFY(!stored->upstream);
        QVERIFY(stored->plugins.limitConn);
        QCOMPARE(stored->plugins.limitConn->conn, 5);
    }
    QVERIFY(!editor->isNew());
    QVERIFY(!editor->isDirty());
    int row = rowOf(services, "svc1");
    QVERIFY(row >= 0);
    QCOMPARE(services->item(row, 1)->text(), QString("Databases"));
    QCOMPARE(services->item(row, 2)->text(), QString("upstream up1"));
    QCOMPARE(services->item(row, 3)->text(), QString("limit-conn"));

    // Plugins the decoder refuses keep Save disabled, in the core's words; nothing is sent.
    plugins->setPlainText(R"({"limit-conn": {"conn": 0}})");
    QVERIFY(!save->isEnabled());
    QVERIFY(!editor->problems().isEmpty());
    QVERIFY2(editor->problems().first().path.startsWith("plugins"),
             qPrintable(formatProblems(editor->problems())));
    plugins->setPlainText("{not json");
    QVERIFY(!save->isEnabled());
    QCOMPARE(editor->problems().first().path, QString("plugins"));
    QTest::mouseClick(child<QPushButton>(editor, "revertButton"), Qt::LeftButton);
    QVERIFY(plugins->toPlainText().contains("limit-conn"));

    // Edit from the list: the description and inline nodes change, the plugins stay as they were.
    services->selectRow(row);
    QTest::mouseClick(child<QPushButton>(window, "editServiceButton"), Qt::LeftButton);
    QCOMPARE(editor->serviceId(), QString("svc1"));
    QVERIFY(child<QLineEdit>(editor, "idEdit")->isReadOnly());
    QVERIFY(child<QRadioButton>(editor, "useSharedRadio")->isChecked());
    QVERIFY(!save->isEnabled());
    typeInto(child<QLineEdit>(editor, "descEdit"), "primary");
    QTest::mouseClick(child<QRadioButton>(editor, "useNodesRadio"), Qt::LeftButton);
    auto* nodes = child<QTableWidget>(editor, "nodesTable");
    QCOMPARE(nodes->rowCount(), 0); // it had none of its own
    QTest::mouseClick(child<QPushButton>(editor, "addNodeButton"), Qt::LeftButton);
    sgtest::closeCellEditor(nodes, 0, 0); // Add node opens the new host (127.0.0.1) for typing
    QVERIFY(editCell(nodes, 0, 1, "1998"));
    QVERIFY2(save->isEnabled(), qPrintable(formatProblems(editor->problems())));
    QTest::mouseClick(save, Qt::LeftButton);
    QVERIFY(finished.wait(10000));
    QVERIFY2(finished.last().first().toBool(), qPrintable(window->statusText()));
    QVERIFY2(window->statusText().contains("Service svc1 saved"), qPrintable(window->statusText()));
    {
        const Config c = serverConfig();
        const Service* stored = c.findService("svc1");
        QCOMPARE(stored->desc, QString("primary"));
        QVERIFY(stored->upstreamId.isUndefined());
        QVERIFY(stored->upstream);
        QCOMPARE(stored->upstream->nodes.size(), 1);
        QCOMPARE(stored->upstream->nodes.first().address(), QString("127.0.0.1:1998"));
        QVERIFY(stored->plugins.limitConn);
        QCOMPARE(stored->plugins.limitConn->conn, 5);
    }
    row = rowOf(services, "svc1");
    QVERIFY2(services->item(row, 2)->text().contains("127.0.0.1:1998"),
             qPrintable(services->item(row, 2)->text()));
    QCOMPARE(services->item(row, 4)->text(), QString("primary"));

    // A route edited in this window picks the remote service and takes its upstream.
    auto* tabs = window->findChild<QTabWidget*>();
    tabs->setCurrentIndex(0);
    auto* routes = child<QTableWidget>(window, "routeTable");
    routes->selectRow(rowOf(routes, "existing"));
    QTest::mouseClick(child<QPushButton>(window, "editButton"), Qt::LeftButton);
    ui::RouteEditor* routeEditor = window->editor();
    QCOMPARE(routeEditor->routeId(), QString("existing"));
    auto* serviceCombo = child<QComboBox>(routeEditor, "serviceCombo");
    const int svcIndex = serviceCombo->findData("svc1");
    QVERIFY(svcIndex >= 0);
    QCOMPARE(serviceCombo->itemText(svcIndex), QString("Databases (svc1)"));
    serviceCombo->setCurrentIndex(svcIndex);
    QTest::mouseClick(child<QRadioButton>(routeEditor, "useServiceRadio"), Qt::LeftButton);
    auto* routeSave = child<QPushButton>(routeEditor, "saveButton");
    QVERIFY2(routeSave->isEnabled(), qPrintable(formatProblems(routeEditor->problems())));
    QTest::mouseClick(routeSave, Qt::LeftButton);
    QVERIFY(finished.wait(10000));
    QVERIFY2(finished.last().first().toBool(), qPrintable(window->statusText()));
    {
        const Config c = serverConfig();
        const StreamRoute* r = c.findRoute("existing");
        QCOMPARE(r->serviceId, QJsonValue("svc1"));
        QVERIFY(!r->upstream);
    }
    QCOMPARE(routes->item(rowOf(routes, "existing"), 5)->text(), QString("service svc1"));

    // Delete: refused in the server's words while the route uses the service, then deleted.
    tabs->setCurrentIndex(2);
    QVERIFY(editor->isVisible());
    services->selectRow(rowOf(services, "svc1"));
    QStringList questions;
    window->setConfirm([&questions](const QString& q) {
        questions << q;
        return true;
    });
    auto* remove = child<QPushButton>(window, "deleteServiceButton");
    QTest::mouseClick(remove, Qt::LeftButton);
    QVERIFY(finished.wait(10000));
    QCOMPARE(finished.last().first().toBool(), false);
    QCOMPARE(questions.size(), 1);
    QVERIFY(questions.first().contains("svc1"));
    QVERIFY2(window->statusText().contains("can not delete this service directly, stream_route "
                                           "[existing] is still using it now"),
             qPrintable(window->statusText()));
    QVERIFY(serverConfig().findService("svc1") != nullptr);
    QCOMPARE(services->rowCount(), 1);

    QVERIFY(m_serverStore->deleteRoute("existing").isEmpty());
    QTest::mouseClick(remove, Qt::LeftButton);
    QVERIFY(finished.wait(10000));
    QVERIFY2(finished.last().first().toBool(), qPrintable(window->statusText()));
    QVERIFY2(window->statusText().contains("Service svc1 deleted"),
             qPrintable(window->statusText()));
    QVERIFY(serverConfig().findService("svc1") == nullptr);
    QCOMPARE(services->rowCount(), 0);
    QVERIFY(editor->serviceId().isEmpty()); // the form let go of it
    // Nothing of this reached the desktop's own config.
    QVERIFY(m_localStore->config().services.isEmpty());
}

void TestRemoteApisixWindow::serviceWithoutIdGetsOneFromTheServer()
{
    ui::RemoteApisixWindow* window = connectedWindow();
    QVERIFY(window);
    ui::ServiceEditor* editor = window->serviceEditor();
    auto* services = child<QTableWidget>(window, "serviceTable");
    QTest::mouseClick(child<QPushButton>(window, "addServiceButton"), Qt::LeftButton);
    QVERIFY(editor->serviceId().isEmpty()); // no id: the server picks one (POST)
    QVERIFY(child<QRadioButton>(editor, "useNodesRadio")->isChecked());
    typeInto(child<QLineEdit>(editor, "nameEdit"), "Inline");
    auto* save = child<QPushButton>(editor, "saveButton");
    QVERIFY2(save->isEnabled(), qPrintable(formatProblems(editor->problems())));
    QSignalSpy finished(window, &ui::RemoteApisixWindow::requestFinished);
    QTest::mouseClick(save, Qt::LeftButton);
    QVERIFY(finished.wait(10000));
    QVERIFY2(finished.last().first().toBool(), qPrintable(window->statusText()));
    const QString id = editor->serviceId();
    QCOMPARE(id.size(), 20);
    QVERIFY(serverConfig().findService(id) != nullptr);
    QCOMPARE(serverConfig().findService(id)->upstream->nodes.first().address(),
             QString("127.0.0.1:3306"));
    QCOMPARE(services->rowCount(), 1);
    QCOMPARE(services->item(0, 0)->text(), id);

    // Refresh lists it from the server.
    QTest::mouseClick(child<QPushButton>(window, "refreshButton"), Qt::LeftButton);
    QVERIFY(finished.wait(10000));
    QVERIFY2(window->statusText().contains("1 service(s)"), qPrintable(window->statusText()));
    QCOMPARE(window->services().size(), 1);
    QCOMPARE(services->item(0, 1)->text(), QString("Inline"));
}

void TestRemoteApisixWindow::wrongKeyShowsServerError()
{
    auto* window = m_main->openRemoteApisix();
    QSignalSpy finished(window, &ui::RemoteApisixWindow::requestFinished);
    window->connectTo(m_server->url(), QStringLiteral("not-the-key"));
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 10000);
    QCOMPARE(finished.first().first().toBool(), false);
    QVERIFY2(window->statusText().contains("401"), qPrintable(window->statusText()));
    QVERIFY2(window->statusText().contains("failed to check token"),
             qPrintable(window->statusText()));
    QCOMPARE(window->findChild<QTableWidget*>(QStringLiteral("routeTable"))->rowCount(), 0);
}

void TestRemoteApisixWindow::unreachableServerShowsTransportError()
{
    QTcpServer probe;
    QVERIFY(probe.listen(QHostAddress(QStringLiteral("127.0.0.1")), 0));
    const quint16 port = probe.serverPort();
    probe.close(); // nothing listens there now
    auto* window = m_main->openRemoteApisix();
    QSignalSpy finished(window, &ui::RemoteApisixWindow::requestFinished);
    window->connectTo(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port)),
                      QString::fromLatin1(kKey));
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 10000);
    QCOMPARE(finished.first().first().toBool(), false);
    QVERIFY(!window->statusText().isEmpty());
    QVERIFY2(!window->statusText().startsWith("Loading"), qPrintable(window->statusText()));
}

void TestRemoteApisixWindow::settingsRemembered()
{
    QVERIFY(connectedWindow());
    ui::RemoteApisixWindow fresh;
    QCOMPARE(fresh.findChild<QLineEdit*>(QStringLiteral("adminUrlEdit"))->text(),
             m_server->url().toString());
    // The key is read in the background and filled in when it comes.
    QTRY_COMPARE_WITH_TIMEOUT(fresh.findChild<QLineEdit*>(QStringLiteral("adminKeyEdit"))->text(),
                              QString::fromLatin1(kKey), 10000);
    // The key is not in the settings file but in a file of its own only this user can read.
    QSettings settings;
    settings.sync();
    QFile settingsFile(settings.fileName());
    QVERIFY(settingsFile.open(QIODevice::ReadOnly));
    QVERIFY(!settingsFile.readAll().contains(kKey));
    const QString keyFile =
        QFileInfo(settings.fileName()).absolutePath() + QStringLiteral("/remote-apisix.key");
    QCOMPARE(QFile::permissions(keyFile) & ~(QFile::ReadUser | QFile::WriteUser),
             QFile::ReadOwner | QFile::WriteOwner);
    // No secret store on this bus: the window says where the key is, and why.
    QVERIFY2(fresh.keyPlaceText().contains(keyFile), qPrintable(fresh.keyPlaceText()));
    QVERIFY2(fresh.keyPlaceText().contains(QStringLiteral("no secret store")),
             qPrintable(fresh.keyPlaceText()));
    QCOMPARE(fresh.findChild<QLineEdit*>(QStringLiteral("adminKeyEdit"))->toolTip(),
             fresh.keyPlaceText());
}

void TestRemoteApisixWindow::keyKeptInDesktopSecretStore()
{
    sgtest::PrivateSessionBus bus;
    const QString busError = bus.start();
    QVERIFY2(busError.isEmpty(), qPrintable(busError));
    sgtest::GnomeKeyring keyring;
    const QString keyringError = keyring.start(bus, bus.connect(QStringLiteral("probe")));
    if (!keyringError.isEmpty())
        QSKIP(
            qPrintable(QStringLiteral("gnome-keyring-daemon cannot start here: ") + keyringError));
    const QString keyFile = m_dir->filePath(QStringLiteral("remote-apisix.key"));
    QCOMPARE(savePrivateKeyFile(keyFile, QStringLiteral("left-in-a-file")), QString());

    ui::RemoteKeyStore keys(keyFile, bus.connect(QStringLiteral("window")));
    ui::RemoteApisixWindow window(nullptr, &keys);
    auto* keyEdit = window.findChild<QLineEdit*>(QStringLiteral("adminKeyEdit"));
    // The file's key comes up in the field, moved into the secret store.
    QTRY_COMPARE_WITH_TIMEOUT(keyEdit->text(), QStringLiteral("left-in-a-file"), 10000);
    QTRY_VERIFY_WITH_TIMEOUT(!keys.isBusy(), 10000);
    QVERIFY(!QFileInfo::exists(keyFile));
    QVERIFY2(window.keyPlaceText().contains(QStringLiteral("desktop's secret store")),
             qPrintable(window.keyPlaceText()));

    QSignalSpy finished(&window, &ui::RemoteApisixWindow::requestFinished);
    window.connectTo(m_server->url(), QString::fromLatin1(kKey));
    QVERIFY(finished.wait(10000));
    QVERIFY2(finished.first().first().toBool(), qPrintable(window.statusText()));
    QTRY_VERIFY_WITH_TIMEOUT(!keys.isBusy(), 10000);

    // Another window, another client of the store, finds the key there; no file appears.
    ui::RemoteKeyStore otherKeys(keyFile, bus.connect(QStringLiteral("other")));
    ui::RemoteApisixWindow other(nullptr, &otherKeys);
    QTRY_COMPARE_WITH_TIMEOUT(other.findChild<QLineEdit*>(QStringLiteral("adminKeyEdit"))->text(),
                              QString::fromLatin1(kKey), 10000);
    QCOMPARE(otherKeys.place(), ui::RemoteKeyStore::Place::SecretService);
    QVERIFY(!QFileInfo::exists(keyFile));
}

void TestRemoteApisixWindow::keyInOldSettingsMovedOut()
{
    // Earlier versions kept the key in plain settings.
    QSettings settings;
    settings.setValue(QStringLiteral("remoteApisix/adminUrl"), m_server->url().toString());
    settings.setValue(QStringLiteral("remoteApisix/adminKey"), QStringLiteral("old-settings-key"));
    settings.sync();
    ui::RemoteApisixWindow window;
    QTRY_COMPARE_WITH_TIMEOUT(window.findChild<QLineEdit*>(QStringLiteral("adminKeyEdit"))->text(),
                              QStringLiteral("old-settings-key"), 10000);
    settings.sync();
    QVERIFY(!settings.contains(QStringLiteral("remoteApisix/adminKey")));
    QFile settingsFile(settings.fileName());
    QVERIFY(settingsFile.open(QIODevice::ReadOnly));
    QVERIFY(!settingsFile.readAll().contains("old-settings-key"));
    // No secret store on this process's bus: the key is in the private file.
    const QString keyFile =
        QFileInfo(settings.fileName()).absolutePath() + QStringLiteral("/remote-apisix.key");
    QCOMPARE(readPrivateKeyFile(keyFile).key, QStringLiteral("old-settings-key"));
}

QTEST_MAIN(TestRemoteApisixWindow)
#include "tst_remoteapisixwindow.moc"
