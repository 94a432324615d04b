// Streamgate's own settings (the config's "streamgate" section): each key valid, of the wrong
// type, out of range, and unknown at the top level and nested, every problem with its path,
// value and reason; a valid section re-encodes to exactly what was written; the values in
// effect (defaults, per-route MySQL switches) are the ones the engine and servers use.

#include "model/codec.h"
#include "modeltestutil.h"

#include <QTest>

using namespace sg;
using sgtest::compact;
using sgtest::describe;
using sgtest::json;
using sgtest::object;

namespace {

const QByteArray kRoute =
    R"({"id": "db", "server_port": 13306, "upstream": {"nodes": {"127.0.0.1:3306": 1}}})";

QByteArray disabled(const QByteArray& extra)
{
    return R"({"disabled_routes": [{"route": )" + kRoute + extra + "}]}";
}

} // namespace

class TestSettings : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void valid_data();
    void valid();
    void invalid_data();
    void invalid();
    void inEffect_data();
    void inEffect();
    void postgresInEffect_data();
    void postgresInEffect();
    void rebasePerSection();
    void pathsSpelledFromKeys();
    void toxicDefaultsLeftOut();
    void toxicUpdateTakesClientsAndEnabled();
    void accessLogInEffect();
};

void TestSettings::valid_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::newRow("empty") << QByteArray("{}");
    QTest::newRow("admin empty") << QByteArray(R"({"admin": {}})");
    QTest::newRow("admin.listen ip:port")
        << QByteArray(R"({"admin": {"listen": "127.0.0.1:9180"}})");
    QTest::newRow("admin.listen ipv6") << QByteArray(R"({"admin": {"listen": "[::1]:9180"}})");
    QTest::newRow("admin.listen bare port") << QByteArray(R"({"admin": {"listen": "9180"}})");
    QTest::newRow("admin.listen port 0") << QByteArray(R"({"admin": {"listen": "127.0.0.1:0"}})");
    QTest::newRow("admin.key") << QByteArray(R"({"admin": {"key": "s3cret", "listen": "9180"}})");
    QTest::newRow("admin.key empty") << QByteArray(R"({"admin": {"key": ""}})");
    QTest::newRow("prometheus.listen")
        << QByteArray(R"({"prometheus": {"listen": "127.0.0.1:9091"}})");
    QTest::newRow("mysql_inspect false") << QByteArray(R"({"mysql_inspect": false})");
    QTest::newRow("mysql_inspect default kept") << QByteArray(R"({"mysql_inspect": true})");
    QTest::newRow("routes empty") << QByteArray(R"({"routes": {}})");
    QTest::newRow("routes per route")
        << QByteArray(R"({"routes": {"db": {"mysql_inspect": false, "mysql_commands": true},
                                     "my route": {}}})");
    QTest::newRow("database_server_tls with database_tls")
        << QByteArray(R"({"routes": {"pg": {"database_tls": true, "database_server_tls": "verify"},
                                     "pg2": {"database_tls": true, "database_server_tls": "prefer"}}})");
    QTest::newRow("database_server_tls off alone")
        << QByteArray(R"({"routes": {"pg": {"database_server_tls": "off"}}})");
    QTest::newRow("disabled_routes empty") << QByteArray(R"({"disabled_routes": []})");
    QTest::newRow("disabled route with listener")
        << disabled(R"(, "protocol": "tcp", "listen": "127.0.0.1:13306")");
    QTest::newRow("disabled udp route, bare port")
        << disabled(R"(, "protocol": "udp", "listen": "13306")");
    QTest::newRow("disabled route alone") << disabled("");
    QTest::newRow("disabled route down as a fault")
        << disabled(R"(, "protocol": "tcp", "listen": "127.0.0.1:13306", "fault": true)");
    QTest::newRow("toxiproxy.listen")
        << QByteArray(R"({"toxiproxy": {"listen": "127.0.0.1:8474"}})");
    QTest::newRow("control.listen") << QByteArray(R"({"control": {"listen": "127.0.0.1:9090"}})");
    QTest::newRow("control empty") << QByteArray(R"({"control": {}})");
    QTest::newRow("toxics, a route with none")
        << QByteArray(R"({"toxics": {"db": [{"name": "slow", "type": "latency",
            "stream": "downstream", "toxicity": 0.5, "attributes": {"latency": 200,
            "jitter": 10}}, {"name": "cut", "type": "limit_data", "stream": "upstream",
            "toxicity": 1, "attributes": {"bytes": 100}}], "idle": []}})");
    QTest::newRow("toxic scoped to clients, one switched off")
        << QByteArray(R"({"toxics": {"db": [{"name": "slow", "type": "latency",
            "stream": "downstream", "toxicity": 1, "attributes": {"latency": 200, "jitter": 0},
            "clients": ["127.0.0.2/32", "10.0.0.7", "::1", "fd00::/8"]}, {"name": "off",
            "type": "timeout", "stream": "upstream", "toxicity": 1,
            "attributes": {"timeout": 0}, "enabled": false}]}})");
    QTest::newRow("query toxics") << QByteArray(
        R"({"toxics": {"db": [{"name": "deadlock", "type": "mysql_error",
            "stream": "upstream", "toxicity": 0.25, "attributes": {"code": 1213,
            "match": "^UPDATE accounts", "command": "COM_QUERY", "user": "app",
            "database": "shop", "sqlstate": "", "message": ""}}, {"name": "slow",
            "type": "mysql_latency", "stream": "downstream", "toxicity": 1,
            "attributes": {"latency": 300, "jitter": 20, "match": "", "command": "",
            "user": "", "database": ""}}, {"name": "gone", "type": "mysql_close",
            "stream": "downstream", "toxicity": 1, "attributes": {"match": "(?i)delete",
            "command": "", "user": "", "database": ""}, "clients": ["127.0.0.2"]}]}})");
    QTest::newRow("access_log empty") << QByteArray(R"({"access_log": {}})");
    QTest::newRow("access_log off") << QByteArray(R"({"access_log": {"enable": false}})");
    QTest::newRow("access_log format")
        << QByteArray(R"({"access_log": {"format": "$remote_addr:${remote_port} $status"}})");
    QTest::newRow("access_log interim lines")
        << QByteArray(R"({"access_log": {"interim_interval": 60}})");
    QTest::newRow("access_log APISIX's default written out")
        << QByteArray(R"({"access_log": {"enable": true, "format": "$remote_addr [$time_local] )"
                      R"($protocol $status $bytes_sent $bytes_received $session_time"}})");
    QTest::newRow("ssl_trusted_certificate system")
        << QByteArray(R"({"ssl_trusted_certificate": "system"})");
    QTest::newRow("ssl_trusted_certificate file")
        << QByteArray(R"({"ssl_trusted_certificate": "/etc/ssl/certs/ca-certificates.crt"})");
    QTest::newRow("allow_expiry, every kind") << QByteArray(R"({"allow_expiry": {"mysql": {
            "192.168.1.5": {"since": "2026-12-05T18:40:00Z", "until": "2026-12-05T19:40:00Z"},
            "127.0.0.2": {"since": "2026-12-05T18:40:00.250Z", "until": "2026-12-05T18:42:00Z",
                          "once": true},
            "::1": {"until_quit": true}}, "empty": {}}})");
}

