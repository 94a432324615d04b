#include "proxy/mysqlfilter.h"

#include "proxy/mysqlfaults.h"
#include "proxy/mysqlinspector.h"
#include "proxy/mysqltracker.h"
#include "proxy/mysqlwire.h"
#include "proxy/sqlshown.h"
#include "proxy/worker.h"
#include "stats/statshub.h"

#include <deque>
#include <tuple>

namespace sg {

namespace {

struct MySqlWatch;

class MySqlFilter final : public RelayFilter
{
public:
    MySqlFilter(MySqlWatch& watch, MySqlInspector::Direction direction)
        : m_watch(watch), m_direction(direction)
    {
    }
    Mode mode() const override;
    bool done() const override;
    void observe(const char* data, std::size_t len) override;
    void onData(const char* data, std::size_t len, FilterOutput& out) override;
    void onTimer(FilterOutput& out) override;
    void onEnd(FilterOutput& out) override;
    std::size_t held() const override;

private:
    MySqlWatch& m_watch;
    const MySqlInspector::Direction m_direction;
};

// One allocation per session: the inspector both directions feed, the command tracker that
// takes over after the login when digests are on (or query toxics may hit), and the two filters.
struct MySqlWatch
{
    MySqlWatch(const Worker& w, std::shared_ptr<ConnectionRecord> r, RouteStats& s,
               MySqlFilterOptions o)
        : worker(w), record(std::move(r)), routeStats(s), inspector(o.countCommands),
          digests(o.digests), toxics(std::move(o.toxics))
    {
    }
    void learnUpstream();
    void startFollowing();
    void follow(MySqlInspector::Direction direction, const char* data, std::size_t len);
    void recordDone(const MySqlCommandDone& done, qint64 nowMs);

    // Query toxics (mysqlfaults.h): whether the client direction transforms now, and its steps.
    bool faulting() const;
    void clientData(const char* data, std::size_t len, FilterOutput& out);
    void passClient(const char* data, std::size_t len, FilterOutput& out);
    void decideCommand(FilterOutput& out);
    void applyEnd(FilterOutput& out);
    void replaceCommand(FilterOutput& out);
    void clientTimer(FilterOutput& out);
    void clientEnd(FilterOutput& out);
    void serverData(const char* data, std::size_t len, FilterOutput& out);
    void passServer(const char* data, std::size_t len, FilterOutput& out);
    void answerSwapped(FilterOutput& out);

    const Worker& worker;
    std::shared_ptr<ConnectionRecord> record;
    RouteStats& routeStats; // outlives the session's filters (held by its RouteEntry)
    MySqlInspector inspector;
    std::unique_ptr<MySqlCommandTracker> tracker; // from the login on, with digests or faults
    MySqlInfo info;                               // what the record shows while following
    QString clientAddress;                        // as the digest rows name it
    std::string schema;                           // info.database, as the tracker has it
    DigestCache digestCache{SqlDialect::MySql};
    qint64 shownStartUs = -1; // the running command info.statement shows
    std::string shownRaw;     // its statement, and as info.statement has it
    QString shownText;
    const bool digests;
    bool published = false;     // the record holds what the inspector learned
    bool upstreamKnown = false; // routeStats.mysqlUpstream says what this session saw
    bool loginSeen = false;     // startFollowing() decided whether to follow
    MySqlFilter toServer{*this, MySqlInspector::Direction::ClientToServer};
    MySqlFilter toClient{*this, MySqlInspector::Direction::ServerToClient};

