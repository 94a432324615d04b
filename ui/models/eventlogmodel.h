#pragma once
// The engine's event log (open, close, deny, node and listener changes) as an append-only
// table capped at a fixed number of rows: new events are inserted at the end, the oldest are
// removed from the front. Filtering happens in a proxy.

#include "stats/snapshot.h"

#include <QAbstractTableModel>
#include <deque>

namespace sg::ui {

class EventLogModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EventLogModel)

public:
    enum Column { TimeColumn, KindColumn, RouteColumn, TextColumn, ColumnCount };
    Q_ENUM(Column)

    explicit EventLogModel(QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    // Events must come in seq order; ones already seen are ignored.
    void addEvents(const QList<Event>& events);
    qint64 lastSeq() const { return m_lastSeq; }
    void setLimit(int rows) { m_limit = rows; }
    void setRouteNames(const QHash<QString, QString>& names) { m_routeNames = names; }
    void clear();
    const Event& eventAt(int row) const { return m_events.at(size_t(row)); }

private:
    std::deque<Event> m_events;
    QHash<QString, QString> m_routeNames;
    qint64 m_lastSeq = 0;
    int m_limit = 5000;
};

} // namespace sg::ui
