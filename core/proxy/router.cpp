#include "proxy/router.h"

#include "proxy/servername.h"

#include <algorithm>
#include <limits>

namespace sg {

Router::Router(const QList<StreamRoute>& routes)
{
    m_routes.reserve(routes.size());
    for (const StreamRoute& route : routes) {
        Compiled compiled;
        compiled.sni = route.sni.toLower();
        if (!route.remoteAddr.isEmpty()) {
            compiled.remote = AddressRule::parse(route.remoteAddr);
            compiled.matchable = compiled.matchable && compiled.remote.has_value();
        }
        if (!route.serverAddr.isEmpty()) {
            compiled.server = AddressRule::parse(route.serverAddr);
            compiled.matchable = compiled.matchable && compiled.server.has_value();
        }
        compiled.port = route.serverPort;
        if (!compiled.sni.isEmpty())
            m_sniOrder.append(m_routes.size());
        m_routes.append(std::move(compiled));
    }
    // Exact names first, then wildcards by suffix length, longest first; list order within.
    const auto rank = [this](qsizetype i) {
        const QString& sni = m_routes.at(i).sni;
        return sni.startsWith(u'*') ? sni.size() - 1 : std::numeric_limits<qsizetype>::max();
    };
    std::stable_sort(m_sniOrder.begin(), m_sniOrder.end(),
                     [&rank](qsizetype a, qsizetype b) { return rank(a) > rank(b); });
}

bool Router::addressesMatch(const Compiled& route, const QHostAddress& remote,
                            const QHostAddress& local, int port) const
{
    if (!route.matchable)
        return false;
    if (route.port && *route.port != port)
        return false;
    if (route.remote && !route.remote->matches(remote))
        return false;
    if (route.server && !route.server->matches(local))
        return false;
    return true;
}

int Router::match(const MatchInput& input) const
{
    const QHostAddress remote = normalizedAddress(input.remoteAddress);
    const QHostAddress local = normalizedAddress(input.localAddress);
    if (!input.sni.isEmpty()) {
        for (const qsizetype i : m_sniOrder) {
            const Compiled& route = m_routes.at(i);
            if (routeSniMatches(route.sni, input.sni) &&
                addressesMatch(route, remote, local, input.serverPort))
                return int(i);
        }
    }
    for (qsizetype i = 0; i < m_routes.size(); ++i) {
        const Compiled& route = m_routes.at(i);
        if (route.sni.isEmpty() && addressesMatch(route, remote, local, input.serverPort))
            return int(i);
    }
    return -1;
}

} // namespace sg
