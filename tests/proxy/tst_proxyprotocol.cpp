// The PROXY protocol reader on v1 and v2 headers as haproxy, nginx and tunnels send them, cut at
// every byte, with what follows the header left alone; refusals that say why; the v1 writer.
#include "proxy/proxyprotocol.h"
#include "proxy/streamvariables.h"
#include "proxy/tcplisteners.h"

#include <QTest>

using namespace sg;

namespace {

QByteArray v2(quint8 versionCommand, quint8 familyTransport, const QByteArray& block)
{
    QByteArray h = QByteArray::fromHex("0D0A0D0A000D0A515549540A");
    h += char(versionCommand);
    h += char(familyTransport);
    h += char(block.size() >> 8);
    h += char(block.size() & 0xFF);
    return h + block;
}

QByteArray tcp4Block(const char* src, const char* dst, quint16 sport, quint16 dport)
{
    QByteArray b;
    for (const char* a : {src, dst}) {
        const quint32 ip = QHostAddress(QString::fromLatin1(a)).toIPv4Address();
        for (int shift : {24, 16, 8, 0})
            b += char((ip >> shift) & 0xFF);
    }
    for (quint16 p : {sport, dport}) {
        b += char(p >> 8);
        b += char(p & 0xFF);
    }
    return b;
}

QByteArray tcp6Block(const char* src, const char* dst, quint16 sport, quint16 dport)
{
    QByteArray b;
    for (const char* a : {src, dst}) {
        const Q_IPV6ADDR ip = QHostAddress(QString::fromLatin1(a)).toIPv6Address();
        b += QByteArray(reinterpret_cast<const char*>(ip.c), 16);
    }
    for (quint16 p : {sport, dport}) {
        b += char(p >> 8);
        b += char(p & 0xFF);
    }
    return b;
}

// A TLV as haproxy adds them (type, 16-bit length, value).
QByteArray tlv(quint8 type, const QByteArray& value)
{
    QByteArray t;
    t += char(type);
    t += char(value.size() >> 8);
    t += char(value.size() & 0xFF);
    return t + value;
}

struct Outcome
{
    ProxyHeaderReader::State state;
    ProxyHeader header;
    QString error;
    std::size_t consumed;
};

// Feeds `bytes` in pieces of `step` bytes (the last one shorter), stopping once the reader
// has decided; counts what it took.
Outcome read(const QByteArray& bytes, int step)
{
    ProxyHeaderReader r;
    std::size_t taken = 0;
    for (qsizetype at = 0; at < bytes.size() && r.state() == ProxyHeaderReader::State::NeedMore;
         at += step) {
        const std::size_t len = std::size_t(qMin<qsizetype>(step, bytes.size() - at));
        taken += r.feed(bytes.constData() + at, len);
    }
    if (taken != r.consumed())
        qFatal("feed() returns and consumed() disagree");
    return {r.state(), r.header(), r.error(), r.consumed()};
}

} // namespace

class TestProxyProtocol : public QObject
{
    Q_OBJECT

private slots:
    void accepted_data();
    void accepted();
    void refused_data();
    void refused();
    void needsMoreUntilTheEnd();
    void tlvsBeyondWhatIsKept();
    void writer_data();
    void writer();
    void writerReadsBack();
    void headerAndTrust_data();
    void headerAndTrust();
};

