#pragma once
// Upstream node selection. Nodes are grouped into priority tiers (higher first; a lower tier
// only when every node of the higher ones failed or is unhealthy). Within a tier:
// roundrobin (smooth weighted, as nginx/APISIX), chash (consistent hash on a key, default
// remote_addr), least_conn (fewest active, weighted). Weight 0 is never chosen. Unhealthy nodes
// are skipped while a healthy one exists. Thread-safe: one Balancer per upstream, shared.
//
// Health follows APISIX: while any node of the upstream is healthy, only healthy nodes are
// candidates (in every tier); when none is, every node is a candidate again.

#include "model/streamroute.h"
#include "proxy/streamvariables.h"

#include <QHostAddress>
#include <QList>
#include <QMutex>
#include <QString>
#include <QVarLengthArray>
#include <initializer_list>
#include <utility>
#include <vector>

namespace sg {

// The nodes one connection has tried: a bit each for the first 64 node indexes, so a session
// carries it without an allocation; larger indexes (upstreams of more than 64 nodes) spill
// into a list.
class TriedNodes
{
public:
    TriedNodes() = default;
    TriedNodes(std::initializer_list<int> nodes)
    {
        for (int n : nodes)
            insert(n);
    }
    void insert(int node)
    {
        if (node >= 0 && node < 64)
            m_low |= quint64(1) << node;
        else if (!contains(node))
            m_high.push_back(node);
    }
    bool contains(int node) const
    {
        if (node >= 0 && node < 64)
            return m_low & (quint64(1) << node);
        for (int n : m_high)
            if (n == node)
                return true;
        return false;
    }

private:
    quint64 m_low = 0;
    std::vector<int> m_high;
};

class Balancer
{
public:
    explicit Balancer(const Upstream& upstream);

    // Next node index (into upstream.nodes) to try, never one in `tried`; -1 when none is left.
    // hashKey is the chash key value for this connection (e.g. the client IP); other types
    // ignore it. A retry passes every node tried so far for this connection.
    int pick(const QString& hashKey, const TriedNodes& tried);
    // Whether pick() reads hashKey at all (chash): the caller skips building it otherwise.
    bool usesHashKey() const { return m_type == Type::Chash; }

    // least_conn bookkeeping: connectionStarted(node) once per connection counted on the node,
    // connectionEnded(node) once for each. Counting from the start of the connect attempt
    // (right after pick) spreads parallel connects; counting from "connected" works too.
    // Other types keep the counts (they are useful to show) but do not use them.
    void connectionStarted(int node);
    void connectionEnded(int node);
    int activeConnections(int node) const;
    void setHealthy(int node, bool healthy);
    bool isHealthy(int node) const;
    int nodeCount() const;
    const Node& node(int index) const;
    const Upstream& upstream() const { return m_upstream; }

private:
    enum class Type { RoundRobin, Chash, LeastConn };
    using Candidates = QVarLengthArray<int, 32>; // no allocation per pick for usual upstreams
    int pickInTier(const Candidates& candidates, quint32 keyHash);
    int pickRoundRobin(const Candidates& candidates);
    int pickChash(const Candidates& candidates, quint32 keyHash) const;
    int pickLeastConn(const Candidates& candidates) const;

    Upstream m_upstream;
    Type m_type = Type::RoundRobin;
    QList<QList<int>> m_tiers;             // node indexes per priority, highest first
    QList<std::pair<quint32, int>> m_ring; // chash: (point, node), sorted by point
    mutable QMutex m_mutex;
    QList<int> m_currentWeight; // smooth weighted round robin state
    QList<int> m_active;
    QList<bool> m_healthy;
};

// The chash key value for a connection: a stream variable such as "remote_addr" (default) or
// "server_port"; with hash_on "vars_combinations" the key is a template such as
// "$remote_addr$server_port". Falls back to remote_addr when the key resolves to nothing, as
// APISIX does.
QString chashKeyValue(const Upstream& upstream, const StreamClient& client);

} // namespace sg
