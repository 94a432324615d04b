#include "runtime/allowexpiry.h"

#include "config/configstore.h"
#include "config/routeedits.h"
#include "proxy/engine.h"

#include <QDateTime>
#include <QHostAddress>
#include <algorithm>

namespace sg {

namespace {

QString accessKey(const QString& routeId, const QString& ip)
{
    return routeId + QLatin1Char('\n') + ip;
}

QDateTime parseTime(const std::optional<QString>& text)
{
    return text ? QDateTime::fromString(*text, Qt::ISODateWithMs) : QDateTime();
}

qint64 timeMs(const std::optional<QString>& text)
{
    const QDateTime time = parseTime(text);
    return time.isValid() ? time.toMSecsSinceEpoch() : 0;
}

QString timeText(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms).toUTC().toString(Qt::ISODateWithMs);
}

bool sameAddress(const QString& a, const QHostAddress& b)
{
    return QHostAddress(a).isEqual(b, QHostAddress::TolerantConversion);
}

// The exact entry of ip in a list (no CIDR): what an allow adds and its end takes out.
bool listsExactly(const QStringList& list, const QString& ip)
{
    return std::any_of(list.begin(), list.end(), [&](const QString& entry) {
        return entry == ip || sameAddress(entry, QHostAddress(ip));
    });
}

// The route's ip-restriction whitelist as it runs (its service's when it has none of its own).
QStringList whitelistOf(const Config& config, const StreamRoute& route)
{
    const StreamRoute own = withOwnIpRestriction(config, route);
    return own.plugins.ipRestriction ? own.plugins.ipRestriction->whitelist : QStringList();
}

void removeExpiry(StreamgateSettings& settings, const QString& routeId, const QString& ip)
{
    if (!settings.allowExpiry)
        return;
    AllowExpiryMap& map = *settings.allowExpiry;
    if (!map.contains(routeId))
        return;
    map[routeId].remove(ip);
    if (map[routeId].isEmpty())
        map.remove(routeId);
    if (map.isEmpty())
        settings.allowExpiry.reset();
}

} // namespace

QString allowDurationName(AllowDuration duration)
{
    switch (duration) {
    case AllowDuration::Once:
        return QStringLiteral("once");
    case AllowDuration::Hour:
        return QStringLiteral("hour");
    case AllowDuration::UntilQuit:
        return QStringLiteral("until_quit");
    case AllowDuration::Always:
        return QStringLiteral("always");
    }
    return {};
}

std::optional<AllowDuration> allowDurationFromName(const QString& name)
{
    for (const AllowDuration d : kAllowDurations)
        if (allowDurationName(d) == name)
            return d;
    return std::nullopt;
}

qint64 TimedAllow::remainingMs(qint64 nowMs) const
{
    if (duration == AllowDuration::UntilQuit || connected || untilMs == 0)
        return -1;
    return qMax<qint64>(0, untilMs - nowMs);
}

AllowExpiry::AllowExpiry(ConfigStore* store, Engine* engine, QObject* parent)
    : QObject(parent), m_store(store), m_engine(engine)
{
    setObjectName(QStringLiteral("allowExpiry"));
    if (const int hour = qEnvironmentVariableIntValue("STREAMGATE_ALLOW_HOUR_MS"); hour > 0)
        m_hourMs = hour;
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &AllowExpiry::onTimer);
    if (m_engine)
        connect(m_engine, &Engine::eventsAvailable, this, &AllowExpiry::onEngineEvents);
    if (!m_store)
        return;
    connect(m_store, &ConfigStore::changed, this,
            [this](const ConfigDiff&, const Config& config) { onConfigChanged(config); });
    endSessionAccess(); // left from a run that did not quit cleanly
    onConfigChanged(m_store->config());
    // Who still has access, and until when, is said at start as at each allow.
    for (const TimedAllow& allow : timedAllows())
        announce(allow.client, allow.routeId);
}

// An event saying when the access of ip to the route ends, as the one at its end says that it
// did.
void AllowExpiry::announce(const QString& ip, const QString& routeId)
{
    const std::optional<TimedAllow> allow = timedAllow(ip, routeId);
    if (!m_engine || !allow)
        return;
    QString when;
    if (allow->duration == AllowDuration::Once)
        when = tr("ends when its first connection ends (or at %1 if none comes)")
                   .arg(timeText(allow->untilMs));
    else if (allow->duration == AllowDuration::Hour)
        when = tr("ends at %1").arg(timeText(allow->untilMs));
    else
        when = tr("ends when Streamgate quits");
    const StreamRoute* route = m_store->config().findRoute(routeId);
    m_engine->recordOperatorEvent(
        routeId,
        tr("access for %1 to route %2 %3").arg(ip, route ? route->displayName() : routeId, when));
}

