#pragma once
// The faults of a route's protocol "redis" (APISIX's xRPC Redis protocol), compiled for the
// byte path: which commands are delayed, for which keys, and by how long. As in APISIX:
// - a fault names commands (any letter case) and, optionally, a key; a command's keys are the
//   arguments Redis's command table marks as keys (GET: the first; MGET, DEL: all; MSET: every
//   other; BLPOP: all but the timeout, ...); commands without keys (PING, TIME, ...) ignore the
//   key and match on their name;
// - of a command's keys the first that a fault names decides; when none does, the fault of that
//   command without a key (if any);
// - a later fault for the same command and key replaces the earlier one.
// Read-only once built; shared by every session of the route.

#include "model/streamroute.h"

#include <QtGlobal>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sg {

class RedisFaults
{
    struct Entry;

public:
    explicit RedisFaults(const RedisProtocolConf& conf);
    bool empty() const { return m_commands.empty(); }

    // The decision for one command, made while it is read.
    class Probe
    {
    public:
        bool decided() const { return m_decided; }
        qint64 delayMs() const { return m_delayMs; }

    private:
        friend class RedisFaults;
        const Entry* m_entry = nullptr;
        bool m_decided = false;
        qint64 m_delayMs = 0;
    };

    // The command's name (lower case) and how many arguments follow it are known.
    Probe start(std::string_view name, std::size_t argCount) const;
    // Argument `index` (0 = the first after the name) of `argCount` is known; cut: only its
    // first bytes were kept (it then matches no key). Past the command's last key the probe is
    // decided (so a large value after the key is never held waiting for a decision).
    void argument(Probe& probe, std::string_view name, std::size_t index, std::size_t argCount,
                  std::string_view arg, bool cut) const;
    // The command is complete, or cannot be held any longer: no key matched (or the name was
    // never known: no delay).
    void finish(Probe& probe) const;

    // Whether argument `index` of `argCount` of command `name` is a key.
    static bool isKey(std::string_view name, std::size_t index, std::size_t argCount);
    // The index of the command's last key, or -1 when it has none.
    static qint64 lastKey(std::string_view name, std::size_t argCount);

private:
    struct Entry
    {
        std::unordered_map<std::string, qint64> keys; // delay in ms by key
        std::optional<qint64> any;                    // the fault without a key
    };
    static void decide(Probe& probe, qint64 delayMs);

    std::unordered_map<std::string, Entry> m_commands;
};

} // namespace sg
