// The "streamgate" section of the config file (model/settings.h): one table of fields per
// object, walked by one decoder and one encoder. A field is decoded only when written and
// encoded only when set, so a user's keys survive a round trip exactly as written.

#include "model/accesslogformat.h"
#include "model/codec.h"
#include "model/codec_p.h"
#include "model/httplisten.h"

#include <QDateTime>
#include <QJsonArray>
#include <QStringList>
#include <vector>

namespace sg {

using detail::Checker;
using detail::childPath;
using detail::indexPath;

namespace {

template <typename T> struct Field
{
    const char* key;
    void (*decode)(Checker& c, const QJsonValue& value, const QString& path, T& out);
    std::optional<QJsonValue> (*encode)(const T& in); // nullopt: not written
};

template <typename T> QString knownKeys(const std::vector<Field<T>>& fields)
{
    QStringList keys;
    for (const Field<T>& f : fields)
        keys << QLatin1String(f.key);
    return keys.join(QStringLiteral(", "));
}

// An object whose keys are the table's: each unknown key is a problem naming it.
template <typename T>
void decodeFields(Checker& c, const QJsonValue& value, const QString& path,
                  const std::vector<Field<T>>& fields, T& out)
{
    if (!c.expectObject(value, path))
        return;
    const QJsonObject o = value.toObject();
    for (auto it = o.begin(); it != o.end(); ++it) {
        const Field<T>* field = nullptr;
        for (const Field<T>& f : fields)
            if (it.key() == QLatin1String(f.key))
                field = &f;
        if (field)
            field->decode(c, it.value(), childPath(path, it.key()), out);
        else
            c.fail(childPath(path, it.key()), it.value(),
                   QStringLiteral("unknown setting \"%1\" (known: %2)")
                       .arg(it.key(), knownKeys(fields)));
    }
}

template <typename T> QJsonObject encodeFields(const std::vector<Field<T>>& fields, const T& in)
{
    QJsonObject o;
    for (const Field<T>& f : fields)
        if (const std::optional<QJsonValue> v = f.encode(in))
            o.insert(QLatin1String(f.key), *v);
    return o;
}

template <typename V> std::optional<QJsonValue> written(const std::optional<V>& v)
{
    if (!v)
        return std::nullopt;
    return QJsonValue(*v);
}

template <typename T, std::optional<bool> T::*member> Field<T> boolField(const char* key)
{
    return {key,
            [](Checker& c, const QJsonValue& v, const QString& path, T& out) {
                if (const std::optional<bool> b = c.boolean(v, path))
                    out.*member = *b;
            },
            [](const T& in) { return written(in.*member); }};
}

// An HTTP listen address of Streamgate's own (admin API, metrics): see model/httplisten.h.
template <typename T, std::optional<QString> T::*member> Field<T> httpListenField(const char* key)
{
    return {key,
            [](Checker& c, const QJsonValue& v, const QString& path, T& out) {
                const std::optional<QString> text = c.string(v, path, 0, -1);
                if (!text)
                    return;
                const HttpListen listen = parseHttpListen(*text, path);
                if (!listen.ok())
                    c.fail(path, v, listen.reason);
                else
                    out.*member = *text;
            },
            [](const T& in) { return written(in.*member); }};
}

template <typename T, std::optional<QString> T::*member> Field<T> textField(const char* key)
{
    return {key,
            [](Checker& c, const QJsonValue& v, const QString& path, T& out) {
                if (const std::optional<QString> text = c.string(v, path, 0, 4096))
                    out.*member = *text;
            },
            [](const T& in) { return written(in.*member); }};
}

// A section that is an object of its own fields.
template <typename T, typename S, std::optional<S> T::*member,
          const std::vector<Field<S>>& (*fields)()>
Field<T> sectionField(const char* key)
{
    return {key,
            [](Checker& c, const QJsonValue& v, const QString& path, T& out) {
                S section;
                decodeFields(c, v, path, fields(), section);
                out.*member = section;
            },
            [](const T& in) -> std::optional<QJsonValue> {
                if (!(in.*member))
                    return std::nullopt;
                return encodeFields(fields(), *(in.*member));
            }};
}

const std::vector<Field<AdminSettings>>& adminFields()
{
    static const std::vector<Field<AdminSettings>> fields{
        httpListenField<AdminSettings, &AdminSettings::listen>(settingkey::Listen),
        textField<AdminSettings, &AdminSettings::key>(settingkey::Key),
    };
    return fields;
}

const std::vector<Field<PrometheusSettings>>& prometheusFields()
{
    static const std::vector<Field<PrometheusSettings>> fields{
        httpListenField<PrometheusSettings, &PrometheusSettings::listen>(settingkey::Listen),
    };
    return fields;
}

const std::vector<Field<RouteSettings>>& routeFields()
{
    static const std::vector<Field<RouteSettings>> fields{
        boolField<RouteSettings, &RouteSettings::mysqlInspect>(settingkey::MysqlInspect),
        boolField<RouteSettings, &RouteSettings::mysqlCommands>(settingkey::MysqlCommands),
        boolField<RouteSettings, &RouteSettings::mysqlDigests>(settingkey::MysqlDigests),
        boolField<RouteSettings, &RouteSettings::postgresInspect>(settingkey::PostgresInspect),
        boolField<RouteSettings, &RouteSettings::postgresDigests>(settingkey::PostgresDigests),
        boolField<RouteSettings, &RouteSettings::databaseTls>(settingkey::DatabaseTls),
        {settingkey::DatabaseServerTls,
         [](Checker& c, const QJsonValue& v, const QString& path, RouteSettings& out) {
             const std::optional<QString> text = c.string(v, path, 0, -1);
             if (!text)
                 return;
             if (!databaseServerTlsFromString(*text))
                 c.fail(path, v,
                        QStringLiteral("must be \"off\", \"prefer\", \"require\" or \"verify\""));
             else
                 out.databaseServerTls = *text;
         },
         [](const RouteSettings& in) { return written(in.databaseServerTls); }},
    };
    return fields;
}

const std::vector<Field<DisabledRouteSettings>>& disabledRouteFields()
{
    using D = DisabledRouteSettings;
    static const std::vector<Field<D>> fields{
        {settingkey::Route,
         [](Checker& c, const QJsonValue& v, const QString& path, D& out) {
             const qsizetype before = c.problems.size();
             StreamRoute route;
             detail::decodeRouteInto(c, v, path, DecodeMode::File, route);
             if (c.problems.size() == before)
                 out.route = encodeStreamRoute(route);
         },
         [](const D& in) -> std::optional<QJsonValue> { return in.route; }},
        {settingkey::Protocol,
         [](Checker& c, const QJsonValue& v, const QString& path, D& out) {
             const std::optional<QString> text = c.string(v, path, 0, -1);
             if (text && *text != u"tcp" && *text != u"udp")
                 c.fail(path, v, QStringLiteral("must be \"tcp\" or \"udp\""));
             else if (text)
                 out.protocol = *text;
         },
         [](const D& in) { return written(in.protocol); }},
        {settingkey::Listen,
         [](Checker& c, const QJsonValue& v, const QString& path, D& out) {
             const std::optional<QString> text = c.string(v, path, 0, -1);
             if (!text)
                 return;
             const qsizetype before = c.problems.size();
             const Decoded<ListenEntry> listen = decodeListenEntry(v, path);
             c.problems << listen.problems;
             if (listen.ok() && listen.value.isRange())
                 // The listener a route gets back is its own server_port; ranges are
                 // stream_proxy's.
                 c.fail(path, v,
                        QStringLiteral("a disabled route's listen is one port, not a range"));
             if (c.problems.size() == before)
                 out.listen = *text;
         },
         [](const D& in) { return written(in.listen); }},
        boolField<D, &D::fault>(settingkey::Fault),
    };
    return fields;
}

const std::vector<Field<ToxiproxySettings>>& toxiproxyFields()
{
    static const std::vector<Field<ToxiproxySettings>> fields{
        httpListenField<ToxiproxySettings, &ToxiproxySettings::listen>(settingkey::Listen),
    };
    return fields;
}

const std::vector<Field<ControlSettings>>& controlFields()
{
    static const std::vector<Field<ControlSettings>> fields{
        httpListenField<ControlSettings, &ControlSettings::listen>(settingkey::Listen),
    };
    return fields;
}

const std::vector<Field<AccessLogSettings>>& accessLogFields()
{
    using A = AccessLogSettings;
    static const std::vector<Field<A>> fields{
        boolField<A, &A::enable>(settingkey::Enable),
        {settingkey::Format,
         [](Checker& c, const QJsonValue& v, const QString& path, A& out) {
             // The parser bounds the length itself, with a reason that says so.
             const std::optional<QString> text = c.string(v, path, 0, -1);
             if (!text)
                 return;
             const ParsedAccessLogFormat parsed = parseAccessLogFormat(*text);
             if (!parsed.ok())
                 c.fail(path, v, parsed.error);
             else
                 out.format = *text;
         },
         [](const A& in) { return written(in.format); }},
        {settingkey::InterimInterval,
         [](Checker& c, const QJsonValue& v, const QString& path, A& out) {
             if (const std::optional<qint64> seconds =
                     c.integer(v, path, kAccessLogInterimMinSeconds, kAccessLogInterimMaxSeconds))
                 out.interimInterval = int(*seconds);
         },
         [](const A& in) { return written(in.interimInterval); }},
    };
    return fields;
}

// An ISO 8601 time with its zone ("2026-12-05T19:40:00Z", milliseconds allowed).
template <std::optional<QString> AllowExpirySettings::*member>
Field<AllowExpirySettings> timeField(const char* key)
{
    return {key,
            [](Checker& c, const QJsonValue& v, const QString& path, AllowExpirySettings& out) {
                const std::optional<QString> text = c.string(v, path, 1, 64);
                if (!text)
                    return;
                const QDateTime at = QDateTime::fromString(*text, Qt::ISODateWithMs);
                if (!at.isValid() || at.timeSpec() == Qt::LocalTime)
                    c.fail(path, v,
                           QStringLiteral("must be an ISO 8601 time with its zone, as "
                                          "\"2026-12-05T19:40:00Z\""));
                else
                    out.*member = *text;
            },
            [](const AllowExpirySettings& in) { return written(in.*member); }};
}

const std::vector<Field<AllowExpirySettings>>& allowExpiryFields()
{
    using A = AllowExpirySettings;
    static const std::vector<Field<A>> fields{
        timeField<&A::since>(settingkey::Since),
        timeField<&A::until>(settingkey::Until),
        boolField<A, &A::once>(settingkey::Once),
        boolField<A, &A::untilQuit>(settingkey::UntilQuit),
    };
    return fields;
}

// streamgate.allow_expiry: {"<route id>": {"<client ip>": {"until": ...}}}.
void decodeAllowExpiry(Checker& c, const QJsonValue& v, const QString& path,
                       StreamgateSettings& out)
{
    if (!c.expectObject(v, path))
        return;
    AllowExpiryMap map;
    const QJsonObject byRoute = v.toObject();
    for (auto route = byRoute.begin(); route != byRoute.end(); ++route) {
        const QString routePath = childPath(path, route.key());
        if (!c.expectObject(route.value(), routePath))
            continue;
        QMap<QString, AllowExpirySettings> byIp;
        const QJsonObject ips = route.value().toObject();
        for (auto it = ips.begin(); it != ips.end(); ++it) {
            const QString at = childPath(routePath, it.key());
            if (!detail::isIpv4(it.key()) && !detail::isIpv6(it.key())) {
                c.fail(at, it.key(), QStringLiteral("a client is one IP address"));
                continue;
            }
            const qsizetype before = c.problems.size();
            AllowExpirySettings entry;
            decodeFields(c, it.value(), at, allowExpiryFields(), entry);
            if (c.problems.size() != before)
                continue;
            const bool quit = entry.untilQuit.value_or(false);
            if (quit == entry.until.has_value())
                c.fail(at, it.value(),
                       quit ? QStringLiteral("\"until\" and \"until_quit\" exclude each other")
                            : QStringLiteral("needs \"until\" or \"until_quit\": true"));
            else if (quit && entry.once.value_or(false))
                c.fail(at, it.value(),
                       QStringLiteral("\"once\" ends at \"until\", not at \"until_quit\""));
            else
                byIp.insert(it.key(), entry);
        }
        map.insert(route.key(), byIp);
    }
    out.allowExpiry = map;
}

std::optional<QJsonValue> encodeAllowExpiry(const StreamgateSettings& in)
{
    if (!in.allowExpiry)
        return std::nullopt;
    QJsonObject o;
    for (auto route = in.allowExpiry->begin(); route != in.allowExpiry->end(); ++route) {
        QJsonObject ips;
        for (auto it = route.value().begin(); it != route.value().end(); ++it)
            ips.insert(it.key(), encodeFields(allowExpiryFields(), it.value()));
        o.insert(route.key(), ips);
    }
    return o;
}

// streamgate.toxics: {"<route id>": [toxic, ...]}, names unique per route.
void decodeToxics(Checker& c, const QJsonValue& v, const QString& path, StreamgateSettings& out)
{
    if (!c.expectObject(v, path))
        return;
    QMap<QString, QList<ToxicSpec>> toxics;
    const QJsonObject byRoute = v.toObject();
    for (auto it = byRoute.begin(); it != byRoute.end(); ++it) {
        const QString routePath = childPath(path, it.key());
        if (!c.expectArray(it.value(), routePath, 0))
            continue;
        QList<ToxicSpec> list;
        const QJsonArray a = it.value().toArray();
        for (qsizetype i = 0; i < a.size(); ++i) {
            ToxicSpec toxic;
            const QString at = indexPath(routePath, i);
            const Problems problems = decodeToxic(a.at(i), at, ToxicInput::File, &toxic);
            c.problems << problems;
            if (!problems.isEmpty())
                continue;
            for (const ToxicSpec& other : list)
                if (other.name == toxic.name)
                    c.fail(childPath(at, QStringLiteral("name")), toxic.name,
                           QStringLiteral("toxic already exists: names are unique per route"));
            list << toxic;
        }
        toxics.insert(it.key(), list);
    }
    out.toxics = toxics;
}

std::optional<QJsonValue> encodeToxics(const StreamgateSettings& in)
{
    if (!in.toxics)
        return std::nullopt;
    QJsonObject o;
    for (auto it = in.toxics->begin(); it != in.toxics->end(); ++it) {
        QJsonArray a;
        for (const ToxicSpec& toxic : it.value())
            a.append(encodeToxic(toxic));
        o.insert(it.key(), a);
    }
    return o;
}

const std::vector<Field<StreamgateSettings>>& settingsFields()
{
    using S = StreamgateSettings;
    static const std::vector<Field<S>> fields{
        sectionField<S, AdminSettings, &S::admin, adminFields>(settingkey::Admin),
        sectionField<S, PrometheusSettings, &S::prometheus, prometheusFields>(
            settingkey::Prometheus),
        boolField<S, &S::mysqlInspect>(settingkey::MysqlInspect),
        boolField<S, &S::postgresInspect>(settingkey::PostgresInspect),
        {settingkey::Routes,
         [](Checker& c, const QJsonValue& v, const QString& path, S& out) {
             if (!c.expectObject(v, path))
                 return;
             QMap<QString, RouteSettings> routes;
             const QJsonObject byId = v.toObject();
             for (auto it = byId.begin(); it != byId.end(); ++it) {
                 RouteSettings route;
                 decodeFields(c, it.value(), childPath(path, it.key()), routeFields(), route);
                 // The server leg is Streamgate's only once it has answered the client's TLS.
                 const std::optional<DatabaseServerTls> serverTls =
                     databaseServerTlsFromString(route.databaseServerTls.value_or(QString()));
                 const QString serverTlsPath = childPath(
                     childPath(path, it.key()), QLatin1String(settingkey::DatabaseServerTls));
                 if (serverTls && *serverTls != DatabaseServerTls::Off &&
                     !route.databaseTls.value_or(false))
                     c.fail(serverTlsPath, *route.databaseServerTls,
                            QStringLiteral("takes effect only with database_tls: true (without "
                                           "it the client's own TLS, or none, goes to the "
                                           "server)"));
                 routes.insert(it.key(), route);
             }
             out.routes = routes;
         },
         [](const S& in) -> std::optional<QJsonValue> {
             if (!in.routes)
                 return std::nullopt;
             QJsonObject o;
             for (auto it = in.routes->begin(); it != in.routes->end(); ++it)
                 o.insert(it.key(), encodeFields(routeFields(), it.value()));
             return o;
         }},
        {settingkey::DisabledRoutes,
         [](Checker& c, const QJsonValue& v, const QString& path, S& out) {
             if (!c.expectArray(v, path, 0))
                 return;
             QList<DisabledRouteSettings> list;
             const QJsonArray a = v.toArray();
             for (qsizetype i = 0; i < a.size(); ++i) {
                 const QString at = indexPath(path, i);
                 DisabledRouteSettings entry;
                 if (a.at(i).isObject())
                     c.required(a.at(i).toObject(), at, {settingkey::Route});
                 decodeFields(c, a.at(i), at, disabledRouteFields(), entry);
                 list << entry;
             }
             out.disabledRoutes = list;
         },
         [](const S& in) -> std::optional<QJsonValue> {
             if (!in.disabledRoutes)
                 return std::nullopt;
             QJsonArray a;
             for (const DisabledRouteSettings& entry : *in.disabledRoutes)
                 a.append(encodeFields(disabledRouteFields(), entry));
             return a;
         }},
        sectionField<S, ToxiproxySettings, &S::toxiproxy, toxiproxyFields>(settingkey::Toxiproxy),
        {settingkey::Toxics, decodeToxics, encodeToxics},
        sectionField<S, ControlSettings, &S::control, controlFields>(settingkey::Control),
        sectionField<S, AccessLogSettings, &S::accessLog, accessLogFields>(settingkey::AccessLog),
        {settingkey::RealIpFrom,
         [](Checker& c, const QJsonValue& v, const QString& path, S& out) {
             if (!c.expectArray(v, path, 0))
                 return;
             QStringList list;
             const QJsonArray a = v.toArray();
             for (qsizetype i = 0; i < a.size(); ++i) {
                 const QString at = indexPath(path, i);
                 const std::optional<QString> text = c.string(a.at(i), at, 1, 64);
                 if (!text)
                     continue;
                 // nginx's set_real_ip_from takes "unix:" too: it never matches a TCP peer.
                 if (*text != QLatin1String("unix:") && !isIpOrCidr(*text))
                     c.fail(at, a.at(i),
                            QStringLiteral("a trusted source is an IP address, a CIDR "
                                           "(\"10.0.0.0/8\") or \"unix:\""));
                 else
                     list << *text;
             }
             out.realIpFrom = list;
         },
         [](const S& in) -> std::optional<QJsonValue> {
             if (!in.realIpFrom)
                 return std::nullopt;
             return QJsonArray::fromStringList(*in.realIpFrom);
         }},
        {settingkey::SslTrustedCertificate,
         [](Checker& c, const QJsonValue& v, const QString& path, S& out) {
             // Whether the file exists and holds certificates is the config check's
             // (config/sslcheck.cpp).
             if (const std::optional<QString> text = c.string(v, path, 1, 4096))
                 out.sslTrustedCertificate = *text;
         },
         [](const S& in) { return written(in.sslTrustedCertificate); }},
        {settingkey::AllowExpiry, decodeAllowExpiry, encodeAllowExpiry},
    };
    return fields;
}

} // namespace

QString settingPath(std::initializer_list<const char*> keys)
{
    QString path = QLatin1String(settingkey::Section);
    for (const char* key : keys)
        path = childPath(path, QLatin1String(key));
    return path;
}

QString StreamgateSettings::adminListen() const
{
    return admin ? admin->listen.value_or(QString()) : QString();
}

QString StreamgateSettings::adminKey() const
{
    return admin ? admin->key.value_or(QString()) : QString();
}

QString StreamgateSettings::prometheusListen() const
{
    return prometheus ? prometheus->listen.value_or(QString()) : QString();
}

bool StreamgateSettings::mysqlCommandsFor(const QString& routeId) const
{
    if (!routes || !routes->contains(routeId))
        return false;
    const RouteSettings route = routes->value(routeId);
    return route.mysqlCommands.value_or(false) || route.mysqlDigests.value_or(false);
}

bool StreamgateSettings::mysqlDigestsFor(const QString& routeId) const
{
    if (!routes || !routes->contains(routeId))
        return false;
    return routes->value(routeId).mysqlDigests.value_or(false);
}

bool StreamgateSettings::mysqlDeclaredFor(const QString& routeId) const
{
    if (!routes || !routes->contains(routeId))
        return false;
    const RouteSettings route = routes->value(routeId);
    return route.mysqlInspect.value_or(false) || mysqlCommandsFor(routeId);
}

bool StreamgateSettings::mysqlInspectFor(const QString& routeId) const
{
    const bool fallback = mysqlInspect.value_or(true);
    if (!routes || !routes->contains(routeId))
        return fallback;
    return routes->value(routeId).mysqlInspect.value_or(fallback) || mysqlCommandsFor(routeId);
}

bool StreamgateSettings::postgresDigestsFor(const QString& routeId) const
{
    if (!routes || !routes->contains(routeId))
        return false;
    return routes->value(routeId).postgresDigests.value_or(false);
}

bool StreamgateSettings::databaseTlsFor(const QString& routeId) const
{
    if (!routes || !routes->contains(routeId))
        return false;
    return routes->value(routeId).databaseTls.value_or(false);
}

std::optional<DatabaseServerTls> databaseServerTlsFromString(const QString& text)
{
    for (DatabaseServerTls mode : {DatabaseServerTls::Off, DatabaseServerTls::Prefer,
                                   DatabaseServerTls::Require, DatabaseServerTls::Verify})
        if (text == toString(mode))
            return mode;
    return std::nullopt;
}

QString toString(DatabaseServerTls mode)
{
    switch (mode) {
    case DatabaseServerTls::Off:
        break;
    case DatabaseServerTls::Prefer:
        return QStringLiteral("prefer");
    case DatabaseServerTls::Require:
        return QStringLiteral("require");
    case DatabaseServerTls::Verify:
        return QStringLiteral("verify");
    }
    return QStringLiteral("off");
}

DatabaseServerTls StreamgateSettings::databaseServerTlsFor(const QString& routeId) const
{
    if (!databaseTlsFor(routeId))
        return DatabaseServerTls::Off;
    return databaseServerTlsFromString(routes->value(routeId).databaseServerTls.value_or(QString()))
        .value_or(DatabaseServerTls::Off);
}

bool StreamgateSettings::postgresInspectFor(const QString& routeId) const
{
    const bool fallback = postgresInspect.value_or(true);
    if (!routes || !routes->contains(routeId))
        return fallback;
    return routes->value(routeId).postgresInspect.value_or(fallback) || postgresDigestsFor(routeId);
}

QString StreamgateSettings::toxiproxyListen() const
{
    return toxiproxy ? toxiproxy->listen.value_or(QString()) : QString();
}

QString StreamgateSettings::controlListen() const
{
    return control ? control->listen.value_or(QString()) : QString();
}

bool StreamgateSettings::accessLogEnabled() const
{
    return accessLog ? accessLog->enable.value_or(true) : true;
}

QStringList StreamgateSettings::realIpFromList() const
{
    if (realIpFrom)
        return *realIpFrom;
    return {QStringLiteral("127.0.0.0/8"), QStringLiteral("::1")};
}

QString StreamgateSettings::accessLogFormat() const
{
    return accessLog ? accessLog->format.value_or(QString()) : QString();
}

int StreamgateSettings::accessLogInterimSeconds() const
{
    return accessLog ? accessLog->interimInterval.value_or(0) : 0;
}

QList<DisabledRouteSettings> StreamgateSettings::disabledRouteList() const
{
    return disabledRoutes.value_or(QList<DisabledRouteSettings>());
}

Decoded<StreamgateSettings> decodeSettings(const QJsonValue& json, const QString& path)
{
    Checker c;
    Decoded<StreamgateSettings> result;
    decodeFields(c, json, path, settingsFields(), result.value);
    result.problems = c.problems;
    return result;
}

QJsonObject encodeSettings(const StreamgateSettings& settings)
{
    return encodeFields(settingsFields(), settings);
}

StreamgateSettings rebaseSettings(const StreamgateSettings& base, const StreamgateSettings& next,
                                  const StreamgateSettings& onto)
{
    // Per top-level key: what `next` changed relative to `base` replaces `onto`'s.
    const QJsonObject b = encodeSettings(base);
    const QJsonObject n = encodeSettings(next);
    QJsonObject result = encodeSettings(onto);
    for (const Field<StreamgateSettings>& f : settingsFields()) {
        const QString key = QLatin1String(f.key);
        if (n.value(key) == b.value(key))
            continue;
        if (n.contains(key))
            result.insert(key, n.value(key));
        else
            result.remove(key);
    }
    return decodeSettings(result).value; // every section came valid from one of the three
}

QStringList settingKeys(const StreamgateSettings& settings)
{
    return encodeSettings(settings).keys();
}

} // namespace sg
