#pragma once
// What the window's Certificates view needs to know of the config's ssl objects, with OpenSSL:
// a certificate's details (subject, issuer, validity, key type), which listeners and routes an
// ssl serves, the certificates in use that expire soon, an ssl made from PEM files (checked as
// the admin API checks one, each problem naming the file), and a certificate made here,
// self-signed or signed by a CA (the development CA's issue() is that with its own CA). Private
// keys are read and written only as PEM texts handed in and out; nothing here shows or logs one.
// Pure functions, safe on any thread (generation takes visible time for RSA: call it off the GUI
// thread).

#include "model/problem.h"
#include "model/streamroute.h"

#include <QDateTime>
#include <QString>
#include <QStringList>
#include <optional>

using X509 = struct x509_st;
using EVP_PKEY = struct evp_pkey_st;

namespace sg {

struct CertificateInfo
{
    QString subject;      // one line, e.g. "CN=db.example.com, O=Example"
    QString issuer;       // the same form; equal to subject for a self-signed certificate
    QString commonName;   // the subject's CN, empty when it has none
    QStringList dnsNames; // subjectAltName DNS entries, in order
    QDateTime notBefore;  // UTC
    QDateTime notAfter;   // UTC
    QString keyType;      // "RSA 2048", "ECDSA P-256", "Ed25519", ...
    QString sha256;       // fingerprint of the DER certificate, upper-case hex pairs with ':'
    bool selfSigned = false;

    // Whole days from `now` to notAfter, rounded down; negative once it has expired (-1 on the
    // day after).
    qint64 daysLeft(const QDateTime& now) const;
    bool expired(const QDateTime& now) const { return notAfter <= now; }
    // The names the certificate is for: its DNS names, or its CN when it has none.
    QStringList names() const;
};

// The details of the first certificate of a PEM text (the leaf of a chain); nullopt with *why
// set when there is none.
std::optional<CertificateInfo> readCertificateInfo(const QString& pem, QString* why = nullptr);

// The id of the enabled server ssl presented to a client that asks for `name`, as the TLS
// listener chooses it (proxy/tlsserver.h): the exact name first, then the wildcard with the
// longest suffix that stands for one more label, then "*". A route's pattern (`*.example.com`)
// is looked up as written first, so the ssl that lists that pattern serves it. Empty: none.
QString sslServing(const QList<Ssl>& ssls, const QString& name);

// Who needs one ssl: for a server ssl (enabled), the TLS listeners that present it (every
// `tls: true` entry presents each enabled server ssl, chosen by SNI) and the routes whose `sni`
// it serves; for a client ssl, the upstreams whose tls.client_cert_id names it (an inline one as
// "route ID" or "service ID"). Empty for a disabled server ssl.
struct CertificateUsers
{
    QStringList listeners; // ListenEntry::text() of each TLS listener
    QStringList routes;    // route ids
    QStringList upstreams; // upstream ids, "route ID", "service ID"
    bool isEmpty() const { return listeners.isEmpty() && routes.isEmpty() && upstreams.isEmpty(); }
    // "listener 0.0.0.0:9443, routes mysql, pg"; empty when nothing uses it.
    QString text() const;
};
CertificateUsers certificateUsers(const Config& config, const QString& sslId);

// A certificate in use (CertificateUsers not empty: a server one presented, a client one named
// by an upstream) that expires within `withinDays` of `now`,
// or has expired; of an ssl with more pairs (`certs`), the one that ends first.
struct ExpiryNotice
{
    QString sslId;
    QStringList names; // its SNIs
    QDateTime notAfter;
    qint64 daysLeft = 0;
    bool expired = false;
    CertificateUsers users;
    // One line for the event log: "certificate db (db.example.com) expires in 3 days, on
    // 2026-12-09 10:00 UTC; used by listener 9443, route mysql".
    QString text() const;
};
QList<ExpiryNotice> expiringCertificates(const Config& config, const QDateTime& now,
                                         int withinDays = 14);

// An ssl object from PEM files: the certificate file holds the certificate (and its chain,
// sent with it) and possibly the private key; the key file, when given, holds the key. The
// names are `snis` when given, else the certificate's names(). The result is checked as the
// admin API checks an ssl (config/sslcheck.h, model decodeSsl); every problem names the file
// (or "snis") and the reason. The id is left empty.
struct PemFile
{
    QString path;     // shown in problems
    QByteArray bytes; // the file's content
};
struct ImportedSsl
{
    Ssl ssl;
    Problems problems; // nothing is to be stored unless empty
};
ImportedSsl sslFromPemFiles(const PemFile& certFile, const std::optional<PemFile>& keyFile,
                            const QStringList& snis = {});
// Reads a PEM file for sslFromPemFiles (at most 1 MiB); nullopt with *why naming the file.
std::optional<PemFile> readPemFile(const QString& path, QString* why);

// An id for a new ssl from its first name ("*.example.com" -> "wildcard.example.com"), made
// unique among the config's ssls with "-2", "-3", ...; APISIX's id characters only.
QString newSslId(const Config& config, const QString& name);

// A server certificate and its key, both PEM (the key PKCS#8, no passphrase), self-signed or
// signed by a CA.
enum class KeyKind { Rsa2048, EcdsaP256 };
enum class CertificateIssuer { Self, DevelopmentCa };
struct CertificateRequest
{
    QStringList names; // DNS names; the first is also the CN
    KeyKind key = KeyKind::EcdsaP256;
    int days = 365;                                     // validity from notBefore
    QDateTime notBefore;                                // invalid: now
    CertificateIssuer issuer = CertificateIssuer::Self; // who signs it (the caller acts on it)
};
struct GeneratedCertificate
{
    QString certPem;
    QString keyPem;
    Problems problems; // names, days: field, value and reason; OpenSSL failures
    bool ok() const { return problems.isEmpty(); }
};
GeneratedCertificate createSelfSigned(const CertificateRequest& request);
// Signed by the CA `caCert` with `caKey`: its issuer and authority key identifier are the CA's,
// and it may not outlast the CA (a problem on "days" says until when it can last).
GeneratedCertificate createSignedBy(const CertificateRequest& request, X509* caCert,
                                    EVP_PKEY* caKey);

} // namespace sg
