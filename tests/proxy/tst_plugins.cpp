// ip-restriction and limit-conn as APISIX's stream plugins decide them: who is refused, who is
// admitted, who is delayed and for how long, and what a limit-conn key counts.

#include "proxy/plugins/iprestriction.h"
#include "proxy/plugins/limitconn.h"

#include <QTest>
#include <QThread>
#include <atomic>
#include <memory>
#include <vector>

using namespace sg;

namespace {

const QHostAddress kLocal(QStringLiteral("127.0.0.1"));

LimitConnConf limitConf(int conn, int burst, double delay, const QString& key = "remote_addr",
                        const QString& keyType = "var")
{
    LimitConnConf conf;
    conf.conn = conn;
    conf.burst = burst;
    conf.defaultConnDelay = delay;
    conf.key = key;
    conf.keyType = keyType;
    return conf;
}

// A client as admission sees it: from `remote`, arrived at `local`:`serverPort`.
StreamClient at(const QHostAddress& remote, const QHostAddress& local, int serverPort,
                quint16 remotePort = 40000)
{
    StreamClient client;
    client.remoteAddress = remote;
    client.remotePort = remotePort;
    client.serverAddress = local;
    client.serverPort = quint16(serverPort);
    return client;
}

} // namespace

class TestPlugins : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void ipRestriction_data();
    void ipRestriction();
    void ipRestrictionMessage();
    void limitConnSequence();
    void limitConnRelease();
    void limitConnDelayGrowsWithExcess();
    void limitConnKeys_data();
    void limitConnKeys();
    void limitConnKeysAreCountedSeparately();
    void limitConnConcurrent();
    void limitConnRules();
    void limitConnRulesDelaysAddUp();
};

void TestPlugins::ipRestriction_data()
{
    QTest::addColumn<QStringList>("whitelist");
    QTest::addColumn<QStringList>("blacklist");
    QTest::addColumn<QString>("peer");
    QTest::addColumn<bool>("allowed");

    const QStringList none;
    QTest::newRow("whitelist listed") << QStringList{"127.0.0.1"} << none << "127.0.0.1" << true;
    QTest::newRow("whitelist not listed")
        << QStringList{"127.0.0.1"} << none << "127.0.0.2" << false;
    QTest::newRow("whitelist cidr") << QStringList{"127.0.0.0/24"} << none << "127.0.0.200" << true;
    QTest::newRow("whitelist cidr outside")
        << QStringList{"127.0.0.0/24"} << none << "127.0.1.1" << false;
    QTest::newRow("whitelist mapped peer")
        << QStringList{"127.0.0.1"} << none << "::ffff:127.0.0.1" << true;
    QTest::newRow("whitelist ipv6") << QStringList{"::1", "127.0.0.1"} << none << "::1" << true;
    QTest::newRow("whitelist ipv6 not listed")
        << QStringList{"127.0.0.1"} << none << "::1" << false;
    QTest::newRow("blacklist listed") << none << QStringList{"127.0.0.2"} << "127.0.0.2" << false;
    QTest::newRow("blacklist not listed")
        << none << QStringList{"127.0.0.2"} << "127.0.0.1" << true;
    QTest::newRow("blacklist cidr") << none << QStringList{"10.0.0.0/8"} << "10.200.1.1" << false;
    QTest::newRow("blacklist mapped peer")
        << none << QStringList{"127.0.0.2"} << "::ffff:127.0.0.2" << false;
    QTest::newRow("blacklist ipv6 cidr") << none << QStringList{"fe80::/10"} << "fe80::1" << false;
    QTest::newRow("whitelist bad entry ignored")
        << QStringList{":/8", "127.0.0.1"} << none << "127.0.0.1" << true;
    QTest::newRow("whitelist only bad entry refuses all")
        << QStringList{":/8"} << none << "127.0.0.1" << false;
}

