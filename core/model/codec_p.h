#pragma once
// Internal to the model codec, which comes in three parts: codec.cpp (APISIX's lexical rules,
// the fields every object has, listen entries, the whole config), codecupstream.cpp (upstreams:
// nodes, hashing, timeouts, health checks) and codecroute.cpp (stream routes and their
// plugins). What one part uses of another is declared here.

#include "model/codec.h"
#include "model/jsoncheck.h"

#include <QLatin1String>
#include <QStringList>

namespace sg::detail {

// ---- APISIX's lexical rules (codec.cpp) -----------------------------------------------------

bool isAsciiDigit(QChar c);
bool isAsciiAlnum(QChar c);
bool isNameChars(QStringView text);
bool isDigits(QStringView text, int maxDigits);
int parsePort(QStringView text);
bool isSniName(const QString& host);
bool isIpv4(const QString& text);
bool isHostName(const QString& host);
bool isIpv6(const QString& text);
// APISIX's words for an address Streamgate refuses (remote_addr, an ip-restriction item): one
// none of APISIX's address patterns (schema_def's ip_def) takes fails its schema's anyOf at
// path; one they take fails APISIX's own check, which says checkMessage (plugin: as for
// apisixCheck).
ApisixWording apisixAddressWording(const QString& path, const QString& text,
                                   const QString& checkMessage, const QString& plugin = {});

// ---- fields every object has (codec.cpp) ----------------------------------------------------

void decodeLabels(Checker& c, const QJsonValue& v, const QString& path, Labels& out);
void decodeId(Checker& c, const QJsonValue& v, const QString& path, QJsonValue& out);
// APISIX's certificate_scheme (key: false, 128 to 64 KiB characters) or private_key_schema
// (key: true, 64 to 64 KiB); a key's text is never echoed in a problem.
std::optional<QString> pemText(Checker& c, const QJsonValue& v, const QString& path, bool key);
void decodeTimestamp(Checker& c, const QJsonObject& o, const QString& key, const QString& path,
                     DecodeMode mode, qint64& out, QStringList& explicitFields);
void decodeString(Checker& c, const QJsonObject& o, const QString& key, const QString& path,
                  int minLength, int maxLength, QString& out, QStringList& explicitFields);
// Whether an encoder writes a field: it differs from the default, or it was given.
bool keep(const QStringList& explicitFields, const QString& name, bool nonDefault);
QJsonObject encodeLabels(const Labels& labels);

// The fields stream routes, upstreams and services share: id, name, desc, labels first, create_time
// and update_time last.
template <typename T> void decodeHead(Checker& c, const QJsonObject& o, const QString& path, T& x)
{
    if (o.contains(QLatin1String("id")))
        decodeId(c, o.value(QLatin1String("id")), childPath(path, QStringLiteral("id")), x.id);
    decodeString(c, o, QStringLiteral("name"), path, 1, 256, x.name, x.explicitFields);
    decodeString(c, o, QStringLiteral("desc"), path, 0, 256, x.desc, x.explicitFields);
    if (o.contains(QLatin1String("labels"))) {
        decodeLabels(c, o.value(QLatin1String("labels")), childPath(path, QStringLiteral("labels")),
                     x.labels);
        if (o.value(QLatin1String("labels")).toObject().isEmpty())
            x.explicitFields << QStringLiteral("labels");
    }
}

template <typename T>
void decodeTimes(Checker& c, const QJsonObject& o, const QString& path, DecodeMode mode, T& x)
{
    decodeTimestamp(c, o, QStringLiteral("create_time"), path, mode, x.createTime,
                    x.explicitFields);
    decodeTimestamp(c, o, QStringLiteral("update_time"), path, mode, x.updateTime,
                    x.explicitFields);
}

template <typename T> void encodeHead(QJsonObject& o, const T& x)
{
    if (!x.id.isUndefined() && !x.id.isNull())
        o.insert(QStringLiteral("id"), x.id);
    if (keep(x.explicitFields, QStringLiteral("name"), !x.name.isEmpty()))
        o.insert(QStringLiteral("name"), x.name);
    if (keep(x.explicitFields, QStringLiteral("desc"), !x.desc.isEmpty()))
        o.insert(QStringLiteral("desc"), x.desc);
    if (keep(x.explicitFields, QStringLiteral("labels"), !x.labels.isEmpty()))
        o.insert(QStringLiteral("labels"), encodeLabels(x.labels));
}

template <typename T> void encodeTimes(QJsonObject& o, const T& x)
{
    if (keep(x.explicitFields, QStringLiteral("create_time"), x.createTime != 0))
        o.insert(QStringLiteral("create_time"), x.createTime);
    if (keep(x.explicitFields, QStringLiteral("update_time"), x.updateTime != 0))
        o.insert(QStringLiteral("update_time"), x.updateTime);
}

// ---- stream variables: chash keys and limit-conn keys (codec.cpp) ---------------------------

inline constexpr QLatin1String kStreamKeys{
    "remote_addr, remote_port, server_addr, server_port, protocol, proxy_protocol_addr, "
    "proxy_protocol_port, proxy_protocol_server_addr, proxy_protocol_server_port, "
    "realip_remote_addr, realip_remote_port"};
bool isStreamVar(const QString& name);
// Empty when every $name in key is a stream variable (and there is at least one), else why not.
QString checkVarCombination(const QString& key);

// ---- objects inside other objects -----------------------------------------------------------

// codecupstream.cpp (a route's inline upstream, the config's upstreams)
void decodeUpstreamInto(Checker& c, const QJsonValue& v, const QString& path, DecodeMode mode,
                        Upstream& up);
// codecchecks.cpp (an upstream's checks)
void decodeChecks(Checker& c, const QJsonValue& v, const QString& path, Upstream& up);
QJsonObject encodeChecks(const ActiveHealthCheck& hc);
// codecplugins.cpp (a route's or a service's plugins). family: which of APISIX's plugins the
// object takes (a service's are its HTTP plugins: one Streamgate does not run is "not supported
// by Streamgate", a name that is no HTTP plugin of APISIX is its "unknown plugin").
void decodePlugins(Checker& c, const QJsonValue& v, const QString& path, Plugins& plugins,
                   ApisixPlugins family = ApisixPlugins::Stream);
QJsonObject encodePlugins(const Plugins& plugins);
// A syslog log_format (a route's, or plugin_metadata's): every "$variable" one Streamgate fills.
void checkLogFormat(Checker& c, const QJsonValue& v, const QString& path);
// codecmetadata.cpp (the config's plugin_metadata)
void decodePluginMetadataInto(Checker& c, const QJsonValue& v, const QString& path, DecodeMode mode,
                              PluginMetadata& m);
// codecroute.cpp (the config's stream routes and services)
void decodeRouteInto(Checker& c, const QJsonValue& v, const QString& path, DecodeMode mode,
                     StreamRoute& r);
void decodeServiceInto(Checker& c, const QJsonValue& v, const QString& path, DecodeMode mode,
                       Service& s);
// codecssl.cpp (the config's ssls)
void decodeSslInto(Checker& c, const QJsonValue& v, const QString& path, DecodeMode mode, Ssl& s);

} // namespace sg::detail
