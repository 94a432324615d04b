#include "proxy/servername.h"

namespace sg {

QString serverNameOf(const unsigned char* ext, std::size_t len)
{
    if (len < 2)
        return {};
    const std::size_t listLength = std::size_t(ext[0]) << 8 | ext[1];
    if (listLength + 2 != len)
        return {};
    std::size_t at = 2;
    while (at + 3 <= len) {
        const unsigned type = ext[at];
        const std::size_t nameLength = std::size_t(ext[at + 1]) << 8 | ext[at + 2];
        at += 3;
        if (nameLength > len - at)
            return {};
        if (type == 0) {
            if (nameLength == 0 || nameLength > 255)
                return {};
            for (std::size_t i = 0; i < nameLength; ++i) {
                if (ext[at + i] <= 0x20 || ext[at + i] >= 0x7f)
                    return {};
            }
            QString name =
                QString::fromLatin1(reinterpret_cast<const char*>(ext + at), qsizetype(nameLength));
            if (name.endsWith(u'.'))
                name.chop(1);
            return name.toLower();
        }
        at += nameLength;
    }
    return {};
}

std::size_t ClientHelloReader::wantAtMost() const
{
    if (m_state != State::NeedMore)
        return 0;
    return m_left > 0 ? m_left : std::size_t(5 - m_header.size());
}

void ClientHelloReader::fail(const QString& why)
{
    m_state = State::Error;
    m_error = why;
}

std::size_t ClientHelloReader::feed(const char* data, std::size_t len)
{
    std::size_t took = 0;
    while (m_state == State::NeedMore && took < len) {
        if (m_left == 0) {
            // A record header: type 22 (handshake), version 3.x, a length a record may have.
            const std::size_t n = qMin<std::size_t>(5 - m_header.size(), len - took);
            m_header.append(data + took, qsizetype(n));
            took += n;
            if (m_header.size() >= 1 && quint8(m_header.at(0)) != 22) {
                fail(quint8(m_header.at(0)) & 0x80
                         ? QStringLiteral("an SSLv2-style ClientHello, which carries no SNI")
                         : QStringLiteral("the client's first bytes are not a TLS handshake "
                                          "record (plaintext?)"));
                break;
            }
            if (m_header.size() >= 2 && quint8(m_header.at(1)) != 3) {
                fail(QStringLiteral("not a TLS record (version byte %1)")
                         .arg(quint8(m_header.at(1))));
                break;
            }
            if (m_header.size() < 5)
                continue;
            const std::size_t length =
                std::size_t(quint8(m_header.at(3))) << 8 | quint8(m_header.at(4));
            if (length == 0 || length > 16384 + 2048) {
                fail(QStringLiteral("a TLS record of %1 bytes").arg(length));
                break;
            }
            m_left = length;
            m_header.clear();
            continue;
        }
        const std::size_t n = qMin(m_left, len - took);
        m_handshake.append(data + took, qsizetype(n));
        took += n;
        m_left -= n;
        if (m_handshake.size() >= 1 && quint8(m_handshake.at(0)) != 1) {
            fail(QStringLiteral("the first handshake message is not a ClientHello"));
            break;
        }
        if (m_handshake.size() < 4)
            continue;
        const std::size_t helloLength = std::size_t(quint8(m_handshake.at(1))) << 16 |
                                        std::size_t(quint8(m_handshake.at(2))) << 8 |
                                        quint8(m_handshake.at(3));
        if (helloLength > kMaxHello) {
            fail(QStringLiteral("a ClientHello of %1 bytes (at most %2 are read)")
                     .arg(helloLength)
                     .arg(kMaxHello));
            break;
        }
        // Whole records only: the rest of the one that completes the hello is taken too.
        if (std::size_t(m_handshake.size()) >= 4 + helloLength && m_left == 0) {
            m_handshake.truncate(qsizetype(4 + helloLength));
            parseHello();
        }
    }
    m_consumed += took;
    return took;
}

// ClientHello (RFC 8446 4.1.2): version, random, session id, cipher suites, compression
// methods, extensions; the SNI is the server_name extension's (type 0).
void ClientHelloReader::parseHello()
{
    const auto* p = reinterpret_cast<const unsigned char*>(m_handshake.constData()) + 4;
    const std::size_t len = std::size_t(m_handshake.size()) - 4;
    std::size_t at = 2 + 32; // legacy_version, random
    const auto skip = [&](std::size_t lengthBytes) {
        if (at + lengthBytes > len)
            return false;
        std::size_t n = 0;
        for (std::size_t i = 0; i < lengthBytes; ++i)
            n = n << 8 | p[at + i];
        at += lengthBytes;
        if (n > len - at)
            return false;
        at += n;
        return true;
    };
    if (at > len || !skip(1) || !skip(2) || !skip(1)) {
        fail(QStringLiteral("a ClientHello whose lengths do not add up"));
        return;
    }
    m_state = State::Done;
    if (at == len)
        return; // no extensions
    if (at + 2 > len) {
        fail(QStringLiteral("a ClientHello whose lengths do not add up"));
        return;
    }
    const std::size_t extLength = std::size_t(p[at]) << 8 | p[at + 1];
    at += 2;
    if (extLength != len - at) {
        fail(QStringLiteral("a ClientHello whose extensions' length does not add up"));
        return;
    }
    while (at + 4 <= len) {
        const unsigned type = unsigned(p[at]) << 8 | p[at + 1];
        const std::size_t n = std::size_t(p[at + 2]) << 8 | p[at + 3];
        at += 4;
        if (n > len - at) {
            fail(QStringLiteral("a ClientHello whose extensions' length does not add up"));
            return;
        }
        if (type == 0) {
            m_sni = serverNameOf(p + at, n);
            return;
        }
        at += n;
    }
}

bool routeSniMatches(const QString& pattern, const QString& sni)
{
    if (pattern.startsWith(u'*'))
        return sni.endsWith(QStringView(pattern).mid(1));
    return pattern == sni;
}

} // namespace sg
