// MySqlInspector on hand-built packets (edge cases) and on conversations recorded from a real
// MariaDB server (tests/data/mysql/*.conv, written by tst_mysqlcapture with SG_CAPTURE_DIR).
#include "mysqlconversation.h"
#include "proxy/mysqlinspector.h"
#include "proxy/mysqlwire.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using sg::MySqlInspector;
using sg::test::Chunk;
using sg::test::le;
using sg::test::lenenc;
using sg::test::packet;
using Dir = MySqlInspector::Direction;

namespace {

constexpr quint32 kLongPassword = 0x1;
constexpr quint32 kConnectWithDb = 0x8;
constexpr quint32 kProtocol41 = 0x200;
constexpr quint32 kSsl = 0x800;
constexpr quint32 kTransactions = 0x2000;
constexpr quint32 kSecureConnection = 0x8000;
constexpr quint32 kMultiResults = 0x20000;
constexpr quint32 kPluginAuth = 0x80000;
constexpr quint32 kConnectAttrs = 0x100000;
constexpr quint32 kLenencData = 0x200000;
constexpr quint32 kDefaultClientCaps = kLongPassword | kProtocol41 | kTransactions |
                                       kSecureConnection | kMultiResults | kPluginAuth |
                                       kLenencData;

// A protocol 10 greeting as MariaDB sends it (CLIENT_MYSQL bit clear, extended capabilities in
// the reserved bytes) or as MySQL does.
QByteArray greeting(const QByteArray& version, quint32 connectionId, bool mariadb = true,
                    quint8 seq = 0)
{
    const quint32 caps = (mariadb ? 0 : kLongPassword) | kConnectWithDb | kProtocol41 | kSsl |
                         kTransactions | kSecureConnection | kMultiResults | kPluginAuth |
                         kConnectAttrs | kLenencData;
    QByteArray p;
    p += char(10);
    p += version + '\0';
    p += le(connectionId, 4);
    p += QByteArray("abcdefgh");
    p += '\0';
    p += le(caps & 0xFFFF, 2);
    p += char(0x21);
    p += le(0x0002, 2);
    p += le(caps >> 16, 2);
    p += char(21);
    p += QByteArray(6, '\0');
    p += mariadb ? le(0x1D, 4) : QByteArray(4, '\0');
    p += QByteArray("ijklmnopqrst") + '\0';
    p += QByteArray("mysql_native_password") + '\0';
    return packet(seq, p);
}

QByteArray handshake41(const QByteArray& user, const QByteArray& database,
                       quint32 caps = kDefaultClientCaps, const QByteArray& attrs = {},
                       quint8 seq = 1)
{
    if (!database.isNull())
        caps |= kConnectWithDb;
    if (!attrs.isEmpty())
        caps |= kConnectAttrs;
    const QByteArray auth(20, '\x5a');
    QByteArray p;
    p += le(caps, 4);
    p += le(0x01000000, 4);
    p += char(0x21);
    p += QByteArray(23, '\0');
    p += user + '\0';
    if (caps & kLenencData)
        p += lenenc(quint64(auth.size())) + auth;
    else if (caps & kSecureConnection)
        p += char(auth.size()) + auth;
    else
        p += auth + '\0';
    if (caps & kConnectWithDb)
        p += database + '\0';
    if (caps & kPluginAuth)
        p += QByteArray("mysql_native_password") + '\0';
    if (!attrs.isEmpty())
        p += lenenc(quint64(attrs.size())) + attrs;
    return packet(seq, p);
}

QByteArray sslRequest()
{
    QByteArray p =
        le(kDefaultClientCaps | kSsl, 4) + le(0x01000000, 4) + char(0x21) + QByteArray(23, '\0');
    return packet(1, p);
}

QByteArray ok(quint8 seq)
{
    return packet(seq, QByteArray::fromHex("00000002000000"));
}

QByteArray err(quint8 seq, quint16 code, const QByteArray& state, const QByteArray& message)
{
    QByteArray p = char(0xFF) + le(code, 2);
    if (!state.isEmpty())
        p += '#' + state;
    return packet(seq, p + message);
}

QByteArray command(quint8 cmd, const QByteArray& arg = {})
{
    return packet(0, char(cmd) + arg);
}

QByteArray conv(const QList<Chunk>& chunks)
{
    return sg::test::encodeConversation(chunks);
}

Chunk S(const QByteArray& b)
{
    return {false, b};
}

Chunk C(const QByteArray& b)
{
    return {true, b};
}

// Feeds every recorded chunk in pieces of at most `piece` bytes (0: whole chunks).
void play(MySqlInspector& inspector, const QList<Chunk>& chunks, int piece)
{
    qint64 now = 1000;
    for (const Chunk& c : chunks) {
        const Dir dir = c.fromClient ? Dir::ClientToServer : Dir::ServerToClient;
        const qsizetype step = piece > 0 ? piece : qMax<qsizetype>(1, c.bytes.size());
        for (qsizetype pos = 0; pos < c.bytes.size(); pos += step) {
            const auto n = std::size_t(qMin(step, c.bytes.size() - pos));
            inspector.feed(dir, c.bytes.constData() + pos, n, ++now);
        }
    }
}

struct Expect
{
    bool notMySql = false;
    QString version;
    quint32 connectionId = 0;
    QString user;
    QString database;
    bool tls = false;
    MySqlInspector::Login login = MySqlInspector::Login::Unknown;
    quint64 commands = 0;
    QString lastCommand;
    bool finished = true; // neither direction wants more bytes at the end
};

} // namespace

