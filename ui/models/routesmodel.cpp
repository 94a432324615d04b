#include "models/routesmodel.h"

#include "config/routeedits.h"
#include "faults/faultwords.h"
#include "format.h"
#include "models/roles.h"
#include "proxy/routetable.h"

#include <QApplication>
#include <QIcon>
#include <QMimeData>
#include <QStyle>

namespace sg::ui {

namespace {
const QString RouteMime = QStringLiteral("application/x-streamgate-route-id");

// The protocol a route says it carries, to name its upstream in words; empty when it says none.
QString protocolName(const Config& config, const StreamRoute& route)
{
    const QString id = route.idString();
    if (route.redis)
        return QStringLiteral("Redis");
    if (route.plugins.mqttProxy)
        return QStringLiteral("MQTT");
    if (config.streamgate.mysqlDeclaredFor(id))
        return QStringLiteral("MySQL");
    if (config.streamgate.postgresDigestsFor(id))
        return QStringLiteral("PostgreSQL");
    return QString();
}
} // namespace

RoutesModel::RoutesModel(QObject* parent) : QAbstractTableModel(parent) {}

int RoutesModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int RoutesModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

int RoutesModel::rowOfRoute(const QString& id) const
{
    for (int i = 0; i < m_rows.size(); ++i) {
        if (m_rows.at(i).id == id)
            return i;
    }
    return -1;
}

int RoutesModel::enabledCount() const
{
    int n = 0;
    for (const Row& r : m_rows)
        n += r.enabled ? 1 : 0;
    return n;
}

QVariant RoutesModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case NameColumn:
        return tr("Route");
    case ProtoColumn:
        return tr("Proto");
    case ListenColumn:
        return tr("Listen");
    case UpstreamColumn:
        return tr("Upstream");
    case StatusColumn:
        return tr("Status");
    }
    return {};
}

QVariant RoutesModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const Row& row = m_rows.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case RawValueRole:
    case SortRole:
        switch (index.column()) {
        case NameColumn:
            return row.name;
        case ProtoColumn:
            return row.protocol;
        case ListenColumn:
            return row.listen;
        case UpstreamColumn:
            return row.upstream;
        case StatusColumn:
            return row.status;
        }
        return {};
    case Qt::ToolTipRole:
        if (index.column() == StatusColumn || index.column() == NameColumn) {
            QString tip = row.statusDetail.isEmpty() ? row.status : row.statusDetail;
            if (!row.faults.isEmpty())
                tip += QStringLiteral("\n\n") + tr("Faults active:") + QStringLiteral("\n• ") +
                       row.faults.join(QStringLiteral("\n• "));
            if (!row.timedAccess.isEmpty())
                tip += QStringLiteral("\n\n") + tr("Allowed for a time:") + QStringLiteral("\n• ") +
                       row.timedAccess.join(QStringLiteral("\n• "));
            return tip;
        }
        return {};
    case Qt::DecorationRole:
        if (index.column() == NameColumn && (!row.faults.isEmpty() || !row.unreachable.isEmpty()))
            return QIcon::fromTheme(
                QStringLiteral("dialog-warning"),
                QApplication::style()->standardIcon(QStyle::SP_MessageBoxWarning));
        return {};
    case FaultsRole:
        return row.faults;
    case HealthRole:
        return index.column() == StatusColumn ? row.health : QVariant();
    case RouteIdRole:
        return row.id;
    }
    return {};
}

Qt::ItemFlags RoutesModel::flags(const QModelIndex& index) const
{
    Qt::ItemFlags f = QAbstractTableModel::flags(index);
    if (!index.isValid())
        return f | Qt::ItemIsDropEnabled;
    if (m_rows.at(index.row()).enabled)
        f |= Qt::ItemIsDragEnabled;
    return f;
}

Qt::DropActions RoutesModel::supportedDropActions() const
{
    return Qt::MoveAction;
}

QStringList RoutesModel::mimeTypes() const
{
    return {RouteMime};
}

QMimeData* RoutesModel::mimeData(const QModelIndexList& indexes) const
{
    if (indexes.isEmpty())
        return nullptr;
    auto* data = new QMimeData;
    data->setData(RouteMime, m_rows.at(indexes.first().row()).id.toUtf8());
    return data;
}

