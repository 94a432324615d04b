// Query toxics (mysql_latency, mysql_error) on pipelined MySQL commands, through the engine's
// relay. A scripted server (a thread with a listening socket on 127.0.0.1) replays a recorded
// MariaDB login (tests/data/mysql/login_with_database.conv), then answers each command packet it
// reads (COM_QUERY "SELECT ...": a one-row result set; anything else: an OK whose affected rows
// is the command's number) and records every command packet it got. A raw client sends several
// commands before it reads any answer. Proven here:
// - a mysql_error command never reaches the server: it gets a COM_PING in its place (a COM_QUERY
//   "ROLLBACK" for 1213), in the command's place in the pipeline, and the client gets the
//   toxic's ERR with the sequence id of the server's OK, between the other answers;
// - a mysql_latency command holds the commands pipelined behind it (sent with it or during its
//   delay) and releases them in order; a second delayed command in that backlog is held from
//   the first one's release;
// - a mysql_error command longer than its first 4 KiB, or of 16 MiB - 1 and continued, is
//   decided from its first bytes and dropped as it arrives, and its replacement is sent only
//   after its last byte;
// - bytes cut anywhere (one byte at a time, random cuts) on both sides change nothing;
// - unmatched commands, long ones included, and a toxic of toxicity 0 leave every byte alone;
// - LOAD DATA LOCAL INFILE contents are no commands, also once their sequence ids wrap to 0.

#include "loopback.h"
#include "model/codec.h"
#include "mysqlconversation.h"
#include "proxy/engine.h"
#include "proxyfixture.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QTest>
#include <mutex>
#include <poll.h>
#include <thread>

using namespace sg;
using namespace sgtest;
using sg::test::le;
using sg::test::lenenc;
using sg::test::packet;

