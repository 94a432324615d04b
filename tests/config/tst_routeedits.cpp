// The config edits behind the GUI's one-click actions: allow / block a client on a route, and
// disable / enable / delete a route while keeping stream_proxy in step.
#include "config/routeedits.h"
#include "model/codec.h"

#include <QJsonDocument>
#include <QTest>

using namespace sg;

namespace {

StreamRoute route(const QByteArray& json)
{
    const Decoded<StreamRoute> d = decodeStreamRoute(QJsonDocument::fromJson(json).object());
    if (!d.ok())
        qFatal("bad fixture: %s", qPrintable(formatProblems(d.problems)));
    return d.value;
}

Config config(const QByteArray& json)
{
    const Decoded<Config> d = decodeConfig(QJsonDocument::fromJson(json).object());
    if (!d.ok())
        qFatal("bad fixture: %s", qPrintable(formatProblems(d.problems)));
    return d.value;
}

const QByteArray InlineUpstream = R"("upstream": {"nodes": {"127.0.0.1:3306": 1}})";

} // namespace

class TestRouteEdits : public QObject
{
    Q_OBJECT

private slots:
    void allowClient_data()
    {
        QTest::addColumn<QByteArray>("plugins");
        QTest::addColumn<QString>("ip");
        QTest::addColumn<bool>("changes");
        QTest::addColumn<QStringList>("whitelist");
        QTest::addColumn<QStringList>("blacklist");
        QTest::addColumn<bool>("restricted");

        QTest::newRow("added to whitelist")
            << QByteArray(R"({"ip-restriction": {"whitelist": ["127.0.0.1"]}})") << "192.168.1.20"
            << true << QStringList{"127.0.0.1", "192.168.1.20"} << QStringList{} << true;
        QTest::newRow("already whitelisted")
            << QByteArray(R"({"ip-restriction": {"whitelist": ["192.168.1.20"]}})")
            << "192.168.1.20" << false << QStringList{} << QStringList{} << true;
        QTest::newRow("removed from blacklist")
            << QByteArray(R"({"ip-restriction": {"blacklist": ["10.0.0.1", "10.0.0.2"]}})")
            << "10.0.0.2" << true << QStringList{} << QStringList{"10.0.0.1"} << true;
        QTest::newRow("last blacklist entry drops the plugin")
            << QByteArray(R"({"ip-restriction": {"blacklist": ["10.0.0.2"]}})") << "10.0.0.2"
            << true << QStringList{} << QStringList{} << false;
        QTest::newRow("not blacklisted")
            << QByteArray(R"({"ip-restriction": {"blacklist": ["10.0.0.1"]}})") << "10.0.0.2"
            << false << QStringList{} << QStringList{} << true;
        QTest::newRow("no restriction")
            << QByteArray("{}") << "10.0.0.2" << false << QStringList{} << QStringList{} << false;
        QTest::newRow("ipv6 spelled differently")
            << QByteArray(R"({"ip-restriction": {"whitelist": ["::1"]}})") << "0:0:0:0:0:0:0:1"
            << false << QStringList{} << QStringList{} << true;
    }

    void allowClient()
    {
        QFETCH(QByteArray, plugins);
        QFETCH(QString, ip);
        QFETCH(bool, changes);
        QFETCH(QStringList, whitelist);
        QFETCH(QStringList, blacklist);
        QFETCH(bool, restricted);
        const StreamRoute r =
            route(R"({"id": "db", "plugins": )" + plugins + ", " + InlineUpstream + "}");
        QString why;
        const std::optional<StreamRoute> next = withClientAllowed(r, ip, &why);
        QCOMPARE(next.has_value(), changes);
        if (!changes) {
            QVERIFY(!why.isEmpty());
            return;
        }
        QCOMPARE(next->plugins.ipRestriction.has_value(), restricted);
        if (restricted) {
            QCOMPARE(next->plugins.ipRestriction->whitelist, whitelist);
            QCOMPARE(next->plugins.ipRestriction->blacklist, blacklist);
        }
        // What the GUI writes must decode again.
        QVERIFY(decodeStreamRoute(encodeStreamRoute(*next)).ok());
    }

