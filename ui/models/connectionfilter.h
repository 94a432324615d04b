#pragma once
// Filters and sorts the connections table for the view: by route (RouteIdRole) and by free
// text matched against the shown columns; sorts on SortRole (raw numbers, numeric addresses).

#include <QSortFilterProxyModel>

namespace sg::ui {

class ConnectionFilter final : public QSortFilterProxyModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConnectionFilter)

public:
    explicit ConnectionFilter(QObject* parent = nullptr);
    void setRouteFilter(const QString& routeId); // empty = every route
    void setTextFilter(const QString& text);
    QString routeFilter() const { return m_route; }
    QString textFilter() const { return m_text; }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;

private:
    QString m_route;
    QString m_text;
};

} // namespace sg::ui
