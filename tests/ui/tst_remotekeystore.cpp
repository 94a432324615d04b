// The remote APISIX admin key against a real Secret Service: GNOME Keyring's daemon on a private
// session bus with a throw-away keyring. Store, read back, replace, delete; a key file moved into
// the store; the 0600 file when nothing answers on the bus, when there is no bus, and when the
// store hangs (bounded, the event loop kept running); a locked keyring whose unlock prompt
// nobody can answer.

#include "config/keyfile.h"
#include "secrets/remotekeystore.h"
#include "secrets/secretservice.h"
#include "secretservicefixture.h"

#include <QCoreApplication>
#include <QDBusArgument>
#include <QDBusMetaType>
#include <QDBusObjectPath>
#include <QDBusVariant>
#include <QDBusVirtualObject>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QScopeGuard>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <memory>
#include <optional>
#include <signal.h>

using namespace sg;
using namespace sg::ui;
using namespace sgtest;

namespace {

const QUrl kUrl(QStringLiteral("http://127.0.0.1:9180"));

// Runs the event loop until `start`'s callback has run, at most `ms`.
template <typename Reply, typename Start> std::optional<Reply> await(Start start, int ms = 15000)
{
    std::optional<Reply> got;
    start([&got](const Reply& r) { got = r; });
    const QDeadlineTimer deadline(ms);
    while (!got && !deadline.hasExpired())
        QTest::qWait(5);
    return got;
}

std::optional<SecretReply> awaitSecret(std::function<void(SecretService::Done)> start,
                                       int ms = 15000)
{
    return await<SecretReply>(std::move(start), ms);
}

std::optional<RemoteKeyStore::Result> awaitStore(std::function<void(RemoteKeyStore::Done)> start,
                                                 int ms = 15000)
{
    return await<RemoteKeyStore::Result>(std::move(start), ms);
}

bool privateFile(const QString& path)
{
    const QFileDevice::Permissions p = QFile::permissions(path);
    return (p & (QFile::ReadOwner | QFile::WriteOwner)) == (QFile::ReadOwner | QFile::WriteOwner) &&
           !(p & (QFile::ReadGroup | QFile::WriteGroup | QFile::ReadOther | QFile::WriteOther));
}

QDBusMessage callSecrets(const QDBusConnection& bus, const QString& path, const QString& interface,
                         const QString& method, const QVariantList& args = {})
{
    QDBusMessage m = QDBusMessage::createMethodCall(QStringLiteral("org.freedesktop.secrets"), path,
                                                    interface, method);
    m.setArguments(args);
    return bus.call(m, QDBus::Block, 5000);
}

// GNOME Keyring shows its unlock prompts through a system prompter on the session bus. This
// one takes every request and never answers: a prompt left on the screen, nobody typing.
class SilentPrompter final : public QDBusVirtualObject
{
public:
    QStringList asked;
    QString introspect(const QString&) const override { return {}; }
    bool handleMessage(const QDBusMessage& message, const QDBusConnection&) override
    {
        asked << message.member();
        return true; // handled; no reply is ever sent
    }
};

} // namespace

class TestRemoteKeyStore : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanupTestCase();

    void storeReadReplaceDelete();
    void keyKeptInSecretStoreNotInFile();
    void keyFileMovedIntoSecretStore();
    void fileWhenNothingAnswersOnTheBus();
    void fileWithoutSessionBus();
    void hungSecretStoreIsBounded();
    void lockedKeyringPromptIsBounded();

private:
    QString keyringMissing() const { return m_keyringError; }
    QDBusConnection connection(const QString& name) { return m_keyringBus.connect(name); }

    PrivateSessionBus m_keyringBus; // GNOME Keyring runs on this one
    PrivateSessionBus m_emptyBus;   // nothing but the bus itself
    GnomeKeyring m_keyring;
    QString m_keyringError;
    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_keyFile;
    int m_connections = 0;
};

