// TLS termination on a stream_proxy.tcp entry with tls: true, against OpenSSL clients (the test's
// own, over real sockets on 127.0.0.0/8, and the openssl s_client command) and plain upstreams:
// the certificate is chosen by the ClientHello's SNI as APISIX matches it (exact, one-label
// wildcard, "*"), routes are chosen by their sni after the handshake (APISIX's t/stream-node/
// sni.t cases), mTLS with client.ca, ssl_protocols, and every failure is a refusal whose reason
// and event say why. Certificates come from the openssl command (testcerts.h).

#include "api/snapshotjson.h"
#include "config/developmentca.h"
#include "loopback.h"
#include "proxy/databasetls.h"
#include "proxy/engine.h"
#include "proxyfixture.h"
#include "testcerts.h"

#include <QElapsedTimer>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <fcntl.h>
#include <memory>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>

using namespace sg;
using namespace sgtest;

namespace {

const QString kLocal = QStringLiteral("127.0.0.1");

struct TlsResult
{
    bool handshake = false; // SSL_connect succeeded
    QByteArray received;
    QString error; // OpenSSL's reason for the first failure, "" when none
    QString peerCn;
    QString version;
    bool resumed = false;
};

QString lastError()
{
    const unsigned long e = ERR_peek_last_error();
    ERR_clear_error();
    if (!e)
        return QStringLiteral("(no OpenSSL error)");
    const char* r = ERR_reason_error_string(e);
    return r ? QString::fromLatin1(r) : QString::number(e);
}

struct ClientOptions
{
    QString bindHost;
    QString certFile; // client certificate (mTLS)
    QString keyFile;
    int minVersion = 0; // TLS1_2_VERSION, ...
    int maxVersion = 0;
    QByteArray before; // sent in plaintext before the handshake (a PROXY protocol header)
    QByteArray after;  // sent raw right after the handshake, outside TLS's records
    // In: a session to resume (nullptr: none); out: the session the server gave (the caller
    // frees it), when not nullptr.
    SSL_SESSION* resume = nullptr;
    SSL_SESSION** session = nullptr;
};

ClientOptions from(const QString& bindHost)
{
    ClientOptions o;
    o.bindHost = bindHost;
    return o;
}

// Connects over TLS with `sni` (none when empty), sends `payload` in 16 KiB writes while reading
// what comes back, and reads until `expect` bytes arrived (-1: until the end).
TlsResult tlsExchange(int port, const QString& sni, const QByteArray& payload, qsizetype expect,
                      const ClientOptions& o = {})
{
    TlsResult r;
    const int fd = connectTo(kLocal, port, o.bindHost);
    if (fd < 0) {
        r.error = QStringLiteral("connect failed");
        return r;
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (o.minVersion)
        SSL_CTX_set_min_proto_version(ctx, o.minVersion);
    if (o.maxVersion)
        SSL_CTX_set_max_proto_version(ctx, o.maxVersion);
    if (!o.certFile.isEmpty()) {
        SSL_CTX_use_certificate_file(ctx, qPrintable(o.certFile), SSL_FILETYPE_PEM);
        SSL_CTX_use_PrivateKey_file(ctx, qPrintable(o.keyFile), SSL_FILETYPE_PEM);
    }
    if (!o.before.isEmpty())
        sendAll(fd, o.before);
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (o.resume)
        SSL_set_session(ssl, o.resume);
    if (!sni.isEmpty())
        SSL_set_tlsext_host_name(ssl, sni.toLatin1().constData());
    ERR_clear_error();
    if (SSL_connect(ssl) == 1) {
        r.handshake = true;
        r.version = QString::fromLatin1(SSL_get_version(ssl));
        r.resumed = SSL_session_reused(ssl) == 1;
        if (X509* peer = SSL_get1_peer_certificate(ssl)) {
            char cn[256] = {};
            X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
            r.peerCn = QString::fromLatin1(cn);
            X509_free(peer);
        }
        if (!o.after.isEmpty())
            sendAll(fd, o.after);
        char buffer[16384];
        const auto readOnce = [&]() {
            const int n = SSL_read(ssl, buffer, sizeof buffer);
            if (n > 0) {
                r.received.append(buffer, n);
                return true;
            }
            if (SSL_get_error(ssl, n) != SSL_ERROR_ZERO_RETURN && r.error.isEmpty())
                r.error = lastError();
            return false;
        };
        bool open = true;
        for (qsizetype at = 0; open && at < payload.size(); at += 16384) {
            const int chunk = int(qMin<qsizetype>(16384, payload.size() - at));
            if (SSL_write(ssl, payload.constData() + at, chunk) != chunk) {
                r.error = lastError();
                open = false;
                break;
            }
            pollfd p{fd, POLLIN, 0};
            while (open && (SSL_pending(ssl) > 0 || ::poll(&p, 1, 0) == 1))
                open = readOnce();
        }
        while (open && (expect < 0 || r.received.size() < expect))
            open = readOnce();
    } else {
        r.error = lastError();
    }
    if (r.handshake)
        SSL_shutdown(ssl); // a session not shut down is not resumable
    if (o.session)
        *o.session = SSL_get1_session(ssl); // TLS 1.3: the ticket came with the data read
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    ::close(fd);
    return r;
}

Ssl serverSsl(const TestCerts& certs, const QString& name, const QStringList& snis)
{
    Ssl s;
    s.id = QJsonValue(name);
    s.cert = certs.pem(name, "crt");
    s.key = certs.pem(name, "key");
    if (snis.size() == 1)
        s.sni = snis.first();
    else
        s.snis = snis;
    return s;
}

ListenEntry tlsListen(int port)
{
    ListenEntry e = listenEntry(kLocal, port);
    e.tls = true;
    return e;
}

EngineOptions options(const QString& loop)
{
    EngineOptions o;
    o.workers = 2;
    o.eventLoop = loop;
    return o;
}

const DeniedClient* deniedFor(const Snapshot& s, const QString& ip)
{
    for (const DeniedClient& d : s.denied)
        if (d.clientIp == ip)
            return &d;
    return nullptr;
}

StreamRoute sniRoute(const QString& id, const QString& sni, int port, const QString& remote = {})
{
    StreamRoute r = route(id, upstream({node(kLocal, port)}));
    r.sni = sni;
    r.remoteAddr = remote;
    return r;
}

QString eventTexts(Engine& engine)
{
    QStringList texts;
    for (const Event& e : engine.eventsSince(0, 1000))
        texts << e.text;
    return texts.join(u'\n');
}

// A PostgreSQL client's 8-byte request (SSLRequest 80877103, GSSENCRequest 80877104).
QByteArray pgRequest(quint32 code)
{
    QByteArray r(8, '\0');
    r[3] = 8;
    for (int i = 0; i < 4; ++i)
        r[4 + i] = char((code >> (24 - 8 * i)) & 0xff);
    return r;
}

// On a connected socket: the TLS handshake, verifying the server for 127.0.0.1 against
// `caFile`, then `payload` out and as many bytes back.
TlsResult tlsOverSocket(int fd, const QString& caFile, const QByteArray& payload)
{
    TlsResult r;
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(ctx, qPrintable(caFile), nullptr);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    SSL* ssl = SSL_new(ctx);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1");
    SSL_set_fd(ssl, fd);
    ERR_clear_error();
    if (SSL_connect(ssl) == 1) {
        r.handshake = true;
        r.version = QString::fromLatin1(SSL_get_version(ssl));
        SSL_write(ssl, payload.constData(), int(payload.size()));
        char buffer[4096];
        while (r.received.size() < payload.size()) {
            const int n = SSL_read(ssl, buffer, sizeof buffer);
            if (n <= 0)
                break;
            r.received.append(buffer, n);
        }
        SSL_shutdown(ssl);
    } else {
        r.error = lastError();
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return r;
}

} // namespace

class TstEngineTls : public QObject
{
    Q_OBJECT

private:
    TestCerts m_certs;

private Q_SLOTS:
    void initTestCase_data()
    {
        QTest::addColumn<QString>("loop");
        QTest::newRow("epoll") << "epoll";
        QTest::newRow("poll") << "poll";
    }

    void initTestCase()
    {
        QVERIFY2(m_certs.makeCa("ca"), qPrintable(m_certs.error()));
        QVERIFY2(m_certs.makeCa("otherca"), qPrintable(m_certs.error()));
        QVERIFY(m_certs.makeLeaf("a", "ca", "a.example.com", {"a.example.com"}));
        QVERIFY(m_certs.makeLeaf("b", "ca", "b.example.com", {"b.example.com"}));
        QVERIFY(m_certs.makeLeaf("wild", "ca", "*.test.com", {"*.test.com"}));
        QVERIFY(m_certs.makeLeaf("deep", "", "x.y.test.com", {"x.y.test.com"}));
        QVERIFY(m_certs.makeLeaf("any", "", "catch-all", {}));
        QVERIFY(m_certs.makeLeaf("alice", "ca", "alice", {}, true));
        QVERIFY(m_certs.makeLeaf("mallory", "otherca", "mallory", {}, true));
        QVERIFY2(m_certs.ok(), qPrintable(m_certs.error()));
    }

    // Two certificates and two routes on one port: each SNI gets its own certificate and its
    // own upstream, and the bytes go through both ways intact (a bulk echo, larger than the
    // buffers, in both directions at once).
    void sniPicksCertificateAndRoute()
    {
        QFETCH_GLOBAL(QString, loop);
        TestServer echo(TestServer::Echo);
        auto other = greeter("route-b");
        Engine engine(options(loop));
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << tlsListen(port);
        c.ssls << serverSsl(m_certs, "a", {"a.example.com"})
               << serverSsl(m_certs, "b", {"b.example.com"});
        c.streamRoutes << sniRoute("a", "a.example.com", echo.port())
                       << sniRoute("b", "b.example.com", other->port());
        engine.apply(c);

        const QByteArray payload = pattern(300000, 3);
        const TlsResult a = tlsExchange(port, "a.example.com", payload, payload.size());
        QVERIFY2(a.handshake, qPrintable(a.error));
        QCOMPARE(a.peerCn, QStringLiteral("a.example.com"));
        QCOMPARE(a.received.size(), payload.size());
        QVERIFY(a.received == payload);

        const TlsResult b = tlsExchange(port, "B.Example.COM.", {}, -1);
        QVERIFY2(b.handshake, qPrintable(b.error));
        QCOMPARE(b.peerCn, QStringLiteral("b.example.com"));
        QCOMPARE(b.received, QByteArray("route-b"));

        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 2, 5000);
        const Snapshot s = engine.snapshot();
        QCOMPARE(routeCounters(s, "a").total, quint64(1));
        QCOMPARE(routeCounters(s, "b").total, quint64(1));
        // What the upstream got is the plaintext.
        for (const ConnectionInfo& conn : s.closed)
            if (conn.routeId == u"a")
                QCOMPARE(conn.bytesUp, quint64(payload.size()));
    }

    // The openssl command itself: s_client with -servername sees the certificate of that name.
    void opensslClientSeesCertificate()
    {
        QFETCH_GLOBAL(QString, loop);
        auto up = greeter("hello from upstream\n");
        Engine engine(options(loop));
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << tlsListen(port);
        c.ssls << serverSsl(m_certs, "a", {"a.example.com"})
               << serverSsl(m_certs, "b", {"b.example.com"});
        c.streamRoutes << route("r", upstream({node(kLocal, up->port())}));
        engine.apply(c);

        QProcess client;
        client.start("openssl", {"s_client", "-connect", QStringLiteral("127.0.0.1:%1").arg(port),
                                 "-servername", "b.example.com", "-CAfile",
                                 m_certs.path("ca", "crt"), "-verify_return_error", "-ign_eof"});
        QVERIFY(client.waitForStarted());
        client.closeWriteChannel();
        QVERIFY(client.waitForFinished(10000));
        const QString out = QString::fromLocal8Bit(client.readAllStandardOutput());
        QVERIFY2(out.contains("CN = b.example.com"), qPrintable(out));
        QVERIFY2(out.contains("Verify return code: 0 (ok)"), qPrintable(out));
        QVERIFY2(out.contains("hello from upstream"), qPrintable(out));
    }

    // "*.test.com" presents for one more label (x.test.com), not two (a.b.test.com: no
    // certificate, as APISIX's radixtree_sni); an exact name wins over a wildcard; "*" catches
    // every other name.
    void wildcardCertificates()
    {
        QFETCH_GLOBAL(QString, loop);
        auto up = greeter("ok");
        Engine engine(options(loop));
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << tlsListen(port);
        c.ssls << serverSsl(m_certs, "wild", {"*.test.com"})
               << serverSsl(m_certs, "deep", {"x.y.test.com"});
        c.streamRoutes << route("r", upstream({node(kLocal, up->port())}));
        engine.apply(c);

        TlsResult r = tlsExchange(port, "x.test.com", {}, -1);
        QVERIFY2(r.handshake, qPrintable(r.error));
        QCOMPARE(r.peerCn, QStringLiteral("*.test.com"));
        QCOMPARE(r.received, QByteArray("ok"));
        r = tlsExchange(port, "x.y.test.com", {}, -1);
        QCOMPARE(r.peerCn, QStringLiteral("x.y.test.com"));
        r = tlsExchange(port, "a.b.test.com", {}, -1, from("127.0.0.2"));
        QVERIFY(!r.handshake);
        QVERIFY2(r.error.contains("unrecognized name"), qPrintable(r.error));
        QTRY_VERIFY_WITH_TIMEOUT(deniedFor(engine.snapshot(), "127.0.0.2"), 5000);
        QVERIFY(deniedFor(engine.snapshot(), "127.0.0.2")->reason == CloseReason::TlsNoCertificate);

        // A catch-all "*" certificate: any name now has one.
        c.ssls << serverSsl(m_certs, "any", {"*"});
        c.ssls.removeFirst(); // without *.test.com: the catch-all answers a.b.test.com too
        engine.apply(c);
        r = tlsExchange(port, "a.b.test.com", {}, -1);
        QVERIFY2(r.handshake, qPrintable(r.error));
        QCOMPARE(r.peerCn, QStringLiteral("catch-all"));
        r = tlsExchange(port, "x.y.test.com", {}, -1);
        QCOMPARE(r.peerCn, QStringLiteral("x.y.test.com"));
    }

    // No certificate for the SNI, no SNI at all, a disabled ssl (status 0), and a plaintext
    // client: each refused before any upstream is reached, with a reason that says why.
    void failuresAreRefusalsWithReasons()
    {
        QFETCH_GLOBAL(QString, loop);
        auto up = greeter("never");
        Engine engine(options(loop));
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << tlsListen(port);
        Ssl a = serverSsl(m_certs, "a", {"a.example.com"});
        Ssl b = serverSsl(m_certs, "b", {"b.example.com"});
        b.status = 0;
        c.ssls << a << b;
        c.streamRoutes << route("r", upstream({node(kLocal, up->port())}));
        engine.apply(c);

        TlsResult r = tlsExchange(port, "nothing.example.org", {}, -1, from("127.0.0.2"));
        QVERIFY(!r.handshake);
        QVERIFY2(r.error.contains("unrecognized name"), qPrintable(r.error));
        r = tlsExchange(port, QString(), {}, -1, from("127.0.0.3"));
        QVERIFY(!r.handshake);
        r = tlsExchange(port, "b.example.com", {}, -1, from("127.0.0.4"));
        QVERIFY(!r.handshake);
        // OpenSSL answers a plaintext HTTP request with no alert: the connection just ends.
        ReadEnd end;
        QCOMPARE(sendAndRead(kLocal, port, "127.0.0.5", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", &end),
                 QByteArray());
        QVERIFY(end == ReadEnd::Eof || end == ReadEnd::Reset);
        QCOMPARE(up->accepted.load(), 0);

        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().denied.size(), 4, 5000);
        const Snapshot s = engine.snapshot();
        QVERIFY(deniedFor(s, "127.0.0.2")->reason == CloseReason::TlsNoCertificate);
        QVERIFY(deniedFor(s, "127.0.0.3")->reason == CloseReason::TlsNoCertificate);
        QVERIFY(deniedFor(s, "127.0.0.4")->reason == CloseReason::TlsNoCertificate);
        QVERIFY(deniedFor(s, "127.0.0.5")->reason == CloseReason::TlsHandshakeFailed);
        const QString all = denyTexts(engine.eventsSince(0, 1000));
        QVERIFY2(all.contains("no certificate for SNI nothing.example.org"), qPrintable(all));
        QVERIFY2(all.contains("the client sent no SNI"), qPrintable(all));
        QVERIFY2(all.contains("no certificate for SNI b.example.com"), qPrintable(all));
        QVERIFY2(all.contains("TLS handshake failed: http request"), qPrintable(all));
        QCOMPARE(toString(CloseReason::TlsNoCertificate),
                 QStringLiteral("no TLS certificate for the SNI"));
    }

    // APISIX's t/stream-node/sni.t: routes with sni a.test.com (exact) and *.test.com
    // (wildcard), and one without sni. The exact route wins for a.test.com, the wildcard one
    // for b.test.com; an exact route whose remote_addr does not match falls to the wildcard;
    // with no sni route left for the name, the route without sni; a plain listener never
    // meets a route with sni.
    void routeSniAsApisix()
    {
        QFETCH_GLOBAL(QString, loop);
        auto exact = greeter("exact");
        auto exactOther = greeter("exact-from-127.0.0.3");
        auto wildcard = greeter("wildcard");
        auto plain = greeter("no-sni");
        Engine engine(options(loop));
        const int port = freePort();
        const int plainPort = freePort();
        Config c;
        c.streamProxy.tcp << tlsListen(port) << listenEntry(kLocal, plainPort);
        c.ssls << serverSsl(m_certs, "wild", {"*.test.com"});
        c.streamRoutes << sniRoute("1", "a.test.com", exact->port())
                       << sniRoute("2", "*.test.com", wildcard->port())
                       << route("3", upstream({node(kLocal, plain->port())}));
        engine.apply(c);

        QCOMPARE(tlsExchange(port, "a.test.com", {}, -1).received, QByteArray("exact"));
        QCOMPARE(tlsExchange(port, "b.test.com", {}, -1).received, QByteArray("wildcard"));
        QCOMPARE(greetingVia(kLocal, plainPort), QByteArray("no-sni"));

        // TEST 6-9: two routes for a.test.com told apart by remote_addr; neither matches a
        // client from 127.0.0.1, which falls to the wildcard route.
        c.streamRoutes[0].remoteAddr = QStringLiteral("127.0.0.2");
        StreamRoute four = sniRoute("4", "a.test.com", exactOther->port(), "127.0.0.3");
        c.streamRoutes.insert(1, four);
        engine.apply(c);
        QCOMPARE(tlsExchange(port, "a.test.com", {}, -1, from("127.0.0.2")).received,
                 QByteArray("exact"));
        QCOMPARE(tlsExchange(port, "a.test.com", {}, -1, from("127.0.0.3")).received,
                 QByteArray("exact-from-127.0.0.3"));
        QCOMPARE(tlsExchange(port, "a.test.com", {}, -1).received, QByteArray("wildcard"));

        // TEST 11-12: without the wildcard route, b.test.com falls back to the route without
        // sni; a route wildcard matches any depth of labels (a certificate's does not).
        c.streamRoutes.removeAt(2);
        engine.apply(c);
        QCOMPARE(tlsExchange(port, "b.test.com", {}, -1).received, QByteArray("no-sni"));
        c.ssls << serverSsl(m_certs, "deep", {"x.y.test.com"});
        c.streamRoutes.insert(0, sniRoute("deep", "*.test.com", wildcard->port()));
        engine.apply(c);
        QCOMPARE(tlsExchange(port, "x.y.test.com", {}, -1).received, QByteArray("wildcard"));
    }

    // mTLS: with client.ca the handshake asks for a certificate; a client signed by that CA is
    // served, one without a certificate and one signed by another CA are refused, and the
    // refusals say which.
    void clientCertificates()
    {
        QFETCH_GLOBAL(QString, loop);
        TestServer echo(TestServer::Echo);
        Engine engine(options(loop));
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << tlsListen(port);
        Ssl a = serverSsl(m_certs, "a", {"a.example.com"});
        SslClient client;
        client.ca = m_certs.pem("ca", "crt");
        a.client = client;
        c.ssls << a;
        c.streamRoutes << route("r", upstream({node(kLocal, echo.port())}));
        engine.apply(c);

        ClientOptions alice;
        alice.certFile = m_certs.path("alice", "crt");
        alice.keyFile = m_certs.path("alice", "key");
        TlsResult r = tlsExchange(port, "a.example.com", "ping", 4, alice);
        QVERIFY2(r.handshake && r.error.isEmpty(), qPrintable(r.error));
        QCOMPARE(r.received, QByteArray("ping"));
        // The connection shows its handshake, in the snapshot and the admin API.
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 1, 5000);
        const ConnectionInfo served = engine.snapshot().closed.first();
        QVERIFY(served.tls->terminated);
        QCOMPARE(served.tls->sni, QStringLiteral("a.example.com"));
        QCOMPARE(served.tls->version, QStringLiteral("TLSv1.3"));
        QCOMPARE(served.tls->clientCertificate, QStringLiteral("/CN=alice"));
        const QJsonObject tls = connectionToJson(served).value("tls").toObject();
        QCOMPARE(tls.value("sni").toString(), QStringLiteral("a.example.com"));
        QCOMPARE(tls.value("client_certificate").toString(), QStringLiteral("/CN=alice"));
        QVERIFY(!tls.value("cipher").toString().isEmpty());

        ClientOptions none;
        none.bindHost = QStringLiteral("127.0.0.2");
        r = tlsExchange(port, "a.example.com", "ping", 4, none);
        QCOMPARE(r.received, QByteArray());
        QVERIFY2(r.error.contains("certificate required"), qPrintable(r.error));

        ClientOptions mallory;
        mallory.bindHost = QStringLiteral("127.0.0.3");
        mallory.certFile = m_certs.path("mallory", "crt");
        mallory.keyFile = m_certs.path("mallory", "key");
        r = tlsExchange(port, "a.example.com", "ping", 4, mallory);
        QCOMPARE(r.received, QByteArray());
        QVERIFY2(r.error.contains("unknown ca"), qPrintable(r.error));

        QTRY_VERIFY_WITH_TIMEOUT(deniedFor(engine.snapshot(), "127.0.0.3"), 5000);
        QTRY_VERIFY_WITH_TIMEOUT(deniedFor(engine.snapshot(), "127.0.0.2"), 5000);
        const Snapshot s = engine.snapshot();
        QVERIFY(deniedFor(s, "127.0.0.2")->reason == CloseReason::TlsClientCertMissing);
        QVERIFY(deniedFor(s, "127.0.0.3")->reason == CloseReason::TlsClientCertUntrusted);
        const QString all = denyTexts(engine.eventsSince(0, 1000));
        QVERIFY2(all.contains("client certificate missing"), qPrintable(all));
        QVERIFY2(all.contains("client certificate untrusted: unable to get local issuer "
                              "certificate"),
                 qPrintable(all));
    }

