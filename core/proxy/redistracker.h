#pragma once
// Readers of the Redis protocol (RESP2 and RESP3) for a stream route with APISIX's xRPC
// protocol "redis": RespCommandReader splits the client's bytes into commands, RespReplyReader
// the server's into replies, and RedisTracker pairs them, so that each command gets its latency
// and its error. All three are pure and incremental: fed the bytes exactly as read, in any
// pieces, they never alter one, and what they keep is bounded whatever the traffic (a few
// bytes of each argument, the pending commands up to kMaxPending). Bulk strings are skipped by
// their length, never buffered.
//
// What the tracker follows: pipelined commands, MULTI/EXEC, blocking commands, RESP3 (HELLO 3)
// with its attributes and push messages, and publish/subscribe (the acknowledgements of
// SUBSCRIBE and friends answer the command, the messages are not replies). It gives up for
// good (lost()) on MONITOR (after its OK the server only streams), CLIENT REPLY OFF/SKIP
// (replies no longer match commands), streamed RESP3 aggregates, more than kMaxPending commands
// in flight and bytes that are not the protocol. Not thread-safe: one per session.

#include <QtGlobal>
#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace sg {

class RespCommandReader
{
public:
    static constexpr std::size_t kMaxName = 64;          // kept of a command's name
    static constexpr std::size_t kMaxArg = 512;          // kept of each argument
    static constexpr std::size_t kMaxLine = 128;         // RedisCommand::line
    static constexpr std::size_t kMaxInline = 64 * 1024; // an inline command's line, as Redis
    static constexpr qint64 kMaxArgs = 1024 * 1024;      // Redis's own limits
    static constexpr qint64 kMaxBulk = qint64(512) * 1024 * 1024;

    // What the last feed() stopped at.
    enum class Event : quint8 {
        None,     // every byte given was used, nothing completed
        Name,     // the command's name is complete: name()
        Argument, // argument argIndex() is complete: arg()
    };

    // Uses bytes of data up to the first event and returns how many (possibly 0: an inline
    // command's events come one per call, and its newline is used with the last of them).
    std::size_t feed(const char* data, std::size_t len, Event& event);
    // The event of the last feed() was the command's last element: the command is complete.
    bool commandDone() const { return m_commandDone; }
    // No command is under way: the next byte starts one.
    bool idle() const { return m_state == State::Start && m_inlineNext == 0; }

    const std::string& name() const { return m_name; }  // lower case, at most kMaxName bytes
    std::size_t argIndex() const { return m_argIndex; } // 0 = the first after the name
    std::size_t argCount() const { return m_argCount; } // arguments after the name, as declared
    // The argument just completed: all of it, or its first kMaxArg bytes when argCut().
    std::string_view arg() const { return m_arg; }
    bool argCut() const { return m_argCut; }
    // The command as the connections table shows it: "get user:1", at most kMaxLine bytes.
    const std::string& line() const { return m_line; }
    bool inlineCommand() const { return m_inline; }

    bool lost() const { return !m_why.empty(); }
    const std::string& why() const { return m_why; }

private:
    enum class State : quint8 { Start, Count, Header, Body, BodyEnd, Inline };
    bool readLine(const char* data, std::size_t len, std::size_t& used, std::size_t max);
    void completeElement(Event& event);
    std::size_t nextInline(Event& event);
    void appendToLine(std::string_view text);
    void lose(std::string why);

    State m_state = State::Start;
    std::string m_buf; // the current header line, or the inline command's line
    std::string m_name;
    std::string m_arg;
    std::string m_line;
    qint64 m_bulkLeft = 0; // bytes of the current bulk string still to come
    std::size_t m_argCount = 0;
    std::size_t m_element = 0; // elements of the command completed (the name is element 0)
    std::size_t m_argIndex = 0;
    bool m_argCut = false;
    bool m_inline = false;
    bool m_commandDone = false;
    quint8 m_crlfSeen = 0; // of the CRLF after a bulk body
    // An inline command's arguments, handed out one event at a time.
    std::vector<std::string> m_inlineArgs;
    std::size_t m_inlineNext = 0;
    std::string m_why;
};

// One complete top-level reply.
struct RespReply
{
    bool push = false;     // a RESP3 push (">"): never the answer to a command on its own
    bool error = false;    // "-..." or a RESP3 blob error
    std::string errorText; // its first kMaxError bytes
    // For an array or push: its first element when that is a short string (lower case), and
    // its third when that is an integer (a subscription acknowledgement's count).
    std::string kind;
    qint64 count = -1;
};

class RespReplyReader
{
public:
    static constexpr std::size_t kMaxError = 256;
    static constexpr std::size_t kMaxLine = 64 * 1024; // a simple string or error line
    static constexpr std::size_t kMaxDepth = 64;
    static constexpr std::size_t kMaxKind = 32;

    void feed(const char* data, std::size_t len);
    std::vector<RespReply> take();
    std::size_t queued() const { return m_done.size(); }

    bool lost() const { return !m_why.empty(); }
    const std::string& why() const { return m_why; }

private:
    bool readLine(const char* data, std::size_t len, std::size_t& used);
    void header();
    void scalar(char type, std::string_view text);
    void bulkDone();
    void elementDone();
    bool atTopChild(std::size_t index) const;
    void lose(std::string why);

    struct Level
    {
        qint64 left = 0; // elements still to come at this level
        bool attribute = false;
    };

    std::string m_buf; // the current line, kept up to kMaxError bytes (the rest only counted)
    std::size_t m_lineLen = 0;
    bool m_inBulk = false;
    qint64 m_bodyLeft = 0; // of the current bulk body
    quint8 m_crlfLeft = 0; // of the CRLF after it
    bool m_bulkIsError = false;
    std::string m_bulkKeep; // kept of the bulk body (the kind, an error text)
    std::vector<Level> m_stack;
    std::size_t m_topIndex = 0; // index of the element read at depth 1
    RespReply m_reply;
    std::vector<RespReply> m_done;
    std::string m_why;
};

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
