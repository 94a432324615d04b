#pragma once
// Streamgate's own settings: everything under the config file's "streamgate" key (APISIX has no
// such section, so an exported config leaves it out). Every field is optional and remembers
// whether the user wrote it: a key written with its default value stays in the file, and one
// never written is never added. Each key is spelled once, in settingkey below; the decoder and
// encoder (model/codec.h) walk one table of sections, so a new section is one entry there.

#include "model/toxic.h"

#include <QJsonObject>
#include <QList>
#include <QMap>
#include <QString>
#include <optional>

namespace sg {

namespace settingkey {
inline constexpr char Section[] = "streamgate";
inline constexpr char Admin[] = "admin";
inline constexpr char Prometheus[] = "prometheus";
inline constexpr char Listen[] = "listen";
inline constexpr char Key[] = "key";
inline constexpr char MysqlInspect[] = "mysql_inspect";
inline constexpr char MysqlCommands[] = "mysql_commands";
inline constexpr char MysqlDigests[] = "mysql_digests";
inline constexpr char PostgresInspect[] = "postgres_inspect";
inline constexpr char PostgresDigests[] = "postgres_digests";
inline constexpr char DatabaseTls[] = "database_tls";
inline constexpr char DatabaseServerTls[] = "database_server_tls";
inline constexpr char Routes[] = "routes";
inline constexpr char DisabledRoutes[] = "disabled_routes";
inline constexpr char Route[] = "route";
inline constexpr char Protocol[] = "protocol";
inline constexpr char Toxiproxy[] = "toxiproxy";
inline constexpr char Toxics[] = "toxics";
inline constexpr char Fault[] = "fault";
inline constexpr char Control[] = "control";
inline constexpr char AccessLog[] = "access_log";
inline constexpr char Enable[] = "enable";
inline constexpr char Format[] = "format";
inline constexpr char InterimInterval[] = "interim_interval";
inline constexpr char RealIpFrom[] = "real_ip_from";
inline constexpr char SslTrustedCertificate[] = "ssl_trusted_certificate";
inline constexpr char AllowExpiry[] = "allow_expiry";
inline constexpr char Since[] = "since";
inline constexpr char Until[] = "until";
inline constexpr char Once[] = "once";
inline constexpr char UntilQuit[] = "until_quit";
} // namespace settingkey

// "streamgate.admin.listen": the dotted path of a setting, for messages and logs.
QString settingPath(std::initializer_list<const char*> keys);

struct AdminSettings
{
    std::optional<QString> listen; // "127.0.0.1:9180", "[::1]:9180" or a port (loopback)
    std::optional<QString> key;    // X-API-KEY; none: one generated beside the config file
    bool operator==(const AdminSettings&) const = default;
};

struct PrometheusSettings
{
    std::optional<QString> listen; // default 127.0.0.1:9091
    bool operator==(const PrometheusSettings&) const = default;
};

// streamgate.toxiproxy: the Toxiproxy-compatible API (api/toxiproxyapi.h).
struct ToxiproxySettings
{
    std::optional<QString> listen; // default 127.0.0.1:8474
    bool operator==(const ToxiproxySettings&) const = default;
};

// streamgate.control: APISIX's control API (api/controlapi.h).
struct ControlSettings
{
    std::optional<QString> listen; // default 127.0.0.1:9090
    bool operator==(const ControlSettings&) const = default;
};

// streamgate.access_log.interim_interval bounds (seconds).
inline constexpr int kAccessLogInterimMinSeconds = 1;
inline constexpr int kAccessLogInterimMaxSeconds = 86400;

// streamgate.access_log: headless mode's access log on stdout (runtime/accesslogwriter.h).
// APISIX spells the same as nginx_config.stream.enable_access_log and .access_log_format; its
// log is off by default, Streamgate's is on.
struct AccessLogSettings
{
    std::optional<bool> enable;    // default true
    std::optional<QString> format; // a valid format (model/accesslogformat.h); default below
    // Seconds: every interval, a line for each session open longer than it ($streamgate_
    // session_state "open"), beside the line at its end. Unset: lines at the end only.
    std::optional<int> interimInterval;
    bool operator==(const AccessLogSettings&) const = default;
};

// streamgate.routes["<route id>"]
struct RouteSettings
{
    std::optional<bool> mysqlInspect;  // default: streamgate.mysql_inspect
    std::optional<bool> mysqlCommands; // default false; true implies inspection
    // default false; true implies inspection and command counting: each command's digest,
    // time, rows and error are recorded (stats/sqlstats.h)
    std::optional<bool> mysqlDigests;
    std::optional<bool> postgresInspect; // default: streamgate.postgres_inspect
    // default false; true implies inspection: each command's digest, time, rows and error
    // are recorded, as mysql_digests does for MySQL
    std::optional<bool> postgresDigests;
    // default false: Streamgate answers a database client's request for TLS (PostgreSQL,
    // MySQL/MariaDB) itself, with a
    // certificate of its development CA (config/developmentca.h), and speaks plaintext (or,
    // with databaseServerTls, TLS of its own) to the server, so user, database and statements
    // stay visible
    std::optional<bool> databaseTls;
    // With database_tls: the leg to the server (DatabaseServerTls), "off" by default
    std::optional<QString> databaseServerTls;
    bool operator==(const RouteSettings&) const = default;
};

// streamgate.routes.<id>.database_server_tls, on a route with database_tls: how Streamgate
// reaches the database server. Off: plaintext (the default); Prefer: TLS when the server offers
// it (PostgreSQL answers 'S' to an SSLRequest, a MySQL greeting has CLIENT_SSL), else
// plaintext; Require: TLS or the session is refused; Verify: Require, and the server's
// certificate must chain to streamgate.ssl_trusted_certificate and carry the node's host name
// or IP address (libpq's sslmode=verify-full).
enum class DatabaseServerTls : quint8 { Off, Prefer, Require, Verify };
// "off", "prefer", "require", "verify"; nullopt for any other text.
std::optional<DatabaseServerTls> databaseServerTlsFromString(const QString& text);
QString toString(DatabaseServerTls mode);

// One entry of streamgate.disabled_routes: a route taken out of stream_routes, and the
// listener it had, so enabling it restores both. "fault": true marks a route taken down as an
// injected fault ("Server down", config/toxicedits.h) rather than by the user: clearing every
// fault enables it again, while a route the user disabled stays disabled.
struct DisabledRouteSettings
{
    QJsonObject route;               // a valid stream route, in its encoded form
    std::optional<QString> protocol; // "tcp" or "udp"
    std::optional<QString> listen;   // "127.0.0.1:13306" or "13306"
    std::optional<bool> fault;       // true: down as a fault; absent: disabled by the user
    bool operator==(const DisabledRouteSettings&) const = default;
};

// streamgate.allow_expiry["<route id>"]["<client ip>"]: an allow that ends
// (core/runtime/allowexpiry.h). The client's entry in the route's ip-restriction whitelist is
// plain, as APISIX takes it; when the access ends, Streamgate takes it out of the whitelist and
// this entry with it. Exactly one of until (with or without once) and until_quit is written. Times
// are ISO 8601, UTC.
struct AllowExpirySettings
{
    std::optional<QString> since;  // when the client was allowed
    std::optional<QString> until;  // when access ends ("once": if no connection came by then)
    std::optional<bool> once;      // ends when the first connection it let in ends
    std::optional<bool> untilQuit; // ends when Streamgate quits (or at the next start)
    bool operator==(const AllowExpirySettings&) const = default;
};
using AllowExpiryMap = QMap<QString, QMap<QString, AllowExpirySettings>>; // route id -> ip -> entry

struct StreamgateSettings
{
    std::optional<AdminSettings> admin;
    std::optional<PrometheusSettings> prometheus;
    std::optional<bool> mysqlInspect;    // default true
    std::optional<bool> postgresInspect; // default true
    std::optional<QMap<QString, RouteSettings>> routes;
    std::optional<QList<DisabledRouteSettings>> disabledRoutes;
    std::optional<ToxiproxySettings> toxiproxy;
    // streamgate.toxics["<route id>"]: the route's toxics in chain order (model/toxic.h). A
    // route listed here, even with none, takes toxics added later on connections already open.
    std::optional<QMap<QString, QList<ToxicSpec>>> toxics;
    std::optional<ControlSettings> control;
    std::optional<AccessLogSettings> accessLog;
    // streamgate.real_ip_from: who may tell a client's address in a PROXY protocol header
    // (IPs, CIDRs, "unix:"), APISIX's nginx_config.stream.real_ip_from. Unset: loopback only.
    std::optional<QStringList> realIpFrom;
    // streamgate.ssl_trusted_certificate: the CAs an upstream with tls.verify trusts, as
    // APISIX's apisix.ssl.ssl_trusted_certificate: "system" (the default: the system's store,
    // OpenSSL's default paths, /etc/ssl/certs on Debian) or the path of a PEM file of CA
    // certificates (a relative path from the working directory, as APISIX's CLI resolves it).
    std::optional<QString> sslTrustedCertificate;
    std::optional<AllowExpiryMap> allowExpiry;

