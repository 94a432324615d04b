#pragma once
// The status bar's reminder that chaos is on: "Faults active: 3 on 2 routes" in warning colours
// while any toxic or downed route is in the config, "2 connections paused" while connections are
// paused, with a button that clears them all. Hidden while there is none. Clicking the reminder
// asks for the Faults panel of the first route (the connections table when only pauses run).

#include <QIcon>
#include <QStringList>
#include <QWidget>

class QAction;
class QToolButton;

namespace sg::ui {

class FaultIndicator final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(FaultIndicator)

public:
    FaultIndicator(QAction* clearAll, QWidget* parent = nullptr);

    // count faults on routeIds; lines (one per fault, "route: what") form the tooltip.
    void setFaults(int count, const QStringList& routeIds, const QStringList& lines);
    // Connections paused now (from the periodic snapshot).
    void setPausedConnections(int count);
    int pausedConnections() const { return m_paused; }
    // The button's text (empty while hidden).
    QString text() const;
    // The same words without the sign, for the tray's tooltip; empty while there is no chaos.
    QString summary() const;

Q_SIGNALS:
    void openRequested(const QString& routeId);
    // Clicked while the only chaos is paused connections: they are in the connections table.
    void connectionsRequested();

private:
    void refresh();

    QToolButton* m_button = nullptr;
    QToolButton* m_clear = nullptr;
    QString m_firstRoute;
    int m_count = 0;
    int m_routes = 0;
    QStringList m_lines;
    int m_paused = 0;
};

// "Faults active: 3 on 2 routes"; empty when count is 0.
QString faultsText(int count, int routes);
// The icon with a red badge in its corner (the tray while faults are active).
QIcon withFaultBadge(const QIcon& icon);

} // namespace sg::ui
