#include "emptystate.h"

#include <QAbstractItemModel>
#include <QAbstractItemView>
#include <QAction>
#include <QEvent>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

namespace sg::ui {

EmptyState::EmptyState(QAbstractScrollArea* area)
    : QWidget(area), m_area(area), m_viewport(area->viewport()), m_label(new QLabel(this)),
      m_button(new QPushButton(this))
{
    setObjectName(QStringLiteral("emptyState"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(12, 12, 12, 12);
    layout->setSpacing(8);
    m_label->setObjectName(QStringLiteral("emptyStateText"));
    m_label->setAlignment(Qt::AlignCenter);
    m_label->setWordWrap(true);
    m_label->setTextFormat(Qt::PlainText);
    m_label->setForegroundRole(QPalette::PlaceholderText);
    m_label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_label);
    m_button->setObjectName(QStringLiteral("emptyStateButton"));
    m_button->hide();
    layout->addWidget(m_button, 0, Qt::AlignHCenter);
    connect(m_button, &QPushButton::clicked, this, [this] {
        if (m_action)
            m_action->trigger();
    });
    hide();
    m_viewport->installEventFilter(this);
    watchModel();
    updateState();
}

void EmptyState::setText(const QString& text)
{
    if (m_label->text() == text)
        return;
    m_label->setText(text);
    updateState();
}

QString EmptyState::text() const
{
    return m_label->text();
}

void EmptyState::setAction(QAction* action, const QString& buttonText)
{
    if (m_action)
        disconnect(m_action, nullptr, this, nullptr);
    m_action = action;
    if (action) {
        const auto sync = [this, buttonText] {
            m_button->setText(buttonText.isEmpty() ? m_action->text() : buttonText);
            m_button->setIcon(m_action->icon());
            m_button->setEnabled(m_action->isEnabled());
        };
        connect(action, &QAction::changed, this, sync);
        sync();
    }
    m_button->setVisible(action != nullptr);
    place();
}

void EmptyState::setCondition(std::function<bool()> empty)
{
    m_condition = std::move(empty);
    updateState();
}

void EmptyState::watchModel()
{
    auto* view = qobject_cast<QAbstractItemView*>(m_area);
    QAbstractItemModel* model = view ? view->model() : nullptr;
    if (model == m_model)
        return;
    if (m_model)
        disconnect(m_model, nullptr, this, nullptr);
    m_model = model;
    if (!model)
        return;
    // Queued: a view lays out new rows after the model's signal, and a hint that shows or goes
    // once per batch of rows costs nothing on a busy table.
    for (auto signal : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved})
        connect(model, signal, this, &EmptyState::updateState, Qt::QueuedConnection);
    connect(model, &QAbstractItemModel::modelReset, this, &EmptyState::updateState,
            Qt::QueuedConnection);
    connect(model, &QAbstractItemModel::layoutChanged, this, &EmptyState::updateState,
            Qt::QueuedConnection);
}

void EmptyState::updateState()
{
    watchModel();
    bool empty = false;
    if (m_condition)
        empty = m_condition();
    else if (m_model)
        empty = static_cast<QAbstractItemModel*>(m_model.data())->rowCount() == 0;
    m_wanted = empty && !m_label->text().isEmpty();
    if (m_wanted) {
        place();
        show();
        raise();
    } else {
        hide();
    }
}

// Centred over the viewport, as wide as its text needs up to the viewport's width.
void EmptyState::place()
{
    if (!m_viewport)
        return;
    const QRect port = m_viewport->geometry();
    const int width = qMin(port.width(), 460);
    const int height =
        qMin(port.height(), layout()->hasHeightForWidth() ? layout()->totalHeightForWidth(width)
                                                          : sizeHint().height());
    setGeometry(QRect(port.x() + (port.width() - width) / 2,
                      port.y() + (port.height() - height) / 2, width, height));
}

bool EmptyState::eventFilter(QObject* watched, QEvent* event)
{
    if (watched == m_viewport.data() && event->type() == QEvent::Resize && m_wanted)
        place();
    return QWidget::eventFilter(watched, event);
}

} // namespace sg::ui
