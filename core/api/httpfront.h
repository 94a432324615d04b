#pragma once
// HttpFront serves one of Streamgate's HTTP control endpoints (admin API, metrics, and the APIs
// that come next) with every resource bounded before it is spent. It owns the listening socket
// and the connections; HttpRequestParser reads each request incrementally, and a request reaches
// the endpoint's handler only complete and checked. Before any body byte is read and before any
// "100 Continue", the Host must name the endpoint's address (DNS rebinding) and the endpoint's
// admission (its key check) must pass; the body's length is refused at header time beyond the
// endpoint's limit. Connections are capped per endpoint and per peer, each request must arrive
// within the read timeout and an idle keep-alive connection is closed after the idle timeout.
//
// Descriptors: the proxy keeps everything below its DescriptorBudget ceiling (proxy/worker.h)
// and leaves the numbers above it for the rest of the process. Each endpoint holds at most a
// share of the limit (a sixteenth, at most maxConnections) and at most reserveQuota descriptors
// above the ceiling, so no endpoint can take the reserve the others and config saves need. An
// accept() that fails for want of descriptors pauses accepting (100 ms, doubling up to 1 s)
// instead of retrying at once.

#include "api/httpparser.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QHash>
#include <QHostAddress>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QPair>
#include <QTimer>
#include <QUrl>
#include <QUrlQuery>
#include <functional>
#include <optional>

class QSocketNotifier;
class QTcpServer;

namespace sg {

struct HttpListen;

// The status codes, named as QtHttpServer names them.
enum class HttpStatus {
    Continue = 100,
    Ok = 200,
    Created = 201,
    Accepted = 202,
    NoContent = 204,
    MovedPermanently = 301,
    Found = 302,
    NotModified = 304,
    BadRequest = 400,
    Unauthorized = 401,
    Forbidden = 403,
    NotFound = 404,
    MethodNotAllowed = 405,
    NotAcceptable = 406,
    RequestTimeout = 408,
    Conflict = 409,
    Gone = 410,
    LengthRequired = 411,
    PreconditionFailed = 412,
    PayloadTooLarge = 413,
    UriTooLong = 414,
    UnsupportedMediaType = 415,
    ExpectationFailed = 417,
    MisdirectedRequest = 421,
    UnprocessableEntity = 422,
    Locked = 423,
    TooManyRequests = 429,
    RequestHeaderFieldsTooLarge = 431,
    InternalServerError = 500,
    NotImplemented = 501,
    BadGateway = 502,
    ServiceUnavailable = 503,
    GatewayTimeout = 504,
    HttpVersionNotSupported = 505,
    InsufficientStorage = 507,
};

QByteArray httpReasonPhrase(int status);

// A request as a handler sees it: head and body complete.
class HttpRequest
{
public:
    enum class Method { Unknown, Get, Put, Delete, Post, Head, Options, Patch, Connect, Trace };

    HttpRequest() = default;
    HttpRequest(const HttpHead& head, const QHostAddress& peer, const QHostAddress& local);

    Method method() const { return m_method; }
    const QByteArray& methodName() const { return m_head.method; }
    QUrl url() const { return m_url; } // path and query as sent (no scheme or host)
    QUrlQuery query() const { return QUrlQuery(m_url); }
    const QList<QPair<QByteArray, QByteArray>>& headers() const { return m_head.headers; }
    QByteArray value(const QByteArray& name) const { return m_head.value(name); }
    const HttpHead& head() const { return m_head; }
    QByteArray body() const { return m_body; }
    void setBody(QByteArray body) { m_body = std::move(body); }
    QHostAddress remoteAddress() const { return m_peer; }
    QHostAddress localAddress() const { return m_local; } // the address the client connected to

private:
    HttpHead m_head;
    Method m_method = Method::Unknown;
    QUrl m_url;
    QByteArray m_body;
    QHostAddress m_peer;
    QHostAddress m_local;
};

struct HttpResponse
{
    HttpStatus status = HttpStatus::Ok;
    QByteArray contentType;
    QByteArray body;
    QList<QPair<QByteArray, QByteArray>> headers; // besides Content-Type, -Length, Connection

