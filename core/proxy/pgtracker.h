#pragma once
// PgTracker follows a PostgreSQL connection (frontend/backend protocol 3.x) from its very first
// byte: the startup (SSLRequest, GSSENCRequest, CancelRequest, StartupMessage and its
// parameters), the login's outcome, then each command the client sent, how the server answered
// it and how long that took. It is a pure, incremental reader fed the bytes of each direction
// exactly as read, in any pieces; it never alters a byte. Memory is bounded whatever the
// traffic: a small prefix of each message (whole only for the startup packet, at most
// kMaxStartupPacket bytes), at most kMaxStatement bytes of a statement, kMaxPrepared remembered
// statements and as many portals, and at most kMaxQueued messages awaiting an answer, of which
// kMaxPending commands. A queued message holds two names of at most kMaxName bytes and shares
// its statement text (an Execute points at its Parse's); the texts of queued Query and Parse
// messages add up to at most kMaxQueuedText bytes. So a session holds some 30 MiB at worst
// (16 MiB of queued texts, 4 MiB of queued messages, 8 MiB of remembered statements and
// portals), a few KiB in the common case. The caps cover a pgJDBC executeBatch or a libpq
// pipeline of thousands of statements; past them the tracker loses track and why() says which.
// DataRow and CopyData bodies are skipped by their lengths, never kept.
//
// What a command is: a simple Query (one per 'Q', however many statements its text holds,
// completed by ReadyForQuery), an extended-protocol Execute (completed by CommandComplete,
// EmptyQueryResponse, PortalSuspended or ErrorResponse; its statement is the Parse text of the
// statement its portal was bound to, as the server had it when it ran the Execute), a
// FunctionCall, and Terminate (reported with duration 0, like MySQL's COM_QUIT). Parse, Bind,
// Describe, Close, Sync and Flush are not commands of their own. After an extended-protocol
// error the server skips every message until Sync: the error is reported on the batch's first
// Execute if the client had sent one, else on an Extended entry (a Parse, Bind, Describe or
// Close refused, or a Sync whose implicit COMMIT failed); the other Executes the server skipped
// never ran and are not reported.
//
// COPY FROM STDIN, from a Query or an Execute, reads the client's CopyData up to its CopyDone
// or CopyFail; the server ignores a Sync or Flush sent in between (libpq sends a Sync after
// every Execute, then another after CopyDone), so only the Sync after the copy is answered.
//
// Named statements and portals are remembered as the server keeps them: until Close, DISCARD
// ALL or DEALLOCATE ALL (statements), CLOSE ALL or the end of the transaction (portals, which
// a Bind never makes holdable). Past kMaxPrepared a new name is not remembered: an Execute that
// runs it reports an empty statement, never another statement's text. A statement prepared or
// deallocated by name with SQL PREPARE / DEALLOCATE is not followed: an EXECUTE's command text
// is the EXECUTE statement.
//
// It gives up for good (lost()) on what it cannot follow: an encrypted connection (TLS or
// GSSAPI, after the server accepted it), replication connections and CopyBoth, protocol
// versions other than 3, message types the protocol does not define, lengths that are out of
// range for their message type, a message out of its place in the exchange, and more in
// flight than the caps allow. Not thread-safe: one tracker belongs to one session.

#include <QtGlobal>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sg {

enum class PgCommandKind : quint8 {
    SimpleQuery,  // 'Q'
    Execute,      // extended protocol 'E'
    FunctionCall, // 'F'
    Extended,     // an extended-protocol error no Execute carries (see above)
    Terminate,    // 'X': no answer, duration 0
};

struct PgCommandDone
{
    PgCommandKind kind = PgCommandKind::SimpleQuery;
    // SimpleQuery: its text; Execute: the Parse text of its statement ("" if unknown);
    // Extended: the text of the statement the refused message named, when known.
    std::string statement;
    bool statementCut = false;    // only the first kMaxStatement bytes were kept
    std::string portal;           // Execute: the portal it ran ("" for the unnamed one)
    qint64 startUs = 0;           // time passed to feedClient() with the message's first byte
    qint64 durationUs = 0;        // until the feedServer() call that completed its response
    quint64 rowsSent = 0;         // DataRow messages
    quint64 rowsAffected = 0;     // from the CommandComplete tags, summed over a multi-statement
    std::string tag;              // the first tag without its counts: "SELECT", "CREATE TABLE"
    bool portalSuspended = false; // Execute with a row limit: more rows are left in the portal
    std::string severity;         // ErrorResponse 'V' (or 'S'): "ERROR", "FATAL"
    std::string sqlState;         // ErrorResponse 'C', 5 chars; "" when none
    std::string errorMessage;     // ErrorResponse 'M', at most kMaxErrorMessage bytes

