// TLS to upstreams (scheme "tls") and SNI passthrough (tls_passthrough), against the openssl
// command on both ends: `openssl s_server` processes (started here on 127.0.0.x, stopped by
// their PID) are the TLS upstreams, reversing each line they get (-rev; a line "CLOSE" closes),
// and `openssl s_client`
// reaches passthrough listeners. APISIX's t/stream-node/upstream-tls.t (the SNI sent:
// "apisix_backend" for a plain client, the client's SNI for a TLS one) and upstream-mtls.t
// (client_cert, client_cert_id, none) are translated here, with verification, retries to the
// next node and the close reasons that say why a handshake failed.

#include "api/snapshotjson.h"
#include "config/certificates.h"
#include "loopback.h"
#include "proxy/engine.h"
#include "proxyfixture.h"
#include "testcerts.h"

#include <QDateTime>
#include <QFile>
#include <QProcess>
#include <QTest>
#include <algorithm>
#include <memory>

using namespace sg;
using namespace sgtest;

namespace {

const QString kLocal = QStringLiteral("127.0.0.1");

// One `openssl s_server -rev` on host:port; killed (by its PID) with the object.
class SServer
{
public:
    SServer(const QString& host, const QStringList& args)
    {
        m_port = freePort(host);
        m_process.setProcessChannelMode(QProcess::MergedChannels);
        m_process.start(QStringLiteral("openssl"),
                        QStringList{"s_server", "-accept",
                                    QStringLiteral("%1:%2").arg(host).arg(m_port), "-rev"} +
                            args);
        if (!m_process.waitForStarted(5000))
            return;
        // It says ACCEPT once it listens.
        const qint64 deadline = nowMs() + 5000;
        while (!m_output.contains("ACCEPT") && nowMs() < deadline &&
               m_process.state() == QProcess::Running) {
            m_process.waitForReadyRead(100);
            m_output += m_process.readAll();
        }
    }
    ~SServer()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(3000);
        }
    }
    bool ok() const { return m_output.contains("ACCEPT"); }
    int port() const { return m_port; }
    QString output()
    {
        m_output += m_process.readAll();
        return QString::fromLocal8Bit(m_output);
    }

private:
    QProcess m_process;
    QByteArray m_output;
    int m_port = 0;
};

EngineOptions options(const QString& loop)
{
    EngineOptions o;
    o.workers = 2;
    o.eventLoop = loop;
    return o;
}

Upstream tlsUpstream(const QList<Node>& nodes)
{
    Upstream up = upstream(nodes);
    up.scheme = QStringLiteral("tls");
    return up;
}

// A line through the proxy: sent, and what came back until the reversed line (or the end).
QByteArray lineVia(int port, const QByteArray& line, ReadEnd* end = nullptr,
                   const QString& bindHost = {})
{
    const int fd = connectTo(kLocal, port, bindHost);
    if (fd < 0)
        return {};
    QByteArray got;
    ReadEnd e = ReadEnd::Reset;
    if (sendAll(fd, line + '\n'))
        e = readSome(fd, got, line.size() + 1, 5000);
    if (end)
        *end = e;
    ::close(fd);
    return got;
}

QByteArray reversed(QByteArray text)
{
    std::reverse(text.begin(), text.end());
    return text + '\n';
}

const ConnectionInfo* closedOn(const Snapshot& s, const QString& routeId)
{
    for (const ConnectionInfo& c : s.closed)
        if (c.routeId == routeId)
            return &c;
    return nullptr;
}

QString infoTexts(Engine& engine)
{
    QString all;
    for (const Event& e : engine.eventsSince(0, 1000))
        all += e.text + u'\n';
    return all;
}

Ssl ssl(const TestCerts& certs, const QString& id, const QString& name, const QString& type,
        const QStringList& snis = {})
{
    Ssl s;
    s.id = QJsonValue(id);
    s.type = type;
    s.cert = certs.pem(name, "crt");
    s.key = certs.pem(name, "key");
    if (snis.size() == 1)
        s.sni = snis.first();
    else
        s.snis = snis;
    return s;
}

