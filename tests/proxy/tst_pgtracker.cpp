// PgTracker on hand-built conversations and on ones recorded from a real PostgreSQL 15 server
// (tests/data/postgres). Each hand-built conversation is fed whole, one byte at a time and cut
// in two at every byte of every chunk; all must give the same result.
#include "mysqlconversation.h"
#include "proxy/pgtracker.h"

#include <QTest>

using sg::PgCommandDone;
using sg::PgCommandKind;
using sg::PgTracker;
using sg::test::Chunk;

namespace {

QByteArray be(quint64 v, int width)
{
    QByteArray out;
    for (int i = width - 1; i >= 0; --i)
        out.append(char((v >> (8 * i)) & 0xFF));
    return out;
}

QByteArray cstr(const QByteArray& s)
{
    return s + '\0';
}

QByteArray msg(char type, const QByteArray& body = {})
{
    return type + be(quint64(body.size()) + 4, 4) + body;
}

// ---- client ----

QByteArray startupPacket(const QList<QPair<QByteArray, QByteArray>>& params,
                         quint32 version = 196608)
{
    QByteArray body = be(version, 4);
    for (const auto& [name, value] : params)
        body += cstr(name) + cstr(value);
    body += '\0';
    return be(quint64(body.size()) + 4, 4) + body;
}

QByteArray sslRequest()
{
    return be(8, 4) + be(80877103, 4);
}

QByteArray gssEncRequest()
{
    return be(8, 4) + be(80877104, 4);
}

QByteArray query(const QByteArray& text)
{
    return msg('Q', cstr(text));
}

QByteArray parse(const QByteArray& name, const QByteArray& text)
{
    return msg('P', cstr(name) + cstr(text) + be(0, 2));
}

QByteArray bindMsg(const QByteArray& portal, const QByteArray& statement)
{
    return msg('B',
               cstr(portal) + cstr(statement) + be(0, 2) + be(1, 2) + be(1, 4) + "7" + be(0, 2));
}

QByteArray describe(char what, const QByteArray& name)
{
    return msg('D', what + cstr(name));
}

QByteArray execute(const QByteArray& portal = {}, quint32 maxRows = 0)
{
    return msg('E', cstr(portal) + be(maxRows, 4));
}

QByteArray closeMsg(char what, const QByteArray& name)
{
    return msg('C', what + cstr(name));
}

QByteArray syncMsg()
{
    return msg('S');
}

QByteArray password(const QByteArray& data)
{
    return msg('p', data);
}

// ---- server ----

QByteArray auth(quint32 code, const QByteArray& extra = {})
{
    return msg('R', be(code, 4) + extra);
}

QByteArray parameterStatus(const QByteArray& name, const QByteArray& value)
{
    return msg('S', cstr(name) + cstr(value));
}

QByteArray ready(char status = 'I')
{
    return msg('Z', QByteArray(1, status));
}

QByteArray errorResponse(const QByteArray& code, const QByteArray& message,
                         const QByteArray& severity = "ERROR")
{
    return msg('E', 'S' + cstr(severity) + 'V' + cstr(severity) + 'C' + cstr(code) + 'M' +
                        cstr(message) + 'F' + cstr("postgres.c") + '\0');
}

QByteArray notice(const QByteArray& message)
{
    return msg('N', 'S' + cstr("NOTICE") + 'C' + cstr("00000") + 'M' + cstr(message) + '\0');
}

QByteArray notification(const QByteArray& channel, const QByteArray& payload)
{
    return msg('A', be(4242, 4) + cstr(channel) + cstr(payload));
}

QByteArray rowDescription(int columns = 1)
{
    QByteArray body = be(quint64(columns), 2);
    for (int i = 0; i < columns; ++i)
        body += cstr("c" + QByteArray::number(i)) + be(0, 4) + be(0, 2) + be(23, 4) + be(4, 2) +
                be(0xFFFFFFFF, 4) + be(0, 2);
    return msg('T', body);
}

QByteArray dataRow(const QList<QByteArray>& values)
{
    QByteArray body = be(quint64(values.size()), 2);
    for (const QByteArray& v : values)
        body += v.isNull() ? be(0xFFFFFFFF, 4) : be(quint64(v.size()), 4) + v;
    return msg('D', body);
}

QByteArray rows(int n)
{
    QByteArray out = rowDescription();
    for (int i = 0; i < n; ++i)
        out += dataRow({QByteArray::number(i)});
    return out;
}

QByteArray complete(const QByteArray& tag)
{
    return msg('C', cstr(tag));
}

// What a server sends after a trusted login.
QByteArray loginOk(const QByteArray& version = "15.4")
{
    return auth(0) + parameterStatus("server_version", version) +
           parameterStatus("client_encoding", "UTF8") + msg('K', be(1234, 4) + be(5678, 4)) +
           ready();
}

// The typed messages of a stream, each whole.
QList<QByteArray> messages(const QByteArray& stream)
{
    QList<QByteArray> out;
    for (qsizetype at = 0; at + 5 <= stream.size();) {
        quint32 length = 0;
        for (int i = 1; i <= 4; ++i)
            length = length << 8 | quint8(stream[at + i]);
        out.append(stream.mid(at, 1 + qsizetype(length)));
        at += 1 + qsizetype(length);
    }
    return out;
}

Chunk C(const QByteArray& b)
{
    return {true, b};
}

Chunk S(const QByteArray& b)
{
    return {false, b};
}

// A logged-in conversation's opening.
QList<Chunk> login()
{
    return {C(startupPacket({{"user", "alice"}, {"database", "shop"}})), S(loginOk())};
}

struct Outcome
{
    std::vector<PgCommandDone> done;
    bool lost = false;
    std::string why;
    PgTracker::LoginState login = PgTracker::LoginState::Pending;
    std::string user, database, applicationName, serverVersion, loginSqlState, loginError;
    bool tlsRequested = false, tlsAccepted = false, cancel = false;
    int protocolMinor = 0;
    char transactionStatus = 0;

    bool operator==(const Outcome&) const = default;
};

// Feeds the chunks; chunk i goes at time (i + 1) * 1000 us, in pieces of `piece` bytes (0:
// whole), except chunk `cutChunk`, which goes in two pieces cut at `cutAt`. Drains after each
// feed, as a relay does.
Outcome play(const QList<Chunk>& chunks, qsizetype piece = 0, qsizetype cutChunk = -1,
             qsizetype cutAt = 0)
{
    PgTracker t;
    Outcome o;
    qint64 now = 0;
    auto feed = [&](const Chunk& c, const char* p, qsizetype n) {
        if (c.fromClient)
            t.feedClient(p, std::size_t(n), now);
        else
            t.feedServer(p, std::size_t(n), now);
        for (PgCommandDone& d : t.takeDone())
            o.done.push_back(std::move(d));
    };
    for (qsizetype i = 0; i < chunks.size(); ++i) {
        const Chunk& c = chunks[i];
        now += 1000;
        if (i == cutChunk) {
            feed(c, c.bytes.constData(), cutAt);
            feed(c, c.bytes.constData() + cutAt, c.bytes.size() - cutAt);
            continue;
        }
        const qsizetype step = piece == 0 ? qMax<qsizetype>(1, c.bytes.size()) : piece;
        for (qsizetype at = 0; at < c.bytes.size(); at += step)
            feed(c, c.bytes.constData() + at, qMin(step, c.bytes.size() - at));
    }
    o.lost = t.lost();
    o.why = t.why();
    o.login = t.loginState();
    o.user = t.user();
    o.database = t.database();
    o.applicationName = t.applicationName();
    o.serverVersion = t.serverVersion();
    o.loginSqlState = t.loginSqlState();
    o.loginError = t.loginError();
    o.tlsRequested = t.tlsRequested();
    o.tlsAccepted = t.tlsAccepted();
    o.cancel = t.cancelRequest();
    o.protocolMinor = t.protocolMinor();
    o.transactionStatus = t.transactionStatus();
    return o;
}

PgCommandDone command(const Outcome& o, std::size_t i)
{
    return i < o.done.size() ? o.done[i] : PgCommandDone{};
}

} // namespace

class tst_PgTracker : public QObject
{
    Q_OBJECT

private:
    // Plays whole, byte by byte and cut in two at every byte of every chunk: all must agree.
    Outcome run(const QList<Chunk>& chunks)
    {
        const Outcome whole = play(chunks);
        if (play(chunks, 1) != whole)
            QTest::qFail("fed byte by byte the result differs", __FILE__, __LINE__);
        for (qsizetype i = 0; i < chunks.size(); ++i) {
            for (qsizetype at = 1; at < chunks[i].bytes.size(); ++at) {
                if (play(chunks, 0, i, at) != whole) {
                    QTest::qFail(qPrintable(QStringLiteral("cut in chunk %1 at byte %2 the result "
                                                           "differs")
                                                .arg(i)
                                                .arg(at)),
                                 __FILE__, __LINE__);
                    return whole;
                }
            }
        }
        return whole;
    }

    // For long conversations, where cutting at every byte would take minutes: whole, byte by
    // byte and in pieces of 7 bytes.
    Outcome runLong(const QList<Chunk>& chunks)
    {
        const Outcome whole = play(chunks);
        if (play(chunks, 1) != whole)
            QTest::qFail("fed byte by byte the result differs", __FILE__, __LINE__);
        if (play(chunks, 7) != whole)
            QTest::qFail("fed 7 bytes at a time the result differs", __FILE__, __LINE__);
        return whole;
    }

