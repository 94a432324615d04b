#include "model/jsoncheck.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QList>
#include <cmath>
#include <limits>

namespace sg::detail {

QString childPath(const QString& path, const QString& key)
{
    // Plain names ([A-Za-z_][A-Za-z0-9_-]*) follow a dot; anything else is quoted.
    const auto letter = [](QChar c) {
        return (c >= QLatin1Char('a') && c <= QLatin1Char('z')) ||
               (c >= QLatin1Char('A') && c <= QLatin1Char('Z')) || c == QLatin1Char('_');
    };
    bool plain = !key.isEmpty() && letter(key.front());
    for (qsizetype i = 1; plain && i < key.size(); ++i) {
        const QChar c = key.at(i);
        plain =
            letter(c) || c == QLatin1Char('-') || (c >= QLatin1Char('0') && c <= QLatin1Char('9'));
    }
    if (plain)
        return path.isEmpty() ? key : path + QLatin1Char('.') + key;
    return keyPath(path, key);
}

QString keyPath(const QString& path, const QString& key)
{
    QString quoted = key;
    quoted.replace(QLatin1Char('\\'), QLatin1String("\\\\"));
    quoted.replace(QLatin1Char('"'), QLatin1String("\\\""));
    return path + QStringLiteral("[\"") + quoted + QStringLiteral("\"]");
}

QString indexPath(const QString& path, qsizetype index)
{
    return path + QLatin1Char('[') + QString::number(index) + QLatin1Char(']');
}

QString valueText(const QJsonValue& value)
{
    if (value.isUndefined())
        return {};
    if (value.isString())
        return value.toString();
    return jsonText(value);
}

QString jsonTypeName(const QJsonValue& value)
{
    switch (value.type()) {
    case QJsonValue::Null:
        return QStringLiteral("null");
    case QJsonValue::Bool:
        return QStringLiteral("boolean");
    case QJsonValue::Double:
        return isInteger(value) ? QStringLiteral("integer") : QStringLiteral("number");
    case QJsonValue::String:
        return QStringLiteral("string");
    case QJsonValue::Array:
        return QStringLiteral("array");
    case QJsonValue::Object:
        return QStringLiteral("object");
    case QJsonValue::Undefined:
        break;
    }
    return QStringLiteral("nothing");
}

QString luaTypeName(const QJsonValue& value)
{
    switch (value.type()) {
    case QJsonValue::Null:
        return QStringLiteral("userdata");
    case QJsonValue::Bool:
        return QStringLiteral("boolean");
    case QJsonValue::Double:
        return QStringLiteral("number");
    case QJsonValue::String:
        return QStringLiteral("string");
    case QJsonValue::Array:
    case QJsonValue::Object:
        return QStringLiteral("table");
    case QJsonValue::Undefined:
        break;
    }
    return QStringLiteral("nil");
}

QString jsonText(const QJsonValue& value)
{
    const QByteArray json = QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact);
    return QString::fromUtf8(json.mid(1, json.size() - 2));
}

QString luaQuoted(const QString& text)
{
    QString out = text;
    out.replace(u'\\', QStringLiteral("\\\\"));
    out.replace(u'"', QStringLiteral("\\\""));
    out.replace(u'\n', QStringLiteral("\\\n"));
    return u'"' + out + u'"';
}

QString luaNumber(double value)
{
    return QString::number(value, 'g', 14);
}

bool isInteger(const QJsonValue& value)
{
    if (!value.isDouble())
        return false;
    const double d = value.toDouble();
    // Beyond 2^53 a double no longer holds every integer, so it cannot be kept as given.
    return std::isfinite(d) && std::floor(d) == d && std::fabs(d) <= 9007199254740992.0;
}

void Checker::fail(const QString& path, const QJsonValue& value, const QString& reason,
                   const ApisixWording& apisix)
{
    problems.append(Problem{path, valueText(value), reason, apisix});
}

