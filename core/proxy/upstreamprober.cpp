#include "proxy/upstreamprober.h"

#include "proxy/probesocket.h"
#include "stats/statshub.h"

#include <QElapsedTimer>
#include <QPointer>
#include <QTcpSocket>
#include <QTimer>
#include <algorithm>
#include <limits>

namespace sg {

namespace {

QString probeKey(const QString& upstream, const QString& node)
{
    return upstream + QLatin1Char('\n') + node;
}

QString durationText(int ms)
{
    return ms % 1000 == 0 ? QStringLiteral("%1 s").arg(ms / 1000) : QStringLiteral("%1 ms").arg(ms);
}

// The socket's failure in the words a user reads on the route: the OS's for the rare ones.
QString describe(QAbstractSocket::SocketError error, const QTcpSocket& socket, int timeoutMs)
{
    switch (error) {
    case QAbstractSocket::ConnectionRefusedError:
        return QStringLiteral("connection refused");
    case QAbstractSocket::SocketTimeoutError:
        return QStringLiteral("no answer within %1").arg(durationText(timeoutMs));
    case QAbstractSocket::HostNotFoundError:
        return QStringLiteral("host not found");
    default:
        break;
    }
    QString text = socket.errorString();
    if (!text.isEmpty())
        text[0] = text.at(0).toLower();
    return text;
}

} // namespace

// One node's probes: at most one connect at a time, and the timer of its next re-probe. A child
// of the prober; its socket is its own child.
class ReachProbe final : public QObject
{
public:
    ReachProbe(UpstreamProber* owner, const UpstreamProber::Target& target, int retryMs)
        : QObject(owner), target(target), backoffMs(retryMs), m_owner(owner)
    {
        retry.setSingleShot(true);
        m_timeout.setSingleShot(true);
        connect(&retry, &QTimer::timeout, this, [this] { m_owner->request(this); });
        connect(&m_timeout, &QTimer::timeout, this, [this] {
            done(false, QStringLiteral("no answer within %1")
                            .arg(durationText(m_owner->m_options.timeoutMs)));
        });
    }
    ~ReachProbe() override { dropSocket(); }
    Q_DISABLE_COPY_MOVE(ReachProbe)

    void start()
    {
        running = true;
        if (target.address.isNull() || target.port == 0) {
            // Finished from the event loop, as a connect is: the caller's loop is not reentered.
            QTimer::singleShot(
                0, this, [this] { done(false, QStringLiteral("the host name does not resolve")); });
            return;
        }
        m_socket = new QTcpSocket(this);
        connect(m_socket, &QTcpSocket::connected, this, [this] { done(true, QString()); });
        connect(m_socket, &QTcpSocket::errorOccurred, this,
                [this](QAbstractSocket::SocketError error) {
                    if (m_socket)
                        done(false, describe(error, *m_socket, m_owner->m_options.timeoutMs));
                });
        m_timeout.start(m_owner->m_options.timeoutMs);
        m_socket->connectToHost(target.address, target.port);
    }

    // Drops a running connect without a result (the node is gone).
    void stop()
    {
        running = false;
        retry.stop();
        m_timeout.stop();
        dropSocket();
    }

    UpstreamProber::Target target;
    NodeReach reach = NodeReach::Unknown;
    QString error;
    int backoffMs;
    bool running = false; // connecting (counted in the prober's in-flight probes)
    bool queued = false;  // waiting for a free slot
    qint64 finishedAt = std::numeric_limits<qint64>::min() / 2; // prober's clock, ms
    QTimer retry;

private:
    void done(bool answering, const QString& why)
    {
        if (!running)
            return;
        running = false;
        m_timeout.stop();
        dropSocket();
        m_owner->finished(this, answering, why);
    }

    // Connected: a FIN with nothing sent, which a server takes as a client that left.
    void dropSocket() { dropProbeSocket(m_socket, this); }