    Outcome runRecorded(const QString& name, bool everyCut = true)
    {
        QList<Chunk> chunks;
        QString error;
        if (!sg::test::readConversation(QStringLiteral(SG_TEST_DATA_DIR "/postgres/") + name,
                                        chunks, &error))
            QTest::qFail(qPrintable(error), __FILE__, __LINE__);
        return everyCut ? run(chunks) : runLong(chunks);
    }

private slots:
    void recordedPsqlSession();
    void recordedPreparedStatements();
    void recordedWrongPassword();
    void recordedExtendedCopy();
    void recordedPipeline();
    void recordedDiscardAll();
    void startup_data();
    void startup();
    void sslRefusedThenStartup();
    void sslAccepted();
    void gssEncThenSslThenStartup();
    void directTls();
    void cancelRequest();
    void cancelRequestLongKey_data();
    void cancelRequestLongKey();
    void protocol32Login();
    void authentication_data();
    void authentication();
    void authenticationFails();
    void replicationConnection();
    void negotiateProtocolVersion();
    void simpleQuery_data();
    void simpleQuery();
    void multiStatementQuery();
    void queryError();
    void emptyQuery();
    void extendedNamedAndUnnamed();
    void pipelinedBatches();
    void errorMidBatch();
    void errorWithoutExecute();
    void portalSuspended();
    void copyFromStdin();
    void copyFromStdinExtended();
    void copyToStdout();
    void copyBoth();
    void asyncMessagesInterleaved();
    void functionCall();
    void terminate();
    void hugeDataRowSkipped();
    void longStatementCut();
    void tooManyPending();
    void tooMuchTextInFlight();
    void preparedPastTheCap();
    void statementsForgotten();
    void portalsDieWithTheTransaction();
    void lostOnGarbage_data();
    void lostOnGarbage();
    void running();
};

void tst_PgTracker::recordedPsqlSession()
{
    // psql -f over TCP with SCRAM-SHA-256: one Query per statement, COPY both ways, an error,
    // LISTEN/NOTIFY, a notice and a SET that the server reports back.
    const Outcome o = runRecorded("psql_session.conv");
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.login, PgTracker::LoginState::Succeeded);
    QCOMPARE(o.user, std::string("postgres"));
    QCOMPARE(o.database, std::string("postgres"));
    QCOMPARE(o.serverVersion.substr(0, 3), std::string("15."));
    QCOMPARE(o.applicationName, std::string("renamed"));
    struct Want
    {
        const char* statement;
        const char* tag;
        quint64 rows;
        quint64 affected;
        const char* sqlState;
    };
    const Want want[] = {
        {"CREATE TABLE t (id int PRIMARY KEY, name text);", "CREATE TABLE", 0, 0, ""},
        {"INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, 'three');", "INSERT", 0, 3, ""},
        {"SELECT id, name FROM t ORDER BY id;", "SELECT", 3, 3, ""},
        {"UPDATE t SET name = upper(name) WHERE id < 3;", "UPDATE", 0, 2, ""},
        {"SELECT 1;", "SELECT", 1, 1, ""},
        {"SELECT 2, 3;", "SELECT", 1, 1, ""},
        {"SELECT * FROM missing_table;", "", 0, 0, "42P01"},
        {"COPY t FROM STDIN;", "COPY", 0, 2, ""},
        {"COPY t TO STDOUT;", "COPY", 0, 5, ""},
        {"LISTEN ch;", "LISTEN", 0, 0, ""},
        {"NOTIFY ch, 'hello';", "NOTIFY", 0, 0, ""},
        {"DO $$ BEGIN RAISE NOTICE 'a notice'; END $$;", "DO", 0, 0, ""},
        {"SET application_name = 'renamed';", "SET", 0, 0, ""},
        {"DELETE FROM t;", "DELETE", 0, 5, ""},
        {"DROP TABLE t;", "DROP TABLE", 0, 0, ""},
    };
    QCOMPARE(o.done.size(), std::size(want) + 1);
    for (std::size_t i = 0; i < std::size(want); ++i) {
        const PgCommandDone& d = o.done[i];
        QCOMPARE(d.kind, PgCommandKind::SimpleQuery);
        QCOMPARE(d.statement, std::string(want[i].statement));
        QCOMPARE(d.tag, std::string(want[i].tag));
        QCOMPARE(d.rowsSent, want[i].rows);
        QCOMPARE(d.rowsAffected, want[i].affected);
        QCOMPARE(d.sqlState, std::string(want[i].sqlState));
        QVERIFY(d.durationUs >= 0);
    }
    QCOMPARE(o.done[6].errorMessage, std::string("relation \"missing_table\" does not exist"));
    QCOMPARE(o.done[6].severity, std::string("ERROR"));
    QCOMPARE(o.done.back().kind, PgCommandKind::Terminate);
}

void tst_PgTracker::recordedPreparedStatements()
{
    // pgbench -M prepared: each statement parsed once by name (P_0, P_1) with its own Sync, then
    // Bind/Describe/Execute/Sync for each use.
    const Outcome o = runRecorded("pgbench_prepared.conv");
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.login, PgTracker::LoginState::Succeeded);
    QCOMPARE(o.applicationName, std::string("pgbench"));
    const std::string first = "SELECT $1::int + 1 AS x, 'const' AS y;";
    const std::string second = "SELECT generate_series(1, 3);";
    QCOMPARE(o.done.size(), std::size_t(5));
    for (std::size_t i = 0; i < 4; ++i) {
        const PgCommandDone& d = o.done[i];
        QCOMPARE(d.kind, PgCommandKind::Execute);
        QCOMPARE(d.statement, i % 2 == 0 ? first : second);
        QCOMPARE(d.rowsSent, quint64(i % 2 == 0 ? 1 : 3));
        QCOMPARE(d.tag, std::string("SELECT"));
        QVERIFY(d.sqlState.empty());
    }
    QCOMPARE(o.done[4].kind, PgCommandKind::Terminate);
}

void tst_PgTracker::recordedWrongPassword()
{
    const Outcome o = runRecorded("wrong_password.conv");
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.login, PgTracker::LoginState::Failed);
    QCOMPARE(o.loginSqlState, std::string("28P01"));
    QCOMPARE(o.loginError, std::string("password authentication failed for user \"postgres\""));
    QVERIFY(o.done.empty());
}

void tst_PgTracker::recordedExtendedCopy()
{
    // libpq's PQexecParams on COPY: Parse/Bind/Describe/Execute/Sync, the CopyData once the
    // server asked for it, then CopyDone (or CopyFail) and a second Sync. The server ignores the
    // first Sync and answers the second one alone.
    const Outcome o = runRecorded("extended_copy.conv");
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.done.size(), std::size_t(6));
    QCOMPARE(o.done[0].kind, PgCommandKind::SimpleQuery);
    QCOMPARE(o.done[0].tag, std::string("CREATE TABLE"));
    QCOMPARE(o.done[1].kind, PgCommandKind::Execute);
    QCOMPARE(o.done[1].statement, std::string("COPY t FROM STDIN"));
    QCOMPARE(o.done[1].tag, std::string("COPY"));
    QCOMPARE(o.done[1].rowsAffected, quint64(3));
    QCOMPARE(o.done[2].statement, std::string("COPY t FROM STDIN"));
    QCOMPARE(o.done[2].sqlState, std::string("57014"));
    QCOMPARE(o.done[3].statement, std::string("COPY t TO STDOUT"));
    QCOMPARE(o.done[3].rowsAffected, quint64(3));
    QCOMPARE(o.done[4].statement, std::string("SELECT count(*) FROM t"));
    QCOMPARE(o.done[4].rowsSent, quint64(1));
    QVERIFY(o.done[4].sqlState.empty());
    QCOMPARE(o.done[5].kind, PgCommandKind::Terminate);
    QCOMPARE(o.transactionStatus, 'I');
}

void tst_PgTracker::recordedPipeline()
{
    // libpq's pipeline mode: 100 PQsendQueryParams (Parse/Bind/Describe/Execute each) and one
    // Sync, 401 messages in flight before the first answer.
    const Outcome o = runRecorded("pipeline_100.conv", false);
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.done.size(), std::size_t(101));
    for (std::size_t i = 0; i < 100; ++i) {
        const PgCommandDone& d = o.done[i];
        QCOMPARE(d.kind, PgCommandKind::Execute);
        QCOMPARE(d.statement, "SELECT $1::int + " + std::to_string(i));
        QCOMPARE(d.rowsSent, quint64(1));
        QVERIFY(d.sqlState.empty());
    }
    QCOMPARE(o.done[100].kind, PgCommandKind::Terminate);
}

