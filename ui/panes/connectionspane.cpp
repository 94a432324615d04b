#include "panes/connectionspane.h"

#include "accesscontroller.h"
#include "connectionactions.h"
#include "csv.h"
#include "delegates.h"
#include "emptystate.h"
#include "format.h"
#include "model/streamroute.h"
#include "models/connectionfilter.h"
#include "models/connectiontablemodel.h"
#include "proxy/engine.h"
#include "viewstyle.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QDateTime>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QSaveFile>
#include <QSettings>
#include <QTableView>
#include <QToolButton>
#include <QVBoxLayout>
#include <algorithm>
#include <iterator>

namespace sg::ui {

ConnectionsPane::ConnectionsPane(ConnectionTableModel* connections, Engine* engine, QWidget* parent)
    : QWidget(parent), m_connections(connections), m_filter(new ConnectionFilter(this)),
      m_engine(engine)
{
    m_filter->setSourceModel(m_connections);
    const QStyle* s = style();

    m_closeAction = new QAction(themedIcon("process-stop", s, QStyle::SP_DialogCloseButton),
                                tr("&Close connection(s)…"), this);
    m_closeAction->setShortcut(QKeySequence::Delete);
    m_closeAction->setShortcutContext(Qt::WidgetShortcut);
    connect(m_closeAction, &QAction::triggered, this,
            [this] { closeConnections(selectedConnectionIds(true), true); });
    // ConnectionActions reads the selection once while it is made, before the table exists.
    m_faultActions = new ConnectionActions(
        m_engine,
        [this] {
            QList<ConnectionInfo> open;
            for (quint64 id : m_view ? selectedConnectionIds(true) : QList<quint64>())
                open << m_connections->connectionAt(m_connections->rowOfConnection(id));
            return open;
        },
        this);
    connect(m_faultActions, &ConnectionActions::done, this, [this](const QString& text) {
        Q_EMIT message(text, 5000);
        Q_EMIT refreshRequested();
    });

    m_copyAction = new QAction(themedIcon("edit-copy", s, QStyle::SP_FileIcon), tr("&Copy"), this);
    m_copyAction->setShortcut(QKeySequence::Copy);
    m_copyAction->setShortcutContext(Qt::WidgetShortcut);
    connect(m_copyAction, &QAction::triggered, this, &ConnectionsPane::copySelected);

    // Allow offers the same durations as the banner and Denied clients.
    m_allowMenu = new QMenu(tr("&Allow this client on its route"), this);
    m_allowMenu->setObjectName(QStringLiteral("connectionAllowMenu"));
    m_allowAction = m_allowMenu->menuAction();
    for (const AllowDuration duration : kAllowDurations) {
        m_allowMenu->addAction(allowDurationText(duration), this, [this, duration] {
            const QModelIndex current = m_view->currentIndex();
            if (!current.isValid())
                return;
            const ConnectionInfo& c =
                m_connections->connectionAt(m_filter->mapToSource(current).row());
            Q_EMIT allowRequested(formatIp(c.clientAddress), c.routeId, duration);
        });
    }
    m_blockAction = new QAction(tr("&Block this client on its route"), this);
    connect(m_blockAction, &QAction::triggered, this, [this] {
        const QModelIndex current = m_view->currentIndex();
        if (!current.isValid())
            return;
        const ConnectionInfo& c = m_connections->connectionAt(m_filter->mapToSource(current).row());
        Q_EMIT blockRequested(formatIp(c.clientAddress), c.routeId);
    });

    m_programAction = new QAction(tr("Show only this &program's connections"), this);
    m_programAction->setObjectName(QStringLiteral("programFilterAction"));
    connect(m_programAction, &QAction::triggered, this, [this] {
        const QModelIndex current = m_view->currentIndex();
        if (!current.isValid())
            return;
        setProgramFilter(
            m_connections->connectionAt(m_filter->mapToSource(current).row()).clientProcess->name);
    });

    m_exportAction = new QAction(themedIcon("document-save-as", s, QStyle::SP_DialogSaveButton),
                                 tr("&Export connections as CSV…"), this);
    connect(m_exportAction, &QAction::triggered, this, &ConnectionsPane::exportCsv);

    m_presetGroup = new QActionGroup(this);
    m_presetGroup->setExclusionPolicy(QActionGroup::ExclusionPolicy::ExclusiveOptional);
    const struct
    {
        ColumnPreset preset;
        const char* name;
        QString text;
        QString tip;
    } presets[] = {
        {ColumnPreset::Automatic, "columnsAutomaticAction", tr("&Automatic"),
         tr("The database columns for a route that carries MySQL, PostgreSQL, Redis or MQTT, the "
            "network columns otherwise")},
        {ColumnPreset::All, "columnsAllAction", tr("A&ll columns"), tr("Every column")},
        {ColumnPreset::Network, "columnsNetworkAction", tr("&Network"),
         tr("Route, client, program, upstream, state, times, bytes, rates, close reason")},
        {ColumnPreset::Database, "columnsDatabaseAction", tr("&Database"),
         tr("Client, program, state, duration, bytes received, then the session: user, database, "
            "server, TLS, queries, statement, last error")},
    };
    for (const auto& p : presets) {
        QAction* a = m_presetGroup->addAction(p.text);
        a->setObjectName(QLatin1String(p.name));
        a->setCheckable(true);
        a->setToolTip(p.tip);
        a->setStatusTip(p.tip);
        m_presetActions.insert(p.preset, a);
        connect(a, &QAction::triggered, this, [this, preset = p.preset] {
            setColumnPreset(preset);
            Q_EMIT message(tr("Columns: %1")
                               .arg(m_presetActions.value(preset)->text().remove(QLatin1Char('&'))),
                           3000);
        });
    }
    m_presetActions.value(ColumnPreset::Automatic)->setChecked(true);
    m_compactAction = new QAction(tr("&Compact addresses"), this);
    m_compactAction->setObjectName(QStringLiteral("compactAddressesAction"));
    m_compactAction->setCheckable(true);
    m_compactAction->setChecked(m_connections->compactAddresses());
    m_compactAction->setToolTip(tr("A local client as its port only, a remote one by the short "
                                   "name of its host; the full address in the tooltip"));
    connect(m_compactAction, &QAction::toggled, m_connections,
            &ConnectionTableModel::setCompactAddresses);
    m_columnsMenu = new QMenu(tr("Connection &columns"), this);
    m_columnsMenu->setObjectName(QStringLiteral("connectionColumnsMenu"));
    // Filled as it opens: the column entries show what is shown now.
    connect(m_columnsMenu, &QMenu::aboutToShow, this, [this] { fillColumnsMenu(m_columnsMenu); });

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->setSpacing(4);
    auto* bar = new QHBoxLayout;
    m_filterEdit = new QLineEdit(this);
    m_filterEdit->setObjectName(QStringLiteral("connectionFilterEdit"));
    m_filterEdit->setPlaceholderText(tr("Filter by client, program, upstream, state… (Ctrl+F)"));
    m_filterEdit->setClearButtonEnabled(true);
    connect(m_filterEdit, &QLineEdit::textChanged, m_filter, &ConnectionFilter::setTextFilter);
    m_routeFilter = new QComboBox(this);
    m_routeFilter->setObjectName(QStringLiteral("routeFilterCombo"));
    m_routeFilter->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_routeFilter->addItem(tr("All routes"), QString());
    connect(m_routeFilter, &QComboBox::currentIndexChanged, this, [this] {
        m_filter->setRouteFilter(m_routeFilter->currentData().toString());
        applyColumnPreset();
        if (m_empty)
            updateEmptyState();
    });
    m_programFilterButton = new QToolButton(this);
    m_programFilterButton->setObjectName(QStringLiteral("programFilterButton"));
    m_programFilterButton->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_programFilterButton->setIcon(themedIcon("edit-clear", s, QStyle::SP_DialogCloseButton));
    m_programFilterButton->setToolTip(tr("Show the connections of every program again"));
    m_programFilterButton->hide();
    connect(m_programFilterButton, &QToolButton::clicked, this, [this] { setProgramFilter({}); });
    m_showClosed = new QCheckBox(tr("Show closed"), this);
    m_showClosed->setObjectName(QStringLiteral("showClosedCheck"));
    m_showClosed->setToolTip(tr("Keep closed connections in the table as history"));
    connect(m_showClosed, &QCheckBox::toggled, m_connections, &ConnectionTableModel::setShowClosed);
    m_pauseButton = new QToolButton(this);
    m_pauseButton->setObjectName(QStringLiteral("pauseButton"));
    m_pauseButton->setCheckable(true);
    m_pauseButton->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_pauseButton->setIcon(themedIcon("media-playback-pause", s, QStyle::SP_MediaPause));
    m_pauseButton->setText(tr("Pause"));
    m_pauseButton->setToolTip(tr("Freeze the table (the proxy keeps running)"));
    connect(m_pauseButton, &QToolButton::toggled, this, &ConnectionsPane::setPaused);
    m_rateCombo = new QComboBox(this);
    m_rateCombo->setObjectName(QStringLiteral("refreshRateCombo"));
    m_rateCombo->setToolTip(tr("Refreshes per second"));
    for (int rate : {1, 2, 4, 10})
        m_rateCombo->addItem(tr("%1 / s").arg(rate), rate);
    connect(m_rateCombo, &QComboBox::currentIndexChanged, this,
            [this] { Q_EMIT refreshRateChanged(m_rateCombo->currentData().toInt()); });
    auto* exportButton = new QToolButton(this);
    exportButton->setDefaultAction(m_exportAction);
    exportButton->setToolButtonStyle(Qt::ToolButtonIconOnly);
    bar->addWidget(m_filterEdit, 1);
    bar->addWidget(m_routeFilter);
    bar->addWidget(m_programFilterButton);
    bar->addWidget(m_showClosed);
    bar->addWidget(m_pauseButton);
    bar->addWidget(m_rateCombo);
    bar->addWidget(exportButton);
    layout->addLayout(bar);

    m_view = new QTableView(this);
    m_view->setObjectName(QStringLiteral("connectionsView"));
    setupTable(m_view);
    m_view->setModel(m_filter);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(ConnectionTableModel::IdColumn, Qt::AscendingOrder);
    m_view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_view->setItemDelegate(new ConnectionRowDelegate(m_view));
    m_view->setContextMenuPolicy(Qt::CustomContextMenu);
    m_view->addAction(m_closeAction);
    m_view->addAction(m_copyAction);
    auto* header = m_view->horizontalHeader();
    const QList<QPair<int, int>> widths{
        {ConnectionTableModel::IdColumn, 48},        {ConnectionTableModel::RouteColumn, 85},
        {ConnectionTableModel::ProtoColumn, 44},     {ConnectionTableModel::ClientColumn, 128},
        {ConnectionTableModel::ProgramColumn, 110},  {ConnectionTableModel::UpstreamColumn, 118},
        {ConnectionTableModel::StateColumn, 84},     {ConnectionTableModel::StartedColumn, 64},
        {ConnectionTableModel::DurationColumn, 62},  {ConnectionTableModel::BytesUpColumn, 74},
        {ConnectionTableModel::BytesDownColumn, 74}, {ConnectionTableModel::RateUpColumn, 82},
        {ConnectionTableModel::RateDownColumn, 82}};
    for (const auto& [column, width] : widths)
        header->resizeSection(column, width);
    // Wide enough for a server version ("10.11.19-MariaDB-0+deb12u1" up to its build) and a user
    // name; the statement and the error take what is left, and their tooltips say the rest.
    const QList<QPair<int, int>> databaseWidths{{ConnectionTableModel::MySqlUserColumn, 72},
                                                {ConnectionTableModel::MySqlDatabaseColumn, 80},
                                                {ConnectionTableModel::MySqlServerColumn, 150},
                                                {ConnectionTableModel::MySqlTlsColumn, 40},
                                                {ConnectionTableModel::MySqlQueriesColumn, 60},
                                                {ConnectionTableModel::MySqlStatementColumn, 200},
                                                {ConnectionTableModel::MySqlLastErrorColumn, 160}};
    for (const auto& [column, width] : databaseWidths)
        header->resizeSection(column, width);
    applyColumnPreset();
    fillColumnsMenu(m_columnsMenu);
    connect(m_connections, &ConnectionTableModel::databaseRouteSeen, this,
            [this] { applyColumnPreset(); });
    header->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(header, &QWidget::customContextMenuRequested, this, &ConnectionsPane::showColumnMenu);
    connect(m_view, &QWidget::customContextMenuRequested, this, &ConnectionsPane::showContextMenu);
    layout->addWidget(m_view, 1);

    m_empty = new EmptyState(m_view);
    m_empty->setCondition([this] { return m_filter->rowCount() == 0; });
    // What it says depends on whether the filter hides every row or there is none.
    for (auto signal : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved})
        connect(m_connections, signal, this, &ConnectionsPane::updateEmptyState,
                Qt::QueuedConnection);
    // Many closed rows leave at once in a layout change.
    connect(m_connections, &QAbstractItemModel::layoutChanged, this,
            &ConnectionsPane::updateEmptyState, Qt::QueuedConnection);
    updateEmptyState();
}

