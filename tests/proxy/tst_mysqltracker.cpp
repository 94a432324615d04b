// MySqlCommandTracker on hand-built exchanges (each fed as written, one byte at a time and in
// 3-byte pieces, which must all give the same result) and on the conversation recorded from a
// real MariaDB server (tests/data/mysql/queries.conv), started once MySqlInspector saw the
// login succeed.
#include "mysqlconversation.h"
#include "proxy/mysqlinspector.h"
#include "proxy/mysqltracker.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using sg::MySqlCommandDone;
using sg::MySqlCommandTracker;
using sg::MySqlInspector;
using sg::test::Chunk;
using sg::test::le;
using sg::test::lenenc;
using sg::test::packet;

namespace {

constexpr quint64 kProtocol41 = 0x200;
constexpr quint64 kCompress = 0x20;
constexpr quint64 kSecureConnection = 0x8000;
constexpr quint64 kDeprecateEof = 0x01000000;
constexpr quint64 kCaps = kProtocol41 | kSecureConnection;

constexpr quint8 kQuit = 0x01, kInitDb = 0x02, kQuery = 0x03, kFieldList = 0x04, kPing = 0x0E,
                 kChangeUser = 0x11, kPrepare = 0x16, kExecute = 0x17, kClose = 0x19, kFetch = 0x1C;

QByteArray command(quint8 cmd, const QByteArray& arg = {})
{
    return packet(0, char(cmd) + arg);
}

QByteArray ok(quint8 seq, quint64 affected = 0, quint16 status = 0x0002)
{
    return packet(seq, char(0) + lenenc(affected) + lenenc(0) + le(status, 2) + le(0, 2));
}

QByteArray eof(quint8 seq, quint16 status = 0x0002)
{
    return packet(seq, char(0xFE) + le(0, 2) + le(status, 2));
}

// The OK packet that ends rows with CLIENT_DEPRECATE_EOF.
QByteArray okEof(quint8 seq, quint16 status = 0x0002)
{
    return packet(seq, char(0xFE) + lenenc(0) + lenenc(0) + le(status, 2) + le(0, 2));
}

QByteArray err(quint8 seq, quint16 code, const QByteArray& state, const QByteArray& message)
{
    QByteArray p = char(0xFF) + le(code, 2);
    if (!state.isEmpty())
        p += '#' + state;
    return packet(seq, p + message);
}

QByteArray columnDef(quint8 seq, const QByteArray& name)
{
    auto str = [](const QByteArray& s) { return lenenc(quint64(s.size())) + s; };
    return packet(seq, str("def") + str("db") + str("t") + str("t") + str(name) + str(name) +
                           char(0x0C) + le(0x21, 2) + le(11, 4) + char(3) + le(0, 2) + char(0) +
                           le(0, 2));
}

QByteArray textRow(quint8 seq, const QList<QByteArray>& values)
{
    QByteArray p;
    for (const QByteArray& v : values)
        p += v.isNull() ? QByteArray(1, char(0xFB)) : lenenc(quint64(v.size())) + v;
    return packet(seq, p);
}

// A text result set of one column "a"; returns the next sequence number through seq.
QByteArray resultSet(quint8& seq, const QList<QByteArray>& rows, bool deprecateEof = false,
                     quint16 endStatus = 0x0002)
{
    QByteArray out = packet(seq++, lenenc(1));
    out += columnDef(seq++, "a");
    if (!deprecateEof)
        out += eof(seq++);
    for (const QByteArray& r : rows)
        out += textRow(seq++, {r});
    out += deprecateEof ? okEof(seq++, endStatus) : eof(seq++, endStatus);
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

struct Outcome
{
    std::vector<MySqlCommandDone> done;
    bool lost = false;
    std::string why;
    std::string schema;
};

// Feeds the chunks in pieces of `piece` bytes (0: each chunk whole); chunk i is fed at time
// (i + 1) * 1000 us, draining after each feed as a relay does.
Outcome play(const QList<Chunk>& chunks, quint64 caps, const std::string& schema, int piece)
{
    MySqlCommandTracker t(caps, caps, schema);
    Outcome o;
    qint64 now = 0;
    for (const Chunk& c : chunks) {
        now += 1000;
        const qsizetype step = piece == 0 ? qMax<qsizetype>(1, c.bytes.size()) : piece;
        for (qsizetype i = 0; i < c.bytes.size(); i += step) {
            const qsizetype n = qMin(step, c.bytes.size() - i);
            if (c.fromClient)
                t.feedClient(c.bytes.constData() + i, std::size_t(n), now);
            else
                t.feedServer(c.bytes.constData() + i, std::size_t(n), now);
            for (MySqlCommandDone& d : t.takeDone())
                o.done.push_back(std::move(d));
        }
    }
    o.lost = t.lost();
    o.why = t.why();
    o.schema = t.schema();
    return o;
}

} // namespace

class tst_MySqlTracker : public QObject
{
    Q_OBJECT

private:
    // Plays whole, byte by byte and in 3-byte pieces; all three must agree.
    Outcome run(const QList<Chunk>& chunks, quint64 caps = kCaps, const std::string& schema = {})
    {
        const Outcome whole = play(chunks, caps, schema, 0);
        for (int piece : {1, 3}) {
            const Outcome split = play(chunks, caps, schema, piece);
            if (split.done != whole.done || split.lost != whole.lost || split.why != whole.why ||
                split.schema != whole.schema) {
                QTest::qFail(
                    qPrintable(
                        QStringLiteral("fed in %1-byte pieces the result differs").arg(piece)),
                    __FILE__, __LINE__);
            }
        }
        return whole;
    }

private slots:
    void recordedQueries();
    void okWithAffectedRows();
    void errWithSqlState();
    void resultSetAndSchema();
    void multiResult();
    void deprecateEofResultSet();
    void preparedStatement();
    void preparedWithCursor();
    void loadDataLocal();
    void continuationRows();
    void longStatementCut();
    void pipelined();
    void tooManyPending();
    void fieldListAndPing();
    void changeUser();
    void hugeResultIsCounted();
    void lostOnCompression();
    void lostOnGarbage_data();
    void lostOnGarbage();
    void running();
};

void tst_MySqlTracker::recordedQueries()
{
    const QString dir = QStringLiteral(SG_TEST_DATA_DIR "/mysql/");
    QList<Chunk> chunks;
    QString error;
    QVERIFY2(sg::test::readConversation(dir + "queries.conv", chunks, &error), qPrintable(error));
    QFile jsonFile(dir + "queries.json");
    QVERIFY(jsonFile.open(QIODevice::ReadOnly));
    const QJsonObject known = QJsonDocument::fromJson(jsonFile.readAll()).object();

    // The inspector reads the login; the tracker takes over with the first chunk after it.
    MySqlInspector inspector;
    qsizetype first = 0;
    while (first < chunks.size() && inspector.login() == MySqlInspector::Login::Unknown) {
        const Chunk& c = chunks[first++];
        inspector.feed(c.fromClient ? MySqlInspector::Direction::ClientToServer
                                    : MySqlInspector::Direction::ServerToClient,
                       c.bytes.constData(), std::size_t(c.bytes.size()), 0);
    }
    QCOMPARE(inspector.login(), MySqlInspector::Login::Succeeded);
    const QList<Chunk> after = chunks.mid(first);
    const quint64 caps = inspector.clientCapabilities() & inspector.serverCapabilities();
    const Outcome o = run(after, caps, known.value("database").toString().toStdString());

    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(qint64(o.done.size()), known.value("commands").toInteger());
    struct Want
    {
        quint8 command;
        const char* statement;
        const char* schema;
        quint64 rows;
        quint64 affected;
    };
    // tst_mysqlcapture's "several queries and use": the client turns `use sgtest` into
    // COM_INIT_DB and asks for DATABASE() first.
    const Want want[] = {
        {kQuery, "SELECT CONNECTION_ID(), VERSION()", "", 1, 0},
        {kQuery, "SELECT DATABASE()", "", 1, 0},
        {kInitDb, "sgtest", "", 0, 0},
        {kQuery, "CREATE TABLE IF NOT EXISTS t (a INT)", "sgtest", 0, 0},
        {kQuery, "INSERT INTO t VALUES (1),(2)", "sgtest", 0, 2},
        {kQuery, "SELECT SUM(a) FROM t", "sgtest", 1, 0},
        {kQuery, "DROP TABLE t", "sgtest", 0, 0},
        {kQuit, "", "sgtest", 0, 0},
    };
    QCOMPARE(o.done.size(), std::size(want));
    for (std::size_t i = 0; i < o.done.size(); ++i) {
        const MySqlCommandDone& d = o.done[i];
        QCOMPARE(d.command, want[i].command);
        QCOMPARE(d.statement, std::string(want[i].statement));
        QCOMPARE(d.schema, std::string(want[i].schema));
        QCOMPARE(d.rowsSent, want[i].rows);
        QCOMPARE(d.rowsAffected, want[i].affected);
        QCOMPARE(d.errorCode, quint16(0));
        QVERIFY(d.durationUs >= 0);
    }
    QCOMPARE(o.done.back().command,
             known.value("last_command").toString() == "COM_QUIT" ? kQuit : quint8(0xFF));
    QCOMPARE(o.schema, std::string("sgtest"));
}

void tst_MySqlTracker::okWithAffectedRows()
{
    const Outcome o = run({C(command(kQuery, "UPDATE t SET a = 1")), S(ok(1, 300))});
    QVERIFY(!o.lost);
    QCOMPARE(o.done.size(), std::size_t(1));
    QCOMPARE(o.done[0].statement, std::string("UPDATE t SET a = 1"));
    QCOMPARE(o.done[0].rowsAffected, quint64(300));
    QCOMPARE(o.done[0].rowsSent, quint64(0));
    QCOMPARE(o.done[0].startUs, qint64(1000));
    QCOMPARE(o.done[0].durationUs, qint64(1000));
}

void tst_MySqlTracker::errWithSqlState()
{
    const Outcome o = run({C(command(kQuery, "SELECT * FROM nope")),
                           S(err(1, 1146, "42S02", "Table 'db.nope' doesn't exist"))});
    QVERIFY(!o.lost);
    QCOMPARE(o.done.size(), std::size_t(1));
    QCOMPARE(o.done[0].errorCode, quint16(1146));
    QCOMPARE(o.done[0].sqlState, std::string("42S02"));
    QCOMPARE(o.done[0].errorMessage, std::string("Table 'db.nope' doesn't exist"));

    // A long message is kept up to its bound.
    const Outcome longer =
        run({C(command(kQuery, "x")), S(err(1, 1064, "42000", QByteArray(2000, 'm')))});
    QCOMPARE(longer.done.size(), std::size_t(1));
    QCOMPARE(longer.done[0].errorMessage.size(), MySqlCommandTracker::kMaxErrorMessage);
}

void tst_MySqlTracker::resultSetAndSchema()
{
    quint8 seq = 1;
    const QByteArray rows = resultSet(seq, {"1", "2", QByteArray(), "4"});
    const Outcome o = run(
        {C(command(kQuery, "  use `my``db` ;")), S(ok(1)), C(command(kQuery, "SELECT a FROM t")),
         S(rows), C(command(kInitDb, "other")), S(ok(1)), C(command(kQuery, "USE failing")),
         S(err(1, 1049, "42000", "no")), C(command(kQuery, "SELECT 1"))},
        kCaps, "start");
    QVERIFY(!o.lost);
    QCOMPARE(o.done.size(), std::size_t(4));
    QCOMPARE(o.done[0].schema, std::string("start"));
    QCOMPARE(o.done[1].schema, std::string("my`db"));
    QCOMPARE(o.done[1].rowsSent, quint64(4));
    QCOMPARE(o.done[2].statement, std::string("other"));
    QCOMPARE(o.done[3].schema, std::string("other"));
    QCOMPARE(o.schema, std::string("other"));
}

void tst_MySqlTracker::multiResult()
{
    // CALL p(): two result sets then the procedure's OK; each terminator says more follows.
    quint8 seq = 1;
    QByteArray response = resultSet(seq, {"a", "b"}, false, 0x000A);
    response += resultSet(seq, {"c"}, false, 0x000A);
    response += ok(seq++, 0);
    const QByteArray multi = ok(1, 3, 0x000A) + ok(2, 4, 0x0002);
    const Outcome o = run({C(command(kQuery, "CALL p()")), S(response),
                           C(command(kQuery, "UPDATE a; UPDATE b")), S(multi)});
    QVERIFY(!o.lost);
    QCOMPARE(o.done.size(), std::size_t(2));
    QCOMPARE(o.done[0].rowsSent, quint64(3));
    QCOMPARE(o.done[1].rowsAffected, quint64(7));
    QCOMPARE(o.done[1].startUs, qint64(3000));
    QCOMPARE(o.done[1].durationUs, qint64(1000));

    // An error in the second statement ends the response.
    const Outcome e = run(
        {C(command(kQuery, "DELETE a; bad")), S(ok(1, 2, 0x000A) + err(2, 1064, "42000", "x"))});
    QCOMPARE(e.done.size(), std::size_t(1));
    QCOMPARE(e.done[0].rowsAffected, quint64(2));
    QCOMPARE(e.done[0].errorCode, quint16(1064));
}

void tst_MySqlTracker::deprecateEofResultSet()
{
    quint8 seq = 1;
    const QByteArray rows = resultSet(seq, {"1", "2", "3"}, true);
    const Outcome o =
        run({C(command(kQuery, "SELECT a FROM t")), S(rows), C(command(kQuery, "DO 1")), S(ok(1))},
            kCaps | kDeprecateEof);
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.done.size(), std::size_t(2));
    QCOMPARE(o.done[0].rowsSent, quint64(3));
    QCOMPARE(o.done[1].statement, std::string("DO 1"));

