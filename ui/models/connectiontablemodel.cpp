#include "models/connectiontablemodel.h"

#include "format.h"
#include "models/roles.h"

#include <algorithm>
#include <utility>

namespace sg::ui {

struct ConnectionTableModel::Row
{
    ConnectionInfo info;
    double rateUp = 0;
    double rateDown = 0;
    qint64 appearedMs = 0;   // snapshot time it was first seen
    qint64 closedSeenMs = 0; // snapshot time it was first seen closed; 0 while open
    qint64 shownSecond = -1; // the duration second last shown, to notice a visible change
    // Rates are measured over at least MinRateSpanMs: a refresh right after another (F5)
    // would otherwise show a burst or a zero.
    quint64 rateBaseUp = 0;
    quint64 rateBaseDown = 0;
    qint64 rateBaseMs = 0;
    bool history = false; // closed for longer than the linger time
    bool changed = false;
    bool wholeRow = false; // its look changed (closed, history): every column repaints
};

namespace {

constexpr qint64 MinRateSpanMs = 200;
// ID, route, protocol and client never change during a connection: leaving them out of the
// refresh's dataChanged spares a sorting proxy the re-sort when the user sorts by them.
constexpr int FirstMovingColumn = ConnectionTableModel::UpstreamColumn;
// Each rowsRemoved costs a sorting proxy and the table's row header a pass over every row; past
// this many separate runs of leaving rows, one layout change (a single re-sort in the proxy)
// costs less. The same for new rows that go in between.
constexpr int MaxMovedRuns = 16;

// Whether a text differs: a snapshot shares the strings that did not change with the one before,
// and most are empty, so this rarely compares characters (10,000 rows, 18 texts each, four times
// a second).
bool textChanged(const QString& shown, const QString& now)
{
    return shown.size() != now.size() ||
           (!shown.isEmpty() && shown.constData() != now.constData() && shown != now);
}

qint64 durationMs(const ConnectionInfo& c, qint64 nowMs)
{
    const qint64 end = c.endMs > 0 ? c.endMs : nowMs;
    return qMax<qint64>(0, end - c.startMs);
}

// 16 address bytes in hex then the port: sorts IPv4 (as mapped) and IPv6 numerically.
QString addressSortKey(const QHostAddress& address, quint16 port)
{
    const Q_IPV6ADDR v6 = address.toIPv6Address();
    return QString::fromLatin1(QByteArray(reinterpret_cast<const char*>(v6.c), 16).toHex()) +
           QStringLiteral("%1").arg(port, 5, 10, QLatin1Char('0'));
}

// A connection of a route with protocol "redis" (its commands are followed, or were).
bool isRedis(const ConnectionInfo& c)
{
    return c.redis->followed || !c.redis->notFollowed.isEmpty();
}

// The statement (MySQL, PostgreSQL) or command (Redis) waiting for its answer, and since when.
std::pair<QString, qint64> runningCommand(const ConnectionInfo& c)
{
    if (!c.mysql->statement.isEmpty())
        return {c.mysql->statement, c.mysql->statementSinceMs};
    if (!c.postgres->statement.isEmpty())
        return {c.postgres->statement, c.postgres->statementSinceMs};
    return {c.redis->command, c.redis->commandSinceMs};
}

// The database columns show what the MySQL reader learned, or the PostgreSQL reader; the user
// column shows an MQTT client's client identifier.
const QString& databaseUser(const ConnectionInfo& c)
{
    if (c.mqtt->detected)
        return c.mqtt->clientId;
    return c.postgres->detected ? c.postgres->user : c.mysql->user;
}

const QString& databaseName(const ConnectionInfo& c)
{
    return c.postgres->detected ? c.postgres->database : c.mysql->database;
}

const QString& serverVersion(const ConnectionInfo& c)
{
    return c.postgres->detected ? c.postgres->serverVersion : c.mysql->serverVersion;
}

QVariant databaseTls(const ConnectionInfo& c) // null when neither reader knows
{
    if (c.mysql->detected)
        return c.mysql->tls;
    return c.postgres->detected ? QVariant(c.postgres->tls) : QVariant();
}

// The server saw TLS that Streamgate did not open: the reader saw ciphertext only.
bool encryptedUnread(const ConnectionInfo& c)
{
    return databaseTls(c).toBool() && !c.tls->developmentCa && !c.upstreamTls->used;
}

QString lastError(const ConnectionInfo& c)
{
    if (isRedis(c))
        return c.redis->lastError;
    if (c.postgres->detected)
        return c.postgres->lastError.isEmpty() ? c.postgres->loginError : c.postgres->lastError;
    return c.mysql->lastError;
}

// The Client column: the host name in front when a reverse lookup found one.
QString clientText(const ConnectionInfo& c)
{
    const QString endpoint = formatEndpoint(c.clientAddress, c.clientPort);
    return c.clientHost.isEmpty() ? endpoint
                                  : QStringLiteral("%1 (%2)").arg(c.clientHost, endpoint);
}

// Compact: the first label of the host name, or nothing of a client on the address it reached
// (a program on this machine; the Program column says which), then the port.
QString compactClientText(const ConnectionInfo& c)
{
    if (!c.clientHost.isEmpty()) {
        const QHostAddress literal(c.clientHost);
        const QString shortName =
            literal.isNull() ? c.clientHost.section(QLatin1Char('.'), 0, 0) : c.clientHost;
        return QStringLiteral("%1:%2").arg(shortName).arg(c.clientPort);
    }
    if (!c.localAddress.isNull() &&
        c.clientAddress.isEqual(c.localAddress, QHostAddress::TolerantConversion))
        return QStringLiteral(":%1").arg(c.clientPort);
    return formatEndpoint(c.clientAddress, c.clientPort);
}

// The full form, and where the client came in.
QString clientToolTip(const ConnectionInfo& c)
{
    const QString to = formatEndpoint(c.localAddress, c.localPort);
    return to.isEmpty() ? clientText(c)
                        : ConnectionTableModel::tr("%1, to %2").arg(clientText(c), to);
}

const QString NotCollected = QStringLiteral("–");

// What the MySQL or PostgreSQL reader could not read: the login of an encrypted session.
bool loginUnread(const ConnectionInfo& c)
{
    if (c.postgres->detected)
        return c.postgres->tls && c.postgres->user.isEmpty();
    return c.mysql->detected && c.mysql->tls && c.mysql->user.isEmpty();
}

// A database connection whose statements are not followed (digests off, or encrypted): the
// statement and the last error are not known, which is not the same as none.
bool statementsUnfollowed(const ConnectionInfo& c)
{
    if (c.mqtt->detected)
        return false;
    if (isRedis(c))
        return !c.redis->notFollowed.isEmpty();
    if (c.postgres->detected)
        return !c.postgres->statementsFollowed || !c.postgres->notFollowed.isEmpty();
    return c.mysql->detected && (!c.mysql->statementsFollowed || !c.mysql->notFollowed.isEmpty());
}

// Why statementsUnfollowed(c).
QString unfollowedText(const ConnectionInfo& c)
{
    const QString why = isRedis(c)             ? c.redis->notFollowed
                        : c.postgres->detected ? c.postgres->notFollowed
                                               : c.mysql->notFollowed;
    if (!why.isEmpty())
        return ConnectionTableModel::tr("Not followed on this connection: %1").arg(why);
    if (encryptedUnread(c))
        return ConnectionTableModel::tr("Not followed: the session is encrypted (TLS)");
    return ConnectionTableModel::tr(
               "Not followed: query digests are off for this route (Streamgate setting "
               "routes.<route id>.%1)")
        .arg(c.postgres->detected ? QStringLiteral("postgres_digests")
                                  : QStringLiteral("mysql_digests"));
}

bool isDatabase(const ConnectionInfo& c)
{
    return c.mysql->detected || c.postgres->detected || isRedis(c) || c.mqtt->detected;
}

QString programText(const ClientProcess& p)
{
    if (p.pid > 0)
        return QStringLiteral("%1 (%2)").arg(p.name).arg(p.pid);
    return p.unknown.isEmpty() ? QString() : QStringLiteral("–");
}

// Sorting by program groups a program's connections: by name, then pid; unknown ones last.
QString programSortKey(const ClientProcess& p)
{
    if (p.pid <= 0)
        return QString(QChar(0xffff));
    return p.name.toLower() + QLatin1Char('\n') +
           QStringLiteral("%1").arg(p.pid, 10, 10, QLatin1Char('0'));
}

QString upstreamSortKey(const QString& node)
{
    const int colon = node.lastIndexOf(QLatin1Char(':'));
    if (colon < 0)
        return node;
    QString host = node.left(colon);
    if (host.startsWith(QLatin1Char('[')))
        host = host.mid(1, host.size() - 2);
    const QHostAddress address(host);
    if (address.isNull())
        return node;
    return addressSortKey(address, quint16(node.mid(colon + 1).toUInt()));
}

// Whole seconds left of a pause, rounded up: "Paused 1 s" until it ends.
qint64 pausedSeconds(const ConnectionInfo& c, qint64 nowMs)
{
    return (qMax<qint64>(0, c.pausedUntilMs - nowMs) + 999) / 1000;
}

bool isNumeric(int column)
{
    switch (column) {
    case ConnectionTableModel::IdColumn:
    case ConnectionTableModel::DurationColumn:
    case ConnectionTableModel::BytesUpColumn:
    case ConnectionTableModel::BytesDownColumn:
    case ConnectionTableModel::RateUpColumn:
    case ConnectionTableModel::RateDownColumn:
    case ConnectionTableModel::MySqlQueriesColumn:
        return true;
    default:
        return false;
    }
}

} // namespace

ConnectionTableModel::ConnectionTableModel(QObject* parent) : QAbstractTableModel(parent) {}

ConnectionState ConnectionTableModel::shownState(const Row& row)
{
    return row.closedSeenMs > 0 ? ConnectionState::Closed : row.info.state;
}

double ConnectionTableModel::shownRateUp(const Row& row)
{
    return row.closedSeenMs > 0 ? 0.0 : row.rateUp;
}

double ConnectionTableModel::shownRateDown(const Row& row)
{
    return row.closedSeenMs > 0 ? 0.0 : row.rateDown;
}

ConnectionTableModel::~ConnectionTableModel() = default;

QModelIndex ConnectionTableModel::index(int row, int column, const QModelIndex& parent) const
{
    if (parent.isValid() || row < 0 || column < 0 || row >= int(m_rows.size()) ||
        column >= ColumnCount)
        return {};
    return createIndex(row, column);
}

int ConnectionTableModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int ConnectionTableModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

const ConnectionInfo& ConnectionTableModel::connectionAt(int row) const
{
    return m_rows.at(size_t(row))->info;
}

bool ConnectionTableModel::isClosedAt(int row) const
{
    return m_rows.at(size_t(row))->closedSeenMs > 0;
}

double ConnectionTableModel::rateUpAt(int row) const
{
    return m_rows.at(size_t(row))->rateUp;
}

double ConnectionTableModel::rateDownAt(int row) const
{
    return m_rows.at(size_t(row))->rateDown;
}

QVariant ConnectionTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::TextAlignmentRole)
        return isNumeric(section) ? QVariant(Qt::AlignRight | Qt::AlignVCenter) : QVariant();
    if (role != Qt::DisplayRole && role != Qt::ToolTipRole)
        return {};
    switch (section) {
    case IdColumn:
        return tr("ID");
    case RouteColumn:
        return tr("Route");
    case ProtoColumn:
        return tr("Proto");
    case ClientColumn:
        return role == Qt::ToolTipRole
                   ? tr("Client address, with its host name once a reverse DNS lookup found one")
                   : tr("Client");
    case ProgramColumn:
        return role == Qt::ToolTipRole ? tr("The program on this machine that opened the "
                                            "connection (process id in brackets)")
                                       : tr("Program");
    case UpstreamColumn:
        return tr("Upstream");
    case StateColumn:
        return tr("State");
    case StartedColumn:
        return tr("Started");
    case DurationColumn:
        return tr("Duration");
    case BytesUpColumn:
        return role == Qt::ToolTipRole ? tr("Bytes sent by the client") : tr("Bytes ↑");
    case BytesDownColumn:
        return role == Qt::ToolTipRole ? tr("Bytes sent to the client") : tr("Bytes ↓");
    case RateUpColumn:
        return tr("Rate ↑");
    case RateDownColumn:
        return tr("Rate ↓");
    case CloseReasonColumn:
        return role == Qt::ToolTipRole ? tr("Why the session ended, and who closed first when "
                                            "the other side ended it (point at a row for the "
                                            "phase and the timers)")
                                       : tr("Close reason");
    case MySqlUserColumn:
        return role == Qt::ToolTipRole ? tr("MySQL or PostgreSQL user, or MQTT client id")
                                       : tr("User");
    case MySqlDatabaseColumn:
        return role == Qt::ToolTipRole ? tr("MySQL default database, PostgreSQL database")
                                       : tr("Database");
    case MySqlServerColumn:
        return role == Qt::ToolTipRole ? tr("MySQL or PostgreSQL server version") : tr("Server");
    case MySqlTlsColumn:
        return role == Qt::ToolTipRole ? tr("The client asked for TLS") : tr("TLS");
    case MySqlQueriesColumn:
        return role == Qt::ToolTipRole ? tr("Commands sent (MySQL: when counting is on for the "
                                            "route; PostgreSQL: when it records queries; "
                                            "Redis: routes with protocol redis)")
                                       : tr("Queries");
    case MySqlStatementColumn:
        return role == Qt::ToolTipRole
                   ? tr("The MySQL or PostgreSQL statement (when the route records queries) or "
                        "Redis command waiting for its answer now, and for how long")
                   : tr("Statement");
    case MySqlLastErrorColumn:
        return role == Qt::ToolTipRole ? tr("The last error the database server answered")
                                       : tr("Last error");
    }
    return {};
}

