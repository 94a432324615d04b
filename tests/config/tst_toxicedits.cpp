// The config edits behind the Faults panel and the Toxiproxy API: toxics added, replaced and
// removed by name on a route, "Server down" as a marked disabled route, and one edit that
// clears every fault while leaving a route the user disabled alone. Every result is also run
// through the codec, so what the store would save decodes to the same config.
#include "config/routeedits.h"
#include "config/toxicedits.h"
#include "model/codec.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace sg;

namespace {

Config config(const QByteArray& json)
{
    const Decoded<Config> d = decodeConfig(QJsonDocument::fromJson(json).object());
    if (!d.ok())
        qFatal("bad fixture: %s", qPrintable(formatProblems(d.problems)));
    return d.value;
}

// Two TCP routes on their own listeners, and a third the user disabled.
const QByteArray Base = R"({
  "stream_proxy": {"tcp": ["127.0.0.1:13306", "127.0.0.1:15432"]},
  "stream_routes": [
    {"id": "db", "server_port": 13306, "upstream": {"nodes": {"127.0.0.1:3306": 1}}},
    {"id": "pg", "server_port": 15432, "upstream": {"nodes": {"127.0.0.1:5432": 1}}}
  ],
  "streamgate": {"disabled_routes": [
    {"route": {"id": "old", "server_port": 16379, "upstream": {"nodes": {"127.0.0.1:6379": 1}}},
     "protocol": "tcp", "listen": "127.0.0.1:16379"}
  ]}
})";

ToxicSpec latency(const QString& name, qint64 ms, qint64 jitter = 0)
{
    ToxicSpec t;
    t.name = name;
    t.type = ToxicType::Latency;
    t.attributes = {ms, jitter, 0};
    return t;
}

Config ok(const ToxicEdit& edit)
{
    if (const auto* e = std::get_if<ToxicEditError>(&edit))
        qFatal("edit refused: %s", qPrintable(e->message));
    const Config next = std::get<Config>(edit);
    // What the store would write reads back as the same config.
    const Decoded<Config> again = decodeConfig(encodeConfig(next));
    if (!again.ok() || !(again.value.streamgate == next.streamgate))
        qFatal("does not survive the codec: %s", qPrintable(formatProblems(again.problems)));
    return next;
}

ToxicEditError refused(const ToxicEdit& edit)
{
    if (!std::holds_alternative<ToxicEditError>(edit))
        qFatal("edit accepted where it should be refused");
    return std::get<ToxicEditError>(edit);
}

QStringList names(const Config& c, const QString& routeId)
{
    QStringList list;
    for (const ToxicSpec& t : c.streamgate.toxicMap().value(routeId))
        list << t.name;
    return list;
}

} // namespace

class TestToxicEdits : public QObject
{
    Q_OBJECT

private slots:
    void addAppendsInChainOrder()
    {
        Config c = ok(withToxicAdded(config(Base), "db", latency("slow", 200, 50)));
        c = ok(withToxicAdded(c, "db", latency("slower", 400)));
        QCOMPARE(names(c, "db"), (QStringList{"slow", "slower"}));
        QCOMPARE(c.streamgate.toxicMap().value("db").first().attribute("jitter"), 50);
        QVERIFY(!c.streamgate.toxicMap().contains("pg"));
    }

    void addOnADisabledRouteIsKept()
    {
        const Config c = ok(withToxicAdded(config(Base), "old", latency("slow", 10)));
        QCOMPARE(names(c, "old"), QStringList{"slow"});
    }

    void addRefusesATakenNameAndAMissingRoute()
    {
        const Config c = ok(withToxicAdded(config(Base), "db", latency("slow", 200)));
        const ToxicEditError taken = refused(withToxicAdded(c, "db", latency("slow", 1)));
        QCOMPARE(taken.kind, ToxicEditError::Kind::NameTaken);
        QVERIFY2(taken.message.contains("db") && taken.message.contains("\"slow\""),
                 qPrintable(taken.message));
        // The same name on another route is fine: names are unique per route.
        QCOMPARE(names(ok(withToxicAdded(c, "pg", latency("slow", 1))), "pg"), QStringList{"slow"});
        const ToxicEditError none = refused(withToxicAdded(c, "nope", latency("x", 1)));
        QCOMPARE(none.kind, ToxicEditError::Kind::NoRoute);
        QVERIFY2(none.message.contains("nope"), qPrintable(none.message));
    }

