// The access log's format parser (streamgate.access_log.format): nginx's rules for $name and
// ${name}, text copied as it is, every known variable found by its nginx/APISIX name in any
// case, and each refusal with a reason that names the variable or the position: an unknown name
// (with the known ones), a '$' that starts no name, a '{' without '}', an empty or too long
// format.

#include "model/accesslogformat.h"

#include <QTest>

using namespace sg;

namespace {

// "V:remote_addr T:[ ..." : the parts, one word each, for comparing in one string.
QString describe(const AccessLogFormat& format)
{
    QStringList out;
    for (const AccessLogFormat::Part& p : format.parts)
        out << (p.isVariable() ? QStringLiteral("V:") + accessLogVariableName(p.variable)
                               : QStringLiteral("T:") + p.text);
    return out.join(QLatin1Char('|'));
}

const QString kKnown = QStringLiteral(
    "$remote_addr, $remote_port, $server_addr, $server_port, $protocol, $status, $bytes_sent, "
    "$bytes_received, $session_time, $upstream_addr, $upstream_bytes_sent, "
    "$upstream_bytes_received, $upstream_connect_time, $upstream_first_byte_time, $time_local, "
    "$time_iso8601, $proxy_protocol_addr, $proxy_protocol_port, $proxy_protocol_server_addr, "
    "$proxy_protocol_server_port, $realip_remote_addr, $realip_remote_port, $route_id, "
    "$close_reason, $streamgate_closed_by, $streamgate_close_phase, "
    "$streamgate_first_byte_up_time, $streamgate_first_byte_down_time, "
    "$streamgate_session_state");

} // namespace

class TestAccessLogFormat : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void valid_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("parts");
        QTest::newRow("APISIX's default")
            << apisixAccessLogFormat()
            << "V:remote_addr|T: [|V:time_local|T:] |V:protocol|T: |V:status|T: |V:bytes_sent|T: "
               "|V:bytes_received|T: |V:session_time";
        QTest::newRow("braces let a name run into text") << "${server_port}x${remote_port}"
                                                         << "V:server_port|T:x|V:remote_port";
        QTest::newRow("a name ends at the first other character")
            << "$remote_addr:$remote_port-$status."
            << "V:remote_addr|T::|V:remote_port|T:-|V:status|T:.";
        QTest::newRow("names match in any case") << "$REMOTE_ADDR ${Upstream_Addr}"
                                                 << "V:remote_addr|T: |V:upstream_addr";
        QTest::newRow("text alone") << "no variables here"
                                    << "T:no variables here";
        QTest::newRow("text that is not ASCII")
            << QStringLiteral("→ $status ←") << QStringLiteral("T:→ |V:status|T: ←");
        QTest::newRow("quotes and braces in text")
            << R"(route="$route_id" {x} reason="$close_reason")"
            << R"(T:route="|V:route_id|T:" {x} reason="|V:close_reason|T:")";
        QTest::newRow("adjacent variables") << "$status$status"
                                            << "V:status|V:status";
        QTest::newRow("at the length cap")
            << QString(kAccessLogFormatMaxLength - 7, QLatin1Char('x')) + "$status"
            << "T:" + QString(kAccessLogFormatMaxLength - 7, QLatin1Char('x')) + "|V:status";
    }
    void valid()
    {
        QFETCH(QString, text);
        QFETCH(QString, parts);
        const ParsedAccessLogFormat parsed = parseAccessLogFormat(text);
        QVERIFY2(parsed.ok(), qPrintable(parsed.error));
        QCOMPARE(describe(parsed.format), parts);
    }

    // Every variable by its own name, plain and in braces.
    void everyVariable()
    {
        for (int i = 0; i < int(AccessLogVariable::Count); ++i) {
            const auto v = AccessLogVariable(i);
            const QString name = accessLogVariableName(v);
            QVERIFY(!name.isEmpty());
            if (v == AccessLogVariable::MqttClientId)
                continue; // APISIX's context variable: plugin log formats only (invalid_data)
            for (const QString& text : {"$" + name, "${" + name + "}"}) {
                const ParsedAccessLogFormat parsed = parseAccessLogFormat(text);
                QVERIFY2(parsed.ok(), qPrintable(text + ": " + parsed.error));
                QCOMPARE(parsed.format.parts.size(), 1);
                QCOMPARE(int(parsed.format.parts[0].variable), i);
            }
        }
        QVERIFY(kKnown.count(QLatin1Char('$')) == int(AccessLogVariable::Count) - 1);
        QVERIFY(accessLogVariableList(LogFormatKind::PluginLog).contains("$mqtt_client_id"));
    }

    void invalid_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("error");
        const QString noName = QStringLiteral(
            " starts no variable name: write $name or ${name} (as in nginx, a \"$\" cannot be "
            "written as text)");
        QTest::newRow("$$ (nginx has no escape)") << "cost: $$5"
                                                  << "\"$\" at character 7" + noName;
        QTest::newRow("trailing $") << "x $"
                                    << "\"$\" at character 3" + noName;
        QTest::newRow("$ before a space") << "$ status"
                                          << "\"$\" at character 1" + noName;
        QTest::newRow("empty braces") << "a ${} b"
                                      << "\"${}\" at character 3" + noName;
        QTest::newRow("closing bracket missing")
            << "$status ${remote_addr"
            << "the closing bracket in \"${remote_addr\" is missing";
        QTest::newRow("a character braces do not take")
            << "${remote-addr}"
            << "the closing bracket in \"${remote\" is missing";
        QTest::newRow("${ at the end") << "x ${"
                                       << "the closing bracket in \"${\" is missing";
        QTest::newRow("APISIX's context variable")
            << "$remote_addr $mqtt_client_id"
            << "\"$mqtt_client_id\" is APISIX's context variable (mqtt-proxy sets it), which "
               "nginx's access log format cannot use; syslog's log_format can";
        QTest::newRow("unknown variable")
            << "$remote_addr $upstream_status"
            << "unknown variable \"$upstream_status\" (known: " + kKnown + ")";
        QTest::newRow("a name that runs on")
            << "$remote_addrx"
            << "unknown variable \"$remote_addrx\" (known: " + kKnown + ")";
        QTest::newRow("unknown in braces")
            << "${request}"
            << "unknown variable \"$request\" (known: " + kKnown + ")";
        QTest::newRow("empty")
            << ""
            << "must not be empty (streamgate.access_log.enable: false turns the log off)";
        QTest::newRow("one character over the cap")
            << QString(kAccessLogFormatMaxLength + 1, QLatin1Char('x'))
            << QStringLiteral("must be at most %1 characters, got %2")
                   .arg(kAccessLogFormatMaxLength)
                   .arg(kAccessLogFormatMaxLength + 1);
        QTest::newRow("far over the cap, a bad variable in it")
            << "$nope" + QString(1 << 20, QLatin1Char('x'))
            << QStringLiteral("must be at most %1 characters, got %2")
                   .arg(kAccessLogFormatMaxLength)
                   .arg((1 << 20) + 5);
    }
    void invalid()
    {
        QFETCH(QString, text);
        QFETCH(QString, error);
        const ParsedAccessLogFormat parsed = parseAccessLogFormat(text);
        QVERIFY(!parsed.ok());
        QCOMPARE(parsed.error, error);
    }
};

QTEST_GUILESS_MAIN(TestAccessLogFormat)
#include "tst_accesslogformat.moc"
