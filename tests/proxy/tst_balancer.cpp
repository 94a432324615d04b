// Balancer: smooth weighted round robin, consistent hashing, least_conn, priority tiers with
// retries, weight 0 and health, as APISIX picks upstream nodes.

#include "proxy/balancer.h"

#include <QList>
#include <QTest>
#include <QThread>
#include <algorithm>
#include <memory>
#include <vector>

using namespace sg;

namespace {

Node node(const QString& host, int port, int weight, int priority = 0)
{
    Node n;
    n.host = host;
    n.port = port;
    n.weight = weight;
    n.priority = priority;
    return n;
}

Upstream upstream(const QString& type, const QList<Node>& nodes)
{
    Upstream u;
    u.type = type;
    u.nodes = nodes;
    return u;
}

QList<int> counts(Balancer& balancer, int picks, const QString& key = {})
{
    QList<int> result(balancer.nodeCount(), 0);
    for (int i = 0; i < picks; ++i) {
        const int picked = balancer.pick(key, {});
        if (picked < 0)
            qFatal("pick returned -1");
        ++result[picked];
    }
    return result;
}

QString address(const Balancer& balancer, int index)
{
    const Node& n = balancer.node(index);
    return n.host + u':' + QString::number(n.port);
}

} // namespace

class TestBalancer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void roundRobinWeights_data();
    void roundRobinWeights();
    void roundRobinIsSmooth();
    void roundRobinThreads();
    void weightZeroNeverChosen_data();
    void weightZeroNeverChosen();
    void priorityFailover();
    void retriesOverMoreThan64Nodes();
    void priorityWithRoundRobinInsideTier();
    void retriesExhaust();
    void chashSameKeySameNode();
    void chashDistribution();
    void chashMinimalMovement();
    void chashRetryMovesOn();
    void chashLargeWeights_data();
    void chashLargeWeights();
    void leastConn();
    void leastConnWeighted();
    void unhealthySkipped();
    void allUnhealthyStillTried();
    void unhealthyHigherTierFallsToLower();
    void chashKeyValues_data();
    void chashKeyValues();
};

void TestBalancer::roundRobinWeights_data()
{
    QTest::addColumn<QList<int>>("weights");
    QTest::addColumn<int>("picks");
    QTest::addColumn<QList<int>>("expected");
    QTest::newRow("9:1 over 100") << QList<int>{9, 1} << 100 << QList<int>{90, 10};
    QTest::newRow("1:1 over 10") << QList<int>{1, 1} << 10 << QList<int>{5, 5};
    QTest::newRow("5:3:2 over 50") << QList<int>{5, 3, 2} << 50 << QList<int>{25, 15, 10};
    QTest::newRow("single node") << QList<int>{7} << 13 << QList<int>{13};
    QTest::newRow("100:1 over 101") << QList<int>{100, 1} << 101 << QList<int>{100, 1};
}

void TestBalancer::roundRobinWeights()
{
    QFETCH(QList<int>, weights);
    QFETCH(int, picks);
    QFETCH(QList<int>, expected);
    QList<Node> nodes;
    for (int i = 0; i < weights.size(); ++i)
        nodes.append(node("127.0.0.1", 10000 + i, weights.at(i)));
    Balancer balancer(upstream("roundrobin", nodes));
    QCOMPARE(counts(balancer, picks), expected);
}

// Smooth: the light node is spread out, never two picks of it in a row, never a run of the
// heavy one longer than its share.
void TestBalancer::roundRobinIsSmooth()
{
    Balancer balancer(upstream(
        "roundrobin", {node("127.0.0.1", 1, 5), node("127.0.0.1", 2, 1), node("127.0.0.1", 3, 1)}));
    QString sequence;
    for (int i = 0; i < 14; ++i)
        sequence += QChar(u'a' + balancer.pick({}, {}));
    // nginx's published sequence for weights {5, 1, 1}: a a b a c a a, repeated
    QCOMPARE(sequence, QStringLiteral("aabacaaaabacaa"));
}

