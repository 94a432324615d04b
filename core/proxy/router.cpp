#include "proxy/router.h"

namespace sg {

Router::Router(const QList<StreamRoute>& routes)
{
    m_routes.reserve(routes.size());
    for (const StreamRoute& route : routes) {
        Compiled compiled;
        if (!route.sni.isEmpty())
            compiled.matchable = false;
        if (!route.remoteAddr.isEmpty()) {
            compiled.remote = AddressRule::parse(route.remoteAddr);
            compiled.matchable = compiled.matchable && compiled.remote.has_value();
        }
        if (!route.serverAddr.isEmpty()) {
            compiled.server = AddressRule::parse(route.serverAddr);
            compiled.matchable = compiled.matchable && compiled.server.has_value();
        }
        compiled.port = route.serverPort;
        m_routes.append(std::move(compiled));
    }
}

int Router::match(const MatchInput& input) const
{
    const QHostAddress remote = normalizedAddress(input.remoteAddress);
    const QHostAddress local = normalizedAddress(input.localAddress);
    for (qsizetype i = 0; i < m_routes.size(); ++i) {
        const Compiled& route = m_routes.at(i);
        if (!route.matchable)
            continue;
        if (route.port && *route.port != input.serverPort)
            continue;
        if (route.remote && !route.remote->matches(remote))
            continue;
        if (route.server && !route.server->matches(local))
            continue;
        return int(i);
    }
    return -1;
}

} // namespace sg
