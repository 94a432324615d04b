#include "proxy/mysqltracker.h"

#include "proxy/mysqlwire.h"

#include <algorithm>
#include <cstring>

namespace sg {

using namespace mysqlwire;

namespace {

constexpr quint16 kMoreResultsExist = 0x0008;
constexpr quint16 kCursorExists = 0x0040;

constexpr std::size_t kErrKeep = 9 + MySqlCommandTracker::kMaxErrorMessage;
constexpr std::size_t kChangeUserKeep = 1024;
constexpr int kMaxAuthRounds = 16;
constexpr quint32 kLastPreparedId = 0xFFFFFFFF; // MariaDB: "the statement just prepared"

enum Command : quint8 {
    ComSleep = 0x00,
    ComQuit = 0x01,
    ComInitDb = 0x02,
    ComQuery = 0x03,
    ComFieldList = 0x04,
    ComCreateDb = 0x05,
    ComDropDb = 0x06,
    ComRefresh = 0x07,
    ComShutdown = 0x08,
    ComStatistics = 0x09,
    ComProcessInfo = 0x0A,
    ComProcessKill = 0x0C,
    ComDebug = 0x0D,
    ComPing = 0x0E,
    ComChangeUser = 0x11,
    ComStmtPrepare = 0x16,
    ComStmtExecute = 0x17,
    ComStmtSendLongData = 0x18,
    ComStmtClose = 0x19,
    ComStmtReset = 0x1A,
    ComSetOption = 0x1B,
    ComStmtFetch = 0x1C,
    ComResetConnection = 0x1F,
    ComStmtBulkExecute = 0xFA, // MariaDB
};

// Consumes header bytes; true once the header is complete.
bool takeHeader(auto& r, const char*& data, std::size_t& len)
{
    const std::size_t n = std::min(len, std::size_t(4) - r.headerHave);
    std::memcpy(r.header + r.headerHave, data, n);
    r.headerHave += n;
    data += n;
    len -= n;
    if (r.headerHave < 4)
        return false;
    r.payloadLen = quint32(r.header[0]) | quint32(r.header[1]) << 8 | quint32(r.header[2]) << 16;
    r.seq = r.header[3];
    r.payloadSeen = 0;
    if (!r.continuation)
        r.logicalLen = 0;
    return true;
}

// The schema named by a statement that is only `USE name` (name plain or `quoted`), else false.
bool parseUse(const std::string& s, std::string& schema)
{
    std::size_t i = 0;
    while (i < s.size() && isSpace(s[i]))
        ++i;
    if (s.size() - i < 4 || (s[i] | 0x20) != 'u' || (s[i + 1] | 0x20) != 's' ||
        (s[i + 2] | 0x20) != 'e' || !isSpace(s[i + 3]))
        return false;
    i += 4;
    while (i < s.size() && isSpace(s[i]))
        ++i;
    std::string name;
    if (i < s.size() && s[i] == '`') {
        ++i;
        for (;;) {
            if (i >= s.size())
                return false;
            if (s[i] == '`') {
                if (i + 1 < s.size() && s[i + 1] == '`') {
                    name += '`';
                    i += 2;
                    continue;
                }
                ++i;
                break;
            }
            name += s[i++];
        }
    } else {
        while (i < s.size() && !isSpace(s[i]) && s[i] != ';')
            name += s[i++];
    }
    while (i < s.size() && (isSpace(s[i]) || s[i] == ';'))
        ++i;
    if (i != s.size() || name.empty())
        return false;
    schema = std::move(name);
    return true;
}

} // namespace

MySqlCommandTracker::MySqlCommandTracker(quint64 clientCapabilities, quint64 serverCapabilities,
                                         std::string schema)
    : m_schema(std::move(schema))
{
    const quint64 agreed = clientCapabilities & serverCapabilities;
    m_deprecateEof = agreed & kClientDeprecateEof;
    m_protocol41 = agreed & kClientProtocol41;
    m_secureConnection = agreed & kClientSecureConnection;
    m_cacheMetadata = agreed & kMariaDbCacheMetadata;
    if (agreed & kClientCompress)
        loseTrack("compressed protocol");
}

std::vector<MySqlCommandDone> MySqlCommandTracker::takeDone()
{
    std::vector<MySqlCommandDone> out;
    out.swap(m_done);
    return out;
}

const MySqlCommandDone* MySqlCommandTracker::running() const
{
    return m_pending.empty() ? nullptr : &m_pending.front().done;
}

std::string MySqlCommandTracker::preparedStatement(quint32 id) const
{
    if (id == kLastPreparedId && m_anyPrepared)
        id = m_lastPrepared;
    const auto it = m_prepared.find(id);
    return it != m_prepared.end() ? it->second : std::string();
}

void MySqlCommandTracker::loseTrack(const char* why)
{
    m_lost = true;
    m_why = why;
    m_pending.clear();
    m_pending.shrink_to_fit();
    m_prepared.clear();
    std::string().swap(m_command);
    std::string().swap(m_packet);
}

// ---- client -> server ----

void MySqlCommandTracker::feedClient(const char* data, std::size_t len, qint64 nowUs)
{
    Reader& r = m_client;
    while (len > 0 && !m_lost) {
        if (r.headerHave < 4) {
            if (r.headerHave == 0 && !r.continuation && !m_infile)
                m_commandStartUs = nowUs;
            if (!takeHeader(r, data, len))
                return;
            clientPacketHeader();
            if (m_lost)
                return;
        }
        const std::size_t n = std::min<std::size_t>(len, r.payloadLen - r.payloadSeen);
        if (m_clientPacket == ClientPacket::Command && n > 0) {
            if (r.logicalLen == 0)
                m_commandKeep = 1; // the command byte; widened below once it is known
            if (m_command.size() < m_commandKeep)
                m_command.append(data, std::min(n, m_commandKeep - m_command.size()));
            if (r.logicalLen == 0) {
                switch (byteAt(m_command, 0)) {
                case ComQuery:
                case ComStmtPrepare:
                case ComInitDb:
                    m_commandKeep = 1 + kMaxStatement;
                    break;
                case ComStmtExecute:
                case ComStmtClose:
                case ComStmtFetch:
                case ComStmtReset:
                case ComStmtSendLongData:
                    m_commandKeep = 5; // command byte and statement id
                    break;
                case ComChangeUser:
                    m_commandKeep = kChangeUserKeep;
                    break;
                default:
                    break;
                }
                m_command.reserve(std::min<std::size_t>(m_commandKeep, r.payloadLen));
                if (m_command.size() < m_commandKeep && n > 1)
                    m_command.append(data + 1, std::min(n - 1, m_commandKeep - m_command.size()));
            }
        }
        r.payloadSeen += quint32(n);
        r.logicalLen += n;
        data += n;
        len -= n;
        if (r.payloadSeen == r.payloadLen)
            clientPacketEnd();
    }
}

void MySqlCommandTracker::clientPacketHeader()
{
    const Reader& r = m_client;
    if (r.continuation)
        return; // the rest of the logical packet before: same kind
    if (m_infile) {
        m_clientPacket = ClientPacket::InfileData;
        return;
    }
    if (r.seq == 0) {
        if (r.payloadLen == 0) {
            loseTrack("empty command packet");
            return;
        }
        m_clientPacket = ClientPacket::Command;
        m_command.clear();
        return;
    }
    // Only an authentication exchange in COM_CHANGE_USER continues a sequence from the client.
    if (!m_pending.empty() && m_await == Await::ChangeUserResult && m_pending.size() == 1) {
        m_clientPacket = ClientPacket::AuthData;
        return;
    }
    loseTrack("client packet out of sequence");
}

void MySqlCommandTracker::clientPacketEnd()
{
    Reader& r = m_client;
    r.headerHave = 0;
    r.continuation = r.payloadLen == kMaxPayload;
    if (r.continuation)
        return;
    if (m_clientPacket == ClientPacket::Command)
        commandComplete();
    else if (m_clientPacket == ClientPacket::InfileData && r.logicalLen == 0)
        m_infile = false; // the empty packet that ends the file
}

void MySqlCommandTracker::emitNoResponse(MySqlCommandDone done)
{
    done.schema = m_schema;
    m_done.push_back(std::move(done));
}

void MySqlCommandTracker::commandComplete()
{
    const quint8 command = byteAt(m_command, 0);
    Pending p;
    p.serial = ++m_serial;
    p.done.command = command;
    p.done.startUs = m_commandStartUs;
    const quint64 argLen = m_client.logicalLen - 1;
    const quint32 stmtId = m_command.size() >= 5 ? le32(m_command, 1) : 0;

    switch (command) {
    case ComQuery:
    case ComStmtPrepare:
    case ComInitDb:
        p.done.statement.assign(m_command, 1);
        p.done.statementCut = argLen > kMaxStatement;
        break;
    case ComStmtExecute:
        p.done.statement = preparedStatement(stmtId);
        break;
    case ComQuit:
    case ComStmtSendLongData:
        emitNoResponse(std::move(p.done));
        return;
    case ComStmtClose:
        m_prepared.erase(stmtId);
        emitNoResponse(std::move(p.done));
        return;
    case ComChangeUser: {
        // user NUL, auth data (1-byte length with CLIENT_SECURE_CONNECTION, else NUL-ended),
        // database NUL, then charset and plugin we do not need.
        const std::string& c = m_command;
        std::size_t pos = c.find('\0', 1);
        if (pos != std::string::npos) {
            ++pos;
            if (m_secureConnection) {
                if (pos < c.size())
                    pos += 1 + byteAt(c, pos);
                else
                    pos = std::string::npos;
            } else {
                pos = c.find('\0', pos);
                if (pos != std::string::npos)
                    ++pos;
            }
        }
        if (pos != std::string::npos && pos <= c.size()) {
            const std::size_t end = c.find('\0', pos);
            if (end != std::string::npos) {
                p.newSchema.assign(c, pos, end - pos);
                p.newSchemaKnown = true;
            } else if (pos == c.size() && argLen + 1 == c.size()) {
                p.newSchemaKnown = true; // an old client that stops before the database
            }
        }
        break;
    }
    case ComSleep:
    case ComFieldList:
    case ComCreateDb:
    case ComDropDb:
    case ComRefresh:
    case ComShutdown:
    case ComStatistics:
    case ComProcessInfo:
    case ComProcessKill:
    case ComDebug:
    case ComPing:
    case ComStmtReset:
    case ComSetOption:
    case ComStmtFetch:
    case ComResetConnection:
    case ComStmtBulkExecute:
        break;
    case 0x12:
        loseTrack("binlog dump");
        return;
    case 0x1E:
        loseTrack("binlog dump");
        return;
    case 0x15:
        loseTrack("replica registration");
        return;
    default:
        loseTrack("unknown command");
        return;
    }
    std::string().swap(m_command); // a long statement's buffer is not kept between commands
    if (m_pending.size() >= kMaxPending) {
        loseTrack("too many commands in flight");
        return;
    }
    m_pending.push_back(std::move(p));
    if (m_pending.size() == 1)
        startResponse();
}

// ---- server -> client ----

void MySqlCommandTracker::feedServer(const char* data, std::size_t len, qint64 nowUs)
{
    Reader& r = m_server;
    while (len > 0 && !m_lost) {
        if (r.headerHave < 4) {
            if (!takeHeader(r, data, len))
                return;
            if (!r.continuation) {
                m_packet.clear();
                m_packetKeep = kMaxServerPrefix;
                // Unasked, a server may only say why it closes (a short ERR packet).
                if (m_pending.empty() && (r.payloadLen == 0 || r.payloadLen > kErrKeep)) {
                    loseTrack("server packet nobody asked for");
                    return;
                }
            }
        }
        const std::size_t n = std::min<std::size_t>(len, r.payloadLen - r.payloadSeen);
        if (!r.continuation && n > 0) {
            if (r.payloadSeen == 0 && m_pending.empty() && static_cast<quint8>(data[0]) != 0xFF) {
                loseTrack("server packet nobody asked for");
                return;
            }
            if (r.payloadSeen == 0 && static_cast<quint8>(data[0]) == 0xFF)
                m_packetKeep = kErrKeep;
            if (m_packet.size() < m_packetKeep)
                m_packet.append(data, std::min(n, m_packetKeep - m_packet.size()));
        }
        r.payloadSeen += quint32(n);
        r.logicalLen += n;
        data += n;
        len -= n;
        if (r.payloadSeen == r.payloadLen) {
            r.headerHave = 0;
            const bool more = r.payloadLen == kMaxPayload;
            if (!more)
                serverPacketEnd(nowUs);
            r.continuation = more;
        }
    }
}

void MySqlCommandTracker::startResponse()
{
    Pending& head = m_pending.front();
    head.done.schema = m_schema;
    m_left = 0;
    m_prepareColumns = 0;
    m_authRounds = 0;
    switch (head.done.command) {
    case ComFieldList:
        m_await = Await::FieldList;
        break;
    case ComStatistics:
        m_await = Await::Statistics;
        break;
    case ComStmtFetch:
        m_await = Await::Rows;
        break;
    case ComChangeUser:
        m_await = Await::ChangeUserResult;
        break;
    default:
        m_await = Await::First;
        break;
    }
}

bool MySqlCommandTracker::parseOk(quint64& affected, quint16& status) const
{
    std::size_t pos = 1;
    quint64 insertId = 0;
    if (!readLenenc(m_packet, pos, affected) || !readLenenc(m_packet, pos, insertId))
        return false;
    status = pos + 2 <= m_packet.size() ? quint16(le16(m_packet, pos)) : 0;
    return true;
}

quint16 MySqlCommandTracker::eofStatus() const
{
    return m_packet.size() >= 5 ? quint16(le16(m_packet, 3)) : 0;
}

void MySqlCommandTracker::recordError(MySqlCommandDone& done) const
{
    const std::string& p = m_packet;
    if (p.size() < 3) {
        done.errorCode = 0xFFFF; // an ERR too short to carry its code
        return;
    }
    done.errorCode = quint16(le16(p, 1));
    std::size_t msg = 3;
    if (m_protocol41 && p.size() >= 9 && p[3] == '#') {
        done.sqlState.assign(p, 4, 5);
        msg = 9;
    }
    done.errorMessage.assign(p, msg, kMaxErrorMessage);
}

void MySqlCommandTracker::finish(qint64 nowUs)
{
    Pending head = std::move(m_pending.front());
    m_pending.pop_front();
    MySqlCommandDone& done = head.done;
    done.durationUs = nowUs - done.startUs;
    if (done.errorCode == 0) {
        switch (done.command) {
        case ComInitDb:
            if (!done.statementCut)
                m_schema = done.statement;
            break;
        case ComQuery:
            if (!done.statementCut)
                parseUse(done.statement, m_schema);
            break;
        case ComChangeUser:
            if (head.newSchemaKnown)
                m_schema = head.newSchema;
            m_prepared.clear();
            m_anyPrepared = false;
            break;
        case ComResetConnection:
            m_prepared.clear();
            m_anyPrepared = false;
            break;
        default:
            break;
        }
    }
    m_done.push_back(std::move(done));
    if (!m_pending.empty())
        startResponse();
}

void MySqlCommandTracker::serverPacketEnd(qint64 nowUs)
{
    if (m_pending.empty()) {
        // A server about to close may tell an idle client why (shutdown, killed connection).
        if (!m_packet.empty() && byteAt(m_packet, 0) == 0xFF)
            return;
        loseTrack("server packet nobody asked for");
        return;
    }
    Pending& head = m_pending.front();
    MySqlCommandDone& done = head.done;
    const quint64 len = m_server.logicalLen;
    const quint8 first = m_packet.empty() ? 0 : byteAt(m_packet, 0);
    const bool eof = first == 0xFE && len < 9;
    // The end of rows: EOF, or with CLIENT_DEPRECATE_EOF an OK packet with header 0xFE (a text
    // row starting with 0xFE announces a value of 16 MiB or more, so is never this short).
    const bool terminator = first == 0xFE && (m_deprecateEof ? len < kMaxPayload : len < 9);

    auto okPacket = [&] {
        quint64 affected = 0;
        quint16 status = 0;
        if (!parseOk(affected, status)) {
            loseTrack("malformed OK packet");
            return;
        }
        done.rowsAffected += affected;
        if (status & kMoreResultsExist)
            m_await = Await::First;
        else
            finish(nowUs);
    };
    auto errPacket = [&] {
        recordError(done);
        finish(nowUs);
    };
    auto rowsEnd = [&] {
        quint16 status = 0;
        if (m_deprecateEof) {
            quint64 affected = 0;
            if (!parseOk(affected, status)) {
                loseTrack("malformed OK packet");
                return;
            }
            done.rowsAffected += affected;
        } else {
            status = eofStatus();
        }
        if (status & kMoreResultsExist)
            m_await = Await::First;
        else
            finish(nowUs);
    };
    auto prepareDone = [&] {
        if (m_prepareColumns > 0) {
            m_left = m_prepareColumns;
            m_await = Await::PrepareColumns;
        } else {
            finish(nowUs);
        }
    };

    switch (m_await) {
    case Await::First:
        if (len == 0) {
            loseTrack("empty response packet");
            return;
        }
        if (first == 0xFF) {
            errPacket();
            return;
        }
        if (done.command == ComStmtPrepare) {
            if (first != 0x00 || m_packet.size() < 9) {
                loseTrack("malformed prepare response");
                return;
            }
            const quint32 id = le32(m_packet, 1);
            m_prepareColumns = quint16(le16(m_packet, 5));
            const quint16 params = quint16(le16(m_packet, 7));
            if (m_prepared.size() >= kMaxPrepared && !m_prepared.contains(id))
                m_prepared.erase(m_prepared.begin()); // ids grow: the lowest is the oldest
            m_prepared[id] = done.statement;
            m_lastPrepared = id;
            m_anyPrepared = true;
            if (params > 0) {
                m_left = params;
                m_await = Await::PrepareParams;
            } else {
                prepareDone();
            }
            return;
        }
        if (first == 0x00) {
            okPacket();
            return;
        }
        if (first == 0xFB) {
            if (done.command != ComQuery) {
                loseTrack("unexpected LOCAL INFILE request");
                return;
            }
            m_infile = true;
            m_await = Await::InfileResult;
            return;
        }
        {
            std::size_t pos = 0;
            quint64 columns = 0;
            if (!readLenenc(m_packet, pos, columns) || columns == 0 ||
                (pos != len && !(m_cacheMetadata && pos + 1 == len))) {
                loseTrack("malformed response");
                return;
            }
            // MariaDB's metadata cache: a 0 after the count says the definitions are skipped.
            if (pos + 1 == len && byteAt(m_packet, pos) == 0) {
                m_await = m_deprecateEof ? Await::Rows : Await::ColumnsEof;
                return;
            }
            m_left = columns;
            m_await = Await::ColumnDefs;
        }
        return;
    case Await::ColumnDefs:
        if (--m_left == 0)
            m_await = m_deprecateEof ? Await::Rows : Await::ColumnsEof;
        return;
    case Await::ColumnsEof:
        if (!eof) {
            loseTrack("missing EOF after column definitions");
            return;
        }
        // A cursor was opened: the rows come later, with COM_STMT_FETCH.
        if (done.command == ComStmtExecute && (eofStatus() & kCursorExists))
            finish(nowUs);
        else
            m_await = Await::Rows;
        return;
    case Await::Rows:
        if (first == 0xFF && len > 0)
            errPacket();
        else if (terminator)
            rowsEnd();
        else
            ++done.rowsSent;
        return;
    case Await::PrepareParams:
        if (--m_left == 0) {
            if (m_deprecateEof)
                prepareDone();
            else
                m_await = Await::PrepareParamsEof;
        }
        return;
    case Await::PrepareParamsEof:
        if (!eof) {
            loseTrack("missing EOF after parameter definitions");
            return;
        }
        prepareDone();
        return;
    case Await::PrepareColumns:
        if (--m_left == 0) {
            if (m_deprecateEof)
                finish(nowUs);
            else
                m_await = Await::PrepareColumnsEof;
        }
        return;
    case Await::PrepareColumnsEof:
        if (!eof) {
            loseTrack("missing EOF after column definitions");
            return;
        }
        finish(nowUs);
        return;
    case Await::FieldList:
        if (first == 0xFF && len > 0)
            errPacket();
        else if (terminator)
            finish(nowUs);
        return;
    case Await::InfileResult:
        if (first == 0x00 && len > 0)
            okPacket();
        else if (first == 0xFF && len > 0)
            errPacket();
        else
            loseTrack("malformed LOCAL INFILE result");
        return;
    case Await::ChangeUserResult:
        if (len > 0 && first == 0x00) {
            finish(nowUs);
        } else if (len > 0 && first == 0xFF) {
            errPacket();
        } else if (len > 0 && (first == 0xFE || first == 0x01) &&
                   ++m_authRounds <= kMaxAuthRounds) {
            return; // auth switch or more data: the client answers, the server decides
        } else {
            loseTrack("unfollowed COM_CHANGE_USER exchange");
        }
        return;
    case Await::Statistics:
        finish(nowUs);
        return;
    }
}

} // namespace sg
