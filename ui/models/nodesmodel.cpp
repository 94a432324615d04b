#include "models/nodesmodel.h"

#include "models/roles.h"

namespace sg::ui {

NodesModel::NodesModel(QObject* parent) : KeyedTableModel<NodeRow>(parent) {}

int NodesModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant NodesModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case UpstreamColumn:
        return tr("Upstream");
    case NodeColumn:
        return tr("Node");
    case HealthColumn:
        return tr("Health");
    case ActiveColumn:
        return tr("Active");
    case TotalColumn:
        return tr("Total");
    case FailuresColumn:
        return tr("Failures");
    }
    return {};
}

QVariant NodesModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const NodeRow& row = rowAt(index.row());
    const NodeStatus& n = row.status;
    const int column = index.column();
    if (role == Qt::DisplayRole || role == RawValueRole || role == SortRole) {
        const bool raw = role != Qt::DisplayRole;
        switch (column) {
        case UpstreamColumn:
            return raw ? n.upstream : row.upstreamName;
        case NodeColumn:
            return n.node;
        case HealthColumn:
            if (raw)
                return n.healthy ? 1 : 0;
            // Taking traffic or not is the balancer's; the checker adds APISIX's in-between
            // states.
            if (!n.checked)
                return n.healthy ? tr("Up (not checked)") : tr("Down");
            if (!n.healthy)
                return n.health == NodeHealth::MostlyUnhealthy ? tr("Mostly unhealthy")
                                                               : tr("Down");
            return n.health == NodeHealth::MostlyHealthy ? tr("Mostly healthy") : tr("Healthy");
        case ActiveColumn:
            return raw ? QVariant(n.active) : QVariant(QString::number(n.active));
        case TotalColumn:
            return raw ? QVariant(n.total) : QVariant(QString::number(n.total));
        case FailuresColumn:
            return raw ? QVariant(n.failures) : QVariant(QString::number(n.failures));
        }
        return {};
    }
    switch (role) {
    case HealthRole:
        if (column != HealthColumn)
            return {};
        if (!n.healthy)
            return 3;
        return n.failures > 0 || n.health == NodeHealth::MostlyHealthy ? 2 : 1;
    case Qt::ToolTipRole:
        if (column != HealthColumn)
            return {};
        if (!n.checked)
            return tr("No active health check: the node counts as up until a connect fails");
        // The checker's consecutive counters, probes and (checks.passive) sessions alike.
        return tr("Health check: %1 failed connects, %2 HTTP failures, %3 timeouts, %4 successful "
                  "checks in a row")
            .arg(n.checkTcpFailures)
            .arg(n.checkHttpFailures)
            .arg(n.checkTimeouts)
            .arg(n.checkSuccesses);
    case Qt::TextAlignmentRole:
        return column >= ActiveColumn ? QVariant(Qt::AlignRight | Qt::AlignVCenter) : QVariant();
    }
    return {};
}

QString NodesModel::nameOf(const QString& upstream) const
{
    static const QString routePrefix = QStringLiteral("route:");
    if (upstream.startsWith(routePrefix)) {
        const QString id = upstream.mid(routePrefix.size());
        return tr("%1 (inline)").arg(m_routeNames.value(id, id));
    }
    return m_upstreamNames.value(upstream, upstream);
}

void NodesModel::setNames(const QHash<QString, QString>& routeNames,
                          const QHash<QString, QString>& upstreamNames)
{
    m_routeNames = routeNames;
    m_upstreamNames = upstreamNames;
    Snapshot again;
    again.nodes = m_last;
    applySnapshot(again);
}

void NodesModel::applySnapshot(const Snapshot& snapshot)
{
    m_last = snapshot.nodes;
    QList<NodeRow> next;
    next.reserve(snapshot.nodes.size());
    for (const NodeStatus& n : snapshot.nodes)
        next << NodeRow{n, nameOf(n.upstream)};
    updateRows(next);
}

} // namespace sg::ui
