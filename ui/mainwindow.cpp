#include "mainwindow.h"

#include "accesscontroller.h"
#include "config/configstore.h"
#include "config/routeedits.h"
#include "config/toxicedits.h"
#include "configedit.h"
#include "connectionactions.h"
#include "csv.h"
#include "delegates.h"
#include "faults/faultindicator.h"
#include "faults/faultspanel.h"
#include "faults/faultwords.h"
#include "faults/pausedconnections.h"
#include "format.h"
#include "models/connectionfilter.h"
#include "models/connectiontablemodel.h"
#include "models/deniedclientsmodel.h"
#include "models/eventlogmodel.h"
#include "models/nodesmodel.h"
#include "models/roles.h"
#include "models/routesmodel.h"
#include "models/routestatsmodel.h"
#include "proxy/engine.h"
#include "queries/queriespanel.h"
#include "remoteapisixwindow.h"
#include "routeeditor/routeeditor.h"
#include "viewstyle.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QCloseEvent>
#include <QComboBox>
#include <QDateTime>
#include <QDockWidget>
#include <QFile>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QSaveFile>
#include <QScrollBar>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStatusBar>
#include <QStyle>
#include <QSystemTrayIcon>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QToolBar>
#include <QToolButton>
#include <QTreeView>
#include <QVBoxLayout>
#include <QtCharts/QChart>
#include <QtCharts/QChartView>
#include <QtCharts/QLegendMarker>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>
#include <algorithm>

