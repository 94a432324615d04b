#include "panes/deniedpane.h"

#include "delegates.h"
#include "emptystate.h"
#include "models/deniedclientsmodel.h"
#include "models/roles.h"
#include "viewstyle.h"

#include <QHeaderView>
#include <QKeyEvent>
#include <QLabel>
#include <QMenu>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

namespace sg::ui {

DeniedPane::DeniedPane(DeniedClientsModel* denied, QWidget* parent)
    : QWidget(parent), m_denied(denied)
{
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    auto* hint = new QLabel(
        tr("Refused connection attempts, by client and route. <b>Allow</b> adds the "
           "client to the route's allowed clients, once, for an hour, until Streamgate quits or "
           "always; it takes effect at once. Enter on a row does the same."),
        this);
    hint->setWordWrap(true);
    layout->addWidget(hint);
    m_view = new QTableView(this);
    m_view->setObjectName(QStringLiteral("deniedView"));
    setupTable(m_view);
    auto* sorted = m_sorted = new QSortFilterProxyModel(this);
    sorted->setSourceModel(m_denied);
    sorted->setSortRole(SortRole);
    m_view->setModel(sorted);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(DeniedClientsModel::LastSeenColumn, Qt::DescendingOrder);
    m_view->setMouseTracking(true);
    auto* buttons = new ButtonDelegate(m_view);
    m_view->setItemDelegateForColumn(DeniedClientsModel::ActionColumn, buttons);
    m_view->horizontalHeader()->resizeSection(DeniedClientsModel::ClientColumn, 150);
    m_view->horizontalHeader()->resizeSection(DeniedClientsModel::ProgramColumn, 120);
    m_view->horizontalHeader()->resizeSection(DeniedClientsModel::RouteColumn, 150);
    m_view->horizontalHeader()->resizeSection(DeniedClientsModel::ReasonColumn, 170);
    connect(buttons, &ButtonDelegate::clicked, this,
            [this](const QModelIndex& index) { popupAllowMenu(index); });
    m_view->installEventFilter(this);
    layout->addWidget(m_view, 1);
    auto* empty = new EmptyState(m_view);
    empty->setText(tr("No client has been refused. When a route turns a client away (it is not "
                      "among the allowed clients, or over a connection limit), it shows here "
                      "with a button to allow it."));
    connect(m_denied, &QAbstractItemModel::rowsInserted, this,
            [this] { Q_EMIT titleChanged(tr("Denied clients (%1)").arg(m_denied->rowCount())); });
    connect(m_denied, &QAbstractItemModel::rowsRemoved, this, [this] {
        const int n = m_denied->rowCount();
        Q_EMIT titleChanged(n ? tr("Denied clients (%1)").arg(n) : tr("Denied clients"));
    });
}

QMenu* DeniedPane::popupAllowMenu(const QModelIndex& index)
{
    if (!index.isValid())
        return nullptr;
    const int row = m_sorted->mapToSource(index).row();
    if (!m_denied->canAllow(row))
        return nullptr;
    const DeniedClient d = m_denied->rowAt(row).denied;
    auto* menu = new QMenu(this);
    menu->setObjectName(QStringLiteral("allowMenu"));
    menu->setAttribute(Qt::WA_DeleteOnClose);
    for (const AllowDuration duration : kAllowDurations) {
        menu->addAction(allowDurationText(duration), this, [this, d, duration] {
            Q_EMIT allowRequested(d.clientIp, d.routeId, duration);
        });
    }
    const QModelIndex cell = index.siblingAtColumn(DeniedClientsModel::ActionColumn);
    const QRect rect = m_view->visualRect(cell);
    menu->popup(m_view->viewport()->mapToGlobal(rect.isValid() ? rect.bottomLeft() : QPoint()));
    menu->setActiveAction(menu->actions().value(1)); // for 1 hour: Enter takes it
    return menu;
}

// Enter (or Return) on a row opens its choice of durations, as a click on Allow does.
bool DeniedPane::eventFilter(QObject* watched, QEvent* event)
{
    if (watched == m_view && event->type() == QEvent::KeyPress) {
        const int key = static_cast<QKeyEvent*>(event)->key();
        if ((key == Qt::Key_Return || key == Qt::Key_Enter) && m_view->currentIndex().isValid()) {
            popupAllowMenu(m_view->currentIndex());
            return true;
        }
    }
    return QWidget::eventFilter(watched, event);
}

void DeniedPane::restoreSettings(const QSettings& settings)
{
    m_view->horizontalHeader()->restoreState(
        settings.value(QStringLiteral("denied/header")).toByteArray());
}

void DeniedPane::saveSettings(QSettings& settings) const
{
    settings.setValue(QStringLiteral("denied/header"), m_view->horizontalHeader()->saveState());
}

} // namespace sg::ui
