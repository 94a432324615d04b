// libFuzzer target: one stream route as the admin API and the route form submit it
// (decodeStreamRoute in client mode). Invariants: every problem has a reason and a path inside
// the route; a route accepted from a client is also accepted from a file; a valid route
// re-encodes to JSON that decodes to an equal route and re-encodes to the same object.

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
    // Wrapped in an array so scalars and arrays reach the decoder too (a PUT body can be any JSON).
    const QJsonDocument doc = QJsonDocument::fromJson("[" + text + "]", &error);
    if (error.error != QJsonParseError::NoError || doc.array().size() != 1)
        return 0;
    const QJsonValue body = doc.array().first();

    const QString prefix = QStringLiteral("route");
    const Decoded<StreamRoute> decoded = decodeStreamRoute(body, prefix, DecodeMode::Client);
    fuzz::requireReasons(decoded.problems, "decodeStreamRoute problem without a reason");
    for (const Problem& p : decoded.problems)
        fuzz::require(p.path.startsWith(prefix),
                      "problem path does not start with the given prefix", p.path.toUtf8());
    if (!decoded.ok())
        return 0;

    const Decoded<StreamRoute> fromFile = decodeStreamRoute(body, prefix, DecodeMode::File);
    fuzz::require(fromFile.ok() && fromFile.value == decoded.value,
                  "client-valid route is not file-valid", fuzz::json(body));

    const QJsonObject encoded = encodeStreamRoute(decoded.value);
    const Decoded<StreamRoute> again = decodeStreamRoute(encoded, prefix, DecodeMode::Client);
    fuzz::require(again.ok(), "encodeStreamRoute wrote a route that does not decode",
                  fuzz::json(encoded) + "\n" + formatProblems(again.problems).toUtf8());
    fuzz::require(again.value == decoded.value, "decode(encode(route)) != route",
                  fuzz::json(encoded));
    fuzz::require(encodeStreamRoute(again.value) == encoded, "encodeStreamRoute is not stable",
                  fuzz::json(encoded));
    return 0;
}