namespace sg {

using namespace sg::ui;

namespace {

// The event log filter: a kind group and free text over every column.
class EventFilter final : public QSortFilterProxyModel
{
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;
    void setKinds(const QList<EventKind>& kinds)
    {
        m_kinds = kinds;
        invalidateRowsFilter();
    }
    void setText(const QString& text)
    {
        m_text = text.trimmed();
        invalidateRowsFilter();
    }

protected:
    bool filterAcceptsRow(int row, const QModelIndex& parent) const override
    {
        const auto* model = static_cast<const EventLogModel*>(sourceModel());
        if (!m_kinds.isEmpty() && !m_kinds.contains(model->eventAt(row).kind))
            return false;
        if (m_text.isEmpty())
            return true;
        for (int c = 0; c < EventLogModel::ColumnCount; ++c) {
            if (model->index(row, c, parent)
                    .data()
                    .toString()
                    .contains(m_text, Qt::CaseInsensitive))
                return true;
        }
        return false;
    }

private:
    QList<EventKind> m_kinds;
    QString m_text;
};

QIcon appIcon(const QStyle* style)
{
    // The resource is linked into the application; tests run without it.
    const QString path = QStringLiteral(":/icons/streamgate.svg");
    return QFile::exists(path) ? QIcon(path) : style->standardIcon(QStyle::SP_DriveNetIcon);
}

QString dot(int health, const QPalette& palette)
{
    return QStringLiteral("<span style=\"color:%1\">●</span>")
        .arg(healthColor(health, palette).name());
}

} // namespace

MainWindow::MainWindow(ConfigStore* store, Engine* engine, QWidget* parent)
    : QMainWindow(parent), m_store(store), m_engine(engine)
{
    setWindowTitle(tr("Streamgate"));
    setWindowIcon(appIcon(style()));
    setObjectName(QStringLiteral("mainWindow"));

    m_routesModel = new RoutesModel(this);
    m_connections = new ConnectionTableModel(this);
    m_connectionFilter = new ConnectionFilter(this);
    m_connectionFilter->setSourceModel(m_connections);
    m_denied = new DeniedClientsModel(this);
    m_stats = new RouteStatsModel(this);
    m_nodes = new NodesModel(this);
    m_events = new EventLogModel(this);
    m_access = new AccessController(store, this);

    buildActions();

    auto* central = new QWidget(this);
    auto* centralLayout = new QVBoxLayout(central);
    centralLayout->setContentsMargins(0, 0, 0, 0);
    centralLayout->setSpacing(0);

    // The banner: first refusals (when there is no tray), config load problems.
    m_banner = new QFrame(central);
    m_banner->setObjectName(QStringLiteral("banner"));
    m_banner->setFrameShape(QFrame::StyledPanel);
    m_banner->setAutoFillBackground(true);
    auto* bannerLayout = new QHBoxLayout(m_banner);
    bannerLayout->setContentsMargins(12, 6, 8, 6);
    auto* bannerIcon = new QLabel(m_banner);
    bannerIcon->setPixmap(style()->standardIcon(QStyle::SP_MessageBoxWarning).pixmap(20));
    m_bannerText = new QLabel(m_banner);
    m_bannerText->setObjectName(QStringLiteral("bannerText"));
    m_bannerText->setWordWrap(true);
    m_bannerButtons = new QWidget(m_banner);
    new QHBoxLayout(m_bannerButtons);
    m_bannerButtons->layout()->setContentsMargins(0, 0, 0, 0);
    bannerLayout->addWidget(bannerIcon);
    bannerLayout->addWidget(m_bannerText, 1);
    bannerLayout->addWidget(m_bannerButtons);
    m_banner->hide();
    centralLayout->addWidget(m_banner);

    m_mainSplitter = new QSplitter(Qt::Horizontal, central);
    m_mainSplitter->setObjectName(QStringLiteral("mainSplitter"));
    buildRoutesPanel(m_mainSplitter);

    m_tabs = new QTabWidget(m_mainSplitter);
    m_tabs->setObjectName(QStringLiteral("tabs"));
    m_tabs->setDocumentMode(true);
    m_connectionsTab = buildConnectionsTab();
    m_deniedTab = buildDeniedTab();
    m_statsTab = buildStatisticsTab();
    m_editor = new RouteEditor(store, m_tabs);
    m_editor->setObjectName(QStringLiteral("routeEditor"));
    m_faultsPanel = new FaultsPanel(store, engine, m_tabs);
    m_faultsPanel->setObjectName(QStringLiteral("faultsPanel"));
    connect(m_faultsPanel, &FaultsPanel::message, this,
            [this](const QString& text) { statusBar()->showMessage(text, 6000); });
    connect(m_faultsPanel, &FaultsPanel::hitsChanged, this, [this](const QList<quint64>& ids) {
        static_cast<ConnectionRowDelegate*>(m_connectionsView->itemDelegate())->setHighlighted(ids);
        m_connectionsView->viewport()->update();
    });
    m_tabs->addTab(m_connectionsTab, tr("Connections"));
    m_tabs->addTab(m_deniedTab, tr("Denied clients"));
    m_tabs->addTab(m_statsTab, tr("Statistics"));
    m_tabs->addTab(m_editor, tr("Route settings"));
    m_tabs->addTab(m_faultsPanel, tr("Faults"));
    m_queriesPanel = new QueriesPanel(store, engine, m_tabs);
    m_queriesPanel->setObjectName(QStringLiteral("queriesPanel"));
    connect(m_queriesPanel, &QueriesPanel::message, this,
            [this](const QString& text) { statusBar()->showMessage(text, 6000); });
    m_tabs->addTab(m_queriesPanel, tr("Queries"));
    connect(m_tabs, &QTabWidget::currentChanged, this, [this] {
        if (m_tabs->currentWidget() == m_queriesPanel)
            m_queriesPanel->refresh(); // read each refresh only while it shows
    });
    m_mainSplitter->addWidget(m_tabs);
    m_mainSplitter->setStretchFactor(0, 0);
    m_mainSplitter->setStretchFactor(1, 1);
    m_mainSplitter->setSizes({400, 1000});
    centralLayout->addWidget(m_mainSplitter, 1);
    setCentralWidget(central);

    buildEventDock();
    buildStatusBar();
    buildTray();

    connect(m_editor, &RouteEditor::saved, this, [this](const QString& id) {
        selectRoute(id);
        statusBar()->showMessage(
            tr("Saved %1: applied to the running proxy").arg(m_routeNames.value(id, id)), 5000);
    });
    connect(m_editor, &RouteEditor::dirtyChanged, this, [this](bool dirty) {
        m_tabs->setTabText(m_tabs->indexOf(m_editor),
                           dirty ? tr("Route settings •") : tr("Route settings"));
    });
    connect(m_denied, &DeniedClientsModel::firstRefusal, this, &MainWindow::onFirstRefusal);
    connect(m_access, &AccessController::clientAllowed, this, [this] {
        if (m_bannerKey == QStringLiteral("refusal"))
            showNextRefusal();
        updateTray();
    });
    connect(m_access, &AccessController::message, this, [this](const QString& text, int timeoutMs) {
        statusBar()->showMessage(text, timeoutMs);
    });
    connect(m_routesModel, &RoutesModel::moveRequested, this, [this](const QString& id, int index) {
        const Problems problems = m_store->moveRoute(id, index);
        if (!problems.isEmpty())
            QMessageBox::warning(this, tr("Cannot move the route"), formatProblems(problems));
        selectRoute(id);
    });

    if (m_store) {
        connect(m_store, &ConfigStore::changed, this,
                [this](const ConfigDiff&, const Config& config) {
                    if (!m_store->fileIsBroken()) // fixed by hand and reloaded
                        hideBanner(QStringLiteral("load"));
                    onConfigChanged(config);
                });
        onConfigChanged(m_store->config());
        const LoadResult loaded = m_store->lastLoadResult();
        if (!loaded.ok() && loaded.status != LoadResult::Status::Loaded) {
            QList<QPair<QString, std::function<void()>>> actions;
            if (loaded.backupAvailable) {
                actions << qMakePair(tr("Recover backup"), std::function<void()>([this] {
                                         const LoadResult result = m_store->loadBackup();
                                         if (result.ok()) {
                                             hideBanner(QStringLiteral("load"));
                                             onConfigChanged(m_store->config());
                                         } else {
                                             QMessageBox::warning(
                                                 this, tr("The backup cannot be loaded either"),
                                                 formatProblems(result.problems));
                                         }
                                     }));
            }
            showBanner(
                QStringLiteral("load"),
                tr("%1 could not be loaded, so nothing is proxied and changes are not saved:\n%2")
                    .arg(m_store->path(), formatProblems(loaded.problems)),
                actions);
        }
    }

    m_timer = new QTimer(this);
    connect(m_timer, &QTimer::timeout, this, &MainWindow::refreshNow);
    restoreSettings();
    if (m_engine) {
        connect(m_engine, &Engine::eventsAvailable, this,
                [this] { m_events->addEvents(m_engine->eventsSince(m_events->lastSeq())); });
        m_timer->start(1000 / m_refreshRate);
        refreshNow();
    } else {
        m_listenersLabel->setText(dot(3, palette()) + tr(" Proxy engine not running"));
    }
    if (m_routesModel->rowCount() > 0 && !m_routesView->currentIndex().isValid())
        m_routesView->setCurrentIndex(m_routesModel->index(0, 0));
    updateRouteActions();
}

MainWindow::~MainWindow()
{
    saveSettings();
}

// ---- building -------------------------------------------------------------------------------

void MainWindow::buildActions()
{
    QStyle* s = style();
    m_newAction = new QAction(themedIcon("list-add", s, QStyle::SP_FileDialogNewFolder),
                              tr("&New route"), this);
    m_newAction->setShortcut(QKeySequence::New);
    m_newAction->setToolTip(tr("Add a route (Ctrl+N)"));
    connect(m_newAction, &QAction::triggered, this, &MainWindow::addRoute);

    m_duplicateAction =
        new QAction(themedIcon("edit-copy", s, QStyle::SP_FileIcon), tr("D&uplicate route"), this);
    m_duplicateAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_D));
    connect(m_duplicateAction, &QAction::triggered, this, &MainWindow::duplicateRoute);

    m_deleteAction =
        new QAction(themedIcon("list-remove", s, QStyle::SP_TrashIcon), tr("&Delete route…"), this);
    m_deleteAction->setShortcut(QKeySequence::Delete);
    m_deleteAction->setShortcutContext(Qt::WidgetShortcut);
    connect(m_deleteAction, &QAction::triggered, this, &MainWindow::deleteRoute);

    m_enableAction = new QAction(tr("&Enabled"), this);
    m_enableAction->setCheckable(true);
    m_enableAction->setToolTip(tr("A disabled route is removed from the proxy but kept here"));
    connect(m_enableAction, &QAction::triggered, this, &MainWindow::toggleRouteEnabled);

    m_closeConnectionsAction =
        new QAction(themedIcon("process-stop", s, QStyle::SP_DialogCloseButton),
                    tr("&Close connection(s)…"), this);
    m_closeConnectionsAction->setShortcut(QKeySequence::Delete);
    m_closeConnectionsAction->setShortcutContext(Qt::WidgetShortcut);
    connect(m_closeConnectionsAction, &QAction::triggered, this,
            [this] { closeConnections(selectedConnectionIds(true), true); });
    m_faultActions = new ui::ConnectionActions(
        m_engine,
        [this] {
            QList<ConnectionInfo> open;
            for (quint64 id : m_connectionsView ? selectedConnectionIds(true) : QList<quint64>())
                open << m_connections->connectionAt(m_connections->rowOfConnection(id));
            return open;
        },
        this);
    connect(m_faultActions, &ui::ConnectionActions::done, this, [this](const QString& message) {
        statusBar()->showMessage(message, 5000);
        refreshNow();
    });

    m_copyAction = new QAction(themedIcon("edit-copy", s, QStyle::SP_FileIcon), tr("&Copy"), this);
    m_copyAction->setShortcut(QKeySequence::Copy);
    m_copyAction->setShortcutContext(Qt::WidgetShortcut);
    connect(m_copyAction, &QAction::triggered, this, &MainWindow::copySelectedConnections);

    m_allowClientAction = new QAction(tr("&Allow this client on its route"), this);
    connect(m_allowClientAction, &QAction::triggered, this, [this] {
        const QModelIndex current = m_connectionsView->currentIndex();
        if (!current.isValid())
            return;
        const ConnectionInfo& c =
            m_connections->connectionAt(m_connectionFilter->mapToSource(current).row());
        allowClient(formatIp(c.clientAddress), c.routeId);
    });
    m_blockClientAction = new QAction(tr("&Block this client on its route"), this);
    connect(m_blockClientAction, &QAction::triggered, this, [this] {
        const QModelIndex current = m_connectionsView->currentIndex();
        if (!current.isValid())
            return;
        const ConnectionInfo& c =
            m_connections->connectionAt(m_connectionFilter->mapToSource(current).row());
        blockClient(formatIp(c.clientAddress), c.routeId);
    });

    m_exportAction = new QAction(themedIcon("document-save-as", s, QStyle::SP_DialogSaveButton),
                                 tr("&Export connections as CSV…"), this);
    connect(m_exportAction, &QAction::triggered, this, &MainWindow::exportConnections);

    m_findAction = new QAction(tr("&Find connections"), this);
    m_findAction->setShortcut(QKeySequence::Find);
    connect(m_findAction, &QAction::triggered, this, [this] {
        m_tabs->setCurrentWidget(m_connectionsTab);
        m_connectionFilterEdit->setFocus();
        m_connectionFilterEdit->selectAll();
    });

    m_refreshAction = new QAction(themedIcon("view-refresh", s, QStyle::SP_BrowserReload),
                                  tr("&Refresh now"), this);
    m_refreshAction->setShortcut(QKeySequence::Refresh);
    connect(m_refreshAction, &QAction::triggered, this, &MainWindow::refreshNow);

    m_closeToTrayAction = new QAction(tr("Keep running in the &tray when closed"), this);
    m_closeToTrayAction->setCheckable(true);

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

    m_quitAction = new QAction(themedIcon("application-exit", s, QStyle::SP_DialogCloseButton),
                               tr("&Quit"), this);
    m_quitAction->setShortcut(QKeySequence::Quit);
    connect(m_quitAction, &QAction::triggered, this, [this] {
        m_quitting = true;
        close();
        QApplication::quit();
    });

    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(m_exportAction);
    file->addSeparator();
    file->addAction(m_quitAction);
    QMenu* routes = menuBar()->addMenu(tr("&Routes"));
    routes->addAction(m_newAction);
    routes->addAction(m_duplicateAction);
    routes->addAction(m_enableAction);
    routes->addSeparator();
    routes->addAction(m_deleteAction);
    QMenu* connections = menuBar()->addMenu(tr("&Connections"));
    connections->setObjectName(QStringLiteral("connectionsMenu"));
    connections->addAction(m_findAction);
    connections->addAction(m_closeConnectionsAction);
    m_faultActions->addTo(connections);
    connections->addAction(m_copyAction);
    connections->addSeparator();
    connections->addAction(m_allowClientAction);
    connections->addAction(m_blockClientAction);
    // Enabled for the selection and the current row, as in the table's context menu.
    connect(connections, &QMenu::aboutToShow, this,
            [this] { updateConnectionActions(m_connectionsView->currentIndex()); });
    QMenu* faults = menuBar()->addMenu(tr("F&aults"));
    faults->setObjectName(QStringLiteral("faultsMenu"));
    faults->addAction(m_showFaultsAction);
    faults->addSeparator();
    faults->addAction(m_switchOffToxicsAction);
    faults->addAction(m_clearFaultsAction);
    QMenu* view = menuBar()->addMenu(tr("&View"));
    view->addAction(m_refreshAction);
    view->setObjectName(QStringLiteral("viewMenu"));
    QMenu* settings = menuBar()->addMenu(tr("&Settings"));
    settings->addAction(m_closeToTrayAction);
    settings->addAction(m_remoteApisixAction);
    // Window-wide shortcuts that are not on a focused widget.
    for (QAction* a : {m_newAction, m_duplicateAction, m_findAction, m_refreshAction, m_quitAction})
        addAction(a);
}

