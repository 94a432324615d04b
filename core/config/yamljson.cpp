#include "config/yamljson.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QRegularExpression>
#include <cmath>
#include <limits>
#include <yaml-cpp/yaml.h>

namespace sg {

namespace {

// --- YAML -> JSON -------------------------------------------------------------------------

// Types a plain (unquoted) scalar by the YAML 1.2 core schema, which is what APISIX's
// loader effectively sees for the values that matter here (ports, weights, timeouts, ids).
QJsonValue typedPlainScalar(const QString& text)
{
    static const QRegularExpression intDec(QStringLiteral("^[-+]?[0-9]+$"));
    static const QRegularExpression intOct(QStringLiteral("^0o[0-7]+$"));
    static const QRegularExpression intHex(QStringLiteral("^0x[0-9a-fA-F]+$"));
    static const QRegularExpression flt(
        QStringLiteral("^[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?$"));
    static const QRegularExpression inf(QStringLiteral("^[-+]?\\.(inf|Inf|INF)$"));
    static const QRegularExpression nan(QStringLiteral("^\\.(nan|NaN|NAN)$"));

    if (text.isEmpty() || text == u"~" || text == u"null" || text == u"Null" || text == u"NULL")
        return QJsonValue(QJsonValue::Null);
    if (text == u"true" || text == u"True" || text == u"TRUE")
        return true;
    if (text == u"false" || text == u"False" || text == u"FALSE")
        return false;
    bool ok = false;
    if (intDec.match(text).hasMatch()) {
        const qint64 v = text.toLongLong(&ok);
        if (ok)
            return QJsonValue(v);
        return text.toDouble(); // beyond 64 bits: a number still, as YAML says
    }
    if (intOct.match(text).hasMatch()) {
        const qint64 v = text.mid(2).toLongLong(&ok, 8);
        if (ok)
            return QJsonValue(v);
    }
    if (intHex.match(text).hasMatch()) {
        const qint64 v = text.mid(2).toLongLong(&ok, 16);
        if (ok)
            return QJsonValue(v);
    }
    if (flt.match(text).hasMatch()) {
        const double v = text.toDouble(&ok);
        if (ok)
            return v;
    }
    // JSON has no infinities or NaN: keep them as text so the decoder names the field.
    if (inf.match(text).hasMatch() || nan.match(text).hasMatch())
        return text;
    return text;
}

// Limits of the YAML -> JSON conversion. Aliases share nodes, so a small file can name an
// enormous (or, with an alias inside its own anchor, endless) tree; the conversion stops at
// these limits instead. A stream config is a few levels deep; APISIX's config.yaml about ten.
// Without aliases a document has fewer values than bytes, so the value limit only bounds how far
// aliases may multiply a document (shared node lists and the like stay far below it).
constexpr int kMaxYamlDepth = 64;
constexpr qsizetype kYamlValuesPerByte = 16;
constexpr qsizetype kMinYamlValues = 10000;

struct YamlBudget
{
    explicit YamlBudget(qsizetype textBytes)
        : limit(kMinYamlValues + kYamlValuesPerByte * textBytes), valuesLeft(limit)
    {
    }
    qsizetype limit;
    qsizetype valuesLeft;
    QString exceeded; // why the conversion stopped; empty while within the limits
};

QJsonValue nodeToJson(const YAML::Node& node, int depth, YamlBudget& budget)
{
    if (!budget.exceeded.isEmpty())
        return QJsonValue(QJsonValue::Null);
    if (depth > kMaxYamlDepth) {
        budget.exceeded = QStringLiteral("nested deeper than %1 levels").arg(kMaxYamlDepth);
        return QJsonValue(QJsonValue::Null);
    }
    if (--budget.valuesLeft < 0) {
        budget.exceeded =
            QStringLiteral("more than %1 values (counting each use of an alias)").arg(budget.limit);
        return QJsonValue(QJsonValue::Null);
    }
    switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
        return QJsonValue(QJsonValue::Null);
    case YAML::NodeType::Scalar: {
        const QString text = QString::fromStdString(node.Scalar());
        // yaml-cpp tags quoted scalars "!" and plain ones "?": quoted text is always a string.
        if (node.Tag() == "!")
            return text;
        return typedPlainScalar(text);
    }
    case YAML::NodeType::Sequence: {
        QJsonArray array;
        for (auto it = node.begin(); it != node.end() && budget.exceeded.isEmpty(); ++it) {
            const YAML::Node item = *it;
            array.append(nodeToJson(item, depth + 1, budget));
        }
        return array;
    }
    case YAML::NodeType::Map: {
        QJsonObject object;
        for (auto it = node.begin(); it != node.end() && budget.exceeded.isEmpty(); ++it) {
            // Copies: the iterator hands out temporaries.
            const YAML::Node key = it->first;
            const YAML::Node value = it->second;
            // A complex key is written back as YAML text; it cannot be an expected field name,
            // so only its first line is kept (its dump would expand aliases without limit).
            const QString name = key.IsScalar() ? QString::fromStdString(key.Scalar())
                                                : QStringLiteral("<%1 key>")
                                                      .arg(key.IsMap() ? QStringLiteral("map")
                                                                       : QStringLiteral("list"));
            object.insert(name, nodeToJson(value, depth + 1, budget));
        }
        return object;
    }
    }
    return QJsonValue(QJsonValue::Null);
}

// --- JSON -> YAML -------------------------------------------------------------------------

bool isPlainKey(const QString& key)
{
    static const QRegularExpression simple(QStringLiteral("^[A-Za-z_][A-Za-z0-9_-]*$"));
    if (!simple.match(key).hasMatch())
        return false;
    // A key that reads back as another type (true, null, ...) must be quoted.
    return typedPlainScalar(key).isString();
}

std::string numberText(const QJsonValue& value)
{
    const QVariant v = value.toVariant();
    if (v.typeId() == QMetaType::LongLong || v.typeId() == QMetaType::Int)
        return QString::number(v.toLongLong()).toStdString();
    const double d = value.toDouble();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15)
        return QString::number(qint64(d)).toStdString();
    return QString::number(d, 'g', QLocale::FloatingPointShortest).toStdString();
}

