#include "proxy/tcplistener.h"

#include "proxy/sockaddr.h"
#include "stats/statshub.h"

#include <QNetworkProxy>
#include <QSocketNotifier>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <mutex>
#include <sys/socket.h>
#include <unistd.h>

namespace sg {

namespace {

// After an accept error the listener waits this long before it tries again, doubling up to the
// cap while the error lasts: the queue is looked at a few times a second, never in a busy loop.
constexpr int kAcceptRetryFirstMs = 10;
constexpr int kAcceptRetryMaxMs = 250;
// Waiting clients refused per accept error, so a flood cannot hold the engine thread.
constexpr int kRefusalsPerPass = 256;
// Clients a worker accepts per wake-up before it serves its sessions again; the listening
// socket is watched level-triggered, so the rest are reported on the next pass.
constexpr int kAcceptsPerWake = 16;

// Why acceptClients() stopped.
struct AcceptStop
{
    enum Kind { Drained, Batch, Refused, Failed } kind;
    int error = 0; // Failed: errno of accept()
};

// Accepts up to `max` clients from the listening socket and passes each to admit(fd, peer) with
// the address accept() gave (no getpeername() per client). A client
// whose descriptor lies beyond the budget is closed at once (refused: nothing read, nothing
// sent, counted in `stats`) and ends the batch, as does an accept() error or an empty queue.
template <typename Admit>
AcceptStop acceptClients(int listenFd, int max, const DescriptorBudget& budget,
                         ListenerStats& stats, Admit&& admit)
{
    for (int i = 0; i < max; ++i) {
        sockaddr_storage peer{};
        socklen_t peerLength = sizeof peer;
        const int fd = ::accept4(listenFd, reinterpret_cast<sockaddr*>(&peer), &peerLength,
                                 SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd >= 0) {
            if (!budget.fits(fd)) [[unlikely]] {
                ::close(fd);
                stats.noDescriptors.fetch_add(1, std::memory_order_relaxed);
                return {AcceptStop::Refused};
            }
            admit(fd, peer);
            continue;
        }
        const int err = errno;
        if (err == EAGAIN || err == EWOULDBLOCK)
            return {AcceptStop::Drained};
        // ECONNABORTED: that client gave up while queued, the next one may not.
        if (err != EINTR && err != ECONNABORTED)
            return {AcceptStop::Failed, err};
    }
    return {AcceptStop::Batch};
}

} // namespace

bool DescriptorReserve::acquire()
{
    if (m_fd < 0)
        m_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    return m_fd >= 0;
}

bool DescriptorReserve::release()
{
    if (m_fd < 0)
        return false;
    ::close(m_fd);
    m_fd = -1;
    return true;
}

// A worker's watch on a listening socket. attach(), detach() and onIo() run on that worker's
// thread only; the listener outlives it (TcpListener::takeFromWorkers waits for detach()).
class TcpAcceptor final : public IoHandler
{
public:
    TcpAcceptor(TcpListener& listener, Worker& worker) : m_listener(listener), m_worker(worker)
    {
        m_watch.fd = int(listener.socketDescriptor());
        m_watch.handler = this;
        m_watch.shared = true;
    }
    Worker& worker() const { return m_worker; }
    void attach()
    {
        if (!m_watch.registered)
            m_worker.loop().add(m_watch, IoRead);
    }
    void detach() { m_worker.loop().remove(m_watch); }

    void onIo(IoWatch&, quint32) override
    {
        const TcpListenerContext& context = m_listener.m_context;
        const AcceptStop stop =
            acceptClients(m_watch.fd, kAcceptsPerWake, context.descriptors, *m_listener.m_stats,
                          [&](int fd, const sockaddr_storage& peer) {
                              context.admit(m_listener, fd, peer, &m_worker);
                          });
        if (stop.kind == AcceptStop::Refused)
            giveBack(EMFILE, true);
        else if (stop.kind == AcceptStop::Failed)
            giveBack(stop.error, false);
    }

private:
    // Out of descriptors, or accept() failed: the engine thread takes the socket over.
    void giveBack(int error, bool refused)
    {
        detach();
        TcpListener* listener = &m_listener;
        QMetaObject::invokeMethod(
            listener, [listener, error, refused] { listener->acceptorFailed(error, refused); },
            Qt::QueuedConnection);
    }

    TcpListener& m_listener;
    Worker& m_worker;
    IoWatch m_watch;
};

TcpListener::TcpListener(const TcpListenerContext& context, const ListenEntry& entry,
                         std::shared_ptr<ListenerStats> stats, QObject* parent)
    : QTcpServer(parent), m_context(context), m_key(entry.text()), m_stats(std::move(stats)),
      m_readsProxyProtocol(entry.readsProxyProtocol()),
      m_sendsProxyProtocol(entry.sendsProxyProtocol()), m_terminatesTls(entry.terminatesTls()),
      m_passesTlsThrough(entry.passesTlsThrough())
{
    setListenBacklogSize(4096);
    setProxy(QNetworkProxy::NoProxy); // binds here, never asks for a system proxy
    m_retry.setSingleShot(true);
    QObject::connect(&m_retry, &QTimer::timeout, this, [this] {
        if (m_notifier && isListening())
            m_notifier->setEnabled(true);
    });
}

TcpListener::~TcpListener()
{
    takeFromWorkers(true);
    m_acceptors.clear();
    close();
}

bool TcpListener::start(const QHostAddress& host, quint16 port)
{
    if (!listen(host, port))
        return false;
    pauseAccepting(); // QTcpServer's own notifier stays off: see the header
    const int fd = int(socketDescriptor());
    const bool wildcard = host == QHostAddress(QHostAddress::Any) ||
                          host == QHostAddress(QHostAddress::AnyIPv4) ||
                          host == QHostAddress(QHostAddress::AnyIPv6);
    sockaddr_storage bound{};
    socklen_t boundLen = sizeof bound;
    if (!host.isNull() && !wildcard &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &boundLen) == 0)
        m_fixedLocal.emplace(hostOf(bound), portOf(bound));
    m_notifier = new QSocketNotifier(fd, QSocketNotifier::Read, this);
    m_notifier->setEnabled(false);
    QObject::connect(m_notifier, &QSocketNotifier::activated, this, [this] { acceptWaiting(); });
    for (const auto& w : m_context.workers)
        m_acceptors.push_back(std::make_unique<TcpAcceptor>(*this, *w));
    handToWorkers();
    return true;
}

