// The HTTP front of the admin API and the metrics endpoint against clients that do not play
// fair, over real sockets on loopback: bodies refused at header time while the process's memory
// stays flat, oversized heads, 100 Continue only for a request that may send its body, idle and
// slow connections closed, connection caps per peer and per endpoint, Host names that are not
// the endpoint's (DNS rebinding), ambiguous lengths, the key cookie on a cross-site request, and
// an accept() that fails for want of descriptors without the process spinning.
//
// Requests are written by hand on sockets, so the exact bytes reach the server.
#include "api/adminserver.h"
#include "api/httpfront.h"
#include "api/prometheus.h"
#include "config/configstore.h"
#include "loopback.h"
#include "procstat.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <memory>
#include <sys/resource.h>

using namespace sg;
using namespace sgtest;

namespace {

// Under AddressSanitizer (the asan preset adds UBSan) freed memory waits in a quarantine, so
// resident memory does not show what is live, and the runtime's checks need descriptors of
// their own: the two measurements that depend on these are left to the plain build.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

const QByteArray kKey = "5f2c1e7a9b3d4c6e8f0a1b2c3d4e5f60";
const char* const kConfig = R"({
  "stream_proxy": {"tcp": [9100]},
  "upstreams": [{"id": "u1", "nodes": {"127.0.0.1:1": 1}}],
  "stream_routes": [{"id": "r1", "server_port": 9100, "upstream_id": "u1"}]
})";
const QByteArray kRouteBody = R"({"server_port": 9100, "upstream_id": "u1"})";

struct Answer
{
    int status = 0; // 0: no answer
    QByteArray body;
    QString errorMsg() const
    {
        return QJsonDocument::fromJson(body).object().value("error_msg").toString();
    }
};

// Takes one complete answer off the front of `data` (a 1xx has no body).
bool takeAnswer(QByteArray& data, Answer* out)
{
    const qsizetype end = data.indexOf("\r\n\r\n");
    if (end < 0)
        return false;
    const QList<QByteArray> lines = data.left(end).split('\n');
    const int status = lines.first().split(' ').value(1).toInt();
    qsizetype length = status < 200 ? 0 : -1;
    for (const QByteArray& line : lines.mid(1))
        if (line.toLower().startsWith("content-length:"))
            length = line.mid(15).trimmed().toLongLong();
    if (length < 0 || data.size() - end - 4 < length)
        return false;
    out->status = status;
    out->body = data.mid(end + 4, length);
    data.remove(0, end + 4 + length);
    return true;
}

// A client on a QTcpSocket in the test's thread (where the servers run): every wait spins the
// event loop and is bounded.
class Client
{
public:
    bool connect(quint16 port, const QString& from = QStringLiteral("127.0.0.1"))
    {
        if (!m_socket.bind(QHostAddress(from)))
            return false;
        m_socket.connectToHost(QHostAddress::LocalHost, port);
        return QTest::qWaitFor([&] { return m_socket.state() == QAbstractSocket::ConnectedState; },
                               5000);
    }
    void send(const QByteArray& bytes) { m_socket.write(bytes); }
    void close() { m_socket.abort(); }
    // The next answer, or status 0 when none came (closed or timed out).
    Answer next(int timeoutMs = 5000)
    {
        Answer a;
        (void)QTest::qWaitFor(
            [&] {
                m_data += m_socket.readAll();
                return takeAnswer(m_data, &a) ||
                       m_socket.state() == QAbstractSocket::UnconnectedState;
            },
            timeoutMs);
        return a;
    }
    // Whether the server closed the connection within timeoutMs; *received: what came first.
    bool closedWithin(int timeoutMs, QByteArray* received = nullptr)
    {
        const bool closed = QTest::qWaitFor(
            [&] {
                m_data += m_socket.readAll();
                return m_socket.state() == QAbstractSocket::UnconnectedState;
            },
            timeoutMs);
        m_data += m_socket.readAll();
        if (received)
            *received = m_data;
        return closed;
    }
    QByteArray get(const QByteArray& path, const QByteArray& host = "127.0.0.1")
    {
        return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nX-API-KEY: " + kKey + "\r\n\r\n";
    }

private:
    QTcpSocket m_socket;
    QByteArray m_data;
};

} // namespace

