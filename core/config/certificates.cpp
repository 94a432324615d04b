#include "config/certificates.h"

#include "config/opensslutil.h"
#include "config/sslcheck.h"
#include "model/codec.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QRegularExpression>
#include <cmath>
#include <memory>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <utility>
#include <vector>

namespace sg {

namespace {

using MemBio = openssl::Bio;
using X509Ptr = openssl::Cert;
using PKeyPtr = openssl::Key;

constexpr qint64 kSecondsPerDay = 86400;
constexpr qint64 kMaxPemFileBytes = 1024 * 1024;
constexpr int kMaxValidityDays = 36500;

int refusePassphrase(char*, int, int, void*)
{
    return 0;
}

QString lastOpensslError()
{
    const unsigned long e = ERR_peek_last_error();
    ERR_clear_error();
    if (e == 0)
        return QStringLiteral("unknown OpenSSL error");
    const char* reason = ERR_reason_error_string(e);
    return reason ? QString::fromLatin1(reason) : QStringLiteral("error %1").arg(e);
}

QString bioText(BIO* bio)
{
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    return size > 0 ? QString::fromUtf8(data, int(size)) : QString();
}

QString nameText(const X509_NAME* name)
{
    MemBio bio(BIO_new(BIO_s_mem()));
    X509_NAME_print_ex(bio.get(), name, 0,
                       XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_FN_SN | ASN1_STRFLGS_UTF8_CONVERT |
                           ASN1_STRFLGS_ESC_CTRL);
    return bioText(bio.get());
}

QString commonNameOf(const X509_NAME* name)
{
    const int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (i < 0)
        return {};
    const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    unsigned char* utf8 = nullptr;
    const int size = ASN1_STRING_to_UTF8(&utf8, data);
    if (size < 0)
        return {};
    const QString text = QString::fromUtf8(reinterpret_cast<const char*>(utf8), size);
    OPENSSL_free(utf8);
    return text;
}

QString keyTypeOf(EVP_PKEY* key)
{
    if (!key)
        return QStringLiteral("unknown");
    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS:
        return QStringLiteral("RSA %1").arg(EVP_PKEY_get_bits(key));
    case EVP_PKEY_EC: {
        char group[64] = {};
        size_t length = 0;
        if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                           &length) != 1)
            return QStringLiteral("ECDSA");
        const QString curve = QString::fromLatin1(group, qsizetype(length));
        if (curve == QLatin1String("prime256v1"))
            return QStringLiteral("ECDSA P-256");
        if (curve == QLatin1String("secp384r1"))
            return QStringLiteral("ECDSA P-384");
        if (curve == QLatin1String("secp521r1"))
            return QStringLiteral("ECDSA P-521");
        return QStringLiteral("ECDSA %1").arg(curve);
    }
    case EVP_PKEY_ED25519:
        return QStringLiteral("Ed25519");
    case EVP_PKEY_ED448:
        return QStringLiteral("Ed448");
    default:
        return QString::fromLatin1(OBJ_nid2sn(EVP_PKEY_get_base_id(key)));
    }
}

QStringList dnsNamesOf(X509* cert)
{
    QStringList names;
    openssl::GeneralNames sans(static_cast<GENERAL_NAMES*>(
        X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
    if (!sans)
        return names;
    for (int i = 0; i < sk_GENERAL_NAME_num(sans.get()); ++i) {
        const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans.get(), i);
        if (name->type != GEN_DNS)
            continue;
        const ASN1_IA5STRING* dns = name->d.dNSName;
        names << QString::fromLatin1(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                                     ASN1_STRING_length(dns));
    }
    return names;
}

QString normalName(QString name)
{
    if (name.endsWith(QLatin1Char('.')))
        name.chop(1);
    return name.toLower();
}

bool serves(const Ssl& ssl)
{
    return ssl.isServer() && ssl.status == 1;
}

// The PEM blocks of a text: certificates in order, private keys.
struct PemBlocks
{
    QStringList certificates;
    QStringList keys;
};

PemBlocks pemBlocks(const QString& text)
{
    // Not static: this runs on worker threads too.
    const QRegularExpression block(
        QStringLiteral("-----BEGIN ([A-Z0-9 ]+)-----[\\s\\S]*?-----END \\1-----"));
    PemBlocks blocks;
    for (auto it = block.globalMatch(text); it.hasNext();) {
        const QRegularExpressionMatch m = it.next();
        const QString label = m.captured(1);
        if (label == QLatin1String("CERTIFICATE") || label == QLatin1String("TRUSTED CERTIFICATE"))
            blocks.certificates << m.captured(0);
        else if (label.endsWith(QLatin1String("PRIVATE KEY")))
            blocks.keys << m.captured(0);
    }
    return blocks;
}

QString fileName(const QString& path)
{
    return QFileInfo(path).fileName();
}

// The snis problems the model's decoder finds in `names`, each under "snis".
Problems sniProblems(const QStringList& names)
{
    const QJsonObject probe{{QStringLiteral("type"), QStringLiteral("server")},
                            {QStringLiteral("snis"), QJsonArray::fromStringList(names)},
                            {QStringLiteral("cert"), QStringLiteral("-")},
                            {QStringLiteral("key"), QStringLiteral("-")}};
    Problems problems;
    for (const Problem& p : decodeSsl(probe, QString(), DecodeMode::Client).problems) {
        if (p.path.startsWith(QLatin1String("snis")))
            problems << Problem{QStringLiteral("snis"), p.value,
                                QStringLiteral("\"%1\" %2").arg(p.value, p.reason)};
    }
    return problems;
}

} // namespace

