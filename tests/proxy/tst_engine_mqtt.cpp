// The mqtt-proxy stream plugin: the MQTT CONNECT reader on APISIX's own test packets, fed whole
// and a byte at a time; mosquitto (Debian's broker and clients) behind a route, with a 3.1.1
// client admitted and shown by its client id and a 5.0 client refused for its level; chash on
// mqtt_client_id over two upstreams; the CONNECT and what follows it reach the upstream byte
// for byte; malformed, truncated and silent clients are refused before any upstream is reached,
// and give back the limit-conn slot they held.

#include "api/snapshotjson.h"
#include "loopback.h"
#include "peerdaemon.h"
#include "proxy/engine.h"
#include "proxy/mqttconnect.h"
#include "proxyfixture.h"

#include <QTest>
#include <memory>

using namespace sg;
using namespace sgtest;

namespace {

const QString kLocal = QStringLiteral("127.0.0.1");

// A CONNECT with a clean session and a 60 s keep alive (v5: with `properties`).
QByteArray connectPacket(int level, const QByteArray& clientId,
                         const QByteArray& name = QByteArrayLiteral("MQTT"),
                         const QByteArray& properties = {})
{
    QByteArray body;
    body += char(name.size() >> 8);
    body += char(name.size() & 0xFF);
    body += name;
    body += char(level);
    body += char(0x02);
    body += QByteArray::fromHex("003c");
    if (level == 5) {
        body += char(properties.size()); // < 128 here
        body += properties;
    }
    body += char(clientId.size() >> 8);
    body += char(clientId.size() & 0xFF);
    body += clientId;
    QByteArray packet(1, char(0x10));
    for (qsizetype left = body.size();;) { // remaining length, 7 bits a byte
        const char b = char(left & 0x7F);
        left >>= 7;
        packet += char(b | (left ? 0x80 : 0));
        if (!left)
            break;
    }
    return packet + body;
}

EngineOptions options(const QString& eventLoop, double prereadTimeout = 30)
{
    EngineOptions o;
    o.workers = 2;
    o.eventLoop = eventLoop;
    o.prereadTimeout = prereadTimeout;
    return o;
}

StreamRoute mqttRoute(const QString& id, const Upstream& up, int level = 4)
{
    StreamRoute r = route(id, up);
    MqttProxyConf conf;
    conf.protocolLevel = level;
    r.plugins.mqttProxy = conf;
    return r;
}

// mosquitto in the foreground on 127.0.0.1:port, anonymous clients allowed.
class Mosquitto
{
public:
    bool start(int port)
    {
        const QByteArray conf = QStringLiteral("listener %1 127.0.0.1\n"
                                               "allow_anonymous true\n"
                                               "persistence false\n"
                                               "user root\n")
                                    .arg(port)
                                    .toUtf8();
        return m_daemon.start(QStringLiteral("mosquitto"), QStringLiteral("mosquitto.conf"), conf,
                              {QStringLiteral("-c"), m_daemon.filePath("mosquitto.conf")}, {port});
    }
    QString error() const { return m_daemon.error(); }

private:
    PeerDaemon m_daemon;
};

// Runs a mosquitto client program to its end (bounded); returns its exit code (-1: it did not
// finish in time) and what it printed.
int runClient(const QString& program, const QStringList& args, QByteArray* output = nullptr)
{
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(program, args);
    if (!p.waitForFinished(10000)) {
        p.kill();
        p.waitForFinished(1000);
        return -1;
    }
    if (output)
        *output = p.readAll();
    return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
}

} // namespace

