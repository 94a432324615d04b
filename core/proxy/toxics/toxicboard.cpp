#include "proxy/toxics/toxicboard.h"

#include <algorithm>

namespace sg {

ToxicHit::ToxicHit(std::shared_ptr<ToxicState> state, quint64 session)
    : m_state(std::move(state)), m_session(session)
{
}

ToxicHit::~ToxicHit()
{
    setHitting(false);
}

void ToxicHit::setHitting(bool hitting)
{
    if (hitting == m_hitting)
        return;
    m_hitting = hitting;
    if (hitting) {
        m_state->enter(this, !m_counted);
        m_counted = true;
    } else {
        m_state->leave(this);
        m_held.store(0, std::memory_order_relaxed);
    }
}

void ToxicState::enter(ToxicHit* hit, bool count)
{
    QMutexLocker lock(&m_mutex);
    m_hits.push_back(hit);
    if (count)
        ++m_total;
}

void ToxicState::leave(ToxicHit* hit)
{
    QMutexLocker lock(&m_mutex);
    m_hits.erase(std::remove(m_hits.begin(), m_hits.end(), hit), m_hits.end());
}

ToxicState::Counters ToxicState::counters() const
{
    Counters c;
    QMutexLocker lock(&m_mutex);
    c.hitTotal = m_total;
    c.hitting.reserve(qsizetype(m_hits.size()));
    for (const ToxicHit* hit : m_hits) {
        c.hitting << hit->m_session;
        c.bytesHeld += hit->m_held.load(std::memory_order_relaxed);
    }
    lock.unlock();
    std::sort(c.hitting.begin(), c.hitting.end());
    return c;
}

std::shared_ptr<const RouteToxics::List> RouteToxics::current(quint64* version) const
{
    QMutexLocker lock(&m_mutex);
    *version = m_version.load(std::memory_order_relaxed);
    return m_list;
}

void RouteToxics::publish(List toxics)
{
    auto list = std::make_shared<const List>(std::move(toxics));
    QMutexLocker lock(&m_mutex);
    m_list = std::move(list);
    m_version.fetch_add(1, std::memory_order_release);
}

namespace {

// The route's toxics for the sessions: a toxic whose name, type and stream stay keeps its
// state (who it hits, how many it hit); any other starts afresh.
RouteToxics::List activate(const QList<ToxicSpec>& specs, const RouteToxics::List& before)
{
    RouteToxics::List list;
    list.reserve(specs.size());
    for (const ToxicSpec& spec : specs) {
        ActiveToxic t;
        t.spec = spec;
        // The codec refuses a client that is not an IP or CIDR, so nothing is lost here.
        t.clients = AddressList::parse(spec.clients).value_or(AddressList());
        for (const ActiveToxic& old : before)
            if (old.spec.name == spec.name && old.spec.type == spec.type &&
                old.spec.upstream == spec.upstream)
                t.state = old.state;
        if (!t.state)
            t.state = std::make_shared<ToxicState>();
        list << t;
    }
    return list;
}

} // namespace

QStringList ToxicBoard::apply(const QMap<QString, QList<ToxicSpec>>& toxics)
{
    QStringList changed;
    QMutexLocker lock(&m_mutex);
    for (auto it = m_applied.cbegin(); it != m_applied.cend(); ++it) {
        if (toxics.contains(it.key()))
            continue;
        m_active.remove(it.key());
        if (const auto route = m_routes.take(it.key())) {
            route->publish({});
            m_unlisted.insert(it.key(), route);
            changed << it.key();
        }
    }
    for (auto it = toxics.cbegin(); it != toxics.cend(); ++it) {
        auto& route = m_routes[it.key()];
        const bool fresh = !route;
        if (fresh) {
            // A route listed again takes its former list back, which its sessions from then
            // still read.
            route = m_unlisted.take(it.key());
            if (!route)
                route = std::make_shared<RouteToxics>();
        }
        if (fresh || m_applied.value(it.key()) != it.value()) {
            RouteToxics::List list = activate(it.value(), m_active.value(it.key()));
            m_active.insert(it.key(), list);
            if (!fresh || !list.isEmpty())
                route->publish(std::move(list));
            changed << it.key();
        }
    }
    // An unlisted route no session reads any more is forgotten.
    for (auto it = m_unlisted.begin(); it != m_unlisted.end();)
        it = it.value().use_count() == 1 ? m_unlisted.erase(it) : std::next(it);
    m_applied = toxics;
    m_count.store(int(m_routes.size()), std::memory_order_release);
    return changed;
}

std::shared_ptr<RouteToxics> ToxicBoard::route(const QString& routeId) const
{
    if (empty())
        return nullptr; // no route listed: no lock on the accept path
    QMutexLocker lock(&m_mutex);
    return m_routes.value(routeId);
}

QList<ToxicStatus> ToxicBoard::status() const
{
    QMap<QString, RouteToxics::List> active;
    {
        QMutexLocker lock(&m_mutex);
        active = m_active;
    }
    QList<ToxicStatus> out;
    for (auto it = active.cbegin(); it != active.cend(); ++it) {
        for (const ActiveToxic& t : it.value()) {
            ToxicStatus s;
            s.routeId = it.key();
            s.name = t.spec.name;
            s.type = toxicTypeName(t.spec.type);
            s.stream = t.spec.streamName();
            s.enabled = t.spec.enabled;
            const ToxicState::Counters c = t.state->counters();
            s.hitting = c.hitting;
            s.hitTotal = c.hitTotal;
            s.bytesHeld = c.bytesHeld;
            out << s;
        }
    }
    return out;
}

} // namespace sg
