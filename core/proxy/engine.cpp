#include "proxy/engine.h"

#include "config/logging.h"
#include "proxy/addressmatch.h"
#include "proxy/healthchecker.h"
#include "proxy/routetable.h"
#include "proxy/sockaddr.h"
#include "proxy/tcplistener.h"
#include "proxy/tcpsession.h"
#include "proxy/udplistener.h"
#include "proxy/worker.h"
#include "stats/statshub.h"

#include <QHash>
#include <QHostInfo>
#include <QJsonObject>
#include <QMutex>
#include <QMutexLocker>
#include <QSet>
#include <QThread>
#include <QTimer>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <netinet/in.h>
#include <optional>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

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

// A whole number from min to max in the environment variable `name`, if set and valid; a value
// that is not is ignored with a warning that names it and says what is used instead.
std::optional<int> wholeNumberFromEnv(const char* name, int min, int max, const char* unit,
                                      int instead)
{
    const QByteArray env = qgetenv(name);
    if (env.isEmpty())
        return std::nullopt;
    bool ok = false;
    const int value = env.toInt(&ok);
    if (ok && value >= min && value <= max)
        return value;
    qCWarning(lcProxy).noquote()
        << QStringLiteral("%1=\"%2\" ignored: not a whole number of %3 from %4 to %5; using %6 %3")
               .arg(QLatin1String(name), QString::fromLocal8Bit(env), QLatin1String(unit))
               .arg(min)
               .arg(max)
               .arg(instead);
    return std::nullopt;
}

// Node hosts are usually literal addresses; names are resolved once per config, on the engine
// thread, never on a worker.
ResolvedNode resolveNode(const Node& node)
{
    ResolvedNode r;
    r.text = node.address();
    QHostAddress addr;
    if (!addr.setAddress(node.host)) {
        if (node.host.compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0) {
            addr = QHostAddress(QHostAddress::LocalHost);
        } else {
            const QHostInfo info = QHostInfo::fromName(node.host);
            if (info.addresses().isEmpty())
                return r;
            addr = info.addresses().constFirst();
        }
    }
    if (addr.protocol() == QAbstractSocket::IPv4Protocol) {
        auto& in = reinterpret_cast<sockaddr_in&>(r.address);
        in.sin_family = AF_INET;
        in.sin_port = htons(quint16(node.port));
        in.sin_addr.s_addr = htonl(addr.toIPv4Address());
        r.length = sizeof(sockaddr_in);
    } else {
        auto& in6 = reinterpret_cast<sockaddr_in6&>(r.address);
        in6.sin6_family = AF_INET6;
        in6.sin6_port = htons(quint16(node.port));
        const Q_IPV6ADDR a6 = addr.toIPv6Address();
        std::memcpy(&in6.sin6_addr, &a6, sizeof a6);
        r.length = sizeof(sockaddr_in6);
    }
    return r;
}

} // namespace

class EngineCore;

class EnginePrivate
{
public:
    EngineOptions options;
    StatsHub hub;
    std::vector<std::unique_ptr<Worker>> workers;
    QThread thread;
    EngineCore* core = nullptr;
    std::atomic<bool> stopped{false};
    DescriptorBudget descriptors; // see worker.h

    QMutex drainedMutex;
    QSet<QString> drained;

    // The route table admission reads, from the engine thread and from the workers that
    // accept; replaced whole by apply().
    std::atomic<std::shared_ptr<const RouteTable>> table{std::make_shared<RouteTable>()};
    std::atomic<size_t> nextWorker{0}; // round robin for clients the engine thread accepts

    // Calls waiting for the engine thread (runOnEngineThread). The queue, not a Qt event,
    // carries the work and the result, under a std::mutex and condition variable that
    // ThreadSanitizer sees; a blocking queued invokeMethod waits on a futex it cannot see.
    struct PendingCall
    {
        const std::function<void()>* fn;
        bool done = false;
    };
    std::mutex callMutex;
    std::condition_variable callDone;
    std::deque<PendingCall*> calls;

    explicit EnginePrivate(const EngineOptions& o)
        : options(o), hub(o.closedHistory, o.eventHistory)
    {
    }
    bool isDrained(const QString& routeId)
    {
        QMutexLocker lock(&drainedMutex);
        return !drained.isEmpty() && drained.contains(routeId);
    }

