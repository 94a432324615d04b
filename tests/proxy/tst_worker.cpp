// A worker on its own: timers of sessions that ended are swept, so the timer heap follows the
// sessions open rather than every session served, while the timers of open sessions still fire.

#include "proxy/worker.h"
#include "stats/statshub.h"

#include <QTest>
#include <atomic>
#include <future>

using namespace sg;

namespace {

// A session that only arms one timer; it ends at once (short) or stays until its timer fires.
class TimerSession final : public WorkerSession
{
public:
    TimerSession(Worker& worker, quint64 id, std::atomic<int>& fired)
        : WorkerSession(worker, id), m_fired(fired)
    {
    }
    void onTimer(quint32) override
    {
        m_fired.fetch_add(1);
        close(CloseReason::IdleTimeout);
    }
    void close(CloseReason) override { m_worker.retire(this); }
    QString routeId() const override { return QStringLiteral("r"); }

private:
    std::atomic<int>& m_fired;
};

template <typename Result> Result onWorker(Worker& worker, std::function<Result(Worker&)> fn)
{
    std::promise<Result> done;
    worker.post([&](Worker& w) { done.set_value(fn(w)); });
    return done.get_future().get();
}

} // namespace

class TstWorker : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void endedSessionsLeaveNoTimersBehind()
    {
        StatsHub hub(10, 10);
        DescriptorBudget descriptors;
        Worker worker(0, EventLoopKind::Default, 4096, 4096, false, hub, descriptors);
        worker.start();
        std::atomic<int> fired{0};
        constexpr int kLive = 3000;
        constexpr int kEnded = 50000;
        quint64 id = 1;
        // Open sessions whose timers must survive every sweep: they fire 1 s from now.
        onWorker<int>(worker, [&](Worker& w) {
            for (int i = 0; i < kLive; ++i) {
                auto s = std::make_unique<TimerSession>(w, id, fired);
                w.adopt(std::move(s));
                w.schedule(w.monoMs() + 1000, id++, 0);
            }
            return 0;
        });
        // Sessions served and gone, each leaving a 600 s timer, as a short TCP session leaves
        // its idle timer.
        for (int batch = 0; batch < kEnded / 1000; ++batch) {
            onWorker<int>(worker, [&](Worker& w) {
                for (int i = 0; i < 1000; ++i) {
                    auto s = std::make_unique<TimerSession>(w, id, fired);
                    TimerSession* raw = s.get();
                    w.adopt(std::move(s));
                    w.schedule(w.monoMs() + 600000, id++, 0);
                    raw->close(CloseReason::ClientClosed);
                }
                return 0;
            });
        }
        const size_t pending =
            onWorker<size_t>(worker, [](Worker& w) { return w.pendingTimers(); });
        // At most twice what the open sessions hold (plus the sweep's floor), not one per
        // session served.
        QVERIFY2(
            pending <= size_t(2 * kLive + 1024),
            qPrintable(
                QStringLiteral("%1 timers pending for %2 open sessions").arg(pending).arg(kLive)));
        QCOMPARE(onWorker<int>(worker, [](Worker& w) { return w.sessionCount(); }), kLive);
        QTRY_COMPARE_WITH_TIMEOUT(fired.load(), kLive, 30000);
        QTRY_COMPARE_WITH_TIMEOUT(onWorker<int>(worker, [](Worker& w) { return w.sessionCount(); }),
                                  0, 5000);
        worker.stop();
    }
};

QTEST_GUILESS_MAIN(TstWorker)
#include "tst_worker.moc"
