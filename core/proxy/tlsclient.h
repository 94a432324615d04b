#pragma once
// TLS to upstreams with scheme "tls", as APISIX's stream proxy reaches them (nginx's proxy_ssl):
// TlsClient is one upstream's client side compiled for the workers (built on the engine thread,
// immutable, shared through its UpstreamEntry): its client certificate (tls.client_cert +
// client_key, or the ssl of type client that tls.client_cert_id names) and, with tls.verify,
// the trusted CAs (TlsTrust: streamgate.ssl_trusted_certificate, "system" by default). Each
// upstream connection gets an SSL object over two memory BIOs, like the server side
// (tlsserver.h): the connector runs its handshake on the worker's loop (TlsHandshakeIo), and the
// session's TlsLink filters carry the records after it.
// The SNI sent is APISIX's choice: the one the client's own TLS connection carried (a listener
// with tls or tls_passthrough), otherwise "apisix_backend" (APISIX sets $upstream_sni to the name
// of its nginx upstream block; t/stream-node/upstream-tls.t). With tls.verify, the upstream's
// certificate must chain to a trusted CA and carry the name verified: the client's SNI when it
// sent one (nginx's proxy_ssl_name), otherwise the node's host (a name or an IP address, as
// APISIX's only other tls.verify, its Kafka client, checks it), since "apisix_backend" names no
// server.

#include "model/streamroute.h"
#include "stats/snapshot.h"

#include <QString>
#include <memory>

using SSL = struct ssl_st;
using SSL_CTX = struct ssl_ctx_st;
using X509_STORE = struct x509_store_st;

namespace sg {

// The CAs upstreams with tls.verify trust: "system" (OpenSSL's default paths, the system store)
// or a PEM file. Loaded once per value of the setting, shared by every upstream.
class TlsTrust
{
public:
    explicit TlsTrust(const QString& setting);
    ~TlsTrust();
    Q_DISABLE_COPY_MOVE(TlsTrust)

    const QString& setting() const { return m_setting; }
    X509_STORE* store() const { return m_store; }
    const QString& problem() const { return m_problem; } // "" when it loaded

private:
    QString m_setting;
    X509_STORE* m_store = nullptr;
    QString m_problem;
};

// What an upstream's TLS runs with, resolved from the config (client_cert_id looked up).
struct TlsClientSpec
{
    QString clientCert; // PEM; empty: none
    QString clientKey;
    QString clientCertFrom; // "tls.client_cert" or "ssl [id]", for messages
    bool verify = false;
    QString trusted; // streamgate.ssl_trusted_certificate in effect
    bool operator==(const TlsClientSpec&) const = default;
};
// The spec of `upstream` in `config`; problem: why client_cert_id gives no certificate (the
// config check refuses such a config first).
TlsClientSpec tlsClientSpec(const Config& config, const Upstream& upstream, QString* problem);

class TlsClient
{
public:
    // trust: required when spec.verify.
    TlsClient(const TlsClientSpec& spec, std::shared_ptr<const TlsTrust> trust);
    ~TlsClient();
    Q_DISABLE_COPY_MOVE(TlsClient)

    const TlsClientSpec& spec() const { return m_spec; }
    const QString& problem() const { return m_problem; } // the client certificate did not load

    // A client connection over fresh memory BIOs sending `sni` (empty: none) and, with verify,
    // checking `verifyName` (a host name or an IP address); nullptr when OpenSSL is out of
    // memory. Any worker thread.
    SSL* newConnection(const QString& sni, const QString& verifyName) const;

    // After a handshake: whether the upstream asked for a client certificate, and whether one
    // was sent.
    static bool certificateRequested(SSL* ssl);
    static bool certificateSent(SSL* ssl);

private:
    TlsClientSpec m_spec;
    std::shared_ptr<const TlsTrust> m_trust;
    SSL_CTX* m_context = nullptr;
    QString m_problem;
};

// After the upstream asked for a client certificate (TlsClient::certificateRequested), why a
// failure with OpenSSL's `reason` (ERR_GET_REASON, and its text) is the upstream refusing it
// (none configured, or one it did not accept); "" when it is something else.
QString upstreamClientCertRefusal(SSL* ssl, const TlsClient& client, int reason,
                                  const QString& text);

// A finished handshake of `client` (sending `sni`), as the connection's record shows it
// (tls.upstream).
UpstreamTlsInfo upstreamTlsInfo(SSL* ssl, const TlsClient& client, const QString& sni);
// Why OpenSSL gave up on a handshake of `client` (its error queue, read and cleared), in the
// words a user acts on, and the close reason: UpstreamCertUntrusted (verify checked
// `verifyName` because `verifySetting` asked), UpstreamClientCertRefused, else UpstreamTlsFailed.
QString upstreamHandshakeFailure(SSL* ssl, const TlsClient& client, const QString& verifyName,
                                 const QString& verifySetting, CloseReason* reason);

// The SNI APISIX sends upstream for a client whose own TLS carried `clientSni` (see above).
QString upstreamSni(const QString& clientSni);
// The name tls.verify checks: the client's SNI, else the node's host.
QString upstreamVerifyName(const QString& clientSni, const QString& nodeHost);

} // namespace sg