    // A record that does not decrypt, in the middle of a session, resets both peers and the
    // session ends as "TLS error", with OpenSSL's reason in the event log.
    void corruptRecordResetsSession()
    {
        QFETCH_GLOBAL(QString, loop);
        TestServer echo(TestServer::Echo);
        Engine engine(options(loop));
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << tlsListen(port);
        c.ssls << serverSsl(m_certs, "a", {"a.example.com"});
        c.streamRoutes << route("r", upstream({node(kLocal, echo.port())}));
        engine.apply(c);

        ClientOptions o;
        // An application-data record of 32 bytes that no key produced.
        o.after = QByteArray("\x17\x03\x03\x00\x20", 5) + QByteArray(32, 'x');
        const TlsResult r = tlsExchange(port, "a.example.com", {}, -1, o);
        QVERIFY2(r.handshake, qPrintable(r.error));
        QCOMPARE(r.received, QByteArray());
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 1, 5000);
        QVERIFY(engine.snapshot().closed.last().closeReason == CloseReason::TlsError);
        QString infos;
        for (const Event& e : engine.eventsSince(0, 1000))
            infos += e.text + u'\n';
        QVERIFY2(infos.contains("TLS error: bad record mac") ||
                     infos.contains("TLS error: decryption failed"),
                 qPrintable(infos));
    }

    // With proxy_protocol too, the header comes first, then the handshake; the carried address
    // routes.
    void proxyProtocolThenTls()
    {
        QFETCH_GLOBAL(QString, loop);
        auto carried = greeter("carried");
        auto other = greeter("other");
        Engine engine(options(loop));
        const int port = freePort();
        Config c;
        ListenEntry e = tlsListen(port);
        e.proxyProtocol = true;
        c.streamProxy.tcp << e;
        c.ssls << serverSsl(m_certs, "a", {"a.example.com"});
        StreamRoute r = sniRoute("carried", "a.example.com", carried->port(), "203.0.113.7");
        c.streamRoutes << r << route("other", upstream({node(kLocal, other->port())}));
        engine.apply(c);

        ClientOptions o;
        o.before = "PROXY TCP4 203.0.113.7 192.0.2.1 4242 443\r\n";
        const TlsResult res = tlsExchange(port, "a.example.com", {}, -1, o);
        QVERIFY2(res.handshake, qPrintable(res.error));
        QCOMPARE(res.received, QByteArray("carried"));
        QCOMPARE(other->accepted.load(), 0);
    }

    // A session ticket resumes on the ssl that made it: the mTLS client resumes without its
    // certificate (it was verified in the full handshake), and a session from another ssl does
    // not open the mTLS one to a client without a certificate.
    void resumptionStaysOnItsSsl()
    {
        QFETCH_GLOBAL(QString, loop);
        auto up = greeter("ok");
        Engine engine(options(loop));
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << tlsListen(port);
        Ssl mtls = serverSsl(m_certs, "a", {"a.example.com"});
        mtls.client = SslClient{m_certs.pem("ca", "crt"), 1, {}, {}};
        c.ssls << mtls << serverSsl(m_certs, "b", {"b.example.com"});
        c.streamRoutes << route("r", upstream({node(kLocal, up->port())}));
        engine.apply(c);

        SSL_SESSION* aliceSession = nullptr;
        ClientOptions alice;
        alice.certFile = m_certs.path("alice", "crt");
        alice.keyFile = m_certs.path("alice", "key");
        alice.session = &aliceSession;
        TlsResult r = tlsExchange(port, "a.example.com", {}, -1, alice);
        QVERIFY2(r.handshake && !r.resumed, qPrintable(r.error));
        QVERIFY(aliceSession);
        ClientOptions again;
        again.resume = aliceSession;
        r = tlsExchange(port, "a.example.com", {}, -1, again);
        QVERIFY2(r.handshake, qPrintable(r.error));
        QVERIFY(r.resumed);
        QCOMPARE(r.received, QByteArray("ok"));
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 2, 5000);
        QVERIFY(engine.snapshot().closed.last().tls->resumed);
        SSL_SESSION_free(aliceSession);

        SSL_SESSION* bSession = nullptr;
        ClientOptions plain;
        plain.session = &bSession;
        r = tlsExchange(port, "b.example.com", {}, -1, plain);
        QVERIFY2(r.handshake, qPrintable(r.error));
        QVERIFY(bSession);
        ClientOptions crossing = from("127.0.0.2");
        crossing.resume = bSession;
        r = tlsExchange(port, "a.example.com", {}, -1, crossing);
        SSL_SESSION_free(bSession);
        QVERIFY(!r.resumed);
        QCOMPARE(r.received, QByteArray());
        QTRY_VERIFY_WITH_TIMEOUT(deniedFor(engine.snapshot(), "127.0.0.2"), 5000);
        QVERIFY(deniedFor(engine.snapshot(), "127.0.0.2")->reason ==
                CloseReason::TlsClientCertMissing);
    }

    // ssl_protocols: ["TLSv1.2"] serves TLS 1.2 and refuses a client that speaks TLS 1.3 only;
    // without it TLS 1.3 is chosen.
    void sslProtocols()
    {
        QFETCH_GLOBAL(QString, loop);
        auto up = greeter("ok");
        Engine engine(options(loop));
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << tlsListen(port);
        Ssl a = serverSsl(m_certs, "a", {"a.example.com"});
        c.ssls << a;
        c.streamRoutes << route("r", upstream({node(kLocal, up->port())}));
        engine.apply(c);
        QCOMPARE(tlsExchange(port, "a.example.com", {}, -1).version, QStringLiteral("TLSv1.3"));

        c.ssls[0].sslProtocols = QStringList{QStringLiteral("TLSv1.2")};
        engine.apply(c);
        const TlsResult r12 = tlsExchange(port, "a.example.com", {}, -1);
        QCOMPARE(r12.version, QStringLiteral("TLSv1.2"));
        QCOMPARE(r12.received, QByteArray("ok"));
        ClientOptions only13;
        only13.bindHost = QStringLiteral("127.0.0.2");
        only13.minVersion = TLS1_3_VERSION;
        const TlsResult r13 = tlsExchange(port, "a.example.com", {}, -1, only13);
        QVERIFY(!r13.handshake);
        QTRY_VERIFY_WITH_TIMEOUT(deniedFor(engine.snapshot(), "127.0.0.2"), 5000);
        QVERIFY(deniedFor(engine.snapshot(), "127.0.0.2")->reason ==
                CloseReason::TlsHandshakeFailed);
        const QString all = denyTexts(engine.eventsSince(0, 1000));
        QVERIFY2(all.contains("TLS handshake failed: unsupported protocol"), qPrintable(all));
    }

    // A route with database_tls: a PostgreSQL client's GSSENCRequest is answered 'N', its
    // SSLRequest 'S' and the TLS handshake with the development CA's certificate (verified for
    // 127.0.0.1 against the CA's file), and the upstream gets the plaintext; a client that
    // asks for no TLS is relayed as it came, and one that waits for the server (a server that
    // speaks first) gets the greeting after a short wait.
    void databaseTlsAnswersPostgresRequests()
    {
        QFETCH_GLOBAL(QString, loop);
        QTemporaryDir caDir;
        TestServer echo(TestServer::Echo);
        auto speaksFirst = greeter("server first\n");
        EngineOptions o = options(loop);
        o.developmentCaDir = caDir.filePath(QStringLiteral("development-ca"));
        Engine engine(o);
        const int port = freePort();
        const int greetPort = freePort();
        Config c;
        c.streamProxy.tcp << listenEntry(kLocal, port) << listenEntry(kLocal, greetPort);
        StreamRoute pg = route("pg", upstream({node(kLocal, echo.port())}));
        pg.serverPort = port;
        StreamRoute first = route("first", upstream({node(kLocal, speaksFirst->port())}));
        first.serverPort = greetPort;
        c.streamRoutes << pg << first;
        RouteSettings tls;
        tls.databaseTls = true;
        c.streamgate.routes = QMap<QString, RouteSettings>{{"pg", tls}, {"first", tls}};
        engine.apply(c);
        const QString caFile = DevelopmentCa(o.developmentCaDir).caCertificatePath();
        QVERIFY(QFile::exists(caFile)); // made when the route asked for it, and said where
        QVERIFY2(eventTexts(engine).contains(o.developmentCaDir), qPrintable(eventTexts(engine)));

        const int fd = connectTo(kLocal, port);
        QVERIFY(fd >= 0);
        QVERIFY(sendAll(fd, pgRequest(80877104)));
        QByteArray answer;
        readSome(fd, answer, 1, 5000);
        QCOMPARE(answer, QByteArray("N"));
        QVERIFY(sendAll(fd, pgRequest(80877103)));
        answer.clear();
        readSome(fd, answer, 1, 5000);
        QCOMPARE(answer, QByteArray("S"));
        const QByteArray startup("\0\0\0\x0f\0\x03\0\0user\0u\0\0", 15);
        const TlsResult r = tlsOverSocket(fd, caFile, startup);
        ::close(fd);
        QVERIFY2(r.handshake, qPrintable(r.error));
        QCOMPARE(r.received, startup); // the echo got it in plaintext
        QTRY_VERIFY_WITH_TIMEOUT(!engine.snapshot().closed.isEmpty(), 5000);
        const ConnectionInfo closed = engine.snapshot().closed.constFirst();
        QVERIFY(closed.tls->terminated);
        QVERIFY(closed.tls->developmentCa);
        QVERIFY(!closed.upstreamTls->used);
        QCOMPARE(closed.bytesUp, quint64(startup.size()));

        // No TLS asked: the startup goes to the server as it came.
        const int plain = connectTo(kLocal, port);
        QVERIFY(plain >= 0);
        QVERIFY(sendAll(plain, startup + "tail"));
        QByteArray echoed;
        readSome(plain, echoed, startup.size() + 4, 5000);
        ::close(plain);
        QCOMPARE(echoed, startup + "tail");
        // A client that waits for the server is let through after PgTlsAcceptSession::kSilentMs.
        QElapsedTimer waited;
        waited.start();
        QCOMPARE(greetingVia(kLocal, greetPort), QByteArray("server first\n"));
        QVERIFY(waited.elapsed() >= PgTlsAcceptSession::kSilentMs - 50);
    }

    // Without a place for the development CA, a client asking for TLS is refused saying why.
    void databaseTlsWithoutCaIsRefusedWithReason()
    {
        QFETCH_GLOBAL(QString, loop);
        TestServer echo(TestServer::Echo);
        Engine engine(options(loop));
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << listenEntry(kLocal, port);
        c.streamRoutes << route("pg", upstream({node(kLocal, echo.port())}));
        RouteSettings tls;
        tls.databaseTls = true;
        c.streamgate.routes = QMap<QString, RouteSettings>{{"pg", tls}};
        engine.apply(c);
        ReadEnd ended = ReadEnd::Timeout;
        QCOMPARE(sendAndRead(kLocal, port, {}, pgRequest(80877103), &ended), QByteArray());
        QCOMPARE(ended, ReadEnd::Eof); // closed, never handed to the server in plaintext
        QTRY_VERIFY_WITH_TIMEOUT(!engine.snapshot().denied.isEmpty(), 5000);
        const QString why = denyTexts(engine.eventsSince(0, 100));
        QVERIFY2(why.contains(u"database TLS: no place for the development CA"), qPrintable(why));
    }
};

QTEST_GUILESS_MAIN(TstEngineTls)
#include "tst_engine_tls.moc"
