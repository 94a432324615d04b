#include "proxy/toxics/toxicfilter.h"

#include "proxy/toxics/toxicstages.h"
#include "proxy/toxics/toxicsync.h"
#include "stats/statshub.h"

#include <QRandomGenerator>
#include <vector>

namespace sg {

namespace {

class ToxicChain final : public RelayFilter
{
public:
    ToxicChain(const RouteToxics& route, bool upstream, quint64 session, const QHostAddress& client)
        : m_route(route), m_owner{upstream, false, session, client}
    {
    }

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
    struct Entry : ToxicEntry<ToxicStage>
    {
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

    // Takes in the route's current list (toxicsync.h).
    void sync(FilterOutput& out)
    {
        if (!m_stale)
            return;
        m_stale = false;
        quint64 version = 0;
        const std::shared_ptr<const RouteToxics::List> list = m_route.current(&version);
        m_seen = version;
        m_hits = syncToxicEntries(
            m_entries, *list, m_owner, draw,
            [&](std::size_t i) {
                Link link(*this, i, out);
                m_entries[i].stage->drain(link);
            },
            [&](const ToxicSpec& spec) { return makeToxicStage(spec, out.nowMs()); });
    }

    // After each call: the wake-up the stages want, and the bytes each holds for the toxic's
    // counters (a relaxed store; the snapshot reads them).
    void after(FilterOutput& out)
    {
        qint64 wake = 0;
        for (const Entry& e : m_entries) {
            if (!e.hit)
                continue;
            e.mark->publishHeld(e.stage->held());
            const qint64 at = e.stage->wakeAt();
            if (at && (!wake || at < wake))
                wake = at;
        }
        if (wake)
            out.wakeAt(wake);
    }

    const RouteToxics& m_route;
    const ToxicChainOwner m_owner;
    mutable quint64 m_seen = quint64(-1); // never a published version: the first call syncs
    mutable bool m_stale = true;
    std::vector<Entry> m_entries;
    int m_hits = 0;
    bool m_finished = false;
};

// One allocation per session: the route's list and both directions' filters.
struct ToxicSession
{
    ToxicSession(std::shared_ptr<RouteToxics> r, quint64 id, const QHostAddress& client)
        : route(std::move(r)), toServer(*route, true, id, client),
          toClient(*route, false, id, client)
    {
    }
    std::shared_ptr<RouteToxics> route;
    ToxicChain toServer;
    ToxicChain toClient;
};

} // namespace

void addToxicFilters(std::shared_ptr<RouteToxics> toxics, const ConnectionRecord& connection,
                     SessionFilters& out)
{
    auto session = std::make_shared<ToxicSession>(std::move(toxics), connection.base.id,
                                                  connection.base.clientAddress);
    out.toUpstream.push_back(std::shared_ptr<RelayFilter>(session, &session->toServer));
    RelayFilter* toClient = &session->toClient;
    out.toClient.push_back(std::shared_ptr<RelayFilter>(std::move(session), toClient));
}

} // namespace sg
