#include "api/httpfront.h"

#include "config/logging.h"
#include "model/httplisten.h"
#include "proxy/worker.h"

#include <QJsonDocument>
#include <QLoggingCategory>
#include <QScopedValueRollback>
#include <QSocketNotifier>
#include <QTcpServer>
#include <QTcpSocket>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sg {

namespace {

// What one read takes from a connection (Qt's read buffer is capped at this as well, so a
// client that sends faster than requests are handled is slowed by TCP, not buffered).
constexpr qsizetype kReadChunk = 64 * 1024;
// Requests are not read while more than this of earlier answers waits to go out.
constexpr qint64 kMaxUnsentBytes = 1024 * 1024;
constexpr int kAcceptsPerPass = 32;
constexpr int kBackoffFirstMs = 100;
constexpr int kBackoffMaxMs = 1000;
// Refused connections are logged at most this often, with the count since the last line.
constexpr qint64 kRefusalLogMs = 10000;

int descriptorLimit()
{
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
        rl.rlim_cur > rlim_t(std::numeric_limits<int>::max()))
        return std::numeric_limits<int>::max();
    return int(rl.rlim_cur);
}

QHostAddress plainAddress(const QHostAddress& address)
{
    bool v4 = false;
    const quint32 ip = address.toIPv4Address(&v4);
    return v4 ? QHostAddress(ip) : address;
}

bool isDigits(const QByteArray& text)
{
    return !text.isEmpty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

HttpRequest::Method methodOf(const QByteArray& name)
{
    using M = HttpRequest::Method;
    static const QList<QPair<QByteArray, M>> known = {
        {"GET", M::Get},     {"PUT", M::Put},         {"DELETE", M::Delete},
        {"POST", M::Post},   {"HEAD", M::Head},       {"OPTIONS", M::Options},
        {"PATCH", M::Patch}, {"CONNECT", M::Connect}, {"TRACE", M::Trace},
    };
    for (const auto& [text, method] : known)
        if (text == name)
            return method;
    return M::Unknown;
}

} // namespace

QByteArray httpReasonPhrase(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 411:
        return "Length Required";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Payload Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 417:
        return "Expectation Failed";
    case 421:
        return "Misdirected Request";
    case 422:
        return "Unprocessable Entity";
    case 423:
        return "Locked";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    case 507:
        return "Insufficient Storage";
    default:
        return "Unknown";
    }
}

HttpRequest::HttpRequest(const HttpHead& head, const QHostAddress& peer, const QHostAddress& local)
    : m_head(head), m_method(methodOf(head.method)), m_peer(peer), m_local(local)
{
    const qsizetype question = head.target.indexOf('?');
    m_url.setPath(QString::fromUtf8(question < 0 ? head.target : head.target.left(question)),
                  QUrl::TolerantMode);
    if (question >= 0)
        m_url.setQuery(QString::fromUtf8(head.target.mid(question + 1)), QUrl::TolerantMode);
}

HttpResponse::HttpResponse(const QJsonObject& json, HttpStatus status)
    : status(status), contentType("application/json"),
      body(QJsonDocument(json).toJson(QJsonDocument::Compact))
{
}

void HttpResponse::setHeader(const QByteArray& name, const QByteArray& value)
{
    for (auto& [key, old] : headers) {
        if (key.compare(name, Qt::CaseInsensitive) == 0) {
            old = value;
            return;
        }
    }
    headers.append({name, value});
}

QByteArray HttpResponse::header(const QByteArray& name) const
{
    for (const auto& [key, value] : headers)
        if (key.compare(name, Qt::CaseInsensitive) == 0)
            return value;
    return {};
}

bool hostNamesAddress(const QByteArray& hostField, const QHostAddress& local)
{
    const QByteArray host = hostField.trimmed().toLower();
    QByteArray name;
    QByteArray port;
    if (host.startsWith('[')) {
        const qsizetype close = host.indexOf(']');
        if (close < 0)
            return false;
        name = host.mid(1, close - 1);
        const QByteArray rest = host.mid(close + 1);
        if (!rest.isEmpty() && (!rest.startsWith(':') || !isDigits(rest.mid(1))))
            return false;
    } else {
        const qsizetype colon = host.indexOf(':');
        name = colon < 0 ? host : host.left(colon);
        if (colon >= 0 && !isDigits(host.mid(colon + 1)))
            return false; // also a bare IPv6 address, which a Host must bracket
    }
    const QHostAddress own = plainAddress(local);
    if (name == "localhost")
        return own.isLoopback();
    QHostAddress address;
    if (name.isEmpty() || !address.setAddress(QString::fromLatin1(name)))
        return false; // a name: what a DNS-rebinding page sends
    return plainAddress(address) == own;
}

