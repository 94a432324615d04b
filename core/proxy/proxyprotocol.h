#pragma once
// The PROXY protocol (haproxy's proxy-protocol.txt): a header a load balancer or tunnel puts in
// front of a TCP stream to carry the client's address. ProxyHeaderReader reads one header, v1
// (a text line of at most 107 bytes) or v2 (a 16-byte binary prefix and at most
// kMaxV2Header - 16 bytes of addresses and TLVs), from bytes handed in however they were cut.
// It takes only the header's own bytes, so whatever follows stays with the caller; it never
// holds more than the address part (TLVs are skipped as they pass). proxyHeaderV1() writes the
// header Streamgate sends upstream, a v1 line as nginx's `proxy_protocol on` does.

#include <QByteArray>
#include <QHostAddress>
#include <QString>
#include <array>
#include <cstddef>

namespace sg {

struct ProxyHeader
{
    int version = 0; // 1 or 2
    // No address carried (v1 UNKNOWN, v2 LOCAL, v2 UNSPEC or AF_UNIX): the connection's own
    // addresses stand.
    bool local = false;
    QHostAddress source; // the client, as the sender saw it
    quint16 sourcePort = 0;
    QHostAddress destination; // the address the client connected to, as the sender saw it
    quint16 destinationPort = 0;
    int length = 0; // bytes of the header, from "PROXY" or the v2 signature to its end
};

class ProxyHeaderReader
{
public:
    static constexpr std::size_t kMaxV1Header = 107;  // "PROXY" ... CRLF, by the spec
    static constexpr std::size_t kMaxV2Header = 4096; // the 16-byte prefix, addresses and TLVs

    enum class State { NeedMore, Done, Error };

    // Takes the bytes that follow the ones handed in before; returns how many of them belong to
    // the header (the rest are the stream's own). Takes nothing once Done or Error.
    std::size_t feed(const char* data, std::size_t len);

    State state() const { return m_state; }
    const ProxyHeader& header() const { return m_header; } // once Done
    const QString& error() const { return m_error; }       // once Error
    std::size_t consumed() const { return m_consumed; }
    // At most this many further bytes can belong to the header (0 once it is read or refused):
    // what a caller may peek at without reading past it.
    std::size_t wantAtMost() const;

private:
    enum class Kind { Unknown, V1, V2 };
    void fail(const QString& why);
    void finishV1();
    void finishV2();

    State m_state = State::NeedMore;
    Kind m_kind = Kind::Unknown;
    std::size_t m_consumed = 0;
    std::size_t m_v2Length = 0; // the whole v2 header, known once its prefix is in
    // v1: the line so far; v2: the prefix and the longest address block (TCP6: 36 bytes).
    std::array<char, kMaxV1Header> m_kept{};
    std::size_t m_keptLen = 0;
    ProxyHeader m_header;
    QString m_error;
};

// The v1 line for a connection from source to destination ("PROXY TCP4 ...\r\n"; TCP6 when
// either address is IPv6, an IPv4 one then written IPv4-mapped; "PROXY UNKNOWN\r\n" when
// either is not an IP address).
QByteArray proxyHeaderV1(const QHostAddress& source, quint16 sourcePort,
                         const QHostAddress& destination, quint16 destinationPort);

} // namespace sg
