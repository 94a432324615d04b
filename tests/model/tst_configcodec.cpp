// Whole config documents: the DESIGN.md example, listener entries, top-level keys, duplicate
// ids, document paths and lookups.

#include "model/codec.h"
#include "modeltestutil.h"

#include <QFile>
#include <QJsonArray>
#include <QRandomGenerator>
#include <QTest>
#include <variant>

using namespace sg;
using sgtest::compact;
using sgtest::describe;
using sgtest::json;
using sgtest::object;

class TestConfigCodec : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void designExample();
    void sslRoundTrip_data();
    void sslRoundTrip();
    void listenEntry_data();
    void listenEntry();
    void rangeInObjectForm();
    void badListenEntry_data();
    void badListenEntry();
    void badDocument_data();
    void badDocument();
    void problemsAcrossDocument();
    void emptySectionsRoundTrip();
    void lookups();
    void encodeBuiltListeners();
    void mutatedDocuments();
    void readmeExamples();
};

namespace {

// The example of /work/shared/DESIGN.md ("The data model is APISIX's"), verbatim.
const QByteArray kDesignExample = R"({
  "stream_proxy": { "tcp": [13306, "127.0.0.1:15432"], "udp": [5353] },
  "stream_routes": [
    { "id": "mysql", "name": "Local MySQL", "server_port": 13306,
      "remote_addr": "192.168.1.0/24",
      "plugins": { "ip-restriction": { "whitelist": ["127.0.0.1", "192.168.1.20"] },
                   "limit-conn": { "conn": 20, "burst": 5, "default_conn_delay": 0.1, "key": "remote_addr" } },
      "upstream": { "type": "roundrobin", "nodes": { "127.0.0.1:3306": 1 },
                    "timeout": { "connect": 3, "send": 600, "read": 600 }, "retries": 1 } }
  ],
  "upstreams": [ { "id": "pg", "type": "least_conn", "nodes": [ { "host": "127.0.0.1", "port": 5432, "weight": 1 } ] } ]
})";

} // namespace

void TestConfigCodec::designExample()
{
    const QJsonObject doc = object(kDesignExample);
    const Decoded<Config> d = decodeConfig(doc);
    QVERIFY2(d.ok(), qPrintable(describe(d.problems)));
    QCOMPARE(compact(encodeConfig(d.value)), compact(doc));

    const Config& c = d.value;
    QCOMPARE(c.streamProxy.tcp.size(), 2);
    QCOMPARE(c.streamProxy.tcp.at(0).text(), QStringLiteral("13306"));
    QCOMPARE(c.streamProxy.tcp.at(0).host, QString());
    QCOMPARE(c.streamProxy.tcp.at(1).host, QStringLiteral("127.0.0.1"));
    QCOMPARE(c.streamProxy.tcp.at(1).port, 15432);
    QCOMPARE(c.streamProxy.udp.size(), 1);
    QCOMPARE(c.streamProxy.udp.at(0).port, 5353);

    QCOMPARE(c.streamRoutes.size(), 1);
    const StreamRoute& r = c.streamRoutes.first();
    QCOMPARE(r.idString(), QStringLiteral("mysql"));
    QCOMPARE(r.serverPort, std::optional<int>(13306));
    QCOMPARE(r.remoteAddr, QStringLiteral("192.168.1.0/24"));
    QCOMPARE(r.plugins.ipRestriction->whitelist.size(), 2);
    QCOMPARE(r.plugins.limitConn->conn, 20);
    QCOMPARE(r.plugins.limitConn->burst, 5);
    QCOMPARE(r.plugins.limitConn->defaultConnDelay, 0.1);
    QVERIFY(r.upstream);
    QCOMPARE(r.upstream->nodes.size(), 1);
    QCOMPARE(r.upstream->nodes.first().address(), QStringLiteral("127.0.0.1:3306"));
    QCOMPARE(r.upstream->effectiveTimeout(), (Timeout{3, 600, 600}));
    QCOMPARE(r.upstream->effectiveRetries(), 1);

    QCOMPARE(c.upstreams.size(), 1);
    QCOMPARE(c.upstreams.first().type, QStringLiteral("least_conn"));
    QVERIFY(!c.upstreams.first().nodesAsMap);

    const Decoded<Config> again = decodeConfig(encodeConfig(c));
    QVERIFY(again.ok());
    QVERIFY(again.value == c);
}

