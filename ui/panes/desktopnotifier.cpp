#include "panes/desktopnotifier.h"

#include <QDBusMessage>
#include <QDBusPendingCallWatcher>
#include <QDBusPendingReply>
#include <QVariantMap>

namespace sg::ui {

namespace {

const QString kService = QStringLiteral("org.freedesktop.Notifications");
const QString kPath = QStringLiteral("/org/freedesktop/Notifications");
const QString kInterface = QStringLiteral("org.freedesktop.Notifications");

} // namespace

DesktopNotifier::DesktopNotifier(const QDBusConnection& bus, QObject* parent)
    : QObject(parent), m_bus(bus)
{
    setObjectName(QStringLiteral("desktopNotifier"));
    setBus(bus);
}

void DesktopNotifier::setBus(const QDBusConnection& bus)
{
    if (m_bus.isConnected()) {
        m_bus.disconnect(QString(), kPath, kInterface, QStringLiteral("ActionInvoked"), this,
                         SLOT(onActionInvoked(uint, QString)));
        m_bus.disconnect(QString(), kPath, kInterface, QStringLiteral("NotificationClosed"), this,
                         SLOT(onClosed(uint, uint)));
    }
    m_bus = bus;
    m_shown.clear();
    if (!m_bus.isConnected())
        return;
    // Any sender: naming the service would make Qt look up its owner, a call that waits.
    // The ids of our own notifications tell ours from others'.
    m_bus.connect(QString(), kPath, kInterface, QStringLiteral("ActionInvoked"), this,
                  SLOT(onActionInvoked(uint, QString)));
    m_bus.connect(QString(), kPath, kInterface, QStringLiteral("NotificationClosed"), this,
                  SLOT(onClosed(uint, uint)));
}

QString DesktopNotifier::actionKey(AllowDuration duration)
{
    switch (duration) {
    case AllowDuration::Once:
        return QStringLiteral("allow-once");
    case AllowDuration::Hour:
        return QStringLiteral("allow-hour");
    case AllowDuration::UntilQuit:
        return QStringLiteral("allow-until-quit");
    case AllowDuration::Always:
        return QStringLiteral("allow-always");
    }
    return {};
}

void DesktopNotifier::notifyRefusal(const QString& ip, const QString& routeId,
                                    const QString& routeName, const std::function<void()>& fallback)
{
    if (!m_bus.isConnected()) {
        Q_EMIT unavailable(tr("no session bus"));
        fallback();
        return;
    }
    QStringList actions;
    for (const AllowDuration d : kAllowDurations)
        actions << actionKey(d) << allowDurationText(d).remove(QLatin1Char('&'));
    QDBusMessage call =
        QDBusMessage::createMethodCall(kService, kPath, kInterface, QStringLiteral("Notify"));
    QVariantMap hints;
    hints.insert(QStringLiteral("urgency"), QVariant::fromValue(uchar(1)));
    hints.insert(QStringLiteral("desktop-entry"), QStringLiteral("streamgate"));
    call << QStringLiteral("Streamgate") << uint(0) << QStringLiteral("streamgate")
         << tr("Connection refused") << tr("%1 was refused on %2. Allow it?").arg(ip, routeName)
         << actions << hints << int(-1);
    auto* watcher = new QDBusPendingCallWatcher(m_bus.asyncCall(call, 5000), this);
    connect(watcher, &QDBusPendingCallWatcher::finished, this,
            [this, watcher, ip, routeId, fallback] {
                watcher->deleteLater();
                const QDBusPendingReply<uint> reply = *watcher;
                if (reply.isError()) {
                    Q_EMIT unavailable(reply.error().message());
                    fallback();
                    return;
                }
                m_shown.insert(reply.value(), Refusal{ip, routeId});
                Q_EMIT shown(reply.value());
            });
}

void DesktopNotifier::onActionInvoked(uint id, const QString& key)
{
    const auto it = m_shown.constFind(id);
    if (it == m_shown.cend())
        return; // another program's notification
    const Refusal refusal = *it;
    for (const AllowDuration d : kAllowDurations) {
        if (key == actionKey(d)) {
            m_shown.remove(id);
            Q_EMIT allowRequested(refusal.ip, refusal.routeId, d);
            return;
        }
    }
}

void DesktopNotifier::onClosed(uint id, uint)
{
    m_shown.remove(id);
}

} // namespace sg::ui
