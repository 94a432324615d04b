#pragma once
// The MySQL inspector (mysqlinspector.h) as a relay filter on both directions of a TCP
// session: it observes the bytes while the inspector wants them, never alters or holds one,
// and publishes what it learns (user, database, server version, TLS, commands) in the
// session's ConnectionRecord. Once a direction is done, its filter passes and the direction
// returns to splice.

#include "proxy/relayfilter.h"

#include <memory>

namespace sg {

class Worker;

// Adds the two filters (client -> upstream first in `out.toUpstream`, server -> client in
// `out.toClient`); countCommands keeps the client direction observed after the login.
void addMySqlFilters(const Worker& worker, std::shared_ptr<ConnectionRecord> record,
                     bool countCommands, SessionFilters& out);

} // namespace sg