void TestPlugins::ipRestriction()
{
    QFETCH(QStringList, whitelist);
    QFETCH(QStringList, blacklist);
    QFETCH(QString, peer);
    QFETCH(bool, allowed);
    IpRestrictionConf conf;
    conf.whitelist = whitelist;
    conf.blacklist = blacklist;
    const IpRestriction plugin(conf);
    QCOMPARE(plugin.allows(QHostAddress(peer)), allowed);
}

void TestPlugins::ipRestrictionMessage()
{
    IpRestrictionConf conf;
    conf.whitelist = {"127.0.0.1"};
    QCOMPARE(IpRestriction(conf).message(), QStringLiteral("Your IP address is not allowed"));
    conf.message = "go away";
    QCOMPARE(IpRestriction(conf).message(), QStringLiteral("go away"));
}

void TestPlugins::limitConnSequence()
{
    LimitConn limit(limitConf(2, 1, 0.2));
    const QHostAddress client("127.0.0.2");

    const auto first = limit.acquire(at(client, kLocal, 9100));
    QVERIFY(first.admitted);
    QCOMPARE(first.delaySeconds, 0.0);
    QCOMPARE(first.key, QStringLiteral("127.0.0.2"));

    const auto second = limit.acquire(at(client, kLocal, 9100));
    QVERIFY(second.admitted);
    QCOMPARE(second.delaySeconds, 0.0);

    const auto third = limit.acquire(at(client, kLocal, 9100));
    QVERIFY(third.admitted);
    QCOMPARE(third.delaySeconds, 0.2);
    QCOMPARE(third.concurrent, 3);

    const auto fourth = limit.acquire(at(client, kLocal, 9100));
    QVERIFY(!fourth.admitted);
    QVERIFY(fourth.held.isEmpty());                    // holds nothing
    QCOMPARE(fourth.key, QStringLiteral("127.0.0.2")); // the key that is full, for the message
    QCOMPARE(fourth.concurrent, 3);
    QCOMPARE(limit.active("127.0.0.2"), 3);

    const auto fifth = limit.acquire(at(client, kLocal, 9100));
    QVERIFY(!fifth.admitted);
    QCOMPARE(limit.active("127.0.0.2"), 3);
}

void TestPlugins::limitConnRelease()
{
    LimitConn limit(limitConf(1, 0, 0.1));
    const QHostAddress client("127.0.0.3");
    const auto first = limit.acquire(at(client, kLocal, 1));
    QVERIFY(first.admitted);
    QVERIFY(!limit.acquire(at(client, kLocal, 1)).admitted);

    limit.release(first.held);
    QCOMPARE(limit.active(first.key), 0);
    const auto again = limit.acquire(at(client, kLocal, 1));
    QVERIFY(again.admitted);
    QCOMPARE(again.delaySeconds, 0.0);

    // Releasing a refused admission (empty key) or too often never goes below zero.
    limit.release(QString());
    limit.release(again.held);
    limit.release(again.held);
    QCOMPARE(limit.active(again.key), 0);
    QVERIFY(limit.acquire(at(client, kLocal, 1)).admitted);
}

// resty.limit.conn: delay = default_conn_delay x floor((n - 1) / conn) for the n-th connection.
void TestPlugins::limitConnDelayGrowsWithExcess()
{
    LimitConn limit(limitConf(2, 4, 0.5));
    const QHostAddress client("127.0.0.4");
    const QList<double> expected{0, 0, 0.5, 0.5, 1.0, 1.0};
    for (int n = 0; n < expected.size(); ++n) {
        const auto admission = limit.acquire(at(client, kLocal, 1));
        QVERIFY2(admission.admitted, qPrintable(QString::number(n + 1)));
        QCOMPARE(admission.delaySeconds, expected.at(n));
    }
    QVERIFY(!limit.acquire(at(client, kLocal, 1)).admitted);
}

