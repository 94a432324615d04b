// Admin API under hostile input, over real HTTP on loopback against a store backed by a real
// file: oversized bodies, content types, deep nesting, bad ids, path traversal, bodies on GET,
// empty and truncated bodies, out-of-range numbers, duplicate keys, and PATCH on a stream route
// (which APISIX does not have) whatever the body and path. Every refusal is a 4xx with an
// APISIX-style {"error_msg": ...}; after each one the config file's bytes are unchanged and the
// server still answers a normal GET. The PATCH cases address an upstream, which has PATCH.
//
// Requests are written by hand on a QTcpSocket so that the exact bytes reach the server: no
// client-side normalisation of "..", of percent-encoding or of the Content-Type.
#include "api/adminbody.h"
#include "api/adminserver.h"
#include "config/configstore.h"
#include "testfiles.h"

#include <QFile>
#include <QHostAddress>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <algorithm>
#include <memory>

using namespace sg;
using namespace sgtest;

namespace {

const QByteArray kKey = "edd1c9f034335f136f87ad84b625c8f1";
const QByteArray kRoute = "/apisix/admin/stream_routes/r1";
const QByteArray kUpstream = "/apisix/admin/upstreams/u1";
// A valid route body, used whole or cut short.
const QByteArray kRouteBody =
    R"({"server_port": 9100, "remote_addr": "127.0.0.2", "upstream": {"nodes": {"127.0.0.1:1": 1}}})";
// The fragment of APISIX's id rule every id refusal names.
const QString kIdRule = QStringLiteral("^[a-zA-Z0-9-_.]+$");
// APISIX's answer to PATCH on a stream route (its resource's unsupported_methods).
const QString kNoPatch = QStringLiteral("not supported `PATCH` method for stream route");

const char* const kConfig = R"({
  "stream_proxy": {"tcp": [9100]},
  "upstreams": [{"id": "u1", "nodes": {"127.0.0.1:1": 1}}],
  "stream_routes": [{"id": "r1", "server_port": 9100, "upstream_id": "u1"}]
})";

struct RawAnswer
{
    int status = 0;                               // 0: no complete answer
    QList<QPair<QByteArray, QByteArray>> headers; // names in lower case
    QByteArray body;
    QJsonObject json;
    QString errorMsg() const { return json.value(QStringLiteral("error_msg")).toString(); }
    // The header's value; null when the answer has no such header.
    QByteArray header(const QByteArray& name) const
    {
        for (const auto& [key, value] : headers)
            if (key == name)
                return value.isNull() ? QByteArray("") : value;
        return {};
    }
};

// Complete when the headers and Content-Length bytes of body are in.
bool parseAnswer(const QByteArray& data, RawAnswer* out)
{
    const qsizetype end = data.indexOf("\r\n\r\n");
    if (end < 0)
        return false;
    const QList<QByteArray> lines = data.left(end).split('\n');
    qsizetype length = -1;
    out->headers.clear();
    for (const QByteArray& line : lines.mid(1)) {
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0)
            continue;
        const QByteArray name = line.left(colon).trimmed().toLower();
        out->headers.append({name, line.mid(colon + 1).trimmed()});
        if (name == "content-length")
            length = line.mid(colon + 1).trimmed().toLongLong();
    }
    if (length < 0 || data.size() - end - 4 < length)
        return false;
    const QList<QByteArray> statusLine = lines.first().split(' ');
    out->status = statusLine.size() > 1 ? statusLine.at(1).toInt() : 0;
    out->body = data.mid(end + 4, length);
    out->json = QJsonDocument::fromJson(out->body).object();
    return true;
}

// The body as Transfer-Encoding: chunked sends it, in chunks of `chunk` bytes and the last one.
QByteArray chunked(const QByteArray& body, qsizetype chunk)
{
    QByteArray out;
    for (qsizetype at = 0; at < body.size(); at += chunk) {
        const qsizetype size = std::min(chunk, body.size() - at);
        out += QByteArray::number(size, 16) + "\r\n" + body.mid(at, size) + "\r\n";
    }
    return out + "0\r\n\r\n";
}

// One request with exactly these bytes in its request line, Content-Type and body. The server
// runs in this thread, so the waits spin the event loop; each is bounded. chunk > 0: the body is
// sent chunked, in chunks of that size, instead of with a Content-Length.
RawAnswer rawRequest(quint16 port, const QByteArray& method, const QByteArray& target,
                     const QByteArray& body = {},
                     const QByteArray& contentType = "application/json", qsizetype chunk = 0)
{
    RawAnswer answer;
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!QTest::qWaitFor([&] { return socket.state() == QAbstractSocket::ConnectedState; }, 5000))
        return answer;
    QByteArray request =
        method + ' ' + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "X-API-KEY: " + kKey + "\r\n";
    if (!contentType.isEmpty())
        request += "Content-Type: " + contentType + "\r\n";
    if (chunk > 0)
        request += "Transfer-Encoding: chunked\r\n\r\n" + chunked(body, chunk);
    else
        request += "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body;
    socket.write(request);
    QByteArray data;
    const bool ended = QTest::qWaitFor(
        [&] {
            data += socket.readAll();
            return parseAnswer(data, &answer) ||
                   socket.state() == QAbstractSocket::UnconnectedState;
        },
        20000);
    return ended ? answer : RawAnswer{};
}