    UpstreamProber* const m_owner;
    QTimer m_timeout;
    QTcpSocket* m_socket = nullptr;
};

namespace {
QElapsedTimer& clock()
{
    static QElapsedTimer timer = [] {
        QElapsedTimer t;
        t.start();
        return t;
    }();
    return timer;
}
} // namespace

UpstreamProber::UpstreamProber(const Options& options, QObject* parent)
    : QObject(parent), m_options{qMax(1, options.timeoutMs), qMax(1, options.retryMs),
                                 qMax(qMax(1, options.retryMs), options.maxRetryMs)}
{
    clock();
}

UpstreamProber::~UpstreamProber()
{
    for (ReachProbe* probe : std::as_const(m_probes))
        probe->stop();
}

void UpstreamProber::setTargets(const std::vector<Target>& targets)
{
    QHash<QString, ReachProbe*> next;
    std::vector<ReachProbe*> now;
    for (const Target& t : targets) {
        const QString key = probeKey(t.upstream, t.node);
        if (next.contains(key))
            continue;
        ReachProbe* probe = m_probes.take(key);
        bool probeNow = t.fresh;
        if (!probe) {
            probe = new ReachProbe(this, t, m_options.retryMs);
            probeNow = true;
        } else {
            probeNow =
                probeNow || probe->target.address != t.address || probe->target.port != t.port;
            probe->target = t;
        }
        if (probe->target.stats && probe->reach != NodeReach::Unknown)
            probe->target.stats->setReach(probe->reach, probe->error);
        next.insert(key, probe);
        if (probeNow)
            now.push_back(probe);
    }
    // What is left is gone from the config.
    for (ReachProbe* gone : std::as_const(m_probes)) {
        if (gone->running)
            --m_inFlight;
        std::erase(m_waiting, gone);
        gone->stop();
        gone->deleteLater();
    }
    m_probes = next;
    for (ReachProbe* probe : now) {
        if (probe->running || probe->queued)
            continue; // already on its way: that result is as fresh
        probe->backoffMs = m_options.retryMs;
        request(probe);
    }
    startWaiting();
}

void UpstreamProber::connectFailed(const QString& upstream, const QString& node)
{
    bool first = false;
    {
        const std::lock_guard<std::mutex> lock(m_failuresLock);
        first = m_failures.empty();
        m_failures.push_back(probeKey(upstream, node));
    }
    // One wake-up for a burst of failures; by name, so nothing made on this thread crosses over.
    if (first)
        QMetaObject::invokeMethod(this, "takeFailures", Qt::QueuedConnection);
}

void UpstreamProber::takeFailures()
{
    std::vector<QString> failures;
    {
        const std::lock_guard<std::mutex> lock(m_failuresLock);
        failures.swap(m_failures);
    }
    const qint64 now = clock().elapsed();
    for (const QString& key : failures) {
        ReachProbe* probe = m_probes.value(key);
        // Running, waiting or due again already (a node that does not answer is on its
        // back-off schedule): that probe will tell.
        if (!probe || probe->running || probe->queued || probe->retry.isActive())
            continue;
        const qint64 since = now - probe->finishedAt;
        if (since >= m_options.retryMs)
            request(probe);
        else
            probe->retry.start(int(m_options.retryMs - since));
    }
}

void UpstreamProber::request(ReachProbe* probe)
{
    if (probe->running || probe->queued)
        return;
    probe->retry.stop();
    if (m_inFlight >= kMaxInFlight) {
        probe->queued = true;
        m_waiting.push_back(probe);
        return;
    }
    ++m_inFlight;
    ++m_started;
    probe->start();
}

void UpstreamProber::startWaiting()
{
    while (m_inFlight < kMaxInFlight && !m_waiting.empty()) {
        ReachProbe* waiting = m_waiting.front();
        m_waiting.erase(m_waiting.begin());
        waiting->queued = false;
        request(waiting);
    }
}

void UpstreamProber::finished(ReachProbe* probe, bool answering, const QString& error)
{
    --m_inFlight;
    probe->finishedAt = clock().elapsed();
    const NodeReach before = probe->reach;
    probe->reach = answering ? NodeReach::Answering : NodeReach::NotAnswering;
    probe->error = error;
    if (probe->target.stats)
        probe->target.stats->setReach(probe->reach, error);
    if (answering) {
        probe->backoffMs = m_options.retryMs;
    } else {
        probe->retry.start(probe->backoffMs);
        probe->backoffMs = int(qMin<qint64>(qint64(probe->backoffMs) * 2, m_options.maxRetryMs));
    }
    const QString upstream = probe->target.upstream;
    const QString node = probe->target.node;
    startWaiting();
    QPointer<UpstreamProber> self(this);
    // A node found answering at its first probe is no news; every other change is.
    if (before != probe->reach && !(before == NodeReach::Unknown && answering))
        Q_EMIT reachChanged(upstream, node, answering, error);
    if (self)
        Q_EMIT probed(upstream, node, answering);
}

NodeReach UpstreamProber::reach(const QString& upstream, const QString& node) const
{
    const ReachProbe* probe = m_probes.value(probeKey(upstream, node));
    return probe ? probe->reach : NodeReach::Unknown;
}

QString UpstreamProber::error(const QString& upstream, const QString& node) const
{
    const ReachProbe* probe = m_probes.value(probeKey(upstream, node));
    return probe ? probe->error : QString();
}

} // namespace sg
