#include "proxy/redisfilter.h"

#include "proxy/redisfaults.h"
#include "proxy/redistracker.h"
#include "proxy/worker.h"
#include "stats/statshub.h"

#include <deque>
#include <string>

namespace sg {

namespace {

struct RedisWatch;

// Client -> server: observes, or with faults holds each command until its delay has passed.
class RedisCommandFilter final : public RelayFilter
{
public:
    explicit RedisCommandFilter(RedisWatch& watch) : m_watch(watch) {}
    Mode mode() const override;
    void observe(const char* data, std::size_t len) override;
    void onData(const char* data, std::size_t len, FilterOutput& out) override;
    void onEnd(FilterOutput& out) override;
    void onTimer(FilterOutput& out) override { release(out); }
    std::size_t held() const override { return m_held; }
    bool done() const override;

private:
    // The bytes of one command (or of several that wait behind a delayed one).
    struct Segment
    {
        std::string bytes;
        bool decided = false;
        qint64 delayMs = 0;
        qint64 releaseAtMs = -1; // set once it is first in line
    };
    void forward(const char* data, std::size_t len, FilterOutput& out);
    void decide(qint64 delayMs);
    void release(FilterOutput& out);

    RedisWatch& m_watch;
    std::deque<Segment> m_queue;
    std::size_t m_held = 0;
    bool m_current = false; // the back segment is the command being read
    RedisFaults::Probe m_probe;
    bool m_probing = false; // a command is being read and its delay is not decided yet
    bool m_finish = false;  // the client sent FIN: pass it on once everything held is out
};

// Server -> client: observes the replies.
class RedisReplyFilter final : public RelayFilter
{
public:
    explicit RedisReplyFilter(RedisWatch& watch) : m_watch(watch) {}
    Mode mode() const override { return done() ? Mode::Pass : Mode::Observe; }
    void observe(const char* data, std::size_t len) override;
    bool done() const override;

private:
    RedisWatch& m_watch;
};

// One allocation per session: the tracker both directions feed and the two filters.
struct RedisWatch
{
    RedisWatch(const Worker& w, std::shared_ptr<ConnectionRecord> r, RouteStats& s,
               std::shared_ptr<const RedisFaults> f)
        : worker(w), record(std::move(r)), routeStats(s), faults(std::move(f)),
          maxUndecided(std::size_t(qMax(1, w.bufferSize() / 4)))
    {
        info.followed = true;
        record->setRedis(info);
    }
    bool faulting() const { return faults && !faults->empty() && !tracker.commands().lost(); }
    void publish(qint64 nowUs);

