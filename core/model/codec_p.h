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

// ---- fields every object has (codec.cpp) ----------------------------------------------------

void decodeLabels(Checker& c, const QJsonValue& v, const QString& path, Labels& out);
void decodeId(Checker& c, const QJsonValue& v, const QString& path, QJsonValue& out);
void decodeTimestamp(Checker& c, const QJsonObject& o, const QString& key, const QString& path,
                     DecodeMode mode, qint64& out, QStringList& explicitFields);
void decodeString(Checker& c, const QJsonObject& o, const QString& key, const QString& path,
                  int minLength, int maxLength, QString& out, QStringList& explicitFields);
// Whether an encoder writes a field: it differs from the default, or it was given.
bool keep(const QStringList& explicitFields, const QString& name, bool nonDefault);
QJsonObject encodeLabels(const Labels& labels);

// ---- stream variables: chash keys and limit-conn keys (codec.cpp) ---------------------------

inline constexpr QLatin1String kStreamKeys{"remote_addr, server_addr, server_port"};
bool isStreamVar(const QString& name);
// Empty when every $name in key is a stream variable (and there is at least one), else why not.
QString checkVarCombination(const QString& key);

// ---- objects inside other objects -----------------------------------------------------------

// codecupstream.cpp (a route's inline upstream, the config's upstreams)
void decodeUpstreamInto(Checker& c, const QJsonValue& v, const QString& path, DecodeMode mode,
                        Upstream& up);
// codecroute.cpp (the config's stream routes)
void decodeRouteInto(Checker& c, const QJsonValue& v, const QString& path, DecodeMode mode,
                     StreamRoute& r);

} // namespace sg::detail