Q_DECLARE_METATYPE(Expect)

class tst_MySqlInspector : public QObject
{
    Q_OBJECT

private slots:
    void handshake_data();
    void handshake();
    void recorded_data();
    void recorded();
    void skipsPayloadsUnseen();
    void stopsReadingWhenNotCounting();
    void releasesBufferWhenDone();
    void commandNames_data();
    void commandNames();
};

void tst_MySqlInspector::handshake_data()
{
    QTest::addColumn<QByteArray>("conversation");
    QTest::addColumn<bool>("countCommands");
    QTest::addColumn<int>("piece");
    QTest::addColumn<Expect>("expect");

    const QByteArray version = "10.11.6-MariaDB-0+deb12u1";
    struct Case
    {
        const char* name;
        QByteArray conversation;
        bool countCommands;
        Expect expect;
    };
    QList<Case> cases;

    Expect loginDb{false, QString::fromLatin1(version),     42, "alice", "shop",
                   false, MySqlInspector::Login::Succeeded, 0,  {},      true};
    cases.append({"login with database",
                  conv({S(greeting(version, 42)), C(handshake41("alice", "shop")), S(ok(2))}),
                  false, loginDb});

    Expect loginNoDb = loginDb;
    loginNoDb.database.clear();
    cases.append({"login without database",
                  conv({S(greeting(version, 42)), C(handshake41("alice", QByteArray())), S(ok(2))}),
                  false, loginNoDb});

    Expect mysqlServer = loginDb;
    mysqlServer.version = "8.0.36";
    mysqlServer.connectionId = 0xFEDCBA98;
    cases.append({"mysql 8 greeting",
                  conv({S(greeting("8.0.36", 0xFEDCBA98, false)), C(handshake41("alice", "shop")),
                        S(ok(2))}),
                  false, mysqlServer});

    cases.append(
        {"mariadb 5.5.5- version prefix",
         conv({S(greeting("5.5.5-" + version, 42)), C(handshake41("alice", "shop")), S(ok(2))}),
         false, loginDb});
    Expect mysql555 = mysqlServer;
    mysql555.version = "5.5.5-not-maria";
    cases.append({"5.5.5- prefix kept for other servers",
                  conv({S(greeting("5.5.5-not-maria", 0xFEDCBA98, false)),
                        C(handshake41("alice", "shop")), S(ok(2))}),
                  false, mysql555});

    Expect utf8 = loginDb;
    utf8.user = QString::fromUtf8("jürgen");
    utf8.database = QString::fromUtf8("lager_ö");
    cases.append({"utf8 user and database",
                  conv({S(greeting(version, 42)), C(handshake41("j\xc3\xbcrgen", "lager_\xc3\xb6")),
                        S(ok(2))}),
                  false, utf8});

    Expect wrongPassword = loginDb;
    wrongPassword.login = MySqlInspector::Login::Failed;
    cases.append(
        {"wrong password",
         conv({S(greeting(version, 42)), C(handshake41("alice", "shop")),
               S(err(2, 1045, "28000",
                     "Access denied for user 'alice'@'127.0.0.1' (using password: YES)"))}),
         true, wrongPassword});

    Expect ssl{false, QString::fromLatin1(version),   42, {}, {},
               true,  MySqlInspector::Login::Unknown, 0,  {}, true};
    cases.append(
        {"ssl request stops inspection",
         conv({S(greeting(version, 42)), C(sslRequest() + QByteArray::fromHex("160301020001"))}),
         true, ssl});

    Expect authSwitch = loginDb;
    authSwitch.commands = 1;
    authSwitch.lastCommand = "COM_QUERY";
    cases.append(
        {"auth switch then one query",
         conv({S(greeting(version, 42)), C(handshake41("alice", "shop")),
               S(packet(2, char(0xFE) + QByteArray("client_ed25519") + '\0' + QByteArray(32, 'n'))),
               C(packet(3, QByteArray(64, 's'))), S(ok(4)), C(command(0x03, "SELECT 1"))}),
         true, authSwitch});

    Expect queries = loginDb;
    queries.commands = 6;
    queries.lastCommand = "COM_QUIT";
    cases.append({"commands counted from headers",
                  conv({S(greeting(version, 42)), C(handshake41("alice", "shop")), S(ok(2)),
                        C(command(0x03, "SELECT 1")), S(QByteArray(40, '\x01')),
                        C(command(0x03, "SELECT 2") + command(0x16, "SELECT ?")),
                        C(command(0x17, QByteArray(9, '\0'))), C(command(0x0E)), C(command(0x01))}),
                  true, queries});

    Expect notCounting = loginDb;
    cases.append({"commands ignored when counting is off",
                  conv({S(greeting(version, 42)), C(handshake41("alice", "shop")), S(ok(2)),
                        C(command(0x03, "SELECT 1"))}),
                  false, notCounting});

    // Connection attributes push the packet past the buffer cap: user and database come first.
    QByteArray attrs;
    for (int i = 0; i < 200; ++i) {
        const QByteArray key = "_attr" + QByteArray::number(i);
        const QByteArray value(30, 'v');
        attrs += lenenc(quint64(key.size())) + key + lenenc(quint64(value.size())) + value;
    }
    Expect bigAttrs = loginDb;
    bigAttrs.commands = 1;
    bigAttrs.lastCommand = "COM_PING";
    cases.append(
        {"handshake larger than the buffer cap",
         conv({S(greeting(version, 42)), C(handshake41("alice", "shop", kDefaultClientCaps, attrs)),
               S(ok(2)), C(command(0x0E))}),
         true, bigAttrs});

    Expect oldAuth = loginDb;
    cases.append(
        {"one-byte auth length",
         conv({S(greeting(version, 42)),
               C(handshake41("alice", "shop", kDefaultClientCaps & ~kLenencData)), S(ok(2))}),
         false, oldAuth});

    // HandshakeResponse320: caps (2), max packet (3), user, auth, database.
    Expect old320 = loginDb;
    cases.append({"handshake response 320",
                  conv({S(greeting(version, 42)),
                        C(packet(1, le(kLongPassword | kConnectWithDb, 2) + le(0xFFFFFF, 3) +
                                        "alice" + '\0' + "12345678" + '\0' + "shop" + '\0')),
                        S(ok(2))}),
                  false, old320});

    Expect refused{false, {}, 0, {}, {}, false, MySqlInspector::Login::Failed, 0, {}, true};
    cases.append({"server refuses before greeting",
                  conv({S(err(0, 1040, {}, "Too many connections"))}), true, refused});

    Expect none{true, {}, 0, {}, {}, false, MySqlInspector::Login::Unknown, 0, {}, true};
    cases.append(
        {"http request, client speaks first",
         conv({C("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"), S("HTTP/1.1 200 OK\r\n\r\n")}), true,
         none});
    cases.append(
        {"tls client hello",
         conv({C(QByteArray::fromHex("16030100a5010000a10303") + QByteArray(160, '\x11'))}), true,
         none});
    cases.append({"ssh banner", conv({S("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")}), true, none});
    cases.append({"smtp banner", conv({S("220 mail.example ESMTP\r\n")}), true, none});
    cases.append(
        {"postgres-like binary", conv({S(QByteArray::fromHex("0000000803000000"))}), true, none});
    cases.append(
        {"greeting with sequence 1", conv({S(greeting(version, 42, true, 1))}), true, none});
    cases.append({"protocol 9 greeting",
                  conv({S(packet(0, char(9) + version + '\0' + QByteArray(20, '\0')))}), true,
                  none});
    cases.append({"unterminated server version",
                  conv({S(packet(0, char(10) + QByteArray(60, 'x')))}), true, none});
    cases.append(
        {"server version with control bytes",
         conv({S(packet(0, char(10) + QByteArray("10.\x01\x02") + '\0' + QByteArray(20, '\0')))}),
         true, none});
    cases.append({"greeting cut short", conv({S(packet(0, char(10) + version + '\0' + "abc"))}),
                  true, none});
    cases.append(
        {"greeting too large", conv({S(packet(0, char(10) + QByteArray(5000, 'x')))}), true, none});
    cases.append({"client bytes before greeting",
                  conv({C(handshake41("alice", "shop")), S(greeting(version, 42))}), true, none});

    // A greeting split before its end is still waiting, not finished.
    Expect waiting{false, {}, 0, {}, {}, false, MySqlInspector::Login::Unknown, 0, {}, false};
    cases.append(
        {"greeting not complete yet", conv({S(greeting(version, 42).left(30))}), true, waiting});

    for (const Case& c : cases) {
        for (int piece : {0, 1, 3, 7}) {
            const QByteArray row =
                QByteArray(c.name) + (piece == 0
                                          ? QByteArray(" / whole chunks")
                                          : " / " + QByteArray::number(piece) + "-byte pieces");
            QTest::newRow(row.constData())
                << c.conversation << c.countCommands << piece << c.expect;
        }
    }

    // A 16 MiB query continues in further packets whose first byte must not count as a command.
    {
        const QByteArray bigQuery = packet(0, char(0x03) + QByteArray(0xFFFFFE, 'q'));
        const QByteArray tail = packet(1, QByteArray(1, char(0x03)) + "rest");
        Expect big = loginDb;
        big.commands = 2;
        big.lastCommand = "COM_PING";
        const QByteArray c = conv({S(greeting(version, 42)), C(handshake41("alice", "shop")),
                                   S(ok(2)), C(bigQuery), C(tail), C(command(0x0E))});
        QTest::newRow("16 MiB query in two packets / whole chunks") << c << true << 0 << big;
        QTest::newRow("16 MiB query in two packets / 65536-byte pieces")
            << c << true << 65536 << big;
        const QByteArray exact =
            packet(0, char(0x03) + QByteArray(0xFFFFFE, 'q')) + packet(1, QByteArray());
        QTest::newRow("16 MiB query with empty tail packet")
            << conv({S(greeting(version, 42)), C(handshake41("alice", "shop")), S(ok(2)), C(exact),
                     C(command(0x0E))})
            << true << 0 << big;
    }
}

