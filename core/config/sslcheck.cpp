#include "config/sslcheck.h"

#include "config/opensslutil.h"

#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <memory>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace sg {

namespace {

using openssl::Bio;
using openssl::Cert;
using openssl::Key;

// Never asks for a passphrase (OpenSSL's default would read the terminal): an encrypted key
// fails to load, as it does in APISIX.
int noPassphrase(char*, int, int, void*)
{
    return 0;
}

Bio memoryBio(const QByteArray& pem)
{
    return Bio(BIO_new_mem_buf(pem.constData(), int(pem.size())));
}

// The certificates of a PEM text, in order (a leaf and its chain, or CA certificates).
std::vector<Cert> readCerts(const QString& text, const QString& field, QString* why)
{
    const QByteArray pem = text.toUtf8();
    Bio bio = memoryBio(pem);
    std::vector<Cert> certs;
    ERR_clear_error();
    while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, noPassphrase, nullptr))
        certs.emplace_back(x);
    const unsigned long last = ERR_peek_last_error();
    // The loop ends on "no start line" once the text has no more certificates.
    if (!certs.empty() && ERR_GET_REASON(last) == PEM_R_NO_START_LINE)
        ERR_clear_error();
    if (certs.empty())
        *why = QStringLiteral("failed to parse %1: not a PEM certificate (-----BEGIN "
                              "CERTIFICATE-----): %2")
                   .arg(field, openssl::lastErrorReason());
    else
        ERR_clear_error();
    return certs;
}

Key readKey(const QString& text, const QString& field, QString* why)
{
    const QByteArray pem = text.toUtf8();
    Bio bio = memoryBio(pem);
    ERR_clear_error();
    Key key(PEM_read_bio_PrivateKey(bio.get(), nullptr, noPassphrase, nullptr));
    if (!key)
        *why = QStringLiteral("failed to parse %1: not a PEM private key without a "
                              "passphrase: %2")
                   .arg(field, openssl::lastErrorReason());
    ERR_clear_error();
    return key;
}

QString notAfterText(const X509* cert)
{
    struct tm t = {};
    if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &t) != 1)
        return QStringLiteral("an unreadable date");
    return QDateTime(QDate(t.tm_year + 1900, t.tm_mon + 1, t.tm_mday),
                     QTime(t.tm_hour, t.tm_min, t.tm_sec), Qt::UTC)
        .toString(Qt::ISODate);
}

// One certificate with its key: cert at certPath, key at keyPath.
void checkPair(const QString& certText, const QString& keyText, const QString& certPath,
               const QString& keyPath, const QString& certField, const QString& keyField,
               ConfigCheck& check)
{
    QString why;
    const std::vector<Cert> certs = readCerts(certText, certField, &why);
    if (certs.empty())
        check.errors << Problem{certPath, QString(), why};
    why.clear();
    const Key key = readKey(keyText, keyField, &why);
    if (!key)
        check.errors << Problem{keyPath, QString(), why};
    if (certs.empty() || !key)
        return;
    if (X509_check_private_key(certs.front().get(), key.get()) != 1) {
        ERR_clear_error();
        check.errors << Problem{keyPath, QString(),
                                QStringLiteral("%1 does not match %2: it is the private key of "
                                               "another certificate")
                                    .arg(keyField, certField)};
    }
    if (X509_cmp_current_time(X509_get0_notAfter(certs.front().get())) < 0)
        check.warnings << Problem{certPath, QString(),
                                  QStringLiteral("the certificate in %1 expired on %2: clients "
                                                 "that verify it refuse the handshake")
                                      .arg(certField, notAfterText(certs.front().get()))};
}

} // namespace

void checkSsl(const Ssl& ssl, const QString& path, ConfigCheck& check)
{
    const auto at = [&path](const QString& field) { return path + u'.' + field; };
    checkPair(ssl.cert, ssl.key, at(QStringLiteral("cert")), at(QStringLiteral("key")),
              QStringLiteral("cert"), QStringLiteral("key"), check);
    for (qsizetype i = 0; i < ssl.certs.size() && i < ssl.keys.size(); ++i) {
        const QString certField = QStringLiteral("certs[%1]").arg(i);
        const QString keyField = QStringLiteral("keys[%1]").arg(i);
        checkPair(ssl.certs.at(i), ssl.keys.at(i), at(certField), at(keyField), certField, keyField,
                  check);
    }
    if (ssl.client) {
        QString why;
        if (readCerts(ssl.client->ca, QStringLiteral("client.ca"), &why).empty())
            check.errors << Problem{at(QStringLiteral("client.ca")), QString(), why};
    }
}

