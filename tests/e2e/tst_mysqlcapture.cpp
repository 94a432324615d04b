// Real `mariadb` client sessions against the fixture's server, relayed through a plain socket
// relay in this process that records every chunk in order. The MySqlInspector must learn from
// the recording what the client and the server themselves report: the server's VERSION() and
// CONNECTION_ID(), the user and database, the login result, and the commands the server's
// general query log saw. With SG_CAPTURE_DIR set, recordings are saved as NAME.conv plus
// NAME.json for tst_mysqlinspector (tests/data/mysql/).
#include "mariadbenv.h"
#include "mysqlconversation.h"
#include "proxy/mysqlinspector.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <memory>

using sg::MySqlInspector;
using sg::test::Chunk;

namespace {

// One client at a time: accepts, connects upstream, copies both ways and records.
class RecordingRelay : public QObject
{
public:
    RecordingRelay(const QString& host, quint16 port) : m_host(host), m_port(port)
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this] { accept(); });
    }

    ~RecordingRelay() override
    {
        if (m_client)
            m_client->disconnect(this);
        if (m_upstream)
            m_upstream->disconnect(this);
    }

    bool listen() { return m_server.listen(QHostAddress(QStringLiteral("127.0.0.1")), 0); }
    quint16 port() const { return m_server.serverPort(); }
    const QList<Chunk>& chunks() const { return m_chunks; }
    bool finished() const { return m_clientGone && m_upstreamGone; }
    int sessions() const { return m_sessions; }

private:
    void accept()
    {
        QTcpSocket* client = m_server.nextPendingConnection();
        if (!client)
            return;
        ++m_sessions;
        m_client.reset(client);
        m_client->setParent(nullptr);
        m_upstream = std::make_unique<QTcpSocket>();
        connect(m_client.get(), &QTcpSocket::readyRead, this, [this] {
            const QByteArray b = m_client->readAll();
            if (b.isEmpty())
                return;
            m_chunks.append({true, b});
            if (m_upstream->state() == QAbstractSocket::ConnectedState)
                m_upstream->write(b);
            else
                m_pendingUp += b;
        });
        connect(m_upstream.get(), &QTcpSocket::connected, this, [this] {
            if (!m_pendingUp.isEmpty())
                m_upstream->write(std::exchange(m_pendingUp, {}));
        });
        connect(m_upstream.get(), &QTcpSocket::readyRead, this, [this] {
            const QByteArray b = m_upstream->readAll();
            if (b.isEmpty())
                return;
            m_chunks.append({false, b});
            m_client->write(b);
        });
        connect(m_client.get(), &QTcpSocket::disconnected, this, [this] {
            m_clientGone = true;
            m_upstream->disconnectFromHost();
        });
        connect(m_upstream.get(), &QTcpSocket::disconnected, this, [this] {
            m_upstreamGone = true;
            m_client->disconnectFromHost();
        });
        connect(m_upstream.get(), &QTcpSocket::errorOccurred, this, [this] {
            if (m_upstream->state() == QAbstractSocket::UnconnectedState)
                m_upstreamGone = true;
        });
        m_upstream->connectToHost(m_host, m_port);
    }

    QTcpServer m_server;
    QString m_host;
    quint16 m_port;
    std::unique_ptr<QTcpSocket> m_client;
    std::unique_ptr<QTcpSocket> m_upstream;
    QByteArray m_pendingUp;
    QList<Chunk> m_chunks;
    bool m_clientGone = false;
    bool m_upstreamGone = false;
    int m_sessions = 0;
};

// General query log names of the commands a batch-mode client sends.
QString commandFromLogName(const QString& name)
{
    static const QHash<QString, QString> map{
        {QStringLiteral("Query"), QStringLiteral("COM_QUERY")},
        {QStringLiteral("Quit"), QStringLiteral("COM_QUIT")},
        {QStringLiteral("Init DB"), QStringLiteral("COM_INIT_DB")},
        {QStringLiteral("Field List"), QStringLiteral("COM_FIELD_LIST")},
        {QStringLiteral("Prepare"), QStringLiteral("COM_STMT_PREPARE")},
        {QStringLiteral("Execute"), QStringLiteral("COM_STMT_EXECUTE")},
        {QStringLiteral("Close stmt"), QStringLiteral("COM_STMT_CLOSE")},
        {QStringLiteral("Statistics"), QStringLiteral("COM_STATISTICS")},
        {QStringLiteral("Ping"), QStringLiteral("COM_PING")},
    };
    return map.value(name);
}

} // namespace

class tst_MySqlCapture : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void session_data();
    void session();

private:
    sg::test::MariaDbEnv m_env;
    QTemporaryDir m_tmp;
    QString m_generalLog;
};

void tst_MySqlCapture::initTestCase()
{
    m_env = sg::test::MariaDbEnv::load();
    QVERIFY2(m_env.ok(), qPrintable(m_env.error));
    QVERIFY(m_tmp.isValid());
    m_generalLog = m_tmp.filePath(QStringLiteral("general.log"));
    QString out;
    QVERIFY2(m_env.rootSql(
                 QStringLiteral("SET GLOBAL general_log_file='%1'; SET GLOBAL log_output='FILE';"
                                " SET GLOBAL general_log=1;")
                     .arg(m_generalLog),
                 &out),
             qPrintable(out));
}

void tst_MySqlCapture::cleanupTestCase()
{
    if (m_env.ok())
        m_env.rootSql(QStringLiteral("SET GLOBAL general_log=0;"));
}

