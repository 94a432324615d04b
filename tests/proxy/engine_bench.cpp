// sg_engine_bench: first figures for the TCP engine, in one process on loopback (not a test;
// the full comparison harness against nginx/HAProxy lives in tests/bench/).
//   - round trip (32-byte ping/pong) p50/p99 direct and through the engine, with 0 and N idle
//     sessions held by the same workers (the idle ones go to a separate upstream);
//   - user-space memory per idle session (RSS delta / N);
//   - snapshot() cost with those sessions open;
//   - bulk throughput with iperf3 (when installed), direct and through the engine (splice and
//     copy relays), with the process CPU seconds per GB moved.
// Usage: sg_engine_bench [--idle N] [--rounds R] [--no-iperf]

#include "loopback.h"
#include "procstat.h"
#include "proxy/engine.h"
#include "proxyfixture.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>
#include <algorithm>
#include <cstdio>
#include <sys/resource.h>

using namespace sg;
using namespace sgtest;

namespace {

struct Rtt
{
    double p50 = 0;
    double p99 = 0;
};

Rtt roundTrips(int port, int rounds)
{
    const int fd = connectTo("127.0.0.1", port);
    if (fd < 0)
        return {};
    const QByteArray ping(32, 'p');
    std::vector<double> us;
    us.reserve(size_t(rounds));
    for (int i = 0; i < rounds + 200; ++i) {
        QElapsedTimer t;
        t.start();
        if (!sendAll(fd, ping) || recvExactly(fd, 32, 2000).size() != 32)
            break;
        if (i >= 200) // warm-up excluded
            us.push_back(double(t.nsecsElapsed()) / 1000.0);
    }
    ::close(fd);
    if (us.empty())
        return {};
    std::sort(us.begin(), us.end());
    return Rtt{us[us.size() / 2], us[std::min(us.size() - 1, us.size() * 99 / 100)]};
}

struct Iperf
{
    double gbits = 0;
    double bytes = 0;
};

Iperf runIperf(const QString& iperf, int port)
{
    QProcess p;
    p.start(iperf, {"-c", "127.0.0.1", "-p", QString::number(port), "-t", "5", "-J"});
    if (!p.waitForFinished(30000))
        return {};
    const QJsonObject end =
        QJsonDocument::fromJson(p.readAllStandardOutput()).object().value("end").toObject();
    const QJsonObject sum = end.value("sum_received").toObject();
    return Iperf{sum.value("bits_per_second").toDouble() / 1e9, sum.value("bytes").toDouble()};
}

} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    int idle = 2000;
    int rounds = 20000;
    bool iperf = true;
    const QStringList args = app.arguments();
    for (int i = 1; i < args.size(); ++i) {
        if (args[i] == "--idle" && i + 1 < args.size())
            idle = args[++i].toInt();
        else if (args[i] == "--rounds" && i + 1 < args.size())
            rounds = args[++i].toInt();
        else if (args[i] == "--no-iperf")
            iperf = false;
    }

    TestServer echo(TestServer::Echo);
    TestServer sink(TestServer::Sink);
    EngineOptions o;
    Engine engine(o);
    const int rttPort = freePort();
    const int idlePort = freePort();
    Config c;
    c.streamProxy.tcp << listenEntry("127.0.0.1", rttPort) << listenEntry("127.0.0.1", idlePort);
    StreamRoute r1 = route("rtt", upstream({node("127.0.0.1", echo.port())}));
    r1.serverPort = rttPort;
    StreamRoute r2 = route("idle", upstream({node("127.0.0.1", sink.port())}));
    r2.serverPort = idlePort;
    c.streamRoutes << r1 << r2;
    engine.apply(c);

    std::printf("workers: %d, buffer %d KiB per direction\n",
                o.workers > 0 ? o.workers : defaultWorkers(), o.bufferSize / 1024);
    const Rtt direct = roundTrips(echo.port(), rounds);
    const Rtt proxied0 = roundTrips(rttPort, rounds);
    std::printf("round trip direct:               p50 %7.1f us  p99 %7.1f us\n", direct.p50,
                direct.p99);
    std::printf("round trip via engine, 0 idle:   p50 %7.1f us  p99 %7.1f us\n", proxied0.p50,
                proxied0.p99);

    const double rss0 = (double(residentBytes()) / 1024.0);
    std::vector<int> idleFds;
    idleFds.reserve(size_t(idle));
    for (int i = 0; i < idle; ++i) {
        const int fd = connectTo("127.0.0.1", idlePort);
        if (fd < 0)
            break;
        idleFds.push_back(fd);
    }
    const qint64 deadline = nowMs() + 20000;
    while (engine.snapshot().active.size() < qsizetype(idleFds.size()) && nowMs() < deadline)
        QThread::msleep(10);
    const double rss1 = (double(residentBytes()) / 1024.0);
    const Rtt proxiedN = roundTrips(rttPort, rounds);
    std::printf("round trip via engine, %zu idle: p50 %7.1f us  p99 %7.1f us\n", idleFds.size(),
                proxiedN.p50, proxiedN.p99);
    if (!idleFds.empty())
        std::printf("user-space memory per idle session: %.0f bytes (RSS delta, includes the "
                    "in-process sink's bookkeeping)\n",
                    (rss1 - rss0) * 1024.0 / double(idleFds.size()));
    QElapsedTimer st;
    st.start();
    const Snapshot snap = engine.snapshot();
    std::printf("snapshot() with %lld open sessions: %.2f ms\n", qlonglong(snap.active.size()),
                double(st.nsecsElapsed()) / 1e6);
    for (int fd : idleFds)
        ::close(fd);

    const QString iperfPath = QStandardPaths::findExecutable(QStringLiteral("iperf3"));
    if (iperf && !iperfPath.isEmpty()) {
        const int serverPort = freePort();
        QProcess server;
        server.start(iperfPath, {"-s", "-p", QString::number(serverPort), "-B", "127.0.0.1"});
        server.waitForStarted();
        QThread::msleep(300);
        const Iperf d = runIperf(iperfPath, serverPort);
        std::printf("iperf3 direct:                  %6.2f Gbit/s\n", d.gbits);
        for (const bool splice : {true, false}) {
            EngineOptions bo;
            bo.splice = splice;
            Engine bulk(bo);
            const int port = freePort();
            Config bc;
            bc.streamProxy.tcp << listenEntry("127.0.0.1", port);
            bc.streamRoutes << route("bulk", upstream({node("127.0.0.1", serverPort)}));
            bulk.apply(bc);
            const double cpu0 = cpuSeconds();
            const Iperf p = runIperf(iperfPath, port);
            const double cpu = cpuSeconds() - cpu0;
            std::printf("iperf3 via engine (%s): %6.2f Gbit/s, engine CPU %.2f s per GB\n",
                        splice ? "splice" : "copy  ", p.gbits,
                        p.bytes > 0 ? cpu / (p.bytes / 1e9) : 0.0);
        }
        server.kill();
        server.waitForFinished(3000);
    }
    return 0;
}
