// HealthChecker against real listeners on 127.0.0.1: a node goes down when its server stops
// listening and comes back when it listens again, after exactly the configured number of
// consecutive probe results; states and counters step as lua-resty-healthcheck's (APISIX's);
// a connect that runs out of time counts against unhealthy.timeouts, not tcp_failures;
// reconfiguration keeps the state of unchanged nodes; checks.passive counts the failures
// sessions report.

#include "proxy/balancer.h"
#include "proxy/healthchecker.h"

#include <QJsonObject>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTest>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace sg;

namespace {

ActiveHealthCheck fastChecks(int successes, int failures)
{
    ActiveHealthCheck checks;
    checks.type = "tcp";
    checks.timeout = 1;
    checks.healthyInterval = 1;
    checks.unhealthyInterval = 1;
    checks.healthySuccesses = successes;
    checks.unhealthyTcpFailures = failures;
    return checks;
}

Node node(quint16 port)
{
    Node n;
    n.host = "127.0.0.1";
    n.port = port;
    return n;
}

QString address(quint16 port)
{
    return "127.0.0.1:" + QString::number(port);
}

// A port nothing listens on: bind one, note it, close it.
quint16 deadPort()
{
    QTcpServer server;
    if (!server.listen(QHostAddress::LocalHost, 0))
        qFatal("cannot listen on 127.0.0.1");
    return server.serverPort();
}

// What the checker holds for a node after one probe, as APISIX's control API shows it.
struct Step
{
    bool reachable = false;
    NodeHealth health = NodeHealth::Healthy;
    int successes = 0;
    int tcpFailures = 0;
    int timeouts = 0;
    bool operator==(const Step&) const = default;
};

char* toString(const Step& s)
{
    return qstrdup(QStringLiteral("%1 %2 success=%3 tcp_failure=%4 timeout_failure=%5")
                       .arg(s.reachable ? "reachable" : "unreachable", toString(s.health))
                       .arg(s.successes)
                       .arg(s.tcpFailures)
                       .arg(s.timeouts)
                       .toUtf8()
                       .constData());
}

// A listener on 127.0.0.1 whose accept queue is full: a SYN to it is dropped, so a connect
// neither succeeds nor is refused until it runs out of time. Its own clients fill the queue.
class FullListener
{
public:
    FullListener()
    {
        m_fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (m_fd < 0 || ::bind(m_fd, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
            ::listen(m_fd, 0) != 0 || ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&a), &len))
            qFatal("cannot listen on 127.0.0.1");
        m_port = ntohs(a.sin_port);
        // Connect until one connect hangs: the queue is full then.
        for (int i = 0; i < 8 && !m_full; ++i) {
            const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            m_clients.push_back(c);
            ::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a);
            pollfd p{c, POLLOUT, 0};
            m_full = ::poll(&p, 1, 300) == 0;
        }
    }
    ~FullListener()
    {
        for (int c : m_clients)
            ::close(c);
        ::close(m_fd);
    }
    bool full() const { return m_full; }
    quint16 port() const { return m_port; }

private:
    int m_fd = -1;
    quint16 m_port = 0;
    bool m_full = false;
    std::vector<int> m_clients;
};

} // namespace

class TestHealthChecker : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void downAndBackUp();
    void reconfigureKeepsState();
    void unwatchStopsProbing();
    void noChecksMeansNotWatched();
    void checksPortOverride();
    void apisixStatesAndCounters();
    void timeoutsCountAgainstTheirOwnLimit_data();
    void timeoutsCountAgainstTheirOwnLimit();
    void passiveReportsFromOtherThreads();
    void reportsWithoutPassiveAreIgnored();
};

