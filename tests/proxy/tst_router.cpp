// Router: APISIX stream route matching over remote_addr, server_addr and server_port; routes in
// list order, the first match wins, -1 when nothing matches; a TLS connection's SNI against routes
// with sni, and the ClientHello server_name reader that the certificate choice starts from.

#include "proxy/router.h"
#include "proxy/servername.h"

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
    void sniMatch_data();
    void sniMatch();
    void serverNameExtension_data();
    void serverNameExtension();
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
    MatchInput input{QHostAddress::LocalHost, QHostAddress::LocalHost, 1, {}};
    QCOMPARE(router.match(input), -1);
}

// A TLS connection's SNI against routes with sni, as APISIX's stream router (a radixtree of
// reversed names): exact names, then wildcards by suffix length, then the routes without sni.
void TestRouter::sniMatch_data()
{
    QTest::addColumn<QStringList>("routes");
    QTest::addColumn<QString>("sni");
    QTest::addColumn<QString>("remote");
    QTest::addColumn<int>("expected");
    const QString lo = QStringLiteral("127.0.0.1");
    QTest::newRow("exact beats an earlier wildcard")
        << QStringList{"sni=*.test.com", "sni=a.test.com"} << "a.test.com" << lo << 1;
    QTest::newRow("longer wildcard beats an earlier shorter one")
        << QStringList{"sni=*.com", "sni=*.test.com"} << "a.test.com" << lo << 1;
    QTest::newRow("catch-all comes last")
        << QStringList{"sni=*", "sni=*.com"} << "a.test.com" << lo << 1;
    QTest::newRow("catch-all takes any name") << QStringList{"sni=*", ""} << "x.org" << lo << 0;
    QTest::newRow("route wildcard spans labels")
        << QStringList{"sni=*.test.com"} << "a.b.test.com" << lo << 0;
    QTest::newRow("wildcard does not take the bare suffix")
        << QStringList{"sni=*.test.com", ""} << "test.com" << lo << 1;
    QTest::newRow("exact with another remote falls to the wildcard")
        << QStringList{"sni=a.test.com remote=127.0.0.2", "sni=*.test.com"} << "a.test.com" << lo
        << 1;
    QTest::newRow("same sni told apart by remote")
        << QStringList{"sni=a.test.com remote=127.0.0.2", "sni=a.test.com remote=127.0.0.1"}
        << "a.test.com" << lo << 1;
    QTest::newRow("no sni route for the name: a route without sni")
        << QStringList{"sni=b.test.com", "remote=127.0.0.2", ""} << "a.test.com" << lo << 2;
    QTest::newRow("route sni compared in lower case")
        << QStringList{"sni=A.Test.COM"} << "a.test.com" << lo << 0;
    QTest::newRow("no route at all") << QStringList{"sni=b.test.com"} << "a.test.com" << lo << -1;
}

void TestRouter::sniMatch()
{
    QFETCH(QStringList, routes);
    QFETCH(QString, sni);
    QFETCH(QString, remote);
    QFETCH(int, expected);
    QList<StreamRoute> list;
    for (const QString& spec : routes)
        list.append(routeFrom(spec));
    const Router router(list);
    MatchInput input{QHostAddress(remote), QHostAddress::LocalHost, 9100, sni};
    QCOMPARE(router.match(input), expected);
}

// The body of a ClientHello's server_name extension (RFC 6066), as OpenSSL hands it to the
// client-hello callback that picks the certificate: the first host_name, or nothing when the
// body is malformed (lengths that do not add up, a cut, a name with bytes no host name has).
void TestRouter::serverNameExtension_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("name");
    const auto ext = [](const QList<QPair<int, QByteArray>>& entries) {
        QByteArray list;
        for (const auto& [type, name] : entries)
            list += char(type) + QByteArray(1, char(name.size() >> 8)) +
                    QByteArray(1, char(name.size() & 0xff)) + name;
        return QByteArray(1, char(list.size() >> 8)) + QByteArray(1, char(list.size() & 0xff)) +
               list;
    };
    QTest::newRow("one host_name") << ext({{0, "a.example.com"}}) << "a.example.com";
    QTest::newRow("upper case, trailing dot") << ext({{0, "A.Example.COM."}}) << "a.example.com";
    QTest::newRow("unknown type first") << ext({{7, "x"}, {0, "b.example.com"}}) << "b.example.com";
    QTest::newRow("empty") << QByteArray() << "";
    QTest::newRow("list length too long") << QByteArray("\x00\x10\x00\x00\x01a", 6) << "";
    QTest::newRow("name length past the end") << QByteArray("\x00\x04\x00\x00\x09a", 6) << "";
    QTest::newRow("empty name") << ext({{0, ""}}) << "";
    QTest::newRow("name with a space") << ext({{0, "a b"}}) << "";
    QTest::newRow("name with a NUL") << ext({{0, QByteArray("a\0b", 3)}}) << "";
    QTest::newRow("no host_name") << ext({{1, "a.example.com"}}) << "";
}

void TestRouter::serverNameExtension()
{
    QFETCH(QByteArray, body);
    QFETCH(QString, name);
    QCOMPARE(serverNameOf(reinterpret_cast<const unsigned char*>(body.constData()),
                          std::size_t(body.size())),
             name);
}

QTEST_GUILESS_MAIN(TestRouter)
#include "tst_router.moc"