void tst_PgTracker::recordedDiscardAll()
{
    // PQprepare("s1"), PQexecPrepared, DISCARD ALL, PQexecPrepared again (the statement is gone),
    // s1 prepared anew and run, DEALLOCATE ALL, and s1 once more.
    const Outcome o = runRecorded("discard_all.conv");
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.done.size(), std::size_t(7));
    QCOMPARE(o.done[0].statement, std::string("SELECT $1::int + 1"));
    QCOMPARE(o.done[1].statement, std::string("DISCARD ALL"));
    QCOMPARE(o.done[1].tag, std::string("DISCARD ALL"));
    // Not the text s1 had before DISCARD ALL: the server no longer has it.
    QCOMPARE(o.done[2].kind, PgCommandKind::Execute);
    QCOMPARE(o.done[2].statement, std::string());
    QCOMPARE(o.done[2].sqlState, std::string("26000"));
    QCOMPARE(o.done[3].statement, std::string("SELECT $1::int * 2"));
    QVERIFY(o.done[3].sqlState.empty());
    QCOMPARE(o.done[4].tag, std::string("DEALLOCATE ALL"));
    QCOMPARE(o.done[5].statement, std::string());
    QCOMPARE(o.done[5].sqlState, std::string("26000"));
    QCOMPARE(o.done[6].kind, PgCommandKind::Terminate);
}

void tst_PgTracker::startup_data()
{
    QTest::addColumn<QByteArray>("packet");
    QTest::addColumn<QByteArray>("user");
    QTest::addColumn<QByteArray>("database");
    QTest::addColumn<QByteArray>("applicationName");

    QTest::newRow("user and database") << startupPacket({{"user", "alice"}, {"database", "shop"}})
                                       << QByteArray("alice") << QByteArray("shop") << QByteArray();
    QTest::newRow("database defaults to the user")
        << startupPacket({{"user", "bob"}}) << QByteArray("bob") << QByteArray("bob")
        << QByteArray();
    QTest::newRow("application name and other parameters")
        << startupPacket({{"client_encoding", "UTF8"},
                          {"user", "carol"},
                          {"application_name", "psql"},
                          {"database", "db"},
                          {"replication", "false"},
                          {"options", "-c geqo=off"}})
        << QByteArray("carol") << QByteArray("db") << QByteArray("psql");
}

void tst_PgTracker::startup()
{
    QFETCH(QByteArray, packet);
    QFETCH(QByteArray, user);
    QFETCH(QByteArray, database);
    QFETCH(QByteArray, applicationName);
    const Outcome o = run({C(packet), S(loginOk("16.1 (Debian 16.1-1)")), C(query("SELECT 1")),
                           S(rows(1) + complete("SELECT 1") + ready())});
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.login, PgTracker::LoginState::Succeeded);
    QCOMPARE(o.user, user.toStdString());
    QCOMPARE(o.database, database.toStdString());
    QCOMPARE(o.applicationName, applicationName.toStdString());
    QCOMPARE(o.serverVersion, std::string("16.1 (Debian 16.1-1)"));
    QCOMPARE(o.protocolMinor, 0);
    QCOMPARE(o.done.size(), std::size_t(1));
    QCOMPARE(o.transactionStatus, 'I');
}

void tst_PgTracker::sslRefusedThenStartup()
{
    const Outcome o =
        run({C(sslRequest()), S("N"), C(startupPacket({{"user", "u"}})), S(loginOk())});
    QVERIFY2(!o.lost, o.why.c_str());
    QVERIFY(o.tlsRequested);
    QVERIFY(!o.tlsAccepted);
    QCOMPARE(o.login, PgTracker::LoginState::Succeeded);
    QCOMPARE(o.database, std::string("u"));
}

void tst_PgTracker::sslAccepted()
{
    const QByteArray clientHello = QByteArray::fromHex("160301020001");
    const Outcome o = run({C(sslRequest()), S("S"), C(clientHello + QByteArray(200, 'x')),
                           S(QByteArray::fromHex("160303007a02"))});
    QVERIFY(o.lost);
    QCOMPARE(o.why, std::string("encrypted (TLS)"));
    QVERIFY(o.tlsRequested);
    QVERIFY(o.tlsAccepted);
    QCOMPARE(o.login, PgTracker::LoginState::Pending);
}

void tst_PgTracker::gssEncThenSslThenStartup()
{
    const Outcome o = run({C(gssEncRequest()), S("N"), C(sslRequest()), S("N"),
                           C(startupPacket({{"user", "u"}, {"database", "d"}})), S(loginOk())});
    QVERIFY2(!o.lost, o.why.c_str());
    QVERIFY(o.tlsRequested);
    QVERIFY(!o.tlsAccepted);
    QCOMPARE(o.login, PgTracker::LoginState::Succeeded);

    PgTracker t;
    const QByteArray gss = gssEncRequest();
    t.feedClient(gss.constData(), std::size_t(gss.size()), 1);
    t.feedServer("G", 1, 2);
    QVERIFY(t.gssEncRequested());
    QVERIFY(t.gssEncAccepted());
    QVERIFY(t.lost());
    QCOMPARE(t.why(), std::string("encrypted (GSSAPI)"));
}

void tst_PgTracker::directTls()
{
    // PostgreSQL 17's sslnegotiation=direct: the TLS ClientHello comes first.
    const Outcome o = run({C(QByteArray::fromHex("16030100f4010000f00303") + QByteArray(40, 'r'))});
    QVERIFY(o.lost);
    QCOMPARE(o.why, std::string("encrypted (TLS)"));
    QVERIFY(o.tlsRequested);
}

void tst_PgTracker::cancelRequest()
{
    const QByteArray cancel = be(16, 4) + be(80877102, 4) + be(1234, 4) + be(0xCAFEBABE, 4);
    const Outcome o = run({C(cancel)});
    QVERIFY(!o.lost);
    QVERIFY(o.cancel);
    QCOMPARE(o.login, PgTracker::LoginState::Pending);
    QVERIFY(o.done.empty());

    const Outcome more = run({C(cancel + query("SELECT 1"))});
    QVERIFY(more.lost);
    QCOMPARE(more.why, std::string("bytes after CancelRequest"));
}

void tst_PgTracker::cancelRequestLongKey_data()
{
    QTest::addColumn<int>("keyLength");
    QTest::addColumn<bool>("accepted");

    QTest::newRow("protocol 3.0 key") << 4 << true;
    QTest::newRow("PostgreSQL 18 key (protocol 3.2)") << 32 << true;
    QTest::newRow("longest key") << 256 << true;
    QTest::newRow("key too short") << 3 << false;
    QTest::newRow("key too long") << 257 << false;
}

void tst_PgTracker::cancelRequestLongKey()
{
    QFETCH(int, keyLength);
    QFETCH(bool, accepted);
    const QByteArray cancel =
        be(quint64(12 + keyLength), 4) + be(80877102, 4) + be(4242, 4) + QByteArray(keyLength, 'k');
    const Outcome o = run({C(cancel)});
    QCOMPARE(o.lost, !accepted);
    QCOMPARE(o.cancel, accepted);
    if (!accepted)
        QCOMPARE(o.why, std::string("malformed CancelRequest"));
}

void tst_PgTracker::protocol32Login()
{
    // Protocol 3.2 (PostgreSQL 18): BackendKeyData's key is 32 bytes, and may be up to 256.
    for (int keyLength : {32, 256}) {
        const QByteArray ok = auth(0) + parameterStatus("server_version", "18.0") +
                              msg('K', be(4242, 4) + QByteArray(keyLength, 'k')) + ready();
        const Outcome o = run({C(startupPacket({{"user", "u"}}, 196610)), S(ok),
                               C(query("SELECT 1")), S(rows(1) + complete("SELECT 1") + ready())});
        QVERIFY2(!o.lost, o.why.c_str());
        QCOMPARE(o.protocolMinor, 2);
        QCOMPARE(o.login, PgTracker::LoginState::Succeeded);
        QCOMPARE(o.done.size(), std::size_t(1));
    }
    // A server offering 3.2 to a client that asked for a later minor version.
    const QByteArray negotiate = msg('v', be(2, 4) + be(0, 4));
    const Outcome later =
        run({C(startupPacket({{"user", "u"}}, 196611)), S(negotiate + loginOk())});
    QVERIFY2(!later.lost, later.why.c_str());
    QCOMPARE(later.protocolMinor, 2);

    const Outcome tooLong =
        run({C(startupPacket({{"user", "u"}}, 196610)),
             S(auth(0) + msg('K', be(4242, 4) + QByteArray(257, 'k')) + ready())});
    QVERIFY(tooLong.lost);
    QCOMPARE(tooLong.why, std::string("server message length out of range"));
}

void tst_PgTracker::authentication_data()
{
    QTest::addColumn<QByteArray>("client");
    QTest::addColumn<QByteArray>("server");

    QTest::newRow("trust") << QByteArray() << QByteArray();
    QTest::newRow("cleartext") << password(cstr("secret")) << auth(3);
    QTest::newRow("md5") << password(cstr("md5" + QByteArray(32, 'a'))) << auth(5, "salt");
    // SCRAM: the mechanisms, the client-first message, server-first, client-final, server-final.
    QTest::newRow("scram-sha-256")
        << password(cstr("SCRAM-SHA-256") + be(24, 4) + "n,,n=,r=abcdefghijklmnop") +
               password("c=biws,r=abcdefghijklmnopqrst,p=proof")
        << auth(10, cstr("SCRAM-SHA-256") + cstr("SCRAM-SHA-256-PLUS") + '\0') +
               auth(11, "r=abcdefghijklmnopqrst,s=salt,i=4096") + auth(12, "v=signature");
}

