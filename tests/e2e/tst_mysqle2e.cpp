// The product's story, end to end: `streamgate --headless` in front of the fixture's real
// MariaDB, driven by the real `mariadb` client. Clients from 127.0.0.2 come through a
// LoopbackRelay (the client has no bind option). Proof comes from what a user would see: the
// client's own output and exit status, the server's process list, and the access log.
#include "loopbackrelay.h"
#include "mariadbenv.h"

#include <QCryptographicHash>
#include <QDateTime>
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

// A request to the headless admin API; the body is read by its Content-Length (the server may
// keep the connection open).
QJsonDocument adminRequest(quint16 port, const char* method, const QString& path)
{
    QTcpSocket s;
    s.connectToHost(QHostAddress(QStringLiteral("127.0.0.1")), port);
    if (!s.waitForConnected(5000))
        return {};
    s.write(QStringLiteral(
                "%1 %2 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-KEY: %3\r\nConnection: close\r\n\r\n")
                .arg(QLatin1String(method), path, QString::fromLatin1(kAdminKey))
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

QJsonDocument adminGet(quint16 port, const QString& path)
{
    return adminRequest(port, "GET", path);
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
    void refusalsInMySqlsOwnWords();
    void digestsCountWhatTheClientDid();
    void secondClientLibrary();
    void databaseTlsKeepsInsight();
    void databaseServerTlsToMariaDb();

private:
    void writeConfig(const QStringList& whitelist);
    std::unique_ptr<Client> holdLimitedRoute(QByteArray& why);
    QStringList accessLogLines(const QString& clientIp) const;
    bool startHeadless();
    // The `mariadb` client through `port` with TLS arguments (--ssl, ...) instead of --skip-ssl.
    ClientResult tlsClient(quint16 port, const QStringList& sslArgs, const QString& sql) const;
    // The route's last ended connection whose MySQL user is the fixture's.
    QJsonObject closedMySqlConnection(const QString& route);

    MariaDbEnv m_env;
    QTemporaryDir m_tmp;
    QString m_configPath;
    quint16 m_proxyPort = 0;
    quint16 m_adminPort = 0;
    quint16 m_downPort = 0;    // route "mysql-down": its only node has nothing listening
    quint16 m_limitedPort = 0; // route "mysql-limited": limit-conn, one connection per client
    quint16 m_tlsPort = 0;     // route "mysql-tls": database_tls and digests
    // A second server that requires TLS of the user (ssl_cert, ssl_key, REQUIRE SSL); routes
    // with database_tls and database_server_tls: "mysql-srvtls" ("require", digests) and
    // "mysql-srvverify" ("verify") to it, "mysql-srvnotls" ("require") to the first server,
    // which offers no TLS.
    MariaDbEnv m_tlsEnv;
    QString m_tlsFixtureDir;
    QString m_serverCert;
    quint16 m_serverTlsPort = 0;
    quint16 m_serverVerifyPort = 0;
    quint16 m_serverNoTlsPort = 0;
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
    // Two more routes to the refusals MySQL clients are told about: one whose node is down
    // (its settings say it fronts MySQL) and one with limit-conn (learned from the greeting).
    const QJsonObject down{
        {"id", "mysql-down"},
        {"server_port", m_downPort},
        {"upstream",
         QJsonObject{{"nodes", QJsonObject{{QStringLiteral("127.0.0.1:%1").arg(freePort()), 1}}},
                     {"timeout", QJsonObject{{"connect", 3}, {"send", 60}, {"read", 60}}}}},
    };
    const QJsonObject limited{
        {"id", "mysql-limited"},
        {"server_port", m_limitedPort},
        {"plugins", QJsonObject{{"limit-conn", QJsonObject{{"conn", 1},
                                                           {"burst", 0},
                                                           {"default_conn_delay", 0.1},
                                                           {"key", "remote_addr"}}}}},
        {"upstream", route.value("upstream")},
    };
    const QJsonObject tls{
        {"id", "mysql-tls"},
        {"server_port", m_tlsPort},
        {"upstream", route.value("upstream")},
    };
    QJsonObject tlsUpstream = route.value("upstream").toObject();
    tlsUpstream.insert("nodes",
                       QJsonObject{{QStringLiteral("127.0.0.1:%1").arg(m_tlsEnv.port), 1}});
    const QJsonObject serverTls{
        {"id", "mysql-srvtls"}, {"server_port", m_serverTlsPort}, {"upstream", tlsUpstream}};
    const QJsonObject serverVerify{
        {"id", "mysql-srvverify"}, {"server_port", m_serverVerifyPort}, {"upstream", tlsUpstream}};
    const QJsonObject serverNoTls{{"id", "mysql-srvnotls"},
                                  {"server_port", m_serverNoTlsPort},
                                  {"upstream", route.value("upstream")}};
    const QJsonObject config{
        {"stream_proxy",
         QJsonObject{{"tcp", QJsonArray{QStringLiteral("127.0.0.1:%1").arg(m_proxyPort),
                                        QStringLiteral("127.0.0.1:%1").arg(m_downPort),
                                        QStringLiteral("127.0.0.1:%1").arg(m_limitedPort),
                                        QStringLiteral("127.0.0.1:%1").arg(m_tlsPort),
                                        QStringLiteral("127.0.0.1:%1").arg(m_serverTlsPort),
                                        QStringLiteral("127.0.0.1:%1").arg(m_serverVerifyPort),
                                        QStringLiteral("127.0.0.1:%1").arg(m_serverNoTlsPort)}}}},
        {"stream_routes",
         QJsonArray{route, down, limited, tls, serverTls, serverVerify, serverNoTls}},
        // The admin API shows the live connections; query digests are on for this route.
        {"streamgate",
         QJsonObject{
             {"admin", QJsonObject{{"listen", QStringLiteral("127.0.0.1:%1").arg(m_adminPort)},
                                   {"key", QString::fromLatin1(kAdminKey)}}},
             {"routes",
              QJsonObject{
                  {"mysql", QJsonObject{{"mysql_digests", true}}},
                  {"mysql-down", QJsonObject{{"mysql_inspect", true}}},
                  {"mysql-tls", QJsonObject{{"mysql_digests", true}, {"database_tls", true}}},
                  {"mysql-srvtls", QJsonObject{{"mysql_digests", true},
                                               {"database_tls", true},
                                               {"database_server_tls", "require"}}},
                  {"mysql-srvverify", QJsonObject{{"mysql_inspect", true},
                                                  {"database_tls", true},
                                                  {"database_server_tls", "verify"}}},
                  {"mysql-srvnotls", QJsonObject{{"mysql_inspect", true},
                                                 {"database_tls", true},
                                                 {"database_server_tls", "require"}}}}},
             // The TLS server's own certificate is the CA "verify" trusts.
             {"ssl_trusted_certificate", m_serverCert}}},
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
    m_downPort = freePort();
    m_limitedPort = freePort();
    m_tlsPort = freePort();
    m_serverTlsPort = freePort();
    m_serverVerifyPort = freePort();
    m_serverNoTlsPort = freePort();
    QVERIFY(m_downPort != 0 && m_limitedPort != 0 && m_tlsPort != 0 && m_serverTlsPort != 0 &&
            m_serverVerifyPort != 0 && m_serverNoTlsPort != 0);
    // The second server, with a certificate naming 127.0.0.1, and its user made to use TLS.
    m_serverCert = m_tmp.filePath(QStringLiteral("server.crt"));
    const QString key = m_tmp.filePath(QStringLiteral("server.key"));
    QProcess openssl;
    openssl.start(QStringLiteral("openssl"),
                  {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out",
                   m_serverCert, "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                   "-days", "2"});
    QVERIFY(openssl.waitForFinished(30000) && openssl.exitCode() == 0);
    m_tlsFixtureDir = m_tmp.filePath(QStringLiteral("tls-mariadb"));
    QVERIFY(QDir().mkpath(m_tlsFixtureDir));
    QProcess fixture;
    QProcessEnvironment fixtureEnv = QProcessEnvironment::systemEnvironment();
    fixtureEnv.insert(QStringLiteral("SG_MARIADBD_EXTRA"),
                      QStringLiteral("--ssl-cert=%1 --ssl-key=%2").arg(m_serverCert, key));
    fixture.setProcessEnvironment(fixtureEnv);
    fixture.start(m_env.fixture, {QStringLiteral("start"), m_tlsFixtureDir});
    QVERIFY2(fixture.waitForFinished(90000) && fixture.exitCode() == 0,
             fixture.readAllStandardError().constData());
    m_tlsEnv = MariaDbEnv::load(m_tlsFixtureDir + QStringLiteral("/env"));
    QVERIFY2(m_tlsEnv.ok(), qPrintable(m_tlsEnv.error));
    QVERIFY(m_tlsEnv.rootSql(QStringLiteral("ALTER USER 'sg'@'%' REQUIRE SSL")));
    writeConfig({QStringLiteral("127.0.0.1")});
    QVERIFY2(startHeadless(), qPrintable(QString::fromUtf8(m_headless.readAllStandardError())));
}

void tst_MySqlE2E::cleanupTestCase()
{
    if (!m_tlsFixtureDir.isEmpty() && !m_env.fixture.isEmpty()) {
        QProcess fixture;
        fixture.start(m_env.fixture, {QStringLiteral("stop"), m_tlsFixtureDir});
        fixture.waitForFinished(60000);
    }
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
    // The client reads why, in place of a server greeting; no byte reached MariaDB.
    QVERIFY2(refused.err.contains("ERROR 1130") &&
                 refused.err.contains("Host '127.0.0.2' is not allowed to connect") &&
                 refused.err.contains("refused by Streamgate: ip-restriction on route mysql"),
             refused.err.constData());
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
                // The greeting alone already marks the connection MySQL; wait for the login
                // and the statement (the client asks for the server's version comment first).
                if (c.value("mysql").isObject() && c.value("end_time").isUndefined() &&
                    !c.value("mysql").toObject().value("user").toString().isEmpty() &&
                    c.value("mysql")
                        .toObject()
                        .value("statement")
                        .toString()
                        .contains(QLatin1String("SLEEP"))) {
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
    // Query digests are on for this route: the statement running now, and since when.
    QCOMPARE(mysql.value("statement").toString(), QStringLiteral("SELECT SLEEP(4)"));
    const qint64 since = mysql.value("statement_since_ms").toInteger();
    QVERIFY2(since > 0 && since <= QDateTime::currentMSecsSinceEpoch(),
             qPrintable(QString::number(since)));
    QTRY_VERIFY_WITH_TIMEOUT(!sleeper.running(), 15000);
    QCOMPARE(sleeper.result().exitCode, 0);
}

// Takes the one connection limit-conn lets route "mysql-limited" have: once the route has
// none open (an earlier session has ended and left limit-conn), a `mariadb` client sleeping
// 4 s, in once its login shows on its live connection. Null, and why, if it does not get in.
std::unique_ptr<Client> tst_MySqlE2E::holdLimitedRoute(QByteArray& why)
{
    const QString limited = QStringLiteral("/streamgate/v1/connections?route=mysql-limited");
    auto open = [&] { return adminGet(m_adminPort, limited).object().value("list").toArray(); };
    if (!QTest::qWaitFor([&] { return open().isEmpty(); }, 5000)) {
        why = "route mysql-limited still has a connection open: " + QJsonDocument(open()).toJson();
        return nullptr;
    }
    auto holder =
        std::make_unique<Client>(m_env, m_limitedPort, QStringLiteral("SELECT SLEEP(4);"));
    const bool in = QTest::qWaitFor(
        [&] {
            const QJsonArray list = open();
            return list.size() == 1 && !list.first()
                                            .toObject()
                                            .value("mysql")
                                            .toObject()
                                            .value("user")
                                            .toString()
                                            .isEmpty();
        },
        5000);
    if (!in) {
        why = "the holder's login did not show: " + QJsonDocument(open()).toJson();
        return nullptr;
    }
    return holder;
}

// 7. Refused clients of a route that fronts MySQL read why in MySQL's words, not "Lost
// connection": 9001 when no node answers, 1040 from limit-conn (1130 is case 2).
void tst_MySqlE2E::refusalsInMySqlsOwnWords()
{
    const ClientResult down = runClient(m_env, m_downPort, QStringLiteral("SELECT 1;"));
    QVERIFY(down.finished);
    QCOMPARE(down.exitCode, 1);
    QVERIFY2(down.err.contains("ERROR 9001") &&
                 down.err.contains("Can't connect to MySQL server through Streamgate: no node of "
                                   "route mysql-down's upstream answered"),
             down.err.constData());

    // Nothing in the settings says "mysql-limited" fronts MySQL: its first session shows it.
    const ClientResult first = runClient(m_env, m_limitedPort, QStringLiteral("SELECT 1;"));
    QVERIFY2(first.exitCode == 0, first.err.constData());
    QByteArray why;
    const std::unique_ptr<Client> holder = holdLimitedRoute(why);
    QVERIFY2(holder, why.constData());
    // A second client from the same address is over the limit while the holder is open.
    const ClientResult second = runClient(m_env, m_limitedPort, QStringLiteral("SELECT 1;"));
    QCOMPARE(second.exitCode, 1);
    QVERIFY2(second.err.contains("ERROR 1040") &&
                 second.err.contains("Too many connections; refused by Streamgate: limit-conn on "
                                     "route mysql-limited"),
             second.err.constData());
    QVERIFY(QTest::qWaitFor([&] { return !holder->running(); }, 15000));
    const ClientResult held = holder->result();
    QVERIFY2(held.exitCode == 0, held.err.constData());
}

// 8. The route's query digests count what the client did: statements that differ only in
// their literals are one digest, with the rows sent and affected and the error it met, and
// the error table has the server's code and message. DELETE empties them.
void tst_MySqlE2E::digestsCountWhatTheClientDid()
{
    const QString digests = QStringLiteral("/streamgate/v1/mysql/digests?route=mysql");
    const QString errors = QStringLiteral("/streamgate/v1/mysql/errors?route=mysql");
    QCOMPARE(adminRequest(m_adminPort, "DELETE", digests).object().value("deleted").toString(),
             QStringLiteral("digests"));
    QCOMPARE(adminRequest(m_adminPort, "DELETE", errors).object().value("deleted").toString(),
             QStringLiteral("errors"));
    QCOMPARE(adminGet(m_adminPort, digests).object().value("total").toInt(-1), 0);

    // The `mariadb` client sends each statement as its own COM_QUERY; the last one fails
    // (duplicate key), and the client stops there with exit code 1.
    const ClientResult r = runClient(
        m_env, m_proxyPort,
        QStringLiteral("CREATE TABLE IF NOT EXISTS sg_digest (id INT PRIMARY KEY, v VARCHAR(20));"
                       "DELETE FROM sg_digest;"
                       "INSERT INTO sg_digest VALUES (1, 'a'), (2, 'b'), (3, 'c');"
                       "SELECT v FROM sg_digest WHERE id IN (1, 2);"
                       "select v from sg_digest where id in (3);"
                       "SELECT v FROM sg_digest WHERE id IN (7, 8, 9);"
                       "INSERT INTO sg_digest VALUES (1, 'again');"));
    QVERIFY(r.finished);
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("ERROR 1062"), r.err.constData());
    QCOMPARE(QString::fromUtf8(r.out).split(QLatin1Char('\n'), Qt::SkipEmptyParts),
             QStringList({"a", "b", "c"}));

    const QJsonObject body = adminGet(m_adminPort, digests).object();
    QCOMPARE(body.value("recording").toBool(), true);
    QCOMPARE(body.value("dropped").toInteger(-1), 0);
    QJsonObject select, selectLower, insertRows, insertRow;
    for (const QJsonValue& v : body.value("list").toArray()) {
        const QJsonObject d = v.toObject();
        const QString text = d.value("digest_text").toString();
        QVERIFY2(!text.contains(QLatin1String("'a'")) && !text.contains(QLatin1String("7")),
                 qPrintable(text)); // literals never reach a digest
        QCOMPARE(d.value("username").toString(), m_env.user);
        QCOMPARE(d.value("schemaname").toString(), m_env.database);
        QCOMPARE(d.value("client_address").toString(), QStringLiteral("127.0.0.1"));
        QVERIFY(d.value("digest").toString().startsWith(QLatin1String("0x")));
        if (text.startsWith(QLatin1String("SELECT v FROM sg_digest")))
            select = d;
        else if (text.startsWith(QLatin1String("select v from sg_digest")))
            selectLower = d;
        else if (text == u"INSERT INTO sg_digest VALUES (?, ?), ...")
            insertRows = d;
        else if (text == u"INSERT INTO sg_digest VALUES (?, ?)")
            insertRow = d;
    }
    const QByteArray all = QJsonDocument(body).toJson();
    // IN (1, 2) and IN (7, 8, 9) are one digest: 2 rows and none.
    QVERIFY2(!select.isEmpty(), all.constData());
    QCOMPARE(select.value("count_star").toInteger(), 2);
    QCOMPARE(select.value("sum_rows_sent").toInteger(), 2);
    QCOMPARE(select.value("errors").toInteger(), 0);
    QVERIFY(select.value("sum_time").toInteger() >= select.value("max_time").toInteger());
    QVERIFY(select.value("max_time").toInteger() >= select.value("min_time").toInteger());
    QVERIFY(select.value("min_time").toInteger() > 0);
    QVERIFY(select.value("last_seen").toInteger() >= select.value("first_seen").toInteger());
    QVERIFY(qAbs(select.value("last_seen").toInteger() - QDateTime::currentSecsSinceEpoch()) < 60);
    // Letter case is kept, as ProxySQL keeps it: the lower-case query is a digest of its own.
    QVERIFY2(!selectLower.isEmpty(), all.constData());
    QCOMPARE(selectLower.value("count_star").toInteger(), 1);
    QCOMPARE(selectLower.value("sum_rows_sent").toInteger(), 1);
    // Three rows in one INSERT (its further rows fold into "..."); then a duplicate key.
    QVERIFY2(!insertRows.isEmpty() && !insertRow.isEmpty(), all.constData());
    QCOMPARE(insertRows.value("count_star").toInteger(), 1);
    QCOMPARE(insertRows.value("sum_rows_affected").toInteger(), 3);
    QCOMPARE(insertRows.value("errors").toInteger(), 0);
    QCOMPARE(insertRow.value("count_star").toInteger(), 1);
    QCOMPARE(insertRow.value("sum_rows_affected").toInteger(), 0);
    QCOMPARE(insertRow.value("errors").toInteger(), 1);

    const QJsonArray errorList = adminGet(m_adminPort, errors).object().value("list").toArray();
    QCOMPARE(errorList.size(), 1);
    const QJsonObject e = errorList.first().toObject();
    QCOMPARE(e.value("errno").toInt(), 1062);
    QCOMPARE(e.value("sqlstate").toString(), QStringLiteral("23000"));
    QCOMPARE(e.value("count_star").toInteger(), 1);
    QCOMPARE(e.value("username").toString(), m_env.user);
    QVERIFY2(e.value("last_error").toString().contains(QLatin1String("Duplicate entry '1'")),
             qPrintable(e.value("last_error").toString()));

    // The command counters: every COM_QUERY above in ProxySQL's latency buckets.
    const QJsonArray commands =
        adminGet(m_adminPort, QStringLiteral("/streamgate/v1/mysql/commands?route=mysql"))
            .object()
            .value("list")
            .toArray();
    qint64 queries = -1, bucketed = 0;
    for (const QJsonValue& v : commands) {
        const QJsonObject c = v.toObject();
        if (c.value("command").toString() != u"COM_QUERY")
            continue;
        queries = c.value("total_cnt").toInteger();
        for (auto it = c.begin(); it != c.end(); ++it) {
            if (it.key().startsWith(QLatin1String("cnt_")))
                bucketed += it.value().toInteger();
        }
    }
    QVERIFY2(queries >= 7, QJsonDocument(commands).toJson().constData());
    QCOMPARE(bucketed, queries);

    // Asked about a route that does not exist, or without naming one: refused by name.
    QCOMPARE(adminGet(m_adminPort, QStringLiteral("/streamgate/v1/mysql/digests?route=nope"))
                 .object()
                 .value("error_msg")
                 .toString(),
             QStringLiteral("route nope not found"));
    QVERIFY(adminGet(m_adminPort, QStringLiteral("/streamgate/v1/mysql/digests"))
                .object()
                .value("error_msg")
                .toString()
                .startsWith(QLatin1String("route is required")));
}

// 9. A second client library, PyMySQL: its parameters are interpolated on the client, so the
// digests must take them out again; an executemany INSERT is one statement of three rows; the
// duplicate key is counted on its digest; a refused connection raises the server's 1040 with
// Streamgate's reason, as the `mariadb` client prints it.
void tst_MySqlE2E::secondClientLibrary()
{
    const QString script = QFINDTESTDATA("pymysql-client.py");
    QVERIFY(!script.isEmpty());
    auto python = [&](quint16 port, const QString& mode) {
        QProcess p;
        // Debian's interpreter, which python3-pymysql installs for (another python3 may come
        // first on PATH).
        p.start(QStringLiteral("/usr/bin/python3"),
                {script, m_env.host, QString::number(port), m_env.user, m_env.password,
                 m_env.database, mode});
        const bool finished = p.waitForFinished(60000);
        const QByteArray err = p.readAllStandardError();
        if (!finished || p.exitCode() != 0)
            qWarning("pymysql-client.py %s: %s", qPrintable(mode), err.constData());
        return QJsonDocument::fromJson(p.readAllStandardOutput()).object();
    };
    const QString digests = QStringLiteral("/streamgate/v1/mysql/digests?route=mysql");
    QCOMPARE(adminRequest(m_adminPort, "DELETE", digests).object().value("deleted").toString(),
             QStringLiteral("digests"));

    const QJsonObject seen = python(m_proxyPort, QStringLiteral("digests"));
    QCOMPARE(seen.value("inserted").toInt(), 3);
    QCOMPARE(seen.value("selected").toArray(), QJsonArray({"a", "b", "c"}));
    QCOMPARE(seen.value("duplicate_errno").toInt(), 1062);

    QJsonObject select, insertRows, insertRow;
    const QJsonObject body = adminGet(m_adminPort, digests).object();
    for (const QJsonValue& v : body.value("list").toArray()) {
        const QJsonObject d = v.toObject();
        const QString text = d.value("digest_text").toString();
        if (text == u"SELECT v FROM sg_pymysql WHERE id = ?")
            select = d;
        else if (text == u"INSERT INTO sg_pymysql VALUES (?, ?), ...")
            insertRows = d;
        else if (text == u"INSERT INTO sg_pymysql VALUES (?, ?)")
            insertRow = d;
    }
    const QByteArray all = QJsonDocument(body).toJson();
    QVERIFY2(!select.isEmpty() && !insertRows.isEmpty() && !insertRow.isEmpty(), all.constData());
    QCOMPARE(select.value("count_star").toInteger(), 3);
    QCOMPARE(select.value("sum_rows_sent").toInteger(), 3);
    QCOMPARE(insertRows.value("sum_rows_affected").toInteger(), 3);
    QCOMPARE(insertRow.value("errors").toInteger(), 1);
    QCOMPARE(select.value("username").toString(), m_env.user);

    // While a `mariadb` client holds the route's one connection, PyMySQL is refused in MySQL's
    // words.
    QByteArray why;
    const std::unique_ptr<Client> holder = holdLimitedRoute(why);
    QVERIFY2(holder, why.constData());
    const QJsonObject refused = python(m_limitedPort, QStringLiteral("connect"));
    QCOMPARE(refused.value("errno").toInt(), 1040);
    // A server's error before the handshake carries no SQLSTATE; PyMySQL reads one anyway and
    // drops the message's first 6 characters ("Too ma"), for a real server's refusal too.
    QVERIFY2(refused.value("message").toString().contains(
                 QLatin1String("connections; refused by Streamgate: limit-conn on route "
                               "mysql-limited")),
             qPrintable(refused.value("message").toString()));
    QVERIFY(QTest::qWaitFor([&] { return !holder->running(); }, 15000));
    QVERIFY2(holder->result().exitCode == 0, holder->result().err.constData());
}

// Database TLS on a MySQL route: the real `mariadb --ssl` client gets its TLS from Streamgate
// (the development CA's certificate, verified with --ssl-verify-server-cert and the exported
// CA), the server gets a plaintext login (its Ssl_cipher is empty), and user, database and
// statements are shown; a client that trusts another CA is refused, and told how to trust.
void tst_MySqlE2E::databaseTlsKeepsInsight()
{
    ClientResult r = tlsClient(m_tlsPort, {QStringLiteral("--ssl")},
                               QStringLiteral("SELECT 'tls', CURRENT_USER(), DATABASE(); SHOW "
                                              "SESSION STATUS LIKE 'Ssl_cipher';"));
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY2(r.out.startsWith("tls\t" + m_env.user.toUtf8()), r.out.constData());
    QVERIFY2(r.out.contains("Ssl_cipher\t\n"), r.out.constData()); // the server leg: plaintext

    QJsonObject connection;
    QTRY_VERIFY_WITH_TIMEOUT(
        !(connection = closedMySqlConnection(QStringLiteral("mysql-tls"))).isEmpty(), 10000);
    const QJsonObject mysql = connection.value("mysql").toObject();
    QCOMPARE(mysql.value("database").toString(), m_env.database);
    QCOMPARE(mysql.value("tls").toBool(true), false); // what the server saw
    const QJsonObject tls = connection.value("tls").toObject();
    QCOMPARE(tls.value("certificate").toString(), QStringLiteral("development_ca"));
    QCOMPARE(tls.value("upstream").toObject(), (QJsonObject{{"tls", false}}));
    QVERIFY2(tls.value("version").toString().startsWith(QLatin1String("TLSv1.")),
             QJsonDocument(tls).toJson().constData());
    QTRY_VERIFY_WITH_TIMEOUT(
        QJsonDocument(
            adminGet(m_adminPort, QStringLiteral("/streamgate/v1/mysql/digests?route=mysql-tls"))
                .object())
            .toJson()
            .contains("SELECT ?, CURRENT_USER"),
        10000);

    // A client that asks for no TLS passes untouched (the greeting's offer is only an offer).
    const ClientResult plain = runClient(m_env, m_tlsPort, QStringLiteral("SELECT 'plain';"));
    QVERIFY2(plain.exitCode == 0, plain.err.constData());
    QCOMPARE(plain.out, QByteArray("plain\n"));

    // Verified against the exported CA.
    const QString ca = m_tmp.filePath(QStringLiteral("dev-ca.pem"));
    QProcess exporter;
    exporter.start(QStringLiteral(SG_STREAMGATE_BIN), {QStringLiteral("--config"), m_configPath,
                                                       QStringLiteral("--export-dev-ca"), ca});
    QVERIFY(exporter.waitForFinished(10000));
    QCOMPARE(exporter.exitCode(), 0);
    r = tlsClient(m_tlsPort,
                  {QStringLiteral("--ssl-verify-server-cert"), QStringLiteral("--ssl-ca=") + ca},
                  QStringLiteral("SELECT 'verified';"));
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QCOMPARE(r.out, QByteArray("verified\n"));

    // Another CA: the client refuses, the event says why and how to trust.
    const QString otherConfig = m_tmp.filePath(QStringLiteral("other/streamgate.json"));
    const QString other = m_tmp.filePath(QStringLiteral("other-ca.pem"));
    QVERIFY(QDir().mkpath(m_tmp.filePath(QStringLiteral("other"))));
    exporter.start(QStringLiteral(SG_STREAMGATE_BIN), {QStringLiteral("--config"), otherConfig,
                                                       QStringLiteral("--export-dev-ca"), other});
    QVERIFY(exporter.waitForFinished(10000));
    QCOMPARE(exporter.exitCode(), 0);
    // The events from here on (the log holds every connection of the tests before).
    const QString since = QString::number(
        adminGet(m_adminPort, QStringLiteral("/streamgate/v1/events?since=0&max=10000"))
            .object()
            .value("last_seq")
            .toInteger());
    r = tlsClient(m_tlsPort,
                  {QStringLiteral("--ssl-verify-server-cert"), QStringLiteral("--ssl-ca=") + other},
                  QStringLiteral("SELECT 1;"));
    QVERIFY(r.exitCode != 0);
    QTRY_VERIFY_WITH_TIMEOUT(
        QJsonDocument(
            adminGet(m_adminPort, QStringLiteral("/streamgate/v1/events?since=") + since).object())
            .toJson()
            .contains("does not trust Streamgate's development CA"),
        10000);
}

ClientResult tst_MySqlE2E::tlsClient(quint16 port, const QStringList& sslArgs,
                                     const QString& sql) const
{
    QStringList args =
        m_env.clientArgs(QStringLiteral("127.0.0.1"), port, m_env.database, m_env.password);
    args.removeAll(QStringLiteral("--skip-ssl"));
    for (qsizetype i = 0; i < sslArgs.size(); ++i)
        args.insert(1 + i, sslArgs[i]); // after --no-defaults, which must come first
    QProcess p;
    p.start(m_env.client, args << QStringLiteral("-e") << sql);
    if (!p.waitForFinished(30000))
        p.kill();
    p.waitForFinished(5000);
    ClientResult r;
    r.finished = true;
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

QJsonObject tst_MySqlE2E::closedMySqlConnection(const QString& route)
{
    const QJsonObject body =
        adminGet(m_adminPort,
                 QStringLiteral("/streamgate/v1/connections?route=%1&closed=true").arg(route))
            .object();
    QJsonObject last;
    for (const QJsonValue& v : body.value("closed").toArray())
        if (v.toObject().value("mysql").toObject().value("user").toString() == m_env.user)
            last = v.toObject();
    return last;
}

// database_server_tls to MariaDB: a user the server admits over TLS only logs in through the
// route, from a client with TLS (the development CA's) and from one without; the server says
// the session is encrypted (Ssl_cipher), the readers still see user and statements, and both
// legs are reported. "verify" checks the server's certificate; "require" to a server that
// offers no TLS is refused with the reason.
void tst_MySqlE2E::databaseServerTlsToMariaDb()
{
    const ClientResult direct = runClient(m_tlsEnv, m_tlsEnv.port, QStringLiteral("SELECT 1;"));
    QVERIFY2(direct.exitCode != 0, "the server let the user in without TLS");

    const QString sql = QStringLiteral("SELECT 'srv', CURRENT_USER(); SHOW SESSION STATUS LIKE "
                                       "'Ssl_cipher';");
    for (const QStringList& ssl :
         {QStringList{QStringLiteral("--ssl")}, QStringList{QStringLiteral("--skip-ssl")}}) {
        const ClientResult r = tlsClient(m_serverTlsPort, ssl, sql);
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY2(r.out.startsWith("srv\t" + m_env.user.toUtf8()), r.out.constData());
        QVERIFY2(r.out.contains("Ssl_cipher\t") && !r.out.contains("Ssl_cipher\t\n"),
                 r.out.constData()); // the server leg is TLS
    }
    QJsonObject connection;
    QTRY_VERIFY_WITH_TIMEOUT(
        !(connection = closedMySqlConnection(QStringLiteral("mysql-srvtls"))).isEmpty(), 10000);
    QCOMPARE(connection.value("mysql").toObject().value("database").toString(), m_env.database);
    QCOMPARE(connection.value("mysql").toObject().value("tls").toBool(), true);
    QJsonObject upstream = connection.value("tls").toObject().value("upstream").toObject();
    QCOMPARE(upstream.value("tls").toBool(), true);
    QCOMPARE(upstream.value("verified").toBool(true), false);
    QVERIFY2(upstream.value("version").toString().startsWith(QLatin1String("TLSv1.")),
             QJsonDocument(upstream).toJson().constData());
    QTRY_VERIFY_WITH_TIMEOUT(
        QJsonDocument(
            adminGet(m_adminPort, QStringLiteral("/streamgate/v1/mysql/digests?route=mysql-srvtls"))
                .object())
            .toJson()
            .contains("SELECT ?, CURRENT_USER"),
        10000);

    const ClientResult verified =
        tlsClient(m_serverVerifyPort, {QStringLiteral("--ssl")}, QStringLiteral("SELECT 'v';"));
    QVERIFY2(verified.exitCode == 0, verified.err.constData());
    QTRY_VERIFY_WITH_TIMEOUT(
        !(connection = closedMySqlConnection(QStringLiteral("mysql-srvverify"))).isEmpty(), 10000);
    upstream = connection.value("tls").toObject().value("upstream").toObject();
    QCOMPARE(upstream.value("verified").toBool(), true);

    const ClientResult refused =
        tlsClient(m_serverNoTlsPort, {QStringLiteral("--ssl")}, QStringLiteral("SELECT 1;"));
    QVERIFY(refused.exitCode != 0);
    const auto lastReason = [this] {
        const QJsonArray closed =
            adminGet(m_adminPort,
                     QStringLiteral("/streamgate/v1/connections?route=mysql-srvnotls&closed=true"))
                .object()
                .value("closed")
                .toArray();
        return closed.isEmpty() ? QString()
                                : closed.last().toObject().value("close_reason").toString();
    };
    QTRY_COMPARE_WITH_TIMEOUT(lastReason(), QStringLiteral("upstream offers no TLS"), 10000);
    QVERIFY(QJsonDocument(
                adminGet(m_adminPort, QStringLiteral("/streamgate/v1/events?since=0&max=10000"))
                    .object())
                .toJson()
                .contains("the server does not offer TLS"));
}

QTEST_GUILESS_MAIN(tst_MySqlE2E)
#include "tst_mysqle2e.moc"
