#include "api/adminedits.h"

#include "api/adminbody.h"
#include "api/adminreply.h"
#include "config/configstore.h"
#include "config/logging.h"
#include "config/routeedits.h"
#include "model/codec.h"
#include "proxy/engine.h"
#include "runtime/allowexpiry.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QUrl>
#include <optional>

namespace sg {

namespace {

using namespace adminreply;
using Method = HttpRequest::Method;

const QString kRoutesPrefix = QStringLiteral("/streamgate/v1/stream_routes/");
const QString kDisabledPath = QStringLiteral("/streamgate/v1/disabled_routes");
const QString kTimedAllowsPath = QStringLiteral("/streamgate/v1/timed_allows");

// Why an edit did not happen, found on the newest config inside ConfigStore::update. The
// "nothing to change" answers are 409: some of them mean the client is NOT where the request
// wanted it (still allowed through a CIDR entry, the last allowed client), so no success code
// may let a script believe the change took effect.
struct Refused
{
    HttpStatus status = HttpStatus::Conflict;
    QString message;
};

// What the lambda given to ConfigStore::update returns to stop the edit; the answer comes from
// the Refused it set, never from this text.
Problems stop(std::optional<Refused>& refused, const Refused& why)
{
    refused = why;
    return {Problem{QString(), QString(), why.message}};
}

Refused conflict(const QString& why)
{
    return {HttpStatus::Conflict, why};
}

QString quoted(const QString& id)
{
    return QLatin1Char('"') + id + QLatin1Char('"');
}

Refused notFound(const QString& id)
{
    return {HttpStatus::NotFound,
            QStringLiteral("stream route %1 not found: no route, enabled or disabled, has this id")
                .arg(quoted(id))};
}

Refused isDisabledRefusal(const QString& id)
{
    return conflict(QStringLiteral("stream route %1 is disabled: enable it first (POST "
                                   "/streamgate/v1/stream_routes/%2/enable)")
                        .arg(quoted(id), id));
}

bool isDisabled(const Config& config, const QString& id)
{
    for (const DisabledRoute& d : disabledRoutes(config)) {
        if (d.route.idString() == id)
            return true;
    }
    return false;
}

qsizetype indexOfRoute(const Config& config, const QString& id)
{
    for (qsizetype i = 0; i < config.streamRoutes.size(); ++i) {
        if (config.streamRoutes.at(i).idString() == id)
            return i;
    }
    return -1;
}

// One route as these endpoints show it: the route (as stored), whether it is enabled, and the
// listener it uses (an enabled route) or gets back when enabled (a disabled one).
QJsonObject routeEntry(const StreamRoute& route, bool enabled,
                       const std::optional<RouteListen>& listen)
{
    QJsonObject entry{{QStringLiteral("id"), route.idString()},
                      {QStringLiteral("enabled"), enabled},
                      {QStringLiteral("value"), encodeStreamRoute(route)}};
    if (listen) {
        entry.insert(QStringLiteral("protocol"), listen->protocol == Protocol::Udp
                                                     ? QStringLiteral("udp")
                                                     : QStringLiteral("tcp"));
        entry.insert(QStringLiteral("listen"), makeListenEntry(listen->host, listen->port).text());
    }
    return entry;
}

// The entry of route `id` in `config`, enabled or disabled (empty when there is none).
QJsonObject entryOf(const Config& config, const QString& id)
{
    if (const StreamRoute* route = config.findRoute(id))
        return routeEntry(*route, true, listenOf(config.streamProxy, *route));
    for (const DisabledRoute& d : disabledRoutes(config)) {
        if (d.route.idString() == id)
            return routeEntry(d.route, false, d.listen);
    }
    return {};
}

// The body of allow and block: {"client": "192.0.2.7"}, one IPv4 or IPv6 address (the window's
// Allow and Block act on one client too; a range is an ip-restriction edit of its own). Allow
// also takes "duration": "once", "hour", "until_quit" or "always" (duration null: not allowed).
std::optional<AdminRefusal> readClient(const QByteArray& body, QString* client,
                                       std::optional<AllowDuration>* duration)
{
    QJsonValue parsed;
    if (auto refusal = parseAdminBody(body, &parsed))
        return refusal;
    const QString shape = QStringLiteral("the body is {\"client\": \"192.0.2.7\"}");
    if (!parsed.isObject())
        return problemsRefusal({Problem{QString(), adminValueText(parsed),
                                        QStringLiteral("invalid request body: expected a JSON "
                                                       "object; %1")
                                            .arg(shape)}});
    const QJsonObject object = parsed.toObject();
    Problems problems;
    for (auto it = object.begin(); it != object.end(); ++it) {
        if (it.key() == u"duration" && duration) {
            const QJsonValue value = it.value();
            const std::optional<AllowDuration> known =
                value.isString() ? allowDurationFromName(value.toString()) : std::nullopt;
            if (known)
                *duration = known;
            else
                problems << Problem{it.key(), adminValueText(value).left(100),
                                    QStringLiteral("duration %1 is not one of \"once\", "
                                                   "\"hour\", \"until_quit\", \"always\"")
                                        .arg(adminValueText(value).left(100))};
        } else if (it.key() == u"duration") {
            problems << Problem{it.key(), adminValueText(it.value()),
                                QStringLiteral("duration is for allow only: a block does not end")};
        } else if (it.key() != u"client") {
            problems << Problem{it.key(), adminValueText(it.value()),
                                QStringLiteral("unknown field %1: %2").arg(it.key(), shape)};
        }
    }
    const QJsonValue value = object.value(QStringLiteral("client"));
    const QString path = QStringLiteral("client");
    if (value.isUndefined()) {
        problems << Problem{path, QString(),
                            QStringLiteral("client is required: the IP address to allow or "
                                           "block; %1")
                                .arg(shape)};
    } else if (!value.isString()) {
        problems << Problem{path, adminValueText(value),
                            QStringLiteral("client %1 must be a string holding an IP address")
                                .arg(adminValueText(value))};
    } else {
        const QString text = value.toString();
        if (text.contains(u'/') && isIpOrCidr(text))
            problems << Problem{path, text,
                                QStringLiteral("client \"%1\" is a CIDR range, not one client: "
                                               "give one address, or change the route's "
                                               "plugins.ip-restriction (PATCH "
                                               "/apisix/admin/stream_routes/ID)")
                                    .arg(text.left(100))};
        else if (!isIpOrCidr(text))
            problems << Problem{
                path, text.left(100),
                QStringLiteral("client \"%1\" is not an IPv4 or IPv6 address").arg(text.left(100))};
        else
            *client = text;
    }
    if (!problems.isEmpty())
        return problemsRefusal(problems);
    return std::nullopt;
}

} // namespace

AdminRouteEdits::AdminRouteEdits(ConfigStore* store, Engine* engine)
    : m_store(store), m_engine(engine)
{
}

bool AdminRouteEdits::owns(const QString& path)
{
    return path == kDisabledPath || path == kTimedAllowsPath || path.startsWith(kRoutesPrefix);
}

HttpResponse AdminRouteEdits::handle(const HttpRequest& request)
{
    const QString path = request.url().path();
    if (path == kTimedAllowsPath) {
        if (request.method() != Method::Get)
            return methodNotAllowed(request.method(), "GET");
        return listTimedAllows();
    }
    if (path == kDisabledPath) {
        if (request.method() != Method::Get)
            return methodNotAllowed(request.method(), "GET");
        return listDisabled();
    }

    // The id and action as sent: the encoded path is split first and each part decoded, so an
    // encoded "/" stays inside the id (where the id rule refuses it).
    const QString encoded = request.url().path(QUrl::FullyEncoded);
    const QString rest = encoded.startsWith(kRoutesPrefix) ? encoded.mid(kRoutesPrefix.size())
                                                           : path.mid(kRoutesPrefix.size());
    QStringList parts = rest.split(u'/');
    for (QString& part : parts)
        part = QUrl::fromPercentEncoding(part.toUtf8());
    if (parts.size() > 2)
        return error(QStringLiteral("404 Route Not Found"), HttpStatus::NotFound);
    const QString id = parts.first();
    if (auto bad = checkAdminId(AdminKind::StreamRoutes, id))
        return refusalResponse(*bad);

    if (parts.size() == 1) {
        if (request.method() != Method::Delete)
            return methodNotAllowed(request.method(), "DELETE");
        if (auto bad = refuseAdminBody(request.body()))
            return refusalResponse(*bad);
        return remove(id);
    }

    static const QList<QPair<QString, Action>> actions = {
        {QStringLiteral("allow"), Action::Allow},
        {QStringLiteral("block"), Action::Block},
        {QStringLiteral("disable"), Action::Disable},
        {QStringLiteral("enable"), Action::Enable},
    };
    const QString& name = parts.at(1);
    for (const auto& [known, action] : actions) {
        if (name != known)
            continue;
        if (request.method() != Method::Post)
            return methodNotAllowed(request.method(), "POST");
        if (action == Action::Allow || action == Action::Block)
            return clientEdit(id, action, request);
        if (auto bad = refuseAdminBody(request.body()))
            return refusalResponse(*bad);
        return switchEdit(id, action);
    }
    return error(QStringLiteral("unknown action \"%1\" on stream route %2: use allow, block, "
                                "disable or enable")
                     .arg(name.left(100), quoted(id)),
                 HttpStatus::NotFound);
}

HttpResponse AdminRouteEdits::clientEdit(const QString& id, Action action,
                                         const HttpRequest& request)
{
    QString client;
    std::optional<AllowDuration> duration;
    const bool allow = action == Action::Allow;
    if (auto bad = readClient(request.body(), &client, allow ? &duration : nullptr))
        return refusalResponse(*bad);
    // With a duration the runtime allows (Always then also ends a timed allow, as in the
    // window); "always" where no runtime keeps timed allows is the plain allow below.
    if (duration && (m_allows || *duration != AllowDuration::Always))
        return timedAllow(id, client, *duration);

    std::optional<Refused> refused;
    QString name;
    const Problems problems = m_store->update([&](Config& config) {
        const qsizetype at = indexOfRoute(config, id);
        if (at < 0) {
            if (!isDisabled(config, id))
                return stop(refused, notFound(id));
            return stop(refused, isDisabledRefusal(id));
        }
        const StreamRoute route = withOwnIpRestriction(config, config.streamRoutes.at(at));
        name = route.displayName();
        QString why;
        const std::optional<StreamRoute> next =
            allow ? withClientAllowed(route, client, &why) : withClientBlocked(route, client, &why);
        if (!next)
            return stop(refused, conflict(why));
        config.streamRoutes[at] = *next;
        return Problems{};
    });
    if (refused)
        return error(refused->message, refused->status);
    if (!problems.isEmpty())
        return problemsResponse(problems);

    const QString message =
        allow ? QStringLiteral("%1 may now connect to %2").arg(client, name)
              : QStringLiteral("%1 is refused on %2 from now on; its open connections stay until "
                               "closed")
                    .arg(client, name);
    qCInfo(lcApi).noquote() << message << "(admin API)";
    QJsonObject answer = entryOf(m_store->config(), id);
    answer.insert(QStringLiteral("client"), client);
    answer.insert(QStringLiteral("message"), message);
    return json(answer);
}

// An allow with a duration: the runtime's (runtime/allowexpiry.h), as the window's Allow menu.
HttpResponse AdminRouteEdits::timedAllow(const QString& id, const QString& client,
                                         AllowDuration duration)
{
    if (!m_allows)
        return error(QStringLiteral("duration: timed allows are not kept by this process"),
                     HttpStatus::ServiceUnavailable);
    const Config& before = m_store->config();
    if (!before.findRoute(id))
        return isDisabled(before, id) ? error(isDisabledRefusal(id).message, HttpStatus::Conflict)
                                      : error(notFound(id).message, HttpStatus::NotFound);
    const AccessEdit edit = m_allows->allow(client, id, duration);
    if (!edit.why.isEmpty())
        return error(edit.why, HttpStatus::Conflict);
    if (!edit.problems.isEmpty())
        return problemsResponse(edit.problems);
    QString message;
    switch (duration) {
    case AllowDuration::Once:
        message = QStringLiteral("%1 may connect to %2 once").arg(client, edit.routeName);
        break;
    case AllowDuration::Hour:
        message = QStringLiteral("%1 may connect to %2 for 1 hour").arg(client, edit.routeName);
        break;
    case AllowDuration::UntilQuit:
        message = QStringLiteral("%1 may connect to %2 until Streamgate quits")
                      .arg(client, edit.routeName);
        break;
    case AllowDuration::Always:
        message = QStringLiteral("%1 may now connect to %2").arg(client, edit.routeName);
        break;
    }
    qCInfo(lcApi).noquote() << message << "(admin API)";
    QJsonObject answer = entryOf(m_store->config(), id);
    answer.insert(QStringLiteral("client"), client);
    answer.insert(QStringLiteral("duration"), allowDurationName(duration));
    answer.insert(QStringLiteral("message"), message);
    return json(answer);
}

// GET /streamgate/v1/timed_allows: every allow that ends, with the time left. Streamgate's own:
// the whitelist in the APISIX objects stays plain addresses.
HttpResponse AdminRouteEdits::listTimedAllows() const
{
    QJsonArray list;
    if (m_allows) {
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        const auto time = [](qint64 ms) {
            return QDateTime::fromMSecsSinceEpoch(ms).toUTC().toString(Qt::ISODateWithMs);
        };
        for (const TimedAllow& allow : m_allows->timedAllows()) {
            QJsonObject entry{{QStringLiteral("route_id"), allow.routeId},
                              {QStringLiteral("client"), allow.client},
                              {QStringLiteral("duration"), allowDurationName(allow.duration)}};
            if (allow.sinceMs > 0)
                entry.insert(QStringLiteral("since"), time(allow.sinceMs));
            if (allow.untilMs > 0)
                entry.insert(QStringLiteral("until"), time(allow.untilMs));
            if (allow.duration == AllowDuration::Once)
                entry.insert(QStringLiteral("connected"), allow.connected);
            const qint64 left = allow.remainingMs(now);
            entry.insert(QStringLiteral("remaining_seconds"),
                         left < 0 ? QJsonValue() : QJsonValue(double(left) / 1000.0));
            list.append(entry);
        }
    }
    return json(
        QJsonObject{{QStringLiteral("total"), list.size()}, {QStringLiteral("list"), list}});
}

HttpResponse AdminRouteEdits::switchEdit(const QString& id, Action action)
{
    const bool enable = action == Action::Enable;
    std::optional<Refused> refused;
    const Problems problems = m_store->update([&](Config& config) {
        const bool enabled = config.findRoute(id) != nullptr;
        const bool disabled = !enabled && isDisabled(config, id);
        if (!enabled && !disabled)
            return stop(refused, notFound(id));
        if (enabled == enable)
            return stop(refused,
                        conflict(QStringLiteral("stream route %1 is already %2")
                                     .arg(quoted(id), enable ? QStringLiteral("enabled")
                                                             : QStringLiteral("disabled"))));
        config = enable ? withRouteEnabled(config, id) : withRouteDisabled(config, id);
        return Problems{};
    });
    if (refused)
        return error(refused->message, refused->status);
    if (!problems.isEmpty())
        return problemsResponse(problems);

    const QString message =
        enable ? QStringLiteral("stream route %1 is enabled").arg(quoted(id))
               : QStringLiteral("stream route %1 is disabled: it takes no new connections, open "
                                "ones stay until they close (kept under "
                                "streamgate.disabled_routes)")
                     .arg(quoted(id));
    qCInfo(lcApi).noquote() << message << "(admin API)";
    QJsonObject answer = entryOf(m_store->config(), id);
    answer.insert(QStringLiteral("message"), message);
    return json(answer);
}

HttpResponse AdminRouteEdits::remove(const QString& id)
{
    std::optional<Refused> refused;
    bool wasEnabled = false;
    const Problems problems = m_store->update([&](Config& config) {
        wasEnabled = config.findRoute(id) != nullptr;
        if (wasEnabled) {
            config = withRouteDeleted(config, id);
            return Problems{};
        }
        if (!isDisabled(config, id))
            return stop(refused, notFound(id));
        config = withDisabledRouteRemoved(config, id);
        return Problems{};
    });
    if (refused)
        return error(refused->message, refused->status);
    if (!problems.isEmpty())
        return problemsResponse(problems);

    // As the window's Delete: the route's open connections go with it.
    const int closed = wasEnabled && m_engine ? m_engine->killRoute(id) : 0;
    const QString message =
        QStringLiteral("stream route %1 deleted (it was %2); %3 open connection(s) closed")
            .arg(quoted(id), wasEnabled ? QStringLiteral("enabled") : QStringLiteral("disabled"))
            .arg(closed);
    qCInfo(lcApi).noquote() << message << "(admin API)";
    return json(QJsonObject{{QStringLiteral("deleted"), id},
                            {QStringLiteral("enabled"), wasEnabled},
                            {QStringLiteral("connections_closed"), closed},
                            {QStringLiteral("message"), message}});
}

HttpResponse AdminRouteEdits::listDisabled() const
{
    QJsonArray list;
    for (const DisabledRoute& d : disabledRoutes(m_store->config()))
        list.append(routeEntry(d.route, false, d.listen));
    return json(
        QJsonObject{{QStringLiteral("total"), list.size()}, {QStringLiteral("list"), list}});
}

} // namespace sg