// successes 2, tcp_failures 2: the node goes down only after two failed probes in a row and
// comes back only after two successful ones.
void TestHealthChecker::downAndBackUp()
{
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();

    Upstream upstream;
    upstream.nodes = {node(port), node(deadPort())};
    upstream.checks = fastChecks(2, 2);
    auto balancer = std::make_shared<Balancer>(upstream);

    HealthChecker checker;
    QSignalSpy changes(&checker, &HealthChecker::nodeHealthChanged);
    QList<std::pair<QString, bool>> probes; // (address, reachable) in order
    // At each change of the live node: how many of its latest probes agreed with the new state.
    QList<std::pair<int, bool>> runAtChange;
    connect(&checker, &HealthChecker::nodeProbed, this,
            [&](const QString&, const QString& a, bool ok) {
                probes.append({a, ok});
            });
    connect(&checker, &HealthChecker::nodeHealthChanged, this,
            [&](const QString&, const QString& a, bool h) {
                if (a != address(port))
                    return;
                int run = 0;
                for (auto it = probes.crbegin(); it != probes.crend(); ++it) {
                    if (it->first != a)
                        continue;
                    if (it->second != h)
                        break;
                    ++run;
                }
                runAtChange.append({run, h});
            });
    checker.watch("up1", upstream, balancer);
    QCOMPARE(checker.watchedUpstreams(), QStringList{"up1"});

    // The dead node goes down; the live one stays up.
    QTRY_VERIFY_WITH_TIMEOUT(!balancer->isHealthy(1), 5000);
    QVERIFY(balancer->isHealthy(0));
    QCOMPARE(changes.size(), 1);
    QCOMPARE(changes.at(0).at(0).toString(), QStringLiteral("up1"));
    QCOMPARE(changes.at(0).at(2).toBool(), false);
    QCOMPARE(balancer->pick({}, {}), 0);

    // Stop the live node's server: down after two consecutive failures, not one.
    server.close();
    QTRY_VERIFY_WITH_TIMEOUT(!balancer->isHealthy(0), 6000);
    QCOMPARE(runAtChange.size(), 1);
    QCOMPARE(runAtChange.at(0), std::make_pair(2, false));
    const auto down = checker.nodeState("up1", address(port));
    QVERIFY(down && !down->healthy() && down->tcpFailures == 2 && down->successes == 0);
    // Every node is down now: APISIX then tries them all again.
    QVERIFY(balancer->pick({}, {}) >= 0);

    // Listen again on the same port: up after two consecutive successes.
    QVERIFY(server.listen(QHostAddress::LocalHost, port));
    QTRY_VERIFY_WITH_TIMEOUT(balancer->isHealthy(0), 6000);
    QCOMPARE(runAtChange.size(), 2);
    QCOMPARE(runAtChange.at(1), std::make_pair(2, true));
    const auto up = checker.nodeState("up1", address(port));
    QVERIFY(up && up->healthy() && up->successes == 2 && up->tcpFailures == 0);
    QCOMPARE(changes.size(), 3);
    QCOMPARE(balancer->pick({}, {}), 0);
}

// A config change that keeps a node keeps its state, even with a new Balancer; a new node
// starts healthy; a removed node is forgotten.
void TestHealthChecker::reconfigureKeepsState()
{
    const quint16 dead = deadPort();
    QTcpServer live;
    QVERIFY(live.listen(QHostAddress::LocalHost, 0));

    Upstream first;
    first.nodes = {node(dead)};
    first.checks = fastChecks(1, 1);
    HealthChecker checker;
    QSignalSpy changes(&checker, &HealthChecker::nodeHealthChanged);
    checker.watch("u", first, std::make_shared<Balancer>(first));
    QTRY_COMPARE_WITH_TIMEOUT(changes.size(), 1, 5000);

    Upstream second = first;
    second.nodes = {node(live.serverPort()), node(dead)};
    auto rebuilt = std::make_shared<Balancer>(second);
    checker.watch("u", second, rebuilt);
    // Known at once, without waiting for a probe.
    QVERIFY(!rebuilt->isHealthy(1));
    QVERIFY(rebuilt->isHealthy(0));
    QCOMPARE(rebuilt->pick({}, {}), 0);
    const auto state = checker.nodeState("u", address(dead));
    QVERIFY(state && !state->healthy());

    Upstream third = first;
    third.nodes = {node(live.serverPort())};
    checker.watch("u", third, std::make_shared<Balancer>(third));
    QVERIFY(!checker.nodeState("u", address(dead)));
    QVERIFY(checker.nodeState("u", address(live.serverPort())));
    QCOMPARE(changes.size(), 1);
}

