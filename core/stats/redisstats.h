#pragma once
// What a route's Redis clients asked (routes with APISIX's protocol "redis"): per command, as
// APISIX's xRPC Redis metrics count it (apisix_redis_commands_total and
// apisix_redis_commands_latency_seconds, with its buckets of 1 ms to 1 s), plus the commands
// answered with an error. Bounded: at most kMaxCommands command names per route; further names
// are counted under kOtherCommand. Thread-safe: workers record under one short lock per reply.

#include <QList>
#include <QMutex>
#include <QString>
#include <array>
#include <map>
#include <string_view>

namespace sg {

struct RedisCommandCounters
{
    static constexpr std::array<qint64, 10> kBoundsUs{1000,  2000,   5000,   10000,  20000,
                                                      50000, 100000, 200000, 500000, 1000000};
    QString command; // lower case, as the client sent it
    quint64 count = 0;
    quint64 errors = 0;
    quint64 totalTimeUs = 0;
    std::array<quint64, kBoundsUs.size() + 1> buckets{}; // the last: above 1 s
};

class RedisStats
{
public:
    static constexpr int kMaxCommands = 256;
    static constexpr char kOtherCommand[] = "(other)";

    void record(std::string_view command, qint64 timeUs, bool error);
    QList<RedisCommandCounters> commands() const;

private:
    mutable QMutex m_mutex;
    std::map<QString, RedisCommandCounters> m_commands;
};

} // namespace sg