void TestConfigCodec::listenEntry_data()
{
    QTest::addColumn<QJsonValue>("given");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    QTest::addColumn<int>("portEnd");
    QTest::addColumn<QString>("text");
    QTest::newRow("port") << json("9100") << "" << 9100 << 0 << "9100";
    QTest::newRow("port 1") << json("1") << "" << 1 << 0 << "1";
    QTest::newRow("port 65535") << json("65535") << "" << 65535 << 0 << "65535";
    QTest::newRow("port as string") << json(R"("9100")") << "" << 9100 << 0 << "9100";
    QTest::newRow("ipv4:port") << json(R"("127.0.0.1:9100")") << "127.0.0.1" << 9100 << 0
                               << "127.0.0.1:9100";
    QTest::newRow("any ipv4") << json(R"("0.0.0.0:53")") << "0.0.0.0" << 53 << 0 << "0.0.0.0:53";
    QTest::newRow("[::1]:port") << json(R"("[::1]:9100")") << "::1" << 9100 << 0 << "[::1]:9100";
    QTest::newRow("[::]:port") << json(R"("[::]:9100")") << "::" << 9100 << 0 << "[::]:9100";
    // APISIX 3.17's port ranges, in every form.
    QTest::newRow("range") << json(R"("2000-2100")") << "" << 2000 << 2100 << "2000-2100";
    QTest::newRow("ipv4:range") << json(R"("127.0.0.1:2000-2100")") << "127.0.0.1" << 2000 << 2100
                                << "127.0.0.1:2000-2100";
    QTest::newRow("[::1]:range") << json(R"("[::1]:2000-2100")") << "::1" << 2000 << 2100
                                 << "[::1]:2000-2100";
    QTest::newRow("range of one port")
        << json(R"("2000-2000")") << "" << 2000 << 2000 << "2000-2000";
    QTest::newRow("range at the top")
        << json(R"("64512-65535")") << "" << 64512 << 65535 << "64512-65535";
    QTest::newRow("range of 1024 ports") << json(R"("1-1024")") << "" << 1 << 1024 << "1-1024";
}

void TestConfigCodec::listenEntry()
{
    QFETCH(QJsonValue, given);
    QFETCH(QString, host);
    QFETCH(int, port);
    QFETCH(int, portEnd);
    QFETCH(QString, text);
    const Decoded<ListenEntry> d = decodeListenEntry(given, QStringLiteral("stream_proxy.tcp[0]"));
    QVERIFY2(d.ok(), qPrintable(describe(d.problems)));
    QCOMPARE(d.value.host, host);
    QCOMPARE(d.value.port, port);
    QCOMPARE(d.value.portEnd, portEnd);
    QCOMPARE(d.value.text(), text);
    QCOMPARE(encodeListenEntry(d.value), given);
    // One socket per port, each a single-port entry of the same address.
    const QList<ListenEntry> ports = d.value.singlePorts();
    QCOMPARE(ports.size(), portEnd ? portEnd - port + 1 : 1);
    QCOMPARE(d.value.portCount(), ports.size());
    for (qsizetype i = 0; i < ports.size(); ++i) {
        QCOMPARE(ports.at(i).host, host);
        QCOMPARE(ports.at(i).port, port + int(i));
        QVERIFY(!ports.at(i).isRange());
        QVERIFY(d.value.hasPort(ports.at(i).port));
    }
    QVERIFY(!d.value.hasPort(port - 1));
    QVERIFY(!d.value.hasPort(d.value.lastPort() + 1));
    // The range's text written back means the same entry.
    const QJsonValue shown = d.value.host.isEmpty() && !d.value.isRange()
                                 ? QJsonValue(d.value.text().toInt())
                                 : QJsonValue(d.value.text());
    const Decoded<ListenEntry> again = decodeListenEntry(shown);
    QVERIFY2(again.ok() && again.value == d.value, qPrintable(describe(again.problems)));
}

