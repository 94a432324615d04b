#pragma once
// EventLoop is a worker's readiness loop: O(1) per event with epoll on Linux, and a poll()-based
// fallback with the same contract for other platforms (and for tests). Single-threaded: only
// wake() may be called from another thread.
//
// Contract (edge style, so epoll never needs an epoll_ctl per state change): a watch reports
// readiness bits; the owner keeps its own "readable"/"writable" flags, sets them on a report,
// clears one only when an operation returns EAGAIN, and then calls want() with the bits it is
// blocked on. epoll ignores want() (the fd is registered edge-triggered for both directions);
// the poll() backend polls exactly the wanted bits. IoError is always reported (a hang-up or a
// socket error); IoFailed marks the error alone (EPOLLERR, POLLERR: SO_ERROR holds a reason), so
// a socket both of whose directions simply ended needs no getsockopt. IoHup comes with IoRead
// when the peer's FIN (or a hang-up) is already queued: a reader that stops before EAGAIN after
// a short read must keep reading once it has seen IoHup, as no further report will come.

#include <QtGlobal>
#include <functional>
#include <memory>
#include <vector>

namespace sg {

enum IoBits : quint32 { IoRead = 1, IoWrite = 2, IoError = 4, IoHup = 8, IoFailed = 16 };

class IoHandler;

// One registered descriptor. Owned by its handler (usually a member of a session); the
// handler must remove() it before closing fd or destroying it.
struct IoWatch
{
    int fd = -1;
    IoHandler* handler = nullptr;
    int tag = 0;             // the handler's own label (e.g. client / upstream side)
    quint32 wanted = 0;      // last want() (poll backend)
    int slot = -1;           // poll backend index
    bool registered = false; // false once removed: later reports in the same batch are dropped
    // epoll: register for input only. For datagram sockets, where a send never waits, write
    // space reports would only wake the loop once per datagram sent.
    bool inputOnly = false;
    // A listening socket that the loops of several workers watch: level-triggered and input
    // only, and epoll wakes just one of the waiting loops per new connection (EPOLLEXCLUSIVE).
    bool shared = false;
};

class IoHandler
{
public:
    virtual void onIo(IoWatch& watch, quint32 bits) = 0;

protected:
    ~IoHandler() = default;
};

enum class EventLoopKind { Default, Epoll, Poll };

class EventLoop
{
public:
    // Default: epoll where available (EngineOptions::resolved() reads STREAMGATE_EVENT_LOOP).
    static std::unique_ptr<EventLoop> create(EventLoopKind kind);
    static EventLoopKind resolve(EventLoopKind kind);
    virtual ~EventLoop() = default;

    virtual bool add(IoWatch& watch, quint32 wanted) = 0;
    virtual void want(IoWatch& watch, quint32 wanted) = 0;
    virtual void remove(IoWatch& watch) = 0;
    // Waits up to timeoutMs (-1: no limit) and dispatches every ready watch once.
    virtual void run(int timeoutMs) = 0;
    // Called by run() when the wait returns, before any watch is dispatched: the owner's
    // clock is refreshed there, so handlers never see the time from before the sleep.
    void setWakeHandler(std::function<void()> handler) { m_onWake = std::move(handler); }
    // Interrupts run() from any thread.
    virtual void wake() = 0;
    virtual const char* name() const = 0;

protected:
    void woke()
    {
        if (m_onWake)
            m_onWake();
    }

private:
    std::function<void()> m_onWake;
};

} // namespace sg
