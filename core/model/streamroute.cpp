#include "model/streamroute.h"

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

QString Upstream::idString() const
{
    return idText(id);
}

QString StreamRoute::idString() const
{
    return idText(id);
}

QString ListenEntry::text() const
{
    if (host.isEmpty())
        return QString::number(port);
    if (host.contains(QLatin1Char(':')))
        return QStringLiteral("[%1]:%2").arg(host).arg(port);
    return QStringLiteral("%1:%2").arg(host).arg(port);
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

const Upstream* Config::upstreamFor(const StreamRoute& route) const
{
    if (route.upstream)
        return &*route.upstream;
    return findUpstream(idText(route.upstreamId));
}

} // namespace sg