void MainWindow::buildRoutesPanel(QSplitter* splitter)
{
    auto* panel = new QWidget(splitter);
    auto* layout = new QVBoxLayout(panel);
    layout->setContentsMargins(6, 6, 0, 6);
    layout->setSpacing(4);
    auto* header = new QHBoxLayout;
    auto* title = new QLabel(tr("<b>Routes</b>"), panel);
    title->setToolTip(tr("Tried top to bottom: the first route that matches a connection takes it. "
                         "Drag to reorder."));
    header->addWidget(title);
    header->addStretch();
    auto* bar = new QToolBar(panel);
    bar->setIconSize(QSize(16, 16));
    // Icons where the desktop theme has them; short words otherwise (the style's stand-ins
    // for "add" and "delete" are folder and trash pictures that read wrong here).
    bar->setToolButtonStyle(QIcon::hasThemeIcon(QStringLiteral("list-add"))
                                ? Qt::ToolButtonIconOnly
                                : Qt::ToolButtonTextOnly);
    bar->addAction(m_newAction);
    bar->addAction(m_duplicateAction);
    bar->addAction(m_deleteAction);
    header->addWidget(bar);
    layout->addLayout(header);

    m_routesView = new QTreeView(panel);
    m_routesView->setObjectName(QStringLiteral("routesView"));
    m_routesView->setModel(m_routesModel);
    m_routesView->setRootIsDecorated(false);
    m_routesView->setUniformRowHeights(true);
    m_routesView->setAlternatingRowColors(true);
    m_routesView->setSelectionMode(QAbstractItemView::SingleSelection);
    m_routesView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_routesView->setDragEnabled(true);
    m_routesView->setAcceptDrops(true);
    m_routesView->setDropIndicatorShown(true);
    m_routesView->setDragDropMode(QAbstractItemView::InternalMove);
    m_routesView->setDefaultDropAction(Qt::MoveAction);
    m_routesView->setItemDelegateForColumn(RoutesModel::StatusColumn,
                                           new StatusDotDelegate(m_routesView));
    m_routesView->header()->setStretchLastSection(true);
    m_routesView->header()->resizeSection(RoutesModel::NameColumn, 120);
    m_routesView->header()->resizeSection(RoutesModel::StatusColumn, 95);
    m_routesView->header()->resizeSection(RoutesModel::ProtoColumn, 45);
    m_routesView->header()->resizeSection(RoutesModel::ListenColumn, 120);
    m_routesView->setContextMenuPolicy(Qt::CustomContextMenu);
    m_routesView->addAction(m_deleteAction);
    connect(m_routesView, &QWidget::customContextMenuRequested, this, [this](const QPoint& pos) {
        QMenu menu(this);
        menu.addAction(m_newAction);
        menu.addAction(m_duplicateAction);
        menu.addAction(m_enableAction);
        menu.addSeparator();
        menu.addAction(m_deleteAction);
        menu.exec(m_routesView->viewport()->mapToGlobal(pos));
    });
    connect(m_routesView->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &MainWindow::onRouteSelectionChanged);
    connect(m_routesView, &QTreeView::doubleClicked, this,
            [this] { m_tabs->setCurrentWidget(m_editor); });
    layout->addWidget(m_routesView, 1);
    splitter->addWidget(panel);
}

QWidget* MainWindow::buildConnectionsTab()
{
    auto* tab = new QWidget(m_tabs);
    auto* layout = new QVBoxLayout(tab);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->setSpacing(4);
    auto* bar = new QHBoxLayout;
    m_connectionFilterEdit = new QLineEdit(tab);
    m_connectionFilterEdit->setObjectName(QStringLiteral("connectionFilterEdit"));
    m_connectionFilterEdit->setPlaceholderText(tr("Filter by client, upstream, state… (Ctrl+F)"));
    m_connectionFilterEdit->setClearButtonEnabled(true);
    connect(m_connectionFilterEdit, &QLineEdit::textChanged, m_connectionFilter,
            &ConnectionFilter::setTextFilter);
    m_routeFilter = new QComboBox(tab);
    m_routeFilter->setObjectName(QStringLiteral("routeFilterCombo"));
    m_routeFilter->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_routeFilter->addItem(tr("All routes"), QString());
    connect(m_routeFilter, &QComboBox::currentIndexChanged, this, [this] {
        m_connectionFilter->setRouteFilter(m_routeFilter->currentData().toString());
    });
    m_showClosed = new QCheckBox(tr("Show closed"), tab);
    m_showClosed->setObjectName(QStringLiteral("showClosedCheck"));
    m_showClosed->setToolTip(tr("Keep closed connections in the table as history"));
    connect(m_showClosed, &QCheckBox::toggled, m_connections, &ConnectionTableModel::setShowClosed);
    m_pauseButton = new QToolButton(tab);
    m_pauseButton->setObjectName(QStringLiteral("pauseButton"));
    m_pauseButton->setCheckable(true);
    m_pauseButton->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_pauseButton->setIcon(themedIcon("media-playback-pause", style(), QStyle::SP_MediaPause));
    m_pauseButton->setText(tr("Pause"));
    m_pauseButton->setToolTip(tr("Freeze the table (the proxy keeps running)"));
    connect(m_pauseButton, &QToolButton::toggled, this, &MainWindow::setConnectionsPaused);
    m_rateCombo = new QComboBox(tab);
    m_rateCombo->setObjectName(QStringLiteral("refreshRateCombo"));
    m_rateCombo->setToolTip(tr("Refreshes per second"));
    for (int rate : {1, 2, 4, 10})
        m_rateCombo->addItem(tr("%1 / s").arg(rate), rate);
    connect(m_rateCombo, &QComboBox::currentIndexChanged, this,
            [this] { setRefreshRate(m_rateCombo->currentData().toInt()); });
    auto* exportButton = new QToolButton(tab);
    exportButton->setDefaultAction(m_exportAction);
    exportButton->setToolButtonStyle(Qt::ToolButtonIconOnly);
    bar->addWidget(m_connectionFilterEdit, 1);
    bar->addWidget(m_routeFilter);
    bar->addWidget(m_showClosed);
    bar->addWidget(m_pauseButton);
    bar->addWidget(m_rateCombo);
    bar->addWidget(exportButton);
    layout->addLayout(bar);

    m_connectionsView = new QTableView(tab);
    m_connectionsView->setObjectName(QStringLiteral("connectionsView"));
    setupTable(m_connectionsView);
    m_connectionsView->setModel(m_connectionFilter);
    m_connectionsView->setSortingEnabled(true);
    m_connectionsView->sortByColumn(ConnectionTableModel::IdColumn, Qt::AscendingOrder);
    m_connectionsView->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_connectionsView->setItemDelegate(new ConnectionRowDelegate(m_connectionsView));
    m_connectionsView->setContextMenuPolicy(Qt::CustomContextMenu);
    m_connectionsView->addAction(m_closeConnectionsAction);
    m_connectionsView->addAction(m_copyAction);
    auto* header = m_connectionsView->horizontalHeader();
    const QList<QPair<int, int>> widths{
        {ConnectionTableModel::IdColumn, 48},        {ConnectionTableModel::RouteColumn, 85},
        {ConnectionTableModel::ProtoColumn, 44},     {ConnectionTableModel::ClientColumn, 128},
        {ConnectionTableModel::UpstreamColumn, 118}, {ConnectionTableModel::StateColumn, 84},
        {ConnectionTableModel::StartedColumn, 64},   {ConnectionTableModel::DurationColumn, 62},
        {ConnectionTableModel::BytesUpColumn, 74},   {ConnectionTableModel::BytesDownColumn, 74},
        {ConnectionTableModel::RateUpColumn, 82},    {ConnectionTableModel::RateDownColumn, 82}};
    for (const auto& [column, width] : widths)
        header->resizeSection(column, width);
    // The database columns stay out of the way until a database connection shows up; any column can
    // be shown or hidden from the header's menu, and a choice made there is not overridden.
    for (int column = 0; column < ConnectionTableModel::ColumnCount; ++column) {
        if (ConnectionTableModel::isMySqlColumn(column))
            header->setSectionHidden(column, !m_connections->databaseSeen());
    }
    connect(m_connections, &ConnectionTableModel::databaseFirstSeen, header, [this, header] {
        if (m_connectionColumnsChosen)
            return;
        for (int column = 0; column < ConnectionTableModel::ColumnCount; ++column) {
            if (ConnectionTableModel::isMySqlColumn(column))
                header->showSection(column);
        }
    });
    header->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(header, &QWidget::customContextMenuRequested, this, [this, header](const QPoint& pos) {
        QMenu menu(this);
        int visible = 0;
        for (int column = 0; column < ConnectionTableModel::ColumnCount; ++column)
            visible += header->isSectionHidden(column) ? 0 : 1;
        for (int column = 0; column < ConnectionTableModel::ColumnCount; ++column) {
            QAction* a = menu.addAction(
                m_connections->headerData(column, Qt::Horizontal, Qt::DisplayRole).toString());
            a->setCheckable(true);
            a->setChecked(!header->isSectionHidden(column));
            a->setEnabled(header->isSectionHidden(column) || visible > 1); // keep one column
            connect(a, &QAction::toggled, this, [this, header, column](bool on) {
                m_connectionColumnsChosen = true;
                header->setSectionHidden(column, !on);
            });
        }
        menu.exec(header->mapToGlobal(pos));
    });
    connect(m_connectionsView, &QWidget::customContextMenuRequested, this,
            &MainWindow::showConnectionMenu);
    layout->addWidget(m_connectionsView, 1);
    return tab;
}

