#include "proxy/plugins/syslog.h"

#include "model/accesslogformat.h"
#include "proxy/admission.h"
#include "proxy/streamplugin.h"
#include "proxy/syslogsender.h"
#include "stats/accesslog.h"
#include "stats/statshub.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>

namespace sg {

namespace {

constexpr int kMaxFormatDepth = 5; // APISIX's MAX_LOG_FORMAT_DEPTH

QJsonValue fill(const QJsonValue& format, const ConnectionInfo& connection, int depth);

QJsonObject fillObject(const QJsonObject& format, const ConnectionInfo& connection, int depth)
{
    QJsonObject out;
    for (auto it = format.begin(); it != format.end(); ++it) {
        const QJsonValue value = fill(it.value(), connection, depth);
        if (!value.isUndefined())
            out.insert(it.key(), value);
    }
    return out;
}

// Undefined: a variable without a value, left out of the entry.
QJsonValue fill(const QJsonValue& format, const ConnectionInfo& connection, int depth)
{
    if (format.isObject() || format.isArray()) {
        if (depth >= kMaxFormatDepth)
            return QJsonObject();
        if (format.isObject())
            return fillObject(format.toObject(), connection, depth + 1);
        QJsonArray out;
        for (const QJsonValue& item : format.toArray()) {
            const QJsonValue value = fill(item, connection, depth + 1);
            out.append(value.isUndefined() ? QJsonValue() : value);
        }
        return out;
    }
    if (!format.isString() || !format.toString().startsWith(u'$'))
        return format;
    const AccessLogVariable variable =
        accessLogVariableNamed(QStringView(format.toString()).mid(1));
    if (variable == AccessLogVariable::Count)
        return QJsonValue::Undefined; // the config check refuses these
    const QString value = accessLogValue(variable, connection);
    // nginx writes "-" for a variable that has no value; APISIX's ctx.var gives nil.
    if (value.isEmpty() || value == u"-")
        return QJsonValue::Undefined;
    return value;
}

class SyslogPlugin final : public StreamPlugin
{
public:
    SyslogPlugin(const SyslogConf& conf, const QString& routeId, const QJsonValue& serviceId)
        : m_conf(conf), m_routeId(routeId), m_serviceId(serviceId), m_sender(conf)
    {
    }
    bool sameAs(const SyslogConf& conf, const QJsonValue& serviceId) const
    {
        return m_conf == conf && m_serviceId == serviceId;
    }

    PrereadVerdict preread(const StreamClient&, const QString&, RouteStats&, QString&) override
    {
        return PrereadVerdict::admit();
    }
    bool logsEverySession() const override { return true; }

    void log(const StreamLog& log) override
    {
        if (!m_conf.logFormat)
            return; // neither the route nor plugin_metadata has one: APISIX logs nothing either
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        ConnectionInfo connection;
        if (log.record) {
            connection = log.record->info();
            connection.endMs = now;
        } else if (log.client) {
            connection = connectionOf(*log.client, QString(), now);
            connection.endMs = now;
        } else {
            return;
        }
        connection.routeId = m_routeId;
        connection.closeReason = log.reason;
        const QJsonObject entry = syslogEntry(*m_conf.logFormat, connection, m_serviceId);
        m_sender.add(syslogMessage(QJsonDocument(entry).toJson(QJsonDocument::Compact), now,
                                   QCoreApplication::applicationPid()));
    }

private:
    const SyslogConf m_conf;
    const QString m_routeId;
    const QJsonValue m_serviceId;
    SyslogSender m_sender;
};

} // namespace

QJsonObject syslogEntry(const QJsonObject& format, const ConnectionInfo& connection,
                        const QJsonValue& serviceId)
{
    QJsonObject entry = fillObject(format, connection, 1);
    entry.insert(QStringLiteral("route_id"), connection.routeId);
    if (!serviceId.isUndefined() && !serviceId.isNull())
        entry.insert(QStringLiteral("service_id"), serviceId);
    return entry;
}

QByteArray syslogMessage(const QByteArray& json, qint64 epochMs, qint64 pid)
{
    constexpr int kPriority = 5 * 8 + 6; // facility SYSLOG, severity INFO
    const QByteArray time = QDateTime::fromMSecsSinceEpoch(epochMs, Qt::UTC)
                                .toString(QStringLiteral("yyyy-MM-ddThh:mm:ss.zzzZ"))
                                .toLatin1();
    return "<" + QByteArray::number(kPriority) + ">1 " + time + " - apisix " +
           QByteArray::number(pid) + " - - " + json + "\n";
}

namespace streamplugins {
StreamPluginType syslog()
{
    return {QStringLiteral("syslog"), 401,
            [](const StreamPluginBuild& b) -> std::shared_ptr<StreamPlugin> {
                const std::optional<SyslogConf>& conf = b.route.plugins.syslog;
                if (!conf)
                    return nullptr;
                // Same settings: the same sender, so what waits to be sent is not lost.
                if (auto* old = dynamic_cast<SyslogPlugin*>(b.previous.get());
                    old && old->sameAs(*conf, b.route.serviceId))
                    return b.previous;
                return std::make_shared<SyslogPlugin>(*conf, b.route.idString(), b.route.serviceId);
            }};
}
} // namespace streamplugins

} // namespace sg
