// libFuzzer target for MySqlCommandTracker. The input is a conversation the fuzzer shapes itself:
//   byte 0: capabilities: bit 0 = CLIENT_DEPRECATE_EOF, bit 1 = CLIENT_PROTOCOL_41,
//           bit 2 = CLIENT_SECURE_CONNECTION, bit 3 = CLIENT_COMPRESS, bit 4 = MariaDB's
//           metadata cache
//   then records: control byte c; bit 7 = direction (1: client -> server); n = c & 0x7F;
//   n > 0: the next n bytes are fed in that direction; n == 0: the next byte is the time step.
// Beyond crashes and sanitizer reports, it checks that the result does not depend on how the
// bytes were cut: the same stream fed as one chunk per direction change must give the same
// completed commands and the same lost()/why(), and that what the tracker holds stays bounded.
// The packet cursor the query toxics walk each direction with (mysqlwire::PacketCursor) runs
// beside it and must find the same packets (offset, length, sequence id, continuation)
// however the bytes are cut.
#include "conversation.h"
#include "proxy/mysqltracker.h"
#include "proxy/mysqlwire.h"

#include <array>
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

// One direction's packets as the cursor finds them: where each header ends in the stream, with
// the packet's length, sequence id and whether it continues a long one.
struct Packets
{
    sg::mysqlwire::PacketCursor cursor;
    quint64 offset = 0;
    std::vector<std::array<quint64, 4>> found;

    void feed(std::string_view bytes)
    {
        while (!bytes.empty()) {
            const bool header = !cursor.inPayload();
            const std::size_t n = cursor.advance(bytes.data(), bytes.size());
            require(n > 0 && n <= bytes.size());
            offset += n;
            bytes.remove_prefix(n);
            if (header && (cursor.inPayload() || cursor.atStart()))
                found.push_back(
                    {offset, cursor.payloadLength(), cursor.seq(), quint64(cursor.continuation())});
        }
    }
};

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
    Packets chunkedPackets[2];
    sg::fuzz::forEachPiece(data + 1, size - 1, 0,
                           [&](bool fromClient, qint64 now, std::string_view b) {
                               sg::fuzz::merge(merged, fromClient, now, b);
                               chunkedPackets[fromClient].feed(b);
                               if (fromClient)
                                   chunked.feedClient(b.data(), b.size(), now);
                               else
                                   chunked.feedServer(b.data(), b.size(), now);
                               drain(chunked, chunkedDone);
                               checkBounds(chunked);
                           });

    MySqlCommandTracker whole(caps, caps, "db");
    std::vector<MySqlCommandDone> wholeDone;
    Packets wholePackets[2];
    for (const Segment& s : merged) {
        wholePackets[s.fromClient].feed(s.bytes);
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
    require(chunked.lastCommandSerial() == whole.lastCommandSerial());
    for (int side = 0; side < 2; ++side)
        require(chunkedPackets[side].found == wholePackets[side].found);
    return 0;
}