void TestHealthChecker::unwatchStopsProbing()
{
    Upstream upstream;
    upstream.nodes = {node(deadPort())};
    upstream.checks = fastChecks(1, 1);
    HealthChecker checker;
    QSignalSpy probed(&checker, &HealthChecker::nodeProbed);
    checker.watch("a", upstream, std::make_shared<Balancer>(upstream));
    checker.watch("b", upstream, std::make_shared<Balancer>(upstream));
    QTRY_VERIFY_WITH_TIMEOUT(probed.size() >= 2, 5000);

    checker.retainOnly({"b"});
    QCOMPARE(checker.watchedUpstreams(), QStringList{"b"});
    checker.unwatch("b");
    QVERIFY(checker.watchedUpstreams().isEmpty());
    probed.clear();
    // Two full intervals with nothing watched: no probe may report.
    QVERIFY(!probed.wait(2500));
}

void TestHealthChecker::noChecksMeansNotWatched()
{
    Upstream upstream;
    upstream.nodes = {node(deadPort())};
    HealthChecker checker;
    auto balancer = std::make_shared<Balancer>(upstream);
    checker.watch("plain", upstream, balancer);
    QVERIFY(checker.watchedUpstreams().isEmpty());

    upstream.checks = fastChecks(1, 1);
    checker.watch("plain", upstream, balancer);
    QCOMPARE(checker.watchedUpstreams(), QStringList{"plain"});
    upstream.checks.reset();
    checker.watch("plain", upstream, balancer);
    QVERIFY(checker.watchedUpstreams().isEmpty());
}

// checks.active.port probes another port than the one traffic goes to.
void TestHealthChecker::checksPortOverride()
{
    QTcpServer traffic;
    QVERIFY(traffic.listen(QHostAddress::LocalHost, 0));
    Upstream upstream;
    upstream.nodes = {node(traffic.serverPort())};
    upstream.checks = fastChecks(1, 1);
    upstream.checks->extra.insert("port", deadPort());
    auto balancer = std::make_shared<Balancer>(upstream);
    HealthChecker checker;
    QSignalSpy changes(&checker, &HealthChecker::nodeHealthChanged);
    checker.watch("p", upstream, balancer);
    QTRY_COMPARE_WITH_TIMEOUT(changes.size(), 1, 5000);
    QCOMPARE(changes.at(0).at(1).toString(), address(traffic.serverPort()));
    QVERIFY(!balancer->isHealthy(0));
}

// successes 2, tcp_failures 2, one node whose server goes away and comes back twice. Each probe
// is read as it finishes (the node's server is changed right there, before the next probe),
// so the whole run is fixed: a first failure makes a healthy node mostly_healthy, a failure on
// an unhealthy node is not counted, a success clears the failure counters, mostly_healthy stays
// until healthy.successes successes in a row, and only healthy <-> unhealthy moves traffic.
void TestHealthChecker::apisixStatesAndCounters()
{
    const quint16 port = deadPort();
    QTcpServer server;
    Upstream upstream;
    upstream.nodes = {node(port)};
    upstream.checks = fastChecks(2, 2);
    auto balancer = std::make_shared<Balancer>(upstream);
    HealthChecker checker;
    QSignalSpy changes(&checker, &HealthChecker::nodeHealthChanged);
    QList<Step> steps;
    bool listenFailed = false;
    connect(&checker, &HealthChecker::nodeProbed, this,
            [&](const QString& key, const QString& a, bool reachable) {
                const auto state = checker.nodeState(key, a);
                if (!state || steps.size() >= 9)
                    return;
                steps.append({reachable, state->health, state->successes, state->tcpFailures,
                              state->timeouts});
                // After probes 3 and 7 the server listens; after probe 6 it goes away.
                if (steps.size() == 3 || steps.size() == 7)
                    listenFailed |= !server.listen(QHostAddress::LocalHost, port);
                else if (steps.size() == 6)
                    server.close();
            });
    checker.watch("u", upstream, balancer);
    QTRY_COMPARE_WITH_TIMEOUT(steps.size(), 9, 20000);
    QVERIFY(!listenFailed);

    using H = NodeHealth;
    const QList<Step> expected{
        {false, H::MostlyHealthy, 0, 1, 0}, {false, H::Unhealthy, 0, 2, 0},
        {false, H::Unhealthy, 0, 2, 0},     {true, H::MostlyUnhealthy, 1, 0, 0},
        {true, H::Healthy, 2, 0, 0},        {true, H::Healthy, 2, 0, 0},
        {false, H::MostlyHealthy, 0, 1, 0}, {true, H::MostlyHealthy, 1, 0, 0},
        {true, H::Healthy, 2, 0, 0},
    };
    for (int i = 0; i < expected.size(); ++i)
        QCOMPARE(steps.at(i), expected.at(i));
    // Down at probe 2, up at probe 5; mostly_healthy kept taking traffic.
    QCOMPARE(changes.size(), 2);
    QCOMPARE(changes.at(0).at(2).toBool(), false);
    QCOMPARE(changes.at(1).at(2).toBool(), true);
    QVERIFY(balancer->isHealthy(0));
}

