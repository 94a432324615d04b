#pragma once
// TcpSession is one accepted TCP client on a worker thread, from admission to close:
// (limit-conn delay) -> UpstreamConnector (connect, per-attempt timeout, retries) -> RelayPump
// (the bytes, both directions, through their filter chains) -> close. It owns the two sockets
// and their watches, the timers, the idle timeout and what the stats see of the session; the
// connector and the pump do the rest. A reset on one side resets the other; so does an
// operator's reset (OperatorReset). An operator's pause stops reading both peers for a while.

#include "proxy/admission.h"
#include "proxy/relaypump.h"
#include "proxy/routetable.h"
#include "proxy/tlslink.h"
#include "proxy/upstreamconnector.h"
#include "proxy/worker.h"

#include <QString>
#include <memory>

namespace sg {

class TlsClient;
class DatabaseTlsServer;
class MySqlTlsAnswer;
class MySqlServerTls;

struct TcpSessionSetup
{
    int clientFd = -1;
    std::shared_ptr<RouteEntry> route;
    std::shared_ptr<ConnectionRecord> record;
    // The session's upstream: the route's, or traffic-split's choice (kept alive by `route`)
    UpstreamEntry* upstream = nullptr;
    QString hashKey;           // chash key value
    double delaySeconds = 0;   // limit-conn burst delay
    AdmissionTicket admission; // the plugins' hold on this session, released on close
    // proxy_protocol_to_upstream: the header each upstream connection starts with (empty: none)
    QByteArray proxyHeader;
    // What was read from the client before admission (mqtt-proxy's MQTT CONNECT): relayed
    // first, through the route's filters, as if read now.
    QByteArray clientBytes;
    // A listener with tls: the client's TLS connection, handshake done (tlsRead: the bytes the
    // handshake read from the client).
    std::shared_ptr<TlsLink> tls;
    quint64 tlsRead = 0;
    // A route with database_tls that fronts MySQL: the client's TLS is answered in the session
    // with this certificate (proxy/mysqltls.h); null otherwise.
    std::shared_ptr<const DatabaseTlsServer> databaseTls;
    // A PostgreSQL client of a route with database_tls and database_server_tls: the server is
    // asked for TLS (UpstreamConnector::setPostgresServerTls).
    bool postgresServerTls = false;
};

class TcpSession final : public WorkerSession, public IoHandler
{
public:
    TcpSession(Worker& worker, TcpSessionSetup&& setup);
    ~TcpSession() override;

    void start(); // after Worker::adopt
    void onIo(IoWatch& watch, quint32 bits) override;
    void onTimer(quint32 tag) override;
    void close(CloseReason reason) override;
    QString routeId() const override;
    void resume() override;
    void wake() override;
    void pause(qint64 ms) override;
    void unpause() override;

private:
    // The route's toxic filters join the chain, when the route has toxics.
    void addToxics(std::shared_ptr<RouteToxics> toxics, SessionFilters& filters);
    enum TimerKind : quint32 { DelayTimer = 1, IdleTimer = 3, PauseTimer = 6 };

    void startConnect();
    void connectOutcome(UpstreamConnector::Outcome outcome);
    // No upstream connection: the client is told why first if the route fronts MySQL.
    void refuse(CloseReason reason, const QString& why);
    void pump();
    void after(CloseReason reason); // what the pump said: go on, or close
    // A TLS filter reset the session: the close reason and event that say why.
    CloseReason tlsReset();
    void armIdle();

    std::shared_ptr<RouteEntry> m_route;
    std::shared_ptr<ConnectionRecord> m_record;
    double m_delaySeconds;
    AdmissionTicket m_admission;

    IoWatch m_watches[2]; // [RelayPump::Client], [RelayPump::Upstream]
    UpstreamConnector m_connector;
    RelayPump m_pump;
    bool m_connected = false;
    std::shared_ptr<TlsLink> m_tls; // the client's TLS connection, on a listener with tls
    // the upstream's, for an upstream with scheme tls or database_server_tls to PostgreSQL
    std::shared_ptr<TlsLink> m_upstreamTls;
    const TlsClient* m_upstreamTlsClient = nullptr;   // its upstream's (kept alive by m_route)
    std::shared_ptr<MySqlTlsAnswer> m_mysqlTls;       // database TLS on a MySQL route
    std::shared_ptr<MySqlServerTls> m_mysqlServerTls; // and its database_server_tls
    bool m_toxics = false; // the toxic filters are in the chain (addToxics)
    bool m_closed = false;
    bool m_clientLeftConnecting = false; // the client's FIN came while the upstream connected
};

} // namespace sg
