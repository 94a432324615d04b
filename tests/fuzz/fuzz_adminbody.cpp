// libFuzzer target: the admin API's request-body path (api/adminbody.h) as AdminServer runs it
// for PUT /KIND/ID, PUT /KIND, POST /KIND[/ID], PATCH /KIND/ID and PATCH /KIND/ID/SUB/PATH
// (stream routes, upstreams, services), without HTTP (a stream route has no PATCH, as in APISIX).
// Input: one selector byte (operation and kind; PATCH addresses an upstream or a service), then
// the id, a newline, the sub path, a newline, and the body.
// Invariants: a refusal is a 400 with a message (for a body over the limit, APISIX's "request
// size" one), and every problem has a reason; a POST that names an id in its URL is refused; an
// accepted object carries the id it was addressed by, that id is a valid APISIX id, its JSON
// says the same id, and the model it decoded to re-encodes to JSON that decodes to an equal
// model.

#include "api/adminbody.h"
#include "fuzzcheck.h"
#include "model/codec.h"

#include <cstddef>
#include <cstdint>

using namespace sg;

namespace {

enum class Op { PutWithId, PutCollection, Post, PatchMerge, PatchSubPath, Count };

const QString kNewId = QStringLiteral("00000000000000000001");

// What the store would hold under `id`, as AdminServer hands it to adminPatchBody (encoded,
// timestamps removed). Nested parts give merges and sub paths something to reach into.
QJsonObject storedObject(AdminKind kind, const QString& id)
{
    const QJsonObject upstream{
        {QStringLiteral("type"), QStringLiteral("chash")},
        {QStringLiteral("key"), QStringLiteral("remote_addr")},
        {QStringLiteral("nodes"),
         QJsonObject{{QStringLiteral("127.0.0.1:3306"), 1}, {QStringLiteral("[::1]:3306"), 2}}},
        {QStringLiteral("retries"), 1},
        {QStringLiteral("labels"), QJsonObject{{QStringLiteral("env"), QStringLiteral("dev")}}},
    };
    if (kind == AdminKind::Upstreams) {
        QJsonObject o = upstream;
        o.insert(QStringLiteral("id"), id);
        return encodeUpstream(decodeUpstream(o).value);
    }
    const QJsonObject plugins{
        {QStringLiteral("limit-conn"),
         QJsonObject{{QStringLiteral("conn"), 2},
                     {QStringLiteral("burst"), 0},
                     {QStringLiteral("default_conn_delay"), 0.1},
                     {QStringLiteral("key"), QStringLiteral("remote_addr")}}}};
    if (kind == AdminKind::Services) {
        const QJsonObject service{{QStringLiteral("id"), id},
                                  {QStringLiteral("name"), QStringLiteral("db")},
                                  {QStringLiteral("upstream"), upstream},
                                  {QStringLiteral("plugins"), plugins}};
        return encodeService(decodeService(service).value);
    }
    const QJsonObject route{
        {QStringLiteral("id"), id},
        {QStringLiteral("server_port"), 9100},
        {QStringLiteral("remote_addr"), QStringLiteral("127.0.0.0/8")},
        {QStringLiteral("upstream"), upstream},
        {QStringLiteral("plugins"), plugins},
    };
    return encodeStreamRoute(decodeStreamRoute(route).value);
}

template <typename T>
void requireRoundTrip(const T& value, QJsonObject (*encode)(const T&),
                      Decoded<T> (*decode)(const QJsonValue&, const QString&, DecodeMode))
{
    QJsonObject encoded = encode(value);
    // The store adds the timestamps; a client may not send them back.
    encoded.remove(QStringLiteral("create_time"));
    encoded.remove(QStringLiteral("update_time"));
    const Decoded<T> again = decode(encoded, {}, DecodeMode::Client);
    fuzz::require(again.ok(), "an accepted object re-encodes to JSON that does not decode",
                  fuzz::json(encoded) + "\n" + formatProblems(again.problems).toUtf8());
    fuzz::require(encode(again.value) == encode(value), "decode(encode(object)) differs",
                  fuzz::json(encoded));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 1)
        return 0;
    const int selector = data[0];
    const Op op = static_cast<Op>(selector % int(Op::Count));
    const bool patch = op == Op::PatchMerge || op == Op::PatchSubPath;
    // Stream routes have no PATCH: a patch goes to an upstream or a service.
    const int kindSelector = (selector / int(Op::Count)) % 3;
    const AdminKind kind = kindSelector == 2            ? AdminKind::Services
                           : patch || kindSelector == 1 ? AdminKind::Upstreams
                                                        : AdminKind::StreamRoutes;
    const QByteArray rest(reinterpret_cast<const char*>(data + 1), qsizetype(size - 1));
    const qsizetype idEnd = rest.indexOf('\n');
    const qsizetype subEnd = idEnd < 0 ? -1 : rest.indexOf('\n', idEnd + 1);
    if (subEnd < 0)
        return 0;
    const QString id = QString::fromUtf8(rest.left(idEnd));
    const QString subPath = QString::fromUtf8(rest.mid(idEnd + 1, subEnd - idEnd - 1));
    const QByteArray body = rest.mid(subEnd + 1);

