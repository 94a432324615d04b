#include "proxy/mysqlinspector.h"

#include "proxy/mysqlwire.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace sg {

using namespace mysqlwire;

namespace {

constexpr quint8 kProtocolVersion10 = 10;
constexpr quint8 kOkPacket = 0x00;
constexpr quint8 kMoreDataPacket = 0x01;
constexpr quint8 kAuthSwitchPacket = 0xFE;
constexpr quint8 kErrPacket = 0xFF;
constexpr std::size_t kMaxServerVersion = 128;
constexpr std::size_t kMaxAuthPacketKept = 512;   // enough for an ERR packet's message
constexpr std::size_t kHandshake41FixedPart = 32; // caps, max packet, charset, 23 filler bytes
constexpr quint64 kClientMySql = 0x1; // unset by MariaDB servers/clients that send extended caps

// A NUL-terminated string starting at pos; npos when the terminator is missing.
std::size_t findNul(const std::string& s, std::size_t pos, std::size_t maxLen)
{
    if (pos > s.size())
        return std::string::npos;
    const std::size_t end = std::min(s.size(), pos + maxLen + 1);
    for (std::size_t i = pos; i < end; ++i) {
        if (s[i] == '\0')
            return i;
    }
    return std::string::npos;
}

bool printable(const std::string& s, std::size_t from, std::size_t to)
{
    for (std::size_t i = from; i < to; ++i) {
        const quint8 c = byteAt(s, i);
        if (c < 0x20 || c > 0x7E)
            return false;
    }
    return true;
}

// Consumes header bytes; returns how many were taken.
template <typename Reader> std::size_t consumeHeader(Reader& r, const char* data, std::size_t len)
{
    const std::size_t n = std::min(len, std::size_t(4) - r.headerHave);
    std::memcpy(r.header + r.headerHave, data, n);
    r.headerHave += n;
    if (r.headerHave == 4) {
        r.payloadLen =
            quint32(r.header[0]) | quint32(r.header[1]) << 8 | quint32(r.header[2]) << 16;
        r.seq = r.header[3];
        r.payloadSeen = 0;
    }
    return n;
}

// Consumes payload bytes, keeping the first keepLimit of them; returns how many were taken.
template <typename Reader> std::size_t consumePayload(Reader& r, const char* data, std::size_t len)
{
    const std::size_t n = std::min<std::size_t>(len, r.payloadLen - r.payloadSeen);
    if (r.payloadSeen < r.keepLimit) {
        const std::size_t keep = std::min(n, r.keepLimit - r.payloadSeen);
        r.payload.append(data, keep);
    }
    r.payloadSeen += n;
    return n;
}

} // namespace

void MySqlInspector::PacketReader::resetPacket()
{
    headerHave = 0;
    payloadLen = 0;
    seq = 0;
    payloadSeen = 0;
    payload.clear();
    keepLimit = 0;
}

MySqlInspector::MySqlInspector(bool countCommands) : m_countCommands(countCommands) {}

bool MySqlInspector::wantsBytes(Direction direction) const
{
    return (direction == Direction::ServerToClient ? m_serverStage : m_clientStage) != Stage::Done;
}

bool MySqlInspector::active() const
{
    return m_serverStage != Stage::Done || m_clientStage != Stage::Done;
}

void MySqlInspector::feed(Direction direction, const char* data, std::size_t len, qint64 nowMs)
{
    if (len == 0 || !wantsBytes(direction))
        return;
    if (direction == Direction::ServerToClient)
        feedServer(data, len);
    else
        feedClient(data, len, nowMs);
}

void MySqlInspector::feedServer(const char* data, std::size_t len)
{
    PacketReader& r = m_server;
    while (len > 0 && m_serverStage != Stage::Done) {
        if (!r.headerComplete()) {
            const std::size_t n = consumeHeader(r, data, len);
            data += n;
            len -= n;
            if (!r.headerComplete())
                return;
            if (m_serverStage == Stage::Greeting) {
                // A greeting is one small packet with sequence id 0; anything else is not MySQL.
                if (r.seq != 0 || r.payloadLen == 0 || r.payloadLen > kMaxBufferedPacket) {
                    giveUp();
                    return;
                }
                r.keepLimit = r.payloadLen;
            } else {
                r.keepLimit = std::min<std::size_t>(r.payloadLen, kMaxAuthPacketKept);
            }
            r.payload.reserve(r.keepLimit);
        }
        const std::size_t n = consumePayload(r, data, len);
        data += n;
        len -= n;
        if (r.payloadSeen < r.payloadLen)
            return;

        if (m_serverStage == Stage::Greeting) {
            if (!parseGreeting(r.payload)) {
                giveUp();
                return;
            }
            if (m_serverStage == Stage::Greeting)
                m_serverStage = Stage::AuthResult;
            if (m_clientStage == Stage::Greeting)
                m_clientStage = Stage::Handshake;
        } else {
            handleAuthPacket(r);
        }
        r.resetPacket();
    }
}