void TestSettings::valid()
{
    QFETCH(QByteArray, text);
    const QJsonObject written = object(text);
    const Decoded<StreamgateSettings> d = decodeSettings(written);
    QVERIFY2(d.ok(), qPrintable(describe(d.problems)));
    // The keys the user wrote, and only those, with their values.
    QCOMPARE(compact(encodeSettings(d.value)), compact(written));
    // And as part of a whole config, which is how the file is read and written.
    const QJsonObject config{{"streamgate", written}};
    const Decoded<Config> whole = decodeConfig(config);
    QVERIFY2(whole.ok(), qPrintable(describe(whole.problems)));
    QVERIFY(whole.value.streamgate == d.value);
    QCOMPARE(compact(encodeConfig(whole.value)), compact(config));
}

void TestSettings::invalid_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("problem"); // the first problem's text
    QTest::addColumn<QString>("value");   // and its value

    const QString top =
        QStringLiteral("(known: admin, prometheus, mysql_inspect, postgres_inspect, routes, "
                       "disabled_routes, toxiproxy, toxics, control, access_log, real_ip_from, "
                       "ssl_trusted_certificate, allow_expiry)");

    // wrong type
    QTest::newRow("section not an object")
        << QByteArray("[]") << "streamgate: wrong type: expected object, got array"
        << "[]";
    QTest::newRow("admin not an object")
        << QByteArray(R"({"admin": "127.0.0.1:9180"})")
        << "streamgate.admin: wrong type: expected object, got string"
        << "127.0.0.1:9180";
    QTest::newRow("admin.listen a number")
        << QByteArray(R"({"admin": {"listen": 9180}})")
        << "streamgate.admin.listen: wrong type: expected string, got integer"
        << "9180";
    QTest::newRow("admin.key a number")
        << QByteArray(R"({"admin": {"key": 42}})")
        << "streamgate.admin.key: wrong type: expected string, got integer"
        << "42";
    QTest::newRow("prometheus not an object")
        << QByteArray(R"({"prometheus": true})")
        << "streamgate.prometheus: wrong type: expected object, got boolean"
        << "true";
    QTest::newRow("prometheus.listen null")
        << QByteArray(R"({"prometheus": {"listen": null}})")
        << "streamgate.prometheus.listen: wrong type: expected string, got null"
        << "null";
    QTest::newRow("mysql_inspect a string")
        << QByteArray(R"({"mysql_inspect": "yes"})")
        << "streamgate.mysql_inspect: wrong type: expected boolean, got string"
        << "yes";
    QTest::newRow("routes an array") << QByteArray(R"({"routes": []})")
                                     << "streamgate.routes: wrong type: expected object, got array"
                                     << "[]";
    QTest::newRow("database_server_tls unknown value")
        << QByteArray(R"({"routes": {"pg": {"database_tls": true, "database_server_tls": "on"}}})")
        << "streamgate.routes.pg.database_server_tls: must be \"off\", \"prefer\", \"require\" "
           "or \"verify\""
        << "on";
    QTest::newRow("database_server_tls without database_tls")
        << QByteArray(R"({"routes": {"pg": {"database_server_tls": "require"}}})")
        << "streamgate.routes.pg.database_server_tls: takes effect only with database_tls: true "
           "(without it the client's own TLS, or none, goes to the server)"
        << "require";
    QTest::newRow("route settings not an object")
        << QByteArray(R"({"routes": {"db": true}})")
        << "streamgate.routes.db: wrong type: expected object, got boolean"
        << "true";
    QTest::newRow("route mysql_commands a number")
        << QByteArray(R"({"routes": {"db": {"mysql_commands": 1}}})")
        << "streamgate.routes.db.mysql_commands: wrong type: expected boolean, got integer"
        << "1";
    QTest::newRow("disabled_routes an object")
        << QByteArray(R"({"disabled_routes": {}})")
        << "streamgate.disabled_routes: wrong type: expected array, got object"
        << "{}";
    QTest::newRow("disabled route not an object")
        << QByteArray(R"({"disabled_routes": ["db"]})")
        << "streamgate.disabled_routes[0]: wrong type: expected object, got string"
        << "db";
    QTest::newRow("disabled route protocol a number")
        << disabled(R"(, "protocol": 6)")
        << "streamgate.disabled_routes[0].protocol: wrong type: expected string, got integer"
        << "6";
    QTest::newRow("disabled route fault a string")
        << disabled(R"(, "fault": "yes")")
        << "streamgate.disabled_routes[0].fault: wrong type: expected boolean, got string"
        << "yes";
    QTest::newRow("disabled route listen a number")
        << disabled(R"(, "listen": 13306)")
        << "streamgate.disabled_routes[0].listen: wrong type: expected string, got integer"
        << "13306";

    QTest::newRow("access_log not an object")
        << QByteArray(R"({"access_log": "on"})")
        << "streamgate.access_log: wrong type: expected object, got string"
        << "on";
    QTest::newRow("access_log.interim_interval below a second")
        << QByteArray(R"({"access_log": {"interim_interval": 0}})")
        << "streamgate.access_log.interim_interval: must be an integer from 1 to 86400"
        << "0";
    QTest::newRow("access_log.interim_interval a fraction")
        << QByteArray(R"({"access_log": {"interim_interval": 0.5}})")
        << "streamgate.access_log.interim_interval: must be an integer from 1 to 86400"
        << "0.5";
    QTest::newRow("access_log.enable a string")
        << QByteArray(R"({"access_log": {"enable": "no"}})")
        << "streamgate.access_log.enable: wrong type: expected boolean, got string"
        << "no";
    QTest::newRow("access_log.format a number")
        << QByteArray(R"({"access_log": {"format": 7}})")
        << "streamgate.access_log.format: wrong type: expected string, got integer"
        << "7";

    // out of range, invalid
    QTest::newRow("access_log.format with an unknown variable")
        << QByteArray(R"({"access_log": {"format": "$remote_addr $request"}})")
        << "streamgate.access_log.format: unknown variable \"$request\" (known: $remote_addr, "
           "$remote_port, $server_addr, $server_port, $protocol, $status, $bytes_sent, "
           "$bytes_received, $session_time, $upstream_addr, $upstream_bytes_sent, "
           "$upstream_bytes_received, $upstream_connect_time, $upstream_first_byte_time, "
           "$time_local, $time_iso8601, $proxy_protocol_addr, $proxy_protocol_port, "
           "$proxy_protocol_server_addr, $proxy_protocol_server_port, $realip_remote_addr, "
           "$realip_remote_port, $route_id, $close_reason, $streamgate_closed_by, "
           "$streamgate_close_phase, $streamgate_first_byte_up_time, "
           "$streamgate_first_byte_down_time, $streamgate_session_state)"
        << "$remote_addr $request";
    QTest::newRow("access_log.format with $$")
        << QByteArray(R"({"access_log": {"format": "$$"}})")
        << "streamgate.access_log.format: \"$\" at character 1 starts no variable name: write "
           "$name or ${name} (as in nginx, a \"$\" cannot be written as text)"
        << "$$";
    QTest::newRow("access_log.format bracket not closed")
        << QByteArray(R"({"access_log": {"format": "${status"}})")
        << "streamgate.access_log.format: the closing bracket in \"${status\" is missing"
        << "${status";
    QTest::newRow("access_log.format empty")
        << QByteArray(R"({"access_log": {"format": ""}})")
        << "streamgate.access_log.format: must not be empty (streamgate.access_log.enable: "
           "false turns the log off)"
        << "";
    QTest::newRow("access_log.format too long")
        << QByteArray(R"({"access_log": {"format": ")" + QByteArray(5000, 'x') + R"("}})")
        << "streamgate.access_log.format: must be at most 4096 characters, got 5000"
        << QString(5000, 'x');
    QTest::newRow("admin.listen port out of range")
        << QByteArray(R"({"admin": {"listen": "127.0.0.1:99999"}})")
        << "streamgate.admin.listen: \"127.0.0.1:99999\" has an invalid port (0-65535)"
        << "127.0.0.1:99999";
    QTest::newRow("admin.listen negative port")
        << QByteArray(R"({"admin": {"listen": "-1"}})")
        << "streamgate.admin.listen: \"-1\" has an invalid port (0-65535)"
        << "-1";
    QTest::newRow("admin.listen host name")
        << QByteArray(R"({"admin": {"listen": "example.org:9180"}})")
        << "streamgate.admin.listen: \"example.org:9180\" has an invalid IP address"
        << "example.org:9180";
    QTest::newRow("admin.listen empty")
        << QByteArray(R"({"admin": {"listen": ""}})")
        << "streamgate.admin.listen: \"\" is empty; expected ip:port, [ipv6]:port or a port"
        << "";
    QTest::newRow("prometheus.listen bare ipv6")
        << QByteArray(R"({"prometheus": {"listen": "::1:9091"}})")
        << "streamgate.prometheus.listen: \"::1:9091\" is ambiguous; write IPv6 addresses as "
           "[ipv6]:port"
        << "::1:9091";
    QTest::newRow("prometheus.listen port not a number")
        << QByteArray(R"({"prometheus": {"listen": "127.0.0.1:http"}})")
        << "streamgate.prometheus.listen: \"127.0.0.1:http\" has an invalid port (0-65535)"
        << "127.0.0.1:http";
    QTest::newRow("control.listen host name")
        << QByteArray(R"({"control": {"listen": "example.org:9090"}})")
        << "streamgate.control.listen: \"example.org:9090\" has an invalid IP address"
        << "example.org:9090";
    QTest::newRow("disabled route protocol unknown")
        << disabled(R"(, "protocol": "sctp")")
        << "streamgate.disabled_routes[0].protocol: must be \"tcp\" or \"udp\""
        << "sctp";
    QTest::newRow("disabled route without its route")
        << QByteArray(R"({"disabled_routes": [{"protocol": "tcp"}]})")
        << "streamgate.disabled_routes[0].route: property \"route\" is required"
        << "";
    QTest::newRow("disabled route invalid")
        << QByteArray(R"({"disabled_routes": [{"route": {"id": "db", "server_port": 0}}]})")
        << "streamgate.disabled_routes[0].route.server_port: must be an integer from 1 to 65535"
        << "0";

    // unknown keys, top level and nested
    QTest::newRow("unknown top-level key")
        << QByteArray(R"({"ui": {"theme": "dark"}})")
        << "streamgate.ui: unknown setting \"ui\" " + top << "{\"theme\":\"dark\"}";
    QTest::newRow("unknown admin key")
        << QByteArray(R"({"admin": {"port": 9180}})")
        << "streamgate.admin.port: unknown setting \"port\" (known: listen, key)"
        << "9180";
    QTest::newRow("unknown access_log key")
        << QByteArray(R"({"access_log": {"path": "logs/access_stream.log"}})")
        << "streamgate.access_log.path: unknown setting \"path\" (known: enable, format, "
           "interim_interval)"
        << "logs/access_stream.log";
    QTest::newRow("unknown prometheus key")
        << QByteArray(R"({"prometheus": {"path": "/metrics"}})")
        << "streamgate.prometheus.path: unknown setting \"path\" (known: listen)"
        << "/metrics";
    QTest::newRow("unknown control key")
        << QByteArray(R"({"control": {"port": 9090}})")
        << "streamgate.control.port: unknown setting \"port\" (known: listen)"
        << "9090";
    QTest::newRow("unknown route setting")
        << QByteArray(R"({"routes": {"db": {"mysql": true}}})")
        << "streamgate.routes.db.mysql: unknown setting \"mysql\" (known: mysql_inspect, "
           "mysql_commands, mysql_digests, postgres_inspect, postgres_digests, database_tls, "
           "database_server_tls)"
        << "true";
    QTest::newRow("unknown disabled route key")
        << disabled(R"(, "enabled": false)")
        << "streamgate.disabled_routes[0].enabled: unknown setting \"enabled\" (known: route, "
           "protocol, listen, fault)"
        << "false";
    QTest::newRow("toxic names unique per route")
        << QByteArray(R"({"toxics": {"db": [{"name": "a", "type": "timeout"},
                                            {"name": "a", "type": "slicer"}]}})")
        << "streamgate.toxics.db[1].name: toxic already exists: names are unique per route"
        << "a";
    QTest::newRow("unknown toxic attribute")
        << QByteArray(R"({"toxics": {"db": [{"type": "bandwidth", "attributes": {"kbps": 5}}]}})")
        << "streamgate.toxics.db[0].attributes.kbps: unknown attribute of a bandwidth toxic "
           "(known: rate)"
        << "5";
    QTest::newRow("toxicity beyond 1")
        << QByteArray(R"({"toxics": {"db": [{"type": "timeout", "toxicity": 1.5}]}})")
        << "streamgate.toxics.db[0].toxicity: must be a number from 0 to 1, got 1.5"
        << "1.5";
    QTest::newRow("toxic client not an address")
        << QByteArray(R"({"toxics": {"db": [{"type": "latency",
                                             "clients": ["127.0.0.2", "10.0.0.0/33"]}]}})")
        << "streamgate.toxics.db[0].clients[1]: invalid ip address or CIDR: 10.0.0.0/33"
        << "10.0.0.0/33";
    QTest::newRow("toxic client a number")
        << QByteArray(R"({"toxics": {"db": [{"type": "latency", "clients": [7]}]}})")
        << "streamgate.toxics.db[0].clients[0]: must be an IP address or CIDR text, got integer"
        << "7";
    QTest::newRow("toxic clients not a list")
        << QByteArray(R"({"toxics": {"db": [{"type": "latency", "clients": "127.0.0.2"}]}})")
        << "streamgate.toxics.db[0].clients: must be an array of IP addresses or CIDRs, got string"
        << "127.0.0.2";
    QTest::newRow("query toxic pattern not a regular expression")
        << QByteArray(R"({"toxics": {"db": [{"type": "mysql_error",
                                             "attributes": {"match": "(UPDATE"}}]}})")
        << "streamgate.toxics.db[0].attributes.match: invalid regular expression: missing "
           "closing parenthesis at offset 7"
        << "(UPDATE";
    QTest::newRow("query toxic unknown command")
        << QByteArray(R"({"toxics": {"db": [{"type": "mysql_close",
                                             "attributes": {"command": "COM_QUIT"}}]}})")
        << "streamgate.toxics.db[0].attributes.command: unknown MySQL command (known: "
           "COM_QUERY, COM_STMT_PREPARE, COM_STMT_EXECUTE, COM_STMT_FETCH, COM_STMT_RESET, "
           "COM_INIT_DB, COM_PING, COM_FIELD_LIST, COM_STATISTICS, COM_PROCESS_INFO, "
           "COM_PROCESS_KILL, COM_SET_OPTION, COM_RESET_CONNECTION, COM_CREATE_DB, COM_DROP_DB, "
           "COM_REFRESH, COM_DEBUG, COM_STMT_BULK_EXECUTE)"
        << "COM_QUIT";
    QTest::newRow("query toxic error code 0")
        << QByteArray(R"({"toxics": {"db": [{"type": "mysql_error",
                                             "attributes": {"code": 0}}]}})")
        << "streamgate.toxics.db[0].attributes.code: must be a MySQL error code, 1 to 65535"
        << "0";
    QTest::newRow("query toxic SQLSTATE of four")
        << QByteArray(R"({"toxics": {"db": [{"type": "mysql_error",
                                             "attributes": {"sqlstate": "4000"}}]}})")
        << "streamgate.toxics.db[0].attributes.sqlstate: must be 5 digits or capital letters "
           "(as 40001)"
        << "4000";
    QTest::newRow("query toxic user a number")
        << QByteArray(R"({"toxics": {"db": [{"type": "mysql_latency",
                                             "attributes": {"user": 7}}]}})")
        << "streamgate.toxics.db[0].attributes.user: must be a text, got integer"
        << "7";
    QTest::newRow("allow_expiry client a CIDR")
        << QByteArray(R"({"allow_expiry": {"db": {"10.0.0.0/8": {"until_quit": true}}}})")
        << "streamgate.allow_expiry.db[\"10.0.0.0/8\"]: a client is one IP address"
        << "10.0.0.0/8";
    QTest::newRow("allow_expiry until without a zone")
        << QByteArray(R"({"allow_expiry": {"db": {"10.0.0.5": {"until": "2026-12-05 19:40"}}}})")
        << "streamgate.allow_expiry.db[\"10.0.0.5\"].until: must be an ISO 8601 time with its "
           "zone, "
           "as \"2026-12-05T19:40:00Z\""
        << "2026-12-05 19:40";
    QTest::newRow("allow_expiry with no end")
        << QByteArray(R"({"allow_expiry": {"db": {"10.0.0.5": {"once": true}}}})")
        << "streamgate.allow_expiry.db[\"10.0.0.5\"]: needs \"until\" or \"until_quit\": true"
        << R"({"once":true})";
    QTest::newRow("allow_expiry with two ends")
        << QByteArray(R"({"allow_expiry": {"db": {"10.0.0.5": {"until_quit": true,
                                                              "until": "2026-12-05T19:40:00Z"}}}})")
        << "streamgate.allow_expiry.db[\"10.0.0.5\"]: \"until\" and \"until_quit\" exclude each "
           "other"
        << R"({"until":"2026-12-05T19:40:00Z","until_quit":true})";
    QTest::newRow("allow_expiry unknown key")
        << QByteArray(R"({"allow_expiry": {"db": {"10.0.0.5": {"for": 3600}}}})")
        << "streamgate.allow_expiry.db[\"10.0.0.5\"].for: unknown setting \"for\" (known: since, "
           "until, once, until_quit)"
        << "3600";
    QTest::newRow("toxic enabled a string")
        << QByteArray(R"({"toxics": {"db": [{"type": "latency", "enabled": "no"}]}})")
        << "streamgate.toxics.db[0].enabled: must be true or false, got string"
        << "no";
}