void TestPlugins::limitConnKeys_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("keyType");
    QTest::addColumn<QString>("expected");

    QTest::newRow("remote_addr") << "remote_addr"
                                 << "var"
                                 << "127.0.0.2";
    QTest::newRow("server_addr") << "server_addr"
                                 << "var"
                                 << "127.0.0.1";
    QTest::newRow("server_port") << "server_port"
                                 << "var"
                                 << "9100";
    QTest::newRow("remote_port") << "remote_port"
                                 << "var"
                                 << "40000";
    QTest::newRow("protocol") << "protocol"
                              << "var"
                              << "TCP";
    QTest::newRow("combination with remote_port") << "$remote_addr:$remote_port"
                                                  << "var_combination"
                                                  << "127.0.0.2:40000";
    QTest::newRow("unknown var falls back to remote_addr") << "http_x_real_ip"
                                                           << "var"
                                                           << "127.0.0.2";
    QTest::newRow("combination") << "$remote_addr $server_port"
                                 << "var_combination"
                                 << "127.0.0.2 9100";
    QTest::newRow("combination braces") << "${server_addr}:${server_port}"
                                        << "var_combination"
                                        << "127.0.0.1:9100";
    QTest::newRow("combination partly unknown") << "$remote_addr-$nope"
                                                << "var_combination"
                                                << "127.0.0.2-";
    QTest::newRow("combination nothing resolves") << "$nope $none"
                                                  << "var_combination"
                                                  << "127.0.0.2";
    QTest::newRow("combination literal only") << "fixed"
                                              << "var_combination"
                                              << "127.0.0.2";
    QTest::newRow("combination escaped dollar") << "\\$remote_addr"
                                                << "var_combination"
                                                << "127.0.0.2";
}

void TestPlugins::limitConnKeys()
{
    QFETCH(QString, key);
    QFETCH(QString, keyType);
    QFETCH(QString, expected);
    LimitConn limit(limitConf(1, 0, 1, key, keyType));
    // Mapped addresses as a dual-stack listener reports them: the key uses the IPv4 text.
    const QHostAddress remote("::ffff:127.0.0.2");
    const QHostAddress local("::ffff:127.0.0.1");
    QCOMPARE(limit.keyFor(at(remote, local, 9100)), expected);
    const auto admission = limit.acquire(at(remote, local, 9100));
    QVERIFY(admission.admitted);
    QCOMPARE(admission.key, expected);
    QCOMPARE(limit.active(expected), 1);
}

void TestPlugins::limitConnKeysAreCountedSeparately()
{
    LimitConn byClient(limitConf(1, 0, 1));
    QVERIFY(byClient.acquire(at(QHostAddress("127.0.0.2"), kLocal, 1)).admitted);
    QVERIFY(byClient.acquire(at(QHostAddress("127.0.0.3"), kLocal, 1)).admitted);
    QVERIFY(!byClient.acquire(at(QHostAddress("127.0.0.2"), kLocal, 1)).admitted);

    LimitConn byServer(limitConf(1, 0, 1, "server_addr"));
    QVERIFY(byServer.acquire(at(QHostAddress("127.0.0.2"), kLocal, 1)).admitted);
    QVERIFY(!byServer.acquire(at(QHostAddress("127.0.0.3"), kLocal, 1)).admitted);
    QVERIFY(byServer.acquire(at(QHostAddress("127.0.0.3"), QHostAddress("127.0.0.9"), 1)).admitted);
}

// Many threads acquiring and releasing one key: the cap holds at every moment and the count
// returns to zero.
void TestPlugins::limitConnConcurrent()
{
    constexpr int conn = 3;
    constexpr int burst = 2;
    LimitConn limit(limitConf(conn, burst, 0.01));
    std::atomic<int> inside{0};
    std::atomic<int> maxInside{0};
    std::atomic<int> admitted{0};
    std::atomic<int> refused{0};

    std::vector<std::unique_ptr<QThread>> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back(QThread::create([&] {
            for (int i = 0; i < 2000; ++i) {
                const auto a = limit.acquire(at(QHostAddress("127.0.0.2"), kLocal, 1));
                if (!a.admitted) {
                    ++refused;
                    continue;
                }
                ++admitted;
                const int now = ++inside;
                int seen = maxInside.load();
                while (now > seen && !maxInside.compare_exchange_weak(seen, now)) {
                }
                --inside;
                limit.release(a.held);
            }
        }));
        threads.back()->start();
    }
    for (auto& thread : threads)
        QVERIFY(thread->wait(30000));

    QCOMPARE(admitted + refused, 8 * 2000);
    QVERIFY(maxInside.load() <= conn + burst);
    QCOMPARE(limit.active("127.0.0.2"), 0);
}

