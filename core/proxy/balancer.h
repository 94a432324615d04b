#pragma once
// Upstream node selection. Nodes are grouped into priority tiers (higher first; a lower tier
// only when every node of the higher ones failed or is unhealthy). Within a tier:
// roundrobin (smooth weighted, as nginx/APISIX), chash (consistent hash on a key, default
// remote_addr), least_conn (fewest active, weighted). Weight 0 is never chosen. Unhealthy nodes
// are skipped while a healthy one exists. Thread-safe: one Balancer per upstream, shared.

#include "model/streamroute.h"

#include <QHostAddress>
#include <QList>
#include <QMutex>
#include <QSet>
#include <QString>

namespace sg {

class Balancer
{
public:
    explicit Balancer(const Upstream& upstream);

    // Next node index (into upstream.nodes) to try, never one in `tried`; -1 when none is left.
    // hashKey is the chash key value for this connection (e.g. the client IP).
    int pick(const QString& hashKey, const QSet<int>& tried);

    void connectionStarted(int node);  // least_conn bookkeeping
    void connectionEnded(int node);
    void setHealthy(int node, bool healthy);
    bool isHealthy(int node) const;
    int nodeCount() const;
    const Node& node(int index) const;

private:
    Upstream m_upstream;
    mutable QMutex m_mutex;
    QList<int> m_currentWeight; // smooth weighted round robin state
    QList<int> m_active;
    QList<bool> m_healthy;
};

// The chash key value for a connection: "remote_addr" (default), "server_addr", "server_port".
QString chashKeyValue(const Upstream& upstream, const QHostAddress& remote,
                      const QHostAddress& local, int serverPort);

} // namespace sg
