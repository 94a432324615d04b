// sg_loadclient: the benchmark's own load generator and upstream, plain POSIX sockets.
// Every mode prints one JSON object per line on stdout, so run-bench (and a person) can read
// the figures without parsing prose. All loops are bounded by a duration, a deadline or a
// signal; nothing runs forever by accident.
//
//   sg_loadclient echo [--tcp ADDR] [--udp ADDR] [--threads N]       TCP+UDP echo server
//   sg_loadclient cps  --target ADDR [--threads N] [--duration S]     connect, ping/pong, close
//   sg_loadclient rr   --target ADDR [--threads N] [--duration S]     ping/pong, persistent
//                      [--warmup N] [--pause MS]                       (N exchanges unmeasured
//                                                                      first, MS idle after each)
//   sg_loadclient stream --target ADDR [--duration S] [--warmup S]     bytes through an echo,
//                        [--window B]                                  counted over a window
//   sg_loadclient idle --target ADDR --count N [--hold S]             hold N open connections
//   sg_loadclient udp  --target ADDR [--threads N] [--duration S]     datagram request/response
//
// ADDR is IPv4 "a.b.c.d:port" or "[v6]:port". `--tls SNI` makes cps and stream speak TLS to the
// target (OpenSSL, the server name SNI, no certificate verification: every proxy gets the same
// client); cps then makes a full handshake per connection (no session is ever resumed).

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <memory>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <optional>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <thread>
#include <unistd.h>
#include <unordered_set>
#include <vector>

namespace sg::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Options
{
    std::string mode;
    std::string target;
    std::string tcpListen = "127.0.0.1:0";
    std::string udpListen;
    int threads = 1;
    double duration = 3.0;
    int count = 0;
    double hold = 600.0;
    double timeout = 30.0;
    int size = 32;
    double warmup = -1;        // rr: exchanges (default 50); stream: seconds (default 1)
    double pauseMs = 0;        // rr: idle time after each exchange, so every one starts from quiet
    uint64_t window = 4 << 20; // stream: bytes sent and not yet echoed, at most
    std::string tlsServerName; // cps, stream: speak TLS with this SNI when set
};

[[noreturn]] void fail(const std::string& what)
{
    std::fprintf(stderr, "sg_loadclient: %s\n", what.c_str());
    std::exit(2);
}

[[noreturn]] void failErrno(const std::string& what)
{
    fail(what + ": " + std::strerror(errno));
}

// Parses "1.2.3.4:5" or "[::1]:5" into a sockaddr; the error names the option value.
sockaddr_storage parseAddress(const std::string& text, socklen_t& len)
{
    std::string host;
    std::string port;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
            fail("invalid address '" + text + "': expected [v6]:port");
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string::npos)
            fail("invalid address '" + text + "': expected host:port");
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    addrinfo hints{};
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    hints.ai_family = AF_UNSPEC;
    addrinfo* result = nullptr;
    if (const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &result); rc != 0)
        fail("invalid address '" + text + "': " + gai_strerror(rc));
    sockaddr_storage storage{};
    std::memcpy(&storage, result->ai_addr, result->ai_addrlen);
    len = result->ai_addrlen;
    freeaddrinfo(result);
    return storage;
}

int localPort(int fd)
{
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        failErrno("getsockname");
    if (addr.ss_family == AF_INET)
        return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
}

void setPort(sockaddr_storage& addr, int port)
{
    if (addr.ss_family == AF_INET)
        reinterpret_cast<sockaddr_in*>(&addr)->sin_port = htons(static_cast<uint16_t>(port));
    else
        reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port = htons(static_cast<uint16_t>(port));
}

void setInt(int fd, int level, int name, int value)
{
    setsockopt(fd, level, name, &value, sizeof value);
}