void MySqlInspector::feedClient(const char* data, std::size_t len, qint64 nowMs)
{
    if (m_clientStage == Stage::Greeting) {
        // A MySQL client never speaks before the server's greeting: this is another protocol.
        giveUp();
        return;
    }
    PacketReader& r = m_client;
    while (len > 0 && m_clientStage == Stage::Handshake) {
        if (!r.headerComplete()) {
            const std::size_t n = consumeHeader(r, data, len);
            data += n;
            len -= n;
            if (!r.headerComplete())
                return;
            // The answer to the greeting (sequence 0) carries sequence id 1.
            if (r.seq != 1 || r.payloadLen < 4) {
                finishClient();
                return;
            }
            r.keepLimit = std::min<std::size_t>(r.payloadLen, kMaxBufferedPacket);
            r.payload.reserve(r.keepLimit);
        }
        const std::size_t n = consumePayload(r, data, len);
        data += n;
        len -= n;
        if (r.payloadSeen < r.payloadLen)
            return;
        const bool parsed = parseHandshakeResponse(r.payload, r.payloadLen > r.keepLimit);
        r.resetPacket();
        if (m_info.tls) {
            // What follows is a TLS handshake: nothing more can be read in either direction.
            finishClient();
            finishServer();
            return;
        }
        if (!parsed || !m_countCommands || m_login == Login::Failed) {
            finishClient();
            return;
        }
        m_clientStage = Stage::Commands;
        m_info.commandsCounted = true;
        std::string().swap(r.payload);
    }
    if (len > 0 && m_clientStage == Stage::Commands)
        feedCommands(data, len, nowMs);
}

void MySqlInspector::feedCommands(const char* data, std::size_t len, qint64 nowMs)
{
    PacketReader& r = m_client;
    while (len > 0) {
        if (!r.headerComplete()) {
            const std::size_t n = consumeHeader(r, data, len);
            data += n;
            len -= n;
            if (!r.headerComplete())
                return;
            if (r.payloadLen == 0) {
                // Only the empty tail of a 16 MiB packet chain has no payload.
                m_continuation = false;
                r.headerHave = 0;
                continue;
            }
            if (len == 0)
                return;
        }
        // Every command starts a new sequence (id 0); packets with another id continue a
        // command (authentication data, LOAD DATA contents, the rest of a 16 MiB chain).
        if (r.payloadSeen == 0 && r.seq == 0 && !m_continuation) {
            const auto command = static_cast<quint8>(data[0]);
            ++m_info.commands;
            m_info.lastCommand = commandName(command);
            m_info.lastCommandMs = nowMs;
        }
        const std::size_t n = std::min<std::size_t>(len, r.payloadLen - r.payloadSeen);
        r.payloadSeen += n;
        data += n;
        len -= n;
        if (r.payloadSeen == r.payloadLen) {
            m_continuation = r.payloadLen == kMaxPayload;
            r.headerHave = 0;
        }
    }
}

std::size_t MySqlInspector::skippable(Direction direction) const
{
    if (direction != Direction::ClientToServer || m_clientStage != Stage::Commands)
        return 0;
    const PacketReader& r = m_client;
    if (!r.headerComplete())
        return 0;
    const bool needsCommandByte = r.payloadSeen == 0 && r.seq == 0 && !m_continuation;
    return needsCommandByte ? 0 : r.payloadLen - r.payloadSeen;
}

void MySqlInspector::skip(Direction direction, std::size_t n)
{
    if (n == 0 || !wantsBytes(direction))
        return;
    if (n > skippable(direction)) {
        // The bytes passed unseen cross a packet boundary: counting cannot continue.
        if (direction == Direction::ClientToServer)
            finishClient();
        else
            finishServer();
        return;
    }
    PacketReader& r = m_client;
    r.payloadSeen += n;
    if (r.payloadSeen == r.payloadLen) {
        m_continuation = r.payloadLen == kMaxPayload;
        r.headerHave = 0;
    }
}