void TestRemoteKeyStore::initTestCase()
{
    const QString busError = m_keyringBus.start();
    QVERIFY2(busError.isEmpty(), qPrintable(busError));
    const QString emptyError = m_emptyBus.start();
    QVERIFY2(emptyError.isEmpty(), qPrintable(emptyError));
    QVERIFY(m_keyringBus.connect(QStringLiteral("probe")).isConnected());
    m_keyringError = m_keyring.start(m_keyringBus, m_keyringBus.connect(QStringLiteral("probe")));
    if (!m_keyringError.isEmpty())
        qWarning("no Secret Service for the tests that need one: %s", qPrintable(m_keyringError));
}

void TestRemoteKeyStore::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_keyFile = m_dir->filePath(QStringLiteral("streamgate/remote-apisix.key"));
    if (m_keyringError.isEmpty()) { // each test starts with no key kept
        SecretService secrets(connection(QStringLiteral("cleanup")));
        const auto removed = awaitSecret(
            [&](SecretService::Done d) { secrets.remove(RemoteKeyStore::identity(), d); });
        QVERIFY(removed);
        QVERIFY2(removed->ok(), qPrintable(removed->error));
    }
}

void TestRemoteKeyStore::cleanupTestCase()
{
    m_keyring.stop();
    m_keyringBus.stop();
    m_emptyBus.stop();
}

void TestRemoteKeyStore::storeReadReplaceDelete()
{
    if (!m_keyringError.isEmpty())
        QSKIP(qPrintable(QStringLiteral("gnome-keyring-daemon cannot start here: ") +
                         m_keyringError));
    SecretService writer(connection(QStringLiteral("writer")));
    SecretService reader(connection(QStringLiteral("reader"))); // another client of the store
    const SecretAttributes identity{{QStringLiteral("application"), QStringLiteral("streamgate")},
                                    {QStringLiteral("kind"), QStringLiteral("test-secret")}};

    auto stored = awaitSecret([&](SecretService::Done d) {
        writer.store(QStringLiteral("test secret"), identity,
                     {{QStringLiteral("url"), QStringLiteral("http://a:1")}}, "first \xe2\x9c\x93",
                     d);
    });
    QVERIFY(stored);
    QVERIFY2(stored->ok(), qPrintable(stored->error));
    QCOMPARE(stored->collection, QStringLiteral("/org/freedesktop/secrets/collection/login"));
    const QString firstItem = stored->item;
    QVERIFY(firstItem.startsWith(stored->collection + QLatin1Char('/')));

    auto read = awaitSecret([&](SecretService::Done d) { reader.lookup(identity, d); });
    QVERIFY(read);
    QVERIFY2(read->ok(), qPrintable(read->error));
    QVERIFY(read->found);
    QCOMPARE(read->secret, QByteArray("first \xe2\x9c\x93"));
    QCOMPARE(read->item, firstItem);

    // Replaced under other extra attributes: still one item for the identity.
    stored = awaitSecret([&](SecretService::Done d) {
        writer.store(QStringLiteral("test secret"), identity,
                     {{QStringLiteral("url"), QStringLiteral("http://b:2")}}, "second", d);
    });
    QVERIFY(stored);
    QVERIFY2(stored->ok(), qPrintable(stored->error));
    auto found = awaitSecret([&](SecretService::Done d) { reader.search(identity, d); });
    QVERIFY(found);
    QCOMPARE(found->items, QStringList{stored->item});
    read = awaitSecret([&](SecretService::Done d) { reader.lookup(identity, d); });
    QVERIFY(read);
    QCOMPARE(read->secret, QByteArray("second"));
    // The item carries the attributes it was stored with.
    const QDBusMessage attributes =
        callSecrets(connection(QStringLiteral("reader")), stored->item,
                    QStringLiteral("org.freedesktop.DBus.Properties"), QStringLiteral("Get"),
                    {QStringLiteral("org.freedesktop.Secret.Item"), QStringLiteral("Attributes")});
    QCOMPARE(attributes.type(), QDBusMessage::ReplyMessage);
    const auto map =
        qdbus_cast<SecretAttributes>(attributes.arguments().at(0).value<QDBusVariant>().variant());
    QCOMPARE(map.value(QStringLiteral("url")), QStringLiteral("http://b:2"));
    QCOMPARE(map.value(QStringLiteral("kind")), QStringLiteral("test-secret"));

    const auto removed = awaitSecret([&](SecretService::Done d) { writer.remove(identity, d); });
    QVERIFY(removed);
    QVERIFY2(removed->ok(), qPrintable(removed->error));
    read = awaitSecret([&](SecretService::Done d) { reader.lookup(identity, d); });
    QVERIFY(read);
    QVERIFY2(read->ok(), qPrintable(read->error));
    QVERIFY(!read->found);
    found = awaitSecret([&](SecretService::Done d) { reader.search(identity, d); });
    QVERIFY(found);
    QVERIFY(found->items.isEmpty());
}

