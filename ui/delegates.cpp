#include "delegates.h"

#include "models/roles.h"

#include <QAbstractProxyModel>
#include <QApplication>
#include <QDateTime>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <utility>

namespace sg::ui {

QColor blend(const QColor& base, const QColor& tint, double amount)
{
    amount = qBound(0.0, amount, 1.0);
    return QColor::fromRgbF(float(base.redF() * (1 - amount) + tint.redF() * amount),
                            float(base.greenF() * (1 - amount) + tint.greenF() * amount),
                            float(base.blueF() * (1 - amount) + tint.blueF() * amount));
}

bool isDark(const QPalette& palette)
{
    return palette.color(QPalette::Base).lightnessF() < 0.5;
}

QColor healthColor(int health, const QPalette& palette)
{
    const bool dark = isDark(palette);
    switch (health) {
    case 1:
        return dark ? QColor(0x4c, 0xc3, 0x6a) : QColor(0x1e, 0x9e, 0x4a);
    case 2:
        return dark ? QColor(0xf0, 0xb4, 0x3c) : QColor(0xd0, 0x8a, 0x00);
    case 3:
        return dark ? QColor(0xff, 0x6b, 0x6b) : QColor(0xd0, 0x30, 0x30);
    default:
        return palette.color(QPalette::Disabled, QPalette::Text);
    }
}

ConnectionRowDelegate::ConnectionRowDelegate(QObject* parent) : QStyledItemDelegate(parent) {}

void ConnectionRowDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option,
                                  const QModelIndex& index) const
{
    // The roles come from the model behind the view's sorting filter: each read through the
    // filter maps the index again (nine per cell).
    const auto* filter = qobject_cast<const QAbstractProxyModel*>(index.model());
    const QModelIndex source = filter ? filter->mapToSource(index) : index;
    QStyleOptionViewItem opt = option;
    initStyleOption(&opt, source);
    opt.index = index;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const qint64 appeared = source.data(AppearedMsRole).toLongLong();
    const qint64 closed = source.data(ClosedMsRole).toLongLong();
    const QColor base =
        opt.backgroundBrush.style() != Qt::NoBrush
            ? opt.backgroundBrush.color()
            : opt.palette.color(index.row() % 2 ? QPalette::AlternateBase : QPalette::Base);
    const bool selected = opt.state & QStyle::State_Selected;
    if (closed > 0) {
        if (now - closed < m_lingerMs) {
            if (!selected)
                opt.backgroundBrush = blend(base, healthColor(3, opt.palette), 0.28);
        } else {
            opt.palette.setColor(QPalette::Text,
                                 opt.palette.color(QPalette::Disabled, QPalette::Text));
        }
    } else if (!selected && !m_highlighted.isEmpty() &&
               isHighlighted(source.data(ConnectionIdRole).toULongLong())) {
        opt.backgroundBrush = blend(base, healthColor(2, opt.palette), 0.35);
    } else if (appeared > 0 && now - appeared < m_fadeMs && !selected) {
        const double left = 1.0 - double(now - appeared) / double(m_fadeMs);
        opt.backgroundBrush = blend(base, healthColor(1, opt.palette), 0.35 * left);
    }
    const QWidget* widget = option.widget;
    QStyle* style = widget ? widget->style() : QApplication::style();
    // One line of text without icon or check box (every cell of the table): the style draws the
    // cell without it, then the text comes from the cache.
    constexpr auto Own = QStyleOptionViewItem::WrapText | QStyleOptionViewItem::HasCheckIndicator |
                         QStyleOptionViewItem::HasDecoration;
    if ((opt.features & Own) || (opt.state & QStyle::State_Editing)) {
        style->drawControl(QStyle::CE_ItemViewItem, &opt, painter, widget);
        return;
    }
    const QString text = std::exchange(opt.text, QString());
    opt.features &= ~QStyleOptionViewItem::HasDisplay;
    if (!isBare(opt) || styleDrawsBareCell(opt, style))
        style->drawControl(QStyle::CE_ItemViewItem, &opt, painter, widget);
    drawText(painter, opt, text, style);
}

// A cell the view draws on its own row background: not selected, current, hovered or tinted.
bool ConnectionRowDelegate::isBare(const QStyleOptionViewItem& option)
{
    constexpr auto Marked =
        QStyle::State_Selected | QStyle::State_HasFocus | QStyle::State_MouseOver;
    return !(option.state & Marked) && option.backgroundBrush.style() == Qt::NoBrush;
}