    // The same bytes read without DEPRECATE_EOF agreed are not the protocol.
    const Outcome wrong = run({C(command(kQuery, "SELECT a FROM t")), S(rows)});
    QVERIFY(wrong.lost);
}

void tst_MySqlTracker::preparedStatement()
{
    for (bool deprecateEof : {false, true}) {
        const QByteArray text = "SELECT a, b FROM t WHERE id = ?";
        // stmt_id 7, 2 columns, 1 parameter.
        QByteArray prepared =
            packet(1, char(0) + le(7, 4) + le(2, 2) + le(1, 2) + char(0) + le(0, 2));
        quint8 seq = 2;
        prepared += columnDef(seq++, "?");
        if (!deprecateEof)
            prepared += eof(seq++);
        prepared += columnDef(seq++, "a");
        prepared += columnDef(seq++, "b");
        if (!deprecateEof)
            prepared += eof(seq++);

        // Binary rows: 0x00 header, NULL bitmap, values.
        seq = 1;
        QByteArray executed = packet(seq++, lenenc(2));
        executed += columnDef(seq++, "a");
        executed += columnDef(seq++, "b");
        if (!deprecateEof)
            executed += eof(seq++);
        for (int i = 0; i < 3; ++i)
            executed += packet(seq++, QByteArray(1, '\0') + char(0) + le(i, 4) + le(i, 4));
        executed += deprecateEof ? okEof(seq++) : eof(seq++);

        const QByteArray execute = command(kExecute, le(7, 4) + char(0) + le(1, 4) + char(0) +
                                                         char(1) + le(3, 2) + le(42, 4));
        const quint64 caps = kCaps | (deprecateEof ? kDeprecateEof : 0);
        const Outcome o = run({C(command(kPrepare, text)), S(prepared), C(execute), S(executed),
                               C(command(kClose, le(7, 4))), C(execute),
                               S(err(1, 1243, "HY000", "Unknown prepared statement handler"))},
                              caps);
        QVERIFY2(!o.lost, o.why.c_str());
        QCOMPARE(o.done.size(), std::size_t(4));
        QCOMPARE(o.done[0].command, kPrepare);
        QCOMPARE(o.done[0].statement, text.toStdString());
        QCOMPARE(o.done[1].command, kExecute);
        QCOMPARE(o.done[1].statement, text.toStdString());
        QCOMPARE(o.done[1].rowsSent, quint64(3));
        QCOMPARE(o.done[2].command, kClose);
        QCOMPARE(o.done[2].durationUs, qint64(0));
        // After the close the id means nothing any more.
        QCOMPARE(o.done[3].command, kExecute);
        QCOMPARE(o.done[3].statement, std::string());
        QCOMPARE(o.done[3].errorCode, quint16(1243));
    }
}

