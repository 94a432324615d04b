// Stream routes and the services routes take an upstream and plugins from (their plugins are
// codecplugins.cpp).
#include "model/codec_p.h"

#include <QJsonArray>
#include <limits>

namespace sg {

using detail::Checker;
using detail::childPath;
using detail::decodePlugins;
using detail::encodePlugins;
using detail::indexPath;
using detail::keep;

namespace {

// APISIX's xRPC protocol of a stream route. Redis is the one Streamgate runs; dubbo, the other
// APISIX ships, is refused by name, and any other name as APISIX refuses it.
void decodeRedisConf(Checker& c, const QJsonValue& v, const QString& path, RedisProtocolConf& conf)
{
    if (!c.expectObject(v, path))
        return;
    const QJsonObject o = v.toObject();
    c.closed(o, path, {"faults"});
    if (!o.contains(QLatin1String("faults")))
        return;
    const QString faultsPath = childPath(path, QStringLiteral("faults"));
    const QJsonValue faults = o.value(QLatin1String("faults"));
    if (!c.expectArray(faults, faultsPath, 1))
        return;
    const QJsonArray list = faults.toArray();
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QString at = indexPath(faultsPath, i);
        if (!c.expectObject(list.at(i), at))
            continue;
        const QJsonObject f = list.at(i).toObject();
        c.closed(f, at, {"commands", "key", "delay"});
        if (!c.required(f, at, {"commands", "delay"}))
            continue;
        RedisFault fault;
        const QString commandsPath = childPath(at, QStringLiteral("commands"));
        if (c.expectArray(f.value(QLatin1String("commands")), commandsPath, 1)) {
            const QJsonArray commands = f.value(QLatin1String("commands")).toArray();
            for (qsizetype j = 0; j < commands.size(); ++j) {
                if (auto name = c.string(commands.at(j), indexPath(commandsPath, j), 1, 64))
                    fault.commands << name->toLower();
            }
        }
        if (f.contains(QLatin1String("key"))) {
            if (auto key = c.string(f.value(QLatin1String("key")),
                                    childPath(at, QStringLiteral("key")), 1, 512))
                fault.key = *key;
        }
        if (auto delay = c.number(f.value(QLatin1String("delay")),
                                  childPath(at, QStringLiteral("delay")), 0))
            fault.delay = *delay;
        conf.faults << fault;
    }
}

void decodeProtocol(Checker& c, const QJsonValue& v, const QString& path, StreamRoute& r)
{
    if (!c.expectObject(v, path))
        return;
    const QJsonObject o = v.toObject();
    const int before = int(c.problems.size());
    c.closed(o, path, {"name", "conf", "metric"}, {"superior_id", "logger"});
    // APISIX records its protocol metrics only with "metric": {"enable": true}; Streamgate
    // counts every route's commands, so the switch is checked and kept, not needed.
    if (o.contains(QLatin1String("metric"))) {
        const QString metricPath = childPath(path, QStringLiteral("metric"));
        if (c.expectObject(o.value(QLatin1String("metric")), metricPath)) {
            const QJsonObject metric = o.value(QLatin1String("metric")).toObject();
            c.closed(metric, metricPath, {"enable"});
            if (metric.contains(QLatin1String("enable")))
                c.boolean(metric.value(QLatin1String("enable")),
                          childPath(metricPath, QStringLiteral("enable")));
        }
    }
    if (!c.required(o, path, {"name"}))
        return;
    const QString namePath = childPath(path, QStringLiteral("name"));
    const std::optional<QString> name = c.string(o.value(QLatin1String("name")), namePath, 0, -1);
    if (!name)
        return;
    const bool hasConf = o.contains(QLatin1String("conf"));
    const QString confPath = childPath(path, QStringLiteral("conf"));
    RedisProtocolConf redis;
    if (*name == QLatin1String("redis")) {
        if (hasConf)
            decodeRedisConf(c, o.value(QLatin1String("conf")), confPath, redis);
    } else if (*name == QLatin1String("dubbo")) {
        c.fail(namePath, *name,
               QStringLiteral("protocol dubbo is not supported by Streamgate: of APISIX's xRPC "
                              "protocols it runs redis only"));
    } else {
        c.fail(namePath, *name, QStringLiteral("unknown protocol [%1]").arg(*name),
               apisixCheck(QStringLiteral("unknown protocol [%1]").arg(*name)));
    }
    if (c.problems.size() != before)
        return;
    r.protocol = o;
    r.redis = redis;
}

// upstream and upstream_id (a route and a service alike). APISIX's schema takes both; which one
// runs is Config::upstreamFor's.
void decodeUpstreamChoice(Checker& c, const QJsonObject& o, const QString& path, DecodeMode mode,
                          std::optional<Upstream>& upstream, QJsonValue& upstreamId)
{
    const bool hasUpstream = o.contains(QLatin1String("upstream"));
    const bool hasUpstreamId = o.contains(QLatin1String("upstream_id"));
    if (hasUpstream) {
        Upstream up;
        const int before = int(c.problems.size());
        detail::decodeUpstreamInto(c, o.value(QLatin1String("upstream")),
                                   childPath(path, QStringLiteral("upstream")), mode, up);
        if (c.problems.size() == before)
            upstream = up;
    }
    if (hasUpstreamId)
        detail::decodeId(c, o.value(QLatin1String("upstream_id")),
                         childPath(path, QStringLiteral("upstream_id")), upstreamId);
}

void encodeUpstreamChoice(QJsonObject& o, const std::optional<Upstream>& upstream,
                          const QJsonValue& upstreamId)
{
    if (upstream)
        o.insert(QStringLiteral("upstream"), encodeUpstream(*upstream));
    if (!upstreamId.isUndefined() && !upstreamId.isNull())
        o.insert(QStringLiteral("upstream_id"), upstreamId);
}

} // namespace

