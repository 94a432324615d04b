#include "proxy/mysqltls.h"

#include "proxy/databasetls.h"
#include "proxy/mysqltlswire.h"
#include "proxy/tlslink.h"
#include "stats/statshub.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace sg {

void MySqlTlsWriter::onTimer(FilterOutput& out)
{
    if (!ssl())
        return;
    drainTlsOutput(ssl(), out);
    if (encrypting())
        forward(out);
}

void MySqlTlsWriter::onEnd(FilterOutput& out)
{
    if (ssl() && encrypting()) {
        forward(out);
        shutdownTls(ssl(), out);
    } else if (!m_held.empty()) {
        out.write(m_held.data(), m_held.size());
    }
    m_held.clear();
    out.finish();
}

void MySqlTlsWriter::forward(FilterOutput& out)
{
    std::string ready;
    m_shift.take(m_held, ready, [this] { return loginOver(); });
    if (m_shift.loginOver())
        loginEnded();
    if (ready.empty())
        return;
    const QString error = encryptTo(ssl(), ready.data(), ready.size(), out);
    if (!error.isEmpty()) {
        failed(error);
        out.reset();
    }
}

// Client -> upstream: the SSLRequest taken, the handshake, then plaintext with the login's
// sequence ids one lower.
class MySqlTlsAnswer::Up final : public RelayFilter
{
public:
    explicit Up(MySqlTlsAnswer& a) : m_a(a) {}
    Mode mode() const override
    {
        return m_a.m_state == State::Plain && m_first.empty() ? Mode::Pass : Mode::Transform;
    }
    bool done() const override { return m_a.m_state == State::Plain && m_first.empty(); }
    std::size_t held() const override { return m_first.size() + m_plain.size(); }

    void onData(const char* data, std::size_t len, FilterOutput& out) override
    {
        switch (m_a.m_state) {
        case State::Greeting: // the client spoke first: not MySQL, nothing to answer
            m_a.m_state = State::Plain;
            out.write(data, len);
            return;
        case State::Plain:
            out.write(data, len);
            return;
        case State::WaitClient:
            m_first.append(data, len);
            firstPacket(out);
            return;
        case State::Handshake:
        case State::Login:
        case State::Command:
            BIO_write(SSL_get_rbio(m_a.m_ssl), data, int(len));
            step(out);
            return;
        }
    }
    void onEnd(FilterOutput& out) override
    {
        if (!m_first.empty()) {
            out.write(m_first.data(), m_first.size());
            m_first.clear();
        }
        out.finish();
    }

private:
    void firstPacket(FilterOutput& out)
    {
        const std::size_t whole = mysqlFirstPacket(m_first, kMaxHeld);
        if (whole == std::string::npos) {
            plain(out);
            return;
        }
        if (whole == 0)
            return;
        // SSLRequest: the capability flags, max packet, charset and 23 zero bytes (32).
        const std::string rest = m_first.substr(whole);
        m_first.resize(whole);
        if (!isSslRequest(m_first)) {
            m_first += rest;
            plain(out);
            return;
        }
        m_first.clear();
        m_a.m_ssl = m_a.m_server ? m_a.m_server->newConnection() : nullptr;
        if (!m_a.m_ssl) {
            m_a.fail(m_a.m_server && !m_a.m_server->error().isEmpty()
                         ? QStringLiteral("database TLS: %1").arg(m_a.m_server->error())
                         : QStringLiteral("database TLS: OpenSSL could not start a TLS "
                                          "connection"));
            out.reset();
            return;
        }
        m_a.m_state = State::Handshake;
        if (!rest.empty())
            BIO_write(SSL_get_rbio(m_a.m_ssl), rest.data(), int(rest.size()));
        step(out);
    }

    void plain(FilterOutput& out)
    {
        m_a.m_state = State::Plain;
        out.write(m_first.data(), m_first.size());
        m_first.clear();
    }

    void step(FilterOutput& out)
    {
        SSL* ssl = m_a.m_ssl;
        if (m_a.m_state == State::Handshake) {
            ERR_clear_error();
            const int r = SSL_do_handshake(ssl);
            if (BIO_pending(SSL_get_wbio(ssl)) > 0)
                m_a.wakeDown(out);
            if (r != 1) {
                if (SSL_get_error(ssl, r) == SSL_ERROR_WANT_READ)
                    return;
                handshakeFailed(out);
                return;
            }
            m_a.m_state = State::Login;
            TlsInfo info;
            info.terminated = true;
            info.developmentCa = true;
            info.version = QString::fromLatin1(SSL_get_version(ssl));
            info.cipher = QString::fromLatin1(SSL_get_cipher_name(ssl));
            m_a.m_record->setTls(info);
        }
        char buffer[kTlsChunk];
        for (;;) {
            ERR_clear_error();
            const int n = SSL_read(ssl, buffer, int(sizeof buffer));
            if (n > 0) {
                m_plain.append(buffer, std::size_t(n));
                continue;
            }
            const int e = SSL_get_error(ssl, n);
            if (e == SSL_ERROR_WANT_READ)
                break;
            if (e == SSL_ERROR_ZERO_RETURN) {
                forward(out);
                out.finish();
                return;
            }
            const QString reason = tlsErrorReason();
            m_a.fail(reason.isEmpty() ? QStringLiteral("the client's TLS record was refused")
                                      : reason);
            out.reset();
            return;
        }
        if (BIO_pending(SSL_get_wbio(ssl)) > 0)
            m_a.wakeDown(out);
        forward(out);
    }

