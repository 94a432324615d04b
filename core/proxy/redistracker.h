#pragma once
// RedisTracker follows a connection of a stream route with APISIX's xRPC protocol "redis": it
// reads the client's commands and the server's replies (proxy/resp.h) and pairs them, so that
// each command gets its latency and its error. Pure and incremental like the readers; what it
// keeps is bounded (the pending commands up to kMaxPending).
//
// What it follows: pipelined commands, MULTI/EXEC, blocking commands, RESP3 (HELLO 3) with its
// attributes and push messages, and publish/subscribe (the acknowledgements of SUBSCRIBE and
// friends answer the command, the messages are not replies). It gives up for good (lost()) on
// MONITOR (after its OK the server only streams), CLIENT REPLY OFF/SKIP (replies no longer
// match commands), streamed RESP3 aggregates, more than kMaxPending commands in flight and
// bytes that are not the protocol. Not thread-safe: one per session.

#include "proxy/resp.h"

#include <QtGlobal>
#include <cstddef>
#include <deque>
#include <string>
#include <vector>

namespace sg {

struct RedisCommandDone
{
    quint64 seq = 0;       // the command's number on the connection, from 1
    std::string name;      // lower case
    std::string line;      // as RespCommandReader::line()
    qint64 startUs = 0;    // the feed call that completed the command
    qint64 durationUs = 0; // until the feed call that completed its reply
    bool error = false;
    std::string errorText;
};

class RedisTracker
{
public:
    static constexpr std::size_t kMaxPending = 4096;

    // The client's bytes: returns how many were used, up to and including the first event (see
    // RespCommandReader); a completed command starts waiting for its reply at nowUs.
    std::size_t feedClientStep(const char* data, std::size_t len, qint64 nowUs,
                               RespCommandReader::Event& event);
    void feedClient(const char* data, std::size_t len, qint64 nowUs);
    void feedServer(const char* data, std::size_t len, qint64 nowUs);

    const RespCommandReader& commands() const { return m_commands; }
    std::vector<RedisCommandDone> takeDone();
    // The command waiting longest for its reply, or nullptr.
    const RedisCommandDone* running() const;
    std::size_t pending() const { return m_pending.size(); }

    bool lost() const { return !m_why.empty(); }
    const std::string& why() const { return m_why; }

private:
    struct Pending
    {
        RedisCommandDone done;
        std::size_t argCount = 0;
    };
    void commandSent(qint64 nowUs);
    void reply(const RespReply& reply, qint64 nowUs);
    void complete(const RespReply& reply, qint64 nowUs);
    void lose(std::string why);

    RespCommandReader m_commands;
    RespReplyReader m_replies;
    std::deque<Pending> m_pending;
    std::vector<RedisCommandDone> m_done;
    static constexpr std::size_t kUntilNoneLeft = std::size_t(-1);
    std::string m_skipKind;     // acknowledgements still to come for the last (un)subscribe
    std::size_t m_skipAcks = 0; // or kUntilNoneLeft: until one says no subscription is left
    quint64 m_sent = 0;         // commands sent so far
    // CLIENT REPLY OFF|SKIP under way: the server stops answering
    bool m_replyArg = false;
    bool m_replyOff = false;
    bool m_subscribed = false; // RESP2: messages arrive as arrays
    std::string m_why;
};

} // namespace sg
