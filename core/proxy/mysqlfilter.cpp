#include "proxy/mysqlfilter.h"

#include "proxy/mysqlinspector.h"
#include "proxy/worker.h"
#include "stats/statshub.h"

namespace sg {

namespace {

struct MySqlWatch;

class MySqlFilter final : public RelayFilter
{
public:
    MySqlFilter(MySqlWatch& watch, MySqlInspector::Direction direction)
        : m_watch(watch), m_direction(direction)
    {
    }
    Mode mode() const override;
    bool done() const override;
    void observe(const char* data, std::size_t len) override;

private:
    MySqlWatch& m_watch;
    const MySqlInspector::Direction m_direction;
};

// One allocation per session: the inspector both directions feed, and the two filters.
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
    MySqlFilter toServer{*this, MySqlInspector::Direction::ClientToServer};
    MySqlFilter toClient{*this, MySqlInspector::Direction::ServerToClient};
};

RelayFilter::Mode MySqlFilter::mode() const
{
    return m_watch.inspector.wantsBytes(m_direction) ? Mode::Observe : Mode::Pass;
}

bool MySqlFilter::done() const
{
    return !m_watch.inspector.wantsBytes(m_direction);
}

void MySqlFilter::observe(const char* data, std::size_t len)
{
    MySqlWatch& w = m_watch;
    w.inspector.feed(m_direction, data, len, w.worker.wallMs());
    const MySqlInfo& info = w.inspector.info();
    // Published while there is something to show, and once more if the inspector gave up
    // after a first guess (it clears what it learned then).
    if (info.detected || w.published) {
        w.record->setMySql(info);
        w.published = info.detected;
    }
}

} // namespace

void addMySqlFilters(const Worker& worker, std::shared_ptr<ConnectionRecord> record,
                     bool countCommands, SessionFilters& out)
{
    auto watch = std::make_shared<MySqlWatch>(worker, std::move(record), countCommands);
    out.toUpstream.push_back(std::shared_ptr<RelayFilter>(watch, &watch->toServer));
    RelayFilter* toClient = &watch->toClient;
    out.toClient.push_back(std::shared_ptr<RelayFilter>(std::move(watch), toClient));
}

} // namespace sg