QByteArray nested(int depth, const QByteArray& open, const QByteArray& inner,
                  const QByteArray& close)
{
    return open.repeated(depth) + inner + close.repeated(depth);
}

} // namespace

class TestAdminHostile : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void oversizedBodies_data();
    void oversizedBodies();
    void bodyAtTheLimitIsRead();
    void contentTypeIsNotLookedAt();
    void deepNesting_data();
    void deepNesting();
    void badIdsInPath_data();
    void badIdsInPath();
    void badIdsInBody_data();
    void badIdsInBody();
    void subPathTraversal_data();
    void subPathTraversal();
    void bodiesOnGetAndDelete();
    void emptyAndTruncatedBodies_data();
    void emptyAndTruncatedBodies();
    void hugeNumbers_data();
    void hugeNumbers();
    void duplicateKeysLastWins();
    void patchOnStreamRoute_data();
    void patchOnStreamRoute();
    void postWithIdInPath_data();
    void postWithIdInPath();

private:
    RawAnswer send(const QByteArray& method, const QByteArray& target, const QByteArray& body = {},
                   const QByteArray& contentType = "application/json", qsizetype chunk = 0)
    {
        return rawRequest(m_server->port(), method, target, body, contentType, chunk);
    }
    // The refusal is a 4xx with this status and an error_msg containing `fragment`; the file is
    // byte for byte what it was and a normal GET still answers.
    void verifyRefused(const RawAnswer& a, int status, const QString& fragment);

    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_path;
    QByteArray m_fileBefore;
    std::unique_ptr<ConfigStore> m_store;
    std::unique_ptr<AdminServer> m_server;
};

void TestAdminHostile::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_path = m_dir->filePath("streamgate.json");
    QVERIFY(writeFile(m_path, kConfig));
    m_store = std::make_unique<ConfigStore>(m_path);
    const LoadResult loaded = m_store->load();
    QVERIFY2(loaded.ok(), qPrintable(formatProblems(loaded.problems)));
    m_server = std::make_unique<AdminServer>(m_store.get(), nullptr);
    QVERIFY2(m_server->start({QStringLiteral("127.0.0.1:0"), QString::fromLatin1(kKey)}),
             qPrintable(m_server->errorString()));
    m_fileBefore = readFile(m_path);
    QVERIFY(!m_fileBefore.isEmpty());
}

void TestAdminHostile::cleanup()
{
    m_server.reset();
    m_store.reset();
    m_dir.reset();
}

void TestAdminHostile::verifyRefused(const RawAnswer& a, int status, const QString& fragment)
{
    QVERIFY2(a.status == status, qPrintable(QStringLiteral("status %1, expected %2: %3")
                                                .arg(a.status)
                                                .arg(status)
                                                .arg(QString::fromUtf8(a.body.left(500)))));
    QVERIFY2(a.errorMsg().contains(fragment),
             qPrintable(QStringLiteral("error_msg \"%1\" does not contain \"%2\"")
                            .arg(a.errorMsg().left(500), fragment)));
    QCOMPARE(readFile(m_path), m_fileBefore);
    const RawAnswer get = send("GET", kRoute);
    QCOMPARE(get.status, 200);
    QCOMPARE(get.json.value("value").toObject().value("id").toString(), QString("r1"));
}

void TestAdminHostile::oversizedBodies_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<qsizetype>("size");
    QTest::addColumn<qsizetype>("chunk"); // > 0: sent chunked, in chunks of this size
    QTest::addColumn<qsizetype>("named"); // the size the refusal names
    const qsizetype limit = kAdminMaxBodyBytes;
    const auto withLength = [](const char* name, const QByteArray& method, const QByteArray& target,
                               qsizetype size) {
        QTest::newRow(name) << method << target << size << qsizetype(0) << size;
    };
    withLength("PUT 4 MiB", "PUT", kRoute, 4 << 20);
    withLength("PUT one byte over", "PUT", kRoute, limit + 1);
    withLength("POST 3 MiB", "POST", "/apisix/admin/upstreams", 3 << 20);
    withLength("PATCH one byte over", "PATCH", kUpstream, limit + 1);
    withLength("PATCH sub path 2 MiB", "PATCH", kUpstream + "/desc", 2 << 20);
    // The size is judged at the request head, before the method: a stream route's PATCH too.
    withLength("PATCH stream route 2 MiB", "PATCH", kRoute, 2 << 20);
    withLength("GET with 2 MiB", "GET", kRoute, 2 << 20);
    // A chunked body gets the same answer. APISIX reads it whole and names its size; Streamgate
    // stops where it passes the limit and names the size known then: what came before and the
    // chunk that passes the limit, the whole size when that chunk is the last.
    QTest::newRow("PUT 4 MiB chunked, one chunk")
        << QByteArray("PUT") << kRoute << qsizetype(4 << 20) << qsizetype(4 << 20)
        << qsizetype(4 << 20);
    QTest::newRow("PUT one byte over chunked, 64 KiB chunks")
        << QByteArray("PUT") << kRoute << limit + 1 << qsizetype(64 * 1024) << limit + 1;
    QTest::newRow("POST 3 MiB chunked, 64 KiB chunks")
        << QByteArray("POST") << QByteArray("/apisix/admin/upstreams") << qsizetype(3 << 20)
        << qsizetype(64 * 1024) << limit + 64 * 1024;
    QTest::newRow("GET with 2 MiB chunked, one chunk")
        << QByteArray("GET") << kRoute << qsizetype(2 << 20) << qsizetype(2 << 20)
        << qsizetype(2 << 20);
}

