// libFuzzer target for PgTracker. The input is a conversation the fuzzer shapes itself:
//   byte 0: bit 0 = open with a canned trusted login (StartupMessage, AuthenticationOk,
//           ReadyForQuery), so that short inputs reach the commands
//   then records: control byte c; bit 7 = direction (1: client -> server); n = c & 0x7F;
//   n > 0: the next n bytes are fed in that direction; n == 0: the next byte is the time step.
// Beyond crashes and sanitizer reports, it checks that the result does not depend on how the
// bytes were cut: the same stream fed as one chunk per direction change must give the same
// completed commands and the same state (lost()/why(), the login, the startup parameters),
// and that what the tracker holds and reports stays within its caps. The client's first bytes
// also go to database TLS's request reader (classifyPgFirstBytes): its verdict on a prefix that
// decides must not change as bytes are added, and 8 bytes always decide.
#include "conversation.h"
#include "fuzzcheck.h"
#include "proxy/pgtlsrequest.h"
#include "proxy/pgtracker.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

using sg::PgCommandDone;
using sg::PgTracker;
using sg::fuzz::require;
using sg::fuzz::Segment;

namespace {

std::string be32(quint32 v)
{
    return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}

std::string message(char type, const std::string& body)
{
    return type + be32(quint32(body.size() + 4)) + body;
}

void checkBounds(const PgTracker& t)
{
    require(t.pending() <= PgTracker::kMaxPending, "more commands pending than kMaxPending");
    if (t.lost())
        require(t.pending() == 0 && !t.running() && !t.why().empty(),
                "a lost tracker holds commands or does not say why");
    if (const PgCommandDone* r = t.running())
        require(r->statement.size() <= PgTracker::kMaxStatement, "a running statement too long");
    require(t.user().size() < PgTracker::kMaxStartupPacket &&
                t.database().size() < PgTracker::kMaxStartupPacket &&
                t.applicationName().size() < PgTracker::kMaxStartupPacket &&
                t.serverVersion().size() <= PgTracker::kMaxServerPrefix,
            "a startup parameter or server version too long");
    require(t.loginError().size() <= PgTracker::kMaxErrorMessage, "a login error too long");
}

void drain(PgTracker& t, std::vector<PgCommandDone>& out)
{
    for (PgCommandDone& d : t.takeDone()) {
        require(d.statement.size() <= PgTracker::kMaxStatement, "a statement too long");
        require(!d.statementCut || d.statement.size() == PgTracker::kMaxStatement,
                "a cut statement shorter than kMaxStatement");
        require(d.errorMessage.size() <= PgTracker::kMaxErrorMessage, "an error message too long");
        require(d.sqlState.empty() || d.sqlState.size() == 5, "a SQLSTATE not of 5 bytes");
        require(d.tag.size() <= PgTracker::kMaxServerPrefix, "a tag too long");
        require(d.portal.size() <= PgTracker::kMaxName, "a portal name too long");
        require(d.kind != sg::PgCommandKind::Terminate || d.durationUs == 0,
                "Terminate with a duration");
        out.push_back(std::move(d));
    }
}

// Database TLS's reader on the client's first bytes, one more byte at a time, as they may come.
void checkFirstBytes(const std::string& client)
{
    using sg::PgFirstBytes;
    const std::size_t n = std::min(client.size(), sg::kPgRequestSize);
    PgFirstBytes decided = PgFirstBytes::NeedMore;
    for (std::size_t k = 0; k <= n; ++k) {
        const PgFirstBytes v = sg::classifyPgFirstBytes(client.data(), k);
        if (decided != PgFirstBytes::NeedMore)
            require(v == decided, "a decided verdict on the first bytes changed with more bytes");
        decided = v;
    }
    if (client.size() >= sg::kPgRequestSize)
        require(decided != PgFirstBytes::NeedMore, "8 bytes did not decide");
    // Never more than the request is looked at.
    require(sg::classifyPgFirstBytes(client.data(), client.size()) == decided ||
                client.size() < sg::kPgRequestSize,
            "bytes after the request changed the verdict");
}

void feed(PgTracker& t, const Segment& s)
{
    if (s.fromClient)
        t.feedClient(s.bytes.data(), s.bytes.size(), s.now);
    else
        t.feedServer(s.bytes.data(), s.bytes.size(), s.now);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0)
        return 0;
    std::vector<Segment> merged;
    PgTracker chunked;
    std::vector<PgCommandDone> chunkedDone;
    auto take = [&](bool fromClient, qint64 now, const std::string& bytes) {
        sg::fuzz::merge(merged, fromClient, now, bytes);
        feed(chunked, {fromClient, now, bytes});
        drain(chunked, chunkedDone);
        checkBounds(chunked);
    };

    if (data[0] & 1) {
        const std::string startup = be32(196608) + "user" + '\0' + "fuzz" + '\0' + '\0';
        take(true, 0, be32(quint32(startup.size() + 4)) + startup);
        take(false, 0,
             message('R', be32(0)) +
                 message('S', std::string("server_version\0"
                                          "16.0\0",
                                          20)) +
                 message('Z', "I"));
    }
    sg::fuzz::forEachPiece(data + 1, size - 1, 1,
                           [&](bool fromClient, qint64 now, std::string_view b) {
                               take(fromClient, now, std::string(b));
                           });

    PgTracker whole;
    std::vector<PgCommandDone> wholeDone;
    for (const Segment& s : merged) {
        feed(whole, s);
        drain(whole, wholeDone);
        checkBounds(whole);
    }
    require(chunkedDone == wholeDone, "the commands depend on how the bytes were cut");
    std::string client;
    for (const Segment& s : merged)
        if (s.fromClient && client.size() < 64)
            client += s.bytes.substr(0, 64);
    checkFirstBytes(client);
    require(chunked.lost() == whole.lost() && chunked.why() == whole.why(),
            "lost()/why() depend on how the bytes were cut");
    require(chunked.pending() == whole.pending() && chunked.loginState() == whole.loginState() &&
                chunked.user() == whole.user() && chunked.database() == whole.database() &&
                chunked.applicationName() == whole.applicationName() &&
                chunked.serverVersion() == whole.serverVersion() &&
                chunked.loginSqlState() == whole.loginSqlState() &&
                chunked.tlsAccepted() == whole.tlsAccepted() &&
                chunked.cancelRequest() == whole.cancelRequest() &&
                chunked.protocolMinor() == whole.protocolMinor() &&
                chunked.transactionStatus() == whole.transactionStatus(),
            "the session's state depends on how the bytes were cut");
    return 0;
}
