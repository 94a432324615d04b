#pragma once
// AccessLogWriter prints the engine's events as access-log lines (stats/accesslog.h), for
// headless mode. It only reads Engine::eventsSince(), so it never slows the byte path; if the
// event ring overflowed it says how many were lost.

#include <QObject>
#include <QTimer>

class QIODevice;

namespace sg {

class Engine;

class AccessLogWriter final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AccessLogWriter)

public:
    // Lines go to `out` (not owned; e.g. a QFile opened on stdout). Polls on eventsAvailable()
    // and once a second as a safety net.
    AccessLogWriter(Engine* engine, QIODevice* out, QObject* parent = nullptr);

    // Prints every event not printed yet; returns the number of lines written.
    int poll();

private:
    Engine* m_engine;
    QIODevice* m_out;
    qint64 m_lastSeq = 0;
    QTimer m_timer;
};

} // namespace sg
