#include "models/connectiontablemodel.h"
#include "models/connectiontablemodel_p.h"

#include <algorithm>
#include <utility>

namespace sg::ui {

using detail::durationMs;
using detail::isRedis;

namespace {

constexpr qint64 MinRateSpanMs = 200;
// ID, route, protocol and client never change during a connection: leaving them out of the
// refresh's dataChanged spares a sorting proxy the re-sort when the user sorts by them.
constexpr int FirstMovingColumn = ConnectionTableModel::UpstreamColumn;
// Each rowsRemoved costs a sorting proxy and the table's row header a pass over every row; past
// this many separate runs of leaving rows, one layout change (a single rebuild in the proxy)
// costs less. The same for new rows that go in between.
constexpr int MaxMovedRuns = 16;

// Whether a text differs: a snapshot shares the strings that did not change with the one before,
// and most are empty, so this rarely compares characters (10,000 rows, 18 texts each, four times
// a second).
Q_ALWAYS_INLINE bool textChanged(const QString& shown, const QString& now)
{
    return shown.size() != now.size() ||
           (!shown.isEmpty() && shown.constData() != now.constData() && shown != now);
}

// The same detail (or both unset) as the row holds: the snapshot shares what did not change with
// the one before, so most rows' details need no field compared.
template <typename T> bool sameDetail(const SharedDetail<T>& shown, const SharedDetail<T>& now)
{
    // Unset on both sides is asked first: reading an unset detail is a call.
    return (!shown.isSet() && !now.isSet()) || &*shown == &*now;
}

bool isDatabase(const ConnectionInfo& c)
{
    return c.mysql->detected || c.postgres->detected || isRedis(c) || c.mqtt->detected;
}

} // namespace

int ConnectionTableModel::rowOfConnection(quint64 id) const
{
    const auto it = std::partition_point(m_rows.begin(), m_rows.end(),
                                         [id](const auto& row) { return row->info.id < id; });
    return it != m_rows.end() && (*it)->info.id == id ? int(it - m_rows.begin()) : -1;
}

void ConnectionTableModel::removeRowsWhere(const std::vector<char>& remove)
{
    int runs = 0;
    for (size_t i = 0; i < remove.size(); ++i)
        runs += remove[i] && (i == 0 || !remove[i - 1]) ? 1 : 0;
    if (runs > MaxMovedRuns) {
        dropRows(remove);
        return;
    }
    // Contiguous runs, back to front, so the row numbers of earlier runs stay valid.
    for (int row = int(m_rows.size()) - 1; row >= 0;) {
        if (!remove[size_t(row)]) {
            --row;
            continue;
        }
        int first = row;
        while (first > 0 && remove[size_t(first - 1)])
            --first;
        beginRemoveRows({}, first, row);
        for (int r = first; r <= row; ++r)
            m_retired.insert(m_rows[size_t(r)]->info.id);
        m_rows.erase(m_rows.begin() + first, m_rows.begin() + row + 1);
        endRemoveRows();
        row = first - 1;
    }
}

// Many scattered rows leave in one layout change, as QSortFilterProxyModel::invalidate() drops
// the rows its filter no longer takes: persistent indexes (selection, current row) follow the
// rows that stay and become invalid for the others.
void ConnectionTableModel::dropRows(const std::vector<char>& remove)
{
    Q_EMIT layoutAboutToBeChanged();
    std::vector<int> newRow(m_rows.size(), -1);
    std::vector<std::unique_ptr<Row>> kept;
    kept.reserve(m_rows.size());
    for (size_t i = 0; i < m_rows.size(); ++i) {
        if (remove[i]) {
            m_retired.insert(m_rows[i]->info.id);
            continue;
        }
        newRow[i] = int(kept.size());
        kept.push_back(std::move(m_rows[i]));
    }
    m_rows.swap(kept);
    finishLayoutChange(newRow);
}

// Persistent indexes from the old row numbers to the new ones (-1: the row left), then
// layoutChanged.
void ConnectionTableModel::finishLayoutChange(const std::vector<int>& newRow)
{
    const QModelIndexList from = persistentIndexList();
    QModelIndexList to;
    to.reserve(from.size());
    for (const QModelIndex& old : from) {
        const int row = newRow[size_t(old.row())];
        to << (row < 0 ? QModelIndex() : index(row, old.column()));
    }
    changePersistentIndexList(from, to);
    Q_EMIT layoutChanged();
}

// New rows go where their id puts them: almost always after the last row (ids grow), one
// rowsInserted. A connection the engine listed late, or history brought back, goes in between:
// one rowsInserted per place, or past MaxMovedRuns places one layout change.
void ConnectionTableModel::appendRows(std::vector<std::unique_ptr<Row>>& rows)
{
    if (rows.empty())
        return;
    std::sort(rows.begin(), rows.end(),
              [](const auto& a, const auto& b) { return a->info.id < b->info.id; });
    if (m_rows.empty() || rows.front()->info.id > m_rows.back()->info.id) {
        const int first = int(m_rows.size());
        beginInsertRows({}, first, first + int(rows.size()) - 1);
        for (auto& row : rows)
            m_rows.push_back(std::move(row));
        endInsertRows();
        rows.clear();
        return;
    }
    // Where each new row goes: the number of rows with a lower id.
    std::vector<int> at(rows.size());
    int places = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
        const quint64 id = rows[i]->info.id;
        at[i] = int(std::partition_point(m_rows.begin(), m_rows.end(),
                                         [id](const auto& row) { return row->info.id < id; }) -
                    m_rows.begin());
        places += i == 0 || at[i] != at[i - 1] ? 1 : 0;
    }
    if (places > MaxMovedRuns) {
        Q_EMIT layoutAboutToBeChanged();
        std::vector<int> newRow(m_rows.size());
        std::vector<std::unique_ptr<Row>> merged;
        merged.reserve(m_rows.size() + rows.size());
        size_t next = 0;
        for (size_t i = 0; i < m_rows.size(); ++i) {
            for (; next < rows.size() && at[next] == int(i); ++next)
                merged.push_back(std::move(rows[next]));
            newRow[i] = int(merged.size());
            merged.push_back(std::move(m_rows[i]));
        }
        for (; next < rows.size(); ++next)
            merged.push_back(std::move(rows[next]));
        m_rows.swap(merged);
        rows.clear();
        finishLayoutChange(newRow);
        return;
    }
    // Back to front, so the places of the earlier ones stay valid.
    for (size_t end = rows.size(); end > 0;) {
        size_t first = end - 1;
        while (first > 0 && at[first - 1] == at[end - 1])
            --first;
        const int place = at[first];
        beginInsertRows({}, place, place + int(end - first) - 1);
        m_rows.insert(m_rows.begin() + place,
                      std::make_move_iterator(rows.begin() + qsizetype(first)),
                      std::make_move_iterator(rows.begin() + qsizetype(end)));
        endInsertRows();
        end = first;
    }
    rows.clear();
}