void TestAdminHostile::oversizedBodies()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, target);
    QFETCH(qsizetype, size);
    QFETCH(qsizetype, chunk);
    QFETCH(qsizetype, named);
    // Valid JSON but for its size: a route whose desc is padded out.
    QByteArray body = R"({"desc": ")";
    body += QByteArray(size - body.size() - 2, 'x') + "\"}";
    QCOMPARE(body.size(), size);
    // APISIX's get_body refuses it as an invalid request body, a 400.
    verifyRefused(
        send(method, target, body, "application/json", chunk), 400,
        QStringLiteral("invalid request body: request size %1 is greater than the maximum "
                       "size %2 allowed")
            .arg(named)
            .arg(kAdminMaxBodyBytes));
}

void TestAdminHostile::bodyAtTheLimitIsRead()
{
    // Exactly at the limit is allowed: the body is read and judged on its content (here a valid
    // route padded with whitespace).
    QByteArray body = kRouteBody;
    body += QByteArray(kAdminMaxBodyBytes - body.size(), ' ');
    const RawAnswer a = send("PUT", "/apisix/admin/stream_routes/big", body);
    QVERIFY2(a.status == 201, a.body.constData());
    QVERIFY(m_store->config().findRoute("big"));
}

void TestAdminHostile::contentTypeIsNotLookedAt()
{
    // APISIX's admin API decodes every body as JSON whatever its Content-Type (apisix/admin/
    // init.lua reads the body and json-decodes it), so curl's default form type works there.
    // Streamgate does the same: a JSON body is accepted under any type, a non-JSON body is
    // refused as JSON would be.
    RawAnswer a = send("PUT", "/apisix/admin/stream_routes/plain", kRouteBody, "text/plain");
    QVERIFY2(a.status == 201, a.body.constData());
    a = send("PUT", "/apisix/admin/stream_routes/form", kRouteBody,
             "application/x-www-form-urlencoded");
    QVERIFY2(a.status == 201, a.body.constData());
    a = send("PUT", "/apisix/admin/stream_routes/none", kRouteBody, {});
    QVERIFY2(a.status == 201, a.body.constData());
    QVERIFY(m_store->config().findRoute("plain") && m_store->config().findRoute("form") &&
            m_store->config().findRoute("none"));

    m_fileBefore = readFile(m_path);
    verifyRefused(send("PUT", "/apisix/admin/stream_routes/f2", "server_port=9100&upstream_id=u1",
                       "application/x-www-form-urlencoded"),
                  400, "invalid request body");
    verifyRefused(
        send("PUT", "/apisix/admin/stream_routes/f3", "<route port=\"9100\"/>", "application/xml"),
        400, "invalid request body");
}

void TestAdminHostile::deepNesting_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("message");
    // Read as APISIX's cjson reads it, a body stops at cjson's nesting limit (1000) with its
    // words, before any of the model's code sees the value.
    const QString tooDeep = QStringLiteral("Found too many nested data structures (1001)");
    QTest::newRow("arrays 10000 deep")
        << QByteArray("PUT") << kRoute << nested(10000, "[", "1", "]") << tooDeep;
    QTest::newRow("objects 10000 deep")
        << QByteArray("PUT") << kRoute << nested(10000, R"({"a":)", "1", "}") << tooDeep;
    QTest::newRow("PATCH merge 10000 deep")
        << QByteArray("PATCH") << kUpstream << nested(10000, R"({"labels":)", "{}", "}") << tooDeep;
    QTest::newRow("PATCH sub path 10000 deep")
        << QByteArray("PATCH") << kUpstream + "/desc" << nested(10000, "[", "", "]") << tooDeep;
    QTest::newRow("unclosed 10000 deep")
        << QByteArray("PUT") << kRoute << QByteArray(10000, '[') << tooDeep;
    // Under that limit the value reaches the model and the merge; both stay bounded by the
    // shape of an upstream (a closed schema), so the answer is a plain validation refusal.
    QTest::newRow("PATCH merge 990 deep into nodes")
        << QByteArray("PATCH") << kUpstream
        << R"({"nodes": )" + nested(990, R"({"x":)", "1", "}") + "}"
        << "invalid configuration: property \"nodes\" validation failed: object matches none of "
           "the required";
    QTest::newRow("PATCH merge 990 deep into labels")
        << QByteArray("PATCH") << kUpstream
        << R"({"labels": )" + nested(990, R"({"team":)", "1", "}") + "}"
        << "invalid configuration: property \"labels\" validation failed: failed to validate "
           "team (matching \".*\"): wrong type: expected string, got table";
    QTest::newRow("PUT 990 deep in plugins")
        << QByteArray("PUT") << kRoute
        << R"({"server_port": 9100, "upstream_id": "u1", "plugins": {"limit-conn": )" +
               nested(990, "[", "1", "]") + "}}"
        << "failed to check the configuration of stream plugin [limit-conn]: wrong type: "
           "expected object, got table";
}

