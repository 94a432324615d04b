#pragma once
// A refused client of a route that fronts MySQL is told why in MySQL's own words: instead of a
// bare close (which `mariadb`, JDBC and PyMySQL report as "Lost connection to MySQL server"),
// it gets the ERR packet a MySQL server sends in place of its greeting to a client it will not
// serve. The client prints the code and the message, which names Streamgate and the route:
//   1130  refused by ip-restriction (or another plugin): "Host '<client>' is not allowed ..."
//   1040  refused by limit-conn or a drained route: "Too many connections ..."
//   9001  no upstream node could be reached: "Can't connect to MySQL server ..." (ProxySQL's
//         code for it; clients take codes of 2000-2999 for their own and refuse them)
// A route fronts MySQL when its upstream greeted as a MySQL server the last time the inspector
// saw one (RouteStats::mysqlUpstream), or when its settings say so (RouteEntry::mysqlDeclared).

#include "stats/snapshot.h"

#include <QString>
#include <string>

namespace sg {

struct RouteEntry;

bool frontsMySql(const RouteEntry& route);

// The ERR packet (header with sequence 0, then 0xFF, the code and the message; no SQL state,
// as no capabilities are agreed before the greeting). `why` is the refusal as the event log
// says it.
std::string mysqlRefusalPacket(CloseReason reason, const QString& clientHost, const QString& why);

// Sends the packet on a client socket nothing has been written to yet. Best effort: a freshly
// accepted socket's send buffer is empty, so the write completes or the client is gone.
void sendMySqlRefusal(int fd, CloseReason reason, const QString& clientHost, const QString& why);

} // namespace sg