void TestRemoteKeyStore::keyKeptInSecretStoreNotInFile()
{
    if (!m_keyringError.isEmpty())
        QSKIP(qPrintable(QStringLiteral("gnome-keyring-daemon cannot start here: ") +
                         m_keyringError));
    {
        RemoteKeyStore store(m_keyFile, connection(QStringLiteral("app1")));
        QCOMPARE(store.place(), RemoteKeyStore::Place::Unknown);
        const auto saved = awaitStore(
            [&](RemoteKeyStore::Done d) { store.save(kUrl, QStringLiteral("k-one"), nullptr, d); });
        QVERIFY(saved);
        QVERIFY2(saved->error.isEmpty(), qPrintable(saved->error));
        QCOMPARE(saved->place, RemoteKeyStore::Place::SecretService);
        QCOMPARE(store.place(), RemoteKeyStore::Place::SecretService);
        QVERIFY(!QFileInfo::exists(m_keyFile));
        // Replaced: the later key wins.
        const auto replaced = awaitStore(
            [&](RemoteKeyStore::Done d) { store.save(kUrl, QStringLiteral("k-two"), nullptr, d); });
        QVERIFY(replaced);
        QVERIFY2(replaced->error.isEmpty(), qPrintable(replaced->error));
    }
    // A later run of the application (another store, another connection) reads it back.
    RemoteKeyStore later(m_keyFile, connection(QStringLiteral("app2")));
    const auto loaded = awaitStore([&](RemoteKeyStore::Done d) { later.load(kUrl, nullptr, d); });
    QVERIFY(loaded);
    QVERIFY2(loaded->error.isEmpty(), qPrintable(loaded->error));
    QCOMPARE(loaded->key, QStringLiteral("k-two"));
    QCOMPARE(loaded->place, RemoteKeyStore::Place::SecretService);
    SecretService secrets(connection(QStringLiteral("check")));
    const auto items =
        awaitSecret([&](SecretService::Done d) { secrets.search(RemoteKeyStore::identity(), d); });
    QVERIFY(items);
    QCOMPARE(items->items.size(), 1);
    QVERIFY(!QFileInfo::exists(m_keyFile));

    // An empty key forgets it.
    const auto forgotten =
        awaitStore([&](RemoteKeyStore::Done d) { later.save(kUrl, QString(), nullptr, d); });
    QVERIFY(forgotten);
    QVERIFY2(forgotten->error.isEmpty(), qPrintable(forgotten->error));
    const auto none = awaitStore([&](RemoteKeyStore::Done d) { later.load(kUrl, nullptr, d); });
    QVERIFY(none);
    QCOMPARE(none->key, QString());
    QCOMPARE(none->place, RemoteKeyStore::Place::SecretService);
}

void TestRemoteKeyStore::keyFileMovedIntoSecretStore()
{
    if (!m_keyringError.isEmpty())
        QSKIP(qPrintable(QStringLiteral("gnome-keyring-daemon cannot start here: ") +
                         m_keyringError));
    // What an earlier version (or a run without a secret store) left.
    QCOMPARE(savePrivateKeyFile(m_keyFile, QStringLiteral("from-the-file")), QString());
    QVERIFY(privateFile(m_keyFile));

    RemoteKeyStore store(m_keyFile, connection(QStringLiteral("migrate")));
    const auto loaded = awaitStore([&](RemoteKeyStore::Done d) { store.load(kUrl, nullptr, d); });
    QVERIFY(loaded);
    QVERIFY2(loaded->error.isEmpty(), qPrintable(loaded->error));
    QCOMPARE(loaded->key, QStringLiteral("from-the-file"));
    QCOMPARE(loaded->place, RemoteKeyStore::Place::SecretService);
    QVERIFY2(!QFileInfo::exists(m_keyFile), "the key file is removed once the key is stored");

    SecretService secrets(connection(QStringLiteral("check")));
    const auto read =
        awaitSecret([&](SecretService::Done d) { secrets.lookup(RemoteKeyStore::identity(), d); });
    QVERIFY(read);
    QVERIFY(read->found);
    QCOMPARE(read->secret, QByteArray("from-the-file"));
}

