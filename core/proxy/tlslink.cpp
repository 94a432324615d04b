#include "proxy/tlslink.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace sg {

QString tlsErrorReason()
{
    const unsigned long e = ERR_peek_last_error();
    ERR_clear_error();
    if (e == 0)
        return QString();
    const char* reason = ERR_reason_error_string(e);
    return reason ? QString::fromLatin1(reason) : QStringLiteral("OpenSSL error %1").arg(e);
}

SSL* newMemoryBioSsl(SSL_CTX* context, bool accept)
{
    SSL* ssl = context ? SSL_new(context) : nullptr;
    if (!ssl)
        return nullptr;
    BIO* in = BIO_new(BIO_s_mem());
    BIO* out = BIO_new(BIO_s_mem());
    if (!in || !out) {
        BIO_free(in);
        BIO_free(out);
        SSL_free(ssl);
        return nullptr;
    }
    BIO_set_mem_eof_return(in, -1);
    BIO_set_mem_eof_return(out, -1);
    SSL_set_bio(ssl, in, out);
    if (accept)
        SSL_set_accept_state(ssl);
    else
        SSL_set_connect_state(ssl);
    return ssl;
}

// From the TLS peer: ciphertext in, plaintext out (client -> upstream on a listener with tls,
// upstream -> client for an upstream with scheme "tls").
class TlsLink::Decrypt final : public RelayFilter
{
public:
    explicit Decrypt(TlsLink& link) : m_link(link) {}
    Mode mode() const override { return m_link.bypassed() ? Mode::Pass : Mode::Transform; }
    bool done() const override { return m_link.bypassed(); }
    // Application data that came with the end of the handshake is already in the read BIO.
    void onStart(FilterOutput& out) override { drain(out); }
    void onData(const char* data, std::size_t len, FilterOutput& out) override
    {
        if (m_ended)
            return;
        BIO_write(SSL_get_rbio(m_link.ssl()), data, int(len));
        drain(out);
    }
    void onEnd(FilterOutput& out) override
    {
        // A FIN without close_notify: the client is gone all the same.
        if (!m_ended) {
            m_ended = true;
            out.finish();
        }
    }

private:
    void drain(FilterOutput& out)
    {
        char buffer[kTlsChunk];
        while (!m_ended) {
            ERR_clear_error();
            const int n = SSL_read(m_link.ssl(), buffer, int(sizeof buffer));
            if (n > 0) {
                out.write(buffer, std::size_t(n));
                continue;
            }
            const int e = SSL_get_error(m_link.ssl(), n);
            if (e == SSL_ERROR_WANT_READ)
                return;
            m_ended = true;
            if (e == SSL_ERROR_ZERO_RETURN) {
                out.finish(); // close_notify: the client sends no more
                return;
            }
            const int code = ERR_GET_REASON(ERR_peek_last_error());
            const QString reason = tlsErrorReason();
            m_link.fail(
                reason.isEmpty()
                    ? QStringLiteral("the %1's TLS record was refused").arg(m_link.peerName())
                    : reason,
                code);
            out.reset();
        }
    }

    TlsLink& m_link;
    bool m_ended = false;
};

// Toward the TLS peer: plaintext in, ciphertext out.
class TlsLink::Encrypt final : public RelayFilter
{
public:
    explicit Encrypt(TlsLink& link) : m_link(link) {}
    Mode mode() const override { return m_link.bypassed() ? Mode::Pass : Mode::Transform; }
    bool done() const override { return m_link.bypassed(); }
    void onData(const char* data, std::size_t len, FilterOutput& out) override
    {
        const QString error = encryptTo(m_link.ssl(), data, len, out);
        if (!error.isEmpty()) {
            m_link.fail(error);
            out.reset();
        }
    }
    void onEnd(FilterOutput& out) override
    {
        // The other peer closed: close_notify, then the FIN.
        shutdownTls(m_link.ssl(), out);
        out.finish();
    }
    void onTimer(FilterOutput& out) override { m_link.drainOutput(out); }

private:
    TlsLink& m_link;
};

TlsLink::TlsLink(SSL* ssl, bool upstream)
    : m_ssl(ssl), m_upstream(upstream), m_decrypt(std::make_unique<Decrypt>(*this)),
      m_encrypt(std::make_unique<Encrypt>(*this))
{
}

TlsLink::~TlsLink()
{
    SSL_free(m_ssl);
}

TlsInfo TlsLink::describe(const QString& sni) const
{
    TlsInfo info;
    info.terminated = true;
    info.sni = sni;
    info.version = QString::fromLatin1(SSL_get_version(m_ssl));
    info.cipher = QString::fromLatin1(SSL_get_cipher_name(m_ssl));
    info.resumed = SSL_session_reused(m_ssl) == 1;
    if (X509* peer = SSL_get1_peer_certificate(m_ssl)) {
        char subject[256] = {};
        X509_NAME_oneline(X509_get_subject_name(peer), subject, sizeof subject);
        info.clientCertificate = QString::fromUtf8(subject);
        X509_free(peer);
    }
    return info;
}

std::shared_ptr<RelayFilter> TlsLink::decryptFilter()
{
    return std::shared_ptr<RelayFilter>(shared_from_this(), m_decrypt.get());
}

std::shared_ptr<RelayFilter> TlsLink::encryptFilter()
{
    return std::shared_ptr<RelayFilter>(shared_from_this(), m_encrypt.get());
}

std::size_t TlsLink::drainOutput(FilterOutput& out)
{
    return drainTlsOutput(m_ssl, out);
}

std::size_t drainTlsOutput(SSL* ssl, FilterOutput& out)
{
    BIO* wbio = SSL_get_wbio(ssl);
    char buffer[kTlsChunk];
    std::size_t moved = 0;
    for (;;) {
        const int n = BIO_read(wbio, buffer, int(sizeof buffer));
        if (n <= 0)
            return moved;
        out.write(buffer, std::size_t(n));
        moved += std::size_t(n);
    }
}

void shutdownTls(SSL* ssl, FilterOutput& out)
{
    ERR_clear_error();
    SSL_shutdown(ssl);
    ERR_clear_error();
    drainTlsOutput(ssl, out);
}

QString encryptTo(SSL* ssl, const char* data, std::size_t len, FilterOutput& out)
{
    while (len > 0) {
        const int chunk = int(qMin<std::size_t>(len, kTlsChunk));
        ERR_clear_error();
        const int n = SSL_write(ssl, data, chunk);
        if (n <= 0) {
            const QString reason = tlsErrorReason();
            return reason.isEmpty() ? QStringLiteral("OpenSSL refused to encrypt") : reason;
        }
        data += n;
        len -= std::size_t(n);
        drainTlsOutput(ssl, out);
    }
    return QString();
}

} // namespace sg
