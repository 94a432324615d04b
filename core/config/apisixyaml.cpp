#include "config/apisixyaml.h"

#include "config/configstore.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSaveFile>
#include <QTextStream>
#include <cmath>
#include <limits>
#include <yaml-cpp/yaml.h>

namespace sg {

namespace {

const QString kRoutesFile = QStringLiteral("apisix.yaml");
const QString kProxyFile = QStringLiteral("config-stream.yaml");

// --- YAML -> JSON -------------------------------------------------------------------------

// Types a plain (unquoted) scalar by the YAML 1.2 core schema, which is what APISIX's
// loader effectively sees for the values that matter here (ports, weights, timeouts, ids).
QJsonValue typedPlainScalar(const QString& text)
{
    static const QRegularExpression intDec(QStringLiteral("^[-+]?[0-9]+$"));
    static const QRegularExpression intOct(QStringLiteral("^0o[0-7]+$"));
    static const QRegularExpression intHex(QStringLiteral("^0x[0-9a-fA-F]+$"));
    static const QRegularExpression flt(
        QStringLiteral("^[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?$"));
    static const QRegularExpression inf(QStringLiteral("^[-+]?\\.(inf|Inf|INF)$"));
    static const QRegularExpression nan(QStringLiteral("^\\.(nan|NaN|NAN)$"));

    if (text.isEmpty() || text == u"~" || text == u"null" || text == u"Null" || text == u"NULL")
        return QJsonValue(QJsonValue::Null);
    if (text == u"true" || text == u"True" || text == u"TRUE")
        return true;
    if (text == u"false" || text == u"False" || text == u"FALSE")
        return false;
    bool ok = false;
    if (intDec.match(text).hasMatch()) {
        const qint64 v = text.toLongLong(&ok);
        if (ok)
            return QJsonValue(v);
        return text.toDouble(); // beyond 64 bits: a number still, as YAML says
    }
    if (intOct.match(text).hasMatch()) {
        const qint64 v = text.mid(2).toLongLong(&ok, 8);
        if (ok)
            return QJsonValue(v);
    }
    if (intHex.match(text).hasMatch()) {
        const qint64 v = text.mid(2).toLongLong(&ok, 16);
        if (ok)
            return QJsonValue(v);
    }
    if (flt.match(text).hasMatch()) {
        const double v = text.toDouble(&ok);
        if (ok)
            return v;
    }
    // JSON has no infinities or NaN: keep them as text so the decoder names the field.
    if (inf.match(text).hasMatch() || nan.match(text).hasMatch())
        return text;
    return text;
}

// Limits of the YAML -> JSON conversion. Aliases share nodes, so a small file can name an
// enormous (or, with an alias inside its own anchor, endless) tree; the conversion stops at
// these limits instead. A stream config is a few levels deep; APISIX's config.yaml about ten.
// Without aliases a document has fewer values than bytes, so the value limit only bounds how far
// aliases may multiply a document (shared node lists and the like stay far below it).
constexpr int kMaxYamlDepth = 64;
constexpr qsizetype kYamlValuesPerByte = 16;
constexpr qsizetype kMinYamlValues = 10000;

struct YamlBudget
{
    explicit YamlBudget(qsizetype textBytes)
        : limit(kMinYamlValues + kYamlValuesPerByte * textBytes), valuesLeft(limit)
    {
    }
    qsizetype limit;
    qsizetype valuesLeft;
    QString exceeded; // why the conversion stopped; empty while within the limits
};

QJsonValue nodeToJson(const YAML::Node& node, int depth, YamlBudget& budget)
{
    if (!budget.exceeded.isEmpty())
        return QJsonValue(QJsonValue::Null);
    if (depth > kMaxYamlDepth) {
        budget.exceeded = QStringLiteral("nested deeper than %1 levels").arg(kMaxYamlDepth);
        return QJsonValue(QJsonValue::Null);
    }
    if (--budget.valuesLeft < 0) {
        budget.exceeded =
            QStringLiteral("more than %1 values (counting each use of an alias)").arg(budget.limit);
        return QJsonValue(QJsonValue::Null);
    }
    switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
        return QJsonValue(QJsonValue::Null);
    case YAML::NodeType::Scalar: {
        const QString text = QString::fromStdString(node.Scalar());
        // yaml-cpp tags quoted scalars "!" and plain ones "?": quoted text is always a string.
        if (node.Tag() == "!")
            return text;
        return typedPlainScalar(text);
    }
    case YAML::NodeType::Sequence: {
        QJsonArray array;
        for (auto it = node.begin(); it != node.end() && budget.exceeded.isEmpty(); ++it) {
            const YAML::Node item = *it;
            array.append(nodeToJson(item, depth + 1, budget));
        }
        return array;
    }
    case YAML::NodeType::Map: {
        QJsonObject object;
        for (auto it = node.begin(); it != node.end() && budget.exceeded.isEmpty(); ++it) {
            // Copies: the iterator hands out temporaries.
            const YAML::Node key = it->first;
            const YAML::Node value = it->second;
            // A complex key is written back as YAML text; it cannot be an expected field name,
            // so only its first line is kept (its dump would expand aliases without limit).
            const QString name = key.IsScalar() ? QString::fromStdString(key.Scalar())
                                                : QStringLiteral("<%1 key>")
                                                      .arg(key.IsMap() ? QStringLiteral("map")
                                                                       : QStringLiteral("list"));
            object.insert(name, nodeToJson(value, depth + 1, budget));
        }
        return object;
    }
    }
    return QJsonValue(QJsonValue::Null);
}

// --- JSON -> YAML -------------------------------------------------------------------------

bool isPlainKey(const QString& key)
{
    static const QRegularExpression simple(QStringLiteral("^[A-Za-z_][A-Za-z0-9_-]*$"));
    if (!simple.match(key).hasMatch())
        return false;
    // A key that reads back as another type (true, null, ...) must be quoted.
    return typedPlainScalar(key).isString();
}

std::string numberText(const QJsonValue& value)
{
    const QVariant v = value.toVariant();
    if (v.typeId() == QMetaType::LongLong || v.typeId() == QMetaType::Int)
        return QString::number(v.toLongLong()).toStdString();
    const double d = value.toDouble();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15)
        return QString::number(qint64(d)).toStdString();
    return QString::number(d, 'g', QLocale::FloatingPointShortest).toStdString();
}

