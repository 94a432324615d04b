#include "proxy/resp.h"

#include <algorithm>
#include <cstring>

namespace sg {

namespace {

char lowerAscii(char c)
{
    return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c;
}

// RESP's decimal integers: an optional '-' and 1 to 18 digits. False on anything else.
bool parseInteger(std::string_view text, qint64& out)
{
    bool negative = false;
    if (!text.empty() && text.front() == '-') {
        negative = true;
        text.remove_prefix(1);
    }
    if (text.empty() || text.size() > 18)
        return false;
    qint64 value = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return false;
        value = value * 10 + (c - '0');
    }
    out = negative ? -value : value;
    return true;
}

constexpr std::size_t kMaxHeaderLine = 32; // "*1048576\r" and the like

} // namespace

std::string respLower(std::string_view text)
{
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), lowerAscii);
    return out;
}

// ---- RespCommandReader ----------------------------------------------------------------------

void RespCommandReader::lose(std::string why)
{
    m_why = std::move(why);
    m_buf.clear();
    m_buf.shrink_to_fit();
    m_inlineArgs.clear();
}

// Appends to m_buf up to and including '\n' (not kept); true once the line is complete.
bool RespCommandReader::readLine(const char* data, std::size_t len, std::size_t& used,
                                 std::size_t max)
{
    const char* nl = static_cast<const char*>(std::memchr(data + used, '\n', len - used));
    const std::size_t end = nl ? std::size_t(nl - data) : len;
    if (m_buf.size() + (end - used) > max) {
        lose(m_state == State::Inline ? "an inline command longer than 64 KiB"
                                      : "a header line that is not the Redis protocol");
        used = len;
        return false;
    }
    m_buf.append(data + used, end - used);
    used = end;
    if (!nl)
        return false;
    return true; // the '\n' is at data[used], still unused
}

void RespCommandReader::appendToLine(std::string_view text)
{
    if (m_line.size() >= kMaxLine)
        return;
    if (!m_line.empty())
        m_line += ' ';
    for (char c : text) {
        if (m_line.size() >= kMaxLine)
            break;
        m_line += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '.' : c;
    }
}

void RespCommandReader::completeElement(Event& event)
{
    if (m_element == 0) {
        m_name = respLower(m_arg.substr(0, kMaxName));
        m_line.clear();
        appendToLine(m_name);
        event = Event::Name;
    } else {
        m_argIndex = m_element - 1;
        appendToLine(m_arg.substr(0, 32));
        event = Event::Argument;
    }
    ++m_element;
    if (m_element == m_argCount + 1) {
        m_commandDone = true;
        m_state = State::Start;
    } else {
        m_state = State::Header;
    }
}

// The next event of a complete inline line (whose '\n' is data[0]).
std::size_t RespCommandReader::nextInline(Event& event)
{
    m_arg = std::move(m_inlineArgs[m_inlineNext]);
    m_argCut = false;
    if (m_arg.size() > kMaxArg) {
        m_arg.resize(kMaxArg);
        m_argCut = true;
    }
    ++m_inlineNext;
    completeElement(event);
    if (m_inlineNext < m_inlineArgs.size()) {
        m_state = State::Inline;
        return 0;
    }
    m_inlineArgs.clear();
    m_inlineNext = 0;
    m_buf.clear();
    return 1;
}