namespace {

constexpr int kMaxPayload = 0xFFFFFF;
constexpr int kTimeoutMs = 20000;

// The three packets of a recorded login: the server's greeting, the client's handshake
// response (user sg, database sgtest, protocol 4.1, neither TLS nor compression) and the OK.
struct Login
{
    QByteArray greeting;
    QByteArray response;
    QByteArray ok;
};

Login recordedLogin()
{
    QList<sg::test::Chunk> chunks;
    Login login;
    if (!sg::test::readConversation(
            QStringLiteral(SG_TEST_DATA_DIR "/mysql/login_with_database.conv"), chunks) ||
        chunks.size() < 3 || chunks[0].fromClient || !chunks[1].fromClient || chunks[2].fromClient)
        return login;
    login.greeting = chunks[0].bytes;
    login.response = chunks[1].bytes;
    login.ok = chunks[2].bytes;
    return login;
}

// How a peer cuts what it sends: all in one write, one byte per write, or random pieces of 1 to
// 13 bytes; the writes of a cut send are paced so that the relay reads them apart.
struct Cuts
{
    enum Kind { Whole, Bytes, Random };
    Kind kind = Whole;
    quint32 seed = 0;
};

bool sendCut(int fd, const QByteArray& data, Cuts::Kind kind, QRandomGenerator& rng)
{
    if (kind == Cuts::Whole)
        return sendAll(fd, data, kTimeoutMs);
    for (qsizetype at = 0; at < data.size();) {
        const qsizetype n = kind == Cuts::Bytes ? 1 : 1 + qsizetype(rng.bounded(13));
        if (!sendAll(fd, data.mid(at, n), kTimeoutMs))
            return false;
        at += n;
        std::this_thread::sleep_for(std::chrono::microseconds(400));
    }
    return true;
}

QByteArray query(const QByteArray& sql)
{
    return packet(0, '\x03' + sql);
}

QByteArray ping()
{
    return packet(0, QByteArray(1, '\x0E'));
}

QByteArray quit()
{
    return packet(0, QByteArray(1, '\x01'));
}

QByteArray rollback()
{
    return query("ROLLBACK");
}

QByteArray lenencString(const QByteArray& s)
{
    return lenenc(quint64(s.size())) + s;
}

// A COM_QUERY of `size` payload bytes in packets of at most 16 MiB - 1 (a payload of exactly
// 16 MiB - 1 is followed by an empty packet, as the protocol says).
QByteArray longQuery(const QByteArray& head, qsizetype size)
{
    QByteArray payload = '\x03' + head + " /*";
    payload.append(size - payload.size() - 2, 'x');
    payload.append("*/");
    QByteArray out;
    quint8 seq = 0;
    qsizetype at = 0;
    for (;;) {
        const qsizetype n = std::min<qsizetype>(kMaxPayload, payload.size() - at);
        out += packet(seq++, payload.mid(at, n));
        at += n;
        if (n < kMaxPayload)
            break;
    }
    return out;
}

// OK: affected rows = the command's number, no insert id, autocommit, no warnings.
QByteArray okPayload(int index)
{
    return '\x00' + lenenc(quint64(index)) + lenenc(0) + le(2, 2) + le(0, 2);
}

// The LOCAL INFILE request the server sends for a LOAD DATA LOCAL INFILE.
const QByteArray kInfileRequest = QByteArray(1, '\xFB') + "data.csv";

// What the scripted server answers to the `index`th command (from 1) it reads.
QByteArray answerFor(int index, const QByteArray& command)
{
    const char code = command.size() > 4 ? command[4] : 0;
    if (code == 0x03 && command.mid(5, 6) == "SELECT") {
        const QByteArray column = lenencString("def") + lenencString({}) + lenencString({}) +
                                  lenencString({}) + lenencString("v") + lenencString("v") +
                                  '\x0C' + le(33, 2) + le(64, 4) + '\xFD' + le(0, 2) + '\x00' +
                                  le(0, 2);
        const QByteArray eof("\xFE\x00\x00\x02\x00", 5);
        return packet(1, lenenc(1)) + packet(2, column) + packet(3, eof) +
               packet(4, lenencString("row" + QByteArray::number(index))) + packet(5, eof);
    }
    return packet(1, okPayload(index));
}

QByteArray errFor(quint16 code, const QByteArray& sqlState, const QByteArray& message)
{
    return packet(1, '\xFF' + le(code, 2) + '#' + sqlState + message);
}

const QByteArray kDeadlock =
    errFor(1213, "40001", "Deadlock found when trying to get lock; try restarting transaction");

// Accepts one connection, plays the recorded login, then reads command packets (a 16 MiB - 1
// packet with its continuations as one) and answers each, `batch` answers in one send, until
// COM_QUIT or the end of the connection.
class ScriptedServer
{
public:
    struct Received
    {
        QByteArray bytes;
        qint64 atMs = 0; // sgtest::nowMs() when its last byte was read
    };

    ScriptedServer(Login login, Cuts cuts, int batch = 1)
        : m_login(std::move(login)), m_cuts(cuts), m_batch(batch), m_rng(cuts.seed + 7)
    {
        m_listenFd = listenOn(QStringLiteral("127.0.0.1"), 0, 4, &m_port);
        m_thread = std::thread([this] { run(); });
    }
    ~ScriptedServer()
    {
        // Wakes a thread still waiting (a failed test): accept or recv return at once.
        ::shutdown(m_listenFd, SHUT_RDWR);
        {
            std::lock_guard lock(m_mutex);
            if (m_fd >= 0)
                ::shutdown(m_fd, SHUT_RDWR);
        }
        if (m_thread.joinable())
            m_thread.join();
        ::close(m_listenFd);
    }
    int port() const { return m_port; }
    qsizetype count() const
    {
        std::lock_guard lock(m_mutex);
        return m_received.size();
    }
    // Waits for the server to end (COM_QUIT or the connection closed): every command it read.
    QList<Received> finish()
    {
        if (m_thread.joinable())
            m_thread.join();
        std::lock_guard lock(m_mutex);
        return m_received;
    }

private:
    // Reads exactly n bytes (never past them: the next command stays in the socket).
    static bool readExactly(int fd, qsizetype n, QByteArray& into)
    {
        const qint64 deadline = nowMs() + kTimeoutMs;
        char buf[65536];
        while (n > 0) {
            const ssize_t got = ::recv(fd, buf, size_t(std::min<qsizetype>(n, sizeof buf)), 0);
            if (got > 0) {
                into.append(buf, got);
                n -= got;
                continue;
            }
            if (got == 0 || errno != EAGAIN || nowMs() >= deadline)
                return false;
            pollfd p{fd, POLLIN, 0};
            ::poll(&p, 1, int(deadline - nowMs()));
        }
        return true;
    }

