#include "proxy/prereadsession.h"

#include "proxy/mqttconnect.h"
#include "proxy/proxyprotocol.h"
#include "proxy/servername.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <unistd.h>

namespace sg {

quint64 nextPrereadSessionId()
{
    static std::atomic<quint64> next{quint64(1) << 62};
    return next.fetch_add(1, std::memory_order_relaxed);
}

template <class Reader>
PrereadSession<Reader>::PrereadSession(Worker& worker, int fd, qint64 timeoutMs, bool keep,
                                       QString what, Done done, Failed failed)
    : WorkerSession(worker, nextPrereadSessionId()), m_timeoutMs(timeoutMs), m_keep(keep),
      m_what(std::move(what)), m_done(std::move(done)), m_failed(std::move(failed))
{
    m_watch.fd = fd;
    m_watch.handler = this;
}

template <class Reader> PrereadSession<Reader>::~PrereadSession()
{
    if (m_watch.fd >= 0) {
        m_worker.loop().remove(m_watch);
        ::close(m_watch.fd);
    }
}

template <class Reader> void PrereadSession<Reader>::start()
{
    if (!m_worker.loop().add(m_watch, IoRead)) {
        fail(QStringLiteral("the connection could not be watched"));
        return;
    }
    m_worker.schedule(m_worker.monoMs() + m_timeoutMs, m_id, 0);
    read(); // what the client sends first often came with the connection
}

template <class Reader> void PrereadSession<Reader>::onIo(IoWatch&, quint32)
{
    read();
}

template <class Reader> void PrereadSession<Reader>::onTimer(quint32)
{
    if (!m_ended)
        fail(QStringLiteral("no %1 within %2 s").arg(m_what).arg(double(m_timeoutMs) / 1000.0));
}

template <class Reader> void PrereadSession<Reader>::close(CloseReason)
{
    if (m_ended)
        return;
    m_ended = true;
    release();
    ::close(m_watch.fd);
    m_watch.fd = -1;
}

template <class Reader> void PrereadSession<Reader>::release()
{
    m_worker.loop().remove(m_watch);
    m_worker.retire(this); // destroyed after this loop pass
}

template <class Reader> void PrereadSession<Reader>::read()
{
    // Peek, hand the reader what arrived, then take from the socket exactly what it took: every
    // byte it saw is taken unless what it reads ended inside them, so a poll() loop is not woken
    // again for bytes already seen, and the bytes after it stay queued.
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
            fail(QStringLiteral("reading the %1 failed: %2")
                     .arg(m_what, QString::fromLocal8Bit(std::strerror(errno))));
            return;
        }
        if (n == 0) {
            fail(m_reader.consumed() == 0
                     ? QStringLiteral("closed before sending its %1").arg(m_what)
                     : QStringLiteral("closed in the middle of its %1").arg(m_what));
            return;
        }
        const std::size_t took = m_reader.feed(buffer, std::size_t(n));
        if (took > 0 && ::recv(m_watch.fd, buffer, took, 0) != ssize_t(took)) {
            fail(QStringLiteral("reading the %1 failed").arg(m_what));
            return;
        }
        if (m_keep)
            m_kept.append(buffer, qsizetype(took));
        if (m_reader.state() == Reader::State::Error) {
            fail(m_reader.error());
            return;
        }
        if (m_reader.state() == Reader::State::Done) {
            m_ended = true;
            release();
            const int fd = m_watch.fd;
            m_watch.fd = -1;
            m_done(m_worker, fd, m_reader, std::move(m_kept));
            return;
        }
    }
}

template <class Reader> void PrereadSession<Reader>::fail(const QString& why)
{
    if (m_ended)
        return;
    m_ended = true;
    release();
    // Recorded, and what admission held for the client let go, before the client sees the
    // close: whoever sees it also sees the refusal, and a next client the freed limit-conn slot.
    m_failed(why);
    ::close(m_watch.fd);
    m_watch.fd = -1;
}

template class PrereadSession<ProxyHeaderReader>;
template class PrereadSession<MqttConnectReader>;
template class PrereadSession<ClientHelloReader>;

} // namespace sg
