#include "proxy/engine.h"

#include "proxy/addressmatch.h"
#include "proxy/admission.h"
#include "proxy/healthchecker.h"
#include "proxy/routetable.h"
#include "proxy/sockaddr.h"
#include "proxy/tcplisteners.h"
#include "proxy/toxics/toxicboard.h"
#include "proxy/toxics/toxicfilter.h"
#include "proxy/udplistener.h"
#include "proxy/upstreamprober.h"
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
    std::unique_ptr<UpstreamProber> prober; // the nodes health checks do not watch
    ToxicBoard toxics; // streamgate.toxics, read by the sessions' toxic filters

    // Why the checker changed a node's state, from the kind of result it counted last:
    // " (2 failed connects)", " (5 HTTP failures)", " (3 timeouts)", " (2 successful checks)".
    QString healthCause(const QString& upstream, const QString& node) const
    {
        const auto state = health->nodeState(upstream, node);
        const auto count = [](int n, const char* what) {
            return n <= 0 ? QString()
                          : QStringLiteral(" (%1 %2%3)")
                                .arg(n)
                                .arg(QLatin1String(what), n == 1 ? QString() : QStringLiteral("s"));
        };
        if (!state)
            return QString();
        switch (state->last) {
        case HealthChecker::Result::TcpFailure:
            return count(state->tcpFailures, "failed connect");
        case HealthChecker::Result::HttpFailure:
            return count(state->httpFailures, "HTTP failure");
        case HealthChecker::Result::Timeout:
            return count(state->timeouts, "timeout");
        case HealthChecker::Result::Success:
            return count(state->successes, "successful check");
        }
        return QString();
    }

    // The checker's view of a node into its stats, where snapshots read it (engine thread).
    void publishHealth(const QString& upstream, const QString& node)
    {
        const auto state = health->nodeState(upstream, node);
        if (!state)
            return;
        const auto stats = hub.nodeStats(upstream, node);
        stats->health.store(state->health);
        stats->checkSuccesses.store(quint32(state->successes));
        stats->checkTcpFailures.store(quint32(state->tcpFailures));
        stats->checkHttpFailures.store(quint32(state->httpFailures));
        stats->checkTimeouts.store(quint32(state->timeouts));
        // The check's state is the node's reachability: it is not probed a second time.
        QString cause = healthCause(upstream, node).trimmed();
        if (cause.startsWith(QLatin1Char('(')) && cause.endsWith(QLatin1Char(')')))
            cause = cause.mid(1, cause.size() - 2);
        stats->setReach(state->healthy() ? NodeReach::Answering : NodeReach::NotAnswering,
                        state->healthy()  ? QString()
                        : cause.isEmpty() ? QStringLiteral("health check: unhealthy")
                                          : QStringLiteral("health check: ") + cause);
    }

    // The route an upstream key belongs to, for the event log: "route:<id>" (and its
    // traffic-split upstreams); empty for a shared upstream or a service's.
    static QString routeOfUpstream(const QString& key)
    {
        if (!key.startsWith(QLatin1String("route:")))
            return QString();
        const QString rest = key.mid(6);
        const qsizetype split = rest.indexOf(QLatin1String("#traffic-split["));
        return split < 0 ? rest : rest.left(split);
    }

    // Every node of the upstreams in use that no active check watches, to the prober. fresh:
    // its route or upstream is new or changed since `previous`.
    void probeTargets(const RouteTable& previous)
    {
        QHash<QString, const RouteEntry*> before;
        for (const auto& r : previous.routes)
            before.insert(r->id, r.get());
        QSet<QString> changed;
        for (const auto& r : table->routes) {
            if (before.value(r->id) != r.get() && r->upstream)
                changed.insert(r->upstream->key);
        }
        std::vector<UpstreamProber::Target> targets;
        for (auto it = table->upstreams.cbegin(); it != table->upstreams.cend(); ++it) {
            const UpstreamEntry& up = *it.value();
            if (up.upstream.checks)
                continue;
            const bool fresh =
                changed.contains(it.key()) || previous.upstreams.value(it.key()) != it.value();
            for (const ResolvedNode& n : up.nodes) {
                UpstreamProber::Target t;
                t.upstream = it.key();
                t.node = n.text;
                if (n.length > 0) {
                    t.address = hostOf(n.address);
                    t.port = portOf(n.address);
                }
                t.stats = n.stats;
                t.fresh = fresh;
                targets.push_back(std::move(t));
            }
        }
        prober->setTargets(targets);
    }
};

