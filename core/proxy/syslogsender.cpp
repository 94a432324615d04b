#include "proxy/syslogsender.h"

#include "config/logging.h"

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
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

// Waits until fd is ready for `events` or until `deadline` (monotonic ms); false on timeout.
bool waitFor(int fd, short events, qint64 deadline)
{
    pollfd p{fd, events, 0};
    for (;;) {
        const int n = ::poll(&p, 1, int(qMax<qint64>(0, deadline - monotonicMs())));
        if (n < 0 && errno == EINTR)
            continue;
        return n > 0 && (p.revents & (events | POLLERR | POLLHUP)) != 0;
    }
}

// The sending threads still running, so that the process can give them a moment at exit. Never
// destroyed: a thread that outlives the wait may still count itself out.
struct Running
{
    std::mutex mutex;
    std::condition_variable ended;
    int count = 0;
};

Running& running()
{
    static Running* r = [] {
        auto* created = new Running;
        std::atexit([] {
            Running& all = running();
            std::unique_lock lock(all.mutex);
            all.ended.wait_for(lock, std::chrono::seconds(5), [&] { return all.count == 0; });
        });
        return created;
    }();
    return *r;
}

} // namespace

struct SyslogSender::State
{
    explicit State(const SyslogConf& c) : conf(c) {}

    void run();
    // Sends the front of `batch` until it is all sent or the socket fails (false, *error says
    // why); what the server was given leaves `batch`.
    bool send(std::deque<QByteArray>& batch, qint64 deadline, QString* error);
    bool connectSocket(qint64 deadline, QString* error);
    void closeSocket();

    const SyslogConf conf;
    mutable std::mutex mutex;
    std::condition_variable wake;
    std::deque<QByteArray> pending;
    qint64 firstMs = 0; // monotonic ms of the oldest waiting message
    qint64 lastMs = 0;  // of the newest
    bool stopping = false;
    Counters counters;
    int fd = -1; // the sending thread's socket
};

SyslogSender::SyslogSender(const SyslogConf& conf) : m_state(std::make_shared<State>(conf))
{
    {
        std::lock_guard lock(running().mutex);
        ++running().count;
    }
    std::thread([state = m_state] {
        state->run();
        state->closeSocket();
        Running& all = running();
        std::lock_guard lock(all.mutex);
        --all.count;
        all.ended.notify_all();
    }).detach();
}

SyslogSender::~SyslogSender()
{
    {
        std::lock_guard lock(m_state->mutex);
        m_state->stopping = true;
    }
    m_state->wake.notify_all();
}

void SyslogSender::add(QByteArray message)
{
    State& s = *m_state;
    bool wake = false;
    {
        std::lock_guard lock(s.mutex);
        if (int(s.pending.size()) >= s.conf.maxPendingEntries) {
            ++s.counters.dropped;
            return;
        }
        const qint64 now = monotonicMs();
        // The first message starts the batch's clocks, which the thread has to learn of.
        wake = s.pending.empty();
        if (wake)
            s.firstMs = now;
        s.lastMs = now;
        s.pending.push_back(std::move(message));
        wake = wake || int(s.pending.size()) >= s.conf.batchMaxSize;
    }
    if (wake)
        s.wake.notify_one();
}

SyslogSender::Counters SyslogSender::counters() const
{
    std::lock_guard lock(m_state->mutex);
    return m_state->counters;
}

void SyslogSender::State::run()
{
    const qint64 inactiveMs = qint64(conf.inactiveTimeout) * 1000;
    const qint64 durationMs = qint64(conf.bufferDuration) * 1000;
    qint64 finalDeadline = -1; // once stopping: the one timeout everything left must fit in
    std::unique_lock lock(mutex);
    for (;;) {
        // Wait for a batch to be due.
        while (!stopping) {
            if (pending.empty()) {
                wake.wait(lock);
                continue;
            }
            if (int(pending.size()) >= conf.batchMaxSize)
                break;
            const qint64 due = qMin(lastMs + inactiveMs, firstMs + durationMs);
            const qint64 now = monotonicMs();
            if (now >= due)
                break;
            wake.wait_for(lock, std::chrono::milliseconds(due - now));
        }
        if (stopping && finalDeadline < 0)
            finalDeadline = monotonicMs() + conf.timeoutMs;
        if (pending.empty())
            return;
        std::deque<QByteArray> batch;
        const qsizetype take = qMin<qsizetype>(pending.size(), conf.batchMaxSize);
        for (qsizetype i = 0; i < take; ++i) {
            batch.push_back(std::move(pending.front()));
            pending.pop_front();
        }
        firstMs = monotonicMs(); // what is left starts a batch of its own now
        const bool last = stopping;
        lock.unlock();

        // Once stopping, each batch gets one attempt within what is left of the final timeout.
        const int attempts = last ? 1 : 1 + conf.maxRetryCount;
        bool sent = false;
        QString error;
        for (int attempt = 0; attempt < attempts && !sent; ++attempt) {
            if (attempt > 0) {
                std::unique_lock wait(mutex);
                if (wake.wait_for(wait, std::chrono::seconds(conf.retryDelay),
                                  [this] { return stopping; }))
                    break;
            }
            const qint64 deadline = last ? finalDeadline : monotonicMs() + conf.timeoutMs;
            sent = send(batch, deadline, &error);
            if (!sent) {
                std::lock_guard count(mutex);
                ++counters.failedAttempts;
            }
        }
        lock.lock();
        if (!sent) {
            counters.dropped += batch.size();
            qCWarning(lcProxy, "syslog %s:%d: %lld messages dropped: %s", qUtf8Printable(conf.host),
                      conf.port, qint64(batch.size()), qUtf8Printable(error));
            if (last) {
                counters.dropped += pending.size(); // the final timeout is spent
                pending.clear();
            }
        }
    }
}

