#include "proxy/eventloop.h"

#include <QByteArray>
#include <cerrno>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#ifdef Q_OS_LINUX
#include <sys/epoll.h>
#include <sys/eventfd.h>
#endif

namespace sg {

namespace {

#ifdef Q_OS_LINUX
class EpollLoop final : public EventLoop
{
public:
    EpollLoop()
    {
        m_epfd = epoll_create1(EPOLL_CLOEXEC);
        m_wakeFd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.ptr = nullptr; // the wake descriptor
        epoll_ctl(m_epfd, EPOLL_CTL_ADD, m_wakeFd, &ev);
        m_events.resize(256);
    }
    ~EpollLoop() override
    {
        ::close(m_wakeFd);
        ::close(m_epfd);
    }

    bool add(IoWatch& w, quint32 wanted) override
    {
        epoll_event ev{};
        if (w.shared)
            ev.events = EPOLLIN | EPOLLEXCLUSIVE;
        else if (w.inputOnly)
            ev.events = EPOLLIN | EPOLLET;
        else
            ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        ev.data.ptr = &w;
        if (epoll_ctl(m_epfd, EPOLL_CTL_ADD, w.fd, &ev) != 0) {
            // EPOLLEXCLUSIVE needs Linux 4.5; before it every loop is woken, which still works.
            ev.events &= ~quint32(EPOLLEXCLUSIVE);
            if (!w.shared || errno != EINVAL || epoll_ctl(m_epfd, EPOLL_CTL_ADD, w.fd, &ev) != 0)
                return false;
        }
        w.wanted = wanted;
        w.registered = true;
        return true;
    }
    void want(IoWatch& w, quint32 wanted) override { w.wanted = wanted; }
    void remove(IoWatch& w) override
    {
        if (!w.registered)
            return;
        epoll_ctl(m_epfd, EPOLL_CTL_DEL, w.fd, nullptr);
        w.registered = false;
    }
    void run(int timeoutMs) override
    {
        const int n = epoll_wait(m_epfd, m_events.data(), int(m_events.size()), timeoutMs);
        woke();
        for (int i = 0; i < n; ++i) {
            auto* w = static_cast<IoWatch*>(m_events[size_t(i)].data.ptr);
            if (!w) {
                quint64 v; // one read takes the whole count and resets it
                [[maybe_unused]] ssize_t r = ::read(m_wakeFd, &v, sizeof v);
                continue;
            }
            if (!w->registered)
                continue;
            const quint32 e = m_events[size_t(i)].events;
            quint32 bits = 0;
            if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))
                bits |= IoRead;
            if (e & (EPOLLRDHUP | EPOLLHUP))
                bits |= IoHup;
            if (e & EPOLLOUT)
                bits |= IoWrite;
            if (e & (EPOLLERR | EPOLLHUP))
                bits |= IoError | IoRead | IoWrite;
            if (e & EPOLLERR)
                bits |= IoFailed;
            w->handler->onIo(*w, bits);
        }
        if (n == int(m_events.size()) && m_events.size() < 4096)
            m_events.resize(m_events.size() * 2);
    }
    void wake() override
    {
        const quint64 one = 1;
        [[maybe_unused]] ssize_t r = ::write(m_wakeFd, &one, sizeof one);
    }
    const char* name() const override { return "epoll"; }

private:
    int m_epfd = -1;
    int m_wakeFd = -1;
    std::vector<epoll_event> m_events;
};
#endif

// O(watched) per wake-up: kept for platforms without epoll and to test the sessions against a
// second implementation of the contract.
class PollLoop final : public EventLoop
{
public:
    PollLoop()
    {
        if (::pipe(m_wake) == 0) {
            for (int fd : m_wake) {
                ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
                ::fcntl(fd, F_SETFD, FD_CLOEXEC);
            }
        }
        m_fds.push_back(pollfd{m_wake[0], POLLIN, 0});
        m_watches.push_back(nullptr);
    }
    ~PollLoop() override
    {
        ::close(m_wake[0]);
        ::close(m_wake[1]);
    }

    bool add(IoWatch& w, quint32 wanted) override
    {
        w.slot = int(m_fds.size());
        m_fds.push_back(pollfd{w.fd, 0, 0});
        m_watches.push_back(&w);
        w.registered = true;
        // A fresh descriptor may already be readable/writable: report it on the first pass.
        want(w, wanted);
        return true;
    }
    void want(IoWatch& w, quint32 wanted) override
    {
        w.wanted = wanted;
        if (w.slot < 0)
            return;
        short ev = 0;
        if (wanted & IoRead)
            ev |= POLLIN;
        if (wanted & IoWrite)
            ev |= POLLOUT;
        m_fds[size_t(w.slot)].events = ev;
    }
    void remove(IoWatch& w) override
    {
        if (!w.registered)
            return;
        const size_t slot = size_t(w.slot);
        const size_t last = m_fds.size() - 1;
        if (slot != last) {
            m_fds[slot] = m_fds[last];
            m_watches[slot] = m_watches[last];
            m_watches[slot]->slot = int(slot);
        }
        m_fds.pop_back();
        m_watches.pop_back();
        w.slot = -1;
        w.registered = false;
    }
    void run(int timeoutMs) override
    {
        const int n = ::poll(m_fds.data(), nfds_t(m_fds.size()), timeoutMs);
        woke();
        if (n <= 0)
            return;
        // Handlers may add and remove watches while we dispatch: collect first.
        m_ready.clear();
        for (size_t i = 0; i < m_fds.size(); ++i) {
            const short re = m_fds[i].revents;
            if (!re)
                continue;
            if (i == 0) {
                char buf[64];
                while (::read(m_wake[0], buf, sizeof buf) > 0) {
                }
                continue;
            }
            quint32 bits = 0;
            if (re & (POLLIN | POLLHUP))
                bits |= IoRead;
            if (re & POLLHUP)
                bits |= IoHup;
            if (re & POLLOUT)
                bits |= IoWrite;
            if (re & (POLLERR | POLLHUP | POLLNVAL))
                bits |= IoError | IoRead | IoWrite;
            if (re & (POLLERR | POLLNVAL))
                bits |= IoFailed;
            m_ready.push_back({m_watches[i], bits});
        }
        for (const auto& [w, bits] : m_ready) {
            if (w->registered)
                w->handler->onIo(*w, bits);
        }
    }
    void wake() override
    {
        const char c = 1;
        [[maybe_unused]] ssize_t r = ::write(m_wake[1], &c, 1);
    }
    const char* name() const override { return "poll"; }

private:
    int m_wake[2] = {-1, -1};
    std::vector<pollfd> m_fds;
    std::vector<IoWatch*> m_watches;
    std::vector<std::pair<IoWatch*, quint32>> m_ready;
};

} // namespace

EventLoopKind EventLoop::resolve(EventLoopKind kind)
{
    if (kind == EventLoopKind::Default)
        kind = EventLoopKind::Epoll;
#ifndef Q_OS_LINUX
    kind = EventLoopKind::Poll;
#endif
    return kind;
}

std::unique_ptr<EventLoop> EventLoop::create(EventLoopKind kind)
{
#ifdef Q_OS_LINUX
    if (resolve(kind) == EventLoopKind::Epoll)
        return std::make_unique<EpollLoop>();
#else
    Q_UNUSED(kind);
#endif
    return std::make_unique<PollLoop>();
}

} // namespace sg