    // Routes and admits one accepted TCP client and starts its session: on `here` (the calling
    // worker) unless sessionWorker() picks another, or on the next worker in turn when the
    // engine thread accepted it. Thread-safe.
    void admit(const TcpListener& listener, int fd, Worker* here);
    Worker& sessionWorker(Worker* here);

    // Runs fn on the engine thread and returns once it has finished there.
    void runOnEngineThread(const std::function<void()>& fn);
    // On the engine thread: runs every queued call. Touches only this object, so a call may
    // delete the EngineCore that received the wake-up.
    void runCalls();
};

// Lives on the engine thread: listeners, the compiled route table, admission.
class EngineCore final : public QObject
{
    Q_OBJECT

public:
    explicit EngineCore(EnginePrivate* d);

    void apply(const Config& config);
    void closeListeners();

private Q_SLOTS:
    // Woken by EnginePrivate::runOnEngineThread through a queued call without arguments.
    void runCalls() { m_d->runCalls(); }

private:
    std::shared_ptr<UpstreamEntry> buildUpstream(const Upstream& upstream, const QString& key);
    void publishTopology();
    void closeListenersNotIn(const QList<ListenEntry>& entries);
    void openListeners(const QList<ListenEntry>& entries); // those not open yet

    EnginePrivate* m_d;
    QHash<QString, TcpListener*> m_listeners; // by ListenEntry::text()
    QList<ListenEntry> m_listenOrder;
    QHash<QString, QString> m_listenErrors;
    HealthChecker m_health{this};
    std::unique_ptr<UdpListeners> m_udp; // stream_proxy.udp (udplistener.h)
    DescriptorReserve m_reserve;         // shared by the TCP listeners, see TcpListener
    TcpListenerContext m_listenerContext;
};

EngineCore::EngineCore(EnginePrivate* d)
    : m_d(d), m_listenerContext{
                  d->hub, d->descriptors, m_reserve, d->workers,
                  [d](const TcpListener& l, int fd, Worker* here) { d->admit(l, fd, here); }}
{
    QObject::connect(
        &m_health, &HealthChecker::nodeHealthChanged, this,
        [this](const QString& upstream, const QString& node, bool healthy) {
            m_d->hub.addEvent(
                healthy ? EventKind::NodeUp : EventKind::NodeDown, QString(),
                QStringLiteral("node %1 of upstream %2 is %3")
                    .arg(node, upstream, healthy ? QStringLiteral("up") : QStringLiteral("down")));
        });
    // UDP: listeners and sessions live in udplistener/udpsession; the engine only feeds them.
    auto context = std::make_shared<UdpContext>();
    context->hub = &d->hub;
    context->sessionCap = qMax(1, d->options.udpSessionCap);
    context->defaultIdleSeconds =
        d->options.defaultUdpIdleTimeout > 0 ? d->options.defaultUdpIdleTimeout : 60;
    context->isDrained = [d](const QString& routeId) { return d->isDrained(routeId); };
    m_udp = std::make_unique<UdpListeners>(d->hub, d->workers, std::move(context));
}

std::shared_ptr<UpstreamEntry> EngineCore::buildUpstream(const Upstream& upstream,
                                                         const QString& key)
{
    auto e = std::make_shared<UpstreamEntry>();
    e->upstream = upstream;
    e->key = key;
    e->balancer = std::make_shared<Balancer>(upstream);
    e->timeout = upstream.effectiveTimeout();
    e->retries = upstream.effectiveRetries();
    e->retryTimeout = upstream.retryTimeout.value_or(0);
    e->nodes.reserve(size_t(upstream.nodes.size()));
    for (const Node& n : upstream.nodes) {
        ResolvedNode r = resolveNode(n);
        r.stats = m_d->hub.nodeStats(key, r.text);
        e->nodes.push_back(std::move(r));
    }
    return e;
}

// Only the set of listeners matters: an unchanged entry keeps its socket.
void EngineCore::closeListenersNotIn(const QList<ListenEntry>& entries)
{
    QSet<QString> wanted;
    for (const ListenEntry& e : entries)
        wanted.insert(e.text());
    for (auto it = m_listeners.begin(); it != m_listeners.end();) {
        if (!wanted.contains(it.key())) {
            delete it.value(); // closes the socket once the workers have let go
            it = m_listeners.erase(it);
        } else {
            ++it;
        }
    }
}

