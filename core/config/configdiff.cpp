// diffConfigs: what changed between two configs, by id, for consumers that must touch only
// what changed (the engine keeps every other route's connections).
#include "config/configstore.h"

#include <QHash>
#include <QSet>
#include <algorithm>

namespace sg {

namespace {

using ListenerKey = QPair<QString, int>;

QSet<ListenerKey> listenerSet(const QList<ListenEntry>& entries)
{
    QSet<ListenerKey> set;
    for (const ListenEntry& e : entries)
        set.insert({e.host, e.port});
    return set;
}

// Added / changed / removed ids of two lists keyed by idString(); added and changed follow the
// order of `after`, removed the order of `before`. Returns the ids present in both, in each
// list's order, for the order comparison.
template <typename T>
void diffById(const QList<T>& before, const QList<T>& after, QStringList& added,
              QStringList& changed, QStringList& removed, QStringList* commonBefore = nullptr,
              QStringList* commonAfter = nullptr)
{
    QHash<QString, const T*> old;
    for (const T& item : before)
        old.insert(item.idString(), &item);
    QSet<QString> seen;
    for (const T& item : after) {
        const QString id = item.idString();
        seen.insert(id);
        const auto it = old.constFind(id);
        if (it == old.constEnd()) {
            added << id;
            continue;
        }
        if (!(**it == item))
            changed << id;
        if (commonAfter)
            *commonAfter << id;
    }
    for (const T& item : before) {
        const QString id = item.idString();
        if (!seen.contains(id))
            removed << id;
        else if (commonBefore)
            *commonBefore << id;
    }
}

} // namespace

bool ConfigDiff::isEmpty() const
{
    return routesAdded.isEmpty() && routesChanged.isEmpty() && routesRemoved.isEmpty() &&
           upstreamsAdded.isEmpty() && upstreamsChanged.isEmpty() && upstreamsRemoved.isEmpty() &&
           !routeOrderChanged && !listenersChanged && !settingsChanged;
}

ConfigDiff diffConfigs(const Config& before, const Config& after)
{
    ConfigDiff diff;
    QStringList commonBefore, commonAfter;
    diffById(before.streamRoutes, after.streamRoutes, diff.routesAdded, diff.routesChanged,
             diff.routesRemoved, &commonBefore, &commonAfter);
    // Match order is list order: only the relative order of routes kept on both sides counts;
    // an addition or removal alone is not a reorder.
    diff.routeOrderChanged = commonBefore != commonAfter;
    diffById(before.upstreams, after.upstreams, diff.upstreamsAdded, diff.upstreamsChanged,
             diff.upstreamsRemoved);
    // Listeners are a set: listing the same ports in another order opens and closes nothing.
    diff.listenersChanged =
        listenerSet(before.streamProxy.tcp) != listenerSet(after.streamProxy.tcp) ||
        listenerSet(before.streamProxy.udp) != listenerSet(after.streamProxy.udp);
    diff.settingsChanged = before.streamgate != after.streamgate;
    return diff;
}

} // namespace sg