void tst_MySqlCapture::session_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("database");
    QTest::addColumn<bool>("rightPassword");
    QTest::addColumn<QString>("sql");

    const QString ids = QStringLiteral("SELECT CONNECTION_ID(), VERSION();");
    QTest::newRow("login with database") << "login_with_database"
                                         << "sgtest" << true << ids;
    QTest::newRow("login without database") << "login_without_database"
                                            << "" << true << ids;
    QTest::newRow("wrong password") << "wrong_password"
                                    << "sgtest" << false << ids;
    QTest::newRow("several queries and use")
        << "queries"
        << "" << true
        << ids + QStringLiteral(" use sgtest; CREATE TABLE IF NOT EXISTS t (a INT); INSERT INTO t "
                                "VALUES (1),(2);"
                                " SELECT SUM(a) FROM t; DROP TABLE t;");
}

void tst_MySqlCapture::session()
{
    QFETCH(QString, name);
    QFETCH(QString, database);
    QFETCH(bool, rightPassword);
    QFETCH(QString, sql);

    RecordingRelay relay(m_env.host, m_env.port);
    QVERIFY(relay.listen());

    QProcess client;
    const QString password = rightPassword ? m_env.password : QStringLiteral("not-the-password");
    client.start(m_env.client,
                 m_env.clientArgs(QStringLiteral("127.0.0.1"), relay.port(), database, password)
                     << QStringLiteral("-e") << sql);
    QVERIFY2(client.waitForStarted(), qPrintable(client.errorString()));
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), QProcess::NotRunning, 30000);
    QTRY_VERIFY_WITH_TIMEOUT(relay.finished(), 10000);
    QCOMPARE(relay.sessions(), 1);
    const QString out = QString::fromUtf8(client.readAllStandardOutput());
    const QString err = QString::fromUtf8(client.readAllStandardError());

    MySqlInspector inspector(true);
    qint64 now = 0;
    for (const Chunk& c : relay.chunks())
        inspector.feed(c.fromClient ? MySqlInspector::Direction::ClientToServer
                                    : MySqlInspector::Direction::ServerToClient,
                       c.bytes.constData(), std::size_t(c.bytes.size()), ++now);
    const sg::MySqlInfo& info = inspector.info();
    QVERIFY(!inspector.notMySql());
    QVERIFY(info.detected);
    QCOMPARE(info.user, m_env.user);
    QCOMPARE(info.database, database);
    QVERIFY(!info.tls);

    QJsonObject known{{"user", m_env.user}, {"database", database}, {"login", rightPassword}};
    if (!rightPassword) {
        QCOMPARE(client.exitCode(), 1);
        QVERIFY2(err.contains(QStringLiteral("ERROR 1045")), qPrintable(err));
        QCOMPARE(inspector.login(), MySqlInspector::Login::Failed);
        QCOMPARE(inspector.loginErrorCode(), quint16(1045));
        QVERIFY(inspector.loginError().contains(QStringLiteral("Access denied")));
        QCOMPARE(info.commands, quint64(0));
        // The server's version as the direct client sees it.
        QString version;
        QVERIFY(m_env.rootSql(QStringLiteral("SELECT VERSION();"), &version));
        QCOMPARE(info.serverVersion, version.trimmed());
        known["version"] = version.trimmed();
        known["error_code"] = 1045;
    } else {
        QVERIFY2(client.exitCode() == 0, qPrintable(err));
        // First output line: "<CONNECTION_ID()>\t<VERSION()>" as the server reports them.
        const QStringList first = out.section(QLatin1Char('\n'), 0, 0).split(QLatin1Char('\t'));
        QCOMPARE(first.size(), 2);
        QCOMPARE(inspector.login(), MySqlInspector::Login::Succeeded);
        QCOMPARE(QString::number(info.connectionId), first[0]);
        QCOMPARE(info.serverVersion, first[1]);

        // Commands of this connection in the server's general log, Connect excluded.
        QList<QString> commands;
        const QRegularExpression line(
            QStringLiteral("^(?:\\d{6}\\s+[\\d:]+)?\\s+(\\d+) ([A-Za-z ]+?)\\t"));
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                QFile log(m_generalLog);
                if (!log.open(QIODevice::ReadOnly | QIODevice::Text))
                    return false;
                commands.clear();
                while (!log.atEnd()) {
                    const auto m = line.match(QString::fromUtf8(log.readLine()));
                    if (m.hasMatch() && m.captured(1) == first[0] &&
                        m.captured(2) != QLatin1String("Connect"))
                        commands.append(m.captured(2));
                }
                return !commands.isEmpty() && commands.last() == QLatin1String("Quit");
            }(),
            10000);
        const QString last = commandFromLogName(commands.last());
        QVERIFY2(!last.isEmpty(), qPrintable("unmapped general log command " + commands.last()));
        QCOMPARE(info.commands, quint64(commands.size()));
        QCOMPARE(info.lastCommand, last);
        if (name == QLatin1String("queries"))
            QVERIFY(commands.contains(QStringLiteral("Init DB")));
        known["version"] = first[1];
        known["connection_id"] = first[0].toLongLong();
        known["commands"] = qint64(commands.size());
        known["last_command"] = last;
    }

    const QString saveDir = qEnvironmentVariable("SG_CAPTURE_DIR");
    if (!saveDir.isEmpty()) {
        QDir().mkpath(saveDir);
        QFile conv(QDir(saveDir).filePath(name + QStringLiteral(".conv")));
        QVERIFY(conv.open(QIODevice::WriteOnly | QIODevice::Truncate));
        conv.write(sg::test::encodeConversation(relay.chunks()));
        QFile json(QDir(saveDir).filePath(name + QStringLiteral(".json")));
        QVERIFY(json.open(QIODevice::WriteOnly | QIODevice::Truncate));
        json.write(QJsonDocument(known).toJson());
    }
}

QTEST_GUILESS_MAIN(tst_MySqlCapture)
#include "tst_mysqlcapture.moc"
