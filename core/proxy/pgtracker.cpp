#include "proxy/pgtracker.h"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace sg {

namespace {

constexpr quint32 kSslRequestCode = 80877103;
constexpr quint32 kGssEncRequestCode = 80877104;
constexpr quint32 kCancelRequestCode = 80877102;
constexpr quint32 kMaxAuthBody = 65535 + 8;   // the server's PG_MAX_AUTH_TOKEN_LENGTH and a code
constexpr quint32 kMaxBackendKey = 256;       // protocol 3.2 lets the key grow to 256 bytes
constexpr unsigned char kTlsHandshake = 0x16; // a TLS record: direct SSL negotiation

quint32 be32(const unsigned char* p)
{
    return quint32(p[0]) << 24 | quint32(p[1]) << 16 | quint32(p[2]) << 8 | quint32(p[3]);
}

quint32 be32(const std::string& s, std::size_t i)
{
    return be32(reinterpret_cast<const unsigned char*>(s.data() + i));
}

// The NUL-ended string at pos (moved past its NUL); without a NUL, the rest and pos = npos.
std::string_view cString(const std::string& s, std::size_t& pos)
{
    if (pos >= s.size()) {
        pos = std::string::npos;
        return {};
    }
    const std::size_t end = s.find('\0', pos);
    const std::string_view out(s.data() + pos, (end == std::string::npos ? s.size() : end) - pos);
    pos = end == std::string::npos ? std::string::npos : end + 1;
    return out;
}

bool equalsLower(std::string_view s, std::string_view lower)
{
    return s.size() == lower.size() &&
           std::equal(s.begin(), s.end(), lower.begin(),
                      [](char a, char b) { return (a >= 'A' && a <= 'Z' ? a | 0x20 : a) == b; });
}

bool isNumber(std::string_view s)
{
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

quint64 toCount(std::string_view s)
{
    quint64 v = 0;
    for (char c : s) {
        const quint64 digit = quint64(c - '0');
        if (v > (~quint64(0) - digit) / 10)
            return ~quint64(0);
        v = v * 10 + digit;
    }
    return v;
}

quint64 addSaturated(quint64 a, quint64 b)
{
    return a > ~quint64(0) - b ? ~quint64(0) : a + b;
}

bool isCommand(auto what)
{
    using A = decltype(what);
    return what == A::Query || what == A::Execute || what == A::Function;
}

} // namespace

PgTracker::PgTracker() = default;

std::vector<PgCommandDone> PgTracker::takeDone()
{
    std::vector<PgCommandDone> out;
    out.swap(m_done);
    return out;
}

const PgCommandDone* PgTracker::running() const
{
    for (const Pending& p : m_queue) {
        if (isCommand(p.what))
            return &p.done;
    }
    return nullptr;
}

void PgTracker::loseTrack(const char* why)
{
    m_lost = true;
    m_why = why;
    m_queue.clear();
    m_queue.shrink_to_fit();
    m_commands = 0;
    m_statements.clear();
    m_portals.clear();
    m_unnamedStatement.reset();
    m_unnamedPortal.reset();
    std::string().swap(m_client.kept);
    std::string().swap(m_server.kept);
    m_fields = {};
}

// ---- client -> server ----

void PgTracker::feedClient(const char* data, std::size_t len, qint64 nowUs)
{
    Reader& r = m_client;
    while (!m_lost && m_phase != Phase::Closed) {
        if (r.headerHave < r.headerSize) {
            if (len == 0)
                return;
            if (m_phase == Phase::SslAnswer || m_phase == Phase::GssAnswer) {
                loseTrack("client spoke before the server answered its encryption request");
                return;
            }
            if (m_phase == Phase::Cancelled) {
                loseTrack("bytes after CancelRequest");
                return;
            }
            if (m_terminated) {
                loseTrack("client message after Terminate");
                return;
            }
            if (r.headerHave == 0) {
                r.startUs = nowUs;
                r.headerSize = m_phase == Phase::Startup ? 4 : 5;
                if (m_phase == Phase::Startup &&
                    static_cast<unsigned char>(*data) == kTlsHandshake) {
                    m_tlsRequested = true; // direct TLS, without an SSLRequest first
                    loseTrack("encrypted (TLS)");
                    return;
                }
            }
            const std::size_t n = std::min(len, r.headerSize - r.headerHave);
            std::memcpy(r.header + r.headerHave, data, n);
            r.headerHave += n;
            data += n;
            len -= n;
            if (r.headerHave < r.headerSize)
                return;
            if (!clientHeader())
                return;
        }
        const std::size_t n = std::min<std::size_t>(len, r.bodyLen - r.bodySeen);
        if (n > 0) {
            clientBody(data, n);
            r.bodySeen += quint32(n);
            data += n;
            len -= n;
        }
        if (r.bodySeen < r.bodyLen)
            return;
        r.headerHave = 0;
        clientMessage();
    }
}

bool PgTracker::clientHeader()
{
    Reader& r = m_client;
    r.bodySeen = 0;
    r.kept.clear();
    r.keep = 0;
    m_fields = {};
    if (r.headerSize == 4) {
        const quint32 length = be32(r.header);
        if (length < 8 || length > kMaxStartupPacket) {
            loseTrack(length < 8 ? "malformed startup packet" : "startup packet too long");
            return false;
        }
        r.type = 0;
        r.bodyLen = length - 4;
        r.keep = r.bodyLen;
        r.kept.reserve(r.keep);
        return true;
    }
    r.type = static_cast<char>(r.header[0]);
    const quint32 length = be32(r.header + 1);
    if (length < 4) {
        loseTrack("client message length out of range");
        return false;
    }
    r.bodyLen = length - 4;
    quint32 max = 0;
    auto fields = [this](std::size_t cap0, std::size_t cap1 = 0) {
        m_fields.count = cap1 == 0 ? 1 : 2;
        m_fields.cap[0] = cap0;
        m_fields.cap[1] = cap1;
    };
    switch (r.type) {
    case 'p':
        if (m_phase != Phase::Login) {
            loseTrack("password message after the login");
            return false;
        }
        max = kMaxAuthBody;
        break;
    case 'Q':
        max = kMaxLargeMessage;
        fields(kMaxStatement);
        break;
    case 'P':
        max = kMaxLargeMessage;
        fields(kMaxName, kMaxStatement);
        break;
    case 'B':
        max = kMaxLargeMessage;
        fields(kMaxName, kMaxName);
        break;
    case 'E':
        max = kMaxSmallMessage;
        fields(kMaxName);
        break;
    case 'D':
    case 'C':
        max = kMaxSmallMessage;
        fields(kMaxName + 1); // 'S' or 'P', then the name
        break;
    case 'F':
        max = kMaxLargeMessage;
        break;
    case 'd':
    case 'f':
    case 'c':
        if (m_phase != Phase::Ready) {
            loseTrack("copy data during the login");
            return false;
        }
        max = r.type == 'c' ? 0 : kMaxLargeMessage;
        break;
    case 'S':
    case 'H':
    case 'X':
        max = 0;
        break;
    default:
        loseTrack("unknown client message type");
        return false;
    }
    if (r.bodyLen > max) {
        loseTrack("client message length out of range");
        return false;
    }
    return true;
}

void PgTracker::clientBody(const char* data, std::size_t n)
{
    Reader& r = m_client;
    if (r.kept.size() < r.keep)
        r.kept.append(data, std::min(n, r.keep - r.kept.size()));
    Fields& f = m_fields;
    while (n > 0 && f.current < f.count) {
        const auto* nul = static_cast<const char*>(std::memchr(data, 0, n));
        const std::size_t seg = nul ? std::size_t(nul - data) : n;
        std::string& v = f.value[f.current];
        if (v.size() < f.cap[f.current])
            v.append(data, std::min(seg, f.cap[f.current] - v.size()));
        f.length[f.current] += seg;
        if (!nul)
            return;
        ++f.current;
        data += seg + 1;
        n -= seg + 1;
    }
}

void PgTracker::startupPacket()
{
    const std::string& body = m_client.kept;
    const quint32 code = be32(body, 0);
    if (code == kSslRequestCode || code == kGssEncRequestCode) {
        if (body.size() != 4) {
            loseTrack("malformed encryption request");
            return;
        }
        if (code == kSslRequestCode) {
            m_tlsRequested = true;
            m_phase = Phase::SslAnswer;
        } else {
            m_gssRequested = true;
            m_phase = Phase::GssAnswer;
        }
        return;
    }
    if (code == kCancelRequestCode) {
        if (body.size() != 12) {
            loseTrack("malformed CancelRequest");
            return;
        }
        m_cancel = true;
        m_phase = Phase::Cancelled;
        return;
    }
    if (code >> 16 != 3) {
        loseTrack("unsupported protocol version");
        return;
    }
    m_protocolMinor = int(code & 0xFFFF);
    bool hasDatabase = false;
    std::size_t pos = 4;
    for (;;) {
        const std::string_view name = cString(body, pos);
        if (pos == std::string::npos) {
            loseTrack("malformed StartupMessage");
            return;
        }
        if (name.empty())
            break;
        const std::string_view value = cString(body, pos);
        if (pos == std::string::npos) {
            loseTrack("malformed StartupMessage");
            return;
        }
        if (name == "user") {
            m_user = value;
        } else if (name == "database") {
            m_database = value;
            hasDatabase = true;
        } else if (name == "application_name") {
            m_applicationName = value;
        } else if (name == "replication" && !equalsLower(value, "false") &&
                   !equalsLower(value, "off") && !equalsLower(value, "0") &&
                   !equalsLower(value, "no")) {
            loseTrack("replication connection");
            return;
        }
    }
    if (!hasDatabase || m_database.empty())
        m_database = m_user;
    m_phase = Phase::Login;
}

void PgTracker::clientMessage()
{
    Reader& r = m_client;
    if (r.type == 0) {
        startupPacket();
        std::string().swap(r.kept);
        return;
    }
    const Fields& f = m_fields;
    auto field = [&f](int i) { return f.value[i]; };
    auto cut = [&f](int i) { return f.length[i] > f.cap[i]; };
    Pending p;
    p.startUs = r.startUs;
    p.done.startUs = r.startUs;
    switch (r.type) {
    case 'Q':
        p.what = Awaits::Query;
        p.done.kind = PgCommandKind::SimpleQuery;
        p.done.statement = field(0);
        p.done.statementCut = cut(0);
        break;
    case 'P':
        p.what = Awaits::Parse;
        p.name = field(0);
        p.text = std::make_shared<const Text>(Text{field(1), cut(1)});
        break;
    case 'B':
        p.what = Awaits::Bind;
        p.name = field(0);
        p.target = field(1);
        break;
    case 'E':
        p.what = Awaits::Execute;
        p.name = field(0);
        p.done.kind = PgCommandKind::Execute;
        p.done.portal = p.name;
        break;
    case 'D':
    case 'C': {
        const std::string& v = f.value[0];
        if (v.empty() || (v[0] != 'S' && v[0] != 'P')) {
            loseTrack(r.type == 'D' ? "malformed Describe" : "malformed Close");
            return;
        }
        p.what = r.type == 'D' ? Awaits::Describe : Awaits::Close;
        p.target = v.substr(0, 1);
        p.name = v.substr(1);
        break;
    }
    case 'S':
        p.what = Awaits::Sync;
        m_skipUntilSync = false;
        break;
    case 'F':
        p.what = Awaits::Function;
        p.done.kind = PgCommandKind::FunctionCall;
        break;
    case 'X': {
        PgCommandDone done;
        done.kind = PgCommandKind::Terminate;
        done.startUs = r.startUs;
        m_done.push_back(std::move(done));
        m_terminated = true;
        return;
    }
    default: // 'p', Flush and the client's COPY messages get no answer of their own
        return;
    }
    m_fields = {};
    if (m_skipUntilSync)
        return; // the server drops it unread: it never runs
    enqueue(std::move(p));
}

void PgTracker::enqueue(Pending p)
{
    const bool command = isCommand(p.what);
    if (command && m_commands >= kMaxPending) {
        loseTrack("too many commands in flight");
        return;
    }
    if (m_queue.size() >= kMaxQueued) {
        loseTrack("too many messages in flight");
        return;
    }
    if (p.what == Awaits::Execute)
        resolveExecute(p, false);
    m_queue.push_back(std::move(p));
    if (command)
        ++m_commands;
    if (m_queue.size() == 1)
        headChanged();
}

PgTracker::TextPtr PgTracker::statementNamed(const std::string& name) const
{
    if (name.empty())
        return m_unnamedStatement;
    const auto it = m_statements.find(name);
    return it == m_statements.end() ? nullptr : it->second;
}

PgTracker::TextPtr PgTracker::portalNamed(const std::string& name) const
{
    if (name.empty())
        return m_unnamedPortal;
    const auto it = m_portals.find(name);
    return it == m_portals.end() ? nullptr : it->second;
}

void PgTracker::remember(std::map<std::string, TextPtr>& names, TextPtr& unnamed,
                         const std::string& name, TextPtr text)
{
    if (name.empty()) {
        unnamed = std::move(text);
        return;
    }
    if (names.size() >= kMaxPrepared && !names.contains(name))
        names.erase(names.begin());
    names[name] = std::move(text);
}

// The text of the statement an Execute's portal was bound to. Queued: as it will be once the
// Parse and Bind messages sent before it are answered (for running()); confirmedOnly: as the
// server has it now, which is what it runs once the Execute reaches the head of the queue.
void PgTracker::resolveExecute(Pending& p, bool confirmedOnly) const
{
    TextPtr text;
    bool known = false;
    if (!confirmedOnly) {
        std::size_t i = m_queue.size();
        std::string statement;
        bool bound = false;
        while (i > 0 && !known) {
            const Pending& q = m_queue[--i];
            if (!bound && q.what == Awaits::Bind && q.name == p.name) {
                bound = true;
                statement = q.target;
            } else if (bound && q.what == Awaits::Parse && q.name == statement) {
                text = q.text;
                known = true;
            } else if (q.what == Awaits::Query && (bound ? statement : p.name).empty()) {
                known = true; // a simple query destroys the unnamed statement and portal
            } else if (q.what == Awaits::Close && q.target == (bound ? "S" : "P") &&
                       q.name == (bound ? statement : p.name)) {
                known = true;
            }
        }
        if (bound && !known) {
            text = statementNamed(statement);
            known = true;
        }
    }
    if (!known)
        text = portalNamed(p.name);
    if (!text && confirmedOnly)
        return; // keep what was read from the queue: the name may have been forgotten
    p.done.statement = text ? text->text : std::string();
    p.done.statementCut = text && text->cut;
}

// ---- server -> client ----

void PgTracker::feedServer(const char* data, std::size_t len, qint64 nowUs)
{
    Reader& r = m_server;
    while (!m_lost && m_phase != Phase::Closed) {
        if (r.headerHave < 5) {
            if (len == 0)
                return;
            switch (m_phase) {
            case Phase::SslAnswer:
            case Phase::GssAnswer: {
                const bool ssl = m_phase == Phase::SslAnswer;
                const char answer = *data;
                ++data;
                --len;
                if (answer == 'N') {
                    m_phase = Phase::Startup;
                    continue;
                }
                if (ssl && answer == 'S') {
                    m_tlsAccepted = true;
                    loseTrack("encrypted (TLS)");
                } else if (!ssl && answer == 'G') {
                    m_gssAccepted = true;
                    loseTrack("encrypted (GSSAPI)");
                } else {
                    loseTrack(ssl ? "unexpected answer to SSLRequest"
                                  : "unexpected answer to GSSENCRequest");
                }
                return;
            }
            case Phase::Startup:
            case Phase::Cancelled:
                loseTrack("server message nobody asked for");
                return;
            default:
                break;
            }
            const std::size_t n = std::min(len, std::size_t(5) - r.headerHave);
            std::memcpy(r.header + r.headerHave, data, n);
            r.headerHave += n;
            data += n;
            len -= n;
            if (r.headerHave < 5)
                return;
            if (!serverHeader())
                return;
        }
        const std::size_t n = std::min<std::size_t>(len, r.bodyLen - r.bodySeen);
        if (n > 0) {
            if (r.kept.size() < r.keep)
                r.kept.append(data, std::min(n, r.keep - r.kept.size()));
            r.bodySeen += quint32(n);
            data += n;
            len -= n;
        }
        if (r.bodySeen < r.bodyLen)
            return;
        r.headerHave = 0;
        serverMessage(nowUs);
    }
}

bool PgTracker::serverHeader()
{
    Reader& r = m_server;
    r.type = static_cast<char>(r.header[0]);
    const quint32 length = be32(r.header + 1);
    r.bodySeen = 0;
    r.kept.clear();
    r.keep = 0;
    if (length < 4) {
        loseTrack("server message length out of range");
        return false;
    }
    r.bodyLen = length - 4;
    quint32 min = 0;
    quint32 max = kMaxLargeMessage;
    switch (r.type) {
    case '1': // ParseComplete
    case '2': // BindComplete
    case '3': // CloseComplete
    case 'n': // NoData
    case 'I': // EmptyQueryResponse
    case 's': // PortalSuspended
    case 'c': // CopyDone
        max = 0;
        break;
    case 'Z': // ReadyForQuery
        min = max = 1;
        r.keep = 1;
        break;
    case 'K': // BackendKeyData
        min = 8;
        max = 4 + kMaxBackendKey;
        break;
    case 'R': // Authentication*
        min = 4;
        max = kMaxAuthBody;
        r.keep = 4;
        break;
    case 'v': // NegotiateProtocolVersion
        min = 8;
        r.keep = 4;
        break;
    case 'E': // ErrorResponse
        r.keep = kMaxErrorPrefix;
        break;
    case 'C': // CommandComplete
    case 'S': // ParameterStatus
        r.keep = kMaxServerPrefix;
        break;
    case 'N': // NoticeResponse
    case 'A': // NotificationResponse
    case 'D': // DataRow
    case 'T': // RowDescription
    case 't': // ParameterDescription
    case 'G': // CopyInResponse
    case 'H': // CopyOutResponse
    case 'W': // CopyBothResponse
    case 'd': // CopyData
    case 'V': // FunctionCallResponse
        break;
    default:
        loseTrack("unknown server message type");
        return false;
    }
    if (r.bodyLen < min || r.bodyLen > max) {
        loseTrack("server message length out of range");
        return false;
    }
    return true;
}

void PgTracker::serverMessage(qint64 nowUs)
{
    if (m_phase == Phase::Login)
        loginMessage();
    else
        readyMessage(nowUs);
    if (!m_lost)
        m_server.kept.clear();
}

void PgTracker::recordError(PgCommandDone& done) const
{
    if (!done.severity.empty() || !done.sqlState.empty() || !done.errorMessage.empty())
        return; // the first error is the one reported
    const std::string& k = m_server.kept;
    std::size_t pos = 0;
    while (pos < k.size() && k[pos] != '\0') {
        const char code = k[pos++];
        const std::string_view value = cString(k, pos);
        switch (code) {
        case 'S':
            if (done.severity.empty())
                done.severity = value;
            break;
        case 'V':
            done.severity = value; // not localized: preferred
            break;
        case 'C':
            if (value.size() == 5)
                done.sqlState = value;
            break;
        case 'M':
            done.errorMessage = value.substr(0, kMaxErrorMessage);
            break;
        default:
            break;
        }
    }
}

void PgTracker::loginMessage()
{
    const std::string& k = m_server.kept;
    switch (m_server.type) {
    case 'R': {
        const quint32 code = be32(k, 0);
        switch (code) {
        case 0: // AuthenticationOk
            m_authenticated = true;
            return;
        case 2:  // KerberosV5
        case 3:  // CleartextPassword
        case 5:  // MD5Password
        case 6:  // SCMCredential
        case 7:  // GSS
        case 8:  // GSSContinue
        case 9:  // SSPI
        case 10: // SASL
        case 11: // SASLContinue
        case 12: // SASLFinal
            if (!m_authenticated)
                return;
            break;
        default:
            break;
        }
        loseTrack("unexpected authentication request");
        return;
    }
    case 'v':
        m_protocolMinor =
            std::min<int>(m_protocolMinor, int(std::min<quint32>(be32(k, 0), 0xFFFF)));
        return;
    case 'S':
        break;
    case 'K':
    case 'N':
        return;
    case 'E': {
        PgCommandDone error;
        recordError(error);
        m_loginSqlState = std::move(error.sqlState);
        m_loginError = std::move(error.errorMessage);
        m_loginState = LoginState::Failed;
        m_phase = Phase::Closed; // the server closes the connection after a login error
        m_queue.clear();
        m_commands = 0;
        return;
    }
    case 'Z':
        if (!m_authenticated) {
            loseTrack("ReadyForQuery before AuthenticationOk");
            return;
        }
        m_transactionStatus = k[0];
        m_loginState = LoginState::Succeeded;
        m_phase = Phase::Ready;
        return;
    default:
        loseTrack("unexpected server message during the login");
        return;
    }
    // ParameterStatus
    std::size_t pos = 0;
    const std::string_view name = cString(k, pos);
    const std::string_view value = cString(k, pos);
    if (name == "server_version")
        m_serverVersion = value;
    else if (name == "application_name")
        m_applicationName = value;
}

void PgTracker::popHead()
{
    if (isCommand(m_queue.front().what))
        --m_commands;
    m_queue.pop_front();
    if (!m_queue.empty())
        headChanged();
}

void PgTracker::headChanged()
{
    Pending& head = m_queue.front();
    if (head.what == Awaits::Execute)
        resolveExecute(head, true);
}

void PgTracker::finishHead(qint64 nowUs)
{
    PgCommandDone& done = m_queue.front().done;
    done.durationUs = nowUs - done.startUs;
    m_done.push_back(std::move(done));
    popHead();
}

// An ErrorResponse to an extended-protocol message: the server skips all it was sent up to the
// next Sync.
void PgTracker::extendedError(qint64 nowUs)
{
    m_copyOut = false;
    std::size_t sync = 0;
    std::size_t execute = m_queue.size();
    for (; sync < m_queue.size() && m_queue[sync].what != Awaits::Sync; ++sync) {
        if (execute == m_queue.size() && m_queue[sync].what == Awaits::Execute)
            execute = sync;
    }
    if (execute < sync) {
        PgCommandDone& done = m_queue[execute].done;
        recordError(done);
        done.durationUs = nowUs - done.startUs;
        m_done.push_back(std::move(done));
    } else {
        const Pending& head = m_queue.front();
        PgCommandDone done;
        done.kind = PgCommandKind::Extended;
        done.startUs = head.startUs;
        done.durationUs = nowUs - head.startUs;
        TextPtr text;
        if (head.what == Awaits::Parse)
            text = head.text;
        else if (head.what == Awaits::Bind)
            text = statementNamed(head.target);
        else if (head.target == "S")
            text = statementNamed(head.name);
        else if (head.target == "P")
            text = portalNamed(head.name);
        if (text) {
            done.statement = text->text;
            done.statementCut = text->cut;
        }
        recordError(done);
        m_done.push_back(std::move(done));
    }
    for (std::size_t i = 0; i < sync; ++i) {
        if (isCommand(m_queue.front().what))
            --m_commands;
        m_queue.pop_front();
    }
    if (m_queue.empty())
        m_skipUntilSync = true;
}

void PgTracker::readyMessage(qint64 nowUs)
{
    const char type = m_server.type;
    const std::string& k = m_server.kept;
    switch (type) {
    case 'N':
    case 'A':
        return;
    case 'S': {
        std::size_t pos = 0;
        const std::string_view name = cString(k, pos);
        const std::string_view value = cString(k, pos);
        if (name == "server_version")
            m_serverVersion = value;
        else if (name == "application_name")
            m_applicationName = value;
        return;
    }
    case 'W':
        loseTrack("replication/copy both");
        return;
    case 'd':
        if (!m_copyOut)
            loseTrack("copy data outside COPY");
        return;
    case 'c':
        if (!m_copyOut)
            loseTrack("copy done outside COPY");
        m_copyOut = false;
        return;
    default:
        break;
    }
    if (m_queue.empty()) {
        // A server about to close may tell an idle client why (shutdown, idle timeout).
        if (type != 'E')
            loseTrack("server message nobody asked for");
        return;
    }
    Pending& head = m_queue.front();
    PgCommandDone& done = head.done;
    auto commandComplete = [&] {
        std::size_t pos = 0;
        std::string_view tag = cString(k, pos);
        std::string_view words = tag;
        std::string_view count;
        while (!words.empty()) {
            const std::size_t space = words.rfind(' ');
            const std::string_view last =
                words.substr(space == std::string_view::npos ? 0 : space + 1);
            if (!isNumber(last) || space == std::string_view::npos)
                break;
            if (count.empty())
                count = last;
            words = words.substr(0, space);
        }
        if (done.tag.empty())
            done.tag = words;
        if (!count.empty() &&
            (words == "INSERT" || words == "UPDATE" || words == "DELETE" || words == "SELECT" ||
             words == "MERGE" || words == "COPY" || words == "FETCH" || words == "MOVE"))
            done.rowsAffected = addSaturated(done.rowsAffected, toCount(count));
    };

    switch (head.what) {
    case Awaits::Query:
        switch (type) {
        case 'T':
        case 'I':
        case 'G':
            return;
        case 'D':
            ++done.rowsSent;
            return;
        case 'C':
            commandComplete();
            return;
        case 'H':
            m_copyOut = true;
            return;
        case 'E':
            m_copyOut = false;
            recordError(done);
            return;
        case 'Z':
            m_copyOut = false;
            m_transactionStatus = k[0];
            m_unnamedStatement.reset(); // a simple query destroys both
            m_unnamedPortal.reset();
            finishHead(nowUs);
            return;
        default:
            break;
        }
        break;
    case Awaits::Function:
        switch (type) {
        case 'V':
            return;
        case 'E':
            recordError(done);
            return;
        case 'Z':
            m_transactionStatus = k[0];
            finishHead(nowUs);
            return;
        default:
            break;
        }
        break;
    case Awaits::Execute:
        switch (type) {
        case 'D':
            ++done.rowsSent;
            return;
        case 'G':
            return;
        case 'H':
            m_copyOut = true;
            return;
        case 'C':
            commandComplete();
            finishHead(nowUs);
            return;
        case 'I':
            finishHead(nowUs);
            return;
        case 's':
            done.portalSuspended = true;
            finishHead(nowUs);
            return;
        case 'E':
            extendedError(nowUs);
            return;
        default:
            break;
        }
        break;
    case Awaits::Parse:
        if (type == '1') {
            remember(m_statements, m_unnamedStatement, head.name, head.text);
            popHead();
            return;
        }
        break;
    case Awaits::Bind:
        if (type == '2') {
            remember(m_portals, m_unnamedPortal, head.name, statementNamed(head.target));
            popHead();
            return;
        }
        break;
    case Awaits::Describe:
        if (type == 't' && head.target == "S")
            return;
        if (type == 'T' || type == 'n') {
            popHead();
            return;
        }
        break;
    case Awaits::Close:
        if (type == '3') {
            if (head.target == "S") {
                if (head.name.empty())
                    m_unnamedStatement.reset();
                else
                    m_statements.erase(head.name);
            } else if (head.name.empty()) {
                m_unnamedPortal.reset();
            } else {
                m_portals.erase(head.name);
            }
            popHead();
            return;
        }
        break;
    case Awaits::Sync:
        if (type == 'Z') {
            m_transactionStatus = k[0];
            popHead();
            return;
        }
        if (type == 'E') {
            // Not a skip: the implicit transaction's COMMIT failed (a deferred constraint).
            PgCommandDone failed;
            failed.kind = PgCommandKind::Extended;
            failed.startUs = head.startUs;
            failed.durationUs = nowUs - head.startUs;
            recordError(failed);
            m_done.push_back(std::move(failed));
            return;
        }
        break;
    }
    if (type == 'E' && head.what != Awaits::Sync) {
        extendedError(nowUs);
        return;
    }
    loseTrack("server message out of sequence");
}

} // namespace sg
