#include "panes/deniedpane.h"

#include "delegates.h"
#include "models/deniedclientsmodel.h"
#include "models/roles.h"
#include "viewstyle.h"

#include <QHeaderView>
#include <QLabel>
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
    auto* hint =
        new QLabel(tr("Refused connection attempts, by client and route. <b>Allow</b> adds the "
                      "client to the route's allowed clients; it takes effect at once."),
                   this);
    hint->setWordWrap(true);
    layout->addWidget(hint);
    m_view = new QTableView(this);
    m_view->setObjectName(QStringLiteral("deniedView"));
    setupTable(m_view);
    auto* sorted = new QSortFilterProxyModel(this);
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
    connect(buttons, &ButtonDelegate::clicked, this, [this, sorted](const QModelIndex& index) {
        const QModelIndex source = sorted->mapToSource(index);
        const DeniedClient& d = m_denied->rowAt(source.row()).denied;
        Q_EMIT allowRequested(d.clientIp, d.routeId);
    });
    layout->addWidget(m_view, 1);
    connect(m_denied, &QAbstractItemModel::rowsInserted, this,
            [this] { Q_EMIT titleChanged(tr("Denied clients (%1)").arg(m_denied->rowCount())); });
    connect(m_denied, &QAbstractItemModel::rowsRemoved, this, [this] {
        const int n = m_denied->rowCount();
        Q_EMIT titleChanged(n ? tr("Denied clients (%1)").arg(n) : tr("Denied clients"));
    });
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
