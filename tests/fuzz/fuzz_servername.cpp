// libFuzzer target for the ClientHello server_name reader (proxy/servername.h) that a TLS
// listener picks its certificate with. The input is an extension body as a client may send
// it. Beyond crashes and sanitizer reports, it checks that a name read is a host name's text
// (1-255 printable ASCII characters, lower case; one trailing dot dropped, as APISIX drops it)
// that the input holds, only from a body whose list length is the body's, and that a route's
// sni pattern made of the name (and "*") matches it.
#include "proxy/servername.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace sg;

namespace {

void require(bool condition, const char* what)
{
    if (!condition) {
        std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
        std::abort();
    }
}

// The same bytes as the start of a TLS stream (tls_passthrough): fed to the ClientHello reader
// in small pieces, never more than it asks for, it takes at most what it is given, never more
// than the input, and a name it reads is a host name's text in lower case.
void readAsClientHello(const std::uint8_t* data, std::size_t size)
{
    ClientHelloReader reader;
    std::size_t at = 0;
    while (reader.state() == ClientHelloReader::State::NeedMore && at < size) {
        const std::size_t want = reader.wantAtMost();
        require(want > 0, "a reader that needs more asks for nothing");
        const std::size_t n = std::min({want, size - at, std::size_t(1 + data[at] % 61)});
        const std::size_t took = reader.feed(reinterpret_cast<const char*>(data + at), n);
        require(took <= n, "took more than it was given");
        if (took == 0)
            break;
        at += took;
    }
    require(reader.consumed() == at, "consumed() is not what was taken");
    if (reader.state() == ClientHelloReader::State::Error)
        require(!reader.error().isEmpty(), "an error without a reason");
    if (reader.state() != ClientHelloReader::State::Done)
        return;
    require(reader.wantAtMost() == 0, "a finished reader asks for more");
    for (const QChar c : reader.serverName())
        require(c.unicode() > 0x20 && c.unicode() < 0x7f && !(c >= u'A' && c <= u'Z'),
                "a ClientHello name that is no lower-case host name");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    readAsClientHello(data, size);
    const QString name = serverNameOf(data, size);
    if (name.isEmpty())
        return 0;
    require(size >= 5, "a name came out of fewer bytes than one entry");
    require(name.size() <= 255, "longer than a host name");
    for (const QChar c : name) {
        require(c.unicode() > 0x20 && c.unicode() < 0x7f, "a byte no host name has");
        require(!(c.unicode() >= 'A' && c.unicode() <= 'Z'), "not lower case");
    }
    const QByteArray latin = name.toLatin1();
    bool found = false;
    for (std::size_t at = 0; !found && at + std::size_t(latin.size()) <= size; ++at) {
        bool same = true;
        for (qsizetype i = 0; same && i < latin.size(); ++i) {
            const char c = char(data[at + std::size_t(i)]);
            same = (c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c) == latin.at(i);
        }
        found = same;
    }
    require(found, "a name the input does not hold");
    const std::size_t listLength = std::size_t(data[0]) << 8 | data[1];
    require(listLength + 2 == size, "a name from a body whose lengths do not add up");
    require(routeSniMatches(name, name), "a name that does not match itself");
    require(routeSniMatches(QStringLiteral("*"), name), "\"*\" does not match a name");
    return 0;
}
