// `streamgate --headless` run as a user runs it: a whitelisted client reaches a real TCP
// service through it, another address is refused, edits to the file apply without a restart
// (a broken edit is refused and the running config stays), SIGHUP reloads, SIGTERM lets an
// open session finish and exits 0, and the access log says what happened, in the format
// streamgate.access_log names: each field of a line read back and compared with what the client
// and the upstream saw, a format edited while running, the session lines switched off, and a
// format with an unknown variable refused by --check. Timed allows end headless too (an hour on
// a shortened clock, once, until Streamgate quits), given and shown through the admin API.

#include "echoserver.h"
#include "loopback.h"
#include "streamgateprocess.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonObject>
#include <QLocale>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <csignal>

using namespace sgtest;

namespace {

// Connects from `from` to the proxy, sends `payload`, and returns what came back before the
// proxy closed or the echo arrived; `closed` tells whether the connection ended.
QByteArray exchange(const QHostAddress& from, quint16 port, const QByteArray& payload, bool* closed)
{
    QTcpSocket socket;
    socket.bind(from, 0);
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(3000))
        return "connect failed";
    socket.write(payload);
    QByteArray got;
    QElapsedTimer timer;
    timer.start();
    while (got.size() < payload.size() && timer.elapsed() < 3000 &&
           socket.state() == QAbstractSocket::ConnectedState) {
        socket.waitForReadyRead(100);
        got += socket.readAll();
    }
    got += socket.readAll();
    *closed = socket.state() != QAbstractSocket::ConnectedState;
    return got;
}

// The session lines of an access log (event lines start with '[').
QStringList sessionLines(const QByteArray& log)
{
    QStringList out;
    for (const QString& line : QString::fromUtf8(log).split('\n', Qt::SkipEmptyParts))
        if (!line.startsWith('['))
            out << line;
    return out;
}

// A client from 127.0.0.2 through the proxy on 127.0.0.3:port to an upstream that greets and
// closes: sends 11 bytes, reads to the end. Returns the client's port, or -1.
int greetedSession(quint16 port, const QByteArray& greeting)
{
    const int fd = connectTo(QStringLiteral("127.0.0.3"), port, QStringLiteral("127.0.0.2"));
    if (fd < 0)
        return -1;
    sockaddr_in local{};
    socklen_t len = sizeof local;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
    QByteArray got;
    const bool sent = sendAll(fd, "hello proxy");
    const ReadEnd end = waitForEnd(fd, 5000, &got);
    ::close(fd);
    return sent && end == ReadEnd::Eof && got == greeting ? ntohs(local.sin_port) : -1;
}

// Threads of process `pid` whose name starts with `prefix` (Linux: /proc/<pid>/task/*/comm).
int threadsNamed(qint64 pid, const QByteArray& prefix)
{
    int n = 0;
    const QDir tasks(QStringLiteral("/proc/%1/task").arg(pid));
    for (const QString& task : tasks.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        QFile comm(tasks.filePath(task + QStringLiteral("/comm")));
        if (comm.open(QIODevice::ReadOnly) && comm.readAll().startsWith(prefix))
            ++n;
    }
    return n;
}

} // namespace

