#include "mainwindow.h"

#include "accesscontroller.h"
#include "colorscheme.h"
#include "config/configstore.h"
#include "config/routeedits.h"
#include "config/toxicedits.h"
#include "configedit.h"
#include "connectionactions.h"
#include "exposedialog.h"
#include "faults/faultindicator.h"
#include "faults/faultspanel.h"
#include "faults/faultwords.h"
#include "faults/pausedconnections.h"
#include "models/connectiontablemodel.h"
#include "models/deniedclientsmodel.h"
#include "models/eventlogmodel.h"
#include "models/nodesmodel.h"
#include "models/routesmodel.h"
#include "models/routestatsmodel.h"
#include "panes/certificatespane.h"
#include "panes/connectionspane.h"
#include "panes/deniedpane.h"
#include "panes/desktopintegration.h"
#include "panes/desktopnotifier.h"
#include "panes/eventlogdock.h"
#include "panes/noticebanner.h"
#include "panes/routespane.h"
#include "panes/statisticspane.h"
#include "panes/statusbar.h"
#include "proxy/engine.h"
#include "queries/queriespanel.h"
#include "remoteapisixwindow.h"
#include "routeeditor/routeeditor.h"
#include "viewstyle.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDateTime>
#include <QDockWidget>
#include <QFile>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QSplitter>
#include <QTabWidget>
#include <QTimer>
#include <QVBoxLayout>
#include <memory>