// An upstream's tls: its client certificate loads and matches its key, client_cert_id names an
// ssl of type client (as APISIX's upstream check does when the upstream is written), and a tls
// without scheme "tls" is said to do nothing.
void checkUpstreamTls(const Config& config, const Upstream& up, const QString& path,
                      ConfigCheck& check)
{
    // Streamgate's probes speak HTTP in plaintext (APISIX's "https" probes are refused).
    if (up.reachedOverTls() && up.checks && up.checks->http())
        check.warnings << Problem{path + QStringLiteral(".checks.active.type"), up.checks->type,
                                  QStringLiteral("the nodes speak TLS (scheme \"tls\") and HTTP "
                                                 "probes are sent in plaintext, so they fail: use "
                                                 "type \"tcp\"")};
    if (!up.tls)
        return;
    const QString at = path + QStringLiteral(".tls");
    const UpstreamTls& tls = *up.tls;
    if (!tls.clientCert.isEmpty())
        checkPair(tls.clientCert, tls.clientKey, at + QStringLiteral(".client_cert"),
                  at + QStringLiteral(".client_key"), QStringLiteral("tls.client_cert"),
                  QStringLiteral("tls.client_key"), check);
    if (!tls.clientCertId.isUndefined() && !tls.clientCertId.isNull()) {
        const QString id = idText(tls.clientCertId);
        const Ssl* ssl = config.findSsl(id);
        if (!ssl)
            check.errors << Problem{
                at + QStringLiteral(".client_cert_id"), id,
                QStringLiteral("failed to fetch ssl info by ssl id [%1]: no such ssl").arg(id),
                apisixCheck(QStringLiteral("failed to fetch ssl info by ssl id [%1], response "
                                           "code: 404")
                                .arg(id))};
        else if (ssl->isServer())
            check.errors << Problem{at + QStringLiteral(".client_cert_id"), id,
                                    QStringLiteral("failed to fetch ssl info by ssl id [%1], "
                                                   "wrong ssl type: it is of type server, an "
                                                   "upstream's client certificate is an ssl of "
                                                   "type client")
                                        .arg(id),
                                    apisixCheck(QStringLiteral("failed to fetch ssl info by ssl "
                                                               "id [%1], wrong ssl type")
                                                    .arg(id))};
    }
    if (!up.reachedOverTls())
        check.warnings << Problem{at, QString(),
                                  QStringLiteral("not used: the upstream's scheme is not \"tls\", "
                                                 "so its nodes are reached without TLS")};
}

void checkSsls(const Config& config, ConfigCheck& check)
{
    for (qsizetype i = 0; i < config.upstreams.size(); ++i)
        checkUpstreamTls(config, config.upstreams.at(i), QStringLiteral("upstreams[%1]").arg(i),
                         check);
    for (qsizetype i = 0; i < config.services.size(); ++i)
        if (config.services.at(i).upstream)
            checkUpstreamTls(config, *config.services.at(i).upstream,
                             QStringLiteral("services[%1].upstream").arg(i), check);
    bool passthroughListener = false;
    for (const ListenEntry& e : config.streamProxy.tcp)
        passthroughListener = passthroughListener || e.passesTlsThrough();
    for (qsizetype i = 0; i < config.streamRoutes.size(); ++i) {
        const StreamRoute& route = config.streamRoutes.at(i);
        const QString at = QStringLiteral("stream_routes[%1]").arg(i);
        if (route.upstream)
            checkUpstreamTls(config, *route.upstream, at + QStringLiteral(".upstream"), check);
        if (route.tlsPassthrough.value_or(false) && !passthroughListener)
            check.warnings << Problem{
                at + QStringLiteral(".tls_passthrough"), QStringLiteral("true"),
                QStringLiteral("no stream_proxy.tcp entry has tls_passthrough: true, so no "
                               "connection is ever passed through")};
    }
    const QString trusted = config.streamgate.trustedCertificates();
    if (trusted != QLatin1String("system")) {
        const QString path = settingPath({settingkey::SslTrustedCertificate});
        QFile file(trusted);
        if (!QFileInfo(trusted).isFile() || !file.open(QIODevice::ReadOnly)) {
            check.errors << Problem{path, trusted,
                                    QStringLiteral("certificate path %1 doesn't exist (or cannot "
                                                   "be read); give \"system\" or a PEM file of "
                                                   "CA certificates")
                                        .arg(QFileInfo(trusted).absoluteFilePath())};
        } else {
            QString why;
            if (readCerts(QString::fromLatin1(file.read(4 * 1024 * 1024)), trusted, &why).empty())
                check.errors << Problem{path, trusted, why};
        }
    }

    bool anyServer = false;
    for (qsizetype i = 0; i < config.ssls.size(); ++i) {
        const Ssl& ssl = config.ssls.at(i);
        checkSsl(ssl, QStringLiteral("ssls[%1]").arg(i), check);
        anyServer = anyServer || (ssl.isServer() && ssl.status == 1);
    }
    bool tlsListener = false;
    for (qsizetype i = 0; i < config.streamProxy.tcp.size(); ++i) {
        // A listener with tls_passthrough reads the SNI without a certificate of its own.
        if (config.streamProxy.tcp.at(i).passesTlsThrough())
            tlsListener = true;
        if (!config.streamProxy.tcp.at(i).terminatesTls())
            continue;
        tlsListener = true;
        if (!anyServer)
            check.warnings << Problem{
                QStringLiteral("stream_proxy.tcp[%1].tls").arg(i), QStringLiteral("true"),
                QStringLiteral("no ssl of type server with status 1: every TLS handshake on "
                               "%1 fails (no certificate)")
                    .arg(config.streamProxy.tcp.at(i).text())};
    }
    if (tlsListener)
        return;
    for (qsizetype i = 0; i < config.streamRoutes.size(); ++i) {
        const StreamRoute& route = config.streamRoutes.at(i);
        if (!route.sni.isEmpty())
            check.warnings << Problem{
                QStringLiteral("stream_routes[%1].sni").arg(i), route.sni,
                QStringLiteral("no stream_proxy.tcp entry has tls: true or tls_passthrough: "
                               "true, and a route with sni only matches TLS connections: it can "
                               "never match")};
    }
}

} // namespace sg
