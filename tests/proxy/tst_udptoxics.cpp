// Toxics on UDP routes: latency, bandwidth and loss on a client's datagrams through real
// loopback sockets, added, changed and removed while the session is open; and the config check
// that refuses toxics with no meaning on the route's transport. Timing assertions are generous
// on both sides; what a peer receives (and in which order) is what is checked.

#include "config/configstore.h"
#include "loopback.h"
#include "model/codec.h"
#include "proxy/engine.h"
#include "proxy/toxics/udptoxics.h"
#include "proxyfixture.h"
#include "udppeers.h"

#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

using namespace sg;
using namespace sgtest;

namespace {

ToxicSpec toxic(const QString& name, ToxicType type, bool upstream, qint64 a0, qint64 a1 = 0,
                double toxicity = 1)
{
    ToxicSpec t;
    t.name = name;
    t.type = type;
    t.upstream = upstream;
    t.toxicity = toxicity;
    t.attributes = {a0, a1, 0};
    return t;
}

ToxicSpec loss(const QString& name, bool upstream, double rate, double toxicity = 1)
{
    return toxic(name, ToxicType::Loss, upstream,
                 qRound64(rate * double(ToxicSpec::kFractionScale)), 0, toxicity);
}

// Milliseconds for one datagram to go to the echo server and back, or -1 when it did not.
qint64 roundTrip(const UdpClient& client, const QByteArray& d)
{
    const qint64 start = nowMs();
    const std::optional<QByteArray> got = client.ask(d, 3000);
    return got == d ? nowMs() - start : -1;
}

// Sends `marker` and reads until it comes back; returns how many other datagrams came first,
// or -1 when the marker did not come back within the deadline.
int repliesBefore(const UdpClient& client, const QByteArray& marker)
{
    if (!client.send(marker))
        return -1;
    const qint64 deadline = nowMs() + 5000;
    int others = 0;
    while (nowMs() < deadline) {
        const std::optional<QByteArray> got = client.receive(int(deadline - nowMs()));
        if (!got)
            return -1;
        if (*got == marker)
            return others;
        ++others;
    }
    return -1;
}

// Waits until `counter` has not moved for `quietMs` (at most `limitMs`); returns when it last
// moved, in nowMs() time.
qint64 settle(const std::atomic<int>& counter, int quietMs, int limitMs)
{
    const qint64 deadline = nowMs() + limitMs;
    int last = counter.load();
    qint64 movedAt = nowMs();
    while (nowMs() < deadline && nowMs() - movedAt < quietMs) {
        QTest::qWait(10);
        if (const int now = counter.load(); now != last) {
            last = now;
            movedAt = nowMs();
        }
    }
    return movedAt;
}

} // namespace

class TestUdpToxics : public QObject
{
    Q_OBJECT

    Config m_config;
    int m_port = 0;

