// The admin API's APISIX resources refuse a body as APISIX does: {"error_msg": ...} naming the
// first failure in APISIX's words ("invalid configuration: " and jsonschema's text for a schema
// failure, "failed to check the configuration of stream plugin [NAME]: ..." for a plugin's, the
// admin checks' own messages), and lua-cjson's words for a body that is no JSON. The cases are
// those of APISIX's t/admin/stream-routes*.t, upstream*.t, services*.t, plugin-metadata*.t and
// t/stream-plugin/*.t, and more of the same kinds. Streamgate's own endpoints keep every problem
// with its path, value and reason.
#include "adminfixture.h"
#include "api/adminbody.h"
#include "httptestclient.h"
#include "model/codec.h"

#include <QJsonArray>
#include <QTest>

using namespace sg;
using namespace sgtest;

namespace {

const QByteArray kKey = "6f0c2d9a4b7e1f3c8a5d2e9b0c4f7a1d";

// An upstream, a stream route and a service that the cases may refer to.
const QByteArray kConfig = R"({
  "stream_proxy": {"tcp": [9100]},
  "upstreams": [{"id": "1", "nodes": {"127.0.0.1:1980": 1}}],
  "stream_routes": [{"id": "r1", "server_port": 9100, "upstream_id": "1"}]
})";

const QByteArray kNodes = R"("nodes": {"127.0.0.1:8080": 1})";

} // namespace

class TestAdminErrors : public QObject, protected AdminFixture
{
    Q_OBJECT

private Q_SLOTS:
    void init()
    {
        const QString error = startAdmin(kConfig, kKey);
        QVERIFY2(error.isEmpty(), qPrintable(error));
    }
    void cleanup() { stopAdmin(); }

    void refusedInApisixWords_data();
    void refusedInApisixWords();
    void bodyThatIsNoJson_data();
    void bodyThatIsNoJson();
    void oversizedBody();
    void schemaValidateSaysJsonschemaAlone();
    void streamgateEndpointsKeepEveryProblem();
};

