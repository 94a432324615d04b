#pragma once
// What a route's MySQL or PostgreSQL clients asked and what came back, aggregated as ProxySQL's
// stats tables do (stats_mysql_query_digest, stats_mysql_errors, stats_mysql_commands_counters
// and their stats_pgsql_ twins), with the same field names and units: times in microseconds,
// first/last seen in Unix seconds. A route keeps one table set per protocol (RouteStats).
//   digests   one row per (digest, user, schema, client address): count, time, rows, errors
//   errors    one row per (user, schema, client address, error code, SQLSTATE): count, the last
//             message (Postgres has no error numbers: its rows have code 0 and their SQLSTATE)
//   commands  per command type (COM_QUERY, Query, ...): count, total time and ProxySQL's latency
//             buckets (cnt_100us ... cnt_10s, cnt_INFs; each counts the commands that took at
//             most its bound and more than the one before)
// Bounded: at most kMaxDigests digest rows and kMaxErrors error rows per route; what does not
// fit is counted (droppedDigests, droppedErrors), never stored. Thread-safe: every worker
// records into the same route's tables under one short lock per finished command.

#include <QList>
#include <QMutex>
#include <QString>
#include <array>
#include <map>
#include <tuple>

namespace sg {

// Which database protocol a table set is about: the API and the metrics name their fields
// after ProxySQL's tables for that protocol (schemaname / database, errno / sqlstate).
enum class SqlProtocol : quint8 { MySql, Postgres };

// One finished command, as the connection's MySQL or Postgres reader saw it.
struct SqlStatementResult
{
    QString command;    // "COM_QUERY", "COM_STMT_EXECUTE", ...; Postgres: "Query", "Execute", ...
    quint64 digest = 0; // digest of the statement text (proxy/sqldigest.h)
    QString digestText; // the normalised statement; the command's name when it has none
    QString username;
    QString schemaname;
    QString clientAddress;
    qint64 timeUs = 0; // from the command packet to the end of its response
    quint64 rowsSent = 0;
    quint64 rowsAffected = 0;
    quint16 errorCode = 0; // MySQL's ERR code; 0 for none, and for every Postgres error
    QString sqlState;      // the error's SQLSTATE; empty when the command succeeded
    QString errorMessage;
    qint64 atMs = 0;       // wall clock, ms since the epoch, when the response ended
    bool inDigests = true; // false: counted with its command only (COM_QUIT, as ProxySQL)
    bool failed() const { return errorCode != 0 || !sqlState.isEmpty(); }
};

struct SqlDigestRow
{
    quint64 digest = 0;
    QString digestText;
    QString username;
    QString schemaname;
    QString clientAddress;
    quint64 countStar = 0;
    qint64 firstSeen = 0; // Unix seconds
    qint64 lastSeen = 0;
    quint64 sumTime = 0; // µs
    quint64 minTime = 0;
    quint64 maxTime = 0;
    quint64 sumRowsAffected = 0;
    quint64 sumRowsSent = 0;
    quint64 errors = 0;
    bool operator==(const SqlDigestRow&) const = default;
};

struct SqlErrorRow
{
    QString username;
    QString schemaname;
    QString clientAddress;
    quint16 errorCode = 0;
    QString sqlState;
    quint64 countStar = 0;
    qint64 firstSeen = 0; // Unix seconds
    qint64 lastSeen = 0;
    QString lastError;
    bool operator==(const SqlErrorRow&) const = default;
};

struct SqlCommandCounters
{
    static constexpr std::array<qint64, 11> kBoundsUs{
        100, 500, 1000, 5000, 10000, 50000, 100000, 500000, 1000000, 5000000, 10000000};
    // "cnt_100us", ..., "cnt_10s", then "cnt_INFs" for the last bucket.
    static QString bucketName(std::size_t index);

    QString command;
    quint64 totalTimeUs = 0;
    quint64 totalCount = 0;
    quint64 errors = 0; // answered with an ERR
    std::array<quint64, kBoundsUs.size() + 1> buckets{};
};

class SqlStats
{
public:
    static constexpr int kMaxDigests = 5000;
    static constexpr int kMaxErrors = 1000;

    void record(const SqlStatementResult& result);

    QList<SqlDigestRow> digests() const;
    QList<SqlErrorRow> errors() const;
    QList<SqlCommandCounters> commands() const;
    quint64 droppedDigests() const;
    quint64 droppedErrors() const;

    // ProxySQL's stats_mysql_query_digest_reset and friends: the tables start again empty.
    void resetDigests();
    void resetErrors();

private:
    using DigestKey =
        std::tuple<quint64, QString, QString, QString>; // digest, user, schema, client
    using ErrorKey = std::tuple<QString, QString, QString, quint16, QString>; // ..., code, state

    mutable QMutex m_mutex;
    std::map<DigestKey, SqlDigestRow> m_digests;
    std::map<ErrorKey, SqlErrorRow> m_errors;
    std::map<QString, SqlCommandCounters> m_commands;
    quint64 m_droppedDigests = 0;
    quint64 m_droppedErrors = 0;
};

} // namespace sg
