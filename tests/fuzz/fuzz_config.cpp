// libFuzzer target: a whole config file (JSON text) through the duplicate-key scan of the raw
// bytes (detail::duplicateKeys), decodeConfig and checkConfig.
// Invariants: every problem has a reason; the scan survives any bytes, finds no duplicate in
// what QJsonDocument writes and finds one the target adds; a config that decodes cleanly
// re-encodes to JSON that decodes to an equal config and re-encodes to the same bytes
// (decode -> encode is the identity on valid input, as ConfigStore's round trip relies on).

#include "config/configstore.h"
#include "fuzzcheck.h"
#include "model/codec.h"
#include "model/jsoncheck.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>
#include <cstddef>
#include <cstdint>

using namespace sg;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const QByteArray text(reinterpret_cast<const char*>(data), qsizetype(size));
    fuzz::requireReasons(detail::duplicateKeys(text), "duplicateKeys problem without a reason");
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(text, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        return 0;

    // QJsonDocument keeps one value per key: what it writes has no duplicate anywhere.
    const QByteArray compact = doc.toJson(QJsonDocument::Compact);
    const Problems none = detail::duplicateKeys(compact);
    fuzz::require(none.isEmpty(), "duplicateKeys reports a key QJsonDocument wrote once",
                  compact + "\n" + formatProblems(none).toUtf8());
    fuzz::require(detail::duplicateKeys(doc.toJson(QJsonDocument::Indented)).isEmpty(),
                  "duplicateKeys reports a key in indented output", compact);
    if (!doc.object().isEmpty()) {
        // The first key once more in front: the scan must name it at the top level.
        const QString key = doc.object().begin().key();
        QByteArray twice =
            QJsonDocument(QJsonObject{{key, QJsonValue::Null}}).toJson(QJsonDocument::Compact);
        twice.chop(1);
        twice += ',' + compact.mid(1);
        const Problems found = detail::duplicateKeys(twice);
        fuzz::require(found.size() == 1 && found.first().path == detail::childPath({}, key),
                      "duplicateKeys misses a repeated top-level key",
                      twice + "\n" + formatProblems(found).toUtf8());
    }

    const Decoded<Config> decoded = decodeConfig(doc.object());
    fuzz::requireReasons(decoded.problems, "decodeConfig problem without a reason");
    if (!decoded.ok())
        return 0;

    const ConfigCheck check = checkConfig(decoded.value);
    fuzz::requireReasons(check.errors, "checkConfig error without a reason");
    fuzz::requireReasons(check.warnings, "checkConfig warning without a reason");

    const QJsonObject encoded = encodeConfig(decoded.value);
    const Decoded<Config> again = decodeConfig(encoded);
    fuzz::require(again.ok(), "encodeConfig wrote a config that does not decode",
                  fuzz::json(encoded) + "\n" + formatProblems(again.problems).toUtf8());
    fuzz::require(again.value == decoded.value, "decode(encode(config)) != config",
                  fuzz::json(encoded));
    fuzz::require(encodeConfig(again.value) == encoded, "encodeConfig is not stable",
                  fuzz::json(encoded));
    // Cross-checks judge the same document the same way however often it is round-tripped.
    const ConfigCheck checkAgain = checkConfig(again.value);
    fuzz::require(checkAgain.errors == check.errors && checkAgain.warnings == check.warnings,
                  "checkConfig differs after a round trip", fuzz::json(encoded));
    return 0;
}