// Concurrent picks share one state under the lock: over a multiple of the weight sum the split
// stays exact however the threads interleave.
void TestBalancer::roundRobinThreads()
{
    Balancer balancer(upstream("roundrobin", {node("127.0.0.1", 1, 9), node("127.0.0.1", 2, 1)}));
    std::vector<std::unique_ptr<QThread>> threads;
    QList<int> perThread[4];
    for (int t = 0; t < 4; ++t) {
        perThread[t] = QList<int>(2, 0);
        threads.emplace_back(QThread::create([&balancer, &tally = perThread[t]] {
            for (int i = 0; i < 2500; ++i)
                ++tally[balancer.pick({}, {})];
        }));
        threads.back()->start();
    }
    for (auto& thread : threads)
        QVERIFY(thread->wait(30000));
    int first = 0;
    int second = 0;
    for (const QList<int>& tally : perThread) {
        first += tally.at(0);
        second += tally.at(1);
    }
    QCOMPARE(first, 9000);
    QCOMPARE(second, 1000);
}

void TestBalancer::weightZeroNeverChosen_data()
{
    QTest::addColumn<QString>("type");
    QTest::newRow("roundrobin") << "roundrobin";
    QTest::newRow("chash") << "chash";
    QTest::newRow("least_conn") << "least_conn";
}

void TestBalancer::weightZeroNeverChosen()
{
    QFETCH(QString, type);
    Balancer balancer(upstream(
        type, {node("127.0.0.1", 1, 0), node("127.0.0.1", 2, 3), node("127.0.0.1", 3, 0, 10)}));
    for (int i = 0; i < 200; ++i) {
        const int picked = balancer.pick(QString::number(i), {});
        QCOMPARE(picked, 1);
        balancer.connectionStarted(picked);
    }
    // With the only weighted node tried, nothing is left: weight 0 is not a fallback.
    QCOMPARE(balancer.pick("x", {1}), -1);

    Balancer onlyZero(upstream(type, {node("127.0.0.1", 1, 0)}));
    QCOMPARE(onlyZero.pick("x", {}), -1);
}

// Four dead nodes at a higher priority, a live one lower: each retry adds the failed node to
// `tried`; the lower tier is reached only when the whole higher tier is exhausted.
void TestBalancer::priorityFailover()
{
    QList<Node> nodes;
    for (int i = 0; i < 4; ++i)
        nodes.append(node("127.0.0.1", 20000 + i, 1, 10));
    nodes.append(node("127.0.0.1", 30000, 1, 0));
    Balancer balancer(upstream("roundrobin", nodes));

    TriedNodes tried;
    for (int attempt = 0; attempt < 4; ++attempt) {
        const int picked = balancer.pick({}, tried);
        QVERIFY2(picked >= 0 && picked < 4, qPrintable(QString::number(picked)));
        QVERIFY(!tried.contains(picked));
        tried.insert(picked);
    }
    QCOMPARE(balancer.pick({}, tried), 4);
    tried.insert(4);
    QCOMPARE(balancer.pick({}, tried), -1);

    // A fresh connection starts at the top tier again.
    QVERIFY(balancer.pick({}, {}) < 4);
}

// Node indexes past 63 are remembered as tried too: 100 nodes, each picked exactly once.
void TestBalancer::retriesOverMoreThan64Nodes()
{
    QList<Node> nodes;
    for (int i = 0; i < 100; ++i)
        nodes.append(node("127.0.0.1", 20000 + i, 1));
    Balancer balancer(upstream("roundrobin", nodes));
    TriedNodes tried;
    QList<int> picks;
    for (int attempt = 0; attempt < 100; ++attempt) {
        const int picked = balancer.pick({}, tried);
        QVERIFY2(picked >= 0 && picked < 100 && !tried.contains(picked),
                 qPrintable(QString::number(picked)));
        tried.insert(picked);
        picks.append(picked);
    }
    QCOMPARE(balancer.pick({}, tried), -1);
    std::sort(picks.begin(), picks.end());
    QCOMPARE(picks.first(), 0);
    QCOMPARE(picks.last(), 99);
    QCOMPARE(std::adjacent_find(picks.begin(), picks.end()), picks.end());
}