QVariant ConnectionTableModel::displayData(const Row& row, int column) const
{
    const ConnectionInfo& c = row.info;
    switch (column) {
    case IdColumn:
        return QString::number(c.id);
    case RouteColumn:
        return m_routeNames.value(c.routeId, c.routeId);
    case ProtoColumn:
        return protocolText(c.protocol);
    case ClientColumn:
        return m_compact ? compactClientText(c) : clientText(c);
    case ProgramColumn:
        return programText(c.clientProcess);
    case UpstreamColumn:
        return c.upstreamNode;
    case StateColumn:
        if (row.closedSeenMs == 0 && c.pausedUntilMs > 0)
            return tr("Paused %1 s").arg(pausedSeconds(c, m_lastTakenMs));
        return stateText(shownState(row));
    case StartedColumn:
        return formatClock(c.startMs);
    case DurationColumn:
        return formatDuration(durationMs(c, m_lastTakenMs));
    case BytesUpColumn:
        return formatBytes(c.bytesUp);
    case BytesDownColumn:
        return formatBytes(c.bytesDown);
    case RateUpColumn:
        return row.closedSeenMs > 0 ? QString() : formatRate(row.rateUp);
    case RateDownColumn:
        return row.closedSeenMs > 0 ? QString() : formatRate(row.rateDown);
    case CloseReasonColumn:
        return terminationText(c);
    case MySqlUserColumn:
        return loginUnread(c) ? NotCollected : databaseUser(c);
    case MySqlDatabaseColumn:
        return loginUnread(c) ? NotCollected : databaseName(c);
    case MySqlServerColumn:
        // PostgreSQL says its version after the login, which TLS hides.
        return c.postgres->detected && c.postgres->tls && c.postgres->serverVersion.isEmpty()
                   ? NotCollected
                   : serverVersion(c);
    case MySqlTlsColumn: {
        // TLS that ends at Streamgate (a listener with tls, database TLS) or starts there (an
        // upstream with scheme "tls"): the client's leg, then the server's.
        if (c.tls->passthrough)
            return tr("passed through");
        if (c.tls->terminated || c.upstreamTls->used) {
            const QString client = !c.tls->terminated     ? tr("no")
                                   : c.tls->developmentCa ? tr("yes (dev CA)")
                                                          : tr("yes");
            const QString server = !c.upstreamTls->used      ? tr("no")
                                   : c.upstreamTls->verified ? tr("yes (verified)")
                                                             : tr("yes");
            return tr("%1 · server %2").arg(client, server);
        }
        const QVariant tls = databaseTls(c);
        return tls.isNull() ? QString() : (tls.toBool() ? tr("yes") : tr("no"));
    }
    case MySqlQueriesColumn:
        if (isRedis(c))
            return QString::number(c.redis->commands);
        if (c.postgres->detected)
            return c.postgres->statementsFollowed ? QString::number(c.postgres->commands)
                                                  : NotCollected;
        if (!c.mysql->detected)
            return QString();
        return c.mysql->commandsCounted ? QString::number(c.mysql->commands) : NotCollected;
    case MySqlStatementColumn: {
        const auto [running, sinceMs] = runningCommand(c);
        if (running.isEmpty() || row.closedSeenMs > 0)
            return statementsUnfollowed(c) ? NotCollected : QString();
        return tr("%1 · %2").arg(running, formatDuration(qMax<qint64>(0, m_lastTakenMs - sinceMs)));
    }
    case MySqlLastErrorColumn: {
        const QString error = lastError(c);
        return error.isEmpty() && statementsUnfollowed(c) ? NotCollected : error;
    }
    }
    return {};
}

