#include "proxy/tcpsession.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sg {

namespace {

// Bytes one direction may move per readiness pass before the session yields to others:
// this many buffers, or two pipes at the burst size if that is more.
constexpr qint64 kPassBudgetBuffers = 8;
// A pipe grows after this many reads in a row filled it from empty to its cap.
constexpr int kFillsToGrow = 2;
// A grown pipe stays with its direction through pauses shorter than this.
constexpr qint64 kQuietPipeMs = 1000;

bool wouldBlock(int e)
{
    return e == EAGAIN || e == EWOULDBLOCK;
}

void setNoDelay(int fd)
{
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

void closeWithReset(int fd)
{
    linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd);
}

quint32 timerTag(quint32 kind, quint32 gen)
{
    return (kind << 24) | (gen & 0xffffffu);
}

} // namespace

TcpSession::TcpSession(Worker& worker, TcpSessionSetup&& setup)
    : WorkerSession(worker, setup.record->base.id), m_route(std::move(setup.route)),
      m_record(std::move(setup.record)), m_hashKey(std::move(setup.hashKey)),
      m_delaySeconds(setup.delaySeconds), m_admission(std::move(setup.admission))
{
    m_ends[Client].watch.fd = setup.clientFd;
    for (int s = 0; s < 2; ++s) {
        m_ends[s].watch.handler = this;
        m_ends[s].watch.tag = s;
    }
    m_dirs[0].from = Client;
    m_dirs[0].to = Upstream;
    m_dirs[1].from = Upstream;
    m_dirs[1].to = Client;
    const Timeout t = m_route->upstream ? m_route->upstream->timeout : Timeout{};
    // up = bytes toward the upstream (send timeout), down = from it (read timeout)
    m_dirs[0].idleMs = qMax<qint64>(1, qint64(t.send * 1000));
    m_dirs[1].idleMs = qMax<qint64>(1, qint64(t.read * 1000));
    if (m_route->mysqlInspect)
        m_mysql = std::make_unique<MySqlInspector>(m_route->mysqlCommands);
}

TcpSession::~TcpSession()
{
    // Normally closed (and retired) already; this only guards the descriptors.
    for (Endpoint& e : m_ends) {
        if (e.watch.fd >= 0) {
            m_worker.loop().remove(e.watch);
            ::close(e.watch.fd);
        }
    }
    for (Direction& d : m_dirs) {
        m_worker.givePipe(d.pipe, false);
        m_worker.giveBuffer(d.buffer);
    }
}

QString TcpSession::routeId() const
{
    return m_record->base.routeId;
}

void TcpSession::start()
{
    setNoDelay(fd(Client));
    // Registered from the start so a client that vanishes while we connect is noticed; its
    // readiness is remembered (edge style) and used once the upstream is connected.
    if (!m_worker.loop().add(m_ends[Client].watch, 0)) {
        close(CloseReason::ClientReset);
        return;
    }
    if (m_delaySeconds > 0) {
        m_worker.schedule(m_worker.monoMs() + qint64(m_delaySeconds * 1000), m_id,
                          timerTag(DelayTimer, 0));
        return;
    }
    startConnect();
}