// openssl s_client -servername `sni` to port; its output.
QString opensslClient(int port, const QString& sni, const QString& caFile,
                      const QByteArray& input = "ping\nCLOSE\n")
{
    QProcess client;
    QStringList args{"s_client", "-connect", QStringLiteral("127.0.0.1:%1").arg(port),
                     "-CAfile",  caFile,     "-verify_return_error",
                     "-ign_eof"};
    if (!sni.isEmpty())
        args << "-servername" << sni;
    else
        args << "-noservername";
    client.setProcessChannelMode(QProcess::MergedChannels);
    client.start(QStringLiteral("openssl"), args);
    if (!client.waitForStarted(5000))
        return QStringLiteral("(s_client did not start)");
    client.write(input);
    client.closeWriteChannel();
    client.waitForFinished(10000);
    return QString::fromLocal8Bit(client.readAll());
}

} // namespace

class TstEngineUpstreamTls : public QObject
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
        QVERIFY(m_certs.makeLeaf("node", "ca", "localhost", {"localhost"}));
        QVERIFY(m_certs.makeLeaf("a", "ca", "a.example.com", {"a.example.com"}));
        QVERIFY(m_certs.makeLeaf("b", "ca", "b.example.com", {"b.example.com"}));
        QVERIFY(m_certs.makeLeaf("alice", "ca", "alice", {}, true));
        QVERIFY(m_certs.makeLeaf("mallory", "otherca", "mallory", {}, true));
        QVERIFY2(m_certs.ok(), qPrintable(m_certs.error()));
    }

    // upstream-tls.t TEST 1-2: a plain client reaches a TLS node; the SNI sent is APISIX's
    // "apisix_backend" (s_server presents its second certificate only for that name, and the
    // connection shows which one came), the bytes go both ways, and the connection's record
    // and the admin API show the upstream leg.
    void plainClientToTlsUpstream()
    {
        QFETCH_GLOBAL(QString, loop);
        SServer server(kLocal,
                       {"-cert", m_certs.path("node", "crt"), "-key", m_certs.path("node", "key"),
                        "-servername", "apisix_backend", "-cert2", m_certs.path("a", "crt"),
                        "-key2", m_certs.path("a", "key")});
        QVERIFY2(server.ok(), qPrintable(server.output()));
        Engine engine(options(loop));
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << listenEntry(kLocal, port);
        c.streamRoutes << route("r", tlsUpstream({node(kLocal, server.port())}));
        engine.apply(c);

        const QByteArray line = "hello through TLS " + QByteArray(3000, 'x');
        QCOMPARE(lineVia(port, line), reversed(line));
        QTRY_VERIFY_WITH_TIMEOUT(closedOn(engine.snapshot(), "r"), 5000);
        const ConnectionInfo conn = *closedOn(engine.snapshot(), "r");
        QVERIFY(conn.upstreamTls->used);
        QCOMPARE(conn.upstreamTls->sni, QStringLiteral("apisix_backend"));
        QCOMPARE(conn.upstreamTls->version, QStringLiteral("TLSv1.3"));
        // The second certificate: s_server matched the SNI apisix_backend.
        QCOMPARE(conn.upstreamTls->serverCertificate, QStringLiteral("/CN=a.example.com"));
        QVERIFY(!conn.upstreamTls->verified);
        QVERIFY(!conn.tls->terminated);
        // Read from the client: the plaintext; written to the node: TLS records, a little more.
        QCOMPARE(conn.bytesFromClient, quint64(line.size() + 1));
        QVERIFY(conn.bytesUp > conn.bytesFromClient);
        const QJsonObject api = connectionToJson(conn).value("tls").toObject();
        QCOMPARE(api.value("upstream").toObject().value("sni").toString(),
                 QStringLiteral("apisix_backend"));
        QCOMPARE(api.value("upstream").toObject().value("server_certificate").toString(),
                 QStringLiteral("/CN=a.example.com"));
    }

    // upstream-tls.t TEST 3-4: a client of a listener with tls sends its SNI, and the upstream
    // gets the same; a plain client then sends apisix_backend, which an upstream that insists
    // on its own name (-servername_fatal) refuses: the session ends as "upstream TLS handshake
    // failed" with OpenSSL's reason in the event.
    void clientSniGoesUpstream()
    {
        QFETCH_GLOBAL(QString, loop);
        SServer server(kLocal,
                       {"-cert", m_certs.path("node", "crt"), "-key", m_certs.path("node", "key"),
                        "-servername", "a.example.com", "-cert2", m_certs.path("a", "crt"), "-key2",
                        m_certs.path("a", "key"), "-servername_fatal"});
        QVERIFY2(server.ok(), qPrintable(server.output()));
        Engine engine(options(loop));
        const int tlsPort = freePort();
        const int plainPort = freePort();
        Config c;
        ListenEntry tls = listenEntry(kLocal, tlsPort);
        tls.tls = true;
        c.streamProxy.tcp << tls << listenEntry(kLocal, plainPort);
        c.ssls << ssl(m_certs, "s", "a", "server", {"a.example.com"});
        StreamRoute r = route("r", tlsUpstream({node(kLocal, server.port())}));
        c.streamRoutes << r;
        engine.apply(c);

        const QString out = opensslClient(tlsPort, "a.example.com", m_certs.path("ca", "crt"));
        QVERIFY2(out.contains("gnip"), qPrintable(out)); // "ping" reversed, both legs TLS
        QTRY_VERIFY_WITH_TIMEOUT(closedOn(engine.snapshot(), "r"), 5000);
        ConnectionInfo conn = *closedOn(engine.snapshot(), "r");
        QVERIFY(conn.tls->terminated);
        QCOMPARE(conn.upstreamTls->sni, QStringLiteral("a.example.com"));
        QCOMPARE(conn.upstreamTls->serverCertificate, QStringLiteral("/CN=a.example.com"));

        ReadEnd end;
        QCOMPARE(lineVia(plainPort, "refused", &end, QStringLiteral("127.0.0.2")), QByteArray());
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 2, 5000);
        conn = engine.snapshot().closed.last();
        QVERIFY2(conn.closeReason == CloseReason::UpstreamTlsFailed,
                 qPrintable(toString(conn.closeReason)));
        QVERIFY(!conn.upstreamTls->used);
        const QString events = infoTexts(engine);
        QVERIFY2(events.contains("TLS handshake with the upstream failed: tlsv1 unrecognized name"),
                 qPrintable(events));
        QCOMPARE(toString(CloseReason::UpstreamTlsFailed),
                 QStringLiteral("upstream TLS handshake failed"));
    }

    // tls.verify: a node whose certificate chains to the trusted CA file and names the node's
    // host is served; against another CA, or under another name, the session is refused as
    // "upstream certificate untrusted", saying for which name and why.
    void verifyTrustedAndUntrusted()
    {
        QFETCH_GLOBAL(QString, loop);
        SServer server(kLocal,
                       {"-cert", m_certs.path("node", "crt"), "-key", m_certs.path("node", "key")});
        QVERIFY2(server.ok(), qPrintable(server.output()));
        Engine engine(options(loop));
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << listenEntry(kLocal, port);
        Upstream up = tlsUpstream({node(QStringLiteral("localhost"), server.port())});
        up.tls = UpstreamTls{};
        up.tls->verify = true;
        c.streamRoutes << route("r", up);
        c.streamgate.sslTrustedCertificate = m_certs.path("ca", "crt");
        engine.apply(c);
        QCOMPARE(lineVia(port, "trusted"), reversed("trusted"));
        QTRY_VERIFY_WITH_TIMEOUT(closedOn(engine.snapshot(), "r"), 5000);
        QVERIFY(closedOn(engine.snapshot(), "r")->upstreamTls->verified);

        c.streamgate.sslTrustedCertificate = m_certs.path("otherca", "crt");
        engine.apply(c);
        QCOMPARE(lineVia(port, "untrusted"), QByteArray());
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 2, 5000);
        QVERIFY(engine.snapshot().closed.last().closeReason == CloseReason::UpstreamCertUntrusted);

        // The right CA, the wrong name: the node is asked for by its address.
        c.streamgate.sslTrustedCertificate = m_certs.path("ca", "crt");
        c.streamRoutes[0].upstream->nodes[0].host = kLocal;
        engine.apply(c);
        QCOMPARE(lineVia(port, "wrong name"), QByteArray());
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 3, 5000);
        QVERIFY(engine.snapshot().closed.last().closeReason == CloseReason::UpstreamCertUntrusted);
        const QString events = infoTexts(engine);
        QVERIFY2(events.contains("upstream certificate verify failed for localhost: unable to get "
                                 "local issuer certificate"),
                 qPrintable(events));
        QVERIFY2(events.contains("upstream certificate verify failed for 127.0.0.1: IP address "
                                 "mismatch"),
                 qPrintable(events));
    }

    // A node whose certificate has expired, with tls.verify and that very certificate trusted:
    // the session ends as "upstream certificate untrusted", and the event says it expired.
    void verifyRefusesExpiredCertificate()
    {
        QFETCH_GLOBAL(QString, loop);
        CertificateRequest request;
        request.names = {QStringLiteral("localhost")};
        request.days = 5;
        request.notBefore = QDateTime::currentDateTimeUtc().addDays(-10);
        const GeneratedCertificate expired = createSelfSigned(request);
        QVERIFY(expired.ok());
        for (const auto& [ext, pem] :
             {std::pair{"crt", expired.certPem}, {"key", expired.keyPem}}) {
            QFile file(m_certs.path("expired", ext));
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(pem.toLatin1());
        }
        SServer server(kLocal, {"-cert", m_certs.path("expired", "crt"), "-key",
                                m_certs.path("expired", "key")});
        QVERIFY2(server.ok(), qPrintable(server.output()));
        Engine engine(options(loop));
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << listenEntry(kLocal, port);
        Upstream up = tlsUpstream({node(QStringLiteral("localhost"), server.port())});
        up.tls = UpstreamTls{};
        up.tls->verify = true;
        c.streamRoutes << route("r", up);
        c.streamgate.sslTrustedCertificate = m_certs.path("expired", "crt");
        engine.apply(c);
        QCOMPARE(lineVia(port, "expired"), QByteArray());
        QTRY_VERIFY_WITH_TIMEOUT(closedOn(engine.snapshot(), "r"), 5000);
        QVERIFY(closedOn(engine.snapshot(), "r")->closeReason ==
                CloseReason::UpstreamCertUntrusted);
        const QString events = infoTexts(engine);
        QVERIFY2(events.contains(
                     "upstream certificate verify failed for localhost: certificate has expired"),
                 qPrintable(events));
    }

    // upstream-mtls.t: an upstream that requires a client certificate (s_server -Verify) takes
    // the one of tls.client_cert/client_key, and the one of the ssl of type client that
    // tls.client_cert_id names; without one, or with one of another CA, the session is refused
    // as "client certificate refused by upstream".
    void upstreamMutualTls()
    {
        QFETCH_GLOBAL(QString, loop);
        SServer server(kLocal, {"-cert", m_certs.path("node", "crt"), "-key",
                                m_certs.path("node", "key"), "-Verify", "1", "-CAfile",
                                m_certs.path("ca", "crt"), "-verify_return_error"});
        QVERIFY2(server.ok(), qPrintable(server.output()));
        Engine engine(options(loop));
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << listenEntry(kLocal, port);
        Upstream up = tlsUpstream({node(kLocal, server.port())});
        up.tls = UpstreamTls{};
        up.tls->clientCert = m_certs.pem("alice", "crt");
        up.tls->clientKey = m_certs.pem("alice", "key");
        c.streamRoutes << route("r", up);
        engine.apply(c);
        QCOMPARE(lineVia(port, "with client_cert"), reversed("with client_cert"));
        QTRY_VERIFY_WITH_TIMEOUT(closedOn(engine.snapshot(), "r"), 5000);
        QVERIFY(closedOn(engine.snapshot(), "r")->upstreamTls->clientCertificate);

        // client_cert_id: an ssl of type client.
        c.ssls << ssl(m_certs, "client-alice", "alice", "client");
        c.streamRoutes[0].upstream->tls = UpstreamTls{};
        c.streamRoutes[0].upstream->tls->clientCertId = QJsonValue("client-alice");
        engine.apply(c);
        QCOMPARE(lineVia(port, "with client_cert_id"), reversed("with client_cert_id"));

        // None: TLS 1.3 finishes the proxy's side of the handshake, then the upstream's alert
        // ends the session.
        c.streamRoutes[0].upstream->tls.reset();
        engine.apply(c);
        QCOMPARE(lineVia(port, "without"), QByteArray());
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 3, 5000);
        QVERIFY2(engine.snapshot().closed.last().closeReason ==
                     CloseReason::UpstreamClientCertRefused,
                 qPrintable(toString(engine.snapshot().closed.last().closeReason)));

        // Another CA's certificate.
        c.streamRoutes[0].upstream->tls = UpstreamTls{};
        c.streamRoutes[0].upstream->tls->clientCert = m_certs.pem("mallory", "crt");
        c.streamRoutes[0].upstream->tls->clientKey = m_certs.pem("mallory", "key");
        engine.apply(c);
        QCOMPARE(lineVia(port, "mallory"), QByteArray());
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 4, 5000);
        QVERIFY(engine.snapshot().closed.last().closeReason ==
                CloseReason::UpstreamClientCertRefused);
        const QString events = infoTexts(engine);
        QVERIFY2(events.contains("the upstream asked for a client certificate and its tls has "
                                 "none"),
                 qPrintable(events));
        QVERIFY2(events.contains("the upstream refused the client certificate of "
                                 "tls.client_cert"),
                 qPrintable(events));
    }

    // A node that does not speak TLS fails its handshake like a refused connect: the next node
    // is tried (retries), the failure is counted on the node and said in an event.
    void handshakeFailureRetriesNextNode()
    {
        QFETCH_GLOBAL(QString, loop);
        auto plain = greeter("not TLS at all\r\n");
        SServer server(kLocal,
                       {"-cert", m_certs.path("node", "crt"), "-key", m_certs.path("node", "key")});
        QVERIFY2(server.ok(), qPrintable(server.output()));
        Engine engine(options(loop));
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << listenEntry(kLocal, port);
        Upstream up =
            tlsUpstream({node(kLocal, plain->port(), 1, 10), node(kLocal, server.port())});
        up.retries = 1;
        c.streamRoutes << route("r", up);
        engine.apply(c);
        QCOMPARE(lineVia(port, "second node"), reversed("second node"));
        QTRY_VERIFY_WITH_TIMEOUT(closedOn(engine.snapshot(), "r"), 5000);
        const ConnectionInfo conn = *closedOn(engine.snapshot(), "r");
        QCOMPARE(conn.failedUpstreams,
                 QStringList{QStringLiteral("127.0.0.1:%1").arg(plain->port())});
        QVERIFY(conn.upstreamTls->used);
        const QString events = infoTexts(engine);
        QVERIFY2(events.contains(QStringLiteral("TLS to upstream 127.0.0.1:%1 failed: TLS "
                                                "handshake with the upstream failed")
                                     .arg(plain->port())),
                 qPrintable(events));
        const QString plainNode = QStringLiteral("127.0.0.1:%1").arg(plain->port());
        const auto failuresOf = [&](const Snapshot& s) {
            for (const NodeStatus& n : s.nodes)
                if (n.node == plainNode)
                    return n.failures;
            return quint64(0);
        };
        QCOMPARE(failuresOf(engine.snapshot()), quint64(1));

        // With checks.passive, one failed handshake marks the node down, and the next client
        // goes to the TLS node at once.
        c.streamRoutes[0].upstream->checks = ActiveHealthCheck{};
        c.streamRoutes[0].upstream->checks->type = QStringLiteral("tcp");
        c.streamRoutes[0].upstream->checks->healthyInterval = 60;
        c.streamRoutes[0].upstream->checks->healthySuccesses = 10;
        c.streamRoutes[0].upstream->checks->unhealthyInterval = 60;
        c.streamRoutes[0].upstream->passiveChecks = PassiveHealthCheck{1, 1, {}};
        engine.apply(c);
        QCOMPARE(lineVia(port, "marks it down"), reversed("marks it down"));
        const auto healthyOf = [&](const Snapshot& s) {
            for (const NodeStatus& n : s.nodes)
                if (n.node == plainNode)
                    return n.healthy;
            return true;
        };
        QTRY_VERIFY_WITH_TIMEOUT(!healthyOf(engine.snapshot()), 5000);
        QCOMPARE(lineVia(port, "straight to TLS"), reversed("straight to TLS"));
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 3, 5000);
        QVERIFY(engine.snapshot().closed.last().failedUpstreams.isEmpty());
    }

    // tls_passthrough: one port, two TLS services chosen by the ClientHello's SNI, each
    // presenting its own certificate end to end (the proxy holds no key); a plaintext client
    // and a ClientHello without SNI are refused with reasons that say so.
    void passthroughBySni()
    {
        QFETCH_GLOBAL(QString, loop);
        SServer a(QStringLiteral("127.0.0.3"),
                  {"-cert", m_certs.path("a", "crt"), "-key", m_certs.path("a", "key")});
        SServer b(QStringLiteral("127.0.0.4"),
                  {"-cert", m_certs.path("b", "crt"), "-key", m_certs.path("b", "key")});
        QVERIFY2(a.ok() && b.ok(), qPrintable(a.output() + b.output()));
        Engine engine(options(loop));
        const int port = freePort();
        Config c;
        ListenEntry e = listenEntry(kLocal, port);
        e.tlsPassthrough = true;
        c.streamProxy.tcp << e;
        StreamRoute ra = route("a", upstream({node(QStringLiteral("127.0.0.3"), a.port())}));
        ra.sni = QStringLiteral("a.example.com");
        StreamRoute rb = route("b", upstream({node(QStringLiteral("127.0.0.4"), b.port())}));
        rb.sni = QStringLiteral("*.example.com");
        c.streamRoutes << ra << rb;
        engine.apply(c);

        QString out = opensslClient(port, "a.example.com", m_certs.path("ca", "crt"));
        QVERIFY2(out.contains("CN = a.example.com") && out.contains("Verify return code: 0 (ok)") &&
                     out.contains("gnip"),
                 qPrintable(out));
        out = opensslClient(port, "b.example.com", m_certs.path("ca", "crt"));
        QVERIFY2(out.contains("CN = b.example.com") && out.contains("gnip"), qPrintable(out));
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 2, 5000);
        const ConnectionInfo conn = *closedOn(engine.snapshot(), "a");
        QVERIFY(conn.tls->passthrough && !conn.tls->terminated);
        QCOMPARE(conn.tls->sni, QStringLiteral("a.example.com"));
        QCOMPARE(connectionToJson(conn).value("tls").toObject().value("passthrough").toBool(),
                 true);

        ReadEnd end;
        QCOMPARE(
            sendAndRead(kLocal, port, QStringLiteral("127.0.0.2"), "GET / HTTP/1.0\r\n\r\n", &end),
            QByteArray());
        opensslClient(port, QString(), m_certs.path("ca", "crt"));
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().denied.size(), 2, 5000);
        const Snapshot s = engine.snapshot();
        bool notTls = false;
        bool noSni = false;
        for (const DeniedClient& d : s.denied) {
            notTls = notTls || d.reason == CloseReason::TlsNoClientHello;
            noSni = noSni || d.reason == CloseReason::TlsNoSni;
        }
        QVERIFY(notTls && noSni);
        const QString why = denyTexts(engine.eventsSince(0, 1000));
        QVERIFY2(why.contains("not a TLS handshake record"), qPrintable(why));
        QVERIFY2(why.contains("the ClientHello has no SNI"), qPrintable(why));
    }

    // A listener with both tls and tls_passthrough: a route with tls_passthrough passes its
    // clients through; the others are terminated with the proxy's own certificate.
    void mixedListenerRouteDecides()
    {
        QFETCH_GLOBAL(QString, loop);
        SServer a(QStringLiteral("127.0.0.3"),
                  {"-cert", m_certs.path("a", "crt"), "-key", m_certs.path("a", "key")});
        QVERIFY2(a.ok(), qPrintable(a.output()));
        auto plain = greeter("terminated here\n");
        Engine engine(options(loop));
        const int port = freePort();
        Config c;
        ListenEntry e = listenEntry(kLocal, port);
        e.tls = true;
        e.tlsPassthrough = true;
        c.streamProxy.tcp << e;
        c.ssls << ssl(m_certs, "b", "b", "server", {"b.example.com"});
        StreamRoute ra = route("a", upstream({node(QStringLiteral("127.0.0.3"), a.port())}));
        ra.sni = QStringLiteral("a.example.com");
        ra.tlsPassthrough = true;
        StreamRoute rb = route("b", upstream({node(kLocal, plain->port())}));
        rb.sni = QStringLiteral("b.example.com");
        c.streamRoutes << ra << rb;
        engine.apply(c);

        QString out = opensslClient(port, "a.example.com", m_certs.path("ca", "crt"));
        QVERIFY2(out.contains("CN = a.example.com") && out.contains("gnip"), qPrintable(out));
        out = opensslClient(port, "b.example.com", m_certs.path("ca", "crt"));
        QVERIFY2(out.contains("CN = b.example.com") && out.contains("terminated here"),
                 qPrintable(out));
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 2, 5000);
        QVERIFY(closedOn(engine.snapshot(), "a")->tls->passthrough);
        QVERIFY(closedOn(engine.snapshot(), "b")->tls->terminated);
    }
};

QTEST_GUILESS_MAIN(TstEngineUpstreamTls)
#include "tst_engine_upstreamtls.moc"
