#pragma once
// TLS termination on stream_proxy.tcp entries with `tls: true`, as APISIX does it with its ssl
// objects. TlsServer is the config's server certificates compiled for the workers (built on the
// engine thread, immutable, shared by every worker through the RouteTable). Each connection gets
// an OpenSSL SSL object over two memory BIOs: the worker reads the socket, feeds the bytes to
// OpenSSL and writes what OpenSSL produced, so OpenSSL never touches a descriptor and every
// read and write stays the epoll loop's (TlsHandshakeSession for the handshake, the TlsLink
// filters for the session). The certificate is chosen in the ClientHello callback by the SNI
// the client sent, as APISIX's radixtree_sni matches it: an exact name first, then the wildcard
// with the longest suffix ("*.example.com" stands for one more label: a.example.com, not
// a.b.example.com), then "*"; no SNI or no match fails the handshake. The chosen ssl object's
// ssl_protocols (default TLSv1.2 and TLSv1.3, as APISIX's) and client.ca (mTLS: a certificate
// is required and verified to client.depth) apply to that connection only.
// Resumption by stateless session tickets only (one per handshake, no server-side cache; the
// ticket key is this object's, so tickets end when the ssls change). The ticket is also what
// answers a TLS 1.3 client's Finished at once: without a server write there, a client with
// Nagle on waits for the delayed ACK (40 ms) before its first bytes. A resumed session keeps
// the client certificate verified in its full handshake, as nginx's do.

#include "model/streamroute.h"

#include <QString>
#include <memory>
#include <vector>

using SSL = struct ssl_st;
using SSL_CTX = struct ssl_ctx_st;

namespace sg {

struct TlsCertificate;

class TlsServer
{
public:
    // The enabled server certificates of `ssls` (type server, status 1). Objects whose PEM does
    // not load are left out and named in problems() (the config check refuses them first).
    explicit TlsServer(const QList<Ssl>& ssls);
    ~TlsServer();
    Q_DISABLE_COPY_MOVE(TlsServer)

    // The ssls it was built from, to reuse it while they do not change.
    const QList<Ssl>& source() const { return m_source; }
    const QStringList& problems() const { return m_problems; }
    bool empty() const { return m_certificates.empty(); }

    // A new server-side connection over fresh memory BIOs (any worker thread); nullptr when
    // OpenSSL is out of memory.
    SSL* newConnection() const;

    // The certificate APISIX would present for `sni` (lower case, no trailing dot); nullptr
    // for none.
    const TlsCertificate* certificateFor(const QString& sni) const;
    // What the client-hello callback found, for the handshake's error (TlsHandshakeSession).
    static QString sniOf(SSL* ssl);
    static bool noCertificate(SSL* ssl);

private:
    static int onClientHello(SSL* ssl, int* alert, void* arg);

    QList<Ssl> m_source;
    QStringList m_problems;
    std::vector<std::unique_ptr<TlsCertificate>> m_certificates;
    SSL_CTX* m_context = nullptr;
};

} // namespace sg