static void check(const MySqlInspector& inspector, const Expect& expect)
{
    const sg::MySqlInfo& info = inspector.info();
    QCOMPARE(inspector.notMySql(), expect.notMySql);
    QCOMPARE(info.serverVersion, expect.version);
    QCOMPARE(info.connectionId, expect.connectionId);
    QCOMPARE(info.user, expect.user);
    QCOMPARE(info.database, expect.database);
    QCOMPARE(info.tls, expect.tls);
    QCOMPARE(int(inspector.login()), int(expect.login));
    QCOMPARE(info.commands, expect.commands);
    QCOMPARE(info.lastCommand, expect.lastCommand);
    if (!expect.notMySql && expect.finished)
        QVERIFY(info.detected);
    if (expect.notMySql)
        QVERIFY(!info.detected);
}

void tst_MySqlInspector::handshake()
{
    QFETCH(QByteArray, conversation);
    QFETCH(bool, countCommands);
    QFETCH(int, piece);
    QFETCH(Expect, expect);

    QList<Chunk> chunks;
    QString error;
    QVERIFY2(sg::test::decodeConversation(conversation, chunks, &error), qPrintable(error));

    MySqlInspector inspector(countCommands);
    play(inspector, chunks, piece);
    check(inspector, expect);
    if (expect.finished && !(countCommands && expect.login == MySqlInspector::Login::Succeeded))
        QVERIFY(!inspector.active());
    if (expect.notMySql) {
        QVERIFY(!inspector.wantsBytes(Dir::ClientToServer));
        QVERIFY(!inspector.wantsBytes(Dir::ServerToClient));
    }
    if (expect.login == MySqlInspector::Login::Failed && expect.connectionId != 0) {
        QCOMPARE(inspector.loginErrorCode(), quint16(1045));
        QVERIFY(inspector.loginError().startsWith("Access denied for user 'alice'"));
    }
}