bool MySqlInspector::parseGreeting(const std::string& p)
{
    const quint8 protocol = byteAt(p, 0);
    if (protocol == kErrPacket) {
        // The server refused before greeting (too many connections, host blocked). Only a
        // well-formed ERR packet counts: error code >= 1000 and a printable message.
        if (p.size() < 4)
            return false;
        const quint16 code = quint16(le16(p, 1));
        std::size_t msg = 3;
        if (p.size() >= 9 && p[3] == '#')
            msg = 9;
        if (code < 1000 || !printable(p, msg, p.size()))
            return false;
        m_info.detected = true;
        m_login = Login::Failed;
        m_loginErrorCode = code;
        m_loginError = QString::fromUtf8(p.data() + msg, qsizetype(p.size() - msg));
        finishServer();
        finishClient();
        return true;
    }
    if (protocol != kProtocolVersion10)
        return false;
    const std::size_t nul = findNul(p, 1, kMaxServerVersion);
    if (nul == std::string::npos || nul == 1 || !printable(p, 1, nul))
        return false;
    std::size_t pos = nul + 1;
    // connection id (4), auth data part 1 (8), filler 0x00 (1), capability flags low (2)
    if (pos + 15 > p.size() || byteAt(p, pos + 12) != 0)
        return false;
    const quint32 connectionId = le32(p, pos);
    pos += 13;
    quint64 caps = le16(p, pos);
    pos += 2;
    // charset (1), status (2), capability flags high (2), auth data length (1), reserved (10)
    if (pos + 16 <= p.size()) {
        caps |= quint64(le16(p, pos + 3)) << 16;
        if (!(caps & kClientMySql))
            caps |= quint64(le32(p, pos + 12)) << 32; // MariaDB's extended capabilities
    }
    m_serverCaps = caps;
    m_info.detected = true;
    m_info.serverVersion = QString::fromLatin1(p.data() + 1, qsizetype(nul - 1));
    // MariaDB 10+ announces "5.5.5-10.11.6-MariaDB" so that old clients and replicas do not
    // mistake it for a MySQL 1.x; its own clients strip the prefix, and so do we.
    if (m_info.serverVersion.startsWith(QLatin1String("5.5.5-")) &&
        m_info.serverVersion.contains(QLatin1String("MariaDB")))
        m_info.serverVersion.remove(0, 6);
    m_info.connectionId = connectionId;
    return true;
}

bool MySqlInspector::parseHandshakeResponse(const std::string& p, bool truncated)
{
    const quint32 caps16 = le16(p, 0);
    std::size_t pos = 0;
    quint64 caps = 0;
    if (caps16 & kClientProtocol41) {
        if (p.size() < kHandshake41FixedPart)
            return false;
        caps = le32(p, 0);
        if (!(caps & kClientMySql))
            caps |= quint64(le32(p, 28)) << 32; // MariaDB's extended capabilities
        m_clientCaps = caps;
        if (p.size() == kHandshake41FixedPart && !truncated) {
            if (!(caps & kClientSsl))
                return false;
            m_info.tls = true; // SSLRequest: the real handshake response follows inside TLS
            m_handshakeParsed = true;
            return true;
        }
        pos = kHandshake41FixedPart;
    } else {
        // HandshakeResponse320: capability flags (2), max packet size (3).
        caps = caps16;
        m_clientCaps = caps;
        if (p.size() == 5 && (caps & kClientSsl) && !truncated) {
            m_info.tls = true;
            m_handshakeParsed = true;
            return true;
        }
        pos = 5;
    }

    const std::size_t userEnd = findNul(p, pos, p.size());
    if (userEnd == std::string::npos)
        return false;
    m_info.user = QString::fromUtf8(p.data() + pos, qsizetype(userEnd - pos));
    pos = userEnd + 1;
    m_handshakeParsed = true;

    if (!(caps & kClientConnectWithDb))
        return true;
    // Skip the auth response to reach the database name.
    if (caps & kClientProtocol41) {
        quint64 authLen = 0;
        if (caps & kClientPluginAuthLenencData) {
            if (!readLenenc(p, pos, authLen))
                return true;
        } else if (caps & kClientSecureConnection) {
            if (pos >= p.size())
                return true;
            authLen = byteAt(p, pos);
            pos += 1;
        } else {
            const std::size_t end = findNul(p, pos, p.size());
            if (end == std::string::npos)
                return true;
            authLen = end + 1 - pos;
        }
        if (authLen > p.size() - pos)
            return true; // beyond what was kept: the database name is not known
        pos += std::size_t(authLen);
    } else {
        const std::size_t end = findNul(p, pos, p.size());
        if (end == std::string::npos)
            return true;
        pos = end + 1;
    }
    const std::size_t dbEnd = findNul(p, pos, p.size());
    if (dbEnd != std::string::npos)
        m_info.database = QString::fromUtf8(p.data() + pos, qsizetype(dbEnd - pos));
    return true;
}

