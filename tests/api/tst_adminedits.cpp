// Streamgate's own route edits over real HTTP on loopback (/streamgate/v1/stream_routes/ID/allow,
// block, disable, enable, DELETE, GET /streamgate/v1/disabled_routes; an allow's duration is
// checked here, the timed allows themselves in tst_headless): the ip-restriction and
// enable/disable edits of config/routeedits.h reach the file through the config store, every
// refusal names what is wrong and changes nothing, a hand edit on disk is kept under an edit,
// and a save that fails is a server error.
#include "adminfixture.h"
#include "api/adminserver.h"
#include "config/configstore.h"
#include "httptestclient.h"
#include "model/codec.h"
#include "testfiles.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>
#include <memory>
#include <utility>

using namespace sg;
using namespace sgtest;

namespace {

const QByteArray kKey = "2f6a1c0b9e34d7a85c1f0e9b7d6a4c21";
constexpr int kRestrictedPort = 19301;
constexpr int kOpenPort = 19302;
constexpr int kRangePort = 19303;

QJsonObject route(const QString& id, int port, const QJsonObject& plugins = {})
{
    QJsonObject r{{"id", id},
                  {"server_port", port},
                  {"upstream", QJsonObject{{"nodes", QJsonObject{{"127.0.0.1:9", 1}}}}}};
    if (!plugins.isEmpty())
        r.insert("plugins", plugins);
    return r;
}

QJsonObject restriction(const char* list, const QStringList& entries)
{
    return QJsonObject{
        {"ip-restriction", QJsonObject{{list, QJsonArray::fromStringList(entries)}}}};
}

// "wl" lets only 127.0.0.1 in, "open" has no restriction, "range" allows 10.0.0.0/8.
QByteArray startConfig()
{
    const QJsonObject config{
        {"stream_proxy",
         QJsonObject{{"tcp", QJsonArray{kRestrictedPort, kOpenPort,
                                        QStringLiteral("127.0.0.1:%1").arg(kRangePort)}}}},
        {"stream_routes",
         QJsonArray{route("wl", kRestrictedPort, restriction("whitelist", {"127.0.0.1"})),
                    route("open", kOpenPort),
                    route("range", kRangePort, restriction("whitelist", {"10.0.0.0/8"}))}}};
    return QJsonDocument(config).toJson();
}

QByteArray clientBody(const QString& ip)
{
    return compact(QJsonObject{{"client", ip}});
}

// The file as another process would read it, through the same validation as --check.
Config configOnDisk(const QString& path)
{
    const FileCheck check = checkFile(path);
    if (!check.problems.isEmpty())
        qWarning("%s", qPrintable(formatProblems(check.problems)));
    return check.config;
}

QStringList listOf(const Config& config, const QString& id, bool white)
{
    const StreamRoute* r = config.findRoute(id);
    if (!r)
        return {QStringLiteral("(no route %1)").arg(id)};
    if (!r->plugins.ipRestriction)
        return {};
    return white ? r->plugins.ipRestriction->whitelist : r->plugins.ipRestriction->blacklist;
}

QSet<int> tcpPorts(const Config& config)
{
    QSet<int> ports;
    for (const ListenEntry& e : config.streamProxy.tcp)
        ports.insert(e.port);
    return ports;
}

QStringList problemPaths(const HttpAnswer& answer)
{
    QStringList paths;
    for (const QJsonValue& p : answer.json.value("problems").toArray())
        paths << p.toObject().value("path").toString();
    return paths;
}

} // namespace

class TestAdminEdits : public QObject, protected AdminFixture
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void allowAndBlockEditTheRoute();
    void nothingToChange_data();
    void nothingToChange();
    void badRequests_data();
    void badRequests();
    void unknownRouteIsNotFound_data();
    void unknownRouteIsNotFound();
    void disableEnableListDelete();
    void deleteEnabledRouteTakesItsListener();
    void methodsAndKey();
    void handEditOnDiskIsKept();
    void failedSaveIsServerError();
};

void TestAdminEdits::init()
{
    // One level down, so that a test can take the directory away from under the store.
    const QString error = startAdmin(startConfig(), kKey, QStringLiteral("conf/streamgate.json"));
    QVERIFY2(error.isEmpty(), qPrintable(error));
}

void TestAdminEdits::cleanup()
{
    stopAdmin();
}

