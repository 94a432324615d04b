#include "proxy/tcpsession.h"

#include "proxy/databasetls.h"
#include "proxy/mysqlfilter.h"
#include "proxy/mysqlrefusal.h"
#include "proxy/mysqlservertls.h"
#include "proxy/mysqltls.h"
#include "proxy/pgfilter.h"
#include "proxy/redisfilter.h"
#include "proxy/tlsclient.h"
#include "proxy/toxics/toxicfilter.h"

#include <cerrno>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sg {

namespace {

void closeWithReset(int fd)
{
    linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd);
}

qint64 timeoutMs(double seconds)
{
    return qint64(seconds * 1000);
}

// Writes bytes given beforehand when the upstream is connected, then steps aside for good (the
// direction goes back to the splice path): the PROXY protocol header, last in the chain, and
// the bytes read from the client before admission, first in it.
class PrefixWriter final : public RelayFilter
{
public:
    explicit PrefixWriter(QByteArray bytes) : m_bytes(std::move(bytes)) {}
    Mode mode() const override { return m_bytes.isEmpty() ? Mode::Pass : Mode::Transform; }
    void onStart(FilterOutput& out) override
    {
        out.write(m_bytes.constData(), std::size_t(m_bytes.size()));
        m_bytes = QByteArray();
    }
    bool done() const override { return m_bytes.isEmpty(); }

private:
    QByteArray m_bytes;
};

} // namespace

