// The real `streamgate --headless` with 256 descriptors (soft and hard limit) while clients
// from 25 addresses open 250 connections to the metrics port and leave them idle: the metrics
// endpoint keeps only its share of the descriptors and closes the rest at once, so new proxy
// clients are still served, the admin API still answers, and the process does not spin.

#include "loopback.h"
#include "procstat.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <sys/resource.h>

using namespace sgtest;

namespace {

const QByteArray kKey = "0c9a7d1e2f3b4a5c6d7e8f9012345678";

// One HTTP/1.1 GET on a fresh connection; the status code, or 0 when none came.
int getStatus(int port, const QByteArray& path, const QByteArray& key = {})
{
    const int fd = connectTo(QStringLiteral("127.0.0.1"), port, {}, 2000);
    if (fd < 0)
        return 0;
    QByteArray request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    if (!key.isEmpty())
        request += "X-API-KEY: " + key + "\r\n";
    QByteArray got;
    exchange(fd, request + "\r\n", got, 12, false, 3000);
    ::close(fd);
    return got.startsWith("HTTP/1.1 ") ? got.mid(9, 3).toInt() : 0;
}

} // namespace

class TestApiDescriptors : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QProcess m_proxy;

private Q_SLOTS:
    void cleanup() { stopProcess(m_proxy); }

    void idleMetricsConnectionsTakeOnlyTheirShare()
    {
        QVERIFY(m_dir.isValid());
        TestServer echo(TestServer::Echo);
        QVERIFY(echo.ok());
        const int proxyPort = freePort();
        const int adminPort = freePort();
        const int metricsPort = freePort();
        const QJsonObject config{
            {"stream_proxy",
             QJsonObject{{"tcp", QJsonArray{QStringLiteral("127.0.0.1:%1").arg(proxyPort)}}}},
            {"stream_routes",
             QJsonArray{QJsonObject{
                 {"id", "echo"},
                 {"server_port", proxyPort},
                 {"upstream",
                  QJsonObject{
                      {"nodes",
                       QJsonObject{{QStringLiteral("127.0.0.1:%1").arg(echo.port()), 1}}}}}}}},
            {"streamgate",
             QJsonObject{
                 {"admin", QJsonObject{{"listen", QStringLiteral("127.0.0.1:%1").arg(adminPort)},
                                       {"key", QString::fromLatin1(kKey)}}},
                 {"prometheus",
                  QJsonObject{{"listen", QStringLiteral("127.0.0.1:%1").arg(metricsPort)}}}}},
        };
        const QString path = m_dir.filePath(QStringLiteral("descriptors.json"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly) && f.write(QJsonDocument(config).toJson()) > 0);
        f.close();
        m_proxy.setChildProcessModifier([] {
            const rlimit limit{256, 256};
            ::setrlimit(RLIMIT_NOFILE, &limit);
        });
        m_proxy.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        m_proxy.start(QStringLiteral(STREAMGATE_BINARY), {"--headless", "--config", path});
        QVERIFY(m_proxy.waitForStarted(10000));
        QVERIFY(QTest::qWaitFor(
            [&] { return getStatus(metricsPort, "/apisix/prometheus/metrics") == 200; }, 10000));
        QCOMPARE(getStatus(adminPort, "/apisix/admin/stream_routes", kKey), 200);

        // 250 idle connections from 25 addresses; each stays open unless the server closes it.
        std::vector<int> idle;
        for (int i = 0; i < 250; ++i) {
            const int fd = connectTo(QStringLiteral("127.0.0.1"), metricsPort,
                                     QStringLiteral("127.0.0.%1").arg(10 + i / 10), 1000);
            if (fd >= 0)
                idle.push_back(fd);
        }
        QVERIFY2(idle.size() > 200, qPrintable(QString::number(idle.size())));
        const double cpu0 = cpuSeconds(m_proxy.processId());
        QElapsedTimer clock;
        clock.start();

        // New proxy clients are served, and the admin API answers.
        for (int i = 0; i < 20; ++i) {
            const int fd = connectTo(QStringLiteral("127.0.0.1"), proxyPort, {}, 2000);
            QVERIFY2(fd >= 0, "the proxy did not accept a new client");
            QByteArray got;
            const QByteArray ping = "ping" + QByteArray::number(i);
            exchange(fd, ping, got, ping.size(), false, 3000);
            ::close(fd);
            QCOMPARE(got, ping);
        }
        QCOMPARE(getStatus(adminPort, "/apisix/admin/stream_routes", kKey), 200);

        // The metrics endpoint holds its share (a sixteenth of 256) and closed the others.
        int open = 0;
        for (int fd : idle) {
            char byte = 0;
            const ssize_t n = ::recv(fd, &byte, 1, MSG_DONTWAIT | MSG_PEEK);
            if (n < 0 && errno == EAGAIN)
                ++open;
        }
        QVERIFY2(open <= 16, qPrintable(QStringLiteral("%1 idle connections held").arg(open)));

        // Two seconds with the idle connections held: no busy loop.
        QTest::qWait(int(std::max<qint64>(0, 2000 - clock.elapsed())));
        const double cpu = cpuSeconds(m_proxy.processId()) - cpu0;
        qInfo("%d of %d idle metrics connections held; %.2f s of CPU in 2 s", open,
              int(idle.size()), cpu);
        QVERIFY2(cpu < 0.5, qPrintable(QStringLiteral("%1 s of CPU in 2 s").arg(cpu)));
        QCOMPARE(m_proxy.state(), QProcess::Running);
        for (int fd : idle)
            ::close(fd);
    }
};

QTEST_GUILESS_MAIN(TestApiDescriptors)
#include "tst_apidescriptors.moc"
