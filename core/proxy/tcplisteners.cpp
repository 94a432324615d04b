#include "proxy/tcplisteners.h"

#include "proxy/databasetls.h"
#include "proxy/mqttconnect.h"
#include "proxy/mysqlrefusal.h"
#include "proxy/prereadsession.h"
#include "proxy/proxyprotocol.h"
#include "proxy/servername.h"
#include "proxy/sockaddr.h"
#include "proxy/tcpsession.h"
#include "proxy/tlshandshake.h"
#include "proxy/worker.h"

#include <QSet>
#include <sys/socket.h>
#include <unistd.h>

namespace sg {

TcpListeners::TcpListeners(StatsHub& hub, std::vector<std::unique_ptr<Worker>>& workers,
                           DescriptorBudget& descriptors, const AdmissionPipeline& admission,
                           qint64 proxyHeaderTimeoutMs, qint64 prereadTimeoutMs)
    : m_hub(hub), m_workers(workers), m_proxyHeaderTimeoutMs(proxyHeaderTimeoutMs),
      m_prereadTimeoutMs(prereadTimeoutMs),
      m_admission(admission), m_context{hub, descriptors, m_reserve, workers,
                                        [this](const TcpListener& l, int fd,
                                               const sockaddr_storage& peer,
                                               Worker* here) { admit(l, fd, peer, here); }}
{
}

TcpListeners::~TcpListeners()
{
    closeAll();
}

void TcpListeners::apply(const QList<ListenEntry>& entries, std::shared_ptr<const RouteTable> table,
                         bool open)
{
    // One listener per port: a range is one per port of it, each bound, reported and listed on
    // its own.
    const QList<ListenEntry> sockets = singlePorts(entries);
    // Only the set of listeners matters: an unchanged entry keeps its socket.
    // A listener whose PROXY protocol or TLS settings changed is opened anew.
    QHash<QString, const ListenEntry*> wanted;
    for (const ListenEntry& e : sockets)
        wanted.insert(e.text(), &e);
    for (auto it = m_listeners.begin(); it != m_listeners.end();) {
        const ListenEntry* e = wanted.value(it.key());
        if (!e || e->readsProxyProtocol() != it.value()->readsProxyProtocol() ||
            e->sendsProxyProtocol() != it.value()->sendsProxyProtocol() ||
            e->terminatesTls() != it.value()->terminatesTls() ||
            e->passesTlsThrough() != it.value()->passesTlsThrough()) {
            delete it.value(); // closes the socket once the workers have let go
            it = m_listeners.erase(it);
        } else {
            ++it;
        }
    }
    m_table.store(std::move(table));
    m_order = sockets;
    if (!open)
        return;
    // New listeners open only now: a worker accepts as soon as one is open, and a client that
    // connects at that moment must meet the routes of this config, not the previous one.
    for (const ListenEntry& entry : entries) {
        int opened = 0;
        int listening = 0;
        for (const ListenEntry& e : entry.singlePorts()) {
            const QString key = e.text();
            if (TcpListener* running = m_listeners.value(key)) {
                listening += running->isListening() ? 1 : 0;
                continue;
            }
            auto* l = new TcpListener(m_context, e, m_hub.listenerStats(key), nullptr);
            const QHostAddress host =
                e.host.isEmpty() ? QHostAddress(QHostAddress::Any) : QHostAddress(e.host);
            m_listeners.insert(key, l);
            if (l->start(host, quint16(e.port))) {
                m_errors.remove(key);
                ++opened;
                ++listening;
                if (!entry.isRange())
                    m_hub.addEvent(EventKind::ListenerUp, QString(),
                                   QStringLiteral("TCP listener %1 up").arg(key));
            } else {
                // A port of a range that cannot be bound is reported as a single port is; the
                // other ports of the range listen all the same.
                const QString err = l->errorString();
                m_errors.insert(key, err);
                m_hub.addEvent(EventKind::ListenerError, QString(),
                               QStringLiteral("TCP listener %1: %2").arg(key, err));
            }
        }
        // A range is one event, not one per port.
        if (entry.isRange() && opened > 0)
            m_hub.addEvent(EventKind::ListenerUp, QString(),
                           rangeListeningText(QStringLiteral("TCP"), entry, listening));
    }
}

void TcpListeners::closeAll()
{
    m_closed.store(true);
    for (TcpListener* l : std::as_const(m_listeners))
        delete l;
    m_listeners.clear();
}

QList<StatsHub::ListenerEntry> TcpListeners::topology(bool stopped) const
{
    QList<StatsHub::ListenerEntry> out;
    for (const ListenEntry& e : m_order) {
        const QString key = e.text();
        StatsHub::ListenerEntry le;
        le.status.protocol = Protocol::Tcp;
        le.status.address = key;
        le.status.port = e.port;
        if (TcpListener* l = m_listeners.value(key)) {
            le.status.listening = l->isListening();
            if (le.status.listening)
                le.status.port = l->serverPort();
            le.stats = l->stats();
        }
        if (stopped && !le.status.listening)
            le.status.error = QStringLiteral("engine stopped");
        else
            le.status.error = m_errors.value(key);
        out << le;
    }
    return out;
}

// The worker that accepted a client runs its session unless another worker has fewer sessions:
// with epoll the loop woken for a new connection is the first idle one, so without this a
// quiet proxy would gather every long-lived session on one worker.
Worker& TcpListeners::sessionWorker(Worker* here)
{
    if (!here)
        return *m_workers[m_nextWorker.fetch_add(1, std::memory_order_relaxed) % m_workers.size()];
    Worker* least = here;
    for (const auto& w : m_workers) {
        if (w->sessionCount() < least->sessionCount())
            least = w.get();
    }
    return *least;
}

void TcpListeners::admit(const TcpListener& listener, int fd, const sockaddr_storage& peer,
                         Worker* here)
{
    sockaddr_storage local{};
    socklen_t localLen = sizeof local;
    if (!listener.fixedLocal() &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &localLen) != 0) {
        ::close(fd); // the client is already gone
        return;
    }
    StreamClient client;
    client.protocol = Protocol::Tcp;
    client.remoteAddress = hostOf(peer);
    client.remotePort = portOf(peer);
    if (const auto& fixed = listener.fixedLocal()) {
        client.serverAddress = fixed->first;
        client.serverPort = fixed->second;
    } else {
        client.serverAddress = hostOf(local);
        client.serverPort = portOf(local);
    }
    const AcceptedOn on{listener.key(), listener.stats(), listener.sendsProxyProtocol(),
                        listener.terminatesTls(), listener.passesTlsThrough()};
    if (listener.readsProxyProtocol()) [[unlikely]] {
        readProxyHeader(on, fd, std::move(client), here);
        return;
    }
    if (on.passthrough) [[unlikely]] {
        readClientHello(on, fd, client, here);
        return;
    }
    if (on.tls) [[unlikely]] {
        handshake(on, fd, client, here);
        return;
    }
    admitClient(on, fd, client, m_admission.admit(*m_table.load(), client), here);
}

