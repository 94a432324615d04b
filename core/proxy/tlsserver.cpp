#include "proxy/tlsserver.h"

#include "proxy/servername.h"
#include "proxy/tlslink.h"

#include <QCryptographicHash>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace sg {

struct TlsCertificate
{
    QString id;
    QStringList names; // lower case, as APISIX's ssl_filter keeps them
    // OpenSSL's session id context: a session resumes only on the ssl it was made with (and
    // OpenSSL refuses to resume a verified client's session without one).
    QByteArray sessionContext;
    struct Pair
    {
        X509* leaf = nullptr;
        STACK_OF(X509) * chain = nullptr;
        EVP_PKEY* key = nullptr;
    };
    std::vector<Pair> pairs;
    X509_STORE* verify = nullptr; // client.ca (mTLS), or none
    STACK_OF(X509_NAME) * caNames = nullptr;
    int depth = 1;
    long noVersions = 0; // SSL_OP_NO_TLSv1_x for the versions ssl_protocols leaves out

    ~TlsCertificate()
    {
        for (Pair& p : pairs) {
            X509_free(p.leaf);
            sk_X509_pop_free(p.chain, X509_free);
            EVP_PKEY_free(p.key);
        }
        X509_STORE_free(verify);
        sk_X509_NAME_pop_free(caNames, X509_NAME_free);
    }
};

namespace {

int noPassphrase(char*, int, int, void*)
{
    return 0;
}

// What the ClientHello callback learned, kept on the connection for its error message.
struct TlsHello
{
    QString sni;
    bool noCertificate = false;
};

void freeHello(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*)
{
    delete static_cast<TlsHello*>(ptr);
}

int helloIndex()
{
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, freeHello);
    return index;
}

TlsHello* helloOf(SSL* ssl, bool create)
{
    auto* hello = static_cast<TlsHello*>(SSL_get_ex_data(ssl, helloIndex()));
    if (!hello && create) {
        hello = new TlsHello;
        SSL_set_ex_data(ssl, helloIndex(), hello);
    }
    return hello;
}

std::vector<X509*> readCerts(const QString& pem)
{
    const QByteArray bytes = pem.toUtf8();
    BIO* bio = BIO_new_mem_buf(bytes.constData(), int(bytes.size()));
    std::vector<X509*> certs;
    while (X509* x = PEM_read_bio_X509(bio, nullptr, noPassphrase, nullptr))
        certs.push_back(x);
    BIO_free(bio);
    ERR_clear_error();
    return certs;
}

EVP_PKEY* readKey(const QString& pem)
{
    const QByteArray bytes = pem.toUtf8();
    BIO* bio = BIO_new_mem_buf(bytes.constData(), int(bytes.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, noPassphrase, nullptr);
    BIO_free(bio);
    ERR_clear_error();
    return key;
}

bool addPair(TlsCertificate& c, const QString& certPem, const QString& keyPem)
{
    std::vector<X509*> certs = readCerts(certPem);
    EVP_PKEY* key = readKey(keyPem);
    if (certs.empty() || !key || X509_check_private_key(certs.front(), key) != 1) {
        for (X509* x : certs)
            X509_free(x);
        EVP_PKEY_free(key);
        ERR_clear_error();
        return false;
    }
    TlsCertificate::Pair pair;
    pair.leaf = certs.front();
    pair.chain = sk_X509_new_null();
    for (size_t i = 1; i < certs.size(); ++i)
        sk_X509_push(pair.chain, certs[i]);
    pair.key = key;
    c.pairs.push_back(pair);
    return true;
}

long versionsLeftOut(const QStringList& protocols)
{
    // APISIX's default: TLSv1.2 and TLSv1.3. TLSv1 is never offered.
    const QStringList allowed =
        protocols.isEmpty() ? QStringList{QStringLiteral("TLSv1.2"), QStringLiteral("TLSv1.3")}
                            : protocols;
    long options = SSL_OP_NO_TLSv1;
    if (!allowed.contains(u"TLSv1.1"))
        options |= SSL_OP_NO_TLSv1_1;
    if (!allowed.contains(u"TLSv1.2"))
        options |= SSL_OP_NO_TLSv1_2;
    if (!allowed.contains(u"TLSv1.3"))
        options |= SSL_OP_NO_TLSv1_3;
    return options;
}

} // namespace

