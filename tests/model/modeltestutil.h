#pragma once
// Small helpers shared by the model tests: JSON literals, merging fields into a base object,
// and readable failure output for problem lists.

#include "model/problem.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>
#include <QTest>

namespace sgtest {

// Parses a JSON literal; a syntax error in a test row fails loudly instead of decoding {}.
inline QJsonValue json(const QByteArray& text)
{
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson("[" + text + "]", &error);
    if (error.error != QJsonParseError::NoError)
        qFatal("bad JSON in test data: %s (%s)", text.constData(), qPrintable(error.errorString()));
    return doc.array().at(0);
}

inline QJsonObject object(const QByteArray& text)
{
    return json(text).toObject();
}

// base with every field of extra set (a field set to null in extra is removed).
inline QJsonObject merged(const QJsonObject& base, const QJsonObject& extra)
{
    QJsonObject out = base;
    for (auto it = extra.begin(); it != extra.end(); ++it) {
        if (it.value().isNull())
            out.remove(it.key());
        else
            out.insert(it.key(), it.value());
    }
    return out;
}

inline QString compact(const QJsonObject& o)
{
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

inline QString describe(const sg::Problems& problems)
{
    QStringList lines;
    for (const sg::Problem& p : problems)
        lines << QStringLiteral("[%1] value=<%2> reason=<%3>").arg(p.path, p.value, p.reason);
    return lines.join(QLatin1Char('\n'));
}

} // namespace sgtest