TcpSession::TcpSession(Worker& worker, TcpSessionSetup&& setup)
    : WorkerSession(worker, setup.record->base.id), m_route(std::move(setup.route)),
      m_record(std::move(setup.record)), m_delaySeconds(setup.delaySeconds),
      m_admission(std::move(setup.admission)),
      m_connector(worker, m_id, *m_route, setup.upstream, *m_record, std::move(setup.hashKey),
                  m_watches[RelayPump::Upstream]),
      // up = bytes toward the upstream (send timeout), down = from it (read timeout)
      m_pump(worker, m_id, *m_record, m_watches[RelayPump::Client], m_watches[RelayPump::Upstream],
             timeoutMs(setup.upstream ? setup.upstream->timeout.send : Timeout{}.send),
             timeoutMs(setup.upstream ? setup.upstream->timeout.read : Timeout{}.read))
{
    m_watches[RelayPump::Client].fd = setup.clientFd;
    for (int s = 0; s < 2; ++s) {
        m_watches[s].handler = this;
        m_watches[s].tag = s;
    }
    SessionFilters filters;
    // Room for the usual chain (the database readers, a toxic or two) in one allocation each.
    filters.toUpstream.reserve(4);
    filters.toClient.reserve(4);
    const bool upstreamTls = setup.upstream && setup.upstream->tls;
    // scheme "tls" is TLS from the first byte: the SSLRequest has no place then.
    const bool serverTls = setup.postgresServerTls && !upstreamTls && setup.upstream &&
                           m_route->databaseServerTlsClient;
    if (upstreamTls || serverTls) [[unlikely]] {
        // The upstream's TLS: first toward the client (every reader after it sees the
        // upstream's plaintext), last toward the upstream (below). Its SSL object comes with
        // the handshake, before the pump starts; a PROXY protocol header goes before the
        // handshake (and the SSLRequest), in plaintext, from the connector.
        m_upstreamTls = std::make_shared<TlsLink>(nullptr, true);
        m_upstreamTlsClient =
            upstreamTls ? setup.upstream->tls.get() : m_route->databaseServerTlsClient.get();
        if (serverTls)
            m_connector.setPostgresServerTls(m_route->databaseServerTls, m_upstreamTlsClient);
        filters.toClient.push_back(m_upstreamTls->decryptFilter());
        m_connector.setTlsPreface(std::move(setup.proxyHeader));
        setup.proxyHeader = QByteArray();
    }
    if (setup.databaseTls && !upstreamTls && m_route->databaseServerTls != DatabaseServerTls::Off &&
        m_route->databaseServerTlsClient) [[unlikely]] {
        // TLS to a MySQL server: first toward the client, last toward the server (below).
        m_mysqlServerTls = std::make_shared<MySqlServerTls>(
            m_route->databaseServerTls, m_route->databaseServerTlsClient.get(), m_record);
        filters.toClient.push_back(m_mysqlServerTls->fromServerFilter());
    }
    if (setup.databaseTls) [[unlikely]] {
        // First toward the upstream and last toward the client, as a TLS listener's filters.
        m_mysqlTls = std::make_shared<MySqlTlsAnswer>(std::move(setup.databaseTls), m_record);
        filters.toUpstream.push_back(m_mysqlTls->toUpstreamFilter());
    }
    if (setup.tls) [[unlikely]] {
        // First toward the upstream, so every reader after it sees plaintext.
        m_tls = std::move(setup.tls);
        m_pump.addReceived(RelayPump::Client, setup.tlsRead);
        filters.toUpstream.push_back(m_tls->decryptFilter());
    }
    if (!setup.clientBytes.isEmpty()) [[unlikely]] {
        m_pump.addReceived(RelayPump::Client, quint64(setup.clientBytes.size()));
        filters.toUpstream.push_back(std::make_shared<PrefixWriter>(std::move(setup.clientBytes)));
    }
    std::shared_ptr<RouteToxics> toxics = worker.routeToxics(m_record->base.routeId);
    if (m_route->mysqlInspect)
        addMySqlFilters(worker, m_record, *m_route->stats,
                        {m_route->mysqlCommands, m_route->mysqlDigests, toxics}, filters);
    if (m_route->postgresInspect)
        addPostgresFilters(worker, m_record, *m_route->stats, m_route->postgresDigests, filters);
    if (m_route->redis)
        addRedisFilters(worker, m_record, *m_route->stats, m_route->redisFaults, filters);
    for (const FilterProvider& provide : worker.filterProviders())
        provide(m_record, filters);
    addToxics(std::move(toxics), filters);
    // Last toward the client: what the upstream and every filter sent, encrypted.
    if (m_tls) [[unlikely]]
        filters.toClient.push_back(m_tls->encryptFilter());
    if (m_mysqlTls) [[unlikely]]
        filters.toClient.push_back(m_mysqlTls->toClientFilter());
    if (m_mysqlServerTls) [[unlikely]]
        filters.toUpstream.push_back(m_mysqlServerTls->toServerFilter());
    // Last in the chain: the header goes to the upstream as it is, before any client byte.
    if (!setup.proxyHeader.isEmpty()) [[unlikely]]
        filters.toUpstream.push_back(std::make_shared<PrefixWriter>(std::move(setup.proxyHeader)));
    if (m_upstreamTls) [[unlikely]]
        filters.toUpstream.push_back(m_upstreamTls->encryptFilter());
    m_pump.addFilters(RelayPump::Client, std::move(filters.toUpstream));
    m_pump.addFilters(RelayPump::Upstream, std::move(filters.toClient));
}

void TcpSession::addToxics(std::shared_ptr<RouteToxics> toxics, SessionFilters& filters)
{
    if (!toxics)
        return;
    addToxicFilters(std::move(toxics), *m_record, filters);
    m_toxics = true;
}

TcpSession::~TcpSession()
{
    // Normally closed (and retired) already; this only guards the descriptors.
    for (IoWatch& w : m_watches) {
        if (w.fd >= 0) {
            m_worker.loop().remove(w);
            ::close(w.fd);
        }
    }
}

QString TcpSession::routeId() const
{
    return m_record->base.routeId;
}

