#include "config/privatefile.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sg::detail {

namespace {

QString reason(int error)
{
    return QString::fromLocal8Bit(std::strerror(error));
}

QString cannotWrite(const QString& path, int error)
{
    return QStringLiteral("cannot write %1: %2").arg(path, reason(error));
}

// fsync of a directory makes a rename in it durable.
int syncDirectory(const QString& dir)
{
    const int fd = ::open(QFile::encodeName(dir).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    const int rc = ::fsync(fd) == 0 ? 0 : errno;
    ::close(fd);
    return rc;
}

} // namespace

PendingFile::PendingFile(const QString& target) : m_target(target) {}

PendingFile::~PendingFile()
{
    if (!m_temp.isEmpty())
        ::unlink(QFile::encodeName(m_temp).constData());
}

QString PendingFile::write(const QByteArray& bytes)
{
    const QFileInfo info(m_target);
    QByteArray name = QFile::encodeName(info.absolutePath() + QLatin1Char('/') + QLatin1Char('.') +
                                        info.fileName() + QStringLiteral(".XXXXXX"));
    // mkostemp: O_CREAT | O_EXCL, mode 0600 from the first byte whatever the umask says.
    const int fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd < 0)
        return cannotWrite(m_target, errno);
    m_temp = QFile::decodeName(name);
    int error = 0;
    if (::fchmod(fd, S_IRUSR | S_IWUSR) != 0)
        error = errno;
    for (qsizetype done = 0; error == 0 && done < bytes.size();) {
        const ssize_t n = ::write(fd, bytes.constData() + done, size_t(bytes.size() - done));
        if (n > 0)
            done += n;
        else if (n < 0 && errno != EINTR)
            error = errno;
        else if (n == 0)
            error = EIO;
    }
    // A full disk may only show at fsync (delayed allocation) or close (network file systems).
    if (error == 0 && ::fsync(fd) != 0)
        error = errno;
    if (::close(fd) != 0 && error == 0)
        error = errno;
    if (error != 0) {
        ::unlink(name.constData());
        m_temp.clear();
        return cannotWrite(m_target, error);
    }
    return {};
}

QString PendingFile::commit()
{
    if (m_temp.isEmpty())
        return QStringLiteral("cannot write %1: nothing was written").arg(m_target);
    if (::rename(QFile::encodeName(m_temp).constData(), QFile::encodeName(m_target).constData()) !=
        0)
        return cannotWrite(m_target, errno);
    m_temp.clear();
    if (const int error = syncDirectory(QFileInfo(m_target).absolutePath()); error != 0)
        return cannotWrite(m_target, error);
    return {};
}

QString writePrivateFile(const QString& path, const QByteArray& bytes)
{
    PendingFile file(path);
    if (QString error = file.write(bytes); !error.isEmpty())
        return error;
    return file.commit();
}

QString makePrivateDirectory(const QString& dir)
{
    const QString absolute = QDir::cleanPath(QFileInfo(dir).absoluteFilePath());
    if (QFileInfo(absolute).isDir())
        return {};
    if (const QString parent = QFileInfo(absolute).absolutePath(); parent != absolute) {
        if (QString error = makePrivateDirectory(parent); !error.isEmpty())
            return error;
    }
    if (::mkdir(QFile::encodeName(absolute).constData(), S_IRWXU) != 0 && errno != EEXIST)
        return QStringLiteral("cannot create directory %1: %2").arg(absolute, reason(errno));
    return {};
}

QString resolvedTarget(const QString& path)
{
    const QFileInfo info(path);
    if (!info.isSymLink())
        return path;
    const QString target = info.canonicalFilePath(); // empty for a dangling link
    return target.isEmpty() ? info.symLinkTarget() : target;
}

} // namespace sg::detail
