#include "proxy/balancer.h"

#include "proxy/streamvariables.h"

#include <QHash>
#include <QMutexLocker>
#include <algorithm>
#include <map>
#include <numeric>

namespace sg {

namespace {

// Points on the chash ring per unit of weight (as ketama), and a cap on the whole ring so large
// weights keep the build cheap (a few ms). Below the cap a node's points do not depend on the
// others, so removing one node moves only its keys; above it weights are first divided by their
// common divisor, then scaled alike if still needed; since a node's points are a prefix of one
// fixed sequence, rescaling moves few keys too.
constexpr qint64 kPointsPerWeight = 160;
constexpr qint64 kMaxRingPoints = 1 << 16;

// Deterministic (unlike qHash, which is seeded per process), so a key maps to the same node
// after a restart: FNV-1a over the UTF-8 bytes, then MurmurHash3's finaliser for avalanche.
quint64 mix64(quint64 h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

quint64 hash64(const QString& text)
{
    quint64 h = 0xcbf29ce484222325ULL;
    for (const char byte : text.toUtf8()) {
        h ^= quint8(byte);
        h *= 0x100000001b3ULL;
    }
    return mix64(h);
}

quint32 hashKey(const QString& key)
{
    return quint32(hash64(key) >> 32);
}

// The n-th point of a node on the ring, spread evenly by the mix.
quint32 ringPoint(quint64 labelHash, qint64 n)
{
    return quint32(mix64(labelHash + quint64(n) * 0x9e3779b97f4a7c15ULL) >> 32);
}

} // namespace

Balancer::Balancer(const Upstream& upstream) : m_upstream(upstream)
{
    if (upstream.type == u"chash")
        m_type = Type::Chash;
    else if (upstream.type == u"least_conn")
        m_type = Type::LeastConn;

    const int count = int(m_upstream.nodes.size());
    m_currentWeight.fill(0, count);
    m_active.fill(0, count);
    m_healthy.fill(true, count);

    std::map<int, QList<int>, std::greater<>> byPriority;
    for (int i = 0; i < count; ++i) {
        if (m_upstream.nodes.at(i).weight > 0)
            byPriority[m_upstream.nodes.at(i).priority].append(i);
    }
    for (auto& [priority, nodes] : byPriority)
        m_tiers.append(std::move(nodes));

    if (m_type == Type::Chash) {
        // Weights such as 5000/10000 are reduced by their common divisor before anything is
        // scaled, so the usual large-weight configs keep exact, independent point counts.
        qint64 totalWeight = 0;
        int divisor = 0;
        for (const Node& node : m_upstream.nodes) {
            if (node.weight > 0) {
                totalWeight += node.weight;
                divisor = std::gcd(divisor, node.weight);
            }
        }
        if (totalWeight * kPointsPerWeight <= kMaxRingPoints || divisor < 1)
            divisor = 1;
        const qint64 totalPoints = totalWeight / divisor * kPointsPerWeight;
        const double scale =
            totalPoints > kMaxRingPoints ? double(kMaxRingPoints) / totalPoints : 1.0;
        m_ring.reserve(qMin(totalPoints, kMaxRingPoints) + count);
        QHash<QString, int> seen;
        for (int i = 0; i < count; ++i) {
            const Node& node = m_upstream.nodes.at(i);
            if (node.weight <= 0)
                continue;
            const qint64 points =
                qMax<qint64>(1, qint64(kPointsPerWeight * (node.weight / divisor) * scale));
            QString label = node.address();
            const int duplicate = seen[label]++;
            if (duplicate > 0)
                label += u'#' + QString::number(duplicate);
            const quint64 labelHash = hash64(label);
            for (qint64 n = 0; n < points; ++n)
                m_ring.append({ringPoint(labelHash, n), i});
        }
        std::sort(m_ring.begin(), m_ring.end());
    }
}

int Balancer::pick(const QString& key, const TriedNodes& tried)
{
    const quint32 keyHash = m_type == Type::Chash ? hashKey(key) : 0; // hashed outside the lock
    QMutexLocker lock(&m_mutex);
    bool anyHealthy = false;
    for (const QList<int>& tier : std::as_const(m_tiers)) {
        for (int i : tier)
            anyHealthy = anyHealthy || m_healthy.at(i);
    }
    Candidates candidates;
    for (const QList<int>& tier : std::as_const(m_tiers)) {
        candidates.clear();
        for (int i : tier) {
            if (!tried.contains(i) && (!anyHealthy || m_healthy.at(i)))
                candidates.append(i);
        }
        if (!candidates.isEmpty())
            return pickInTier(candidates, keyHash);
    }
    return -1;
}

int Balancer::pickInTier(const Candidates& candidates, quint32 keyHash)
{
    switch (m_type) {
    case Type::Chash:
        return pickChash(candidates, keyHash);
    case Type::LeastConn:
        return pickLeastConn(candidates);
    case Type::RoundRobin:
        break;
    }
    return pickRoundRobin(candidates);
}

// nginx's smooth weighted round robin: every candidate gains its weight, the richest is chosen
// and pays back the total. Over any window of sum(weights) picks each node gets exactly its share.
int Balancer::pickRoundRobin(const Candidates& candidates)
{
    int best = -1;
    int total = 0;
    for (int i : candidates) {
        const int weight = m_upstream.nodes.at(i).weight;
        m_currentWeight[i] += weight;
        total += weight;
        if (best < 0 || m_currentWeight.at(i) > m_currentWeight.at(best))
            best = i;
    }
    m_currentWeight[best] -= total;
    return best;
}

// The first point clockwise from the key's hash whose node is a candidate: the same as a ring
// built from the candidates alone, so a node leaving only moves the keys that were on it.
int Balancer::pickChash(const Candidates& candidates, quint32 h) const
{
    if (m_ring.isEmpty())
        return candidates.first();
    QVarLengthArray<bool, 64> allowed(m_upstream.nodes.size(), false);
    for (int i : candidates)
        allowed[i] = true;
    auto it = std::lower_bound(m_ring.cbegin(), m_ring.cend(), std::pair<quint32, int>{h, -1});
    for (qsizetype step = 0; step < m_ring.size(); ++step, ++it) {
        if (it == m_ring.cend())
            it = m_ring.cbegin();
        if (allowed.at(it->second))
            return it->second;
    }
    return candidates.first();
}

// APISIX scores a node (active + 1) / weight and takes the lowest; ties go to the earlier node.
int Balancer::pickLeastConn(const Candidates& candidates) const
{
    int best = -1;
    for (int i : candidates) {
        if (best < 0) {
            best = i;
            continue;
        }
        // (a+1)/wa < (b+1)/wb without division
        const qint64 lhs = qint64(m_active.at(i) + 1) * m_upstream.nodes.at(best).weight;
        const qint64 rhs = qint64(m_active.at(best) + 1) * m_upstream.nodes.at(i).weight;
        if (lhs < rhs)
            best = i;
    }
    return best;
}

void Balancer::connectionStarted(int node)
{
    QMutexLocker lock(&m_mutex);
    if (node >= 0 && node < m_active.size())
        ++m_active[node];
}

void Balancer::connectionEnded(int node)
{
    QMutexLocker lock(&m_mutex);
    if (node >= 0 && node < m_active.size() && m_active.at(node) > 0)
        --m_active[node];
}

int Balancer::activeConnections(int node) const
{
    QMutexLocker lock(&m_mutex);
    return node >= 0 && node < m_active.size() ? m_active.at(node) : 0;
}

void Balancer::setHealthy(int node, bool healthy)
{
    QMutexLocker lock(&m_mutex);
    if (node >= 0 && node < m_healthy.size())
        m_healthy[node] = healthy;
}

bool Balancer::isHealthy(int node) const
{
    QMutexLocker lock(&m_mutex);
    return node >= 0 && node < m_healthy.size() && m_healthy.at(node);
}

int Balancer::nodeCount() const
{
    return int(m_upstream.nodes.size());
}

const Node& Balancer::node(int index) const
{
    return m_upstream.nodes.at(index);
}

QString chashKeyValue(const Upstream& upstream, const StreamClient& client)
{
    QString value;
    if (upstream.hashOn == u"vars_combinations") {
        int resolved = 0;
        value = resolveStreamVariables(upstream.key, client, &resolved);
        if (resolved == 0)
            value = QString();
    } else if (upstream.hashOn.isEmpty() || upstream.hashOn == u"vars") {
        const QString name = upstream.key.isEmpty() ? QStringLiteral("remote_addr") : upstream.key;
        value = streamVariable(name, client);
    }
    if (value.isEmpty())
        value = streamVariable(QStringLiteral("remote_addr"), client);
    return value;
}

} // namespace sg
