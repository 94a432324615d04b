#pragma once
// Filling in forms as a user would: named children, typed text (select all, then key clicks)
// and table cells edited through the editor the view opens for them.

#include <QAbstractSpinBox>
#include <QLineEdit>
#include <QTableWidget>
#include <QTest>

namespace sgtest {

template <typename T> T* child(QObject* parent, const char* name)
{
    T* w = parent->findChild<T*>(QLatin1String(name));
    if (!w)
        qFatal("no widget %s", name);
    return w;
}

inline void typeInto(QWidget* widget, const QString& text)
{
    widget->setFocus();
    if (auto* edit = qobject_cast<QLineEdit*>(widget))
        edit->selectAll();
    if (auto* spin = qobject_cast<QAbstractSpinBox*>(widget))
        spin->selectAll();
    QTest::keyClicks(widget, text);
}

// Edits one cell with key clicks, as a user double-clicking it would, and waits until the view
// has taken the value. False when the view opened no editor or never closed it.
[[nodiscard]] inline bool editCell(QTableWidget* table, int row, int column, const QString& text)
{
    table->setCurrentCell(row, column);
    table->editItem(table->item(row, column));
    // The view's own editor, whichever window has the focus.
    QWidget* editor = table->indexWidget(table->model()->index(row, column));
    if (!editor)
        return false;
    if (auto* spin = qobject_cast<QAbstractSpinBox*>(editor))
        spin->selectAll();
    else if (auto* edit = qobject_cast<QLineEdit*>(editor))
        edit->selectAll();
    QTest::keyClicks(editor, text);
    QTest::keyClick(editor, Qt::Key_Return);
    // The delegate commits and closes on its next turn of the event loop.
    return QTest::qWaitFor(
        [table, row, column] { return !table->indexWidget(table->model()->index(row, column)); },
        5000);
}

// Closes the editor open on a cell, as Escape does, without changing the cell.
inline void closeCellEditor(QTableWidget* table, int row, int column)
{
    if (QWidget* editor = table->indexWidget(table->model()->index(row, column)))
        QTest::keyClick(editor, Qt::Key_Escape);
}

// A double-click on a row, as a user makes it: press and release, then the double click.
inline void doubleClickRow(QTableWidget* table, int row)
{
    const QPoint at = table->visualItemRect(table->item(row, 0)).center();
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, at);
    QTest::mouseDClick(table->viewport(), Qt::LeftButton, {}, at);
}

} // namespace sgtest