void TestConfigCodec::rangeInObjectForm()
{
    const QJsonValue given = json(R"({"addr": "127.0.0.1:2000-2002", "proxy_protocol": true})");
    const Decoded<ListenEntry> d = decodeTcpListenEntry(given);
    QVERIFY2(d.ok(), qPrintable(describe(d.problems)));
    QCOMPARE(d.value.text(), QStringLiteral("127.0.0.1:2000-2002"));
    QCOMPARE(encodeListenEntry(d.value), given);
    // Every port of the range listens with the entry's settings.
    const QList<ListenEntry> ports = d.value.singlePorts();
    QCOMPARE(ports.size(), 3);
    for (const ListenEntry& e : ports) {
        QVERIFY(e.readsProxyProtocol());
        QVERIFY(!e.sendsProxyProtocol());
    }
    QCOMPARE(ports.at(2).text(), QStringLiteral("127.0.0.1:2002"));

    // A range and its single ports are not the same address.
    ListenEntry single = d.value;
    single.portEnd = 0;
    QVERIFY(!single.sameAddress(d.value));
    QVERIFY(!(single == d.value));
    QVERIFY(single.overlaps(d.value));
    ListenEntry elsewhere = d.value;
    elsewhere.host = QStringLiteral("127.0.0.2");
    QVERIFY(!elsewhere.overlaps(d.value));
    ListenEntry after = d.value;
    after.port = 2003;
    after.portEnd = 2010;
    QVERIFY(!after.overlaps(d.value));
    after.port = 2002;
    QVERIFY(after.overlaps(d.value));

    // Built in code without `given`, a bare range is written as a string.
    ListenEntry built;
    built.port = 2000;
    built.portEnd = 2002;
    QCOMPARE(encodeListenEntry(built), QJsonValue(QStringLiteral("2000-2002")));
}

void TestConfigCodec::badListenEntry_data()
{
    QTest::addColumn<QJsonValue>("given");
    QTest::addColumn<QString>("reason");
    const QString portRule = QStringLiteral("port must be 1-65535");
    const QString shape = QStringLiteral(
        "a listener is a port (9100) or \"ip:port\" (\"127.0.0.1:9100\", \"[::1]:9100\")");
    QTest::newRow("port 0") << json("0") << portRule;
    QTest::newRow("port 65536") << json("65536") << portRule;
    QTest::newRow("port fraction") << json("9100.5") << portRule;
    QTest::newRow("negative port") << json("-1") << portRule;
    QTest::newRow("ipv4 port 0") << json(R"("127.0.0.1:0")") << portRule;
    QTest::newRow("ipv4 without port") << json(R"("127.0.0.1:")") << portRule;
    QTest::newRow("port not numeric") << json(R"("127.0.0.1:http")") << portRule;
    QTest::newRow("bare string") << json(R"("ninety")") << portRule;
    QTest::newRow("ipv6 without brackets")
        << json(R"("::1:9100")") << "IPv6 addresses must be in brackets, e.g. \"[::1]:9100\"";
    QTest::newRow("bracket without colon") << json(R"("[::1]9100")") << "expected \"[ipv6]:port\"";
    QTest::newRow("bad ipv6") << json(R"("[zz::1]:9100")") << "invalid IPv6 address \"zz::1\"";
    QTest::newRow("host name") << json(R"("localhost:9100")")
                               << "listen address must be an IP address, not \"localhost\"";
    QTest::newRow("boolean") << json("true") << shape;
    QTest::newRow("object form") << json(R"({"addr": 9100, "tls": true})") << shape;
    QTest::newRow("object form with tls_passthrough")
        << json(R"({"addr": 9100, "tls_passthrough": true})") << shape;
    // Port ranges, with APISIX's words (validate_port_or_range) and Streamgate's cap.
    QTest::newRow("range start 0") << json(R"("0-100")") << "port out of range (1-65535): 0";
    QTest::newRow("range end 65536")
        << json(R"("127.0.0.1:65000-65536")") << "port out of range (1-65535): 65536";
    QTest::newRow("range end huge")
        << json(R"("[::1]:1-99999999999")") << "port out of range (1-65535): 99999999999";
    QTest::newRow("range start > end")
        << json(R"("2100-2000")") << "invalid port range (start > end): 2100-2000";
    QTest::newRow("ipv4 range start > end")
        << json(R"("127.0.0.1:2100-2000")")
        << "invalid port range (start > end): 127.0.0.1:2100-2000";
    QTest::newRow("ipv6 range start > end")
        << json(R"("[::1]:2100-2000")") << "invalid port range (start > end): [::1]:2100-2000";
    QTest::newRow("range wider than the cap")
        << json(R"("127.0.0.1:2000-3024")")
        << "port range \"2000-3024\" holds 1025 ports; Streamgate listens on at most 1024 ports "
           "per range, as each port is a listening socket that keeps a file descriptor open "
           "(descriptors that sessions need too): split it into smaller ranges";
    QTest::newRow("range without end") << json(R"("2000-")") << portRule;
    QTest::newRow("range without start") << json(R"("-2000")") << portRule;
    QTest::newRow("range of three") << json(R"("1-2-3")") << portRule;
    QTest::newRow("range with spaces") << json(R"("2000 - 2100")") << portRule;
}