void TcpSession::start()
{
    int one = 1;
    ::setsockopt(m_watches[RelayPump::Client].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // Registered from the start so a client that vanishes while we connect is noticed; its
    // readiness is remembered (edge style) and used once the upstream is connected.
    if (!m_worker.loop().add(m_watches[RelayPump::Client], 0)) {
        close(CloseReason::ClientReset);
        return;
    }
    if (m_delaySeconds > 0) {
        m_worker.schedule(m_worker.monoMs() + qint64(m_delaySeconds * 1000), m_id,
                          DelayTimer << 24);
        return;
    }
    startConnect();
}

void TcpSession::startConnect()
{
    connectOutcome(m_connector.start());
}

void TcpSession::connectOutcome(UpstreamConnector::Outcome outcome)
{
    switch (outcome) {
    case UpstreamConnector::Outcome::Pending:
        return;
    case UpstreamConnector::Outcome::Failed:
        if (m_connector.tlsFailure() != CloseReason::None) [[unlikely]] {
            refuse(m_connector.tlsFailure(), m_connector.tlsFailureText());
            return;
        }
        refuse(CloseReason::ConnectFailed,
               QStringLiteral("no node of route %1's upstream answered").arg(routeId()));
        return;
    case UpstreamConnector::Outcome::NoDescriptors:
        refuse(CloseReason::NoDescriptors, QStringLiteral("out of file descriptors"));
        return;
    case UpstreamConnector::Outcome::Reset:
        close(CloseReason::UpstreamReset);
        return;
    case UpstreamConnector::Outcome::Connected:
        break;
    }
    m_connected = true;
    if (m_mysqlServerTls) [[unlikely]]
        m_mysqlServerTls->setNodeHost(m_connector.nodeHost());
    if (m_upstreamTls && m_connector.plaintextServer()) [[unlikely]] {
        m_upstreamTls->bypass(); // database_server_tls "prefer", and a server without TLS
        m_pump.addReceived(RelayPump::Upstream, m_connector.tlsRead());
    } else if (m_upstreamTls) [[unlikely]] {
        m_upstreamTls->adopt(m_connector.takeTls());
        m_pump.addReceived(RelayPump::Upstream, m_connector.tlsRead());
    }
    m_record->connectMs.store(m_connector.connectMs(), std::memory_order_relaxed);
    m_record->upstreamStartMs.store(
        qMax<qint64>(0, m_worker.wallMs() - m_record->base.startMs - m_connector.connectMs()),
        std::memory_order_relaxed);
    m_record->state.store(ConnectionState::Established, std::memory_order_relaxed);
    m_record->lastActivityMs.set(quint64(m_worker.wallMs()));
    // The same report may already have said the upstream sent something (a server greeting,
    // even a FIN); edge-triggered reports are not repeated, hence the bits kept meanwhile.
    m_pump.report(RelayPump::Upstream, m_connector.reportedBits());
    m_pump.start();
    armIdle();
    pump();
}

void TcpSession::refuse(CloseReason reason, const QString& why)
{
    // Never into a TLS stream: a client of a listener with tls or tls_passthrough is just closed.
    if (frontsMySql(*m_route) && !m_tls && !m_record->base.tls->passthrough)
        sendMySqlRefusal(m_watches[RelayPump::Client].fd, reason,
                         m_record->base.clientAddress.toString(), why);
    close(reason);
}

void TcpSession::onIo(IoWatch& watch, quint32 bits)
{
    if (m_closed)
        return;
    const auto side = RelayPump::Side(watch.tag);
    if (side == RelayPump::Upstream && !m_connected) {
        connectOutcome(m_connector.onIo(bits));
        return;
    }
    if (side == RelayPump::Client && !m_connected && (bits & (IoRead | IoHup))) [[unlikely]] {
        // The client spoke (or left) while the upstream is being connected: its bytes wait in
        // the kernel until then, but its first byte, or its FIN, came now. A report of bytes
        // alone says so; with a FIN or an error, a peek tells bytes from the FIN.
        if (!(bits & (IoHup | IoError))) {
            m_record->noteFirstByte(true, m_worker.wallMs());
        } else {
            char byte;
            const ssize_t n = ::recv(watch.fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
            if (n > 0)
                m_record->noteFirstByte(true, m_worker.wallMs());
            else if (n == 0)
                m_clientLeftConnecting = true;
        }
    }
    m_pump.report(side, bits);
    if (bits & IoFailed) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(watch.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err == ECONNRESET || err == EPIPE || err == ETIMEDOUT || err == EHOSTUNREACH) {
            // Through after(): a client that resets during database TLS is said with why.
            after(side == RelayPump::Client ? CloseReason::ClientReset
                                            : CloseReason::UpstreamReset);
            return;
        }
    }
    if (m_connected)
        pump();
}

void TcpSession::resume()
{
    m_pump.resumed();
    if (!m_closed && m_connected)
        pump();
}

void TcpSession::wake()
{
    if (m_closed)
        return;
    if (!m_toxics) {
        // Its route is listed under streamgate.toxics only now: the toxic filters join the
        // chain's end, as they would have at the start, and see the bytes read from now on.
        SessionFilters filters;
        addToxics(m_worker.routeToxics(m_record->base.routeId), filters);
        m_pump.addFilters(RelayPump::Client, std::move(filters.toUpstream));
        m_pump.addFilters(RelayPump::Upstream, std::move(filters.toClient));
    }
    if (m_connected)
        after(m_pump.wake());
}

void TcpSession::pause(qint64 ms)
{
    if (m_closed || ms <= 0)
        return;
    const qint64 until = qMax(m_pump.pausedUntil(), m_worker.monoMs() + ms);
    m_pump.setPausedUntil(until);
    m_worker.schedule(until, m_id, PauseTimer << 24);
    m_worker.notePause(*m_record, until);
}

void TcpSession::unpause()
{
    if (m_closed || !m_pump.pausedUntil())
        return;
    m_pump.setPausedUntil(0);
    m_worker.notePause(*m_record, 0);
    // What the peers sent meanwhile is still reported readable (or is reported again when
    // the poll loop is asked to watch it), so one pass picks it up.
    if (m_connected)
        pump();
}

void TcpSession::pump()
{
    after(m_pump.run());
}

CloseReason TcpSession::tlsReset()
{
    if (m_tls && m_tls->failed()) {
        m_worker.hub().addEvent(
            EventKind::Info, routeId(),
            QStringLiteral("connection %1 reset: TLS error: %2").arg(m_id).arg(m_tls->error()));
        return CloseReason::TlsError;
    }
    // TLS 1.3: the upstream judges the client certificate after the proxy's Finished, so a
    // refusal comes as an alert in the first records read.
    const QString refused =
        upstreamClientCertRefusal(m_upstreamTls->ssl(), *m_upstreamTlsClient,
                                  m_upstreamTls->errorReason(), m_upstreamTls->error());
    const CloseReason reason =
        refused.isEmpty() ? CloseReason::TlsError : CloseReason::UpstreamClientCertRefused;
    m_worker.hub().addEvent(EventKind::Info, routeId(),
                            QStringLiteral("connection %1 reset: upstream TLS error: %2")
                                .arg(m_id)
                                .arg(refused.isEmpty() ? m_upstreamTls->error() : refused));
    return reason;
}

void TcpSession::after(CloseReason reason)
{
    if (reason == CloseReason::InjectedReset &&
        ((m_tls && m_tls->failed()) || (m_upstreamTls && m_upstreamTls->failed()))) [[unlikely]]
        reason = tlsReset(); // a TLS filter reset the session, not a fault
    if ((reason == CloseReason::ClientClosed || reason == CloseReason::ClientReset) && m_mysqlTls &&
        m_mysqlTls->handshaking()) [[unlikely]] {
        // A client that verifies and gives up without an alert (or whose alert a reset beat).
        m_worker.hub().addEvent(EventKind::Info, routeId(),
                                QStringLiteral("connection %1: the client left during the "
                                               "database TLS handshake; if it verifies the "
                                               "server, %2")
                                    .arg(m_id)
                                    .arg(developmentCaTrustHint()));
    }
    if (reason == CloseReason::InjectedReset && m_mysqlServerTls && m_mysqlServerTls->failed())
        [[unlikely]] {
        reason = m_mysqlServerTls->reason();
        m_worker.hub().addEvent(EventKind::Info, routeId(),
                                QStringLiteral("connection %1 reset: TLS to the server: %2")
                                    .arg(m_id)
                                    .arg(m_mysqlServerTls->error()));
    }
    if (reason == CloseReason::InjectedReset && m_mysqlTls && m_mysqlTls->failed()) [[unlikely]] {
        reason = CloseReason::TlsError;
        m_worker.hub().addEvent(EventKind::Info, routeId(),
                                QStringLiteral("connection %1 reset: TLS error: %2")
                                    .arg(m_id)
                                    .arg(m_mysqlTls->error()));
    }
    if (reason != CloseReason::None) {
        close(reason);
        return;
    }
    if (m_pump.halfClosed())
        m_record->state.store(ConnectionState::HalfClosed, std::memory_order_relaxed);
}

void TcpSession::onTimer(quint32 tag)
{
    if (m_closed)
        return;
    const quint32 kind = tag >> 24;
    switch (kind) {
    case DelayTimer:
        startConnect();
        break;
    case UpstreamConnector::kConnectTimer:
        if (!m_connected)
            connectOutcome(m_connector.onTimer(tag & 0xffffffu));
        break;
    case RelayPump::kPipeTimer:
    case RelayPump::kFilterTimer:
        if (m_connected)
            after(m_pump.onTimer(kind));
        break;
    case PauseTimer:
        // A pause that was extended or ended meanwhile leaves an early timer behind.
        if (m_pump.pausedUntil() && m_worker.monoMs() >= m_pump.pausedUntil())
            unpause();
        break;
    case IdleTimer: {
        // A paused session is not idle: its peers are held back on purpose.
        if (m_pump.pausedUntil()) {
            m_worker.schedule(m_pump.pausedUntil() + 1, m_id, IdleTimer << 24);
            break;
        }
        const qint64 expiry = m_pump.idleExpiry();
        if (m_worker.monoMs() >= expiry) {
            m_route->stats->add(m_route->stats->timeouts);
            close(CloseReason::IdleTimeout);
        } else {
            m_worker.schedule(expiry, m_id, IdleTimer << 24);
        }
        break;
    }
    default:
        break;
    }
}

void TcpSession::armIdle()
{
    m_worker.schedule(m_pump.idleExpiry(), m_id, IdleTimer << 24);
}

void TcpSession::close(CloseReason reason)
{
    if (m_closed)
        return;
    m_closed = true;
    m_connector.release();
    // A FIN read before the reason that ends the session (the other side's reset, a timeout,
    // a kill) says who closed first.
    if (m_connected && m_pump.firstClosed() != ClosedBy::None)
        m_record->closedBy = m_pump.firstClosed();
    else if (!m_connected && m_clientLeftConnecting)
        m_record->closedBy = ClosedBy::Client;
    m_record->bytesFromClient.set(m_pump.received(RelayPump::Client));
    m_record->bytesFromUpstream.set(m_pump.received(RelayPump::Upstream));
    m_admission.end(reason); // the plugins' log phase: limit-conn lets go, loggers log
    // Recorded before the sockets close, so a peer that sees the close also finds the record.
    m_worker.hub().closed(m_record, reason);
    for (int s = 0; s < 2; ++s) {
        IoWatch& w = m_watches[s];
        if (w.fd < 0)
            continue;
        m_worker.loop().remove(w);
        // The side that did not reset is reset too, so neither peer mistakes it for a clean
        // end; a reset a filter asked for reaches both.
        const bool reset = reason == CloseReason::InjectedReset ||
                           reason == CloseReason::OperatorReset ||
                           (s == RelayPump::Client && reason == CloseReason::UpstreamReset) ||
                           (s == RelayPump::Upstream && reason == CloseReason::ClientReset);
        if (reset)
            closeWithReset(w.fd);
        else
            ::close(w.fd);
        w.fd = -1;
    }
    m_pump.release();
    m_worker.retire(this);
}

} // namespace sg
