#pragma once
// Allowing and blocking a client IP on a route: what every Allow and Block of the window does
// (the refusal banner, the tray, a desktop notification, the Denied clients list, the
// connections table). Each is one edit of the route's ip-restriction through the ConfigStore on
// the config as it is now (a hand edit on disk is taken in first), which the engine applies at
// once. It also keeps the refusals that wait for an answer: clients a route's allow-list
// refused, newest last, until one is allowed or the user dismisses them.
//
// An allow may end (once, for an hour, until Streamgate quits): the clock, the config change
// at the end and the events are the runtime's (runtime/allowexpiry.h), shared with the admin
// API and headless mode; this keeps the words, the boxes and the time left the window shows.

#include "model/problem.h"
#include "runtime/allowexpiry.h"
#include "stats/snapshot.h"

#include <QHash>
#include <QList>
#include <QObject>
#include <QTimer>

class QWidget;

namespace sg {

class ConfigStore;
class Engine;

namespace ui {

using AllowDuration = sg::AllowDuration;
using sg::kAllowDurations;
// "Allow once", "Allow for 1 hour", "Allow until Streamgate quits", "Always allow", with a
// mnemonic for the menus.
QString allowDurationText(AllowDuration duration);

class AccessController final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AccessController)

public:
    // window: the parent of the boxes that say why something was refused. store may be null
    // (nothing to edit): every allow and block is then refused. allows: the process's timed
    // allows (runtime/allowexpiry.h); null: one of its own on store and engine.
    AccessController(ConfigStore* store, QWidget* window, Engine* engine = nullptr,
                     AllowExpiry* allows = nullptr);
    AllowExpiry* allowExpiry() const { return m_allows; }

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

    // The runtime's (AllowExpiry): how long "1 hour" lasts, whether the connections an allow
    // let in are closed at its end (the window's Settings menu).
    void setHourLength(qint64 ms) { m_allows->setHourLength(ms); }
    qint64 hourLength() const { return m_allows->hourLength(); }
    void setClosesConnectionsAtEnd(bool close) { m_allows->setClosesConnectionsAtEnd(close); }
    bool closesConnectionsAtEnd() const { return m_allows->closesConnectionsAtEnd(); }
    void applySnapshot(const Snapshot& snapshot) { m_allows->applySnapshot(snapshot); }
    void endSessionAccess() { m_allows->endSessionAccess(); }

    // Whether the route lets ip through its ip-restriction now.
    bool isAllowed(const QString& ip, const QString& routeId) const
    {
        return m_allows->isAllowed(ip, routeId);
    }
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
    void onTimedAllowsChanged();

    ConfigStore* m_store;
    QWidget* m_window;
    AllowExpiry* m_allows;
    QList<DeniedClient> m_pending;
    QTimer m_tick; // the remaining time shown, while any timed allow runs
};

} // namespace ui
} // namespace sg
