#include "models/connectiontablemodel.h"

#include "format.h"
#include "models/connectiontablemodel_p.h"
#include "models/roles.h"

#include <algorithm>
#include <utility>

namespace sg::ui {

using detail::durationMs;
using detail::isRedis;

namespace {

// 16 address bytes in hex then the port: sorts IPv4 (as mapped) and IPv6 numerically.
QString addressSortKey(const QHostAddress& address, quint16 port)
{
    const Q_IPV6ADDR v6 = address.toIPv6Address();
    return QString::fromLatin1(QByteArray(reinterpret_cast<const char*>(v6.c), 16).toHex()) +
           QStringLiteral("%1").arg(port, 5, 10, QLatin1Char('0'));
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

void ConnectionTableModel::setCompactAddresses(bool compact)
{
    if (compact == m_compact)
        return;
    m_compact = compact;
    if (!m_rows.empty())
        Q_EMIT dataChanged(index(0, ClientColumn), index(int(m_rows.size()) - 1, ClientColumn));
}

} // namespace sg::ui
