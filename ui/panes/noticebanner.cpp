#include "panes/noticebanner.h"

#include "delegates.h"

#include <QApplication>
#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QPushButton>
#include <QStyle>

namespace sg::ui {

NoticeBanner::NoticeBanner(QWidget* parent) : QFrame(parent)
{
    setObjectName(QStringLiteral("banner"));
    setFrameShape(QFrame::StyledPanel);
    setAutoFillBackground(true);
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(12, 6, 8, 6);
    auto* icon = new QLabel(this);
    icon->setPixmap(style()->standardIcon(QStyle::SP_MessageBoxWarning).pixmap(20));
    m_text = new QLabel(this);
    m_text->setObjectName(QStringLiteral("bannerText"));
    m_text->setWordWrap(true);
    m_buttons = new QWidget(this);
    new QHBoxLayout(m_buttons);
    m_buttons->layout()->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(icon);
    layout->addWidget(m_text, 1);
    layout->addWidget(m_buttons);
    hide();
}

void NoticeBanner::showNotice(const QString& key, const QString& text, const QList<Action>& actions)
{
    m_key = key;
    m_text->setText(text);
    qDeleteAll(m_buttons->findChildren<QPushButton*>(QString(), Qt::FindDirectChildrenOnly));
    int i = 0;
    for (const auto& [label, action] : actions) {
        auto* button = new QPushButton(label, m_buttons);
        button->setObjectName(QStringLiteral("bannerButton%1").arg(i++));
        connect(button, &QPushButton::clicked, this, action);
        m_buttons->layout()->addWidget(button);
    }
    applyTint();
    show();
}

// A tint of the warning colour over the window's own background (not over this frame's, which
// already carries the tint), again when the application's colours change (light or dark).
void NoticeBanner::applyTint()
{
    // The application's palette for the window: current even while the window's own change
    // is still on its way.
    const QPalette window = QApplication::palette(this->window());
    QPalette p = palette();
    p.setColor(QPalette::Window,
               blend(window.color(QPalette::Window), healthColor(2, window), 0.2));
    m_tinting = true;
    setPalette(p);
    m_tinting = false;
}

void NoticeBanner::changeEvent(QEvent* event)
{
    QFrame::changeEvent(event);
    // Widgets hear of the application's new palette as a change of their own; the tint's own
    // setPalette() is one too.
    if ((event->type() == QEvent::ApplicationPaletteChange ||
         event->type() == QEvent::PaletteChange) &&
        isVisible() && !m_tinting)
        applyTint();
}

void NoticeBanner::setButtonMenu(int i, QMenu* menu)
{
    auto* button = m_buttons->findChild<QPushButton*>(QStringLiteral("bannerButton%1").arg(i));
    if (!button)
        return;
    menu->setParent(button, menu->windowFlags());
    button->setMenu(menu);
}

bool NoticeBanner::hideNotice(const QString& key)
{
    if (m_key != key)
        return false;
    m_key.clear();
    hide();
    return true;
}

} // namespace sg::ui
