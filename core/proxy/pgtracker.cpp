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
    if (m_commands == 0)
        return nullptr;
    for (std::size_t i = 0; i < m_queue.size(); ++i) {
        if (!isCommand(m_queue[i].what))
            continue;
        if (i == 0)
            return &m_current;
        m_later = commandOf(m_queue[i]);
        return &m_later;
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
    m_queuedText = 0;
    m_current = {};
    m_later = {};
    m_lastParse.reset();
    m_copyIn = false;
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
        // The code, the process ID and the key: 4 bytes before protocol 3.2, up to 256 since.
        if (body.size() < 12 || body.size() > 8 + kMaxBackendKey) {
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
    Fields& f = m_fields;
    auto cut = [&f](int i) { return f.length[i] > f.cap[i]; };
    if (m_copyIn && std::string_view("dcfSHX").find(r.type) == std::string_view::npos) {
        // The server would read it as part of the COPY and fail it: no client does this.
        loseTrack("client message during COPY");
        return;
    }
    Pending p;
    p.startUs = r.startUs;
    switch (r.type) {
    case 'Q':
        p.what = Awaits::Query;
        p.text = std::make_shared<const Text>(Text{std::move(f.value[0]), cut(0)});
        p.textBytes = quint32(p.text->text.size());
        break;
    case 'P':
        p.what = Awaits::Parse;
        p.name = std::move(f.value[0]);
        // A batch repeats its Parse: the same text is kept once and counted for its first
        // holder only. Holders leave the queue in order, so a text or two at most lives
        // uncounted.
        if (!m_lastParse || m_lastParse->text != f.value[1] || m_lastParse->cut != cut(1)) {
            m_lastParse = std::make_shared<const Text>(Text{std::move(f.value[1]), cut(1)});
            p.textBytes = quint32(m_lastParse->text.size());
        }
        p.text = m_lastParse;
        break;
    case 'B':
        p.what = Awaits::Bind;
        p.name = std::move(f.value[0]);
        p.statement = std::move(f.value[1]);
        break;
    case 'E':
        p.what = Awaits::Execute;
        p.name = std::move(f.value[0]);
        break;
    case 'D':
    case 'C': {
        const std::string& v = f.value[0];
        if (v.empty() || (v[0] != 'S' && v[0] != 'P')) {
            loseTrack(r.type == 'D' ? "malformed Describe" : "malformed Close");
            return;
        }
        p.what = r.type == 'D' ? Awaits::Describe : Awaits::Close;
        p.object = v[0];
        p.name = v.substr(1);
        break;
    }
    case 'S':
        if (m_copyIn)
            return; // ignored by the server during COPY FROM STDIN: the Sync after it counts
        p.what = Awaits::Sync;
        m_skipUntilSync = false;
        break;
    case 'F':
        p.what = Awaits::Function;
        break;
    case 'c':
    case 'f':
        if (m_copyIn) {
            m_copyIn = false;
            return;
        }
        if (m_queue.empty())
            return;               // no COPY can be running: the server drops it
        p.what = Awaits::CopyEnd; // until a CopyInResponse shows whether it ends a COPY
        break;
    case 'X': {
        PgCommandDone done;
        done.kind = PgCommandKind::Terminate;
        done.startUs = r.startUs;
        m_done.push_back(std::move(done));
        m_terminated = true;
        return;
    }
    default: // 'p', Flush and CopyData get no answer of their own
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
    if (p.textBytes > kMaxQueuedText - m_queuedText) {
        loseTrack("too much statement text in flight");
        return;
    }
    if (p.what == Awaits::Execute)
        resolveExecute(p, m_queue.size());
    m_queuedText += p.textBytes;
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

// Past kMaxPrepared a new name is not remembered rather than another one forgotten: the server
// keeps every name until it is closed, so an evicted name would only come back as unknown, and
// a name still remembered must never stand for a statement the server no longer has.
void PgTracker::remember(std::map<std::string, TextPtr>& names, TextPtr& unnamed,
                         const std::string& name, TextPtr text)
{
    if (name.empty()) {
        unnamed = std::move(text);
        return;
    }
    if (!text) {
        names.erase(name); // unknown: a portal bound to a statement not remembered
        return;
    }
    if (const auto it = names.find(name); it != names.end())
        it->second = std::move(text);
    else if (names.size() < kMaxPrepared)
        names.emplace(name, std::move(text));
}

void PgTracker::forgetPortals()
{
    m_portals.clear();
    m_unnamedPortal.reset();
}

// The text of the statement an Execute's portal is bound to, once the server has answered the
// first `before` messages of the queue: the Bind, Parse, Close and Query messages among those
// are read as they will act, the rest is as the server has it now. With all the messages sent
// before the Execute, it is what running() shows early; with none (the Execute at the head),
// it is what the server runs.
void PgTracker::resolveExecute(Pending& p, std::size_t before) const
{
    TextPtr text;
    bool known = false;
    const std::string* statement = nullptr; // once a Bind of the portal is found
    for (std::size_t i = before; i > 0 && !known;) {
        const Pending& q = m_queue[--i];
        const std::string& name = statement ? *statement : p.name;
        if (!statement && q.what == Awaits::Bind && q.name == p.name) {
            statement = &q.statement;
        } else if (statement && q.what == Awaits::Parse && q.name == *statement) {
            text = q.text;
            known = true;
        } else if (q.what == Awaits::Query && name.empty()) {
            known = true; // a simple query destroys the unnamed statement and portal
        } else if (q.what == Awaits::Close && q.object == (statement ? 'S' : 'P') &&
                   q.name == name) {
            known = true;
        }
    }
    if (!known)
        text = statement ? statementNamed(*statement) : portalNamed(p.name);
    p.text = std::move(text);
}

PgCommandDone PgTracker::commandOf(const Pending& p) const
{
    PgCommandDone done;
    switch (p.what) {
    case Awaits::Query:
        done.kind = PgCommandKind::SimpleQuery;
        break;
    case Awaits::Execute:
        done.kind = PgCommandKind::Execute;
        done.portal = p.name;
        break;
    default:
        done.kind = PgCommandKind::FunctionCall;
        break;
    }
    if (p.text) {
        done.statement = p.text->text;
        done.statementCut = p.text->cut;
    }
    done.startUs = p.startUs;
    return done;
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
        m_queuedText = 0;
        m_current = {};
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

void PgTracker::dropFront()
{
    const Pending& p = m_queue.front();
    if (isCommand(p.what))
        --m_commands;
    m_queuedText -= p.textBytes;
    m_queue.pop_front();
}

void PgTracker::popHead()
{
    dropFront();
    headChanged();
}

void PgTracker::headChanged()
{
    // A CopyDone or CopyFail that reaches the head ended no COPY: the server dropped it.
    while (!m_queue.empty() && m_queue.front().what == Awaits::CopyEnd)
        dropFront();
    if (m_queue.empty())
        return;
    Pending& head = m_queue.front();
    if (head.what == Awaits::Execute)
        resolveExecute(head, 0);
    if (isCommand(head.what))
        m_current = commandOf(head);
}

void PgTracker::finishHead(qint64 nowUs)
{
    m_current.durationUs = nowUs - m_current.startUs;
    m_done.push_back(std::move(m_current));
    m_current = {};
    popHead();
}

// CopyInResponse: the head Query or Execute reads the client's CopyData up to its CopyDone or
// CopyFail. The server ignores the Syncs (and Flushes) it reads until then, so those already
// queued never get a ReadyForQuery; later ones are dropped as they come (m_copyIn).
void PgTracker::copyInStarted()
{
    std::size_t end = 1;
    while (end < m_queue.size() && m_queue[end].what == Awaits::Sync)
        ++end;
    const bool ended = end < m_queue.size();
    if (ended && m_queue[end].what != Awaits::CopyEnd) {
        loseTrack("client message during COPY");
        return;
    }
    m_queue.erase(m_queue.begin() + 1, m_queue.begin() + std::ptrdiff_t(ended ? end + 1 : end));
    m_copyIn = !ended;
}

void PgTracker::readyForQuery(char status)
{
    m_transactionStatus = status;
    if (status == 'I')
        forgetPortals(); // the transaction ended, and with it every portal a Bind made
}

// What a statement that completed did to the statements and portals the server keeps.
void PgTracker::commandCompleted(std::string_view tag)
{
    if (tag == "DISCARD ALL") {
        m_statements.clear(); // the unnamed statement stays
        forgetPortals();
    } else if (tag == "DEALLOCATE ALL") {
        m_statements.clear();
    } else if (tag == "CLOSE CURSOR ALL" || tag == "COMMIT" || tag == "ROLLBACK" ||
               tag == "PREPARE TRANSACTION") {
        // "ROLLBACK" is also ROLLBACK TO SAVEPOINT's tag, which keeps older portals: forgotten
        // too, they are reported unknown, never wrong.
        forgetPortals();
    }
}

// An ErrorResponse to an extended-protocol message: the server skips all it was sent up to the
// next Sync.
void PgTracker::extendedError(qint64 nowUs)
{
    m_copyOut = false;
    m_copyIn = false;
    std::size_t sync = 0;
    std::size_t execute = m_queue.size();
    for (; sync < m_queue.size() && m_queue[sync].what != Awaits::Sync; ++sync) {
        if (execute == m_queue.size() && m_queue[sync].what == Awaits::Execute)
            execute = sync;
    }
    PgCommandDone done;
    if (execute == 0) {
        done = std::move(m_current);
        m_current = {};
    } else if (execute < sync) {
        // Skipped, it never ran: its statement is the one the batch up to it would have bound.
        Pending& p = m_queue[execute];
        resolveExecute(p, execute);
        done = commandOf(p);
    } else {
        const Pending& head = m_queue.front();
        done.kind = PgCommandKind::Extended;
        done.startUs = head.startUs;
        TextPtr text;
        if (head.what == Awaits::Parse)
            text = head.text;
        else if (head.what == Awaits::Bind)
            text = statementNamed(head.statement);
        else if (head.object == 'S')
            text = statementNamed(head.name);
        else if (head.object == 'P')
            text = portalNamed(head.name);
        if (text) {
            done.statement = text->text;
            done.statementCut = text->cut;
        }
    }
    recordError(done);
    done.durationUs = nowUs - done.startUs;
    m_done.push_back(std::move(done));
    for (std::size_t i = 0; i < sync; ++i)
        dropFront();
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
    PgCommandDone& done = m_current;
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
        commandCompleted(words);
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
            return;
        case 'G':
            copyInStarted();
            return;
        case 'D':
            ++done.rowsSent;
            return;
        case 'C':
            m_copyIn = false;
            commandComplete();
            return;
        case 'H':
            m_copyOut = true;
            return;
        case 'E':
            m_copyOut = false;
            m_copyIn = false; // the client's CopyData from here on is dropped unread
            recordError(done);
            return;
        case 'Z':
            m_copyOut = false;
            m_copyIn = false;
            readyForQuery(k[0]);
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
            readyForQuery(k[0]);
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
            copyInStarted();
            return;
        case 'H':
            m_copyOut = true;
            return;
        case 'C':
            m_copyIn = false;
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
            remember(m_portals, m_unnamedPortal, head.name, statementNamed(head.statement));
            popHead();
            return;
        }
        break;
    case Awaits::Describe:
        if (type == 't' && head.object == 'S')
            return;
        if (type == 'T' || type == 'n') {
            popHead();
            return;
        }
        break;
    case Awaits::Close:
        if (type == '3') {
            if (head.object == 'S') {
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
            readyForQuery(k[0]);
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
    case Awaits::CopyEnd:
        break; // never the head (headChanged)
    }
    if (type == 'E' && head.what != Awaits::Sync) {
        extendedError(nowUs);
        return;
    }
    loseTrack("server message out of sequence");
}

} // namespace sg
