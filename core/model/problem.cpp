#include "model/problem.h"

#include <QStringList>

namespace sg {

namespace {

// One step of a problem path: a key (`.name`, `["key"]`) or an array index (`[3]`).
struct Step
{
    QString key;
    qsizetype index = -1;
};

// The steps of a path written as jsoncheck.h writes them.
QList<Step> steps(const QString& path)
{
    QList<Step> out;
    const qsizetype size = path.size();
    qsizetype i = 0;
    while (i < size) {
        const QChar ch = path.at(i);
        if (ch == u'.') {
            ++i;
        } else if (ch == u'[' && i + 1 < size && path.at(i + 1) == u'"') {
            QString key;
            for (i += 2; i < size && path.at(i) != u'"'; ++i) {
                if (path.at(i) == u'\\' && i + 1 < size)
                    ++i;
                key += path.at(i);
            }
            out << Step{key};
            i += 2; // the closing "]
        } else if (ch == u'[') {
            const qsizetype close = path.indexOf(u']', i);
            const qsizetype end = close < 0 ? size : close;
            out << Step{QString(), path.mid(i + 1, end - i - 1).toLongLong()};
            i = end + 1;
        } else {
            qsizetype end = i;
            while (end < size && path.at(end) != u'.' && path.at(end) != u'[')
                ++end;
            out << Step{path.mid(i, end - i)};
            i = end;
        }
    }
    return out;
}

bool isPlugin(const QList<Step>& s)
{
    return s.size() >= 2 && s.at(0).index < 0 && s.at(0).key == u"plugins" && s.at(1).index < 0;
}

// jsonschema's words for descending from the root into each step: properties, array items
// (counted from 1) and the labels' pattern properties.
QString descent(const QList<Step>& s, qsizetype from)
{
    QString out;
    for (qsizetype i = from; i < s.size(); ++i) {
        const Step& step = s.at(i);
        if (step.index >= 0)
            out += QStringLiteral("failed to validate item %1: ").arg(step.index + 1);
        else if (i > from && s.at(i - 1).index < 0 && s.at(i - 1).key == u"labels")
            out += QStringLiteral("failed to validate %1 (matching \".*\"): ").arg(step.key);
        else
            out += QStringLiteral("property \"%1\" validation failed: ").arg(step.key);
    }
    return out;
}

// A reason that names its field as a word of its own (APISIX's "invalid remote_addr: :/8")
// needs no path in front; a field "x" is not named by a reason that says "expected".
bool namesField(const QString& reason, const QString& field)
{
    const auto wordChar = [](QChar c) { return c.isLetterOrNumber() || c == u'_'; };
    for (qsizetype at = reason.indexOf(field); at >= 0; at = reason.indexOf(field, at + 1)) {
        const qsizetype end = at + field.size();
        if ((at == 0 || !wordChar(reason.at(at - 1))) &&
            (end == reason.size() || !wordChar(reason.at(end))))
            return true;
    }
    return false;
}

QString wordedAsApisix(const Problem& p, ApisixPlugins plugins)
{
    const QList<Step> s = steps(p.apisix.at);
    const auto asPlugins = [&](const QString& within) {
        return plugins == ApisixPlugins::Stream
                   ? QStringLiteral("failed to check the configuration of stream plugin [%1]: %2")
                         .arg(s.at(1).key, within)
                   : QStringLiteral("failed to check the configuration of plugin %1 err: %2")
                         .arg(s.at(1).key, within);
    };
    switch (p.apisix.kind) {
    case ApisixWording::Kind::Check:
        return isPlugin(s) ? asPlugins(p.apisix.message) : p.apisix.message;
    case ApisixWording::Kind::Precheck:
        return p.apisix.message;
    case ApisixWording::Kind::Schema:
        if (isPlugin(s))
            return asPlugins(descent(s, 2) + p.apisix.message);
        // An xRPC protocol checks its conf itself and says so without a prefix.
        if (s.size() >= 2 && s.at(0).key == u"protocol" && s.at(1).key == u"conf")
            return descent(s, 2) + p.apisix.message;
        return QStringLiteral("invalid configuration: ") + descent(s, 0) + p.apisix.message;
    case ApisixWording::Kind::None:
        break;
    }
    return p.brief();
}

// jsonschema checks an object's properties before it looks for keys it does not allow, and
// those before a oneOf over the whole object.
int schemaOrder(const ApisixWording& wording)
{
    if (wording.kind != ApisixWording::Kind::Schema)
        return 0;
    if (wording.message.startsWith(u"additional properties forbidden"))
        return 1;
    if (wording.message.startsWith(u"value should match only one schema"))
        return 2;
    return 0;
}

// APISIX validates an object's schema as a whole (after a few checks of its own) before its
// plugins, and its plugins before its further checks; within each step the decoder's order
// stands, but for schemaOrder.
int apisixOrder(const Problem& p)
{
    if (p.apisix.kind == ApisixWording::Kind::Precheck)
        return 0;
    if (isPlugin(steps(p.path)))
        return 20 + schemaOrder(p.apisix);
    return p.apisix.kind == ApisixWording::Kind::Schema ? 10 + schemaOrder(p.apisix) : 30;
}

} // namespace

ApisixWording apisixSchema(const QString& at, const QString& message)
{
    return ApisixWording{ApisixWording::Kind::Schema, at, message};
}

ApisixWording apisixCheck(const QString& message, const QString& plugin)
{
    return ApisixWording{ApisixWording::Kind::Check, plugin, message};
}

QString Problem::text() const
{
    return path.isEmpty() ? reason : path + QStringLiteral(": ") + reason;
}

QString Problem::brief() const
{
    return (path.isEmpty() || namesField(reason, path.section(u'.', -1))) ? reason : text();
}

namespace {

QString joined(const Problems& problems, QString (Problem::*say)() const, const QString& separator)
{
    QStringList parts;
    parts.reserve(problems.size());
    for (const Problem& p : problems)
        parts << (p.*say)();
    return parts.join(separator);
}

} // namespace

QString formatProblems(const Problems& problems)
{
    return joined(problems, &Problem::text, QStringLiteral("\n"));
}

QString briefProblems(const Problems& problems)
{
    return joined(problems, &Problem::brief, QStringLiteral("; "));
}

QString apisixErrorMessage(const Problems& problems, ApisixPlugins plugins)
{
    const Problem* first = nullptr;
    bool apisixWords = false;
    for (const Problem& p : problems) {
        apisixWords = apisixWords || p.apisix.kind != ApisixWording::Kind::None;
        if (!first || apisixOrder(p) < apisixOrder(*first))
            first = &p;
    }
    // A refusal APISIX has no words for at all (the config file is broken on disk, it could not
    // be written, a reference the store keeps, what Streamgate does not run) is said whole: the
    // problems after the first are not APISIX's to hide.
    if (!apisixWords)
        return briefProblems(problems);
    return wordedAsApisix(*first, plugins);
}

} // namespace sg
