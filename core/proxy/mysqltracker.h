#pragma once
// MySqlCommandTracker follows a MySQL/MariaDB connection after a successful login: which
// command the client sent, how the server answered it (OK, ERR, result sets, prepared statement
// metadata) and how long that took. It is a pure, incremental parser fed the bytes of each
// direction exactly as read, in any pieces; it never alters a byte. Memory is bounded whatever
// the traffic: a small prefix of each server packet, at most kMaxStatement bytes of a client
// statement, kMaxPending commands awaiting an answer and kMaxPrepared remembered statements.
// Rows and column definitions are counted by their packet lengths only.
//
// It gives up for good (lost()) on what it cannot follow: the compressed protocol, replication
// (binlog dump, register slave), command bytes no server defines, more than kMaxPending
// commands in flight, and bytes that are not the protocol. COM_QUIT is reported like the
// other commands that get no answer (duration 0). The schema is followed through COM_INIT_DB,
// a COM_QUERY that is a lone `USE name` and COM_CHANGE_USER; a schema changed any other way
// (inside a multi-statement, a stored procedure, session state tracking) is not seen.
// Not thread-safe: one tracker belongs to one session.

#include <QtGlobal>
#include <cstddef>
#include <deque>
#include <map>
#include <string>
#include <vector>

namespace sg {

struct MySqlCommandDone
{
    quint8 command = 0; // COM_QUERY = 0x03, ...
    // COM_QUERY / COM_STMT_PREPARE text; COM_STMT_EXECUTE: the prepared text of its statement
    // id ("" if unknown); COM_INIT_DB: the schema name; otherwise "".
    std::string statement;
    bool statementCut = false; // only the first kMaxStatement bytes were kept
    std::string schema;        // the schema in effect when the server ran the command
    qint64 startUs = 0;        // time passed to feedClient() with the command's first byte
    qint64 durationUs = 0;     // until the feedServer() call that completed its response
    quint64 rowsSent = 0;      // result-set rows, over all result sets of the response
    quint64 rowsAffected = 0;  // sum of affected_rows of its OK packets
    quint16 errorCode = 0;     // ERR packet's code, 0 when none
    std::string sqlState;      // 5 chars when the ERR had one
    std::string errorMessage;  // ERR message, at most kMaxErrorMessage bytes

    friend bool operator==(const MySqlCommandDone&, const MySqlCommandDone&) = default;
};

class MySqlCommandTracker
{
public:
    static constexpr std::size_t kMaxStatement = 4096;
    static constexpr std::size_t kMaxPending = 64;    // sent, not yet answered; more: lost()
    static constexpr std::size_t kMaxPrepared = 1024; // statement ids remembered
    static constexpr std::size_t kMaxErrorMessage = 512;
    static constexpr std::size_t kMaxServerPrefix = 64; // kept of each server packet but ERR

    // capabilities: the flags each side sent in the handshake (MySqlInspector's
    // clientCapabilities()/serverCapabilities()); schema: the database chosen at login.
    MySqlCommandTracker(quint64 clientCapabilities, quint64 serverCapabilities, std::string schema);

    void feedClient(const char* data, std::size_t len, qint64 nowUs);
    void feedServer(const char* data, std::size_t len, qint64 nowUs);

    // Completed commands since the last call, in the order they completed.
    std::vector<MySqlCommandDone> takeDone();
    // The command waiting longest for its response (command, statement, schema, startUs), or
    // nullptr when none is.
    const MySqlCommandDone* running() const;
    std::size_t pending() const { return m_pending.size(); }
    // Every command read is numbered from 1 in the order the client sent it: the number of the
    // last, and of the one waiting longest for its response (0 when none waits).
    quint64 lastCommandSerial() const { return m_serial; }
    quint64 runningSerial() const { return m_pending.empty() ? 0 : m_pending.front().serial; }
    // The client is sending LOAD DATA LOCAL INFILE contents: its next packets are no commands,
    // whatever their sequence ids (they wrap round to 0 after 255).
    bool infile() const { return m_infile; }
    // The text prepared under statement id `id` (as COM_STMT_EXECUTE names it), or "".
    std::string preparedStatement(quint32 id) const;

    bool lost() const { return m_lost; }
    const std::string& why() const { return m_why; }
    const std::string& schema() const { return m_schema; }

private:
    // What the head command's response is expected to bring next.
    enum class Await : quint8 {
        First,         // OK / ERR / LOCAL INFILE request / column count
        ColumnDefs,    // m_left column definitions
        ColumnsEof,    // EOF after the column definitions
        Rows,          // rows until EOF / OK(0xFE) / ERR
        PrepareParams, // m_left parameter definitions
        PrepareParamsEof,
        PrepareColumns, // m_left column definitions
        PrepareColumnsEof,
        FieldList,        // column definitions until EOF / ERR
        InfileResult,     // OK / ERR after the client sent the file
        ChangeUserResult, // OK / ERR / auth switch / more data
        Statistics,       // one string packet
    };

    struct Reader
    {
        unsigned char header[4] = {};
        std::size_t headerHave = 0;
        quint32 payloadLen = 0;
        quint8 seq = 0;
        quint32 payloadSeen = 0;
        bool continuation = false; // this packet continues a logical packet of 0xFFFFFF+ bytes
        quint64 logicalLen = 0;    // bytes of the current logical packet so far
    };

    enum class ClientPacket : quint8 { Command, InfileData, AuthData };

    struct Pending
    {
        MySqlCommandDone done;
        std::string newSchema; // COM_CHANGE_USER: the database it asks for
        bool newSchemaKnown = false;
        quint64 serial = 0;
    };

    void clientPacketHeader();
    void clientPacketEnd();
    void commandComplete();
    void serverPacketEnd(qint64 nowUs);
    void startResponse();
    void finish(qint64 nowUs);
    bool parseOk(quint64& affected, quint16& status) const;
    quint16 eofStatus() const;
    void recordError(MySqlCommandDone& done) const;
    void emitNoResponse(MySqlCommandDone done);
    void loseTrack(const char* why);

    bool m_deprecateEof = false;
    bool m_protocol41 = false;
    bool m_secureConnection = false;
    bool m_cacheMetadata = false; // MariaDB may leave out known column definitions
    bool m_lost = false;
    std::string m_why;
    std::string m_schema;

    Reader m_client;
    ClientPacket m_clientPacket = ClientPacket::Command;
    std::string m_command; // kept bytes of the current command's payload (command byte first)
    std::size_t m_commandKeep = 0;
    qint64 m_commandStartUs = 0;
    bool m_infile = false; // the client is sending LOAD DATA LOCAL file contents

    Reader m_server;
    std::string m_packet; // kept prefix of the current server logical packet
    std::size_t m_packetKeep = 0;

    std::deque<Pending> m_pending;
    Await m_await = Await::First;
    quint64 m_left = 0;
    quint16 m_prepareColumns = 0;
    int m_authRounds = 0;

    quint64 m_serial = 0;
    std::map<quint32, std::string> m_prepared;
    quint32 m_lastPrepared = 0;
    bool m_anyPrepared = false;

    std::vector<MySqlCommandDone> m_done;
};

} // namespace sg
