#include "stats/accesslog.h"

#include <QDateTime>
#include <QLocale>
#include <charconv>
#include <limits>

namespace sg {

namespace {

qint64 secondOf(qint64 ms)
{
    return ms >= 0 ? ms / 1000 : -((999 - ms) / 1000);
}

// "+0100" (time_local) or "+01:00" (time_iso8601).
QString zoneText(int offsetSeconds, bool colon)
{
    return QStringLiteral("%1%2%3%4")
        .arg(offsetSeconds < 0 ? QLatin1Char('-') : QLatin1Char('+'))
        .arg(qAbs(offsetSeconds) / 3600, 2, 10, QLatin1Char('0'))
        .arg(colon ? QStringLiteral(":") : QString())
        .arg((qAbs(offsetSeconds) % 3600) / 60, 2, 10, QLatin1Char('0'));
}

// Local time with its offset is costly to work out, and a busy proxy writes many lines within
// one second: the text of the last second asked for is kept (per thread, per variable).
struct TimeCache
{
    qint64 second = std::numeric_limits<qint64>::min();
    QString text;
};

const QString& timeText(qint64 ms, bool iso)
{
    thread_local TimeCache caches[2];
    TimeCache& cache = caches[iso ? 1 : 0];
    const qint64 second = secondOf(ms);
    if (second == cache.second)
        return cache.text;
    const QDateTime t = QDateTime::fromMSecsSinceEpoch(second * 1000);
    // nginx $time_local: 27/Nov/2026:09:26:05 +0000 (English month names whatever the locale);
    // $time_iso8601: 2026-11-27T09:26:05+00:00
    cache.text = iso ? QLocale::c().toString(t, QStringLiteral("yyyy-MM-ddTHH:mm:ss")) +
                           zoneText(t.offsetFromUtc(), true)
                     : QLocale::c().toString(t, QStringLiteral("dd/MMM/yyyy:HH:mm:ss ")) +
                           zoneText(t.offsetFromUtc(), false);
    cache.second = second;
    return cache.text;
}

// A number in decimal, without the temporary string QString::number() allocates (a line has a
// dozen of them and the log writes one per connection).
template <typename Integer> void appendNumber(QString& out, Integer n)
{
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
    out += QLatin1StringView(digits, end - digits);
}

// nginx's "%T.%03M": seconds with milliseconds.
void appendSeconds(QString& out, qint64 ms)
{
    ms = qMax<qint64>(0, ms);
    appendNumber(out, ms / 1000);
    out += QLatin1Char('.');
    const int rest = int(ms % 1000);
    out += QLatin1Char(char('0' + rest / 100));
    out += QLatin1Char(char('0' + rest / 10 % 10));
    out += QLatin1Char(char('0' + rest % 10));
}

// A timer `atMs` counted from `fromMs` (both after the session's start), "-" when either is
// unknown (-1).
void appendTimer(QString& out, qint64 atMs, qint64 fromMs)
{
    if (atMs < 0 || fromMs < 0)
        out += QLatin1Char('-');
    else
        appendSeconds(out, atMs - fromMs);
}

void appendWord(QString& out, const QString& word)
{
    if (word.isEmpty())
        out += QLatin1Char('-');
    else
        out += word;
}

void appendAddress(QString& out, const QHostAddress& address)
{
    if (address.isNull()) {
        out += QLatin1Char('-');
    } else if (address.protocol() == QAbstractSocket::IPv4Protocol) {
        // As toString() writes it, without its temporaries.
        const quint32 ip = address.toIPv4Address();
        for (int shift = 24; shift >= 0; shift -= 8) {
            appendNumber(out, (ip >> shift) & 0xff);
            if (shift)
                out += QLatin1Char('.');
        }
    } else {
        out += address.toString();
    }
}

// A port from a PROXY protocol header: "-" when there was none (or it carried no address).
void appendPort(QString& out, quint16 port)
{
    if (port == 0)
        out += QLatin1Char('-');
    else
        appendNumber(out, port);
}

// The upstream variables: one value per connect attempt (the failed ones first, each with no
// connect time and no bytes), "-" when no upstream was tried.
template <typename Failed, typename Last>
void appendPerAttempt(QString& out, const ConnectionInfo& c, Failed failed, Last last)
{
    if (c.upstreamNode.isEmpty()) {
        out += QLatin1Char('-');
        return;
    }
    for (const QString& node : c.failedUpstreams) {
        failed(node);
        out += QLatin1String(", ");
    }
    last();
}

void appendValue(QString& out, AccessLogVariable variable, const ConnectionInfo& c)
{
    const qint64 endMs = c.endMs ? c.endMs : c.startMs;
    switch (variable) {
    case AccessLogVariable::RemoteAddr:
        appendAddress(out, c.clientAddress);
        return;
    case AccessLogVariable::RemotePort:
        appendNumber(out, c.clientPort);
        return;
    case AccessLogVariable::ServerAddr:
        appendAddress(out, c.localAddress);
        return;
    case AccessLogVariable::ServerPort:
        appendNumber(out, c.localPort);
        return;
    case AccessLogVariable::Protocol:
        out += toString(c.protocol);
        return;
    case AccessLogVariable::Status:
        appendNumber(out, accessLogStatus(c.closeReason));
        return;
    case AccessLogVariable::BytesSent:
        appendNumber(out, c.bytesDown);
        return;
    case AccessLogVariable::BytesReceived:
        appendNumber(out, c.bytesFromClient);
        return;
    case AccessLogVariable::SessionTime:
        appendSeconds(out, endMs - c.startMs);
        return;
    case AccessLogVariable::UpstreamAddr:
        appendPerAttempt(
            out, c, [&](const QString& node) { out += node; }, [&] { out += c.upstreamNode; });
        return;
    case AccessLogVariable::UpstreamBytesSent:
        appendPerAttempt(
            out, c, [&](const QString&) { out += QLatin1Char('0'); },
            [&] { appendNumber(out, c.bytesUp); });
        return;
    case AccessLogVariable::UpstreamBytesReceived:
        appendPerAttempt(
            out, c, [&](const QString&) { out += QLatin1Char('0'); },
            [&] { appendNumber(out, c.bytesFromUpstream); });
        return;
    case AccessLogVariable::UpstreamConnectTime:
        appendPerAttempt(
            out, c, [&](const QString&) { out += QLatin1Char('-'); },
            [&] {
                if (c.connectMs < 0)
                    out += QLatin1Char('-');
                else
                    appendSeconds(out, c.connectMs);
            });
        return;
    case AccessLogVariable::UpstreamFirstByteTime:
        // nginx: from the start of the connect attempt to the upstream's first byte
        appendPerAttempt(
            out, c, [&](const QString&) { out += QLatin1Char('-'); },
            [&] { appendTimer(out, c.firstByteDownMs, c.upstreamStartMs); });
        return;
    case AccessLogVariable::TimeLocal:
        out += timeText(endMs, false);
        return;
    case AccessLogVariable::TimeIso8601:
        out += timeText(endMs, true);
        return;
    case AccessLogVariable::ProxyProtocolAddr:
        appendAddress(out, c.proxyHeader ? c.proxyHeader->address : QHostAddress());
        return;
    case AccessLogVariable::ProxyProtocolPort:
        appendPort(out, c.proxyHeader ? c.proxyHeader->port : 0);
        return;
    case AccessLogVariable::ProxyProtocolServerAddr:
        appendAddress(out, c.proxyHeader ? c.proxyHeader->serverAddress : QHostAddress());
        return;
    case AccessLogVariable::ProxyProtocolServerPort:
        appendPort(out, c.proxyHeader ? c.proxyHeader->serverPort : 0);
        return;
    case AccessLogVariable::RealipRemoteAddr:
        appendAddress(out, c.peerAddress.isNull() ? c.clientAddress : c.peerAddress);
        return;
    case AccessLogVariable::RealipRemotePort:
        appendNumber(out, c.peerAddress.isNull() ? c.clientPort : c.peerPort);
        return;
    case AccessLogVariable::MqttClientId:
        appendWord(out, c.mqtt->clientId);
        return;
    case AccessLogVariable::RouteId:
        out += c.routeId;
        return;
    case AccessLogVariable::CloseReason:
        out += toString(c.closeReason);
        return;
    case AccessLogVariable::ClosedBy:
        appendWord(out, toString(c.closedBy));
        return;
    case AccessLogVariable::ClosePhase:
        appendWord(out, toString(c.closePhase));
        return;
    case AccessLogVariable::FirstByteUpTime:
        appendTimer(out, c.firstByteUpMs, 0);
        return;
    case AccessLogVariable::FirstByteDownTime:
        appendTimer(out, c.firstByteDownMs, 0);
        return;
    case AccessLogVariable::SessionState:
        out += c.closeReason == CloseReason::None ? QLatin1String("open") : QLatin1String("closed");
        return;
    case AccessLogVariable::Count:
        return;
    }
}

} // namespace

int accessLogStatus(CloseReason reason)
{
    switch (reason) {
    case CloseReason::BadProxyHeader:
        return 400; // nginx stream's "bad request"
    case CloseReason::TlsNoClientHello:
        return 400;
    case CloseReason::DeniedIpRestriction:
    case CloseReason::NoRoute:
    case CloseReason::TlsNoSni:
        return 403;
    // nginx stream tries the next node after a failed upstream handshake and ends with 502.
    case CloseReason::ConnectFailed:
    case CloseReason::UpstreamError:
    case CloseReason::UpstreamTlsFailed:
    case CloseReason::UpstreamCertUntrusted:
    case CloseReason::UpstreamClientCertRefused:
    case CloseReason::UpstreamNoTls:
        return 502;
    case CloseReason::Limited:
    case CloseReason::SessionCap:
    case CloseReason::NoDescriptors:
    case CloseReason::BadMqttConnect: // APISIX's mqtt-proxy ends the preread with 503
        return 503;
    // nginx stream ends a session whose handshake failed with 500 (ngx_stream_ssl_module).
    case CloseReason::TlsHandshakeFailed:
    case CloseReason::TlsNoCertificate:
    case CloseReason::TlsClientCertMissing:
    case CloseReason::TlsClientCertUntrusted:
        return 500;
    default:
        return 200;
    }
}

int apisixStreamStatusCode(CloseReason reason)
{
    switch (reason) {
    case CloseReason::ClientReset:
        return 400;
    case CloseReason::UpstreamReset:
    case CloseReason::IdleTimeout:
    case CloseReason::InjectedReset:
        return 502;
    default:
        return accessLogStatus(reason);
    }
}

const AccessLogFormat& defaultAccessLogFormat()
{
    static const AccessLogFormat format =
        parseAccessLogFormat(apisixAccessLogFormat() +
                             QStringLiteral(R"( route="$route_id" reason="$close_reason")"))
            .format;
    return format;
}

QString accessLogValue(AccessLogVariable variable, const ConnectionInfo& connection)
{
    QString out;
    appendValue(out, variable, connection);
    return out;
}

ConnectionInfo interimAccessLogView(const ConnectionInfo& open, qint64 nowMs)
{
    ConnectionInfo c = open;
    c.closeReason = CloseReason::None;
    c.closedBy = ClosedBy::None;
    c.closePhase = ClosePhase::None;
    c.endMs = qMax(nowMs, c.startMs);
    // What was read is counted exactly only at the end; what was relayed is known now.
    c.bytesFromClient = qMax(c.bytesFromClient, c.bytesUp);
    c.bytesFromUpstream = qMax(c.bytesFromUpstream, c.bytesDown);
    return c;
}

QString formatAccessLogSession(const ConnectionInfo& c, const AccessLogFormat& format)
{
    QString line;
    line.reserve(160);
    for (const AccessLogFormat::Part& part : format.parts) {
        if (part.isVariable())
            appendValue(line, part.variable, c);
        else
            line += part.text;
    }
    return line;
}

QString formatAccessLogEvent(const Event& e, const AccessLogFormat& format)
{
    switch (e.kind) {
    case EventKind::Open:
        return QString();
    case EventKind::Close:
    case EventKind::Deny:
        return formatAccessLogSession(e.connection, format);
    default:
        return QStringLiteral("[%1] %2: %3")
            .arg(timeText(e.timeMs, false), toString(e.kind), e.text);
    }
}

QString formatAccessLogDropped(qint64 timeMs, qint64 count)
{
    return QStringLiteral("[%1] info: %2 events were dropped (event history full)")
        .arg(timeText(timeMs, false))
        .arg(count);
}

} // namespace sg