void Checker::schemaFail(const QString& path, const QJsonValue& value, const QString& message)
{
    fail(path, value, message, apisixSchema(path, message));
}

void Checker::wrongType(const QString& path, const QJsonValue& value, const QString& expected)
{
    fail(path, value,
         QStringLiteral("wrong type: expected %1, got %2").arg(expected, jsonTypeName(value)),
         apisixSchema(
             path,
             QStringLiteral("wrong type: expected %1, got %2").arg(expected, luaTypeName(value))));
}

void Checker::withinAnyOf(qsizetype since, const QString& at, const QString& message)
{
    for (qsizetype i = since; i < problems.size(); ++i) {
        if (problems.at(i).apisix.kind == ApisixWording::Kind::Schema)
            problems[i].apisix = apisixSchema(at, message);
    }
}

bool Checker::expectObject(const QJsonValue& value, const QString& path)
{
    if (value.isObject())
        return true;
    wrongType(path, value, QStringLiteral("object"));
    return false;
}

bool Checker::expectArray(const QJsonValue& value, const QString& path, int minItems)
{
    if (!value.isArray()) {
        wrongType(path, value, QStringLiteral("array"));
        return false;
    }
    if (value.toArray().size() < minItems) {
        fail(path, value, QStringLiteral("must have at least %1 item(s)").arg(minItems),
             apisixSchema(path,
                          QStringLiteral("expect array to have at least %1 items").arg(minItems)));
        return false;
    }
    return true;
}

void Checker::closed(const QJsonObject& object, const QString& path,
                     std::initializer_list<const char*> allowed,
                     std::initializer_list<const char*> unsupported)
{
    const auto listed = [](const QString& key, std::initializer_list<const char*> names) {
        for (const char* name : names)
            if (key == QLatin1String(name))
                return true;
        return false;
    };
    for (auto it = object.begin(); it != object.end(); ++it) {
        if (listed(it.key(), allowed))
            continue;
        fail(childPath(path, it.key()), it.value(),
             listed(it.key(), unsupported)
                 ? QStringLiteral("%1 is not supported by Streamgate").arg(it.key())
                 : QStringLiteral("additional properties forbidden, found %1").arg(it.key()),
             listed(it.key(), unsupported)
                 ? ApisixWording{}
                 : apisixSchema(
                       path,
                       QStringLiteral("additional properties forbidden, found %1").arg(it.key())));
    }
}

bool Checker::required(const QJsonObject& object, const QString& path,
                       std::initializer_list<const char*> keys)
{
    bool ok = true;
    for (const char* name : keys) {
        const QString key = QLatin1String(name);
        if (!object.contains(key)) {
            const QString message = QStringLiteral("property \"%1\" is required").arg(key);
            fail(childPath(path, key), QJsonValue(QJsonValue::Undefined), message,
                 apisixSchema(path, message));
            ok = false;
        }
    }
    return ok;
}

std::optional<QString> Checker::string(const QJsonValue& value, const QString& path, int minLength,
                                       int maxLength)
{
    if (!value.isString()) {
        wrongType(path, value, QStringLiteral("string"));
        return std::nullopt;
    }
    const QString s = value.toString();
    if (s.size() < minLength || (maxLength >= 0 && s.size() > maxLength)) {
        // jsonschema counts characters, not UTF-16 units.
        const qsizetype length = s.toUcs4().size();
        const ApisixWording apisix = apisixSchema(
            path, s.size() < minLength ? QStringLiteral("string too short, expected at least %1, "
                                                        "got %2")
                                             .arg(minLength)
                                             .arg(length)
                                       : QStringLiteral("string too long, expected at most %1, "
                                                        "got %2")
                                             .arg(maxLength)
                                             .arg(length));
        if (maxLength < 0)
            fail(path, value, QStringLiteral("must not be empty"), apisix);
        else if (minLength == 0)
            fail(path, value, QStringLiteral("must be at most %1 characters").arg(maxLength),
                 apisix);
        else
            fail(path, value,
                 QStringLiteral("must be %1-%2 characters long").arg(minLength).arg(maxLength),
                 apisix);
        return std::nullopt;
    }
    return s;
}

