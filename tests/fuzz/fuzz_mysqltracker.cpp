// libFuzzer target for MySqlCommandTracker. The input is a conversation the fuzzer shapes itself:
//   byte 0: capabilities: bit 0 = CLIENT_DEPRECATE_EOF, bit 1 = CLIENT_PROTOCOL_41,
//           bit 2 = CLIENT_SECURE_CONNECTION, bit 3 = CLIENT_COMPRESS, bit 4 = MariaDB's
//           metadata cache
//   then records: control byte c; bit 7 = direction (1: client -> server); n = c & 0x7F;
//   n > 0: the next n bytes are fed in that direction; n == 0: the next byte is the time step.
// Beyond crashes and sanitizer reports, it checks that the result does not depend on how the
// bytes were cut: the same stream fed as one chunk per direction change must give the same
// completed commands and the same lost()/why(), and that what the tracker holds stays bounded.
#include "conversation.h"
#include "proxy/mysqltracker.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

using sg::MySqlCommandDone;
using sg::MySqlCommandTracker;
using sg::fuzz::Segment;

namespace {

void require(bool condition)
{
    if (!condition)
        std::abort();
}

void checkBounds(const MySqlCommandTracker& t)
{
    require(t.pending() <= MySqlCommandTracker::kMaxPending);
    if (t.lost())
        require(t.pending() == 0 && !t.running() && !t.why().empty());
    if (const MySqlCommandDone* r = t.running())
        require(r->statement.size() <= MySqlCommandTracker::kMaxStatement);
}

void drain(MySqlCommandTracker& t, std::vector<MySqlCommandDone>& out)
{
    for (MySqlCommandDone& d : t.takeDone()) {
        require(d.statement.size() <= MySqlCommandTracker::kMaxStatement);
        require(d.errorMessage.size() <= MySqlCommandTracker::kMaxErrorMessage);
        require(d.sqlState.empty() || d.sqlState.size() == 5);
        out.push_back(std::move(d));
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0)
        return 0;
    const std::uint8_t flags = data[0];
    quint64 caps = 0;
    if (flags & 1)
        caps |= 0x01000000;
    if (flags & 2)
        caps |= 0x200;
    if (flags & 4)
        caps |= 0x8000;
    if (flags & 8)
        caps |= 0x20;
    if (flags & 16)
        caps |= quint64(1) << 36;

    MySqlCommandTracker chunked(caps, caps, "db");
    std::vector<MySqlCommandDone> chunkedDone;
    std::vector<Segment> merged;
    sg::fuzz::forEachPiece(data + 1, size - 1, 0,
                           [&](bool fromClient, qint64 now, std::string_view b) {
                               sg::fuzz::merge(merged, fromClient, now, b);
                               if (fromClient)
                                   chunked.feedClient(b.data(), b.size(), now);
                               else
                                   chunked.feedServer(b.data(), b.size(), now);
                               drain(chunked, chunkedDone);
                               checkBounds(chunked);
                           });

    MySqlCommandTracker whole(caps, caps, "db");
    std::vector<MySqlCommandDone> wholeDone;
    for (const Segment& s : merged) {
        if (s.fromClient)
            whole.feedClient(s.bytes.data(), s.bytes.size(), s.now);
        else
            whole.feedServer(s.bytes.data(), s.bytes.size(), s.now);
        drain(whole, wholeDone);
        checkBounds(whole);
    }
    require(chunkedDone == wholeDone);
    require(chunked.lost() == whole.lost() && chunked.why() == whole.why());
    require(chunked.schema() == whole.schema() && chunked.pending() == whole.pending());
    return 0;
}
