#pragma once
// A RelayFilter works on one direction of one TCP session (client -> upstream or upstream ->
// client): the protocol readers, fault injection and TLS are filters, never branches in the
// relay pump. Each direction has a chain of filters; bytes read from the source go through the
// chain in order and what leaves its end is written to the destination.
//
// The contract:
// - Thread and lifetime: a filter is created for one session, is held by that session's
//   RelayPump, and is called only on the session's worker thread, only by the pump. It may
//   keep pointers to the session's ConnectionRecord (shared) but to nothing of the pump. The
//   pump holds filters through shared pointers so that the filters of one session may share
//   one allocation (std::shared_ptr's aliasing constructor); its memory goes with the last.
// - Modes: a filter says through mode() what it wants now, and may change its answer between
//   calls. Pass: it wants no bytes (skipped; a direction whose filters all pass is relayed as
//   if it had none, on the splice path). Observe: it sees every byte, in order, and never
//   changes them (observe()); the bytes stay in the pump's own buffer, no copy. Transform: the
//   bytes reach the destination only through FilterOutput::write() (onData()); it may hold,
//   delay, cut, drop or add bytes and end the direction. A direction whose chain transforms
//   starts doing so with its next read once the bytes it already holds are delivered.
// - Back-pressure: the bytes a filter holds (held()) count against the direction's buffer cap
//   together with what waits for the destination; while they fill it the source is not read,
//   so a slow filter slows the peer through TCP flow control exactly as a slow destination
//   does. A filter may add bytes of its own beyond the cap (an error packet, a header): keep
//   them small, they are queued whatever the cap.
// - Starting: onStart() is called once when the upstream is connected (transforming filters
//   only), before any byte of either direction, the chain's last filter first: what a filter
//   writes there goes through the filters after it, already started, and after what they wrote.
// - Ending: onEnd() is called once when the source sent FIN (transforming filters only); the
//   default passes it on at once. FilterOutput::finish() ends the direction with a FIN after
//   every byte written so far; later writes are dropped and the source is read no more.
//   FilterOutput::reset() ends the whole session with a reset to both peers.
// - Timers: wakeAt() asks for one onTimer() call at or after that monotonic time (a later call
//   replaces the earlier request). Bytes a filter releases from onTimer() are sent at once.
//   onTimer() is also called, on every filter that transforms, when the session is woken
//   (Worker::wakeRoutes: the filter's settings changed), so it must check its own deadlines.
// - A filter may turn from Transform to Pass or Observe only while held() is 0. A filter whose
//   done() turns true is let go by the pump at the end of the pass that made it so.

#include <QtGlobal>
#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

namespace sg {

class ConnectionRecord;
class RelayFilter;

// What a transforming filter may do to its direction; valid only during the call it is given to.
class FilterOutput
{
public:
    virtual ~FilterOutput() = default;
    // Hands bytes on, to the next filter of the chain or to the destination.
    virtual void write(const char* data, std::size_t len) = 0;
    virtual void finish() = 0; // FIN after everything written so far
    virtual void reset() = 0;  // reset both peers, end the session
    virtual void wakeAt(qint64 monoMs) = 0;
    virtual qint64 nowMs() const = 0; // the worker's monotonic clock, as wakeAt() takes it
    // Asks for one onTimer() call of another filter of the same session (of either direction)
    // at or after `monoMs`: a filter pair that answers the client from its client -> upstream
    // half (a TLS handshake) has its other half send it. No effect for a filter not in the
    // session.
    virtual void wakeFilter(const RelayFilter* filter, qint64 monoMs)
    {
        Q_UNUSED(filter);
        Q_UNUSED(monoMs);
    }
};

class RelayFilter
{
public:
    enum class Mode : quint8 { Pass, Observe, Transform };

    virtual ~RelayFilter() = default;
    virtual Mode mode() const = 0;
    // Observe mode: the bytes just read, before they are written on.
    virtual void observe(const char* data, std::size_t len)
    {
        Q_UNUSED(data);
        Q_UNUSED(len);
    }
    // Transform mode: the upstream is connected and no byte has been relayed yet (a filter that
    // speaks first, e.g. a PROXY protocol header, writes here).
    virtual void onStart(FilterOutput& out) { Q_UNUSED(out); }
    // Transform mode: bytes from the source or the previous filter.
    virtual void onData(const char* data, std::size_t len, FilterOutput& out)
    {
        out.write(data, len);
    }
    virtual void onEnd(FilterOutput& out) { out.finish(); }
    virtual void onTimer(FilterOutput& out) { Q_UNUSED(out); }
    virtual std::size_t held() const { return 0; }
    // True once the filter will never want a byte again (and holds none): the pump then lets
    // go of it, so a finished protocol reader costs no memory for the rest of the session.
    virtual bool done() const { return false; }
};

// The filters of a new session: [0] client -> upstream, [1] upstream -> client, each in chain
// order. A provider adds what it wants for this connection (possibly nothing).
struct SessionFilters
{
    std::vector<std::shared_ptr<RelayFilter>> toUpstream;
    std::vector<std::shared_ptr<RelayFilter>> toClient;
};
using FilterProvider =
    std::function<void(const std::shared_ptr<ConnectionRecord>& connection, SessionFilters& out)>;

} // namespace sg
