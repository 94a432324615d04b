#include "api/cjsonerror.h"

#include <QByteArrayView>

namespace sg {

namespace {

// cjson's token types, in the order of its names (T_OBJ_BEGIN ... T_UNKNOWN).
enum class Token {
    ObjectBegin,
    ObjectEnd,
    ArrayBegin,
    ArrayEnd,
    String,
    Number,
    Integer,
    Boolean,
    Null,
    Colon,
    Comma,
    End,
    Whitespace,
    Error,
    Unknown
};

const char* tokenName(Token token)
{
    static const char* const names[] = {"T_OBJ_BEGIN",  "T_OBJ_END", "T_ARR_BEGIN", "T_ARR_END",
                                        "T_STRING",     "T_NUMBER",  "T_INTEGER",   "T_BOOLEAN",
                                        "T_NULL",       "T_COLON",   "T_COMMA",     "T_END",
                                        "T_WHITESPACE", "T_ERROR",   "T_UNKNOWN"};
    return names[int(token)];
}

// cjson's default nesting limit (decode_max_depth).
constexpr int kMaxDepth = 1000;

struct Scanned
{
    Token type = Token::End;
    qsizetype index = 0;         // where the token (or the error) starts
    const char* error = nullptr; // Token::Error: what is wrong
};

bool isHex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

class Reader
{
public:
    explicit Reader(const QByteArray& text) : m_text(text) {}

    QString decode()
    {
        if (m_text.size() >= 2 && (m_text.at(0) == '\0' || m_text.at(1) == '\0'))
            return QStringLiteral("JSON parser does not support UTF-16 or UTF-32");
        if (!value(next()))
            return m_error;
        const Scanned end = next();
        if (end.type != Token::End)
            return expected("the end", end);
        return {};
    }

private:
    // A C string ends at its first NUL, and so does cjson's reading.
    char at(qsizetype i) const { return i < m_text.size() ? m_text.at(i) : '\0'; }

    Scanned fail(qsizetype index, const char* error)
    {
        m_pos = index;
        return Scanned{Token::Error, index, error};
    }

    Scanned next()
    {
        while (at(m_pos) == ' ' || at(m_pos) == '\t' || at(m_pos) == '\n' || at(m_pos) == '\r')
            ++m_pos;
        const qsizetype start = m_pos;
        const char c = at(m_pos);
        const auto single = [&](Token type) {
            ++m_pos;
            return Scanned{type, start};
        };
        switch (c) {
        case '\0':
            return Scanned{Token::End, start};
        case '{':
            return single(Token::ObjectBegin);
        case '}':
            return single(Token::ObjectEnd);
        case '[':
            return single(Token::ArrayBegin);
        case ']':
            return single(Token::ArrayEnd);
        case ',':
            return single(Token::Comma);
        case ':':
            return single(Token::Colon);
        case '"':
            return string(start);
        default:
            break;
        }
        if (c == '-' || c == '+' || isDigit(c))
            return number(start);
        for (const QByteArrayView word :
             {QByteArrayView("true"), QByteArrayView("false"), QByteArrayView("null")}) {
            if (QByteArrayView(m_text).sliced(start).startsWith(word)) {
                m_pos += word.size();
                return Scanned{word.front() == 'n' ? Token::Null : Token::Boolean, start};
            }
        }
        return fail(start, "invalid token");
    }

    Scanned string(qsizetype start)
    {
        ++m_pos;
        while (at(m_pos) != '"') {
            const char c = at(m_pos);
            if (c == '\0')
                return fail(m_pos, "unexpected end of string");
            if (c != '\\') {
                ++m_pos;
                continue;
            }
            const char e = at(m_pos + 1);
            if (e == 'u') {
                if (!unicodeEscape())
                    return fail(m_pos, "invalid unicode escape code");
                continue;
            }
            if (e == '\0' || !QByteArrayView("\"\\/bfnrt").contains(e))
                return fail(m_pos, "invalid escape code");
            m_pos += 2;
        }
        ++m_pos;
        return Scanned{Token::String, start};
    }

