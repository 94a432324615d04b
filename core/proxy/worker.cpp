#include "proxy/worker.h"

#include "stats/statshub.h"

#include <QMutexLocker>
#include <algorithm>
#include <cerrno>
#include <ctime>
#include <fcntl.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

namespace sg {

namespace {
// Pooled idle resources per worker; beyond this they are released to the system.
constexpr size_t kPipePoolCap = 128;
constexpr size_t kBufferPoolCap = 64;
// Timer heaps smaller than this are never swept.
constexpr size_t kTimerSweepMin = 1024;
} // namespace

QString descriptorLimitText()
{
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return QStringLiteral("no limit set");
    return QString::number(quint64(rl.rlim_cur));
}

void DescriptorBudget::init()
{
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
        rl.rlim_cur > rlim_t(std::numeric_limits<int>::max()))
        return;
    const int limit = int(rl.rlim_cur);
    ceiling = limit - qBound(2, limit / 8, 16);
}

Worker::Worker(int index, EventLoopKind kind, int bufferSize, int burstSize, bool splice,
               StatsHub& hub, DescriptorBudget& descriptors)
    : m_index(index), m_bufferSize(bufferSize), m_burstSize(qMax(bufferSize, burstSize)),
      m_splice(splice), m_hub(hub), m_loop(EventLoop::create(kind)), m_descriptors(descriptors)
{
    refreshClock();
    m_loop->setWakeHandler([this] { refreshClock(); });
}

Worker::~Worker()
{
    stop();
    for (const RelayPipe& p : m_pipes) {
        ::close(p.readFd);
        ::close(p.writeFd);
    }
    for (char* b : m_buffers)
        delete[] b;
}

void Worker::start()
{
    m_thread = std::thread([this] { run(); });
}

void Worker::stop()
{
    if (!m_thread.joinable())
        return;
    post([](Worker& w) {
        w.closeAll(CloseReason::Shutdown);
        w.m_quit.store(true);
    });
    m_thread.join();
}

void Worker::post(std::function<void(Worker&)> fn)
{
    bool first;
    {
        QMutexLocker lock(&m_commandMutex);
        first = m_commands.empty();
        m_commands.push_back(std::move(fn));
    }
    if (first)
        m_loop->wake();
}

qint64 Worker::monotonicMs()
{
    return monotonicUs() / 1000;
}