void tst_PgTracker::authentication()
{
    QFETCH(QByteArray, client);
    QFETCH(QByteArray, server);
    // The exchange goes message by message: each side answers the other's last one.
    QList<Chunk> chunks{C(startupPacket({{"user", "u"}}))};
    const QList<QByteArray> requests = messages(server);
    const QList<QByteArray> answers = messages(client);
    for (qsizetype i = 0; i < requests.size(); ++i) {
        chunks.append(S(requests[i]));
        if (i < answers.size())
            chunks.append(C(answers[i]));
    }
    chunks.append(S(loginOk()));
    chunks.append(C(query("SELECT 1")));
    chunks.append(S(rows(1) + complete("SELECT 1") + ready()));
    const Outcome o = run(chunks);
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.login, PgTracker::LoginState::Succeeded);
    QCOMPARE(o.done.size(), std::size_t(1));
    QCOMPARE(o.done[0].rowsSent, quint64(1));
}

void tst_PgTracker::authenticationFails()
{
    const Outcome o =
        run({C(startupPacket({{"user", "u"}})), S(auth(5, "salt")),
             C(password(cstr("md5" + QByteArray(32, 'b')))),
             S(errorResponse("28P01", "password authentication failed for user \"u\"", "FATAL")),
             C(query("SELECT 1"))});
    QVERIFY(!o.lost);
    QCOMPARE(o.login, PgTracker::LoginState::Failed);
    QCOMPARE(o.loginSqlState, std::string("28P01"));
    QCOMPARE(o.loginError, std::string("password authentication failed for user \"u\""));
    QVERIFY(o.done.empty());

    // Authenticated, but the database does not exist: still a failed login.
    const Outcome noDb =
        run({C(startupPacket({{"user", "u"}, {"database", "nope"}})),
             S(auth(0) + errorResponse("3D000", "database \"nope\" does not exist", "FATAL"))});
    QCOMPARE(noDb.login, PgTracker::LoginState::Failed);
    QCOMPARE(noDb.loginSqlState, std::string("3D000"));
}

void tst_PgTracker::replicationConnection()
{
    for (const char* value : {"true", "database", "on", "1"}) {
        const Outcome o = run({C(startupPacket({{"user", "u"}, {"replication", value}}))});
        QVERIFY(o.lost);
        QCOMPARE(o.why, std::string("replication connection"));
    }
    for (const char* value : {"false", "OFF", "0", "no"}) {
        const Outcome o =
            run({C(startupPacket({{"user", "u"}, {"replication", value}})), S(loginOk())});
        QVERIFY2(!o.lost, value);
        QCOMPARE(o.login, PgTracker::LoginState::Succeeded);
    }
}

void tst_PgTracker::negotiateProtocolVersion()
{
    // A client asking for 3.2 and an option the server does not know: the server offers 3.0.
    const QByteArray negotiate = msg('v', be(0, 4) + be(1, 4) + cstr("_pq_.unknown_option"));
    const Outcome o = run({C(startupPacket({{"user", "u"}, {"_pq_.unknown_option", "x"}}, 196610)),
                           S(negotiate + loginOk()), C(query("SELECT 1")),
                           S(rows(1) + complete("SELECT 1") + ready())});
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.protocolMinor, 0);
    QCOMPARE(o.login, PgTracker::LoginState::Succeeded);
    QCOMPARE(o.done.size(), std::size_t(1));

    const Outcome kept = run({C(startupPacket({{"user", "u"}}, 196610)), S(loginOk())});
    QCOMPARE(kept.protocolMinor, 2);

    const Outcome v2 = run({C(startupPacket({{"user", "u"}}, 131072))});
    QVERIFY(v2.lost);
    QCOMPARE(v2.why, std::string("unsupported protocol version"));
}

void tst_PgTracker::simpleQuery_data()
{
    QTest::addColumn<QByteArray>("response");
    QTest::addColumn<QByteArray>("tag");
    QTest::addColumn<quint64>("rowsSent");
    QTest::addColumn<quint64>("rowsAffected");

    QTest::newRow("select") << rows(3) + complete("SELECT 3") << QByteArray("SELECT") << quint64(3)
                            << quint64(3);
    QTest::newRow("insert with oid")
        << complete("INSERT 0 5") << QByteArray("INSERT") << quint64(0) << quint64(5);
    QTest::newRow("update") << complete("UPDATE 12") << QByteArray("UPDATE") << quint64(0)
                            << quint64(12);
    QTest::newRow("delete") << complete("DELETE 0") << QByteArray("DELETE") << quint64(0)
                            << quint64(0);
    QTest::newRow("merge") << complete("MERGE 4") << QByteArray("MERGE") << quint64(0)
                           << quint64(4);
    QTest::newRow("fetch") << rows(2) + complete("FETCH 2") << QByteArray("FETCH") << quint64(2)
                           << quint64(2);
    QTest::newRow("move") << complete("MOVE 7") << QByteArray("MOVE") << quint64(0) << quint64(7);
    QTest::newRow("create table as")
        << complete("SELECT 10") << QByteArray("SELECT") << quint64(0) << quint64(10);
    QTest::newRow("two-word tag") << complete("CREATE TABLE") << QByteArray("CREATE TABLE")
                                  << quint64(0) << quint64(0);
    QTest::newRow("no count") << complete("BEGIN") << QByteArray("BEGIN") << quint64(0)
                              << quint64(0);
    QTest::newRow("count saturates") << complete("UPDATE 99999999999999999999999")
                                     << QByteArray("UPDATE") << quint64(0) << ~quint64(0);
}

void tst_PgTracker::simpleQuery()
{
    QFETCH(QByteArray, response);
    QFETCH(QByteArray, tag);
    QFETCH(quint64, rowsSent);
    QFETCH(quint64, rowsAffected);
    const Outcome o = run(login() << C(query("SOME STATEMENT")) << S(response + ready('T')));
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.done.size(), std::size_t(1));
    const PgCommandDone& d = o.done[0];
    QCOMPARE(d.kind, PgCommandKind::SimpleQuery);
    QCOMPARE(d.statement, std::string("SOME STATEMENT"));
    QCOMPARE(d.tag, tag.toStdString());
    QCOMPARE(d.rowsSent, rowsSent);
    QCOMPARE(d.rowsAffected, rowsAffected);
    QCOMPARE(d.startUs, qint64(3000));
    QCOMPARE(d.durationUs, qint64(1000));
    QCOMPARE(o.transactionStatus, 'T');
}

void tst_PgTracker::multiStatementQuery()
{
    const QByteArray text = "INSERT INTO t VALUES (1), (2); UPDATE t SET a = 3; SELECT * FROM t";
    // The server's answers arrive in two reads, the second in a later feed.
    const Outcome o =
        run(login() << C(query(text)) << S(complete("INSERT 0 2") + complete("UPDATE 2"))
                    << S(rows(2) + complete("SELECT 2") + ready()));
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.done.size(), std::size_t(1));
    QCOMPARE(o.done[0].statement, text.toStdString());
    QCOMPARE(o.done[0].rowsAffected, quint64(6));
    QCOMPARE(o.done[0].rowsSent, quint64(2));
    QCOMPARE(o.done[0].tag, std::string("INSERT"));
    QCOMPARE(o.done[0].durationUs, qint64(2000));
}

void tst_PgTracker::queryError()
{
    const Outcome o =
        run(login() << C(query("DELETE FROM a; SELECT * FROM nope; SELECT 1"))
                    << S(complete("DELETE 3") +
                         errorResponse("42P01", "relation \"nope\" does not exist") + ready('I'))
                    << C(query("SELECT 1")) << S(rows(1) + complete("SELECT 1") + ready()));
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.done.size(), std::size_t(2));
    QCOMPARE(o.done[0].rowsAffected, quint64(3));
    QCOMPARE(o.done[0].severity, std::string("ERROR"));
    QCOMPARE(o.done[0].sqlState, std::string("42P01"));
    QCOMPARE(o.done[0].errorMessage, std::string("relation \"nope\" does not exist"));
    QVERIFY(o.done[1].sqlState.empty());

    // A long message is kept up to its bound.
    const Outcome longer =
        run(login() << C(query("x")) << S(errorResponse("42601", QByteArray(3000, 'm')) + ready()));
    QCOMPARE(longer.done.size(), std::size_t(1));
    QCOMPARE(longer.done[0].errorMessage.size(), PgTracker::kMaxErrorMessage);
    QCOMPARE(longer.done[0].sqlState, std::string("42601"));
}

void tst_PgTracker::emptyQuery()
{
    const Outcome o = run(login() << C(query("")) << S(msg('I') + ready()) << C(query(" ;"))
                                  << S(msg('I') + ready()));
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.done.size(), std::size_t(2));
    QCOMPARE(o.done[0].statement, std::string());
    QCOMPARE(o.done[0].tag, std::string());
    QCOMPARE(o.done[1].statement, std::string(" ;"));
}

