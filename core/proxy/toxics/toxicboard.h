#pragma once
// The toxics of every route that has an entry under streamgate.toxics, shared between the
// thread that applies the config and the workers that relay. Each route's list is published as
// an immutable snapshot with a version number: a session's toxic filter (toxicfilter.h) reads
// the version on its worker (one atomic load per call) and takes the new list when it moved, so
// an edit reaches connections already open. The engine then wakes the route's sessions
// (Worker::wakeRoutes) so a toxic that acts on time alone (timeout, a removed latency's held
// bytes) does not wait for the next byte.
//
// Each toxic also has a ToxicState, kept across edits that leave its name, type and stream
// alone: the sessions it hits register there while it hits them, so a snapshot can say which
// connections a toxic hits, how many it has hit and how many bytes it holds. A session touches
// it only when its hit status changes; the bytes held are a relaxed store per filter call.

#include "model/toxic.h"
#include "proxy/addressmatch.h"
#include "stats/snapshot.h"

#include <QHash>
#include <QList>
#include <QMap>
#include <QMutex>
#include <QStringList>
#include <atomic>
#include <memory>
#include <vector>

namespace sg {

class ToxicState;

// A session's mark on a toxic while the toxic hits it: made on the session's worker the first
// time the toxic hits, registered while it hits, unregistered when it stops or goes away.
class ToxicHit
{
public:
    ToxicHit(std::shared_ptr<ToxicState> state, quint64 session);
    ~ToxicHit();
    Q_DISABLE_COPY_MOVE(ToxicHit)

    // Registers or unregisters the session; the first registration counts it as hit.
    void setHitting(bool hitting);
    // Worker thread: the bytes the toxic holds on this session now.
    void publishHeld(std::size_t bytes) { m_held.store(bytes, std::memory_order_relaxed); }

private:
    friend class ToxicState;
    const std::shared_ptr<ToxicState> m_state;
    const quint64 m_session;
    std::atomic<std::size_t> m_held{0};
    bool m_hitting = false; // worker thread only
    bool m_counted = false; // worker thread only
};

class ToxicState
{
public:
    struct Counters
    {
        QList<quint64> hitting; // ascending
        quint64 hitTotal = 0;
        quint64 bytesHeld = 0;
    };
    Counters counters() const;

private:
    friend class ToxicHit;
    void enter(ToxicHit* hit, bool count);
    void leave(ToxicHit* hit);

    mutable QMutex m_mutex;
    std::vector<ToxicHit*> m_hits;
    quint64 m_total = 0;
};

// A toxic as the sessions read it: its spec, its clients parsed, its shared state.
struct ActiveToxic
{
    ToxicSpec spec;
    AddressList clients; // empty: every client
    std::shared_ptr<ToxicState> state;

    // Whether the toxic may hit a connection from `client` (enabled and among its clients).
    bool reaches(const QHostAddress& client) const
    {
        return spec.enabled && (clients.isEmpty() || clients.contains(client));
    }
};

class RouteToxics
{
public:
    using List = QList<ActiveToxic>;

    quint64 version() const { return m_version.load(std::memory_order_acquire); }
    // The list as published, and the version it was published with.
    std::shared_ptr<const List> current(quint64* version) const;
    void publish(List toxics);

private:
    mutable QMutex m_mutex;
    std::shared_ptr<const List> m_list = std::make_shared<const List>();
    std::atomic<quint64> m_version{0};
};

class ToxicBoard
{
public:
    // Brings the board in line with streamgate.toxics; returns the ids of the routes whose
    // toxics changed (a route that left the map gets an empty list, then leaves the board).
    QStringList apply(const QMap<QString, QList<ToxicSpec>>& toxics);
    // The route's toxics, or null when it has no entry (its sessions get no toxic filter).
    std::shared_ptr<RouteToxics> route(const QString& routeId) const;
    bool empty() const { return m_count.load(std::memory_order_acquire) == 0; }
    // Every toxic of every route, by route id then in chain order, with what it does now.
    QList<ToxicStatus> status() const;

private:
    mutable QMutex m_mutex;
    QHash<QString, std::shared_ptr<RouteToxics>> m_routes;
    // Routes no longer listed: their sessions keep reading the (empty) list, and take the
    // toxics from it again if the route is listed again.
    QHash<QString, std::shared_ptr<RouteToxics>> m_unlisted;
    QMap<QString, QList<ToxicSpec>> m_applied;
    QMap<QString, RouteToxics::List> m_active; // as published, with the toxics' states
    std::atomic<int> m_count{0};
};

} // namespace sg
