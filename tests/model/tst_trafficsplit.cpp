// traffic-split in a stream route: what decodes (and encodes back as given), what is refused
// (path, value as written, reason), and lua-resty-expr's comparison rules as VarExpression
// evaluates them.

#include "config/configstore.h"
#include "model/codec.h"
#include "model/varexpr.h"
#include "modeltestutil.h"

#include <QJsonArray>
#include <QTest>
#include <algorithm>

using namespace sg;
using sgtest::compact;
using sgtest::describe;
using sgtest::object;

class TestTrafficSplit : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void valid_data();
    void valid();
    void invalid_data();
    void invalid();
    void decodedValues();
    void eval_data();
    void eval();
    void configChecks();
};

namespace {

const QByteArray kUp = R"({"nodes": {"127.0.0.1:1995": 1}, "type": "roundrobin"})";

QJsonObject split(const QByteArray& conf, bool withUpstream = true)
{
    QByteArray text = R"({"id": "1", "plugins": {"traffic-split": )" + conf + "}";
    if (withUpstream)
        text += R"(, "upstream": )" + kUp;
    return object(text + "}");
}

QString known()
{
    return QStringLiteral(
        "remote_addr, remote_port, server_addr, server_port, protocol, proxy_protocol_addr, "
        "proxy_protocol_port, proxy_protocol_server_addr, proxy_protocol_server_port, "
        "realip_remote_addr, realip_remote_port, mqtt_client_id, route_id");
}

} // namespace

void TestTrafficSplit::valid_data()
{
    QTest::addColumn<QJsonObject>("json");
    QTest::newRow("APISIX TEST 1: two inline upstreams, no route upstream")
        << split(R"({"rules": [{"weighted_upstreams": [
                {"upstream": {"name": "upstream_A", "type": "roundrobin",
                              "nodes": {"127.0.0.1:1995": 1}}, "weight": 9},
                {"upstream": {"name": "upstream_B", "type": "roundrobin",
                              "nodes": {"127.0.0.1:1996": 1}}, "weight": 1}]}]})",
                 false);
    QTest::newRow("APISIX TEST 3: the route's upstream as an entry with only a weight")
        << object(R"({"id": "2", "upstream_id": "1", "plugins": {"traffic-split": {"rules": [
                {"weighted_upstreams": [{"upstream": {"name": "upstream_A", "type": "roundrobin",
                 "nodes": {"127.0.0.1:1995": 1}}, "weight": 9}, {"weight": 1}]}]}}})");
    QTest::newRow("APISIX TEST 5: upstream_id")
        << split(R"({"rules": [{"weighted_upstreams": [{"upstream_id": "2", "weight": 1}]}]})");
    QTest::newRow("APISIX TEST 7: match on route_id")
        << split(R"({"rules": [{"match": [{"vars": [["route_id", "==", "3"]]}],
                 "weighted_upstreams": [{"upstream": {"name": "upstream_A", "type": "roundrobin",
                 "nodes": {"127.0.0.1:1995": 1}}, "weight": 1}]}]})");
    QTest::newRow("no rules") << split("{}");
    QTest::newRow("rules empty") << split(R"({"rules": []})");
    QTest::newRow("rule without weighted_upstreams")
        << split(R"({"rules": [{"match": [{"vars": []}]}]})");
    QTest::newRow("match empty") << split(R"({"rules": [{"match": []}]})");
    QTest::newRow("integer upstream_id and weight 0")
        << split(R"({"rules": [{"weighted_upstreams": [{"upstream_id": 7, "weight": 0},
                 {"weight": 1}]}]})");
    QTest::newRow("entry with weight only, default")
        << split(R"({"rules": [{"weighted_upstreams": [{}]}]})");
    QTest::newRow("every operator") << split(R"({"rules": [{"match": [{"vars": [
                 ["remote_addr", "==", "127.0.0.2"], ["remote_port", "~=", 80],
                 ["server_port", ">", 1000], ["server_port", ">=", "1000"],
                 ["remote_port", "<", 65536], ["remote_port", "<=", 65535],
                 ["remote_addr", "~~", "^127\\."], ["protocol", "~*", "tcp"],
                 ["remote_addr", "in", ["127.0.0.2", "127.0.0.3"]], ["remote_addr", "has", "x"],
                 ["remote_addr", "ipmatch", "127.0.0.0/8"],
                 ["remote_addr", "IPMATCH", ["::1", "10.0.0.0/8"]],
                 ["remote_addr", "!", "==", "127.0.0.9"], ["mqtt_client_id", "==", null],
                 ["server_addr", "127.0.0.1"]]}]}]})");
    QTest::newRow("logic forms") << split(R"({"rules": [{"match": [
                 {"vars": ["OR", ["remote_addr", "==", "127.0.0.2"],
                                 ["AND", ["remote_port", ">", 0], ["protocol", "==", "TCP"]]]},
                 {"vars": ["!or", ["remote_addr", "==", "127.0.0.2"],
                                  ["remote_addr", "==", "127.0.0.3"]]},
                 {"vars": [[["remote_addr", "==", "127.0.0.2"], ["protocol", "==", "TCP"]],
                           ["!AND", ["realip_remote_addr", "==", "1.2.3.4"],
                                    ["proxy_protocol_addr", "==", ""]]]}]}]})");
    QTest::newRow("inline chash upstream with timeout")
        << split(R"({"rules": [{"weighted_upstreams": [{"upstream": {"type": "chash",
                 "hash_on": "vars", "key": "remote_addr", "nodes": [{"host": "127.0.0.1",
                 "port": 1995, "weight": 1}], "timeout": {"connect": 1, "send": 2,
                 "read": 3}}, "weight": 2}]}]})");
}

