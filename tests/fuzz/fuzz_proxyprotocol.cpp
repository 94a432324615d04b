// libFuzzer target for the PROXY protocol reader. The first input byte picks a cut pattern, the
// rest is what a client sends. Beyond crashes and sanitizer reports, it checks that the outcome
// (state, addresses, ports, length, error text, bytes taken) is the same fed all at once, one
// byte at a time and in the pattern's pieces; that the reader never takes more than the header
// nor more than the bound (107 bytes for v1, kMaxV2Header for v2); that it takes nothing once
// it has decided; and that what wantAtMost() promised is never exceeded.
#include "proxy/proxyprotocol.h"

#include <cstdint>
#include <cstdlib>
#include <vector>

using namespace sg;

namespace {

void require(bool condition)
{
    if (!condition)
        std::abort();
}

struct Outcome
{
    ProxyHeaderReader::State state;
    int version;
    bool local;
    QHostAddress source, destination;
    quint16 sourcePort, destinationPort;
    int length;
    QString error;
    std::size_t consumed;
    bool operator==(const Outcome&) const = default;
};

Outcome run(const char* data, std::size_t size, const std::vector<std::size_t>& pieces)
{
    ProxyHeaderReader r;
    std::size_t at = 0;
    std::size_t piece = 0;
    while (at < size) {
        const std::size_t len = std::min(size - at, pieces[piece++ % pieces.size()]);
        const std::size_t promised = r.wantAtMost();
        const auto before = r.state();
        const std::size_t took = r.feed(data + at, len);
        require(took <= len);
        if (before != ProxyHeaderReader::State::NeedMore)
            require(took == 0);
        else
            require(took <= promised);
        at += len;
    }
    require(r.consumed() <= ProxyHeaderReader::kMaxV2Header);
    const ProxyHeader& h = r.header();
    if (r.state() == ProxyHeaderReader::State::Done) {
        require(std::size_t(h.length) == r.consumed());
        require(h.version == 1 || h.version == 2);
        if (h.version == 1)
            require(r.consumed() <= ProxyHeaderReader::kMaxV1Header);
    }
    if (r.state() == ProxyHeaderReader::State::Error)
        require(!r.error().isEmpty());
    if (r.state() == ProxyHeaderReader::State::NeedMore)
        require(r.consumed() == size && r.wantAtMost() > 0);
    const bool done = r.state() == ProxyHeaderReader::State::Done;
    return {r.state(),
            done ? h.version : 0,
            done && h.local,
            done ? h.source : QHostAddress(),
            done ? h.destination : QHostAddress(),
            done ? h.sourcePort : quint16(0),
            done ? h.destinationPort : quint16(0),
            done ? h.length : 0,
            r.error(),
            r.consumed()};
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 1)
        return 0;
    const std::size_t pattern = data[0];
    const char* bytes = reinterpret_cast<const char*>(data + 1);
    const std::size_t len = size - 1;
    const Outcome whole = run(bytes, len, {len ? len : 1});
    require(run(bytes, len, {1}) == whole);
    // Pieces of 1-16 bytes, alternating with a long piece, in the pattern's own rhythm.
    const std::vector<std::size_t> pieces{(pattern & 0x0F) + 1, ((pattern >> 4) & 0x0F) + 1,
                                          std::size_t(pattern) + 1};
    require(run(bytes, len, pieces) == whole);
    if (whole.state == ProxyHeaderReader::State::Done) {
        // What follows the header is never taken, whatever it is.
        std::vector<char> more(bytes, bytes + len);
        more.insert(more.end(), {'P', 'R', 'O', 'X', 'Y', ' ', '\r', '\n'});
        require(run(more.data(), more.size(), pieces).consumed == whole.consumed);
    }
    return 0;
}
