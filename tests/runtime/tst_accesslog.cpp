// The headless access log: APISIX stream access-log lines for sessions and refusals, event
// lines, every variable of a format as nginx writes it, and a live engine feeding it: real
// clients through real loopback upstreams (TCP, a retried TCP connect, UDP), each line read
// back field by field.

#include "loopback.h"
#include "proxy/engine.h"
#include "proxyfixture.h"
#include "runtime/accesslogwriter.h"
#include "stats/accesslog.h"
#include "udppeers.h"

#include <QBuffer>
#include <QRegularExpression>
#include <QTest>

using namespace sg;
using namespace sgtest;

class TstAccessLog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        // A zone with minutes in its offset, so the offset's both parts are seen.
        qputenv("TZ", "Asia/Kolkata");
        tzset();
    }

    void status_data()
    {
        QTest::addColumn<int>("reason");
        QTest::addColumn<int>("status");
        QTest::newRow("client closed") << int(CloseReason::ClientClosed) << 200;
        QTest::newRow("idle timeout") << int(CloseReason::IdleTimeout) << 200;
        QTest::newRow("ip-restriction") << int(CloseReason::DeniedIpRestriction) << 403;
        QTest::newRow("no route") << int(CloseReason::NoRoute) << 403;
        QTest::newRow("connect failed") << int(CloseReason::ConnectFailed) << 502;
        QTest::newRow("limited") << int(CloseReason::Limited) << 503;
        QTest::newRow("descriptor limit") << int(CloseReason::NoDescriptors) << 503;
        // nginx stream ends a session whose TLS handshake failed with 500.
        QTest::newRow("TLS handshake") << int(CloseReason::TlsHandshakeFailed) << 500;
        QTest::newRow("TLS no certificate") << int(CloseReason::TlsNoCertificate) << 500;
        QTest::newRow("client certificate missing")
            << int(CloseReason::TlsClientCertMissing) << 500;
        QTest::newRow("client certificate untrusted")
            << int(CloseReason::TlsClientCertUntrusted) << 500;
        QTest::newRow("TLS error in a session") << int(CloseReason::TlsError) << 200;
        // nginx stream after its last try of an upstream whose handshake failed: 502.
        QTest::newRow("upstream TLS handshake") << int(CloseReason::UpstreamTlsFailed) << 502;
        QTest::newRow("upstream certificate untrusted")
            << int(CloseReason::UpstreamCertUntrusted) << 502;
        QTest::newRow("client certificate refused by upstream")
            << int(CloseReason::UpstreamClientCertRefused) << 502;
        QTest::newRow("database server offers no TLS") << int(CloseReason::UpstreamNoTls) << 502;
        QTest::newRow("passthrough: no ClientHello") << int(CloseReason::TlsNoClientHello) << 400;
        QTest::newRow("passthrough: no SNI") << int(CloseReason::TlsNoSni) << 403;
    }
    void status()
    {
        QFETCH(int, reason);
        QFETCH(int, status);
        QCOMPARE(accessLogStatus(CloseReason(reason)), status);
    }

    void sessionLineShape()
    {
        ConnectionInfo c;
        c.clientAddress = QHostAddress(QStringLiteral("127.0.0.2"));
        c.routeId = "db";
        c.startMs = 1'700'000'000'000;
        c.endMs = c.startMs + 1250;
        c.bytesUp = 3;
        c.bytesFromClient = 3;
        c.bytesDown = 5;
        c.closeReason = CloseReason::ClientClosed;
        const QString line = formatAccessLogSession(c);
        static const QRegularExpression shape(QStringLiteral(
            R"(^127\.0\.0\.2 \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] TCP 200 5 3 1\.250 route="db" reason="client closed"$)"));
        QVERIFY2(shape.match(line).hasMatch(), qPrintable(line));
    }

    // Lines within one second share their time text; each line still shows its own second.
    void timeFollowsEachLine()
    {
        ConnectionInfo c;
        c.clientAddress = QHostAddress(QStringLiteral("127.0.0.2"));
        const qint64 t = 1'700'000'000'000;
        for (const qint64 ms : {t, t + 999, t + 1000, t + 59'999, t + 3'600'000, t - 1, t}) {
            c.startMs = ms;
            c.endMs = ms;
            const QString line = formatAccessLogSession(c);
            const QString want = QLocale::c().toString(QDateTime::fromMSecsSinceEpoch(ms),
                                                       QStringLiteral("dd/MMM/yyyy:HH:mm:ss"));
            QVERIFY2(line.startsWith(QStringLiteral("127.0.0.2 [") + want + ' '),
                     qPrintable(QString::number(ms) + ": " + line));
        }
    }

    void liveEngineLines()
    {
        TestServer echo(TestServer::Echo);
        EngineOptions o;
        o.workers = 1;
        Engine engine(o);
        QBuffer out;
        out.open(QIODevice::WriteOnly);
        AccessLogWriter log(&engine, &out);
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << listenEntry("127.0.0.1", port);
        StreamRoute r = route("echo", upstream({node("127.0.0.1", echo.port())}));
        r.remoteAddr = "127.0.0.1";
        c.streamRoutes << r;
        engine.apply(c);

        const int fd = connectTo("127.0.0.1", port, "127.0.0.1");
        QVERIFY(sendAll(fd, "abcd"));
        QCOMPARE(recvExactly(fd, 4), QByteArray("abcd"));
        ::shutdown(fd, SHUT_WR);
        QCOMPARE(waitForEnd(fd, 3000), ReadEnd::Eof);
        ::close(fd);
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 1, 5000);
        QCOMPARE(greetingVia("127.0.0.1", port, "127.0.0.7"), QByteArray()); // no route

        QTRY_VERIFY_WITH_TIMEOUT(out.data().count('\n') >= 3, 5000);
        const QStringList lines = QString::fromUtf8(out.data()).split('\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 3);
        QVERIFY2(lines[0].contains(QLatin1String("listener up")), qPrintable(lines[0]));
        QVERIFY2(lines[1].startsWith(QLatin1String("127.0.0.1 [")), qPrintable(lines[1]));
        QVERIFY2(lines[1].contains(QLatin1String("] TCP 200 4 4 ")), qPrintable(lines[1]));
        QVERIFY2(lines[1].endsWith(QLatin1String("route=\"echo\" reason=\"client closed\"")),
                 qPrintable(lines[1]));
        QVERIFY2(lines[2].startsWith(QLatin1String("127.0.0.7 [")), qPrintable(lines[2]));
        QVERIFY2(
            lines[2].contains(QLatin1String("] TCP 403 0 0 0.000 route=\"\" reason=\"no route\"")),
            qPrintable(lines[2]));
        QCOMPARE(log.poll(), 0); // nothing printed twice
        // The refusal ended at admission, by the proxy; the session by the client, with data.
        const QList<Event> events = engine.eventsSince(0);
        const auto ended = [&](EventKind kind) {
            for (const Event& e : events)
                if (e.kind == kind)
                    return QStringList{toString(e.connection.closedBy),
                                       toString(e.connection.closePhase)};
            return QStringList();
        };
        QCOMPARE(ended(EventKind::Deny), QStringList({"proxy", "admission"}));
        QCOMPARE(ended(EventKind::Close), QStringList({"client", "data"}));
    }

    // Every variable of one closed session, as nginx stream writes it.
    void everyVariable_data()
    {
        QTest::addColumn<QString>("variable");
        QTest::addColumn<QString>("value");
        QTest::newRow("remote_addr") << "remote_addr"
                                     << "127.0.0.2";
        QTest::newRow("remote_port") << "remote_port"
                                     << "40001";
        QTest::newRow("server_addr") << "server_addr"
                                     << "127.0.0.3";
        QTest::newRow("server_port") << "server_port"
                                     << "13306";
        QTest::newRow("protocol") << "protocol"
                                  << "TCP";
        QTest::newRow("status") << "status"
                                << "200";
        QTest::newRow("bytes_sent") << "bytes_sent"
                                    << "23";
        QTest::newRow("bytes_received") << "bytes_received"
                                        << "12";
        QTest::newRow("session_time") << "session_time"
                                      << "61.034";
        QTest::newRow("upstream_addr") << "upstream_addr"
                                       << "127.0.0.1:3306";
        QTest::newRow("upstream_bytes_sent") << "upstream_bytes_sent"
                                             << "11";
        QTest::newRow("upstream_bytes_received") << "upstream_bytes_received"
                                                 << "25";
        QTest::newRow("upstream_connect_time") << "upstream_connect_time"
                                               << "0.007";
        QTest::newRow("route_id") << "route_id"
                                  << "db";
        QTest::newRow("close_reason") << "close_reason"
                                      << "upstream closed";
        // nginx counts the first byte from the start of the connect attempt (20 ms in)
        QTest::newRow("upstream_first_byte_time") << "upstream_first_byte_time"
                                                  << "0.120";
        QTest::newRow("streamgate_closed_by") << "streamgate_closed_by"
                                              << "upstream";
        QTest::newRow("streamgate_close_phase") << "streamgate_close_phase"
                                                << "data";
        QTest::newRow("streamgate_first_byte_up_time") << "streamgate_first_byte_up_time"
                                                       << "0.005";
        QTest::newRow("streamgate_first_byte_down_time") << "streamgate_first_byte_down_time"
                                                         << "0.140";
        QTest::newRow("streamgate_session_state") << "streamgate_session_state"
                                                  << "closed";
        // 2026-12-03T21:41:56.789Z ends the session; TZ is Asia/Kolkata (+05:30) here.
        QTest::newRow("time_local") << "time_local"
                                    << "04/Dec/2026:03:11:56 +0530";
        QTest::newRow("time_iso8601") << "time_iso8601"
                                      << "2026-12-04T03:11:56+05:30";
    }
    void everyVariable()
    {
        QFETCH(QString, variable);
        QFETCH(QString, value);
        QCOMPARE(QDateTime::fromSecsSinceEpoch(1796334116).offsetFromUtc(), 19800);
        ConnectionInfo c;
        c.clientAddress = QHostAddress(QStringLiteral("127.0.0.2"));
        c.clientPort = 40001;
        c.localAddress = QHostAddress(QStringLiteral("127.0.0.3"));
        c.localPort = 13306;
        c.routeId = QStringLiteral("db");
        c.closeReason = CloseReason::UpstreamClosed;
        c.endMs = 1'796'334'116'789;
        c.startMs = c.endMs - 61'034;
        c.bytesUp = 11;
        c.bytesFromClient = 12; // one byte was still held when the session ended
        c.bytesDown = 23;
        c.bytesFromUpstream = 25;
        c.upstreamNode = QStringLiteral("127.0.0.1:3306");
        c.connectMs = 7;
        c.upstreamStartMs = 20;
        c.firstByteUpMs = 5;
        c.firstByteDownMs = 140;
        c.closedBy = ClosedBy::Upstream;
        c.closePhase = ClosePhase::Data;
        for (const QString& text :
             {"$" + variable, "${" + variable + "}", "$" + variable.toUpper()}) {
            const ParsedAccessLogFormat f = parseAccessLogFormat("<" + text + ">");
            QVERIFY2(f.ok(), qPrintable(f.error));
            QCOMPARE(formatAccessLogSession(c, f.format), "<" + value + ">");
        }
    }

    // Addresses are written as QHostAddress::toString() writes them (IPv4 without its help).
    void addressesAsQtWritesThem()
    {
        const ParsedAccessLogFormat f = parseAccessLogFormat(u"$remote_addr|$server_addr");
        QVERIFY2(f.ok(), qPrintable(f.error));
        for (const char* text : {"0.0.0.0", "10.0.200.7", "255.255.255.255", "127.0.0.1",
                                 "::ffff:10.1.2.3", "::1", "fe80::1%lo", "2001:db8::7"}) {
            ConnectionInfo c;
            c.clientAddress = QHostAddress(QString::fromLatin1(text));
            QVERIFY2(!c.clientAddress.isNull(), text);
            QCOMPARE(formatAccessLogSession(c, f.format), c.clientAddress.toString() + "|-");
        }
        QCOMPARE(formatAccessLogSession(ConnectionInfo(), f.format), QStringLiteral("-|-"));
    }

    // nginx's PROXY protocol and realip variables: "-" without a header; the header's addresses
    // whether believed or not; the peer as realip_remote_* (remote_addr when no trusted header
    // replaced it). $mqtt_client_id is APISIX's context variable: syslog's, not nginx's.
    void proxyProtocolVariables()
    {
        const ParsedAccessLogFormat f = parseAccessLogFormat(
            u"$proxy_protocol_addr|$proxy_protocol_port|$proxy_protocol_server_addr|"
            "$proxy_protocol_server_port|$realip_remote_addr|$realip_remote_port");
        QVERIFY2(f.ok(), qPrintable(f.error));
        ConnectionInfo c;
        c.clientAddress = QHostAddress(QStringLiteral("127.0.0.2"));
        c.clientPort = 40001;
        QCOMPARE(formatAccessLogSession(c, f.format), QStringLiteral("-|-|-|-|127.0.0.2|40001"));
        // A header without addresses (v1 UNKNOWN, v2 LOCAL).
        c.proxyHeader = ProxyHeaderInfo{};
        QCOMPARE(formatAccessLogSession(c, f.format), QStringLiteral("-|-|-|-|127.0.0.2|40001"));
        // A trusted header: remote_addr is what it carried, the peer is realip_remote_addr.
        c.proxyHeader = ProxyHeaderInfo{QHostAddress(QStringLiteral("2001:db8::7")), 4242,
                                        QHostAddress(QStringLiteral("192.0.2.1")), 3306};
        c.clientAddress = c.proxyHeader->address;
        c.clientPort = 4242;
        c.peerAddress = QHostAddress(QStringLiteral("127.0.0.5"));
        c.peerPort = 50000;
        QCOMPARE(formatAccessLogSession(c, f.format),
                 QStringLiteral("2001:db8::7|4242|192.0.2.1|3306|127.0.0.5|50000"));

        const ParsedAccessLogFormat mqtt = parseAccessLogFormat(u"$remote_addr $mqtt_client_id");
        QVERIFY(!mqtt.ok());
        QCOMPARE(mqtt.error, QStringLiteral("\"$mqtt_client_id\" is APISIX's context variable "
                                            "(mqtt-proxy sets it), which nginx's access log "
                                            "format cannot use; syslog's log_format can"));
    }

    // A session that retried: one value per connect attempt, as nginx joins them; one that
    // reached no upstream at all: "-"; one whose only attempt failed: its node, no time.
    void upstreamAttempts()
    {
        const ParsedAccessLogFormat f = parseAccessLogFormat(QStringLiteral(
            "$upstream_addr|$upstream_connect_time|$upstream_bytes_sent|$upstream_bytes_received|"
            "$bytes_sent|$bytes_received|$status"));
        QVERIFY(f.ok());
        ConnectionInfo c;
        c.startMs = c.endMs = 1'700'000'000'000;
        c.failedUpstreams = {QStringLiteral("127.0.0.1:1"), QStringLiteral("[::1]:2")};
        c.upstreamNode = QStringLiteral("127.0.0.1:3306");
        c.connectMs = 1500;
        c.bytesUp = c.bytesFromClient = 11;
        c.bytesDown = c.bytesFromUpstream = 4;
        c.closeReason = CloseReason::ClientClosed;
        QCOMPARE(formatAccessLogSession(c, f.format),
                 QStringLiteral("127.0.0.1:1, [::1]:2, 127.0.0.1:3306|-, -, 1.500|0, 0, 11|0, 0, 4|"
                                "4|11|200"));

        ConnectionInfo refused;
        refused.closeReason = CloseReason::DeniedIpRestriction;
        QCOMPARE(formatAccessLogSession(refused, f.format), QStringLiteral("-|-|-|-|0|0|403"));

        // The first byte: only the attempt that connected has one, "-" when none came.
        const ParsedAccessLogFormat firstByte =
            parseAccessLogFormat(QStringLiteral("$upstream_first_byte_time"));
        QVERIFY(firstByte.ok());
        c.upstreamStartMs = 1600;
        c.firstByteDownMs = 1850;
        QCOMPARE(formatAccessLogSession(c, firstByte.format), QStringLiteral("-, -, 0.250"));
        c.firstByteDownMs = -1;
        QCOMPARE(formatAccessLogSession(c, firstByte.format), QStringLiteral("-, -, -"));
        QCOMPARE(formatAccessLogSession(refused, firstByte.format), QStringLiteral("-"));

        ConnectionInfo failed;
        failed.upstreamNode = QStringLiteral("127.0.0.1:9");
        failed.closeReason = CloseReason::ConnectFailed;
        QCOMPARE(formatAccessLogSession(failed, f.format),
                 QStringLiteral("127.0.0.1:9|-|0|0|0|0|502"));
    }

    // A real client from 127.0.0.2 to a listener on 127.0.0.3, through to an upstream that
    // greets with more bytes than the client sends and then closes: each field of the line as
    // the client and the upstream saw it. A second route retries past a dead node, a third is
    // UDP. Lines follow the format set on the writer.
    void liveEngineCustomFormat()
    {
        TestServer greeter(TestServer::Greet);
        greeter.setGreeting(QByteArray(23, 'g'));
        greeter.holdMs = 300;
        UdpEcho udpEcho;
        const int dead = freePort();
        EngineOptions o;
        o.workers = 1;
        Engine engine(o);
        QBuffer out;
        out.open(QIODevice::WriteOnly);
        AccessLogWriter log(&engine, &out);
        const ParsedAccessLogFormat f = parseAccessLogFormat(QStringLiteral(
            "$remote_addr|$remote_port|$server_addr|$server_port|$protocol|$status|$bytes_sent|"
            "$bytes_received|$session_time|$upstream_addr|$upstream_bytes_sent|"
            "$upstream_bytes_received|$upstream_connect_time|$time_local|$time_iso8601|"
            "${route_id}|$close_reason"));
        QVERIFY2(f.ok(), qPrintable(f.error));
        log.setFormat(f.format, true);

        const QList<int> ports = freePorts(2, QStringLiteral("127.0.0.3"));
        const int udpPort = freeUdpPort(QStringLiteral("127.0.0.3"));
        Config c;
        c.streamProxy.tcp << listenEntry("127.0.0.3", ports[0])
                          << listenEntry("127.0.0.3", ports[1]);
        c.streamProxy.udp << listenEntry("127.0.0.3", udpPort);
        StreamRoute greet = route("greet", upstream({node("127.0.0.1", greeter.port())}));
        greet.serverPort = ports[0];
        Upstream retrying =
            upstream({node("127.0.0.1", dead, 1, 1), node("127.0.0.1", greeter.port())});
        retrying.retries = 1;
        StreamRoute retry = route("retry", retrying);
        retry.serverPort = ports[1];
        Upstream quick = upstream({node("127.0.0.1", udpEcho.port())});
        quick.timeout = Timeout{1, 0.3, 0.3};
        StreamRoute udp = route("udp", quick);
        udp.serverPort = udpPort;
        c.streamRoutes << greet << retry << udp;
        engine.apply(c);

        const auto fields = [&](int index) {
            const QStringList lines = QString::fromUtf8(out.data()).split('\n', Qt::SkipEmptyParts);
            QStringList session;
            for (const QString& l : lines)
                if (!l.startsWith('['))
                    session << l;
            return index < session.size() ? session[index].split('|') : QStringList();
        };
        // One TCP session through `port`; returns the client's port.
        const auto session = [&](int port) {
            const qint64 before = QDateTime::currentMSecsSinceEpoch();
            const int fd = connectTo("127.0.0.3", port, "127.0.0.2");
            if (fd < 0)
                return std::pair<int, qint64>(-1, before);
            sockaddr_in local{};
            socklen_t len = sizeof local;
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
            sendAll(fd, "hello proxy");
            QByteArray got;
            waitForEnd(fd, 5000, &got); // the greeter closes after its hold
            ::close(fd);
            return std::pair<int, qint64>(got == QByteArray(23, 'g') ? ntohs(local.sin_port) : -2,
                                          before);
        };

        const auto [clientPort, before] = session(ports[0]);
        QVERIFY(clientPort > 0);
        QTRY_COMPARE_WITH_TIMEOUT(fields(0).size(), 17, 5000);
        QStringList l = fields(0);
        const qint64 after = QDateTime::currentMSecsSinceEpoch();
        QCOMPARE(l[0], QStringLiteral("127.0.0.2"));
        QCOMPARE(l[1].toInt(), clientPort);
        QCOMPARE(l[2], QStringLiteral("127.0.0.3"));
        QCOMPARE(l[3].toInt(), ports[0]);
        QCOMPARE(l[4], QStringLiteral("TCP"));
        QCOMPARE(l[5], QStringLiteral("200"));
        QCOMPARE(l[6], QStringLiteral("23")); // bytes_sent: to the client
        QCOMPARE(l[7], QStringLiteral("11")); // bytes_received: from the client
        QVERIFY2(l[8].contains(QRegularExpression(QStringLiteral(R"(^\d+\.\d{3}$)"))),
                 qPrintable(l[8]));
        QVERIFY2(l[8].toDouble() >= 0.29 && l[8].toDouble() * 1000 <= after - before,
                 qPrintable(l[8]));
        QCOMPARE(l[9], "127.0.0.1:" + QString::number(greeter.port()));
        QCOMPARE(l[10], QStringLiteral("11"));
        QCOMPARE(l[11], QStringLiteral("23"));
        QVERIFY2(l[12].contains(QRegularExpression(QStringLiteral(R"(^0\.\d{3}$)"))),
                 qPrintable(l[12]));
        QCOMPARE(greeter.bytesIn.load(), qint64(11));
        const QDateTime local = QLocale::c().toDateTime(l[13].left(20), "dd/MMM/yyyy:HH:mm:ss");
        QVERIFY2(local.isValid(), qPrintable(l[13]));
        const QDateTime iso = QDateTime::fromString(l[14], Qt::ISODate);
        QVERIFY2(iso.isValid(), qPrintable(l[14]));
        QCOMPARE(iso.toSecsSinceEpoch(), local.toSecsSinceEpoch());
        QVERIFY(iso.toMSecsSinceEpoch() >= before - 1000 && iso.toMSecsSinceEpoch() <= after);
        QCOMPARE(l[15], QStringLiteral("greet"));
        QCOMPARE(l[16], QStringLiteral("upstream closed"));

        const auto [retryPort, retryBefore] = session(ports[1]);
        QVERIFY(retryPort > 0);
        QTRY_COMPARE_WITH_TIMEOUT(fields(1).size(), 17, 5000);
        l = fields(1);
        QCOMPARE(l[1].toInt(), retryPort);
        QCOMPARE(l[5], QStringLiteral("200"));
        QCOMPARE(l[9], QStringLiteral("127.0.0.1:%1, 127.0.0.1:%2").arg(dead).arg(greeter.port()));
        QCOMPARE(l[10], QStringLiteral("0, 11"));
        QCOMPARE(l[11], QStringLiteral("0, 23"));
        QVERIFY2(l[12].contains(QRegularExpression(QStringLiteral(R"(^-, 0\.\d{3}$)"))),
                 qPrintable(l[12]));
        QCOMPARE(l[15], QStringLiteral("retry"));

        UdpClient client(QStringLiteral("127.0.0.3"), udpPort, QStringLiteral("127.0.0.2"));
        QVERIFY(client.valid());
        for (const QByteArray& d :
             {QByteArray("abcde"), QByteArray("fghijk"), QByteArray("lmnopqr")})
            QCOMPARE(client.ask(d), std::optional<QByteArray>(d));
        QTRY_COMPARE_WITH_TIMEOUT(fields(2).size(), 17, 5000); // the session idles out
        l = fields(2);
        QCOMPARE(l[0], QStringLiteral("127.0.0.2"));
        QCOMPARE(l[1].toInt(), client.port());
        QCOMPARE(l[3].toInt(), udpPort);
        QCOMPARE(l[4], QStringLiteral("UDP"));
        QCOMPARE(l[5], QStringLiteral("200"));
        QCOMPARE(l.mid(6, 2), QStringList({"18", "18"}));
        QCOMPARE(l[9], "127.0.0.1:" + QString::number(udpEcho.port()));
        QCOMPARE(l.mid(10, 3), QStringList({"18", "18", "0.000"}));
        QCOMPARE(l[16], QStringLiteral("idle timeout"));
    }

    // With access_log.interim_interval, a session held open gets a line every interval while
    // it lasts ("open", no close cause yet, its time so far), then its line at the end.
    void interimLinesForLongSessions()
    {
        TestServer echo(TestServer::Echo);
        EngineOptions o;
        o.workers = 1;
        Engine engine(o);
        QBuffer out;
        out.open(QIODevice::WriteOnly);
        AccessLogWriter log(&engine, &out);
        StreamgateSettings settings;
        settings.accessLog = AccessLogSettings{
            true,
            QStringLiteral("$streamgate_session_state|$streamgate_closed_by|"
                           "$streamgate_close_phase|$close_reason|$session_time|$bytes_received|"
                           "$upstream_first_byte_time|$streamgate_first_byte_up_time"),
            1};
        log.setSettings(settings);
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << listenEntry("127.0.0.1", port);
        c.streamRoutes << route("echo", upstream({node("127.0.0.1", echo.port())}));
        engine.apply(c);
        const qint64 before = QDateTime::currentMSecsSinceEpoch();
        const int fd = connectTo("127.0.0.1", port);
        QVERIFY(fd >= 0);
        QVERIFY(sendAll(fd, "abcd"));
        QCOMPARE(recvExactly(fd, 4), QByteArray("abcd"));
        const auto lines = [&] {
            return QString::fromUtf8(out.data()).split('\n', Qt::SkipEmptyParts);
        };
        const auto lineStarting = [&](QLatin1String start) {
            for (const QString& line : lines())
                if (line.startsWith(start))
                    return line.split('|');
            return QStringList();
        };
        QTRY_VERIFY_WITH_TIMEOUT(!lineStarting(QLatin1String("open|")).isEmpty(), 3000);
        const QStringList open = lineStarting(QLatin1String("open|"));
        const qint64 seen = QDateTime::currentMSecsSinceEpoch();
        QCOMPARE(open.mid(0, 4), QStringList({"open", "-", "-", ""}));
        QVERIFY2(open[4].toDouble() >= 1.0 && open[4].toDouble() * 1000 <= seen - before + 5,
                 qPrintable(open[4]));
        QCOMPARE(open[5], QStringLiteral("4")); // relayed so far
        QVERIFY2(open[6].contains(QRegularExpression(QStringLiteral(R"(^0\.\d{3}$)"))),
                 qPrintable(open[6]));
        QVERIFY2(open[7].contains(QRegularExpression(QStringLiteral(R"(^0\.\d{3}$)"))),
                 qPrintable(open[7]));
        ::shutdown(fd, SHUT_WR);
        QCOMPARE(waitForEnd(fd, 3000), ReadEnd::Eof);
        ::close(fd);
        QTRY_VERIFY_WITH_TIMEOUT(!lineStarting(QLatin1String("closed|")).isEmpty(), 3000);
        const QStringList closed = lineStarting(QLatin1String("closed|"));
        QCOMPARE(closed.mid(0, 4), QStringList({"closed", "client", "data", "client closed"}));
        QCOMPARE(closed[5], QStringLiteral("4"));
        // Closed sessions get no more interim lines.
        const int count = int(lines().size());
        QCOMPARE(log.writeInterim(), 0);
        QCOMPARE(int(lines().size()), count);
    }

    // Session lines can be switched off; event lines stay.
    void sessionLinesOff()
    {
        TestServer echo(TestServer::Echo);
        EngineOptions o;
        o.workers = 1;
        Engine engine(o);
        QBuffer out;
        out.open(QIODevice::WriteOnly);
        AccessLogWriter log(&engine, &out);
        StreamgateSettings settings;
        settings.accessLog = AccessLogSettings{false, QStringLiteral("$status"), {}};
        log.setSettings(settings);
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << listenEntry("127.0.0.1", port);
        c.streamRoutes << route("echo", upstream({node("127.0.0.1", echo.port())}));
        engine.apply(c);
        const int first = connectTo("127.0.0.1", port);
        QVERIFY(first >= 0);
        ::close(first);
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 1, 5000);
        log.poll();
        const QStringList lines = QString::fromUtf8(out.data()).split('\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 1);
        QVERIFY2(lines[0].contains(QLatin1String("listener up")), qPrintable(lines[0]));
        // Switched on again: the next session is written in the format.
        settings.accessLog->enable = true;
        log.setSettings(settings);
        const int second = connectTo("127.0.0.1", port);
        QVERIFY(second >= 0);
        ::close(second);
        QTRY_VERIFY_WITH_TIMEOUT(out.data().endsWith("\n200\n"), 5000);
    }
};

QTEST_GUILESS_MAIN(TstAccessLog)
#include "tst_accesslog.moc"
