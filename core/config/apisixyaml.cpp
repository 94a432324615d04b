#include "config/apisixyaml.h"

#include "config/configstore.h"
#include "model/accesslogformat.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QTextStream>

namespace sg {

namespace {

const QString kRoutesFile = QStringLiteral("apisix.yaml");
const QString kProxyFile = QStringLiteral("config-stream.yaml");

QString compactJson(const QJsonValue& value)
{
    if (value.isObject())
        return QString::fromUtf8(QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact));
    if (value.isArray())
        return QString::fromUtf8(QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact));
    if (value.isString())
        return value.toString();
    return QString::fromUtf8(
        QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact).chopped(1).mid(1));
}

// secret: the text holds private keys (ssls), so the file is the owner's only (0600).
Problems writeText(const QString& path, const QByteArray& text, bool secret = false)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return {Problem{path, {}, QStringLiteral("cannot write: %1").arg(file.errorString())}};
    if (secret && !file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner))
        return {Problem{
            path, {}, QStringLiteral("cannot make it private (0600): %1").arg(file.errorString())}};
    file.write(text);
    if (!file.commit())
        return {Problem{path, {}, QStringLiteral("cannot write: %1").arg(file.errorString())}};
    return {};
}

// apisix.proxy_protocol: enable_tcp_pp and enable_tcp_pp_to_upstream are the defaults of the
// stream_proxy.tcp entries that do not say (apisix/cli/ops.lua); they are written onto those
// entries, so the listener set means the same without them.
void readProxyProtocolDefaults(const QJsonObject& root, ApisixImport& result)
{
    const QJsonValue pp = root.value(u"apisix").toObject().value(u"proxy_protocol");
    if (pp.isUndefined() || pp.isNull())
        return;
    const QString base = QStringLiteral("apisix.proxy_protocol");
    if (!pp.isObject()) {
        result.problems << Problem{base, compactJson(pp), QStringLiteral("must be an object")};
        return;
    }
    const QJsonObject o = pp.toObject();
    for (auto it = o.begin(); it != o.end(); ++it) {
        const QString path = base + u'.' + it.key();
        const bool in = it.key() == u"enable_tcp_pp";
        if (!in && it.key() != u"enable_tcp_pp_to_upstream") {
            result.warnings << Problem{
                path, compactJson(it.value()),
                it.key().startsWith(u"listen_http")
                    ? QStringLiteral("not imported: an HTTP listener, Streamgate proxies streams")
                    : QStringLiteral("not imported: Streamgate has no such setting")};
            continue;
        }
        if (!it.value().isBool()) {
            result.problems << Problem{path, compactJson(it.value()),
                                       QStringLiteral("must be true or false")};
            continue;
        }
        for (ListenEntry& entry : result.config.streamProxy.tcp) {
            std::optional<bool>& target = in ? entry.proxyProtocol : entry.proxyProtocolToUpstream;
            if (!target)
                target = it.value().toBool();
        }
    }
}

// nginx_config.stream.real_ip_from: who may tell a client's address in a PROXY protocol header.
void readRealIpFrom(const QJsonObject& root, ApisixImport& result)
{
    const QJsonValue list =
        root.value(u"nginx_config").toObject().value(u"stream").toObject().value(u"real_ip_from");
    if (list.isUndefined() || list.isNull())
        return;
    const QString key = QLatin1String(settingkey::RealIpFrom);
    const Decoded<StreamgateSettings> decoded =
        decodeSettings(QJsonObject{{key, list}}, QStringLiteral("nginx_config.stream"));
    result.problems << decoded.problems;
    if (decoded.ok())
        result.realIpFrom = decoded.value.realIpFrom;
}

// apisix.ssl.ssl_trusted_certificate: the CAs upstreams with tls.verify trust. A path of the
// APISIX machine that is no file here is left out, said, rather than refusing the import.
void readTrustedCertificates(const QJsonObject& root, ApisixImport& result)
{
    const QJsonValue value =
        root.value(u"apisix").toObject().value(u"ssl").toObject().value(u"ssl_trusted_certificate");
    if (value.isUndefined() || value.isNull())
        return;
    const QString path = QStringLiteral("apisix.ssl.ssl_trusted_certificate");
    if (!value.isString() || value.toString().isEmpty()) {
        result.problems << Problem{path, compactJson(value),
                                   QStringLiteral("must be \"system\" or the path of a PEM file")};
        return;
    }
    const QString text = value.toString();
    if (text != QLatin1String("system") && !QFileInfo(text).isFile()) {
        result.warnings << Problem{path, text,
                                   QStringLiteral("not imported: no such file here; upstreams "
                                                  "with tls.verify trust the system's CAs until "
                                                  "streamgate.ssl_trusted_certificate names one")};
        return;
    }
    result.sslTrustedCertificate = text;
}

