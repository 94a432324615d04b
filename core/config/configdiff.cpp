// diffConfigs: what changed between two configs, by id, for consumers that must touch only
// what changed (the engine keeps every other route's connections). rebaseConfig: an edit made
// against one version, carried over to a newer one (a file edited on disk meanwhile).
#include "config/configstore.h"

#include <QHash>
#include <QSet>
#include <algorithm>

namespace sg {

namespace {

// The address and what the listener does with its connections (PROXY protocol in and out).
using ListenerKey = QPair<QString, QPair<int, int>>;

// One key per listening socket: a range counts as its ports, so "2000-2001" and 2000, 2001 are
// the same listeners (the engine keeps their sockets).
QSet<ListenerKey> listenerSet(const QList<ListenEntry>& entries)
{
    QSet<ListenerKey> set;
    for (const ListenEntry& e : singlePorts(entries))
        set.insert(
            {e.host, {e.port, int(e.readsProxyProtocol()) | int(e.sendsProxyProtocol()) << 1}});
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

template <typename T> qsizetype indexById(const QList<T>& list, const QString& id)
{
    for (qsizetype i = 0; i < list.size(); ++i) {
        if (list.at(i).idString() == id)
            return i;
    }
    return -1;
}

// The objects `next` added, changed or removed relative to `base`, done to `onto`; objects the
// edit did not touch keep their state in `onto`. When the edit reordered objects both sides
// keep, those objects take the edit's relative order in the places they hold in the result.
template <typename T>
QList<T> rebaseById(const QList<T>& base, const QList<T>& next, const QList<T>& onto)
{
    QList<T> result = onto;
    QStringList added, changed, removed, commonBase, commonNext;
    diffById(base, next, added, changed, removed, &commonBase, &commonNext);
    for (const QString& id : std::as_const(removed)) {
        if (const qsizetype at = indexById(result, id); at >= 0)
            result.removeAt(at);
    }
    for (const QString& id : added + changed) {
        const T& item = next.at(indexById(next, id));
        if (const qsizetype at = indexById(result, id); at >= 0)
            result[at] = item;
        else
            result.append(item);
    }
    if (commonBase != commonNext) {
        QList<qsizetype> places;
        QList<T> ordered;
        for (const T& item : next) {
            if (const qsizetype at = indexById(result, item.idString()); at >= 0) {
                places << at;
                ordered << result.at(at);
            }
        }
        std::sort(places.begin(), places.end());
        for (qsizetype i = 0; i < places.size(); ++i)
            result[places.at(i)] = ordered.at(i);
    }
    return result;
}

} // namespace

Config rebaseConfig(const Config& base, const Config& next, const Config& onto)
{
    if (onto == base)
        return next;
    Config result = onto;
    result.streamRoutes = rebaseById(base.streamRoutes, next.streamRoutes, onto.streamRoutes);
    result.upstreams = rebaseById(base.upstreams, next.upstreams, onto.upstreams);
    result.services = rebaseById(base.services, next.services, onto.services);
    result.pluginMetadata =
        rebaseById(base.pluginMetadata, next.pluginMetadata, onto.pluginMetadata);
    result.ssls = rebaseById(base.ssls, next.ssls, onto.ssls);
    if (!(next.streamProxy == base.streamProxy))
        result.streamProxy = next.streamProxy;
    if (next.explicitFields != base.explicitFields)
        result.explicitFields = next.explicitFields;
    // Streamgate's settings merge per section (admin, prometheus, ...).
    result.streamgate = rebaseSettings(base.streamgate, next.streamgate, onto.streamgate);
    return result;
}

bool ConfigDiff::isEmpty() const
{
    return routesAdded.isEmpty() && routesChanged.isEmpty() && routesRemoved.isEmpty() &&
           upstreamsAdded.isEmpty() && upstreamsChanged.isEmpty() && upstreamsRemoved.isEmpty() &&
           servicesAdded.isEmpty() && servicesChanged.isEmpty() && servicesRemoved.isEmpty() &&
           sslsAdded.isEmpty() && sslsChanged.isEmpty() && sslsRemoved.isEmpty() &&
           pluginMetadataChanged.isEmpty() && !routeOrderChanged && !listenersChanged &&
           !settingsChanged;
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
    diffById(before.services, after.services, diff.servicesAdded, diff.servicesChanged,
             diff.servicesRemoved);
    diffById(before.ssls, after.ssls, diff.sslsAdded, diff.sslsChanged, diff.sslsRemoved);
    QStringList metadataAdded, metadataRemoved;
    diffById(before.pluginMetadata, after.pluginMetadata, metadataAdded, diff.pluginMetadataChanged,
             metadataRemoved);
    diff.pluginMetadataChanged += metadataAdded + metadataRemoved;
    // A route runs with what its service and the plugin metadata give it
    // (Config::effectiveRoute).
    const QSet<QString> servicesTouched(diff.servicesChanged.cbegin(), diff.servicesChanged.cend());
    const bool metadataTouched = !diff.pluginMetadataChanged.isEmpty();
    for (const StreamRoute& route : after.streamRoutes) {
        const QString id = route.idString();
        const bool touched = servicesTouched.contains(idText(route.serviceId)) ||
                             (metadataTouched && !(before.effectiveRoute(route).plugins ==
                                                   after.effectiveRoute(route).plugins));
        if (touched && !diff.routesAdded.contains(id) && !diff.routesChanged.contains(id)) {
            diff.routesChanged << id;
            diff.routesChangedByService << id;
        }
    }
    // Listeners are a set: listing the same ports in another order opens and closes nothing.
    diff.listenersChanged =
        listenerSet(before.streamProxy.tcp) != listenerSet(after.streamProxy.tcp) ||
        listenerSet(before.streamProxy.udp) != listenerSet(after.streamProxy.udp);
    diff.settingsChanged = before.streamgate != after.streamgate;
    return diff;
}

} // namespace sg