void TestHealthChecker::timeoutsCountAgainstTheirOwnLimit_data()
{
    QTest::addColumn<int>("timeouts"); // unhealthy.timeouts; 0: not written
    QTest::addColumn<int>("downAfter");
    QTest::newRow("APISIX's default: 3, not tcp_failures' 2") << 0 << 3;
    QTest::newRow("unhealthy.timeouts 1") << 1 << 1;
}

void TestHealthChecker::timeoutsCountAgainstTheirOwnLimit()
{
    QFETCH(int, timeouts);
    QFETCH(int, downAfter);
    FullListener blackhole;
    if (!blackhole.full())
        QSKIP("the kernel kept accepting connections on a listen backlog of 0");
    Upstream upstream;
    upstream.nodes = {node(blackhole.port())};
    upstream.checks = fastChecks(2, 2);
    upstream.checks->timeout = 0.3;
    if (timeouts > 0)
        upstream.checks->extra.insert("unhealthy", QJsonObject{{"timeouts", timeouts}});
    HealthChecker checker;
    QList<Step> steps;
    connect(&checker, &HealthChecker::nodeProbed, this,
            [&](const QString& key, const QString& a, bool reachable) {
                if (const auto state = checker.nodeState(key, a); state && steps.size() < downAfter)
                    steps.append({reachable, state->health, state->successes, state->tcpFailures,
                                  state->timeouts});
            });
    checker.watch("t", upstream, std::make_shared<Balancer>(upstream));
    QTRY_COMPARE_WITH_TIMEOUT(steps.size(), downAfter, 15000);
    for (int i = 0; i < downAfter; ++i) {
        const NodeHealth health =
            i + 1 < downAfter ? NodeHealth::MostlyHealthy : NodeHealth::Unhealthy;
        QCOMPARE(steps.at(i), (Step{false, health, 0, 0, i + 1}));
    }
}