void TestAdminEdits::allowAndBlockEditTheRoute()
{
    // Allow on a whitelist route adds the client; the answer is the route as stored.
    HttpAnswer a = call("POST", "/streamgate/v1/stream_routes/wl/allow", clientBody("127.0.0.2"));
    QVERIFY2(a.status == 200, a.body.constData());
    QCOMPARE(a.json.value("id").toString(), QString("wl"));
    QCOMPARE(a.json.value("enabled").toBool(), true);
    QCOMPARE(a.json.value("client").toString(), QString("127.0.0.2"));
    QCOMPARE(a.json.value("listen").toString(), QString::number(kRestrictedPort));
    QCOMPARE(a.json.value("protocol").toString(), QString("tcp"));
    QVERIFY2(a.json.value("message").toString().contains("127.0.0.2 may now connect to wl"),
             a.body.constData());
    const QJsonArray white = a.json.value("value")
                                 .toObject()
                                 .value("plugins")
                                 .toObject()
                                 .value("ip-restriction")
                                 .toObject()
                                 .value("whitelist")
                                 .toArray();
    QCOMPARE(white, (QJsonArray{"127.0.0.1", "127.0.0.2"}));
    QCOMPARE(listOf(configOnDisk(m_path), "wl", true), (QStringList{"127.0.0.1", "127.0.0.2"}));
    // The APISIX view serves the same route.
    const HttpAnswer apisix = call("GET", "/apisix/admin/stream_routes/wl");
    QCOMPARE(apisix.json.value("value").toObject().value("plugins"),
             a.json.value("value").toObject().value("plugins"));

    // Block takes the exact entry off the whitelist again.
    a = call("POST", "/streamgate/v1/stream_routes/wl/block", clientBody("127.0.0.2"));
    QVERIFY2(a.status == 200, a.body.constData());
    QVERIFY2(a.json.value("message").toString().contains("127.0.0.2 is refused on wl"),
             a.body.constData());
    QCOMPARE(listOf(configOnDisk(m_path), "wl", true), QStringList{"127.0.0.1"});

    // A route without restriction gets a blacklist; allowing the client again removes it, and
    // with it the whole plugin (an empty list is not valid APISIX).
    a = call("POST", "/streamgate/v1/stream_routes/open/block", clientBody("2001:db8::7"));
    QVERIFY2(a.status == 200, a.body.constData());
    QCOMPARE(listOf(configOnDisk(m_path), "open", false), QStringList{"2001:db8::7"});
    a = call("POST", "/streamgate/v1/stream_routes/open/allow", clientBody("2001:db8::7"));
    QVERIFY2(a.status == 200, a.body.constData());
    QVERIFY(!configOnDisk(m_path).findRoute("open")->plugins.ipRestriction);
    QVERIFY(!a.json.value("value").toObject().contains("plugins"));
}

void TestAdminEdits::nothingToChange_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("client");
    QTest::addColumn<QString>("reason");
    QTest::newRow("allow, already on the whitelist") << "wl/allow"
                                                     << "127.0.0.1"
                                                     << "127.0.0.1 is already allowed on wl";
    QTest::newRow("allow, no restriction at all") << "open/allow"
                                                  << "192.0.2.7"
                                                  << "open has no client restriction";
    QTest::newRow("block the only allowed client") << "wl/block"
                                                   << "127.0.0.1"
                                                   << "an empty allow-list would let everyone in";
    QTest::newRow("block a client a CIDR entry allows") << "range/block"
                                                        << "10.1.2.3"
                                                        << "through a wider entry (CIDR)";
}

void TestAdminEdits::nothingToChange()
{
    QFETCH(QString, path);
    QFETCH(QString, client);
    QFETCH(QString, reason);
    const QByteArray before = readFile(m_path);
    const qint64 revision = m_store->revision();
    // 409: nothing changed, and in the last two cases the client is not where the request
    // wanted it, so no success code may say otherwise.
    const HttpAnswer a = call("POST", "/streamgate/v1/stream_routes/" + path, clientBody(client));
    QCOMPARE(a.status, 409);
    QVERIFY2(a.json.value("error_msg").toString().contains(reason), a.body.constData());
    QCOMPARE(readFile(m_path), before);
    QCOMPARE(m_store->revision(), revision);
}

