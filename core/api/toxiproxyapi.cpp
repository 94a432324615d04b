#include "api/toxiproxyapi.h"

#include "api/toxiproxymodel.h"
#include "config/configstore.h"
#include "config/logging.h"
#include "config/routeedits.h"
#include "config/toxicedits.h"
#include "proxy/engine.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>
#include <algorithm>

namespace sg {

using toxiproxy::ApiError;
using toxiproxy::ProxyInput;
using toxiproxy::ProxyView;
using Method = HttpRequest::Method;

namespace {

HttpResponse json(const QJsonValue& value, HttpStatus status = HttpStatus::Ok)
{
    const QJsonDocument doc =
        value.isArray() ? QJsonDocument(value.toArray()) : QJsonDocument(value.toObject());
    return HttpResponse("application/json", doc.toJson(QJsonDocument::Compact), status);
}

HttpResponse apiError(const ApiError& e)
{
    return json(
        QJsonObject{{QStringLiteral("error"), e.message}, {QStringLiteral("status"), e.status}},
        HttpStatus(e.status));
}

HttpResponse apiError(int status, const QString& message)
{
    return apiError(ApiError{status, message});
}

// The body as JSON, or Toxiproxy's "bad request body" error (an empty body included).
std::optional<QJsonValue> parseBody(const QByteArray& body, ApiError* error)
{
    QJsonParseError parse;
    // Wrapped, so a bare value (a number, a string) parses too and is refused by its type.
    const QJsonDocument doc =
        QJsonDocument::fromJson(QByteArray("[") + body + QByteArray("]"), &parse);
    if (parse.error != QJsonParseError::NoError || doc.array().size() != 1) {
        const QString why = body.trimmed().isEmpty()
                                ? QStringLiteral("EOF")
                                : QStringLiteral("invalid JSON at offset %1: %2")
                                      .arg(qMax(0, parse.offset - 1))
                                      .arg(parse.errorString());
        *error = ApiError{400, QStringLiteral("bad request body: ") + why};
        return std::nullopt;
    }
    return doc.array().at(0);
}

// A toxic's problems as Toxiproxy's error, naming the field.
ApiError toxicError(const Problems& problems)
{
    const Problem& p = problems.first();
    QString prefix = QStringLiteral("bad request body");
    if (p.path == u"type")
        prefix = p.reason.startsWith(u"missing") ? QStringLiteral("missing required field")
                                                 : QStringLiteral("invalid toxic type");
    else if (p.path == u"stream")
        prefix = QStringLiteral("stream was invalid, can be either upstream or downstream");
    QString text = prefix + QStringLiteral(": ") + p.path;
    if (!p.reason.startsWith(u"missing") && !p.reason.startsWith(u"stream was"))
        text += QStringLiteral(": ") + p.reason;
    return ApiError{400, text};
}

// For the log and the event log: "slow (latency downstream, toxicity 0.5, latency 200, jitter
// 10, clients 127.0.0.2/32, switched off)".
QString toxicText(const ToxicSpec& t)
{
    QStringList parts{toxicTypeName(t.type) + u' ' + t.streamName(),
                      QStringLiteral("toxicity %1").arg(t.toxicity)};
    for (const QString& a : toxicAttributeNames(t.type))
        parts << QStringLiteral("%1 %2").arg(a).arg(t.attribute(a.toLatin1().constData()));
    for (const QString& a : toxicTextNames(t.type))
        if (const QString text = t.text(a.toLatin1().constData()); !text.isEmpty())
            parts << QStringLiteral("%1 %2").arg(a, text);
    if (!t.clients.isEmpty())
        parts << QStringLiteral("clients ") + t.clients.join(u' ');
    if (!t.enabled)
        parts << QStringLiteral("switched off");
    return QStringLiteral("%1 (%2)").arg(t.name, parts.join(QStringLiteral(", ")));
}

QString proxyText(const Config& config, const QString& name)
{
    const std::optional<ProxyView> p = toxiproxy::findProxy(config, name);
    if (!p)
        return name;
    return QStringLiteral("%1 (listen %2, upstream %3%4)")
        .arg(p->name, p->listen.isEmpty() ? QStringLiteral("none of its own") : p->listen,
             p->upstream, p->enabled ? QString() : QStringLiteral(", disabled"));
}

// A toxic edit's refusal as Toxiproxy words it.
ApiError editError(const ToxicEditError& e)
{
    switch (e.kind) {
    case ToxicEditError::Kind::NameTaken:
        return ApiError{409, QStringLiteral("toxic already exists")};
    case ToxicEditError::Kind::NoToxic:
        return ApiError{404, QStringLiteral("toxic not found")};
    case ToxicEditError::Kind::NoRoute:
        return ApiError{404, QStringLiteral("proxy not found")};
    case ToxicEditError::Kind::NotUp:
        break;
    }
    return ApiError{400, e.message};
}

QString userAgent(const HttpRequest& request)
{
    for (const auto& [key, value] : request.headers())
        if (key.compare("User-Agent", Qt::CaseInsensitive) == 0)
            return QString::fromLatin1(value);
    return {};
}

} // namespace

ToxiproxyApi::ToxiproxyApi(ConfigStore* store, Engine* engine, QObject* parent)
    : QObject(parent), m_store(store), m_engine(engine),
      m_endpoint({QStringLiteral("Toxiproxy API"), QString() /* no command-line option */,
                  settingPath({settingkey::Toxiproxy, settingkey::Listen}), kDefaultListen,
                  QStringLiteral("anyone who reaches it can open listeners that forward to "
                                 "your upstreams, without a key")},
                 [this] {
                     HttpService service;
                     service.limits.maxBodyBytes = kMaxBodyBytes;
                     service.admit = [](const HttpRequest& request) -> std::optional<HttpResponse> {
                         // Toxiproxy's own guard against pages in a browser driving it.
                         if (userAgent(request).startsWith(u"Mozilla/"))
                             return HttpResponse("text/plain; charset=utf-8",
                                                 "User agent not allowed\n", HttpStatus::Forbidden);
                         return std::nullopt;
                     };
                     service.handle = [this](const HttpRequest& request) {
                         return handle(request);
                     };
                     service.refuse = [](const HttpRefusal& refusal) {
                         return apiError(refusal.status, refusal.message);
                     };
                     return service;
                 })
{
    connect(m_store, &ConfigStore::changed, this, &ToxiproxyApi::track);
}

ToxiproxyApi::~ToxiproxyApi() = default;

bool ToxiproxyApi::start(const HttpFrontOptions& connections)
{
    return m_endpoint.start({}, m_store->config().streamgate.toxiproxyListen(), connections);
}

void ToxiproxyApi::track(const ConfigDiff& diff, const Config& config)
{
    if (diff.settingsChanged)
        m_endpoint.settingChanged(config.streamgate.toxiproxyListen());
}

HttpResponse ToxiproxyApi::handle(const HttpRequest& request)
{
    const QStringList parts = request.url().path().split(u'/', Qt::SkipEmptyParts);
    const Method m = request.method();
    const bool update = m == Method::Post || m == Method::Patch;
    const QByteArray body = request.body();
    auto notAllowed = [] { return HttpResponse(HttpStatus::MethodNotAllowed); };

    if (parts.size() == 1 && parts[0] == u"version") {
        if (m != Method::Get)
            return notAllowed();
        return json(QJsonObject{{QStringLiteral("version"), QLatin1String(kApiVersion)}});
    }
    if (parts.size() == 1 && parts[0] == u"reset")
        return m == Method::Post ? reset() : notAllowed();
    if (parts.size() == 1 && parts[0] == u"populate")
        return m == Method::Post ? populate(body) : notAllowed();
    if (parts.size() == 1 && parts[0] == u"proxies") {
        if (m == Method::Get)
            return proxyIndex();
        return m == Method::Post ? proxyCreate(body) : notAllowed();
    }
    if (parts.size() < 2 || parts.size() > 4 || parts[0] != u"proxies" ||
        (parts.size() >= 3 && parts[2] != u"toxics"))
        return HttpResponse("text/plain; charset=utf-8", "404 page not found\n",
                            HttpStatus::NotFound);

    const Config config = m_store->config();
    const QString name = parts[1];
    const std::optional<ProxyView> proxy = toxiproxy::findProxy(config, name);
    if (parts.size() == 2) {
        if (m != Method::Get && !update && m != Method::Delete)
            return notAllowed();
        if (!proxy)
            return apiError(404, QStringLiteral("proxy not found"));
        if (m == Method::Get)
            return json(toxiproxy::proxyJson(config, *proxy));
        return update ? proxyUpdate(name, body) : proxyDelete(name);
    }
    if (parts.size() == 3) {
        if (m != Method::Get && m != Method::Post)
            return notAllowed();
        if (!proxy)
            return apiError(404, QStringLiteral("proxy not found"));
        if (m == Method::Post)
            return toxicCreate(name, body);
        return json(toxiproxy::proxyJson(config, *proxy).value(QStringLiteral("toxics")));
    }
    if (m != Method::Get && !update && m != Method::Delete)
        return notAllowed();
    if (!proxy)
        return apiError(404, QStringLiteral("proxy not found"));
    if (update)
        return toxicUpdate(name, parts[3], body);
    if (m == Method::Delete)
        return toxicDelete(name, parts[3]);
    for (const ToxicSpec& t : config.streamgate.toxicMap().value(name))
        if (t.name == parts[3])
            return json(encodeToxic(t));
    return apiError(404, QStringLiteral("toxic not found"));
}

std::optional<HttpResponse> ToxiproxyApi::commit(const Config& next, const QString& what,
                                                 const QString& routeId)
{
    const Problems problems = m_store->replace(next);
    if (problems.isEmpty()) {
        qCInfo(lcApi).noquote() << "Toxiproxy API:" << what;
        if (m_engine)
            m_engine->recordOperatorEvent(routeId, QStringLiteral("Toxiproxy API: ") + what);
        return std::nullopt;
    }
    // A toxic the config check refuses (e.g. loss on a TCP route) is the request's fault, as
    // Toxiproxy answers a bad toxic; anything else (a port in use, a failed save) is not.
    const bool toxicRefused = std::all_of(problems.cbegin(), problems.cend(), [](const Problem& p) {
        return p.path.startsWith(QLatin1String("streamgate.toxics"));
    });
    return apiError(toxicRefused ? 400 : 500, formatProblems(problems));
}

void ToxiproxyApi::cut(const QString& proxy)
{
    if (m_engine)
        m_engine->killRoute(proxy);
}

HttpResponse ToxiproxyApi::proxyIndex() const
{
    const Config config = m_store->config();
    QJsonObject all;
    for (const ProxyView& p : toxiproxy::proxies(config))
        all.insert(p.name, toxiproxy::proxyJson(config, p));
    return json(all);
}

HttpResponse ToxiproxyApi::proxyCreate(const QByteArray& body)
{
    ApiError error;
    const std::optional<QJsonValue> value = parseBody(body, &error);
    if (!value)
        return apiError(error);
    ProxyInput input;
    if (auto e = toxiproxy::readProxyInput(*value, {}, &input))
        return apiError(*e);
    const auto made = toxiproxy::withProxyCreated(m_store->config(), input);
    if (auto* e = std::get_if<ApiError>(&made))
        return apiError(*e);
    const Config& next = std::get<Config>(made);
    if (auto refused =
            commit(next, QStringLiteral("proxy %1 created").arg(proxyText(next, *input.name)),
                   *input.name))
        return *refused;
    const Config now = m_store->config();
    return json(toxiproxy::proxyJson(now, *toxiproxy::findProxy(now, *input.name)),
                HttpStatus::Created);
}

HttpResponse ToxiproxyApi::populate(const QByteArray& body)
{
    ApiError error;
    const std::optional<QJsonValue> value = parseBody(body, &error);
    if (!value)
        return apiError(error);
    if (!value->isArray())
        return apiError(400, QStringLiteral("bad request body: must be a JSON array of proxies"));
    const QJsonArray list = value->toArray();
    QList<ProxyInput> inputs;
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QString at = QStringLiteral("proxy %1").arg(i + 1);
        ProxyInput input;
        if (auto e = toxiproxy::readProxyInput(list.at(i), at + QStringLiteral(": "), &input))
            return apiError(*e);
        if (!input.name || input.name->isEmpty())
            return apiError(400, QStringLiteral("missing required field: name at ") + at);
        if (!input.upstream || input.upstream->isEmpty())
            return apiError(400, QStringLiteral("missing required field: upstream at ") + at);
        inputs << input;
    }
    // All or nothing: one config change for the whole list. A proxy that is already there as
    // given keeps its toxics; one that differs is made anew.
    Config next = m_store->config();
    QStringList replaced;
    QStringList created;
    QStringList kept;
    for (const ProxyInput& input : inputs) {
        if (const std::optional<ProxyView> old = toxiproxy::findProxy(next, *input.name)) {
            const bool same = (!input.listen || *input.listen == old->listen) &&
                              *input.upstream == old->upstream &&
                              input.enabled.value_or(true) == old->enabled;
            if (same) {
                kept << *input.name;
                continue;
            }
            next = toxiproxy::withProxyDeleted(next, *old);
            replaced << *input.name;
        } else {
            created << *input.name;
        }
        auto made = toxiproxy::withProxyCreated(next, input);
        if (auto* e = std::get_if<ApiError>(&made))
            return apiError(*e);
        next = std::get<Config>(std::move(made));
    }
    QStringList what;
    for (const QString& name : created)
        what << QStringLiteral("created ") + proxyText(next, name);
    for (const QString& name : replaced)
        what << QStringLiteral("made anew ") + proxyText(next, name);
    if (!kept.isEmpty())
        what << QStringLiteral("unchanged ") + kept.join(QStringLiteral(", "));
    if (auto refused = commit(next, QStringLiteral("%1 proxies populated%2%3")
                                        .arg(inputs.size())
                                        .arg(what.isEmpty() ? QString() : QStringLiteral(": "),
                                             what.join(QStringLiteral("; ")))))
        return *refused;
    for (const QString& name : replaced)
        cut(name);
    const Config now = m_store->config();
    QJsonArray proxies;
    for (const ProxyInput& input : inputs)
        if (const std::optional<ProxyView> p = toxiproxy::findProxy(now, *input.name))
            proxies.append(toxiproxy::proxyJson(now, *p));
    return json(QJsonObject{{QStringLiteral("proxies"), proxies}}, HttpStatus::Created);
}