    // The login's packets with their sequence ids one lower (the HandshakeResponse without
    // CLIENT_SSL); after it, the bytes as they are.
    void forward(FilterOutput& out)
    {
        std::string ready;
        m_shift.take(m_plain, ready, [this] { return m_a.m_state == State::Command; });
        if (!ready.empty())
            out.write(ready.data(), ready.size());
    }

    void handshakeFailed(FilterOutput& out)
    {
        const unsigned long e = ERR_peek_last_error();
        const QString reason = tlsErrorReason();
        const int why = ERR_GET_REASON(e);
        if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
            (why == SSL_R_TLSV1_ALERT_UNKNOWN_CA || why == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE ||
             why == SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN))
            m_a.fail(QStringLiteral("database TLS: %1 (%2)").arg(developmentCaTrustHint(), reason));
        else
            m_a.fail(QStringLiteral("database TLS: TLS handshake failed: %1")
                         .arg(reason.isEmpty() ? QStringLiteral("the client broke off") : reason));
        out.reset();
    }

    MySqlTlsAnswer& m_a;
    std::string m_first; // the client's first packet, until it is whole
    std::string m_plain; // decrypted, not yet handed on
    MySqlLoginShift m_shift{-1, true, false};
};

// Upstream -> client: the greeting with CLIENT_SSL, then (TLS up) the login's packets with
// their sequence ids one higher until its OK or ERR, everything encrypted.
class MySqlTlsAnswer::Down final : public MySqlTlsWriter
{
public:
    explicit Down(MySqlTlsAnswer& a) : MySqlTlsWriter(MySqlLoginShift(+1, false, true)), m_a(a) {}
    Mode mode() const override
    {
        return m_a.m_state == State::Plain && m_held.empty() ? Mode::Pass : Mode::Transform;
    }
    bool done() const override { return m_a.m_state == State::Plain && m_held.empty(); }

    void onData(const char* data, std::size_t len, FilterOutput& out) override
    {
        switch (m_a.m_state) {
        case State::Greeting:
            m_held.append(data, len);
            greeting(out);
            return;
        case State::WaitClient:
        case State::Plain:
            out.write(data, len);
            return;
        case State::Handshake: // the server waits for the login: nothing should come now
            m_held.append(data, len);
            return;
        case State::Login:
        case State::Command:
            m_held.append(data, len);
            forward(out);
            return;
        }
    }

private:
    SSL* ssl() const override { return m_a.m_ssl; }
    bool encrypting() const override
    {
        return m_a.m_state == State::Login || m_a.m_state == State::Command;
    }
    bool loginOver() const override { return false; } // the shift sees the server's OK or ERR
    void loginEnded() override { m_a.m_state = State::Command; }
    void failed(const QString& why) override { m_a.fail(why); }

    void greeting(FilterOutput& out)
    {
        const std::size_t whole = mysqlFirstPacket(m_held, kMaxHeld);
        if (whole == std::string::npos) {
            plain(out);
            return;
        }
        if (whole == 0)
            return;
        const std::string rest = m_held.substr(whole);
        m_held.resize(whole);
        const bool greeting = offerTlsInGreeting(m_held);
        m_held += rest;
        if (!greeting) {
            plain(out); // an error packet in place of the greeting
            return;
        }
        m_a.m_state = State::WaitClient;
        out.write(m_held.data(), m_held.size());
        m_held.clear();
    }

    void plain(FilterOutput& out)
    {
        m_a.m_state = State::Plain;
        out.write(m_held.data(), m_held.size());
        m_held.clear();
    }

    MySqlTlsAnswer& m_a;
};

MySqlTlsAnswer::MySqlTlsAnswer(std::shared_ptr<const DatabaseTlsServer> server,
                               std::shared_ptr<ConnectionRecord> record)
    : m_server(std::move(server)), m_record(std::move(record)), m_up(std::make_unique<Up>(*this)),
      m_down(std::make_unique<Down>(*this))
{
}

void MySqlTlsAnswer::wakeDown(FilterOutput& out)
{
    out.wakeFilter(m_down.get(), out.nowMs());
}

MySqlTlsAnswer::~MySqlTlsAnswer()
{
    SSL_free(m_ssl);
}

std::shared_ptr<RelayFilter> MySqlTlsAnswer::toUpstreamFilter()
{
    return std::shared_ptr<RelayFilter>(shared_from_this(), m_up.get());
}

std::shared_ptr<RelayFilter> MySqlTlsAnswer::toClientFilter()
{
    return std::shared_ptr<RelayFilter>(shared_from_this(), m_down.get());
}

} // namespace sg