void TestSettings::invalid()
{
    QFETCH(QByteArray, text);
    QFETCH(QString, problem);
    QFETCH(QString, value);
    const Decoded<StreamgateSettings> d = decodeSettings(json(text));
    QVERIFY(!d.ok());
    QCOMPARE(d.problems.first().text(), problem);
    QCOMPARE(d.problems.first().value, value);
    // The whole config is refused with the same problem.
    const Decoded<Config> whole = decodeConfig(QJsonObject{{"streamgate", json(text)}});
    QVERIFY(whole.problems.contains(d.problems.first()));
}

void TestSettings::inEffect_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<bool>("inspect");  // for route "db"
    QTest::addColumn<bool>("commands"); // for route "db"
    QTest::addColumn<bool>("otherInspect");

    QTest::newRow("nothing written") << QByteArray("{}") << true << false << true;
    QTest::newRow("inspection off everywhere")
        << QByteArray(R"({"mysql_inspect": false})") << false << false << false;
    QTest::newRow("off everywhere, on for db")
        << QByteArray(R"({"mysql_inspect": false, "routes": {"db": {"mysql_inspect": true}}})")
        << true << false << false;
    QTest::newRow("off for db only")
        << QByteArray(R"({"routes": {"db": {"mysql_inspect": false}}})") << false << false << true;
    QTest::newRow("commands imply inspection")
        << QByteArray(R"({"mysql_inspect": false, "routes": {"db": {"mysql_inspect": false,
                                                                    "mysql_commands": true}}})")
        << true << true << false;
    QTest::newRow("digests imply commands and inspection")
        << QByteArray(R"({"mysql_inspect": false, "routes": {"db": {"mysql_digests": true}}})")
        << true << true << false;
}

