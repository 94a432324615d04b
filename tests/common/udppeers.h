#pragma once
// UDP peers for the proxy tests: UdpEcho, an upstream on its own thread that echoes every
// datagram to its sender and counts what it got, and UdpClient, a socket bound to a chosen
// loopback address and connected to the proxy. Every wait is bounded by a deadline.

#include "loopback.h"

#include <QByteArray>
#include <QSet>
#include <atomic>
#include <mutex>
#include <optional>
#include <poll.h>
#include <thread>

namespace sgtest {

// A UDP port that was free a moment ago (bind to 0, read it, close).
inline int freeUdpPort(const QString& host = QStringLiteral("127.0.0.1"))
{
    sockaddr_storage a;
    socklen_t len;
    makeAddress(host, 0, a, len);
    const int fd = ::socket(a.ss_family, SOCK_DGRAM, 0);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0) {
        ::close(fd);
        return -1;
    }
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    const int port = a.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6&>(a).sin6_port)
                                             : ntohs(reinterpret_cast<sockaddr_in&>(a).sin_port);
    ::close(fd);
    return port;
}

inline int boundUdpSocket(const QString& host, int port, int* boundPort = nullptr)
{
    sockaddr_storage a;
    socklen_t len;
    if (!makeAddress(host, port, a, len))
        return -1;
    const int fd = ::socket(a.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0) {
        ::close(fd);
        return -1;
    }
    const int size = 4 * 1024 * 1024;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    if (boundPort) {
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        *boundPort = a.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6&>(a).sin6_port)
                                             : ntohs(reinterpret_cast<sockaddr_in&>(a).sin_port);
    }
    return fd;
}

class UdpEcho
{
public:
    explicit UdpEcho(const QString& host = QStringLiteral("127.0.0.1"))
    {
        m_fd = boundUdpSocket(host, 0, &m_port);
        if (::pipe(m_wake) == 0)
            setNonBlocking(m_wake[0]);
        m_thread = std::thread([this] { run(); });
    }
    ~UdpEcho() { stop(); }

    void stop()
    {
        if (!m_thread.joinable())
            return;
        [[maybe_unused]] ssize_t r = ::write(m_wake[1], "x", 1);
        m_thread.join();
        ::close(m_fd);
        ::close(m_wake[0]);
        ::close(m_wake[1]);
    }
    int port() const { return m_port; }
    int peerCount() const
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        return int(m_peers.size());
    }

    std::atomic<int> received{0};
    std::atomic<qint64> bytes{0};

private:
    void run()
    {
        std::vector<char> buf(65536);
        for (;;) {
            pollfd p[2] = {{m_fd, POLLIN, 0}, {m_wake[0], POLLIN, 0}};
            if (::poll(p, 2, 5000) < 0 || (p[1].revents & POLLIN))
                return;
            if (!(p[0].revents & POLLIN))
                continue;
            sockaddr_storage from{};
            socklen_t len = sizeof from;
            const ssize_t n = ::recvfrom(m_fd, buf.data(), buf.size(), MSG_DONTWAIT,
                                         reinterpret_cast<sockaddr*>(&from), &len);
            if (n < 0)
                continue;
            received.fetch_add(1);
            bytes.fetch_add(n);
            {
                const auto& in = reinterpret_cast<const sockaddr_in&>(from);
                std::lock_guard<std::mutex> lock(m_mutex);
                m_peers.insert(quint64(in.sin_addr.s_addr) << 16 | in.sin_port);
            }
            ::sendto(m_fd, buf.data(), size_t(n), 0, reinterpret_cast<sockaddr*>(&from), len);
        }
    }

    int m_fd = -1;
    int m_port = 0;
    int m_wake[2] = {-1, -1};
    std::thread m_thread;
    mutable std::mutex m_mutex;
    QSet<quint64> m_peers;
};

class UdpClient
{
public:
    UdpClient(const QString& proxyHost, int proxyPort,
              const QString& bindHost = QStringLiteral("127.0.0.1"))
    {
        m_fd = boundUdpSocket(bindHost, 0, &m_port);
        sockaddr_storage a;
        socklen_t len;
        makeAddress(proxyHost, proxyPort, a, len);
        if (m_fd >= 0 && ::connect(m_fd, reinterpret_cast<sockaddr*>(&a), len) != 0) {
            ::close(m_fd);
            m_fd = -1;
        }
    }
    ~UdpClient()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    UdpClient(const UdpClient&) = delete;
    UdpClient& operator=(const UdpClient&) = delete;

    bool valid() const { return m_fd >= 0; }
    int port() const { return m_port; }
    bool send(const QByteArray& d) const
    {
        return ::send(m_fd, d.constData(), size_t(d.size()), 0) == ssize_t(d.size());
    }
    // The next datagram, or nothing after timeoutMs.
    std::optional<QByteArray> receive(int timeoutMs = 3000) const
    {
        const qint64 deadline = nowMs() + timeoutMs;
        for (;;) {
            const qint64 left = deadline - nowMs();
            if (left < 0)
                return std::nullopt;
            pollfd p{m_fd, POLLIN, 0};
            if (::poll(&p, 1, int(left)) <= 0)
                continue;
            QByteArray buf(65536, Qt::Uninitialized);
            const ssize_t n = ::recv(m_fd, buf.data(), size_t(buf.size()), MSG_DONTWAIT);
            if (n >= 0) {
                buf.truncate(n);
                return buf;
            }
        }
    }
    // Sends and waits for one reply.
    std::optional<QByteArray> ask(const QByteArray& d, int timeoutMs = 3000) const
    {
        if (!send(d))
            return std::nullopt;
        return receive(timeoutMs);
    }

private:
    int m_fd = -1;
    int m_port = 0;
};

} // namespace sgtest