void tst_PgTracker::extendedNamedAndUnnamed()
{
    // A named statement kept across batches, the unnamed one replaced by each Parse, a named
    // portal and a statement closed.
    const Outcome o = run(
        login() << C(parse("s1", "SELECT a FROM t WHERE id = $1") + describe('S', "s1") + syncMsg())
                << S(msg('1') + msg('t', be(1, 2) + be(23, 4)) + rowDescription() + ready())
                << C(parse("", "UPDATE t SET a = $1") + bindMsg("", "") + execute() + syncMsg())
                << S(msg('1') + msg('2') + complete("UPDATE 4") + ready())
                << C(bindMsg("p1", "s1") + describe('P', "p1") + execute("p1") + syncMsg())
                << S(msg('2') + rowDescription() + msg('D', be(1, 2) + be(1, 4) + "1") +
                     complete("SELECT 1") + ready())
                << C(parse("", "DELETE FROM t") + bindMsg("", "") + execute() + bindMsg("", "s1") +
                     execute() + syncMsg())
                << S(msg('1') + msg('2') + complete("DELETE 2") + msg('2') + dataRow({"1"}) +
                     dataRow({"2"}) + complete("SELECT 2") + ready())
                << C(closeMsg('S', "s1") + syncMsg() + bindMsg("", "s1") + execute() + syncMsg())
                << S(msg('3') + ready() +
                     errorResponse("26000", "prepared statement \"s1\" does not exist") + ready()));
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.done.size(), std::size_t(5));
    QCOMPARE(o.done[0].kind, PgCommandKind::Execute);
    QCOMPARE(o.done[0].statement, std::string("UPDATE t SET a = $1"));
    QCOMPARE(o.done[0].rowsAffected, quint64(4));
    QCOMPARE(o.done[0].tag, std::string("UPDATE"));
    QCOMPARE(o.done[1].statement, std::string("SELECT a FROM t WHERE id = $1"));
    QCOMPARE(o.done[1].portal, std::string("p1"));
    QCOMPARE(o.done[1].rowsSent, quint64(1));
    QCOMPARE(o.done[2].statement, std::string("DELETE FROM t"));
    QCOMPARE(o.done[2].rowsAffected, quint64(2));
    QCOMPARE(o.done[3].statement, std::string("SELECT a FROM t WHERE id = $1"));
    QCOMPARE(o.done[3].rowsSent, quint64(2));
    // After the Close the name means nothing: the Execute reports the Bind's error.
    QCOMPARE(o.done[4].statement, std::string());
    QCOMPARE(o.done[4].sqlState, std::string("26000"));
}

void tst_PgTracker::pipelinedBatches()
{
    // Three batches sent at once before any answer, each with its own Sync.
    QByteArray batches;
    for (int i = 0; i < 3; ++i)
        batches += parse("", "INSERT INTO t VALUES ($1) -- " + QByteArray::number(i)) +
                   bindMsg("", "") + execute() + syncMsg();
    QByteArray answers;
    for (int i = 0; i < 3; ++i)
        answers +=
            msg('1') + msg('2') + complete("INSERT 0 " + QByteArray::number(i + 1)) + ready();
    const Outcome o = run(login() << C(batches) << S(answers.left(30)) << S(answers.mid(30)));
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.done.size(), std::size_t(3));
    for (int i = 0; i < 3; ++i) {
        QCOMPARE(o.done[i].statement,
                 ("INSERT INTO t VALUES ($1) -- " + QByteArray::number(i)).toStdString());
        QCOMPARE(o.done[i].rowsAffected, quint64(i + 1));
        QCOMPARE(o.done[i].startUs, qint64(3000));
    }
    QCOMPARE(o.done[0].durationUs, qint64(1000));
    QCOMPARE(o.done[2].durationUs, qint64(2000));
}

void tst_PgTracker::errorMidBatch()
{
    // One batch: an Execute that runs, a Parse that fails, then messages the server skips up to
    // the Sync. The error is reported on the Execute that followed the failed Parse; the Execute
    // after it never runs and is not reported. The next batch runs normally.
    const QByteArray batch = parse("", "SELECT 1") + bindMsg("", "") + execute() +
                             parse("", "SELEC 2") + bindMsg("", "") + execute() +
                             parse("", "SELECT 3") + bindMsg("", "") + execute() + syncMsg();
    const Outcome o =
        run(login() << C(batch)
                    << S(msg('1') + msg('2') + dataRow({"1"}) + complete("SELECT 1") +
                         errorResponse("42601", "syntax error at or near \"SELEC\"") + ready())
                    << C(parse("", "SELECT 4") + bindMsg("", "") + execute() + syncMsg())
                    << S(msg('1') + msg('2') + dataRow({"4"}) + complete("SELECT 1") + ready()));
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.done.size(), std::size_t(3));
    QCOMPARE(o.done[0].statement, std::string("SELECT 1"));
    QVERIFY(o.done[0].sqlState.empty());
    QCOMPARE(o.done[1].kind, PgCommandKind::Execute);
    QCOMPARE(o.done[1].statement, std::string("SELEC 2"));
    QCOMPARE(o.done[1].sqlState, std::string("42601"));
    QCOMPARE(o.done[1].rowsSent, quint64(0));
    QCOMPARE(o.done[2].statement, std::string("SELECT 4"));

    // An error while executing, and messages sent after the error but before the Sync: the
    // server skips them, so does the tracker.
    const Outcome late = run(
        login() << C(parse("", "SELECT 1/0") + bindMsg("", "") + execute() + msg('H'))
                << S(msg('1') + msg('2') + errorResponse("22012", "division by zero"))
                << C(bindMsg("", "") + execute() + query("SELECT 9") + syncMsg()) << S(ready('I'))
                << C(query("SELECT 5")) << S(rows(1) + complete("SELECT 1") + ready()));
    QVERIFY2(!late.lost, late.why.c_str());
    QCOMPARE(late.done.size(), std::size_t(2));
    QCOMPARE(late.done[0].sqlState, std::string("22012"));
    QCOMPARE(late.done[0].statement, std::string("SELECT 1/0"));
    QCOMPARE(late.done[1].statement, std::string("SELECT 5"));
}

void tst_PgTracker::errorWithoutExecute()
{
    // A statement refused at Parse in a batch without an Execute, and a Sync whose implicit
    // COMMIT fails: both reported as Extended entries.
    const Outcome o =
        run(login() << C(parse("bad", "SELEC 1") + describe('S', "bad") + syncMsg())
                    << S(errorResponse("42601", "syntax error") + ready())
                    << C(parse("", "INSERT INTO c VALUES (1)") + bindMsg("", "") + execute() +
                         syncMsg())
                    << S(msg('1') + msg('2') + complete("INSERT 0 1") +
                         errorResponse("23503", "violates foreign key constraint") + ready()));
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.done.size(), std::size_t(3));
    QCOMPARE(o.done[0].kind, PgCommandKind::Extended);
    QCOMPARE(o.done[0].statement, std::string("SELEC 1"));
    QCOMPARE(o.done[0].sqlState, std::string("42601"));
    QCOMPARE(o.done[1].kind, PgCommandKind::Execute);
    QVERIFY(o.done[1].sqlState.empty());
    QCOMPARE(o.done[2].kind, PgCommandKind::Extended);
    QCOMPARE(o.done[2].sqlState, std::string("23503"));
}

void tst_PgTracker::portalSuspended()
{
    // Execute with a row limit of 2 on a 3-row result: suspended, then executed again.
    const Outcome o = run(
        login() << C(parse("", "SELECT * FROM big") + bindMsg("", "") + execute("", 2) + syncMsg())
                << S(msg('1') + msg('2') + dataRow({"1"}) + dataRow({"2"}) + msg('s') + ready('T'))
                << C(execute("", 2) + syncMsg())
                << S(dataRow({"3"}) + complete("SELECT 3") + ready()));
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.done.size(), std::size_t(2));
    QVERIFY(o.done[0].portalSuspended);
    QCOMPARE(o.done[0].rowsSent, quint64(2));
    QCOMPARE(o.done[0].tag, std::string());
    QVERIFY(!o.done[1].portalSuspended);
    QCOMPARE(o.done[1].statement, std::string("SELECT * FROM big"));
    QCOMPARE(o.done[1].rowsSent, quint64(1));
    QCOMPARE(o.done[1].rowsAffected, quint64(3));
}

