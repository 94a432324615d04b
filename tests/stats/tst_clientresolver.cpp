// Who a client is: SocketOwnerFinder on real TCP and UDP sockets of this process (the client
// end must resolve to getpid() and this program's name), its /proc scan cache, ClientResolver
// answering on its own thread (reverse DNS through the system resolver for a client treated as
// on the network) and StatsHub filling open connections and denied clients with it; the
// listening-socket query (a QTcpServer or QUdpSocket of this process is found with getpid()) and
// PortLookup answering it, and finding a free port, from its own thread.

#include "stats/clientresolver.h"
#include "stats/portlookup.h"
#include "stats/socketowner.h"
#include "stats/statshub.h"

#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QThread>
#include <QUdpSocket>
#include <atomic>
#include <unistd.h>

using namespace sg;

namespace {

QString ownName()
{
    QFile comm(QStringLiteral("/proc/self/comm"));
    return comm.open(QIODevice::ReadOnly) ? QString::fromLocal8Bit(comm.readAll().trimmed())
                                          : QString();
}

// A TCP connection from clientIp to a server on 127.0.0.1, both ends in this process.
struct TcpPair
{
    QTcpServer server;
    QTcpSocket client;
    QTcpSocket* accepted = nullptr;
    bool open(const QString& clientIp)
    {
        if (!server.listen(QHostAddress::LocalHost))
            return false;
        client.bind(QHostAddress(clientIp), 0);
        client.connectToHost(QHostAddress::LocalHost, server.serverPort());
        if (!client.waitForConnected(3000) || !server.waitForNewConnection(3000))
            return false;
        accepted = server.nextPendingConnection();
        return accepted != nullptr;
    }
    SocketOwnerFinder::Key key() const
    {
        return {Protocol::Tcp, client.localAddress(), client.localPort(), server.serverAddress(),
                server.serverPort()};
    }
};

} // namespace