bool SyslogSender::State::connectSocket(qint64 deadline, QString* error)
{
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = conf.sockType == QLatin1String("udp") ? SOCK_DGRAM : SOCK_STREAM;
    addrinfo* found = nullptr;
    const int rc = ::getaddrinfo(conf.host.toUtf8().constData(),
                                 QByteArray::number(conf.port).constData(), &hints, &found);
    if (rc != 0) {
        *error = QStringLiteral("cannot resolve %1: %2")
                     .arg(conf.host, QString::fromLocal8Bit(::gai_strerror(rc)));
        return false;
    }
    for (addrinfo* a = found; a; a = a->ai_next) {
        const int s = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (s < 0) {
            *error = errnoText(errno);
            continue;
        }
        if (::connect(s, a->ai_addr, a->ai_addrlen) == 0 ||
            (errno == EINPROGRESS && waitFor(s, POLLOUT, deadline))) {
            int soError = 0;
            socklen_t len = sizeof soError;
            ::getsockopt(s, SOL_SOCKET, SO_ERROR, &soError, &len);
            if (soError == 0) {
                fd = s;
                ::freeaddrinfo(found);
                return true;
            }
            *error = QStringLiteral("cannot connect: %1").arg(errnoText(soError));
        } else {
            *error = errno == EINPROGRESS
                         ? QStringLiteral("connect timed out after %1 ms").arg(conf.timeoutMs)
                         : QStringLiteral("cannot connect: %1").arg(errnoText(errno));
        }
        ::close(s);
    }
    ::freeaddrinfo(found);
    return false;
}

void SyslogSender::State::closeSocket()
{
    if (fd >= 0)
        ::close(fd);
    fd = -1;
}

bool SyslogSender::State::send(std::deque<QByteArray>& batch, qint64 deadline, QString* error)
{
    const bool udp = conf.sockType == QLatin1String("udp");
    {
        // What lies beyond drop_limit bytes is dropped before anything is written.
        qsizetype total = 0;
        qsizetype keep = 0;
        while (keep < qsizetype(batch.size()) &&
               total + batch[size_t(keep)].size() <= conf.dropLimit)
            total += batch[size_t(keep++)].size();
        if (keep < qsizetype(batch.size())) {
            std::lock_guard lock(mutex);
            counters.dropped += batch.size() - size_t(keep);
            batch.resize(size_t(keep));
        }
    }
    if (fd >= 0 && !udp) {
        // A kept connection the server has closed since is opened again.
        char probe;
        const ssize_t n = ::recv(fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            closeSocket();
    }
    if (fd < 0 && !connectSocket(deadline, error))
        return false;
    while (!batch.empty()) {
        // One datagram (UDP), or as many whole messages as fit in flush_limit bytes (TCP).
        QByteArray write = batch.front();
        size_t count = 1;
        while (!udp && count < batch.size() &&
               write.size() + batch[count].size() <= conf.flushLimit)
            write += batch[count++];
        for (qsizetype at = 0; at < write.size();) {
            const ssize_t n =
                ::send(fd, write.constData() + at, size_t(write.size() - at), MSG_NOSIGNAL);
            if (n >= 0) {
                at += n;
                continue;
            }
            if (errno == EINTR)
                continue;
            if ((errno == EAGAIN || errno == EWOULDBLOCK) && waitFor(fd, POLLOUT, deadline))
                continue;
            *error = errno == EAGAIN || errno == EWOULDBLOCK
                         ? QStringLiteral("send timed out after %1 ms").arg(conf.timeoutMs)
                         : QStringLiteral("send failed: %1").arg(errnoText(errno));
            closeSocket();
            return false;
        }
        batch.erase(batch.begin(), batch.begin() + qsizetype(count));
        std::lock_guard lock(mutex);
        counters.sent += count;
    }
    return true;
}

} // namespace sg
