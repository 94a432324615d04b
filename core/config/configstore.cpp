#include "config/configstore.h"

#include "config/configutil_p.h"
#include "config/logging.h"
#include "config/privatefile.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFileSystemWatcher>
#include <QJsonDocument>
#include <QLockFile>
#include <QStandardPaths>
#include <QTimer>
#include <optional>

namespace sg {

namespace {

const char exampleJson[] = R"({
  "stream_proxy": { "tcp": [13306] },
  "stream_routes": [
    {
      "id": "local-mysql",
      "name": "Local MySQL",
      "desc": "Example: the MySQL server on this machine, reachable from this machine only",
      "server_port": 13306,
      "plugins": { "ip-restriction": { "whitelist": ["127.0.0.1"] } },
      "upstream": { "type": "roundrobin", "nodes": { "127.0.0.1:3306": 1 } }
    }
  ]
})";

qint64 now()
{
    return QDateTime::currentSecsSinceEpoch();
}

template <typename T> qsizetype indexOfId(const QList<T>& list, const QString& id)
{
    for (qsizetype i = 0; i < list.size(); ++i) {
        if (list.at(i).idString() == id)
            return i;
    }
    return -1;
}

template <typename T> bool sameIgnoringTimes(T a, T b)
{
    a.createTime = a.updateTime = b.createTime = b.updateTime = 0;
    return a == b;
}

// APISIX semantics: create_time is set once when the object first appears, update_time on
// every write of it.
template <typename T> void stampPut(const QList<T>& current, T& item)
{
    const qsizetype at = indexOfId(current, item.idString());
    const qint64 t = now();
    item.createTime = (at >= 0 && current.at(at).createTime > 0) ? current.at(at).createTime : t;
    item.updateTime = t;
}

// Stamps item like a put and stores it under its id: replacing keeps the object's place (for a
// route, its place in match order), a new id goes last.
template <typename T> void putById(QList<T>& list, T item)
{
    stampPut(list, item);
    const qsizetype at = indexOfId(list, item.idString());
    if (at >= 0)
        list[at] = item;
    else
        list.append(item);
}

Problems missingId()
{
    return {Problem{QStringLiteral("id"), QString(), QStringLiteral("missing id")}};
}

Problems routeNotFound(const QString& id)
{
    return {Problem{QStringLiteral("stream_routes"), id,
                    QStringLiteral("stream_route [%1] not found").arg(id)}};
}

// For whole-config replacement: untouched objects keep their times, new or edited ones are
// stamped like a put (a time the caller supplied for a new object is kept, e.g. on import).
template <typename T> void stampReplace(const QList<T>& current, QList<T>& next)
{
    const qint64 t = now();
    for (T& item : next) {
        const qsizetype at = indexOfId(current, item.idString());
        if (at >= 0 && sameIgnoringTimes(current.at(at), item)) {
            item.createTime = current.at(at).createTime;
            item.updateTime = current.at(at).updateTime;
            continue;
        }
        if (at >= 0 && current.at(at).createTime > 0)
            item.createTime = current.at(at).createTime;
        else if (item.createTime <= 0)
            item.createTime = t;
        item.updateTime = t;
    }
}

Problems cannotWrite(const QString& path, const QString& why)
{
    return {Problem{QString(), path, why}};
}

QByteArray fileHash(const QByteArray& bytes)
{
    return QCryptographicHash::hash(bytes, QCryptographicHash::Sha256);
}

QString joinIds(const QStringList& ids)
{
    return ids.join(QStringLiteral(", "));
}

} // namespace

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

ConfigStore::ConfigStore(const QString& path, QObject* parent) : QObject(parent), m_path(path) {}

ConfigStore::~ConfigStore() = default;

Problems ConfigStore::lockFile()
{
    if (m_lock)
        return {};
    const QString dir = QFileInfo(lockPath()).absolutePath();
    if (QString error = detail::makePrivateDirectory(dir); !error.isEmpty())
        return cannotWrite(dir, error);
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
    return {Problem{QString(), lockPath(),
                    QStringLiteral("cannot write %1: the lock for %2 could not be created")
                        .arg(lockPath(), m_path)}};
}

