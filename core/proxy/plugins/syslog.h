#pragma once
// syslog (APISIX priority 401): a logger. Its log phase runs for every client of the route,
// admitted or refused, and sends one entry per session to a syslog server (syslogsender.h):
// the route's `log_format` filled from the session's stream variables, with `route_id` (and
// `service_id`) added,
// as JSON in an RFC 5424 message of facility SYSLOG and severity INFO from app "apisix" (what
// APISIX sends, so a receiver's filters keep working).

#include "model/streamroute.h"
#include "stats/snapshot.h"

#include <QByteArray>
#include <QJsonObject>

namespace sg {

// The entry for a session that ended as `connection` says (closeReason and endMs set): each
// "$variable" replaced by its value (left out when it has none, as for an upstream variable of
// a session that reached no upstream), constants kept, nested formats filled in turn down to
// APISIX's depth of five (deeper ones become {}), route_id, and service_id when the route has
// one.
QJsonObject syslogEntry(const QJsonObject& format, const ConnectionInfo& connection,
                        const QJsonValue& serviceId = QJsonValue::Undefined);

// `<46>1 <UTC time with ms>Z - apisix <pid> - - <json>\n`.
QByteArray syslogMessage(const QByteArray& json, qint64 epochMs, qint64 pid);

} // namespace sg
