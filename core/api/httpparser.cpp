#include "api/httpparser.h"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace sg {

namespace {

// A chunk-size line is a hex number and optional extensions; nothing legitimate comes close.
constexpr qsizetype kMaxChunkLine = 1024;

bool isTokenChar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != 0 && std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool isToken(const QByteArray& text)
{
    return !text.isEmpty() && std::all_of(text.begin(), text.end(), isTokenChar);
}

// Field values: visible characters, spaces, tabs and obs-text (bytes >= 0x80).
bool isFieldValue(const QByteArray& text)
{
    return std::all_of(text.begin(), text.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u == '\t' || (u >= 0x20 && u != 0x7f);
    });
}

QByteArray trimmedSpaces(const QByteArray& text)
{
    qsizetype begin = 0;
    qsizetype end = text.size();
    while (begin < end && (text.at(begin) == ' ' || text.at(begin) == '\t'))
        ++begin;
    while (end > begin && (text.at(end - 1) == ' ' || text.at(end - 1) == '\t'))
        --end;
    return text.mid(begin, end - begin);
}

// A value as it may appear in a message: printable, and cut short when long.
QString shown(const QByteArray& value)
{
    QByteArray text = value.left(64);
    for (char& c : text)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            c = '?';
    return QString::fromLatin1(text) + (value.size() > 64 ? QStringLiteral("...") : QString());
}

// A decimal Content-Length; saturates at INT64_MAX (still larger than any limit).
bool parseLength(const QByteArray& text, qint64* out)
{
    if (text.isEmpty())
        return false;
    qint64 value = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return false;
        value = value > (INT64_MAX - 9) / 10 ? INT64_MAX : value * 10 + (c - '0');
    }
    *out = value;
    return true;
}

} // namespace

QByteArray HttpHead::value(const QByteArray& name) const
{
    for (const auto& [key, value] : headers)
        if (key.compare(name, Qt::CaseInsensitive) == 0)
            return value;
    return {};
}

HttpRequestParser::Step HttpRequestParser::fail(int status, const QString& message)
{
    m_state = State::Failed;
    m_refusal = {status, message};
    m_body.clear();
    return Step::Refused;
}

HttpRequestParser::Step HttpRequestParser::failTooLarge(qint64 bodyBytes, const QString& message)
{
    fail(413, message);
    m_refusal.bodyBytes = bodyBytes;
    return Step::Refused;
}

void HttpRequestParser::refuse(int status, const QString& message)
{
    fail(status, message);
}

void HttpRequestParser::next()
{
    m_state = State::Start;
    m_head = {};
    m_raw.clear();
    m_line.clear();
    m_body.clear();
    m_left = 0;
    m_trailerBytes = 0;
    m_refusal = {};
}

bool HttpRequestParser::takeLine(const char* data, qsizetype size, qsizetype* pos, qsizetype limit,
                                 bool* over)
{
    const char* begin = data + *pos;
    const char* newline = static_cast<const char*>(std::memchr(begin, '\n', size_t(size - *pos)));
    const qsizetype take = newline ? newline - begin : size - *pos;
    if (m_line.size() + take > limit) {
        *over = true;
        return false;
    }
    m_line.append(begin, take);
    *pos += take;
    if (!newline)
        return false;
    ++*pos; // the '\n'
    if (m_line.endsWith('\r'))
        m_line.chop(1);
    return true;
}

