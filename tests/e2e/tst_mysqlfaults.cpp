// Query toxics (mysql_latency, mysql_error, mysql_close) through `streamgate --headless` in front
// of the fixture's real MariaDB, added and removed through the Toxiproxy API, measured where a
// developer sees them: the `mariadb` client's exit status, its error text and how long it took,
// and what the server ended up with.
#include "httptestclient.h"
#include "mariadbenv.h"
#include "streamgateprocess.h"
#include "testfiles.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

using namespace sgtest;
using sg::test::MariaDbEnv;

namespace {

struct Outcome
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
    qint64 ms = 0;
};

} // namespace

class TestMySqlFaults : public QObject
{
    Q_OBJECT

    MariaDbEnv m_env;
    QTemporaryDir m_dir;
    StreamgateProcess m_sg;
    QNetworkAccessManager m_network;
    int m_port = 0;       // route "db": no digests, followed only for its query toxics
    int m_digestPort = 0; // route "dbd": digests on
    int m_toxiproxyPort = 0;

    // The `mariadb` client through `port`, running `sql`; with `force`, the statements come on
    // its standard input and it goes on past errors (--force, which -e does not honour).
    Outcome client(int port, const QString& sql, bool force = false)
    {
        QProcess p;
        QStringList args = m_env.clientArgs(QStringLiteral("127.0.0.1"), quint16(port),
                                            m_env.database, m_env.password);
        if (force)
            args << QStringLiteral("--force");
        else
            args << QStringLiteral("-e") << sql;
        QElapsedTimer timer;
        timer.start();
        p.start(m_env.client, args);
        if (force) {
            p.write(sql.toUtf8());
            p.closeWriteChannel();
        }
        Outcome o;
        if (!p.waitForFinished(60000)) {
            p.kill();
            p.waitForFinished(5000);
            return o;
        }
        o.ms = timer.elapsed();
        o.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
        o.out = p.readAllStandardOutput();
        o.err = p.readAllStandardError();
        return o;
    }

    // A request to the Toxiproxy API as its client libraries send one (Qt's own User-Agent
    // reads as a browser's, which the API refuses).
    HttpAnswer toxiproxy(const QByteArray& verb, const QString& path, const QJsonObject& body = {})
    {
        QNetworkRequest r(
            QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(m_toxiproxyPort).arg(path)));
        r.setHeader(QNetworkRequest::UserAgentHeader, QByteArrayLiteral("toxiproxy-test"));
        r.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
        r.setTransferTimeout(10000);
        QNetworkReply* reply = m_network.sendCustomRequest(
            r, verb, body.isEmpty() ? QByteArray() : QJsonDocument(body).toJson());
        if (!reply->isFinished())
            QSignalSpy(reply, &QNetworkReply::finished).wait(15000);
        HttpAnswer a = answerOf(reply);
        reply->deleteLater();
        return a;
    }

    // Adds a toxic to a route through the Toxiproxy API.
    bool addToxic(const QString& route, const QJsonObject& toxic)
    {
        const HttpAnswer a =
            toxiproxy("POST", QStringLiteral("/proxies/%1/toxics").arg(route), toxic);
        if (a.status != 200)
            qWarning("POST toxic: %d %s", a.status, a.body.constData());
        return a.status == 200;
    }

    bool removeToxic(const QString& route, const QString& name)
    {
        return toxiproxy("DELETE", QStringLiteral("/proxies/%1/toxics/%2").arg(route, name))
                   .status == 204;
    }

    QString rootValue(const QString& sql)
    {
        QString out;
        if (!m_env.rootSql(sql, &out))
            return QStringLiteral("error: ") + out;
        return out.trimmed();
    }

