// The product's story, end to end: `streamgate --headless` in front of the fixture's real
// MariaDB, driven by the real `mariadb` client. Clients from 127.0.0.2 come through a
// LoopbackRelay (the client has no bind option). Proof comes from what a user would see: the
// client's own output and exit status, the server's process list, and the access log.
#include "loopbackrelay.h"
#include "mariadbenv.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QSaveFile>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <csignal>
#include <memory>
#include <vector>

using sg::test::LoopbackRelay;
using sg::test::MariaDbEnv;

namespace {

const QHostAddress kLocalhost(QStringLiteral("127.0.0.1"));
const QHostAddress kColleague(QStringLiteral("127.0.0.2"));

constexpr char kAdminKey[] = "e2e-admin-key";

// GET on the headless admin API; the body is read by its Content-Length (the server may keep
// the connection open).
QJsonDocument adminGet(quint16 port, const QString& path)
{
    QTcpSocket s;
    s.connectToHost(QHostAddress(QStringLiteral("127.0.0.1")), port);
    if (!s.waitForConnected(5000))
        return {};
    s.write(QStringLiteral(
                "GET %1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-KEY: %2\r\nConnection: close\r\n\r\n")
                .arg(path, QString::fromLatin1(kAdminKey))
                .toLatin1());
    QByteArray reply;
    static const QRegularExpression lengthRe(QStringLiteral("(?i)\r\ncontent-length:\\s*(\\d+)"));
    for (int rounds = 0; rounds < 100 && s.waitForReadyRead(2000); ++rounds) {
        reply += s.readAll();
        const qsizetype body = reply.indexOf("\r\n\r\n");
        if (body < 0)
            continue;
        const auto m = lengthRe.match(QString::fromLatin1(reply.left(body + 2)));
        if (m.hasMatch() && reply.size() - body - 4 >= m.captured(1).toLongLong())
            return QJsonDocument::fromJson(reply.mid(body + 4, m.captured(1).toLongLong()));
    }
    return {};
}

quint16 freePort()
{
    QTcpServer probe;
    if (!probe.listen(kLocalhost, 0))
        return 0;
    return probe.serverPort();
}

// True when something listens on 127.0.0.1:port, read from /proc/net/tcp so that checking does
// not open a connection (which the proxy would count as a session).
bool listeningOn(quint16 port)
{
    QFile f(QStringLiteral("/proc/net/tcp"));
    if (!f.open(QIODevice::ReadOnly | QIODevice::Text))
        return false;
    const QString local =
        QStringLiteral("0100007F:%1").arg(port, 4, 16, QLatin1Char('0')).toUpper();
    f.readLine(); // header
    while (!f.atEnd()) {
        const QStringList cols =
            QString::fromLatin1(f.readLine()).simplified().split(QLatin1Char(' '));
        if (cols.size() > 3 && cols[1] == local && cols[3] == QLatin1String("0A"))
            return true;
    }
    return false;
}

struct ClientResult
{
    bool finished = false;
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
    QByteArray sha256; // of out
};

// Runs the `mariadb` client to completion while the event loop keeps turning (the relays live
// on it). Output is hashed as it arrives.
class Client
{
public:
    Client(const MariaDbEnv& env, quint16 port, const QString& sql, const QString& db = QString(),
           bool keepOutput = true)
        : m_keep(keepOutput)
    {
        QObject::connect(&m_process, &QProcess::readyReadStandardOutput, [this] {
            const QByteArray b = m_process.readAllStandardOutput();
            m_hash.addData(b);
            if (m_keep)
                m_result.out += b;
        });
        m_process.start(env.client, env.clientArgs(QStringLiteral("127.0.0.1"), port,
                                                   db.isNull() ? env.database : db, env.password)
                                        << QStringLiteral("-e") << sql);
    }
    ~Client()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill(); // our own child, by PID
            m_process.waitForFinished(5000);
        }
    }
    bool running() const { return m_process.state() != QProcess::NotRunning; }
    qint64 pid() const { return m_process.processId(); }
    ClientResult result()
    {
        m_result.finished = m_process.state() == QProcess::NotRunning;
        m_result.out += m_keep ? m_process.readAllStandardOutput() : QByteArray();
        m_result.err = m_process.readAllStandardError();
        m_result.exitCode =
            m_process.exitStatus() == QProcess::NormalExit ? m_process.exitCode() : -1;
        m_result.sha256 = m_hash.result().toHex();
        return m_result;
    }