QString ConfigStore::defaultPath()
{
    // Not AppConfigLocation itself: with the organisation name set it nests twice
    // (~/.config/streamgate/streamgate), and callers that never set the application name (tests,
    // tools) would get a different folder.
    return QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation) +
           QStringLiteral("/streamgate/streamgate.json");
}

Config ConfigStore::exampleConfig()
{
    // Decoded from JSON rather than assembled field by field, so the example is exactly what a
    // user would write and goes through the same validation as their own files.
    Decoded<Config> decoded = decodeConfig(QJsonDocument::fromJson(exampleJson).object());
    if (!decoded.ok())
        qCCritical(lcConfig).noquote()
            << "built-in example config is invalid:" << formatProblems(decoded.problems);
    return decoded.value;
}

LoadResult ConfigStore::lastLoadResult() const
{
    QMutexLocker lock(&m_mutex);
    return m_lastLoad;
}

Config ConfigStore::config() const
{
    QMutexLocker lock(&m_mutex);
    return m_config;
}

Problems ConfigStore::warnings() const
{
    QMutexLocker lock(&m_mutex);
    return m_warnings;
}

qint64 ConfigStore::revision() const
{
    QMutexLocker lock(&m_mutex);
    return m_revision;
}

void ConfigStore::adopt(const Config& config, const Problems& warnings)
{
    const ConfigDiff diff = diffConfigs(m_config, config);
    {
        QMutexLocker lock(&m_mutex);
        m_config = config;
        m_warnings = warnings;
        if (!diff.isEmpty())
            ++m_revision;
    }
    if (!diff.isEmpty())
        Q_EMIT changed(diff, config);
}

LoadResult ConfigStore::load()
{
    QMutexLocker writeLock(&m_writeMutex);
    LoadResult result;
    m_replaceBroken = false;

    if (!QFileInfo::exists(m_path)) {
        Config example = exampleConfig();
        const qint64 t = now();
        for (StreamRoute& r : example.streamRoutes)
            r.createTime = r.updateTime = t;
        for (Upstream& u : example.upstreams)
            u.createTime = u.updateTime = t;
        result.problems = writeFile(encodeConfig(example), false);
        if (result.problems.isEmpty()) {
            result.status = LoadResult::Status::Created;
            result.warnings = checkConfig(example).warnings;
            m_broken = false;
            qCInfo(lcConfig).noquote() << "created" << m_path << "with an example route";
            adopt(example, result.warnings);
        } else {
            // Nothing on disk to protect: later saves may try again.
            result.status = LoadResult::Status::Unreadable;
            m_broken = false;
            qCWarning(lcConfig).noquote() << formatProblems(result.problems);
            adopt(Config{}, {});
        }
    } else {
        QByteArray bytes;
        FileCheck file = detail::readAndCheckFile(m_path, &bytes);
        result.status = file.status;
        result.problems = file.problems;
        result.warnings = file.warnings;
        if (file.status == LoadResult::Status::Loaded) {
            m_broken = false;
            m_knownGoodHash = fileHash(bytes);
            m_seenBrokenHash.clear();
            m_diskProblems.clear();
            qCInfo(lcConfig).noquote()
                << "loaded" << m_path << ":" << file.config.streamRoutes.size() << "stream routes,"
                << file.config.upstreams.size() << "upstreams";
            const QJsonObject admin =
                file.config.streamgate.value(QLatin1String("admin")).toObject();
            if (!admin.value(QLatin1String("key")).toString().isEmpty() &&
                (QFile::permissions(m_path) & (QFile::ReadGroup | QFile::ReadOther)))
                qCWarning(lcConfig).noquote()
                    << m_path
                    << "holds streamgate.admin.key and other users can read it; the next save "
                       "makes it 0600, or run: chmod 600"
                    << m_path;
            adopt(file.config, file.warnings);
        } else {
            m_broken = true;
            m_knownGoodHash.clear();
            m_seenBrokenHash = fileHash(bytes);
            m_diskProblems = file.problems;
            result.backupAvailable = checkFile(backupPath()).status == LoadResult::Status::Loaded;
            qCWarning(lcConfig).noquote()
                << m_path << "could not be loaded and is left untouched:\n"
                << formatProblems(result.problems);
            if (result.backupAvailable)
                qCWarning(lcConfig).noquote() << "a valid backup is available:" << backupPath();
            adopt(Config{}, {});
        }
    }
    for (const Problem& w : std::as_const(result.warnings))
        qCWarning(lcConfig).noquote() << "warning:" << w.text();

    QMutexLocker lock(&m_mutex);
    m_lastLoad = result;
    return result;
}