void ConnectionsPane::updateEmptyState()
{
    m_empty->setText(emptyText());
    m_empty->updateState();
}

void ConnectionsPane::showColumnMenu(const QPoint& pos)
{
    QMenu menu(this);
    fillColumnsMenu(&menu);
    menu.exec(m_view->horizontalHeader()->mapToGlobal(pos));
}

// The presets, compact addresses, then each column (checked while shown; a pick of one makes the
// columns the user's own choice).
void ConnectionsPane::fillColumnsMenu(QMenu* menu)
{
    QHeaderView* header = m_view->horizontalHeader();
    menu->clear();
    for (QAction* a : m_presetGroup->actions())
        menu->addAction(a);
    menu->addSeparator();
    menu->addAction(m_compactAction);
    menu->addSeparator();
    int visible = 0;
    for (int column = 0; column < ConnectionTableModel::ColumnCount; ++column)
        visible += header->isSectionHidden(column) ? 0 : 1;
    for (int column = 0; column < ConnectionTableModel::ColumnCount; ++column) {
        QAction* a = menu->addAction(
            m_connections->headerData(column, Qt::Horizontal, Qt::DisplayRole).toString());
        a->setObjectName(QStringLiteral("columnAction%1").arg(column));
        a->setCheckable(true);
        a->setChecked(!header->isSectionHidden(column));
        a->setEnabled(header->isSectionHidden(column) || visible > 1); // keep one column
        connect(a, &QAction::toggled, this, [this, header, column](bool on) {
            setColumnPreset(ColumnPreset::Custom);
            header->setSectionHidden(column, !on);
        });
    }
}