void EngineCore::openListeners(const QList<ListenEntry>& entries)
{
    m_listenOrder = entries;
    if (!m_d->stopped.load()) {
        for (const ListenEntry& e : entries) {
            const QString key = e.text();
            if (m_listeners.contains(key))
                continue;
            auto* l = new TcpListener(m_listenerContext, e, m_d->hub.listenerStats(key), this);
            const QHostAddress host =
                e.host.isEmpty() ? QHostAddress(QHostAddress::Any) : QHostAddress(e.host);
            m_listeners.insert(key, l);
            if (l->start(host, quint16(e.port))) {
                m_listenErrors.remove(key);
                m_d->hub.addEvent(EventKind::ListenerUp, QString(),
                                  QStringLiteral("TCP listener %1 up").arg(key));
            } else {
                const QString err = l->errorString();
                m_listenErrors.insert(key, err);
                m_d->hub.addEvent(EventKind::ListenerError, QString(),
                                  QStringLiteral("TCP listener %1: %2").arg(key, err));
            }
        }
    }
}

void EngineCore::apply(const Config& config)
{
    // Listeners no longer wanted close first; new ones open once the routes are in place.
    closeListenersNotIn(config.streamProxy.tcp);

    // Routes: entries that did not change are carried over as the same objects.
    QHash<QString, std::shared_ptr<RouteEntry>> oldRoutes;
    QHash<QString, std::shared_ptr<UpstreamEntry>> oldUpstreams;
    for (const auto& r : m_d->table.load()->routes) {
        oldRoutes.insert(r->id, r);
        if (r->upstream)
            oldUpstreams.insert(r->upstream->key, r->upstream);
    }
    auto table = std::make_shared<RouteTable>();
    QHash<QString, std::shared_ptr<UpstreamEntry>> upstreams;
    // Streamgate-only route settings live outside the APISIX objects, so an exported config
    // stays valid for APISIX: "streamgate": {"mysql_inspect": false} turns MySQL detection off
    // everywhere; "streamgate": {"routes": {"<route id>": {"mysql_inspect": bool,
    // "mysql_commands": bool}}} overrides it per route and turns command counting on.
    const bool inspectDefault =
        config.streamgate.value(QStringLiteral("mysql_inspect")).toBool(true);
    const QJsonObject routeSettings = config.streamgate.value(QStringLiteral("routes")).toObject();
    for (const StreamRoute& route : config.streamRoutes) {
        const QString id = route.idString();
        const QJsonObject own = routeSettings.value(id).toObject();
        const bool mysqlCommands = own.value(QStringLiteral("mysql_commands")).toBool(false);
        const bool mysqlInspect =
            own.value(QStringLiteral("mysql_inspect")).toBool(inspectDefault) || mysqlCommands;
        std::shared_ptr<UpstreamEntry> up;
        if (const Upstream* u = config.upstreamFor(route)) {
            const QString key = route.upstream ? QStringLiteral("route:") + id : u->idString();
            up = upstreams.value(key);
            if (!up) {
                const auto old = oldUpstreams.value(key);
                up = (old && old->upstream == *u) ? old : buildUpstream(*u, key);
                upstreams.insert(key, up);
            }
        }
        std::shared_ptr<RouteEntry> entry;
        const auto old = oldRoutes.value(id);
        if (old && old->route == route && old->upstream == up &&
            old->mysqlInspect == mysqlInspect && old->mysqlCommands == mysqlCommands) {
            entry = old;
        } else {
            entry = std::make_shared<RouteEntry>();
            entry->route = route;
            entry->id = id;
            entry->upstream = up;
            if (route.plugins.ipRestriction)
                entry->ipRestriction.emplace(*route.plugins.ipRestriction);
            // Same limit-conn settings: keep the counter object, so connections admitted
            // before the edit still count against the limit after it.
            if (old && old->limitConn && old->route.plugins.limitConn == route.plugins.limitConn)
                entry->limitConn = old->limitConn;
            else if (route.plugins.limitConn)
                entry->limitConn = std::make_shared<LimitConn>(*route.plugins.limitConn);
            entry->stats = m_d->hub.routeStats(id);
            entry->mysqlInspect = mysqlInspect;
            entry->mysqlCommands = mysqlCommands;
        }
        table->routes.push_back(entry);
    }
    table->router.emplace(config.streamRoutes);
    m_d->table.store(table);

    // New listeners open only now: a worker accepts as soon as one is open, and a client that
    // connects at that moment must meet the routes of this config, not the previous one.
    openListeners(config.streamProxy.tcp);

    // Health checks follow the upstreams in use; a rebuilt Balancer gets the known health.
    QStringList keys;
    for (auto it = upstreams.cbegin(); it != upstreams.cend(); ++it) {
        keys << it.key();
        m_health.watch(it.key(), it.value()->upstream, it.value()->balancer);
    }
    m_health.retainOnly(keys);
    m_udp->apply(config.streamProxy.udp, table, !m_d->stopped.load());
    publishTopology();
}

