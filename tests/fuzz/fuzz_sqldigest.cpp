// libFuzzer target for digestStatement (statement digests). The input is the statement's bytes,
// any at all, digested in both dialects (MySQL's and Postgres's). Beyond crashes and sanitizer
// reports, it checks in each:
// - the text is at most maxText bytes, and the hash is FNV-1a 64 of the text;
// - digesting the text again gives the same text (when maxText did not cut it);
// - a cut text is the start of the uncut one, no more than 4 bytes short of maxText (a UTF-8
//   sequence and the space before it), and never splits a character of a valid UTF-8 input;
// - without the names it keeps verbatim (MySQL: backtick names and @variables; Postgres:
//   "double quoted" names) the text has no leading, trailing or double space, and no tab, CR
//   or LF.
#include "fuzzcheck.h"
#include "proxy/sqldigest.h"

#include <QString>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

using namespace sg;
using sg::fuzz::require;

namespace {

quint64 fnv1a64(std::string_view text)
{
    quint64 h = 14695981039346656037ULL;
    for (char c : text) {
        h ^= quint64(static_cast<unsigned char>(c));
        h *= 1099511628211ULL;
    }
    return h;
}

QByteArray bytes(std::string_view s)
{
    return QByteArray(s.data(), qsizetype(s.size()));
}

bool validUtf8(std::string_view s)
{
    return QString::fromUtf8(bytes(s)).toUtf8() == bytes(s);
}

void checkDigest(const StatementDigest& d, std::size_t maxText, const std::string& full,
                 bool validInput, const QByteArray& input)
{
    require(d.text.size() <= maxText, "the text is longer than maxText", input);
    require(d.hash == fnv1a64(d.text), "the hash is not FNV-1a 64 of the text", input);
    if (full.size() <= maxText) {
        require(d.text == full, "an uncut text differs from the text without a cap",
                input + " -> " + bytes(d.text) + " / " + bytes(full));
        return;
    }
    require(full.compare(0, d.text.size(), d.text) == 0, "a cut text is not the start of the text",
            input + " -> " + bytes(d.text) + " / " + bytes(full));
    require(d.text.size() + 4 >= maxText, "a cut text is too short", input);
    if (validInput)
        require(validUtf8(d.text), "a cut splits a UTF-8 character", input);
}

void checkDialect(std::string_view sql, SqlDialect dialect, const QByteArray& input,
                  bool validInput)
{
    const std::size_t size = sql.size();
    const std::string full =
        digestStatement(sql, std::numeric_limits<std::size_t>::max(), dialect).text;
    const StatementDigest d = digestStatement(sql, kMaxDigestText, dialect);
    checkDigest(d, kMaxDigestText, full, validInput, input);
    // A small cap too, so that the cut is exercised by short inputs.
    const std::size_t small = size == 0 ? 0 : (std::size_t(quint8(sql[0])) * 31 + size) % 97;
    checkDigest(digestStatement(sql, small, dialect), small, full, validInput, input);

    if (full.size() <= kMaxDigestText) {
        const StatementDigest again = digestStatement(d.text, kMaxDigestText, dialect);
        require(again.text == d.text && again.hash == d.hash, "digesting the text changes it",
                input + " -> " + bytes(d.text) + " -> " + bytes(again.text));
    }
    if (validInput)
        require(validUtf8(full), "a valid UTF-8 statement gives an invalid UTF-8 text", input);

    const char* verbatim = dialect == SqlDialect::MySql ? "`@" : "\"";
    if (sql.find_first_of(verbatim) == std::string_view::npos) {
        require(full.empty() || (full.front() != ' ' && full.back() != ' '),
                "a leading or trailing space", input + " -> " + bytes(full));
        require(full.find("  ") == std::string::npos, "a double space",
                input + " -> " + bytes(full));
        require(full.find_first_of("\t\r\n") == std::string::npos, "whitespace other than a space",
                input + " -> " + bytes(full));
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string_view sql(reinterpret_cast<const char*>(data), size);
    const QByteArray input = bytes(sql);
    const bool validInput = validUtf8(sql);
    checkDialect(sql, SqlDialect::MySql, input, validInput);
    checkDialect(sql, SqlDialect::Postgres, input + " (postgres)", validInput);
    return 0;
}
