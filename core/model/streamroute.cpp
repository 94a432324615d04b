#include "model/streamroute.h"

#include "model/codec.h"

namespace sg {

QString idText(const QJsonValue& id)
{
    if (id.isString())
        return id.toString();
    if (id.isDouble())
        return QString::number(id.toInteger()); // 0 unless an integer a qint64 holds
    return {};
}

QString Node::address() const
{
    if (host.contains(QLatin1Char(':')))
        return QStringLiteral("[%1]:%2").arg(host).arg(port);
    return QStringLiteral("%1:%2").arg(host).arg(port);
}

namespace {

QJsonValue activeField(const QJsonObject& extra, const char* part, const char* key)
{
    return extra.value(QLatin1String(part)).toObject().value(QLatin1String(key));
}

QList<int> httpStatusesOr(const QJsonValue& given, std::initializer_list<int> byDefault)
{
    if (!given.isArray())
        return QList<int>(byDefault);
    QList<int> out;
    for (const QJsonValue& v : given.toArray())
        out << v.toInt();
    return out;
}

} // namespace

int ActiveHealthCheck::port() const
{
    return extra.value(QLatin1String("port")).toInt(0);
}

QString ActiveHealthCheck::host() const
{
    return extra.value(QLatin1String("host")).toString();
}

QString ActiveHealthCheck::httpMethod() const
{
    return extra.value(QLatin1String("http_method")).toString(QStringLiteral("GET"));
}

QString ActiveHealthCheck::httpPath() const
{
    return extra.value(QLatin1String("http_path")).toString(QStringLiteral("/"));
}

QString ActiveHealthCheck::httpReqBody() const
{
    return extra.value(QLatin1String("http_req_body")).toString();
}

QStringList ActiveHealthCheck::reqHeaders() const
{
    QStringList out;
    for (const QJsonValue& v : extra.value(QLatin1String("req_headers")).toArray())
        out << v.toString();
    return out;
}

QList<int> ActiveHealthCheck::healthyHttpStatuses() const
{
    return httpStatusesOr(activeField(extra, "healthy", "http_statuses"), {200, 302});
}

QList<int> ActiveHealthCheck::unhealthyHttpStatuses() const
{
    return httpStatusesOr(activeField(extra, "unhealthy", "http_statuses"),
                          {429, 404, 500, 501, 502, 503, 504, 505});
}

int ActiveHealthCheck::unhealthyHttpFailures() const
{
    return activeField(extra, "unhealthy", "http_failures").toInt(5);
}

int ActiveHealthCheck::unhealthyTimeouts() const
{
    return activeField(extra, "unhealthy", "timeouts").toInt(3);
}

QString Upstream::idString() const
{
    return idText(id);
}

QString StreamRoute::idString() const
{
    return idText(id);
}

QString Service::idString() const
{
    return idText(id);
}

QString Ssl::idString() const
{
    return idText(id);
}

QStringList Ssl::serverNames() const
{
    QStringList names = snis.isEmpty() && !sni.isEmpty() ? QStringList{sni} : snis;
    for (QString& name : names) {
        if (name.endsWith(QLatin1Char('.')))
            name.chop(1);
        name = name.toLower();
    }
    return names;
}

QString ListenEntry::text() const
{
    const QString ports =
        isRange() ? QStringLiteral("%1-%2").arg(port).arg(portEnd) : QString::number(port);
    if (host.isEmpty())
        return ports;
    if (host.contains(QLatin1Char(':')))
        return QStringLiteral("[%1]:%2").arg(host, ports);
    return QStringLiteral("%1:%2").arg(host, ports);
}

QList<ListenEntry> ListenEntry::singlePorts() const
{
    if (!isRange())
        return {*this};
    QList<ListenEntry> out;
    out.reserve(portCount());
    for (int p = port; p <= portEnd; ++p) {
        ListenEntry single = *this;
        single.port = p;
        single.portEnd = 0;
        single.given = QJsonValue(QJsonValue::Undefined);
        out << single;
    }
    return out;
}

QList<ListenEntry> singlePorts(const QList<ListenEntry>& entries)
{
    QList<ListenEntry> out;
    for (const ListenEntry& e : entries)
        out << e.singlePorts();
    return out;
}

QString rangeListeningText(const QString& protocol, const ListenEntry& range, int listening)
{
    if (listening == range.portCount())
        return QStringLiteral("%1 listener %2 up (%3 ports)")
            .arg(protocol, range.text())
            .arg(listening);
    return QStringLiteral("%1 listener %2 up on %3 of %4 ports")
        .arg(protocol, range.text())
        .arg(listening)
        .arg(range.portCount());
}

const Upstream* Config::findUpstream(const QString& id) const
{
    if (id.isEmpty())
        return nullptr;
    for (const Upstream& upstream : upstreams) {
        if (upstream.idString() == id)
            return &upstream;
    }
    return nullptr;
}

const StreamRoute* Config::findRoute(const QString& id) const
{
    if (id.isEmpty())
        return nullptr;
    for (const StreamRoute& route : streamRoutes) {
        if (route.idString() == id)
            return &route;
    }
    return nullptr;
}

const Ssl* Config::findSsl(const QString& id) const
{
    if (id.isEmpty())
        return nullptr;
    for (const Ssl& ssl : ssls) {
        if (ssl.idString() == id)
            return &ssl;
    }
    return nullptr;
}

const Service* Config::findService(const QString& id) const
{
    if (id.isEmpty())
        return nullptr;
    for (const Service& service : services) {
        if (service.idString() == id)
            return &service;
    }
    return nullptr;
}

namespace {

bool given(const QJsonValue& id)
{
    return !id.isUndefined() && !id.isNull();
}

} // namespace

const PluginMetadata* Config::findPluginMetadata(const QString& plugin) const
{
    for (const PluginMetadata& m : pluginMetadata)
        if (m.id == plugin)
            return &m;
    return nullptr;
}

StreamRoute Config::effectiveRoute(const StreamRoute& route) const
{
    StreamRoute merged = route;
    const Service* service = findService(idText(route.serviceId));
    // APISIX looks a route's own upstream_id up before its service, and then never merges the
    // service in: such a route runs without the service's plugins too.
    if (service && !given(route.upstreamId)) {
        // A route with an inline upstream keeps it (APISIX takes it over an upstream_id it
        // inherited).
        if (!merged.upstream) {
            merged.upstream = service->upstream;
            merged.upstreamId = service->upstreamId;
        }
        merged.plugins = mergedPlugins(route.plugins, service->plugins);
    }
    // log-util's get_log_entry: the conf's log_format, else a non-empty one from the metadata.
    const PluginMetadata* metadata = findPluginMetadata(QStringLiteral("syslog"));
    if (merged.plugins.syslog && metadata) {
        SyslogConf& syslog = *merged.plugins.syslog;
        const QJsonObject format = metadata->value.value(QLatin1String("log_format")).toObject();
        if (!syslog.logFormat && !format.isEmpty())
            syslog.logFormat = format;
        syslog.maxPendingEntries = metadata->value.value(QLatin1String("max_pending_entries"))
                                       .toInt(syslog.maxPendingEntries);
    }
    return merged;
}

const Upstream* Config::upstreamFor(const StreamRoute& route) const
{
    // APISIX's stream preread: the route's upstream_id first (its inline upstream then does not
    // run), then the route merged with its service (an inline upstream before an upstream_id).
    if (given(route.upstreamId))
        return findUpstream(idText(route.upstreamId));
    if (given(route.serviceId)) {
        const Service* service = findService(idText(route.serviceId));
        if (!service)
            return nullptr;
        if (route.upstream)
            return &*route.upstream;
        if (service->upstream)
            return &*service->upstream;
        return findUpstream(idText(service->upstreamId));
    }
    return route.upstream ? &*route.upstream : nullptr;
}

} // namespace sg