void EngineCore::publishTopology()
{
    QStringList routeIds;
    QList<StatsHub::NodeEntry> nodes;
    QSet<QString> seenUpstreams;
    for (const auto& r : m_d->table.load()->routes) {
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
    QList<StatsHub::ListenerEntry> listeners;
    for (const ListenEntry& e : m_listenOrder) {
        const QString key = e.text();
        StatsHub::ListenerEntry le;
        le.status.protocol = Protocol::Tcp;
        le.status.address = key;
        le.status.port = e.port;
        if (TcpListener* l = m_listeners.value(key)) {
            le.status.listening = l->isListening();
            if (le.status.listening)
                le.status.port = l->serverPort();
            le.stats = l->stats();
        }
        if (m_d->stopped.load() && !le.status.listening)
            le.status.error = QStringLiteral("engine stopped");
        else
            le.status.error = m_listenErrors.value(key);
        listeners << le;
    }
    listeners += m_udp->topology(m_d->stopped.load());
    m_d->hub.setTopology(routeIds, listeners, nodes);
}

void EngineCore::closeListeners()
{
    m_health.retainOnly({});
    for (TcpListener* l : std::as_const(m_listeners)) {
        delete l;
    }
    m_listeners.clear();
    m_udp->closeAll();
    publishTopology();
}

// The worker that accepted a client runs its session unless another worker has fewer sessions:
// with epoll the loop woken for a new connection is the first idle one, so without this a
// quiet proxy would gather every long-lived session on one worker.
Worker& EnginePrivate::sessionWorker(Worker* here)
{
    if (!here)
        return *workers[nextWorker.fetch_add(1, std::memory_order_relaxed) % workers.size()];
    Worker* least = here;
    for (const auto& w : workers) {
        if (w->sessionCount() < least->sessionCount())
            least = w.get();
    }
    return *least;
}

void EnginePrivate::admit(const TcpListener& listener, int fd, Worker* here)
{
    sockaddr_storage peer{}, local{};
    socklen_t peerLen = sizeof peer, localLen = sizeof local;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peerLen) != 0 ||
        (!listener.fixedLocal() &&
         ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &localLen) != 0)) {
        ::close(fd); // the client is already gone
        return;
    }
    const std::optional<std::pair<QHostAddress, quint16>>& fixedLocal = listener.fixedLocal();
    ConnectionInfo base;
    base.protocol = Protocol::Tcp;
    base.listener = listener.key();
    base.clientAddress = hostOf(peer);
    base.clientPort = portOf(peer);
    if (fixedLocal) {
        base.localAddress = fixedLocal->first;
        base.localPort = fixedLocal->second;
    } else {
        base.localAddress = hostOf(local);
        base.localPort = portOf(local);
    }
    base.startMs = StatsHub::nowMs();
    base.lastActivityMs = base.startMs;

    auto refuse = [&](CloseReason reason, const QString& why) {
        base.id = hub.nextConnectionId();
        base.state = ConnectionState::Closed;
        base.closeReason = reason;
        base.endMs = base.startMs;
        hub.denied(base, QStringLiteral("%1:%2 refused on %3: %4")
                             .arg(base.clientAddress.toString())
                             .arg(base.clientPort)
                             .arg(base.listener, why));
        // Recorded before the close, so whoever sees the close also sees the count.
        ::close(fd); // nothing read, nothing sent
    };

    const std::shared_ptr<const RouteTable> tableNow = table.load();
    const RouteTable& table = *tableNow;
    const int index = table.router
                          ? table.router->match(MatchInput{base.clientAddress, base.localAddress,
                                                           int(base.localPort)})
                          : -1;
    if (index < 0 || index >= int(table.routes.size())) {
        listener.stats()->noRoute.fetch_add(1, std::memory_order_relaxed);
        refuse(CloseReason::NoRoute, QStringLiteral("no route matches"));
        return;
    }
    std::shared_ptr<RouteEntry> route = table.routes[size_t(index)];
    base.routeId = route->id;
    if (isDrained(route->id)) {
        route->stats->add(route->stats->limited);
        refuse(CloseReason::Limited, QStringLiteral("route %1 is drained").arg(route->id));
        return;
    }
    if (route->ipRestriction && !route->ipRestriction->allows(base.clientAddress)) {
        route->stats->add(route->stats->deniedIpRestriction);
        const QString msg = route->ipRestriction->message();
        refuse(CloseReason::DeniedIpRestriction,
               QStringLiteral("ip-restriction on route %1%2")
                   .arg(route->id, msg.isEmpty() ? QString() : QStringLiteral(" (") + msg + ')'));
        return;
    }
    TcpSessionSetup setup;
    if (route->limitConn) {
        const LimitConn::Admission a =
            route->limitConn->acquire(base.clientAddress, base.localAddress, int(base.localPort));
        if (!a.admitted) {
            route->stats->add(route->stats->limited);
            refuse(CloseReason::Limited,
                   QStringLiteral("limit-conn on route %1 (key %2)").arg(route->id, a.key));
            return;
        }
        setup.limitHeld = true;
        setup.limitKey = a.key;
        setup.delaySeconds = a.delaySeconds;
        if (a.delaySeconds > 0)
            route->stats->add(route->stats->delayed);
    }

    auto record = std::make_shared<ConnectionRecord>();
    base.id = hub.nextConnectionId();
    record->base = base;
    record->lastActivityMs.set(quint64(base.startMs));
    record->route = route->stats;
    record->listener = listener.stats();
    Worker& worker = sessionWorker(here);
    record->worker = worker.index();
    if (route->upstream && route->upstream->balancer->usesHashKey())
        setup.hashKey = chashKeyValue(route->upstream->upstream, base.clientAddress,
                                      base.localAddress, int(base.localPort));
    setup.clientFd = fd;
    setup.route = std::move(route);
    setup.record = record;
    hub.opened(record);
    auto run = [](Worker& w, TcpSessionSetup&& s, bool expected) {
        auto session = std::make_unique<TcpSession>(w, std::move(s));
        TcpSession* raw = session.get();
        w.adopt(std::move(session), expected);
        raw->start();
    };
    if (&worker == here) {
        run(worker, std::move(setup), false);
    } else {
        // Counted at once, so the next clients are balanced with this one in mind.
        worker.expectSession();
        worker.post([run, s = std::move(setup)](Worker& w) mutable { run(w, std::move(s), true); });
    }
}

