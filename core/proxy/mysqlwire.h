#pragma once
// The MySQL client/server protocol's building blocks, shared by its readers (mysqlinspector,
// mysqltracker, sqldigest): little-endian integers, length-encoded integers and SQL's
// whitespace, read from bytes a reader has kept. Callers check the bounds of fixed-width reads.

#include <QtGlobal>
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace sg::mysqlwire {

inline constexpr quint32 kMaxPayload = 0xFFFFFF; // a packet this long continues in the next one

// Capability flags of the handshake; MariaDB's extended ones are shifted up by 32, as the
// readers keep them (MySqlInspector::serverCapabilities()).
inline constexpr quint64 kClientConnectWithDb = 0x00000008;
inline constexpr quint64 kClientCompress = 0x00000020;
inline constexpr quint64 kClientProtocol41 = 0x00000200;
inline constexpr quint64 kClientSsl = 0x00000800;
inline constexpr quint64 kClientSecureConnection = 0x00008000;
inline constexpr quint64 kClientPluginAuth = 0x00080000;
inline constexpr quint64 kClientPluginAuthLenencData = 0x00200000;
inline constexpr quint64 kClientDeprecateEof = 0x01000000;
inline constexpr quint64 kMariaDbCacheMetadata = quint64(1) << 36;

inline quint8 byteAt(const std::string& s, std::size_t i)
{
    return static_cast<quint8>(s[i]);
}

inline quint32 le16(const std::string& s, std::size_t i)
{
    return quint32(byteAt(s, i)) | quint32(byteAt(s, i + 1)) << 8;
}

inline quint32 le32(const std::string& s, std::size_t i)
{
    return le16(s, i) | le16(s, i + 2) << 16;
}

// A length-encoded integer at pos (moved past it); false when it does not fit in the bytes at
// hand, and for 0xFB (NULL) and 0xFF, which are not lengths.
inline bool readLenenc(const std::string& s, std::size_t& pos, quint64& value)
{
    if (pos >= s.size())
        return false;
    const quint8 first = byteAt(s, pos);
    std::size_t width = 0;
    if (first < 0xFB) {
        value = first;
        pos += 1;
        return true;
    }
    if (first == 0xFC)
        width = 2;
    else if (first == 0xFD)
        width = 3;
    else if (first == 0xFE)
        width = 8;
    else
        return false;
    if (pos + 1 + width > s.size())
        return false;
    value = 0;
    for (std::size_t i = 0; i < width; ++i)
        value |= quint64(byteAt(s, pos + 1 + i)) << (8 * i);
    pos += 1 + width;
    return true;
}

// Space, tab, line ends, vertical tab and form feed: what SQL folds as whitespace.
inline bool isSpace(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// An ERR packet, header included, with sequence id `seq`: 0xFF, the code, then "#" and the
// SQLSTATE when `sqlState` is given (a client that speaks CLIENT_PROTOCOL_41, after the login),
// then the message.
inline std::string errPacket(quint8 seq, quint16 code, std::string_view sqlState,
                             std::string_view message)
{
    const std::size_t payload = 3 + (sqlState.empty() ? 0 : 1 + sqlState.size()) + message.size();
    std::string packet;
    packet.reserve(4 + payload);
    packet.push_back(char(payload & 0xff));
    packet.push_back(char((payload >> 8) & 0xff));
    packet.push_back(char((payload >> 16) & 0xff));
    packet.push_back(char(seq));
    packet.push_back(char(0xff));
    packet.push_back(char(code & 0xff));
    packet.push_back(char(code >> 8));
    if (!sqlState.empty()) {
        packet.push_back('#');
        packet.append(sqlState);
    }
    packet.append(message);
    return packet;
}

// Walks a stream of MySQL packets one header or payload piece at a time, so a filter knows where
// each packet starts without reading it.
class PacketCursor
{
public:
    // True before the first byte of a packet's header.
    bool atStart() const { return m_have == 0; }
    // True once the header is read (until the packet's last payload byte is taken).
    bool inPayload() const { return m_have == 4; }
    quint32 payloadLeft() const { return m_left; }
    quint32 payloadLength() const { return m_length; }
    quint8 seq() const { return m_seq; }
    // The packet continues a logical packet of 16 MiB - 1 or more (not a new command/response).
    bool continuation() const { return m_continuation; }
    // The current (or just finished) packet is 16 MiB - 1 long: the next one continues it.
    bool moreFollows() const { return m_nextContinues; }
    // Takes what belongs to the current header or payload of `data`; returns how many bytes.
    std::size_t advance(const char* data, std::size_t len)
    {
        if (len == 0)
            return 0;
        if (m_have < 4) {
            const std::size_t n = std::min<std::size_t>(len, std::size_t(4 - m_have));
            std::memcpy(m_header + m_have, data, n);
            m_have += int(n);
            if (m_have == 4) {
                m_length =
                    quint32(m_header[0]) | quint32(m_header[1]) << 8 | quint32(m_header[2]) << 16;
                m_seq = m_header[3];
                m_left = m_length;
                m_continuation = m_nextContinues;
                m_nextContinues = m_length == kMaxPayload;
                if (m_left == 0)
                    m_have = 0;
            }
            return n;
        }
        const std::size_t n = std::min<std::size_t>(len, m_left);
        m_left -= quint32(n);
        if (m_left == 0)
            m_have = 0;
        return n;
    }

private:
    unsigned char m_header[4] = {};
    int m_have = 0;
    quint32 m_length = 0;
    quint32 m_left = 0;
    quint8 m_seq = 0;
    bool m_continuation = false;
    bool m_nextContinues = false;
};

} // namespace sg::mysqlwire
