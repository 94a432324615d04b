// HealthChecker against real listeners on 127.0.0.1: a node goes down when its server stops
// listening and comes back when it listens again, after exactly the configured number of
// consecutive probe results; states and counters step as lua-resty-healthcheck's (APISIX's);
// a connect that runs out of time counts against unhealthy.timeouts, not tcp_failures;
// reconfiguration keeps the state of unchanged nodes; checks.passive counts the failures
// sessions report. HTTP probes (type "http", and a check without a type, APISIX's default)
// against a small HTTP server in the test: the request arrives as configured (method, path,
// Host, port, req_headers, body), healthy and unhealthy statuses count as in APISIX and other
// statuses count nothing, a node that never answers counts timeouts, one that refuses or
// closes counts tcp failures, and at most 4 KiB of an answer are read.

#include "httpnode.h"
#include "model/codec.h"
#include "proxy/balancer.h"
#include "proxy/healthchecker.h"
#include "proxy/upstreamprober.h"
#include "stats/statshub.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <algorithm>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace sg;
using sgtest::HttpNode;

namespace {

// A second of the checks' intervals in the tests that wait for runs of probes (interval 1).
constexpr int kShortSecondMs = 250;

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
    int httpFailures = 0;
    bool operator==(const Step&) const = default;
};

Step stepOf(bool passed, const HealthChecker::NodeState& state)
{
    return {passed,         state.health,      state.successes, state.tcpFailures,
            state.timeouts, state.httpFailures};
}

char* toString(const Step& s)
{
    return qstrdup(
        QStringLiteral("%1 %2 success=%3 tcp_failure=%4 timeout_failure=%5 http_failure=%6")
            .arg(s.reachable ? "passed" : "not passed", toString(s.health))
            .arg(s.successes)
            .arg(s.tcpFailures)
            .arg(s.timeouts)
            .arg(s.httpFailures)
            .toUtf8()
            .constData());
}

// HTTP checks probing every second, with small limits.
ActiveHealthCheck httpChecks(int successes, int httpFailures)
{
    ActiveHealthCheck checks;
    checks.type = "http";
    checks.healthySuccesses = successes;
    checks.extra.insert("unhealthy", QJsonObject{{"http_failures", httpFailures}});
    return checks;
}

// Watches an upstream of one node and returns the node's state after each of its first
// `count` probes (fewer if they do not come within timeoutMs).
// A checker of its own watching one upstream of one node, recording the first `count` probes.
struct ProbeRecorder
{
    ProbeRecorder(const Upstream& upstream, int count) : count(count)
    {
        QObject::connect(&checker, &HealthChecker::nodeProbed, &checker,
                         [this](const QString& key, const QString& a, bool passed) {
                             if (const auto state = checker.nodeState(key, a);
                                 state && steps.size() < this->count)
                                 steps.append(stepOf(passed, *state));
                         });
        checker.setIntervalSecondMs(kShortSecondMs);
        checker.watch("h", upstream, std::make_shared<Balancer>(upstream));
    }
    bool done() const { return steps.size() >= count; }

    HealthChecker checker;
    QList<Step> steps;
    int count;
};

QList<Step> probeSteps(const Upstream& upstream, int count, int timeoutMs = 15000)
{
    ProbeRecorder recorder(upstream, count);
    if (!QTest::qWaitFor([&] { return recorder.done(); }, timeoutMs))
        qWarning("only %d of %d probes finished in time", int(recorder.steps.size()), count);
    return recorder.steps;
}