void TestAdminErrors::refusedInApisixWords_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("errorMsg");

    const QString routes = QStringLiteral("/apisix/admin/stream_routes/9");
    const QString upstreams = QStringLiteral("/apisix/admin/upstreams/9");
    const QString services = QStringLiteral("/apisix/admin/services/9");
    const QString metadata = QStringLiteral("/apisix/admin/plugin_metadata/");

    // Stream routes: the schema first, then the stream plugins, then the route's own checks.
    QTest::newRow("stream route: ip-restriction without a list")
        << QByteArray("PUT") << routes
        << QByteArray(R"({"plugins": {"ip-restriction": {}}, "upstream_id": "1"})")
        << "failed to check the configuration of stream plugin [ip-restriction]: value should "
           "match only one schema, but matches none";
    QTest::newRow("stream route: ip-restriction with both lists")
        << QByteArray("PUT") << routes
        << QByteArray(R"({"plugins": {"ip-restriction": {"whitelist": ["127.0.0.1"],
                          "blacklist": ["10.0.0.1"]}}, "upstream_id": "1"})")
        << "failed to check the configuration of stream plugin [ip-restriction]: value should "
           "match only one schema, but matches both schemas 1 and 2";
    QTest::newRow("stream route: ip-restriction item no address")
        << QByteArray("PUT") << routes
        << QByteArray(R"({"plugins": {"ip-restriction": {"whitelist": ["127.0.0.1", "db"]}},
                          "upstream_id": "1"})")
        << "failed to check the configuration of stream plugin [ip-restriction]: property "
           "\"whitelist\" validation failed: failed to validate item 2: object matches none of "
           "the required";
    QTest::newRow("stream route: ip-restriction address its check refuses")
        << QByteArray("PUT") << routes
        << QByteArray(R"({"plugins": {"ip-restriction": {"whitelist": [":/8"]}}})")
        << "failed to check the configuration of stream plugin [ip-restriction]: invalid ip "
           "address: :/8";
    QTest::newRow("stream route: ip-restriction empty list")
        << QByteArray("PUT") << routes
        << QByteArray(R"({"plugins": {"ip-restriction": {"blacklist": []}}})")
        << "failed to check the configuration of stream plugin [ip-restriction]: property "
           "\"blacklist\" validation failed: expect array to have at least 1 items";
    QTest::newRow("stream route: limit-conn conn 0")
        << QByteArray("PUT") << routes
        << QByteArray(R"({"plugins": {"limit-conn": {"conn": 0, "burst": 0,
                          "default_conn_delay": 0.1, "key": "remote_addr"}}})")
        << "failed to check the configuration of stream plugin [limit-conn]: property \"conn\" "
           "validation failed: expected 0 to be greater than 0";
    QTest::newRow("stream route: limit-conn without key")
        << QByteArray("PUT") << routes
        << QByteArray(R"({"plugins": {"limit-conn": {"conn": 1, "burst": 0,
                          "default_conn_delay": 0.1}}})")
        << "failed to check the configuration of stream plugin [limit-conn]: property \"key\" "
           "is required";
    QTest::newRow("stream route: limit-conn key_type")
        << QByteArray("PUT") << routes
        << QByteArray(R"({"plugins": {"limit-conn": {"conn": 1, "burst": 0,
                          "default_conn_delay": 0.1, "key": "remote_addr", "key_type": "x"}}})")
        << "failed to check the configuration of stream plugin [limit-conn]: property "
           "\"key_type\" validation failed: matches none of the enum values";
    QTest::newRow("stream route: plugin conf no object")
        << QByteArray("PUT") << routes << QByteArray(R"({"plugins": {"limit-conn": "a"}})")
        << "invalid plugin conf \"a\" for plugin [limit-conn]";
    QTest::newRow("stream route: unknown plugin")
        << QByteArray("PUT") << routes
        << QByteArray(R"({"remote_addr": "127.0.0.1", "plugins": {"mqttt-proxy": {}}})")
        << "unknown plugin [mqttt-proxy]";
    QTest::newRow("stream route: unknown protocol")
        << QByteArray("PUT") << routes
        << QByteArray(R"({"protocol": {"name": "xxx"}, "upstream_id": "1"})")
        << "unknown protocol [xxx]";
    QTest::newRow("stream route: protocol conf")
        << QByteArray("PUT") << routes
        << QByteArray(R"({"protocol": {"name": "redis", "conf": {"faults": "a"}},
                          "upstream_id": "1"})")
        << "property \"faults\" validation failed: wrong type: expected array, got string";
    QTest::newRow("stream route: remote_addr passes the schema")
        << QByteArray("PUT") << routes << QByteArray(R"({"remote_addr": ":/8"})")
        << "invalid remote_addr: :/8";
    QTest::newRow("stream route: remote_addr fails the schema")
        << QByteArray("PUT") << routes << QByteArray(R"({"remote_addr": "db.local"})")
        << "invalid configuration: property \"remote_addr\" validation failed: object matches "
           "none of the required";
    QTest::newRow("stream route: server_port 0")
        << QByteArray("PUT") << routes << QByteArray(R"({"server_port": 0})")
        << "invalid configuration: property \"server_port\" validation failed: expected 0 to be "
           "at least 1";
    QTest::newRow("stream route: server_port 65536")
        << QByteArray("PUT") << routes << QByteArray(R"({"server_port": 65536})")
        << "invalid configuration: property \"server_port\" validation failed: expected 65536 "
           "to be at most 65535";
    QTest::newRow("stream route: server_port text")
        << QByteArray("PUT") << routes << QByteArray(R"({"server_port": "9100"})")
        << "invalid configuration: property \"server_port\" validation failed: wrong type: "
           "expected integer, got string";
    QTest::newRow("stream route: server_port fraction")
        << QByteArray("PUT") << routes << QByteArray(R"({"server_port": 1.5})")
        << "invalid configuration: property \"server_port\" validation failed: wrong type: "
           "expected integer, got number";
    QTest::newRow("stream route: unknown field")
        << QByteArray("PUT") << routes << QByteArray(R"({"upstream_id": "1", "foo": 1})")
        << "invalid configuration: additional properties forbidden, found foo";
    QTest::newRow("stream route: inline upstream timeout")
        << QByteArray("PUT") << routes
        << QByteArray(R"({"upstream": {"nodes": {"127.0.0.1:8080": 1},
                          "timeout": {"connect": 0, "send": 1, "read": 1}}})")
        << "invalid configuration: property \"upstream\" validation failed: property "
           "\"timeout\" validation failed: property \"connect\" validation failed: expected 0 "
           "to be greater than 0";
    QTest::newRow("stream route: schema before plugins")
        << QByteArray("PUT") << routes
        << QByteArray(R"({"plugins": {"ip-restriction": {}}, "server_port": 0})")
        << "invalid configuration: property \"server_port\" validation failed: expected 0 to be "
           "at least 1";
    QTest::newRow("stream route: create_time")
        << QByteArray("PUT") << routes << QByteArray(R"({"server_port": 0, "create_time": 1})")
        << "the property is forbidden:  create_time";
    QTest::newRow("stream route: name too long")
        << QByteArray("PUT") << routes
        << QByteArray(R"({"name": ")" + QByteArray(257, 'a') + R"("})")
        << "invalid configuration: property \"name\" validation failed: string too long, "
           "expected at most 256, got 257";
    QTest::newRow("stream route: POST with an id")
        << QByteArray("POST") << QStringLiteral("/apisix/admin/stream_routes")
        << QByteArray(R"({"id": "3", "server_port": 0})")
        << "wrong stream route id, do not need it";

    // Upstreams: check_upstream_conf's schema, then its own checks.
    QTest::newRow("upstream: no nodes")
        << QByteArray("PUT") << upstreams << QByteArray(R"({"type": "roundrobin"})")
        << "invalid configuration: value should match only one schema, but matches none";
    QTest::newRow("upstream: negative weight")
        << QByteArray("PUT") << upstreams << QByteArray(R"({"nodes": {"127.0.0.1:8080": -100}})")
        << "invalid configuration: property \"nodes\" validation failed: object matches none of "
           "the required";
    QTest::newRow("upstream: array node without weight")
        << QByteArray("PUT") << upstreams
        << QByteArray(R"({"nodes": [{"host": "127.0.0.1", "port": 8080}]})")
        << "invalid configuration: property \"nodes\" validation failed: object matches none of "
           "the required";
    QTest::newRow("upstream: nodes text")
        << QByteArray("PUT") << upstreams << QByteArray(R"({"nodes": "127.0.0.1:8080"})")
        << "invalid configuration: property \"nodes\" validation failed: object matches none of "
           "the required";
    QTest::newRow("upstream: node port out of range")
        << QByteArray("PUT") << upstreams << QByteArray(R"({"nodes": {"127.0.0.1:99999": 1}})")
        << "invalid port 99999";
    QTest::newRow("upstream: retries -1")
        << QByteArray("PUT") << upstreams << QByteArray("{" + kNodes + R"(, "retries": -1})")
        << "invalid configuration: property \"retries\" validation failed: expected -1 to be at "
           "least 0";
    QTest::newRow("upstream: retry_timeout -1")
        << QByteArray("PUT") << upstreams << QByteArray("{" + kNodes + R"(, "retry_timeout": -1})")
        << "invalid configuration: property \"retry_timeout\" validation failed: expected -1 to "
           "be at least 0";
    QTest::newRow("upstream: timeout send 0")
        << QByteArray("PUT") << upstreams
        << QByteArray("{" + kNodes + R"(, "timeout": {"connect": 1, "send": 0, "read": 1}})")
        << "invalid configuration: property \"timeout\" validation failed: property \"send\" "
           "validation failed: expected 0 to be greater than 0";
    QTest::newRow("upstream: timeout without read")
        << QByteArray("PUT") << upstreams
        << QByteArray("{" + kNodes + R"(, "timeout": {"connect": 1, "send": 1}})")
        << "invalid configuration: property \"timeout\" validation failed: property \"read\" is "
           "required";
    QTest::newRow("upstream: hash_on not in the enum")
        << QByteArray("PUT") << upstreams
        << QByteArray("{" + kNodes + R"(, "type": "chash", "hash_on": "aaa", "key": "uri"})")
        << "invalid configuration: property \"hash_on\" validation failed: matches none of the "
           "enum values";
    QTest::newRow("upstream: chash key not a variable")
        << QByteArray("PUT") << upstreams
        << QByteArray("{" + kNodes + R"(, "type": "chash", "key": "not_support"})")
        << "invalid configuration: failed to match pattern \"^((uri|server_name|server_addr|"
           "request_uri|remote_port|remote_addr|query_string|host|hostname|mqtt_client_id)|"
           "arg_[0-9a-zA-z_-]+)$\" with \"not_support\"";
    QTest::newRow("upstream: chash without key")
        << QByteArray("PUT") << upstreams << QByteArray("{" + kNodes + R"(, "type": "chash"})")
        << "missing key";
    QTest::newRow("upstream: scheme not in the enum")
        << QByteArray("PUT") << upstreams << QByteArray("{" + kNodes + R"(, "scheme": "ftp"})")
        << "invalid configuration: property \"scheme\" validation failed: matches none of the "
           "enum values";
    QTest::newRow("upstream: properties before unknown fields before oneOf")
        << QByteArray("PUT") << upstreams << QByteArray(R"({"foo": 1, "retries": -1})")
        << "invalid configuration: property \"retries\" validation failed: expected -1 to be at "
           "least 0";
    QTest::newRow("upstream: unknown field before oneOf")
        << QByteArray("PUT") << upstreams << QByteArray(R"({"foo": 1})")
        << "invalid configuration: additional properties forbidden, found foo";
    QTest::newRow("upstream: unknown field")
        << QByteArray("PUT") << upstreams << QByteArray("{" + kNodes + R"(, "foo": "bar"})")
        << "invalid configuration: additional properties forbidden, found foo";
    QTest::newRow("upstream: label value no string")
        << QByteArray("PUT") << upstreams
        << QByteArray("{" + kNodes + R"(, "labels": {"env": ["production"]}})")
        << "invalid configuration: property \"labels\" validation failed: failed to validate env "
           "(matching \".*\"): wrong type: expected string, got table";
    QTest::newRow("upstream: body id no id")
        << QByteArray("PUT") << QStringLiteral("/apisix/admin/upstreams")
        << QByteArray("{" + kNodes + R"(, "id": -100})")
        << "invalid configuration: property \"id\" validation failed: object matches none of the "
           "required";
    QTest::newRow("upstream: client_cert_id of no ssl")
        << QByteArray("PUT") << upstreams
        << QByteArray("{" + kNodes + R"(, "scheme": "tls", "tls": {"client_cert_id": "9999999"}})")
        << "failed to fetch ssl info by ssl id [9999999], response code: 404";
    QTest::newRow("upstream: PATCH to a negative retries")
        << QByteArray("PATCH") << QStringLiteral("/apisix/admin/upstreams/1")
        << QByteArray(R"({"retries": -1})")
        << "invalid configuration: property \"retries\" validation failed: expected -1 to be at "
           "least 0";

    // Services: their plugins are checked as HTTP plugins, their upstream as an upstream.
    QTest::newRow("service: name too long")
        << QByteArray("PUT") << services
        << QByteArray(R"({"name": ")" + QByteArray(257, 'a') + R"("})")
        << "invalid configuration: property \"name\" validation failed: string too long, "
           "expected at most 256, got 257";
    QTest::newRow("service: upstream_id no id")
        << QByteArray("PUT") << services << QByteArray(R"({"upstream_id": -88})")
        << "invalid configuration: property \"upstream_id\" validation failed: object matches "
           "none of the required";
    QTest::newRow("service: plugin")
        << QByteArray("PUT") << services << QByteArray(R"({"plugins": {"ip-restriction": {}}})")
        << "failed to check the configuration of plugin ip-restriction err: value should match "
           "only one schema, but matches none";
    QTest::newRow("service: mqtt-proxy is no HTTP plugin")
        << QByteArray("PUT") << services
        << QByteArray(R"({"plugins": {"mqtt-proxy": {"protocol_level": 4}}})")
        << "unknown plugin [mqtt-proxy]";
    QTest::newRow("service: label value empty")
        << QByteArray("PUT") << services << QByteArray(R"({"labels": {"env": ""}})")
        << "invalid configuration: property \"labels\" validation failed: failed to validate env "
           "(matching \".*\"): string too short, expected at least 1, got 0";
    QTest::newRow("service: upstream node port")
        << QByteArray("PUT") << services
        << QByteArray(R"({"upstream": {"nodes": {"127.0.0.1:0": 1}}})") << "invalid port 0";

    // plugin_metadata: the plugin's name, then its metadata_schema.
    QTest::newRow("plugin_metadata: no plugin")
        << QByteArray("PUT") << metadata + "test" << QByteArray(R"({"skey": "val"})")
        << "invalid plugin name";
    QTest::newRow("plugin_metadata: log_format no object")
        << QByteArray("PUT") << metadata + "syslog" << QByteArray(R"({"log_format": "x"})")
        << "invalid configuration: property \"log_format\" validation failed: wrong type: "
           "expected object, got string";
    QTest::newRow("plugin_metadata: max_pending_entries 0")
        << QByteArray("PUT") << metadata + "syslog" << QByteArray(R"({"max_pending_entries": 0})")
        << "invalid configuration: property \"max_pending_entries\" validation failed: expected "
           "0 to be at least 1";
}