// rules: one counter each, every one must admit; a refusal gives back what the rules before it
// counted, a release what every rule counted.
void TestPlugins::limitConnRules()
{
    LimitConnConf conf = limitConf(100, 0, 0.5);
    conf.rules = {{2, 0, "$remote_addr"}, {3, 1, "$server_port"}};
    LimitConn limit(conf);
    const QHostAddress a("127.0.0.2");
    QCOMPARE(limit.keyFor(at(a, kLocal, 9100), 0), QStringLiteral("127.0.0.2"));
    QCOMPARE(limit.keyFor(at(a, kLocal, 9100), 1), QStringLiteral("9100"));

    const auto first = limit.acquire(at(a, kLocal, 9100));
    QVERIFY(first.admitted);
    QVERIFY(limit.acquire(at(a, kLocal, 9100)).admitted);
    const auto third = limit.acquire(at(a, kLocal, 9100)); // over rule 0 for this client
    QVERIFY(!third.admitted);
    QCOMPARE(third.rule, 0);
    QCOMPARE(third.key, QStringLiteral("127.0.0.2"));
    QCOMPARE(third.held, QString());
    QCOMPARE(limit.active("9100", 1), 2); // rule 1 never counted it

    QVERIFY(limit.acquire(at(QHostAddress("127.0.0.3"), kLocal, 9100)).admitted);
    const auto delayed = limit.acquire(at(QHostAddress("127.0.0.4"), kLocal, 9100));
    QVERIFY(delayed.admitted); // the 4th on port 9100: rule 1's burst
    QCOMPARE(delayed.delaySeconds, 0.5);
    const auto over = limit.acquire(at(QHostAddress("127.0.0.5"), kLocal, 9100));
    QVERIFY(!over.admitted);
    QCOMPARE(over.rule, 1);
    QCOMPARE(over.key, QStringLiteral("9100"));
    QCOMPARE(limit.active("127.0.0.5", 0), 0); // rule 0 gave its count back
    QVERIFY(limit.acquire(at(QHostAddress("127.0.0.5"), kLocal, 9101)).admitted); // other port

    limit.release(first.held);
    QCOMPARE(limit.active("127.0.0.2", 0), 1);
    QCOMPARE(limit.active("9100", 1), 3);
    limit.release(QStringLiteral("not held")); // nothing acquire() gave out: no change
    limit.release(QStringLiteral("1:99:9100"));
    QCOMPARE(limit.active("9100", 1), 3);
    QVERIFY(limit.acquire(at(QHostAddress("127.0.0.6"), kLocal, 9100)).admitted);
}

// APISIX waits for each rule in turn: the delays add up.
void TestPlugins::limitConnRulesDelaysAddUp()
{
    LimitConnConf conf = limitConf(1, 0, 0.25);
    conf.rules = {{1, 1, "$remote_addr"}, {1, 1, "$server_addr"}};
    LimitConn limit(conf);
    const QHostAddress a("127.0.0.2");
    QCOMPARE(limit.acquire(at(a, kLocal, 1)).delaySeconds, 0.0);
    const auto second = limit.acquire(at(a, kLocal, 1));
    QVERIFY(second.admitted);
    QCOMPARE(second.delaySeconds, 0.5);
    QVERIFY(!limit.acquire(at(a, kLocal, 1)).admitted);
}

QTEST_GUILESS_MAIN(TestPlugins)
#include "tst_plugins.moc"