private:
    QProcess m_process;
    QCryptographicHash m_hash{QCryptographicHash::Sha256};
    bool m_keep;
    ClientResult m_result;
};

ClientResult runClient(const MariaDbEnv& env, quint16 port, const QString& sql,
                       int timeoutMs = 30000, bool keepOutput = true)
{
    Client c(env, port, sql, QString(), keepOutput);
    (void)QTest::qWaitFor([&] { return !c.running(); },
                          timeoutMs); // result() says whether it finished
    return c.result();
}

} // namespace

class tst_MySqlE2E : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void allowedClientQueries();
    void refusedThenAllowedWithoutRestart();
    void largeResultIsByteIdentical();
    void fiftyConcurrentClients();
    void serverKilledMidSession();
    void liveConnectionShowsWhoIsConnected();

private:
    void writeConfig(const QStringList& whitelist);
    QStringList accessLogLines(const QString& clientIp) const;
    bool startHeadless();

    MariaDbEnv m_env;
    QTemporaryDir m_tmp;
    QString m_configPath;
    quint16 m_proxyPort = 0;
    quint16 m_adminPort = 0;
    QProcess m_headless;
    QStringList m_log; // stdout lines of the headless process
    QByteArray m_partial;
};

void tst_MySqlE2E::writeConfig(const QStringList& whitelist)
{
    const QJsonObject route{
        {"id", "mysql"},
        {"name", "Local MySQL"},
        {"server_port", m_proxyPort},
        {"plugins",
         QJsonObject{{"ip-restriction",
                      QJsonObject{{"whitelist", QJsonArray::fromStringList(whitelist)}}}}},
        {"upstream",
         QJsonObject{{"type", "roundrobin"},
                     {"nodes", QJsonObject{{QStringLiteral("127.0.0.1:%1").arg(m_env.port), 1}}},
                     {"timeout", QJsonObject{{"connect", 3}, {"send", 60}, {"read", 60}}}}},
    };
    const QJsonObject config{
        {"stream_proxy",
         QJsonObject{{"tcp", QJsonArray{QStringLiteral("127.0.0.1:%1").arg(m_proxyPort)}}}},
        {"stream_routes", QJsonArray{route}},
        // The admin API shows the live connections; command counting is on for this route.
        {"streamgate",
         QJsonObject{
             {"admin", QJsonObject{{"listen", QStringLiteral("127.0.0.1:%1").arg(m_adminPort)},
                                   {"key", QString::fromLatin1(kAdminKey)}}},
             {"routes", QJsonObject{{"mysql", QJsonObject{{"mysql_commands", true}}}}}}},
    };
    // Saved the way editors and the store save: a new file renamed over the old one.
    QSaveFile f(m_configPath);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QJsonDocument(config).toJson());
    QVERIFY(f.commit());
}

bool tst_MySqlE2E::startHeadless()
{
    QObject::connect(&m_headless, &QProcess::readyReadStandardOutput, this, [this] {
        m_partial += m_headless.readAllStandardOutput();
        qsizetype nl;
        while ((nl = m_partial.indexOf('\n')) >= 0) {
            m_log << QString::fromUtf8(m_partial.left(nl));
            m_partial.remove(0, nl + 1);
        }
    });
    m_headless.setProcessChannelMode(QProcess::SeparateChannels);
    m_headless.setProgram(QStringLiteral(SG_STREAMGATE_BIN));
    m_headless.setArguments(
        {QStringLiteral("--headless"), QStringLiteral("--config"), m_configPath});
    m_headless.start();
    if (!m_headless.waitForStarted(10000))
        return false;
    return QTest::qWaitFor(
               [this] {
                   return listeningOn(m_proxyPort) || m_headless.state() == QProcess::NotRunning;
               },
               15000) &&
           m_headless.state() == QProcess::Running;
}

