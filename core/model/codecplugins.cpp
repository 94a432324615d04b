// The plugins of a stream route or service (ip-restriction, limit-conn, prometheus, syslog,
// mqtt-proxy, traffic-split):
// decoded and checked as APISIX's stream plugin schemas, encoded back losslessly.
#include "model/accesslogformat.h"
#include "model/apisixplugins.h"
#include "model/codec_p.h"
#include "model/varexpr.h"

#include <QJsonArray>
#include <limits>

namespace sg {

using detail::Checker;
using detail::checkLogFormat;
using detail::checkVarCombination;
using detail::childPath;
using detail::indexPath;
using detail::isStreamVar;
using detail::kStreamKeys;

namespace {

// ---- plugins --------------------------------------------------------------------------------

void decodeAddressList(Checker& c, const QJsonValue& v, const QString& path, QStringList& out)
{
    if (!c.expectArray(v, path, 0))
        return;
    const QJsonArray a = v.toArray();
    if (a.isEmpty()) {
        c.fail(path, v, QStringLiteral("must list at least one IP address or CIDR"),
               apisixSchema(path, QStringLiteral("expect array to have at least 1 items")));
        return;
    }
    for (qsizetype i = 0; i < a.size(); ++i) {
        const QString p = indexPath(path, i);
        // Each item is an anyOf of APISIX's address forms, all of them strings.
        const qsizetype since = c.problems.size();
        if (auto s = c.string(a.at(i), p, 0, -1)) {
            if (isIpOrCidr(*s))
                out << *s;
            else
                c.fail(p, *s, QStringLiteral("invalid ip address: %1").arg(*s),
                       detail::apisixAddressWording(
                           p, *s, QStringLiteral("invalid ip address: %1").arg(*s), p));
        }
        c.withinAnyOf(since, p, detail::kAnyOfNone);
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
    // APISIX's schema: oneOf a whitelist or a blacklist.
    if (white && black)
        c.fail(path, v, QStringLiteral("give either whitelist or blacklist, not both"),
               apisixSchema(path, QStringLiteral("value should match only one schema, but "
                                                 "matches both schemas 1 and 2")));
    else if (!white && !black)
        c.fail(path, v, QStringLiteral("one of whitelist or blacklist is required"),
               apisixSchema(path, detail::kOneOfNone));
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
        if (auto n = c.positiveInteger(o.value(QLatin1String("conn")),
                                       childPath(path, QStringLiteral("conn"))))
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
                c.fail(p, *kt, QStringLiteral("key_type must be var or var_combination"),
                       apisixSchema(p, detail::kNoEnumValue));
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

void decodeMqttProxy(Checker& c, const QJsonValue& v, const QString& path, Plugins& plugins)
{
    if (!c.expectObject(v, path))
        return;
    const QJsonObject o = v.toObject();
    const int before = int(c.problems.size());
    c.closed(o, path, {"protocol_name", "protocol_level"});
    c.required(o, path, {"protocol_level"});
    MqttProxyConf conf;
    if (o.contains(QLatin1String("protocol_name"))) {
        if (auto name = c.string(o.value(QLatin1String("protocol_name")),
                                 childPath(path, QStringLiteral("protocol_name")), 0, -1))
            conf.protocolName = *name;
    }
    if (o.contains(QLatin1String("protocol_level"))) {
        if (auto level =
                c.integer(o.value(QLatin1String("protocol_level")),
                          childPath(path, QStringLiteral("protocol_level")),
                          std::numeric_limits<int>::min(), std::numeric_limits<int>::max()))
            conf.protocolLevel = int(*level);
    }
    if (c.problems.size() == before)
        plugins.mqttProxy = conf;
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
    }
    if (c.problems.size() == before)
        plugins.syslog = conf;
}

// The variables a traffic-split expression reads: the stream variables, and APISIX's route_id.
QString trafficSplitVarProblem(const QString& name)
{
    if (name == QLatin1String("route_id") || isStreamVar(name))
        return {};
    return QStringLiteral("variable \"%1\" is not available to a stream route's traffic-split "
                          "(known: %2, mqtt_client_id, route_id)")
        .arg(name, kStreamKeys);
}

void decodeTrafficSplitUpstream(Checker& c, const QJsonValue& v, const QString& path,
                                TrafficSplitUpstream& out)
{
    if (!c.expectObject(v, path))
        return;
    const QJsonObject o = v.toObject();
    c.closed(o, path, {"upstream_id", "upstream", "weight"});
    if (o.contains(QLatin1String("upstream_id")))
        detail::decodeId(c, o.value(QLatin1String("upstream_id")),
                         childPath(path, QStringLiteral("upstream_id")), out.upstreamId);
    if (o.contains(QLatin1String("upstream"))) {
        Upstream up;
        const int before = int(c.problems.size());
        detail::decodeUpstreamInto(c, o.value(QLatin1String("upstream")),
                                   childPath(path, QStringLiteral("upstream")), DecodeMode::File,
                                   up);
        if (c.problems.size() == before)
            out.upstream = up;
    }
    if (o.contains(QLatin1String("weight"))) {
        out.weightGiven = true;
        if (auto w = c.integer(o.value(QLatin1String("weight")),
                               childPath(path, QStringLiteral("weight")), 0,
                               std::numeric_limits<int>::max()))
            out.weight = int(*w);
    }
}

void decodeTrafficSplitRule(Checker& c, const QJsonValue& v, const QString& path,
                            TrafficSplitRule& rule)
{
    if (!c.expectObject(v, path))
        return;
    const QJsonObject o = v.toObject();
    c.closed(o, path, {"match", "weighted_upstreams"});
    if (o.contains(QLatin1String("match"))) {
        const QString matchPath = childPath(path, QStringLiteral("match"));
        const QJsonValue match = o.value(QLatin1String("match"));
        rule.match.emplace();
        if (c.expectArray(match, matchPath, 0)) {
            const QJsonArray entries = match.toArray();
            for (qsizetype i = 0; i < entries.size(); ++i) {
                const QString at = indexPath(matchPath, i);
                if (!c.expectObject(entries.at(i), at))
                    continue;
                const QJsonObject entry = entries.at(i).toObject();
                c.closed(entry, at, {"vars"});
                const QString varsPath = childPath(at, QStringLiteral("vars"));
                if (!entry.contains(QLatin1String("vars"))) {
                    c.fail(varsPath, QJsonValue(QJsonValue::Undefined),
                           QStringLiteral("failed to validate the 'vars' expression: missing "
                                          "argument rule"));
                    continue;
                }
                const QJsonValue vars = entry.value(QLatin1String("vars"));
                if (!c.expectArray(vars, varsPath, 0))
                    continue;
                VarExpression::Error error;
                if (!VarExpression::compile(vars.toArray(), varsPath, trafficSplitVarProblem,
                                            &error)) {
                    c.fail(error.path, error.value, error.reason);
                    continue;
                }
                rule.match->append(vars.toArray());
            }
        }
    }
    if (o.contains(QLatin1String("weighted_upstreams"))) {
        rule.weightedUpstreamsGiven = true;
        rule.weightedUpstreams.clear();
        const QString upsPath = childPath(path, QStringLiteral("weighted_upstreams"));
        const QJsonValue ups = o.value(QLatin1String("weighted_upstreams"));
        if (c.expectArray(ups, upsPath, 1)) {
            const QJsonArray list = ups.toArray();
            if (list.size() > 20)
                c.fail(upsPath, ups,
                       QStringLiteral("expect array to have at most 20 items, got %1")
                           .arg(list.size()));
            for (qsizetype i = 0; i < list.size(); ++i) {
                TrafficSplitUpstream entry;
                decodeTrafficSplitUpstream(c, list.at(i), indexPath(upsPath, i), entry);
                rule.weightedUpstreams.append(entry);
            }
        }
    }
}

void decodeTrafficSplit(Checker& c, const QJsonValue& v, const QString& path, Plugins& plugins)
{
    if (!c.expectObject(v, path))
        return;
    const QJsonObject o = v.toObject();
    const int before = int(c.problems.size());
    c.closed(o, path, {"rules"});
    TrafficSplitConf conf;
    if (o.contains(QLatin1String("rules"))) {
        conf.rulesGiven = true;
        const QString rulesPath = childPath(path, QStringLiteral("rules"));
        const QJsonValue rules = o.value(QLatin1String("rules"));
        if (c.expectArray(rules, rulesPath, 0)) {
            const QJsonArray list = rules.toArray();
            for (qsizetype i = 0; i < list.size(); ++i) {
                TrafficSplitRule rule;
                decodeTrafficSplitRule(c, list.at(i), indexPath(rulesPath, i), rule);
                conf.rules.append(rule);
            }
        }
    }
    if (c.problems.size() == before)
        plugins.trafficSplit = conf;
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

QJsonObject encodeMqttProxy(const MqttProxyConf& conf, const QJsonObject& given)
{
    QJsonObject o{{QStringLiteral("protocol_level"), conf.protocolLevel}};
    if (conf.protocolName != MqttProxyConf().protocolName ||
        given.contains(QLatin1String("protocol_name")))
        o.insert(QStringLiteral("protocol_name"), conf.protocolName);
    return o;
}

QJsonObject encodeTrafficSplit(const TrafficSplitConf& conf)
{
    QJsonObject o;
    if (!conf.rulesGiven && conf.rules.isEmpty())
        return o;
    QJsonArray rules;
    for (const TrafficSplitRule& rule : conf.rules) {
        QJsonObject r;
        if (rule.match) {
            QJsonArray match;
            for (const QJsonArray& vars : *rule.match)
                match.append(QJsonObject{{QStringLiteral("vars"), vars}});
            r.insert(QStringLiteral("match"), match);
        }
        if (rule.weightedUpstreamsGiven) {
            QJsonArray ups;
            for (const TrafficSplitUpstream& u : rule.weightedUpstreams) {
                QJsonObject e;
                if (!u.upstreamId.isUndefined() && !u.upstreamId.isNull())
                    e.insert(QStringLiteral("upstream_id"), u.upstreamId);
                if (u.upstream)
                    e.insert(QStringLiteral("upstream"), encodeUpstream(*u.upstream));
                if (u.weightGiven || u.weight != 1)
                    e.insert(QStringLiteral("weight"), u.weight);
                ups.append(e);
            }
            r.insert(QStringLiteral("weighted_upstreams"), ups);
        }
        rules.append(r);
    }
    o.insert(QStringLiteral("rules"), rules);
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
    QJsonObject o{{QStringLiteral("host"), conf.host}, {QStringLiteral("port"), conf.port}};
    if (conf.logFormat)
        o.insert(QStringLiteral("log_format"), *conf.logFormat);
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

} // namespace

namespace detail {

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
                       .arg(name, accessLogVariableList(LogFormatKind::PluginLog)));
    }
}

void decodePlugins(Checker& c, const QJsonValue& v, const QString& path, Plugins& plugins,
                   ApisixPlugins family)
{
    if (!c.expectObject(v, path))
        return;
    const QJsonObject o = v.toObject();
    const bool http = family == ApisixPlugins::Http;
    for (auto it = o.begin(); it != o.end(); ++it) {
        const QString p = childPath(path, it.key());
        const QString unknown = QStringLiteral("unknown plugin [%1]").arg(it.key());
        if (!it.value().isObject() && !it.value().isArray()) {
            // APISIX's plugin check refuses what is no Lua table before it knows the plugin
            // (an array is one: the plugin's schema refuses it).
            c.fail(p, it.value(),
                   QStringLiteral("wrong type: expected object, got %1")
                       .arg(detail::jsonTypeName(it.value())),
                   apisixCheck(QStringLiteral("invalid plugin conf %1 for plugin [%2]")
                                   .arg(detail::jsonText(it.value()), it.key())));
            continue;
        }
        if (http && !isApisixHttpPlugin(it.key())) {
            // APISIX checks a service's plugins against its HTTP plugins only.
            c.fail(p, it.value(),
                   isApisixStreamPlugin(it.key())
                       ? QStringLiteral("%1: a service's plugins are HTTP plugins in APISIX; give "
                                        "%2 on the stream routes")
                             .arg(unknown, it.key())
                       : unknown,
                   apisixCheck(unknown));
            continue;
        }
        if (it.key() == QLatin1String("ip-restriction"))
            decodeIpRestriction(c, it.value(), p, plugins);
        else if (it.key() == QLatin1String("limit-conn"))
            decodeLimitConn(c, it.value(), p, plugins);
        else if (it.key() == QLatin1String("prometheus"))
            decodePrometheus(c, it.value(), p, plugins);
        else if (it.key() == QLatin1String("syslog"))
            decodeSyslog(c, it.value(), p, plugins);
        else if (it.key() == QLatin1String("mqtt-proxy"))
            decodeMqttProxy(c, it.value(), p, plugins);
        else if (it.key() == QLatin1String("traffic-split"))
            decodeTrafficSplit(c, it.value(), p, plugins);
        else if (http) // APISIX takes it; Streamgate runs no HTTP plugin of its own
            c.fail(p, it.value(),
                   QStringLiteral("not supported by Streamgate (an HTTP plugin of APISIX; "
                                  "Streamgate runs stream plugins only)"));
        else
            c.fail(p, it.value(), unknown, apisixCheck(unknown));
    }
    plugins.raw = o;
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
    const QString mqtt = QStringLiteral("mqtt-proxy");
    if (plugins.mqttProxy)
        o.insert(mqtt, encodeMqttProxy(*plugins.mqttProxy, plugins.raw.value(mqtt).toObject()));
    else
        o.remove(mqtt);
    const QString split = QStringLiteral("traffic-split");
    if (plugins.trafficSplit)
        o.insert(split, encodeTrafficSplit(*plugins.trafficSplit));
    else
        o.remove(split);
    return o;
}

} // namespace detail

} // namespace sg