qint64 CertificateInfo::daysLeft(const QDateTime& now) const
{
    const qint64 seconds = now.secsTo(notAfter);
    if (seconds > 0)
        return (seconds + kSecondsPerDay - 1) / kSecondsPerDay;
    return -((-seconds) / kSecondsPerDay);
}

QStringList CertificateInfo::names() const
{
    if (!dnsNames.isEmpty())
        return dnsNames;
    return commonName.isEmpty() ? QStringList() : QStringList{commonName};
}

std::optional<CertificateInfo> readCertificateInfo(const QString& pem, QString* why)
{
    const QByteArray bytes = pem.toUtf8();
    MemBio bio(BIO_new_mem_buf(bytes.constData(), int(bytes.size())));
    ERR_clear_error();
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, refusePassphrase, nullptr));
    if (!cert) {
        if (why)
            *why = QStringLiteral("not a PEM certificate (-----BEGIN CERTIFICATE-----): %1")
                       .arg(lastOpensslError());
        ERR_clear_error();
        return std::nullopt;
    }
    CertificateInfo info;
    info.subject = nameText(X509_get_subject_name(cert.get()));
    info.issuer = nameText(X509_get_issuer_name(cert.get()));
    info.commonName = commonNameOf(X509_get_subject_name(cert.get()));
    info.dnsNames = dnsNamesOf(cert.get());
    info.notBefore = openssl::utcTime(X509_get0_notBefore(cert.get()));
    info.notAfter = openssl::utcTime(X509_get0_notAfter(cert.get()));
    info.keyType = keyTypeOf(X509_get0_pubkey(cert.get()));
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (X509_digest(cert.get(), EVP_sha256(), digest, &length) == 1) {
        QStringList pairs;
        for (unsigned int i = 0; i < length; ++i)
            pairs << QStringLiteral("%1").arg(digest[i], 2, 16, QLatin1Char('0')).toUpper();
        info.sha256 = pairs.join(QLatin1Char(':'));
    }
    // Issued by itself and signed with its own key (a leaf's key usage may leave out
    // keyCertSign, which X509_check_issued would hold against it).
    info.selfSigned =
        X509_NAME_cmp(X509_get_subject_name(cert.get()), X509_get_issuer_name(cert.get())) == 0 &&
        X509_verify(cert.get(), X509_get0_pubkey(cert.get())) == 1;
    ERR_clear_error();
    return info;
}

QString sslServing(const QList<Ssl>& ssls, const QString& name)
{
    const QString wanted = normalName(name);
    const auto find = [&ssls](const QString& n) {
        for (const Ssl& ssl : ssls) {
            if (serves(ssl) && ssl.serverNames().contains(n))
                return ssl.idString();
        }
        return QString();
    };
    if (QString id = find(wanted); !id.isEmpty())
        return id;
    // A certificate's wildcard stands for one label: "*.example.com" for "a.example.com".
    if (!wanted.startsWith(QLatin1Char('*'))) {
        const qsizetype dot = wanted.indexOf(QLatin1Char('.'));
        if (dot > 0) {
            if (QString id = find(QStringLiteral("*") + wanted.mid(dot)); !id.isEmpty())
                return id;
        }
    }
    return find(QStringLiteral("*"));
}

QString CertificateUsers::text() const
{
    QStringList parts;
    if (!listeners.isEmpty())
        parts << (listeners.size() == 1 ? QStringLiteral("listener ")
                                        : QStringLiteral("listeners ")) +
                     listeners.join(QStringLiteral(", "));
    if (!routes.isEmpty())
        parts << (routes.size() == 1 ? QStringLiteral("route ") : QStringLiteral("routes ")) +
                     routes.join(QStringLiteral(", "));
    if (!upstreams.isEmpty())
        parts << (upstreams.size() == 1 ? QStringLiteral("upstream ")
                                        : QStringLiteral("upstreams ")) +
                     upstreams.join(QStringLiteral(", "));
    return parts.join(QStringLiteral("; "));
}

