#include "faults/faultwords.h"

#include "config/toxicedits.h"

#include <QCoreApplication>
#include <QLocale>

namespace sg::ui {

namespace {

QString faultText(const char* text)
{
    return QCoreApplication::translate("sg::ui::faults", text);
}

QString ms(qint64 v)
{
    return QStringLiteral("%1 ms").arg(v);
}

ToxicSpec toxic(ToxicType type, bool upstream, std::array<qint64, ToxicSpec::kMaxAttributes> a,
                double toxicity = 1.0)
{
    ToxicSpec t;
    t.type = type;
    t.upstream = upstream;
    t.attributes = a;
    t.toxicity = toxicity;
    return t;
}

} // namespace

QString toxicEffect(const ToxicSpec& t)
{
    QString what;
    switch (t.type) {
    case ToxicType::Latency:
        what = t.attribute("jitter") > 0 ? QStringLiteral("%1 ± %2").arg(ms(t.attribute("latency")),
                                                                         ms(t.attribute("jitter")))
                                         : ms(t.attribute("latency"));
        break;
    case ToxicType::Bandwidth:
        what = t.attribute("rate") > 0 ? QStringLiteral("%1 KB/s").arg(t.attribute("rate"))
                                       : faultText("unlimited");
        break;
    case ToxicType::SlowClose:
        what = faultText("close held %1").arg(ms(t.attribute("delay")));
        break;
    case ToxicType::Timeout:
        what = t.attribute("timeout") > 0
                   ? faultText("data dropped, closed after %1").arg(ms(t.attribute("timeout")))
                   : faultText("black hole: data dropped, held open");
        break;
    case ToxicType::ResetPeer:
        what = t.attribute("timeout") > 0
                   ? faultText("reset %1 after the first byte").arg(ms(t.attribute("timeout")))
                   : faultText("reset at once");
        break;
    case ToxicType::Slicer:
        what = faultText("pieces of %1 ± %2 B, %3 µs apart")
                   .arg(t.attribute("average_size"))
                   .arg(t.attribute("size_variation"))
                   .arg(t.attribute("delay"));
        break;
    case ToxicType::LimitData:
        what = faultText("closed after %1 B").arg(t.attribute("bytes"));
        break;
    case ToxicType::Loss:
        what = faultText("%1 of datagrams lost")
                   .arg(toxicityText(double(t.attribute("loss_rate")) /
                                     double(ToxicSpec::kFractionScale)));
        break;
    case ToxicType::MySqlLatency:
        what = faultText("commands held %1").arg(ms(t.attribute("latency")));
        if (t.attribute("jitter") > 0)
            what += QStringLiteral(" ± %1").arg(ms(t.attribute("jitter")));
        break;
    case ToxicType::MySqlError:
        what = faultText("commands answered with error %1").arg(t.attribute("code"));
        break;
    case ToxicType::MySqlClose:
        what = faultText("connection reset at a command");
        break;
    }
    if (!isQueryToxic(t.type))
        return what + QLatin1Char(' ') + t.streamName();
    QStringList only;
    if (const QString re = t.text("match"); !re.isEmpty())
        only << faultText("matching /%1/").arg(re);
    if (const QString command = t.text("command"); !command.isEmpty())
        only << command;
    if (const QString user = t.text("user"); !user.isEmpty())
        only << faultText("user %1").arg(user);
    if (const QString database = t.text("database"); !database.isEmpty())
        only << faultText("database %1").arg(database);
    return only.isEmpty() ? what : what + QStringLiteral(" (%1)").arg(only.join(u", "));
}

QString toxicityText(double toxicity)
{
    return QStringLiteral("%1 %").arg(QLocale::c().toString(toxicity * 100, 'g', 4));
}

QString toxicLine(const ToxicSpec& t)
{
    QString line = QStringLiteral("%1: %2, %3").arg(t.name, toxicTypeName(t.type), toxicEffect(t));
    if (t.toxicity < 1.0)
        line += (isQueryToxic(t.type) ? faultText(" (%1 of matching commands)")
                                      : faultText(" (%1 of connections)"))
                    .arg(toxicityText(t.toxicity));
    if (!t.clients.isEmpty())
        line += faultText(" — only %1").arg(t.clients.join(QStringLiteral(", ")));
    if (!t.enabled)
        line += faultText(" — off");
    return line;
}

QStringList routeFaultLines(const Config& config, const QString& routeId)
{
    QStringList lines;
    if (isRouteDown(config, routeId))
        lines << faultText("Server down: listener closed, clients refused");
    for (const ToxicSpec& t : config.streamgate.toxicMap().value(routeId))
        if (t.enabled)
            lines << toxicLine(t);
    return lines;
}

ToxicSpec defaultToxic(ToxicType type, bool upstream)
{
    switch (type) {
    case ToxicType::Latency:
        return toxic(type, upstream, {100, 0, 0});
    case ToxicType::Bandwidth:
        return toxic(type, upstream, {1000, 0, 0});
    case ToxicType::SlowClose:
        return toxic(type, upstream, {1000, 0, 0});
    case ToxicType::Timeout:
    case ToxicType::ResetPeer:
        return toxic(type, upstream, {0, 0, 0});
    case ToxicType::Slicer:
        return toxic(type, upstream, {64, 32, 100});
    case ToxicType::LimitData:
        return toxic(type, upstream, {1024, 0, 0});
    case ToxicType::Loss:
        return toxic(type, upstream, {ToxicSpec::kFractionScale / 10, 0, 0});
    case ToxicType::MySqlLatency:
        return toxic(type, upstream, {500, 0, 0});
    case ToxicType::MySqlError:
        return toxic(type, upstream, {1213, 0, 0});
    case ToxicType::MySqlClose:
        return toxic(type, upstream, {0, 0, 0});
    }
    return toxic(type, upstream, {0, 0, 0});
}

QList<FaultPreset> faultPresets()
{
    return {
        {QStringLiteral("slow"),
         faultText("Slow network: 200 ms ± 50"),
         QStringLiteral("slow_network"),
         {toxic(ToxicType::Latency, false, {200, 50, 0})}},
        {QStringLiteral("mobile"),
         faultText("Mobile: 750 KB/s"),
         QStringLiteral("mobile"),
         {toxic(ToxicType::Bandwidth, false, {750, 0, 0}),
          toxic(ToxicType::Bandwidth, true, {750, 0, 0})}},
        {QStringLiteral("flaky"),
         faultText("Flaky: reset 5 % of connections"),
         QStringLiteral("flaky_reset"),
         {toxic(ToxicType::ResetPeer, false, {0, 0, 0}, 0.05)}},
        {QStringLiteral("blackhole"),
         faultText("Black hole"),
         QStringLiteral("black_hole"),
         {toxic(ToxicType::Timeout, false, {0, 0, 0}), toxic(ToxicType::Timeout, true, {0, 0, 0})}},
        {QStringLiteral("down"), faultText("Server down"), QString(), {}},
    };
}

} // namespace sg::ui