class TestHeadless : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    // On its own thread: the clients below wait synchronously.
    QThread m_echoThread;
    EchoServer m_echo;
    quint16 m_port = 0;
    QProcess m_process;
    QByteArray m_stdout;
    QByteArray m_stderr;

    QString configPath() const { return m_dir.filePath(QStringLiteral("streamgate.json")); }

    void writeConfig(const QString& whitelist, const QString& remoteAddr = {})
    {
        const QString route =
            QStringLiteral(
                R"({ "stream_proxy": { "tcp": [%1] }, "stream_routes": [ { "id": "echo", "name": "Echo",
               "server_port": %1 %4, "plugins": { "ip-restriction": { "whitelist": [%2] } },
               "upstream": { "nodes": { "127.0.0.1:%3": 1 } } } ] })")
                .arg(m_port)
                .arg(whitelist)
                .arg(m_echo.serverPort())
                .arg(remoteAddr.isEmpty()
                         ? QString()
                         : QStringLiteral(R"(, "remote_addr": "%1")").arg(remoteAddr));
        QFile f(configPath() + QStringLiteral(".tmp"));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(route.toUtf8());
        f.close();
        // Replace in one step, as editors and the store do.
        QFile::remove(configPath());
        QVERIFY(QFile::rename(f.fileName(), configPath()));
    }

    bool passes(const QHostAddress& from, quint16 port = 0)
    {
        bool closed = false;
        return exchange(from, port ? port : m_port, "ping\n", &closed) == "ping\n";
    }

    bool refusedWithoutByte(const QHostAddress& from)
    {
        bool closed = false;
        const QByteArray got = exchange(from, m_port, "ping\n", &closed);
        return got.isEmpty() && closed;
    }

    void readOutput()
    {
        m_stdout += m_process.readAllStandardOutput();
        m_stderr += m_process.readAllStandardError();
    }

    // A config of its own for a timed-allow run: route "echo" on 127.0.0.1:port, allowing
    // 127.0.0.1 only.
    QString writeTimedConfig(const QString& name, quint16 port)
    {
        const QString path = m_dir.filePath(name);
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly))
            return {};
        f.write(QStringLiteral(R"({ "stream_proxy": { "tcp": ["127.0.0.1:%1"] },
            "stream_routes": [ { "id": "echo", "name": "Echo", "server_port": %1,
              "plugins": { "ip-restriction": { "whitelist": ["127.0.0.1"] } },
              "upstream": { "nodes": { "127.0.0.1:%2": 1 } } } ] })")
                    .arg(port)
                    .arg(m_echo.serverPort())
                    .toUtf8());
        return path;
    }
    static QByteArray fileBytes(const QString& path)
    {
        QFile f(path);
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }
    static bool startTimed(StreamgateProcess& proxy, const QString& path, int hourMs)
    {
        QProcessEnvironment env;
        env.insert(QStringLiteral("STREAMGATE_ALLOW_HOUR_MS"), QString::number(hourMs));
        return proxy.start(path, true, {}, env) && proxy.waitForAdmin();
    }
    static HttpAnswer allow(StreamgateProcess& proxy, const QString& client,
                            const QString& duration)
    {
        return proxy.call(
            "POST", QStringLiteral("/streamgate/v1/stream_routes/echo/allow"),
            QStringLiteral(R"({"client": "%1", "duration": "%2"})").arg(client, duration).toUtf8());
    }
    static QJsonObject timedAllow(StreamgateProcess& proxy)
    {
        const HttpAnswer answer = proxy.get(QStringLiteral("/streamgate/v1/timed_allows"));
        return answer.json.value(QStringLiteral("list")).toArray().first().toObject();
    }
    // A connection from `from` that had its bytes echoed and stays open.
    static bool hold(QTcpSocket& socket, const QString& from, quint16 port)
    {
        socket.bind(QHostAddress(from), 0);
        socket.connectToHost(QHostAddress::LocalHost, port);
        if (!socket.waitForConnected(3000))
            return false;
        socket.write("held");
        QByteArray got;
        return QTest::qWaitFor([&] { return (got += socket.readAll()) == "held"; }, 3000);
    }
    bool refusedOn(const QString& from, quint16 port)
    {
        bool closed = false;
        return exchange(QHostAddress(from), port, "ping\n", &closed).isEmpty() && closed;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY(m_echo.listen(QHostAddress::LocalHost, 0));
        m_echo.moveToThread(&m_echoThread);
        m_echoThread.start();
        m_port = freePort();
        writeConfig(QStringLiteral(R"("127.0.0.1")"));
        connect(&m_process, &QProcess::readyReadStandardOutput, this, &TestHeadless::readOutput);
        connect(&m_process, &QProcess::readyReadStandardError, this, &TestHeadless::readOutput);
        m_process.start(QStringLiteral(STREAMGATE_BINARY),
                        {QStringLiteral("--headless"), QStringLiteral("--config"), configPath()});
        QVERIFY(m_process.waitForStarted(10000));
        QTRY_VERIFY_WITH_TIMEOUT(m_stdout.contains("listener up"), 10000);
    }

    void whitelistedClientGetsThrough()
    {
        QVERIFY(passes(QHostAddress(QStringLiteral("127.0.0.1"))));
    }

    void otherClientIsRefused()
    {
        QVERIFY(refusedWithoutByte(QHostAddress(QStringLiteral("127.0.0.2"))));
        QTRY_VERIFY_WITH_TIMEOUT(m_stdout.contains("127.0.0.2 ["), 5000);
        QVERIFY(m_stdout.contains("403"));
        QVERIFY(m_stdout.contains("denied by ip-restriction"));
    }

    void fileEditAppliesWithoutRestart()
    {
        writeConfig(QStringLiteral(R"("127.0.0.1", "127.0.0.2")"));
        QTRY_VERIFY_WITH_TIMEOUT(passes(QHostAddress(QStringLiteral("127.0.0.2"))), 10000);
        QCOMPARE(m_process.state(), QProcess::Running);
    }

    void brokenEditKeepsRunningConfig()
    {
        m_stderr.clear();
        writeConfig(QStringLiteral(R"("127.0.0.1", "127.0.0.2")"), QStringLiteral(":/8"));
        QTRY_VERIFY_WITH_TIMEOUT(m_stderr.contains("invalid remote_addr: :/8"), 10000);
        QVERIFY(passes(QHostAddress(QStringLiteral("127.0.0.2"))));
    }

    void sighupReloads()
    {
        // Written while the watcher is blind to it is not possible to arrange portably, so this
        // checks the observable part: SIGHUP re-reads the file and says so.
        writeConfig(QStringLiteral(R"("127.0.0.1")"));
        QTRY_VERIFY_WITH_TIMEOUT(refusedWithoutByte(QHostAddress(QStringLiteral("127.0.0.2"))),
                                 10000);
        m_stderr.clear();
        ::kill(pid_t(m_process.processId()), SIGHUP);
        QTRY_VERIFY_WITH_TIMEOUT(m_stderr.contains("SIGHUP"), 5000);
        QVERIFY(passes(QHostAddress(QStringLiteral("127.0.0.1"))));
    }

    // STREAMGATE_WORKERS sets the number of relay threads; a value that is not a number in
    // range is named in a warning and the default (one per core but one, at least one) is used.
    void workersFromEnvironment_data()
    {
        QTest::addColumn<QString>("value");
        QTest::addColumn<int>("workers");
        QTest::addColumn<bool>("warned");
        QTest::newRow("3") << QStringLiteral("3") << 3 << false;
        QTest::newRow("1") << QStringLiteral("1") << 1 << false;
        const int byDefault = qMax(1, QThread::idealThreadCount() - 1);
        QTest::newRow("zero") << QStringLiteral("0") << byDefault << true;
        QTest::newRow("text") << QStringLiteral("many") << byDefault << true;
        QTest::newRow("unset") << QString() << byDefault << false;
    }

    void workersFromEnvironment()
    {
        QFETCH(QString, value);
        QFETCH(int, workers);
        QFETCH(bool, warned);
        const QString path = m_dir.filePath(QStringLiteral("workers.json"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QStringLiteral(R"({ "stream_proxy": { "tcp": ["127.0.0.1:%1"] }, "stream_routes": [
            { "id": "w", "server_port": %1, "upstream": { "nodes": { "127.0.0.1:%2": 1 } } } ] })")
                    .arg(freePort())
                    .arg(m_echo.serverPort())
                    .toUtf8());
        f.close();
        QProcess proxy;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        if (value.isNull())
            env.remove(QStringLiteral("STREAMGATE_WORKERS"));
        else
            env.insert(QStringLiteral("STREAMGATE_WORKERS"), value);
        proxy.setProcessEnvironment(env);
        proxy.start(QStringLiteral(STREAMGATE_BINARY),
                    {QStringLiteral("--headless"), QStringLiteral("--config"), path});
        QVERIFY(proxy.waitForStarted(10000));
        QByteArray out;
        QByteArray err;
        QTRY_VERIFY_WITH_TIMEOUT((out += proxy.readAllStandardOutput()).contains("listener up"),
                                 10000);
        QTRY_COMPARE_WITH_TIMEOUT(threadsNamed(proxy.processId(), "sg-worker-"), workers, 5000);
        err += proxy.readAllStandardError();
        const QByteArray warning = "STREAMGATE_WORKERS=\"" + value.toUtf8() + "\" ignored";
        QVERIFY2(err.contains(warning) == warned, err.constData());
        if (warned)
            QVERIFY2(err.contains("using " + QByteArray::number(workers) + " workers"),
                     err.constData());
        proxy.terminate();
        QVERIFY(proxy.waitForFinished(10000));
    }

    // streamgate.access_log.format through the real binary: a real client, a real upstream on
    // loopback, and the line parsed field by field; then the format edited in the file while
    // running, then the session lines switched off (event lines stay).
    void accessLogFormatEndToEnd()
    {
        TestServer greeter(TestServer::Greet);
        const QByteArray greeting(23, 'g');
        greeter.setGreeting(greeting);
        greeter.holdMs = 300;
        const QList<int> ports = freePorts(4, QStringLiteral("127.0.0.3"));
        const int dead = freePort();
        const QString path = m_dir.filePath(QStringLiteral("format.json"));
        const auto write = [&](const QString& accessLog, int listeners) {
            QStringList tcp;
            for (int i = 0; i < listeners; ++i)
                tcp << QStringLiteral(R"("127.0.0.3:%1")").arg(ports[i]);
            const QString text = QStringLiteral(R"({ "stream_proxy": { "tcp": [%1] },
              "stream_routes": [
                { "id": "greet", "server_port": %2, "upstream": { "nodes": { "127.0.0.1:%4": 1 } } },
                { "id": "retry", "server_port": %3, "upstream": { "retries": 1, "nodes": [
                    { "host": "127.0.0.1", "port": %5, "weight": 1, "priority": 1 },
                    { "host": "127.0.0.1", "port": %4, "weight": 1, "priority": 0 } ] } } ],
              "streamgate": { "admin": { "listen": "127.0.0.1:0" },
                              "prometheus": { "listen": "127.0.0.1:0" },
                              "toxiproxy": { "listen": "127.0.0.1:0" },
                              "access_log": %6 } })")
                                     .arg(tcp.join(QStringLiteral(", ")))
                                     .arg(ports[0])
                                     .arg(ports[1])
                                     .arg(greeter.port())
                                     .arg(dead)
                                     .arg(accessLog);
            QFile f(path + QStringLiteral(".tmp"));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(text.toUtf8());
            f.close();
            QFile::remove(path);
            QVERIFY(QFile::rename(f.fileName(), path));
        };
        write(QStringLiteral(
                  R"({ "format": "$remote_addr|$remote_port|$server_addr|$server_port|$protocol|)"
                  R"($status|$bytes_sent|$bytes_received|$session_time|$upstream_addr|)"
                  R"($upstream_bytes_sent|$upstream_bytes_received|$upstream_connect_time|)"
                  R"($time_local|$time_iso8601|${route_id}" })"),
              2);

        QProcess proxy;
        QByteArray out;
        connect(&proxy, &QProcess::readyReadStandardOutput, this,
                [&] { out += proxy.readAllStandardOutput(); });
        proxy.start(QStringLiteral(STREAMGATE_BINARY),
                    {QStringLiteral("--headless"), QStringLiteral("--config"), path});
        QVERIFY(proxy.waitForStarted(10000));
        QTRY_COMPARE_WITH_TIMEOUT(out.count("listener up"), 2, 10000);

        const qint64 before = QDateTime::currentMSecsSinceEpoch();
        const int clientPort = greetedSession(quint16(ports[0]), greeting);
        QVERIFY(clientPort > 0);
        QTRY_COMPARE_WITH_TIMEOUT(sessionLines(out).size(), 1, 5000);
        const qint64 after = QDateTime::currentMSecsSinceEpoch();
        QStringList f = sessionLines(out)[0].split('|');
        QCOMPARE(f.size(), 16);
        QCOMPARE(f[0], QStringLiteral("127.0.0.2"));
        QCOMPARE(f[1].toInt(), clientPort);
        QCOMPARE(f[2], QStringLiteral("127.0.0.3"));
        QCOMPARE(f[3].toInt(), ports[0]);
        QCOMPARE(f[4], QStringLiteral("TCP"));
        QCOMPARE(f[5], QStringLiteral("200"));
        QCOMPARE(f[6].toInt(), greeting.size()); // bytes_sent: to the client
        QCOMPARE(f[7], QStringLiteral("11"));    // bytes_received: from the client
        QCOMPARE(greeter.bytesIn.load(), qint64(11));
        const double seconds = f[8].toDouble();
        QVERIFY2(f[8].contains(QRegularExpression(QStringLiteral(R"(^\d+\.\d{3}$)"))) &&
                     seconds >= 0.29 && seconds * 1000 <= double(after - before),
                 qPrintable(f[8]));
        QCOMPARE(f[9], QStringLiteral("127.0.0.1:%1").arg(greeter.port()));
        QCOMPARE(f[10], QStringLiteral("11"));
        QCOMPARE(f[11].toInt(), greeting.size());
        QVERIFY2(f[12].contains(QRegularExpression(QStringLiteral(R"(^0\.\d{3}$)"))),
                 qPrintable(f[12]));
        const QDateTime local =
            QLocale::c().toDateTime(f[13].left(20), QStringLiteral("dd/MMM/yyyy:HH:mm:ss"));
        const QDateTime iso = QDateTime::fromString(f[14], Qt::ISODate);
        QVERIFY2(local.isValid() && iso.isValid(), qPrintable(f[13] + " / " + f[14]));
        QCOMPARE(local.toSecsSinceEpoch(), iso.toSecsSinceEpoch());
        QVERIFY(iso.toMSecsSinceEpoch() >= before / 1000 * 1000 &&
                iso.toMSecsSinceEpoch() <= after);
        QCOMPARE(f[15], QStringLiteral("greet"));

        // The first node refuses, the retry reaches the greeter: one value per attempt.
        const int retryPort = greetedSession(quint16(ports[1]), greeting);
        QVERIFY(retryPort > 0);
        QTRY_COMPARE_WITH_TIMEOUT(sessionLines(out).size(), 2, 5000);
        f = sessionLines(out)[1].split('|');
        QCOMPARE(f[1].toInt(), retryPort);
        QCOMPARE(f[5], QStringLiteral("200"));
        QCOMPARE(f[9], QStringLiteral("127.0.0.1:%1, 127.0.0.1:%2").arg(dead).arg(greeter.port()));
        QCOMPARE(f[10], QStringLiteral("0, 11"));
        QCOMPARE(f[11], QStringLiteral("0, %1").arg(greeting.size()));
        QVERIFY2(f[12].contains(QRegularExpression(QStringLiteral(R"(^-, 0\.\d{3}$)"))),
                 qPrintable(f[12]));
        QCOMPARE(f[15], QStringLiteral("retry"));

        // Edited in the file while running: the next session takes the new format.
        write(QStringLiteral(R"({ "format": "port=$remote_port status=${status}!" })"), 2);
        // (QTRY counts its timeout in wait steps, not in the time a session takes.)
        QElapsedTimer deadline;
        deadline.start();
        bool reformatted = false;
        while (!reformatted && deadline.elapsed() < 15000) {
            const qsizetype lines = sessionLines(out).size();
            const int port = greetedSession(quint16(ports[0]), greeting);
            QVERIFY(port > 0);
            // The writer batches what arrives within 100 ms.
            QVERIFY(QTest::qWaitFor([&] { return sessionLines(out).size() > lines; }, 5000));
            reformatted =
                sessionLines(out).constLast() == QStringLiteral("port=%1 status=200!").arg(port);
        }
        QVERIFY2(reformatted, out.right(400).constData());

        // Switched off with a third listener: its "listener up" line comes, no session line.
        write(QStringLiteral(R"({ "enable": false, "format": "port=$remote_port" })"), 3);
        QTRY_COMPARE_WITH_TIMEOUT(out.count("listener up"), 3, 10000);
        const qsizetype sessions = sessionLines(out).size();
        QVERIFY(greetedSession(quint16(ports[0]), greeting) > 0);
        write(QStringLiteral(R"({ "enable": false, "format": "port=$remote_port" })"), 4);
        QTRY_COMPARE_WITH_TIMEOUT(out.count("listener up"), 4, 10000);
        QCOMPARE(sessionLines(out).size(), sessions);

        proxy.terminate();
        QVERIFY(proxy.waitForFinished(10000));
        QCOMPARE(proxy.exitCode(), 0);
    }

    // An unknown variable is refused when the config is read, naming the setting, the variable
    // and the known ones, before any line is written.
    void accessLogFormatCheckedUpFront()
    {
        const QString path = m_dir.filePath(QStringLiteral("badformat.json"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(
            R"({ "streamgate": { "access_log": { "format": "$remote_addr $request_time" } } })");
        f.close();
        QProcess check;
        check.start(QStringLiteral(STREAMGATE_BINARY),
                    {QStringLiteral("--check"), QStringLiteral("--config"), path});
        QVERIFY(check.waitForFinished(10000));
        const QByteArray printed = check.readAllStandardOutput();
        QCOMPARE(check.exitCode(), 1);
        QVERIFY2(printed.contains("streamgate.access_log.format: unknown variable "
                                  "\"$request_time\" (known: $remote_addr, $remote_port, "),
                 printed.constData());
        QVERIFY2(printed.contains("$realip_remote_port, $route_id, $close_reason, "
                                  "$streamgate_closed_by, "),
                 printed.constData());

        QProcess run;
        run.start(QStringLiteral(STREAMGATE_BINARY),
                  {QStringLiteral("--headless"), QStringLiteral("--config"), path});
        QVERIFY(run.waitForFinished(10000));
        QCOMPARE(run.exitCode(), 1);
        QVERIFY(run.readAllStandardOutput().isEmpty());
        QVERIFY(run.readAllStandardError().contains("unknown variable \"$request_time\""));
    }

    // Headless, allowed for 1 hour (through the admin API) on a clock where the hour lasts
    // 1.5 s: in at once, the time left in GET /streamgate/v1/timed_allows (the APISIX route
    // keeps a plain whitelist), and at the end the file has neither the entry nor its expiry,
    // the connection it let in is closed, the next one refused, and the log says so.
    void timedAllowEndsHeadless()
    {
        const quint16 port = freePort();
        const QString path = writeTimedConfig(QStringLiteral("hour.json"), port);
        StreamgateProcess proxy;
        QVERIFY(startTimed(proxy, path, 1500));
        QVERIFY(refusedOn("127.0.0.21", port));
        const HttpAnswer wrong = allow(proxy, "127.0.0.21", "week");
        QCOMPARE(wrong.status, 400);
        QVERIFY2(wrong.body.contains("duration \\\"week\\\" is not one of"),
                 wrong.body.constData());
        const HttpAnswer allowed = allow(proxy, "127.0.0.21", "hour");
        QVERIFY2(allowed.status == 200, allowed.body.constData());
        QCOMPARE(allowed.json.value("duration").toString(), QStringLiteral("hour"));
        QTcpSocket held;
        QVERIFY(hold(held, "127.0.0.21", port));

        const QJsonObject entry = timedAllow(proxy);
        QCOMPARE(entry.value("route_id").toString(), QStringLiteral("echo"));
        QCOMPARE(entry.value("client").toString(), QStringLiteral("127.0.0.21"));
        QCOMPARE(entry.value("duration").toString(), QStringLiteral("hour"));
        const double left = entry.value("remaining_seconds").toDouble();
        QVERIFY2(left > 0 && left <= 1.5, qPrintable(QString::number(left)));
        QVERIFY(entry.value("until").isString());
        const HttpAnswer route = proxy.get(QStringLiteral("/apisix/admin/stream_routes/echo"));
        QCOMPARE(route.json["value"]["plugins"]["ip-restriction"].toObject(),
                 (QJsonObject{{"whitelist", QJsonArray{"127.0.0.1", "127.0.0.21"}}}));
        QVERIFY(fileBytes(path).contains("allow_expiry"));

        QTRY_VERIFY_WITH_TIMEOUT(!fileBytes(path).contains("127.0.0.21"), 4000);
        QVERIFY(!fileBytes(path).contains("allow_expiry"));
        QTRY_VERIFY_WITH_TIMEOUT(held.state() == QAbstractSocket::UnconnectedState, 3000);
        QVERIFY(refusedOn("127.0.0.21", port));
        QTRY_VERIFY_WITH_TIMEOUT(
            proxy.readOutput().contains("access for 127.0.0.21 to route Echo ended"), 3000);
        QVERIFY(proxy.output.contains("access for 127.0.0.21 to route Echo ends at "));
        QCOMPARE(proxy.get(QStringLiteral("/streamgate/v1/timed_allows")).json.value("total"),
                 QJsonValue(0));
    }

    // Headless, allowed once: the first connection gets in, the access ends when it does.
    void onceAllowEndsWithItsConnectionHeadless()
    {
        const quint16 port = freePort();
        const QString path = writeTimedConfig(QStringLiteral("once.json"), port);
        StreamgateProcess proxy;
        QVERIFY(startTimed(proxy, path, 60000)); // 2 s for the connection to come
        const HttpAnswer allowed = allow(proxy, "127.0.0.22", "once");
        QVERIFY2(allowed.status == 200, allowed.body.constData());
        QCOMPARE(timedAllow(proxy).value("connected"), QJsonValue(false));
        QTcpSocket held;
        QVERIFY(hold(held, "127.0.0.22", port));
        QTRY_COMPARE_WITH_TIMEOUT(timedAllow(proxy).value("connected"), QJsonValue(true), 3000);
        QVERIFY(timedAllow(proxy).value("remaining_seconds").isNull()); // ends with it
        QVERIFY(fileBytes(path).contains("127.0.0.22"));
        held.disconnectFromHost();
        QTRY_VERIFY_WITH_TIMEOUT(!fileBytes(path).contains("127.0.0.22"), 3000);
        QVERIFY(refusedOn("127.0.0.22", port));
    }

    // Headless, allowed until Streamgate quits: a clean stop (SIGTERM) ends it; one left by a
    // run that was killed ends at the next start, while one for an hour stays and is said.
    void untilQuitEndsAtStopAndAtNextStartHeadless()
    {
        const quint16 port = freePort();
        const QString path = writeTimedConfig(QStringLiteral("quit.json"), port);
        {
            StreamgateProcess proxy;
            QVERIFY(startTimed(proxy, path, 60000));
            QVERIFY(allow(proxy, "127.0.0.23", "until_quit").status == 200);
            QVERIFY(timedAllow(proxy).value("remaining_seconds").isNull());
            QVERIFY(passes(QHostAddress("127.0.0.23"), port));
            QVERIFY(fileBytes(path).contains("until_quit"));
            ::kill(pid_t(proxy.process.processId()), SIGTERM);
            QCOMPARE(proxy.waitForExit(), 0);
            QVERIFY(!fileBytes(path).contains("127.0.0.23"));
            QVERIFY(!fileBytes(path).contains("allow_expiry"));
            QVERIFY(proxy.output.contains("access for 127.0.0.23 to route Echo ended"));
        }
        {
            StreamgateProcess proxy;
            QVERIFY(startTimed(proxy, path, 60000));
            QVERIFY(allow(proxy, "127.0.0.24", "until_quit").status == 200);
            QVERIFY(allow(proxy, "127.0.0.25", "hour").status == 200);
            proxy.process.kill(); // no clean quit
            proxy.process.waitForFinished(5000);
            QVERIFY(fileBytes(path).contains("until_quit"));
        }
        StreamgateProcess next;
        QVERIFY(startTimed(next, path, 60000));
        QVERIFY(!fileBytes(path).contains("127.0.0.24"));
        QVERIFY(!fileBytes(path).contains("until_quit"));
        QVERIFY(refusedOn("127.0.0.24", port));
        // An allow for an hour outlives the restart, and the log says until when.
        QVERIFY(passes(QHostAddress("127.0.0.25"), port));
        QTRY_VERIFY_WITH_TIMEOUT(
            next.readOutput().contains("access for 127.0.0.25 to route Echo ends at "), 3000);
    }

    void sigtermLetsOpenSessionFinish()
    {
        QTcpSocket open;
        open.connectToHost(QHostAddress::LocalHost, m_port);
        QVERIFY(open.waitForConnected(3000));
        open.write("still here\n");
        QTRY_COMPARE_WITH_TIMEOUT(open.bytesAvailable(), qint64(11), 3000);
        open.readAll();

        ::kill(pid_t(m_process.processId()), SIGTERM);
        // New connections are refused at once, the open one keeps working during the grace.
        QTRY_VERIFY_WITH_TIMEOUT(m_stderr.contains("SIGTERM"), 5000);
        QTcpSocket late;
        late.connectToHost(QHostAddress::LocalHost, m_port);
        QVERIFY(!late.waitForConnected(1000) || !late.waitForReadyRead(500));
        open.write("bye\n");
        QTRY_COMPARE_WITH_TIMEOUT(open.bytesAvailable(), qint64(4), 3000);
        open.disconnectFromHost();

        QVERIFY(m_process.waitForFinished(10000));
        QCOMPARE(m_process.exitStatus(), QProcess::NormalExit);
        QCOMPARE(m_process.exitCode(), 0);
        readOutput();
        // The session that ended during the grace period is logged too.
        QVERIFY2(m_stdout.contains("TCP 200 15 15"), m_stdout.constData());
    }

    void cleanupTestCase()
    {
        QMetaObject::invokeMethod(
            &m_echo,
            [this] {
                m_echo.close();
                m_echo.moveToThread(QCoreApplication::instance()->thread());
            },
            Qt::BlockingQueuedConnection);
        m_echoThread.quit();
        m_echoThread.wait();
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(5000);
        }
    }
};

QTEST_GUILESS_MAIN(TestHeadless)
#include "tst_headless.moc"