void TestBalancer::priorityWithRoundRobinInsideTier()
{
    Balancer balancer(
        upstream("roundrobin", {node("127.0.0.1", 1, 1, -5), node("127.0.0.1", 2, 3, 2),
                                node("127.0.0.1", 3, 1, 2), node("127.0.0.1", 4, 1, 0)}));
    const QList<int> tally = counts(balancer, 40);
    QCOMPARE(tally, (QList<int>{0, 30, 10, 0}));
    // Priority order is by value (2 > 0 > -5), not by list order.
    QCOMPARE(balancer.pick({}, {1, 2}), 3);
    QCOMPARE(balancer.pick({}, {1, 2, 3}), 0);
}

void TestBalancer::retriesExhaust()
{
    Balancer balancer(upstream("least_conn", {node("127.0.0.1", 1, 1), node("127.0.0.1", 2, 1)}));
    const int first = balancer.pick({}, {});
    const int second = balancer.pick({}, {first});
    QVERIFY(first != second);
    QCOMPARE(balancer.pick({}, {first, second}), -1);
}

void TestBalancer::chashSameKeySameNode()
{
    QList<Node> nodes;
    for (int i = 0; i < 5; ++i)
        nodes.append(node("10.0.0." + QString::number(i + 1), 3306, 1));
    Balancer balancer(upstream("chash", nodes));
    Balancer rebuilt(upstream("chash", nodes));
    for (int client = 0; client < 50; ++client) {
        const QString key = "192.168.1." + QString::number(client);
        const int first = balancer.pick(key, {});
        for (int again = 0; again < 5; ++again)
            QCOMPARE(balancer.pick(key, {}), first);
        // Built from the same nodes (e.g. after a config reload), the mapping is the same.
        QCOMPARE(rebuilt.pick(key, {}), first);
    }
}

void TestBalancer::chashDistribution()
{
    Balancer equal(upstream(
        "chash", {node("10.0.0.1", 1, 1), node("10.0.0.2", 1, 1), node("10.0.0.3", 1, 1)}));
    QList<int> tally(3, 0);
    for (int i = 0; i < 3000; ++i)
        ++tally[equal.pick("172.16." + QString::number(i / 256) + '.' + QString::number(i % 256),
                           {})];
    for (int count : tally)
        QVERIFY2(count > 800 && count < 1200, qPrintable(QString::number(count)));

    Balancer weighted(upstream("chash", {node("10.0.0.1", 1, 3), node("10.0.0.2", 1, 1)}));
    QList<int> split(2, 0);
    for (int i = 0; i < 4000; ++i)
        ++split[weighted.pick("client-" + QString::number(i), {})];
    QVERIFY2(split[0] > 2700 && split[0] < 3300, qPrintable(QString::number(split[0])));
}

// Removing a node (from the config, or by health) moves only the keys that were on it.
void TestBalancer::chashMinimalMovement()
{
    const QList<Node> four{node("10.0.0.1", 80, 1), node("10.0.0.2", 80, 2),
                           node("10.0.0.3", 80, 1), node("10.0.0.4", 80, 1)};
    QList<Node> three = four;
    three.removeAt(2);
    Balancer before(upstream("chash", four));
    Balancer after(upstream("chash", three));
    Balancer unhealthy(upstream("chash", four));
    unhealthy.setHealthy(2, false);

    int moved = 0;
    for (int i = 0; i < 2000; ++i) {
        const QString key = "key-" + QString::number(i);
        const QString was = address(before, before.pick(key, {}));
        const QString now = address(after, after.pick(key, {}));
        QCOMPARE(address(unhealthy, unhealthy.pick(key, {})), now);
        if (was == QStringLiteral("10.0.0.3:80")) {
            QVERIFY(now != was);
            ++moved;
        } else {
            QCOMPARE(now, was);
        }
    }
    // About a fifth of the keys lived on the removed node (weight 1 of 5).
    QVERIFY2(moved > 300 && moved < 500, qPrintable(QString::number(moved)));
}