// A request's first line and its header lines, each without its CRLF; nothing from the blank
// line on.
QList<QByteArray> headLines(const QByteArray& request)
{
    QList<QByteArray> lines;
    for (const QByteArray& line : request.left(request.indexOf("\r\n\r\n") + 2).split('\n')) {
        if (line.endsWith('\r'))
            lines << line.chopped(1);
    }
    return lines;
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
    void httpStatuses();
    void httpProbeFailures_data();
    void httpProbeFailures();
    void httpNodeDownAndBackUp();
    void httpRequestAsConfigured();
    void httpRequestWithMethodAndBody();
    void checksWithoutTypeProbeOverHttp();
    // UpstreamProber: the nodes without checks.active.
    void reachRefusedThenAnswering();
    void reachTimeoutOnAFullBacklog();
    void reachAnsweringIsProbedAgainAfterFailures();
    void reachRetriesBackOff();
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
    checker.setIntervalSecondMs(kShortSecondMs);
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
    checker.setIntervalSecondMs(kShortSecondMs);
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
    QVERIFY(!probed.wait(2 * kShortSecondMs + 100));
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
    checker.setIntervalSecondMs(kShortSecondMs);
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

using H = NodeHealth;

// What the status line of an answer counts as, on a healthy node probed three times: a status
// in healthy.http_statuses (APISIX's default [200, 302]) is a success, which a healthy node
// does not count; one in unhealthy.http_statuses (default [429, 404, 500, 501, 502, 503, 504,
// 505]), or a first line that is no status line, an HTTP failure against
// unhealthy.http_failures (default 5); any other status counts nothing.
void TestHealthChecker::httpStatuses()
{
    struct Case
    {
        const char* name;
        QByteArray answer;
        QByteArray checks; // checks.active, as JSON
        QList<Step> steps;
    };
    const QList<Step> healthy{{true, H::Healthy}, {true, H::Healthy}, {true, H::Healthy}};
    const QList<Step> uncounted{{false, H::Healthy}, {false, H::Healthy}, {false, H::Healthy}};
    const QList<Step> downAfterTwo{{false, H::MostlyHealthy, 0, 0, 0, 1},
                                   {false, H::Unhealthy, 0, 0, 0, 2},
                                   {false, H::Unhealthy, 0, 0, 0, 2}};
    const QByteArray twoFailures = R"({"unhealthy": {"http_failures": 2}})";
    const QList<Case> cases{
        {"200 stays healthy", "HTTP/1.1 200 OK\r\n\r\n", twoFailures, healthy},
        {"302 is healthy", "HTTP/1.0 302 Found\r\nLocation: /x\r\n\r\n", twoFailures, healthy},
        {"status line in lower case, without reason", "http/1.1 200\r\n\r\n", twoFailures, healthy},
        {"500 goes down after http_failures", "HTTP/1.1 500 Internal Server Error\r\n\r\n",
         twoFailures, downAfterTwo},
        {"404 is unhealthy by default", "HTTP/1.1 404 Not Found\r\n\r\n", twoFailures,
         downAfterTwo},
        {"418 counts nothing", "HTTP/1.1 418 I'm a teapot\r\n\r\n", twoFailures, uncounted},
        {"201 counts nothing by default", "HTTP/1.1 201 Created\r\n\r\n", twoFailures, uncounted},
        {"no status line is an HTTP failure", "SSH-2.0-OpenSSH_9.6\r\n", twoFailures, downAfterTwo},
        {"201 healthy when listed", "HTTP/1.1 201 Created\r\n\r\n",
         R"({"healthy": {"http_statuses": [201]}})", healthy},
        {"200 unhealthy when listed only there", "HTTP/1.1 200 OK\r\n\r\n",
         R"({"healthy": {"http_statuses": [204]},
             "unhealthy": {"http_statuses": [200], "http_failures": 2}})",
         downAfterTwo},
        {"APISIX's default http_failures: 5", "HTTP/1.1 503 Service Unavailable\r\n\r\n", "{}",
         QList<Step>{{false, H::MostlyHealthy, 0, 0, 0, 1},
                     {false, H::MostlyHealthy, 0, 0, 0, 2},
                     {false, H::MostlyHealthy, 0, 0, 0, 3},
                     {false, H::MostlyHealthy, 0, 0, 0, 4},
                     {false, H::Unhealthy, 0, 0, 0, 5}}},
    };
    // Every case at once: a probe waits its interval (1 s at least), so one case after another
    // would take half a minute.
    std::vector<std::unique_ptr<HttpNode>> servers;
    std::vector<std::unique_ptr<ProbeRecorder>> recorders;
    for (const Case& c : cases) {
        servers.push_back(std::make_unique<HttpNode>(c.answer));
        QJsonObject active = QJsonDocument::fromJson(c.checks).object();
        active.insert("type", "http");
        const Decoded<Upstream> up =
            decodeUpstream(QJsonObject{{"nodes", QJsonObject{{address(servers.back()->port()), 1}}},
                                       {"checks", QJsonObject{{"active", active}}}});
        QVERIFY2(up.ok(), c.name);
        recorders.push_back(std::make_unique<ProbeRecorder>(up.value, int(c.steps.size())));
    }
    QVERIFY(QTest::qWaitFor(
        [&] {
            return std::all_of(recorders.begin(), recorders.end(),
                               [](const auto& r) { return r->done(); });
        },
        20000));
    for (qsizetype i = 0; i < cases.size(); ++i) {
        QStringList got;
        for (const Step& step : recorders[size_t(i)]->steps) {
            std::unique_ptr<char[]> text(toString(step));
            got << QString::fromUtf8(text.get());
        }
        const QByteArray what = QByteArray(cases[i].name) + ": " + got.join(" | ").toUtf8();
        QVERIFY2(recorders[size_t(i)]->steps == cases[i].steps, what.constData());
        // Each probe was one request (a case done first goes on probing while others finish).
        QVERIFY2(servers[size_t(i)]->requests.size() >= cases[i].steps.size(), cases[i].name);
    }
}