void tst_PgTracker::copyFromStdin()
{
    const QByteArray copyIn = msg('G', QByteArray(1, '\0') + be(2, 2) + be(0, 2) + be(0, 2));
    const Outcome o = run(
        login() << C(query("COPY t FROM STDIN")) << S(copyIn)
                << C(msg('d', "1\tone\n") + msg('d', "2\ttwo\n") + msg('d', "3\tthree\n"))
                << C(msg('c'))
                << S(complete("COPY 3") + ready())
                // A client giving up: CopyFail, and the server's error.
                << C(query("COPY t FROM STDIN")) << S(copyIn) << C(msg('f', cstr("cancelled")))
                << S(errorResponse("57014", "COPY from stdin failed: cancelled") + ready())
                // A Sync and a Flush during the copy: the server ignores them.
                << C(query("COPY t FROM STDIN")) << S(copyIn)
                << C(msg('d', "4\tfour\n") + syncMsg() + msg('H') + msg('c'))
                << S(complete("COPY 1") + ready())
                // Bad data: the server fails the copy at once and drops what the client still
                // sends of it.
                << C(query("COPY t FROM STDIN")) << S(copyIn) << C(msg('d', "x\n"))
                << S(errorResponse("22P02", "invalid input syntax for type integer") + ready())
                << C(msg('d', "5\tfive\n") + msg('c') + query("SELECT 1"))
                << S(rows(1) + complete("SELECT 1") + ready())
                // A CopyDone where no COPY runs: dropped too.
                << C(query("SELECT 2") + msg('c')) << S(rows(1) + complete("SELECT 1") + ready())
                << C(query("SELECT 3")) << S(rows(1) + complete("SELECT 1") + ready()));
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.done.size(), std::size_t(7));
    QCOMPARE(o.done[0].tag, std::string("COPY"));
    QCOMPARE(o.done[0].rowsAffected, quint64(3));
    QCOMPARE(o.done[0].durationUs, qint64(4000));
    QCOMPARE(o.done[1].sqlState, std::string("57014"));
    QCOMPARE(o.done[2].rowsAffected, quint64(1));
    QCOMPARE(o.done[3].sqlState, std::string("22P02"));
    QCOMPARE(o.done[4].statement, std::string("SELECT 1"));
    QCOMPARE(o.done[5].statement, std::string("SELECT 2"));
    QCOMPARE(o.done[6].statement, std::string("SELECT 3"));
    for (const PgCommandDone& d : o.done)
        QCOMPARE(d.kind, PgCommandKind::SimpleQuery);

    // Any other message during the copy would be read as part of it: no client sends one.
    const Outcome other =
        run(login() << C(query("COPY t FROM STDIN")) << S(copyIn) << C(query("SELECT 1")));
    QVERIFY(other.lost);
    QCOMPARE(other.why, std::string("client message during COPY"));
}

void tst_PgTracker::copyFromStdinExtended()
{
    // COPY through the extended protocol, as libpq's PQexecParams sends it: the batch ends in a
    // Sync that the server, already copying, ignores; the client sends a second one after its
    // CopyDone or CopyFail, and only that one gets a ReadyForQuery.
    const QByteArray copyIn = msg('G', QByteArray(1, '\0') + be(2, 2) + be(0, 2) + be(0, 2));
    const QByteArray batch = parse("", "COPY t FROM STDIN") + bindMsg("", "") + describe('P', "") +
                             execute() + syncMsg();
    const QByteArray started = msg('1') + msg('2') + msg('n') + copyIn;
    const Outcome o = run(
        login() << C(batch) << S(started)
                << C(msg('d', "1\tone\n") + msg('d', "2\ttwo\n") + msg('c') + syncMsg())
                << S(complete("COPY 2") + ready())
                // CopyFail: the error, then the second Sync's ReadyForQuery.
                << C(batch) << S(started)
                << C(msg('d', "3\tthree\n") + msg('f', cstr("cancelled")) + syncMsg())
                << S(errorResponse("57014", "COPY from stdin failed: cancelled"))
                << S(ready())
                // All sent before any answer, a Sync and a Flush amid the data.
                << C(batch + msg('d', "4\tfour\n") + syncMsg() + msg('H') + msg('c') + syncMsg())
                << S(started + complete("COPY 1") + ready())
                // Bad data: the server fails the copy, then drops all up to the next Sync.
                << C(batch) << S(started) << C(msg('d', "x\n"))
                << S(errorResponse("22P02", "invalid input syntax for type integer"))
                << C(msg('d', "5\tfive\n") + msg('c') + syncMsg())
                << S(ready())
                // And what follows pairs as usual.
                << C(parse("", "SELECT 1") + bindMsg("", "") + execute() + syncMsg())
                << S(msg('1') + msg('2') + dataRow({"1"}) + complete("SELECT 1") + ready()));
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.done.size(), std::size_t(5));
    for (std::size_t i = 0; i < 4; ++i) {
        QCOMPARE(o.done[i].kind, PgCommandKind::Execute);
        QCOMPARE(o.done[i].statement, std::string("COPY t FROM STDIN"));
    }
    QCOMPARE(o.done[0].rowsAffected, quint64(2));
    QVERIFY(o.done[0].sqlState.empty());
    QCOMPARE(o.done[1].sqlState, std::string("57014"));
    QCOMPARE(o.done[2].rowsAffected, quint64(1));
    QCOMPARE(o.done[3].sqlState, std::string("22P02"));
    QCOMPARE(o.done[4].statement, std::string("SELECT 1"));
    QCOMPARE(o.done[4].rowsSent, quint64(1));
    QCOMPARE(o.transactionStatus, 'I');

    // COPY TO STDOUT the same way: one Sync, answered after CopyDone and CommandComplete.
    const QByteArray copyOut = msg('H', QByteArray(1, '\0') + be(1, 2) + be(0, 2));
    const Outcome out =
        run(login() << C(parse("", "COPY t TO STDOUT") + bindMsg("", "") + execute() + syncMsg())
                    << S(msg('1') + msg('2') + copyOut + msg('d', "1\n") + msg('d', "2\n") +
                         msg('c') + complete("COPY 2") + ready())
                    << C(query("SELECT 1")) << S(rows(1) + complete("SELECT 1") + ready()));
    QVERIFY2(!out.lost, out.why.c_str());
    QCOMPARE(out.done.size(), std::size_t(2));
    QCOMPARE(out.done[0].rowsAffected, quint64(2));
    QCOMPARE(out.done[1].statement, std::string("SELECT 1"));
}

void tst_PgTracker::copyToStdout()
{
    const QByteArray copyOut = msg('H', QByteArray(1, '\0') + be(1, 2) + be(0, 2));
    const Outcome o =
        run(login() << C(query("COPY t TO STDOUT"))
                    << S(copyOut + msg('d', "1\n") + msg('d', "2\n") + notice("in the middle") +
                         msg('d', "3\n") + msg('c') + complete("COPY 3") + ready())
                    << C(query("SELECT 1")) << S(rows(1) + complete("SELECT 1") + ready()));
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.done.size(), std::size_t(2));
    QCOMPARE(o.done[0].rowsAffected, quint64(3));
    QCOMPARE(o.done[0].rowsSent, quint64(0));
    QCOMPARE(o.done[0].tag, std::string("COPY"));

    const Outcome stray =
        run(login() << C(query("SELECT 1")) << S(rows(1) + msg('d', "x") + complete("SELECT 1")));
    QVERIFY(stray.lost);
    QCOMPARE(stray.why, std::string("copy data outside COPY"));
}

void tst_PgTracker::copyBoth()
{
    const Outcome o = run(login() << C(query("START_REPLICATION 0/0"))
                                  << S(msg('W', QByteArray(1, '\0') + be(0, 2))));
    QVERIFY(o.lost);
    QCOMPARE(o.why, std::string("replication/copy both"));
    QVERIFY(o.done.empty());
}

void tst_PgTracker::asyncMessagesInterleaved()
{
    // Notices, notifications and parameter changes may come at any time, idle or mid-response.
    const Outcome o = run(
        login() << S(notification("jobs", "42") + parameterStatus("TimeZone", "UTC"))
                << C(query("SET application_name = 'worker'; SELECT 1"))
                << S(notice("one") + complete("SET") +
                     parameterStatus("application_name", "worker") + rowDescription() +
                     notification("jobs", "43") + dataRow({"1"}) + notice("two") +
                     complete("SELECT 1") + notification("jobs", "44") + ready())
                << S(notice("idle") + notification("jobs", "45"))
                << C(parse("", "SELECT 2") + bindMsg("", "") + execute() + syncMsg())
                << S(msg('1') + notice("x") + msg('2') + notification("c", "p") + dataRow({"2"}) +
                     complete("SELECT 1") + parameterStatus("is_superuser", "off") + ready()));
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.done.size(), std::size_t(2));
    QCOMPARE(o.done[0].rowsSent, quint64(1));
    QCOMPARE(o.done[0].tag, std::string("SET"));
    QCOMPARE(o.done[1].rowsSent, quint64(1));
    QCOMPARE(o.applicationName, std::string("worker"));

    // A server closing an idle session says why first.
    const Outcome closing =
        run(login() << S(errorResponse(
                "57P01", "terminating connection due to administrator command", "FATAL")));
    QVERIFY(!closing.lost);
}

void tst_PgTracker::functionCall()
{
    const QByteArray call = msg('F', be(1598, 4) + be(0, 2) + be(0, 2) + be(0, 2));
    const Outcome o =
        run(login() << C(call) << S(msg('V', be(4, 4) + "abcd") + ready()) << C(call)
                    << S(errorResponse("42883", "function does not exist") + ready()));
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.done.size(), std::size_t(2));
    QCOMPARE(o.done[0].kind, PgCommandKind::FunctionCall);
    QVERIFY(o.done[0].sqlState.empty());
    QCOMPARE(o.done[0].durationUs, qint64(1000));
    QCOMPARE(o.done[1].sqlState, std::string("42883"));
}

void tst_PgTracker::terminate()
{
    const Outcome o = run(login() << C(query("SELECT 1") + msg('X'))
                                  << S(rows(1) + complete("SELECT 1") + ready()));
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.done.size(), std::size_t(2));
    QCOMPARE(o.done[0].kind, PgCommandKind::Terminate);
    QCOMPARE(o.done[0].durationUs, qint64(0));
    QCOMPARE(o.done[1].kind, PgCommandKind::SimpleQuery);

    const Outcome after = run(login() << C(msg('X') + query("SELECT 1")));
    QVERIFY(after.lost);
    QCOMPARE(after.why, std::string("client message after Terminate"));
}

