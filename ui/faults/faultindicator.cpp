#include "faults/faultindicator.h"

#include "faults/pausedconnections.h"

#include <QAction>
#include <QCoreApplication>
#include <QHBoxLayout>
#include <QPainter>
#include <QToolButton>

namespace sg::ui {

QString faultsText(int count, int routes)
{
    if (count <= 0)
        return {};
    // Plain English plurals: the window ships no translation that would resolve "%n route(s)".
    return routes == 1
               ? QCoreApplication::translate("sg::ui::faults", "Faults active: %1 on 1 route")
                     .arg(count)
               : QCoreApplication::translate("sg::ui::faults", "Faults active: %1 on %2 routes")
                     .arg(count)
                     .arg(routes);
}

QIcon withFaultBadge(const QIcon& icon)
{
    QIcon badged;
    for (int size : {16, 22, 32, 48}) {
        QPixmap pixmap = icon.pixmap(size);
        if (pixmap.isNull())
            continue;
        QPainter painter(&pixmap);
        painter.setRenderHint(QPainter::Antialiasing);
        const qreal d = size * 0.5;
        painter.setPen(QPen(Qt::white, qMax(1.0, size / 16.0)));
        painter.setBrush(QColor(0xd3, 0x2f, 0x2f));
        painter.drawEllipse(QRectF(size - d - 0.5, size - d - 0.5, d, d));
        painter.end();
        badged.addPixmap(pixmap);
    }
    return badged.isNull() ? icon : badged;
}

FaultIndicator::FaultIndicator(QAction* clearAll, QWidget* parent) : QWidget(parent)
{
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    m_button = new QToolButton(this);
    m_button->setObjectName(QStringLiteral("faultsIndicator"));
    m_button->setAutoRaise(false);
    // Warning colours whatever the theme: this must catch the eye.
    m_button->setStyleSheet(QStringLiteral(
        "QToolButton { color: white; background: #c62828; border: none; border-radius: 3px; "
        "padding: 1px 8px; font-weight: bold; }"));
    connect(m_button, &QToolButton::clicked, this, [this] {
        if (m_count == 0 && m_paused > 0)
            Q_EMIT connectionsRequested();
        else
            Q_EMIT openRequested(m_firstRoute);
    });
    m_clear = new QToolButton(this);
    m_clear->setObjectName(QStringLiteral("clearFaultsButton"));
    m_clear->setDefaultAction(clearAll);
    m_clear->setToolButtonStyle(Qt::ToolButtonTextOnly);
    layout->addWidget(m_button);
    layout->addWidget(m_clear);
    hide();
}

void FaultIndicator::setFaults(int count, const QStringList& routeIds, const QStringList& lines)
{
    m_firstRoute = routeIds.value(0);
    m_count = count;
    m_routes = int(routeIds.size());
    m_lines = lines;
    refresh();
}

void FaultIndicator::setPausedConnections(int count)
{
    if (count == m_paused)
        return;
    m_paused = count;
    refresh();
}

QString FaultIndicator::summary() const
{
    QStringList parts;
    if (m_count > 0)
        parts << faultsText(m_count, m_routes);
    if (m_paused > 0)
        parts << pausedText(m_paused);
    return parts.join(QStringLiteral(" · "));
}

void FaultIndicator::refresh()
{
    m_button->setText(QStringLiteral("⚠ ") + summary());
    QStringList lines = m_lines;
    if (m_paused > 0)
        lines << QCoreApplication::translate("sg::ui::faults",
                                             "%1, shown as \"Paused\" in the connections table")
                     .arg(pausedText(m_paused));
    m_button->setToolTip(lines.join(u'\n') + u'\n' +
                         QCoreApplication::translate("sg::ui::faults", "Click to see them"));
    setVisible(m_count > 0 || m_paused > 0);
}

QString FaultIndicator::text() const
{
    return isHidden() ? QString() : m_button->text();
}

} // namespace sg::ui