std::optional<qint64> Checker::integer(const QJsonValue& value, const QString& path, qint64 min,
                                       qint64 max, const QString& rangeReason)
{
    if (!value.isDouble()) {
        wrongType(path, value, QStringLiteral("integer"));
        return std::nullopt;
    }
    const double d = value.toDouble();
    if (!isInteger(value) || d < double(min) || d > double(max)) {
        QString reason = rangeReason;
        if (reason.isEmpty()) {
            const bool lowerBound = min > std::numeric_limits<int>::min();
            const bool upperBound = max < std::numeric_limits<int>::max();
            if (lowerBound && upperBound)
                reason = QStringLiteral("must be an integer from %1 to %2").arg(min).arg(max);
            else if (lowerBound)
                reason = QStringLiteral("must be an integer >= %1").arg(min);
            else
                reason = QStringLiteral("must be an integer");
        }
        // Lua's numbers are doubles: 1e19 is an integer to jsonschema, out of range. A bound
        // that only keeps the value in an int (no bound in APISIX's schema) is Streamgate's.
        ApisixWording apisix;
        if (!std::isfinite(d) || std::floor(d) != d)
            apisix = apisixSchema(path, QStringLiteral("wrong type: expected integer, got number"));
        else if (d < double(min) && min > std::numeric_limits<int>::min())
            apisix = apisixSchema(
                path, QStringLiteral("expected %1 to be at least %2").arg(luaNumber(d)).arg(min));
        else if (d > double(max) && max < std::numeric_limits<int>::max())
            apisix = apisixSchema(
                path, QStringLiteral("expected %1 to be at most %2").arg(luaNumber(d)).arg(max));
        fail(path, value, reason, apisix);
        return std::nullopt;
    }
    return value.toInteger();
}

std::optional<double> Checker::number(const QJsonValue& value, const QString& path, double min)
{
    if (!value.isDouble()) {
        wrongType(path, value, QStringLiteral("number"));
        return std::nullopt;
    }
    const double d = value.toDouble();
    if (!std::isfinite(d) || d < min) {
        fail(path, value, QStringLiteral("must be a number >= %1").arg(min),
             apisixSchema(path, QStringLiteral("expected %1 to be at least %2")
                                    .arg(luaNumber(d), luaNumber(min))));
        return std::nullopt;
    }
    return d;
}

std::optional<qint64> Checker::positiveInteger(const QJsonValue& value, const QString& path)
{
    const qsizetype before = problems.size();
    const std::optional<qint64> n = integer(value, path, 1, std::numeric_limits<int>::max());
    const double d = value.toDouble();
    if (!n && problems.size() > before && value.isDouble() && std::floor(d) == d && d < 1)
        problems.last().apisix = apisixSchema(
            path, QStringLiteral("expected %1 to be greater than 0").arg(luaNumber(d)));
    return n;
}

std::optional<double> Checker::positiveNumber(const QJsonValue& value, const QString& path)
{
    if (!value.isDouble()) {
        wrongType(path, value, QStringLiteral("number"));
        return std::nullopt;
    }
    const double d = value.toDouble();
    if (!std::isfinite(d) || d <= 0) {
        fail(path, value, QStringLiteral("must be a number > 0"),
             apisixSchema(path,
                          QStringLiteral("expected %1 to be greater than 0").arg(luaNumber(d))));
        return std::nullopt;
    }
    return d;
}

std::optional<bool> Checker::boolean(const QJsonValue& value, const QString& path)
{
    if (!value.isBool()) {
        wrongType(path, value, QStringLiteral("boolean"));
        return std::nullopt;
    }
    return value.toBool();
}

