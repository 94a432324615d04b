#include "proxy/mysqlservertls.h"

#include "proxy/mysqltls.h"
#include "proxy/tlsclient.h"
#include "proxy/tlslink.h"
#include "stats/statshub.h"

#include <QHostAddress>
#include <openssl/err.h>
#include <openssl/ssl.h>

namespace sg {

// Client -> server: the SSLRequest, the handshake's flights, then the login one higher and
// everything encrypted.
class MySqlServerTls::ToServer final : public MySqlTlsWriter
{
public:
    explicit ToServer(MySqlServerTls& t)
        : MySqlTlsWriter(MySqlLoginShift(+1, false, false, true)), m_t(t)
    {
    }
    Mode mode() const override
    {
        return m_t.m_state == State::Plain && m_held.empty() ? Mode::Pass : Mode::Transform;
    }
    bool done() const override { return m_t.m_state == State::Plain && m_held.empty(); }

    void onData(const char* data, std::size_t len, FilterOutput& out) override
    {
        switch (m_t.m_state) {
        case State::Greeting: // the client spoke first: not MySQL
            if (m_t.m_mode != DatabaseServerTls::Prefer) {
                m_t.fail(CloseReason::UpstreamNoTls,
                         QStringLiteral("the client spoke before the server's greeting: not "
                                        "MySQL, and the route's %1 wants TLS to the server")
                             .arg(m_t.setting()));
                out.reset();
                return;
            }
            m_t.m_state = State::Plain;
            out.write(data, len);
            return;
        case State::Plain:
            out.write(data, len);
            return;
        case State::WaitClient:
            m_held.append(data, len);
            response(out);
            return;
        case State::Handshake:
            m_held.append(data, len);
            return;
        case State::Login:
        case State::Command:
            m_held.append(data, len);
            forward(out);
            return;
        }
    }
    void onEnd(FilterOutput& out) override
    {
        if (m_t.m_state == State::Handshake)
            m_held.clear(); // what waited for TLS never goes in plaintext
        MySqlTlsWriter::onEnd(out);
    }

private:
    SSL* ssl() const override { return m_t.m_ssl; }
    bool encrypting() const override
    {
        return m_t.m_state == State::Login || m_t.m_state == State::Command;
    }
    bool loginOver() const override { return m_t.m_state == State::Command; }
    void failed(const QString& why) override
    {
        m_t.fail(CloseReason::TlsError, QStringLiteral("encrypting for the server: %1").arg(why));
    }

    // The client's HandshakeResponse: the SSLRequest made of it, then the handshake.
    void response(FilterOutput& out)
    {
        const std::size_t whole = mysqlFirstPacket(m_held, MySqlTlsAnswer::kMaxHeld);
        if (whole == 0)
            return;
        if (whole == std::string::npos || whole < 4 + 32) {
            // Not a protocol 4.1 HandshakeResponse: no SSLRequest can be made of it.
            if (m_t.m_mode != DatabaseServerTls::Prefer) {
                m_t.fail(CloseReason::UpstreamTlsFailed,
                         QStringLiteral("the client's login is not one an SSLRequest can be "
                                        "made of (%1)")
                             .arg(m_t.setting()));
                out.reset();
                return;
            }
            m_t.m_state = State::Plain;
            out.write(m_held.data(), m_held.size());
            m_held.clear();
            return;
        }
        const std::string request = sslRequestFor(m_held);
        out.write(request.data(), request.size());
        const bool name = QHostAddress(m_t.m_host).isNull();
        m_t.m_ssl = m_t.m_client->newConnection(name ? m_t.m_host : QString(), m_t.m_host);
        if (!m_t.m_ssl) {
            m_t.fail(CloseReason::UpstreamTlsFailed,
                     QStringLiteral("OpenSSL could not start a TLS connection (out of memory)"));
            out.reset();
            return;
        }
        m_t.m_state = State::Handshake;
        if (!m_t.handshake()) {
            out.reset();
            return;
        }
        drainTlsOutput(m_t.m_ssl, out); // the ClientHello
    }

    MySqlServerTls& m_t;
};

// Server -> client: the greeting read, then the handshake's answers, then the plaintext with
// the login one lower.
class MySqlServerTls::FromServer final : public RelayFilter
{
public:
    explicit FromServer(MySqlServerTls& t) : m_t(t) {}
    Mode mode() const override
    {
        return m_t.m_state == State::Plain && m_in.empty() ? Mode::Pass : Mode::Transform;
    }
    bool done() const override { return m_t.m_state == State::Plain && m_in.empty(); }
    std::size_t held() const override { return m_in.size() + m_plain.size(); }