void TestAdminEdits::badRequests_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("field"); // the problem's path ("" when none is listed)
    QTest::addColumn<QString>("text");  // in error_msg
    QTest::newRow("no body") << "wl/allow" << QByteArray() << ""
                             << "missing configurations";
    QTest::newRow("not JSON") << "wl/allow" << QByteArray("{client: 1}") << ""
                              << "invalid request body";
    QTest::newRow("not an object") << "wl/block" << QByteArray("[\"127.0.0.2\"]") << ""
                                   << "expected a JSON object";
    QTest::newRow("client missing") << "wl/allow" << QByteArray("{}") << "client"
                                    << "client is required";
    QTest::newRow("client not a string") << "wl/allow" << QByteArray("{\"client\": 7}") << "client"
                                         << "client 7 must be a string";
    QTest::newRow("client not an address")
        << "wl/allow" << QByteArray("{\"client\": \"db.local\"}") << "client"
        << "client \"db.local\" is not an IPv4 or IPv6 address";
    QTest::newRow("client out of range")
        << "wl/block" << QByteArray("{\"client\": \"127.0.0.256\"}") << "client"
        << "client \"127.0.0.256\" is not an IPv4 or IPv6 address";
    QTest::newRow("client a CIDR range")
        << "wl/allow" << QByteArray("{\"client\": \"10.0.0.0/8\"}") << "client"
        << "client \"10.0.0.0/8\" is a CIDR range, not one client";
    QTest::newRow("unknown field")
        << "wl/allow" << QByteArray("{\"client\": \"127.0.0.2\", \"route\": \"x\"}") << "route"
        << "unknown field route";
    QTest::newRow("unknown duration")
        << "wl/allow" << QByteArray("{\"client\": \"127.0.0.2\", \"duration\": \"week\"}")
        << "duration"
        << "duration \"week\" is not one of \"once\", \"hour\", \"until_quit\", \"always\"";
    QTest::newRow("duration not a string")
        << "wl/allow" << QByteArray("{\"client\": \"127.0.0.2\", \"duration\": 1}") << "duration"
        << "duration 1 is not one of";
    QTest::newRow("duration on a block")
        << "wl/block" << QByteArray("{\"client\": \"127.0.0.1\", \"duration\": \"hour\"}")
        << "duration"
        << "duration is for allow only";
    QTest::newRow("disable with a body") << "wl/disable" << QByteArray("{\"now\": true}") << "now"
                                         << "unknown field now: this request takes no body";
    QTest::newRow("bad route id") << "a%20b/allow" << clientBody("127.0.0.2") << ""
                                  << "invalid stream route id \"a b\"";
}

void TestAdminEdits::badRequests()
{
    QFETCH(QString, path);
    QFETCH(QByteArray, body);
    QFETCH(QString, field);
    QFETCH(QString, text);
    const QByteArray before = readFile(m_path);
    QUrl u = m_server->url();
    u.setPath("/streamgate/v1/stream_routes/" + path, QUrl::TolerantMode);
    const HttpAnswer a = request(m_network, "POST", u, body, kKey);
    QCOMPARE(a.status, 400);
    QVERIFY2(a.json.value("error_msg").toString().contains(text), a.body.constData());
    if (!field.isEmpty())
        QVERIFY2(problemPaths(a).contains(field), a.body.constData());
    QCOMPARE(readFile(m_path), before);
}

void TestAdminEdits::unknownRouteIsNotFound_data()
{
    QTest::addColumn<QByteArray>("verb");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QByteArray>("body");
    QTest::newRow("allow") << QByteArray("POST") << "nope/allow" << clientBody("127.0.0.2");
    QTest::newRow("block") << QByteArray("POST") << "nope/block" << clientBody("127.0.0.2");
    QTest::newRow("disable") << QByteArray("POST") << "nope/disable" << QByteArray();
    QTest::newRow("enable") << QByteArray("POST") << "nope/enable" << QByteArray();
    QTest::newRow("delete") << QByteArray("DELETE") << "nope" << QByteArray();
}

void TestAdminEdits::unknownRouteIsNotFound()
{
    QFETCH(QByteArray, verb);
    QFETCH(QString, path);
    QFETCH(QByteArray, body);
    const QByteArray before = readFile(m_path);
    const HttpAnswer a = call(verb, "/streamgate/v1/stream_routes/" + path, body);
    QCOMPARE(a.status, 404);
    QVERIFY2(a.json.value("error_msg").toString().contains("stream route \"nope\" not found"),
             a.body.constData());
    QCOMPARE(readFile(m_path), before);
}

