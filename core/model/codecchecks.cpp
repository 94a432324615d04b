// Upstreams' health checks: checks.active and checks.passive as APISIX's health_checker
// schema has them, decoded into the model and written back as given.
#include "model/codec_p.h"

#include <QJsonArray>
#include <limits>

namespace sg {

using detail::Checker;
using detail::childPath;
using detail::indexPath;
using detail::isHostName;
using detail::isIpv6;
using detail::keep;

namespace {

// ---- health checks --------------------------------------------------------------------------

// http_statuses, active or passive: at least one, each 200-599, none twice (APISIX's
// uniqueItems). True when the list is good.
bool checkHttpStatuses(Checker& c, const QJsonValue& v, const QString& path)
{
    if (!c.expectArray(v, path, 1))
        return false;
    const QJsonArray a = v.toArray();
    bool ok = true;
    for (qsizetype i = 0; i < a.size(); ++i) {
        if (!c.integer(a.at(i), indexPath(path, i), 200, 599)) {
            ok = false;
            continue;
        }
        for (qsizetype j = 0; j < i; ++j) {
            if (a.at(j) == a.at(i)) {
                c.fail(indexPath(path, i), a.at(i), QStringLiteral("listed twice"));
                ok = false;
                break;
            }
        }
    }
    return ok;
}

void decodeHealthy(Checker& c, const QJsonValue& v, const QString& path, ActiveHealthCheck& hc,
                   QJsonObject& extra, bool healthy)
{
    if (!c.expectObject(v, path))
        return;
    const QJsonObject o = v.toObject();
    const QString prefix = healthy ? QStringLiteral("healthy.") : QStringLiteral("unhealthy.");
    if (o.isEmpty())
        hc.explicitFields << prefix.chopped(1);
    if (healthy)
        c.closed(o, path, {"interval", "successes", "http_statuses"});
    else
        c.closed(o, path,
                 {"interval", "tcp_failures", "http_failures", "timeouts", "http_statuses"});
    const auto intField = [&](const char* key, qint64 min, qint64 max, int& out, int def) {
        const QString k = QLatin1String(key);
        if (!o.contains(k))
            return;
        if (auto n = c.integer(o.value(k), childPath(path, k), min, max)) {
            out = int(*n);
            if (out == def)
                hc.explicitFields << prefix + k;
        }
    };
    if (healthy) {
        intField("interval", 1, std::numeric_limits<int>::max(), hc.healthyInterval, 1);
        intField("successes", 1, 254, hc.healthySuccesses, 2);
    } else {
        intField("interval", 1, std::numeric_limits<int>::max(), hc.unhealthyInterval, 1);
        intField("tcp_failures", 1, 254, hc.unhealthyTcpFailures, 2);
        for (const char* key : {"http_failures", "timeouts"}) {
            const QString k = QLatin1String(key);
            if (o.contains(k) && c.integer(o.value(k), childPath(path, k), 1, 254))
                extra.insert(k, o.value(k));
        }
    }
    const QString statuses = QStringLiteral("http_statuses");
    if (o.contains(statuses) && checkHttpStatuses(c, o.value(statuses), childPath(path, statuses)))
        extra.insert(statuses, o.value(statuses));
}

// APISIX's health_checker_passive. Its http fields are checked and kept, as APISIX keeps them;
// a stream session has no HTTP status, so only tcp_failures and timeouts take effect.
void decodePassive(Checker& c, const QJsonValue& v, const QString& path, Upstream& up)
{
    if (!c.expectObject(v, path))
        return;
    const QJsonObject o = v.toObject();
    c.closed(o, path, {"type", "healthy", "unhealthy"});
    const qsizetype errors = c.problems.size();
    PassiveHealthCheck passive;
    if (o.contains(QLatin1String("type"))) {
        const QString p = childPath(path, QStringLiteral("type"));
        if (auto type = c.string(o.value(QLatin1String("type")), p, 0, -1);
            type && *type != QLatin1String("tcp") && *type != QLatin1String("http") &&
            *type != QLatin1String("https"))
            c.fail(p, *type, QStringLiteral("type must be \"tcp\", \"http\" or \"https\""));
    }
    const auto statuses = [&](const QJsonObject& parent, const QString& parentPath) {
        const QString key = QStringLiteral("http_statuses");
        if (parent.contains(key))
            checkHttpStatuses(c, parent.value(key), childPath(parentPath, key));
    };
    const auto counter = [&](const QJsonObject& parent, const QString& parentPath, const char* key,
                             int* out) {
        const QString k = QLatin1String(key);
        if (!parent.contains(k))
            return;
        if (auto n = c.integer(parent.value(k), childPath(parentPath, k), 0, 254); n && out)
            *out = int(*n);
    };
    for (const bool healthy : {true, false}) {
        const QString key = healthy ? QStringLiteral("healthy") : QStringLiteral("unhealthy");
        if (!o.contains(key))
            continue;
        const QString p = childPath(path, key);
        if (!c.expectObject(o.value(key), p))
            continue;
        const QJsonObject part = o.value(key).toObject();
        statuses(part, p);
        if (healthy) {
            c.closed(part, p, {"http_statuses", "successes"});
            counter(part, p, "successes", nullptr);
        } else {
            c.closed(part, p, {"http_statuses", "tcp_failures", "timeouts", "http_failures"});
            counter(part, p, "tcp_failures", &passive.unhealthyTcpFailures);
            counter(part, p, "timeouts", &passive.unhealthyTimeouts);
            counter(part, p, "http_failures", nullptr);
        }
    }
    if (c.problems.size() != errors)
        return;
    passive.given = o;
    up.passiveChecks = passive;
}

} // namespace

namespace detail {

void decodeChecks(Checker& c, const QJsonValue& v, const QString& path, Upstream& up)
{
    if (!c.expectObject(v, path))
        return;
    const QJsonObject o = v.toObject();
    c.closed(o, path, {"active", "passive"});
    if (o.contains(QLatin1String("passive")))
        decodePassive(c, o.value(QLatin1String("passive")),
                      childPath(path, QStringLiteral("passive")), up);
    if (!o.contains(QLatin1String("active"))) {
        c.fail(childPath(path, QStringLiteral("active")), QJsonValue(QJsonValue::Undefined),
               QStringLiteral("property \"active\" is required"));
        return;
    }
    const QString ap = childPath(path, QStringLiteral("active"));
    const QJsonValue av = o.value(QLatin1String("active"));
    if (!c.expectObject(av, ap))
        return;
    const QJsonObject a = av.toObject();
    c.closed(a, ap,
             {"type", "timeout", "concurrency", "host", "port", "http_method", "http_path",
              "http_req_body", "https_verify_certificate", "healthy", "unhealthy", "req_headers"});
    ActiveHealthCheck hc;
    if (a.contains(QLatin1String("type"))) {
        const QString p = childPath(ap, QStringLiteral("type"));
        if (auto type = c.string(a.value(QLatin1String("type")), p, 0, -1)) {
            if (*type == QLatin1String("http") || *type == QLatin1String("tcp")) {
                hc.type = *type;
                hc.explicitFields << QStringLiteral("type");
            } else if (*type == QLatin1String("https")) {
                c.fail(p, *type,
                       QStringLiteral("https is not supported by Streamgate (its active checks "
                                      "do not speak TLS); use \"http\" or \"tcp\""));
            } else {
                c.fail(p, *type, QStringLiteral("type must be one of http, https, tcp"));
            }
        }
    }
    if (a.contains(QLatin1String("timeout"))) {
        if (auto t = c.positiveNumber(a.value(QLatin1String("timeout")),
                                      childPath(ap, QStringLiteral("timeout")))) {
            hc.timeout = *t;
            if (hc.timeout == 1)
                hc.explicitFields << QStringLiteral("timeout");
        }
    }
    if (a.contains(QLatin1String("concurrency")) &&
        c.integer(a.value(QLatin1String("concurrency")),
                  childPath(ap, QStringLiteral("concurrency")), 1, std::numeric_limits<int>::max()))
        hc.extra.insert(QStringLiteral("concurrency"), a.value(QLatin1String("concurrency")));
    if (a.contains(QLatin1String("host"))) {
        const QString p = childPath(ap, QStringLiteral("host"));
        if (auto host = c.string(a.value(QLatin1String("host")), p, 1, 253)) {
            if (isHostName(*host) || isIpv6(*host))
                hc.extra.insert(QStringLiteral("host"), *host);
            else
                c.fail(p, *host, QStringLiteral("invalid host"));
        }
    }
    if (a.contains(QLatin1String("port")) &&
        c.integer(a.value(QLatin1String("port")), childPath(ap, QStringLiteral("port")), 1, 65535))
        hc.extra.insert(QStringLiteral("port"), a.value(QLatin1String("port")));
    if (a.contains(QLatin1String("http_method"))) {
        const QString p = childPath(ap, QStringLiteral("http_method"));
        static const QStringList methods{"GET",  "POST",    "PUT",     "DELETE", "PATCH",
                                         "HEAD", "OPTIONS", "CONNECT", "TRACE",  "PURGE"};
        if (auto method = c.string(a.value(QLatin1String("http_method")), p, 0, -1)) {
            if (methods.contains(*method))
                hc.extra.insert(QStringLiteral("http_method"), *method);
            else
                c.fail(p, *method,
                       QStringLiteral("http_method must be one of %1")
                           .arg(methods.join(QStringLiteral(", "))));
        }
    }
    for (const char* key : {"http_path", "http_req_body"}) {
        const QString k = QLatin1String(key);
        if (a.contains(k) && c.string(a.value(k), childPath(ap, k), 0, -1))
            hc.extra.insert(k, a.value(k));
    }
    if (a.contains(QLatin1String("https_verify_certificate")) &&
        c.boolean(a.value(QLatin1String("https_verify_certificate")),
                  childPath(ap, QStringLiteral("https_verify_certificate"))))
        hc.extra.insert(QStringLiteral("https_verify_certificate"),
                        a.value(QLatin1String("https_verify_certificate")));
    if (a.contains(QLatin1String("req_headers"))) {
        const QString p = childPath(ap, QStringLiteral("req_headers"));
        if (c.expectArray(a.value(QLatin1String("req_headers")), p, 1)) {
            const QJsonArray headers = a.value(QLatin1String("req_headers")).toArray();
            bool ok = true;
            for (qsizetype i = 0; i < headers.size(); ++i)
                ok = c.string(headers.at(i), indexPath(p, i), 0, -1).has_value() && ok;
            if (ok)
                hc.extra.insert(QStringLiteral("req_headers"), headers);
        }
    }
    for (const bool healthy : {true, false}) {
        const QString key = healthy ? QStringLiteral("healthy") : QStringLiteral("unhealthy");
        if (!a.contains(key))
            continue;
        QJsonObject extra;
        decodeHealthy(c, a.value(key), childPath(ap, key), hc, extra, healthy);
        if (!extra.isEmpty())
            hc.extra.insert(key, extra);
    }
    up.checks = hc;
}

QJsonObject encodeChecks(const ActiveHealthCheck& hc)
{
    QJsonObject a = hc.extra;
    const QStringList& ex = hc.explicitFields;
    if (keep(ex, QStringLiteral("type"), hc.type != QLatin1String("http")))
        a.insert(QStringLiteral("type"), hc.type);
    if (keep(ex, QStringLiteral("timeout"), hc.timeout != 1))
        a.insert(QStringLiteral("timeout"), hc.timeout);
    QJsonObject healthy = hc.extra.value(QLatin1String("healthy")).toObject();
    if (keep(ex, QStringLiteral("healthy.interval"), hc.healthyInterval != 1))
        healthy.insert(QStringLiteral("interval"), hc.healthyInterval);
    if (keep(ex, QStringLiteral("healthy.successes"), hc.healthySuccesses != 2))
        healthy.insert(QStringLiteral("successes"), hc.healthySuccesses);
    if (keep(ex, QStringLiteral("healthy"), !healthy.isEmpty()))
        a.insert(QStringLiteral("healthy"), healthy);
    QJsonObject unhealthy = hc.extra.value(QLatin1String("unhealthy")).toObject();
    if (keep(ex, QStringLiteral("unhealthy.interval"), hc.unhealthyInterval != 1))
        unhealthy.insert(QStringLiteral("interval"), hc.unhealthyInterval);
    if (keep(ex, QStringLiteral("unhealthy.tcp_failures"), hc.unhealthyTcpFailures != 2))
        unhealthy.insert(QStringLiteral("tcp_failures"), hc.unhealthyTcpFailures);
    if (keep(ex, QStringLiteral("unhealthy"), !unhealthy.isEmpty()))
        a.insert(QStringLiteral("unhealthy"), unhealthy);
    return QJsonObject{{QStringLiteral("active"), a}};
}

} // namespace detail

} // namespace sg
