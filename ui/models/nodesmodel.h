#pragma once
// Upstream nodes with their health as the engine reports them, keyed by upstream and node.

#include "models/keyedtablemodel.h"
#include "stats/snapshot.h"

namespace sg::ui {

struct NodeRow
{
    NodeStatus status;
    QString upstreamName;
    QString key() const { return status.upstream + QLatin1Char('\n') + status.node; }
    bool operator==(const NodeRow& o) const
    {
        return upstreamName == o.upstreamName && status.active == o.status.active &&
               status.total == o.status.total && status.failures == o.status.failures &&
               status.healthy == o.status.healthy && status.checked == o.status.checked &&
               status.health == o.status.health &&
               status.checkSuccesses == o.status.checkSuccesses &&
               status.checkTcpFailures == o.status.checkTcpFailures &&
               status.checkHttpFailures == o.status.checkHttpFailures &&
               status.checkTimeouts == o.status.checkTimeouts;
    }
};

class NodesModel final : public KeyedTableModel<NodeRow>
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(NodesModel)

public:
    enum Column {
        UpstreamColumn,
        NodeColumn,
        HealthColumn,
        ActiveColumn,
        TotalColumn,
        FailuresColumn,
        ColumnCount
    };
    Q_ENUM(Column)

    explicit NodesModel(QObject* parent = nullptr);

    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    void applySnapshot(const Snapshot& snapshot);
    // "route:<id>" upstreams are shown as the route's name; shared ones by their own name.
    void setNames(const QHash<QString, QString>& routeNames,
                  const QHash<QString, QString>& upstreamNames);

private:
    QString nameOf(const QString& upstream) const;
    QList<NodeStatus> m_last;
    QHash<QString, QString> m_routeNames;
    QHash<QString, QString> m_upstreamNames;
};

} // namespace sg::ui
