// The Redis readers (proxy/redistracker.h) and the fault matcher (proxy/redisfaults.h) on
// hand-built RESP2 and RESP3 exchanges: commands and replies paired whatever the pipelining,
// publish/subscribe acknowledgements and messages told apart, errors kept, what cannot be
// followed given up with a reason, and the same result however the bytes are cut. The fault
// cases are APISIX's own (t/xrpc/redis.t: keyless commands, the first matching key, rules with
// and without a key).
#include "proxy/redisfaults.h"
#include "proxy/redistracker.h"

#include <QTest>
#include <string>
#include <vector>

using namespace sg;

namespace {

std::string bulk(const std::string& s)
{
    return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
}

std::string command(const std::vector<std::string>& words)
{
    std::string out = "*" + std::to_string(words.size()) + "\r\n";
    for (const std::string& w : words)
        out += bulk(w);
    return out;
}

struct Step
{
    bool fromClient;
    std::string bytes;
};

// What a conversation gave: one line per answered command, "line|error text|duration".
QStringList outcome(RedisTracker& t)
{
    QStringList out;
    for (const RedisCommandDone& d : t.takeDone())
        out << QString::fromStdString(d.line + "|" + (d.error ? d.errorText : std::string("-")) +
                                      "|" + std::to_string(d.durationUs));
    return out;
}

// Feeds each step at time 10 * (its index + 1) µs, cut into pieces of `piece` bytes (0: whole).
QStringList run(const std::vector<Step>& steps, std::size_t piece, std::string* why = nullptr)
{
    RedisTracker t;
    QStringList out;
    qint64 now = 0;
    for (const Step& s : steps) {
        now += 10;
        const std::size_t step = piece ? piece : s.bytes.size();
        for (std::size_t at = 0; at < s.bytes.size(); at += step) {
            const std::size_t n = std::min(step, s.bytes.size() - at);
            if (s.fromClient)
                t.feedClient(s.bytes.data() + at, n, now);
            else
                t.feedServer(s.bytes.data() + at, n, now);
        }
        out << outcome(t);
    }
    if (why)
        *why = t.lost() ? t.why() : std::string();
    return out;
}

} // namespace

Q_DECLARE_METATYPE(std::vector<Step>)
Q_DECLARE_METATYPE(sg::RedisFault)

class TestRedisTracker : public QObject
{
    Q_OBJECT

private slots:
    void conversations_data();
    void conversations();
    void everyCut_data() { conversations_data(); }
    void everyCut();
    void bigValuesAreSkipped();
    void inlineCommands();
    void commandEvents();
    void keys_data();
    void keys();
    void faults_data();
    void faults();
};

