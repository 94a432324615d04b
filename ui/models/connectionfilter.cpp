#include "models/connectionfilter.h"

#include "models/connectiontablemodel.h"
#include "models/roles.h"

namespace sg::ui {

ConnectionFilter::ConnectionFilter(QObject* parent) : QSortFilterProxyModel(parent)
{
    setSortRole(SortRole);
    setDynamicSortFilter(true);
    connect(this, &QAbstractProxyModel::sourceModelChanged, this,
            [this] { m_connections = qobject_cast<const ConnectionTableModel*>(sourceModel()); });
}

void ConnectionFilter::setRouteFilter(const QString& routeId)
{
    if (routeId == m_route)
        return;
    m_route = routeId;
    invalidateRowsFilter();
}

void ConnectionFilter::setTextFilter(const QString& text)
{
    const QString trimmed = text.trimmed();
    if (trimmed == m_text)
        return;
    m_text = trimmed;
    invalidateRowsFilter();
}

void ConnectionFilter::setProgramFilter(const QString& name)
{
    if (name == m_program)
        return;
    m_program = name;
    invalidateRowsFilter();
}

bool ConnectionFilter::filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const
{
    const QAbstractItemModel* model = sourceModel();
    if (!m_route.isEmpty() &&
        model->index(sourceRow, 0, sourceParent).data(RouteIdRole).toString() != m_route)
        return false;
    if (!m_program.isEmpty()) {
        if (!m_connections ||
            m_connections->connectionAt(sourceRow).clientProcess->name != m_program)
            return false;
    }
    if (m_text.isEmpty())
        return true;
    for (int column :
         {ConnectionTableModel::IdColumn, ConnectionTableModel::RouteColumn,
          ConnectionTableModel::ProtoColumn, ConnectionTableModel::ClientColumn,
          ConnectionTableModel::ProgramColumn, ConnectionTableModel::UpstreamColumn,
          ConnectionTableModel::StateColumn, ConnectionTableModel::CloseReasonColumn}) {
        if (model->index(sourceRow, column, sourceParent)
                .data()
                .toString()
                .contains(m_text, Qt::CaseInsensitive))
            return true;
    }
    // Compact addresses show less of the client than there is: its address and whole host name
    // match too.
    const QModelIndex client =
        model->index(sourceRow, ConnectionTableModel::ClientColumn, sourceParent);
    if (client.data(RawValueRole).toString().contains(m_text, Qt::CaseInsensitive))
        return true;
    return m_connections &&
           m_connections->connectionAt(sourceRow).clientHost.contains(m_text, Qt::CaseInsensitive);
}

// Numbers straight from the model: a re-sort of 10,000 rows would otherwise build and compare two
// QVariants per comparison. The order is the one SortRole gives.
bool ConnectionFilter::lessThan(const QModelIndex& left, const QModelIndex& right) const
{
    if (m_connections && left.column() == right.column() && sortRole() == SortRole) {
        if (const std::optional<bool> less =
                m_connections->sortsBefore(left.row(), right.row(), left.column()))
            return *less;
    }
    return QSortFilterProxyModel::lessThan(left, right);
}

} // namespace sg::ui