std::size_t RespCommandReader::feed(const char* data, std::size_t len, Event& event)
{
    event = Event::None;
    m_commandDone = false;
    if (lost())
        return len;
    if (m_inlineNext > 0)
        return nextInline(event);
    std::size_t used = 0;
    while (used < len && event == Event::None && !lost()) {
        switch (m_state) {
        case State::Start:
            m_buf.clear();
            m_element = 0;
            m_inline = data[used] != '*';
            if (m_inline) {
                m_state = State::Inline;
            } else {
                m_state = State::Count;
                ++used;
            }
            break;
        case State::Count: {
            if (!readLine(data, len, used, kMaxHeaderLine))
                break;
            ++used;
            qint64 count = 0;
            if (m_buf.empty() || m_buf.back() != '\r' ||
                !parseInteger(std::string_view(m_buf).substr(0, m_buf.size() - 1), count)) {
                lose("a multibulk length that is not a number");
                break;
            }
            if (count > kMaxArgs) {
                lose("more than 1048576 arguments in one command");
                break;
            }
            m_buf.clear();
            if (count <= 0) { // Redis ignores an empty multibulk
                m_state = State::Start;
                break;
            }
            m_argCount = std::size_t(count - 1);
            m_state = State::Header;
            break;
        }
        case State::Header: {
            if (!readLine(data, len, used, kMaxHeaderLine))
                break;
            ++used;
            qint64 size = 0;
            if (m_buf.size() < 2 || m_buf.front() != '$' || m_buf.back() != '\r' ||
                !parseInteger(std::string_view(m_buf).substr(1, m_buf.size() - 2), size) ||
                size < 0 || size > kMaxBulk) {
                lose("a bulk length that is not the Redis protocol");
                break;
            }
            m_buf.clear();
            m_arg.clear();
            m_argCut = false;
            m_bulkLeft = size;
            m_crlfSeen = 0;
            m_state = State::Body;
            break;
        }
        case State::Body: {
            const std::size_t take = std::size_t(std::min<qint64>(m_bulkLeft, qint64(len - used)));
            const std::size_t room = m_arg.size() < kMaxArg ? kMaxArg - m_arg.size() : 0;
            m_arg.append(data + used, std::min(take, room));
            if (take > room)
                m_argCut = true;
            used += take;
            m_bulkLeft -= qint64(take);
            if (m_bulkLeft == 0)
                m_state = State::BodyEnd;
            break;
        }
        case State::BodyEnd: {
            const char want = m_crlfSeen == 0 ? '\r' : '\n';
            if (data[used] != want) {
                lose("a bulk string not followed by CRLF");
                break;
            }
            ++used;
            if (++m_crlfSeen == 2)
                completeElement(event);
            break;
        }
        case State::Inline: {
            if (!readLine(data, len, used, kMaxInline))
                break;
            // data[used] is the '\n': split the line on spaces, as redis-cli's words.
            if (!m_buf.empty() && m_buf.back() == '\r')
                m_buf.pop_back();
            std::size_t at = 0;
            while (at < m_buf.size()) {
                while (at < m_buf.size() && (m_buf[at] == ' ' || m_buf[at] == '\t'))
                    ++at;
                std::size_t end = at;
                while (end < m_buf.size() && m_buf[end] != ' ' && m_buf[end] != '\t')
                    ++end;
                if (end > at)
                    m_inlineArgs.emplace_back(m_buf, at, end - at);
                at = end;
            }
            if (m_inlineArgs.empty()) { // an empty line: no command
                ++used;
                m_state = State::Start;
                break;
            }
            m_argCount = m_inlineArgs.size() - 1;
            return used + nextInline(event);
        }
        }
    }
    return lost() ? len : used;
}

// ---- RespReplyReader ------------------------------------------------------------------------

void RespReplyReader::lose(std::string why)
{
    m_why = std::move(why);
    m_stack.clear();
    m_buf.clear();
}

std::vector<RespReply> RespReplyReader::take()
{
    std::vector<RespReply> out;
    out.swap(m_done);
    return out;
}

// Reads up to '\n'; m_buf keeps the first kMaxError bytes, m_lineLen counts them all.
bool RespReplyReader::readLine(const char* data, std::size_t len, std::size_t& used)
{
    const char* nl = static_cast<const char*>(std::memchr(data + used, '\n', len - used));
    const std::size_t end = nl ? std::size_t(nl - data) : len;
    const std::size_t n = end - used;
    if (m_buf.size() < kMaxError)
        m_buf.append(data + used, std::min(n, kMaxError - m_buf.size()));
    m_lineLen += n;
    used = end;
    if (m_lineLen > kMaxLine) {
        lose("a reply line longer than 64 KiB");
        return false;
    }
    if (!nl)
        return false;
    ++used;
    return true;
}

bool RespReplyReader::atTopChild(std::size_t index) const
{
    return m_stack.size() == 1 && !m_stack.front().attribute && m_topIndex == index;
}

void RespReplyReader::scalar(char type, std::string_view text)
{
    if (m_stack.empty() && type == '-') {
        m_reply.error = true;
        m_reply.errorText = std::string(text.substr(0, kMaxError));
    } else if (type == '+' && atTopChild(0) && text.size() <= kMaxKind) {
        m_reply.kind = respLower(text);
    } else if (type == ':' && atTopChild(2)) {
        qint64 n = 0;
        if (parseInteger(text, n))
            m_reply.count = n;
    }
    elementDone();
}