    // The file's packets, up to and with the empty one that ends it.
    static bool readInfile(int fd, QByteArray& into)
    {
        int length = 0;
        do {
            if (!readPacket(fd, into, &length))
                return false;
        } while (length > 0);
        return true;
    }

    static bool readPacket(int fd, QByteArray& into, int* length)
    {
        if (!readExactly(fd, 4, into))
            return false;
        const qsizetype h = into.size() - 4;
        *length =
            int(quint8(into[h])) | int(quint8(into[h + 1])) << 8 | int(quint8(into[h + 2])) << 16;
        return readExactly(fd, *length, into);
    }

    void run()
    {
        pollfd p{m_listenFd, POLLIN, 0};
        if (::poll(&p, 1, kTimeoutMs) != 1)
            return;
        const int fd = ::accept(m_listenFd, nullptr, nullptr);
        if (fd < 0)
            return;
        {
            std::lock_guard lock(m_mutex);
            m_fd = fd;
        }
        setNonBlocking(fd);
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        QByteArray response;
        int length = 0;
        if (sendCut(fd, m_login.greeting, m_cuts.kind, m_rng) &&
            readPacket(fd, response, &length) && sendCut(fd, m_login.ok, m_cuts.kind, m_rng)) {
            QByteArray answers;
            int unsent = 0;
            for (int index = 1;; ++index) {
                QByteArray command;
                do {
                    if (!readPacket(fd, command, &length))
                        break;
                } while (length == kMaxPayload);
                if (command.isEmpty() || length == kMaxPayload)
                    break;
                {
                    std::lock_guard lock(m_mutex);
                    m_received.append({command, nowMs()});
                }
                if (command.size() > 4 && command[4] == '\x01') // COM_QUIT
                    break;
                if (command.mid(4).startsWith("\x03LOAD DATA LOCAL INFILE")) {
                    // Asks for the file, takes its packets up to the empty one and says OK.
                    const int start = int(command.size());
                    if (!sendCut(fd, packet(1, kInfileRequest), m_cuts.kind, m_rng) ||
                        !readInfile(fd, command))
                        break;
                    // The empty packet's header ends with its sequence id: the OK's follows it.
                    const quint8 seq = quint8(command[command.size() - 1]);
                    {
                        std::lock_guard lock(m_mutex);
                        m_received.last().bytes += command.mid(start);
                    }
                    answers += packet(quint8(seq + 1), okPayload(index));
                } else {
                    answers += answerFor(index, command);
                }
                if (++unsent >= m_batch) {
                    if (!sendCut(fd, answers, m_cuts.kind, m_rng))
                        break;
                    answers.clear();
                    unsent = 0;
                }
            }
        }
        std::lock_guard lock(m_mutex);
        m_fd = -1;
        ::close(fd);
    }

    const Login m_login;
    const Cuts m_cuts;
    const int m_batch;
    QRandomGenerator m_rng;
    int m_listenFd = -1;
    int m_port = 0;
    mutable std::mutex m_mutex; // guards m_fd and m_received
    int m_fd = -1;
    QList<Received> m_received;
    std::thread m_thread;
};

QJsonObject toxic(const QString& name, const QString& type, double toxicity,
                  const QJsonObject& attributes)
{
    return QJsonObject{{QStringLiteral("name"), name},
                       {QStringLiteral("type"), type},
                       {QStringLiteral("stream"), QStringLiteral("upstream")},
                       {QStringLiteral("toxicity"), toxicity},
                       {QStringLiteral("attributes"), attributes}};
}

// The toxic most cases use: every command whose digest matches `pattern` fails with 1213.
QJsonObject deadlockOn(const QString& pattern)
{
    return toxic(QStringLiteral("fail"), QStringLiteral("mysql_error"), 1,
                 {{QStringLiteral("code"), 1213}, {QStringLiteral("match"), pattern}});
}

// Closes the client's socket when a test returns, passed or failed.
struct Closer
{
    int fd;
    ~Closer() { ::close(fd); }
};

QByteArray hexHead(const QByteArray& b)
{
    return b.left(96).toHex(' ') + (b.size() > 96 ? " ..." : "");
}

} // namespace