std::optional<bool> ConnectionTableModel::sortsBefore(int row, int other, int column) const
{
    const Row& a = *m_rows[size_t(row)];
    const Row& b = *m_rows[size_t(other)];
    switch (column) {
    case IdColumn:
        return a.info.id < b.info.id;
    case StateColumn:
        return int(shownState(a)) < int(shownState(b));
    case StartedColumn:
        return a.info.startMs < b.info.startMs;
    case DurationColumn:
        return durationMs(a.info, m_lastTakenMs) < durationMs(b.info, m_lastTakenMs);
    case BytesUpColumn:
        return a.info.bytesUp < b.info.bytesUp;
    case BytesDownColumn:
        return a.info.bytesDown < b.info.bytesDown;
    case RateUpColumn:
        return shownRateUp(a) < shownRateUp(b);
    case RateDownColumn:
        return shownRateDown(a) < shownRateDown(b);
    default:
        return std::nullopt;
    }
}

QVariant ConnectionTableModel::rawData(const Row& row, int column) const
{
    const ConnectionInfo& c = row.info;
    switch (column) {
    case IdColumn:
        return c.id;
    case RouteColumn:
        return c.routeId;
    case ProtoColumn:
        return protocolText(c.protocol);
    case ClientColumn:
        return formatEndpoint(c.clientAddress, c.clientPort);
    case ProgramColumn: // CSV: the name with the pid, as shown
        return programText(c.clientProcess);
    case UpstreamColumn:
        return c.upstreamNode;
    case StateColumn:
        return int(shownState(row));
    case StartedColumn:
        return c.startMs;
    case DurationColumn:
        return durationMs(c, m_lastTakenMs);
    case BytesUpColumn:
        return c.bytesUp;
    case BytesDownColumn:
        return c.bytesDown;
    case RateUpColumn:
        return shownRateUp(row);
    case RateDownColumn:
        return shownRateDown(row);
    case CloseReasonColumn:
        return terminationText(c);
    case MySqlUserColumn:
        return loginUnread(c) ? QVariant() : QVariant(databaseUser(c));
    case MySqlDatabaseColumn:
        return loginUnread(c) ? QVariant() : QVariant(databaseName(c));
    case MySqlServerColumn:
        return serverVersion(c);
    case MySqlTlsColumn:
        return databaseTls(c);
    case MySqlQueriesColumn:
        if (isRedis(c))
            return QVariant(c.redis->commands);
        if (c.postgres->detected)
            return c.postgres->statementsFollowed ? QVariant(c.postgres->commands) : QVariant();
        return c.mysql->commandsCounted ? QVariant(c.mysql->commands) : QVariant();
    case MySqlStatementColumn:
        return row.closedSeenMs > 0 ? QString() : runningCommand(c).first;
    case MySqlLastErrorColumn:
        return lastError(c);
    }
    return {};
}

