#pragma once
// A stream plugin is one unit of admission, as in APISIX's stream subsystem: every plugin a
// route uses runs its preread phase for each new client, highest priority first
// (ip-restriction 3000 before limit-conn 1003), the first refusal ends the client; an admitted
// session's plugins run their log phase once when it ends, last plugin first: each plugin that
// kept something for the session in its `held` slot (a plugin that keeps nothing has nothing
// to release, and a session whose plugins keep nothing carries no log state at all; a logger,
// such as syslog, is told of every session, refused ones included: logsEverySession()). TCP
// connections and UDP sessions go through the same plugins (see admission.h).
//
// A plugin is one file under core/proxy/plugins/: `plugins/<name>.cpp` defines
// `sg::StreamPluginType sg::streamplugins::<name>()`, and the build lists every such file, so
// adding a plugin edits nothing else. addStreamPluginType() adds one at run time (a test's own).
//
// Threads: a route's plugin instance is built on the engine thread when a config is applied
// and then shared by every worker, so preread() and log() must be thread-safe. What one session
// needs released at its end is kept in its own `held` slot, not in the instance.

#include "model/streamroute.h"
#include "proxy/streamvariables.h"
#include "stats/snapshot.h"

#include <QHostAddress>
#include <QList>
#include <QString>
#include <memory>
#include <vector>

namespace sg {

class ConnectionRecord;
struct EngineOptions;
struct RouteStats;
struct UpstreamEntry;

// A preread phase's decision.
struct PrereadVerdict
{
    CloseReason refusal = CloseReason::None; // None: admitted so far, the next plugin runs
    QString why;                             // the refusal as the event log says it
    // The refusal depends on load (limits), not on who the client is: a refused UDP client is
    // asked again within a second instead of being held off for half a minute.
    bool underLoad = false;
    double delaySeconds = 0; // admitted after this delay (TCP; a UDP client has nothing to hold)
    // traffic-split: the session's upstream instead of the route's (null: the route's). The
    // plugin instance keeps it alive, and the session keeps the route and so the plugin.
    UpstreamEntry* upstream = nullptr;

    static PrereadVerdict admit(double delaySeconds = 0)
    {
        PrereadVerdict v;
        v.delaySeconds = delaySeconds;
        return v;
    }
    static PrereadVerdict refuse(CloseReason reason, const QString& why, bool underLoad)
    {
        PrereadVerdict v;
        v.refusal = reason;
        v.why = why;
        v.underLoad = underLoad;
        return v;
    }
};

// What the log phase is told of the session that ended.
struct StreamLog
{
    RouteStats& stats;              // the route's counters
    const QString& held;            // what this plugin's preread kept for the session
    CloseReason reason;             // why it ended (a later plugin's refusal when record is null)
    const ConnectionRecord* record; // the session's record; null when it never opened
    const StreamClient* client = nullptr; // the refused client, when record is null
};

class StreamPlugin
{
public:
    virtual ~StreamPlugin() = default;
    // preread: decides one client of route `routeId`; counts what it decided in `stats`.
    // `held` is this session's slot for this plugin (empty on entry); log() gets it back.
    virtual PrereadVerdict preread(const StreamClient& client, const QString& routeId,
                                   RouteStats& stats, QString& held) = 0;
    // log: the session ended, or a later plugin refused the client. Called once per preread
    // that admitted and left `held` non-empty, on the thread that ends the session.
    virtual void log(const StreamLog& log) { Q_UNUSED(log); }
    // A logger's log phase runs for every client of the route, admitted or refused by any of
    // its plugins, as APISIX runs each plugin's log phase for every session (`held` may be
    // empty). Other plugins only release what they kept.
    virtual bool logsEverySession() const { return false; }
    // mqtt-proxy: preread() needs the client's MQTT CONNECT in StreamClient::mqtt, which the
    // TCP transport reads before the pipeline goes on (admission.h).
    virtual bool readsMqttConnect() const { return false; }
};

// traffic-split: what one weighted_upstreams entry runs with, resolved when a config is applied
// (routetable.cpp): an upstream_id's shared upstream or the entry's inline one; null for an
// entry with only a weight (the route's own upstream), or when missingId names no upstream.
struct SplitUpstream
{
    std::shared_ptr<UpstreamEntry> upstream;
    QString missingId;
    bool operator==(const SplitUpstream&) const = default;
};
// Rule by rule, entry by entry, as the route's traffic-split lists them.
using SplitUpstreams = QList<QList<SplitUpstream>>;

// What a plugin is built from when a config is applied.
struct StreamPluginBuild
{
    const StreamRoute& route;
    const EngineOptions& options;
    // This plugin's instance on the same route in the config before (null if none): returned
    // as is when its settings did not change, so what it counts survives edits of the route.
    std::shared_ptr<StreamPlugin> previous;
    // The upstreams the route's traffic-split rules name (empty without traffic-split).
    const SplitUpstreams* splitUpstreams = nullptr;
};

struct StreamPluginType
{
    QString name; // as APISIX spells it
    int priority; // APISIX's; higher runs first
    // The route's instance, or nullptr when the route does not use the plugin.
    std::shared_ptr<StreamPlugin> (*build)(const StreamPluginBuild& build);
};

// Every plugin type, highest priority first (equal priorities by name).
std::vector<StreamPluginType> streamPluginTypes();
// Adds a plugin type for the configs applied from now on; thread-safe.
void addStreamPluginType(const StreamPluginType& type);

} // namespace sg
