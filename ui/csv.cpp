#include "csv.h"

#include "models/roles.h"

#include <QAbstractItemModel>
#include <QStringList>

namespace sg::ui {

namespace {
QString field(const QVariant& value)
{
    QString text = value.toString();
    if (text.contains(QLatin1Char(',')) || text.contains(QLatin1Char('"')) ||
        text.contains(QLatin1Char('\n')) || text.contains(QLatin1Char('\r'))) {
        text.replace(QLatin1Char('"'), QStringLiteral("\"\""));
        text = QLatin1Char('"') + text + QLatin1Char('"');
    }
    return text;
}
} // namespace

QString tableToCsv(const QAbstractItemModel* model)
{
    QString out;
    QStringList cells;
    for (int c = 0; c < model->columnCount(); ++c)
        cells << field(model->headerData(c, Qt::Horizontal));
    out += cells.join(QLatin1Char(',')) + QStringLiteral("\r\n");
    for (int r = 0; r < model->rowCount(); ++r) {
        cells.clear();
        for (int c = 0; c < model->columnCount(); ++c) {
            const QModelIndex index = model->index(r, c);
            QVariant raw = index.data(RawValueRole);
            if (!raw.isValid())
                raw = index.data(Qt::DisplayRole);
            cells << field(raw);
        }
        out += cells.join(QLatin1Char(',')) + QStringLiteral("\r\n");
    }
    return out;
}

} // namespace sg::ui