namespace sg {

using namespace sg::ui;

namespace {

QIcon appIcon(const QStyle* style)
{
    // The resource is linked into the application; tests run without it.
    const QString path = QStringLiteral(":/icons/streamgate.svg");
    return QFile::exists(path) ? QIcon(path) : style->standardIcon(QStyle::SP_DriveNetIcon);
}

} // namespace

MainWindow::MainWindow(ConfigStore* store, Engine* engine, QWidget* parent, AllowExpiry* allows)
    : QMainWindow(parent), m_store(store), m_engine(engine)
{
    setWindowTitle(tr("Streamgate"));
    setWindowIcon(appIcon(style()));
    setObjectName(QStringLiteral("mainWindow"));

    m_routesModel = new RoutesModel(this);
    m_connections = new ConnectionTableModel(this);
    m_denied = new DeniedClientsModel(this);
    m_stats = new RouteStatsModel(this);
    m_nodes = new NodesModel(this);
    m_events = new EventLogModel(this);
    m_access = new AccessController(store, this, engine, allows);
    // Only a session bus the desktop announces: no autolaunch of one where there is none.
    m_notifier = new DesktopNotifier(qEnvironmentVariableIsSet("DBUS_SESSION_BUS_ADDRESS")
                                         ? QDBusConnection::sessionBus()
                                         : QDBusConnection(QStringLiteral("no-session-bus")),
                                     this);
    m_closeAtEndAction =
        new QAction(tr("&Close a client's connections when its access ends"), this);
    m_closeAtEndAction->setObjectName(QStringLiteral("closeAtEndAction"));
    m_closeAtEndAction->setCheckable(true);
    m_closeAtEndAction->setChecked(true);
    connect(m_closeAtEndAction, &QAction::toggled, m_access,
            &AccessController::setClosesConnectionsAtEnd);

    buildActions();

    auto* central = new QWidget(this);
    auto* centralLayout = new QVBoxLayout(central);
    centralLayout->setContentsMargins(0, 0, 0, 0);
    centralLayout->setSpacing(0);
    // The banner: first refusals (when there is no tray), config load problems.
    m_banner = new NoticeBanner(central);
    centralLayout->addWidget(m_banner);

    m_mainSplitter = new QSplitter(Qt::Horizontal, central);
    m_mainSplitter->setObjectName(QStringLiteral("mainSplitter"));
    m_routesPane = new RoutesPane(m_routesModel, m_connections, store, engine, m_mainSplitter);
    m_mainSplitter->addWidget(m_routesPane);

    m_tabs = new QTabWidget(m_mainSplitter);
    m_tabs->setObjectName(QStringLiteral("tabs"));
    m_tabs->setDocumentMode(true);
    m_connectionsPane = new ConnectionsPane(m_connections, engine, m_tabs);
    m_deniedPane = new DeniedPane(m_denied, m_tabs);
    m_statisticsPane = new StatisticsPane(m_stats, m_nodes, m_tabs);
    m_editor = new RouteEditor(store, m_tabs);
    m_editor->setObjectName(QStringLiteral("routeEditor"));
    m_faultsPanel = new FaultsPanel(store, engine, m_tabs);
    m_faultsPanel->setObjectName(QStringLiteral("faultsPanel"));
    m_tabs->addTab(m_connectionsPane, tr("Connections"));
    m_tabs->addTab(m_deniedPane, tr("Denied clients"));
    m_tabs->addTab(m_statisticsPane, tr("Statistics"));
    m_tabs->addTab(m_editor, tr("Route settings"));
    m_tabs->addTab(m_faultsPanel, tr("Faults"));
    m_queriesPanel = new QueriesPanel(store, engine, m_tabs);
    m_queriesPanel->setObjectName(QStringLiteral("queriesPanel"));
    m_tabs->addTab(m_queriesPanel, tr("Queries"));
    m_certificatesPane = new CertificatesPane(store, engine, m_banner, m_tabs);
    m_tabs->addTab(m_certificatesPane, tr("Certificates"));
    m_mainSplitter->addWidget(m_tabs);
    m_mainSplitter->setStretchFactor(0, 0);
    m_mainSplitter->setStretchFactor(1, 1);
    m_mainSplitter->setSizes({400, 1000});
    centralLayout->addWidget(m_mainSplitter, 1);
    setCentralWidget(central);

    auto* eventDock = new EventLogDock(m_events, this);
    addDockWidget(Qt::BottomDockWidgetArea, eventDock);
    resizeDocks({eventDock}, {170}, Qt::Vertical);
    m_statusBar = new StatusBar(m_clearFaultsAction, this);
    setStatusBar(m_statusBar);
    m_desktop = new DesktopIntegration(this, m_clearFaultsAction, m_quitAction);
    m_colorScheme = new ColorScheme(this);
    buildMenus(eventDock);
    connectPanes();
    updateTray();

    if (m_store) {
        connect(m_store, &ConfigStore::changed, this,
                [this](const ConfigDiff&, const Config& config) {
                    if (!m_store->fileIsBroken()) // fixed by hand and reloaded
                        hideNotice(QStringLiteral("load"));
                    onConfigChanged(config);
                });
        onConfigChanged(m_store->config());
        showLoadProblems();
    }

    m_timer = new QTimer(this);
    connect(m_timer, &QTimer::timeout, this, &MainWindow::refreshInBackground);
    m_snapshotThread.setMaxThreadCount(1);
    restoreSettings();
    if (m_engine) {
        connect(m_engine, &Engine::eventsAvailable, this,
                [this] { m_events->addEvents(m_engine->eventsSince(m_events->lastSeq())); });
        m_timer->start(1000 / m_refreshRate);
        refreshNow();
    } else {
        m_statusBar->showEngineMissing();
    }
    m_routesPane->selectFirstRoute();
    m_routesPane->updateActions();
}

MainWindow::~MainWindow()
{
    saveSettings();
}

// ---- building -------------------------------------------------------------------------------

// The window's own actions; the panes make theirs.
void MainWindow::buildActions()
{
    QStyle* s = style();
    m_findAction = new QAction(tr("&Find connections"), this);
    m_findAction->setShortcut(QKeySequence::Find);
    connect(m_findAction, &QAction::triggered, this, [this] {
        m_tabs->setCurrentWidget(m_connectionsPane);
        m_connectionsPane->focusFilter();
    });

    m_refreshAction = new QAction(themedIcon("view-refresh", s, QStyle::SP_BrowserReload),
                                  tr("&Refresh now"), this);
    m_refreshAction->setShortcut(QKeySequence::Refresh);
    connect(m_refreshAction, &QAction::triggered, this, &MainWindow::refreshNow);

    m_remoteApisixAction = new QAction(tr("Manage a &remote APISIX…"), this);
    m_remoteApisixAction->setObjectName(QStringLiteral("remoteApisixAction"));
    connect(m_remoteApisixAction, &QAction::triggered, this, [this] { openRemoteApisix(); });

    m_clearFaultsAction = new QAction(tr("C&lear all faults"), this);
    m_clearFaultsAction->setObjectName(QStringLiteral("clearFaultsAction"));
    m_clearFaultsAction->setToolTip(
        tr("Remove every toxic and bring back every route taken down as a fault"));
    m_clearFaultsAction->setEnabled(false);
    connect(m_clearFaultsAction, &QAction::triggered, this, [this] { clearAllFaults(); });
    m_switchOffToxicsAction = new QAction(tr("&Switch every toxic off"), this);
    m_switchOffToxicsAction->setObjectName(QStringLiteral("switchOffToxicsAction"));
    m_switchOffToxicsAction->setToolTip(
        tr("Keep every toxic, switched off, to switch back on one by one later"));
    m_switchOffToxicsAction->setEnabled(false);
    connect(m_switchOffToxicsAction, &QAction::triggered, this, [this] {
        if (m_store && commitConfigEdit(
                           m_store, [](const Config& c) { return withToxicsSwitchedOff(c); }, this,
                           tr("Cannot switch the toxics off")))
            statusBar()->showMessage(tr("Every toxic switched off (kept in the Faults tab)"), 6000);
    });
    m_showFaultsAction = new QAction(tr("&Faults of the selected route"), this);
    connect(m_showFaultsAction, &QAction::triggered, this, [this] { showFaults(); });

    m_allowLastAction = new QAction(tr("&Allow the refused client…"), this);
    m_allowLastAction->setObjectName(QStringLiteral("allowLastAction"));
    m_allowLastAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_A));

    m_quitAction = new QAction(themedIcon("application-exit", s, QStyle::SP_DialogCloseButton),
                               tr("&Quit"), this);
    m_quitAction->setShortcut(QKeySequence::Quit);
    connect(m_quitAction, &QAction::triggered, this, [this] {
        m_quitting = true;
        close();
        QApplication::quit();
    });
}

