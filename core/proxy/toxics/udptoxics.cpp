#include "proxy/toxics/udptoxics.h"

#include "proxy/toxics/toxicsync.h"

#include <QRandomGenerator>
#include <algorithm>
#include <deque>
#include <string>

namespace sg {

bool UdpToxics::Budget::take(std::size_t len)
{
    if (datagrams >= kHeldDatagrams || bytes + len > kHeldBytes)
        return false;
    ++datagrams;
    bytes += len;
    return true;
}

void UdpToxics::Budget::give(std::size_t len)
{
    --datagrams;
    bytes -= len;
}

// One toxic of a chain: its spec, whether it hits this session, and its stage while it does.
struct UdpToxics::Entry : ToxicEntry<DatagramStage>
{
};

struct UdpToxics::Chain
{
    explicit Chain(ToxicChainOwner o) : owner(std::move(o)) {}
    const ToxicChainOwner owner;
    std::vector<Entry> entries;
    Budget budget;
    int hits = 0; // toxics that hit the session now (syncToxicEntries)
};

// What a stage writes to: the next stage that hits, or the sink at the end of the chain.
class UdpToxics::Link
{
public:
    Link(UdpToxics& toxics, Chain& chain, std::size_t index, DatagramSink& sink, qint64 now)
        : m_toxics(toxics), m_chain(chain), m_index(index), m_sink(sink), m_now(now)
    {
    }
    void write(const char* data, std::size_t len)
    {
        m_toxics.forward(m_chain, m_index + 1, data, len, m_sink, m_now);
    }
    qint64 nowMs() const { return m_now; }
    Budget& budget() { return m_chain.budget; }
    double random01() { return m_toxics.random01(); }

private:
    UdpToxics& m_toxics;
    Chain& m_chain;
    const std::size_t m_index;
    DatagramSink& m_sink;
    const qint64 m_now;
};

class DatagramStage
{
public:
    explicit DatagramStage(const ToxicSpec& spec) : m_spec(spec) {}
    virtual ~DatagramStage() = default;
    Q_DISABLE_COPY_MOVE(DatagramStage)

    const ToxicSpec& spec() const { return m_spec; }
    void setSpec(const ToxicSpec& spec) { m_spec = spec; }