// Allows or blocks `ip` on route `routeId`, on the config as it is now (ConfigStore::update
// takes in a hand edit on disk first).
AccessEdit AllowExpiry::edit(const QString& ip, const QString& routeId, bool allow,
                             AllowDuration duration)
{
    AccessEdit result;
    if (!m_store) {
        result.why = tr("There is no config to change");
        return result;
    }
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const Problems problems = m_store->update([&](Config& config) {
        const auto it = std::find_if(config.streamRoutes.begin(), config.streamRoutes.end(),
                                     [&](const StreamRoute& r) { return r.idString() == routeId; });
        std::optional<StreamRoute> next;
        const bool timed = config.streamgate.allowExpiryMap().value(routeId).contains(ip);
        if (it == config.streamRoutes.end()) {
            result.why = tr("The route %1 no longer exists").arg(routeId);
        } else {
            result.routeName = it->displayName();
            const StreamRoute route = withOwnIpRestriction(config, *it);
            const bool hasWhitelist =
                route.plugins.ipRestriction && !route.plugins.ipRestriction->whitelist.isEmpty();
            if (allow && duration != AllowDuration::Always && !hasWhitelist) {
                result.why = tr("%1 has no allow-list (ip-restriction whitelist): only an allow "
                                "that does not end can be given there")
                                 .arg(result.routeName);
            } else if (allow && timed) {
                next = route; // allowed already for a time: only the time changes
            } else {
                next = allow ? withClientAllowed(route, ip, &result.why)
                             : withClientBlocked(route, ip, &result.why);
            }
        }
        if (!next)
            return Problems{Problem{QString(), QString(), result.why}};
        *it = *next;
        removeExpiry(config.streamgate, routeId, ip);
        if (allow && duration != AllowDuration::Always) {
            AllowExpirySettings entry;
            entry.since = timeText(now);
            if (duration == AllowDuration::UntilQuit) {
                entry.untilQuit = true;
            } else {
                entry.once =
                    duration == AllowDuration::Once ? std::optional<bool>(true) : std::nullopt;
                entry.until =
                    timeText(now + (duration == AllowDuration::Once ? m_hourMs / kOnceWaitPerHour
                                                                    : m_hourMs));
            }
            AllowExpiryMap map = config.streamgate.allowExpiryMap();
            map[routeId].insert(ip, entry);
            config.streamgate.allowExpiry = map;
        }
        return Problems{};
    });
    if (!result.why.isEmpty())
        return result;
    if (!problems.isEmpty()) {
        result.problems = problems;
        return result;
    }
    result.changed = true;
    m_onceConnection.remove(accessKey(routeId, ip));
    if (allow && duration != AllowDuration::Always)
        announce(ip, routeId);
    return result;
}

AccessEdit AllowExpiry::allow(const QString& ip, const QString& routeId, AllowDuration duration)
{
    return edit(ip, routeId, true, duration);
}

AccessEdit AllowExpiry::block(const QString& ip, const QString& routeId)
{
    return edit(ip, routeId, false, AllowDuration::Always);
}

void AllowExpiry::endAccess(const QList<QPair<QString, QString>>& which)
{
    if (!m_store || which.isEmpty())
        return;
    QList<QPair<QString, QString>> ended;
    QHash<QString, qint64> since;
    const Problems problems = m_store->update([&](Config& config) {
        for (const auto& [routeId, ip] : which) {
            const AllowExpiryMap map = config.streamgate.allowExpiryMap();
            if (!map.value(routeId).contains(ip))
                continue; // ended already (a hand edit, another end)
            since.insert(accessKey(routeId, ip), timeMs(map.value(routeId).value(ip).since));
            removeExpiry(config.streamgate, routeId, ip);
            auto it = std::find_if(config.streamRoutes.begin(), config.streamRoutes.end(),
                                   [&](const StreamRoute& r) { return r.idString() == routeId; });
            if (it == config.streamRoutes.end())
                continue;
            StreamRoute route = withOwnIpRestriction(config, *it);
            if (route.plugins.ipRestriction) {
                QStringList& list = route.plugins.ipRestriction->whitelist;
                list.removeIf([&](const QString& entry) {
                    return entry == ip || sameAddress(entry, QHostAddress(ip));
                });
                if (list.isEmpty() && route.plugins.ipRestriction->blacklist.isEmpty()) {
                    // An empty whitelist is not valid APISIX; one that lets nobody in is
                    // what the user had with this client gone.
                    list << QStringLiteral("255.255.255.255/32");
                }
            }
            *it = route;
            ended << qMakePair(routeId, ip);
        }
        return Problems{};
    });
    if (!problems.isEmpty()) {
        Q_EMIT endFailed(tr("Cannot end a timed access: %1").arg(formatProblems(problems)));
        return;
    }
    const bool close = m_closeAtEnd;
    const Snapshot snapshot = m_engine && close ? m_engine->snapshot() : Snapshot();
    for (const auto& [routeId, ip] : std::as_const(ended)) {
        const StreamRoute* route = m_store->config().findRoute(routeId);
        const QString name = route ? route->displayName() : routeId;
        m_onceConnection.remove(accessKey(routeId, ip));
        if (m_engine) {
            m_engine->recordOperatorEvent(routeId,
                                          tr("access for %1 to route %2 ended").arg(ip, name));
            if (close) {
                const qint64 from = since.value(accessKey(routeId, ip));
                const QHostAddress address(ip);
                for (const ConnectionInfo& c : snapshot.active) {
                    if (c.routeId == routeId && c.startMs >= from &&
                        c.clientAddress.isEqual(address, QHostAddress::TolerantConversion))
                        m_engine->killConnection(c.id);
                }
            }
        }
        Q_EMIT accessEnded(ip, routeId, name);
    }
}