void MainWindow::buildMenus(QDockWidget* eventDock)
{
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(m_connectionsPane->exportAction());
    file->addSeparator();
    file->addAction(m_quitAction);
    QMenu* routes = menuBar()->addMenu(tr("&Routes"));
    routes->addAction(m_routesPane->newAction());
    routes->addAction(m_routesPane->exposeAction());
    routes->addAction(m_routesPane->duplicateAction());
    routes->addAction(m_routesPane->enableAction());
    routes->addSeparator();
    routes->addAction(m_routesPane->deleteAction());
    QMenu* connections = menuBar()->addMenu(tr("&Connections"));
    connections->setObjectName(QStringLiteral("connectionsMenu"));
    connections->addAction(m_findAction);
    connections->addAction(m_connectionsPane->closeAction());
    m_connectionsPane->faultActions()->addTo(connections);
    connections->addAction(m_connectionsPane->copyAction());
    connections->addSeparator();
    connections->addAction(m_connectionsPane->allowAction());
    connections->addAction(m_connectionsPane->blockAction());
    // Enabled for the selection and the current row, as in the table's context menu.
    connect(connections, &QMenu::aboutToShow, m_connectionsPane, &ConnectionsPane::updateActions);
    QMenu* faults = menuBar()->addMenu(tr("F&aults"));
    faults->setObjectName(QStringLiteral("faultsMenu"));
    faults->addAction(m_showFaultsAction);
    faults->addSeparator();
    faults->addAction(m_switchOffToxicsAction);
    faults->addAction(m_clearFaultsAction);
    QMenu* view = menuBar()->addMenu(tr("&View"));
    view->addAction(m_refreshAction);
    view->setObjectName(QStringLiteral("viewMenu"));
    view->addAction(eventDock->toggleViewAction());
    view->addMenu(m_connectionsPane->columnsMenu());
    view->addMenu(m_colorScheme->createMenu(view));
    QMenu* settings = menuBar()->addMenu(tr("&Settings"));
    settings->addAction(m_desktop->closeToTrayAction());
    settings->addAction(m_closeAtEndAction);
    settings->addAction(m_remoteApisixAction);
    // Window-wide shortcuts that are not on a focused widget.
    for (QAction* a :
         {m_routesPane->newAction(), m_routesPane->exposeAction(), m_routesPane->duplicateAction(),
          m_findAction, m_refreshAction, m_allowLastAction, m_quitAction})
        addAction(a);
}