void TestAdminHostile::deepNesting()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, target);
    QFETCH(QByteArray, body);
    QFETCH(QString, message);
    verifyRefused(send(method, target, body), 400, message);
}

void TestAdminHostile::badIdsInPath_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("target"); // as sent on the request line
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("message");
    const QByteArray routes = "/apisix/admin/stream_routes/";
    const QByteArray upstreams = "/apisix/admin/upstreams/";
    const QList<QPair<const char*, QByteArray>> ids = {
        {"10000 characters", QByteArray(10000, 'a')},
        {"65 characters", QByteArray(65, '7')},
        {"dot dot", ".."},
        {"dot", "."},
        {"encoded dot dot", "%2E%2E"},
        {"encoded slash", "a%2Fb"},
        {"encoded slash traversal", "..%2F..%2Fupstreams%2Fu1"},
        {"encoded NUL", "r1%00"},
        {"unicode", "r%C3%A9sum%C3%A9"},
        {"raw UTF-8", "\xe8\xb7\xaf\xe7\x94\xb1"},
        {"encoded space", "my%20route"},
        {"plus", "a+b"},
        {"semicolon", "r1;x"},
    };
    // PATCH on a stream route is refused before its id is looked at (APISIX's
    // unsupported_methods), and so is any id on a POST (APISIX's check_conf, need_id false).
    for (const auto& [name, id] : ids) {
        for (const char* method : {"GET", "PUT", "DELETE"}) {
            QTest::addRow("%s %s route", method, name)
                << QByteArray(method) << routes + id << 400 << kIdRule;
            QTest::addRow("%s %s upstream", method, name)
                << QByteArray(method) << upstreams + id << 400 << kIdRule;
        }
        QTest::addRow("PATCH %s upstream", name)
            << QByteArray("PATCH") << upstreams + id << 400 << kIdRule;
        QTest::addRow("PATCH %s route", name)
            << QByteArray("PATCH") << routes + id << 405 << kNoPatch;
        QTest::addRow("POST %s route", name)
            << QByteArray("POST") << routes + id << 400
            << QStringLiteral("wrong stream route id, do not need it");
        QTest::addRow("POST %s upstream", name)
            << QByteArray("POST") << upstreams + id << 400
            << QStringLiteral("wrong upstream id, do not need it");
    }
    // An id with a sub path behind it is checked before the sub path and the method.
    QTest::newRow("PATCH encoded slash with sub path")
        << QByteArray("PATCH") << upstreams + "a%2Fb/nodes" << 400 << kIdRule;
    QTest::newRow("GET long id with sub path")
        << QByteArray("GET") << routes + QByteArray(10000, 'b') + "/remote_addr" << 400 << kIdRule;
    QTest::newRow("PATCH route encoded slash with sub path")
        << QByteArray("PATCH") << routes + "a%2Fb/remote_addr" << 405 << kNoPatch;
}

void TestAdminHostile::badIdsInPath()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, target);
    QFETCH(int, status);
    QFETCH(QString, message);
    const QByteArray body = method == "PATCH" ? QByteArray(R"({"desc": "x"})") : kRouteBody;
    const RawAnswer a = send(method, target, method == "GET" || method == "DELETE" ? "" : body);
    verifyRefused(a, status, message);
    QVERIFY2(a.errorMsg().size() < 400, qPrintable(a.errorMsg())); // a long id is not echoed
}

