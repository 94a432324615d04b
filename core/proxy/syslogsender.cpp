#include "proxy/syslogsender.h"

#include "config/logging.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sg {

namespace {

qint64 monotonicMs()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

QString errnoText(int error)
{
    return QString::fromLocal8Bit(std::strerror(error));
}

// Waits until fd is ready for `events`, at most timeoutMs; false on timeout or error.
bool waitFor(int fd, short events, int timeoutMs)
{
    pollfd p{fd, events, 0};
    for (;;) {
        const int n = ::poll(&p, 1, timeoutMs);
        if (n < 0 && errno == EINTR)
            continue;
        return n > 0 && (p.revents & (events | POLLERR | POLLHUP)) != 0;
    }
}

} // namespace

SyslogSender::SyslogSender(const SyslogConf& conf) : m_conf(conf)
{
    m_thread = std::thread([this] { run(); });
}

SyslogSender::~SyslogSender()
{
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_all();
    m_thread.join();
    closeSocket();
}

void SyslogSender::add(QByteArray message)
{
    bool full = false;
    {
        std::lock_guard lock(m_mutex);
        if (int(m_pending.size()) >= kMaxPending) {
            ++m_counters.dropped;
            return;
        }
        const qint64 now = monotonicMs();
        if (m_pending.empty())
            m_firstMs = now;
        m_lastMs = now;
        m_pending.push_back(std::move(message));
        full = int(m_pending.size()) >= m_conf.batchMaxSize;
    }
    if (full)
        m_wake.notify_one();
}

SyslogSender::Counters SyslogSender::counters() const
{
    std::lock_guard lock(m_mutex);
    return m_counters;
}

void SyslogSender::run()
{
    const qint64 inactiveMs = qint64(m_conf.inactiveTimeout) * 1000;
    const qint64 durationMs = qint64(m_conf.bufferDuration) * 1000;
    std::unique_lock lock(m_mutex);
    for (;;) {
        // Wait for a batch to be due.
        for (;;) {
            if (m_stopping)
                break;
            if (!m_pending.empty()) {
                if (int(m_pending.size()) >= m_conf.batchMaxSize)
                    break;
                const qint64 due = qMin(m_lastMs + inactiveMs, m_firstMs + durationMs);
                const qint64 now = monotonicMs();
                if (now >= due)
                    break;
                m_wake.wait_for(lock, std::chrono::milliseconds(due - now));
            } else {
                m_wake.wait(lock);
            }
        }
        if (m_pending.empty())
            return; // stopping, nothing waits
        std::deque<QByteArray> batch;
        const qsizetype take = qMin<qsizetype>(m_pending.size(), m_conf.batchMaxSize);
        for (qsizetype i = 0; i < take; ++i) {
            batch.push_back(std::move(m_pending.front()));
            m_pending.pop_front();
        }
        m_firstMs = monotonicMs(); // the rest start a batch of their own now
        const bool lastRound = m_stopping;
        lock.unlock();

        // At shutdown a batch gets one attempt: nothing waits for retries then.
        const int attempts = lastRound ? 1 : 1 + m_conf.maxRetryCount;
        bool sent = false;
        QString error;
        for (int attempt = 0; attempt < attempts && !sent; ++attempt) {
            if (attempt > 0) {
                std::unique_lock wait(m_mutex);
                if (m_wake.wait_for(wait, std::chrono::seconds(m_conf.retryDelay),
                                    [this] { return m_stopping; }))
                    break;
            }
            sent = sendBatch(batch, &error);
            if (!sent) {
                std::lock_guard count(m_mutex);
                ++m_counters.failedAttempts;
            }
        }
        lock.lock();
        if (!sent) {
            m_counters.dropped += batch.size();
            qCWarning(lcProxy, "syslog %s:%d: %lld messages dropped: %s",
                      qUtf8Printable(m_conf.host), m_conf.port, qint64(batch.size()),
                      qUtf8Printable(error));
        }
        if (lastRound && m_pending.empty())
            return;
    }
}

bool SyslogSender::connectSocket(QString* error)
{
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = m_conf.sockType == QLatin1String("udp") ? SOCK_DGRAM : SOCK_STREAM;
    addrinfo* found = nullptr;
    const int rc = ::getaddrinfo(m_conf.host.toUtf8().constData(),
                                 QByteArray::number(m_conf.port).constData(), &hints, &found);
    if (rc != 0) {
        *error = QStringLiteral("cannot resolve %1: %2")
                     .arg(m_conf.host, QString::fromLocal8Bit(::gai_strerror(rc)));
        return false;
    }
    for (addrinfo* a = found; a; a = a->ai_next) {
        const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            *error = errnoText(errno);
            continue;
        }
        if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0 ||
            (errno == EINPROGRESS && waitFor(fd, POLLOUT, m_conf.timeoutMs))) {
            int soError = 0;
            socklen_t len = sizeof soError;
            ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len);
            if (soError == 0) {
                m_fd = fd;
                ::freeaddrinfo(found);
                return true;
            }
            *error = QStringLiteral("cannot connect: %1").arg(errnoText(soError));
        } else {
            *error = errno == EINPROGRESS
                         ? QStringLiteral("connect timed out after %1 ms").arg(m_conf.timeoutMs)
                         : QStringLiteral("cannot connect: %1").arg(errnoText(errno));
        }
        ::close(fd);
    }
    ::freeaddrinfo(found);
    return false;
}

void SyslogSender::closeSocket()
{
    if (m_fd >= 0)
        ::close(m_fd);
    m_fd = -1;
}

bool SyslogSender::sendBatch(const std::deque<QByteArray>& batch, QString* error)
{
    const bool udp = m_conf.sockType == QLatin1String("udp");
    if (m_fd >= 0 && !udp) {
        // A kept connection the server has closed since is opened again.
        char probe;
        const ssize_t n = ::recv(m_fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            closeSocket();
    }
    if (m_fd < 0 && !connectSocket(error))
        return false;
    // The datagrams (UDP) or the stream's slices (TCP, at most flush_limit bytes each).
    std::deque<QByteArray> writes;
    qsizetype total = 0;
    quint64 over = 0;
    for (const QByteArray& message : batch) {
        if (total + message.size() > m_conf.dropLimit) {
            ++over;
            continue;
        }
        total += message.size();
        if (udp || writes.empty() || writes.back().size() + message.size() > m_conf.flushLimit)
            writes.push_back(message);
        else
            writes.back() += message;
    }
    for (const QByteArray& write : writes) {
        for (qsizetype at = 0; at < write.size();) {
            const ssize_t n =
                ::send(m_fd, write.constData() + at, size_t(write.size() - at), MSG_NOSIGNAL);
            if (n >= 0) {
                at += n;
                continue;
            }
            if (errno == EINTR)
                continue;
            if ((errno == EAGAIN || errno == EWOULDBLOCK) &&
                waitFor(m_fd, POLLOUT, m_conf.timeoutMs))
                continue;
            *error = errno == EAGAIN || errno == EWOULDBLOCK
                         ? QStringLiteral("send timed out after %1 ms").arg(m_conf.timeoutMs)
                         : QStringLiteral("send failed: %1").arg(errnoText(errno));
            closeSocket();
            return false;
        }
    }
    std::lock_guard lock(m_mutex);
    m_counters.sent += batch.size() - over;
    m_counters.dropped += over;
    return true;
}

} // namespace sg
