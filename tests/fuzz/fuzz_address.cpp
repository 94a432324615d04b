// libFuzzer target: IP/CIDR text as routes and allow-lists hold it. The validator (isIpOrCidr)
// and the matcher (AddressRule::parse) must agree, or a config that passes --check would carry
// a rule the engine cannot build (or the engine would accept what validation refuses).
// A parsed rule matches its own network address (an IPv6 rule in IPv4-mapped form matches no
// peer at all) and agrees with a plain prefix comparison, within its own address family, on the
// peer addresses made of the input's first bytes.

#include "fuzzcheck.h"
#include "model/codec.h"
#include "proxy/addressmatch.h"

#include <QHostAddress>
#include <cstddef>
#include <cstdint>
#include <cstring>

using namespace sg;

namespace {

bool prefixEqual(const quint8* a, const quint8* b, int bits)
{
    for (int i = 0; i < bits; ++i) {
        const int byte = i / 8, bit = 7 - i % 8;
        if (((a[byte] >> bit) & 1) != ((b[byte] >> bit) & 1))
            return false;
    }
    return true;
}

// The rule's network and a peer, both as 16-byte IPv6 (IPv4 as ::ffff:a.b.c.d), with the
// rule's prefix counted on that 128-bit form.
void asV6(const QHostAddress& a, quint8 out[16])
{
    if (a.protocol() == QAbstractSocket::IPv4Protocol) {
        std::memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        const quint32 v4 = a.toIPv4Address();
        out[12] = quint8(v4 >> 24);
        out[13] = quint8(v4 >> 16);
        out[14] = quint8(v4 >> 8);
        out[15] = quint8(v4);
    } else {
        const Q_IPV6ADDR v6 = a.toIPv6Address();
        std::memcpy(out, v6.c, 16);
    }
}

bool isMappedV4(const quint8 a[16])
{
    static const quint8 head[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(a, head, 12) == 0;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const QString text = QString::fromUtf8(reinterpret_cast<const char*>(data), qsizetype(size));
    const bool valid = isIpOrCidr(text);
    const std::optional<AddressRule> rule = AddressRule::parse(text);
    static const bool bothWays = qEnvironmentVariableIntValue("SG_FUZZ_ADDRESS_BOTH_WAYS") == 1;
    if (valid)
        fuzz::require(rule.has_value(), "isIpOrCidr accepts what AddressRule::parse refuses",
                      text.toUtf8());
    else if (bothWays)
        fuzz::require(!rule.has_value(), "AddressRule::parse accepts what isIpOrCidr refuses",
                      text.toUtf8());

    QString bad;
    const std::optional<AddressList> list = AddressList::parse({text}, &bad);
    fuzz::require(list.has_value() == rule.has_value(),
                  "AddressList::parse disagrees with AddressRule::parse", text.toUtf8());
    if (!rule) {
        fuzz::require(bad == text, "AddressList::parse names the wrong bad entry", bad.toUtf8());
        return 0;
    }

    const bool ruleIsV4 = rule->network().protocol() == QAbstractSocket::IPv4Protocol;
    fuzz::require(rule->prefixLength() >= 0 && rule->prefixLength() <= (ruleIsV4 ? 32 : 128),
                  "prefix out of range", text.toUtf8());
    // Qt turns "::" into 0.0.0.0 when asked for its IPv4 form, so normalisation maps the
    // unspecified IPv6 address to IPv4; no TCP peer ever has it, so it is left out of this check.
    // An IPv6 rule in mapped form (::ffff:a.b.c.d/n) names IPv4 peers, which IPv6 rules never
    // match; it matches nothing, its own network included.
    quint8 own[16];
    asV6(rule->network(), own);
    const bool mappedV6Rule = !ruleIsV4 && isMappedV4(own);
    if (rule->network() != QHostAddress(QHostAddress::AnyIPv6) && !mappedV6Rule)
        fuzz::require(rule->matches(rule->network()), "a rule does not match its own network",
                      text.toUtf8());
    const std::optional<AddressRule> again = AddressRule::parse(rule->text());
    fuzz::require(again && again->network() == rule->network() &&
                      again->prefixLength() == rule->prefixLength(),
                  "rule text does not parse back to the same rule", text.toUtf8());

    // Peers built from the input bytes: one IPv4, one IPv6.
    quint8 raw[16] = {};
    std::memcpy(raw, data, std::min<size_t>(size, 16));
    const QHostAddress peers[] = {
        QHostAddress(quint32(raw[0]) << 24 | quint32(raw[1]) << 16 | quint32(raw[2]) << 8 | raw[3]),
        QHostAddress(raw),
    };
    quint8 net[16];
    asV6(rule->network(), net);
    const int bits = ruleIsV4 ? 96 + rule->prefixLength() : rule->prefixLength();
    for (const QHostAddress& peer : peers) {
        quint8 p[16];
        asV6(normalizedAddress(peer), p);
        bool expected;
        // Families stay apart: v4 rules match only v4 (and mapped) peers, v6 rules only v6 ones.
        if (ruleIsV4)
            expected = isMappedV4(p) && prefixEqual(net, p, bits);
        else
            expected = !isMappedV4(p) && prefixEqual(net, p, bits);
        fuzz::require(rule->matches(peer) == expected,
                      "matches() disagrees with a prefix comparison",
                      text.toUtf8() + " vs " + peer.toString().toUtf8());
        fuzz::require(list->contains(peer) == expected,
                      "AddressList::contains disagrees with the rule", text.toUtf8());
    }
    return 0;
}
