#pragma once
// AccessLog prints the engine's events as text, for headless mode: one line per closed session
// in APISIX's stream access log shape
//   remote_addr [time_local] protocol status bytes_sent bytes_received session_time
// followed by route="<id>" reason="<close reason>", one line in the same shape per refused
// connection, and one line per node/listener/info event. It only reads Engine::eventsSince(),
// so it never slows the byte path; if the event ring overflowed it says how many were lost.

#include "stats/snapshot.h"

#include <QObject>
#include <QTimer>

class QIODevice;

namespace sg {

class Engine;

class AccessLog final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AccessLog)

public:
    // Lines go to `out` (not owned; e.g. a QFile opened on stdout). Polls on eventsAvailable()
    // and once a second as a safety net.
    AccessLog(Engine* engine, QIODevice* out, QObject* parent = nullptr);

    // Prints every event not printed yet; returns the number of lines written.
    int poll();

    // nginx stream $status for a session that ended this way (200, 403, 502, 503).
    static int statusFor(CloseReason reason);
    static QString formatSession(const ConnectionInfo& connection);
    // Empty for events that produce no line (Open).
    static QString formatEvent(const Event& event);

private:
    Engine* m_engine;
    QIODevice* m_out;
    qint64 m_lastSeq = 0;
    QTimer m_timer;
};

} // namespace sg