void TestProxyProtocol::accepted_data()
{
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<bool>("local");
    QTest::addColumn<QString>("source");
    QTest::addColumn<int>("sourcePort");
    QTest::addColumn<QString>("destination");
    QTest::addColumn<int>("destinationPort");

    QTest::newRow("v1-tcp4") << QByteArray("PROXY TCP4 203.0.113.7 192.0.2.1 51000 3306\r\n")
                             << false << "203.0.113.7" << 51000 << "192.0.2.1" << 3306;
    QTest::newRow("v1-tcp6") << QByteArray("PROXY TCP6 2001:db8::7 2001:db8::1 65535 0\r\n")
                             << false << "2001:db8::7" << 65535 << "2001:db8::1" << 0;
    QTest::newRow("v1-unknown") << QByteArray("PROXY UNKNOWN\r\n") << true << "" << 0 << "" << 0;
    QTest::newRow("v1-unknown-with-rest")
        << QByteArray("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n") << true << "" << 0 << "" << 0;
    // The longest line the spec allows: TCP6 with two full-length addresses and ports.
    const QByteArray longest = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
                               "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
    QCOMPARE(longest.size(), 104);
    QTest::newRow("v1-longest") << longest << false << "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
                                << 65535 << "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" << 65535;
    QTest::newRow("v2-tcp4") << v2(0x21, 0x11, tcp4Block("198.51.100.9", "10.0.0.1", 40000, 13306))
                             << false << "198.51.100.9" << 40000 << "10.0.0.1" << 13306;
    QTest::newRow("v2-tcp6") << v2(0x21, 0x21, tcp6Block("2001:db8::9", "::1", 1, 65535)) << false
                             << "2001:db8::9" << 1 << "::1" << 65535;
    QTest::newRow("v2-tcp4-tlvs") << v2(0x21, 0x11,
                                        tcp4Block("198.51.100.9", "10.0.0.1", 40000, 13306) +
                                            tlv(0x04, "\0\0\0\0") + tlv(0x05, "unique-id-1234"))
                                  << false << "198.51.100.9" << 40000 << "10.0.0.1" << 13306;
    QTest::newRow("v2-local") << v2(0x20, 0x00, {}) << true << "" << 0 << "" << 0;
    QTest::newRow("v2-local-with-addresses")
        << v2(0x20, 0x11, tcp4Block("1.2.3.4", "5.6.7.8", 1, 2)) << true << "" << 0 << "" << 0;
    QTest::newRow("v2-unspec") << v2(0x21, 0x00, {}) << true << "" << 0 << "" << 0;
    QTest::newRow("v2-unix") << v2(0x21, 0x31, QByteArray(216, 'x')) << true << "" << 0 << "" << 0;
    QTest::newRow("v2-largest") << v2(0x21, 0x11,
                                      tcp4Block("1.2.3.4", "5.6.7.8", 1, 2) +
                                          tlv(0xE0, QByteArray(4096 - 16 - 12 - 3, 'x')))
                                << false << "1.2.3.4" << 1 << "5.6.7.8" << 2;
}

void TestProxyProtocol::accepted()
{
    QFETCH(QByteArray, header);
    QFETCH(bool, local);
    QFETCH(QString, source);
    QFETCH(int, sourcePort);
    QFETCH(QString, destination);
    QFETCH(int, destinationPort);
    const QByteArray payload = "\x16\x03\x01 then the client's own bytes";
    const QByteArray stream = header + payload;
    // Every cut: one byte at a time, in two pieces anywhere, all at once.
    QList<int> steps{1, 2, 3, 7, 16, 17, 100, int(stream.size())};
    for (int step : steps) {
        const Outcome o = read(stream, step);
        QVERIFY2(o.state == ProxyHeaderReader::State::Done,
                 qPrintable(QStringLiteral("step %1: %2").arg(step).arg(o.error)));
        QCOMPARE(o.consumed, std::size_t(header.size()));
        QCOMPARE(o.header.length, int(header.size()));
        QCOMPARE(o.header.version, header.startsWith("PROXY") ? 1 : 2);
        QCOMPARE(o.header.local, local);
        if (!local) {
            QCOMPARE(o.header.source, QHostAddress(source));
            QCOMPARE(int(o.header.sourcePort), sourcePort);
            QCOMPARE(o.header.destination, QHostAddress(destination));
            QCOMPARE(int(o.header.destinationPort), destinationPort);
        }
    }
    for (qsizetype cut = 1; cut < stream.size(); ++cut) {
        ProxyHeaderReader r;
        const std::size_t first = r.feed(stream.constData(), std::size_t(cut));
        const std::size_t second =
            r.feed(stream.constData() + first, std::size_t(stream.size() - qsizetype(first)));
        QCOMPARE(r.state(), ProxyHeaderReader::State::Done);
        QCOMPARE(first + second, std::size_t(header.size()));
        // Done takes nothing more: the payload stays with the caller.
        QCOMPARE(r.feed(payload.constData(), std::size_t(payload.size())), std::size_t(0));
    }
}

