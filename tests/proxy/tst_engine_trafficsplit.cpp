// The traffic-split stream plugin on real sockets: APISIX's t/stream-plugin/traffic-split.t
// TESTs 1-8 (weighted inline upstreams 9:1, the route's own upstream as an entry with only a
// weight, an upstream_id reference, a match on route_id), then matches on remote_addr from
// 127.0.0.2 and 127.0.0.3, a negated and an OR-nested expression, weight 0 entries, a UDP
// route, a chash inline upstream, a config change applied live, and an upstream_id that names
// no upstream. Each upstream is a Greet server whose greeting names it, so what a client reads
// says which upstream it reached; connections are made one after another, so the smooth
// weighted round robin's order is exact.

#include "loopback.h"
#include "model/codec.h"
#include "proxy/engine.h"
#include "proxyfixture.h"
#include "udppeers.h"

#include <QJsonDocument>
#include <QTest>
#include <memory>

using namespace sg;
using namespace sgtest;

namespace {

const QString kLocal = QStringLiteral("127.0.0.1");

EngineOptions options()
{
    EngineOptions o;
    o.workers = 2;
    return o;
}

// A config as APISIX's admin API would take it; %LISTEN, %A, %B, %C replaced by ports.
Config configFrom(QByteArray json, const QMap<QByteArray, int>& ports)
{
    for (auto it = ports.begin(); it != ports.end(); ++it)
        json.replace("%" + it.key(), QByteArray::number(it.value()));
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    if (doc.isNull())
        qWarning() << "bad test JSON:" << error.errorString() << json;
    const Decoded<Config> decoded = decodeConfig(doc.object());
    if (!decoded.ok())
        qWarning().noquote() << "config refused:" << formatProblems(decoded.problems);
    return decoded.value;
}

// Which upstream each of n connections (one after another, from bindHost) reached: its
// greeting, or "-" when the connection ended with nothing.
QString sequence(int port, int n, const QString& bindHost = {})
{
    QString seq;
    for (int i = 0; i < n; ++i) {
        const QByteArray got = greetingVia(kLocal, port, bindHost);
        seq += got.isEmpty() ? QStringLiteral("-") : QString::fromLatin1(got);
    }
    return seq;
}

quint64 routeNodeTotal(Engine& engine, int port)
{
    for (const auto& n : engine.snapshot().nodes)
        if (n.upstream == QLatin1String("2") && n.node == QStringLiteral("127.0.0.1:%1").arg(port))
            return n.total;
    return 0;
}

} // namespace