// Reads apisix.stream_proxy from an APISIX config file (config-stream.yaml or config.yaml).
void readStreamProxy(const QString& path, ApisixImport& result)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        result.problems << Problem{
            path, {}, QStringLiteral("cannot read: %1").arg(file.errorString())};
        return;
    }
    Problems syntax;
    const QJsonValue root = yamlToJson(file.readAll(), path, &syntax);
    if (!syntax.isEmpty()) {
        result.problems << syntax;
        return;
    }
    readRealIpFrom(root.toObject(), result);
    readTrustedCertificates(root.toObject(), result);
    const QJsonValue proxy = root.toObject().value(u"apisix").toObject().value(u"stream_proxy");
    if (proxy.isUndefined() || proxy.isNull())
        return; // an APISIX config without stream listeners: keep the current ones
    result.hasStreamProxy = true;
    result.streamProxyFile = path;
    if (!proxy.isObject()) {
        result.problems << Problem{QStringLiteral("apisix.stream_proxy"), compactJson(proxy),
                                   QStringLiteral("must be an object with tcp and/or udp")};
        return;
    }
    const QJsonObject obj = proxy.toObject();
    for (auto it = obj.begin(); it != obj.end(); ++it) {
        const QString base = QStringLiteral("apisix.stream_proxy.") + it.key();
        if (it.key() != u"tcp" && it.key() != u"udp") {
            result.warnings << Problem{
                base, compactJson(it.value()),
                QStringLiteral("not imported: Streamgate has no such listener setting")};
            continue;
        }
        if (!it.value().isArray()) {
            result.problems << Problem{base, compactJson(it.value()),
                                       QStringLiteral("must be an array")};
            continue;
        }
        QList<ListenEntry>& target =
            it.key() == u"tcp" ? result.config.streamProxy.tcp : result.config.streamProxy.udp;
        const QJsonArray entries = it.value().toArray();
        for (int i = 0; i < entries.size(); ++i) {
            const QString path = QStringLiteral("%1[%2]").arg(base).arg(i);
            const QJsonValue entry = entries.at(i);
            Decoded<ListenEntry> decoded = it.key() == u"tcp" ? decodeTcpListenEntry(entry, path)
                                                              : decodeListenEntry(entry, path);
            if (decoded.ok())
                target << decoded.value;
            else
                result.problems << decoded.problems;
        }
    }
    readProxyProtocolDefaults(root.toObject(), result);
}

// APISIX's default stream_plugins (apisix/cli/config.lua) and prometheus, in priority order.
const QStringList kStreamPlugins{QStringLiteral("ip-restriction"), QStringLiteral("limit-conn"),
                                 QStringLiteral("mqtt-proxy"),     QStringLiteral("traffic-split"),
                                 QStringLiteral("prometheus"),     QStringLiteral("syslog")};

bool usesPrometheus(const Config& config)
{
    for (const StreamRoute& route : config.streamRoutes)
        if (route.plugins.prometheus)
            return true;
    for (const Service& service : config.services)
        if (service.plugins.prometheus)
            return true;
    return false;
}

const QStringList& apisixOnlySections()
{
    static const QStringList sections{
        QStringLiteral("routes"),          QStringLiteral("consumers"),
        QStringLiteral("consumer_groups"), QStringLiteral("global_rules"),
        QStringLiteral("plugin_configs"),  QStringLiteral("plugins"),
        QStringLiteral("stream_plugins"),  QStringLiteral("protos"),
        QStringLiteral("secrets"),         QStringLiteral("upstreams_nodes"),
        QStringLiteral("credentials"),
    };
    return sections;
}