QStringList tst_MySqlE2E::accessLogLines(const QString& clientIp) const
{
    QStringList lines;
    for (const QString& l : m_log) {
        if (l.startsWith(clientIp + QLatin1Char(' ')))
            lines << l;
    }
    return lines;
}

void tst_MySqlE2E::initTestCase()
{
    m_env = MariaDbEnv::load();
    QVERIFY2(m_env.ok(), qPrintable(m_env.error));
    QVERIFY(m_tmp.isValid());
    m_configPath = m_tmp.filePath(QStringLiteral("streamgate.json"));
    m_proxyPort = freePort();
    QVERIFY(m_proxyPort != 0);
    m_adminPort = freePort();
    QVERIFY(m_adminPort != 0 && m_adminPort != m_proxyPort);
    writeConfig({QStringLiteral("127.0.0.1")});
    QVERIFY2(startHeadless(), qPrintable(QString::fromUtf8(m_headless.readAllStandardError())));
}

void tst_MySqlE2E::cleanupTestCase()
{
    if (m_headless.state() != QProcess::NotRunning) {
        m_headless.terminate();
        if (!m_headless.waitForFinished(10000))
            m_headless.kill();
    }
}

// 1. The route allows 127.0.0.1: queries work through the proxy.
void tst_MySqlE2E::allowedClientQueries()
{
    const ClientResult r =
        runClient(m_env, m_proxyPort, QStringLiteral("SELECT 6*7, CURRENT_USER(), DATABASE();"));
    QVERIFY(r.finished);
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QCOMPARE(QString::fromUtf8(r.out).trimmed(),
             QStringLiteral("42\t%1@%\t%2").arg(m_env.user, m_env.database));
    // The session is in the access log once it ended.
    QTRY_VERIFY_WITH_TIMEOUT(!accessLogLines(QStringLiteral("127.0.0.1")).isEmpty(), 10000);
}

// 2. 127.0.0.2 is refused before the greeting; allowed after a config edit, no restart.
void tst_MySqlE2E::refusedThenAllowedWithoutRestart()
{
    LoopbackRelay colleague(kColleague, kLocalhost, m_proxyPort);
    QVERIFY(colleague.listen());
    const qint64 pid = m_headless.processId();

    const ClientResult refused = runClient(m_env, colleague.port(), QStringLiteral("SELECT 1;"));
    QVERIFY(refused.finished);
    QCOMPARE(refused.exitCode, 1);
    // The client never saw a server greeting: the proxy closed before any byte reached MariaDB.
    QVERIFY2(refused.err.contains("reading initial communication packet"), refused.err.constData());
    QTRY_VERIFY_WITH_TIMEOUT(!accessLogLines(QStringLiteral("127.0.0.2")).isEmpty(), 10000);
    const QString denyLine = accessLogLines(QStringLiteral("127.0.0.2")).constLast();
    QVERIFY2(denyLine.contains(QLatin1String(" TCP 403 0 0 ")) &&
                 denyLine.contains(QLatin1String("route=\"mysql\"")) &&
                 denyLine.contains(QLatin1String("reason=\"denied by ip-restriction\"")),
             qPrintable(denyLine));

    writeConfig({QStringLiteral("127.0.0.1"), QStringLiteral("127.0.0.2")});
    // The change applies to new connections once the file is reloaded: try until it does.
    ClientResult allowed;
    QTRY_VERIFY2_WITH_TIMEOUT(
        (allowed = runClient(m_env, colleague.port(), QStringLiteral("SELECT 'in';"))).exitCode ==
            0,
        qPrintable(QString::fromUtf8(allowed.err) + m_log.join(QLatin1Char('\n')) +
                   QString::fromUtf8(m_headless.readAllStandardError())),
        15000);
    QCOMPARE(QString::fromUtf8(allowed.out).trimmed(), QStringLiteral("in"));
    QCOMPARE(m_headless.processId(), pid); // same process: no restart
    QCOMPARE(m_headless.state(), QProcess::Running);
}