void tst_PgTracker::hugeDataRowSkipped()
{
    // A 20 MiB value and a 16 MiB + 1 query go through in uneven reads; what is kept stays small.
    PgTracker t;
    QByteArray opening = startupPacket({{"user", "u"}});
    t.feedClient(opening.constData(), std::size_t(opening.size()), 1);
    opening = loginOk();
    t.feedServer(opening.constData(), std::size_t(opening.size()), 2);

    QByteArray bigQuery = "SELECT '" + QByteArray(16 * 1024 * 1024 + 1, 'q') + "'";
    const QByteArray q = query(bigQuery);
    for (qsizetype at = 0; at < q.size(); at += 65536 + 3)
        t.feedClient(q.constData() + at, std::size_t(qMin<qsizetype>(65536 + 3, q.size() - at)), 3);
    QVERIFY(t.running());
    QCOMPARE(t.running()->statement.size(), PgTracker::kMaxStatement);
    QVERIFY(t.running()->statementCut);

    const QByteArray response = rowDescription() + dataRow({QByteArray(20 * 1024 * 1024, 'v')}) +
                                dataRow({"small"}) + complete("SELECT 2") + ready();
    for (qsizetype at = 0; at < response.size(); at += 65536 + 7)
        t.feedServer(response.constData() + at,
                     std::size_t(qMin<qsizetype>(65536 + 7, response.size() - at)), 4);
    QVERIFY2(!t.lost(), t.why().c_str());
    const auto done = t.takeDone();
    QCOMPARE(done.size(), std::size_t(1));
    QCOMPARE(done[0].rowsSent, quint64(2));
    QVERIFY(done[0].statementCut);

    // Past the 1 GiB a server may send in one message: lost, without reading the body.
    PgTracker u;
    const QByteArray start = startupPacket({{"user", "u"}});
    u.feedClient(start.constData(), std::size_t(start.size()), 1);
    u.feedServer(opening.constData(), std::size_t(opening.size()), 2);
    const QByteArray sel = query("SELECT x");
    u.feedClient(sel.constData(), std::size_t(sel.size()), 3);
    const QByteArray tooBig = 'D' + be(0x40000004, 4);
    u.feedServer(tooBig.constData(), std::size_t(tooBig.size()), 4);
    QVERIFY(u.lost());
    QCOMPARE(u.why(), std::string("server message length out of range"));
}

void tst_PgTracker::longStatementCut()
{
    const QByteArray text(PgTracker::kMaxStatement + 100, 's');
    const Outcome o =
        run(login() << C(query(text) + parse("n", text)) << S(complete("SET") + ready() + msg('1'))
                    << C(bindMsg("", "n") + execute() + syncMsg())
                    << S(msg('2') + complete("SET") + ready()));
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.done.size(), std::size_t(2));
    for (const PgCommandDone& d : o.done) {
        QVERIFY(d.statementCut);
        QCOMPARE(d.statement, text.left(PgTracker::kMaxStatement).toStdString());
    }
    const Outcome exact =
        run(login() << C(query(text.left(PgTracker::kMaxStatement))) << S(msg('I') + ready()));
    QVERIFY(!command(exact, 0).statementCut);
}

void tst_PgTracker::tooManyPending()
{
    QByteArray many;
    for (std::size_t i = 0; i < PgTracker::kMaxPending; ++i)
        many += query("SELECT 1");
    PgTracker t;
    const QByteArray opening = startupPacket({{"user", "u"}});
    const QByteArray ok = loginOk();
    t.feedClient(opening.constData(), std::size_t(opening.size()), 1);
    t.feedServer(ok.constData(), std::size_t(ok.size()), 1);
    t.feedClient(many.constData(), std::size_t(many.size()), 2);
    QVERIFY(!t.lost());
    QCOMPARE(t.pending(), PgTracker::kMaxPending);
    const QByteArray one = query("SELECT 1");
    t.feedClient(one.constData(), std::size_t(one.size()), 3);
    QVERIFY(t.lost());
    QCOMPARE(t.why(), std::string("too many commands in flight"));
    QCOMPARE(t.pending(), std::size_t(0));
    QVERIFY(!t.running());

    // Messages that are not commands have their own cap.
    PgTracker u;
    u.feedClient(opening.constData(), std::size_t(opening.size()), 1);
    u.feedServer(ok.constData(), std::size_t(ok.size()), 1);
    QByteArray describes;
    for (std::size_t i = 0; i <= PgTracker::kMaxQueued; ++i)
        describes += describe('S', "s");
    u.feedClient(describes.constData(), std::size_t(describes.size()), 2);
    QVERIFY(u.lost());
    QCOMPARE(u.why(), std::string("too many messages in flight"));
}

void tst_PgTracker::tooMuchTextInFlight()
{
    const QByteArray opening = startupPacket({{"user", "u"}});
    const QByteArray ok = loginOk();
    auto loggedIn = [&](PgTracker& t) {
        t.feedClient(opening.constData(), std::size_t(opening.size()), 1);
        t.feedServer(ok.constData(), std::size_t(ok.size()), 1);
    };
    // Distinct statements of kMaxStatement bytes, none answered yet: as many as kMaxQueuedText
    // holds, then one more.
    const std::size_t fit = PgTracker::kMaxQueuedText / PgTracker::kMaxStatement;
    auto text = [](std::size_t i) {
        const QByteArray n = QByteArray::number(qulonglong(i));
        return n + QByteArray(qsizetype(PgTracker::kMaxStatement) - n.size(), ' ');
    };
    QByteArray distinct;
    for (std::size_t i = 0; i < fit; ++i)
        distinct += parse("", text(i));
    PgTracker t;
    loggedIn(t);
    t.feedClient(distinct.constData(), std::size_t(distinct.size()), 2);
    QVERIFY2(!t.lost(), t.why().c_str());
    const QByteArray one = parse("", text(fit));
    t.feedClient(one.constData(), std::size_t(one.size()), 3);
    QVERIFY(t.lost());
    QCOMPARE(t.why(), std::string("too much statement text in flight"));

    // A batch that repeats its Parse (pgJDBC's executeBatch) holds the text once.
    QByteArray batch;
    for (std::size_t i = 0; i < fit + 100; ++i)
        batch += parse("", text(0)) + bindMsg("", "");
    PgTracker u;
    loggedIn(u);
    u.feedClient(batch.constData(), std::size_t(batch.size()), 2);
    QVERIFY2(!u.lost(), u.why().c_str());
}

void tst_PgTracker::preparedPastTheCap()
{
    // One named statement more than kMaxPrepared: the last is not remembered, so its Execute
    // reports no statement; all the earlier ones still report theirs. A Close makes room.
    QList<Chunk> chunks = login();
    for (std::size_t i = 0; i <= PgTracker::kMaxPrepared; i += 100) {
        QByteArray prepares;
        QByteArray answers;
        for (std::size_t j = i; j < i + 100 && j <= PgTracker::kMaxPrepared; ++j) {
            const QByteArray n = QByteArray::number(qulonglong(j));
            prepares += parse("s" + n, "SELECT " + n);
            answers += msg('1');
        }
        chunks << C(prepares + syncMsg()) << S(answers + ready());
    }
    const QByteArray last = "s" + QByteArray::number(qulonglong(PgTracker::kMaxPrepared));
    auto run3 = [](const QByteArray& a, const QByteArray& b, const QByteArray& c) {
        return bindMsg("", a) + execute() + bindMsg("", b) + execute() + bindMsg("", c) +
               execute() + syncMsg();
    };
    const QByteArray ran = msg('2') + dataRow({"1"}) + complete("SELECT 1");
    const Outcome o =
        runLong(chunks << C(run3("s0", last, "s1000")) << S(ran + ran + ran + ready())
                       << C(closeMsg('S', "s5") + parse("late", "SELECT 'late'") + syncMsg())
                       << S(msg('3') + msg('1') + ready()) << C(run3("late", "s5", "s6"))
                       << S(ran + errorResponse("26000", "gone") + ready()));
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.done.size(), std::size_t(5));
    QCOMPARE(o.done[0].statement, std::string("SELECT 0"));
    QCOMPARE(o.done[1].statement, std::string());
    QVERIFY(o.done[1].sqlState.empty());
    QCOMPARE(o.done[2].statement, std::string("SELECT 1000"));
    QCOMPARE(o.done[3].statement, std::string("SELECT 'late'"));
    QCOMPARE(o.done[4].statement, std::string());
    QCOMPARE(o.done[4].sqlState, std::string("26000"));
}