    // One UDP listener and route "u" (server_port on that listener only) to `upstreamPort`.
    // Clients from 127.0.0.2 take route "probe" to the same upstream, which has no toxics: a
    // probe's reply tells that the listener has handed on everything sent to it before.
    void applyRoute(Engine& engine, int upstreamPort, std::optional<QList<ToxicSpec>> toxics)
    {
        m_port = freeUdpPort();
        m_config = Config{};
        m_config.streamProxy.udp << listenEntry("127.0.0.1", m_port);
        StreamRoute probe = route("probe", upstream({node("127.0.0.1", upstreamPort)}));
        probe.serverPort = m_port;
        probe.remoteAddr = QStringLiteral("127.0.0.2");
        StreamRoute r = route("u", upstream({node("127.0.0.1", upstreamPort)}));
        r.serverPort = m_port;
        m_config.streamRoutes << probe << r;
        setToxics(engine, toxics);
    }
    // The probe's round trip; false when it did not come back.
    bool probe(const QByteArray& d) const
    {
        UdpClient client("127.0.0.1", m_port, QStringLiteral("127.0.0.2"));
        return client.ask(d) == d;
    }
    // nullopt: the route has no entry under streamgate.toxics at all.
    void setToxics(Engine& engine, std::optional<QList<ToxicSpec>> toxics)
    {
        if (toxics)
            m_config.streamgate.toxics =
                QMap<QString, QList<ToxicSpec>>{{QStringLiteral("u"), *toxics}};
        else
            m_config.streamgate.toxics.reset();
        QVERIFY2(checkConfig(m_config).errors.isEmpty(),
                 qPrintable(formatProblems(checkConfig(m_config).errors)));
        engine.apply(m_config);
    }
    static EngineOptions options()
    {
        EngineOptions o;
        o.workers = 2;
        return o;
    }

private Q_SLOTS:
    void latencyAddedChangedRemovedLive()
    {
        UdpEcho echo;
        Engine engine(options());
        applyRoute(engine, echo.port(), std::nullopt);
        UdpClient client("127.0.0.1", m_port);
        QVERIFY(client.valid());
        const qint64 plain = roundTrip(client, "plain");
        QVERIFY2(plain >= 0 && plain < 95, qPrintable(QString::number(plain)));

        // The session was open before the route had an entry: it takes the toxic all the same.
        setToxics(engine, QList<ToxicSpec>{toxic("slow", ToxicType::Latency, false, 100)});
        const qint64 slow = roundTrip(client, "slow");
        QVERIFY2(slow >= 95 && slow < 400, qPrintable(QString::number(slow)));

        setToxics(engine, QList<ToxicSpec>{toxic("slow", ToxicType::Latency, false, 100),
                                           toxic("up", ToxicType::Latency, true, 50)});
        const qint64 both = roundTrip(client, "both");
        QVERIFY2(both >= 145 && both < 500, qPrintable(QString::number(both)));

        setToxics(engine, QList<ToxicSpec>{toxic("slow", ToxicType::Latency, false, 200)});
        const qint64 changed = roundTrip(client, "changed");
        qInfo("round trips: plain %lld ms, +100 down %lld ms, +50 up %lld ms, 200 down %lld ms",
              plain, slow, both, changed);
        QVERIFY2(changed >= 195 && changed < 500, qPrintable(QString::number(changed)));

        // Listed with no toxic, then not listed at all: the direct path both times.
        setToxics(engine, QList<ToxicSpec>{});
        const qint64 empty = roundTrip(client, "empty");
        QVERIFY2(empty >= 0 && empty < 95, qPrintable(QString::number(empty)));
        setToxics(engine, QList<ToxicSpec>{toxic("slow", ToxicType::Latency, false, 100)});
        QVERIFY(roundTrip(client, "again") >= 95);
        setToxics(engine, std::nullopt);
        const qint64 gone = roundTrip(client, "gone");
        QVERIFY2(gone >= 0 && gone < 95, qPrintable(QString::number(gone)));

        QCOMPARE(echo.peerCount(), 1); // one session all along
    }

    // A toxic narrowed to one client delays only that client's flow, and counts only its
    // session; switched off, it lets the flow go direct.
    void clientScopeAndSwitchingOff()
    {
        UdpEcho echo;
        Engine engine(options());
        ToxicSpec slow = toxic("slow", ToxicType::Latency, false, 100);
        slow.clients = QStringList{QStringLiteral("127.0.0.3/32")};
        applyRoute(engine, echo.port(), QList<ToxicSpec>{slow});
        UdpClient other("127.0.0.1", m_port);
        UdpClient scoped("127.0.0.1", m_port, QStringLiteral("127.0.0.3"));
        QVERIFY(other.valid() && scoped.valid());
        const qint64 direct = roundTrip(other, "other");
        const qint64 delayed = roundTrip(scoped, "scoped");
        QVERIFY2(direct >= 0 && direct < 95, qPrintable(QString::number(direct)));
        QVERIFY2(delayed >= 95 && delayed < 400, qPrintable(QString::number(delayed)));

        const Snapshot snap = engine.snapshot();
        QCOMPARE(snap.toxics.size(), 1);
        QCOMPARE(snap.toxics.first().hitting.size(), 1);
        quint64 scopedId = 0;
        for (const ConnectionInfo& c : snap.active)
            if (c.clientAddress == QHostAddress(QStringLiteral("127.0.0.3")))
                scopedId = c.id;
        QCOMPARE(snap.toxics.first().hitting.first(), scopedId);

        slow.enabled = false;
        setToxics(engine, QList<ToxicSpec>{slow});
        const qint64 off = roundTrip(scoped, "off");
        QVERIFY2(off >= 0 && off < 95, qPrintable(QString::number(off)));
        QVERIFY(engine.snapshot().toxics.first().hitting.isEmpty());
    }