class TstMysqlPipeline : public QObject
{
    Q_OBJECT

private:
    Login m_login;

    static EngineOptions options()
    {
        QFETCH_GLOBAL(bool, splice);
        EngineOptions o;
        o.workers = 1;
        o.splice = splice;
        return o;
    }

    // Starts the engine with route "r" in front of `serverPort` and `toxics` on it; the port.
    static int start(Engine& engine, int serverPort, const QJsonArray& toxics)
    {
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << listenEntry("127.0.0.1", port);
        c.streamRoutes << route("r", upstream({node("127.0.0.1", serverPort)}));
        const Decoded<StreamgateSettings> settings = decodeSettings(
            QJsonObject{{QStringLiteral("toxics"), QJsonObject{{QStringLiteral("r"), toxics}}}});
        if (!settings.ok())
            return -1;
        c.streamgate = settings.value;
        engine.apply(c);
        const Snapshot s = engine.snapshot();
        if (s.listeners.size() != 1 || !s.listeners[0].listening)
            return -1;
        return port;
    }

    // Connects and logs in through the proxy: the descriptor, or -1.
    int login(int port, Cuts::Kind cuts, QRandomGenerator& rng) const
    {
        const int fd = connectTo(QStringLiteral("127.0.0.1"), port);
        if (fd < 0)
            return -1;
        const QByteArray greeting = recvExactly(fd, m_login.greeting.size(), kTimeoutMs);
        const bool sent = greeting == m_login.greeting && sendCut(fd, m_login.response, cuts, rng);
        const QByteArray ok = sent ? recvExactly(fd, m_login.ok.size(), kTimeoutMs) : QByteArray();
        if (ok != m_login.ok) {
            qWarning("login: greeting %s, sent %d, ok %s", hexHead(greeting).constData(), sent,
                     hexHead(ok).constData());
            ::close(fd);
            return -1;
        }
        return fd;
    }

    // The session is followed for its query toxics, and its tracker has not lost track.
    static bool followed(Engine& engine)
    {
        const auto c = activeOn(engine.snapshot(), QStringLiteral("r"));
        return c && c->mysql->statementsFollowed && c->mysql->notFollowed.isEmpty();
    }

    // Routes the engine to the server with `toxics`, logs a client in and waits until its
    // session is followed: the client's descriptor, or -1.
    int open(Engine& engine, int serverPort, const QJsonArray& toxics, Cuts::Kind cuts,
             QRandomGenerator& rng) const
    {
        const int port = start(engine, serverPort, toxics);
        const int fd = port > 0 ? login(port, cuts, rng) : -1;
        if (fd >= 0 && !QTest::qWaitFor([&] { return followed(engine); }, 5000)) {
            ::close(fd);
            return -1;
        }
        return fd;
    }

    // Ends the session with COM_QUIT: the proxy passes nothing more to the client.
    static bool quitAndDrain(int fd)
    {
        if (!sendAll(fd, quit()))
            return false;
        ::shutdown(fd, SHUT_WR);
        QByteArray rest;
        const ReadEnd end = waitForEnd(fd, kTimeoutMs, &rest);
        if (end != ReadEnd::Eof || !rest.isEmpty()) {
            qWarning("after COM_QUIT: end %d, %lld bytes more", int(end), qlonglong(rest.size()));
            return false;
        }
        return true;
    }

