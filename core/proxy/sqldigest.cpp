#include "proxy/sqldigest.h"

#include "proxy/mysqlwire.h"

#include <algorithm>
#include <array>

// Three stages, each token passing through them once: a lexer that skips whitespace and
// comments and turns literals into "?", a sign stage that drops a unary + or - before a
// literal, and a VALUES stage that folds the rows after the first; the writer then joins the
// tokens with the canonical spacing and folds IN lists as their ")" arrives. The writer only
// appends, or cuts back to the start of an open IN list or of a trailing ";" run: once more
// than maxText bytes are final, the rest of the input cannot show and is not read.

namespace sg {

using mysqlwire::isSpace;

namespace {

enum class Kind : quint8 {
    None,
    Word,         // a name (t1, COUNT)
    Keyword,      // a word from kKeywords
    Name,         // `backtick name` or @variable, verbatim
    Literal,      // ?
    Ellipsis,     // ...
    Open,         // (
    Close,        // )
    Comma,        // ,
    Semicolon,    // ;
    Dot,          // .
    Cast,         // :: (Postgres), written without spaces around it
    Colon,        // : (Postgres): an array slice's bounds, arr[1:2]
    Bracket,      // [ (Postgres): a subscript, or an array constructor's list
    CloseBracket, // ]
    Op,           // anything else: operators, stray punctuation and control bytes
};

struct Token
{
    Kind kind = Kind::None;
    std::string_view text;
};

constexpr std::string_view kPlaceholder = "?";
constexpr std::string_view kEllipsis = "...";
constexpr std::string_view kComma = ",";

// Reserved words (never an unquoted name) after which a sign is unary and "(" is preceded by a
// space: they are followed by an expression, a list or a subquery, never called as a function.
constexpr auto kKeywords = std::to_array<std::string_view>({
    "ALL",    "AND",    "AS",     "BETWEEN", "BY",    "CASE",   "CHECK", "DEFAULT",
    "DIV",    "ELSE",   "ELSEIF", "EXISTS",  "FROM",  "HAVING", "IN",    "INTERVAL",
    "INTO",   "IS",     "JOIN",   "LIKE",    "LIMIT", "NOT",    "ON",    "OR",
    "REGEXP", "RETURN", "RLIKE",  "SELECT",  "SET",   "THEN",   "UNION", "USING",
    "VALUES", "WHEN",   "WHERE",  "WHILE",   "XOR",
});

constexpr std::array<std::string_view, 2> kOperators3 = {"<=>", "->>"};
constexpr std::array<std::string_view, 10> kOperators2 = {"<=", ">=", "<>", "!=", "<<",
                                                          ">>", "&&", "||", ":=", "->"};

bool isDigit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

bool isHexDigit(unsigned char c)
{
    return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Bytes of an unquoted name; every byte >= 0x80 counts, so a UTF-8 name is never split.
bool isIdent(unsigned char c)
{
    return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' ||
           c >= 0x80;
}

bool equalsUpper(std::string_view word, std::string_view upper)
{
    if (word.size() != upper.size())
        return false;
    for (std::size_t i = 0; i < word.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(word[i]);
        if (c >= 'a' && c <= 'z')
            c = static_cast<unsigned char>(c - 'a' + 'A');
        if (c != static_cast<unsigned char>(upper[i]))
            return false;
    }
    return true;
}

bool isKeyword(std::string_view word)
{
    if (word.size() > 8)
        return false;
    return std::any_of(kKeywords.begin(), kKeywords.end(),
                       [word](std::string_view k) { return equalsUpper(word, k); });
}

bool allOf(std::string_view s, bool (*pred)(unsigned char))
{
    return !s.empty() && std::all_of(s.begin(), s.end(), [pred](char c) {
        return pred(static_cast<unsigned char>(c));
    });
}

bool isBinaryDigit(unsigned char c)
{
    return c == '0' || c == '1';
}

bool isOctalDigit(unsigned char c)
{
    return c >= '0' && c <= '7';
}

// Digits with single underscores between them (Postgres 16: 1_000_000); after a radix prefix
// one may also come first (0x_1F).
bool isDigitGroup(std::string_view s, bool (*digit)(unsigned char), bool underscoreFirst)
{
    bool underscore = !underscoreFirst; // as if one had just been seen: none may come first
    for (char c : s) {
        if (c == '_') {
            if (underscore)
                return false;
            underscore = true;
        } else if (digit(static_cast<unsigned char>(c))) {
            underscore = false;
        } else {
            return false;
        }
    }
    return !s.empty() && !underscore;
}

// Postgres: the bytes its operators are made of. A lone ? is read as a placeholder all the
// same: digest texts are written with them, and the jsonb operator reads the same.
bool isOperatorByte(unsigned char c)
{
    return c != 0 && std::string_view("+-*/<>=~!@#%^&|`?").find(char(c)) != std::string_view::npos;
}

// Postgres: a name's first byte, and the bytes of a dollar quote's tag.
bool isTagByte(unsigned char c, bool first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80 ||
           (!first && isDigit(c));
}

class Lexer
{
public:
    Lexer(std::string_view sql, SqlDialect dialect)
        : m_s(sql), m_postgres(dialect == SqlDialect::Postgres)
    {
    }

    bool next(Token& token)
    {
        const bool gap = skipSpaceAndComments();
        if (m_p >= m_s.size())
            return false;
        token = scan(gap);
        m_prev = token.kind;
        return true;
    }

private:
    unsigned char at(std::size_t i) const
    {
        return i < m_s.size() ? static_cast<unsigned char>(m_s[i]) : 0;
    }
    bool has(std::size_t i) const { return i < m_s.size(); }

    void skipLine()
    {
        const std::size_t end = m_s.find('\n', m_p);
        m_p = end == std::string_view::npos ? m_s.size() : end + 1;
    }

    // True when anything was skipped.
    bool skipSpaceAndComments()
    {
        const std::size_t start = m_p;
        while (m_p < m_s.size()) {
            const unsigned char c = at(m_p);
            if (isSpace(c)) {
                ++m_p;
            } else if (m_postgres && c == '-' && at(m_p + 1) == '-') {
                skipLine();
            } else if (m_postgres && c == '/' && at(m_p + 1) == '*') {
                skipNestedComment();
            } else if (m_postgres) {
                break;
            } else if (c == '#') {
                skipLine();
            } else if (c == '-' && at(m_p + 1) == '-' && (!has(m_p + 2) || at(m_p + 2) <= 0x20)) {
                skipLine();
            } else if (c == '/' && at(m_p + 1) == '*') {
                const std::size_t end = m_s.find("*/", m_p + 2);
                m_p = end == std::string_view::npos ? m_s.size() : end + 2;
            } else {
                break;
            }
        }
        return m_p != start;
    }

    // Postgres: /* ... */ comments nest; an unterminated one ends the text.
    void skipNestedComment()
    {
        std::size_t depth = 0;
        while (m_p < m_s.size()) {
            if (at(m_p) == '/' && at(m_p + 1) == '*') {
                ++depth;
                m_p += 2;
            } else if (at(m_p) == '*' && at(m_p + 1) == '/') {
                m_p += 2;
                if (--depth == 0)
                    return;
            } else {
                ++m_p;
            }
        }
    }

    // Postgres at '$': a parameter ($1), a dollar-quoted string ($$...$$, $tag$...$tag$,
    // unterminated: to the end), else the byte alone.
    Token dollar()
    {
        const std::size_t start = m_p;
        if (isDigit(at(m_p + 1)) && has(m_p + 1)) {
            ++m_p;
            skipDigits();
            return {Kind::Literal, kPlaceholder};
        }
        std::size_t end = m_p + 1;
        if (isTagByte(at(end), true) && has(end)) {
            while (end < m_s.size() && isTagByte(at(end), false))
                ++end;
        }
        if (at(end) == '$' && has(end)) {
            const std::string_view tag = m_s.substr(start, end + 1 - start);
            const std::size_t close = m_s.find(tag, end + 1);
            m_p = close == std::string_view::npos ? m_s.size() : close + tag.size();
            return {Kind::Literal, kPlaceholder};
        }
        ++m_p;
        return {Kind::Op, m_s.substr(start, 1)};
    }

    // Postgres: the longest run of operator bytes, stopped by a comment's start; a run of more
    // than one byte ends in + or - only when it holds one of ~ ! @ # % ^ & | ` ?, as the server
    // reads it (so "=-1" is "=" and a sign, "?|" and "@?" are operators, a lone "?" is read as
    // a placeholder).
    Token postgresOperator()
    {
        const std::size_t start = m_p;
        if (start < m_signsEnd) {
            ++m_p; // one of the + and - cut off the end of a run: each is a run of its own
            return {Kind::Op, m_s.substr(start, 1)};
        }
        std::size_t end = m_p;
        while (end < m_s.size() && isOperatorByte(at(end))) {
            if (end > start &&
                ((at(end) == '-' && at(end + 1) == '-') || (at(end) == '/' && at(end + 1) == '*')))
                break;
            ++end;
        }
        std::string_view run = m_s.substr(start, end - start);
        if (run.find_first_of("~!@#%^&|`?") == std::string_view::npos) {
            while (run.size() > 1 && (run.back() == '+' || run.back() == '-'))
                run.remove_suffix(1);
            // Scanning what was cut off again for each of its bytes would make a long run of
            // signs quadratic: its end is remembered instead.
            m_signsEnd = end;
        }
        m_p = start + run.size();
        if (run == "?")
            return {Kind::Literal, kPlaceholder};
        return {Kind::Op, run};
    }

    // Postgres 16's numbers: 0x1F, 0o17, 0b101, and decimals with underscores between digits
    // (1_000_000, 1_000.5, 1e1_0); else, as in MySQL, a name that starts with digits.
    Token postgresNumber()
    {
        const std::size_t start = m_p;
        std::size_t end = m_p;
        while (end < m_s.size() && isIdent(at(end)))
            ++end;
        const std::string_view run = m_s.substr(start, end - start);
        m_p = end;
        const char radix = run.size() > 2 && run[0] == '0' ? char(run[1] | 0x20) : 0;
        if (radix == 'x' || radix == 'o' || radix == 'b') {
            const auto digit = radix == 'x'   ? isHexDigit
                               : radix == 'o' ? isOctalDigit
                                              : isBinaryDigit;
            return isDigitGroup(run.substr(2), digit, true) ? Token{Kind::Literal, kPlaceholder}
                                                            : Token{Kind::Word, run};
        }
        const std::size_t e = run.find_first_of("eE");
        if (!isDigitGroup(run.substr(0, e), isDigit, false))
            return {Kind::Word, run};
        if (e == std::string_view::npos) {
            if (at(m_p) == '.' && has(m_p) && m_s.substr(m_p, 3) != kEllipsis) {
                ++m_p;
                skipDigits();
            }
            skipExponent();
            return {Kind::Literal, kPlaceholder};
        }
        const std::string_view exponent = run.substr(e + 1);
        if (isDigitGroup(exponent, isDigit, false))
            return {Kind::Literal, kPlaceholder};
        if (exponent.empty() && (at(end) == '+' || at(end) == '-') && has(end) &&
            isDigit(at(end + 1)) && has(end + 1)) {
            m_p = end + 1;
            skipDigits();
            return {Kind::Literal, kPlaceholder};
        }
        return {Kind::Word, run};
    }

    // Postgres: what differs from MySQL; false when the byte reads the same in both.
    bool scanPostgres(Token& token)
    {
        const std::size_t start = m_p;
        const unsigned char c = at(m_p);
        auto quoted = [&](std::size_t prefix, bool backslash, Kind kind) {
            m_p += prefix;
            skipQuoted(backslash);
            token = kind == Kind::Literal ? Token{kind, kPlaceholder}
                                          : Token{kind, m_s.substr(start, m_p - start)};
            return true;
        };
        if (c == '"')
            return quoted(0, false, Kind::Name);
        if (c == '\'')
            return quoted(0, false, Kind::Literal);
        if (c == '$') {
            token = dollar();
            return true;
        }
        if (c == ':' && at(m_p + 1) == ':') {
            m_p += 2;
            token = {Kind::Cast, m_s.substr(start, 2)};
            return true;
        }
        if (c == ':' && at(m_p + 1) != '=') {
            ++m_p;
            token = {Kind::Colon, m_s.substr(start, 1)};
            return true;
        }
        if (c == '[' || c == ']') {
            ++m_p;
            token = {c == '[' ? Kind::Bracket : Kind::CloseBracket, m_s.substr(start, 1)};
            return true;
        }
        if (isOperatorByte(c)) {
            token = postgresOperator();
            return true;
        }
        if (isDigit(c)) {
            token = postgresNumber();
            return true;
        }
        const unsigned char next = at(m_p + 1);
        const bool nextQuote = next == '\'' && has(m_p + 1);
        if ((c == 'e' || c == 'E') && nextQuote)
            return quoted(1, true, Kind::Literal);
        if ((c == 'b' || c == 'B' || c == 'x' || c == 'X' || c == 'n' || c == 'N') && nextQuote)
            return quoted(1, false, Kind::Literal);
        if ((c == 'u' || c == 'U') && next == '&' && (at(m_p + 2) == '\'' || at(m_p + 2) == '"') &&
            has(m_p + 2))
            return quoted(2, false, at(m_p + 2) == '"' ? Kind::Name : Kind::Literal);
        return false;
    }

    // From an opening quote to just past its closing one (or the end): backslash escapes
    // where the quote kind has them, and a doubled quote inside.
    void skipQuoted(bool backslash)
    {
        const char quote = m_s[m_p++];
        while (m_p < m_s.size()) {
            const char c = m_s[m_p];
            if (backslash && c == '\\') {
                m_p = std::min(m_p + 2, m_s.size());
            } else if (c == quote) {
                if (at(m_p + 1) == static_cast<unsigned char>(quote) && has(m_p + 1)) {
                    m_p += 2;
                } else {
                    ++m_p;
                    return;
                }
            } else {
                ++m_p;
            }
        }
    }

    // Postgres 16 allows an underscore between two digits.
    void skipDigits()
    {
        while (has(m_p) &&
               (isDigit(at(m_p)) || (m_postgres && at(m_p) == '_' && m_p > 0 &&
                                     isDigit(at(m_p - 1)) && isDigit(at(m_p + 1)) && has(m_p + 1))))
            ++m_p;
    }

    // An exponent (e5, E-3) if one follows.
    void skipExponent()
    {
        const unsigned char c = at(m_p);
        if (c != 'e' && c != 'E')
            return;
        if (isDigit(at(m_p + 1)) && has(m_p + 1)) {
            m_p += 1;
        } else if ((at(m_p + 1) == '+' || at(m_p + 1) == '-') && isDigit(at(m_p + 2)) &&
                   has(m_p + 2)) {
            m_p += 2;
        } else {
            return;
        }
        skipDigits();
    }

    // At a digit: a number (1, 1.5, 1.5e3, 1e-3, 0x1F, 0b101) or a name that starts with
    // digits (1abc).
    Token numberOrWord()
    {
        const std::size_t start = m_p;
        std::size_t end = m_p;
        while (end < m_s.size() && isIdent(at(end)))
            ++end;
        const std::string_view run = m_s.substr(start, end - start);
        if (allOf(run, isDigit)) {
            m_p = end;
            if (at(m_p) == '.' && has(m_p) && m_s.substr(m_p, 3) != kEllipsis) {
                ++m_p;
                skipDigits();
            }
            skipExponent();
            return {Kind::Literal, kPlaceholder};
        }
        const bool hex = run.size() > 2 && run[0] == '0' && (run[1] == 'x' || run[1] == 'X') &&
                         allOf(run.substr(2), isHexDigit);
        const bool binary = run.size() > 2 && run[0] == '0' && (run[1] == 'b' || run[1] == 'B') &&
                            allOf(run.substr(2), isBinaryDigit);
        const std::size_t e = run.find_first_of("eE");
        const bool exponent = e != std::string_view::npos && e > 0 &&
                              allOf(run.substr(0, e), isDigit) &&
                              (allOf(run.substr(e + 1), isDigit) ||
                               (e + 1 == run.size() && (at(end) == '+' || at(end) == '-') &&
                                has(end) && isDigit(at(end + 1)) && has(end + 1)));
        if (hex || binary || exponent) {
            m_p = end;
            if (exponent && e + 1 == run.size()) {
                ++m_p;
                skipDigits();
            }
            return {Kind::Literal, kPlaceholder};
        }
        m_p = end;
        return {Kind::Word, run};
    }

    Token scan(bool gap)
    {
        if (Token t; m_postgres && scanPostgres(t))
            return t;
        const std::size_t start = m_p;
        const unsigned char c = at(m_p);
        auto token = [&](Kind kind) { return Token{kind, m_s.substr(start, m_p - start)}; };
        switch (c) {
        case '\'':
        case '"':
            skipQuoted(true);
            return {Kind::Literal, kPlaceholder};
        case '`':
            skipQuoted(false);
            return token(Kind::Name);
        case '?':
            ++m_p;
            return {Kind::Literal, kPlaceholder};
        case '(':
            ++m_p;
            return token(Kind::Open);
        case ')':
            ++m_p;
            return token(Kind::Close);
        case ',':
            ++m_p;
            return token(Kind::Comma);
        case ';':
            ++m_p;
            return token(Kind::Semicolon);
        case '.':
            if (m_s.substr(m_p, 3) == kEllipsis) {
                m_p += 3;
                return token(Kind::Ellipsis);
            }
            // .5 is a number, but in t.5 (a qualified name) the dot joins the name.
            if (isDigit(at(m_p + 1)) && has(m_p + 1) &&
                !(!gap && (m_prev == Kind::Word || m_prev == Kind::Name))) {
                ++m_p;
                skipDigits();
                skipExponent();
                return {Kind::Literal, kPlaceholder};
            }
            ++m_p;
            return token(Kind::Dot);
        case '@':
            if (at(m_p + 1) == '@' && has(m_p + 2) && isIdent(at(m_p + 2))) {
                m_p += 2;
            } else if (has(m_p + 1) && isIdent(at(m_p + 1))) {
                m_p += 1;
            } else if (at(m_p + 1) == '\'' || at(m_p + 1) == '"' || at(m_p + 1) == '`') {
                ++m_p;
                skipQuoted(at(m_p) != '`');
                return token(Kind::Name);
            } else {
                ++m_p;
                return token(Kind::Op);
            }
            while (m_p < m_s.size() && isIdent(at(m_p)))
                ++m_p;
            return token(Kind::Name);
        default:
            break;
        }
        if (isDigit(c))
            return numberOrWord();
        if (isIdent(c)) {
            while (m_p < m_s.size() && isIdent(at(m_p)))
                ++m_p;
            const std::string_view word = m_s.substr(start, m_p - start);
            // X'1F', B'101', N'text'
            if (word.size() == 1 && at(m_p) == '\'' && has(m_p) &&
                std::string_view("xXbBnN").find(word[0]) != std::string_view::npos) {
                skipQuoted(true);
                return {Kind::Literal, kPlaceholder};
            }
            return {isKeyword(word) ? Kind::Keyword : Kind::Word, word};
        }
        const std::string_view rest = m_s.substr(m_p);
        for (std::string_view op : kOperators3) {
            if (rest.substr(0, 3) == op) {
                m_p += 3;
                return token(Kind::Op);
            }
        }
        for (std::string_view op : kOperators2) {
            if (rest.substr(0, 2) == op) {
                m_p += 2;
                return token(Kind::Op);
            }
        }
        ++m_p;
        return token(Kind::Op);
    }

    std::string_view m_s;
    bool m_postgres = false;
    std::size_t m_p = 0;
    std::size_t m_signsEnd = 0; // Postgres: the end of the + and - cut off an operator run
    Kind m_prev = Kind::None;
};

class Digester
{
public:
    explicit Digester(std::size_t maxText) : m_maxText(maxText) {}

    // False once the bytes that can no longer change exceed maxText: the rest cannot show.
    bool feed(const Token& t)
    {
        signStage(t);
        return committed() <= m_maxText;
    }

    std::string finish()
    {
        flushSigns();
        if (m_values == Values::CommaAfterRow)
            write({Kind::Comma, kComma});
        if (m_last == Kind::Semicolon)
            m_out.resize(m_semicolonsAt);
        return std::move(m_out);
    }

private:
    enum class InList : quint8 { Idle, AfterIn, Items };
    // Where a list item stands: ?, ?::type, ?::type[], ?::numeric(10, 2), ?::a::b.
    enum class Item : quint8 { Expected, Value, CastType, TypeName, TypeArray, TypeModifier };
    enum class Values : quint8 { Idle, ExpectRow, FirstRow, AfterRow, CommaAfterRow, FoldedRow };

    static bool unaryPosition(Kind before)
    {
        switch (before) {
        case Kind::None:
        case Kind::Keyword:
        case Kind::Open:
        case Kind::Comma:
        case Kind::Semicolon:
        case Kind::Dot:
        case Kind::Colon:
        case Kind::Bracket:
        case Kind::Op:
            return true;
        default:
            return false;
        }
    }

    // Signs in a unary position wait for the next token: dropped before a literal, written
    // otherwise (- a, - (SELECT ...)).
    void signStage(const Token& t)
    {
        if (t.kind == Kind::Op && (t.text == "-" || t.text == "+") && unaryPosition(m_seen)) {
            m_signs.push_back(t.text[0]);
            m_seen = Kind::Op;
            return;
        }
        if (t.kind == Kind::Literal)
            m_signs.clear();
        else
            flushSigns();
        m_seen = t.kind;
        valuesStage(t);
    }

    void flushSigns()
    {
        for (char sign : m_signs)
            valuesStage({Kind::Op, sign == '-' ? std::string_view("-") : std::string_view("+")});
        m_signs.clear();
    }

    // VALUES (row), (row), ...: the first row is written, then ", ..." for all the others.
    // The comma after a row waits until the next token shows whether a row follows.
    void valuesStage(const Token& t)
    {
        switch (m_values) {
        case Values::Idle:
            break;
        case Values::ExpectRow:
            if (t.kind == Kind::Open) {
                m_values = Values::FirstRow;
                m_depth = 1;
                write(t);
                return;
            }
            m_values = Values::Idle;
            break;
        case Values::FirstRow:
            if (t.kind == Kind::Open) {
                ++m_depth;
            } else if (t.kind == Kind::Close && --m_depth == 0) {
                m_values = Values::AfterRow;
                m_folded = false;
            }
            write(t);
            return;
        case Values::AfterRow:
            if (t.kind == Kind::Comma) {
                m_values = Values::CommaAfterRow;
                return;
            }
            m_values = Values::Idle;
            break;
        case Values::CommaAfterRow:
            if (t.kind == Kind::Open || t.kind == Kind::Ellipsis) {
                if (!m_folded) {
                    write({Kind::Comma, kComma});
                    write({Kind::Ellipsis, kEllipsis});
                    m_folded = true;
                }
                m_values = t.kind == Kind::Open ? Values::FoldedRow : Values::AfterRow;
                m_depth = 1;
                return;
            }
            write({Kind::Comma, kComma});
            m_values = Values::Idle;
            break;
        case Values::FoldedRow:
            if (t.kind == Kind::Open)
                ++m_depth;
            else if (t.kind == Kind::Close && --m_depth == 0)
                m_values = Values::AfterRow;
            return;
        }
        if ((t.kind == Kind::Keyword || t.kind == Kind::Word) &&
            (equalsUpper(t.text, "VALUES") || equalsUpper(t.text, "VALUE")))
            m_values = Values::ExpectRow;
        write(t);
    }

    static bool spaceBetween(Kind before, const Token& t)
    {
        switch (t.kind) {
        case Kind::Comma:
        case Kind::Semicolon:
        case Kind::Close:
        case Kind::CloseBracket:
            return false;
        default:
            break;
        }
        if (before == Kind::Open || before == Kind::Bracket)
            return false;
        // x::int, ?::text, (a)::t: joined only where the bytes cannot run into an operator.
        if (t.kind == Kind::Cast)
            return before != Kind::Word && before != Kind::Keyword && before != Kind::Name &&
                   before != Kind::Literal && before != Kind::Close && before != Kind::CloseBracket;
        if (before == Kind::Cast)
            return t.kind != Kind::Word && t.kind != Kind::Keyword && t.kind != Kind::Name;
        // arr[1:2], arr[:n]; apart only where ":" would run into "::" or ":=".
        if (t.kind == Kind::Colon)
            return before == Kind::Colon;
        if (before == Kind::Colon)
            return t.text[0] == ':' || t.text[0] == '='; // ::, :, :=, =, =>
        // A subscript follows its operand (arr[1], f(x)[1], $1[1], int[]); a constructor's
        // list (ARRAY[1], [[1], [2]]) is spaced as the token before it wants.
        if (t.kind == Kind::Bracket)
            return before != Kind::Word && before != Kind::Name && before != Kind::Literal &&
                   before != Kind::Close && before != Kind::CloseBracket;
        if (t.kind == Kind::Dot)
            return before == Kind::Dot || before == Kind::Ellipsis;
        // ". 1abc", not ".1abc", which would read back as the number .1 and the name abc.
        if (before == Kind::Dot)
            return t.kind == Kind::Ellipsis || isDigit(static_cast<unsigned char>(t.text[0]));
        if (t.kind == Kind::Open)
            return before != Kind::Word && before != Kind::Name;
        return true;
    }

    static bool isTypeWord(Kind kind)
    {
        return kind == Kind::Word || kind == Kind::Keyword || kind == Kind::Name;
    }

    // True while t continues a list of literals, each maybe cast (Postgres: $1::int).
    bool continuesList(const Token& t)
    {
        switch (m_item) {
        case Item::Expected:
            if (t.kind != Kind::Literal && t.kind != Kind::Ellipsis)
                return false;
            m_item = Item::Value;
            return true;
        case Item::Value:
        case Item::TypeName:
            if (t.kind == Kind::Comma)
                m_item = Item::Expected;
            else if (t.kind == Kind::Cast)
                m_item = Item::CastType;
            else if (m_item == Item::Value)
                return false;
            else if (t.kind == Kind::Bracket)
                m_item = Item::TypeArray;
            else if (t.kind == Kind::Open)
                m_item = Item::TypeModifier;
            else if (!isTypeWord(t.kind) && t.kind != Kind::Dot) // double precision, s.t
                return false;
            return true;
        case Item::CastType:
            if (!isTypeWord(t.kind))
                return false;
            m_item = Item::TypeName;
            return true;
        case Item::TypeArray:
            if (t.kind == Kind::CloseBracket)
                m_item = Item::TypeName;
            return t.kind == Kind::CloseBracket || t.kind == Kind::Literal;
        case Item::TypeModifier:
            if (t.kind == Kind::Close)
                m_item = Item::TypeName;
            return t.kind == Kind::Close || t.kind == Kind::Literal || t.kind == Kind::Comma;
        }
        return false;
    }

    void write(const Token& t)
    {
        if (!m_out.empty() && spaceBetween(m_last, t))
            m_out += ' ';
        const std::size_t start = m_out.size();
        m_out += t.text;
        if (t.kind == Kind::Semicolon && m_last != Kind::Semicolon)
            m_semicolonsAt = start;
        const Kind before = m_last;
        const bool afterArray = m_afterArray;
        m_last = t.kind;
        m_afterArray = t.kind == Kind::Word && equalsUpper(t.text, "ARRAY");

        // IN (?, ?, ?) -> IN (...); Postgres: ARRAY[?, ?] -> ARRAY[...], and in nested arrays
        // ARRAY[[?, ?], [?, ?]] -> ARRAY[[...], [...]].
        auto startList = [this](Kind closer) {
            m_in = InList::Items;
            m_closer = closer;
            m_itemsAt = m_out.size();
            m_item = Item::Expected;
        };
        switch (m_in) {
        case InList::Idle:
            break;
        case InList::AfterIn:
            m_in = InList::Idle;
            if (t.kind == Kind::Open) {
                startList(Kind::Close);
                return;
            }
            break;
        case InList::Items:
            if (continuesList(t))
                return;
            m_in = InList::Idle;
            if (t.kind == m_closer && (m_item == Item::Value || m_item == Item::TypeName)) {
                m_out.resize(m_itemsAt);
                m_out += m_closer == Kind::Close ? "...)" : "...]";
                return;
            }
            break;
        }
        if (t.kind == Kind::Keyword && equalsUpper(t.text, "IN"))
            m_in = InList::AfterIn;
        else if (t.kind == Kind::Bracket &&
                 (afterArray || before == Kind::Bracket || before == Kind::Comma))
            startList(Kind::CloseBracket);
    }

    std::size_t committed() const
    {
        std::size_t n = m_out.size();
        if (m_in == InList::Items)
            n = std::min(n, m_itemsAt);
        if (m_last == Kind::Semicolon)
            n = std::min(n, m_semicolonsAt);
        return n;
    }

    std::size_t m_maxText;
    std::string m_out;
    Kind m_last = Kind::None; // the last token written
    Kind m_seen = Kind::None; // the last token through the sign stage (pending signs included)
    std::string m_signs;
    Values m_values = Values::Idle;
    bool m_folded = false;
    std::size_t m_depth = 0;
    InList m_in = InList::Idle;
    Kind m_closer = Kind::Close; // of the list being read: ) or ]
    Item m_item = Item::Expected;
    std::size_t m_itemsAt = 0;
    bool m_afterArray = false; // the last token written is the word ARRAY
    std::size_t m_semicolonsAt = 0;
};

quint64 fnv1a64(std::string_view text)
{
    quint64 h = 0xCBF29CE484222325ULL;
    for (char c : text) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001B3ULL;
    }
    return h;
}

// At most maxText bytes, never ending inside a UTF-8 sequence nor on the separating space.
void cut(std::string& text, std::size_t maxText)
{
    if (text.size() <= maxText)
        return;
    std::size_t end = maxText;
    for (int back = 0;
         back < 3 && end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80; ++back)
        --end;
    text.resize(end);
    if (!text.empty() && text.back() == ' ')
        text.pop_back();
}

} // namespace

StatementDigest digestStatement(std::string_view sql, std::size_t maxText, SqlDialect dialect)
{
    Lexer lexer(sql, dialect);
    Digester digester(maxText);
    Token token;
    bool open = true;
    while (open && lexer.next(token))
        open = digester.feed(token);
    StatementDigest digest;
    digest.text = digester.finish();
    cut(digest.text, maxText);
    digest.hash = fnv1a64(digest.text);
    return digest;
}

QString digestHex(quint64 hash)
{
    return QLatin1String("0x") +
           QString::number(hash, 16).rightJustified(16, QLatin1Char('0')).toUpper();
}

} // namespace sg
