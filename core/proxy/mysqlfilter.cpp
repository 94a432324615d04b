#include "proxy/mysqlfilter.h"

#include "proxy/mysqlinspector.h"
#include "proxy/mysqltracker.h"
#include "proxy/sqlshown.h"
#include "proxy/worker.h"
#include "stats/statshub.h"

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

private:
    MySqlWatch& m_watch;
    const MySqlInspector::Direction m_direction;
};

// One allocation per session: the inspector both directions feed, the command tracker that
// takes over after the login when digests are on, and the two filters.
struct MySqlWatch
{
    MySqlWatch(const Worker& w, std::shared_ptr<ConnectionRecord> r, RouteStats& s,
               const MySqlFilterOptions& o)
        : worker(w), record(std::move(r)), routeStats(s), inspector(o.countCommands),
          digests(o.digests)
    {
    }
    void learnUpstream();
    void startFollowing();
    void follow(MySqlInspector::Direction direction, const char* data, std::size_t len);
    void recordDone(const MySqlCommandDone& done, qint64 nowMs);

    const Worker& worker;
    std::shared_ptr<ConnectionRecord> record;
    RouteStats& routeStats; // outlives the session's filters (held by its RouteEntry)
    MySqlInspector inspector;
    std::unique_ptr<MySqlCommandTracker> tracker; // from the login on, with digests
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
    MySqlFilter toServer{*this, MySqlInspector::Direction::ClientToServer};
    MySqlFilter toClient{*this, MySqlInspector::Direction::ServerToClient};
};

RelayFilter::Mode MySqlFilter::mode() const
{
    return !done() ? Mode::Observe : Mode::Pass;
}

bool MySqlFilter::done() const
{
    return !m_watch.tracker && !m_watch.inspector.wantsBytes(m_direction);
}

void MySqlFilter::observe(const char* data, std::size_t len)
{
    MySqlWatch& w = m_watch;
    if (w.tracker) {
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
    if (w.digests && w.inspector.login() == MySqlInspector::Login::Succeeded && !info.tls)
        w.startFollowing();
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
    info = inspector.info();
    clientAddress = record->base.clientAddress.toString();
    schema = info.database.toStdString();
    info.commandsCounted = true;
    info.statementsFollowed = true;
    tracker = std::make_unique<MySqlCommandTracker>(inspector.clientCapabilities(),
                                                    inspector.serverCapabilities(),
                                                    info.database.toStdString());
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
