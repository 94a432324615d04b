#pragma once
// YAML text and JSON values, both ways (yaml-cpp underneath), for the APISIX files
// (apisixyaml.h) and their tests.

#include "model/problem.h"

#include <QByteArray>
#include <QJsonValue>
#include <QString>

namespace sg {

// YAML text <-> JSON, shared by import, export and tests. Plain scalars are typed the YAML way
// (null, true/false, integers, floats), quoted scalars stay strings. A syntax error becomes one
// problem naming the source, line and column; so does a document nested deeper than 64 levels
// or whose aliases expand it to more than 16 values per byte of text (plus 10,000).
QJsonValue yamlToJson(const QByteArray& yaml, const QString& source, Problems* problems);
QByteArray jsonToYaml(const QJsonValue& json);

} // namespace sg
