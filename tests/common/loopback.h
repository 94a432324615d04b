#pragma once
// Loopback test peers for the proxy tests: blocking-with-deadline client helpers on plain
// sockets, and TestServer, an upstream on its own thread (echo, sink, greet-and-hold) with
// counters the tests can read. Everything is bounded by deadlines; nothing waits forever.

#include <QByteArray>
#include <QList>
#include <QString>
#include <QTest>
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <mutex>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace sgtest {

inline qint64 nowMs()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

inline bool makeAddress(const QString& host, int port, sockaddr_storage& out, socklen_t& len)
{
    std::memset(&out, 0, sizeof out);
    const QByteArray h = host.toLatin1();
    if (host.contains(':')) {
        auto& a = reinterpret_cast<sockaddr_in6&>(out);
        a.sin6_family = AF_INET6;
        a.sin6_port = htons(quint16(port));
        len = sizeof a;
        return inet_pton(AF_INET6, h.constData(), &a.sin6_addr) == 1;
    }
    auto& a = reinterpret_cast<sockaddr_in&>(out);
    a.sin_family = AF_INET;
    a.sin_port = htons(quint16(port));
    len = sizeof a;
    return inet_pton(AF_INET, h.constData(), &a.sin_addr) == 1;
}

inline void setNonBlocking(int fd)
{
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// A port that was free a moment ago (bind to 0, read it, close).

// n free ports, all different: each is held bound until all are picked (freePort() called n
// times may hand out one port twice, as the kernel reuses a port once it is closed).
inline QList<int> freePorts(int n, const QString& host = QStringLiteral("127.0.0.1"))
{
    QList<int> ports;
    std::vector<int> held;
    for (int i = 0; i < n; ++i) {
        sockaddr_storage a;
        socklen_t len;
        makeAddress(host, 0, a, len);
        const int fd = ::socket(a.ss_family, SOCK_STREAM, 0);
        if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0) {
            if (fd >= 0)
                ::close(fd);
            break;
        }
        held.push_back(fd);
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        ports << (a.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6&>(a).sin6_port)
                                          : ntohs(reinterpret_cast<sockaddr_in&>(a).sin_port));
    }
    for (int fd : held)
        ::close(fd);
    return ports;
}

// The first of n consecutive ports that were all free a moment ago for `type` (SOCK_STREAM or
// SOCK_DGRAM), for a listener port range; -1 when none was found in a bounded number of tries.
inline int freePortRun(int n, const QString& host = QStringLiteral("127.0.0.1"),
                       int type = SOCK_STREAM)
{
    for (int attempt = 0; attempt < 64; ++attempt) {
        std::vector<int> held;
        int first = -1;
        for (int i = 0; i < n; ++i) {
            sockaddr_storage a;
            socklen_t len;
            makeAddress(host, first < 0 ? 0 : first + i, a, len);
            const int fd = ::socket(a.ss_family, type | SOCK_CLOEXEC, 0);
            if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0) {
                if (fd >= 0)
                    ::close(fd);
                break;
            }
            held.push_back(fd);
            if (first < 0) {
                ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
                first = a.ss_family == AF_INET6
                            ? ntohs(reinterpret_cast<sockaddr_in6&>(a).sin6_port)
                            : ntohs(reinterpret_cast<sockaddr_in&>(a).sin_port);
                if (first + n - 1 > 65535)
                    break;
            }
        }
        const bool found = int(held.size()) == n;
        for (int fd : held)
            ::close(fd);
        if (found)
            return first;
    }
    return -1;
}

inline int freePort(const QString& host = QStringLiteral("127.0.0.1"))
{
    const QList<int> ports = freePorts(1, host);
    return ports.isEmpty() ? -1 : ports.first();
}

