#include "secrets/secretservice.h"

#include <QDBusArgument>
#include <QDBusError>
#include <QDBusMessage>
#include <QDBusMetaType>
#include <QDBusObjectPath>
#include <QDBusPendingCallWatcher>
#include <QDBusVariant>
#include <QPointer>
#include <QTimer>

namespace sg::ui {

namespace {

const QString kService = QStringLiteral("org.freedesktop.secrets");
const QString kServicePath = QStringLiteral("/org/freedesktop/secrets");
const QString kServiceInterface = QStringLiteral("org.freedesktop.Secret.Service");
const QString kCollectionInterface = QStringLiteral("org.freedesktop.Secret.Collection");
const QString kItemInterface = QStringLiteral("org.freedesktop.Secret.Item");
const QString kSessionInterface = QStringLiteral("org.freedesktop.Secret.Session");
const QString kPromptInterface = QStringLiteral("org.freedesktop.Secret.Prompt");
const QString kNoObject = QStringLiteral("/"); // "no prompt needed", "no such collection"

// The Secret struct of the specification: (session, parameters, value, content type).
struct WireSecret
{
    QDBusObjectPath session;
    QByteArray parameters; // empty for the "plain" algorithm
    QByteArray value;
    QString contentType;
};

QDBusArgument& operator<<(QDBusArgument& arg, const WireSecret& secret)
{
    arg.beginStructure();
    arg << secret.session << secret.parameters << secret.value << secret.contentType;
    arg.endStructure();
    return arg;
}

const QDBusArgument& operator>>(const QDBusArgument& arg, WireSecret& secret)
{
    arg.beginStructure();
    arg >> secret.session >> secret.parameters >> secret.value >> secret.contentType;
    arg.endStructure();
    return arg;
}

QString objectPath(const QVariant& value)
{
    return qdbus_cast<QDBusObjectPath>(value).path();
}

QStringList objectPaths(const QVariant& value)
{
    QStringList paths;
    for (const QDBusObjectPath& p : qdbus_cast<QList<QDBusObjectPath>>(value))
        paths << p.path();
    return paths;
}

// What a failed call means to a user: no store at all, a store that hangs, or a refusal.
QString callError(const QString& method, const QDBusMessage& reply, int timeoutMs)
{
    const QString name = reply.errorName();
    if (name == QLatin1String("org.freedesktop.DBus.Error.ServiceUnknown") ||
        name == QLatin1String("org.freedesktop.DBus.Error.NameHasNoOwner"))
        return QStringLiteral("no secret store (org.freedesktop.secrets) on the session bus");
    if (name == QLatin1String("org.freedesktop.DBus.Error.Disconnected"))
        return QStringLiteral("no session bus: %1").arg(reply.errorMessage());
    if (name == QLatin1String("org.freedesktop.DBus.Error.NoReply") ||
        name == QLatin1String("org.freedesktop.DBus.Error.Timeout"))
        return QStringLiteral("the secret store did not answer %1 within %2 s")
            .arg(method)
            .arg(timeoutMs / 1000.0);
    return QStringLiteral("the secret store refused %1: %2 (%3)")
        .arg(method, reply.errorMessage(), name);
}

} // namespace

// One operation: a chain of asynchronous calls, each bounded by the call timeout, with at most
// one prompt at a time, bounded by the prompt timeout. Ends exactly once, through finish() or
// fail(); destroyed with its SecretService without calling back.
class SecretOperation final : public QObject
{
    Q_OBJECT

public:
    using Next = std::function<void(const QDBusMessage&)>;

    SecretOperation(SecretService* service, SecretService::Done done)
        : QObject(service), m_service(service), m_done(std::move(done))
    {
        m_promptTimer.setSingleShot(true);
        m_promptTimer.setTimerType(Qt::PreciseTimer); // "within N s" means N s, not 5 % less
        connect(&m_promptTimer, &QTimer::timeout, this, &SecretOperation::promptTimedOut);
    }

    ~SecretOperation() override { release(); }

    SecretReply reply;
    QString session() const { return m_session; }

