#include "config/configstore.h"

#include "config/configutil_p.h"
#include "config/logging.h"

#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QLockFile> // complete for ~ConfigStore
#include <QStandardPaths>

namespace sg {

using detail::fileHash;

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
// every write of it. Stamp::KeepGiven (a PATCH) keeps the times the item holds, each one it
// lacks set as above.
template <typename T> void stampPut(const QList<T>& current, T& item, ConfigStore::Stamp stamp)
{
    const qsizetype at = indexOfId(current, item.idString());
    const qint64 t = now();
    const bool keep = stamp == ConfigStore::Stamp::KeepGiven;
    if (!keep || item.createTime <= 0)
        item.createTime =
            (at >= 0 && current.at(at).createTime > 0) ? current.at(at).createTime : t;
    if (!keep || item.updateTime <= 0)
        item.updateTime = t;
}

// Stamps item like a put and stores it under its id: replacing keeps the object's place (for a
// route, its place in match order), a new id goes last.
template <typename T>
void putById(QList<T>& list, T item, ConfigStore::Stamp stamp = ConfigStore::Stamp::Now)
{
    stampPut(list, item, stamp);
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

QString joinIds(const QStringList& ids)
{
    return ids.join(QStringLiteral(", "));
}

// The ids of the objects in `list` whose `reference` names `id`.
template <typename T>
QStringList usersOf(const QList<T>& list, QJsonValue T::*reference, const QString& id)
{
    QStringList users;
    for (const T& item : list) {
        if (idText(item.*reference) == id)
            users << item.idString();
    }
    return users;
}

// The ids of the objects in `list` whose traffic-split names upstream `id` in a rule.
template <typename T> QStringList splitUsersOf(const QList<T>& list, const QString& id)
{
    QStringList users;
    for (const T& item : list) {
        if (!item.plugins.trafficSplit)
            continue;
        bool uses = false;
        for (const TrafficSplitRule& rule : item.plugins.trafficSplit->rules)
            for (const TrafficSplitUpstream& w : rule.weightedUpstreams)
                uses = uses || idText(w.upstreamId) == id;
        if (uses)
            users << item.idString();
    }
    return users;
}

} // namespace

QString upstreamInUse(const Config& config, const QString& id, bool servicesOnly)
{
    const QString words =
        QStringLiteral("can not delete this upstream, %1 [%2] is still using it now");
    // APISIX's words for a reference from a plugin (its traffic-split): "plugin in route [1]".
    if (!servicesOnly) {
        if (const QStringList routes = splitUsersOf(config.streamRoutes, id); !routes.isEmpty())
            return words.arg(QStringLiteral("plugin in stream_route"), joinIds(routes));
        if (const QStringList routes = usersOf(config.streamRoutes, &StreamRoute::upstreamId, id);
            !routes.isEmpty())
            return words.arg(QStringLiteral("stream_route"), joinIds(routes));
    }
    if (const QStringList services = splitUsersOf(config.services, id); !services.isEmpty())
        return words.arg(QStringLiteral("plugin in service"), joinIds(services));
    if (const QStringList services = usersOf(config.services, &Service::upstreamId, id);
        !services.isEmpty())
        return words.arg(QStringLiteral("service"), joinIds(services));
    return {};
}

QString serviceInUse(const Config& config, const QString& id)
{
    if (const QStringList routes = usersOf(config.streamRoutes, &StreamRoute::serviceId, id);
        !routes.isEmpty())
        return QStringLiteral(
                   "can not delete this service directly, stream_route [%1] is still using it now")
            .arg(joinIds(routes));
    return {};
}

ConfigStore::ConfigStore(const QString& path, QObject* parent) : QObject(parent), m_path(path) {}

ConfigStore::~ConfigStore() = default;

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
                << file.config.upstreams.size() << "upstreams," << file.config.services.size()
                << "services";
            if (!file.config.streamgate.adminKey().isEmpty() &&
                (QFile::permissions(m_path) & (QFile::ReadGroup | QFile::ReadOther)))
                qCWarning(lcConfig).noquote()
                    << m_path << "holds" << settingPath({settingkey::Admin, settingkey::Key})
                    << "and other users can read it; the next save "
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
        stampReplace(current.services, stamped.services);
        stampReplace(current.ssls, stamped.ssls);
        current = std::move(stamped);
        return Problems{};
    });
}

