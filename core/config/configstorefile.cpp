// ConfigStore and the file on disk: one writer per file (the lock), the watch that reloads it,
// taking in a change made on disk before any edit, and the private, durable write itself.
#include "config/configstore.h"
#include "config/configutil_p.h"
#include "config/logging.h"
#include "config/privatefile.h"

#include <QCryptographicHash>
#include <QFile>
#include <QFileInfo>
#include <QFileSystemWatcher>
#include <QJsonDocument>
#include <QLockFile>
#include <QTimer>
#include <optional>

namespace sg {

namespace detail {

Problems cannotWrite(const QString& path, const QString& why)
{
    return {Problem{QString(), path, why}};
}

QByteArray fileHash(const QByteArray& bytes)
{
    return QCryptographicHash::hash(bytes, QCryptographicHash::Sha256);
}

} // namespace detail

using detail::cannotWrite;
using detail::fileHash;

bool isWriteFailure(const Problems& problems)
{
    // The reasons privatefile.cpp and writeFile() give when the disk, not the input, is at fault.
    for (const Problem& p : problems) {
        if (p.reason.startsWith(QLatin1String("cannot write ")) ||
            p.reason.startsWith(QLatin1String("cannot create directory ")) ||
            p.reason.startsWith(QLatin1String("cannot read ")))
            return true;
    }
    return false;
}

Problems ConfigStore::lockFile()
{
    // Something that is not a regular file (a device, a FIFO) is never written: load() refuses
    // it, so there is nothing to own, and no lock file is put beside it.
    if (m_lock || (QFileInfo::exists(m_path) && !QFileInfo(m_path).isFile()))
        return {};
    // A config in a directory this user cannot write (read-only for a service) still runs: there
    // is nothing another instance could save over either. Only a live owner refuses.
    auto runUnlocked = [this](const QString& why) {
        qCWarning(lcConfig).noquote()
            << "cannot create the lock" << lockPath() << "(" + why + "); running without it";
        return Problems{};
    };
    const QString dir = QFileInfo(lockPath()).absolutePath();
    if (QString error = detail::makePrivateDirectory(dir); !error.isEmpty())
        return runUnlocked(error);
    auto lock = std::make_unique<QLockFile>(lockPath());
    // Only a lock whose process is gone is stale: a long-running owner keeps it however old.
    lock->setStaleLockTime(0);
    if (lock->tryLock(0)) {
        m_lock = std::move(lock);
        return {};
    }
    if (lock->error() == QLockFile::LockFailedError) {
        qint64 pid = 0;
        QString host, app;
        lock->getLockInfo(&pid, &host, &app);
        return {Problem{
            QString(), m_path,
            QStringLiteral("%1 is in use by another Streamgate (pid %2%3, lock %4): "
                           "only one process may write a config at a time; stop "
                           "that one or use another --config")
                .arg(m_path)
                .arg(pid)
                .arg(host.isEmpty() ? QString() : QStringLiteral(" on ") + host, lockPath())}};
    }
    return runUnlocked(lock->error() == QLockFile::PermissionError
                           ? QStringLiteral("permission denied")
                           : QStringLiteral("unknown error"));
}

Problems ConfigStore::writeFile(const QJsonObject& json, bool overwriteBroken)
{
    // A symlink at the config's own path is the user's (a dotfiles checkout): the file it points
    // to is written. NAME.bak and NAME.broken never follow one.
    const QString target = detail::resolvedTarget(m_path);
    const QFileInfo info(target);
    if (info.exists() && !info.isFile())
        return cannotWrite(target,
                           QStringLiteral("cannot write %1: it is not a regular file").arg(target));
    if (QString error = detail::makePrivateDirectory(info.absolutePath()); !error.isEmpty())
        return cannotWrite(info.absolutePath(), error);

    const QByteArray bytes = QJsonDocument(json).toJson(QJsonDocument::Indented);

    // Everything is written to private temporary files first, each checked through fsync; only
    // then are they renamed into place. A failed write (a full disk) changes nothing on disk.
    detail::PendingFile next(target);
    if (QString error = next.write(bytes); !error.isEmpty())
        return cannotWrite(target, error);
    std::optional<detail::PendingFile> kept;
    QString keptPath;

    if (info.exists()) {
        QByteArray previous;
        const QString readError = detail::readConfigBytes(target, &previous);
        const bool readable = readError.isEmpty();
        if (!readable && !overwriteBroken)
            return {Problem{QString(), m_path,
                            QStringLiteral("cannot read %1: %2").arg(m_path, readError)}};
        if (readable) {
            // The file on disk is not trusted from load time: someone may have edited it since.
            // Bytes this store loaded or wrote itself are known good; others are validated.
            // A good file becomes NAME.bak; a bad one is never replaced unless on purpose, and
            // even then its bytes are kept.
            FileCheck onDisk{};
            bool good = !m_knownGoodHash.isEmpty() && fileHash(previous) == m_knownGoodHash;
            if (!good) {
                onDisk = detail::checkBytes(m_path, previous);
                good = onDisk.status == LoadResult::Status::Loaded;
            }
            if (!good && !overwriteBroken) {
                m_broken = true;
                return refusedWhileBroken() + onDisk.problems;
            }
            const QString keepAs = good ? backupPath() : m_path + QStringLiteral(".broken");
            kept.emplace(keepAs);
            keptPath = keepAs;
            if (QString error = kept->write(previous); !error.isEmpty())
                return cannotWrite(keepAs, error);
            if (!good)
                qCInfo(lcConfig).noquote()
                    << "replacing the broken" << m_path << "; its bytes are kept in" << keepAs;
        }
    }
    // The backup goes into place before the new version: NAME.bak is always a whole previous
    // version, whatever moment a crash happens at.
    if (kept) {
        if (QString error = kept->commit(); !error.isEmpty())
            return cannotWrite(keptPath, error);
    }
    if (QString error = next.commit(); !error.isEmpty())
        return cannotWrite(target, error);
    m_knownGoodHash = fileHash(bytes);
    return {};
}

bool ConfigStore::takeInDiskChanges(bool force, Problems* problems)
{
    if (!QFileInfo::exists(m_path))
        return true; // deleted by hand: the running config stays and the next save writes it
    QByteArray bytes;
    const QString readError = detail::readConfigBytes(m_path, &bytes);
    const QByteArray hash = fileHash(bytes);
    if (readError.isEmpty() && !force && !m_knownGoodHash.isEmpty() && hash == m_knownGoodHash)
        return true;
    if (!force && !m_seenBrokenHash.isEmpty() && hash == m_seenBrokenHash) {
        *problems = m_diskProblems;
        return false;
    }
    FileCheck onDisk{LoadResult::Status::Unreadable, Config{}, {}, {}};
    if (readError.isEmpty())
        onDisk = detail::checkBytes(m_path, bytes);
    else
        onDisk.problems << Problem{QString(), m_path,
                                   QStringLiteral("cannot read %1: %2").arg(m_path, readError)};
    if (onDisk.status != LoadResult::Status::Loaded) {
        // Reported once per version of the file; the running config stays as it is.
        if (force || m_seenBrokenHash != hash)
            qCWarning(lcConfig).noquote() << m_path
                                          << "was not reloaded; the running config stays:\n" +
                                                 formatProblems(onDisk.problems);
        m_seenBrokenHash = hash;
        m_diskProblems = onDisk.problems;
        if (!m_replaceBroken) // the user chose to replace it: saving stays allowed
            m_broken = true;
        *problems = onDisk.problems;
        return false;
    }
    const bool changed = !(onDisk.config == config());
    m_knownGoodHash = hash;
    m_seenBrokenHash.clear();
    m_diskProblems.clear();
    m_broken = false;
    m_replaceBroken = false;
    if (changed)
        qCInfo(lcConfig).noquote() << "reloaded" << m_path << "(changed on disk)";
    adopt(onDisk.config, onDisk.warnings);
    return true;
}

Problems ConfigStore::reload(bool force)
{
    QMutexLocker writeLock(&m_writeMutex);
    Problems problems;
    takeInDiskChanges(force, &problems);
    return problems;
}

void ConfigStore::watchFile()
{
    if (m_watcher)
        return;
    m_watcher = new QFileSystemWatcher(this);
    m_debounce = new QTimer(this);
    // Editors and atomic saves produce bursts of change notifications for one edit.
    m_debounce->setSingleShot(true);
    m_debounce->setInterval(200);
    connect(m_debounce, &QTimer::timeout, this, [this] {
        watchAgain();
        reload();
    });
    connect(m_watcher, &QFileSystemWatcher::fileChanged, m_debounce, qOverload<>(&QTimer::start));
    // An atomic save replaces the file, which the watcher sees as the old file going away;
    // watching the directory as well catches the new one.
    connect(m_watcher, &QFileSystemWatcher::directoryChanged, m_debounce,
            qOverload<>(&QTimer::start));
    watchAgain();
}

void ConfigStore::watchAgain()
{
    const QFileInfo info(m_path);
    if (!m_watcher->files().contains(info.absoluteFilePath()) && info.exists())
        m_watcher->addPath(info.absoluteFilePath());
    if (m_watcher->directories().isEmpty() && QFileInfo::exists(info.absolutePath()))
        m_watcher->addPath(info.absolutePath());
}

} // namespace sg
