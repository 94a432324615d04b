#pragma once
// The toxics of a UDP route on one session (a client's flow, udpsession.h). Each direction
// ("upstream": client -> server datagrams, "downstream": server -> client) runs the route's
// toxics of that stream as a chain of datagram stages, in the order they were added:
//
//   loss       each datagram dropped with probability loss_rate
//   latency    each datagram held latency +- jitter ms (uniform). Every datagram gets its own
//              delay, so with jitter a later datagram may overtake an earlier one, as on a real
//              path; without jitter the order is kept.
//   bandwidth  datagrams leave one after the other at `rate` KB/s (1 KB = 1000 B; 0 = no cap).
//              The queue in front of the link holds at most one second of the rate in bytes
//              (rate x 1000; an empty queue always takes one datagram) and within the bound
//              below; a datagram that finds it full is dropped, as a saturated link drops.
//
// Memory is bounded: what the stages of one direction hold together is at most
// kHeldDatagrams datagrams and kHeldBytes bytes; a datagram beyond that is dropped. A session
// therefore holds at most 2 x kHeldBytes for its toxics.
//
// Whether a toxic hits the session is drawn once from its toxicity (again when the toxicity is
// changed). The route's list is re-read whenever its version moves (toxicboard.h), so edits
// reach open sessions; removed toxics hand on what they hold at once.

#include "model/toxic.h"

#include <QHostAddress>
#include <QList>
#include <QtGlobal>
#include <cstddef>
#include <memory>
#include <vector>

namespace sg {

class RouteToxics;
struct ActiveToxic;
class DatagramStage;

// Where the chains deliver: the session's upstream socket or its client.
class DatagramSink
{
public:
    virtual ~DatagramSink() = default;
    virtual void deliver(bool upstream, const char* data, std::size_t len) = 0;
};

class UdpToxics
{
public:
    static constexpr std::size_t kHeldDatagrams = 1024;
    static constexpr std::size_t kHeldBytes = 1024 * 1024;

    UdpToxics(std::shared_ptr<RouteToxics> route, quint64 session, const QHostAddress& client);
    ~UdpToxics();
    Q_DISABLE_COPY_MOVE(UdpToxics)

    // Takes in the route's list when its version moved (one atomic load otherwise).
    void sync(DatagramSink& sink, qint64 nowMs);
    // One datagram into a direction's chain; what passes now is delivered before this returns.
    void datagram(bool upstream, const char* data, std::size_t len, DatagramSink& sink,
                  qint64 nowMs);
    // Delivers what is due.
    void timer(DatagramSink& sink, qint64 nowMs);
    // When timer() is next wanted (monotonic ms), 0 for never.
    qint64 wakeAt() const;
    // False when the route lists no toxic for UDP and nothing is held: the session may let
    // go of this and take the direct path.
    bool needed() const;
    // Whether a direction's datagrams go through the chain: a toxic hits this session there,
    // something is held, or the route's list moved since the last sync.
    bool active(bool upstream) const;
    std::size_t heldDatagrams() const;

    // What the stages of one direction share: the bound on what they hold.
    struct Budget
    {
        std::size_t datagrams = 0;
        std::size_t bytes = 0;
        bool take(std::size_t len);
        void give(std::size_t len);
    };
    class Link; // what a stage writes to (udptoxics.cpp)

private:
    struct Entry;
    struct Chain;

    void syncChain(Chain& chain, const QList<ActiveToxic>& list, DatagramSink& sink, qint64 nowMs);
    void publishHeld(const Chain& chain);
    void forward(Chain& chain, std::size_t from, const char* data, std::size_t len,
                 DatagramSink& sink, qint64 nowMs);
    bool draw(double toxicity);
    double random01();

    std::shared_ptr<RouteToxics> m_route;
    quint64 m_seen = quint64(-1); // never a published version: the first call syncs
    quint64 m_random;             // splitmix64 state, seeded per session
    std::unique_ptr<Chain> m_up;
    std::unique_ptr<Chain> m_down;
};

} // namespace sg