void emitJson(YAML::Emitter& out, const QJsonValue& value)
{
    switch (value.type()) {
    case QJsonValue::Null:
    case QJsonValue::Undefined:
        out << YAML::Null;
        break;
    case QJsonValue::Bool:
        out << value.toBool();
        break;
    case QJsonValue::Double:
        out << numberText(value);
        break;
    case QJsonValue::String:
        // Always quoted: "1", "true" or "" must come back as strings, not numbers or null.
        out << YAML::DoubleQuoted << value.toString().toStdString();
        break;
    case QJsonValue::Array: {
        const QJsonArray array = value.toArray();
        if (array.isEmpty()) {
            out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
            break;
        }
        out << YAML::BeginSeq;
        for (const QJsonValue& item : array)
            emitJson(out, item);
        out << YAML::EndSeq;
        break;
    }
    case QJsonValue::Object: {
        const QJsonObject object = value.toObject();
        if (object.isEmpty()) {
            out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
            break;
        }
        out << YAML::BeginMap;
        for (auto it = object.begin(); it != object.end(); ++it) {
            out << YAML::Key;
            if (isPlainKey(it.key()))
                out << it.key().toStdString();
            else
                out << YAML::DoubleQuoted << it.key().toStdString();
            out << YAML::Value;
            emitJson(out, it.value());
        }
        out << YAML::EndMap;
        break;
    }
    }
}

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

Problems writeText(const QString& path, const QByteArray& text)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return {Problem{path, {}, QStringLiteral("cannot write: %1").arg(file.errorString())}};
    file.write(text);
    if (!file.commit())
        return {Problem{path, {}, QStringLiteral("cannot write: %1").arg(file.errorString())}};
    return {};
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
            QJsonValue entry = entries.at(i);
            if (entry.isObject()) {
                // APISIX's long form {addr, tls}: Streamgate has the address only.
                const QJsonObject long_ = entry.toObject();
                if (long_.value(u"tls").toBool())
                    result.warnings << Problem{
                        path + QStringLiteral(".tls"), QStringLiteral("true"),
                        QStringLiteral("TLS listeners are not supported; imported as plain TCP")};
                for (auto f = long_.begin(); f != long_.end(); ++f)
                    if (f.key() != u"addr" && f.key() != u"tls")
                        result.warnings << Problem{
                            path + u'.' + f.key(), compactJson(f.value()),
                            QStringLiteral(
                                "not imported: Streamgate has no such listener setting")};
                entry = long_.value(u"addr");
            }
            Decoded<ListenEntry> decoded = decodeListenEntry(entry, path);
            if (decoded.ok())
                target << decoded.value;
            else
                result.problems << decoded.problems;
        }
    }
}

