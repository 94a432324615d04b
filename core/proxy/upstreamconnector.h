#pragma once
// UpstreamConnector opens a TCP session's upstream connection on the session's worker: a
// non-blocking connect to the node the session's upstream's balancer picks (the route's
// upstream, or the one traffic-split chose), a timeout per attempt
// (upstream.timeout.connect, 60 s when unset), and retries over further picks while
// upstream.retries and upstream.retry_timeout allow. It keeps the node's counters (failures;
// active and total once connected) and the balancer's connection count until release().

#include "proxy/routetable.h"
#include "proxy/worker.h"

#include <QString>

namespace sg {

class UpstreamConnector
{
public:
    // The timer kind the connector schedules for its session (tag: kind << 24 | generation).
    static constexpr quint32 kConnectTimer = 2;

    enum class Outcome : quint8 {
        Pending,       // an attempt is under way
        Connected,     // the watch holds the connected socket
        Failed,        // every attempt failed (CloseReason::ConnectFailed)
        NoDescriptors, // the proxy is out of descriptors
        Reset,         // the upstream accepted and reset at once (CloseReason::UpstreamReset)
    };

    // upstream: the session's (null: none, every connect fails); watch: the session's upstream
    // watch (handler and tag set); the socket is opened into it.
    UpstreamConnector(Worker& worker, quint64 sessionId, RouteEntry& route, UpstreamEntry* upstream,
                      ConnectionRecord& record, QString hashKey, IoWatch& watch);
    Q_DISABLE_COPY_MOVE(UpstreamConnector)

    Outcome start();
    // While an attempt is under way: the watch's readiness, or a connect timer with its tag.
    Outcome onIo(quint32 bits);
    Outcome onTimer(quint32 generation);
    // The session ends: the connected node's active count and the balancer are told.
    void release();

    qint64 connectMs() const { return m_connectedMs - m_attemptStartMs; }
    // IoRead and IoHup as the connected attempt's socket reported them before it connected.
    quint32 reportedBits() const { return m_bits; }

private:
    Outcome attempt();
    Outcome attemptFailed(bool timedOut);
    Outcome connected();
    void closeSocket();

    Worker& m_worker;
    const quint64 m_sessionId;
    RouteEntry& m_route;
    UpstreamEntry* const m_upstream;
    ConnectionRecord& m_record;
    const QString m_hashKey;
    IoWatch& m_watch;
    TriedNodes m_tried;
    int m_node = -1;
    int m_attempts = 0;
    quint32 m_gen = 0;
    qint64 m_firstAttemptMs = 0;
    qint64 m_attemptStartMs = 0;
    qint64 m_connectedMs = 0;
    quint32 m_bits = 0;
    bool m_connected = false;
};

} // namespace sg
