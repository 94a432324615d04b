#pragma once
// Per-route counters from the engine's snapshots, with rates computed between consecutive
// snapshots and a rolling history (the last 5 minutes) that feeds the sparkline column and the
// live chart. Rows are keyed by route id and diffed, never reset.

#include "models/keyedtablemodel.h"
#include "stats/snapshot.h"

#include <QHash>
#include <deque>

namespace sg::ui {

struct RouteSample
{
    qint64 timeMs = 0;
    double rateUp = 0;   // bytes/s client -> upstream
    double rateDown = 0; // bytes/s upstream -> client
    quint64 active = 0;
};

struct RouteStatsRow
{
    RouteCounters counters;
    QString name;
    double rateUp = 0;
    double rateDown = 0;
    QList<double> trend; // recent total rates, oldest first
    QString key() const { return counters.routeId; }
    bool operator==(const RouteStatsRow& o) const
    {
        return name == o.name && rateUp == o.rateUp && rateDown == o.rateDown && trend == o.trend &&
               counters.total == o.counters.total && counters.active == o.counters.active &&
               counters.maxActive == o.counters.maxActive &&
               counters.deniedIpRestriction == o.counters.deniedIpRestriction &&
               counters.limited == o.counters.limited &&
               counters.connectFailures == o.counters.connectFailures &&
               counters.timeouts == o.counters.timeouts && counters.bytesUp == o.counters.bytesUp &&
               counters.bytesDown == o.counters.bytesDown;
    }
};

class RouteStatsModel final : public KeyedTableModel<RouteStatsRow>
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RouteStatsModel)

public:
    enum Column {
        RouteColumn,
        ActiveColumn,
        MaxColumn,
        TotalColumn,
        DeniedColumn,
        LimitedColumn,
        ErrorsColumn,
        BytesUpColumn,
        BytesDownColumn,
        RateUpColumn,
        RateDownColumn,
        TrendColumn,
        ColumnCount
    };
    Q_ENUM(Column)

    explicit RouteStatsModel(QObject* parent = nullptr);

    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    void applySnapshot(const Snapshot& snapshot);
    void setRouteNames(const QHash<QString, QString>& names) { m_routeNames = names; }
    void setHistorySpanMs(qint64 ms) { m_spanMs = ms; }
    qint64 historySpanMs() const { return m_spanMs; }

    // Samples of the last historySpanMs() for one route, oldest first.
    QList<RouteSample> history(const QString& routeId) const;
    double totalRateUp() const { return m_totalUp; }
    double totalRateDown() const { return m_totalDown; }

private:
    struct Track
    {
        quint64 bytesUp = 0;
        quint64 bytesDown = 0;
        qint64 lastMs = 0;
        std::deque<RouteSample> samples;
    };
    QHash<QString, Track> m_tracks;
    QHash<QString, QString> m_routeNames;
    qint64 m_spanMs = 5 * 60 * 1000;
    double m_totalUp = 0;
    double m_totalDown = 0;
};

} // namespace sg::ui