namespace {

// One open object or array of the duplicate-key scan.
struct Container
{
    bool object = false;
    QString path;
    QHash<QString, int> keyLines; // object: key -> line of its first occurrence
    QString key;                  // object: the key whose value comes next
    qsizetype index = 0;          // array: index of the value that comes next
    bool atKey = true;            // object: the next string is a key
};

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// Decodes the JSON string starting at json[pos] == '"' as QJsonDocument would, so that keys
// spelt differently ("a" and "\u0061") compare equal. Advances pos past the closing quote;
// returns false at the end of the text.
bool readString(const QByteArray& json, qsizetype& pos, QString* out)
{
    ++pos;
    qsizetype runStart = pos;
    auto flush = [&](qsizetype end) {
        out->append(QString::fromUtf8(json.constData() + runStart, end - runStart));
    };
    while (pos < json.size()) {
        const char c = json.at(pos);
        if (c == '"') {
            flush(pos);
            ++pos;
            return true;
        }
        if (c != '\\') {
            ++pos;
            continue;
        }
        flush(pos);
        if (pos + 1 >= json.size())
            return false;
        const char e = json.at(pos + 1);
        pos += 2;
        switch (e) {
        case 'b':
            out->append(QLatin1Char('\b'));
            break;
        case 'f':
            out->append(QLatin1Char('\f'));
            break;
        case 'n':
            out->append(QLatin1Char('\n'));
            break;
        case 'r':
            out->append(QLatin1Char('\r'));
            break;
        case 't':
            out->append(QLatin1Char('\t'));
            break;
        case 'u': {
            int code = 0;
            for (int i = 0; i < 4; ++i) {
                const int h = pos < json.size() ? hexValue(json.at(pos)) : -1;
                if (h < 0)
                    return false;
                code = code * 16 + h;
                ++pos;
            }
            out->append(QChar(char16_t(code)));
            break;
        }
        default: // \" \\ \/ and anything the parser will refuse
            out->append(QLatin1Char(e));
            break;
        }
        runStart = pos;
    }
    return false;
}

} // namespace

Problems duplicateKeys(const QByteArray& json)
{
    Problems problems;
    QList<Container> stack; // explicit: nesting depth never deepens the C++ stack
    int line = 1;
    qsizetype pos = 0;
    // Where the value that starts now sits.
    auto valuePath = [&]() -> QString {
        if (stack.isEmpty())
            return QString();
        const Container& top = stack.constLast();
        return top.object ? childPath(top.path, top.key) : indexPath(top.path, top.index);
    };
    while (pos < json.size()) {
        const char c = json.at(pos);
        switch (c) {
        case '\n':
            ++line;
            ++pos;
            break;
        case ' ':
        case '\t':
        case '\r':
        case ':':
            ++pos;
            break;
        case '{':
        case '[': {
            Container container;
            container.object = c == '{';
            container.path = valuePath();
            stack.append(container);
            ++pos;
            break;
        }
        case '}':
        case ']':
            if (!stack.isEmpty())
                stack.removeLast();
            ++pos;
            break;
        case ',':
            if (!stack.isEmpty()) {
                Container& top = stack.last();
                if (top.object)
                    top.atKey = true;
                else
                    ++top.index;
            }
            ++pos;
            break;
        case '"': {
            QString text;
            if (!readString(json, pos, &text))
                return problems;
            if (stack.isEmpty() || !stack.constLast().object || !stack.constLast().atKey)
                break;
            Container& top = stack.last();
            top.atKey = false;
            top.key = text;
            const auto first = top.keyLines.constFind(text);
            if (first == top.keyLines.constEnd()) {
                top.keyLines.insert(text, line);
                break;
            }
            problems << Problem{
                childPath(top.path, text), text,
                QStringLiteral("duplicate key \"%1\" (lines %2 and %3): only the last one "
                               "would be used; remove or merge the other")
                    .arg(text)
                    .arg(*first)
                    .arg(line)};
            break;
        }
        default: // numbers, true, false, null
            ++pos;
            break;
        }
    }
    return problems;
}

} // namespace sg::detail
