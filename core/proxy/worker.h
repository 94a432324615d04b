#pragma once
// A Worker is one relay thread running its own EventLoop (not Qt's dispatcher). Every session
// lives on exactly one worker and is touched only by that thread; other threads talk to it
// through post() (a command queue woken by the loop's wake descriptor).
//
// Adding a session type (e.g. UDP): derive from WorkerSession, register IoWatch members with
// loop(), arm timers with schedule(); onTimer() gets the tag back. A timer entry refers to the
// session by id, so a session that has gone simply never hears from it; sessions that re-arm
// keep a generation in the tag and ignore stale ones. close(reason) must end in retire().

#include "proxy/eventloop.h"
#include "proxy/relayfilter.h"
#include "stats/snapshot.h"

#include <QMutex>
#include <atomic>
#include <cerrno>
#include <functional>
#include <limits>
#include <memory>
#include <thread>
#include <unistd.h>
#include <unordered_map>
#include <vector>

namespace sg {

class ConnectionRecord;
class RouteToxics;
class StatsHub;
class Worker;

class WorkerSession
{
public:
    explicit WorkerSession(Worker& worker, quint64 id) : m_worker(worker), m_id(id) {}
    virtual ~WorkerSession() = default;
    quint64 id() const { return m_id; }
    virtual void onTimer(quint32 tag) = 0;
    // Ends the session now (kill, shutdown); must call Worker::retire(this) exactly once.
    virtual void close(CloseReason reason) = 0;
    virtual QString routeId() const = 0;
    // Called after requeue(): the session stopped early to let others run and has work left.
    virtual void resume() {}
    // Something its filters read changed (Worker::wakeRoutes): they get to act on it now.
    virtual void wake() {}
    // The operator holds the session (Engine::pauseConnection): nothing is read from either
    // peer for `ms` from now, or until an earlier pause ends if that is later. unpause() ends
    // the pause now. Sessions that cannot pause ignore both.
    virtual void pause(qint64 ms) { Q_UNUSED(ms); }
    virtual void unpause() {}

protected:
    Worker& m_worker;
    const quint64 m_id;
};

// Per-worker pool of kernel pipes (splice relay) and byte buffers (copy relay), so idle
// sessions hold neither: a direction takes one only while it has bytes in flight. Pooled pipes
// have the buffer size; growPipe() enlarges one for a bulk transfer (up to the burst size),
// and givePipe() shrinks it back before pooling it.
struct RelayPipe
{
    int readFd = -1;
    int writeFd = -1;
    int size = 0; // kernel capacity in bytes as last set
};

// The open-descriptor limit in force (RLIMIT_NOFILE), for messages a user can act on.
QString descriptorLimitText();

// The proxy's share of the process's descriptors, shared by the engine's listeners and workers.
// Client, upstream and relay-pipe descriptors numbered at or above `ceiling` are closed again at
// once and count as EMFILE, so the top of the RLIMIT_NOFILE range stays free for the rest of the
// process (admin API, metrics, config saves, health checks, and sanitizer runtimes, whose vptr
// check opens a pipe) while clients exhaust the proxy. Descriptors are numbered lowest-first: a
// number at the ceiling means every number below it is taken.
struct DescriptorBudget
{
    int ceiling = std::numeric_limits<int>::max();
    std::atomic<bool> exhausted{false}; // an exhaustion episode is under way (reported once)

    void init(); // from the soft RLIMIT_NOFILE in force
    bool fits(int fd) const { return fd < ceiling; }
    // fd itself, or -1 with errno EMFILE (fd closed) when it lies beyond the ceiling.
    int admit(int fd) const
    {
        if (fd >= ceiling) [[unlikely]] {
            ::close(fd);
            errno = EMFILE;
            return -1;
        }
        return fd;
    }
};

class Worker
{
public:
    // bufferSize: what each direction of a session may hold; burstSize (>= bufferSize): what a
    // direction that keeps filling its pipe may grow to while its destination keeps up.
    Worker(int index, EventLoopKind kind, int bufferSize, int burstSize, bool splice, StatsHub& hub,
           DescriptorBudget& descriptors);
    ~Worker(); // joins

    void start();
    void stop(); // closes every session (Shutdown) and joins

    // Runs fn on the worker thread (FIFO).
    void post(std::function<void(Worker&)> fn);

    int index() const { return m_index; }
    EventLoop& loop() { return *m_loop; }
    StatsHub& hub() { return m_hub; }
    int bufferSize() const { return m_bufferSize; }
    int burstSize() const { return m_burstSize; }
    bool useSplice() const { return m_splice; }
    qint64 monoMs() const { return m_monoMs; } // cached per loop pass
    qint64 wallMs() const { return m_wallMs; }
    // Sessions this worker runs, and those handed to it that it has not adopted yet
    // (expectSession()): what new sessions are balanced by.
    int sessionCount() const { return m_sessionCount.load(std::memory_order_relaxed); }
    void expectSession() { m_sessionCount.fetch_add(1, std::memory_order_relaxed); }

