#pragma once
// Internal to the model codec: a Checker walks a JSON value and records every Problem it
// finds instead of stopping at the first, so a user sees all mistakes of a document at once.
// Paths read like `stream_routes[1].upstream.nodes["db:0"]`: plain names after a dot, other
// keys quoted in brackets, array indexes in brackets.

#include "model/problem.h"

#include <QJsonObject>
#include <QJsonValue>
#include <initializer_list>
#include <optional>

namespace sg::detail {

// jsonschema's words for an anyOf and a oneOf no alternative of which matched (without the
// alternatives' required keys, which APISIX's anyOfs do not list), and for a value outside an
// enum.
inline const QString kAnyOfNone = QStringLiteral("object matches none of the required");
inline const QString kOneOfNone =
    QStringLiteral("value should match only one schema, but matches none");
inline const QString kNoEnumValue = QStringLiteral("matches none of the enum values");

QString childPath(const QString& path, const QString& key);
QString indexPath(const QString& path, qsizetype index);
// Keys that are addresses (nodes) are always quoted: nodes["db:0"], nodes["db"].
QString keyPath(const QString& path, const QString& key);
// The value as the user wrote it: strings verbatim, everything else as compact JSON.
QString valueText(const QJsonValue& value);
QString jsonTypeName(const QJsonValue& value);
// The type APISIX's jsonschema names in "wrong type: expected X, got Y": Lua's (objects and
// arrays are tables, every number is a number, null is cjson's userdata).
QString luaTypeName(const QJsonValue& value);
// Compact JSON of any value (strings quoted), as cjson encodes it in APISIX's messages.
QString jsonText(const QJsonValue& value);
// A string as Lua's %q quotes it in jsonschema's messages ("a\"b").
QString luaQuoted(const QString& text);
// A number as Lua prints it in jsonschema's messages ("%.14g": 0, -1, 0.5).
QString luaNumber(double value);
bool isInteger(const QJsonValue& value);

// Keys given more than once in one object of the JSON text `json`: one problem per repeat,
// with the path of the key (`stream_routes`, `stream_routes[0].plugins["ip-restriction"]`) and
// the lines of the first and the repeated one. QJsonDocument (like APISIX's cjson) silently
// keeps the last, so this scans the raw bytes. Text that is not JSON ends the scan where it
// stops making sense; the JSON parser reports it.
Problems duplicateKeys(const QByteArray& json);

class Checker
{
public:
    Problems problems;

    // A problem APISIX has no words for, or (apisix set) one it words as given.
    void fail(const QString& path, const QJsonValue& value, const QString& reason,
              const ApisixWording& apisix = {});
    // A JSON-schema violation that Streamgate and jsonschema word alike, at path.
    void schemaFail(const QString& path, const QJsonValue& value, const QString& message);
    void wrongType(const QString& path, const QJsonValue& value, const QString& expected);

    // The problems found since problems[since] sit inside an anyOf or oneOf of APISIX's schema
    // (nodes, ids): jsonschema reports none of them, only that `at` matched no alternative.
    void withinAnyOf(qsizetype since, const QString& at, const QString& message);

    bool expectObject(const QJsonValue& value, const QString& path);
    bool expectArray(const QJsonValue& value, const QString& path, int minItems);
    // Closed objects, as APISIX's additionalProperties = false: each unknown key is a problem.
    // Keys in `unsupported` are APISIX's own that Streamgate does not run: they are refused as
    // "not supported by Streamgate" rather than as unknown.
    void closed(const QJsonObject& object, const QString& path,
                std::initializer_list<const char*> allowed,
                std::initializer_list<const char*> unsupported = {});
    // False (and one problem per key) when a required key is missing.
    bool required(const QJsonObject& object, const QString& path,
                  std::initializer_list<const char*> keys);

    // maxLength < 0: unbounded.
    std::optional<QString> string(const QJsonValue& value, const QString& path, int minLength,
                                  int maxLength);
    std::optional<qint64> integer(const QJsonValue& value, const QString& path, qint64 min,
                                  qint64 max, const QString& rangeReason = {});
    std::optional<double> number(const QJsonValue& value, const QString& path, double min);
    // An integer >= 1, which APISIX's schemas write as exclusiveMinimum 0.
    std::optional<qint64> positiveInteger(const QJsonValue& value, const QString& path);
    std::optional<double> positiveNumber(const QJsonValue& value, const QString& path);
    std::optional<bool> boolean(const QJsonValue& value, const QString& path);
};

} // namespace sg::detail