void TestBalancer::chashRetryMovesOn()
{
    Balancer balancer(upstream(
        "chash", {node("10.0.0.1", 1, 1), node("10.0.0.2", 1, 1), node("10.0.0.3", 1, 1)}));
    const QString key = "127.0.0.2";
    TriedNodes tried;
    for (int attempt = 0; attempt < 3; ++attempt) {
        const int picked = balancer.pick(key, tried);
        QVERIFY(picked >= 0 && !tried.contains(picked));
        tried.insert(picked);
    }
    QCOMPARE(balancer.pick(key, tried), -1);
}

// Weights far above the ring cap: shares stay proportional; removing the first node moves no
// other key when the weights share a divisor, and few when they have to be scaled.
void TestBalancer::chashLargeWeights_data()
{
    QTest::addColumn<QList<int>>("weights");
    QTest::addColumn<int>("maxMovedElsewhere");
    QTest::newRow("common divisor") << QList<int>{5000, 5000, 10000} << 0;
    QTest::newRow("scaled") << QList<int>{5003, 4999, 10007} << 400;
}

void TestBalancer::chashLargeWeights()
{
    QFETCH(QList<int>, weights);
    QFETCH(int, maxMovedElsewhere);
    QList<Node> all;
    for (int i = 0; i < weights.size(); ++i)
        all.append(node("10.0.0." + QString::number(i + 1), 80, weights.at(i)));
    QList<Node> rest = all;
    rest.removeAt(0);
    Balancer before(upstream("chash", all));
    Balancer after(upstream("chash", rest));
    QList<int> tally(all.size(), 0);
    int movedElsewhere = 0;
    for (int i = 0; i < 4000; ++i) {
        const QString key = "c" + QString::number(i);
        const int picked = before.pick(key, {});
        ++tally[picked];
        const QString now = address(after, after.pick(key, {}));
        if (picked != 0 && now != address(before, picked))
            ++movedElsewhere;
    }
    QVERIFY2(tally[2] > 1800 && tally[2] < 2200, qPrintable(QString::number(tally[2])));
    QVERIFY2(movedElsewhere <= maxMovedElsewhere, qPrintable(QString::number(movedElsewhere)));
}

void TestBalancer::leastConn()
{
    Balancer balancer(upstream(
        "least_conn", {node("127.0.0.1", 1, 1), node("127.0.0.1", 2, 1), node("127.0.0.1", 3, 1)}));
    // Each new connection goes to the node with the fewest active ones.
    QList<int> order;
    for (int i = 0; i < 6; ++i) {
        const int picked = balancer.pick({}, {});
        balancer.connectionStarted(picked);
        order.append(picked);
    }
    QCOMPARE(order, (QList<int>{0, 1, 2, 0, 1, 2}));
    // Two sessions on node 1 end: it is now the least loaded.
    balancer.connectionEnded(1);
    balancer.connectionEnded(1);
    QCOMPARE(balancer.activeConnections(1), 0);
    QCOMPARE(balancer.pick({}, {}), 1);
    QCOMPARE(balancer.pick({}, {1}), 0);
    // Ending more sessions than started never goes negative.
    balancer.connectionEnded(1);
    QCOMPARE(balancer.activeConnections(1), 0);
}

void TestBalancer::leastConnWeighted()
{
    Balancer balancer(upstream("least_conn", {node("127.0.0.1", 1, 1), node("127.0.0.1", 2, 3)}));
    QList<int> tally(2, 0);
    for (int i = 0; i < 40; ++i) {
        const int picked = balancer.pick({}, {});
        balancer.connectionStarted(picked);
        ++tally[picked];
    }
    // Scores (active + 1) / weight stay level: the weight-3 node carries three times as many.
    QCOMPARE(tally, (QList<int>{10, 30}));
}

