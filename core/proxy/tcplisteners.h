#pragma once
// TcpListeners is the engine thread's side of stream_proxy.tcp, shaped like UdpListeners: one
// TcpListener per entry, one per port of a range (a bind failure becomes that port's error),
// opened or closed only when the listener set changes. apply() closes the listeners no longer
// wanted, then publishes the new route table, then opens the new listeners, so a client that
// connects to a new listener meets the routes of the same config. The workers that accept call
// admit(), which runs the client through the admission pipeline and starts its TcpSession.
// apply(), closeAll() and topology() run on the engine thread only; admit() on any thread.

#include "proxy/admission.h"
#include "proxy/routetable.h"
#include "proxy/tcplistener.h"
#include "stats/statshub.h"

#include <QHash>
#include <QList>
#include <atomic>
#include <memory>
#include <vector>

namespace sg {

class Worker;
class TlsLink;
struct ProxyHeader;

// What a PROXY protocol header does to a client: proxy_protocol_* are set from it; when the TCP
// peer is one of `trusted` (real_ip_from), remote_addr/_port become the carried client and the
// peer is kept as realip_remote_addr/_port.
void applyProxyHeader(StreamClient& client, const ProxyHeader& header, const AddressList& trusted);

class TcpListeners
{
public:
    // proxyHeaderTimeoutMs: how long a client of a listener with proxy_protocol has to send
    // its header; prereadTimeoutMs: how long a client of a route with mqtt-proxy has to send
    // its MQTT CONNECT (nginx's preread_timeout), and one of a listener with tls to finish its
    // TLS handshake.
    TcpListeners(StatsHub& hub, std::vector<std::unique_ptr<Worker>>& workers,
                 DescriptorBudget& descriptors, const AdmissionPipeline& admission,
                 qint64 proxyHeaderTimeoutMs, qint64 prereadTimeoutMs);
    ~TcpListeners(); // closes every listener
    Q_DISABLE_COPY_MOVE(TcpListeners)

    // open: false once the engine is stopped (no new sockets).
    void apply(const QList<ListenEntry>& entries, std::shared_ptr<const RouteTable> table,
               bool open);
    // Closes every listener; the entries stay listed as stopped. Sessions go on.
    void closeAll();
    QList<StatsHub::ListenerEntry> topology(bool stopped) const;

private:
    // The listener a client came in on, as its admission needs it (it may outlive the listener).
    struct AcceptedOn
    {
        QString key;
        std::shared_ptr<ListenerStats> stats;
        bool sendsProxyProtocol = false;
        bool tls = false;         // the listener terminates TLS
        bool passthrough = false; // tls_passthrough: the ClientHello's SNI routes
    };
    // Routes and admits one accepted client and starts its session: on `here` (the calling
    // worker) unless sessionWorker() picks another, or on the next worker in turn when the
    // engine thread accepted it.
    void admit(const TcpListener& listener, int fd, const sockaddr_storage& peer, Worker* here);
    void readProxyHeader(const AcceptedOn& on, int fd, StreamClient client, Worker* here);
    // A listener with tls: the handshake runs on this worker (or the next one in turn), then
    // the client is admitted with the SNI it sent.
    // initial: the client's ClientHello, read already on a listener with tls_passthrough too.
    void handshake(const AcceptedOn& on, int fd, const StreamClient& client, Worker* here,
                   QByteArray initial = {});
    // A listener with tls_passthrough: the ClientHello is read (and kept for the upstream) on
    // this worker (or the next one in turn), and its SNI routes the client; with tls too, a
    // route without tls_passthrough gets the client terminated instead.
    void readClientHello(const AcceptedOn& on, int fd, const StreamClient& client, Worker* here);
    void readMqttConnect(const AcceptedOn& on, int fd, const StreamClient& client,
                         Admission&& paused, Worker* here);
    // What admission decided: the client waits for its MQTT CONNECT, is refused, or starts its
    // session (clientBytes: what was read of it before, relayed first; tls: its terminated TLS
    // connection, tlsRead the bytes its handshake read; databaseTlsAnswered: the route's
    // database_tls already had its turn).
    void admitClient(const AcceptedOn& on, int fd, const StreamClient& client,
                     Admission&& admission, Worker* here, QByteArray clientBytes = {},
                     std::shared_ptr<TlsLink> tls = {}, quint64 tlsRead = 0,
                     bool databaseTlsAnswered = false);
    // A route with database_tls: the client's request for TLS is answered on this worker (or
    // the next one in turn), then its session starts with the TLS connection (or, when it
    // asked for none, with what was read of it).
    void answerDatabaseTls(const AcceptedOn& on, int fd, const StreamClient& client,
                           Admission&& admitted, Worker* here);
    Worker& sessionWorker(Worker* here);

    StatsHub& m_hub;
    std::vector<std::unique_ptr<Worker>>& m_workers;
    const qint64 m_proxyHeaderTimeoutMs;
    const qint64 m_prereadTimeoutMs;
    const AdmissionPipeline& m_admission;
    DescriptorReserve m_reserve; // shared by the listeners, see TcpListener
    TcpListenerContext m_context;
    // What admit() routes by, from the workers that accept; replaced whole by apply().
    std::atomic<std::shared_ptr<const RouteTable>> m_table{std::make_shared<RouteTable>()};
    std::atomic<size_t> m_nextWorker{0};      // round robin for clients the engine thread accepts
    QList<ListenEntry> m_order;               // single ports, ranges expanded (topology order)
    QHash<QString, TcpListener*> m_listeners; // by the single port's ListenEntry::text()
    QHash<QString, QString> m_errors;
    // Set by closeAll(): a client whose PROXY header completes after the engine stopped is
    // closed, not admitted.
    std::atomic<bool> m_closed{false};
};

} // namespace sg
