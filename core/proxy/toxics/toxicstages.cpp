#include "proxy/toxics/toxicstages.h"

#include <QRandomGenerator>

namespace sg {

namespace {

// Bytes waiting with the time they may leave; kept in arrival order.
struct TimedBytes
{
    qint64 at;
    std::string bytes;
};

class Queue
{
public:
    void push(qint64 at, const char* data, std::size_t len)
    {
        if (!m_items.empty() && at < m_items.back().at)
            at = m_items.back().at; // never overtakes what came before
        m_items.push_back({at, std::string(data, len)});
        m_held += len;
    }
    // Writes what is due at `now` (everything when now < 0).
    void release(StageLink& link, qint64 now)
    {
        while (!m_items.empty() && (now < 0 || m_items.front().at <= now)) {
            const std::string bytes = std::move(m_items.front().bytes);
            m_items.pop_front();
            m_held -= bytes.size();
            link.write(bytes.data(), bytes.size());
        }
    }
    bool empty() const { return m_items.empty(); }
    qint64 nextAt() const { return m_items.empty() ? 0 : m_items.front().at; }
    std::size_t held() const { return m_held; }

private:
    std::deque<TimedBytes> m_items;
    std::size_t m_held = 0;
};

// A stage that holds bytes in a timed queue (latency, slicer): released when due, the end
// passed on once the queue is empty, everything released at once when the toxic goes.
class QueuedStage : public ToxicStage
{
public:
    using ToxicStage::ToxicStage;
    void end(StageLink& link) override
    {
        m_ending = true;
        timer(link);
    }
    void timer(StageLink& link) override
    {
        m_queue.release(link, link.nowMs());
        if (m_ending && m_queue.empty())
            link.finish();
    }
    void drain(StageLink& link) override
    {
        m_queue.release(link, -1);
        if (m_ending)
            link.finish();
    }
    qint64 wakeAt() const override { return m_queue.nextAt(); }
    std::size_t held() const override { return m_queue.held(); }

protected:
    Queue m_queue;

private:
    bool m_ending = false;
};

// latency: every chunk leaves latency +- jitter ms after it arrived, in order.
class LatencyStage final : public QueuedStage
{
public:
    using QueuedStage::QueuedStage;
    void data(StageLink& link, const char* bytes, std::size_t len) override
    {
        qint64 delay = spec().attribute("latency");
        if (const qint64 jitter = spec().attribute("jitter"); jitter > 0)
            delay += qint64(QRandomGenerator::global()->bounded(quint64(2 * jitter))) - jitter;
        if (delay <= 0 && m_queue.empty()) {
            link.write(bytes, len);
            return;
        }
        m_queue.push(link.nowMs() + qMax<qint64>(0, delay), bytes, len);
    }
};

// bandwidth: bytes leave at `rate` KB/s (bytes per ms), in pieces of 10 ms worth.
class BandwidthStage final : public ToxicStage
{
public:
    using ToxicStage::ToxicStage;
    void data(StageLink& link, const char* bytes, std::size_t len) override
    {
        if (m_pending.size() == m_head) {
            m_pending.clear();
            m_head = 0;
            // Idle time is not saved up for a burst.
            m_freeAtMs = qMax(m_freeAtMs, double(link.nowMs()));
        }
        m_pending.append(bytes, len);
        timer(link);
    }
    void end(StageLink& link) override
    {
        m_ending = true;
        timer(link);
    }
    void timer(StageLink& link) override
    {
        const qint64 rate = spec().attribute("rate");
        const qint64 now = link.nowMs();
        if (m_head == m_pending.size() || rate <= 0) {
            send(link, m_pending.size() - m_head);
            m_freeAtMs = qMax(m_freeAtMs, double(now));
        } else {
            // A wake-up that came late while bytes waited keeps up to one piece of credit,
            // so late timers do not lower the rate.
            if (m_freeAtMs < double(now - kCreditMs))
                m_freeAtMs = double(now - kCreditMs);
            const std::size_t piece = std::size_t(qMax<qint64>(1, rate * kCreditMs));
            while (m_head < m_pending.size() && m_freeAtMs <= double(now)) {
                const std::size_t n = qMin(piece, m_pending.size() - m_head);
                send(link, n);
                m_freeAtMs += double(n) / double(rate);
            }
        }
        if (m_ending && m_head == m_pending.size())
            link.finish();
    }
    void drain(StageLink& link) override
    {
        send(link, m_pending.size() - m_head);
        if (m_ending)
            link.finish();
    }
    qint64 wakeAt() const override
    {
        return m_head < m_pending.size() ? qMax<qint64>(1, qint64(m_freeAtMs + 0.999)) : 0;
    }
    std::size_t held() const override { return m_pending.size() - m_head; }

private:
    static constexpr qint64 kCreditMs = 10; // a piece is this long at the rate
    void send(StageLink& link, std::size_t n)
    {
        if (n == 0)
            return;
        const std::size_t at = m_head;
        m_head += n;
        link.write(m_pending.data() + at, n);
    }
    std::string m_pending;
    std::size_t m_head = 0;
    double m_freeAtMs = 0;
    bool m_ending = false;
};

// slow_close: bytes pass; the end waits `delay` ms.
class SlowCloseStage final : public ToxicStage
{
public:
    using ToxicStage::ToxicStage;
    void data(StageLink& link, const char* bytes, std::size_t len) override
    {
        link.write(bytes, len);
    }
    void end(StageLink& link) override
    {
        m_closeAt = link.nowMs() + spec().attribute("delay");
        timer(link);
    }
    void timer(StageLink& link) override
    {
        if (m_closeAt && link.nowMs() >= m_closeAt) {
            m_closeAt = 0;
            link.finish();
        }
    }
    void drain(StageLink& link) override
    {
        if (m_closeAt)
            link.finish();
    }
    qint64 wakeAt() const override { return m_closeAt; }

private:
    qint64 m_closeAt = 0;
};

// timeout: bytes dropped; the direction closed `timeout` ms after the toxic started (never
// when 0). Removing it closes too, as Toxiproxy's does.
class TimeoutStage final : public ToxicStage
{
public:
    TimeoutStage(const ToxicSpec& spec, qint64 now) : ToxicStage(spec), m_startMs(now) {}
    void data(StageLink&, const char*, std::size_t) override {}
    void timer(StageLink& link) override
    {
        if (!m_closed && closeAt() && link.nowMs() >= closeAt()) {
            m_closed = true;
            link.finish();
        }
    }
    void drain(StageLink& link) override
    {
        if (!m_closed)
            link.finish();
    }
    qint64 wakeAt() const override { return m_closed ? 0 : closeAt(); }

private:
    qint64 closeAt() const
    {
        const qint64 t = spec().attribute("timeout");
        return t > 0 ? m_startMs + t : 0;
    }
    const qint64 m_startMs;
    bool m_closed = false;
};

// reset_peer: bytes dropped; a reset `timeout` ms after the first byte (or the end).
class ResetPeerStage final : public ToxicStage
{
public:
    using ToxicStage::ToxicStage;
    void data(StageLink& link, const char*, std::size_t) override { arm(link); }
    void end(StageLink& link) override { arm(link); }
    void timer(StageLink& link) override
    {
        if (m_resetAt && link.nowMs() >= m_resetAt)
            link.reset();
    }
    qint64 wakeAt() const override { return m_resetAt; }

private:
    void arm(StageLink& link)
    {
        if (!m_resetAt)
            m_resetAt = qMax<qint64>(1, link.nowMs() + spec().attribute("timeout"));
        timer(link);
    }
    qint64 m_resetAt = 0;
};

// slicer: each chunk cut into pieces of average_size +- size_variation bytes, `delay` us
// apart, rounded up to the relay's millisecond clock. With no delay the pieces are written one
// after the other within one pass, and the relay sends them together.
class SlicerStage final : public QueuedStage
{
public:
    using QueuedStage::QueuedStage;
    void data(StageLink& link, const char* bytes, std::size_t len) override
    {
        const qint64 average = qMax<qint64>(1, spec().attribute("average_size"));
        const qint64 variation = qMin(spec().attribute("size_variation"), average - 1);
        const qint64 gapMs = (spec().attribute("delay") + 999) / 1000;
        qint64 at = qMax(link.nowMs(), m_lastAt);
        std::size_t offset = 0;
        while (offset < len) {
            qint64 size = average;
            if (variation > 0)
                size += qint64(QRandomGenerator::global()->bounded(quint64(2 * variation + 1))) -
                        variation;
            const std::size_t n = qMin(std::size_t(qMax<qint64>(1, size)), len - offset);
            if (gapMs == 0 && m_queue.empty())
                link.write(bytes + offset, n);
            else
                m_queue.push(at, bytes + offset, n);
            offset += n;
            at += gapMs;
        }
        m_lastAt = at;
        timer(link);
    }

private:
    qint64 m_lastAt = 0;
};

// limit_data: `bytes` bytes pass, then the direction is closed.
class LimitDataStage final : public ToxicStage
{
public:
    using ToxicStage::ToxicStage;
    void data(StageLink& link, const char* bytes, std::size_t len) override
    {
        if (m_closed)
            return;
        const qint64 left = qMax<qint64>(0, spec().attribute("bytes") - m_sent);
        const std::size_t n = std::size_t(qMin<qint64>(left, qint64(len)));
        if (n > 0)
            link.write(bytes, n);
        m_sent += qint64(n);
        if (m_sent >= spec().attribute("bytes")) {
            m_closed = true;
            link.finish();
        }
    }
    void end(StageLink& link) override
    {
        if (!m_closed)
            link.finish();
        m_closed = true;
    }

private:
    qint64 m_sent = 0;
    bool m_closed = false;
};

} // namespace

std::unique_ptr<ToxicStage> makeToxicStage(const ToxicSpec& spec, qint64 nowMs)
{
    switch (spec.type) {
    case ToxicType::Latency:
        return std::make_unique<LatencyStage>(spec);
    case ToxicType::Bandwidth:
        return std::make_unique<BandwidthStage>(spec);
    case ToxicType::SlowClose:
        return std::make_unique<SlowCloseStage>(spec);
    case ToxicType::Timeout:
        return std::make_unique<TimeoutStage>(spec, nowMs);
    case ToxicType::ResetPeer:
        return std::make_unique<ResetPeerStage>(spec);
    case ToxicType::Slicer:
        return std::make_unique<SlicerStage>(spec);
    case ToxicType::LimitData:
        return std::make_unique<LimitDataStage>(spec);
    case ToxicType::Loss:
        return nullptr; // datagrams only (udptoxics.h); the TCP chain skips it
    case ToxicType::MySqlLatency:
    case ToxicType::MySqlError:
    case ToxicType::MySqlClose:
        return nullptr; // commands, not bytes (mysqlfaults.h); the TCP chain skips them
    }
    return nullptr;
}

} // namespace sg
