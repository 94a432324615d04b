#pragma once
// Connections paused from the connections table or the admin API count as chaos like toxics: the
// status bar reminder and the tray name them, and "Clear all faults" resumes them.

#include "stats/snapshot.h"

#include <QList>

namespace sg {

namespace ui {

// How many open connections have a pause that still runs at nowMs.
int pausedConnectionCount(const QList<ConnectionInfo>& active, qint64 nowMs);
// "2 connections paused"; empty for 0.
QString pausedText(int count);

} // namespace ui
} // namespace sg