void MySqlInspector::handleAuthPacket(const PacketReader& r)
{
    const std::string& p = r.payload;
    const quint8 first = p.empty() ? 0xFB : byteAt(p, 0);
    if (first == kOkPacket) {
        m_login = Login::Succeeded;
        finishServer();
        return;
    }
    if (first == kErrPacket) {
        m_login = Login::Failed;
        if (p.size() >= 3) {
            m_loginErrorCode = quint16(le16(p, 1));
            std::size_t msg = 3;
            if (p.size() >= 9 && p[3] == '#')
                msg = 9;
            m_loginError = QString::fromUtf8(p.data() + msg, qsizetype(p.size() - msg));
        }
        finishServer();
        // No command can follow a refused login.
        if (m_clientStage == Stage::Commands)
            finishClient();
        return;
    }
    if ((first == kAuthSwitchPacket || first == kMoreDataPacket) &&
        ++m_authPackets <= kMaxAuthPackets)
        return;
    finishServer(); // an exchange we do not follow: the login result stays unknown
}

void MySqlInspector::giveUp()
{
    m_notMySql = true;
    m_info = MySqlInfo{};
    m_login = Login::Unknown;
    m_loginError.clear();
    m_loginErrorCode = 0;
    m_serverCaps = 0;
    m_clientCaps = 0;
    m_handshakeParsed = false;
    finishServer();
    finishClient();
}

void MySqlInspector::finishServer()
{
    m_serverStage = Stage::Done;
    m_server.resetPacket();
    std::string().swap(m_server.payload);
}

void MySqlInspector::finishClient()
{
    m_clientStage = Stage::Done;
    m_client.resetPacket();
    std::string().swap(m_client.payload);
}

QString MySqlInspector::commandName(quint8 command)
{
    static constexpr std::array<const char*, 0x20> names = {
        "COM_SLEEP",
        "COM_QUIT",
        "COM_INIT_DB",
        "COM_QUERY",
        "COM_FIELD_LIST",
        "COM_CREATE_DB",
        "COM_DROP_DB",
        "COM_REFRESH",
        "COM_SHUTDOWN",
        "COM_STATISTICS",
        "COM_PROCESS_INFO",
        "COM_CONNECT",
        "COM_PROCESS_KILL",
        "COM_DEBUG",
        "COM_PING",
        "COM_TIME",
        "COM_DELAYED_INSERT",
        "COM_CHANGE_USER",
        "COM_BINLOG_DUMP",
        "COM_TABLE_DUMP",
        "COM_CONNECT_OUT",
        "COM_REGISTER_SLAVE",
        "COM_STMT_PREPARE",
        "COM_STMT_EXECUTE",
        "COM_STMT_SEND_LONG_DATA",
        "COM_STMT_CLOSE",
        "COM_STMT_RESET",
        "COM_SET_OPTION",
        "COM_STMT_FETCH",
        "COM_DAEMON",
        "COM_BINLOG_DUMP_GTID",
        "COM_RESET_CONNECTION",
    };
    // Made once: a name is then a shared copy, no allocation per command.
    static const std::array<QString, names.size()> made = [] {
        std::array<QString, names.size()> out;
        for (std::size_t i = 0; i < names.size(); ++i)
            out[i] = QString::fromLatin1(names[i]);
        return out;
    }();
    if (command < names.size())
        return made[command];
    if (command == 0xFA)
        return QStringLiteral("COM_STMT_BULK_EXECUTE"); // MariaDB
    return QStringLiteral("COM_UNKNOWN_0x") +
           QString::number(command, 16).rightJustified(2, QLatin1Char('0')).toUpper();
}

} // namespace sg
