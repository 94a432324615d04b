#include "proxy/upstreamconnector.h"

#include "proxy/pgtlsrequest.h"
#include "proxy/tlsclient.h"
#include "proxy/tlshandshake.h"
#include "proxy/tlslink.h"

#include <QHostAddress>
#include <cerrno>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sg {

UpstreamConnector::UpstreamConnector(Worker& worker, quint64 sessionId, RouteEntry& route,
                                     UpstreamEntry* upstream, ConnectionRecord& record,
                                     QString hashKey, IoWatch& watch)
    : m_worker(worker), m_sessionId(sessionId), m_route(route), m_upstream(upstream),
      m_record(record), m_hashKey(std::move(hashKey)), m_watch(watch)
{
}

UpstreamConnector::~UpstreamConnector()
{
    SSL_free(m_ssl);
}

SSL* UpstreamConnector::takeTls()
{
    SSL* ssl = m_ssl;
    m_ssl = nullptr;
    return ssl;
}

UpstreamConnector::Outcome UpstreamConnector::start()
{
    return attempt();
}

UpstreamConnector::Outcome UpstreamConnector::attempt()
{
    UpstreamEntry* up = m_upstream;
    const int node = up ? up->balancer->pick(m_hashKey, m_tried) : -1;
    if (node < 0 || node >= int(up->nodes.size())) {
        if (m_attempts == 0) // nothing to try at all (no upstream, or no node with weight)
            m_route.stats->add(m_route.stats->connectFailures);
        return Outcome::Failed;
    }
    m_tried.insert(node);
    ++m_attempts;
    m_bits = 0;
    m_tlsFailure = CloseReason::None;
    m_tlsFailureText.clear();
    m_plaintextServer = false;
    m_tlsRead = 0;
    m_node = node;
    const ResolvedNode& target = up->nodes[size_t(node)];
    m_record.setUpstreamNode(target.text);
    m_attemptStartMs = m_worker.monoMs();
    if (m_attempts == 1)
        m_firstAttemptMs = m_attemptStartMs;

    if (target.length == 0)
        return attemptFailed(false);
    const int s = m_worker.descriptors().admit(
        ::socket(target.address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (s < 0) {
        const int err = errno;
        if (err == EMFILE || err == ENFILE) {
            // The proxy is out of descriptors: no node would do better and none is to blame.
            m_worker.descriptorFailed(err);
            if (ListenerStats* l = m_record.listener.get())
                l->noDescriptors.fetch_add(1, std::memory_order_relaxed);
            return Outcome::NoDescriptors;
        }
        return attemptFailed(false);
    }
    m_worker.descriptorOpened();
    int one = 1;
    ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    m_watch.fd = s;
    const int rc = ::connect(s, reinterpret_cast<const sockaddr*>(&target.address), target.length);
    if (rc != 0 && errno != EINPROGRESS) {
        closeSocket();
        return attemptFailed(false);
    }
    if (!m_worker.loop().add(m_watch, IoWrite)) {
        closeSocket();
        return attemptFailed(false);
    }
    ++m_gen;
    const double connectTimeout = up->timeout.connect > 0 ? up->timeout.connect : 60;
    m_worker.schedule(m_attemptStartMs + qMax<qint64>(1, qint64(connectTimeout * 1000)),
                      m_sessionId, (kConnectTimer << 24) | (m_gen & 0xffffffu));
    return rc == 0 ? tcpConnected() : Outcome::Pending;
}

void UpstreamConnector::closeSocket()
{
    m_awaitingTlsAnswer = false;
    m_tlsIo.reset();
    SSL_free(m_ssl);
    m_ssl = nullptr;
    if (m_watch.fd < 0)
        return;
    if (m_watch.registered)
        m_worker.loop().remove(m_watch);
    ::close(m_watch.fd);
    m_watch.fd = -1;
}

UpstreamConnector::Outcome UpstreamConnector::onIo(quint32 bits)
{
    if (m_connected)
        return Outcome::Pending;
    if (m_awaitingTlsAnswer)
        return readPostgresTlsAnswer();
    if (m_tlsIo)
        return stepTls();
    m_bits |= bits & (IoRead | IoHup); // kept for after the connect completes
    if (!(bits & (IoWrite | IoError)))
        return Outcome::Pending;
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(m_watch.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err == ECONNRESET) {
        // The upstream accepted, then reset before this worker saw the connect complete:
        // that is a reset of an established connection, not a node that refuses.
        return Outcome::Reset;
    }
    if (err != 0)
        return attemptFailed(false);
    return tcpConnected();
}

UpstreamConnector::Outcome UpstreamConnector::onTimer(quint32 generation)
{
    if (m_connected || generation != (m_gen & 0xffffffu))
        return Outcome::Pending; // stale: a later attempt, or connected meanwhile
    if (m_awaitingTlsAnswer)
        return tlsFailed(CloseReason::UpstreamTlsFailed,
                         QStringLiteral("the server did not answer the SSLRequest within %1 s "
                                        "(timeout.connect)")
                             .arg(connectTimeoutSeconds()),
                         true);
    if (m_tlsIo)
        return tlsFailed(CloseReason::UpstreamTlsFailed,
                         QStringLiteral("TLS handshake not finished within %1 s (timeout.connect)")
                             .arg(connectTimeoutSeconds()),
                         true);
    return attemptFailed(true);
}

UpstreamConnector::Outcome UpstreamConnector::attemptFailed(bool timedOut)
{
    closeSocket();
    ++m_gen; // any pending connect timer is now stale
    UpstreamEntry* up = m_upstream;
    m_route.stats->add(m_route.stats->connectFailures);
    if (timedOut)
        m_route.stats->add(m_route.stats->timeouts);

    const bool retriesLeft = up && m_attempts <= up->retries;
    const bool withinBudget =
        !up || up->retryTimeout <= 0 ||
        m_worker.monoMs() - m_firstAttemptMs < qint64(up->retryTimeout * 1000);
    const bool retry = retriesLeft && withinBudget;
    // As APISIX reports to checks.passive: a failure followed by a retry as what it was; the
    // last one as the session's end with $status 502 (a tcp failure, also after a timeout).
    if (up && m_node >= 0)
        up->nodeFailed(m_node, retry && timedOut);
    if (retry)
        return attempt();
    return Outcome::Failed;
}

UpstreamConnector::Outcome UpstreamConnector::tcpConnected()
{
    if (m_upstream->tls) [[unlikely]] {
        const QString clientSni = m_record.base.tls->sni;
        const QString host = m_upstream->upstream.nodes.value(m_node).host;
        if (!sendPreface())
            return tlsFailed(CloseReason::UpstreamTlsFailed,
                             QStringLiteral("the PROXY protocol header could not be sent"));
        scheduleHandshakeTimer();
        return startTls(*m_upstream->tls, upstreamSni(clientSni),
                        upstreamVerifyName(clientSni, host), QStringLiteral("tls.verify"));
    }
    if (m_serverTls != DatabaseServerTls::Off && m_serverTlsClient) [[unlikely]]
        return askPostgresTls();
    return connected();
}

double UpstreamConnector::connectTimeoutSeconds() const
{
    return m_upstream->timeout.connect > 0 ? m_upstream->timeout.connect : 60;
}

// The node accepted: what follows (a PostgreSQL SSLRequest, a TLS handshake) has a connect
// timeout of its own.
void UpstreamConnector::scheduleHandshakeTimer()
{
    ++m_gen;
    m_worker.schedule(m_worker.monoMs() + qMax<qint64>(1, qint64(connectTimeoutSeconds() * 1000)),
                      m_sessionId, (kConnectTimer << 24) | (m_gen & 0xffffffu));
}

// A few dozen bytes into a fresh socket's empty buffer: the PROXY protocol header and, for
// database_server_tls, the SSLRequest.
bool UpstreamConnector::sendPreface(const QByteArray& after)
{
    const QByteArray bytes = m_tlsPreface + after;
    if (bytes.isEmpty())
        return true;
    const ssize_t sent =
        ::send(m_watch.fd, bytes.constData(), size_t(bytes.size()), MSG_NOSIGNAL | MSG_DONTWAIT);
    return sent == ssize_t(bytes.size());
}

// libpq's way: an SSLRequest, and the server's one-byte answer before anything else.
UpstreamConnector::Outcome UpstreamConnector::askPostgresTls()
{
    if (!sendPreface(postgresSslRequest()))
        return tlsFailed(CloseReason::UpstreamTlsFailed,
                         QStringLiteral("the SSLRequest could not be sent to the server"));
    m_awaitingTlsAnswer = true;
    scheduleHandshakeTimer();
    m_worker.loop().want(m_watch, IoRead);
    return readPostgresTlsAnswer();
}

UpstreamConnector::Outcome UpstreamConnector::readPostgresTlsAnswer()
{
    // PostgreSQL answers one byte and waits; more is a server that spoke first (MySQL's
    // greeting: a 4-byte header with sequence id 0, then protocol version 10).
    char bytes[5] = {};
    ssize_t n;
    do {
        n = ::recv(m_watch.fd, bytes, sizeof bytes, 0);
    } while (n < 0 && errno == EINTR);
    const char answer = bytes[0];
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        m_worker.loop().want(m_watch, IoRead);
        return Outcome::Pending;
    }
    const QString setting = QStringLiteral("database_server_tls \"%1\"").arg(toString(m_serverTls));
    if (n <= 0)
        return tlsFailed(CloseReason::UpstreamTlsFailed,
                         QStringLiteral("the server closed the connection after the SSLRequest "
                                        "(is it a PostgreSQL server?)"));
    m_awaitingTlsAnswer = false;
    m_tlsRead = quint64(n);
    if (n == 5 && bytes[3] == 0 && bytes[4] == 0x0a) {
        // The route's next clients take the MySQL path, where TLS to the server is asked for
        // after the greeting.
        m_route.stats->mysqlUpstream.store(true, std::memory_order_relaxed);
        return tlsFailed(CloseReason::UpstreamTlsFailed,
                         QStringLiteral("the server greeted as MySQL/MariaDB where PostgreSQL "
                                        "answers the SSLRequest: the route's next clients ask it "
                                        "for TLS the MySQL way (%1)")
                             .arg(setting));
    }
    if (n > 1)
        return tlsFailed(CloseReason::UpstreamTlsFailed,
                         QStringLiteral("the server sent %1 bytes for the SSLRequest, not 'S' or "
                                        "'N' alone (is it a PostgreSQL server?)")
                             .arg(n));
    if (answer == 'S') {
        const QString host = m_upstream->upstream.nodes.value(m_node).host;
        // As libpq: SNI for a host name, none for an address.
        return startTls(*m_serverTlsClient, QHostAddress(host).isNull() ? host : QString(), host,
                        setting);
    }
    if (answer != 'N')
        return tlsFailed(CloseReason::UpstreamTlsFailed,
                         QStringLiteral("the server answered the SSLRequest with byte 0x%1, "
                                        "neither 'S' nor 'N' (is it a PostgreSQL server?)")
                             .arg(quint8(answer), 2, 16, QLatin1Char('0')));
    if (m_serverTls != DatabaseServerTls::Prefer)
        return tlsFailed(CloseReason::UpstreamNoTls,
                         QStringLiteral("the server does not offer TLS (it answered 'N' to the "
                                        "SSLRequest; is ssl on?) and the route's %1 wants it")
                             .arg(setting));
    m_plaintextServer = true; // "prefer": the session goes on in plaintext
    return connected();
}

// The TLS handshake with the node, on the timer already scheduled.
UpstreamConnector::Outcome UpstreamConnector::startTls(const TlsClient& client, const QString& sni,
                                                       const QString& verifyName,
                                                       const QString& verifySetting)
{
    m_tlsClient = &client;
    m_tlsSni = sni;
    m_tlsVerifyName = verifyName;
    m_tlsVerifySetting = verifySetting;
    m_ssl = client.newConnection(sni, verifyName);
    if (!m_ssl)
        return tlsFailed(CloseReason::UpstreamTlsFailed,
                         QStringLiteral("OpenSSL could not start a TLS connection (out of "
                                        "memory)"));
    m_tlsIo = std::make_unique<TlsHandshakeIo>(m_ssl);
    return stepTls();
}

UpstreamConnector::Outcome UpstreamConnector::stepTls()
{
    switch (m_tlsIo->step(m_watch.fd)) {
    case TlsHandshakeIo::Result::Wait:
        m_worker.loop().want(m_watch, m_tlsIo->wants());
        return Outcome::Pending;
    case TlsHandshakeIo::Result::Done: {
        m_tlsRead += m_tlsIo->bytesRead();
        m_tlsIo.reset();
        // The handshake stopped reading once done: what the upstream sent after it may wait in
        // the socket, and an edge-triggered loop does not say so again.
        m_bits |= IoRead;
        m_record.setUpstreamTls(upstreamTlsInfo(m_ssl, *m_tlsClient, m_tlsSni));
        return connected();
    }
    case TlsHandshakeIo::Result::Failed:
        return handshakeRefused();
    case TlsHandshakeIo::Result::PeerClosed:
        return tlsFailed(CloseReason::UpstreamTlsFailed,
                         QStringLiteral("the upstream closed during the TLS handshake (is it a "
                                        "TLS server?)"));
    case TlsHandshakeIo::Result::SendFailed:
        return tlsFailed(CloseReason::UpstreamTlsFailed,
                         QStringLiteral("the upstream went away during the TLS handshake"));
    }
    return Outcome::Pending;
}

UpstreamConnector::Outcome UpstreamConnector::handshakeRefused()
{
    CloseReason reason = CloseReason::UpstreamTlsFailed;
    const QString why =
        upstreamHandshakeFailure(m_ssl, *m_tlsClient, m_tlsVerifyName, m_tlsVerifySetting, &reason);
    return tlsFailed(reason, why);
}

UpstreamConnector::Outcome UpstreamConnector::tlsFailed(CloseReason reason, const QString& why,
                                                        bool timedOut)
{
    m_tlsFailure = reason;
    m_tlsFailureText = why;
    m_worker.hub().addEvent(EventKind::Info, m_route.id,
                            QStringLiteral("connection %1: TLS to upstream %2 failed: %3")
                                .arg(m_sessionId)
                                .arg(m_upstream->nodes[size_t(m_node)].text, why),
                            m_record.base);
    if (m_tlsIo && m_ssl)
        m_tlsIo->sendAlert(m_watch.fd);
    return attemptFailed(timedOut);
}

UpstreamConnector::Outcome UpstreamConnector::connected()
{
    ++m_gen;
    m_connected = true;
    m_connectedMs = m_worker.monoMs();
    UpstreamEntry* up = m_upstream;
    if (auto* ns = up->nodes[size_t(m_node)].stats.get()) {
        ns->active.fetch_add(1, std::memory_order_relaxed);
        ns->total.fetch_add(1, std::memory_order_relaxed);
    }
    up->balancer->connectionStarted(m_node);
    return Outcome::Connected;
}

void UpstreamConnector::release()
{
    if (!m_connected || !m_upstream)
        return;
    m_connected = false;
    if (auto* ns = m_upstream->nodes[size_t(m_node)].stats.get())
        ns->active.fetch_sub(1, std::memory_order_relaxed);
    m_upstream->balancer->connectionEnded(m_node);
}

} // namespace sg
