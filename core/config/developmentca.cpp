#include "config/developmentca.h"

#include "config/opensslutil.h"
#include "config/privatefile.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHostAddress>
#include <QMutex>
#include <QSaveFile>
#include <QSysInfo>
#include <ctime>
#include <memory>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace sg {

namespace {

QMutex& caLock()
{
    static QMutex lock;
    return lock;
}

using CertPtr = openssl::Cert;
using KeyPtr = openssl::Key;
using BioPtr = openssl::Bio;

QString opensslReason(const QString& what)
{
    const QString reason = openssl::lastErrorReason();
    return reason.isEmpty() ? what : QStringLiteral("%1: %2").arg(what, reason);
}

QByteArray readAll(const QString& path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return file.read(1024 * 1024);
}

CertPtr certFrom(const QByteArray& pem)
{
    BioPtr bio(BIO_new_mem_buf(pem.constData(), int(pem.size())));
    return CertPtr(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

KeyPtr keyFrom(const QByteArray& pem)
{
    BioPtr bio(BIO_new_mem_buf(pem.constData(), int(pem.size())));
    return KeyPtr(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

QByteArray pemOf(X509* cert)
{
    BioPtr bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509(bio.get(), cert);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return QByteArray(data, int(n));
}

QByteArray pemOf(EVP_PKEY* key)
{
    BioPtr bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return QByteArray(data, int(n));
}

// Still good at `now` for more than the renewal margin.
bool lastsBeyondRenewal(X509* cert, const QDateTime& now)
{
    const QDateTime end = openssl::utcTime(X509_get0_notAfter(cert));
    return end.isValid() && now.addDays(DevelopmentCa::kRenewDays) < end;
}

bool addExtension(X509* cert, X509* issuer, int nid, const char* value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (!ext)
        return false;
    const bool ok = X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

KeyPtr newKey()
{
    return KeyPtr(EVP_EC_gen("P-256"));
}

// A certificate for `key`, to be signed by issuer's key (issuer null: self-signed), valid from an
// hour before `now` (clocks differ) for `days`.
CertPtr newCertificate(EVP_PKEY* key, const QString& commonName, X509* issuer, const QDateTime& now,
                       int days)
{
    CertPtr cert(X509_new());
    if (!cert)
        return {};
    X509_set_version(cert.get(), 2);
    openssl::BigNum serial(BN_new());
    BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
    BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()));
    const time_t t = time_t(now.toSecsSinceEpoch());
    ASN1_TIME_set(X509_getm_notBefore(cert.get()), t - 3600);
    ASN1_TIME_adj(X509_getm_notAfter(cert.get()), t, days, 0);
    X509_NAME* name = X509_get_subject_name(cert.get());
    const QByteArray cn = commonName.toUtf8();
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>("Streamgate"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(cn.constData()), -1, -1, 0);
    X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
    X509_set_pubkey(cert.get(), key);
    return cert;
}

struct Ca
{
    CertPtr cert;
    KeyPtr key;
    QByteArray pem;
};

class Store
{
public:
    explicit Store(const QString& dir) : m_dir(dir) {}

    QString path(const char* name) const { return QDir(m_dir).filePath(QLatin1String(name)); }

    // The CA on disk when it is whole and lasts, else a new one written there.
    Ca loadOrCreateCa(const QDateTime& now, QString* error)
    {
        Ca ca;
        ca.pem = readAll(path("ca.crt"));
        ca.cert = certFrom(ca.pem);
        ca.key = keyFrom(readAll(path("ca.key")));
        ERR_clear_error();
        if (ca.cert && ca.key && X509_check_private_key(ca.cert.get(), ca.key.get()) == 1 &&
            lastsBeyondRenewal(ca.cert.get(), now))
            return ca;
        ERR_clear_error();
        if (QString e = detail::makePrivateDirectory(m_dir); !e.isEmpty()) {
            *error = QStringLiteral("the development CA cannot be kept: %1").arg(e);
            return {};
        }
        ca = {};
        ca.key = newKey();
        const QString user = qEnvironmentVariable("USER", QStringLiteral("user"));
        const QString host = QSysInfo::machineHostName();
        if (ca.key)
            ca.cert = newCertificate(
                ca.key.get(), QStringLiteral("Streamgate development CA (%1@%2)").arg(user, host),
                nullptr, now, DevelopmentCa::kCaDays);
        if (!ca.cert ||
            !addExtension(ca.cert.get(), ca.cert.get(), NID_basic_constraints,
                          "critical,CA:TRUE,pathlen:0") ||
            !addExtension(ca.cert.get(), ca.cert.get(), NID_key_usage,
                          "critical,keyCertSign,cRLSign") ||
            !addExtension(ca.cert.get(), ca.cert.get(), NID_subject_key_identifier, "hash") ||
            X509_sign(ca.cert.get(), ca.key.get(), EVP_sha256()) <= 0) {
            *error = opensslReason(QStringLiteral("the development CA could not be made"));
            return {};
        }
        ca.pem = pemOf(ca.cert.get());
        // The key first: a certificate on disk always has its key beside it.
        if (QString e = detail::writePrivateFile(path("ca.key"), pemOf(ca.key.get()));
            !e.isEmpty()) {
            *error = QStringLiteral("the development CA's key cannot be written: %1").arg(e);
            return {};
        }
        if (QString e = detail::writePrivateFile(path("ca.crt"), ca.pem); !e.isEmpty()) {
            *error =
                QStringLiteral("the development CA's certificate cannot be written: %1").arg(e);
            return {};
        }
        // A server certificate of the CA it replaces is of no use now.
        QFile::remove(path("server.crt"));
        QFile::remove(path("server.key"));
        return ca;
    }

private:
    QString m_dir;
};

bool coversName(X509* cert, const QString& name)
{
    const QByteArray n = name.toUtf8();
    if (!QHostAddress(name).isNull())
        return X509_check_ip_asc(cert, n.constData(), 0) == 1;
    return X509_check_host(cert, n.constData(), size_t(n.size()), 0, nullptr) == 1;
}

} // namespace

DevelopmentCa::DevelopmentCa(QString dir) : m_dir(std::move(dir)) {}

QString DevelopmentCa::directoryFor(const QString& configPath)
{
    return QFileInfo(configPath).absoluteDir().filePath(QStringLiteral("development-ca"));
}

QStringList DevelopmentCa::defaultNames()
{
    QStringList names{QStringLiteral("127.0.0.1"), QStringLiteral("::1"),
                      QStringLiteral("localhost")};
    const QString host = QSysInfo::machineHostName().toLower();
    if (!host.isEmpty() && !names.contains(host))
        names << host;
    return names;
}

QString DevelopmentCa::caCertificatePath() const
{
    return QDir(m_dir).filePath(QStringLiteral("ca.crt"));
}

QByteArray DevelopmentCa::caCertificatePem(QString* error, const QDateTime& now)
{
    QMutexLocker locker(&caLock());
    QString why;
    const Ca ca = Store(m_dir).loadOrCreateCa(now, &why);
    if (error)
        *error = why;
    return why.isEmpty() ? ca.pem : QByteArray();
}

QString DevelopmentCa::exportCertificate(const QString& file, const QDateTime& now)
{
    QString error;
    const QByteArray pem = caCertificatePem(&error, now);
    if (!error.isEmpty())
        return error;
    QSaveFile out(file);
    if (!out.open(QIODevice::WriteOnly) || out.write(pem) != pem.size() || !out.commit())
        return QStringLiteral("cannot write the development CA's certificate to %1: %2")
            .arg(file, out.errorString());
    return {};
}

GeneratedCertificate DevelopmentCa::issue(const CertificateRequest& request, const QDateTime& now)
{
    QMutexLocker locker(&caLock());
    QString error;
    const Ca ca = Store(m_dir).loadOrCreateCa(now, &error);
    if (!error.isEmpty()) {
        GeneratedCertificate out;
        out.problems << Problem{QStringLiteral("certificate"), QString(), error};
        return out;
    }
    return createSignedBy(request, ca.cert.get(), ca.key.get());
}

DevelopmentCredentials DevelopmentCa::serverCredentials(const QStringList& names,
                                                        const QDateTime& now)
{
    QMutexLocker locker(&caLock());
    DevelopmentCredentials result;
    result.names = names;
    Store store(m_dir);
    Ca ca = store.loadOrCreateCa(now, &result.error);
    if (!result.ok())
        return result;
    result.caPem = ca.pem;

    // The kept one, while it is the CA's, has the names and lasts.
    const QByteArray certPem = readAll(store.path("server.crt"));
    const QByteArray keyPem = readAll(store.path("server.key"));
    CertPtr kept = certFrom(certPem);
    KeyPtr keptKey = keyFrom(keyPem);
    bool good = kept && keptKey && X509_check_private_key(kept.get(), keptKey.get()) == 1 &&
                X509_verify(kept.get(), ca.key.get()) == 1 && lastsBeyondRenewal(kept.get(), now);
    for (const QString& name : names)
        good = good && coversName(kept.get(), name);
    ERR_clear_error();
    if (good) {
        result.certPem = certPem;
        result.keyPem = keyPem;
        result.notAfter = openssl::utcTime(X509_get0_notAfter(kept.get()));
        return result;
    }

    KeyPtr key = newKey();
    CertPtr cert;
    if (key)
        cert = newCertificate(key.get(), names.value(0, QStringLiteral("localhost")), ca.cert.get(),
                              now, kServerDays);
    QStringList alt;
    for (const QString& name : names)
        alt << (QHostAddress(name).isNull() ? QStringLiteral("DNS:") : QStringLiteral("IP:")) +
                   name;
    const QByteArray altText = alt.join(QLatin1Char(',')).toUtf8();
    if (!cert ||
        !addExtension(cert.get(), ca.cert.get(), NID_basic_constraints, "critical,CA:FALSE") ||
        !addExtension(cert.get(), ca.cert.get(), NID_key_usage, "critical,digitalSignature") ||
        !addExtension(cert.get(), ca.cert.get(), NID_ext_key_usage, "serverAuth") ||
        !addExtension(cert.get(), ca.cert.get(), NID_subject_key_identifier, "hash") ||
        !addExtension(cert.get(), ca.cert.get(), NID_authority_key_identifier, "keyid") ||
        (!alt.isEmpty() &&
         !addExtension(cert.get(), ca.cert.get(), NID_subject_alt_name, altText.constData())) ||
        X509_sign(cert.get(), ca.key.get(), EVP_sha256()) <= 0) {
        result.error =
            opensslReason(QStringLiteral("the development CA could not issue a certificate"));
        return result;
    }
    result.certPem = pemOf(cert.get());
    result.keyPem = pemOf(key.get());
    result.notAfter = openssl::utcTime(X509_get0_notAfter(cert.get()));
    if (QString e = detail::writePrivateFile(store.path("server.key"), result.keyPem);
        !e.isEmpty()) {
        result.error =
            QStringLiteral("the development CA's server key cannot be written: %1").arg(e);
        return result;
    }
    if (QString e = detail::writePrivateFile(store.path("server.crt"), result.certPem);
        !e.isEmpty())
        result.error =
            QStringLiteral("the development CA's server certificate cannot be written: %1").arg(e);
    return result;
}

} // namespace sg
