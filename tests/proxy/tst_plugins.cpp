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

    const auto first = limit.acquire(client, kLocal, 9100);
    QVERIFY(first.admitted);
    QCOMPARE(first.delaySeconds, 0.0);
    QCOMPARE(first.key, QStringLiteral("127.0.0.2"));

    const auto second = limit.acquire(client, kLocal, 9100);
    QVERIFY(second.admitted);
    QCOMPARE(second.delaySeconds, 0.0);

    const auto third = limit.acquire(client, kLocal, 9100);
    QVERIFY(third.admitted);
    QCOMPARE(third.delaySeconds, 0.2);
    QCOMPARE(third.concurrent, 3);

    const auto fourth = limit.acquire(client, kLocal, 9100);
    QVERIFY(!fourth.admitted);
    QVERIFY(fourth.key.isEmpty());
    QCOMPARE(limit.active("127.0.0.2"), 3);

    const auto fifth = limit.acquire(client, kLocal, 9100);
    QVERIFY(!fifth.admitted);
    QCOMPARE(limit.active("127.0.0.2"), 3);
}

void TestPlugins::limitConnRelease()
{
    LimitConn limit(limitConf(1, 0, 0.1));
    const QHostAddress client("127.0.0.3");
    const auto first = limit.acquire(client, kLocal, 1);
    QVERIFY(first.admitted);
    QVERIFY(!limit.acquire(client, kLocal, 1).admitted);

    limit.release(first.key);
    QCOMPARE(limit.active(first.key), 0);
    const auto again = limit.acquire(client, kLocal, 1);
    QVERIFY(again.admitted);
    QCOMPARE(again.delaySeconds, 0.0);

    // Releasing a refused admission (empty key) or too often never goes below zero.
    limit.release(QString());
    limit.release(again.key);
    limit.release(again.key);
    QCOMPARE(limit.active(again.key), 0);
    QVERIFY(limit.acquire(client, kLocal, 1).admitted);
}

// resty.limit.conn: delay = default_conn_delay x floor((n - 1) / conn) for the n-th connection.
void TestPlugins::limitConnDelayGrowsWithExcess()
{
    LimitConn limit(limitConf(2, 4, 0.5));
    const QHostAddress client("127.0.0.4");
    const QList<double> expected{0, 0, 0.5, 0.5, 1.0, 1.0};
    for (int n = 0; n < expected.size(); ++n) {
        const auto admission = limit.acquire(client, kLocal, 1);
        QVERIFY2(admission.admitted, qPrintable(QString::number(n + 1)));
        QCOMPARE(admission.delaySeconds, expected.at(n));
    }
    QVERIFY(!limit.acquire(client, kLocal, 1).admitted);
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
    QCOMPARE(limit.keyFor(remote, local, 9100), expected);
    const auto admission = limit.acquire(remote, local, 9100);
    QVERIFY(admission.admitted);
    QCOMPARE(admission.key, expected);
    QCOMPARE(limit.active(expected), 1);
}

void TestPlugins::limitConnKeysAreCountedSeparately()
{
    LimitConn byClient(limitConf(1, 0, 1));
    QVERIFY(byClient.acquire(QHostAddress("127.0.0.2"), kLocal, 1).admitted);
    QVERIFY(byClient.acquire(QHostAddress("127.0.0.3"), kLocal, 1).admitted);
    QVERIFY(!byClient.acquire(QHostAddress("127.0.0.2"), kLocal, 1).admitted);

    LimitConn byServer(limitConf(1, 0, 1, "server_addr"));
    QVERIFY(byServer.acquire(QHostAddress("127.0.0.2"), kLocal, 1).admitted);
    QVERIFY(!byServer.acquire(QHostAddress("127.0.0.3"), kLocal, 1).admitted);
    QVERIFY(byServer.acquire(QHostAddress("127.0.0.3"), QHostAddress("127.0.0.9"), 1).admitted);
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
                const auto a = limit.acquire(QHostAddress("127.0.0.2"), kLocal, 1);
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
                limit.release(a.key);
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

QTEST_GUILESS_MAIN(TestPlugins)
#include "tst_plugins.moc"