// The header is read on the worker that accepted the client (or the next one in turn), then
// the client is admitted as any other, with the addresses the header gave.
void TcpListeners::readProxyHeader(const AcceptedOn& on, int fd, StreamClient client, Worker* here)
{
    auto done = [this, on, client](Worker& worker, int clientFd, const ProxyHeaderReader& reader,
                                   QByteArray) {
        if (m_closed.load()) {
            ::close(clientFd); // the engine stopped while the header was on its way
            return;
        }
        StreamClient carried = client;
        applyProxyHeader(carried, reader.header(), m_table.load()->realIpFrom);
        if (on.passthrough) {
            readClientHello(on, clientFd, carried, &worker); // the header comes before TLS
            return;
        }
        if (on.tls) {
            handshake(on, clientFd, carried, &worker); // the header comes before TLS
            return;
        }
        admitClient(on, clientFd, carried, m_admission.admit(*m_table.load(), carried), &worker);
    };
    auto failed = [this, key = on.key, client](const QString& why) {
        Admission refused;
        refused.refusal = CloseReason::BadProxyHeader;
        refused.why = why;
        recordRefusal(m_hub, connectionOf(client, key, StatsHub::nowMs()), refused, key);
    };
    auto start = [fd, timeoutMs = m_proxyHeaderTimeoutMs, done = std::move(done),
                  failed = std::move(failed)](Worker& worker) {
        startPreread<ProxyHeaderReader>(worker, fd, timeoutMs, false,
                                        QStringLiteral("PROXY protocol header"), done, failed);
    };
    if (here)
        start(*here);
    else
        sessionWorker(nullptr).post(std::move(start));
}