bool RoutesModel::canDropMimeData(const QMimeData* data, Qt::DropAction action, int, int,
                                  const QModelIndex&) const
{
    return action == Qt::MoveAction && data && data->hasFormat(RouteMime);
}

bool RoutesModel::dropMimeData(const QMimeData* data, Qt::DropAction action, int row, int,
                               const QModelIndex& parent)
{
    if (!canDropMimeData(data, action, row, 0, parent))
        return false;
    const QString id = QString::fromUtf8(data->data(RouteMime));
    const int from = rowOfRoute(id);
    if (from < 0)
        return false;
    int target = row >= 0 ? row : (parent.isValid() ? parent.row() : int(m_rows.size()));
    if (from < target)
        --target; // the dragged row leaves its old place first
    target = qBound(0, target, enabledCount() - 1);
    if (target != from)
        Q_EMIT moveRequested(id, target);
    // The store's change comes back through setConfig; nothing to remove here.
    return false;
}

void RoutesModel::setConfig(const Config& config)
{
    m_config = config;
    rebuild();
}

void RoutesModel::setTimedAccess(const QHash<QString, QStringList>& byRoute)
{
    if (byRoute == m_timedAccess)
        return;
    m_timedAccess = byRoute;
    rebuild();
}

void RoutesModel::setListeners(const QList<ListenerStatus>& listeners)
{
    bool same = listeners.size() == m_listeners.size();
    for (int i = 0; same && i < listeners.size(); ++i) {
        const ListenerStatus& a = listeners.at(i);
        const ListenerStatus& b = m_listeners.at(i);
        same = a.port == b.port && a.protocol == b.protocol && a.listening == b.listening &&
               a.error == b.error && a.address == b.address;
    }
    if (same)
        return;
    m_listeners = listeners;
    rebuild();
}

void RoutesModel::setNodes(const QList<NodeStatus>& nodes)
{
    QHash<QString, QList<std::pair<QString, QString>>> unreachable;
    QHash<QString, int> counts;
    for (const NodeStatus& n : nodes) {
        ++counts[n.upstream];
        if (n.reach == NodeReach::NotAnswering)
            unreachable[n.upstream].append({n.node, n.reachError});
    }
    if (unreachable == m_unreachable && counts == m_nodeCounts)
        return;
    m_unreachable = unreachable;
    m_nodeCounts = counts;
    rebuild();
}

