#include "api/adminsql.h"

#include "api/adminreply.h"
#include "config/configstore.h"
#include "proxy/engine.h"
#include "proxy/sqldigest.h"
#include "stats/sqlstats.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QUrlQuery>
#include <algorithm>

namespace sg {

namespace {

using namespace adminreply;
using Method = HttpRequest::Method;

const QString kMySqlPrefix = QStringLiteral("/streamgate/v1/mysql/");
const QString kPostgresPrefix = QStringLiteral("/streamgate/v1/postgres/");

enum class Table { Digests, Errors, Commands };

QJsonValue jsonCount(quint64 n)
{
    return QJsonValue(qint64(n));
}

// ProxySQL names the database "schemaname" in its MySQL tables, "database" in its pgsql ones.
QString schemaField(SqlProtocol protocol)
{
    return protocol == SqlProtocol::MySql ? QStringLiteral("schemaname")
                                          : QStringLiteral("database");
}

QJsonObject digestJson(const SqlDigestRow& r, SqlProtocol protocol)
{
    return QJsonObject{
        {QStringLiteral("digest"), digestHex(r.digest)},
        {QStringLiteral("digest_text"), r.digestText},
        {schemaField(protocol), r.schemaname},
        {QStringLiteral("username"), r.username},
        {QStringLiteral("client_address"), r.clientAddress},
        {QStringLiteral("count_star"), jsonCount(r.countStar)},
        {QStringLiteral("first_seen"), r.firstSeen},
        {QStringLiteral("last_seen"), r.lastSeen},
        {QStringLiteral("sum_time"), jsonCount(r.sumTime)},
        {QStringLiteral("min_time"), jsonCount(r.minTime)},
        {QStringLiteral("max_time"), jsonCount(r.maxTime)},
        {QStringLiteral("sum_rows_affected"), jsonCount(r.sumRowsAffected)},
        {QStringLiteral("sum_rows_sent"), jsonCount(r.sumRowsSent)},
        {QStringLiteral("errors"), jsonCount(r.errors)},
    };
}

QJsonObject errorJson(const SqlErrorRow& r, SqlProtocol protocol)
{
    QJsonObject o{
        {schemaField(protocol), r.schemaname},
        {QStringLiteral("username"), r.username},
        {QStringLiteral("client_address"), r.clientAddress},
        {QStringLiteral("sqlstate"), r.sqlState},
        {QStringLiteral("count_star"), jsonCount(r.countStar)},
        {QStringLiteral("first_seen"), r.firstSeen},
        {QStringLiteral("last_seen"), r.lastSeen},
        {QStringLiteral("last_error"), r.lastError},
    };
    if (protocol == SqlProtocol::MySql)
        o.insert(QStringLiteral("errno"), int(r.errorCode));
    return o;
}

QJsonObject commandJson(const SqlCommandCounters& c)
{
    QJsonObject o{
        {QStringLiteral("command"), c.command},
        {QStringLiteral("total_time_us"), jsonCount(c.totalTimeUs)},
        {QStringLiteral("total_cnt"), jsonCount(c.totalCount)},
        {QStringLiteral("errors"), jsonCount(c.errors)},
    };
    for (std::size_t i = 0; i < c.buckets.size(); ++i)
        o.insert(SqlCommandCounters::bucketName(i), jsonCount(c.buckets[i]));
    return o;
}

} // namespace

AdminSqlStats::AdminSqlStats(ConfigStore* store, Engine* engine) : m_store(store), m_engine(engine)
{
}

bool AdminSqlStats::owns(const QString& path)
{
    return path.startsWith(kMySqlPrefix) || path.startsWith(kPostgresPrefix);
}

HttpResponse AdminSqlStats::handle(const HttpRequest& request)
{
    const QString path = request.url().path();
    const SqlProtocol protocol =
        path.startsWith(kMySqlPrefix) ? SqlProtocol::MySql : SqlProtocol::Postgres;
    const QString& prefix = protocol == SqlProtocol::MySql ? kMySqlPrefix : kPostgresPrefix;
    const QString name = path.mid(prefix.size());
    Table table;
    if (name == u"digests")
        table = Table::Digests;
    else if (name == u"errors")
        table = Table::Errors;
    else if (name == u"commands")
        table = Table::Commands;
    else
        return error(QStringLiteral("404 Route Not Found"), HttpStatus::NotFound);
    const QByteArray allow = table == Table::Commands ? "GET" : "GET, DELETE";
    if (request.method() != Method::Get &&
        (request.method() != Method::Delete || table == Table::Commands))
        return methodNotAllowed(request.method(), allow);
    if (!m_engine)
        return error(QStringLiteral("the proxy engine is not running"),
                     HttpStatus::ServiceUnavailable);

    const QString routeId =
        QUrlQuery(request.url()).queryItemValue(QStringLiteral("route"), QUrl::FullyDecoded);
    if (routeId.isEmpty())
        return error(QStringLiteral("route is required: %1%2?route=ID names the stream route")
                         .arg(prefix, name),
                     HttpStatus::BadRequest);
    const Config config = m_store->config();
    if (!config.findRoute(routeId))
        return error(QStringLiteral("route %1 not found").arg(routeId.left(100)),
                     HttpStatus::NotFound);
    const std::shared_ptr<SqlStats> stats = m_engine->sqlStats(routeId, protocol);

    if (request.method() == Method::Delete) {
        if (table == Table::Digests)
            stats->resetDigests();
        else
            stats->resetErrors();
        return json(
            QJsonObject{{QStringLiteral("route_id"), routeId}, {QStringLiteral("deleted"), name}});
    }
    QJsonArray list;
    QJsonObject body{
        {QStringLiteral("route_id"), routeId},
        {QStringLiteral("recording"), protocol == SqlProtocol::MySql
                                          ? config.streamgate.mysqlDigestsFor(routeId)
                                          : config.streamgate.postgresDigestsFor(routeId)}};
    switch (table) {
    case Table::Digests: {
        QList<SqlDigestRow> rows = stats->digests();
        std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
            return a.sumTime > b.sumTime; // where the time goes first
        });
        for (const SqlDigestRow& r : rows)
            list.append(digestJson(r, protocol));
        body.insert(QStringLiteral("dropped"), jsonCount(stats->droppedDigests()));
        break;
    }
    case Table::Errors:
        for (const SqlErrorRow& r : stats->errors())
            list.append(errorJson(r, protocol));
        body.insert(QStringLiteral("dropped"), jsonCount(stats->droppedErrors()));
        break;
    case Table::Commands:
        for (const SqlCommandCounters& c : stats->commands())
            list.append(commandJson(c));
        break;
    }
    body.insert(QStringLiteral("total"), list.size());
    body.insert(QStringLiteral("list"), list);
    return json(body);
}

} // namespace sg
