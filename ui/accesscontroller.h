#pragma once
// Allowing and blocking a client IP on a route: what every Allow and Block of the window does
// (the refusal banner, the tray, the Denied clients list, the connections table). Each is one
// edit of the route's ip-restriction through the ConfigStore on the config as it is now (a hand
// edit on disk is taken in first), which the engine applies at once. It also keeps the refusals
// that wait for an answer: clients a route's allow-list refused, newest last, until one is
// allowed or the user dismisses them.

#include "model/problem.h"
#include "stats/snapshot.h"

#include <QList>
#include <QObject>

class QWidget;

namespace sg {

class ConfigStore;

namespace ui {

class AccessController final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AccessController)

public:
    // window: the parent of the boxes that say why something was refused. store may be null
    // (nothing to edit): every allow and block is then refused.
    AccessController(ConfigStore* store, QWidget* window);

    // False, with the reason in message() or a box, when nothing changed.
    bool allowClient(const QString& ip, const QString& routeId);
    bool blockClient(const QString& ip, const QString& routeId);

    // Keeps a first refusal for an answer (one per client and route, the newest last); false,
    // keeping nothing, for a refusal that Allow would not undo (no route matched, a limit).
    bool addRefusal(const DeniedClient& denied);
    const QList<DeniedClient>& pendingRefusals() const { return m_pending; }
    // Allows the newest refusal, which leaves the list whether or not that works.
    bool allowLastRefusal();
    void dismissRefusals() { m_pending.clear(); }

Q_SIGNALS:
    // ip may connect to routeId now; its refusal has left the list.
    void clientAllowed(const QString& ip, const QString& routeId);
    // A line for the status bar: what was done, or why not.
    void message(const QString& text, int timeoutMs);

private:
    Problems editClient(const QString& ip, const QString& routeId, bool allow, QString* routeName,
                        QString* why);

    ConfigStore* m_store;
    QWidget* m_window;
    QList<DeniedClient> m_pending;
};

} // namespace ui
} // namespace sg
