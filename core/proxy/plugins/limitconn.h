#pragma once
// limit-conn (APISIX priority 1003): up to `conn` concurrent per key are admitted at once; those
// above `conn` and within `conn + burst` are admitted after a delay; beyond that refused. The
// delay is APISIX's (lua-resty-limit-traffic): default_conn_delay x floor((n - 1) / conn) for
// the n-th concurrent connection, so with conn >= burst every delayed connection waits
// default_conn_delay once. In the stream subsystem APISIX never adapts the delay to measured
// latency, so only_use_default_delay changes nothing here. UDP sessions are counted the same
// way; a UDP client has no handshake to hold back, so the burst range is admitted without the
// delay. With `rules`, each rule is such a limit of its own, on its own key. A session's counts
// are released in the log phase. Thread-safe: one instance per route, shared, kept across edits
// that leave the plugin's settings unchanged.

#include "model/streamroute.h"
#include "proxy/streamvariables.h"

#include <QHash>
#include <QHostAddress>
#include <QMutex>
#include <QString>
#include <vector>

namespace sg {

class LimitConn
{
public:
    explicit LimitConn(const LimitConnConf& conf);

    struct Admission
    {
        bool admitted = false;
        double delaySeconds = 0; // > 0: admitted after this delay (burst)
        QString key;             // the key value counted (refused: the one over its limit)
        int rule = 0;            // which of `rules` that key is for (0 without rules)
        int concurrent = 0;      // connections counted for the key, this one included when admitted
        QString held;            // pass back to release(); empty when refused
    };
    // The counters are one per rule (the plugin's own conn, burst and key when it has no
    // `rules`), each counting per key value. A connection is admitted when every rule admits
    // it; its delay is the sum of the rules' delays, as APISIX waits for each in turn.
    // Every admitted Admission must be released exactly once (when the session ends); a refused
    // one holds nothing.
    Admission acquire(const StreamClient& client);
    void release(const QString& held);
    int active(const QString& key, int rule = 0) const;

    // The key value `rule` counts this client under. Without rules: a stream variable (key_type
    // var) or a template of them (var_combination), remote_addr when it resolves to nothing, as
    // APISIX does. A rule's key is a template; null when it resolves no variable (APISIX skips
    // that rule).
    QString keyFor(const StreamClient& client, int rule = 0) const;
    const LimitConnConf& conf() const { return m_conf; }

private:
    struct Counter
    {
        LimitConnRule limit;
        bool combination = true;
        bool fallbackToClient = false;
        QHash<QString, int> active;
    };
    void releaseLocked(int rule, const QString& key);

    LimitConnConf m_conf;
    mutable QMutex m_mutex;
    std::vector<Counter> m_counters;
};

} // namespace sg
