#pragma once
// What a route's MySQL or PostgreSQL clients asked, over HTTP, in ProxySQL's field names and
// units (times in microseconds, first/last seen in Unix seconds; stats/sqlstats.h):
//   GET    /streamgate/v1/mysql/digests?route=ID   stats_mysql_query_digest, one row per digest,
//                                                  user, schema and client address
//   GET    /streamgate/v1/mysql/errors?route=ID    stats_mysql_errors
//   GET    /streamgate/v1/mysql/commands?route=ID  stats_mysql_commands_counters
//   DELETE on digests or errors                    empties that table (as ProxySQL's *_reset)
// and the same under /streamgate/v1/postgres/ as stats_pgsql_query_digest, stats_pgsql_errors
// and stats_pgsql_commands_counters: "database" where MySQL's rows say "schemaname", and
// errors by "sqlstate" alone (Postgres has no error numbers).
// Each answer is {"route_id", "total", "list"}; digests and errors add "dropped", the rows
// that found the table full. The route's digests are recorded only while its settings say
// "mysql_digests" (or "postgres_digests"): true; "recording" says whether they do now.
// AdminServer checks the key before a request gets here.

#include "api/httpfront.h"

#include <QString>

namespace sg {

class ConfigStore;
class Engine;

class AdminSqlStats final
{
public:
    // engine may be null: every request then answers 503.
    AdminSqlStats(ConfigStore* store, Engine* engine);

    static bool owns(const QString& path);
    HttpResponse handle(const HttpRequest& request);

private:
    ConfigStore* m_store;
    Engine* m_engine;
};

} // namespace sg
