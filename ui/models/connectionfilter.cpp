#include "models/connectionfilter.h"

#include "models/connectiontablemodel.h"
#include "models/roles.h"

namespace sg::ui {

ConnectionFilter::ConnectionFilter(QObject* parent) : QSortFilterProxyModel(parent)
{
    setSortRole(SortRole);
    setDynamicSortFilter(true);
    connect(this, &QAbstractProxyModel::sourceModelChanged, this, [this] {
        m_connections = qobject_cast<const ConnectionTableModel*>(sourceModel());
        if (m_sortColumn >= 0)
            sort(m_sortColumn, sortOrder());
    });
    // Read once per change, not per comparison: the property costs a binding check each time.
    connect(this, &QSortFilterProxyModel::sortRoleChanged, this, [this](int role) {
        m_sortRoleIsOwn = role == SortRole;
        if (m_sortColumn == ConnectionTableModel::IdColumn)
            sort(m_sortColumn, sortOrder());
    });
}

// Sorting by ID, ascending, is the source's row order: QSortFilterProxyModel then orders rows by
// their number and never compares two rows, neither after a layout change (rows left) nor on
// dataChanged. sortColumn() reads -1 then; the view's header keeps the column the user chose.
// (Qt 6.4 restores the source order for -1 whatever the order asked, so descending still sorts.)
void ConnectionFilter::sort(int column, Qt::SortOrder order)
{
    m_sortColumn = column;
    const bool byRows = m_connections && column == ConnectionTableModel::IdColumn &&
                        order == Qt::AscendingOrder && m_sortRoleIsOwn;
    QSortFilterProxyModel::sort(byRows ? -1 : column, order);
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
    // Asked for every row on each layout change and ranged dataChanged.
    if (m_route.isEmpty() && m_program.isEmpty() && m_text.isEmpty())
        return true;
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
    if (m_sortRoleIsOwn && m_connections && left.column() == right.column()) {
        if (const std::optional<bool> less =
                m_connections->sortsBefore(left.row(), right.row(), left.column()))
            return *less;
    }
    return QSortFilterProxyModel::lessThan(left, right);
}

} // namespace sg::ui