namespace detail {

// ---- stream route ---------------------------------------------------------------------------

void decodeRouteInto(Checker& c, const QJsonValue& v, const QString& path, DecodeMode mode,
                     StreamRoute& r)
{
    if (!c.expectObject(v, path))
        return;
    const QJsonObject o = v.toObject();
    c.closed(o, path,
             {"id", "name", "desc", "labels", "remote_addr", "server_addr", "server_port", "sni",
              "tls_passthrough", "upstream", "upstream_id", "service_id", "plugins", "protocol",
              "create_time", "update_time"});
    detail::decodeHead(c, o, path, r);
    for (const char* field : {"remote_addr", "server_addr"}) {
        const QString key = QLatin1String(field);
        if (!o.contains(key))
            continue;
        const QString p = childPath(path, key);
        if (auto addr = c.string(o.value(key), p, 0, -1)) {
            const QString invalid = QStringLiteral("invalid %1: %2").arg(key, *addr);
            if (!isIpOrCidr(*addr))
                c.fail(p, *addr, invalid, detail::apisixAddressWording(p, *addr, invalid));
            else if (key == QLatin1String("remote_addr"))
                r.remoteAddr = *addr;
            else
                r.serverAddr = *addr;
        }
    }
    if (o.contains(QLatin1String("server_port"))) {
        if (auto port = c.integer(o.value(QLatin1String("server_port")),
                                  childPath(path, QStringLiteral("server_port")), 1, 65535))
            r.serverPort = int(*port);
    }
    if (o.contains(QLatin1String("sni"))) {
        const QString p = childPath(path, QStringLiteral("sni"));
        if (auto sni = c.string(o.value(QLatin1String("sni")), p, 0, -1)) {
            if (isSniName(*sni))
                r.sni = *sni;
            else
                c.fail(p, *sni,
                       QStringLiteral("sni must be a host name such as "
                                      "db.example.com or *.example.com"));
        }
    }
    if (o.contains(QLatin1String("tls_passthrough")))
        r.tlsPassthrough = c.boolean(o.value(QLatin1String("tls_passthrough")),
                                     childPath(path, QStringLiteral("tls_passthrough")));
    decodeUpstreamChoice(c, o, path, mode, r.upstream, r.upstreamId);
    // A route with none of upstream, upstream_id and service_id is valid in APISIX's schema
    // (its sessions are closed at once; the config check warns).
    if (o.contains(QLatin1String("service_id")))
        decodeId(c, o.value(QLatin1String("service_id")),
                 childPath(path, QStringLiteral("service_id")), r.serviceId);
    if (o.contains(QLatin1String("plugins"))) {
        decodePlugins(c, o.value(QLatin1String("plugins")),
                      childPath(path, QStringLiteral("plugins")), r.plugins);
        if (r.plugins.raw.isEmpty())
            r.explicitFields << QStringLiteral("plugins");
    }
    if (o.contains(QLatin1String("protocol")))
        decodeProtocol(c, o.value(QLatin1String("protocol")),
                       childPath(path, QStringLiteral("protocol")), r);
    detail::decodeTimes(c, o, path, mode, r);
}

} // namespace detail

