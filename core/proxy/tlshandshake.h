#pragma once
// TlsHandshakeSession runs the server side of one client's TLS handshake on a worker, before
// the client is routed (a route's sni needs the SNI the handshake read): bytes read from the
// socket go into the connection's read BIO, what OpenSSL writes goes out from its write BIO,
// each only when the epoll loop says the socket is ready. Bounded: one read of at most 16 KiB
// is fed at a time, and nothing is read while OpenSSL's answer waits to be sent. A client that
// does not finish within the timeout, closes, or fails the handshake is closed with a reason a
// user can act on (no certificate for its SNI, OpenSSL's reason, client certificate missing or
// untrusted); OpenSSL's alert is sent first when the socket takes it.

#include "proxy/tlslink.h"
#include "proxy/tlsserver.h"
#include "proxy/worker.h"

#include <QByteArray>
#include <QString>
#include <functional>
#include <memory>
#include <string>

namespace sg {

// The I/O of one TLS handshake, either side, over a non-blocking socket and the SSL object's
// memory BIOs: what OpenSSL wrote is sent first, then what the socket has is read, one read of
// at most 16 KiB at a time, and nothing is read while OpenSSL's flight waits to be sent. The
// server side's TlsHandshakeSession and the upstream connector (TLS to upstreams) both run on
// it.
class TlsHandshakeIo
{
public:
    enum class Result : quint8 {
        Wait,       // wants() says what to watch
        Done,       // the handshake is complete and its last flight sent
        Failed,     // OpenSSL refused the handshake (its error queue says why)
        PeerClosed, // the peer closed or reset before the handshake was done
        SendFailed, // the socket refused OpenSSL's bytes
    };
    explicit TlsHandshakeIo(SSL* ssl) : m_ssl(ssl) {}
    Result step(int fd);
    quint32 wants() const { return m_wants; }
    quint64 bytesRead() const { return m_read; }
    // Bytes of the peer's read before (a ClientHello read to route by): OpenSSL gets them first.
    void prime(const QByteArray& bytes);
    // OpenSSL's alert after a failure, sent if the socket takes it now (the peer then says
    // why too).
    void sendAlert(int fd);

private:
    bool flush(int fd, Result& result); // false: stop (Wait or SendFailed in result)

    SSL* m_ssl;
    std::string m_out; // OpenSSL's bytes not yet sent
    std::size_t m_outHead = 0;
    quint64 m_read = 0;
    quint32 m_wants = 0;
};

class TlsHandshakeSession final : public WorkerSession, public IoHandler
{
public:
    // done: the handshake finished (fd handed over, already off this loop; link carries the
    // SSL object, sni what the client asked for, readBytes what was read from the client).
    // failed: the client was closed. Neither is called when the worker closes the session.
    using Done = std::function<void(Worker& worker, int fd, std::shared_ptr<TlsLink> link,
                                    const QString& sni, quint64 readBytes)>;
    using Failed = std::function<void(CloseReason reason, const QString& why)>;

    // initial: what was read from the client already (its ClientHello, on a listener with tls
    // and tls_passthrough), handed to OpenSSL first.
    TlsHandshakeSession(Worker& worker, int fd, std::shared_ptr<const TlsServer> server,
                        qint64 timeoutMs, Done done, Failed failed, QByteArray initial = {});
    ~TlsHandshakeSession() override;

    void start(); // after Worker::adopt
    void onIo(IoWatch& watch, quint32 bits) override;
    void onTimer(quint32 tag) override;
    void close(CloseReason reason) override;
    QString routeId() const override { return {}; } // not admitted yet

private:
    void step();
    void fail(CloseReason reason, const QString& why);
    void handshakeFailed();
    void release();

    IoWatch m_watch;
    std::shared_ptr<const TlsServer> m_server;
    const qint64 m_timeoutMs;
    SSL* m_ssl = nullptr;
    std::unique_ptr<TlsHandshakeIo> m_io;
    QByteArray m_initial;
    Done m_done;
    Failed m_failed;
    bool m_ended = false;
};

// Starts a handshake for `fd` on `worker` (adopted there and started).
void startTlsHandshake(Worker& worker, int fd, std::shared_ptr<const TlsServer> server,
                       qint64 timeoutMs, TlsHandshakeSession::Done done,
                       TlsHandshakeSession::Failed failed, QByteArray initial = {});

} // namespace sg
