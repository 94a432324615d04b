// A stream route in front of a real PostgreSQL server the test starts (initdb + postgres from
// Debian's postgresql package, trust authentication on loopback), through `streamgate
// --headless`, driven by the real `psql` and `pgbench`: the simple protocol (psql) and the
// extended one with prepared statements (pgbench -M prepared). The connection shows the user,
// database, application and the statement running now; the route's digests count what the
// clients did under ProxySQL's stats_pgsql_query_digest names; errors are kept by SQLSTATE;
// a failed login is shown on its connection; a route without postgres_digests shows the login
// but follows no statement; the Prometheus histogram counts the commands; a session the
// server encrypts is shown as TLS and not read; a route with database_tls answers psql's TLS
// itself with the development CA's certificate (sslmode=require, and verify-full with the
// exported CA), so user, database and statements stay visible, and a client that does not
// trust that CA is refused with a reason saying how to trust it. With database_server_tls,
// Streamgate speaks TLS to the server too: a role the server lets in only over TLS (hostssl)
// logs in through it and pg_stat_ssl says the session is encrypted, while the readers still see
// user and statements; "verify" checks the server's certificate (a node address it does not
// name is refused); against a second server without ssl, "require" is refused with the reason
// and "prefer" goes on in plaintext.
#include "streamgateprocess.h"
#include "testfiles.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>
#include <pwd.h>
#include <unistd.h>

using namespace sgtest;

namespace {

struct Run
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

// The newest server Debian installed: /usr/lib/postgresql/<version>/bin.
QString postgresBin()
{
    QDir dir(QStringLiteral("/usr/lib/postgresql"));
    QStringList versions = dir.entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    std::sort(versions.begin(), versions.end(),
              [](const QString& a, const QString& b) { return a.toInt() < b.toInt(); });
    for (auto it = versions.crbegin(); it != versions.crend(); ++it) {
        const QString bin = dir.filePath(*it + QStringLiteral("/bin"));
        if (QFile::exists(bin + QStringLiteral("/initdb")))
            return bin;
    }
    return {};
}

} // namespace