// Conversations recorded from the real server; the .json beside each holds what the recording
// client knew independently of the parser (user, database, server's own VERSION() and
// CONNECTION_ID(), whether the login worked, how many commands it sent).
void tst_MySqlInspector::recorded_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<int>("piece");
    const QDir dir(QStringLiteral(SG_TEST_DATA_DIR "/mysql"));
    const QStringList files = dir.entryList({QStringLiteral("*.conv")}, QDir::Files, QDir::Name);
    if (files.size() < 4) {
        QTest::newRow("recordings missing") << dir.path() << 0; // fails in recorded()
        return;
    }
    for (const QString& f : files) {
        for (int piece : {0, 1, 5}) {
            const QString row = QFileInfo(f).completeBaseName() +
                                (piece == 0 ? QStringLiteral(" / as recorded")
                                            : QStringLiteral(" / %1-byte pieces").arg(piece));
            QTest::newRow(qPrintable(row)) << dir.filePath(f) << piece;
        }
    }
}

void tst_MySqlInspector::recorded()
{
    QFETCH(QString, path);
    QFETCH(int, piece);

    if (!path.endsWith(QLatin1String(".conv")))
        QFAIL(qPrintable("fewer than 4 recordings in " + path));
    QList<Chunk> chunks;
    QString error;
    QVERIFY2(sg::test::readConversation(path, chunks, &error), qPrintable(error));
    QFile sidecar(path.chopped(5) + QStringLiteral(".json"));
    QVERIFY2(sidecar.open(QIODevice::ReadOnly), qPrintable(sidecar.fileName()));
    const QJsonObject known = QJsonDocument::fromJson(sidecar.readAll()).object();

    MySqlInspector inspector(true);
    play(inspector, chunks, piece);
    const sg::MySqlInfo& info = inspector.info();
    QVERIFY(!inspector.notMySql());
    QVERIFY(info.detected);
    QCOMPARE(info.serverVersion, known["version"].toString());
    QCOMPARE(info.user, known["user"].toString());
    QCOMPARE(info.database, known["database"].toString());
    QCOMPARE(info.tls, false);
    const bool loginOk = known["login"].toBool();
    QCOMPARE(int(inspector.login()),
             int(loginOk ? MySqlInspector::Login::Succeeded : MySqlInspector::Login::Failed));
    if (loginOk) {
        QCOMPARE(qint64(info.connectionId), known["connection_id"].toInteger());
        QCOMPARE(qint64(info.commands), known["commands"].toInteger());
        QCOMPARE(info.lastCommand, known["last_command"].toString());
    } else {
        QCOMPARE(inspector.loginErrorCode(), quint16(known["error_code"].toInt()));
        QCOMPARE(info.commands, quint64(0));
    }
}

