#pragma once
// UdpListeners is the engine thread's side of stream_proxy.udp: one QUdpSocket bind per entry,
// one per port of a range (a bind failure becomes that port's listener's error, as for TCP),
// after which the bound descriptor is handed to one worker, where a UdpListenerSession reads it
// with recvmmsg. Only a change of the listener set opens or closes sockets; a new route table
// reaches the running listeners.
// Not thread-safe: used only by the engine thread.

#include "proxy/routetable.h"
#include "proxy/udpsession.h"
#include "stats/statshub.h"

#include <QHash>
#include <QList>
#include <memory>
#include <vector>

namespace sg {

class Worker;

class UdpListeners
{
public:
    UdpListeners(StatsHub& hub, std::vector<std::unique_ptr<Worker>>& workers,
                 std::shared_ptr<const UdpContext> context);

    // open: false once the engine is stopped (no new sockets).
    void apply(const QList<ListenEntry>& entries, const std::shared_ptr<const RouteTable>& table,
               bool open);
    // Closes every listener and its sessions (Shutdown); the entries stay listed as stopped.
    void closeAll();
    QList<StatsHub::ListenerEntry> topology(bool stopped) const;

private:
    struct Listener
    {
        ListenEntry entry;
        std::shared_ptr<ListenerStats> stats;
        int worker = -1;
        quint64 sessionId = 0; // the UdpListenerSession on that worker
        int port = 0;
        bool listening = false;
        QString error;
    };
    // reportUp: an event once it listens (a port of a range is reported with its range).
    void open(Listener& l, const std::shared_ptr<const RouteTable>& table, bool reportUp);
    void shut(Listener& l);

    StatsHub& m_hub;
    std::vector<std::unique_ptr<Worker>>& m_workers;
    std::shared_ptr<const UdpContext> m_context;
    QList<ListenEntry> m_order;           // single ports, ranges expanded (topology order)
    QHash<QString, Listener> m_listeners; // by the single port's ListenEntry::text()
    size_t m_nextWorker = 0;
    quint64 m_nextId = 0;
};

} // namespace sg