QWidget* MainWindow::buildDeniedTab()
{
    auto* tab = new QWidget(m_tabs);
    auto* layout = new QVBoxLayout(tab);
    layout->setContentsMargins(6, 6, 6, 6);
    auto* hint =
        new QLabel(tr("Refused connection attempts, by client and route. <b>Allow</b> adds the "
                      "client to the route's allowed clients; it takes effect at once."),
                   tab);
    hint->setWordWrap(true);
    layout->addWidget(hint);
    m_deniedView = new QTableView(tab);
    m_deniedView->setObjectName(QStringLiteral("deniedView"));
    setupTable(m_deniedView);
    auto* sorted = new QSortFilterProxyModel(this);
    sorted->setSourceModel(m_denied);
    sorted->setSortRole(SortRole);
    m_deniedView->setModel(sorted);
    m_deniedView->setSortingEnabled(true);
    m_deniedView->sortByColumn(DeniedClientsModel::LastSeenColumn, Qt::DescendingOrder);
    m_deniedView->setMouseTracking(true);
    auto* buttons = new ButtonDelegate(m_deniedView);
    m_deniedView->setItemDelegateForColumn(DeniedClientsModel::ActionColumn, buttons);
    m_deniedView->horizontalHeader()->resizeSection(DeniedClientsModel::ClientColumn, 150);
    m_deniedView->horizontalHeader()->resizeSection(DeniedClientsModel::RouteColumn, 150);
    m_deniedView->horizontalHeader()->resizeSection(DeniedClientsModel::ReasonColumn, 170);
    connect(buttons, &ButtonDelegate::clicked, this, [this, sorted](const QModelIndex& index) {
        const QModelIndex source = sorted->mapToSource(index);
        const DeniedClient& d = m_denied->rowAt(source.row()).denied;
        allowClient(d.clientIp, d.routeId);
    });
    layout->addWidget(m_deniedView, 1);
    connect(m_denied, &QAbstractItemModel::rowsInserted, this, [this] {
        m_tabs->setTabText(m_tabs->indexOf(m_deniedTab),
                           tr("Denied clients (%1)").arg(m_denied->rowCount()));
    });
    connect(m_denied, &QAbstractItemModel::rowsRemoved, this, [this] {
        const int n = m_denied->rowCount();
        m_tabs->setTabText(m_tabs->indexOf(m_deniedTab),
                           n ? tr("Denied clients (%1)").arg(n) : tr("Denied clients"));
    });
    return tab;
}

QWidget* MainWindow::buildStatisticsTab()
{
    m_statsSplitter = new QSplitter(Qt::Vertical, m_tabs);
    m_statsSplitter->setObjectName(QStringLiteral("statsSplitter"));

    m_statsView = new QTableView(m_statsSplitter);
    m_statsView->setObjectName(QStringLiteral("statsView"));
    setupTable(m_statsView);
    auto* sortedStats = new QSortFilterProxyModel(this);
    sortedStats->setSourceModel(m_stats);
    sortedStats->setSortRole(SortRole);
    m_statsView->setModel(sortedStats);
    m_statsView->setSortingEnabled(true);
    m_statsView->sortByColumn(RouteStatsModel::RouteColumn, Qt::AscendingOrder);
    m_statsView->setItemDelegateForColumn(RouteStatsModel::RouteColumn,
                                          new StatusDotDelegate(m_statsView));
    m_statsView->setItemDelegateForColumn(RouteStatsModel::TrendColumn,
                                          new SparklineDelegate(m_statsView));
    m_statsView->horizontalHeader()->resizeSection(RouteStatsModel::RouteColumn, 130);
    for (int c = RouteStatsModel::ActiveColumn; c <= RouteStatsModel::ErrorsColumn; ++c)
        m_statsView->horizontalHeader()->resizeSection(c, 58);
    for (int c = RouteStatsModel::BytesUpColumn; c <= RouteStatsModel::RateDownColumn; ++c)
        m_statsView->horizontalHeader()->resizeSection(c, 84);
    connect(m_statsView, &QTableView::clicked, this,
            [this](const QModelIndex& index) { selectRoute(index.data(RouteIdRole).toString()); });

    m_nodesView = new QTableView(m_statsSplitter);
    m_nodesView->setObjectName(QStringLiteral("nodesView"));
    setupTable(m_nodesView);
    auto* sortedNodes = new QSortFilterProxyModel(this);
    sortedNodes->setSourceModel(m_nodes);
    sortedNodes->setSortRole(SortRole);
    m_nodesView->setModel(sortedNodes);
    m_nodesView->setSortingEnabled(true);
    m_nodesView->setItemDelegateForColumn(NodesModel::HealthColumn,
                                          new StatusDotDelegate(m_nodesView));
    m_nodesView->horizontalHeader()->resizeSection(NodesModel::UpstreamColumn, 180);
    m_nodesView->horizontalHeader()->resizeSection(NodesModel::NodeColumn, 160);
    m_nodesView->horizontalHeader()->resizeSection(NodesModel::HealthColumn, 140);

    auto* chartBox = new QWidget(m_statsSplitter);
    auto* chartLayout = new QVBoxLayout(chartBox);
    chartLayout->setContentsMargins(6, 6, 6, 0);
    m_chartTitle = new QLabel(chartBox);
    m_chartTitle->setObjectName(QStringLiteral("chartTitle"));
    chartLayout->addWidget(m_chartTitle);
    m_chart = new QChart;
    m_chart->setMargins(QMargins(4, 4, 4, 4));
    m_chart->setBackgroundRoundness(0);
    m_chart->legend()->setAlignment(Qt::AlignBottom);
    m_upSeries = new QLineSeries(m_chart);
    m_upSeries->setName(tr("Bytes/s ↑ (client → upstream)"));
    m_downSeries = new QLineSeries(m_chart);
    m_downSeries->setName(tr("Bytes/s ↓ (upstream → client)"));
    m_activeSeries = new QLineSeries(m_chart);
    m_activeSeries->setName(tr("Active connections"));
    m_chart->addSeries(m_upSeries);
    m_chart->addSeries(m_downSeries);
    m_chart->addSeries(m_activeSeries);
    m_timeAxis = new QValueAxis(m_chart);
    m_timeAxis->setRange(-300, 0);
    m_timeAxis->setTickCount(6);
    m_timeAxis->setLabelFormat(QStringLiteral("%d s"));
    m_rateAxis = new QValueAxis(m_chart);
    m_rateAxis->setLabelFormat(QStringLiteral("%.0f"));
    m_rateAxis->setMin(0);
    m_activeAxis = new QValueAxis(m_chart);
    m_activeAxis->setLabelFormat(QStringLiteral("%d"));
    m_activeAxis->setMin(0);
    m_activeAxis->setTitleText(tr("connections"));
    m_chart->addAxis(m_timeAxis, Qt::AlignBottom);
    m_chart->addAxis(m_rateAxis, Qt::AlignLeft);
    m_chart->addAxis(m_activeAxis, Qt::AlignRight);
    for (QLineSeries* series : {m_upSeries, m_downSeries}) {
        series->attachAxis(m_timeAxis);
        series->attachAxis(m_rateAxis);
    }
    m_activeSeries->attachAxis(m_timeAxis);
    m_activeSeries->attachAxis(m_activeAxis);
    m_chartView = new QChartView(m_chart, chartBox);
    m_chartView->setObjectName(QStringLiteral("chartView"));
    m_chartView->setRenderHint(QPainter::Antialiasing);
    m_chartView->setMinimumHeight(200);
    chartLayout->addWidget(m_chartView, 1);
    applyChartTheme();

    m_statsSplitter->addWidget(m_statsView);
    m_statsSplitter->addWidget(m_nodesView);
    m_statsSplitter->addWidget(chartBox);
    m_statsSplitter->setSizes({160, 110, 320});
    return m_statsSplitter;
}