class TstEngineTrafficSplit : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // TESTs 1-2: two inline upstreams, weights 9 and 1; B's port refuses. Over 10 sessions the
    // smooth weighted round robin gives A 9 and B 1, in nginx's order (A A A A A B A A A A).
    void apisixWeightedInlineUpstreams()
    {
        auto a = greeter("A");
        RefusingPort b;
        Engine engine(options());
        const int listen = freePort();
        engine.apply(configFrom(R"({
            "stream_proxy": {"tcp": ["127.0.0.1:%LISTEN"]},
            "stream_routes": [{"id": "1", "plugins": {"traffic-split": {"rules": [{
                "weighted_upstreams": [
                    {"upstream": {"name": "upstream_A", "type": "roundrobin",
                                  "nodes": {"127.0.0.1:%A": 1}}, "weight": 9},
                    {"upstream": {"name": "upstream_B", "type": "roundrobin",
                                  "nodes": {"127.0.0.1:%B": 1}}, "weight": 1}]}]}}}]})",
                                {{"LISTEN", listen}, {"A", a->port()}, {"B", b.port()}}));
        const QString seq = sequence(listen, 10);
        QCOMPARE(seq, QStringLiteral("AAAAA-AAAA"));
        QCOMPARE(seq.count('A'), 9);
        QCOMPARE(a->accepted.load(), 9);
        // The next 10 go on with the same sequence.
        QCOMPARE(sequence(listen, 10), QStringLiteral("AAAAA-AAAA"));
    }

    // TESTs 3-4: the route's own upstream (upstream_id "1") as the entry with only a weight.
    void apisixRouteUpstreamAsEntry()
    {
        auto a = greeter("A");
        auto c = greeter("C");
        Engine engine(options());
        const int listen = freePort();
        engine.apply(configFrom(R"({
            "stream_proxy": {"tcp": ["127.0.0.1:%LISTEN"]},
            "upstreams": [{"id": "1", "type": "roundrobin", "nodes": {"127.0.0.1:%C": 1}}],
            "stream_routes": [{"id": "2", "upstream_id": "1",
                "plugins": {"traffic-split": {"rules": [{"weighted_upstreams": [
                    {"upstream": {"name": "upstream_A", "type": "roundrobin",
                                  "nodes": {"127.0.0.1:%A": 1}}, "weight": 9},
                    {"weight": 1}]}]}}}]})",
                                {{"LISTEN", listen}, {"A", a->port()}, {"C", c->port()}}));
        QCOMPARE(sequence(listen, 10), QStringLiteral("AAAAACAAAA"));
        QCOMPARE(c->accepted.load(), 1);
    }

    // TESTs 5-6: an entry with upstream_id "2" takes every session from the route's inline
    // upstream.
    void apisixUpstreamIdReference()
    {
        auto a = greeter("A");
        auto c = greeter("C");
        Engine engine(options());
        const int listen = freePort();
        engine.apply(configFrom(R"({
            "stream_proxy": {"tcp": ["127.0.0.1:%LISTEN"]},
            "upstreams": [{"id": "2", "type": "roundrobin", "nodes": {"127.0.0.1:%A": 1}}],
            "stream_routes": [{"id": "3",
                "upstream": {"type": "roundrobin", "nodes": {"127.0.0.1:%C": 1}},
                "plugins": {"traffic-split": {"rules": [{"weighted_upstreams": [
                    {"upstream_id": "2", "weight": 1}]}]}}}]})",
                                {{"LISTEN", listen}, {"A", a->port()}, {"C", c->port()}}));
        QCOMPARE(sequence(listen, 3), QStringLiteral("AAA"));
        QCOMPARE(c->accepted.load(), 0);
        // The shared upstream's node counts the sessions under the upstream's own id.
        const Snapshot s = engine.snapshot();
        bool seen = false;
        for (const auto& n : s.nodes)
            if (n.upstream == QLatin1String("2") &&
                n.node == QStringLiteral("127.0.0.1:%1").arg(a->port())) {
                seen = true;
                QTRY_COMPARE(routeNodeTotal(engine, a->port()), quint64(3));
            }
        QVERIFY(seen);
    }

    // TESTs 7-8: a match on route_id sends route 3's sessions to the rule's upstream; the same
    // rule on route 4 does not match, and its sessions keep the route's upstream.
    void apisixRouteIdMatch()
    {
        auto a = greeter("A");
        auto c = greeter("C");
        Engine engine(options());
        const QList<int> ports = freePorts(2);
        const QByteArray split = R"("plugins": {"traffic-split": {"rules": [{
                "match": [{"vars": [["route_id", "==", "3"]]}],
                "weighted_upstreams": [{"upstream": {"name": "upstream_A", "type": "roundrobin",
                    "nodes": {"127.0.0.1:%A": 1}}, "weight": 1}]}]}},
                "upstream": {"nodes": {"127.0.0.1:%C": 1}, "type": "roundrobin"})";
        engine.apply(
            configFrom(R"({
            "stream_proxy": {"tcp": ["127.0.0.1:%P", "127.0.0.1:%Q"]},
            "stream_routes": [{"id": "3", "server_port": %P, )" +
                           split + R"(}, {"id": "4", "server_port": %Q, )" + split + "}]}",
                       {{"P", ports[0]}, {"Q", ports[1]}, {"A", a->port()}, {"C", c->port()}}));
        QCOMPARE(sequence(ports[0], 2), QStringLiteral("AA"));
        QCOMPARE(sequence(ports[1], 2), QStringLiteral("CC"));
    }

    // remote_addr: clients bound to 127.0.0.2 match, those from 127.0.0.3 do not; ipmatch
    // with a CIDR in a second rule takes 127.0.0.3.
    void remoteAddrMatch()
    {
        auto a = greeter("A");
        auto b = greeter("B");
        auto c = greeter("C");
        Engine engine(options());
        const int listen = freePort();
        engine.apply(
            configFrom(R"({
            "stream_proxy": {"tcp": ["127.0.0.1:%LISTEN"]},
            "stream_routes": [{"id": "r",
                "upstream": {"nodes": {"127.0.0.1:%C": 1}},
                "plugins": {"traffic-split": {"rules": [
                    {"match": [{"vars": [["remote_addr", "==", "127.0.0.2"]]}],
                     "weighted_upstreams": [{"upstream": {"nodes": {"127.0.0.1:%A": 1}}}]},
                    {"match": [{"vars": [["remote_addr", "ipmatch", ["127.0.0.3/32", "::1"]],
                                         ["server_port", "==", %LISTEN]]}],
                     "weighted_upstreams": [{"upstream": {"nodes": {"127.0.0.1:%B": 1}}}]}
                ]}}}]})",
                       {{"LISTEN", listen}, {"A", a->port()}, {"B", b->port()}, {"C", c->port()}}));
        QCOMPARE(sequence(listen, 3, QStringLiteral("127.0.0.2")), QStringLiteral("AAA"));
        QCOMPARE(sequence(listen, 3, QStringLiteral("127.0.0.3")), QStringLiteral("BBB"));
        QCOMPARE(sequence(listen, 2, QStringLiteral("127.0.0.4")), QStringLiteral("CC"));
    }

    // [var, "!", op, value] negates one comparison; ["OR", e1, e2] takes either; "!AND" negates
    // a list; the first match entry that holds takes the rule.
    void negatedAndNestedExpressions()
    {
        auto a = greeter("A");
        auto b = greeter("B");
        auto c = greeter("C");
        Engine engine(options());
        const int listen = freePort();
        engine.apply(
            configFrom(R"({
            "stream_proxy": {"tcp": ["127.0.0.1:%LISTEN"]},
            "stream_routes": [{"id": "r",
                "upstream": {"nodes": {"127.0.0.1:%C": 1}},
                "plugins": {"traffic-split": {"rules": [
                    {"match": [{"vars": ["OR", ["remote_addr", "==", "127.0.0.2"],
                                               ["AND", ["remote_addr", "~~", "^127\\.0\\.0\\.[45]$"],
                                                       ["remote_port", ">", 0]]]}],
                     "weighted_upstreams": [{"upstream": {"nodes": {"127.0.0.1:%A": 1}}}]},
                    {"match": [{"vars": [["protocol", "==", "UDP"]]},
                               {"vars": [["remote_addr", "!", "in", ["127.0.0.6", "127.0.0.7"]],
                                         ["!AND", ["remote_addr", "==", "127.0.0.1"],
                                                  ["protocol", "==", "TCP"]]]}],
                     "weighted_upstreams": [{"upstream": {"nodes": {"127.0.0.1:%B": 1}}}]}
                ]}}}]})",
                       {{"LISTEN", listen}, {"A", a->port()}, {"B", b->port()}, {"C", c->port()}}));
        QCOMPARE(sequence(listen, 1, QStringLiteral("127.0.0.2")), QStringLiteral("A"));
        QCOMPARE(sequence(listen, 1, QStringLiteral("127.0.0.4")), QStringLiteral("A"));
        QCOMPARE(sequence(listen, 1, QStringLiteral("127.0.0.5")), QStringLiteral("A"));
        // not .2, .4, .5: the second rule, unless the client is .6, .7 or .1
        QCOMPARE(sequence(listen, 1, QStringLiteral("127.0.0.3")), QStringLiteral("B"));
        QCOMPARE(sequence(listen, 1, QStringLiteral("127.0.0.8")), QStringLiteral("B"));
        QCOMPARE(sequence(listen, 1, QStringLiteral("127.0.0.6")), QStringLiteral("C"));
        QCOMPARE(sequence(listen, 1, QStringLiteral("127.0.0.7")), QStringLiteral("C"));
        QCOMPARE(sequence(listen, 1, QStringLiteral("127.0.0.1")), QStringLiteral("C"));
    }

    // A weight 0 entry is never chosen while another has a weight: B 2 and the route's own
    // upstream 1 share the sessions B C B, B C B. As in APISIX's resty.roundrobin, a rule
    // whose every weight is 0 takes its entries in turn (one entry: always that one), and
    // entries naming the same upstream_id, or several with only a weight, count once with the
    // last one's weight.
    void zeroWeightsAndRepeatedEntries()
    {
        auto a = greeter("A");
        auto b = greeter("B");
        auto c = greeter("C");
        Engine engine(options());
        const QList<int> ports = freePorts(4);
        engine.apply(configFrom(R"({
            "stream_proxy": {"tcp": ["127.0.0.1:%P", "127.0.0.1:%Q", "127.0.0.1:%R",
                                     "127.0.0.1:%S"]},
            "upstreams": [{"id": "b", "nodes": {"127.0.0.1:%B": 1}}],
            "stream_routes": [
              {"id": "r", "server_port": %P, "upstream": {"nodes": {"127.0.0.1:%C": 1}},
               "plugins": {"traffic-split": {"rules": [{"weighted_upstreams": [
                    {"upstream": {"nodes": {"127.0.0.1:%A": 1}}, "weight": 0},
                    {"upstream": {"nodes": {"127.0.0.1:%B": 1}}, "weight": 2},
                    {"weight": 1}]}]}}},
              {"id": "z", "server_port": %Q, "upstream": {"nodes": {"127.0.0.1:%C": 1}},
               "plugins": {"traffic-split": {"rules": [{"weighted_upstreams": [
                    {"upstream": {"nodes": {"127.0.0.1:%A": 1}}, "weight": 0}]}]}}},
              {"id": "zz", "server_port": %R, "upstream": {"nodes": {"127.0.0.1:%C": 1}},
               "plugins": {"traffic-split": {"rules": [{"weighted_upstreams": [
                    {"upstream": {"nodes": {"127.0.0.1:%A": 1}}, "weight": 0},
                    {"upstream_id": "b", "weight": 0}]}]}}},
              {"id": "dup", "server_port": %S, "upstream": {"nodes": {"127.0.0.1:%C": 1}},
               "plugins": {"traffic-split": {"rules": [{"weighted_upstreams": [
                    {"upstream_id": "b", "weight": 5}, {"weight": 7},
                    {"upstream_id": "b", "weight": 1}, {"weight": 2}]}]}}}]})",
                                {{"P", ports[0]},
                                 {"Q", ports[1]},
                                 {"R", ports[2]},
                                 {"S", ports[3]},
                                 {"A", a->port()},
                                 {"B", b->port()},
                                 {"C", c->port()}}));
        QCOMPARE(sequence(ports[0], 6), QStringLiteral("BCBBCB"));
        QCOMPARE(a->accepted.load(), 0);
        QCOMPARE(sequence(ports[1], 2), QStringLiteral("AA"));
        QCOMPARE(sequence(ports[2], 4), QStringLiteral("ABAB"));
        // b 1 (its last weight), the route's own 2 (the last weight-only entry): C B C, C B C
        QCOMPARE(sequence(ports[3], 6), QStringLiteral("CBCCBC"));
    }

    // A UDP route: each new client (a new session) is split 1:1 between two inline upstreams;
    // every datagram of a session goes to the upstream its first one was given.
    void udpRoute()
    {
        UdpEcho a;
        UdpEcho b;
        Engine engine(options());
        const int listen = freeUdpPort();
        engine.apply(configFrom(R"({
            "stream_proxy": {"udp": ["127.0.0.1:%LISTEN"]},
            "stream_routes": [{"id": "u", "plugins": {"traffic-split": {"rules": [{
                "weighted_upstreams": [
                    {"upstream": {"nodes": {"127.0.0.1:%A": 1}}, "weight": 1},
                    {"upstream": {"nodes": {"127.0.0.1:%B": 1}}, "weight": 1}
                ]}]}}}]})",
                                {{"LISTEN", listen}, {"A", a.port()}, {"B", b.port()}}));
        for (int i = 0; i < 4; ++i) {
            UdpClient client(kLocal, listen);
            QVERIFY(client.valid());
            for (int j = 0; j < 2; ++j) {
                const QByteArray msg = "m" + QByteArray::number(i) + QByteArray::number(j);
                QCOMPARE(client.ask(msg).value_or("<nothing>"), msg);
            }
        }
        QCOMPARE(a.received.load(), 4);
        QCOMPARE(b.received.load(), 4);
        QCOMPARE(a.peerCount(), 2);
        QCOMPARE(b.peerCount(), 2);
    }

    // The chosen upstream's chash key, not the route's: an inline chash upstream on
    // remote_addr sends each client address to one node, every time.
    void chashOnChosenUpstream()
    {
        auto n1 = greeter("1");
        auto n2 = greeter("2");
        auto c = greeter("C");
        Engine engine(options());
        const int listen = freePort();
        engine.apply(configFrom(
            R"({
            "stream_proxy": {"tcp": ["127.0.0.1:%LISTEN"]},
            "stream_routes": [{"id": "h", "upstream": {"nodes": {"127.0.0.1:%C": 1}},
                "plugins": {"traffic-split": {"rules": [{"weighted_upstreams": [
                    {"upstream": {"type": "chash", "hash_on": "vars", "key": "remote_addr",
                                  "nodes": {"127.0.0.1:%N1": 1, "127.0.0.1:%N2": 1}}}]}]}}}]})",
            {{"LISTEN", listen}, {"N1", n1->port()}, {"N2", n2->port()}, {"C", c->port()}}));
        // Addresses until both nodes were chosen (a balanced ring needs a few; 32 all on one
        // node would mean the key is not the address).
        QSet<QString> nodes;
        for (int host = 2; host <= 33 && nodes.size() < 2; ++host) {
            const QString from = QStringLiteral("127.0.0.%1").arg(host);
            const QString seq = sequence(listen, 3, from);
            QVERIFY2(seq == QString(3, seq.at(0)), qPrintable(from + ": " + seq));
            QVERIFY(seq.at(0) != u'C');
            nodes.insert(seq.left(1));
        }
        QCOMPARE(nodes.size(), 2);
        QCOMPARE(c->accepted.load(), 0);
    }

    // The chosen upstream's retries and health checks: upstream "2" has a node that refuses
    // and one that answers. With retries 1 every session reaches the good node; once the
    // health check has marked the refusing node down, no session tries it any more.
    void retriesAndHealthOfChosenUpstream()
    {
        auto a = greeter("A");
        auto c = greeter("C");
        RefusingPort dead;
        Engine engine(options());
        const int listen = freePort();
        engine.apply(configFrom(
            R"({
            "stream_proxy": {"tcp": ["127.0.0.1:%LISTEN"]},
            "upstreams": [{"id": "2", "retries": 1,
                "nodes": [{"host": "127.0.0.1", "port": %D, "weight": 1},
                          {"host": "127.0.0.1", "port": %A, "weight": 1}],
                "checks": {"active": {"type": "tcp", "timeout": 1,
                    "healthy": {"interval": 1, "successes": 1},
                    "unhealthy": {"interval": 1, "tcp_failures": 1}}}}],
            "stream_routes": [{"id": "h", "upstream": {"nodes": {"127.0.0.1:%C": 1}},
                "plugins": {"traffic-split": {"rules": [{"weighted_upstreams": [
                    {"upstream_id": "2"}]}]}}}]})",
            {{"LISTEN", listen}, {"A", a->port()}, {"C", c->port()}, {"D", dead.port()}}));
        QCOMPARE(sequence(listen, 4), QStringLiteral("AAAA"));
        const QString deadNode = QStringLiteral("127.0.0.1:%1").arg(dead.port());
        const auto deadStatus = [&]() -> NodeStatus {
            for (const NodeStatus& n : engine.snapshot().nodes)
                if (n.upstream == QLatin1String("2") && n.node == deadNode)
                    return n;
            return {};
        };
        QVERIFY(deadStatus().checked);
        QTRY_VERIFY_WITH_TIMEOUT(!deadStatus().healthy, 10000);
        const quint64 failures = deadStatus().failures;
        QCOMPARE(sequence(listen, 4), QStringLiteral("AAAA"));
        QCOMPARE(deadStatus().failures, failures);
        QCOMPARE(c->accepted.load(), 0);
    }

    // A config applied live: the next sessions follow the new weights, from a fresh sequence;
    // a config whose traffic-split did not change goes on with the same sequence.
    void liveChange()
    {
        auto a = greeter("A");
        auto b = greeter("B");
        Engine engine(options());
        const int listen = freePort();
        const QByteArray json = R"({
            "stream_proxy": {"tcp": ["127.0.0.1:%LISTEN"]},
            "stream_routes": [{"id": "l", "name": "%NAME", "plugins": {"traffic-split": {"rules": [{
                "weighted_upstreams": [
                    {"upstream": {"nodes": {"127.0.0.1:%A": 1}}, "weight": %WA},
                    {"upstream": {"nodes": {"127.0.0.1:%B": 1}}, "weight": %WB}]}]}}}]})";
        const auto config = [&](int name, int wa, int wb) {
            return configFrom(json, {{"LISTEN", listen},
                                     {"A", a->port()},
                                     {"B", b->port()},
                                     {"NAME", name},
                                     {"WA", wa},
                                     {"WB", wb}});
        };
        engine.apply(config(1, 9, 1));
        QCOMPARE(sequence(listen, 3), QStringLiteral("AAA"));
        engine.apply(config(2, 9, 1)); // the route's name changed, not its traffic-split
        QCOMPARE(sequence(listen, 7), QStringLiteral("AABAAAA"));
        engine.apply(config(2, 1, 1));
        QCOMPARE(sequence(listen, 4), QStringLiteral("ABAB"));
        engine.apply(config(2, 0, 3));
        QCOMPARE(sequence(listen, 3), QStringLiteral("BBB"));
    }

    // An upstream_id that names no upstream (the store refuses such a config; the engine may
    // still be handed one): the rule's sessions are closed at once, as APISIX ends them.
    void missingUpstreamId()
    {
        auto c = greeter("C");
        Engine engine(options());
        const int listen = freePort();
        engine.apply(configFrom(R"({
            "stream_proxy": {"tcp": ["127.0.0.1:%LISTEN"]},
            "stream_routes": [{"id": "m", "upstream": {"nodes": {"127.0.0.1:%C": 1}},
                "plugins": {"traffic-split": {"rules": [{"weighted_upstreams": [
                    {"upstream_id": "nope", "weight": 1}]}]}}}]})",
                                {{"LISTEN", listen}, {"C", c->port()}}));
        QCOMPARE(sequence(listen, 2), QStringLiteral("--"));
        QCOMPARE(c->accepted.load(), 0);
        QTRY_VERIFY(denyTexts(engine.eventsSince(0, 1000))
                        .contains(QStringLiteral(
                            "traffic-split on route m: failed to fetch upstream info by upstream "
                            "id: nope")));
    }
};

QTEST_GUILESS_MAIN(TstEngineTrafficSplit)
#include "tst_engine_trafficsplit.moc"
