#pragma once
// DevelopmentCa is Streamgate's local certificate authority for database TLS
// (streamgate.routes.<id>.database_tls): made on first use in a directory of its own beside the
// config (`development-ca/`, 0700: ca.crt, ca.key, server.crt, server.key, every file 0600), it
// issues the server certificate Streamgate presents when it answers a database client's TLS
// request itself, for the names a client on this machine uses (127.0.0.1, ::1, localhost and
// the machine's host name). The server certificate is kept and used again until it comes within
// kRenewDays of its end, its names change or it is not the CA's; then a new one is issued. A CA
// within kRenewDays of its end is replaced (the user must trust the new one). The user trusts
// the CA by giving its certificate (caCertificatePem(), exportCertificate()) to the client.
// Thread-safe: the files are read and written under one process-wide lock; nothing here runs
// on a GUI thread by design (key generation and file writes).

#include "config/certificates.h"

#include <QByteArray>
#include <QDateTime>
#include <QString>
#include <QStringList>

namespace sg {

struct DevelopmentCredentials
{
    QByteArray caPem;   // the CA's certificate
    QByteArray certPem; // the server certificate
    QByteArray keyPem;  // its private key
    QDateTime notAfter; // the server certificate's end
    QStringList names;  // what it was issued for
    QString error;      // why there is none (empty on success)
    bool ok() const { return error.isEmpty(); }
};

class DevelopmentCa
{
public:
    static constexpr int kCaDays = 3650;
    static constexpr int kServerDays = 397; // what browsers and most TLS stacks still accept
    static constexpr int kRenewDays = 30;

    // dir: where the CA lives (directoryFor(config path) for the application).
    explicit DevelopmentCa(QString dir);

    // `development-ca` beside the config file at configPath.
    static QString directoryFor(const QString& configPath);
    // 127.0.0.1, ::1, localhost and this machine's host name (when it has one).
    static QStringList defaultNames();

    const QString& directory() const { return m_dir; }
    QString caCertificatePath() const;

    // The CA's certificate (PEM), made with its key when there is none yet; empty with *error
    // set when it cannot be made or read.
    QByteArray caCertificatePem(QString* error = nullptr,
                                const QDateTime& now = QDateTime::currentDateTimeUtc());
    // Writes the CA's certificate to `file` (made first when needed). Empty on success.
    QString exportCertificate(const QString& file,
                              const QDateTime& now = QDateTime::currentDateTimeUtc());
    // The server certificate for `names`, kept or newly issued (see above).
    DevelopmentCredentials
    serverCredentials(const QStringList& names = defaultNames(),
                      const QDateTime& now = QDateTime::currentDateTimeUtc());

    // A certificate for the Certificates view signed by the CA (made first when needed), as
    // createSignedBy makes it: clients that trust the CA trust it.
    GeneratedCertificate issue(const CertificateRequest& request,
                               const QDateTime& now = QDateTime::currentDateTimeUtc());

private:
    QString m_dir;
};

} // namespace sg