bool ConnectionsPane::presetShows(ColumnPreset preset, int column)
{
    using M = ConnectionTableModel;
    if (preset == ColumnPreset::Network)
        return !M::isMySqlColumn(column);
    if (preset == ColumnPreset::Database) {
        // Fits a 1400 px window beside the routes list up to Queries: who and what, not where.
        return M::isMySqlColumn(column) || column == M::IdColumn || column == M::ClientColumn ||
               column == M::ProgramColumn || column == M::StateColumn ||
               column == M::DurationColumn || column == M::BytesDownColumn;
    }
    return true;
}

void ConnectionsPane::setColumnPreset(ColumnPreset preset)
{
    m_preset = preset;
    for (auto it = m_presetActions.cbegin(); it != m_presetActions.cend(); ++it)
        it.value()->setChecked(it.key() == preset);
    applyColumnPreset();
}

ConnectionsPane::ColumnPreset ConnectionsPane::effectiveColumnPreset() const
{
    if (m_preset != ColumnPreset::Automatic)
        return m_preset;
    return carriesDatabase(contextRoute()) ? ColumnPreset::Database : ColumnPreset::Network;
}

void ConnectionsPane::applyColumnPreset()
{
    const ColumnPreset preset = effectiveColumnPreset();
    if (preset == ColumnPreset::Custom)
        return;
    QHeaderView* header = m_view->horizontalHeader();
    for (int column = 0; column < ConnectionTableModel::ColumnCount; ++column) {
        const bool hide = !presetShows(preset, column);
        if (header->isSectionHidden(column) != hide)
            header->setSectionHidden(column, hide);
    }
}

