#pragma once
// Human-readable text for the numbers and enums the views show. The models keep the raw
// values (RawValueRole) beside these strings, so sorting and export never parse display text.

#include "stats/snapshot.h"

#include <QString>

namespace sg::ui {

QString formatBytes(quint64 bytes);          // "0 B", "1.5 KiB", "12.3 MiB"
QString formatRate(double bytesPerSecond);   // "0 B/s", "1.2 MiB/s"
QString formatDuration(qint64 ms);           // "4s", "2m 05s", "3h 02m", "2d 04h"
QString formatClock(qint64 msSinceEpoch);    // local "HH:mm:ss"
QString formatDateTime(qint64 msSinceEpoch); // local "yyyy-MM-dd HH:mm:ss"
QString formatEndpoint(const QHostAddress& address, quint16 port); // "[::1]:5" / "1.2.3.4:5"
QString formatIp(const QHostAddress& address);                     // IPv4-mapped IPv6 shown as IPv4

QString protocolText(Protocol protocol);     // "TCP" / "UDP"
QString stateText(ConnectionState state);    // "Connecting", "Established", ...
QString closeReasonText(CloseReason reason); // "" for None, "Client closed", ...
// The close reason with who closed first when that is not the reason's own side:
// "Upstream reset · client closed first", "Idle timeout · upstream closed first".
QString terminationText(const ConnectionInfo& connection);
// Who closed, in which phase, and the timers: the close reason's and the duration's tooltip.
QString timersText(const ConnectionInfo& connection);
QString eventKindText(EventKind kind);

} // namespace sg::ui