class TestHttpFront : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void hugeBodyRefusedAtHeaderTime_data();
    void hugeBodyRefusedAtHeaderTime();
    void oversizedHead_data();
    void oversizedHead();
    void continueOnlyForAnAdmittedRequest_data();
    void continueOnlyForAnAdmittedRequest();
    void idleAndSlowConnectionsClosed();
    void connectionCapsPerPeerAndEndpoint();
    void hostMustNameTheEndpoint_data();
    void hostMustNameTheEndpoint();
    void ambiguousLengthsRefused_data();
    void ambiguousLengthsRefused();
    void chunkedBodiesBounded();
    void cookieKeyOnlyFromTheSameSite_data();
    void cookieKeyOnlyFromTheSameSite();
    void acceptBacksOffWhenOutOfDescriptors();

private:
    void start(const HttpFrontOptions& options = {});
    quint16 adminPort() const { return m_admin->port(); }

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<ConfigStore> m_store;
    std::unique_ptr<AdminServer> m_admin;
    std::unique_ptr<MetricsServer> m_metrics;
};

void TestHttpFront::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    const QString path = m_dir->filePath("streamgate.json");
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly) && f.write(kConfig) > 0);
    f.close();
    m_store = std::make_unique<ConfigStore>(path);
    QVERIFY(m_store->load().ok());
    start();
}

void TestHttpFront::start(const HttpFrontOptions& options)
{
    m_admin.reset();
    m_metrics.reset();
    m_admin = std::make_unique<AdminServer>(m_store.get(), nullptr);
    QVERIFY2(m_admin->start({QStringLiteral("127.0.0.1:0"), QString::fromLatin1(kKey)}, options),
             qPrintable(m_admin->errorString()));
    m_metrics = std::make_unique<MetricsServer>(m_store.get(), nullptr);
    QVERIFY2(m_metrics->start(QStringLiteral("127.0.0.1:0"), options),
             qPrintable(m_metrics->errorString()));
}

void TestHttpFront::cleanup()
{
    m_admin.reset();
    m_metrics.reset();
    m_store.reset();
    m_dir.reset();
}

void TestHttpFront::hugeBodyRefusedAtHeaderTime_data()
{
    QTest::addColumn<QByteArray>("keyField");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("message");
    QTest::newRow("with the key")
        << QByteArray("X-API-KEY: " + kKey + "\r\n") << 400
        << QStringLiteral("request size 209715200 is greater than the maximum size 1572864 "
                          "allowed");
    QTest::newRow("without a key")
        << QByteArray() << 401 << QStringLiteral("failed to check token");
}

