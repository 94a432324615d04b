#include "api/adminbody.h"

#include "api/cjsonerror.h"
#include "model/codec.h"
#include "model/jsoncheck.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QLocale>
#include <QStringList>

namespace sg {

namespace {

constexpr int kStatusBadRequest = 400;
// Values longer than this are shortened in messages (a 10,000-character id is not echoed).
constexpr qsizetype kShownChars = 64;

AdminRefusal refuse(const QString& message)
{
    return AdminRefusal{kStatusBadRequest, message, {}, std::nullopt};
}

AdminObject refused(AdminRefusal refusal)
{
    AdminObject result;
    result.refusal = std::move(refusal);
    return result;
}

// The value for a message: verbatim when short, else its start and its length.
QString shown(const QString& text)
{
    if (text.size() <= kShownChars)
        return text;
    return QStringLiteral("%1... (%2 characters)").arg(text.left(kShownChars)).arg(text.size());
}

// JSON merge patch (RFC 7396), which is what APISIX's PATCH does: objects merge key by key,
// null removes a key, anything else (arrays included) replaces. The recursion follows the
// stored object, whose depth is fixed by the model, so a deeply nested body cannot deepen it.
QJsonObject mergePatch(QJsonObject target, const QJsonObject& patch)
{
    for (auto it = patch.begin(); it != patch.end(); ++it) {
        if (it.value().isNull())
            target.remove(it.key());
        else if (it.value().isObject() && target.value(it.key()).isObject())
            target.insert(it.key(),
                          mergePatch(target.value(it.key()).toObject(), it.value().toObject()));
        else
            target.insert(it.key(), it.value());
    }
    return target;
}

// Replaces the value at a "/"-separated sub path (APISIX's PATCH .../ID/upstream/nodes); a
// missing level is created as an object, as APISIX's table.patch does. keys has at most
// kAdminMaxSubPathDepth entries (checkAdminSubPath). Returns the sub path up to the first level
// that holds something other than an object (nullopt: patched).
std::optional<QString> patchAt(QJsonObject& target, const QStringList& keys, qsizetype depth,
                               const QJsonValue& value)
{
    const QString& key = keys.at(depth);
    if (depth == keys.size() - 1) {
        if (value.isNull())
            target.remove(key);
        else
            target.insert(key, value);
        return std::nullopt;
    }
    const QJsonValue child = target.value(key);
    if (!child.isUndefined() && !child.isObject())
        return keys.mid(0, depth + 1).join(u'/');
    QJsonObject level = child.toObject();
    if (auto bad = patchAt(level, keys, depth + 1, value))
        return bad;
    target.insert(key, level);
    return std::nullopt;
}

// Validates the finished object with the model's client rules (a value that is no object is
// refused by the decoder, in its words).
AdminObject validated(AdminKind kind, const QString& id, const QJsonValue& object,
                      DecodeMode mode = DecodeMode::Client)
{
    AdminObject result;
    Problems problems;
    if (kind == AdminKind::StreamRoutes) {
        Decoded<StreamRoute> decoded = decodeStreamRoute(object, {}, mode);
        problems = decoded.problems;
        result.route = decoded.value;
    } else if (kind == AdminKind::Upstreams) {
        Decoded<Upstream> decoded = decodeUpstream(object, {}, mode);
        problems = decoded.problems;
        result.upstream = decoded.value;
    } else if (kind == AdminKind::Services) {
        Decoded<Service> decoded = decodeService(object, {}, mode);
        problems = decoded.problems;
        result.service = decoded.value;
    } else {
        Decoded<Ssl> decoded = decodeSsl(object, {}, mode);
        problems = decoded.problems;
        result.ssl = decoded.value;
    }
    if (!problems.isEmpty())
        return refused(apisixRefusal(apisixPluginsOf(kind), problems));
    result.id = id;
    result.json = object.toObject();
    return result;
}

} // namespace

QString adminKindName(AdminKind kind)
{
    switch (kind) {
    case AdminKind::StreamRoutes:
        return QStringLiteral("stream route");
    case AdminKind::Upstreams:
        return QStringLiteral("upstream");
    case AdminKind::Services:
        return QStringLiteral("service");
    case AdminKind::Ssls:
        break;
    }
    return QStringLiteral("ssl");
}

QString redactedPrivateKey(const QString& pem)
{
    return QStringLiteral("[redacted] sha256:") +
           QString::fromLatin1(
               QCryptographicHash::hash(pem.toUtf8(), QCryptographicHash::Sha256).toHex());
}

QJsonObject redactedSsl(QJsonObject ssl)
{
    if (ssl.value(u"key").isString())
        ssl.insert(QStringLiteral("key"), redactedPrivateKey(ssl.value(u"key").toString()));
    if (ssl.value(u"keys").isArray()) {
        QJsonArray keys;
        for (const QJsonValue& key : ssl.value(u"keys").toArray())
            keys.append(redactedPrivateKey(key.toString()));
        ssl.insert(QStringLiteral("keys"), keys);
    }
    return ssl;
}

namespace {

// Walks objects and arrays; `visit` gets every object that is the value of a "tls" key.
template <typename Visit> QJsonValue walkTls(const QJsonValue& value, bool underTls, Visit visit)
{
    if (value.isArray()) {
        QJsonArray a = value.toArray();
        for (qsizetype i = 0; i < a.size(); ++i)
            a[i] = walkTls(a.at(i), false, visit);
        return a;
    }
    if (!value.isObject())
        return value;
    QJsonObject o = value.toObject();
    if (underTls)
        visit(o);
    for (auto it = o.begin(); it != o.end(); ++it)
        it.value() = walkTls(it.value(), it.key() == u"tls", visit);
    return o;
}

} // namespace

QJsonObject redactedClientKeys(QJsonObject object)
{
    return walkTls(object, false,
                   [](QJsonObject& tls) {
                       if (tls.value(u"client_key").isString())
                           tls.insert(QStringLiteral("client_key"),
                                      redactedPrivateKey(tls.value(u"client_key").toString()));
                   })
        .toObject();
}

QStringList clientKeysOf(const QJsonObject& object)
{
    QStringList keys;
    walkTls(object, false, [&keys](QJsonObject& tls) {
        if (tls.value(u"client_key").isString())
            keys << tls.value(u"client_key").toString();
    });
    return keys;
}

AdminRefusal problemsRefusal(const Problems& problems)
{
    return AdminRefusal{kStatusBadRequest, briefProblems(problems), problems, std::nullopt};
}

AdminRefusal apisixRefusal(ApisixPlugins plugins, const Problems& problems)
{
    return refuse(apisixErrorMessage(problems, plugins));
}

ApisixPlugins apisixPluginsOf(AdminKind kind)
{
    return kind == AdminKind::Services ? ApisixPlugins::Http : ApisixPlugins::Stream;
}

QString adminIdText(const QJsonValue& id)
{
    if (id.isString())
        return id.toString();
    // Only integers a double holds exactly convert; anything else (1e400, 0.5) keeps its JSON
    // spelling and so never equals a valid id.
    if (detail::isInteger(id))
        return QString::number(qint64(id.toDouble()));
    if (id.isDouble())
        return QString::number(id.toDouble(), 'g', QLocale::FloatingPointShortest);
    return QString::fromUtf8(QJsonDocument(QJsonArray{id}).toJson(QJsonDocument::Compact))
        .chopped(1)
        .mid(1);
}

std::optional<AdminRefusal> checkAdminId(AdminKind kind, const QString& id)
{
    // "." and ".." match APISIX's pattern but are path dot-segments: no URL can address them.
    if (isApisixIdText(id) && id != u"." && id != u"..")
        return std::nullopt;
    return refuse(QStringLiteral("invalid %1 id \"%2\": an id is 1-64 characters from a-z, "
                                 "A-Z, 0-9, \"-\", \"_\" and \".\" (APISIX's ^[a-zA-Z0-9-_.]+$), "
                                 "and not \".\" or \"..\"")
                      .arg(adminKindName(kind), shown(id)));
}

std::optional<AdminRefusal> checkAdminSubPath(const QString& subPath)
{
    const QStringList keys = subPath.split(u'/');
    if (keys.size() > kAdminMaxSubPathDepth)
        return refuse(QStringLiteral("invalid sub path: %1 (at most %2 levels)")
                          .arg(shown(subPath))
                          .arg(kAdminMaxSubPathDepth));
    for (const QString& key : keys) {
        if (key.isEmpty() || key == u"." || key == u"..")
            return refuse(QStringLiteral("invalid sub path: %1 (empty, \".\" and \"..\" "
                                         "segments are not allowed)")
                              .arg(shown(subPath)));
    }
    return std::nullopt;
}

std::optional<AdminRefusal> checkAdminBodySize(qsizetype size)
{
    if (size <= kAdminMaxBodyBytes)
        return std::nullopt;
    return refuse(QStringLiteral("invalid request body: request size %1 is greater than the "
                                 "maximum size %2 allowed")
                      .arg(size)
                      .arg(kAdminMaxBodyBytes));
}

std::optional<AdminRefusal> parseAdminBody(const QByteArray& body, QJsonValue* out)
{
    if (auto tooLarge = checkAdminBodySize(body.size()))
        return tooLarge;
    if (body.trimmed().isEmpty())
        return refuse(QStringLiteral("missing configurations"));
    // APISIX's decoder judges first (Qt's takes escapes such as "\q" that cjson refuses).
    // Wrapped in an array so that a bare value ("sub path" PATCH bodies) parses as well (the
    // error offset counts the "[" too). QJsonDocument refuses nesting deeper than its limit with
    // "too deeply nested".
    QString why = cjsonDecodeError(body);
    QJsonParseError parseError;
    const QJsonDocument doc =
        why.isEmpty() ? QJsonDocument::fromJson("[" + body + "\n]", &parseError) : QJsonDocument();
    if (why.isEmpty() && (parseError.error != QJsonParseError::NoError || doc.array().size() != 1))
        why = QStringLiteral("%1 at character %2") // Qt's limits: a number beyond a double
                  .arg(parseError.error != QJsonParseError::NoError
                           ? parseError.errorString()
                           : QStringLiteral("more than one value"))
                  .arg(qBound(1, parseError.offset - 1, int(body.size())));
    if (!why.isEmpty()) {
        AdminRefusal refusal = refuse(QStringLiteral("invalid request body: ") + why);
        refusal.requestBody = QString::fromUtf8(body);
        return refusal;
    }
    *out = doc.array().first();
    return std::nullopt;
}

// The body of a PUT or POST: one JSON object.
static std::optional<AdminRefusal> parseAdminObject(const QByteArray& body, QJsonObject* out)
{
    QJsonValue parsed;
    if (auto refusal = parseAdminBody(body, &parsed))
        return refusal;
    if (!parsed.isObject())
        return refuse(QStringLiteral("invalid request body: expected a JSON object"));
    *out = parsed.toObject();
    return std::nullopt;
}

AdminObject adminPutBody(AdminKind kind, const QString& pathId, const QByteArray& body)
{
    if (!pathId.isEmpty()) {
        if (auto bad = checkAdminId(kind, pathId))
            return refused(*bad);
    }
    QJsonObject object;
    if (auto refusal = parseAdminObject(body, &object))
        return refused(*refusal);

    // The same id rules as APISIX's check_conf.
    const QJsonValue bodyId = object.value(QStringLiteral("id"));
    QString id = pathId;
    if (id.isEmpty()) {
        if (bodyId.isUndefined() || bodyId.isNull())
            return refused(refuse(QStringLiteral("missing %1 id").arg(adminKindName(kind))));
        id = adminIdText(bodyId);
        // A body id must be addressable by URL afterwards; the model checks its type and form.
        if (bodyId.isString()) {
            if (auto bad = checkAdminId(kind, id))
                return refused(*bad);
        }
    } else {
        if (!bodyId.isUndefined() && adminIdText(bodyId) != id)
            return refused(refuse(QStringLiteral("wrong %1 id").arg(adminKindName(kind))));
        object.insert(QStringLiteral("id"), id); // the URL's id, as text (7 is stored as "7")
    }
    return validated(kind, id, object);
}

AdminObject adminPostBody(AdminKind kind, const QString& pathId, const QString& newId,
                          const QByteArray& body)
{
    QJsonValue parsed;
    if (auto refusal = parseAdminBody(body, &parsed))
        return refused(*refusal);
    // The id in the URL is refused whatever the body is, as APISIX does before it looks at
    // the body's type; without one, only an object can say whether it names an id.
    if (!pathId.isEmpty() || parsed.toObject().contains(u"id"))
        return refused(
            refuse(QStringLiteral("wrong %1 id, do not need it").arg(adminKindName(kind))));
    if (!parsed.isObject())
        return refused(refuse(QStringLiteral("invalid request body: expected a JSON object")));
    QJsonObject object = parsed.toObject();
    object.insert(QStringLiteral("id"), newId);
    return validated(kind, newId, object);
}

AdminObject adminPatchBody(AdminKind kind, const QString& id, const QJsonObject& current,
                           const QString& subPath, const QByteArray& body)
{
    if (auto bad = checkAdminId(kind, id))
        return refused(*bad);
    if (!subPath.isEmpty()) {
        if (auto bad = checkAdminSubPath(subPath))
            return refused(*bad);
    }
    if (body.trimmed().isEmpty())
        return refused(refuse(QStringLiteral("missing new configuration")));
    QJsonValue parsed;
    if (auto refusal = parseAdminBody(body, &parsed))
        return refused(*refusal);
    QJsonObject next;
    if (subPath.isEmpty()) {
        if (!parsed.isObject())
            return refused(refuse(QStringLiteral("invalid configuration")));
        next = mergePatch(current, parsed.toObject());
        // A whole-object PATCH keeps the update_time it gives; otherwise the store sets one.
        if (!parsed.toObject().contains(u"update_time"))
            next.remove(QStringLiteral("update_time"));
    } else {
        next = current;
        if (auto bad = patchAt(next, subPath.split(u'/'), 0, parsed))
            return refused(refuse(QStringLiteral("invalid sub-path: /%1").arg(shown(*bad))));
        next.remove(QStringLiteral("update_time"));
    }
    if (!next.contains(u"id") || adminIdText(next.value(u"id")) != id)
        return refused(refuse(QStringLiteral("wrong %1 id").arg(adminKindName(kind))));
    next.insert(QStringLiteral("id"), id); // the URL's id, as text, as APISIX's check_conf sets it
    AdminObject patched = validated(kind, id, next, DecodeMode::File);
    patched.keepGivenTimes = true;
    return patched;
}

AdminObject adminValidateBody(AdminKind kind, const QByteArray& body)
{
    QJsonValue parsed;
    if (auto refusal = parseAdminBody(body, &parsed))
        return refused(*refusal);
    AdminObject result =
        validated(kind, adminIdText(parsed.toObject().value(u"id")), parsed, DecodeMode::File);
    // APISIX answers its schema's error as jsonschema says it, without check_conf's prefix.
    const QString prefix = QStringLiteral("invalid configuration: ");
    if (result.refusal && result.refusal->message.startsWith(prefix))
        result.refusal->message.remove(0, prefix.size());
    return result;
}

QString adminValueText(const QJsonValue& value)
{
    const QString text = QString::fromUtf8(
        QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact).chopped(1).mid(1));
    return text.size() > 100 ? text.left(100) + QStringLiteral("...") : text;
}

std::optional<AdminRefusal> refuseAdminBody(const QByteArray& body)
{
    if (body.trimmed().isEmpty())
        return std::nullopt;
    QJsonValue parsed;
    if (auto refusal = parseAdminBody(body, &parsed))
        return refusal;
    if (parsed.isObject() && parsed.toObject().isEmpty())
        return std::nullopt;
    Problems problems;
    if (!parsed.isObject()) {
        problems << Problem{QString(), adminValueText(parsed),
                            QStringLiteral("this request takes no body (or {})")};
    } else {
        const QJsonObject object = parsed.toObject();
        for (auto it = object.begin(); it != object.end(); ++it)
            problems << Problem{
                it.key(), adminValueText(it.value()),
                QStringLiteral("unknown field %1: this request takes no body").arg(it.key())};
    }
    return problemsRefusal(problems);
}

} // namespace sg