    void jitterStaysWithinItsRange()
    {
        UdpEcho echo;
        Engine engine(options());
        applyRoute(engine, echo.port(),
                   QList<ToxicSpec>{toxic("j", ToxicType::Latency, false, 100, 40)});
        UdpClient client("127.0.0.1", m_port);
        qint64 low = 1 << 30, high = 0;
        for (int i = 0; i < 10; ++i) {
            const qint64 t = roundTrip(client, "j" + QByteArray::number(i));
            QVERIFY2(t >= 55 && t < 450, qPrintable(QString::number(t)));
            low = qMin(low, t);
            high = qMax(high, t);
        }
        // Ten draws from 60..140 ms: all of them equal would mean no jitter at all.
        QVERIFY2(high - low >= 5, qPrintable(QStringLiteral("%1..%2").arg(low).arg(high)));
    }

    void removedLatencyReleasesHeldDatagrams()
    {
        UdpEcho echo;
        Engine engine(options());
        applyRoute(engine, echo.port(),
                   QList<ToxicSpec>{toxic("l", ToxicType::Latency, true, 5000)});
        UdpClient client("127.0.0.1", m_port);
        const qint64 start = nowMs();
        QVERIFY(client.send("held"));
        QTest::qWait(200);
        QCOMPARE(echo.received.load(), 0);
        setToxics(engine, QList<ToxicSpec>{});
        QCOMPARE(client.receive(3000).value_or("<nothing>"), QByteArray("held"));
        QVERIFY2(nowMs() - start < 2000, qPrintable(QString::number(nowMs() - start)));
    }

    void heldDatagramsAreBounded()
    {
        UdpEcho echo;
        Engine engine(options());
        applyRoute(engine, echo.port(),
                   QList<ToxicSpec>{toxic("l", ToxicType::Latency, true, 10000)});
        UdpClient client("127.0.0.1", m_port);
        constexpr int kSent = 1500;
        for (int i = 0; i < kSent; ++i) {
            QVERIFY(client.send("h" + QByteArray::number(i)));
            if (i % 100 == 99)
                QTest::qWait(2);
        }
        QVERIFY(probe("probe")); // everything before it has been taken in or dropped
        QCOMPARE(echo.received.load(), 1);
        // The toxic's counters say what it holds: 1024 datagrams of 2 to 5 bytes.
        const Snapshot held = engine.snapshot();
        QCOMPARE(held.toxics.size(), 1);
        QCOMPARE(held.toxics.first().hitting.size(), 1);
        QVERIFY2(held.toxics.first().bytesHeld >= 2 * UdpToxics::kHeldDatagrams - 100 &&
                     held.toxics.first().bytesHeld <= 5 * UdpToxics::kHeldDatagrams,
                 qPrintable(QString::number(held.toxics.first().bytesHeld)));
        // Removed: what was held leaves at once; beyond the bound nothing was kept.
        setToxics(engine, QList<ToxicSpec>{});
        settle(echo.received, 300, 5000);
        const int released = echo.received.load() - 1;
        qInfo("%d of %d datagrams held under a 10 s latency", released, kSent);
        QVERIFY2(released >= int(UdpToxics::kHeldDatagrams) - 24 &&
                     released <= int(UdpToxics::kHeldDatagrams),
                 qPrintable(QString::number(released)));
    }

    void lossOneDropsEverythingZeroNothing()
    {
        UdpEcho echo;
        Engine engine(options());
        applyRoute(engine, echo.port(), QList<ToxicSpec>{loss("up", true, 1.0)});
        UdpClient client("127.0.0.1", m_port);
        for (int i = 0; i < 50; ++i)
            QVERIFY(client.send("lost " + QByteArray::number(i)));
        QVERIFY(probe("probe")); // after the 50 on the listener's socket
        QCOMPARE(echo.received.load(), 1);
        QVERIFY(!client.receive(200));

        // The same toxic at 0: everything goes through.
        setToxics(engine, QList<ToxicSpec>{loss("up", true, 0.0)});
        for (int i = 0; i < 100; ++i) {
            const QByteArray d = "kept " + QByteArray::number(i);
            QCOMPARE(client.ask(d).value_or("<nothing>"), d);
        }
        QCOMPARE(echo.received.load(), 101);

        // Downstream: the server gets every datagram, the client none of the replies.
        setToxics(engine, QList<ToxicSpec>{loss("down", false, 1.0)});
        for (int i = 0; i < 20; ++i)
            QVERIFY(client.send("unanswered " + QByteArray::number(i)));
        QTRY_COMPARE_WITH_TIMEOUT(echo.received.load(), 121, 3000);
        QVERIFY(!client.receive(500));
        setToxics(engine, QList<ToxicSpec>{});
        QCOMPARE(repliesBefore(client, "marker"), 0);
    }