void TestAdminHostile::badIdsInBody_data()
{
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("message");
    QTest::newRow("PUT collection dot dot")
        << QByteArray("/apisix/admin/upstreams")
        << QByteArray(R"({"id": "..", "nodes": {"127.0.0.1:1": 1}})") << kIdRule;
    QTest::newRow("PUT collection slash")
        << QByteArray("/apisix/admin/upstreams")
        << QByteArray(R"({"id": "../upstreams/u1", "nodes": {"127.0.0.1:1": 1}})") << kIdRule;
    QTest::newRow("PUT collection 10000 characters")
        << QByteArray("/apisix/admin/stream_routes")
        << R"({"id": ")" + QByteArray(10000, 'c') +
               R"(", "server_port": 9100, "upstream_id": "u1"})"
        << kIdRule;
    QTest::newRow("PUT collection NUL")
        << QByteArray("/apisix/admin/stream_routes")
        << QByteArray(R"({"id": "r\u0000", "server_port": 9100, "upstream_id": "u1"})") << kIdRule;
    QTest::newRow("PUT collection id 1e400")
        << QByteArray("/apisix/admin/stream_routes")
        << QByteArray(R"({"id": 1e400, "server_port": 9100, "upstream_id": "u1"})")
        << "illegal number at character 12";
    QTest::newRow("PUT collection id 1e30")
        << QByteArray("/apisix/admin/stream_routes")
        << QByteArray(R"({"id": 1e30, "server_port": 9100, "upstream_id": "u1"})")
        << "id: must be a string of 1-64 characters";
    QTest::newRow("body id 1e30 against path id")
        << kRoute << QByteArray(R"({"id": 1e30, "server_port": 9100, "upstream_id": "u1"})")
        << "wrong stream route id";
    QTest::newRow("PATCH id to 1e30")
        << kUpstream << QByteArray(R"({"id": -1e30})") << "wrong upstream id";
}

void TestAdminHostile::badIdsInBody()
{
    QFETCH(QByteArray, target);
    QFETCH(QByteArray, body);
    QFETCH(QString, message);
    const QByteArray method = QTest::currentDataTag() == QLatin1String("PATCH id to 1e30")
                                  ? QByteArray("PATCH")
                                  : QByteArray("PUT");
    verifyRefused(send(method, target, body), 400, message);
}

void TestAdminHostile::subPathTraversal_data()
{
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<QString>("message");
    const QString dots = QStringLiteral("\"..\" segments are not allowed");
    QTest::newRow("dot dot to another kind") << kUpstream + "/../../stream_routes/r1" << dots;
    QTest::newRow("encoded dot dot") << kUpstream + "/%2E%2E/%2E%2E/stream_routes/r1" << dots;
    QTest::newRow("encoded slashes") << kUpstream + "/..%2F..%2Fstream_routes%2Fr1" << dots;
    QTest::newRow("dot") << kUpstream + "/./desc" << dots;
    QTest::newRow("empty segment") << kUpstream + "//desc" << dots;
    QTest::newRow("trailing slash") << kUpstream + "/desc/" << dots;
    QTest::newRow("too deep") << kUpstream + QByteArray("/a").repeated(9) << "at most 8 levels";
    QTest::newRow("10000 levels") << kUpstream + QByteArray("/a").repeated(10000)
                                  << "at most 8 levels";
    QTest::newRow("into a scalar") << kUpstream + "/nodes/127.0.0.1:1/x"
                                   << "invalid sub-path: /nodes/127.0.0.1:1";
    QTest::newRow("unknown field") << kUpstream + "/colour"
                                   << "colour";
}

void TestAdminHostile::subPathTraversal()
{
    QFETCH(QByteArray, target);
    QFETCH(QString, message);
    verifyRefused(send("PATCH", target, R"("127.0.0.3")"), 400, message);
    // Neither the upstream nor the route the traversal aimed at changed.
    QCOMPARE(m_store->config().findUpstream("u1")->nodes.size(), 1);
    QCOMPARE(m_store->config().findRoute("r1")->remoteAddr, QString());
}

void TestAdminHostile::bodiesOnGetAndDelete()
{
    // APISIX decodes the body of every admin request: a JSON body on GET is ignored, a
    // malformed one is refused. The same for DELETE, which then deletes nothing.
    RawAnswer a = send("GET", kRoute, R"({"id": "other"})");
    QCOMPARE(a.status, 200);
    QCOMPARE(a.json.value("value").toObject().value("id").toString(), QString("r1"));
    a = send("GET", "/apisix/admin/stream_routes", R"({"total": 0})");
    QCOMPARE(a.status, 200);
    QCOMPARE(a.json.value("total").toInt(), 1);

    verifyRefused(send("GET", kRoute, "{not json"), 400, "invalid request body");
    verifyRefused(
        send("GET", "/apisix/admin/upstreams", "\x01\x02\x03", "application/octet-stream"), 400,
        "invalid request body");
    verifyRefused(send("DELETE", kRoute, "{\"id\":"), 400, "invalid request body");
    verifyRefused(send("DELETE", "/apisix/admin/upstreams/u1", nested(5000, "[", "", "]")), 400,
                  "Found too many nested data structures");
    QVERIFY(m_store->config().findRoute("r1"));

    // A JSON body on DELETE does not stop the delete (APISIX ignores it too).
    a = send("DELETE", kRoute, R"({"keep": true})");
    QCOMPARE(a.status, 200);
    QVERIFY(!m_store->config().findRoute("r1"));
}

