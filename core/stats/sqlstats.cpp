#include "stats/sqlstats.h"

#include <algorithm>

namespace sg {

QString SqlCommandCounters::bucketName(std::size_t index)
{
    if (index >= kBoundsUs.size())
        return QStringLiteral("cnt_INFs");
    const qint64 us = kBoundsUs[index];
    if (us < 1000)
        return QStringLiteral("cnt_%1us").arg(us);
    if (us < 1000000)
        return QStringLiteral("cnt_%1ms").arg(us / 1000);
    return QStringLiteral("cnt_%1s").arg(us / 1000000);
}

void SqlStats::record(const SqlStatementResult& r)
{
    const qint64 seen = r.atMs / 1000;
    const quint64 time = quint64(std::max<qint64>(r.timeUs, 0));
    QMutexLocker lock(&m_mutex);

    SqlCommandCounters& c = m_commands[r.command];
    c.command = r.command;
    c.totalTimeUs += time;
    ++c.totalCount;
    if (r.failed())
        ++c.errors;
    const auto bound = std::lower_bound(SqlCommandCounters::kBoundsUs.begin(),
                                        SqlCommandCounters::kBoundsUs.end(), qint64(time));
    ++c.buckets[std::size_t(bound - SqlCommandCounters::kBoundsUs.begin())];

    if (!r.inDigests)
        return;
    DigestKey key{r.digest, r.username, r.schemaname, r.clientAddress};
    auto it = m_digests.find(key);
    if (it == m_digests.end()) {
        if (int(m_digests.size()) >= kMaxDigests) {
            ++m_droppedDigests;
        } else {
            SqlDigestRow row;
            row.digest = r.digest;
            row.digestText = r.digestText;
            row.username = r.username;
            row.schemaname = r.schemaname;
            row.clientAddress = r.clientAddress;
            row.firstSeen = seen;
            row.minTime = time;
            it = m_digests.emplace(std::move(key), std::move(row)).first;
        }
    }
    if (it != m_digests.end()) {
        SqlDigestRow& row = it->second;
        ++row.countStar;
        row.lastSeen = seen;
        row.sumTime += time;
        row.minTime = std::min(row.minTime, time);
        row.maxTime = std::max(row.maxTime, time);
        row.sumRowsAffected += r.rowsAffected;
        row.sumRowsSent += r.rowsSent;
        if (r.failed())
            ++row.errors;
    }

    if (!r.failed())
        return;
    ErrorKey errorKey{r.username, r.schemaname, r.clientAddress, r.errorCode, r.sqlState};
    auto e = m_errors.find(errorKey);
    if (e == m_errors.end()) {
        if (int(m_errors.size()) >= kMaxErrors) {
            ++m_droppedErrors;
            return;
        }
        SqlErrorRow row;
        row.username = r.username;
        row.schemaname = r.schemaname;
        row.clientAddress = r.clientAddress;
        row.errorCode = r.errorCode;
        row.firstSeen = seen;
        e = m_errors.emplace(std::move(errorKey), std::move(row)).first;
    }
    ++e->second.countStar;
    e->second.lastSeen = seen;
    e->second.sqlState = r.sqlState;
    e->second.lastError = r.errorMessage;
}

QList<SqlDigestRow> SqlStats::digests() const
{
    QMutexLocker lock(&m_mutex);
    QList<SqlDigestRow> out;
    out.reserve(qsizetype(m_digests.size()));
    for (const auto& [key, row] : m_digests)
        out << row;
    return out;
}

QList<SqlErrorRow> SqlStats::errors() const
{
    QMutexLocker lock(&m_mutex);
    QList<SqlErrorRow> out;
    out.reserve(qsizetype(m_errors.size()));
    for (const auto& [key, row] : m_errors)
        out << row;
    return out;
}

QList<SqlCommandCounters> SqlStats::commands() const
{
    QMutexLocker lock(&m_mutex);
    QList<SqlCommandCounters> out;
    for (const auto& [name, counters] : m_commands)
        out << counters;
    return out;
}

quint64 SqlStats::droppedDigests() const
{
    QMutexLocker lock(&m_mutex);
    return m_droppedDigests;
}

quint64 SqlStats::droppedErrors() const
{
    QMutexLocker lock(&m_mutex);
    return m_droppedErrors;
}

void SqlStats::resetDigests()
{
    QMutexLocker lock(&m_mutex);
    m_digests.clear(); // the command counters stay: Prometheus reads them as counters
    m_droppedDigests = 0;
}

void SqlStats::resetErrors()
{
    QMutexLocker lock(&m_mutex);
    m_errors.clear();
    m_droppedErrors = 0;
}

} // namespace sg
