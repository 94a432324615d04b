#include "stats/accesslog.h"

#include <QDateTime>
#include <QLocale>
#include <limits>

namespace sg {

namespace {

QString timeLocal(qint64 ms)
{
    // Local time with its offset is costly to work out, and a busy proxy writes many lines
    // within one second: the text of the last second asked for is kept (per thread).
    thread_local qint64 lastSecond = std::numeric_limits<qint64>::min();
    thread_local QString lastText;
    const qint64 second = ms >= 0 ? ms / 1000 : -((999 - ms) / 1000);
    if (second == lastSecond)
        return lastText;
    // nginx $time_local: 27/Nov/2026:09:26:05 +0000 (English month names whatever the locale)
    const QDateTime t = QDateTime::fromMSecsSinceEpoch(second * 1000);
    const int offset = t.offsetFromUtc();
    const QString zone = QStringLiteral("%1%2%3")
                             .arg(offset < 0 ? QLatin1Char('-') : QLatin1Char('+'))
                             .arg(qAbs(offset) / 3600, 2, 10, QLatin1Char('0'))
                             .arg((qAbs(offset) % 3600) / 60, 2, 10, QLatin1Char('0'));
    lastText = QLocale::c().toString(t, QStringLiteral("dd/MMM/yyyy:HH:mm:ss ")) + zone;
    lastSecond = second;
    return lastText;
}

} // namespace

int accessLogStatus(CloseReason reason)
{
    switch (reason) {
    case CloseReason::DeniedIpRestriction:
    case CloseReason::NoRoute:
        return 403;
    case CloseReason::ConnectFailed:
    case CloseReason::UpstreamError:
        return 502;
    case CloseReason::Limited:
    case CloseReason::SessionCap:
    case CloseReason::NoDescriptors:
        return 503;
    default:
        return 200;
    }
}

QString formatAccessLogSession(const ConnectionInfo& c)
{
    const qint64 end = c.endMs ? c.endMs : c.startMs;
    return QStringLiteral("%1 [%2] %3 %4 %5 %6 %7 route=\"%8\" reason=\"%9\"")
        .arg(c.clientAddress.toString(), timeLocal(c.startMs), toString(c.protocol))
        .arg(accessLogStatus(c.closeReason))
        .arg(c.bytesDown)
        .arg(c.bytesUp)
        .arg(QString::number(double(qMax<qint64>(0, end - c.startMs)) / 1000.0, 'f', 3), c.routeId,
             toString(c.closeReason));
}

QString formatAccessLogEvent(const Event& e)
{
    switch (e.kind) {
    case EventKind::Open:
        return QString();
    case EventKind::Close:
    case EventKind::Deny:
        return formatAccessLogSession(e.connection);
    default:
        return QStringLiteral("[%1] %2: %3").arg(timeLocal(e.timeMs), toString(e.kind), e.text);
    }
}

QString formatAccessLogDropped(qint64 timeMs, qint64 count)
{
    return QStringLiteral("[%1] info: %2 events were dropped (event history full)")
        .arg(timeLocal(timeMs))
        .arg(count);
}

} // namespace sg
