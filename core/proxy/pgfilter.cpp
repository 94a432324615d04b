#include "proxy/pgfilter.h"

#include "proxy/pgtracker.h"
#include "proxy/sqlshown.h"
#include "proxy/worker.h"
#include "stats/statshub.h"

#include <tuple>

namespace sg {

namespace {

QString fromStd(const std::string& s)
{
    return QString::fromUtf8(s.data(), qsizetype(s.size()));
}

QString commandName(PgCommandKind kind)
{
    switch (kind) {
    case PgCommandKind::SimpleQuery:
        return QStringLiteral("Query");
    case PgCommandKind::Execute:
        return QStringLiteral("Execute");
    case PgCommandKind::FunctionCall:
        return QStringLiteral("FunctionCall");
    case PgCommandKind::Extended:
        return QStringLiteral("Extended");
    case PgCommandKind::Terminate:
        return QStringLiteral("Terminate");
    }
    return {};
}

// "ERROR 42P01: relation "t" does not exist"
QString errorText(const std::string& severity, const std::string& sqlState,
                  const std::string& message)
{
    QString text = fromStd(severity);
    if (!sqlState.empty())
        text += (text.isEmpty() ? QString() : QStringLiteral(" ")) + fromStd(sqlState);
    return text.isEmpty() ? fromStd(message) : text + QStringLiteral(": ") + fromStd(message);
}

struct PgWatch;

class PgFilter final : public RelayFilter
{
public:
    PgFilter(PgWatch& watch, bool fromClient) : m_watch(watch), m_fromClient(fromClient) {}
    Mode mode() const override;
    bool done() const override;
    void observe(const char* data, std::size_t len) override;

private:
    PgWatch& m_watch;
    const bool m_fromClient;
};

// One allocation per session: the reader (from the client's first byte, when it may be a
// startup packet) and the two filters.
struct PgWatch
{
    PgWatch(const Worker& w, std::shared_ptr<ConnectionRecord> r, RouteStats& s, bool d)
        : worker(w), record(std::move(r)), routeStats(s), digests(d)
    {
    }
    void feed(bool fromClient, const char* data, std::size_t len);
    bool learnStartup();
    void learnNames();
    void learnLogin();
    bool followCommands(qint64 nowUs);
    void recordDone(const PgCommandDone& done, qint64 nowMs);
    void stop(const std::string& why);