void MainWindow::buildEventDock()
{
    auto* dock = new QDockWidget(tr("Event log"), this);
    dock->setObjectName(QStringLiteral("eventDock"));
    auto* box = new QWidget(dock);
    auto* layout = new QVBoxLayout(box);
    layout->setContentsMargins(6, 4, 6, 4);
    layout->setSpacing(4);
    auto* bar = new QHBoxLayout;
    auto* filterEdit = new QLineEdit(box);
    filterEdit->setObjectName(QStringLiteral("eventFilterEdit"));
    filterEdit->setPlaceholderText(tr("Filter events"));
    filterEdit->setClearButtonEnabled(true);
    auto* kinds = new QComboBox(box);
    kinds->setObjectName(QStringLiteral("eventKindCombo"));
    kinds->addItem(tr("All events"));
    kinds->addItem(tr("Connections (open / close)"));
    kinds->addItem(tr("Refusals"));
    kinds->addItem(tr("Upstream nodes"));
    kinds->addItem(tr("Listeners"));
    bar->addWidget(filterEdit, 1);
    bar->addWidget(kinds);
    layout->addLayout(bar);
    m_eventView = new QTableView(box);
    m_eventView->setObjectName(QStringLiteral("eventView"));
    setupTable(m_eventView);
    auto* filter = new EventFilter(this);
    filter->setSourceModel(m_events);
    m_eventView->setModel(filter);
    m_eventView->setItemDelegateForColumn(EventLogModel::KindColumn,
                                          new StatusDotDelegate(m_eventView));
    m_eventView->horizontalHeader()->resizeSection(EventLogModel::TimeColumn, 75);
    m_eventView->horizontalHeader()->resizeSection(EventLogModel::KindColumn, 120);
    m_eventView->horizontalHeader()->resizeSection(EventLogModel::RouteColumn, 130);
    connect(filterEdit, &QLineEdit::textChanged, this,
            [filter](const QString& t) { filter->setText(t); });
    connect(kinds, &QComboBox::currentIndexChanged, this, [filter](int index) {
        static const QList<QList<EventKind>> groups{
            {},
            {EventKind::Open, EventKind::Close},
            {EventKind::Deny},
            {EventKind::NodeUp, EventKind::NodeDown},
            {EventKind::ListenerUp, EventKind::ListenerError}};
        filter->setKinds(groups.value(index));
    });
    // Follow the tail unless the user scrolled up to read.
    connect(m_events, &QAbstractItemModel::rowsAboutToBeInserted, this, [this] {
        QScrollBar* bar = m_eventView->verticalScrollBar();
        m_eventView->setProperty("follow", bar->value() >= bar->maximum() - 2);
    });
    connect(m_events, &QAbstractItemModel::rowsInserted, this, [this] {
        if (m_eventView->property("follow").toBool())
            QTimer::singleShot(0, m_eventView, &QTableView::scrollToBottom);
    });
    layout->addWidget(m_eventView, 1);
    dock->setWidget(box);
    addDockWidget(Qt::BottomDockWidgetArea, dock);
    resizeDocks({dock}, {170}, Qt::Vertical);
    if (QMenu* view = menuBar()->findChild<QMenu*>(QStringLiteral("viewMenu")))
        view->addAction(dock->toggleViewAction());
    dock->toggleViewAction()->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_L));
}

void MainWindow::buildStatusBar()
{
    m_listenersLabel = new QLabel(this);
    m_listenersLabel->setObjectName(QStringLiteral("listenersLabel"));
    m_activeLabel = new QLabel(this);
    m_activeLabel->setObjectName(QStringLiteral("activeLabel"));
    m_rateLabel = new QLabel(this);
    m_rateLabel->setObjectName(QStringLiteral("rateLabel"));
    m_pausedLabel = new QLabel(this);
    m_pausedLabel->hide();
    m_faultIndicator = new FaultIndicator(m_clearFaultsAction, this);
    m_faultIndicator->setObjectName(QStringLiteral("faultIndicator"));
    connect(m_faultIndicator, &FaultIndicator::openRequested, this, &MainWindow::showFaults);
    connect(m_faultIndicator, &FaultIndicator::connectionsRequested, this,
            [this] { m_tabs->setCurrentWidget(m_connectionsTab); });
    statusBar()->addPermanentWidget(m_faultIndicator);
    statusBar()->addPermanentWidget(m_pausedLabel);
    statusBar()->addPermanentWidget(m_listenersLabel);
    statusBar()->addPermanentWidget(m_activeLabel);
    statusBar()->addPermanentWidget(m_rateLabel);
}

void MainWindow::bringToFront()
{
    setWindowState(windowState() & ~Qt::WindowMinimized); // a maximized one stays maximized
    show();
    raise();
    activateWindow();
}

void MainWindow::buildTray()
{
    if (!QSystemTrayIcon::isSystemTrayAvailable())
        return;
    m_tray = new QSystemTrayIcon(windowIcon(), this);
    auto* menu = new QMenu(this);
    menu->addAction(tr("Show Streamgate"), this, &MainWindow::bringToFront);
    m_trayPauseAction =
        menu->addAction(tr("Pause all routes"), this, [this] { setAllPaused(!m_allPaused); });
    m_trayAllowAction = menu->addAction(QString(), m_access, &AccessController::allowLastRefusal);
    m_trayAllowAction->setVisible(false);
    menu->addAction(m_clearFaultsAction);
    menu->addSeparator();
    menu->addAction(m_quitAction);
    m_tray->setContextMenu(menu);
    connect(m_tray, &QSystemTrayIcon::activated, this,
            [this](QSystemTrayIcon::ActivationReason reason) {
                if (reason == QSystemTrayIcon::Trigger || reason == QSystemTrayIcon::DoubleClick) {
                    if (isVisible() && !isMinimized())
                        hide();
                    else
                        bringToFront();
                }
            });
    connect(m_tray, &QSystemTrayIcon::messageClicked, this, [this] {
        bringToFront();
        m_tabs->setCurrentWidget(m_deniedTab);
    });
    m_tray->show();
    updateTray();
}

