// libFuzzer target for the Redis readers (RedisTracker, RespCommandReader, RespReplyReader) and
// the fault matcher. The input is a conversation the fuzzer shapes itself: records of a control
// byte c (bit 7 = direction, 1: client -> server; n = c & 0x7F; n > 0: the next n bytes go that
// way; n == 0: the next byte is the time step). Beyond crashes and sanitizer reports, it checks
// that the outcome does not depend on how the bytes were cut (the same stream fed as one chunk
// per direction change gives the same answered commands, errors and lost()/why()), that what
// the readers keep stays bounded, and that every complete command gets a fault decision.
#include "conversation.h"
#include "proxy/redisfaults.h"
#include "proxy/redistracker.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <tuple>
#include <vector>

using namespace sg;
using sg::fuzz::Segment;

namespace {

using Outcome = std::tuple<std::string, std::string, bool, std::string>;

void require(bool condition)
{
    if (!condition)
        std::abort();
}

const RedisFaults& faults()
{
    static const RedisFaults f = [] {
        RedisProtocolConf conf;
        conf.faults << RedisFault{{"get", "mset"}, "a", 0.01} << RedisFault{{"get"}, {}, 0.02}
                    << RedisFault{{"ping"}, "x", 0.03};
        return RedisFaults(conf);
    }();
    return f;
}

// Feeds client bytes step by step, probing each command for its fault as the filter does.
void feedClient(RedisTracker& t, RedisFaults::Probe& probe, const char* data, std::size_t len,
                qint64 now)
{
    std::size_t used = 0;
    while (used < len && !t.commands().lost()) {
        RespCommandReader::Event event;
        used += t.feedClientStep(data + used, len - used, now, event);
        const RespCommandReader& c = t.commands();
        require(c.name().size() <= RespCommandReader::kMaxName);
        require(c.arg().size() <= RespCommandReader::kMaxArg);
        require(c.line().size() <= RespCommandReader::kMaxLine);
        if (event == RespCommandReader::Event::Name)
            probe = faults().start(c.name(), c.argCount());
        else if (event == RespCommandReader::Event::Argument)
            faults().argument(probe, c.name(), c.argIndex(), c.argCount(), c.arg(), c.argCut());
        if (event != RespCommandReader::Event::None && c.commandDone()) {
            faults().finish(probe);
            require(probe.decided() && probe.delayMs() >= 0);
        }
    }
}

void drain(RedisTracker& t, std::vector<Outcome>& out)
{
    require(t.pending() <= RedisTracker::kMaxPending);
    if (t.lost())
        require(t.pending() == 0 && !t.running() && !t.why().empty());
    for (RedisCommandDone& d : t.takeDone()) {
        require(d.durationUs >= 0 && d.errorText.size() <= RespReplyReader::kMaxError);
        out.emplace_back(d.name, d.line, d.error, d.errorText);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    RedisTracker chunked;
    RedisFaults::Probe chunkedProbe;
    std::vector<Outcome> chunkedDone;
    std::vector<Segment> merged;
    sg::fuzz::forEachPiece(data, size, 0, [&](bool fromClient, qint64 now, std::string_view b) {
        sg::fuzz::merge(merged, fromClient, now, b);
        if (fromClient)
            feedClient(chunked, chunkedProbe, b.data(), b.size(), now);
        else
            chunked.feedServer(b.data(), b.size(), now);
        drain(chunked, chunkedDone);
    });

    RedisTracker whole;
    RedisFaults::Probe wholeProbe;
    std::vector<Outcome> wholeDone;
    for (const Segment& s : merged) {
        if (s.fromClient)
            feedClient(whole, wholeProbe, s.bytes.data(), s.bytes.size(), s.now);
        else
            whole.feedServer(s.bytes.data(), s.bytes.size(), s.now);
        drain(whole, wholeDone);
    }
    require(chunkedDone == wholeDone);
    require(chunked.lost() == whole.lost() && chunked.why() == whole.why());
    require(chunked.pending() == whole.pending());
    return 0;
}
