#pragma once
// The Connections tab: the live connections table (filtered by text and route, closed ones kept
// as history on request, frozen by Pause while the proxy keeps running) and what can be done to
// the selection: close it, reset or pause it (ConnectionActions), copy it, allow or block the
// client of the current row, show only the connections of the current row's program (sorting
// by the Program column groups them instead), export the table as CSV. The same actions serve the
// table's context menu and the window's menus. The refresh rate of the whole window is chosen here.
// Which columns show is a preset (all, network, database) or the user's own choice; "automatic"
// shows the database columns for a route that carries MySQL, PostgreSQL, Redis or MQTT (its
// settings say so, or such a connection was seen on it) and the network ones otherwise. An empty
// table says how to reach the route it is about.

#include "runtime/allowexpiry.h"

#include <QHash>
#include <QList>
#include <QMap>
#include <QSet>
#include <QWidget>

class QAction;
class QActionGroup;
class QCheckBox;
class QComboBox;
class QLineEdit;
class QMenu;
class QModelIndex;
class QSettings;
class QTableView;
class QToolButton;

namespace sg {

class Engine;
struct Config;
struct StreamRoute;

namespace ui {

class ConnectionActions;
class ConnectionFilter;
class ConnectionTableModel;
class EmptyState;

class ConnectionsPane final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConnectionsPane)

public:
    enum class ColumnPreset {
        Automatic, // Database for a route that carries a database protocol, Network otherwise
        All,
        Network,  // who, where to, how much, how it ended
        Database, // who, and what the database session is: user, database, server, TLS, queries
        Custom,   // columns picked one by one from the header's menu
    };
    Q_ENUM(ColumnPreset)

    // engine may be null (no proxy): nothing can then be closed, reset or paused.
    ConnectionsPane(ConnectionTableModel* connections, Engine* engine, QWidget* parent = nullptr);

    QAction* closeAction() const { return m_closeAction; }
    ConnectionActions* faultActions() const { return m_faultActions; }
    QAction* copyAction() const { return m_copyAction; }
    QAction* allowAction() const { return m_allowAction; }
    QAction* blockAction() const { return m_blockAction; }
    QAction* exportAction() const { return m_exportAction; }
    // Enables the actions for the selection and names the client of the current row (a menu
    // that shows them is about to open).
    void updateActions();

    // The routes the route filter offers (the one chosen stays when it still exists), and the
    // names the client actions say.
    void setConfig(const Config& config);
    void setRouteNames(const QHash<QString, QString>& names) { m_routeNames = names; }
    // The route selected in the routes list: the automatic columns and the empty table's hint
    // are about it while the route filter shows every route.
    void setCurrentRoute(const QString& routeId);

    // The presets, compact addresses and one entry per column, for the View menu (the header's
    // context menu shows the same).
    QMenu* columnsMenu() const { return m_columnsMenu; }
    ColumnPreset columnPreset() const { return m_preset; }
    void setColumnPreset(ColumnPreset preset);
    // The preset in effect: Automatic resolved for the current route.
    ColumnPreset effectiveColumnPreset() const;
    static bool presetShows(ColumnPreset preset, int column);
    // Where a client connects to reach `route`: "127.0.0.1:13306" (a listener on every address
    // is reached on loopback), "UDP 127.0.0.1:5353" for a route only a UDP listener takes;
    // empty when no listener takes it.
    static QString routeAddress(const Config& config, const StreamRoute& route);

    bool isPaused() const { return m_paused; }
    void setPaused(bool paused);
    // Shows perSecond in the refresh rate choice when it is one of its choices.
    void showRefreshRate(int perSecond);
    // Shows perSecond, or 4 / s when it is not a choice; returns the rate shown.
    int chooseRefreshRate(int perSecond);

    // Closes connections through the engine, after asking when `confirm`.
    int closeConnections(const QList<quint64>& ids, bool confirm);
    // The text filter, focused with its text selected (Ctrl+F).
    void focusFilter();
    // The connections a toxic of the Faults tab hits, drawn amber.
    void setHighlighted(const QList<quint64>& ids);
    // Repaints the rows: the fade of new and closed ones follows the clock, not data changes.
    void repaintRows();

    void restoreSettings(const QSettings& settings);
    void saveSettings(QSettings& settings) const;

Q_SIGNALS:
    void refreshRateChanged(int perSecond); // chosen by the user
    // Allow, with the duration chosen in its submenu (as the banner's).
    void allowRequested(const QString& ip, const QString& routeId, sg::AllowDuration duration);
    void blockRequested(const QString& ip, const QString& routeId);
    // Connections were acted on, or the table was let go of Pause: a refresh shows it.
    void refreshRequested();
    // A line for the status bar: what was done.
    void message(const QString& text, int timeoutMs);

private:
    QList<quint64> selectedConnectionIds(bool openOnly) const;
    void updateActionsFor(const QModelIndex& current);
    void showContextMenu(const QPoint& pos);
    void showColumnMenu(const QPoint& pos);
    void fillColumnsMenu(QMenu* menu);
    void applyColumnPreset();
    QString contextRoute() const;
    bool carriesDatabase(const QString& routeId) const;
    QString emptyText() const;
    void updateEmptyState();
    void copySelected();
    void exportCsv();
    void setProgramFilter(const QString& name); // empty: every program

    ConnectionTableModel* m_connections;
    ConnectionFilter* m_filter;
    Engine* m_engine;
    QHash<QString, QString> m_routeNames;
    QString m_currentRoute;
    QString m_firstRoute;
    QHash<QString, QString> m_routeAddresses; // route id -> where a client connects
    QSet<QString> m_databaseRoutes;           // routes whose settings say a database protocol
    bool m_paused = false;
    ColumnPreset m_preset = ColumnPreset::Automatic;

    QAction* m_closeAction = nullptr;
    ConnectionActions* m_faultActions = nullptr; // reset, pause, resume; a client's too
    QAction* m_copyAction = nullptr;
    QAction* m_allowAction = nullptr; // the submenu of durations
    QMenu* m_allowMenu = nullptr;
    QAction* m_blockAction = nullptr;
    QAction* m_exportAction = nullptr;
    QAction* m_programAction = nullptr; // "Show only mysql's connections"
    QActionGroup* m_presetGroup = nullptr;
    QMap<ColumnPreset, QAction*> m_presetActions;
    QAction* m_compactAction = nullptr;
    QMenu* m_columnsMenu = nullptr;
    EmptyState* m_empty = nullptr;

    QLineEdit* m_filterEdit = nullptr;
    QToolButton* m_programFilterButton = nullptr; // "Program: mysql ✕", shown while filtered
    QComboBox* m_routeFilter = nullptr;
    QCheckBox* m_showClosed = nullptr;
    QToolButton* m_pauseButton = nullptr;
    QComboBox* m_rateCombo = nullptr;
    QTableView* m_view = nullptr;
};

} // namespace ui
} // namespace sg
