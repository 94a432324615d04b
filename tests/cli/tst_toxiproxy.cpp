// The Toxiproxy API through the real binary (`streamgate --headless`), driven by Toxiproxy's
// own Node client (toxiproxy-node-client from the npm registry, run with the system's nodejs)
// and by raw HTTP for the status codes and bodies. Each toxic's effect is measured on a real
// loopback connection through the proxy to a real echo upstream.

#include "loopback.h"
#include "streamgateprocess.h"
#include "testfiles.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

using namespace sgtest;

namespace {

struct Raw
{
    int status = 0;
    QByteArray head;
    QByteArray body;
    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
};

// One request on its own connection, every header as given (User-Agent, Host).
Raw rawHttp(int port, const QByteArray& method, const QByteArray& path, const QByteArray& body = {},
            const QByteArray& extraHeaders = {}, const QByteArray& host = "127.0.0.1")
{
    Raw r;
    const int fd = connectTo(QStringLiteral("127.0.0.1"), port);
    if (fd < 0)
        return r;
    QByteArray req = method + ' ' + path + " HTTP/1.1\r\nHost: " + host +
                     "\r\nConnection: close\r\n" + extraHeaders;
    if (!body.isNull())
        req += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    req += "\r\n" + body;
    sendAll(fd, req);
    QByteArray all;
    waitForEnd(fd, 10000, &all);
    ::close(fd);
    const qsizetype split = all.indexOf("\r\n\r\n");
    r.head = all.left(split);
    r.body = split < 0 ? QByteArray() : all.mid(split + 4);
    r.status = all.mid(9, 3).toInt();
    return r;
}

qint64 roundTrip(int fd, const QByteArray& bytes = QByteArrayLiteral("ping"))
{
    const qint64 start = nowMs();
    if (!sendAll(fd, bytes))
        return -1;
    return recvExactly(fd, bytes.size()) == bytes ? nowMs() - start : -1;
}

QByteArray steps(const QJsonArray& a)
{
    return QJsonDocument(a).toJson(QJsonDocument::Compact);
}

QJsonObject toxicBody(const char* type, const QJsonObject& attributes, const char* stream = nullptr)
{
    QJsonObject o{{QStringLiteral("type"), QLatin1String(type)},
                  {QStringLiteral("attributes"), attributes}};
    if (stream)
        o.insert(QStringLiteral("stream"), QLatin1String(stream));
    return o;
}

} // namespace