void TestAdminHostile::emptyAndTruncatedBodies_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("message");
    QTest::newRow("PUT empty") << QByteArray("PUT") << kRoute << QByteArray()
                               << "missing configurations";
    QTest::newRow("PUT whitespace")
        << QByteArray("PUT") << kRoute << QByteArray(" \r\n\t ") << "missing configurations";
    QTest::newRow("POST empty") << QByteArray("POST") << QByteArray("/apisix/admin/upstreams")
                                << QByteArray() << "missing configurations";
    QTest::newRow("PATCH empty") << QByteArray("PATCH") << kUpstream << QByteArray()
                                 << "missing new configuration";
    QTest::newRow("PATCH sub path empty") << QByteArray("PATCH") << kUpstream + "/desc"
                                          << QByteArray() << "missing new configuration";
    // Every proper prefix of a valid body that is not itself JSON.
    for (const qsizetype cut : {1, 2, 10, 30, 50, int(kRouteBody.size()) - 1})
        QTest::addRow("PUT truncated at %d", int(cut))
            << QByteArray("PUT") << kRoute << kRouteBody.left(cut) << "invalid request body";
    QTest::newRow("PATCH truncated") << QByteArray("PATCH") << kUpstream
                                     << QByteArray(R"({"desc": "127.0)") << "invalid request body";
    QTest::newRow("two documents")
        << QByteArray("PUT") << kRoute << kRouteBody + kRouteBody << "invalid request body";
    QTest::newRow("two values") << QByteArray("PATCH") << kUpstream + "/desc"
                                << QByteArray(R"("127.0.0.3", "127.0.0.4")")
                                << "invalid request body";
    QTest::newRow("closing bracket smuggled")
        << QByteArray("PATCH") << kUpstream + "/desc" << QByteArray(R"("127.0.0.3"], ["x")")
        << "invalid request body";
    QTest::newRow("invalid UTF-8")
        << QByteArray("PUT") << kRoute << QByteArray("{\"desc\": \"\xff\xfe\"}")
        << "invalid request body";
}

void TestAdminHostile::emptyAndTruncatedBodies()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, target);
    QFETCH(QByteArray, body);
    QFETCH(QString, message);
    verifyRefused(send(method, target, body), 400, message);
}

void TestAdminHostile::hugeNumbers_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("message");
    // A number beyond double's range (1e400) is refused by QJsonDocument itself as an illegal
    // number, with its position; APISIX's cjson reads it as infinity and its schema then names
    // the field. Both are a 400 before anything is stored; numbers that do parse but are out of
    // range, fractional or beyond 2^53 reach the model: those out of APISIX's range are refused
    // in its words, those only beyond what Streamgate keeps exactly in Streamgate's.
    const QString illegal = QStringLiteral("illegal number at character");
    const QByteArray u2 = "/apisix/admin/upstreams/u2";
    QTest::newRow("server_port 1e400")
        << QByteArray("PUT") << kRoute
        << QByteArray(R"({"server_port": 1e400, "upstream_id": "u1"})") << illegal;
    QTest::newRow("server_port -1e400")
        << QByteArray("PUT") << kRoute
        << QByteArray(R"({"server_port": -1e400, "upstream_id": "u1"})") << illegal;
    QTest::newRow("weight 1e400") << QByteArray("PUT") << u2
                                  << QByteArray(R"({"nodes": {"127.0.0.1:1": 1e400}})") << illegal;
    QTest::newRow("node port 1e400")
        << QByteArray("PUT") << u2
        << QByteArray(R"({"nodes": [{"host": "127.0.0.1", "port": 1e400, "weight": 1}]})")
        << illegal;
    QTest::newRow("PATCH sub path retries 1e400")
        << QByteArray("PATCH") << kUpstream + "/retries" << QByteArray("1e400") << illegal;
    QTest::newRow("server_port 1e19") << QByteArray("PUT") << kRoute
                                      << QByteArray(R"({"server_port": 1e19, "upstream_id": "u1"})")
                                      << "property \"server_port\" validation failed: expected "
                                         "1e+19 to be at most 65535";
    QTest::newRow("server_port -1e300")
        << QByteArray("PUT") << kRoute
        << QByteArray(R"({"server_port": -1e300, "upstream_id": "u1"})")
        << "property \"server_port\" validation failed: expected -1e+300 to be at least 1";
    QTest::newRow("server_port 9100.5")
        << QByteArray("PUT") << kRoute
        << QByteArray(R"({"server_port": 9100.5, "upstream_id": "u1"})")
        << "property \"server_port\" validation failed: wrong type: expected integer, got number";
    QTest::newRow("weight 1e300") << QByteArray("PUT") << u2
                                  << QByteArray(R"({"nodes": {"127.0.0.1:1": 1e300}})")
                                  << R"(nodes["127.0.0.1:1"])";
    QTest::newRow("weight in node list 1e300")
        << QByteArray("PUT") << u2
        << QByteArray(R"({"nodes": [{"host": "127.0.0.1", "port": 1, "weight": 1e300}]})")
        << "nodes[0].weight";
    QTest::newRow("node port 1e300")
        << QByteArray("PUT") << u2
        << QByteArray(R"({"nodes": [{"host": "127.0.0.1", "port": 1e300, "weight": 1}]})")
        << "property \"nodes\" validation failed: object matches none of the required";
    QTest::newRow("retries 1e30") << QByteArray("PUT") << u2
                                  << QByteArray(R"({"nodes": {"127.0.0.1:1": 1}, "retries": 1e30})")
                                  << "retries: must be";
    QTest::newRow("PATCH retries 1e300")
        << QByteArray("PATCH") << kUpstream << QByteArray(R"({"retries": 1e300})")
        << "retries: must be";
    QTest::newRow("PATCH sub path weight -1e300")
        << QByteArray("PATCH") << QByteArray("/apisix/admin/upstreams/u1/nodes")
        << QByteArray(R"({"127.0.0.1:1": -1e300})")
        << "property \"nodes\" validation failed: object matches none of the required";
}