void TestConfigCodec::badListenEntry()
{
    QFETCH(QJsonValue, given);
    QFETCH(QString, reason);
    const Decoded<ListenEntry> d = decodeListenEntry(given, QStringLiteral("stream_proxy.udp[1]"));
    QVERIFY2(d.problems.size() == 1, qPrintable(describe(d.problems)));
    QCOMPARE(d.problems.first().path, QStringLiteral("stream_proxy.udp[1]"));
    QCOMPARE(d.problems.first().reason, reason);
}

void TestConfigCodec::badDocument_data()
{
    QTest::addColumn<QJsonObject>("doc");
    QTest::addColumn<QString>("text"); // Problem::text()
    QTest::addColumn<QString>("value");

    QTest::newRow("unknown top-level key")
        << object(R"({"routes": []})") << "routes: additional properties forbidden, found routes"
        << "[]";
    QTest::newRow("unknown stream_proxy key")
        << object(R"({"stream_proxy": {"tcp": [1], "only_tcp": true}})")
        << "stream_proxy.only_tcp: additional properties forbidden, found only_tcp"
        << "true";
    QTest::newRow("stream_proxy.tcp not an array")
        << object(R"({"stream_proxy": {"tcp": 9100}})")
        << "stream_proxy.tcp: wrong type: expected array, got integer"
        << "9100";
    QTest::newRow("stream_routes not an array")
        << object(R"({"stream_routes": {}})")
        << "stream_routes: wrong type: expected array, got object"
        << "{}";
    QTest::newRow("streamgate not an object")
        << object(R"({"streamgate": 1})") << "streamgate: wrong type: expected object, got integer"
        << "1";
    QTest::newRow("streamgate.mysql_inspect not a boolean")
        << object(R"({"streamgate": {"mysql_inspect": 1}})")
        << "streamgate.mysql_inspect: wrong type: expected boolean, got integer"
        << "1";
    QTest::newRow("streamgate route mysql_commands not a boolean")
        << object(R"({"streamgate": {"routes": {"mysql": {"mysql_commands": 2}}}})")
        << "streamgate.routes.mysql.mysql_commands: wrong type: expected boolean, got integer"
        << "2";
    QTest::newRow("duplicate listener")
        << object(R"({"stream_proxy": {"tcp": [9100, "127.0.0.1:9200", "9100"]}})")
        << "stream_proxy.tcp[2]: 9100 is already listed as stream_proxy.tcp[0]"
        << "9100";
    QTest::newRow("duplicate route id")
        << object(R"({"stream_routes": [{"id": "a", "upstream_id": "u"},
                     {"id": "b", "upstream_id": "u"}, {"id": "a", "upstream_id": "u"}]})")
        << "stream_routes[2].id: duplicate id \"a\" (also used by stream_routes[0])"
        << "a";
    QTest::newRow("duplicate route id string and integer")
        << object(
               R"({"stream_routes": [{"id": 1, "upstream_id": "u"}, {"id": "1", "upstream_id": "u"}]})")
        << "stream_routes[1].id: duplicate id \"1\" (also used by stream_routes[0])"
        << "1";
    QTest::newRow("duplicate upstream id")
        << object(
               R"({"upstreams": [{"id": "pg", "nodes": {"a:1": 1}}, {"id": "pg", "nodes": {"b:1": 1}}]})")
        << "upstreams[1].id: duplicate id \"pg\" (also used by upstreams[0])"
        << "pg";
    QTest::newRow("node port 0 in a route")
        << object(R"({"stream_routes": [{"id": "a", "upstream_id": "u"},
                     {"id": "b", "upstream": {"nodes": {"db:0": 1}}}]})")
        << "stream_routes[1].upstream.nodes[\"db:0\"]: port must be 1-65535"
        << "db:0";
    QTest::newRow(":/8 in a route")
        << object(R"({"stream_routes": [{"remote_addr": ":/8", "upstream_id": "u"}]})")
        << "stream_routes[0].remote_addr: invalid remote_addr: :/8"
        << ":/8";
    QTest::newRow("zero connect timeout in an upstream")
        << object(
               R"({"upstreams": [{"id": "a", "nodes": {"a:1": 1}}, {"id": "b", "nodes": {"a:1": 1}},
                     {"id": "c", "nodes": {"a:1": 1}, "timeout": {"connect": 0, "send": 1, "read": 1}}]})")
        << "upstreams[2].timeout.connect: must be a number > 0"
        << "0";
}