    // Calls `method` and hands the reply to `next` when it has at least `replyArgs` arguments.
    void call(const QString& path, const QString& interface, const QString& method,
              const QVariantList& args, int replyArgs, Next next)
    {
        if (!m_service->m_bus.isConnected()) { // asyncCall would never finish: say so later
            const QString why = m_service->m_bus.lastError().message();
            QTimer::singleShot(0, this, [this, why] {
                fail(QStringLiteral("no session bus: %1")
                         .arg(why.isEmpty() ? QStringLiteral("not connected") : why));
            });
            return;
        }
        QDBusMessage message = QDBusMessage::createMethodCall(kService, path, interface, method);
        message.setArguments(args);
        const int timeout = m_service->callTimeout();
        auto* watcher =
            new QDBusPendingCallWatcher(m_service->m_bus.asyncCall(message, timeout), this);
        connect(watcher, &QDBusPendingCallWatcher::finished, this,
                [this, watcher, method, replyArgs, timeout, next = std::move(next)] {
                    watcher->deleteLater();
                    const QDBusMessage answer = watcher->reply();
                    if (answer.type() == QDBusMessage::ErrorMessage) {
                        fail(callError(method, answer, timeout));
                        return;
                    }
                    reply.answered = true;
                    if (answer.arguments().size() < replyArgs) {
                        fail(QStringLiteral("the secret store answered %1 with %2 value(s), "
                                            "expected %3")
                                 .arg(method)
                                 .arg(answer.arguments().size())
                                 .arg(replyArgs));
                        return;
                    }
                    next(answer);
                });
    }

    void openSession(std::function<void()> next)
    {
        call(kServicePath, kServiceInterface, QStringLiteral("OpenSession"),
             {QStringLiteral("plain"), QVariant::fromValue(QDBusVariant(QString()))}, 2,
             [this, next = std::move(next)](const QDBusMessage& m) {
                 m_session = objectPath(m.arguments().at(1));
                 next();
             });
    }

    // Runs `next` once the prompt (if any) has completed, with the prompt's result.
    void afterPrompt(const QString& prompt, std::function<void(const QVariant&)> next)
    {
        if (prompt.isEmpty() || prompt == kNoObject) {
            next(QVariant());
            return;
        }
        // Watch for Completed before asking: the answer may come before Prompt's reply.
        if (!m_service->m_bus.connect(kService, prompt, kPromptInterface,
                                      QStringLiteral("Completed"), this,
                                      SLOT(promptCompleted(bool, QDBusVariant)))) {
            fail(QStringLiteral("cannot watch the secret store's prompt %1").arg(prompt));
            return;
        }
        m_prompt = prompt;
        m_promptNext = std::move(next);
        m_promptTimer.start(m_service->promptTimeout());
        call(prompt, kPromptInterface, QStringLiteral("Prompt"), {QString()}, 0,
             [](const QDBusMessage&) {}); // shown; the answer comes as Completed
    }

    // Unlocks `paths` (items or collections), through a prompt when the service asks.
    void unlock(const QStringList& paths, std::function<void()> next)
    {
        QList<QDBusObjectPath> objects;
        for (const QString& p : paths)
            objects << QDBusObjectPath(p);
        call(kServicePath, kServiceInterface, QStringLiteral("Unlock"),
             {QVariant::fromValue(objects)}, 2,
             [this, paths, next = std::move(next)](const QDBusMessage& m) {
                 const QString prompt = objectPath(m.arguments().at(1));
                 if ((prompt.isEmpty() || prompt == kNoObject) &&
                     objectPaths(m.arguments().at(0)).size() < paths.size()) {
                     fail(QStringLiteral("the secret store did not unlock %1")
                              .arg(paths.join(QStringLiteral(", "))));
                     return;
                 }
                 afterPrompt(prompt, [next](const QVariant&) { next(); });
             });
    }

