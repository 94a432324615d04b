#pragma once
// UpstreamConnector opens a TCP session's upstream connection on the session's worker: a
// non-blocking connect to the node the session's upstream's balancer picks (the route's
// upstream, or the one traffic-split chose), a timeout per attempt
// (upstream.timeout.connect, 60 s when unset), and retries over further picks while
// upstream.retries and upstream.retry_timeout allow. It keeps the node's counters (failures;
// active and total once connected) and the balancer's connection count until release().
// An upstream with scheme "tls" is connected once its TLS handshake is done too (tlsclient.h):
// the handshake runs on the same watch within a connect timeout of its own, as nginx's
// proxy_ssl does, and a handshake that fails is a failed attempt like a refused connect (the
// node's failure counted and reported, the next node tried while retries allow). Each failure
// is an event that says why; the last one is the session's close reason (tlsFailure()).
// A PostgreSQL session of a route with database_tls and database_server_tls asks the server for
// TLS the way libpq does: an SSLRequest, and the TLS handshake after an 'S' (with the route's
// TlsClient, which verifies with "verify"); after an 'N' it goes on in plaintext ("prefer") or
// fails as UpstreamNoTls. The request, its answer and the handshake run within one
// timeout.connect, and each failure is a failed attempt as above.

#include "proxy/routetable.h"
#include "proxy/worker.h"

#include <QByteArray>
#include <QString>
#include <memory>

using SSL = struct ssl_st;

namespace sg {

class TlsClient;
class TlsHandshakeIo;

class UpstreamConnector
{
public:
    // The timer kind the connector schedules for its session (tag: kind << 24 | generation).
    static constexpr quint32 kConnectTimer = 2;

    enum class Outcome : quint8 {
        Pending,       // an attempt is under way
        Connected,     // the watch holds the connected socket
        Failed,        // every attempt failed (CloseReason::ConnectFailed)
        NoDescriptors, // the proxy is out of descriptors
        Reset,         // the upstream accepted and reset at once (CloseReason::UpstreamReset)
    };

    // upstream: the session's (null: none, every connect fails); watch: the session's upstream
    // watch (handler and tag set); the socket is opened into it.
    UpstreamConnector(Worker& worker, quint64 sessionId, RouteEntry& route, UpstreamEntry* upstream,
                      ConnectionRecord& record, QString hashKey, IoWatch& watch);
    ~UpstreamConnector();
    Q_DISABLE_COPY_MOVE(UpstreamConnector)

    // Bytes sent in plaintext before the TLS handshake of an upstream with scheme "tls" (the
    // PROXY protocol header: nginx sends it before its handshake too).
    void setTlsPreface(QByteArray bytes) { m_tlsPreface = std::move(bytes); }
    // A PostgreSQL session of a route with database_server_tls other than Off (client: the
    // route's databaseServerTlsClient, kept alive by the route).
    void setPostgresServerTls(DatabaseServerTls mode, const TlsClient* client)
    {
        m_serverTls = mode;
        m_serverTlsClient = client;
    }

    Outcome start();
    // While an attempt is under way: the watch's readiness, or a connect timer with its tag.
    Outcome onIo(quint32 bits);
    Outcome onTimer(quint32 generation);
    // The session ends: the connected node's active count and the balancer are told.
    void release();

    qint64 connectMs() const { return m_connectedMs - m_attemptStartMs; }
    // IoRead and IoHup as the connected attempt's socket reported them before it connected.
    quint32 reportedBits() const { return m_bits; }
    // TLS connected (scheme "tls", or database_server_tls): the SSL object of the finished
    // handshake (the caller owns it from now on); the bytes read from the upstream before the
    // session's (the SSLRequest's answer, the handshake).
    SSL* takeTls();
    quint64 tlsRead() const { return m_tlsRead; }
    // Connected: the host of the node (a name or an address, as the upstream gives it).
    QString nodeHost() const { return m_upstream->upstream.nodes.value(m_node).host; }
    // database_server_tls "prefer": the server offered no TLS, the session is plaintext.
    bool plaintextServer() const { return m_plaintextServer; }
    // Why the last attempt's TLS failed (None: it did not fail in TLS), and how it was said.
    CloseReason tlsFailure() const { return m_tlsFailure; }
    const QString& tlsFailureText() const { return m_tlsFailureText; }

private:
    Outcome attempt();
    Outcome attemptFailed(bool timedOut);
    Outcome tcpConnected();
    Outcome connected();
    Outcome startTls(const TlsClient& client, const QString& sni, const QString& verifyName,
                     const QString& verifySetting);
    bool sendPreface(const QByteArray& after = QByteArray());
    Outcome askPostgresTls();
    Outcome readPostgresTlsAnswer();
    void scheduleHandshakeTimer();
    double connectTimeoutSeconds() const;
    Outcome stepTls();
    Outcome tlsFailed(CloseReason reason, const QString& why, bool timedOut = false);
    Outcome handshakeRefused();
    void closeSocket();

    Worker& m_worker;
    const quint64 m_sessionId;
    RouteEntry& m_route;
    UpstreamEntry* const m_upstream;
    ConnectionRecord& m_record;
    const QString m_hashKey;
    IoWatch& m_watch;
    TriedNodes m_tried;
    int m_node = -1;
    int m_attempts = 0;
    quint32 m_gen = 0;
    qint64 m_firstAttemptMs = 0;
    qint64 m_attemptStartMs = 0;
    qint64 m_connectedMs = 0;
    quint32 m_bits = 0;
    bool m_connected = false;
    // scheme "tls": the handshake under way (or done, until takeTls())
    QByteArray m_tlsPreface;
    DatabaseServerTls m_serverTls = DatabaseServerTls::Off;
    const TlsClient* m_serverTlsClient = nullptr;
    bool m_awaitingTlsAnswer = false;       // the SSLRequest is sent, its answer not read yet
    bool m_plaintextServer = false;         // "prefer", and the server answered 'N'
    const TlsClient* m_tlsClient = nullptr; // the handshake's (its upstream's or the route's)
    QString m_tlsSni;                       // the SNI it sent ("": none)
    QString m_tlsVerifyName;                // what its verify checks
    QString m_tlsVerifySetting;             // the setting that asked for it, for messages
    SSL* m_ssl = nullptr;
    std::unique_ptr<TlsHandshakeIo> m_tlsIo;
    quint64 m_tlsRead = 0;
    CloseReason m_tlsFailure = CloseReason::None;
    QString m_tlsFailureText;
};

} // namespace sg