void TestConfigCodec::badDocument()
{
    QFETCH(QJsonObject, doc);
    QFETCH(QString, text);
    QFETCH(QString, value);
    const Decoded<Config> d = decodeConfig(doc);
    QVERIFY2(d.problems.size() == 1, qPrintable(describe(d.problems)));
    QCOMPARE(d.problems.first().text(), text);
    QCOMPARE(d.problems.first().value, value);
}

void TestConfigCodec::problemsAcrossDocument()
{
    const Decoded<Config> d = decodeConfig(object(R"({
        "stream_proxy": {"tcp": [0], "udp": ["[::1]:70000"]},
        "stream_routes": [{"id": "ok", "upstream_id": "pg"},
                          {"id": "x y", "remote_addr": "10.0.0.1/40", "upstream_id": "pg"},
                          {"id": "n", "create_time": 1, "upstream": {"type": "ewma", "nodes": {"a:1": 1}}}],
        "upstreams": [{"id": "pg", "nodes": [{"host": "db", "port": 0, "weight": 1}]}],
        "extra": 1})"));
    QStringList texts;
    for (const Problem& p : d.problems)
        texts << p.text();
    const QStringList expected = {
        QStringLiteral("extra: additional properties forbidden, found extra"),
        QStringLiteral("stream_proxy.tcp[0]: port must be 1-65535"),
        QStringLiteral("stream_proxy.udp[0]: port must be 1-65535"),
        QStringLiteral("stream_routes[1].id: must be a string of 1-64 characters from a-z, "
                       "A-Z, 0-9, \"-\", \"_\", \".\" or an integer >= 1"),
        QStringLiteral("stream_routes[1].remote_addr: invalid remote_addr: 10.0.0.1/40"),
        QStringLiteral("stream_routes[2].upstream.type: type ewma: not supported by "
                       "Streamgate; use roundrobin, chash or least_conn"),
        QStringLiteral("upstreams[0].nodes[0].port: must be an integer from 1 to 65535"),
    };
    for (const QString& line : expected)
        QVERIFY2(texts.contains(line), qPrintable(line + "\nnot in:\n" + texts.join('\n')));
    // create_time is fine in a file: the store wrote it.
    QCOMPARE(texts.size(), expected.size());
}

