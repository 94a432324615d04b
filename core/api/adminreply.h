#pragma once
// The admin API's answers, shared by the APISIX resources (adminresources.cpp,
// adminpluginmetadata.cpp) and Streamgate's own endpoints (adminedits.cpp, ...): a JSON body and
// an `error_msg` on every refusal. APISIX's resources answer that alone, in APISIX's words;
// Streamgate's own also list each field problem with its path, value and reason.

#include "api/adminbody.h"
#include "api/httpfront.h"
#include "model/problem.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>
#include <optional>

namespace sg::adminreply {

HttpResponse json(const QJsonObject& body, HttpStatus status = HttpStatus::Ok);
HttpResponse error(const QString& message, HttpStatus status);
// A refusal from the body path: its error_msg, the body that was no JSON as req_body (as APISIX
// answers), and each field problem when there are any.
HttpResponse refusalResponse(const AdminRefusal& refusal);
// A change the store refused: 400 with the problems, or 500 when the change was valid but the
// config could not be saved (a full disk, no permission; nothing changed).
HttpResponse problemsResponse(const Problems& problems);
// The same for a change to one of APISIX's resources: the first problem in APISIX's words, or
// every problem in Streamgate's when APISIX has words for none (apisixRefusal).
HttpResponse apisixProblemsResponse(ApisixPlugins plugins, const Problems& problems);
// 404 for a key the store does not have, in etcd's words as APISIX passes them on.
HttpResponse keyNotFound();
// APISIX reads and decodes the body of every admin request, whatever the method: a body on a
// GET or DELETE is ignored, but an oversized or malformed one is still refused (nullopt: it
// passes).
std::optional<HttpResponse> refuseIgnoredBody(const HttpRequest& request);
// 405 naming the method, with an Allow header listing the ones the path serves.
HttpResponse methodNotAllowed(HttpRequest::Method method, const QByteArray& allow);
// 405 for a method APISIX's resource lists in its unsupported_methods, in APISIX's words ("not
// supported `PATCH` method for stream route"), with an Allow header as above (empty when the
// path serves no method).
HttpResponse methodNotSupportedFor(HttpRequest::Method method, const QString& kind,
                                   const QByteArray& allow);

} // namespace sg::adminreply
