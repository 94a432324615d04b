#include "config/keyfile.h"

#include "config/privatefile.h"
#include "model/settings.h"

#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sg {

namespace {

constexpr qint64 kMaxKeyFile = 4096;

// Reads a key file without following a symlink at `path` when `private_` (a generated key must
// be this user's own file, unreadable by others; a planted link or a shared file is not).
KeyFileResult readKey(const QString& path, bool private_, bool* untrusted)
{
    KeyFileResult result;
    int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK;
    if (private_)
        flags |= O_NOFOLLOW;
    const int fd = ::open(QFile::encodeName(path).constData(), flags);
    if (fd < 0) {
        const int error = errno;
        if (private_ && error == ELOOP)
            *untrusted = true;
        result.message = QStringLiteral("cannot read the admin key file %1: %2")
                             .arg(path, QString::fromLocal8Bit(std::strerror(error)));
        return result;
    }
    struct stat st = {};
    ::fstat(fd, &st);
    if (!S_ISREG(st.st_mode) || (private_ && (st.st_uid != ::geteuid() || (st.st_mode & 077)))) {
        ::close(fd);
        *untrusted = private_;
        result.message =
            private_ ? QStringLiteral("the admin key file %1 is not a regular file of this user's "
                                      "that only this user can read")
                           .arg(path)
                     : QStringLiteral("the admin key file %1 is not a regular file").arg(path);
        return result;
    }
    if (st.st_size > kMaxKeyFile) {
        ::close(fd);
        result.message = QStringLiteral("the admin key file %1 is %2 bytes; a key file holds at "
                                        "most %3")
                             .arg(path)
                             .arg(qint64(st.st_size))
                             .arg(kMaxKeyFile);
        return result;
    }
    QByteArray bytes(kMaxKeyFile, Qt::Uninitialized);
    const ssize_t n = ::read(fd, bytes.data(), size_t(bytes.size()));
    ::close(fd);
    bytes.truncate(n > 0 ? n : 0);
    const QString key = QString::fromUtf8(bytes.left(bytes.indexOf('\n'))).trimmed();
    if (key.isEmpty()) {
        result.message = QStringLiteral("the admin key file %1 holds no key").arg(path);
        return result;
    }
    result.key = key;
    result.ok = true;
    result.message = QStringLiteral("admin API key read from %1").arg(path);
    return result;
}

} // namespace

KeyFileResult readKeyFile(const QString& path)
{
    bool untrusted = false;
    return readKey(path, false, &untrusted);
}

KeyFileResult loadOrCreateKeyFile(const QString& path)
{
    bool untrusted = false;
    const bool exists = QFileInfo(path).exists() || QFileInfo(path).isSymLink();
    QString why;
    if (exists) {
        KeyFileResult existing = readKey(path, true, &untrusted);
        if (existing.ok || !untrusted)
            return existing;
        why = existing.message + QStringLiteral("; replaced it with a new key. ");
    }
    // 128 random bits from the OS, as hex: long enough that guessing is not an attack.
    QByteArray bytes(16, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32*>(bytes.data()),
                                          bytes.size() / 4);
    KeyFileResult result;
    result.key = QString::fromLatin1(bytes.toHex());
    const QString error = detail::writePrivateFile(path, result.key.toLatin1() + '\n');
    result.ok = error.isEmpty();
    result.message =
        why + (result.ok ? QStringLiteral("generated an admin API key and saved it in %1 "
                                          "(readable by this user only)")
                               .arg(path)
                         : QStringLiteral("generated an admin API key but could not save it (%1): "
                                          "it is valid until Streamgate stops; set %2 "
                                          "or use --admin-key-file")
                               .arg(error, settingPath({settingkey::Admin, settingkey::Key})));
    return result;
}

KeyFileResult readPrivateKeyFile(const QString& path)
{
    bool untrusted = false;
    return readKey(path, true, &untrusted);
}

QString savePrivateKeyFile(const QString& path, const QString& key)
{
    if (key.isEmpty()) {
        if (QFileInfo(path).exists() || QFileInfo(path).isSymLink())
            return QFile::remove(path) ? QString() : QStringLiteral("cannot remove %1").arg(path);
        return {};
    }
    if (QString error = detail::makePrivateDirectory(QFileInfo(path).absolutePath());
        !error.isEmpty())
        return error;
    return detail::writePrivateFile(path, key.toUtf8() + '\n');
}

} // namespace sg
