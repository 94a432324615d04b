// EngineOptions::resolved(): the STREAMGATE_* environment overrides, read in this one place, and
// the lower bounds every part of the engine relies on. A value that does not parse is ignored.

#include "proxy/engineoptions.h"
#include "proxy/eventloop.h"

#include <QTest>

using namespace sg;

namespace {

const char* const kVariables[] = {"STREAMGATE_WORKERS", "STREAMGATE_BURST_BUFFER_KB",
                                  "STREAMGATE_EVENT_LOOP", "STREAMGATE_RELAY"};

} // namespace

class TstEngineOptions : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init()
    {
        for (const char* name : kVariables)
            qunsetenv(name);
    }
    void cleanup() { init(); }

    void environment_data()
    {
        QTest::addColumn<QByteArray>("variable");
        QTest::addColumn<QByteArray>("value");
        QTest::addColumn<int>("workers");
        QTest::addColumn<int>("burstKb");
        QTest::addColumn<QString>("eventLoop");
        QTest::addColumn<bool>("splice");
        // Given: workers 3, burst 1024 KiB, no event loop chosen, splice on.
        QTest::newRow("nothing set") << QByteArray() << QByteArray() << 3 << 1024 << "" << true;
        QTest::newRow("workers 7")
            << QByteArray("STREAMGATE_WORKERS") << QByteArray("7") << 7 << 1024 << "" << true;
        QTest::newRow("workers 0 ignored")
            << QByteArray("STREAMGATE_WORKERS") << QByteArray("0") << 3 << 1024 << "" << true;
        QTest::newRow("workers text ignored")
            << QByteArray("STREAMGATE_WORKERS") << QByteArray("many") << 3 << 1024 << "" << true;
        QTest::newRow("burst 256 KiB") << QByteArray("STREAMGATE_BURST_BUFFER_KB")
                                       << QByteArray("256") << 3 << 256 << "" << true;
        QTest::newRow("burst below the buffer is the buffer")
            << QByteArray("STREAMGATE_BURST_BUFFER_KB") << QByteArray("4") << 3 << 64 << "" << true;
        QTest::newRow("poll loop") << QByteArray("STREAMGATE_EVENT_LOOP") << QByteArray("poll") << 3
                                   << 1024 << "poll" << true;
        QTest::newRow("unknown loop ignored") << QByteArray("STREAMGATE_EVENT_LOOP")
                                              << QByteArray("kqueue") << 3 << 1024 << "" << true;
        QTest::newRow("copy relay")
            << QByteArray("STREAMGATE_RELAY") << QByteArray("copy") << 3 << 1024 << "" << false;
    }
    void environment()
    {
        QFETCH(QByteArray, variable);
        QFETCH(QByteArray, value);
        QFETCH(int, workers);
        QFETCH(int, burstKb);
        QFETCH(QString, eventLoop);
        QFETCH(bool, splice);
        if (!variable.isEmpty())
            qputenv(variable.constData(), value);
        EngineOptions given;
        given.workers = 3;
        const EngineOptions o = given.resolved();
        QCOMPARE(o.workers, workers);
        QCOMPARE(o.burstBufferSize, burstKb * 1024);
        QCOMPARE(o.eventLoop, eventLoop);
        QCOMPARE(o.splice, splice);
    }

    void anEventLoopChosenInTheOptionsWins()
    {
        qputenv("STREAMGATE_EVENT_LOOP", "poll");
        EngineOptions given;
        given.eventLoop = QStringLiteral("epoll");
        const EngineOptions o = given.resolved();
        QCOMPARE(o.eventLoop, QStringLiteral("epoll"));
        QCOMPARE(o.eventLoopKind(), EventLoopKind::Epoll);
    }

    void lowerBounds()
    {
        EngineOptions given;
        given.workers = 0;
        given.bufferSize = 100;
        given.burstBufferSize = 0;
        given.udpSessionCap = 0;
        given.defaultUdpIdleTimeout = -1;
        given.udpNoReplyTimeout = 0;
        const EngineOptions o = given.resolved();
        QCOMPARE(o.workers, defaultWorkers());
        QCOMPARE(o.bufferSize, 4096);
        QCOMPARE(o.burstBufferSize, 4096);
        QCOMPARE(o.udpSessionCap, 1);
        QCOMPARE(o.defaultUdpIdleTimeout, 60.0);
        QCOMPARE(o.udpNoReplyTimeout, 5.0);
    }
};

QTEST_GUILESS_MAIN(TstEngineOptions)
#include "tst_engineoptions.moc"
