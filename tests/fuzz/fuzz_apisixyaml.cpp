// libFuzzer target: an APISIX standalone apisix.yaml through importApisixYaml (yaml-cpp, the
// YAML -> JSON conversion, decodeConfig and checkConfig).
// Invariants: every problem and warning has a reason; an accepted import is a config that
// checks without errors and survives the way Streamgate writes it back: as JSON (decode(encode)
// is the identity) and as APISIX YAML again (jsonToYaml -> import gives the same config).

#include "config/apisixyaml.h"
#include "config/configstore.h"
#include "fuzzcheck.h"
#include "model/codec.h"

#include <cstddef>
#include <cstdint>

using namespace sg;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const QByteArray yaml(reinterpret_cast<const char*>(data), qsizetype(size));
    const QString source = QStringLiteral("apisix.yaml");
    const ApisixImport imported = importApisixYaml(yaml, source);
    fuzz::requireReasons(imported.problems, "import problem without a reason");
    fuzz::requireReasons(imported.warnings, "import warning without a reason");
    fuzz::require(!imported.hasStreamProxy, "stream_proxy read without a config file");
    if (!imported.ok()) {
        fuzz::require(imported.config == Config{}, "a refused import kept a config");
        return 0;
    }

    const Config& config = imported.config;
    const ConfigCheck check = checkConfig(config);
    fuzz::require(check.errors.isEmpty(), "an accepted import has check errors",
                  formatProblems(check.errors).toUtf8());

    const QJsonObject encoded = encodeConfig(config);
    const Decoded<Config> again = decodeConfig(encoded);
    fuzz::require(again.ok() && again.value == config, "decode(encode(import)) differs",
                  fuzz::json(encoded) + "\n" + formatProblems(again.problems).toUtf8());

    // Written back as APISIX YAML (the lists exportApisix writes) and read again.
    QJsonObject lists;
    lists.insert(QStringLiteral("stream_routes"), encoded.value(QStringLiteral("stream_routes")));
    lists.insert(QStringLiteral("upstreams"), encoded.value(QStringLiteral("upstreams")));
    lists.insert(QStringLiteral("services"), encoded.value(QStringLiteral("services")));
    const QByteArray written = jsonToYaml(lists);
    const ApisixImport reread = importApisixYaml(written, source);
    fuzz::require(reread.ok(), "exported YAML does not import",
                  written + "\n" + formatProblems(reread.problems).toUtf8());
    fuzz::require(reread.config == config, "export -> import changes the config", written);
    return 0;
}