void tst_MySqlTracker::preparedWithCursor()
{
    // Prepare without params or columns info, execute with a read-only cursor, fetch twice.
    const QByteArray prepared =
        packet(1, char(0) + le(1, 4) + le(1, 2) + le(0, 2) + char(0) + le(0, 2)) +
        columnDef(2, "a") + eof(3);
    const QByteArray executed = packet(1, lenenc(1)) + columnDef(2, "a") + eof(3, 0x0042);
    const QByteArray row = QByteArray(1, '\0') + char(0) + le(5, 4);
    const Outcome o =
        run({C(command(kPrepare, "SELECT a FROM t")), S(prepared),
             C(command(kExecute, le(1, 4) + char(1) + le(1, 4))), S(executed),
             C(command(kFetch, le(1, 4) + le(2, 4))),
             S(packet(1, row) + packet(2, row) + eof(3, 0x0042)),
             C(command(kFetch, le(1, 4) + le(2, 4))), S(packet(1, row) + eof(2, 0x0082))});
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.done.size(), std::size_t(4));
    QCOMPARE(o.done[1].rowsSent, quint64(0));
    QCOMPARE(o.done[1].statement, std::string("SELECT a FROM t"));
    QCOMPARE(o.done[2].rowsSent, quint64(2));
    QCOMPARE(o.done[3].rowsSent, quint64(1));
}

