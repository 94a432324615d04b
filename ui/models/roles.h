#pragma once
// Item roles shared by Streamgate's models. RawValueRole carries the unformatted value (bytes as
// a number, times as ms since epoch) beside DisplayRole, so sorting and CSV export never parse
// display text; SortRole adds sortable keys for addresses (IPs sort numerically).

#include <Qt>

namespace sg::ui {

enum Role : int {
    RawValueRole = Qt::UserRole + 1,
    SortRole,
    RouteIdRole,      // the route a row belongs to (QString)
    ConnectionIdRole, // ConnectionTableModel: quint64
    AppearedMsRole,   // ConnectionTableModel: when the row first appeared (ms since epoch)
    ClosedMsRole,     // ConnectionTableModel: when it was seen closed (0 while open)
    HistoryRole,      // RouteStatsModel: QList<double> of recent total rates (sparkline)
    HealthRole,       // int: 0 neutral, 1 good, 2 warning, 3 error (status dots)
    ButtonRole,       // QString: text of an in-cell action button (ButtonDelegate)
    FaultsRole,       // RoutesModel: QStringList, the route's active faults in words
};

} // namespace sg::ui
