#include "config/toxicedits.h"

#include "config/routeedits.h"

#include <QCoreApplication>

namespace sg {

namespace {

QString editText(const char* text)
{
    return QCoreApplication::translate("sg::toxicedits", text);
}

bool routeExists(const Config& config, const QString& id)
{
    if (config.findRoute(id))
        return true;
    for (const DisabledRoute& d : disabledRoutes(config))
        if (d.route.idString() == id)
            return true;
    return false;
}

ToxicEditError noRoute(const QString& routeId)
{
    return {ToxicEditError::Kind::NoRoute, editText("there is no route %1").arg(routeId)};
}

ToxicEditError noToxic(const QString& routeId, const QString& name)
{
    return {ToxicEditError::Kind::NoToxic,
            editText("route %1 has no toxic named \"%2\"").arg(routeId, name)};
}

ToxicEditError nameTaken(const QString& routeId, const QString& name)
{
    return {ToxicEditError::Kind::NameTaken,
            editText("route %1 already has a toxic named \"%2\": names are unique per route")
                .arg(routeId, name)};
}

qsizetype indexOf(const QList<ToxicSpec>& list, const QString& name)
{
    for (qsizetype i = 0; i < list.size(); ++i)
        if (list.at(i).name == name)
            return i;
    return -1;
}

Config withList(const Config& config, const QString& routeId, const QList<ToxicSpec>& list)
{
    Config next = config;
    QMap<QString, QList<ToxicSpec>> toxics = next.streamgate.toxicMap();
    toxics.insert(routeId, list);
    next.streamgate.toxics = toxics;
    return next;
}

} // namespace

ToxicEdit withToxicAdded(const Config& config, const QString& routeId, const ToxicSpec& toxic)
{
    if (!routeExists(config, routeId))
        return noRoute(routeId);
    QList<ToxicSpec> list = config.streamgate.toxicMap().value(routeId);
    if (indexOf(list, toxic.name) >= 0)
        return nameTaken(routeId, toxic.name);
    list << toxic;
    return withList(config, routeId, list);
}

ToxicEdit withToxicReplaced(const Config& config, const QString& routeId, const QString& name,
                            const ToxicSpec& toxic)
{
    if (!routeExists(config, routeId))
        return noRoute(routeId);
    QList<ToxicSpec> list = config.streamgate.toxicMap().value(routeId);
    const qsizetype at = indexOf(list, name);
    if (at < 0)
        return noToxic(routeId, name);
    if (toxic.name != name && indexOf(list, toxic.name) >= 0)
        return nameTaken(routeId, toxic.name);
    list[at] = toxic;
    return withList(config, routeId, list);
}

ToxicEdit withToxicRemoved(const Config& config, const QString& routeId, const QString& name)
{
    QList<ToxicSpec> list = config.streamgate.toxicMap().value(routeId);
    const qsizetype at = indexOf(list, name);
    if (at < 0)
        return routeExists(config, routeId) ? noToxic(routeId, name) : noRoute(routeId);
    list.removeAt(at);
    return withList(config, routeId, list);
}

Config withToxicsSwitchedOff(const Config& config)
{
    Config next = config;
    if (next.streamgate.toxics) {
        QMap<QString, QList<ToxicSpec>> toxics = *next.streamgate.toxics;
        for (auto it = toxics.begin(); it != toxics.end(); ++it)
            for (ToxicSpec& t : it.value())
                t.enabled = false;
        next.streamgate.toxics = toxics;
    }
    return next;
}

Config withFaultsCleared(const Config& config)
{
    Config next = config;
    if (next.streamgate.toxics) {
        QMap<QString, QList<ToxicSpec>> toxics = *next.streamgate.toxics;
        for (auto it = toxics.begin(); it != toxics.end(); ++it)
            it.value().clear();
        next.streamgate.toxics = toxics;
    }
    for (const DisabledRoute& d : disabledRoutes(config))
        if (d.fault)
            next = withRouteEnabled(next, d.route.idString());
    return next;
}

ToxicEdit withRouteDown(const Config& config, const QString& routeId)
{
    if (!config.findRoute(routeId)) {
        if (!routeExists(config, routeId))
            return noRoute(routeId);
        return ToxicEditError{ToxicEditError::Kind::NotUp,
                              editText("route %1 is already disabled").arg(routeId)};
    }
    return withRouteDisabled(config, routeId, true);
}

bool isRouteDown(const Config& config, const QString& routeId)
{
    for (const DisabledRoute& d : disabledRoutes(config))
        if (d.fault && d.route.idString() == routeId)
            return true;
    return false;
}

ActiveFaults activeFaults(const Config& config)
{
    ActiveFaults faults;
    const QMap<QString, QList<ToxicSpec>> toxics = config.streamgate.toxicMap();
    auto on = [&](const QString& id) {
        int n = 0;
        for (const ToxicSpec& t : toxics.value(id))
            n += t.enabled ? 1 : 0;
        return n;
    };
    auto count = [&](const QString& id, int n) {
        if (n <= 0)
            return;
        faults.count += n;
        if (!faults.routeIds.contains(id))
            faults.routeIds << id;
    };
    for (const StreamRoute& r : config.streamRoutes)
        count(r.idString(), on(r.idString()));
    for (const DisabledRoute& d : disabledRoutes(config))
        count(d.route.idString(), on(d.route.idString()) + (d.fault ? 1 : 0));
    return faults;
}

QString uniqueToxicName(const Config& config, const QString& routeId, const QString& base)
{
    const QList<ToxicSpec> list = config.streamgate.toxicMap().value(routeId);
    QString candidate = base;
    for (int n = 2; indexOf(list, candidate) >= 0; ++n)
        candidate = QStringLiteral("%1_%2").arg(base).arg(n);
    return candidate;
}

} // namespace sg