    // expected: announced with expectSession() before it was posted here.
    void adopt(std::unique_ptr<WorkerSession> session, bool expected = false);
    WorkerSession* session(quint64 id) const;
    void retire(WorkerSession* session); // destroyed after the current loop pass
    void schedule(qint64 atMonoMs, quint64 sessionId, quint32 tag);
    // Timer entries held now, including those of sessions that have ended and not yet fired.
    size_t pendingTimers() const { return m_timers.size(); }
    // Runs session->resume() on the next loop pass without waiting for readiness reports (an
    // edge-triggered source that still has data would not report again).
    void requeue(quint64 sessionId) { m_again.push_back(sessionId); }
    void closeAll(CloseReason reason);
    int closeRoute(const QString& routeId, CloseReason reason);
    // Wakes every session of these routes (WorkerSession::wake()).
    void wakeRoutes(const QStringList& routeIds);
    // A session was paused until untilMonoMs (0: it resumed): the record shows it and the
    // event log says so.
    void notePause(ConnectionRecord& record, qint64 untilMonoMs);

    const DescriptorBudget& descriptors() const { return m_descriptors; }
    // What new TCP sessions ask for their relay filters; set before start(), then read only.
    void setFilterProviders(std::vector<FilterProvider> providers)
    {
        m_filterProviders = std::move(providers);
    }
    const std::vector<FilterProvider>& filterProviders() const { return m_filterProviders; }
    // The toxics of a route (proxy/toxics/toxicboard.h), or null when it is not listed under
    // streamgate.toxics: a TCP session adds the toxic filters when there are some, and its
    // MySQL filter takes the query toxics from the same list. A session that found none asks
    // again when its route's toxics change (wakeRoutes), so a toxic added to a route listed
    // only now still reaches the connections already open (its byte toxics; query toxics reach
    // the MySQL connections that log in after).
    using ToxicLookup = std::function<std::shared_ptr<RouteToxics>(const QString& routeId)>;
    void setToxicLookup(ToxicLookup lookup) { m_toxicLookup = std::move(lookup); }
    std::shared_ptr<RouteToxics> routeToxics(const QString& routeId) const
    {
        return m_toxicLookup ? m_toxicLookup(routeId) : nullptr;
    }
    // A session could not open a descriptor (EMFILE/ENFILE): the first failure of an episode
    // is reported as an event (once for the engine); descriptorOpened() after a socket() that
    // worked ends it.
    void descriptorFailed(int error);
    void descriptorOpened()
    {
        if (m_descriptors.exhausted.load(std::memory_order_relaxed)) [[unlikely]]
            descriptorsBack();
    }

    bool takePipe(RelayPipe& pipe);
    void givePipe(RelayPipe pipe, bool empty);
    // Sets the pipe's capacity to at least size bytes; false (pipe unchanged) when the kernel
    // refuses, e.g. beyond the user's pipe page limit.
    bool growPipe(RelayPipe& pipe, int size);
    char* takeBuffer();
    void giveBuffer(char* buffer);

    static qint64 monotonicMs();
    static qint64 monotonicUs(); // the same clock in microseconds (protocol readers' timings)

private:
    void run();
    void runCommands();
    void runTimers();
    void runAgain();
    void refreshClock();
    int nextTimeout() const;
    void dropEndedTimers();
    void descriptorsBack();

    struct Timer
    {
        qint64 at;
        quint64 session;
        quint32 tag;
        bool operator>(const Timer& o) const { return at > o.at; }
    };

    const int m_index;
    const int m_bufferSize;
    const int m_burstSize;
    const bool m_splice;
    StatsHub& m_hub;
    std::unique_ptr<EventLoop> m_loop;
    std::thread m_thread;
    std::atomic<bool> m_quit{false};

    mutable QMutex m_commandMutex;
    std::vector<std::function<void(Worker&)>> m_commands;
    std::vector<std::function<void(Worker&)>> m_running;

    std::unordered_map<quint64, std::unique_ptr<WorkerSession>> m_sessions;
    std::vector<std::unique_ptr<WorkerSession>> m_retired;
    std::atomic<int> m_sessionCount{0};
    std::vector<quint64> m_again;
    std::vector<quint64> m_againRunning;
    // Min-heap (std::push_heap with std::greater). A session that ends leaves its timers
    // behind (a 600 s idle timer outlives a 50 ms session); dropEndedTimers() removes them once
    // the heap has doubled since the last sweep, so it follows the sessions open, not the
    // sessions served.
    std::vector<Timer> m_timers;
    size_t m_timerSweepAt = 0;
    qint64 m_monoMs = 0;
    qint64 m_wallMs = 0;

    std::vector<RelayPipe> m_pipes;
    int m_pipeBaseSize = 0;
    std::vector<char*> m_buffers;
    DescriptorBudget& m_descriptors;
    std::vector<FilterProvider> m_filterProviders;
    ToxicLookup m_toxicLookup;
};

} // namespace sg
