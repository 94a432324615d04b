#pragma once
// The MySQL inspector (mysqlinspector.h) as a relay filter on both directions of a TCP
// session: it observes the bytes while the inspector wants them, never alters or holds one,
// and publishes what it learns (user, database, server version, TLS, commands) in the
// session's ConnectionRecord. Once a direction is done, its filter passes and the direction
// returns to splice. With digests on, both directions stay observed for the whole session.

#include "proxy/relayfilter.h"

#include <memory>

namespace sg {

class Worker;
struct RouteStats;

struct MySqlFilterOptions
{
    bool countCommands = false; // keep the client direction observed after the login
    // Follow every command and its response after the login (proxy/mysqltracker.h) and record
    // each in routeStats.mysql (digest, time, rows, error); implies countCommands.
    bool digests = false;
};

// Adds the two filters (client -> upstream first in `out.toUpstream`, server -> client in
// `out.toClient`). What the upstream's first packet shows is kept in routeStats.mysqlUpstream
// (proxy/mysqlrefusal.h).
void addMySqlFilters(const Worker& worker, std::shared_ptr<ConnectionRecord> record,
                     RouteStats& routeStats, const MySqlFilterOptions& options,
                     SessionFilters& out);

} // namespace sg