HttpResponse ToxiproxyApi::reset()
{
    // Every fault cleared (toxics removed, routes down as a fault enabled again) and every
    // disabled proxy that has a toxics entry enabled again; the routes the user disabled in
    // Streamgate stay as they are.
    const Config config = m_store->config();
    Config next = withFaultsCleared(config);
    const QMap<QString, QList<ToxicSpec>> toxics = config.streamgate.toxicMap();
    qsizetype removed = 0;
    QStringList enabled;
    for (auto it = toxics.begin(); it != toxics.end(); ++it) {
        removed += it.value().size();
        const std::optional<ProxyView> p = toxiproxy::findProxy(next, it.key());
        if (p && !p->enabled) {
            next = withRouteEnabled(next, it.key());
            enabled << it.key();
        }
    }
    if (auto refused =
            commit(next, QStringLiteral("reset: %1 toxics removed%2")
                             .arg(removed)
                             .arg(enabled.isEmpty() ? QString()
                                                    : QStringLiteral(", proxies enabled again: ") +
                                                          enabled.join(QStringLiteral(", ")))))
        return *refused;
    return HttpResponse(HttpStatus::NoContent);
}

HttpResponse ToxiproxyApi::proxyUpdate(const QString& name, const QByteArray& body)
{
    ApiError error;
    const std::optional<QJsonValue> value = parseBody(body, &error);
    if (!value)
        return apiError(error);
    ProxyInput input;
    if (auto e = toxiproxy::readProxyInput(*value, {}, &input))
        return apiError(*e);
    const Config config = m_store->config();
    const ProxyView before = *toxiproxy::findProxy(config, name);
    const auto updated = toxiproxy::withProxyUpdated(config, before, input);
    if (auto* e = std::get_if<ApiError>(&updated))
        return apiError(*e);
    if (auto refused = commit(
            std::get<Config>(updated),
            QStringLiteral("proxy %1 updated").arg(proxyText(std::get<Config>(updated), name)),
            name))
        return *refused;
    const Config now = m_store->config();
    const ProxyView after = *toxiproxy::findProxy(now, name);
    if (before.enabled &&
        (!after.enabled || after.listen != before.listen || after.upstream != before.upstream))
        cut(name);
    return json(toxiproxy::proxyJson(now, after));
}