    void replaceKeepsThePlaceInTheChain()
    {
        Config c = ok(withToxicAdded(config(Base), "db", latency("a", 1)));
        c = ok(withToxicAdded(c, "db", latency("b", 2)));
        c = ok(withToxicAdded(c, "db", latency("c", 3)));
        c = ok(withToxicReplaced(c, "db", "b", latency("b", 250, 10)));
        QCOMPARE(names(c, "db"), (QStringList{"a", "b", "c"}));
        QCOMPARE(c.streamgate.toxicMap().value("db").at(1).attribute("latency"), 250);
        QCOMPARE(c.streamgate.toxicMap().value("db").at(1).attribute("jitter"), 10);
        // Renamed in place.
        c = ok(withToxicReplaced(c, "db", "b", latency("renamed", 250)));
        QCOMPARE(names(c, "db"), (QStringList{"a", "renamed", "c"}));
    }

    void replaceRefusesAnUnknownNameAndARenameOntoAnother()
    {
        Config c = ok(withToxicAdded(config(Base), "db", latency("a", 1)));
        c = ok(withToxicAdded(c, "db", latency("b", 2)));
        QCOMPARE(refused(withToxicReplaced(c, "db", "zz", latency("zz", 1))).kind,
                 ToxicEditError::Kind::NoToxic);
        QCOMPARE(refused(withToxicReplaced(c, "db", "a", latency("b", 1))).kind,
                 ToxicEditError::Kind::NameTaken);
        QCOMPARE(refused(withToxicReplaced(c, "nope", "a", latency("a", 1))).kind,
                 ToxicEditError::Kind::NoRoute);
    }

    void removeKeepsTheRoutesEntry()
    {
        Config c = ok(withToxicAdded(config(Base), "db", latency("a", 1)));
        c = ok(withToxicAdded(c, "db", latency("b", 2)));
        c = ok(withToxicRemoved(c, "db", "a"));
        QCOMPARE(names(c, "db"), QStringList{"b"});
        c = ok(withToxicRemoved(c, "db", "b"));
        // Still listed, empty: toxics added later reach the connections already open.
        QVERIFY(c.streamgate.toxicMap().contains("db"));
        QVERIFY(c.streamgate.toxicMap().value("db").isEmpty());
        QCOMPARE(refused(withToxicRemoved(c, "db", "b")).kind, ToxicEditError::Kind::NoToxic);
        QCOMPARE(refused(withToxicRemoved(c, "nope", "b")).kind, ToxicEditError::Kind::NoRoute);
    }

    void serverDownIsAMarkedDisabledRoute()
    {
        const Config before = config(Base);
        const Config c = ok(withRouteDown(before, "db"));
        QVERIFY(!c.findRoute("db"));
        QVERIFY(isRouteDown(c, "db"));
        QVERIFY(!isRouteDown(c, "old")); // disabled by the user
        QVERIFY(!isRouteDown(c, "pg"));
        // The listener is closed: only pg's is left.
        QCOMPARE(c.streamProxy.tcp.size(), 1);
        QCOMPARE(c.streamProxy.tcp.first().port, 15432);
        // The marker is in the file: {"route": ..., "fault": true}.
        const QJsonObject file = encodeConfig(c);
        bool marked = false;
        for (const QJsonValue& v :
             file.value("streamgate").toObject().value("disabled_routes").toArray())
            if (v.toObject().value("route").toObject().value("id") == "db")
                marked = v.toObject().value("fault") == QJsonValue(true);
        QVERIFY(marked);

        QCOMPARE(refused(withRouteDown(c, "db")).kind, ToxicEditError::Kind::NotUp);
        QCOMPARE(refused(withRouteDown(c, "old")).kind, ToxicEditError::Kind::NotUp);
        QCOMPARE(refused(withRouteDown(c, "nope")).kind, ToxicEditError::Kind::NoRoute);
        // Enabled by hand, the marker goes with the disabled entry.
        QVERIFY(!isRouteDown(withRouteEnabled(c, "db"), "db"));
    }

