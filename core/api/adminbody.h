#pragma once
// The admin API's request-body path without HTTP: the body limit, JSON parsing, APISIX's id
// rules, the PATCH merge and validation that turn a PUT/POST/PATCH body into a stream route,
// upstream or service. AdminServer calls these for every write; nothing here touches the store, so
// a refusal can never change the config file.

#include "model/problem.h"
#include "model/streamroute.h"

#include <QByteArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>
#include <optional>

namespace sg {

enum class AdminKind { StreamRoutes, Upstreams, Services, Ssls };

// APISIX reads at most 1.5 MiB of an admin request body (MAX_REQ_BODY in apisix/admin/init.lua).
inline constexpr qsizetype kAdminMaxBodyBytes = 1536 * 1024;
// A PATCH sub path names a field inside one object; no object is nested deeper than this.
inline constexpr int kAdminMaxSubPathDepth = 8;

// A refused request: HTTP status, error_msg, and (Streamgate's own endpoints) the field
// problems when the refusal comes from validation. APISIX's resources answer the error_msg
// only, in APISIX's words (apisixRefusal).
struct AdminRefusal
{
    int status = 400;
    QString message;
    Problems problems;
    // A body that is not JSON, which APISIX's answer repeats as req_body.
    std::optional<QString> requestBody;
};

// A body that passed every check: the object as it will be stored (id included) and its model.
struct AdminObject
{
    std::optional<AdminRefusal> refusal; // set: refuse, nothing else is meaningful
    QString id;
    QJsonObject json;
    StreamRoute route; // AdminKind::StreamRoutes
    Upstream upstream; // AdminKind::Upstreams
    Service service;   // AdminKind::Services
    Ssl ssl;           // AdminKind::Ssls
    // A PATCH: create_time and update_time the merged object holds are stored as they are (the
    // stored ones, or ones the patch gave); without update_time the store sets it.
    bool keepGivenTimes = false;
    bool ok() const { return !refusal.has_value(); }
};

QString adminKindName(AdminKind kind); // "stream route" / "upstream" / "service" / "ssl"

// What the admin API shows of a private key instead of the key: "[redacted] sha256:" and the
// SHA-256 of the PEM text in hex. Written back unchanged (PUT, PATCH) on the ssl that holds
// that key, it stands for the stored key, so a GET, edit, PUT round trip keeps it.
QString redactedPrivateKey(const QString& pem);
// An ssl as the admin API answers it: `key` and each of `keys` redacted.
QJsonObject redactedSsl(QJsonObject ssl);
// An upstream, route or service as the admin API answers it: each upstream's tls.client_key
// (inline ones and traffic-split's included) redacted.
QJsonObject redactedClientKeys(QJsonObject object);
// The tls.client_key texts an object holds (the stored ones a redacted key stands for).
QStringList clientKeysOf(const QJsonObject& object);

// A 400 listing validation problems in one line, each with its path, and the problems (for
// Streamgate's own endpoints).
AdminRefusal problemsRefusal(const Problems& problems);
// A 400 as APISIX answers an object refused with `problems`: the first failure in APISIX's words
// (apisixErrorMessage; all of them in Streamgate's when APISIX has words for none), without the
// list.
AdminRefusal apisixRefusal(ApisixPlugins plugins, const Problems& problems);
// How APISIX checks the plugins of an object of `kind` (a service's are HTTP plugins).
ApisixPlugins apisixPluginsOf(AdminKind kind);

// An id as text, the way the store looks it up (integers without a fraction, "7" for 7).
QString adminIdText(const QJsonValue& id);

// A refusal naming APISIX's id rule when `id` (from the URL) is not a valid id.
std::optional<AdminRefusal> checkAdminId(AdminKind kind, const QString& id);
// A refusal when a PATCH sub path is empty, too deep or has empty, "." or ".." segments.
std::optional<AdminRefusal> checkAdminSubPath(const QString& subPath);
// 400 when the body is larger than kAdminMaxBodyBytes, in APISIX's words.
std::optional<AdminRefusal> checkAdminBodySize(qsizetype size);
// The body as one JSON value (any type: sub-path PATCH bodies may be scalars). Refuses empty,
// oversized, malformed and too deeply nested bodies; a malformed one in lua-cjson's words, as
// APISIX answers it. The Content-Type is not looked at: APISIX parses every admin body as JSON.
std::optional<AdminRefusal> parseAdminBody(const QByteArray& body, QJsonValue* out);
// A value in a refusal: compact JSON (strings quoted), cut at 100 characters.
QString adminValueText(const QJsonValue& value);
// POST /apisix/admin/schema/validate/KIND: the body checked as an object of the kind, as a stored
// one would be (create_time and update_time allowed); references to other objects are not
// looked up. A schema failure is said as jsonschema says it, without "invalid configuration: ".
AdminObject adminValidateBody(AdminKind kind, const QByteArray& body);
// For requests that take no body: empty or {} (some clients always send one) passes; anything
// else is refused, naming each field, rather than ignored.
std::optional<AdminRefusal> refuseAdminBody(const QByteArray& body);

// PUT /KIND/ID (pathId non-empty) or PUT /KIND (pathId empty: the id comes from the body).
AdminObject adminPutBody(AdminKind kind, const QString& pathId, const QByteArray& body);
// POST /KIND (pathId empty) or POST /KIND/ID[/...] (pathId: the id in the URL, always
// refused). Neither the URL nor the body may name an id, in APISIX's order (check_conf with
// need_id false): a malformed or empty body is refused first, then any id with "wrong KIND id,
// do not need it". newId is the one the server generated.
AdminObject adminPostBody(AdminKind kind, const QString& pathId, const QString& newId,
                          const QByteArray& body);
// PATCH /KIND/ID[/SUB/PATH] on `current` (the stored object as encoded, timestamps included):
// a JSON merge patch (RFC 7396) of the whole object (subPath empty), or a replacement of the
// value at subPath (missing levels created). An empty body is "missing new configuration".
// The result keeps the object's timestamps (keepGivenTimes): the stored ones, or those a
// whole-object patch gives; update_time is dropped unless the patch gives it. Called for
// upstreams and services only: APISIX has no PATCH for stream routes.
AdminObject adminPatchBody(AdminKind kind, const QString& id, const QJsonObject& current,
                           const QString& subPath, const QByteArray& body);

} // namespace sg
