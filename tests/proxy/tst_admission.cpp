// The admission pipeline (core/proxy/admission.h) as a plugin author meets it: a stream plugin
// registered once, here a test's own, runs for TCP connections and UDP sessions alike, in
// APISIX priority order (ip-restriction 3000 decides before it, it decides before limit-conn
// 1003 counts), and its log phase runs once per admitted client: when a later plugin refuses
// the client (with that refusal, no record), and when the session ends (why, and its record).

#include "loopback.h"
#include "proxy/engine.h"
#include "proxy/streamplugin.h"
#include "proxyfixture.h"
#include "stats/statshub.h"
#include "udppeers.h"

#include <QTest>
#include <atomic>
#include <mutex>

using namespace sg;
using namespace sgtest;

namespace {

// Refuses 127.0.0.4, notes every client it is asked about and counts its log phases. Only on
// routes whose id starts with "gated".
struct Recorder
{
    std::mutex mutex;
    QStringList seen; // remote_addr, in the order asked
    std::atomic<int> logs{0};
    // Per log phase: why the session ended, and the client of its record ("" when none).
    QList<QPair<CloseReason, QString>> endings;

    void clear()
    {
        std::lock_guard lock(mutex);
        seen.clear();
        endings.clear();
        logs = 0;
    }
    QPair<CloseReason, QString> lastEnding()
    {
        std::lock_guard lock(mutex);
        return endings.isEmpty() ? QPair<CloseReason, QString>{} : endings.constLast();
    }
    int timesSeen(const QString& ip)
    {
        std::lock_guard lock(mutex);
        return int(seen.count(ip));
    }
};
Recorder recorder;

class RecorderPlugin final : public StreamPlugin
{
public:
    PrereadVerdict preread(const StreamClient& client, const QString& routeId, RouteStats&,
                           QString& held) override
    {
        const QString ip = client.remoteAddress.toString();
        {
            std::lock_guard lock(recorder.mutex);
            recorder.seen << ip;
        }
        if (ip == QLatin1String("127.0.0.4"))
            return PrereadVerdict::refuse(
                CloseReason::Limited, QStringLiteral("test-gate on route %1").arg(routeId), false);
        held = ip;
        return PrereadVerdict::admit();
    }
    void log(const StreamLog& log) override
    {
        if (log.held.isEmpty())
            return;
        {
            std::lock_guard lock(recorder.mutex);
            recorder.endings << qMakePair(
                log.reason, log.record ? log.record->base.clientAddress.toString() : QString());
        }
        ++recorder.logs;
    }
};

StreamPluginType recorderType()
{
    return {QStringLiteral("test-gate"), 1500,
            [](const StreamPluginBuild& b) -> std::shared_ptr<StreamPlugin> {
                if (!b.route.idString().startsWith(QLatin1String("gated")))
                    return nullptr;
                return std::make_shared<RecorderPlugin>();
            }};
}

// One client of either transport, from a chosen loopback address.
class Client
{
public:
    Client(Protocol protocol, int port, const QString& from) : m_protocol(protocol)
    {
        if (protocol == Protocol::Tcp)
            m_fd = connectTo(QStringLiteral("127.0.0.1"), port, from);
        else
            m_udp = std::make_unique<UdpClient>(QStringLiteral("127.0.0.1"), port, from);
    }
    ~Client() { end(); }

    // Whether the proxy relays one round trip for this client.
    bool served()
    {
        if (m_protocol == Protocol::Udp)
            return m_udp->ask("ping", 700).value_or(QByteArray()) == "ping";
        if (m_fd < 0)
            return false;
        QByteArray got;
        return exchange(m_fd, "ping", got, 4, false, 3000) == ReadEnd::Data && got == "ping";
    }
    void end()
    {
        if (m_fd >= 0)
            ::close(m_fd);
        m_fd = -1;
    }

private:
    Protocol m_protocol;
    int m_fd = -1;
    std::unique_ptr<UdpClient> m_udp;
};

int countDenied(const Engine& engine, CloseReason reason, const QString& text)
{
    int n = 0;
    for (const Event& e : engine.eventsSince(0, 100000))
        if (e.kind == EventKind::Deny && e.connection.closeReason == reason &&
            e.text.contains(text))
            ++n;
    return n;
}

} // namespace

