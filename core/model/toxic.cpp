#include "model/toxic.h"

#include "model/codec.h"
#include "model/jsoncheck.h"

#include <QJsonArray>
#include <QRegularExpression>
#include <cmath>

namespace sg {

using detail::childPath;
using detail::indexPath;
using detail::jsonTypeName;
using detail::valueText;

namespace {

struct TypeInfo
{
    ToxicType type;
    const char* name;
    std::array<const char*, ToxicSpec::kMaxAttributes> attributes; // nullptr: unused
    std::array<const char*, ToxicSpec::kMaxTexts> texts = {};      // nullptr: unused
};

// One row per toxic type: its name and its attributes, in Toxiproxy's spelling.
constexpr std::array<TypeInfo, 11> kTypes{{
    {ToxicType::Latency, "latency", {"latency", "jitter", nullptr}},
    {ToxicType::Bandwidth, "bandwidth", {"rate", nullptr, nullptr}},
    {ToxicType::SlowClose, "slow_close", {"delay", nullptr, nullptr}},
    {ToxicType::Timeout, "timeout", {"timeout", nullptr, nullptr}},
    {ToxicType::ResetPeer, "reset_peer", {"timeout", nullptr, nullptr}},
    {ToxicType::Slicer, "slicer", {"average_size", "size_variation", "delay"}},
    {ToxicType::LimitData, "limit_data", {"bytes", nullptr, nullptr}},
    {ToxicType::Loss, "loss", {"loss_rate", nullptr, nullptr}},
    {ToxicType::MySqlLatency,
     "mysql_latency",
     {"latency", "jitter", nullptr},
     {"match", "command", "user", "database"}},
    {ToxicType::MySqlError,
     "mysql_error",
     {"code", nullptr, nullptr},
     {"match", "command", "user", "database", "sqlstate", "message"}},
    {ToxicType::MySqlClose,
     "mysql_close",
     {nullptr, nullptr, nullptr},
     {"match", "command", "user", "database"}},
}};

constexpr qint64 kDefaultErrorCode = 1213; // ER_LOCK_DEADLOCK
constexpr int kMaxTextLength = 1024;

int textIndex(const TypeInfo& t, QAnyStringView key)
{
    for (int i = 0; i < ToxicSpec::kMaxTexts; ++i)
        if (t.texts[i] && key == QLatin1String(t.texts[i]))
            return i;
    return -1;
}

// Why `text` cannot be the query toxic's text attribute `name`, or empty when it can.
QString textProblem(QStringView name, QString& text)
{
    if (text.size() > kMaxTextLength)
        return QStringLiteral("must be at most %1 characters").arg(kMaxTextLength);
    if (name == u"match") {
        const QRegularExpression re(text);
        if (!re.isValid())
            return QStringLiteral("invalid regular expression: %1 at offset %2")
                .arg(re.errorString())
                .arg(re.patternErrorOffset());
    } else if (name == u"command") {
        text = text.toUpper();
        if (!text.isEmpty() && !queryToxicCommands().contains(text))
            return QStringLiteral("unknown MySQL command (known: %1)")
                .arg(queryToxicCommands().join(u", "));
    } else if (name == u"sqlstate") {
        static const QRegularExpression state(QStringLiteral("^[0-9A-Z]{5}$"));
        if (!text.isEmpty() && !state.match(text).hasMatch())
            return QStringLiteral("must be 5 digits or capital letters (as 40001)");
    }
    return QString();
}

// Attributes written as a number from 0 to 1 and kept as parts per million.
bool isFraction(ToxicType type, int index)
{
    return type == ToxicType::Loss && index == 0;
}

// Attributes are milliseconds, microseconds, bytes or KB/s: at most a day's worth of
// microseconds keeps every sum of them far from overflow.
constexpr qint64 kMaxAttribute = qint64(86400) * 1000 * 1000;

const TypeInfo& info(ToxicType type)
{
    return kTypes[std::size_t(type)];
}

// The names a type's attribute list holds, in order (its unused slots are null).
template <std::size_t N> QStringList namesOf(const std::array<const char*, N>& list)
{
    QStringList names;
    for (const char* a : list)
        if (a)
            names << QLatin1String(a);
    return names;
}

Problem problem(const QString& path, const QJsonValue& value, const QString& reason)
{
    return Problem{path, valueText(value), reason};
}

void decodeAttributes(const QJsonValue& json, const QString& path, ToxicInput input,
                      ToxicSpec& toxic, Problems& problems)
{
    if (!json.isObject()) {
        problems << problem(path, json,
                            QStringLiteral("must be an object, got %1").arg(jsonTypeName(json)));
        return;
    }
    const QJsonObject o = json.toObject();
    const TypeInfo& t = info(toxic.type);
    for (auto it = o.begin(); it != o.end(); ++it) {
        const QString at = childPath(path, it.key());
        int index = -1;
        for (int i = 0; i < ToxicSpec::kMaxAttributes; ++i)
            if (t.attributes[i] && it.key() == QLatin1String(t.attributes[i]))
                index = i;
        const QJsonValue v = it.value();
        if (const int text = textIndex(t, it.key()); text >= 0) {
            QString value = v.toString();
            const QString why = v.isString()
                                    ? textProblem(it.key(), value)
                                    : QStringLiteral("must be a text, got %1").arg(jsonTypeName(v));
            if (!why.isEmpty())
                problems << problem(at, v, why);
            else
                toxic.texts[text] = value;
            continue;
        }
        if (index < 0) {
            if (input == ToxicInput::File)
                problems << problem(
                    at, it.value(),
                    QStringLiteral("unknown attribute of a %1 toxic (known: %2)")
                        .arg(QLatin1String(t.name),
                             (toxicAttributeNames(toxic.type) + toxicTextNames(toxic.type))
                                 .join(u", ")));
            continue;
        }
        const double d = v.toDouble(-1);
        if (isFraction(toxic.type, index)) {
            if (!v.isDouble() || d < 0 || d > 1)
                problems << problem(
                    at, v,
                    QStringLiteral("must be a number from 0 to 1, got %1").arg(valueText(v)));
            else
                toxic.attributes[index] = qRound64(d * double(ToxicSpec::kFractionScale));
        } else if (!v.isDouble() || d != std::floor(d)) {
            problems << problem(at, v,
                                QStringLiteral("must be a whole number, got %1").arg(valueText(v)));
        } else if (d < 0 || d > double(kMaxAttribute)) {
            problems << problem(at, v,
                                QStringLiteral("must be between 0 and %1").arg(kMaxAttribute));
        } else if (toxic.type == ToxicType::MySqlError && (d < 1 || d > 65535)) {
            problems << problem(at, v, QStringLiteral("must be a MySQL error code, 1 to 65535"));
        } else {
            toxic.attributes[index] = qint64(d);
        }
    }
}

void decodeToxicity(const QJsonValue& v, const QString& path, ToxicSpec& toxic, Problems& problems)
{
    if (!v.isDouble() || v.toDouble() < 0 || v.toDouble() > 1)
        problems << problem(
            path, v, QStringLiteral("must be a number from 0 to 1, got %1").arg(valueText(v)));
    else
        toxic.toxicity = v.toDouble();
}

void decodeClients(const QJsonValue& v, const QString& path, ToxicSpec& toxic, Problems& problems)
{
    if (!v.isArray()) {
        problems << problem(path, v,
                            QStringLiteral("must be an array of IP addresses or CIDRs, got %1")
                                .arg(jsonTypeName(v)));
        return;
    }
    const QJsonArray a = v.toArray();
    QStringList clients;
    bool ok = true;
    for (qsizetype i = 0; i < a.size(); ++i) {
        const QJsonValue entry = a.at(i);
        const QString at = indexPath(path, i);
        if (!entry.isString()) {
            problems << problem(at, entry,
                                QStringLiteral("must be an IP address or CIDR text, got %1")
                                    .arg(jsonTypeName(entry)));
            ok = false;
        } else if (!isIpOrCidr(entry.toString())) {
            problems << problem(
                at, entry, QStringLiteral("invalid ip address or CIDR: %1").arg(entry.toString()));
            ok = false;
        } else {
            clients << entry.toString();
        }
    }
    if (ok)
        toxic.clients = clients;
}

void decodeEnabled(const QJsonValue& v, const QString& path, ToxicSpec& toxic, Problems& problems)
{
    if (!v.isBool())
        problems << problem(path, v,
                            QStringLiteral("must be true or false, got %1").arg(jsonTypeName(v)));
    else
        toxic.enabled = v.toBool();
}

// The fields beyond Toxiproxy, read the same way for a new toxic and an update.
void decodeExtensions(const QJsonObject& o, const QString& path, ToxicSpec& toxic,
                      Problems& problems)
{
    if (const QJsonValue c = o.value(QLatin1String("clients")); !c.isUndefined())
        decodeClients(c, childPath(path, QStringLiteral("clients")), toxic, problems);
    if (const QJsonValue e = o.value(QLatin1String("enabled")); !e.isUndefined())
        decodeEnabled(e, childPath(path, QStringLiteral("enabled")), toxic, problems);
}

} // namespace

qint64 ToxicSpec::attribute(const char* key) const
{
    const TypeInfo& t = info(type);
    for (int i = 0; i < kMaxAttributes; ++i)
        if (t.attributes[i] && qstrcmp(t.attributes[i], key) == 0)
            return attributes[i];
    return 0;
}

QString ToxicSpec::text(const char* key) const
{
    const int i = textIndex(info(type), QLatin1String(key));
    return i >= 0 ? texts[i] : QString();
}

QString ToxicSpec::streamName() const
{
    return upstream ? QStringLiteral("upstream") : QStringLiteral("downstream");
}

QString toxicTypeName(ToxicType type)
{
    return QLatin1String(info(type).name);
}

QStringList toxicTypeNames()
{
    QStringList names;
    for (const TypeInfo& t : kTypes)
        names << QLatin1String(t.name);
    return names;
}

QStringList toxicAttributeNames(ToxicType type)
{
    return namesOf(info(type).attributes);
}

QStringList toxicTextNames(ToxicType type)
{
    return namesOf(info(type).texts);
}

bool isQueryToxic(ToxicType type)
{
    return type == ToxicType::MySqlLatency || type == ToxicType::MySqlError ||
           type == ToxicType::MySqlClose;
}

QStringList queryToxicCommands()
{
    static const QStringList names{QStringLiteral("COM_QUERY"),
                                   QStringLiteral("COM_STMT_PREPARE"),
                                   QStringLiteral("COM_STMT_EXECUTE"),
                                   QStringLiteral("COM_STMT_FETCH"),
                                   QStringLiteral("COM_STMT_RESET"),
                                   QStringLiteral("COM_INIT_DB"),
                                   QStringLiteral("COM_PING"),
                                   QStringLiteral("COM_FIELD_LIST"),
                                   QStringLiteral("COM_STATISTICS"),
                                   QStringLiteral("COM_PROCESS_INFO"),
                                   QStringLiteral("COM_PROCESS_KILL"),
                                   QStringLiteral("COM_SET_OPTION"),
                                   QStringLiteral("COM_RESET_CONNECTION"),
                                   QStringLiteral("COM_CREATE_DB"),
                                   QStringLiteral("COM_DROP_DB"),
                                   QStringLiteral("COM_REFRESH"),
                                   QStringLiteral("COM_DEBUG"),
                                   QStringLiteral("COM_STMT_BULK_EXECUTE")};
    return names;
}

QString toxicUnsupportedReason(ToxicType type, bool udp)
{
    if (isQueryToxic(type))
        return udp ? QStringLiteral("MySQL runs over TCP: query toxics are for TCP routes")
                   : QString();
    if (!udp)
        return type == ToxicType::Loss ? QStringLiteral("TCP resends what a network loses, so "
                                                        "loss is for UDP routes only")
                                       : QString();
    switch (type) {
    case ToxicType::Latency:
    case ToxicType::Bandwidth:
    case ToxicType::Loss:
        return QString();
    case ToxicType::SlowClose:
        return QStringLiteral("UDP has no close to delay");
    case ToxicType::Timeout:
        return QStringLiteral("UDP has no connection to time out");
    case ToxicType::ResetPeer:
        return QStringLiteral("UDP has no connection to reset");
    case ToxicType::Slicer:
        return QStringLiteral("a datagram keeps its boundaries and cannot be sliced");
    case ToxicType::LimitData:
        return QStringLiteral("UDP has no connection to cut after a byte count");
    case ToxicType::MySqlLatency:
    case ToxicType::MySqlError:
    case ToxicType::MySqlClose:
        break; // above
    }
    return QString();
}

QJsonObject encodeToxic(const ToxicSpec& toxic)
{
    QJsonObject attributes;
    const TypeInfo& t = info(toxic.type);
    for (int i = 0; i < ToxicSpec::kMaxAttributes; ++i) {
        if (!t.attributes[i])
            continue;
        if (isFraction(toxic.type, i))
            attributes.insert(QLatin1String(t.attributes[i]),
                              double(toxic.attributes[i]) / double(ToxicSpec::kFractionScale));
        else
            attributes.insert(QLatin1String(t.attributes[i]), toxic.attributes[i]);
    }
    for (int i = 0; i < ToxicSpec::kMaxTexts; ++i)
        if (t.texts[i])
            attributes.insert(QLatin1String(t.texts[i]), toxic.texts[i]);
    QJsonObject o{{QStringLiteral("name"), toxic.name},
                  {QStringLiteral("type"), toxicTypeName(toxic.type)},
                  {QStringLiteral("stream"), toxic.streamName()},
                  {QStringLiteral("toxicity"), toxic.toxicity},
                  {QStringLiteral("attributes"), attributes}};
    if (!toxic.clients.isEmpty())
        o.insert(QStringLiteral("clients"), QJsonArray::fromStringList(toxic.clients));
    if (!toxic.enabled)
        o.insert(QStringLiteral("enabled"), false);
    return o;
}

Problems decodeToxic(const QJsonValue& json, const QString& path, ToxicInput input, ToxicSpec* out)
{
    Problems problems;
    if (!json.isObject())
        return {problem(path, json,
                        QStringLiteral("must be an object, got %1").arg(jsonTypeName(json)))};
    const QJsonObject o = json.toObject();
    ToxicSpec toxic;

    const QString typePath = childPath(path, QStringLiteral("type"));
    const QJsonValue type = o.value(QLatin1String("type"));
    bool typeKnown = false;
    if (type.isUndefined()) {
        problems << problem(typePath, type, QStringLiteral("missing required field"));
    } else {
        for (const TypeInfo& t : kTypes)
            if (type.toString() == QLatin1String(t.name)) {
                toxic.type = t.type;
                typeKnown = true;
            }
        if (!typeKnown)
            problems << problem(typePath, type,
                                QStringLiteral("invalid toxic type %1 (known: %2)")
                                    .arg(valueText(type), toxicTypeNames().join(u", ")));
    }

    const QJsonValue stream = o.value(QLatin1String("stream"));
    if (stream.isString() && stream.toString() == u"upstream")
        toxic.upstream = true;
    else if (!(stream.isUndefined() || (stream.isString() && stream.toString() == u"downstream")))
        problems << problem(childPath(path, QStringLiteral("stream")), stream,
                            QStringLiteral("stream was invalid, can be either upstream or "
                                           "downstream"));

    const QJsonValue name = o.value(QLatin1String("name"));
    if (name.isUndefined() || (input == ToxicInput::Api && name.toString().isEmpty() &&
                               (name.isString() || name.isNull()))) {
        toxic.name = toxicTypeName(toxic.type) + u'_' + toxic.streamName();
    } else if (!name.isString() || name.toString().isEmpty() || name.toString().size() > 256 ||
               name.toString().contains(u'/')) {
        problems << problem(childPath(path, QStringLiteral("name")), name,
                            QStringLiteral("must be a text of 1 to 256 characters without '/'"));
    } else {
        toxic.name = name.toString();
    }

    if (const QJsonValue t = o.value(QLatin1String("toxicity")); !t.isUndefined())
        decodeToxicity(t, childPath(path, QStringLiteral("toxicity")), toxic, problems);
    if (toxic.type == ToxicType::MySqlError)
        toxic.attributes[0] = kDefaultErrorCode;
    if (const QJsonValue a = o.value(QLatin1String("attributes")); !a.isUndefined() && typeKnown)
        decodeAttributes(a, childPath(path, QStringLiteral("attributes")), input, toxic, problems);
    decodeExtensions(o, path, toxic, problems);

    if (input == ToxicInput::File) {
        static const QStringList known{QStringLiteral("name"),       QStringLiteral("type"),
                                       QStringLiteral("stream"),     QStringLiteral("toxicity"),
                                       QStringLiteral("attributes"), QStringLiteral("clients"),
                                       QStringLiteral("enabled")};
        for (auto it = o.begin(); it != o.end(); ++it)
            if (!known.contains(it.key()))
                problems << problem(childPath(path, it.key()), it.value(),
                                    QStringLiteral("unknown toxic field \"%1\" (known: %2)")
                                        .arg(it.key(), known.join(u", ")));
    }
    if (problems.isEmpty())
        *out = toxic;
    return problems;
}

Problems decodeToxicUpdate(const QJsonValue& json, const QString& path, ToxicSpec* inout)
{
    if (!json.isObject())
        return {problem(path, json,
                        QStringLiteral("must be an object, got %1").arg(jsonTypeName(json)))};
    const QJsonObject o = json.toObject();
    ToxicSpec toxic = *inout;
    Problems problems;
    if (const QJsonValue t = o.value(QLatin1String("toxicity")); !t.isUndefined())
        decodeToxicity(t, childPath(path, QStringLiteral("toxicity")), toxic, problems);
    if (const QJsonValue a = o.value(QLatin1String("attributes")); !a.isUndefined())
        decodeAttributes(a, childPath(path, QStringLiteral("attributes")), ToxicInput::Api, toxic,
                         problems);
    decodeExtensions(o, path, toxic, problems);
    if (problems.isEmpty())
        *inout = toxic;
    return problems;
}

} // namespace sg