void TestTrafficSplit::valid()
{
    QFETCH(QJsonObject, json);
    const Decoded<StreamRoute> d = decodeStreamRoute(json);
    QVERIFY2(d.ok(), qPrintable(describe(d.problems)));
    QVERIFY(d.value.plugins.trafficSplit.has_value());
    const QJsonObject encoded = encodeStreamRoute(d.value);
    QCOMPARE(compact(encoded), compact(json));
    const Decoded<StreamRoute> again = decodeStreamRoute(encoded);
    QVERIFY(again.ok());
    QVERIFY(again.value == d.value);
}

void TestTrafficSplit::invalid_data()
{
    QTest::addColumn<QJsonObject>("json");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("reason");
    const QString rule0 = QStringLiteral("plugins.traffic-split.rules[0]");
    const QString vars0 = rule0 + QStringLiteral(".match[0].vars");
    const QString prefix = QStringLiteral("failed to validate the 'vars' expression: ");

    QTest::newRow("unknown variable")
        << split(R"({"rules": [{"match": [{"vars": [["http_host", "==", "a"]]}]}]})")
        << vars0 + "[0][0]"
        << "http_host"
        << QStringLiteral("variable \"http_host\" is not available to a stream route's "
                          "traffic-split (known: %1)")
               .arg(known());
    QTest::newRow("unknown operator")
        << split(R"({"rules": [{"match": [{"vars": [["remote_addr", "=~", "a"]]}]}]})")
        << vars0 + "[0]"
        << R"(["remote_addr","=~","a"])" << prefix + "invalid operator '=~'";
    QTest::newRow("bad not")
        << split(R"({"rules": [{"match": [{"vars": [["remote_addr", "not", "==", "a"]]}]}]})")
        << vars0 + "[0]"
        << R"(["remote_addr","not","==","a"])" << prefix + "bad 'not' expression";
    QTest::newRow("not wrapped in brackets")
        << split(R"({"rules": [{"match": [{"vars": ["remote_addr", "==", "a"]}]}]})") << vars0
        << R"(["remote_addr","==","a"])" << prefix + "rule should be wrapped inside brackets";
    QTest::newRow("logic form too short")
        << split(R"({"rules": [{"match": [{"vars": ["OR", ["remote_addr", "==", "a"]]}]}]})")
        << vars0 << R"(["OR",["remote_addr","==","a"]])" << prefix + "rule too short";
    QTest::newRow("empty nested expression")
        << split(R"({"rules": [{"match": [{"vars": [[]]}]}]})") << vars0 + "[0]"
        << "[]" << prefix + "rule too short";
    QTest::newRow("one element") << split(
                                        R"({"rules": [{"match": [{"vars": [["remote_addr"]]}]}]})")
                                 << vars0 + "[0]"
                                 << R"(["remote_addr"])" << prefix + "invalid expression";
    QTest::newRow("vars missing") << split(R"({"rules": [{"match": [{}]}]})") << vars0 << ""
                                  << prefix + "missing argument rule";
    QTest::newRow("vars not an array")
        << split(R"({"rules": [{"match": [{"vars": "remote_addr"}]}]})") << vars0 << "remote_addr"
        << "wrong type: expected array, got string";
    QTest::newRow("ipmatch bad address")
        << split(R"({"rules": [{"match": [{"vars": [["remote_addr", "ipmatch",
                 ["127.0.0.1", "300.0.0.1"]]]}]}]})")
        << vars0 + "[0][2][1]"
        << "300.0.0.1" << prefix + "invalid ip address: 300.0.0.1";
    QTest::newRow("ipmatch empty")
        << split(R"({"rules": [{"match": [{"vars": [["remote_addr", "ipmatch", ""]]}]}]})")
        << vars0 + "[0][2]"
        << "" << prefix + "invalid ip address";
    QTest::newRow("bad regular expression")
        << split(R"({"rules": [{"match": [{"vars": [["remote_addr", "~~", "(127"]]}]}]})")
        << vars0 + "[0][2]"
        << "(127"
        << "invalid regular expression: missing closing parenthesis (at offset 4); APISIX "
           "would never match it";
    QTest::newRow("variable name not a string")
        << split(R"({"rules": [{"match": [{"vars": [[1, "==", "a"]]}]}]})") << vars0 + "[0][0]"
        << "1" << prefix + "the variable name must be a string, not integer";
    QTest::newRow("negative weight")
        << split(R"({"rules": [{"weighted_upstreams": [{"weight": -1}]}]})")
        << rule0 + ".weighted_upstreams[0].weight"
        << "-1"
        << "must be an integer >= 0";
    QTest::newRow("weighted_upstreams empty")
        << split(R"({"rules": [{"weighted_upstreams": []}]})") << rule0 + ".weighted_upstreams"
        << "[]"
        << "must have at least 1 item(s)";
    QTest::newRow("bad upstream_id")
        << split(R"({"rules": [{"weighted_upstreams": [{"upstream_id": "a b"}]}]})")
        << rule0 + ".weighted_upstreams[0].upstream_id"
        << "a b"
        << "must be a string of 1-64 characters from a-z, A-Z, 0-9, \"-\", \"_\", \".\" or an "
           "integer >= 1";
    QTest::newRow("inline upstream refused as any upstream")
        << split(R"({"rules": [{"weighted_upstreams": [{"upstream": {"type": "ewma",
                 "nodes": {"127.0.0.1:1": 1}}}]}]})")
        << rule0 + ".weighted_upstreams[0].upstream.type"
        << "ewma"
        << "type ewma: not supported by Streamgate; use roundrobin, chash or least_conn";
    QTest::newRow("unknown field in a rule")
        << split(R"({"rules": [{"matches": []}]})") << rule0 + ".matches"
        << "[]"
        << "additional properties forbidden, found matches";
}

