// ConnectionRowDelegate leaves the style out of a cell that is not selected, current, hovered or
// tinted when the style draws nothing there; these tests check that a style that does draw such
// cells still gets to, and that the text is drawn either way.
#include "delegates.h"

#include <QApplication>
#include <QImage>
#include <QPainter>
#include <QProxyStyle>
#include <QStandardItemModel>
#include <QStyleFactory>
#include <QTest>
#include <QWidget>
#include <memory>

using namespace sg::ui;

namespace {

// Paints every item view cell's background red before the base style draws it.
class RedCellStyle final : public QProxyStyle
{
public:
    using QProxyStyle::QProxyStyle;
    void drawControl(ControlElement element, const QStyleOption* option, QPainter* painter,
                     const QWidget* widget) const override
    {
        if (element == CE_ItemViewItem)
            painter->fillRect(option->rect, Qt::red);
        QProxyStyle::drawControl(element, option, painter, widget);
    }
};

// A 120 x 24 cell reading `text`, painted by the delegate into a transparent image.
QImage paintCell(const ConnectionRowDelegate& delegate, const QWidget& widget, const QString& text)
{
    QStandardItemModel model(1, 1);
    model.setData(model.index(0, 0), text);
    QStyleOptionViewItem option;
    option.initFrom(&widget);
    option.rect = QRect(0, 0, 120, 24);
    option.state = QStyle::State_Enabled | QStyle::State_Active;
    option.widget = &widget;
    QImage image(option.rect.size(), QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::transparent);
    QPainter painter(&image);
    delegate.paint(&painter, option, model.index(0, 0));
    return image;
}

bool hasInk(const QImage& image)
{
    for (int y = 0; y < image.height(); ++y)
        for (int x = 0; x < image.width(); ++x)
            if (qAlpha(image.pixel(x, y)) > 0)
                return true;
    return false;
}

} // namespace

class TestConnectionRowDelegate : public QObject
{
    Q_OBJECT

private slots:
    void styleThatDrawsBareCellsStillDrawsThem()
    {
        ConnectionRowDelegate delegate;
        const auto red =
            std::make_unique<RedCellStyle>(QStyleFactory::create(QStringLiteral("Fusion")));
        QWidget widget;
        widget.setStyle(red.get());
        const QImage cell = paintCell(delegate, widget, QStringLiteral("12"));
        QCOMPARE(QColor(cell.pixel(1, 1)), QColor(Qt::red));
        QCOMPARE(QColor(cell.pixel(118, 22)), QColor(Qt::red));
    }

    void bareCellOfFusionIsItsTextOnly()
    {
        ConnectionRowDelegate delegate;
        const std::unique_ptr<QStyle> fusion(QStyleFactory::create(QStringLiteral("Fusion")));
        QWidget widget;
        widget.setStyle(fusion.get());
        QVERIFY(!hasInk(paintCell(delegate, widget, QString())));
        const QImage cell = paintCell(delegate, widget, QStringLiteral("12"));
        QVERIFY(hasInk(cell));
        QCOMPARE(qAlpha(cell.pixel(118, 1)), 0); // the text is on the left, nothing else drawn
    }
};

QTEST_MAIN(TestConnectionRowDelegate)
#include "tst_connectionrowdelegate.moc"
