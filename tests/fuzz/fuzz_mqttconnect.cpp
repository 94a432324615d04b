// libFuzzer target for the MQTT CONNECT reader of mqtt-proxy. The first input byte picks a cut
// pattern, the rest is what a client sends. Beyond crashes and sanitizer reports, it checks that
// the outcome (state, protocol name and level, client id, error text, bytes taken) is the same
// fed all at once, one byte at a time and in the pattern's pieces; that the reader never takes
// more than kMaxPrefix bytes, nor more than wantAtMost() promised, nor anything once it has
// decided; and that bytes after a CONNECT it read are never taken.
#include "proxy/mqttconnect.h"

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
    MqttConnectReader::State state;
    MqttInfo connect;
    QString error;
    std::size_t consumed;
    bool operator==(const Outcome&) const = default;
};

Outcome run(const char* data, std::size_t size, const std::vector<std::size_t>& pieces)
{
    MqttConnectReader r;
    std::size_t at = 0;
    std::size_t piece = 0;
    while (at < size) {
        const std::size_t len = std::min(size - at, pieces[piece++ % pieces.size()]);
        const std::size_t promised = r.wantAtMost();
        const auto before = r.state();
        const std::size_t took = r.feed(data + at, len);
        require(took <= len);
        if (before != MqttConnectReader::State::NeedMore)
            require(took == 0);
        else
            require(took <= promised);
        at += len;
    }
    require(r.consumed() <= MqttConnectReader::kMaxPrefix);
    const bool done = r.state() == MqttConnectReader::State::Done;
    if (done)
        require(r.connect().detected);
    if (r.state() == MqttConnectReader::State::Error)
        require(!r.error().isEmpty());
    if (r.state() == MqttConnectReader::State::NeedMore)
        require(r.consumed() == size && r.wantAtMost() > 0);
    return {r.state(), done ? r.connect() : MqttInfo(), r.error(), r.consumed()};
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
    if (whole.state == MqttConnectReader::State::Done) {
        // What follows the client id is never taken, whatever it is.
        std::vector<char> more(bytes, bytes + len);
        more.insert(more.end(), {'\x10', '\x7f', '\0', '\4', 'M', 'Q', 'T', 'T'});
        require(run(more.data(), more.size(), pieces).consumed == whole.consumed);
    }
    return 0;
}
