#include "stats/statshub.h"

#include "stats/accesslog.h"

#include <QDateTime>
#include <QMutexLocker>
#include <algorithm>

namespace sg {

namespace {
constexpr int kDeniedTableCap = 4096; // distinct (ip, route) pairs kept; the oldest go first
}

void RouteStats::opened()
{
    total.fetch_add(1, std::memory_order_relaxed);
    const quint64 now = active.fetch_add(1, std::memory_order_relaxed) + 1;
    quint64 max = maxActive.load(std::memory_order_relaxed);
    while (now > max && !maxActive.compare_exchange_weak(max, now, std::memory_order_relaxed)) {
    }
}

void NodeStats::setReach(NodeReach value, const QString& error)
{
    const QMutexLocker lock(&m_reachLock);
    m_reachError = error;
    reach.store(value);
}

QString NodeStats::reachError() const
{
    const QMutexLocker lock(&m_reachLock);
    return m_reachError;
}

void ConnectionRecord::setUpstreamNode(const QString& node)
{
    QMutexLocker lock(&m_mutex);
    if (!base.upstreamNode.isEmpty())
        base.failedUpstreams.append(base.upstreamNode);
    base.upstreamNode = node;
}

QString ConnectionRecord::upstreamNode() const
{
    QMutexLocker lock(&m_mutex);
    return base.upstreamNode;
}

void ConnectionRecord::setMySql(const MySqlInfo& mysql)
{
    QMutexLocker lock(&m_mutex);
    base.mysql = mysql;
}

MySqlInfo ConnectionRecord::mySql() const
{
    QMutexLocker lock(&m_mutex);
    return base.mysql;
}

void ConnectionRecord::setPostgres(const PostgresInfo& postgres)
{
    QMutexLocker lock(&m_mutex);
    base.postgres = postgres;
}

void ConnectionRecord::setTls(const TlsInfo& tls)
{
    QMutexLocker lock(&m_mutex);
    m_tls = tls;
}

void ConnectionRecord::setRedis(const RedisInfo& redis)
{
    QMutexLocker lock(&m_mutex);
    base.redis = redis;
}

void ConnectionRecord::setUpstreamTls(const UpstreamTlsInfo& tls)
{
    QMutexLocker lock(&m_mutex);
    base.upstreamTls = tls;
}

void ConnectionRecord::setClient(const ClientProcess& process, const QString& host)
{
    QMutexLocker lock(&m_mutex);
    base.clientProcess = process;
    base.clientHost = host;
}

ConnectionInfo ConnectionRecord::info() const
{
    ConnectionInfo c;
    {
        QMutexLocker lock(&m_mutex);
        c = base;
        if (m_tls.isSet()) [[unlikely]]
            c.tls = m_tls;
    }
    // The server saw TLS from the proxy (database_server_tls, scheme "tls"), which the reader,
    // between the two legs, did not.
    if (c.upstreamTls->used) [[unlikely]] {
        if (c.postgres->detected && !c.postgres->tls)
            c.postgres.edit().tls = true;
        if (c.mysql->detected && !c.mysql->tls)
            c.mysql.edit().tls = true;
    }
    c.state = state.load(std::memory_order_relaxed);
    c.connectMs = connectMs.load(std::memory_order_relaxed);
    c.upstreamStartMs = upstreamStartMs.load(std::memory_order_relaxed);
    c.firstByteUpMs = firstByteUpMs.load(std::memory_order_relaxed);
    c.firstByteDownMs = firstByteDownMs.load(std::memory_order_relaxed);
    c.lastActivityMs = qint64(lastActivityMs.get());
    c.bytesUp = bytesUp.get();
    c.bytesDown = bytesDown.get();
    c.bytesFromClient = bytesFromClient.get();
    c.bytesFromUpstream = bytesFromUpstream.get();
    c.datagramsUp = datagramsUp.get();
    c.datagramsDown = datagramsDown.get();
    c.buffered = buffered.get();
    c.pausedUntilMs = pausedUntilMs.load(std::memory_order_relaxed);
    return c;
}

StatsHub::StatsHub(int closedHistory, int eventHistory)
    : m_closed(qMax(0, closedHistory)), m_events(qMax(1, eventHistory))
{
}

StatsHub::~StatsHub() = default;

namespace {

ClientResolver::Request whoRequest(const ConnectionInfo& c)
{
    ClientResolver::Request r;
    // Behind a PROXY protocol header the socket is the peer's; the name is the client's.
    const bool proxied = !c.peerAddress.isNull();
    r.socket.protocol = c.protocol;
    r.socket.clientAddress = proxied ? c.peerAddress : c.clientAddress;
    r.socket.clientPort = proxied ? c.peerPort : c.clientPort;
    r.socket.serverAddress = c.localAddress;
    r.socket.serverPort = c.localPort;
    r.client = c.clientAddress;
    return r;
}

} // namespace

void StatsHub::resolveClients(ClientResolver::Options options)
{
    m_resolver = std::make_unique<ClientResolver>(
        [this](const ClientResolver::Request& r, const ClientProcess& process,
               const QString& host) {
            if (const auto record = r.record.lock()) {
                record->setClient(process, host);
                return;
            }
            if (r.deniedKey.isEmpty())
                return;
            QMutexLocker lock(&m_mutex);
            const auto it = m_denied.find(r.deniedKey);
            if (it != m_denied.end()) {
                it->clientProcess = process;
                it->clientHost = host;
            }
        },
        std::move(options));
}

qint64 StatsHub::nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

std::shared_ptr<RouteStats> StatsHub::routeStats(const QString& routeId)
{
    QMutexLocker lock(&m_mutex);
    auto& s = m_routes[routeId];
    if (!s)
        s = std::make_shared<RouteStats>();
    return s;
}

std::shared_ptr<ListenerStats> StatsHub::listenerStats(const QString& listener)
{
    QMutexLocker lock(&m_mutex);
    auto& s = m_listeners[listener];
    if (!s)
        s = std::make_shared<ListenerStats>();
    return s;
}

std::shared_ptr<NodeStats> StatsHub::nodeStats(const QString& upstream, const QString& node)
{
    QMutexLocker lock(&m_mutex);
    auto& s = m_nodes[upstream + QLatin1Char('\n') + node];
    if (!s)
        s = std::make_shared<NodeStats>();
    return s;
}

void StatsHub::opened(const std::shared_ptr<ConnectionRecord>& record)
{
    if (record->route)
        record->route->opened();
    if (record->listener)
        record->listener->active.fetch_add(1, std::memory_order_relaxed);
    Event e;
    e.kind = EventKind::Open;
    e.timeMs = record->base.startMs;
    e.routeId = record->base.routeId;
    e.connection = record->base;
    if (m_resolver) {
        ClientResolver::Request r = whoRequest(record->base);
        r.record = record;
        m_resolver->request(std::move(r));
    }
    QMutexLocker lock(&m_mutex);
    m_open.emplace(record->base.id, record);
    pushEventLocked(std::move(e));
}

void StatsHub::closed(const std::shared_ptr<ConnectionRecord>& record, CloseReason reason)
{
    record->state.store(ConnectionState::Closed, std::memory_order_relaxed);
    ConnectionInfo c = record->info();
    c.closeReason = reason;
    c.closedBy = record->closedBy != ClosedBy::None ? record->closedBy : closedByOf(reason);
    // A session never connected (connectMs < 0: TCP connecting, UDP refused its socket) ended
    // while connecting; one connected ended before or after the first byte of either peer.
    if (c.connectMs < 0)
        c.closePhase = ClosePhase::Connect;
    else if (c.firstByteUpMs < 0 && c.firstByteDownMs < 0)
        c.closePhase = ClosePhase::BeforeFirstByte;
    else
        c.closePhase = ClosePhase::Data;
    c.endMs = nowMs();
    c.buffered = 0;
    c.pausedUntilMs = 0;
    if (auto* r = record->route.get()) {
        r->closedBytesUp.fetch_add(c.bytesUp, std::memory_order_relaxed);
        r->closedBytesDown.fetch_add(c.bytesDown, std::memory_order_relaxed);
        r->active.fetch_sub(1, std::memory_order_relaxed);
    }
    if (auto* l = record->listener.get()) {
        l->closedBytesUp.fetch_add(c.bytesUp, std::memory_order_relaxed);
        l->closedBytesDown.fetch_add(c.bytesDown, std::memory_order_relaxed);
        l->closedFromClient.fetch_add(c.bytesFromClient, std::memory_order_relaxed);
        l->closedFromUpstream.fetch_add(c.bytesFromUpstream, std::memory_order_relaxed);
        l->active.fetch_sub(1, std::memory_order_relaxed);
    }
    Event e;
    e.kind = EventKind::Close;
    e.timeMs = c.endMs;
    e.routeId = c.routeId;
    e.connection = c;
    QMutexLocker lock(&m_mutex);
    ++m_streamStatus[{apisixStreamStatusCode(reason), c.listener, c.upstreamNode}];
    m_open.erase(c.id);
    m_closed.append(std::move(c)); // no-op when no history is kept
    pushEventLocked(std::move(e));
}

void StatsHub::denied(const ConnectionInfo& info, const QString& text)
{
    const QString ip = info.clientAddress.toString();
    const qint64 now = info.endMs ? info.endMs : nowMs();
    Event e;
    e.kind = EventKind::Deny;
    e.timeMs = now;
    e.routeId = info.routeId;
    e.text = text;
    e.connection = info;
    QMutexLocker lock(&m_mutex);
    const QString key = ip + QLatin1Char('\n') + info.routeId;
    auto it = m_denied.find(key);
    if (it == m_denied.end()) {
        if (m_denied.size() >= kDeniedTableCap) {
            auto oldest = std::min_element(m_denied.begin(), m_denied.end(),
                                           [](const DeniedClient& a, const DeniedClient& b) {
                                               return a.lastSeenMs < b.lastSeenMs;
                                           });
            m_denied.erase(oldest);
        }
        DeniedClient d;
        d.clientIp = ip;
        d.routeId = info.routeId;
        d.listener = info.listener;
        d.firstSeenMs = now;
        it = m_denied.insert(key, d);
    }
    it->reason = info.closeReason;
    it->count++;
    it->lastSeenMs = now;
    ++m_streamStatus[{apisixStreamStatusCode(info.closeReason), info.listener, QString()}];
    pushEventLocked(std::move(e));
    lock.unlock();
    if (m_resolver) {
        ClientResolver::Request r = whoRequest(info);
        r.deniedKey = key;
        m_resolver->request(std::move(r));
    }
}

std::shared_ptr<ConnectionRecord> StatsHub::find(quint64 id) const
{
    QMutexLocker lock(&m_mutex);
    auto it = m_open.find(id);
    return it == m_open.end() ? nullptr : it->second;
}

QList<std::shared_ptr<ConnectionRecord>> StatsHub::openRecords() const
{
    QList<std::shared_ptr<ConnectionRecord>> out;
    QMutexLocker lock(&m_mutex);
    out.reserve(qsizetype(m_open.size()));
    for (const auto& [id, r] : m_open)
        out.append(r);
    return out;
}

int StatsHub::openCount() const
{
    QMutexLocker lock(&m_mutex);
    return int(m_open.size());
}

qint64 StatsHub::addEvent(EventKind kind, const QString& routeId, const QString& text,
                          const ConnectionInfo& connection)
{
    Event e;
    e.kind = kind;
    e.timeMs = nowMs();
    e.routeId = routeId;
    e.text = text;
    e.connection = connection;
    QMutexLocker lock(&m_mutex);
    pushEventLocked(std::move(e));
    return m_lastSeq;
}

void StatsHub::pushEventLocked(Event&& event)
{
    event.seq = ++m_lastSeq;
    m_events.append(std::move(event));
    if (m_notifier && !m_eventNoticePending.exchange(true))
        m_notifier();
}

QList<Event> StatsHub::eventsSince(qint64 seq, int max, bool withTexts) const
{
    QList<Event> out;
    QMutexLocker lock(&m_mutex);
    if (m_events.isEmpty() || max <= 0)
        return out;
    // Sequence numbers in the ring are contiguous, so the start is an index computation.
    const qint64 first = m_events.first().seq;
    qint64 start = qMax<qint64>(seq + 1, first) - first;
    if (start >= m_events.size())
        return out;
    const qint64 end = qMin<qint64>(m_events.size(), start + max);
    out.reserve(end - start);
    for (qint64 i = start; i < end; ++i)
        out.append(m_events.at(m_events.firstIndex() + i));
    lock.unlock();
    if (!withTexts)
        return out;
    // Open/Close texts are written here, by the reader, not on the accept/close path.
    for (Event& e : out) {
        if (!e.text.isEmpty())
            continue;
        const ConnectionInfo& c = e.connection;
        if (e.kind == EventKind::Open)
            e.text = QStringLiteral("#%1 %2:%3 -> route %4 via %5")
                         .arg(c.id)
                         .arg(c.clientAddress.toString())
                         .arg(c.clientPort)
                         .arg(c.routeId, c.listener);
        else if (e.kind == EventKind::Close)
            e.text = QStringLiteral("#%1 %2:%3 closed (%4), %5 bytes up, %6 bytes down")
                         .arg(c.id)
                         .arg(c.clientAddress.toString())
                         .arg(c.clientPort)
                         .arg(toString(c.closeReason))
                         .arg(c.bytesUp)
                         .arg(c.bytesDown);
    }
    return out;
}

qint64 StatsHub::lastEventSeq() const
{
    QMutexLocker lock(&m_mutex);
    return m_lastSeq;
}

void StatsHub::setEventNotifier(std::function<void()> notifier)
{
    QMutexLocker lock(&m_mutex);
    m_notifier = std::move(notifier);
}

void StatsHub::setTopology(const QStringList& routeIds, const QList<ListenerEntry>& listeners,
                           const QList<NodeEntry>& nodes)
{
    QMutexLocker lock(&m_mutex);
    m_routeOrder = routeIds;
    m_listenerEntries = listeners;
    m_nodeEntries = nodes;
}

Snapshot StatsHub::snapshot() const
{
    Snapshot s;
    std::vector<std::shared_ptr<ConnectionRecord>> open;
    QStringList routeOrder;
    QList<std::pair<QString, std::shared_ptr<RouteStats>>> routes;
    QList<ListenerEntry> listeners;
    QList<NodeEntry> nodes;
    {
        // Only pointers are copied under the lock; the records are read after it is released.
        QMutexLocker lock(&m_mutex);
        s.takenMs = nowMs();
        open.reserve(m_open.size());
        for (const auto& [id, r] : m_open)
            open.push_back(r);
        s.closed.reserve(m_closed.size());
        for (qsizetype i = m_closed.firstIndex(); i <= m_closed.lastIndex(); ++i)
            s.closed.append(m_closed.at(i));
        for (const QString& id : m_routeOrder)
            routes.append({id, m_routes.value(id)});
        // Routes no longer configured but still carrying connections stay visible.
        for (auto it = m_routes.cbegin(); it != m_routes.cend(); ++it) {
            if (!m_routeOrder.contains(it.key()) && it.value()->active.load() > 0)
                routes.append({it.key(), it.value()});
        }
        listeners = m_listenerEntries;
        nodes = m_nodeEntries;
        s.denied.reserve(m_denied.size());
        for (const DeniedClient& d : m_denied)
            s.denied.append(d);
        s.streamStatus.reserve(qsizetype(m_streamStatus.size()));
        for (const auto& [key, count] : m_streamStatus)
            s.streamStatus.append(
                StreamStatusCount{std::get<0>(key), std::get<1>(key), std::get<2>(key), count});
        s.lastEventSeq = m_lastSeq;
    }

    // Live bytes per route and listener, keyed by the stats object (no string hashing per
    // connection; consecutive records usually share it, hence the one-entry cache).
    QHash<const RouteStats*, std::pair<quint64, quint64>> liveRouteBytes;
    QHash<const ListenerStats*, std::pair<quint64, quint64>> liveListenerBytes;
    const RouteStats* lastRoute = nullptr;
    std::pair<quint64, quint64>* lastRouteBytes = nullptr;
    const ListenerStats* lastListener = nullptr;
    std::pair<quint64, quint64>* lastListenerBytes = nullptr;
    s.active.reserve(qsizetype(open.size()));
    for (const auto& r : open) {
        s.active.append(r->info());
        const ConnectionInfo& c = s.active.constLast();
        if (r->route.get() != lastRoute || !lastRouteBytes) {
            lastRoute = r->route.get();
            lastRouteBytes = &liveRouteBytes[lastRoute];
        }
        lastRouteBytes->first += c.bytesUp;
        lastRouteBytes->second += c.bytesDown;
        if (r->listener.get() != lastListener || !lastListenerBytes) {
            lastListener = r->listener.get();
            lastListenerBytes = &liveListenerBytes[lastListener];
        }
        lastListenerBytes->first += c.bytesUp;
        lastListenerBytes->second += c.bytesDown;
    }

    s.routes.reserve(routes.size());
    for (const auto& [id, st] : routes) {
        RouteCounters rc;
        rc.routeId = id;
        if (st) {
            rc.total = st->total.load();
            rc.active = st->active.load();
            rc.maxActive = st->maxActive.load();
            rc.deniedIpRestriction = st->deniedIpRestriction.load();
            rc.limited = st->limited.load();
            rc.delayed = st->delayed.load();
            rc.connectFailures = st->connectFailures.load();
            rc.timeouts = st->timeouts.load();
            rc.deniedDatagrams = st->deniedDatagrams.load();
            rc.deniedBytes = st->deniedBytes.load();
            rc.bytesUp = st->closedBytesUp.load();
            rc.bytesDown = st->closedBytesDown.load();
            rc.mysqlCommands = st->mysql.commands();
            rc.postgresCommands = st->postgres.commands();
            rc.redisCommands = st->redis.commands();
        }
        const auto live = liveRouteBytes.value(st.get());
        rc.bytesUp += live.first;
        rc.bytesDown += live.second;
        s.routes.append(rc);
    }

    s.listeners.reserve(listeners.size());
    for (const ListenerEntry& l : listeners) {
        ListenerStatus ls = l.status;
        if (const ListenerStats* st = l.stats.get()) {
            ls.noRoute = st->noRoute.load();
            ls.noDescriptors = st->noDescriptors.load();
            ls.active = st->active.load();
            const auto live = liveListenerBytes.value(st);
            ls.bytesUp = st->closedBytesUp.load() + live.first;
            ls.bytesDown = st->closedBytesDown.load() + live.second;
            ls.bytesFromClient = st->closedFromClient.load() + live.first;
            ls.bytesFromUpstream = st->closedFromUpstream.load() + live.second;
        }
        s.listeners.append(ls);
    }

    s.nodes.reserve(nodes.size());
    for (const NodeEntry& n : nodes) {
        NodeStatus ns;
        ns.upstream = n.upstream;
        ns.node = n.node;
        ns.ip = n.ip;
        if (n.stats) {
            ns.active = n.stats->active.load();
            ns.total = n.stats->total.load();
            ns.failures = n.stats->failures.load();
            ns.health = n.stats->health.load();
            ns.checkSuccesses = n.stats->checkSuccesses.load();
            ns.checkTcpFailures = n.stats->checkTcpFailures.load();
            ns.checkHttpFailures = n.stats->checkHttpFailures.load();
            ns.checkTimeouts = n.stats->checkTimeouts.load();
            ns.reach = n.stats->reach.load();
            ns.reachError = n.stats->reachError();
        }
        ns.healthy = n.healthy ? n.healthy() : true;
        ns.checked = n.checked;
        s.nodes.append(ns);
    }
    return s;
}

} // namespace sg