// The route the table is about: the one filtered on, else the one selected in the routes list.
QString ConnectionsPane::contextRoute() const
{
    const QString filtered = m_routeFilter->currentData().toString();
    return filtered.isEmpty() ? m_currentRoute : filtered;
}

// No route in view: whether any database connection was seen at all.
bool ConnectionsPane::carriesDatabase(const QString& routeId) const
{
    if (routeId.isEmpty())
        return m_connections->databaseSeen();
    return m_databaseRoutes.contains(routeId) || m_connections->databaseSeenOn(routeId);
}

void ConnectionsPane::setCurrentRoute(const QString& routeId)
{
    if (routeId == m_currentRoute)
        return;
    m_currentRoute = routeId;
    applyColumnPreset();
    updateEmptyState();
}

QString ConnectionsPane::emptyText() const
{
    if (m_connections->rowCount() > 0)
        return tr("No connection matches the filter.");
    if (!m_engine)
        return tr("No connections: the proxy is not running in this window.");
    QString route = contextRoute();
    if (!m_routeAddresses.contains(route))
        route = m_firstRoute;
    if (route.isEmpty())
        return tr("No connections yet. Add a route, then connect to its listener.");
    const QString address = m_routeAddresses.value(route);
    const QString name = m_routeNames.value(route, route);
    if (address.isEmpty())
        return tr("No connections yet. %1 has no listener: add its port to the listeners.")
            .arg(name);
    if (address.startsWith(QStringLiteral("UDP ")))
        return tr("No connections yet. Send a datagram to %1 to reach %2.")
            .arg(address.mid(4), name);
    return tr("No connections yet. Connect to %1 to reach %2.").arg(address, name);
}

