#pragma once
// The input format of the protocol readers' fuzz targets: a conversation the fuzzer shapes
// itself, as records of a control byte c (bit 7 = direction, 1: client -> server; n = c & 0x7F;
// n > 0: the next n bytes go that way; n == 0: the next byte is the time step). Each target
// feeds the pieces as they come to one reader and the same conversation merged (one piece per
// change of direction or time) to another, and requires the same outcome.

#include <QtGlobal>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sg::fuzz {

struct Segment
{
    bool fromClient;
    qint64 now;
    std::string bytes;
};

// Calls piece(fromClient, now, bytes) for each record of data, the clock starting at `now`.
template <typename Piece>
void forEachPiece(const std::uint8_t* data, std::size_t size, qint64 now, Piece&& piece)
{
    std::size_t pos = 0;
    while (pos < size) {
        const std::uint8_t c = data[pos++];
        const std::size_t n = c & 0x7F;
        if (n == 0) {
            if (pos >= size)
                break;
            now += data[pos++];
            continue;
        }
        const std::size_t take = std::min(n, size - pos);
        piece(bool(c & 0x80), now,
              std::string_view(reinterpret_cast<const char*>(data + pos), take));
        pos += take;
    }
}

// Appends a piece to the merged conversation.
inline void merge(std::vector<Segment>& merged, bool fromClient, qint64 now, std::string_view bytes)
{
    if (merged.empty() || merged.back().fromClient != fromClient || merged.back().now != now)
        merged.push_back({fromClient, now, {}});
    merged.back().bytes.append(bytes);
}

} // namespace sg::fuzz