bool originNamesAddress(const QByteArray& origin, const QHostAddress& local)
{
    const QByteArray text = origin.trimmed().toLower();
    const qsizetype scheme = text.indexOf("://");
    if (scheme <= 0)
        return false; // "null" and anything else that is not scheme://host[:port]
    const QByteArray host = text.mid(scheme + 3);
    if (host.contains('/') || host.contains('@'))
        return false;
    return hostNamesAddress(host, local);
}

// One client connection: reads requests through the parser, answers them in order, and ends
// by answering, half-closing and dropping whatever the client still sends for a short while, so
// the client reads the answer instead of a reset.
class HttpFront::Connection final : public QObject
{
public:
    Connection(HttpFront& front, QTcpSocket* socket, const QHostAddress& peer, bool inReserve)
        : QObject(&front), m_front(front), m_socket(socket), m_peer(peer), m_inReserve(inReserve),
          m_parser(front.m_service.limits)
    {
        m_socket->setParent(this);
        m_socket->setReadBufferSize(kReadChunk);
        m_timer.setSingleShot(true);
        connect(&m_timer, &QTimer::timeout, this, [this] { expired(); });
        connect(m_socket, &QTcpSocket::readyRead, this, [this] { process(); });
        connect(m_socket, &QTcpSocket::bytesWritten, this, [this] { written(); });
        connect(m_socket, &QTcpSocket::disconnected, this, [this] { closeNow(); });
        // A client's FIN is followed by disconnected() once the answers went out.
        connect(m_socket, &QTcpSocket::errorOccurred, this,
                [this](QAbstractSocket::SocketError error) {
                    if (error != QAbstractSocket::RemoteHostClosedError)
                        closeNow();
                });
        m_timer.start(m_front.m_options.idleTimeoutMs);
    }

    ~Connection() override { m_front.forget(this); }

    const QHostAddress& peer() const { return m_peer; }
    bool inReserve() const { return m_inReserve; }

private:
    enum class Phase { Open, Closing, Lingering, Closed };

    void process()
    {
        if (m_phase != Phase::Open) {
            m_socket->readAll(); // a refused request's rest: dropped, never kept
            return;
        }
        if (m_busy)
            return;
        QScopedValueRollback busy(m_busy, true);
        while (m_phase == Phase::Open) {
            if (m_socket->bytesToWrite() > kMaxUnsentBytes)
                return; // resumed by written()
            if (m_needBytes && m_inPos == m_in.size()) {
                m_in = m_socket->read(kReadChunk);
                m_inPos = 0;
                if (m_in.isEmpty())
                    return;
            }
            const bool wasStarted = m_parser.started();
            qsizetype used = 0;
            const HttpRequestParser::Step step =
                m_parser.feed(m_in.constData() + m_inPos, m_in.size() - m_inPos, &used);
            m_inPos += used;
            if (!wasStarted && m_parser.started())
                m_timer.start(m_front.m_options.readTimeoutMs);
            switch (step) {
            case HttpRequestParser::Step::NeedMore:
                m_needBytes = true;
                break;
            case HttpRequestParser::Step::Head:
                m_needBytes = false;
                headArrived();
                break;
            case HttpRequestParser::Step::Complete:
                m_needBytes = false;
                requestArrived();
                break;
            case HttpRequestParser::Step::Refused:
                refuse(m_parser.refusal());
                return;
            }
        }
    }