void ConnectionsPane::showContextMenu(const QPoint& pos)
{
    updateActionsFor(m_view->indexAt(pos));
    QMenu menu(this);
    menu.addAction(m_closeAction);
    m_faultActions->addTo(&menu);
    menu.addSeparator();
    menu.addAction(m_copyAction);
    menu.addSeparator();
    menu.addAction(m_allowAction);
    menu.addAction(m_blockAction);
    menu.addSeparator();
    menu.addAction(m_programAction);
    menu.addSeparator();
    menu.addAction(m_exportAction);
    menu.exec(m_view->viewport()->mapToGlobal(pos));
}

void ConnectionsPane::updateActions()
{
    updateActionsFor(m_view->currentIndex());
}

// The connection actions for the selection, the client ones for the row `current`.
void ConnectionsPane::updateActionsFor(const QModelIndex& current)
{
    const QList<quint64> open = selectedConnectionIds(true);
    m_closeAction->setEnabled(!open.isEmpty() && m_engine);
    m_allowAction->setEnabled(current.isValid());
    m_blockAction->setEnabled(current.isValid());
    QHostAddress client;
    if (current.isValid()) {
        const ConnectionInfo& c = m_connections->connectionAt(m_filter->mapToSource(current).row());
        client = c.clientAddress;
        const QString ip = formatIp(c.clientAddress);
        const QString route = m_routeNames.value(c.routeId, c.routeId);
        m_allowAction->setText(tr("Allow %1 on %2").arg(ip, route));
        m_blockAction->setText(tr("Block %1 on %2").arg(ip, route));
    }
    QString program;
    if (current.isValid())
        program =
            m_connections->connectionAt(m_filter->mapToSource(current).row()).clientProcess->name;
    m_programAction->setEnabled(!program.isEmpty());
    m_programAction->setText(program.isEmpty()
                                 ? tr("Show only this &program's connections")
                                 : tr("Show only the connections of %1").arg(program));
    m_faultActions->update(client);
}