void ConnectionTableModel::applySnapshot(const Snapshot& snapshot)
{
    const qint64 now = snapshot.takenMs;
    const bool first = m_lastTakenMs == 0;
    const double dt = first ? 0.0 : double(now - m_lastTakenMs) / 1000.0;

    // Each row's entry in the snapshot (the snapshot entries found are marked, the rest are new
    // connections), in one walk through both: the rows are in id order, and so is the engine's
    // list of open connections (any other list is put in id order here first).
    std::vector<const ConnectionInfo*> listed;
    listed.reserve(size_t(snapshot.active.size()));
    for (const ConnectionInfo& c : snapshot.active)
        listed.push_back(&c);
    const auto byId = [](const ConnectionInfo* a, const ConnectionInfo* b) {
        return a->id < b->id;
    };
    if (!std::is_sorted(listed.begin(), listed.end(), byId))
        std::sort(listed.begin(), listed.end(), byId);
    std::vector<const ConnectionInfo*> entryOf(m_rows.size(), nullptr);
    std::vector<char> shown(listed.size(), 0);
    size_t at = 0;
    for (size_t i = 0; i < m_rows.size() && at < listed.size(); ++i) {
        const quint64 id = m_rows[i]->info.id;
        while (at < listed.size() && listed[at]->id < id)
            ++at;
        if (at < listed.size() && listed[at]->id == id) {
            entryOf[i] = listed[at];
            shown[at++] = 1;
        }
    }
    const auto isOpen = [&](quint64 id) {
        const auto it = std::partition_point(listed.begin(), listed.end(),
                                             [id](const ConnectionInfo* c) { return c->id < id; });
        return it != listed.end() && (*it)->id == id;
    };
    QHash<quint64, const ConnectionInfo*> closed;
    closed.reserve(snapshot.closed.size());
    for (const ConnectionInfo& c : snapshot.closed)
        closed.insert(c.id, &c);

    // 1. Update existing rows; note the ones to remove.
    std::vector<char> remove(m_rows.size(), 0);
    int toRemove = 0;
    int historyRows = 0;
    for (size_t i = 0; i < m_rows.size(); ++i) {
        Row& row = *m_rows[i];
        row.changed = false;
        row.wholeRow = false;
        if (row.closedSeenMs == 0) {
            if (const ConnectionInfo* c = entryOf[i]) {
                const quint64 prevUp = row.info.bytesUp;
                const quint64 prevDown = row.info.bytesDown;
                const double prevRateUp = row.rateUp;
                const double prevRateDown = row.rateDown;
                const ConnectionState prevState = row.info.state;
                const qint64 prevPaused = row.info.pausedUntilMs;
                // Copy only what moves: a whole ConnectionInfo copy is a dozen atomic
                // reference counts, which adds up over 10,000 rows four times a second.
                const bool upstreamChanged = textChanged(row.info.upstreamNode, c->upstreamNode);
                if (upstreamChanged)
                    row.info.upstreamNode = c->upstreamNode;
                const bool mysqlChanged =
                    !sameDetail(row.info.mysql, c->mysql) &&
                    (row.info.mysql->commands != c->mysql->commands ||
                     row.info.mysql->detected != c->mysql->detected ||
                     textChanged(row.info.mysql->user, c->mysql->user) ||
                     row.info.mysql->tls != c->mysql->tls ||
                     textChanged(row.info.mysql->serverVersion, c->mysql->serverVersion) ||
                     textChanged(row.info.mysql->database, c->mysql->database) ||
                     row.info.mysql->statementSinceMs != c->mysql->statementSinceMs ||
                     textChanged(row.info.mysql->statement, c->mysql->statement) ||
                     textChanged(row.info.mysql->lastError, c->mysql->lastError) ||
                     textChanged(row.info.mysql->notFollowed, c->mysql->notFollowed));
                if (mysqlChanged)
                    row.info.mysql = c->mysql;
                const PostgresInfo& pg = c->postgres;
                const bool postgresChanged =
                    !sameDetail(row.info.postgres, c->postgres) &&
                    (row.info.postgres->detected != pg.detected ||
                     row.info.postgres->commands != pg.commands ||
                     textChanged(row.info.postgres->user, pg.user) ||
                     textChanged(row.info.postgres->serverVersion, pg.serverVersion) ||
                     row.info.postgres->statementSinceMs != pg.statementSinceMs ||
                     textChanged(row.info.postgres->statement, pg.statement) ||
                     textChanged(row.info.postgres->database, pg.database) ||
                     row.info.postgres->tls != pg.tls ||
                     textChanged(row.info.postgres->lastError, pg.lastError) ||
                     textChanged(row.info.postgres->loginError, pg.loginError) ||
                     textChanged(row.info.postgres->notFollowed, pg.notFollowed));
                if (postgresChanged)
                    row.info.postgres = c->postgres;
                const bool redisChanged =
                    !sameDetail(row.info.redis, c->redis) &&
                    (row.info.redis->commands != c->redis->commands ||
                     textChanged(row.info.redis->command, c->redis->command) ||
                     textChanged(row.info.redis->notFollowed, c->redis->notFollowed));
                if (redisChanged)
                    row.info.redis = c->redis;
                if (mysqlChanged || postgresChanged || redisChanged)
                    noteDatabase(row.info);
                // TLS learned after the row came: an upstream's handshake (scheme "tls",
                // database_server_tls), a MySQL client's TLS answered in the session.
                const bool tlsChanged = !(sameDetail(row.info.upstreamTls, c->upstreamTls) &&
                                          sameDetail(row.info.tls, c->tls)) &&
                                        (row.info.upstreamTls->used != c->upstreamTls->used ||
                                         row.info.tls->terminated != c->tls->terminated ||
                                         row.info.tls->developmentCa != c->tls->developmentCa);
                if (tlsChanged) {
                    row.info.upstreamTls = c->upstreamTls;
                    row.info.tls = c->tls;
                }
                // Who the client is arrives once, shortly after the connection opened; the
                // Client column, left out of the usual refresh, repaints with it.
                const bool whoChanged =
                    textChanged(row.info.clientHost, c->clientHost) ||
                    (!sameDetail(row.info.clientProcess, c->clientProcess) &&
                     (row.info.clientProcess->pid != c->clientProcess->pid ||
                      textChanged(row.info.clientProcess->unknown, c->clientProcess->unknown)));
                if (whoChanged) {
                    row.info.clientHost = c->clientHost;
                    row.info.clientProcess = c->clientProcess;
                    row.wholeRow = true;
                }
                row.info.state = c->state;
                row.info.closeReason = c->closeReason;
                row.info.connectMs = c->connectMs;
                row.info.upstreamStartMs = c->upstreamStartMs;
                row.info.firstByteUpMs = c->firstByteUpMs;
                row.info.firstByteDownMs = c->firstByteDownMs;
                row.info.lastActivityMs = c->lastActivityMs;
                row.info.bytesUp = c->bytesUp;
                row.info.bytesDown = c->bytesDown;
                row.info.datagramsUp = c->datagramsUp;
                row.info.datagramsDown = c->datagramsDown;
                row.info.pausedUntilMs = c->pausedUntilMs;
                if (now - row.rateBaseMs >= MinRateSpanMs) {
                    const double span = double(now - row.rateBaseMs) / 1000.0;
                    row.rateUp = double(c->bytesUp - qMin(row.rateBaseUp, c->bytesUp)) / span;
                    row.rateDown =
                        double(c->bytesDown - qMin(row.rateBaseDown, c->bytesDown)) / span;
                    row.rateBaseUp = c->bytesUp;
                    row.rateBaseDown = c->bytesDown;
                    row.rateBaseMs = now;
                }
                const qint64 second = durationMs(*c, now) / 1000;
                row.changed = prevUp != c->bytesUp || prevDown != c->bytesDown ||
                              prevRateUp != row.rateUp || prevRateDown != row.rateDown ||
                              prevState != c->state || prevPaused != c->pausedUntilMs ||
                              upstreamChanged || mysqlChanged || postgresChanged || redisChanged ||
                              tlsChanged || whoChanged || second != row.shownSecond;
                row.shownSecond = second;
            } else {
                // Gone from the open set: closed since the last snapshot.
                if (const ConnectionInfo* c = closed.value(row.info.id)) {
                    row.info = *c;
                } else {
                    row.info.endMs = now; // fell out of the engine's ring before we saw it
                }
                row.info.state = ConnectionState::Closed;
                row.closedSeenMs = now;
                row.rateUp = row.rateDown = 0;
                row.changed = true;
                row.wholeRow = true;
            }
        } else if (now - row.closedSeenMs >= m_lingerMs) {
            if (!m_showClosed) {
                remove[i] = 1;
                ++toRemove;
            } else {
                if (!row.history) {
                    row.history = true;
                    row.changed = true; // no longer drawn as just closed
                    row.wholeRow = true;
                }
                ++historyRows;
            }
        }
    }
    // History beyond the limit: oldest (lowest ids, first rows) go first.
    for (size_t i = 0; i < m_rows.size() && historyRows > m_historyLimit; ++i) {
        if (m_rows[i]->history && !remove[i]) {
            remove[i] = 1;
            ++toRemove;
            --historyRows;
        }
    }

    // 2. Row-level dataChanged before removals (row numbers are still the ones flagged), one
    // ranged signal when most rows changed.
    int changedCount = 0;
    bool anyWholeRow = false;
    for (const auto& row : m_rows) {
        changedCount += row->changed ? 1 : 0;
        anyWholeRow = anyWholeRow || row->wholeRow;
    }
    m_lastTakenMs = now;
    if (changedCount > 0) {
        const int last = int(m_rows.size()) - 1;
        // One dataChanged per run of consecutive rows where `in` holds, over the moving columns
        // or, when a row of the run changed whole, over every column.
        const auto emitRuns = [this, last](bool (*in)(const Row&)) {
            for (int row = 0; row <= last;) {
                if (!in(*m_rows[size_t(row)])) {
                    ++row;
                    continue;
                }
                int end = row;
                bool whole = m_rows[size_t(row)]->wholeRow;
                while (end < last && in(*m_rows[size_t(end + 1)])) {
                    ++end;
                    whole = whole || m_rows[size_t(end)]->wholeRow;
                }
                Q_EMIT dataChanged(index(row, whole ? 0 : FirstMovingColumn),
                                   index(end, ColumnCount - 1));
                row = end + 1;
            }
        };
        if (changedCount * 2 > int(m_rows.size())) {
            // The columns that never change stay out of the range even when some rows changed
            // whole (closed ones): a proxy sorted by ID would otherwise check the order of every
            // row. Those rows get their own signals.
            Q_EMIT dataChanged(index(0, FirstMovingColumn), index(last, ColumnCount - 1));
            if (anyWholeRow)
                emitRuns([](const Row& row) { return row.wholeRow; });
        } else {
            emitRuns([](const Row& row) { return row.changed; });
        }
    }

    // 3. Removals.
    if (toRemove > 0)
        removeRowsWhere(remove);

    // 4. New rows: open connections not yet shown, and connections that opened and closed
    // between two snapshots (closed after the previous one).
    std::vector<std::unique_ptr<Row>> added;
    for (size_t i = 0; i < listed.size(); ++i) {
        const ConnectionInfo& c = *listed[i];
        if (shown[i] || rowOfConnection(c.id) >= 0)
            continue;
        auto row = std::make_unique<Row>();
        row->info = c;
        row->appearedMs = now;
        // First sight: the average since it started is the best rate estimate there is.
        const double age = double(now - c.startMs) / 1000.0;
        if (age > 0.001) {
            row->rateUp = double(c.bytesUp) / age;
            row->rateDown = double(c.bytesDown) / age;
        }
        row->shownSecond = durationMs(c, now) / 1000;
        row->rateBaseUp = c.bytesUp;
        row->rateBaseDown = c.bytesDown;
        row->rateBaseMs = now;
        noteDatabase(c);
        added.push_back(std::move(row));
    }
    for (const ConnectionInfo& c : snapshot.closed) {
        if (isOpen(c.id) || rowOfConnection(c.id) >= 0 || m_retired.contains(c.id))
            continue;
        const bool fresh = !first && c.endMs >= now - qint64(dt * 1000);
        if (!fresh && !m_showClosed) {
            m_retired.insert(c.id);
            continue;
        }
        auto row = std::make_unique<Row>();
        row->info = c;
        row->info.state = ConnectionState::Closed;
        row->appearedMs = fresh ? now : c.startMs;
        row->closedSeenMs = fresh ? now : qMin(now - m_lingerMs, c.endMs);
        row->history = !fresh;
        noteDatabase(c);
        added.push_back(std::move(row));
    }
    appendRows(added);

    // Retired ids the engine no longer lists can never come back.
    for (auto it = m_retired.begin(); it != m_retired.end();) {
        if (closed.contains(*it))
            ++it;
        else
            it = m_retired.erase(it);
    }
    m_lastClosed = snapshot.closed;
    m_openCount = int(snapshot.active.size());

    // Announced once the rows are in place: a view that reveals the database columns then
    // finds them filled.
    if (!m_newDatabaseRoutes.isEmpty()) {
        const QStringList routes = std::exchange(m_newDatabaseRoutes, {});
        if (!m_databaseSeen) {
            m_databaseSeen = true;
            Q_EMIT databaseFirstSeen();
        }
        for (const QString& route : routes)
            Q_EMIT databaseRouteSeen(route);
    }
}

