#include "proxy/addressmatch.h"

#include "model/codec.h"

namespace sg {

namespace {

// The IPv4-mapped IPv6 form of an IPv4 address (::ffff:a.b.c.d).
QHostAddress mappedIPv6(const QHostAddress& ipv4)
{
    const quint32 v4 = ipv4.toIPv4Address();
    Q_IPV6ADDR bytes{};
    bytes[10] = 0xff;
    bytes[11] = 0xff;
    bytes[12] = quint8(v4 >> 24);
    bytes[13] = quint8(v4 >> 16);
    bytes[14] = quint8(v4 >> 8);
    bytes[15] = quint8(v4);
    return QHostAddress(bytes);
}

} // namespace

QHostAddress normalizedAddress(const QHostAddress& address)
{
    if (address.protocol() == QAbstractSocket::IPv6Protocol) {
        bool isV4 = false;
        const quint32 v4 = address.toIPv4Address(&isV4);
        if (isV4)
            return QHostAddress(v4);
        if (!address.scopeId().isEmpty()) {
            QHostAddress copy = address;
            copy.setScopeId(QString());
            return copy;
        }
    }
    return address;
}

std::optional<AddressRule> AddressRule::parse(const QString& ipOrCidr)
{
    // One grammar for the whole program: what validation accepts is exactly what matches.
    if (!isIpOrCidr(ipOrCidr))
        return std::nullopt;
    const qsizetype slash = ipOrCidr.indexOf(u'/');
    QHostAddress network;
    if (!network.setAddress(slash < 0 ? ipOrCidr : ipOrCidr.left(slash)))
        return std::nullopt;
    AddressRule rule;
    rule.m_network = network;
    rule.m_prefix = slash < 0 ? (network.protocol() == QAbstractSocket::IPv4Protocol ? 32 : 128)
                              : QStringView(ipOrCidr).mid(slash + 1).toInt();
    rule.m_text = ipOrCidr;
    return rule;
}

bool AddressRule::matches(const QHostAddress& address) const
{
    const QHostAddress peer = normalizedAddress(address);
    const auto ruleFamily = m_network.protocol();
    const auto peerFamily = peer.protocol();
    if (ruleFamily == peerFamily)
        return peer.isInSubnet(m_network, m_prefix);
    if (ruleFamily == QAbstractSocket::IPv6Protocol && peerFamily == QAbstractSocket::IPv4Protocol)
        return mappedIPv6(peer).isInSubnet(m_network, m_prefix);
    return false;
}

std::optional<AddressList> AddressList::parse(const QStringList& entries, QString* badEntry)
{
    AddressList list;
    list.m_rules.reserve(entries.size());
    for (const QString& entry : entries) {
        auto rule = AddressRule::parse(entry);
        if (!rule) {
            if (badEntry)
                *badEntry = entry;
            return std::nullopt;
        }
        list.m_rules.append(std::move(*rule));
    }
    return list;
}

bool AddressList::contains(const QHostAddress& address) const
{
    const QHostAddress peer = normalizedAddress(address);
    for (const AddressRule& rule : m_rules) {
        if (rule.matches(peer))
            return true;
    }
    return false;
}

} // namespace sg