void tst_MySqlTracker::loadDataLocal()
{
    // 300 file packets: the client's sequence numbers wrap through 0 and must not be read as
    // commands.
    QByteArray file;
    quint8 seq = 2;
    for (int i = 0; i < 300; ++i)
        file += packet(seq++, "1\t2\n3\t4\n");
    file += packet(seq++, {});
    const Outcome o = run({C(command(kQuery, "LOAD DATA LOCAL INFILE 'x.tsv' INTO TABLE t")),
                           S(packet(1, char(0xFB) + QByteArray("x.tsv"))), C(file), S(ok(seq, 600)),
                           C(command(kPing)), S(ok(1))});
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.done.size(), std::size_t(2));
    QCOMPARE(o.done[0].rowsAffected, quint64(600));
    QCOMPARE(o.done[1].command, kPing);
}

void tst_MySqlTracker::continuationRows()
{
    // A row of exactly 0xFFFFFF bytes goes on in an empty packet; a larger one continues with
    // bytes that must not be read as a packet header byte (0xFE / 0xFF here).
    QByteArray big(0xFFFFFF, 'x');
    big[0] = char(0xFD);
    QByteArray response = packet(1, lenenc(1)) + columnDef(2, "blob") + eof(3);
    response += packet(4, big) + packet(5, {});
    response += packet(6, big) + packet(7, QByteArray(1, char(0xFE)) + "tail");
    response += packet(8, big) + packet(9, QByteArray(3, char(0xFF)));
    response += eof(10);
    MySqlCommandTracker t(kCaps, kCaps, {});
    const QByteArray cmd = command(kQuery, "SELECT blob FROM t");
    t.feedClient(cmd.constData(), std::size_t(cmd.size()), 1);
    // Fed in uneven pieces; only whole and one piece size here (1-byte feeding of 50 MB is slow).
    const qsizetype step = 65536 + 7;
    for (qsizetype i = 0; i < response.size(); i += step)
        t.feedServer(response.constData() + i, std::size_t(qMin(step, response.size() - i)), 2);
    QVERIFY2(!t.lost(), t.why().c_str());
    const auto done = t.takeDone();
    QCOMPARE(done.size(), std::size_t(1));
    QCOMPARE(done[0].rowsSent, quint64(3));

    // A command split over two packets (0xFFFFFF + rest): one statement, cut to the bound.
    QByteArray query(0xFFFFFF + 10, 'q');
    query[0] = char(kQuery);
    const QByteArray twoPackets =
        packet(0, query.left(0xFFFFFF)) + packet(1, query.mid(0xFFFFFF)) + command(kPing);
    MySqlCommandTracker u(kCaps, kCaps, {});
    u.feedClient(twoPackets.constData(), std::size_t(twoPackets.size()), 1);
    QVERIFY2(!u.lost(), u.why().c_str());
    QVERIFY(u.running());
    QVERIFY(u.running()->statementCut);
    QCOMPARE(u.running()->statement.size(), MySqlCommandTracker::kMaxStatement);
    const QByteArray answers = ok(2) + ok(1);
    u.feedServer(answers.constData(), std::size_t(answers.size()), 2);
    const auto uDone = u.takeDone();
    QCOMPARE(uDone.size(), std::size_t(2));
    QCOMPARE(uDone[1].command, kPing);
}