    void lossHalfLandsInBinomialBand()
    {
        UdpEcho echo;
        Engine engine(options());
        applyRoute(engine, echo.port(), QList<ToxicSpec>{loss("half", true, 0.5)});
        UdpClient client("127.0.0.1", m_port);
        constexpr int kSent = 400;
        for (int i = 0; i < kSent; ++i) {
            QVERIFY(client.send("d" + QByteArray::number(i)));
            if (i % 50 == 49)
                QTest::qWait(5); // lets the replies be read before the next fifty
        }
        QVERIFY(probe("probe"));
        const int passed = echo.received.load() - 1;
        // Binomial(400, 0.5): mean 200, standard deviation 10; the band is six of them each way.
        qInfo("loss_rate 0.5: %d of %d passed", passed, kSent);
        QVERIFY2(passed >= 140 && passed <= 260, qPrintable(QString::number(passed)));
        // The replies of those that passed come back (the downstream has no toxic).
        int replies = 0;
        while (client.receive(500))
            ++replies;
        QVERIFY2(replies <= passed && replies >= passed * 95 / 100,
                 qPrintable(QStringLiteral("%1 of %2").arg(replies).arg(passed)));
    }

    void toxicityZeroLeavesTheSessionAlone()
    {
        UdpEcho echo;
        Engine engine(options());
        applyRoute(engine, echo.port(), QList<ToxicSpec>{loss("never", true, 1.0, 0.0)});
        UdpClient client("127.0.0.1", m_port);
        for (int i = 0; i < 20; ++i) {
            const QByteArray d = "d" + QByteArray::number(i);
            QCOMPARE(client.ask(d).value_or("<nothing>"), d);
        }
    }

    void bandwidthPacesAndBoundsItsQueue()
    {
        UdpEcho echo;
        Engine engine(options());
        applyRoute(engine, echo.port(),
                   QList<ToxicSpec>{toxic("bw", ToxicType::Bandwidth, true, 100)});
        UdpClient client("127.0.0.1", m_port);
        // 300 KB at once into a 100 KB/s link whose queue holds one second of it.
        const QByteArray d(1000, 'b');
        const qint64 start = nowMs();
        for (int i = 0; i < 300; ++i)
            QVERIFY(client.send(d));
        const qint64 last = settle(echo.received, 600, 8000);
        const int got = echo.received.load();
        const qint64 took = last - start;
        QVERIFY2(got >= 80 && got <= 130, qPrintable(QString::number(got)));
        QVERIFY2(took >= 750 && took < 2500, qPrintable(QString::number(took)));
        const double kbPerSecond = double(echo.bytes.load()) / double(qMax<qint64>(1, took));
        qInfo("bandwidth 100 KB/s: %d of 300 datagrams in %lld ms, %.1f KB/s", got, took,
              kbPerSecond);
        QVERIFY2(kbPerSecond >= 50 && kbPerSecond <= 150, qPrintable(QString::number(kbPerSecond)));

        // The cap lifted: a burst of 50 comes through whole and at once.
        setToxics(engine, QList<ToxicSpec>{});
        const int before = echo.received.load();
        const qint64 burst = nowMs();
        for (int i = 0; i < 50; ++i)
            QVERIFY(client.send(d));
        QTRY_COMPARE_WITH_TIMEOUT(echo.received.load(), before + 50, 3000);
        QVERIFY2(nowMs() - burst < 500, qPrintable(QString::number(nowMs() - burst)));
    }

