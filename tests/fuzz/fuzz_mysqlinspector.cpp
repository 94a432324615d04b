// libFuzzer target for MySqlInspector. The input is a conversation the fuzzer shapes itself:
//   byte 0: bit 0 = count commands
//   then records: control byte c; bit 7 = direction (1: client -> server); n = c & 0x7F;
//   n > 0: the next n bytes are fed in that direction; n == 0: the next byte k asks the
//   inspector to skip min(k, skippable()) payload bytes it says it does not need.
// Beyond crashes and sanitizer reports, it checks that the result does not depend on how the
// bytes were cut: the same stream fed as one chunk per direction change (skipped bytes fed as
// zeros) must give the same outcome, and a connection found not to be MySQL carries no data.
// The same bytes go through database TLS's login edits (proxy/mysqltlswire.h): the sequence
// shift gives the same bytes however they were cut, holds no more than a header, and changes
// nothing but sequence ids and the CLIENT_SSL flag; the greeting edit changes one bit at most,
// and the greeting read for TLS to the server (greetingOffersTls) agrees with it; an SSLRequest
// made of a client's first packet is one.
#include "proxy/mysqlinspector.h"
#include "proxy/mysqltlswire.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

using sg::MySqlInspector;
using Dir = MySqlInspector::Direction;

namespace {

struct Segment
{
    Dir dir;
    std::string bytes;
};

void require(bool condition)
{
    if (!condition)
        std::abort();
}

bool same(const MySqlInspector& a, const MySqlInspector& b)
{
    const sg::MySqlInfo& x = a.info();
    const sg::MySqlInfo& y = b.info();
    return x.detected == y.detected && x.serverVersion == y.serverVersion &&
           x.connectionId == y.connectionId && x.user == y.user && x.database == y.database &&
           x.tls == y.tls && x.commands == y.commands && x.lastCommand == y.lastCommand &&
           a.notMySql() == b.notMySql() && a.login() == b.login() &&
           a.loginErrorCode() == b.loginErrorCode() && a.loginError() == b.loginError() &&
           a.serverCapabilities() == b.serverCapabilities() &&
           a.clientCapabilities() == b.clientCapabilities() &&
           a.wantsBytes(Dir::ClientToServer) == b.wantsBytes(Dir::ClientToServer) &&
           a.wantsBytes(Dir::ServerToClient) == b.wantsBytes(Dir::ServerToClient);
}

// One direction's bytes, as they came in `chunks`, through a MySqlLoginShift.
void checkShift(const std::vector<std::string>& chunks, int delta, bool clearSsl, bool watchEnd,
                bool setSsl = false)
{
    sg::MySqlLoginShift cut(delta, clearSsl, watchEnd, setSsl);
    std::string in, out, all;
    for (const std::string& c : chunks) {
        in += c;
        all += c;
        cut.take(in, out);
        require(in.size() < 6 || cut.loginOver()); // at most a header and two flag bytes held
    }
    sg::MySqlLoginShift whole(delta, clearSsl, watchEnd, setSsl);
    std::string wholeIn = all, wholeOut;
    whole.take(wholeIn, wholeOut);
    require(out == wholeOut && in == wholeIn && cut.loginOver() == whole.loginOver());
    require(out.size() + in.size() == all.size());
    // Only sequence ids (and the HandshakeResponse's CLIENT_SSL bit) differ.
    std::size_t differ = 0;
    for (std::size_t i = 0; i < out.size(); ++i)
        differ += out[i] != all[i];
    require(differ <= out.size() / 4 + 2);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0)
        return 0;
    const bool countCommands = data[0] & 1;
    MySqlInspector chunked(countCommands);
    std::vector<Segment> merged;
    auto append = [&merged](Dir dir, const char* p, std::size_t n) {
        if (merged.empty() || merged.back().dir != dir)
            merged.push_back({dir, {}});
        merged.back().bytes.append(p, n);
    };

    std::size_t pos = 1;
    quint64 lastCommands = 0;
    std::vector<std::string> clientChunks, serverChunks;
    while (pos < size) {
        const std::uint8_t c = data[pos++];
        const Dir dir = (c & 0x80) ? Dir::ClientToServer : Dir::ServerToClient;
        const std::size_t n = c & 0x7F;
        if (n == 0) {
            if (pos >= size)
                break;
            const std::size_t k = std::min<std::size_t>(data[pos++], chunked.skippable(dir));
            const bool wanted = chunked.wantsBytes(dir);
            chunked.skip(dir, k);
            if (k > 0) {
                const std::string zeros(k, '\0');
                if (wanted)
                    append(dir, zeros.data(), k);
            }
            continue;
        }
        const std::size_t take = std::min(n, size - pos);
        const auto* bytes = reinterpret_cast<const char*>(data + pos);
        pos += take;
        if (chunked.wantsBytes(dir))
            append(dir, bytes, take);
        (dir == Dir::ClientToServer ? clientChunks : serverChunks).emplace_back(bytes, take);
        chunked.feed(dir, bytes, take, 1);
        require(chunked.info().commands >= lastCommands);
        lastCommands = chunked.info().commands;
    }

    if (chunked.notMySql()) {
        const sg::MySqlInfo& info = chunked.info();
        require(!info.detected && info.user.isEmpty() && info.serverVersion.isEmpty() &&
                info.commands == 0);
        require(!chunked.active());
    }

    // Only bytes fed while the inspector still wanted them went into `merged`: bytes it no
    // longer wants must not change anything, so dropping them must not either.
    MySqlInspector whole(countCommands);
    for (const Segment& s : merged)
        whole.feed(s.dir, s.bytes.data(), s.bytes.size(), 1);
    require(same(chunked, whole));

    checkShift(clientChunks, -1, true, false);
    checkShift(serverChunks, +1, false, true);
    // TLS to the server (database_server_tls): the other way round, CLIENT_SSL put in.
    checkShift(clientChunks, +1, false, false, true);
    checkShift(serverChunks, -1, false, true);
    std::string server;
    for (const std::string& c : serverChunks)
        server += c;
    if (server.size() >= 4) {
        const std::size_t length = std::size_t(quint8(server[0])) |
                                   std::size_t(quint8(server[1])) << 8 |
                                   std::size_t(quint8(server[2])) << 16;
        std::string greeting = server.substr(0, 4 + length);
        const std::string before = greeting;
        bool isGreeting = false;
        const bool offers = sg::greetingOffersTls(greeting, &isGreeting);
        const bool offered = sg::offerTlsInGreeting(greeting);
        require(offered == isGreeting && (!offers || isGreeting));
        bool stillGreeting = false;
        require(!offered || (sg::greetingOffersTls(greeting, &stillGreeting) && stillGreeting));
        require(greeting.size() == before.size());
        std::size_t differ = 0;
        for (std::size_t i = 0; i < greeting.size(); ++i)
            differ += greeting[i] != before[i];
        require(offered ? differ <= 1 : differ == 0);
    }
    std::string client;
    for (const std::string& c : clientChunks)
        client += c;
    if (sg::isSslRequest(client.substr(0, 36)))
        require(client.size() >= 36 && quint8(client[0]) == 32);
    if (client.size() >= 36)
        require(sg::isSslRequest(sg::sslRequestFor(client)));
    return 0;
}