void tst_MySqlTracker::longStatementCut()
{
    const QByteArray text(MySqlCommandTracker::kMaxStatement + 100, 's');
    const Outcome o = run({C(command(kQuery, text)), S(ok(1))});
    QCOMPARE(o.done.size(), std::size_t(1));
    QVERIFY(o.done[0].statementCut);
    QCOMPARE(o.done[0].statement, text.left(MySqlCommandTracker::kMaxStatement).toStdString());
    const Outcome exact =
        run({C(command(kQuery, text.left(MySqlCommandTracker::kMaxStatement))), S(ok(1))});
    QVERIFY(!exact.done.at(0).statementCut);
}

void tst_MySqlTracker::pipelined()
{
    quint8 seq = 1;
    const QByteArray rows = resultSet(seq, {"1", "2"});
    const Outcome o = run({C(command(kQuery, "SELECT a FROM t") + command(kQuery, "USE b")),
                           C(command(kQuery, "DELETE FROM t")), S(rows), S(ok(1)), S(ok(1, 9))});
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.done.size(), std::size_t(3));
    QCOMPARE(o.done[0].statement, std::string("SELECT a FROM t"));
    QCOMPARE(o.done[0].rowsSent, quint64(2));
    QCOMPARE(o.done[0].startUs, qint64(1000));
    QCOMPARE(o.done[0].durationUs, qint64(2000));
    QCOMPARE(o.done[1].statement, std::string("USE b"));
    QCOMPARE(o.done[1].startUs, qint64(1000));
    QCOMPARE(o.done[1].durationUs, qint64(3000));
    // The server ran the DELETE after the USE.
    QCOMPARE(o.done[2].schema, std::string("b"));
    QCOMPARE(o.done[2].rowsAffected, quint64(9));
}