    friend bool operator==(const PgCommandDone&, const PgCommandDone&) = default;
};

class PgTracker
{
public:
    enum class LoginState : quint8 { Pending, Succeeded, Failed };

    static constexpr std::size_t kMaxStatement = 4096;
    static constexpr std::size_t kMaxErrorMessage = 512;
    static constexpr std::size_t kMaxPending = 4096; // commands sent, not yet answered
    static constexpr std::size_t kMaxQueued = 16384; // messages of any kind awaiting an answer
    static constexpr std::size_t kMaxQueuedText = 16 * 1024 * 1024; // their statement texts
    static constexpr std::size_t kMaxPrepared = 1024;   // named statements, and named portals
    static constexpr std::size_t kMaxName = 63;         // the server truncates names there too
    static constexpr quint32 kMaxStartupPacket = 10000; // as the server's MAX_STARTUP_PACKET_LENGTH
    static constexpr quint32 kMaxLargeMessage = 0x3FFFFFFF; // 1 GiB: data, queries, rows
    static constexpr quint32 kMaxSmallMessage = 10000;      // Describe, Execute, Close
    static constexpr std::size_t kMaxServerPrefix = 256;    // kept of a server message but errors
    static constexpr std::size_t kMaxErrorPrefix = 2048;    // kept of an ErrorResponse

    PgTracker();

    void feedClient(const char* data, std::size_t len, qint64 nowUs);
    void feedServer(const char* data, std::size_t len, qint64 nowUs);

    // Completed commands since the last call, in the order they completed.
    std::vector<PgCommandDone> takeDone();
    // The command waiting longest for its response (kind, statement, startUs), or nullptr.
    const PgCommandDone* running() const;
    std::size_t pending() const { return m_commands; } // commands awaiting an answer

    bool lost() const { return m_lost; }
    const std::string& why() const { return m_why; }

    // The startup.
    bool tlsRequested() const { return m_tlsRequested; }
    bool tlsAccepted() const { return m_tlsAccepted; }
    bool gssEncRequested() const { return m_gssRequested; }
    bool gssEncAccepted() const { return m_gssAccepted; }
    bool cancelRequest() const { return m_cancel; }
    // 3 and the minor version the client asked for, lowered by NegotiateProtocolVersion.
    int protocolMinor() const { return m_protocolMinor; }
    const std::string& user() const { return m_user; }
    const std::string& database() const { return m_database; } // the user's name when not given
    // From the StartupMessage, then from ParameterStatus when the session changes it.
    const std::string& applicationName() const { return m_applicationName; }

    // The login.
    LoginState loginState() const { return m_loginState; }
    const std::string& loginSqlState() const { return m_loginSqlState; } // when Failed
    const std::string& loginError() const { return m_loginError; }       // its message
    const std::string& serverVersion() const { return m_serverVersion; } // ParameterStatus
    // ReadyForQuery's transaction status: 'I' idle, 'T' in a transaction, 'E' failed one; 0
    // before the first.
    char transactionStatus() const { return m_transactionStatus; }

private:
    enum class Phase : quint8 {
        Startup,   // the client's untyped startup packet comes next
        SslAnswer, // the server's one-byte answer to SSLRequest
        GssAnswer, // the server's one-byte answer to GSSENCRequest
        Cancelled, // CancelRequest sent: nothing more may follow
        Login,     // StartupMessage sent: authentication until ReadyForQuery
        Ready,     // logged in
        Closed,    // the login failed: the server closes, nothing more is read
    };

    struct Text
    {
        std::string text;
        bool cut = false;
    };
    using TextPtr = std::shared_ptr<const Text>;