void ConnectionsPane::setConfig(const Config& config)
{
    const QString filtered = m_routeFilter->currentData().toString();
    m_routeFilter->blockSignals(true);
    m_routeFilter->clear();
    m_routeFilter->addItem(tr("All routes"), QString());
    for (const StreamRoute& r : config.streamRoutes)
        m_routeFilter->addItem(r.displayName(), r.idString());
    const int index = m_routeFilter->findData(filtered);
    m_routeFilter->setCurrentIndex(index >= 0 ? index : 0);
    m_routeFilter->blockSignals(false);
    m_filter->setRouteFilter(m_routeFilter->currentData().toString());

    m_routeAddresses.clear();
    m_databaseRoutes.clear();
    for (const StreamRoute& r : config.streamRoutes) {
        const QString id = r.idString();
        m_routeAddresses.insert(id, routeAddress(config, r));
        if (config.streamgate.mysqlDeclaredFor(id) || config.streamgate.postgresDigestsFor(id) ||
            r.redis || r.plugins.mqttProxy)
            m_databaseRoutes.insert(id);
    }
    m_firstRoute =
        config.streamRoutes.isEmpty() ? QString() : config.streamRoutes.first().idString();
    applyColumnPreset();
    updateEmptyState();
}

void ConnectionsPane::setPaused(bool paused)
{
    m_paused = paused;
    if (m_pauseButton->isChecked() != paused)
        m_pauseButton->setChecked(paused);
    m_pauseButton->setText(paused ? tr("Resume") : tr("Pause"));
    m_pauseButton->setIcon(
        paused ? themedIcon("media-playback-start", style(), QStyle::SP_MediaPlay)
               : themedIcon("media-playback-pause", style(), QStyle::SP_MediaPause));
    if (!paused)
        Q_EMIT refreshRequested();
}

void ConnectionsPane::showRefreshRate(int perSecond)
{
    const int index = m_rateCombo->findData(perSecond);
    if (index >= 0 && index != m_rateCombo->currentIndex())
        m_rateCombo->setCurrentIndex(index);
}

int ConnectionsPane::chooseRefreshRate(int perSecond)
{
    const int index = m_rateCombo->findData(perSecond);
    m_rateCombo->setCurrentIndex(index >= 0 ? index : m_rateCombo->findData(4));
    return m_rateCombo->currentData().toInt();
}

QList<quint64> ConnectionsPane::selectedConnectionIds(bool openOnly) const
{
    QList<quint64> ids;
    for (const QModelIndex& index : m_view->selectionModel()->selectedRows()) {
        const int row = m_filter->mapToSource(index).row();
        if (openOnly && m_connections->isClosedAt(row))
            continue;
        ids << m_connections->connectionAt(row).id;
    }
    return ids;
}

int ConnectionsPane::closeConnections(const QList<quint64>& ids, bool confirm)
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
    Q_EMIT message(tr("Closed %n connection(s)", nullptr, closed), 5000);
    Q_EMIT refreshRequested();
    return closed;
}

void ConnectionsPane::setProgramFilter(const QString& name)
{
    m_filter->setProgramFilter(name);
    m_programFilterButton->setText(tr("Program: %1").arg(name));
    m_programFilterButton->setVisible(!name.isEmpty());
    if (!name.isEmpty())
        Q_EMIT message(tr("Showing only the connections of %1").arg(name), 4000);
}

void ConnectionsPane::focusFilter()
{
    m_filterEdit->setFocus();
    m_filterEdit->selectAll();
}

void ConnectionsPane::setHighlighted(const QList<quint64>& ids)
{
    static_cast<ConnectionRowDelegate*>(m_view->itemDelegate())->setHighlighted(ids);
    m_view->viewport()->update();
}