void MainWindow::connectPanes()
{
    connect(m_routesPane, &RoutesPane::currentRouteChanged, this,
            &MainWindow::onRouteSelectionChanged);
    connect(m_routesPane, &RoutesPane::editRequested, this,
            [this] { m_tabs->setCurrentWidget(m_editor); });
    connect(m_routesPane, &RoutesPane::newRouteRequested, this, &MainWindow::addRoute);
    connect(m_routesPane, &RoutesPane::exposeRequested, this, &MainWindow::openExposeDialog);
    connect(m_routesPane, &RoutesPane::duplicateRequested, this, &MainWindow::duplicateRoute);
    connect(m_routesPane, &RoutesPane::routeDeleted, this, [this](const QString& id) {
        if (m_editor->routeId() == id)
            m_editor->clear();
    });
    connect(m_routesPane, &RoutesPane::routeToggled, m_editor, &RouteEditor::editRoute);
    connect(m_routesPane, &RoutesPane::message, m_statusBar, &QStatusBar::showMessage);

    connect(m_connectionsPane, &ConnectionsPane::refreshRateChanged, this,
            &MainWindow::setRefreshRate);
    connect(m_connectionsPane, &ConnectionsPane::refreshRequested, this, &MainWindow::refreshNow);
    connect(m_connectionsPane, &ConnectionsPane::allowRequested, m_access,
            &AccessController::allowClient);
    connect(m_connectionsPane, &ConnectionsPane::blockRequested, m_access,
            &AccessController::blockClient);
    connect(m_connectionsPane, &ConnectionsPane::message, m_statusBar, &QStatusBar::showMessage);

    connect(m_deniedPane, &DeniedPane::allowRequested, m_access, &AccessController::allowClient);
    connect(m_notifier, &DesktopNotifier::allowRequested, m_access, &AccessController::allowClient);
    m_denied->setAccessText([this](const QString& ip, const QString& routeId) {
        if (!m_access->isAllowed(ip, routeId))
            return QString();
        const QString timed = m_access->timedAccessText(ip, routeId);
        return timed.isEmpty() ? tr("Allowed") : tr("Allowed (%1)").arg(timed);
    });
    connect(m_access, &AccessController::timedAccessChanged, this, [this] {
        m_routesModel->setTimedAccess(m_access->timedAccessByRoute());
        m_denied->refreshAccess();
    });
    // A client refused again after its timed access ended is announced again (banner, tray,
    // notification), as a first refusal is.
    connect(m_access, &AccessController::accessEnded, this,
            [this](const QString& ip, const QString& routeId) {
                m_denied->announceAgain(ip, routeId);
                m_denied->refreshAccess();
            });
    // A clean quit ends the allows that last until Streamgate quits.
    connect(qApp, &QCoreApplication::aboutToQuit, m_access, &AccessController::endSessionAccess);
    connect(m_deniedPane, &DeniedPane::titleChanged, this, [this](const QString& title) {
        m_tabs->setTabText(m_tabs->indexOf(m_deniedPane), title);
    });
    connect(m_statisticsPane, &StatisticsPane::routeClicked, this, &MainWindow::selectRoute);
    connect(m_certificatesPane, &CertificatesPane::showRequested, this,
            [this] { m_tabs->setCurrentWidget(m_certificatesPane); });
    connect(m_certificatesPane, &CertificatesPane::noticeDone, this,
            [this] { hideNotice(QStringLiteral("certificates")); });
    connect(m_certificatesPane, &CertificatesPane::message, m_statusBar, &QStatusBar::showMessage);

    connect(m_editor, &RouteEditor::saved, this, [this](const QString& id) {
        selectRoute(id);
        statusBar()->showMessage(
            tr("Saved %1: applied to the running proxy").arg(m_routeNames.value(id, id)), 5000);
    });
    connect(m_editor, &RouteEditor::dirtyChanged, this, [this](bool dirty) {
        m_tabs->setTabText(m_tabs->indexOf(m_editor),
                           dirty ? tr("Route settings •") : tr("Route settings"));
    });
    connect(m_faultsPanel, &FaultsPanel::message, this,
            [this](const QString& text) { statusBar()->showMessage(text, 6000); });
    connect(m_faultsPanel, &FaultsPanel::hitsChanged, m_connectionsPane,
            &ConnectionsPane::setHighlighted);
    connect(m_queriesPanel, &QueriesPanel::message, this,
            [this](const QString& text) { statusBar()->showMessage(text, 6000); });
    connect(m_tabs, &QTabWidget::currentChanged, this, [this] {
        if (m_tabs->currentWidget() == m_queriesPanel)
            m_queriesPanel->refresh(); // read each refresh only while it shows
    });

    connect(m_denied, &DeniedClientsModel::firstRefusal, this, &MainWindow::onFirstRefusal);
    connect(m_access, &AccessController::clientAllowed, this, [this] {
        if (m_banner->key() == QStringLiteral("refusal"))
            showNextRefusal();
        updateTray();
    });
    connect(m_access, &AccessController::message, m_statusBar, &QStatusBar::showMessage);

    connect(m_statusBar->faultIndicator(), &FaultIndicator::openRequested, this,
            &MainWindow::showFaults);
    connect(m_statusBar->faultIndicator(), &FaultIndicator::connectionsRequested, this,
            [this] { m_tabs->setCurrentWidget(m_connectionsPane); });

    connect(m_desktop, &DesktopIntegration::showRequested, this, &MainWindow::bringToFront);
    connect(m_desktop, &DesktopIntegration::toggleRequested, this, [this] {
        if (isVisible() && !isMinimized())
            hide();
        else
            bringToFront();
    });
    connect(m_desktop, &DesktopIntegration::pauseAllRequested, this,
            [this] { setAllPaused(!m_allPaused); });
    connect(m_desktop, &DesktopIntegration::allowRequested, m_access,
            &AccessController::allowLastRefusal);
    connect(m_allowLastAction, &QAction::triggered, this, &MainWindow::chooseAllowDuration);
    connect(m_desktop, &DesktopIntegration::messageClicked, this, [this] {
        bringToFront();
        m_tabs->setCurrentWidget(m_deniedPane);
    });
}

