#include "proxy/plugins/iprestriction.h"

#include "proxy/streamplugin.h"
#include "stats/statshub.h"

namespace sg {

namespace {

// Validation refuses bad entries; should one slip through, it simply matches no one.
AddressList parseEntries(const QStringList& entries)
{
    if (auto list = AddressList::parse(entries))
        return *list;
    QStringList valid;
    for (const QString& entry : entries) {
        if (AddressRule::parse(entry))
            valid.append(entry);
    }
    return AddressList::parse(valid).value_or(AddressList{});
}

class IpRestrictionPlugin final : public StreamPlugin
{
public:
    explicit IpRestrictionPlugin(const IpRestrictionConf& conf) : m_rule(conf) {}

    PrereadVerdict preread(const StreamClient& client, const QString& routeId, RouteStats& stats,
                           QString&) override
    {
        if (m_rule.allows(client.remoteAddress))
            return PrereadVerdict::admit();
        stats.add(stats.deniedIpRestriction);
        const QString msg = m_rule.message();
        return PrereadVerdict::refuse(
            CloseReason::DeniedIpRestriction,
            QStringLiteral("ip-restriction on route %1%2")
                .arg(routeId, msg.isEmpty() ? QString() : QStringLiteral(" (") + msg + ')'),
            false);
    }

private:
    const IpRestriction m_rule;
};

} // namespace

IpRestriction::IpRestriction(const IpRestrictionConf& conf)
    : m_whitelist(parseEntries(conf.whitelist)), m_blacklist(parseEntries(conf.blacklist)),
      m_hasWhitelist(!conf.whitelist.isEmpty()), m_hasBlacklist(!conf.blacklist.isEmpty()),
      m_message(conf.message.isEmpty() ? QStringLiteral("Your IP address is not allowed")
                                       : conf.message)
{
}

bool IpRestriction::allows(const QHostAddress& remote) const
{
    const QHostAddress peer = normalizedAddress(remote);
    if (m_hasBlacklist && m_blacklist.contains(peer))
        return false;
    if (m_hasWhitelist && !m_whitelist.contains(peer))
        return false;
    return true;
}

namespace streamplugins {
StreamPluginType iprestriction()
{
    return {QStringLiteral("ip-restriction"), 3000,
            [](const StreamPluginBuild& b) -> std::shared_ptr<StreamPlugin> {
                if (!b.route.plugins.ipRestriction)
                    return nullptr;
                return std::make_shared<IpRestrictionPlugin>(*b.route.plugins.ipRestriction);
            }};
}
} // namespace streamplugins

} // namespace sg
