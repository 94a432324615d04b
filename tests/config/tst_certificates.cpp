// The Certificates view's core helper (config/certificates.h): self-signed certificates made
// with OpenSSL and read back by the real openssl command, PEM files imported with the admin
// API's check (a key of another certificate refused naming the file), which ssl serves which
// name, listeners and routes, and the certificates in use that expire soon.
#include "config/certificates.h"
#include "config/configstore.h"
#include "config/sslcheck.h"
#include "model/codec.h"
#include "testcerts.h"
#include "testfiles.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

using namespace sg;

namespace {

Config configOf(const QJsonObject& json)
{
    const Decoded<Config> d = decodeConfig(json);
    if (!d.ok())
        qFatal("config does not decode: %s", qPrintable(formatProblems(d.problems)));
    return d.value;
}

QJsonObject sslJson(const QString& id, const QStringList& snis, const GeneratedCertificate& pem,
                    int status = 1)
{
    return QJsonObject{{"id", id},
                       {"snis", QJsonArray::fromStringList(snis)},
                       {"cert", pem.certPem},
                       {"key", pem.keyPem},
                       {"status", status}};
}

GeneratedCertificate selfSigned(const QStringList& names, int days, const QDateTime& notBefore = {})
{
    CertificateRequest r;
    r.names = names;
    r.days = days;
    r.notBefore = notBefore;
    GeneratedCertificate g = createSelfSigned(r);
    if (!g.ok())
        qFatal("no certificate: %s", qPrintable(formatProblems(g.problems)));
    return g;
}

QString openssl(const QStringList& args, const QByteArray& input)
{
    QProcess p;
    p.start(QStringLiteral("openssl"), args);
    p.write(input);
    p.closeWriteChannel();
    if (!p.waitForFinished(20000) || p.exitCode() != 0)
        return QStringLiteral("failed: ") + QString::fromLocal8Bit(p.readAllStandardError());
    return QString::fromLocal8Bit(p.readAllStandardOutput());
}

Problems checked(const QString& cert, const QString& key)
{
    Ssl ssl;
    ssl.cert = cert;
    ssl.key = key;
    ssl.snis = {QStringLiteral("x.example.com")};
    ConfigCheck check;
    checkSsl(ssl, QStringLiteral("ssl"), check);
    return check.errors;
}

} // namespace

class TestCertificates : public QObject
{
    Q_OBJECT

private slots:
    void selfSignedEcdsaReadByOpenssl()
    {
        CertificateRequest r;
        r.names = {"db.example.com", "*.db.example.com"};
        r.days = 30;
        const QDateTime before = QDateTime::currentDateTimeUtc();
        const GeneratedCertificate g = createSelfSigned(r);
        QVERIFY2(g.ok(), qPrintable(formatProblems(g.problems)));
        QVERIFY(g.keyPem.startsWith("-----BEGIN PRIVATE KEY-----"));
        QVERIFY2(checked(g.certPem, g.keyPem).isEmpty(),
                 qPrintable(formatProblems(checked(g.certPem, g.keyPem))));

        QString why;
        const std::optional<CertificateInfo> info = readCertificateInfo(g.certPem, &why);
        QVERIFY2(info, qPrintable(why));
        QCOMPARE(info->keyType, QStringLiteral("ECDSA P-256"));
        QCOMPARE(info->commonName, QStringLiteral("db.example.com"));
        QCOMPARE(info->subject, QStringLiteral("CN=db.example.com"));
        QCOMPARE(info->issuer, info->subject);
        QVERIFY(info->selfSigned);
        QCOMPARE(info->dnsNames, (QStringList{"db.example.com", "*.db.example.com"}));
        QCOMPARE(info->names(), info->dnsNames);
        QCOMPARE(info->daysLeft(before), 30);
        QVERIFY(!info->expired(before));
        QVERIFY(qAbs(info->notBefore.secsTo(before)) <= 2);

        // The real openssl command reads the same certificate.
        const QString text = openssl({"x509", "-noout", "-fingerprint", "-sha256", "-ext",
                                      "subjectAltName,basicConstraints,extendedKeyUsage"},
                                     g.certPem.toUtf8());
        QVERIFY2(text.contains("Fingerprint=" + info->sha256), qPrintable(text));
        QVERIFY2(text.contains("DNS:db.example.com, DNS:*.db.example.com"), qPrintable(text));
        QVERIFY2(text.contains("CA:FALSE"), qPrintable(text));
        QVERIFY2(text.contains("TLS Web Server Authentication"), qPrintable(text));
        const QString key = openssl({"pkey", "-noout", "-text"}, g.keyPem.toUtf8());
        QVERIFY2(key.contains("NIST CURVE: P-256"), qPrintable(key));
    }

