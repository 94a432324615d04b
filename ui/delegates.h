#pragma once
// Visual effects of the tables live here, not in the models: the fading tint of new and closed
// connections, coloured status dots, sparklines and in-cell action buttons. Colours are blended
// with the palette, so light and dark themes both read well.

#include <QFont>
#include <QHash>
#include <QPointer>
#include <QSet>
#include <QStaticText>
#include <QStyledItemDelegate>
#include <utility>

namespace sg::ui {

// Tints a connection row: green fading out after it appeared, red while it is "just closed",
// dimmed text once it is history; amber while the toxic selected in the Faults tab hits it.
// Reads AppearedMsRole, ClosedMsRole and ConnectionIdRole. A cell's text is drawn from a cache of
// laid-out (elided) texts, placed as the style places it: most cells read the same from one
// refresh to the next, and laying text out is most of what a repaint of the table costs. The
// style is left out of cells it draws nothing for once their text is left out (see
// styleDrawsBareCell()).
class ConnectionRowDelegate final : public QStyledItemDelegate
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConnectionRowDelegate)

public:
    explicit ConnectionRowDelegate(QObject* parent = nullptr);
    void setFadeMs(qint64 ms) { m_fadeMs = ms; }
    void setClosedLingerMs(qint64 ms) { m_lingerMs = ms; }
    void setHighlighted(const QList<quint64>& ids) { m_highlighted = QSet(ids.begin(), ids.end()); }
    bool isHighlighted(quint64 id) const { return m_highlighted.contains(id); }
    void paint(QPainter* painter, const QStyleOptionViewItem& option,
               const QModelIndex& index) const override;

private:
    void drawText(QPainter* painter, const QStyleOptionViewItem& option, const QString& text,
                  const QStyle* style) const;
    static bool isBare(const QStyleOptionViewItem& option);
    bool styleDrawsBareCell(const QStyleOptionViewItem& option, const QStyle* style) const;

    qint64 m_fadeMs = 2500;
    qint64 m_lingerMs = 3000;
    QSet<quint64> m_highlighted;
    // (text, width available) -> the text elided to that width, laid out in m_textFont.
    mutable QHash<std::pair<QString, int>, QStaticText> m_texts;
    mutable QFont m_textFont;
    // The style asked about (a deleted one reads null), and for each kind of bare cell (state in
    // the high half, features in the low) whether it draws anything.
    mutable QPointer<const QStyle> m_bareStyle;
    mutable QHash<quint64, bool> m_bareCells;
};

// A coloured dot before the text, from HealthRole (1 good, 2 warning, 3 error, 0 neutral).
class StatusDotDelegate final : public QStyledItemDelegate
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(StatusDotDelegate)

public:
    using QStyledItemDelegate::QStyledItemDelegate;
    void paint(QPainter* painter, const QStyleOptionViewItem& option,
               const QModelIndex& index) const override;
    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;
};

// A small line chart of HistoryRole (QList<double>), scaled to its own maximum.
class SparklineDelegate final : public QStyledItemDelegate
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SparklineDelegate)

public:
    using QStyledItemDelegate::QStyledItemDelegate;
    void paint(QPainter* painter, const QStyleOptionViewItem& option,
               const QModelIndex& index) const override;
    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;
};

// A push button drawn in the cell when ButtonRole has text (else the cell's own text); a click
// emits clicked(index).
class ButtonDelegate final : public QStyledItemDelegate
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ButtonDelegate)

public:
    using QStyledItemDelegate::QStyledItemDelegate;
    void paint(QPainter* painter, const QStyleOptionViewItem& option,
               const QModelIndex& index) const override;
    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;
    bool editorEvent(QEvent* event, QAbstractItemModel* model, const QStyleOptionViewItem& option,
                     const QModelIndex& index) override;

Q_SIGNALS:
    void clicked(const QModelIndex& index);

private:
    QRect buttonRect(const QStyleOptionViewItem& option, const QString& text) const;
    QPersistentModelIndex m_pressed;
};

QColor healthColor(int health, const QPalette& palette);
// `tint` over `base` by `amount` (0: base, 1: tint).
QColor blend(const QColor& base, const QColor& tint, double amount);
// A dark theme: light text on a dark base.
bool isDark(const QPalette& palette);

} // namespace sg::ui
