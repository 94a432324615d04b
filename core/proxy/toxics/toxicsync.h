#pragma once
// What the TCP chain (toxicfilter.cpp) and the UDP chain (udptoxics.cpp) share: one entry per
// toxic of a direction, and how a chain takes in the route's current list (toxicboard.h).

#include "proxy/toxics/toxicboard.h"

#include <QHostAddress>
#include <memory>
#include <vector>

namespace sg {

template <class Stage> struct ToxicEntry
{
    std::unique_ptr<Stage> stage; // null while the toxic misses this session
    ToxicSpec spec;
    std::shared_ptr<ToxicState> state; // the toxic's identity across versions
    std::unique_ptr<ToxicHit> mark;    // made the first time the toxic hits this session
    bool drawn = false;                // the toxicity's draw for this session
    bool hit = false;                  // drawn, enabled and the client among the toxic's
    bool moved = false;                // taken into the next list (syncToxicEntries)
};

// Who a chain is for: its direction, its transport, the session and its client.
struct ToxicChainOwner
{
    bool upstream = false;
    bool udp = false;
    quint64 session = 0;
    QHostAddress client;
};

// Brings `entries` in line with `list`: toxics that stop hitting (removed, switched off, the
// client no longer among theirs) are drained first, in chain order, so what they hold goes
// through the stages after them; a changed toxicity is drawn again; changed toxics keep their
// stage's state; new ones start now. A toxic is the same while its state is (same name, type
// and stream, never removed in between), even if the session slept through several versions.
//   draw(toxicity) -> bool, drain(index) hands on what entries[index].stage holds,
//   make(spec) -> the stage for a toxic that starts hitting.
// Returns how many toxics hit the session now.
template <class Entry, class Draw, class Drain, class Make>
int syncToxicEntries(std::vector<Entry>& entries, const RouteToxics::List& list,
                     const ToxicChainOwner& owner, Draw draw, Drain drain, Make make)
{
    auto current = [&](const Entry& old) -> const ActiveToxic* {
        for (const ActiveToxic& t : list)
            if (t.state == old.state)
                return &t;
        return nullptr;
    };
    for (std::size_t i = 0; i < entries.size(); ++i) {
        Entry& e = entries[i];
        const ActiveToxic* t = current(e);
        if (t && t->spec.toxicity != e.spec.toxicity) {
            e.drawn = draw(t->spec.toxicity);
            e.spec.toxicity = t->spec.toxicity;
        }
        const bool hit = t && e.drawn && t->reaches(owner.client);
        if (e.hit && !hit) {
            drain(i);
            e.stage.reset();
            e.mark->setHitting(false);
        }
        e.hit = hit;
    }
    std::vector<Entry> next;
    int hits = 0;
    for (const ActiveToxic& t : list) {
        const ToxicSpec& spec = t.spec;
        // A route that takes TCP and UDP may list toxics of one kind only: the other passes.
        // Query toxics act on MySQL commands (mysqlfaults.h), not in a chain of bytes.
        if (spec.upstream != owner.upstream || isQueryToxic(spec.type) ||
            !toxicUnsupportedReason(spec.type, owner.udp).isEmpty())
            continue;
        Entry entry;
        bool known = false;
        for (Entry& old : entries) {
            if (!old.moved && old.state == t.state) {
                entry = std::move(old);
                old.moved = true;
                known = true;
                break;
            }
        }
        if (!known) {
            entry.state = t.state;
            entry.drawn = draw(spec.toxicity);
            entry.hit = entry.drawn && t.reaches(owner.client);
        }
        entry.spec = spec;
        if (entry.hit && !entry.stage)
            entry.stage = make(spec);
        else if (entry.stage)
            entry.stage->setSpec(spec);
        if (entry.hit && !entry.mark)
            entry.mark = std::make_unique<ToxicHit>(t.state, owner.session);
        if (entry.mark)
            entry.mark->setHitting(entry.hit);
        hits += entry.hit ? 1 : 0;
        next.push_back(std::move(entry));
    }
    entries = std::move(next);
    return hits;
}

} // namespace sg
