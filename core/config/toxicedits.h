#pragma once
// Config edits on injected faults, as pure functions on a Config value, for the window and the
// Toxiproxy API alike (the caller hands the result to ConfigStore). A route's toxics are
// streamgate.toxics["<route id>"] in chain order (model/toxic.h), names unique on the route; a
// route's entry is kept when its last toxic goes, so toxics added later still reach the
// connections already open. "Server down" is the route disabled (routeedits.h) with the
// entry's "fault" marker set: clearing every fault enables such a route again, while a route
// the user disabled stays disabled.

#include "model/streamroute.h"

#include <QString>
#include <QStringList>
#include <variant>

namespace sg {

struct ToxicEditError
{
    enum class Kind {
        NoRoute,   // no route (enabled or disabled) has this id
        NoToxic,   // the route has no toxic of this name
        NameTaken, // the route already has a toxic of this name
        NotUp,     // "Server down" on a route that is not enabled
    };
    Kind kind;
    QString message; // names the route and the toxic
};

using ToxicEdit = std::variant<Config, ToxicEditError>;

// The toxic appended to the route's chain; its name must be new on the route.
ToxicEdit withToxicAdded(const Config& config, const QString& routeId, const ToxicSpec& toxic);
// The toxic named `name` replaced in place by `toxic` (which may carry another name, if that
// one is free on the route).
ToxicEdit withToxicReplaced(const Config& config, const QString& routeId, const QString& name,
                            const ToxicSpec& toxic);
ToxicEdit withToxicRemoved(const Config& config, const QString& routeId, const QString& name);
// Every toxic switched off ("enabled": false): kept in the config, hitting nothing. Routes down
// as a fault stay down (that fault has no "off" short of bringing the route back).
Config withToxicsSwitchedOff(const Config& config);
// Every toxic of every route removed (the entries kept, empty) and every route down as a fault
// enabled again, its listener back. Routes the user disabled are left alone.
Config withFaultsCleared(const Config& config);

// "Server down": the route disabled (listener closed, new clients refused) and marked as a
// fault. The caller cuts the route's open connections (Engine::killRoute).
ToxicEdit withRouteDown(const Config& config, const QString& routeId);
bool isRouteDown(const Config& config, const QString& routeId);

// What is injected right now: every toxic switched on, of a route that exists (enabled or
// disabled), and every route down as a fault, and the ids of the routes they are on (in config
// order).
struct ActiveFaults
{
    int count = 0;
    QStringList routeIds;
    bool isEmpty() const { return count == 0; }
    bool operator==(const ActiveFaults&) const = default;
};
ActiveFaults activeFaults(const Config& config);

// A toxic name not used on the route: base, base_2, base_3, ...
QString uniqueToxicName(const Config& config, const QString& routeId, const QString& base);

} // namespace sg