void ConnectionsPane::repaintRows()
{
    m_view->viewport()->update();
}

void ConnectionsPane::copySelected()
{
    QStringList lines;
    const QModelIndexList rows = m_view->selectionModel()->selectedRows();
    QList<int> order;
    for (const QModelIndex& index : rows)
        order << index.row();
    std::sort(order.begin(), order.end());
    for (int row : order) {
        QStringList cells;
        for (int c = 0; c < ConnectionTableModel::ColumnCount; ++c)
            cells << m_filter->index(row, c).data().toString();
        lines << cells.join(QLatin1Char('\t'));
    }
    if (!lines.isEmpty())
        QApplication::clipboard()->setText(lines.join(QLatin1Char('\n')));
}

void ConnectionsPane::exportCsv()
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
    file.write(tableToCsv(m_filter).toUtf8());
    if (!file.commit()) {
        QMessageBox::warning(this, tr("Export failed"), tr("%1: %2").arg(path, file.errorString()));
        return;
    }
    Q_EMIT message(tr("Exported %n connection(s) to %1", nullptr, m_filter->rowCount()).arg(path),
                   6000);
}

QString ConnectionsPane::routeAddress(const Config& config, const StreamRoute& route)
{
    for (const Protocol protocol : {Protocol::Tcp, Protocol::Udp}) {
        const QList<ListenEntry>& entries =
            protocol == Protocol::Tcp ? config.streamProxy.tcp : config.streamProxy.udp;
        for (const ListenEntry& e : entries) {
            if (route.serverPort && !e.hasPort(*route.serverPort))
                continue;
            const int port = route.serverPort ? *route.serverPort : e.port;
            QString host = e.host;
            if (host.startsWith(QLatin1Char('[')))
                host = host.mid(1, host.size() - 2);
            const QHostAddress address(host);
            QString endpoint;
            if (host.isEmpty() || address == QHostAddress::AnyIPv4)
                endpoint = QStringLiteral("127.0.0.1:%1").arg(port);
            else if (address == QHostAddress::AnyIPv6)
                endpoint = QStringLiteral("[::1]:%1").arg(port);
            else if (!address.isNull())
                endpoint = formatEndpoint(address, quint16(port));
            else
                endpoint = QStringLiteral("%1:%2").arg(host).arg(port); // a host name
            return protocol == Protocol::Udp ? QStringLiteral("UDP %1").arg(endpoint) : endpoint;
        }
    }
    return {};
}

namespace {
const char* const PresetKeys[] = {"automatic", "all", "network", "database", "custom"};
}

// The header keeps widths and order (and which columns show, for a custom choice); a preset
// decides which columns show.
void ConnectionsPane::restoreSettings(const QSettings& settings)
{
    m_view->horizontalHeader()->restoreState(
        settings.value(QStringLiteral("connections/header")).toByteArray());
    m_showClosed->setChecked(settings.value(QStringLiteral("ui/showClosed"), false).toBool());
    m_compactAction->setChecked(
        settings.value(QStringLiteral("connections/compactAddresses"), true).toBool());
    const QString key = settings.value(QStringLiteral("connections/columns")).toString();
    ColumnPreset preset = ColumnPreset::Automatic;
    for (int i = 0; i < int(std::size(PresetKeys)); ++i) {
        if (key == QLatin1String(PresetKeys[i]))
            preset = ColumnPreset(i);
    }
    setColumnPreset(preset);
}

void ConnectionsPane::saveSettings(QSettings& settings) const
{
    settings.setValue(QStringLiteral("connections/header"),
                      m_view->horizontalHeader()->saveState());
    settings.setValue(QStringLiteral("ui/showClosed"), m_showClosed->isChecked());
    settings.setValue(QStringLiteral("connections/compactAddresses"), m_compactAction->isChecked());
    settings.setValue(QStringLiteral("connections/columns"),
                      QLatin1String(PresetKeys[int(m_preset)]));
}

} // namespace sg::ui
