#pragma once
// The PostgreSQL reader (proxy/pgtracker.h) as a relay filter on both directions of a TCP
// session. It never alters or holds a byte. A session whose client does not open with a
// PostgreSQL startup packet (its first byte is that packet's length, so 0) is let go at its
// first read, without a reader. Otherwise what the startup and the login show (user,
// database, application, server version, TLS, a login error) is published in the session's
// ConnectionRecord; with digests on, each command after the login is followed to its answer
// and recorded in routeStats.postgres, as the MySQL filter does for MySQL. Without digests, or
// once the reader loses track (TLS, a protocol it does not follow), both filters pass and the
// session returns to splice.

#include "proxy/relayfilter.h"

#include <memory>

namespace sg {

class Worker;
struct RouteStats;

void addPostgresFilters(const Worker& worker, std::shared_ptr<ConnectionRecord> record,
                        RouteStats& routeStats, bool digests, SessionFilters& out);

} // namespace sg
