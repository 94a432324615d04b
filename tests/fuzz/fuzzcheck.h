#pragma once
// Invariant checks shared by the fuzz targets: a broken invariant aborts with a message that
// says which one, so libFuzzer keeps the input as a crash artifact.

#include "model/problem.h"

#include <QByteArray>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonValue>
#include <cstdio>
#include <cstdlib>

namespace sg::fuzz {

[[noreturn]] inline void fail(const char* what, const QByteArray& detail = {})
{
    std::fprintf(stderr, "fuzz invariant broken: %s\n%s\n", what, detail.constData());
    std::abort();
}

inline void require(bool condition, const char* what, const QByteArray& detail = {})
{
    if (!condition)
        fail(what, detail);
}

// Every refusal must say why: a problem with an empty reason reaches the user as a blank line.
inline void requireReasons(const Problems& problems, const char* where)
{
    for (const Problem& p : problems)
        require(!p.reason.trimmed().isEmpty(), where,
                (p.path + QLatin1String(" = ") + p.value).toUtf8());
}

inline QByteArray json(const QJsonValue& v)
{
    if (v.isObject())
        return QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact);
    if (v.isArray())
        return QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact);
    return QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact);
}

} // namespace sg::fuzz
