#pragma once
// What the "mariadb" CTest fixture (tests/e2e/mariadb-fixture) wrote to $SG_MARIADB_ENV:
// host, port, credentials and the server's PID, plus helpers to run the real `mariadb` client.

#include <QFile>
#include <QHash>
#include <QProcess>
#include <QString>
#include <QStringList>

namespace sg::test {

struct MariaDbEnv
{
    QString host;
    quint16 port = 0;
    QString user;
    QString password;
    QString database;
    QString socket;
    qint64 pid = 0;
    QString client;  // path of the `mariadb` binary
    QString fixture; // path of the fixture script (restart after a kill)
    QString dir;     // the fixture's state directory
    QString error;   // why the environment could not be read

    bool ok() const { return error.isEmpty(); }

    // path: the fixture's env file; by default the one ctest's fixture "mariadb" names.
    static MariaDbEnv load(const QString& path = qEnvironmentVariable("SG_MARIADB_ENV"))
    {
        MariaDbEnv env;
        if (path.isEmpty()) {
            env.error = QStringLiteral(
                "SG_MARIADB_ENV is not set: run through ctest (fixture \"mariadb\")");
            return env;
        }
        QFile f(path);
        if (!f.open(QIODevice::ReadOnly | QIODevice::Text)) {
            env.error = path + QStringLiteral(": ") + f.errorString();
            return env;
        }
        QHash<QString, QString> kv;
        while (!f.atEnd()) {
            const QString line = QString::fromUtf8(f.readLine()).trimmed();
            const qsizetype eq = line.indexOf(QLatin1Char('='));
            if (eq > 0)
                kv.insert(line.left(eq), line.mid(eq + 1));
        }
        env.host = kv.value("SG_DB_HOST");
        env.port = kv.value("SG_DB_PORT").toUShort();
        env.user = kv.value("SG_DB_USER");
        env.password = kv.value("SG_DB_PASSWORD");
        env.database = kv.value("SG_DB_NAME");
        env.socket = kv.value("SG_DB_SOCKET");
        env.pid = kv.value("SG_DB_PID").toLongLong();
        env.client = kv.value("SG_DB_CLIENT");
        env.fixture = kv.value("SG_DB_FIXTURE");
        env.dir = kv.value("SG_DB_DIR");
        if (env.port == 0 || env.user.isEmpty() || env.client.isEmpty())
            env.error = path + QStringLiteral(": incomplete (port, user or client missing)");
        return env;
    }

    // Arguments for `mariadb` connecting over TCP to host:port as the fixture's user.
    QStringList clientArgs(const QString& toHost, quint16 toPort, const QString& db,
                           const QString& pass) const
    {
        QStringList args{
            QStringLiteral("--no-defaults"),  QStringLiteral("--skip-ssl"),
            QStringLiteral("--protocol=TCP"), QStringLiteral("--connect-timeout=10"),
            QStringLiteral("-h") + toHost,    QStringLiteral("-P") + QString::number(toPort),
            QStringLiteral("-u") + user,      QStringLiteral("-p") + pass,
            QStringLiteral("--batch"),        QStringLiteral("--skip-column-names")};
        if (!db.isEmpty())
            args << db;
        return args;
    }

    // Runs SQL as root over the server's own socket (setup and inspection of the server).
    bool rootSql(const QString& sql, QString* output = nullptr, int timeoutMs = 30000) const
    {
        QProcess p;
        p.start(client, {QStringLiteral("--no-defaults"), QStringLiteral("--socket=") + socket,
                         QStringLiteral("-uroot"), QStringLiteral("--batch"),
                         QStringLiteral("--skip-column-names"), QStringLiteral("-e"), sql});
        if (!p.waitForFinished(timeoutMs))
            return false;
        if (output)
            *output = QString::fromUtf8(p.readAllStandardOutput()) +
                      QString::fromUtf8(p.readAllStandardError());
        return p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
    }
};

} // namespace sg::test