void TestTrafficSplit::invalid()
{
    QFETCH(QJsonObject, json);
    QFETCH(QString, path);
    QFETCH(QString, value);
    QFETCH(QString, reason);
    const Decoded<StreamRoute> d = decodeStreamRoute(json);
    QVERIFY2(d.problems.size() == 1, qPrintable(describe(d.problems)));
    QCOMPARE(d.problems.first().path, path);
    QCOMPARE(d.problems.first().value, value);
    QCOMPARE(d.problems.first().reason, reason);
}

void TestTrafficSplit::decodedValues()
{
    const Decoded<StreamRoute> d =
        decodeStreamRoute(split(R"({"rules": [{"match": [{"vars": [["remote_port", ">", 1]]}],
                 "weighted_upstreams": [{"upstream_id": 2}, {"weight": 0},
                 {"upstream": {"nodes": {"127.0.0.1:1": 1}}, "weight": 5}]}, {}]})"));
    QVERIFY2(d.ok(), qPrintable(describe(d.problems)));
    const TrafficSplitConf& conf = *d.value.plugins.trafficSplit;
    QCOMPARE(conf.rules.size(), 2);
    const TrafficSplitRule& r = conf.rules.at(0);
    QVERIFY(r.match && r.match->size() == 1);
    QCOMPARE(r.weightedUpstreams.size(), 3);
    QCOMPARE(idText(r.weightedUpstreams.at(0).upstreamId), QStringLiteral("2"));
    QCOMPARE(r.weightedUpstreams.at(0).weight, 1);
    QCOMPARE(r.weightedUpstreams.at(1).weight, 0);
    QVERIFY(r.weightedUpstreams.at(2).upstream.has_value());
    QCOMPARE(r.weightedUpstreams.at(2).weight, 5);
    // A rule without weighted_upstreams takes APISIX's default: the route's own upstream.
    const TrafficSplitRule& byDefault = conf.rules.at(1);
    QVERIFY(!byDefault.match);
    QCOMPARE(byDefault.weightedUpstreams.size(), 1);
    QVERIFY(byDefault.weightedUpstreams.at(0).upstreamId.isUndefined());
    QVERIFY(!byDefault.weightedUpstreams.at(0).upstream);
    QCOMPARE(byDefault.weightedUpstreams.at(0).weight, 1);
}

