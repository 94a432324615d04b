#include "proxy/engine.h"

#include "proxy/admission.h"
#include "proxy/healthchecker.h"
#include "proxy/routetable.h"
#include "proxy/tcplisteners.h"
#include "proxy/toxics/toxicboard.h"
#include "proxy/toxics/toxicfilter.h"
#include "proxy/udplistener.h"
#include "proxy/worker.h"
#include "stats/statshub.h"

#include <QSet>
#include <QThread>
#include <QTimer>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <functional>
#include <mutex>
#include <sys/resource.h>

namespace sg {

namespace {

void raiseDescriptorLimit()
{
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
}

} // namespace

// EngineThread is a member of Engine::Parts, so it has external linkage like Parts itself.
class EngineThread;

// Receives the wake-ups of EngineThread::run() on the engine thread.
class EngineThreadWaker final : public QObject
{
    Q_OBJECT

public:
    explicit EngineThreadWaker(EngineThread* owner) : m_owner(owner) {}

public Q_SLOTS:
    void runCalls();

private:
    EngineThread* const m_owner;
};

// The engine thread: the listener sets, the route table build and the health checks live there.
// run() hands it a call and returns once it has finished. The queue, not a Qt event, carries the
// work and the result, under a std::mutex and condition variable that ThreadSanitizer sees; a
// blocking queued invokeMethod waits on a futex it cannot see.
class EngineThread
{
public:
    EngineThread()
    {
        m_thread.setObjectName(QStringLiteral("streamgate-engine"));
        m_waker = new EngineThreadWaker(this);
        m_waker->moveToThread(&m_thread);
        m_thread.start();
    }
    ~EngineThread()
    {
        EngineThreadWaker* waker = m_waker;
        run([waker] { delete waker; });
        m_thread.quit();
        m_thread.wait();
    }
    Q_DISABLE_COPY_MOVE(EngineThread)

    void run(const std::function<void()>& fn)
    {
        if (QThread::currentThread() == &m_thread) {
            fn();
            return;
        }
        PendingCall call{&fn};
        std::unique_lock lock(m_mutex);
        m_calls.push_back(&call);
        // Only a wake-up: the slot takes the work from m_calls. By name, so the queued event
        // holds nothing of ours for the engine thread to read outside the mutex.
        QMetaObject::invokeMethod(m_waker, "runCalls", Qt::QueuedConnection);
        m_done.wait(lock, [&call] { return call.done; });
    }

    // On the engine thread: runs every queued call. Touches only this object, so a call may
    // delete the waker that received the wake-up.
    void runCalls()
    {
        std::unique_lock lock(m_mutex);
        while (!m_calls.empty()) {
            PendingCall* call = m_calls.front();
            m_calls.pop_front();
            lock.unlock();
            (*call->fn)();
            lock.lock();
            call->done = true;
            m_done.notify_all();
        }
    }

private:
    struct PendingCall
    {
        const std::function<void()>* fn;
        bool done = false;
    };
    QThread m_thread;
    EngineThreadWaker* m_waker = nullptr;
    std::mutex m_mutex;
    std::condition_variable m_done;
    std::deque<PendingCall*> m_calls;
};

void EngineThreadWaker::runCalls()
{
    m_owner->runCalls();
}

struct Engine::Parts
{
    explicit Parts(const EngineOptions& given)
        : options(given.resolved()), hub(options.closedHistory, options.eventHistory)
    {
    }

