#pragma once
// limit-conn (APISIX priority 1003): up to `conn` concurrent per key are admitted at once; those
// above `conn` and within `conn + burst` are admitted after a delay; beyond that refused. The
// delay is APISIX's (lua-resty-limit-traffic): default_conn_delay x floor((n - 1) / conn) for
// the n-th concurrent connection, so with conn >= burst every delayed connection waits
// default_conn_delay once. In the stream subsystem APISIX never adapts the delay to measured
// latency, so only_use_default_delay changes nothing here. UDP sessions are counted the same
// way; a UDP client has no handshake to hold back, so the burst range is admitted without the
// delay. A session's count is released in the log phase. Thread-safe: one instance per route,
// shared, kept across edits that leave the plugin's settings unchanged.

#include "model/streamroute.h"

#include <QHash>
#include <QHostAddress>
#include <QMutex>
#include <QString>

namespace sg {

class LimitConn
{
public:
    explicit LimitConn(const LimitConnConf& conf);

    struct Admission
    {
        bool admitted = false;
        double delaySeconds = 0; // > 0: admitted after this delay (burst)
        QString key;             // pass back to release(); empty when refused
        int concurrent = 0;      // connections counted for the key, this one included when admitted
    };
    // key values: "remote_addr", "server_addr", "server_port" (var), or a var_combination
    // such as "$remote_addr $server_port" (${name} also works). An unknown variable is empty;
    // when nothing resolves, remote_addr is used, as APISIX does.
    // Every admitted Admission must be released exactly once (when the session ends); a refused
    // one holds nothing.
    Admission acquire(const QHostAddress& remote, const QHostAddress& local, int serverPort);
    void release(const QString& key);
    int active(const QString& key) const;

    // The key value acquire() counts under for this connection.
    QString keyFor(const QHostAddress& remote, const QHostAddress& local, int serverPort) const;
    const LimitConnConf& conf() const { return m_conf; }

private:
    LimitConnConf m_conf;
    mutable QMutex m_mutex;
    QHash<QString, int> m_active;
};

} // namespace sg