void TestSettings::inEffect()
{
    QFETCH(QByteArray, text);
    QFETCH(bool, inspect);
    QFETCH(bool, commands);
    QFETCH(bool, otherInspect);
    const Decoded<StreamgateSettings> d = decodeSettings(json(text));
    QVERIFY2(d.ok(), qPrintable(describe(d.problems)));
    QCOMPARE(d.value.mysqlInspectFor(QStringLiteral("db")), inspect);
    QCOMPARE(d.value.mysqlCommandsFor(QStringLiteral("db")), commands);
    QCOMPARE(d.value.mysqlInspectFor(QStringLiteral("other")), otherInspect);
    QCOMPARE(d.value.mysqlCommandsFor(QStringLiteral("other")), false);
    QCOMPARE(d.value.mysqlDigestsFor(QStringLiteral("db")), text.contains("mysql_digests"));
    QCOMPARE(d.value.mysqlDigestsFor(QStringLiteral("other")), false);
    // Written on the route, any of the three says the route fronts MySQL.
    QCOMPARE(d.value.mysqlDeclaredFor(QStringLiteral("db")),
             text.contains(R"("db": {"mysql_inspect": true)") || commands);
    QCOMPARE(d.value.mysqlDeclaredFor(QStringLiteral("other")), false);
}

