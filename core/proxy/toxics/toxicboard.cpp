#include "proxy/toxics/toxicboard.h"

namespace sg {

std::shared_ptr<const RouteToxics::List> RouteToxics::current(quint64* version) const
{
    QMutexLocker lock(&m_mutex);
    *version = m_version.load(std::memory_order_relaxed);
    return m_list;
}

void RouteToxics::publish(List toxics)
{
    auto list = std::make_shared<const List>(std::move(toxics));
    QMutexLocker lock(&m_mutex);
    m_list = std::move(list);
    m_version.fetch_add(1, std::memory_order_release);
}

QStringList ToxicBoard::apply(const QMap<QString, QList<ToxicSpec>>& toxics)
{
    QStringList changed;
    QMutexLocker lock(&m_mutex);
    for (auto it = m_applied.cbegin(); it != m_applied.cend(); ++it) {
        if (toxics.contains(it.key()))
            continue;
        if (const auto route = m_routes.take(it.key())) {
            route->publish({});
            changed << it.key();
        }
    }
    for (auto it = toxics.cbegin(); it != toxics.cend(); ++it) {
        auto& route = m_routes[it.key()];
        if (!route) {
            route = std::make_shared<RouteToxics>();
            if (!it.value().isEmpty())
                route->publish(it.value());
            changed << it.key();
        } else if (m_applied.value(it.key()) != it.value()) {
            route->publish(it.value());
            changed << it.key();
        }
    }
    m_applied = toxics;
    m_count.store(int(m_routes.size()), std::memory_order_release);
    return changed;
}

std::shared_ptr<RouteToxics> ToxicBoard::route(const QString& routeId) const
{
    QMutexLocker lock(&m_mutex);
    return m_routes.value(routeId);
}

} // namespace sg
