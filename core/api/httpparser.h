#pragma once
// HttpRequestParser reads HTTP/1.x requests from a byte stream incrementally, with hard bounds
// checked before anything is buffered: the request line and headers together (431 beyond), the
// number of header fields, the body (413 at header time for a Content-Length over the limit,
// while reading for a chunked body), chunk-size lines. Ambiguous framing is refused (400):
// two Content-Length fields, Content-Length with Transfer-Encoding, a Transfer-Encoding other
// than chunked (501), obs-folded or malformed header lines, a missing or repeated Host on 1.1.
// The outcome never depends on how the stream was cut into pieces. No sockets here: the HTTP
// front (httpfront.h) feeds it and decides what to answer.

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>
#include <utility>

namespace sg {

struct HttpLimits
{
    // Request line and header fields, CRLFs included. 32 KiB: a PATCH sub path of 10,000
    // levels (20 KB) must still reach the admin API, which names the depth limit.
    qsizetype maxHeadBytes = 32 * 1024;
    int maxHeaderFields = 100;
    qsizetype maxBodyBytes = 1536 * 1024;
};

// A request's head, checked: one request line, each field once where the framing depends on it.
struct HttpHead
{
    QByteArray method; // as sent (a token)
    QByteArray target; // as sent, origin form ("/path?query")
    int minorVersion = 1;
    QList<QPair<QByteArray, QByteArray>>
        headers;              // names as sent, values without surrounding spaces
    qint64 contentLength = 0; // of the body; 0 when chunked (the length is not known yet)
    bool chunked = false;
    bool expectContinue = false;
    bool keepAlive = true; // HTTP/1.1 without "Connection: close"

    bool hasBody() const { return chunked || contentLength > 0; }
    // The first field of that name (case-insensitive), or a null QByteArray.
    QByteArray value(const QByteArray& name) const;
    bool operator==(const HttpHead&) const = default;
};

// Why a request was refused: the status to answer and a sentence naming the field and value.
struct HttpRefusal
{
    int status = 400;
    QString message;
    // A body over the limit (413): its size as far as it is known when refused, the
    // Content-Length, or a chunked body's bytes so far with the chunk that passes the limit.
    // -1 for any other refusal.
    qint64 bodyBytes = -1;
    bool operator==(const HttpRefusal&) const = default;
};

class HttpRequestParser
{
public:
    enum class Step {
        NeedMore, // every byte given was taken; give more
        Head,     // the head is complete (head()); the body, if any, comes next
        Complete, // the request is complete (head(), body()); call next() before the next one
        Refused,  // refusal() says why; the connection must be closed after answering
    };

    explicit HttpRequestParser(const HttpLimits& limits = {}) : m_limits(limits) {}

    // Takes bytes from data until the next step; *used says how many (the rest belongs to the
    // next step or to the next request). After Refused, nothing more is taken.
    Step feed(const char* data, qsizetype size, qsizetype* used);

    // The caller's own refusal at Head (e.g. a missing key): the parser takes no more bytes.
    void refuse(int status, const QString& message);

    // Ready for the next request on the same connection (after Complete).
    void next();

    // Whether any byte of a request has been taken since the last next() (a request is under way).
    bool started() const { return m_state != State::Start; }
    const HttpHead& head() const { return m_head; }
    const QByteArray& body() const { return m_body; }
    QByteArray takeBody() { return std::exchange(m_body, {}); }
    const HttpRefusal& refusal() const { return m_refusal; }
    const HttpLimits& limits() const { return m_limits; }

private:
    enum class State {
        Start,
        Head,
        HeadReady, // Head returned; the body's length is checked on the next feed()
        Body,
        ChunkSize,
        ChunkData,
        ChunkEnd,
        Trailer,
        Done,
        Failed
    };

    Step fail(int status, const QString& message);
    Step failTooLarge(qint64 bodyBytes, const QString& message); // 413
    Step parseHead();
    bool parseRequestLine(const QByteArray& line);
    // One CRLF- (or LF-) terminated line from data into m_line, bounded by `limit`. Returns
    // true with the line (without its terminator) once complete.
    bool takeLine(const char* data, qsizetype size, qsizetype* pos, qsizetype limit, bool* over);

    HttpLimits m_limits;
    State m_state = State::Start;
    HttpHead m_head;
    QByteArray m_raw;  // the head as received so far
    QByteArray m_line; // a chunk-size or trailer line as received so far
    QByteArray m_body;
    qint64 m_left = 0;            // bytes of the current chunk (or the whole body) still to read
    qsizetype m_trailerBytes = 0; // trailer bytes so far, counted against maxHeadBytes
    HttpRefusal m_refusal;
};

} // namespace sg