private slots:
    void initTestCase()
    {
        m_env = MariaDbEnv::load();
        QVERIFY2(m_env.ok(), qPrintable(m_env.error));
        QVERIFY(m_dir.isValid());
        const QList<int> ports = freePorts(3);
        QCOMPARE(ports.size(), 3);
        m_port = ports[0];
        m_digestPort = ports[1];
        m_toxiproxyPort = ports[2];
        const QJsonObject upstream{
            {"nodes", QJsonObject{{QStringLiteral("127.0.0.1:%1").arg(m_env.port), 1}}}};
        const QJsonObject config{
            {"stream_proxy",
             QJsonObject{{"tcp", QJsonArray{QStringLiteral("127.0.0.1:%1").arg(m_port),
                                            QStringLiteral("127.0.0.1:%1").arg(m_digestPort)}}}},
            {"stream_routes",
             QJsonArray{QJsonObject{{"id", "db"}, {"server_port", m_port}, {"upstream", upstream}},
                        QJsonObject{
                            {"id", "dbd"}, {"server_port", m_digestPort}, {"upstream", upstream}}}},
            {"streamgate",
             QJsonObject{
                 {"toxiproxy",
                  QJsonObject{{"listen", QStringLiteral("127.0.0.1:%1").arg(m_toxiproxyPort)}}},
                 {"routes", QJsonObject{{"dbd", QJsonObject{{"mysql_digests", true}}}}}}}};
        const QString path = m_dir.filePath(QStringLiteral("streamgate.json"));
        QVERIFY(writeFile(path, QJsonDocument(config).toJson()));
        QVERIFY(m_sg.start(path, true));
        QVERIFY2(m_sg.waitForAdmin(), m_sg.readOutput().constData());
        QTRY_COMPARE_WITH_TIMEOUT(toxiproxy("GET", QStringLiteral("/version")).status, 200, 10000);
        QVERIFY(m_env.rootSql(
            QStringLiteral(
                "CREATE TABLE IF NOT EXISTS %1.faults (id INT PRIMARY KEY, v INT) ENGINE=InnoDB; "
                "DELETE FROM %1.faults; INSERT INTO %1.faults VALUES (1, 0), (2, 0);")
                .arg(m_env.database)));
        const Outcome plain = client(m_port, QStringLiteral("SELECT v FROM faults WHERE id = 1"));
        QVERIFY2(plain.exitCode == 0, plain.err.constData());
        QCOMPARE(plain.out.trimmed(), QByteArray("0"));
    }

    void cleanupTestCase()
    {
        m_sg.stop();
        if (m_env.ok())
            m_env.rootSql(QStringLiteral("DROP TABLE IF EXISTS %1.faults").arg(m_env.database));
    }

    // A deadlock on every UPDATE of the table: the client prints MySQL's own 1213, the server
    // rolled the transaction back, statements that do not match go through on the same route,
    // and once the toxic is removed the UPDATE works again.
    void deadlockOnMatchingStatement()
    {
        QVERIFY(addToxic(QStringLiteral("db"),
                         QJsonObject{{"name", "deadlock"},
                                     {"type", "mysql_error"},
                                     {"attributes", QJsonObject{{"match", "^UPDATE faults"}}}}));
        // --force: the client goes on after the error, and its COMMIT finds the transaction
        // rolled back, as after a real deadlock (the INSERT before the UPDATE is gone).
        const Outcome hit = client(m_port,
                                   QStringLiteral("BEGIN; INSERT INTO faults VALUES (3, 3); "
                                                  "UPDATE faults SET v = 7 WHERE id = 1; COMMIT; "
                                                  "SELECT COUNT(*) FROM faults"),
                                   true);
        QVERIFY2(hit.err.contains("ERROR 1213 (40001)") &&
                     hit.err.contains("Deadlock found when trying to get lock; try restarting "
                                      "transaction"),
                 hit.err.constData());
        QCOMPARE(hit.out.trimmed(), QByteArray("2"));
        QCOMPARE(rootValue(QStringLiteral("SELECT GROUP_CONCAT(v ORDER BY id) FROM %1.faults")
                               .arg(m_env.database)),
                 QStringLiteral("0,0"));
        // Statements that do not match go through on the same route.
        const Outcome other =
            client(m_port,
                   QStringLiteral("INSERT INTO faults VALUES (3, 3); SELECT COUNT(*) FROM faults"));
        QVERIFY2(other.exitCode == 0, other.err.constData());
        QCOMPARE(other.out.trimmed(), QByteArray("3"));
        QVERIFY(removeToxic(QStringLiteral("db"), QStringLiteral("deadlock")));
        const Outcome clean =
            client(m_port, QStringLiteral("UPDATE faults SET v = 5 WHERE id = 3"));
        QVERIFY2(clean.exitCode == 0, clean.err.constData());
        QCOMPARE(
            rootValue(QStringLiteral("SELECT v FROM %1.faults WHERE id = 3").arg(m_env.database)),
            QStringLiteral("5"));
        QVERIFY(m_env.rootSql(
            QStringLiteral("DELETE FROM %1.faults WHERE id = 3").arg(m_env.database)));
    }

    // The user's own code, SQLSTATE and message, narrowed to a user, a database and a command:
    // a toxic for another user or database hits nothing.
    void chosenErrorForOneUserAndDatabase()
    {
        QVERIFY(addToxic(QStringLiteral("db"),
                         QJsonObject{{"name", "someone-else"},
                                     {"type", "mysql_error"},
                                     {"attributes", QJsonObject{{"user", "nobody"}}}}));
        QVERIFY(addToxic(QStringLiteral("db"),
                         QJsonObject{{"name", "other-db"},
                                     {"type", "mysql_error"},
                                     {"attributes", QJsonObject{{"database", "elsewhere"}}}}));
        Outcome o = client(m_port, QStringLiteral("SELECT 1"));
        QVERIFY2(o.exitCode == 0, o.err.constData());
        QVERIFY(addToxic(QStringLiteral("db"),
                         QJsonObject{{"name", "timeout"},
                                     {"type", "mysql_error"},
                                     {"attributes", QJsonObject{{"code", 1205},
                                                                {"sqlstate", "HY000"},
                                                                {"message", "try again later"},
                                                                {"command", "com_query"},
                                                                {"user", m_env.user},
                                                                {"database", m_env.database},
                                                                {"match", "for update"}}}}));
        o = client(m_port, QStringLiteral("SELECT v FROM faults WHERE id = 1 FOR UPDATE"));
        QCOMPARE(o.exitCode, 1);
        QVERIFY2(o.err.contains("ERROR 1205 (HY000)") && o.err.contains("try again later"),
                 o.err.constData());
        o = client(m_port, QStringLiteral("SELECT v FROM faults WHERE id = 1"));
        QVERIFY2(o.exitCode == 0, o.err.constData());
        for (const char* name : {"someone-else", "other-db", "timeout"})
            QVERIFY(removeToxic(QStringLiteral("db"), QString::fromLatin1(name)));
    }

    // A toxicity of one half, drawn for each matching command: of 60 UPDATEs in one session
    // some fail and some succeed (a run outside 10..50 has a chance below 1e-7).
    void toxicityPerCommand()
    {
        QVERIFY(addToxic(QStringLiteral("db"), QJsonObject{{"name", "half"},
                                                           {"type", "mysql_error"},
                                                           {"toxicity", 0.5},
                                                           {"attributes", QJsonObject{
                                                                              {"code", 1062},
                                                                              {"match", "^UPDATE"},
                                                                          }}}));
        QString sql;
        for (int i = 0; i < 60; ++i)
            sql += QStringLiteral("UPDATE faults SET v = v + 1 WHERE id = 1; ");
        const Outcome o = client(m_port, sql, true);
        const qsizetype errors = o.err.count("ERROR 1062 (23000)");
        QVERIFY2(errors >= 10 && errors <= 50, o.err.constData());
        // Every UPDATE that was not failed reached the server, once.
        QCOMPARE(
            rootValue(QStringLiteral("SELECT v FROM %1.faults WHERE id = 1").arg(m_env.database)),
            QString::number(60 - errors));
        QVERIFY(removeToxic(QStringLiteral("db"), QStringLiteral("half")));
        QVERIFY(m_env.rootSql(QStringLiteral("UPDATE %1.faults SET v = 0").arg(m_env.database)));
    }

    // mysql_latency holds each matching command: five of them take at least five delays, as the
    // client measures, and as the route's digests record them (the time runs from the command's
    // arrival); the other statements of the session are not held.
    void latencyOnMatchingCommands()
    {
        QVERIFY(addToxic(
            QStringLiteral("dbd"),
            QJsonObject{{"name", "slow"},
                        {"type", "mysql_latency"},
                        {"attributes", QJsonObject{{"latency", 300}, {"match", "slow_marker"}}}}));
        QString sql = QStringLiteral("SELECT 'fast'; ");
        for (int i = 0; i < 5; ++i)
            sql += QStringLiteral("SELECT %1 AS slow_marker; ").arg(i);
        const Outcome o = client(m_digestPort, sql);
        QVERIFY2(o.exitCode == 0, o.err.constData());
        QCOMPARE(o.out.split('\n').size(), 7); // fast, five rows, the final newline
        QVERIFY2(o.ms >= 5 * 300, QByteArray::number(o.ms).constData());
        qint64 slowTime = -1;
        qint64 fastTime = -1;
        const QJsonArray digests =
            m_sg.get(QStringLiteral("/streamgate/v1/mysql/digests?route=dbd"))
                .json.value(QStringLiteral("list"))
                .toArray();
        for (const QJsonValue& d : digests) {
            const QJsonObject digest = d.toObject();
            const QString text = digest.value(QStringLiteral("digest_text")).toString();
            if (text == u"SELECT ? AS slow_marker") {
                QCOMPARE(digest.value(QStringLiteral("count_star")).toInt(), 5);
                slowTime = digest.value(QStringLiteral("min_time")).toInteger();
            } else if (text == u"SELECT ?") {
                fastTime = digest.value(QStringLiteral("max_time")).toInteger();
            }
        }
        QVERIFY2(slowTime >= 300000, QJsonDocument(digests).toJson().constData()); // µs
        QVERIFY2(fastTime >= 0 && fastTime < 300000, QJsonDocument(digests).toJson().constData());
        QVERIFY(removeToxic(QStringLiteral("dbd"), QStringLiteral("slow")));
    }

    // mysql_close: the connection is reset under the command; the client reports a lost
    // connection and the server never ran it.
    void closeUnderTheCommand()
    {
        QVERIFY(addToxic(QStringLiteral("db"), QJsonObject{{"name", "crash"},
                                                           {"type", "mysql_close"},
                                                           {"attributes", QJsonObject{
                                                                              {"match", "^DELETE"},
                                                                          }}}));
        const Outcome o = client(m_port, QStringLiteral("DELETE FROM faults WHERE id = 2"));
        QCOMPARE(o.exitCode, 1);
        QVERIFY2(o.err.contains("ERROR 2013") || o.err.contains("ERROR 2006") ||
                     o.err.contains("ERROR 2026"),
                 o.err.constData());
        QCOMPARE(rootValue(QStringLiteral("SELECT COUNT(*) FROM %1.faults").arg(m_env.database)),
                 QStringLiteral("2"));
        QVERIFY(removeToxic(QStringLiteral("db"), QStringLiteral("crash")));
    }

    // With digests on, the injected error is what the route's digests and errors record: the
    // statement as the client sent it, failed with the toxic's code.
    void digestsRecordTheInjectedError()
    {
        QVERIFY(addToxic(QStringLiteral("dbd"),
                         QJsonObject{{"name", "deadlock"},
                                     {"type", "mysql_error"},
                                     {"attributes", QJsonObject{{"match", "^UPDATE faults"}}}}));
        const Outcome o =
            client(m_digestPort, QStringLiteral("UPDATE faults SET v = 9 WHERE id = 2"));
        QCOMPARE(o.exitCode, 1);
        QVERIFY2(o.err.contains("ERROR 1213 (40001)"), o.err.constData());
        QJsonArray errors;
        QTRY_VERIFY_WITH_TIMEOUT(
            !(errors = m_sg.get(QStringLiteral("/streamgate/v1/mysql/errors?route=dbd"))
                           .json.value(QStringLiteral("list"))
                           .toArray())
                 .isEmpty(),
            5000);
        const QJsonObject row = errors.first().toObject();
        QCOMPARE(row.value(QStringLiteral("errno")).toInt(), 1213);
        QCOMPARE(row.value(QStringLiteral("sqlstate")).toString(), QStringLiteral("40001"));
        const QJsonArray digests =
            m_sg.get(QStringLiteral("/streamgate/v1/mysql/digests?route=dbd"))
                .json.value(QStringLiteral("list"))
                .toArray();
        bool found = false;
        for (const QJsonValue& d : digests) {
            const QJsonObject digest = d.toObject();
            if (digest.value(QStringLiteral("digest_text")).toString() ==
                QStringLiteral("UPDATE faults SET v = ? WHERE id = ?")) {
                found = true;
                QCOMPARE(digest.value(QStringLiteral("errors")).toInt(), 1);
            }
        }
        QVERIFY2(found, QJsonDocument(digests).toJson().constData());
        // The toxic's counters: it hit one connection.
        const QJsonArray toxics =
            m_sg.get(QStringLiteral("/streamgate/v1/stats")).json.value("toxics").toArray();
        bool counted = false;
        for (const QJsonValue& t : toxics) {
            const QJsonObject toxic = t.toObject();
            if (toxic.value(QStringLiteral("route_id")).toString() == u"dbd")
                counted = toxic.value(QStringLiteral("hit_total")).toInt() == 1;
        }
        QVERIFY2(counted, QJsonDocument(toxics).toJson().constData());
        QVERIFY(removeToxic(QStringLiteral("dbd"), QStringLiteral("deadlock")));
        QCOMPARE(
            rootValue(QStringLiteral("SELECT v FROM %1.faults WHERE id = 2").arg(m_env.database)),
            QStringLiteral("0"));
    }

    // A pattern that is not a regular expression is refused, naming the field and why.
    void badPatternRefused()
    {
        const HttpAnswer a = toxiproxy(
            "POST", QStringLiteral("/proxies/db/toxics"),
            QJsonObject{{"type", "mysql_error"}, {"attributes", QJsonObject{{"match", "(open"}}}});
        QCOMPARE(a.status, 400);
        QVERIFY2(a.body.contains("attributes.match: invalid regular expression"),
                 a.body.constData());
    }
};

QTEST_MAIN(TestMySqlFaults)
#include "tst_mysqlfaults.moc"