    // Deletes `items` one after the other (each may ask for a prompt).
    void deleteItems(QStringList items, std::function<void()> next)
    {
        if (items.isEmpty()) {
            next();
            return;
        }
        const QString item = items.takeFirst();
        call(item, kItemInterface, QStringLiteral("Delete"), {}, 1,
             [this, items, next = std::move(next)](const QDBusMessage& m) {
                 afterPrompt(objectPath(m.arguments().at(0)),
                             [this, items, next](const QVariant&) { deleteItems(items, next); });
             });
    }

    void finish() { end(); }

    void fail(const QString& why)
    {
        reply.error = why;
        end();
    }

private Q_SLOTS:
    void promptCompleted(bool dismissed, const QDBusVariant& result)
    {
        if (m_prompt.isEmpty())
            return;
        stopWatchingPrompt();
        if (dismissed) {
            fail(QStringLiteral("the secret store's unlock prompt was dismissed"));
            return;
        }
        const auto next = std::move(m_promptNext);
        next(result.variant());
    }

private:
    // The prompt is left where it is rather than dismissed: GNOME Keyring 42 aborts (an
    // assertion in gkd-secret-unlock.c) when an unlock prompt it is showing is dismissed, taking
    // every application's secrets with it. A user who answers it later just unlocks the keyring.
    void promptTimedOut()
    {
        stopWatchingPrompt();
        fail(QStringLiteral("the secret store's unlock prompt was not answered within %1 s")
                 .arg(m_service->promptTimeout() / 1000.0));
    }

    void stopWatchingPrompt()
    {
        m_service->m_bus.disconnect(kService, m_prompt, kPromptInterface,
                                    QStringLiteral("Completed"), this,
                                    SLOT(promptCompleted(bool, QDBusVariant)));
        m_promptTimer.stop();
        m_prompt.clear();
        m_promptNext = nullptr;
    }

    // Closes the session (without waiting for an answer) and stops watching a prompt.
    void release()
    {
        if (!m_prompt.isEmpty())
            stopWatchingPrompt();
        if (!m_session.isEmpty() && m_session != kNoObject)
            m_service->m_bus.send(QDBusMessage::createMethodCall(
                kService, m_session, kSessionInterface, QStringLiteral("Close")));
        m_session.clear();
    }

    void end()
    {
        if (m_ended)
            return;
        m_ended = true;
        release();
        // Nothing of this operation runs after its callback: pending calls are dropped with it.
        for (QDBusPendingCallWatcher* w : findChildren<QDBusPendingCallWatcher*>())
            w->disconnect(this);
        // The callback may destroy the service, and this operation with it.
        const SecretService::Done done = std::move(m_done);
        const SecretReply result = reply;
        const QPointer<SecretOperation> self(this);
        if (done)
            done(result);
        if (self)
            deleteLater();
    }