    void checkRefusesToxicsWithoutMeaning_data()
    {
        QTest::addColumn<int>("typeIndex");
        QTest::addColumn<QString>("why");
        QTest::newRow("slow_close") << int(ToxicType::SlowClose) << "no close to delay";
        QTest::newRow("timeout") << int(ToxicType::Timeout) << "no connection to time out";
        QTest::newRow("reset_peer") << int(ToxicType::ResetPeer) << "no connection to reset";
        QTest::newRow("slicer") << int(ToxicType::Slicer) << "cannot be sliced";
        QTest::newRow("limit_data") << int(ToxicType::LimitData) << "after a byte count";
    }
    void checkRefusesToxicsWithoutMeaning()
    {
        QFETCH(int, typeIndex);
        QFETCH(QString, why);
        const auto type = ToxicType(typeIndex);
        Config c;
        c.streamProxy.tcp << listenEntry("127.0.0.1", 9000);
        c.streamProxy.udp << listenEntry("127.0.0.1", 5353);
        StreamRoute dns = route("dns", upstream({node("127.0.0.1", 53)}));
        dns.serverPort = 5353;
        StreamRoute db = route("db", upstream({node("127.0.0.1", 3306)}));
        db.serverPort = 9000;
        c.streamRoutes << dns << db;
        c.streamgate.toxics = QMap<QString, QList<ToxicSpec>>{
            {QStringLiteral("dns"),
             {toxic("lag", ToxicType::Latency, false, 10), toxic("bad", type, true, 1)}},
            {QStringLiteral("db"), {toxic("bad", type, true, 1)}}};
        const ConfigCheck check = checkConfig(c);
        QCOMPARE(check.errors.size(), 1);
        const Problem& p = check.errors.first();
        QCOMPARE(p.path, QStringLiteral("streamgate.toxics.dns[1].type"));
        QCOMPARE(p.value, toxicTypeName(type));
        QVERIFY2(p.reason.contains(u"\"bad\"") && p.reason.contains(u"stream_route [dns]") &&
                     p.reason.contains(u"UDP") && p.reason.contains(u"server_port 5353") &&
                     p.reason.contains(why),
                 qPrintable(p.reason));
        QVERIFY(check.warnings.isEmpty());
    }

    void checkRefusesLossOnTcpAndWarnsOnMixedRoutes()
    {
        Config c;
        c.streamProxy.tcp << listenEntry("127.0.0.1", 9000);
        c.streamProxy.udp << listenEntry("127.0.0.1", 5353);
        StreamRoute dns = route("dns", upstream({node("127.0.0.1", 53)}));
        dns.serverPort = 5353;
        StreamRoute db = route("db", upstream({node("127.0.0.1", 3306)}));
        db.serverPort = 9000;
        StreamRoute any = route("any", upstream({node("127.0.0.1", 7)})); // no server_port
        c.streamRoutes << dns << db << any;
        c.streamgate.toxics = QMap<QString, QList<ToxicSpec>>{
            {QStringLiteral("dns"),
             {loss("l", true, 0.1), toxic("bw", ToxicType::Bandwidth, false, 10)}},
            {QStringLiteral("db"), {loss("flaky", false, 0.2)}},
            {QStringLiteral("any"),
             {loss("l", true, 0.1), toxic("s", ToxicType::Slicer, true, 5)}}};
        const ConfigCheck check = checkConfig(c);
        QCOMPARE(check.errors.size(), 1);
        QCOMPARE(check.errors[0].path, QStringLiteral("streamgate.toxics.db[0].type"));
        QCOMPARE(check.errors[0].value, QStringLiteral("loss"));
        QVERIFY2(check.errors[0].reason.contains(u"\"flaky\"") &&
                     check.errors[0].reason.contains(u"stream_route [db], a TCP route") &&
                     check.errors[0].reason.contains(u"UDP routes only"),
                 qPrintable(check.errors[0].reason));
        // A route that takes both: each toxic acts on the sessions it means something for.
        QCOMPARE(check.warnings.size(), 2);
        QCOMPARE(check.warnings[0].path, QStringLiteral("streamgate.toxics.any[0].type"));
        QVERIFY(check.warnings[0].reason.contains(u"only on the UDP sessions"));
        QCOMPARE(check.warnings[1].path, QStringLiteral("streamgate.toxics.any[1].type"));
        QVERIFY(check.warnings[1].reason.contains(u"only on the TCP sessions"));
    }