void TestProxyProtocol::refused_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("why");

    QTest::newRow("plain-client")
        << QByteArray("GET / HTTP/1.1\r\n\r\n")
        << "does not start with a PROXY protocol header (first byte 0x47)";
    QTest::newRow("mysql-greeting-order")
        << QByteArray::fromHex("0a352e372e3000") << "first byte 0x0a";
    QTest::newRow("v1-bad-prefix") << QByteArray("PROXZ TCP4 1.2.3.4 5.6.7.8 1 2\r\n")
                                   << "not a PROXY protocol v1 header: \"PROXZ\"";
    QTest::newRow("v1-no-crlf") << QByteArray("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n")
                                << "ends in LF without CR";
    QTest::newRow("v1-cr-alone") << QByteArray("PROXY TCP4 1.2.3.4\r5.6.7.8 1 2\r\n")
                                 << "CR not followed by LF";
    QTest::newRow("v1-too-long") << QByteArray("PROXY TCP6 ") + QByteArray(200, 'f')
                                 << "longer than 107 bytes";
    QTest::newRow("v1-udp") << QByteArray("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n")
                            << "protocol \"UDP4\" is not TCP4, TCP6 or UNKNOWN";
    QTest::newRow("v1-short-ipv4") << QByteArray("PROXY TCP4 127.1 5.6.7.8 1 2\r\n")
                                   << "address \"127.1\" is not an IPv4 address";
    QTest::newRow("v1-v6-in-tcp4")
        << QByteArray("PROXY TCP4 1.2.3.4 ::1 1 2\r\n") << "address \"::1\" is not an IPv4 address";
    QTest::newRow("v1-port-range") << QByteArray("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n")
                                   << "port \"65536\" is not a number 0-65535";
    QTest::newRow("v1-missing-port")
        << QByteArray("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n") << "does not have the form";
    QTest::newRow("v1-double-space")
        << QByteArray("PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n") << "does not have the form";
    QTest::newRow("v2-bad-signature") << QByteArray::fromHex("0D0A0D0A000D0A51554954FF21110000")
                                      << "not a PROXY protocol v2 signature";
    QTest::newRow("v2-version-1") << v2(0x11, 0x11, tcp4Block("1.2.3.4", "5.6.7.8", 1, 2))
                                  << "with version 1";
    QTest::newRow("v2-command-2") << v2(0x22, 0x11, tcp4Block("1.2.3.4", "5.6.7.8", 1, 2))
                                  << "command 2 is neither LOCAL (0) nor PROXY (1)";
    QTest::newRow("v2-family-4") << v2(0x21, 0x41, tcp4Block("1.2.3.4", "5.6.7.8", 1, 2))
                                 << "family and transport 0x41 are unknown";
    QTest::newRow("v2-short-block")
        << v2(0x21, 0x11, QByteArray(11, '\0')) << "TCP4 address block of 11 bytes, 12 needed";
    QTest::newRow("v2-short-tcp6") << v2(0x21, 0x21, tcp4Block("1.2.3.4", "5.6.7.8", 1, 2))
                                   << "TCP6 address block of 12 bytes, 36 needed";
    QByteArray huge = QByteArray::fromHex("0D0A0D0A000D0A515549540A2111FFFF");
    QTest::newRow("v2-too-long") << huge << "v2 header of 65551 bytes, more than the 4096 accepted";
    QByteArray justOver = v2(0x21, 0x11, QByteArray(4096 - 16 + 1, '\0'));
    QTest::newRow("v2-one-over") << justOver << "4097 bytes";
}

