// The Queries tab on the fixture's real MariaDB: the window (real store and engine) fronts the
// server with a route, the user turns recording on from the tab, the real `mariadb` client
// runs statements through the route, and the tab shows their digests, slowest first, with
// the error the server answered; the filter narrows them, Export writes them as CSV, Reset
// empties the tables and Stop recording takes the setting out of the config again. The
// connections table shows the statement a client is waiting on. A picture of the tab is
// written to the build tree (queries-tab.png).
#include "config/configstore.h"
#include "mainwindow.h"
#include "mariadbenv.h"
#include "models/connectiontablemodel.h"
#include "models/roles.h"
#include "proxy/engine.h"
#include "queries/queriespanel.h"
#include "queries/querymodels.h"
#include "windowfixture.h"

#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QPushButton>
#include <QTabWidget>
#include <QTableView>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

using namespace sg;
using namespace sg::ui;
using sg::test::MariaDbEnv;

namespace {

template <typename T> T* child(QObject* parent, const char* name)
{
    T* w = parent->findChild<T*>(QLatin1String(name));
    if (!w)
        qFatal("no child %s", name);
    return w;
}

quint16 freePort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress(QStringLiteral("127.0.0.1")), 0))
        return 0;
    return probe.serverPort();
}

} // namespace

class tst_QueriesPanel : public QObject
{
    Q_OBJECT

private:
    MariaDbEnv m_env;
    QTemporaryDir m_dir;
    quint16 m_port = 0;
    sgtest::WindowFixture m_ui;
    QueriesPanel* m_panel = nullptr;

