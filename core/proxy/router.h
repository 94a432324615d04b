#pragma once
// Route selection exactly as APISIX's stream router: routes are tried in list order; a route
// matches when every field it has (remote_addr, server_addr, server_port) matches; the first
// match wins. A Router is compiled once per config and is immutable, so workers share it.
// A route with `sni` only matches TLS connections in APISIX; Streamgate does not terminate TLS, so
// such a route never matches. A route whose address field does not parse never matches either.

#include "model/streamroute.h"
#include "proxy/addressmatch.h"

#include <QHostAddress>
#include <QList>
#include <optional>

namespace sg {

struct MatchInput
{
    QHostAddress remoteAddress; // client (normalised inside)
    QHostAddress localAddress;  // the address the connection arrived on
    int serverPort = 0;         // the listener's port
};

class Router
{
public:
    explicit Router(const QList<StreamRoute>& routes);
    // Index into the routes given to the constructor, or -1 when nothing matches.
    int match(const MatchInput& input) const;
    qsizetype size() const { return m_routes.size(); }

private:
    struct Compiled
    {
        std::optional<AddressRule> remote;
        std::optional<AddressRule> server;
        std::optional<int> port;
        bool matchable = true; // false: sni set or an unparsable address
    };
    QList<Compiled> m_routes;
};

} // namespace sg
