#pragma once
// Filters and sorts the connections table for the view: by route (RouteIdRole), by the
// program owning the client's socket, and by free text matched against the shown columns
// (the client's host name and program included); sorts on SortRole (raw numbers, numeric
// addresses, programs by name then pid). Sorted by ID, it keeps the connections model's row order
// (rows are in id order there), so rows that leave or change never make it re-sort.

#include <QPointer>
#include <QSortFilterProxyModel>

namespace sg::ui {

class ConnectionTableModel;

class ConnectionFilter final : public QSortFilterProxyModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConnectionFilter)

public:
    explicit ConnectionFilter(QObject* parent = nullptr);
    void setRouteFilter(const QString& routeId); // empty = every route
    void setTextFilter(const QString& text);
    void setProgramFilter(const QString& name); // ClientProcess::name; empty = every program
    QString routeFilter() const { return m_route; }
    QString textFilter() const { return m_text; }
    QString programFilter() const { return m_program; }
    void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;
    bool lessThan(const QModelIndex& left, const QModelIndex& right) const override;

private:
    QPointer<const ConnectionTableModel> m_connections; // the source, when it is one
    int m_sortColumn = -1;       // as asked; the base class sorts by -1 (row order) for ID
    bool m_sortRoleIsOwn = true; // sortRole() is SortRole: lessThan() may ask the model
    QString m_route;
    QString m_text;
    QString m_program;
};

} // namespace sg::ui
