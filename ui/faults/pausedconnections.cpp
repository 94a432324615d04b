#include "faults/pausedconnections.h"

#include <QCoreApplication>
#include <algorithm>

namespace sg::ui {

int pausedConnectionCount(const QList<ConnectionInfo>& active, qint64 nowMs)
{
    return int(std::count_if(active.cbegin(), active.cend(),
                             [nowMs](const ConnectionInfo& c) { return c.pausedUntilMs > nowMs; }));
}

QString pausedText(int count)
{
    if (count <= 0)
        return {};
    // Plain English plurals, as faultsText().
    return count == 1
               ? QCoreApplication::translate("sg::ui::faults", "1 connection paused")
               : QCoreApplication::translate("sg::ui::faults", "%1 connections paused").arg(count);
}

} // namespace sg::ui
