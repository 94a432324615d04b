// Stream routes and their plugins (ip-restriction, limit-conn, prometheus, syslog), and the
// services routes take an upstream and plugins from.
#include "model/accesslogformat.h"
#include "model/codec_p.h"

#include <QJsonArray>
#include <limits>

namespace sg {

using detail::Checker;
using detail::checkVarCombination;
using detail::childPath;
using detail::indexPath;
using detail::isStreamVar;
using detail::keep;
using detail::kStreamKeys;

namespace {

// ---- plugins --------------------------------------------------------------------------------

void decodeAddressList(Checker& c, const QJsonValue& v, const QString& path, QStringList& out)
{
    if (!c.expectArray(v, path, 0))
        return;
    const QJsonArray a = v.toArray();
    if (a.isEmpty()) {
        c.fail(path, v, QStringLiteral("must list at least one IP address or CIDR"));
        return;
    }
    for (qsizetype i = 0; i < a.size(); ++i) {
        const QString p = indexPath(path, i);
        if (auto s = c.string(a.at(i), p, 0, -1)) {
            if (isIpOrCidr(*s))
                out << *s;
            else
                c.fail(p, *s, QStringLiteral("invalid ip address: %1").arg(*s));
        }
    }
}

void decodeIpRestriction(Checker& c, const QJsonValue& v, const QString& path, Plugins& plugins)
{
    if (!c.expectObject(v, path))
        return;
    const QJsonObject o = v.toObject();
    c.closed(o, path, {"whitelist", "blacklist", "message"});
    const bool white = o.contains(QLatin1String("whitelist"));
    const bool black = o.contains(QLatin1String("blacklist"));
    const int before = int(c.problems.size());
    if (white && black)
        c.fail(path, v, QStringLiteral("give either whitelist or blacklist, not both"));
    else if (!white && !black)
        c.fail(path, v, QStringLiteral("one of whitelist or blacklist is required"));
    IpRestrictionConf conf;
    if (white)
        decodeAddressList(c, o.value(QLatin1String("whitelist")),
                          childPath(path, QStringLiteral("whitelist")), conf.whitelist);
    if (black)
        decodeAddressList(c, o.value(QLatin1String("blacklist")),
                          childPath(path, QStringLiteral("blacklist")), conf.blacklist);
    if (o.contains(QLatin1String("message"))) {
        if (auto m = c.string(o.value(QLatin1String("message")),
                              childPath(path, QStringLiteral("message")), 1, 1024))
            conf.message = *m;
    }
    if (c.problems.size() == before)
        plugins.ipRestriction = conf;
}

// conn (> 0) or burst (>= 0) of a rule: a number. APISIX also takes a string naming a variable
// to read the number from, which Streamgate does not.
std::optional<qint64> ruleCount(Checker& c, const QJsonObject& rule, const QString& path,
                                const char* field, qint64 min)
{
    const QString name = QLatin1String(field);
    const QString p = childPath(path, name);
    const QJsonValue v = rule.value(name);
    if (v.isString()) {
        c.fail(p, v.toString(),
               QStringLiteral("%1 read from a variable is not supported by Streamgate; give a "
                              "number")
                   .arg(name));
        return std::nullopt;
    }
    return c.integer(v, p, min, std::numeric_limits<int>::max());
}

void decodeLimitConnRules(Checker& c, const QJsonValue& v, const QString& path,
                          QList<LimitConnRule>& out)
{
    if (!c.expectArray(v, path, 0))
        return;
    const QJsonArray a = v.toArray();
    if (a.isEmpty()) {
        // APISIX refuses every connection when no rule applies.
        c.fail(path, v, QStringLiteral("must list at least one rule"));
        return;
    }
    for (qsizetype i = 0; i < a.size(); ++i) {
        const QString p = indexPath(path, i);
        if (!c.expectObject(a.at(i), p))
            continue;
        const QJsonObject o = a.at(i).toObject();
        c.closed(o, p, {"conn", "burst", "key"});
        c.required(o, p, {"conn", "burst", "key"});
        LimitConnRule rule;
        if (o.contains(QLatin1String("conn"))) {
            if (auto n = ruleCount(c, o, p, "conn", 1))
                rule.conn = int(*n);
        }
        if (o.contains(QLatin1String("burst"))) {
            if (auto n = ruleCount(c, o, p, "burst", 0))
                rule.burst = int(*n);
        }
        if (o.contains(QLatin1String("key"))) {
            const QString kp = childPath(p, QStringLiteral("key"));
            if (auto key = c.string(o.value(QLatin1String("key")), kp, 1, -1)) {
                // A rule's key is always a template; one that resolves no variable would be
                // skipped by APISIX for every connection.
                const QString error = checkVarCombination(*key);
                if (error.isEmpty())
                    rule.key = *key;
                else
                    c.fail(kp, *key, error);
            }
        }
        out << rule;
    }
}

void decodeLimitConn(Checker& c, const QJsonValue& v, const QString& path, Plugins& plugins)
{
    if (!c.expectObject(v, path))
        return;
    const QJsonObject o = v.toObject();
    const int before = int(c.problems.size());
    // policy/rejected_*/allow_degradation are accepted because APISIX stores them with their
    // defaults; they are kept for export but mean nothing to a stream connection.
    c.closed(o, path,
             {"conn", "burst", "default_conn_delay", "key", "key_type", "only_use_default_delay",
              "policy", "rejected_code", "rejected_msg", "allow_degradation", "rules"});
    c.required(o, path, {"conn", "burst", "default_conn_delay", "key"});
    LimitConnConf conf;
    if (o.contains(QLatin1String("conn"))) {
        if (auto n =
                c.integer(o.value(QLatin1String("conn")), childPath(path, QStringLiteral("conn")),
                          1, std::numeric_limits<int>::max()))
            conf.conn = int(*n);
    }
    if (o.contains(QLatin1String("burst"))) {
        if (auto n =
                c.integer(o.value(QLatin1String("burst")), childPath(path, QStringLiteral("burst")),
                          0, std::numeric_limits<int>::max()))
            conf.burst = int(*n);
    }
    if (o.contains(QLatin1String("default_conn_delay"))) {
        if (auto n = c.positiveNumber(o.value(QLatin1String("default_conn_delay")),
                                      childPath(path, QStringLiteral("default_conn_delay"))))
            conf.defaultConnDelay = *n;
    }
    if (o.contains(QLatin1String("key_type"))) {
        const QString p = childPath(path, QStringLiteral("key_type"));
        if (auto kt = c.string(o.value(QLatin1String("key_type")), p, 0, -1)) {
            if (*kt == QLatin1String("var") || *kt == QLatin1String("var_combination"))
                conf.keyType = *kt;
            else
                c.fail(p, *kt, QStringLiteral("key_type must be var or var_combination"));
        }
    }
    if (o.contains(QLatin1String("key"))) {
        const QString p = childPath(path, QStringLiteral("key"));
        if (auto key = c.string(o.value(QLatin1String("key")), p, 1, -1)) {
            const QString error =
                conf.keyType == QLatin1String("var_combination")
                    ? checkVarCombination(*key)
                    : (isStreamVar(*key)
                           ? QString()
                           : QStringLiteral("key must be one of %1 for stream routes (or use "
                                            "key_type var_combination)")
                                 .arg(kStreamKeys));
            if (error.isEmpty())
                conf.key = *key;
            else
                c.fail(p, *key, error);
        }
    }
    if (o.contains(QLatin1String("only_use_default_delay"))) {
        if (auto b = c.boolean(o.value(QLatin1String("only_use_default_delay")),
                               childPath(path, QStringLiteral("only_use_default_delay"))))
            conf.onlyUseDefaultDelay = *b;
    }
    if (o.contains(QLatin1String("rules")))
        decodeLimitConnRules(c, o.value(QLatin1String("rules")),
                             childPath(path, QStringLiteral("rules")), conf.rules);
    if (o.contains(QLatin1String("policy"))) {
        const QString p = childPath(path, QStringLiteral("policy"));
        if (auto policy = c.string(o.value(QLatin1String("policy")), p, 0, -1)) {
            if (*policy == QLatin1String("redis") || *policy == QLatin1String("redis-cluster"))
                c.fail(p, *policy,
                       QStringLiteral("policy %1 is not supported by Streamgate: connections are "
                                      "counted locally (policy local)")
                           .arg(*policy));
            else if (*policy != QLatin1String("local"))
                c.fail(p, *policy, QStringLiteral("policy must be local"));
        }
    }
    if (o.contains(QLatin1String("rejected_code")))
        c.integer(o.value(QLatin1String("rejected_code")),
                  childPath(path, QStringLiteral("rejected_code")), 200, 599);
    if (o.contains(QLatin1String("rejected_msg")))
        c.string(o.value(QLatin1String("rejected_msg")),
                 childPath(path, QStringLiteral("rejected_msg")), 1, -1);
    if (o.contains(QLatin1String("allow_degradation")))
        c.boolean(o.value(QLatin1String("allow_degradation")),
                  childPath(path, QStringLiteral("allow_degradation")));
    if (c.problems.size() == before)
        plugins.limitConn = conf;
}

void decodePrometheus(Checker& c, const QJsonValue& v, const QString& path, Plugins& plugins)
{
    if (!c.expectObject(v, path))
        return;
    const QJsonObject o = v.toObject();
    const int before = int(c.problems.size());
    c.closed(o, path, {"prefer_name"});
    PrometheusConf conf;
    if (o.contains(QLatin1String("prefer_name"))) {
        if (auto b = c.boolean(o.value(QLatin1String("prefer_name")),
                               childPath(path, QStringLiteral("prefer_name"))))
            conf.preferName = *b;
    }
    if (c.problems.size() == before)
        plugins.prometheus = conf;
}

// A syslog log_format, checked as APISIX reads it: a string that starts with '$' is one variable
// (all of the rest is its name), any other value is a constant, an object or array is a nested
// format. A variable Streamgate cannot fill is refused here: APISIX would log a value for it.
void checkLogFormat(Checker& c, const QJsonValue& v, const QString& path)
{
    if (v.isObject()) {
        const QJsonObject o = v.toObject();
        for (auto it = o.begin(); it != o.end(); ++it)
            checkLogFormat(c, it.value(), childPath(path, it.key()));
    } else if (v.isArray()) {
        const QJsonArray a = v.toArray();
        for (int i = 0; i < a.size(); ++i)
            checkLogFormat(c, a.at(i), indexPath(path, i));
    } else if (v.isString() && v.toString().startsWith(u'$')) {
        const QString name = v.toString().mid(1);
        if (accessLogVariableNamed(name) == AccessLogVariable::Count)
            c.fail(path, v,
                   QStringLiteral("variable \"$%1\" is not supported by Streamgate (known: %2)")
                       .arg(name, accessLogVariableList()));
    }
}

void decodeSyslog(Checker& c, const QJsonValue& v, const QString& path, Plugins& plugins)
{
    if (!c.expectObject(v, path))
        return;
    const QJsonObject o = v.toObject();
    const int before = int(c.problems.size());
    c.closed(o, path,
             {"host", "port", "flush_limit", "drop_limit", "timeout", "log_format", "sock_type",
              "pool_size", "tls", "name", "max_retry_count", "retry_delay", "buffer_duration",
              "inactive_timeout", "batch_max_size"});
    if (!c.required(o, path, {"host", "port"}))
        return;
    SyslogConf conf;
    if (auto host = c.string(o.value(QLatin1String("host")),
                             childPath(path, QStringLiteral("host")), 1, -1))
        conf.host = *host;
    if (auto port = c.integer(o.value(QLatin1String("port")),
                              childPath(path, QStringLiteral("port")), 1, 65535))
        conf.port = int(*port);
    const auto count = [&](const char* key, qint64 min, int& into) {
        const QString k = QLatin1String(key);
        if (o.contains(k))
            if (auto n =
                    c.integer(o.value(k), childPath(path, k), min, std::numeric_limits<int>::max()))
                into = int(*n);
    };
    count("flush_limit", 1, conf.flushLimit);
    count("drop_limit", 1, conf.dropLimit);
    count("timeout", 1, conf.timeoutMs);
    count("pool_size", 5, conf.poolSize);
    count("max_retry_count", 0, conf.maxRetryCount);
    count("retry_delay", 0, conf.retryDelay);
    count("buffer_duration", 1, conf.bufferDuration);
    count("inactive_timeout", 1, conf.inactiveTimeout);
    count("batch_max_size", 1, conf.batchMaxSize);
    if (o.contains(QLatin1String("name")))
        if (auto name = c.string(o.value(QLatin1String("name")),
                                 childPath(path, QStringLiteral("name")), 0, -1))
            conf.name = *name;
    if (o.contains(QLatin1String("sock_type"))) {
        const QString p = childPath(path, QStringLiteral("sock_type"));
        if (auto type = c.string(o.value(QLatin1String("sock_type")), p, 0, -1)) {
            if (*type == QLatin1String("tcp") || *type == QLatin1String("udp"))
                conf.sockType = *type;
            else
                c.fail(p, *type, QStringLiteral("sock_type must be tcp or udp"));
        }
    }
    if (o.contains(QLatin1String("tls"))) {
        const QString p = childPath(path, QStringLiteral("tls"));
        if (auto tls = c.boolean(o.value(QLatin1String("tls")), p); tls && *tls)
            c.fail(p, true,
                   QStringLiteral("tls is not supported by Streamgate: syslog is sent in "
                                  "plain text"));
    }
    const QString formatPath = childPath(path, QStringLiteral("log_format"));
    if (o.contains(QLatin1String("log_format"))) {
        const QJsonValue format = o.value(QLatin1String("log_format"));
        if (c.expectObject(format, formatPath)) {
            conf.logFormat = format.toObject();
            checkLogFormat(c, format, formatPath);
        }
    } else {
        c.fail(formatPath, QJsonValue(),
               QStringLiteral("required by Streamgate: APISIX may take it from the syslog "
                              "plugin_metadata, which is not supported by Streamgate, and logs "
                              "nothing without one"));
    }
    if (c.problems.size() == before)
        plugins.syslog = conf;
}

// APISIX's other stream plugins (apisix/stream/plugins): refused by name rather than as unknown,
// so a route brought over from APISIX says what it lacks here.
bool isApisixStreamPluginNotRun(const QString& name)
{
    return name == QLatin1String("traffic-split") || name == QLatin1String("mqtt-proxy");
}

void decodePlugins(Checker& c, const QJsonValue& v, const QString& path, Plugins& plugins)
{
    if (!c.expectObject(v, path))
        return;
    const QJsonObject o = v.toObject();
    for (auto it = o.begin(); it != o.end(); ++it) {
        const QString p = childPath(path, it.key());
        if (it.key() == QLatin1String("ip-restriction"))
            decodeIpRestriction(c, it.value(), p, plugins);
        else if (it.key() == QLatin1String("limit-conn"))
            decodeLimitConn(c, it.value(), p, plugins);
        else if (it.key() == QLatin1String("prometheus"))
            decodePrometheus(c, it.value(), p, plugins);
        else if (it.key() == QLatin1String("syslog"))
            decodeSyslog(c, it.value(), p, plugins);
        else if (isApisixStreamPluginNotRun(it.key()))
            c.fail(p, it.value(),
                   QStringLiteral("plugin [%1] is not supported by Streamgate").arg(it.key()));
        else
            c.fail(p, it.value(), QStringLiteral("unknown plugin [%1]").arg(it.key()));
    }
    plugins.raw = o;
}

// ---- encoding -------------------------------------------------------------------------------

QJsonObject encodeIpRestriction(const IpRestrictionConf& conf)
{
    QJsonObject o;
    if (!conf.whitelist.isEmpty())
        o.insert(QStringLiteral("whitelist"), QJsonArray::fromStringList(conf.whitelist));
    if (!conf.blacklist.isEmpty())
        o.insert(QStringLiteral("blacklist"), QJsonArray::fromStringList(conf.blacklist));
    if (!conf.message.isEmpty())
        o.insert(QStringLiteral("message"), conf.message);
    return o;
}

QJsonObject encodeLimitConn(const LimitConnConf& conf, const QJsonObject& given)
{
    QJsonObject o;
    for (const char* passThrough :
         {"policy", "rejected_code", "rejected_msg", "allow_degradation"}) {
        const QString key = QLatin1String(passThrough);
        if (given.contains(key))
            o.insert(key, given.value(key));
    }
    o.insert(QStringLiteral("conn"), conf.conn);
    o.insert(QStringLiteral("burst"), conf.burst);
    o.insert(QStringLiteral("default_conn_delay"), conf.defaultConnDelay);
    o.insert(QStringLiteral("key"), conf.key);
    if (conf.keyType != QLatin1String("var") || given.contains(QLatin1String("key_type")))
        o.insert(QStringLiteral("key_type"), conf.keyType);
    if (conf.onlyUseDefaultDelay || given.contains(QLatin1String("only_use_default_delay")))
        o.insert(QStringLiteral("only_use_default_delay"), conf.onlyUseDefaultDelay);
    if (!conf.rules.isEmpty()) {
        QJsonArray rules;
        for (const LimitConnRule& rule : conf.rules)
            rules.append(QJsonObject{{QStringLiteral("conn"), rule.conn},
                                     {QStringLiteral("burst"), rule.burst},
                                     {QStringLiteral("key"), rule.key}});
        o.insert(QStringLiteral("rules"), rules);
    }
    return o;
}

QJsonObject encodePrometheus(const PrometheusConf& conf, const QJsonObject& given)
{
    QJsonObject o;
    if (conf.preferName || given.contains(QLatin1String("prefer_name")))
        o.insert(QStringLiteral("prefer_name"), conf.preferName);
    return o;
}

// Each setting that was given or differs from APISIX's default, at the value the engine runs.
QJsonObject encodeSyslog(const SyslogConf& conf, const QJsonObject& given)
{
    const SyslogConf defaults;
    QJsonObject o{{QStringLiteral("host"), conf.host},
                  {QStringLiteral("port"), conf.port},
                  {QStringLiteral("log_format"), conf.logFormat}};
    const auto put = [&](const char* key, const QJsonValue& value, bool isDefault) {
        const QString k = QLatin1String(key);
        if (!isDefault || given.contains(k))
            o.insert(k, value);
    };
    put("sock_type", conf.sockType, conf.sockType == defaults.sockType);
    put("flush_limit", conf.flushLimit, conf.flushLimit == defaults.flushLimit);
    put("drop_limit", conf.dropLimit, conf.dropLimit == defaults.dropLimit);
    put("timeout", conf.timeoutMs, conf.timeoutMs == defaults.timeoutMs);
    put("pool_size", conf.poolSize, conf.poolSize == defaults.poolSize);
    put("tls", false, true);
    put("name", conf.name, conf.name == defaults.name);
    put("max_retry_count", conf.maxRetryCount, conf.maxRetryCount == defaults.maxRetryCount);
    put("retry_delay", conf.retryDelay, conf.retryDelay == defaults.retryDelay);
    put("buffer_duration", conf.bufferDuration, conf.bufferDuration == defaults.bufferDuration);
    put("inactive_timeout", conf.inactiveTimeout, conf.inactiveTimeout == defaults.inactiveTimeout);
    put("batch_max_size", conf.batchMaxSize, conf.batchMaxSize == defaults.batchMaxSize);
    return o;
}

QJsonObject encodePlugins(const Plugins& plugins)
{
    QJsonObject o = plugins.raw;
    const QString ip = QStringLiteral("ip-restriction");
    const QString lc = QStringLiteral("limit-conn");
    const QString prom = QStringLiteral("prometheus");
    if (plugins.ipRestriction)
        o.insert(ip, encodeIpRestriction(*plugins.ipRestriction));
    else
        o.remove(ip);
    if (plugins.limitConn)
        o.insert(lc, encodeLimitConn(*plugins.limitConn, plugins.raw.value(lc).toObject()));
    else
        o.remove(lc);
    if (plugins.prometheus)
        o.insert(prom, encodePrometheus(*plugins.prometheus, plugins.raw.value(prom).toObject()));
    else
        o.remove(prom);
    const QString syslog = QStringLiteral("syslog");
    if (plugins.syslog)
        o.insert(syslog, encodeSyslog(*plugins.syslog, plugins.raw.value(syslog).toObject()));
    else
        o.remove(syslog);
    return o;
}

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
        c.fail(namePath, *name, QStringLiteral("unknown protocol [%1]").arg(*name));
    }
    if (c.problems.size() != before)
        return;
    r.protocol = o;
    r.redis = redis;
}