// A file that could not be loaded at start: said in the banner, with its backup when one exists.
void MainWindow::showLoadProblems()
{
    const LoadResult loaded = m_store->lastLoadResult();
    if (loaded.ok() || loaded.status == LoadResult::Status::Loaded)
        return;
    QList<NoticeBanner::Action> actions;
    if (loaded.backupAvailable) {
        actions << NoticeBanner::Action(tr("Recover backup"), [this] {
            const LoadResult result = m_store->loadBackup();
            if (result.ok()) {
                hideNotice(QStringLiteral("load"));
                onConfigChanged(m_store->config());
            } else {
                QMessageBox::warning(this, tr("The backup cannot be loaded either"),
                                     formatProblems(result.problems));
            }
        });
    }
    m_banner->showNotice(
        QStringLiteral("load"),
        tr("%1 could not be loaded, so nothing is proxied and changes are not saved:\n%2")
            .arg(m_store->path(), formatProblems(loaded.problems)),
        actions);
}

ExposeDialog* MainWindow::openExposeDialog()
{
    if (!m_store)
        return nullptr;
    auto* dialog = new ExposeDialog(m_store, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &ExposeDialog::exposed, this, [this](const QString& id, const QString& text) {
        selectRoute(id);
        m_statusBar->showMessage(text, 8000);
    });
    dialog->open();
    return dialog;
}

void MainWindow::bringToFront()
{
    setWindowState(windowState() & ~Qt::WindowMinimized); // a maximized one stays maximized
    show();
    raise();
    activateWindow();
}

// ---- settings -------------------------------------------------------------------------------

void MainWindow::restoreSettings()
{
    QSettings s;
    if (!restoreGeometry(s.value(QStringLiteral("window/geometry")).toByteArray()))
        resize(1400, 860);
    restoreState(s.value(QStringLiteral("window/state")).toByteArray());
    m_mainSplitter->restoreState(s.value(QStringLiteral("window/mainSplitter")).toByteArray());
    m_statisticsPane->restoreSettings(s);
    m_connectionsPane->restoreSettings(s);
    m_routesPane->restoreSettings(s);
    m_deniedPane->restoreSettings(s);
    m_desktop->restoreSettings(s);
    m_colorScheme->restoreSettings(s);
    m_closeAtEndAction->setChecked(s.value(QStringLiteral("access/closeAtEnd"), true).toBool());
    m_refreshRate =
        m_connectionsPane->chooseRefreshRate(s.value(QStringLiteral("ui/refreshRate"), 4).toInt());
}

void MainWindow::saveSettings()
{
    QSettings s;
    s.setValue(QStringLiteral("window/geometry"), saveGeometry());
    s.setValue(QStringLiteral("window/state"), saveState());
    s.setValue(QStringLiteral("window/mainSplitter"), m_mainSplitter->saveState());
    m_statisticsPane->saveSettings(s);
    m_connectionsPane->saveSettings(s);
    m_routesPane->saveSettings(s);
    m_deniedPane->saveSettings(s);
    m_desktop->saveSettings(s);
    m_colorScheme->saveSettings(s);
    s.setValue(QStringLiteral("access/closeAtEnd"), m_closeAtEndAction->isChecked());
    s.setValue(QStringLiteral("ui/refreshRate"), m_refreshRate);
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    if (!m_quitting && m_desktop->keepsRunningOnClose()) {
        hide();
        m_desktop->showStillRunningHint();
        event->ignore();
        return;
    }
    if (!m_quitting && m_editor->isDirty()) {
        const auto answer = QMessageBox::question(
            this, tr("Unsaved route"), tr("The route form has unsaved changes. Quit anyway?"),
            QMessageBox::Discard | QMessageBox::Cancel);
        if (answer != QMessageBox::Discard) {
            event->ignore();
            return;
        }
    }
    saveSettings();
    event->accept();
}

// ---- refresh --------------------------------------------------------------------------------

