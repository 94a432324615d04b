#pragma once
// Allowing and blocking a client IP on a route: what every Allow and Block of the window does
// (the refusal banner, the tray, a desktop notification, the Denied clients list, the
// connections table). Each is one edit of the route's ip-restriction through the ConfigStore on
// the config as it is now (a hand edit on disk is taken in first), which the engine applies at
// once. It also keeps the refusals that wait for an answer: clients a route's allow-list
// refused, newest last, until one is allowed or the user dismisses them.
//
// An allow may end: once (when the first connection it let in ends, or after the wait for one
// if none comes), after an hour, or when Streamgate quits. The whitelist entry stays a plain IP
// as APISIX takes it; when it ends lives in streamgate.allow_expiry (model/settings.h). Its end
// is one edit too: the IP leaves the whitelist and its expiry together, an Info event says so,
// and the connections it let in are closed when the user wants that. An expiry whose IP a hand
// edit took out of the whitelist is dropped.

#include "model/problem.h"
#include "stats/snapshot.h"

#include <QHash>
#include <QList>
#include <QObject>
#include <QTimer>

class QWidget;

namespace sg {

class ConfigStore;
class Engine;
struct Config;

namespace ui {

enum class AllowDuration { Once, Hour, UntilQuit, Always };
// "Allow once", "Allow for 1 hour", "Allow until Streamgate quits", "Always allow", with a
// mnemonic for the menus.
QString allowDurationText(AllowDuration duration);
inline constexpr AllowDuration kAllowDurations[] = {
    AllowDuration::Once, AllowDuration::Hour, AllowDuration::UntilQuit, AllowDuration::Always};

class AccessController final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AccessController)

public:
    // The wait for the first connection of an "once" allow, as a part of an hour (2 min).
    static constexpr int kOnceWaitPerHour = 30;

    // window: the parent of the boxes that say why something was refused. store may be null
    // (nothing to edit): every allow and block is then refused. engine (may be null) gets the
    // events and closes the connections of an access that ended. Allows that were to end when
    // Streamgate quit and are still in the config (it did not quit cleanly) end now.
    AccessController(ConfigStore* store, QWidget* window, Engine* engine = nullptr);

    // False, with the reason in message() or a box, when nothing changed. Allowing a client
    // whose access is timed again replaces the time (Always makes it permanent).
    bool allowClient(const QString& ip, const QString& routeId,
                     AllowDuration duration = AllowDuration::Always);
    bool blockClient(const QString& ip, const QString& routeId);

    // Keeps a first refusal for an answer (one per client and route, the newest last); false,
    // keeping nothing, for a refusal that Allow would not undo (no route matched, a limit).
    bool addRefusal(const DeniedClient& denied);
    const QList<DeniedClient>& pendingRefusals() const { return m_pending; }
    // Allows the newest refusal, which leaves the list whether or not that works.
    bool allowLastRefusal(AllowDuration duration = AllowDuration::Always);
    void dismissRefusals() { m_pending.clear(); }

    // How long "1 hour" lasts, in ms (the wait of "once" is a 30th of it): a shorter hour for
    // tests and demonstrations. The environment variable STREAMGATE_ALLOW_HOUR_MS sets it too.
    void setHourLength(qint64 ms) { m_hourMs = qMax<qint64>(1, ms); }
    qint64 hourLength() const { return m_hourMs; }
    // Whether the connections an allow let in are closed when it ends (default true).
    void setClosesConnectionsAtEnd(bool close) { m_closeAtEnd = close; }
    bool closesConnectionsAtEnd() const { return m_closeAtEnd; }

    // Each snapshot: finds the connection an "once" allow let in, and ends the access when that
    // connection has ended. Costs nothing while no "once" allow waits.
    void applySnapshot(const Snapshot& snapshot);
    // Ends every "until Streamgate quits" allow (a clean quit; and at start, for a run that
    // did not quit cleanly).
    void endSessionAccess();

    // Whether the route lets ip through its ip-restriction now.
    bool isAllowed(const QString& ip, const QString& routeId) const;
    // "52 min left", "1 h left", "once", "until Streamgate quits"; empty for an allow that
    // does not end (or no allow).
    QString timedAccessText(const QString& ip, const QString& routeId) const;
    // "192.168.1.5 (52 min left)" per timed allow, by route id.
    QHash<QString, QStringList> timedAccessByRoute() const;

Q_SIGNALS:
    // ip may connect to routeId now; its refusal has left the list.
    void clientAllowed(const QString& ip, const QString& routeId);
    // A timed allow ended: ip left the route's whitelist.
    void accessEnded(const QString& ip, const QString& routeId);
    // The timed allows or their remaining time changed (at most once a second while any runs).
    void timedAccessChanged();
    // A line for the status bar: what was done, or why not.
    void message(const QString& text, int timeoutMs);

private:
    Problems editClient(const QString& ip, const QString& routeId, bool allow,
                        AllowDuration duration, QString* routeName, QString* why);
    // Ends the given allows (route id, ip) in one edit; reason for the event ("ended", ...).
    void endAccess(const QList<QPair<QString, QString>>& which);
    void onConfigChanged(const Config& config);
    void schedule();
    void onTimer();

    ConfigStore* m_store;
    QWidget* m_window;
    Engine* m_engine;
    QList<DeniedClient> m_pending;
    qint64 m_hourMs = 3600000;
    bool m_closeAtEnd = true;
    QTimer m_timer; // the next end
    QTimer m_tick;  // the remaining time shown, while any timed allow runs
    // "once" allows (key: route id, newline, ip) and the connection each let in, once seen.
    QHash<QString, quint64> m_onceConnection;
};

} // namespace ui
} // namespace sg
