#include "accesscontroller.h"

#include "config/configstore.h"
#include "config/routeedits.h"
#include "proxy/engine.h"

#include <QDateTime>
#include <QHostAddress>
#include <QMessageBox>
#include <QWidget>
#include <algorithm>

namespace sg::ui {

namespace {

QString accessKey(const QString& routeId, const QString& ip)
{
    return routeId + QLatin1Char('\n') + ip;
}

QDateTime parseTime(const std::optional<QString>& text)
{
    return text ? QDateTime::fromString(*text, Qt::ISODateWithMs) : QDateTime();
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

QString allowDurationText(AllowDuration duration)
{
    switch (duration) {
    case AllowDuration::Once:
        return AccessController::tr("Allow &once");
    case AllowDuration::Hour:
        return AccessController::tr("Allow for 1 &hour");
    case AllowDuration::UntilQuit:
        return AccessController::tr("Allow until Streamgate &quits");
    case AllowDuration::Always:
        return AccessController::tr("&Always allow");
    }
    return {};
}

AccessController::AccessController(ConfigStore* store, QWidget* window, Engine* engine)
    : QObject(window), m_store(store), m_window(window), m_engine(engine)
{
    setObjectName(QStringLiteral("accessController"));
    if (const int hour = qEnvironmentVariableIntValue("STREAMGATE_ALLOW_HOUR_MS"); hour > 0)
        m_hourMs = hour;
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &AccessController::onTimer);
    m_tick.setInterval(1000);
    connect(&m_tick, &QTimer::timeout, this, &AccessController::timedAccessChanged);
    if (!m_store)
        return;
    connect(m_store, &ConfigStore::changed, this,
            [this](const ConfigDiff&, const Config& config) { onConfigChanged(config); });
    endSessionAccess(); // left from a run that did not quit cleanly
    onConfigChanged(m_store->config());
}

// Allows or blocks `ip` on route `routeId`, on the config as it is now (ConfigStore::update
// takes in a hand edit on disk first). Returns the problems that refused the result; *why says
// why nothing changed otherwise (the route is gone, or the client already is as asked).
Problems AccessController::editClient(const QString& ip, const QString& routeId, bool allow,
                                      AllowDuration duration, QString* routeName, QString* why)
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const Problems problems = m_store->update([&](Config& config) {
        const auto it = std::find_if(config.streamRoutes.begin(), config.streamRoutes.end(),
                                     [&](const StreamRoute& r) { return r.idString() == routeId; });
        std::optional<StreamRoute> next;
        const bool timed = config.streamgate.allowExpiryMap().value(routeId).contains(ip);
        if (it == config.streamRoutes.end()) {
            *why = tr("The route %1 no longer exists").arg(routeId);
        } else {
            *routeName = it->displayName();
            const StreamRoute route = withOwnIpRestriction(config, *it);
            const bool hasWhitelist =
                route.plugins.ipRestriction && !route.plugins.ipRestriction->whitelist.isEmpty();
            if (allow && duration != AllowDuration::Always && !hasWhitelist) {
                *why = tr("%1 has no allow-list (ip-restriction whitelist): only an allow that "
                          "does not end can be given there")
                           .arg(*routeName);
            } else if (allow && timed) {
                next = route; // allowed already for a time: only the time changes
            } else {
                next =
                    allow ? withClientAllowed(route, ip, why) : withClientBlocked(route, ip, why);
            }
        }
        if (!next)
            return Problems{Problem{QString(), QString(), *why}};
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
    return why->isEmpty() ? problems : Problems{};
}

bool AccessController::allowClient(const QString& ip, const QString& routeId,
                                   AllowDuration duration)
{
    if (!m_store)
        return false;
    QString name, why;
    const Problems problems = editClient(ip, routeId, true, duration, &name, &why);
    if (!why.isEmpty()) {
        Q_EMIT message(why, 6000);
        return false;
    }
    if (!problems.isEmpty()) {
        QMessageBox::warning(m_window, tr("Cannot allow %1").arg(ip), formatProblems(problems));
        return false;
    }
    m_onceConnection.remove(accessKey(routeId, ip));
    m_pending.removeIf(
        [&](const DeniedClient& d) { return d.clientIp == ip && d.routeId == routeId; });
    Q_EMIT clientAllowed(ip, routeId);
    QString text;
    switch (duration) {
    case AllowDuration::Once:
        text = tr("%1 may connect to %2 once").arg(ip, name);
        break;
    case AllowDuration::Hour:
        text = tr("%1 may connect to %2 for 1 hour").arg(ip, name);
        break;
    case AllowDuration::UntilQuit:
        text = tr("%1 may connect to %2 until Streamgate quits").arg(ip, name);
        break;
    case AllowDuration::Always:
        text = tr("%1 may now connect to %2").arg(ip, name);
        break;
    }
    Q_EMIT message(text, 6000);
    return true;
}

bool AccessController::blockClient(const QString& ip, const QString& routeId)
{
    if (!m_store)
        return false;
    QString name, why;
    const Problems problems = editClient(ip, routeId, false, AllowDuration::Always, &name, &why);
    if (!why.isEmpty()) {
        QMessageBox::information(m_window, tr("Block %1").arg(ip), why);
        return false;
    }
    if (!problems.isEmpty()) {
        QMessageBox::warning(m_window, tr("Cannot block %1").arg(ip), formatProblems(problems));
        return false;
    }
    Q_EMIT message(
        tr("%1 is refused on %2 from now on; its open connections stay until closed").arg(ip, name),
        8000);
    return true;
}

bool AccessController::addRefusal(const DeniedClient& denied)
{
    if (denied.routeId.isEmpty() || denied.reason != CloseReason::DeniedIpRestriction)
        return false;
    m_pending.removeIf([&](const DeniedClient& d) {
        return d.clientIp == denied.clientIp && d.routeId == denied.routeId;
    });
    m_pending << denied;
    return true;
}

bool AccessController::allowLastRefusal(AllowDuration duration)
{
    if (m_pending.isEmpty())
        return false;
    const DeniedClient d = m_pending.takeLast();
    return allowClient(d.clientIp, d.routeId, duration);
}

// ---- timed allows ---------------------------------------------------------------------------

void AccessController::endAccess(const QList<QPair<QString, QString>>& which)
{
    if (!m_store || which.isEmpty())
        return;
    QList<QPair<QString, QString>> ended; // with the route's name
    QHash<QString, qint64> since;
    const Problems problems = m_store->update([&](Config& config) {
        for (const auto& [routeId, ip] : which) {
            const AllowExpiryMap map = config.streamgate.allowExpiryMap();
            if (!map.value(routeId).contains(ip))
                continue; // ended already (a hand edit, another end)
            since.insert(accessKey(routeId, ip),
                         parseTime(map.value(routeId).value(ip).since).toMSecsSinceEpoch());
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
        Q_EMIT message(tr("Cannot end a timed access: %1").arg(formatProblems(problems)), 10000);
        return;
    }
    for (const auto& [routeId, ip] : std::as_const(ended)) {
        const StreamRoute* route = m_store->config().findRoute(routeId);
        const QString name = route ? route->displayName() : routeId;
        const QString text = tr("access for %1 to route %2 ended").arg(ip, name);
        m_onceConnection.remove(accessKey(routeId, ip));
        if (m_engine) {
            m_engine->recordOperatorEvent(routeId, text);
            if (m_closeAtEnd) {
                const qint64 from = since.value(accessKey(routeId, ip));
                const QHostAddress address(ip);
                for (const ConnectionInfo& c : m_engine->snapshot().active) {
                    if (c.routeId == routeId && c.startMs >= from &&
                        c.clientAddress.isEqual(address, QHostAddress::TolerantConversion))
                        m_engine->killConnection(c.id);
                }
            }
        }
        Q_EMIT accessEnded(ip, routeId);
        Q_EMIT message(text.at(0).toUpper() + text.mid(1), 8000);
    }
}

void AccessController::endSessionAccess()
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
void AccessController::onConfigChanged(const Config& config)
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
    Q_EMIT timedAccessChanged();
}

void AccessController::schedule()
{
    const AllowExpiryMap map =
        m_store ? m_store->config().streamgate.allowExpiryMap() : AllowExpiryMap();
    qint64 next = -1;
    bool any = false;
    for (auto route = map.begin(); route != map.end(); ++route) {
        for (auto it = route.value().begin(); it != route.value().end(); ++it) {
            any = true;
            if (!it.value().until)
                continue;
            // An "once" allow whose connection came ends with that connection, not at until.
            if (it.value().once.value_or(false) &&
                m_onceConnection.contains(accessKey(route.key(), it.key())))
                continue;
            const qint64 at = parseTime(it.value().until).toMSecsSinceEpoch();
            if (next < 0 || at < next)
                next = at;
        }
    }
    if (next < 0)
        m_timer.stop();
    else
        m_timer.start(
            int(qBound<qint64>(0, next - QDateTime::currentMSecsSinceEpoch(), 24LL * 3600 * 1000)));
    if (any && !m_tick.isActive())
        m_tick.start();
    else if (!any)
        m_tick.stop();
}

void AccessController::onTimer()
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    QList<QPair<QString, QString>> due;
    const AllowExpiryMap map = m_store->config().streamgate.allowExpiryMap();
    for (auto route = map.begin(); route != map.end(); ++route) {
        for (auto it = route.value().begin(); it != route.value().end(); ++it) {
            if (!it.value().until || parseTime(it.value().until).toMSecsSinceEpoch() > now)
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

void AccessController::applySnapshot(const Snapshot& snapshot)
{
    if (!m_store)
        return;
    const AllowExpiryMap& map = m_store->config().streamgate.allowExpiryMap();
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
            const qint64 since = parseTime(it.value().since).toMSecsSinceEpoch();
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
    if (seen)
        schedule();
    endAccess(done);
}

// ---- what the window shows ------------------------------------------------------------------

bool AccessController::isAllowed(const QString& ip, const QString& routeId) const
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

QString AccessController::timedAccessText(const QString& ip, const QString& routeId) const
{
    if (!m_store)
        return {};
    const AllowExpirySettings entry =
        m_store->config().streamgate.allowExpiryMap().value(routeId).value(ip);
    if (entry.untilQuit.value_or(false))
        return tr("until Streamgate quits");
    if (!entry.until)
        return {};
    if (entry.once.value_or(false))
        return m_onceConnection.contains(accessKey(routeId, ip)) ? tr("once, connected")
                                                                 : tr("once");
    // Shown in the units of an hour as the user chose it, whatever the clock's scale.
    const qint64 left =
        parseTime(entry.until).toMSecsSinceEpoch() - QDateTime::currentMSecsSinceEpoch();
    const qint64 minutes = qMax<qint64>(0, (left * 60 + m_hourMs - 1) / m_hourMs);
    if (minutes >= 60)
        return tr("1 h left");
    return tr("%1 min left").arg(minutes);
}

QHash<QString, QStringList> AccessController::timedAccessByRoute() const
{
    QHash<QString, QStringList> result;
    if (!m_store)
        return result;
    const AllowExpiryMap map = m_store->config().streamgate.allowExpiryMap();
    for (auto route = map.begin(); route != map.end(); ++route)
        for (auto it = route.value().begin(); it != route.value().end(); ++it)
            result[route.key()] << QStringLiteral("%1 (%2)").arg(
                it.key(), timedAccessText(it.key(), route.key()));
    return result;
}

} // namespace sg::ui