void TestTrafficSplit::eval_data()
{
    QTest::addColumn<QByteArray>("vars");
    QTest::addColumn<bool>("expected");
    // Session: remote_addr 127.0.0.2, remote_port "8080", protocol "TCP", mqtt_client_id unset.
    QTest::newRow("empty") << QByteArray("[]") << true;
    QTest::newRow("== text") << QByteArray(R"([["remote_addr", "==", "127.0.0.2"]])") << true;
    QTest::newRow("== number") << QByteArray(R"([["remote_port", "==", 8080]])") << true;
    QTest::newRow("== number text") << QByteArray(R"([["remote_port", "==", "8080.0"]])") << false;
    QTest::newRow("== number, not a number")
        << QByteArray(R"([["remote_addr", "==", 1]])") << false;
    QTest::newRow("~= number, not a number") << QByteArray(R"([["remote_addr", "~=", 1]])") << true;
    QTest::newRow("> numeric text") << QByteArray(R"([["remote_port", ">", "999"]])") << true;
    QTest::newRow("> not numbers") << QByteArray(R"([["remote_addr", ">", "1"]])") << false;
    QTest::newRow("<= equal") << QByteArray(R"([["remote_port", "<=", 8080]])") << true;
    QTest::newRow("< hex text") << QByteArray(R"([["remote_port", "<", "0x2000"]])") << true;
    QTest::newRow("~~ search") << QByteArray(R"([["remote_addr", "~~", "0\\.2$"]])") << true;
    QTest::newRow("~~ case") << QByteArray(R"([["protocol", "~~", "tcp"]])") << false;
    QTest::newRow("~* case") << QByteArray(R"([["protocol", "~*", "tcp"]])") << true;
    QTest::newRow("in strings") << QByteArray(R"([["remote_port", "in", ["80", "8080"]]])") << true;
    QTest::newRow("in numbers (Lua: a string never equals a number)")
        << QByteArray(R"([["remote_port", "in", [80, 8080]]])") << false;
    QTest::newRow("has") << QByteArray(R"([["remote_addr", "has", "127.0.0.2"]])") << false;
    QTest::newRow("ipmatch cidr") << QByteArray(R"([["remote_addr", "ipmatch", "127.0.0.0/30"]])")
                                  << true;
    QTest::newRow("ipmatch outside")
        << QByteArray(R"([["remote_addr", "ipmatch", ["10.0.0.0/8", "::1"]]])") << false;
    QTest::newRow("negated") << QByteArray(R"([["remote_addr", "!", "==", "127.0.0.2"]])") << false;
    QTest::newRow("unset == null") << QByteArray(R"([["mqtt_client_id", "==", null]])") << true;
    QTest::newRow("set == null") << QByteArray(R"([["remote_addr", "==", null]])") << false;
    QTest::newRow("unset ~~") << QByteArray(R"([["mqtt_client_id", "~~", ".*"]])") << false;
    QTest::newRow("two elements, lower-cased") << QByteArray(R"([["protocol", "TCP"]])") << false;
    QTest::newRow("AND list") << QByteArray(R"([["protocol", "==", "TCP"],
                                               ["remote_port", ">", 9000]])")
                              << false;
    QTest::newRow("OR") << QByteArray(R"(["OR", ["protocol", "==", "UDP"],
                                               ["remote_port", ">", 8000]])")
                        << true;
    QTest::newRow("!OR") << QByteArray(R"(["!OR", ["protocol", "==", "UDP"],
                                                 ["remote_port", ">", 9000]])")
                         << true;
    QTest::newRow("!AND") << QByteArray(R"(["!AND", ["protocol", "==", "TCP"],
                                                   ["remote_port", ">", 8000]])")
                          << false;
    QTest::newRow("nested list") << QByteArray(R"([[["protocol", "==", "TCP"],
                                                  ["remote_addr", "==", "127.0.0.2"]],
                                                 ["or", ["remote_port", "==", 1],
                                                        ["remote_port", "==", 8080]]])")
                                 << true;
}

