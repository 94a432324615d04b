#include "proxy/addressmatch.h"
#include "proxy/sockaddr.h"
#include "proxy/toxics/toxicboard.h"
#include "proxy/udpsession.h"
#include "stats/statshub.h"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <unistd.h>

namespace sg {

namespace {

// A refused client is remembered this long after its last datagram (ip-restriction, no route):
// its datagrams are then only counted. A config change forgets every refusal at once.
constexpr qint64 kRefusedHoldMs = 30000;
constexpr size_t kRefusedCap = 16384;
constexpr int kControlSize = 128; // room for one in_pktinfo and one in6_pktinfo
constexpr int kSocketBuffer = 4 * 1024 * 1024;

QHostAddress hostOf(const UdpLocal& l)
{
    if (l.family == AF_INET)
        return QHostAddress(ntohl(l.v4.s_addr));
    Q_IPV6ADDR a;
    std::memcpy(&a, &l.v6, sizeof a);
    return normalizedAddress(QHostAddress(a));
}

void parseLocal(msghdr& h, UdpLocal& out)
{
    out.family = 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            in_pktinfo info;
            std::memcpy(&info, CMSG_DATA(c), sizeof info);
            out.family = AF_INET;
            out.v4 = info.ipi_addr;
            out.ifindex = info.ipi_ifindex;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            in6_pktinfo info;
            std::memcpy(&info, CMSG_DATA(c), sizeof info);
            out.ifindex = int(info.ipi6_ifindex);
            if (IN6_IS_ADDR_V4MAPPED(&info.ipi6_addr)) {
                out.family = AF_INET;
                std::memcpy(&out.v4, info.ipi6_addr.s6_addr + 12, 4);
            } else {
                out.family = AF_INET6;
                out.v6 = info.ipi6_addr;
            }
        }
    }
}

// Writes the one control message (IP_PKTINFO with in_pktinfo, IPV6_PKTINFO with in6_pktinfo)
// that makes a reply leave from the address in `info`; returns the control length for msghdr.
template <typename Pktinfo>
size_t writePktinfo(char* control, int level, int type, const Pktinfo& info)
{
    const size_t length = CMSG_SPACE(sizeof(Pktinfo));
    std::memset(control, 0, length);
    msghdr h{};
    h.msg_control = control;
    h.msg_controllen = length;
    cmsghdr* c = CMSG_FIRSTHDR(&h);
    c->cmsg_level = level;
    c->cmsg_type = type;
    c->cmsg_len = CMSG_LEN(sizeof(Pktinfo));
    std::memcpy(CMSG_DATA(c), &info, sizeof info);
    return length;
}

} // namespace

bool UdpClientKey::operator==(const UdpClientKey& o) const
{
    return port == o.port && std::memcmp(addr, o.addr, sizeof addr) == 0;
}

UdpClientKey UdpClientKey::from(const sockaddr_storage& a)
{
    UdpClientKey k;
    if (a.ss_family == AF_INET) {
        const auto& in = reinterpret_cast<const sockaddr_in&>(a);
        k.addr[10] = 0xff;
        k.addr[11] = 0xff;
        std::memcpy(k.addr + 12, &in.sin_addr, 4);
        k.port = in.sin_port;
    } else if (a.ss_family == AF_INET6) {
        const auto& in6 = reinterpret_cast<const sockaddr_in6&>(a);
        std::memcpy(k.addr, &in6.sin6_addr, 16);
        k.port = in6.sin6_port;
    }
    return k;
}

size_t UdpClientKeyHash::operator()(const UdpClientKey& k) const noexcept
{
    quint64 a, b;
    std::memcpy(&a, k.addr, 8);
    std::memcpy(&b, k.addr + 8, 8);
    quint64 h = (a * 0x9E3779B97F4A7C15ull) ^
                ((b + 0xC2B2AE3D27D4EB4Full) * 0x94D049BB133111EBull) ^ (quint64(k.port) << 17);
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 32;
    return size_t(h);
}

// ---------------------------------------------------------------------------------------------
// Listener

