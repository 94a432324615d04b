#pragma once
// The access log's line format (streamgate.access_log.format), written as nginx's log_format
// and APISIX's nginx_config.stream.access_log_format: text is copied as it is, `$name` and
// `${name}` are variables. A name is ASCII letters, digits and underscores and is matched
// without regard to case, as in nginx; `${name}` lets a name run into text (`${server_port}x`).
// nginx has no escape for '$': a '$' that starts no name ("$$", "$ ", a trailing "$", "${}")
// is refused, as are an unknown name and a '{' without its '}'. The format is parsed once, when
// the config is read, so an error shows in `--check` and never at log time; a format longer
// than kAccessLogFormatMaxLength is refused before it is read.

#include <QList>
#include <QString>
#include <QStringView>

namespace sg {

// nginx stream / APISIX names, then Streamgate's own: route_id, close_reason and the
// streamgate_* names (a prefix no nginx or APISIX variable has, so they never mean something
// else there).
enum class AccessLogVariable : quint8 {
    RemoteAddr,
    RemotePort,
    ServerAddr,
    ServerPort,
    Protocol,
    Status,
    BytesSent,
    BytesReceived,
    SessionTime,
    UpstreamAddr,
    UpstreamBytesSent,
    UpstreamBytesReceived,
    UpstreamConnectTime,
    UpstreamFirstByteTime,
    TimeLocal,
    TimeIso8601,
    ProxyProtocolAddr, // "-" on a listener without proxy_protocol, as nginx logs an unset one
    ProxyProtocolPort,
    ProxyProtocolServerAddr,
    ProxyProtocolServerPort,
    RealipRemoteAddr, // the TCP peer (the tunnel or balancer when a trusted header came)
    RealipRemotePort,
    // APISIX's own context variable (mqtt-proxy registers it): plugin log formats (syslog's
    // log_format) have it, nginx's access log format does not.
    MqttClientId,
    RouteId,
    CloseReason,
    ClosedBy,          // streamgate_closed_by: client, upstream, proxy ("-" while open)
    ClosePhase,        // streamgate_close_phase: admission, connect, before_first_byte, data
    FirstByteUpTime,   // streamgate_first_byte_up_time: the client's first byte, after the start
    FirstByteDownTime, // streamgate_first_byte_down_time: the upstream's, after the start
    SessionState,      // streamgate_session_state: "open" on an interim line, else "closed"
    Count
};

// route_id, close_reason and the streamgate_* ones: APISIX's stream access log has none of them.
bool isStreamgateAccessLogVariable(AccessLogVariable variable);
// What a format may hold: nginx's access log format only nginx's variables and Streamgate's;
// a plugin's log format (syslog) also APISIX's context variables.
enum class LogFormatKind : quint8 { AccessLog, PluginLog };

// "remote_addr", ... (no '$').
QLatin1String accessLogVariableName(AccessLogVariable variable);
// The variable called `name` (no '$', any case, as nginx matches it), or Count.
AccessLogVariable accessLogVariableNamed(QStringView name);
// "$remote_addr, $remote_port, ...": every name a format of that kind may hold, for an error
// that lists them.
QString accessLogVariableList(LogFormatKind kind = LogFormatKind::AccessLog);

inline constexpr qsizetype kAccessLogFormatMaxLength = 4096;

// APISIX's default nginx_config.stream.access_log_format (apisix/cli/config.lua).
QString apisixAccessLogFormat();

struct AccessLogFormat
{
    // Text, or a variable (text empty).
    struct Part
    {
        QString text;
        AccessLogVariable variable = AccessLogVariable::Count; // Count: this part is text
        bool isVariable() const { return variable != AccessLogVariable::Count; }
        bool operator==(const Part&) const = default;
    };
    QList<Part> parts;
    bool operator==(const AccessLogFormat&) const = default;
};

struct ParsedAccessLogFormat
{
    AccessLogFormat format;
    QString error; // empty when the text is a valid format
    bool ok() const { return error.isEmpty(); }
};

// Adjacent text is kept as one part. The error names the variable or the position and, for an
// unknown name, lists the known ones.
ParsedAccessLogFormat parseAccessLogFormat(QStringView text);

} // namespace sg