    void configFileTakesUdpToxics()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("streamgate.json"));
        // A config file as a user writes it: one UDP listener, route "dns" and one toxic.
        auto write = [&](const QString& type, const QJsonObject& attributes) {
            const QJsonObject toxic{{QStringLiteral("name"), QStringLiteral("t")},
                                    {QStringLiteral("type"), type},
                                    {QStringLiteral("stream"), QStringLiteral("upstream")},
                                    {QStringLiteral("toxicity"), 1},
                                    {QStringLiteral("attributes"), attributes}};
            const QJsonObject route{
                {QStringLiteral("id"), QStringLiteral("dns")},
                {QStringLiteral("server_port"), 5353},
                {QStringLiteral("upstream"),
                 QJsonObject{
                     {QStringLiteral("type"), QStringLiteral("roundrobin")},
                     {QStringLiteral("nodes"), QJsonObject{{QStringLiteral("127.0.0.1:53"), 1}}}}}};
            const QJsonObject root{
                {QStringLiteral("stream_proxy"),
                 QJsonObject{{QStringLiteral("udp"), QJsonArray{5353}}}},
                {QStringLiteral("stream_routes"), QJsonArray{route}},
                {QStringLiteral("streamgate"),
                 QJsonObject{{QStringLiteral("toxics"),
                              QJsonObject{{QStringLiteral("dns"), QJsonArray{toxic}}}}}}};
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
            f.write(QJsonDocument(root).toJson());
        };
        write(QStringLiteral("loss"), QJsonObject{{QStringLiteral("loss_rate"), 0.25}});
        FileCheck ok = checkFile(path);
        QVERIFY2(ok.problems.isEmpty(), qPrintable(formatProblems(ok.problems)));
        const ToxicSpec t = ok.config.streamgate.toxicMap().value("dns").value(0);
        QVERIFY(t.type == ToxicType::Loss);
        QCOMPARE(t.attribute("loss_rate"), qint64(250000));
        QCOMPARE(encodeToxic(t)
                     .value(QStringLiteral("attributes"))
                     .toObject()
                     .value(QStringLiteral("loss_rate"))
                     .toDouble(),
                 0.25);

        write(QStringLiteral("slicer"), QJsonObject{{QStringLiteral("average_size"), 10}});
        const FileCheck bad = checkFile(path);
        QCOMPARE(bad.problems.size(), 1);
        QCOMPARE(bad.problems[0].path, QStringLiteral("streamgate.toxics.dns[0].type"));
        QVERIFY2(bad.problems[0].reason.contains(u"cannot be sliced"),
                 qPrintable(bad.problems[0].reason));
    }

    void lossRateIsANumberFromZeroToOne_data()
    {
        QTest::addColumn<QJsonValue>("rate");
        QTest::newRow("above one") << QJsonValue(1.5);
        QTest::newRow("negative") << QJsonValue(-0.1);
        QTest::newRow("text") << QJsonValue(QStringLiteral("half"));
        QTest::newRow("null") << QJsonValue(QJsonValue::Null);
    }
    void lossRateIsANumberFromZeroToOne()
    {
        QFETCH(QJsonValue, rate);
        const QJsonObject json{
            {QStringLiteral("type"), QStringLiteral("loss")},
            {QStringLiteral("attributes"), QJsonObject{{QStringLiteral("loss_rate"), rate}}}};
        for (ToxicInput input : {ToxicInput::File, ToxicInput::Api}) {
            ToxicSpec out;
            const Problems problems = decodeToxic(json, QStringLiteral("t"), input, &out);
            QCOMPARE(problems.size(), 1);
            QCOMPARE(problems[0].path, QStringLiteral("t.attributes.loss_rate"));
            QVERIFY(!problems[0].value.isEmpty() || rate.isNull());
            QVERIFY2(problems[0].reason.contains(u"from 0 to 1"), qPrintable(problems[0].reason));
        }
        ToxicSpec whole;
        QVERIFY(decodeToxic(QJsonObject{{QStringLiteral("type"), QStringLiteral("loss")},
                                        {QStringLiteral("attributes"),
                                         QJsonObject{{QStringLiteral("loss_rate"), 1}}}},
                            QStringLiteral("t"), ToxicInput::Api, &whole)
                    .isEmpty());
        QCOMPARE(whole.attribute("loss_rate"), ToxicSpec::kFractionScale);
        QCOMPARE(whole.name, QStringLiteral("loss_downstream"));
    }
};

QTEST_GUILESS_MAIN(TestUdpToxics)
#include "tst_udptoxics.moc"