    virtual void data(UdpToxics::Link& link, const char* bytes, std::size_t len) = 0;
    virtual void timer(UdpToxics::Link& link) { Q_UNUSED(link); }
    // The toxic was removed: what it holds goes on at once.
    virtual void drain(UdpToxics::Link& link) { Q_UNUSED(link); }
    virtual qint64 wakeAt() const { return 0; } // 0: none wanted
    std::size_t held() const { return m_heldBytes; }

protected:
    // A datagram kept for later, within the direction's bound (false: dropped).
    bool hold(UdpToxics::Link& link, std::size_t len);
    // A datagram kept earlier goes on.
    void pass(UdpToxics::Link& link, const std::string& bytes);

private:
    ToxicSpec m_spec;
    std::size_t m_heldBytes = 0;
};

bool DatagramStage::hold(UdpToxics::Link& link, std::size_t len)
{
    if (!link.budget().take(len))
        return false;
    m_heldBytes += len;
    return true;
}

void DatagramStage::pass(UdpToxics::Link& link, const std::string& bytes)
{
    m_heldBytes -= bytes.size();
    link.budget().give(bytes.size());
    link.write(bytes.data(), bytes.size());
}

namespace {

// loss: each datagram dropped with probability loss_rate.
class DatagramLossStage final : public DatagramStage
{
public:
    using DatagramStage::DatagramStage;
    void data(UdpToxics::Link& link, const char* bytes, std::size_t len) override
    {
        const double rate =
            double(spec().attribute("loss_rate")) / double(ToxicSpec::kFractionScale);
        if (rate <= 0 || link.random01() >= rate)
            link.write(bytes, len); // else lost
    }
};

// latency: each datagram leaves latency +- jitter ms after it came; equal times keep arrival
// order.
class DatagramLatencyStage final : public DatagramStage
{
public:
    using DatagramStage::DatagramStage;
    void data(UdpToxics::Link& link, const char* bytes, std::size_t len) override
    {
        qint64 delay = spec().attribute("latency");
        if (const qint64 jitter = spec().attribute("jitter"); jitter > 0)
            delay += qint64(link.random01() * double(2 * jitter + 1)) - jitter;
        if (delay <= 0) {
            link.write(bytes, len);
            return;
        }
        if (!hold(link, len))
            return;
        m_held.push_back(Held{link.nowMs() + delay, m_seq++, std::string(bytes, len)});
        std::push_heap(m_held.begin(), m_held.end(), later);
    }
    void timer(UdpToxics::Link& link) override { release(link, link.nowMs()); }
    void drain(UdpToxics::Link& link) override { release(link, -1); }
    qint64 wakeAt() const override { return m_held.empty() ? 0 : m_held.front().at; }

private:
    struct Held
    {
        qint64 at;
        quint64 seq;
        std::string bytes;
    };
    static bool later(const Held& a, const Held& b)
    {
        return a.at != b.at ? a.at > b.at : a.seq > b.seq;
    }
    // Writes what is due at `now` (everything when now < 0), earliest first.
    void release(UdpToxics::Link& link, qint64 now)
    {
        while (!m_held.empty() && (now < 0 || m_held.front().at <= now)) {
            std::pop_heap(m_held.begin(), m_held.end(), later);
            const std::string bytes = std::move(m_held.back().bytes);
            m_held.pop_back();
            pass(link, bytes);
        }
    }
    std::vector<Held> m_held; // a min-heap on (at, seq)
    quint64 m_seq = 0;
};

// bandwidth: datagrams leave in order, each after the one before has had size / rate on the
// link. The queue holds at most one second of the rate.
class DatagramBandwidthStage final : public DatagramStage
{
public:
    using DatagramStage::DatagramStage;
    void data(UdpToxics::Link& link, const char* bytes, std::size_t len) override
    {
        const qint64 rate = spec().attribute("rate"); // KB/s = bytes per ms
        if (rate <= 0) {
            drain(link); // the cap was lifted: what waited goes first
            link.write(bytes, len);
            return;
        }
        if (!m_queue.empty() && held() + len > std::size_t(rate) * 1000)
            return; // the queue is full: dropped, as on a saturated link
        if (!hold(link, len))
            return;
        m_queue.emplace_back(bytes, len);
        timer(link);
    }
    void timer(UdpToxics::Link& link) override
    {
        const qint64 rate = spec().attribute("rate");
        const double now = double(link.nowMs());
        if (m_freeAtMs < now)
            m_freeAtMs = now; // idle time is not saved up for a burst
        while (!m_queue.empty() && (rate <= 0 || m_freeAtMs <= now)) {
            if (rate > 0)
                m_freeAtMs += double(m_queue.front().size()) / double(rate);
            passFront(link);
        }
    }
    void drain(UdpToxics::Link& link) override
    {
        while (!m_queue.empty())
            passFront(link);
    }
    qint64 wakeAt() const override
    {
        return m_queue.empty() ? 0 : qMax<qint64>(1, qint64(m_freeAtMs + 0.999));
    }

private:
    void passFront(UdpToxics::Link& link)
    {
        const std::string bytes = std::move(m_queue.front());
        m_queue.pop_front();
        pass(link, bytes);
    }
    std::deque<std::string> m_queue;
    double m_freeAtMs = 0;
};

std::unique_ptr<DatagramStage> makeStage(const ToxicSpec& spec)
{
    switch (spec.type) {
    case ToxicType::Loss:
        return std::make_unique<DatagramLossStage>(spec);
    case ToxicType::Latency:
        return std::make_unique<DatagramLatencyStage>(spec);
    case ToxicType::Bandwidth:
        return std::make_unique<DatagramBandwidthStage>(spec);
    default:
        return nullptr; // no meaning on UDP: the config check refuses it on a UDP route
    }
}

} // namespace

UdpToxics::UdpToxics(std::shared_ptr<RouteToxics> route, quint64 session,
                     const QHostAddress& client)
    : m_route(std::move(route)), m_random(QRandomGenerator::global()->generate64()),
      m_up(std::make_unique<Chain>(ToxicChainOwner{true, true, session, client})),
      m_down(std::make_unique<Chain>(ToxicChainOwner{false, true, session, client}))
{
}

UdpToxics::~UdpToxics() = default;

double UdpToxics::random01()
{
    // splitmix64: a few instructions per datagram, no lock shared with other sessions.
    quint64 z = (m_random += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return double(z >> 11) * 0x1.0p-53;
}

bool UdpToxics::draw(double toxicity)
{
    return toxicity >= 1 || random01() < toxicity;
}

void UdpToxics::sync(DatagramSink& sink, qint64 nowMs)
{
    if (m_route->version() == m_seen)
        return;
    const std::shared_ptr<const RouteToxics::List> list = m_route->current(&m_seen);
    syncChain(*m_up, *list, sink, nowMs);
    syncChain(*m_down, *list, sink, nowMs);
}

// Takes in the route's current list (toxicsync.h).
void UdpToxics::syncChain(Chain& chain, const RouteToxics::List& list, DatagramSink& sink,
                          qint64 nowMs)
{
    chain.hits = syncToxicEntries(
        chain.entries, list, chain.owner, [this](double toxicity) { return draw(toxicity); },
        [&](std::size_t i) {
            Link link(*this, chain, i, sink, nowMs);
            chain.entries[i].stage->drain(link);
        },
        [](const ToxicSpec& spec) { return makeStage(spec); });
}

void UdpToxics::forward(Chain& chain, std::size_t from, const char* data, std::size_t len,
                        DatagramSink& sink, qint64 nowMs)
{
    for (std::size_t i = from; i < chain.entries.size(); ++i) {
        Entry& e = chain.entries[i];
        if (e.hit && e.stage) {
            Link link(*this, chain, i, sink, nowMs);
            e.stage->data(link, data, len);
            return;
        }
    }
    sink.deliver(chain.owner.upstream, data, len);
}

void UdpToxics::datagram(bool upstream, const char* data, std::size_t len, DatagramSink& sink,
                         qint64 nowMs)
{
    sync(sink, nowMs);
    Chain& chain = upstream ? *m_up : *m_down;
    forward(chain, 0, data, len, sink, nowMs);
    publishHeld(chain);
}

void UdpToxics::timer(DatagramSink& sink, qint64 nowMs)
{
    sync(sink, nowMs);
    for (Chain* chain : {m_up.get(), m_down.get()}) {
        for (std::size_t i = 0; i < chain->entries.size(); ++i) {
            Entry& e = chain->entries[i];
            if (e.hit && e.stage) {
                Link link(*this, *chain, i, sink, nowMs);
                e.stage->timer(link);
            }
        }
        publishHeld(*chain);
    }
}

// For the toxics' counters: what each stage that hits holds now (a relaxed store each).
void UdpToxics::publishHeld(const Chain& chain)
{
    for (const Entry& e : chain.entries)
        if (e.hit)
            e.mark->publishHeld(e.stage->held());
}

bool UdpToxics::active(bool upstream) const
{
    const Chain& chain = upstream ? *m_up : *m_down;
    return chain.hits > 0 || chain.budget.datagrams > 0 || m_route->version() != m_seen;
}

qint64 UdpToxics::wakeAt() const
{
    qint64 wake = 0;
    for (const Chain* chain : {m_up.get(), m_down.get()}) {
        for (const Entry& e : chain->entries) {
            const qint64 at = e.stage ? e.stage->wakeAt() : 0;
            if (at && (!wake || at < wake))
                wake = at;
        }
    }
    return wake;
}

bool UdpToxics::needed() const
{
    return !m_up->entries.empty() || !m_down->entries.empty() || heldDatagrams() > 0;
}

std::size_t UdpToxics::heldDatagrams() const
{
    return m_up->budget.datagrams + m_down->budget.datagrams;
}

} // namespace sg