void TcpSession::startConnect()
{
    UpstreamEntry* up = m_route->upstream.get();
    const int node = up ? up->balancer->pick(m_hashKey, m_tried) : -1;
    if (node < 0 || node >= int(up->nodes.size())) {
        if (m_attempts == 0) // nothing to try at all (no upstream, or no node with weight)
            m_route->stats->add(m_route->stats->connectFailures);
        close(CloseReason::ConnectFailed);
        return;
    }
    m_tried.insert(node);
    ++m_attempts;
    m_node = node;
    const ResolvedNode& target = up->nodes[size_t(node)];
    m_record->setUpstreamNode(target.text);
    m_attemptStartMs = m_worker.monoMs();
    if (m_attempts == 1)
        m_firstAttemptMs = m_attemptStartMs;

    if (target.length == 0) {
        attemptFailed(false);
        return;
    }
    const int s = m_worker.descriptors().admit(
        ::socket(target.address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (s < 0) {
        const int err = errno;
        if (err == EMFILE || err == ENFILE) {
            // The proxy is out of descriptors: no node would do better and none is to blame.
            m_worker.descriptorFailed(err);
            if (ListenerStats* l = m_record->listener.get())
                l->noDescriptors.fetch_add(1, std::memory_order_relaxed);
            close(CloseReason::NoDescriptors);
            return;
        }
        attemptFailed(false);
        return;
    }
    m_worker.descriptorOpened();
    setNoDelay(s);
    Endpoint& e = m_ends[Upstream];
    e = Endpoint{};
    e.watch.fd = s;
    e.watch.handler = this;
    e.watch.tag = Upstream;
    const int rc = ::connect(s, reinterpret_cast<const sockaddr*>(&target.address), target.length);
    if (rc != 0 && errno != EINPROGRESS) {
        ::close(s);
        e.watch.fd = -1;
        attemptFailed(false);
        return;
    }
    if (!m_worker.loop().add(e.watch, IoWrite)) {
        ::close(s);
        e.watch.fd = -1;
        attemptFailed(false);
        return;
    }
    ++m_connectGen;
    const double connectTimeout = up->timeout.connect > 0 ? up->timeout.connect : 60;
    m_worker.schedule(m_attemptStartMs + qMax<qint64>(1, qint64(connectTimeout * 1000)), m_id,
                      timerTag(ConnectTimer, m_connectGen));
    if (rc == 0)
        connected();
}

void TcpSession::attemptFailed(bool timedOut)
{
    Endpoint& e = m_ends[Upstream];
    if (e.watch.fd >= 0) {
        m_worker.loop().remove(e.watch);
        ::close(e.watch.fd);
        e.watch.fd = -1;
    }
    ++m_connectGen; // any pending connect timer is now stale
    UpstreamEntry* up = m_route->upstream.get();
    if (up && m_node >= 0) {
        if (auto* ns = up->nodes[size_t(m_node)].stats.get())
            ns->failures.fetch_add(1, std::memory_order_relaxed);
    }
    m_route->stats->add(m_route->stats->connectFailures);
    if (timedOut)
        m_route->stats->add(m_route->stats->timeouts);

    const bool retriesLeft = up && m_attempts <= up->retries;
    const bool withinBudget =
        !up || up->retryTimeout <= 0 ||
        m_worker.monoMs() - m_firstAttemptMs < qint64(up->retryTimeout * 1000);
    if (retriesLeft && withinBudget) {
        startConnect();
        return;
    }
    close(CloseReason::ConnectFailed);
}

void TcpSession::connected()
{
    ++m_connectGen;
    m_connected = true;
    UpstreamEntry* up = m_route->upstream.get();
    if (auto* ns = up->nodes[size_t(m_node)].stats.get()) {
        ns->active.fetch_add(1, std::memory_order_relaxed);
        ns->total.fetch_add(1, std::memory_order_relaxed);
    }
    up->balancer->connectionStarted(m_node);
    m_record->connectMs.store(m_worker.monoMs() - m_attemptStartMs, std::memory_order_relaxed);
    m_record->state.store(ConnectionState::Established, std::memory_order_relaxed);
    m_record->lastActivityMs.set(quint64(m_worker.wallMs()));
    m_ends[Upstream].writable = true;
    m_dirs[0].lastMoveMs = m_dirs[1].lastMoveMs = m_worker.monoMs();
    armIdle();
    pump();
}

void TcpSession::onIo(IoWatch& watch, quint32 bits)
{
    if (m_closed)
        return;
    const Side side = Side(watch.tag);
    Endpoint& e = m_ends[side];
    if (bits & IoHup)
        e.hup = true;
    if (side == Upstream && !m_connected) {
        if (bits & IoRead)
            e.readable = true; // kept for after the connect completes
        if (!(bits & (IoWrite | IoError)))
            return;
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(watch.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err == ECONNRESET) {
            // The upstream accepted, then reset before this worker saw the connect complete:
            // that is a reset of an established connection, not a node that refuses.
            close(CloseReason::UpstreamReset);
            return;
        }
        if (err != 0) {
            attemptFailed(false);
            return;
        }
        // The same report may already have said the upstream sent something (a server
        // greeting, even a FIN); edge-triggered reports are not repeated, hence the flag above.
        connected();
        return;
    }
    if (bits & IoRead)
        e.readable = true;
    if (bits & IoWrite)
        e.writable = true;
    if (bits & IoError) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(watch.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err == ECONNRESET || err == EPIPE || err == ETIMEDOUT || err == EHOSTUNREACH) {
            close(resetReason(side));
            return;
        }
    }
    if (m_connected)
        pump();
}

void TcpSession::resume()
{
    m_requeued = false;
    if (!m_closed && m_connected)
        pump();
}

void TcpSession::onTimer(quint32 tag)
{
    if (m_closed)
        return;
    const quint32 kind = tag >> 24;
    const quint32 gen = tag & 0xffffffu;
    switch (kind) {
    case DelayTimer:
        startConnect();
        break;
    case ConnectTimer:
        if (!m_connected && gen == (m_connectGen & 0xffffffu))
            attemptFailed(true);
        break;
    case PipeTimer:
        m_pipeTimerArmed = false;
        releaseQuietPipes();
        break;
    case IdleTimer: {
        const qint64 expiry = idleExpiry();
        if (m_worker.monoMs() >= expiry) {
            m_route->stats->add(m_route->stats->timeouts);
            close(CloseReason::IdleTimeout);
        } else {
            m_worker.schedule(expiry, m_id, timerTag(IdleTimer, 0));
        }
        break;
    }
    default:
        break;
    }
}

qint64 TcpSession::idleExpiry() const
{
    // Idle means every direction still open has been quiet beyond its own timeout, so a long
    // one-way download is not cut because the other direction has nothing to say.
    qint64 expiry = 0;
    for (const Direction& d : m_dirs) {
        if (!d.shut)
            expiry = qMax(expiry, d.lastMoveMs + d.idleMs);
    }
    return expiry;
}

void TcpSession::armIdle()
{
    m_worker.schedule(idleExpiry(), m_id, timerTag(IdleTimer, 0));
}

void TcpSession::pump()
{
    const qint64 pass =
        qMax(kPassBudgetBuffers * m_worker.bufferSize(), 2 * qint64(m_worker.burstSize()));
    qint64 budget[2] = {pass, pass};
    for (;;) {
        int progress = 0;
        for (int i = 0; i < 2; ++i) {
            const int r = transfer(m_dirs[i], budget[i]);
            if (r < 0)
                return; // closed
            progress |= r;
        }
        if (!progress)
            break;
        if (budget[0] <= 0 || budget[1] <= 0) {
            // Fair share used: let other sessions run, continue on the next pass.
            if (!m_requeued) {
                m_requeued = true;
                m_worker.requeue(m_id);
            }
            break;
        }
    }
    updateBuffered();
    if (m_dirs[0].shut && m_dirs[1].shut) {
        close(m_firstEof == CloseReason::None ? CloseReason::ClientClosed : m_firstEof);
        return;
    }
    if (m_dirs[0].shut || m_dirs[1].shut)
        m_record->state.store(ConnectionState::HalfClosed, std::memory_order_relaxed);
    updateWants();
}

int TcpSession::transfer(Direction& d, qint64& budget)
{
    Endpoint& src = m_ends[d.from];
    Endpoint& dst = m_ends[d.to];
    const qint64 base = m_worker.bufferSize();
    int moved = 0;

    if (d.held > 0 && dst.writable && budget > 0) {
        ssize_t n;
        if (d.pipe.readFd >= 0)
            n = ::splice(d.pipe.readFd, nullptr, dst.watch.fd, nullptr, size_t(d.held),
                         SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        else
            n = ::send(dst.watch.fd, d.buffer + d.head, size_t(d.tail - d.head), MSG_NOSIGNAL);
        if (n > 0) {
            d.held -= n;
            budget -= n;
            if (d.pipe.readFd < 0) {
                d.head += int(n);
                if (d.head == d.tail)
                    d.head = d.tail = 0;
            }
            d.pipeMaybeFull = false;
            d.lastMoveMs = m_worker.monoMs();
            (d.to == Upstream ? m_record->bytesUp : m_record->bytesDown).add(quint64(n));
            m_record->lastActivityMs.set(quint64(m_worker.wallMs()));
            moved = 1;
        } else if (n < 0 && wouldBlock(errno)) {
            dst.writable = false;
            // The destination does not keep up: hold no more than the buffer size from now on.
            d.cap = base;
            d.fills = 0;
        } else {
            close(resetReason(d.to));
            return -1;
        }
    }

    if (!d.eof && d.held < capOf(d) && src.readable && !d.pipeMaybeFull && budget > 0) {
        if (d.pipe.readFd < 0 && !d.buffer) {
            // Storage is chosen afresh after each drain. A read is copied unless the last one
            // filled its buffer (bulk: splice). The inspector sees every byte of a direction
            // it still watches, so that direction always reads into a buffer, and returns to
            // splice once the inspector is done.
            const bool splice = d.bulk && m_worker.useSplice() && !inspecting(d);
            if (splice && m_worker.takePipe(d.pipe)) {
                d.cap = base;
                d.fills = 0;
            } else {
                d.buffer = m_worker.takeBuffer();
            }
        }
        ssize_t n;
        bool drained = false; // a short read: nothing more queued (unless a FIN is)
        if (d.pipe.readFd >= 0) {
            const qint64 room = d.cap - d.held;
            const bool fromEmpty = d.held == 0;
            n = ::splice(src.watch.fd, nullptr, d.pipe.writeFd, nullptr, size_t(room),
                         SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
            // A short splice may also mean the pipe ran out of slots, so it is no proof that
            // the socket is empty: only EAGAIN on an empty pipe is.
            if (n == room && fromEmpty) {
                if (++d.fills >= kFillsToGrow && d.cap < m_worker.burstSize())
                    growPipe(d);
            } else if (n > 0 && n < room) {
                d.fills = 0;
                d.bulk = false;
            }
        } else {
            if (d.tail == base && d.head > 0) {
                std::memmove(d.buffer, d.buffer + d.head, size_t(d.tail - d.head));
                d.tail -= d.head;
                d.head = 0;
            }
            const size_t want = size_t(base - d.tail);
            n = ::recv(src.watch.fd, d.buffer + d.tail, want, 0);
            if (n > 0) {
                if (m_mysql)
                    inspect(d, d.buffer + d.tail, size_t(n));
                if (d.tail == 0)
                    d.bulk = size_t(n) == want;
                d.tail += int(n);
                // TCP hands over everything queued, up to want: a short read emptied the
                // socket, and new bytes will be reported (edge-triggered epoll reports every
                // arrival; poll is level-triggered). A FIN already reported is not reported
                // again, so after one the source is read until it says 0.
                drained = size_t(n) < want && !src.hup;
            }
        }
        if (n > 0) {
            d.held += n;
            d.lastMoveMs = m_worker.monoMs();
            moved = 1;
        } else if (n == 0) {
            d.eof = true;
            if (m_firstEof == CloseReason::None)
                m_firstEof =
                    d.from == Client ? CloseReason::ClientClosed : CloseReason::UpstreamClosed;
            moved = 1;
        } else if (wouldBlock(errno)) {
            // With a pipe, EAGAIN may mean the pipe is out of slots rather than the socket
            // being empty; keep the readable flag and retry once the pipe has drained.
            if (d.pipe.readFd >= 0 && d.held > 0) {
                d.pipeMaybeFull = true;
            } else {
                src.readable = false;
                d.bulk = false;
                d.fills = 0;
            }
        } else {
            close(resetReason(d.from));
            return -1;
        }
        if (drained)
            src.readable = false;
    }

    if (d.held == 0) {
        if (d.pipe.readFd >= 0 && d.cap > base && !d.eof) {
            // A grown pipe is kept through short pauses of a bulk transfer (no resize per
            // pause); PipeTimer gives it back once the direction stays quiet.
            if (!m_pipeTimerArmed) {
                m_pipeTimerArmed = true;
                m_worker.schedule(m_worker.monoMs() + kQuietPipeMs, m_id, timerTag(PipeTimer, 0));
            }
        } else {
            releaseStorage(d);
        }
    }
    if (d.eof && d.held == 0 && !d.shut) {
        ::shutdown(dst.watch.fd, SHUT_WR);
        d.shut = true;
        moved = 1;
    }
    return moved;
}

void TcpSession::growPipe(Direction& d)
{
    d.fills = 0;
    const qint64 want = qMin<qint64>(d.cap * 4, m_worker.burstSize());
    if (want > d.pipe.size && !m_worker.growPipe(d.pipe, int(want))) {
        // Refused (e.g. the user's pipe page limit): stay at this size, and ask again only
        // after a few more full pipes rather than on every other read.
        d.fills = -4 * kFillsToGrow;
        return;
    }
    d.cap = qMin<qint64>(want, d.pipe.size);
}

void TcpSession::releaseQuietPipes()
{
    qint64 next = 0;
    for (Direction& d : m_dirs) {
        if (d.pipe.readFd < 0 || d.held > 0)
            continue;
        const qint64 quietUntil = d.lastMoveMs + kQuietPipeMs;
        if (m_worker.monoMs() >= quietUntil)
            releaseStorage(d);
        else
            next = next ? qMin(next, quietUntil) : quietUntil;
    }
    if (next && !m_pipeTimerArmed) {
        m_pipeTimerArmed = true;
        m_worker.schedule(next, m_id, timerTag(PipeTimer, 0));
    }
}

bool TcpSession::inspecting(const Direction& d) const
{
    return m_mysql &&
           m_mysql->wantsBytes(d.from == Client ? MySqlInspector::Direction::ClientToServer
                                                : MySqlInspector::Direction::ServerToClient);
}

void TcpSession::inspect(const Direction& d, const char* data, std::size_t len)
{
    if (!inspecting(d))
        return;
    m_mysql->feed(d.from == Client ? MySqlInspector::Direction::ClientToServer
                                   : MySqlInspector::Direction::ServerToClient,
                  data, len, m_worker.wallMs());
    const MySqlInfo& info = m_mysql->info();
    // Published while there is something to show, and once more if the inspector gave up
    // after a first guess (it clears what it learned then).
    if (info.detected || m_mysqlPublished) {
        m_record->setMySql(info);
        m_mysqlPublished = info.detected;
    }
    if (!m_mysql->active())
        m_mysql.reset();
}

void TcpSession::releaseStorage(Direction& d)
{
    if (d.pipe.readFd >= 0) {
        m_worker.givePipe(d.pipe, d.held == 0);
        d.pipe = RelayPipe{};
    }
    if (d.buffer) {
        m_worker.giveBuffer(d.buffer);
        d.buffer = nullptr;
        d.head = d.tail = 0;
    }
    d.pipeMaybeFull = false;
    d.cap = 0;
    d.fills = 0;
}

void TcpSession::updateBuffered()
{
    m_record->buffered.set(quint64(m_dirs[0].held + m_dirs[1].held));
}

void TcpSession::updateWants()
{
    quint32 want[2] = {0, 0};
    for (const Direction& d : m_dirs) {
        if (!d.eof && d.held < capOf(d) && !d.pipeMaybeFull && !m_ends[d.from].readable)
            want[d.from] |= IoRead;
        if (d.held > 0 && !m_ends[d.to].writable)
            want[d.to] |= IoWrite;
    }
    for (int s = 0; s < 2; ++s) {
        if (m_ends[s].watch.registered && m_ends[s].watch.wanted != want[s])
            m_worker.loop().want(m_ends[s].watch, want[s]);
    }
}

void TcpSession::close(CloseReason reason)
{
    if (m_closed)
        return;
    m_closed = true;
    if (m_connected && m_route->upstream) {
        if (auto* ns = m_route->upstream->nodes[size_t(m_node)].stats.get())
            ns->active.fetch_sub(1, std::memory_order_relaxed);
        m_route->upstream->balancer->connectionEnded(m_node);
    }
    m_admission.end(reason); // the plugins' log phase: limit-conn lets go
    // Recorded before the sockets close, so a peer that sees the close also finds the record.
    m_worker.hub().closed(m_record, reason);
    for (int s = 0; s < 2; ++s) {
        IoWatch& w = m_ends[s].watch;
        if (w.fd < 0)
            continue;
        m_worker.loop().remove(w);
        // The side that did not reset is reset too, so neither peer mistakes it for a clean end.
        const bool reset = (s == Client && reason == CloseReason::UpstreamReset) ||
                           (s == Upstream && reason == CloseReason::ClientReset);
        if (reset)
            closeWithReset(w.fd);
        else
            ::close(w.fd);
        w.fd = -1;
    }
    for (Direction& d : m_dirs) {
        if (d.pipe.readFd >= 0) {
            m_worker.givePipe(d.pipe, d.held == 0);
            d.pipe = RelayPipe{};
        }
        if (d.buffer) {
            m_worker.giveBuffer(d.buffer);
            d.buffer = nullptr;
        }
        d.held = 0;
    }
    m_worker.retire(this);
}

} // namespace sg