void AllowExpiry::endSessionAccess()
{
    if (!m_store)
        return;
    QList<QPair<QString, QString>> which;
    const AllowExpiryMap map = m_store->config().streamgate.allowExpiryMap();
    for (auto route = map.begin(); route != map.end(); ++route)
        for (auto it = route.value().begin(); it != route.value().end(); ++it)
            if (it.value().untilQuit.value_or(false))
                which << qMakePair(route.key(), it.key());
    endAccess(which);
}

// A hand edit that took a timed client out of the whitelist (or the route away) drops its
// expiry; the times left decide when the timer fires next.
void AllowExpiry::onConfigChanged(const Config& config)
{
    const AllowExpiryMap map = config.streamgate.allowExpiryMap();
    QList<QPair<QString, QString>> stale;
    for (auto route = map.begin(); route != map.end(); ++route) {
        const StreamRoute* r = config.findRoute(route.key());
        const QStringList whitelist = r ? whitelistOf(config, *r) : QStringList();
        for (auto it = route.value().begin(); it != route.value().end(); ++it)
            if (!listsExactly(whitelist, it.key()))
                stale << qMakePair(route.key(), it.key());
    }
    if (!stale.isEmpty()) {
        // Only the expiry goes: the whitelist is already as the user made it. After this
        // change has reached everyone else (an edit from inside changed() would overtake it).
        QTimer::singleShot(0, this, [this, stale] {
            m_store->update([&](Config& next) {
                for (const auto& [routeId, ip] : stale)
                    removeExpiry(next.streamgate, routeId, ip);
                return Problems{};
            });
        });
        return; // the change comes back here
    }
    for (auto it = m_onceConnection.begin(); it != m_onceConnection.end();) {
        const QStringList parts = it.key().split(QLatin1Char('\n'));
        if (!map.value(parts.value(0)).contains(parts.value(1)))
            it = m_onceConnection.erase(it);
        else
            ++it;
    }
    schedule();
    Q_EMIT timedAllowsChanged();
}

void AllowExpiry::schedule()
{
    const AllowExpiryMap map =
        m_store ? m_store->config().streamgate.allowExpiryMap() : AllowExpiryMap();
    qint64 next = -1;
    m_onceWaits = false;
    for (auto route = map.begin(); route != map.end(); ++route) {
        for (auto it = route.value().begin(); it != route.value().end(); ++it) {
            if (!it.value().until)
                continue;
            if (it.value().once.value_or(false)) {
                m_onceWaits = true;
                // An "once" allow whose connection came ends with that connection, not at until.
                if (m_onceConnection.contains(accessKey(route.key(), it.key())))
                    continue;
            }
            const qint64 at = timeMs(it.value().until);
            if (next < 0 || at < next)
                next = at;
        }
    }
    if (next < 0)
        m_timer.stop();
    else
        m_timer.start(
            int(qBound<qint64>(0, next - QDateTime::currentMSecsSinceEpoch(), 24LL * 3600 * 1000)));
}

void AllowExpiry::onTimer()
{
    if (!m_store)
        return;
    // An "once" allow whose connection came since the last look is not due: look first.
    if (m_onceWaits && m_engine)
        applySnapshot(m_engine->snapshot());
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    QList<QPair<QString, QString>> due;
    const AllowExpiryMap map = m_store->config().streamgate.allowExpiryMap();
    for (auto route = map.begin(); route != map.end(); ++route) {
        for (auto it = route.value().begin(); it != route.value().end(); ++it) {
            if (!it.value().until || timeMs(it.value().until) > now)
                continue;
            if (it.value().once.value_or(false) &&
                m_onceConnection.contains(accessKey(route.key(), it.key())))
                continue;
            due << qMakePair(route.key(), it.key());
        }
    }
    endAccess(due);
    schedule();
}