    bool isEmpty() const { return *this == StreamgateSettings{}; }
    // The values in effect (defaults for what is not written).
    QString adminListen() const;
    QString adminKey() const;
    QString prometheusListen() const;
    bool mysqlInspectFor(const QString& routeId) const;
    bool mysqlCommandsFor(const QString& routeId) const;
    bool mysqlDigestsFor(const QString& routeId) const;
    // The route's own settings say it fronts MySQL (mysql_inspect, _commands or _digests true).
    bool mysqlDeclaredFor(const QString& routeId) const;
    bool postgresInspectFor(const QString& routeId) const;
    bool postgresDigestsFor(const QString& routeId) const;
    bool databaseTlsFor(const QString& routeId) const;
    // Off unless the route has database_tls too (the decoder refuses it alone).
    DatabaseServerTls databaseServerTlsFor(const QString& routeId) const;
    QList<DisabledRouteSettings> disabledRouteList() const;
    QString toxiproxyListen() const;
    QString controlListen() const;
    bool accessLogEnabled() const;
    // The trusted sources in effect: as written, else 127.0.0.0/8 and ::1 (a tunnel agent or
    // load balancer on the same machine, e.g. ngrok's or frp's client).
    QStringList realIpFromList() const;
    QString trustedCertificates() const { return sslTrustedCertificate.value_or("system"); }
    // The format as written (validated when decoded), or an empty string when none is: the
    // default line is APISIX's format with route and reason after it (stats/accesslog.h).
    QString accessLogFormat() const;
    int accessLogInterimSeconds() const; // 0: no interim lines
    AllowExpiryMap allowExpiryMap() const { return allowExpiry.value_or(AllowExpiryMap()); }
    QMap<QString, QList<ToxicSpec>> toxicMap() const
    {
        return toxics.value_or(QMap<QString, QList<ToxicSpec>>());
    }
    bool operator==(const StreamgateSettings&) const = default;
};

} // namespace sg