void TestSettings::postgresInEffect_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<bool>("inspect"); // for route "db"
    QTest::addColumn<bool>("digests"); // for route "db"
    QTest::addColumn<bool>("otherInspect");

    QTest::newRow("nothing written") << QByteArray("{}") << true << false << true;
    QTest::newRow("off everywhere")
        << QByteArray(R"({"postgres_inspect": false})") << false << false << false;
    QTest::newRow("off everywhere, on for db")
        << QByteArray(
               R"({"postgres_inspect": false, "routes": {"db": {"postgres_inspect": true}}})")
        << true << false << false;
    QTest::newRow("off for db only")
        << QByteArray(R"({"routes": {"db": {"postgres_inspect": false}}})") << false << false
        << true;
    QTest::newRow("digests imply inspection")
        << QByteArray(R"({"postgres_inspect": false, "routes": {"db": {"postgres_inspect": false,
                                                                       "postgres_digests": true}}})")
        << true << true << false;
    QTest::newRow("MySQL's settings leave it alone")
        << QByteArray(R"({"mysql_inspect": false, "routes": {"db": {"mysql_digests": true}}})")
        << true << false << true;
}

void TestSettings::postgresInEffect()
{
    QFETCH(QByteArray, text);
    QFETCH(bool, inspect);
    QFETCH(bool, digests);
    QFETCH(bool, otherInspect);
    const Decoded<StreamgateSettings> d = decodeSettings(json(text));
    QVERIFY2(d.ok(), qPrintable(describe(d.problems)));
    QCOMPARE(d.value.postgresInspectFor(QStringLiteral("db")), inspect);
    QCOMPARE(d.value.postgresDigestsFor(QStringLiteral("db")), digests);
    QCOMPARE(d.value.postgresInspectFor(QStringLiteral("other")), otherInspect);
    QCOMPARE(d.value.postgresDigestsFor(QStringLiteral("other")), false);
    // Written back as it was read.
    QCOMPARE(encodeSettings(d.value), json(text));
}

