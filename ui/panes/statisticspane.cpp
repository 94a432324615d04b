#include "panes/statisticspane.h"

#include "delegates.h"
#include "emptystate.h"
#include "models/nodesmodel.h"
#include "models/roles.h"
#include "models/routestatsmodel.h"
#include "panes/trafficchart.h"
#include "viewstyle.h"

#include <QHeaderView>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QTableView>

namespace sg::ui {

StatisticsPane::StatisticsPane(RouteStatsModel* stats, NodesModel* nodes, QWidget* parent)
    : QSplitter(Qt::Vertical, parent), m_stats(stats)
{
    setObjectName(QStringLiteral("statsSplitter"));

    m_statsView = new QTableView(this);
    m_statsView->setObjectName(QStringLiteral("statsView"));
    setupTable(m_statsView);
    auto* sortedStats = new QSortFilterProxyModel(this);
    sortedStats->setSourceModel(m_stats);
    sortedStats->setSortRole(SortRole);
    m_statsView->setModel(sortedStats);
    m_statsView->setSortingEnabled(true);
    m_statsView->sortByColumn(RouteStatsModel::RouteColumn, Qt::AscendingOrder);
    m_statsView->setItemDelegateForColumn(RouteStatsModel::RouteColumn,
                                          new StatusDotDelegate(m_statsView));
    m_statsView->setItemDelegateForColumn(RouteStatsModel::TrendColumn,
                                          new SparklineDelegate(m_statsView));
    m_statsView->horizontalHeader()->resizeSection(RouteStatsModel::RouteColumn, 130);
    for (int c = RouteStatsModel::ActiveColumn; c <= RouteStatsModel::ErrorsColumn; ++c)
        m_statsView->horizontalHeader()->resizeSection(c, 58);
    for (int c = RouteStatsModel::BytesUpColumn; c <= RouteStatsModel::RateDownColumn; ++c)
        m_statsView->horizontalHeader()->resizeSection(c, 84);
    connect(m_statsView, &QTableView::clicked, this, [this](const QModelIndex& index) {
        Q_EMIT routeClicked(index.data(RouteIdRole).toString());
    });

    m_nodesView = new QTableView(this);
    m_nodesView->setObjectName(QStringLiteral("nodesView"));
    setupTable(m_nodesView);
    auto* sortedNodes = new QSortFilterProxyModel(this);
    sortedNodes->setSourceModel(nodes);
    sortedNodes->setSortRole(SortRole);
    m_nodesView->setModel(sortedNodes);
    m_nodesView->setSortingEnabled(true);
    m_nodesView->setItemDelegateForColumn(NodesModel::HealthColumn,
                                          new StatusDotDelegate(m_nodesView));
    m_nodesView->horizontalHeader()->resizeSection(NodesModel::UpstreamColumn, 180);
    m_nodesView->horizontalHeader()->resizeSection(NodesModel::NodeColumn, 160);
    m_nodesView->horizontalHeader()->resizeSection(NodesModel::HealthColumn, 140);

    m_chart = new TrafficChart(this);

    auto* noRoutes = new EmptyState(m_statsView);
    noRoutes->setText(tr("No routes yet. Each route's connections, refusals, bytes and rates are "
                         "counted here once it has one."));

    addWidget(m_statsView);
    addWidget(m_nodesView);
    addWidget(m_chart);
    setSizes({160, 110, 320});
}

void StatisticsPane::updateChart(const QString& routeId)
{
    QString id = routeId;
    if (id.isEmpty() && m_stats->rowCount() > 0)
        id = m_stats->rowAt(0).counters.routeId;
    m_chart->setTitle(id.isEmpty() ? tr("<b>Traffic</b> — select a route")
                                   : tr("<b>Traffic of %1</b> — last 5 minutes")
                                         .arg(m_routeNames.value(id, id).toHtmlEscaped()));
    m_chart->plot(m_stats->history(id));
    const QString name = m_routeNames.value(id, id);
    const QString address = m_routeAddresses.value(id);
    if (id.isEmpty())
        m_chart->setEmptyText(tr("No traffic: there is no route yet."));
    else if (address.isEmpty())
        m_chart->setEmptyText(tr("No traffic on %1 in the last 5 minutes.").arg(name));
    else
        m_chart->setEmptyText(
            tr("No traffic on %1 in the last 5 minutes. Connect to %2 to see it here.")
                .arg(name, address.startsWith(QStringLiteral("UDP ")) ? address.mid(4) : address));
}

bool StatisticsPane::isChartVisible() const
{
    return m_chart->isChartVisible();
}

void StatisticsPane::restoreSettings(const QSettings& settings)
{
    restoreState(settings.value(QStringLiteral("window/statsSplitter")).toByteArray());
    m_statsView->horizontalHeader()->restoreState(
        settings.value(QStringLiteral("stats/header")).toByteArray());
}

void StatisticsPane::saveSettings(QSettings& settings) const
{
    settings.setValue(QStringLiteral("window/statsSplitter"), saveState());
    settings.setValue(QStringLiteral("stats/header"), m_statsView->horizontalHeader()->saveState());
}

} // namespace sg::ui