void TcpListeners::readClientHello(const AcceptedOn& on, int fd, const StreamClient& client,
                                   Worker* here)
{
    auto done = [this, on, client](Worker& worker, int clientFd, const ClientHelloReader& reader,
                                   QByteArray kept) {
        if (m_closed.load()) {
            ::close(clientFd); // the engine stopped while the ClientHello was on its way
            return;
        }
        StreamClient hello = client;
        hello.tls.passthrough = true;
        hello.tls.sni = reader.serverName();
        const std::shared_ptr<const RouteTable> table = m_table.load();
        if (on.tls) {
            // Both on one listener: the route matched decides, as in APISIX. One that does not
            // pass through gets the client terminated, and admitted after its handshake.
            const int index =
                table->router
                    ? table->router->match(MatchInput{hello.remoteAddress, hello.serverAddress,
                                                      int(hello.serverPort), hello.tls.sni})
                    : -1;
            const bool passes = index >= 0 && index < int(table->routes.size()) &&
                                table->routes[size_t(index)]->route.tlsPassthrough.value_or(false);
            if (!passes) {
                handshake(on, clientFd, client, &worker, std::move(kept));
                return;
            }
        }
        Admission admission = m_admission.admit(*table, hello);
        if (admission.refusal == CloseReason::NoRoute && hello.tls.sni.isEmpty()) {
            admission.refusal = CloseReason::TlsNoSni;
            admission.why = QStringLiteral("the ClientHello has no SNI (server name), and no "
                                           "route without sni matches");
        }
        admitClient(on, clientFd, hello, std::move(admission), &worker, std::move(kept));
    };
    auto failed = [this, key = on.key, client](const QString& why) {
        Admission refused;
        refused.refusal = CloseReason::TlsNoClientHello;
        refused.why = why;
        recordRefusal(m_hub, connectionOf(client, key, StatsHub::nowMs()), refused, key);
    };
    auto start = [fd, timeoutMs = m_prereadTimeoutMs, done = std::move(done),
                  failed = std::move(failed)](Worker& worker) {
        startPreread<ClientHelloReader>(worker, fd, timeoutMs, true,
                                        QStringLiteral("TLS ClientHello"), done, failed);
    };
    if (here)
        start(*here);
    else
        sessionWorker(nullptr).post(std::move(start));
}

void TcpListeners::handshake(const AcceptedOn& on, int fd, const StreamClient& client, Worker* here,
                             QByteArray initial)
{
    auto done = [this, on, client](Worker& worker, int clientFd, std::shared_ptr<TlsLink> link,
                                   const QString& sni, quint64 read) {
        if (m_closed.load()) {
            ::close(clientFd); // the engine stopped during the handshake
            return;
        }
        StreamClient tls = client;
        tls.tls = link->describe(sni);
        admitClient(on, clientFd, tls, m_admission.admit(*m_table.load(), tls), &worker, {},
                    std::move(link), read);
    };
    auto failed = [this, key = on.key, client](CloseReason reason, const QString& why) {
        Admission refused;
        refused.refusal = reason;
        refused.why = why;
        recordRefusal(m_hub, connectionOf(client, key, StatsHub::nowMs()), refused, key);
    };
    auto start = [fd, server = m_table.load()->tls, timeoutMs = m_prereadTimeoutMs,
                  done = std::move(done), failed = std::move(failed),
                  initial = std::move(initial)](Worker& worker) {
        startTlsHandshake(worker, fd, server, timeoutMs, done, failed, initial);
    };
    if (here)
        start(*here);
    else
        sessionWorker(nullptr).post(std::move(start));
}