LoadResult ConfigStore::loadBackup()
{
    QMutexLocker writeLock(&m_writeMutex);
    FileCheck backup = checkFile(backupPath());
    LoadResult result;
    result.status = backup.status;
    result.problems = backup.problems;
    result.warnings = backup.warnings;
    result.backupAvailable = backup.status == LoadResult::Status::Loaded;
    if (backup.status != LoadResult::Status::Loaded) {
        qCWarning(lcConfig).noquote() << "backup could not be loaded:\n"
                                      << formatProblems(backup.problems);
        return result;
    }
    if (m_broken) {
        qCInfo(lcConfig).noquote() << "recovered" << backupPath() << ";" << m_path
                                   << "stays as it is until the next change";
        m_broken = false;
        m_replaceBroken = true;
        adopt(backup.config, backup.warnings);
    } else {
        const Problems problems = commit(backup.config);
        if (!problems.isEmpty()) {
            result.status = LoadResult::Status::Invalid;
            result.problems = problems;
            return result;
        }
    }
    QMutexLocker lock(&m_mutex);
    m_lastLoad = result;
    return result;
}

Problems ConfigStore::refusedWhileBroken() const
{
    return {Problem{QString(), m_path,
                    QStringLiteral("%1 could not be loaded and is kept untouched (the problems "
                                   "follow); fix the file, recover the backup or save explicitly "
                                   "before changing the configuration")
                        .arg(m_path)}};
}

Problems ConfigStore::commit(Config next)
{
    QMutexLocker writeLock(&m_writeMutex);
    if (m_broken)
        return refusedWhileBroken();

    // Values built in code (forms, API handlers) pass the same rules as a file: encode and
    // decode again, then the cross-object checks. What is kept is exactly what a reload of the
    // file will produce.
    const QJsonObject json = encodeConfig(next);
    Decoded<Config> decoded = decodeConfig(json);
    const ConfigCheck check = checkConfig(decoded.value);
    Problems problems = decoded.problems + check.errors;
    if (!problems.isEmpty()) {
        qCDebug(lcConfig).noquote() << "change refused:\n" << formatProblems(problems);
        return problems;
    }
    const Config& accepted = decoded.value;
    if (accepted == m_config)
        return {};

    // `json` decodes to `accepted`, so the file reloads to exactly what is kept in memory.
    if (Problems written = writeFile(json, m_replaceBroken); !written.isEmpty()) {
        qCWarning(lcConfig).noquote() << formatProblems(written);
        return written;
    }
    m_replaceBroken = false;
    const ConfigDiff diff = diffConfigs(m_config, accepted);
    {
        QMutexLocker lock(&m_mutex);
        m_config = accepted;
        m_warnings = check.warnings;
        if (!diff.isEmpty())
            ++m_revision;
    }
    if (!diff.isEmpty())
        Q_EMIT changed(diff, accepted);
    return {};
}

