#include "api/adminreply.h"

#include "config/configstore.h"

#include <QJsonArray>

namespace sg::adminreply {

namespace {

QString methodName(HttpRequest::Method method)
{
    using Method = HttpRequest::Method;
    switch (method) {
    case Method::Get:
        return QStringLiteral("GET");
    case Method::Put:
        return QStringLiteral("PUT");
    case Method::Delete:
        return QStringLiteral("DELETE");
    case Method::Post:
        return QStringLiteral("POST");
    case Method::Head:
        return QStringLiteral("HEAD");
    case Method::Options:
        return QStringLiteral("OPTIONS");
    case Method::Patch:
        return QStringLiteral("PATCH");
    case Method::Connect:
        return QStringLiteral("CONNECT");
    case Method::Trace:
        return QStringLiteral("TRACE");
    default:
        return QStringLiteral("UNKNOWN");
    }
}

} // namespace

HttpResponse json(const QJsonObject& body, HttpStatus status)
{
    return HttpResponse(body, status);
}

HttpResponse error(const QString& message, HttpStatus status)
{
    return json(QJsonObject{{QStringLiteral("error_msg"), message}}, status);
}

HttpResponse refusalResponse(const AdminRefusal& refusal)
{
    QJsonObject body{{QStringLiteral("error_msg"), refusal.message}};
    if (refusal.requestBody)
        body.insert(QStringLiteral("req_body"), *refusal.requestBody);
    if (!refusal.problems.isEmpty()) {
        QJsonArray list;
        for (const Problem& p : refusal.problems)
            list.append(QJsonObject{{QStringLiteral("path"), p.path},
                                    {QStringLiteral("value"), p.value},
                                    {QStringLiteral("reason"), p.reason}});
        body.insert(QStringLiteral("problems"), list);
    }
    return json(body, static_cast<HttpStatus>(refusal.status));
}

namespace {

HttpResponse storeRefusal(AdminRefusal refusal, const Problems& problems)
{
    if (isWriteFailure(problems)) // the request was fine; the config could not be saved
        refusal.status = int(HttpStatus::InternalServerError);
    return refusalResponse(refusal);
}

} // namespace

HttpResponse problemsResponse(const Problems& problems)
{
    return storeRefusal(problemsRefusal(problems), problems);
}

HttpResponse apisixProblemsResponse(ApisixPlugins plugins, const Problems& problems)
{
    return storeRefusal(apisixRefusal(plugins, problems), problems);
}

HttpResponse keyNotFound()
{
    return json(QJsonObject{{QStringLiteral("message"), QStringLiteral("Key not found")}},
                HttpStatus::NotFound);
}

std::optional<HttpResponse> refuseIgnoredBody(const HttpRequest& request)
{
    const QByteArray body = request.body();
    if (body.trimmed().isEmpty())
        return std::nullopt;
    QJsonValue ignored;
    if (auto refusal = parseAdminBody(body, &ignored))
        return refusalResponse(*refusal);
    return std::nullopt;
}

// Each path answers every method and refuses the ones it does not serve here.
HttpResponse methodNotAllowed(HttpRequest::Method method, const QByteArray& allow)
{
    HttpResponse response =
        error(QStringLiteral("not supported `%1` operation").arg(methodName(method)),
              HttpStatus::MethodNotAllowed);
    response.setHeader("Allow", allow);
    return response;
}

HttpResponse methodNotSupportedFor(HttpRequest::Method method, const QString& kind,
                                   const QByteArray& allow)
{
    HttpResponse response =
        error(QStringLiteral("not supported `%1` method for %2").arg(methodName(method), kind),
              HttpStatus::MethodNotAllowed);
    response.setHeader("Allow", allow);
    return response;
}

} // namespace sg::adminreply
