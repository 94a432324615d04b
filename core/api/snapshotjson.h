#pragma once
// JSON views of engine snapshots for /streamgate/v1/ (connections, stats, events). Field names
// are snake_case like APISIX's; times are milliseconds since the epoch; "up" bytes flow client
// -> upstream and "down" bytes upstream -> client, as in the snapshot.

#include "stats/snapshot.h"

#include <QJsonArray>
#include <QJsonObject>

namespace sg {

QJsonObject connectionToJson(const ConnectionInfo& connection);
QJsonObject routeCountersToJson(const RouteCounters& counters);
QJsonObject listenerToJson(const ListenerStatus& listener);
QJsonObject nodeToJson(const NodeStatus& node);
QJsonObject eventToJson(const Event& event);
QJsonObject toxicToJson(const ToxicStatus& toxic);

// {"taken": ms, "routes": [...], "listeners": [...], "nodes": [...], "toxics": [...]}
QJsonObject statsToJson(const Snapshot& snapshot);

} // namespace sg
