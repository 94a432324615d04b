#pragma once
// CSV export of a table as the view shows it (rows in view order, filtered), with raw values
// (RawValueRole: bytes as integers, times as ms since epoch) so a spreadsheet can compute.

#include <QString>

class QAbstractItemModel;

namespace sg::ui {

// RFC 4180: comma separated, CRLF line ends, fields quoted when they need it.
QString tableToCsv(const QAbstractItemModel* model);

} // namespace sg::ui
