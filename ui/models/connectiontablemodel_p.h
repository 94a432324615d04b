#pragma once
// Internal to the connections table model, which comes in two parts: connectiontablemodel.cpp
// (columns, texts, roles, sorting) and connectionsnapshotdiff.cpp (applying a snapshot: which
// rows changed, rates, rows that come and leave, kept in id order). What both use is here.

#include "models/connectiontablemodel.h"

#include <QtGlobal>

namespace sg::ui {

struct ConnectionTableModel::Row
{
    ConnectionInfo info;
    double rateUp = 0;
    double rateDown = 0;
    qint64 appearedMs = 0;   // snapshot time it was first seen
    qint64 closedSeenMs = 0; // snapshot time it was first seen closed; 0 while open
    qint64 shownSecond = -1; // the duration second last shown, to notice a visible change
    // Rates are measured over at least MinRateSpanMs (the diff's): a refresh right after another
    // (F5) would otherwise show a burst or a zero.
    quint64 rateBaseUp = 0;
    quint64 rateBaseDown = 0;
    qint64 rateBaseMs = 0;
    bool history = false; // closed for longer than the linger time
    bool changed = false;
    bool wholeRow = false; // its look changed (closed, history): every column repaints
};

namespace detail {

inline qint64 durationMs(const ConnectionInfo& c, qint64 nowMs)
{
    const qint64 end = c.endMs > 0 ? c.endMs : nowMs;
    return qMax<qint64>(0, end - c.startMs);
}

// A connection of a route with protocol "redis" (its commands are followed, or were).
inline bool isRedis(const ConnectionInfo& c)
{
    return c.redis->followed || !c.redis->notFollowed.isEmpty();
}

} // namespace detail

} // namespace sg::ui
