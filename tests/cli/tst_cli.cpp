// The real `streamgate` binary, run the way a user or a script runs it: --check output and exit
// codes on good, invalid and unreadable files, --version, --help and usage errors.
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <sys/stat.h>

namespace {

struct Run
{
    int exitCode = -1;
    QString output; // stdout and stderr together, as a user sees them
};

} // namespace

class TestCli : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    // XDG_CONFIG_HOME points into the temporary directory: the binary never touches the real
    // user's config, and the default path is predictable.
    Run run(const QStringList& args)
    {
        QProcess process;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("XDG_CONFIG_HOME"), m_dir.filePath(QStringLiteral("xdg")));
        process.setProcessEnvironment(env);
        process.setProcessChannelMode(QProcess::MergedChannels);
        process.start(QStringLiteral(STREAMGATE_BINARY), args);
        Run result;
        if (!process.waitForStarted(10000)) {
            result.output = process.errorString();
            return result;
        }
        if (!process.waitForFinished(30000)) {
            process.kill();
            process.waitForFinished(5000);
            result.output = QStringLiteral("timed out");
            return result;
        }
        result.output = QString::fromUtf8(process.readAll());
        result.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -2;
        return result;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY(QFile::exists(QStringLiteral(STREAMGATE_BINARY)));
    }

    void check_data()
    {
        QTest::addColumn<QByteArray>("content"); // "<missing>" / "<directory>" for no file
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QStringList>("expected"); // substrings; FILE stands for the path
        QTest::addColumn<QStringList>("absent");

        const QByteArray route = R"({ "id": "db", "server_port": 13306 %1,
              "upstream": { "nodes": { "127.0.0.1:3306": 1 } } })";
        const auto config = [&](const QByteArray& extra) {
            return QByteArray(R"({ "stream_proxy": { "tcp": [13306] }, "stream_routes": [ )") +
                   QString::fromUtf8(route).arg(QString::fromUtf8(extra)).toUtf8() + "] }";
        };

        QTest::newRow("valid")
            << config("") << 0
            << QStringList{"FILE: valid (1 stream route, 0 upstreams, 1 listener, 0 warnings)"}
            << QStringList{"warning:"};
        QTest::newRow("valid with allow-list")
            << config(
                   R"(, "plugins": { "ip-restriction": { "whitelist": ["127.0.0.1", "fe80::/10"] } })")
            << 0 << QStringList{"FILE: valid"} << QStringList{};
        QTest::newRow("empty object is a valid config")
            << QByteArray("{}") << 0
            << QStringList{"FILE: valid (0 stream routes, 0 upstreams, 0 listeners, 0 warnings)"}
            << QStringList{};
        QTest::newRow("invalid remote_addr")
            << config(R"(, "remote_addr": ":/8")") << 1
            << QStringList{"stream_routes[0].remote_addr: invalid remote_addr: :/8",
                           "FILE: invalid (1 problem, 0 warnings)"}
            << QStringList{": valid"};
        QTest::newRow("every problem at once")
            << QByteArray(R"({ "stream_routes": [
                   { "id": "a", "remote_addr": ":/8", "upstream": { "nodes": { "127.0.0.1:1": 1 } } },
                   { "id": "b", "server_port": 0, "upstream_id": "nope" } ] })")
            << 1
            << QStringList{"stream_routes[0].remote_addr: invalid remote_addr: :/8",
                           "stream_routes[1].server_port", "FILE: invalid"}
            << QStringList{};
        // Valid, as in APISIX (its sessions are closed): a warning naming both ends.
        QTest::newRow("dangling upstream_id")
            << QByteArray(R"({ "stream_proxy": { "tcp": [1] },
                   "stream_routes": [ { "id": "db", "server_port": 1, "upstream_id": "nope" } ] })")
            << 0 << QStringList{"stream_routes[0].upstream_id: ", "[nope]", "[db]"}
            << QStringList{};
        QTest::newRow("dangling upstream_id of a route with a bad id")
            << QByteArray(R"({ "stream_routes": [ { "id": "a b", "upstream_id": "nope" } ] })") << 1
            << QStringList{"stream_routes[0].id: ", "(value: a b)", "[nope]",
                           "(used by stream_routes[0])"}
            << QStringList{"stream_route []"};
        QTest::newRow("unknown plugin")
            << config(R"(, "plugins": { "key-auth": {} })") << 1
            << QStringList{"unknown plugin [key-auth]"} << QStringList{};
        // ssls: what APISIX's check_ssl_conf checks, with OpenSSL; the key's text is never
        // printed.
        const QByteArray notPem = QByteArray(130, 'x');
        QTest::newRow("ssl that does not parse")
            << QByteArray(R"({ "ssls": [ { "id": "s", "sni": "a.example.com", "cert": ")" + notPem +
                          R"(", "key": "SECRET)" + notPem + R"(" } ] })")
            << 1
            << QStringList{"ssls[0].cert: failed to parse cert: not a PEM certificate",
                           "ssls[0].key: failed to parse key: not a PEM private key",
                           "FILE: invalid"}
            << QStringList{"SECRET"};
        QTest::newRow("tls listener without a certificate is a warning")
            << QByteArray(R"({ "stream_proxy": { "tcp": [ { "addr": 9443, "tls": true } ] } })")
            << 0
            << QStringList{"warning: stream_proxy.tcp[0].tls: ",
                           "no ssl of type server with status 1"}
            << QStringList{};
        QTest::newRow("route that can never match is a warning")
            << QByteArray(R"({ "stream_proxy": { "tcp": [1] }, "stream_routes": [
                   { "id": "db", "server_port": 2, "upstream": { "nodes": { "127.0.0.1:1": 1 } } } ] })")
            << 0
            << QStringList{"warning: stream_routes[0].server_port: ", "can never match",
                           "FILE: valid (1 stream route, 0 upstreams, 1 listener, 1 warning)"}
            << QStringList{};
        QTest::newRow("syntax error names line and column")
            << QByteArray("{\n  \"stream_routes\": []\n  \"upstreams\": []\n}\n") << 1
            << QStringList{"FILE:3:3: JSON syntax error", "FILE: invalid"} << QStringList{};
        QTest::newRow("empty file")
            << QByteArray("") << 1 << QStringList{"FILE:1:1:"} << QStringList{};
        QTest::newRow("top level array")
            << QByteArray("[]") << 1 << QStringList{"top level must be a JSON object"}
            << QStringList{};
        QTest::newRow("missing file")
            << QByteArray("<missing>") << 2 << QStringList{"cannot read FILE", "FILE: unreadable"}
            << QStringList{};
        QTest::newRow("directory")
            << QByteArray("<directory>") << 2 << QStringList{"is a directory", "FILE: unreadable"}
            << QStringList{};
        // Input limits: only regular files up to 16 MiB are read, and nothing makes it hang.
        QTest::newRow("FIFO") << QByteArray("<fifo>") << 2
                              << QStringList{"cannot read FILE: it is a FIFO (named pipe), not a "
                                             "regular file",
                                             "FILE: unreadable"}
                              << QStringList{};
        QTest::newRow("/dev/zero")
            << QByteArray("</dev/zero>") << 2
            << QStringList{"cannot read FILE: it is a character device, not a regular file"}
            << QStringList{};
        QTest::newRow("too big") << QByteArray("<17 MiB>") << 2
                                 << QStringList{"cannot read FILE: it is 17825792 bytes; a config "
                                                "file may have at most 16777216 bytes (16 MiB)"}
                                 << QStringList{};
        // QJsonDocument keeps the last of two keys silently: a second stream_routes would erase
        // the first one's allow-list without a word.
        QTest::newRow("stream_routes twice")
            << QByteArray("{ \"stream_proxy\": { \"tcp\": [13306] },\n  \"stream_routes\": [ ") +
                   QString::fromUtf8(route)
                       .arg(R"(, "plugins": { "ip-restriction": { "whitelist": ["127.0.0.1"] } })")
                       .toUtf8() +
                   " ],\n  \"stream_routes\": [ " +
                   QString::fromUtf8(route).arg(QString()).toUtf8() + " ] }"
            << 1
            << QStringList{"stream_routes: duplicate key \"stream_routes\" (lines 2 and 4)",
                           "FILE: invalid (1 problem"}
            << QStringList{": valid"};
        QTest::newRow("key twice deep inside, spelt differently")
            << config(R"(, "plugins": { "ip-restriction": { "whitelist": ["127.0.0.1"],
                      "white\u006cist": ["0.0.0.0/0"] } })")
            << 1
            << QStringList{"stream_routes[0].plugins.ip-restriction.whitelist: duplicate key "
                           "\"whitelist\""}
            << QStringList{": valid"};
    }

    void check()
    {
        QFETCH(QByteArray, content);
        QFETCH(int, exitCode);
        QFETCH(QStringList, expected);
        QFETCH(QStringList, absent);

        QString path = m_dir.filePath(
            QStringLiteral("check-%1.json")
                .arg(QString::fromLatin1(QTest::currentDataTag()).replace(' ', '-').remove('/')));
        const bool special = content.startsWith('<');
        if (content == "<directory>") {
            QVERIFY(QDir().mkpath(path));
        } else if (content == "<fifo>") {
            QCOMPARE(::mkfifo(QFile::encodeName(path).constData(), 0600), 0);
        } else if (content == "</dev/zero>") {
            path = QStringLiteral("/dev/zero");
        } else if (content == "<17 MiB>") {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            QVERIFY(f.resize(17 * 1024 * 1024)); // sparse: no disk space needed
        } else if (content != "<missing>") {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(content);
        }

        QElapsedTimer timer;
        timer.start();
        const Run result = run({QStringLiteral("--check"), QStringLiteral("--config"), path});
        QVERIFY2(timer.elapsed() < 10000, "--check did not answer promptly");
        for (const QString& e : expected) {
            const QString text = QString(e).replace(QStringLiteral("FILE"), path);
            QVERIFY2(result.output.contains(text),
                     qPrintable(QStringLiteral("missing \"%1\" in:\n%2").arg(text, result.output)));
        }
        for (const QString& a : absent)
            QVERIFY2(!result.output.contains(a), qPrintable(result.output));
        QCOMPARE(result.exitCode, exitCode);
        // --check reads only: a missing file is not created, an existing one not rewritten.
        if (content == "<missing>")
            QVERIFY(!QFile::exists(path));
        else if (!special) {
            QFile f(path);
            QVERIFY(f.open(QIODevice::ReadOnly));
            QCOMPARE(f.readAll(), content);
            QVERIFY(!QFile::exists(path + QStringLiteral(".bak")));
        }
    }

    void checkUsesTheDefaultPath()
    {
        const QString expectedPath =
            m_dir.filePath(QStringLiteral("xdg/streamgate/streamgate.json"));
        const Run result = run({QStringLiteral("--check")});
        QVERIFY2(result.output.contains(expectedPath + QStringLiteral(": unreadable")),
                 qPrintable(result.output));
        QCOMPARE(result.exitCode, 2);
        QVERIFY(!QFile::exists(expectedPath));
    }

    void headlessRefusesAnInvalidConfig()
    {
        const QString path = m_dir.filePath(QStringLiteral("headless-invalid.json"));
        const QByteArray content =
            R"({"stream_routes": [{"id": "a", "remote_addr": ":/8", "upstream": {"nodes": {"127.0.0.1:1": 1}}}]})";
        {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(content);
        }
        const Run result = run({QStringLiteral("--headless"), QStringLiteral("--config"), path});
        QVERIFY2(result.output.contains(
                     QStringLiteral("stream_routes[0].remote_addr: invalid remote_addr: :/8")),
                 qPrintable(result.output));
        QCOMPARE(result.exitCode, 1);
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), content);
    }

    // Started on what is not a regular file, headless refuses at once and writes nothing
    // beside it (no lock file next to a FIFO or a device).
    void headlessRefusesWhatIsNotAFile()
    {
        const QString fifo = m_dir.filePath(QStringLiteral("headless.fifo"));
        QCOMPARE(::mkfifo(QFile::encodeName(fifo).constData(), 0600), 0);
        for (const QString& path : {fifo, QStringLiteral("/dev/zero")}) {
            const bool lockBefore = QFile::exists(path + QStringLiteral(".lock"));
            QElapsedTimer timer;
            timer.start();
            const Run result =
                run({QStringLiteral("--headless"), QStringLiteral("--config"), path});
            QVERIFY(timer.elapsed() < 10000);
            QCOMPARE(result.exitCode, 2);
            QVERIFY2(result.output.contains(QStringLiteral("not a regular file")),
                     qPrintable(result.output));
            QCOMPARE(QFile::exists(path + QStringLiteral(".lock")), lockBefore);
        }
    }

    void version()
    {
        const Run result = run({QStringLiteral("--version")});
        QCOMPARE(result.output, QStringLiteral("streamgate " STREAMGATE_VERSION "\n"));
        QCOMPARE(result.exitCode, 0);
    }

    void help()
    {
        const Run result = run({QStringLiteral("--help")});
        QCOMPARE(result.exitCode, 0);
        for (const char* option :
             {"--config <FILE>", "--headless", "--check", "--version", "--help"})
            QVERIFY2(result.output.contains(QLatin1String(option)), qPrintable(result.output));
    }

    void usageErrors_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("message");
        QTest::newRow("unknown option")
            << QStringList{"--check", "--bogus"} << "Unknown option 'bogus'";
        QTest::newRow("missing value")
            << QStringList{"--check", "--config"} << "Missing value after '--config'";
        QTest::newRow("stray argument")
            << QStringList{"--check", "extra"} << "unexpected argument 'extra'";
    }

    void usageErrors()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, message);
        const Run result = run(args);
        QVERIFY2(result.output.contains(message), qPrintable(result.output));
        QCOMPARE(result.exitCode, 64);
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
