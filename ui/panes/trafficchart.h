#pragma once
// The traffic of one route over the last five minutes, under a title: bytes per second up and
// down on the left axis (one unit for the whole axis, from the peak, so labels stay short), active
// connections dashed on the right one. Colours follow the palette, light or dark. While the
// samples hold no traffic and no connection, the chart says what would bring some.

#include "models/routestatsmodel.h"

#include <QWidget>

class QChart;
class QChartView;
class QLabel;
class QLineSeries;
class QValueAxis;

namespace sg::ui {

class EmptyState;

class TrafficChart final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TrafficChart)

public:
    explicit TrafficChart(QWidget* parent = nullptr);

    // Rich text above the chart.
    void setTitle(const QString& title);
    // Draws samples (oldest first), the last one at 0 s.
    void plot(const QList<RouteSample>& samples);
    // What the chart says while there is no traffic to draw.
    void setEmptyText(const QString& text);
    bool hasTraffic() const { return m_hasTraffic; }
    // Whether the chart itself is on screen (a refresh redraws it only then).
    bool isChartVisible() const;

protected:
    void changeEvent(QEvent* event) override;

private:
    void applyTheme();

    QLabel* m_title;
    QChartView* m_view;
    QChart* m_chart;
    QLineSeries* m_upSeries;
    QLineSeries* m_downSeries;
    QLineSeries* m_activeSeries;
    QValueAxis* m_timeAxis;
    QValueAxis* m_rateAxis;
    QValueAxis* m_activeAxis;
    EmptyState* m_empty;
    bool m_hasTraffic = false;
};

} // namespace sg::ui
