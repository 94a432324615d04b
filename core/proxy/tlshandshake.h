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

#include <QString>
#include <functional>
#include <memory>
#include <string>

namespace sg {

class TlsHandshakeSession final : public WorkerSession, public IoHandler
{
public:
    // done: the handshake finished (fd handed over, already off this loop; link carries the
    // SSL object, sni what the client asked for, readBytes what was read from the client).
    // failed: the client was closed. Neither is called when the worker closes the session.
    using Done = std::function<void(Worker& worker, int fd, std::shared_ptr<TlsLink> link,
                                    const QString& sni, quint64 readBytes)>;
    using Failed = std::function<void(CloseReason reason, const QString& why)>;

    TlsHandshakeSession(Worker& worker, int fd, std::shared_ptr<const TlsServer> server,
                        qint64 timeoutMs, Done done, Failed failed);
    ~TlsHandshakeSession() override;

    void start(); // after Worker::adopt
    void onIo(IoWatch& watch, quint32 bits) override;
    void onTimer(quint32 tag) override;
    void close(CloseReason reason) override;
    QString routeId() const override { return {}; } // not admitted yet

private:
    void step();
    bool flush(); // false: the socket is full (or failed: m_ended)
    void fail(CloseReason reason, const QString& why);
    void handshakeFailed();
    void release();

    IoWatch m_watch;
    std::shared_ptr<const TlsServer> m_server;
    const qint64 m_timeoutMs;
    SSL* m_ssl = nullptr;
    std::string m_out; // OpenSSL's bytes not yet sent
    std::size_t m_outHead = 0;
    quint64 m_read = 0;
    Done m_done;
    Failed m_failed;
    bool m_ended = false;
};

// Starts a handshake for `fd` on `worker` (adopted there and started).
void startTlsHandshake(Worker& worker, int fd, std::shared_ptr<const TlsServer> server,
                       qint64 timeoutMs, TlsHandshakeSession::Done done,
                       TlsHandshakeSession::Failed failed);

} // namespace sg
