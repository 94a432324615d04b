#include "stats/snapshot.h"

namespace sg {

const QHostAddress& nullAddress()
{
    static const QHostAddress null;
    return null;
}

QString toString(Protocol protocol)
{
    return protocol == Protocol::Udp ? QStringLiteral("UDP") : QStringLiteral("TCP");
}

QString toString(ConnectionState state)
{
    switch (state) {
    case ConnectionState::Connecting:
        return QStringLiteral("connecting");
    case ConnectionState::Established:
        return QStringLiteral("established");
    case ConnectionState::HalfClosed:
        return QStringLiteral("half-closed");
    case ConnectionState::Closed:
        return QStringLiteral("closed");
    }
    return QString();
}

QString toString(CloseReason reason)
{
    switch (reason) {
    case CloseReason::None:
        return QString();
    case CloseReason::ClientClosed:
        return QStringLiteral("client closed");
    case CloseReason::UpstreamClosed:
        return QStringLiteral("upstream closed");
    case CloseReason::ClientReset:
        return QStringLiteral("client reset");
    case CloseReason::UpstreamReset:
        return QStringLiteral("upstream reset");
    case CloseReason::IdleTimeout:
        return QStringLiteral("idle timeout");
    case CloseReason::ConnectFailed:
        return QStringLiteral("connect failed");
    case CloseReason::DeniedIpRestriction:
        return QStringLiteral("denied by ip-restriction");
    case CloseReason::Limited:
        return QStringLiteral("limited");
    case CloseReason::Killed:
        return QStringLiteral("killed");
    case CloseReason::Shutdown:
        return QStringLiteral("shutdown");
    case CloseReason::UpstreamError:
        return QStringLiteral("upstream error");
    case CloseReason::SessionCap:
        return QStringLiteral("session cap");
    case CloseReason::NoRoute:
        return QStringLiteral("no route");
    case CloseReason::NoDescriptors:
        return QStringLiteral("descriptor limit");
    case CloseReason::InjectedReset:
        return QStringLiteral("injected reset");
    case CloseReason::OperatorReset:
        return QStringLiteral("reset by operator");
    case CloseReason::BadProxyHeader:
        return QStringLiteral("bad PROXY protocol header");
    case CloseReason::BadMqttConnect:
        return QStringLiteral("bad MQTT CONNECT");
    case CloseReason::TlsHandshakeFailed:
        return QStringLiteral("TLS handshake failed");
    case CloseReason::TlsNoCertificate:
        return QStringLiteral("no TLS certificate for the SNI");
    case CloseReason::TlsClientCertMissing:
        return QStringLiteral("client certificate missing");
    case CloseReason::TlsClientCertUntrusted:
        return QStringLiteral("client certificate untrusted");
    case CloseReason::TlsError:
        return QStringLiteral("TLS error");
    case CloseReason::UpstreamTlsFailed:
        return QStringLiteral("upstream TLS handshake failed");
    case CloseReason::UpstreamCertUntrusted:
        return QStringLiteral("upstream certificate untrusted");
    case CloseReason::UpstreamClientCertRefused:
        return QStringLiteral("client certificate refused by upstream");
    case CloseReason::UpstreamNoTls:
        return QStringLiteral("upstream offers no TLS");
    case CloseReason::TlsNoClientHello:
        return QStringLiteral("no TLS ClientHello");
    case CloseReason::TlsNoSni:
        return QStringLiteral("no SNI to route by");
    }
    return QString();
}

QString toString(ClosedBy closedBy)
{
    switch (closedBy) {
    case ClosedBy::None:
        return QString();
    case ClosedBy::Client:
        return QStringLiteral("client");
    case ClosedBy::Upstream:
        return QStringLiteral("upstream");
    case ClosedBy::Proxy:
        return QStringLiteral("proxy");
    }
    return QString();
}

QString toString(ClosePhase phase)
{
    switch (phase) {
    case ClosePhase::None:
        return QString();
    case ClosePhase::Admission:
        return QStringLiteral("admission");
    case ClosePhase::Connect:
        return QStringLiteral("connect");
    case ClosePhase::BeforeFirstByte:
        return QStringLiteral("before_first_byte");
    case ClosePhase::Data:
        return QStringLiteral("data");
    }
    return QString();
}

ClosedBy closedByOf(CloseReason reason)
{
    switch (reason) {
    case CloseReason::None:
        return ClosedBy::None;
    case CloseReason::ClientClosed:
    case CloseReason::ClientReset:
        return ClosedBy::Client;
    case CloseReason::UpstreamClosed:
    case CloseReason::UpstreamReset:
    case CloseReason::UpstreamError:
    case CloseReason::ConnectFailed:
    case CloseReason::UpstreamTlsFailed:
    case CloseReason::UpstreamCertUntrusted:
    case CloseReason::UpstreamClientCertRefused:
    case CloseReason::UpstreamNoTls:
        return ClosedBy::Upstream;
    default:
        return ClosedBy::Proxy;
    }
}

QString toString(NodeHealth health)
{
    switch (health) {
    case NodeHealth::Healthy:
        return QStringLiteral("healthy");
    case NodeHealth::Unhealthy:
        return QStringLiteral("unhealthy");
    case NodeHealth::MostlyHealthy:
        return QStringLiteral("mostly_healthy");
    case NodeHealth::MostlyUnhealthy:
        return QStringLiteral("mostly_unhealthy");
    }
    return QString();
}

QString toString(EventKind kind)
{
    switch (kind) {
    case EventKind::Open:
        return QStringLiteral("open");
    case EventKind::Close:
        return QStringLiteral("close");
    case EventKind::Deny:
        return QStringLiteral("deny");
    case EventKind::NodeUp:
        return QStringLiteral("node up");
    case EventKind::NodeDown:
        return QStringLiteral("node down");
    case EventKind::ListenerUp:
        return QStringLiteral("listener up");
    case EventKind::ListenerError:
        return QStringLiteral("listener error");
    case EventKind::Info:
        return QStringLiteral("info");
    }
    return QString();
}

} // namespace sg