// checks.passive: failures reported from other threads (as the workers report them) count on
// the checker's thread against the passive limits, in the same counters as the probes; a
// timeout counts against unhealthy.timeouts. A node set down this way is not taken back by
// reports (there are no passive successes) but by the active probes.
void TestHealthChecker::passiveReportsFromOtherThreads()
{
    QTcpServer a;
    QTcpServer b;
    QVERIFY(a.listen(QHostAddress::LocalHost, 0));
    QVERIFY(b.listen(QHostAddress::LocalHost, 0));
    Upstream upstream;
    upstream.nodes = {node(a.serverPort()), node(b.serverPort())};
    upstream.checks = fastChecks(1, 2);
    upstream.checks->healthyInterval = 3600; // one probe at the start, then none while up
    PassiveHealthCheck passive;
    passive.unhealthyTcpFailures = 3;
    passive.unhealthyTimeouts = 2;
    upstream.passiveChecks = passive;
    auto balancer = std::make_shared<Balancer>(upstream);
    HealthChecker checker;
    QSignalSpy probed(&checker, &HealthChecker::nodeProbed);
    QSignalSpy reported(&checker, &HealthChecker::nodeReported);
    QSignalSpy changes(&checker, &HealthChecker::nodeHealthChanged);
    checker.watch("p", upstream, balancer);
    QTRY_COMPARE(probed.size(), 2); // both reachable: nothing counted

    const QString nodeA = address(a.serverPort());
    const QString nodeB = address(b.serverPort());
    const auto reportFrom = [&](int times, const QString& key, const QString& node, bool timedOut) {
        std::thread worker([&] {
            for (int i = 0; i < times; ++i)
                checker.reportFailure(key, node, timedOut);
        });
        worker.join();
    };
    reportFrom(2, "p", nodeA, false);
    reportFrom(1, "p", nodeB, true);
    QTRY_COMPARE(reported.size(), 3);
    QCOMPARE(toString(checker.nodeState("p", nodeA)->health), toString(NodeHealth::MostlyHealthy));
    QCOMPARE(checker.nodeState("p", nodeA)->tcpFailures, 2);
    QCOMPARE(toString(checker.nodeState("p", nodeB)->health), toString(NodeHealth::MostlyHealthy));
    QCOMPARE(checker.nodeState("p", nodeB)->timeouts, 1);
    QVERIFY(changes.isEmpty());
    QVERIFY(balancer->isHealthy(0) && balancer->isHealthy(1));

    // Reports for an upstream or a node the checker does not watch change nothing.
    reportFrom(3, "other", nodeA, false);
    reportFrom(3, "p", "127.0.0.1:1", false);
    reportFrom(1, "p", nodeA, false); // the third: node A goes down
    QTRY_COMPARE(changes.size(), 1);
    QCOMPARE(changes.at(0).at(1).toString(), nodeA);
    QCOMPARE(changes.at(0).at(2).toBool(), false);
    QVERIFY(!balancer->isHealthy(0));
    QCOMPARE(toString(checker.nodeState("p", nodeA)->health), toString(NodeHealth::Unhealthy));
    QCOMPARE(checker.nodeState("p", nodeA)->tcpFailures, 3);
    reportFrom(1, "p", nodeB, true); // the second timeout: node B goes down too
    QTRY_COMPARE(changes.size(), 2);
    QCOMPARE(changes.at(1).at(1).toString(), nodeB);
    QVERIFY(!balancer->isHealthy(1));

    // Down, the nodes are probed every unhealthy.interval (1 s); one success brings each back.
    QTRY_COMPARE_WITH_TIMEOUT(changes.size(), 4, 5000);
    QVERIFY(changes.at(2).at(2).toBool() && changes.at(3).at(2).toBool());
    QVERIFY(balancer->isHealthy(0) && balancer->isHealthy(1));
}

// Without checks.passive the same reports count nothing: APISIX reports them, and
// lua-resty-healthcheck drops them for lack of passive limits.
void TestHealthChecker::reportsWithoutPassiveAreIgnored()
{
    QTcpServer a;
    QVERIFY(a.listen(QHostAddress::LocalHost, 0));
    Upstream upstream;
    upstream.nodes = {node(a.serverPort())};
    upstream.checks = fastChecks(1, 1);
    upstream.checks->healthyInterval = 3600;
    HealthChecker checker;
    QSignalSpy probed(&checker, &HealthChecker::nodeProbed);
    QSignalSpy reported(&checker, &HealthChecker::nodeReported);
    checker.watch("q", upstream, std::make_shared<Balancer>(upstream));
    QTRY_COMPARE(probed.size(), 1);
    for (int i = 0; i < 5; ++i)
        checker.reportFailure("q", address(a.serverPort()), false);
    QTest::qWait(200);
    QVERIFY(reported.isEmpty());
    QCOMPARE(toString(checker.nodeState("q", address(a.serverPort()))->health),
             toString(NodeHealth::Healthy));
    QCOMPARE(checker.nodeState("q", address(a.serverPort()))->tcpFailures, 0);

    // With a passive limit of 0, a kind of failure is not counted either.
    PassiveHealthCheck passive;
    passive.unhealthyTcpFailures = 0;
    upstream.passiveChecks = passive;
    checker.watch("q", upstream, std::make_shared<Balancer>(upstream));
    for (int i = 0; i < 5; ++i)
        checker.reportFailure("q", address(a.serverPort()), false);
    QTRY_COMPARE(reported.size(), 5);
    QCOMPARE(toString(checker.nodeState("q", address(a.serverPort()))->health),
             toString(NodeHealth::Healthy));
    checker.reportFailure("q", address(a.serverPort()), true); // timeouts: APISIX's 7
    QTRY_COMPARE(reported.size(), 6);
    QCOMPARE(checker.nodeState("q", address(a.serverPort()))->timeouts, 1);
    QCOMPARE(toString(checker.nodeState("q", address(a.serverPort()))->health),
             toString(NodeHealth::MostlyHealthy));
}

QTEST_GUILESS_MAIN(TestHealthChecker)
#include "tst_healthchecker.moc"
