#pragma once
// ip-restriction (APISIX priority 3000): a blacklist refuses the listed addresses, a whitelist
// refuses everyone else. IPv4 clients (IPv4-mapped ones too) are matched against the IPv4
// entries only, IPv6 clients against the IPv6 entries only (addressmatch.h). Entries that do not
// parse (refused earlier by validation) are ignored: they match no one. Immutable once built.

#include "model/streamroute.h"
#include "proxy/addressmatch.h"

#include <QHostAddress>
#include <QString>

namespace sg {

class IpRestriction
{
public:
    explicit IpRestriction(const IpRestrictionConf& conf);
    bool allows(const QHostAddress& remote) const;
    // conf.message, or APISIX's default "Your IP address is not allowed".
    QString message() const { return m_message; }

private:
    AddressList m_whitelist;
    AddressList m_blacklist;
    bool m_hasWhitelist = false;
    bool m_hasBlacklist = false;
    QString m_message;
};

} // namespace sg