void emitJson(YAML::Emitter& out, const QJsonValue& value)
{
    switch (value.type()) {
    case QJsonValue::Null:
    case QJsonValue::Undefined:
        out << YAML::Null;
        break;
    case QJsonValue::Bool:
        out << value.toBool();
        break;
    case QJsonValue::Double:
        out << numberText(value);
        break;
    case QJsonValue::String:
        // Always quoted: "1", "true" or "" must come back as strings, not numbers or null.
        out << YAML::DoubleQuoted << value.toString().toStdString();
        break;
    case QJsonValue::Array: {
        const QJsonArray array = value.toArray();
        if (array.isEmpty()) {
            out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
            break;
        }
        out << YAML::BeginSeq;
        for (const QJsonValue& item : array)
            emitJson(out, item);
        out << YAML::EndSeq;
        break;
    }
    case QJsonValue::Object: {
        const QJsonObject object = value.toObject();
        if (object.isEmpty()) {
            out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
            break;
        }
        out << YAML::BeginMap;
        for (auto it = object.begin(); it != object.end(); ++it) {
            out << YAML::Key;
            if (isPlainKey(it.key()))
                out << it.key().toStdString();
            else
                out << YAML::DoubleQuoted << it.key().toStdString();
            out << YAML::Value;
            emitJson(out, it.value());
        }
        out << YAML::EndMap;
        break;
    }
    }
}

} // namespace

QJsonValue yamlToJson(const QByteArray& yaml, const QString& source, Problems* problems)
{
    try {
        const YAML::Node root = YAML::Load(yaml.toStdString());
        YamlBudget budget(yaml.size());
        QJsonValue json = nodeToJson(root, 0, budget);
        if (budget.exceeded.isEmpty())
            return json;
        if (problems)
            *problems << Problem{
                source, {}, QStringLiteral("YAML too large: %1").arg(budget.exceeded)};
        return QJsonValue(QJsonValue::Undefined);
    } catch (const YAML::Exception& e) {
        // Marks are 0-based; people count lines and columns from 1.
        const QString where = e.mark.is_null() ? source
                                               : QStringLiteral("%1:%2:%3")
                                                     .arg(source)
                                                     .arg(e.mark.line + 1)
                                                     .arg(e.mark.column + 1);
        if (problems)
            *problems << Problem{
                where,
                {},
                QStringLiteral("YAML syntax error: %1").arg(QString::fromStdString(e.msg))};
        return QJsonValue(QJsonValue::Undefined);
    }
}

QByteArray jsonToYaml(const QJsonValue& json)
{
    YAML::Emitter out;
    out.SetIndent(2);
    emitJson(out, json);
    QByteArray text(out.c_str(), qsizetype(out.size()));
    if (!text.endsWith('\n'))
        text.append('\n');
    return text;
}

} // namespace sg
