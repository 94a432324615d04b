#include "proxy/databasetls.h"

#include "config/developmentca.h"
#include "proxy/pgtlsrequest.h"
#include "proxy/prereadsession.h"

#include <cerrno>
#include <cstring>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sg {

namespace {

constexpr std::size_t kReadChunk = 16 * 1024;

bool wouldBlock(int e)
{
    return e == EAGAIN || e == EWOULDBLOCK;
}

// PostgreSQL 17's direct TLS asks for ALPN "postgresql"; a client that offers it gets it.
int selectAlpn(SSL*, const unsigned char** out, unsigned char* outLen, const unsigned char* in,
               unsigned int inLen, void*)
{
    static const unsigned char postgresql[] = "\x0apostgresql";
    unsigned char* selected = nullptr;
    if (SSL_select_next_proto(&selected, outLen, postgresql, sizeof postgresql - 1, in, inLen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
}

} // namespace

QString developmentCaTrustHint()
{
    return QStringLiteral("the client does not trust Streamgate's development CA: give it the "
                          "CA's certificate (Export development CA… in the route form, `streamgate "
                          "--export-dev-ca FILE` or GET /streamgate/v1/development_ca), e.g. psql "
                          "\"sslmode=verify-full sslrootcert=FILE\", mariadb --ssl-ca=FILE, or "
                          "connect with sslmode=require, which does not verify");
}

DatabaseTlsServer::DatabaseTlsServer(const DevelopmentCredentials& credentials)
{
    if (!credentials.ok()) {
        m_error = credentials.error;
        return;
    }
    m_notAfter = credentials.notAfter;
    m_context = SSL_CTX_new(TLS_server_method());
    if (!m_context) {
        m_error = QStringLiteral("OpenSSL could not make a TLS context: %1").arg(tlsErrorReason());
        return;
    }
    SSL_CTX_set_min_proto_version(m_context, TLS1_2_VERSION);
    // No resumption: a database client makes few, long connections.
    SSL_CTX_set_session_cache_mode(m_context, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(m_context, 0);
    SSL_CTX_set_options(m_context, SSL_OP_NO_TICKET);
    SSL_CTX_set_alpn_select_cb(m_context, selectAlpn, nullptr);
    BIO* certBio =
        BIO_new_mem_buf(credentials.certPem.constData(), int(credentials.certPem.size()));
    BIO* keyBio = BIO_new_mem_buf(credentials.keyPem.constData(), int(credentials.keyPem.size()));
    X509* cert = certBio ? PEM_read_bio_X509(certBio, nullptr, nullptr, nullptr) : nullptr;
    EVP_PKEY* key = keyBio ? PEM_read_bio_PrivateKey(keyBio, nullptr, nullptr, nullptr) : nullptr;
    if (!cert || !key || SSL_CTX_use_certificate(m_context, cert) != 1 ||
        SSL_CTX_use_PrivateKey(m_context, key) != 1 || SSL_CTX_check_private_key(m_context) != 1) {
        m_error = QStringLiteral("the development CA's server certificate does not load: %1")
                      .arg(tlsErrorReason());
        SSL_CTX_free(m_context);
        m_context = nullptr;
    }
    X509_free(cert);
    EVP_PKEY_free(key);
    BIO_free(certBio);
    BIO_free(keyBio);
}

DatabaseTlsServer::~DatabaseTlsServer()
{
    SSL_CTX_free(m_context);
}

SSL* DatabaseTlsServer::newConnection() const
{
    return newMemoryBioSsl(m_context, true);
}

PgTlsAcceptSession::PgTlsAcceptSession(Worker& worker, int fd,
                                       std::shared_ptr<const DatabaseTlsServer> server,
                                       qint64 timeoutMs, Done done, Failed failed)
    : WorkerSession(worker, nextPrereadSessionId()), m_server(std::move(server)),
      m_timeoutMs(timeoutMs), m_done(std::move(done)), m_failed(std::move(failed))
{
    m_watch.fd = fd;
    m_watch.handler = this;
}

PgTlsAcceptSession::~PgTlsAcceptSession()
{
    if (m_watch.fd >= 0) {
        m_worker.loop().remove(m_watch);
        ::close(m_watch.fd);
    }
    SSL_free(m_ssl);
}

void PgTlsAcceptSession::start()
{
    if (!m_worker.loop().add(m_watch, IoRead)) {
        fail(CloseReason::TlsHandshakeFailed,
             QStringLiteral("the connection could not be watched"));
        return;
    }
    m_worker.schedule(m_worker.monoMs() + m_timeoutMs, m_id, DeadlineTimer);
    m_worker.schedule(m_worker.monoMs() + kSilentMs, m_id, SilentTimer);
    step();
}

void PgTlsAcceptSession::onIo(IoWatch&, quint32)
{
    step();
}

void PgTlsAcceptSession::onTimer(quint32 tag)
{
    if (m_ended)
        return;
    if (tag == SilentTimer) {
        // The client waits for the server: not a PostgreSQL client, nothing to answer.
        if (m_phase == Phase::Request && m_request.isEmpty() && m_read == 0)
            handOn(nullptr);
        return;
    }
    fail(CloseReason::TlsHandshakeFailed,
         m_phase == Phase::Request
             ? QStringLiteral("database TLS: no complete request from the client within %1 s")
                   .arg(double(m_timeoutMs) / 1000.0)
             : QStringLiteral("TLS handshake not finished within %1 s")
                   .arg(double(m_timeoutMs) / 1000.0));
}

void PgTlsAcceptSession::close(CloseReason)
{
    if (m_ended)
        return;
    m_ended = true;
    release();
    ::close(m_watch.fd);
    m_watch.fd = -1;
}

void PgTlsAcceptSession::release()
{
    m_worker.loop().remove(m_watch);
    m_worker.retire(this);
}

void PgTlsAcceptSession::step()
{
    if (m_phase == Phase::Request)
        readRequest();
    else
        handshake();
}

void PgTlsAcceptSession::readRequest()
{
    while (!m_ended && m_phase == Phase::Request) {
        if (!flush())
            return; // the 'N' waits for the socket
        char buffer[8];
        const ssize_t n =
            ::recv(m_watch.fd, buffer, kPgRequestSize - std::size_t(m_request.size()), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && wouldBlock(errno)) {
            m_worker.loop().want(m_watch, IoRead);
            return;
        }
        if (n <= 0) {
            fail(CloseReason::ClientClosed,
                 m_read == 0 ? QStringLiteral("database TLS: the client closed before sending "
                                              "anything")
                             : QStringLiteral("database TLS: the client closed in the middle of "
                                              "its request"));
            return;
        }
        m_read += quint64(n);
        m_request.append(buffer, qsizetype(n));
        switch (classifyPgFirstBytes(m_request.constData(), std::size_t(m_request.size()))) {
        case PgFirstBytes::NeedMore:
            continue;
        case PgFirstBytes::DirectTls:
            startTls(); // the ClientHello without a request before it
            return;
        case PgFirstBytes::GssEncRequest:
            m_out.push_back('N'); // then an SSLRequest or the startup in plaintext
            m_request.clear();
            continue;
        case PgFirstBytes::SslRequest:
            m_request.clear();
            m_out.push_back('S');
            startTls();
            return;
        case PgFirstBytes::Other:
            handOn(nullptr); // the startup in plaintext, a cancel request, another protocol
            return;
        }
    }
}

void PgTlsAcceptSession::startTls()
{
    m_phase = Phase::Handshake;
    m_ssl = m_server ? m_server->newConnection() : nullptr;
    if (!m_ssl) {
        fail(CloseReason::TlsHandshakeFailed,
             m_server && !m_server->error().isEmpty()
                 ? QStringLiteral("database TLS: %1").arg(m_server->error())
                 : QStringLiteral("database TLS: OpenSSL could not start a TLS connection"));
        return;
    }
    if (!m_request.isEmpty()) {
        BIO_write(SSL_get_rbio(m_ssl), m_request.constData(), int(m_request.size()));
        m_request.clear();
    }
    handshake();
}

bool PgTlsAcceptSession::flush()
{
    char buffer[kReadChunk];
    for (;;) {
        if (m_outHead == m_out.size()) {
            m_out.clear();
            m_outHead = 0;
            if (!m_ssl)
                return true;
            const int n = BIO_read(SSL_get_wbio(m_ssl), buffer, int(sizeof buffer));
            if (n <= 0)
                return true;
            m_out.assign(buffer, std::size_t(n));
        }
        const ssize_t sent =
            ::send(m_watch.fd, m_out.data() + m_outHead, m_out.size() - m_outHead, MSG_NOSIGNAL);
        if (sent > 0) {
            m_outHead += std::size_t(sent);
            continue;
        }
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent < 0 && wouldBlock(errno)) {
            m_worker.loop().want(m_watch, IoRead | IoWrite);
            return false;
        }
        fail(CloseReason::ClientClosed,
             QStringLiteral("database TLS: the client went away during the handshake"));
        return false;
    }
}

void PgTlsAcceptSession::handshake()
{
    char buffer[kReadChunk];
    while (!m_ended) {
        if (!flush())
            return;
        ERR_clear_error();
        const int r = SSL_do_handshake(m_ssl);
        if (r == 1) {
            if (!flush())
                return; // the last flight waits for the socket: done once it is sent
            SSL* ssl = m_ssl;
            m_ssl = nullptr;
            handOn(std::make_shared<TlsLink>(ssl));
            return;
        }
        const int e = SSL_get_error(m_ssl, r);
        if (e != SSL_ERROR_WANT_READ) {
            handshakeFailed();
            return;
        }
        if (m_out.size() > m_outHead || BIO_pending(SSL_get_wbio(m_ssl)) > 0)
            continue; // send OpenSSL's flight first
        const ssize_t n = ::recv(m_watch.fd, buffer, sizeof buffer, 0);
        if (n > 0) {
            m_read += quint64(n);
            BIO_write(SSL_get_rbio(m_ssl), buffer, int(n));
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && wouldBlock(errno)) {
            m_worker.loop().want(m_watch, IoRead);
            return;
        }
        // libpq with sslmode=verify-ca or verify-full and no root certificate gives up here.
        fail(CloseReason::TlsHandshakeFailed,
             SSL_in_before(m_ssl)
                 ? QStringLiteral("database TLS: the client closed before its ClientHello (a "
                                  "client that verifies needs the CA's certificate: %1)")
                       .arg(developmentCaTrustHint())
                 : QStringLiteral("database TLS: the client closed during the handshake"));
        return;
    }
}

void PgTlsAcceptSession::handshakeFailed()
{
    const unsigned long e = ERR_peek_last_error();
    const QString reason = tlsErrorReason();
    const int why = ERR_GET_REASON(e);
    if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
        (why == SSL_R_TLSV1_ALERT_UNKNOWN_CA || why == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE ||
         why == SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN)) {
        fail(CloseReason::TlsHandshakeFailed,
             QStringLiteral("database TLS: %1 (%2)").arg(developmentCaTrustHint(), reason));
        return;
    }
    fail(CloseReason::TlsHandshakeFailed,
         QStringLiteral("database TLS: TLS handshake failed: %1")
             .arg(reason.isEmpty() ? QStringLiteral("the client broke off") : reason));
}

void PgTlsAcceptSession::handOn(std::shared_ptr<TlsLink> link)
{
    m_ended = true;
    release();
    const int fd = m_watch.fd;
    m_watch.fd = -1;
    m_done(m_worker, fd, std::move(link), std::move(m_request), m_read);
}

void PgTlsAcceptSession::fail(CloseReason reason, const QString& why)
{
    if (m_ended)
        return;
    m_ended = true;
    // OpenSSL's alert, if the socket takes it now: the client then says why too.
    if (m_ssl) {
        char buffer[512];
        const int n = BIO_read(SSL_get_wbio(m_ssl), buffer, int(sizeof buffer));
        if (n > 0 && m_out.size() == m_outHead)
            (void)::send(m_watch.fd, buffer, std::size_t(n), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    release();
    m_failed(reason, why);
    ::close(m_watch.fd);
    m_watch.fd = -1;
}

void startPgTlsAccept(Worker& worker, int fd, std::shared_ptr<const DatabaseTlsServer> server,
                      qint64 timeoutMs, PgTlsAcceptSession::Done done,
                      PgTlsAcceptSession::Failed failed)
{
    auto session = std::make_unique<PgTlsAcceptSession>(worker, fd, std::move(server), timeoutMs,
                                                        std::move(done), std::move(failed));
    PgTlsAcceptSession* raw = session.get();
    worker.adopt(std::move(session));
    raw->start();
}

} // namespace sg
