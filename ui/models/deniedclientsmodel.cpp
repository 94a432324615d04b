#include "models/deniedclientsmodel.h"

#include "format.h"
#include "models/roles.h"

namespace sg::ui {

DeniedClientsModel::DeniedClientsModel(QObject* parent) : KeyedTableModel<DeniedRow>(parent) {}

int DeniedClientsModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant DeniedClientsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case ClientColumn:
        return tr("Client");
    case ProgramColumn:
        return tr("Program");
    case RouteColumn:
        return tr("Route");
    case ListenerColumn:
        return tr("Listener");
    case ReasonColumn:
        return tr("Reason");
    case CountColumn:
        return tr("Attempts");
    case FirstSeenColumn:
        return tr("First seen");
    case LastSeenColumn:
        return tr("Last seen");
    case ActionColumn:
        return QString();
    }
    return {};
}

bool DeniedClientsModel::canAllow(int row) const
{
    const DeniedClient& d = rowAt(row).denied;
    return !d.routeId.isEmpty() && d.reason == CloseReason::DeniedIpRestriction &&
           rowAt(row).access.isEmpty();
}

QVariant DeniedClientsModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const DeniedRow& row = rowAt(index.row());
    const DeniedClient& d = row.denied;
    const int column = index.column();
    if (role == Qt::DisplayRole || role == RawValueRole || role == SortRole) {
        const bool raw = role != Qt::DisplayRole;
        switch (column) {
        case ClientColumn:
            if (raw || d.clientHost.isEmpty())
                return d.clientIp;
            return QStringLiteral("%1 (%2)").arg(d.clientHost, d.clientIp);
        case ProgramColumn:
            if (d.clientProcess.pid > 0)
                return raw ? QVariant(d.clientProcess.name.toLower())
                           : QVariant(QStringLiteral("%1 (%2)")
                                          .arg(d.clientProcess.name)
                                          .arg(d.clientProcess.pid));
            return raw || d.clientProcess.unknown.isEmpty() ? QString() : QStringLiteral("–");
        case RouteColumn:
            if (d.routeId.isEmpty())
                return raw ? QString() : tr("(no matching route)");
            return raw ? d.routeId : row.routeName;
        case ListenerColumn:
            return d.listener;
        case ReasonColumn:
            return closeReasonText(d.reason);
        case CountColumn:
            return raw ? QVariant(d.count) : QVariant(QString::number(d.count));
        case FirstSeenColumn:
            return raw ? QVariant(d.firstSeenMs) : QVariant(formatClock(d.firstSeenMs));
        case LastSeenColumn:
            return raw ? QVariant(d.lastSeenMs) : QVariant(formatClock(d.lastSeenMs));
        case ActionColumn:
            return row.access;
        }
    }
    switch (role) {
    case ButtonRole:
        if (column == ActionColumn && canAllow(index.row()))
            return tr("Allow");
        return {};
    case Qt::ToolTipRole:
        if (column == ActionColumn && canAllow(index.row()))
            return tr("Add %1 to the allow-list of %2 (Enter)").arg(d.clientIp, row.routeName);
        if (column == ProgramColumn && d.clientProcess.pid > 0)
            return tr("Process %1: %2")
                .arg(d.clientProcess.pid)
                .arg(d.clientProcess.cmdline.isEmpty() ? d.clientProcess.name
                                                       : d.clientProcess.cmdline);
        if (column == ProgramColumn && !d.clientProcess.unknown.isEmpty())
            return tr("Program not found: %1").arg(d.clientProcess.unknown);
        if (column == ActionColumn && !row.access.isEmpty())
            return tr("%1 may connect to %2 now").arg(d.clientIp, row.routeName);
        if (column == FirstSeenColumn)
            return formatDateTime(d.firstSeenMs);
        if (column == LastSeenColumn)
            return formatDateTime(d.lastSeenMs);
        return {};
    case Qt::TextAlignmentRole:
        return column == CountColumn ? QVariant(Qt::AlignRight | Qt::AlignVCenter) : QVariant();
    case RouteIdRole:
        return d.routeId;
    case HealthRole:
        return 3;
    }
    return {};
}

void DeniedClientsModel::setAccessText(const AccessText& text)
{
    m_accessText = text;
    refreshAccess();
}

void DeniedClientsModel::refreshAccess()
{
    Snapshot again;
    again.denied = m_last;
    applySnapshot(again);
}

void DeniedClientsModel::announceAgain(const QString& ip, const QString& routeId)
{
    const QString key = ip + QLatin1Char('\n') + routeId;
    if (!m_notified.remove(key))
        return;
    quint64 count = 0;
    for (const DeniedClient& d : std::as_const(m_last))
        if (d.clientIp == ip && d.routeId == routeId)
            count = d.count;
    m_againAfter.insert(key, count);
}

void DeniedClientsModel::setRouteNames(const QHash<QString, QString>& names)
{
    if (names == m_routeNames)
        return;
    m_routeNames = names;
    Snapshot again;
    again.denied = m_last;
    applySnapshot(again);
}

void DeniedClientsModel::applySnapshot(const Snapshot& snapshot)
{
    m_last = snapshot.denied;
    QList<DeniedRow> next;
    next.reserve(snapshot.denied.size());
    QList<DeniedClient> fresh;
    for (const DeniedClient& d : snapshot.denied) {
        DeniedRow row{d, m_routeNames.value(d.routeId, d.routeId), QString()};
        if (m_accessText && !d.routeId.isEmpty() && d.reason == CloseReason::DeniedIpRestriction)
            row.access = m_accessText(d.clientIp, d.routeId);
        if (!m_notified.contains(row.key())) {
            const auto again = m_againAfter.constFind(row.key());
            if (again == m_againAfter.cend() || d.count > *again) {
                m_notified.insert(row.key());
                m_againAfter.remove(row.key());
                fresh << d;
            }
        }
        next << row;
    }
    updateRows(next);
    for (const DeniedClient& d : std::as_const(fresh))
        Q_EMIT firstRefusal(d);
}

} // namespace sg::ui