QVariant ConnectionTableModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= int(m_rows.size()))
        return {};
    const Row& row = *m_rows[size_t(index.row())];
    switch (role) {
    case Qt::DisplayRole:
        return displayData(row, index.column());
    case RawValueRole:
        return rawData(row, index.column());
    case SortRole:
        if (index.column() == ClientColumn)
            return addressSortKey(row.info.clientAddress, row.info.clientPort);
        if (index.column() == UpstreamColumn)
            return upstreamSortKey(row.info.upstreamNode);
        if (index.column() == ProgramColumn)
            return programSortKey(row.info.clientProcess);
        if (index.column() == RouteColumn)
            return displayData(row, RouteColumn);
        return rawData(row, index.column());
    case Qt::TextAlignmentRole:
        return isNumeric(index.column()) ? QVariant(Qt::AlignRight | Qt::AlignVCenter) : QVariant();
    case Qt::ToolTipRole:
        if ((index.column() == MySqlUserColumn || index.column() == MySqlDatabaseColumn) &&
            loginUnread(row.info))
            return tr("Not known: the session is encrypted (TLS) from its login on");
        if (index.column() == MySqlLastErrorColumn && statementsUnfollowed(row.info) &&
            lastError(row.info).isEmpty())
            return unfollowedText(row.info);
        if (index.column() == MySqlStatementColumn && statementsUnfollowed(row.info) &&
            runningCommand(row.info).first.isEmpty() && row.info.mysql->notFollowed.isEmpty() &&
            row.info.postgres->notFollowed.isEmpty() && row.info.redis->notFollowed.isEmpty())
            return unfollowedText(row.info);
        if (index.column() == MySqlTlsColumn && row.info.tls->developmentCa)
            return tr("Client: %1 (%2), answered by Streamgate with its development CA's "
                      "certificate; server: %3")
                .arg(row.info.tls->version, row.info.tls->cipher,
                     !row.info.upstreamTls->used ? tr("plaintext")
                     : row.info.upstreamTls->verified
                         ? tr("%1 (%2), its certificate verified")
                               .arg(row.info.upstreamTls->version, row.info.upstreamTls->cipher)
                         : tr("%1 (%2), its certificate not verified")
                               .arg(row.info.upstreamTls->version, row.info.upstreamTls->cipher));
        if (index.column() == ProgramColumn && row.info.clientProcess->pid > 0)
            return tr("Process %1: %2")
                .arg(row.info.clientProcess->pid)
                .arg(row.info.clientProcess->cmdline.isEmpty() ? row.info.clientProcess->name
                                                               : row.info.clientProcess->cmdline);
        if (index.column() == ProgramColumn && !row.info.clientProcess->unknown.isEmpty())
            return tr("Program not found: %1").arg(row.info.clientProcess->unknown);
        if (index.column() == ClientColumn && row.info.mysql->detected) {
            const MySqlInfo& m = row.info.mysql;
            const QString text = tr("MySQL %1, user %2, database %3")
                                     .arg(m.serverVersion, m.user.isEmpty() ? tr("(none)") : m.user,
                                          m.database.isEmpty() ? tr("(none)") : m.database);
            return clientToolTip(row.info) + QLatin1Char('\n') +
                   (m.commandsCounted ? tr("%1, %2 commands").arg(text).arg(m.commands) : text);
        }
        if (index.column() == MySqlQueriesColumn && row.info.mysql->detected &&
            !row.info.mysql->commandsCounted)
            return encryptedUnread(row.info)
                       ? tr("Not counted: the session is encrypted (TLS)")
                       : tr("Not counted: command counting is off for this route (Streamgate "
                            "setting routes.<route id>.mysql_commands)");
        if (index.column() == MySqlStatementColumn && !row.info.mysql->notFollowed.isEmpty())
            return tr("Statements not followed on this connection: %1")
                .arg(row.info.mysql->notFollowed);
        if (index.column() == ClientColumn && row.info.postgres->detected) {
            const PostgresInfo& p = row.info.postgres;
            QString text = tr("PostgreSQL %1, user %2, database %3")
                               .arg(p.serverVersion, p.user.isEmpty() ? tr("(none)") : p.user,
                                    p.database.isEmpty() ? tr("(none)") : p.database);
            if (!p.applicationName.isEmpty())
                text = tr("%1, application %2").arg(text, p.applicationName);
            return clientToolTip(row.info) + QLatin1Char('\n') +
                   (p.statementsFollowed ? tr("%1, %2 commands").arg(text).arg(p.commands) : text);
        }
        if (index.column() == ClientColumn)
            return clientToolTip(row.info);
        if (index.column() == MySqlQueriesColumn && row.info.postgres->detected &&
            !row.info.postgres->statementsFollowed)
            return encryptedUnread(row.info)
                       ? tr("Not counted: the session is encrypted (TLS)")
                       : tr("Not counted: query digests are off for this route (Streamgate "
                            "setting routes.<route id>.postgres_digests)");
        if (index.column() == MySqlStatementColumn && !row.info.postgres->notFollowed.isEmpty())
            return tr("Statements not followed on this connection: %1")
                .arg(row.info.postgres->notFollowed);
        if (index.column() == MySqlStatementColumn && !row.info.postgres->statement.isEmpty())
            return tr("Running since %1:\n%2")
                .arg(formatClock(row.info.postgres->statementSinceMs),
                     row.info.postgres->statement);
        if (index.column() == MySqlStatementColumn && !row.info.redis->notFollowed.isEmpty())
            return tr("Redis commands not followed on this connection: %1")
                .arg(row.info.redis->notFollowed);
        if (index.column() == MySqlStatementColumn && !row.info.redis->command.isEmpty())
            return tr("Running since %1:\n%2")
                .arg(formatClock(row.info.redis->commandSinceMs), row.info.redis->command);
        if (index.column() == MySqlStatementColumn && !row.info.redis->lastCommand.isEmpty())
            return tr("Last command: %1").arg(row.info.redis->lastCommand);
        if (index.column() == MySqlStatementColumn && !row.info.mysql->statement.isEmpty())
            return tr("Running since %1:\n%2")
                .arg(formatClock(row.info.mysql->statementSinceMs), row.info.mysql->statement);
        if (index.column() == StartedColumn)
            return formatDateTime(row.info.startMs);
        if (index.column() == StateColumn && row.closedSeenMs == 0 && row.info.pausedUntilMs > 0)
            return tr("Paused until %1: nothing is read from either peer (a UDP session drops its "
                      "datagrams), then it goes on by itself")
                .arg(formatClock(row.info.pausedUntilMs));
        if (index.column() == CloseReasonColumn || index.column() == DurationColumn)
            return timersText(row.info);
        if (index.column() == UpstreamColumn && row.info.connectMs >= 0)
            return tr("Connected in %1 ms").arg(row.info.connectMs);
        return {};
    case RouteIdRole:
        return row.info.routeId;
    case ConnectionIdRole:
        return row.info.id;
    case AppearedMsRole:
        return row.appearedMs;
    case ClosedMsRole:
        return row.closedSeenMs;
    }
    return {};
}