void TestAdminErrors::refusedInApisixWords()
{
    QFETCH(QByteArray, method);
    QFETCH(QString, path);
    QFETCH(QByteArray, body);
    QFETCH(QString, errorMsg);
    const Config before = m_store->config();
    const HttpAnswer a = call(method, path, body);
    QVERIFY2(a.status == 400, a.body.constData());
    // APISIX's body: the message and nothing else.
    QCOMPARE(a.json, (QJsonObject{{"error_msg", errorMsg}}));
    QVERIFY(m_store->config() == before);
}

void TestAdminErrors::bodyThatIsNoJson_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("cjsonError");
    QTest::newRow("cut after a colon")
        << QByteArray(R"({"a":)") << "Expected value but found T_END at character 6";
    QTest::newRow("key without quotes")
        << QByteArray("{a:1}")
        << "Expected object key string but found invalid token at character 2";
    QTest::newRow("no colon") << QByteArray(R"({"a" 1})")
                              << "Expected colon but found T_INTEGER at character 6";
    QTest::newRow("no comma") << QByteArray(R"({"a": 1 "b": 2})")
                              << "Expected comma or object end but found T_STRING at character 9";
    QTest::newRow("array without comma")
        << QByteArray(R"({"a": [1.5 2]})")
        << "Expected comma or array end but found T_INTEGER at character 12";
    QTest::newRow("two values") << QByteArray(R"({"a": 1}})")
                                << "Expected the end but found T_OBJ_END at character 9";
    QTest::newRow("bad escape") << QByteArray(R"({"a": "\q"})")
                                << "Expected value but found invalid escape code at character 8";
    QTest::newRow("string not closed") << QByteArray(R"({"a": "b)")
                                       << "Expected value but found unexpected end of string at "
                                          "character 9";
    QTest::newRow("leading zero") << QByteArray(R"({"a": 01})")
                                  << "Expected value but found invalid number at character 7";
    QTest::newRow("word") << QByteArray("yes")
                          << "Expected value but found invalid token at "
                             "character 1";
}

