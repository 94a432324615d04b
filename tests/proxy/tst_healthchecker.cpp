// HealthChecker against real listeners on 127.0.0.1: a node goes down when its server stops
// listening and comes back when it listens again, after exactly the configured number of
// consecutive probe results; reconfiguration keeps the state of unchanged nodes.

#include "proxy/balancer.h"
#include "proxy/healthchecker.h"

#include <QSignalSpy>
#include <QTcpServer>
#include <QTest>

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
    QVERIFY(down && !down->healthy && down->failures == 2 && down->successes == 0);
    // Every node is down now: APISIX then tries them all again.
    QVERIFY(balancer->pick({}, {}) >= 0);

    // Listen again on the same port: up after two consecutive successes.
    QVERIFY(server.listen(QHostAddress::LocalHost, port));
    QTRY_VERIFY_WITH_TIMEOUT(balancer->isHealthy(0), 6000);
    QCOMPARE(runAtChange.size(), 2);
    QCOMPARE(runAtChange.at(1), std::make_pair(2, true));
    const auto up = checker.nodeState("up1", address(port));
    QVERIFY(up && up->healthy && up->successes == 2 && up->failures == 0);
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
    QVERIFY(state && !state->healthy);

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

QTEST_GUILESS_MAIN(TestHealthChecker)
#include "tst_healthchecker.moc"