void setTimeouts(int fd, double seconds)
{
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(seconds);
    tv.tv_usec = static_cast<suseconds_t>((seconds - static_cast<double>(tv.tv_sec)) * 1e6);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

bool writeAll(int fd, const char* data, size_t size)
{
    while (size > 0) {
        const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        data += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

bool readAll(int fd, char* data, size_t size)
{
    while (size > 0) {
        const ssize_t n = ::recv(fd, data, size, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        data += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

// Blocks the stop signals in every thread; the main thread collects them with sigtimedwait.
sigset_t stopSignals()
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    signal(SIGPIPE, SIG_IGN);
    return set;
}

// Waits for a stop signal or until `seconds` pass; returns true if a signal came.
bool waitForStop(const sigset_t& set, double seconds)
{
    const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
    for (;;) {
        const auto left = std::chrono::duration<double>(deadline - Clock::now()).count();
        if (left <= 0)
            return false;
        timespec ts{};
        ts.tv_sec = static_cast<time_t>(left);
        ts.tv_nsec = static_cast<long>((left - static_cast<double>(ts.tv_sec)) * 1e9);
        if (sigtimedwait(&set, nullptr, &ts) > 0)
            return true;
        if (errno != EAGAIN && errno != EINTR)
            return false;
    }
}

struct Percentiles
{
    double p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
};

Percentiles percentiles(std::vector<uint32_t>& ns)
{
    Percentiles p;
    if (ns.empty())
        return p;
    std::sort(ns.begin(), ns.end());
    const auto at = [&](double q) {
        const auto index = static_cast<size_t>(q * static_cast<double>(ns.size() - 1) + 0.5);
        return static_cast<double>(ns[std::min(index, ns.size() - 1)]) / 1000.0;
    };
    p.p50 = at(0.50);
    p.p90 = at(0.90);
    p.p99 = at(0.99);
    p.p999 = at(0.999);
    p.max = static_cast<double>(ns.back()) / 1000.0;
    return p;
}

uint32_t elapsedNs(Clock::time_point since)
{
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - since);
    return static_cast<uint32_t>(std::min<int64_t>(ns.count(), UINT32_MAX));
}

// ---------------------------------------------------------------------------------------------
// echo server: SO_REUSEPORT listeners, one epoll loop per thread, so the upstream is never the
// bottleneck of a single-threaded proxy and stays O(1) per event with 10,000 idle connections.

struct EchoConn
{
    int fd = -1;
    bool listener = false;
    std::string pending; // bytes read but not yet written back; reading pauses while non-empty
    bool peerClosed = false;
};

int makeListener(const sockaddr_storage& addr, socklen_t len, int type)
{
    const int fd = ::socket(addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        failErrno("socket");
    setInt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
    setInt(fd, SOL_SOCKET, SO_REUSEPORT, 1);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0)
        failErrno("bind");
    if (type == SOCK_STREAM && ::listen(fd, 4096) != 0)
        failErrno("listen");
    return fd;
}

void echoTcpLoop(int listenFd, const std::atomic<bool>& stop)
{
    const int ep = epoll_create1(EPOLL_CLOEXEC);
    auto* listener = new EchoConn{listenFd, true, {}, false};
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = listener;
    epoll_ctl(ep, EPOLL_CTL_ADD, listenFd, &ev);
    std::vector<char> buffer(64 * 1024);
    std::vector<epoll_event> events(256);
    std::unordered_set<EchoConn*> open; // so that a stop with clients connected frees them
    const auto closeConn = [&](EchoConn* c) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, nullptr);
        ::close(c->fd);
        open.erase(c);
        delete c;
    };
    while (!stop.load(std::memory_order_relaxed)) {
        const int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 200);
        for (int i = 0; i < n; ++i) {
            auto* c = static_cast<EchoConn*>(events[i].data.ptr);
            if (c->listener) {
                for (;;) {
                    const int fd =
                        ::accept4(listenFd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0)
                        break;
                    setInt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
                    auto* conn = new EchoConn{fd, false, {}, false};
                    open.insert(conn);
                    epoll_event cev{};
                    cev.events = EPOLLIN | EPOLLRDHUP;
                    cev.data.ptr = conn;
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
                }
                continue;
            }
            bool dead = false;
            if (!c->pending.empty() && (events[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
                const ssize_t w = ::send(c->fd, c->pending.data(), c->pending.size(), MSG_NOSIGNAL);
                if (w < 0 && errno != EAGAIN)
                    dead = true;
                else if (w > 0)
                    c->pending.erase(0, static_cast<size_t>(w));
            }
            if (!dead && c->pending.empty() && !c->peerClosed) {
                for (;;) {
                    const ssize_t r = ::recv(c->fd, buffer.data(), buffer.size(), 0);
                    if (r == 0) {
                        c->peerClosed = true;
                        break;
                    }
                    if (r < 0) {
                        if (errno != EAGAIN)
                            dead = true;
                        break;
                    }
                    const ssize_t w =
                        ::send(c->fd, buffer.data(), static_cast<size_t>(r), MSG_NOSIGNAL);
                    if (w < 0 && errno != EAGAIN) {
                        dead = true;
                        break;
                    }
                    const size_t written = w < 0 ? 0 : static_cast<size_t>(w);
                    if (written < static_cast<size_t>(r)) {
                        c->pending.assign(buffer.data() + written,
                                          static_cast<size_t>(r) - written);
                        break;
                    }
                }
            }
            if (dead || (c->peerClosed && c->pending.empty())) {
                closeConn(c);
                continue;
            }
            epoll_event mod{};
            mod.events = c->pending.empty() ? (EPOLLIN | EPOLLRDHUP) : EPOLLOUT;
            mod.data.ptr = c;
            epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &mod);
        }
    }
    for (EchoConn* c : open) {
        ::close(c->fd);
        delete c;
    }
    ::close(ep);
    ::close(listenFd);
    delete listener;
}

void echoUdpLoop(int fd, const std::atomic<bool>& stop)
{
    constexpr int batch = 32;
    constexpr size_t datagram = 65536;
    std::vector<char> storage(batch * datagram);
    std::vector<iovec> iov(batch);
    std::vector<sockaddr_storage> peers(batch);
    std::vector<mmsghdr> msgs(batch);
    setTimeouts(fd, 0.2);
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    while (!stop.load(std::memory_order_relaxed)) {
        for (int i = 0; i < batch; ++i) {
            iov[i] = {storage.data() + static_cast<size_t>(i) * datagram, datagram};
            msgs[i] = {};
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_name = &peers[i];
            msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
        }
        const int n = recvmmsg(fd, msgs.data(), batch, MSG_WAITFORONE, nullptr);
        if (n <= 0)
            continue;
        for (int i = 0; i < n; ++i)
            iov[i].iov_len = msgs[i].msg_len;
        sendmmsg(fd, msgs.data(), static_cast<unsigned>(n), 0);
    }
    ::close(fd);
}

int runEcho(const Options& o)
{
    const sigset_t signals = stopSignals();
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    int tcpPort = 0;
    int udpPort = 0;
    if (!o.tcpListen.empty()) {
        socklen_t len = 0;
        auto addr = parseAddress(o.tcpListen, len);
        for (int i = 0; i < o.threads; ++i) {
            const int fd = makeListener(addr, len, SOCK_STREAM);
            tcpPort = localPort(fd);
            setPort(addr, tcpPort); // the other threads share the port the first one got
            threads.emplace_back([fd, &stop] { echoTcpLoop(fd, stop); });
        }
    }
    if (!o.udpListen.empty()) {
        socklen_t len = 0;
        auto addr = parseAddress(o.udpListen, len);
        for (int i = 0; i < o.threads; ++i) {
            const int fd = makeListener(addr, len, SOCK_DGRAM);
            udpPort = localPort(fd);
            setPort(addr, udpPort);
            threads.emplace_back([fd, &stop] { echoUdpLoop(fd, stop); });
        }
    }
    std::printf("{\"mode\":\"echo\",\"tcp_port\":%d,\"udp_port\":%d,\"threads\":%d}\n", tcpPort,
                udpPort, o.threads);
    std::fflush(stdout);
    waitForStop(signals, o.hold);
    stop = true;
    for (auto& t : threads)
        t.join();
    return 0;
}

// ---------------------------------------------------------------------------------------------
// clients

struct Target
{
    sockaddr_storage addr{};
    socklen_t len = 0;
};

int connectTcp(const Target& t, double timeout)
{
    const int fd = ::socket(t.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    setTimeouts(fd, timeout); // SO_SNDTIMEO bounds connect() too
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&t.addr), t.len) != 0) {
        ::close(fd);
        return -1;
    }
    setInt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
    return fd;
}