// nginx_config.stream: streamgate.real_ip_from and streamgate.access_log as APISIX spells them,
// or nothing when the config has neither. A format with Streamgate's own variables cannot go:
// APISIX's nginx would refuse to start on it, so it is left out with a warning and APISIX keeps its
// default format.
QByteArray nginxStreamForApisix(const Config& config, Problems& warnings)
{
    const StreamgateSettings& settings = config.streamgate;
    QJsonObject stream;
    QByteArray text;
    // Who may tell a client's address: written whenever a listener reads the PROXY protocol,
    // so APISIX (whose default trusts nobody) trusts the same sources as Streamgate did.
    bool readsProxyProtocol = false;
    for (const ListenEntry& entry : config.streamProxy.tcp)
        readsProxyProtocol = readsProxyProtocol || entry.readsProxyProtocol();
    if (readsProxyProtocol || settings.realIpFrom) {
        text += "# streamgate.real_ip_from: the sources trusted to tell a client's address in a\n"
                "# PROXY protocol header";
        text += settings.realIpFrom ? ".\n" : " (Streamgate's default, loopback only).\n";
        stream.insert(QStringLiteral("real_ip_from"),
                      QJsonArray::fromStringList(settings.realIpFromList()));
    }
    if (!settings.accessLog) {
        if (stream.isEmpty())
            return {};
        return text + jsonToYaml(QJsonObject{{QStringLiteral("nginx_config"),
                                              QJsonObject{{QStringLiteral("stream"), stream}}}});
    }
    stream.insert(QStringLiteral("enable_access_log"), settings.accessLogEnabled());
    if (settings.accessLogInterimSeconds() > 0)
        warnings << Problem{settingPath({settingkey::AccessLog, settingkey::InterimInterval}),
                            QString::number(settings.accessLogInterimSeconds()),
                            QStringLiteral("left out: APISIX's stream access log writes a "
                                           "session's line only when it ends")};
    const QString format = settings.accessLogFormat();
    if (!format.isEmpty()) {
        QStringList own;
        for (const AccessLogFormat::Part& part : parseAccessLogFormat(format).format.parts)
            if (isStreamgateAccessLogVariable(part.variable))
                own << QLatin1Char('$') + accessLogVariableName(part.variable);
        own.removeDuplicates();
        const QString path = settingPath({settingkey::AccessLog, settingkey::Format});
        if (format.contains(QLatin1Char('\'')))
            // APISIX writes log_format main '<format>' into nginx.conf (apisix/cli/ngx_tpl.lua).
            warnings << Problem{path, format,
                                QStringLiteral("left out: APISIX puts the format between single "
                                               "quotes in nginx.conf, so it cannot hold a \"'\"")};
        else if (own.isEmpty())
            stream.insert(QStringLiteral("access_log_format"), format);
        else
            warnings << Problem{
                settingPath({settingkey::AccessLog, settingkey::Format}), format,
                QStringLiteral("left out: %1 %2 Streamgate's own, APISIX's stream "
                               "access log has no such variable")
                    .arg(own.join(QStringLiteral(", ")),
                         own.size() == 1 ? QStringLiteral("is") : QStringLiteral("are"))};
    }
    text += "# streamgate.access_log: APISIX's stream access log (APISIX ships it off).\n";
    text += jsonToYaml(QJsonObject{
        {QStringLiteral("nginx_config"), QJsonObject{{QStringLiteral("stream"), stream}}}});
    return text;
}

void printLines(QTextStream& out, const Problems& problems, const QString& prefix = {})
{
    for (const Problem& p : problems)
        out << prefix << p.text()
            << (p.value.isEmpty() || p.reason.contains(p.value)
                    ? QString()
                    : QStringLiteral(" (value: %1)").arg(p.value))
            << '\n';
}

} // namespace

