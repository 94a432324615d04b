#pragma once
// A large config whose every route carries its generation number, so that a file holding two
// versions at once (a torn save) is told apart from a whole old or whole new version.
// Shared by tst_crashsafe_save and its child process sg_save_looper.

#include "model/codec.h"

#include <QJsonArray>
#include <QJsonObject>

namespace sg::reliability {

constexpr int kLooperPort = 24000;

// The "streamgate" section of a generation: its number as the admin key.
inline QJsonObject generationSettings(qint64 generation)
{
    return QJsonObject{
        {"admin", QJsonObject{{"key", QStringLiteral("generation-%1").arg(generation)}}}};
}

inline QJsonObject generationJson(qint64 generation, int routes)
{
    QJsonArray list;
    for (int i = 0; i < routes; ++i) {
        QJsonArray allow;
        for (int j = 0; j < 8; ++j)
            allow.append(QStringLiteral("10.%1.%2.0/24").arg(i % 250).arg(j));
        list.append(QJsonObject{
            {"id", QStringLiteral("route-%1").arg(i)},
            {"name", QStringLiteral("Route %1").arg(i)},
            {"desc", QStringLiteral("generation %1").arg(generation)},
            {"server_port", kLooperPort},
            {"plugins", QJsonObject{{"ip-restriction", QJsonObject{{"whitelist", allow}}}}},
            {"upstream",
             QJsonObject{
                 {"type", "roundrobin"},
                 {"nodes", QJsonObject{{QStringLiteral("127.0.0.1:%1").arg(30000 + i), 1}}}}},
        });
    }
    return QJsonObject{
        {"stream_proxy", QJsonObject{{"tcp", QJsonArray{kLooperPort}}}},
        {"stream_routes", list},
        {"streamgate", generationSettings(generation)},
    };
}

// The generation a config holds, or -1 if its routes disagree (a mix of two versions).
inline qint64 generationOf(const Config& config)
{
    // The settings carry the generation too (as the admin key), so a mix of sections shows.
    const QString key = config.streamgate.adminKey();
    bool ok = false;
    const qint64 generation =
        key.startsWith(QLatin1String("generation-")) ? key.mid(11).toLongLong(&ok) : -1;
    if (!ok)
        return -1;
    const QString desc = QStringLiteral("generation %1").arg(generation);
    for (const StreamRoute& r : config.streamRoutes) {
        if (r.desc != desc)
            return -1;
    }
    return generation;
}

} // namespace sg::reliability