void MainWindow::setRefreshRate(int perSecond)
{
    m_refreshRate = qBound(1, perSecond, 20);
    m_connectionsPane->showRefreshRate(m_refreshRate);
    if (m_timer && m_timer->isActive())
        m_timer->start(1000 / m_refreshRate);
}

void MainWindow::setConnectionsPaused(bool paused)
{
    m_connectionsPane->setPaused(paused);
}

void MainWindow::refreshNow()
{
    if (!m_engine)
        return;
    applySnapshot(m_engine->snapshot());
}

void MainWindow::refreshInBackground()
{
    if (!m_engine || m_snapshotPending)
        return; // the one under way is applied when it comes
    m_snapshotPending = true;
    const quint64 asked = m_refreshes;
    m_snapshotThread.start([this, engine = m_engine, asked] {
        auto snapshot = std::make_shared<const Snapshot>(engine->snapshot());
        // Queued to the window: dropped if it is gone by then.
        QMetaObject::invokeMethod(
            this,
            [this, snapshot, asked] {
                m_snapshotPending = false;
                if (asked == m_refreshes)
                    applySnapshot(*snapshot);
            },
            Qt::QueuedConnection);
    });
}

void MainWindow::applySnapshot(const Snapshot& snapshot)
{
    ++m_refreshes;
    if (!m_connectionsPane->isPaused())
        m_connections->applySnapshot(snapshot);
    m_denied->applySnapshot(snapshot);
    m_access->applySnapshot(snapshot);
    m_stats->applySnapshot(snapshot);
    m_nodes->applySnapshot(snapshot);
    m_routesModel->setListeners(snapshot.listeners);
    m_routesModel->setNodes(snapshot.nodes);
    m_faultsPanel->setToxicStatus(snapshot.toxics);
    if (m_tabs->currentWidget() == m_queriesPanel)
        m_queriesPanel->refresh();
    m_statusBar->faultIndicator()->setPausedConnections(
        pausedConnectionCount(snapshot.active, QDateTime::currentMSecsSinceEpoch()));
    updateClearFaults();
    if (snapshot.lastEventSeq > m_events->lastSeq())
        m_events->addEvents(m_engine->eventsSince(m_events->lastSeq()));
    m_statusBar->showTraffic(snapshot, m_stats->totalRateUp(), m_stats->totalRateDown());
    if (m_tabs->currentWidget() == m_statisticsPane || m_statisticsPane->isChartVisible())
        m_statisticsPane->updateChart(selectedRouteId());
    updateTray();
    m_connectionsPane->repaintRows();
}

void MainWindow::updateTray()
{
    m_desktop->update(m_connections->openCount(), m_allPaused,
                      m_statusBar->faultIndicator()->summary());
    const QList<DeniedClient>& pending = m_access->pendingRefusals();
    if (pending.isEmpty())
        m_desktop->setLastRefusal(QString(), QString());
    else
        m_desktop->setLastRefusal(
            pending.last().clientIp,
            m_routeNames.value(pending.last().routeId, pending.last().routeId));
}

// ---- config and the selected route ----------------------------------------------------------

void MainWindow::onConfigChanged(const Config& config)
{
    const QString selected = selectedRouteId();
    m_routeNames.clear();
    for (const StreamRoute& r : config.streamRoutes)
        m_routeNames.insert(r.idString(), r.displayName());
    for (const DisabledRoute& d : disabledRoutes(config))
        m_routeNames.insert(d.route.idString(), d.route.displayName());
    QHash<QString, QString> upstreamNames;
    for (const Upstream& u : config.upstreams)
        upstreamNames.insert(u.idString(), u.name.isEmpty() ? u.idString() : u.name);
    m_connectionsPane->setRouteNames(m_routeNames);
    m_statisticsPane->setRouteNames(m_routeNames);
    QHash<QString, QString> addresses;
    for (const StreamRoute& r : config.streamRoutes)
        addresses.insert(r.idString(), ConnectionsPane::routeAddress(config, r));
    m_statisticsPane->setRouteAddresses(addresses);

    m_selectingRoute = true;
    m_routesModel->setConfig(config);
    m_selectingRoute = false;
    m_faultsPanel->setConfig(config);
    m_queriesPanel->setConfig(config);
    updateFaults(config);
    m_connections->setRouteNames(m_routeNames);
    m_denied->setRouteNames(m_routeNames);
    m_stats->setRouteNames(m_routeNames);
    m_nodes->setNames(m_routeNames, upstreamNames);
    m_events->setRouteNames(m_routeNames);
    m_connectionsPane->setConfig(config);

    if (m_allPaused && m_engine) {
        for (const StreamRoute& r : config.streamRoutes)
            m_engine->setRouteDrained(r.idString(), true);
    }
    m_routesPane->reselect(selected);
    m_routesPane->updateActions();
}

