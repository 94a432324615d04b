#include "proxy/toxics/toxicfilter.h"

#include "proxy/toxics/toxicboard.h"
#include "proxy/toxics/toxicstages.h"

#include <QRandomGenerator>
#include <vector>

namespace sg {

namespace {

class ToxicChain final : public RelayFilter
{
public:
    ToxicChain(const RouteToxics& route, bool upstream) : m_route(route), m_upstream(upstream) {}

    Mode mode() const override
    {
        if (m_route.version() != m_seen)
            m_stale = true;
        return m_stale || m_hits > 0 || held() > 0 ? Mode::Transform : Mode::Pass;
    }
    void onStart(FilterOutput& out) override
    {
        sync(out);
        after(out);
    }
    void onData(const char* data, std::size_t len, FilterOutput& out) override
    {
        sync(out);
        forward(0, data, len, out);
        after(out);
    }
    void onEnd(FilterOutput& out) override
    {
        sync(out);
        endFrom(0, out);
        after(out);
    }
    void onTimer(FilterOutput& out) override
    {
        sync(out);
        for (std::size_t i = 0; i < m_entries.size(); ++i) {
            if (m_entries[i].hit) {
                Link link(*this, i, out);
                m_entries[i].stage->timer(link);
            }
        }
        after(out);
    }
    std::size_t held() const override
    {
        std::size_t n = 0;
        for (const Entry& e : m_entries)
            n += e.stage ? e.stage->held() : 0;
        return n;
    }

private:
    struct Entry
    {
        std::unique_ptr<ToxicStage> stage; // null while the toxic misses this connection
        ToxicSpec spec;
        bool hit = false;
        bool ended = false; // the stage ended its output
    };

    // What stage `index` writes to: the next stage that hits, or the relay.
    class Link final : public StageLink
    {
    public:
        Link(ToxicChain& chain, std::size_t index, FilterOutput& out)
            : m_chain(chain), m_index(index), m_out(out)
        {
        }
        void write(const char* data, std::size_t len) override
        {
            if (!m_chain.m_entries[m_index].ended)
                m_chain.forward(m_index + 1, data, len, m_out);
        }
        void finish() override
        {
            if (m_chain.m_entries[m_index].ended)
                return;
            m_chain.m_entries[m_index].ended = true;
            m_chain.endFrom(m_index + 1, m_out);
        }
        void reset() override { m_out.reset(); }
        qint64 nowMs() const override { return m_out.nowMs(); }

    private:
        ToxicChain& m_chain;
        const std::size_t m_index;
        FilterOutput& m_out;
    };

    void forward(std::size_t from, const char* data, std::size_t len, FilterOutput& out)
    {
        if (m_finished)
            return;
        for (std::size_t i = from; i < m_entries.size(); ++i) {
            if (m_entries[i].hit) {
                Link link(*this, i, out);
                m_entries[i].stage->data(link, data, len);
                return;
            }
        }
        out.write(data, len);
    }
    void endFrom(std::size_t from, FilterOutput& out)
    {
        if (m_finished)
            return;
        for (std::size_t i = from; i < m_entries.size(); ++i) {
            if (m_entries[i].hit) {
                Link link(*this, i, out);
                m_entries[i].stage->end(link);
                return;
            }
        }
        m_finished = true;
        out.finish();
    }

    static bool draw(double toxicity)
    {
        return toxicity >= 1 || QRandomGenerator::global()->generateDouble() < toxicity;
    }

    // Takes in the route's current list: removed toxics hand on what they hold, changed ones
    // keep their state, new ones start now.
    void sync(FilterOutput& out)
    {
        if (!m_stale)
            return;
        m_stale = false;
        quint64 version = 0;
        const std::shared_ptr<const RouteToxics::List> list = m_route.current(&version);
        m_seen = version;

        auto wanted = [&](const QString& name) -> const ToxicSpec* {
            for (const ToxicSpec& t : *list)
                if (t.upstream == m_upstream && t.name == name)
                    return &t;
            return nullptr;
        };
        // Removed (or retyped) toxics first, in chain order, so their bytes go through the
        // stages after them; a changed toxicity is drawn again.
        for (std::size_t i = 0; i < m_entries.size(); ++i) {
            Entry& e = m_entries[i];
            const ToxicSpec* spec = wanted(e.spec.name);
            const bool kept = spec && spec->type == e.spec.type;
            const bool hit = !kept                               ? false
                             : spec->toxicity != e.spec.toxicity ? draw(spec->toxicity)
                                                                 : e.hit;
            if (e.hit && !hit) {
                Link link(*this, i, out);
                e.stage->drain(link);
                e.stage.reset();
            }
            e.hit = hit;
            if (kept)
                e.spec.toxicity = spec->toxicity;
        }
        std::vector<Entry> next;
        for (const ToxicSpec& spec : *list) {
            if (spec.upstream != m_upstream)
                continue;
            Entry entry;
            bool known = false;
            for (Entry& old : m_entries) {
                if (old.spec.name == spec.name && old.spec.type == spec.type) {
                    entry = std::move(old);
                    known = true;
                    break;
                }
            }
            if (!known)
                entry.hit = draw(spec.toxicity);
            entry.spec = spec;
            if (entry.hit && !entry.stage)
                entry.stage = makeToxicStage(spec, out.nowMs());
            else if (entry.stage)
                entry.stage->setSpec(spec);
            next.push_back(std::move(entry));
        }
        m_entries = std::move(next);
        m_hits = 0;
        for (const Entry& e : m_entries)
            m_hits += e.hit ? 1 : 0;
    }

    void after(FilterOutput& out)
    {
        qint64 wake = 0;
        for (const Entry& e : m_entries) {
            if (!e.hit)
                continue;
            const qint64 at = e.stage->wakeAt();
            if (at && (!wake || at < wake))
                wake = at;
        }
        if (wake)
            out.wakeAt(wake);
    }

    const RouteToxics& m_route;
    const bool m_upstream;
    mutable quint64 m_seen = quint64(-1); // never a published version: the first call syncs
    mutable bool m_stale = true;
    std::vector<Entry> m_entries;
    int m_hits = 0;
    bool m_finished = false;
};

// One allocation per session: the route's list and both directions' filters.
struct ToxicSession
{
    explicit ToxicSession(std::shared_ptr<RouteToxics> r) : route(std::move(r)) {}
    std::shared_ptr<RouteToxics> route;
    ToxicChain toServer{*route, true};
    ToxicChain toClient{*route, false};
};

} // namespace

void addToxicFilters(std::shared_ptr<RouteToxics> toxics, SessionFilters& out)
{
    auto session = std::make_shared<ToxicSession>(std::move(toxics));
    out.toUpstream.push_back(std::shared_ptr<RelayFilter>(session, &session->toServer));
    RelayFilter* toClient = &session->toClient;
    out.toClient.push_back(std::shared_ptr<RelayFilter>(std::move(session), toClient));
}

} // namespace sg
