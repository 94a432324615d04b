// libFuzzer target: a whole config file (JSON text) through decodeConfig and checkConfig.
// Invariants: every problem has a reason; a config that decodes cleanly re-encodes to JSON
// that decodes to an equal config and re-encodes to the same bytes (decode -> encode is the
// identity on valid input, as ConfigStore's round trip relies on).

#include "config/configstore.h"
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
    const QJsonDocument doc = QJsonDocument::fromJson(text, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        return 0;

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