    static void compareCommands(const QList<ScriptedServer::Received>& got,
                                const QList<QByteArray>& want)
    {
        for (qsizetype i = 0; i < std::min(got.size(), want.size()); ++i) {
            if (got[i].bytes != want[i])
                QFAIL(qPrintable(QStringLiteral("command %1 at the server: got %2, want %3")
                                     .arg(i + 1)
                                     .arg(QString::fromLatin1(hexHead(got[i].bytes)),
                                          QString::fromLatin1(hexHead(want[i])))));
        }
        QCOMPARE(got.size(), want.size());
    }

private Q_SLOTS:
    void initTestCase_data()
    {
        QTest::addColumn<bool>("splice");
        QTest::newRow("splice") << true;
        QTest::newRow("copy") << false;
    }

    void initTestCase()
    {
        m_login = recordedLogin();
        QVERIFY(!m_login.greeting.isEmpty());
    }

    // C1, X1, C2, X2, X3, C3 sent before any answer is read, X* failed by mysql_error: the
    // server gets C1, R, C2, R, R, C3 (R: ROLLBACK for 1213, else COM_PING) and the client the
    // answers to C1, C2, C3 with the toxic's ERR in X*'s places, each with the OK's sequence id.
    void pipelinedErrors_data()
    {
        QTest::addColumn<int>("code");
        QTest::addColumn<int>("cuts");
        QTest::addColumn<quint32>("seed");
        QTest::addColumn<int>("batch"); // answers the server sends in one write
        QTest::newRow("1213 whole") << 1213 << int(Cuts::Whole) << 0u << 1;
        QTest::newRow("1213 whole, answers together") << 1213 << int(Cuts::Whole) << 0u << 6;
        QTest::newRow("1205 whole") << 1205 << int(Cuts::Whole) << 0u << 1;
        QTest::newRow("1205 whole, answers together") << 1205 << int(Cuts::Whole) << 0u << 6;
        QTest::newRow("1213 bytes") << 1213 << int(Cuts::Bytes) << 0u << 1;
        QTest::newRow("1205 bytes, answers together") << 1205 << int(Cuts::Bytes) << 0u << 6;
        for (quint32 seed = 1; seed <= 4; ++seed) {
            QTest::addRow("1213 random %u", seed) << 1213 << int(Cuts::Random) << seed << 1;
            QTest::addRow("1205 random %u, answers together", seed)
                << 1205 << int(Cuts::Random) << seed << 6;
        }
    }

    void pipelinedErrors()
    {
        QFETCH(int, code);
        QFETCH(int, cuts);
        QFETCH(quint32, seed);
        QFETCH(int, batch);
        const auto kind = Cuts::Kind(cuts);
        ScriptedServer server(m_login, {kind, seed}, batch);
        Engine engine(options());
        QJsonObject attributes{{QStringLiteral("code"), code},
                               {QStringLiteral("match"), QStringLiteral("fail_me")}};
        QByteArray err = kDeadlock;
        if (code != 1213) {
            attributes.insert(QStringLiteral("sqlstate"), QStringLiteral("45000"));
            attributes.insert(QStringLiteral("message"), QStringLiteral("injected lock wait"));
            err = errFor(quint16(code), "45000", "injected lock wait");
        }
        QRandomGenerator rng(seed);
        const int fd =
            open(engine, server.port(),
                 {toxic(QStringLiteral("fail"), QStringLiteral("mysql_error"), 1, attributes)},
                 kind, rng);
        QVERIFY(fd >= 0);
        const Closer closer{fd};

        const QList<QByteArray> sent{query("SELECT a FROM t1 WHERE id = 1"),
                                     query("UPDATE fail_me SET v = 1 WHERE id = 2"),
                                     query("SELECT b FROM t2"),
                                     query("DELETE FROM fail_me WHERE id = 3"),
                                     query("INSERT INTO fail_me VALUES (4)"),
                                     query("UPDATE other SET v = 5")};
        const QByteArray replacement = code == 1213 ? rollback() : ping();
        QList<QByteArray> atServer;
        QByteArray pipeline, want;
        for (qsizetype i = 0; i < sent.size(); ++i) {
            const bool fails = sent[i].contains("fail_me");
            pipeline += sent[i];
            atServer << (fails ? replacement : sent[i]);
            want += fails ? err : answerFor(int(i + 1), sent[i]);
        }
        QVERIFY(sendCut(fd, pipeline, kind, rng));
        const QByteArray got = recvExactly(fd, want.size(), kTimeoutMs);
        QCOMPARE(got, want);
        QVERIFY(followed(engine));
        QVERIFY(quitAndDrain(fd));
        atServer << quit();
        compareCommands(server.finish(), atServer);
    }