    SecretService* m_service;
    SecretService::Done m_done;
    QString m_session;
    QString m_prompt;
    std::function<void(const QVariant&)> m_promptNext;
    QTimer m_promptTimer;
    bool m_ended = false;
};

SecretService::SecretService(const QDBusConnection& bus, QObject* parent)
    : QObject(parent), m_bus(bus)
{
    qDBusRegisterMetaType<WireSecret>();
    qDBusRegisterMetaType<SecretAttributes>();
}

SecretService::~SecretService()
{
    // Before m_bus goes: an operation closes its session through it.
    qDeleteAll(findChildren<SecretOperation*>(Qt::FindDirectChildrenOnly));
}

void SecretService::lookup(const SecretAttributes& attributes, Done done)
{
    auto* op = new SecretOperation(this, std::move(done));
    op->openSession([op, attributes] {
        op->call(kServicePath, kServiceInterface, QStringLiteral("SearchItems"),
                 {QVariant::fromValue(attributes)}, 2, [op](const QDBusMessage& m) {
                     const QStringList unlocked = objectPaths(m.arguments().at(0));
                     const QStringList locked = objectPaths(m.arguments().at(1));
                     if (unlocked.isEmpty() && locked.isEmpty()) {
                         op->finish();
                         return;
                     }
                     const QString item = unlocked.isEmpty() ? locked.first() : unlocked.first();
                     auto get = [op, item] {
                         op->call(item, kItemInterface, QStringLiteral("GetSecret"),
                                  {QVariant::fromValue(QDBusObjectPath(op->session()))}, 1,
                                  [op, item](const QDBusMessage& r) {
                                      const auto secret =
                                          qdbus_cast<WireSecret>(r.arguments().at(0));
                                      op->reply.found = true;
                                      op->reply.item = item;
                                      op->reply.secret = secret.value;
                                      op->finish();
                                  });
                     };
                     if (unlocked.isEmpty())
                         op->unlock({item}, get);
                     else
                         get();
                 });
    });
}

void SecretService::store(const QString& label, const SecretAttributes& identity,
                          const SecretAttributes& extra, const QByteArray& secret, Done done)
{
    auto* op = new SecretOperation(this, std::move(done));
    SecretAttributes attributes = identity;
    attributes.insert(extra);
    // After the new item is in place, the others that matched the identity go.
    auto removeOthers = [op, identity] {
        op->call(kServicePath, kServiceInterface, QStringLiteral("SearchItems"),
                 {QVariant::fromValue(identity)}, 2, [op](const QDBusMessage& m) {
                     QStringList others =
                         objectPaths(m.arguments().at(0)) + objectPaths(m.arguments().at(1));
                     others.removeAll(op->reply.item);
                     op->deleteItems(others, [op] { op->finish(); });
                 });
    };
    auto create = [op, label, attributes, secret, removeOthers] {
        const QVariantMap properties{{QStringLiteral("org.freedesktop.Secret.Item.Label"), label},
                                     {QStringLiteral("org.freedesktop.Secret.Item.Attributes"),
                                      QVariant::fromValue(attributes)}};
        const WireSecret wire{
            QDBusObjectPath(op->session()), {}, secret, QStringLiteral("text/plain")};
        op->call(op->reply.collection, kCollectionInterface, QStringLiteral("CreateItem"),
                 {properties, QVariant::fromValue(wire), true}, 2,
                 [op, removeOthers](const QDBusMessage& m) {
                     op->reply.item = objectPath(m.arguments().at(0));
                     op->afterPrompt(objectPath(m.arguments().at(1)),
                                     [op, removeOthers](const QVariant& result) {
                                         if (op->reply.item == kNoObject)
                                             op->reply.item = objectPath(result);
                                         removeOthers();
                                     });
                 });
    };
    op->openSession([op, create] {
        op->call(kServicePath, kServiceInterface, QStringLiteral("ReadAlias"),
                 {QStringLiteral("default")}, 1, [op, create](const QDBusMessage& m) {
                     op->reply.collection = objectPath(m.arguments().at(0));
                     if (op->reply.collection.isEmpty() || op->reply.collection == kNoObject) {
                         op->fail(QStringLiteral("the secret store has no default collection "
                                                 "(keyring) to keep the key in"));
                         return;
                     }
                     op->unlock({op->reply.collection}, create);
                 });
    });
}

void SecretService::remove(const SecretAttributes& attributes, Done done)
{
    auto* op = new SecretOperation(this, std::move(done));
    op->call(kServicePath, kServiceInterface, QStringLiteral("SearchItems"),
             {QVariant::fromValue(attributes)}, 2, [op](const QDBusMessage& m) {
                 const QStringList unlocked = objectPaths(m.arguments().at(0));
                 const QStringList locked = objectPaths(m.arguments().at(1));
                 const QStringList all = unlocked + locked;
                 auto remove = [op, all] { op->deleteItems(all, [op] { op->finish(); }); };
                 if (locked.isEmpty())
                     remove();
                 else
                     op->unlock(locked, remove);
             });
}

void SecretService::search(const SecretAttributes& attributes, Done done)
{
    auto* op = new SecretOperation(this, std::move(done));
    op->call(kServicePath, kServiceInterface, QStringLiteral("SearchItems"),
             {QVariant::fromValue(attributes)}, 2, [op](const QDBusMessage& m) {
                 op->reply.items =
                     objectPaths(m.arguments().at(0)) + objectPaths(m.arguments().at(1));
                 op->finish();
             });
}

} // namespace sg::ui

#include "secretservice.moc"
