#pragma once
// The stream plugins, in APISIX priority order: ip-restriction (3000) runs before
// limit-conn (1003). Both are decided before any upstream connect.

#include "model/streamroute.h"
#include "proxy/addressmatch.h"

#include <QHash>
#include <QHostAddress>
#include <QMutex>
#include <QString>

namespace sg {

class IpRestriction
{
public:
    explicit IpRestriction(const IpRestrictionConf& conf);
    bool allows(const QHostAddress& remote) const;
    QString message() const { return m_message; }

private:
    AddressList m_whitelist;
    AddressList m_blacklist;
    bool m_isWhitelist = true;
    QString m_message;
};

// limit-conn: up to `conn` concurrent per key are admitted at once; those above `conn` and
// within `conn + burst` are admitted after default_conn_delay x excess seconds; beyond that
// refused. Thread-safe: one instance per route, shared by every worker.
class LimitConn
{
public:
    explicit LimitConn(const LimitConnConf& conf);

    struct Admission
    {
        bool admitted = false;
        double delaySeconds = 0; // > 0: admitted after this delay (burst)
        QString key;             // pass back to release()
    };
    // key values: "remote_addr", "server_addr", "server_port" (var), or a var_combination
    // such as "$remote_addr $server_port".
    Admission acquire(const QHostAddress& remote, const QHostAddress& local, int serverPort);
    void release(const QString& key);
    int active(const QString& key) const;

private:
    LimitConnConf m_conf;
    mutable QMutex m_mutex;
    QHash<QString, int> m_active;
};

} // namespace sg
