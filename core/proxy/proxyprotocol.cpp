#include "proxy/proxyprotocol.h"

#include <QList>
#include <algorithm>
#include <arpa/inet.h>
#include <cstring>
#include <netinet/in.h>

namespace sg {

namespace {

constexpr char kV1Prefix[] = "PROXY ";
constexpr std::size_t kV1PrefixLen = sizeof kV1Prefix - 1;
constexpr unsigned char kV2Signature[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                            0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr std::size_t kV2Prefix = 16;
constexpr std::size_t kV2Keep = kV2Prefix + 36; // TCP6: two addresses and two ports

// A dotted quad or an IPv6 text, strictly (no "127.1", no zone).
bool parseAddress(QByteArrayView text, bool v6, QHostAddress& out)
{
    if (text.isEmpty() || text.size() > 45)
        return false;
    char z[46];
    std::memcpy(z, text.data(), size_t(text.size()));
    z[text.size()] = '\0';
    if (v6) {
        in6_addr a{};
        if (::inet_pton(AF_INET6, z, &a) != 1)
            return false;
        out = QHostAddress(reinterpret_cast<const quint8*>(a.s6_addr));
    } else {
        in_addr a{};
        if (::inet_pton(AF_INET, z, &a) != 1)
            return false;
        out = QHostAddress(ntohl(a.s_addr));
    }
    return true;
}

bool parsePort(QByteArrayView text, quint16& out)
{
    if (text.isEmpty() || text.size() > 5)
        return false;
    int v = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    if (v > 65535)
        return false;
    out = quint16(v);
    return true;
}

QString shown(QByteArrayView text)
{
    QString s;
    for (char c : text.first(std::min<qsizetype>(text.size(), 40))) {
        const auto u = uchar(c);
        s += u >= 0x20 && u < 0x7F ? QChar(QLatin1Char(c))
                                   : QStringLiteral("\\x%1").arg(u, 2, 16, QLatin1Char('0'));
    }
    return text.size() > 40 ? s + QStringLiteral("...") : s;
}

quint16 be16(const char* p)
{
    return quint16((uchar(p[0]) << 8) | uchar(p[1]));
}

} // namespace

std::size_t ProxyHeaderReader::wantAtMost() const
{
    if (m_state != State::NeedMore)
        return 0;
    switch (m_kind) {
    case Kind::Unknown:
        return kMaxV2Header;
    case Kind::V1:
        return kMaxV1Header - m_consumed;
    case Kind::V2: // exact once the prefix has told the length
        return (m_v2Length ? m_v2Length : kMaxV2Header) - m_consumed;
    }
    return 0;
}

void ProxyHeaderReader::fail(const QString& why)
{
    m_state = State::Error;
    m_error = why;
}

std::size_t ProxyHeaderReader::feed(const char* data, std::size_t len)
{
    std::size_t used = 0;
    while (used < len && m_state == State::NeedMore) {
        if (m_kind == Kind::Unknown) {
            const char first = data[used];
            if (first == 'P') {
                m_kind = Kind::V1;
            } else if (uchar(first) == kV2Signature[0]) {
                m_kind = Kind::V2;
            } else {
                ++used;
                ++m_consumed;
                fail(QStringLiteral("the connection does not start with a PROXY protocol header "
                                    "(first byte 0x%1)")
                         .arg(uchar(first), 2, 16, QLatin1Char('0')));
                break;
            }
        }
        if (m_kind == Kind::V1) {
            const char c = data[used++];
            ++m_consumed;
            const std::size_t at = m_keptLen;
            m_kept[m_keptLen++] = c;
            if (at < kV1PrefixLen) {
                if (c != kV1Prefix[at])
                    fail(QStringLiteral("not a PROXY protocol v1 header: \"%1\"")
                             .arg(shown(QByteArrayView(m_kept.data(), qsizetype(m_keptLen)))));
            } else if (c == '\n') {
                if (m_kept[at - 1] != '\r')
                    fail(QStringLiteral("PROXY protocol v1 line ends in LF without CR"));
                else
                    finishV1();
            } else if (at > 0 && m_kept[at - 1] == '\r') {
                fail(QStringLiteral("PROXY protocol v1 line has a CR not followed by LF"));
            } else if (m_keptLen == kMaxV1Header) {
                fail(QStringLiteral("PROXY protocol v1 line longer than %1 bytes")
                         .arg(kMaxV1Header));
            }
            continue;
        }
        // v2: the signature byte by byte, then the rest of the prefix, then the block
        if (m_consumed < kV2Prefix) {
            const char c = data[used++];
            const std::size_t at = m_consumed++;
            m_kept[m_keptLen++] = c;
            if (at < sizeof kV2Signature && uchar(c) != kV2Signature[at]) {
                fail(QStringLiteral("not a PROXY protocol v2 signature: \"%1\"")
                         .arg(shown(QByteArrayView(m_kept.data(), qsizetype(m_keptLen)))));
            } else if (at == kV2Prefix - 1) {
                m_v2Length = kV2Prefix + be16(m_kept.data() + 14);
                if (m_v2Length > kMaxV2Header)
                    fail(QStringLiteral("PROXY protocol v2 header of %1 bytes, more than the %2 "
                                        "accepted")
                             .arg(m_v2Length)
                             .arg(kMaxV2Header));
                else if (m_v2Length == kV2Prefix)
                    finishV2();
            }
            continue;
        }
        const std::size_t take = std::min(len - used, m_v2Length - m_consumed);
        if (m_keptLen < kV2Keep) {
            const std::size_t keep = std::min(take, kV2Keep - m_keptLen);
            std::memcpy(m_kept.data() + m_keptLen, data + used, keep);
            m_keptLen += keep;
        }
        used += take;
        m_consumed += take;
        if (m_consumed == m_v2Length)
            finishV2();
    }
    return used;
}

void ProxyHeaderReader::finishV1()
{
    // m_kept holds "PROXY " ... "\r\n"
    const QByteArrayView line(m_kept.data() + kV1PrefixLen,
                              qsizetype(m_keptLen - kV1PrefixLen - 2));
    const QList<QByteArrayView> parts = [&] {
        QList<QByteArrayView> out;
        qsizetype from = 0;
        for (qsizetype i = 0; i <= line.size(); ++i) {
            if (i == line.size() || line[i] == ' ') {
                out << line.sliced(from, i - from);
                from = i + 1;
            }
        }
        return out;
    }();
    m_header.version = 1;
    m_header.length = int(m_consumed);
    if (parts.front() == "UNKNOWN") {
        // The sender could not tell the addresses; whatever follows is to be ignored.
        m_header.local = true;
        m_state = State::Done;
        return;
    }
    const bool v6 = parts.front() == "TCP6";
    if (!v6 && parts.front() != "TCP4") {
        fail(QStringLiteral("PROXY protocol v1 protocol \"%1\" is not TCP4, TCP6 or UNKNOWN")
                 .arg(shown(parts.front())));
        return;
    }
    if (parts.size() != 5) {
        fail(QStringLiteral("PROXY protocol v1 line \"%1\" does not have the form \"PROXY %2 "
                            "<source> <destination> <source port> <destination port>\"")
                 .arg(shown(line), QLatin1String(v6 ? "TCP6" : "TCP4")));
        return;
    }
    if (!parseAddress(parts[1], v6, m_header.source) ||
        !parseAddress(parts[2], v6, m_header.destination)) {
        fail(QStringLiteral("PROXY protocol v1 address \"%1\" is not an %2 address")
                 .arg(shown(parseAddress(parts[1], v6, m_header.source) ? parts[2] : parts[1]),
                      QLatin1String(v6 ? "IPv6" : "IPv4")));
        return;
    }
    if (!parsePort(parts[3], m_header.sourcePort) ||
        !parsePort(parts[4], m_header.destinationPort)) {
        fail(QStringLiteral("PROXY protocol v1 port \"%1\" is not a number 0-65535")
                 .arg(shown(parsePort(parts[3], m_header.sourcePort) ? parts[4] : parts[3])));
        return;
    }
    m_state = State::Done;
}

void ProxyHeaderReader::finishV2()
{
    const auto versionCommand = uchar(m_kept[12]);
    const auto familyTransport = uchar(m_kept[13]);
    const std::size_t block = m_v2Length - kV2Prefix;
    m_header.version = 2;
    m_header.length = int(m_v2Length);
    if ((versionCommand >> 4) != 2) {
        fail(QStringLiteral("PROXY protocol v2 header with version %1").arg(versionCommand >> 4));
        return;
    }
    const int command = versionCommand & 0x0F;
    if (command > 1) {
        fail(QStringLiteral("PROXY protocol v2 command %1 is neither LOCAL (0) nor PROXY (1)")
                 .arg(command));
        return;
    }
    const int family = familyTransport >> 4;
    const int transport = familyTransport & 0x0F;
    if (family > 3 || transport > 2 || (family == 0) != (transport == 0)) {
        fail(QStringLiteral("PROXY protocol v2 address family and transport 0x%1 are unknown")
                 .arg(familyTransport, 2, 16, QLatin1Char('0')));
        return;
    }
    if (command == 0 || family == 0 || family == 3) {
        // LOCAL (the sender's own health check), UNSPEC, or a UNIX socket: no IP address
        // carried, the connection's own addresses stand.
        m_header.local = true;
        m_state = State::Done;
        return;
    }
    const bool v6 = family == 2;
    const std::size_t need = v6 ? 36 : 12;
    if (block < need) {
        fail(QStringLiteral("PROXY protocol v2 %1 address block of %2 bytes, %3 needed")
                 .arg(QLatin1String(v6 ? "TCP6" : "TCP4"))
                 .arg(block)
                 .arg(need));
        return;
    }
    const char* a = m_kept.data() + kV2Prefix;
    if (v6) {
        m_header.source = QHostAddress(reinterpret_cast<const quint8*>(a));
        m_header.destination = QHostAddress(reinterpret_cast<const quint8*>(a + 16));
        m_header.sourcePort = be16(a + 32);
        m_header.destinationPort = be16(a + 34);
    } else {
        const auto v4 = [](const char* p) {
            return quint32(uchar(p[0])) << 24 | quint32(uchar(p[1])) << 16 |
                   quint32(uchar(p[2])) << 8 | quint32(uchar(p[3]));
        };
        m_header.source = QHostAddress(v4(a));
        m_header.destination = QHostAddress(v4(a + 4));
        m_header.sourcePort = be16(a + 8);
        m_header.destinationPort = be16(a + 10);
    }
    m_state = State::Done;
}

QByteArray proxyHeaderV1(const QHostAddress& source, quint16 sourcePort,
                         const QHostAddress& destination, quint16 destinationPort)
{
    const auto ip = [](const QHostAddress& a) {
        return a.protocol() == QAbstractSocket::IPv4Protocol ||
               a.protocol() == QAbstractSocket::IPv6Protocol;
    };
    if (!ip(source) || !ip(destination))
        return QByteArrayLiteral("PROXY UNKNOWN\r\n");
    const bool v6 = source.protocol() == QAbstractSocket::IPv6Protocol ||
                    destination.protocol() == QAbstractSocket::IPv6Protocol;
    const auto text = [v6](const QHostAddress& a) {
        if (v6 && a.protocol() == QAbstractSocket::IPv4Protocol)
            return QStringLiteral("::ffff:") + a.toString();
        QHostAddress plain = a;
        plain.setScopeId(QString()); // a zone means nothing to the receiver
        return plain.toString();
    };
    QByteArray out = v6 ? QByteArrayLiteral("PROXY TCP6 ") : QByteArrayLiteral("PROXY TCP4 ");
    out += text(source).toLatin1();
    out += ' ';
    out += text(destination).toLatin1();
    out += ' ';
    out += QByteArray::number(sourcePort);
    out += ' ';
    out += QByteArray::number(destinationPort);
    out += "\r\n";
    return out;
}

} // namespace sg