    void headArrived()
    {
        const HttpHead& head = m_parser.head();
        const QHostAddress local = m_socket->localAddress();
        m_request = HttpRequest(head, m_peer, local);
        // HTTP/1.1 requires a Host (the parser saw to it); an HTTP/1.0 client may leave it out,
        // which no browser does.
        const bool hasHost = std::any_of(head.headers.begin(), head.headers.end(), [](auto& f) {
            return f.first.compare("Host", Qt::CaseInsensitive) == 0;
        });
        const QByteArray host = head.value("Host");
        if (hasHost && !hostNamesAddress(host, local)) {
            const QString own = plainAddress(local).toString();
            refuse(
                {421, QStringLiteral("Host \"%1\" does not name this endpoint: ask for %2%3 "
                                     "(requests for other names are refused against DNS "
                                     "rebinding)")
                          .arg(QString::fromLatin1(host.left(100)), own,
                               local.isLoopback() ? QStringLiteral(" or localhost") : QString())});
            return;
        }
        if (m_front.m_service.admit) {
            if (std::optional<HttpResponse> refusal = m_front.m_service.admit(m_request)) {
                m_parser.refuse(int(refusal->status), QString());
                answer(*refusal, true);
                return;
            }
        }
        const bool allowed = head.chunked || head.contentLength <= m_parser.limits().maxBodyBytes;
        if (head.expectContinue && head.minorVersion == 1 && head.hasBody() && allowed)
            m_socket->write("HTTP/1.1 100 Continue\r\n\r\n");
    }

    void requestArrived()
    {
        m_request.setBody(m_parser.takeBody());
        const bool close = !m_parser.head().keepAlive;
        const bool head = m_request.method() == HttpRequest::Method::Head;
        const HttpResponse response = m_front.m_service.handle(m_request);
        m_parser.next();
        answer(response, close, !head);
        m_request = {};
        if (!close)
            m_timer.start(m_front.m_options.idleTimeoutMs);
    }

    void refuse(const HttpRefusal& refusal) { answer(m_front.m_service.refuse(refusal), true); }

    // m_request: the request answered (no method when its head was not read).
    void answer(HttpResponse response, bool close, bool withBody = true)
    {
        if (m_front.m_service.finish && !m_request.methodName().isEmpty())
            m_front.m_service.finish(m_request, response);
        QByteArray out = "HTTP/1.1 " + QByteArray::number(int(response.status)) + ' ' +
                         httpReasonPhrase(int(response.status)) + "\r\n";
        if (!response.contentType.isEmpty())
            out += "Content-Type: " + response.contentType + "\r\n";
        for (const auto& [name, value] : response.headers)
            out += name + ": " + value + "\r\n";
        out += "Content-Length: " + QByteArray::number(response.body.size()) + "\r\n";
        if (close)
            out += "Connection: close\r\n";
        out += "\r\n";
        if (withBody)
            out += response.body;
        m_socket->write(out);
        if (!close)
            return;
        // The answer has its read timeout to go out; then the client has lingerMs to stop.
        m_phase = Phase::Closing;
        m_timer.start(m_front.m_options.readTimeoutMs);
        m_socket->flush();
        written();
    }

    void written()
    {
        if (m_phase == Phase::Open) {
            if (!m_busy && m_socket->bytesToWrite() <= kMaxUnsentBytes)
                process(); // requests held back while answers piled up
            return;
        }
        if (m_phase != Phase::Closing || m_socket->bytesToWrite() > 0)
            return;
        m_phase = Phase::Lingering;
        ::shutdown(int(m_socket->socketDescriptor()), SHUT_WR);
        m_timer.start(m_front.m_options.lingerMs);
        process(); // drops what already arrived
    }

    void expired()
    {
        if (m_phase == Phase::Open && m_parser.started()) {
            refuse({408, QStringLiteral("the request was not complete within %1 ms")
                             .arg(m_front.m_options.readTimeoutMs)});
            return;
        }
        closeNow(); // idle, or the client did not take the answer or stop sending in time
    }

    void closeNow()
    {
        if (m_phase == Phase::Closed)
            return;
        m_phase = Phase::Closed;
        m_timer.stop();
        m_socket->abort();
        deleteLater();
    }

    HttpFront& m_front;
    QTcpSocket* m_socket;
    QHostAddress m_peer;
    bool m_inReserve;
    HttpRequestParser m_parser;
    HttpRequest m_request; // the head while its body is read
    QByteArray m_in;       // the last read; m_inPos onwards is not parsed yet
    qsizetype m_inPos = 0;
    bool m_needBytes = true;
    bool m_busy = false;
    Phase m_phase = Phase::Open;
    QTimer m_timer; // read, idle or closing deadline, by phase and parser state
};

HttpFront::HttpFront(HttpService service, const HttpFrontOptions& options, QObject* parent)
    : QObject(parent), m_service(std::move(service)), m_options(options)
{
    m_backoff.setSingleShot(true);
    connect(&m_backoff, &QTimer::timeout, this, [this] {
        if (m_notifier)
            m_notifier->setEnabled(true);
        acceptWaiting();
    });
}