void TestAdminHostile::hugeNumbers()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, target);
    QFETCH(QByteArray, body);
    QFETCH(QString, message);
    verifyRefused(send(method, target, body), 400, message);
}

void TestAdminHostile::duplicateKeysLastWins()
{
    // QJsonDocument keeps the last of duplicate keys, as APISIX's cjson does (a Lua table
    // assignment per key), so the same body means the same route in both.
    RawAnswer a = send("PUT", "/apisix/admin/stream_routes/dup",
                       R"({"server_port": 1, "remote_addr": "10.0.0.1", "server_port": 9100,
                           "upstream_id": "u1", "remote_addr": "127.0.0.9"})");
    QVERIFY2(a.status == 201, a.body.constData());
    const StreamRoute* route = m_store->config().findRoute("dup");
    QVERIFY(route);
    QCOMPARE(route->serverPort.value_or(0), 9100);
    QCOMPARE(route->remoteAddr, QString("127.0.0.9"));

    // The last value decides a refusal as well.
    m_fileBefore = readFile(m_path);
    verifyRefused(send("PUT", "/apisix/admin/stream_routes/dup",
                       R"({"server_port": 9100, "upstream_id": "u1", "server_port": 70000})"),
                  400, "server_port");
    verifyRefused(send("PATCH", kUpstream, R"({"id": "u1", "id": "u2"})"), 400,
                  "wrong upstream id");
}

void TestAdminHostile::patchOnStreamRoute_data()
{
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("message");
    QTest::addColumn<QByteArray>("allow"); // on a 405
    const QByteArray routes = "/apisix/admin/stream_routes";
    const QByteArray atId = "GET, PUT, DELETE";
    // APISIX's stream route resource refuses PATCH first thing: neither the id, nor the sub
    // path, nor what the body says is looked at.
    QTest::newRow("valid merge") << kRoute << QByteArray(R"({"remote_addr": "127.0.0.3"})") << 405
                                 << kNoPatch << atId;
    QTest::newRow("no such route")
        << routes + "/nope" << QByteArray(R"({"desc": "x"})") << 405 << kNoPatch << atId;
    QTest::newRow("the collection") << routes << QByteArray(R"({"desc": "x"})") << 405 << kNoPatch
                                    << QByteArray("GET, PUT, POST");
    QTest::newRow("empty body") << kRoute << QByteArray() << 405 << kNoPatch << atId;
    QTest::newRow("id 10000 characters")
        << routes + "/" + QByteArray(10000, 'a') << QByteArray(R"({"desc": "x"})") << 405
        << kNoPatch << atId;
    QTest::newRow("id dot dot") << routes + "/.." << QByteArray(R"({"desc": "x"})") << 405
                                << kNoPatch << atId;
    QTest::newRow("body id disagrees")
        << kRoute << QByteArray(R"({"id": "other"})") << 405 << kNoPatch << atId;
    QTest::newRow("body id 1e30") << kRoute << QByteArray(R"({"id": -1e30})") << 405 << kNoPatch
                                  << atId;
    QTest::newRow("create_time") << kRoute << QByteArray(R"({"create_time": 5})") << 405 << kNoPatch
                                 << atId;
    QTest::newRow("990 deep") << kRoute
                              << R"({"upstream": {"nodes": )" + nested(990, R"({"x":)", "1", "}") +
                                     "}}"
                              << 405 << kNoPatch << atId;
    QTest::newRow("duplicate keys")
        << kRoute << QByteArray(R"({"id": "r1", "id": "r2"})") << 405 << kNoPatch << atId;
    // Below a stream route's id APISIX reads the id and ignores the rest: the Allow header is
    // the id's.
    QTest::newRow("sub path") << kRoute + "/remote_addr" << QByteArray(R"("127.0.0.3")") << 405
                              << kNoPatch << atId;
    QTest::newRow("sub path dot dot to another kind")
        << kRoute + "/../../upstreams/u1" << QByteArray(R"({"nodes": {"127.0.0.9:9": 1}})") << 405
        << kNoPatch << atId;
    QTest::newRow("sub path 10000 levels")
        << kRoute + QByteArray("/a").repeated(10000) << QByteArray("1") << 405 << kNoPatch << atId;
    QTest::newRow("sub path with bad id")
        << routes + "/a%2Fb/remote_addr" << QByteArray(R"("127.0.0.3")") << 405 << kNoPatch << atId;
    // APISIX's init.lua decodes the body before the resource sees the method, so a body that
    // is not JSON is refused as such, PATCH or not.
    QTest::newRow("truncated body") << kRoute << QByteArray(R"({"remote_addr": "127.0)") << 400
                                    << QStringLiteral("invalid request body") << QByteArray();
    QTest::newRow("10000 deep") << kRoute << nested(10000, R"({"upstream":)", "{}", "}") << 400
                                << QStringLiteral("Found too many nested data structures")
                                << QByteArray();
    QTest::newRow("sub path, two values")
        << kRoute + "/remote_addr" << QByteArray(R"("127.0.0.3", "127.0.0.4")") << 400
        << QStringLiteral("invalid request body") << QByteArray();
}