void TestConfigCodec::emptySectionsRoundTrip()
{
    for (
        const QByteArray& text :
        {QByteArray("{}"), QByteArray(R"({"stream_routes": [], "upstreams": []})"),
         QByteArray(R"({"stream_proxy": {}})"),
         QByteArray(R"({"stream_proxy": {"tcp": [], "udp": [1]}})"),
         QByteArray(R"({"streamgate": {}})"),
         QByteArray(
             R"({"streamgate": {"admin": {"listen": "127.0.0.1:9180", "key": "k"}, "routes": {}}})")}) {
        const QJsonObject doc = object(text);
        const Decoded<Config> d = decodeConfig(doc);
        QVERIFY2(d.ok(), qPrintable(describe(d.problems)));
        QCOMPARE(compact(encodeConfig(d.value)), compact(doc));
    }
    const Decoded<Config> own =
        decodeConfig(object(R"({"streamgate": {"admin": {"listen": "9180"}}})"));
    QCOMPARE(own.value.streamgate.adminListen(), QStringLiteral("9180"));
}

void TestConfigCodec::lookups()
{
    const Decoded<Config> d = decodeConfig(object(R"({
        "stream_routes": [{"id": "inline", "upstream": {"nodes": {"a:1": 1}}},
                          {"id": 2, "upstream_id": 10},
                          {"id": "dangling", "upstream_id": "nope"}],
        "upstreams": [{"id": 10, "nodes": {"b:2": 1}}, {"id": "pg", "nodes": {"c:3": 1}}]})"));
    QVERIFY2(d.ok(), qPrintable(describe(d.problems)));
    const Config& c = d.value;
    QVERIFY(c.findRoute(QStringLiteral("inline")));
    QCOMPARE(c.findRoute(QStringLiteral("2")), &c.streamRoutes.at(1));
    QVERIFY(!c.findRoute(QStringLiteral("3")));
    QVERIFY(!c.findRoute(QString()));
    QCOMPARE(c.findUpstream(QStringLiteral("10")), &c.upstreams.at(0));
    QCOMPARE(c.findUpstream(QStringLiteral("pg")), &c.upstreams.at(1));
    QVERIFY(!c.findUpstream(QStringLiteral("x")));
    QCOMPARE(c.upstreamFor(c.streamRoutes.at(0)), &*c.streamRoutes.at(0).upstream);
    QCOMPARE(c.upstreamFor(c.streamRoutes.at(1)), &c.upstreams.at(0));
    QVERIFY(!c.upstreamFor(c.streamRoutes.at(2)));
}

void TestConfigCodec::encodeBuiltListeners()
{
    // Entries built in code (no `given`) are written in APISIX's own forms.
    Config c;
    ListenEntry any;
    any.port = 9100;
    ListenEntry v4;
    v4.host = QStringLiteral("127.0.0.1");
    v4.port = 15432;
    ListenEntry v6;
    v6.host = QStringLiteral("::1");
    v6.port = 5353;
    c.streamProxy.tcp = {any, v4};
    c.streamProxy.udp = {v6};
    QCOMPARE(
        compact(encodeConfig(c)),
        compact(object(
            R"({"stream_proxy": {"tcp": [9100, "127.0.0.1:15432"], "udp": ["[::1]:5353"]}})")));

    // An edited entry does not keep its stale original spelling.
    Decoded<Config> d = decodeConfig(object(R"({"stream_proxy": {"tcp": ["127.0.0.1:1"]}})"));
    QVERIFY(d.ok());
    d.value.streamProxy.tcp[0].port = 2;
    QCOMPARE(encodeListenEntry(d.value.streamProxy.tcp[0]),
             QJsonValue(QStringLiteral("127.0.0.1:2")));
}

