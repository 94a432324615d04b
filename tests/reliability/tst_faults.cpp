// Faults through the real `streamgate --headless`, judged by what a client sees and by the
// access log line of the session: an upstream that accepts then resets, an upstream that never
// answers the handshake, a client that goes silent without a FIN, and descriptor exhaustion
// (the child runs with a low RLIMIT_NOFILE): the proxy refuses cleanly, keeps its established
// sessions and serves again once descriptors are free.

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

QJsonObject routeTo(const QString& id, int port, int upstreamPort, double connect, double idle)
{
    return QJsonObject{
        {"id", id},
        {"server_port", port},
        {"upstream",
         QJsonObject{
             {"type", "roundrobin"},
             {"retries", 0},
             {"nodes", QJsonObject{{QStringLiteral("127.0.0.1:%1").arg(upstreamPort), 1}}},
             {"timeout", QJsonObject{{"connect", connect}, {"send", idle}, {"read", idle}}}}},
    };
}

} // namespace

class TestFaults : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QProcess m_proxy;
    QByteArray m_log;

    // Starts the headless proxy on `routes` (one listener per distinct server_port); waits until
    // every port accepts. `nofile` > 0 limits the child's descriptors (soft and hard).
    bool startProxy(const QJsonArray& routes, const QList<int>& ports, rlim_t nofile = 0)
    {
        QJsonArray listeners;
        for (int p : ports)
            listeners.append(QStringLiteral("127.0.0.1:%1").arg(p));
        const QJsonObject config{{"stream_proxy", QJsonObject{{"tcp", listeners}}},
                                 {"stream_routes", routes}};
        const QString path = m_dir.filePath(QStringLiteral("faults.json"));
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly) || f.write(QJsonDocument(config).toJson()) < 0)
            return false;
        f.close();
        m_log.clear();
        if (nofile > 0) {
            m_proxy.setChildProcessModifier([nofile] {
                const rlimit limit{nofile, nofile};
                ::setrlimit(RLIMIT_NOFILE, &limit);
            });
        } else {
            m_proxy.setChildProcessModifier({});
        }
        m_proxy.start(QStringLiteral(STREAMGATE_BINARY), {"--headless", "--config", path});
        if (!m_proxy.waitForStarted(10000))
            return false;
        for (int p : ports) {
            const qint64 deadline = nowMs() + 10000;
            int fd = -1;
            while ((fd = connectTo("127.0.0.1", p, {}, 200)) < 0 && nowMs() < deadline)
                QTest::qWait(20);
            if (fd < 0)
                return false;
            ::close(fd);
        }
        return true;
    }

    // Waits for an access log line containing every one of `parts`.
    bool logHas(const QStringList& parts, int timeoutMs = 5000)
    {
        const qint64 deadline = nowMs() + timeoutMs;
        do {
            m_log += m_proxy.readAllStandardOutput();
            for (const QByteArray& line : m_log.split('\n')) {
                bool all = true;
                for (const QString& p : parts)
                    all = all && line.contains(p.toUtf8());
                if (all)
                    return true;
            }
            m_proxy.waitForReadyRead(100);
        } while (nowMs() < deadline);
        return false;
    }

    void stopProxy() { stopProcess(m_proxy); }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY(QFile::exists(QStringLiteral(STREAMGATE_BINARY)));
    }
    void cleanup() { stopProxy(); }

    void upstreamAcceptsThenResets()
    {
        int upPort = 0;
        const int lfd = listenOn("127.0.0.1", 0, 16, &upPort);
        QVERIFY(lfd >= 0);
        const int port = freePort();
        QVERIFY(startProxy({routeTo("reset", port, upPort, 2, 30)}, {port}));
        // startProxy's readiness probe and the proxy's own reachability probe reached the
        // upstream too: every connection the proxy opens is accepted and reset, the client's
        // among them.
        const int client = connectTo("127.0.0.1", port);
        QVERIFY(client >= 0);
        QVERIFY(sendAll(client, "ping"));
        int resets = 0;
        const qint64 deadline = nowMs() + 5000;
        bool clientEnded = false;
        while (!clientEnded && nowMs() < deadline) {
            pollfd p[2] = {{lfd, POLLIN, 0}, {client, POLLIN, 0}};
            ::poll(p, 2, 100);
            if (p[0].revents & POLLIN) {
                const int up = ::accept(lfd, nullptr, nullptr);
                QVERIFY(up >= 0);
                const linger hard{1, 0};
                ::setsockopt(up, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
                ::close(up);
                ++resets;
            }
            clientEnded = p[1].revents != 0;
        }
        QVERIFY2(resets >= 2, qPrintable(QString::number(resets)));
        QByteArray got;
        const ReadEnd end = waitForEnd(client, 5000, &got);
        QVERIFY2(end == ReadEnd::Reset || end == ReadEnd::Eof, "the client was left hanging");
        QVERIFY(got.isEmpty());
        ::close(client);
        ::close(lfd);
        QVERIFY2(logHas({"route=\"reset\"", "reason=\"upstream reset\""}), m_log.constData());
    }

    void upstreamNeverAnswers()
    {
        // A listener with backlog 0 and a full queue: SYNs to it go unanswered.
        int deadPort = 0;
        const int lfd = listenOn("127.0.0.1", 0, 0, &deadPort);
        QVERIFY(lfd >= 0);
        std::vector<int> fillers;
        for (int i = 0; i < 8; ++i) {
            const int f = connectTo("127.0.0.1", deadPort, {}, 150);
            if (f < 0)
                break;
            fillers.push_back(f);
        }
        QVERIFY(!fillers.empty());
        const int port = freePort();
        QVERIFY(startProxy({routeTo("dead", port, deadPort, 0.5, 30)}, {port}));
        const qint64 t0 = nowMs();
        const int client = connectTo("127.0.0.1", port);
        QVERIFY(client >= 0);
        const ReadEnd end = waitForEnd(client, 10000);
        QVERIFY(end == ReadEnd::Eof || end == ReadEnd::Reset);
        const qint64 waited = nowMs() - t0;
        QVERIFY2(waited >= 400 && waited < 5000, qPrintable(QString::number(waited)));
        ::close(client);
        QVERIFY2(logHas({"route=\"dead\"", " 502 ", "reason=\"connect failed\""}),
                 m_log.constData());
        for (int f : fillers)
            ::close(f);
        ::close(lfd);
    }

    void clientGoesSilentWithoutFin()
    {
        TestServer echo(TestServer::Echo);
        QVERIFY(echo.ok());
        const int port = freePort();
        QVERIFY(startProxy({routeTo("silent", port, echo.port(), 2, 1)}, {port}));
        const int client = connectTo("127.0.0.1", port);
        QVERIFY(client >= 0);
        QVERIFY(sendAll(client, "hello"));
        QCOMPARE(recvExactly(client, 5), QByteArray("hello"));
        // The client sends nothing more and never closes: only the idle timeout can end it.
        const qint64 t0 = nowMs();
        QVERIFY2(logHas({"route=\"silent\"", "reason=\"idle timeout\"", " 5 5 "}, 8000),
                 m_log.constData());
        QVERIFY(nowMs() - t0 >= 700);
        QCOMPARE(waitForEnd(client, 2000), ReadEnd::Eof);
        QTRY_COMPARE_WITH_TIMEOUT(echo.open.load(), 0, 5000);
        ::close(client);
    }

    void descriptorExhaustion_data()
    {
        // Sessions hold descriptors in pairs (client and upstream, relay pipes), so whether the
        // listener's accept() or the worker's socket() for the upstream meets the limit first
        // depends mostly on the parity of the limit: both are tried.
        QTest::addColumn<int>("nofile");
        QTest::newRow("limit 64") << 64;
        QTest::newRow("limit 65") << 65;
    }

    void descriptorExhaustion()
    {
        QFETCH(int, nofile);
        TestServer echo(TestServer::Echo);
        QVERIFY(echo.ok());
        const int port = freePort();
        QVERIFY(startProxy({routeTo("fds", port, echo.port(), 2, 60)}, {port}, rlim_t(nofile)));

        // Open sessions one by one until the proxy cannot take another.
        std::vector<int> held;
        int refused = -1;
        QList<int> waiting; // connections the proxy did not serve while exhausted
        for (int i = 0; i < nofile; ++i) {
            const int fd = connectTo("127.0.0.1", port, {}, 2000);
            if (fd < 0) {
                refused = i;
                break;
            }
            QByteArray got;
            const QByteArray ping = QByteArray("ping") + QByteArray::number(i);
            const ReadEnd end = exchange(fd, ping, got, ping.size(), false, 1500);
            if (got == ping) {
                held.push_back(fd);
                continue;
            }
            refused = i;
            if (end == ReadEnd::Timeout)
                waiting << fd; // accepted by the kernel, not yet by the proxy
            else
                ::close(fd); // closed by the proxy: a clean refusal
            break;
        }
        QVERIFY2(refused > 0,
                 qPrintable(QStringLiteral("never exhausted: %1 sessions").arg(held.size())));
        qInfo("%d descriptors: %d sessions served, then refused (%s)", nofile, int(held.size()),
              waiting.isEmpty() ? "closed by the proxy" : "left in the listen queue");
        QVERIFY2(waiting.isEmpty(), "the refused client was left waiting instead of being closed");
        // Said in words, with the limit that was hit.
        const QString reached = QStringLiteral("descriptor limit reached (%1)").arg(nofile);
        QVERIFY2(logHas({reached}), m_log.constData());

        // While exhausted the proxy must not spin on the listener, also with clients knocking.
        // Each knock is served (the proxy gave idle relay pipes back) or refused, never left
        // hanging.
        const double cpu0 = cpuSeconds(m_proxy.processId());
        for (int i = 0; i < 5; ++i) {
            const int fd = connectTo("127.0.0.1", port, {}, 2000);
            QVERIFY(fd >= 0);
            QByteArray got;
            const ReadEnd end = exchange(fd, "knock", got, 5, false, 1500);
            ::close(fd);
            QVERIFY2(end != ReadEnd::Timeout, "a client knocking while exhausted was left hanging");
        }
        QTest::qWait(1000);
        const double cpu = cpuSeconds(m_proxy.processId()) - cpu0;
        QVERIFY2(cpu < 0.5, qPrintable(QStringLiteral("%1 s of CPU while exhausted").arg(cpu)));

        // Established sessions keep working.
        for (size_t i = 0; i < held.size(); ++i) {
            QByteArray got;
            const QByteArray ping = QByteArray("again") + QByteArray::number(qulonglong(i));
            exchange(held[i], ping, got, ping.size(), false, 3000);
            QCOMPARE(got, ping);
        }
        QCOMPARE(m_proxy.state(), QProcess::Running);

        // Free descriptors: new clients are served again.
        for (int fd : held)
            ::close(fd);
        for (int fd : waiting)
            ::close(fd);
        bool served = false;
        const qint64 deadline = nowMs() + 10000;
        while (!served && nowMs() < deadline) {
            const int fd = connectTo("127.0.0.1", port, {}, 2000);
            if (fd >= 0) {
                QByteArray got;
                exchange(fd, "back", got, 4, false, 1000);
                served = got == "back";
                ::close(fd);
            }
            if (!served)
                QTest::qWait(100);
        }
        QVERIFY2(served, "the proxy did not recover after descriptors were freed");
    }
};

QTEST_GUILESS_MAIN(TestFaults)
#include "tst_faults.moc"