    // \uXXXX at m_pos, with its low surrogate when it is a high one; advances past it.
    bool unicodeEscape()
    {
        const auto code = [this](qsizetype at4) -> int {
            if (at(at4) != '\\' || at(at4 + 1) != 'u')
                return -1;
            int value = 0;
            for (int i = 0; i < 4; ++i) {
                const char h = at(at4 + 2 + i);
                if (!isHex(h))
                    return -1;
                value = value * 16 + (isDigit(h) ? h - '0' : (h | 0x20) - 'a' + 10);
            }
            return value;
        };
        const int first = code(m_pos);
        if (first < 0 || (first >= 0xDC00 && first <= 0xDFFF))
            return false;
        if (first >= 0xD800 && first <= 0xDBFF) {
            const int second = code(m_pos + 6);
            if (second < 0xDC00 || second > 0xDFFF)
                return false;
            m_pos += 12;
            return true;
        }
        m_pos += 6;
        return true;
    }

    // JSON's numbers only: a leading "+", leading zeros and hex are "invalid number", as with
    // cjson's strict numbers; the number ends where strtod would stop.
    Scanned number(qsizetype start)
    {
        qsizetype p = start;
        if (at(p) == '+')
            return fail(start, "invalid number");
        if (at(p) == '-')
            ++p;
        if (at(p) == '0' && ((at(p + 1) | 0x20) == 'x' || isDigit(at(p + 1))))
            return fail(start, "invalid number");
        qsizetype digits = 0;
        for (; isDigit(at(p)); ++p)
            ++digits;
        bool fraction = false;
        if (at(p) == '.') {
            fraction = true;
            for (++p; isDigit(at(p)); ++p)
                ++digits;
        }
        if (digits == 0)
            return fail(start, "invalid number");
        if ((at(p) | 0x20) == 'e') {
            qsizetype q = p + 1;
            if (at(q) == '+' || at(q) == '-')
                ++q;
            if (isDigit(at(q))) {
                while (isDigit(at(q)))
                    ++q;
                p = q;
                fraction = true;
            }
        }
        m_pos = p;
        return Scanned{fraction ? Token::Number : Token::Integer, start};
    }

    QString expected(const char* what, const Scanned& found)
    {
        return QStringLiteral("Expected %1 but found %2 at character %3")
            .arg(QLatin1String(what),
                 QLatin1String(found.type == Token::Error ? found.error : tokenName(found.type)))
            .arg(found.index + 1);
    }

    bool failWith(const QString& error)
    {
        m_error = error;
        return false;
    }

    bool descend()
    {
        if (++m_depth <= kMaxDepth)
            return true;
        return failWith(QStringLiteral("Found too many nested data structures (%1) at character %2")
                            .arg(m_depth)
                            .arg(m_pos));
    }

    bool value(const Scanned& token)
    {
        switch (token.type) {
        case Token::String:
        case Token::Number:
        case Token::Integer:
        case Token::Boolean:
        case Token::Null:
            return true;
        case Token::ObjectBegin:
            return container(Token::ObjectEnd);
        case Token::ArrayBegin:
            return container(Token::ArrayEnd);
        default:
            return failWith(expected("value", token));
        }
    }

    // The members of an object (end ObjectEnd: "key": value pairs) or an array, as cjson reads
    // them.
    bool container(Token end)
    {
        const bool object = end == Token::ObjectEnd;
        if (!descend())
            return false;
        Scanned token = next();
        if (token.type == end) {
            --m_depth;
            return true;
        }
        while (true) {
            if (object) {
                if (token.type != Token::String)
                    return failWith(expected("object key string", token));
                token = next();
                if (token.type != Token::Colon)
                    return failWith(expected("colon", token));
                token = next();
            }
            if (!value(token))
                return false;
            token = next();
            if (token.type == end) {
                --m_depth;
                return true;
            }
            if (token.type != Token::Comma)
                return failWith(
                    expected(object ? "comma or object end" : "comma or array end", token));
            token = next();
        }
    }

    const QByteArray& m_text;
    qsizetype m_pos = 0;
    int m_depth = 0;
    QString m_error;
};

} // namespace

QString cjsonDecodeError(const QByteArray& body)
{
    return Reader(body).decode();
}

} // namespace sg