// A port that refuses connections for as long as this object lives: bound but never listening,
// so, unlike a port from freePort(), no other process can start listening on it meanwhile.
class RefusingPort
{
public:
    explicit RefusingPort(const QString& host = QStringLiteral("127.0.0.1"))
    {
        sockaddr_storage a;
        socklen_t len;
        if (!makeAddress(host, 0, a, len))
            return;
        m_fd = ::socket(a.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (m_fd < 0 || ::bind(m_fd, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
            ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
            return;
        m_port = a.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6&>(a).sin6_port)
                                         : ntohs(reinterpret_cast<sockaddr_in&>(a).sin_port);
    }
    ~RefusingPort()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    RefusingPort(const RefusingPort&) = delete;
    RefusingPort& operator=(const RefusingPort&) = delete;
    int port() const { return m_port; } // 0 when the bind failed

private:
    int m_fd = -1;
    int m_port = 0;
};

inline int listenOn(const QString& host, int port, int backlog, int* boundPort = nullptr)
{
    sockaddr_storage a;
    socklen_t len;
    if (!makeAddress(host, port, a, len))
        return -1;
    const int fd = ::socket(a.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd, backlog) != 0) {
        ::close(fd);
        return -1;
    }
    if (boundPort) {
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        *boundPort = a.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6&>(a).sin6_port)
                                             : ntohs(reinterpret_cast<sockaddr_in&>(a).sin_port);
    }
    return fd;
}

// Non-blocking client socket connected to host:port, optionally bound to bindHost first.
// Returns -1 when the connect did not complete within timeoutMs.
inline int connectTo(const QString& host, int port, const QString& bindHost = {},
                     int timeoutMs = 3000)
{
    sockaddr_storage a;
    socklen_t len;
    if (!makeAddress(host, port, a, len))
        return -1;
    const int fd = ::socket(a.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    if (!bindHost.isEmpty()) {
        sockaddr_storage b;
        socklen_t blen;
        makeAddress(bindHost, 0, b, blen);
        if (::bind(fd, reinterpret_cast<sockaddr*>(&b), blen) != 0) {
            ::close(fd);
            return -1;
        }
    }
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), len) != 0 && errno != EINPROGRESS) {
        ::close(fd);
        return -1;
    }
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, timeoutMs) != 1) {
        ::close(fd);
        return -1;
    }
    int err = 0;
    socklen_t elen = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
    if (err != 0) {
        ::close(fd);
        return -1;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

inline bool sendAll(int fd, const QByteArray& data, int timeoutMs = 5000)
{
    qsizetype off = 0;
    const qint64 deadline = nowMs() + timeoutMs;
    while (off < data.size()) {
        const ssize_t n =
            ::send(fd, data.constData() + off, size_t(data.size() - off), MSG_NOSIGNAL);
        if (n > 0) {
            off += n;
            continue;
        }
        if (n < 0 && errno != EAGAIN)
            return false;
        const qint64 left = deadline - nowMs();
        if (left <= 0)
            return false;
        pollfd p{fd, POLLOUT, 0};
        ::poll(&p, 1, int(left));
    }
    return true;
}

enum class ReadEnd { Data, Eof, Reset, Timeout };

// Reads until `want` bytes arrived (or EOF/reset/timeout when want < 0: until the end).
inline ReadEnd readSome(int fd, QByteArray& out, qsizetype want, int timeoutMs)
{
    const qint64 deadline = nowMs() + timeoutMs;
    char buf[65536];
    while (want < 0 || out.size() < want) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n > 0) {
            out.append(buf, n);
            continue;
        }
        if (n == 0)
            return ReadEnd::Eof;
        if (errno == ECONNRESET)
            return ReadEnd::Reset;
        if (errno != EAGAIN)
            return ReadEnd::Reset;
        const qint64 left = deadline - nowMs();
        if (left <= 0)
            return ReadEnd::Timeout;
        pollfd p{fd, POLLIN, 0};
        ::poll(&p, 1, int(left));
    }
    return ReadEnd::Data;
}

inline QByteArray recvExactly(int fd, qsizetype n, int timeoutMs = 5000)
{
    QByteArray out;
    readSome(fd, out, n, timeoutMs);
    return out;
}