void RespReplyReader::bulkDone()
{
    m_inBulk = false;
    if (m_stack.empty() && m_bulkIsError) {
        m_reply.error = true;
        m_reply.errorText = m_bulkKeep;
    } else if (!m_bulkIsError && atTopChild(0) && m_bulkKeep.size() <= kMaxKind) {
        m_reply.kind = respLower(m_bulkKeep);
    }
    m_bulkKeep.clear();
    elementDone();
}

void RespReplyReader::header()
{
    const std::size_t lineLen = m_lineLen;
    std::string line = std::move(m_buf);
    m_buf.clear();
    m_lineLen = 0;
    // A line longer than what m_buf keeps is fine for a simple string or an error only.
    const bool cut = lineLen > line.size();
    // Every reply line has its type byte; a complete one ends with "\r".
    if (line.size() < (cut ? 1u : 2u) ||
        (cut ? line.front() != '+' && line.front() != '-' : line.back() != '\r')) {
        lose("a reply line that is not the Redis protocol");
        return;
    }
    if (!cut)
        line.pop_back(); // the '\r'
    const char type = line.front();
    const std::string_view text = std::string_view(line).substr(1);
    switch (type) {
    case '+':
    case '-':
    case ':':
    case '_':
    case ',':
    case '#':
    case '(':
        scalar(type, text);
        return;
    case '$':
    case '!':
    case '=': {
        if (text == "?") {
            lose("a streamed RESP3 string");
            return;
        }
        qint64 size = 0;
        if (!parseInteger(text, size) || size < -1) {
            lose("a bulk length that is not the Redis protocol");
            return;
        }
        if (size == -1) { // RESP2's null bulk string
            elementDone();
            return;
        }
        m_inBulk = true;
        m_bodyLeft = size;
        m_crlfLeft = 2;
        m_bulkIsError = type == '!';
        m_bulkKeep.clear();
        return;
    }
    case '*':
    case '~':
    case '>':
    case '%':
    case '|': {
        if (text == "?") {
            lose("a streamed RESP3 aggregate");
            return;
        }
        qint64 n = 0;
        if (!parseInteger(text, n) || n < -1) {
            lose("an aggregate length that is not the Redis protocol");
            return;
        }
        if (type == '%' || type == '|')
            n *= 2;
        if (m_stack.empty()) {
            m_topIndex = 0;
            m_reply.push = type == '>';
        }
        if (n <= 0) { // empty or null (RESP2's *-1)
            if (type != '|')
                elementDone();
            return;
        }
        if (m_stack.size() >= kMaxDepth) {
            lose("replies nested more than 64 levels deep");
            return;
        }
        m_stack.push_back({n, type == '|'});
        return;
    }
    default:
        lose("bytes that are not a Redis reply");
        return;
    }
}

void RespReplyReader::elementDone()
{
    while (!m_stack.empty()) {
        Level& level = m_stack.back();
        --level.left;
        if (m_stack.size() == 1 && !level.attribute)
            ++m_topIndex;
        if (level.left > 0)
            return;
        const bool attribute = level.attribute;
        m_stack.pop_back();
        if (attribute) // an attribute describes the element after it; it is none itself
            return;
    }
    m_done.push_back(std::move(m_reply));
    m_reply = RespReply();
}

void RespReplyReader::feed(const char* data, std::size_t len)
{
    std::size_t used = 0;
    while (used < len && !lost()) {
        if (m_inBulk) {
            if (m_bodyLeft > 0) {
                const std::size_t take =
                    std::size_t(std::min<qint64>(m_bodyLeft, qint64(len - used)));
                if (m_bulkKeep.size() < kMaxError)
                    m_bulkKeep.append(data + used, std::min(take, kMaxError - m_bulkKeep.size()));
                used += take;
                m_bodyLeft -= qint64(take);
                continue;
            }
            if (data[used] != (m_crlfLeft == 2 ? '\r' : '\n')) {
                lose("a bulk string not followed by CRLF");
                break;
            }
            ++used;
            if (--m_crlfLeft == 0)
                bulkDone();
            continue;
        }
        if (readLine(data, len, used))
            header();
    }
}

} // namespace sg