    HttpResponse(HttpStatus status = HttpStatus::Ok) : status(status) {}
    HttpResponse(const QJsonObject& json, HttpStatus status = HttpStatus::Ok);
    HttpResponse(QByteArray contentType, QByteArray body, HttpStatus status = HttpStatus::Ok)
        : status(status), contentType(std::move(contentType)), body(std::move(body))
    {
    }
    void setHeader(const QByteArray& name, const QByteArray& value);
    QByteArray header(const QByteArray& name) const;
};

// What one endpoint plugs into the front.
struct HttpService
{
    HttpLimits limits;
    // At header time (the request's body empty, nothing read of it yet): a response refuses the
    // request at once, before any "100 Continue". Optional.
    std::function<std::optional<HttpResponse>(const HttpRequest&)> admit;
    std::function<HttpResponse(const HttpRequest&)> handle;
    // The front's own refusals (400, 408, 413, 421, 431, ...) in the endpoint's format.
    std::function<HttpResponse(const HttpRefusal&)> refuse;
    // Every answer to a request whose head was read (admitted, handled or refused) passes here
    // last, for headers the endpoint sets on all of them. Optional.
    std::function<void(const HttpRequest&, HttpResponse&)> finish;
};

struct HttpFrontOptions
{
    int maxConnections = 64;   // per endpoint (less under a low descriptor limit, see above)
    int maxPerPeer = 16;       // per client address
    int readTimeoutMs = 10000; // from a request's first byte to its last
    int idleTimeoutMs = 30000; // between requests on a kept-alive connection
    int lingerMs = 2000;       // reading and dropping a refused body after the answer
    int reserveQuota = 2;      // descriptors above the proxy's ceiling this endpoint may hold
};

// Whether a Host header value ("127.0.0.1:9180", "localhost", "[::1]") names `local`, the address
// the client connected to: that address itself, or localhost when it is loopback; any port.
bool hostNamesAddress(const QByteArray& host, const QHostAddress& local);
// Whether an Origin ("http://127.0.0.1:9180") is the endpoint's own: its host names `local`.
bool originNamesAddress(const QByteArray& origin, const QHostAddress& local);

class HttpFront final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpFront)

public:
    explicit HttpFront(HttpService service, const HttpFrontOptions& options = {},
                       QObject* parent = nullptr);
    ~HttpFront() override;

    // Binds listen ("<who> cannot listen on <address>: <reason>" in *error on failure).
    bool listen(const HttpListen& listen, const QString& who, QString* error);
    QHostAddress address() const { return m_address; }
    quint16 port() const { return m_port; }
    int connectionCount() const { return int(m_connections.size()); }

private:
    class Connection;
    friend class Connection;

    void acceptWaiting();
    void pauseAccepting(int error);
    bool admitDescriptor(int fd, const QHostAddress& peer, bool* inReserve) const;
    void countRefusal(const QHostAddress& peer);
    void forget(Connection* connection);

    HttpService m_service;
    HttpFrontOptions m_options;
    QString m_who;
    QTcpServer* m_server = nullptr; // binds; accepting is ours (see acceptWaiting)
    QSocketNotifier* m_notifier = nullptr;
    QTimer m_backoff;
    int m_backoffMs = 0;
    QHostAddress m_address;
    quint16 m_port = 0;
    QList<Connection*> m_connections;
    QHash<QHostAddress, int> m_perPeer;
    int m_inReserve = 0;
    qint64 m_refusedNow = 0;    // connections closed at once since the last log line
    QElapsedTimer m_refusalLog; // since that line
    bool m_closing = false;     // in the destructor: connections no longer report back
};

} // namespace sg
