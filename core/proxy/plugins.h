#pragma once
// The stream plugins, in APISIX priority order: ip-restriction (3000) runs before
// limit-conn (1003). Both are decided before any upstream connect. Both classes are built once
// per route config; IpRestriction is immutable, LimitConn locks its counters, so workers share
// them.

#include "model/streamroute.h"
#include "proxy/addressmatch.h"

#include <QHash>
#include <QHostAddress>
#include <QMutex>
#include <QString>

namespace sg {

// ip-restriction: a blacklist refuses the listed addresses, a whitelist refuses everyone else.
// Entries that do not parse (refused earlier by validation) are ignored: they match no one.
class IpRestriction
{
public:
    explicit IpRestriction(const IpRestrictionConf& conf);
    bool allows(const QHostAddress& remote) const;
    // conf.message, or APISIX's default "Your IP address is not allowed".
    QString message() const { return m_message; }

private:
    AddressList m_whitelist;
    AddressList m_blacklist;
    bool m_hasWhitelist = false;
    bool m_hasBlacklist = false;
    QString m_message;
};

// limit-conn: up to `conn` concurrent per key are admitted at once; those above `conn` and
// within `conn + burst` are admitted after a delay; beyond that refused. The delay is APISIX's
// (lua-resty-limit-traffic): default_conn_delay x floor((n - 1) / conn) for the n-th concurrent
// connection, so with conn >= burst every delayed connection waits default_conn_delay once. In
// the stream subsystem APISIX never adapts the delay to measured latency, so
// only_use_default_delay changes nothing here. Thread-safe: one instance per route, shared.
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

private:
    LimitConnConf m_conf;
    mutable QMutex m_mutex;
    QHash<QString, int> m_active;
};

// The value of an nginx stream variable Streamgate knows ("remote_addr", "server_addr",
// "server_port"); a null QString for any other name.
QString streamVariable(const QString& name, const QHostAddress& remote, const QHostAddress& local,
                       int serverPort);

// Replaces $name and ${name} in a template with streamVariable() values (unknown ones become
// empty); *resolved counts the variables that had a value.
QString resolveStreamVariables(const QString& templ, const QHostAddress& remote,
                               const QHostAddress& local, int serverPort, int* resolved = nullptr);

} // namespace sg