void TestRemoteKeyStore::fileWhenNothingAnswersOnTheBus()
{
    const QDBusConnection bus = m_emptyBus.connect(QStringLiteral("empty"));
    QVERIFY(bus.isConnected());
    RemoteKeyStore store(m_keyFile, bus);
    QElapsedTimer took;
    took.start();
    const auto saved = awaitStore(
        [&](RemoteKeyStore::Done d) { store.save(kUrl, QStringLiteral("file-key"), nullptr, d); });
    QVERIFY(saved);
    QVERIFY2(saved->error.isEmpty(), qPrintable(saved->error));
    QCOMPARE(saved->place, RemoteKeyStore::Place::File);
    QVERIFY2(took.elapsed() < 2000, qPrintable(QString::number(took.elapsed())));
    QVERIFY2(store.fileReason().contains(QStringLiteral("no secret store")),
             qPrintable(store.fileReason()));
    QVERIFY(privateFile(m_keyFile));
    QCOMPARE(readPrivateKeyFile(m_keyFile).key, QStringLiteral("file-key"));

    RemoteKeyStore later(m_keyFile, bus);
    const auto loaded = awaitStore([&](RemoteKeyStore::Done d) { later.load(kUrl, nullptr, d); });
    QVERIFY(loaded);
    QCOMPARE(loaded->key, QStringLiteral("file-key"));
    QCOMPARE(loaded->place, RemoteKeyStore::Place::File);
    QVERIFY(QFileInfo::exists(m_keyFile)); // nowhere to move it
}

void TestRemoteKeyStore::fileWithoutSessionBus()
{
    const QDBusConnection none = QDBusConnection::connectToBus(
        QStringLiteral("unix:path=") + m_dir->filePath(QStringLiteral("no-bus-here")),
        QStringLiteral("none"));
    QVERIFY(!none.isConnected());
    RemoteKeyStore store(m_keyFile, none);
    const auto saved = awaitStore(
        [&](RemoteKeyStore::Done d) { store.save(kUrl, QStringLiteral("no-bus"), nullptr, d); });
    QVERIFY(saved);
    QCOMPARE(saved->place, RemoteKeyStore::Place::File);
    QVERIFY2(store.fileReason().contains(QStringLiteral("no session bus")),
             qPrintable(store.fileReason()));
    const auto loaded = awaitStore([&](RemoteKeyStore::Done d) { store.load(kUrl, nullptr, d); });
    QVERIFY(loaded);
    QCOMPARE(loaded->key, QStringLiteral("no-bus"));
    QVERIFY(privateFile(m_keyFile));
}

