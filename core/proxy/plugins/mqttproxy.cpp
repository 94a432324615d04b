// mqtt-proxy (APISIX priority 1000): the client's MQTT CONNECT, read before the session starts
// (admission.h: the pipeline waits for it before this plugin), must carry the protocol name and
// level the route expects; its client identifier is the mqtt_client_id a chash upstream
// balances on. A client whose CONNECT does not match is refused, as APISIX refuses it with 503.

#include "proxy/streamplugin.h"

namespace sg {

namespace {

class MqttProxyPlugin final : public StreamPlugin
{
public:
    explicit MqttProxyPlugin(const MqttProxyConf& conf) : m_conf(conf) {}

    PrereadVerdict preread(const StreamClient& client, const QString& routeId, RouteStats&,
                           QString&) override
    {
        const MqttInfo& mqtt = client.mqtt;
        if (mqtt.protocolName != m_conf.protocolName)
            return PrereadVerdict::refuse(
                CloseReason::BadMqttConnect,
                QStringLiteral("mqtt-proxy on route %1 expects protocol name %2, got %3")
                    .arg(routeId, m_conf.protocolName, mqtt.protocolName),
                false);
        if (mqtt.protocolLevel != m_conf.protocolLevel)
            return PrereadVerdict::refuse(
                CloseReason::BadMqttConnect,
                QStringLiteral("mqtt-proxy on route %1 expects protocol level %2, got %3")
                    .arg(routeId)
                    .arg(m_conf.protocolLevel)
                    .arg(mqtt.protocolLevel),
                false);
        return PrereadVerdict::admit();
    }
    bool readsMqttConnect() const override { return true; }

private:
    const MqttProxyConf m_conf;
};

} // namespace

namespace streamplugins {
StreamPluginType mqttproxy()
{
    return {QStringLiteral("mqtt-proxy"), 1000,
            [](const StreamPluginBuild& b) -> std::shared_ptr<StreamPlugin> {
                if (!b.route.plugins.mqttProxy)
                    return nullptr;
                return std::make_shared<MqttProxyPlugin>(*b.route.plugins.mqttProxy);
            }};
}
} // namespace streamplugins

} // namespace sg
