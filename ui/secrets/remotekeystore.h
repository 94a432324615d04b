#pragma once
// Where the remote APISIX window keeps the admin key of the remote cluster: in the desktop's
// secret store (Secret Service) when one answers on the session bus, else in a file of its own,
// 0600, beside the settings; never in the settings file. A key file found while a secret store
// answers (left by an earlier version, or by a time the store did not answer) is moved into the
// store and removed. Loads and saves run one at a time, in the order asked, so a load after a
// save reads what was saved. Nothing blocks the caller: each step is an asynchronous D-Bus call
// bounded by the SecretService timeouts, and callbacks run later from the event loop.

#include <QDBusConnection>
#include <QMap>
#include <QObject>
#include <QPointer>
#include <QQueue>
#include <QString>
#include <QUrl>
#include <functional>

namespace sg::ui {

class SecretService;

class RemoteKeyStore final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RemoteKeyStore)

public:
    enum class Place { Unknown, SecretService, File };

    struct Result
    {
        QString key;   // load: the key kept, empty when there is none
        QString error; // what went wrong (also logged); empty when all went well
        Place place = Place::Unknown;
    };
    using Done = std::function<void(const Result&)>;

    // The attributes the key's item is found by in the secret store.
    static const QMap<QString, QString>& identity();

    RemoteKeyStore(const QString& filePath, const QDBusConnection& bus, QObject* parent = nullptr);
    ~RemoteKeyStore() override;

    // The store the windows of this process share: the session bus, and remote-apisix.key
    // beside the QSettings file. Made on first use, owned by the application; when it quits,
    // a save still under way gets up to 2 s to finish.
    static RemoteKeyStore* shared();

    // `done` runs later, unless `context` (when given) has been destroyed by then.
    void load(const QUrl& adminUrl, QObject* context, Done done);
    // Keeps `key` for `adminUrl` (the URL is recorded beside it); an empty key forgets it.
    void save(const QUrl& adminUrl, const QString& key, QObject* context, Done done);

    Place place() const { return m_place; }
    // Why the key is in the file rather than the secret store; empty otherwise.
    QString fileReason() const { return m_fileReason; }
    QString filePath() const { return m_filePath; }
    bool isBusy() const { return m_running || !m_queue.isEmpty(); }
    // Runs the event loop until every queued load and save has finished, at most `ms`.
    bool waitUntilIdle(int ms);
    SecretService* secretService() const { return m_secrets; }

Q_SIGNALS:
    void placeChanged(sg::ui::RemoteKeyStore::Place place);
    void idle();

private:
    void enqueue(std::function<void()> task);
    void runNext();
    // Records where the key is kept (logged when that changes), reports, starts the next task.
    void complete(const Result& result, const QString& fileReason, QPointer<QObject> context,
                  bool hadContext, const Done& done);

    QString m_filePath;
    SecretService* m_secrets = nullptr;
    QQueue<std::function<void()>> m_queue;
    bool m_running = false;
    Place m_place = Place::Unknown;
    Place m_loggedPlace = Place::Unknown;
    QString m_fileReason;
};

} // namespace sg::ui