class TstAdmission : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { addStreamPluginType(recorderType()); }

    void onePluginServesTcpAndUdpInPriorityOrder_data()
    {
        QTest::addColumn<Protocol>("protocol");
        QTest::newRow("tcp") << Protocol::Tcp;
        QTest::newRow("udp") << Protocol::Udp;
    }
    void onePluginServesTcpAndUdpInPriorityOrder()
    {
        QFETCH(Protocol, protocol);
        recorder.clear();
        TestServer tcpEcho(TestServer::Echo);
        UdpEcho udpEcho;
        EngineOptions o;
        o.workers = 2;
        Engine engine(o);
        const int port = protocol == Protocol::Tcp ? freePort() : freeUdpPort();
        const int upstreamPort = protocol == Protocol::Tcp ? tcpEcho.port() : udpEcho.port();
        StreamRoute r = route("gated", upstream({node("127.0.0.1", upstreamPort)}));
        IpRestrictionConf ip;
        ip.whitelist = QStringList{"127.0.0.2", "127.0.0.4"};
        r.plugins.ipRestriction = ip;
        LimitConnConf lc;
        lc.conn = 1;
        lc.burst = 0;
        lc.defaultConnDelay = 0.1;
        r.plugins.limitConn = lc;
        Config c;
        if (protocol == Protocol::Tcp)
            c.streamProxy.tcp << listenEntry("127.0.0.1", port);
        else
            c.streamProxy.udp << listenEntry("127.0.0.1", port);
        c.streamRoutes << r;
        engine.apply(c);

        // ip-restriction (3000) refuses 127.0.0.3 before the test plugin (1500) is asked.
        Client outsider(protocol, port, QStringLiteral("127.0.0.3"));
        QVERIFY(!outsider.served());
        QTRY_COMPARE(routeCounters(engine.snapshot(), "gated").deniedIpRestriction, quint64(1));
        QCOMPARE(recorder.timesSeen(QStringLiteral("127.0.0.3")), 0);

        // The test plugin refuses 127.0.0.4, on this transport as on the other.
        Client gated(protocol, port, QStringLiteral("127.0.0.4"));
        QVERIFY(!gated.served());
        QTRY_COMPARE(countDenied(engine, CloseReason::Limited, QStringLiteral("test-gate")), 1);
        QCOMPARE(recorder.timesSeen(QStringLiteral("127.0.0.4")), 1);
        QCOMPARE(recorder.logs.load(), 0);

        // 127.0.0.2 passes both; a second one at the same time passes the test plugin and is
        // then refused by limit-conn (1003), which lets the test plugin go at once.
        Client first(protocol, port, QStringLiteral("127.0.0.2"));
        QVERIFY(first.served());
        Client second(protocol, port, QStringLiteral("127.0.0.2"));
        QVERIFY(!second.served());
        QTRY_COMPARE(countDenied(engine, CloseReason::Limited, QStringLiteral("limit-conn")), 1);
        QCOMPARE(recorder.timesSeen(QStringLiteral("127.0.0.2")), 2);
        QCOMPARE(recorder.logs.load(), 1);
        QCOMPARE(toString(recorder.lastEnding().first), toString(CloseReason::Limited));
        QCOMPARE(recorder.lastEnding().second, QString()); // no record: never opened
        QCOMPARE(routeCounters(engine.snapshot(), "gated").limited, quint64(1));

        // The first session ends: its log phase runs, and limit-conn has room again.
        if (protocol == Protocol::Tcp)
            first.end();
        else
            QVERIFY(engine.killConnection(activeOn(engine.snapshot(), "gated")->id));
        QTRY_COMPARE(recorder.logs.load(), 2);
        const CloseReason ended =
            protocol == Protocol::Tcp ? CloseReason::ClientClosed : CloseReason::Killed;
        QCOMPARE(toString(recorder.lastEnding().first), toString(ended));
        QCOMPARE(recorder.lastEnding().second, QStringLiteral("127.0.0.2"));
        QTRY_VERIFY(engine.snapshot().active.isEmpty());
        bool servedAgain = false;
        const qint64 deadline = nowMs() + 5000;
        while (!servedAgain && nowMs() < deadline) {
            Client again(protocol, port, QStringLiteral("127.0.0.2"));
            servedAgain = again.served();
        }
        QVERIFY(servedAgain);
    }

    void routesWithoutThePluginDoNotRunIt()
    {
        recorder.clear();
        TestServer echo(TestServer::Echo);
        EngineOptions o;
        o.workers = 1;
        Engine engine(o);
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << listenEntry("127.0.0.1", port);
        c.streamRoutes << route("plain", upstream({node("127.0.0.1", echo.port())}));
        engine.apply(c);
        Client client(Protocol::Tcp, port, QStringLiteral("127.0.0.4"));
        QVERIFY(client.served());
        QCOMPARE(recorder.timesSeen(QStringLiteral("127.0.0.4")), 0);
    }
};

QTEST_GUILESS_MAIN(TstAdmission)
#include "tst_admission.moc"