// The route's mqtt-proxy waits for the client's MQTT CONNECT: it is read on this worker (or
// the next one in turn), kept for the upstream, and admission goes on with it.
void TcpListeners::readMqttConnect(const AcceptedOn& on, int fd, const StreamClient& client,
                                   Admission&& paused, Worker* here)
{
    // A posted call and the callbacks are copyable; the admission is not.
    auto admission = std::make_shared<Admission>(std::move(paused));
    auto done = [this, on, client, admission](Worker& worker, int clientFd,
                                              const MqttConnectReader& reader, QByteArray kept) {
        if (m_closed.load()) {
            ::close(clientFd); // the engine stopped while the packet was on its way
            return;
        }
        StreamClient read = client;
        read.mqtt = reader.connect();
        m_admission.resume(*admission, read);
        admitClient(on, clientFd, read, std::move(*admission), &worker, std::move(kept));
    };
    auto failed = [this, key = on.key, client, admission](const QString& why) {
        m_admission.refuse(*admission, client, CloseReason::BadMqttConnect, why);
        recordRefusal(m_hub, connectionOf(client, key, StatsHub::nowMs()), *admission, key);
    };
    auto start = [fd, timeoutMs = m_prereadTimeoutMs, done = std::move(done),
                  failed = std::move(failed)](Worker& worker) {
        startPreread<MqttConnectReader>(worker, fd, timeoutMs, true,
                                        QStringLiteral("MQTT CONNECT packet"), done, failed);
    };
    if (here)
        start(*here);
    else
        sessionWorker(nullptr).post(std::move(start));
}

void TcpListeners::answerDatabaseTls(const AcceptedOn& on, int fd, const StreamClient& client,
                                     Admission&& admitted, Worker* here)
{
    // A posted call and the callbacks are copyable; the admission is not.
    auto admission = std::make_shared<Admission>(std::move(admitted));
    auto done = [this, on, client, admission](Worker& worker, int clientFd,
                                              std::shared_ptr<TlsLink> link, QByteArray kept,
                                              quint64 read) {
        if (m_closed.load()) {
            ::close(clientFd); // the engine stopped during the handshake
            return;
        }
        StreamClient answered = client;
        if (link) {
            answered.tls = link->describe(QString());
            answered.tls.developmentCa = true;
        }
        // Without TLS, what was read of the client (nothing when it waits for the server) is
        // relayed first, as the route's readers would have seen it.
        admitClient(on, clientFd, answered, std::move(*admission), &worker,
                    link ? QByteArray() : std::move(kept), link, link ? read : 0, true);
    };
    auto failed = [this, key = on.key, client, admission](CloseReason reason, const QString& why) {
        Admission refused;
        refused.route = admission->route;
        refused.refusal = reason;
        refused.why = why;
        // The log phase, and what limit-conn counted for the client let go, before the close.
        admission->ticket.end(reason, &client);
        admission->ticket = AdmissionTicket();
        recordRefusal(m_hub, connectionOf(client, key, StatsHub::nowMs()), refused, key);
    };
    auto start = [fd, server = m_table.load()->databaseTls, timeoutMs = m_prereadTimeoutMs,
                  done = std::move(done), failed = std::move(failed)](Worker& worker) {
        startPgTlsAccept(worker, fd, server, timeoutMs, done, failed);
    };
    if (here)
        start(*here);
    else
        sessionWorker(nullptr).post(std::move(start));
}

void applyProxyHeader(StreamClient& client, const ProxyHeader& header, const AddressList& trusted)
{
    client.proxyProtocol = true;
    if (header.local)
        return; // no address carried: the connection's own stand
    client.proxyAddress = normalizedAddress(header.source);
    client.proxyPort = header.sourcePort;
    client.proxyServerAddress = normalizedAddress(header.destination);
    client.proxyServerPort = header.destinationPort;
    if (!trusted.contains(client.remoteAddress))
        return; // an untrusted peer's header is read and kept, never believed
    client.peerAddress = client.remoteAddress;
    client.peerPort = client.remotePort;
    client.remoteAddress = client.proxyAddress;
    client.remotePort = client.proxyPort;
}