// ---- settings -------------------------------------------------------------------------------

void MainWindow::restoreSettings()
{
    QSettings s;
    if (!restoreGeometry(s.value(QStringLiteral("window/geometry")).toByteArray()))
        resize(1400, 860);
    restoreState(s.value(QStringLiteral("window/state")).toByteArray());
    m_mainSplitter->restoreState(s.value(QStringLiteral("window/mainSplitter")).toByteArray());
    m_statsSplitter->restoreState(s.value(QStringLiteral("window/statsSplitter")).toByteArray());
    m_connectionsView->horizontalHeader()->restoreState(
        s.value(QStringLiteral("connections/header")).toByteArray());
    m_routesView->header()->restoreState(s.value(QStringLiteral("routes/header")).toByteArray());
    m_statsView->horizontalHeader()->restoreState(
        s.value(QStringLiteral("stats/header")).toByteArray());
    m_deniedView->horizontalHeader()->restoreState(
        s.value(QStringLiteral("denied/header")).toByteArray());
    m_closeToTrayAction->setChecked(s.value(QStringLiteral("ui/closeToTray"), true).toBool());
    m_showClosed->setChecked(s.value(QStringLiteral("ui/showClosed"), false).toBool());
    const int rate = s.value(QStringLiteral("ui/refreshRate"), 4).toInt();
    const int index = m_rateCombo->findData(rate);
    m_rateCombo->setCurrentIndex(index >= 0 ? index : m_rateCombo->findData(4));
    m_refreshRate = m_rateCombo->currentData().toInt();
}

void MainWindow::saveSettings()
{
    QSettings s;
    s.setValue(QStringLiteral("window/geometry"), saveGeometry());
    s.setValue(QStringLiteral("window/state"), saveState());
    s.setValue(QStringLiteral("window/mainSplitter"), m_mainSplitter->saveState());
    s.setValue(QStringLiteral("window/statsSplitter"), m_statsSplitter->saveState());
    s.setValue(QStringLiteral("connections/header"),
               m_connectionsView->horizontalHeader()->saveState());
    s.setValue(QStringLiteral("routes/header"), m_routesView->header()->saveState());
    s.setValue(QStringLiteral("stats/header"), m_statsView->horizontalHeader()->saveState());
    s.setValue(QStringLiteral("denied/header"), m_deniedView->horizontalHeader()->saveState());
    s.setValue(QStringLiteral("ui/closeToTray"), m_closeToTrayAction->isChecked());
    s.setValue(QStringLiteral("ui/showClosed"), m_showClosed->isChecked());
    s.setValue(QStringLiteral("ui/refreshRate"), m_refreshRate);
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    if (!m_quitting && m_tray && m_tray->isVisible() && m_closeToTrayAction->isChecked()) {
        hide();
        if (!m_trayHintShown) {
            m_tray->showMessage(
                tr("Streamgate is still running"),
                tr("The proxy keeps running in the tray. Use Quit in its menu to stop it."),
                QSystemTrayIcon::Information, 4000);
            m_trayHintShown = true;
        }
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

void MainWindow::changeEvent(QEvent* event)
{
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::ApplicationPaletteChange)
        applyChartTheme();
    QMainWindow::changeEvent(event);
}

void MainWindow::applyChartTheme()
{
    if (!m_chart)
        return;
    const bool dark = palette().color(QPalette::Window).lightnessF() < 0.5;
    m_chart->setTheme(dark ? QChart::ChartThemeDark : QChart::ChartThemeLight);
    m_chart->setBackgroundBrush(palette().brush(QPalette::Base));
    m_chart->setBackgroundRoundness(0);
    const QColor up = dark ? QColor(0x5a, 0xa9, 0xff) : QColor(0x1f, 0x6f, 0xd1);
    const QColor down = dark ? QColor(0x4c, 0xc3, 0x6a) : QColor(0x1e, 0x9e, 0x4a);
    const QColor active = dark ? QColor(0xf0, 0xb4, 0x3c) : QColor(0xd0, 0x8a, 0x00);
    m_upSeries->setPen(QPen(up, 2));
    m_downSeries->setPen(QPen(down, 2));
    QPen dashed(active, 1.5, Qt::DashLine);
    m_activeSeries->setPen(dashed);
    for (QValueAxis* axis : {m_timeAxis, m_rateAxis, m_activeAxis}) {
        axis->setLabelsBrush(palette().brush(QPalette::Text));
        axis->setTitleBrush(palette().brush(QPalette::Text));
        QColor grid = palette().color(QPalette::Mid);
        grid.setAlphaF(0.4f);
        axis->setGridLineColor(grid);
    }
    m_chart->legend()->setLabelColor(palette().color(QPalette::Text));
}

// ---- refresh --------------------------------------------------------------------------------

void MainWindow::setRefreshRate(int perSecond)
{
    m_refreshRate = qBound(1, perSecond, 20);
    const int index = m_rateCombo->findData(m_refreshRate);
    if (index >= 0 && index != m_rateCombo->currentIndex())
        m_rateCombo->setCurrentIndex(index);
    if (m_timer && m_timer->isActive())
        m_timer->start(1000 / m_refreshRate);
}

void MainWindow::setConnectionsPaused(bool paused)
{
    m_connectionsPaused = paused;
    if (m_pauseButton->isChecked() != paused)
        m_pauseButton->setChecked(paused);
    m_pauseButton->setText(paused ? tr("Resume") : tr("Pause"));
    m_pauseButton->setIcon(
        paused ? themedIcon("media-playback-start", style(), QStyle::SP_MediaPlay)
               : themedIcon("media-playback-pause", style(), QStyle::SP_MediaPause));
    if (!paused)
        refreshNow();
}

void MainWindow::refreshNow()
{
    if (!m_engine)
        return;
    const Snapshot snapshot = m_engine->snapshot();
    if (!m_connectionsPaused)
        m_connections->applySnapshot(snapshot);
    m_denied->applySnapshot(snapshot);
    m_stats->applySnapshot(snapshot);
    m_nodes->applySnapshot(snapshot);
    m_routesModel->setListeners(snapshot.listeners);
    m_faultsPanel->setToxicStatus(snapshot.toxics);
    if (m_tabs->currentWidget() == m_queriesPanel)
        m_queriesPanel->refresh();
    m_faultIndicator->setPausedConnections(
        pausedConnectionCount(snapshot.active, QDateTime::currentMSecsSinceEpoch()));
    updateClearFaults();
    if (snapshot.lastEventSeq > m_events->lastSeq())
        m_events->addEvents(m_engine->eventsSince(m_events->lastSeq()));
    updateStatusBar(snapshot);
    if (m_tabs->currentWidget() == m_statsTab || m_chartView->isVisible())
        updateChart();
    updateTray();
    // The fade of new and closed rows is drawn from the clock, not from data changes.
    m_connectionsView->viewport()->update();
}

void MainWindow::updateStatusBar(const Snapshot& snapshot)
{
    int ok = 0;
    QStringList errors;
    for (const ListenerStatus& l : snapshot.listeners) {
        if (l.listening)
            ++ok;
        else
            errors << QStringLiteral("%1 %2: %3")
                          .arg(protocolText(l.protocol), l.address,
                               l.error.isEmpty() ? tr("not listening") : l.error);
    }
    const QPalette& p = palette();
    if (errors.isEmpty()) {
        m_listenersLabel->setText(dot(ok > 0 ? 1 : 0, p) + tr(" %n listener(s) OK", nullptr, ok));
        m_listenersLabel->setToolTip(QString());
    } else {
        m_listenersLabel->setText(
            dot(3, p) +
            tr(" %1 OK, %2 in error: %3").arg(ok).arg(errors.size()).arg(errors.first()));
        m_listenersLabel->setToolTip(errors.join(QLatin1Char('\n')));
    }
    m_activeLabel->setText(tr("%n active connection(s)", nullptr, int(snapshot.active.size())));
    m_rateLabel->setText(
        QStringLiteral("↑ %1   ↓ %2")
            .arg(formatRate(m_stats->totalRateUp()), formatRate(m_stats->totalRateDown())));
}

void MainWindow::updateChart()
{
    QString id = selectedRouteId();
    if (id.isEmpty() && m_stats->rowCount() > 0)
        id = m_stats->rowAt(0).counters.routeId;
    const QList<RouteSample> samples = m_stats->history(id);
    m_chartTitle->setText(id.isEmpty() ? tr("<b>Traffic</b> — select a route")
                                       : tr("<b>Traffic of %1</b> — last 5 minutes")
                                             .arg(m_routeNames.value(id, id).toHtmlEscaped()));
    const qint64 now = samples.isEmpty() ? 0 : samples.last().timeMs;
    double peak = 0;
    quint64 peakActive = 0;
    for (const RouteSample& s : samples) {
        peak = qMax(peak, qMax(s.rateUp, s.rateDown));
        peakActive = qMax(peakActive, s.active);
    }
    // One unit for the whole axis, chosen from the peak, so labels stay short.
    static const char* const units[] = {"B/s", "KiB/s", "MiB/s", "GiB/s"};
    int unit = 0;
    double scale = 1;
    while (peak / scale >= 1024 * 0.9 && unit < 3) {
        scale *= 1024;
        ++unit;
    }
    QList<QPointF> up;
    QList<QPointF> down;
    QList<QPointF> active;
    up.reserve(samples.size());
    down.reserve(samples.size());
    active.reserve(samples.size());
    for (const RouteSample& s : samples) {
        const double x = double(s.timeMs - now) / 1000.0;
        up << QPointF(x, s.rateUp / scale);
        down << QPointF(x, s.rateDown / scale);
        active << QPointF(x, double(s.active));
    }
    m_upSeries->replace(up);
    m_downSeries->replace(down);
    m_activeSeries->replace(active);
    const double top = peak > 0 ? peak / scale * 1.15 : 1.0;
    m_rateAxis->setRange(0, top);
    m_rateAxis->setTitleText(QLatin1String(units[unit]));
    m_rateAxis->setLabelFormat(top < 10 ? QStringLiteral("%.1f") : QStringLiteral("%.0f"));
    m_activeAxis->setRange(0, qMax<quint64>(4, peakActive + 1));
    m_activeAxis->setTickCount(5);
}

void MainWindow::updateTray()
{
    if (!m_tray)
        return;
    const int active = m_connections->openCount();
    QString tip = tr("Streamgate — %n active connection(s)", nullptr, active);
    if (m_allPaused)
        tip += tr(" — paused: new connections are refused");
    const QString chaos = m_faultIndicator->summary();
    if (!chaos.isEmpty())
        tip += QStringLiteral(" — ") + chaos;
    m_tray->setToolTip(tip);
    m_trayPauseAction->setText(m_allPaused ? tr("Resume all routes") : tr("Pause all routes"));
    // The icon is painted only when what it shows changes, not on every refresh.
    const int iconState = (m_allPaused ? 1 : 0) | (chaos.isEmpty() ? 0 : 2);
    if (iconState != m_trayIconState) {
        m_trayIconState = iconState;
        QIcon icon = windowIcon();
        if (m_allPaused)
            icon = QIcon(icon.pixmap(32, QIcon::Disabled));
        m_tray->setIcon(chaos.isEmpty() ? icon : withFaultBadge(icon));
    }
    if (!m_access->pendingRefusals().isEmpty()) {
        const DeniedClient& d = m_access->pendingRefusals().last();
        m_trayAllowAction->setText(
            tr("Allow %1 on %2").arg(d.clientIp, m_routeNames.value(d.routeId, d.routeId)));
        m_trayAllowAction->setVisible(true);
    } else {
        m_trayAllowAction->setVisible(false);
    }
}

// ---- config ---------------------------------------------------------------------------------

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

    const QString filtered = m_routeFilter->currentData().toString();
    m_routeFilter->blockSignals(true);
    m_routeFilter->clear();
    m_routeFilter->addItem(tr("All routes"), QString());
    for (const StreamRoute& r : config.streamRoutes)
        m_routeFilter->addItem(r.displayName(), r.idString());
    const int index = m_routeFilter->findData(filtered);
    m_routeFilter->setCurrentIndex(index >= 0 ? index : 0);
    m_routeFilter->blockSignals(false);
    m_connectionFilter->setRouteFilter(m_routeFilter->currentData().toString());

    if (m_allPaused && m_engine) {
        for (const StreamRoute& r : config.streamRoutes)
            m_engine->setRouteDrained(r.idString(), true);
    }
    if (!selected.isEmpty() && m_routesModel->rowOfRoute(selected) < 0 &&
        m_routesModel->rowCount() > 0)
        m_routesView->setCurrentIndex(m_routesModel->index(0, 0));
    updateRouteActions();
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
    const QModelIndex current = m_routesView->currentIndex();
    return current.isValid() ? current.data(RouteIdRole).toString() : QString();
}

