// Toxics on the engine's relay: the toxic filters a route gets from streamgate.toxics, with
// the config applied from the test's thread while worker threads relay (so the tsan preset
// checks the shared toxic lists). What a peer sees is what is checked: round-trip times, bytes,
// FIN or reset; every toxic is added, changed and removed on a connection already open.

#include "api/prometheus.h"
#include "api/snapshotjson.h"
#include "loopback.h"
#include "model/codec.h"
#include "proxy/engine.h"
#include "proxyfixture.h"

#include <QTest>

using namespace sg;
using namespace sgtest;

namespace {

ToxicSpec toxic(const QString& name, ToxicType type, bool upstream, qint64 a0, qint64 a1 = 0,
                qint64 a2 = 0, double toxicity = 1)
{
    ToxicSpec t;
    t.name = name;
    t.type = type;
    t.upstream = upstream;
    t.toxicity = toxicity;
    t.attributes = {a0, a1, a2};
    return t;
}

// Milliseconds for `bytes` to go out and come back, or -1 when they did not within 5 s.
qint64 roundTrip(int fd, const QByteArray& bytes = QByteArrayLiteral("ping"))
{
    const qint64 start = nowMs();
    if (!sendAll(fd, bytes))
        return -1;
    return recvExactly(fd, bytes.size()) == bytes ? nowMs() - start : -1;
}

ToxicStatus toxicStatus(const Snapshot& s, const QString& name)
{
    for (const ToxicStatus& t : s.toxics)
        if (t.name == name)
            return t;
    return ToxicStatus{};
}

// Ids of the open connections of route "r", ascending.
QList<quint64> openIds(const Snapshot& s)
{
    QList<quint64> ids;
    for (const ConnectionInfo& c : s.active)
        if (c.routeId == u"r")
            ids << c.id;
    std::sort(ids.begin(), ids.end());
    return ids;
}

} // namespace

class TestToxics : public QObject
{
    Q_OBJECT

    Config m_config;
    int m_port = 0;

    // One listener and route "r" to the echo server; the route is listed under
    // streamgate.toxics with `toxics` (maybe none).
    void applyRoute(Engine& engine, int upstreamPort, const QList<ToxicSpec>& toxics)
    {
        m_port = freePort();
        m_config = Config{};
        m_config.streamProxy.tcp << listenEntry("127.0.0.1", m_port);
        m_config.streamRoutes << route("r", upstream({node("127.0.0.1", upstreamPort)}));
        setToxics(engine, toxics);
    }
    void setToxics(Engine& engine, const QList<ToxicSpec>& toxics)
    {
        m_config.streamgate.toxics = QMap<QString, QList<ToxicSpec>>{{QStringLiteral("r"), toxics}};
        engine.apply(m_config);
    }
    EngineOptions options() const
    {
        EngineOptions o = relayFlavourOptions();
        o.workers = 2;
        return o;
    }

private Q_SLOTS:
    void initTestCase_data() { addRelayFlavours(); }

    void latencyAddedChangedRemovedLive()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(options());
        applyRoute(engine, echo.port(), {});
        const int fd = connectTo("127.0.0.1", m_port);
        QVERIFY(fd >= 0);
        const qint64 plain = roundTrip(fd);
        QVERIFY2(plain >= 0 && plain < 100, qPrintable(QString::number(plain)));

        setToxics(engine, {toxic("slow", ToxicType::Latency, false, 200)});
        const qint64 slow = roundTrip(fd);
        QVERIFY2(slow >= 195 && slow < 700, qPrintable(QString::number(slow)));

        setToxics(engine, {toxic("slow", ToxicType::Latency, false, 200),
                           toxic("up", ToxicType::Latency, true, 100)});
        const qint64 both = roundTrip(fd);
        QVERIFY2(both >= 295 && both < 800, qPrintable(QString::number(both)));

        setToxics(engine, {toxic("slow", ToxicType::Latency, false, 50)});
        const qint64 changed = roundTrip(fd);
        QVERIFY2(changed >= 45 && changed < 400, qPrintable(QString::number(changed)));

