#pragma once
// A statement digest names the shape of one SQL statement, as ProxySQL's query digests do
// (stats_mysql_query_digest.digest / digest_text): statements that differ only in literal
// values, whitespace or comments get the same text and the same hash. digestStatement() is
// pure and total: it takes any bytes (a statement cut mid-way, binary, invalid UTF-8), reads
// nothing outside the view, runs in linear time and returns at most maxText bytes, cut on a
// UTF-8 boundary. The hash is FNV-1a 64 of the text, so it is the same on every run and machine.
//
// The rules (ProxySQL's defaults as the model; letter case is kept as written):
// - 'strings' and "strings" (backslash escapes, doubled quotes), numbers (1, -1.5, 2e-3, .5,
//   0x1F, 0b101, X'1F', b'101', N'x') and ? placeholders become ?. A + or - before a literal is
//   dropped when it is a sign (at the start, after an operator, comma, open parenthesis or a
//   keyword such as SELECT, WHERE, AND, THEN); after an operand it stays: a - ?.
//   NULL, TRUE and FALSE stay as written. Names keep their digits (t1, col_2); `backtick
//   names` and @variables (@a, @@global.x, @'a b') are kept verbatim.
// - IN (?, ?, ?) with one or more literals becomes IN (...). A list holding anything else
//   (NULL, a column, a subquery, tuples) is kept, its literals replaced.
// - VALUES (or VALUE) keeps its first row and folds every further row into one "...":
//   VALUES (?, ?), (?, ?), (?, ?) -> VALUES (?, ?), ...  A single row stays VALUES (?, ?).
// - Comments are dropped: "-- " (dashes then whitespace, a control byte or the end) and "#" to
//   the end of the line, /* ... */ (all forms, an unterminated one ends the text). Runs of
//   whitespace and comments become one space; leading and trailing ones, and trailing ";",
//   are dropped.
// - Tokens are separated by one space, except: none after "(" or before ")", ",", ";"; ", "
//   after a comma; none around "." (t.col, t.*); none between a name and "(" (COUNT(*),
//   t(a, b)), one between a keyword and "(" (IN (...), VALUES (?), FROM (SELECT ...)).
//   So "id=1" and "id = 42" both read "id = ?", and "SELECT * FROM t WHERE id IN (1,2,3)"
//   reads "SELECT * FROM t WHERE id IN (...)".
//
// SqlDialect::Postgres reads PostgreSQL's lexical rules instead, where they differ:
// - "double quoted" and U&"..." names are kept verbatim, not strings. '...' strings have no
//   backslash escapes (standard_conforming_strings), only doubled quotes; E'...' strings have
//   them. E'..', U&'..', B'..', X'..', N'..', dollar-quoted strings ($$...$$, $tag$...$tag$)
//   and $1 parameters become ?.
// - "--" always starts a comment; # is an operator; /* ... */ comments nest.
// - Numbers as PostgreSQL 16 reads them too: 0o17, 0x_1F, 1_000_000, 1_000.5e1_0 become ?.
// - Operators are read whole as the server reads them (@>, ->>, ||, #-, ?|, ?&, @?; ` and ?
//   are operator bytes, a lone ? still reads as a placeholder, which is how the jsonb operator
//   is written anyway), a cast's "::" is written without spaces (x::int, ?::text[]), and @
//   starts no variable.
// - [ and ] are subscripts and array constructors, never quotes (in MySQL's dialect they are
//   plain operators): arr[?], arr[?:?], f(x)[?], int[] are written joined. ARRAY[1, 2] becomes
//   ARRAY[...] as an IN list does, each level of a nested one too (ARRAY[[...], [...]]).
// - An item of an IN list or ARRAY may carry casts: IN ($1::int, $2::int) becomes IN (...).
// Digesting a digest text that was not cut by maxText gives the same text again (in the same
// dialect).

#include <QString>
#include <QtGlobal>
#include <cstddef>
#include <string>
#include <string_view>

namespace sg {

struct StatementDigest
{
    quint64 hash = 0; // FNV-1a 64 of text (of an empty text: 0xCBF29CE484222325)
    std::string text; // the normalised statement, at most maxText bytes

    bool operator==(const StatementDigest&) const = default;
};

inline constexpr std::size_t kMaxDigestText = 2048;

// Whose SQL the statement is: its quotes, comments and parameters differ (rules above).
enum class SqlDialect : quint8 { MySql, Postgres };

// Normalises one SQL statement as a query digest: literals -> ?, lists of literals collapsed,
// whitespace and comments folded (the rules above).
StatementDigest digestStatement(std::string_view sql, std::size_t maxText = kMaxDigestText,
                                SqlDialect dialect = SqlDialect::MySql);

// "0x" and 16 upper-case hex digits, as ProxySQL prints `digest`.
QString digestHex(quint64 hash);

} // namespace sg