class TestToxiproxy : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    StreamgateProcess m_sg;
    int m_apiPort = 0;
    QString m_config;

    // Runs the client on `list` (see toxiproxy-client.js); one result per step.
    QList<QJsonObject> client(const QJsonArray& list)
    {
        QProcess node;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("NODE_PATH"),
                   QStringLiteral(TOXIPROXY_CLIENT_DIR "/node_modules"));
        node.setProcessEnvironment(env);
        node.start(QStringLiteral(NODE_BINARY),
                   {QStringLiteral(TOXIPROXY_SCRIPT),
                    QStringLiteral("http://127.0.0.1:%1").arg(m_apiPort),
                    QString::fromUtf8(steps(list))});
        QList<QJsonObject> results;
        if (!node.waitForFinished(30000)) {
            node.kill();
            node.waitForFinished(5000);
            return results;
        }
        const QByteArray err = node.readAllStandardError();
        if (!err.isEmpty())
            qWarning("node: %s", err.constData());
        for (const QByteArray& line : node.readAllStandardOutput().split('\n'))
            if (!line.trimmed().isEmpty())
                results << QJsonDocument::fromJson(line).object();
        return results;
    }
    QJsonObject one(const QJsonObject& step) { return client({step}).value(0); }

    bool startStreamgate() { return m_sg.start(m_config, true) && m_sg.waitForAdmin(); }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY2(QFile::exists(
                     QStringLiteral(TOXIPROXY_CLIENT_DIR "/node_modules/toxiproxy-node-client")),
                 "toxiproxy-node-client is installed by the toxiproxy_client_install fixture");
        m_apiPort = freePort();
        m_config = m_dir.filePath(QStringLiteral("streamgate.json"));
        const QJsonObject config{
            {QStringLiteral("streamgate"),
             QJsonObject{{QStringLiteral("toxiproxy"),
                          QJsonObject{{QStringLiteral("listen"),
                                       QStringLiteral("127.0.0.1:%1").arg(m_apiPort)}}},
                         {QStringLiteral("prometheus"),
                          QJsonObject{{QStringLiteral("listen"),
                                       QStringLiteral("127.0.0.1:%1").arg(freePort())}}}}}};
        QVERIFY(writeFile(m_config, QJsonDocument(config).toJson()));
        QVERIFY(startStreamgate());
    }

    void toxicsMeasuredThroughTheClientLibrary()
    {
        TestServer echo(TestServer::Echo);
        const QString upstream = QStringLiteral("127.0.0.1:%1").arg(echo.port());
        const QList<QJsonObject> made = client(
            {QJsonObject{{QStringLiteral("op"), QStringLiteral("version")}},
             QJsonObject{{QStringLiteral("op"), QStringLiteral("create")},
                         {QStringLiteral("body"),
                          QJsonObject{{QStringLiteral("name"), QStringLiteral("echo")},
                                      {QStringLiteral("listen"), QStringLiteral("127.0.0.1:0")},
                                      {QStringLiteral("upstream"), upstream}}}}});
        QCOMPARE(made.size(), 2);
        QVERIFY(made[0].value(QStringLiteral("ok")).toBool());
        QCOMPARE(made[0].value(QStringLiteral("version")).toString(), QStringLiteral("2.12.0"));
        const QJsonObject proxy = made[1].value(QStringLiteral("proxy")).toObject();
        QCOMPARE(proxy.value(QStringLiteral("upstream")).toString(), upstream);
        const int port = proxy.value(QStringLiteral("listen")).toString().section(u':', -1).toInt();
        QVERIFY2(port > 0, qPrintable(proxy.value(QStringLiteral("listen")).toString()));
        // The proxy is a route, seen by the admin API.
        QCOMPARE(m_sg.get(QStringLiteral("/apisix/admin/stream_routes/echo")).status, 200);

        const int fd = connectTo(QStringLiteral("127.0.0.1"), port);
        QVERIFY(fd >= 0);
        const qint64 plain = roundTrip(fd);
        QVERIFY2(plain >= 0 && plain < 100, qPrintable(QString::number(plain)));

        // Latency added, changed and removed on this open connection.
        const QJsonObject added = one(
            {{QStringLiteral("op"), QStringLiteral("addToxic")},
             {QStringLiteral("proxy"), QStringLiteral("echo")},
             {QStringLiteral("body"), toxicBody("latency", {{QStringLiteral("latency"), 200}})}});
        QVERIFY2(added.value(QStringLiteral("ok")).toBool(), QJsonDocument(added).toJson());
        QCOMPARE(added.value(QStringLiteral("toxic")).toObject().value(QStringLiteral("name")),
                 QStringLiteral("latency_downstream"));
        const qint64 slow = roundTrip(fd);
        QVERIFY2(slow >= 195 && slow < 700, qPrintable(QString::number(slow)));
        QVERIFY(one({{QStringLiteral("op"), QStringLiteral("updateToxic")},
                     {QStringLiteral("proxy"), QStringLiteral("echo")},
                     {QStringLiteral("toxic"), QStringLiteral("latency_downstream")},
                     {QStringLiteral("body"),
                      QJsonObject{{QStringLiteral("attributes"),
                                   QJsonObject{{QStringLiteral("latency"), 60}}}}}})
                    .value(QStringLiteral("ok"))
                    .toBool());
        const qint64 less = roundTrip(fd);
        QVERIFY2(less >= 55 && less < 400, qPrintable(QString::number(less)));
        QVERIFY(one({{QStringLiteral("op"), QStringLiteral("removeToxic")},
                     {QStringLiteral("proxy"), QStringLiteral("echo")},
                     {QStringLiteral("toxic"), QStringLiteral("latency_downstream")}})
                    .value(QStringLiteral("ok"))
                    .toBool());
        const qint64 back = roundTrip(fd);
        QVERIFY2(back >= 0 && back < 100, qPrintable(QString::number(back)));

        // timeout on the same (idle) connection: held, then closed.
        const qint64 start = nowMs();
        QVERIFY(one({{QStringLiteral("op"), QStringLiteral("addToxic")},
                     {QStringLiteral("proxy"), QStringLiteral("echo")},
                     {QStringLiteral("body"),
                      toxicBody("timeout", {{QStringLiteral("timeout"), 500}})}})
                    .value(QStringLiteral("ok"))
                    .toBool());
        QVERIFY(sendAll(fd, "gone"));
        QByteArray got;
        QCOMPARE(waitForEnd(fd, 5000, &got), ReadEnd::Eof);
        QVERIFY(got.isEmpty());
        const qint64 held = nowMs() - start;
        QVERIFY2(held >= 450 && held < 3000, qPrintable(QString::number(held)));
        ::close(fd);
        QVERIFY(one({{QStringLiteral("op"), QStringLiteral("removeToxic")},
                     {QStringLiteral("proxy"), QStringLiteral("echo")},
                     {QStringLiteral("toxic"), QStringLiteral("timeout_downstream")}})
                    .value(QStringLiteral("ok"))
                    .toBool());

        // reset_peer: the client gets ECONNRESET.
        QVERIFY(one({{QStringLiteral("op"), QStringLiteral("addToxic")},
                     {QStringLiteral("proxy"), QStringLiteral("echo")},
                     {QStringLiteral("body"),
                      toxicBody("reset_peer", {{QStringLiteral("timeout"), 100}}, "upstream")}})
                    .value(QStringLiteral("ok"))
                    .toBool());
        int c = connectTo(QStringLiteral("127.0.0.1"), port);
        QVERIFY(c >= 0 && sendAll(c, "x"));
        QCOMPARE(waitForEnd(c, 5000), ReadEnd::Reset);
        ::close(c);
        QVERIFY(one({{QStringLiteral("op"), QStringLiteral("removeToxic")},
                     {QStringLiteral("proxy"), QStringLiteral("echo")},
                     {QStringLiteral("toxic"), QStringLiteral("reset_peer_upstream")}})
                    .value(QStringLiteral("ok"))
                    .toBool());

        // limit_data: exactly N bytes, then the end.
        QVERIFY(one({{QStringLiteral("op"), QStringLiteral("addToxic")},
                     {QStringLiteral("proxy"), QStringLiteral("echo")},
                     {QStringLiteral("body"),
                      toxicBody("limit_data", {{QStringLiteral("bytes"), 4321}})}})
                    .value(QStringLiteral("ok"))
                    .toBool());
        c = connectTo(QStringLiteral("127.0.0.1"), port);
        QVERIFY(c >= 0);
        const QByteArray data = pattern(20000);
        got.clear();
        QCOMPARE(exchange(c, data, got, -1, false, 5000), ReadEnd::Eof);
        QCOMPARE(got, data.left(4321));
        ::close(c);
        QVERIFY(one({{QStringLiteral("op"), QStringLiteral("removeToxic")},
                     {QStringLiteral("proxy"), QStringLiteral("echo")},
                     {QStringLiteral("toxic"), QStringLiteral("limit_data_downstream")}})
                    .value(QStringLiteral("ok"))
                    .toBool());

        // bandwidth: 100 KB at 100 KB/s takes about a second.
        QVERIFY(
            one({{QStringLiteral("op"), QStringLiteral("addToxic")},
                 {QStringLiteral("proxy"), QStringLiteral("echo")},
                 {QStringLiteral("body"), toxicBody("bandwidth", {{QStringLiteral("rate"), 100}})}})
                .value(QStringLiteral("ok"))
                .toBool());
        c = connectTo(QStringLiteral("127.0.0.1"), port);
        QVERIFY(c >= 0);
        const QByteArray bulk = pattern(100000);
        got.clear();
        const qint64 t0 = nowMs();
        exchange(c, bulk, got, bulk.size(), false, 10000);
        const qint64 took = nowMs() - t0;
        QCOMPARE(got, bulk);
        QVERIFY2(took >= 850 && took < 3000, qPrintable(QString::number(took)));
        ::close(c);

        // The toxic survives a restart (it is in the config file).
        m_sg.stop();
        QVERIFY(startStreamgate());
        const Raw listed = rawHttp(m_apiPort, "GET", "/proxies/echo/toxics");
        QCOMPARE(listed.status, 200);
        const QJsonArray toxics = QJsonDocument::fromJson(listed.body).array();
        QCOMPARE(toxics.size(), 1);
        QCOMPARE(toxics[0].toObject().value(QStringLiteral("type")).toString(),
                 QStringLiteral("bandwidth"));
        QVERIFY(readFile(m_config).contains("\"toxics\""));
    }

    void populateAndReset()
    {
        TestServer echo(TestServer::Echo);
        const QString upstream = QStringLiteral("127.0.0.1:%1").arg(echo.port());
        const QJsonArray body{QJsonObject{{QStringLiteral("name"), QStringLiteral("pa")},
                                          {QStringLiteral("upstream"), upstream}},
                              QJsonObject{{QStringLiteral("name"), QStringLiteral("pb")},
                                          {QStringLiteral("upstream"), upstream}}};
        QList<QJsonObject> r =
            client({QJsonObject{{QStringLiteral("op"), QStringLiteral("populate")},
                                {QStringLiteral("body"), body}},
                    QJsonObject{{QStringLiteral("op"), QStringLiteral("addToxic")},
                                {QStringLiteral("proxy"), QStringLiteral("pa")},
                                {QStringLiteral("body"),
                                 toxicBody("latency", {{QStringLiteral("latency"), 10}})}},
                    QJsonObject{{QStringLiteral("op"), QStringLiteral("getAll")}}});
        QCOMPARE(r.size(), 3);
        QCOMPARE(r[0].value(QStringLiteral("names")).toArray(),
                 (QJsonArray{QStringLiteral("pa"), QStringLiteral("pb")}));
        QVERIFY(r[1].value(QStringLiteral("ok")).toBool());
        QVERIFY(r[2].value(QStringLiteral("names")).toArray().contains(QStringLiteral("pa")));
        // Populating again with the same proxies leaves them, and their toxics, alone.
        const Raw again = rawHttp(m_apiPort, "POST", "/populate", QJsonDocument(body).toJson());
        QCOMPARE(again.status, 201);
        QCOMPARE(rawHttp(m_apiPort, "GET", "/proxies/pa/toxics/latency_downstream").status, 200);

        r = client({QJsonObject{{QStringLiteral("op"), QStringLiteral("reset")}}});
        QVERIFY(r.value(0).value(QStringLiteral("ok")).toBool());
        QCOMPARE(rawHttp(m_apiPort, "GET", "/proxies/pa/toxics").body, QByteArray("[]"));
        QCOMPARE(rawHttp(m_apiPort, "GET", "/proxies/echo/toxics").body, QByteArray("[]"));

        // A bad entry refuses the whole list, naming it.
        const Raw bad = rawHttp(m_apiPort, "POST", "/populate",
                                "[{\"name\":\"pc\",\"upstream\":\"" + upstream.toUtf8() +
                                    "\"},{\"name\":\"pd\"}]");
        QCOMPARE(bad.status, 400);
        QCOMPARE(bad.json().value(QStringLiteral("error")).toString(),
                 QStringLiteral("missing required field: upstream at proxy 2"));
        QCOMPARE(rawHttp(m_apiPort, "GET", "/proxies/pc").status, 404);
    }

    void statusCodesAndErrorBodies()
    {
        const int p = m_apiPort;
        Raw r = rawHttp(p, "GET", "/proxies/nope");
        QCOMPARE(r.status, 404);
        QCOMPARE(r.json(),
                 (QJsonObject{{QStringLiteral("error"), QStringLiteral("proxy not found")},
                              {QStringLiteral("status"), 404}}));
        r = rawHttp(p, "POST", "/proxies", "{\"upstream\":\"127.0.0.1:1\"}");
        QCOMPARE(r.status, 400);
        QCOMPARE(r.json().value(QStringLiteral("error")).toString(),
                 QStringLiteral("missing required field: name"));
        r = rawHttp(p, "POST", "/proxies", "{\"name\":");
        QCOMPARE(r.status, 400);
        QVERIFY(r.json().value(QStringLiteral("error")).toString().startsWith(u"bad request body"));
        const QByteArray create =
            "{\"name\":\"codes\",\"upstream\":\"127.0.0.1:9\",\"listen\":\"127.0.0.1:0\"}";
        QCOMPARE(rawHttp(p, "POST", "/proxies", create).status, 201); // no Content-Type needed
        QCOMPARE(rawHttp(p, "POST", "/proxies", create).status, 409);

        r = rawHttp(p, "POST", "/proxies/codes/toxics",
                    "{\"type\":\"latency\",\"attributes\":{\"latency\":\"slow\"}}");
        QCOMPARE(r.status, 400);
        QCOMPARE(r.json().value(QStringLiteral("error")).toString(),
                 QStringLiteral(
                     "bad request body: attributes.latency: must be a whole number, got slow"));
        r = rawHttp(p, "POST", "/proxies/codes/toxics", "{\"type\":\"wobble\"}");
        QCOMPARE(r.status, 400);
        QVERIFY(r.json()
                    .value(QStringLiteral("error"))
                    .toString()
                    .startsWith(u"invalid toxic type: type"));
        r = rawHttp(p, "POST", "/proxies/codes/toxics",
                    "{\"type\":\"latency\",\"stream\":\"sideways\"}");
        QCOMPARE(r.status, 400);
        QVERIFY(
            r.json().value(QStringLiteral("error")).toString().startsWith(u"stream was invalid"));
        r = rawHttp(p, "POST", "/proxies/codes/toxics", "{\"type\":\"latency\",\"toxicity\":2}");
        QCOMPARE(r.status, 400);
        QVERIFY(r.json().value(QStringLiteral("error")).toString().contains(u"toxicity"));
        // A toxic the config check refuses on this route (loss is for UDP routes) is a bad
        // request too, and the answer says why; nothing was added.
        r = rawHttp(p, "POST", "/proxies/codes/toxics",
                    "{\"name\":\"drop\",\"type\":\"loss\",\"attributes\":{\"loss_rate\":0.5}}");
        QCOMPARE(r.status, 400);
        QVERIFY2(r.json().value(QStringLiteral("error")).toString().contains(u"a TCP route"),
                 qPrintable(r.json().value(QStringLiteral("error")).toString()));
        QCOMPARE(rawHttp(p, "GET", "/proxies/codes/toxics/drop").status, 404);

        r = rawHttp(p, "POST", "/proxies/codes/toxics",
                    "{\"name\":\"t\",\"type\":\"slicer\",\"stream\":\"upstream\"}");
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().value(QStringLiteral("attributes")).toObject(),
                 (QJsonObject{{QStringLiteral("average_size"), 0},
                              {QStringLiteral("size_variation"), 0},
                              {QStringLiteral("delay"), 0}}));
        QCOMPARE(
            rawHttp(p, "POST", "/proxies/codes/toxics", "{\"name\":\"t\",\"type\":\"latency\"}")
                .status,
            409);
        r = rawHttp(p, "PATCH", "/proxies/codes/toxics/t", "{\"attributes\":{\"delay\":5}}");
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json()
                     .value(QStringLiteral("attributes"))
                     .toObject()
                     .value(QStringLiteral("delay"))
                     .toInt(),
                 5);
        QCOMPARE(rawHttp(p, "GET", "/proxies/codes/toxics/zzz")
                     .json()
                     .value(QStringLiteral("error"))
                     .toString(),
                 QStringLiteral("toxic not found"));
        QCOMPARE(rawHttp(p, "DELETE", "/proxies/codes/toxics/t").status, 204);
        QCOMPARE(rawHttp(p, "DELETE", "/proxies/codes/toxics/t").status, 404);
        QCOMPARE(rawHttp(p, "PUT", "/proxies/codes").status, 405);

        r = rawHttp(p, "PATCH", "/proxies/codes", "{\"enabled\":false}");
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().value(QStringLiteral("enabled")).toBool(), false);
        QCOMPARE(rawHttp(p, "POST", "/proxies/codes", "{\"enabled\":true}")
                     .json()
                     .value(QStringLiteral("enabled"))
                     .toBool(),
                 true);
        QCOMPARE(rawHttp(p, "DELETE", "/proxies/codes").status, 204);
        QCOMPARE(m_sg.get(QStringLiteral("/apisix/admin/stream_routes/codes")).status, 404);

        // No key, so: browsers and foreign Host names are refused.
        QCOMPARE(rawHttp(p, "GET", "/version", {}, "User-Agent: Mozilla/5.0 (X11)\r\n").status,
                 403);
        QCOMPARE(rawHttp(p, "GET", "/version", {}, {}, "attacker.example:8474").status, 421);
        QCOMPARE(rawHttp(p, "GET", "/version", {}, {}, "localhost").status, 200);
    }

    void disabledProxyCutsAndRefuses()
    {
        TestServer echo(TestServer::Echo);
        const QByteArray create = "{\"name\":\"gate\",\"listen\":\"127.0.0.1:0\",\"upstream\":"
                                  "\"127.0.0.1:" +
                                  QByteArray::number(echo.port()) + "\"}";
        const Raw made = rawHttp(m_apiPort, "POST", "/proxies", create);
        QCOMPARE(made.status, 201);
        const int port =
            made.json().value(QStringLiteral("listen")).toString().section(u':', -1).toInt();
        const int fd = connectTo(QStringLiteral("127.0.0.1"), port);
        QVERIFY(fd >= 0);
        QVERIFY(roundTrip(fd) >= 0);

        const QJsonObject off =
            one({{QStringLiteral("op"), QStringLiteral("updateProxy")},
                 {QStringLiteral("proxy"), QStringLiteral("gate")},
                 {QStringLiteral("body"), QJsonObject{{QStringLiteral("enabled"), false}}}});
        QVERIFY2(off.value(QStringLiteral("ok")).toBool(), QJsonDocument(off).toJson());
        QCOMPARE(off.value(QStringLiteral("proxy")).toObject().value(QStringLiteral("enabled")),
                 false);
        const ReadEnd end = waitForEnd(fd, 5000);
        QVERIFY(end == ReadEnd::Eof || end == ReadEnd::Reset);
        ::close(fd);
        QCOMPARE(connectTo(QStringLiteral("127.0.0.1"), port), -1); // refused

        QCOMPARE(rawHttp(m_apiPort, "POST", "/reset").status, 204); // enables it again
        const int again = connectTo(QStringLiteral("127.0.0.1"), port);
        QVERIFY(again >= 0);
        QVERIFY(roundTrip(again) >= 0);
        ::close(again);
        QCOMPARE(rawHttp(m_apiPort, "DELETE", "/proxies/gate").status, 204);
    }

    // Every change made through the API is an event in the engine's event log (the window's,
    // and the admin API's /streamgate/v1/events), naming what changed.
    void changesReachTheEventLog()
    {
        TestServer echo(TestServer::Echo);
        const QByteArray upstream = "127.0.0.1:" + QByteArray::number(echo.port());
        const qint64 since = m_sg.get(QStringLiteral("/streamgate/v1/events?since=0&max=10000"))
                                 .json.value(QStringLiteral("last_seq"))
                                 .toInteger();
        const int p = m_apiPort;
        QCOMPARE(rawHttp(p, "POST", "/proxies",
                         "{\"name\":\"ev\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"" + upstream +
                             "\"}")
                     .status,
                 201);
        QCOMPARE(rawHttp(p, "POST", "/proxies/ev/toxics",
                         R"({"name":"slow","type":"latency","attributes":{"latency":40},
                             "clients":["127.0.0.2/32"]})")
                     .status,
                 200);
        QCOMPARE(rawHttp(p, "PATCH", "/proxies/ev/toxics/slow", R"({"enabled":false})").status,
                 200);
        QCOMPARE(rawHttp(p, "DELETE", "/proxies/ev/toxics/slow").status, 204);
        QCOMPARE(rawHttp(p, "POST", "/proxies/ev", R"({"upstream":"127.0.0.1:9"})").status, 200);
        QCOMPARE(rawHttp(p, "POST", "/populate",
                         "[{\"name\":\"ev2\",\"upstream\":\"" + upstream + "\"}]")
                     .status,
                 201);
        QCOMPARE(rawHttp(p, "POST", "/proxies/ev2/toxics", R"({"type":"timeout"})").status, 200);
        QCOMPARE(rawHttp(p, "POST", "/reset").status, 204);
        QCOMPARE(rawHttp(p, "DELETE", "/proxies/ev").status, 204);
        QCOMPARE(rawHttp(p, "DELETE", "/proxies/ev2").status, 204);

        const HttpAnswer events =
            m_sg.get(QStringLiteral("/streamgate/v1/events?since=%1&max=10000").arg(since));
        QCOMPARE(events.status, 200);
        QStringList texts;
        QStringList routes;
        for (const QJsonValue& e : events.json.value(QStringLiteral("list")).toArray()) {
            const QJsonObject o = e.toObject();
            if (o.value(QStringLiteral("kind")).toString() == u"info" &&
                o.value(QStringLiteral("text")).toString().startsWith(u"Toxiproxy API: ")) {
                texts << o.value(QStringLiteral("text")).toString().mid(15);
                routes << o.value(QStringLiteral("route_id")).toString();
            }
        }
        const QStringList expected{
            "proxy ev (listen 127.0.0.1:", // the port it was given
            "toxic slow (latency downstream, toxicity 1, latency 40, jitter 0, clients "
            "127.0.0.2/32) added to ev",
            "toxic slow (latency downstream, toxicity 1, latency 40, jitter 0, clients "
            "127.0.0.2/32, switched off) of ev updated",
            "toxic slow of ev removed",
            "proxy ev (listen 127.0.0.1:",
            "1 proxies populated: created ev2 (listen 127.0.0.1:",
            "toxic timeout_downstream (timeout downstream, toxicity 1, timeout 0) added to ev2",
            "reset: 1 toxics removed",
            "proxy ev deleted",
            "proxy ev2 deleted",
        };
        QCOMPARE(texts.size(), expected.size());
        for (qsizetype i = 0; i < expected.size(); ++i)
            QVERIFY2(texts[i].startsWith(expected[i]), qPrintable(texts[i]));
        QVERIFY2(texts[0].endsWith(", upstream " + QString::fromUtf8(upstream) + ") created"),
                 qPrintable(texts[0]));
        QVERIFY2(texts[4].endsWith(", upstream 127.0.0.1:9) updated"), qPrintable(texts[4]));
        QCOMPARE(routes, (QStringList{"ev", "ev", "ev", "ev", "ev", "", "ev2", "", "ev", "ev2"}));
    }

    // Streamgate's own toxic fields through the API: a toxic scoped to one client address hits
    // that client's connection only, as the admin API's stats say.
    void clientScopedToxicThroughTheApi()
    {
        TestServer echo(TestServer::Echo);
        const Raw made = rawHttp(m_apiPort, "POST", "/proxies",
                                 "{\"name\":\"scoped\",\"listen\":\"127.0.0.1:0\",\"upstream\":"
                                 "\"127.0.0.1:" +
                                     QByteArray::number(echo.port()) + "\"}");
        QCOMPARE(made.status, 201);
        const int port =
            made.json().value(QStringLiteral("listen")).toString().section(u':', -1).toInt();
        const Raw added = rawHttp(m_apiPort, "POST", "/proxies/scoped/toxics",
                                  R"({"name":"slow","type":"latency","attributes":{"latency":200},
                                      "clients":["127.0.0.2"]})");
        QCOMPARE(added.status, 200);
        QCOMPARE(added.json().value(QStringLiteral("clients")).toArray(),
                 QJsonArray{QStringLiteral("127.0.0.2")});
        QVERIFY(!added.json().contains(QStringLiteral("enabled")));
        const Raw bad = rawHttp(m_apiPort, "POST", "/proxies/scoped/toxics",
                                R"({"name":"x","type":"latency","clients":["127.0.0.300"]})");
        QCOMPARE(bad.status, 400);
        QCOMPARE(bad.json().value(QStringLiteral("error")).toString(),
                 QStringLiteral("bad request body: clients[0]: invalid ip address or CIDR: "
                                "127.0.0.300"));

        const int hit = connectTo(QStringLiteral("127.0.0.1"), port, QStringLiteral("127.0.0.2"));
        const int missed =
            connectTo(QStringLiteral("127.0.0.1"), port, QStringLiteral("127.0.0.3"));
        QVERIFY(hit >= 0 && missed >= 0);
        const qint64 slow = roundTrip(hit);
        QVERIFY2(slow >= 195 && slow < 700, qPrintable(QString::number(slow)));
        const qint64 fast = roundTrip(missed);
        QVERIFY2(fast >= 0 && fast < 100, qPrintable(QString::number(fast)));

        QJsonObject toxic;
        for (const QJsonValue& t : m_sg.get(QStringLiteral("/streamgate/v1/stats"))
                                       .json.value(QStringLiteral("toxics"))
                                       .toArray())
            if (t[QStringLiteral("route_id")].toString() == u"scoped")
                toxic = t.toObject();
        QCOMPARE(toxic.value(QStringLiteral("name")).toString(), QStringLiteral("slow"));
        QCOMPARE(toxic.value(QStringLiteral("hitting")).toArray().size(), 1);
        QCOMPARE(toxic.value(QStringLiteral("hit_total")).toInteger(), 1);
        ::close(hit);
        ::close(missed);
        QCOMPARE(rawHttp(m_apiPort, "DELETE", "/proxies/scoped").status, 204);
    }

    void portInUseLeavesTheRestRunning()
    {
        // A second process on the same config: its Toxiproxy port is taken by the first.
        QTemporaryDir dir;
        const QString config = dir.filePath(QStringLiteral("other.json"));
        QVERIFY(writeFile(
            config,
            QJsonDocument(
                QJsonObject{
                    {QStringLiteral("streamgate"),
                     QJsonObject{{QStringLiteral("toxiproxy"),
                                  QJsonObject{{QStringLiteral("listen"),
                                               QStringLiteral("127.0.0.1:%1").arg(m_apiPort)}}},
                                 {QStringLiteral("prometheus"),
                                  QJsonObject{{QStringLiteral("listen"),
                                               QStringLiteral("127.0.0.1:%1").arg(freePort())}}}}}})
                .toJson()));
        StreamgateProcess other;
        QVERIFY(other.start(config, true));
        QVERIFY(other.waitForAdmin());
        QVERIFY2(other.readOutput().contains("Toxiproxy API"), other.output.constData());
        other.stop();
    }

    void cleanupTestCase() { m_sg.stop(); }
};

QTEST_MAIN(TestToxiproxy)
#include "tst_toxiproxy.moc"