// Only for new rows and rows whose reader learned something: this costs nothing per refresh.
void ConnectionTableModel::noteDatabase(const ConnectionInfo& c)
{
    if (isDatabase(c) && !m_databaseRoutes.contains(c.routeId)) {
        m_databaseRoutes.insert(c.routeId);
        m_newDatabaseRoutes << c.routeId;
    }
}

void ConnectionTableModel::setShowClosed(bool show)
{
    if (show == m_showClosed)
        return;
    m_showClosed = show;
    if (!show) {
        std::vector<char> remove(m_rows.size(), 0);
        bool any = false;
        for (size_t i = 0; i < m_rows.size(); ++i) {
            const Row& row = *m_rows[i];
            if (row.closedSeenMs > 0 && m_lastTakenMs - row.closedSeenMs >= m_lingerMs) {
                remove[i] = 1;
                any = true;
            }
        }
        if (any)
            removeRowsWhere(remove);
        return;
    }
    // Bring back what the engine still remembers.
    std::vector<std::unique_ptr<Row>> added;
    for (const ConnectionInfo& c : std::as_const(m_lastClosed)) {
        if (rowOfConnection(c.id) >= 0)
            continue;
        auto row = std::make_unique<Row>();
        row->info = c;
        row->info.state = ConnectionState::Closed;
        row->appearedMs = c.startMs;
        row->closedSeenMs = qMin(m_lastTakenMs - m_lingerMs, c.endMs);
        row->history = true;
        added.push_back(std::move(row));
        m_retired.remove(c.id);
    }
    appendRows(added);
}

} // namespace sg::ui