// Failures below HTTP, with tcp_failures, http_failures and timeouts all 2 and a timeout of
// 0.3 s: a refused connect and a node that closes without answering count tcp failures, one
// that accepts and never answers (or answers without ever ending its status line) counts
// timeouts, and one that sends more than 4 KiB without a line end is judged on them at once
// (no status line: an HTTP failure), not waited for.
void TestHealthChecker::httpProbeFailures_data()
{
    QTest::addColumn<int>("kind"); // 0: refused, 1: a server answering `answer`
    QTest::addColumn<QByteArray>("answer");
    QTest::addColumn<bool>("keepOpen");
    QTest::addColumn<QList<Step>>("steps");
    const QList<Step> tcp{{false, H::MostlyHealthy, 0, 1}, {false, H::Unhealthy, 0, 2}};
    const QList<Step> timeouts{{false, H::MostlyHealthy, 0, 0, 1}, {false, H::Unhealthy, 0, 0, 2}};
    const QList<Step> http{{false, H::MostlyHealthy, 0, 0, 0, 1},
                           {false, H::Unhealthy, 0, 0, 0, 2}};
    QTest::newRow("refused port: tcp failures") << 0 << QByteArray() << false << tcp;
    QTest::newRow("closes without answering: tcp failures") << 1 << QByteArray() << false << tcp;
    QTest::newRow("closes in the status line: tcp failures")
        << 1 << QByteArray("HTTP/1.1 20") << false << tcp;
    QTest::newRow("never answers: timeouts") << 1 << QByteArray() << true << timeouts;
    QTest::newRow("never ends its status line: timeouts")
        << 1 << QByteArray("HTTP/1.1 200 OK") << true << timeouts;
    QTest::newRow("8 KiB without a line end: an HTTP failure")
        << 1 << QByteArray(8192, 'x') << true << http;
}

void TestHealthChecker::httpProbeFailures()
{
    QFETCH(int, kind);
    QFETCH(QByteArray, answer);
    QFETCH(bool, keepOpen);
    QFETCH(QList<Step>, steps);
    HttpNode server(answer, keepOpen);
    Upstream upstream;
    upstream.nodes = {node(kind == 0 ? deadPort() : server.port())};
    upstream.checks = httpChecks(2, 2);
    upstream.checks->timeout = 0.3;
    upstream.checks->unhealthyTcpFailures = 2;
    QJsonObject unhealthy = upstream.checks->extra.value("unhealthy").toObject();
    unhealthy.insert("timeouts", 2);
    upstream.checks->extra.insert("unhealthy", unhealthy);
    QCOMPARE(probeSteps(upstream, int(steps.size())), steps);
    QCOMPARE(server.requests.size(), kind == 0 ? 0 : steps.size());
}

