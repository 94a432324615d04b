// libFuzzer target for HttpRequestParser, the request reader of the HTTP front (admin API,
// metrics). The input is the byte stream of one connection (requests, pipelined or not, with
// Content-Length or chunked bodies). It is parsed twice: in one piece, and cut at points drawn
// from the input itself (down to single bytes). Beyond crashes and sanitizer reports, it checks:
// - the outcome (each request's head and body, then a refusal or the end) is the same however
//   the bytes are cut;
// - the bounds hold: no head beyond the limit, no more header fields than allowed, no body over
//   the body limit, no Content-Length kept with chunked;
// - every refusal has a status the front may answer and a reason;
// - NeedMore means every byte given was taken.
#include "api/httpparser.h"
#include "fuzzcheck.h"

#include <cstdint>
#include <vector>

using sg::HttpHead;
using sg::HttpRefusal;
using sg::HttpRequestParser;
using sg::fuzz::require;

namespace {

// Small limits, so the fuzzer reaches each of them.
sg::HttpLimits limits()
{
    sg::HttpLimits l;
    l.maxHeadBytes = 1024;
    l.maxHeaderFields = 12;
    l.maxBodyBytes = 4096;
    return l;
}

struct Outcome
{
    std::vector<std::pair<HttpHead, QByteArray>> requests;
    bool refused = false;
    HttpRefusal refusal;
    bool operator==(const Outcome&) const = default;
};

void checkHead(const HttpHead& head, const sg::HttpLimits& l)
{
    require(!head.method.isEmpty() && head.target.startsWith('/'), "head without method/target");
    require(head.headers.size() <= l.maxHeaderFields, "more header fields than allowed");
    require(head.method.size() + head.target.size() < l.maxHeadBytes, "head beyond its limit");
    require(!head.chunked || head.contentLength == 0, "Content-Length kept with chunked");
    require(head.minorVersion == 0 || head.minorVersion == 1, "HTTP version other than 1.x");
}

// Feeds `pieces` (consecutive parts of the stream) and records what the parser made of them.
Outcome parse(const std::vector<QByteArray>& pieces)
{
    const sg::HttpLimits l = limits();
    HttpRequestParser parser(l);
    Outcome out;
    for (const QByteArray& piece : pieces) {
        qsizetype at = 0;
        // Each step takes bytes or moves the parser on; 4 steps per byte bound any loop.
        for (qsizetype guard = 0; guard < 4 * piece.size() + 8; ++guard) {
            qsizetype used = 0;
            const auto step = parser.feed(piece.constData() + at, piece.size() - at, &used);
            require(used >= 0 && used <= piece.size() - at, "used out of range");
            at += used;
            if (step == HttpRequestParser::Step::NeedMore) {
                require(at == piece.size(), "NeedMore left bytes untaken");
                break;
            }
            if (step == HttpRequestParser::Step::Head) {
                checkHead(parser.head(), l);
                continue;
            }
            if (step == HttpRequestParser::Step::Complete) {
                checkHead(parser.head(), l);
                require(parser.body().size() <= l.maxBodyBytes, "body over the limit");
                require(parser.head().chunked ||
                            parser.body().size() == parser.head().contentLength,
                        "body length differs from Content-Length");
                out.requests.emplace_back(parser.head(), parser.body());
                parser.next();
                continue;
            }
            const HttpRefusal& r = parser.refusal();
            const bool known = r.status == 400 || r.status == 413 || r.status == 417 ||
                               r.status == 431 || r.status == 501 || r.status == 505;
            require(known, "refusal with an unexpected status", QByteArray::number(r.status));
            require(!r.message.trimmed().isEmpty(), "refusal without a reason");
            out.refused = true;
            out.refusal = r;
            return out;
        }
        require(at == piece.size(), "parser stopped taking bytes");
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const QByteArray stream(reinterpret_cast<const char*>(data), qsizetype(size));
    const Outcome whole = parse({stream});

    // Cut points from an LCG seeded by the input; piece sizes 1..64 bytes.
    std::uint32_t x = 2166136261u;
    for (std::size_t i = 0; i < size && i < 16; ++i)
        x = (x ^ data[i]) * 16777619u;
    std::vector<QByteArray> pieces;
    for (qsizetype at = 0; at < stream.size();) {
        x = x * 1664525u + 1013904223u;
        const qsizetype n = std::min<qsizetype>(1 + (x >> 26), stream.size() - at);
        pieces.push_back(stream.mid(at, n));
        at += n;
    }
    require(parse(pieces) == whole, "outcome depends on where the stream was cut");

    if (size <= 2048) {
        std::vector<QByteArray> bytes;
        for (qsizetype i = 0; i < stream.size(); ++i)
            bytes.push_back(stream.mid(i, 1));
        require(parse(bytes) == whole, "outcome differs when fed byte by byte");
    }
    return 0;
}