void TestSettings::rebasePerSection()
{
    // The window changed the admin key while the file on disk gained a metrics address: both
    // survive; a section the edit removed is removed.
    const auto settings = [](const QByteArray& text) {
        const Decoded<StreamgateSettings> d = decodeSettings(json(text));
        if (!d.ok())
            qFatal("bad settings in test data: %s", qPrintable(describe(d.problems)));
        return d.value;
    };
    const StreamgateSettings base = settings(R"({"admin": {"key": "a"}, "mysql_inspect": false})");
    const StreamgateSettings next = settings(R"({"admin": {"key": "b"}})");
    const StreamgateSettings onto = settings(
        R"({"admin": {"key": "a"}, "mysql_inspect": false, "prometheus": {"listen": "9092"}})");
    const StreamgateSettings result = rebaseSettings(base, next, onto);
    QCOMPARE(compact(encodeSettings(result)),
             compact(object(R"({"admin": {"key": "b"}, "prometheus": {"listen": "9092"}})")));
}

void TestSettings::pathsSpelledFromKeys()
{
    QCOMPARE(settingPath({settingkey::Admin, settingkey::Listen}),
             QStringLiteral("streamgate.admin.listen"));
    QCOMPARE(settingPath({settingkey::Prometheus, settingkey::Listen}),
             QStringLiteral("streamgate.prometheus.listen"));
    StreamgateSettings s;
    s.mysqlInspect = false;
    s.disabledRoutes = QList<DisabledRouteSettings>{};
    QCOMPARE(settingKeys(s), (QStringList{"disabled_routes", "mysql_inspect"}));
}