Decoded<StreamRoute> decodeStreamRoute(const QJsonValue& json, const QString& path, DecodeMode mode)
{
    Checker c;
    Decoded<StreamRoute> result;
    decodeRouteInto(c, json, path, mode, result.value);
    result.problems = c.problems;
    return result;
}

QJsonObject encodeStreamRoute(const StreamRoute& r)
{
    QJsonObject o;
    const QStringList& ex = r.explicitFields;
    detail::encodeHead(o, r);
    if (!r.remoteAddr.isEmpty())
        o.insert(QStringLiteral("remote_addr"), r.remoteAddr);
    if (!r.serverAddr.isEmpty())
        o.insert(QStringLiteral("server_addr"), r.serverAddr);
    if (r.serverPort)
        o.insert(QStringLiteral("server_port"), *r.serverPort);
    if (!r.sni.isEmpty())
        o.insert(QStringLiteral("sni"), r.sni);
    if (r.tlsPassthrough)
        o.insert(QStringLiteral("tls_passthrough"), *r.tlsPassthrough);
    encodeUpstreamChoice(o, r.upstream, r.upstreamId);
    if (!r.serviceId.isUndefined() && !r.serviceId.isNull())
        o.insert(QStringLiteral("service_id"), r.serviceId);
    const QJsonObject plugins = encodePlugins(r.plugins);
    if (keep(ex, QStringLiteral("plugins"), !plugins.isEmpty()))
        o.insert(QStringLiteral("plugins"), plugins);
    if (keep(ex, QStringLiteral("protocol"), !r.protocol.isEmpty()))
        o.insert(QStringLiteral("protocol"), r.protocol);
    detail::encodeTimes(o, r);
    return o;
}

// ---- service --------------------------------------------------------------------------------

namespace detail {

void decodeServiceInto(Checker& c, const QJsonValue& v, const QString& path, DecodeMode mode,
                       Service& s)
{
    if (!c.expectObject(v, path))
        return;
    const QJsonObject o = v.toObject();
    // hosts, enable_websocket and script act on HTTP requests only.
    c.closed(o, path,
             {"id", "name", "desc", "labels", "upstream", "upstream_id", "plugins", "create_time",
              "update_time"},
             {"hosts", "enable_websocket", "script"});
    detail::decodeHead(c, o, path, s);
    decodeUpstreamChoice(c, o, path, mode, s.upstream, s.upstreamId);
    if (o.contains(QLatin1String("plugins"))) {
        decodePlugins(c, o.value(QLatin1String("plugins")),
                      childPath(path, QStringLiteral("plugins")), s.plugins, ApisixPlugins::Http);
        if (s.plugins.raw.isEmpty())
            s.explicitFields << QStringLiteral("plugins");
    }
    detail::decodeTimes(c, o, path, mode, s);
}

} // namespace detail

Decoded<Service> decodeService(const QJsonValue& json, const QString& path, DecodeMode mode)
{
    Checker c;
    Decoded<Service> result;
    detail::decodeServiceInto(c, json, path, mode, result.value);
    result.problems = c.problems;
    return result;
}

QJsonObject encodeService(const Service& s)
{
    QJsonObject o;
    detail::encodeHead(o, s);
    encodeUpstreamChoice(o, s.upstream, s.upstreamId);
    const QJsonObject plugins = encodePlugins(s.plugins);
    if (keep(s.explicitFields, QStringLiteral("plugins"), !plugins.isEmpty()))
        o.insert(QStringLiteral("plugins"), plugins);
    detail::encodeTimes(o, s);
    return o;
}

Plugins mergedPlugins(const Plugins& route, const Plugins& service)
{
    // Merged as JSON and decoded again, so every plugin the codec knows merges the same way.
    QJsonObject merged = encodePlugins(route);
    const QJsonObject inherited = encodePlugins(service);
    for (auto it = inherited.begin(); it != inherited.end(); ++it) {
        if (!merged.contains(it.key()))
            merged.insert(it.key(), it.value());
    }
    Checker c;
    Plugins result;
    decodePlugins(c, merged, QString(), result);
    return result;
}

} // namespace sg