void MainWindow::selectRoute(const QString& id)
{
    const int row = m_routesModel->rowOfRoute(id);
    if (row < 0)
        return;
    m_routesView->setCurrentIndex(m_routesModel->index(row, 0));
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
    updateRouteActions();
    updateChart();
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

void MainWindow::updateRouteActions()
{
    const int row = m_routesModel->rowOfRoute(selectedRouteId());
    const bool has = row >= 0 && m_store;
    m_duplicateAction->setEnabled(has && m_routesModel->rowAt(row).enabled);
    m_deleteAction->setEnabled(has);
    m_enableAction->setEnabled(has);
    m_enableAction->setChecked(has && m_routesModel->rowAt(row).enabled);
    m_newAction->setEnabled(m_store != nullptr);
}

void MainWindow::addRoute()
{
    if (!m_store || !confirmDiscardEdits())
        return;
    m_editor->newRoute();
    m_tabs->setCurrentWidget(m_editor);
}

void MainWindow::duplicateRoute()
{
    const QString id = selectedRouteId();
    if (id.isEmpty() || !confirmDiscardEdits())
        return;
    m_editor->duplicateRoute(id);
    m_tabs->setCurrentWidget(m_editor);
}

void MainWindow::deleteRoute()
{
    const QString id = selectedRouteId();
    const int row = m_routesModel->rowOfRoute(id);
    if (row < 0)
        return;
    const RoutesModel::Row& r = m_routesModel->rowAt(row);
    int open = 0;
    for (int i = 0; i < m_connections->rowCount(); ++i)
        open +=
            (!m_connections->isClosedAt(i) && m_connections->connectionAt(i).routeId == id) ? 1 : 0;
    QString text = tr("Delete the route \"%1\"?").arg(r.name);
    if (open > 0)
        text += QLatin1Char('\n') + tr("Its %n open connection(s) will be closed.", nullptr, open);
    QMessageBox box(QMessageBox::Question, tr("Delete route"), text, QMessageBox::Cancel, this);
    QPushButton* del = box.addButton(tr("Delete"), QMessageBox::DestructiveRole);
    box.setDefaultButton(QMessageBox::Cancel);
    box.exec();
    if (box.clickedButton() != del)
        return;
    const bool enabled = r.enabled;
    const QString name = r.name; // the model's rows change with the config
    const auto edit = [&](const Config& config) {
        return enabled ? withRouteDeleted(config, id) : withDisabledRouteRemoved(config, id);
    };
    if (commitConfigEdit(m_store, edit, this, tr("Cannot delete the route"))) {
        if (m_engine && enabled)
            m_engine->killRoute(id);
        if (m_editor->routeId() == id)
            m_editor->clear();
        statusBar()->showMessage(tr("Deleted %1").arg(name), 5000);
    }
}

void MainWindow::toggleRouteEnabled()
{
    const QString id = selectedRouteId();
    const int row = m_routesModel->rowOfRoute(id);
    if (row < 0 || !m_store)
        return;
    const bool enabled = m_routesModel->rowAt(row).enabled;
    const auto edit = [&](const Config& config) {
        return enabled ? withRouteDisabled(config, id) : withRouteEnabled(config, id);
    };
    if (commitConfigEdit(m_store, edit, this,
                         enabled ? tr("Cannot disable the route")
                                 : tr("Cannot enable the route"))) {
        selectRoute(id);
        m_editor->editRoute(id);
    }
    updateRouteActions();
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
    m_faultIndicator->setFaults(faults.count, faults.routeIds, lines);
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
    m_clearFaultsAction->setEnabled((m_configFaults && m_store) ||
                                    (m_faultIndicator->pausedConnections() > 0 && m_engine));
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
    m_pausedLabel->setText(dot(2, palette()) + tr(" Paused: new connections are refused"));
    m_pausedLabel->setVisible(paused);
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

void MainWindow::onFirstRefusal(const DeniedClient& denied)
{
    if (!m_access->addRefusal(denied))
        return;
    const QString text =
        tr("%1 was refused on %2")
            .arg(denied.clientIp, m_routeNames.value(denied.routeId, denied.routeId));
    if (m_tray && m_tray->isVisible() && QSystemTrayIcon::supportsMessages()) {
        m_tray->showMessage(tr("Connection refused"), text + tr(" — open Streamgate to allow it"),
                            QSystemTrayIcon::Warning, 8000);
    }
    // The banner carries the Allow action in the window in every case.
    showNextRefusal();
    updateTray();
}

void MainWindow::showNextRefusal()
{
    const QList<DeniedClient>& pending = m_access->pendingRefusals();
    if (pending.isEmpty()) {
        hideBanner(QStringLiteral("refusal"));
        return;
    }
    if (!m_bannerKey.isEmpty() && m_bannerKey != QStringLiteral("refusal"))
        return; // a config problem is more important; refusals wait in the tray and the list
    const DeniedClient d = pending.last();
    QString text = tr("<b>%1</b> was refused on <b>%2</b>.")
                       .arg(d.clientIp.toHtmlEscaped(),
                            m_routeNames.value(d.routeId, d.routeId).toHtmlEscaped());
    if (pending.size() > 1)
        text += QLatin1Char(' ') + tr("(%n more refused client(s) in Denied clients)", nullptr,
                                      int(pending.size() - 1));
    showBanner(QStringLiteral("refusal"), text,
               {qMakePair(tr("Allow"),
                          std::function<void()>([this, d] { allowClient(d.clientIp, d.routeId); })),
                qMakePair(tr("Show denied"),
                          std::function<void()>([this] { m_tabs->setCurrentWidget(m_deniedTab); })),
                qMakePair(tr("Dismiss"), std::function<void()>([this] {
                              m_access->dismissRefusals();
                              hideBanner(QStringLiteral("refusal"));
                              updateTray();
                          }))});
}

void MainWindow::showBanner(const QString& key, const QString& text,
                            const QList<QPair<QString, std::function<void()>>>& actions)
{
    m_bannerKey = key;
    m_bannerText->setText(text);
    qDeleteAll(m_bannerButtons->findChildren<QPushButton*>(QString(), Qt::FindDirectChildrenOnly));
    int i = 0;
    for (const auto& [label, action] : actions) {
        auto* button = new QPushButton(label, m_bannerButtons);
        button->setObjectName(QStringLiteral("bannerButton%1").arg(i++));
        connect(button, &QPushButton::clicked, this, action);
        m_bannerButtons->layout()->addWidget(button);
    }
    QPalette p = m_banner->palette();
    const QColor warn = healthColor(2, palette());
    const QColor base = palette().color(QPalette::Window);
    p.setColor(QPalette::Window, QColor::fromRgbF(float(base.redF() * 0.8 + warn.redF() * 0.2),
                                                  float(base.greenF() * 0.8 + warn.greenF() * 0.2),
                                                  float(base.blueF() * 0.8 + warn.blueF() * 0.2)));
    m_banner->setPalette(p);
    m_banner->show();
}

void MainWindow::hideBanner(const QString& key)
{
    if (m_bannerKey != key)
        return;
    m_bannerKey.clear();
    m_banner->hide();
    if (key != QStringLiteral("refusal") && !m_access->pendingRefusals().isEmpty())
        showNextRefusal();
}

// ---- connections ----------------------------------------------------------------------------

QList<quint64> MainWindow::selectedConnectionIds(bool openOnly) const
{
    QList<quint64> ids;
    for (const QModelIndex& index : m_connectionsView->selectionModel()->selectedRows()) {
        const int row = m_connectionFilter->mapToSource(index).row();
        if (openOnly && m_connections->isClosedAt(row))
            continue;
        ids << m_connections->connectionAt(row).id;
    }
    return ids;
}

int MainWindow::closeConnections(const QList<quint64>& ids, bool confirm)
{
    if (!m_engine || ids.isEmpty())
        return 0;
    if (confirm) {
        QMessageBox box(
            QMessageBox::Question, tr("Close connections"),
            tr("Close %n connection(s)? The client and the upstream both see the connection end.",
               nullptr, int(ids.size())),
            QMessageBox::Cancel, this);
        QPushButton* close = box.addButton(tr("Close"), QMessageBox::DestructiveRole);
        box.setDefaultButton(close);
        box.exec();
        if (box.clickedButton() != close)
            return 0;
    }
    int closed = 0;
    for (quint64 id : ids)
        closed += m_engine->killConnection(id) ? 1 : 0;
    statusBar()->showMessage(tr("Closed %n connection(s)", nullptr, closed), 5000);
    refreshNow();
    return closed;
}

void MainWindow::showConnectionMenu(const QPoint& pos)
{
    updateConnectionActions(m_connectionsView->indexAt(pos));
    QMenu menu(this);
    menu.addAction(m_closeConnectionsAction);
    m_faultActions->addTo(&menu);
    menu.addSeparator();
    menu.addAction(m_copyAction);
    menu.addSeparator();
    menu.addAction(m_allowClientAction);
    menu.addAction(m_blockClientAction);
    menu.addSeparator();
    menu.addAction(m_exportAction);
    menu.exec(m_connectionsView->viewport()->mapToGlobal(pos));
}

// The connection actions for the selection, the client ones for the row `current`.
void MainWindow::updateConnectionActions(const QModelIndex& current)
{
    const QList<quint64> open = selectedConnectionIds(true);
    m_closeConnectionsAction->setEnabled(!open.isEmpty() && m_engine);
    m_allowClientAction->setEnabled(current.isValid());
    m_blockClientAction->setEnabled(current.isValid());
    QHostAddress client;
    if (current.isValid()) {
        const ConnectionInfo& c =
            m_connections->connectionAt(m_connectionFilter->mapToSource(current).row());
        client = c.clientAddress;
        const QString ip = formatIp(c.clientAddress);
        const QString route = m_routeNames.value(c.routeId, c.routeId);
        m_allowClientAction->setText(tr("Allow %1 on %2").arg(ip, route));
        m_blockClientAction->setText(tr("Block %1 on %2").arg(ip, route));
    }
    m_faultActions->update(client);
}

void MainWindow::copySelectedConnections()
{
    QStringList lines;
    const QModelIndexList rows = m_connectionsView->selectionModel()->selectedRows();
    QList<int> order;
    for (const QModelIndex& index : rows)
        order << index.row();
    std::sort(order.begin(), order.end());
    for (int row : order) {
        QStringList cells;
        for (int c = 0; c < ConnectionTableModel::ColumnCount; ++c)
            cells << m_connectionFilter->index(row, c).data().toString();
        lines << cells.join(QLatin1Char('\t'));
    }
    if (!lines.isEmpty())
        QApplication::clipboard()->setText(lines.join(QLatin1Char('\n')));
}

void MainWindow::exportConnections()
{
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export connections"),
        QStringLiteral("connections-%1.csv")
            .arg(QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"))),
        tr("CSV files (*.csv)"));
    if (path.isEmpty())
        return;
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        QMessageBox::warning(this, tr("Export failed"), tr("%1: %2").arg(path, file.errorString()));
        return;
    }
    file.write(tableToCsv(m_connectionFilter).toUtf8());
    if (!file.commit()) {
        QMessageBox::warning(this, tr("Export failed"), tr("%1: %2").arg(path, file.errorString()));
        return;
    }
    statusBar()->showMessage(
        tr("Exported %n connection(s) to %1", nullptr, m_connectionFilter->rowCount()).arg(path),
        6000);
}

} // namespace sg
