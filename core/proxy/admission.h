#pragma once
// Admission is the one pipeline every new client goes through, a TCP connection or the first
// datagram of a UDP session, in APISIX's phase order:
//   match     the route table's Router picks the route (none: refused, NoRoute)
//   drained   a route the user drained refuses new clients (Streamgate's own)
//   preread   the route's stream plugins, highest priority first (streamplugin.h); the first
//             refusal ends the client, and the plugins that had admitted it let go at once. A
//             plugin that reads the client's first packet (mqtt-proxy) pauses the pipeline
//             until the transport has read it: admit() returns paused(), and resume() goes on
//             from that plugin with the packet in the StreamClient (refuse() when it never came)
//   balancer  the session's upstream (the route's, or the one traffic-split chose in preread)
//             and the chash key value its balancer picks a node by
//   log       when the session ends, AdmissionTicket::end() runs the plugins' log phase
// The transports do only what is theirs: TcpListeners reads the accepted socket's addresses,
// closes a refused one and starts a TcpSession; UdpListenerSession reads the datagram's
// addresses, remembers a refused client and starts a UdpSession. Both record refusals and open
// records through the functions below, so the stats and events read the same for both.

#include "proxy/routetable.h"
#include "proxy/streamplugin.h"
#include "stats/statshub.h"

#include <QMutex>
#include <QSet>
#include <QString>
#include <QVarLengthArray>
#include <memory>

namespace sg {

// What an admitted session holds of its plugins until it ends: each plugin's `held` slot.
// end() runs their log phase once (the destructor does if nobody did), so a session that never
// started gives back what it was counted for.
class AdmissionTicket
{
public:
    AdmissionTicket() = default;
    AdmissionTicket(AdmissionTicket&& other) noexcept = default;
    AdmissionTicket& operator=(AdmissionTicket&& other) noexcept;
    ~AdmissionTicket() { end(); }
    Q_DISABLE_COPY(AdmissionTicket)

    // The session's record, for the log phase (set once the record is open).
    void setRecord(std::shared_ptr<const ConnectionRecord> record)
    {
        if (m_held)
            m_held->record = std::move(record);
    }
    // The log phase, with why the session ended (and the client, when a plugin refused it
    // before it opened); later calls do nothing.
    void end(CloseReason reason = CloseReason::None, const StreamClient* refused = nullptr);

private:
    friend class AdmissionPipeline;
    struct Held
    {
        std::shared_ptr<RouteEntry> route;
        std::shared_ptr<const ConnectionRecord> record;
        // (index into the route's plugins, what its preread kept), in plugin order
        QVarLengthArray<std::pair<qsizetype, QString>, 2> kept;
    };
    // Made by the first plugin that keeps something: a session whose plugins keep nothing
    // carries an empty ticket, one pointer wide.
    std::unique_ptr<Held> m_held;
};

struct Admission
{
    std::shared_ptr<RouteEntry> route; // null when no route matched
    CloseReason refusal = CloseReason::None;
    QString why;            // the refusal, as the event log says it
    bool underLoad = false; // see PrereadVerdict::underLoad
    double delaySeconds = 0;
    // balancer phase: the session's upstream, the route's unless traffic-split chose another
    // (null: none; kept alive by `route`), and its chash key value when it balances by chash
    UpstreamEntry* upstream = nullptr;
    QString hashKey;
    AdmissionTicket ticket;
    // The preread phase waits before this plugin (an index into the route's plugins) for the
    // client's MQTT CONNECT; -1: not waiting.
    qsizetype pausedAt = -1;

    bool paused() const { return pausedAt >= 0; }
    bool admitted() const { return refusal == CloseReason::None && pausedAt < 0; }
};

// Thread-safe: the TCP accept path (any worker) and every UDP listener share one pipeline.
class AdmissionPipeline
{
public:
    Admission admit(const RouteTable& table, const StreamClient& client) const;
    // A paused admission: goes on with the client, which now carries what was waited for.
    void resume(Admission& admission, const StreamClient& client) const;
    // A paused admission whose wait failed: the plugin it waited for refuses the client.
    void refuse(Admission& admission, const StreamClient& client, CloseReason reason,
                const QString& why) const;

    // Drained routes refuse new clients; their sessions go on.
    void setDrained(const QString& routeId, bool drained);
    bool isDrained(const QString& routeId) const;

private:
    // The preread phase from plugin `from` on, then the balancer phase.
    void preread(Admission& a, const StreamClient& client, qsizetype from) const;
    void refuseAt(Admission& a, qsizetype plugin, const StreamClient& client,
                  PrereadVerdict&& verdict) const;

    mutable QMutex m_drainedMutex;
    QSet<QString> m_drained;
};

// The client as a connection, before it has an id: protocol, listener, addresses, start time.
ConnectionInfo connectionOf(const StreamClient& client, const QString& listener, qint64 nowMs);

// Records a refused client: a closed connection with the refusal as its reason in the denied
// table and one Deny event "<client>:<port> refused on <where>: <why>".
void recordRefusal(StatsHub& hub, ConnectionInfo base, const Admission& admission,
                   const QString& where);

// Registers an admitted client's record (with a new id), hands it to the ticket for the log
// phase and returns it.
std::shared_ptr<ConnectionRecord> openRecord(StatsHub& hub, ConnectionInfo base,
                                             Admission& admission,
                                             std::shared_ptr<ListenerStats> listener, int worker);

} // namespace sg
