#pragma once
// MySqlInspector watches the first packets of a proxied connection and learns who is talking
// to a MySQL/MariaDB server: the server greeting (protocol 10), the client's
// HandshakeResponse41 or SSLRequest, the login result, and optionally the command types that
// follow. It is a pure, incremental parser fed the bytes the relay already has in hand:
// it never alters or holds back a byte, buffers at most kMaxBufferedPacket bytes per
// direction and only during the handshake, and gives up for good on anything that is not
// MySQL. Not thread-safe: one inspector belongs to one session on one worker.
//
// In the relay: after each read from a side, while wantsBytes(direction), call feed() with the
// bytes just read and before writing them on; when wantsBytes() turns false that direction
// may go back to splice. With command counting on, the client direction keeps wanting bytes:
// a splice relay can recv(MSG_PEEK) the next few bytes, feed() them, splice exactly those
// plus up to skippable() more, and report the extra with skip(). Copy info() into
// ConnectionInfo::mysql for snapshots; once active() is false the inspector holds no buffer and can
// be dropped.

#include "stats/snapshot.h"

#include <QtGlobal>
#include <cstddef>
#include <string>

namespace sg {

class MySqlInspector
{
public:
    enum class Direction : quint8 { ClientToServer, ServerToClient };
    enum class Login : quint8 { Unknown, Succeeded, Failed };

    // Handshake packets larger than this are not a MySQL greeting; a client handshake that
    // is larger (many connection attributes) is parsed from its first kMaxBufferedPacket bytes.
    static constexpr std::size_t kMaxBufferedPacket = 4096;
    // Authentication round trips (auth switch, "more data") followed before giving up on the
    // login result.
    static constexpr int kMaxAuthPackets = 16;

    // countCommands: after the login, keep reading the client's packet headers (4 bytes and
    // the command byte of each packet; payloads are skipped, not copied) to count commands.
    explicit MySqlInspector(bool countCommands = false);

    // Feeds bytes exactly as they were read from one side, before they are written to the
    // other. nowMs stamps the last command. Cheap to call when wantsBytes(direction) is false
    // (returns at once), so a relay may call it unconditionally.
    void feed(Direction direction, const char* data, std::size_t len, qint64 nowMs);

    // False once this direction needs no more bytes: the relay may stop calling feed() for it
    // and switch that direction to a zero-copy path (splice).
    bool wantsBytes(Direction direction) const;
    // False once both directions are done: the inspector can be dropped (info() copied out).
    bool active() const;

    // For a relay that moves payloads without seeing them (splice): how many bytes of the
    // current client packet's payload the inspector does not need, and a way to account for
    // them having passed. skip(n) with n > skippable() stops command counting (the inspector
    // would lose track of packet boundaries).
    std::size_t skippable(Direction direction) const;
    void skip(Direction direction, std::size_t n);

    const MySqlInfo& info() const { return m_info; }
    bool notMySql() const { return m_notMySql; }
    Login login() const { return m_login; }
    QString loginError() const { return m_loginError; } // the server's ERR message, if any
    quint16 loginErrorCode() const { return m_loginErrorCode; }
    quint64 serverCapabilities() const
    {
        return m_serverCaps;
    } // incl. MariaDB's extended bits (<< 32)
    quint64 clientCapabilities() const { return m_clientCaps; }
    bool handshakeParsed() const { return m_handshakeParsed; }

    // "COM_QUERY", "COM_STMT_EXECUTE", ...; "COM_UNKNOWN_0xNN" for bytes no server defines.
    static QString commandName(quint8 command);

private:
    enum class Stage : quint8 {
        Greeting,   // server: waiting for the protocol 10 greeting; client: must stay silent
        Handshake,  // client: waiting for HandshakeResponse41 / SSLRequest
        AuthResult, // server: following OK / ERR / auth switch after the handshake
        Commands,   // client: counting command packets
        Done,
    };

    struct PacketReader
    {
        unsigned char header[4] = {};
        std::size_t headerHave = 0;
        quint32 payloadLen = 0;
        quint8 seq = 0;
        std::size_t payloadSeen = 0; // payload bytes consumed (kept or skipped)
        std::string payload;         // kept bytes, at most keep limit
        std::size_t keepLimit = 0;   // how many payload bytes to keep for this packet

        void resetPacket();
        bool headerComplete() const { return headerHave == 4; }
    };

    void feedServer(const char* data, std::size_t len);
    void feedClient(const char* data, std::size_t len, qint64 nowMs);
    void feedCommands(const char* data, std::size_t len, qint64 nowMs);

    // Each returns false when the bytes are not the protocol (the inspector gives up).
    bool parseGreeting(const std::string& payload);
    bool parseHandshakeResponse(const std::string& payload, bool truncated);
    void handleAuthPacket(const PacketReader& packet);

    void giveUp(); // not MySQL: stop both directions, clear what was learned
    void finishServer();
    void finishClient();

    PacketReader m_server;
    PacketReader m_client;
    Stage m_serverStage = Stage::Greeting;
    Stage m_clientStage = Stage::Greeting;
    bool m_countCommands = false;
    bool m_notMySql = false;
    bool m_handshakeParsed = false;
    bool m_continuation = false; // the previous command packet was 0xFFFFFF bytes long
    Login m_login = Login::Unknown;
    int m_authPackets = 0;
    quint16 m_loginErrorCode = 0;
    quint64 m_serverCaps = 0;
    quint64 m_clientCaps = 0;
    QString m_loginError;
    MySqlInfo m_info;
};

} // namespace sg
