#pragma once
// The window's status bar: passing messages on the left; on the right the fault reminder,
// "Paused" while every route refuses new connections, the listeners (how many are OK, the first
// error, every error in the tooltip), the active connections and the total rates.

#include "stats/snapshot.h"

#include <QStatusBar>

class QAction;
class QLabel;

namespace sg::ui {

class FaultIndicator;

class StatusBar final : public QStatusBar
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(StatusBar)

public:
    // clearFaults: the action behind the fault reminder's clear button.
    StatusBar(QAction* clearFaults, QWidget* parent = nullptr);

    FaultIndicator* faultIndicator() const { return m_faultIndicator; }
    // Listeners and active connections from snapshot; rates in bytes per second, every route.
    void showTraffic(const Snapshot& snapshot, double rateUp, double rateDown);
    // Instead of the listeners: there is no proxy engine.
    void showEngineMissing();
    void setAllPaused(bool paused);

private:
    FaultIndicator* m_faultIndicator;
    QLabel* m_pausedLabel;
    QLabel* m_listenersLabel;
    QLabel* m_activeLabel;
    QLabel* m_rateLabel;
};

} // namespace sg::ui
