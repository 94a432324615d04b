#pragma once
// TLS to the MySQL/MariaDB server (streamgate.routes.<id>.database_server_tls on a route with
// database_tls that fronts MySQL): a pair of relay filters at the server's end of the session,
// sharing one MySqlServerTls, that undo toward the server what MySqlTlsAnswer does toward the
// client, so the readers between the two pairs see the login as on a plaintext session:
//   - server -> client (first in its chain): the greeting is read as the server sent it; one
//     without CLIENT_SSL goes on in plaintext ("prefer") or ends the session as UpstreamNoTls
//     ("require", "verify"). Once TLS is up, what the server sends is decrypted, and the
//     login's packets go on with their sequence ids one lower until the server's OK or ERR
//     (the server counted an SSLRequest nobody between the pairs saw);
//   - client -> server (last in its chain, before a PROXY protocol header): the client's
//     HandshakeResponse, as MySqlTlsAnswer hands it on (sequence id 1, no CLIENT_SSL), is held;
//     an SSLRequest built from it (sequence id 1) goes to the server in plaintext, the TLS
//     handshake runs with the route's TlsClient (the flights go out through this half, woken
//     by the other: FilterOutput::wakeFilter), then the response goes on with CLIENT_SSL and
//     every login packet with its sequence id one higher; everything encrypted.
// Memory: the greeting and the response are held whole (at most MySqlTlsAnswer::kMaxHeld), what
// the client sends during the handshake is held and counted against the direction's cap,
// OpenSSL holds at most one record.

#include "model/settings.h"
#include "proxy/mysqltlswire.h"
#include "proxy/relayfilter.h"
#include "stats/snapshot.h"

#include <QString>
#include <memory>
#include <string>

using SSL = struct ssl_st;

namespace sg {

class ConnectionRecord;
class TlsClient;

class MySqlServerTls : public std::enable_shared_from_this<MySqlServerTls>
{
public:
    // client: the route's (kept alive by the route), never null.
    MySqlServerTls(DatabaseServerTls mode, const TlsClient* client,
                   std::shared_ptr<ConnectionRecord> record);
    ~MySqlServerTls();
    Q_DISABLE_COPY_MOVE(MySqlServerTls)

    // The node connected to: SNI (a host name) and what "verify" checks.
    void setNodeHost(const QString& host) { m_host = host; }
    std::shared_ptr<RelayFilter> toServerFilter();
    std::shared_ptr<RelayFilter> fromServerFilter();
    // The session was reset because of the server leg (an InjectedReset from the pump then
    // means this): why, and the close reason.
    bool failed() const { return !m_error.isEmpty(); }
    const QString& error() const { return m_error; }
    CloseReason reason() const { return m_reason; }

private:
    class ToServer;
    class FromServer;
    friend class ToServer;
    friend class FromServer;
    enum class State : quint8 { Greeting, WaitClient, Handshake, Login, Command, Plain };

    QString setting() const;
    void fail(CloseReason reason, const QString& why)
    {
        m_reason = reason;
        m_error = why;
    }
    // One step of the handshake after bytes came from the server or the response went; false:
    // it failed (fail() said why).
    bool handshake();

    const DatabaseServerTls m_mode;
    const TlsClient* m_client;
    std::shared_ptr<ConnectionRecord> m_record;
    QString m_host;
    std::unique_ptr<ToServer> m_toServer;
    std::unique_ptr<FromServer> m_fromServer;
    SSL* m_ssl = nullptr;
    State m_state = State::Greeting;
    CloseReason m_reason = CloseReason::None;
    QString m_error;
};

} // namespace sg