void EnginePrivate::runOnEngineThread(const std::function<void()>& fn)
{
    if (QThread::currentThread() == &thread) {
        fn();
        return;
    }
    PendingCall call{&fn};
    std::unique_lock lock(callMutex);
    calls.push_back(&call);
    // Only a wake-up: the slot takes the work from `calls`. By name, so the queued event holds
    // nothing of ours for the engine thread to read outside the mutex.
    QMetaObject::invokeMethod(core, "runCalls", Qt::QueuedConnection);
    callDone.wait(lock, [&call] { return call.done; });
}

void EnginePrivate::runCalls()
{
    std::unique_lock lock(callMutex);
    while (!calls.empty()) {
        PendingCall* call = calls.front();
        calls.pop_front();
        lock.unlock();
        (*call->fn)();
        lock.lock();
        call->done = true;
        callDone.notify_all();
    }
}

int defaultWorkers()
{
    return qMax(1, QThread::idealThreadCount() - 1);
}

Engine::Engine(const EngineOptions& options, QObject* parent)
    : QObject(parent), d(std::make_unique<EnginePrivate>(options))
{
    std::signal(SIGPIPE, SIG_IGN);
    raiseDescriptorLimit();
    d->descriptors.init();
    if (d->options.bufferSize < 4096)
        d->options.bufferSize = 4096;
    if (const auto kb = wholeNumberFromEnv("STREAMGATE_BURST_BUFFER_KB", 4, 1024 * 1024, "KiB",
                                           d->options.burstBufferSize / 1024))
        d->options.burstBufferSize = *kb * 1024;
    d->options.burstBufferSize = qMax(d->options.burstBufferSize, d->options.bufferSize);
    int n = d->options.workers > 0 ? d->options.workers : defaultWorkers();
    if (const auto workers = wholeNumberFromEnv("STREAMGATE_WORKERS", 1, 256, "workers", n))
        n = *workers;
    EventLoopKind kind = EventLoopKind::Default;
    if (d->options.eventLoop == QLatin1String("poll"))
        kind = EventLoopKind::Poll;
    else if (d->options.eventLoop == QLatin1String("epoll"))
        kind = EventLoopKind::Epoll;
    const bool splice = d->options.splice && qgetenv("STREAMGATE_RELAY") != "copy";
    for (int i = 0; i < n; ++i) {
        d->workers.push_back(std::make_unique<Worker>(i, kind, d->options.bufferSize,
                                                      d->options.burstBufferSize, splice, d->hub,
                                                      d->descriptors));
        d->workers.back()->setFilterProviders(d->options.filterProviders);
        d->workers.back()->start();
    }

    d->hub.setEventNotifier([this] {
        // Called under the hub's lock from any thread: only queue; coalesce for 100 ms.
        QMetaObject::invokeMethod(
            this,
            [this] {
                QTimer::singleShot(100, this, [this] {
                    d->hub.takeEventNotice();
                    Q_EMIT eventsAvailable();
                });
            },
            Qt::QueuedConnection);
    });

    d->thread.setObjectName(QStringLiteral("streamgate-engine"));
    d->core = new EngineCore(d.get());
    d->core->moveToThread(&d->thread);
    d->thread.start();
}

