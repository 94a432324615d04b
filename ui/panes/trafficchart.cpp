#include "panes/trafficchart.h"

#include "delegates.h"
#include "emptystate.h"

#include <QEvent>
#include <QLabel>
#include <QVBoxLayout>
#include <QtCharts/QChart>
#include <QtCharts/QChartView>
#include <QtCharts/QLegendMarker>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>

namespace sg::ui {

TrafficChart::TrafficChart(QWidget* parent) : QWidget(parent)
{
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 0);
    m_title = new QLabel(this);
    m_title->setObjectName(QStringLiteral("chartTitle"));
    layout->addWidget(m_title);
    m_chart = new QChart;
    m_chart->setMargins(QMargins(4, 4, 4, 4));
    m_chart->setBackgroundRoundness(0);
    m_chart->legend()->setAlignment(Qt::AlignBottom);
    m_upSeries = new QLineSeries(m_chart);
    m_upSeries->setName(tr("Bytes/s ↑ (client → upstream)"));
    m_downSeries = new QLineSeries(m_chart);
    m_downSeries->setName(tr("Bytes/s ↓ (upstream → client)"));
    m_activeSeries = new QLineSeries(m_chart);
    m_activeSeries->setName(tr("Active connections"));
    m_chart->addSeries(m_upSeries);
    m_chart->addSeries(m_downSeries);
    m_chart->addSeries(m_activeSeries);
    m_timeAxis = new QValueAxis(m_chart);
    m_timeAxis->setRange(-300, 0);
    m_timeAxis->setTickCount(6);
    m_timeAxis->setLabelFormat(QStringLiteral("%d s"));
    m_rateAxis = new QValueAxis(m_chart);
    m_rateAxis->setLabelFormat(QStringLiteral("%.0f"));
    m_rateAxis->setMin(0);
    m_activeAxis = new QValueAxis(m_chart);
    m_activeAxis->setLabelFormat(QStringLiteral("%d"));
    m_activeAxis->setMin(0);
    m_activeAxis->setTitleText(tr("connections"));
    m_chart->addAxis(m_timeAxis, Qt::AlignBottom);
    m_chart->addAxis(m_rateAxis, Qt::AlignLeft);
    m_chart->addAxis(m_activeAxis, Qt::AlignRight);
    for (QLineSeries* series : {m_upSeries, m_downSeries}) {
        series->attachAxis(m_timeAxis);
        series->attachAxis(m_rateAxis);
    }
    m_activeSeries->attachAxis(m_timeAxis);
    m_activeSeries->attachAxis(m_activeAxis);
    m_view = new QChartView(m_chart, this);
    m_view->setObjectName(QStringLiteral("chartView"));
    m_view->setRenderHint(QPainter::Antialiasing);
    m_view->setMinimumHeight(200);
    layout->addWidget(m_view, 1);
    m_empty = new EmptyState(m_view);
    m_empty->setCondition([this] { return !m_hasTraffic; });
    applyTheme();
}

void TrafficChart::setEmptyText(const QString& text)
{
    m_empty->setText(text);
    m_empty->updateState();
}

void TrafficChart::setTitle(const QString& title)
{
    m_title->setText(title);
}

bool TrafficChart::isChartVisible() const
{
    return m_view->isVisible();
}

void TrafficChart::plot(const QList<RouteSample>& samples)
{
    const qint64 now = samples.isEmpty() ? 0 : samples.last().timeMs;
    double peak = 0;
    quint64 peakActive = 0;
    for (const RouteSample& s : samples) {
        peak = qMax(peak, qMax(s.rateUp, s.rateDown));
        peakActive = qMax(peakActive, s.active);
    }
    // One unit for the whole axis, chosen from the peak, so labels stay short.
    static const char* const units[] = {"B/s", "KiB/s", "MiB/s", "GiB/s"};
    int unit = 0;
    double scale = 1;
    while (peak / scale >= 1024 * 0.9 && unit < 3) {
        scale *= 1024;
        ++unit;
    }
    QList<QPointF> up;
    QList<QPointF> down;
    QList<QPointF> active;
    up.reserve(samples.size());
    down.reserve(samples.size());
    active.reserve(samples.size());
    for (const RouteSample& s : samples) {
        const double x = double(s.timeMs - now) / 1000.0;
        up << QPointF(x, s.rateUp / scale);
        down << QPointF(x, s.rateDown / scale);
        active << QPointF(x, double(s.active));
    }
    m_upSeries->replace(up);
    m_downSeries->replace(down);
    m_activeSeries->replace(active);
    const double top = peak > 0 ? peak / scale * 1.15 : 1.0;
    m_rateAxis->setRange(0, top);
    m_rateAxis->setTitleText(QLatin1String(units[unit]));
    m_rateAxis->setLabelFormat(top < 10 ? QStringLiteral("%.1f") : QStringLiteral("%.0f"));
    m_activeAxis->setRange(0, qMax<quint64>(4, peakActive + 1));
    m_activeAxis->setTickCount(5);
    const bool traffic = peak > 0 || peakActive > 0;
    if (traffic != m_hasTraffic) {
        m_hasTraffic = traffic;
        m_empty->updateState();
    }
}

void TrafficChart::changeEvent(QEvent* event)
{
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::ApplicationPaletteChange)
        applyTheme();
    QWidget::changeEvent(event);
}

void TrafficChart::applyTheme()
{
    const QPalette& p = palette();
    const bool dark = isDark(p);
    m_chart->setTheme(dark ? QChart::ChartThemeDark : QChart::ChartThemeLight);
    m_chart->setBackgroundBrush(p.brush(QPalette::Base));
    m_chart->setBackgroundRoundness(0);
    const QColor up = dark ? QColor(0x5a, 0xa9, 0xff) : QColor(0x1f, 0x6f, 0xd1);
    const QColor down = dark ? QColor(0x4c, 0xc3, 0x6a) : QColor(0x1e, 0x9e, 0x4a);
    const QColor active = dark ? QColor(0xf0, 0xb4, 0x3c) : QColor(0xd0, 0x8a, 0x00);
    m_upSeries->setPen(QPen(up, 2));
    m_downSeries->setPen(QPen(down, 2));
    QPen dashed(active, 1.5, Qt::DashLine);
    m_activeSeries->setPen(dashed);
    for (QValueAxis* axis : {m_timeAxis, m_rateAxis, m_activeAxis}) {
        axis->setLabelsBrush(p.brush(QPalette::Text));
        axis->setTitleBrush(p.brush(QPalette::Text));
        QColor grid = p.color(QPalette::Mid);
        grid.setAlphaF(0.4f);
        axis->setGridLineColor(grid);
    }
    m_chart->legend()->setLabelColor(p.color(QPalette::Text));
}

} // namespace sg::ui