ui::RemoteApisixWindow* MainWindow::openRemoteApisix()
{
    if (!m_remoteWindow)
        m_remoteWindow = new ui::RemoteApisixWindow(this);
    m_remoteWindow->show();
    m_remoteWindow->raise();
    m_remoteWindow->activateWindow();
    return m_remoteWindow;
}

QString MainWindow::selectedRouteId() const
{
    return m_routesPane->selectedRouteId();
}

void MainWindow::selectRoute(const QString& id)
{
    m_routesPane->selectRoute(id);
}

bool MainWindow::confirmDiscardEdits()
{
    if (!m_editor->isDirty())
        return true;
    const auto answer = QMessageBox::question(
        this, tr("Unsaved route"), tr("The route form has unsaved changes. Discard them?"),
        QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Cancel);
    return answer == QMessageBox::Discard;
}

void MainWindow::onRouteSelectionChanged()
{
    const QString id = selectedRouteId();
    m_routesPane->updateActions();
    m_statisticsPane->updateChart(id);
    m_connectionsPane->setCurrentRoute(id);
    m_faultsPanel->setRoute(id);
    m_queriesPanel->setRoute(id);
    if (m_store)
        updateFaultsTabText(m_store->config()); // the tab's count is the selected route's
    if (m_selectingRoute || id == m_lastRouteId)
        return;
    if (!id.isEmpty() && m_editor->isDirty() && m_editor->routeId() != id) {
        if (!confirmDiscardEdits()) {
            m_selectingRoute = true;
            selectRoute(m_lastRouteId);
            m_selectingRoute = false;
            return;
        }
    }
    m_lastRouteId = id;
    if (id.isEmpty())
        m_editor->clear();
    else if (m_editor->routeId() != id || !m_editor->isDirty())
        m_editor->editRoute(id);
}

void MainWindow::addRoute()
{
    if (!m_store || !confirmDiscardEdits())
        return;
    m_editor->newRoute();
    m_tabs->setCurrentWidget(m_editor);
}

void MainWindow::duplicateRoute(const QString& id)
{
    if (!confirmDiscardEdits())
        return;
    m_editor->duplicateRoute(id);
    m_tabs->setCurrentWidget(m_editor);
}

// ---- faults ---------------------------------------------------------------------------------

void MainWindow::updateFaults(const Config& config)
{
    const ActiveFaults faults = activeFaults(config);
    QStringList lines;
    for (const QString& id : faults.routeIds)
        for (const QString& line : routeFaultLines(config, id))
            lines << QStringLiteral("%1 — %2").arg(m_routeNames.value(id, id), line);
    m_faultCount = faults.count;
    m_statusBar->faultIndicator()->setFaults(faults.count, faults.routeIds, lines);
    bool anyOn = false;
    bool any = false; // toxics switched off count for Clear all too: it removes them
    for (const QList<ToxicSpec>& list : config.streamgate.toxicMap())
        for (const ToxicSpec& t : list) {
            anyOn = anyOn || t.enabled;
            any = true;
        }
    m_configFaults = !faults.isEmpty() || any;
    updateClearFaults();
    m_switchOffToxicsAction->setEnabled(anyOn && m_store);
    updateFaultsTabText(config);
    updateTray();
}

void MainWindow::updateFaultsTabText(const Config& config)
{
    const int selected = int(routeFaultLines(config, selectedRouteId()).size());
    m_tabs->setTabText(m_tabs->indexOf(m_faultsPanel),
                       selected > 0 ? tr("Faults (%1)").arg(selected) : tr("Faults"));
}

void MainWindow::updateClearFaults()
{
    m_clearFaultsAction->setEnabled(
        (m_configFaults && m_store) ||
        (m_statusBar->faultIndicator()->pausedConnections() > 0 && m_engine));
}

bool MainWindow::clearAllFaults()
{
    const int count = m_faultCount;
    const bool cleared = m_configFaults && m_store; // read before the commit clears it
    if (cleared && !commitConfigEdit(
                       m_store, [](const Config& config) { return withFaultsCleared(config); },
                       this, tr("Cannot clear the faults")))
        return false;
    const int resumed = m_engine ? m_engine->resumeAll() : 0; // now, not from the last refresh
    if (!cleared && resumed == 0)
        return false;
    QStringList done;
    if (cleared)
        done << tr("Cleared %n fault(s)", nullptr, count);
    if (resumed > 0)
        done << tr("Resumed %n paused connection(s)", nullptr, resumed);
    statusBar()->showMessage(done.join(QStringLiteral(", ")) + tr(": every route runs clean"),
                             6000);
    refreshNow();
    return true;
}