// How the connection ended, after draining whatever arrived first into *received.
inline ReadEnd waitForEnd(int fd, int timeoutMs, QByteArray* received = nullptr)
{
    QByteArray out;
    const ReadEnd end = readSome(fd, out, -1, timeoutMs);
    if (received)
        *received = out;
    return end;
}

inline QByteArray pattern(qsizetype size, quint32 seed = 1)
{
    QByteArray b(size, Qt::Uninitialized);
    quint32 x = seed * 2654435761u + 1;
    for (qsizetype i = 0; i < size; ++i) {
        x = x * 1664525u + 1013904223u;
        b[i] = char(x >> 24);
    }
    return b;
}

// Sends `data` while reading whatever comes back (so an echo never deadlocks on full
// buffers), then optionally shuts down writing and reads until EOF or `expect` bytes.
inline ReadEnd exchange(int fd, const QByteArray& data, QByteArray& received, qsizetype expect,
                        bool shutdownAfter, int timeoutMs = 10000)
{
    const qint64 deadline = nowMs() + timeoutMs;
    qsizetype off = 0;
    bool shut = false;
    char buf[65536];
    for (;;) {
        if (off == data.size() && shutdownAfter && !shut) {
            ::shutdown(fd, SHUT_WR);
            shut = true;
        }
        if (expect >= 0 && received.size() >= expect && off == data.size())
            return ReadEnd::Data;
        pollfd p{fd, short(POLLIN | (off < data.size() ? POLLOUT : 0)), 0};
        const qint64 left = deadline - nowMs();
        if (left <= 0)
            return ReadEnd::Timeout;
        ::poll(&p, 1, int(left));
        if (p.revents & POLLOUT) {
            const ssize_t n =
                ::send(fd, data.constData() + off,
                       size_t(qMin<qsizetype>(data.size() - off, 256 * 1024)), MSG_NOSIGNAL);
            if (n > 0)
                off += n;
            else if (n < 0 && errno != EAGAIN)
                return ReadEnd::Reset;
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n > 0)
                received.append(buf, n);
            else if (n == 0)
                return off == data.size() ? ReadEnd::Eof : ReadEnd::Reset;
            else if (errno != EAGAIN)
                return ReadEnd::Reset;
        }
    }
}

// An upstream on its own thread. Modes:
//  Echo  - echoes; on the peer's FIN, flushes what is left and closes.
//  Sink  - reads and counts; closes on FIN.
//  Greet - sends greeting() at once, holds the connection holdMs, then closes.
// While `paused` is set nothing is read (backpressure tests). Settings may change while the
// server runs: it may already be accepting (a health check, a client of another test step).
class TestServer
{
public:
    enum Mode { Echo, Sink, Greet };

    explicit TestServer(Mode mode, const QString& host = QStringLiteral("127.0.0.1"), int port = 0)
        : m_mode(mode)
    {
        m_listenFd = listenOn(host, port, 4096, &m_port);
        if (m_listenFd >= 0)
            setNonBlocking(m_listenFd);
        if (::pipe(m_wake) == 0) {
            setNonBlocking(m_wake[0]);
            setNonBlocking(m_wake[1]);
        }
        m_thread = std::thread([this] { run(); });
    }
    ~TestServer() { stop(); }

    void stop()
    {
        if (!m_thread.joinable())
            return;
        m_quit = true;
        [[maybe_unused]] ssize_t r = ::write(m_wake[1], "x", 1);
        m_thread.join();
        for (auto& [fd, c] : m_conns)
            ::close(fd);
        m_conns.clear();
        ::close(m_listenFd);
        ::close(m_wake[0]);
        ::close(m_wake[1]);
    }

    int port() const { return m_port; }
    bool ok() const { return m_listenFd >= 0; }

    std::atomic<int> accepted{0};
    std::atomic<int> open{0};
    std::atomic<qint64> bytesIn{0};
    std::atomic<bool> paused{false};
    std::atomic<int> holdMs{200};

