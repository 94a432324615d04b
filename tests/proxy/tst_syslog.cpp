// The syslog stream plugin against a real syslog server: rsyslogd, started by the test on
// loopback ports, parses each message as RFC 5424 and writes its priority, version, app name,
// process id and message to a file. Sessions through the engine (admitted and refused), TCP and
// UDP transport, batching, a server that comes up late (retries), and the entry's contents.

#include "loopback.h"
#include "model/codec.h"
#include "peerdaemon.h"
#include "proxy/engine.h"
#include "proxy/plugins/syslog.h"
#include "proxyfixture.h"
#include "testfiles.h"
#include "udppeers.h"

#include <QCoreApplication>
#include <QJsonDocument>
#include <QTest>

using namespace sg;
using namespace sgtest;

namespace {

// rsyslogd in the foreground with TCP and UDP inputs on 127.0.0.1.
class SyslogServer
{
public:
    SyslogServer(int tcpPort, int udpPort) : m_out(m_daemon.filePath("received.log"))
    {
        const QString conf = QStringLiteral(R"(global(workDirectory="%1")
module(load="imtcp")
module(load="imudp")
input(type="imtcp" port="%2" address="127.0.0.1")
input(type="imudp" port="%3" address="127.0.0.1")
template(name="fields" type="string"
         string="%pri%|%protocol-version%|%app-name%|%procid%|%msg%\n")
*.* action(type="omfile" file="%4" template="fields")
)")
                                 .arg(m_daemon.dir())
                                 .arg(tcpPort)
                                 .arg(udpPort)
                                 .arg(m_out);
        // Ready once its TCP input accepts (the UDP input is bound in the same start-up).
        m_ready = m_daemon.start(
            QStringLiteral("rsyslogd"), QStringLiteral("rsyslog.conf"), conf.toUtf8(),
            {QStringLiteral("-n"), QStringLiteral("-f"), m_daemon.filePath("rsyslog.conf"),
             QStringLiteral("-i"), m_daemon.filePath("rsyslogd.pid")},
            {tcpPort});
        if (!m_ready)
            qWarning("%s", qUtf8Printable(m_daemon.error()));
    }

    bool ready() const { return m_ready; }

    // The messages received so far: fields split at '|' (the message itself last).
    QList<QStringList> received() const
    {
        QList<QStringList> out;
        for (const QByteArray& line : readFile(m_out).split('\n'))
            if (!line.isEmpty())
                out << QString::fromUtf8(line).split(u'|');
        return out;
    }

private:
    PeerDaemon m_daemon;
    const QString m_out;
    bool m_ready = false;
};

QJsonObject messageJson(const QStringList& fields)
{
    return QJsonDocument::fromJson(fields.value(4).toUtf8()).object();
}

// A route `id` to the echo server at `echoPort` with the plugins given as JSON.
StreamRoute routeTo(const QString& id, int echoPort, const QString& plugins)
{
    const QJsonObject json{
        {QStringLiteral("id"), id},
        {QStringLiteral("upstream"),
         QJsonObject{{QStringLiteral("nodes"),
                      QJsonObject{{QStringLiteral("127.0.0.1:%1").arg(echoPort), 1}}}}},
        {QStringLiteral("plugins"), QJsonDocument::fromJson(plugins.toUtf8()).object()}};
    const Decoded<StreamRoute> d = decodeStreamRoute(json);
    for (const Problem& p : d.problems)
        qWarning("%s: %s", qUtf8Printable(p.path), qUtf8Printable(p.reason));
    return d.value;
}

Config oneRoute(int port, const StreamRoute& r)
{
    Config config;
    config.streamProxy.tcp << listenEntry("127.0.0.1", port);
    config.streamRoutes << r;
    return config;
}

// One TCP session from `from`: sends `payload`, reads the echo, closes.
QByteArray session(int port, const QString& from, const QByteArray& payload)
{
    const int fd = connectTo(QStringLiteral("127.0.0.1"), port, from);
    if (fd < 0)
        return {};
    QByteArray got;
    exchange(fd, payload, got, payload.size(), 5000);
    ::close(fd);
    return got;
}

} // namespace

