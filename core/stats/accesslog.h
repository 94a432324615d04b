#pragma once
// The text of headless mode's access log: one line per closed session and per refused
// connection in a format of nginx stream variables (model/accesslogformat.h), and one line per
// node/listener/info event. Unless the config names a format, a session's line is APISIX's
// default stream access log line
//   remote_addr [time_local] protocol status bytes_sent bytes_received session_time
// followed by route="<id>" reason="<close reason>". Long sessions may also get interim lines
// while open (access_log.interim_interval). Pure functions; the writer that feeds them
// from the engine is runtime/accesslogwriter.h.

#include "model/accesslogformat.h"
#include "stats/snapshot.h"

#include <QString>

namespace sg {

// nginx stream $status for a session that ended this way (200, 400, 403, 502, 503).
int accessLogStatus(CloseReason reason);
// The code APISIX's apisix_stream_status counts such a session under: $status, except that a
// session that ended with 200 after a client reset is 400, after an upstream reset, error or
// timeout (or a reset injected as a fault) 502.
int apisixStreamStatusCode(CloseReason reason);

// APISIX's default format with ` route="$route_id" reason="$close_reason"` after it.
const AccessLogFormat& defaultAccessLogFormat();

// One variable's text for a session, as nginx writes it: "-" for an upstream value of a
// session that reached no upstream; one value per connect attempt, joined by ", ", for the
// upstream variables of a session that retried; times as seconds with milliseconds; the time
// variables at the session's end, when nginx writes its line.
QString accessLogValue(AccessLogVariable variable, const ConnectionInfo& connection);

// An open session as an interim line shows it at nowMs: its time variables as if it ended
// then, its byte counts as relayed so far, $streamgate_session_state "open" and no reason.
ConnectionInfo interimAccessLogView(const ConnectionInfo& open, qint64 nowMs);

QString formatAccessLogSession(const ConnectionInfo& connection,
                               const AccessLogFormat& format = defaultAccessLogFormat());
// Empty for events that produce no line (Open).
QString formatAccessLogEvent(const Event& event,
                             const AccessLogFormat& format = defaultAccessLogFormat());
// The line that says `count` events were lost before the one stamped timeMs.
QString formatAccessLogDropped(qint64 timeMs, qint64 count);

} // namespace sg