void TestRemoteKeyStore::hungSecretStoreIsBounded()
{
    if (!m_keyringError.isEmpty())
        QSKIP(qPrintable(QStringLiteral("gnome-keyring-daemon cannot start here: ") +
                         m_keyringError));
    // A keyring daemon of this test's own, on a bus of its own, stopped and never resumed: it
    // still owns its name but does not answer. The other tests keep the shared daemon.
    PrivateSessionBus bus;
    const QString busError = bus.start();
    QVERIFY2(busError.isEmpty(), qPrintable(busError));
    GnomeKeyring hung;
    const QString keyringError = hung.start(bus, bus.connect(QStringLiteral("hung-probe")));
    QVERIFY2(keyringError.isEmpty(), qPrintable(keyringError));
    auto disconnect = qScopeGuard([] {
        for (const char* name : {"hung-probe", "hung", "doomed"})
            QDBusConnection::disconnectFromBus(QString::fromLatin1(name));
    });
    RemoteKeyStore store(m_keyFile, bus.connect(QStringLiteral("hung")));
    store.secretService()->setCallTimeout(500);
    QCOMPARE(::kill(pid_t(hung.pid()), SIGSTOP), 0);
    auto resume = qScopeGuard([&hung] { ::kill(pid_t(hung.pid()), SIGCONT); }); // so it can stop

    // The event loop keeps running meanwhile: ticks of a 10 ms timer are never far apart.
    QElapsedTimer sinceTick;
    qint64 longestGap = 0;
    QTimer ticker;
    QObject::connect(&ticker, &QTimer::timeout,
                     [&] { longestGap = qMax(longestGap, sinceTick.restart()); });
    sinceTick.start();
    ticker.start(10);

    QElapsedTimer took;
    took.start();
    std::optional<RemoteKeyStore::Result> saved;
    store.save(kUrl, QStringLiteral("while-hung"), nullptr,
               [&](const RemoteKeyStore::Result& r) { saved = r; });
    const qint64 callReturnedAfter = took.elapsed();
    QTRY_VERIFY_WITH_TIMEOUT(saved.has_value(), 5000);
    const qint64 finishedAfter = took.elapsed();
    ticker.stop();
    qInfo("save() returned after %lld ms; it finished after %lld ms; longest event-loop gap "
          "%lld ms",
          callReturnedAfter, finishedAfter, longestGap);
    QVERIFY2(callReturnedAfter < 50, qPrintable(QString::number(callReturnedAfter)));
    QVERIFY2(finishedAfter >= 450 && finishedAfter < 2000,
             qPrintable(QString::number(finishedAfter)));
    QVERIFY2(longestGap < 200, qPrintable(QString::number(longestGap)));
    QCOMPARE(saved->place, RemoteKeyStore::Place::File);
    QVERIFY2(store.fileReason().contains(QStringLiteral("did not answer")),
             qPrintable(store.fileReason()));
    QCOMPARE(readPrivateKeyFile(m_keyFile).key, QStringLiteral("while-hung"));

    // A store that goes away with a call still waiting never calls back, not even once the call
    // would have timed out.
    bool calledBack = false;
    {
        RemoteKeyStore doomed(m_dir->filePath(QStringLiteral("doomed.key")),
                              bus.connect(QStringLiteral("doomed")));
        doomed.secretService()->setCallTimeout(300);
        doomed.load(kUrl, nullptr, [&](const RemoteKeyStore::Result&) { calledBack = true; });
        QTest::qWait(20);
    }
    QTest::qWait(500);
    QVERIFY(!calledBack);

    // A timed-out call leaves nothing stuck: the next one, still unanswered, ends the same way
    // and still finds the key in the file.
    took.restart();
    const auto again = awaitStore([&](RemoteKeyStore::Done d) { store.load(kUrl, nullptr, d); });
    QVERIFY(again);
    QVERIFY2(took.elapsed() >= 450 && took.elapsed() < 2000,
             qPrintable(QString::number(took.elapsed())));
    QCOMPARE(again->key, QStringLiteral("while-hung"));
    QCOMPARE(again->place, RemoteKeyStore::Place::File);
    QVERIFY2(store.fileReason().contains(QStringLiteral("did not answer")),
             qPrintable(store.fileReason()));

    // Where a store answers, the key kept in the file while it hung moves into it.
    RemoteKeyStore answering(m_keyFile, connection(QStringLiteral("answering")));
    const auto loaded =
        awaitStore([&](RemoteKeyStore::Done d) { answering.load(kUrl, nullptr, d); });
    QVERIFY(loaded);
    QVERIFY2(loaded->error.isEmpty(), qPrintable(loaded->error));
    QCOMPARE(loaded->key, QStringLiteral("while-hung"));
    QCOMPARE(loaded->place, RemoteKeyStore::Place::SecretService);
    QVERIFY(!QFileInfo::exists(m_keyFile));
}

