#pragma once
// Database TLS for MySQL/MariaDB (streamgate.routes.<id>.database_tls on a route that fronts
// MySQL): the server speaks first, so the TLS is answered inside the session, by a pair of
// relay filters sharing one MySqlTlsAnswer:
//   - upstream -> client (last in its chain): the server's greeting goes on with CLIENT_SSL
//     offered; once the client's TLS is up, every server packet of the login gets its sequence
//     id one higher (the client counted the SSLRequest the server never saw), and everything
//     is encrypted for the client;
//   - client -> upstream (first in its chain): a client's SSLRequest is taken (never sent on)
//     and the TLS handshake runs with the development CA's certificate (DatabaseTlsServer); its
//     flights reach the client through the other half (FilterOutput::wakeFilter). What the
//     client sends then is decrypted; its HandshakeResponse goes on without CLIENT_SSL and every
//     packet of the login with its sequence id one lower, until the server's OK or ERR ends the
//     login; the commands after it go on as they are. A client that asks for no TLS is relayed
//     untouched (both halves step aside).
// The readers after the client -> upstream half see the session as a plaintext one; with
// database_server_tls, MySqlServerTls (mysqlservertls.h) makes the server leg TLS. Memory:
// the greeting and the first client packet are held whole (at most kMaxHeld), OpenSSL at most
// one record; the rest is handed on as it comes.

#include "proxy/mysqltlswire.h"
#include "proxy/relayfilter.h"
#include "stats/snapshot.h"

#include <QString>
#include <memory>
#include <string>

using SSL = struct ssl_st;

namespace sg {

class ConnectionRecord;
class DatabaseTlsServer;

// The encrypting half of a MySQL TLS login, toward the client (MySqlTlsAnswer) or toward the
// server (MySqlServerTls): plaintext waits in m_held until its login packet is renumbered
// (m_shift), then leaves encrypted; the handshake's flights leave from here when the other half
// wakes it (onTimer); at the end, close_notify after what waited.
class MySqlTlsWriter : public RelayFilter
{
public:
    std::size_t held() const override { return m_held.size(); }
    void onTimer(FilterOutput& out) override;
    void onEnd(FilterOutput& out) override;

protected:
    explicit MySqlTlsWriter(MySqlLoginShift shift) : m_shift(shift) {}
    virtual SSL* ssl() const = 0;
    virtual bool encrypting() const = 0; // the handshake is done
    virtual bool loginOver() const = 0;  // no more renumbering
    virtual void loginEnded() {}         // the shift saw the server's OK or ERR go by
    virtual void failed(const QString& why) = 0;
    void forward(FilterOutput& out);

    std::string m_held;
    MySqlLoginShift m_shift;
};

class MySqlTlsAnswer : public std::enable_shared_from_this<MySqlTlsAnswer>
{
public:
    static constexpr std::size_t kMaxHeld = 64 * 1024;

    MySqlTlsAnswer(std::shared_ptr<const DatabaseTlsServer> server,
                   std::shared_ptr<ConnectionRecord> record);
    ~MySqlTlsAnswer();
    Q_DISABLE_COPY_MOVE(MySqlTlsAnswer)

    std::shared_ptr<RelayFilter> toUpstreamFilter();
    std::shared_ptr<RelayFilter> toClientFilter();
    // A TLS error ended the session (an InjectedReset from the pump then means this).
    bool failed() const { return !m_error.isEmpty(); }
    const QString& error() const { return m_error; }
    // The client's TLS handshake has begun and not finished.
    bool handshaking() const { return m_state == State::Handshake; }

private:
    class Up;
    class Down;
    friend class Up;
    friend class Down;
    enum class State : quint8 { Greeting, WaitClient, Handshake, Login, Command, Plain };

    void fail(const QString& why) { m_error = why; }
    // The handshake's flights (and alerts) go to the client through the other half.
    void wakeDown(FilterOutput& out);

    std::shared_ptr<const DatabaseTlsServer> m_server;
    std::shared_ptr<ConnectionRecord> m_record;
    std::unique_ptr<Up> m_up;
    std::unique_ptr<Down> m_down;
    SSL* m_ssl = nullptr;
    State m_state = State::Greeting;
    QString m_error;
};

} // namespace sg