void TcpListeners::admitClient(const AcceptedOn& on, int fd, const StreamClient& client,
                               Admission&& admission, Worker* here, QByteArray clientBytes,
                               std::shared_ptr<TlsLink> tls, quint64 tlsRead,
                               bool databaseTlsAnswered)
{
    if (admission.paused() && (tls || client.tls.passthrough)) [[unlikely]] {
        // The MQTT CONNECT comes inside TLS, where the preread reader does not look.
        m_admission.refuse(admission, client, CloseReason::BadMqttConnect,
                           QStringLiteral("mqtt-proxy on a listener with tls or tls_passthrough "
                                          "is not supported by Streamgate (it reads the MQTT "
                                          "CONNECT in plaintext)"));
    }
    if (admission.paused()) [[unlikely]] {
        readMqttConnect(on, fd, client, std::move(admission), here);
        return;
    }
    const ConnectionInfo base = connectionOf(client, on.key, StatsHub::nowMs());
    if (!admission.admitted()) {
        if (!admission.route)
            on.stats->noRoute.fetch_add(1, std::memory_order_relaxed);
        // Recorded before the close, so whoever sees the close also sees the count.
        recordRefusal(m_hub, base, admission, on.key);
        if (admission.route && frontsMySql(*admission.route) && !tls && !client.tls.passthrough)
            sendMySqlRefusal(fd, admission.refusal, base.clientAddress.toString(), admission.why);
        ::close(fd);
        return;
    }
    if (admission.route->databaseTls && !databaseTlsAnswered && !tls &&
        !frontsMySql(*admission.route)) [[unlikely]] {
        answerDatabaseTls(on, fd, client, std::move(admission), here);
        return;
    }
    Worker& worker = sessionWorker(here);
    TcpSessionSetup setup;
    setup.record = openRecord(m_hub, base, admission, on.stats, worker.index());
    setup.clientFd = fd;
    setup.upstream = admission.upstream;
    setup.hashKey = std::move(admission.hashKey);
    setup.delaySeconds = admission.delaySeconds;
    setup.admission = std::move(admission.ticket);
    setup.route = std::move(admission.route);
    // A PostgreSQL client (it asked for TLS or sent its first bytes); one that sent nothing
    // waits for a server that speaks first, which "prefer" leaves alone, while "require" and
    // "verify" ask all the same and say why the server did not answer.
    setup.postgresServerTls = databaseTlsAnswered &&
                              setup.route->databaseServerTls != DatabaseServerTls::Off &&
                              (tls || !clientBytes.isEmpty() ||
                               setup.route->databaseServerTls != DatabaseServerTls::Prefer);
    setup.clientBytes = std::move(clientBytes);
    setup.tls = std::move(tls);
    setup.tlsRead = tlsRead;
    if (setup.route->databaseTls && !setup.tls && frontsMySql(*setup.route)) [[unlikely]]
        setup.databaseTls = m_table.load()->databaseTls;
    if (on.sendsProxyProtocol) [[unlikely]]
        setup.proxyHeader = proxyHeaderV1(client.remoteAddress, client.remotePort,
                                          client.serverAddress, client.serverPort);
    auto run = [](Worker& w, TcpSessionSetup&& s, bool expected) {
        auto session = std::make_unique<TcpSession>(w, std::move(s));
        TcpSession* raw = session.get();
        w.adopt(std::move(session), expected);
        raw->start();
    };
    if (&worker == here) {
        run(worker, std::move(setup), false);
    } else {
        // Counted at once, so the next clients are balanced with this one in mind.
        worker.expectSession();
        auto s = std::make_shared<TcpSessionSetup>(std::move(setup)); // a posted call is copyable
        worker.post([run, s](Worker& w) { run(w, std::move(*s), true); });
    }
}

} // namespace sg