void TestRedisTracker::conversations_data()
{
    QTest::addColumn<std::vector<Step>>("steps");
    QTest::addColumn<QStringList>("expected");
    QTest::addColumn<QString>("why"); // empty: still followed

    QTest::newRow("get and set") << std::vector<Step>{{true, command({"SET", "user:1", "ann"})},
                                                      {false, "+OK\r\n"},
                                                      {true, command({"GET", "user:1"})},
                                                      {false, "$3\r\nann\r\n"}}
                                 << QStringList{"set user:1 ann|-|10", "get user:1|-|10"}
                                 << QString();
    QTest::newRow("pipelined, answered together")
        << std::vector<Step>{{true, command({"INCR", "n"}) + command({"INCR", "n"}) +
                                        command({"GET", "missing"})},
                             {false, ":1\r\n:2\r\n$-1\r\n"}}
        << QStringList{"incr n|-|10", "incr n|-|10", "get missing|-|10"} << QString();
    QTest::newRow("error reply")
        << std::vector<Step>{{true, command({"HSET", "h", "f", "v"})},
                             {false, ":1\r\n"},
                             {true, command({"GET", "h"})},
                             {false, "-WRONGTYPE Operation against a key holding the wrong kind "
                                     "of value\r\n"}}
        << QStringList{"hset h f v|-|10",
                       "get h|WRONGTYPE Operation against a key holding the wrong kind of "
                       "value|10"}
        << QString();
    QTest::newRow("multi exec with a nested error")
        << std::vector<Step>{{true, command({"MULTI"}) + command({"INCR", "a"}) +
                                        command({"LPOP", "a"}) + command({"EXEC"})},
                             {false, "+OK\r\n+QUEUED\r\n+QUEUED\r\n"},
                             {false, "*2\r\n:1\r\n-WRONGTYPE x\r\n"}}
        << QStringList{"multi|-|10", "incr a|-|10", "lpop a|-|10", "exec|-|20"} << QString();
    QTest::newRow("nested arrays, null array")
        << std::vector<Step>{{true,
                              command({"XRANGE", "s", "-", "+"}) + command({"BLPOP", "q", "1"})},
                             {false, "*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"},
                             {false, "*-1\r\n"}}
        << QStringList{"xrange s - +|-|10", "blpop q 1|-|20"} << QString();
    QTest::newRow("resp3: hello map, attribute, push, double, null")
        << std::vector<Step>{{true, command({"HELLO", "3"})},
                             {false, "%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n"},
                             {true, command({"CLIENT", "TRACKING", "on"}) + command({"GET", "k"})},
                             {false, "+OK\r\n|1\r\n+ttl\r\n:5\r\n_\r\n"},
                             {false, ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n"},
                             {true, command({"ZSCORE", "z", "m"})},
                             {false, ",1.5\r\n"}}
        << QStringList{"hello 3|-|10", "client TRACKING on|-|10", "get k|-|10", "zscore z m|-|10"}
        << QString();
    QTest::newRow("resp3 blob error")
        << std::vector<Step>{{true, command({"EVAL", "x", "0"})},
                             {false, "!21\r\nSYNTAX invalid syntax\r\n"}}
        << QStringList{"eval x 0|SYNTAX invalid syntax|10"} << QString();
    QTest::newRow("subscribe: acknowledgements answer, messages do not")
        << std::vector<Step>{{true, command({"SUBSCRIBE", "a", "b"})},
                             {false, "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
                                     "*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"},
                             {false, "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$5\r\nhello\r\n"},
                             {true, command({"PING"})},
                             {false, "*2\r\n$4\r\npong\r\n$0\r\n\r\n"},
                             {true, command({"UNSUBSCRIBE"})},
                             {false, "*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n"
                                     "*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n"},
                             {true, command({"LRANGE", "l", "0", "-1"})},
                             {false, "*1\r\n$7\r\nmessage\r\n"}}
        << QStringList{"subscribe a b|-|10", "ping|-|10", "unsubscribe|-|10", "lrange l 0 -1|-|10"}
        << QString();
    QTest::newRow("resp3 subscribe: pushes")
        << std::vector<Step>{{true, command({"SUBSCRIBE", "a"})},
                             {false, ">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"},
                             {false, ">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nx\r\n"},
                             {true, command({"PING"})},
                             {false, "+PONG\r\n"}}
        << QStringList{"subscribe a|-|10", "ping|-|10"} << QString();
    QTest::newRow("resp3 subscribed: an array reply starting with \"message\" is a reply")
        << std::vector<Step>{{true, command({"SUBSCRIBE", "a"})},
                             {false, ">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"},
                             {true, command({"LRANGE", "l", "0", "-1"})},
                             {false, "*2\r\n$7\r\nmessage\r\n$1\r\nx\r\n"}}
        << QStringList{"subscribe a|-|10", "lrange l 0 -1|-|10"} << QString();
    QTest::newRow("unsubscribe from every channel, pipelined with a ping")
        << std::vector<Step>{{true, command({"SUBSCRIBE", "a", "b"})},
                             {false, "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
                                     "*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"},
                             {true, command({"UNSUBSCRIBE"}) + command({"PING"})},
                             {false, "*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n"},
                             {false, "*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n+PONG\r\n"}}
        << QStringList{"subscribe a b|-|10", "unsubscribe|-|10", "ping|-|20"} << QString();
    QTest::newRow("client reply on: still followed")
        << std::vector<Step>{{true, command({"CLIENT", "REPLY", "ON"})}, {false, "+OK\r\n"}}
        << QStringList{"client REPLY ON|-|10"} << QString();
    QTest::newRow("empty multibulk is no command")
        << std::vector<Step>{{true, "*0\r\n" + command({"PING"})}, {false, "+PONG\r\n"}}
        << QStringList{"ping|-|10"} << QString();
    QTest::newRow("monitor: given up once acknowledged")
        << std::vector<Step>{{true, command({"MONITOR"})},
                             {false, "+OK\r\n+1700000000.1 [0 127.0.0.1:5] \"ping\"\r\n"}}
        << QStringList{"monitor|-|10"}
        << "MONITOR: the server streams what it runs, replies no longer match commands";
    QTest::newRow("client reply off: given up")
        << std::vector<Step>{{true, command({"CLIENT", "reply", "skip"})}} << QStringList{}
        << "CLIENT REPLY OFF or SKIP: replies no longer match commands";
    QTest::newRow("a reply nobody asked for")
        << std::vector<Step>{{false, "+OK\r\n"}} << QStringList{}
        << "a reply with no command waiting for it";
    QTest::newRow("garbage from the server")
        << std::vector<Step>{{true, command({"PING"})}, {false, "HTTP/1.1 400\r\n"}}
        << QStringList{} << "server: bytes that are not a Redis reply";
    QTest::newRow("an empty reply line")
        << std::vector<Step>{{true, command({"PING"})}, {false, "\r\n"}} << QStringList{}
        << "server: a reply line that is not the Redis protocol";
    QTest::newRow("garbage from the client")
        << std::vector<Step>{{true, "*2\r\n!oops\r\n"}} << QStringList{}
        << "client: a bulk length that is not the Redis protocol";
}

void TestRedisTracker::conversations()
{
    QFETCH(std::vector<Step>, steps);
    QFETCH(QStringList, expected);
    QFETCH(QString, why);
    std::string lostWhy;
    QCOMPARE(run(steps, 0, &lostWhy), expected);
    QCOMPARE(QString::fromStdString(lostWhy), why);
}

// The same answers whether each step comes whole, byte by byte, or in pieces of 2, 3, 5 or 7.
void TestRedisTracker::everyCut()
{
    QFETCH(std::vector<Step>, steps);
    QFETCH(QString, why);
    std::string wholeWhy;
    const QStringList whole = run(steps, 0, &wholeWhy);
    for (std::size_t piece : {1, 2, 3, 5, 7}) {
        std::string pieceWhy;
        QCOMPARE(run(steps, piece, &pieceWhy), whole);
        QCOMPARE(pieceWhy, wholeWhy);
    }
}

// A 16 MiB value full of CRLFs (t/xrpc/redis.t's "big value") is skipped by its length: the
// readers keep a few hundred bytes of it, and the commands around it are still paired.
void TestRedisTracker::bigValuesAreSkipped()
{
    std::string value;
    for (int i = 0; i < 8 * 1024 * 1024; ++i)
        value += "\r\n";
    RedisTracker t;
    const std::string set = command({"SET", "big-key", value});
    for (std::size_t at = 0; at < set.size(); at += 65536)
        t.feedClient(set.data() + at, std::min<std::size_t>(65536, set.size() - at), 1);
    QCOMPARE(t.commands().arg().size(), RespCommandReader::kMaxArg);
    QVERIFY(t.commands().argCut());
    t.feedServer("+OK\r\n", 5, 2);
    const std::string get = command({"GET", "big-key"});
    t.feedClient(get.data(), get.size(), 3);
    const std::string reply = bulk(value);
    for (std::size_t at = 0; at < reply.size(); at += 65536)
        t.feedServer(reply.data() + at, std::min<std::size_t>(65536, reply.size() - at), 4);
    const std::vector<RedisCommandDone> done = t.takeDone();
    QCOMPARE(done.size(), std::size_t(2));
    QCOMPARE(done[0].line, "set big-key " + std::string(32, '.')); // CR, LF shown as dots
    QCOMPARE(done[1].line, std::string("get big-key"));
    QVERIFY(!t.lost());
}

// Commands typed as text (telnet, redis-cli's inline mode) are commands too.
void TestRedisTracker::inlineCommands()
{
    RedisTracker t;
    const std::string typed = "PING\r\n\r\nset  k   v\nGET k\r\n";
    t.feedClient(typed.data(), typed.size(), 1);
    QCOMPARE(t.pending(), std::size_t(3));
    const std::string replies = "+PONG\r\n+OK\r\n$1\r\nv\r\n";
    t.feedServer(replies.data(), replies.size(), 5);
    QStringList lines;
    for (const RedisCommandDone& d : t.takeDone())
        lines << QString::fromStdString(d.line);
    QCOMPARE(lines, (QStringList{"ping", "set k v", "get k"}));
}

// The events the fault filter decides on: the name, then each argument, the last one marking
// the command complete; whatever the cut.
void TestRedisTracker::commandEvents()
{
    const std::string bytes = command({"MSET", "a", "1", "b", "2"}) + "GET x\r\n";
    for (std::size_t piece : {std::size_t(1), std::size_t(4), bytes.size()}) {
        RespCommandReader r;
        QStringList events;
        std::size_t at = 0;
        while (at < bytes.size()) {
            const std::size_t end = std::min(bytes.size(), (at / piece + 1) * piece);
            std::size_t used = 0;
            do {
                RespCommandReader::Event e;
                used += r.feed(bytes.data() + at + used, end - at - used, e);
                if (e == RespCommandReader::Event::Name)
                    events << QString::fromStdString("name:" + r.name());
                else if (e == RespCommandReader::Event::Argument)
                    events << QString::fromStdString("arg" + std::to_string(r.argIndex()) + ":" +
                                                     std::string(r.arg()));
                if (e != RespCommandReader::Event::None && r.commandDone())
                    events << "done";
            } while (at + used < end);
            at = end;
        }
        QCOMPARE(events, (QStringList{"name:mset", "arg0:a", "arg1:1", "arg2:b", "arg3:2", "done",
                                      "name:get", "arg0:x", "done"}));
        QVERIFY(r.idle());
    }
}

void TestRedisTracker::keys_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("argCount");
    QTest::addColumn<QList<int>>("keyIndexes");

    QTest::newRow("get") << "get" << 1 << QList<int>{0};
    QTest::newRow("set") << "set" << 3 << QList<int>{0};
    QTest::newRow("ping (none)") << "ping" << 1 << QList<int>{};
    QTest::newRow("del (all)") << "del" << 3 << QList<int>{0, 1, 2};
    QTest::newRow("mset (every other)") << "mset" << 4 << QList<int>{0, 2};
    QTest::newRow("blpop (all but the timeout)") << "blpop" << 3 << QList<int>{0, 1};
    QTest::newRow("rename (first two)") << "rename" << 2 << QList<int>{0, 1};
    QTest::newRow("bitop (from the second)") << "bitop" << 4 << QList<int>{1, 2, 3};
    QTest::newRow("migrate (the third)") << "migrate" << 5 << QList<int>{2};
}

