// Allow and Block behind the window's buttons, against a real store and engine with real sockets
// on loopback: a client the allow-list refused is kept for an answer (once per client and route,
// newest last, never a refusal Allow would not undo); allowing it takes it off the list and lets
// its next connection through; the tray's "allow the newest" allows that one only; an allow that
// changes nothing says why and keeps the file as it is. Allows that end (once, for an hour on a
// shortened clock, until Streamgate quits) leave the whitelist and streamgate.allow_expiry
// together, say so in the event log and close what they let in; a desktop notification offers
// the durations through a Notifications service on a private session bus, and without one the
// fallback runs.
#include "accesscontroller.h"
#include "config/configstore.h"
#include "echoserver.h"
#include "loopback.h"
#include "panes/desktopnotifier.h"
#include "proxy/engine.h"
#include "secretservicefixture.h"

#include <QDBusConnection>
#include <QDBusMessage>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QVariantMap>
#include <QWidget>
#include <memory>

using namespace sg;
using namespace sg::ui;
using namespace sgtest;

namespace {

DeniedClient refusal(const QString& ip, const QString& routeId,
                     CloseReason reason = CloseReason::DeniedIpRestriction)
{
    DeniedClient d;
    d.clientIp = ip;
    d.routeId = routeId;
    d.reason = reason;
    return d;
}

// org.freedesktop.Notifications as a desktop's notification daemon offers it, recording the
// Notify calls; the test emits ActionInvoked itself, as the daemon does on a button click.
class FakeNotifications : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.freedesktop.Notifications")

public:
    QStringList summaries;
    QStringList bodies;
    QStringList actions; // of the last call
    uint lastId = 0;

public slots:
    uint Notify(const QString&, uint, const QString&, const QString& summary, const QString& body,
                const QStringList& actionList, const QVariantMap&, int)
    {
        summaries << summary;
        bodies << body;
        actions = actionList;
        return ++lastId + 100;
    }
};

} // namespace

