// plugin_metadata: one plugin's settings for every route that runs it (APISIX's
// /apisix/plugin_metadata/NAME). Streamgate runs syslog's.

#include "model/apisixplugins.h"
#include "model/codec.h"
#include "model/codec_p.h"

#include <QStringList>
#include <limits>

namespace sg {

using detail::Checker;
using detail::childPath;

namespace detail {

// syslog's metadata_schema: log_format (an object) and the batch processor's
// max_pending_entries (>= 1). Like APISIX's schema it is open: other keys are kept and unused.
void decodePluginMetadataInto(Checker& c, const QJsonValue& v, const QString& path, DecodeMode mode,
                              PluginMetadata& m)
{
    if (!c.expectObject(v, path))
        return;
    QJsonObject o = v.toObject();
    const QString idPath = childPath(path, QStringLiteral("id"));
    if (mode == DecodeMode::File && !c.required(o, path, {"id"}))
        return;
    // Through the admin API the plugin is the one in the URL, as in APISIX, whatever id the
    // body carries.
    if (o.contains(QLatin1String("id")) && mode == DecodeMode::File) {
        if (auto id = c.string(o.value(QLatin1String("id")), idPath, 1, -1))
            m.id = *id;
    }
    o.remove(QStringLiteral("id"));
    if (!m.id.isEmpty() && !isApisixPlugin(m.id)) {
        c.fail(idPath, m.id, QStringLiteral("%1 is not a plugin of APISIX").arg(m.id),
               apisixCheck(QStringLiteral("invalid plugin name")));
        return;
    }
    if (!m.id.isEmpty() && m.id != QLatin1String("syslog")) {
        c.fail(idPath, m.id,
               QStringLiteral("plugin_metadata of %1 is not supported by Streamgate: it runs "
                              "syslog's only")
                   .arg(m.id));
        return;
    }
    // The store sets no times on metadata; through the admin API they are refused as for
    // every other object, APISIX's check_forbidden_properties.
    for (const QString& key : {QStringLiteral("create_time"), QStringLiteral("update_time")}) {
        qint64 time = 0;
        QStringList unused;
        detail::decodeTimestamp(c, o, key, path, mode, time, unused);
    }
    const QString format = QStringLiteral("log_format");
    if (o.contains(format) && c.expectObject(o.value(format), childPath(path, format)))
        checkLogFormat(c, o.value(format), childPath(path, format));
    const QString pending = QStringLiteral("max_pending_entries");
    if (o.contains(pending))
        c.integer(o.value(pending), childPath(path, pending), 1, std::numeric_limits<int>::max());
    m.value = o;
}

} // namespace detail

Decoded<PluginMetadata> decodePluginMetadata(const QString& plugin, const QJsonValue& json)
{
    Checker c;
    Decoded<PluginMetadata> result;
    result.value.id = plugin;
    detail::decodePluginMetadataInto(c, json, QString(), DecodeMode::Client, result.value);
    result.problems = c.problems;
    return result;
}

QJsonObject encodePluginMetadata(const PluginMetadata& metadata)
{
    QJsonObject o = metadata.value;
    o.insert(QStringLiteral("id"), metadata.id);
    return o;
}

} // namespace sg
