#pragma once
// Allows that end: once (when the first connection it let in ends, or after the wait for one if
// none comes), after an hour, or when Streamgate quits. The whitelist entry stays a plain IP as
// APISIX takes it; when it ends lives in streamgate.allow_expiry (model/settings.h). Its end is
// one config change: the IP leaves the whitelist and its expiry together, an Info event says so,
// and the connections it let in are closed (unless the window's user chose to keep them). An
// expiry whose IP a hand edit took out of the whitelist is dropped.
//
// One per process, on the store's thread, whatever drives it: the window (its Allow buttons,
// ui/accesscontroller.h), the admin API (POST .../allow with a duration, GET
// /streamgate/v1/timed_allows) and headless mode alike. It watches the engine only while an
// "once" allow waits for its connection; nothing of it runs on the byte path.

#include "model/problem.h"
#include "stats/snapshot.h"

#include <QHash>
#include <QList>
#include <QObject>
#include <QTimer>
#include <optional>

namespace sg {

class ConfigStore;
class Engine;
struct Config;

enum class AllowDuration { Once, Hour, UntilQuit, Always };
inline constexpr AllowDuration kAllowDurations[] = {
    AllowDuration::Once, AllowDuration::Hour, AllowDuration::UntilQuit, AllowDuration::Always};
// "once", "hour", "until_quit", "always": the words of the admin API.
QString allowDurationName(AllowDuration duration);
std::optional<AllowDuration> allowDurationFromName(const QString& name);

// One timed allow as it stands now.
struct TimedAllow
{
    QString routeId;
    QString client;
    AllowDuration duration = AllowDuration::Hour; // Once, Hour (ends at untilMs) or UntilQuit
    qint64 sinceMs = 0;
    qint64 untilMs = 0; // 0 for UntilQuit; for Once, the end of the wait for its connection
    // Once: the connection it let in, open now (the access ends with it, not at untilMs).
    bool connected = false;
    // ms until the end, from nowMs (0 when due); -1 when no time ends it (UntilQuit, a Once
    // whose connection is open).
    qint64 remainingMs(qint64 nowMs) const;
};

// What an allow or block did: changed, or why not (why: nothing to change; problems: the
// config refused the result).
struct AccessEdit
{
    bool changed = false;
    QString routeName;
    QString why;
    Problems problems;
};

class AllowExpiry final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AllowExpiry)

public:
    // The wait for the first connection of an "once" allow, as a part of an hour (2 min).
    static constexpr int kOnceWaitPerHour = 30;

    // store may be null (nothing to edit: every allow and block is refused). engine (may be
    // null) gets the events and closes the connections of an access that ended. Allows that
    // were to end when Streamgate quit and are still in the config (it did not quit cleanly)
    // end now.
    AllowExpiry(ConfigStore* store, Engine* engine, QObject* parent = nullptr);

    // One edit of the route's ip-restriction and streamgate.allow_expiry through the store, on
    // the config as it is now. Allowing a client whose access is timed again replaces the time
    // (Always makes it permanent); blocking ends it.
    AccessEdit allow(const QString& ip, const QString& routeId,
                     AllowDuration duration = AllowDuration::Always);
    AccessEdit block(const QString& ip, const QString& routeId);

    // How long "1 hour" lasts, in ms (the wait of "once" is a 30th of it): a shorter hour for
    // tests and demonstrations. The environment variable STREAMGATE_ALLOW_HOUR_MS sets it too.
    void setHourLength(qint64 ms) { m_hourMs = qMax<qint64>(1, ms); }
    qint64 hourLength() const { return m_hourMs; }
    // Whether the connections an allow let in are closed when it ends (default true). A choice
    // of the window's user (its Settings menu); headless, an access that ended never stays open
    // through a connection it let in.
    void setClosesConnectionsAtEnd(bool close) { m_closeAtEnd = close; }
    bool closesConnectionsAtEnd() const { return m_closeAtEnd; }

    // Finds the connection an "once" allow let in, and ends the access when that connection has
    // ended. Called on the engine's events while an "once" allow waits; the window may hand
    // its own snapshots in too.
    void applySnapshot(const Snapshot& snapshot);
    // Ends every "until Streamgate quits" allow (a clean quit; and at start, for a run that
    // did not quit cleanly).
    void endSessionAccess();

    // Whether the route lets ip through its ip-restriction now.
    bool isAllowed(const QString& ip, const QString& routeId) const;
    std::optional<TimedAllow> timedAllow(const QString& ip, const QString& routeId) const;
    QList<TimedAllow> timedAllows() const; // by route id, then client
    ConfigStore* store() const { return m_store; }

Q_SIGNALS:
    // A timed allow ended: ip left the route's whitelist (routeName: the route's name then).
    void accessEnded(const QString& ip, const QString& routeId, const QString& routeName);
    // The timed allows changed (one added, ended, replaced; an "once" connection came).
    void timedAllowsChanged();
    // An end that the config refused: the words for the user.
    void endFailed(const QString& text);

private:
    AccessEdit edit(const QString& ip, const QString& routeId, bool allow, AllowDuration duration);
    void announce(const QString& ip, const QString& routeId);
    // Ends the given allows (route id, ip) in one config change.
    void endAccess(const QList<QPair<QString, QString>>& which);
    void onConfigChanged(const Config& config);
    void schedule();
    void onTimer();
    void onEngineEvents();

    ConfigStore* m_store;
    Engine* m_engine;
    qint64 m_hourMs = 3600000;
    bool m_closeAtEnd = true;
    QTimer m_timer; // the next end
    bool m_onceWaits = false;
    // "once" allows (key: route id, newline, ip) and the connection each let in, once seen.
    QHash<QString, quint64> m_onceConnection;
};

} // namespace sg
