#pragma once
// What an empty view says: what will appear in it and what to do next, centred over the view's
// viewport, in the palette's placeholder colour (light and dark alike), with a button for the
// next step when there is one. It shows while the view's model has no rows, or while the
// condition given to setCondition() holds; it covers only its own text and button, so clicks
// and context menus elsewhere still reach the view.

#include <QPointer>
#include <QWidget>
#include <functional>

class QAbstractItemView;
class QAbstractScrollArea;
class QAction;
class QLabel;
class QPushButton;

namespace sg::ui {

class EmptyState final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EmptyState)

public:
    // Over the viewport of `area`; follows the rows of `view`'s model when `area` is an item view.
    explicit EmptyState(QAbstractScrollArea* area);

    void setText(const QString& text);
    QString text() const;
    // A button that triggers `action`, saying `buttonText` (the action's text when empty);
    // nullptr: none.
    void setAction(QAction* action, const QString& buttonText = QString());
    // Shown while `empty` returns true, instead of while the model has no rows; update() asks
    // again (the view's model rows and resizes ask by themselves).
    void setCondition(std::function<bool()> empty);
    // Whether the hint is on screen now (its view shown and empty).
    bool isShowing() const { return m_wanted; }

public Q_SLOTS:
    void updateState();

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void place();
    void watchModel();

    QAbstractScrollArea* m_area;
    // The area's viewport, kept: the event filter sees its events while the area is being
    // destroyed, when the area is no scroll area any more.
    QPointer<QWidget> m_viewport;
    QPointer<QObject> m_model;
    QLabel* m_label;
    QPushButton* m_button;
    QPointer<QAction> m_action;
    std::function<bool()> m_condition;
    bool m_wanted = false;
};

} // namespace sg::ui
