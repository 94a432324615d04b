#pragma once
// TlsLink is one terminated TLS connection once its handshake is done (TlsHandshakeSession):
// the SSL object over its two memory BIOs, and the pair of relay filters that carry it through
// the session's RelayPump. The client's bytes go through `decrypt` (first in the client ->
// upstream chain: the readers after it see plaintext, the MySQL insight included), the
// upstream's through `encrypt` (last in the upstream -> client chain). Both filters transform
// every byte, so a TLS session takes the copy path, never splice; plain TCP sessions carry no
// TLS filter and pay nothing.
// Memory: what is written to the read BIO is decrypted at once, so OpenSSL holds at most one
// incomplete record (at most 16 KiB + 256 bytes) besides the direction's buffer; what the write
// BIO gets is handed on at once. A TLS error inside the session (a bad record) resets both
// peers and the session ends as "TLS error". The same pair carries the proxy's TLS to an
// upstream (tlsclient.h), with the roles of the two directions swapped.

#include "proxy/relayfilter.h"
#include "stats/snapshot.h"

#include <QString>
#include <memory>

using SSL = struct ssl_st;
using SSL_CTX = struct ssl_ctx_st;

namespace sg {

// What one read from or write to OpenSSL moves at most: a TLS record's plaintext.
inline constexpr int kTlsChunk = 16 * 1024;

class TlsLink : public std::enable_shared_from_this<TlsLink>
{
public:
    // Takes the SSL object. upstream: the proxy's own TLS to an upstream (scheme "tls"), whose
    // filters go the other way round: `encrypt` last toward the upstream, `decrypt` first
    // toward the client.
    explicit TlsLink(SSL* ssl, bool upstream = false);
    ~TlsLink();
    Q_DISABLE_COPY_MOVE(TlsLink)

    SSL* ssl() const { return m_ssl; }
    // An upstream link is made with its session, before its handshake (its filters take their
    // place in the chains then); the SSL object of the finished handshake comes here, before
    // the pump starts.
    void adopt(SSL* ssl) { m_ssl = ssl; }
    // An upstream link whose server spoke plaintext after all (database_server_tls "prefer"
    // and a server without TLS), before the pump starts: its filters pass and are let go.
    void bypass() { m_bypassed = true; }
    bool bypassed() const { return m_bypassed; }
    // The finished handshake, for the connection's record.
    TlsInfo describe(const QString& sni) const;
    // The filters, sharing this link's allocation (RelayFilter's aliasing contract).
    std::shared_ptr<RelayFilter> decryptFilter();
    std::shared_ptr<RelayFilter> encryptFilter();
    // A TLS error ended the session (InjectedReset from the pump then means this).
    bool failed() const { return !m_error.isEmpty(); }
    const QString& error() const { return m_error; }
    int errorReason() const { return m_errorReason; } // OpenSSL's ERR_GET_REASON, 0: none
    bool upstream() const { return m_upstream; }
    QString peerName() const
    {
        return m_upstream ? QStringLiteral("upstream") : QStringLiteral("client");
    }

    // Moves what OpenSSL wrote (records, alerts) to `out`; returns the bytes moved.
    std::size_t drainOutput(FilterOutput& out);
    void fail(const QString& why, int reason = 0)
    {
        m_error = why;
        m_errorReason = reason;
    }

private:
    class Decrypt;
    class Encrypt;
    SSL* m_ssl;
    const bool m_upstream;
    bool m_bypassed = false;
    int m_errorReason = 0;
    std::unique_ptr<Decrypt> m_decrypt;
    std::unique_ptr<Encrypt> m_encrypt;
    QString m_error;
};

// OpenSSL's reason for the last error on this thread (cleared), "" when none.
QString tlsErrorReason();

// What `ssl` wrote to its write BIO (records, alerts), moved to `out`; returns the bytes moved.
std::size_t drainTlsOutput(SSL* ssl, FilterOutput& out);
// close_notify, and what else OpenSSL wrote, moved to `out` (the peer is told the stream ends).
void shutdownTls(SSL* ssl, FilterOutput& out);
// `len` bytes of plaintext encrypted by `ssl` (handshake done) and moved to `out`; "" or why
// OpenSSL refused (then nothing more should be written).
QString encryptTo(SSL* ssl, const char* data, std::size_t len, FilterOutput& out);

// A connection of `context` over two fresh memory BIOs (the worker moves the bytes; a drained
// BIO says "retry", not end of file), in the server's role (`accept`) or the client's; nullptr
// when OpenSSL is out of memory or there is no context.
SSL* newMemoryBioSsl(SSL_CTX* context, bool accept);

} // namespace sg
