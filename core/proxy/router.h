#pragma once
// Route selection exactly as APISIX's stream router: routes are tried in list order; a route
// matches when every field it has (remote_addr, server_addr, server_port) matches; the first
// match wins. A Router is compiled once per config and is immutable, so workers share it.
// A route with `sni` only matches TLS connections (a listener with tls: true), and those routes
// are tried first, as APISIX's radixtree of reversed names tries them: the routes whose sni is
// the connection's SNI, then those whose "*suffix" pattern ends it, longest suffix first ("*"
// last; unlike a certificate's, a route's wildcard stands for any number of labels), each group
// in list order; then the routes without sni. A route whose address field does not parse never
// matches.

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
    QString sni;                // TLS: the SNI the client sent (lower case); empty otherwise
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
        QString sni;           // lower case; empty: any connection, TLS or not
        bool matchable = true; // false: an unparsable address
    };
    bool addressesMatch(const Compiled& route, const QHostAddress& remote,
                        const QHostAddress& local, int port) const;
    QList<Compiled> m_routes;
    QList<qsizetype> m_sniOrder; // the routes with sni, in the order they are tried
};

} // namespace sg