// A node answering 500 goes down after http_failures; answering 200 again, it comes back after
// healthy.successes, the first success clearing the HTTP failures; the balancer follows.
void TestHealthChecker::httpNodeDownAndBackUp()
{
    HttpNode server("HTTP/1.1 500 Internal Server Error\r\n\r\n");
    Upstream upstream;
    upstream.nodes = {node(server.port())};
    upstream.checks = httpChecks(2, 2);
    auto balancer = std::make_shared<Balancer>(upstream);
    HealthChecker checker;
    checker.setIntervalSecondMs(kShortSecondMs);
    QSignalSpy changes(&checker, &HealthChecker::nodeHealthChanged);
    QList<Step> steps;
    connect(&checker, &HealthChecker::nodeProbed, this,
            [&](const QString& key, const QString& a, bool passed) {
                const auto state = checker.nodeState(key, a);
                if (!state || steps.size() >= 4)
                    return;
                steps.append(stepOf(passed, *state));
                if (steps.size() == 2)
                    server.setAnswer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            });
    checker.watch("b", upstream, balancer);
    QTRY_COMPARE_WITH_TIMEOUT(steps.size(), 4, 15000);
    const QList<Step> expected{{false, H::MostlyHealthy, 0, 0, 0, 1},
                               {false, H::Unhealthy, 0, 0, 0, 2},
                               {true, H::MostlyUnhealthy, 1, 0, 0, 0},
                               {true, H::Healthy, 2, 0, 0, 0}};
    QCOMPARE(steps, expected);
    QCOMPARE(changes.size(), 2);
    QCOMPARE(changes.at(0).at(2).toBool(), false);
    QCOMPARE(changes.at(1).at(2).toBool(), true);
    QVERIFY(balancer->isHealthy(0));
    QCOMPARE(checker.nodeState("b", address(server.port()))->last, HealthChecker::Result::Success);
}

// The request arrives as configured: "GET <http_path> HTTP/1.1", Connection: close, the
// req_headers in their order, then Host: checks.active.host for an address node, or the node's
// own name for a host name node (as APISIX sends it), else the address; checks.active.port
// probes that port instead of the node's, which takes no probe.
void TestHealthChecker::httpRequestAsConfigured()
{
    HttpNode server("HTTP/1.1 200 OK\r\n\r\n");
    QTcpServer traffic; // the nodes' own port: probes must not come here
    QVERIFY(traffic.listen(QHostAddress::LocalHost, 0));
    Upstream upstream;
    Node byName;
    byName.host = "localhost";
    byName.port = traffic.serverPort();
    upstream.nodes = {node(traffic.serverPort()), byName};
    upstream.checks = httpChecks(1, 1);
    upstream.checks->extra.insert("http_path", "/health?deep=1");
    upstream.checks->extra.insert("host", "db.example");
    upstream.checks->extra.insert("port", server.port());
    upstream.checks->extra.insert("req_headers",
                                  QJsonArray{"User-Agent: streamgate-test", "X-Probe: 1"});
    HealthChecker checker;
    QSignalSpy probed(&checker, &HealthChecker::nodeProbed);
    checker.watch("r", upstream, std::make_shared<Balancer>(upstream));
    QTRY_COMPARE_WITH_TIMEOUT(server.requests.size(), 2, 5000);
    QTRY_COMPARE(probed.size(), 2);
    QVERIFY(probed.at(0).at(2).toBool() && probed.at(1).at(2).toBool());
    QVERIFY(!traffic.hasPendingConnections());

    QList<QList<QByteArray>> heads;
    for (const QByteArray& request : std::as_const(server.requests))
        heads << headLines(request);
    const QList<QByteArray> byAddress{"GET /health?deep=1 HTTP/1.1", "Connection: close",
                                      "User-Agent: streamgate-test", "X-Probe: 1",
                                      "Host: db.example"};
    const QList<QByteArray> byNodeName{"GET /health?deep=1 HTTP/1.1", "Connection: close",
                                       "User-Agent: streamgate-test", "X-Probe: 1",
                                       "Host: localhost"};
    QVERIFY2(heads.contains(byAddress), server.requests.join("|").constData());
    QVERIFY2(heads.contains(byNodeName), server.requests.join("|").constData());

    // Without checks.active.host, an address node sends its address.
    HttpNode plain("HTTP/1.1 200 OK\r\n\r\n");
    Upstream second;
    second.nodes = {node(plain.port())};
    second.checks = httpChecks(1, 1);
    checker.watch("p", second, std::make_shared<Balancer>(second));
    QTRY_COMPARE_WITH_TIMEOUT(plain.requests.size(), 1, 5000);
    QCOMPARE(headLines(plain.requests.at(0)),
             (QList<QByteArray>{"GET / HTTP/1.1", "Connection: close", "Host: 127.0.0.1"}));
}

