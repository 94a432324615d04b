// Benchmark (not a pass/fail test): GUI-thread cost of one connections-table refresh with
// 10,000 live connections at 4 refreshes per second. Each tick closes and opens 1% of the
// connections and moves bytes on a third of them; the open ones are listed in id order, as the
// engine lists them. "view" shows the model in the window's own connections pane (its filter
// proxy sorted by ID, delegate, header, column widths and the columns of its default preset),
// 1400 x 800, and asks its table to repaint after each update as the window does; the event loop
// then lays it out and paints it, and the GUI thread's time up to the next refresh is the whole
// cost of a refresh. "proxy" measures the model behind the same proxy without a view, "model"
// the model alone. Prints per-refresh times; the first refresh, which fills the table, is left
// out of the figures from the event loop.
//   ui_refresh_bench [connections=10000] [seconds=15] [model|proxy|view=view]
#include "models/connectionfilter.h"
#include "models/connectiontablemodel.h"
#include "panes/connectionspane.h"

#include <QApplication>
#include <QDateTime>
#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QTimer>
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <memory>

using namespace sg;

namespace {

// CPU time of the calling thread: on a shared machine, wall time also counts the time other
// processes held the core, which is not GUI-thread work.
double threadCpuMs()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
}

struct Stats
{
    std::vector<double> samples;
    void add(double ms) { samples.push_back(ms); }
    double percentile(double p)
    {
        std::vector<double> s = samples;
        std::sort(s.begin(), s.end());
        return s.empty() ? 0 : s[size_t(p * double(s.size() - 1))];
    }
    double mean() const
    {
        double sum = 0;
        for (double v : samples)
            sum += v;
        return samples.empty() ? 0 : sum / double(samples.size());
    }
};

} // namespace

int main(int argc, char* argv[])
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    const int count = argc > 1 ? std::atoi(argv[1]) : 10000;
    const int seconds = argc > 2 ? std::atoi(argv[2]) : 15;
    const QString mode = argc > 3 ? QString::fromLocal8Bit(argv[3]) : QStringLiteral("view");

    ui::ConnectionTableModel model;
    ui::ConnectionFilter proxy; // "proxy": the window's filter and sort proxy, without a view
    std::unique_ptr<ui::ConnectionsPane> pane;
    if (mode == QLatin1String("view")) {
        pane = std::make_unique<ui::ConnectionsPane>(&model, nullptr);
        pane->resize(1400, 800);
        pane->show();
    } else if (mode == QLatin1String("proxy")) {
        proxy.setSourceModel(&model);
        proxy.sort(ui::ConnectionTableModel::IdColumn, Qt::AscendingOrder);
    } else if (mode != QLatin1String("model")) {
        std::fprintf(stderr, "ui_refresh_bench: mode %s: must be model, proxy or view\n",
                     qPrintable(mode));
        return 2;
    }

    QRandomGenerator rng(42);
    // The wall clock: the delegate fades new and closed rows against it, as in the window.
    qint64 now = QDateTime::currentMSecsSinceEpoch();
    quint64 nextId = 1;
    QList<ConnectionInfo> active;
    auto make = [&](quint64 id) {
        ConnectionInfo c;
        c.id = id;
        c.routeId = QStringLiteral("route-%1").arg(id % 8);
        c.clientAddress = QHostAddress(quint32(0x0a000000 + id % 65000));
        c.clientPort = quint16(1024 + id % 60000);
        c.upstreamNode = QStringLiteral("127.0.0.1:%1").arg(3306 + id % 4);
        c.state = ConnectionState::Established;
        c.startMs = now;
        c.connectMs = 1;
        // Who the client is, as the resolver fills it: a program for two in three (a local
        // client), a host name for the rest.
        if (id % 3 != 0)
            c.clientProcess = {
                qint64(1000 + id % 50), QStringLiteral("client-%1").arg(id % 50),
                QStringLiteral("/usr/bin/client-%1 --connect 127.0.0.1").arg(id % 50), QString()};
        else
            c.clientHost = QStringLiteral("host-%1.example.net").arg(id % 65000);
        return c;
    };
    for (int i = 0; i < count; ++i)
        active << make(nextId++);

    Stats apply;
    Stats applyCpu;
    // Everything the GUI thread ran from an update to the next refresh: the update, then what
    // it left to the event loop (the table's layout and repaint, queued slots).
    Stats intervalCpu;
    Stats afterCpu;
    double updateStart = -1;
    int ticks = 0;
    const int totalTicks = seconds * 4;
    QTimer timer;
    timer.setInterval(250);
    QObject::connect(&timer, &QTimer::timeout, [&] {
        if (updateStart >= 0 && ticks > 1) { // the first refresh fills the table
            intervalCpu.add(threadCpuMs() - updateStart);
            afterCpu.add(intervalCpu.samples.back() - applyCpu.samples.back());
        }
        now += 250;
        // Engine side (not GUI time): churn and byte movement.
        // The engine lists open connections in id order (its records are a map by id).
        QList<ConnectionInfo> closed;
        const int churn = count / 100;
        while (closed.size() < qMin<qsizetype>(churn, active.size())) {
            ConnectionInfo& c = active[qsizetype(rng.bounded(quint32(active.size())))];
            if (c.state == ConnectionState::Closed)
                continue; // picked twice
            c.state = ConnectionState::Closed;
            c.endMs = now - 10;
            c.closeReason = CloseReason::ClientClosed;
            closed << c;
        }
        active.removeIf([](const ConnectionInfo& c) { return c.state == ConnectionState::Closed; });
        for (int k = 0; k < churn; ++k)
            active << make(nextId++);
        for (ConnectionInfo& c : active) {
            if (rng.bounded(3) == 0) {
                c.bytesUp += rng.bounded(4096);
                c.bytesDown += rng.bounded(65536);
            }
        }
        Snapshot snapshot;
        snapshot.takenMs = now;
        snapshot.active = active;
        snapshot.closed = closed;

        QElapsedTimer t;
        double cpu = threadCpuMs();
        updateStart = cpu;
        t.start();
        model.applySnapshot(snapshot);
        apply.add(double(t.nsecsElapsed()) / 1e6);
        applyCpu.add(threadCpuMs() - cpu);
        // As the window: the table repaints from the event loop, after the layout the update
        // may have asked for.
        if (pane)
            pane->repaintRows();
        if (++ticks >= totalTicks)
            app.quit();
    });
    timer.start();
    app.exec();

    std::printf(
        "ui_refresh_bench (%s): %d connections, %d refreshes at 4/s, 1%% churn per refresh\n",
        qPrintable(mode), count, ticks);
    const auto line = [](const char* what, Stats& s) {
        std::printf("  %-44s mean %6.2f ms, median %6.2f ms, p95 %6.2f ms, max %6.2f ms\n", what,
                    s.mean(), s.percentile(0.5), s.percentile(0.95), s.percentile(1.0));
    };
    line("snapshot diff + model update (thread CPU):", applyCpu);
    line("snapshot diff + model update (wall):", apply);
    if (pane) {
        line("layout + repaint in the event loop (CPU):", afterCpu);
        line("whole refresh: update to next (thread CPU):", intervalCpu);
    }
    std::printf("  rows in the model at the end: %d\n", model.rowCount());
    return 0;
}
