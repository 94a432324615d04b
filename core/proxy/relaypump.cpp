#include "proxy/relaypump.h"

#include "stats/statshub.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>

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

CloseReason resetReason(RelayPump::Side s)
{
    return s == RelayPump::Client ? CloseReason::ClientReset : CloseReason::UpstreamReset;
}

quint32 tag(quint32 kind)
{
    return kind << 24;
}

} // namespace

// The output handed to the filter at chain position `index` of direction `d`.
class RelayPump::LinkOutput final : public FilterOutput
{
public:
    LinkOutput(RelayPump& pump, Direction& d, std::size_t index)
        : m_pump(pump), m_dir(d), m_index(index)
    {
    }
    void write(const char* data, std::size_t len) override
    {
        if (len > 0)
            m_pump.deliver(m_dir, m_index + 1, data, len);
    }
    void finish() override { m_pump.endChain(m_dir, m_index + 1); }
    void reset() override { m_dir.chain.resetWanted = true; }
    void wakeAt(qint64 monoMs) override
    {
        m_dir.chain.filters[m_index].wakeAtMs = qMax<qint64>(1, monoMs);
    }
    qint64 nowMs() const override { return m_pump.m_worker.monoMs(); }
    void wakeFilter(const RelayFilter* filter, qint64 monoMs) override
    {
        for (Direction& d : m_pump.m_dirs)
            for (FilterLink& l : d.chain.filters)
                if (l.filter.get() == filter)
                    l.wakeAtMs = qMax<qint64>(1, monoMs);
    }

private:
    RelayPump& m_pump;
    Direction& m_dir;
    const std::size_t m_index;
};

RelayPump::RelayPump(Worker& worker, quint64 sessionId, ConnectionRecord& record, IoWatch& client,
                     IoWatch& upstream, qint64 upIdleMs, qint64 downIdleMs)
    : m_worker(worker), m_sessionId(sessionId),
      m_record(record), m_ends{Endpoint{&client}, Endpoint{&upstream}}
{
    m_dirs[0].from = Client;
    m_dirs[0].to = Upstream;
    m_dirs[0].idleMs = qMax<qint64>(1, upIdleMs);
    m_dirs[1].from = Upstream;
    m_dirs[1].to = Client;
    m_dirs[1].idleMs = qMax<qint64>(1, downIdleMs);
}

RelayPump::~RelayPump()
{
    release();
}

void RelayPump::addReceived(Side from, quint64 bytes)
{
    countReceived(m_dirs[from], bytes);
}

// The one test a read pays for the first-byte timers; the clock is the loop's.
void RelayPump::countReceived(Direction& d, quint64 bytes)
{
    if (d.received == 0 && bytes > 0) [[unlikely]]
        m_record.noteFirstByte(d.from == Client, m_worker.wallMs());
    d.received += bytes;
}

ClosedBy RelayPump::firstClosed() const
{
    if (m_filterEndedFirst)
        return ClosedBy::Proxy;
    switch (m_firstEof) {
    case CloseReason::ClientClosed:
        return ClosedBy::Client;
    case CloseReason::UpstreamClosed:
        return ClosedBy::Upstream;
    default:
        return ClosedBy::None;
    }
}

void RelayPump::addFilters(Side from, std::vector<std::shared_ptr<RelayFilter>> filters)
{
    std::vector<FilterLink>& links = m_dirs[from].chain.filters;
    links.reserve(links.size() + filters.size());
    for (auto& f : filters)
        links.push_back(FilterLink{std::move(f), 0});
}

void RelayPump::report(Side side, quint32 bits)
{
    Endpoint& e = m_ends[side];
    if (bits & IoHup)
        e.hup = true;
    if (bits & IoRead)
        e.readable = true;
    if (bits & IoWrite)
        e.writable = true;
}

void RelayPump::start()
{
    m_ends[Upstream].writable = true;
    for (Direction& d : m_dirs) {
        d.lastMoveMs = m_worker.monoMs();
        // Last filter first: what a filter writes here passes the filters after it, which are
        // started by then (and wrote their own first bytes ahead of it).
        for (std::size_t i = d.chain.filters.size(); i-- > 0;) {
            if (d.chain.filters[i].filter->mode() == RelayFilter::Mode::Transform) {
                LinkOutput out(*this, d, i);
                d.chain.filters[i].filter->onStart(out);
            }
        }
    }
}

