#pragma once
// ClientResolver finds out, in the background, who a client is: for a client on this machine
// (a loopback address or one of this machine's interface addresses) the program that owns its
// socket (stats/socketowner.h), for a client on the network its host name by reverse DNS
// (QHostInfo, asynchronous; cached per address with a bounded size and a time to live, failed
// lookups too). request() is cheap and may be called from any thread, the accept path
// included: it queues the request for the resolver's own thread, which calls `deliver` there
// with the answer. Nothing of it runs on the caller's thread. The thread takes requests in
// batches, Options::batchMs after the first of a batch came (a storm of connections costs one
// socket-table pass and at most one /proc scan per batch), and skips connections that ended
// meanwhile. At most kMaxQueued requests wait; more are dropped (those clients stay
// unresolved).

#include "stats/snapshot.h"
#include "stats/socketowner.h"

#include <QHostAddress>
#include <QMutex>
#include <QThread>
#include <functional>
#include <memory>
#include <vector>

namespace sg {

class ConnectionRecord;
class ClientResolverWorker;

class ClientResolver
{
public:
    struct Request
    {
        // The client's socket as the proxy sees it (with a PROXY protocol header: the peer
        // that sent it), and the address whose host name is wanted.
        SocketOwnerFinder::Key socket;
        QHostAddress client = nullAddress();
        // What to fill: an open connection's record, or a denied client's key in StatsHub.
        std::weak_ptr<ConnectionRecord> record;
        QString deniedKey;
    };
    // Called on the resolver's thread, once per request that was resolved.
    using Deliver =
        std::function<void(const Request&, const ClientProcess& process, const QString& host)>;

    struct Options
    {
        int hostTtlMs = 10 * 60 * 1000; // a name (or the lack of one) is asked again after this
        int hostCacheSize = 1024;       // addresses remembered; the oldest entry goes first
        int batchMs = 200;              // how long a batch gathers before it is resolved
        // Which addresses are this machine's; empty: loopback and every interface address.
        std::function<bool(const QHostAddress&)> isLocal;
    };

    static constexpr int kMaxQueued = 4096;

    ClientResolver(Deliver deliver, Options options);
    explicit ClientResolver(Deliver deliver);
    ~ClientResolver(); // stops the thread; requests still waiting are dropped
    Q_DISABLE_COPY_MOVE(ClientResolver)

    void request(Request request);

private:
    friend class ClientResolverWorker;
    std::vector<Request> take();

    QMutex m_mutex;
    std::vector<Request> m_queue;
    QThread m_thread;
    ClientResolverWorker* m_worker; // lives on m_thread, deleted when it finishes
};

} // namespace sg
