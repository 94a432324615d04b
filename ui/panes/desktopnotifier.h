#pragma once
// A refused client as a desktop notification with one button per allow duration, through the
// freedesktop Notifications interface (org.freedesktop.Notifications: Notify with actions, the
// ActionInvoked signal) on the session bus. Every call is asynchronous: a bus without that
// service (no desktop, a bare window manager) answers with an error, and the caller's fallback
// (the tray's balloon) runs instead. Nothing here waits on the bus.

#include "accesscontroller.h"

#include <QDBusConnection>
#include <QHash>
#include <QObject>
#include <functional>

namespace sg::ui {

class DesktopNotifier final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DesktopNotifier)

public:
    explicit DesktopNotifier(const QDBusConnection& bus, QObject* parent = nullptr);

    // The bus the notifications go to (the session bus by default; tests give a private one).
    void setBus(const QDBusConnection& bus);

    // Notifies that ip was refused on the route, with an action per allow duration; fallback
    // runs when no notification service takes it.
    void notifyRefusal(const QString& ip, const QString& routeId, const QString& routeName,
                       const std::function<void()>& fallback);

    // The action key of a duration in the Notify call ("allow-once", "allow-hour", ...).
    static QString actionKey(AllowDuration duration);

Q_SIGNALS:
    // The user chose a button of a refusal's notification.
    void allowRequested(const QString& ip, const QString& routeId, sg::ui::AllowDuration duration);
    // A notification was shown by the service (its id), or could not be (the fallback ran).
    void shown(uint id);
    void unavailable(const QString& reason);

private Q_SLOTS:
    void onActionInvoked(uint id, const QString& key);
    void onClosed(uint id, uint reason);

private:
    struct Refusal
    {
        QString ip;
        QString routeId;
    };
    QDBusConnection m_bus;
    QHash<uint, Refusal> m_shown;
};

} // namespace sg::ui