void TestAdminHostile::patchOnStreamRoute()
{
    QFETCH(QByteArray, target);
    QFETCH(QByteArray, body);
    QFETCH(int, status);
    QFETCH(QString, message);
    QFETCH(QByteArray, allow);
    const RawAnswer a = send("PATCH", target, body);
    verifyRefused(a, status, message);
    if (status == 405) {
        QCOMPARE(a.json, QJsonObject({{"error_msg", kNoPatch}})); // the whole body
        QVERIFY2(!a.header("allow").isNull(), "a 405 without an Allow header");
        QCOMPARE(a.header("allow"), allow);
    }
    QCOMPARE(m_store->config().findRoute("r1")->remoteAddr, QString());
    QCOMPARE(m_store->config().findUpstream("u1")->nodes.size(), 1);
}

void TestAdminHostile::postWithIdInPath_data()
{
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("message"); // the whole error_msg
    const QString route = QStringLiteral("wrong stream route id, do not need it");
    const QString upstream = QStringLiteral("wrong upstream id, do not need it");
    const QByteArray upstreamBody = R"({"nodes": {"127.0.0.1:2": 1}})";
    QTest::newRow("route id") << kRoute << kRouteBody << route;
    QTest::newRow("new route id") << QByteArray("/apisix/admin/stream_routes/new") << kRouteBody
                                  << route;
    QTest::newRow("upstream id") << kUpstream << upstreamBody << upstream;
    QTest::newRow("route id in path and body")
        << kRoute << QByteArray(R"({"id": "r1", "server_port": 9100, "upstream_id": "u1"})")
        << route;
    QTest::newRow("route sub path") << kRoute + "/remote_addr" << kRouteBody << route;
    QTest::newRow("upstream sub path") << kUpstream + "/nodes" << upstreamBody << upstream;
    // Refused for being there, before its form is looked at.
    QTest::newRow("route id 10000 characters")
        << "/apisix/admin/stream_routes/" + QByteArray(10000, 'a') << kRouteBody << route;
    QTest::newRow("upstream id dot dot")
        << QByteArray("/apisix/admin/upstreams/..") << upstreamBody << upstream;
    QTest::newRow("upstream id encoded slash")
        << QByteArray("/apisix/admin/upstreams/a%2Fb") << upstreamBody << upstream;
    // And before the body's content: a scalar or an invalid object get the same answer.
    QTest::newRow("scalar body") << kRoute << QByteArray("5") << route;
    QTest::newRow("invalid route") << kRoute << QByteArray(R"({"server_port": 70000})") << route;
    // What APISIX checks first comes first: a body that is not JSON, then none at all.
    QTest::newRow("truncated body") << kRoute << kRouteBody.left(20)
                                    << QStringLiteral("invalid request body: Expected comma or "
                                                      "object end but found T_END at character 21");
    QTest::newRow("empty body") << kUpstream << QByteArray()
                                << QStringLiteral("missing configurations");
}

void TestAdminHostile::postWithIdInPath()
{
    QFETCH(QByteArray, target);
    QFETCH(QByteArray, body);
    QFETCH(QString, message);
    const RawAnswer a = send("POST", target, body);
    verifyRefused(a, 400, message);
    // The whole body: a body that is no JSON is repeated, as APISIX does.
    QJsonObject expected{{"error_msg", message}};
    if (message.startsWith(u"invalid request body"))
        expected.insert("req_body", QString::fromUtf8(body));
    QCOMPARE(a.json, expected);
    QCOMPARE(m_store->config().streamRoutes.size(), 1);
    QCOMPARE(m_store->config().upstreams.size(), 1);
}

QTEST_MAIN(TestAdminHostile)
#include "tst_adminhostile.moc"
