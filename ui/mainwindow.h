#pragma once
// The main window: the routes list (match order) on the left; live connections, denied
// clients, statistics and the route form as tabs; the event log as a dock. A timer takes an
// engine Snapshot a few times per second and feeds every model (row-level diffs only); the GUI
// thread never touches a proxied socket. Works without an engine (config editing only).
// Each pane is a class of ui/panes; the window makes the models, assembles the panes, wires them
// and keeps what spans several: the refresh, the selected route, faults, the window's settings.

#include "stats/snapshot.h"

#include <QHash>
#include <QMainWindow>
#include <QThreadPool>

class QAction;
class QDockWidget;
class QSplitter;
class QTabWidget;
class QTimer;

namespace sg {

class AllowExpiry;
class ConfigStore;
class Engine;
struct Config;

namespace ui {
class AccessController;
class CertificatesPane;
class ColorScheme;
class ConnectionsPane;
class ConnectionTableModel;
class DeniedClientsModel;
class DeniedPane;
class DesktopIntegration;
class DesktopNotifier;
class EventLogModel;
class ExposeDialog;
class FaultsPanel;
class NodesModel;
class NoticeBanner;
class QueriesPanel;
class RemoteApisixWindow;
class RouteEditor;
class RoutesModel;
class RoutesPane;
class RouteStatsModel;
class StatisticsPane;
class StatusBar;
} // namespace ui

class MainWindow final : public QMainWindow
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)

public:
    // allows: the process's timed allows (runtime/allowexpiry.h), which the admin API shares;
    // null: the window keeps its own.
    MainWindow(ConfigStore* store, Engine* engine, QWidget* parent = nullptr,
               AllowExpiry* allows = nullptr);
    ~MainWindow() override;

    // One refresh now: snapshot, models, status bar, chart (F5). The periodic refresh takes its
    // snapshot off the GUI thread instead (refreshInBackground): copying 10,000 connections
    // there costs about 4 ms, a third of a refresh's budget.
    void refreshNow();
    void setRefreshRate(int perSecond);
    int refreshRate() const { return m_refreshRate; }
    void setConnectionsPaused(bool paused);

    // Allow or block a client IP on a route through the store (applies live). False, with the
    // reason in the status bar, when nothing changed.
    bool allowClient(const QString& ip, const QString& routeId);
    bool blockClient(const QString& ip, const QString& routeId);
    // Closes proxied connections through the engine, after asking when `confirm`.
    int closeConnections(const QList<quint64>& ids, bool confirm);

    QString selectedRouteId() const;
    void selectRoute(const QString& id);

    // Faults → Clear all faults: every toxic removed, every route down as a fault back up, every
    // paused connection resumed.
    bool clearAllFaults();
    // The Faults tab, on the route given (the selected one when empty).
    void showFaults(const QString& routeId = QString());

    // Settings → Manage a remote APISIX: one window, reused; it never touches this store.
    ui::RemoteApisixWindow* openRemoteApisix();

    // Routes → Expose a local service…: the dialog, opened window-modal (it deletes itself when
    // closed); null without a config store.
    ui::ExposeDialog* openExposeDialog();

    // Shown (out of the tray or the task bar), raised and given the focus.
    void bringToFront();

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void refreshInBackground();
    void applySnapshot(const Snapshot& snapshot);
    void buildActions();
    void buildMenus(QDockWidget* eventDock);
    void connectPanes();
    void showLoadProblems();
    void restoreSettings();
    void saveSettings();

    void onConfigChanged(const Config& config);
    void onRouteSelectionChanged();
    void onFirstRefusal(const DeniedClient& denied);
    void updateTray();
    void updateFaults(const Config& config);
    void updateFaultsTabText(const Config& config);
    void updateClearFaults();

    bool confirmDiscardEdits();
    void addRoute();
    void duplicateRoute(const QString& id);
    void setAllPaused(bool paused);

    void showNextRefusal();
    void chooseAllowDuration();
    void hideNotice(const QString& key);

    ConfigStore* m_store;
    Engine* m_engine;

    ui::RoutesModel* m_routesModel = nullptr;
    ui::ConnectionTableModel* m_connections = nullptr;
    ui::DeniedClientsModel* m_denied = nullptr;
    ui::RouteStatsModel* m_stats = nullptr;
    ui::NodesModel* m_nodes = nullptr;
    ui::EventLogModel* m_events = nullptr;

    ui::AccessController* m_access = nullptr;
    ui::DesktopNotifier* m_notifier = nullptr;
    QAction* m_closeAtEndAction = nullptr;
    QAction* m_allowLastAction = nullptr;
    ui::NoticeBanner* m_banner = nullptr;
    QSplitter* m_mainSplitter = nullptr;
    ui::RoutesPane* m_routesPane = nullptr;
    QTabWidget* m_tabs = nullptr;
    ui::ConnectionsPane* m_connectionsPane = nullptr;
    ui::DeniedPane* m_deniedPane = nullptr;
    ui::StatisticsPane* m_statisticsPane = nullptr;
    ui::RouteEditor* m_editor = nullptr;
    ui::FaultsPanel* m_faultsPanel = nullptr;
    ui::CertificatesPane* m_certificatesPane = nullptr;
    ui::QueriesPanel* m_queriesPanel = nullptr;
    ui::StatusBar* m_statusBar = nullptr;
    ui::DesktopIntegration* m_desktop = nullptr;
    ui::RemoteApisixWindow* m_remoteWindow = nullptr;

    QAction* m_findAction = nullptr;
    QAction* m_refreshAction = nullptr;
    QAction* m_remoteApisixAction = nullptr;
    QAction* m_clearFaultsAction = nullptr;
    QAction* m_switchOffToxicsAction = nullptr;
    QAction* m_showFaultsAction = nullptr;
    QAction* m_quitAction = nullptr;

    ui::ColorScheme* m_colorScheme = nullptr;
    QTimer* m_timer = nullptr;
    int m_refreshRate = 4;
    // The periodic refresh: one snapshot taken at a time on m_snapshotThread, then applied
    // here unless a refreshNow() came after it was asked for (the newer one stays).
    bool m_snapshotPending = false;
    quint64 m_refreshes = 0;
    int m_faultCount = 0;
    bool m_configFaults = false; // toxics (on or off) or routes down as a fault in the config
    bool m_allPaused = false;
    bool m_quitting = false;
    bool m_selectingRoute = false;
    QString m_lastRouteId;
    QHash<QString, QString> m_routeNames;
    // Last, so that it is destroyed first: it waits for a snapshot under way before the rest of
    // the window goes.
    QThreadPool m_snapshotThread;
};

} // namespace sg