// 3. A result of more than 50 MB arrives byte-identical through the proxy.
void tst_MySqlE2E::largeResultIsByteIdentical()
{
    // 52,000 rows of ~1,050 bytes from MariaDB's built-in sequence engine: ~55 MB of output.
    const QString sql = QStringLiteral(
        "SELECT seq, MD5(seq), REPEAT(CHAR(65 + seq % 26), 1000) FROM seq_1_to_52000;");
    const ClientResult direct = runClient(m_env, m_env.port, sql, 60000, false);
    const ClientResult proxied = runClient(m_env, m_proxyPort, sql, 60000, false);
    QVERIFY2(direct.exitCode == 0, direct.err.constData());
    QVERIFY2(proxied.exitCode == 0, proxied.err.constData());
    QCOMPARE(proxied.sha256, direct.sha256);
    // The size is part of the claim: count it from the access log's bytes_sent.
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            for (const QString& l : accessLogLines(QStringLiteral("127.0.0.1"))) {
                const QStringList f =
                    l.section(QLatin1Char(']'), 1).simplified().split(QLatin1Char(' '));
                if (f.size() >= 3 && f[2].toLongLong() >= 50'000'000)
                    return true;
            }
            return false;
        }(),
        10000);
}

// 4. 50 clients query for 5 s at once: all succeed and each is one session in the log.
void tst_MySqlE2E::fiftyConcurrentClients()
{
    constexpr int kClients = 50;
    constexpr int kQueries = 50; // 50 x 0.1 s sleep: each client is busy for ~5 s
    QString sql;
    for (int i = 1; i <= kQueries; ++i)
        sql += QStringLiteral("SELECT %1, SLEEP(0.1);").arg(i);
    const qsizetype before = accessLogLines(QStringLiteral("127.0.0.1")).size();

    std::vector<std::unique_ptr<Client>> clients;
    for (int i = 0; i < kClients; ++i)
        clients.push_back(std::make_unique<Client>(m_env, m_proxyPort, sql));
    // While they run, count how many the server sees at once (all come through the proxy).
    int mostAtOnce = 0;
    const bool allDone = QTest::qWaitFor(
        [&] {
            QString count;
            if (m_env.rootSql(
                    QStringLiteral(
                        "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER='%1';")
                        .arg(m_env.user),
                    &count))
                mostAtOnce = qMax(mostAtOnce, count.trimmed().toInt());
            for (const auto& c : clients)
                if (c->running())
                    return false;
            return true;
        },
        60000);
    QVERIFY(allDone);
    // Sessions that did not end cleanly, for the failure message.
    auto unclean = [this, before] {
        QStringList out;
        for (const QString& l : accessLogLines(QStringLiteral("127.0.0.1")).mid(before))
            if (!l.contains(QLatin1String("reason=\"client closed\"")) &&
                !l.contains(QLatin1String("reason=\"upstream closed\"")))
                out << l;
        return out.join(QLatin1Char('\n'));
    };
    for (int i = 0; i < kClients; ++i) {
        const ClientResult r = clients[size_t(i)]->result();
        QVERIFY2(r.exitCode == 0,
                 qPrintable(QStringLiteral("client %1: %2\nunclean sessions in the access log:\n%3")
                                .arg(i)
                                .arg(QString::fromUtf8(r.err), unclean())));
        const QStringList rows = QString::fromUtf8(r.out).trimmed().split(QLatin1Char('\n'));
        QCOMPARE(rows.size(), kQueries);
        QCOMPARE(rows.constLast(), QStringLiteral("%1\t0").arg(kQueries));
    }
    QCOMPARE(mostAtOnce, kClients);
    // One access-log line per client, each a clean end on the route (after COM_QUIT either side
    // may close first).
    QTRY_COMPARE_WITH_TIMEOUT(accessLogLines(QStringLiteral("127.0.0.1")).size(), before + kClients,
                              10000);
    const QStringList lines = accessLogLines(QStringLiteral("127.0.0.1")).mid(before);
    for (const QString& l : lines) {
        QVERIFY2(l.contains(QLatin1String(" TCP 200 ")) &&
                     l.contains(QLatin1String("route=\"mysql\"")) &&
                     (l.contains(QLatin1String("reason=\"client closed\"")) ||
                      l.contains(QLatin1String("reason=\"upstream closed\""))),
                 qPrintable(l));
    }
}

