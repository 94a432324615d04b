#pragma once
// A route with APISIX's protocol "redis": the Redis reader (proxy/redistracker.h) as relay
// filters on both directions of a TCP session. It follows each command to its reply, records
// the command's latency and error in the route's RedisStats and shows the connection's current
// and last command in its ConnectionRecord. With faults (proxy/redisfaults.h) the client's
// direction transforms: a matching command is held for its delay before it reaches the
// server, and the commands pipelined behind it wait their turn, as in APISIX.

#include "proxy/relayfilter.h"

#include <memory>

namespace sg {

class RedisFaults;
class Worker;
struct RouteStats;

// faults: nullptr or empty for none.
void addRedisFilters(const Worker& worker, std::shared_ptr<ConnectionRecord> record,
                     RouteStats& routeStats, std::shared_ptr<const RedisFaults> faults,
                     SessionFilters& out);

} // namespace sg
