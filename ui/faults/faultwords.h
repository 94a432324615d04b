#pragma once
// Faults in a person's words, and the presets of the Faults panel. A toxic reads as what it
// does to a connection ("200 ms ± 50 ms downstream"), a route's faults as one line each, for
// the panel, the route row's tooltip and the tray.

#include "model/streamroute.h"

#include <QList>
#include <QString>
#include <QStringList>

namespace sg::ui {

// "200 ms ± 50 ms downstream", "750 KB/s upstream", "reset at once downstream".
QString toxicEffect(const ToxicSpec& toxic);
// "5 %", "100 %".
QString toxicityText(double toxicity);
// "slow_network: latency, 200 ms ± 50 ms downstream (5 % of connections) — only 10.0.0.5".
QString toxicLine(const ToxicSpec& toxic);
// Every active fault of the route (toxics switched off left out), one line each ("Server down:
// ..." first when it is down).
QStringList routeFaultLines(const Config& config, const QString& routeId);

// Values a toxic added by hand starts with, so it does something visible at once.
ToxicSpec defaultToxic(ToxicType type, bool upstream);

struct FaultPreset
{
    QString key;             // "slow", "mobile", "flaky", "blackhole", "down"
    QString label;           // "Slow network: 200 ms ± 50"
    QString name;            // base of the toxics' names
    QList<ToxicSpec> toxics; // names not set yet; empty for "down" (the route is disabled)
};
QList<FaultPreset> faultPresets();

} // namespace sg::ui
