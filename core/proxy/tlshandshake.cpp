#include "proxy/tlshandshake.h"

#include "proxy/prereadsession.h"

#include <cerrno>
#include <cstring>
#include <openssl/err.h>
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

} // namespace

TlsHandshakeSession::TlsHandshakeSession(Worker& worker, int fd,
                                         std::shared_ptr<const TlsServer> server, qint64 timeoutMs,
                                         Done done, Failed failed, QByteArray initial)
    : WorkerSession(worker, nextPrereadSessionId()), m_server(std::move(server)),
      m_timeoutMs(timeoutMs), m_initial(std::move(initial)), m_done(std::move(done)),
      m_failed(std::move(failed))
{
    m_watch.fd = fd;
    m_watch.handler = this;
}

TlsHandshakeSession::~TlsHandshakeSession()
{
    if (m_watch.fd >= 0) {
        m_worker.loop().remove(m_watch);
        ::close(m_watch.fd);
    }
    SSL_free(m_ssl);
}

void TlsHandshakeSession::start()
{
    if (!m_worker.loop().add(m_watch, IoRead)) {
        fail(CloseReason::TlsHandshakeFailed,
             QStringLiteral("the connection could not be watched"));
        return;
    }
    m_ssl = m_server ? m_server->newConnection() : nullptr;
    if (m_ssl) {
        m_io = std::make_unique<TlsHandshakeIo>(m_ssl);
        m_io->prime(m_initial);
        m_initial = QByteArray();
    }
    if (!m_ssl) {
        fail(CloseReason::TlsHandshakeFailed, QStringLiteral("OpenSSL could not start a TLS "
                                                             "connection (out of memory)"));
        return;
    }
    m_worker.schedule(m_worker.monoMs() + m_timeoutMs, m_id, 0);
    step(); // the ClientHello often came with the connection
}

void TlsHandshakeSession::onIo(IoWatch&, quint32)
{
    step();
}

void TlsHandshakeSession::onTimer(quint32)
{
    if (!m_ended)
        fail(CloseReason::TlsHandshakeFailed,
             QStringLiteral("TLS handshake not finished within %1 s")
                 .arg(double(m_timeoutMs) / 1000.0));
}

void TlsHandshakeSession::close(CloseReason)
{
    if (m_ended)
        return;
    m_ended = true;
    release();
    ::close(m_watch.fd);
    m_watch.fd = -1;
}

void TlsHandshakeSession::release()
{
    m_worker.loop().remove(m_watch);
    m_worker.retire(this);
}

void TlsHandshakeSession::step()
{
    if (m_ended)
        return;
    switch (m_io->step(m_watch.fd)) {
    case TlsHandshakeIo::Result::Wait:
        m_worker.loop().want(m_watch, m_io->wants());
        return;
    case TlsHandshakeIo::Result::Done: {
        m_ended = true;
        release();
        const int fd = m_watch.fd;
        m_watch.fd = -1;
        SSL* ssl = m_ssl;
        m_ssl = nullptr;
        const QString sni = TlsServer::sniOf(ssl);
        m_done(m_worker, fd, std::make_shared<TlsLink>(ssl), sni, m_io->bytesRead());
        return;
    }
    case TlsHandshakeIo::Result::Failed:
        handshakeFailed();
        return;
    case TlsHandshakeIo::Result::SendFailed:
        fail(CloseReason::TlsHandshakeFailed,
             QStringLiteral("TLS handshake failed: the client went away"));
        return;
    case TlsHandshakeIo::Result::PeerClosed:
        fail(CloseReason::TlsHandshakeFailed,
             m_io->bytesRead() == 0
                 ? QStringLiteral("TLS handshake failed: the client closed before sending its "
                                  "ClientHello")
                 : QStringLiteral("TLS handshake failed: the client closed during the "
                                  "handshake"));
        return;
    }
}

bool TlsHandshakeIo::flush(int fd, Result& result)
{
    BIO* wbio = SSL_get_wbio(m_ssl);
    char buffer[kReadChunk];
    for (;;) {
        if (m_outHead == m_out.size()) {
            m_out.clear();
            m_outHead = 0;
            const int n = BIO_read(wbio, buffer, int(sizeof buffer));
            if (n <= 0)
                return true;
            m_out.assign(buffer, std::size_t(n));
        }
        const ssize_t sent =
            ::send(fd, m_out.data() + m_outHead, m_out.size() - m_outHead, MSG_NOSIGNAL);
        if (sent > 0) {
            m_outHead += std::size_t(sent);
            continue;
        }
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent < 0 && wouldBlock(errno)) {
            m_wants = IoRead | IoWrite;
            result = Result::Wait;
            return false;
        }
        result = Result::SendFailed;
        return false;
    }
}