HttpFront::~HttpFront()
{
    m_closing = true;
    qDeleteAll(std::exchange(m_connections, {}));
}

bool HttpFront::listen(const HttpListen& listen, const QString& who, QString* error)
{
    if (!listen.ok()) {
        *error = listen.error;
        return false;
    }
    m_who = who;
    auto* server = new QTcpServer(this);
    if (!server->listen(listen.address, listen.port)) {
        *error = QStringLiteral("%1 cannot listen on %2: %3")
                     .arg(who, listen.text(), server->errorString());
        delete server;
        return false;
    }
    // QTcpServer binds; accepting is ours: Qt 6.4 retries a failing accept() (EMFILE) on every
    // wake-up of its level-triggered notifier, a busy loop for as long as descriptors are short.
    server->pauseAccepting();
    m_server = server;
    m_address = server->serverAddress();
    m_port = server->serverPort();
    m_notifier = new QSocketNotifier(server->socketDescriptor(), QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, [this] { acceptWaiting(); });
    return true;
}

void HttpFront::acceptWaiting()
{
    const int listening = int(m_server->socketDescriptor());
    for (int i = 0; i < kAcceptsPerPass; ++i) {
        sockaddr_storage from{};
        socklen_t fromLength = sizeof from;
        const int fd = ::accept4(listening, reinterpret_cast<sockaddr*>(&from), &fromLength,
                                 SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                pauseAccepting(errno);
            return;
        }
        if (m_backoffMs > 0) {
            qCInfo(lcApi).noquote() << m_who << "accepts connections again";
            m_backoffMs = 0;
        }
        const QHostAddress peer = plainAddress(QHostAddress(reinterpret_cast<sockaddr*>(&from)));
        bool inReserve = false;
        if (!admitDescriptor(fd, peer, &inReserve)) {
            ::close(fd);
            countRefusal(peer);
            continue;
        }
        auto* socket = new QTcpSocket;
        if (!socket->setSocketDescriptor(fd)) {
            delete socket;
            ::close(fd);
            continue;
        }
        m_connections.append(new Connection(*this, socket, peer, inReserve));
        ++m_perPeer[peer];
        if (inReserve)
            ++m_inReserve;
    }
}

void HttpFront::pauseAccepting(int error)
{
    m_notifier->setEnabled(false);
    if (m_backoffMs == 0)
        qCWarning(lcApi).noquote()
            << m_who << "cannot accept connections:" << QString::fromLocal8Bit(std::strerror(error))
            << QStringLiteral("(descriptor limit %1); retrying after a pause")
                   .arg(descriptorLimitText());
    m_backoffMs = m_backoffMs > 0 ? std::min(m_backoffMs * 2, kBackoffMaxMs) : kBackoffFirstMs;
    m_backoff.start(m_backoffMs);
}

bool HttpFront::admitDescriptor(int fd, const QHostAddress& peer, bool* inReserve) const
{
    // The endpoint's share: a sixteenth of the limit, at least 4, at most maxConnections.
    const int share =
        std::max(1, std::min(m_options.maxConnections, std::max(4, descriptorLimit() / 16)));
    if (m_connections.size() >= share)
        return false;
    if (m_perPeer.value(peer) >= std::min(m_options.maxPerPeer, share))
        return false;
    DescriptorBudget proxy; // the ceiling the engine computes from the same limit
    proxy.init();
    *inReserve = !proxy.fits(fd);
    return !*inReserve || m_inReserve < m_options.reserveQuota;
}

void HttpFront::countRefusal(const QHostAddress& peer)
{
    ++m_refusedNow;
    if (m_refusalLog.isValid() && !m_refusalLog.hasExpired(kRefusalLogMs))
        return;
    qCWarning(lcApi).noquote() << m_who
                               << QStringLiteral(
                                      "refused %1 connection(s) beyond its limits (%2 open, the "
                                      "last from %3)")
                                      .arg(m_refusedNow)
                                      .arg(m_connections.size())
                                      .arg(peer.toString());
    m_refusedNow = 0;
    m_refusalLog.start();
}

void HttpFront::forget(Connection* connection)
{
    if (m_closing)
        return;
    m_connections.removeOne(connection);
    auto it = m_perPeer.find(connection->peer());
    if (it != m_perPeer.end() && --*it <= 0)
        m_perPeer.erase(it);
    if (connection->inReserve())
        --m_inReserve;
}

} // namespace sg