ApisixExport exportApisix(const Config& config, const QString& dir)
{
    ApisixExport result;

    for (const QString& key : settingKeys(config.streamgate))
        // No value in the warning: this section holds the admin key. The access log and the
        // trusted sources go to APISIX's config, below.
        if (key != QLatin1String(settingkey::AccessLog) &&
            key != QLatin1String(settingkey::RealIpFrom) &&
            key != QLatin1String(settingkey::SslTrustedCertificate))
            result.warnings << Problem{
                settingPath({qPrintable(key)}),
                {},
                QStringLiteral("Streamgate-only setting, left out (APISIX has no such field)")};
    // Named on its own: under APISIX the route's database clients lose TLS termination.
    for (const auto& [id, route] :
         config.streamgate.routes.value_or(QMap<QString, RouteSettings>()).asKeyValueRange()) {
        if (route.databaseTls.value_or(false))
            result.warnings << Problem{
                settingPath({settingkey::Routes, qPrintable(id), settingkey::DatabaseTls}),
                {},
                QStringLiteral("Streamgate-only setting, left out: APISIX does not answer a "
                               "database client's TLS request, so its clients reach the server's "
                               "own TLS (or none)")};
        if (route.databaseServerTls && *route.databaseServerTls != u"off")
            result.warnings << Problem{
                settingPath({settingkey::Routes, qPrintable(id), settingkey::DatabaseServerTls}),
                {},
                QStringLiteral("Streamgate-only setting, left out: under APISIX the database "
                               "client's own TLS settings decide whether the server leg is "
                               "encrypted")};
    }

    QJsonArray routes;
    for (const StreamRoute& route : config.streamRoutes)
        routes.append(encodeStreamRoute(route));
    QJsonArray upstreams;
    for (const Upstream& upstream : config.upstreams)
        upstreams.append(encodeUpstream(upstream));
    QJsonArray services;
    for (const Service& service : config.services)
        services.append(encodeService(service));
    QJsonArray metadata;
    for (const PluginMetadata& m : config.pluginMetadata)
        metadata.append(encodePluginMetadata(m));
    // In full, private keys too: the file is for an APISIX that serves these certificates.
    QJsonArray ssls;
    for (const Ssl& ssl : config.ssls)
        ssls.append(encodeSsl(ssl));

    QJsonArray tcp;
    for (const ListenEntry& entry : config.streamProxy.tcp)
        tcp.append(encodeListenEntry(entry));
    QJsonArray udp;
    for (const ListenEntry& entry : config.streamProxy.udp)
        udp.append(encodeListenEntry(entry));
    if (tcp.isEmpty() && udp.isEmpty())
        result.warnings << Problem{
            QStringLiteral("stream_proxy"),
            {},
            QStringLiteral("no TCP or UDP listener: APISIX in stream mode needs at least one")};

    if (!QDir().mkpath(dir)) {
        result.problems << Problem{dir, {}, QStringLiteral("cannot create the directory")};
        return result;
    }

    QByteArray routesText =
        "# APISIX standalone data (deployment.role_data_plane.config_provider: yaml),\n"
        "# exported by Streamgate " STREAMGATE_VERSION ". List order is match order.\n";
    // Keys in APISIX's usual order rather than QJsonObject's alphabetical one.
    QJsonObject routesOnly;
    routesOnly.insert(QStringLiteral("stream_routes"), routes);
    QJsonObject upstreamsOnly;
    upstreamsOnly.insert(QStringLiteral("upstreams"), upstreams);
    routesText += jsonToYaml(routesOnly);
    routesText += jsonToYaml(upstreamsOnly);
    if (!services.isEmpty())
        routesText += jsonToYaml(QJsonObject{{QStringLiteral("services"), services}});
    if (!metadata.isEmpty())
        routesText += jsonToYaml(QJsonObject{{QStringLiteral("plugin_metadata"), metadata}});
    if (!ssls.isEmpty())
        routesText += jsonToYaml(QJsonObject{{QStringLiteral("ssls"), ssls}});
    routesText += "#END\n";

    QJsonObject streamProxy;
    if (!tcp.isEmpty())
        streamProxy.insert(QStringLiteral("tcp"), tcp);
    if (!udp.isEmpty())
        streamProxy.insert(QStringLiteral("udp"), udp);
    QJsonObject apisix;
    apisix.insert(QStringLiteral("proxy_mode"), QStringLiteral("stream"));
    apisix.insert(QStringLiteral("stream_proxy"), streamProxy);
    // The CAs upstreams with tls.verify trust: APISIX's own setting of the same name.
    if (config.streamgate.sslTrustedCertificate)
        apisix.insert(QStringLiteral("ssl"),
                      QJsonObject{{QStringLiteral("ssl_trusted_certificate"),
                                   *config.streamgate.sslTrustedCertificate}});
    // TLS passthrough is APISIX's spelling, from the release with apache/apisix#13912 on: an
    // older APISIX refuses the field.
    QStringList passthrough;
    for (qsizetype i = 0; i < config.streamProxy.tcp.size(); ++i)
        if (config.streamProxy.tcp.at(i).tlsPassthrough)
            passthrough << QStringLiteral("stream_proxy.tcp[%1].tls_passthrough").arg(i);
    for (qsizetype i = 0; i < config.streamRoutes.size(); ++i)
        if (config.streamRoutes.at(i).tlsPassthrough)
            passthrough << QStringLiteral("stream_routes[%1].tls_passthrough").arg(i);
    for (const QString& path : passthrough)
        result.warnings << Problem{path,
                                   {},
                                   QStringLiteral("exported as written: only an APISIX with TLS "
                                                  "passthrough for streams (apache/apisix#13912) "
                                                  "takes it; an older one refuses the field")};
    QJsonObject deployment{
        {QStringLiteral("role"), QStringLiteral("data_plane")},
        {QStringLiteral("role_data_plane"),
         QJsonObject{{QStringLiteral("config_provider"), QStringLiteral("yaml")}}},
    };
    QByteArray proxyText =
        "# Merge into APISIX's conf/config.yaml: stream listeners and standalone mode,\n"
        "# so that apisix.yaml beside this file is the whole route table.\n";
    proxyText += jsonToYaml(QJsonObject{{QStringLiteral("apisix"), apisix}});
    proxyText += jsonToYaml(QJsonObject{{QStringLiteral("deployment"), deployment}});
    if (usesPrometheus(config)) {
        // APISIX ships its stream prometheus switched off and refuses a route that names a
        // stream plugin it has not loaded; a list given here replaces its default one.
        proxyText +=
            "# A route uses the stream plugin prometheus, which APISIX ships switched off:\n"
            "# APISIX's default stream_plugins with prometheus added. Its metrics are\n"
            "# served on APISIX's export server (plugin_attr.prometheus.export_addr).\n";
        proxyText += jsonToYaml(QJsonObject{
            {QStringLiteral("stream_plugins"), QJsonArray::fromStringList(kStreamPlugins)}});
    }
    proxyText += nginxStreamForApisix(config, result.warnings);

    const QString routesPath = QDir(dir).filePath(kRoutesFile);
    const QString proxyPath = QDir(dir).filePath(kProxyFile);
    result.problems << writeText(routesPath, routesText, !ssls.isEmpty());
    if (result.problems.isEmpty())
        result.files << routesPath;
    const Problems proxyProblems = writeText(proxyPath, proxyText);
    result.problems << proxyProblems;
    if (proxyProblems.isEmpty())
        result.files << proxyPath;
    return result;
}

