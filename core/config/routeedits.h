#pragma once
// Config edits on whole routes, as pure functions on a Config value, for the window, the admin
// API and headless mode alike (the caller hands the result to ConfigStore, which validates it
// as a whole). A route's listener is the stream_proxy entry whose port (or range) holds the
// route's server_port; these functions keep stream_proxy in step when a route's port or protocol
// changes, is disabled, enabled or deleted. A port range is the user's own and is never removed,
// moved or split by these edits: a route that leaves it leaves it listening, and a route moved
// to another address gets a single-port entry there.
// Disabled routes are kept under streamgate.disabled_routes (APISIX has no such notion):
// [{"route": {...}, "protocol": "tcp", "listen": "127.0.0.1:13306"}].

#include "model/streamroute.h"
#include "stats/snapshot.h"

#include <optional>

namespace sg {

struct RouteListen
{
    Protocol protocol = Protocol::Tcp;
    QString host; // empty = all addresses (a bare port in stream_proxy)
    int port = 0;
    bool operator==(const RouteListen&) const = default;
};

struct DisabledRoute
{
    StreamRoute route;
    std::optional<RouteListen> listen;
    bool fault = false; // down as an injected fault, not by the user (config/toxicedits.h)
};

ListenEntry makeListenEntry(const QString& host, int port);
// Where the route listens: the first stream_proxy entry holding its server_port (TCP first;
// of one protocol, an entry of that port alone before a range), as the single port.
std::optional<RouteListen> listenOf(const StreamProxy& proxy, const StreamRoute& route);
// Adds `next` (if not present) and drops `previous` when nothing in `config` other than route
// `exceptRouteId` still uses that port on that protocol.
StreamProxy proxyWithListen(const Config& config, const QString& exceptRouteId,
                            const std::optional<RouteListen>& previous,
                            const std::optional<RouteListen>& next);

QList<DisabledRoute> disabledRoutes(const Config& config);
// fault: disabled as an injected fault ("Server down", toxicedits.h), not by the user.
Config withRouteDisabled(const Config& config, const QString& id, bool fault = false);
Config withRouteEnabled(const Config& config, const QString& id);
Config withDisabledRouteRemoved(const Config& config, const QString& id);
// Deletes an enabled route and its listener when no other route uses it.
Config withRouteDeleted(const Config& config, const QString& id);

// "127.0.0.1:3306", "2 nodes, least_conn", "upstream pg (1 node)", "service db: 127.0.0.1:3306".
QString upstreamSummary(const Config& config, const StreamRoute& route);
// An id not used by any route (enabled or disabled): base, base-2, base-3, ...
QString uniqueRouteId(const Config& config, const QString& base);

} // namespace sg

namespace sg {

// The route holding the ip-restriction it runs with as its own: one that takes its service's
// gets a copy, so that allowing or blocking a client on the route changes that route only (of
// a plugin both configure, the route's conf wins). Other routes are returned as they are.
StreamRoute withOwnIpRestriction(const Config& config, const StreamRoute& route);
// The route with `ip` allowed through its ip-restriction: added to a whitelist, or removed
// from a blacklist. nullopt with *why set when nothing needs to (or can) change.
std::optional<StreamRoute> withClientAllowed(const StreamRoute& route, const QString& ip,
                                             QString* why);
// The route with `ip` refused: added to a blacklist (one is created when the route has no
// ip-restriction), or its exact entry removed from a whitelist.
std::optional<StreamRoute> withClientBlocked(const StreamRoute& route, const QString& ip,
                                             QString* why);

} // namespace sg