void TestSettings::toxicDefaultsLeftOut()
{
    // Toxiproxy's clients see the shape they know: no "clients" while it is empty, no
    // "enabled" while it is true; a file written with them reads back the same.
    ToxicSpec toxic;
    toxic.name = QStringLiteral("slow");
    QVERIFY(!encodeToxic(toxic).contains(QStringLiteral("clients")));
    QVERIFY(!encodeToxic(toxic).contains(QStringLiteral("enabled")));
    QCOMPARE(encodeToxic(toxic).keys(),
             (QStringList{"attributes", "name", "stream", "toxicity", "type"}));

    ToxicSpec scoped = toxic;
    scoped.clients = {QStringLiteral("127.0.0.2/32")};
    scoped.enabled = false;
    QVERIFY(!(scoped == toxic));
    const QJsonObject o = encodeToxic(scoped);
    QCOMPARE(o.value(QStringLiteral("clients")).toArray(), QJsonArray{"127.0.0.2/32"});
    QCOMPARE(o.value(QStringLiteral("enabled")), QJsonValue(false));
    ToxicSpec back;
    const Problems problems = decodeToxic(o, QStringLiteral("t"), ToxicInput::File, &back);
    QVERIFY2(problems.isEmpty(), qPrintable(describe(problems)));
    QVERIFY(back == scoped);

    // Through Toxiproxy's API the same fields are taken.
    ToxicSpec viaApi;
    QVERIFY(decodeToxic(object(R"({"type": "latency", "clients": ["::1"], "enabled": false})"), {},
                        ToxicInput::Api, &viaApi)
                .isEmpty());
    QCOMPARE(viaApi.clients, QStringList{"::1"});
    QCOMPARE(viaApi.enabled, false);
}

