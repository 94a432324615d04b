#include "accesscontroller.h"

#include "config/configstore.h"
#include "config/routeedits.h"

#include <QMessageBox>
#include <QWidget>
#include <algorithm>

namespace sg::ui {

AccessController::AccessController(ConfigStore* store, QWidget* window)
    : QObject(window), m_store(store), m_window(window)
{
}

// Allows or blocks `ip` on route `routeId`, on the config as it is now (ConfigStore::update
// takes in a hand edit on disk first). Returns the problems that refused the result; *why says
// why nothing changed otherwise (the route is gone, or the client already is as asked).
Problems AccessController::editClient(const QString& ip, const QString& routeId, bool allow,
                                      QString* routeName, QString* why)
{
    const Problems problems = m_store->update([&](Config& config) {
        const auto it = std::find_if(config.streamRoutes.begin(), config.streamRoutes.end(),
                                     [&](const StreamRoute& r) { return r.idString() == routeId; });
        std::optional<StreamRoute> next;
        if (it == config.streamRoutes.end()) {
            *why = tr("The route %1 no longer exists").arg(routeId);
        } else {
            *routeName = it->displayName();
            const StreamRoute route = withOwnIpRestriction(config, *it);
            next = allow ? withClientAllowed(route, ip, why) : withClientBlocked(route, ip, why);
        }
        if (!next)
            return Problems{Problem{QString(), QString(), *why}};
        *it = *next;
        return Problems{};
    });
    return why->isEmpty() ? problems : Problems{};
}

bool AccessController::allowClient(const QString& ip, const QString& routeId)
{
    if (!m_store)
        return false;
    QString name, why;
    const Problems problems = editClient(ip, routeId, true, &name, &why);
    if (!why.isEmpty()) {
        Q_EMIT message(why, 6000);
        return false;
    }
    if (!problems.isEmpty()) {
        QMessageBox::warning(m_window, tr("Cannot allow %1").arg(ip), formatProblems(problems));
        return false;
    }
    m_pending.removeIf(
        [&](const DeniedClient& d) { return d.clientIp == ip && d.routeId == routeId; });
    Q_EMIT clientAllowed(ip, routeId);
    Q_EMIT message(tr("%1 may now connect to %2").arg(ip, name), 6000);
    return true;
}

bool AccessController::blockClient(const QString& ip, const QString& routeId)
{
    if (!m_store)
        return false;
    QString name, why;
    const Problems problems = editClient(ip, routeId, false, &name, &why);
    if (!why.isEmpty()) {
        QMessageBox::information(m_window, tr("Block %1").arg(ip), why);
        return false;
    }
    if (!problems.isEmpty()) {
        QMessageBox::warning(m_window, tr("Cannot block %1").arg(ip), formatProblems(problems));
        return false;
    }
    Q_EMIT message(
        tr("%1 is refused on %2 from now on; its open connections stay until closed").arg(ip, name),
        8000);
    return true;
}

bool AccessController::addRefusal(const DeniedClient& denied)
{
    if (denied.routeId.isEmpty() || denied.reason != CloseReason::DeniedIpRestriction)
        return false;
    m_pending.removeIf([&](const DeniedClient& d) {
        return d.clientIp == denied.clientIp && d.routeId == denied.routeId;
    });
    m_pending << denied;
    return true;
}

bool AccessController::allowLastRefusal()
{
    if (m_pending.isEmpty())
        return false;
    const DeniedClient d = m_pending.takeLast();
    return allowClient(d.clientIp, d.routeId);
}

} // namespace sg::ui