CloseReason RelayPump::run()
{
    const qint64 pass =
        qMax(kPassBudgetBuffers * m_worker.bufferSize(), 2 * qint64(m_worker.burstSize()));
    qint64 budget[2] = {pass, pass};
    for (;;) {
        int progress = 0;
        for (int i = 0; i < 2; ++i) {
            const int r = transfer(m_dirs[i], budget[i]);
            if (r < 0) {
                updateBuffered();
                return m_dirs[i].chain.resetWanted
                           ? CloseReason::InjectedReset
                           : resetReason(r == -1 ? m_dirs[i].from : m_dirs[i].to);
            }
            progress |= r;
        }
        if (!progress)
            break;
        if (budget[0] <= 0 || budget[1] <= 0) {
            // Fair share used: let other sessions run, continue on the next pass.
            if (!m_requeued) {
                m_requeued = true;
                m_worker.requeue(m_sessionId);
            }
            break;
        }
    }
    dropDoneFilters();
    updateBuffered();
    if (m_dirs[0].shut && m_dirs[1].shut)
        return m_firstEof == CloseReason::None ? CloseReason::ClientClosed : m_firstEof;
    scheduleFilterTimer();
    updateWants();
    return CloseReason::None;
}

// 1: something moved, 0: nothing could, -1: the source failed, -2: the destination failed
// (or a filter asked for a reset: resetWanted).
int RelayPump::transfer(Direction& d, qint64& budget)
{
    if (d.chain.resetWanted) [[unlikely]]
        return -2;
    int moved = send(d, budget);
    if (moved < 0)
        return moved;
    const int r = receive(d, budget);
    if (r < 0)
        return r;
    moved |= r;

    if (d.held == 0) {
        // A grown pipe is kept through short pauses of a bulk transfer (no resize per pause);
        // the pipe timer gives it back once the direction stays quiet. Filters that start to
        // want bytes get them after the pipe is given back.
        const bool keepPipe = d.pipe.readFd >= 0 && d.cap > m_worker.bufferSize() && !d.eof &&
                              chainMode(d) == RelayFilter::Mode::Pass;
        if (keepPipe) {
            if (!m_pipeTimerArmed) {
                m_pipeTimerArmed = true;
                m_worker.schedule(m_worker.monoMs() + kQuietPipeMs, m_sessionId, tag(kPipeTimer));
            }
        } else {
            releaseStorage(d);
        }
    }
    if (d.ending && d.held == 0 && queued(d) == 0 && !d.shut) {
        // The last direction to end closes the session at the end of this pass: close() then
        // sends the FIN (the other direction read its source's FIN, so nothing is left unread
        // there to turn it into a reset).
        if (!m_dirs[&d == &m_dirs[0] ? 1 : 0].shut)
            ::shutdown(fd(d.to), SHUT_WR);
        d.shut = true;
        moved = 1;
    }
    return moved;
}