void TestRemoteKeyStore::lockedKeyringPromptIsBounded()
{
    if (!m_keyringError.isEmpty())
        QSKIP(qPrintable(QStringLiteral("gnome-keyring-daemon cannot start here: ") +
                         m_keyringError));
    RemoteKeyStore store(m_keyFile, connection(QStringLiteral("locked")));
    store.secretService()->setPromptTimeout(1000);
    const auto saved = awaitStore([&](RemoteKeyStore::Done d) {
        store.save(kUrl, QStringLiteral("locked-away"), nullptr, d);
    });
    QVERIFY(saved);
    QCOMPARE(saved->place, RemoteKeyStore::Place::SecretService);

    const QDBusConnection admin = connection(QStringLiteral("admin"));
    const QString login = QStringLiteral("/org/freedesktop/secrets/collection/login");
    const QDBusMessage locked =
        callSecrets(admin, QStringLiteral("/org/freedesktop/secrets"),
                    QStringLiteral("org.freedesktop.Secret.Service"), QStringLiteral("Lock"),
                    {QVariant::fromValue(QList<QDBusObjectPath>{QDBusObjectPath(login)})});
    QCOMPARE(locked.type(), QDBusMessage::ReplyMessage);

    // Reading now needs an unlock prompt. With no prompter on this bus the keyring dismisses it
    // at once.
    QElapsedTimer took;
    took.start();
    auto loaded = awaitStore([&](RemoteKeyStore::Done d) { store.load(kUrl, nullptr, d); });
    QVERIFY(loaded);
    qInfo("a load from the locked keyring, no prompter: ended after %lld ms: %s", took.elapsed(),
          qPrintable(loaded->error));
    QVERIFY2(took.elapsed() < 1000, qPrintable(QString::number(took.elapsed())));
    QCOMPARE(loaded->key, QString());
    QVERIFY2(loaded->error.contains(QStringLiteral("unlock prompt was dismissed")),
             qPrintable(loaded->error));
    QCOMPARE(loaded->place, RemoteKeyStore::Place::SecretService);

    // A prompter that shows the prompt and never hears back: the wait ends at the prompt
    // timeout.
    QDBusConnection prompterBus = connection(QStringLiteral("prompter"));
    SilentPrompter prompter;
    QVERIFY(prompterBus.registerVirtualObject(QStringLiteral("/org/gnome/keyring/Prompter"),
                                              &prompter, QDBusConnection::SubPath));
    QVERIFY(prompterBus.registerService(QStringLiteral("org.gnome.keyring.SystemPrompter")));
    auto unregister = qScopeGuard([&] {
        prompterBus.unregisterService(QStringLiteral("org.gnome.keyring.SystemPrompter"));
        prompterBus.unregisterObject(QStringLiteral("/org/gnome/keyring/Prompter"),
                                     QDBusConnection::UnregisterTree);
    });
    took.restart();
    std::optional<RemoteKeyStore::Result> waited;
    store.load(kUrl, nullptr, [&](const RemoteKeyStore::Result& r) { waited = r; });
    QVERIFY2(took.elapsed() < 50, qPrintable(QString::number(took.elapsed())));
    QTRY_VERIFY_WITH_TIMEOUT(waited.has_value(), 5000);
    const qint64 elapsed = took.elapsed();
    qInfo("a load from the locked keyring, prompt never answered: ended after %lld ms: %s "
          "(prompter asked: %s)",
          elapsed, qPrintable(waited->error), qPrintable(prompter.asked.join(QLatin1Char(' '))));
    QVERIFY2(!prompter.asked.isEmpty(), "the keyring asked the prompter");
    QVERIFY2(elapsed >= 1000 && elapsed < 3000, qPrintable(QString::number(elapsed)));
    QVERIFY2(waited->error.contains(QStringLiteral("not answered within 1 s")),
             qPrintable(waited->error));
    QCOMPARE(waited->key, QString());
    // Given up on, not dismissed: the keyring daemon is still there for everyone else.
    QVERIFY2(nameHasOwner(admin, QStringLiteral("org.freedesktop.secrets")),
             qPrintable(m_keyring.exitReport()));

    // A save while it stays locked keeps the key in the file, and says why.
    const auto fallback = awaitStore(
        [&](RemoteKeyStore::Done d) { store.save(kUrl, QStringLiteral("new-key"), nullptr, d); });
    QVERIFY(fallback);
    QCOMPARE(fallback->place, RemoteKeyStore::Place::File);
    QVERIFY2(fallback->error.contains(QStringLiteral("prompt")), qPrintable(fallback->error));
    QCOMPARE(readPrivateKeyFile(m_keyFile).key, QStringLiteral("new-key"));
    QVERIFY(privateFile(m_keyFile));
}

QTEST_GUILESS_MAIN(TestRemoteKeyStore)
#include "tst_remotekeystore.moc"