void tst_MySqlTracker::tooManyPending()
{
    QByteArray many;
    for (std::size_t i = 0; i < MySqlCommandTracker::kMaxPending; ++i)
        many += command(kPing);
    const Outcome fine = run({C(many)});
    QVERIFY(!fine.lost);
    const Outcome o = run({C(many + command(kPing))});
    QVERIFY(o.lost);
    QCOMPARE(o.why, std::string("too many commands in flight"));
}

void tst_MySqlTracker::fieldListAndPing()
{
    const Outcome o =
        run({C(command(kFieldList, QByteArray("t") + '\0')),
             S(columnDef(1, "a") + columnDef(2, "b") + eof(3)), C(command(kPing)), S(ok(1)),
             C(command(0x09)), S(packet(1, "Uptime: 5  Threads: 1")), C(command(kQuit))});
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.done.size(), std::size_t(4));
    QCOMPARE(o.done[0].command, kFieldList);
    QCOMPARE(o.done[0].rowsSent, quint64(0));
    QCOMPARE(o.done[2].command, quint8(0x09));
    QCOMPARE(o.done[3].command, kQuit);
}

void tst_MySqlTracker::changeUser()
{
    const QByteArray auth(20, 'z');
    const QByteArray payload = QByteArray("bob") + '\0' + char(auth.size()) + auth +
                               QByteArray("newdb") + '\0' + le(0x21, 2) +
                               QByteArray("mysql_native_password") + '\0';
    const QByteArray authSwitch = packet(1, char(0xFE) + QByteArray("mysql_native_password") +
                                                '\0' + QByteArray(20, 'n') + '\0');
    const Outcome o =
        run({C(command(kChangeUser, payload)), S(authSwitch), C(packet(2, QByteArray(20, 'r'))),
             S(ok(3)), C(command(kQuery, "SELECT 1"))},
            kCaps, "old");
    QVERIFY2(!o.lost, o.why.c_str());
    QCOMPARE(o.done.size(), std::size_t(1));
    QCOMPARE(o.done[0].command, kChangeUser);
    QCOMPARE(o.done[0].schema, std::string("old"));
    QCOMPARE(o.schema, std::string("newdb"));

    const Outcome refused =
        run({C(command(kChangeUser, payload)), S(err(1, 1045, "28000", "Access denied"))}, kCaps,
            "old");
    QCOMPARE(refused.done.at(0).errorCode, quint16(1045));
    QCOMPARE(refused.schema, std::string("old"));
}

