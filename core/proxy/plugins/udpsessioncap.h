#pragma once
// The UDP session cap, Streamgate's own guard (APISIX has no UDP session table to fill): a route
// holds at most EngineOptions::udpSessionCap live UDP sessions, and one client address at most a
// quarter of that (at least one), so one host cannot take a route's whole table. It runs at
// priority 2000: after ip-restriction (a denied client is counted as denied, never as over the
// cap) and before limit-conn. TCP clients pass it untouched. A session's place is given back in
// the log phase. Thread-safe; one instance per route, kept across edits of the route.

namespace sg {

// How many of a route's `cap` UDP sessions one client address may hold.
constexpr int udpSessionsPerClient(int cap)
{
    return cap / 4 > 1 ? cap / 4 : 1;
}

} // namespace sg
