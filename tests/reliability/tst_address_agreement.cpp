// Validation (isIpOrCidr, what --check, the forms and the admin API accept) and matching
// (AddressRule::parse, what the engine builds) must agree on every IP/CIDR text. Rows come from
// the fuzz_address target; the "leading zero prefix" rows fail while AddressRule::parse still
// accepts "/08", which the validator refuses as APISIX does.

#include "model/codec.h"
#include "proxy/addressmatch.h"

#include <QTest>

using namespace sg;

class TestAddressAgreement : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void agree_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("valid");
        QTest::newRow("ipv4") << "127.0.0.1" << true;
        QTest::newRow("ipv4 cidr") << "127.0.0.1/26" << true;
        QTest::newRow("ipv6 loopback") << "::1" << true;
        QTest::newRow("ipv6 cidr") << "fe80::/10" << true;
        QTest::newRow("ipv6 unspecified") << "::0" << true;
        QTest::newRow("mapped ipv4") << "::ffff:10.0.0.0/104" << true;
        QTest::newRow("apisix bad cidr") << ":/8" << false;
        QTest::newRow("ipv4 prefix 33") << "10.0.0.0/33" << false;
        QTest::newRow("short ipv4") << "127.1" << false;
        QTest::newRow("empty prefix") << "10.0.0.0/" << false;
        QTest::newRow("leading zero prefix ipv4") << "1.2.3.4/08" << false;
        QTest::newRow("leading zero prefix ipv4 /032") << "1.2.3.4/032" << false;
        QTest::newRow("leading zero prefix ipv6") << "::1/0128" << false;
        QTest::newRow("leading zero prefix /00") << "0.0.0.0/00" << false;
    }
    void agree()
    {
        QFETCH(QString, text);
        QFETCH(bool, valid);
        QCOMPARE(isIpOrCidr(text), valid);
        QCOMPARE(AddressRule::parse(text).has_value(), valid);
    }
};

QTEST_GUILESS_MAIN(TestAddressAgreement)
#include "tst_address_agreement.moc"
