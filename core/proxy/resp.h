#pragma once
// Readers of the Redis protocol (RESP2 and RESP3): RespCommandReader splits a client's bytes
// into commands, RespReplyReader a server's into replies. Both are pure and incremental: fed
// the bytes exactly as read, in any pieces, they never alter one, and what they keep is bounded
// whatever the traffic (a few bytes of each argument, a short prefix of each reply). Bulk
// strings are skipped by their length, never buffered. RedisTracker (proxy/redistracker.h)
// pairs what they read.

#include <QtGlobal>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sg {

// Lower case of ASCII letters, other bytes as they are (command names, reply kinds).
std::string respLower(std::string_view text);

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

} // namespace sg
