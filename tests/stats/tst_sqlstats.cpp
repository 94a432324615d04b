// A route's MySQL tables as ProxySQL keeps them: one digest row per (digest, user, schema,
// client) with count, time, rows and errors; error rows per code with the last message;
// command counters in ProxySQL's latency buckets; the caps that count what does not fit; and
// resets that empty a table but leave the counters Prometheus reads.
#include "stats/sqlstats.h"

#include <QTest>

using namespace sg;

namespace {

SqlStatementResult statement(quint64 digest, qint64 timeUs, const QString& client = "10.0.0.1")
{
    SqlStatementResult r;
    r.command = "COM_QUERY";
    r.digest = digest;
    r.digestText = QStringLiteral("SELECT ? /* %1 */").arg(digest);
    r.username = "app";
    r.schemaname = "shop";
    r.clientAddress = client;
    r.timeUs = timeUs;
    r.atMs = 1700000000123;
    return r;
}

} // namespace

class tst_SqlStats : public QObject
{
    Q_OBJECT

private slots:
    void digestRowsAggregate()
    {
        SqlStats stats;
        SqlStatementResult a = statement(1, 300);
        a.rowsSent = 5;
        stats.record(a);
        SqlStatementResult b = statement(1, 100);
        b.rowsAffected = 2;
        b.errorCode = 1062;
        b.sqlState = "23000";
        b.errorMessage = "Duplicate entry '1' for key 'PRIMARY'";
        b.atMs = 1700000009999;
        stats.record(b);
        stats.record(statement(1, 50, "10.0.0.2")); // another client: a row of its own

        const QList<SqlDigestRow> rows = stats.digests();
        QCOMPARE(rows.size(), 2);
        const SqlDigestRow& r = rows.first().clientAddress == u"10.0.0.1" ? rows[0] : rows[1];
        QCOMPARE(r.countStar, 2u);
        QCOMPARE(r.sumTime, 400u);
        QCOMPARE(r.minTime, 100u);
        QCOMPARE(r.maxTime, 300u);
        QCOMPARE(r.sumRowsSent, 5u);
        QCOMPARE(r.sumRowsAffected, 2u);
        QCOMPARE(r.errors, 1u);
        QCOMPARE(r.firstSeen, 1700000000);
        QCOMPARE(r.lastSeen, 1700000009);
        QCOMPARE(r.username, QStringLiteral("app"));
        QCOMPARE(r.schemaname, QStringLiteral("shop"));

        const QList<SqlErrorRow> errors = stats.errors();
        QCOMPARE(errors.size(), 1);
        QCOMPARE(errors[0].errorCode, quint16(1062));
        QCOMPARE(errors[0].sqlState, QStringLiteral("23000"));
        QCOMPARE(errors[0].countStar, 1u);
        QCOMPARE(errors[0].lastError, b.errorMessage);

        // COM_QUIT counts as a command, never as a digest.
        SqlStatementResult quit = statement(99, 0);
        quit.command = "COM_QUIT";
        quit.inDigests = false;
        stats.record(quit);
        QCOMPARE(stats.digests().size(), 2);
        QCOMPARE(stats.commands().size(), 2);
    }

    // PostgreSQL has no error numbers: an error is its SQLSTATE (and message), and errors of
    // different SQLSTATEs are rows of their own.
    void postgresErrorsBySqlState()
    {
        SqlStats stats;
        SqlStatementResult missing = statement(1, 10);
        missing.command = "Query";
        missing.sqlState = "42P01";
        missing.errorMessage = "relation \"t\" does not exist";
        SqlStatementResult syntax = missing;
        syntax.digest = 2;
        syntax.sqlState = "42601";
        syntax.errorMessage = "syntax error at or near \"SELEC\"";
        SqlStatementResult ok = statement(3, 10);
        ok.command = "Query";
        stats.record(missing);
        stats.record(missing);
        stats.record(syntax);
        stats.record(ok);

        const QList<SqlErrorRow> errors = stats.errors();
        QCOMPARE(errors.size(), 2);
        for (const SqlErrorRow& e : errors) {
            QCOMPARE(e.errorCode, quint16(0));
            QCOMPARE(e.countStar, e.sqlState == u"42P01" ? 2u : 1u);
        }
        const QList<SqlCommandCounters> commands = stats.commands();
        QCOMPARE(commands.size(), 1);
        QCOMPARE(commands.first().totalCount, 4u);
        QCOMPARE(commands.first().errors, 3u);
        quint64 digestErrors = 0;
        for (const SqlDigestRow& d : stats.digests())
            digestErrors += d.errors;
        QCOMPARE(digestErrors, 3u);
    }

