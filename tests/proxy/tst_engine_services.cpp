// Stream routes that take what they lack from a service, on real sockets: a route with only a
// service_id reaches the service's upstream, the route's own upstream or upstream_id wins, a
// change to the service moves the next connections of its routes at once while open ones (its
// routes' and other routes') keep flowing, the service's upstream is one balancer for all its
// routes, and the service's ip-restriction guards its routes unless a route configures its
// own.

#include "loopback.h"
#include "model/codec.h"
#include "proxy/engine.h"
#include "proxyfixture.h"

#include <QJsonDocument>
#include <QTest>
#include <memory>

using namespace sg;
using namespace sgtest;

namespace {

EngineOptions smallEngine()
{
    EngineOptions o;
    o.workers = 2;
    return o;
}

Config configFrom(const QString& json)
{
    const Decoded<Config> d = decodeConfig(QJsonDocument::fromJson(json.toUtf8()).object());
    if (!d.ok())
        qFatal("test config invalid: %s", qPrintable(formatProblems(d.problems)));
    return d.value;
}

// True when bytes sent on fd come back (the echo upstream behind the route answers).
bool echoes(int fd, const QByteArray& data)
{
    QByteArray back;
    return fd >= 0 && exchange(fd, data, back, data.size(), false) == ReadEnd::Data && back == data;
}

// One connection through the proxy that sends a line and reads it back, then closes.
bool servedVia(int port, const QString& clientIp = QStringLiteral("127.0.0.1"))
{
    const int fd = connectTo(QStringLiteral("127.0.0.1"), port, clientIp);
    const bool ok = echoes(fd, "ping\n");
    if (fd >= 0)
        ::close(fd);
    return ok;
}

} // namespace

