#pragma once
// A table whose rows are identified by a key (client IP + route, upstream + node, ...). Each
// update is applied as row-level changes: gone keys are removed, new keys appended, rows whose
// value changed get one dataChanged. Rows never reset, so selection and scroll survive.
// Row must provide `QString key() const` and `operator==`.

#include <QAbstractTableModel>
#include <QHash>
#include <QList>

namespace sg::ui {

template <typename Row> class KeyedTableModel : public QAbstractTableModel
{
public:
    using QAbstractTableModel::QAbstractTableModel;

    int rowCount(const QModelIndex& parent = {}) const override
    {
        return parent.isValid() ? 0 : int(m_rows.size());
    }
    const Row& rowAt(int row) const { return m_rows.at(row); }
    int rowOfKey(const QString& key) const { return m_index.value(key, -1); }

protected:
    void updateRows(const QList<Row>& next)
    {
        QHash<QString, int> nextIndex;
        nextIndex.reserve(next.size());
        for (int i = 0; i < next.size(); ++i)
            nextIndex.insert(next.at(i).key(), i);

        // Removals, back to front so earlier row numbers stay valid; contiguous runs at once.
        bool removed = false;
        for (int row = int(m_rows.size()) - 1; row >= 0;) {
            if (nextIndex.contains(m_rows.at(row).key())) {
                --row;
                continue;
            }
            int first = row;
            while (first > 0 && !nextIndex.contains(m_rows.at(first - 1).key()))
                --first;
            beginRemoveRows({}, first, row);
            m_rows.remove(first, row - first + 1);
            endRemoveRows();
            removed = true;
            row = first - 1;
        }
        if (removed)
            rebuildIndex();

        // Updates in place.
        const int columns = columnCount();
        int changedFirst = -1;
        for (int row = 0; row <= int(m_rows.size()); ++row) {
            bool changed = false;
            if (row < int(m_rows.size())) {
                const Row& candidate = next.at(nextIndex.value(m_rows.at(row).key()));
                if (!(candidate == m_rows.at(row))) {
                    m_rows[row] = candidate;
                    changed = true;
                }
            }
            if (changed && changedFirst < 0)
                changedFirst = row;
            if (!changed && changedFirst >= 0) {
                Q_EMIT dataChanged(index(changedFirst, 0), index(row - 1, columns - 1));
                changedFirst = -1;
            }
        }

        // New keys, appended in the order given.
        QList<Row> added;
        for (const Row& candidate : next) {
            if (!m_index.contains(candidate.key()))
                added << candidate;
        }
        if (!added.isEmpty()) {
            const int first = int(m_rows.size());
            beginInsertRows({}, first, first + int(added.size()) - 1);
            for (const Row& r : added) {
                m_index.insert(r.key(), int(m_rows.size()));
                m_rows << r;
            }
            endInsertRows();
        }
    }

    void clearRows()
    {
        if (m_rows.isEmpty())
            return;
        beginRemoveRows({}, 0, int(m_rows.size()) - 1);
        m_rows.clear();
        m_index.clear();
        endRemoveRows();
    }

    QList<Row> m_rows;

private:
    void rebuildIndex()
    {
        m_index.clear();
        m_index.reserve(m_rows.size());
        for (int i = 0; i < m_rows.size(); ++i)
            m_index.insert(m_rows.at(i).key(), i);
    }

    QHash<QString, int> m_index;
};

} // namespace sg::ui