qint64 Worker::monotonicUs()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return qint64(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

void Worker::refreshClock()
{
    m_monoMs = monotonicMs();
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    m_wallMs = qint64(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void Worker::run()
{
#ifdef __linux__
    // Seen in top -H, perf and debuggers (at most 15 characters; workers number at most 256).
    const QByteArray name = "sg-worker-" + QByteArray::number(m_index);
    ::pthread_setname_np(::pthread_self(), name.constData());
#endif
    while (!m_quit.load()) {
        m_loop->run(nextTimeout()); // refreshes the clock on waking, see the constructor
        runCommands();
        runTimers();
        runAgain();
        m_retired.clear();
    }
    m_retired.clear();
}

void Worker::runCommands()
{
    {
        QMutexLocker lock(&m_commandMutex);
        m_running.swap(m_commands);
    }
    for (auto& fn : m_running)
        fn(*this);
    m_running.clear();
}

void Worker::runTimers()
{
    while (!m_timers.empty() && m_timers.front().at <= m_monoMs) {
        std::pop_heap(m_timers.begin(), m_timers.end(), std::greater<Timer>());
        const Timer t = m_timers.back();
        m_timers.pop_back();
        auto it = m_sessions.find(t.session);
        if (it != m_sessions.end())
            it->second->onTimer(t.tag);
    }
}

void Worker::runAgain()
{
    m_againRunning.swap(m_again);
    for (quint64 id : m_againRunning) {
        auto it = m_sessions.find(id);
        if (it != m_sessions.end())
            it->second->resume();
    }
    m_againRunning.clear();
}

int Worker::nextTimeout() const
{
    if (!m_again.empty())
        return 0;
    {
        QMutexLocker lock(&m_commandMutex);
        if (!m_commands.empty())
            return 0;
    }
    if (m_timers.empty())
        return -1;
    const qint64 d = m_timers.front().at - monotonicMs();
    return d <= 0 ? 0 : int(qMin<qint64>(d, 60000));
}

void Worker::adopt(std::unique_ptr<WorkerSession> session, bool expected)
{
    const quint64 id = session->id();
    m_sessions.emplace(id, std::move(session));
    if (!expected)
        m_sessionCount.fetch_add(1, std::memory_order_relaxed);
}

WorkerSession* Worker::session(quint64 id) const
{
    auto it = m_sessions.find(id);
    return it == m_sessions.end() ? nullptr : it->second.get();
}

void Worker::retire(WorkerSession* session)
{
    auto it = m_sessions.find(session->id());
    if (it == m_sessions.end())
        return;
    // Destroyed after the loop pass: reports for its watches in the same batch are dropped
    // because the watches are unregistered, but the memory must stay valid until then.
    m_retired.push_back(std::move(it->second));
    m_sessions.erase(it);
    m_sessionCount.fetch_sub(1, std::memory_order_relaxed);
}

void Worker::schedule(qint64 atMonoMs, quint64 sessionId, quint32 tag)
{
    if (m_timers.size() >= qMax(m_timerSweepAt, kTimerSweepMin))
        dropEndedTimers();
    m_timers.push_back(Timer{atMonoMs, sessionId, tag});
    std::push_heap(m_timers.begin(), m_timers.end(), std::greater<Timer>());
}

void Worker::dropEndedTimers()
{
    // O(n) once per doubling, so O(1) per schedule() on average.
    std::erase_if(m_timers, [this](const Timer& t) { return !m_sessions.contains(t.session); });
    std::make_heap(m_timers.begin(), m_timers.end(), std::greater<Timer>());
    m_timerSweepAt = 2 * m_timers.size();
    // Give back what a burst of ended sessions needed, keeping room to grow to the next sweep.
    if (m_timers.capacity() > 2 * qMax(m_timerSweepAt, kTimerSweepMin))
        m_timers.shrink_to_fit();
}

void Worker::closeAll(CloseReason reason)
{
    std::vector<WorkerSession*> all;
    all.reserve(m_sessions.size());
    for (auto& [id, s] : m_sessions)
        all.push_back(s.get());
    for (WorkerSession* s : all)
        s->close(reason);
}

int Worker::closeRoute(const QString& routeId, CloseReason reason)
{
    std::vector<WorkerSession*> matching;
    for (auto& [id, s] : m_sessions) {
        if (s->routeId() == routeId)
            matching.push_back(s.get());
    }
    for (WorkerSession* s : matching)
        s->close(reason);
    return int(matching.size());
}

void Worker::wakeRoutes(const QStringList& routeIds)
{
    std::vector<quint64> matching;
    for (auto& [id, s] : m_sessions) {
        if (routeIds.contains(s->routeId()))
            matching.push_back(id);
    }
    // By id: a session woken may end, and with it others of its route are not touched.
    for (quint64 id : matching) {
        if (WorkerSession* s = session(id))
            s->wake();
    }
}

void Worker::notePause(ConnectionRecord& record, qint64 untilMonoMs)
{
    const ConnectionInfo& c = record.base;
    const QString who = QStringLiteral("connection %1 from %2:%3")
                            .arg(c.id)
                            .arg(c.clientAddress.toString())
                            .arg(c.clientPort);
    const bool paused = untilMonoMs > 0;
    const qint64 untilWallMs = paused ? m_wallMs + (untilMonoMs - m_monoMs) : 0;
    record.pausedUntilMs.store(untilWallMs, std::memory_order_relaxed);
    const QString text =
        paused ? QStringLiteral("%1 paused by the operator for %2 ms: nothing is read from "
                                "either peer until then")
                     .arg(who)
                     .arg(untilMonoMs - m_monoMs)
               : QStringLiteral("%1 resumed").arg(who);
    m_hub.addEvent(EventKind::Info, c.routeId, text, record.info());
}

void Worker::descriptorFailed(int error)
{
    // The idle pipes kept for reuse hold descriptors too: give them back.
    for (const RelayPipe& p : m_pipes) {
        ::close(p.readFd);
        ::close(p.writeFd);
    }
    m_pipes.clear();
    if (m_descriptors.exhausted.exchange(true))
        return; // already reported
    const QString what =
        error == EMFILE ? QStringLiteral("descriptor limit reached (%1)").arg(descriptorLimitText())
                        : QStringLiteral("the system's descriptor limit is reached");
    m_hub.addEvent(EventKind::ListenerError, QString(),
                   what + QStringLiteral(": upstream connections cannot be opened, new "
                                         "connections refused"));
}

void Worker::descriptorsBack()
{
    if (!m_descriptors.exhausted.exchange(false))
        return;
    m_hub.addEvent(EventKind::ListenerUp, QString(),
                   QStringLiteral("descriptors available again: upstream connections open"));
}

bool Worker::takePipe(RelayPipe& pipe)
{
    if (!m_pipes.empty()) {
        pipe = m_pipes.back();
        m_pipes.pop_back();
        return true;
    }
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
        return false;
    if (!m_descriptors.fits(qMax(fds[0], fds[1]))) {
        ::close(fds[0]);
        ::close(fds[1]);
        return false; // the direction relays through a buffer instead
    }
    pipe = RelayPipe{fds[0], fds[1], 0};
    // The pipe is the direction's buffer; the session never splices more into it than its own
    // cap, the kernel capacity only has to be at least that.
#ifdef F_SETPIPE_SZ
    pipe.size = ::fcntl(fds[1], F_SETPIPE_SZ, m_bufferSize);
    if (pipe.size < 0)
        pipe.size = ::fcntl(fds[1], F_GETPIPE_SZ);
#endif
    if (pipe.size <= 0)
        pipe.size = m_bufferSize;
    m_pipeBaseSize = qMax(m_pipeBaseSize, pipe.size); // the buffer size, rounded by the kernel
    return true;
}

bool Worker::growPipe(RelayPipe& pipe, int size)
{
#ifdef F_SETPIPE_SZ
    const int got = ::fcntl(pipe.writeFd, F_SETPIPE_SZ, size);
    if (got < 0)
        return false;
    pipe.size = got;
    return true;
#else
    Q_UNUSED(pipe);
    Q_UNUSED(size);
    return false;
#endif
}

void Worker::givePipe(RelayPipe pipe, bool empty)
{
    if (pipe.readFd < 0)
        return;
    if (empty && m_pipes.size() < kPipePoolCap) {
        // A grown pipe goes back to the buffer size: the pool holds only small pipes, and the
        // kernel counts every pipe's capacity against the user's pipe page limit.
        bool small = true;
#ifdef F_SETPIPE_SZ
        if (pipe.size > m_pipeBaseSize) {
            const int got = ::fcntl(pipe.writeFd, F_SETPIPE_SZ, m_bufferSize);
            if (got > 0)
                pipe.size = got;
            small = got > 0 && got <= m_pipeBaseSize;
        }
#endif
        if (small) {
            m_pipes.push_back(pipe);
            return;
        }
    }
    ::close(pipe.readFd);
    ::close(pipe.writeFd);
}

char* Worker::takeBuffer()
{
    if (!m_buffers.empty()) {
        char* b = m_buffers.back();
        m_buffers.pop_back();
        return b;
    }
    return new char[size_t(m_bufferSize)];
}

void Worker::giveBuffer(char* buffer)
{
    if (!buffer)
        return;
    if (m_buffers.size() < kBufferPoolCap)
        m_buffers.push_back(buffer);
    else
        delete[] buffer;
}

} // namespace sg