void TestProxyProtocol::refused()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, why);
    for (int step : {1, 5, int(bytes.size())}) {
        const Outcome o = read(bytes, step);
        QCOMPARE(o.state, ProxyHeaderReader::State::Error);
        QVERIFY2(o.error.contains(why), qPrintable(o.error));
        QVERIFY(o.consumed <= ProxyHeaderReader::kMaxV2Header);
    }
}

void TestProxyProtocol::needsMoreUntilTheEnd()
{
    const QByteArray header = "PROXY TCP4 203.0.113.7 192.0.2.1 51000 3306\r\n";
    ProxyHeaderReader r;
    QCOMPARE(r.feed(header.constData(), std::size_t(header.size() - 1)),
             std::size_t(header.size() - 1));
    QCOMPARE(r.state(), ProxyHeaderReader::State::NeedMore);
    QVERIFY(r.wantAtMost() >= 1);
    QVERIFY(r.wantAtMost() <= ProxyHeaderReader::kMaxV1Header - std::size_t(header.size() - 1));
    QCOMPARE(r.feed(header.constData() + header.size() - 1, 1), std::size_t(1));
    QCOMPARE(r.state(), ProxyHeaderReader::State::Done);
    QCOMPARE(r.wantAtMost(), std::size_t(0));

    // v2: the prefix tells the exact length, wantAtMost() says exactly what is left.
    const QByteArray h2 = v2(0x21, 0x11, tcp4Block("1.2.3.4", "5.6.7.8", 1, 2) + tlv(1, "h2"));
    ProxyHeaderReader r2;
    QCOMPARE(r2.feed(h2.constData(), 16), std::size_t(16));
    QCOMPARE(r2.wantAtMost(), std::size_t(h2.size() - 16));
}

void TestProxyProtocol::tlvsBeyondWhatIsKept()
{
    // A TCP6 block with 3000 bytes of TLVs: skipped as they pass, addresses intact.
    const QByteArray h =
        v2(0x21, 0x21,
           tcp6Block("2001:db8::5", "2001:db8::6", 7, 8) + tlv(0xE1, QByteArray(3000, 'z')));
    const Outcome o = read(h + "after", 333);
    QCOMPARE(o.state, ProxyHeaderReader::State::Done);
    QCOMPARE(o.header.source, QHostAddress("2001:db8::5"));
    QCOMPARE(o.header.destinationPort, quint16(8));
    QCOMPARE(o.consumed, std::size_t(h.size()));
}

void TestProxyProtocol::writer_data()
{
    QTest::addColumn<QString>("source");
    QTest::addColumn<int>("sourcePort");
    QTest::addColumn<QString>("destination");
    QTest::addColumn<int>("destinationPort");
    QTest::addColumn<QByteArray>("line");
    QTest::newRow("ipv4") << "203.0.113.7" << 51000 << "127.0.0.1" << 13306
                          << QByteArray("PROXY TCP4 203.0.113.7 127.0.0.1 51000 13306\r\n");
    QTest::newRow("ipv6") << "2001:db8::7" << 1 << "::1" << 2
                          << QByteArray("PROXY TCP6 2001:db8::7 ::1 1 2\r\n");
    QTest::newRow("mixed") << "203.0.113.7" << 1 << "::1" << 2
                           << QByteArray("PROXY TCP6 ::ffff:203.0.113.7 ::1 1 2\r\n");
    QTest::newRow("no-address") << "" << 0 << "127.0.0.1" << 2 << QByteArray("PROXY UNKNOWN\r\n");
}

void TestProxyProtocol::writer()
{
    QFETCH(QString, source);
    QFETCH(int, sourcePort);
    QFETCH(QString, destination);
    QFETCH(int, destinationPort);
    QFETCH(QByteArray, line);
    QCOMPARE(proxyHeaderV1(QHostAddress(source), quint16(sourcePort), QHostAddress(destination),
                           quint16(destinationPort)),
             line);
}

