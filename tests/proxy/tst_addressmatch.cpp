// AddressRule / AddressList: which rule texts parse, and which peers each rule matches,
// including IPv4-mapped peers, and the families kept apart as APISIX keeps them: IPv4 peers
// match IPv4 rules only, IPv6 peers IPv6 rules only (so ::/0 is no allow-everyone).

#include "proxy/addressmatch.h"

#include <QTest>

using namespace sg;

class TestAddressMatch : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parse_data();
    void parse();
    void matches_data();
    void matches();
    void normalized_data();
    void normalized();
    void list();
};

void TestAddressMatch::parse_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<int>("prefix");

    QTest::newRow("ipv4 bare") << "127.0.0.1" << true << 32;
    QTest::newRow("ipv4 /26") << "127.0.0.1/26" << true << 26;
    QTest::newRow("ipv4 /0") << "0.0.0.0/0" << true << 0;
    QTest::newRow("ipv4 /32") << "10.1.2.3/32" << true << 32;
    QTest::newRow("ipv6 loopback") << "::1" << true << 128;
    QTest::newRow("ipv6 link-local /10") << "fe80::/10" << true << 10;
    QTest::newRow("ipv6 /128") << "2001:db8::1/128" << true << 128;
    QTest::newRow("ipv6 mapped /104") << "::ffff:10.0.0.0/104" << true << 104;
    QTest::newRow("colon slash 8") << ":/8" << false << 0;
    QTest::newRow("empty") << "" << false << 0;
    QTest::newRow("only prefix") << "/8" << false << 0;
    QTest::newRow("ipv4 /33") << "10.0.0.0/33" << false << 0;
    QTest::newRow("ipv6 /129") << "::/129" << false << 0;
    QTest::newRow("negative prefix") << "10.0.0.0/-1" << false << 0;
    QTest::newRow("empty prefix") << "10.0.0.0/" << false << 0;
    QTest::newRow("netmask notation") << "10.0.0.0/255.0.0.0" << false << 0;
    QTest::newRow("short ipv4") << "127.1" << false << 0;
    QTest::newRow("octet 256") << "10.0.0.256" << false << 0;
    QTest::newRow("hostname") << "localhost" << false << 0;
    QTest::newRow("scope id") << "fe80::1%lo" << false << 0;
    QTest::newRow("trailing space") << "10.0.0.1 " << false << 0;
    QTest::newRow("two slashes") << "10.0.0.0/8/8" << false << 0;
}

void TestAddressMatch::parse()
{
    QFETCH(QString, text);
    QFETCH(bool, valid);
    QFETCH(int, prefix);
    const auto rule = AddressRule::parse(text);
    QCOMPARE(rule.has_value(), valid);
    if (rule) {
        QCOMPARE(rule->prefixLength(), prefix);
        QCOMPARE(rule->text(), text);
    }
}

