#include "proxy/mysqlfilter.h"

#include "proxy/mysqlinspector.h"
#include "proxy/worker.h"
#include "stats/statshub.h"

namespace sg {

namespace {

// What the two filters of one session share.
struct MySqlWatch
{
    MySqlWatch(const Worker& w, std::shared_ptr<ConnectionRecord> r, bool countCommands)
        : worker(w), record(std::move(r)), inspector(countCommands)
    {
    }
    const Worker& worker;
    std::shared_ptr<ConnectionRecord> record;
    MySqlInspector inspector;
    bool published = false; // the record holds what the inspector learned
};

class MySqlFilter final : public RelayFilter
{
public:
    MySqlFilter(std::shared_ptr<MySqlWatch> watch, MySqlInspector::Direction direction)
        : m_watch(std::move(watch)), m_direction(direction)
    {
    }

    Mode mode() const override
    {
        return m_watch->inspector.wantsBytes(m_direction) ? Mode::Observe : Mode::Pass;
    }

    bool done() const override { return !m_watch->inspector.wantsBytes(m_direction); }

    void observe(const char* data, std::size_t len) override
    {
        MySqlWatch& w = *m_watch;
        w.inspector.feed(m_direction, data, len, w.worker.wallMs());
        const MySqlInfo& info = w.inspector.info();
        // Published while there is something to show, and once more if the inspector gave up
        // after a first guess (it clears what it learned then).
        if (info.detected || w.published) {
            w.record->setMySql(info);
            w.published = info.detected;
        }
    }

private:
    std::shared_ptr<MySqlWatch> m_watch;
    const MySqlInspector::Direction m_direction;
};

} // namespace

void addMySqlFilters(const Worker& worker, std::shared_ptr<ConnectionRecord> record,
                     bool countCommands, SessionFilters& out)
{
    auto watch = std::make_shared<MySqlWatch>(worker, std::move(record), countCommands);
    out.toUpstream.push_back(
        std::make_unique<MySqlFilter>(watch, MySqlInspector::Direction::ClientToServer));
    out.toClient.push_back(
        std::make_unique<MySqlFilter>(watch, MySqlInspector::Direction::ServerToClient));
}

} // namespace sg