void TestAdminEdits::disableEnableListDelete()
{
    HttpAnswer a = call("GET", "/streamgate/v1/disabled_routes");
    QCOMPARE(a.status, 200);
    QCOMPARE(a.json.value("total").toInt(), 0);

    // Disable: the route leaves stream_routes, its listener leaves stream_proxy, and it is kept
    // under streamgate.disabled_routes with the listener it gets back.
    a = call("POST", "/streamgate/v1/stream_routes/wl/disable");
    QVERIFY2(a.status == 200, a.body.constData());
    QCOMPARE(a.json.value("enabled").toBool(), false);
    QCOMPARE(a.json.value("listen").toString(), QString::number(kRestrictedPort));
    QVERIFY2(a.json.value("message").toString().contains("is disabled"), a.body.constData());
    Config disk = configOnDisk(m_path);
    QVERIFY(!disk.findRoute("wl"));
    QCOMPARE(tcpPorts(disk), (QSet<int>{kOpenPort, kRangePort}));
    QCOMPARE(disk.streamgate.disabledRouteList().size(), 1);
    QCOMPARE(call("GET", "/apisix/admin/stream_routes/wl").status, 404);

    a = call("GET", "/streamgate/v1/disabled_routes");
    QCOMPARE(a.json.value("total").toInt(), 1);
    const QJsonObject entry = a.json.value("list").toArray().first().toObject();
    QCOMPARE(entry.value("id").toString(), QString("wl"));
    QCOMPARE(entry.value("enabled").toBool(), false);
    QCOMPARE(entry.value("listen").toString(), QString::number(kRestrictedPort));
    QCOMPARE(entry.value("value").toObject().value("server_port").toInt(), kRestrictedPort);

    // Nothing to change on a disabled route: 409 saying what to do.
    const QByteArray before = readFile(m_path);
    a = call("POST", "/streamgate/v1/stream_routes/wl/disable");
    QCOMPARE(a.status, 409);
    QVERIFY2(a.json.value("error_msg").toString().contains("\"wl\" is already disabled"),
             a.body.constData());
    a = call("POST", "/streamgate/v1/stream_routes/wl/allow", clientBody("127.0.0.2"));
    QCOMPARE(a.status, 409);
    QVERIFY2(a.json.value("error_msg").toString().contains("enable it first"), a.body.constData());
    QCOMPARE(readFile(m_path), before);

    // Enable: back in stream_routes and stream_proxy, and off the disabled list. "{}" counts as
    // no body.
    a = call("POST", "/streamgate/v1/stream_routes/wl/enable", "{}");
    QVERIFY2(a.status == 200, a.body.constData());
    QCOMPARE(a.json.value("enabled").toBool(), true);
    disk = configOnDisk(m_path);
    QVERIFY(disk.findRoute("wl"));
    QCOMPARE(listOf(disk, "wl", true), QStringList{"127.0.0.1"});
    QCOMPARE(tcpPorts(disk), (QSet<int>{kRestrictedPort, kOpenPort, kRangePort}));
    QVERIFY(disk.streamgate.disabledRouteList().isEmpty());
    QCOMPARE(call("GET", "/apisix/admin/stream_routes/wl").status, 200);
    a = call("POST", "/streamgate/v1/stream_routes/wl/enable");
    QCOMPARE(a.status, 409);
    QVERIFY2(a.json.value("error_msg").toString().contains("\"wl\" is already enabled"),
             a.body.constData());

    // Delete a disabled route: gone from the disabled list, nothing else touched.
    QCOMPARE(call("POST", "/streamgate/v1/stream_routes/range/disable").status, 200);
    a = call("DELETE", "/streamgate/v1/stream_routes/range");
    QVERIFY2(a.status == 200, a.body.constData());
    QCOMPARE(a.json.value("deleted").toString(), QString("range"));
    QCOMPARE(a.json.value("enabled").toBool(), false);
    disk = configOnDisk(m_path);
    QVERIFY(disk.streamgate.disabledRouteList().isEmpty());
    QCOMPARE(tcpPorts(disk), (QSet<int>{kRestrictedPort, kOpenPort}));
    QCOMPARE(disk.streamRoutes.size(), 2);
    QCOMPARE(call("GET", "/streamgate/v1/disabled_routes").json.value("total").toInt(), 0);
    QCOMPARE(call("DELETE", "/streamgate/v1/stream_routes/range").status, 404);
}

void TestAdminEdits::deleteEnabledRouteTakesItsListener()
{
    const HttpAnswer a = call("DELETE", "/streamgate/v1/stream_routes/open");
    QVERIFY2(a.status == 200, a.body.constData());
    QCOMPARE(a.json.value("enabled").toBool(), true);
    QCOMPARE(a.json.value("connections_closed").toInt(), 0); // no engine here
    const Config disk = configOnDisk(m_path);
    QVERIFY(!disk.findRoute("open"));
    QCOMPARE(tcpPorts(disk), (QSet<int>{kRestrictedPort, kRangePort}));
}

