// Router: APISIX stream route matching over remote_addr, server_addr and server_port; routes in
// list order, the first match wins, -1 when nothing matches.

#include "proxy/router.h"

#include <QTest>

using namespace sg;

namespace {

// A compact route description for table rows: "remote=127.0.0.1/26 server=::1 port=9100 sni=x";
// an empty string is a route with no fields.
StreamRoute routeFrom(const QString& spec)
{
    StreamRoute route;
    for (const QString& field : spec.split(u' ', Qt::SkipEmptyParts)) {
        const qsizetype eq = field.indexOf(u'=');
        const QString name = field.left(eq);
        const QString value = field.mid(eq + 1);
        if (name == u"remote")
            route.remoteAddr = value;
        else if (name == u"server")
            route.serverAddr = value;
        else if (name == u"port")
            route.serverPort = value.toInt();
        else if (name == u"sni")
            route.sni = value;
        else
            qFatal("bad route spec field %s", qPrintable(field));
    }
    return route;
}

} // namespace

class TestRouter : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void match_data();
    void match();
    void emptyRouter();
};

void TestRouter::match_data()
{
    QTest::addColumn<QStringList>("routes");
    QTest::addColumn<QString>("remote");
    QTest::addColumn<QString>("local");
    QTest::addColumn<int>("port");
    QTest::addColumn<int>("expected");

    const QString lo = QStringLiteral("127.0.0.1");

    QTest::newRow("remote 127.0.0.1 matches")
        << QStringList{"remote=127.0.0.1"} << lo << lo << 9100 << 0;
    QTest::newRow("remote 127.0.0.2 refuses 127.0.0.1")
        << QStringList{"remote=127.0.0.2"} << lo << lo << 9100 << -1;
    QTest::newRow("remote /26 lower edge")
        << QStringList{"remote=127.0.0.1/26"} << "127.0.0.0" << lo << 1 << 0;
    QTest::newRow("remote /26 upper edge")
        << QStringList{"remote=127.0.0.1/26"} << "127.0.0.63" << lo << 1 << 0;
    QTest::newRow("remote /26 just outside")
        << QStringList{"remote=127.0.0.1/26"} << "127.0.0.64" << lo << 1 << -1;
    QTest::newRow("remote ::1") << QStringList{"remote=::1"} << "::1"
                                << "::1" << 9100 << 0;
    QTest::newRow("remote ::1 vs 127.0.0.1") << QStringList{"remote=::1"} << lo << lo << 9100 << -1;
    QTest::newRow("remote fe80::/10") << QStringList{"remote=fe80::/10"} << "fe80::abcd"
                                      << "fe80::1" << 1 << 0;
    QTest::newRow("remote fe80::/10 scoped peer")
        << QStringList{"remote=fe80::/10"} << "fe80::abcd%1"
        << "fe80::1%1" << 1 << 0;
    QTest::newRow("remote fe80::/10 global peer")
        << QStringList{"remote=fe80::/10"} << "2001:db8::1"
        << "::1" << 1 << -1;
    QTest::newRow("mapped peer vs ipv4 rule")
        << QStringList{"remote=127.0.0.2"} << "::ffff:127.0.0.2"
        << "::ffff:127.0.0.1" << 9100 << 0;
    QTest::newRow("mapped peer vs other ipv4 rule")
        << QStringList{"remote=127.0.0.2"} << "::ffff:127.0.0.3"
        << "::ffff:127.0.0.1" << 9100 << -1;
    QTest::newRow("server_addr equal")
        << QStringList{"server=127.0.0.1"} << "127.0.0.9" << lo << 9100 << 0;
    QTest::newRow("server_addr differs")
        << QStringList{"server=127.0.0.5"} << "127.0.0.9" << lo << 9100 << -1;
    QTest::newRow("server_addr cidr") << QStringList{"server=127.0.0.0/8"} << "127.0.0.9"
                                      << "127.3.2.1" << 9100 << 0;
    QTest::newRow("server_addr mapped local")
        << QStringList{"server=127.0.0.1"} << lo << "::ffff:127.0.0.1" << 9100 << 0;
    QTest::newRow("server_addr ipv6") << QStringList{"server=::1"} << "::1"
                                      << "::1" << 9100 << 0;
    QTest::newRow("server_port equal") << QStringList{"port=9100"} << lo << lo << 9100 << 0;
    QTest::newRow("server_port differs") << QStringList{"port=9100"} << lo << lo << 9101 << -1;
    QTest::newRow("two listeners pick by port")
        << QStringList{"port=9100", "port=9101"} << lo << lo << 9101 << 1;
    QTest::newRow("two listeners pick by server_addr")
        << QStringList{"server=127.0.0.1", "server=127.0.0.2"} << lo << "127.0.0.2" << 9100 << 1;
    QTest::newRow("all fields match")
        << QStringList{"remote=127.0.0.0/24 server=127.0.0.1 port=9100"} << "127.0.0.7" << lo
        << 9100 << 0;
    QTest::newRow("all fields but port")
        << QStringList{"remote=127.0.0.0/24 server=127.0.0.1 port=9100"} << "127.0.0.7" << lo
        << 9200 << -1;
    QTest::newRow("all fields but server")
        << QStringList{"remote=127.0.0.0/24 server=127.0.0.1 port=9100"} << "127.0.0.7"
        << "127.0.0.8" << 9100 << -1;
    QTest::newRow("all fields but remote")
        << QStringList{"remote=127.0.0.0/24 server=127.0.0.1 port=9100"} << "127.0.1.7" << lo
        << 9100 << -1;
    QTest::newRow("first match wins")
        << QStringList{"remote=127.0.0.0/8", "remote=127.0.0.1"} << lo << lo << 1 << 0;
    QTest::newRow("first match wins over catch-all")
        << QStringList{"port=9100", ""} << lo << lo << 9100 << 0;
    QTest::newRow("later route when first fails")
        << QStringList{"remote=127.0.0.2", "remote=127.0.0.0/8"} << lo << lo << 1 << 1;
    QTest::newRow("route with no fields matches all") << QStringList{""} << "2001:db8::77"
                                                      << "2001:db8::1" << 4242 << 0;
    QTest::newRow("catch-all after specific")
        << QStringList{"remote=10.0.0.0/8", "port=1", ""} << lo << lo << 2 << 2;
    QTest::newRow("no route at all") << QStringList{} << lo << lo << 9100 << -1;
    QTest::newRow("sni route never matches plain tcp")
        << QStringList{"sni=db.example.com", "port=9100"} << lo << lo << 9100 << 1;
    QTest::newRow("unparsable remote never matches")
        << QStringList{"remote=:/8", ""} << lo << lo << 9100 << 1;
    QTest::newRow("unparsable server never matches")
        << QStringList{"server=not-an-ip", "remote=127.0.0.1"} << lo << lo << 9100 << 1;
}

void TestRouter::match()
{
    QFETCH(QStringList, routes);
    QFETCH(QString, remote);
    QFETCH(QString, local);
    QFETCH(int, port);
    QFETCH(int, expected);

    QList<StreamRoute> list;
    for (const QString& spec : routes)
        list.append(routeFrom(spec));
    const Router router(list);
    QCOMPARE(router.size(), list.size());

    MatchInput input;
    QVERIFY(input.remoteAddress.setAddress(remote));
    QVERIFY(input.localAddress.setAddress(local));
    input.serverPort = port;
    QCOMPARE(router.match(input), expected);
}

void TestRouter::emptyRouter()
{
    const Router router({});
    MatchInput input{QHostAddress::LocalHost, QHostAddress::LocalHost, 1};
    QCOMPARE(router.match(input), -1);
}

QTEST_GUILESS_MAIN(TestRouter)
#include "tst_router.moc"