class TestPostgresE2e : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_bin;
    QString m_data;
    QProcess m_server;
    int m_serverPort = 0;
    QString m_plainData; // a copy of the cluster, served without ssl
    QProcess m_plainServer;
    int m_plainServerPort = 0;
    int m_port = 0;      // route "1": digests on
    int m_plainPort = 0; // route "2": inspection only
    int m_metricsPort = 0;
    int m_tlsPort = 0; // route "3": database_tls and digests
    // routes with database_tls and database_server_tls: "4" require, "5" verify, "6" verify of
    // a node address the certificate does not name, "7" require and "8" prefer to the server
    // without ssl
    QMap<QString, int> m_serverTlsPorts;
    StreamgateProcess m_sg;
    QNetworkAccessManager m_network;

    // The server refuses to run as root: as root, it runs as the postgres user.
    QStringList asServerUser(const QString& program, const QStringList& args) const
    {
        if (::geteuid() != 0)
            return QStringList{program} << args;
        return QStringList{QStringLiteral("runuser"), QStringLiteral("-u"),
                           QStringLiteral("postgres"), QStringLiteral("--"), program}
               << args;
    }

    Run run(const QString& program, const QStringList& args, const QStringList& env = {},
            int timeoutMs = 60000)
    {
        QProcess p;
        QProcessEnvironment e = QProcessEnvironment::systemEnvironment();
        e.insert(QStringLiteral("PGCONNECT_TIMEOUT"), QStringLiteral("10"));
        e.insert(QStringLiteral("PGSSLMODE"), QStringLiteral("disable")); // the server offers TLS
        for (const QString& kv : env)
            e.insert(kv.section(QLatin1Char('='), 0, 0), kv.section(QLatin1Char('='), 1));
        p.setProcessEnvironment(e);
        p.start(program, args);
        Run r;
        if (!p.waitForStarted(10000))
            return r;
        p.closeWriteChannel();
        if (!p.waitForFinished(timeoutMs)) {
            p.kill();
            p.waitForFinished(5000);
        }
        r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
        r.out = p.readAllStandardOutput();
        r.err = p.readAllStandardError();
        return r;
    }

    Run psql(int port, const QString& sql, const QString& user = QStringLiteral("postgres"),
             const QString& application = QStringLiteral("e2e"),
             const QString& sslMode = QStringLiteral("disable"))
    {
        return run(
            m_bin + QStringLiteral("/psql"),
            {"-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p",
             QString::number(port), "-U", user, "-d", "postgres", "-c", sql},
            {QStringLiteral("PGAPPNAME=") + application, QStringLiteral("PGSSLMODE=") + sslMode});
    }

    QJsonObject adminJson(const QString& path) { return m_sg.get(path).json; }

    // psql on a connection string (its sslmode and sslrootcert win over the environment).
    Run psqlConnect(const QString& conninfo, const QString& sql)
    {
        return run(m_bin + QStringLiteral("/psql"),
                   {"-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql, conninfo});
    }

    QString tlsConninfo(const QString& extra, int port = 0) const
    {
        return QStringLiteral("host=127.0.0.1 port=%1 user=postgres dbname=postgres %2")
            .arg(port ? port : m_tlsPort)
            .arg(extra);
    }

    // The ended connection whose PostgreSQL application is `application`, once it is there.
    QJsonObject closedConnectionOf(const QString& application)
    {
        QJsonObject connection;
        (void)QTest::qWaitFor(
            [&] {
                connection = findConnection(
                    [&](const QJsonObject& p) {
                        return p.value("application_name").toString() == application;
                    },
                    true);
                return !connection.isEmpty();
            },
            10000);
        return connection;
    }

    // The last ended connection of a route.
    QJsonObject lastClosedOn(const QString& route)
    {
        const QJsonObject body =
            adminJson(QStringLiteral("/streamgate/v1/connections?closed=true"));
        QJsonObject last;
        for (const QJsonValue& v : body.value(QStringLiteral("closed")).toArray())
            if (v.toObject().value(QStringLiteral("route_id")).toString() == route)
                last = v.toObject();
        return last;
    }

    // psql (sslmode=require) through a route with database_server_tls as `application`: its
    // ended connection once the server said `ssl` ("t", "f") of the session in pg_stat_ssl;
    // empty otherwise.
    QJsonObject serverLegSession(const QString& route, const QString& application,
                                 const QByteArray& ssl)
    {
        const Run r = psqlConnect(
            tlsConninfo(QStringLiteral("sslmode=require application_name=") + application,
                        m_serverTlsPorts.value(route)),
            QStringLiteral("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"));
        if (r.exitCode != 0 || r.out != ssl + '\n') {
            qWarning("psql through route %s: exit %d, out %s, err %s", qPrintable(route),
                     r.exitCode, r.out.constData(), r.err.constData());
            return {};
        }
        return closedConnectionOf(application);
    }

    // psql through a route with database_server_tls is refused before its login: the session
    // ends with `reason`, and an event says `why`.
    void serverLegRefused(const QString& route, const QString& reason, const QByteArray& why)
    {
        const Run refused = psqlConnect(
            tlsConninfo(QStringLiteral("sslmode=require"), m_serverTlsPorts.value(route)),
            QStringLiteral("SELECT 1"));
        QVERIFY(refused.exitCode != 0);
        QTRY_COMPARE_WITH_TIMEOUT(lastClosedOn(route).value("close_reason").toString(), reason,
                                  10000);
        QVERIFY2(eventMessages().contains(why), eventMessages().right(2000).constData());
    }

    // pg_ctl's fast shutdown: the server ends its sessions and stops by itself.
    void stopServer(QProcess& server, const QString& data)
    {
        if (server.state() == QProcess::NotRunning)
            return;
        const QStringList stop = asServerUser(m_bin + QStringLiteral("/pg_ctl"),
                                              {"-D", data, "-m", "fast", "-w", "stop"});
        run(stop.first(), stop.mid(1), {}, 30000);
        if (!server.waitForFinished(20000))
            stopProcess(server);
    }

    QStringList serverArgs(const QString& data, int port) const
    {
        return {"-D", data,         "-p", QString::number(port),
                "-k", m_dir.path(), "-c", "listen_addresses=127.0.0.1,127.0.0.2",
                "-c", "fsync=off",  "-c", "max_connections=40"};
    }

    // The development CA's certificate, as the admin API gives it, in a file.
    QString exportedCa()
    {
        const HttpAnswer a = m_sg.get(QStringLiteral("/streamgate/v1/development_ca"));
        if (a.status != 200 || !a.body.startsWith("-----BEGIN CERTIFICATE-----"))
            return {};
        const QString file = m_dir.filePath(QStringLiteral("exported-ca.pem"));
        return writeFile(file, a.body) ? file : QString();
    }

    QByteArray eventMessages()
    {
        QStringList messages;
        const QJsonObject body = adminJson(QStringLiteral("/streamgate/v1/events?since=0"));
        for (const QJsonValue& v : body.value(QStringLiteral("list")).toArray())
            messages << v.toObject().value(QStringLiteral("text")).toString();
        return messages.join(QLatin1Char('\n')).toUtf8();
    }

    // The connections (open, and with `closed` the ended ones) whose "postgres" object
    // satisfies `match`.
    QJsonObject findConnection(const std::function<bool(const QJsonObject&)>& match,
                               bool closed = false)
    {
        const QJsonObject body =
            adminJson(closed ? QStringLiteral("/streamgate/v1/connections?closed=true")
                             : QStringLiteral("/streamgate/v1/connections"));
        for (const QString& key : {QStringLiteral("list"), QStringLiteral("closed")}) {
            for (const QJsonValue& v : body.value(key).toArray()) {
                const QJsonObject pg = v.toObject().value(QStringLiteral("postgres")).toObject();
                if (!pg.isEmpty() && match(pg))
                    return v.toObject();
            }
        }
        return {};
    }

    QJsonObject digestNamed(const QString& text)
    {
        const QJsonObject body =
            adminJson(QStringLiteral("/streamgate/v1/postgres/digests?route=1"));
        for (const QJsonValue& v : body.value(QStringLiteral("list")).toArray())
            if (v.toObject().value(QStringLiteral("digest_text")).toString() == text)
                return v.toObject();
        return {};
    }

    // The route's digest texts, for a failure's message.
    QByteArray digestTexts(const QString& route = QStringLiteral("1"))
    {
        QStringList texts;
        const QJsonObject body =
            adminJson(QStringLiteral("/streamgate/v1/postgres/digests?route=") + route);
        for (const QJsonValue& v : body.value(QStringLiteral("list")).toArray())
            texts << v.toObject().value(QStringLiteral("digest_text")).toString();
        return texts.join(QStringLiteral(" | ")).toUtf8();
    }

    QByteArray metrics()
    {
        return request(m_network, "GET",
                       QUrl(QStringLiteral("http://127.0.0.1:%1/apisix/prometheus/metrics")
                                .arg(m_metricsPort)))
            .body;
    }

    HttpAnswer putRoute(const QString& id, int port, const QString& node = QString())
    {
        const QJsonObject route{
            {"server_port", port},
            {"upstream",
             QJsonObject{
                 {"type", "roundrobin"},
                 {"nodes",
                  QJsonObject{
                      {node.isEmpty() ? QStringLiteral("127.0.0.1:%1").arg(m_serverPort) : node,
                       1}}}}}};
        return m_sg.call("PUT", QStringLiteral("/apisix/admin/stream_routes/") + id,
                         QJsonDocument(route).toJson(QJsonDocument::Compact));
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_bin = postgresBin();
        QVERIFY2(!m_bin.isEmpty(), "no PostgreSQL server in /usr/lib/postgresql (Debian package "
                                   "postgresql)");
        if (::geteuid() == 0) {
            const passwd* pw = ::getpwnam("postgres");
            QVERIFY2(pw, "no postgres user to run the server as");
            QVERIFY(::chown(QFile::encodeName(m_dir.path()).constData(), pw->pw_uid, pw->pw_gid) ==
                    0);
        }
        m_data = m_dir.filePath(QStringLiteral("data"));
        const QStringList initdb = asServerUser(m_bin + QStringLiteral("/initdb"),
                                                {"-D", m_data, "-U", "postgres", "-A", "trust",
                                                 "-E", "UTF8", "--locale=C", "--no-sync"});
        const Run init = run(initdb.first(), initdb.mid(1), {}, 120000);
        QVERIFY2(init.exitCode == 0, init.err.constData());
        // A certificate, so that the server accepts a client's SSLRequest; it names 127.0.0.1
        // only, so database_server_tls "verify" of 127.0.0.2 fails.
        const QString cert = m_dir.filePath(QStringLiteral("server.crt"));
        const QString key = m_dir.filePath(QStringLiteral("server.key"));
        const QStringList req = asServerUser(
            QStringLiteral("openssl"),
            {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-subj",
             "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-days", "2"});
        const Run made = run(req.first(), req.mid(1));
        QVERIFY2(made.exitCode == 0, made.err.constData());
        // The role "tlsonly" may log in over TLS only (pg_hba hostssl), as a server that
        // requires TLS.
        const QString hba = m_dir.filePath(QStringLiteral("pg_hba.conf"));
        QVERIFY(writeFile(hba, "local all all trust\n"
                               "hostnossl all tlsonly 0.0.0.0/0 reject\n"
                               "host all all 127.0.0.0/8 trust\n"));
        if (::geteuid() == 0) {
            const passwd* pw = ::getpwnam("postgres");
            QVERIFY(::chown(QFile::encodeName(hba).constData(), pw->pw_uid, pw->pw_gid) == 0);
        }
        // The same cluster without ssl, for "require" refused and "prefer" in plaintext.
        m_plainData = m_dir.filePath(QStringLiteral("plain"));
        const QStringList copy = asServerUser(QStringLiteral("cp"), {"-a", m_data, m_plainData});
        const Run copied = run(copy.first(), copy.mid(1));
        QVERIFY2(copied.exitCode == 0, copied.err.constData());

        const QList<int> ports = freePorts(11);
        QCOMPARE(ports.size(), 11);
        m_serverPort = ports[0];
        m_port = ports[1];
        m_plainPort = ports[2];
        m_metricsPort = ports[3];
        m_tlsPort = ports[4];
        m_plainServerPort = ports[5];
        for (int i = 4; i <= 8; ++i)
            m_serverTlsPorts.insert(QString::number(i), ports[2 + i]);
        const QStringList server =
            asServerUser(m_bin + QStringLiteral("/postgres"), serverArgs(m_data, m_serverPort)
                                                                  << "-c"
                                                                  << "ssl=on"
                                                                  << "-c"
                                                                  << "ssl_cert_file=" + cert << "-c"
                                                                  << "ssl_key_file=" + key << "-c"
                                                                  << "hba_file=" + hba);
        m_server.setProcessChannelMode(QProcess::MergedChannels);
        m_server.start(server.first(), server.mid(1));
        QVERIFY2(m_server.waitForStarted(10000), "the PostgreSQL server did not start");
        const QStringList plainServer =
            asServerUser(m_bin + QStringLiteral("/postgres"),
                         serverArgs(m_plainData, m_plainServerPort) << "-c"
                                                                    << "ssl=off");
        m_plainServer.setProcessChannelMode(QProcess::MergedChannels);
        m_plainServer.start(plainServer.first(), plainServer.mid(1));
        QVERIFY2(m_plainServer.waitForStarted(10000), "the second PostgreSQL server did not start");
        QTRY_VERIFY2_WITH_TIMEOUT(psql(m_serverPort, QStringLiteral("SELECT 1")).out == "1\n",
                                  m_server.readAll().constData(), 30000);
        QTRY_VERIFY2_WITH_TIMEOUT(psql(m_plainServerPort, QStringLiteral("SELECT 1")).out == "1\n",
                                  m_plainServer.readAll().constData(), 30000);
        QCOMPARE(psql(m_serverPort, QStringLiteral("CREATE ROLE tlsonly LOGIN")).exitCode, 0);

        QJsonArray listeners{QStringLiteral("127.0.0.1:%1").arg(m_port),
                             QStringLiteral("127.0.0.1:%1").arg(m_plainPort),
                             QStringLiteral("127.0.0.1:%1").arg(m_tlsPort)};
        QJsonObject routeSettings{
            {"1", QJsonObject{{"postgres_digests", true}}},
            {"3", QJsonObject{{"postgres_digests", true}, {"database_tls", true}}}};
        const QMap<QString, QString> serverTls{
            {"4", "require"}, {"5", "verify"}, {"6", "verify"}, {"7", "require"}, {"8", "prefer"}};
        for (auto it = serverTls.begin(); it != serverTls.end(); ++it) {
            listeners.append(QStringLiteral("127.0.0.1:%1").arg(m_serverTlsPorts.value(it.key())));
            routeSettings.insert(it.key(), QJsonObject{{"postgres_digests", true},
                                                       {"database_tls", true},
                                                       {"database_server_tls", it.value()}});
        }
        const QJsonObject config{
            {"stream_proxy", QJsonObject{{"tcp", listeners}}},
            {"streamgate",
             QJsonObject{
                 {"prometheus",
                  QJsonObject{{"listen", QStringLiteral("127.0.0.1:%1").arg(m_metricsPort)}}},
                 // The server's own certificate is the CA "verify" trusts.
                 {"ssl_trusted_certificate", cert},
                 {"routes", routeSettings}}}};
        const QString path = m_dir.filePath(QStringLiteral("streamgate.json"));
        QVERIFY(writeFile(path, QJsonDocument(config).toJson()));
        QVERIFY(m_sg.start(path, true));
        QVERIFY2(m_sg.waitForAdmin(), m_sg.readOutput().constData());
        HttpAnswer a = putRoute(QStringLiteral("1"), m_port);
        QVERIFY2(a.status == 201 || a.status == 200, a.body.constData());
        a = putRoute(QStringLiteral("2"), m_plainPort);
        QVERIFY2(a.status == 201 || a.status == 200, a.body.constData());
        a = putRoute(QStringLiteral("3"), m_tlsPort);
        QVERIFY2(a.status == 201 || a.status == 200, a.body.constData());
        const QMap<QString, QString> nodes{
            {"4", QStringLiteral("127.0.0.1:%1").arg(m_serverPort)},
            {"5", QStringLiteral("127.0.0.1:%1").arg(m_serverPort)},
            {"6", QStringLiteral("127.0.0.2:%1").arg(m_serverPort)},
            {"7", QStringLiteral("127.0.0.1:%1").arg(m_plainServerPort)},
            {"8", QStringLiteral("127.0.0.1:%1").arg(m_plainServerPort)}};
        for (auto it = nodes.begin(); it != nodes.end(); ++it) {
            a = putRoute(it.key(), m_serverTlsPorts.value(it.key()), it.value());
            QVERIFY2(a.status == 201 || a.status == 200, a.body.constData());
        }
        QTRY_VERIFY_WITH_TIMEOUT(psql(m_port, QStringLiteral("SELECT 1")).out == "1\n", 10000);
    }

    void cleanupTestCase()
    {
        m_sg.stop();
        stopServer(m_plainServer, m_plainData);
        stopServer(m_server, m_data);
    }

    // A statement through the route is answered as the server answers it, and the live
    // connection names the user, the database, the application and what runs now.
    void connectionShowsTheSession()
    {
        QCOMPARE(psql(m_port, QStringLiteral("SELECT 40 + 2")).out, QByteArray("42\n"));
        const QByteArray version =
            psql(m_serverPort, QStringLiteral("SHOW server_version")).out.trimmed();
        QVERIFY(!version.isEmpty());

        QProcess sleeper;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("PGAPPNAME"), QStringLiteral("e2e-sleeper"));
        env.insert(QStringLiteral("PGSSLMODE"), QStringLiteral("disable"));
        sleeper.setProcessEnvironment(env);
        sleeper.start(m_bin + QStringLiteral("/psql"),
                      {"-X", "-h", "127.0.0.1", "-p", QString::number(m_port), "-U", "postgres",
                       "-d", "postgres", "-c", "SELECT pg_sleep(3)"});
        QVERIFY(sleeper.waitForStarted(10000));
        QJsonObject pg;
        QTRY_VERIFY_WITH_TIMEOUT(
            !(pg = findConnection([](const QJsonObject& p) {
                       return p.value("statement").toString().contains(QLatin1String("pg_sleep"));
                   })
                       .value("postgres")
                       .toObject())
                 .isEmpty(),
            10000);
        QVERIFY(sleeper.state() == QProcess::Running); // seen live, not after the end
        QCOMPARE(pg.value("user").toString(), QStringLiteral("postgres"));
        QCOMPARE(pg.value("database").toString(), QStringLiteral("postgres"));
        QCOMPARE(pg.value("application_name").toString(), QStringLiteral("e2e-sleeper"));
        QCOMPARE(pg.value("server_version").toString().toUtf8(), version);
        QCOMPARE(pg.value("tls").toBool(true), false);
        QCOMPARE(pg.value("statement").toString(), QStringLiteral("SELECT pg_sleep(3)"));
        QVERIFY(pg.value("statement_since_ms").toInteger() > 0);
        QVERIFY(sleeper.waitForFinished(20000));
        QCOMPARE(sleeper.exitCode(), 0);
    }

    // Statements that differ only in their literals are one digest, with ProxySQL's fields;
    // an error is counted on its digest and kept by its SQLSTATE.
    void digestsAndErrors()
    {
        const QString digests = QStringLiteral("/streamgate/v1/postgres/digests?route=1");
        QCOMPARE(m_sg.call("DELETE", digests).json.value("deleted").toString(),
                 QStringLiteral("digests"));
        QCOMPARE(
            m_sg.call("DELETE", QStringLiteral("/streamgate/v1/postgres/errors?route=1")).status,
            200);
        QCOMPARE(psql(m_port, "CREATE TABLE IF NOT EXISTS items (id int, name text)").exitCode, 0);
        QCOMPARE(
            psql(m_port, "INSERT INTO items VALUES (1, 'one'), (2, 'two'), (3, 'three')").exitCode,
            0);
        QCOMPARE(psql(m_port, "SELECT name FROM items WHERE id = 1").out, QByteArray("one\n"));
        QCOMPARE(psql(m_port, "SELECT name FROM items WHERE id = 2").out, QByteArray("two\n"));
        QCOMPARE(psql(m_port, "SELECT  name /* the third */ FROM items\n WHERE id = 3").out,
                 QByteArray("three\n"));
        const Run missing = psql(m_port, "SELECT * FROM no_such_table");
        QVERIFY(missing.exitCode != 0);
        QVERIFY2(missing.err.contains("no_such_table"), missing.err.constData());

        const QJsonObject body = adminJson(digests);
        QCOMPARE(body.value("route_id").toString(), QStringLiteral("1"));
        QCOMPARE(body.value("recording").toBool(), true);
        const QJsonObject select =
            digestNamed(QStringLiteral("SELECT name FROM items WHERE id = ?"));
        QVERIFY2(!select.isEmpty(), digestTexts().constData());
        QCOMPARE(select.value("count_star").toInt(), 3);
        QCOMPARE(select.value("sum_rows_sent").toInt(), 3);
        QCOMPARE(select.value("database").toString(), QStringLiteral("postgres"));
        QCOMPARE(select.value("username").toString(), QStringLiteral("postgres"));
        QCOMPARE(select.value("client_address").toString(), QStringLiteral("127.0.0.1"));
        QVERIFY(select.value("digest").toString().startsWith(QLatin1String("0x")));
        QVERIFY(select.value("sum_time").toInteger() >= select.value("max_time").toInteger());
        QVERIFY(select.value("min_time").toInteger() > 0);
        QVERIFY(select.value("schemaname").isUndefined()); // MySQL's name for it
        const QJsonObject insert =
            digestNamed(QStringLiteral("INSERT INTO items VALUES (?, ?), ..."));
        QVERIFY2(!insert.isEmpty(), digestTexts().constData());
        QCOMPARE(insert.value("sum_rows_affected").toInt(), 3);
        const QJsonObject failed = digestNamed(QStringLiteral("SELECT * FROM no_such_table"));
        QCOMPARE(failed.value("errors").toInt(), 1);

        const QJsonObject errors =
            adminJson(QStringLiteral("/streamgate/v1/postgres/errors?route=1"));
        const QJsonArray list = errors.value("list").toArray();
        QCOMPARE(list.size(), 1);
        const QJsonObject error = list.first().toObject();
        QCOMPARE(error.value("sqlstate").toString(), QStringLiteral("42P01"));
        QCOMPARE(error.value("count_star").toInt(), 1);
        QVERIFY(error.value("last_error").toString().contains(QLatin1String("no_such_table")));
        QVERIFY(error.value("errno").isUndefined());

        const QByteArray m = metrics();
        QVERIFY(
            metricSample(
                m,
                R"(streamgate_postgres_command_duration_seconds_count{route="1",command="Query"})") >=
            6);
        QVERIFY(metricSample(
                    m, R"(streamgate_postgres_command_errors_total{route="1",command="Query"})") >=
                1);
    }

    // pgbench with prepared statements: the extended protocol, each Execute a command under
    // the text its statement was prepared with.
    void preparedStatements()
    {
        const QString pgbench = m_bin + QStringLiteral("/pgbench");
        const QStringList connect{"-h", "127.0.0.1", "-p", QString::number(m_port),
                                  "-U", "postgres"};
        Run init = run(pgbench, QStringList{"-i", "-s", "1", "-q"} << connect << "postgres");
        QVERIFY2(init.exitCode == 0, init.err.constData());
        const QString digests = QStringLiteral("/streamgate/v1/postgres/digests?route=1");
        QCOMPARE(m_sg.call("DELETE", digests).status, 200);
        Run bench = run(pgbench, QStringList{"-M", "prepared", "-S", "-t", "200", "-c", "2"}
                                     << connect << "postgres");
        QVERIFY2(bench.exitCode == 0, bench.err.constData());
        QVERIFY2(bench.out.contains("number of transactions actually processed: 400/400"),
                 bench.out.constData());
        const QJsonObject select =
            digestNamed(QStringLiteral("SELECT abalance FROM pgbench_accounts WHERE aid = ?"));
        QVERIFY2(!select.isEmpty(), digestTexts().constData());
        QCOMPARE(select.value("count_star").toInt(), 400);
        QCOMPARE(select.value("sum_rows_sent").toInt(), 400);
        const QByteArray m = metrics();
        QVERIFY(
            metricSample(
                m,
                R"(streamgate_postgres_command_duration_seconds_count{route="1",command="Execute"})") >=
            400);
    }

    // A login the server refuses is shown, with its SQLSTATE, on the connection it ended.
    void failedLogin()
    {
        const Run r = psql(m_port, QStringLiteral("SELECT 1"), QStringLiteral("nobody_here"));
        QVERIFY(r.exitCode != 0);
        QJsonObject pg;
        QTRY_VERIFY_WITH_TIMEOUT(!(pg = findConnection(
                                            [](const QJsonObject& p) {
                                                return p.value("user").toString() ==
                                                       QLatin1String("nobody_here");
                                            },
                                            true)
                                            .value("postgres")
                                            .toObject())
                                      .isEmpty(),
                                 10000);
        QVERIFY2(pg.value("login_error").toString().startsWith(QLatin1String("28000: ")),
                 QJsonDocument(pg).toJson().constData());
        QVERIFY(pg.value("login_error").toString().contains(QLatin1String("nobody_here")));
    }

    // Without postgres_digests the login is shown, no statement is followed, nothing is
    // recorded in the route's digests.
    void inspectionOnly()
    {
        QProcess sleeper;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("PGSSLMODE"), QStringLiteral("disable"));
        sleeper.setProcessEnvironment(env);
        sleeper.start(m_bin + QStringLiteral("/psql"),
                      {"-X", "-h", "127.0.0.1", "-p", QString::number(m_plainPort), "-U",
                       "postgres", "-d", "template1", "-c", "SELECT pg_sleep(2)"});
        QVERIFY(sleeper.waitForStarted(10000));
        QJsonObject pg;
        QTRY_VERIFY_WITH_TIMEOUT(!(pg = findConnection([](const QJsonObject& p) {
                                            return p.value("database").toString() ==
                                                       QLatin1String("template1") &&
                                                   !p.value("server_version").toString().isEmpty();
                                        })
                                            .value("postgres")
                                            .toObject())
                                      .isEmpty(),
                                 10000);
        QVERIFY(pg.value("statement").isUndefined());
        QVERIFY(pg.value("commands").isUndefined());
        QVERIFY(sleeper.waitForFinished(20000));
        QCOMPARE(sleeper.exitCode(), 0);
        const QJsonObject body =
            adminJson(QStringLiteral("/streamgate/v1/postgres/digests?route=2"));
        QCOMPARE(body.value("recording").toBool(true), false);
        QCOMPARE(body.value("total").toInt(-1), 0);
    }

    // A client that asks for TLS, and a server that accepts: the session is shown as TLS and
    // not read (nothing after the request is visible); the query works as without Streamgate.
    void tlsSessionIsShownNotRead()
    {
        const Run r =
            psql(m_port,
                 QStringLiteral("SELECT ssl FROM pg_stat_ssl WHERE pid = "
                                "pg_backend_pid()"),
                 QStringLiteral("postgres"), QStringLiteral("e2e-tls"), QStringLiteral("require"));
        QCOMPARE(r.out, QByteArray("t\n"));
        QJsonObject pg;
        QTRY_VERIFY_WITH_TIMEOUT(
            !(pg =
                  findConnection([](const QJsonObject& p) { return p.value("tls").toBool(); }, true)
                      .value("postgres")
                      .toObject())
                 .isEmpty(),
            10000);
        QCOMPARE(pg.value("not_followed").toString(), QStringLiteral("encrypted (TLS)"));
        QCOMPARE(pg.value("user").toString(), QString()); // sent inside TLS
        QVERIFY(pg.value("statement").isUndefined());
    }

    // psql with sslmode=require through a route with database_tls: Streamgate answers the TLS
    // with its development CA, the server gets plaintext, and user, database, application and
    // statements are read as without TLS.
    void databaseTlsKeepsInsight()
    {
        const Run r = psqlConnect(tlsConninfo(QStringLiteral("sslmode=require "
                                                             "application_name=e2e-dbtls")),
                                  QStringLiteral("SELECT ssl FROM pg_stat_ssl WHERE pid = "
                                                 "pg_backend_pid()"));
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QCOMPARE(r.out, QByteArray("f\n")); // the server leg is plaintext
        const QJsonObject connection = closedConnectionOf(QStringLiteral("e2e-dbtls"));
        QVERIFY(!connection.isEmpty());
        const QJsonObject pg = connection.value("postgres").toObject();
        QCOMPARE(pg.value("user").toString(), QStringLiteral("postgres"));
        QCOMPARE(pg.value("database").toString(), QStringLiteral("postgres"));
        QCOMPARE(pg.value("tls").toBool(true), false); // what the server saw
        const QJsonObject tls = connection.value("tls").toObject();
        QCOMPARE(tls.value("certificate").toString(), QStringLiteral("development_ca"));
        QCOMPARE(tls.value("upstream").toObject(), (QJsonObject{{"tls", false}}));
        QVERIFY2(tls.value("version").toString().startsWith(u"TLSv1."),
                 QJsonDocument(tls).toJson().constData());
        QCOMPARE(connection.value("route_id").toString(), QStringLiteral("3"));
        QTRY_VERIFY2_WITH_TIMEOUT(
            adminJson(QStringLiteral("/streamgate/v1/postgres/digests?route=3"))
                    .value("list")
                    .toArray()
                    .size() > 0,
            digestTexts(QStringLiteral("3")).constData(), 10000);
        QVERIFY2(digestTexts(QStringLiteral("3")).contains("pg_stat_ssl"),
                 digestTexts(QStringLiteral("3")).constData());
    }

    // verify-full with the exported CA: the certificate names 127.0.0.1 and chains to the CA
    // the admin API and --export-dev-ca give (the same one).
    void databaseTlsVerifiedWithExportedCa()
    {
        const QString ca = exportedCa();
        QVERIFY(!ca.isEmpty());
        const Run r = psqlConnect(tlsConninfo(QStringLiteral("sslmode=verify-full sslrootcert=") +
                                              ca + QStringLiteral(" application_name=e2e-verify")),
                                  QStringLiteral("SELECT 'verified ' || current_user"));
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QCOMPARE(r.out, QByteArray("verified postgres\n"));
        QTRY_VERIFY_WITH_TIMEOUT(!findConnection(
                                      [](const QJsonObject& p) {
                                          return p.value("application_name").toString() ==
                                                     u"e2e-verify" &&
                                                 p.value("user").toString() == u"postgres";
                                      },
                                      true)
                                      .isEmpty(),
                                 10000);

        const QString cli = m_dir.filePath(QStringLiteral("cli-ca.pem"));
        const Run exported = run(QStringLiteral(STREAMGATE_BINARY),
                                 {"--config", m_dir.filePath(QStringLiteral("streamgate.json")),
                                  "--export-dev-ca", cli});
        QVERIFY2(exported.exitCode == 0, exported.err.constData());
        QFile a(ca), b(cli);
        QVERIFY(a.open(QIODevice::ReadOnly) && b.open(QIODevice::ReadOnly));
        QCOMPARE(b.readAll(), a.readAll());
        // The CA's key stays private, beside the config.
        const QFileInfo key(m_dir.filePath(QStringLiteral("development-ca/ca.key")));
        QVERIFY(key.exists());
        QCOMPARE(key.permissions() &
                     (QFile::ReadGroup | QFile::ReadOther | QFile::WriteGroup | QFile::WriteOther),
                 QFile::Permissions());
    }

    // A client that verifies against another CA refuses the certificate: the refusal says the
    // client does not trust the development CA and how to trust it.
    void databaseTlsUntrustedClientIsTold()
    {
        const Run r = psqlConnect(tlsConninfo(QStringLiteral("sslmode=verify-ca sslrootcert=") +
                                              m_dir.filePath(QStringLiteral("server.crt"))),
                                  QStringLiteral("SELECT 1"));
        QVERIFY(r.exitCode != 0);
        QVERIFY2(r.err.contains("certificate verify failed"), r.err.constData());
        QTRY_VERIFY2_WITH_TIMEOUT(
            eventMessages().contains("does not trust Streamgate's development CA"),
            eventMessages().right(2000).constData(), 10000);
        QVERIFY(eventMessages().contains("--export-dev-ca"));
    }

    // database_server_tls "require": a role the server admits over TLS only logs in through the
    // route, the server says the session is encrypted, and the readers still see the user, the
    // database and the statement (digests); both legs are reported.
    void databaseServerTlsReachesServerThatRequiresIt()
    {
        const Run direct =
            psql(m_serverPort, QStringLiteral("SELECT 1"), QStringLiteral("tlsonly"));
        QVERIFY2(direct.exitCode != 0, "the server let tlsonly in without TLS");
        QVERIFY2(direct.err.contains("no encryption") || direct.err.contains("SSL off"),
                 direct.err.constData());

        const Run r = psqlConnect(QStringLiteral("host=127.0.0.1 port=%1 user=tlsonly "
                                                 "dbname=postgres sslmode=require "
                                                 "application_name=e2e-servertls")
                                      .arg(m_serverTlsPorts.value("4")),
                                  QStringLiteral("SELECT ssl, version FROM pg_stat_ssl WHERE pid "
                                                 "= pg_backend_pid()"));
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY2(r.out.startsWith("t|TLSv1."), r.out.constData()); // what the server saw
        const QJsonObject connection = closedConnectionOf(QStringLiteral("e2e-servertls"));
        QVERIFY(!connection.isEmpty());
        const QJsonObject pg = connection.value("postgres").toObject();
        QCOMPARE(pg.value("user").toString(), QStringLiteral("tlsonly"));
        QCOMPARE(pg.value("database").toString(), QStringLiteral("postgres"));
        QCOMPARE(pg.value("tls").toBool(), true);
        const QJsonObject tls = connection.value("tls").toObject();
        QCOMPARE(tls.value("certificate").toString(), QStringLiteral("development_ca"));
        const QJsonObject upstream = tls.value("upstream").toObject();
        QCOMPARE(upstream.value("tls").toBool(), true);
        QVERIFY2(upstream.value("version").toString().startsWith(u"TLSv1."),
                 QJsonDocument(upstream).toJson().constData());
        QCOMPARE(upstream.value("verified").toBool(true), false);
        QVERIFY2(upstream.value("server_certificate").toString().contains(u"127.0.0.1"),
                 QJsonDocument(upstream).toJson().constData());
        QTRY_VERIFY2_WITH_TIMEOUT(digestTexts(QStringLiteral("4")).contains("pg_stat_ssl"),
                                  digestTexts(QStringLiteral("4")).constData(), 10000);
    }

    // "verify": the server's certificate chains to ssl_trusted_certificate and names the node's
    // address; a node address it does not name is refused before the login, saying why.
    void databaseServerTlsVerifies()
    {
        const QJsonObject connection =
            serverLegSession(QStringLiteral("5"), QStringLiteral("e2e-serververify"), "t");
        QVERIFY(!connection.isEmpty());
        const QJsonObject upstream =
            connection.value("tls").toObject().value("upstream").toObject();
        QCOMPARE(upstream.value("tls").toBool(), true);
        QCOMPARE(upstream.value("verified").toBool(), true);

        serverLegRefused(QStringLiteral("6"), QStringLiteral("upstream certificate untrusted"),
                         "upstream certificate verify failed for 127.0.0.2");
        QVERIFY(eventMessages().contains("database_server_tls \"verify\""));
    }

    // A server without ssl: "require" is refused with the reason, "prefer" goes on in plaintext.
    void databaseServerTlsAgainstPlaintextServer()
    {
        serverLegRefused(QStringLiteral("7"), QStringLiteral("upstream offers no TLS"),
                         "the server does not offer TLS");
        if (QTest::currentTestFailed())
            return;

        const QJsonObject connection =
            serverLegSession(QStringLiteral("8"), QStringLiteral("e2e-serverprefer"), "f");
        QVERIFY(!connection.isEmpty());
        QCOMPARE(connection.value("postgres").toObject().value("tls").toBool(true), false);
        QCOMPARE(connection.value("tls").toObject().value("upstream").toObject(),
                 (QJsonObject{{"tls", false}}));
    }
};

QTEST_GUILESS_MAIN(TestPostgresE2e)
#include "tst_postgrese2e.moc"
