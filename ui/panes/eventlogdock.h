#pragma once
// The event log dock at the bottom of the window (Ctrl+L shows or hides it): what the engine
// reported, newest at the bottom, narrowed by a kind of event and by free text over every column.
// It follows the tail unless the user scrolled up to read.

#include <QDockWidget>

class QTableView;

namespace sg::ui {

class EventLogModel;

class EventLogDock final : public QDockWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EventLogDock)

public:
    explicit EventLogDock(EventLogModel* events, QWidget* parent = nullptr);

private:
    QTableView* m_view;
    bool m_follow = false; // at the tail when rows were about to come
};

} // namespace sg::ui
