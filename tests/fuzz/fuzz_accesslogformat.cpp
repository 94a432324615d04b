// libFuzzer target for the access log's format parser (streamgate.access_log.format) and the
// line formatter it feeds. The input is the format's text (UTF-8). Beyond crashes and sanitizer
// reports, it checks:
// - a refusal has a reason, and a text over the length cap is refused for its length;
// - an accepted format holds no empty text part, no two text parts in a row, no '$' in text;
// - written back with every variable as ${name}, it parses to the same parts (so what was
//   accepted meant exactly those parts);
// - a line formatted from it is the text parts with each variable's value in its place, and
//   no value is empty but $route_id of a session that had no route (nginx writes "-").
#include "fuzzcheck.h"
#include "model/accesslogformat.h"
#include "stats/accesslog.h"

#include <cstddef>
#include <cstdint>

using namespace sg;
using sg::fuzz::require;

namespace {

QString canonical(const AccessLogFormat& format)
{
    QString out;
    for (const AccessLogFormat::Part& p : format.parts)
        out += p.isVariable()
                   ? QLatin1String("${") + accessLogVariableName(p.variable) + QLatin1Char('}')
                   : p.text;
    return out;
}

ConnectionInfo session(bool reachedUpstream)
{
    ConnectionInfo c;
    c.clientAddress = QHostAddress(QStringLiteral("127.0.0.2"));
    c.clientPort = 40001;
    c.localAddress = QHostAddress(QStringLiteral("::1"));
    c.localPort = 13306;
    c.startMs = 1'700'000'000'000;
    c.endMs = c.startMs + 1234;
    if (reachedUpstream) {
        c.routeId = QStringLiteral("db");
        c.failedUpstreams = {QStringLiteral("127.0.0.1:1")};
        c.upstreamNode = QStringLiteral("127.0.0.1:3306");
        c.connectMs = 3;
        c.bytesUp = c.bytesFromClient = 11;
        c.bytesDown = c.bytesFromUpstream = 23;
        c.closeReason = CloseReason::ClientClosed;
    } else {
        c.closeReason = CloseReason::NoRoute;
    }
    return c;
}

void checkLine(const AccessLogFormat& format, const ConnectionInfo& c, const QByteArray& input)
{
    const QString line = formatAccessLogSession(c, format);
    qsizetype at = 0;
    for (const AccessLogFormat::Part& p : format.parts) {
        const QString piece = p.isVariable() ? accessLogValue(p.variable, c) : p.text;
        require(!piece.isEmpty() || p.variable == AccessLogVariable::RouteId,
                "a variable wrote nothing", input);
        require(QStringView(line).mid(at, piece.size()) == piece,
                "the line is not the parts in order", input + " -> " + line.toUtf8());
        at += piece.size();
    }
    require(at == line.size(), "the line holds more than its parts", line.toUtf8());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const QByteArray input(reinterpret_cast<const char*>(data), qsizetype(size));
    const QString text = QString::fromUtf8(input);
    const ParsedAccessLogFormat parsed = parseAccessLogFormat(text);
    if (!parsed.ok()) {
        require(!parsed.error.trimmed().isEmpty(), "a refusal without a reason", input);
        if (text.size() > kAccessLogFormatMaxLength)
            require(parsed.error.startsWith(QLatin1String("must be at most")),
                    "an over-long format refused for something else", parsed.error.toUtf8());
        return 0;
    }
    require(text.size() <= kAccessLogFormatMaxLength, "an over-long format accepted");
    const QList<AccessLogFormat::Part>& parts = parsed.format.parts;
    require(!parts.isEmpty(), "an accepted format without parts", input);
    for (qsizetype i = 0; i < parts.size(); ++i) {
        const AccessLogFormat::Part& p = parts[i];
        if (p.isVariable()) {
            require(int(p.variable) < int(AccessLogVariable::Count) && p.text.isEmpty(),
                    "a variable part out of range or with text", input);
            continue;
        }
        require(!p.text.isEmpty(), "an empty text part", input);
        require(!p.text.contains(QLatin1Char('$')), "a '$' kept as text", input);
        require(i == 0 || parts[i - 1].isVariable(), "two text parts in a row", input);
    }

    const QString again = canonical(parsed.format);
    const ParsedAccessLogFormat reparsed = parseAccessLogFormat(again);
    // ${name} is longer than $name, so only a canonical form within the cap must parse.
    if (again.size() <= kAccessLogFormatMaxLength)
        require(reparsed.ok() && reparsed.format == parsed.format,
                "the format written back with ${name} parses differently",
                input + " -> " + again.toUtf8());

    checkLine(parsed.format, session(true), input);
    checkLine(parsed.format, session(false), input);
    return 0;
}
