#include "runtime/accesslogwriter.h"

#include "config/configstore.h"
#include "proxy/engine.h"
#include "stats/accesslog.h"

#include <QDateTime>
#include <QIODevice>

namespace sg {

AccessLogWriter::AccessLogWriter(Engine* engine, QIODevice* out, QObject* parent)
    : QObject(parent), m_engine(engine), m_out(out), m_format(defaultAccessLogFormat())
{
    connect(engine, &Engine::eventsAvailable, this, &AccessLogWriter::poll);
    connect(&m_timer, &QTimer::timeout, this, &AccessLogWriter::poll);
    m_timer.start(1000);
    connect(&m_interimTimer, &QTimer::timeout, this, &AccessLogWriter::writeInterim);
}

void AccessLogWriter::follow(ConfigStore* store)
{
    setSettings(store->config().streamgate);
    connect(store, &ConfigStore::changed, this,
            [this](const ConfigDiff&, const Config& config) { setSettings(config.streamgate); });
}

void AccessLogWriter::setSettings(const StreamgateSettings& settings)
{
    const QString text = settings.accessLogFormat();
    // A written format was validated when the config was read; the check stays for a config
    // built in code.
    const ParsedAccessLogFormat parsed = text.isEmpty()
                                             ? ParsedAccessLogFormat{defaultAccessLogFormat(), {}}
                                             : parseAccessLogFormat(text);
    setFormat(parsed.ok() ? parsed.format : defaultAccessLogFormat(), settings.accessLogEnabled());
    setInterimInterval(settings.accessLogInterimSeconds());
}

void AccessLogWriter::setInterimInterval(int seconds)
{
    const qint64 ms = qMax(0, seconds) * qint64(1000);
    if (ms == m_interimMs)
        return;
    m_interimMs = ms;
    if (ms > 0)
        m_interimTimer.start(int(ms));
    else
        m_interimTimer.stop();
}

int AccessLogWriter::writeInterim()
{
    int lines = poll();
    if (m_interimMs <= 0 || !m_sessions)
        return lines;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    QByteArray chunk;
    for (const ConnectionInfo& open : m_engine->snapshot().active)
        if (now - open.startMs >= m_interimMs) {
            chunk += formatAccessLogSession(interimAccessLogView(open, now), m_format).toUtf8();
            chunk += '\n';
            ++lines;
        }
    if (!chunk.isEmpty())
        m_out->write(chunk);
    return lines;
}

void AccessLogWriter::setFormat(const AccessLogFormat& format, bool sessions)
{
    if (format == m_format && sessions == m_sessions)
        return;
    poll(); // what happened before the change, as it was configured then
    m_format = format;
    m_sessions = sessions;
}

int AccessLogWriter::poll()
{
    int lines = 0;
    for (;;) {
        // Sessions are formatted from their connection; the other events carry their text.
        const QList<Event> events = m_engine->eventsSince(m_lastSeq, 1000, false);
        if (events.isEmpty())
            break;
        QByteArray chunk;
        if (events.constFirst().seq > m_lastSeq + 1 && m_lastSeq > 0) {
            chunk += formatAccessLogDropped(events.constFirst().timeMs,
                                            events.constFirst().seq - m_lastSeq - 1)
                         .toUtf8();
            chunk += '\n';
            ++lines;
        }
        for (const Event& e : events) {
            if (!m_sessions && (e.kind == EventKind::Close || e.kind == EventKind::Deny))
                continue;
            const QString line = formatAccessLogEvent(e, m_format);
            if (line.isEmpty())
                continue;
            chunk += line.toUtf8();
            chunk += '\n';
            ++lines;
        }
        m_lastSeq = events.constLast().seq;
        m_out->write(chunk);
    }
    return lines;
}

} // namespace sg
