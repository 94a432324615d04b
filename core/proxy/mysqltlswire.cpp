#include "proxy/mysqltlswire.h"

#include <algorithm>

namespace sg {

namespace {

constexpr quint8 kSslFlagHigh = 0x08; // CLIENT_SSL (0x0800) in the second byte of the flags

// Where a protocol 10 greeting's lower capability flags are; npos when it is no such greeting.
std::size_t greetingFlags(const std::string& packet)
{
    if (packet.size() < 5 || packet.size() != 4 + mysqlPayloadLength(packet) || packet[4] != 10)
        return std::string::npos;
    // Protocol 10: version, server version (NUL-terminated), connection id (4), the first 8
    // bytes of the scramble, a filler, then the lower capability flags.
    const std::size_t nul = packet.find('\0', 5);
    if (nul == std::string::npos)
        return std::string::npos;
    const std::size_t flags = nul + 1 + 4 + 8 + 1;
    return flags + 2 > packet.size() ? std::string::npos : flags;
}

} // namespace

bool offerTlsInGreeting(std::string& packet)
{
    const std::size_t flags = greetingFlags(packet);
    if (flags == std::string::npos)
        return false;
    packet[flags + 1] = char(static_cast<quint8>(packet[flags + 1]) | kSslFlagHigh);
    return true;
}

bool greetingOffersTls(const std::string& packet, bool* greeting)
{
    const std::size_t flags = greetingFlags(packet);
    *greeting = flags != std::string::npos;
    return *greeting && (static_cast<quint8>(packet[flags + 1]) & kSslFlagHigh) != 0;
}

std::string sslRequestFor(const std::string& response)
{
    std::string request("\x20\x00\x00\x01", 4);
    request.append(response, 4, 32);
    request[5] = char(static_cast<quint8>(request[5]) | kSslFlagHigh);
    return request;
}

bool isSslRequest(const std::string& packet)
{
    return packet.size() == 4 + 32 && mysqlPayloadLength(packet) == 32 &&
           (static_cast<quint8>(packet[5]) & kSslFlagHigh) != 0;
}

void MySqlLoginShift::take(std::string& in, std::string& out, const std::function<bool()>& over)
{
    std::size_t at = 0;
    while (at < in.size()) {
        if (m_remaining > 0) {
            const std::size_t n = std::min(m_remaining, in.size() - at);
            out.append(in, at, n);
            at += n;
            m_remaining -= n;
            if (m_remaining == 0 && m_endsLogin)
                m_loginOver = true;
            continue;
        }
        if (m_loginOver || (over && over())) {
            out.append(in, at, std::string::npos);
            at = in.size();
            break;
        }
        const std::size_t left = in.size() - at;
        if (left < 4)
            break;
        const std::size_t length = mysqlPayloadLength(in.substr(at, 3));
        // The HandshakeResponse's flags, or the first byte that says OK or ERR, come with the
        // header.
        const std::size_t need = m_clearSsl || m_setSsl ? std::min<std::size_t>(6, 4 + length)
                                 : m_watchEnd           ? std::min<std::size_t>(5, 4 + length)
                                                        : 4;
        if (left < need)
            break;
        in[at + 3] = char(static_cast<quint8>(in[at + 3]) + m_delta);
        if (m_clearSsl && length >= 2)
            in[at + 5] = char(static_cast<quint8>(in[at + 5]) & ~kSslFlagHigh);
        if (m_setSsl && length >= 2)
            in[at + 5] = char(static_cast<quint8>(in[at + 5]) | kSslFlagHigh);
        m_clearSsl = false;
        m_setSsl = false;
        m_endsLogin = false;
        if (m_watchEnd && length >= 1) {
            const quint8 type = static_cast<quint8>(in[at + 4]);
            m_endsLogin = type == 0x00 || type == 0xFF;
        }
        m_remaining = 4 + length;
    }
    in.erase(0, at);
}

} // namespace sg