    void clearingFaultsLeavesUserDisabledRoutesAlone()
    {
        Config c = ok(withToxicAdded(config(Base), "db", latency("a", 1)));
        c = ok(withToxicAdded(c, "old", latency("b", 1)));
        c = ok(withRouteDown(c, "pg"));
        QCOMPARE(activeFaults(c).count, 3);
        // Enabled routes in match order, then the disabled ones in the order they were disabled.
        QCOMPARE(activeFaults(c).routeIds, (QStringList{"db", "old", "pg"}));

        const Config cleared = withFaultsCleared(c);
        QVERIFY(activeFaults(cleared).isEmpty());
        QVERIFY(cleared.findRoute("pg"));   // back, with its listener
        QVERIFY(!cleared.findRoute("old")); // the user's choice stays
        QCOMPARE(cleared.streamProxy.tcp.size(), 2);
        QVERIFY(names(cleared, "db").isEmpty());
        QVERIFY(cleared.streamgate.toxicMap().contains("db"));
        QVERIFY(names(cleared, "old").isEmpty());
        // Nothing to clear: nothing changes.
        QVERIFY(withFaultsCleared(config(Base)) == config(Base));
    }

    void switchingOffKeepsEveryToxic()
    {
        Config c = ok(withToxicAdded(config(Base), "db", latency("a", 1)));
        c = ok(withToxicAdded(c, "pg", latency("b", 2)));
        c = ok(withRouteDown(c, "pg"));
        QCOMPARE(activeFaults(c).count, 3);
        const Config off = withToxicsSwitchedOff(c);
        QCOMPARE(names(off, "db"), QStringList{"a"});
        QCOMPARE(names(off, "pg"), QStringList{"b"});
        QVERIFY(!off.streamgate.toxicMap().value("db").first().enabled);
        QCOMPARE(off.streamgate.toxicMap().value("pg").first().attribute("latency"), 2);
        // Only the downed route is left as an active fault.
        QCOMPARE(activeFaults(off).count, 1);
        QCOMPARE(activeFaults(off).routeIds, QStringList{"pg"});
        // Written as "enabled": false and read back the same.
        QVERIFY(ok(ToxicEdit(off)).streamgate == off.streamgate);
        // One switched on again through a replace.
        ToxicSpec a = off.streamgate.toxicMap().value("db").first();
        a.enabled = true;
        QCOMPARE(activeFaults(ok(withToxicReplaced(off, "db", "a", a))).count, 2);
    }

    void activeFaultsIgnoreToxicsOfMissingRoutes()
    {
        Config c = config(Base);
        QVERIFY(activeFaults(c).isEmpty());
        QMap<QString, QList<ToxicSpec>> toxics;
        toxics.insert("gone", {latency("a", 1)});
        toxics.insert("pg", {latency("a", 1), latency("b", 1)});
        c.streamgate.toxics = toxics;
        QCOMPARE(activeFaults(c).count, 2);
        QCOMPARE(activeFaults(c).routeIds, QStringList{"pg"});
    }

    void uniqueNames()
    {
        Config c = ok(withToxicAdded(config(Base), "db", latency("latency_downstream", 1)));
        QCOMPARE(uniqueToxicName(c, "db", "latency_downstream"), "latency_downstream_2");
        c = ok(withToxicAdded(c, "db", latency("latency_downstream_2", 1)));
        QCOMPARE(uniqueToxicName(c, "db", "latency_downstream"), "latency_downstream_3");
        QCOMPARE(uniqueToxicName(c, "pg", "latency_downstream"), "latency_downstream");
    }
};

QTEST_GUILESS_MAIN(TestToxicEdits)
#include "tst_toxicedits.moc"