void TestAdminEdits::methodsAndKey()
{
    HttpAnswer a = call("GET", "/streamgate/v1/stream_routes/wl/allow");
    QCOMPARE(a.status, 405);
    QCOMPARE(a.allow, QByteArray("POST"));
    a = call("GET", "/streamgate/v1/stream_routes/wl");
    QCOMPARE(a.status, 405);
    QCOMPARE(a.allow, QByteArray("DELETE"));
    a = call("POST", "/streamgate/v1/disabled_routes");
    QCOMPARE(a.status, 405);
    QCOMPARE(a.allow, QByteArray("GET"));
    a = call("POST", "/streamgate/v1/stream_routes/wl/pause");
    QCOMPARE(a.status, 404);
    QVERIFY2(a.json.value("error_msg").toString().contains("unknown action \"pause\""),
             a.body.constData());
    QCOMPARE(call("POST", "/streamgate/v1/stream_routes/wl/allow/more").status, 404);

    // The same key as every admin path.
    const QByteArray before = readFile(m_path);
    a = call("POST", "/streamgate/v1/stream_routes/wl/allow", clientBody("127.0.0.2"), {});
    QCOMPARE(a.status, 401);
    a = call("POST", "/streamgate/v1/stream_routes/wl/disable", {}, "wrong");
    QCOMPARE(a.status, 401);
    QCOMPARE(call("GET", "/streamgate/v1/disabled_routes", {}, "wrong").status, 401);
    QCOMPARE(readFile(m_path), before);
}

void TestAdminEdits::handEditOnDiskIsKept()
{
    // Edited by hand, and at once (before any watcher could see it) a client is allowed: the
    // edit lands on what the file holds now, the hand-made entries included.
    QJsonObject config = QJsonDocument::fromJson(startConfig()).object();
    QJsonArray routes = config.value("stream_routes").toArray();
    QJsonObject wl = routes.at(0).toObject();
    wl.insert("plugins", restriction("whitelist", {"127.0.0.1", "10.9.8.7"}));
    routes.replace(0, wl);
    routes.append(route("hand", kOpenPort));
    config.insert("stream_routes", routes);
    QVERIFY(writeFile(m_path, QJsonDocument(config).toJson()));

    HttpAnswer a = call("POST", "/streamgate/v1/stream_routes/wl/allow", clientBody("127.0.0.2"));
    QVERIFY2(a.status == 200, a.body.constData());
    Config disk = configOnDisk(m_path);
    QCOMPARE(listOf(disk, "wl", true), (QStringList{"127.0.0.1", "10.9.8.7", "127.0.0.2"}));
    QVERIFY(disk.findRoute("hand"));

    // A route made by hand can be disabled at once too.
    routes.append(route("hand2", kOpenPort));
    config.insert("stream_routes", routes);
    QVERIFY(writeFile(m_path, QJsonDocument(config).toJson()));
    a = call("POST", "/streamgate/v1/stream_routes/hand2/disable");
    QVERIFY2(a.status == 200, a.body.constData());
    disk = configOnDisk(m_path);
    QVERIFY(!disk.findRoute("hand2"));
    QVERIFY(disk.findRoute("hand"));
    QCOMPARE(disk.streamgate.disabledRouteList().size(), 1);
    // kOpenPort stays: "open" and "hand" still use it.
    QVERIFY(tcpPorts(disk).contains(kOpenPort));
}

void TestAdminEdits::failedSaveIsServerError()
{
    // The config's directory becomes a plain file: nothing can be written there any more.
    const QString dir = QFileInfo(m_path).absolutePath();
    QVERIFY(QDir(dir).removeRecursively());
    QVERIFY(writeFile(dir, "not a directory"));

    const qint64 revision = m_store->revision();
    for (const auto& [path, body] : {std::pair{QString("wl/allow"), clientBody("127.0.0.2")},
                                     std::pair{QString("wl/disable"), QByteArray()}}) {
        const HttpAnswer a = call("POST", "/streamgate/v1/stream_routes/" + path, body);
        QVERIFY2(a.status == 500, a.body.constData());
        QVERIFY2(a.json.value("error_msg").toString().contains("cannot write " + m_path),
                 a.body.constData());
    }
    const HttpAnswer gone = call("DELETE", "/streamgate/v1/stream_routes/open");
    QVERIFY2(gone.status == 500, gone.body.constData());
    // Nothing changed in the running config either.
    QCOMPARE(m_store->revision(), revision);
    QCOMPARE(listOf(m_store->config(), "wl", true), QStringList{"127.0.0.1"});
    QVERIFY(m_store->config().findRoute("open"));
    QCOMPARE(call("GET", "/streamgate/v1/disabled_routes").json.value("total").toInt(), 0);
}

QTEST_GUILESS_MAIN(TestAdminEdits)
#include "tst_adminedits.moc"