// APISIX 3.18's http_method and http_req_body: the method starts the request line, and a body
// goes after the head with its Content-Length.
void TestHealthChecker::httpRequestWithMethodAndBody()
{
    HttpNode server("HTTP/1.1 200 OK\r\n\r\n");
    const Decoded<Upstream> up = decodeUpstream(QJsonDocument::fromJson(QStringLiteral(R"({
        "nodes": {"127.0.0.1:%1": 1},
        "checks": {"active": {"type": "http", "http_method": "POST", "http_path": "/ping",
                              "http_req_body": "{\"ping\": 1}"}}})")
                                                                            .arg(server.port())
                                                                            .toUtf8())
                                                    .object());
    QVERIFY2(up.ok(), qPrintable(formatProblems(up.problems)));
    HealthChecker checker;
    checker.watch("m", up.value, std::make_shared<Balancer>(up.value));
    QTRY_COMPARE_WITH_TIMEOUT(server.requests.size(), 1, 5000);
    QCOMPARE(server.requests.at(0), QByteArray("POST /ping HTTP/1.1\r\nConnection: close\r\n"
                                               "Host: 127.0.0.1\r\nContent-Length: 11\r\n\r\n"
                                               "{\"ping\": 1}"));
}

// A check without a type is APISIX's default, HTTP: the node is sent an HTTP request, and a
// node that does not answer HTTP goes down: here one that greets first and holds the
// connection, as MySQL does, whose greeting's first line is no status line.
void TestHealthChecker::checksWithoutTypeProbeOverHttp()
{
    HttpNode server("HTTP/1.1 200 OK\r\n\r\n");
    QTcpServer greeter;
    QVERIFY(greeter.listen(QHostAddress::LocalHost, 0));
    QList<QTcpSocket*> held;
    connect(&greeter, &QTcpServer::newConnection, this, [&] {
        while (QTcpSocket* s = greeter.nextPendingConnection()) {
            s->write(QByteArray("\x4a\0\0\0\x0a"
                                "5.7.0\0",
                                11)); // a MySQL-like greeting
            held << s;
        }
    });
    const Decoded<Upstream> up =
        decodeUpstream(QJsonDocument::fromJson(QStringLiteral(R"({
        "nodes": {"127.0.0.1:%1": 1, "127.0.0.1:%2": 1},
        "checks": {"active": {"healthy": {"successes": 1},
                              "unhealthy": {"http_failures": 1}}}})")
                                                   .arg(server.port())
                                                   .arg(greeter.serverPort())
                                                   .toUtf8())
                           .object());
    QVERIFY2(up.ok(), qPrintable(formatProblems(up.problems)));
    QCOMPARE(up.value.checks->type, QStringLiteral("http"));
    auto balancer = std::make_shared<Balancer>(up.value);
    HealthChecker checker;
    checker.watch("d", up.value, balancer);
    QTRY_COMPARE_WITH_TIMEOUT(server.requests.size(), 1, 5000);
    QVERIFY(server.requests.at(0).startsWith("GET / HTTP/1.1\r\n"));
    const int greeterIndex = up.value.nodes.at(0).port == greeter.serverPort() ? 0 : 1;
    QTRY_VERIFY_WITH_TIMEOUT(!balancer->isHealthy(greeterIndex), 5000);
    QVERIFY(balancer->isHealthy(1 - greeterIndex));
    const auto state = checker.nodeState("d", address(greeter.serverPort()));
    QVERIFY(state && state->httpFailures == 1 && state->last == HealthChecker::Result::HttpFailure);
}