void TestAdminErrors::bodyThatIsNoJson()
{
    QFETCH(QByteArray, body);
    QFETCH(QString, cjsonError);
    for (const QByteArray& method : {QByteArray("PUT"), QByteArray("POST"), QByteArray("GET")}) {
        const QString path = method == "POST" ? QStringLiteral("/apisix/admin/upstreams")
                                              : QStringLiteral("/apisix/admin/upstreams/1");
        const HttpAnswer a = call(method, path, body);
        QVERIFY2(a.status == 400, a.body.constData());
        // APISIX repeats the body it could not decode.
        QCOMPARE(a.json, (QJsonObject{{"error_msg", "invalid request body: " + cjsonError},
                                      {"req_body", QString::fromUtf8(body)}}));
    }
}

void TestAdminErrors::oversizedBody()
{
    // Valid JSON but for its size: a padded desc.
    const qsizetype size = kAdminMaxBodyBytes + 1;
    QByteArray body = R"({"desc": ")";
    body += QByteArray(size - body.size() - 2, 'x') + "\"}";
    const HttpAnswer a = call("PUT", "/apisix/admin/upstreams/1", body);
    QVERIFY2(a.status == 400, a.body.left(200).constData());
    QCOMPARE(a.json, (QJsonObject{{"error_msg",
                                   QStringLiteral("invalid request body: request size %1 is "
                                                  "greater than the maximum size 1572864 allowed")
                                       .arg(size)}}));
}

