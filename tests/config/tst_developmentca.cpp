// The development CA behind database TLS: made on first use (key 0600 in a 0700 directory),
// issuing a server certificate for the names a local client uses that chains to it, kept and
// reused, renewed before it ends (and the CA too), exported as PEM, signing certificates for the
// Certificates view; and the route setting that turns it on, which the APISIX export names when
// it leaves it out.
#include "config/apisixyaml.h"
#include "config/developmentca.h"
#include "model/codec.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

using namespace sg;

namespace {

X509* certOf(const QByteArray& pem)
{
    BIO* bio = BIO_new_mem_buf(pem.constData(), int(pem.size()));
    X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    return cert;
}

// OpenSSL's verdict on `cert` against `ca` as the only trust anchor, at `when`.
int verify(const QByteArray& certPem, const QByteArray& caPem, const QDateTime& when)
{
    X509* cert = certOf(certPem);
    X509* ca = certOf(caPem);
    X509_STORE* store = X509_STORE_new();
    X509_STORE_add_cert(store, ca);
    X509_STORE_CTX* ctx = X509_STORE_CTX_new();
    X509_STORE_CTX_init(ctx, store, cert, nullptr);
    X509_STORE_CTX_set_time(ctx, 0, time_t(when.toSecsSinceEpoch()));
    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
    const int ok = X509_verify_cert(ctx);
    const int error = ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    X509_free(ca);
    X509_free(cert);
    return error;
}

bool covers(const QByteArray& certPem, const QString& name)
{
    X509* cert = certOf(certPem);
    const QByteArray n = name.toUtf8();
    const bool ip = name.contains(u':') || name.front().isDigit();
    const bool ok = ip ? X509_check_ip_asc(cert, n.constData(), 0) == 1
                       : X509_check_host(cert, n.constData(), size_t(n.size()), 0, nullptr) == 1;
    X509_free(cert);
    return ok;
}

int modeOf(const QString& path)
{
    struct stat st = {};
    if (::stat(QFile::encodeName(path).constData(), &st) != 0)
        return -1;
    return int(st.st_mode & 0777);
}

const QDateTime kNow = QDateTime(QDate(2026, 12, 6), QTime(12, 0), Qt::UTC);

} // namespace