void ConnectionTableModel::setRouteNames(const QHash<QString, QString>& names)
{
    if (names == m_routeNames)
        return;
    m_routeNames = names;
    if (!m_rows.empty())
        Q_EMIT dataChanged(index(0, RouteColumn), index(int(m_rows.size()) - 1, RouteColumn));
}

int ConnectionTableModel::rowOfConnection(quint64 id) const
{
    const auto it = std::partition_point(m_rows.begin(), m_rows.end(),
                                         [id](const auto& row) { return row->info.id < id; });
    return it != m_rows.end() && (*it)->info.id == id ? int(it - m_rows.begin()) : -1;
}

void ConnectionTableModel::removeRowsWhere(const std::vector<char>& remove)
{
    int runs = 0;
    for (size_t i = 0; i < remove.size(); ++i)
        runs += remove[i] && (i == 0 || !remove[i - 1]) ? 1 : 0;
    if (runs > MaxMovedRuns) {
        dropRows(remove);
        return;
    }
    // Contiguous runs, back to front, so the row numbers of earlier runs stay valid.
    for (int row = int(m_rows.size()) - 1; row >= 0;) {
        if (!remove[size_t(row)]) {
            --row;
            continue;
        }
        int first = row;
        while (first > 0 && remove[size_t(first - 1)])
            --first;
        beginRemoveRows({}, first, row);
        for (int r = first; r <= row; ++r)
            m_retired.insert(m_rows[size_t(r)]->info.id);
        m_rows.erase(m_rows.begin() + first, m_rows.begin() + row + 1);
        endRemoveRows();
        row = first - 1;
    }
}

// Many scattered rows leave in one layout change, as QSortFilterProxyModel::invalidate() drops
// the rows its filter no longer takes: persistent indexes (selection, current row) follow the
// rows that stay and become invalid for the others.
void ConnectionTableModel::dropRows(const std::vector<char>& remove)
{
    Q_EMIT layoutAboutToBeChanged();
    std::vector<int> newRow(m_rows.size(), -1);
    std::vector<std::unique_ptr<Row>> kept;
    kept.reserve(m_rows.size());
    for (size_t i = 0; i < m_rows.size(); ++i) {
        if (remove[i]) {
            m_retired.insert(m_rows[i]->info.id);
            continue;
        }
        newRow[i] = int(kept.size());
        kept.push_back(std::move(m_rows[i]));
    }
    m_rows.swap(kept);
    finishLayoutChange(newRow);
}

// Persistent indexes from the old row numbers to the new ones (-1: the row left), then
// layoutChanged.
void ConnectionTableModel::finishLayoutChange(const std::vector<int>& newRow)
{
    const QModelIndexList from = persistentIndexList();
    QModelIndexList to;
    to.reserve(from.size());
    for (const QModelIndex& old : from) {
        const int row = newRow[size_t(old.row())];
        to << (row < 0 ? QModelIndex() : index(row, old.column()));
    }
    changePersistentIndexList(from, to);
    Q_EMIT layoutChanged();
}

