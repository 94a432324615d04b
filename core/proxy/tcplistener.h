#pragma once
// TcpListener is one listening socket of stream_proxy.tcp. QTcpServer binds and listens; the
// workers accept: each worker's loop watches the listening descriptor (with epoll, one waiting
// worker is woken per new connection), accepts, admits the client through the engine's
// admission code and usually runs the session itself, so a connection costs no hand-over
// between threads (a worker with more sessions than another hands it over). No QTcpSocket is
// ever created per connection.
//
// Running out of descriptors is handled on the engine thread. With Qt 6.4 an accept() that
// fails with EMFILE is not reported through acceptError(): QTcpServer tries again on every
// wake-up of its level-triggered notifier, a busy loop for as long as descriptors are short; a
// worker loop watching the socket would spin the same way. So when a worker meets a client whose
// descriptor lies beyond the engine's DescriptorBudget (closed at once), or accept() fails, the
// workers let go of the socket and the listener accepts on its own notifier: clients beyond the
// budget are refused, a failing accept() pauses for a short backoff and the clients already
// waiting are refused through the reserve descriptor. Once a client is admitted again, the
// workers take over. Each episode is one event when it starts and one when accepting works again.

#include "model/streamroute.h"
#include "proxy/worker.h"

#include <QHostAddress>
#include <QString>
#include <QTcpServer>
#include <QTimer>
#include <functional>
#include <memory>
#include <optional>
#include <sys/socket.h>
#include <utility>
#include <vector>

class QSocketNotifier;

namespace sg {

struct ListenerStats;
class TcpListener;

// One descriptor kept in reserve for the moment the process runs out. Giving it back lets a
// listener take a waiting client off its queue and close it at once: the client is refused
// instead of hanging in the listen queue until descriptors free up. Engine thread only.
class DescriptorReserve
{
public:
    DescriptorReserve() { acquire(); }
    ~DescriptorReserve() { release(); }
    Q_DISABLE_COPY_MOVE(DescriptorReserve)

    bool acquire();
    bool release();

private:
    int m_fd = -1;
};

// What the listeners use of the engine. The hub, the budget and admit() may be used from any
// thread; the reserve only on the engine thread.
struct TcpListenerContext
{
    StatsHub& hub;
    DescriptorBudget& descriptors;
    DescriptorReserve& reserve;
    std::vector<std::unique_ptr<Worker>>& workers;
    // Routes and admits one accepted client (fd: connected, non-blocking; peer: its address, as
    // accept() gave it). `here` is the worker that accepted it and will run its session (on that
    // worker's thread); nullptr on the engine thread, which hands the session to a worker.
    std::function<void(const TcpListener&, int fd, const sockaddr_storage& peer, Worker* here)>
        admit;
};

class TcpAcceptor;

class TcpListener final : public QTcpServer
{
public:
    TcpListener(const TcpListenerContext& context, const ListenEntry& entry,
                std::shared_ptr<ListenerStats> stats, QObject* parent);
    // The workers let go, then the socket is closed (engine thread).
    ~TcpListener() override;

    bool start(const QHostAddress& host, quint16 port); // listen() and hand to the workers

    // Set before the workers accept and not changed afterwards: read from any thread.
    const QString& key() const { return m_key; }
    const std::shared_ptr<ListenerStats>& stats() const { return m_stats; }
    // proxy_protocol / proxy_protocol_to_upstream of its stream_proxy.tcp entry; a listener is
    // opened anew when they change.
    bool readsProxyProtocol() const { return m_readsProxyProtocol; }
    bool sendsProxyProtocol() const { return m_sendsProxyProtocol; }
    // tls of its stream_proxy.tcp entry: clients go through a TLS handshake before routing.
    bool terminatesTls() const { return m_terminatesTls; }
    bool passesTlsThrough() const { return m_passesTlsThrough; }
    // Every accepted socket's local end when listening on one specific address (so no
    // getsockname() per connection); unset for a wildcard address.
    const std::optional<std::pair<QHostAddress, quint16>>& fixedLocal() const
    {
        return m_fixedLocal;
    }

private:
    friend class TcpAcceptor;
    void handToWorkers();
    void takeFromWorkers(bool wait);
    void acceptorFailed(int error, bool refused); // a worker let go (engine thread)
    void acceptWaiting();
    void refuse(int fd);
    void countRefusal();
    void reportFailure(int error);
    void acceptFailed(int error);
    void refuseWaiting();
    void acceptRecovered();

    TcpListenerContext m_context;
    const QString m_key;
    const std::shared_ptr<ListenerStats> m_stats;
    const bool m_readsProxyProtocol;
    const bool m_sendsProxyProtocol;
    const bool m_terminatesTls;
    const bool m_passesTlsThrough;
    std::optional<std::pair<QHostAddress, quint16>> m_fixedLocal;
    std::vector<std::unique_ptr<TcpAcceptor>> m_acceptors; // one per worker
    bool m_onWorkers = false;                              // the workers accept (else m_notifier)
    QSocketNotifier* m_notifier = nullptr;                 // the listening socket is readable
    QTimer m_retry;                                        // accepting again after an accept error
    int m_retryMs = 0;        // the current backoff; 0 until the first error
    bool m_failing = false;   // an accept-error episode is under way (reported)
    quint64 m_refusedNow = 0; // clients refused during this episode
};

} // namespace sg
