#pragma once
// AccessLogWriter prints the engine's events as access-log lines (stats/accesslog.h), for
// headless mode. It only reads Engine::eventsSince(), so it never slows the byte path; if the
// event ring overflowed it says how many were lost. Session lines take the format of
// streamgate.access_log (model/settings.h), followed live from the config. With
// access_log.interim_interval set, every interval it also writes a line for each session open
// longer than the interval ($streamgate_session_state "open"; stats/accesslog.h).

#include "model/accesslogformat.h"

#include <QObject>
#include <QTimer>

class QIODevice;

namespace sg {

class ConfigStore;
class Engine;
struct StreamgateSettings;

class AccessLogWriter final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AccessLogWriter)

public:
    // Lines go to `out` (not owned; e.g. a QFile opened on stdout). Polls on eventsAvailable()
    // and once a second as a safety net. Until told otherwise: the default line, sessions on.
    AccessLogWriter(Engine* engine, QIODevice* out, QObject* parent = nullptr);

    // Takes streamgate.access_log from the store's config now and on every change. Events
    // that arrived before a change are written in the format they arrived under.
    void follow(ConfigStore* store);
    // The format of session and refusal lines, and whether they are written at all (event
    // lines always are).
    void setFormat(const AccessLogFormat& format, bool sessions);
    // Seconds between interim lines; 0 turns them off.
    void setInterimInterval(int seconds);
    void setSettings(const StreamgateSettings& settings);

    // Prints every event not printed yet; returns the number of lines written.
    int poll();
    // Writes the interim lines due now (poll() first, so lines keep their order); returns how
    // many.
    int writeInterim();

private:
    Engine* m_engine;
    QIODevice* m_out;
    qint64 m_lastSeq = 0;
    QTimer m_timer;
    AccessLogFormat m_format;
    bool m_sessions = true;
    QTimer m_interimTimer;
    qint64 m_interimMs = 0;
};

} // namespace sg
