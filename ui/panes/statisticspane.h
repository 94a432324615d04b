#pragma once
// The Statistics tab, a vertical splitter: counters and rates per route (a click selects the
// route), the health of every upstream node, and the traffic chart of the selected route (the
// first one while none is selected).

#include <QHash>
#include <QSplitter>

class QSettings;
class QTableView;

namespace sg::ui {

class NodesModel;
class RouteStatsModel;
class TrafficChart;

class StatisticsPane final : public QSplitter
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(StatisticsPane)

public:
    StatisticsPane(RouteStatsModel* stats, NodesModel* nodes, QWidget* parent = nullptr);

    // The names the chart's title says.
    void setRouteNames(const QHash<QString, QString>& names) { m_routeNames = names; }
    // Where a client connects to reach each route (ConnectionsPane::routeAddress), for the empty
    // chart.
    void setRouteAddresses(const QHash<QString, QString>& addresses)
    {
        m_routeAddresses = addresses;
    }
    // Draws the traffic of routeId, of the first route when it is empty.
    void updateChart(const QString& routeId);
    // Whether the chart is on screen (a refresh redraws it only then, or while the tab shows).
    bool isChartVisible() const;

    void restoreSettings(const QSettings& settings);
    void saveSettings(QSettings& settings) const;

Q_SIGNALS:
    void routeClicked(const QString& id);

private:
    RouteStatsModel* m_stats;
    QHash<QString, QString> m_routeNames;
    QHash<QString, QString> m_routeAddresses;
    QTableView* m_statsView;
    QTableView* m_nodesView;
    TrafficChart* m_chart;
};

} // namespace sg::ui