    AdminObject result;
    QString expectedId = id;
    switch (op) {
    case Op::PutWithId:
        if (id.isEmpty())
            return 0; // that is PUT on the collection
        result = adminPutBody(kind, id, body);
        break;
    case Op::PutCollection:
        result = adminPutBody(kind, {}, body);
        expectedId.clear(); // taken from the body
        break;
    case Op::Post:
        // The id line is the id in the URL (POST /KIND/ID), which is never accepted.
        result = adminPostBody(kind, id, kNewId, body);
        fuzz::require(id.isEmpty() || !result.ok(), "a POST with an id in its URL was accepted",
                      id.toUtf8());
        expectedId = kNewId;
        break;
    case Op::PatchMerge:
    case Op::PatchSubPath: {
        const QString path = op == Op::PatchMerge ? QString() : subPath;
        if (op == Op::PatchSubPath) {
            // AdminServer refuses a bad sub path before it looks for the object.
            if (auto bad = checkAdminSubPath(path)) {
                fuzz::require(bad->status == 400 && !bad->message.isEmpty(),
                              "sub path refusal without a 400 and a message");
                return 0;
            }
        }
        result = adminPatchBody(kind, id, storedObject(kind, id), path, body);
        break;
    }
    case Op::Count:
        return 0;
    }

    if (result.refusal) {
        const AdminRefusal& r = *result.refusal;
        fuzz::require(r.status == 400, "refusal is not a 400", QByteArray::number(r.status));
        fuzz::require(body.size() <= kAdminMaxBodyBytes ||
                          r.message.startsWith(QLatin1String("invalid request body: request size")),
                      "a body over the limit refused for something else",
                      QByteArray::number(body.size()));
        fuzz::require(!r.message.trimmed().isEmpty(), "refusal without a message");
        fuzz::requireReasons(r.problems, "refusal problem without a reason");
        return 0;
    }

    fuzz::require(body.size() <= kAdminMaxBodyBytes, "a body over the limit was accepted");
    if (!expectedId.isEmpty())
        fuzz::require(result.id == expectedId, "accepted object has another id",
                      result.id.toUtf8() + " != " + expectedId.toUtf8());
    fuzz::require(!checkAdminId(kind, result.id), "accepted an id no URL can address",
                  result.id.toUtf8());
    fuzz::require(adminIdText(result.json.value(QStringLiteral("id"))) == result.id,
                  "the object's JSON id differs from its id", fuzz::json(result.json));
    if (kind == AdminKind::StreamRoutes) {
        fuzz::require(result.route.idString() == result.id, "decoded route has another id",
                      fuzz::json(result.json));
        requireRoundTrip<StreamRoute>(result.route, &encodeStreamRoute, &decodeStreamRoute);
    } else if (kind == AdminKind::Upstreams) {
        fuzz::require(result.upstream.idString() == result.id, "decoded upstream has another id",
                      fuzz::json(result.json));
        requireRoundTrip<Upstream>(result.upstream, &encodeUpstream, &decodeUpstream);
    } else {
        fuzz::require(result.service.idString() == result.id, "decoded service has another id",
                      fuzz::json(result.json));
        requireRoundTrip<Service>(result.service, &encodeService, &decodeService);
    }
    return 0;
}