ApisixImport importApisix(const QString& file)
{
    QFile in(file);
    if (!in.open(QIODevice::ReadOnly)) {
        ApisixImport result;
        result.problems << Problem{
            file, {}, QStringLiteral("cannot read: %1").arg(in.errorString())};
        return result;
    }
    QString streamProxyFile;
    const QFileInfo info(file);
    for (const QString& name : {kProxyFile, QStringLiteral("config.yaml")}) {
        const QString sibling = info.dir().filePath(name);
        if (sibling != info.absoluteFilePath() && QFileInfo::exists(sibling)) {
            streamProxyFile = sibling;
            break;
        }
    }
    return importApisixYaml(in.readAll(), file, streamProxyFile);
}

ApisixImport importApisixYaml(const QByteArray& yaml, const QString& source,
                              const QString& streamProxyFile)
{
    ApisixImport result;
    const QString& file = source;
    Problems syntax;
    const QJsonValue root = yamlToJson(yaml, file, &syntax);
    if (!syntax.isEmpty()) {
        result.problems << syntax;
        return result;
    }
    if (!root.isObject() && !root.isNull()) {
        result.problems << Problem{
            file, compactJson(root),
            QStringLiteral("must be a mapping with stream_routes, upstreams and services")};
        return result;
    }

    QJsonObject data;
    const QJsonObject top = root.toObject();
    for (auto it = top.begin(); it != top.end(); ++it) {
        const QString& key = it.key();
        if (key != u"stream_routes" && key != u"upstreams" && key != u"services" &&
            key != u"plugin_metadata" && key != u"ssls") {
            const QString why =
                apisixOnlySections().contains(key)
                    ? QStringLiteral("not imported: Streamgate handles stream_routes, upstreams, "
                                     "services, ssls and syslog's plugin_metadata only")
                    : QStringLiteral("not imported: unknown section");
            result.warnings << Problem{key, {}, why};
            continue;
        }
        if (it.value().isNull())
            continue; // "stream_routes:" with nothing under it is an empty list
        if (!it.value().isArray()) {
            result.problems << Problem{key, compactJson(it.value()),
                                       QStringLiteral("must be a list")};
            continue;
        }
        QJsonArray items = it.value().toArray();
        if (key == u"plugin_metadata") {
            // A shared APISIX file may carry the metadata of plugins Streamgate does not run.
            QJsonArray kept;
            for (int i = 0; i < items.size(); ++i) {
                const QJsonValue plugin = items.at(i).toObject().value(QLatin1String("id"));
                if (plugin.isString() && plugin.toString() != u"syslog")
                    result.warnings << Problem{
                        QStringLiteral("plugin_metadata[%1].id").arg(i), plugin.toString(),
                        QStringLiteral("not imported: Streamgate runs syslog's plugin_metadata "
                                       "only")};
                else
                    kept.append(items.at(i));
            }
            data.insert(key, kept);
            continue;
        }
        // APISIX standalone names items without an id "arr_<1-based index>".
        for (int i = 0; i < items.size(); ++i) {
            QJsonObject item = items.at(i).toObject();
            if (items.at(i).isObject() && !item.contains(u"id")) {
                item.insert(QStringLiteral("id"), QStringLiteral("arr_%1").arg(i + 1));
                items.replace(i, item);
            }
        }
        data.insert(key, items);
    }

    if (!streamProxyFile.isEmpty())
        readStreamProxy(streamProxyFile, result);

    Decoded<Config> decoded = decodeConfig(data);
    result.problems << decoded.problems;
    if (!decoded.ok())
        return result;
    decoded.value.streamProxy = result.config.streamProxy;
    decoded.value.streamgate.realIpFrom = result.realIpFrom;
    decoded.value.streamgate.sslTrustedCertificate = result.sslTrustedCertificate;
    result.config = decoded.value;

    const ConfigCheck check = checkConfig(result.config);
    result.problems << check.errors;
    // Without a listener set of its own the import is merged with the store's listeners, and
    // "can never match" warnings are only meaningful there.
    if (result.hasStreamProxy)
        result.warnings << check.warnings;
    if (!result.ok())
        result.config = Config{};
    return result;
}