class TstClientResolver : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void tcpClientIsThisProcess()
    {
        TcpPair pair;
        QVERIFY(pair.open(QStringLiteral("127.0.0.2")));
        SocketOwnerFinder finder;
        const ClientProcess p = finder.find(pair.key());
        QCOMPARE(p.pid, qint64(::getpid()));
        QCOMPARE(p.name, ownName());
        QVERIFY2(p.name.startsWith(QStringLiteral("tst_clientres")), qPrintable(p.name));
        QVERIFY2(p.cmdline.contains(QFileInfo(QCoreApplication::applicationFilePath()).fileName()),
                 qPrintable(p.cmdline));
        QVERIFY(p.unknown.isEmpty());
        // With a client port nobody uses the finder finds nothing and says so.
        SocketOwnerFinder::Key none = pair.key();
        none.clientPort = quint16(none.clientPort == 1 ? 2 : 1);
        const ClientProcess missing = finder.find(none);
        QCOMPARE(missing.pid, qint64(0));
        QVERIFY2(missing.unknown.contains(QStringLiteral("no such socket")),
                 qPrintable(missing.unknown));
    }

    void ipv4MappedAddressesAreFound()
    {
        TcpPair pair;
        QVERIFY(pair.open(QStringLiteral("127.0.0.3")));
        SocketOwnerFinder::Key key = pair.key();
        // A dual-stack listener reports its IPv4 peers as ::ffff:a.b.c.d.
        key.clientAddress = QHostAddress(QStringLiteral("::ffff:127.0.0.3"));
        key.serverAddress = QHostAddress(QStringLiteral("::ffff:127.0.0.1"));
        QCOMPARE(SocketOwnerFinder().find(key).pid, qint64(::getpid()));
    }

    void udpClientIsThisProcess_data()
    {
        QTest::addColumn<QString>("bindTo");
        QTest::newRow("bound to its address") << QStringLiteral("127.0.0.4");
        QTest::newRow("bound to the wildcard address") << QStringLiteral("0.0.0.0");
    }
    void udpClientIsThisProcess()
    {
        QFETCH(QString, bindTo);
        QUdpSocket server;
        QVERIFY(server.bind(QHostAddress::LocalHost, 0));
        QUdpSocket client;
        QVERIFY(client.bind(QHostAddress(bindTo), 0));
        QCOMPARE(client.writeDatagram("who", QHostAddress::LocalHost, server.localPort()), 3);
        QVERIFY(server.waitForReadyRead(3000));
        QHostAddress from;
        quint16 fromPort = 0;
        char data[8];
        QCOMPARE(server.readDatagram(data, sizeof data, &from, &fromPort), 3);
        const ClientProcess p = SocketOwnerFinder().find(
            {Protocol::Udp, from, fromPort, server.localAddress(), server.localPort()});
        QCOMPARE(p.pid, qint64(::getpid()));
        QCOMPARE(p.name, ownName());
    }

    void procIsScannedOncePerBatchAndCached()
    {
        TcpPair a, b, c;
        QVERIFY(a.open(QStringLiteral("127.0.0.5")));
        QVERIFY(b.open(QStringLiteral("127.0.0.6")));
        QVERIFY(c.open(QStringLiteral("127.0.0.7")));
        SocketOwnerFinder finder;
        const QList<ClientProcess> found = finder.find({a.key(), b.key(), c.key()});
        QCOMPARE(found.size(), 3);
        for (const ClientProcess& p : found)
            QCOMPARE(p.pid, qint64(::getpid()));
        QCOMPARE(finder.scans(), 1);
        // Known sockets come from the cache (checked against the process's descriptors).
        QCOMPARE(finder.find(b.key()).pid, qint64(::getpid()));
        QCOMPARE(finder.scans(), 1);
        // A new socket is not in it: one more scan.
        TcpPair d;
        QVERIFY(d.open(QStringLiteral("127.0.0.8")));
        QCOMPARE(finder.find(d.key()).pid, qint64(::getpid()));
        QCOMPARE(finder.scans(), 2);
    }

    void commandLineIsBounded()
    {
        const ClientProcess self = SocketOwnerFinder::describe(::getpid());
        QCOMPARE(self.pid, qint64(::getpid()));
        QVERIFY(self.cmdline.size() <= SocketOwnerFinder::kMaxCmdline + 1);
        QVERIFY(!self.cmdline.contains(QChar(0)));
        QCOMPARE(SocketOwnerFinder::describe(0x7fffffff).pid, qint64(0)); // no such process
    }

    // A server of this process listening on 127.0.0.1 is found as this process; a second one on
    // the same port of ::1 is a second listener; once both close, nothing listens there. A bound
    // UDP socket holds its port as well.
    void listeningSocketIsThisProcess()
    {
        QTcpServer v4;
        QVERIFY(v4.listen(QHostAddress::LocalHost));
        const quint16 port = v4.serverPort();
        SocketOwnerFinder finder;
        QList<SocketOwnerFinder::Listening> found = finder.findListening(Protocol::Tcp, port);
        QCOMPARE(found.size(), 1);
        QCOMPARE(found.at(0).address, QHostAddress(QHostAddress::LocalHost));
        QCOMPARE(found.at(0).port, port);
        QCOMPARE(found.at(0).process.pid, qint64(::getpid()));
        QCOMPARE(found.at(0).process.name, ownName());
        QVERIFY(SocketOwnerFinder::listeningPorts(Protocol::Tcp).contains(port));

        QTcpServer v6;
        if (v6.listen(QHostAddress::LocalHostIPv6, port)) { // hosts without IPv6 skip this part
            found = finder.findListening(Protocol::Tcp, port);
            QCOMPARE(found.size(), 2);
            QCOMPARE(found.at(1).address, QHostAddress(QHostAddress::LocalHostIPv6));
            QCOMPARE(found.at(1).process.pid, qint64(::getpid()));
            v6.close();
        }
        // A client connected to the server is not a listener of the port.
        QTcpSocket client;
        client.connectToHost(QHostAddress::LocalHost, port);
        QVERIFY(client.waitForConnected(3000));
        QCOMPARE(finder.findListening(Protocol::Tcp, client.localPort()).size(), 0);
        v4.close();
        QCOMPARE(finder.findListening(Protocol::Tcp, port).size(), 0);

        QUdpSocket udp;
        QVERIFY(udp.bind(QHostAddress::LocalHost, 0));
        found = finder.findListening(Protocol::Udp, udp.localPort());
        QCOMPARE(found.size(), 1);
        QCOMPARE(found.at(0).process.pid, qint64(::getpid()));
        QVERIFY(SocketOwnerFinder::listeningPorts(Protocol::Udp).contains(udp.localPort()));
    }

    // PortLookup answers on the caller's thread after running on its own; a port of the
    // `taken` set or with a listener is never suggested.
    void portLookupAnswersFromItsThread()
    {
        QTcpServer server;
        QVERIFY(server.listen(QHostAddress::Any));
        const quint16 port = server.serverPort();
        PortLookup lookup;
        QVERIFY(lookup.lookupThread() != QThread::currentThread());
        QSignalSpy listeners(&lookup, &PortLookup::listenersFound);
        QSignalSpy free(&lookup, &PortLookup::freePortFound);
        const quint64 first = lookup.findListeners(Protocol::Tcp, port);
        QVERIFY(listeners.wait(3000));
        QCOMPARE(listeners.at(0).at(0).toULongLong(), first);
        const auto found = listeners.at(0).at(2).value<QList<SocketOwnerFinder::Listening>>();
        QCOMPARE(found.size(), 1);
        QCOMPARE(found.at(0).address, QHostAddress(QHostAddress::AnyIPv6)); // Any is dual-stack
        QCOMPARE(found.at(0).process.pid, qint64(::getpid()));

        // Asked from the port the server holds, with the next one taken: the one after them.
        // (Another program may hold that one meanwhile; then the answer is further up still.)
        const quint64 second = lookup.findFreePort(Protocol::Tcp, port, {quint16(port + 1)});
        QVERIFY(free.wait(3000));
        QCOMPARE(free.at(0).at(0).toULongLong(), second);
        const quint16 suggested = quint16(free.at(0).at(1).toUInt());
        QVERIFY2(suggested > port + 1, qPrintable(QString::number(suggested)));
        QTcpServer onSuggested;
        QVERIFY(onSuggested.listen(QHostAddress::LocalHost, suggested));
    }

    void resolverAnswersOnItsOwnThread()
    {
        TcpPair pair;
        QVERIFY(pair.open(QStringLiteral("127.0.0.9")));
        std::atomic<QThread*> answeredOn{nullptr};
        std::atomic<qint64> pid{0};
        QString host = QStringLiteral("unset");
        ClientResolver resolver(
            [&](const ClientResolver::Request&, const ClientProcess& p, const QString& h) {
                host = h;
                pid = p.pid;
                answeredOn = QThread::currentThread();
            });
        ClientResolver::Request r;
        r.socket = pair.key();
        r.client = pair.client.localAddress();
        resolver.request(r);
        QTRY_VERIFY_WITH_TIMEOUT(answeredOn.load() != nullptr, 3000);
        QVERIFY(answeredOn.load() != QThread::currentThread());
        QCOMPARE(pid.load(), qint64(::getpid()));
        QVERIFY(host.isEmpty()); // a client on this machine is named by its program
    }

    void networkClientGetsItsHostName()
    {
        // 127.0.0.1 treated as an address on the network: its name comes from the system
        // resolver (/etc/hosts: localhost), asynchronously, then from the cache.
        ClientResolver::Options options;
        options.isLocal = [](const QHostAddress&) { return false; };
        QStringList hosts;
        QList<qint64> pids;
        QMutex mutex;
        ClientResolver resolver(
            [&](const ClientResolver::Request&, const ClientProcess& p, const QString& h) {
                QMutexLocker lock(&mutex);
                hosts << h;
                pids << p.pid;
            },
            options);
        ClientResolver::Request r;
        r.socket = {Protocol::Tcp, QHostAddress::LocalHost, 40000, QHostAddress::LocalHost, 1};
        r.client = QHostAddress::LocalHost;
        resolver.request(r);
        resolver.request(r); // the same address again: one lookup answers both
        const auto count = [&] {
            QMutexLocker lock(&mutex);
            return hosts.size();
        };
        QTRY_COMPARE_WITH_TIMEOUT(count(), 2, 5000);
        resolver.request(r);
        QTRY_COMPARE_WITH_TIMEOUT(count(), 3, 3000);
        QMutexLocker lock(&mutex);
        QCOMPARE(hosts, QStringList(3, QStringLiteral("localhost")));
        QCOMPARE(pids, QList<qint64>(3, 0)); // not looked up: not on this machine
    }

    void statsHubFillsConnectionsAndDeniedClients()
    {
        StatsHub hub(10, 100);
        hub.resolveClients();
        TcpPair pair;
        QVERIFY(pair.open(QStringLiteral("127.0.0.10")));
        auto record = std::make_shared<ConnectionRecord>();
        record->base.id = hub.nextConnectionId();
        record->base.routeId = QStringLiteral("r1");
        record->base.clientAddress = pair.accepted->peerAddress();
        record->base.clientPort = pair.accepted->peerPort();
        record->base.localAddress = pair.accepted->localAddress();
        record->base.localPort = pair.accepted->localPort();
        hub.opened(record);
        QTRY_COMPARE_WITH_TIMEOUT(hub.snapshot().active.value(0).clientProcess->pid,
                                  qint64(::getpid()), 3000);
        QCOMPARE(hub.snapshot().active.value(0).clientProcess->name, ownName());

        TcpPair refused;
        QVERIFY(refused.open(QStringLiteral("127.0.0.11")));
        ConnectionInfo denied;
        denied.routeId = QStringLiteral("r1");
        denied.clientAddress = refused.accepted->peerAddress();
        denied.clientPort = refused.accepted->peerPort();
        denied.localAddress = refused.accepted->localAddress();
        denied.localPort = refused.accepted->localPort();
        denied.closeReason = CloseReason::DeniedIpRestriction;
        hub.denied(denied, QStringLiteral("refused"));
        QTRY_COMPARE_WITH_TIMEOUT(hub.snapshot().denied.value(0).clientProcess.pid,
                                  qint64(::getpid()), 3000);
        QVERIFY(hub.snapshot().denied.value(0).clientHost.isEmpty());
    }

    // Requests gather for a batch; a connection that ended meanwhile is not looked up.
    void endedConnectionsAreSkipped()
    {
        std::atomic<int> delivered{0};
        ClientResolver::Options options;
        options.batchMs = 500;
        ClientResolver resolver([&](const ClientResolver::Request&, const ClientProcess&,
                                    const QString&) { ++delivered; },
                                options);
        TcpPair pair;
        QVERIFY(pair.open(QStringLiteral("127.0.0.12")));
        auto open = std::make_shared<ConnectionRecord>();
        auto ended = std::make_shared<ConnectionRecord>();
        auto gone = std::make_shared<ConnectionRecord>();
        for (const auto& record : {open, ended, gone}) {
            ClientResolver::Request r;
            r.socket = pair.key();
            r.client = pair.client.localAddress();
            r.record = record;
            resolver.request(r);
        }
        ended->state.store(ConnectionState::Closed);
        gone.reset();
        QTRY_COMPARE_WITH_TIMEOUT(delivered.load(), 1, 3000);
        QTest::qWait(100);
        QCOMPARE(delivered.load(), 1);
    }
};

QTEST_GUILESS_MAIN(TstClientResolver)
#include "tst_clientresolver.moc"