void TestSettings::toxicUpdateTakesClientsAndEnabled()
{
    ToxicSpec toxic;
    toxic.name = QStringLiteral("slow");
    toxic.attributes[0] = 100;
    toxic.clients = {QStringLiteral("10.0.0.1")};

    ToxicSpec t = toxic;
    Problems problems = decodeToxicUpdate(
        object(R"({"enabled": false, "clients": ["127.0.0.2", "::1/128"]})"), {}, &t);
    QVERIFY2(problems.isEmpty(), qPrintable(describe(problems)));
    QCOMPARE(t.enabled, false);
    QCOMPARE(t.clients, (QStringList{"127.0.0.2", "::1/128"}));
    QCOMPARE(t.attribute("latency"), 100);

    // An empty list widens the toxic to every client again.
    problems = decodeToxicUpdate(object(R"({"clients": [], "enabled": true})"), {}, &t);
    QVERIFY2(problems.isEmpty(), qPrintable(describe(problems)));
    QVERIFY(t.clients.isEmpty());
    QCOMPARE(t.enabled, true);

    // A bad update changes nothing and names every bad field.
    t = toxic;
    problems = decodeToxicUpdate(object(R"({"enabled": 1, "clients": ["::1", "nope"]})"),
                                 QStringLiteral("body"), &t);
    QCOMPARE(problems.size(), 2);
    QCOMPARE(problems.at(0).text(),
             QStringLiteral("body.clients[1]: invalid ip address or CIDR: nope"));
    QCOMPARE(problems.at(0).value, QStringLiteral("nope"));
    QCOMPARE(problems.at(1).text(),
             QStringLiteral("body.enabled: must be true or false, got integer"));
    QVERIFY(t == toxic);
}

// The log is on by default (APISIX's is off), and the format is the written one or none.
void TestSettings::accessLogInEffect()
{
    QVERIFY(StreamgateSettings{}.accessLogEnabled());
    QCOMPARE(StreamgateSettings{}.accessLogFormat(), QString());
    const Decoded<StreamgateSettings> d =
        decodeSettings(json(R"({"access_log": {"enable": false, "format": "$status"}})"));
    QVERIFY2(d.ok(), qPrintable(describe(d.problems)));
    QVERIFY(!d.value.accessLogEnabled());
    QCOMPARE(d.value.accessLogFormat(), QStringLiteral("$status"));
    const Decoded<StreamgateSettings> on = decodeSettings(json(R"({"access_log": {}})"));
    QVERIFY(on.value.accessLogEnabled());
}

QTEST_GUILESS_MAIN(TestSettings)
#include "tst_settings.moc"
