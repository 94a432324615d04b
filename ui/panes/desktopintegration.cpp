#include "panes/desktopintegration.h"

#include "faults/faultindicator.h"

#include <QAction>
#include <QMenu>
#include <QSettings>
#include <QSystemTrayIcon>
#include <QWidget>

namespace sg::ui {

DesktopIntegration::DesktopIntegration(QWidget* window, QAction* clearFaults, QAction* quit)
    : QObject(window), m_window(window)
{
    m_closeToTrayAction = new QAction(tr("Keep running in the &tray when closed"), this);
    m_closeToTrayAction->setCheckable(true);
    if (!QSystemTrayIcon::isSystemTrayAvailable())
        return;
    m_tray = new QSystemTrayIcon(m_window->windowIcon(), this);
    auto* menu = new QMenu(m_window);
    menu->addAction(tr("Show Streamgate"), this, &DesktopIntegration::showRequested);
    m_pauseAction =
        menu->addAction(tr("Pause all routes"), this, &DesktopIntegration::pauseAllRequested);
    m_allowMenu = menu->addMenu(QString());
    m_allowMenu->setObjectName(QStringLiteral("trayAllowMenu"));
    for (const AllowDuration duration : kAllowDurations)
        m_allowMenu->addAction(allowDurationText(duration), this,
                               [this, duration] { Q_EMIT allowRequested(duration); });
    m_allowMenu->menuAction()->setVisible(false);
    menu->addAction(clearFaults);
    menu->addSeparator();
    menu->addAction(quit);
    m_tray->setContextMenu(menu);
    connect(m_tray, &QSystemTrayIcon::activated, this,
            [this](QSystemTrayIcon::ActivationReason reason) {
                if (reason == QSystemTrayIcon::Trigger || reason == QSystemTrayIcon::DoubleClick)
                    Q_EMIT toggleRequested();
            });
    connect(m_tray, &QSystemTrayIcon::messageClicked, this, &DesktopIntegration::messageClicked);
    m_tray->show();
}

bool DesktopIntegration::keepsRunningOnClose() const
{
    return m_tray && m_tray->isVisible() && m_closeToTrayAction->isChecked();
}

void DesktopIntegration::showStillRunningHint()
{
    if (!m_tray || m_hintShown)
        return;
    m_tray->showMessage(tr("Streamgate is still running"),
                        tr("The proxy keeps running in the tray. Use Quit in its menu to stop it."),
                        QSystemTrayIcon::Information, 4000);
    m_hintShown = true;
}

bool DesktopIntegration::notifyRefusal(const QString& text)
{
    if (!m_tray || !m_tray->isVisible() || !QSystemTrayIcon::supportsMessages())
        return false;
    m_tray->showMessage(tr("Connection refused"),
                        text + tr(" — open Streamgate, or the tray menu, to allow it"),
                        QSystemTrayIcon::Warning, 8000);
    return true;
}

void DesktopIntegration::update(int activeConnections, bool allPaused, const QString& chaos)
{
    if (!m_tray)
        return;
    QString tip = tr("Streamgate — %n active connection(s)", nullptr, activeConnections);
    if (allPaused)
        tip += tr(" — paused: new connections are refused");
    if (!chaos.isEmpty())
        tip += QStringLiteral(" — ") + chaos;
    m_tray->setToolTip(tip);
    m_pauseAction->setText(allPaused ? tr("Resume all routes") : tr("Pause all routes"));
    // The icon is painted only when what it shows changes, not on every refresh.
    const int iconState = (allPaused ? 1 : 0) | (chaos.isEmpty() ? 0 : 2);
    if (iconState != m_iconState) {
        m_iconState = iconState;
        QIcon icon = m_window->windowIcon();
        if (allPaused)
            icon = QIcon(icon.pixmap(32, QIcon::Disabled));
        m_tray->setIcon(chaos.isEmpty() ? icon : withFaultBadge(icon));
    }
}

void DesktopIntegration::setLastRefusal(const QString& clientIp, const QString& routeName)
{
    if (!m_tray)
        return;
    if (!clientIp.isEmpty())
        m_allowMenu->setTitle(tr("Allow %1 on %2").arg(clientIp, routeName));
    m_allowMenu->menuAction()->setVisible(!clientIp.isEmpty());
}

void DesktopIntegration::restoreSettings(const QSettings& settings)
{
    m_closeToTrayAction->setChecked(
        settings.value(QStringLiteral("ui/closeToTray"), true).toBool());
}

void DesktopIntegration::saveSettings(QSettings& settings) const
{
    settings.setValue(QStringLiteral("ui/closeToTray"), m_closeToTrayAction->isChecked());
}

} // namespace sg::ui
