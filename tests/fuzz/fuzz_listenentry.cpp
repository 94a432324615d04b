// libFuzzer target: one stream_proxy.tcp/udp entry (a port, "ip:port", "[v6]:port", the port
// possibly a range "start-end").
// Invariants: every problem has a reason; a valid entry has a port in 1..65535 (a range: up to
// an end in port..65535, at most ListenEntry::kMaxRangePorts ports), re-encodes to what was
// written and decodes again to an equal entry; its text() form decodes to it as well.

#include "fuzzcheck.h"
#include "model/codec.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>
#include <cstddef>
#include <cstdint>

using namespace sg;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const QByteArray text(reinterpret_cast<const char*>(data), qsizetype(size));
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson("[" + text + "]", &error);
    QJsonValue entry;
    if (error.error == QJsonParseError::NoError && doc.array().size() == 1)
        entry = doc.array().first();
    else
        entry = QString::fromUtf8(text); // raw bytes as a string entry

    const Decoded<ListenEntry> decoded =
        decodeListenEntry(entry, QStringLiteral("stream_proxy.tcp[0]"));
    fuzz::requireReasons(decoded.problems, "decodeListenEntry problem without a reason");
    if (!decoded.ok())
        return 0;
    const ListenEntry& e = decoded.value;
    fuzz::require(e.port >= 1 && e.port <= 65535, "valid listen entry with a port out of range",
                  fuzz::json(entry));
    fuzz::require(!e.isRange() || (e.portEnd >= e.port && e.portEnd <= 65535 &&
                                   e.portCount() <= ListenEntry::kMaxRangePorts),
                  "valid listen entry with a bad range", fuzz::json(entry));

    const QJsonValue encoded = encodeListenEntry(e);
    fuzz::require(encoded == entry, "encodeListenEntry does not write back what was given",
                  fuzz::json(entry) + " -> " + fuzz::json(encoded));
    const Decoded<ListenEntry> again = decodeListenEntry(encoded);
    fuzz::require(again.ok() && again.value == e, "decode(encode(entry)) != entry",
                  fuzz::json(encoded));

    // text() is what logs and the GUI show; written back into a file it must mean the same.
    const QString shown = e.text();
    const QJsonValue asWritten =
        e.host.isEmpty() && !e.isRange() ? QJsonValue(shown.toInt()) : QJsonValue(shown);
    const Decoded<ListenEntry> fromText = decodeListenEntry(asWritten);
    fuzz::require(fromText.ok() && fromText.value == e,
                  "ListenEntry::text() does not decode to the entry", shown.toUtf8());
    return 0;
}