HttpRequestParser::Step HttpRequestParser::feed(const char* data, qsizetype size, qsizetype* used)
{
    qsizetype pos = 0;
    const auto done = [&](Step step) {
        *used = pos;
        return step;
    };
    for (;;) {
        switch (m_state) {
        case State::Start:
            // Empty lines before a request line are ignored (RFC 9112, 2.2).
            while (pos < size && (data[pos] == '\r' || data[pos] == '\n'))
                ++pos;
            if (pos == size)
                return done(Step::NeedMore);
            m_state = State::Head;
            break;
        case State::Head: {
            const qsizetype before = m_raw.size();
            const qsizetype room = m_limits.maxHeadBytes - before;
            m_raw.append(data + pos, std::min(room, size - pos));
            // The head ends with an empty line: "\n\n" or "\n\r\n". Search from where a
            // terminator cut by the previous piece may start.
            qsizetype end = -1;
            for (qsizetype i = std::max<qsizetype>(0, before - 2); i < m_raw.size(); ++i) {
                if (m_raw.at(i) != '\n')
                    continue;
                if (i + 1 < m_raw.size() && m_raw.at(i + 1) == '\n') {
                    end = i + 2;
                    break;
                }
                if (i + 2 < m_raw.size() && m_raw.at(i + 1) == '\r' && m_raw.at(i + 2) == '\n') {
                    end = i + 3;
                    break;
                }
            }
            if (end < 0) {
                pos += m_raw.size() - before;
                if (m_raw.size() >= m_limits.maxHeadBytes)
                    return done(fail(431, QStringLiteral("request line and header fields: more "
                                                         "than the %1-byte limit")
                                              .arg(m_limits.maxHeadBytes)));
                return done(Step::NeedMore);
            }
            pos += end - before;
            m_raw.truncate(end);
            return done(parseHead());
        }
        case State::Body:
        case State::ChunkData: {
            const qsizetype take = qsizetype(std::min<qint64>(m_left, size - pos));
            m_body.append(data + pos, take);
            pos += take;
            m_left -= take;
            if (m_left > 0)
                return done(Step::NeedMore);
            if (m_state == State::Body) {
                m_state = State::Done;
                return done(Step::Complete);
            }
            m_state = State::ChunkEnd;
            break;
        }
        case State::ChunkSize: {
            bool over = false;
            if (!takeLine(data, size, &pos, kMaxChunkLine, &over)) {
                if (over)
                    return done(fail(400, QStringLiteral("chunked body: chunk-size line longer "
                                                         "than %1 bytes")
                                              .arg(kMaxChunkLine)));
                return done(Step::NeedMore);
            }
            const QByteArray line = std::exchange(m_line, {});
            const qsizetype semicolon = line.indexOf(';');
            const QByteArray digits = trimmedSpaces(semicolon < 0 ? line : line.left(semicolon));
            qint64 chunk = 0;
            bool valid = !digits.isEmpty() && !line.contains('\r');
            for (char c : digits) {
                const int v = c >= '0' && c <= '9'   ? c - '0'
                              : c >= 'a' && c <= 'f' ? c - 'a' + 10
                              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                     : -1;
                if (v < 0) {
                    valid = false;
                    break;
                }
                chunk = chunk > (INT64_MAX >> 4) ? INT64_MAX : chunk * 16 + v;
            }
            if (!valid)
                return done(fail(400, QStringLiteral("chunked body: chunk size \"%1\" is not a "
                                                     "hexadecimal number")
                                          .arg(shown(line))));
            if (chunk > m_limits.maxBodyBytes - m_body.size())
                return done(failTooLarge(chunk > INT64_MAX - m_body.size() ? INT64_MAX
                                                                           : m_body.size() + chunk,
                                         QStringLiteral("request body: more than the %1-byte "
                                                        "limit")
                                             .arg(m_limits.maxBodyBytes)));
            if (chunk == 0) {
                m_state = State::Trailer;
            } else {
                m_left = chunk;
                m_state = State::ChunkData;
            }
            break;
        }
        case State::ChunkEnd: {
            bool over = false;
            if (!takeLine(data, size, &pos, 1, &over)) {
                if (over)
                    return done(
                        fail(400, QStringLiteral("chunked body: a chunk is longer than its size")));
                return done(Step::NeedMore);
            }
            if (!m_line.isEmpty())
                return done(
                    fail(400, QStringLiteral("chunked body: a chunk is longer than its size")));
            m_state = State::ChunkSize;
            break;
        }
        case State::Trailer: {
            // Trailer fields are read and dropped; they count against the head limit.
            bool over = false;
            const qsizetype before = pos;
            const bool line =
                takeLine(data, size, &pos, m_limits.maxHeadBytes - m_trailerBytes, &over);
            m_trailerBytes += pos - before;
            if (over || m_trailerBytes > m_limits.maxHeadBytes)
                return done(fail(431, QStringLiteral("chunked body: trailer fields: more than "
                                                     "the %1-byte limit")
                                          .arg(m_limits.maxHeadBytes)));
            if (!line)
                return done(Step::NeedMore);
            const QByteArray field = std::exchange(m_line, {});
            if (field.isEmpty()) {
                m_state = State::Done;
                return done(Step::Complete);
            }
            const qsizetype colon = field.indexOf(':');
            if (colon <= 0 || !isToken(field.left(colon)) || !isFieldValue(field.mid(colon + 1)))
                return done(fail(400, QStringLiteral("chunked body: malformed trailer field "
                                                     "\"%1\"")
                                          .arg(shown(field))));
            break;
        }
        case State::HeadReady:
            // The caller let the body come: its length is checked before any of it is read.
            if (!m_head.chunked && m_head.contentLength > m_limits.maxBodyBytes)
                return done(failTooLarge(m_head.contentLength,
                                         QStringLiteral("request body: Content-Length %1 is more "
                                                        "than the %2-byte limit")
                                             .arg(m_head.contentLength)
                                             .arg(m_limits.maxBodyBytes)));
            if (m_head.chunked) {
                m_state = State::ChunkSize;
            } else if (m_head.contentLength > 0) {
                m_left = m_head.contentLength;
                m_state = State::Body;
            } else {
                m_state = State::Done;
                return done(Step::Complete);
            }
            break;
        case State::Done:
            return done(Step::Complete);
        case State::Failed:
            return done(Step::Refused);
        }
    }
}