void TestAdminErrors::schemaValidateSaysJsonschemaAlone()
{
    // APISIX's schema/validate answers jsonschema's error as it is, without check_conf's prefix.
    HttpAnswer a = call("POST", "/apisix/admin/schema/validate/upstreams",
                        "{" + kNodes + R"(, "retries": -1})");
    QCOMPARE(a.status, 400);
    QCOMPARE(a.json, (QJsonObject{{"error_msg", "property \"retries\" validation failed: expected "
                                                "-1 to be at least 0"}}));
    a = call("POST", "/apisix/admin/schema/validate/stream_routes",
             R"({"upstream": {"nodes": {"127.0.0.1:8080": "heavy"}}})");
    QCOMPARE(a.status, 400);
    QCOMPARE(a.json, (QJsonObject{{"error_msg", "property \"upstream\" validation failed: "
                                                "property \"nodes\" validation failed: object "
                                                "matches none of the required"}}));
}

void TestAdminErrors::streamgateEndpointsKeepEveryProblem()
{
    // Streamgate's own endpoints answer every problem, each with its path, value and reason.
    const HttpAnswer a =
        call("POST", "/streamgate/v1/stream_routes/r1/allow", R"({"client": "db.local", "x": 1})");
    QVERIFY2(a.status == 400, a.body.constData());
    const QJsonArray problems = a.json.value("problems").toArray();
    QCOMPARE(problems.size(), 2);
    const QString message = a.json.value("error_msg").toString();
    QVERIFY2(message.contains("client \"db.local\" is not an IPv4 or IPv6 address"),
             qPrintable(message));
    QVERIFY2(message.contains("unknown field x"), qPrintable(message));

    // One check words a failure both ways: the decoder's problem keeps Streamgate's path and
    // reason (--check, the forms), and the admin API says APISIX's words for it.
    const Decoded<StreamRoute> route =
        decodeStreamRoute(QJsonDocument::fromJson(R"({"server_port": 0, "foo": 1})").object());
    QCOMPARE(route.problems.size(), 2);
    QCOMPARE(formatProblems(route.problems),
             QString("foo: additional properties forbidden, found foo\n"
                     "server_port: must be an integer from 1 to 65535"));
    // jsonschema checks the properties before it looks for keys it does not allow.
    QCOMPARE(apisixErrorMessage(route.problems, ApisixPlugins::Stream),
             QString("invalid configuration: property \"server_port\" validation failed: "
                     "expected 0 to be at least 1"));
}

QTEST_GUILESS_MAIN(TestAdminErrors)
#include "tst_adminerrors.moc"
