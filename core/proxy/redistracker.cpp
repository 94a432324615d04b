#include "proxy/redistracker.h"

#include <algorithm>

namespace sg {

namespace {

bool isAckKind(std::string_view kind)
{
    return kind == "subscribe" || kind == "psubscribe" || kind == "ssubscribe" ||
           kind == "unsubscribe" || kind == "punsubscribe" || kind == "sunsubscribe";
}

bool isMessageKind(std::string_view kind)
{
    return kind == "message" || kind == "pmessage" || kind == "smessage";
}

} // namespace

// ---- RedisTracker ---------------------------------------------------------------------------

void RedisTracker::lose(std::string why)
{
    if (lost())
        return;
    m_why = std::move(why);
    m_pending.clear();
}

std::size_t RedisTracker::feedClientStep(const char* data, std::size_t len, qint64 nowUs,
                                         RespCommandReader::Event& event)
{
    const std::size_t used = m_commands.feed(data, len, event);
    const RespCommandReader& c = m_commands;
    if (c.lost()) {
        lose("client: " + c.why());
        return used;
    }
    if (event == RespCommandReader::Event::Name) {
        m_replyArg = m_replyOff = false;
    } else if (event == RespCommandReader::Event::Argument && c.name() == "client") {
        const std::string arg = respLower(c.arg());
        if (c.argIndex() == 0)
            m_replyArg = arg == "reply";
        else if (c.argIndex() == 1)
            m_replyOff = m_replyArg && (arg == "off" || arg == "skip");
    }
    if (event != RespCommandReader::Event::None && c.commandDone() && !lost())
        commandSent(nowUs);
    return used;
}

void RedisTracker::feedClient(const char* data, std::size_t len, qint64 nowUs)
{
    std::size_t used = 0;
    RespCommandReader::Event event;
    while (used < len && !m_commands.lost())
        used += feedClientStep(data + used, len - used, nowUs, event);
}

void RedisTracker::commandSent(qint64 nowUs)
{
    const RespCommandReader& c = m_commands;
    if (m_replyOff) {
        lose("CLIENT REPLY OFF or SKIP: replies no longer match commands");
        return;
    }

    if (m_pending.size() >= kMaxPending) {
        lose("more than 4096 commands waiting for their replies");
        return;
    }
    Pending p;
    p.done.seq = ++m_sent;
    p.done.name = c.name();
    p.done.line = c.line();
    p.done.startUs = nowUs;
    p.argCount = c.argCount();
    m_pending.push_back(std::move(p));
}

void RedisTracker::feedServer(const char* data, std::size_t len, qint64 nowUs)
{
    if (lost())
        return;
    m_replies.feed(data, len);
    for (const RespReply& r : m_replies.take()) {
        reply(r, nowUs);
        if (lost())
            return;
    }
    if (m_replies.lost())
        lose("server: " + m_replies.why());
}

void RedisTracker::reply(const RespReply& r, qint64 nowUs)
{
    const bool headWaitsForAck = !m_pending.empty() && isAckKind(m_pending.front().done.name);
    if (!r.kind.empty() && isAckKind(r.kind) && (r.push || m_subscribed || headWaitsForAck)) {
        if (r.count >= 0 && !r.push) // RESP3 sends messages as pushes whatever the mode
            m_subscribed = r.count > 0;
        const bool headIsKind = !m_pending.empty() && m_pending.front().done.name == r.kind;
        if (m_skipAcks > 0 && r.kind == m_skipKind &&
            !(m_skipAcks == kUntilNoneLeft && headIsKind)) {
            // The further channels of one (UN)SUBSCRIBE; one without channels is answered
            // once per channel it leaves, the last saying that none is left (or, the count
            // being shared with the other kind, until the next such command is answered).
            if (m_skipAcks != kUntilNoneLeft)
                --m_skipAcks;
            else if (r.count <= 0)
                m_skipAcks = 0;
            return;
        }
        if (headIsKind) {
            const std::size_t channels = m_pending.front().argCount;
            m_skipKind = r.kind;
            if (channels > 0)
                m_skipAcks = channels - 1;
            else
                m_skipAcks = r.kind.ends_with("unsubscribe") && r.count > 0 ? kUntilNoneLeft : 0;
            complete(r, nowUs);
        }
        return;
    }
    if (r.push || (m_subscribed && isMessageKind(r.kind)))
        return; // a published message: the answer to no command
    if (m_pending.empty()) {
        lose("a reply with no command waiting for it");
        return;
    }
    complete(r, nowUs);
}

void RedisTracker::complete(const RespReply& r, qint64 nowUs)
{
    Pending p = std::move(m_pending.front());
    m_pending.pop_front();
    p.done.durationUs = std::max<qint64>(0, nowUs - p.done.startUs);
    p.done.error = r.error;
    p.done.errorText = r.errorText;
    const std::string name = p.done.name;
    m_done.push_back(std::move(p.done));
    if (r.error)
        return;
    if (name == "monitor")
        lose("MONITOR: the server streams what it runs, replies no longer match commands");
    else if (name == "reset")
        m_subscribed = false;
}

std::vector<RedisCommandDone> RedisTracker::takeDone()
{
    std::vector<RedisCommandDone> out;
    out.swap(m_done);
    return out;
}

const RedisCommandDone* RedisTracker::running() const
{
    return m_pending.empty() ? nullptr : &m_pending.front().done;
}

} // namespace sg
