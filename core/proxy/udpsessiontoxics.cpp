// The toxic side of a UDP session (udpsession.h, toxics/udptoxics.h): replies through the
// downstream toxics, held datagrams delivered on the session's timer, and the route's toxics
// taken in or let go as they are edited.
#include "proxy/toxics/toxicboard.h"
#include "proxy/udpsession.h"

#include <cerrno>

namespace sg {

bool UdpListenerSession::sendToClient(const UdpSession& session, const char* data, size_t length)
{
    if (m_closed)
        return false;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo))];
    const size_t controlLength = replyControl(session.local(), control);
    iovec iov{const_cast<char*>(data), length};
    msghdr h{};
    h.msg_name = const_cast<sockaddr_storage*>(&session.client());
    h.msg_namelen = session.clientLength();
    h.msg_iov = &iov;
    h.msg_iovlen = 1;
    h.msg_control = controlLength ? control : nullptr;
    h.msg_controllen = controlLength;
    ssize_t r;
    do {
        r = ::sendmsg(m_watch.fd, &h, MSG_DONTWAIT);
    } while (r < 0 && errno == EINTR);
    return r >= 0; // EAGAIN: the client's side is full, dropped as the network would
}

void UdpSession::toxicDown(const char* data, size_t length)
{
    if (m_closed)
        return;
    m_answered = true; // the upstream answered, whatever the toxics do with it
    touch();
    if (!m_toxics) {
        deliver(false, data, length);
        return;
    }
    m_toxics->datagram(false, data, length, *this, m_worker.monoMs());
    afterToxics();
}

void UdpSession::deliver(bool upstream, const char* data, size_t length)
{
    if (m_pausedUntil)
        return; // the operator's pause drops datagrams both ways, held ones too
    if (upstream) {
        sendToUpstream(data, length);
    } else if (!m_closed && m_listener && m_listener->sendToClient(*this, data, length)) {
        m_record->datagramsDown.add(1);
        m_record->bytesDown.add(length);
    }
}

void UdpSession::afterToxics()
{
    if (!m_toxics->needed()) {
        m_toxics.reset(); // the direct path again, until the route's toxics change (wake)
        return;
    }
    const qint64 at = m_toxics->wakeAt();
    if (at && (!m_toxicTimerAt || at < m_toxicTimerAt)) {
        m_toxicTimerAt = at;
        m_worker.schedule(at, m_id, ToxicTimer);
    }
}

void UdpSession::wake()
{
    if (m_closed)
        return;
    if (!m_toxics) {
        const ToxicBoard* board = m_listener ? m_listener->m_context->toxics : nullptr;
        std::shared_ptr<RouteToxics> route = board ? board->route(routeId()) : nullptr;
        if (!route)
            return;
        m_toxics = std::make_unique<UdpToxics>(std::move(route), m_record->base.id,
                                               m_record->base.clientAddress);
    }
    m_toxics->timer(*this, m_worker.monoMs());
    afterToxics();
}

} // namespace sg