Problems ConfigStore::update(const Edit& change)
{
    return edit([&](Config& current) {
        Config next = current;
        if (Problems refused = change(next); !refused.isEmpty())
            return refused;
        stampReplace(current.streamRoutes, next.streamRoutes);
        stampReplace(current.upstreams, next.upstreams);
        stampReplace(current.services, next.services);
        stampReplace(current.ssls, next.ssls);
        current = std::move(next);
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

Problems ConfigStore::putUpstream(const Upstream& upstream, Stamp stamp)
{
    if (upstream.idString().isEmpty())
        return missingId();
    return edit([&](Config& next) {
        putById(next.upstreams, upstream, stamp);
        return Problems{};
    });
}

Problems ConfigStore::deleteUpstream(const QString& id, InUse inUse)
{
    return edit([&](Config& next) {
        const qsizetype at = indexOfId(next.upstreams, id);
        if (at < 0)
            return Problems{Problem{QStringLiteral("upstreams"), id,
                                    QStringLiteral("upstream [%1] not found").arg(id)}};
        if (const QString user = inUse == InUse::Delete ? QString() : upstreamInUse(next, id);
            !user.isEmpty())
            return Problems{Problem{QStringLiteral("upstreams[%1]").arg(at), id, user}};
        next.upstreams.removeAt(at);
        return Problems{};
    });
}

Problems ConfigStore::putService(const Service& service, Stamp stamp)
{
    if (service.idString().isEmpty())
        return missingId();
    return edit([&](Config& next) {
        putById(next.services, service, stamp);
        return Problems{};
    });
}

Problems ConfigStore::deleteService(const QString& id, InUse inUse)
{
    return edit([&](Config& next) {
        const qsizetype at = indexOfId(next.services, id);
        if (at < 0)
            return Problems{Problem{QStringLiteral("services"), id,
                                    QStringLiteral("service [%1] not found").arg(id)}};
        if (const QString user = inUse == InUse::Delete ? QString() : serviceInUse(next, id);
            !user.isEmpty())
            return Problems{Problem{QStringLiteral("services[%1]").arg(at), id, user}};
        next.services.removeAt(at);
        return Problems{};
    });
}

Problems ConfigStore::putSsl(const Ssl& ssl, Stamp stamp)
{
    if (ssl.idString().isEmpty())
        return missingId();
    return edit([&](Config& next) {
        putById(next.ssls, ssl, stamp);
        return Problems{};
    });
}

Problems ConfigStore::deleteSsl(const QString& id)
{
    return edit([&](Config& next) {
        const qsizetype at = indexOfId(next.ssls, id);
        if (at < 0)
            return Problems{
                Problem{QStringLiteral("ssls"), id, QStringLiteral("ssl [%1] not found").arg(id)}};
        next.ssls.removeAt(at);
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

Problems ConfigStore::setSettings(const StreamgateSettings& streamgate)
{
    QMutexLocker writeLock(&m_writeMutex);
    // Like replace(): only the sections this edit changed are carried over a change on disk.
    const StreamgateSettings base = config().streamgate;
    return edit([&](Config& next) {
        next.streamgate = rebaseSettings(base, streamgate, next.streamgate);
        return Problems{};
    });
}

Problems ConfigStore::setSettings(const QJsonObject& streamgate)
{
    const Decoded<StreamgateSettings> decoded = decodeSettings(streamgate);
    if (!decoded.ok())
        return decoded.problems;
    return setSettings(decoded.value);
}

} // namespace sg