    const Worker& worker;
    std::shared_ptr<ConnectionRecord> record;
    RouteStats& routeStats; // outlives the session's filters (held by its RouteEntry)
    const bool digests;
    std::unique_ptr<PgTracker> tracker;
    bool finished = false; // both filters pass from now on
    bool loginSeen = false;
    PostgresInfo info;
    QString clientAddress;
    DigestCache digestCache{SqlDialect::Postgres};
    qint64 shownStartUs = -1; // the running command info.statement shows
    PgFilter toServer{*this, true};
    PgFilter toClient{*this, false};
};

RelayFilter::Mode PgFilter::mode() const
{
    return done() ? Mode::Pass : Mode::Observe;
}

bool PgFilter::done() const
{
    return m_watch.finished;
}

void PgFilter::observe(const char* data, std::size_t len)
{
    m_watch.feed(m_fromClient, data, len);
}

void PgWatch::feed(bool fromClient, const char* data, std::size_t len)
{
    if (!tracker) {
        // A startup packet opens with its length (at most 10,000 bytes), so with a 0 byte; a
        // server that speaks first (MySQL, SMTP) or a client that opens with text is not
        // PostgreSQL's.
        if (!fromClient || len == 0 || data[0] != 0) {
            finished = true;
            return;
        }
        tracker = std::make_unique<PgTracker>();
    }
    const qint64 nowUs = Worker::monotonicUs();
    if (fromClient)
        tracker->feedClient(data, len, nowUs);
    else
        tracker->feedServer(data, len, nowUs);

    bool changed = !info.detected && learnStartup();
    if (!info.detected) {
        if (tracker->lost()) // not a startup packet after all: nothing to show
            finished = true;
        return;
    }
    if (!loginSeen && info.user.isEmpty() && !tracker->user().empty()) {
        learnNames(); // the StartupMessage after a refused SSLRequest
        changed = true;
    }
    if (!loginSeen && tracker->loginState() != PgTracker::LoginState::Pending) {
        learnLogin();
        changed = true;
    }
    if (info.statementsFollowed)
        changed = followCommands(nowUs) || changed;
    if (tracker->lost()) {
        stop(tracker->why());
        changed = true;
    } else if (info.cancelRequest || (loginSeen && !info.statementsFollowed)) {
        stop({}); // nothing more to learn
    }
    if (changed)
        record->setPostgres(info);
}

// The client's first packet: a StartupMessage, or a request to encrypt or to cancel.
bool PgWatch::learnStartup()
{
    if (tracker->user().empty() && !tracker->tlsRequested() && !tracker->gssEncRequested() &&
        !tracker->cancelRequest())
        return false;
    info.detected = true;
    info.cancelRequest = tracker->cancelRequest();
    info.tls = tracker->tlsAccepted() || tracker->gssEncAccepted();
    learnNames();
    return true;
}

// From the StartupMessage; the login may change the application's name (ParameterStatus).
void PgWatch::learnNames()
{
    info.user = fromStd(tracker->user());
    info.database = fromStd(tracker->database());
    info.applicationName = fromStd(tracker->applicationName());
}

void PgWatch::learnLogin()
{
    loginSeen = true;
    learnNames();
    info.serverVersion = fromStd(tracker->serverVersion());
    if (tracker->loginState() == PgTracker::LoginState::Failed) {
        info.loginError = errorText({}, tracker->loginSqlState(), tracker->loginError());
        return;
    }
    if (digests) {
        info.statementsFollowed = true;
        clientAddress = record->base.clientAddress.toString();
    }
}

bool PgWatch::followCommands(qint64 nowUs)
{
    bool changed = false;
    const qint64 nowMs = worker.wallMs();
    for (const PgCommandDone& done : tracker->takeDone()) {
        recordDone(done, nowMs);
        changed = true;
    }
    if (changed) // a SET application_name is answered with the new name
        info.applicationName = fromStd(tracker->applicationName());
    const PgCommandDone* running = tracker->running();
    const qint64 runningStartUs = running ? running->startUs : -1;
    if (runningStartUs != shownStartUs) {
        shownStartUs = runningStartUs;
        info.statement =
            running ? shownStatement(running->statement, commandName(running->kind)) : QString();
        info.statementSinceMs = running ? nowMs - (nowUs - running->startUs) / 1000 : 0;
        changed = true;
    }
    return changed;
}

void PgWatch::recordDone(const PgCommandDone& done, qint64 nowMs)
{
    SqlStatementResult r;
    r.command = commandName(done.kind);
    if (!done.statement.empty())
        std::tie(r.digest, r.digestText) = digestCache.of(done.statement);
    else {
        r.digest = commandDigest(r.command); // a command without a known statement: its name
        r.digestText = r.command;
    }
    r.username = info.user;
    r.schemaname = info.database;
    r.clientAddress = clientAddress;
    r.timeUs = done.durationUs;
    r.rowsSent = done.rowsSent;
    r.rowsAffected = done.rowsAffected;
    r.sqlState = fromStd(done.sqlState);
    r.errorMessage = fromStd(done.errorMessage);
    r.atMs = nowMs;
    r.inDigests = done.kind != PgCommandKind::Terminate; // a command count, as COM_QUIT
    routeStats.postgres.record(r);

    ++info.commands;
    if (r.failed())
        info.lastError = errorText(done.severity, done.sqlState, done.errorMessage);
}

void PgWatch::stop(const std::string& why)
{
    finished = true;
    if (!why.empty())
        info.notFollowed = fromStd(why);
    if (tracker->tlsAccepted() || tracker->gssEncAccepted())
        info.tls = true;
    info.statement.clear();
    tracker.reset();
}

} // namespace

void addPostgresFilters(const Worker& worker, std::shared_ptr<ConnectionRecord> record,
                        RouteStats& routeStats, bool digests, SessionFilters& out)
{
    auto watch = std::make_shared<PgWatch>(worker, std::move(record), routeStats, digests);
    out.toUpstream.push_back(std::shared_ptr<RelayFilter>(watch, &watch->toServer));
    RelayFilter* toClient = &watch->toClient;
    out.toClient.push_back(std::shared_ptr<RelayFilter>(std::move(watch), toClient));
}

} // namespace sg
