#include "proxy/tlsclient.h"

#include "proxy/tlslink.h"

#include <QFileInfo>
#include <QHostAddress>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace sg {

namespace {

int noPassphrase(char*, int, int, void*)
{
    return 0;
}

// Set when the upstream's handshake asked for a client certificate (the cert callback runs on
// a client only then).
int requestedIndex()
{
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

int onCertificateRequest(SSL* ssl, void*)
{
    SSL_set_ex_data(ssl, requestedIndex(), reinterpret_cast<void*>(quintptr(1)));
    return 1;
}

} // namespace

TlsTrust::TlsTrust(const QString& setting) : m_setting(setting)
{
    m_store = X509_STORE_new();
    if (!m_store) {
        m_problem = QStringLiteral("out of memory");
        return;
    }
    ERR_clear_error();
    if (setting == QLatin1String("system")) {
        if (X509_STORE_set_default_paths(m_store) != 1)
            m_problem = QStringLiteral("the system's trusted certificates could not be read: %1")
                            .arg(tlsErrorReason());
    } else if (!QFileInfo(setting).isFile()) {
        m_problem = QStringLiteral("%1 is not a file").arg(setting);
    } else if (X509_STORE_load_file(m_store, QFile::encodeName(setting).constData()) != 1) {
        m_problem =
            QStringLiteral("%1 holds no PEM certificate: %2").arg(setting, tlsErrorReason());
    }
    ERR_clear_error();
}

TlsTrust::~TlsTrust()
{
    X509_STORE_free(m_store);
}

TlsClientSpec tlsClientSpec(const Config& config, const Upstream& upstream, QString* problem)
{
    TlsClientSpec spec;
    if (!upstream.tls)
        return spec;
    const UpstreamTls& tls = *upstream.tls;
    spec.verify = tls.verifies();
    if (spec.verify)
        spec.trusted = config.streamgate.trustedCertificates();
    if (!tls.clientCert.isEmpty()) {
        spec.clientCert = tls.clientCert;
        spec.clientKey = tls.clientKey;
        spec.clientCertFrom = QStringLiteral("tls.client_cert");
    } else if (!tls.clientCertId.isUndefined() && !tls.clientCertId.isNull()) {
        const QString id = idText(tls.clientCertId);
        const Ssl* ssl = config.findSsl(id);
        if (!ssl)
            *problem = QStringLiteral("tls.client_cert_id: ssl id [%1] does not exist").arg(id);
        else if (ssl->isServer())
            *problem = QStringLiteral("tls.client_cert_id: ssl [%1] is of type server, not client")
                           .arg(id);
        else {
            spec.clientCert = ssl->cert;
            spec.clientKey = ssl->key;
            spec.clientCertFrom = QStringLiteral("ssl [%1]").arg(id);
        }
    }
    return spec;
}

TlsClient::TlsClient(const TlsClientSpec& spec, std::shared_ptr<const TlsTrust> trust)
    : m_spec(spec), m_trust(std::move(trust))
{
    m_context = SSL_CTX_new(TLS_client_method());
    if (!m_context) {
        m_problem = QStringLiteral("out of memory");
        return;
    }
    // As APISIX's default ssl_protocols; nginx's proxy_ssl_protocols offers the same.
    SSL_CTX_set_min_proto_version(m_context, TLS1_2_VERSION);
    SSL_CTX_set_options(m_context, SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(m_context, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(m_context, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_cert_cb(m_context, onCertificateRequest, nullptr);
    if (m_spec.verify && m_trust && m_trust->store())
        SSL_CTX_set1_cert_store(m_context, m_trust->store());
    if (!m_spec.clientCert.isEmpty()) {
        const QByteArray cert = m_spec.clientCert.toUtf8();
        const QByteArray key = m_spec.clientKey.toUtf8();
        BIO* certBio = BIO_new_mem_buf(cert.constData(), int(cert.size()));
        BIO* keyBio = BIO_new_mem_buf(key.constData(), int(key.size()));
        X509* leaf = PEM_read_bio_X509(certBio, nullptr, noPassphrase, nullptr);
        EVP_PKEY* pkey = PEM_read_bio_PrivateKey(keyBio, nullptr, noPassphrase, nullptr);
        bool ok = leaf && pkey && SSL_CTX_use_certificate(m_context, leaf) == 1 &&
                  SSL_CTX_use_PrivateKey(m_context, pkey) == 1 &&
                  SSL_CTX_check_private_key(m_context) == 1;
        // The rest of the PEM text is the chain sent with the certificate.
        while (ok) {
            X509* extra = PEM_read_bio_X509(certBio, nullptr, noPassphrase, nullptr);
            if (!extra)
                break;
            if (SSL_CTX_add0_chain_cert(m_context, extra) != 1) {
                X509_free(extra);
                break;
            }
        }
        if (!ok)
            m_problem = QStringLiteral("the client certificate of %1 does not load: %2")
                            .arg(m_spec.clientCertFrom, tlsErrorReason());
        X509_free(leaf);
        EVP_PKEY_free(pkey);
        BIO_free(certBio);
        BIO_free(keyBio);
    }
    ERR_clear_error();
}

TlsClient::~TlsClient()
{
    SSL_CTX_free(m_context);
}

SSL* TlsClient::newConnection(const QString& sni, const QString& verifyName) const
{
    SSL* ssl = newMemoryBioSsl(m_context, false);
    if (!ssl)
        return nullptr;
    if (!sni.isEmpty())
        SSL_set_tlsext_host_name(ssl, sni.toLatin1().constData());
    if (m_spec.verify) {
        SSL_set_verify(ssl, SSL_VERIFY_PEER, nullptr);
        X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
        const QByteArray name = verifyName.toLatin1();
        if (QHostAddress(verifyName).isNull()) {
            X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            X509_VERIFY_PARAM_set1_host(param, name.constData(), size_t(name.size()));
        } else {
            X509_VERIFY_PARAM_set1_ip_asc(param, name.constData());
        }
    } else {
        SSL_set_verify(ssl, SSL_VERIFY_NONE, nullptr);
    }
    ERR_clear_error();
    return ssl;
}

bool TlsClient::certificateRequested(SSL* ssl)
{
    return SSL_get_ex_data(ssl, requestedIndex()) != nullptr;
}

bool TlsClient::certificateSent(SSL* ssl)
{
    return certificateRequested(ssl) && SSL_get_certificate(ssl) != nullptr;
}

QString upstreamClientCertRefusal(SSL* ssl, const TlsClient& client, int reason,
                                  const QString& text)
{
    if (!TlsClient::certificateRequested(ssl))
        return QString();
    if (!TlsClient::certificateSent(ssl))
        return QStringLiteral("the upstream asked for a client certificate and its tls has none "
                              "(tls.client_cert with client_key, or tls.client_cert_id): %1")
            .arg(text.isEmpty() ? QStringLiteral("refused") : text);
    switch (reason) {
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
    case SSL_R_TLSV1_ALERT_DECRYPT_ERROR:
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
        return QStringLiteral("the upstream refused the client certificate of %1: %2")
            .arg(client.spec().clientCertFrom, text);
    default:
        return QString();
    }
}

UpstreamTlsInfo upstreamTlsInfo(SSL* ssl, const TlsClient& client, const QString& sni)
{
    UpstreamTlsInfo info;
    info.used = true;
    info.sni = sni;
    info.version = QString::fromLatin1(SSL_get_version(ssl));
    info.cipher = QString::fromLatin1(SSL_get_cipher_name(ssl));
    if (X509* peer = SSL_get1_peer_certificate(ssl)) {
        char subject[256] = {};
        X509_NAME_oneline(X509_get_subject_name(peer), subject, sizeof subject);
        info.serverCertificate = QString::fromUtf8(subject);
        X509_free(peer);
    }
    info.verified = client.spec().verify;
    info.clientCertificate = TlsClient::certificateSent(ssl);
    return info;
}

QString upstreamHandshakeFailure(SSL* ssl, const TlsClient& client, const QString& verifyName,
                                 const QString& verifySetting, CloseReason* reason)
{
    const unsigned long e = ERR_peek_last_error();
    const int why = ERR_GET_LIB(e) == ERR_LIB_SSL ? ERR_GET_REASON(e) : 0;
    const QString text = tlsErrorReason();
    if (why == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        *reason = CloseReason::UpstreamCertUntrusted;
        return QStringLiteral("upstream certificate verify failed for %1: %2 (%3, trusted: %4)")
            .arg(verifyName,
                 QString::fromLatin1(X509_verify_cert_error_string(SSL_get_verify_result(ssl))),
                 verifySetting, client.spec().trusted);
    }
    if (TlsClient::certificateRequested(ssl)) {
        const QString refused = upstreamClientCertRefusal(ssl, client, why, text);
        if (!refused.isEmpty()) {
            *reason = CloseReason::UpstreamClientCertRefused;
            return refused;
        }
    }
    *reason = CloseReason::UpstreamTlsFailed;
    return QStringLiteral("TLS handshake with the upstream failed: %1")
        .arg(text.isEmpty() ? QStringLiteral("the upstream broke off") : text);
}

QString upstreamSni(const QString& clientSni)
{
    return clientSni.isEmpty() ? QStringLiteral("apisix_backend") : clientSni;
}

QString upstreamVerifyName(const QString& clientSni, const QString& nodeHost)
{
    return clientSni.isEmpty() ? nodeHost : clientSni;
}

} // namespace sg