    void selfSignedRsa()
    {
        CertificateRequest r;
        r.names = {"rsa.example.com"};
        r.key = KeyKind::Rsa2048;
        r.days = 1;
        const GeneratedCertificate g = createSelfSigned(r);
        QVERIFY2(g.ok(), qPrintable(formatProblems(g.problems)));
        QVERIFY(checked(g.certPem, g.keyPem).isEmpty());
        const std::optional<CertificateInfo> info = readCertificateInfo(g.certPem);
        QVERIFY(info);
        QCOMPARE(info->keyType, QStringLiteral("RSA 2048"));
        QCOMPARE(info->daysLeft(QDateTime::currentDateTimeUtc()), 1);
        const QString text = openssl({"x509", "-noout", "-text"}, g.certPem.toUtf8());
        QVERIFY2(text.contains("Public-Key: (2048 bit)"), qPrintable(text));
        QVERIFY2(text.contains("Key Encipherment"), qPrintable(text));
    }

    void selfSignedRefusesBadInput()
    {
        CertificateRequest r;
        r.names = {" "};
        r.days = 0;
        GeneratedCertificate g = createSelfSigned(r);
        QCOMPARE(g.problems.size(), 2);
        QCOMPARE(g.problems.at(0).path, QStringLiteral("names"));
        QCOMPARE(g.problems.at(1).path, QStringLiteral("days"));
        QCOMPARE(g.problems.at(1).value, QStringLiteral("0"));
        QVERIFY(g.certPem.isEmpty() && g.keyPem.isEmpty());

        r.names = {"ok.example.com", "not a name"};
        r.days = 10;
        g = createSelfSigned(r);
        QCOMPARE(g.problems.size(), 1);
        QCOMPARE(g.problems.first().path, QStringLiteral("names"));
        QCOMPARE(g.problems.first().value, QStringLiteral("not a name"));
        QVERIFY2(g.problems.first().reason.startsWith("\"not a name\" must be a host name"),
                 qPrintable(g.problems.first().reason));
    }

    void unreadableCertificate()
    {
        QString why;
        QVERIFY(!readCertificateInfo("hello", &why));
        QVERIFY2(why.startsWith("not a PEM certificate"), qPrintable(why));
    }