void tst_MySqlInspector::skipsPayloadsUnseen()
{
    MySqlInspector inspector(true);
    const QByteArray head = greeting("10.11.6-MariaDB", 7);
    inspector.feed(Dir::ServerToClient, head.constData(), std::size_t(head.size()), 1);
    const QByteArray hs = handshake41("bob", {});
    inspector.feed(Dir::ClientToServer, hs.constData(), std::size_t(hs.size()), 2);
    const QByteArray okp = ok(2);
    inspector.feed(Dir::ServerToClient, okp.constData(), std::size_t(okp.size()), 3);
    QVERIFY(!inspector.wantsBytes(Dir::ServerToClient));
    QVERIFY(inspector.wantsBytes(Dir::ClientToServer));

    // Header and command byte seen, the 999-byte rest of the query passes without being fed.
    const QByteArray q = command(0x03, QByteArray(999, 'x'));
    QCOMPARE(inspector.skippable(Dir::ClientToServer), std::size_t(0));
    inspector.feed(Dir::ClientToServer, q.constData(), 5, 4);
    QCOMPARE(inspector.info().commands, quint64(1));
    QCOMPARE(inspector.skippable(Dir::ClientToServer), std::size_t(999));
    inspector.skip(Dir::ClientToServer, 500);
    QCOMPARE(inspector.skippable(Dir::ClientToServer), std::size_t(499));
    inspector.skip(Dir::ClientToServer, 499);
    QCOMPARE(inspector.skippable(Dir::ClientToServer), std::size_t(0));
    const QByteArray ping = command(0x0E);
    inspector.feed(Dir::ClientToServer, ping.constData(), std::size_t(ping.size()), 5);
    QCOMPARE(inspector.info().commands, quint64(2));
    QCOMPARE(inspector.info().lastCommand, QStringLiteral("COM_PING"));
    QCOMPARE(inspector.info().lastCommandMs, qint64(5));

    // Skipping across a packet boundary loses the framing: counting stops, nothing is guessed.
    const QByteArray q2 = command(0x03, QByteArray(10, 'y'));
    inspector.feed(Dir::ClientToServer, q2.constData(), 5, 6);
    inspector.skip(Dir::ClientToServer, 50);
    QVERIFY(!inspector.wantsBytes(Dir::ClientToServer));
    QCOMPARE(inspector.info().commands, quint64(3));
    inspector.feed(Dir::ClientToServer, ping.constData(), std::size_t(ping.size()), 7);
    QCOMPARE(inspector.info().commands, quint64(3));
}