    void blockClient_data()
    {
        QTest::addColumn<QByteArray>("plugins");
        QTest::addColumn<bool>("changes");
        QTest::addColumn<QStringList>("whitelist");
        QTest::addColumn<QStringList>("blacklist");

        QTest::newRow("no restriction creates a blacklist")
            << QByteArray("{}") << true << QStringList{} << QStringList{"10.0.0.9"};
        QTest::newRow("added to blacklist")
            << QByteArray(R"({"ip-restriction": {"blacklist": ["10.0.0.1"]}})") << true
            << QStringList{} << QStringList{"10.0.0.1", "10.0.0.9"};
        QTest::newRow("removed from whitelist")
            << QByteArray(R"({"ip-restriction": {"whitelist": ["10.0.0.1", "10.0.0.9"]}})") << true
            << QStringList{"10.0.0.1"} << QStringList{};
        QTest::newRow("covered by a CIDR")
            << QByteArray(R"({"ip-restriction": {"whitelist": ["10.0.0.0/8"]}})") << false
            << QStringList{} << QStringList{};
        QTest::newRow("only allowed client")
            << QByteArray(R"({"ip-restriction": {"whitelist": ["10.0.0.9"]}})") << false
            << QStringList{} << QStringList{};
    }

    void blockClient()
    {
        QFETCH(QByteArray, plugins);
        QFETCH(bool, changes);
        QFETCH(QStringList, whitelist);
        QFETCH(QStringList, blacklist);
        const StreamRoute r =
            route(R"({"id": "db", "plugins": )" + plugins + ", " + InlineUpstream + "}");
        QString why;
        const std::optional<StreamRoute> next = withClientBlocked(r, "10.0.0.9", &why);
        QCOMPARE(next.has_value(), changes);
        if (!changes) {
            QVERIFY(!why.isEmpty());
            return;
        }
        QCOMPARE(next->plugins.ipRestriction->whitelist, whitelist);
        QCOMPARE(next->plugins.ipRestriction->blacklist, blacklist);
        QVERIFY(decodeStreamRoute(encodeStreamRoute(*next)).ok());
    }

    void disableEnableKeepsListenersInStep()
    {
        const Config c = config(R"({
            "stream_proxy": {"tcp": ["127.0.0.1:13306", 15432], "udp": [5353]},
            "stream_routes": [
                {"id": "db", "name": "DB", "server_port": 13306, "upstream": {"nodes": {"127.0.0.1:3306": 1}}},
                {"id": "pg", "server_port": 15432, "upstream": {"nodes": {"127.0.0.1:5432": 1}}},
                {"id": "pg2", "server_port": 15432, "remote_addr": "10.0.0.0/8", "upstream": {"nodes": {"127.0.0.1:5433": 1}}},
                {"id": "dns", "server_port": 5353, "upstream": {"nodes": {"127.0.0.1:53": 1}}}
            ]})");

        // Disabling "db" removes its listener (nobody else uses 13306) and remembers both.
        const Config off = withRouteDisabled(c, "db");
        QVERIFY(!off.findRoute("db"));
        QCOMPARE(off.streamProxy.tcp.size(), 1);
        QCOMPARE(off.streamProxy.tcp.first().port, 15432);
        const QList<DisabledRoute> disabled = disabledRoutes(off);
        QCOMPARE(disabled.size(), 1);
        QCOMPARE(disabled.first().route.name, QStringLiteral("DB"));
        QVERIFY(disabled.first().listen.has_value());
        QCOMPARE(disabled.first().listen->host, QStringLiteral("127.0.0.1"));
        QVERIFY(decodeConfig(encodeConfig(off)).ok());

        // Enabling brings route and listener back (the route goes to the end of match order).
        const Config on = withRouteEnabled(off, "db");
        QVERIFY(on.findRoute("db"));
        QVERIFY(disabledRoutes(on).isEmpty());
        QVERIFY(!on.streamgate.disabledRoutes.has_value());
        QCOMPARE(on.streamProxy.tcp.size(), 2);
        QCOMPARE(on.streamProxy.tcp.last().text(), QStringLiteral("127.0.0.1:13306"));

