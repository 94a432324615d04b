#include "runtime/accesslogwriter.h"

#include "proxy/engine.h"
#include "stats/accesslog.h"

#include <QIODevice>

namespace sg {

AccessLogWriter::AccessLogWriter(Engine* engine, QIODevice* out, QObject* parent)
    : QObject(parent), m_engine(engine), m_out(out)
{
    connect(engine, &Engine::eventsAvailable, this, &AccessLogWriter::poll);
    connect(&m_timer, &QTimer::timeout, this, &AccessLogWriter::poll);
    m_timer.start(1000);
}

int AccessLogWriter::poll()
{
    int lines = 0;
    for (;;) {
        const QList<Event> events = m_engine->eventsSince(m_lastSeq, 1000);
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
            const QString line = formatAccessLogEvent(e);
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