void tst_MySqlInspector::stopsReadingWhenNotCounting()
{
    MySqlInspector inspector(false);
    QVERIFY(inspector.wantsBytes(Dir::ServerToClient));
    QVERIFY(inspector.wantsBytes(Dir::ClientToServer));
    const QByteArray g = greeting("10.11.6-MariaDB", 7);
    inspector.feed(Dir::ServerToClient, g.constData(), std::size_t(g.size()), 1);
    const QByteArray hs = handshake41("bob", "db1");
    inspector.feed(Dir::ClientToServer, hs.constData(), std::size_t(hs.size()), 2);
    QVERIFY(!inspector.wantsBytes(Dir::ClientToServer));
    QVERIFY(inspector.wantsBytes(Dir::ServerToClient)); // the login result is still to come
    const QByteArray okp = ok(2);
    inspector.feed(Dir::ServerToClient, okp.constData(), std::size_t(okp.size()), 3);
    QVERIFY(!inspector.active());
    QCOMPARE(inspector.login(), MySqlInspector::Login::Succeeded);
    QCOMPARE(inspector.info().user, QStringLiteral("bob"));
    QCOMPARE(inspector.info().database, QStringLiteral("db1"));
    QCOMPARE(inspector.serverCapabilities() & sg::mysqlwire::kClientSsl,
             quint64(sg::mysqlwire::kClientSsl));
    QVERIFY(inspector.serverCapabilities() >> 32 != 0); // MariaDB's extended capabilities
    QCOMPARE(inspector.clientCapabilities() & sg::mysqlwire::kClientConnectWithDb,
             quint64(sg::mysqlwire::kClientConnectWithDb));
}

void tst_MySqlInspector::releasesBufferWhenDone()
{
    // An inspector that is done keeps only what it learned: feeding more is a no-op.
    MySqlInspector inspector(false);
    const QByteArray junk = "SSH-2.0-x\r\n";
    inspector.feed(Dir::ServerToClient, junk.constData(), std::size_t(junk.size()), 1);
    QVERIFY(inspector.notMySql());
    const QByteArray g = greeting("10.11.6-MariaDB", 7);
    inspector.feed(Dir::ServerToClient, g.constData(), std::size_t(g.size()), 2);
    QVERIFY(!inspector.info().detected);
    QVERIFY(inspector.info().serverVersion.isEmpty());
}

void tst_MySqlInspector::commandNames_data()
{
    QTest::addColumn<int>("command");
    QTest::addColumn<QString>("name");
    QTest::newRow("sleep") << 0x00 << "COM_SLEEP";
    QTest::newRow("quit") << 0x01 << "COM_QUIT";
    QTest::newRow("init db") << 0x02 << "COM_INIT_DB";
    QTest::newRow("query") << 0x03 << "COM_QUERY";
    QTest::newRow("ping") << 0x0E << "COM_PING";
    QTest::newRow("change user") << 0x11 << "COM_CHANGE_USER";
    QTest::newRow("stmt prepare") << 0x16 << "COM_STMT_PREPARE";
    QTest::newRow("stmt execute") << 0x17 << "COM_STMT_EXECUTE";
    QTest::newRow("stmt fetch") << 0x1C << "COM_STMT_FETCH";
    QTest::newRow("reset connection") << 0x1F << "COM_RESET_CONNECTION";
    QTest::newRow("mariadb bulk execute") << 0xFA << "COM_STMT_BULK_EXECUTE";
    QTest::newRow("unknown 0x20") << 0x20 << "COM_UNKNOWN_0x20";
    QTest::newRow("unknown 0xab") << 0xAB << "COM_UNKNOWN_0xAB";
}

void tst_MySqlInspector::commandNames()
{
    QFETCH(int, command);
    QFETCH(QString, name);
    QCOMPARE(MySqlInspector::commandName(quint8(command)), name);
}

QTEST_GUILESS_MAIN(tst_MySqlInspector)
#include "tst_mysqlinspector.moc"
