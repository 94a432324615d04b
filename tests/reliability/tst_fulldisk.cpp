// A full disk through the real `streamgate --headless`: the config lives on a 64 KiB tmpfs the
// test mounts and then fills. A change through the admin API is answered with a server error
// that says why, and nothing changes: not the file, not NAME.bak, not what the API serves. Once
// there is room again, changes save as before. Skipped where a tmpfs cannot be mounted.
#include "streamgateprocess.h"
#include "testfiles.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

using namespace sgtest;

namespace {

QByteArray routeBody(const QString& id, int port)
{
    return QJsonDocument(
               QJsonObject{{"id", id},
                           {"server_port", port},
                           {"upstream", QJsonObject{{"nodes", QJsonObject{{"127.0.0.1:9", 1}}}}}})
        .toJson(QJsonDocument::Compact);
}

// Writes zeros into `path` until the file system refuses; returns the errno that stopped it.
int fill(const QString& path)
{
    const int fd =
        ::open(QFile::encodeName(path).constData(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno;
    const QByteArray block(4096, '\0');
    int error = 0;
    for (int i = 0; i < 1024 && error == 0; ++i) { // 4 MiB at most: the tmpfs is 64 KiB
        if (::write(fd, block.constData(), size_t(block.size())) < 0)
            error = errno;
    }
    // Fill the last partial page too.
    while (error == 0 && ::write(fd, block.constData(), 1) == 1) {
    }
    ::close(fd);
    return error == 0 ? ENOSPC : error;
}

} // namespace

class TestFullDisk : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_mount;
    bool m_mounted = false;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_mount = m_dir.filePath(QStringLiteral("small"));
        QVERIFY(QDir().mkpath(m_mount));
        if (::mount("tmpfs", QFile::encodeName(m_mount).constData(), "tmpfs", 0,
                    "size=64k,mode=0700") != 0)
            QSKIP(qPrintable(QStringLiteral("cannot mount a 64 KiB tmpfs on %1 (%2): the full-"
                                            "disk case needs root or CAP_SYS_ADMIN")
                                 .arg(m_mount, QString::fromLocal8Bit(std::strerror(errno)))));
        m_mounted = true;
    }

    void cleanupTestCase()
    {
        if (m_mounted)
            ::umount2(QFile::encodeName(m_mount).constData(), MNT_DETACH);
    }

    void failedSaveChangesNothing()
    {
        const int port = freePort();
        const QString path = m_mount + QStringLiteral("/streamgate.json");
        const QJsonObject config{
            {"stream_proxy", QJsonObject{{"tcp", QJsonArray{port}}}},
            {"stream_routes",
             QJsonArray{QJsonDocument::fromJson(routeBody("first", port)).object()}}};
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QJsonDocument(config).toJson());
        f.close();

        StreamgateProcess sg;
        QVERIFY(sg.start(path, true));
        QVERIFY2(sg.waitForAdmin(), sg.readOutput().constData());
        // One change first, so that NAME.bak exists.
        HttpAnswer put =
            sg.call("PUT", "/apisix/admin/stream_routes/second", routeBody("second", port));
        QVERIFY2(put.status == 201, put.body.constData());
        const QByteArray file = readFile(path);
        const QByteArray backup = readFile(path + QStringLiteral(".bak"));
        QVERIFY(file.contains("second"));
        QVERIFY(!backup.contains("second"));
        const QStringList before = sg.routeIds();
        QCOMPARE(before, (QStringList{"first", "second"}));

        const QString filler = m_mount + QStringLiteral("/filler");
        QCOMPARE(fill(filler), ENOSPC);
        const QStringList entries = QDir(m_mount).entryList(QDir::Files | QDir::Hidden);

        for (const QByteArray& verb : {QByteArray("PUT"), QByteArray("DELETE")}) {
            put = verb == "PUT"
                      ? sg.call(verb, "/apisix/admin/stream_routes/third", routeBody("third", port))
                      : sg.call(verb, "/apisix/admin/stream_routes/first");
            QVERIFY2(put.status >= 500 && put.status <= 507,
                     qPrintable(QString::number(put.status) + ' ' + put.body));
            QVERIFY2(put.body.contains("No space left on device"), put.body.constData());
            QVERIFY2(put.body.contains(path.toUtf8()), put.body.constData());
            QCOMPARE(readFile(path), file);
            QCOMPARE(readFile(path + QStringLiteral(".bak")), backup);
            QCOMPARE(sg.routeIds(), before);
            // No temporary file is left behind.
            QCOMPARE(QDir(m_mount).entryList(QDir::Files | QDir::Hidden), entries);
        }

        // Room again: the same change saves.
        QVERIFY(QFile::remove(filler));
        put = sg.call("PUT", "/apisix/admin/stream_routes/third", routeBody("third", port));
        QVERIFY2(put.status == 201, put.body.constData());
        QCOMPARE(sg.routeIds(), (QStringList{"first", "second", "third"}));
        QCOMPARE(readFile(path + QStringLiteral(".bak")), file);
        sg.stop();
    }
};

QTEST_GUILESS_MAIN(TestFullDisk)
#include "tst_fulldisk.moc"
