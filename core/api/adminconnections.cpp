#include "api/adminconnections.h"

#include "api/adminbody.h"
#include "api/adminreply.h"
#include "config/logging.h"
#include "model/codec.h"
#include "proxy/engine.h"

#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QUrl>
#include <cmath>
#include <optional>

namespace sg {

namespace {

using namespace adminreply;
using Method = HttpRequest::Method;

const QString kConnectionsPrefix = QStringLiteral("/streamgate/v1/connections/");
const QString kClientsPrefix = QStringLiteral("/streamgate/v1/clients/");

// pause: {"ms": N}, a whole number of milliseconds in 1..Engine::kMaxPauseMs.
std::optional<AdminRefusal> readPause(const QByteArray& body, qint64* ms)
{
    const QString shape =
        QStringLiteral("the body is {\"ms\": 30000}, how long to pause in milliseconds");
    if (body.trimmed().isEmpty())
        return problemsRefusal({Problem{QStringLiteral("ms"), QString(),
                                        QStringLiteral("ms is required: %1").arg(shape)}});
    QJsonValue parsed;
    if (auto refusal = parseAdminBody(body, &parsed))
        return refusal;
    if (!parsed.isObject())
        return problemsRefusal({Problem{
            QString(), adminValueText(parsed),
            QStringLiteral("invalid request body: expected a JSON object; %1").arg(shape)}});
    const QJsonObject object = parsed.toObject();
    Problems problems;
    for (auto it = object.begin(); it != object.end(); ++it) {
        if (it.key() != u"ms")
            problems << Problem{it.key(), adminValueText(it.value()),
                                QStringLiteral("unknown field %1: %2").arg(it.key(), shape)};
    }
    const QJsonValue value = object.value(QStringLiteral("ms"));
    const QString path = QStringLiteral("ms");
    const QString range =
        QStringLiteral("a pause lasts 1-%1 milliseconds (up to one hour)").arg(Engine::kMaxPauseMs);
    if (value.isUndefined()) {
        problems << Problem{path, QString(), QStringLiteral("ms is required: %1").arg(shape)};
    } else if (!value.isDouble() || std::floor(value.toDouble()) != value.toDouble()) {
        problems << Problem{path, adminValueText(value),
                            QStringLiteral("ms %1 must be a whole number of milliseconds")
                                .arg(adminValueText(value))};
    } else if (value.toDouble() < 1 || value.toDouble() > double(Engine::kMaxPauseMs)) {
        problems << Problem{
            path, adminValueText(value),
            QStringLiteral("ms %1 is out of range: %2").arg(adminValueText(value), range)};
    } else {
        *ms = qint64(value.toDouble());
    }
    if (!problems.isEmpty())
        return problemsRefusal(problems);
    return std::nullopt;
}

QString actionName(int action)
{
    static const char* names[] = {"reset", "close", "pause", "resume"};
    return QString::fromLatin1(names[action]);
}

// What happened, for the answer and the log: "reset", "paused for 500 ms", ...
QString doneText(int action, qint64 ms)
{
    switch (action) {
    case 0:
        return QStringLiteral("reset (both peers get a reset)");
    case 1:
        return QStringLiteral("closed");
    case 2:
        return QStringLiteral("paused for %1 ms: nothing is read from either peer until then")
            .arg(ms);
    default:
        return QStringLiteral("resumed");
    }
}

} // namespace

AdminConnectionActions::AdminConnectionActions(Engine* engine) : m_engine(engine) {}

bool AdminConnectionActions::owns(const QString& path)
{
    if (path.startsWith(kClientsPrefix))
        return true;
    // /streamgate/v1/connections/ID alone is AdminServer's (GET, DELETE).
    return path.startsWith(kConnectionsPrefix) && path.indexOf(u'/', kConnectionsPrefix.size()) > 0;
}

HttpResponse AdminConnectionActions::handle(const HttpRequest& request)
{
    const QString path = request.url().path();
    const bool clients = path.startsWith(kClientsPrefix);
    const QString& prefix = clients ? kClientsPrefix : kConnectionsPrefix;
    // The target and action as sent: the encoded path is split first and each part decoded.
    const QString encoded = request.url().path(QUrl::FullyEncoded);
    const QString rest =
        encoded.startsWith(prefix) ? encoded.mid(prefix.size()) : path.mid(prefix.size());
    QStringList parts = rest.split(u'/');
    for (QString& part : parts)
        part = QUrl::fromPercentEncoding(part.toUtf8());
    if (parts.size() != 2 || parts.first().isEmpty())
        return error(QStringLiteral("404 Route Not Found"), HttpStatus::NotFound);
    const QString& target = parts.at(0);
    const QString& name = parts.at(1);

    static const QList<QPair<QString, Action>> actions = {
        {QStringLiteral("reset"), Action::Reset},
        {QStringLiteral("close"), Action::Close},
        {QStringLiteral("pause"), Action::Pause},
        {QStringLiteral("resume"), Action::Resume},
    };
    std::optional<Action> action;
    for (const auto& [known, a] : actions) {
        if (name == known)
            action = a;
    }
    if (!action)
        return error(QStringLiteral("unknown action \"%1\" on %2 %3: use reset, close, pause or "
                                    "resume")
                         .arg(name.left(100),
                              clients ? QStringLiteral("client") : QStringLiteral("connection"),
                              target.left(100)),
                     HttpStatus::NotFound);
    if (request.method() != Method::Post)
        return methodNotAllowed(request.method(), "POST");

    qint64 ms = 0;
    if (*action == Action::Pause) {
        if (auto bad = readPause(request.body(), &ms))
            return refusalResponse(*bad);
    } else if (auto bad = refuseAdminBody(request.body())) {
        return refusalResponse(*bad);
    }
    return clients ? onClient(target, *action, ms) : onConnection(target, *action, ms);
}

HttpResponse AdminConnectionActions::onConnection(const QString& id, Action action, qint64 ms)
{
    bool ok = false;
    const quint64 connectionId = id.toULongLong(&ok);
    if (!ok)
        return error(
            QStringLiteral("invalid connection id: %1 (expected a number)").arg(id.left(100)),
            HttpStatus::BadRequest);
    if (!m_engine)
        return error(QStringLiteral("the proxy engine is not running"),
                     HttpStatus::ServiceUnavailable);
    bool found = false;
    switch (action) {
    case Action::Reset:
        found = m_engine->resetConnection(connectionId);
        break;
    case Action::Close:
        found = m_engine->killConnection(connectionId);
        break;
    case Action::Pause:
        found = m_engine->pauseConnection(connectionId, ms);
        break;
    case Action::Resume:
        found = m_engine->resumeConnection(connectionId);
        break;
    }
    if (!found)
        return error(QStringLiteral("no open connection with id %1").arg(id), HttpStatus::NotFound);
    const QString message = QStringLiteral("connection %1 %2").arg(id, doneText(int(action), ms));
    qCInfo(lcApi).noquote() << message << "(admin API)";
    QJsonObject answer{{QStringLiteral("id"), qint64(connectionId)},
                       {QStringLiteral("action"), actionName(int(action))},
                       {QStringLiteral("message"), message}};
    if (action == Action::Pause)
        answer.insert(QStringLiteral("ms"), ms);
    return json(answer);
}

HttpResponse AdminConnectionActions::onClient(const QString& client, Action action, qint64 ms)
{
    // The same rule as the ip-restriction lists (and the route edits' "client"), one address.
    const QHostAddress address(client);
    if (client.contains(u'/') || !isIpOrCidr(client) || address.isNull()) {
        const AdminRefusal refusal = problemsRefusal({Problem{
            QStringLiteral("client"), client.left(100),
            QStringLiteral("client \"%1\" is not an IPv4 or IPv6 address").arg(client.left(100))}});
        return refusalResponse(refusal);
    }
    if (!m_engine)
        return error(QStringLiteral("the proxy engine is not running"),
                     HttpStatus::ServiceUnavailable);
    int count = 0;
    switch (action) {
    case Action::Reset:
        count = m_engine->resetClient(address);
        break;
    case Action::Close:
        count = m_engine->killClient(address);
        break;
    case Action::Pause:
        count = m_engine->pauseClient(address, ms);
        break;
    case Action::Resume:
        count = m_engine->resumeClient(address);
        break;
    }
    if (count == 0)
        return error(QStringLiteral("no open connection from client %1").arg(client),
                     HttpStatus::NotFound);
    const QString message = QStringLiteral("%1 open connection(s) of client %2 %3")
                                .arg(count)
                                .arg(client, doneText(int(action), ms));
    qCInfo(lcApi).noquote() << message << "(admin API)";
    QJsonObject answer{{QStringLiteral("client"), client},
                       {QStringLiteral("action"), actionName(int(action))},
                       {QStringLiteral("connections"), count},
                       {QStringLiteral("message"), message}};
    if (action == Action::Pause)
        answer.insert(QStringLiteral("ms"), ms);
    return json(answer);
}

} // namespace sg