void tst_PgTracker::statementsForgotten()
{
    const Outcome o = run(
        login() << C(parse("s1", "SELECT 1") + syncMsg())
                << S(msg('1') + ready())
                // DISCARD ALL through the extended protocol, as a pooler may send it.
                << C(parse("", "DISCARD ALL") + bindMsg("", "") + execute() + syncMsg())
                << S(msg('1') + msg('2') + complete("DISCARD ALL") + ready())
                << C(bindMsg("", "s1") + execute() + syncMsg())
                << S(errorResponse("26000", "prepared statement \"s1\" does not exist") + ready())
                // CLOSE ALL closes the portals a Bind made too.
                << C(query("BEGIN")) << S(complete("BEGIN") + ready('T'))
                << C(parse("s2", "SELECT 2") + bindMsg("c", "s2") + execute("c", 1) + syncMsg())
                << S(msg('1') + msg('2') + dataRow({"2"}) + msg('s') + ready('T'))
                << C(query("CLOSE ALL")) << S(complete("CLOSE CURSOR ALL") + ready('T'))
                << C(execute("c") + syncMsg())
                << S(errorResponse("34000", "portal \"c\" does not exist") + ready('E'))
                // SQL DEALLOCATE of one name is not followed: s2 still reads as prepared.
                << C(query("ROLLBACK")) << S(complete("ROLLBACK") + ready('I'))
                << C(query("DEALLOCATE s2")) << S(complete("DEALLOCATE") + ready('I'))
                << C(bindMsg("", "s2") + execute() + syncMsg())
                << S(errorResponse("26000", "prepared statement \"s2\" does not exist") + ready()));
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.done.size(), std::size_t(9));
    QCOMPARE(o.done[0].tag, std::string("DISCARD ALL"));
    QCOMPARE(o.done[1].kind, PgCommandKind::Execute);
    QCOMPARE(o.done[1].statement, std::string());
    QCOMPARE(o.done[1].sqlState, std::string("26000"));
    QCOMPARE(o.done[3].statement, std::string("SELECT 2"));
    QVERIFY(o.done[3].portalSuspended);
    QCOMPARE(o.done[5].portal, std::string("c"));
    QCOMPARE(o.done[5].statement, std::string());
    QCOMPARE(o.done[5].sqlState, std::string("34000"));
    QCOMPARE(o.done[8].statement, std::string("SELECT 2"));
}

void tst_PgTracker::portalsDieWithTheTransaction()
{
    // A portal made by Bind lives until its transaction ends: the implicit one at the Sync, a
    // transaction block at its COMMIT. An Execute on it afterwards names no statement.
    const QByteArray gone = errorResponse("34000", "portal \"c\" does not exist");
    const Outcome o = run(login() << C(parse("s", "SELECT * FROM big") + bindMsg("c", "s") +
                                       execute("c", 1) + syncMsg())
                                  << S(msg('1') + msg('2') + dataRow({"1"}) + msg('s') + ready('I'))
                                  << C(execute("c", 1) + syncMsg()) << S(gone + ready('I'))
                                  << C(query("BEGIN")) << S(complete("BEGIN") + ready('T'))
                                  << C(bindMsg("c", "s") + execute("c", 1) + syncMsg())
                                  << S(msg('2') + dataRow({"1"}) + msg('s') + ready('T'))
                                  << C(execute("c", 1) + syncMsg())
                                  << S(dataRow({"2"}) + msg('s') + ready('T'))
                                  // The block commits and a new one begins: in a transaction again,
                                  // the portal gone all the same.
                                  << C(query("COMMIT; BEGIN"))
                                  << S(complete("COMMIT") + complete("BEGIN") + ready('T'))
                                  << C(execute("c", 1) + syncMsg()) << S(gone + ready('E')));
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.done.size(), std::size_t(7));
    QCOMPARE(o.done[0].statement, std::string("SELECT * FROM big"));
    QCOMPARE(o.done[1].statement, std::string());
    QCOMPARE(o.done[1].sqlState, std::string("34000"));
    QCOMPARE(o.done[3].statement, std::string("SELECT * FROM big"));
    QCOMPARE(o.done[4].statement, std::string("SELECT * FROM big"));
    QCOMPARE(o.done[4].rowsSent, quint64(1));
    QVERIFY(o.done[4].sqlState.empty());
    QCOMPARE(o.done[6].statement, std::string());
    QCOMPARE(o.done[6].sqlState, std::string("34000"));
}

void tst_PgTracker::lostOnGarbage_data()
{
    QTest::addColumn<QByteArray>("conversation");
    QTest::addColumn<QString>("why");
    auto conv = [](const QList<Chunk>& c) { return sg::test::encodeConversation(c); };
    const QByteArray opening = startupPacket({{"user", "u"}});
    QTest::newRow("http request") << conv({C("GET / HTTP/1.1\r\nHost: x\r\n\r\n")})
                                  << "startup packet too long";
    QTest::newRow("startup packet too long")
        << conv({C(be(10001, 4) + be(196608, 4))}) << "startup packet too long";
    QTest::newRow("startup packet too short") << conv({C(be(7, 4))}) << "malformed startup packet";
    QTest::newRow("startup without its terminator")
        << conv({C(be(16, 4) + be(196608, 4) + QByteArray("user\0u\0x", 8))})
        << "malformed StartupMessage";
    QTest::newRow("server speaks first")
        << conv({S("HTTP/1.1 200 OK\r\n\r\n")}) << "server message nobody asked for";
    QTest::newRow("odd answer to SSLRequest")
        << conv({C(sslRequest()), S("E")}) << "unexpected answer to SSLRequest";
    QTest::newRow("client before the SSL answer")
        << conv({C(sslRequest() + opening)})
        << "client spoke before the server answered its encryption request";
    QTest::newRow("unknown client message type")
        << conv(login() << C(msg('y', "x"))) << "unknown client message type";
    QTest::newRow("client length below 4")
        << conv(login() << C('Q' + be(3, 4))) << "client message length out of range";
    QTest::newRow("Sync with a body")
        << conv(login() << C(msg('S', "x"))) << "client message length out of range";
    QTest::newRow("huge Describe")
        << conv(login() << C('D' + be(20000, 4))) << "client message length out of range";
    QTest::newRow("password after the login")
        << conv(login() << C(password(cstr("x")))) << "password message after the login";
    QTest::newRow("unknown server message type")
        << conv(login() << C(query("SELECT 1")) << S(msg('?', "x")))
        << "unknown server message type";
    QTest::newRow("server length below 4")
        << conv(login() << C(query("SELECT 1")) << S('C' + be(2, 4)))
        << "server message length out of range";
    QTest::newRow("ReadyForQuery of 2 bytes")
        << conv(login() << C(query("SELECT 1")) << S(msg('Z', "II")))
        << "server message length out of range";
    QTest::newRow("answer nobody asked for")
        << conv(login() << S(complete("SELECT 1"))) << "server message nobody asked for";
    QTest::newRow("ParseComplete for a Query")
        << conv(login() << C(query("SELECT 1")) << S(msg('1'))) << "server message out of sequence";
    QTest::newRow("ready before authentication")
        << conv({C(opening), S(ready())}) << "ReadyForQuery before AuthenticationOk";
    QTest::newRow("unknown authentication request")
        << conv({C(opening), S(auth(99))}) << "unexpected authentication request";
    QTest::newRow("describe of neither kind")
        << conv(login() << C(describe('X', "s"))) << "malformed Describe";
    QTest::newRow("copy data during the login")
        << conv({C(opening + msg('d', "x"))}) << "copy data during the login";
}

void tst_PgTracker::lostOnGarbage()
{
    QFETCH(QByteArray, conversation);
    QFETCH(QString, why);
    QList<Chunk> chunks;
    QVERIFY(sg::test::decodeConversation(conversation, chunks));
    const Outcome o = run(chunks);
    QVERIFY(o.lost);
    QCOMPARE(QString::fromStdString(o.why), why);
    QVERIFY(o.done.empty());
    QCOMPARE(play(chunks << S(loginOk()) << C(query("SELECT 1"))), o); // it stays lost
}

void tst_PgTracker::running()
{
    PgTracker t;
    QVERIFY(!t.running());
    const QByteArray opening = startupPacket({{"user", "u"}});
    const QByteArray ok = loginOk();
    t.feedClient(opening.constData(), std::size_t(opening.size()), 1);
    t.feedServer(ok.constData(), std::size_t(ok.size()), 2);
    QVERIFY(!t.running());
    const QByteArray a = query("SELECT pg_sleep(10)");
    // A pipeline: the Execute's statement is known before its Parse is answered.
    const QByteArray b = parse("", "SELECT 2") + bindMsg("", "") + execute() + syncMsg();
    t.feedClient(a.constData(), 3, 100); // the first bytes date the command
    t.feedClient(a.constData() + 3, std::size_t(a.size() - 3), 200);
    t.feedClient(b.constData(), std::size_t(b.size()), 300);
    QVERIFY(t.running());
    QCOMPARE(t.running()->statement, std::string("SELECT pg_sleep(10)"));
    QCOMPARE(t.running()->startUs, qint64(100));
    QCOMPARE(t.pending(), std::size_t(2));
    const QByteArray r = rows(1) + complete("SELECT 1") + ready();
    t.feedServer(r.constData(), std::size_t(r.size()), 1100);
    QVERIFY(t.running());
    QCOMPARE(t.running()->kind, PgCommandKind::Execute);
    QCOMPARE(t.running()->statement, std::string("SELECT 2"));
    QCOMPARE(t.running()->startUs, qint64(300));
    const auto done = t.takeDone();
    QCOMPARE(done.size(), std::size_t(1));
    QCOMPARE(done[0].durationUs, qint64(1000));
}

QTEST_GUILESS_MAIN(tst_PgTracker)
#include "tst_pgtracker.moc"
