#include "panes/connectionspane.h"

#include "accesscontroller.h"
#include "connectionactions.h"
#include "csv.h"
#include "delegates.h"
#include "format.h"
#include "model/streamroute.h"
#include "models/connectionfilter.h"
#include "models/connectiontablemodel.h"
#include "proxy/engine.h"
#include "viewstyle.h"

#include <QAction>
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
            m_connections->connectionAt(m_filter->mapToSource(current).row()).clientProcess.name);
    });

    m_exportAction = new QAction(themedIcon("document-save-as", s, QStyle::SP_DialogSaveButton),
                                 tr("&Export connections as CSV…"), this);
    connect(m_exportAction, &QAction::triggered, this, &ConnectionsPane::exportCsv);

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
    connect(m_routeFilter, &QComboBox::currentIndexChanged, this,
            [this] { m_filter->setRouteFilter(m_routeFilter->currentData().toString()); });
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
    // The database columns stay out of the way until a database connection shows up; any column can
    // be shown or hidden from the header's menu, and a choice made there is not overridden.
    for (int column = 0; column < ConnectionTableModel::ColumnCount; ++column) {
        if (ConnectionTableModel::isMySqlColumn(column))
            header->setSectionHidden(column, !m_connections->databaseSeen());
    }
    connect(m_connections, &ConnectionTableModel::databaseFirstSeen, header, [this, header] {
        if (m_columnsChosen)
            return;
        for (int column = 0; column < ConnectionTableModel::ColumnCount; ++column) {
            if (ConnectionTableModel::isMySqlColumn(column))
                header->showSection(column);
        }
    });
    header->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(header, &QWidget::customContextMenuRequested, this, &ConnectionsPane::showColumnMenu);
    connect(m_view, &QWidget::customContextMenuRequested, this, &ConnectionsPane::showContextMenu);
    layout->addWidget(m_view, 1);
}

void ConnectionsPane::showColumnMenu(const QPoint& pos)
{
    QHeaderView* header = m_view->horizontalHeader();
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
            m_columnsChosen = true;
            header->setSectionHidden(column, !on);
        });
    }
    menu.exec(header->mapToGlobal(pos));
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
            m_connections->connectionAt(m_filter->mapToSource(current).row()).clientProcess.name;
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

void ConnectionsPane::restoreSettings(const QSettings& settings)
{
    m_view->horizontalHeader()->restoreState(
        settings.value(QStringLiteral("connections/header")).toByteArray());
    m_showClosed->setChecked(settings.value(QStringLiteral("ui/showClosed"), false).toBool());
}

void ConnectionsPane::saveSettings(QSettings& settings) const
{
    settings.setValue(QStringLiteral("connections/header"),
                      m_view->horizontalHeader()->saveState());
    settings.setValue(QStringLiteral("ui/showClosed"), m_showClosed->isChecked());
}

} // namespace sg::ui
