#pragma once
// The text of headless mode's access log: one line per closed session in APISIX's stream access
// log shape
//   remote_addr [time_local] protocol status bytes_sent bytes_received session_time
// followed by route="<id>" reason="<close reason>", one line in the same shape per refused
// connection, and one line per node/listener/info event. Pure functions; the writer that feeds
// them from the engine is runtime/accesslogwriter.h.

#include "stats/snapshot.h"

#include <QString>

namespace sg {

// nginx stream $status for a session that ended this way (200, 403, 502, 503).
int accessLogStatus(CloseReason reason);
QString formatAccessLogSession(const ConnectionInfo& connection);
// Empty for events that produce no line (Open).
QString formatAccessLogEvent(const Event& event);
// The line that says `count` events were lost before the one stamped timeMs.
QString formatAccessLogDropped(qint64 timeMs, qint64 count);

} // namespace sg
