#include "stats/clientresolver.h"

#include "stats/statshub.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QHash>
#include <QHostInfo>
#include <QMutexLocker>
#include <QNetworkInterface>
#include <QObject>
#include <QSet>
#include <QTimer>

namespace sg {

namespace {
constexpr qint64 kInterfaceRefreshMs = 30000; // interface addresses are read again after this

// Whether the request was made for a connection's record (which may have gone since).
bool forConnection(const ClientResolver::Request& r)
{
    const std::weak_ptr<ConnectionRecord> none;
    return r.record.owner_before(none) || none.owner_before(r.record);
}
} // namespace

// Runs on the resolver's thread: takes the queued requests, answers the local ones from the
// socket table at once, and the network ones from the host cache or a reverse lookup.
class ClientResolverWorker final : public QObject
{
public:
    ClientResolverWorker(ClientResolver* owner, ClientResolver::Deliver deliver,
                         ClientResolver::Options options)
        : m_owner(owner), m_deliver(std::move(deliver)), m_options(std::move(options)),
          m_batch(new QTimer(this))
    {
        m_batch->setSingleShot(true);
        m_batch->setInterval(m_options.batchMs);
        connect(m_batch, &QTimer::timeout, this, &ClientResolverWorker::drain);
    }

    // The first request of a batch came: resolve the batch once it has gathered.
    void schedule()
    {
        if (!m_batch->isActive())
            m_batch->start();
    }

    void drain()
    {
        std::vector<ClientResolver::Request> batch = m_owner->take();
        // A connection that ended while the batch gathered has no socket left to look up.
        std::erase_if(batch, [](const ClientResolver::Request& r) {
            if (!forConnection(r))
                return false;
            const auto record = r.record.lock();
            return !record ||
                   record->state.load(std::memory_order_relaxed) == ConnectionState::Closed;
        });
        QList<SocketOwnerFinder::Key> keys;
        QList<int> local; // indexes into batch of the requests asking for a process
        for (int i = 0; i < int(batch.size()); ++i) {
            if (isLocal(batch[size_t(i)].socket.clientAddress)) {
                keys.append(batch[size_t(i)].socket);
                local.append(i);
            }
        }
        QList<ClientProcess> processes =
            keys.isEmpty() ? QList<ClientProcess>() : m_finder.find(keys);
        std::vector<ClientProcess> processOf(batch.size());
        for (int k = 0; k < local.size(); ++k)
            processOf[size_t(local[k])] = processes[k];
        for (size_t i = 0; i < batch.size(); ++i) {
            ClientResolver::Request& r = batch[i];
            if (isLocal(r.client)) {
                m_deliver(r, processOf[i], QString());
                continue;
            }
            const QString ip = r.client.toString();
            const auto cached = m_hosts.constFind(ip);
            if (cached != m_hosts.constEnd() && !cached->expires.hasExpired()) {
                m_deliver(r, processOf[i], cached->name);
                continue;
            }
            auto& waiting = m_waiting[ip];
            waiting.push_back({std::move(r), std::move(processOf[i])});
            if (waiting.size() == 1)
                QHostInfo::lookupHost(ip, this,
                                      [this, ip](const QHostInfo& info) { hostFound(ip, info); });
        }
    }

private:
    struct Waiting
    {
        ClientResolver::Request request;
        ClientProcess process;
    };
    struct Host
    {
        QString name; // empty: the address has no name
        QDeadlineTimer expires;
        qint64 insertedMs = 0;
    };

    void hostFound(const QString& ip, const QHostInfo& info)
    {
        // A reverse lookup without an answer gives the address back as the name.
        QString name = info.error() == QHostInfo::NoError ? info.hostName() : QString();
        if (name == ip || QHostAddress(name) == QHostAddress(ip))
            name.clear();
        if (m_hosts.size() >= m_options.hostCacheSize && !m_hosts.contains(ip)) {
            auto oldest = m_hosts.begin();
            for (auto it = m_hosts.begin(); it != m_hosts.end(); ++it) {
                if (it->insertedMs < oldest->insertedMs)
                    oldest = it;
            }
            m_hosts.erase(oldest);
        }
        m_hosts.insert(ip, Host{name, QDeadlineTimer(m_options.hostTtlMs), ++m_clock});
        const std::vector<Waiting> waiting = m_waiting.take(ip);
        for (const Waiting& w : waiting)
            m_deliver(w.request, w.process, name);
    }

    bool isLocal(const QHostAddress& address)
    {
        if (address.isNull())
            return false;
        if (m_options.isLocal)
            return m_options.isLocal(address);
        bool v4 = false;
        const QHostAddress plain(address.toIPv4Address(&v4));
        const QHostAddress& a = v4 ? plain : address;
        if (a.isLoopback())
            return true;
        if (!m_interfacesRead.isValid() || m_interfacesRead.hasExpired(kInterfaceRefreshMs)) {
            m_interfaces.clear();
            for (const QHostAddress& i : QNetworkInterface::allAddresses())
                m_interfaces.insert(i.toString());
            m_interfacesRead.start();
        }
        return m_interfaces.contains(a.toString());
    }

    ClientResolver* m_owner;
    ClientResolver::Deliver m_deliver;
    ClientResolver::Options m_options;
    SocketOwnerFinder m_finder;
    QHash<QString, Host> m_hosts;
    QHash<QString, std::vector<Waiting>> m_waiting; // reverse lookups under way, by address
    qint64 m_clock = 0;                             // insertion order of m_hosts
    QSet<QString> m_interfaces;
    QElapsedTimer m_interfacesRead;
    QTimer* m_batch;
};

ClientResolver::ClientResolver(Deliver deliver, Options options)
    : m_worker(new ClientResolverWorker(this, std::move(deliver), std::move(options)))
{
    m_thread.setObjectName(QStringLiteral("sg-client-resolver"));
    m_worker->moveToThread(&m_thread);
    QObject::connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    m_thread.start(QThread::LowPriority);
}

ClientResolver::ClientResolver(Deliver deliver) : ClientResolver(std::move(deliver), Options()) {}

ClientResolver::~ClientResolver()
{
    m_thread.quit();
    m_thread.wait();
}

void ClientResolver::request(Request request)
{
    QMutexLocker lock(&m_mutex);
    if (m_queue.size() >= size_t(kMaxQueued))
        return;
    m_queue.push_back(std::move(request));
    if (m_queue.size() == 1) // the worker takes everything queued until its batch is resolved
        QMetaObject::invokeMethod(m_worker, &ClientResolverWorker::schedule, Qt::QueuedConnection);
}

std::vector<ClientResolver::Request> ClientResolver::take()
{
    QMutexLocker lock(&m_mutex);
    std::vector<ClientResolver::Request> out;
    out.swap(m_queue);
    return out;
}

} // namespace sg
