// Listeners with the PROXY protocol, with real peers on 127.0.0.0/8: a raw client bound to
// 127.0.0.2 sends v1 and v2 headers for another address (routes and ip-restriction decide on
// it, the bytes after the header reach the upstream intact); haproxy's send-proxy and
// send-proxy-v2 in front; nginx's `listen ... proxy_protocol` behind, as the receiver of what
// proxy_protocol_to_upstream sends; an untrusted peer's header is not believed; a malformed
// header, a plain client and a silent one are closed before any upstream is reached.

#include "api/snapshotjson.h"
#include "loopback.h"
#include "peerdaemon.h"
#include "proxy/engine.h"
#include "proxyfixture.h"
#include "stats/accesslog.h"

#include <QTest>
#include <memory>

using namespace sg;
using namespace sgtest;

namespace {

// The access log lines of the sessions that ended so far, oldest first.
QStringList closedLines(Engine& engine, const AccessLogFormat& format)
{
    QStringList lines;
    for (const Event& e : engine.eventsSince(0, 1000))
        if (e.kind == EventKind::Close)
            lines << formatAccessLogSession(e.connection, format);
    return lines;
}

const QString kLocal = QStringLiteral("127.0.0.1");

QByteArray v2Tcp4(const char* src, quint16 sport, const char* dst, quint16 dport)
{
    QByteArray h = QByteArray::fromHex("0D0A0D0A000D0A515549540A2111000C");
    for (const char* a : {src, dst}) {
        const quint32 ip = QHostAddress(QString::fromLatin1(a)).toIPv4Address();
        for (int shift : {24, 16, 8, 0})
            h += char((ip >> shift) & 0xFF);
    }
    for (quint16 p : {sport, dport}) {
        h += char(p >> 8);
        h += char(p & 0xFF);
    }
    return h;
}

ListenEntry ppListen(int port, bool in, bool out)
{
    ListenEntry e = listenEntry(kLocal, port);
    if (in)
        e.proxyProtocol = true;
    if (out)
        e.proxyProtocolToUpstream = true;
    return e;
}

EngineOptions options(const QString& eventLoop, double headerTimeout = 30)
{
    EngineOptions o;
    o.workers = 2;
    o.eventLoop = eventLoop;
    o.proxyProtocolTimeout = headerTimeout;
    return o;
}

const DeniedClient* deniedFor(const Snapshot& s, const QString& ip)
{
    for (const DeniedClient& d : s.denied)
        if (d.clientIp == ip)
            return &d;
    return nullptr;
}

} // namespace