void TestBalancer::unhealthySkipped()
{
    Balancer balancer(upstream(
        "roundrobin", {node("127.0.0.1", 1, 1), node("127.0.0.1", 2, 1), node("127.0.0.1", 3, 1)}));
    QVERIFY(balancer.isHealthy(1));
    balancer.setHealthy(1, false);
    QVERIFY(!balancer.isHealthy(1));
    QCOMPARE(counts(balancer, 30), (QList<int>{15, 0, 15}));
    // APISIX builds the picker from the healthy nodes only: once they are tried, nothing is left.
    QCOMPARE(balancer.pick({}, {0, 2}), -1);
    balancer.setHealthy(1, true);
    QCOMPARE(counts(balancer, 30), (QList<int>{10, 10, 10}));
}

void TestBalancer::allUnhealthyStillTried()
{
    Balancer balancer(upstream("roundrobin", {node("127.0.0.1", 1, 1), node("127.0.0.1", 2, 1)}));
    balancer.setHealthy(0, false);
    balancer.setHealthy(1, false);
    QCOMPARE(counts(balancer, 10), (QList<int>{5, 5}));
    const int first = balancer.pick({}, {});
    QCOMPARE(balancer.pick({}, {first}), 1 - first);
}

void TestBalancer::unhealthyHigherTierFallsToLower()
{
    Balancer balancer(upstream("chash", {node("127.0.0.1", 1, 1, 5), node("127.0.0.1", 2, 1, 5),
                                         node("127.0.0.1", 3, 1, 0)}));
    balancer.setHealthy(0, false);
    balancer.setHealthy(1, false);
    for (int i = 0; i < 20; ++i)
        QCOMPARE(balancer.pick("client" + QString::number(i), {}), 2);
    balancer.setHealthy(1, true);
    for (int i = 0; i < 20; ++i)
        QCOMPARE(balancer.pick("client" + QString::number(i), {}), 1);
}

void TestBalancer::chashKeyValues_data()
{
    QTest::addColumn<QString>("hashOn");
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("expected");
    QTest::newRow("default is remote_addr") << ""
                                            << ""
                                            << "127.0.0.2";
    QTest::newRow("vars remote_addr") << "vars"
                                      << "remote_addr"
                                      << "127.0.0.2";
    QTest::newRow("vars server_addr") << "vars"
                                      << "server_addr"
                                      << "127.0.0.1";
    QTest::newRow("vars server_port") << "vars"
                                      << "server_port"
                                      << "9100";
    QTest::newRow("vars remote_port") << "vars"
                                      << "remote_port"
                                      << "40123";
    QTest::newRow("vars protocol") << "vars"
                                   << "protocol"
                                   << "TCP";
    QTest::newRow("vars unknown falls back") << "vars"
                                             << "request_uri"
                                             << "127.0.0.2";
    QTest::newRow("vars_combinations") << "vars_combinations"
                                       << "$remote_addr:$server_port"
                                       << "127.0.0.2:9100";
    QTest::newRow("vars_combinations unresolved") << "vars_combinations"
                                                  << "$nothing"
                                                  << "127.0.0.2";
    QTest::newRow("header hash_on not in stream") << "header"
                                                  << "x-user"
                                                  << "127.0.0.2";
}

void TestBalancer::chashKeyValues()
{
    QFETCH(QString, hashOn);
    QFETCH(QString, key);
    QFETCH(QString, expected);
    Upstream u = upstream("chash", {node("127.0.0.1", 1, 1)});
    u.hashOn = hashOn;
    u.key = key;
    StreamClient client;
    client.remoteAddress = QHostAddress("::ffff:127.0.0.2");
    client.remotePort = 40123;
    client.serverAddress = QHostAddress("127.0.0.1");
    client.serverPort = 9100;
    QCOMPARE(chashKeyValue(u, client), expected);
}

QTEST_GUILESS_MAIN(TestBalancer)
#include "tst_balancer.moc"
