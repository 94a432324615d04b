#include "model/accesslogformat.h"

#include <QStringList>
#include <array>

namespace sg {

namespace {

constexpr std::array<const char*, size_t(AccessLogVariable::Count)> kNames{
    "remote_addr",
    "remote_port",
    "server_addr",
    "server_port",
    "protocol",
    "status",
    "bytes_sent",
    "bytes_received",
    "session_time",
    "upstream_addr",
    "upstream_bytes_sent",
    "upstream_bytes_received",
    "upstream_connect_time",
    "upstream_first_byte_time",
    "time_local",
    "time_iso8601",
    "proxy_protocol_addr",
    "proxy_protocol_port",
    "proxy_protocol_server_addr",
    "proxy_protocol_server_port",
    "realip_remote_addr",
    "realip_remote_port",
    "mqtt_client_id",
    "route_id",
    "close_reason",
    "streamgate_closed_by",
    "streamgate_close_phase",
    "streamgate_first_byte_up_time",
    "streamgate_first_byte_down_time",
    "streamgate_session_state",
};

bool isNameChar(QChar c)
{
    const char16_t u = c.unicode();
    return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_';
}

} // namespace

bool isStreamgateAccessLogVariable(AccessLogVariable variable)
{
    return variable >= AccessLogVariable::RouteId && variable < AccessLogVariable::Count;
}

QString accessLogVariableList(LogFormatKind kind)
{
    QStringList names;
    for (size_t i = 0; i < kNames.size(); ++i)
        if (kind == LogFormatKind::PluginLog ||
            AccessLogVariable(i) != AccessLogVariable::MqttClientId)
            names << QLatin1Char('$') + QLatin1String(kNames[i]);
    return names.join(QStringLiteral(", "));
}

AccessLogVariable accessLogVariableNamed(QStringView name)
{
    for (size_t i = 0; i < kNames.size(); ++i)
        if (name.compare(QLatin1String(kNames[i]), Qt::CaseInsensitive) == 0)
            return AccessLogVariable(i);
    return AccessLogVariable::Count;
}

QLatin1String accessLogVariableName(AccessLogVariable variable)
{
    const size_t i = size_t(variable);
    return i < kNames.size() ? QLatin1String(kNames[i]) : QLatin1String();
}

QString apisixAccessLogFormat()
{
    return QStringLiteral(
        "$remote_addr [$time_local] $protocol $status $bytes_sent $bytes_received $session_time");
}

ParsedAccessLogFormat parseAccessLogFormat(QStringView text)
{
    ParsedAccessLogFormat result;
    if (text.size() > kAccessLogFormatMaxLength) {
        result.error = QStringLiteral("must be at most %1 characters, got %2")
                           .arg(kAccessLogFormatMaxLength)
                           .arg(text.size());
        return result;
    }
    if (text.isEmpty()) {
        result.error = QStringLiteral(
            "must not be empty (streamgate.access_log.enable: false turns the log off)");
        return result;
    }
    QList<AccessLogFormat::Part>& parts = result.format.parts;
    qsizetype i = 0;
    const qsizetype n = text.size();
    while (i < n) {
        if (text[i] != QLatin1Char('$')) {
            const qsizetype start = i;
            while (i < n && text[i] != QLatin1Char('$'))
                ++i;
            // A text part runs to the next '$', so two never follow each other.
            parts.append({text.mid(start, i - start).toString(), AccessLogVariable::Count});
            continue;
        }
        const qsizetype dollar = i++;
        const bool bracket = i < n && text[i] == QLatin1Char('{');
        if (bracket)
            ++i;
        const qsizetype nameStart = i;
        while (i < n && isNameChar(text[i]))
            ++i;
        const QStringView name = text.mid(nameStart, i - nameStart);
        if (bracket) {
            if (i >= n || text[i] != QLatin1Char('}')) {
                result.error = QStringLiteral("the closing bracket in \"%1\" is missing")
                                   .arg(text.mid(dollar, i - dollar));
                return result;
            }
            ++i;
        }
        if (name.isEmpty()) {
            result.error =
                QStringLiteral("\"%1\" at character %2 starts no variable name: write $name or "
                               "${name} (as in nginx, a \"$\" cannot be written as text)")
                    .arg(text.mid(dollar, i - dollar))
                    .arg(dollar + 1);
            return result;
        }
        const AccessLogVariable variable = accessLogVariableNamed(name);
        if (variable == AccessLogVariable::Count) {
            result.error = QStringLiteral("unknown variable \"$%1\" (known: %2)")
                               .arg(name, accessLogVariableList());
            return result;
        }
        if (variable == AccessLogVariable::MqttClientId) {
            result.error = QStringLiteral("\"$%1\" is APISIX's context variable (mqtt-proxy sets "
                                          "it), which nginx's access log format cannot use; "
                                          "syslog's log_format can")
                               .arg(name);
            return result;
        }
        parts.append({QString(), variable});
    }
    return result;
}

} // namespace sg
