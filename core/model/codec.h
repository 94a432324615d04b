#pragma once
// JSON <-> model. Decoders validate while they decode and return every problem at once,
// each with its path (prefix given by the caller), value and reason. Encoders write back
// exactly the fields that were given, in APISIX spelling.

#include "model/problem.h"
#include "model/streamroute.h"

#include <QJsonObject>
#include <QJsonValue>
#include <QStringList>
#include <QStringView>

namespace sg {

// When problems is non-empty, value holds only the parts that decoded cleanly: report the
// problems, do not use the value.
template <typename T> struct Decoded
{
    T value{};
    Problems problems;
    bool ok() const { return problems.isEmpty(); }
};

// How strict a decode is about store-owned fields.
enum class DecodeMode {
    File,   // create_time / update_time accepted (they were written by the store)
    Client, // create_time / update_time refused (admin API, forms)
};

Decoded<StreamRoute> decodeStreamRoute(const QJsonValue& json, const QString& path = {},
                                       DecodeMode mode = DecodeMode::File);
Decoded<Upstream> decodeUpstream(const QJsonValue& json, const QString& path = {},
                                 DecodeMode mode = DecodeMode::File);
Decoded<Service> decodeService(const QJsonValue& json, const QString& path = {},
                               DecodeMode mode = DecodeMode::File);
// An ssl object as APISIX's schema takes it (the PEM texts are checked by config/sslcheck.h).
Decoded<Ssl> decodeSsl(const QJsonValue& json, const QString& path = {},
                       DecodeMode mode = DecodeMode::File);
// A listen address: a port or "ip:port", the port possibly a range "start-end" of at most
// ListenEntry::kMaxRangePorts ports.
Decoded<ListenEntry> decodeListenEntry(const QJsonValue& json, const QString& path = {});
// A stream_proxy.tcp entry: a listen address, or APISIX's object form {addr, tls,
// proxy_protocol, proxy_protocol_to_upstream}.
Decoded<ListenEntry> decodeTcpListenEntry(const QJsonValue& json, const QString& path = {});
// Whole config: per-object validation plus duplicate ids. Cross-references (upstream_id and
// service_id exist, listener present) are the store's job, see config/validation.h.
Decoded<Config> decodeConfig(const QJsonObject& json);

// The "streamgate" section (model/settings.h); path prefixes every problem.
Decoded<StreamgateSettings>
decodeSettings(const QJsonValue& json, const QString& path = QLatin1String(settingkey::Section));
QJsonObject encodeSettings(const StreamgateSettings& settings);
// Returns `onto` with each top-level setting (admin, prometheus, ...) that `next` changed
// relative to `base` carried over, as rebaseConfig does for routes.
StreamgateSettings rebaseSettings(const StreamgateSettings& base, const StreamgateSettings& next,
                                  const StreamgateSettings& onto);
// The top-level keys written ("admin", "disabled_routes", ...).
QStringList settingKeys(const StreamgateSettings& settings);

QJsonObject encodeStreamRoute(const StreamRoute& route);
QJsonObject encodeUpstream(const Upstream& upstream);
QJsonObject encodeService(const Service& service);
// Private keys in full: the config file's form. The admin API redacts them (api/adminbody.h).
QJsonObject encodeSsl(const Ssl& ssl);
QJsonValue encodeListenEntry(const ListenEntry& entry);
QJsonObject encodeConfig(const Config& config);
// plugin_metadata of `plugin` as the admin API takes it (the body of PUT
// /apisix/admin/plugin_metadata/NAME; an id in it is ignored), and as stored (with its id).
Decoded<PluginMetadata> decodePluginMetadata(const QString& plugin, const QJsonValue& json);
QJsonObject encodePluginMetadata(const PluginMetadata& metadata);

// A route's plugins with its service's: each plugin of `service` that `route` does not configure
// (APISIX's merge_service_stream_route: of a plugin both configure, the route's conf wins).
Plugins mergedPlugins(const Plugins& route, const Plugins& service);

// APISIX's rule for string ids (id_schema): 1-64 characters from a-z, A-Z, 0-9, "-", "_", ".".
bool isApisixIdText(QStringView text);

// Address helpers shared by validation and matching.
// True if text is an IPv4/IPv6 address with an optional /prefix (APISIX "ip or cidr").
bool isIpOrCidr(const QString& text);

} // namespace sg
