#pragma once
// The MySQL inspector (mysqlinspector.h) as a relay filter on both directions of a TCP
// session: it observes the bytes while the inspector wants them and publishes what it learns
// (user, database, server version, TLS, commands) in the session's ConnectionRecord. Once a
// direction is done, its filter passes and the direction returns to splice. With digests on,
// both directions stay observed for the whole session.
//
// With query toxics on the route (mysqlfaults.h), a session that logs in while one of them may
// hit it is followed too, and its filters transform: the client's commands are held, delayed,
// replaced or cut as the toxics say, and the server's answer to a replaced command becomes the
// toxic's ERR. Otherwise the filters never alter or hold a byte.

#include "proxy/relayfilter.h"

#include <memory>

namespace sg {

class RouteToxics;
class Worker;
struct RouteStats;

struct MySqlFilterOptions
{
    bool countCommands = false; // keep the client direction observed after the login
    // Follow every command and its response after the login (proxy/mysqltracker.h) and record
    // each in routeStats.mysql (digest, time, rows, error); implies countCommands.
    bool digests = false;
    // The route's toxics (null when it has none): their query toxics act on the commands.
    std::shared_ptr<RouteToxics> toxics;
};

// Adds the two filters (client -> upstream first in `out.toUpstream`, server -> client in
// `out.toClient`). What the upstream's first packet shows is kept in routeStats.mysqlUpstream
// (proxy/mysqlrefusal.h).
void addMySqlFilters(const Worker& worker, std::shared_ptr<ConnectionRecord> record,
                     RouteStats& routeStats, const MySqlFilterOptions& options,
                     SessionFilters& out);

} // namespace sg
