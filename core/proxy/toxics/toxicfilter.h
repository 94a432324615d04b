#pragma once
// The toxics of a route as relay filters (proxy/relayfilter.h): one filter per direction of a
// TCP session, running the route's toxics of that stream ("upstream": client -> server,
// "downstream": server -> client) as a chain of stages (toxicstages.h), in the order they were
// added. Whether a toxic hits this connection is drawn once per connection from its toxicity
// (again when the toxic is changed). The filter re-reads the route's list whenever its version
// moves (toxicboard.h): added, changed and removed toxics apply to the open connection. While
// no toxic of its direction hits the connection and it holds nothing, the filter passes, and
// the direction is relayed as if it had none (splice).

#include "proxy/relayfilter.h"

#include <memory>

namespace sg {

class RouteToxics;

void addToxicFilters(std::shared_ptr<RouteToxics> toxics, SessionFilters& out);

} // namespace sg
