#pragma once
// ConfigStore owns the one config file: it loads it (never overwriting a broken file), validates
// every change as a whole (nothing half-applied), saves atomically keeping the previous good file
// as NAME.bak, and publishes each accepted change as a ConfigDiff for the engine, the GUI and the
// admin API. The file is the user's too: a change made on disk since the store last loaded or
// wrote it is taken in (validated whole, published as a diff) before any edit is applied on top,
// and a file on disk that does not validate is never overwritten by an edit. Lives in the main
// thread; config() is thread-safe and mutations are serialised, so the file always holds one
// whole accepted version.

#include "model/codec.h"
#include "model/problem.h"
#include "model/streamroute.h"

#include <QByteArray>
#include <QMutex>
#include <QObject>
#include <QRecursiveMutex>
#include <QString>
#include <QStringList>
#include <atomic>
#include <functional>
#include <memory>

class QFileSystemWatcher;
class QLockFile;
class QTimer;

namespace sg {

// What changed between two configs, by id. The engine applies this without touching the
// connections of routes that are not named here.
struct ConfigDiff
{
    QStringList routesAdded, routesChanged, routesRemoved;
    QStringList upstreamsAdded, upstreamsChanged, upstreamsRemoved;
    QStringList servicesAdded, servicesChanged, servicesRemoved;
    QStringList sslsAdded, sslsChanged, sslsRemoved;
    // plugin_metadata entries added, changed or removed (by plugin name).
    QStringList pluginMetadataChanged;
    // Routes that changed only because their service (or the plugin_metadata of a plugin they
    // run) did: they run with what it gives, so they are in routesChanged too, but what is
    // stored for them is as it was.
    QStringList routesChangedByService;
    bool routeOrderChanged = false;
    bool listenersChanged = false;
    bool settingsChanged = false; // the "streamgate" section
    bool isEmpty() const;
    bool operator==(const ConfigDiff&) const = default;
};
ConfigDiff diffConfigs(const Config& before, const Config& after);
// `next` was made from `base`; `onto` is a newer version of `base` (a file edited on disk
// meanwhile). Returns `onto` with what `next` added, changed, removed or moved relative to
// `base`: the edit on top of the newer version. rebaseConfig(base, next, base) == next.
Config rebaseConfig(const Config& base, const Config& next, const Config& onto);

// Cross-object checks on a decoded config: upstream_id and service_id references, upstreams in
// use, routes that can never match (warnings).
struct ConfigCheck
{
    Problems errors;
    Problems warnings;
};
ConfigCheck checkConfig(const Config& config);

struct LoadResult
{
    enum class Status { Loaded, Created, Unreadable, SyntaxError, Invalid };
    Status status = Status::Loaded;
    Problems problems; // syntax error: one problem naming file, line and column
    Problems warnings;
    bool backupAvailable = false; // NAME.bak exists and is valid
    bool ok() const { return status == Status::Loaded || status == Status::Created; }
};

// A config file larger than this is refused unread (with its size in the message).
constexpr qint64 kMaxConfigFileBytes = 16 * 1024 * 1024;

// Reads and fully validates a config file without touching any store (used by --check). Only
// regular files up to kMaxConfigFileBytes are read; keys given twice in one object are errors.
struct FileCheck
{
    LoadResult::Status status;
    Config config;
    Problems problems;
    Problems warnings;
};
FileCheck checkFile(const QString& path);

// Why an object cannot be deleted, in APISIX's words, naming what still uses it; empty when
// nothing does. "can not delete this upstream, stream_route [r1] is still using it now" (or
// "service [s1]"), "can not delete this service directly, stream_route [r1] is still using it
// now".
// servicesOnly: APISIX's admin API, whose check leaves stream routes out.
QString upstreamInUse(const Config& config, const QString& id, bool servicesOnly = false);
QString serviceInUse(const Config& config, const QString& id);

// True when a change was refused because a file could not be read or written (a full disk, no
// permission), not because of what was asked: nothing changed, and the caller is not at fault.
bool isWriteFailure(const Problems& problems);

class ConfigStore final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConfigStore)

