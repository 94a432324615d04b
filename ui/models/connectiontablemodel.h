#pragma once
// The live connections table. Each engine Snapshot is applied as row-level changes: new
// connection ids are inserted, gone ones removed, changed rows get dataChanged (one ranged
// dataChanged when most rows changed). The model is never reset on a refresh, so selection,
// persistent indexes and scroll survive. Rates come from consecutive snapshots. A connection
// that closes stays (marked closed) for closedLingerMs, then becomes history: kept while
// "show closed" is on (up to historyLimit rows), removed otherwise. Rows are kept in id order:
// sorting by ID is the row order (ConnectionFilter sorts by it without comparing rows).

#include "stats/snapshot.h"

#include <QAbstractTableModel>
#include <QHash>
#include <QSet>
#include <memory>
#include <optional>
#include <vector>

namespace sg::ui {

class ConnectionTableModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConnectionTableModel)

public:
    enum Column {
        IdColumn,
        RouteColumn,
        ProtoColumn,
        // "alice-laptop (192.168.1.5:51234)" once its host name is known; compact:
        // "alice-laptop:51234", and a client on the listener's own address (a local one) as
        // ":51234"
        ClientColumn,
        ProgramColumn, // the program on this machine owning the client's socket: "mysql (4242)"
        UpstreamColumn,
        StateColumn,
        StartedColumn,
        DurationColumn,
        BytesUpColumn,
        BytesDownColumn,
        RateUpColumn,
        RateDownColumn,
        CloseReasonColumn,
        // What the MySQL inspector learned (empty for other connections).
        MySqlUserColumn,
        MySqlDatabaseColumn,
        MySqlServerColumn,
        MySqlTlsColumn,
        MySqlQueriesColumn,
        // With query digests on: the statement running now (and for how long), the last error.
        MySqlStatementColumn,
        MySqlLastErrorColumn,
        ColumnCount
    };
    Q_ENUM(Column)

    explicit ConnectionTableModel(QObject* parent = nullptr);
    ~ConnectionTableModel() override;

    // Without QAbstractTableModel's virtual calls: a sorting proxy asks for two per comparison.
    QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    void applySnapshot(const Snapshot& snapshot);
    static bool isMySqlColumn(int column)
    {
        return column >= MySqlUserColumn && column < ColumnCount;
    }
    // True once a connection a database reader follows (MySQL, PostgreSQL, Redis) or an MQTT
    // client was shown; databaseFirstSeen() is emitted the first time.
    bool databaseSeen() const { return m_databaseSeen; }
    // The routes such a connection was shown on (databaseRouteSeen() the first time for each).
    bool databaseSeenOn(const QString& routeId) const { return m_databaseRoutes.contains(routeId); }

    // The Client column without the host of a local client and with the short host name of a
    // remote one (the full form stays in the tooltip, the CSV and the sort).
    bool compactAddresses() const { return m_compact; }
    void setCompactAddresses(bool compact);

    bool showClosed() const { return m_showClosed; }
    void setShowClosed(bool show);
    void setClosedLingerMs(qint64 ms) { m_lingerMs = ms; }
    qint64 closedLingerMs() const { return m_lingerMs; }
    void setHistoryLimit(int rows) { m_historyLimit = rows; }
    // Route id -> name shown in the Route column.
    void setRouteNames(const QHash<QString, QString>& names);

    int rowOfConnection(quint64 id) const; // -1 when not shown
    const ConnectionInfo& connectionAt(int row) const;
    bool isClosedAt(int row) const;
    double rateUpAt(int row) const;
    double rateDownAt(int row) const;
    int openCount() const { return m_openCount; }
    // Whether `row` sorts before `other` by `column`'s SortRole, for the columns sorted by a
    // number (ID, state, times, bytes, rates), compared without building QVariants; nullopt for
    // the other columns.
    std::optional<bool> sortsBefore(int row, int other, int column) const;

Q_SIGNALS:
    void databaseFirstSeen();
    void databaseRouteSeen(const QString& routeId);

private:
    struct Row;
    void appendRows(std::vector<std::unique_ptr<Row>>& rows);
    void removeRowsWhere(const std::vector<char>& remove);
    void dropRows(const std::vector<char>& remove);
    void finishLayoutChange(const std::vector<int>& newRow);
    void noteDatabase(const ConnectionInfo& c);
    QVariant displayData(const Row& row, int column) const;
    QVariant rawData(const Row& row, int column) const;
    static ConnectionState shownState(const Row& row); // Closed once seen closed
    static double shownRateUp(const Row& row);         // 0 once closed
    static double shownRateDown(const Row& row);

    std::vector<std::unique_ptr<Row>> m_rows;
    QSet<quint64> m_retired; // removed closed ids that the engine's closed ring still lists
    QList<ConnectionInfo> m_lastClosed;
    QHash<QString, QString> m_routeNames;
    QSet<QString> m_databaseRoutes;
    QStringList m_newDatabaseRoutes; // seen during this snapshot, announced at its end
    qint64 m_lastTakenMs = 0;
    qint64 m_lingerMs = 3000;
    int m_historyLimit = 2000;
    int m_openCount = 0;
    bool m_showClosed = false;
    bool m_databaseSeen = false;
    bool m_compact = true;
};

} // namespace sg::ui
