#pragma once
// IP / CIDR matching as APISIX does it: a rule is an IPv4 or IPv6 address with an optional
// /prefix; a bare address is a /32 (/128). Peers are normalised first, so an IPv4-mapped IPv6
// peer (::ffff:10.0.0.5) is an IPv4 peer. Immutable after parse; safe to share across threads.
//
// Families stay apart, as in APISIX (lua-resty-ipmatcher): IPv4 peers match IPv4 rules only and
// IPv6 peers IPv6 rules only. So ::/0 matches every IPv6 peer and no IPv4 one, and an IPv6 rule
// written in mapped form (::ffff:10.0.0.0/104) matches no peer at all: write 10.0.0.0/8.

#include <QHostAddress>
#include <QList>
#include <QString>
#include <QStringList>
#include <optional>

namespace sg {

// ::ffff:a.b.c.d -> a.b.c.d; anything else unchanged (scope id dropped).
QHostAddress normalizedAddress(const QHostAddress& address);

class AddressRule
{
public:
    // Accepts "a.b.c.d", "a.b.c.d/0-32", an IPv6 address, "ipv6/0-128". Refuses anything else
    // (short IPv4 forms such as "127.1", netmask notation, scope ids, spaces).
    static std::optional<AddressRule> parse(const QString& ipOrCidr);
    bool matches(const QHostAddress& address) const; // address is normalised inside
    QString text() const { return m_text; }
    QHostAddress network() const { return m_network; }
    int prefixLength() const { return m_prefix; }

private:
    QHostAddress m_network;
    int m_prefix = 0;
    QString m_text;
};

class AddressList
{
public:
    // nullopt if any entry is not an IP or CIDR; *badEntry names it.
    static std::optional<AddressList> parse(const QStringList& entries,
                                            QString* badEntry = nullptr);
    bool contains(const QHostAddress& address) const;
    bool isEmpty() const { return m_rules.isEmpty(); }
    qsizetype size() const { return m_rules.size(); }

private:
    QList<AddressRule> m_rules;
};

} // namespace sg