UdpListenerSession::UdpListenerSession(Worker& worker, quint64 id, int fd, const QString& key,
                                       std::shared_ptr<ListenerStats> stats,
                                       std::shared_ptr<const UdpContext> context,
                                       std::shared_ptr<const RouteTable> table)
    : WorkerSession(worker, id), m_key(key), m_stats(std::move(stats)),
      m_context(std::move(context)), m_table(std::move(table)),
      m_slots(new char[size_t(kBatch) * kSlotSize]), m_msgs(kBatch), m_iov(kBatch), m_names(kBatch),
      m_control(size_t(kBatch) * kControlSize), m_locals(kBatch)
{
    m_watch.fd = fd;
    m_watch.handler = this;
    m_watch.inputOnly = true;
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) == 0) {
        m_boundFamily = bound.ss_family;
        m_boundPort = portOf(bound);
        m_boundAddress = hostOf(bound);
        m_wildcard =
            QHostAddress(reinterpret_cast<const sockaddr*>(&bound))
                .isEqual(QHostAddress::AnyIPv4, QHostAddress::TolerantConversion) ||
            QHostAddress(reinterpret_cast<const sockaddr*>(&bound)) == QHostAddress::AnyIPv6;
    }
}

UdpListenerSession::~UdpListenerSession()
{
    if (m_watch.fd >= 0) {
        m_worker.loop().remove(m_watch);
        ::close(m_watch.fd);
    }
}