        // A port shared by two routes stays while one of them remains.
        const Config onePg = withRouteDeleted(c, "pg");
        QVERIFY(!onePg.findRoute("pg"));
        QCOMPARE(onePg.streamProxy.tcp.size(), 2);
        const Config noPg = withRouteDeleted(onePg, "pg2");
        QCOMPARE(noPg.streamProxy.tcp.size(), 1);
        // UDP listeners follow their routes too.
        QVERIFY(withRouteDisabled(c, "dns").streamProxy.udp.isEmpty());
    }

    void proxyWithListenMovesPorts()
    {
        const Config c = config(R"({"stream_proxy": {"tcp": [13306]},
            "stream_routes": [{"id": "db", "server_port": 13306, "upstream": {"nodes": {"127.0.0.1:3306": 1}}}]})");
        const StreamProxy moved = proxyWithListen(c, "db", RouteListen{Protocol::Tcp, {}, 13306},
                                                  RouteListen{Protocol::Tcp, "::1", 13307});
        QCOMPARE(moved.tcp.size(), 1);
        QCOMPARE(moved.tcp.first().text(), QStringLiteral("[::1]:13307"));
        QCOMPARE(uniqueRouteId(c, "DB"), QStringLiteral("db-2"));
        QCOMPARE(uniqueRouteId(c, "Local MySQL!"), QStringLiteral("local-mysql"));
    }

    // A port range is the user's stream_proxy entry: a route on one of its ports listens there,
    // and disabling, deleting or moving that route leaves the range whole.
    void rangesStayWhole()
    {
        const Config c = config(R"({
            "stream_proxy": {"tcp": ["127.0.0.1:2000-2010"], "udp": ["3000-3002"]},
            "stream_routes": [
                {"id": "a", "server_port": 2005, "upstream": {"nodes": {"127.0.0.1:3306": 1}}},
                {"id": "u", "server_port": 3002, "upstream": {"nodes": {"127.0.0.1:53": 1}}}
            ]})");
        const std::optional<RouteListen> a = listenOf(c.streamProxy, *c.findRoute("a"));
        QVERIFY(a.has_value());
        QVERIFY(*a == (RouteListen{Protocol::Tcp, "127.0.0.1", 2005}));
        const std::optional<RouteListen> u = listenOf(c.streamProxy, *c.findRoute("u"));
        QVERIFY(u.has_value());
        QVERIFY(*u == (RouteListen{Protocol::Udp, {}, 3002}));

        // Disabled, the route remembers its own port; the range stays and enabling adds nothing.
        const Config off = withRouteDisabled(c, "a");
        QVERIFY(off.streamProxy == c.streamProxy);
        QCOMPARE(disabledRoutes(off).first().listen->port, 2005);
        QVERIFY(decodeConfig(encodeConfig(off)).ok());
        const Config on = withRouteEnabled(off, "a");
        QVERIFY(on.streamProxy == c.streamProxy);
        QVERIFY(withRouteDeleted(c, "u").streamProxy == c.streamProxy);

        // Moved to a port outside the range: a listener of its own, the range kept.
        const StreamProxy out = proxyWithListen(c, "a", a, RouteListen{Protocol::Tcp, {}, 2011});
        QCOMPARE(out.tcp.size(), 2);
        QCOMPARE(out.tcp.first().text(), QStringLiteral("127.0.0.1:2000-2010"));
        QCOMPARE(out.tcp.last().text(), QStringLiteral("2011"));
        // Moved within the range: nothing to add.
        QVERIFY(proxyWithListen(c, "a", a, RouteListen{Protocol::Tcp, "127.0.0.1", 2007}) ==
                c.streamProxy);
        // Moved to another address on the same port: a single entry there, which listenOf
        // prefers to the range.
        StreamProxy elsewhere =
            proxyWithListen(c, "a", a, RouteListen{Protocol::Tcp, "127.0.0.2", 2005});
        QCOMPARE(elsewhere.tcp.size(), 2);
        QCOMPARE(elsewhere.tcp.last().text(), QStringLiteral("127.0.0.2:2005"));
        QVERIFY(*listenOf(elsewhere, *c.findRoute("a")) ==
                (RouteListen{Protocol::Tcp, "127.0.0.2", 2005}));

        // A disabled route's listener is one port: a range there is refused.
        const Decoded<Config> ranged = decodeConfig(QJsonDocument::fromJson(R"({"streamgate":
            {"disabled_routes": [{"route": {"id": "x", "upstream": {"nodes": {"127.0.0.1:1": 1}}},
                                  "protocol": "tcp", "listen": "2000-2002"}]}})")
                                                        .object());
        QVERIFY(!ranged.ok());
        QCOMPARE(ranged.problems.first().reason,
                 QStringLiteral("a disabled route's listen is one port, not a range"));
    }
};

QTEST_GUILESS_MAIN(TestRouteEdits)
#include "tst_routeedits.moc"