    void bucketsAreProxySqls()
    {
        QCOMPARE(SqlCommandCounters::bucketName(0), QStringLiteral("cnt_100us"));
        QCOMPARE(SqlCommandCounters::bucketName(2), QStringLiteral("cnt_1ms"));
        QCOMPARE(SqlCommandCounters::bucketName(8), QStringLiteral("cnt_1s"));
        QCOMPARE(SqlCommandCounters::bucketName(10), QStringLiteral("cnt_10s"));
        QCOMPARE(SqlCommandCounters::bucketName(11), QStringLiteral("cnt_INFs"));

        SqlStats stats;
        // At most the bound counts in that bucket; one µs more moves to the next.
        for (qint64 us : {0, 100, 101, 1000, 1001, 10000000, 10000001})
            stats.record(statement(7, us));
        const QList<SqlCommandCounters> commands = stats.commands();
        QCOMPARE(commands.size(), 1);
        const SqlCommandCounters& c = commands.first();
        QCOMPARE(c.command, QStringLiteral("COM_QUERY"));
        QCOMPARE(c.totalCount, 7u);
        QCOMPARE(c.buckets[0], 2u);  // 0, 100
        QCOMPARE(c.buckets[1], 1u);  // 101
        QCOMPARE(c.buckets[2], 1u);  // 1000
        QCOMPARE(c.buckets[3], 1u);  // 1001
        QCOMPARE(c.buckets[10], 1u); // 10 s
        QCOMPARE(c.buckets[11], 1u); // beyond
        QCOMPARE(c.totalTimeUs, quint64(0 + 100 + 101 + 1000 + 1001 + 10000000 + 10000001));
    }

    void capsCountWhatDoesNotFit()
    {
        SqlStats stats;
        for (int i = 0; i < SqlStats::kMaxDigests + 3; ++i)
            stats.record(statement(quint64(i), 10));
        QCOMPARE(stats.digests().size(), SqlStats::kMaxDigests);
        QCOMPARE(stats.droppedDigests(), 3u);
        stats.record(statement(0, 10)); // a digest already kept still counts
        QCOMPARE(stats.droppedDigests(), 3u);

        for (int i = 0; i < SqlStats::kMaxErrors + 2; ++i) {
            SqlStatementResult r =
                statement(0, 10, QStringLiteral("10.1.%1.%2").arg(i / 250).arg(i % 250));
            r.errorCode = 1146;
            stats.record(r);
        }
        QCOMPARE(stats.errors().size(), SqlStats::kMaxErrors);
        QCOMPARE(stats.droppedErrors(), 2u);
    }

    void resetsEmptyTablesButKeepCounters()
    {
        SqlStats stats;
        SqlStatementResult r = statement(1, 10);
        r.errorCode = 1213;
        stats.record(r);
        stats.resetDigests();
        QVERIFY(stats.digests().isEmpty());
        QCOMPARE(stats.errors().size(), 1);
        QCOMPARE(stats.commands().first().totalCount, 1u); // Prometheus counters stay monotonic
        QCOMPARE(stats.commands().first().errors, 1u);
        stats.resetErrors();
        QVERIFY(stats.errors().isEmpty());
        stats.record(statement(1, 10));
        QCOMPARE(stats.digests().first().countStar, 1u);
        QCOMPARE(stats.commands().first().totalCount, 2u);
    }
};

QTEST_GUILESS_MAIN(tst_SqlStats)
#include "tst_sqlstats.moc"
