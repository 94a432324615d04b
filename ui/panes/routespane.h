#pragma once
// The routes list on the left of the window, in match order (the first route that matches a
// connection takes it; a drag reorders), with the route actions of its tool bar, its context menu
// and the Routes menu: new, expose a local service, duplicate, enabled, delete. Deleting, enabling
// and moving are edits committed here through the ConfigStore; a new or duplicated route is a job
// for the route form, and exposing a service one for its dialog, so those only ask for it.

#include <QWidget>

class QAction;
class QSettings;
class QTreeView;

namespace sg {

class ConfigStore;
class Engine;

namespace ui {

class ConnectionTableModel;
class RoutesModel;

class RoutesPane final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RoutesPane)

public:
    // connections: what the delete question counts the route's open connections from. store
    // and engine may be null (no file, no proxy): the actions are then disabled.
    RoutesPane(RoutesModel* routes, const ConnectionTableModel* connections, ConfigStore* store,
               Engine* engine, QWidget* parent = nullptr);

    QAction* newAction() const { return m_newAction; }
    QAction* exposeAction() const { return m_exposeAction; }
    QAction* duplicateAction() const { return m_duplicateAction; }
    QAction* enableAction() const { return m_enableAction; }
    QAction* deleteAction() const { return m_deleteAction; }
    // Enables the actions for the selected route.
    void updateActions();

    QString selectedRouteId() const;
    void selectRoute(const QString& id); // an unknown id changes nothing
    // The first route, when there is one and none is current.
    void selectFirstRoute();
    // After the config changed: the first route when the one selected before (previous) is gone.
    void reselect(const QString& previous);

    // Asks, then deletes the selected route and closes its connections.
    void deleteSelectedRoute();
    // Disables the selected route (kept here, out of the proxy) or enables it again.
    void toggleSelectedRouteEnabled();

    void restoreSettings(const QSettings& settings);
    void saveSettings(QSettings& settings) const;

Q_SIGNALS:
    void currentRouteChanged();
    void editRequested(); // a double click on a route
    void newRouteRequested();
    void exposeRequested(); // "Expose a local service…"
    void duplicateRequested(const QString& id);
    void routeDeleted(const QString& id);
    void routeToggled(const QString& id); // enabled or disabled, and selected
    // A line for the status bar: what was done.
    void message(const QString& text, int timeoutMs);

private:
    RoutesModel* m_routes;
    const ConnectionTableModel* m_connections;
    ConfigStore* m_store;
    Engine* m_engine;
    QTreeView* m_view = nullptr;
    QAction* m_newAction = nullptr;
    QAction* m_exposeAction = nullptr;
    QAction* m_duplicateAction = nullptr;
    QAction* m_deleteAction = nullptr;
    QAction* m_enableAction = nullptr;
};

} // namespace ui
} // namespace sg
