#include "format.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QLocale>

namespace sg::ui {

namespace {
QString tr(const char* text)
{
    return QCoreApplication::translate("sg::ui::format", text);
}
} // namespace

QString formatBytes(quint64 bytes)
{
    static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    if (bytes < 1024)
        return QStringLiteral("%1 B").arg(bytes);
    double value = double(bytes);
    int unit = 0;
    while (value >= 1024.0 && unit < 5) {
        value /= 1024.0;
        ++unit;
    }
    return QStringLiteral("%1 %2")
        .arg(value, 0, 'f', value < 10 ? 2 : (value < 100 ? 1 : 0))
        .arg(QLatin1String(units[unit]));
}

QString formatRate(double bytesPerSecond)
{
    if (bytesPerSecond < 0.5)
        return QStringLiteral("0 B/s");
    return formatBytes(quint64(bytesPerSecond + 0.5)) + QStringLiteral("/s");
}

QString formatDuration(qint64 ms)
{
    if (ms < 0)
        ms = 0;
    const qint64 s = ms / 1000;
    if (s < 60)
        return QStringLiteral("%1s").arg(s);
    if (s < 3600)
        return QStringLiteral("%1m %2s").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
    if (s < 86400)
        return QStringLiteral("%1h %2m").arg(s / 3600).arg((s % 3600) / 60, 2, 10,
                                                           QLatin1Char('0'));
    return QStringLiteral("%1d %2h").arg(s / 86400).arg((s % 86400) / 3600, 2, 10,
                                                        QLatin1Char('0'));
}

QString formatClock(qint64 msSinceEpoch)
{
    if (msSinceEpoch <= 0)
        return {};
    return QDateTime::fromMSecsSinceEpoch(msSinceEpoch).toString(QStringLiteral("HH:mm:ss"));
}

QString formatDateTime(qint64 msSinceEpoch)
{
    if (msSinceEpoch <= 0)
        return {};
    return QDateTime::fromMSecsSinceEpoch(msSinceEpoch)
        .toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
}

QString formatIp(const QHostAddress& address)
{
    bool isV4 = false;
    const quint32 v4 = address.toIPv4Address(&isV4);
    if (isV4)
        return QHostAddress(v4).toString();
    return address.toString();
}

QString formatEndpoint(const QHostAddress& address, quint16 port)
{
    if (address.isNull())
        return {};
    const QString ip = formatIp(address);
    if (ip.contains(QLatin1Char(':')))
        return QStringLiteral("[%1]:%2").arg(ip).arg(port);
    return QStringLiteral("%1:%2").arg(ip).arg(port);
}

QString protocolText(Protocol protocol)
{
    return protocol == Protocol::Udp ? QStringLiteral("UDP") : QStringLiteral("TCP");
}

QString stateText(ConnectionState state)
{
    switch (state) {
    case ConnectionState::Connecting:
        return tr("Connecting");
    case ConnectionState::Established:
        return tr("Established");
    case ConnectionState::HalfClosed:
        return tr("Half-closed");
    case ConnectionState::Closed:
        return tr("Closed");
    }
    return {};
}

QString closeReasonText(CloseReason reason)
{
    switch (reason) {
    case CloseReason::None:
        return {};
    case CloseReason::ClientClosed:
        return tr("Client closed");
    case CloseReason::UpstreamClosed:
        return tr("Upstream closed");
    case CloseReason::ClientReset:
        return tr("Client reset");
    case CloseReason::UpstreamReset:
        return tr("Upstream reset");
    case CloseReason::IdleTimeout:
        return tr("Idle timeout");
    case CloseReason::ConnectFailed:
        return tr("Upstream connect failed");
    case CloseReason::DeniedIpRestriction:
        return tr("Denied by ip-restriction");
    case CloseReason::Limited:
        return tr("Refused by limit-conn");
    case CloseReason::Killed:
        return tr("Closed by user");
    case CloseReason::Shutdown:
        return tr("Shutdown");
    case CloseReason::UpstreamError:
        return tr("Upstream error");
    case CloseReason::SessionCap:
        return tr("Session cap reached");
    case CloseReason::NoRoute:
        return tr("No matching route");
    case CloseReason::NoDescriptors:
        return tr("Descriptor limit reached");
    case CloseReason::InjectedReset:
        return tr("Reset on purpose (injected)");
    case CloseReason::OperatorReset:
        return tr("Reset by user");
    case CloseReason::BadProxyHeader:
        return tr("Bad PROXY protocol header");
    case CloseReason::BadMqttConnect:
        return tr("Bad MQTT CONNECT");
    case CloseReason::TlsHandshakeFailed:
        return tr("TLS handshake failed");
    case CloseReason::TlsNoCertificate:
        return tr("No TLS certificate for the SNI");
    case CloseReason::TlsClientCertMissing:
        return tr("Client certificate missing");
    case CloseReason::TlsClientCertUntrusted:
        return tr("Client certificate untrusted");
    case CloseReason::TlsError:
        return tr("TLS error");
    case CloseReason::UpstreamTlsFailed:
        return tr("Upstream TLS handshake failed");
    case CloseReason::UpstreamCertUntrusted:
        return tr("Upstream certificate untrusted");
    case CloseReason::UpstreamClientCertRefused:
        return tr("Client certificate refused by upstream");
    case CloseReason::UpstreamNoTls:
        return tr("Upstream offers no TLS");
    case CloseReason::TlsNoClientHello:
        return tr("No TLS ClientHello");
    case CloseReason::TlsNoSni:
        return tr("No SNI to route by");
    }
    return {};
}

QString terminationText(const ConnectionInfo& c)
{
    const QString reason = closeReasonText(c.closeReason);
    if (c.closedBy == closedByOf(c.closeReason) || c.closedBy == ClosedBy::Proxy ||
        c.closedBy == ClosedBy::None)
        return reason;
    return c.closedBy == ClosedBy::Client ? tr("%1 · client closed first").arg(reason)
                                          : tr("%1 · upstream closed first").arg(reason);
}

namespace {

QString timerText(qint64 ms)
{
    return ms < 0 ? tr("–") : tr("%1 ms").arg(ms);
}

QString closedByText(ClosedBy by)
{
    switch (by) {
    case ClosedBy::Client:
        return tr("the client");
    case ClosedBy::Upstream:
        return tr("the upstream");
    case ClosedBy::Proxy:
        return tr("Streamgate");
    case ClosedBy::None:
        break;
    }
    return {};
}

QString phaseText(ClosePhase phase)
{
    switch (phase) {
    case ClosePhase::Admission:
        return tr("when admitted (no upstream tried)");
    case ClosePhase::Connect:
        return tr("while connecting to the upstream");
    case ClosePhase::BeforeFirstByte:
        return tr("before the first byte");
    case ClosePhase::Data:
        return tr("while relaying data");
    case ClosePhase::None:
        break;
    }
    return {};
}

} // namespace

QString timersText(const ConnectionInfo& c)
{
    QString text =
        tr("Connect: %1\nFirst byte from the client: %2\nFirst byte from the "
           "upstream: %3\n(after the session's start)")
            .arg(timerText(c.connectMs), timerText(c.firstByteUpMs), timerText(c.firstByteDownMs));
    if (c.closedBy != ClosedBy::None)
        text =
            tr("Ended by %1 %2\n%3").arg(closedByText(c.closedBy), phaseText(c.closePhase), text);
    return text;
}

QString eventKindText(EventKind kind)
{
    switch (kind) {
    case EventKind::Open:
        return tr("Open");
    case EventKind::Close:
        return tr("Close");
    case EventKind::Deny:
        return tr("Deny");
    case EventKind::NodeUp:
        return tr("Node up");
    case EventKind::NodeDown:
        return tr("Node down");
    case EventKind::ListenerUp:
        return tr("Listener up");
    case EventKind::ListenerError:
        return tr("Listener error");
    case EventKind::Info:
        return tr("Info");
    }
    return {};
}

} // namespace sg::ui
