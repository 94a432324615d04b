#include "proxy/upstreamconnector.h"

#include <cerrno>
#include <netinet/in.h>
#include <netinet/tcp.h>
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
    return rc == 0 ? connected() : Outcome::Pending;
}

void UpstreamConnector::closeSocket()
{
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
    return connected();
}

UpstreamConnector::Outcome UpstreamConnector::onTimer(quint32 generation)
{
    if (m_connected || generation != (m_gen & 0xffffffu))
        return Outcome::Pending; // stale: a later attempt, or connected meanwhile
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
