// A route with APISIX's xRPC protocol "redis" through `streamgate --headless`, in front of a
// real `redis-server` the test starts, driven by the real `redis-cli` (and a raw socket where a
// pipeline must be exact). APISIX's own cases (t/xrpc/redis.t) translated: the route is taken
// by the admin API, commands, errors and a 16 MiB value pass unchanged, a pipeline of 1000
// commands is answered in order, the faults delay the commands they name (keyless commands,
// the rule for a key before the rule without one) and nothing else; apisix_redis_commands_total
// and the latency histogram count what the clients did; a connection shows the command it
// waits on. Unknown protocols are refused with APISIX's words.
#include "streamgateprocess.h"
#include "testfiles.h"

#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <unistd.h>

using namespace sgtest;

namespace {

struct CliResult
{
    int exitCode = -1;
    QByteArray out;
    qint64 elapsedMs = 0;
};

} // namespace

class TestRedisE2e : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QProcess m_redis;
    int m_redisPort = 0;
    int m_port = 0; // the route's listener
    int m_metricsPort = 0;
    StreamgateProcess m_sg;
    QNetworkAccessManager m_network;

    CliResult cli(const QStringList& args, int port, const QByteArray& input = {})
    {
        QProcess p;
        QElapsedTimer timer;
        timer.start();
        p.start(QStringLiteral("redis-cli"),
                QStringList{"-h", "127.0.0.1", "-p", QString::number(port), "--raw"} << args);
        if (!p.waitForStarted(5000))
            return {};
        if (!input.isEmpty())
            p.write(input);
        p.closeWriteChannel();
        p.waitForFinished(30000);
        CliResult r;
        r.elapsedMs = timer.elapsed();
        r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
        r.out = p.readAllStandardOutput();
        return r;
    }

    QByteArray metrics()
    {
        return request(m_network, "GET",
                       QUrl(QStringLiteral("http://127.0.0.1:%1/apisix/prometheus/metrics")
                                .arg(m_metricsPort)))
            .body;
    }

    HttpAnswer putRoute(const QJsonObject& protocol)
    {
        const QJsonObject route{
            {"server_port", m_port},
            {"protocol", protocol},
            {"upstream",
             QJsonObject{
                 {"type", "roundrobin"},
                 {"nodes", QJsonObject{{QStringLiteral("127.0.0.1:%1").arg(m_redisPort), 1}}}}}};
        return m_sg.call("PUT", QStringLiteral("/apisix/admin/stream_routes/1"),
                         QJsonDocument(route).toJson(QJsonDocument::Compact));
    }

    // Waits until a PING through the route takes at least `ms` (the new faults are applied).
    bool pingTakes(qint64 ms)
    {
        const qint64 deadline = nowMs() + 10000;
        while (nowMs() < deadline) {
            const CliResult r = cli({"ping"}, m_port);
            if (r.out == "PONG\n" && r.elapsedMs >= ms)
                return true;
            QTest::qWait(50);
        }
        return false;
    }

    // Sends `payload` on one connection and reads until `expect` bytes came back, or (with
    // `end`) until what came back ends with it; the time it took.
    qint64 rawExchange(const QByteArray& payload, qsizetype expect, QByteArray& received,
                       const QByteArray& end = {})
    {
        const int fd = connectTo(QStringLiteral("127.0.0.1"), m_port);
        if (fd < 0)
            return -1;
        QElapsedTimer timer;
        timer.start();
        exchange(fd, payload, received, end.isEmpty() ? expect : 1, false, 10000);
        while (!end.isEmpty() && !received.endsWith(end) && timer.elapsed() < 10000)
            exchange(fd, {}, received, received.size() + 1, false, 10000);
        const qint64 took = timer.elapsed();
        ::close(fd);
        return took;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        const QList<int> ports = freePorts(3);
        QCOMPARE(ports.size(), 3);
        m_redisPort = ports[0];
        m_port = ports[1];
        m_metricsPort = ports[2];
        m_redis.setProcessChannelMode(QProcess::MergedChannels);
        m_redis.start(QStringLiteral("redis-server"),
                      {"--port", QString::number(m_redisPort), "--bind", "127.0.0.1", "--save", "",
                       "--appendonly", "no", "--dir", m_dir.path(), "--daemonize", "no"});
        QVERIFY2(m_redis.waitForStarted(10000), "redis-server did not start");
        QTRY_VERIFY_WITH_TIMEOUT(cli({"ping"}, m_redisPort).out == "PONG\n", 10000);

        const QJsonObject config{
            {"stream_proxy",
             QJsonObject{{"tcp", QJsonArray{QStringLiteral("127.0.0.1:%1").arg(m_port)}}}},
            {"streamgate",
             QJsonObject{
                 {"prometheus",
                  QJsonObject{{"listen", QStringLiteral("127.0.0.1:%1").arg(m_metricsPort)}}}}}};
        const QString path = m_dir.filePath(QStringLiteral("streamgate.json"));
        QVERIFY(writeFile(path, QJsonDocument(config).toJson()));
        QVERIFY(m_sg.start(path, true));
        QVERIFY2(m_sg.waitForAdmin(), m_sg.readOutput().constData());
    }

    void cleanupTestCase()
    {
        m_sg.stop();
        stopProcess(m_redis);
    }

    // t/xrpc/redis.t TEST 1, and the names APISIX refuses.
    void adminApiTakesTheProtocol()
    {
        HttpAnswer a = putRoute(QJsonObject{{"name", "memcached"}});
        QCOMPARE(a.status, 400);
        QVERIFY2(a.body.contains("unknown protocol [memcached]"), a.body.constData());
        a = putRoute(QJsonObject{{"name", "dubbo"}});
        QCOMPARE(a.status, 400);
        QVERIFY2(a.body.contains("protocol dubbo is not supported by Streamgate"),
                 a.body.constData());
        a = putRoute(QJsonObject{
            {"name", "redis"},
            {"conf",
             QJsonObject{{"faults", QJsonArray{QJsonObject{{"commands", QJsonArray{"get"}}}}}}}});
        QCOMPARE(a.status, 400);
        // APISIX's words: the xRPC protocol's own schema check, without a prefix.
        QCOMPARE(a.json.value("error_msg").toString(),
                 QStringLiteral("property \"faults\" validation failed: failed to validate item "
                                "1: property \"delay\" is required"));

        a = putRoute(QJsonObject{{"name", "redis"}});
        QVERIFY2(a.status == 201 || a.status == 200, a.body.constData());
        QTRY_VERIFY_WITH_TIMEOUT(cli({"ping"}, m_port).out == "PONG\n", 10000);
    }

    // TEST 2 and 3: commands and an error reply pass as the server gave them, and each is
    // counted under its name with its latency.
    void commandsAndErrors()
    {
        const double pingsBefore =
            metricSample(metrics(), R"(apisix_redis_commands_total{route="1",command="ping"})");
        QCOMPARE(cli({"hmset", "animals", "dog", "bark", "cat", "meow"}, m_port).out, "OK\n");
        QCOMPARE(cli({"hmget", "animals", "dog", "cat"}, m_port).out, "bark\nmeow\n");
        QCOMPARE(cli({"hget", "animals", "dog"}, m_port).out, "bark\n");
        QCOMPARE(cli({"hget", "animals", "not_found"}, m_port).out, "\n");
        const CliResult wrong = cli({"get", "animals"}, m_port);
        QVERIFY2(wrong.out.startsWith("WRONGTYPE Operation against a key holding the wrong kind"),
                 wrong.out.constData());

        const QByteArray m = metrics();
        QCOMPARE(metricSample(m, R"(apisix_redis_commands_total{route="1",command="hmset"})"), 1.0);
        QCOMPARE(metricSample(m, R"(apisix_redis_commands_total{route="1",command="hmget"})"), 1.0);
        QCOMPARE(metricSample(m, R"(apisix_redis_commands_total{route="1",command="hget"})"), 2.0);
        QCOMPARE(metricSample(m, R"(apisix_redis_commands_total{route="1",command="get"})"), 1.0);
        QCOMPARE(metricSample(m, R"(apisix_redis_commands_total{route="1",command="ping"})"),
                 pingsBefore);
        QCOMPARE(
            metricSample(m, R"(streamgate_redis_command_errors_total{route="1",command="get"})"),
            1.0);
        QCOMPARE(
            metricSample(m, R"(streamgate_redis_command_errors_total{route="1",command="hget"})"),
            0.0);
        QCOMPARE(metricSample(
                     m, R"(apisix_redis_commands_latency_seconds_count{route="1",command="hget"})"),
                 2.0);
        QCOMPARE(
            metricSample(
                m,
                R"(apisix_redis_commands_latency_seconds_bucket{route="1",command="hget",le="+Inf"})"),
            2.0);
    }

    // TEST 4: a 16 MiB value made of CRLFs, stored and read back byte for byte.
    void bigValue()
    {
        QByteArray value;
        value.reserve(16 * 1024 * 1024);
        for (int i = 0; i < 8 * 1024 * 1024; ++i)
            value += "\r\n";
        QCOMPARE(cli({"-x", "set", "big-key"}, m_port, value).out, "OK\n");
        const CliResult got = cli({"get", "big-key"}, m_port);
        QCOMPARE(got.out.size(), value.size() + 1); // --raw adds a newline
        QCOMPARE(QCryptographicHash::hash(got.out.chopped(1), QCryptographicHash::Sha256),
                 QCryptographicHash::hash(value, QCryptographicHash::Sha256));
    }

    // TEST 5: a pipeline of 1000 commands in one write, answered in order.
    void pipeline()
    {
        QVERIFY(cli({"set", "counter", "0"}, m_port).out == "OK\n");
        QByteArray payload;
        for (int i = 0; i < 1000; ++i)
            payload += "*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n";
        QByteArray expected;
        for (int i = 1; i <= 1000; ++i)
            expected += ':' + QByteArray::number(i) + "\r\n";
        QByteArray received;
        QVERIFY(rawExchange(payload, expected.size(), received) >= 0);
        QCOMPARE(received, expected);
        QTRY_COMPARE_WITH_TIMEOUT(
            metricSample(metrics(), R"(apisix_redis_commands_total{route="1",command="incr"})"),
            1000.0, 5000);
    }

    // A connection shows the command it waits on, then the last one answered.
    void connectionShowsItsCommand()
    {
        const int fd = connectTo(QStringLiteral("127.0.0.1"), m_port);
        QVERIFY(fd >= 0);
        const QByteArray blpop = "*3\r\n$5\r\nBLPOP\r\n$7\r\nnothing\r\n$1\r\n2\r\n";
        QCOMPARE(::send(fd, blpop.constData(), size_t(blpop.size()), MSG_NOSIGNAL),
                 ssize_t(blpop.size()));
        const auto redisOfOpen = [this] {
            const HttpAnswer a = m_sg.get(QStringLiteral("/streamgate/v1/connections"));
            for (const QJsonValue& c : a.json.value("list").toArray())
                if (c.toObject().value("route_id").toString() == u"1" &&
                    c.toObject().contains("redis"))
                    return c.toObject().value("redis").toObject();
            return QJsonObject();
        };
        QTRY_COMPARE_WITH_TIMEOUT(redisOfOpen().value("command").toString(),
                                  QStringLiteral("blpop nothing 2"), 1900);
        QTRY_COMPARE_WITH_TIMEOUT(redisOfOpen().value("last_command").toString(),
                                  QStringLiteral("blpop nothing 2"), 5000);
        QVERIFY(redisOfOpen().value("command").isNull());
        ::close(fd);
    }

    // TEST 6 and 7: a fault on keyless commands ignores its key; pipelined delays add up.
    void faultOnKeylessCommands()
    {
        const HttpAnswer a = putRoute(QJsonObject{
            {"name", "redis"},
            {"conf", QJsonObject{{"faults", QJsonArray{QJsonObject{
                                                {"delay", 0.3},
                                                {"key", "ignored"},
                                                {"commands", QJsonArray{"Ping", "time"}}}}}}}});
        QVERIFY2(a.status == 200 || a.status == 201, a.body.constData());
        QVERIFY(pingTakes(300));
        const CliResult ping = cli({"ping"}, m_port);
        QCOMPARE(ping.out, "PONG\n");
        QVERIFY2(ping.elapsedMs >= 300, QByteArray::number(ping.elapsedMs).constData());
        const CliResult echo = cli({"echo", "hi"}, m_port);
        QCOMPARE(echo.out, "hi\n");
        QVERIFY2(echo.elapsedMs < 300, QByteArray::number(echo.elapsedMs).constData());

        const QByteArray payload = "*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nTIME\r\n*1\r\n$4\r\nPING\r\n"
                                   "*2\r\n$3\r\nGET\r\n$1\r\nA\r\n";
        QByteArray received;
        const qint64 took = rawExchange(payload, 0, received, "$-1\r\n");
        QVERIFY2(took >= 900, QByteArray::number(took).constData());
        QVERIFY2(received.startsWith("+PONG\r\n*2\r\n") && received.endsWith("+PONG\r\n$-1\r\n"),
                 received.constData());
    }

    // TEST 8 and 9: the rule for the key first, the rule without a key for any other.
    void faultForAKeyFirst()
    {
        const HttpAnswer a = putRoute(QJsonObject{
            {"name", "redis"},
            {"conf",
             QJsonObject{
                 {"faults",
                  QJsonArray{
                      QJsonObject{{"delay", 0.6}, {"key", "a"}, {"commands", QJsonArray{"get"}}},
                      QJsonObject{{"delay", 0.3}, {"commands", QJsonArray{"get", "set"}}}}}}}});
        QVERIFY2(a.status == 200 || a.status == 201, a.body.constData());
        QVERIFY(pingTakes(0));
        QTRY_VERIFY_WITH_TIMEOUT(cli({"get", "a"}, m_port).elapsedMs >= 600, 10000);
        const CliResult set = cli({"set", "a", "a"}, m_port);
        QCOMPARE(set.out, "OK\n");
        QVERIFY2(set.elapsedMs >= 300 && set.elapsedMs < 600,
                 QByteArray::number(set.elapsedMs).constData());
        const CliResult getB = cli({"get", "b"}, m_port);
        QVERIFY2(getB.elapsedMs >= 300 && getB.elapsedMs < 600,
                 QByteArray::number(getB.elapsedMs).constData());
        const CliResult getA = cli({"get", "a"}, m_port);
        QCOMPARE(getA.out, "a\n");
        QVERIFY2(getA.elapsedMs >= 600, QByteArray::number(getA.elapsedMs).constData());
        // The latency APISIX's histogram shows includes the injected delay.
        const QByteArray m = metrics();
        QVERIFY(
            metricSample(
                m,
                R"(apisix_redis_commands_latency_seconds_bucket{route="1",command="get",le="0.5"})") <
            metricSample(
                m,
                R"(apisix_redis_commands_latency_seconds_bucket{route="1",command="get",le="+Inf"})"));
    }

    // A fault for one key: a large value after another key flows without waiting for the rest
    // of the command (the decision is made at the key), the same value for the key is delayed;
    // bytes the reader cannot follow reach the server at once and its answer comes back.
    void faultForAKeyLargeValues()
    {
        const HttpAnswer a = putRoute(QJsonObject{
            {"name", "redis"},
            {"conf", QJsonObject{{"faults", QJsonArray{QJsonObject{
                                                {"delay", 0.3},
                                                {"key", "big"},
                                                {"commands", QJsonArray{"set", "ping"}}}}}}}});
        QVERIFY2(a.status == 200 || a.status == 201, a.body.constData());
        QVERIFY(pingTakes(300));
        const QByteArray value(512 * 1024, 'v');
        const CliResult small = cli({"-x", "set", "small"}, m_port, value);
        QCOMPARE(small.out, "OK\n");
        QVERIFY2(small.elapsedMs < 300, QByteArray::number(small.elapsedMs).constData());
        const CliResult big = cli({"-x", "set", "big"}, m_port, value);
        QCOMPARE(big.out, "OK\n");
        QVERIFY2(big.elapsedMs >= 300, QByteArray::number(big.elapsedMs).constData());
        QCOMPARE(cli({"strlen", "small"}, m_port).out, "524288\n");
        QCOMPARE(cli({"strlen", "big"}, m_port).out, "524288\n");

        QByteArray received;
        const qint64 took = rawExchange("*1\r\n!4\r\nPING\r\n", 0, received, "\r\n");
        QVERIFY2(received.startsWith("-ERR Protocol error"), received.constData());
        QVERIFY2(took < 300, QByteArray::number(took).constData());
    }
};

QTEST_GUILESS_MAIN(TestRedisE2e)
#include "tst_redise2e.moc"
