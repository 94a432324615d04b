#pragma once
// APISIX standalone files: export writes apisix.yaml (stream_routes, upstreams, services,
// "#END") and config-stream.yaml (apisix.proxy_mode: stream, apisix.stream_proxy); import reads
// them back through the same decoders as the JSON config, all problems at once and nothing
// half-applied. Streamgate-only settings never reach an APISIX file; each one left out becomes a
// warning.

#include "config/yamljson.h"
#include "model/codec.h"
#include "model/problem.h"
#include "model/streamroute.h"

#include <QJsonValue>
#include <QString>
#include <QStringList>
#include <optional>

namespace sg {

class ConfigStore;

struct ApisixExport
{
    QStringList files; // paths written (empty when nothing could be written)
    Problems problems; // why writing failed (directory, disk)
    Problems warnings; // what was left out because APISIX would not accept it
    bool ok() const { return problems.isEmpty(); }
};

// Writes DIR/apisix.yaml and DIR/config-stream.yaml (the directory is created if needed).
ApisixExport exportApisix(const Config& config, const QString& dir);

struct ApisixImport
{
    Config config;               // stream_routes, upstreams, services (+ stream_proxy when found)
    bool hasStreamProxy = false; // a config-stream.yaml / config.yaml beside FILE gave one
    QString streamProxyFile;     // which file it came from
    // nginx_config.stream.real_ip_from of that file, when it has one (streamgate.real_ip_from)
    std::optional<QStringList> realIpFrom;
    // apisix.ssl.ssl_trusted_certificate of that file, when it has one that can be used here
    // ("system", or a file that exists: streamgate.ssl_trusted_certificate)
    std::optional<QString> sslTrustedCertificate;
    Problems problems; // every refusal, with path, value and reason
    Problems warnings;
    bool ok() const { return problems.isEmpty(); }
};

// Reads an APISIX standalone apisix.yaml. Items without an id get "arr_N" (1-based, per list)
// as APISIX does; list order is match order. When a config-stream.yaml (or config.yaml) sits
// next to FILE, its apisix.stream_proxy becomes the listener set.
ApisixImport importApisix(const QString& file);
// The same on text already read: `source` names it in problems; streamProxyFile, when not empty,
// is the APISIX config file whose apisix.stream_proxy becomes the listener set.
ApisixImport importApisixYaml(const QByteArray& yaml, const QString& source,
                              const QString& streamProxyFile = {});

// The config a store holds after importing: routes, upstreams and services replaced, listeners
// replaced when the import had them, Streamgate's own settings kept.
Config mergeApisixImport(const Config& current, const ApisixImport& imported);

// Command-line entry points (exit codes: 0 ok, 1 invalid input, 2 unreadable or unwritable).
// Messages go to stderr, one problem or warning per line.
int exportApisixCommand(const QString& configPath, const QString& dir);
int importApisixCommand(const QString& configPath, const QString& file);

} // namespace sg
