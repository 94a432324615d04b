#include "models/routestatsmodel.h"

#include "format.h"
#include "models/roles.h"

namespace sg::ui {

namespace {
constexpr int TrendPoints = 60;

quint64 errors(const RouteCounters& c)
{
    return c.connectFailures + c.timeouts;
}
} // namespace

RouteStatsModel::RouteStatsModel(QObject* parent) : KeyedTableModel<RouteStatsRow>(parent) {}

int RouteStatsModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant RouteStatsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case MaxColumn:
            return tr("Most connections open at once");
        case DeniedColumn:
            return tr("Refused by ip-restriction");
        case LimitedColumn:
            return tr("Refused by limit-conn (UDP: session cap)");
        case ErrorsColumn:
            return tr("Upstream connect failures and timeouts");
        case TrendColumn:
            return tr("Total rate over the last %1 samples").arg(TrendPoints);
        }
        return {};
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (section) {
    case RouteColumn:
        return tr("Route");
    case ActiveColumn:
        return tr("Active");
    case MaxColumn:
        return tr("Max");
    case TotalColumn:
        return tr("Total");
    case DeniedColumn:
        return tr("Denied");
    case LimitedColumn:
        return tr("Limited");
    case ErrorsColumn:
        return tr("Errors");
    case BytesUpColumn:
        return tr("Bytes ↑");
    case BytesDownColumn:
        return tr("Bytes ↓");
    case RateUpColumn:
        return tr("Rate ↑");
    case RateDownColumn:
        return tr("Rate ↓");
    case TrendColumn:
        return tr("Trend");
    }
    return {};
}

QVariant RouteStatsModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const RouteStatsRow& row = rowAt(index.row());
    const RouteCounters& c = row.counters;
    const int column = index.column();
    if (role == Qt::DisplayRole) {
        switch (column) {
        case RouteColumn:
            return row.name;
        case ActiveColumn:
            return QString::number(c.active);
        case MaxColumn:
            return QString::number(c.maxActive);
        case TotalColumn:
            return QString::number(c.total);
        case DeniedColumn:
            return QString::number(c.deniedIpRestriction);
        case LimitedColumn:
            return QString::number(c.limited);
        case ErrorsColumn:
            return QString::number(errors(c));
        case BytesUpColumn:
            return formatBytes(c.bytesUp);
        case BytesDownColumn:
            return formatBytes(c.bytesDown);
        case RateUpColumn:
            return formatRate(row.rateUp);
        case RateDownColumn:
            return formatRate(row.rateDown);
        case TrendColumn:
            return QString();
        }
        return {};
    }
    if (role == RawValueRole || role == SortRole) {
        switch (column) {
        case RouteColumn:
            return role == SortRole ? row.name : c.routeId;
        case ActiveColumn:
            return c.active;
        case MaxColumn:
            return c.maxActive;
        case TotalColumn:
            return c.total;
        case DeniedColumn:
            return c.deniedIpRestriction;
        case LimitedColumn:
            return c.limited;
        case ErrorsColumn:
            return errors(c);
        case BytesUpColumn:
            return c.bytesUp;
        case BytesDownColumn:
            return c.bytesDown;
        case RateUpColumn:
            return row.rateUp;
        case RateDownColumn:
            return row.rateDown;
        case TrendColumn:
            return row.rateUp + row.rateDown;
        }
        return {};
    }
    switch (role) {
    case HistoryRole:
        return column == TrendColumn ? QVariant::fromValue(row.trend) : QVariant();
    case HealthRole:
        if (column != RouteColumn)
            return {};
        return errors(c) > 0 ? 2 : (c.active > 0 ? 1 : 0);
    case RouteIdRole:
        return c.routeId;
    case Qt::TextAlignmentRole:
        return column == RouteColumn ? QVariant() : QVariant(Qt::AlignRight | Qt::AlignVCenter);
    }
    return {};
}

void RouteStatsModel::applySnapshot(const Snapshot& snapshot)
{
    const qint64 now = snapshot.takenMs;
    QList<RouteStatsRow> next;
    next.reserve(snapshot.routes.size());
    m_totalUp = m_totalDown = 0;
    QSet<QString> present;
    for (const RouteCounters& c : snapshot.routes) {
        present.insert(c.routeId);
        Track& track = m_tracks[c.routeId];
        RouteSample sample{now, 0, 0, c.active};
        // A refresh right after another (F5) has too short a span for a meaningful rate:
        // keep the last sample's rates and do not add a point.
        const bool tooSoon = track.lastMs > 0 && now - track.lastMs < 200 && !track.samples.empty();
        if (tooSoon) {
            sample = track.samples.back();
            sample.active = c.active;
        } else if (track.lastMs > 0 && now > track.lastMs) {
            const double dt = double(now - track.lastMs) / 1000.0;
            // Counters restart from 0 when a route is re-created: count from there.
            const auto delta = [](quint64 now, quint64 before) {
                return now >= before ? now - before : now;
            };
            sample.rateUp = double(delta(c.bytesUp, track.bytesUp)) / dt;
            sample.rateDown = double(delta(c.bytesDown, track.bytesDown)) / dt;
        }
        if (!tooSoon) {
            track.bytesUp = c.bytesUp;
            track.bytesDown = c.bytesDown;
            track.lastMs = now;
            track.samples.push_back(sample);
        }
        while (!track.samples.empty() && now - track.samples.front().timeMs > m_spanMs)
            track.samples.pop_front();

        RouteStatsRow row;
        row.counters = c;
        row.name = m_routeNames.value(c.routeId, c.routeId);
        row.rateUp = sample.rateUp;
        row.rateDown = sample.rateDown;
        const size_t from =
            track.samples.size() > size_t(TrendPoints) ? track.samples.size() - TrendPoints : 0;
        for (size_t i = from; i < track.samples.size(); ++i)
            row.trend << track.samples[i].rateUp + track.samples[i].rateDown;
        m_totalUp += sample.rateUp;
        m_totalDown += sample.rateDown;
        next << row;
    }
    for (auto it = m_tracks.begin(); it != m_tracks.end();) {
        if (present.contains(it.key()))
            ++it;
        else
            it = m_tracks.erase(it);
    }
    updateRows(next);
}

QList<RouteSample> RouteStatsModel::history(const QString& routeId) const
{
    const auto it = m_tracks.constFind(routeId);
    if (it == m_tracks.constEnd())
        return {};
    return QList<RouteSample>(it->samples.begin(), it->samples.end());
}

} // namespace sg::ui