TlsHandshakeIo::Result TlsHandshakeIo::step(int fd)
{
    char buffer[kReadChunk];
    Result result = Result::Wait;
    for (;;) {
        if (!flush(fd, result))
            return result;
        ERR_clear_error();
        const int r = SSL_do_handshake(m_ssl);
        if (r == 1) {
            // The last flight may wait for the socket: done once it is sent (a later step()
            // finds the handshake complete again).
            if (!flush(fd, result))
                return result;
            return Result::Done;
        }
        const int e = SSL_get_error(m_ssl, r);
        if (e != SSL_ERROR_WANT_READ)
            return Result::Failed;
        if (m_out.size() > m_outHead || BIO_pending(SSL_get_wbio(m_ssl)) > 0)
            continue; // send OpenSSL's flight first
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n > 0) {
            m_read += quint64(n);
            BIO_write(SSL_get_rbio(m_ssl), buffer, int(n));
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && wouldBlock(errno)) {
            m_wants = IoRead;
            return Result::Wait;
        }
        return Result::PeerClosed;
    }
}

void TlsHandshakeIo::prime(const QByteArray& bytes)
{
    if (bytes.isEmpty())
        return;
    m_read += quint64(bytes.size());
    BIO_write(SSL_get_rbio(m_ssl), bytes.constData(), int(bytes.size()));
}

void TlsHandshakeIo::sendAlert(int fd)
{
    char buffer[512];
    const int n = BIO_read(SSL_get_wbio(m_ssl), buffer, int(sizeof buffer));
    if (n > 0 && m_out.size() == m_outHead)
        (void)::send(fd, buffer, std::size_t(n), MSG_NOSIGNAL | MSG_DONTWAIT);
}

// Why OpenSSL gave up, in the words a user acts on.
void TlsHandshakeSession::handshakeFailed()
{
    const unsigned long e = ERR_peek_last_error();
    const QString reason = tlsErrorReason();
    const QString sni = TlsServer::sniOf(m_ssl);
    if (TlsServer::noCertificate(m_ssl)) {
        fail(CloseReason::TlsNoCertificate,
             sni.isEmpty() ? QStringLiteral("the client sent no SNI (server name), so no "
                                            "certificate can be chosen")
                           : QStringLiteral("no certificate for SNI %1: no enabled ssl has it in "
                                            "sni or snis")
                                 .arg(sni));
        return;
    }
    const int lib = ERR_GET_LIB(e);
    const int why = ERR_GET_REASON(e);
    if (lib == ERR_LIB_SSL && why == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
        fail(CloseReason::TlsClientCertMissing,
             QStringLiteral("client certificate missing: the ssl for SNI %1 requires one "
                            "(client.ca)")
                 .arg(sni));
        return;
    }
    if (lib == ERR_LIB_SSL && why == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        fail(CloseReason::TlsClientCertUntrusted,
             QStringLiteral("client certificate untrusted: %1")
                 .arg(QString::fromLatin1(
                     X509_verify_cert_error_string(SSL_get_verify_result(m_ssl)))));
        return;
    }
    fail(CloseReason::TlsHandshakeFailed,
         QStringLiteral("TLS handshake failed: %1")
             .arg(reason.isEmpty() ? QStringLiteral("the client broke off") : reason));
}

void TlsHandshakeSession::fail(CloseReason reason, const QString& why)
{
    if (m_ended)
        return;
    m_ended = true;
    // OpenSSL's alert, if the socket takes it now: the client then says why too.
    if (m_io)
        m_io->sendAlert(m_watch.fd);
    release();
    m_failed(reason, why);
    ::close(m_watch.fd);
    m_watch.fd = -1;
}

void startTlsHandshake(Worker& worker, int fd, std::shared_ptr<const TlsServer> server,
                       qint64 timeoutMs, TlsHandshakeSession::Done done,
                       TlsHandshakeSession::Failed failed, QByteArray initial)
{
    auto session = std::make_unique<TlsHandshakeSession>(worker, fd, std::move(server), timeoutMs,
                                                         std::move(done), std::move(failed),
                                                         std::move(initial));
    TlsHandshakeSession* raw = session.get();
    worker.adopt(std::move(session));
    raw->start();
}

} // namespace sg