// New rows go where their id puts them: almost always after the last row (ids grow), one
// rowsInserted. A connection the engine listed late, or history brought back, goes in between:
// one rowsInserted per place, or past MaxMovedRuns places one layout change.
void ConnectionTableModel::appendRows(std::vector<std::unique_ptr<Row>>& rows)
{
    if (rows.empty())
        return;
    std::sort(rows.begin(), rows.end(),
              [](const auto& a, const auto& b) { return a->info.id < b->info.id; });
    if (m_rows.empty() || rows.front()->info.id > m_rows.back()->info.id) {
        const int first = int(m_rows.size());
        beginInsertRows({}, first, first + int(rows.size()) - 1);
        for (auto& row : rows)
            m_rows.push_back(std::move(row));
        endInsertRows();
        rows.clear();
        return;
    }
    // Where each new row goes: the number of rows with a lower id.
    std::vector<int> at(rows.size());
    int places = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
        const quint64 id = rows[i]->info.id;
        at[i] = int(std::partition_point(m_rows.begin(), m_rows.end(),
                                         [id](const auto& row) { return row->info.id < id; }) -
                    m_rows.begin());
        places += i == 0 || at[i] != at[i - 1] ? 1 : 0;
    }
    if (places > MaxMovedRuns) {
        Q_EMIT layoutAboutToBeChanged();
        std::vector<int> newRow(m_rows.size());
        std::vector<std::unique_ptr<Row>> merged;
        merged.reserve(m_rows.size() + rows.size());
        size_t next = 0;
        for (size_t i = 0; i < m_rows.size(); ++i) {
            for (; next < rows.size() && at[next] == int(i); ++next)
                merged.push_back(std::move(rows[next]));
            newRow[i] = int(merged.size());
            merged.push_back(std::move(m_rows[i]));
        }
        for (; next < rows.size(); ++next)
            merged.push_back(std::move(rows[next]));
        m_rows.swap(merged);
        rows.clear();
        finishLayoutChange(newRow);
        return;
    }
    // Back to front, so the places of the earlier ones stay valid.
    for (size_t end = rows.size(); end > 0;) {
        size_t first = end - 1;
        while (first > 0 && at[first - 1] == at[end - 1])
            --first;
        const int place = at[first];
        beginInsertRows({}, place, place + int(end - first) - 1);
        m_rows.insert(m_rows.begin() + place,
                      std::make_move_iterator(rows.begin() + qsizetype(first)),
                      std::make_move_iterator(rows.begin() + qsizetype(end)));
        endInsertRows();
        end = first;
    }
    rows.clear();
}

