#pragma once
// The toxics of every route that has an entry under streamgate.toxics, shared between the
// thread that applies the config and the workers that relay. Each route's list is published as
// an immutable snapshot with a version number: a session's toxic filter (toxicfilter.h) reads
// the version on its worker (one atomic load per call) and takes the new list when it moved, so
// an edit reaches connections already open. The engine then wakes the route's sessions
// (Worker::wakeRoutes) so a toxic that acts on time alone (timeout, a removed latency's held
// bytes) does not wait for the next byte.

#include "model/toxic.h"

#include <QHash>
#include <QList>
#include <QMap>
#include <QMutex>
#include <QStringList>
#include <atomic>
#include <memory>

namespace sg {

class RouteToxics
{
public:
    using List = QList<ToxicSpec>;

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

private:
    mutable QMutex m_mutex;
    QHash<QString, std::shared_ptr<RouteToxics>> m_routes;
    QMap<QString, QList<ToxicSpec>> m_applied;
    std::atomic<int> m_count{0};
};

} // namespace sg