// The client side of a TLS connection on a connected socket: a full handshake (the context
// keeps no sessions), then SSL_read/SSL_write on the same descriptor.
class TlsClient
{
public:
    explicit TlsClient(const std::string& serverName) : m_serverName(serverName)
    {
        m_ctx = SSL_CTX_new(TLS_client_method());
        if (!m_ctx)
            fail("SSL_CTX_new failed");
        SSL_CTX_set_verify(m_ctx, SSL_VERIFY_NONE, nullptr);
        SSL_CTX_set_session_cache_mode(m_ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_mode(m_ctx,
                         SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    }
    ~TlsClient() { SSL_CTX_free(m_ctx); }
    TlsClient(const TlsClient&) = delete;
    TlsClient& operator=(const TlsClient&) = delete;

    // Handshakes on a blocking socket (its timeouts bound the wait); nullptr on failure.
    SSL* handshake(int fd) const
    {
        SSL* ssl = SSL_new(m_ctx);
        if (!ssl)
            return nullptr;
        SSL_set_fd(ssl, fd);
        SSL_set_tlsext_host_name(ssl, m_serverName.c_str());
        if (SSL_connect(ssl) != 1) {
            ERR_clear_error();
            SSL_free(ssl);
            return nullptr;
        }
        return ssl;
    }

private:
    std::string m_serverName;
    SSL_CTX* m_ctx = nullptr;
};

bool tlsWriteAll(SSL* ssl, const char* data, size_t size)
{
    while (size > 0) {
        const int n = SSL_write(ssl, data, static_cast<int>(size));
        if (n <= 0)
            return false;
        data += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

bool tlsReadAll(SSL* ssl, char* data, size_t size)
{
    while (size > 0) {
        const int n = SSL_read(ssl, data, static_cast<int>(size));
        if (n <= 0)
            return false;
        data += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

// SSL_write/SSL_read on a non-blocking socket as send/recv: -1 with errno EAGAIN when TLS has
// to wait for the socket, 0 for the peer's close.
ssize_t tlsSend(SSL* ssl, const char* data, size_t size)
{
    const int n = SSL_write(ssl, data, static_cast<int>(size));
    if (n > 0)
        return n;
    const int error = SSL_get_error(ssl, n);
    ERR_clear_error();
    errno = error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE ? EAGAIN : EPROTO;
    return -1;
}

ssize_t tlsRecv(SSL* ssl, char* data, size_t size)
{
    const int n = SSL_read(ssl, data, static_cast<int>(size));
    if (n > 0)
        return n;
    const int error = SSL_get_error(ssl, n);
    ERR_clear_error();
    if (error == SSL_ERROR_ZERO_RETURN)
        return 0;
    errno = error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE ? EAGAIN : EPROTO;
    return -1;
}

struct ThreadResult
{
    uint64_t ok = 0;
    uint64_t errors = 0;
    uint64_t mismatches = 0;
    std::vector<uint32_t> latencies;
};

std::vector<char> pattern(int size, int seed)
{
    std::vector<char> p(static_cast<size_t>(size));
    for (size_t i = 0; i < p.size(); ++i)
        p[i] = static_cast<char>('a' + (static_cast<int>(i) + seed) % 26);
    return p;
}

void printLatency(const char* mode, const Options& o, double seconds, uint64_t ok, uint64_t errors,
                  uint64_t mismatches, std::vector<uint32_t>& all, const char* extra = "")
{
    const Percentiles p = percentiles(all);
    std::printf("{\"mode\":\"%s\",\"target\":\"%s\",\"threads\":%d,\"size\":%d,\"seconds\":%.3f,"
                "\"ok\":%llu,\"errors\":%llu,\"mismatches\":%llu,\"per_second\":%.1f,"
                "\"p50_us\":%.2f,\"p90_us\":%.2f,\"p99_us\":%.2f,\"p999_us\":%.2f,"
                "\"max_us\":%.2f%s}\n",
                mode, o.target.c_str(), o.threads, o.size, seconds,
                static_cast<unsigned long long>(ok), static_cast<unsigned long long>(errors),
                static_cast<unsigned long long>(mismatches),
                seconds > 0 ? static_cast<double>(ok) / seconds : 0.0, p.p50, p.p90, p.p99, p.p999,
                p.max, extra);
    std::fflush(stdout);
}

template <typename Work> int runThreads(const char* mode, const Options& o, Work work)
{
    signal(SIGPIPE, SIG_IGN);
    std::vector<ThreadResult> results(static_cast<size_t>(o.threads));
    std::vector<std::thread> threads;
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(o.duration));
    for (int i = 0; i < o.threads; ++i)
        threads.emplace_back([&, i] { work(i, deadline, results[static_cast<size_t>(i)]); });
    for (auto& t : threads)
        t.join();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    ThreadResult total;
    for (auto& r : results) {
        total.ok += r.ok;
        total.errors += r.errors;
        total.mismatches += r.mismatches;
        total.latencies.insert(total.latencies.end(), r.latencies.begin(), r.latencies.end());
    }
    printLatency(mode, o, seconds, total.ok, total.errors, total.mismatches, total.latencies);
    return total.ok > 0 ? 0 : 1;
}

int runCps(const Options& o, const Target& target)
{
    std::optional<TlsClient> tls;
    if (!o.tlsServerName.empty())
        tls.emplace(o.tlsServerName);
    return runThreads("cps", o, [&](int index, Clock::time_point deadline, ThreadResult& r) {
        const auto ping = pattern(o.size, index);
        std::vector<char> pong(ping.size());
        r.latencies.reserve(1 << 16);
        while (Clock::now() < deadline) {
            const auto begin = Clock::now();
            const int fd = connectTcp(target, 2.0);
            if (fd < 0) {
                ++r.errors;
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
                continue;
            }
            bool ok = false;
            if (tls) {
                if (SSL* ssl = tls->handshake(fd)) {
                    ok = tlsWriteAll(ssl, ping.data(), ping.size()) &&
                         tlsReadAll(ssl, pong.data(), pong.size());
                    SSL_shutdown(ssl); // close_notify, not waiting for the peer's
                    SSL_free(ssl);
                }
            } else {
                ok =
                    writeAll(fd, ping.data(), ping.size()) && readAll(fd, pong.data(), pong.size());
            }
            ::close(fd);
            if (!ok) {
                ++r.errors;
                continue;
            }
            if (pong != ping)
                ++r.mismatches;
            ++r.ok;
            r.latencies.push_back(elapsedNs(begin));
        }
    });
}

int runRr(const Options& o, const Target& target)
{
    return runThreads("rr", o, [&](int index, Clock::time_point deadline, ThreadResult& r) {
        const auto ping = pattern(o.size, index);
        std::vector<char> pong(ping.size());
        const int fd = connectTcp(target, 2.0);
        if (fd < 0) {
            ++r.errors;
            return;
        }
        r.latencies.reserve(1 << 18);
        // A short warm-up so connection setup and first-touch costs stay out of the figures.
        const int warmup = o.warmup < 0 ? 50 : static_cast<int>(o.warmup);
        for (int i = 0; i < warmup; ++i) {
            if (!writeAll(fd, ping.data(), ping.size()) || !readAll(fd, pong.data(), pong.size())) {
                ++r.errors;
                ::close(fd);
                return;
            }
        }
        while (Clock::now() < deadline) {
            const auto begin = Clock::now();
            if (!writeAll(fd, ping.data(), ping.size()) || !readAll(fd, pong.data(), pong.size())) {
                ++r.errors;
                break;
            }
            r.latencies.push_back(elapsedNs(begin));
            if (pong != ping)
                ++r.mismatches;
            ++r.ok;
            if (o.pauseMs > 0)
                std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(o.pauseMs));
        }
        ::close(fd);
    });
}

int runUdp(const Options& o, const Target& target)
{
    return runThreads("udp", o, [&](int index, Clock::time_point deadline, ThreadResult& r) {
        const int fd = ::socket(target.addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 ||
            ::connect(fd, reinterpret_cast<const sockaddr*>(&target.addr), target.len) != 0) {
            ++r.errors;
            return;
        }
        setTimeouts(fd, 0.2);
        auto ping = pattern(std::max(o.size, 8), index);
        std::vector<char> pong(65536);
        r.latencies.reserve(1 << 18);
        uint64_t seq = 0;
        while (Clock::now() < deadline) {
            ++seq;
            std::memcpy(ping.data(), &seq, sizeof seq); // tells a late reply from the current one
            const auto begin = Clock::now();
            if (::send(fd, ping.data(), ping.size(), 0) < 0) {
                ++r.errors;
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
                continue;
            }
            for (;;) {
                const ssize_t n = ::recv(fd, pong.data(), pong.size(), 0);
                if (n < 0) {
                    ++r.errors; // timeout or ICMP refusal: counted as a lost exchange
                    break;
                }
                uint64_t got = 0;
                if (static_cast<size_t>(n) >= sizeof got)
                    std::memcpy(&got, pong.data(), sizeof got);
                if (got != seq)
                    continue;
                if (static_cast<size_t>(n) != ping.size() ||
                    std::memcmp(pong.data(), ping.data(), ping.size()) != 0)
                    ++r.mismatches;
                ++r.ok;
                r.latencies.push_back(elapsedNs(begin));
                break;
            }
        }
        ::close(fd);
    });
}

// One connection to an echo server: sends a known byte sequence as fast as the path takes it,
// reads the echo back, checks every byte and counts them. The figure is the bytes received in
// the window [warmup, warmup + duration), read from the counter at the two instants (ppoll
// wakes for them), so buffers filling at the start and the close at the end stay out of it.
int runStream(const Options& o, const Target& target)
{
    signal(SIGPIPE, SIG_IGN);
    constexpr size_t period = 4093; // prime: the sequence never lines up with a buffer size
    constexpr size_t chunk = 64 * 1024;
    std::vector<char> sequence(period + chunk);
    for (size_t i = 0; i < sequence.size(); ++i)
        sequence[i] = static_cast<char>((i % period) * 131 % 251);
    std::vector<char> in(chunk);

    const int fd = connectTcp(target, 2.0);
    std::optional<TlsClient> tls;
    SSL* ssl = nullptr;
    if (fd >= 0 && !o.tlsServerName.empty()) {
        tls.emplace(o.tlsServerName);
        ssl = tls->handshake(fd);
    }
    if (fd < 0 || (tls && !ssl)) {
        std::printf("{\"mode\":\"stream\",\"target\":\"%s\",\"errors\":1,\"error\":\"%s\","
                    "\"bytes\":0,\"seconds\":0,\"bytes_per_second\":0}\n",
                    o.target.c_str(), fd < 0 ? "connect failed" : "TLS handshake failed");
        if (fd >= 0)
            ::close(fd);
        return 1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    // With TLS, a write that had to wait is repeated with at least as many bytes from the same
    // place (OpenSSL's rule): `sent` has not moved and the room only grows meanwhile.
    const auto sendSome = [&](const char* data, size_t size) {
        return ssl ? tlsSend(ssl, data, size) : ::send(fd, data, size, MSG_NOSIGNAL);
    };
    const auto receiveSome = [&](char* data, size_t size) {
        return ssl ? tlsRecv(ssl, data, size) : ::recv(fd, data, size, 0);
    };
    const double warmup = o.warmup < 0 ? 1.0 : o.warmup;
    const auto start = Clock::now();
    const auto toPoint = [&](double s) {
        return start +
               std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
    };
    const Clock::time_point marks[2] = {toPoint(warmup), toPoint(warmup + o.duration)};
    uint64_t sent = 0;
    uint64_t received = 0;
    uint64_t mismatches = 0;
    uint64_t atMark[2] = {0, 0};
    Clock::time_point markTime[2];
    int next = 0; // the next mark to take
    std::string error;
    while (next < 2 && error.empty()) {
        const auto now = Clock::now();
        if (now >= marks[next]) {
            atMark[next] = received;
            markTime[next] = now;
            ++next;
            continue;
        }
        const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(marks[next] - now);
        timespec ts{};
        ts.tv_sec = static_cast<time_t>(left.count() / 1000000000);
        ts.tv_nsec = static_cast<long>(left.count() % 1000000000);
        // At most `window` bytes on their way: a client that keeps sending while the echo
        // comes back slower only piles bytes up in the socket buffers along the path.
        const bool room = sent - received < o.window;
        pollfd p{fd, static_cast<short>(POLLIN | (room ? POLLOUT : 0)), 0};
        const int n = ppoll(&p, 1, &ts, nullptr);
        if (n < 0 && errno != EINTR)
            error = std::string("poll: ") + std::strerror(errno);
        if (n <= 0)
            continue;
        if (p.revents & POLLOUT) {
            const size_t want = std::min<uint64_t>(chunk, o.window - (sent - received));
            const ssize_t w = sendSome(sequence.data() + sent % period, want);
            if (w > 0)
                sent += static_cast<uint64_t>(w);
            else if (w < 0 && errno != EAGAIN && errno != EINTR)
                error = std::string("send: ") + std::strerror(errno);
        }
        // TLS may hold decrypted bytes the socket no longer shows as readable: read them too.
        while ((p.revents & (POLLIN | POLLERR | POLLHUP)) && error.empty()) {
            const ssize_t r = receiveSome(in.data(), in.size());
            if (r > 0) {
                if (std::memcmp(in.data(), sequence.data() + received % period,
                                static_cast<size_t>(r)) != 0)
                    ++mismatches;
                received += static_cast<uint64_t>(r);
            } else if (r == 0) {
                error = "closed by peer";
            } else if (errno != EAGAIN && errno != EINTR) {
                error = std::string("recv: ") + std::strerror(errno);
            }
            if (r <= 0 || !ssl || !SSL_has_pending(ssl))
                break;
        }
    }
    if (ssl)
        SSL_free(ssl);
    ::close(fd);
    const double seconds =
        next == 2 ? std::chrono::duration<double>(markTime[1] - markTime[0]).count() : 0.0;
    const uint64_t bytes = next == 2 ? atMark[1] - atMark[0] : 0;
    std::printf("{\"mode\":\"stream\",\"target\":\"%s\",\"warmup\":%.3f,\"seconds\":%.6f,"
                "\"bytes\":%llu,\"bytes_per_second\":%.1f,\"sent\":%llu,\"received\":%llu,"
                "\"mismatches\":%llu,\"errors\":%d,\"error\":\"%s\"}\n",
                o.target.c_str(), warmup, seconds, static_cast<unsigned long long>(bytes),
                seconds > 0 ? static_cast<double>(bytes) / seconds : 0.0,
                static_cast<unsigned long long>(sent), static_cast<unsigned long long>(received),
                static_cast<unsigned long long>(mismatches), error.empty() ? 0 : 1, error.c_str());
    std::fflush(stdout);
    return error.empty() && bytes > 0 && mismatches == 0 ? 0 : 1;
}

// Opens `count` connections with a bounded number in flight, proves each one end to end with
// a ping/pong (so the proxy really holds an upstream connection for it), then holds them.
int runIdle(const Options& o, const Target& target)
{
    const sigset_t signals = stopSignals();
    enum class State { Connecting, AwaitPong, Open };
    struct Conn
    {
        int fd;
        State state;
        size_t got;
    };
    constexpr int window = 256;
    const auto ping = pattern(o.size, 7);
    std::vector<char> pong(ping.size());
    std::vector<Conn> conns;
    conns.reserve(static_cast<size_t>(o.count));
    const int ep = epoll_create1(EPOLL_CLOEXEC);
    int started = 0;
    int inFlight = 0;
    int open = 0;
    int failed = 0;
    std::map<int, std::string> reasons;
    const auto begin = Clock::now();
    const auto deadline = begin + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(o.timeout));
    const auto failConn = [&](Conn& c, int err) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
        ::close(c.fd);
        c.fd = -1;
        ++failed;
        --inFlight;
        reasons.emplace(err, err ? std::strerror(err) : "closed by peer");
    };
    std::vector<epoll_event> events(512);
    while ((started < o.count || inFlight > 0) && Clock::now() < deadline) {
        while (started < o.count && inFlight < window) {
            const int fd =
                ::socket(target.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            ++started;
            if (fd < 0) {
                ++failed;
                reasons.emplace(errno, std::strerror(errno));
                continue;
            }
            setInt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
            const int rc =
                ::connect(fd, reinterpret_cast<const sockaddr*>(&target.addr), target.len);
            if (rc != 0 && errno != EINPROGRESS) {
                reasons.emplace(errno, std::strerror(errno));
                ::close(fd);
                ++failed;
                continue;
            }
            conns.push_back({fd, State::Connecting, 0});
            epoll_event ev{};
            ev.events = EPOLLOUT;
            ev.data.u64 = conns.size() - 1;
            epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
            ++inFlight;
        }
        const int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 100);
        for (int i = 0; i < n; ++i) {
            Conn& c = conns[events[i].data.u64];
            if (c.fd < 0)
                continue;
            if (c.state == State::Connecting) {
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err != 0 || ::send(c.fd, ping.data(), ping.size(), MSG_NOSIGNAL) !=
                                    static_cast<ssize_t>(ping.size())) {
                    failConn(c, err ? err : errno);
                    continue;
                }
                c.state = State::AwaitPong;
                epoll_event ev{};
                ev.events = EPOLLIN;
                ev.data.u64 = events[i].data.u64;
                epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
            } else if (c.state == State::AwaitPong) {
                const ssize_t r = ::recv(c.fd, pong.data() + c.got, pong.size() - c.got, 0);
                if (r <= 0) {
                    if (r < 0 && errno == EAGAIN)
                        continue;
                    failConn(c, r < 0 ? errno : 0);
                    continue;
                }
                c.got += static_cast<size_t>(r);
                if (c.got == pong.size()) {
                    c.state = State::Open;
                    epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
                    --inFlight;
                    ++open;
                }
            }
        }
    }
    const int pending = inFlight;
    const double seconds = std::chrono::duration<double>(Clock::now() - begin).count();
    std::string why;
    for (const auto& [err, text] : reasons)
        why += (why.empty() ? "" : "; ") + text;
    if (pending > 0)
        why += std::string(why.empty() ? "" : "; ") + std::to_string(pending) +
               " still pending at the deadline";
    std::printf("{\"mode\":\"idle\",\"target\":\"%s\",\"requested\":%d,\"open\":%d,"
                "\"failed\":%d,\"pending\":%d,\"seconds\":%.3f,\"reasons\":\"%s\"}\n",
                o.target.c_str(), o.count, open, failed, pending, seconds, why.c_str());
    std::fflush(stdout);
    waitForStop(signals, o.hold);
    for (auto& c : conns)
        if (c.fd >= 0)
            ::close(c.fd);
    ::close(ep);
    return open > 0 ? 0 : 1;
}

void usage()
{
    std::fputs(
        "usage: sg_loadclient MODE [options]\n"
        "  echo [--tcp ADDR] [--udp ADDR] [--threads N] [--hold S]   echo server (TCP, UDP)\n"
        "  cps  --target ADDR [--threads N] [--duration S] [--size B] connect, ping/pong, close\n"
        "  rr   --target ADDR [--threads N] [--duration S] [--size B] [--warmup N]\n"
        "       [--pause MS]            persistent ping/pong, N exchanges first, MS idle after "
        "each\n"
        "  stream --target ADDR [--duration S] [--warmup S] [--window B]  bytes through an echo,\n"
        "                                           at most B (default 4 MiB) not yet back\n"
        "  idle --target ADDR --count N [--hold S] [--timeout S]      hold N open connections\n"
        "  udp  --target ADDR [--threads N] [--duration S] [--size B] datagram request/response\n"
        "  --tls SNI (cps, stream): TLS to the target with this server name, a full handshake\n"
        "       per connection, no certificate verification\n"
        "ADDR is a.b.c.d:port or [v6]:port; output is one JSON object per line.\n",
        stderr);
}

Options parse(int argc, char** argv)
{
    if (argc < 2) {
        usage();
        std::exit(2);
    }
    Options o;
    o.mode = argv[1];
    if (o.mode == "-h" || o.mode == "--help") {
        usage();
        std::exit(0);
    }
    for (int i = 2; i < argc; ++i) {
        const std::string key = argv[i];
        if (i + 1 >= argc)
            fail("option " + key + " needs a value");
        const std::string value = argv[++i];
        const auto number = [&](double min) {
            char* end = nullptr;
            const double v = std::strtod(value.c_str(), &end);
            if (end == value.c_str() || *end != '\0' || v < min)
                fail("option " + key + ": invalid value '" + value +
                     "' (a number >= " + std::to_string(min) + " expected)");
            return v;
        };
        if (key == "--target")
            o.target = value;
        else if (key == "--tcp")
            o.tcpListen = value == "none" ? "" : value;
        else if (key == "--udp")
            o.udpListen = value == "none" ? "" : value;
        else if (key == "--threads")
            o.threads = static_cast<int>(number(1));
        else if (key == "--duration")
            o.duration = number(0.01);
        else if (key == "--count")
            o.count = static_cast<int>(number(1));
        else if (key == "--hold")
            o.hold = number(0);
        else if (key == "--timeout")
            o.timeout = number(0.1);
        else if (key == "--size")
            o.size = static_cast<int>(number(1));
        else if (key == "--warmup")
            o.warmup = number(0);
        else if (key == "--pause")
            o.pauseMs = number(0);
        else if (key == "--window")
            o.window = static_cast<uint64_t>(number(1));
        else if (key == "--tls")
            o.tlsServerName = value;
        else
            fail("unknown option " + key);
    }
    if (o.size > 65000)
        fail("option --size: invalid value '" + std::to_string(o.size) + "' (at most 65000)");
    return o;
}

} // namespace
} // namespace sg::bench

int main(int argc, char** argv)
{
    using namespace sg::bench;
    const Options o = parse(argc, argv);
    if (o.mode == "echo")
        return runEcho(o);
    if (o.mode != "cps" && o.mode != "rr" && o.mode != "idle" && o.mode != "udp" &&
        o.mode != "stream") {
        usage();
        fail("unknown mode '" + o.mode + "'");
    }
    if (o.target.empty())
        fail("mode " + o.mode + " needs --target ADDR");
    if (!o.tlsServerName.empty() && o.mode != "cps" && o.mode != "stream")
        fail("option --tls: only for modes cps and stream, not " + o.mode);
    Target target;
    target.addr = parseAddress(o.target, target.len);
    if (o.mode == "cps")
        return runCps(o, target);
    if (o.mode == "rr")
        return runRr(o, target);
    if (o.mode == "udp")
        return runUdp(o, target);
    if (o.mode == "stream")
        return runStream(o, target);
    if (o.count <= 0)
        fail("mode idle needs --count N");
    return runIdle(o, target);
}