void RoutesModel::rebuild()
{
    QList<Row> next;
    for (const StreamRoute& route : std::as_const(m_config.streamRoutes)) {
        Row row;
        row.id = route.idString();
        row.name = route.displayName();
        row.timedAccess = m_timedAccess.value(row.id);
        row.upstream = upstreamSummary(m_config, route);
        QStringList protocols;
        QStringList listens;
        QStringList errors;
        bool listening = false;
        bool known = false;
        QString firstError; // the OS's words, shown in the list itself
        if (route.serverPort) {
            for (Protocol p : {Protocol::Tcp, Protocol::Udp}) {
                const QList<ListenEntry>& list =
                    p == Protocol::Tcp ? m_config.streamProxy.tcp : m_config.streamProxy.udp;
                for (const ListenEntry& e : list) {
                    if (!e.hasPort(*route.serverPort))
                        continue;
                    if (!protocols.contains(protocolText(p)))
                        protocols << protocolText(p);
                    // The address the route is reached on: of a range, its own port (the
                    // listeners list every port of a range on its own).
                    listens << makeListenEntry(e.host, *route.serverPort).text();
                    for (const ListenerStatus& s : std::as_const(m_listeners)) {
                        if (s.protocol != p || s.port != *route.serverPort)
                            continue;
                        known = true;
                        if (s.listening)
                            listening = true;
                        else if (!s.error.isEmpty())
                            errors << QStringLiteral("%1 %2: %3")
                                          .arg(protocolText(p), s.address, s.error);
                        if (!s.listening && !s.error.isEmpty() && firstError.isEmpty())
                            firstError = s.error;
                    }
                }
            }
            if (listens.isEmpty()) {
                listens << QString::number(*route.serverPort);
                errors << tr("No listener on port %1 in stream_proxy").arg(*route.serverPort);
            }
        } else {
            listens << tr("any");
            listening = true;
            known = true;
        }
        row.protocol = protocols.join(QLatin1Char('+'));
        row.listen = listens.join(QStringLiteral(", "));
        if (!errors.isEmpty()) {
            row.status = firstError.isEmpty() ? tr("Error") : tr("Error: %1").arg(firstError);
            row.statusDetail = errors.join(QLatin1Char('\n'));
            row.health = 3;
        } else if (listening) {
            row.status = tr("Listening");
            row.health = 1;
            const QString key = upstreamKeyFor(m_config, route);
            const auto down = m_unreachable.value(key);
            if (!down.isEmpty()) {
                const QString protocol = protocolName(m_config, route);
                const int total = m_nodeCounts.value(key);
                QString what;
                if (down.size() == 1)
                    what = protocol.isEmpty()
                               ? tr("%1 is not answering").arg(down.first().first)
                               : tr("%1 at %2 is not answering").arg(protocol, down.first().first);
                else
                    what = protocol.isEmpty() ? tr("%1 of %2 upstream nodes are not answering")
                                                    .arg(down.size())
                                                    .arg(total)
                                              : tr("%1 of %2 %3 nodes are not answering")
                                                    .arg(down.size())
                                                    .arg(total)
                                                    .arg(protocol);
                row.status = tr("Listening · %1").arg(what);
                for (const auto& [node, error] : down)
                    row.unreachable << tr("%1: %2").arg(node, error);
                row.statusDetail = tr("Listening, but the upstream does not answer:") +
                                   QStringLiteral("\n• ") +
                                   row.unreachable.join(QStringLiteral("\n• "));
                row.health = 2;
            }
        } else {
            row.status = known ? tr("Not listening") : tr("Starting");
            row.health = known ? 2 : 0;
        }
        row.faults = routeFaultLines(m_config, row.id);
        next << row;
    }
    for (const DisabledRoute& d : disabledRoutes(m_config)) {
        Row row;
        row.id = d.route.idString();
        row.name = d.route.displayName();
        row.upstream = upstreamSummary(m_config, d.route);
        if (d.listen) {
            row.protocol = protocolText(d.listen->protocol);
            row.listen = makeListenEntry(d.listen->host, d.listen->port).text();
        } else if (d.route.serverPort) {
            row.listen = QString::number(*d.route.serverPort);
        }
        row.status = d.fault ? tr("Down (fault)") : tr("Disabled");
        row.health = d.fault ? 3 : 0;
        row.enabled = false;
        row.faults = routeFaultLines(m_config, row.id);
        next << row;
    }
    applyRows(next);
}

void RoutesModel::applyRows(const QList<Row>& next)
{
    QSet<QString> nextIds;
    for (const Row& r : next)
        nextIds.insert(r.id);
    for (int i = int(m_rows.size()) - 1; i >= 0; --i) {
        if (!nextIds.contains(m_rows.at(i).id)) {
            beginRemoveRows({}, i, i);
            m_rows.removeAt(i);
            endRemoveRows();
        }
    }
    for (int i = 0; i < next.size(); ++i) {
        const Row& want = next.at(i);
        if (i < m_rows.size() && m_rows.at(i).id == want.id) {
            if (!(m_rows.at(i) == want)) {
                m_rows[i] = want;
                Q_EMIT dataChanged(index(i, 0), index(i, ColumnCount - 1));
            }
            continue;
        }
        int from = -1;
        for (int j = i + 1; j < m_rows.size(); ++j) {
            if (m_rows.at(j).id == want.id) {
                from = j;
                break;
            }
        }
        if (from >= 0) {
            beginMoveRows({}, from, from, {}, i);
            m_rows.move(from, i);
            endMoveRows();
            if (!(m_rows.at(i) == want)) {
                m_rows[i] = want;
                Q_EMIT dataChanged(index(i, 0), index(i, ColumnCount - 1));
            }
        } else {
            beginInsertRows({}, i, i);
            m_rows.insert(i, want);
            endInsertRows();
        }
    }
}

} // namespace sg::ui