    // D1 (delayed 200 ms) and C1 in one send, then during the delay X (mysql_error), D2
    // (delayed too) and C2: the server gets nothing before D1's delay ends, then D1, C1, the
    // ROLLBACK in X's place, D2 no sooner than 200 ms after D1, and C2; the client gets the
    // answers in that order with the ERR in X's place.
    void latencyHoldsPipeline_data()
    {
        QTest::addColumn<int>("cuts");
        QTest::addColumn<quint32>("seed");
        QTest::newRow("whole") << int(Cuts::Whole) << 0u;
        QTest::newRow("bytes") << int(Cuts::Bytes) << 0u;
        QTest::newRow("random 1") << int(Cuts::Random) << 1u;
        QTest::newRow("random 2") << int(Cuts::Random) << 2u;
    }

    void latencyHoldsPipeline()
    {
        QFETCH(int, cuts);
        QFETCH(quint32, seed);
        const auto kind = Cuts::Kind(cuts);
        constexpr qint64 kDelay = 200;
        ScriptedServer server(m_login, {kind, seed});
        Engine engine(options());
        QRandomGenerator rng(seed);
        const int fd = open(engine, server.port(),
                            {toxic(QStringLiteral("slow"), QStringLiteral("mysql_latency"), 1,
                                   {{QStringLiteral("latency"), kDelay},
                                    {QStringLiteral("match"), QStringLiteral("slow_me")}}),
                             deadlockOn(QStringLiteral("fail_me"))},
                            kind, rng);
        QVERIFY(fd >= 0);
        const Closer closer{fd};

        const QByteArray d1 = query("SELECT a FROM slow_me WHERE id = 1");
        const QByteArray c1 = query("SELECT b FROM t1");
        const QByteArray x = query("UPDATE fail_me SET v = 2");
        const QByteArray d2 = query("UPDATE slow_me SET v = 3");
        const QByteArray c2 = query("SELECT c FROM t2");

        const qint64 t0 = nowMs();
        QVERIFY(sendCut(fd, d1 + c1, kind, rng));
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        if (nowMs() - t0 < kDelay - 20)
            QCOMPARE(server.count(), 0); // D1 and C1 held
        QVERIFY(sendCut(fd, x + d2 + c2, kind, rng));
        const QByteArray want =
            answerFor(1, d1) + answerFor(2, c1) + kDeadlock + answerFor(4, d2) + answerFor(5, c2);
        QCOMPARE(recvExactly(fd, want.size(), kTimeoutMs), want);
        QVERIFY(followed(engine));
        QVERIFY(quitAndDrain(fd));
        const QList<ScriptedServer::Received> got = server.finish();
        compareCommands(got, {d1, c1, rollback(), d2, c2, quit()});
        if (QTest::currentTestFailed())
            return;
        // The clocks tick in whole milliseconds: a little slack.
        QVERIFY2(got[0].atMs - t0 >= kDelay - 2, qPrintable(QString::number(got[0].atMs - t0)));
        // D2 is decided when D1 is let go, and held from then.
        QVERIFY2(got[3].atMs - t0 >= 2 * kDelay - 2, qPrintable(QString::number(got[3].atMs - t0)));
    }

