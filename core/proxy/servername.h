#pragma once
// Server names of TLS connections: the SNI a ClientHello carries, read from the body of its
// server_name extension (as OpenSSL's client-hello callback hands it over, the extension's own
// length already checked), and a route's sni pattern matched against it. Qt Core only, so the
// reader is fuzzed on its own (tests/fuzz/fuzz_servername.cpp).

#include <QByteArray>
#include <QString>
#include <cstddef>

namespace sg {

// Reads a client's ClientHello from the bytes it sends first, without terminating its TLS
// (tls_passthrough, nginx's ssl_preread): TLS handshake records (content type 22) are taken
// whole until the handshake message they carry, a ClientHello, is complete (it may span
// records, up to kMaxHello bytes), then its server_name extension is read (serverNameOf()).
// Anything else is an Error: plaintext, an SSLv2-style hello, another handshake message, or a
// ClientHello whose lengths do not add up. The reader never takes a byte past the record that
// completes the ClientHello, so what follows stays for the session. PrereadSession's Reader.
class ClientHelloReader
{
public:
    static constexpr std::size_t kMaxHello = 64 * 1024;
    enum class State { NeedMore, Done, Error };

    std::size_t feed(const char* data, std::size_t len);
    State state() const { return m_state; }
    const QString& serverName() const { return m_sni; } // once Done; "" when it has none
    const QString& error() const { return m_error; }    // once Error
    std::size_t consumed() const { return m_consumed; }
    std::size_t wantAtMost() const;

private:
    void fail(const QString& why);
    void parseHello();

    State m_state = State::NeedMore;
    QByteArray m_header;    // the record header being read (up to 5 bytes)
    std::size_t m_left = 0; // bytes of the current record's body still to take
    QByteArray m_handshake; // handshake bytes so far
    QString m_sni;
    QString m_error;
    std::size_t m_consumed = 0;
};

// The first host_name of a server_name extension body (RFC 6066 3), lower case and without a
// trailing dot, as APISIX compares names; "" when the body is malformed (lengths that do not
// add up) or the name has a byte no host name has (controls, space, non-ASCII).
QString serverNameOf(const unsigned char* ext, std::size_t len);

// APISIX's route sni against a connection's SNI: exact, or "*suffix" (any number of labels
// before the suffix, "*" every name).
bool routeSniMatches(const QString& pattern, const QString& sni);

} // namespace sg