void ConnectionTableModel::applySnapshot(const Snapshot& snapshot)
{
    const qint64 now = snapshot.takenMs;
    const bool first = m_lastTakenMs == 0;
    const double dt = first ? 0.0 : double(now - m_lastTakenMs) / 1000.0;

    // Each row's entry in the snapshot (the snapshot entries found are marked, the rest are new
    // connections). The engine lists its open connections in id order, as the rows are: one
    // walk through both; any other order goes through a hash.
    const QList<ConnectionInfo>& listed = snapshot.active;
    std::vector<const ConnectionInfo*> entryOf(m_rows.size(), nullptr);
    std::vector<char> shown(size_t(listed.size()), 0);
    const bool listedInIdOrder = std::is_sorted(
        listed.begin(), listed.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    QHash<quint64, qsizetype> openAt;
    if (listedInIdOrder) {
        qsizetype at = 0;
        for (size_t i = 0; i < m_rows.size() && at < listed.size(); ++i) {
            const quint64 id = m_rows[i]->info.id;
            while (at < listed.size() && listed[at].id < id)
                ++at;
            if (at < listed.size() && listed[at].id == id) {
                entryOf[i] = &listed[at];
                shown[size_t(at++)] = 1;
            }
        }
    } else {
        openAt.reserve(listed.size());
        for (qsizetype at = 0; at < listed.size(); ++at)
            openAt.insert(listed[at].id, at);
        for (size_t i = 0; i < m_rows.size(); ++i) {
            if (const auto at = openAt.constFind(m_rows[i]->info.id); at != openAt.cend()) {
                entryOf[i] = &listed[*at];
                shown[size_t(*at)] = 1;
            }
        }
    }
    const auto isOpen = [&](quint64 id) {
        if (!listedInIdOrder)
            return openAt.contains(id);
        const auto it = std::partition_point(listed.begin(), listed.end(),
                                             [id](const auto& c) { return c.id < id; });
        return it != listed.end() && it->id == id;
    };
    QHash<quint64, const ConnectionInfo*> closed;
    closed.reserve(snapshot.closed.size());
    for (const ConnectionInfo& c : snapshot.closed)
        closed.insert(c.id, &c);

    // 1. Update existing rows; note the ones to remove.
    std::vector<char> remove(m_rows.size(), 0);
    int toRemove = 0;
    int historyRows = 0;
    for (size_t i = 0; i < m_rows.size(); ++i) {
        Row& row = *m_rows[i];
        row.changed = false;
        row.wholeRow = false;
        if (row.closedSeenMs == 0) {
            if (const ConnectionInfo* c = entryOf[i]) {
                const quint64 prevUp = row.info.bytesUp;
                const quint64 prevDown = row.info.bytesDown;
                const double prevRateUp = row.rateUp;
                const double prevRateDown = row.rateDown;
                const ConnectionState prevState = row.info.state;
                const qint64 prevPaused = row.info.pausedUntilMs;
                // Copy only what moves: a whole ConnectionInfo copy is a dozen atomic
                // reference counts, which adds up over 10,000 rows four times a second.
                const bool upstreamChanged = textChanged(row.info.upstreamNode, c->upstreamNode);
                if (upstreamChanged)
                    row.info.upstreamNode = c->upstreamNode;
                const bool mysqlChanged =
                    row.info.mysql->commands != c->mysql->commands ||
                    row.info.mysql->detected != c->mysql->detected ||
                    textChanged(row.info.mysql->user, c->mysql->user) ||
                    row.info.mysql->tls != c->mysql->tls ||
                    textChanged(row.info.mysql->serverVersion, c->mysql->serverVersion) ||
                    textChanged(row.info.mysql->database, c->mysql->database) ||
                    row.info.mysql->statementSinceMs != c->mysql->statementSinceMs ||
                    textChanged(row.info.mysql->statement, c->mysql->statement) ||
                    textChanged(row.info.mysql->lastError, c->mysql->lastError) ||
                    textChanged(row.info.mysql->notFollowed, c->mysql->notFollowed);
                if (mysqlChanged)
                    row.info.mysql = c->mysql;
                const PostgresInfo& pg = c->postgres;
                const bool postgresChanged =
                    row.info.postgres->detected != pg.detected ||
                    row.info.postgres->commands != pg.commands ||
                    textChanged(row.info.postgres->user, pg.user) ||
                    textChanged(row.info.postgres->serverVersion, pg.serverVersion) ||
                    row.info.postgres->statementSinceMs != pg.statementSinceMs ||
                    textChanged(row.info.postgres->statement, pg.statement) ||
                    textChanged(row.info.postgres->database, pg.database) ||
                    row.info.postgres->tls != pg.tls ||
                    textChanged(row.info.postgres->lastError, pg.lastError) ||
                    textChanged(row.info.postgres->loginError, pg.loginError) ||
                    textChanged(row.info.postgres->notFollowed, pg.notFollowed);
                if (postgresChanged)
                    row.info.postgres = pg;
                const bool redisChanged =
                    row.info.redis->commands != c->redis->commands ||
                    textChanged(row.info.redis->command, c->redis->command) ||
                    textChanged(row.info.redis->notFollowed, c->redis->notFollowed);
                if (redisChanged)
                    row.info.redis = c->redis;
                if (mysqlChanged || postgresChanged || redisChanged)
                    noteDatabase(row.info);
                // TLS learned after the row came: an upstream's handshake (scheme "tls",
                // database_server_tls), a MySQL client's TLS answered in the session.
                const bool tlsChanged = row.info.upstreamTls->used != c->upstreamTls->used ||
                                        row.info.tls->terminated != c->tls->terminated ||
                                        row.info.tls->developmentCa != c->tls->developmentCa;
                if (tlsChanged) {
                    row.info.upstreamTls = c->upstreamTls;
                    row.info.tls = c->tls;
                }
                // Who the client is arrives once, shortly after the connection opened; the
                // Client column, left out of the usual refresh, repaints with it.
                const bool whoChanged =
                    textChanged(row.info.clientHost, c->clientHost) ||
                    row.info.clientProcess->pid != c->clientProcess->pid ||
                    textChanged(row.info.clientProcess->unknown, c->clientProcess->unknown);
                if (whoChanged) {
                    row.info.clientHost = c->clientHost;
                    row.info.clientProcess = c->clientProcess;
                    row.wholeRow = true;
                }
                row.info.state = c->state;
                row.info.closeReason = c->closeReason;
                row.info.connectMs = c->connectMs;
                row.info.upstreamStartMs = c->upstreamStartMs;
                row.info.firstByteUpMs = c->firstByteUpMs;
                row.info.firstByteDownMs = c->firstByteDownMs;
                row.info.lastActivityMs = c->lastActivityMs;
                row.info.bytesUp = c->bytesUp;
                row.info.bytesDown = c->bytesDown;
                row.info.datagramsUp = c->datagramsUp;
                row.info.datagramsDown = c->datagramsDown;
                row.info.pausedUntilMs = c->pausedUntilMs;
                if (now - row.rateBaseMs >= MinRateSpanMs) {
                    const double span = double(now - row.rateBaseMs) / 1000.0;
                    row.rateUp = double(c->bytesUp - qMin(row.rateBaseUp, c->bytesUp)) / span;
                    row.rateDown =
                        double(c->bytesDown - qMin(row.rateBaseDown, c->bytesDown)) / span;
                    row.rateBaseUp = c->bytesUp;
                    row.rateBaseDown = c->bytesDown;
                    row.rateBaseMs = now;
                }
                const qint64 second = durationMs(*c, now) / 1000;
                row.changed = prevUp != c->bytesUp || prevDown != c->bytesDown ||
                              prevRateUp != row.rateUp || prevRateDown != row.rateDown ||
                              prevState != c->state || prevPaused != c->pausedUntilMs ||
                              upstreamChanged || mysqlChanged || postgresChanged || redisChanged ||
                              tlsChanged || whoChanged || second != row.shownSecond;
                row.shownSecond = second;
            } else {
                // Gone from the open set: closed since the last snapshot.
                if (const ConnectionInfo* c = closed.value(row.info.id)) {
                    row.info = *c;
                } else {
                    row.info.endMs = now; // fell out of the engine's ring before we saw it
                }
                row.info.state = ConnectionState::Closed;
                row.closedSeenMs = now;
                row.rateUp = row.rateDown = 0;
                row.changed = true;
                row.wholeRow = true;
            }
        } else if (now - row.closedSeenMs >= m_lingerMs) {
            if (!m_showClosed) {
                remove[i] = 1;
                ++toRemove;
            } else {
                if (!row.history) {
                    row.history = true;
                    row.changed = true; // no longer drawn as just closed
                    row.wholeRow = true;
                }
                ++historyRows;
            }
        }
    }
    // History beyond the limit: oldest (lowest ids, first rows) go first.
    for (size_t i = 0; i < m_rows.size() && historyRows > m_historyLimit; ++i) {
        if (m_rows[i]->history && !remove[i]) {
            remove[i] = 1;
            ++toRemove;
            --historyRows;
        }
    }

    // 2. Row-level dataChanged before removals (row numbers are still the ones flagged), one
    // ranged signal when most rows changed.
    int changedCount = 0;
    bool anyWholeRow = false;
    for (const auto& row : m_rows) {
        changedCount += row->changed ? 1 : 0;
        anyWholeRow = anyWholeRow || row->wholeRow;
    }
    m_lastTakenMs = now;
    if (changedCount > 0) {
        const int last = int(m_rows.size()) - 1;
        // One dataChanged per run of consecutive rows where `in` holds, over the moving columns
        // or, when a row of the run changed whole, over every column.
        const auto emitRuns = [this, last](bool (*in)(const Row&)) {
            for (int row = 0; row <= last;) {
                if (!in(*m_rows[size_t(row)])) {
                    ++row;
                    continue;
                }
                int end = row;
                bool whole = m_rows[size_t(row)]->wholeRow;
                while (end < last && in(*m_rows[size_t(end + 1)])) {
                    ++end;
                    whole = whole || m_rows[size_t(end)]->wholeRow;
                }
                Q_EMIT dataChanged(index(row, whole ? 0 : FirstMovingColumn),
                                   index(end, ColumnCount - 1));
                row = end + 1;
            }
        };
        if (changedCount * 2 > int(m_rows.size())) {
            // The columns that never change stay out of the range even when some rows changed
            // whole (closed ones): a proxy sorted by ID would otherwise check the order of every
            // row. Those rows get their own signals.
            Q_EMIT dataChanged(index(0, FirstMovingColumn), index(last, ColumnCount - 1));
            if (anyWholeRow)
                emitRuns([](const Row& row) { return row.wholeRow; });
        } else {
            emitRuns([](const Row& row) { return row.changed; });
        }
    }

    // 3. Removals.
    if (toRemove > 0)
        removeRowsWhere(remove);

    // 4. New rows: open connections not yet shown, and connections that opened and closed
    // between two snapshots (closed after the previous one).
    std::vector<std::unique_ptr<Row>> added;
    for (qsizetype i = 0; i < snapshot.active.size(); ++i) {
        const ConnectionInfo& c = snapshot.active[i];
        if (shown[size_t(i)] || rowOfConnection(c.id) >= 0)
            continue;
        auto row = std::make_unique<Row>();
        row->info = c;
        row->appearedMs = now;
        // First sight: the average since it started is the best rate estimate there is.
        const double age = double(now - c.startMs) / 1000.0;
        if (age > 0.001) {
            row->rateUp = double(c.bytesUp) / age;
            row->rateDown = double(c.bytesDown) / age;
        }
        row->shownSecond = durationMs(c, now) / 1000;
        row->rateBaseUp = c.bytesUp;
        row->rateBaseDown = c.bytesDown;
        row->rateBaseMs = now;
        noteDatabase(c);
        added.push_back(std::move(row));
    }
    for (const ConnectionInfo& c : snapshot.closed) {
        if (isOpen(c.id) || rowOfConnection(c.id) >= 0 || m_retired.contains(c.id))
            continue;
        const bool fresh = !first && c.endMs >= now - qint64(dt * 1000);
        if (!fresh && !m_showClosed) {
            m_retired.insert(c.id);
            continue;
        }
        auto row = std::make_unique<Row>();
        row->info = c;
        row->info.state = ConnectionState::Closed;
        row->appearedMs = fresh ? now : c.startMs;
        row->closedSeenMs = fresh ? now : qMin(now - m_lingerMs, c.endMs);
        row->history = !fresh;
        noteDatabase(c);
        added.push_back(std::move(row));
    }
    appendRows(added);

    // Retired ids the engine no longer lists can never come back.
    for (auto it = m_retired.begin(); it != m_retired.end();) {
        if (closed.contains(*it))
            ++it;
        else
            it = m_retired.erase(it);
    }
    m_lastClosed = snapshot.closed;
    m_openCount = int(snapshot.active.size());

    // Announced once the rows are in place: a view that reveals the database columns then
    // finds them filled.
    if (!m_newDatabaseRoutes.isEmpty()) {
        const QStringList routes = std::exchange(m_newDatabaseRoutes, {});
        if (!m_databaseSeen) {
            m_databaseSeen = true;
            Q_EMIT databaseFirstSeen();
        }
        for (const QString& route : routes)
            Q_EMIT databaseRouteSeen(route);
    }
}

// Only for new rows and rows whose reader learned something: this costs nothing per refresh.
void ConnectionTableModel::noteDatabase(const ConnectionInfo& c)
{
    if (isDatabase(c) && !m_databaseRoutes.contains(c.routeId)) {
        m_databaseRoutes.insert(c.routeId);
        m_newDatabaseRoutes << c.routeId;
    }
}

void ConnectionTableModel::setCompactAddresses(bool compact)
{
    if (compact == m_compact)
        return;
    m_compact = compact;
    if (!m_rows.empty())
        Q_EMIT dataChanged(index(0, ClientColumn), index(int(m_rows.size()) - 1, ClientColumn));
}

void ConnectionTableModel::setShowClosed(bool show)
{
    if (show == m_showClosed)
        return;
    m_showClosed = show;
    if (!show) {
        std::vector<char> remove(m_rows.size(), 0);
        bool any = false;
        for (size_t i = 0; i < m_rows.size(); ++i) {
            const Row& row = *m_rows[i];
            if (row.closedSeenMs > 0 && m_lastTakenMs - row.closedSeenMs >= m_lingerMs) {
                remove[i] = 1;
                any = true;
            }
        }
        if (any)
            removeRowsWhere(remove);
        return;
    }
    // Bring back what the engine still remembers.
    std::vector<std::unique_ptr<Row>> added;
    for (const ConnectionInfo& c : std::as_const(m_lastClosed)) {
        if (rowOfConnection(c.id) >= 0)
            continue;
        auto row = std::make_unique<Row>();
        row->info = c;
        row->info.state = ConnectionState::Closed;
        row->appearedMs = c.startMs;
        row->closedSeenMs = qMin(m_lastTakenMs - m_lingerMs, c.endMs);
        row->history = true;
        added.push_back(std::move(row));
        m_retired.remove(c.id);
    }
    appendRows(added);
}

} // namespace sg::ui