const QStringList& apisixOnlySections()
{
    static const QStringList sections{
        QStringLiteral("routes"),
        QStringLiteral("services"),
        QStringLiteral("ssls"),
        QStringLiteral("consumers"),
        QStringLiteral("consumer_groups"),
        QStringLiteral("global_rules"),
        QStringLiteral("plugin_configs"),
        QStringLiteral("plugin_metadata"),
        QStringLiteral("plugins"),
        QStringLiteral("stream_plugins"),
        QStringLiteral("protos"),
        QStringLiteral("secrets"),
        QStringLiteral("upstreams_nodes"),
        QStringLiteral("credentials"),
    };
    return sections;
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

QJsonValue yamlToJson(const QByteArray& yaml, const QString& source, Problems* problems)
{
    try {
        const YAML::Node root = YAML::Load(yaml.toStdString());
        YamlBudget budget(yaml.size());
        QJsonValue json = nodeToJson(root, 0, budget);
        if (budget.exceeded.isEmpty())
            return json;
        if (problems)
            *problems << Problem{
                source, {}, QStringLiteral("YAML too large: %1").arg(budget.exceeded)};
        return QJsonValue(QJsonValue::Undefined);
    } catch (const YAML::Exception& e) {
        // Marks are 0-based; people count lines and columns from 1.
        const QString where = e.mark.is_null() ? source
                                               : QStringLiteral("%1:%2:%3")
                                                     .arg(source)
                                                     .arg(e.mark.line + 1)
                                                     .arg(e.mark.column + 1);
        if (problems)
            *problems << Problem{
                where,
                {},
                QStringLiteral("YAML syntax error: %1").arg(QString::fromStdString(e.msg))};
        return QJsonValue(QJsonValue::Undefined);
    }
}

QByteArray jsonToYaml(const QJsonValue& json)
{
    YAML::Emitter out;
    out.SetIndent(2);
    emitJson(out, json);
    QByteArray text(out.c_str(), qsizetype(out.size()));
    if (!text.endsWith('\n'))
        text.append('\n');
    return text;
}

ApisixExport exportApisix(const Config& config, const QString& dir)
{
    ApisixExport result;

    for (const QString& key : settingKeys(config.streamgate))
        // No value in the warning: this section holds the admin key.
        result.warnings << Problem{
            settingPath({qPrintable(key)}),
            {},
            QStringLiteral("Streamgate-only setting, left out (APISIX has no such field)")};

    QJsonArray routes;
    for (const StreamRoute& route : config.streamRoutes)
        routes.append(encodeStreamRoute(route));
    QJsonArray upstreams;
    for (const Upstream& upstream : config.upstreams)
        upstreams.append(encodeUpstream(upstream));

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
    routesText += "#END\n";

    QJsonObject streamProxy;
    if (!tcp.isEmpty())
        streamProxy.insert(QStringLiteral("tcp"), tcp);
    if (!udp.isEmpty())
        streamProxy.insert(QStringLiteral("udp"), udp);
    QJsonObject apisix;
    apisix.insert(QStringLiteral("proxy_mode"), QStringLiteral("stream"));
    apisix.insert(QStringLiteral("stream_proxy"), streamProxy);
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

    const QString routesPath = QDir(dir).filePath(kRoutesFile);
    const QString proxyPath = QDir(dir).filePath(kProxyFile);
    result.problems << writeText(routesPath, routesText);
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
            QStringLiteral("must be a mapping with stream_routes and upstreams")};
        return result;
    }

    QJsonObject data;
    const QJsonObject top = root.toObject();
    for (auto it = top.begin(); it != top.end(); ++it) {
        const QString& key = it.key();
        if (key != u"stream_routes" && key != u"upstreams") {
            const QString why =
                apisixOnlySections().contains(key)
                    ? QStringLiteral(
                          "not imported: Streamgate handles stream_routes and upstreams only")
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
        // APISIX standalone names items without an id "arr_<1-based index>".
        QJsonArray items = it.value().toArray();
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
    if (imported.hasStreamProxy)
        next.streamProxy = imported.config.streamProxy;
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
    err << "imported " << imported.config.streamRoutes.size() << " stream routes and "
        << imported.config.upstreams.size() << " upstreams into " << store.path() << '\n';
    return 0;
}

} // namespace sg