CertificateUsers certificateUsers(const Config& config, const QString& sslId)
{
    CertificateUsers users;
    const Ssl* ssl = nullptr;
    for (const Ssl& s : config.ssls) {
        if (s.idString() == sslId)
            ssl = &s;
    }
    if (!ssl)
        return users;
    if (!ssl->isServer()) {
        const auto names = [&](const std::optional<Upstream>& upstream) {
            return upstream && upstream->tls && !upstream->tls->clientCertId.isUndefined() &&
                   !upstream->tls->clientCertId.isNull() &&
                   idText(upstream->tls->clientCertId) == sslId;
        };
        for (const Upstream& upstream : config.upstreams) {
            if (names(upstream))
                users.upstreams << upstream.idString();
        }
        for (const StreamRoute& route : config.streamRoutes) {
            if (names(route.upstream))
                users.upstreams << QStringLiteral("route %1").arg(route.idString());
        }
        for (const Service& service : config.services) {
            if (names(service.upstream))
                users.upstreams << QStringLiteral("service %1").arg(service.idString());
        }
        return users;
    }
    if (!serves(*ssl))
        return users;
    for (const ListenEntry& entry : config.streamProxy.tcp) {
        if (entry.terminatesTls())
            users.listeners << entry.text();
    }
    for (const StreamRoute& route : config.streamRoutes) {
        if (!route.sni.isEmpty() && sslServing(config.ssls, route.sni) == sslId)
            users.routes << route.idString();
    }
    return users;
}

QString ExpiryNotice::text() const
{
    const QString what =
        QStringLiteral("certificate %1 (%2)").arg(sslId, names.join(QStringLiteral(", ")));
    const QString when = notAfter.toString(QStringLiteral("yyyy-MM-dd HH:mm 'UTC'"));
    QString line;
    if (expired)
        line = QStringLiteral("%1 expired on %2").arg(what, when);
    else if (daysLeft <= 1)
        line = QStringLiteral("%1 expires within a day, on %2").arg(what, when);
    else
        line = QStringLiteral("%1 expires in %2 days, on %3").arg(what).arg(daysLeft).arg(when);
    const QString usedBy = users.text();
    return usedBy.isEmpty() ? line : QStringLiteral("%1; used by %2").arg(line, usedBy);
}

QList<ExpiryNotice> expiringCertificates(const Config& config, const QDateTime& now, int withinDays)
{
    QList<ExpiryNotice> notices;
    const QDateTime limit = now.addSecs(qint64(withinDays) * kSecondsPerDay);
    for (const Ssl& ssl : config.ssls) {
        if (ssl.isServer() && !serves(ssl))
            continue;
        const CertificateUsers users = certificateUsers(config, ssl.idString());
        if (users.isEmpty())
            continue;
        // The one of cert and certs (another key type) that ends first.
        std::optional<CertificateInfo> info;
        for (const QString& pem : QStringList{ssl.cert} + ssl.certs) {
            std::optional<CertificateInfo> one = readCertificateInfo(pem);
            if (one && (!info || one->notAfter < info->notAfter))
                info = std::move(one);
        }
        if (!info || info->notAfter > limit)
            continue;
        ExpiryNotice n;
        n.sslId = ssl.idString();
        n.names = ssl.serverNames();
        n.notAfter = info->notAfter;
        n.daysLeft = info->daysLeft(now);
        n.expired = info->expired(now);
        n.users = users;
        notices << n;
    }
    return notices;
}

std::optional<PemFile> readPemFile(const QString& path, QString* why)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *why = QStringLiteral("%1: cannot read it: %2").arg(path, file.errorString());
        return std::nullopt;
    }
    if (file.size() > kMaxPemFileBytes) {
        *why = QStringLiteral("%1: %2 bytes is too large for a PEM file (at most %3)")
                   .arg(path)
                   .arg(file.size())
                   .arg(kMaxPemFileBytes);
        return std::nullopt;
    }
    return PemFile{path, file.read(kMaxPemFileBytes + 1)};
}

