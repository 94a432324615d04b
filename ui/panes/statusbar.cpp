#include "panes/statusbar.h"

#include "delegates.h"
#include "faults/faultindicator.h"
#include "format.h"

#include <QLabel>

namespace sg::ui {

namespace {

// A dot in the colour of health (1 good, 2 warning, 3 error, 0 neutral), as rich text.
QString healthDot(int health, const QPalette& palette)
{
    return QStringLiteral("<span style=\"color:%1\">●</span>")
        .arg(healthColor(health, palette).name());
}

} // namespace

StatusBar::StatusBar(QAction* clearFaults, QWidget* parent) : QStatusBar(parent)
{
    // As QMainWindow::statusBar() makes its own.
    setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Fixed);
    m_listenersLabel = new QLabel(this);
    m_listenersLabel->setObjectName(QStringLiteral("listenersLabel"));
    m_activeLabel = new QLabel(this);
    m_activeLabel->setObjectName(QStringLiteral("activeLabel"));
    m_rateLabel = new QLabel(this);
    m_rateLabel->setObjectName(QStringLiteral("rateLabel"));
    m_pausedLabel = new QLabel(this);
    m_pausedLabel->hide();
    m_faultIndicator = new FaultIndicator(clearFaults, this);
    m_faultIndicator->setObjectName(QStringLiteral("faultIndicator"));
    addPermanentWidget(m_faultIndicator);
    addPermanentWidget(m_pausedLabel);
    addPermanentWidget(m_listenersLabel);
    addPermanentWidget(m_activeLabel);
    addPermanentWidget(m_rateLabel);
}

void StatusBar::showTraffic(const Snapshot& snapshot, double rateUp, double rateDown)
{
    int ok = 0;
    QStringList errors;
    for (const ListenerStatus& l : snapshot.listeners) {
        if (l.listening)
            ++ok;
        else
            errors << QStringLiteral("%1 %2: %3")
                          .arg(protocolText(l.protocol), l.address,
                               l.error.isEmpty() ? tr("not listening") : l.error);
    }
    const QPalette& p = palette();
    if (errors.isEmpty()) {
        m_listenersLabel->setText(healthDot(ok > 0 ? 1 : 0, p) +
                                  tr(" %n listener(s) OK", nullptr, ok));
        m_listenersLabel->setToolTip(QString());
    } else {
        m_listenersLabel->setText(
            healthDot(3, p) +
            tr(" %1 OK, %2 in error: %3").arg(ok).arg(errors.size()).arg(errors.first()));
        m_listenersLabel->setToolTip(errors.join(QLatin1Char('\n')));
    }
    m_activeLabel->setText(tr("%n active connection(s)", nullptr, int(snapshot.active.size())));
    m_rateLabel->setText(
        QStringLiteral("↑ %1   ↓ %2").arg(formatRate(rateUp), formatRate(rateDown)));
}

void StatusBar::showEngineMissing()
{
    m_listenersLabel->setText(healthDot(3, palette()) + tr(" Proxy engine not running"));
}

void StatusBar::setAllPaused(bool paused)
{
    m_pausedLabel->setText(healthDot(2, palette()) + tr(" Paused: new connections are refused"));
    m_pausedLabel->setVisible(paused);
}

} // namespace sg::ui
