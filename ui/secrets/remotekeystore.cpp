#include "secrets/remotekeystore.h"

#include "config/keyfile.h"
#include "config/logging.h"
#include "secrets/secretservice.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFileInfo>
#include <QSettings>
#include <QTimer>

namespace sg::ui {

namespace {

SecretAttributes urlAttributes(const QUrl& adminUrl)
{
    SecretAttributes extra;
    if (!adminUrl.isEmpty())
        extra.insert(QStringLiteral("url"), adminUrl.toString());
    return extra;
}

QString itemLabel(const QUrl& adminUrl)
{
    return adminUrl.isEmpty() ? QStringLiteral("Streamgate: remote APISIX admin key")
                              : QStringLiteral("Streamgate: remote APISIX admin key for %1")
                                    .arg(adminUrl.toString());
}

bool fileThere(const QString& path)
{
    const QFileInfo info(path);
    return info.exists() || info.isSymLink();
}

QString joined(const QString& a, const QString& b)
{
    if (a.isEmpty())
        return b;
    return b.isEmpty() ? a : a + QStringLiteral("; ") + b;
}

} // namespace

const QMap<QString, QString>& RemoteKeyStore::identity()
{
    static const SecretAttributes attributes{
        {QStringLiteral("application"), QStringLiteral("streamgate")},
        {QStringLiteral("kind"), QStringLiteral("remote-apisix-admin-key")}};
    return attributes;
}

RemoteKeyStore::RemoteKeyStore(const QString& filePath, const QDBusConnection& bus, QObject* parent)
    : QObject(parent), m_filePath(filePath), m_secrets(new SecretService(bus, this))
{
}

RemoteKeyStore::~RemoteKeyStore() = default;

RemoteKeyStore* RemoteKeyStore::shared()
{
    static QPointer<RemoteKeyStore> store;
    if (!store) {
        const QString path =
            QFileInfo(QSettings().fileName()).absolutePath() + QStringLiteral("/remote-apisix.key");
        store =
            new RemoteKeyStore(path, QDBusConnection::sessionBus(), QCoreApplication::instance());
        connect(QCoreApplication::instance(), &QCoreApplication::aboutToQuit, store,
                [s = store.data()] { s->waitUntilIdle(2000); });
    }
    return store;
}

void RemoteKeyStore::load(const QUrl& adminUrl, QObject* context, Done done)
{
    const QPointer<QObject> guard(context);
    const bool hadContext = context != nullptr;
    enqueue([this, adminUrl, guard, hadContext, done = std::move(done)] {
        QString fileProblem;
        if (fileThere(m_filePath)) {
            const KeyFileResult file = readPrivateKeyFile(m_filePath);
            if (file.ok) {
                // Into the store, then the file goes; if the store cannot take it, it stays.
                m_secrets->store(
                    itemLabel(adminUrl), identity(), urlAttributes(adminUrl), file.key.toUtf8(),
                    [this, key = file.key, guard, hadContext, done](const SecretReply& reply) {
                        if (!reply.ok()) {
                            complete({key, reply.answered ? reply.error : QString(), Place::File},
                                     reply.error, guard, hadContext, done);
                            return;
                        }
                        qCInfo(lcUi).noquote() << "moved the remote APISIX admin key from"
                                               << m_filePath << "into the desktop's secret store";
                        complete(
                            {key, savePrivateKeyFile(m_filePath, QString()), Place::SecretService},
                            QString(), guard, hadContext, done);
                    });
                return;
            }
            fileProblem = file.message; // not this user's private file: not used
        }
        m_secrets->lookup(
            identity(), [this, fileProblem, guard, hadContext, done](const SecretReply& reply) {
                if (reply.ok()) {
                    complete({QString::fromUtf8(reply.secret), fileProblem, Place::SecretService},
                             QString(), guard, hadContext, done);
                } else if (reply.answered) { // there, but it would not give the key (locked)
                    complete({QString(), joined(reply.error, fileProblem), Place::SecretService},
                             QString(), guard, hadContext, done);
                } else {
                    complete({QString(), fileProblem, Place::File}, reply.error, guard, hadContext,
                             done);
                }
            });
    });
}

void RemoteKeyStore::save(const QUrl& adminUrl, const QString& key, QObject* context, Done done)
{
    const QPointer<QObject> guard(context);
    const bool hadContext = context != nullptr;
    enqueue([this, adminUrl, key, guard, hadContext, done = std::move(done)] {
        if (key.isEmpty()) {
            m_secrets->remove(
                identity(), [this, guard, hadContext, done](const SecretReply& reply) {
                    const QString fileError = savePrivateKeyFile(m_filePath, QString());
                    const Place place = reply.answered ? Place::SecretService : Place::File;
                    complete({QString(),
                              joined(reply.answered ? reply.error : QString(), fileError), place},
                             reply.answered ? QString() : reply.error, guard, hadContext, done);
                });
            return;
        }
        m_secrets->store(
            itemLabel(adminUrl), identity(), urlAttributes(adminUrl), key.toUtf8(),
            [this, key, guard, hadContext, done](const SecretReply& reply) {
                if (reply.ok()) { // a key file left from before is stale now
                    complete({key, savePrivateKeyFile(m_filePath, QString()), Place::SecretService},
                             QString(), guard, hadContext, done);
                    return;
                }
                const QString fileError = savePrivateKeyFile(m_filePath, key);
                complete({key,
                          joined(reply.answered ? reply.error : QString(),
                                 fileError.isEmpty() ? QString()
                                                     : QStringLiteral("not saved: ") + fileError),
                          fileError.isEmpty() ? Place::File : Place::Unknown},
                         reply.error, guard, hadContext, done);
            });
    });
}

void RemoteKeyStore::complete(const Result& result, const QString& fileReason,
                              QPointer<QObject> context, bool hadContext, const Done& done)
{
    if (result.place != Place::Unknown) {
        const bool changed = result.place != m_place;
        m_place = result.place;
        m_fileReason = result.place == Place::File ? fileReason : QString();
        if (m_place != m_loggedPlace) {
            m_loggedPlace = m_place;
            if (m_place == Place::SecretService)
                qCInfo(lcUi).noquote() << "the remote APISIX admin key is kept in the desktop's "
                                          "secret store (Secret Service)";
            else
                qCInfo(lcUi).noquote() << "the remote APISIX admin key is kept in" << m_filePath
                                       << "(readable by this user only):" << m_fileReason;
        }
        if (changed)
            Q_EMIT placeChanged(m_place);
    }
    if (!result.error.isEmpty())
        qCWarning(lcUi).noquote() << "remote APISIX admin key:" << result.error;
    if (done && (!hadContext || context))
        done(result);
    m_running = false;
    runNext();
}

void RemoteKeyStore::enqueue(std::function<void()> task)
{
    m_queue.enqueue(std::move(task));
    if (!m_running)
        runNext();
}

void RemoteKeyStore::runNext()
{
    if (m_queue.isEmpty()) {
        Q_EMIT idle();
        return;
    }
    m_running = true;
    m_queue.dequeue()();
}

bool RemoteKeyStore::waitUntilIdle(int ms)
{
    if (!isBusy())
        return true;
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    connect(this, &RemoteKeyStore::idle, &loop, &QEventLoop::quit);
    loop.exec();
    return !isBusy();
}

} // namespace sg::ui