TlsServer::TlsServer(const QList<Ssl>& ssls) : m_source(ssls)
{
    for (const Ssl& ssl : ssls) {
        if (!ssl.isServer() || ssl.status != 1)
            continue;
        auto c = std::make_unique<TlsCertificate>();
        c->id = ssl.idString();
        c->names = ssl.serverNames();
        c->sessionContext =
            QCryptographicHash::hash((c->id + ssl.cert).toUtf8(), QCryptographicHash::Sha256);
        bool ok = addPair(*c, ssl.cert, ssl.key);
        for (qsizetype i = 0; ok && i < ssl.certs.size() && i < ssl.keys.size(); ++i)
            ok = addPair(*c, ssl.certs.at(i), ssl.keys.at(i));
        if (ok && ssl.client) {
            c->verify = X509_STORE_new();
            c->caNames = sk_X509_NAME_new_null();
            c->depth = ssl.client->depth;
            const std::vector<X509*> cas = readCerts(ssl.client->ca);
            ok = !cas.empty();
            for (X509* ca : cas) {
                X509_STORE_add_cert(c->verify, ca);
                sk_X509_NAME_push(c->caNames, X509_NAME_dup(X509_get_subject_name(ca)));
                X509_free(ca);
            }
        }
        c->noVersions = versionsLeftOut(ssl.sslProtocols);
        if (!ok) {
            m_problems << QStringLiteral("ssl [%1]: its certificate, key or client.ca does not "
                                         "load; it is not presented")
                              .arg(c->id);
            continue;
        }
        m_certificates.push_back(std::move(c));
    }
    ERR_clear_error();
    m_context = SSL_CTX_new(TLS_server_method());
    if (!m_context)
        return;
    SSL_CTX_set_min_proto_version(m_context, TLS1_1_VERSION);
    // Stateless tickets only (see the header); no renegotiation of a running session.
    SSL_CTX_set_session_cache_mode(m_context, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(m_context, 1);
    SSL_CTX_set_options(m_context, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(m_context, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_client_hello_cb(m_context, onClientHello, this);
}

TlsServer::~TlsServer()
{
    SSL_CTX_free(m_context);
}

SSL* TlsServer::newConnection() const
{
    return newMemoryBioSsl(m_context, true);
}

const TlsCertificate* TlsServer::certificateFor(const QString& sni) const
{
    for (const auto& c : m_certificates) {
        if (c->names.contains(sni))
            return c.get();
    }
    // The wildcard with the longest suffix, then "*" (radixtree's longest prefix of the
    // reversed name); a wildcard stands for one label only.
    const TlsCertificate* best = nullptr;
    qsizetype bestLength = -1;
    for (const auto& c : m_certificates) {
        for (const QString& name : c->names) {
            if (!name.startsWith(u'*') || name.size() == 1)
                continue;
            const QStringView suffix = QStringView(name).mid(1);
            if (suffix.size() > bestLength && sni.endsWith(suffix)) {
                best = c.get();
                bestLength = suffix.size();
            }
        }
    }
    if (best)
        return QStringView(sni).left(sni.size() - bestLength).contains(u'.') ? nullptr : best;
    for (const auto& c : m_certificates) {
        if (c->names.contains(QStringLiteral("*")))
            return c.get();
    }
    return nullptr;
}

QString TlsServer::sniOf(SSL* ssl)
{
    const TlsHello* hello = helloOf(ssl, false);
    return hello ? hello->sni : QString();
}

bool TlsServer::noCertificate(SSL* ssl)
{
    const TlsHello* hello = helloOf(ssl, false);
    return hello && hello->noCertificate;
}

int TlsServer::onClientHello(SSL* ssl, int* alert, void* arg)
{
    const auto* server = static_cast<const TlsServer*>(arg);
    TlsHello* hello = helloOf(ssl, true);
    if (!hello) {
        *alert = SSL_AD_INTERNAL_ERROR;
        return SSL_CLIENT_HELLO_ERROR;
    }
    const unsigned char* ext = nullptr;
    size_t len = 0;
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &ext, &len) == 1)
        hello->sni = serverNameOf(ext, len);
    const TlsCertificate* c = hello->sni.isEmpty() ? nullptr : server->certificateFor(hello->sni);
    if (!c) {
        hello->noCertificate = true;
        *alert = SSL_AD_UNRECOGNIZED_NAME;
        return SSL_CLIENT_HELLO_ERROR;
    }
    for (const TlsCertificate::Pair& p : c->pairs) {
        if (SSL_use_cert_and_key(ssl, p.leaf, p.key, p.chain, 1) != 1) {
            *alert = SSL_AD_INTERNAL_ERROR;
            return SSL_CLIENT_HELLO_ERROR;
        }
    }
    SSL_set_options(ssl, c->noVersions);
    SSL_set_session_id_context(
        ssl, reinterpret_cast<const unsigned char*>(c->sessionContext.constData()),
        unsigned(c->sessionContext.size()));
    if (c->verify) {
        SSL_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
        SSL_set_verify_depth(ssl, c->depth);
        SSL_set1_verify_cert_store(ssl, c->verify);
        SSL_set_client_CA_list(ssl, SSL_dup_CA_list(c->caNames));
    }
    return SSL_CLIENT_HELLO_SUCCESS;
}

} // namespace sg
