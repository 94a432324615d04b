#pragma once
// RelayPump moves the bytes of one connected TCP session between its two sockets, on the
// session's worker. Each direction holds at most bufferSize bytes (a kernel pipe for splice(),
// or a pooled buffer for the copy path) and only while bytes are in flight; when the
// destination is full the source is not read, so TCP flow control stops the peer. Small reads
// are copied (recv/send through a pooled buffer: two system calls, where splice needs three); a
// read that fills the buffer marks the direction as bulk, and its next bytes go through a pipe.
// A pipe that keeps being filled to its cap and emptied again grows, up to the worker's burst
// size, so a bulk transfer moves more per call and per wake-up; it drops back to bufferSize once
// the destination stalls, and is shrunk and pooled after a quiet spell. Half-close: a FIN is
// forwarded as shutdown(SHUT_WR) after every buffered byte is delivered.
//
// Each direction has a filter chain (relayfilter.h). While its filters only observe, the
// direction takes the copy path and shows them each read before writing it on; while one
// transforms, reads go through the chain into a queue the destination is fed from. A direction
// whose filters all pass (or that has none) pays nothing for them.

#include "proxy/relayfilter.h"
#include "proxy/worker.h"

#include <memory>
#include <string>
#include <vector>

namespace sg {

class RelayPump
{
public:
    enum Side { Client = 0, Upstream = 1 };
    // Timer kinds the pump schedules for its session (tag: kind << 24 | generation); the
    // session hands them back to onTimer().
    static constexpr quint32 kPipeTimer = 4;
    static constexpr quint32 kFilterTimer = 5;

    // The watches belong to the session (they are registered with the loop under its handler);
    // upIdleMs/downIdleMs: the upstream's send/read timeouts.
    RelayPump(Worker& worker, quint64 sessionId, ConnectionRecord& record, IoWatch& client,
              IoWatch& upstream, qint64 upIdleMs, qint64 downIdleMs);
    ~RelayPump();
    Q_DISABLE_COPY_MOVE(RelayPump)

    void addFilters(Side from, std::vector<std::shared_ptr<RelayFilter>> filters);

    // Readiness reported for a side (IoRead, IoWrite, IoHup: read it until it says 0).
    void report(Side side, quint32 bits);
    // The upstream is connected: relaying starts (the client's readiness was kept meanwhile),
    // transforming filters get onStart(); run() next.
    void start();

    // Moves what can be moved now. Returns CloseReason::None while the session goes on, the
    // reason it ends otherwise (both directions done, a reset, a filter's reset).
    CloseReason run();
    CloseReason onTimer(quint32 kind);
    // The filters' settings changed: every transforming filter gets onTimer(), then run().
    CloseReason wake();
    // The session was requeued (its fair share used) and runs again.
    void resumed() { m_requeued = false; }
    // The operator's pause: neither source is read until then (bytes wait in the kernel, so
    // flow control holds the peers back); bytes already held still go out. 0 ends the pause,
    // which counts as activity for the idle timeouts; run() next.
    void setPausedUntil(qint64 untilMonoMs);
    qint64 pausedUntil() const { return m_pausedUntil; } // 0: not paused

    qint64 idleExpiry() const; // every open direction quiet beyond its own timeout
    bool halfClosed() const { return m_dirs[0].shut != m_dirs[1].shut; }
    void release(); // gives back pipes and buffers (the session is closing)
    // Bytes read from that side so far (the access log's $bytes_received and
    // $upstream_bytes_received, handed to the record once, at close).
    quint64 received(Side from) const { return m_dirs[from].received; }
    // Bytes read from that side before the session (relayed through a filter that writes them);
    // they are that side's first bytes.
    void addReceived(Side from, quint64 bytes);
    // The peer whose FIN was read first (Proxy: a filter ended its direction before either),
    // None while neither did.
    ClosedBy firstClosed() const;

private:
    struct Endpoint
    {
        IoWatch* watch;
        bool readable = false;
        bool writable = false;
        bool hup = false;
    };
    struct FilterLink
    {
        std::shared_ptr<RelayFilter> filter;
        qint64 wakeAtMs = 0; // 0: no onTimer() wanted
    };
    // What a direction's transforming filters wrote that waits for the destination.
    struct Queue
    {
        std::string bytes;
        std::size_t head = 0; // sent part of bytes
    };
    // A direction's filters, in order; nothing is allocated for a direction without any, and
    // the queue only once a filter writes.
    struct Chain
    {
        std::vector<FilterLink> filters;
        std::unique_ptr<Queue> queue;
        bool resetWanted = false;
    };
    struct Direction
    {
        Side from;
        Side to;
        RelayPipe pipe;
        char* buffer = nullptr; // copy path storage; read scratch while the chain transforms
        int head = 0;
        int tail = 0;
        qint64 held = 0;            // bytes in the pipe or buffer
        bool eof = false;           // the source is read no more
        bool ending = false;        // forward a FIN once everything held is sent
        bool shut = false;          // the FIN was forwarded
        bool pipeMaybeFull = false; // splice into the pipe said EAGAIN while it held bytes
        qint64 cap = 0;             // pipe only: what it may hold now (bufferSize..burstSize)
        int fills = 0;              // full reads of an emptied pipe in a row (< 0: back off)
        bool bulk = false;          // the last read filled its storage: next storage is a pipe
        qint64 lastMoveMs = 0;
        qint64 idleMs = 0;
        quint64 received = 0; // bytes read from the source; plain: only this worker reads it
        Chain chain;
    };
    class LinkOutput;

    int transfer(Direction& d, qint64& budget);
    int send(Direction& d, qint64& budget);
    int receive(Direction& d, qint64& budget);
    // Bytes read from d's source (the first of them timed).
    void countReceived(Direction& d, quint64 bytes);
    int receiveThroughChain(Direction& d);
    RelayFilter::Mode chainMode(const Direction& d) const;
    std::size_t filtersHeld(const Direction& d) const;
    static qint64 queued(const Direction& d)
    {
        return d.chain.queue ? qint64(d.chain.queue->bytes.size() - d.chain.queue->head) : 0;
    }
    bool canRead(const Direction& d, RelayFilter::Mode mode) const;
    void deliver(Direction& d, std::size_t from, const char* data, std::size_t len);
    void endChain(Direction& d, std::size_t from);
    // At the end of a pass: lets go of the filters whose done() turned true in either
    // direction (one protocol reader's two filters often finish on one side's bytes).
    void dropDoneFilters();
    void scheduleFilterTimer();
    void updateWants();
    void updateBuffered();
    void releaseStorage(Direction& d);
    qint64 capOf(const Direction& d) const
    {
        return d.pipe.readFd >= 0 ? d.cap : m_worker.bufferSize();
    }
    void growPipe(Direction& d);
    void releaseQuietPipes();
    int fd(Side s) const { return m_ends[s].watch->fd; }

    Worker& m_worker;
    const quint64 m_sessionId;
    ConnectionRecord& m_record;
    Endpoint m_ends[2];
    Direction m_dirs[2]; // [0] client -> upstream, [1] upstream -> client
    CloseReason m_firstEof = CloseReason::None;
    bool m_filterEndedFirst = false; // a filter ended its direction before either peer's FIN
    bool m_requeued = false;
    bool m_pipeTimerArmed = false; // a grown pipe is kept while quiet; the pipe timer returns it
    qint64 m_filterTimerAt = 0;    // when the earliest filter timer scheduled fires (0: none)
    qint64 m_pausedUntil = 0;      // setPausedUntil()
};

} // namespace sg