    void importSeparateAndCombinedFiles()
    {
        sgtest::TestCerts certs;
        QVERIFY2(certs.makeLeaf("a", {}, "a.example.com", {"a.example.com", "www.a.example.com"}),
                 qPrintable(certs.error()));
        const PemFile cert{certs.path("a", "crt"), certs.pem("a", "crt").toUtf8()};
        const PemFile key{certs.path("a", "key"), certs.pem("a", "key").toUtf8()};

        ImportedSsl imported = sslFromPemFiles(cert, key);
        QVERIFY2(imported.problems.isEmpty(), qPrintable(formatProblems(imported.problems)));
        QCOMPARE(imported.ssl.snis, (QStringList{"a.example.com", "www.a.example.com"}));
        QVERIFY(imported.ssl.cert.contains("BEGIN CERTIFICATE"));
        QVERIFY(imported.ssl.key.contains("PRIVATE KEY"));
        QVERIFY(imported.ssl.isServer());

        // One file with both, in either order; names given replace the certificate's.
        const PemFile both{"/tmp/both.pem", key.bytes + cert.bytes};
        imported = sslFromPemFiles(both, std::nullopt, {"other.example.com"});
        QVERIFY2(imported.problems.isEmpty(), qPrintable(formatProblems(imported.problems)));
        QCOMPARE(imported.ssl.snis, QStringList{"other.example.com"});

        // The certificate alone: the key is missing, said of that file.
        imported = sslFromPemFiles(cert, std::nullopt);
        QCOMPARE(imported.problems.size(), 1);
        QCOMPARE(imported.problems.first().path, cert.path);
        QVERIFY2(imported.problems.first().reason.contains("a.crt holds no PEM private key"),
                 qPrintable(imported.problems.first().reason));

        // The files swapped: no certificate in the first.
        imported = sslFromPemFiles(key, cert);
        QCOMPARE(imported.problems.first().path, key.path);
        QVERIFY(imported.problems.first().reason.contains("a.key holds no PEM certificate"));

        // A bad name given.
        imported = sslFromPemFiles(cert, key, {"bad name"});
        QCOMPARE(imported.problems.size(), 1);
        QCOMPARE(imported.problems.first().path, QStringLiteral("snis"));
    }

    void importRefusesKeyOfAnotherCertificate()
    {
        sgtest::TestCerts certs;
        QVERIFY(certs.makeLeaf("a", {}, "a.example.com", {"a.example.com"}));
        QVERIFY(certs.makeLeaf("b", {}, "b.example.com", {"b.example.com"}));
        const PemFile cert{certs.path("a", "crt"), certs.pem("a", "crt").toUtf8()};
        const PemFile otherKey{certs.path("b", "key"), certs.pem("b", "key").toUtf8()};
        const ImportedSsl imported = sslFromPemFiles(cert, otherKey);
        QCOMPARE(imported.problems.size(), 1);
        QCOMPARE(imported.problems.first().path, otherKey.path);
        // The admin API's words, after the file's name.
        QCOMPARE(imported.problems.first().reason,
                 QStringLiteral("b.key: key does not match cert: it is the private key of "
                                "another certificate"));
        QVERIFY(!imported.problems.first().text().contains("PRIVATE KEY-----"));
    }

    void readPemFileLimits()
    {
        QTemporaryDir dir;
        QString why;
        QVERIFY(!readPemFile(dir.filePath("missing.pem"), &why));
        QVERIFY2(why.startsWith(dir.filePath("missing.pem") + ": cannot read it"), qPrintable(why));
        const QString big = dir.filePath("big.pem");
        QVERIFY(sgtest::writeFile(big, QByteArray(1024 * 1024 + 1, 'x')));
        QVERIFY(!readPemFile(big, &why));
        QVERIFY2(why.contains("too large"), qPrintable(why));
    }

