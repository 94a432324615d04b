#pragma once
// Database TLS that keeps insight (streamgate.routes.<id>.database_tls): Streamgate answers a
// PostgreSQL client's request for TLS itself, with a certificate of its development CA
// (config/developmentca.h), so the startup (user, database) and every statement after it pass
// the readers in plaintext; the server gets the plaintext session, or with database_server_tls
// one in TLS of Streamgate's own (UpstreamConnector asks the server for it). DatabaseTlsServer is
// that certificate compiled for the workers (built on the engine thread, immutable, shared through
// the RouteTable). PgTlsAcceptSession runs on a worker after admission and before the session:
//   - the client's SSLRequest is answered 'S' and the TLS handshake runs (memory BIOs, as
//     TlsHandshakeSession; the TlsLink then carries the session);
//   - a GSSENCRequest is answered 'N' (no GSSAPI encryption), and the client goes on with an
//     SSLRequest or its startup;
//   - a ClientHello straight away (PostgreSQL 17's sslnegotiation=direct, ALPN "postgresql") is
//     answered as well;
//   - anything else (a startup in plaintext, a cancel request, another protocol) is handed on
//     with the bytes read, untouched, and so is a client that sends nothing for kSilentMs (a
//     protocol whose server speaks first).
// Bounded: at most 8 bytes of the request and one read of 16 KiB of the handshake are held.

#include "proxy/tlslink.h"
#include "proxy/worker.h"

#include <QByteArray>
#include <QDateTime>
#include <QString>
#include <functional>
#include <memory>
#include <string>

using SSL = struct ssl_st;
using SSL_CTX = struct ssl_ctx_st;

namespace sg {

struct DevelopmentCredentials;

class DatabaseTlsServer
{
public:
    // The credentials' server certificate; error() says why there is none to present.
    explicit DatabaseTlsServer(const DevelopmentCredentials& credentials);
    ~DatabaseTlsServer();
    Q_DISABLE_COPY_MOVE(DatabaseTlsServer)

    const QString& error() const { return m_error; }
    const QDateTime& notAfter() const { return m_notAfter; }
    // A new server-side connection over fresh memory BIOs (any worker thread); nullptr when
    // there is no certificate or OpenSSL is out of memory.
    SSL* newConnection() const;

private:
    SSL_CTX* m_context = nullptr;
    QString m_error;
    QDateTime m_notAfter;
};

class PgTlsAcceptSession final : public WorkerSession, public IoHandler
{
public:
    static constexpr qint64 kSilentMs = 1000;

    // done: fd handed over, off this loop; link: the client's TLS connection (nullptr: the
    // client did not ask for TLS, `kept` holds what was read of it); read: the bytes read.
    using Done = std::function<void(Worker& worker, int fd, std::shared_ptr<TlsLink> link,
                                    QByteArray kept, quint64 read)>;
    using Failed = std::function<void(CloseReason reason, const QString& why)>;

    PgTlsAcceptSession(Worker& worker, int fd, std::shared_ptr<const DatabaseTlsServer> server,
                       qint64 timeoutMs, Done done, Failed failed);
    ~PgTlsAcceptSession() override;

    void start(); // after Worker::adopt
    void onIo(IoWatch& watch, quint32 bits) override;
    void onTimer(quint32 tag) override;
    void close(CloseReason reason) override;
    QString routeId() const override { return {}; }

private:
    enum class Phase : quint8 { Request, Handshake };
    enum TimerTag : quint32 { DeadlineTimer = 0, SilentTimer = 1 };

    void step();
    void readRequest();
    void startTls(); // the handshake, with what was read so far fed to OpenSSL
    void handshake();
    bool flush(); // false: the socket is full, or it failed (m_ended)
    void handOn(std::shared_ptr<TlsLink> link);
    void fail(CloseReason reason, const QString& why);
    void handshakeFailed();
    void release();

    IoWatch m_watch;
    std::shared_ptr<const DatabaseTlsServer> m_server;
    const qint64 m_timeoutMs;
    Phase m_phase = Phase::Request;
    QByteArray m_request; // the client's first bytes (at most 8)
    SSL* m_ssl = nullptr;
    std::string m_out; // bytes for the client not yet sent ('N', 'S', OpenSSL's records)
    std::size_t m_outHead = 0;
    quint64 m_read = 0;
    Done m_done;
    Failed m_failed;
    bool m_ended = false;
};

// Starts a PgTlsAcceptSession for `fd` on `worker` (adopted there and started).
void startPgTlsAccept(Worker& worker, int fd, std::shared_ptr<const DatabaseTlsServer> server,
                      qint64 timeoutMs, PgTlsAcceptSession::Done done,
                      PgTlsAcceptSession::Failed failed);

// What to tell a user whose client refused the development CA's certificate.
QString developmentCaTrustHint();

} // namespace sg
