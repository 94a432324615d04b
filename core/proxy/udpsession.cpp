#include "proxy/udpsession.h"

#include "proxy/addressmatch.h"
#include "proxy/sockaddr.h"
#include "proxy/toxics/toxicboard.h"
#include "stats/statshub.h"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <unistd.h>

namespace sg {

UdpSession::UdpSession(Worker& worker, UdpListenerSession* listener, UdpSessionSetup&& setup)
    : WorkerSession(worker, setup.record->base.id), m_listener(listener),
      m_route(std::move(setup.route)), m_upstream(setup.upstream),
      m_record(std::move(setup.record)), m_key(setup.key), m_client(setup.client),
      m_clientLength(setup.clientLength), m_local(setup.local), m_hashKey(std::move(setup.hashKey)),
      m_admission(std::move(setup.admission)), m_idleMs(setup.idleMs), m_noReplyMs(setup.noReplyMs)
{
    // Dropped after the first datagram if the route lists no toxic for UDP (afterToxics).
    if (setup.toxics)
        m_toxics = std::make_unique<UdpToxics>(std::move(setup.toxics), m_record->base.id,
                                               m_record->base.clientAddress);
    m_watch.handler = this;
    m_watch.inputOnly = true;
}

UdpSession::~UdpSession()
{
    if (m_watch.fd >= 0) {
        m_worker.loop().remove(m_watch);
        ::close(m_watch.fd);
    }
}

QString UdpSession::routeId() const
{
    return m_record->base.routeId;
}

bool UdpSession::start()
{
    UpstreamEntry* up = m_upstream;
    const int node = up ? up->balancer->pick(m_hashKey, {}) : -1;
    if (node < 0 || node >= int(up->nodes.size())) {
        close(CloseReason::ConnectFailed);
        return false;
    }
    const ResolvedNode& target = up->nodes[size_t(node)];
    m_record->setUpstreamNode(target.text);
    int s = -1;
    if (target.length > 0) {
        s = m_worker.descriptors().admit(
            ::socket(target.address.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        const int err = s < 0 ? errno : 0;
        if (err == EMFILE || err == ENFILE) {
            // The proxy is out of descriptors: the node is not to blame. The client is held
            // off like a refusal under load, so its next datagrams do not each log a session.
            m_worker.descriptorFailed(err);
            if (ListenerStats* l = m_record->listener.get())
                l->noDescriptors.fetch_add(1, std::memory_order_relaxed);
            if (m_listener)
                m_listener->remember(m_key, m_route->stats, UdpListenerSession::kLoadRetryMs,
                                     false);
            close(CloseReason::NoDescriptors);
            return false;
        }
        if (s >= 0)
            m_worker.descriptorOpened();
    }
    if (s >= 0 &&
        ::connect(s, reinterpret_cast<const sockaddr*>(&target.address), target.length) != 0) {
        ::close(s);
        s = -1;
    }
    if (s >= 0) {
        m_watch.fd = s;
        if (!m_worker.loop().add(m_watch, IoRead)) {
            ::close(s);
            m_watch.fd = -1;
            s = -1;
        }
    }
    if (s < 0) {
        up->nodeFailed(node, false);
        m_route->stats->add(m_route->stats->connectFailures);
        close(CloseReason::ConnectFailed);
        return false;
    }
    m_node = node;
    m_started = true;
    up->balancer->connectionStarted(node);
    if (auto* ns = target.stats.get()) {
        ns->active.fetch_add(1, std::memory_order_relaxed);
        ns->total.fetch_add(1, std::memory_order_relaxed);
    }
    m_record->connectMs.store(0, std::memory_order_relaxed);
    m_record->upstreamStartMs.store(qMax<qint64>(0, m_worker.wallMs() - m_record->base.startMs),
                                    std::memory_order_relaxed);
    m_record->state.store(ConnectionState::Established, std::memory_order_relaxed);
    m_lastMs = m_listener->monoMs();
    armIdle(m_lastMs + idleLimit());
    return true;
}

void UdpSession::sendUp(const char* data, size_t length)
{
    if (m_closed)
        return;
    if (m_fromClient == 0) [[unlikely]]
        m_record->noteFirstByte(true, m_worker.wallMs());
    m_fromClient += length;
    if (m_pausedUntil)
        return;
    if (m_toxics && m_toxics->active(true)) {
        touch(); // the client is active even when its datagram is held or lost
        m_toxics->datagram(true, data, length, *this, m_worker.monoMs());
        afterToxics();
        return;
    }
    sendToUpstream(data, length);
}

void UdpSession::sendToUpstream(const char* data, size_t length)
{
    if (m_closed)
        return;
    const ssize_t r = ::send(m_watch.fd, data, length, MSG_DONTWAIT);
    if (r >= 0) {
        m_record->datagramsUp.add(1);
        m_record->bytesUp.add(length);
        touch();
        return;
    }
    // An earlier datagram drew an ICMP error (port unreachable, ...): the upstream is gone.
    if (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH)
        close(CloseReason::UpstreamError);
    // EAGAIN / EMSGSIZE: dropped, as the network would.
}

void UdpSession::countDown(quint64 datagrams, quint64 bytes)
{
    if (datagrams == 0)
        return;
    m_record->datagramsDown.add(datagrams);
    m_record->bytesDown.add(bytes);
    m_answered = true;
    touch();
}

void UdpSession::countReceivedDown(quint64 bytes)
{
    if (m_fromUpstream == 0 && bytes > 0) [[unlikely]]
        m_record->noteFirstByte(false, m_worker.wallMs());
    m_fromUpstream += bytes;
}

void UdpSession::touch()
{
    m_lastMs = m_listener->monoMs();
    if (m_lastWallMs != m_listener->wallMs()) {
        m_lastWallMs = m_listener->wallMs();
        m_record->lastActivityMs.set(quint64(m_lastWallMs));
    }
}

void UdpSession::onIo(IoWatch&, quint32 bits)
{
    if (bits & (IoRead | IoError))
        pumpDown();
}

void UdpSession::resume()
{
    m_requeued = false;
    pumpDown();
}

void UdpSession::pumpDown()
{
    if (m_pausedUntil) {
        dropDown();
        return;
    }
    for (int pass = 0; pass < UdpListenerSession::kPassBatches; ++pass) {
        if (m_closed || !m_listener)
            return;
        switch (m_listener->relayDown(*this, m_watch.fd)) {
        case UdpListenerSession::DownResult::Drained:
            return;
        case UdpListenerSession::DownResult::Error:
            close(CloseReason::UpstreamError);
            return;
        case UdpListenerSession::DownResult::MoreLeft:
            break;
        }
    }
    if (!m_requeued) {
        m_requeued = true;
        m_worker.requeue(m_id);
    }
}

// While paused: the upstream's datagrams are read and dropped (a zero-length read discards one).
void UdpSession::dropDown()
{
    for (int i = 0; i < UdpListenerSession::kPassBatches * UdpListenerSession::kBatch; ++i) {
        const ssize_t n = ::recv(m_watch.fd, nullptr, 0, MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                close(CloseReason::UpstreamError);
            return;
        }
        countReceivedDown(quint64(n)); // MSG_TRUNC: the datagram's real length
    }
    if (!m_requeued) {
        m_requeued = true;
        m_worker.requeue(m_id);
    }
}

void UdpSession::pause(qint64 ms)
{
    if (m_closed || ms <= 0)
        return;
    m_pausedUntil = qMax(m_pausedUntil, m_worker.monoMs() + ms);
    m_worker.schedule(m_pausedUntil, m_id, PauseTimer);
    m_worker.notePause(*m_record, m_pausedUntil);
}

void UdpSession::unpause()
{
    if (m_closed || !m_pausedUntil)
        return;
    m_pausedUntil = 0;
    m_lastMs = m_worker.monoMs(); // the pause is not the peers' silence
    m_worker.notePause(*m_record, 0);
}

void UdpSession::armIdle(qint64 atMs)
{
    m_worker.schedule(atMs, m_id, IdleTimer);
}

void UdpSession::onTimer(quint32 tag)
{
    if (m_closed)
        return;
    if (tag == ToxicTimer) {
        // An entry armed before an earlier one took its place leaves the earlier one armed.
        if (m_worker.monoMs() >= m_toxicTimerAt)
            m_toxicTimerAt = 0;
        if (m_toxics) {
            m_toxics->timer(*this, m_worker.monoMs());
            afterToxics();
        }
        return;
    }
    if (tag == PauseTimer) {
        // A pause that was extended or ended meanwhile leaves an early timer behind.
        if (m_pausedUntil && m_worker.monoMs() >= m_pausedUntil)
            unpause();
        return;
    }
    if (m_pausedUntil) {
        armIdle(m_pausedUntil + idleLimit());
        return;
    }
    if (m_worker.monoMs() - m_lastMs >= idleLimit()) {
        m_route->stats->add(m_route->stats->timeouts);
        close(CloseReason::IdleTimeout);
        return;
    }
    armIdle(m_lastMs + idleLimit());
}

void UdpSession::close(CloseReason reason)
{
    if (m_closed)
        return;
    m_closed = true;
    UpstreamEntry* up = m_upstream;
    if (m_started && up) {
        if (auto* ns = up->nodes[size_t(m_node)].stats.get())
            ns->active.fetch_sub(1, std::memory_order_relaxed);
        if (reason == CloseReason::UpstreamError) // the node answered with an ICMP error
            up->nodeFailed(m_node, false);
        up->balancer->connectionEnded(m_node);
    }
    if (reason == CloseReason::UpstreamError)
        m_route->stats->add(m_route->stats->connectFailures);
    m_record->bytesFromClient.set(m_fromClient);
    m_record->bytesFromUpstream.set(m_fromUpstream);
    // The plugins' log phase: the session cap and limit-conn let go, loggers log.
    m_admission.end(reason);
    m_worker.hub().closed(m_record, reason);
    if (m_watch.fd >= 0) {
        m_worker.loop().remove(m_watch);
        ::close(m_watch.fd);
        m_watch.fd = -1;
    }
    if (m_listener) {
        m_listener->forget(m_key);
        m_listener = nullptr;
    }
    m_worker.retire(this);
}

} // namespace sg