namespace {

UpstreamProber::Target reachTarget(quint16 port, const std::shared_ptr<NodeStats>& stats = {})
{
    UpstreamProber::Target t;
    t.upstream = "route:r";
    t.node = address(port);
    t.address = QHostAddress(QStringLiteral("127.0.0.1"));
    t.port = port;
    t.stats = stats;
    return t;
}

struct ReachChange
{
    QString node;
    bool answering = false;
    QString error;
};

} // namespace

// Nothing listens: the first probe says "connection refused" (in the node's stats too, and as
// one change); once a server listens on that port, a re-probe finds it answering, announces
// it once, and the probe's connection reaches the server and is closed by the prober.
void TestHealthChecker::reachRefusedThenAnswering()
{
    const quint16 port = deadPort();
    auto stats = std::make_shared<NodeStats>();
    UpstreamProber prober({1000, 50, 50});
    QList<ReachChange> changes;
    connect(&prober, &UpstreamProber::reachChanged, this,
            [&](const QString&, const QString& node, bool answering, const QString& error) {
                changes.append({node, answering, error});
            });
    prober.setTargets({reachTarget(port, stats)});
    QCOMPARE(prober.reach("route:r", address(port)), NodeReach::Unknown);
    QTRY_COMPARE_WITH_TIMEOUT(changes.size(), 1, 3000);
    QCOMPARE(changes.at(0).node, address(port));
    QVERIFY(!changes.at(0).answering);
    QCOMPARE(changes.at(0).error, QStringLiteral("connection refused"));
    QCOMPARE(stats->reach.load(), NodeReach::NotAnswering);
    QCOMPARE(stats->reachError(), QStringLiteral("connection refused"));
    // Several re-probes while it stays down: still one change.
    const int before = prober.probesStarted();
    QTRY_VERIFY_WITH_TIMEOUT(prober.probesStarted() >= before + 2, 3000);
    QCOMPARE(changes.size(), 1);

    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, port));
    QTRY_COMPARE_WITH_TIMEOUT(changes.size(), 2, 3000);
    QVERIFY(changes.at(1).answering);
    QCOMPARE(changes.at(1).error, QString());
    QCOMPARE(stats->reach.load(), NodeReach::Answering);
    QCOMPARE(prober.reach("route:r", address(port)), NodeReach::Answering);
    QTRY_VERIFY_WITH_TIMEOUT(server.hasPendingConnections(), 3000);
    QTcpSocket* accepted = server.nextPendingConnection();
    QTRY_COMPARE_WITH_TIMEOUT(accepted->state(), QAbstractSocket::UnconnectedState, 3000);
    QCOMPARE(accepted->readAll(), QByteArray()); // connect, then close: nothing sent
}

