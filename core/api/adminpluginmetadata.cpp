#include "api/adminpluginmetadata.h"

#include "api/adminreply.h"
#include "config/configstore.h"
#include "model/codec.h"

#include <QJsonArray>

namespace sg {

namespace {

using namespace adminreply;
using Method = HttpRequest::Method;

const QString kBase = QStringLiteral("/apisix/admin/plugin_metadata");

QString storeKey(const QString& plugin)
{
    return QStringLiteral("/apisix/plugin_metadata/") + plugin;
}

qsizetype indexOf(const Config& config, const QString& plugin)
{
    for (qsizetype i = 0; i < config.pluginMetadata.size(); ++i)
        if (config.pluginMetadata.at(i).id == plugin)
            return i;
    return -1;
}

} // namespace

AdminPluginMetadata::AdminPluginMetadata(ConfigStore* store) : m_store(store)
{
    QStringList plugins;
    for (const PluginMetadata& m : m_store->config().pluginMetadata)
        plugins << m.id;
    m_index.reset(plugins, m_store->revision());
}

void AdminPluginMetadata::track(const ConfigDiff& diff, const Config& config, qint64 revision)
{
    QStringList present;
    QStringList removed;
    for (const QString& plugin : diff.pluginMetadataChanged)
        (config.findPluginMetadata(plugin) ? present : removed) << plugin;
    m_index.apply(revision, {}, present, removed);
}

bool AdminPluginMetadata::owns(const QString& path)
{
    return path == kBase || path.startsWith(kBase + u'/');
}

HttpResponse AdminPluginMetadata::handle(const HttpRequest& request)
{
    const QString path = request.url().path();
    const QString plugin = path.size() > kBase.size() ? path.mid(kBase.size() + 1) : QString();
    const QByteArray allow = plugin.isEmpty() ? "GET" : "GET, PUT, DELETE";
    if (request.method() == Method::Post || request.method() == Method::Patch)
        return methodNotSupportedFor(request.method(), QStringLiteral("plugin_metadata"), allow);
    if (plugin.contains(u'/'))
        return keyNotFound();
    if (request.method() == Method::Put) {
        if (plugin.isEmpty())
            return error(QStringLiteral("missing plugin name"), HttpStatus::BadRequest);
        return put(plugin, request);
    }
    if (auto refusal = refuseIgnoredBody(request))
        return std::move(*refusal);
    const Config config = m_store->config();
    const qint64 revision = m_store->revision();
    const auto item = [&](const PluginMetadata& m) {
        const QPair<qint64, qint64> at = m_index.at(m.id, revision);
        return QJsonObject{{QStringLiteral("key"), storeKey(m.id)},
                           {QStringLiteral("value"), encodePluginMetadata(m)},
                           {QStringLiteral("createdIndex"), at.first},
                           {QStringLiteral("modifiedIndex"), at.second}};
    };
    switch (request.method()) {
    case Method::Get:
        if (plugin.isEmpty()) {
            QJsonArray list;
            for (const PluginMetadata& m : config.pluginMetadata)
                list.append(item(m));
            return json(QJsonObject{{QStringLiteral("total"), list.size()},
                                    {QStringLiteral("list"), list}});
        }
        if (const PluginMetadata* m = config.findPluginMetadata(plugin))
            return json(item(*m));
        return keyNotFound();
    case Method::Delete:
        if (plugin.isEmpty())
            return error(QStringLiteral("missing plugin_metadata id"), HttpStatus::BadRequest);
        return remove(plugin);
    default:
        return methodNotAllowed(request.method(), allow);
    }
}

HttpResponse AdminPluginMetadata::put(const QString& plugin, const HttpRequest& request)
{
    QJsonValue body;
    if (auto refusal = parseAdminBody(request.body(), &body))
        return refusalResponse(*refusal);
    const Decoded<PluginMetadata> decoded = decodePluginMetadata(plugin, body);
    if (!decoded.ok())
        return refusalResponse(apisixRefusal(ApisixPlugins::Stream, decoded.problems));
    bool existed = false;
    const Problems problems = m_store->update([&](Config& next) {
        const qsizetype at = indexOf(next, plugin);
        existed = at >= 0;
        if (existed)
            next.pluginMetadata[at] = decoded.value;
        else
            next.pluginMetadata.append(decoded.value);
        return Problems{};
    });
    if (!problems.isEmpty())
        return apisixProblemsResponse(ApisixPlugins::Stream, problems);
    return json(QJsonObject{{QStringLiteral("key"), storeKey(plugin)},
                            {QStringLiteral("value"), encodePluginMetadata(decoded.value)}},
                existed ? HttpStatus::Ok : HttpStatus::Created);
}

HttpResponse AdminPluginMetadata::remove(const QString& plugin)
{
    bool found = false;
    const Problems problems = m_store->update([&](Config& next) {
        const qsizetype at = indexOf(next, plugin);
        found = at >= 0;
        if (found)
            next.pluginMetadata.removeAt(at);
        return Problems{};
    });
    if (!problems.isEmpty())
        return apisixProblemsResponse(ApisixPlugins::Stream, problems);
    if (!found)
        return keyNotFound();
    return json(QJsonObject{{QStringLiteral("deleted"), QStringLiteral("1")},
                            {QStringLiteral("key"), storeKey(plugin)}});
}

} // namespace sg