void tst_MySqlTracker::hugeResultIsCounted()
{
    // A million rows go through the same small buffers: fed in 64 KiB reads, nothing grows.
    constexpr int kRows = 1000000;
    MySqlCommandTracker t(kCaps, kCaps, {});
    const QByteArray cmd = command(kQuery, "SELECT a FROM big");
    t.feedClient(cmd.constData(), std::size_t(cmd.size()), 1);
    QByteArray head = packet(1, lenenc(1)) + columnDef(2, "a") + eof(3);
    t.feedServer(head.constData(), std::size_t(head.size()), 2);
    QByteArray block;
    quint8 seq = 4;
    int fed = 0;
    while (fed < kRows) {
        block.clear();
        for (int i = 0; i < 4096 && fed < kRows; ++i, ++fed)
            block += textRow(seq++, {QByteArray::number(fed) + QByteArray(40, 'v')});
        t.feedServer(block.constData(), std::size_t(block.size()), 3);
    }
    const QByteArray end = eof(seq);
    t.feedServer(end.constData(), std::size_t(end.size()), 4);
    QVERIFY2(!t.lost(), t.why().c_str());
    const auto done = t.takeDone();
    QCOMPARE(done.size(), std::size_t(1));
    QCOMPARE(done[0].rowsSent, quint64(kRows));
}