void TestProxyProtocol::writerReadsBack()
{
    const QByteArray line =
        proxyHeaderV1(QHostAddress("2001:db8::1"), 4321, QHostAddress("2001:db8::2"), 1234);
    const Outcome o = read(line, 1);
    QCOMPARE(o.state, ProxyHeaderReader::State::Done);
    QCOMPARE(o.header.source, QHostAddress("2001:db8::1"));
    QCOMPARE(o.header.sourcePort, quint16(4321));
    QCOMPARE(o.header.destination, QHostAddress("2001:db8::2"));
    QCOMPARE(o.header.destinationPort, quint16(1234));
}

// What a header does to a client's stream variables, trusted or not (nginx's realip module
// over $proxy_protocol_*).
void TestProxyProtocol::headerAndTrust_data()
{
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<QString>("trusted");
    QTest::addColumn<QString>("remote");    // remote_addr:remote_port
    QTest::addColumn<QString>("realip");    // realip_remote_addr:realip_remote_port
    QTest::addColumn<QString>("carried");   // proxy_protocol_addr:proxy_protocol_port
    QTest::addColumn<QString>("carriedTo"); // proxy_protocol_server_addr:_port
    const QByteArray v1 = "PROXY TCP4 203.0.113.7 192.0.2.1 4242 3306\r\n";
    QTest::newRow("trusted") << v1 << "127.0.0.0/8"
                             << "203.0.113.7:4242"
                             << "127.0.0.2:5000"
                             << "203.0.113.7:4242"
                             << "192.0.2.1:3306";
    QTest::newRow("untrusted") << v1 << "10.0.0.0/8"
                               << "127.0.0.2:5000"
                               << "127.0.0.2:5000"
                               << "203.0.113.7:4242"
                               << "192.0.2.1:3306";
    QTest::newRow("v2-mapped") << v2(0x21, 0x21, tcp6Block("::ffff:198.51.100.1", "::1", 9, 10))
                               << "127.0.0.2"
                               << "198.51.100.1:9"
                               << "127.0.0.2:5000"
                               << "198.51.100.1:9"
                               << "::1:10";
    QTest::newRow("unknown") << QByteArray("PROXY UNKNOWN\r\n") << "127.0.0.0/8"
                             << "127.0.0.2:5000"
                             << "127.0.0.2:5000"
                             << ":"
                             << ":";
    QTest::newRow("local") << v2(0x20, 0x00, {}) << "127.0.0.0/8"
                           << "127.0.0.2:5000"
                           << "127.0.0.2:5000"
                           << ":"
                           << ":";
}

void TestProxyProtocol::headerAndTrust()
{
    QFETCH(QByteArray, header);
    QFETCH(QString, trusted);
    QFETCH(QString, remote);
    QFETCH(QString, realip);
    QFETCH(QString, carried);
    QFETCH(QString, carriedTo);
    const Outcome o = read(header, int(header.size()));
    QCOMPARE(o.state, ProxyHeaderReader::State::Done);
    StreamClient client;
    client.remoteAddress = QHostAddress("127.0.0.2");
    client.remotePort = 5000;
    client.serverAddress = QHostAddress("127.0.0.1");
    client.serverPort = 13306;
    applyProxyHeader(client, o.header, *AddressList::parse({trusted}));
    const auto pair = [&](const char* addr, const char* port) {
        return streamVariable(QLatin1String(addr), client) + u':' +
               streamVariable(QLatin1String(port), client);
    };
    QCOMPARE(pair("remote_addr", "remote_port"), remote);
    QCOMPARE(pair("realip_remote_addr", "realip_remote_port"), realip);
    QCOMPARE(pair("proxy_protocol_addr", "proxy_protocol_port"), carried);
    QCOMPARE(pair("proxy_protocol_server_addr", "proxy_protocol_server_port"), carriedTo);
    // Known variables, even when empty: a key on them is resolved, not refused.
    QVERIFY(!streamVariable("proxy_protocol_addr", client).isNull());
    QCOMPARE(streamVariable("server_port", client), QStringLiteral("13306"));
}

QTEST_GUILESS_MAIN(TestProxyProtocol)
#include "tst_proxyprotocol.moc"