class TstEngineProxyProtocol : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase_data()
    {
        QTest::addColumn<QString>("loop");
        QTest::newRow("epoll") << "epoll";
        QTest::newRow("poll") << "poll";
    }

    // The carried address is what remote_addr matches; what follows the header (in the same
    // write) reaches the upstream byte for byte; the connection shows the carried client and
    // keeps the peer.
    void carriedAddressRoutesAndBytesFollow_data()
    {
        QTest::addColumn<QByteArray>("header");
        QTest::newRow("v1") << QByteArray("PROXY TCP4 203.0.113.7 192.0.2.1 4242 3306\r\n");
        QTest::newRow("v2") << v2Tcp4("203.0.113.7", 4242, "192.0.2.1", 3306);
    }
    void carriedAddressRoutesAndBytesFollow()
    {
        QFETCH_GLOBAL(QString, loop);
        QFETCH(QByteArray, header);
        TestServer echo(TestServer::Echo);
        auto other = greeter("peer-route");
        Engine engine(options(loop));
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << ppListen(port, true, false);
        StreamRoute carried = route("carried", upstream({node(kLocal, echo.port())}));
        carried.remoteAddr = QStringLiteral("203.0.113.0/24");
        StreamRoute peer = route("peer", upstream({node(kLocal, other->port())}));
        peer.remoteAddr = QStringLiteral("127.0.0.2");
        c.streamRoutes << carried << peer;
        engine.apply(c);

        const int fd = connectTo(kLocal, port, QStringLiteral("127.0.0.2"));
        QVERIFY(fd >= 0);
        const QByteArray payload = pattern(300000, 7);
        QByteArray got;
        // One write: the header and the first payload bytes arrive together.
        QCOMPARE(exchange(fd, header + payload, got, -1, true), ReadEnd::Eof);
        ::close(fd);
        QCOMPARE(got.size(), payload.size());
        QVERIFY(got == payload);
        QCOMPARE(other->accepted.load(), 0);

        QTRY_VERIFY_WITH_TIMEOUT(!engine.snapshot().closed.isEmpty(), 5000);
        const ConnectionInfo conn = engine.snapshot().closed.last();
        QCOMPARE(conn.routeId, QStringLiteral("carried"));
        QCOMPARE(conn.clientAddress, QHostAddress("203.0.113.7"));
        QCOMPARE(conn.clientPort, quint16(4242));
        QCOMPARE(conn.peerAddress, QHostAddress("127.0.0.2"));
        // The admin API shows both.
        const QJsonObject json = connectionToJson(conn);
        QCOMPARE(json.value("client_addr").toString(), QStringLiteral("203.0.113.7"));
        QCOMPARE(json.value("peer_addr").toString(), QStringLiteral("127.0.0.2"));
        QCOMPARE(conn.bytesFromClient, quint64(payload.size())); // the header is not relayed
    }

    // ip-restriction sees the carried address: the allowed one is served, another refused.
    void ipRestrictionOnCarriedAddress()
    {
        QFETCH_GLOBAL(QString, loop);
        auto up = greeter("served");
        Engine engine(options(loop));
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << ppListen(port, true, false);
        StreamRoute r = route("r", upstream({node(kLocal, up->port())}));
        IpRestrictionConf ip;
        ip.whitelist = QStringList{QStringLiteral("198.51.100.9")};
        r.plugins.ipRestriction = ip;
        c.streamRoutes << r;
        engine.apply(c);

        QCOMPARE(
            sendAndRead(kLocal, port, "127.0.0.2", v2Tcp4("198.51.100.9", 1000, "10.0.0.1", 80)),
            QByteArray("served"));
        ReadEnd end;
        QCOMPARE(sendAndRead(kLocal, port, "127.0.0.2",
                             v2Tcp4("198.51.100.10", 1000, "10.0.0.1", 80), &end),
                 QByteArray());
        QVERIFY(end == ReadEnd::Eof || end == ReadEnd::Reset);
        QCOMPARE(up->accepted.load(), 1);
        QTRY_VERIFY_WITH_TIMEOUT(deniedFor(engine.snapshot(), "198.51.100.10"), 5000);
        const Snapshot s = engine.snapshot(); // deniedFor points into it
        QVERIFY(deniedFor(s, "198.51.100.10")->reason == CloseReason::DeniedIpRestriction);
        QVERIFY(!deniedFor(s, "127.0.0.2"));
    }

    // With real_ip_from naming 127.0.0.3 only, a header from 127.0.0.2 is read (and required)
    // but not believed: the peer's own address routes. From 127.0.0.3 it is believed.
    void untrustedPeerIsNotBelieved()
    {
        QFETCH_GLOBAL(QString, loop);
        auto carried = greeter("carried");
        auto peer = greeter("peer");
        Engine engine(options(loop));
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << ppListen(port, true, false);
        c.streamgate.realIpFrom = QStringList{QStringLiteral("127.0.0.3")};
        StreamRoute a = route("carried", upstream({node(kLocal, carried->port())}));
        a.remoteAddr = QStringLiteral("203.0.113.7");
        StreamRoute b = route("peer", upstream({node(kLocal, peer->port())}));
        c.streamRoutes << a << b;
        engine.apply(c);

        const QByteArray header = "PROXY TCP4 203.0.113.7 192.0.2.1 4242 3306\r\n";
        QCOMPARE(sendAndRead(kLocal, port, "127.0.0.2", header), QByteArray("peer"));
        QCOMPARE(sendAndRead(kLocal, port, "127.0.0.3", header), QByteArray("carried"));
        // The access log's variables (and syslog's) have the header either way, and the peer.
        const ParsedAccessLogFormat f = parseAccessLogFormat(
            u"$remote_addr $proxy_protocol_addr:$proxy_protocol_port "
            "$proxy_protocol_server_addr:$proxy_protocol_server_port $realip_remote_addr");
        QVERIFY2(f.ok(), qPrintable(f.error));
        QStringList lines;
        QTRY_COMPARE((lines = closedLines(engine, f.format)).size(), 2);
        QCOMPARE(lines, QStringList({"127.0.0.2 203.0.113.7:4242 192.0.2.1:3306 127.0.0.2",
                                     "203.0.113.7 203.0.113.7:4242 192.0.2.1:3306 127.0.0.3"}));
        // Nothing trusted at all (real_ip_from: []): even loopback is not believed.
        c.streamgate.realIpFrom = QStringList{};
        engine.apply(c);
        QCOMPARE(sendAndRead(kLocal, port, "127.0.0.3", header), QByteArray("peer"));
    }

    // The header is required: a malformed one, a client that speaks its own protocol at once,
    // one that closes early and one that sends nothing are closed, no upstream reached, and
    // each refusal says why.
    void badOrMissingHeaderCloses()
    {
        QFETCH_GLOBAL(QString, loop);
        auto up = greeter("never");
        Engine engine(options(loop, 0.3));
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << ppListen(port, true, false);
        c.streamRoutes << route("r", upstream({node(kLocal, up->port())}));
        engine.apply(c);

        const QList<QPair<QString, QByteArray>> clients{
            {"127.0.0.2", "PROXY TCP4 203.0.113.7 nonsense 1 2\r\npayload"},
            {"127.0.0.3", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"},
            {"127.0.0.4", "PROXY TCP4 203.0.113.7 192.0.2.1 4242"}, // then closes (below)
            {"127.0.0.5", QByteArray()},                            // silent
        };
        for (const auto& [from, bytes] : clients) {
            const int fd = connectTo(kLocal, port, from);
            QVERIFY(fd >= 0);
            QVERIFY(bytes.isEmpty() || sendAll(fd, bytes));
            if (from == "127.0.0.4")
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
            QVERIFY2(d.reason == CloseReason::BadProxyHeader, qPrintable(d.clientIp));
        const QString all = denyTexts(engine.eventsSince(0, 1000));
        QVERIFY2(all.contains("address \"nonsense\" is not an IPv4 address"), qPrintable(all));
        QVERIFY2(all.contains("does not start with a PROXY protocol header"), qPrintable(all));
        QVERIFY2(all.contains("closed in the middle of its PROXY protocol header"),
                 qPrintable(all));
        QVERIFY2(all.contains("no PROXY protocol header within 0.3 s"), qPrintable(all));
    }

    // A listener without proxy_protocol relays a header as ordinary bytes (APISIX's "pass
    // through"): the upstream gets it.
    void listenerWithoutProxyProtocolPassesHeaderOn()
    {
        QFETCH_GLOBAL(QString, loop);
        TestServer echo(TestServer::Echo);
        Engine engine(options(loop));
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << listenEntry(kLocal, port);
        c.streamRoutes << route("r", upstream({node(kLocal, echo.port())}));
        engine.apply(c);
        const QByteArray header = "PROXY TCP4 203.0.113.7 192.0.2.1 4242 3306\r\n";
        const int fd = connectTo(kLocal, port);
        QByteArray got;
        QCOMPARE(exchange(fd, header, got, -1, true), ReadEnd::Eof);
        ::close(fd);
        QCOMPARE(got, header);
    }

    // limit-conn keyed on proxy_protocol_addr counts per carried client, even from a peer not
    // trusted to set remote_addr: one connection per carried address.
    void limitConnOnProxyProtocolAddr()
    {
        QFETCH_GLOBAL(QString, loop);
        TestServer sink(TestServer::Sink);
        Engine engine(options(loop));
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << ppListen(port, true, false);
        c.streamgate.realIpFrom = QStringList{};
        StreamRoute r = route("r", upstream({node(kLocal, sink.port())}));
        LimitConnConf lc;
        lc.conn = 1;
        lc.burst = 0;
        lc.defaultConnDelay = 0.1;
        lc.key = QStringLiteral("proxy_protocol_addr");
        r.plugins.limitConn = lc;
        c.streamRoutes << r;
        engine.apply(c);

        const auto open = [&](const char* carried) {
            const int fd = connectTo(kLocal, port, QStringLiteral("127.0.0.2"));
            sendAll(fd, QStringLiteral("PROXY TCP4 %1 192.0.2.1 4242 3306\r\n")
                            .arg(QLatin1String(carried))
                            .toLatin1());
            return fd;
        };
        const int a = open("203.0.113.7");
        QTRY_COMPARE_WITH_TIMEOUT(sink.accepted.load(), 1, 5000);
        const int b = open("203.0.113.8"); // another carried client: its own count
        QTRY_COMPARE_WITH_TIMEOUT(sink.accepted.load(), 2, 5000);
        const int d = open("203.0.113.7"); // the same one again: over its limit
        QCOMPARE(waitForEnd(d, 5000), ReadEnd::Eof);
        QCOMPARE(sink.accepted.load(), 2);
        QTRY_VERIFY_WITH_TIMEOUT(deniedFor(engine.snapshot(), "127.0.0.2"), 5000);
        QVERIFY(deniedFor(engine.snapshot(), "127.0.0.2")->reason == CloseReason::Limited);
        for (int fd : {a, b, d})
            ::close(fd);
    }

    // haproxy in front, sending v1 (send-proxy) and v2 (send-proxy-v2): the client haproxy
    // served (127.0.0.5) is the one Streamgate routes by, not haproxy's own address.
    void haproxyInFront_data()
    {
        QTest::addColumn<QString>("option");
        QTest::newRow("send-proxy") << "send-proxy";
        QTest::newRow("send-proxy-v2") << "send-proxy-v2";
    }
    void haproxyInFront()
    {
        QFETCH_GLOBAL(QString, loop);
        QFETCH(QString, option);
        if (!PeerDaemon::installed("haproxy"))
            QSKIP("haproxy is not installed (installer/debian-packages.txt)");
        auto client = greeter("client-route");
        auto proxy = greeter("haproxy-route");
        Engine engine(options(loop));
        const QList<int> ports = freePorts(2);
        const int port = ports[0];
        Config c;
        c.streamProxy.tcp << ppListen(port, true, false);
        StreamRoute a = route("client", upstream({node(kLocal, client->port())}));
        a.remoteAddr = QStringLiteral("127.0.0.5");
        StreamRoute b = route("haproxy", upstream({node(kLocal, proxy->port())}));
        c.streamRoutes << a << b;
        engine.apply(c);

        PeerDaemon haproxy;
        const QByteArray cfg = QStringLiteral("global\n"
                                              "    nbthread 1\n"
                                              "defaults\n"
                                              "    mode tcp\n"
                                              "    timeout connect 5s\n"
                                              "    timeout client 10s\n"
                                              "    timeout server 10s\n"
                                              "listen front\n"
                                              "    bind 127.0.0.1:%1\n"
                                              "    server sg 127.0.0.1:%2 %3\n")
                                   .arg(ports[1])
                                   .arg(port)
                                   .arg(option)
                                   .toUtf8();
        QVERIFY2(
            haproxy.start("haproxy", "haproxy.cfg", cfg, {"-db", "-f", "haproxy.cfg"}, {ports[1]}),
            qPrintable(haproxy.error()));
        QCOMPARE(sendAndRead(kLocal, ports[1], "127.0.0.5", {}), QByteArray("client-route"));
        QCOMPARE(sendAndRead(kLocal, ports[1], "127.0.0.6", {}), QByteArray("haproxy-route"));
    }

    // nginx behind, with `listen ... proxy_protocol` answering with the address it was told:
    // the header Streamgate sends carries the client (the peer itself, or a trusted carried
    // address), before any client byte.
    void nginxBehindReadsWhatIsSent()
    {
        QFETCH_GLOBAL(QString, loop);
        const QString module = QStringLiteral("/usr/lib/nginx/modules/ngx_stream_module.so");
        if (!PeerDaemon::installed("nginx") || !QFile::exists(module))
            QSKIP("nginx or libnginx-mod-stream is not installed (installer/debian-packages.txt)");
        const QList<int> ports = freePorts(3);
        PeerDaemon nginx;
        const QByteArray conf =
            QStringLiteral("load_module %1;\n"
                           "worker_processes 1;\n"
                           "daemon off;\n"
                           "pid %2/nginx.pid;\n"
                           "error_log %2/error.log warn;\n"
                           "events { worker_connections 64; }\n"
                           "stream {\n"
                           "    server {\n"
                           "        listen 127.0.0.1:%3 proxy_protocol;\n"
                           "        return \"$proxy_protocol_addr:$proxy_protocol_port "
                           "$proxy_protocol_server_addr:$proxy_protocol_server_port\";\n"
                           "    }\n"
                           "}\n")
                .arg(module, nginx.dir())
                .arg(ports[0])
                .toUtf8();
        QVERIFY2(nginx.start("nginx", "nginx.conf", conf,
                             {"-c", nginx.filePath("nginx.conf"), "-p", nginx.dir(), "-e",
                              nginx.filePath("error.log")},
                             {ports[0]}),
                 qPrintable(nginx.error()));

        Engine engine(options(loop));
        Config c;
        c.streamProxy.tcp << ppListen(ports[1], false, true) << ppListen(ports[2], true, true);
        c.streamRoutes << route("nginx", upstream({node(kLocal, ports[0])}));
        engine.apply(c);

        const int fd = connectTo(kLocal, ports[1], QStringLiteral("127.0.0.6"));
        QVERIFY(fd >= 0);
        sockaddr_in self{};
        socklen_t len = sizeof self;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&self), &len);
        QByteArray got;
        readSome(fd, got, -1, 5000);
        ::close(fd);
        QCOMPARE(got, QStringLiteral("127.0.0.6:%1 127.0.0.1:%2")
                          .arg(ntohs(self.sin_port))
                          .arg(ports[1])
                          .toUtf8());

        // In and out: the trusted peer's carried client goes on to nginx.
        QCOMPARE(
            sendAndRead(kLocal, ports[2], "127.0.0.2", v2Tcp4("203.0.113.7", 4242, "10.0.0.1", 80)),
            QStringLiteral("203.0.113.7:4242 127.0.0.1:%1").arg(ports[2]).toUtf8());
    }
};

QTEST_GUILESS_MAIN(TstEngineProxyProtocol)
#include "tst_engine_proxyprotocol.moc"
