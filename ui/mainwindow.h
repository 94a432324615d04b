#pragma once
// The main window: the routes list (match order) on the left; live connections, denied
// clients, statistics and the route form as tabs; the event log as a dock. A timer takes an
// engine Snapshot a few times per second and feeds every model (row-level diffs only); the GUI
// thread never touches a proxied socket. Works without an engine (config editing only).

#include "model/problem.h"
#include "stats/snapshot.h"

#include <QMainWindow>
#include <QSet>
#include <functional>

class QAction;
class QCheckBox;
class QComboBox;
class QFrame;
class QLabel;
class QLineEdit;
class QModelIndex;
class QSplitter;
class QSystemTrayIcon;
class QTabWidget;
class QTableView;
class QTimer;
class QToolButton;
class QTreeView;

class QChart;
class QChartView;
class QLineSeries;
class QValueAxis;

namespace sg {

class ConfigStore;
class Engine;
struct Config;
struct ConfigDiff;

namespace ui {
class AccessController;
class ConnectionActions;
class ConnectionFilter;
class ConnectionTableModel;
class DeniedClientsModel;
class EventLogModel;
class FaultIndicator;
class FaultsPanel;
class QueriesPanel;
class NodesModel;
class RemoteApisixWindow;
class RouteEditor;
class RoutesModel;
class RouteStatsModel;
} // namespace ui

class MainWindow final : public QMainWindow
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)

public:
    MainWindow(ConfigStore* store, Engine* engine, QWidget* parent = nullptr);
    ~MainWindow() override;

    // One refresh now: snapshot, models, status bar, chart (F5).
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

    // Shown (out of the tray or the task bar), raised and given the focus.
    void bringToFront();

protected:
    void closeEvent(QCloseEvent* event) override;
    void changeEvent(QEvent* event) override;

private:
    void buildActions();
    void buildRoutesPanel(QSplitter* splitter);
    QWidget* buildConnectionsTab();
    QWidget* buildDeniedTab();
    QWidget* buildStatisticsTab();
    void buildEventDock();
    void buildStatusBar();
    void buildTray();
    void restoreSettings();
    void saveSettings();

    void onConfigChanged(const Config& config);
    void onRouteSelectionChanged();
    void onFirstRefusal(const DeniedClient& denied);
    void updateRouteActions();
    void updateStatusBar(const Snapshot& snapshot);
    void updateChart();
    void updateTray();
    void updateFaults(const Config& config);
    void updateFaultsTabText(const Config& config);
    void updateClearFaults();
    void applyChartTheme();

    bool confirmDiscardEdits();
    void addRoute();
    void duplicateRoute();
    void deleteRoute();
    void toggleRouteEnabled();
    void setAllPaused(bool paused);

    QList<quint64> selectedConnectionIds(bool openOnly) const;
    void showConnectionMenu(const QPoint& pos);
    void updateConnectionActions(const QModelIndex& current);
    void copySelectedConnections();
    void exportConnections();

    void showBanner(const QString& key, const QString& text,
                    const QList<QPair<QString, std::function<void()>>>& actions);
    void hideBanner(const QString& key);
    void showNextRefusal();

    ConfigStore* m_store;
    Engine* m_engine;
    ui::AccessController* m_access = nullptr; // allow, block, the refusals waiting for an answer

    ui::RoutesModel* m_routesModel = nullptr;
    ui::ConnectionTableModel* m_connections = nullptr;
    ui::ConnectionFilter* m_connectionFilter = nullptr;
    ui::DeniedClientsModel* m_denied = nullptr;
    ui::RouteStatsModel* m_stats = nullptr;
    ui::NodesModel* m_nodes = nullptr;
    ui::EventLogModel* m_events = nullptr;

    QTreeView* m_routesView = nullptr;
    ui::RouteEditor* m_editor = nullptr;
    QTabWidget* m_tabs = nullptr;
    QWidget* m_connectionsTab = nullptr;
    QWidget* m_deniedTab = nullptr;
    QWidget* m_statsTab = nullptr;
    ui::FaultsPanel* m_faultsPanel = nullptr;
    ui::QueriesPanel* m_queriesPanel = nullptr;
    ui::FaultIndicator* m_faultIndicator = nullptr;
    int m_faultCount = 0;
    bool m_configFaults = false; // toxics (on or off) or routes down as a fault in the config
    QTableView* m_connectionsView = nullptr;
    bool m_connectionColumnsChosen = false; // columns picked from the header menu
    QTableView* m_deniedView = nullptr;
    QTableView* m_statsView = nullptr;
    QTableView* m_nodesView = nullptr;
    QTableView* m_eventView = nullptr;
    QSplitter* m_mainSplitter = nullptr;
    QSplitter* m_statsSplitter = nullptr;
    QLineEdit* m_connectionFilterEdit = nullptr;
    QComboBox* m_routeFilter = nullptr;
    QCheckBox* m_showClosed = nullptr;
    QToolButton* m_pauseButton = nullptr;
    QComboBox* m_rateCombo = nullptr;
    QLabel* m_chartTitle = nullptr;
    QChartView* m_chartView = nullptr;
    QChart* m_chart = nullptr;
    QLineSeries* m_upSeries = nullptr;
    QLineSeries* m_downSeries = nullptr;
    QLineSeries* m_activeSeries = nullptr;
    QValueAxis* m_timeAxis = nullptr;
    QValueAxis* m_rateAxis = nullptr;
    QValueAxis* m_activeAxis = nullptr;

    QFrame* m_banner = nullptr;
    QLabel* m_bannerText = nullptr;
    QWidget* m_bannerButtons = nullptr;
    QString m_bannerKey;

    QLabel* m_listenersLabel = nullptr;
    QLabel* m_activeLabel = nullptr;
    QLabel* m_rateLabel = nullptr;
    QLabel* m_pausedLabel = nullptr;

    QSystemTrayIcon* m_tray = nullptr;
    QAction* m_trayPauseAction = nullptr;
    QAction* m_trayAllowAction = nullptr;

    QAction* m_newAction = nullptr;
    QAction* m_duplicateAction = nullptr;
    QAction* m_deleteAction = nullptr;
    QAction* m_enableAction = nullptr;
    QAction* m_closeConnectionsAction = nullptr;
    ui::ConnectionActions* m_faultActions = nullptr; // reset, pause, resume; a client's too
    QAction* m_copyAction = nullptr;
    QAction* m_allowClientAction = nullptr;
    QAction* m_blockClientAction = nullptr;
    QAction* m_exportAction = nullptr;
    QAction* m_findAction = nullptr;
    QAction* m_refreshAction = nullptr;
    QAction* m_closeToTrayAction = nullptr;
    QAction* m_remoteApisixAction = nullptr;
    QAction* m_clearFaultsAction = nullptr;
    QAction* m_switchOffToxicsAction = nullptr;
    QAction* m_showFaultsAction = nullptr;
    ui::RemoteApisixWindow* m_remoteWindow = nullptr;
    QAction* m_quitAction = nullptr;

    QTimer* m_timer = nullptr;
    int m_refreshRate = 4;
    bool m_connectionsPaused = false;
    bool m_allPaused = false;
    int m_trayIconState = -1; // what the tray icon shows: 1 all paused, 2 faults (updateTray)
    bool m_quitting = false;
    bool m_trayHintShown = false;
    bool m_selectingRoute = false;
    QString m_lastRouteId;
    QHash<QString, QString> m_routeNames;
};

} // namespace sg