void TestTrafficSplit::eval()
{
    QFETCH(QByteArray, vars);
    QFETCH(bool, expected);
    VarExpression::Error error;
    const auto expr =
        VarExpression::compile(sgtest::json(vars).toArray(), QStringLiteral("vars"), {}, &error);
    QVERIFY2(expr, qPrintable(error.path + ": " + error.reason));
    const auto lookup = [](const QString& name) -> QString {
        if (name == QLatin1String("remote_addr"))
            return QStringLiteral("127.0.0.2");
        if (name == QLatin1String("remote_port"))
            return QStringLiteral("8080");
        if (name == QLatin1String("protocol"))
            return QStringLiteral("TCP");
        return QString();
    };
    QCOMPARE(expr->eval(lookup), expected);
}

// The checks across objects: an upstream_id a rule names that names nothing is a warning (a
// route's and a service's rules alike; as in APISIX, the sessions it would take are closed), an
// inline upstream over tls is refused as anywhere else, and the fields APISIX's traffic-split
// does not run an inline upstream with are a warning.
void TestTrafficSplit::configChecks()
{
    const Decoded<Config> d = decodeConfig(object(R"({
        "stream_proxy": {"tcp": [9100]},
        "upstreams": [{"id": "2", "nodes": {"127.0.0.1:1995": 1}}],
        "services": [{"id": "s", "plugins": {"traffic-split": {"rules": [
            {"weighted_upstreams": [{"upstream_id": "8"}]}]}}}],
        "stream_routes": [{"id": "1", "server_port": 9100, "plugins": {"traffic-split": {"rules": [
            {"weighted_upstreams": [{"upstream_id": "2"}, {"upstream_id": "9"},
                {"upstream": {"scheme": "tls", "nodes": {"127.0.0.1:1": 1}}},
                {"upstream": {"retries": 2, "nodes": {"127.0.0.1:1": 1, "127.0.0.1:2": 1},
                    "checks": {"active": {"type": "tcp"}}}}]}]}}}]})"));
    QVERIFY2(d.ok(), qPrintable(describe(d.problems)));
    const ConfigCheck check = checkConfig(d.value);
    QStringList errors;
    for (const Problem& p : check.errors)
        errors << p.text();
    QStringList warnings;
    for (const Problem& p : check.warnings)
        warnings << p.text();
    const QString ups =
        QStringLiteral("stream_routes[0].plugins.traffic-split.rules[0].weighted_upstreams");
    QVERIFY2(warnings.contains(QStringLiteral("services[0].plugins.traffic-split.rules[0]."
                                              "weighted_upstreams[0].upstream_id: failed to "
                                              "fetch upstream info by upstream id [8]: no "
                                              "upstream has this id (used by traffic-split of "
                                              "service [s]); the connections that need it are "
                                              "closed at once")),
             qPrintable(warnings.join('\n')));
    QVERIFY2(warnings.contains(ups + QStringLiteral("[1].upstream_id: failed to fetch upstream "
                                                    "info by upstream id [9]: no upstream has "
                                                    "this id (used by traffic-split of "
                                                    "stream_route [1]); the connections that "
                                                    "need it are closed at once")),
             qPrintable(warnings.join('\n')));
    // scheme "tls" runs on a traffic-split inline upstream too (without tls, as in APISIX).
    QVERIFY2(check.errors.isEmpty(), qPrintable(errors.join('\n')));
    QVERIFY2(std::any_of(check.warnings.begin(), check.warnings.end(),
                         [&](const Problem& p) {
                             return p.path == ups + QStringLiteral("[3].upstream") &&
                                    p.value == QLatin1String("checks, retries") &&
                                    p.reason.startsWith(QStringLiteral(
                                        "not used: as in APISIX, traffic-split runs an inline "
                                        "upstream with its name"));
                         }),
             qPrintable(describe(check.warnings)));
}

QTEST_GUILESS_MAIN(TestTrafficSplit)
#include "tst_trafficsplit.moc"