// upstream or upstream_id, never both (a route and a service alike).
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
    if (hasUpstream && hasUpstreamId)
        c.fail(childPath(path, QStringLiteral("upstream_id")),
               o.value(QLatin1String("upstream_id")),
               QStringLiteral("give either upstream or upstream_id, not both"));
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
              "upstream", "upstream_id", "service_id", "plugins", "protocol", "create_time",
              "update_time"});
    detail::decodeHead(c, o, path, r);
    for (const char* field : {"remote_addr", "server_addr"}) {
        const QString key = QLatin1String(field);
        if (!o.contains(key))
            continue;
        const QString p = childPath(path, key);
        if (auto addr = c.string(o.value(key), p, 0, -1)) {
            if (!isIpOrCidr(*addr))
                c.fail(p, *addr, QStringLiteral("invalid %1: %2").arg(key, *addr));
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
    decodeUpstreamChoice(c, o, path, mode, r.upstream, r.upstreamId);
    if (o.contains(QLatin1String("service_id")))
        decodeId(c, o.value(QLatin1String("service_id")),
                 childPath(path, QStringLiteral("service_id")), r.serviceId);
    else if (!o.contains(QLatin1String("upstream")) && !o.contains(QLatin1String("upstream_id")))
        c.fail(path, QJsonValue(QJsonValue::Undefined),
               QStringLiteral("a stream route needs an upstream, an upstream_id or a service_id"));
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
                      childPath(path, QStringLiteral("plugins")), s.plugins);
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
