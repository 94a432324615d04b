#pragma once
// The window's presence on the desktop outside itself: the tray icon and its menu (show the
// window, pause all routes, allow the last refused client, clear all faults, quit), its tooltip
// and its icon (greyed while all routes are paused, badged while chaos is on), the balloon
// messages, and the choice to keep running in the tray when the window is closed. Without a
// system tray (some desktops, the offscreen platform) there is no icon and closing quits.

#include "accesscontroller.h"

#include <QObject>

class QAction;
class QMenu;
class QSettings;
class QSystemTrayIcon;
class QWidget;

namespace sg::ui {

class DesktopIntegration final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DesktopIntegration)

public:
    // window: whose icon the tray shows (and the parent). clearFaults and quit join the menu.
    DesktopIntegration(QWidget* window, QAction* clearFaults, QAction* quit);

    // Settings → Keep running in the tray when closed.
    QAction* closeToTrayAction() const { return m_closeToTrayAction; }
    // Whether closing the window only hides it: a tray icon shows and the user wants that.
    bool keepsRunningOnClose() const;
    // Says once per session that the proxy still runs in the tray (the window was just hidden).
    void showStillRunningHint();
    // A balloon for a first refusal, where the tray shows balloons; false where it does not.
    bool notifyRefusal(const QString& text);

    // What the tray says: its tooltip and icon, the pause entry's words.
    void update(int activeConnections, bool allPaused, const QString& chaos);
    // The "Allow <client> on <route>" submenu (its durations) for the newest refusal; hidden for
    // an empty ip.
    void setLastRefusal(const QString& clientIp, const QString& routeName);

    void restoreSettings(const QSettings& settings);
    void saveSettings(QSettings& settings) const;

Q_SIGNALS:
    void showRequested();     // Show Streamgate
    void toggleRequested();   // a click on the icon: the window shown or hidden
    void pauseAllRequested(); // Pause (or Resume) all routes
    void allowRequested(sg::ui::AllowDuration duration); // Allow the newest refusal
    void messageClicked();                               // a balloon

private:
    QWidget* m_window;
    QSystemTrayIcon* m_tray = nullptr;
    QAction* m_closeToTrayAction;
    QAction* m_pauseAction = nullptr;
    QMenu* m_allowMenu = nullptr;
    int m_iconState = -1; // what the icon shows: 1 all paused, 2 faults (update)
    bool m_hintShown = false;
};

} // namespace sg::ui