namespace {

using Step = std::variant<QString, qsizetype>;
using Location = QList<Step>;

void collectLocations(const QJsonValue& v, const Location& at, QList<Location>& out)
{
    out << at;
    if (v.isObject()) {
        const QJsonObject o = v.toObject();
        for (auto it = o.begin(); it != o.end(); ++it)
            collectLocations(it.value(), Location(at) << Step(it.key()), out);
    } else if (v.isArray()) {
        const QJsonArray a = v.toArray();
        for (qsizetype i = 0; i < a.size(); ++i)
            collectLocations(a.at(i), Location(at) << Step(i), out);
    }
}

// Rewrites the value at `at` (depth-first copy, as Qt's JSON containers are values).
// replacement Undefined removes the key or array element.
QJsonValue rewrite(const QJsonValue& v, const Location& at, qsizetype depth,
                   const QJsonValue& replacement)
{
    if (depth == at.size())
        return replacement;
    const Step& step = at.at(depth);
    if (const QString* key = std::get_if<QString>(&step)) {
        QJsonObject o = v.toObject();
        const QJsonValue child = rewrite(o.value(*key), at, depth + 1, replacement);
        if (child.isUndefined())
            o.remove(*key);
        else
            o.insert(*key, child);
        return o;
    }
    QJsonArray a = v.toArray();
    const qsizetype index = std::get<qsizetype>(step);
    const QJsonValue child = rewrite(a.at(index), at, depth + 1, replacement);
    if (child.isUndefined())
        a.removeAt(index);
    else
        a.replace(index, child);
    return a;
}

} // namespace

void TestConfigCodec::mutatedDocuments()
{
    // Thousands of small edits of a valid document, the kind a hand-edited file gets. Whatever
    // the edit: no crash, every problem names a path and a reason, decoding is deterministic,
    // and a document that is still valid re-encodes to exactly itself.
    const QJsonObject design = object(kDesignExample);
    const QList<QJsonValue> pool = {json("null"),
                                    json("true"),
                                    json("0"),
                                    json("-1"),
                                    json("1"),
                                    json("65536"),
                                    json("1.5"),
                                    json(R"("")"),
                                    json(R"("x")"),
                                    json(R"(":/8")"),
                                    json(R"("[::1]:0")"),
                                    json(R"("10.0.0.0/8")"),
                                    json("{}"),
                                    json("[]"),
                                    json(R"({"a": 1})"),
                                    json(R"(["1.2.3.4"])"),
                                    json(R"({"db:0": 1})"),
                                    json(R"({"[::1]:3306": 0})"),
                                    QJsonValue(QJsonValue::Undefined)};
    QRandomGenerator rng(20261127);
    int stillValid = 0;
    int invalid = 0;
    for (int round = 0; round < 3000; ++round) {
        QJsonValue doc = design;
        const int edits = 1 + int(rng.bounded(2));
        for (int e = 0; e < edits; ++e) {
            QList<Location> locations;
            collectLocations(doc, {}, locations);
            const Location at = locations.at(rng.bounded(int(locations.size())));
            if (at.isEmpty())
                continue;
            if (rng.bounded(8) == 0 && doc.isObject()) {
                // An unknown key next to the chosen value.
                Location parent = at;
                parent.removeLast();
                const QJsonValue target = [&] {
                    QJsonValue v = doc;
                    for (const Step& s : parent)
                        v = std::holds_alternative<QString>(s)
                                ? v.toObject().value(std::get<QString>(s))
                                : v.toArray().at(std::get<qsizetype>(s));
                    return v;
                }();
                if (target.isObject())
                    doc = rewrite(doc, Location(parent) << Step(QStringLiteral("bogus")), 0,
                                  json("1"));
                continue;
            }
            doc = rewrite(doc, at, 0, pool.at(rng.bounded(int(pool.size()))));
        }
        const QJsonObject mutated = doc.toObject();
        const Decoded<Config> d = decodeConfig(mutated);
        const Decoded<Config> twice = decodeConfig(mutated);
        QCOMPARE(twice.problems, d.problems);
        if (d.ok()) {
            ++stillValid;
            QCOMPARE(compact(encodeConfig(d.value)), compact(mutated));
            const Decoded<Config> back = decodeConfig(encodeConfig(d.value));
            QVERIFY(back.ok());
            QVERIFY(back.value == d.value);
            continue;
        }
        ++invalid;
        for (const Problem& p : d.problems) {
            QVERIFY2(!p.path.isEmpty() && !p.reason.isEmpty(),
                     qPrintable(compact(mutated) + "\n" + describe(d.problems)));
            const QString top =
                p.path.section(QLatin1Char('.'), 0, 0).section(QLatin1Char('['), 0, 0);
            QVERIFY2(mutated.contains(top) || top == QLatin1String("bogus"), qPrintable(p.text()));
        }
    }
    qInfo("%d edited documents still valid, %d invalid", stillValid, invalid);
    // Both outcomes must be exercised, or the loop proves nothing.
    QVERIFY2(stillValid > 100, qPrintable(QString::number(stillValid)));
    QVERIFY2(invalid > 1000, qPrintable(QString::number(invalid)));
}