HttpResponse ToxiproxyApi::proxyDelete(const QString& name)
{
    const Config config = m_store->config();
    const Config next = toxiproxy::withProxyDeleted(config, *toxiproxy::findProxy(config, name));
    if (auto refused = commit(next, QStringLiteral("proxy %1 deleted").arg(name), name))
        return *refused;
    cut(name);
    return HttpResponse(HttpStatus::NoContent);
}

HttpResponse ToxiproxyApi::toxicCreate(const QString& proxy, const QByteArray& body)
{
    ApiError error;
    const std::optional<QJsonValue> value = parseBody(body, &error);
    if (!value)
        return apiError(error);
    ToxicSpec toxic;
    if (const Problems problems = decodeToxic(*value, {}, ToxicInput::Api, &toxic);
        !problems.isEmpty())
        return apiError(toxicError(problems));
    const ToxicEdit edit = withToxicAdded(m_store->config(), proxy, toxic);
    if (const auto* e = std::get_if<ToxicEditError>(&edit))
        return apiError(editError(*e));
    if (auto refused =
            commit(std::get<Config>(edit),
                   QStringLiteral("toxic %1 added to %2").arg(toxicText(toxic), proxy), proxy))
        return *refused;
    return json(encodeToxic(toxic));
}

HttpResponse ToxiproxyApi::toxicUpdate(const QString& proxy, const QString& toxic,
                                       const QByteArray& body)
{
    const Config config = m_store->config();
    for (const ToxicSpec& t : config.streamgate.toxicMap().value(proxy)) {
        if (t.name != toxic)
            continue;
        ApiError error;
        const std::optional<QJsonValue> value = parseBody(body, &error);
        if (!value)
            return apiError(error);
        ToxicSpec updated = t;
        if (const Problems problems = decodeToxicUpdate(*value, {}, &updated); !problems.isEmpty())
            return apiError(toxicError(problems));
        const ToxicEdit edit = withToxicReplaced(config, proxy, toxic, updated);
        if (const auto* e = std::get_if<ToxicEditError>(&edit))
            return apiError(editError(*e));
        if (auto refused = commit(
                std::get<Config>(edit),
                QStringLiteral("toxic %1 of %2 updated").arg(toxicText(updated), proxy), proxy))
            return *refused;
        return json(encodeToxic(updated));
    }
    return apiError(404, QStringLiteral("toxic not found"));
}

HttpResponse ToxiproxyApi::toxicDelete(const QString& proxy, const QString& toxic)
{
    const ToxicEdit edit = withToxicRemoved(m_store->config(), proxy, toxic);
    if (const auto* e = std::get_if<ToxicEditError>(&edit))
        return apiError(editError(*e));
    if (auto refused = commit(std::get<Config>(edit),
                              QStringLiteral("toxic %1 of %2 removed").arg(toxic, proxy), proxy))
        return *refused;
    return HttpResponse(HttpStatus::NoContent);
}

} // namespace sg