void TestHttpFront::hugeBodyRefusedAtHeaderTime()
{
    // A client announces 200 MiB, then sends 48 MiB of it and never finishes: the answer
    // comes before the body, and the server's memory does not grow with what it is sent.
    QFETCH(QByteArray, keyField);
    QFETCH(int, status);
    QFETCH(QString, message);
    const int port = adminPort();
    std::atomic<bool> done{false};
    QByteArray answer;
    qint64 sent = 0;
    std::thread client([&] {
        const int fd = connectTo(QStringLiteral("127.0.0.1"), port);
        if (fd >= 0) {
            sendAll(fd, "PUT /apisix/admin/stream_routes/big HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                            keyField + "Content-Length: 209715200\r\n\r\n");
            readSome(fd, answer, -1, 5000); // before any body byte is sent; ends at the FIN
            const QByteArray chunk(1 << 20, 'x');
            for (int i = 0; i < 48 && sendAll(fd, chunk, 3000); ++i)
                sent += chunk.size();
            ::close(fd);
        }
        done = true;
    });
    const qint64 before = residentBytes();
    qint64 peak = before;
    const bool finished = QTest::qWaitFor(
        [&] {
            peak = std::max(peak, residentBytes());
            return done.load();
        },
        30000);
    client.join();
    QVERIFY(finished);
    QVERIFY2(answer.startsWith("HTTP/1.1 " + QByteArray::number(status)), answer.constData());
    QVERIFY2(answer.contains(message.toUtf8()), answer.constData());
    qInfo("sent %lld body bytes after the answer; resident memory grew by %lld KiB", sent,
          (peak - before) / 1024);
    if (!kSanitized)
        QVERIFY2(peak - before < 16 * 1024 * 1024,
                 qPrintable(QStringLiteral("memory grew by %1 MiB").arg((peak - before) >> 20)));
    Client next;
    QVERIFY(next.connect(adminPort()));
    next.send(next.get("/apisix/admin/stream_routes/r1"));
    QCOMPARE(next.next().status, 200);
}

void TestHttpFront::oversizedHead_data()
{
    QTest::addColumn<QByteArray>("bytes");
    const QByteArray start = "GET /apisix/admin/stream_routes HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    // Never finished: the answer must not wait for the end of the head.
    QTest::newRow("64 KiB header field, unfinished")
        << start + "X-Pad: " + QByteArray(64 * 1024, 'p');
    QTest::newRow("64 KiB request line, unfinished")
        << "GET /" + QByteArray(64 * 1024, 'a') + " HTTP/1.1\r\n";
    QByteArray fields = start;
    for (int i = 0; i < 150; ++i)
        fields += "X-Field-" + QByteArray::number(i) + ": v\r\n";
    QTest::newRow("150 header fields") << fields + "X-API-KEY: " + kKey + "\r\n\r\n";
}

void TestHttpFront::oversizedHead()
{
    QFETCH(QByteArray, bytes);
    Client c;
    QVERIFY(c.connect(adminPort()));
    c.send(bytes);
    const Answer a = c.next();
    QVERIFY2(a.status == 431, a.body.constData());
    QVERIFY2(a.errorMsg().contains("limit") || a.errorMsg().contains("header fields"),
             a.body.constData());
    QVERIFY(c.closedWithin(5000));
}

void TestHttpFront::continueOnlyForAnAdmittedRequest_data()
{
    QTest::addColumn<QByteArray>("keyField");
    QTest::addColumn<int>("length");
    QTest::addColumn<int>("first");
    QTest::newRow("no key") << QByteArray() << int(kRouteBody.size()) << 401;
    QTest::newRow("wrong key") << QByteArray("X-API-KEY: nope\r\n") << int(kRouteBody.size())
                               << 401;
    QTest::newRow("key, body over the limit")
        << QByteArray("X-API-KEY: " + kKey + "\r\n") << 2 * 1024 * 1024 << 400;
    QTest::newRow("key") << QByteArray("X-API-KEY: " + kKey + "\r\n") << int(kRouteBody.size())
                         << 100;
}

void TestHttpFront::continueOnlyForAnAdmittedRequest()
{
    QFETCH(QByteArray, keyField);
    QFETCH(int, length);
    QFETCH(int, first);
    Client c;
    QVERIFY(c.connect(adminPort()));
    c.send("PUT /apisix/admin/stream_routes/r2 HTTP/1.1\r\nHost: 127.0.0.1\r\n" + keyField +
           "Content-Length: " + QByteArray::number(length) + "\r\nExpect: 100-continue\r\n\r\n");
    const Answer a = c.next();
    QCOMPARE(a.status, first);
    if (first != 100) {
        QVERIFY(c.closedWithin(5000)); // the final answer, and nothing else
        QVERIFY(!m_store->config().findRoute("r2"));
        return;
    }
    c.send(kRouteBody);
    const Answer final = c.next();
    QVERIFY2(final.status == 201, final.body.constData());
    QVERIFY(m_store->config().findRoute("r2"));
}

void TestHttpFront::idleAndSlowConnectionsClosed()
{
    HttpFrontOptions options;
    options.idleTimeoutMs = 300;
    options.readTimeoutMs = 400;
    start(options);

    // Connected and silent: closed after the idle timeout.
    Client silent;
    QVERIFY(silent.connect(adminPort()));
    QElapsedTimer clock;
    clock.start();
    QVERIFY(silent.closedWithin(5000));
    QVERIFY2(clock.elapsed() >= 250, qPrintable(QString::number(clock.elapsed())));

    // A kept-alive connection after its answer: the same.
    Client kept;
    QVERIFY(kept.connect(m_metrics->port()));
    kept.send("GET /apisix/prometheus/metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    QCOMPARE(kept.next().status, 200);
    clock.restart();
    QVERIFY(kept.closedWithin(5000));
    QVERIFY2(clock.elapsed() >= 250, qPrintable(QString::number(clock.elapsed())));

    // A request that never completes: 408 after the read timeout, then closed.
    Client slow;
    QVERIFY(slow.connect(adminPort()));
    slow.send("GET /apisix/admin/stream_routes HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-");
    clock.restart();
    const Answer a = slow.next();
    QCOMPARE(a.status, 408);
    QVERIFY2(clock.elapsed() >= 350, qPrintable(QString::number(clock.elapsed())));
    QVERIFY(slow.closedWithin(5000));
}

void TestHttpFront::connectionCapsPerPeerAndEndpoint()
{
    HttpFrontOptions options;
    options.maxConnections = 4;
    options.maxPerPeer = 2;
    start(options);
    const auto served = [this](Client& c, const char* from) {
        return c.connect(adminPort(), QLatin1String(from)) &&
               (c.send(c.get("/apisix/admin/upstreams")), c.next().status == 200);
    };
    const auto refused = [this](Client& c, const char* from) {
        QByteArray received;
        return c.connect(adminPort(), QLatin1String(from)) && c.closedWithin(5000, &received) &&
               received.isEmpty();
    };
    Client a1, a2, a3, b1, b2, c1;
    QVERIFY(served(a1, "127.0.0.2"));
    QVERIFY(served(a2, "127.0.0.2"));
    QVERIFY2(refused(a3, "127.0.0.2"), "a third connection from one peer was kept");
    QVERIFY(served(b1, "127.0.0.3"));
    QVERIFY(served(b2, "127.0.0.3"));
    QVERIFY2(refused(c1, "127.0.0.4"), "a fifth connection to the endpoint was kept");
    // The metrics endpoint has its own share.
    Client m;
    QVERIFY(m.connect(m_metrics->port(), QStringLiteral("127.0.0.4")));
    m.send("GET /apisix/prometheus/metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    QCOMPARE(m.next().status, 200);
    // A connection that ends frees its place.
    a1.close();
    std::unique_ptr<Client> c2;
    QVERIFY(QTest::qWaitFor(
        [&] {
            c2 = std::make_unique<Client>();
            return served(*c2, "127.0.0.4");
        },
        5000));
}

void TestHttpFront::hostMustNameTheEndpoint_data()
{
    QTest::addColumn<bool>("metrics");
    QTest::addColumn<QByteArray>("host"); // "PORT" is replaced by the endpoint's port
    QTest::addColumn<int>("status");
    const QList<QPair<QByteArray, int>> hosts = {
        {"127.0.0.1", 200},
        {"127.0.0.1:PORT", 200},
        {"localhost", 200},
        {"LocalHost:PORT", 200},
        {"evil.example", 421},
        {"evil.example:PORT", 421},
        {"127.0.0.1.nip.io:PORT", 421},
        {"127.0.0.2:PORT", 421},
        {"[::1]:PORT", 421},
        {"::1", 421},
        {"127.0.0.1:x", 421},
        {"", 421},
    };
    for (const bool metrics : {false, true})
        for (const auto& [host, status] : hosts)
            QTest::addRow("%s %s", metrics ? "metrics" : "admin", host.constData())
                << metrics << host << status;
}

void TestHttpFront::hostMustNameTheEndpoint()
{
    QFETCH(bool, metrics);
    QFETCH(QByteArray, host);
    QFETCH(int, status);
    const quint16 port = metrics ? m_metrics->port() : adminPort();
    host.replace("PORT", QByteArray::number(port));
    Client c;
    QVERIFY(c.connect(port));
    c.send(c.get(metrics ? "/apisix/prometheus/metrics" : "/apisix/admin/stream_routes", host));
    const Answer a = c.next();
    QVERIFY2(a.status == status, a.body.constData());
    if (status == 421)
        QVERIFY2(a.body.contains("does not name this endpoint"), a.body.constData());
}

void TestHttpFront::ambiguousLengthsRefused_data()
{
    QTest::addColumn<QByteArray>("fields");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("message");
    QTest::newRow("two different lengths")
        << QByteArray("Content-Length: 5\r\nContent-Length: 40\r\n") << 400 << "Content-Length";
    QTest::newRow("the same length twice")
        << QByteArray("Content-Length: 40\r\nContent-Length: 40\r\n") << 400 << "Content-Length";
    QTest::newRow("a list") << QByteArray("Content-Length: 40, 40\r\n") << 400 << "Content-Length";
    QTest::newRow("signed") << QByteArray("Content-Length: +40\r\n") << 400 << "Content-Length";
    QTest::newRow("length and chunked")
        << QByteArray("Content-Length: 40\r\nTransfer-Encoding: chunked\r\n") << 400
        << "Content-Length together with Transfer-Encoding";
    QTest::newRow("unknown coding")
        << QByteArray("Transfer-Encoding: gzip, chunked\r\n") << 501 << "Transfer-Encoding";
}

void TestHttpFront::ambiguousLengthsRefused()
{
    QFETCH(QByteArray, fields);
    QFETCH(int, status);
    QFETCH(QString, message);
    Client c;
    QVERIFY(c.connect(adminPort()));
    c.send("PUT /apisix/admin/stream_routes/r3 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-KEY: " + kKey +
           "\r\n" + fields + "\r\n" + kRouteBody);
    const Answer a = c.next();
    QVERIFY2(a.status == status, a.body.constData());
    QVERIFY2(a.errorMsg().contains(message), a.body.constData());
    QVERIFY(c.closedWithin(5000));
    QVERIFY(!m_store->config().findRoute("r3"));
}

void TestHttpFront::chunkedBodiesBounded()
{
    // A chunked body is read like any other...
    Client c;
    QVERIFY(c.connect(adminPort()));
    QByteArray chunked;
    for (qsizetype at = 0; at < kRouteBody.size(); at += 7) {
        const QByteArray part = kRouteBody.mid(at, 7);
        chunked += QByteArray::number(part.size(), 16) + "\r\n" + part + "\r\n";
    }
    c.send("PUT /apisix/admin/stream_routes/r4 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-KEY: " + kKey +
           "\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked + "0\r\n\r\n");
    const Answer a = c.next();
    QVERIFY2(a.status == 201, a.body.constData());
    QVERIFY(m_store->config().findRoute("r4"));

    // ...and refused as soon as it passes the limit, not when it ends: by the admin API as one
    // whose Content-Length is over the limit, in APISIX's words, naming the size known then.
    Client big;
    QVERIFY(big.connect(adminPort()));
    big.send("PUT /apisix/admin/stream_routes/r5 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-KEY: " +
             kKey + "\r\nTransfer-Encoding: chunked\r\n\r\n");
    const QByteArray part(512 * 1024, ' ');
    for (int i = 0; i < 4; ++i)
        big.send(QByteArray::number(part.size(), 16) + "\r\n" + part + "\r\n");
    const Answer refused = big.next(); // no last chunk was sent
    QVERIFY2(refused.status == 400, refused.body.constData());
    QCOMPARE(refused.errorMsg(), QString("invalid request body: request size 2097152 is greater "
                                         "than the maximum size 1572864 allowed"));
    QVERIFY(!m_store->config().findRoute("r5"));
}

void TestHttpFront::cookieKeyOnlyFromTheSameSite_data()
{
    QTest::addColumn<QByteArray>("fields");
    QTest::addColumn<int>("status");
    const QByteArray cookie = "Cookie: theme=dark; x_api_key=" + kKey + "\r\n";
    QTest::newRow("cookie, no Origin") << cookie << 200;
    QTest::newRow("cookie, own Origin") << cookie + "Origin: http://127.0.0.1:PORT\r\n" << 200;
    QTest::newRow("cookie, localhost Origin") << cookie + "Origin: http://localhost:PORT\r\n"
                                              << 200;
    QTest::newRow("cookie, same-origin fetch") << cookie + "Sec-Fetch-Site: same-origin\r\n" << 200;
    QTest::newRow("cookie, foreign Origin") << cookie + "Origin: http://evil.example\r\n" << 401;
    QTest::newRow("cookie, null Origin") << cookie + "Origin: null\r\n" << 401;
    QTest::newRow("cookie, other port's Origin") << cookie + "Origin: http://127.0.0.2:8080\r\n"
                                                 << 401;
    QTest::newRow("cookie, cross-site fetch") << cookie + "Sec-Fetch-Site: cross-site\r\n" << 401;
    QTest::newRow("header key, foreign Origin")
        << "X-API-KEY: " + kKey + "\r\nOrigin: http://evil.example\r\n"
        << 200;
}

void TestHttpFront::cookieKeyOnlyFromTheSameSite()
{
    QFETCH(QByteArray, fields);
    QFETCH(int, status);
    fields.replace("PORT", QByteArray::number(adminPort()));
    Client c;
    QVERIFY(c.connect(adminPort()));
    c.send("GET /apisix/admin/stream_routes HTTP/1.1\r\nHost: 127.0.0.1\r\n" + fields + "\r\n");
    const Answer a = c.next();
    QVERIFY2(a.status == status, a.body.constData());
    if (status == 401)
        QVERIFY2(a.body.contains("x_api_key cookie refused"), a.body.constData());
}

void TestHttpFront::acceptBacksOffWhenOutOfDescriptors()
{
    // A client waits in the listen queue while this process has no descriptor left: the
    // endpoint must pause accepting (not retry in a busy loop), and serve the client once
    // descriptors are back.
    if (kSanitized)
        QSKIP("the sanitizer runtime opens descriptors for its own checks; this test uses all");
    const int fd = connectTo(QStringLiteral("127.0.0.1"), m_metrics->port());
    QVERIFY(fd >= 0);
    rlimit saved{};
    QVERIFY(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
    rlimit low = saved;
    low.rlim_cur = 512;
    QVERIFY(::setrlimit(RLIMIT_NOFILE, &low) == 0);
    std::vector<int> fillers;
    for (int f; (f = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;)
        fillers.push_back(f);
    const double cpu0 = cpuSeconds();
    QTest::qWait(1500);
    const double cpu = cpuSeconds() - cpu0;
    for (int f : fillers)
        ::close(f);
    QVERIFY(::setrlimit(RLIMIT_NOFILE, &saved) == 0);
    QVERIFY2(!fillers.empty(), "the descriptor table was not filled");
    QVERIFY2(cpu < 0.3,
             qPrintable(QStringLiteral("%1 s of CPU while out of descriptors").arg(cpu)));

    std::atomic<bool> done{false};
    QByteArray got;
    std::thread client([&] {
        sendAll(fd, "GET /apisix/prometheus/metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        readSome(fd, got, 12, 5000);
        done = true;
    });
    const bool answered = QTest::qWaitFor([&] { return done.load(); }, 10000);
    client.join();
    ::close(fd);
    QVERIFY(answered);
    QVERIFY2(got.startsWith("HTTP/1.1 200"), got.constData());
}

QTEST_GUILESS_MAIN(TestHttpFront)
#include "tst_httpfront.moc"