void TestAddressMatch::matches_data()
{
    QTest::addColumn<QString>("rule");
    QTest::addColumn<QString>("peer");
    QTest::addColumn<bool>("expected");

    QTest::newRow("exact ipv4 same") << "127.0.0.1"
                                     << "127.0.0.1" << true;
    QTest::newRow("exact ipv4 other") << "127.0.0.1"
                                      << "127.0.0.2" << false;
    QTest::newRow("/26 first address") << "127.0.0.1/26"
                                       << "127.0.0.0" << true;
    QTest::newRow("/26 host bits in rule") << "127.0.0.1/26"
                                           << "127.0.0.2" << true;
    QTest::newRow("/26 last inside") << "127.0.0.1/26"
                                     << "127.0.0.63" << true;
    QTest::newRow("/26 first outside") << "127.0.0.1/26"
                                       << "127.0.0.64" << false;
    QTest::newRow("/26 other net") << "127.0.0.1/26"
                                   << "127.0.1.1" << false;
    QTest::newRow("/0 matches any ipv4") << "0.0.0.0/0"
                                         << "203.0.113.9" << true;
    QTest::newRow("/0 ipv4 not ipv6") << "0.0.0.0/0"
                                      << "2001:db8::1" << false;
    QTest::newRow("ipv6 loopback") << "::1"
                                   << "::1" << true;
    QTest::newRow("ipv6 loopback vs ipv4") << "::1"
                                           << "127.0.0.1" << false;
    QTest::newRow("fe80::/10 inside") << "fe80::/10"
                                      << "fe80::1" << true;
    QTest::newRow("fe80::/10 upper edge") << "fe80::/10"
                                          << "febf:ffff::1" << true;
    QTest::newRow("fe80::/10 outside") << "fe80::/10"
                                       << "fec0::1" << false;
    QTest::newRow("fe80::/10 with peer scope") << "fe80::/10"
                                               << "fe80::1%1" << true;
    QTest::newRow("mapped peer vs ipv4 rule") << "10.0.0.5"
                                              << "::ffff:10.0.0.5" << true;
    QTest::newRow("mapped peer vs ipv4 cidr") << "10.0.0.0/8"
                                              << "::ffff:10.9.8.7" << true;
    QTest::newRow("mapped peer outside cidr") << "10.0.0.0/8"
                                              << "::ffff:11.0.0.1" << false;
    QTest::newRow("ipv4 rule vs native ipv6") << "10.0.0.5"
                                              << "2001:db8::a00:5" << false;
    // An IPv6 rule, even in mapped form, never matches an IPv4 peer (mapped peers are IPv4).
    QTest::newRow("mapped rule vs ipv4 peer") << "::ffff:10.0.0.0/104"
                                              << "10.1.2.3" << false;
    QTest::newRow("mapped rule vs other ipv4") << "::ffff:10.0.0.0/104"
                                               << "11.1.2.3" << false;
    QTest::newRow("mapped rule vs mapped peer") << "::ffff:10.0.0.0/104"
                                                << "::ffff:10.1.2.3" << false;
    QTest::newRow("mapped bare rule") << "::ffff:192.168.1.20"
                                      << "192.168.1.20" << false;
    QTest::newRow("::/0 does not match ipv4 peer") << "::/0"
                                                   << "192.0.2.1" << false;
    QTest::newRow("::/0 does not match mapped peer") << "::/0"
                                                     << "::ffff:127.0.0.1" << false;
    QTest::newRow("::/0 matches ipv6 peer") << "::/0"
                                            << "2001:db8::1" << true;
    QTest::newRow("0.0.0.0/0 matches mapped peer") << "0.0.0.0/0"
                                                   << "::ffff:127.0.0.1" << true;
    QTest::newRow("2001:db8::/32 inside") << "2001:db8::/32"
                                          << "2001:db8:ffff::1" << true;
    QTest::newRow("2001:db8::/32 outside") << "2001:db8::/32"
                                           << "2001:db9::1" << false;
}

void TestAddressMatch::matches()
{
    QFETCH(QString, rule);
    QFETCH(QString, peer);
    QFETCH(bool, expected);
    const auto parsed = AddressRule::parse(rule);
    QVERIFY2(parsed, qPrintable(rule));
    QHostAddress address;
    QVERIFY2(address.setAddress(peer), qPrintable(peer));
    QCOMPARE(parsed->matches(address), expected);
}

void TestAddressMatch::normalized_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("expected");
    QTest::newRow("mapped to ipv4") << "::ffff:10.0.0.5"
                                    << "10.0.0.5";
    QTest::newRow("ipv4 unchanged") << "10.0.0.5"
                                    << "10.0.0.5";
    QTest::newRow("ipv6 unchanged") << "2001:db8::1"
                                    << "2001:db8::1";
    QTest::newRow("scope dropped") << "fe80::1%1"
                                   << "fe80::1";
    QTest::newRow("compat not mapped") << "::10.0.0.5"
                                       << "::10.0.0.5";
}

void TestAddressMatch::normalized()
{
    QFETCH(QString, input);
    QFETCH(QString, expected);
    const QHostAddress result = normalizedAddress(QHostAddress(input));
    QCOMPARE(result.toString(), expected);
    QCOMPARE(result.protocol(), QHostAddress(expected).protocol());
}

void TestAddressMatch::list()
{
    QString bad;
    QVERIFY(!AddressList::parse({"127.0.0.1", ":/8", "::1"}, &bad));
    QCOMPARE(bad, QStringLiteral(":/8"));

    const auto list = AddressList::parse({"127.0.0.1", "192.168.0.0/16", "::1"}, &bad);
    QVERIFY(list);
    QCOMPARE(list->size(), 3);
    QVERIFY(list->contains(QHostAddress("127.0.0.1")));
    QVERIFY(list->contains(QHostAddress("::ffff:192.168.44.1")));
    QVERIFY(list->contains(QHostAddress("::1")));
    QVERIFY(!list->contains(QHostAddress("127.0.0.2")));
    QVERIFY(!list->contains(QHostAddress("10.0.0.1")));

    const auto empty = AddressList::parse({});
    QVERIFY(empty && empty->isEmpty());
    QVERIFY(!empty->contains(QHostAddress("127.0.0.1")));
}

QTEST_GUILESS_MAIN(TestAddressMatch)
#include "tst_addressmatch.moc"