    // A mysql_error command longer than the first bytes it is decided on: the server gets C1,
    // the ROLLBACK in X's place only once X's last byte is sent, then C2. A command of 16 MiB - 1
    // and more passes through the relay's buffers only if it is dropped as it arrives.
    void longCommandFails_data()
    {
        QTest::addColumn<qsizetype>("size"); // X's payload
        QTest::newRow("8000 bytes") << qsizetype(8000);
        QTest::newRow("16 MiB - 1, then an empty packet") << qsizetype(kMaxPayload);
        QTest::newRow("16 MiB - 1, then 1000 bytes") << qsizetype(kMaxPayload + 1000);
    }

    void longCommandFails()
    {
        QFETCH(qsizetype, size);
        ScriptedServer server(m_login, {});
        Engine engine(options());
        QRandomGenerator rng(1);
        const int fd = open(engine, server.port(), {deadlockOn(QStringLiteral("^UPDATE fail_me"))},
                            Cuts::Whole, rng);
        QVERIFY(fd >= 0);
        const Closer closer{fd};

        const QByteArray c1 = query("SELECT a FROM t1");
        const QByteArray x = longQuery("UPDATE fail_me SET v = 1", size);
        const QByteArray c2 = query("SELECT b FROM t2");
        QCOMPARE(x.size(), 4 * (size / kMaxPayload + 1) + size);
        // C1 and X past the bytes it is decided on; then all of X but its last byte.
        const qsizetype first = 4 + 1 + 4096 + 500;
        QVERIFY(sendAll(fd, c1 + x.left(first), kTimeoutMs));
        QTRY_COMPARE_WITH_TIMEOUT(server.count(), 1, 5000);
        QVERIFY(sendAll(fd, x.mid(first, x.size() - first - 1), kTimeoutMs));
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        QCOMPARE(server.count(), 1); // no replacement before X's last byte
        QVERIFY(sendAll(fd, x.right(1) + c2, kTimeoutMs));
        const QByteArray want = answerFor(1, c1) + kDeadlock + answerFor(3, c2);
        QCOMPARE(recvExactly(fd, want.size(), kTimeoutMs), want);
        QVERIFY(followed(engine));
        QVERIFY(quitAndDrain(fd));
        compareCommands(server.finish(), {c1, rollback(), c2, quit()});
    }

    // LOAD DATA LOCAL INFILE: the file's packets are no commands, also when their sequence id
    // comes round to 0 again (after 254 packets) and their bytes read as a COM_QUERY the toxic
    // matches; they reach the server as sent, and the commands after the file are still
    // followed: a pipelined mysql_error command is replaced as before.
    void loadDataContentsPass()
    {
        ScriptedServer server(m_login, {});
        Engine engine(options());
        QRandomGenerator rng(1);
        const int fd =
            open(engine, server.port(), {deadlockOn(QStringLiteral("fail_me"))}, Cuts::Whole, rng);
        QVERIFY(fd >= 0);
        const Closer closer{fd};

        const QByteArray load = query("LOAD DATA LOCAL INFILE 'data.csv' INTO TABLE t");
        QVERIFY(sendAll(fd, load));
        const QByteArray request = packet(1, kInfileRequest);
        QCOMPARE(recvExactly(fd, request.size(), kTimeoutMs), request);
        // 300 packets (sequence ids 2 .. 255, 0 .. 45), each one reading as a matching
        // COM_QUERY, and the empty packet that ends the file.
        QByteArray file;
        quint8 seq = 2;
        for (int i = 0; i < 300; ++i)
            file += packet(seq++, "\x03UPDATE fail_me SET v = " + QByteArray::number(i) + "\n");
        file += packet(seq++, {});
        QVERIFY(sendAll(fd, file, kTimeoutMs));
        const QByteArray ok = packet(seq, okPayload(1));
        QCOMPARE(recvExactly(fd, ok.size(), kTimeoutMs), ok);
        QVERIFY(followed(engine));

        const QByteArray c1 = query("SELECT a FROM t1");
        const QByteArray x = query("UPDATE fail_me SET v = 1");
        const QByteArray c2 = query("SELECT b FROM t2");
        QVERIFY(sendAll(fd, c1 + x + c2));
        const QByteArray want = answerFor(2, c1) + kDeadlock + answerFor(4, c2);
        QCOMPARE(recvExactly(fd, want.size(), kTimeoutMs), want);
        QVERIFY(followed(engine));
        QVERIFY(quitAndDrain(fd));
        compareCommands(server.finish(), {load + file, c1, rollback(), c2, quit()});
    }

