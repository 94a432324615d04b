#include "accesscontroller.h"

#include "config/configstore.h"

#include <QDateTime>
#include <QMessageBox>
#include <QWidget>

namespace sg::ui {

QString allowDurationText(AllowDuration duration)
{
    switch (duration) {
    case AllowDuration::Once:
        return AccessController::tr("Allow &once");
    case AllowDuration::Hour:
        return AccessController::tr("Allow for 1 &hour");
    case AllowDuration::UntilQuit:
        return AccessController::tr("Allow until Streamgate &quits");
    case AllowDuration::Always:
        return AccessController::tr("&Always allow");
    }
    return {};
}

AccessController::AccessController(ConfigStore* store, QWidget* window, Engine* engine,
                                   AllowExpiry* allows)
    : QObject(window), m_store(store), m_window(window),
      m_allows(allows ? allows : new AllowExpiry(store, engine, this))
{
    setObjectName(QStringLiteral("accessController"));
    m_tick.setInterval(1000);
    connect(&m_tick, &QTimer::timeout, this, &AccessController::timedAccessChanged);
    connect(m_allows, &AllowExpiry::timedAllowsChanged, this,
            &AccessController::onTimedAllowsChanged);
    connect(m_allows, &AllowExpiry::accessEnded, this,
            [this](const QString& ip, const QString& routeId, const QString& routeName) {
                Q_EMIT accessEnded(ip, routeId);
                Q_EMIT message(tr("Access for %1 to route %2 ended").arg(ip, routeName), 8000);
            });
    connect(m_allows, &AllowExpiry::endFailed, this,
            [this](const QString& text) { Q_EMIT message(text, 10000); });
    onTimedAllowsChanged();
}

void AccessController::onTimedAllowsChanged()
{
    const bool any = !m_allows->timedAllows().isEmpty();
    if (any && !m_tick.isActive())
        m_tick.start();
    else if (!any)
        m_tick.stop();
    Q_EMIT timedAccessChanged();
}

bool AccessController::allowClient(const QString& ip, const QString& routeId,
                                   AllowDuration duration)
{
    if (!m_store)
        return false;
    const AccessEdit edit = m_allows->allow(ip, routeId, duration);
    if (!edit.why.isEmpty()) {
        Q_EMIT message(edit.why, 6000);
        return false;
    }
    if (!edit.problems.isEmpty()) {
        QMessageBox::warning(m_window, tr("Cannot allow %1").arg(ip),
                             formatProblems(edit.problems));
        return false;
    }
    m_pending.removeIf(
        [&](const DeniedClient& d) { return d.clientIp == ip && d.routeId == routeId; });
    Q_EMIT clientAllowed(ip, routeId);
    const QString& name = edit.routeName;
    QString text;
    switch (duration) {
    case AllowDuration::Once:
        text = tr("%1 may connect to %2 once").arg(ip, name);
        break;
    case AllowDuration::Hour:
        text = tr("%1 may connect to %2 for 1 hour").arg(ip, name);
        break;
    case AllowDuration::UntilQuit:
        text = tr("%1 may connect to %2 until Streamgate quits").arg(ip, name);
        break;
    case AllowDuration::Always:
        text = tr("%1 may now connect to %2").arg(ip, name);
        break;
    }
    Q_EMIT message(text, 6000);
    return true;
}

bool AccessController::blockClient(const QString& ip, const QString& routeId)
{
    if (!m_store)
        return false;
    const AccessEdit edit = m_allows->block(ip, routeId);
    if (!edit.why.isEmpty()) {
        QMessageBox::information(m_window, tr("Block %1").arg(ip), edit.why);
        return false;
    }
    if (!edit.problems.isEmpty()) {
        QMessageBox::warning(m_window, tr("Cannot block %1").arg(ip),
                             formatProblems(edit.problems));
        return false;
    }
    Q_EMIT message(tr("%1 is refused on %2 from now on; its open connections stay until closed")
                       .arg(ip, edit.routeName),
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

bool AccessController::allowLastRefusal(AllowDuration duration)
{
    if (m_pending.isEmpty())
        return false;
    const DeniedClient d = m_pending.takeLast();
    return allowClient(d.clientIp, d.routeId, duration);
}

// ---- what the window shows ------------------------------------------------------------------

QString AccessController::timedAccessText(const QString& ip, const QString& routeId) const
{
    const std::optional<TimedAllow> allow = m_allows->timedAllow(ip, routeId);
    if (!allow)
        return {};
    if (allow->duration == AllowDuration::UntilQuit)
        return tr("until Streamgate quits");
    if (allow->duration == AllowDuration::Once)
        return allow->connected ? tr("once, connected") : tr("once");
    // Shown in the units of an hour as the user chose it, whatever the clock's scale.
    const qint64 left = allow->remainingMs(QDateTime::currentMSecsSinceEpoch());
    const qint64 hour = m_allows->hourLength();
    const qint64 minutes = qMax<qint64>(0, (left * 60 + hour - 1) / hour);
    if (minutes >= 60)
        return tr("1 h left");
    return tr("%1 min left").arg(minutes);
}

QHash<QString, QStringList> AccessController::timedAccessByRoute() const
{
    QHash<QString, QStringList> result;
    for (const TimedAllow& allow : m_allows->timedAllows())
        result[allow.routeId] << QStringLiteral("%1 (%2)").arg(
            allow.client, timedAccessText(allow.client, allow.routeId));
    return result;
}

} // namespace sg::ui
