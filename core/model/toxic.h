#pragma once
// A toxic: one fault injected into one direction of a TCP route's connections, with
// Toxiproxy's names, attributes and units (https://github.com/Shopify/toxiproxy#toxics).
// Toxics live in the config under streamgate.toxics["<route id>"] (never inside stream_routes,
// so an export stays valid for APISIX); the relay applies them (proxy/toxics/) and the
// Toxiproxy API edits them (api/toxiproxyapi.h).
//
//   latency     latency ms, jitter ms      every chunk delayed by latency +- jitter
//   bandwidth   rate KB/s (1 KB = 1000 B)  throughput capped; 0 = unlimited
//   slow_close  delay ms                   the close (FIN) held back by delay
//   timeout     timeout ms                 data dropped; the connection closed after timeout
//                                          (0: held open and silent forever)
//   reset_peer  timeout ms                 data dropped; a TCP reset after timeout from the
//                                          first byte
//   slicer      average_size, size_variation bytes, delay us: writes split into small pieces
//   limit_data  bytes                      the connection closed after this many bytes

#include "model/problem.h"

#include <QJsonObject>
#include <QJsonValue>
#include <QString>
#include <QStringList>
#include <array>

namespace sg {

enum class ToxicType : quint8 {
    Latency,
    Bandwidth,
    SlowClose,
    Timeout,
    ResetPeer,
    Slicer,
    LimitData
};

struct ToxicSpec
{
    // Attributes in the order toxicAttributeNames() lists them for the type; unused ones 0.
    static constexpr int kMaxAttributes = 3;

    QString name; // unique on its route; default "<type>_<stream>"
    ToxicType type = ToxicType::Latency;
    bool upstream = false; // stream "upstream": client -> server; else downstream
    double toxicity = 1.0; // probability per connection, 0..1
    std::array<qint64, kMaxAttributes> attributes{};

    qint64 attribute(const char* name) const;
    QString streamName() const;
    bool operator==(const ToxicSpec&) const = default;
};

QString toxicTypeName(ToxicType type);
QStringList toxicTypeNames();
QStringList toxicAttributeNames(ToxicType type);

// {"name", "type", "stream", "toxicity", "attributes": {...}}, as Toxiproxy answers.
QJsonObject encodeToxic(const ToxicSpec& toxic);

enum class ToxicInput {
    File, // the config file: every key known, every field written
    Api,  // Toxiproxy's API: unknown keys ignored (as Toxiproxy does), defaults applied
};

// A new toxic: type required; name defaults to "<type>_<stream>", stream to "downstream",
// toxicity to 1, attributes to 0. Problems name the field (path.attributes.latency), the value
// and the reason.
Problems decodeToxic(const QJsonValue& json, const QString& path, ToxicInput input, ToxicSpec* out);
// An update as Toxiproxy takes it: "attributes" (those given replace the toxic's) and
// "toxicity"; name, type and stream stay.
Problems decodeToxicUpdate(const QJsonValue& json, const QString& path, ToxicSpec* inout);

} // namespace sg