    void onData(const char* data, std::size_t len, FilterOutput& out) override
    {
        switch (m_t.m_state) {
        case State::Greeting:
            m_in.append(data, len);
            greeting(out);
            return;
        case State::WaitClient:
        case State::Plain:
            out.write(data, len);
            return;
        case State::Handshake:
        case State::Login:
        case State::Command:
            BIO_write(SSL_get_rbio(m_t.m_ssl), data, int(len));
            step(out);
            return;
        }
    }
    void onEnd(FilterOutput& out) override
    {
        if (!m_in.empty())
            out.write(m_in.data(), m_in.size());
        m_in.clear();
        out.finish();
    }

private:
    void greeting(FilterOutput& out)
    {
        const std::size_t whole = mysqlFirstPacket(m_in, MySqlTlsAnswer::kMaxHeld);
        if (whole == 0)
            return;
        bool isGreeting = false;
        const bool offers =
            whole != std::string::npos && greetingOffersTls(m_in.substr(0, whole), &isGreeting);
        // The server's own error in place of the greeting (too many connections, host blocked)
        // reaches the client: no login follows it.
        const bool error = whole != std::string::npos && whole > 4 && quint8(m_in[4]) == 0xFF;
        if (!offers && !error && m_t.m_mode != DatabaseServerTls::Prefer) {
            m_t.fail(CloseReason::UpstreamNoTls,
                     isGreeting
                         ? QStringLiteral("the server does not offer TLS (its greeting has no "
                                          "CLIENT_SSL; are ssl_cert and ssl_key set?) and the "
                                          "route's %1 wants it")
                               .arg(m_t.setting())
                         : QStringLiteral("the server's first packet is no MySQL greeting, and "
                                          "the route's %1 wants TLS to it")
                               .arg(m_t.setting()));
            out.reset();
            return;
        }
        // An error in place of the greeting, or "prefer" and no TLS: plaintext.
        m_t.m_state = offers ? State::WaitClient : State::Plain;
        out.write(m_in.data(), m_in.size());
        m_in.clear();
    }

    void step(FilterOutput& out)
    {
        if (m_t.m_state == State::Handshake) {
            const bool ok = m_t.handshake();
            // Its flight (or, done, the response held meanwhile) goes out through the other half.
            out.wakeFilter(m_t.m_toServer.get(), out.nowMs());
            if (!ok) {
                out.reset();
                return;
            }
            if (m_t.m_state == State::Handshake)
                return;
        }
        char buffer[kTlsChunk];
        for (;;) {
            ERR_clear_error();
            const int n = SSL_read(m_t.m_ssl, buffer, int(sizeof buffer));
            if (n > 0) {
                m_plain.append(buffer, std::size_t(n));
                continue;
            }
            const int e = SSL_get_error(m_t.m_ssl, n);
            if (e == SSL_ERROR_WANT_READ)
                break;
            forward(out);
            if (e == SSL_ERROR_ZERO_RETURN) {
                out.finish(); // close_notify: the server sends no more
                return;
            }
            const QString reason = tlsErrorReason();
            m_t.fail(CloseReason::TlsError,
                     QStringLiteral("the server's TLS record was refused: %1")
                         .arg(reason.isEmpty() ? QStringLiteral("OpenSSL error") : reason));
            out.reset();
            return;
        }
        forward(out);
    }

    // The login's packets one lower, until the server's OK or ERR; after it, as they are.
    void forward(FilterOutput& out)
    {
        std::string ready;
        m_shift.take(m_plain, ready);
        if (m_shift.loginOver() && m_t.m_state == State::Login)
            m_t.m_state = State::Command;
        if (!ready.empty())
            out.write(ready.data(), ready.size());
    }

    MySqlServerTls& m_t;
    std::string m_in;    // the greeting, until it is whole
    std::string m_plain; // decrypted, not yet handed on
    MySqlLoginShift m_shift{-1, false, true};
};

MySqlServerTls::MySqlServerTls(DatabaseServerTls mode, const TlsClient* client,
                               std::shared_ptr<ConnectionRecord> record)
    : m_mode(mode), m_client(client), m_record(std::move(record)),
      m_toServer(std::make_unique<ToServer>(*this)),
      m_fromServer(std::make_unique<FromServer>(*this))
{
}

MySqlServerTls::~MySqlServerTls()
{
    SSL_free(m_ssl);
}

QString MySqlServerTls::setting() const
{
    return QStringLiteral("database_server_tls \"%1\"").arg(toString(m_mode));
}

bool MySqlServerTls::handshake()
{
    ERR_clear_error();
    const int r = SSL_do_handshake(m_ssl);
    if (r == 1) {
        m_state = State::Login;
        const bool name = QHostAddress(m_host).isNull();
        m_record->setUpstreamTls(upstreamTlsInfo(m_ssl, *m_client, name ? m_host : QString()));
        return true;
    }
    if (SSL_get_error(m_ssl, r) == SSL_ERROR_WANT_READ)
        return true;
    CloseReason reason = CloseReason::UpstreamTlsFailed;
    const QString why = upstreamHandshakeFailure(m_ssl, *m_client, m_host, setting(), &reason);
    fail(reason, why);
    return false;
}

std::shared_ptr<RelayFilter> MySqlServerTls::toServerFilter()
{
    return std::shared_ptr<RelayFilter>(shared_from_this(), m_toServer.get());
}

std::shared_ptr<RelayFilter> MySqlServerTls::fromServerFilter()
{
    return std::shared_ptr<RelayFilter>(shared_from_this(), m_fromServer.get());
}

} // namespace sg