    // Starts the `mariadb` client through the route; the event loop turns while it runs.
    std::unique_ptr<QProcess> startClient(const QString& sql)
    {
        auto p = std::make_unique<QProcess>();
        p->start(
            m_env.client,
            m_env.clientArgs(QStringLiteral("127.0.0.1"), m_port, m_env.database, m_env.password)
                << QStringLiteral("-e") << sql);
        return p;
    }
    int runClient(const QString& sql)
    {
        auto p = startClient(sql);
        if (!QTest::qWaitFor([&] { return p->state() == QProcess::NotRunning; }, 30000))
            return -1;
        return p->exitStatus() == QProcess::NormalExit ? p->exitCode() : -1;
    }
    QAbstractItemModel* digestsView() const
    {
        return child<QTableView>(m_panel, "digestsView")->model();
    }
    QStringList shownStatements() const
    {
        QStringList out;
        QAbstractItemModel* view = digestsView();
        for (int row = 0; row < view->rowCount(); ++row)
            out << view->index(row, DigestsModel::TextColumn).data().toString();
        return out;
    }

private slots:
    void initTestCase()
    {
        m_env = MariaDbEnv::load();
        QVERIFY2(m_env.ok(), qPrintable(m_env.error));
        QVERIFY(m_dir.isValid());
        qputenv("XDG_CONFIG_HOME", m_dir.filePath("xdg").toLocal8Bit());
        m_port = freePort();
        QVERIFY(m_port);
        const QString path = m_dir.filePath("streamgate.json");
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QStringLiteral(R"({
          "stream_proxy": {"tcp": ["127.0.0.1:%1"]},
          "stream_routes": [
            {"id": "db", "name": "Local MariaDB", "server_port": %1,
             "upstream": {"nodes": {"127.0.0.1:%2": 1}}}
          ]})")
                       .arg(m_port)
                       .arg(m_env.port)
                       .toUtf8());
        file.close();
        QVERIFY(m_ui.open(path));
        m_panel = child<QueriesPanel>(m_ui.window.get(), "queriesPanel");
    }

    void cleanupTestCase()
    {
        m_ui.window.reset();
        m_ui.engine.reset();
        m_ui.store.reset();
    }

    void recordedStatementsShowSlowestFirst()
    {
        m_ui.window->selectRoute(QStringLiteral("db"));
        auto* tabs = child<QTabWidget>(m_ui.window.get(), "tabs");
        tabs->setCurrentWidget(m_panel);
        QCOMPARE(m_panel->routeId(), QStringLiteral("db"));
        QVERIFY(!m_panel->recording());
        auto* record = child<QPushButton>(m_panel, "recordQueriesButton");
        QCOMPARE(record->text(), QStringLiteral("Record queries"));

        // Before recording, a session leaves nothing behind.
        QCOMPARE(runClient(QStringLiteral("SELECT 1;")), 0);
        QTest::qWait(300);
        QCOMPARE(digestsView()->rowCount(), 0);

        QTest::mouseClick(record, Qt::LeftButton);
        QVERIFY(m_panel->recording());
        QCOMPARE(record->text(), QStringLiteral("Stop recording"));
        QVERIFY(m_ui.store->config().streamgate.mysqlDigestsFor(QStringLiteral("db")));

        // A client waiting on a slow statement shows it in the connections table meanwhile.
        auto slow = startClient(QStringLiteral("SELECT SLEEP(3);"));
        auto* connections = m_ui.window->findChild<ConnectionTableModel*>();
        QVERIFY(connections);
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                for (int row = 0; row < connections->rowCount(); ++row) {
                    if (connections->index(row, ConnectionTableModel::MySqlStatementColumn)
                            .data()
                            .toString()
                            .startsWith(u"SELECT SLEEP(3) · "))
                        return true;
                }
                return false;
            }(),
            5000);
        QVERIFY(QTest::qWaitFor([&] { return slow->state() == QProcess::NotRunning; }, 15000));
        QCOMPARE(slow->exitCode(), 0);

        QCOMPARE(runClient(QStringLiteral("SELECT 1; SELECT 2; SELECT 3;")), 0);
        QCOMPARE(runClient(QStringLiteral("SELECT * FROM no_such_table;")), 1);

        // Slowest first: the sleep is on top; SELECT 1/2/3 are one digest, counted three times.
        QTRY_VERIFY_WITH_TIMEOUT(shownStatements().contains(QStringLiteral("SELECT ?")), 5000);
        QTRY_VERIFY_WITH_TIMEOUT(
            shownStatements().contains(QStringLiteral("SELECT * FROM no_such_table")), 5000);
        const QStringList statements = shownStatements();
        QCOMPARE(statements.first(), QStringLiteral("SELECT SLEEP(?)"));
        QAbstractItemModel* view = digestsView();
        const int select = int(statements.indexOf(QStringLiteral("SELECT ?")));
        QCOMPARE(view->index(select, DigestsModel::CountColumn).data(RawValueRole).toULongLong(),
                 3u);
        QCOMPARE(view->index(0, DigestsModel::CountColumn).data(RawValueRole).toULongLong(), 1u);
        QVERIFY(view->index(0, DigestsModel::TotalTimeColumn).data(RawValueRole).toULongLong() >=
                3000000u);
        QVERIFY(view->index(0, DigestsModel::TotalTimeColumn).data().toString().endsWith(" ms") ||
                view->index(0, DigestsModel::TotalTimeColumn).data().toString().endsWith(" s"));
        QCOMPARE(view->index(0, DigestsModel::UserColumn).data().toString(), m_env.user);
        QCOMPARE(view->index(0, DigestsModel::SchemaColumn).data().toString(), m_env.database);

        // The error the server answered, with its code.
        auto* errors = child<QTableView>(m_panel, "mysqlErrorsView")->model();
        QCOMPARE(errors->rowCount(), 1);
        QCOMPARE(errors->index(0, MySqlErrorsModel::CodeColumn).data().toString(),
                 QStringLiteral("1146"));
        QVERIFY(errors->index(0, MySqlErrorsModel::MessageColumn)
                    .data()
                    .toString()
                    .contains(QLatin1String("no_such_table")));

        // The filter narrows by statement text, whatever the case.
        auto* filter = child<QLineEdit>(m_panel, "queriesFilter");
        QTest::keyClicks(filter, QStringLiteral("sleep"));
        QCOMPARE(shownStatements(), QStringList{QStringLiteral("SELECT SLEEP(?)")});

        // Export writes what the table shows.
        const QString csvPath = m_dir.filePath("digests.csv");
        QVERIFY(m_panel->exportCsv(csvPath));
        QFile csv(csvPath);
        QVERIFY(csv.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = csv.readAll().trimmed().split('\n');
        QCOMPARE(lines.size(), 2);
        QVERIFY2(lines[0].startsWith("Statement,Count,Total time"), lines[0].constData());
        QVERIFY2(lines[1].startsWith("SELECT SLEEP(?),1,"), lines[1].constData());
        filter->clear();

        QVERIFY(m_ui.window->grab().save(
            QDir(QStringLiteral(QT_TESTCASE_BUILDDIR)).filePath("queries-tab.png")));

        QTest::mouseClick(child<QPushButton>(m_panel, "resetQueriesButton"), Qt::LeftButton);
        QCOMPARE(digestsView()->rowCount(), 0);
        QCOMPARE(errors->rowCount(), 0);

        QTest::mouseClick(record, Qt::LeftButton);
        QVERIFY(!m_panel->recording());
        QVERIFY(!m_ui.store->config().streamgate.routes.has_value());
    }

    // The PostgreSQL choice shows the route's PostgreSQL tables and records into
    // postgres_digests; MySQL's setting stays as it was.
    void postgresChoiceRecordsItsOwnSetting()
    {
        m_ui.window->selectRoute(QStringLiteral("db"));
        auto* protocol = child<QComboBox>(m_panel, "queriesProtocol");
        QCOMPARE(m_panel->protocol(), SqlProtocol::MySql);
        protocol->setCurrentIndex(protocol->findText(QStringLiteral("PostgreSQL")));
        Q_EMIT protocol->activated(protocol->currentIndex());
        QCOMPARE(m_panel->protocol(), SqlProtocol::Postgres);
        QVERIFY(!m_panel->recording());
        QVERIFY(m_panel->setRecording(true));
        QTRY_VERIFY(m_ui.store->config().streamgate.postgresDigestsFor(QStringLiteral("db")));
        QVERIFY(!m_ui.store->config().streamgate.mysqlDigestsFor(QStringLiteral("db")));
        QTRY_VERIFY(m_panel->recording());
        QVERIFY(
            child<QLabel>(m_panel, "queriesState")->text().contains(QLatin1String("PostgreSQL")));
        QVERIFY(m_panel->setRecording(false));
        QTRY_VERIFY(!m_ui.store->config().streamgate.postgresDigestsFor(QStringLiteral("db")));
        m_panel->setProtocol(SqlProtocol::MySql);
    }
};

QTEST_MAIN(tst_QueriesPanel)
#include "tst_queriespanel.moc"