// Whether the style draws anything for a bare cell without its text, found out once per style
// and kind of cell by drawing one into an empty image. Fusion and QCommonStyle draw nothing
// there, and their pass (clip, three sub-rectangles, save and restore) costs as much as the text.
bool ConnectionRowDelegate::styleDrawsBareCell(const QStyleOptionViewItem& option,
                                               const QStyle* style) const
{
    if (m_bareStyle != style) {
        m_bareStyle = style;
        m_bareCells.clear();
    }
    const quint64 kind = quint64(quint32(option.state)) << 32 | quint32(option.features);
    if (const auto known = m_bareCells.constFind(kind); known != m_bareCells.cend())
        return *known;
    QStyleOptionViewItem probe = option;
    probe.rect.moveTo(0, 0);
    QImage image(probe.rect.size(), QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::transparent);
    const QImage empty = image;
    QPainter painter(&image);
    style->drawControl(QStyle::CE_ItemViewItem, &probe, &painter, option.widget);
    painter.end();
    const bool draws = image != empty;
    m_bareCells.insert(kind, draws);
    return draws;
}

// Where and in which colour QCommonStyle draws an item's text: inside the focus frame margin,
// aligned as the option says, elided as the view says.
void ConnectionRowDelegate::drawText(QPainter* painter, const QStyleOptionViewItem& option,
                                     const QString& text, const QStyle* style) const
{
    if (text.isEmpty())
        return;
    const int margin = style->pixelMetric(QStyle::PM_FocusFrameHMargin, nullptr, option.widget) + 1;
    const QRect rect = option.rect.adjusted(margin, 0, -margin, 0);
    if (option.font != m_textFont) {
        m_texts.clear();
        m_textFont = option.font;
    }
    if (m_texts.size() > 8192) // a few screens of cells; what scrolled away is laid out again
        m_texts.clear();
    auto cached = m_texts.find({text, rect.width()});
    if (cached == m_texts.end()) {
        QStaticText laidOut(
            QFontMetrics(option.font).elidedText(text, option.textElideMode, rect.width()));
        laidOut.setTextFormat(Qt::PlainText);
        laidOut.prepare(QTransform(), option.font);
        cached = m_texts.insert({text, rect.width()}, laidOut);
    }
    const QSizeF size = cached->size();
    const Qt::Alignment align = QStyle::visualAlignment(option.direction, option.displayAlignment);
    qreal x = rect.left();
    if (align & Qt::AlignRight)
        x = rect.right() + 1 - size.width();
    else if (align & Qt::AlignHCenter)
        x = rect.left() + (rect.width() - size.width()) / 2;
    // Whole pixels vertically, as QStyle::alignedRect gives the style.
    const int height = int(size.height());
    int y = rect.top() + (rect.height() - height) / 2;
    if (align & Qt::AlignTop)
        y = rect.top();
    else if (align & Qt::AlignBottom)
        y = rect.bottom() + 1 - height;

    QPalette::ColorGroup group =
        option.state & QStyle::State_Enabled ? QPalette::Normal : QPalette::Disabled;
    if (group == QPalette::Normal && !(option.state & QStyle::State_Active))
        group = QPalette::Inactive;
    painter->save();
    // Elided to the width, it stays inside the cell; clipping costs more than the text.
    if (size.width() > rect.width() || height > option.rect.height())
        painter->setClipRect(option.rect);
    painter->setFont(option.font);
    painter->setPen(option.palette.color(
        group, option.state & QStyle::State_Selected ? QPalette::HighlightedText : QPalette::Text));
    painter->drawStaticText(QPointF(x, y), *cached);
    painter->restore();
}

void StatusDotDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option,
                              const QModelIndex& index) const
{
    const QVariant health = index.data(HealthRole);
    if (!health.isValid()) {
        QStyledItemDelegate::paint(painter, option, index);
        return;
    }
    QStyleOptionViewItem opt = option;
    initStyleOption(&opt, index);
    const int dot = opt.fontMetrics.height() / 2 + 2;
    const int pad = 6;
    const QString text = opt.text;
    opt.text.clear();
    const QWidget* widget = option.widget;
    QStyle* style = widget ? widget->style() : QApplication::style();
    style->drawControl(QStyle::CE_ItemViewItem, &opt, painter, widget);

    const QRect r = opt.rect;
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    const QColor color = healthColor(health.toInt(), opt.palette);
    painter->setPen(Qt::NoPen);
    painter->setBrush(color);
    painter->drawEllipse(QRectF(r.left() + pad, r.center().y() - dot / 2.0 + 0.5, dot, dot));
    const bool selected = opt.state & QStyle::State_Selected;
    painter->setPen(opt.palette.color(selected ? QPalette::HighlightedText : QPalette::Text));
    const QRect textRect = r.adjusted(pad * 2 + dot, 0, -pad, 0);
    painter->drawText(textRect, Qt::AlignVCenter | Qt::AlignLeft,
                      opt.fontMetrics.elidedText(text, Qt::ElideRight, textRect.width()));
    painter->restore();
}