// 5. mariadbd killed mid-session: the client sees the end, the log says the upstream closed,
//    and the route works again once the server is back.
void tst_MySqlE2E::serverKilledMidSession()
{
    Client victim(m_env, m_proxyPort, QStringLiteral("SELECT SLEEP(30);"));
    QString count;
    QTRY_VERIFY2_WITH_TIMEOUT(
        m_env.rootSql(QStringLiteral("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE "
                                     "INFO LIKE 'SELECT SLEEP(30)%';"),
                      &count) &&
            count.trimmed().toInt() == 1,
        qPrintable(QStringLiteral("server sees: ") + count), 15000);
    const qsizetype before = accessLogLines(QStringLiteral("127.0.0.1")).size();

    QVERIFY(m_env.pid > 0);
    QCOMPARE(::kill(pid_t(m_env.pid), SIGKILL), 0); // the fixture's server, by its PID
    QVERIFY(QTest::qWaitFor([&] { return !victim.running(); }, 15000));
    const ClientResult r = victim.result();
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("Lost connection"), r.err.constData());
    // Its access-log line says the upstream ended it (other sessions may log meanwhile).
    QTRY_VERIFY2_WITH_TIMEOUT(
        [&] {
            for (const QString& l : accessLogLines(QStringLiteral("127.0.0.1")).mid(before))
                if (l.contains(QLatin1String("route=\"mysql\"")) &&
                    l.contains(QLatin1String("reason=\"upstream closed\"")))
                    return true;
            return false;
        }(),
        qPrintable(accessLogLines(QStringLiteral("127.0.0.1")).mid(before).join(QLatin1Char('\n'))),
        10000);

    // Back up on the same port and data; the route needs no change.
    QProcess restart;
    restart.start(m_env.fixture, {QStringLiteral("restart"), m_env.dir});
    QVERIFY(QTest::qWaitFor([&] { return restart.state() == QProcess::NotRunning; }, 60000));
    QVERIFY2(restart.exitCode() == 0, restart.readAllStandardError().constData());
    m_env = MariaDbEnv::load(); // new PID
    const ClientResult again = runClient(m_env, m_proxyPort, QStringLiteral("SELECT 'back';"));
    QVERIFY2(again.exitCode == 0, again.err.constData());
    QCOMPARE(QString::fromUtf8(again.out).trimmed(), QStringLiteral("back"));
}

// 6. While a query runs through the proxy, /streamgate/v1/connections names the MySQL user,
// database and server version of that connection (the inspector read them from the handshake).
void tst_MySqlE2E::liveConnectionShowsWhoIsConnected()
{
    const QString serverVersion =
        QString::fromUtf8(runClient(m_env, m_env.port, QStringLiteral("SELECT VERSION();")).out)
            .trimmed();
    QVERIFY(!serverVersion.isEmpty());

    Client sleeper(m_env, m_proxyPort, QStringLiteral("SELECT SLEEP(4);"));
    QJsonObject mysql;
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            const QJsonArray list =
                adminGet(m_adminPort, QStringLiteral("/streamgate/v1/connections"))
                    .object()
                    .value("list")
                    .toArray();
            for (const QJsonValue& v : list) {
                const QJsonObject c = v.toObject();
                // The greeting alone already marks the connection MySQL; wait for the login.
                if (c.value("mysql").isObject() && c.value("end_time").isUndefined() &&
                    !c.value("mysql").toObject().value("user").toString().isEmpty()) {
                    mysql = c.value("mysql").toObject();
                    return true;
                }
            }
            return false;
        }(),
        10000);
    QVERIFY(sleeper.running()); // seen on the live connection, not after it ended
    QCOMPARE(mysql.value("user").toString(), m_env.user);
    QCOMPARE(mysql.value("database").toString(), m_env.database);
    QCOMPARE(mysql.value("server_version").toString(), serverVersion);
    QCOMPARE(mysql.value("tls").toBool(true), false);
    QVERIFY(mysql.value("connection_id").toInteger() > 0);
    QTRY_VERIFY_WITH_TIMEOUT(!sleeper.running(), 15000);
    QCOMPARE(sleeper.result().exitCode, 0);
}

QTEST_GUILESS_MAIN(tst_MySqlE2E)
#include "tst_mysqle2e.moc"