Config mergeApisixImport(const Config& current, const ApisixImport& imported)
{
    Config next = current;
    next.streamRoutes = imported.config.streamRoutes;
    next.upstreams = imported.config.upstreams;
    next.services = imported.config.services;
    next.pluginMetadata = imported.config.pluginMetadata;
    next.ssls = imported.config.ssls;
    if (imported.hasStreamProxy)
        next.streamProxy = imported.config.streamProxy;
    if (imported.realIpFrom)
        next.streamgate.realIpFrom = imported.realIpFrom;
    if (imported.sslTrustedCertificate)
        next.streamgate.sslTrustedCertificate = imported.sslTrustedCertificate;
    return next;
}

int exportApisixCommand(const QString& configPath, const QString& dir)
{
    QTextStream err(stderr);
    const QString path = configPath.isEmpty() ? ConfigStore::defaultPath() : configPath;
    const FileCheck check = checkFile(path);
    if (check.status == LoadResult::Status::Unreadable ||
        check.status == LoadResult::Status::SyntaxError) {
        printLines(err, check.problems);
        return 2;
    }
    if (check.status == LoadResult::Status::Invalid || !check.problems.isEmpty()) {
        printLines(err, check.problems);
        return 1;
    }
    const ApisixExport result = exportApisix(check.config, dir);
    printLines(err, result.warnings, QStringLiteral("warning: "));
    if (!result.ok()) {
        printLines(err, result.problems);
        return 2;
    }
    for (const QString& f : result.files)
        err << "wrote " << f << '\n';
    return 0;
}

int importApisixCommand(const QString& configPath, const QString& file)
{
    QTextStream err(stderr);
    const ApisixImport imported = importApisix(file);
    printLines(err, imported.warnings, QStringLiteral("warning: "));
    if (!imported.ok()) {
        printLines(err, imported.problems);
        err << "nothing imported\n";
        return QFileInfo::exists(file) ? 1 : 2;
    }
    ConfigStore store(configPath.isEmpty() ? ConfigStore::defaultPath() : configPath);
    const LoadResult loaded = store.load();
    if (!loaded.ok()) {
        printLines(err, loaded.problems);
        err << "nothing imported: " << store.path() << " could not be loaded\n";
        return 2;
    }
    const Problems problems = store.replace(mergeApisixImport(store.config(), imported));
    if (!problems.isEmpty()) {
        printLines(err, problems);
        err << "nothing imported\n";
        return 1;
    }
    printLines(err, store.warnings(), QStringLiteral("warning: "));
    err << "imported " << imported.config.streamRoutes.size() << " stream routes, "
        << imported.config.upstreams.size() << " upstreams, " << imported.config.services.size()
        << " services and " << imported.config.ssls.size() << " ssls into " << store.path() << '\n';
    return 0;
}

} // namespace sg