Problems ConfigStore::writeFile(const QJsonObject& json, bool overwriteBroken)
{
    // A symlink at the config's own path is the user's (a dotfiles checkout): the file it points
    // to is written. NAME.bak and NAME.broken never follow one.
    const QString target = detail::resolvedTarget(m_path);
    const QFileInfo info(target);
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

Problems ConfigStore::save()
{
    QMutexLocker writeLock(&m_writeMutex);
    // A valid change on disk is taken in rather than overwritten; a broken file is replaced on
    // purpose (its bytes are kept as NAME.broken).
    Problems ignored;
    takeInDiskChanges(false, &ignored);
    const Problems problems = writeFile(encodeConfig(config()), true);
    if (problems.isEmpty()) {
        m_broken = false;
        m_replaceBroken = false;
        m_diskProblems.clear();
    }
    return problems;
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

Problems ConfigStore::edit(const Edit& apply)
{
    QMutexLocker writeLock(&m_writeMutex);
    // Whatever changed on disk since the last load or write is taken in first, so the edit
    // lands on top of it and never erases it.
    Problems onDisk;
    if (!takeInDiskChanges(false, &onDisk) && !m_replaceBroken)
        return refusedWhileBroken() + onDisk;
    Config next = config();
    if (Problems refused = apply(next); !refused.isEmpty())
        return refused;
    return commit(std::move(next));
}

Problems ConfigStore::replace(const Config& next)
{
    QMutexLocker writeLock(&m_writeMutex);
    // `next` was made from the config as it is now; if the file changed on disk meanwhile, the
    // edit is carried over onto what the file holds.
    const Config base = config();
    return edit([&](Config& current) {
        Config stamped = rebaseConfig(base, next, current);
        stampReplace(current.streamRoutes, stamped.streamRoutes);
        stampReplace(current.upstreams, stamped.upstreams);
        current = std::move(stamped);
        return Problems{};
    });
}

Problems ConfigStore::putRoute(const StreamRoute& route)
{
    if (route.idString().isEmpty())
        return missingId();
    return edit([&](Config& next) {
        putById(next.streamRoutes, route);
        return Problems{};
    });
}

Problems ConfigStore::deleteRoute(const QString& id)
{
    return edit([&](Config& next) {
        const qsizetype at = indexOfId(next.streamRoutes, id);
        if (at < 0)
            return routeNotFound(id);
        next.streamRoutes.removeAt(at);
        return Problems{};
    });
}

Problems ConfigStore::moveRoute(const QString& id, int newIndex)
{
    return edit([&](Config& next) {
        const qsizetype at = indexOfId(next.streamRoutes, id);
        if (at < 0)
            return routeNotFound(id);
        if (newIndex < 0 || newIndex >= next.streamRoutes.size())
            return Problems{Problem{QStringLiteral("stream_routes"), QString::number(newIndex),
                                    QStringLiteral("position %1 is out of range 0-%2")
                                        .arg(newIndex)
                                        .arg(next.streamRoutes.size() - 1)}};
        next.streamRoutes.move(at, newIndex);
        return Problems{};
    });
}

Problems ConfigStore::putUpstream(const Upstream& upstream)
{
    if (upstream.idString().isEmpty())
        return missingId();
    return edit([&](Config& next) {
        putById(next.upstreams, upstream);
        return Problems{};
    });
}

Problems ConfigStore::deleteUpstream(const QString& id)
{
    return edit([&](Config& next) {
        const qsizetype at = indexOfId(next.upstreams, id);
        if (at < 0)
            return Problems{Problem{QStringLiteral("upstreams"), id,
                                    QStringLiteral("upstream [%1] not found").arg(id)}};
        QStringList users;
        for (const StreamRoute& route : std::as_const(next.streamRoutes)) {
            if (idText(route.upstreamId) == id)
                users << route.idString();
        }
        if (!users.isEmpty())
            return Problems{
                Problem{QStringLiteral("upstreams[%1]").arg(at), id,
                        QStringLiteral("can not delete this upstream, stream_route [%1] is still "
                                       "using it now")
                            .arg(joinIds(users))}};
        next.upstreams.removeAt(at);
        return Problems{};
    });
}

Problems ConfigStore::setStreamProxy(const StreamProxy& proxy)
{
    return edit([&](Config& next) {
        next.streamProxy = proxy;
        return Problems{};
    });
}

Problems ConfigStore::setSettings(const QJsonObject& streamgate)
{
    QMutexLocker writeLock(&m_writeMutex);
    // Like replace(): only the sections this edit changed are carried over a change on disk.
    const QJsonObject base = config().streamgate;
    return edit([&](Config& next) {
        Config before = next, edited = next;
        before.streamgate = base;
        edited.streamgate = streamgate;
        next.streamgate = rebaseConfig(before, edited, next).streamgate;
        return Problems{};
    });
}

} // namespace sg