class TstEngineMqtt : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // APISIX's t/stream-plugin/mqtt-proxy.t packets and the cases around them: the outcome is
    // the same whole and a byte at a time, and nothing past the client id is taken.
    void reader_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<bool>("done");
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("level");
        QTest::addColumn<QString>("clientId");
        QTest::addColumn<QString>("error");
        const auto hex = [](const char* h) { return QByteArray::fromHex(h); };
        QTest::newRow("3.1.1 foo")
            << hex("100f00044d5154540402003c0003666f6f") << true << "MQTT" << 4 << "foo"
            << "";
        QTest::newRow("5 empty properties, empty id")
            << hex("100d00044d5154540502003c000000") << true << "MQTT" << 5 << ""
            << "";
        QTest::newRow("5 with properties")
            << hex("101b00044d5154540502003c051100000e100009636c696e742d313131") << true << "MQTT"
            << 5 << "clint-111"
            << "";
        QTest::newRow("3.1 MQIsdp")
            << connectPacket(3, "old", "MQIsdp") << true << "MQIsdp" << 3 << "old"
            << "";
        QTest::newRow("two-byte remaining length") << connectPacket(4, QByteArray(200, 'x')) << true
                                                   << "MQTT" << 4 << QString(200, 'x') << "";
        QTest::newRow("not MQTT") << QByteArray("mmm") << false << "" << 0 << ""
                                  << "the first packet is not an MQTT CONNECT: it starts with "
                                     "byte 0x6d";
        QTest::newRow("CONNACK") << hex("20020000") << false << "" << 0 << ""
                                 << "the first packet is not an MQTT CONNECT: it starts with "
                                    "byte 0x20";
        QTest::newRow("client id beyond the packet")
            << hex("100c00044d5154540402003c0003666f6f") << false << "" << 0 << ""
            << "the MQTT CONNECT packet ends inside its client identifier";
        QTest::newRow("malformed remaining length") << hex("10ffffffff01") << false << "" << 0 << ""
                                                    << "the MQTT CONNECT packet's remaining "
                                                       "length is malformed";
        QTest::newRow("client id past the bound")
            << connectPacket(4, QByteArray(20000, 'y')) << false << "" << 0 << ""
            << "the MQTT CONNECT packet's client identifier does not end within its first "
               "16384 bytes";
    }
    void reader()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(bool, done);
        QFETCH(QString, name);
        QFETCH(int, level);
        QFETCH(QString, clientId);
        QFETCH(QString, error);
        const QByteArray after = QByteArrayLiteral("\x30\x05\x00\x01t"); // a PUBLISH follows
        for (const bool byByte : {false, true}) {
            MqttConnectReader r;
            const QByteArray input = bytes + after;
            std::size_t took = 0;
            if (byByte) {
                for (qsizetype i = 0; i < input.size(); ++i)
                    took += r.feed(input.constData() + i, 1);
            } else {
                took = r.feed(input.constData(), std::size_t(input.size()));
            }
            if (done) {
                QVERIFY(r.state() == MqttConnectReader::State::Done);
                QCOMPARE(took, std::size_t(bytes.size())); // the PUBLISH is not taken
                QCOMPARE(r.connect().protocolName, name);
                QCOMPARE(r.connect().protocolLevel, level);
                QCOMPARE(r.connect().clientId, clientId);
                QVERIFY(r.connect().detected);
            } else {
                QVERIFY(r.state() == MqttConnectReader::State::Error);
                QCOMPARE(r.error(), error);
                QVERIFY(took <= MqttConnectReader::kMaxPrefix);
            }
            QCOMPARE(r.wantAtMost(), std::size_t(0));
        }
    }

    void initTestCase_data()
    {
        QTest::addColumn<QString>("loop");
        QTest::newRow("epoll") << "epoll";
        QTest::newRow("poll") << "poll";
    }

    // A real broker behind a route with mqtt-proxy (level 4): a 3.1.1 subscriber and publisher
    // get through and show by their client ids; a 5.0 client is refused for its level, with
    // APISIX's 503 in the access log and the reason in the event log.
    void mosquittoBehindTheRoute()
    {
        QFETCH_GLOBAL(QString, loop);
        if (!PeerDaemon::installed(QStringLiteral("mosquitto")) ||
            !PeerDaemon::installed(QStringLiteral("mosquitto_pub")))
            QFAIL("mosquitto is not installed (Debian packages mosquitto, mosquitto-clients)");
        const QList<int> ports = freePorts(2);
        Mosquitto broker;
        QVERIFY2(broker.start(ports[0]), qPrintable(broker.error()));
        Engine engine(options(loop));
        Config c;
        c.streamProxy.tcp << listenEntry(kLocal, ports[1]);
        c.streamRoutes << mqttRoute("mqtt", upstream({node(kLocal, ports[0])}));
        engine.apply(c);
        const QString port = QString::number(ports[1]);

        QProcess sub;
        sub.setProcessChannelMode(QProcess::MergedChannels);
        sub.start(QStringLiteral("mosquitto_sub"),
                  {"-h", kLocal, "-p", port, "-V", "mqttv311", "-i", "watcher-1", "-t",
                   "streamgate/test", "-C", "1", "-W", "10"});
        QVERIFY(sub.waitForStarted(5000));
        QTRY_VERIFY_WITH_TIMEOUT(activeOn(engine.snapshot(), "mqtt").has_value(), 5000);
        const ConnectionInfo watcher = *activeOn(engine.snapshot(), "mqtt");
        QCOMPARE(watcher.mqtt->clientId, QStringLiteral("watcher-1"));
        QCOMPARE(watcher.mqtt->protocolLevel, 4);
        const QJsonObject json = connectionToJson(watcher).value("mqtt").toObject();
        QCOMPARE(json.value("client_id").toString(), QStringLiteral("watcher-1"));
        QCOMPARE(json.value("protocol_name").toString(), QStringLiteral("MQTT"));
        QCOMPARE(json.value("protocol_level").toInt(), 4);

        // The subscription is in place once the broker answered SUBACK; publish until the
        // subscriber has its message (bounded).
        QByteArray printed;
        for (int i = 0; i < 50 && sub.state() == QProcess::Running; ++i) {
            QCOMPARE(runClient(QStringLiteral("mosquitto_pub"),
                               {"-h", kLocal, "-p", port, "-V", "mqttv311", "-i", "sensor-7", "-t",
                                "streamgate/test", "-m", "hello through streamgate"}),
                     0);
            sub.waitForFinished(100);
        }
        QVERIFY(sub.state() == QProcess::NotRunning || sub.waitForFinished(5000));
        printed = sub.readAll();
        QCOMPARE(printed.trimmed(), QByteArray("hello through streamgate"));
        QCOMPARE(sub.exitCode(), 0);

        QByteArray out;
        QVERIFY(runClient(QStringLiteral("mosquitto_pub"),
                          {"-h", kLocal, "-p", port, "-V", "mqttv5", "-i", "too-new", "-t",
                           "streamgate/test", "-m", "refused"},
                          &out) != 0);
        QTRY_VERIFY_WITH_TIMEOUT(
            denyTexts(engine.eventsSince(0, 1000)).contains("expects protocol level 4, got 5"),
            5000);
        bool sawSensor = false;
        const Snapshot s = engine.snapshot();
        for (const ConnectionInfo& closed : s.closed)
            sawSensor = sawSensor || closed.mqtt->clientId == QLatin1String("sensor-7");
        QVERIFY(sawSensor);
        QCOMPARE(s.denied.size(), 1);
        QVERIFY(s.denied.first().reason == CloseReason::BadMqttConnect);
    }

    // chash on mqtt_client_id: a client id always reaches the same node, and the ids spread
    // over both; a client without an id is balanced by its address.
    void chashOnClientId()
    {
        QFETCH_GLOBAL(QString, loop);
        auto a = greeter("node-a");
        auto b = greeter("node-b");
        Engine engine(options(loop));
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << listenEntry(kLocal, port);
        Upstream up = upstream({node(kLocal, a->port()), node(kLocal, b->port())}, "chash");
        up.hashOn = QStringLiteral("vars");
        up.key = QStringLiteral("mqtt_client_id");
        c.streamRoutes << mqttRoute("mqtt", up);
        engine.apply(c);

        QSet<QByteArray> reached;
        for (int i = 0; i < 16; ++i) {
            const QByteArray id = "client-" + QByteArray::number(i);
            const QByteArray first = sendAndRead(kLocal, port, {}, connectPacket(4, id));
            QVERIFY2(first == "node-a" || first == "node-b", first.constData());
            for (int again = 0; again < 2; ++again)
                QCOMPARE(sendAndRead(kLocal, port, QStringLiteral("127.0.0.%1").arg(2 + again),
                                     connectPacket(4, id)),
                         first);
            reached << first;
        }
        QCOMPARE(reached.size(), 2);
        // No client id: the address decides, the same each time.
        const QByteArray byAddress = sendAndRead(kLocal, port, "127.0.0.9", connectPacket(4, ""));
        for (int again = 0; again < 3; ++again)
            QCOMPARE(sendAndRead(kLocal, port, "127.0.0.9", connectPacket(4, "")), byAddress);
    }

    // The CONNECT reaches the upstream as sent, and what the client sent after it in the same
    // write follows byte for byte; the bytes count as the client's.
    void connectAndPayloadRelayedIntact()
    {
        QFETCH_GLOBAL(QString, loop);
        TestServer echo(TestServer::Echo);
        Engine engine(options(loop));
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << listenEntry(kLocal, port);
        c.streamRoutes << mqttRoute("mqtt", upstream({node(kLocal, echo.port())}), 5);
        engine.apply(c);

        const QByteArray sent =
            connectPacket(5, "bulk", "MQTT", QByteArray::fromHex("110000000e")) +
            pattern(300000, 3);
        const int fd = connectTo(kLocal, port);
        QVERIFY(fd >= 0);
        QByteArray got;
        QCOMPARE(exchange(fd, sent, got, -1, true), ReadEnd::Eof);
        ::close(fd);
        QCOMPARE(got.size(), sent.size());
        QVERIFY(got == sent);
        QTRY_VERIFY_WITH_TIMEOUT(!engine.snapshot().closed.isEmpty(), 5000);
        const ConnectionInfo conn = engine.snapshot().closed.last();
        QCOMPARE(conn.mqtt->clientId, QStringLiteral("bulk"));
        QCOMPARE(conn.bytesFromClient, quint64(sent.size()));
        QCOMPARE(conn.bytesUp, quint64(sent.size()));
    }

    // Malformed, truncated, wrongly named and silent clients are closed before any upstream
    // is reached, each refusal says why, and each gives back its limit-conn slot (limit-conn
    // runs before mqtt-proxy): a good client is admitted after them.
    void badConnectRefused()
    {
        QFETCH_GLOBAL(QString, loop);
        auto up = greeter("served");
        Engine engine(options(loop, 0.3));
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << listenEntry(kLocal, port);
        StreamRoute r = mqttRoute("mqtt", upstream({node(kLocal, up->port())}));
        LimitConnConf limit;
        limit.conn = 1;
        limit.burst = 0;
        limit.defaultConnDelay = 0.1;
        limit.key = QStringLiteral("server_port");
        r.plugins.limitConn = limit;
        c.streamRoutes << r;
        engine.apply(c);

        const QList<QPair<QString, QByteArray>> clients{
            {"127.0.0.2", "mmm"},
            {"127.0.0.3", connectPacket(4, "c").left(8)}, // then closes (below)
            {"127.0.0.4", connectPacket(4, "c", "MQIsdp")},
            {"127.0.0.5", QByteArray()}, // silent
        };
        for (const auto& [from, bytes] : clients) {
            const int fd = connectTo(kLocal, port, from);
            QVERIFY(fd >= 0);
            QVERIFY(bytes.isEmpty() || sendAll(fd, bytes));
            if (from == "127.0.0.3")
                ::shutdown(fd, SHUT_WR);
            QByteArray got;
            const ReadEnd end = waitForEnd(fd, 10000, &got);
            ::close(fd);
            QVERIFY2(end == ReadEnd::Eof || end == ReadEnd::Reset, qPrintable(from));
            QCOMPARE(got, QByteArray());
        }
        QCOMPARE(up->accepted.load(), 0);
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().denied.size(), 4, 5000);
        for (const DeniedClient& d : engine.snapshot().denied)
            QVERIFY2(d.reason == CloseReason::BadMqttConnect, qPrintable(d.clientIp));
        const QString all = denyTexts(engine.eventsSince(0, 1000));
        QVERIFY2(all.contains("not an MQTT CONNECT: it starts with byte 0x6d"), qPrintable(all));
        QVERIFY2(all.contains("closed in the middle of its MQTT CONNECT packet"), qPrintable(all));
        QVERIFY2(all.contains("expects protocol name MQTT, got MQIsdp"), qPrintable(all));
        QVERIFY2(all.contains("no MQTT CONNECT packet within 0.3 s"), qPrintable(all));

        QCOMPARE(sendAndRead(kLocal, port, "127.0.0.6", connectPacket(4, "good")),
                 QByteArray("served"));
    }

    // MQTT runs over TCP: a UDP client of a route with mqtt-proxy is refused, not relayed.
    void udpClientRefused()
    {
        QFETCH_GLOBAL(QString, loop);
        TestServer never(TestServer::Echo);
        Engine engine(options(loop));
        const int port = freePort();
        Config c;
        c.streamProxy.udp << listenEntry(kLocal, port);
        c.streamRoutes << mqttRoute("mqtt", upstream({node(kLocal, never.port())}));
        engine.apply(c);

        const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
        QVERIFY(fd >= 0);
        sockaddr_storage to{};
        socklen_t toLen = 0;
        QVERIFY(makeAddress(kLocal, port, to, toLen));
        const QByteArray packet = connectPacket(4, "udp");
        QVERIFY(::sendto(fd, packet.constData(), size_t(packet.size()), 0,
                         reinterpret_cast<sockaddr*>(&to), toLen) == packet.size());
        ::close(fd);
        QTRY_VERIFY_WITH_TIMEOUT(
            denyTexts(engine.eventsSince(0, 1000)).contains("mqtt-proxy reads MQTT over TCP"),
            5000);
        QVERIFY(engine.snapshot().denied.first().reason == CloseReason::BadMqttConnect);
    }
};

QTEST_GUILESS_MAIN(TstEngineMqtt)
#include "tst_engine_mqtt.moc"
