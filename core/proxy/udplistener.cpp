#include "proxy/udplistener.h"

#include "proxy/worker.h"

#include <QNetworkProxy>
#include <QSemaphore>
#include <QUdpSocket>
#include <fcntl.h>
#include <unistd.h>

namespace sg {

namespace {
// Listener sessions take ids from the top of the range, apart from connection ids.
constexpr quint64 kListenerIdBase = quint64(1) << 62;
constexpr int kShutWaitMs = 2000;
} // namespace

UdpListeners::UdpListeners(StatsHub& hub, std::vector<std::unique_ptr<Worker>>& workers,
                           std::shared_ptr<const UdpContext> context)
    : m_hub(hub), m_workers(workers), m_context(std::move(context))
{
}

void UdpListeners::apply(const QList<ListenEntry>& entries,
                         const std::shared_ptr<const RouteTable>& table, bool open)
{
    // One listener per port: a range is one per port of it, each bound, reported and listed on
    // its own.
    const QList<ListenEntry> sockets = singlePorts(entries);
    QHash<QString, ListenEntry> wanted;
    for (const ListenEntry& e : sockets)
        wanted.insert(e.text(), e);
    for (auto it = m_listeners.begin(); it != m_listeners.end();) {
        if (!wanted.contains(it.key())) {
            shut(it.value());
            it = m_listeners.erase(it);
        } else {
            ++it;
        }
    }
    m_order = sockets;
    // apply() returns once every running listener routes by the new table, so a datagram sent
    // after an allow-list edit is judged by the edit.
    auto switched = std::make_shared<QSemaphore>();
    int posted = 0;
    for (const ListenEntry& entry : entries) {
        int opened = 0;
        int listening = 0;
        for (const ListenEntry& e : entry.singlePorts()) {
            const QString key = e.text();
            auto it = m_listeners.find(key);
            if (it != m_listeners.end()) {
                // Running listener: only its routing changes.
                Listener& l = it.value();
                if (l.listening) {
                    ++listening;
                    const quint64 id = l.sessionId;
                    m_workers[size_t(l.worker)]->post([id, table, switched](Worker& w) {
                        if (auto* s = static_cast<UdpListenerSession*>(w.session(id)))
                            s->setTable(table);
                        switched->release();
                    });
                    ++posted;
                }
                continue;
            }
            if (!open)
                continue;
            Listener l;
            l.entry = e;
            l.stats = m_hub.listenerStats(QStringLiteral("udp ") + key);
            l.port = e.port;
            this->open(l, table, !entry.isRange());
            if (l.listening) {
                ++opened;
                ++listening;
            }
            m_listeners.insert(key, l);
        }
        // A range is one event, not one per port.
        if (entry.isRange() && opened > 0)
            m_hub.addEvent(EventKind::ListenerUp, QString(),
                           rangeListeningText(QStringLiteral("UDP"), entry, listening));
    }
    switched->tryAcquire(posted, kShutWaitMs);
}

void UdpListeners::open(Listener& l, const std::shared_ptr<const RouteTable>& table, bool reportUp)
{
    const QString key = l.entry.text();
    const QHostAddress host =
        l.entry.host.isEmpty() ? QHostAddress(QHostAddress::Any) : QHostAddress(l.entry.host);
    QUdpSocket socket;
    socket.setProxy(QNetworkProxy::NoProxy); // binds here, never asks for a system proxy
    // DontShareAddress: no SO_REUSEADDR, so a port already taken is an error, as for TCP.
    if (!socket.bind(host, quint16(l.entry.port), QAbstractSocket::DontShareAddress)) {
        l.error = socket.errorString();
        m_hub.addEvent(EventKind::ListenerError, QString(),
                       QStringLiteral("UDP listener %1: %2").arg(key, l.error));
        return;
    }
    // The worker gets its own descriptor of the bound socket; QUdpSocket's is closed so the
    // engine thread never hears about datagrams.
    const int fd = ::fcntl(int(socket.socketDescriptor()), F_DUPFD_CLOEXEC, 0);
    l.port = socket.localPort();
    socket.close();
    if (fd < 0) {
        l.error = QString::fromLocal8Bit(strerror(errno));
        m_hub.addEvent(EventKind::ListenerError, QString(),
                       QStringLiteral("UDP listener %1: %2").arg(key, l.error));
        return;
    }
    l.worker = int(m_nextWorker++ % m_workers.size());
    l.sessionId = kListenerIdBase + ++m_nextId;
    l.listening = true;
    l.error.clear();
    const quint64 id = l.sessionId;
    auto stats = l.stats;
    auto context = m_context;
    m_workers[size_t(l.worker)]->post([id, fd, key, stats, context, table](Worker& w) {
        auto session = std::make_unique<UdpListenerSession>(w, id, fd, key, stats, context, table);
        UdpListenerSession* raw = session.get();
        w.adopt(std::move(session));
        raw->start();
    });
    if (reportUp)
        m_hub.addEvent(EventKind::ListenerUp, QString(),
                       QStringLiteral("UDP listener %1 up").arg(key));
}

void UdpListeners::shut(Listener& l)
{
    if (!l.listening)
        return;
    l.listening = false;
    // Waits until the worker has closed the descriptor, so the port can be bound again at once.
    auto done = std::make_shared<QSemaphore>();
    const quint64 id = l.sessionId;
    m_workers[size_t(l.worker)]->post([id, done](Worker& w) {
        if (WorkerSession* s = w.session(id))
            s->close(CloseReason::Shutdown);
        done->release();
    });
    done->tryAcquire(1, kShutWaitMs);
}

void UdpListeners::closeAll()
{
    for (Listener& l : m_listeners)
        shut(l);
    m_listeners.clear();
}

QList<StatsHub::ListenerEntry> UdpListeners::topology(bool stopped) const
{
    QList<StatsHub::ListenerEntry> out;
    for (const ListenEntry& e : m_order) {
        const QString key = e.text();
        StatsHub::ListenerEntry le;
        le.status.protocol = Protocol::Udp;
        le.status.address = key;
        le.status.port = e.port;
        const auto it = m_listeners.constFind(key);
        if (it != m_listeners.cend()) {
            le.status.listening = it->listening;
            le.status.port = it->port;
            le.status.error = it->error;
            le.stats = it->stats;
        }
        if (stopped && !le.status.listening)
            le.status.error = QStringLiteral("engine stopped");
        out << le;
    }
    return out;
}

} // namespace sg