    QByteArray greeting() const
    {
        std::lock_guard lock(m_greetingMutex);
        return m_greeting;
    }
    void setGreeting(const QByteArray& text)
    {
        std::lock_guard lock(m_greetingMutex);
        m_greeting = text;
    }

    void wake() { [[maybe_unused]] ssize_t r = ::write(m_wake[1], "x", 1); }

private:
    struct Conn
    {
        QByteArray pending; // echo bytes not yet written
        bool eof = false;
        qint64 closeAt = 0;
    };

    void closeConn(int fd)
    {
        ::close(fd);
        m_conns.erase(fd);
        open--;
    }

    void run()
    {
        std::vector<pollfd> fds;
        char buf[65536];
        while (!m_quit) {
            fds.clear();
            fds.push_back({m_wake[0], POLLIN, 0});
            fds.push_back({m_listenFd, POLLIN, 0});
            qint64 nextClose = -1;
            for (auto& [fd, c] : m_conns) {
                short ev = 0;
                if (!paused && !c.eof)
                    ev |= POLLIN;
                if (!c.pending.isEmpty())
                    ev |= POLLOUT;
                fds.push_back({fd, ev, 0});
                if (c.closeAt && (nextClose < 0 || c.closeAt < nextClose))
                    nextClose = c.closeAt;
            }
            int timeout = 100;
            if (nextClose >= 0)
                timeout = int(qBound<qint64>(0, nextClose - nowMs(), 100LL));
            ::poll(fds.data(), nfds_t(fds.size()), timeout);
            if (fds[0].revents) {
                while (::read(m_wake[0], buf, sizeof buf) > 0) {
                }
            }
            if (fds[1].revents & POLLIN) {
                for (;;) {
                    const int c =
                        ::accept4(m_listenFd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (c < 0)
                        break;
                    accepted++;
                    open++;
                    Conn conn;
                    if (m_mode == Greet) {
                        conn.pending = greeting();
                        conn.closeAt = nowMs() + holdMs;
                    }
                    m_conns.emplace(c, conn);
                }
            }
            for (size_t i = 2; i < fds.size(); ++i) {
                const int fd = fds[i].fd;
                auto it = m_conns.find(fd);
                if (it == m_conns.end())
                    continue;
                Conn& c = it->second;
                if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
                    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
                    if (n > 0) {
                        bytesIn += n;
                        if (m_mode == Echo)
                            c.pending.append(buf, n);
                    } else if (n == 0) {
                        c.eof = true;
                    } else if (errno != EAGAIN) {
                        closeConn(fd);
                        continue;
                    }
                }
                if (!c.pending.isEmpty()) {
                    const ssize_t n =
                        ::send(fd, c.pending.constData(), size_t(c.pending.size()), MSG_NOSIGNAL);
                    if (n > 0)
                        c.pending.remove(0, n);
                    else if (n < 0 && errno != EAGAIN) {
                        closeConn(fd);
                        continue;
                    }
                }
                if ((c.eof && c.pending.isEmpty()) || (c.closeAt && nowMs() >= c.closeAt))
                    closeConn(fd);
            }
            // Hold timers for connections that saw no I/O this round.
            if (m_mode == Greet) {
                std::vector<int> due;
                for (auto& [fd, c] : m_conns)
                    if (c.closeAt && nowMs() >= c.closeAt && c.pending.isEmpty())
                        due.push_back(fd);
                for (int fd : due)
                    closeConn(fd);
            }
        }
    }

    Mode m_mode;
    int m_listenFd = -1;
    int m_port = 0;
    int m_wake[2] = {-1, -1};
    std::atomic<bool> m_quit{false};
    std::thread m_thread;
    std::map<int, Conn> m_conns;
    mutable std::mutex m_greetingMutex;
    QByteArray m_greeting = QByteArrayLiteral("hello\n");
};

} // namespace sgtest

namespace QTest {
template <> inline char* toString(const sgtest::ReadEnd& e)
{
    static const char* names[] = {"Data", "Eof", "Reset", "Timeout"};
    return qstrdup(names[int(e)]);
}
} // namespace QTest
