#include "models/eventlogmodel.h"

#include "format.h"
#include "models/roles.h"

namespace sg::ui {

EventLogModel::EventLogModel(QObject* parent) : QAbstractTableModel(parent) {}

int EventLogModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_events.size());
}

int EventLogModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant EventLogModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case TimeColumn:
        return tr("Time");
    case KindColumn:
        return tr("Event");
    case RouteColumn:
        return tr("Route");
    case TextColumn:
        return tr("Details");
    }
    return {};
}

QVariant EventLogModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const Event& e = m_events[size_t(index.row())];
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case TimeColumn:
            return formatClock(e.timeMs);
        case KindColumn:
            return eventKindText(e.kind);
        case RouteColumn:
            return m_routeNames.value(e.routeId, e.routeId);
        case TextColumn:
            return e.text;
        }
        return {};
    case RawValueRole:
    case SortRole:
        switch (index.column()) {
        case TimeColumn:
            return e.seq;
        case KindColumn:
            return int(e.kind);
        case RouteColumn:
            return e.routeId;
        case TextColumn:
            return e.text;
        }
        return {};
    case Qt::ToolTipRole:
        if (index.column() == TimeColumn)
            return formatDateTime(e.timeMs);
        if (index.column() == TextColumn)
            return e.text;
        return {};
    case RouteIdRole:
        return e.routeId;
    case HealthRole:
        if (index.column() != KindColumn)
            return {};
        switch (e.kind) {
        case EventKind::Deny:
        case EventKind::NodeDown:
        case EventKind::ListenerError:
            return 3;
        case EventKind::Open:
        case EventKind::NodeUp:
        case EventKind::ListenerUp:
            return 1;
        default:
            return 0;
        }
    }
    return {};
}

void EventLogModel::addEvents(const QList<Event>& events)
{
    QList<Event> fresh;
    for (const Event& e : events) {
        if (e.seq > m_lastSeq) {
            fresh << e;
            m_lastSeq = e.seq;
        }
    }
    if (fresh.isEmpty())
        return;
    if (fresh.size() > m_limit)
        fresh = fresh.mid(fresh.size() - m_limit);
    const int overflow = int(m_events.size()) + int(fresh.size()) - m_limit;
    if (overflow > 0) {
        beginRemoveRows({}, 0, overflow - 1);
        m_events.erase(m_events.begin(), m_events.begin() + overflow);
        endRemoveRows();
    }
    const int first = int(m_events.size());
    beginInsertRows({}, first, first + int(fresh.size()) - 1);
    for (const Event& e : std::as_const(fresh))
        m_events.push_back(e);
    endInsertRows();
}

void EventLogModel::clear()
{
    if (m_events.empty())
        return;
    beginRemoveRows({}, 0, int(m_events.size()) - 1);
    m_events.clear();
    endRemoveRows();
}

} // namespace sg::ui