bool UdpListenerSession::start()
{
    const int one = 1;
    // Where each datagram arrived: server_addr matching and the reply's source address.
    ::setsockopt(m_watch.fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
    if (m_boundFamily == AF_INET6)
        ::setsockopt(m_watch.fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
    const int size = kSocketBuffer;
    ::setsockopt(m_watch.fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    ::setsockopt(m_watch.fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    ::fcntl(m_watch.fd, F_SETFL, ::fcntl(m_watch.fd, F_GETFL) | O_NONBLOCK);
    if (!m_worker.loop().add(m_watch, IoRead)) {
        close(CloseReason::Shutdown);
        return false;
    }
    // Datagrams may have queued between the bind and now; with edge reports nobody would say so.
    resume();
    return true;
}

void UdpListenerSession::setTable(std::shared_ptr<const RouteTable> table)
{
    m_table = std::move(table);
    m_refused.clear();
}

void UdpListenerSession::onIo(IoWatch&, quint32 bits)
{
    if (bits & (IoRead | IoError))
        resume();
}

void UdpListenerSession::resume()
{
    m_requeued = false;
    for (int i = 0; i < kPassBatches; ++i) {
        if (m_closed || !drain())
            return;
    }
    if (!m_closed && !m_requeued) {
        m_requeued = true;
        m_worker.requeue(m_id);
    }
}

void UdpListenerSession::onTimer(quint32) {}

bool UdpListenerSession::drain()
{
    char* base = m_slots.get();
    for (int i = 0; i < kBatch; ++i) {
        m_iov[size_t(i)] = iovec{base + size_t(i) * kSlotSize, size_t(kSlotSize)};
        msghdr& h = m_msgs[size_t(i)].msg_hdr;
        h.msg_name = &m_names[size_t(i)];
        h.msg_namelen = sizeof(sockaddr_storage);
        h.msg_iov = &m_iov[size_t(i)];
        h.msg_iovlen = 1;
        h.msg_control = m_control.data() + size_t(i) * kControlSize;
        h.msg_controllen = kControlSize;
        h.msg_flags = 0;
    }
    int n;
    do {
        n = ::recvmmsg(m_watch.fd, m_msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            // A queued error (never expected on an unconnected socket): clear it.
            int err = 0;
            socklen_t len = sizeof err;
            ::getsockopt(m_watch.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        }
        return false;
    }
    for (int i = 0; i < n && !m_closed; ++i) {
        parseLocal(m_msgs[size_t(i)].msg_hdr, m_locals[size_t(i)]);
        handle(i, m_msgs[size_t(i)].msg_len);
    }
    return n == kBatch;
}

void UdpListenerSession::handle(int slot, size_t length)
{
    const UdpClientKey key = UdpClientKey::from(m_names[size_t(slot)]);
    if (const auto it = m_sessions.find(key); it != m_sessions.end()) {
        it->second->sendUp(m_slots.get() + size_t(slot) * kSlotSize, length);
        return;
    }
    if (auto r = m_refused.find(key); r != m_refused.end()) {
        const qint64 now = monoMs();
        if (r->second.expiresMs > now) {
            if (RouteStats* rs = r->second.route.get()) {
                rs->add(rs->deniedDatagrams);
                rs->add(rs->deniedBytes, length);
            }
            if (r->second.holdMs > 0)
                r->second.expiresMs = now + r->second.holdMs;
            return;
        }
        m_refused.erase(r);
    }
    admit(key, slot, length);
}

void UdpListenerSession::remember(const UdpClientKey& key, std::shared_ptr<RouteStats> route,
                                  qint64 holdMs, bool extend)
{
    const qint64 now = monoMs();
    if (m_refused.size() >= kRefusedCap) {
        for (auto it = m_refused.begin(); it != m_refused.end();) {
            if (it->second.expiresMs <= now)
                it = m_refused.erase(it);
            else
                ++it;
        }
        if (m_refused.size() >= kRefusedCap)
            m_refused.clear(); // a flood of sources: forget rather than grow
    }
    m_refused[key] = Refused{std::move(route), now + holdMs, extend ? holdMs : 0};
}

void UdpListenerSession::admit(const UdpClientKey& key, int slot, size_t length)
{
    StatsHub& hub = *m_context->hub;
    const sockaddr_storage& peer = m_names[size_t(slot)];
    const UdpLocal& local = m_locals[size_t(slot)];
    StreamClient client;
    client.protocol = Protocol::Udp;
    client.remoteAddress = hostOf(peer);
    client.remotePort = portOf(peer);
    client.serverAddress = local.family ? hostOf(local) : m_boundAddress;
    client.serverPort = quint16(m_boundPort);
    const ConnectionInfo base = connectionOf(client, m_key, wallMs());

    Admission admission = m_context->admission->admit(*m_table, client);
    if (!admission.admitted()) {
        const std::shared_ptr<RouteStats> route =
            admission.route ? admission.route->stats : nullptr;
        if (route) {
            route->add(route->deniedDatagrams);
            route->add(route->deniedBytes, length);
        } else {
            m_stats->noRoute.fetch_add(1, std::memory_order_relaxed);
        }
        // Who the client is decides a refusal for as long as it keeps sending; load may
        // change within a second.
        if (admission.underLoad)
            remember(key, route, kLoadRetryMs, false);
        else
            remember(key, route, kRefusedHoldMs, true);
        recordRefusal(hub, base, admission, QStringLiteral("UDP ") + m_key);
        return;
    }

    UdpSessionSetup setup;
    setup.record = openRecord(hub, base, admission, m_stats, m_worker.index());
    double idle = m_context->defaultIdleSeconds;
    if (admission.upstream && admission.upstream->upstream.timeout)
        idle = admission.upstream->upstream.timeout->read;
    setup.idleMs = qMax<qint64>(1, qint64(idle * 1000));
    setup.noReplyMs = qMin(setup.idleMs, qMax<qint64>(1, qint64(m_context->noReplySeconds * 1000)));
    setup.upstream = admission.upstream;
    setup.hashKey = std::move(admission.hashKey);
    setup.admission = std::move(admission.ticket);
    setup.route = std::move(admission.route);
    if (const ToxicBoard* board = m_context->toxics)
        setup.toxics = board->route(setup.route->id);
    setup.key = key;
    setup.client = peer;
    setup.clientLength = m_msgs[size_t(slot)].msg_hdr.msg_namelen;
    setup.local = local;

    auto session = std::make_unique<UdpSession>(m_worker, this, std::move(setup));
    UdpSession* raw = session.get();
    m_worker.adopt(std::move(session));
    m_sessions.emplace(key, raw);
    if (raw->start())
        raw->sendUp(m_slots.get() + size_t(slot) * kSlotSize, length);
}

void UdpListenerSession::forget(const UdpClientKey& key)
{
    m_sessions.erase(key);
}

UdpListenerSession::DownResult UdpListenerSession::relayDown(UdpSession& session, int upstreamFd)
{
    char* base = m_slots.get();
    for (int i = 0; i < kBatch; ++i) {
        m_iov[size_t(i)] = iovec{base + size_t(i) * kSlotSize, size_t(kSlotSize)};
        msghdr& h = m_msgs[size_t(i)].msg_hdr;
        h.msg_name = nullptr;
        h.msg_namelen = 0;
        h.msg_iov = &m_iov[size_t(i)];
        h.msg_iovlen = 1;
        h.msg_control = nullptr;
        h.msg_controllen = 0;
        h.msg_flags = 0;
    }
    int n;
    do {
        n = ::recvmmsg(upstreamFd, m_msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? DownResult::Drained : DownResult::Error;
    if (n == 0)
        return DownResult::Drained;
    quint64 received = 0;
    for (int i = 0; i < n; ++i)
        received += m_msgs[size_t(i)].msg_len;
    session.countReceivedDown(received);
    if (session.repliesThroughToxics()) {
        for (int i = 0; i < n; ++i)
            session.toxicDown(base + size_t(i) * kSlotSize, m_msgs[size_t(i)].msg_len);
        return n == kBatch ? DownResult::MoreLeft : DownResult::Drained;
    }

    char* control = m_control.data();
    const size_t controlLength = replyControl(session.local(), control);
    for (int i = 0; i < n; ++i) {
        m_iov[size_t(i)].iov_len = m_msgs[size_t(i)].msg_len;
        msghdr& h = m_msgs[size_t(i)].msg_hdr;
        h.msg_name = const_cast<sockaddr_storage*>(&session.client());
        h.msg_namelen = session.clientLength();
        h.msg_control = controlLength ? control : nullptr; // the same for every datagram
        h.msg_controllen = controlLength;
    }
    int sent = 0;
    quint64 datagrams = 0, bytes = 0;
    while (sent < n) {
        const int r =
            ::sendmmsg(m_watch.fd, m_msgs.data() + sent, unsigned(n - sent), MSG_DONTWAIT);
        if (r > 0) {
            for (int i = sent; i < sent + r; ++i)
                bytes += m_msgs[size_t(i)].msg_len;
            datagrams += quint64(r);
            sent += r;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            break; // the client's side is full: UDP drops, as the network would
        ++sent;    // this datagram cannot be sent (e.g. too large for the path): skip it
    }
    session.countDown(datagrams, bytes);
    return n == kBatch ? DownResult::MoreLeft : DownResult::Drained;
}

size_t UdpListenerSession::replyControl(const UdpLocal& local, char* control) const
{
    // The reply leaves from the address the client wrote to, also on a wildcard listener.
    // (IP_PKTINFO also serves IPv4 clients of a dual-stack socket on Linux.)
    if (m_wildcard && local.family == AF_INET) {
        in_pktinfo info{};
        info.ipi_spec_dst = local.v4;
        return writePktinfo(control, IPPROTO_IP, IP_PKTINFO, info);
    }
    if (m_wildcard && local.family == AF_INET6 && m_boundFamily == AF_INET6) {
        in6_pktinfo info{};
        info.ipi6_addr = local.v6;
        return writePktinfo(control, IPPROTO_IPV6, IPV6_PKTINFO, info);
    }
    return 0;
}

void UdpListenerSession::close(CloseReason reason)
{
    if (m_closed)
        return;
    m_closed = true;
    // The sessions cannot answer without this socket. They are detached first so their close
    // does not edit the table being walked.
    std::vector<UdpSession*> all;
    all.reserve(m_sessions.size());
    for (auto& [key, s] : m_sessions)
        all.push_back(s);
    m_sessions.clear();
    for (UdpSession* s : all) {
        s->detach();
        s->close(reason);
    }
    if (m_watch.fd >= 0) {
        m_worker.loop().remove(m_watch);
        ::close(m_watch.fd);
        m_watch.fd = -1;
    }
    m_worker.retire(this);
}

} // namespace sg