public:
    explicit ConfigStore(const QString& path, QObject* parent = nullptr);
    ~ConfigStore() override;

    // ~/.config/streamgate/streamgate.json on Linux: the generic config location + "streamgate",
    // i.e. AppConfigLocation without the organisation level, whatever names the app has set.
    static QString defaultPath();
    static Config exampleConfig(); // "Local MySQL": TCP 13306 -> 127.0.0.1:3306, allows 127.0.0.1

    QString path() const { return m_path; }
    QString backupPath() const { return m_path + QStringLiteral(".bak"); }
    // Where a generated admin API key is kept (0600), so the config is never rewritten for it.
    QString keyPath() const { return m_path + QStringLiteral(".key"); }
    QString lockPath() const { return m_path + QStringLiteral(".lock"); }

    // Makes this process the one writer of the file: a lock file (lockPath(), QLockFile) held
    // until the store is destroyed. A stale lock (its process is gone) is taken over. Returns a
    // problem naming the owner's pid when another running process holds the lock; a lock that
    // cannot be created (a read-only directory) is only warned about.
    Problems lockFile();

    // Reads the file; creates it with exampleConfig() when it does not exist. On failure the
    // store keeps an empty config, the file is left untouched and fileIsBroken() is true: every
    // mutation is refused until the user recovers the backup or saves on purpose (save()).
    // A load that changes the config counts as a change (changed() fires, revision() moves).
    LoadResult load();
    // Loads NAME.bak instead (the user chose to recover). While the file is broken, the backup
    // replaces the config in memory, fileIsBroken() turns false and the broken file stays on
    // disk until the next change or save(), which keeps its bytes as NAME.broken. Otherwise the
    // backup is committed like any change (the current file becomes the new NAME.bak).
    LoadResult loadBackup();
    // The outcome of the last load() or loadBackup(), for a window opened afterwards.
    LoadResult lastLoadResult() const;

    Config config() const;
    Problems warnings() const;
    bool fileIsBroken() const { return m_broken; }

    // Every mutation validates the resulting config as a whole; on any problem nothing changes
    // and the problems are returned. On success the file is saved atomically and changed() fires.
    Problems replace(const Config& next);
    Problems putRoute(const StreamRoute& route); // create or replace by id
    Problems deleteRoute(const QString& id);
    Problems moveRoute(const QString& id, int newIndex); // match order
    // Stamp::KeepGiven keeps the create_time / update_time the object holds (a PATCH).
    enum class Stamp { Now, KeepGiven };
    // What a delete does while other objects still name the one deleted: refused (naming
    // them), or deleted, leaving them naming nothing (the admin API, which checks what APISIX
    // checks first, and force-deletes).
    enum class InUse { Refuse, Delete };
    Problems putUpstream(const Upstream& upstream, Stamp stamp = Stamp::Now);
    Problems deleteUpstream(const QString& id, InUse inUse = InUse::Refuse);
    Problems putService(const Service& service, Stamp stamp = Stamp::Now);
    Problems deleteService(const QString& id, InUse inUse = InUse::Refuse);
    // ssls: nothing in a stream config refers to one by id, so a delete is never refused.
    Problems putSsl(const Ssl& ssl, Stamp stamp = Stamp::Now);
    Problems deleteSsl(const QString& id);
    Problems setStreamProxy(const StreamProxy& proxy);
    Problems setSettings(const StreamgateSettings& streamgate);
    // The section as JSON: decoded and validated first (problems name streamgate.<key>).
    Problems setSettings(const QJsonObject& streamgate);
    // An edit that reads what it changes (the pure functions of config/routeedits.h): `edit` runs
    // once, under the write lock, on the config as it is after a change on disk was taken in, so
    // it always works on the newest version. Problems it returns refuse the change (nothing is
    // written); otherwise the result is stamped and committed as replace() commits.
    using Edit = std::function<Problems(Config&)>;
    Problems update(const Edit& edit);
    // Saves the current config even if the file on disk is broken (the user's explicit choice);
    // the broken file's bytes are kept as NAME.broken, NAME.bak stays the last good version.
    Problems save();

    // Monotonic counter, +1 per accepted change (admin API modifiedIndex).
    qint64 revision() const;

    // Takes in the file if it changed on disk since this store loaded or wrote it: validated
    // whole like a load, published as a diff. A file that does not validate is reported (its
    // problems are returned and logged) and the running config stays. `force` re-reads even an
    // unchanged file (SIGHUP).
    Problems reload(bool force = false);
    // Watches the file and its directory and reloads (debounced) when either changes, so an
    // edit in a text editor applies without a restart, with or without a window.
    void watchFile();

Q_SIGNALS:
    void changed(const sg::ConfigDiff& diff, const sg::Config& config);

private:
    // Takes in a change on disk, applies `edit` to the result and commits it.
    Problems edit(const Edit& apply);
    // The disk part of reload(): true when the file was taken in or had not changed; false with
    // *problems set when it changed and does not validate.
    bool takeInDiskChanges(bool force, Problems* problems);
    void watchAgain();
    Problems commit(Config next);
    Problems writeFile(const QJsonObject& json, bool overwriteBroken);
    Problems refusedWhileBroken() const;
    void adopt(const Config& config, const Problems& warnings);

    QString m_path;
    // Held for a whole mutation (validate, write, publish); recursive so a slot connected to
    // changed() may itself change the config.
    QRecursiveMutex m_writeMutex;
    mutable QMutex m_mutex; // guards m_config, m_warnings, m_revision, m_lastLoad for readers
    LoadResult m_lastLoad;
    Config m_config;
    Problems m_warnings;
    qint64 m_revision = 0;
    std::atomic<bool> m_broken = false;
    bool m_replaceBroken = false; // the user recovered the backup: the next write may replace
    QByteArray m_knownGoodHash;   // SHA-256 of the file as this store last loaded or wrote it
    QByteArray m_seenBrokenHash;  // SHA-256 of the broken file last reported (not again)
    Problems m_diskProblems;      // why the file on disk does not validate (while broken)
    std::unique_ptr<QLockFile> m_lock;
    QFileSystemWatcher* m_watcher = nullptr;
    QTimer* m_debounce = nullptr;
};

} // namespace sg