    // Commands no toxic hits, pipelined: a mysql_error toxic for another table and one that
    // matches everything with toxicity 0 (listed first), drawn for 150 commands, leave every
    // byte as it is both ways, long commands of 8000 bytes and 16 MiB - 1 + 1000 included;
    // neither toxic counts a hit.
    void unmatchedPassExact_data()
    {
        QTest::addColumn<int>("cuts");
        QTest::addColumn<quint32>("seed");
        QTest::addColumn<bool>("huge"); // with a command of 16 MiB - 1 + 1000 bytes
        QTest::newRow("whole") << int(Cuts::Whole) << 0u << true;
        QTest::newRow("random 1") << int(Cuts::Random) << 1u << false;
        QTest::newRow("random 2") << int(Cuts::Random) << 2u << false;
    }

    void unmatchedPassExact()
    {
        QFETCH(int, cuts);
        QFETCH(quint32, seed);
        QFETCH(bool, huge);
        const auto kind = Cuts::Kind(cuts);
        ScriptedServer server(m_login, {kind, seed}, 5);
        Engine engine(options());
        QRandomGenerator rng(seed);
        const int fd = open(engine, server.port(),
                            {toxic(QStringLiteral("never"), QStringLiteral("mysql_error"), 0,
                                   {{QStringLiteral("code"), 1213}}),
                             deadlockOn(QStringLiteral("fail_me"))},
                            kind, rng);
        QVERIFY(fd >= 0);
        const Closer closer{fd};

        QList<QByteArray> sent;
        for (int i = 0; i < 30; ++i) {
            sent << query("SELECT a FROM t1 WHERE id = " + QByteArray::number(i))
                 << query("UPDATE other SET v = " + QByteArray::number(i)) << ping()
                 << packet(0, "\x02sgtest") // COM_INIT_DB
                 << query("SELECT 'fail_m' 'e'");
        }
        // 30 commands at a time: the tracker follows at most 64 in flight.
        const int batches = 5;
        const int perBatch = int(sent.size()) / batches;
        QByteArray wantAll;
        for (int b = 0; b < batches; ++b) {
            QByteArray pipeline, want;
            for (int i = b * perBatch; i < (b + 1) * perBatch; ++i) {
                pipeline += sent[i];
                want += answerFor(i + 1, sent[i]);
            }
            QVERIFY(sendCut(fd, pipeline, kind, rng));
            QCOMPARE(recvExactly(fd, want.size(), kTimeoutMs), want);
        }
        // Long ones, unmatched: decided on their first bytes, then passed as they come (five:
        // the server answers five at a time).
        QList<QByteArray> tail{longQuery("SELECT a FROM t1", 8000), query("SELECT b FROM t2"),
                               longQuery("UPDATE other SET v = 1", 8000),
                               huge ? longQuery("UPDATE other SET v = 2", kMaxPayload + 1000)
                                    : query("SELECT c FROM t3"),
                               query("SELECT d FROM t4")};
        QByteArray pipeline, want;
        for (qsizetype i = 0; i < tail.size(); ++i) {
            pipeline += tail[i];
            want += answerFor(int(sent.size() + i + 1), tail[i]);
        }
        sent += tail;
        QVERIFY(sendCut(fd, pipeline, huge ? Cuts::Whole : kind, rng));
        QCOMPARE(recvExactly(fd, want.size(), kTimeoutMs), want);
        QVERIFY(followed(engine));
        QVERIFY(quitAndDrain(fd));
        sent << quit();
        compareCommands(server.finish(), sent);
        for (const ToxicStatus& t : engine.snapshot().toxics)
            QCOMPARE(t.hitTotal, quint64(0));
    }
};

QTEST_GUILESS_MAIN(TstMysqlPipeline)
#include "tst_mysqlpipeline.moc"