bool HttpRequestParser::parseRequestLine(const QByteArray& line)
{
    const QList<QByteArray> parts = line.split(' ');
    if (parts.size() != 3)
        return false;
    m_head.method = parts.at(0);
    m_head.target = parts.at(1);
    const QByteArray& version = parts.at(2);
    if (!isToken(m_head.method) || m_head.target.isEmpty())
        return false;
    for (char c : m_head.target) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f)
            return false;
    }
    if (version.size() != 8 || !version.startsWith("HTTP/") || version.at(6) != '.' ||
        version.at(5) < '0' || version.at(5) > '9' || version.at(7) < '0' || version.at(7) > '9')
        return false;
    m_head.minorVersion = version.at(7) - '0';
    return true;
}

HttpRequestParser::Step HttpRequestParser::parseHead()
{
    QList<QByteArray> lines = m_raw.split('\n');
    lines.resize(lines.size() - 2); // the empty line and what follows its '\n'
    for (QByteArray& line : lines) {
        if (line.endsWith('\r'))
            line.chop(1);
        if (line.contains('\r'))
            return fail(400, QStringLiteral("bare CR in the request head"));
    }
    const QByteArray requestLine = lines.takeFirst();
    if (!parseRequestLine(requestLine))
        return fail(400, QStringLiteral("malformed request line \"%1\"").arg(shown(requestLine)));
    if (!requestLine.endsWith("HTTP/1.0") && !requestLine.endsWith("HTTP/1.1"))
        return fail(505, QStringLiteral("HTTP version %1 is not supported (HTTP/1.0 and 1.1 are)")
                             .arg(shown(requestLine.mid(requestLine.lastIndexOf(' ') + 1))));
    if (!m_head.target.startsWith('/'))
        return fail(
            400,
            QStringLiteral("request target \"%1\" must start with /").arg(shown(m_head.target)));
    if (lines.size() > m_limits.maxHeaderFields)
        return fail(431,
                    QStringLiteral("more than %1 header fields").arg(m_limits.maxHeaderFields));

    int lengths = 0;
    int encodings = 0;
    int hosts = 0;
    for (const QByteArray& line : lines) {
        if (line.startsWith(' ') || line.startsWith('\t'))
            return fail(400, QStringLiteral("header field continued on the next line (obs-fold) "
                                            "is not accepted: \"%1\"")
                                 .arg(shown(line)));
        const qsizetype colon = line.indexOf(':');
        const QByteArray name = colon > 0 ? line.left(colon) : QByteArray();
        const QByteArray value = trimmedSpaces(line.mid(colon + 1));
        if (!isToken(name) || !isFieldValue(value))
            return fail(400, QStringLiteral("malformed header field \"%1\"").arg(shown(line)));
        m_head.headers.append({name, value});
        const QByteArray lower = name.toLower();
        if (lower == "content-length") {
            if (++lengths > 1)
                return fail(400, QStringLiteral("Content-Length: more than one field; the "
                                                "body's length would be ambiguous"));
            if (!parseLength(value, &m_head.contentLength))
                return fail(400, QStringLiteral("Content-Length: \"%1\" is not a decimal number")
                                     .arg(shown(value)));
        } else if (lower == "transfer-encoding") {
            if (++encodings > 1)
                return fail(400, QStringLiteral("Transfer-Encoding: more than one field"));
            if (value.toLower() != "chunked")
                return fail(501, QStringLiteral("Transfer-Encoding: \"%1\" is not supported "
                                                "(only chunked is)")
                                     .arg(shown(value)));
            m_head.chunked = true;
        } else if (lower == "host") {
            ++hosts;
        } else if (lower == "expect") {
            if (value.toLower() != "100-continue")
                return fail(417, QStringLiteral("Expect: \"%1\" cannot be met (only "
                                                "100-continue can)")
                                     .arg(shown(value)));
            m_head.expectContinue = true;
        } else if (lower == "connection") {
            for (const QByteArray& option : value.split(','))
                if (trimmedSpaces(option).toLower() == "close")
                    m_head.keepAlive = false;
        }
    }
    if (lengths > 0 && encodings > 0)
        return fail(400, QStringLiteral("Content-Length together with Transfer-Encoding: the "
                                        "body's length would be ambiguous"));
    if (m_head.chunked && m_head.minorVersion == 0)
        return fail(400, QStringLiteral("Transfer-Encoding: not allowed in HTTP/1.0"));
    if (hosts > 1)
        return fail(400, QStringLiteral("Host: more than one field"));
    if (hosts == 0 && m_head.minorVersion == 1)
        return fail(400, QStringLiteral("Host: missing (required in HTTP/1.1)"));
    if (m_head.minorVersion == 0)
        m_head.keepAlive = false;
    if (m_head.chunked)
        m_head.contentLength = 0;
    m_raw.clear();
    m_state = State::HeadReady;
    return Step::Head;
}

} // namespace sg