        setToxics(engine, {});
        const qint64 gone = roundTrip(fd);
        QVERIFY2(gone >= 0 && gone < 100, qPrintable(QString::number(gone)));
        ::close(fd);
    }

    // A connection opened while its route was not listed under streamgate.toxics takes the
    // toxics the route gets later; one opened while it was listed, unlisted and listed again
    // follows the list all along.
    void routeListedAfterTheConnectionOpened()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(options());
        m_port = freePort();
        m_config = Config{};
        m_config.streamProxy.tcp << listenEntry("127.0.0.1", m_port);
        m_config.streamRoutes << route("r", upstream({node("127.0.0.1", echo.port())}));
        engine.apply(m_config); // not listed
        const int fd = connectTo("127.0.0.1", m_port);
        QVERIFY(fd >= 0);
        const qint64 plain = roundTrip(fd);
        QVERIFY2(plain >= 0 && plain < 100, qPrintable(QString::number(plain)));

        setToxics(engine, {toxic("slow", ToxicType::Latency, false, 200)});
        const qint64 slow = roundTrip(fd);
        QVERIFY2(slow >= 195 && slow < 700, qPrintable(QString::number(slow)));
        QCOMPARE(toxicStatus(engine.snapshot(), QStringLiteral("slow")).hitting,
                 openIds(engine.snapshot()));

        m_config.streamgate.toxics.reset(); // unlisted: the direct path
        engine.apply(m_config);
        const qint64 gone = roundTrip(fd);
        QVERIFY2(gone >= 0 && gone < 100, qPrintable(QString::number(gone)));

        setToxics(engine, {toxic("again", ToxicType::Latency, false, 200)});
        const qint64 again = roundTrip(fd);
        QVERIFY2(again >= 195 && again < 700, qPrintable(QString::number(again)));
        ::close(fd);
    }

    void removedLatencyReleasesHeldBytes()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(options());
        applyRoute(engine, echo.port(), {toxic("l", ToxicType::Latency, true, 5000)});
        const int fd = connectTo("127.0.0.1", m_port);
        QVERIFY(fd >= 0);
        const qint64 start = nowMs();
        QVERIFY(sendAll(fd, "held"));
        QTest::qWait(200);
        setToxics(engine, {});
        QCOMPARE(recvExactly(fd, 4, 3000), QByteArray("held"));
        QVERIFY2(nowMs() - start < 2000, qPrintable(QString::number(nowMs() - start)));
        ::close(fd);
    }

    void timeoutClosesAnIdleConnection()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(options());
        applyRoute(engine, echo.port(), {});
        const int fd = connectTo("127.0.0.1", m_port);
        QVERIFY(fd >= 0);
        QVERIFY(roundTrip(fd) >= 0);
        // Nothing is sent after the toxic arrives: the session is woken to start its clock.
        const qint64 start = nowMs();
        setToxics(engine, {toxic("t", ToxicType::Timeout, false, 300)});
        QByteArray got;
        QCOMPARE(waitForEnd(fd, 5000, &got), ReadEnd::Eof);
        const qint64 took = nowMs() - start;
        QVERIFY2(took >= 250 && took < 2000, qPrintable(QString::number(took)));
        QVERIFY(got.isEmpty());
        ::close(fd);
    }

    void timeoutZeroDropsAndHolds()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(options());
        applyRoute(engine, echo.port(), {toxic("t", ToxicType::Timeout, true, 0)});
        const int fd = connectTo("127.0.0.1", m_port);
        QVERIFY(fd >= 0);
        QVERIFY(sendAll(fd, "lost"));
        QByteArray got;
        QCOMPARE(readSome(fd, got, 1, 700), ReadEnd::Timeout);
        QVERIFY(got.isEmpty());
        ::close(fd);
    }

    void resetPeerResets()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(options());
        applyRoute(engine, echo.port(), {toxic("rst", ToxicType::ResetPeer, true, 200)});
        const int fd = connectTo("127.0.0.1", m_port);
        QVERIFY(fd >= 0);
        const qint64 start = nowMs();
        QVERIFY(sendAll(fd, "x"));
        QCOMPARE(waitForEnd(fd, 5000), ReadEnd::Reset);
        const qint64 took = nowMs() - start;
        QVERIFY2(took >= 180 && took < 2000, qPrintable(QString::number(took)));
        ::close(fd);
    }

    void limitDataCutsAtExactlyN()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(options());
        applyRoute(engine, echo.port(), {toxic("cap", ToxicType::LimitData, false, 10000)});
        const int fd = connectTo("127.0.0.1", m_port);
        QVERIFY(fd >= 0);
        const QByteArray data = pattern(50000);
        QByteArray got;
        exchange(fd, data, got, -1, false, 5000);
        QCOMPARE(got.size(), 10000);
        QCOMPARE(got, data.left(10000));
        ::close(fd);
    }

    void bandwidthCapsThroughput()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(options());
        applyRoute(engine, echo.port(), {toxic("bw", ToxicType::Bandwidth, false, 200)});
        const int fd = connectTo("127.0.0.1", m_port);
        QVERIFY(fd >= 0);
        const QByteArray data = pattern(200000); // 1 s at 200 KB/s
        QByteArray got;
        const qint64 start = nowMs();
        exchange(fd, data, got, data.size(), false, 10000);
        const qint64 took = nowMs() - start;
        QCOMPARE(got, data);
        QVERIFY2(took >= 850 && took < 3000, qPrintable(QString::number(took)));
        ::close(fd);
    }

    void slowCloseDelaysTheEnd()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(options());
        applyRoute(engine, echo.port(), {toxic("sc", ToxicType::SlowClose, false, 400)});
        const int fd = connectTo("127.0.0.1", m_port);
        QVERIFY(fd >= 0);
        QVERIFY(roundTrip(fd) >= 0);
        const qint64 start = nowMs();
        ::shutdown(fd, SHUT_WR);
        QCOMPARE(waitForEnd(fd, 5000), ReadEnd::Eof);
        const qint64 took = nowMs() - start;
        QVERIFY2(took >= 380 && took < 2000, qPrintable(QString::number(took)));
        ::close(fd);
    }

    void slicerSplitsWrites()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(options());
        applyRoute(engine, echo.port(), {toxic("s", ToxicType::Slicer, false, 10, 0, 20000)});
        const int fd = connectTo("127.0.0.1", m_port);
        QVERIFY(fd >= 0);
        const qint64 start = nowMs();
        QVERIFY(sendAll(fd, pattern(100)));
        QCOMPARE(recvExactly(fd, 100, 5000), pattern(100));
        // Ten pieces 20 ms apart: the last leaves 180 ms after the first.
        const qint64 took = nowMs() - start;
        QVERIFY2(took >= 170 && took < 2000, qPrintable(QString::number(took)));
        ::close(fd);
    }

    void toxicityZeroNeverHits()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(options());
        applyRoute(engine, echo.port(),
                   {toxic("never", ToxicType::Latency, false, 500, 0, 0, 0.0)});
        const int fd = connectTo("127.0.0.1", m_port);
        QVERIFY(fd >= 0);
        const qint64 t = roundTrip(fd);
        QVERIFY2(t >= 0 && t < 100, qPrintable(QString::number(t)));
        ::close(fd);
    }

    // A toxic scoped to 127.0.0.2/32 delays that client only; the other passes untouched. Off
    // (still in the config) it delays nobody, on connections already open; on again, it does.
    void clientScopeAndSwitchingOffLive()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(options());
        ToxicSpec slow = toxic("slow", ToxicType::Latency, false, 200);
        slow.clients = {QStringLiteral("127.0.0.2/32")};
        applyRoute(engine, echo.port(), {slow});
        const int scoped = connectTo("127.0.0.1", m_port, QStringLiteral("127.0.0.2"));
        const int other = connectTo("127.0.0.1", m_port, QStringLiteral("127.0.0.3"));
        QVERIFY(scoped >= 0 && other >= 0);

        const qint64 hit = roundTrip(scoped);
        QVERIFY2(hit >= 195 && hit < 700, qPrintable(QString::number(hit)));
        const qint64 missed = roundTrip(other);
        QVERIFY2(missed >= 0 && missed < 100, qPrintable(QString::number(missed)));

        slow.enabled = false;
        setToxics(engine, {slow});
        const qint64 off = roundTrip(scoped);
        QVERIFY2(off >= 0 && off < 100, qPrintable(QString::number(off)));

        // Widened to both clients and on again: both open connections are delayed.
        slow.enabled = true;
        slow.clients << QStringLiteral("127.0.0.3");
        setToxics(engine, {slow});
        const qint64 again = roundTrip(scoped);
        QVERIFY2(again >= 195 && again < 700, qPrintable(QString::number(again)));
        const qint64 widened = roundTrip(other);
        QVERIFY2(widened >= 195 && widened < 700, qPrintable(QString::number(widened)));
        ::close(scoped);
        ::close(other);
    }

    // A latency toxic switched off while it holds bytes hands them on at once, as when removed.
    void switchedOffReleasesHeldBytes()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(options());
        ToxicSpec slow = toxic("l", ToxicType::Latency, true, 5000);
        applyRoute(engine, echo.port(), {slow});
        const int fd = connectTo("127.0.0.1", m_port);
        QVERIFY(fd >= 0);
        const qint64 start = nowMs();
        QVERIFY(sendAll(fd, "held"));
        QTest::qWait(200);
        slow.enabled = false;
        setToxics(engine, {slow});
        QCOMPARE(recvExactly(fd, 4, 3000), QByteArray("held"));
        QVERIFY2(nowMs() - start < 2000, qPrintable(QString::number(nowMs() - start)));
        ::close(fd);
    }

    // Per-toxic counters from real connections: the toxic of toxicity 1 hits each, the one of
    // toxicity 0 none; a connection closed leaves "hitting" but stays in the total; switched
    // off and on again, a toxic hits the same connections without counting them twice.
    void countersFollowTheConnections()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(options());
        ToxicSpec always = toxic("always", ToxicType::Latency, false, 5);
        const ToxicSpec never = toxic("never", ToxicType::Latency, true, 5, 0, 0, 0.0);
        applyRoute(engine, echo.port(), {always, never});
        QList<int> fds;
        for (int i = 0; i < 3; ++i) {
            fds << connectTo("127.0.0.1", m_port);
            QVERIFY(fds.last() >= 0);
            QVERIFY(roundTrip(fds.last()) >= 0);
        }
        QTRY_COMPARE_WITH_TIMEOUT(openIds(engine.snapshot()).size(), 3, 5000);
        const QList<quint64> ids = openIds(engine.snapshot());
        QTRY_COMPARE_WITH_TIMEOUT(toxicStatus(engine.snapshot(), "always").hitting, ids, 5000);
        Snapshot s = engine.snapshot();
        QCOMPARE(toxicStatus(s, "always").hitTotal, quint64(3));
        QCOMPARE(toxicStatus(s, "always").type, QStringLiteral("latency"));
        QCOMPARE(toxicStatus(s, "always").stream, QStringLiteral("downstream"));
        QCOMPARE(toxicStatus(s, "always").routeId, QStringLiteral("r"));
        QVERIFY(toxicStatus(s, "never").hitting.isEmpty());
        QCOMPARE(toxicStatus(s, "never").hitTotal, quint64(0));
        QCOMPARE(toxicStatus(s, "never").stream, QStringLiteral("upstream"));

        ::close(fds.takeFirst());
        QTRY_COMPARE_WITH_TIMEOUT(toxicStatus(engine.snapshot(), "always").hitting, ids.mid(1),
                                  5000);
        QCOMPARE(toxicStatus(engine.snapshot(), "always").hitTotal, quint64(3));

        always.enabled = false;
        setToxics(engine, {always, never});
        QTRY_VERIFY_WITH_TIMEOUT(toxicStatus(engine.snapshot(), "always").hitting.isEmpty(), 5000);
        QCOMPARE(toxicStatus(engine.snapshot(), "always").enabled, false);
        QCOMPARE(toxicStatus(engine.snapshot(), "always").hitTotal, quint64(3));

        always.enabled = true;
        always.attributes[0] = 10; // changed, not replaced: the counters stay
        setToxics(engine, {always, never});
        QTRY_COMPARE_WITH_TIMEOUT(toxicStatus(engine.snapshot(), "always").hitting, ids.mid(1),
                                  5000);
        QCOMPARE(toxicStatus(engine.snapshot(), "always").hitTotal, quint64(3));

        // A new connection is counted; the admin API's JSON and the metrics say the same.
        fds << connectTo("127.0.0.1", m_port);
        QVERIFY(fds.last() >= 0);
        QTRY_COMPARE_WITH_TIMEOUT(toxicStatus(engine.snapshot(), "always").hitTotal, quint64(4),
                                  5000);
        s = engine.snapshot();
        QCOMPARE(toxicStatus(s, "always").hitting, openIds(s));
        const QJsonArray json = statsToJson(s).value(QStringLiteral("toxics")).toArray();
        QCOMPARE(json.size(), 2);
        QCOMPARE(json.at(0)[QStringLiteral("name")].toString(), QStringLiteral("always"));
        QCOMPARE(json.at(0)[QStringLiteral("hit_total")].toInteger(), 4);
        QCOMPARE(json.at(0)[QStringLiteral("hitting")].toArray().size(), 3);
        QCOMPARE(json.at(1)[QStringLiteral("hit_total")].toInteger(), 0);
        const QList<QByteArray> metrics = renderPrometheus(s, m_config).split('\n');
        QVERIFY(metrics.contains(
            R"(streamgate_toxic_connections_hit_total{route="r",toxic="always"} 4)"));
        QVERIFY(metrics.contains(R"(streamgate_toxic_connections{route="r",toxic="always"} 3)"));
        QVERIFY(metrics.contains(R"(streamgate_toxic_connections{route="r",toxic="never"} 0)"));

        // Removed and added again under the same name: a new toxic, counted from zero.
        setToxics(engine, {never});
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().toxics.size(), 1, 5000);
        setToxics(engine, {always, never});
        QTRY_COMPARE_WITH_TIMEOUT(toxicStatus(engine.snapshot(), "always").hitting,
                                  openIds(engine.snapshot()), 5000);
        QCOMPARE(toxicStatus(engine.snapshot(), "always").hitTotal, quint64(3));
        for (int fd : fds)
            ::close(fd);
        QTRY_VERIFY_WITH_TIMEOUT(toxicStatus(engine.snapshot(), "always").hitting.isEmpty(), 5000);
    }

    // A bandwidth toxic holding the echo of a burst reports the bytes it holds, and none once
    // they are out.
    void bytesHeldWhileBandwidthHolds()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(options());
        applyRoute(engine, echo.port(), {toxic("bw", ToxicType::Bandwidth, false, 50)});
        const int fd = connectTo("127.0.0.1", m_port);
        QVERIFY(fd >= 0);
        const QByteArray data = pattern(40000); // 0.8 s at 50 KB/s
        QVERIFY(sendAll(fd, data));
        QTRY_VERIFY_WITH_TIMEOUT(toxicStatus(engine.snapshot(), "bw").bytesHeld > 0, 3000);
        const Snapshot s = engine.snapshot();
        const quint64 held = toxicStatus(s, "bw").bytesHeld;
        QVERIFY2(held <= quint64(data.size()), qPrintable(QString::number(held)));
        QVERIFY(renderPrometheus(s, m_config)
                    .split('\n')
                    .contains("streamgate_toxic_bytes_held{route=\"r\",toxic=\"bw\"} " +
                              QByteArray::number(held)));
        QCOMPARE(recvExactly(fd, data.size(), 10000), data);
        QTRY_COMPARE_WITH_TIMEOUT(toxicStatus(engine.snapshot(), "bw").bytesHeld, quint64(0), 3000);
        QCOMPARE(toxicStatus(engine.snapshot(), "bw").hitting.size(), 1);
        ::close(fd);
    }

    void settingsNameTheField()
    {
        const QJsonObject bad{
            {QStringLiteral("toxics"),
             QJsonObject{
                 {QStringLiteral("r"),
                  QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("latency")},
                                         {QStringLiteral("attributes"),
                                          QJsonObject{{QStringLiteral("latency"), -5}}}},
                             QJsonObject{{QStringLiteral("type"), QStringLiteral("lag")}}}}}}};
        const Decoded<StreamgateSettings> d = decodeSettings(bad);
        QCOMPARE(d.problems.size(), 2);
        QCOMPARE(d.problems[0].path, QStringLiteral("streamgate.toxics.r[0].attributes.latency"));
        QCOMPARE(d.problems[0].value, QStringLiteral("-5"));
        QVERIFY(d.problems[0].reason.contains(u"between 0"));
        QCOMPARE(d.problems[1].path, QStringLiteral("streamgate.toxics.r[1].type"));

        StreamgateSettings s;
        s.toxics = QMap<QString, QList<ToxicSpec>>{
            {QStringLiteral("r"), {toxic("a", ToxicType::Slicer, true, 10, 2, 5)}}};
        const Decoded<StreamgateSettings> back = decodeSettings(encodeSettings(s));
        QVERIFY(back.problems.isEmpty());
        QCOMPARE(back.value, s);
    }
};

QTEST_GUILESS_MAIN(TestToxics)
#include "tst_toxics.moc"