class TstSyslog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        if (!PeerDaemon::installed(QStringLiteral("rsyslogd")))
            QFAIL("rsyslogd is not installed (Debian package rsyslog)");
    }

    void entryFromVariables()
    {
        ConnectionInfo c;
        c.routeId = QStringLiteral("db");
        c.protocol = Protocol::Tcp;
        c.clientAddress = QHostAddress(QStringLiteral("127.0.0.2"));
        c.clientPort = 40000;
        c.closeReason = CloseReason::ClientClosed;
        c.mqtt.edit().clientId = QStringLiteral("sensor-7");
        const QJsonObject format = QJsonDocument::fromJson(R"({
            "client": "$remote_addr", "port": "$REMOTE_PORT", "up": "$upstream_addr",
            "mqtt": "$mqtt_client_id", "pp": "$proxy_protocol_addr",
            "n": 7, "flag": true, "text": "plain",
            "nested": {"a": {"b": {"c": {"d": {"e": "$remote_addr"}}}}, "p": "$protocol"},
            "list": ["$remote_addr", "$upstream_addr", 1]})")
                                       .object();
        const QJsonObject entry = syslogEntry(format, c);
        QCOMPARE(entry.value("client").toString(), QStringLiteral("127.0.0.2"));
        QCOMPARE(entry.value("port").toString(), QStringLiteral("40000"));
        QVERIFY2(!entry.contains("up"), "no upstream: left out, as APISIX's nil");
        QCOMPARE(entry.value("mqtt").toString(), QStringLiteral("sensor-7"));
        QVERIFY2(!entry.contains("pp"), "no PROXY protocol header: left out");
        c.mqtt.edit().clientId.clear(); // APISIX leaves mqtt_client_id unset for an empty client id
        QVERIFY(!syslogEntry(format, c).contains("mqtt"));
        QCOMPARE(entry.value("n").toInt(), 7);
        QCOMPARE(entry.value("flag").toBool(), true);
        QCOMPARE(entry.value("text").toString(), QStringLiteral("plain"));
        QCOMPARE(entry.value("route_id").toString(), QStringLiteral("db"));
        // Depth five, as APISIX: the fifth level's object is cut to {}.
        const QJsonObject nested = entry.value("nested").toObject();
        QCOMPARE(nested.value("p").toString(), QStringLiteral("TCP"));
        QCOMPARE(nested.value("a").toObject().value("b").toObject().value("c").toObject(),
                 QJsonObject({{"d", QJsonObject()}}));
        QCOMPARE(entry.value("list").toArray(),
                 QJsonArray({QStringLiteral("127.0.0.2"), QJsonValue(), 1}));

        QVERIFY(!entry.contains("service_id"));
        QCOMPARE(syslogEntry({}, c, QStringLiteral("svc")).value("service_id").toString(),
                 QStringLiteral("svc"));

        QCOMPARE(syslogMessage("{}", 1733378400123, 42),
                 QByteArray("<46>1 2024-12-05T06:00:00.123Z - apisix 42 - - {}\n"));
    }

    void sessionsOverTcp()
    {
        const QList<int> ports = freePorts(2);
        SyslogServer server(ports[0], freeUdpPort());
        QVERIFY(server.ready());
        TestServer echo(TestServer::Echo);
        const int port = freePort();

        const StreamRoute r = routeTo("logged", echo.port(),
                                      QStringLiteral(R"({
            "ip-restriction": {"blacklist": ["127.0.0.3"]},
            "syslog": {"host": "127.0.0.1", "port": %1, "batch_max_size": 1,
                       "log_format": {"client": "$remote_addr", "status": "$status",
                                      "received": "$bytes_received", "sent": "$bytes_sent",
                                      "upstream": "$upstream_addr", "reason": "$close_reason"}}})")
                                          .arg(ports[0]));
        QVERIFY(r.plugins.syslog);
        Engine engine(EngineOptions{});
        engine.apply(oneRoute(port, r));

        QCOMPARE(session(port, "127.0.0.2", "hello"), QByteArray("hello"));
        QTRY_COMPARE_WITH_TIMEOUT(server.received().size(), 1, 10000);
        QStringList m = server.received().at(0);
        QCOMPARE(m.mid(0, 4), QStringList({"46", "1", "apisix",
                                           QString::number(QCoreApplication::applicationPid())}));
        QJsonObject entry = messageJson(m);
        QCOMPARE(entry.value("client").toString(), QStringLiteral("127.0.0.2"));
        QCOMPARE(entry.value("status").toString(), QStringLiteral("200"));
        QCOMPARE(entry.value("received").toString(), QStringLiteral("5"));
        QCOMPARE(entry.value("sent").toString(), QStringLiteral("5"));
        QCOMPARE(entry.value("upstream").toString(),
                 QStringLiteral("127.0.0.1:%1").arg(echo.port()));
        QCOMPARE(entry.value("route_id").toString(), QStringLiteral("logged"));

        // A client ip-restriction refuses (a plugin before syslog) is logged too, with 403
        // and no upstream.
        ReadEnd end = ReadEnd::Timeout;
        greetingVia("127.0.0.1", port, "127.0.0.3", &end);
        QTRY_COMPARE_WITH_TIMEOUT(server.received().size(), 2, 10000);
        entry = messageJson(server.received().at(1));
        QCOMPARE(entry.value("client").toString(), QStringLiteral("127.0.0.3"));
        QCOMPARE(entry.value("status").toString(), QStringLiteral("403"));
        QVERIFY(!entry.contains("upstream"));
        QCOMPARE(entry.value("route_id").toString(), QStringLiteral("logged"));
    }

    // plugin_metadata: a route's syslog without log_format logs with syslog's metadata format;
    // a change to the metadata applies to the next session; a route with its own format keeps
    // it; without either nothing is sent (APISIX logs an error instead).
    void formatFromPluginMetadata()
    {
        const QList<int> ports = freePorts(2);
        SyslogServer server(ports[0], freeUdpPort());
        QVERIFY(server.ready());
        TestServer echo(TestServer::Echo);
        const QList<int> listen = freePorts(2);
        const QString plain =
            QStringLiteral(R"({"syslog": {"host": "127.0.0.1", "port": %1, "batch_max_size": 1}})");
        const QString own = QStringLiteral(R"({"syslog": {"host": "127.0.0.1", "port": %1,
            "batch_max_size": 1, "log_format": {"own": "$remote_port"}}})");
        Config config;
        config.streamProxy.tcp << listenEntry("127.0.0.1", listen[0])
                               << listenEntry("127.0.0.1", listen[1]);
        config.streamRoutes << routeTo("plain", echo.port(), plain.arg(ports[0]))
                            << routeTo("own", echo.port(), own.arg(ports[0]));
        config.streamRoutes[0].serverPort = listen[0];
        config.streamRoutes[1].serverPort = listen[1];
        QVERIFY(config.streamRoutes[0].plugins.syslog && config.streamRoutes[1].plugins.syslog);
        Engine engine(EngineOptions{});
        engine.apply(config); // no metadata yet: "plain" logs nothing
        QCOMPARE(session(listen[0], "127.0.0.2", "a"), QByteArray("a"));
        QCOMPARE(session(listen[1], "127.0.0.2", "b"), QByteArray("b"));
        QTRY_COMPARE_WITH_TIMEOUT(server.received().size(), 1, 10000);
        QVERIFY(messageJson(server.received().at(0)).contains("own"));

        config.pluginMetadata << PluginMetadata{
            "syslog", QJsonObject{{"log_format", QJsonObject{{"who", "$remote_addr"}}}}};
        engine.apply(config);
        QCOMPARE(session(listen[0], "127.0.0.2", "c"), QByteArray("c"));
        QTRY_COMPARE_WITH_TIMEOUT(server.received().size(), 2, 10000);
        QJsonObject entry = messageJson(server.received().at(1));
        QCOMPARE(entry.value("who").toString(), QStringLiteral("127.0.0.2"));
        QCOMPARE(entry.value("route_id").toString(), QStringLiteral("plain"));
        QCOMPARE(session(listen[1], "127.0.0.2", "d"), QByteArray("d"));
        QTRY_COMPARE_WITH_TIMEOUT(server.received().size(), 3, 10000);
        QVERIFY(messageJson(server.received().at(2)).contains("own"));

        config.pluginMetadata[0].value = {{"log_format", QJsonObject{{"status", "$status"}}}};
        engine.apply(config);
        QCOMPARE(session(listen[0], "127.0.0.2", "e"), QByteArray("e"));
        QTRY_COMPARE_WITH_TIMEOUT(server.received().size(), 4, 10000);
        entry = messageJson(server.received().at(3));
        QCOMPARE(entry.value("status").toString(), QStringLiteral("200"));
        QVERIFY(!entry.contains("who"));
    }

    void batchOverUdp()
    {
        const int udpPort = freeUdpPort();
        SyslogServer server(freePort(), udpPort);
        QVERIFY(server.ready());
        TestServer echo(TestServer::Echo);
        const int port = freePort();
        const StreamRoute r = routeTo("udp-logged", echo.port(),
                                      QStringLiteral(R"({"syslog": {
            "host": "127.0.0.1", "port": %1, "sock_type": "udp", "batch_max_size": 3,
            "inactive_timeout": 60, "log_format": {"remote_port": "$remote_port"}}})")
                                          .arg(udpPort));
        QVERIFY(r.plugins.syslog);
        Engine engine(EngineOptions{});
        engine.apply(oneRoute(port, r));

        // Two sessions make no batch of three: nothing is sent while they wait.
        for (int i = 0; i < 2; ++i)
            QCOMPARE(session(port, "127.0.0.2", "x"), QByteArray("x"));
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 2, 5000);
        QTest::qWait(500);
        QCOMPARE(server.received().size(), 0);
        // The third fills it: three messages, each parsed on its own.
        QCOMPARE(session(port, "127.0.0.2", "x"), QByteArray("x"));
        QTRY_COMPARE_WITH_TIMEOUT(server.received().size(), 3, 10000);
        QSet<QString> ports;
        for (const QStringList& m : server.received()) {
            QCOMPARE(m.value(2), QStringLiteral("apisix"));
            ports.insert(messageJson(m).value("remote_port").toString());
        }
        QCOMPARE(ports.size(), 3);
    }

    void loneEntryGoesAfterInactiveTimeout()
    {
        // APISIX's default batch of 1000 is never filled here: the one entry goes when no
        // other came for inactive_timeout seconds.
        const int syslogPort = freePort();
        SyslogServer server(syslogPort, freeUdpPort());
        QVERIFY(server.ready());
        TestServer echo(TestServer::Echo);
        const int port = freePort();
        const StreamRoute r = routeTo("quiet", echo.port(),
                                      QStringLiteral(R"({"syslog": {
            "host": "127.0.0.1", "port": %1, "inactive_timeout": 1,
            "log_format": {"client": "$remote_addr"}}})")
                                          .arg(syslogPort));
        QVERIFY(r.plugins.syslog);
        Engine engine(EngineOptions{});
        engine.apply(oneRoute(port, r));
        QCOMPARE(session(port, "127.0.0.2", "x"), QByteArray("x"));
        QTRY_COMPARE_WITH_TIMEOUT(server.received().size(), 1, 10000);
        QCOMPARE(messageJson(server.received().at(0)).value("client").toString(),
                 QStringLiteral("127.0.0.2"));
    }

    void serverThatComesUpLateGetsTheRetry()
    {
        const int syslogPort = freePort();
        TestServer echo(TestServer::Echo);
        const int port = freePort();
        const StreamRoute r = routeTo("late", echo.port(),
                                      QStringLiteral(R"({"syslog": {
            "host": "127.0.0.1", "port": %1, "batch_max_size": 1, "max_retry_count": 30,
            "retry_delay": 1, "timeout": 500, "log_format": {"client": "$remote_addr"}}})")
                                          .arg(syslogPort));
        QVERIFY(r.plugins.syslog);
        Engine engine(EngineOptions{});
        engine.apply(oneRoute(port, r));
        QCOMPARE(session(port, "127.0.0.2", "x"), QByteArray("x"));
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 1, 5000);
        QTest::qWait(1500); // at least one refused attempt
        SyslogServer server(syslogPort, freeUdpPort());
        QVERIFY(server.ready());
        QTRY_COMPARE_WITH_TIMEOUT(server.received().size(), 1, 10000);
        QCOMPARE(messageJson(server.received().at(0)).value("client").toString(),
                 QStringLiteral("127.0.0.2"));
    }
};

QTEST_GUILESS_MAIN(TstSyslog)
#include "tst_syslog.moc"