void MainWindow::showFaults(const QString& routeId)
{
    if (!routeId.isEmpty())
        selectRoute(routeId);
    m_tabs->setCurrentWidget(m_faultsPanel);
}

void MainWindow::setAllPaused(bool paused)
{
    m_allPaused = paused;
    if (m_engine && m_store) {
        for (const StreamRoute& r : m_store->config().streamRoutes)
            m_engine->setRouteDrained(r.idString(), paused);
    }
    m_statusBar->setAllPaused(paused);
    updateTray();
}

// ---- clients --------------------------------------------------------------------------------

bool MainWindow::allowClient(const QString& ip, const QString& routeId)
{
    return m_access->allowClient(ip, routeId);
}

bool MainWindow::blockClient(const QString& ip, const QString& routeId)
{
    return m_access->blockClient(ip, routeId);
}

int MainWindow::closeConnections(const QList<quint64>& ids, bool confirm)
{
    return m_connectionsPane->closeConnections(ids, confirm);
}

void MainWindow::onFirstRefusal(const DeniedClient& denied)
{
    if (!m_access->addRefusal(denied))
        return;
    const QString routeName = m_routeNames.value(denied.routeId, denied.routeId);
    // A desktop notification with the durations as buttons; the tray's balloon without one.
    m_notifier->notifyRefusal(
        denied.clientIp, denied.routeId, routeName,
        [this, text = tr("%1 was refused on %2").arg(denied.clientIp, routeName)] {
            m_desktop->notifyRefusal(text);
        });
    // The banner carries the Allow action in the window in every case.
    showNextRefusal();
    updateTray();
}

void MainWindow::showNextRefusal()
{
    const QList<DeniedClient>& pending = m_access->pendingRefusals();
    if (pending.isEmpty()) {
        hideNotice(QStringLiteral("refusal"));
        return;
    }
    // A config problem is more important; refusals wait in the tray and the list. A
    // certificate's expiry (said in the event log too) gives way.
    if (!m_banner->key().isEmpty() && m_banner->key() != QStringLiteral("refusal") &&
        m_banner->key() != QStringLiteral("certificates"))
        return;
    const DeniedClient d = pending.last();
    QString text = tr("<b>%1</b> was refused on <b>%2</b>.")
                       .arg(d.clientIp.toHtmlEscaped(),
                            m_routeNames.value(d.routeId, d.routeId).toHtmlEscaped());
    if (pending.size() > 1)
        text += QLatin1Char(' ') + tr("(%n more refused client(s) in Denied clients)", nullptr,
                                      int(pending.size() - 1));
    m_banner->showNotice(QStringLiteral("refusal"), text,
                         {NoticeBanner::Action(tr("&Allow…"), [] {}),
                          NoticeBanner::Action(tr("Show denied"),
                                               [this] { m_tabs->setCurrentWidget(m_deniedPane); }),
                          NoticeBanner::Action(tr("Dismiss"), [this] {
                              m_access->dismissRefusals();
                              hideNotice(QStringLiteral("refusal"));
                              updateTray();
                          })});
    auto* menu = new QMenu(m_banner);
    menu->setObjectName(QStringLiteral("refusalAllowMenu"));
    for (const AllowDuration duration : kAllowDurations)
        menu->addAction(allowDurationText(duration), this, [this, d, duration] {
            m_access->allowClient(d.clientIp, d.routeId, duration);
        });
    m_banner->setButtonMenu(0, menu);
}

// Ctrl+Shift+A: the durations for the refusal in the banner, from the keyboard.
void MainWindow::chooseAllowDuration()
{
    auto* menu = m_banner->findChild<QMenu*>(QStringLiteral("refusalAllowMenu"));
    auto* button = m_banner->findChild<QPushButton*>(QStringLiteral("bannerButton0"));
    if (m_banner->key() != QStringLiteral("refusal") || !menu || !button) {
        statusBar()->showMessage(
            tr("No refused client waits for an answer; Denied clients lists them all (Enter on "
               "a row allows it)"),
            6000);
        return;
    }
    menu->popup(button->mapToGlobal(QPoint(0, button->height())));
    menu->setActiveAction(menu->actions().value(1));
}

// Hides the notice of key; refusals still waiting take the banner when a load problem leaves it.
void MainWindow::hideNotice(const QString& key)
{
    if (m_banner->hideNotice(key) && key != QStringLiteral("refusal") &&
        !m_access->pendingRefusals().isEmpty())
        showNextRefusal();
}

} // namespace sg
