#pragma once
// What the window's panes share in looks: an icon of the desktop theme with the style's stand-in
// where the theme has none, and one setup for every table (whole rows, no grid, compact rows,
// columns that move and end at the right edge).

#include <QIcon>
#include <QStyle>

class QTableView;

namespace sg::ui {

QIcon themedIcon(const char* name, const QStyle* style, QStyle::StandardPixmap fallback);
void setupTable(QTableView* view);

} // namespace sg::ui