int RelayPump::send(Direction& d, qint64& budget)
{
    Endpoint& dst = m_ends[d.to];
    if (!dst.writable || budget <= 0)
        return 0;
    const bool fromQueue = d.held == 0;
    if (fromQueue && queued(d) == 0)
        return 0;
    ssize_t n;
    if (fromQueue)
        n = ::send(fd(d.to), d.chain.queue->bytes.data() + d.chain.queue->head,
                   d.chain.queue->bytes.size() - d.chain.queue->head, MSG_NOSIGNAL);
    else if (d.pipe.readFd >= 0)
        n = ::splice(d.pipe.readFd, nullptr, fd(d.to), nullptr, size_t(d.held),
                     SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    else
        n = ::send(fd(d.to), d.buffer + d.head, size_t(d.tail - d.head), MSG_NOSIGNAL);
    if (n > 0) {
        budget -= n;
        if (fromQueue) {
            Queue& q = *d.chain.queue;
            q.head += size_t(n);
            if (q.head == q.bytes.size()) {
                q.bytes.clear();
                q.head = 0;
            }
        } else {
            d.held -= n;
            if (d.pipe.readFd < 0) {
                d.head += int(n);
                if (d.head == d.tail)
                    d.head = d.tail = 0;
            }
        }
        d.pipeMaybeFull = false;
        d.lastMoveMs = m_worker.monoMs();
        (d.to == Upstream ? m_record.bytesUp : m_record.bytesDown).add(quint64(n));
        m_record.lastActivityMs.set(quint64(m_worker.wallMs()));
        return 1;
    }
    if (n < 0 && wouldBlock(errno)) {
        dst.writable = false;
        // The destination does not keep up: hold no more than the buffer size from now on.
        d.cap = m_worker.bufferSize();
        d.fills = 0;
        return 0;
    }
    return -2;
}

RelayFilter::Mode RelayPump::chainMode(const Direction& d) const
{
    RelayFilter::Mode mode = RelayFilter::Mode::Pass;
    for (const FilterLink& l : d.chain.filters) {
        const RelayFilter::Mode m = l.filter->mode();
        if (m == RelayFilter::Mode::Transform)
            return m;
        if (m == RelayFilter::Mode::Observe)
            mode = m;
    }
    return mode;
}

std::size_t RelayPump::filtersHeld(const Direction& d) const
{
    std::size_t held = 0;
    for (const FilterLink& l : d.chain.filters)
        held += l.filter->held();
    return held;
}

bool RelayPump::canRead(const Direction& d, RelayFilter::Mode mode) const
{
    if (d.eof || d.ending || m_pausedUntil)
        return false;
    if (mode == RelayFilter::Mode::Transform) {
        // The chain starts with the next read once the pipe or buffer has been delivered.
        return d.held == 0 && d.pipe.readFd < 0 &&
               queued(d) + qint64(filtersHeld(d)) < m_worker.bufferSize();
    }
    if (queued(d) > 0 || d.held >= capOf(d) || d.pipeMaybeFull)
        return false;
    // Filters that observe must see every byte: bytes already in a pipe go first.
    return mode == RelayFilter::Mode::Pass || d.pipe.readFd < 0;
}

int RelayPump::receive(Direction& d, qint64& budget)
{
    Endpoint& src = m_ends[d.from];
    if (!src.readable || budget <= 0)
        return 0;
    const RelayFilter::Mode mode = chainMode(d);
    if (!canRead(d, mode))
        return 0;
    if (mode == RelayFilter::Mode::Transform)
        return receiveThroughChain(d);

    const qint64 base = m_worker.bufferSize();
    if (d.pipe.readFd < 0 && !d.buffer) {
        // Storage is chosen afresh after each drain. A read is copied unless the last one
        // filled its buffer (bulk: splice). Filters that observe see every byte of the
        // direction, so it reads into a buffer while they do.
        const bool splice = d.bulk && m_worker.useSplice() && mode == RelayFilter::Mode::Pass;
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
        n = ::splice(fd(d.from), nullptr, d.pipe.writeFd, nullptr, size_t(room),
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
        n = ::recv(fd(d.from), d.buffer + d.tail, want, 0);
        if (n > 0) {
            if (mode == RelayFilter::Mode::Observe) {
                for (FilterLink& l : d.chain.filters) {
                    if (l.filter->mode() == RelayFilter::Mode::Observe)
                        l.filter->observe(d.buffer + d.tail, size_t(n));
                }
            }
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
        countReceived(d, quint64(n));
        d.lastMoveMs = m_worker.monoMs();
        if (drained)
            src.readable = false;
        return 1;
    }
    if (n == 0) {
        d.eof = d.ending = true;
        if (m_firstEof == CloseReason::None)
            m_firstEof = d.from == Client ? CloseReason::ClientClosed : CloseReason::UpstreamClosed;
        return 1;
    }
    if (wouldBlock(errno)) {
        // With a pipe, EAGAIN may mean the pipe is out of slots rather than the socket
        // being empty; keep the readable flag and retry once the pipe has drained.
        if (d.pipe.readFd >= 0 && d.held > 0) {
            d.pipeMaybeFull = true;
        } else {
            src.readable = false;
            d.bulk = false;
            d.fills = 0;
        }
        return 0;
    }
    return -1;
}

int RelayPump::receiveThroughChain(Direction& d)
{
    Endpoint& src = m_ends[d.from];
    if (!d.buffer)
        d.buffer = m_worker.takeBuffer();
    const qint64 room = m_worker.bufferSize() - queued(d) - qint64(filtersHeld(d));
    const ssize_t n = ::recv(fd(d.from), d.buffer, size_t(room), 0);
    if (n > 0) {
        countReceived(d, quint64(n));
        d.lastMoveMs = m_worker.monoMs();
        if (size_t(n) < size_t(room) && !src.hup)
            src.readable = false;
        deliver(d, 0, d.buffer, size_t(n));
        return d.chain.resetWanted ? -2 : 1;
    }
    if (n == 0) {
        d.eof = true;
        if (m_firstEof == CloseReason::None)
            m_firstEof = d.from == Client ? CloseReason::ClientClosed : CloseReason::UpstreamClosed;
        endChain(d, 0);
        return d.chain.resetWanted ? -2 : 1;
    }
    if (wouldBlock(errno)) {
        src.readable = false;
        return 0;
    }
    return -1;
}

void RelayPump::deliver(Direction& d, std::size_t from, const char* data, std::size_t len)
{
    for (std::size_t i = from; i < d.chain.filters.size(); ++i) {
        RelayFilter& f = *d.chain.filters[i].filter;
        switch (f.mode()) {
        case RelayFilter::Mode::Pass:
            break;
        case RelayFilter::Mode::Observe:
            f.observe(data, len);
            break;
        case RelayFilter::Mode::Transform: {
            LinkOutput out(*this, d, i);
            f.onData(data, len, out);
            return;
        }
        }
    }
    if (d.ending)
        return;
    if (!d.chain.queue)
        d.chain.queue = std::make_unique<Queue>();
    d.chain.queue->bytes.append(data, len);
}

void RelayPump::endChain(Direction& d, std::size_t from)
{
    for (std::size_t i = from; i < d.chain.filters.size(); ++i) {
        RelayFilter& f = *d.chain.filters[i].filter;
        if (f.mode() == RelayFilter::Mode::Transform) {
            LinkOutput out(*this, d, i);
            f.onEnd(out);
            return;
        }
    }
    // The end of the chain: nothing more is read or written, a FIN follows the queue out.
    // Ended by a filter (a fault) before either peer's FIN: the proxy closed first.
    if (m_firstEof == CloseReason::None)
        m_filterEndedFirst = true;
    d.eof = d.ending = true;
}

CloseReason RelayPump::onTimer(quint32 kind)
{
    if (kind == kPipeTimer) {
        m_pipeTimerArmed = false;
        releaseQuietPipes();
        return CloseReason::None;
    }
    if (kind != kFilterTimer)
        return CloseReason::None;
    const qint64 now = m_worker.monoMs();
    if (m_filterTimerAt && now >= m_filterTimerAt)
        m_filterTimerAt = 0;
    for (Direction& d : m_dirs) {
        for (std::size_t i = 0; i < d.chain.filters.size(); ++i) {
            FilterLink& l = d.chain.filters[i];
            if (l.wakeAtMs == 0 || l.wakeAtMs > now)
                continue;
            l.wakeAtMs = 0;
            LinkOutput out(*this, d, i);
            l.filter->onTimer(out);
            if (d.chain.resetWanted)
                return CloseReason::InjectedReset;
        }
    }
    return run();
}

CloseReason RelayPump::wake()
{
    for (Direction& d : m_dirs) {
        for (std::size_t i = 0; i < d.chain.filters.size(); ++i) {
            FilterLink& l = d.chain.filters[i];
            if (l.filter->mode() != RelayFilter::Mode::Transform)
                continue;
            LinkOutput out(*this, d, i);
            l.filter->onTimer(out);
            if (d.chain.resetWanted)
                return CloseReason::InjectedReset;
        }
    }
    return run();
}

void RelayPump::scheduleFilterTimer()
{
    qint64 next = 0;
    for (const Direction& d : m_dirs) {
        for (const FilterLink& l : d.chain.filters) {
            if (l.wakeAtMs && (!next || l.wakeAtMs < next))
                next = l.wakeAtMs;
        }
    }
    if (next && (!m_filterTimerAt || next < m_filterTimerAt)) {
        m_filterTimerAt = next;
        m_worker.schedule(next, m_sessionId, tag(kFilterTimer));
    }
}

void RelayPump::setPausedUntil(qint64 untilMonoMs)
{
    if (m_pausedUntil && !untilMonoMs) {
        for (Direction& d : m_dirs)
            d.lastMoveMs = qMax(d.lastMoveMs, m_worker.monoMs());
    }
    m_pausedUntil = untilMonoMs;
}

qint64 RelayPump::idleExpiry() const
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

void RelayPump::growPipe(Direction& d)
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

void RelayPump::releaseQuietPipes()
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
        m_worker.schedule(next, m_sessionId, tag(kPipeTimer));
    }
}

void RelayPump::releaseStorage(Direction& d)
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

void RelayPump::release()
{
    for (Direction& d : m_dirs) {
        releaseStorage(d);
        d.held = 0;
        d.chain.queue.reset();
    }
}

void RelayPump::dropDoneFilters()
{
    for (Direction& d : m_dirs) {
        std::vector<FilterLink>& links = d.chain.filters;
        if (links.empty())
            continue;
        std::erase_if(links, [](const FilterLink& l) { return l.filter->done(); });
        if (links.empty())
            std::vector<FilterLink>().swap(links); // its storage too
    }
}

void RelayPump::updateBuffered()
{
    quint64 total = 0;
    for (const Direction& d : m_dirs) {
        total += quint64(d.held + queued(d));
        total += filtersHeld(d);
    }
    m_record.buffered.set(total);
}

void RelayPump::updateWants()
{
    quint32 want[2] = {0, 0};
    for (const Direction& d : m_dirs) {
        const RelayFilter::Mode mode = chainMode(d);
        if (canRead(d, mode) && !m_ends[d.from].readable)
            want[d.from] |= IoRead;
        if ((d.held > 0 || queued(d) > 0) && !m_ends[d.to].writable)
            want[d.to] |= IoWrite;
    }
    for (int s = 0; s < 2; ++s) {
        IoWatch& w = *m_ends[s].watch;
        if (w.registered && w.wanted != want[s])
            m_worker.loop().want(w, want[s]);
    }
}

} // namespace sg