Engine::Engine(const EngineOptions& options, QObject* parent) : QObject(parent)
{
    std::signal(SIGPIPE, SIG_IGN);
    raiseDescriptorLimit();
    m = std::make_unique<Parts>(options);
    m->descriptors.init();
    const EngineOptions& o = m->options;
    if (o.resolveClients)
        m->hub.resolveClients();
    // Toxics: only the sessions of routes listed under streamgate.toxics carry the filters.
    auto toxics = [board = &m->toxics](const QString& routeId) { return board->route(routeId); };
    for (int i = 0; i < o.workers; ++i) {
        m->workers.push_back(std::make_unique<Worker>(i, o.eventLoopKind(), o.bufferSize,
                                                      o.burstBufferSize, o.splice, m->hub,
                                                      m->descriptors));
        m->workers.back()->setFilterProviders(o.filterProviders);
        m->workers.back()->setToxicLookup(toxics);
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
        p->tcp = std::make_unique<TcpListeners>(p->hub, p->workers, p->descriptors, p->admission,
                                                qint64(p->options.proxyProtocolTimeout * 1000),
                                                qint64(p->options.prereadTimeout * 1000));
        // UDP: listeners and sessions live in udplistener/udpsession; the engine only feeds them.
        auto context = std::make_shared<UdpContext>();
        context->hub = &p->hub;
        context->admission = &p->admission;
        context->defaultIdleSeconds = p->options.defaultUdpIdleTimeout;
        context->noReplySeconds = p->options.udpNoReplyTimeout;
        context->toxics = &p->toxics;
        p->udp = std::make_unique<UdpListeners>(p->hub, p->workers, std::move(context));
        p->health = std::make_unique<HealthChecker>();
        QObject::connect(p->health.get(), &HealthChecker::nodeHealthChanged, p->health.get(),
                         [p](const QString& upstream, const QString& node, bool healthy) {
                             p->hub.addEvent(
                                 healthy ? EventKind::NodeUp : EventKind::NodeDown, QString(),
                                 QStringLiteral("node %1 of upstream %2 is %3%4")
                                     .arg(node, upstream,
                                          healthy ? QStringLiteral("up") : QStringLiteral("down"),
                                          p->healthCause(upstream, node)));
                         });
        QObject::connect(p->health.get(), &HealthChecker::nodeProbed, p->health.get(),
                         [p](const QString& upstream, const QString& node, bool) {
                             p->publishHealth(upstream, node);
                         });
        QObject::connect(p->health.get(), &HealthChecker::nodeReported, p->health.get(),
                         [p](const QString& upstream, const QString& node, bool) {
                             p->publishHealth(upstream, node);
                         });
        const EngineOptions& o = p->options;
        if (!o.probeUpstreams)
            return;
        p->prober = std::make_unique<UpstreamProber>(
            UpstreamProber::Options{o.reachTimeoutMs, o.reachRetryMs, o.reachMaxRetryMs});
        QObject::connect(
            p->prober.get(), &UpstreamProber::reachChanged, p->prober.get(),
            [p](const QString& upstream, const QString& node, bool answering,
                const QString& error) {
                p->hub.addEvent(
                    answering ? EventKind::NodeUp : EventKind::NodeDown,
                    Parts::routeOfUpstream(upstream),
                    answering
                        ? QStringLiteral("node %1 of upstream %2 answers again").arg(node, upstream)
                        : QStringLiteral("node %1 of upstream %2 is not answering: %3")
                              .arg(node, upstream, error));
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
        p->prober.reset();
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
    auto table =
        buildRouteTable(config, *m->table, m->hub, m->options, m->health.get(), m->prober.get());
    const std::shared_ptr<const RouteTable> previous = m->table;
    m->table = table;
    m->tcp->apply(config.streamProxy.tcp, table, open);
    // Health checks follow the upstreams in use; a rebuilt Balancer gets the known health.
    QStringList keys;
    for (auto it = table->upstreams.cbegin(); it != table->upstreams.cend(); ++it) {
        keys << it.key();
        m->health->watch(it.key(), it.value()->upstream, it.value()->balancer);
        for (const Node& node : it.value()->upstream.nodes)
            m->publishHealth(it.key(), node.address());
    }
    m->health->retainOnly(keys);
    if (open && m->prober)
        m->probeTargets(*previous);
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
    // Each route's upstream, then those its traffic-split rules name.
    std::vector<std::shared_ptr<UpstreamEntry>> used;
    for (const auto& r : m->table->routes) {
        routeIds << r->id;
        used.push_back(r->upstream);
        for (const QList<SplitUpstream>& rule : r->splitUpstreams)
            for (const SplitUpstream& s : rule)
                used.push_back(s.upstream);
    }
    for (const auto& up : used) {
        if (!up || seenUpstreams.contains(up->key))
            continue;
        seenUpstreams.insert(up->key);
        for (int i = 0; i < int(up->nodes.size()); ++i) {
            StatsHub::NodeEntry n;
            n.upstream = up->key;
            n.node = up->nodes[size_t(i)].text;
            if (up->nodes[size_t(i)].length > 0)
                n.ip = hostOf(up->nodes[size_t(i)].address).toString();
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
    Snapshot s = m->hub.snapshot();
    s.toxics = m->toxics.status();
    return s;
}

std::shared_ptr<SqlStats> Engine::sqlStats(const QString& routeId, SqlProtocol protocol) const
{
    std::shared_ptr<RouteStats> route = m->hub.routeStats(routeId);
    SqlStats* tables = &route->sql(protocol);
    return std::shared_ptr<SqlStats>(std::move(route), tables);
}

QList<Event> Engine::eventsSince(qint64 seq, int max, bool withTexts) const
{
    return m->hub.eventsSince(seq, max, withTexts);
}

void Engine::recordOperatorEvent(const QString& routeId, const QString& text)
{
    m->hub.addEvent(EventKind::Info, routeId, text);
}

namespace {

void killSession(WorkerSession& s)
{
    s.close(CloseReason::Killed);
}

void resetSession(WorkerSession& s)
{
    s.close(CloseReason::OperatorReset);
}

void resumeSession(WorkerSession& s)
{
    s.unpause();
}

} // namespace

bool Engine::post(const ConnectionRecord& record, const std::function<void(WorkerSession&)>& fn)
{
    if (record.worker < 0 || record.worker >= int(m->workers.size()))
        return false;
    m->workers[size_t(record.worker)]->post([id = record.base.id, fn](Worker& w) {
        if (WorkerSession* s = w.session(id))
            fn(*s);
    });
    return true;
}

bool Engine::onSession(quint64 id, const std::function<void(WorkerSession&)>& fn)
{
    const auto record = m->hub.find(id);
    return record && post(*record, fn);
}

int Engine::onOpen(const std::function<bool(const ConnectionRecord&)>& which,
                   const std::function<void(WorkerSession&)>& fn)
{
    int count = 0;
    for (const auto& r : m->hub.openRecords())
        if (which(*r) && post(*r, fn))
            ++count;
    return count;
}

int Engine::onClient(const QHostAddress& client, const std::function<void(WorkerSession&)>& fn)
{
    const QHostAddress wanted = normalizedAddress(client);
    return onOpen(
        [&](const ConnectionRecord& r) {
            return normalizedAddress(r.base.clientAddress) == wanted;
        },
        fn);
}

bool Engine::killConnection(quint64 id)
{
    return onSession(id, killSession);
}

bool Engine::resetConnection(quint64 id)
{
    return onSession(id, resetSession);
}

bool Engine::pauseConnection(quint64 id, qint64 ms)
{
    ms = qBound<qint64>(1, ms, kMaxPauseMs);
    return onSession(id, [ms](WorkerSession& s) { s.pause(ms); });
}

bool Engine::resumeConnection(quint64 id)
{
    return onSession(id, resumeSession);
}

int Engine::killClient(const QHostAddress& client)
{
    return onClient(client, killSession);
}

int Engine::resetClient(const QHostAddress& client)
{
    return onClient(client, resetSession);
}

int Engine::pauseClient(const QHostAddress& client, qint64 ms)
{
    ms = qBound<qint64>(1, ms, kMaxPauseMs);
    return onClient(client, [ms](WorkerSession& s) { s.pause(ms); });
}

int Engine::resumeClient(const QHostAddress& client)
{
    return onClient(client, resumeSession);
}

int Engine::resumeAll()
{
    return onOpen(
        [](const ConnectionRecord& r) {
            return r.pausedUntilMs.load(std::memory_order_relaxed) > 0;
        },
        resumeSession);
}

int Engine::killRoute(const QString& routeId)
{
    return onOpen([&](const ConnectionRecord& r) { return r.base.routeId == routeId; },
                  killSession);
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
            if (m->prober)
                m->prober->setTargets({});
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