void TcpListener::handToWorkers()
{
    m_notifier->setEnabled(false);
    m_onWorkers = true;
    for (const auto& a : m_acceptors)
        a->worker().post([a = a.get()](Worker&) { a->attach(); });
}

// wait: return only once every worker has let go (before the socket is closed); otherwise the
// workers stop on their next loop pass, and a client one of them still accepts is admitted as
// usual.
void TcpListener::takeFromWorkers(bool wait)
{
    m_onWorkers = false;
    if (!wait) {
        for (const auto& a : m_acceptors)
            a->worker().post([a = a.get()](Worker&) { a->detach(); });
        return;
    }
    std::mutex mutex;
    std::condition_variable done;
    size_t left = m_acceptors.size();
    for (const auto& a : m_acceptors) {
        a->worker().post([a = a.get(), &mutex, &done, &left](Worker&) {
            a->detach();
            std::lock_guard lock(mutex);
            if (--left == 0)
                done.notify_one();
        });
    }
    std::unique_lock lock(mutex);
    done.wait(lock, [&left] { return left == 0; });
}

void TcpListener::acceptorFailed(int error, bool refused)
{
    if (!isListening())
        return;
    if (m_onWorkers) {
        takeFromWorkers(false);
        m_notifier->setEnabled(true);
    }
    if (refused) {
        // Beyond the budget: the notifier refuses or admits the next clients (acceptWaiting).
        countRefusal();
    } else if (m_notifier->isEnabled()) {
        acceptFailed(error);
    }
}

void TcpListener::acceptWaiting()
{
    for (;;) {
        const AcceptStop stop = acceptClients(
            int(socketDescriptor()), std::numeric_limits<int>::max(), m_context.descriptors,
            *m_stats, [this](int fd, const sockaddr_storage& peer) {
                if (m_failing) [[unlikely]]
                    acceptRecovered();
                m_context.admit(*this, fd, peer, nullptr);
            });
        if (stop.kind == AcceptStop::Refused) {
            countRefusal();
            continue; // the next client may fit: another one's descriptor may be free by now
        }
        if (stop.kind == AcceptStop::Failed)
            acceptFailed(stop.error);
        return;
    }
}

// A client the proxy has no descriptor for: closed at once, nothing read, nothing sent.
void TcpListener::refuse(int fd)
{
    ::close(fd);
    m_stats->noDescriptors.fetch_add(1, std::memory_order_relaxed);
    countRefusal();
}

void TcpListener::countRefusal()
{
    ++m_refusedNow;
    reportFailure(EMFILE);
}

// Once per episode. Out of descriptors is one episode for the whole engine, however many
// listeners and workers meet it.
void TcpListener::reportFailure(int error)
{
    if (m_failing)
        return;
    m_failing = true;
    const bool outOfDescriptors = error == EMFILE || error == ENFILE;
    if (outOfDescriptors && m_context.descriptors.exhausted.exchange(true))
        return;
    QString what;
    if (error == EMFILE)
        what = QStringLiteral("descriptor limit reached (%1): new connections refused")
                   .arg(descriptorLimitText());
    else if (error == ENFILE)
        what = QStringLiteral("the system's descriptor limit is reached: new connections refused");
    else
        what = QStringLiteral("cannot accept connections (%1), retrying")
                   .arg(QString::fromLocal8Bit(std::strerror(error)));
    m_context.hub.addEvent(EventKind::ListenerError, QString(),
                           QStringLiteral("TCP listener %1: %2").arg(m_key, what));
}

// accept() itself failed. Out of descriptors (the headroom above the budget used up too), the
// clients already waiting are refused through the reserve descriptor; accepting resumes after
// the backoff.
void TcpListener::acceptFailed(int error)
{
    m_notifier->setEnabled(false);
    if (error == EMFILE || error == ENFILE)
        refuseWaiting();
    reportFailure(error);
    m_retryMs = m_retryMs > 0 ? qMin(m_retryMs * 2, kAcceptRetryMaxMs) : kAcceptRetryFirstMs;
    m_retry.start(m_retryMs);
}

void TcpListener::refuseWaiting()
{
    const int lfd = int(socketDescriptor());
    DescriptorReserve& reserve = m_context.reserve;
    for (int i = 0; i < kRefusalsPerPass && reserve.release(); ++i) {
        const int fd = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0)
            refuse(fd);
        // May fail when a worker took the slot meanwhile: taken again once descriptors free up.
        reserve.acquire();
        if (fd < 0)
            break; // nobody else waiting
    }
}

// A client was admitted again: the episode is over and the workers accept again.
void TcpListener::acceptRecovered()
{
    m_failing = false;
    m_retryMs = 0;
    m_context.reserve.acquire();
    m_context.descriptors.exhausted.store(false);
    m_context.hub.addEvent(
        EventKind::ListenerUp, QString(),
        QStringLiteral("TCP listener %1: accepting new connections again (%2 refused meanwhile)")
            .arg(m_key)
            .arg(m_refusedNow));
    m_refusedNow = 0;
    handToWorkers();
}

} // namespace sg
