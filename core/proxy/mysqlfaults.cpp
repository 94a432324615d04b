#include "proxy/mysqlfaults.h"

#include <QRandomGenerator>
#include <algorithm>

namespace sg {

MySqlQueryFaults::MySqlQueryFaults(std::shared_ptr<RouteToxics> route, quint64 session,
                                   const QHostAddress& client)
    : m_route(std::move(route)), m_session(session), m_client(client)
{
}

MySqlQueryFaults::~MySqlQueryFaults() = default;

bool MySqlQueryFaults::active()
{
    if (!m_route || m_route->version() == m_seen)
        return m_active;
    quint64 version = 0;
    const std::shared_ptr<const RouteToxics::List> list = m_route->current(&version);
    m_seen = version;
    std::vector<Entry> next;
    m_active = false;
    for (const ActiveToxic& t : *list) {
        if (!isQueryToxic(t.spec.type))
            continue;
        Entry e;
        for (Entry& old : m_entries) {
            if (old.state == t.state) {
                e.mark = std::move(old.mark); // the same toxic: it hit this session already
                break;
            }
        }
        e.spec = t.spec;
        e.state = t.state;
        e.reaches = t.reaches(m_client);
        if (e.mark && !e.reaches)
            e.mark->setHitting(false); // switched off, or narrowed to other clients
        if (const QString pattern = t.spec.text("match"); !pattern.isEmpty())
            e.match = QRegularExpression(pattern, QRegularExpression::CaseInsensitiveOption);
        e.command = t.spec.text("command");
        e.user = t.spec.text("user");
        e.database = t.spec.text("database");
        m_active = m_active || e.reaches;
        next.push_back(std::move(e));
    }
    m_entries = std::move(next);
    return m_active;
}

bool MySqlQueryFaults::matches(const Entry& e, const MySqlCommandFacts& c) const
{
    return (e.command.isEmpty() || e.command == c.command) &&
           (e.user.isEmpty() || e.user == c.user) &&
           (e.database.isEmpty() || e.database == c.database) &&
           (e.match.pattern().isEmpty() || e.match.match(c.digestText).hasMatch());
}

MySqlFaultAction MySqlQueryFaults::decide(const MySqlCommandFacts& command)
{
    MySqlFaultAction action;
    if (!active())
        return action;
    for (Entry& e : m_entries) {
        if (!e.reaches || !matches(e, command))
            continue;
        const double toxicity = e.spec.toxicity;
        if (toxicity < 1 && QRandomGenerator::global()->generateDouble() >= toxicity)
            continue;
        const ToxicSpec& s = e.spec;
        if (s.type == ToxicType::MySqlLatency) {
            qint64 delay = s.attribute("latency");
            if (const qint64 jitter = s.attribute("jitter"); jitter > 0)
                delay += QRandomGenerator::global()->bounded(2 * jitter + 1) - jitter;
            action.delayMs += std::max<qint64>(0, delay);
        } else if (action.end != MySqlFaultAction::End::None) {
            continue; // one end per command: the first in the list's order
        } else if (s.type == ToxicType::MySqlClose) {
            action.end = MySqlFaultAction::End::Close;
        } else {
            action.end = MySqlFaultAction::End::Error;
            action.code = quint16(s.attribute("code"));
            mySqlErrorDefaults(action.code, s.name, &action.sqlState, &action.message);
            if (const QString state = s.text("sqlstate"); !state.isEmpty())
                action.sqlState = state.toStdString();
            if (const QString message = s.text("message"); !message.isEmpty())
                action.message = message.toStdString();
        }
        if (!e.mark)
            e.mark = std::make_unique<ToxicHit>(e.state, m_session);
        e.mark->setHitting(true);
    }
    return action;
}

void mySqlErrorDefaults(quint16 code, const QString& toxic, std::string* sqlState,
                        std::string* message)
{
    struct Known
    {
        quint16 code;
        const char* state;
        const char* message;
    };
    static constexpr Known kKnown[] = {
        {1213, "40001", "Deadlock found when trying to get lock; try restarting transaction"},
        {1205, "HY000", "Lock wait timeout exceeded; try restarting transaction"},
        {1062, "23000", "Duplicate entry for key"},
        {1040, "08004", "Too many connections"},
        {1317, "70100", "Query execution was interrupted"},
        {1290, "HY000",
         "The MySQL server is running with the --read-only option so it cannot execute this "
         "statement"},
    };
    for (const Known& k : kKnown) {
        if (k.code == code) {
            *sqlState = k.state;
            *message = k.message;
            return;
        }
    }
    *sqlState = "HY000";
    *message = QStringLiteral("Error %1 injected by Streamgate (toxic %2)")
                   .arg(code)
                   .arg(toxic)
                   .toStdString();
}

} // namespace sg