    const Worker& worker;
    std::shared_ptr<ConnectionRecord> record;
    RouteStats& routeStats; // outlives the session's filters (held by its RouteEntry)
    const std::shared_ptr<const RedisFaults> faults;
    // Bytes of one command held at most while its delay is undecided (keys still to come).
    const std::size_t maxUndecided;
    RedisTracker tracker;
    RedisInfo info;
    quint64 shownSeq = 0; // the running command info.command shows
    bool stopped = false; // info says why the commands are no longer followed
    RedisCommandFilter toServer{*this};
    RedisReplyFilter toClient{*this};
};

void RedisWatch::publish(qint64 nowUs)
{
    bool changed = false;
    const qint64 nowMs = worker.wallMs();
    for (const RedisCommandDone& done : tracker.takeDone()) {
        routeStats.redis.record(done.name, done.durationUs, done.error);
        ++info.commands;
        info.lastCommand = QString::fromUtf8(done.line.data(), qsizetype(done.line.size()));
        if (done.error)
            info.lastError =
                QString::fromUtf8(done.errorText.data(), qsizetype(done.errorText.size()));
        changed = true;
    }
    const RedisCommandDone* running = tracker.running();
    const quint64 seq = running ? running->seq : 0;
    if (seq != shownSeq) {
        shownSeq = seq;
        info.command =
            running ? QString::fromUtf8(running->line.data(), qsizetype(running->line.size()))
                    : QString();
        info.commandSinceMs = running ? nowMs - (nowUs - running->startUs) / 1000 : 0;
        changed = true;
    }
    if (tracker.lost() && !stopped) {
        stopped = true;
        info.followed = false;
        info.command.clear();
        info.notFollowed = QString::fromStdString(tracker.why());
        changed = true;
    }
    if (changed)
        record->setRedis(info);
}

RelayFilter::Mode RedisCommandFilter::mode() const
{
    if (m_watch.faulting() || m_held > 0)
        return Mode::Transform;
    return done() ? Mode::Pass : Mode::Observe;
}

bool RedisCommandFilter::done() const
{
    return m_watch.tracker.lost() && !m_watch.faulting() && m_held == 0;
}

void RedisCommandFilter::observe(const char* data, std::size_t len)
{
    const qint64 nowUs = Worker::monotonicUs();
    m_watch.tracker.feedClient(data, len, nowUs);
    m_watch.publish(nowUs);
}

void RedisCommandFilter::onData(const char* data, std::size_t len, FilterOutput& out)
{
    RedisWatch& w = m_watch;
    const qint64 nowUs = Worker::monotonicUs();
    const RespCommandReader& c = w.tracker.commands();
    std::size_t used = 0;
    while (used < len && w.faulting()) {
        if (c.idle() && !m_probing) { // the next byte starts a command
            m_probing = true;
            m_probe = {};
        }
        RespCommandReader::Event event;
        const std::size_t n = w.tracker.feedClientStep(data + used, len - used, nowUs, event);
        forward(data + used, n, out);
        used += n;
        if (c.lost())
            break;
        if (m_probing && event == RespCommandReader::Event::Name)
            m_probe = w.faults->start(c.name(), c.argCount());
        else if (m_probing && event == RespCommandReader::Event::Argument)
            w.faults->argument(m_probe, c.name(), c.argIndex(), c.argCount(), c.arg(), c.argCut());
        // Whatever else, the bytes of a command waiting for its decision stay well below the
        // direction's buffer cap: held bytes count against it, so the client would otherwise
        // wait for room that only the rest of the command would give back.
        if (m_probing && (c.commandDone() ||
                          (!m_queue.empty() && m_queue.back().bytes.size() >= w.maxUndecided)))
            w.faults->finish(m_probe);
        if (m_probing && m_probe.decided())
            decide(m_probe.delayMs());
        if (c.commandDone())
            m_current = false;
    }
    if (!w.faulting()) { // the reader gave up: what it has not read flows as it comes
        if (m_probing)
            decide(0);
        m_current = false;
        forward(data + used, len - used, out);
    }
    release(out);
    w.publish(nowUs);
}

// Bytes of the command being read: held while its delay is undecided or anything waits ahead
// of it, written at once otherwise.
void RedisCommandFilter::forward(const char* data, std::size_t len, FilterOutput& out)
{
    if (len == 0)
        return;
    if (m_queue.empty() && !m_probing) {
        out.write(data, len);
        return;
    }
    if (!m_current) {
        m_queue.emplace_back();
        m_queue.back().decided = !m_probing;
        m_current = true;
    }
    m_queue.back().bytes.append(data, len);
    m_held += len;
}

void RedisCommandFilter::decide(qint64 delayMs)
{
    m_probing = false;
    if (!m_current || m_queue.empty())
        return;
    m_queue.back().decided = true;
    m_queue.back().delayMs = delayMs;
}

void RedisCommandFilter::release(FilterOutput& out)
{
    while (!m_queue.empty()) {
        Segment& head = m_queue.front();
        if (!head.decided)
            break;
        if (head.delayMs > 0) {
            if (head.releaseAtMs < 0)
                head.releaseAtMs = out.nowMs() + head.delayMs;
            if (out.nowMs() < head.releaseAtMs) {
                out.wakeAt(head.releaseAtMs);
                break;
            }
        }
        out.write(head.bytes.data(), head.bytes.size());
        m_held -= head.bytes.size();
        m_queue.pop_front();
        if (m_queue.empty())
            m_current = false; // the rest of the command, if any, is written at once
    }
    if (m_queue.empty() && m_finish) {
        m_finish = false;
        out.finish();
    }
}

void RedisCommandFilter::onEnd(FilterOutput& out)
{
    if (m_probing)
        decide(0); // a command cut by the FIN reaches the server as it came
    m_finish = true;
    release(out);
}

void RedisReplyFilter::observe(const char* data, std::size_t len)
{
    const qint64 nowUs = Worker::monotonicUs();
    m_watch.tracker.feedServer(data, len, nowUs);
    m_watch.publish(nowUs);
}

bool RedisReplyFilter::done() const
{
    return m_watch.tracker.lost();
}

} // namespace

void addRedisFilters(const Worker& worker, std::shared_ptr<ConnectionRecord> record,
                     RouteStats& routeStats, std::shared_ptr<const RedisFaults> faults,
                     SessionFilters& out)
{
    auto watch =
        std::make_shared<RedisWatch>(worker, std::move(record), routeStats, std::move(faults));
    out.toUpstream.push_back(std::shared_ptr<RelayFilter>(watch, &watch->toServer));
    RelayFilter* toClient = &watch->toClient;
    out.toClient.push_back(std::shared_ptr<RelayFilter>(std::move(watch), toClient));
}

} // namespace sg