    // Query toxics, while following.
    const std::shared_ptr<RouteToxics> toxics;
    std::unique_ptr<MySqlQueryFaults> faults;
    bool protocol41 = false;
    mysqlwire::PacketCursor clientCursor; // where the client's packets start, in every mode
    mysqlwire::PacketCursor serverCursor; // and the server's
    enum class Step : quint8 {
        Pass,    // bytes of a packet already let through (or none: at a packet's start)
        Header,  // a packet's header held: a command's first packet?
        Command, // a command's first bytes held until decided
        Delayed, // a decided command (and all after it) held until delayUntilMs
        Dropped, // the rest of a command that the server never gets (mysql_error)
    };
    Step step = Step::Pass;
    std::string command; // the held header and first bytes of the command
    std::size_t commandWant = 0;
    std::string backlog; // what the client sent after a delayed command
    qint64 delayUntilMs = 0;
    bool clientEnded = false; // FIN from the client while a command was delayed
    MySqlFaultAction action;  // the decided command's
    struct Swap
    {
        quint64 serial; // the command (tracker's numbering) whose OK becomes this ERR
        quint16 code;
        std::string sqlState;
        std::string message;
    };
    std::deque<Swap> swaps;
    std::string reply; // the server's answer to a replaced command, held until complete
};

RelayFilter::Mode MySqlFilter::mode() const
{
    if (done())
        return Mode::Pass;
    const MySqlWatch& w = m_watch;
    if (m_direction == MySqlInspector::Direction::ClientToServer
            ? w.faulting()
            : !w.swaps.empty() || !w.reply.empty())
        return Mode::Transform;
    return Mode::Observe;
}

bool MySqlFilter::done() const
{
    const MySqlWatch& w = m_watch;
    if (w.tracker || w.inspector.wantsBytes(m_direction) || held() > 0)
        return false;
    // With toxics on the route, the client direction waits for the login's outcome: query
    // toxics may want to follow the commands from the next byte on.
    return !(w.toxics && !w.loginSeen && m_direction == MySqlInspector::Direction::ClientToServer &&
             w.inspector.wantsBytes(MySqlInspector::Direction::ServerToClient));
}

std::size_t MySqlFilter::held() const
{
    if (m_direction == MySqlInspector::Direction::ClientToServer)
        return m_watch.command.size() + m_watch.backlog.size();
    return m_watch.reply.size();
}

void MySqlFilter::onData(const char* data, std::size_t len, FilterOutput& out)
{
    if (m_direction == MySqlInspector::Direction::ClientToServer)
        m_watch.clientData(data, len, out);
    else
        m_watch.serverData(data, len, out);
}

void MySqlFilter::onTimer(FilterOutput& out)
{
    if (m_direction == MySqlInspector::Direction::ClientToServer)
        m_watch.clientTimer(out);
}

void MySqlFilter::onEnd(FilterOutput& out)
{
    if (m_direction == MySqlInspector::Direction::ClientToServer)
        m_watch.clientEnd(out);
    else
        out.finish();
}

void MySqlFilter::observe(const char* data, std::size_t len)
{
    MySqlWatch& w = m_watch;
    if (w.tracker) {
        mysqlwire::PacketCursor& cursor = m_direction == MySqlInspector::Direction::ClientToServer
                                              ? w.clientCursor
                                              : w.serverCursor;
        for (std::size_t at = 0; at < len;)
            at += cursor.advance(data + at, len - at);
        w.follow(m_direction, data, len);
        return;
    }
    w.inspector.feed(m_direction, data, len, w.worker.wallMs());
    const MySqlInfo& info = w.inspector.info();
    // Published while there is something to show, and once more if the inspector gave up
    // after a first guess (it clears what it learned then).
    if (info.detected || w.published) {
        w.record->setMySql(info);
        w.published = info.detected;
    }
    if (m_direction != MySqlInspector::Direction::ServerToClient)
        return;
    if (!w.upstreamKnown)
        w.learnUpstream();
    // The login OK is the last the server says before the first command: the tracker takes
    // both directions from the next byte on (the client waits for the OK before it sends).
    if (w.inspector.login() == MySqlInspector::Login::Succeeded && !info.tls && !w.loginSeen) {
        w.loginSeen = true;
        w.startFollowing();
    }
}

// The route fronts MySQL as long as its upstream greets as a MySQL server (a greeting, or the
// ERR a server sends instead of one); an upstream that says something else takes it back.
void MySqlWatch::learnUpstream()
{
    if (inspector.notMySql() || inspector.info().detected) {
        routeStats.mysqlUpstream.store(!inspector.notMySql(), std::memory_order_relaxed);
        upstreamKnown = true;
    }
}

void MySqlWatch::startFollowing()
{
    if (toxics && !faults) {
        faults =
            std::make_unique<MySqlQueryFaults>(toxics, record->base.id, record->base.clientAddress);
    }
    // Without digests, only a session that a query toxic may hit now is followed.
    if (!digests && !(faults && faults->active())) {
        faults.reset();
        return;
    }
    info = inspector.info();
    clientAddress = record->base.clientAddress.toString();
    schema = info.database.toStdString();
    info.commandsCounted = true;
    info.statementsFollowed = true;
    tracker = std::make_unique<MySqlCommandTracker>(inspector.clientCapabilities(),
                                                    inspector.serverCapabilities(),
                                                    info.database.toStdString());
    protocol41 = inspector.clientCapabilities() & inspector.serverCapabilities() &
                 mysqlwire::kClientProtocol41;
    if (tracker->lost()) {
        info.notFollowed = QString::fromStdString(tracker->why());
        tracker.reset();
    }
    record->setMySql(info);
}

void MySqlWatch::follow(MySqlInspector::Direction direction, const char* data, std::size_t len)
{
    const qint64 nowUs = Worker::monotonicUs();
    if (direction == MySqlInspector::Direction::ClientToServer)
        tracker->feedClient(data, len, nowUs);
    else
        tracker->feedServer(data, len, nowUs);
    bool changed = false;
    const qint64 nowMs = worker.wallMs();
    for (const MySqlCommandDone& done : tracker->takeDone()) {
        recordDone(done, nowMs);
        changed = true;
    }
    const MySqlCommandDone* running = tracker->running();
    const qint64 runningStartUs = running ? running->startUs : -1;
    if (runningStartUs != shownStartUs) {
        shownStartUs = runningStartUs;
        if (running && (running->statement != shownRaw || shownText.isEmpty())) {
            shownRaw = running->statement;
            shownText = shownStatement(shownRaw, MySqlInspector::commandName(running->command));
        }
        info.statement = running ? shownText : QString();
        info.statementSinceMs = running ? nowMs - (nowUs - running->startUs) / 1000 : 0;
        changed = true;
    }
    if (tracker->lost()) {
        info.notFollowed = QString::fromStdString(tracker->why());
        info.statement.clear();
        tracker.reset(); // both filters pass from now on
        changed = true;
    }
    if (changed)
        record->setMySql(info);
}

void MySqlWatch::recordDone(const MySqlCommandDone& done, qint64 nowMs)
{
    SqlStatementResult r;
    r.command = MySqlInspector::commandName(done.command);
    switch (done.command) {
    case 0x03: // COM_QUERY
    case 0x16: // COM_STMT_PREPARE
    case 0x17: // COM_STMT_EXECUTE: its prepared text
        if (!done.statement.empty()) {
            std::tie(r.digest, r.digestText) = digestCache.of(done.statement);
            break;
        }
        [[fallthrough]];
    default:
        // Commands without a statement are a digest each, named as the command.
        r.digest = commandDigest(r.command);
        r.digestText = r.command;
        break;
    }
    r.username = info.user;
    if (done.schema == schema)
        r.schemaname = info.database;
    else
        r.schemaname = QString::fromUtf8(done.schema.data(), qsizetype(done.schema.size()));
    r.clientAddress = clientAddress;
    r.timeUs = done.durationUs;
    r.rowsSent = done.rowsSent;
    r.rowsAffected = done.rowsAffected;
    r.errorCode = done.errorCode;
    r.sqlState = QString::fromLatin1(done.sqlState.data(), qsizetype(done.sqlState.size()));
    r.errorMessage =
        QString::fromUtf8(done.errorMessage.data(), qsizetype(done.errorMessage.size()));
    r.atMs = nowMs;
    r.inDigests = done.command != 0x01; // COM_QUIT: a command count, not a digest
    if (digests)
        routeStats.mysql.record(r);

    ++info.commands;
    info.lastCommand = r.command;
    info.lastCommandMs = nowMs;
    if (tracker->schema() != schema) {
        schema = tracker->schema();
        info.database = QString::fromUtf8(schema.data(), qsizetype(schema.size()));
    }
    if (done.errorCode) {
        info.lastError =
            r.sqlState.isEmpty()
                ? QStringLiteral("%1: %2").arg(done.errorCode).arg(r.errorMessage)
                : QStringLiteral("%1 (%2): %3").arg(done.errorCode).arg(r.sqlState, r.errorMessage);
    }
}

// ---- query toxics ----

bool MySqlWatch::faulting() const
{
    if (!command.empty() || !backlog.empty() || step != Step::Pass)
        return true;
    return tracker && faults && faults->active();
}

void MySqlWatch::passClient(const char* data, std::size_t len, FilterOutput& out)
{
    follow(MySqlInspector::Direction::ClientToServer, data, len);
    out.write(data, len);
}

void MySqlWatch::clientData(const char* data, std::size_t len, FilterOutput& out)
{
    while (len > 0) {
        if (step == Step::Delayed) {
            backlog.append(data, len);
            return;
        }
        if (!tracker) {
            // The tracker gave up: what is held goes on as it is, and the filter passes.
            if (step == Step::Dropped) {
                out.reset(); // half a command was kept from the server: nothing can follow
                return;
            }
            out.write(command.data(), command.size());
            command.clear();
            step = Step::Pass;
            out.write(data, len);
            return;
        }
        std::size_t n = 0;
        switch (step) {
        case Step::Pass:
            if (clientCursor.atStart() && faults && faults->active()) {
                step = Step::Header;
                continue;
            }
            n = clientCursor.advance(data, len);
            passClient(data, n, out);
            break;
        case Step::Header:
            n = clientCursor.advance(data, len);
            command.append(data, n);
            if (command.size() < 4)
                break;
            // A command is the first packet of a sequence; LOAD DATA contents (whose sequence
            // ids come round to 0 again), an authentication exchange and a long packet's
            // continuation are not.
            if (clientCursor.seq() == 0 && !clientCursor.continuation() &&
                clientCursor.payloadLength() > 0 && !tracker->infile()) {
                commandWant = 4 + std::min<std::size_t>(clientCursor.payloadLength(),
                                                        1 + MySqlCommandTracker::kMaxStatement);
                step = Step::Command;
            } else {
                passClient(command.data(), command.size(), out);
                command.clear();
                step = Step::Pass;
            }
            break;
        case Step::Command:
            n = clientCursor.advance(data, std::min(len, commandWant - command.size()));
            command.append(data, n);
            if (command.size() == commandWant)
                decideCommand(out);
            break;
        case Step::Dropped:
            n = clientCursor.advance(data, len);
            follow(MySqlInspector::Direction::ClientToServer, data, n); // seen, not sent
            if (clientCursor.atStart() && !clientCursor.moreFollows())
                replaceCommand(out);
            break;
        case Step::Delayed:
            break; // above
        }
        data += n;
        len -= n;
        if (action.end == MySqlFaultAction::End::Close)
            return; // reset: the session ends
    }
}

void MySqlWatch::decideCommand(FilterOutput& out)
{
    const quint8 code = quint8(command[4]);
    MySqlCommandFacts facts;
    facts.command = MySqlInspector::commandName(code);
    if (!queryToxicCommands().contains(facts.command)) {
        passClient(command.data(), command.size(), out);
        command.clear();
        step = Step::Pass;
        return;
    }
    std::string statement;
    if (code == 0x03 || code == 0x16) // COM_QUERY, COM_STMT_PREPARE
        statement.assign(command, 5);
    else if (code == 0x17 && command.size() >= 9) // COM_STMT_EXECUTE: its prepared text
        statement = tracker->preparedStatement(mysqlwire::le32(command, 5));
    facts.digestText = statement.empty() ? facts.command : digestCache.of(statement).second;
    facts.user = info.user;
    facts.database = info.database;
    action = faults->decide(facts);
    // The tracker sees the command as it arrives: its time includes a delay, and the
    // connection shows it running while it is held.
    follow(MySqlInspector::Direction::ClientToServer, command.data(), command.size());
    if (action.delayMs > 0) {
        // From now, not from the loop pass's clock (a little older): never less than asked.
        delayUntilMs = (Worker::monotonicUs() + 999) / 1000 + action.delayMs;
        out.wakeAt(delayUntilMs);
        step = Step::Delayed;
        return;
    }
    applyEnd(out);
}

// The decided command's end, once its delay (if any) is over (the tracker has its bytes).
void MySqlWatch::applyEnd(FilterOutput& out)
{
    switch (action.end) {
    case MySqlFaultAction::End::None:
        out.write(command.data(), command.size());
        step = Step::Pass;
        break;
    case MySqlFaultAction::End::Close:
        step = Step::Pass;
        out.reset();
        break;
    case MySqlFaultAction::End::Error:
        step = Step::Dropped;
        if (clientCursor.atStart() && !clientCursor.moreFollows())
            replaceCommand(out);
        break;
    }
    command.clear();
}

// The whole of a mysql_error command is read (and kept from the server): the server gets a
// command of its own in its place, and the client will get the ERR in place of its answer.
void MySqlWatch::replaceCommand(FilterOutput& out)
{
    step = Step::Pass;
    if (!tracker) {
        out.reset();
        return;
    }
    static constexpr char kPing[] = {1, 0, 0, 0, 0x0E};
    static constexpr char kRollback[] = {9, 0, 0, 0, 0x03, 'R', 'O', 'L', 'L', 'B', 'A', 'C', 'K'};
    if (action.code == 1213) // a deadlock rolls the transaction back
        out.write(kRollback, sizeof kRollback);
    else
        out.write(kPing, sizeof kPing);
    swaps.push_back(Swap{tracker->lastCommandSerial(), action.code,
                         protocol41 ? action.sqlState : std::string(), action.message});
}

void MySqlWatch::clientTimer(FilterOutput& out)
{
    if (step != Step::Delayed)
        return;
    if (out.nowMs() < delayUntilMs) {
        out.wakeAt(delayUntilMs);
        return;
    }
    applyEnd(out);
    if (action.end == MySqlFaultAction::End::Close)
        return;
    std::string rest;
    rest.swap(backlog);
    clientData(rest.data(), rest.size(), out);
    if (clientEnded && step != Step::Delayed)
        clientEnd(out);
}

void MySqlWatch::clientEnd(FilterOutput& out)
{
    if (step == Step::Delayed) {
        clientEnded = true; // after the delayed command and what came behind it
        return;
    }
    if (!command.empty()) // a command cut short by the FIN goes on as it is
        passClient(command.data(), command.size(), out);
    command.clear();
    step = Step::Pass;
    out.finish();
}

void MySqlWatch::passServer(const char* data, std::size_t len, FilterOutput& out)
{
    follow(MySqlInspector::Direction::ServerToClient, data, len);
    out.write(data, len);
}

void MySqlWatch::serverData(const char* data, std::size_t len, FilterOutput& out)
{
    // The server answers a replaced command with one short OK; anything longer is not that.
    constexpr std::size_t kMaxReply = 4 + 1024;
    while (len > 0) {
        if (!tracker) {
            out.write(reply.data(), reply.size());
            reply.clear();
            swaps.clear();
            out.write(data, len);
            return;
        }
        const bool answer = !reply.empty() || (serverCursor.atStart() && !swaps.empty() &&
                                               tracker->runningSerial() == swaps.front().serial);
        const std::size_t n = serverCursor.advance(data, len);
        if (!answer) {
            passServer(data, n, out);
        } else {
            reply.append(data, n);
            if (serverCursor.atStart()) {
                answerSwapped(out);
            } else if (reply.size() > kMaxReply) {
                swaps.pop_front();
                passServer(reply.data(), reply.size(), out);
                reply.clear();
            }
        }
        data += n;
        len -= n;
    }
}

void MySqlWatch::answerSwapped(FilterOutput& out)
{
    const Swap swap = std::move(swaps.front());
    swaps.pop_front();
    if (reply.size() > 4 && quint8(reply[4]) == 0x00) { // the OK: the client gets the ERR
        const std::string err =
            mysqlwire::errPacket(quint8(reply[3]), swap.code, swap.sqlState, swap.message);
        passServer(err.data(), err.size(), out);
    } else {
        passServer(reply.data(), reply.size(), out); // the server's own error stands
    }
    reply.clear();
}

} // namespace

void addMySqlFilters(const Worker& worker, std::shared_ptr<ConnectionRecord> record,
                     RouteStats& routeStats, const MySqlFilterOptions& options, SessionFilters& out)
{
    auto watch = std::make_shared<MySqlWatch>(worker, std::move(record), routeStats, options);
    out.toUpstream.push_back(std::shared_ptr<RelayFilter>(watch, &watch->toServer));
    RelayFilter* toClient = &watch->toClient;
    out.toClient.push_back(std::shared_ptr<RelayFilter>(std::move(watch), toClient));
}

} // namespace sg