    void servingNamesListenersAndRoutes()
    {
        const GeneratedCertificate pem = selfSigned({"a.example.com"}, 30);
        const Config config = configOf(QJsonObject{
            {"stream_proxy",
             QJsonObject{{"tcp", QJsonArray{QJsonObject{{"addr", "127.0.0.1:9443"}, {"tls", true}},
                                            9000}}}},
            {"ssls",
             QJsonArray{sslJson("a", {"a.example.com"}, pem), sslJson("w", {"*.example.com"}, pem),
                        sslJson("star", {"*"}, pem), sslJson("d", {"d.example.com"}, pem, 0)}},
            {"stream_routes",
             QJsonArray{
                 QJsonObject{{"id", "ra"}, {"sni", "A.example.com"}, {"server_port", 9443}},
                 QJsonObject{{"id", "rw"}, {"sni", "*.example.com"}, {"server_port", 9443}},
                 QJsonObject{{"id", "rb"}, {"sni", "b.example.com"}, {"server_port", 9443}},
                 QJsonObject{{"id", "rd"}, {"sni", "d.example.com"}, {"server_port", 9443}},
                 QJsonObject{{"id", "deep"}, {"sni", "x.b.example.com"}, {"server_port", 9443}},
                 QJsonObject{{"id", "plain"}, {"server_port", 9000}}}}});
        QCOMPARE(sslServing(config.ssls, "a.example.com."), QStringLiteral("a"));
        QCOMPARE(sslServing(config.ssls, "b.example.com"), QStringLiteral("w"));
        QCOMPARE(sslServing(config.ssls, "d.example.com"), QStringLiteral("w")); // d is off
        QCOMPARE(sslServing(config.ssls, "x.b.example.com"), QStringLiteral("star"));
        QCOMPARE(sslServing(config.ssls, "example.com"), QStringLiteral("star"));

        CertificateUsers users = certificateUsers(config, "a");
        QCOMPARE(users.listeners, QStringList{"127.0.0.1:9443"});
        QCOMPARE(users.routes, QStringList{"ra"});
        QCOMPARE(users.text(), QStringLiteral("listener 127.0.0.1:9443; route ra"));
        QCOMPARE(certificateUsers(config, "w").routes, (QStringList{"rw", "rb", "rd"}));
        QCOMPARE(certificateUsers(config, "star").routes, QStringList{"deep"});
        QVERIFY(certificateUsers(config, "d").isEmpty());
        QVERIFY(certificateUsers(config, "nothing").isEmpty());

        // Without a TLS listener nothing presents a certificate.
        QJsonObject json = encodeConfig(config);
        json.insert("stream_proxy", QJsonObject{{"tcp", QJsonArray{9443, 9000}}});
        const Config plain = configOf(json);
        QCOMPARE(certificateUsers(plain, "a").listeners, QStringList());
        QCOMPARE(certificateUsers(plain, "a").routes, QStringList{"ra"});
    }

    // A client ssl is used by the upstreams whose tls.client_cert_id names it: standalone ones
    // by id, inline ones by the route or service that holds them.
    void clientCertificateUsers()
    {
        const GeneratedCertificate pem = selfSigned({"client.example.com"}, 30);
        QJsonObject client{
            {"id", "me"}, {"type", "client"}, {"cert", pem.certPem}, {"key", pem.keyPem}};
        const auto tlsUpstream = [](const QJsonValue& certId) {
            return QJsonObject{{"scheme", "tls"},
                               {"nodes", QJsonObject{{"127.0.0.1:5432", 1}}},
                               {"tls", QJsonObject{{"client_cert_id", certId}}}};
        };
        QJsonObject standalone = tlsUpstream("me");
        standalone.insert("id", "pg");
        const Config config = configOf(QJsonObject{
            {"ssls", QJsonArray{client}},
            {"upstreams", QJsonArray{standalone}},
            {"stream_routes",
             QJsonArray{QJsonObject{{"id", "inline"}, {"upstream", tlsUpstream("me")}},
                        QJsonObject{{"id", "plain"}, {"upstream_id", "pg"}}}},
            {"services", QJsonArray{QJsonObject{{"id", "svc"}, {"upstream", tlsUpstream("me")}}}}});
        const CertificateUsers users = certificateUsers(config, "me");
        QCOMPARE(users.upstreams, (QStringList{"pg", "route inline", "service svc"}));
        QVERIFY(users.listeners.isEmpty() && users.routes.isEmpty());
        QCOMPARE(users.text(), QStringLiteral("upstreams pg, route inline, service svc"));
        // Expiring soon, it is warned of as a certificate in use.
        const QList<ExpiryNotice> notices =
            expiringCertificates(config, QDateTime::currentDateTimeUtc(), 31);
        QCOMPARE(notices.size(), 1);
        QVERIFY2(notices.at(0).text().endsWith("used by upstreams pg, route inline, service svc"),
                 qPrintable(notices.at(0).text()));
    }

