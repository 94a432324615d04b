#pragma once
// The routes list: enabled routes in match order (APISIX tries them top to bottom), then the
// disabled ones. Built from the Config and the engine's ListenerStatus; a config change is
// applied as removals, moves, inserts and dataChanged, so the selected route stays selected.
// Dragging a route asks for a new match order (moveRequested); the store's answer comes back
// through setConfig. A route with faults injected (toxics, or down as a fault) carries a warning
// icon and lists them in its tooltip (FaultsRole), so chaos is never invisible. A listening
// route whose upstream nodes do not answer a connect (NodeStatus::reach) says so in its status
// ("Listening · MySQL at 127.0.0.1:3306 is not answering"), in the warning colour, with each
// node's error in the tooltip.

#include "model/streamroute.h"
#include "stats/snapshot.h"

#include <QAbstractTableModel>
#include <QHash>

namespace sg::ui {

class RoutesModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RoutesModel)

public:
    enum Column {
        NameColumn,
        StatusColumn,
        ProtoColumn,
        ListenColumn,
        UpstreamColumn,
        ColumnCount
    };
    Q_ENUM(Column)

    struct Row
    {
        QString id;
        QString name;
        QString protocol; // "TCP", "UDP", "TCP+UDP", "" (no server_port: every listener)
        QString listen;
        QString upstream;
        QString status;
        QString statusDetail;
        int health = 0; // HealthRole
        bool enabled = true;
        QStringList faults;      // one line per active fault (faults/faultwords.h)
        QStringList timedAccess; // "192.168.1.5 (52 min left)": allows that end
        // One line per upstream node that does not answer: "127.0.0.1:3306: connection refused".
        QStringList unreachable;
        bool operator==(const Row&) const = default;
    };

    explicit RoutesModel(QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    Qt::DropActions supportedDropActions() const override;
    QStringList mimeTypes() const override;
    QMimeData* mimeData(const QModelIndexList& indexes) const override;
    bool canDropMimeData(const QMimeData* data, Qt::DropAction action, int row, int column,
                         const QModelIndex& parent) const override;
    bool dropMimeData(const QMimeData* data, Qt::DropAction action, int row, int column,
                      const QModelIndex& parent) override;

    void setConfig(const Config& config);
    void setListeners(const QList<ListenerStatus>& listeners);
    // The nodes of the snapshot: which of them do not answer.
    void setNodes(const QList<NodeStatus>& nodes);
    // The timed allows by route id (AccessController::timedAccessByRoute), in the tooltips.
    void setTimedAccess(const QHash<QString, QStringList>& byRoute);

    const Row& rowAt(int row) const { return m_rows.at(row); }
    int rowOfRoute(const QString& id) const;
    int enabledCount() const;

Q_SIGNALS:
    void moveRequested(const QString& routeId, int newIndex);

private:
    void rebuild();
    void applyRows(const QList<Row>& next);

    Config m_config;
    QList<ListenerStatus> m_listeners;
    // Upstream key -> its nodes that do not answer, each with its error, in snapshot order.
    QHash<QString, QList<std::pair<QString, QString>>> m_unreachable;
    QHash<QString, int> m_nodeCounts; // upstream key -> its node count
    QHash<QString, QStringList> m_timedAccess;
    QList<Row> m_rows;
};

} // namespace sg::ui