ImportedSsl sslFromPemFiles(const PemFile& certFile, const std::optional<PemFile>& keyFile,
                            const QStringList& snis)
{
    ImportedSsl out;
    const PemBlocks fromCert = pemBlocks(QString::fromUtf8(certFile.bytes));
    const PemBlocks fromKey = keyFile ? pemBlocks(QString::fromUtf8(keyFile->bytes)) : PemBlocks{};
    const QString certName = fileName(certFile.path);
    if (fromCert.certificates.isEmpty())
        out.problems << Problem{certFile.path, QString(),
                                QStringLiteral("%1 holds no PEM certificate (-----BEGIN "
                                               "CERTIFICATE-----)")
                                    .arg(certName)};
    // The key: the key file's when one is given, else the one in the certificate file.
    const PemFile& keySource = keyFile ? *keyFile : certFile;
    const QStringList keys = keyFile ? fromKey.keys : fromCert.keys;
    const QString keyName = fileName(keySource.path);
    if (keys.isEmpty())
        out.problems << Problem{
            keySource.path, QString(),
            keyFile ? QStringLiteral("%1 holds no PEM private key (-----BEGIN PRIVATE KEY-----)")
                          .arg(keyName)
                    : QStringLiteral("%1 holds no PEM private key: choose the key file too")
                          .arg(keyName)};
    else if (keys.size() > 1)
        out.problems << Problem{
            keySource.path, QString(),
            QStringLiteral("%1 holds %2 private keys: give one").arg(keyName).arg(keys.size())};
    if (!out.problems.isEmpty())
        return out;

    Ssl& ssl = out.ssl;
    ssl.cert = fromCert.certificates.join(QLatin1Char('\n')) + QLatin1Char('\n');
    ssl.key = keys.first() + QLatin1Char('\n');
    QStringList names = snis;
    if (names.isEmpty()) {
        if (const std::optional<CertificateInfo> info = readCertificateInfo(ssl.cert))
            names = info->names();
    }
    if (names.isEmpty())
        out.problems << Problem{QStringLiteral("snis"), QString(),
                                QStringLiteral("the certificate in %1 names no host (no "
                                               "subjectAltName DNS name, no CN): give the SNIs")
                                    .arg(certName)};
    else
        out.problems << sniProblems(names);
    ssl.snis = names;

    // The admin API's check, its problems told by file.
    ConfigCheck check;
    checkSsl(ssl, QStringLiteral("ssl"), check);
    for (const Problem& p : std::as_const(check.errors)) {
        const bool onKey = p.path == QLatin1String("ssl.key");
        const PemFile& file = onKey ? keySource : certFile;
        out.problems << Problem{file.path, QString(),
                                QStringLiteral("%1: %2").arg(fileName(file.path), p.reason)};
    }
    return out;
}

QString newSslId(const Config& config, const QString& name)
{
    QString base;
    QString n = normalName(name);
    if (n == QLatin1String("*"))
        n = QStringLiteral("wildcard");
    else if (n.startsWith(QLatin1String("*.")))
        n = QStringLiteral("wildcard") + n.mid(1);
    for (const QChar c : std::as_const(n)) {
        const bool ok = (c >= u'a' && c <= u'z') || (c >= u'0' && c <= u'9') || c == u'-' ||
                        c == u'_' || c == u'.';
        base += ok ? c : QLatin1Char('-');
    }
    if (base.isEmpty())
        base = QStringLiteral("certificate");
    base.truncate(56);
    QStringList taken;
    for (const Ssl& ssl : config.ssls)
        taken << ssl.idString();
    QString id = base;
    for (int i = 2; taken.contains(id); ++i)
        id = QStringLiteral("%1-%2").arg(base).arg(i);
    return id;
}