class TestDevelopmentCa : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void madeOnFirstUseAndKeptPrivate()
    {
        QTemporaryDir tmp;
        const QString dir = DevelopmentCa::directoryFor(tmp.filePath(QStringLiteral("sg.json")));
        QCOMPARE(dir, tmp.filePath(QStringLiteral("development-ca")));
        QVERIFY(!QFileInfo::exists(dir));
        DevelopmentCa ca(dir);
        QString error;
        const QByteArray pem = ca.caCertificatePem(&error, kNow);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QVERIFY(pem.startsWith("-----BEGIN CERTIFICATE-----"));
        QCOMPARE(modeOf(dir), 0700);
        QCOMPARE(modeOf(dir + QStringLiteral("/ca.key")), 0600);
        QCOMPARE(ca.caCertificatePath(), dir + QStringLiteral("/ca.crt"));
        // A CA that signs, for nothing but this machine's servers (pathlen 0).
        X509* cert = certOf(pem);
        QVERIFY(X509_check_ca(cert) >= 1);
        QCOMPARE(X509_check_issued(cert, cert), X509_V_OK);
        X509_free(cert);
        // Kept: the same CA next time, and for another DevelopmentCa on the directory.
        QCOMPARE(DevelopmentCa(dir).caCertificatePem(nullptr, kNow.addDays(1)), pem);
    }

    void issuesServerCertificateForLocalNames()
    {
        QTemporaryDir tmp;
        DevelopmentCa ca(tmp.filePath(QStringLiteral("ca")));
        const QStringList names = DevelopmentCa::defaultNames();
        QVERIFY(names.contains(QStringLiteral("127.0.0.1")));
        QVERIFY(names.contains(QStringLiteral("::1")));
        QVERIFY(names.contains(QStringLiteral("localhost")));
        const DevelopmentCredentials c = ca.serverCredentials(names, kNow);
        QVERIFY2(c.ok(), qPrintable(c.error));
        QCOMPARE(verify(c.certPem, c.caPem, kNow), X509_V_OK);
        for (const QString& name : names)
            QVERIFY2(covers(c.certPem, name), qPrintable(name));
        QVERIFY(!covers(c.certPem, QStringLiteral("example.com")));
        QVERIFY(!covers(c.certPem, QStringLiteral("10.0.0.1")));
        X509* cert = certOf(c.certPem);
        QCOMPARE(X509_check_ca(cert), 0); // a server certificate cannot sign others
        X509_free(cert);
        QCOMPARE(c.notAfter, kNow.addDays(DevelopmentCa::kServerDays));
        QCOMPARE(modeOf(tmp.filePath(QStringLiteral("ca/server.key"))), 0600);
        // Cached: the same certificate and key while it lasts.
        const DevelopmentCredentials again = ca.serverCredentials(names, kNow.addDays(100));
        QCOMPARE(again.certPem, c.certPem);
        QCOMPARE(again.keyPem, c.keyPem);
    }

    void renewsBeforeExpiry()
    {
        QTemporaryDir tmp;
        DevelopmentCa ca(tmp.filePath(QStringLiteral("ca")));
        const DevelopmentCredentials first = ca.serverCredentials({"localhost"}, kNow);
        QVERIFY(first.ok());
        // Within the renewal margin of its end: a new one, from the same CA.
        const QDateTime late =
            kNow.addDays(DevelopmentCa::kServerDays - DevelopmentCa::kRenewDays + 1);
        const DevelopmentCredentials renewed = ca.serverCredentials({"localhost"}, late);
        QVERIFY(renewed.ok());
        QVERIFY(renewed.certPem != first.certPem);
        QCOMPARE(renewed.caPem, first.caPem);
        QCOMPARE(verify(renewed.certPem, renewed.caPem, late), X509_V_OK);
        QCOMPARE(verify(first.certPem, first.caPem, kNow.addDays(DevelopmentCa::kServerDays + 1)),
                 X509_V_ERR_CERT_HAS_EXPIRED);
        // A name it lacks: a new one with it.
        const DevelopmentCredentials named = ca.serverCredentials({"localhost", "db.test"}, late);
        QVERIFY(named.certPem != renewed.certPem);
        QVERIFY(covers(named.certPem, QStringLiteral("db.test")));
        // The CA near its own end is replaced, and so is what it issued.
        const QDateTime caLate = kNow.addDays(DevelopmentCa::kCaDays - DevelopmentCa::kRenewDays);
        const DevelopmentCredentials newCa = ca.serverCredentials({"localhost"}, caLate);
        QVERIFY(newCa.ok());
        QVERIFY(newCa.caPem != first.caPem);
        QCOMPARE(verify(newCa.certPem, newCa.caPem, caLate), X509_V_OK);
        QVERIFY(verify(newCa.certPem, first.caPem, caLate) != X509_V_OK);
    }

    void brokenFilesAreMadeAgain()
    {
        QTemporaryDir tmp;
        DevelopmentCa ca(tmp.filePath(QStringLiteral("ca")));
        const QByteArray pem = ca.caCertificatePem(nullptr, kNow);
        QFile key(tmp.filePath(QStringLiteral("ca/ca.key")));
        QVERIFY(key.open(QIODevice::WriteOnly | QIODevice::Truncate));
        key.write("not a key");
        key.close();
        const DevelopmentCredentials c = ca.serverCredentials({"localhost"}, kNow);
        QVERIFY2(c.ok(), qPrintable(c.error));
        QVERIFY(c.caPem != pem);
        QCOMPARE(verify(c.certPem, c.caPem, kNow), X509_V_OK);
    }

    void exportsThePem()
    {
        QTemporaryDir tmp;
        DevelopmentCa ca(tmp.filePath(QStringLiteral("ca")));
        const QString file = tmp.filePath(QStringLiteral("exported.pem"));
        QCOMPARE(ca.exportCertificate(file, kNow), QString());
        QFile out(file);
        QVERIFY(out.open(QIODevice::ReadOnly));
        QCOMPARE(out.readAll(), ca.caCertificatePem(nullptr, kNow));
        const QString bad = tmp.filePath(QStringLiteral("no/such/dir/ca.pem"));
        const QString error = ca.exportCertificate(bad, kNow);
        QVERIFY2(error.contains(bad), qPrintable(error));
    }

    void issuesCertificatesForTheCertificatesView()
    {
        QTemporaryDir tmp;
        DevelopmentCa ca(tmp.filePath(QStringLiteral("ca")));
        CertificateRequest r;
        r.names = {"db.test", "*.db.test"};
        r.key = KeyKind::Rsa2048;
        r.days = 90;
        r.notBefore = kNow;
        r.issuer = CertificateIssuer::DevelopmentCa;
        const GeneratedCertificate g = ca.issue(r, kNow); // the CA is made on first use
        QVERIFY2(g.ok(), qPrintable(formatProblems(g.problems)));
        const QByteArray caPem = ca.caCertificatePem(nullptr, kNow);
        QCOMPARE(verify(g.certPem.toUtf8(), caPem, kNow), X509_V_OK);
        QCOMPARE(verify(g.certPem.toUtf8(), caPem, kNow.addDays(91)), X509_V_ERR_CERT_HAS_EXPIRED);
        QVERIFY(covers(g.certPem.toUtf8(), QStringLiteral("x.db.test")));
        const std::optional<CertificateInfo> info = readCertificateInfo(g.certPem);
        QVERIFY(info);
        QVERIFY(!info->selfSigned);
        QVERIFY2(info->issuer.contains(QStringLiteral("Streamgate development CA")),
                 qPrintable(info->issuer));
        QCOMPARE(info->keyType, QStringLiteral("RSA 2048"));
        // The CA's own server certificate is not touched by it.
        QVERIFY(!QFile::exists(tmp.filePath(QStringLiteral("ca/server.crt"))));

        // It cannot outlast the CA: the problem says until when it can last.
        r.days = DevelopmentCa::kCaDays + 1;
        const GeneratedCertificate tooLong = ca.issue(r, kNow);
        QCOMPARE(tooLong.problems.size(), 1);
        QCOMPARE(tooLong.problems.first().path, QStringLiteral("days"));
        QCOMPARE(tooLong.problems.first().value, QString::number(DevelopmentCa::kCaDays + 1));
        QVERIFY2(tooLong.problems.first().reason.contains(QStringLiteral("cannot outlast the CA")),
                 qPrintable(tooLong.problems.first().reason));
        QVERIFY(tooLong.certPem.isEmpty());

        // No place for the CA: said as the problem.
        QFile blocker(tmp.filePath(QStringLiteral("file")));
        QVERIFY(blocker.open(QIODevice::WriteOnly));
        blocker.close();
        r.days = 30;
        const GeneratedCertificate none = DevelopmentCa(tmp.filePath("file/ca")).issue(r, kNow);
        QCOMPARE(none.problems.size(), 1);
        QVERIFY2(none.problems.first().reason.contains(QStringLiteral("development CA")),
                 qPrintable(none.problems.first().reason));
    }

    void unusableDirectoryIsSaid()
    {
        QTemporaryDir tmp;
        QFile blocker(tmp.filePath(QStringLiteral("file")));
        QVERIFY(blocker.open(QIODevice::WriteOnly));
        blocker.close();
        DevelopmentCa ca(tmp.filePath(QStringLiteral("file/ca")));
        const DevelopmentCredentials c = ca.serverCredentials({"localhost"}, kNow);
        QVERIFY(!c.ok());
        QVERIFY2(c.error.contains(QStringLiteral("development CA")), qPrintable(c.error));
        QVERIFY2(c.error.contains(tmp.filePath(QStringLiteral("file"))), qPrintable(c.error));
    }

    void routeSettingIsCheckedAndNamedByTheExport()
    {
        const QByteArray json = R"({"stream_routes": [{"id": "pg", "server_port": 15432,
            "upstream": {"nodes": {"127.0.0.1:5432": 1}}}],
            "streamgate": {"routes": {"pg": {"database_tls": true,
                                             "database_server_tls": "require"}}}})";
        const Decoded<Config> d = decodeConfig(QJsonDocument::fromJson(json).object());
        QVERIFY2(d.ok(), qPrintable(formatProblems(d.problems)));
        QVERIFY(d.value.streamgate.databaseTlsFor(QStringLiteral("pg")));
        QVERIFY(!d.value.streamgate.databaseTlsFor(QStringLiteral("other")));
        QCOMPARE(toString(d.value.streamgate.databaseServerTlsFor(QStringLiteral("pg"))),
                 QStringLiteral("require"));
        QCOMPARE(toString(d.value.streamgate.databaseServerTlsFor(QStringLiteral("other"))),
                 QStringLiteral("off"));
        QCOMPARE(encodeConfig(d.value).value("streamgate").toObject(),
                 QJsonDocument::fromJson(json).object().value("streamgate").toObject());

        QByteArray wrong = json;
        wrong.replace("\"database_tls\": true", "\"database_tls\": \"yes\"");
        const Decoded<Config> bad = decodeConfig(QJsonDocument::fromJson(wrong).object());
        QVERIFY(!bad.ok());
        QVERIFY2(formatProblems(bad.problems).contains(u"streamgate.routes.pg.database_tls"),
                 qPrintable(formatProblems(bad.problems)));

        QTemporaryDir tmp;
        const ApisixExport exported = exportApisix(d.value, tmp.path());
        QVERIFY(exported.problems.isEmpty());
        QVERIFY2(formatProblems(exported.warnings).contains(u"streamgate.routes.pg.database_tls"),
                 qPrintable(formatProblems(exported.warnings)));
        QVERIFY2(
            formatProblems(exported.warnings).contains(u"streamgate.routes.pg.database_server_tls"),
            qPrintable(formatProblems(exported.warnings)));
    }
};

QTEST_GUILESS_MAIN(TestDevelopmentCa)
#include "tst_developmentca.moc"
