#include "proxy/redisfaults.h"

#include <cmath>

namespace sg {

namespace {

// Where a command's keys are, from Redis's command table (first key, last key, step), for the
// commands that differ from the usual "the first argument is the key".
enum class KeySpec : quint8 {
    First,      // GET key: the first argument (most commands)
    None,       // no keys, or keys found only by reading the command (EVAL, XREAD, ...)
    All,        // DEL a b c
    EveryOther, // MSET k v k v
    AllButLast, // BLPOP a b timeout
    FirstTwo,   // RENAME from to
    FromSecond, // BITOP op dest a b
    SecondOnly, // PFDEBUG sub key
    ThirdOnly,  // MIGRATE host port key ...
};

const std::unordered_map<std::string_view, KeySpec>& keySpecs()
{
    static const std::unordered_map<std::string_view, KeySpec> specs = [] {
        std::unordered_map<std::string_view, KeySpec> m;
        for (std::string_view name :
             {"acl",         "asking",     "auth",     "bgrewriteaof", "bgsave",
              "blmpop",      "bzmpop",     "client",   "cluster",      "command",
              "config",      "dbsize",     "debug",    "discard",      "echo",
              "eval",        "eval_ro",    "evalsha",  "evalsha_ro",   "exec",
              "failover",    "fcall",      "fcall_ro", "flushall",     "flushdb",
              "function",    "hello",      "info",     "keys",         "lastsave",
              "latency",     "lmpop",      "lolwut",   "memory",       "module",
              "monitor",     "multi",      "object",   "pfselftest",   "ping",
              "psubscribe",  "psync",      "publish",  "pubsub",       "punsubscribe",
              "quit",        "randomkey",  "readonly", "readwrite",    "replconf",
              "replicaof",   "reset",      "role",     "save",         "scan",
              "script",      "select",     "shutdown", "sintercard",   "slaveof",
              "slowlog",     "subscribe",  "swapdb",   "sync",         "time",
              "unsubscribe", "unwatch",    "wait",     "xgroup",       "xinfo",
              "xread",       "xreadgroup", "zdiff",    "zinter",       "zintercard",
              "zmpop",       "zunion"})
            m.emplace(name, KeySpec::None);
        for (std::string_view name : {"del", "exists", "mget", "pfcount", "pfmerge", "sdiff",
                                      "sdiffstore", "sinter", "sinterstore", "ssubscribe", "sunion",
                                      "sunionstore", "sunsubscribe", "touch", "unlink", "watch"})
            m.emplace(name, KeySpec::All);
        for (std::string_view name : {"mset", "msetnx"})
            m.emplace(name, KeySpec::EveryOther);
        for (std::string_view name : {"blpop", "brpop", "bzpopmax", "bzpopmin"})
            m.emplace(name, KeySpec::AllButLast);
        for (std::string_view name :
             {"blmove", "brpoplpush", "copy", "geosearchstore", "lcs", "lmove", "rename",
              "renamenx", "rpoplpush", "smove", "zrangestore"})
            m.emplace(name, KeySpec::FirstTwo);
        m.emplace("bitop", KeySpec::FromSecond);
        m.emplace("pfdebug", KeySpec::SecondOnly);
        m.emplace("migrate", KeySpec::ThirdOnly);
        return m;
    }();
    return specs;
}

KeySpec keySpec(std::string_view name)
{
    const auto& specs = keySpecs();
    const auto it = specs.find(name);
    return it == specs.end() ? KeySpec::First : it->second;
}

qint64 delayMs(double seconds)
{
    return qint64(std::ceil(seconds * 1000.0));
}

} // namespace

bool RedisFaults::isKey(std::string_view name, std::size_t index, std::size_t argCount)
{
    switch (keySpec(name)) {
    case KeySpec::First:
        return index == 0;
    case KeySpec::None:
        return false;
    case KeySpec::All:
        return true;
    case KeySpec::EveryOther:
        return index % 2 == 0;
    case KeySpec::AllButLast:
        return index + 1 < argCount;
    case KeySpec::FirstTwo:
        return index < 2;
    case KeySpec::FromSecond:
        return index >= 1;
    case KeySpec::SecondOnly:
        return index == 1;
    case KeySpec::ThirdOnly:
        return index == 2;
    }
    return index == 0;
}

RedisFaults::RedisFaults(const RedisProtocolConf& conf)
{
    for (const RedisFault& fault : conf.faults) {
        for (const QString& command : fault.commands) {
            const std::string name = command.toLower().toStdString();
            Entry& entry = m_commands[name];
            if (fault.key.isEmpty() || keySpec(name) == KeySpec::None)
                entry.any = delayMs(fault.delay);
            else
                entry.keys[fault.key.toStdString()] = delayMs(fault.delay);
        }
    }
}

void RedisFaults::decide(Probe& probe, qint64 delayMs)
{
    probe.m_decided = true;
    probe.m_delayMs = delayMs;
}

qint64 RedisFaults::lastKey(std::string_view name, std::size_t argCount)
{
    const qint64 last = qint64(argCount) - 1;
    qint64 key = -1;
    switch (keySpec(name)) {
    case KeySpec::First:
        key = 0;
        break;
    case KeySpec::None:
        return -1;
    case KeySpec::All:
    case KeySpec::FromSecond:
        key = last;
        break;
    case KeySpec::EveryOther:
        key = last - last % 2;
        break;
    case KeySpec::AllButLast:
        key = last - 1;
        break;
    case KeySpec::FirstTwo:
        key = qMin<qint64>(1, last);
        break;
    case KeySpec::SecondOnly:
        key = 1;
        break;
    case KeySpec::ThirdOnly:
        key = 2;
        break;
    }
    return key <= last && key >= 0 && isKey(name, std::size_t(key), argCount) ? key : -1;
}

RedisFaults::Probe RedisFaults::start(std::string_view name, std::size_t argCount) const
{
    Probe probe;
    const auto it = m_commands.find(std::string(name));
    if (it == m_commands.end())
        decide(probe, 0);
    else if (it->second.keys.empty() || lastKey(name, argCount) < 0)
        decide(probe, it->second.any.value_or(0));
    else
        probe.m_entry = &it->second;
    return probe;
}

void RedisFaults::argument(Probe& probe, std::string_view name, std::size_t index,
                           std::size_t argCount, std::string_view arg, bool cut) const
{
    if (probe.m_decided || !isKey(name, index, argCount))
        return;
    if (!cut) {
        const auto it = probe.m_entry->keys.find(std::string(arg));
        if (it != probe.m_entry->keys.end()) {
            decide(probe, it->second);
            return;
        }
    }
    if (qint64(index) >= lastKey(name, argCount))
        finish(probe);
}

void RedisFaults::finish(Probe& probe) const
{
    if (probe.m_decided)
        return;
    decide(probe, probe.m_entry ? probe.m_entry->any.value_or(0) : 0);
}

} // namespace sg
