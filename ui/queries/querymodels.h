#pragma once
// The tables of the Queries tab: a route's MySQL query digests and the errors its server
// answered (stats/sqlstats.h, ProxySQL's stats_mysql_query_digest and stats_mysql_errors).
// Rows are diffed by key, never reset, so selection, sort and scroll survive each refresh.
// Times are shown in ms/µs and given raw (RawValueRole) in microseconds; seen times as ms
// since the epoch.

#include "models/keyedtablemodel.h"
#include "stats/sqlstats.h"

namespace sg::ui {

// "85 µs", "4.21 ms", "1.30 s"
QString formatMicros(quint64 us);

struct DigestRow
{
    SqlDigestRow digest;
    QString key() const;
    bool operator==(const DigestRow& o) const { return digest == o.digest; }
};

class DigestsModel final : public KeyedTableModel<DigestRow>
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DigestsModel)

public:
    enum Column {
        TextColumn,
        CountColumn,
        TotalTimeColumn,
        AverageTimeColumn,
        MinTimeColumn,
        MaxTimeColumn,
        RowsSentColumn,
        RowsAffectedColumn,
        ErrorsColumn,
        UserColumn,
        SchemaColumn,
        ClientColumn,
        LastSeenColumn,
        DigestColumn,
        ColumnCount
    };
    Q_ENUM(Column)

    explicit DigestsModel(QObject* parent = nullptr);

    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    void setDigests(const QList<SqlDigestRow>& digests);
};

struct MySqlErrorTableRow
{
    SqlErrorRow error;
    QString key() const;
    bool operator==(const MySqlErrorTableRow& o) const { return error == o.error; }
};

class MySqlErrorsModel final : public KeyedTableModel<MySqlErrorTableRow>
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MySqlErrorsModel)

public:
    enum Column {
        CodeColumn,
        SqlStateColumn,
        CountColumn,
        MessageColumn,
        UserColumn,
        SchemaColumn,
        ClientColumn,
        FirstSeenColumn,
        LastSeenColumn,
        ColumnCount
    };
    Q_ENUM(Column)

    explicit MySqlErrorsModel(QObject* parent = nullptr);

    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    void setErrors(const QList<SqlErrorRow>& errors);
};

} // namespace sg::ui