    const EngineOptions options; // resolved: environment overrides applied
    StatsHub hub;
    DescriptorBudget descriptors; // see worker.h
    std::vector<std::unique_ptr<Worker>> workers;
    AdmissionPipeline admission;
    std::atomic<bool> stopped{false};
    EngineThread engineThread;
    // Engine thread only; made and destroyed there.
    std::shared_ptr<const RouteTable> table = std::make_shared<RouteTable>();
    std::unique_ptr<TcpListeners> tcp;
    std::unique_ptr<UdpListeners> udp;
    std::unique_ptr<HealthChecker> health;
    ToxicBoard toxics; // streamgate.toxics, read by the sessions' toxic filters
};

Engine::Engine(const EngineOptions& options, QObject* parent) : QObject(parent)
{
    std::signal(SIGPIPE, SIG_IGN);
    raiseDescriptorLimit();
    m = std::make_unique<Parts>(options);
    m->descriptors.init();
    const EngineOptions& o = m->options;
    std::vector<FilterProvider> providers = o.filterProviders;
    // Toxics: only the sessions of routes listed under streamgate.toxics carry the filter.
    providers.push_back(
        [board = &m->toxics](const std::shared_ptr<ConnectionRecord>& record, SessionFilters& out) {
            if (board->empty())
                return;
            if (std::shared_ptr<RouteToxics> route = board->route(record->base.routeId))
                addToxicFilters(std::move(route), out);
        });
    for (int i = 0; i < o.workers; ++i) {
        m->workers.push_back(std::make_unique<Worker>(i, o.eventLoopKind(), o.bufferSize,
                                                      o.burstBufferSize, o.splice, m->hub,
                                                      m->descriptors));
        m->workers.back()->setFilterProviders(providers);
        m->workers.back()->start();
    }

    // The notifier runs under the hub's lock on any thread: it only queues, and this thread
    // coalesces for 100 ms. A queued signal, not a queued functor: the slot object is made here,
    // so no memory written on a worker is read on this thread through Qt's own event queue.
    connect(
        this, &Engine::eventNoticeQueued, this,
        [this] {
            QTimer::singleShot(100, this, [this] {
                m->hub.takeEventNotice();
                Q_EMIT eventsAvailable();
            });
        },
        Qt::QueuedConnection);
    m->hub.setEventNotifier([this] { Q_EMIT eventNoticeQueued(QPrivateSignal()); });

    Parts* p = m.get();
    p->engineThread.run([p] {
        p->tcp = std::make_unique<TcpListeners>(p->hub, p->workers, p->descriptors, p->admission);
        // UDP: listeners and sessions live in udplistener/udpsession; the engine only feeds them.
        auto context = std::make_shared<UdpContext>();
        context->hub = &p->hub;
        context->admission = &p->admission;
        context->defaultIdleSeconds = p->options.defaultUdpIdleTimeout;
        context->noReplySeconds = p->options.udpNoReplyTimeout;
        p->udp = std::make_unique<UdpListeners>(p->hub, p->workers, std::move(context));
        p->health = std::make_unique<HealthChecker>();
        QObject::connect(p->health.get(), &HealthChecker::nodeHealthChanged, p->health.get(),
                         [p](const QString& upstream, const QString& node, bool healthy) {
                             p->hub.addEvent(
                                 healthy ? EventKind::NodeUp : EventKind::NodeDown, QString(),
                                 QStringLiteral("node %1 of upstream %2 is %3")
                                     .arg(node, upstream,
                                          healthy ? QStringLiteral("up") : QStringLiteral("down")));
                         });
    });
}

Engine::~Engine()
{
    stop(0);
    m->hub.setEventNotifier({});
    for (auto& w : m->workers)
        w->stop();
    Parts* p = m.get();
    p->engineThread.run([p] {
        p->health.reset();
        p->tcp.reset();
        p->udp.reset();
        p->table.reset();
    });
}

void Engine::apply(const Config& config)
{
    m->engineThread.run([this, &config] { applyOnEngineThread(config); });
}

void Engine::applyOnEngineThread(const Config& config)
{
    const bool open = !m->stopped.load();
    auto table = buildRouteTable(config, *m->table, m->hub, m->options);
    m->table = table;
    m->tcp->apply(config.streamProxy.tcp, table, open);
    // Health checks follow the upstreams in use; a rebuilt Balancer gets the known health.
    QStringList keys;
    for (auto it = table->upstreams.cbegin(); it != table->upstreams.cend(); ++it) {
        keys << it.key();
        m->health->watch(it.key(), it.value()->upstream, it.value()->balancer);
    }
    m->health->retainOnly(keys);
    m->udp->apply(config.streamProxy.udp, table, open);
    const QStringList toxicsChanged = m->toxics.apply(config.streamgate.toxicMap());
    if (!toxicsChanged.isEmpty()) {
        for (auto& w : m->workers)
            w->post([toxicsChanged](Worker& worker) { worker.wakeRoutes(toxicsChanged); });
    }
    publishTopology();
}

// On the engine thread.
void Engine::publishTopology()
{
    QStringList routeIds;
    QList<StatsHub::NodeEntry> nodes;
    QSet<QString> seenUpstreams;
    for (const auto& r : m->table->routes) {
        routeIds << r->id;
        const auto up = r->upstream;
        if (!up || seenUpstreams.contains(up->key))
            continue;
        seenUpstreams.insert(up->key);
        for (int i = 0; i < int(up->nodes.size()); ++i) {
            StatsHub::NodeEntry n;
            n.upstream = up->key;
            n.node = up->nodes[size_t(i)].text;
            n.stats = up->nodes[size_t(i)].stats;
            std::weak_ptr<Balancer> b = up->balancer;
            n.healthy = [b, i] {
                const auto bal = b.lock();
                return bal ? bal->isHealthy(i) : true;
            };
            n.checked = up->upstream.checks.has_value();
            nodes << n;
        }
    }
    const bool stopped = m->stopped.load();
    QList<StatsHub::ListenerEntry> listeners = m->tcp->topology(stopped);
    listeners += m->udp->topology(stopped);
    m->hub.setTopology(routeIds, listeners, nodes);
}

Snapshot Engine::snapshot() const
{
    return m->hub.snapshot();
}

QList<Event> Engine::eventsSince(qint64 seq, int max) const
{
    return m->hub.eventsSince(seq, max);
}

bool Engine::killConnection(quint64 id)
{
    const auto record = m->hub.find(id);
    if (!record || record->worker < 0 || record->worker >= int(m->workers.size()))
        return false;
    m->workers[size_t(record->worker)]->post([id](Worker& w) {
        if (WorkerSession* s = w.session(id))
            s->close(CloseReason::Killed);
    });
    return true;
}

int Engine::killRoute(const QString& routeId)
{
    int count = 0;
    for (const auto& r : m->hub.openRecords()) {
        if (r->base.routeId == routeId && killConnection(r->base.id))
            ++count;
    }
    return count;
}

void Engine::setRouteDrained(const QString& routeId, bool drained)
{
    m->admission.setDrained(routeId, drained);
}

void Engine::stop(int graceMs)
{
    if (!m->stopped.exchange(true)) {
        m->engineThread.run([this] {
            m->health->retainOnly({});
            m->tcp->closeAll();
            m->udp->closeAll();
            publishTopology();
        });
    }
    const qint64 deadline = Worker::monotonicMs() + qMax(0, graceMs);
    while (m->hub.openCount() > 0 && Worker::monotonicMs() < deadline)
        QThread::msleep(5);
    if (m->hub.openCount() == 0)
        return;
    for (auto& w : m->workers)
        w->post([](Worker& wk) { wk.closeAll(CloseReason::Shutdown); });
    const qint64 hardDeadline = Worker::monotonicMs() + 2000;
    while (m->hub.openCount() > 0 && Worker::monotonicMs() < hardDeadline)
        QThread::msleep(2);
}

} // namespace sg

#include "engine.moc"
