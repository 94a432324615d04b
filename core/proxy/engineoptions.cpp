#include "proxy/engineoptions.h"

#include "config/logging.h"
#include "proxy/eventloop.h"

#include <QThread>
#include <optional>

namespace sg {

namespace {

void warnIgnored(const char* name, const QByteArray& value, const QString& why,
                 const QString& instead)
{
    qCWarning(lcProxy).noquote() << QStringLiteral("%1=\"%2\" ignored: %3; using %4")
                                        .arg(QLatin1String(name), QString::fromLocal8Bit(value),
                                             why, instead);
}

// A whole number from min to max in the environment variable `name`, if set and valid.
std::optional<int> wholeNumberFromEnv(const char* name, int min, int max, const char* unit,
                                      int instead)
{
    const QByteArray env = qgetenv(name);
    if (env.isEmpty())
        return std::nullopt;
    bool ok = false;
    const int value = env.toInt(&ok);
    if (ok && value >= min && value <= max)
        return value;
    warnIgnored(name, env,
                QStringLiteral("not a whole number of %1 from %2 to %3")
                    .arg(QLatin1String(unit))
                    .arg(min)
                    .arg(max),
                QStringLiteral("%1 %2").arg(instead).arg(QLatin1String(unit)));
    return std::nullopt;
}

} // namespace

int defaultWorkers()
{
    return qMax(1, QThread::idealThreadCount() - 1);
}

EngineOptions EngineOptions::resolved() const
{
    EngineOptions o = *this;
    o.bufferSize = qMax(o.bufferSize, 4096);
    if (const auto kb = wholeNumberFromEnv("STREAMGATE_BURST_BUFFER_KB", 4, 1024 * 1024, "KiB",
                                           o.burstBufferSize / 1024))
        o.burstBufferSize = *kb * 1024;
    o.burstBufferSize = qMax(o.burstBufferSize, o.bufferSize);
    o.workers = o.workers > 0 ? o.workers : defaultWorkers();
    if (const auto workers = wholeNumberFromEnv("STREAMGATE_WORKERS", 1, 256, "workers", o.workers))
        o.workers = *workers;
    if (o.eventLoop.isEmpty()) {
        const QByteArray env = qgetenv("STREAMGATE_EVENT_LOOP");
        if (env == "poll" || env == "epoll")
            o.eventLoop = QString::fromLatin1(env);
        else if (!env.isEmpty())
            warnIgnored("STREAMGATE_EVENT_LOOP", env, QStringLiteral("not epoll or poll"),
                        QStringLiteral("the platform default"));
    }
    if (qgetenv("STREAMGATE_RELAY") == "copy")
        o.splice = false;
    o.udpSessionCap = qMax(1, o.udpSessionCap);
    if (!(o.defaultUdpIdleTimeout > 0))
        o.defaultUdpIdleTimeout = 60;
    if (!(o.udpNoReplyTimeout > 0))
        o.udpNoReplyTimeout = 5;
    if (!(o.proxyProtocolTimeout > 0))
        o.proxyProtocolTimeout = 30;
    if (!(o.prereadTimeout > 0))
        o.prereadTimeout = 30;
    o.reachTimeoutMs = qMax(1, o.reachTimeoutMs);
    o.reachRetryMs = qMax(1, o.reachRetryMs);
    o.reachMaxRetryMs = qMax(o.reachRetryMs, o.reachMaxRetryMs);
    return o;
}

EventLoopKind EngineOptions::eventLoopKind() const
{
    if (eventLoop == QLatin1String("poll"))
        return EventLoopKind::Poll;
    if (eventLoop == QLatin1String("epoll"))
        return EventLoopKind::Epoll;
    return EventLoopKind::Default;
}

} // namespace sg
