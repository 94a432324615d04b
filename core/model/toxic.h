#pragma once
// A toxic: one fault injected into one direction of a route's connections (TCP) or sessions
// (UDP: a client's flow), with Toxiproxy's names, attributes and units
// (https://github.com/Shopify/toxiproxy#toxics), plus packet loss for UDP, which Toxiproxy lacks.
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
//   loss        loss_rate 0..1             UDP only: each datagram dropped with this
//                                          probability (stored as parts per million)
//
// On a UDP route only latency, bandwidth and loss have a meaning (proxy/toxics/udptoxics.h);
// the config check refuses the others there, and loss on a TCP route.
//
// Query toxics (Streamgate's own) act on the MySQL commands of a route's connections, not on
// bytes (proxy/mysqlfaults.h): a command hits when it matches every text attribute given
//   match      a regular expression searched (case-insensitive) in the command's digest text
//              as the Queries view shows it ("SELECT * FROM t WHERE id = ?", "COM_PING")
//   command    a command name (COM_QUERY, COM_STMT_EXECUTE, ...: queryToxicCommands())
//   user       the MySQL user, exactly; database  the schema in use, exactly
// and then the draw from its toxicity, made for each matching command, says so:
//   mysql_latency  latency ms, jitter ms   the command reaches the server that much later
//   mysql_error    code (default 1213),    the client gets this ERR instead of the answer
//                  sqlstate, message       (defaults: the server's own for the known codes)
//   mysql_close    (none)                  the connection is reset as the command arrives
// Their stream has no meaning (they act where the command passes); they run on TCP routes only.
//
// Beyond Toxiproxy: "clients" narrows a toxic to client addresses (IPs or CIDRs, as
// ip-restriction's whitelist; empty = every client), and "enabled": false keeps a toxic in the
// config while it hits nothing. Both are written (to the file and in API answers) only when
// they differ from the default, so Toxiproxy's clients see the shape they know.

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
    LimitData,
    Loss, // UDP only
    MySqlLatency,
    MySqlError,
    MySqlClose,
};

struct ToxicSpec
{
    // Attributes in the order toxicAttributeNames() lists them for the type; unused ones 0.
    static constexpr int kMaxAttributes = 3;
    // A fraction attribute (loss_rate) is written 0..1 and kept as parts per million.
    static constexpr qint64 kFractionScale = 1000000;
    // Text attributes (query toxics), in the order toxicTextNames() lists them; unused ones "".
    static constexpr int kMaxTexts = 6;

    QString name; // unique on its route; default "<type>_<stream>"
    ToxicType type = ToxicType::Latency;
    bool upstream = false; // stream "upstream": client -> server; else downstream
    double toxicity = 1.0; // probability per connection, 0..1
    std::array<qint64, kMaxAttributes> attributes{};
    std::array<QString, kMaxTexts> texts{};
    QStringList clients; // client IPs/CIDRs it hits; empty = every client
    bool enabled = true; // false: kept, but hits nothing (what it holds drains)

    qint64 attribute(const char* name) const;
    QString text(const char* name) const;
    QString streamName() const;
    bool operator==(const ToxicSpec&) const = default;
};

QString toxicTypeName(ToxicType type);
QStringList toxicTypeNames();
QStringList toxicAttributeNames(ToxicType type); // the numeric ones
QStringList toxicTextNames(ToxicType type);      // the text ones (query toxics)
// Whether the toxic acts on MySQL commands (proxy/mysqlfaults.h) rather than on bytes.
bool isQueryToxic(ToxicType type);
// The commands a query toxic may name: those a server answers.
QStringList queryToxicCommands();
// Why a toxic of `type` cannot run on a route of that transport, or empty when it can.
QString toxicUnsupportedReason(ToxicType type, bool udp);

// {"name", "type", "stream", "toxicity", "attributes": {...}}, as Toxiproxy answers, plus
// "clients" when not empty and "enabled" when false.
QJsonObject encodeToxic(const ToxicSpec& toxic);

enum class ToxicInput {
    File, // the config file: every key known, every field written
    Api,  // Toxiproxy's API: unknown keys ignored (as Toxiproxy does), defaults applied
};

// A new toxic: type required; name defaults to "<type>_<stream>", stream to "downstream",
// toxicity to 1, attributes to 0, clients to none (every client), enabled to true. Problems
// name the field (path.attributes.latency, path.clients[1]), the value and the reason.
Problems decodeToxic(const QJsonValue& json, const QString& path, ToxicInput input, ToxicSpec* out);
// An update as Toxiproxy takes it: "attributes" (those given replace the toxic's) and
// "toxicity", and Streamgate's "clients" (replacing the list) and "enabled"; name, type and
// stream stay.
Problems decodeToxicUpdate(const QJsonValue& json, const QString& path, ToxicSpec* inout);

} // namespace sg