void TestRedisTracker::keys()
{
    QFETCH(QString, name);
    QFETCH(int, argCount);
    QFETCH(QList<int>, keyIndexes);
    QList<int> found;
    for (int i = 0; i < argCount; ++i)
        if (RedisFaults::isKey(name.toStdString(), std::size_t(i), std::size_t(argCount)))
            found << i;
    QCOMPARE(found, keyIndexes);
}

void TestRedisTracker::faults_data()
{
    QTest::addColumn<QList<RedisFault>>("rules");
    QTest::addColumn<QStringList>("words");
    QTest::addColumn<qint64>("delayMs");

    const auto rule = [](QStringList commands, QString key, double delay) {
        return RedisFault{commands, key, delay};
    };
    // t/xrpc/redis.t TEST 6: a key on keyless commands is ignored.
    const QList<RedisFault> keyless{rule({"ping", "time"}, "ignored", 0.01)};
    QTest::newRow("keyless ping") << keyless << QStringList{"PING"} << qint64(10);
    QTest::newRow("keyless time") << keyless << QStringList{"time"} << qint64(10);
    QTest::newRow("other command") << keyless << QStringList{"get", "A"} << qint64(0);
    // TEST 8: the rule for the key first, the rule without one for any other key.
    const QList<RedisFault> dfs{rule({"get"}, "a", 0.02), rule({"get", "set"}, "", 0.01)};
    QTest::newRow("get a") << dfs << QStringList{"get", "a"} << qint64(20);
    QTest::newRow("set a") << dfs << QStringList{"set", "a", "a"} << qint64(10);
    QTest::newRow("get b") << dfs << QStringList{"get", "b"} << qint64(10);
    QTest::newRow("value is not a key")
        << QList<RedisFault>{rule({"set"}, "a", 0.03)} << QStringList{"set", "b", "a"} << qint64(0);
    // TEST 10: commands with several keys; the first key a rule names decides.
    const QList<RedisFault> multi{rule({"del"}, "b", 0.06), rule({"mset"}, "a", 0.04),
                                  rule({"mset"}, "b", 0.02)};
    QTest::newRow("del a b") << multi << QStringList{"del", "a", "b"} << qint64(60);
    QTest::newRow("mset a b") << multi << QStringList{"mset", "a", "1", "b", "2"} << qint64(40);
    QTest::newRow("mset b a") << multi << QStringList{"mset", "b", "1", "a", "2"} << qint64(20);
    QTest::newRow("mset values") << multi << QStringList{"mset", "c", "a", "d", "b"} << qint64(0);
    QTest::newRow("set with a value that names the key")
        << QList<RedisFault>{rule({"set"}, "a", 0.03), rule({"set"}, "", 0.01)}
        << QStringList{"set", "b", "a"} << qint64(10);
    QTest::newRow("get without arguments")
        << QList<RedisFault>{rule({"get"}, "a", 0.03), rule({"get"}, "", 0.01)}
        << QStringList{"get"} << qint64(10);
    QTest::newRow("later rule wins")
        << QList<RedisFault>{rule({"get"}, "", 0.01), rule({"GET"}, "", 0.05)}
        << QStringList{"get", "x"} << qint64(50);
}

void TestRedisTracker::faults()
{
    QFETCH(QList<RedisFault>, rules);
    QFETCH(QStringList, words);
    QFETCH(qint64, delayMs);
    RedisProtocolConf conf;
    conf.faults = rules;
    const RedisFaults faults(conf);
    const std::string name = words.first().toLower().toStdString();
    RedisFaults::Probe probe = faults.start(name, std::size_t(words.size() - 1));
    const std::size_t argCount = std::size_t(words.size() - 1);
    for (int i = 1; i < words.size() && !probe.decided(); ++i)
        faults.argument(probe, name, std::size_t(i - 1), argCount, words.at(i).toStdString(),
                        false);
    // Decided by the last key at the latest, without waiting for the command's end.
    QVERIFY(probe.decided());
    QCOMPARE(probe.delayMs(), delayMs);
}

QTEST_APPLESS_MAIN(TestRedisTracker)
#include "tst_redistracker.moc"
