#pragma once
// The toxics of a route as relay filters (proxy/relayfilter.h): one filter per direction of a
// TCP session, running the route's toxics of that stream ("upstream": client -> server,
// "downstream": server -> client) as a chain of stages (toxicstages.h), in the order they were
// added. A toxic hits this connection when it is enabled, the client's address is among its
// clients (if it names any) and the draw from its toxicity, made once per connection (again when
// the toxicity is changed), says so; a toxic that misses passes the bytes on untouched. The filter
// re-reads the route's list whenever its version moves (toxicboard.h): added, changed and removed
// toxics apply to the open connection. While no toxic of its direction hits the connection and it
// holds nothing, the filter passes, and the direction is relayed as if it had none (splice).

#include "proxy/relayfilter.h"

#include <memory>

namespace sg {

class ConnectionRecord;
class RouteToxics;

// The session of `connection` (its id and client address) on a route with toxics.
void addToxicFilters(std::shared_ptr<RouteToxics> toxics, const ConnectionRecord& connection,
                     SessionFilters& out);

} // namespace sg