// A connection opened or closed somewhere: only an "once" allow cares, and only then is a
// snapshot taken.
void AllowExpiry::onEngineEvents()
{
    if (m_onceWaits && m_engine)
        applySnapshot(m_engine->snapshot());
}

void AllowExpiry::applySnapshot(const Snapshot& snapshot)
{
    if (!m_store || !m_onceWaits)
        return;
    const AllowExpiryMap map = m_store->config().streamgate.allowExpiryMap();
    QList<QPair<QString, QString>> done;
    bool seen = false;
    for (auto route = map.begin(); route != map.end(); ++route) {
        for (auto it = route.value().begin(); it != route.value().end(); ++it) {
            if (!it.value().once.value_or(false))
                continue;
            const QString key = accessKey(route.key(), it.key());
            const QHostAddress address(it.key());
            const auto matches = [&](const ConnectionInfo& c) {
                return c.routeId == route.key() &&
                       c.clientAddress.isEqual(address, QHostAddress::TolerantConversion);
            };
            if (const auto known = m_onceConnection.constFind(key);
                known != m_onceConnection.cend()) {
                const bool open = std::any_of(
                    snapshot.active.begin(), snapshot.active.end(),
                    [&](const ConnectionInfo& c) { return c.id == *known && c.endMs == 0; });
                if (!open)
                    done << qMakePair(route.key(), it.key());
                continue;
            }
            // The first connection since the allow, open or already over.
            const qint64 since = timeMs(it.value().since);
            const ConnectionInfo* first = nullptr;
            for (const QList<ConnectionInfo>* list : {&snapshot.active, &snapshot.closed})
                for (const ConnectionInfo& c : *list)
                    if (matches(c) && c.startMs >= since && (!first || c.startMs < first->startMs))
                        first = &c;
            if (!first)
                continue;
            if (first->endMs != 0) {
                done << qMakePair(route.key(), it.key());
            } else {
                m_onceConnection.insert(key, first->id);
                seen = true;
            }
        }
    }
    if (seen) {
        schedule();
        Q_EMIT timedAllowsChanged();
    }
    endAccess(done);
}

bool AllowExpiry::isAllowed(const QString& ip, const QString& routeId) const
{
    if (!m_store)
        return false;
    const Config& config = m_store->config();
    const StreamRoute* route = config.findRoute(routeId);
    if (!route)
        return false;
    const StreamRoute own = withOwnIpRestriction(config, *route);
    if (!own.plugins.ipRestriction)
        return true;
    const QHostAddress address(ip);
    const auto covers = [&](const QString& entry) {
        if (!entry.contains(QLatin1Char('/')))
            return sameAddress(entry, address);
        return address.isInSubnet(QHostAddress::parseSubnet(entry));
    };
    const IpRestrictionConf& conf = *own.plugins.ipRestriction;
    if (!conf.whitelist.isEmpty())
        return std::any_of(conf.whitelist.begin(), conf.whitelist.end(), covers);
    return std::none_of(conf.blacklist.begin(), conf.blacklist.end(), covers);
}

std::optional<TimedAllow> AllowExpiry::timedAllow(const QString& ip, const QString& routeId) const
{
    if (!m_store)
        return std::nullopt;
    const AllowExpiryMap map = m_store->config().streamgate.allowExpiryMap();
    const auto route = map.constFind(routeId);
    if (route == map.cend())
        return std::nullopt;
    const auto it = route->constFind(ip);
    if (it == route->cend())
        return std::nullopt;
    TimedAllow allow;
    allow.routeId = routeId;
    allow.client = ip;
    allow.sinceMs = timeMs(it->since);
    allow.untilMs = timeMs(it->until);
    if (it->untilQuit.value_or(false)) {
        allow.duration = AllowDuration::UntilQuit;
    } else if (it->once.value_or(false)) {
        allow.duration = AllowDuration::Once;
        allow.connected = m_onceConnection.contains(accessKey(routeId, ip));
    }
    return allow;
}

QList<TimedAllow> AllowExpiry::timedAllows() const
{
    QList<TimedAllow> result;
    if (!m_store)
        return result;
    const AllowExpiryMap map = m_store->config().streamgate.allowExpiryMap();
    for (auto route = map.begin(); route != map.end(); ++route)
        for (auto it = route.value().begin(); it != route.value().end(); ++it)
            if (const auto allow = timedAllow(it.key(), route.key()))
                result << *allow;
    return result;
}

} // namespace sg
