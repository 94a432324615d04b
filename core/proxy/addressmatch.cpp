#include "proxy/addressmatch.h"

#include "model/codec.h"

namespace sg {

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
    // APISIX (lua-resty-ipmatcher) keeps IPv4 and IPv6 rules apart: a client is tested against
    // the rules of its own family only, so "::/0" does not admit IPv4 clients.
    const QHostAddress peer = normalizedAddress(address);
    return peer.protocol() == m_network.protocol() && peer.isInSubnet(m_network, m_prefix);
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