void tst_MySqlTracker::lostOnCompression()
{
    MySqlCommandTracker t(kCaps | kCompress, kCaps | kCompress, {});
    QVERIFY(t.lost());
    QCOMPARE(t.why(), std::string("compressed protocol"));
    const QByteArray cmd = command(kQuery, "SELECT 1");
    t.feedClient(cmd.constData(), std::size_t(cmd.size()), 1);
    QVERIFY(t.takeDone().empty());
    QVERIFY(!t.running());

    // Compression offered by one side only is not in use.
    MySqlCommandTracker oneSided(kCaps | kCompress, kCaps, {});
    QVERIFY(!oneSided.lost());
    oneSided.feedClient(cmd.constData(), std::size_t(cmd.size()), 1);
    const QByteArray answer = ok(1);
    oneSided.feedServer(answer.constData(), std::size_t(answer.size()), 2);
    QCOMPARE(oneSided.takeDone().size(), std::size_t(1));
}

void tst_MySqlTracker::lostOnGarbage_data()
{
    QTest::addColumn<QByteArray>("conversation");
    QTest::addColumn<QString>("why");
    auto conv = [](const QList<Chunk>& c) { return sg::test::encodeConversation(c); };
    QTest::newRow("http request") << conv({C("GET / HTTP/1.1\r\nHost: x\r\n\r\n")})
                                  << "client packet out of sequence";
    QTest::newRow("unknown command byte") << conv({C(command(0x77, "x"))}) << "unknown command";
    QTest::newRow("binlog dump") << conv({C(command(0x12, le(4, 4) + le(0, 2) + le(1, 4)))})
                                 << "binlog dump";
    QTest::newRow("register replica")
        << conv({C(command(0x15, QByteArray(20, '\0')))}) << "replica registration";
    QTest::newRow("server speaks first")
        << conv({S("HTTP/1.1 200 OK\r\n\r\n")}) << "server packet nobody asked for";
    QTest::newRow("bad column count")
        << conv({C(command(kQuery, "SELECT 1")), S(packet(1, "\xFC\x01"))}) << "malformed response";
    QTest::newRow("no EOF after columns")
        << conv({C(command(kQuery, "SELECT 1")),
                 S(packet(1, lenenc(1)) + columnDef(2, "a") + textRow(3, {"1"}))})
        << "missing EOF after column definitions";
    QTest::newRow("empty command") << conv({C(packet(0, {}))}) << "empty command packet";
}

void tst_MySqlTracker::lostOnGarbage()
{
    QFETCH(QByteArray, conversation);
    QFETCH(QString, why);
    QList<Chunk> chunks;
    QVERIFY(sg::test::decodeConversation(conversation, chunks));
    const Outcome o = run(chunks);
    QVERIFY(o.lost);
    QCOMPARE(QString::fromStdString(o.why), why);
    QVERIFY(o.done.empty());
}

void tst_MySqlTracker::running()
{
    MySqlCommandTracker t(kCaps, kCaps, "db");
    QVERIFY(!t.running());
    const QByteArray a = command(kQuery, "SELECT SLEEP(10)");
    const QByteArray b = command(kPing);
    t.feedClient(a.constData(), 3, 100); // the first bytes date the command
    t.feedClient(a.constData() + 3, std::size_t(a.size() - 3), 200);
    t.feedClient(b.constData(), std::size_t(b.size()), 300);
    QVERIFY(t.running());
    QCOMPARE(t.running()->statement, std::string("SELECT SLEEP(10)"));
    QCOMPARE(t.running()->startUs, qint64(100));
    QCOMPARE(t.running()->schema, std::string("db"));
    QCOMPARE(t.pending(), std::size_t(2));
    const QByteArray r = ok(1);
    t.feedServer(r.constData(), std::size_t(r.size()), 1100);
    QCOMPARE(t.running()->command, kPing);
    const auto done = t.takeDone();
    QCOMPARE(done.size(), std::size_t(1));
    QCOMPARE(done[0].durationUs, qint64(1000));
}

QTEST_GUILESS_MAIN(tst_MySqlTracker)
#include "tst_mysqltracker.moc"