class TestAccessController : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    EchoServer m_echo;
    quint16 m_port = 0;
    std::unique_ptr<ConfigStore> m_store;
    std::unique_ptr<Engine> m_engine;
    std::unique_ptr<QWidget> m_window;
    AccessController* m_access = nullptr;

    QStringList whitelist() const
    {
        const StreamRoute* route = m_store->config().findRoute("echo");
        return route && route->plugins.ipRestriction ? route->plugins.ipRestriction->whitelist
                                                     : QStringList();
    }
    QByteArray fileBytes() const
    {
        QFile f(m_store->path());
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }
    // Whether a connection from `from` gets its bytes echoed through the proxy.
    bool passes(const QString& from)
    {
        QTcpSocket socket;
        QByteArray received;
        connect(&socket, &QTcpSocket::readyRead, &socket, [&] { received += socket.readAll(); });
        socket.bind(QHostAddress(from), 0);
        socket.connectToHost(QHostAddress::LocalHost, m_port);
        if (!socket.waitForConnected(5000))
            return false;
        socket.write("knock");
        // A refused client is closed at once: no need to wait out the time.
        const bool answered = QTest::qWaitFor(
            [&] {
                return received == "knock" || socket.state() == QAbstractSocket::UnconnectedState;
            },
            3000);
        return answered && received == "knock";
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY(m_echo.listen(QHostAddress::LocalHost, 0));
        m_port = freePort();
        const QString path = m_dir.filePath("streamgate.json");
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QStringLiteral(R"({
          "stream_proxy": {"tcp": ["127.0.0.1:%1"]},
          "stream_routes": [{
            "id": "echo", "name": "Echo", "server_port": %1,
            "plugins": {"ip-restriction": {"whitelist": ["127.0.0.1"]}},
            "upstream": {"nodes": {"127.0.0.1:%2": 1}}
          }]})")
                       .arg(m_port)
                       .arg(m_echo.serverPort())
                       .toUtf8());
        file.close();
        m_store = std::make_unique<ConfigStore>(path);
        QVERIFY(m_store->load().ok());
        EngineOptions options;
        options.workers = 1;
        m_engine = std::make_unique<Engine>(options);
        m_engine->apply(m_store->config());
        connect(
            m_store.get(), &ConfigStore::changed, m_engine.get(),
            [e = m_engine.get()](const ConfigDiff&, const Config& config) { e->apply(config); });
        QTRY_VERIFY_WITH_TIMEOUT(passes("127.0.0.1"), 5000);
        m_window = std::make_unique<QWidget>();
        m_access = new AccessController(m_store.get(), m_window.get(), m_engine.get());
    }

    void cleanupTestCase()
    {
        m_window.reset();
        m_engine.reset();
        m_store.reset();
    }

    void refusedClientIsKeptUntilAllowed()
    {
        QVERIFY(!passes("127.0.0.2"));
        // The refusal as the engine reports it.
        DeniedClient denied;
        const auto reported = [&] {
            for (const DeniedClient& d : m_engine->snapshot().denied) {
                if (d.clientIp == "127.0.0.2")
                    denied = d;
            }
            return !denied.clientIp.isEmpty();
        };
        QTRY_VERIFY_WITH_TIMEOUT(reported(), 5000);
        QCOMPARE(denied.routeId, QStringLiteral("echo"));
        QVERIFY(m_access->addRefusal(denied));
        QVERIFY(m_access->addRefusal(refusal("127.0.0.5", "echo")));
        QVERIFY(m_access->addRefusal(denied)); // again: once, and the newest now
        QCOMPARE(m_access->pendingRefusals().size(), 2);
        QCOMPARE(m_access->pendingRefusals().last().clientIp, QStringLiteral("127.0.0.2"));

        QSignalSpy allowed(m_access, &AccessController::clientAllowed);
        QSignalSpy message(m_access, &AccessController::message);
        QVERIFY(m_access->allowClient("127.0.0.2", "echo"));
        QCOMPARE(allowed.size(), 1);
        QCOMPARE(allowed.first().at(0).toString(), QStringLiteral("127.0.0.2"));
        QCOMPARE(message.size(), 1);
        QCOMPARE(message.first().at(0).toString(),
                 QStringLiteral("127.0.0.2 may now connect to Echo"));
        QCOMPARE(m_access->pendingRefusals().size(), 1);
        QCOMPARE(m_access->pendingRefusals().first().clientIp, QStringLiteral("127.0.0.5"));
        QVERIFY(whitelist().contains("127.0.0.2"));
        QVERIFY(fileBytes().contains("127.0.0.2"));
        // No restart: the next connection from 127.0.0.2 passes.
        QVERIFY(passes("127.0.0.2"));
        m_access->dismissRefusals();
        QVERIFY(m_access->pendingRefusals().isEmpty());
    }

    void refusalsAllowCannotUndoAreNotKept_data()
    {
        QTest::addColumn<QString>("routeId");
        QTest::addColumn<int>("reason");
        QTest::newRow("no route matched") << QString() << int(CloseReason::NoRoute);
        QTest::newRow("no route, ip-restriction")
            << QString() << int(CloseReason::DeniedIpRestriction);
        QTest::newRow("limit-conn") << QStringLiteral("echo") << int(CloseReason::Limited);
    }
    void refusalsAllowCannotUndoAreNotKept()
    {
        QFETCH(QString, routeId);
        QFETCH(int, reason);
        QVERIFY(!m_access->addRefusal(refusal("127.0.0.6", routeId, CloseReason(reason))));
        QVERIFY(m_access->pendingRefusals().isEmpty());
    }

    // The tray's entry: the newest refusal is allowed and leaves the list; the older one stays.
    void allowLastRefusalAllowsTheNewestOnly()
    {
        QVERIFY(m_access->addRefusal(refusal("127.0.0.3", "echo")));
        QVERIFY(m_access->addRefusal(refusal("127.0.0.4", "echo")));
        QVERIFY(m_access->allowLastRefusal());
        QVERIFY(whitelist().contains("127.0.0.4"));
        QVERIFY(!whitelist().contains("127.0.0.3"));
        QCOMPARE(m_access->pendingRefusals().size(), 1);
        QCOMPARE(m_access->pendingRefusals().first().clientIp, QStringLiteral("127.0.0.3"));
        m_access->dismissRefusals();
        QVERIFY(!m_access->allowLastRefusal()); // nothing waits
    }

    void blockTakesTheClientOut()
    {
        QSignalSpy message(m_access, &AccessController::message);
        QVERIFY(m_access->blockClient("127.0.0.4", "echo"));
        QVERIFY(!whitelist().contains("127.0.0.4"));
        QCOMPARE(message.size(), 1);
        QVERIFY(message.first().at(0).toString().startsWith("127.0.0.4 is refused on Echo"));
    }

    void allowThatChangesNothingSaysWhy()
    {
        const QByteArray before = fileBytes();
        QSignalSpy allowed(m_access, &AccessController::clientAllowed);
        QSignalSpy message(m_access, &AccessController::message);
        QVERIFY(!m_access->allowClient("127.0.0.1", "echo"));
        QVERIFY(!m_access->allowClient("127.0.0.1", "gone"));
        QCOMPARE(allowed.size(), 0);
        QCOMPARE(message.size(), 2);
        QCOMPARE(message.at(0).at(0).toString(),
                 QStringLiteral("127.0.0.1 is already allowed on Echo"));
        QCOMPARE(message.at(1).at(0).toString(), QStringLiteral("The route gone no longer exists"));
        QCOMPARE(fileBytes(), before);
    }

    // A connection that stays open, from `from`; it has had its bytes echoed.
    std::unique_ptr<QTcpSocket> openConnection(const QString& from)
    {
        auto socket = std::make_unique<QTcpSocket>();
        socket->bind(QHostAddress(from), 0);
        socket->connectToHost(QHostAddress::LocalHost, m_port);
        if (!socket->waitForConnected(5000))
            return nullptr;
        socket->write("hold");
        QByteArray received;
        if (!QTest::qWaitFor(
                [&] {
                    received += socket->readAll();
                    return received == "hold";
                },
                3000))
            return nullptr;
        return socket;
    }
    AllowExpiryMap expiries() const { return m_store->config().streamgate.allowExpiryMap(); }
    bool eventSays(const QString& text) const
    {
        for (const Event& e : m_engine->eventsSince(0, 100000))
            if (e.text == text)
                return true;
        return false;
    }

    // For 1 hour on a clock where the hour lasts 1.5 s: in at once, out at its end, with the
    // connection it let in closed, an event, and the file's whitelist plain all along.
    void hourAllowEndsAndClosesWhatItLetIn()
    {
        m_access->setHourLength(1500);
        QVERIFY(!passes("127.0.0.11"));
        QVERIFY(m_access->allowClient("127.0.0.11", "echo", AllowDuration::Hour));
        QVERIFY(whitelist().contains("127.0.0.11"));
        QVERIFY(expiries().value("echo").value("127.0.0.11").until.has_value());
        const QJsonObject file = QJsonDocument::fromJson(fileBytes()).object();
        // The whitelist APISIX reads: plain addresses, nothing else in the route.
        const QJsonObject restriction =
            file["stream_routes"][0]["plugins"]["ip-restriction"].toObject();
        QCOMPARE(restriction.keys(), QStringList{"whitelist"});
        QVERIFY(restriction["whitelist"].toArray().contains("127.0.0.11"));
        QVERIFY(file["streamgate"]["allow_expiry"]["echo"]["127.0.0.11"]["until"].isString());
        // "1 h left" at the click, then "59 min left", ... (minutes rounded up)
        QVERIFY(m_access->timedAccessText("127.0.0.11", "echo").endsWith(" left"));
        QVERIFY(m_access->timedAccessByRoute().value("echo").value(0).startsWith("127.0.0.11 ("));
        const auto held = openConnection("127.0.0.11");
        QVERIFY(held);
        QSignalSpy ended(m_access, &AccessController::accessEnded);
        QVERIFY(ended.wait(4000));
        QVERIFY(!whitelist().contains("127.0.0.11"));
        QVERIFY(!expiries().value("echo").contains("127.0.0.11"));
        QVERIFY(!fileBytes().contains("allow_expiry"));
        QTRY_VERIFY_WITH_TIMEOUT(eventSays("access for 127.0.0.11 to route Echo ended"), 3000);
        QTRY_VERIFY_WITH_TIMEOUT(held->state() == QAbstractSocket::UnconnectedState, 3000);
        QVERIFY(!passes("127.0.0.11"));
        m_access->setHourLength(3600000);
    }

    // The user's choice: with closing off, the connection it let in stays open at the end.
    void endKeepsConnectionsWhenAsked()
    {
        m_access->setHourLength(900);
        m_access->setClosesConnectionsAtEnd(false);
        QVERIFY(m_access->allowClient("127.0.0.12", "echo", AllowDuration::Hour));
        const auto held = openConnection("127.0.0.12");
        QVERIFY(held);
        QSignalSpy ended(m_access, &AccessController::accessEnded);
        QVERIFY(ended.wait(4000));
        QVERIFY(!whitelist().contains("127.0.0.12"));
        held->write("still");
        QByteArray received;
        QTRY_VERIFY_WITH_TIMEOUT((received += held->readAll()) == "still", 3000);
        QVERIFY(!passes("127.0.0.12"));
        m_access->setClosesConnectionsAtEnd(true);
        m_access->setHourLength(3600000);
    }

    // Once: the first connection gets in and the access ends when it does; a second one while
    // the first is open is not the one counted.
    void onceEndsWithItsFirstConnection()
    {
        QVERIFY(m_access->allowClient("127.0.0.13", "echo", AllowDuration::Once));
        QCOMPARE(m_access->timedAccessText("127.0.0.13", "echo"), QStringLiteral("once"));
        auto first = openConnection("127.0.0.13");
        QVERIFY(first);
        QTRY_VERIFY_WITH_TIMEOUT(
            (m_access->applySnapshot(m_engine->snapshot()),
             m_access->timedAccessText("127.0.0.13", "echo") == QStringLiteral("once, connected")),
            3000);
        QVERIFY(whitelist().contains("127.0.0.13"));
        first->disconnectFromHost();
        QTRY_VERIFY_WITH_TIMEOUT(
            (m_access->applySnapshot(m_engine->snapshot()), !whitelist().contains("127.0.0.13")),
            3000);
        QVERIFY(!expiries().value("echo").contains("127.0.0.13"));
        QVERIFY(!passes("127.0.0.13"));
    }

    // Once with no connection: it ends after the wait (a 30th of the hour).
    void onceEndsUnusedAfterTheWait()
    {
        m_access->setHourLength(30 * 300);
        QVERIFY(m_access->allowClient("127.0.0.14", "echo", AllowDuration::Once));
        QSignalSpy ended(m_access, &AccessController::accessEnded);
        QVERIFY(ended.wait(3000));
        QVERIFY(!whitelist().contains("127.0.0.14"));
        m_access->setHourLength(3600000);
    }

    // Until Streamgate quits: ended by a clean quit, and at the next start after one that
    // was not (a new controller on the file as the crash left it).
    void untilQuitEndsAtQuitAndAtNextStart()
    {
        QVERIFY(m_access->allowClient("127.0.0.15", "echo", AllowDuration::UntilQuit));
        QVERIFY(expiries().value("echo").value("127.0.0.15").untilQuit.value_or(false));
        QCOMPARE(m_access->timedAccessText("127.0.0.15", "echo"),
                 QStringLiteral("until Streamgate quits"));
        QVERIFY(passes("127.0.0.15"));
        m_access->endSessionAccess();
        QVERIFY(!whitelist().contains("127.0.0.15"));
        QVERIFY(!passes("127.0.0.15"));

        QVERIFY(m_access->allowClient("127.0.0.15", "echo", AllowDuration::UntilQuit));
        QWidget window;
        AccessController nextStart(m_store.get(), &window, m_engine.get());
        QVERIFY(!whitelist().contains("127.0.0.15"));
        QVERIFY(expiries().isEmpty());
    }

    // Allowing again changes the time; Always makes it permanent; Block ends it.
    void allowAgainReplacesTheTime()
    {
        QVERIFY(m_access->allowClient("127.0.0.16", "echo", AllowDuration::Hour));
        QVERIFY(m_access->allowClient("127.0.0.16", "echo", AllowDuration::Always));
        QVERIFY(expiries().isEmpty());
        QVERIFY(whitelist().contains("127.0.0.16"));
        QVERIFY(m_access->timedAccessText("127.0.0.16", "echo").isEmpty());
        QVERIFY(m_access->isAllowed("127.0.0.16", "echo"));
        QVERIFY(m_access->allowClient("127.0.0.17", "echo", AllowDuration::Hour));
        QVERIFY(m_access->blockClient("127.0.0.17", "echo"));
        QVERIFY(expiries().isEmpty());
        QVERIFY(!m_access->isAllowed("127.0.0.17", "echo"));
        QVERIFY(m_access->blockClient("127.0.0.16", "echo"));
    }

    // A hand edit that takes the client out of the whitelist drops its expiry too.
    void handEditDropsTheExpiry()
    {
        QVERIFY(m_access->allowClient("127.0.0.18", "echo", AllowDuration::Hour));
        QJsonObject root = QJsonDocument::fromJson(fileBytes()).object();
        QVERIFY(root.value("streamgate")["allow_expiry"]["echo"]["127.0.0.18"].isObject());
        QJsonArray routes = root["stream_routes"].toArray();
        QJsonObject route = routes[0].toObject();
        QJsonObject plugins = route["plugins"].toObject();
        plugins["ip-restriction"] = QJsonObject{{"whitelist", QJsonArray{"127.0.0.1"}}};
        route["plugins"] = plugins;
        routes[0] = route;
        root["stream_routes"] = routes;
        {
            QFile f(m_store->path());
            QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
            f.write(QJsonDocument(root).toJson());
        }
        QVERIFY(m_store->reload().isEmpty());
        QTRY_VERIFY_WITH_TIMEOUT(expiries().isEmpty(), 2000);
        QVERIFY(!fileBytes().contains("allow_expiry"));
    }

    // The notification: Notify with the four durations as actions; a click on "for 1 hour"
    // (ActionInvoked) allows the client for an hour. Our own ids only.
    void notificationOffersTheDurations()
    {
        PrivateSessionBus bus;
        const QString started = bus.start();
        if (!started.isEmpty())
            QSKIP(qPrintable(started));
        QDBusConnection service = bus.connect("notification-daemon");
        FakeNotifications daemon;
        QVERIFY(service.registerObject("/org/freedesktop/Notifications", &daemon,
                                       QDBusConnection::ExportAllSlots));
        QVERIFY(service.registerService("org.freedesktop.Notifications"));

        DesktopNotifier notifier(bus.connect("streamgate"));
        connect(&notifier, &DesktopNotifier::allowRequested, m_access,
                &AccessController::allowClient);
        QSignalSpy shown(&notifier, &DesktopNotifier::shown);
        QSignalSpy allowed(&notifier, &DesktopNotifier::allowRequested);
        bool fellBack = false;
        notifier.notifyRefusal("127.0.0.19", "echo", "Echo", [&] { fellBack = true; });
        QVERIFY(shown.wait(3000));
        QVERIFY(!fellBack);
        QCOMPARE(daemon.summaries, QStringList{"Connection refused"});
        QCOMPARE(daemon.bodies.value(0),
                 QStringLiteral("127.0.0.19 was refused on Echo. Allow it?"));
        QCOMPARE(daemon.actions,
                 QStringList({"allow-once", "Allow once", "allow-hour", "Allow for 1 hour",
                              "allow-until-quit", "Allow until Streamgate quits", "allow-always",
                              "Always allow"}));
        const uint id = shown.first().at(0).toUInt();

        // Another program's notification is not ours.
        QDBusMessage other = QDBusMessage::createSignal(
            "/org/freedesktop/Notifications", "org.freedesktop.Notifications", "ActionInvoked");
        other << uint(id + 7) << QStringLiteral("allow-hour");
        QVERIFY(service.send(other));
        QDBusMessage click = QDBusMessage::createSignal(
            "/org/freedesktop/Notifications", "org.freedesktop.Notifications", "ActionInvoked");
        click << id << QStringLiteral("allow-hour");
        QVERIFY(service.send(click));
        QVERIFY(allowed.wait(3000));
        QCOMPARE(allowed.size(), 1);
        QCOMPARE(allowed.first().at(0).toString(), QStringLiteral("127.0.0.19"));
        QVERIFY(whitelist().contains("127.0.0.19"));
        QVERIFY(expiries().value("echo").value("127.0.0.19").until.has_value());
        QVERIFY(!expiries().value("echo").value("127.0.0.19").once.has_value());
        QVERIFY(passes("127.0.0.19"));
        QVERIFY(m_access->blockClient("127.0.0.19", "echo"));
    }

    // No Notifications service on the bus: the call fails and the fallback (the tray) runs.
    void notificationFallsBackWithoutAService()
    {
        PrivateSessionBus bus;
        const QString started = bus.start();
        if (!started.isEmpty())
            QSKIP(qPrintable(started));
        DesktopNotifier notifier(bus.connect("streamgate-alone"));
        QSignalSpy unavailable(&notifier, &DesktopNotifier::unavailable);
        bool fellBack = false;
        notifier.notifyRefusal("127.0.0.20", "echo", "Echo", [&] { fellBack = true; });
        QVERIFY(unavailable.wait(3000));
        QVERIFY(fellBack);
        QVERIFY(unavailable.first().at(0).toString().contains("org.freedesktop.Notifications"));

        // Without any session bus, at once.
        DesktopNotifier noBus(QDBusConnection(QStringLiteral("none")));
        bool noBusFellBack = false;
        noBus.notifyRefusal("127.0.0.20", "echo", "Echo", [&] { noBusFellBack = true; });
        QVERIFY(noBusFellBack);
    }

    void withoutAStoreNothingIsAllowed()
    {
        QWidget window;
        AccessController access(nullptr, &window);
        QVERIFY(!access.allowClient("127.0.0.7", "echo"));
        QVERIFY(!access.blockClient("127.0.0.7", "echo"));
    }
};

QTEST_MAIN(TestAccessController)
#include "tst_accesscontroller.moc"
