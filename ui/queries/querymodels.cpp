#include "queries/querymodels.h"

#include "format.h"
#include "models/roles.h"
#include "proxy/sqldigest.h"

#include <QLocale>

namespace sg::ui {

QString formatMicros(quint64 us)
{
    if (us < 1000)
        return QStringLiteral("%1 µs").arg(us);
    if (us < 1000000)
        return QStringLiteral("%1 ms").arg(double(us) / 1000, 0, 'f', us < 100000 ? 2 : 1);
    return QStringLiteral("%1 s").arg(double(us) / 1000000, 0, 'f', 2);
}

QString DigestRow::key() const
{
    return QStringList{QString::number(digest.digest, 16), digest.username, digest.schemaname,
                       digest.clientAddress}
        .join(QLatin1Char('\n'));
}

DigestsModel::DigestsModel(QObject* parent) : KeyedTableModel<DigestRow>(parent) {}

int DigestsModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant DigestsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case TextColumn:
        return tr("Statement");
    case CountColumn:
        return tr("Count");
    case TotalTimeColumn:
        return tr("Total time");
    case AverageTimeColumn:
        return tr("Average");
    case MinTimeColumn:
        return tr("Min");
    case MaxTimeColumn:
        return tr("Max");
    case RowsSentColumn:
        return tr("Rows sent");
    case RowsAffectedColumn:
        return tr("Rows affected");
    case ErrorsColumn:
        return tr("Errors");
    case UserColumn:
        return tr("User");
    case SchemaColumn:
        return tr("Database");
    case ClientColumn:
        return tr("Client");
    case LastSeenColumn:
        return tr("Last seen");
    case DigestColumn:
        return tr("Digest");
    }
    return {};
}

QVariant DigestsModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const SqlDigestRow& d = rowAt(index.row()).digest;
    const quint64 average = d.countStar ? d.sumTime / d.countStar : 0;
    if (role == Qt::TextAlignmentRole)
        return index.column() >= CountColumn && index.column() <= ErrorsColumn
                   ? QVariant(Qt::AlignRight | Qt::AlignVCenter)
                   : QVariant();
    if (role == Qt::ToolTipRole && index.column() == TextColumn)
        return d.digestText;
    if (role != Qt::DisplayRole && role != RawValueRole && role != SortRole)
        return {};
    const bool raw = role != Qt::DisplayRole;
    auto number = [raw](quint64 n) { return raw ? QVariant(n) : QVariant(QLocale().toString(n)); };
    auto micros = [raw](quint64 us) { return raw ? QVariant(us) : QVariant(formatMicros(us)); };
    switch (index.column()) {
    case TextColumn:
        return d.digestText;
    case CountColumn:
        return number(d.countStar);
    case TotalTimeColumn:
        return micros(d.sumTime);
    case AverageTimeColumn:
        return micros(average);
    case MinTimeColumn:
        return micros(d.minTime);
    case MaxTimeColumn:
        return micros(d.maxTime);
    case RowsSentColumn:
        return number(d.sumRowsSent);
    case RowsAffectedColumn:
        return number(d.sumRowsAffected);
    case ErrorsColumn:
        return number(d.errors);
    case UserColumn:
        return d.username;
    case SchemaColumn:
        return d.schemaname;
    case ClientColumn:
        return d.clientAddress;
    case LastSeenColumn:
        return raw ? QVariant(d.lastSeen * 1000) : QVariant(formatClock(d.lastSeen * 1000));
    case DigestColumn:
        return digestHex(d.digest);
    }
    return {};
}

void DigestsModel::setDigests(const QList<SqlDigestRow>& digests)
{
    QList<DigestRow> rows;
    rows.reserve(digests.size());
    for (const SqlDigestRow& d : digests)
        rows << DigestRow{d};
    updateRows(rows);
}

QString MySqlErrorTableRow::key() const
{
    return QStringList{QString::number(error.errorCode), error.sqlState, error.username,
                       error.schemaname, error.clientAddress}
        .join(QLatin1Char('\n'));
}

MySqlErrorsModel::MySqlErrorsModel(QObject* parent) : KeyedTableModel<MySqlErrorTableRow>(parent) {}

int MySqlErrorsModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant MySqlErrorsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case CodeColumn:
        return tr("Error");
    case SqlStateColumn:
        return tr("SQLSTATE");
    case CountColumn:
        return tr("Count");
    case MessageColumn:
        return tr("Last message");
    case UserColumn:
        return tr("User");
    case SchemaColumn:
        return tr("Database");
    case ClientColumn:
        return tr("Client");
    case FirstSeenColumn:
        return tr("First seen");
    case LastSeenColumn:
        return tr("Last seen");
    }
    return {};
}

QVariant MySqlErrorsModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const SqlErrorRow& e = rowAt(index.row()).error;
    if (role == Qt::ToolTipRole && index.column() == MessageColumn)
        return e.lastError;
    if (role != Qt::DisplayRole && role != RawValueRole && role != SortRole)
        return {};
    const bool raw = role != Qt::DisplayRole;
    switch (index.column()) {
    case CodeColumn:
        if (raw)
            return e.errorCode;
        return e.errorCode ? QString::number(e.errorCode) : QString(); // PostgreSQL has none
    case SqlStateColumn:
        return e.sqlState;
    case CountColumn:
        return raw ? QVariant(e.countStar) : QVariant(QLocale().toString(e.countStar));
    case MessageColumn:
        return e.lastError;
    case UserColumn:
        return e.username;
    case SchemaColumn:
        return e.schemaname;
    case ClientColumn:
        return e.clientAddress;
    case FirstSeenColumn:
        return raw ? QVariant(e.firstSeen * 1000) : QVariant(formatClock(e.firstSeen * 1000));
    case LastSeenColumn:
        return raw ? QVariant(e.lastSeen * 1000) : QVariant(formatClock(e.lastSeen * 1000));
    }
    return {};
}

void MySqlErrorsModel::setErrors(const QList<SqlErrorRow>& errors)
{
    QList<MySqlErrorTableRow> rows;
    rows.reserve(errors.size());
    for (const SqlErrorRow& e : errors)
        rows << MySqlErrorTableRow{e};
    updateRows(rows);
}

} // namespace sg::ui