    void expiryOfCertificatesInUse()
    {
        const QDateTime now = QDateTime::currentDateTimeUtc();
        const GeneratedCertificate soon = selfSigned({"soon.example.com"}, 3);
        const GeneratedCertificate year = selfSigned({"year.example.com"}, 365);
        const GeneratedCertificate gone = selfSigned({"gone.example.com"}, 5, now.addDays(-10));
        const QJsonObject tls{{"tcp", QJsonArray{QJsonObject{{"addr", 9443}, {"tls", true}}}}};
        Config config = configOf(
            QJsonObject{{"stream_proxy", tls},
                        {"ssls", QJsonArray{sslJson("soon", {"soon.example.com"}, soon),
                                            sslJson("year", {"year.example.com"}, year),
                                            sslJson("gone", {"gone.example.com"}, gone),
                                            sslJson("off", {"off.example.com"}, soon, 0)}}});
        const QList<ExpiryNotice> notices = expiringCertificates(config, now);
        QCOMPARE(notices.size(), 2);
        QCOMPARE(notices.at(0).sslId, QStringLiteral("soon"));
        QCOMPARE(notices.at(0).daysLeft, 3);
        QVERIFY(!notices.at(0).expired);
        QVERIFY2(notices.at(0).text().startsWith(
                     "certificate soon (soon.example.com) expires in 3 days, on "),
                 qPrintable(notices.at(0).text()));
        QVERIFY2(notices.at(0).text().endsWith("; used by listener 9443"),
                 qPrintable(notices.at(0).text()));
        QCOMPARE(notices.at(1).sslId, QStringLiteral("gone"));
        QVERIFY(notices.at(1).expired);
        QCOMPARE(notices.at(1).daysLeft, -5);
        QVERIFY2(notices.at(1).text().contains(" expired on "), qPrintable(notices.at(1).text()));
        // Within 2 days: only the expired one; a year ahead: the one valid a year too.
        QCOMPARE(expiringCertificates(config, now, 2).size(), 1);
        QCOMPARE(expiringCertificates(config, now.addDays(360)).size(), 3);

        // Of an ssl with a second pair (certs/keys), the one that ends first.
        QJsonObject pair = sslJson("pair", {"pair.example.com"}, year);
        pair.insert("certs", QJsonArray{soon.certPem});
        pair.insert("keys", QJsonArray{soon.keyPem});
        const Config paired =
            configOf(QJsonObject{{"stream_proxy", tls}, {"ssls", QJsonArray{pair}}});
        const QList<ExpiryNotice> pairNotices = expiringCertificates(paired, now);
        QCOMPARE(pairNotices.size(), 1);
        QCOMPARE(pairNotices.first().daysLeft, 3);

        // Not in use (no TLS listener, no route): no notice.
        QJsonObject json = encodeConfig(config);
        json.insert("stream_proxy", QJsonObject{{"tcp", QJsonArray{9000}}});
        QVERIFY(expiringCertificates(configOf(json), now).isEmpty());
    }

    void newIds()
    {
        const GeneratedCertificate pem = selfSigned({"a.example.com"}, 30);
        const Config config = configOf(QJsonObject{
            {"ssls", QJsonArray{sslJson("a.example.com", {"a.example.com"}, pem),
                                sslJson("wildcard.example.com", {"*.example.com"}, pem)}}});
        QCOMPARE(newSslId(config, "b.example.com"), QStringLiteral("b.example.com"));
        QCOMPARE(newSslId(config, "A.Example.com."), QStringLiteral("a.example.com-2"));
        QCOMPARE(newSslId(config, "*.example.com"), QStringLiteral("wildcard.example.com-2"));
        QCOMPARE(newSslId(config, "*"), QStringLiteral("wildcard"));
        QCOMPARE(newSslId(config, ""), QStringLiteral("certificate"));
    }
};

QTEST_GUILESS_MAIN(TestCertificates)
#include "tst_certificates.moc"
