#include "proxy/addressmatch.h"

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

bool isDecimal(QStringView text)
{
    if (text.isEmpty() || text.size() > 3)
        return false;
    for (QChar c : text) {
        if (c < u'0' || c > u'9')
            return false;
    }
    return true;
}

// Qt also accepts inet_aton's short forms ("127.1", "10"), which APISIX refuses.
bool isDottedQuad(QStringView text)
{
    int parts = 0;
    for (QStringView part : text.split(u'.')) {
        if (!isDecimal(part))
            return false;
        ++parts;
    }
    return parts == 4;
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
    const qsizetype slash = ipOrCidr.indexOf(u'/');
    const QStringView hostPart =
        slash < 0 ? QStringView(ipOrCidr) : QStringView(ipOrCidr).left(slash);
    if (hostPart.isEmpty() || hostPart.contains(u'%') || hostPart.contains(u' '))
        return std::nullopt;

    QHostAddress network;
    if (!network.setAddress(hostPart.toString()))
        return std::nullopt;
    const bool isV4 = network.protocol() == QAbstractSocket::IPv4Protocol;
    if (isV4 && !isDottedQuad(hostPart))
        return std::nullopt;
    if (!isV4 && network.protocol() != QAbstractSocket::IPv6Protocol)
        return std::nullopt;

    const int maxPrefix = isV4 ? 32 : 128;
    int prefix = maxPrefix;
    if (slash >= 0) {
        const QStringView prefixPart = QStringView(ipOrCidr).mid(slash + 1);
        if (!isDecimal(prefixPart))
            return std::nullopt;
        prefix = prefixPart.toInt();
        if (prefix > maxPrefix)
            return std::nullopt;
    }

    AddressRule rule;
    rule.m_network = network;
    rule.m_prefix = prefix;
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