class TstEngineServices : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void upstreamPrecedence()
    {
        TestServer viaService(TestServer::Echo);
        TestServer own(TestServer::Echo);
        TestServer byId(TestServer::Echo);
        const QList<int> ports = freePorts(3);
        Engine engine(smallEngine());
        engine.apply(configFrom(QStringLiteral(R"({
            "stream_proxy": {"tcp": ["127.0.0.1:%1", "127.0.0.1:%2", "127.0.0.1:%3"]},
            "stream_routes": [
              {"id": "only-service", "server_port": %1, "service_id": "s1"},
              {"id": "own-upstream", "server_port": %2, "service_id": "s1",
               "upstream": {"nodes": {"127.0.0.1:%5": 1}}},
              {"id": "own-upstream-id", "server_port": %3, "service_id": "s1",
               "upstream_id": "u1"}],
            "services": [{"id": "s1", "upstream": {"nodes": {"127.0.0.1:%4": 1}}}],
            "upstreams": [{"id": "u1", "nodes": {"127.0.0.1:%6": 1}}]})")
                                    .arg(ports[0])
                                    .arg(ports[1])
                                    .arg(ports[2])
                                    .arg(viaService.port())
                                    .arg(own.port())
                                    .arg(byId.port())));

        QVERIFY(servedVia(ports[0]));
        QCOMPARE(viaService.accepted.load(), 1);
        QVERIFY(servedVia(ports[1]));
        QCOMPARE(own.accepted.load(), 1);
        QVERIFY(servedVia(ports[2]));
        QCOMPARE(byId.accepted.load(), 1);
        QCOMPARE(viaService.accepted.load(), 1);
    }

    void serviceChangeAppliesAtOnce()
    {
        TestServer first(TestServer::Echo);
        TestServer second(TestServer::Echo);
        TestServer other(TestServer::Echo);
        const QList<int> ports = freePorts(2);
        const QString json = QStringLiteral(R"({
            "stream_proxy": {"tcp": ["127.0.0.1:%1", "127.0.0.1:%2"]},
            "stream_routes": [
              {"id": "a", "server_port": %1, "service_id": "s1"},
              {"id": "b", "server_port": %2, "upstream": {"nodes": {"127.0.0.1:%4": 1}}}],
            "services": [{"id": "s1", "upstream": {"nodes": {"127.0.0.1:%3": 1}}}]})");
        Engine engine(smallEngine());
        engine.apply(
            configFrom(json.arg(ports[0]).arg(ports[1]).arg(first.port()).arg(other.port())));

        // Connections open across the change: one of the service's route, one of another route.
        const int held = connectTo(QStringLiteral("127.0.0.1"), ports[0]);
        const int unrelated = connectTo(QStringLiteral("127.0.0.1"), ports[1]);
        QVERIFY(echoes(held, "before\n"));
        QVERIFY(echoes(unrelated, "before\n"));
        QCOMPARE(first.accepted.load(), 1);

        engine.apply(
            configFrom(json.arg(ports[0]).arg(ports[1]).arg(second.port()).arg(other.port())));
        QVERIFY(servedVia(ports[0]));
        QCOMPARE(second.accepted.load(), 1);
        QCOMPARE(first.accepted.load(), 1);

        // Neither open connection was touched by the change.
        QVERIFY(echoes(held, "after\n"));
        QVERIFY(echoes(unrelated, "after\n"));
        QCOMPARE(other.accepted.load(), 1);
        ::close(held);
        ::close(unrelated);
    }

    // A service's inline upstream is one upstream for all its routes: one balancer takes turns
    // across them, and its nodes are counted once, under the service.
    void serviceUpstreamIsShared()
    {
        TestServer a(TestServer::Echo);
        TestServer b(TestServer::Echo);
        const QList<int> ports = freePorts(2);
        Engine engine(smallEngine());
        engine.apply(configFrom(QStringLiteral(R"({
            "stream_proxy": {"tcp": ["127.0.0.1:%1", "127.0.0.1:%2"]},
            "stream_routes": [{"id": "r1", "server_port": %1, "service_id": "s1"},
                              {"id": "r2", "server_port": %2, "service_id": "s1"}],
            "services": [{"id": "s1", "upstream": {"type": "roundrobin",
                          "nodes": {"127.0.0.1:%3": 1, "127.0.0.1:%4": 1}}}]})")
                                    .arg(ports[0])
                                    .arg(ports[1])
                                    .arg(a.port())
                                    .arg(b.port())));

        QVERIFY(servedVia(ports[0]));
        QVERIFY(servedVia(ports[1]));
        QCOMPARE(a.accepted.load(), 1);
        QCOMPARE(b.accepted.load(), 1);
        quint64 total = 0;
        for (const NodeStatus& n : engine.snapshot().nodes) {
            QCOMPARE(n.upstream, QStringLiteral("service:s1"));
            total += n.total;
        }
        QCOMPARE(total, quint64(2));
    }

    void serviceIpRestriction_data()
    {
        QTest::addColumn<QString>("route"); // the route's fields besides id and server_port
        QTest::addColumn<QString>("clientIp");
        QTest::addColumn<bool>("served");
        const QString serviceOnly = QStringLiteral(R"("service_id": "s1")");
        const QString ownConf = QStringLiteral(
            R"("service_id": "s1", "plugins": {"ip-restriction": {"whitelist": ["127.0.0.2"]}})");
        QTest::newRow("service's whitelist admits") << serviceOnly << "127.0.0.1" << true;
        QTest::newRow("service's whitelist refuses") << serviceOnly << "127.0.0.2" << false;
        QTest::newRow("route's own conf wins: admits") << ownConf << "127.0.0.2" << true;
        QTest::newRow("route's own conf wins: refuses") << ownConf << "127.0.0.1" << false;
    }
    void serviceIpRestriction()
    {
        QFETCH(QString, route);
        QFETCH(QString, clientIp);
        QFETCH(bool, served);
        TestServer up(TestServer::Echo);
        const int port = freePort();
        Engine engine(smallEngine());
        engine.apply(configFrom(QStringLiteral(R"({
            "stream_proxy": {"tcp": ["127.0.0.1:%1"]},
            "stream_routes": [{"id": "r1", "server_port": %1, %3}],
            "services": [{"id": "s1", "upstream": {"nodes": {"127.0.0.1:%2": 1}},
                          "plugins": {"ip-restriction": {"whitelist": ["127.0.0.1"]}}}]})")
                                    .arg(port)
                                    .arg(up.port())
                                    .arg(route)));

        QCOMPARE(servedVia(port, clientIp), served);
        QCOMPARE(up.accepted.load(), served ? 1 : 0);
        const RouteCounters rc = routeCounters(engine.snapshot(), QStringLiteral("r1"));
        QCOMPARE(rc.deniedIpRestriction, quint64(served ? 0 : 1));
    }
};

QTEST_GUILESS_MAIN(TstEngineServices)
#include "tst_engine_services.moc"
