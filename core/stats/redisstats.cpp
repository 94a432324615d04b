#include "stats/redisstats.h"

#include <algorithm>

namespace sg {

void RedisStats::record(std::string_view command, qint64 timeUs, bool error)
{
    const quint64 time = quint64(std::max<qint64>(timeUs, 0));
    QString name = QString::fromUtf8(command.data(), qsizetype(command.size()));
    QMutexLocker lock(&m_mutex);
    auto it = m_commands.find(name);
    if (it == m_commands.end()) {
        if (int(m_commands.size()) >= kMaxCommands)
            name = QLatin1String(kOtherCommand);
        it = m_commands.try_emplace(name).first;
        it->second.command = name;
    }
    RedisCommandCounters& c = it->second;
    ++c.count;
    if (error)
        ++c.errors;
    c.totalTimeUs += time;
    const auto bound = std::lower_bound(RedisCommandCounters::kBoundsUs.begin(),
                                        RedisCommandCounters::kBoundsUs.end(), qint64(time));
    ++c.buckets[std::size_t(bound - RedisCommandCounters::kBoundsUs.begin())];
}

QList<RedisCommandCounters> RedisStats::commands() const
{
    QMutexLocker lock(&m_mutex);
    QList<RedisCommandCounters> out;
    out.reserve(qsizetype(m_commands.size()));
    for (const auto& [name, counters] : m_commands)
        out << counters;
    return out;
}

} // namespace sg