QSize StatusDotDelegate::sizeHint(const QStyleOptionViewItem& option,
                                  const QModelIndex& index) const
{
    QSize s = QStyledItemDelegate::sizeHint(option, index);
    s.rwidth() += option.fontMetrics.height() + 12;
    return s;
}

void SparklineDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option,
                              const QModelIndex& index) const
{
    QStyleOptionViewItem opt = option;
    initStyleOption(&opt, index);
    opt.text.clear();
    const QWidget* widget = option.widget;
    QStyle* style = widget ? widget->style() : QApplication::style();
    style->drawControl(QStyle::CE_ItemViewItem, &opt, painter, widget);

    const QList<double> values = index.data(HistoryRole).value<QList<double>>();
    if (values.size() < 2)
        return;
    double peak = 0;
    for (double v : values)
        peak = qMax(peak, v);
    const QRectF r = QRectF(opt.rect).adjusted(4, 4, -4, -4);
    const double step = r.width() / double(values.size() - 1);
    QPainterPath line;
    for (int i = 0; i < values.size(); ++i) {
        const double y = peak > 0 ? r.bottom() - values.at(i) / peak * r.height() : r.bottom();
        const QPointF p(r.left() + i * step, y);
        if (i == 0)
            line.moveTo(p);
        else
            line.lineTo(p);
    }
    QPainterPath area = line;
    area.lineTo(r.right(), r.bottom());
    area.lineTo(r.left(), r.bottom());
    area.closeSubpath();
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    QColor accent = opt.palette.color(QPalette::Highlight);
    if (opt.state & QStyle::State_Selected)
        accent = opt.palette.color(QPalette::HighlightedText);
    QColor fill = accent;
    fill.setAlphaF(0.18f);
    painter->fillPath(area, fill);
    painter->setPen(QPen(accent, 1.4));
    painter->drawPath(line);
    painter->restore();
}

QSize SparklineDelegate::sizeHint(const QStyleOptionViewItem& option,
                                  const QModelIndex& index) const
{
    QSize s = QStyledItemDelegate::sizeHint(option, index);
    return {qMax(s.width(), 90), s.height()};
}

QRect ButtonDelegate::buttonRect(const QStyleOptionViewItem& option, const QString& text) const
{
    const int w = option.fontMetrics.horizontalAdvance(text) + 24;
    const int h = qMin(option.rect.height() - 2, option.fontMetrics.height() + 8);
    return QRect(option.rect.left() + 4, option.rect.center().y() - h / 2 + 1, w, h);
}

void ButtonDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option,
                           const QModelIndex& index) const
{
    const QString text = index.data(ButtonRole).toString();
    QStyleOptionViewItem opt = option;
    initStyleOption(&opt, index);
    if (!text.isEmpty())
        opt.text.clear(); // the button says it; without one the cell's own text shows
    const QWidget* widget = option.widget;
    QStyle* style = widget ? widget->style() : QApplication::style();
    style->drawControl(QStyle::CE_ItemViewItem, &opt, painter, widget);
    if (text.isEmpty())
        return;
    QStyleOptionButton button;
    button.rect = buttonRect(option, text);
    button.text = text;
    button.palette = option.palette;
    button.state = QStyle::State_Enabled | QStyle::State_Raised;
    if (m_pressed == index)
        button.state |= QStyle::State_Sunken;
    style->drawControl(QStyle::CE_PushButton, &button, painter, widget);
}

QSize ButtonDelegate::sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const
{
    const QString text = index.data(ButtonRole).toString();
    QSize s = QStyledItemDelegate::sizeHint(option, index);
    if (text.isEmpty())
        return s;
    return {option.fontMetrics.horizontalAdvance(text) + 32,
            qMax(s.height(), option.fontMetrics.height() + 10)};
}

bool ButtonDelegate::editorEvent(QEvent* event, QAbstractItemModel* model,
                                 const QStyleOptionViewItem& option, const QModelIndex& index)
{
    const QString text = index.data(ButtonRole).toString();
    if (text.isEmpty())
        return QStyledItemDelegate::editorEvent(event, model, option, index);
    if (event->type() == QEvent::MouseButtonPress) {
        auto* mouse = static_cast<QMouseEvent*>(event);
        if (mouse->button() == Qt::LeftButton && buttonRect(option, text).contains(mouse->pos())) {
            m_pressed = index;
            return true;
        }
    } else if (event->type() == QEvent::MouseButtonRelease) {
        auto* mouse = static_cast<QMouseEvent*>(event);
        const bool hit = m_pressed == index && buttonRect(option, text).contains(mouse->pos());
        m_pressed = QPersistentModelIndex();
        if (hit) {
            Q_EMIT clicked(index);
            return true;
        }
    }
    return QStyledItemDelegate::editorEvent(event, model, option, index);
}

} // namespace sg::ui
