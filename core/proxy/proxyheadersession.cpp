#include "proxy/proxyheadersession.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <unistd.h>

namespace sg {

ProxyHeaderSession::ProxyHeaderSession(Worker& worker, int fd, qint64 timeoutMs, Done done,
                                       Failed failed)
    : WorkerSession(worker, nextId()), m_timeoutMs(timeoutMs), m_done(std::move(done)),
      m_failed(std::move(failed))
{
    m_watch.fd = fd;
    m_watch.handler = this;
}

ProxyHeaderSession::~ProxyHeaderSession()
{
    if (m_watch.fd >= 0) {
        m_worker.loop().remove(m_watch);
        ::close(m_watch.fd);
    }
}

quint64 ProxyHeaderSession::nextId()
{
    static std::atomic<quint64> next{quint64(1) << 62};
    return next.fetch_add(1, std::memory_order_relaxed);
}

void ProxyHeaderSession::start()
{
    if (!m_worker.loop().add(m_watch, IoRead)) {
        fail(QStringLiteral("the connection could not be watched"));
        return;
    }
    m_worker.schedule(m_worker.monoMs() + m_timeoutMs, m_id, 0);
    read(); // the header often came with the connection
}

void ProxyHeaderSession::onIo(IoWatch&, quint32)
{
    read();
}

void ProxyHeaderSession::onTimer(quint32)
{
    if (!m_ended)
        fail(QStringLiteral("no PROXY protocol header within %1 s")
                 .arg(double(m_timeoutMs) / 1000.0));
}

void ProxyHeaderSession::close(CloseReason)
{
    if (m_ended)
        return;
    m_ended = true;
    release();
    ::close(m_watch.fd);
    m_watch.fd = -1;
}

void ProxyHeaderSession::release()
{
    m_worker.loop().remove(m_watch);
    m_worker.retire(this); // destroyed after this loop pass
}

void ProxyHeaderSession::read()
{
    // Peek, hand the reader what arrived, then take from the socket exactly what it kept: every
    // byte it saw is consumed unless the header ended inside it, so a poll() loop is not woken
    // again for bytes already seen, and the bytes after the header stay queued.
    char buffer[256];
    while (!m_ended) {
        const std::size_t want = qMin(sizeof buffer, m_reader.wantAtMost());
        const ssize_t n = ::recv(m_watch.fd, buffer, want, MSG_PEEK);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                m_worker.loop().want(m_watch, IoRead);
                return;
            }
            fail(QStringLiteral("reading the PROXY protocol header failed: %1")
                     .arg(QString::fromLocal8Bit(std::strerror(errno))));
            return;
        }
        if (n == 0) {
            fail(m_reader.consumed() == 0
                     ? QStringLiteral("closed before sending a PROXY protocol header")
                     : QStringLiteral("closed in the middle of its PROXY protocol header"));
            return;
        }
        const std::size_t took = m_reader.feed(buffer, std::size_t(n));
        if (took > 0 && ::recv(m_watch.fd, buffer, took, 0) != ssize_t(took)) {
            fail(QStringLiteral("reading the PROXY protocol header failed"));
            return;
        }
        if (m_reader.state() == ProxyHeaderReader::State::Error) {
            fail(m_reader.error());
            return;
        }
        if (m_reader.state() == ProxyHeaderReader::State::Done) {
            m_ended = true;
            release();
            const int fd = m_watch.fd;
            m_watch.fd = -1;
            m_done(m_worker, fd, m_reader.header());
            return;
        }
    }
}

void ProxyHeaderSession::fail(const QString& why)
{
    if (m_ended)
        return;
    m_ended = true;
    release();
    ::close(m_watch.fd);
    m_watch.fd = -1;
    m_failed(why);
}

} // namespace sg
