#pragma once
// Certificates for TLS tests, made by the real openssl command in a temporary directory: a CA,
// server and client certificates it signs (EC P-256, quick to make), self-signed ones. Each
// name's files are NAME.crt and NAME.key; pem() reads one back as text.

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QStringList>
#include <QTemporaryDir>

namespace sgtest {

class TestCerts
{
public:
    bool ok() const { return m_dir.isValid() && m_error.isEmpty(); }
    const QString& error() const { return m_error; }

    QString path(const QString& name, const QString& ext) const
    {
        return m_dir.filePath(name + u'.' + ext);
    }
    QString pem(const QString& name, const QString& ext) const
    {
        QFile f(path(name, ext));
        return f.open(QIODevice::ReadOnly) ? QString::fromLatin1(f.readAll()) : QString();
    }

    // A CA certificate (self-signed, CA:true).
    bool makeCa(const QString& name)
    {
        return run({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", path(name, "key"), "-out", path(name, "crt"), "-days", "2",
                    "-subj", "/CN=" + name, "-addext", "basicConstraints=critical,CA:true",
                    "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
    }

    // A certificate for `cn` and the names in `dns` (subjectAltName), signed by `ca`, or
    // self-signed when `ca` is empty; `client`: for client authentication.
    bool makeLeaf(const QString& name, const QString& ca, const QString& cn,
                  const QStringList& dns = {}, bool client = false)
    {
        QStringList san;
        for (const QString& d : dns)
            san << "DNS:" + d;
        const QString usage = client ? QStringLiteral("extendedKeyUsage=clientAuth")
                                     : QStringLiteral("extendedKeyUsage=serverAuth");
        if (ca.isEmpty()) {
            QStringList args{"req",
                             "-x509",
                             "-newkey",
                             "ec",
                             "-pkeyopt",
                             "ec_paramgen_curve:prime256v1",
                             "-nodes",
                             "-keyout",
                             path(name, "key"),
                             "-out",
                             path(name, "crt"),
                             "-days",
                             "2",
                             "-subj",
                             "/CN=" + cn,
                             "-addext",
                             usage};
            if (!san.isEmpty())
                args << "-addext"
                     << "subjectAltName=" + san.join(u',');
            return run(args);
        }
        QFile ext(path(name, "ext"));
        if (!ext.open(QIODevice::WriteOnly))
            return fail("cannot write " + ext.fileName());
        ext.write((usage + u'\n').toLatin1());
        if (!san.isEmpty())
            ext.write(("subjectAltName=" + san.join(u',') + u'\n').toLatin1());
        ext.close();
        return run({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", path(name, "key"), "-out", path(name, "csr"), "-subj",
                    "/CN=" + cn}) &&
               run({"x509", "-req", "-in", path(name, "csr"), "-CA", path(ca, "crt"), "-CAkey",
                    path(ca, "key"), "-CAcreateserial", "-out", path(name, "crt"), "-days", "2",
                    "-extfile", ext.fileName()});
    }

private:
    bool fail(const QString& why)
    {
        m_error = why;
        return false;
    }
    bool run(const QStringList& args)
    {
        QProcess p;
        p.start(QStringLiteral("openssl"), args);
        if (!p.waitForFinished(20000) || p.exitStatus() != QProcess::NormalExit ||
            p.exitCode() != 0)
            return fail("openssl " + args.join(u' ') + ": " +
                        QString::fromLocal8Bit(p.readAllStandardError()));
        return true;
    }

    QTemporaryDir m_dir;
    QString m_error;
};

} // namespace sgtest