Engine::~Engine()
{
    stop(0);
    d->hub.setEventNotifier({});
    for (auto& w : d->workers)
        w->stop();
    EngineCore* core = d->core;
    d->runOnEngineThread([core] { delete core; });
    d->thread.quit();
    d->thread.wait();
}

void Engine::apply(const Config& config)
{
    EngineCore* core = d->core;
    d->runOnEngineThread([core, &config] { core->apply(config); });
}

Snapshot Engine::snapshot() const
{
    return d->hub.snapshot();
}

QList<Event> Engine::eventsSince(qint64 seq, int max) const
{
    return d->hub.eventsSince(seq, max);
}

bool Engine::killConnection(quint64 id)
{
    const auto record = d->hub.find(id);
    if (!record || record->worker < 0 || record->worker >= int(d->workers.size()))
        return false;
    d->workers[size_t(record->worker)]->post([id](Worker& w) {
        if (WorkerSession* s = w.session(id))
            s->close(CloseReason::Killed);
    });
    return true;
}

int Engine::killRoute(const QString& routeId)
{
    int count = 0;
    for (const auto& r : d->hub.openRecords()) {
        if (r->base.routeId == routeId && killConnection(r->base.id))
            ++count;
    }
    return count;
}

void Engine::setRouteDrained(const QString& routeId, bool drained)
{
    QMutexLocker lock(&d->drainedMutex);
    if (drained)
        d->drained.insert(routeId);
    else
        d->drained.remove(routeId);
}

void Engine::stop(int graceMs)
{
    if (!d->stopped.exchange(true)) {
        EngineCore* core = d->core;
        d->runOnEngineThread([core] { core->closeListeners(); });
    }
    const qint64 deadline = Worker::monotonicMs() + qMax(0, graceMs);
    while (d->hub.openCount() > 0 && Worker::monotonicMs() < deadline)
        QThread::msleep(5);
    if (d->hub.openCount() == 0)
        return;
    for (auto& w : d->workers)
        w->post([](Worker& wk) { wk.closeAll(CloseReason::Shutdown); });
    const qint64 hardDeadline = Worker::monotonicMs() + 2000;
    while (d->hub.openCount() > 0 && Worker::monotonicMs() < hardDeadline)
        QThread::msleep(2);
}

} // namespace sg

#include "engine.moc"
