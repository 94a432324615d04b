#pragma once
// The MySQL protocol edits database TLS makes on a login (proxy/mysqltls.h), without OpenSSL or
// sockets so that the fuzz target runs them: CLIENT_SSL offered in the server's greeting, and
// the login's packets with their sequence ids shifted (the client counted an SSLRequest the
// server never saw). Bytes are handed on as soon as their packet header has been rewritten; at
// most a header (and the first two payload bytes of the HandshakeResponse) is held.

#include <QtGlobal>
#include <cstddef>
#include <functional>
#include <string>

namespace sg {

// The payload length in a MySQL packet header (3 bytes, little-endian) at the start of `s`
// (at least 3 bytes).
inline std::size_t mysqlPayloadLength(const std::string& s)
{
    const auto b = [&s](std::size_t i) { return std::size_t(static_cast<quint8>(s[i])); };
    return b(0) | b(1) << 8 | b(2) << 16;
}

// The size of the whole first packet of `in` (header and payload): 0 while more must come,
// npos when it is longer than `max` (too long to be held).
inline std::size_t mysqlFirstPacket(const std::string& in, std::size_t max)
{
    if (in.size() < 4)
        return 0;
    const std::size_t whole = 4 + mysqlPayloadLength(in);
    if (whole > max)
        return std::string::npos;
    return in.size() < whole ? 0 : whole;
}

// `packet` is the server's first packet, whole (header and payload). True when it is a
// protocol 10 greeting, now offering CLIENT_SSL; false (unchanged) otherwise.
bool offerTlsInGreeting(std::string& packet);
// The same packet as the server sent it: a protocol 10 greeting (`greeting`), and whether it
// offers CLIENT_SSL.
bool greetingOffersTls(const std::string& packet, bool* greeting);

// The SSLRequest (sequence id 1) a client sends before a TLS login: the first 32 bytes of its
// HandshakeResponse's payload (capability flags, max packet size, charset, filler), with
// CLIENT_SSL. `response` is at least a header and 32 bytes of payload.
std::string sslRequestFor(const std::string& response);

// The capability flags of a client's first packet (whole) say CLIENT_SSL and it is 32 bytes:
// an SSLRequest.
bool isSslRequest(const std::string& packet);

class MySqlLoginShift
{
public:
    // delta: -1 client -> server, +1 server -> client (the other way round for TLS to the
    // server, database_server_tls). clearSsl / setSsl: the first packet is the
    // HandshakeResponse, whose CLIENT_SSL flag is taken out / put in. watchEnd: the login ends
    // after a packet that starts OK (0x00) or ERR (0xFF) (the server's side).
    MySqlLoginShift(int delta, bool clearSsl, bool watchEnd, bool setSsl = false)
        : m_delta(delta), m_clearSsl(clearSsl), m_setSsl(setSsl), m_watchEnd(watchEnd)
    {
    }

    // Moves from `in` to `out` what can go on now. At each packet boundary, once `over()` is
    // true (or the server's OK/ERR went by: loginOver()), the rest is moved as it is.
    void take(std::string& in, std::string& out, const std::function<bool()>& over = {});
    bool loginOver() const { return m_loginOver; }
    std::size_t remaining() const { return m_remaining; } // of the packet being moved

private:
    int m_delta;
    bool m_clearSsl;
    bool m_setSsl;
    bool m_watchEnd;
    std::size_t m_remaining = 0;
    bool m_endsLogin = false;
    bool m_loginOver = false;
};

} // namespace sg