// A listener whose accept queue is full drops the SYN: the connect is neither accepted nor
// refused, and the node counts as not answering once the timeout has passed.
void TestHealthChecker::reachTimeoutOnAFullBacklog()
{
    FullListener blackhole;
    if (!blackhole.full())
        QSKIP("the kernel kept accepting connections on a listen backlog of 0");
    UpstreamProber prober({200, 5000, 5000});
    QElapsedTimer timer;
    timer.start();
    prober.setTargets({reachTarget(blackhole.port())});
    QTRY_COMPARE_WITH_TIMEOUT(prober.reach("route:r", address(blackhole.port())),
                              NodeReach::NotAnswering, 3000);
    QVERIFY2(timer.elapsed() >= 190, qPrintable(QString::number(timer.elapsed())));
    QCOMPARE(prober.error("route:r", address(blackhole.port())),
             QStringLiteral("no answer within 200 ms"));
}

// A node that answers is not probed on a timer; a failed connect of a session (reported from
// another thread, as the workers report it) probes it again, and a burst of failures is one
// probe. When that probe finds it gone, it is not answering.
void TestHealthChecker::reachAnsweringIsProbedAgainAfterFailures()
{
    auto server = std::make_unique<QTcpServer>();
    QVERIFY(server->listen(QHostAddress::LocalHost, 0));
    const quint16 port = server->serverPort();
    UpstreamProber prober({1000, 100, 100});
    QSignalSpy probed(&prober, &UpstreamProber::probed);
    prober.setTargets({reachTarget(port)});
    QTRY_COMPARE_WITH_TIMEOUT(probed.size(), 1, 3000);
    QCOMPARE(prober.reach("route:r", address(port)), NodeReach::Answering);
    // Applying the same targets again (another route edited) does not probe it.
    prober.setTargets({reachTarget(port)});
    QCOMPARE(prober.probesStarted(), 1);

    server.reset();
    std::thread worker([&] {
        for (int i = 0; i < 50; ++i)
            prober.connectFailed("route:r", address(port));
    });
    worker.join();
    QTRY_COMPARE_WITH_TIMEOUT(prober.reach("route:r", address(port)), NodeReach::NotAnswering,
                              3000);
    QCOMPARE(prober.error("route:r", address(port)), QStringLiteral("connection refused"));
    QCOMPARE(prober.probesStarted(), 2);
    // Failures of a node it was not given are ignored.
    prober.connectFailed("route:other", address(port));
    // A fresh target (its route changed) is probed at once.
    UpstreamProber::Target fresh = reachTarget(port);
    fresh.fresh = true;
    prober.setTargets({fresh});
    QTRY_VERIFY_WITH_TIMEOUT(prober.probesStarted() >= 3, 3000);
}

// While a node does not answer, it is probed again at retryMs, doubling each time up to
// maxRetryMs: with 60 ms and 240 ms the gaps are about 60, 120, 240, 240 ms.
void TestHealthChecker::reachRetriesBackOff()
{
    const quint16 port = deadPort();
    UpstreamProber prober({1000, 60, 240});
    QList<qint64> at;
    QElapsedTimer clock;
    clock.start();
    connect(&prober, &UpstreamProber::probed, this, [&] { at.append(clock.elapsed()); });
    prober.setTargets({reachTarget(port)});
    QTRY_VERIFY_WITH_TIMEOUT(at.size() >= 5, 5000);
    // Less 10 %: Qt's coarse timers may fire up to 5 % early.
    const QList<qint64> least = {54, 108, 216, 216};
    for (int i = 0; i < least.size(); ++i)
        QVERIFY2(at.at(i + 1) - at.at(i) >= least.at(i),
                 qPrintable(QStringLiteral("gap %1: %2 ms").arg(i).arg(at.at(i + 1) - at.at(i))));
    // The cap holds: the last gap is not doubled to 480 ms (time for a loaded machine left).
    QVERIFY2(at.at(4) - at.at(3) < 470, qPrintable(QString::number(at.at(4) - at.at(3))));
    prober.setTargets({});
    QCOMPARE(prober.reach("route:r", address(port)), NodeReach::Unknown); // forgotten
}

QTEST_GUILESS_MAIN(TestHealthChecker)
#include "tst_healthchecker.moc"
