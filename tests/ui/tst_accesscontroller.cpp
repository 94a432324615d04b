// Allow and Block behind the window's buttons, against a real store and engine with real sockets
// on loopback: a client the allow-list refused is kept for an answer (once per client and route,
// newest last, never a refusal Allow would not undo); allowing it takes it off the list and lets
// its next connection through; the tray's "allow the newest" allows that one only; an allow that
// changes nothing says why and keeps the file as it is.
#include "accesscontroller.h"
#include "config/configstore.h"
#include "echoserver.h"
#include "loopback.h"
#include "proxy/engine.h"

#include <QFile>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
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
        m_access = new AccessController(m_store.get(), m_window.get());
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
