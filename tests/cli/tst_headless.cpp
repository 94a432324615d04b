// `streamgate --headless` run as a user runs it: a whitelisted client reaches a real TCP
// service through it, another address is refused, edits to the file apply without a restart
// (a broken edit is refused and the running config stays), SIGHUP reloads, SIGTERM lets an
// open session finish and exits 0, and the access log says what happened.

#include "echoserver.h"
#include "loopback.h"

#include <QDir>
#include <QFile>
#include <QProcess>
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

    bool passes(const QHostAddress& from)
    {
        bool closed = false;
        return exchange(from, m_port, "ping\n", &closed) == "ping\n";
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