    // A client message awaiting the server's answer. CopyEnd is the client's CopyDone or
    // CopyFail, queued until a CopyInResponse shows which COPY it ends (or that none did).
    enum class Awaits : quint8 {
        Query,
        Parse,
        Bind,
        Describe,
        Execute,
        Close,
        Sync,
        Function,
        CopyEnd
    };

    // Small whatever the message: names are cut to kMaxName, texts are shared.
    struct Pending
    {
        Awaits what = Awaits::Query;
        char object = 0;       // Describe, Close: 'S' (statement) or 'P' (portal)
        std::string name;      // Parse, Describe, Close: statement; Bind, Execute: portal
        std::string statement; // Bind: the statement it binds
        TextPtr text;          // Query, Parse: its text; Execute: its statement's, as resolved
        quint32 textBytes = 0; // of text, counted in m_queuedText: not when shared with a Parse
        qint64 startUs = 0;
    };

    struct Reader
    {
        unsigned char header[5] = {};
        std::size_t headerHave = 0;
        std::size_t headerSize = 5; // 4 for the untyped startup packet
        char type = 0;
        quint32 bodyLen = 0;
        quint32 bodySeen = 0;
        qint64 startUs = 0;
        std::string kept; // a prefix of the body (or its NUL-ended fields, see Fields)
        std::size_t keep = 0;
    };

    // Up to two NUL-ended strings at the start of a client message body, each cut to its cap
    // while its full length is still counted.
    struct Fields
    {
        int count = 0;
        int current = 0;
        std::string value[2];
        std::size_t cap[2] = {};
        std::size_t length[2] = {};
    };

    bool clientHeader();
    void clientBody(const char* data, std::size_t n);
    void clientMessage();
    void startupPacket();
    bool serverHeader();
    void serverMessage(qint64 nowUs);
    void loginMessage();
    void readyMessage(qint64 nowUs);

    void enqueue(Pending p);
    void dropFront();
    void popHead();
    void headChanged();
    void finishHead(qint64 nowUs);
    void extendedError(qint64 nowUs);
    void copyInStarted();
    void readyForQuery(char status);
    void commandCompleted(std::string_view tag);
    PgCommandDone commandOf(const Pending& p) const;
    void resolveExecute(Pending& p, std::size_t before) const;
    TextPtr statementNamed(const std::string& name) const;
    TextPtr portalNamed(const std::string& name) const;
    void remember(std::map<std::string, TextPtr>& names, TextPtr& unnamed, const std::string& name,
                  TextPtr text);
    void forgetPortals();
    void recordError(PgCommandDone& done) const;
    void loseTrack(const char* why);

    Phase m_phase = Phase::Startup;
    bool m_lost = false;
    std::string m_why;
    bool m_tlsRequested = false;
    bool m_tlsAccepted = false;
    bool m_gssRequested = false;
    bool m_gssAccepted = false;
    bool m_cancel = false;
    int m_protocolMinor = 0;
    std::string m_user;
    std::string m_database;
    std::string m_applicationName;
    LoginState m_loginState = LoginState::Pending;
    bool m_authenticated = false;
    std::string m_loginSqlState;
    std::string m_loginError;
    std::string m_serverVersion;
    char m_transactionStatus = 0;

    Reader m_client;
    Fields m_fields;
    bool m_skipUntilSync = false; // the server is skipping the client's messages after an error
    bool m_terminated = false;
    bool m_copyIn = false; // the client is sending CopyData: its Sync and Flush are not answered
    TextPtr m_lastParse;   // shared by the next Parse of the same text (a batch repeats it)

    Reader m_server;
    bool m_copyOut = false; // the server is sending CopyData

    std::deque<Pending> m_queue;
    std::size_t m_commands = 0;    // Query, Execute and Function entries in m_queue
    std::size_t m_queuedText = 0;  // bytes of the Query and Parse texts in m_queue
    PgCommandDone m_current;       // the head's command as it will be reported, when it is one
    mutable PgCommandDone m_later; // what running() returns when that command is not the head

    std::map<std::string, TextPtr> m_statements;
    std::map<std::string, TextPtr> m_portals;
    TextPtr m_unnamedStatement;
    TextPtr m_unnamedPortal;

    std::vector<PgCommandDone> m_done;
};

} // namespace sg