namespace {

// caCert and caKey null: self-signed.
GeneratedCertificate createCertificate(const CertificateRequest& request, X509* caCert,
                                       EVP_PKEY* caKey)
{
    GeneratedCertificate out;
    QStringList names;
    for (const QString& n : request.names) {
        if (!n.trimmed().isEmpty())
            names << n.trimmed();
    }
    if (names.isEmpty())
        out.problems << Problem{QStringLiteral("names"), QString(),
                                QStringLiteral("give at least one name the certificate is for, "
                                               "e.g. db.example.com")};
    else
        for (const Problem& p : sniProblems(names))
            out.problems << Problem{QStringLiteral("names"), p.value, p.reason};
    if (request.days < 1 || request.days > kMaxValidityDays)
        out.problems << Problem{QStringLiteral("days"), QString::number(request.days),
                                QStringLiteral("validity must be 1 to %1 days, not %2")
                                    .arg(kMaxValidityDays)
                                    .arg(request.days)};
    const QDateTime from =
        request.notBefore.isValid() ? request.notBefore : QDateTime::currentDateTimeUtc();
    const qint64 start = from.toSecsSinceEpoch();
    const qint64 end = start + qint64(request.days) * kSecondsPerDay;
    if (caCert && out.problems.isEmpty()) {
        const QDateTime caEnd = openssl::utcTime(X509_get0_notAfter(caCert));
        if (caEnd.isValid() && end > caEnd.toSecsSinceEpoch())
            out.problems << Problem{
                QStringLiteral("days"), QString::number(request.days),
                QStringLiteral("a certificate cannot outlast the CA that signs it (valid until "
                               "%1): at most %2 days")
                    .arg(caEnd.toString(Qt::ISODate))
                    .arg((caEnd.toSecsSinceEpoch() - start) / kSecondsPerDay)};
    }
    if (!out.problems.isEmpty())
        return out;

    const auto fail = [&out](const QString& step) {
        out.problems << Problem{QStringLiteral("certificate"), QString(),
                                QStringLiteral("%1 failed: %2").arg(step, lastOpensslError())};
        return out;
    };
    ERR_clear_error();
    PKeyPtr key(request.key == KeyKind::Rsa2048 ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256"));
    if (!key)
        return fail(QStringLiteral("generating the key"));
    X509Ptr cert(X509_new());
    if (!cert || X509_set_version(cert.get(), 2) != 1)
        return fail(QStringLiteral("making the certificate"));
    // A random positive 127-bit serial, as RFC 5280 asks (at most 20 octets, unique).
    openssl::BigNum serial(BN_new());
    if (!serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
        !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())))
        return fail(QStringLiteral("making a serial number"));
    if (!ASN1_TIME_set(X509_getm_notBefore(cert.get()), time_t(start)) ||
        !ASN1_TIME_set(X509_getm_notAfter(cert.get()), time_t(end)))
        return fail(QStringLiteral("setting the validity"));
    X509_NAME* subject = X509_get_subject_name(cert.get());
    const QByteArray cn = names.first().toUtf8();
    // A CN holds at most 64 characters; the names are in subjectAltName anyway.
    if (cn.size() <= 64 &&
        X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(cn.constData()),
                                   int(cn.size()), -1, 0) != 1)
        return fail(QStringLiteral("setting the subject"));
    if (X509_set_issuer_name(cert.get(), caCert ? X509_get_subject_name(caCert) : subject) != 1 ||
        X509_set_pubkey(cert.get(), key.get()) != 1)
        return fail(QStringLiteral("setting the issuer and key"));
    QStringList san;
    for (const QString& n : std::as_const(names))
        san << QStringLiteral("DNS:") + n;
    const QByteArray sanText = san.join(QLatin1Char(',')).toUtf8();
    const QByteArray usage = request.key == KeyKind::Rsa2048
                                 ? QByteArrayLiteral("critical,digitalSignature,keyEncipherment")
                                 : QByteArrayLiteral("critical,digitalSignature");
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, caCert ? caCert : cert.get(), cert.get(), nullptr, nullptr, 0);
    std::vector<std::pair<int, const char*>> extensions = {
        {NID_basic_constraints, "critical,CA:FALSE"},
        {NID_key_usage, usage.constData()},
        {NID_ext_key_usage, "serverAuth"},
        {NID_subject_key_identifier, "hash"},
        {NID_subject_alt_name, sanText.constData()}};
    if (caCert)
        extensions.emplace_back(NID_authority_key_identifier, "keyid");
    for (const auto& [nid, value] : extensions) {
        openssl::Extension ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
        if (!ext || X509_add_ext(cert.get(), ext.get(), -1) != 1)
            return fail(QStringLiteral("adding %1").arg(QLatin1String(OBJ_nid2ln(nid))));
    }
    if (X509_sign(cert.get(), caKey ? caKey : key.get(), EVP_sha256()) <= 0)
        return fail(QStringLiteral("signing the certificate"));
    MemBio certBio(BIO_new(BIO_s_mem()));
    MemBio keyBio(BIO_new(BIO_s_mem()));
    if (PEM_write_bio_X509(certBio.get(), cert.get()) != 1 ||
        PEM_write_bio_PrivateKey(keyBio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
            1)
        return fail(QStringLiteral("writing PEM"));
    out.certPem = bioText(certBio.get());
    out.keyPem = bioText(keyBio.get());
    ERR_clear_error();
    return out;
}

} // namespace

GeneratedCertificate createSelfSigned(const CertificateRequest& request)
{
    return createCertificate(request, nullptr, nullptr);
}

GeneratedCertificate createSignedBy(const CertificateRequest& request, X509* caCert,
                                    EVP_PKEY* caKey)
{
    return createCertificate(request, caCert, caKey);
}

} // namespace sg