void TestConfigCodec::readmeExamples()
{
    // Every config document shown in README.md must be one the program accepts as is.
    QFile readme(QStringLiteral(STREAMGATE_SOURCE_DIR "/README.md"));
    QVERIFY2(readme.open(QIODevice::ReadOnly), qPrintable(readme.fileName()));
    const QString text = QString::fromUtf8(readme.readAll());
    int documents = 0;
    const QString open = QStringLiteral("```json\n");
    for (qsizetype at = text.indexOf(open); at >= 0; at = text.indexOf(open, at + 1)) {
        const qsizetype start = at + open.size();
        const qsizetype end = text.indexOf(QStringLiteral("```"), start);
        QVERIFY(end > start);
        QJsonParseError error{};
        const QJsonDocument doc =
            QJsonDocument::fromJson(text.mid(start, end - start).toUtf8(), &error);
        QVERIFY2(
            error.error == QJsonParseError::NoError,
            qPrintable(
                QStringLiteral("README.md json block at %1: %2").arg(at).arg(error.errorString())));
        const QJsonObject o = doc.object();
        if (!o.contains(QLatin1String("stream_routes")) &&
            !o.contains(QLatin1String("stream_proxy")))
            continue;
        ++documents;
        const Decoded<Config> d = decodeConfig(o);
        QVERIFY2(d.ok(), qPrintable(describe(d.problems)));
        QCOMPARE(compact(encodeConfig(d.value)), compact(o));
    }
    QVERIFY2(documents > 0, "README.md shows no config document");
}

// ssls as APISIX's schema takes them re-encode as given (the PEM checks are config/sslcheck's,
// so any long enough text stands in for a certificate here).
void TestConfigCodec::sslRoundTrip_data()
{
    QTest::addColumn<QJsonObject>("ssl");
    const QString cert = QStringLiteral("-----BEGIN CERTIFICATE-----\n") + QString(130, u'A');
    const QString key = QStringLiteral("-----BEGIN PRIVATE KEY-----\n") + QString(70, u'B');
    const QJsonObject base{{"id", "1"}, {"cert", cert}, {"key", key}, {"sni", "a.example.com"}};
    QTest::newRow("sni") << base;
    QJsonObject o = base;
    o.remove("sni");
    o.insert("snis", QJsonArray{"a.example.com", "*.a.example.com", "*"});
    o.insert("certs", QJsonArray{cert});
    o.insert("keys", QJsonArray{key});
    o.insert("client", QJsonObject{{"ca", cert}, {"depth", 1}});
    o.insert("ssl_protocols", QJsonArray{"TLSv1.2", "TLSv1.3"});
    o.insert("status", 0);
    o.insert("labels", QJsonObject{{"env", "dev"}});
    o.insert("desc", "two names");
    QTest::newRow("every field") << o;
    o = base;
    o.insert("type", "server");
    o.insert("status", 1);
    QTest::newRow("defaults given") << o;
    o = base;
    o.remove("sni");
    o.insert("type", "client");
    QTest::newRow("client certificate without names") << o;
}

void TestConfigCodec::sslRoundTrip()
{
    QFETCH(QJsonObject, ssl);
    const Decoded<Config> d = decodeConfig(QJsonObject{{"ssls", QJsonArray{ssl}}});
    QVERIFY2(d.ok(), qPrintable(describe(d.problems)));
    QCOMPARE(compact(encodeConfig(d.value)), compact(QJsonObject{{"ssls", QJsonArray{ssl}}}));
}

QTEST_GUILESS_MAIN(TestConfigCodec)
#include "tst_configcodec.moc"
