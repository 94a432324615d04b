#include "model/varexpr.h"

#include "model/codec.h"
#include "model/jsoncheck.h"

#include <vector>

namespace sg {

// The types of Node's fields live outside the anonymous namespace: Node belongs to a class with
// external linkage, and GCC refuses such a field type in a unity build (subobject-linkage).
namespace varexpr {
enum class Op { Eq, Ne, Gt, Ge, Lt, Le, Find, FindNoCase, In, Has, IpMatch };
enum class Logic { And, Or, NotAnd, NotOr };
} // namespace varexpr
using varexpr::Logic;
using varexpr::Op;

namespace {

std::optional<Op> opNamed(const QString& lower)
{
    static const struct
    {
        const char* name;
        Op op;
    } ops[] = {{"==", Op::Eq}, {"~=", Op::Ne},   {">", Op::Gt},           {">=", Op::Ge},
               {"<", Op::Lt},  {"<=", Op::Le},   {"~~", Op::Find},        {"~*", Op::FindNoCase},
               {"in", Op::In}, {"has", Op::Has}, {"ipmatch", Op::IpMatch}};
    for (const auto& o : ops)
        if (lower == QLatin1String(o.name))
            return o.op;
    return std::nullopt;
}

std::optional<Logic> logicNamed(const QJsonValue& v)
{
    if (!v.isString())
        return std::nullopt;
    const QString upper = v.toString().toUpper();
    if (upper == QLatin1String("AND"))
        return Logic::And;
    if (upper == QLatin1String("OR"))
        return Logic::Or;
    if (upper == QLatin1String("!AND"))
        return Logic::NotAnd;
    if (upper == QLatin1String("!OR"))
        return Logic::NotOr;
    return std::nullopt;
}

// A Lua number as tostring() writes it ("%.14g").
QString luaNumberText(double d)
{
    return QString::number(d, 'g', 14);
}

// Lua's tonumber() of a string: decimal (with exponent) or hexadecimal, blanks around allowed.
std::optional<double> luaToNumber(const QString& text)
{
    if (text.isNull())
        return std::nullopt;
    const QString t = text.trimmed();
    if (t.isEmpty())
        return std::nullopt;
    QStringView body(t);
    bool negative = false;
    if (body.startsWith(u'-') || body.startsWith(u'+')) {
        negative = body.startsWith(u'-');
        body = body.mid(1);
    }
    if (body.startsWith(QLatin1String("0x"), Qt::CaseInsensitive)) {
        bool ok = false;
        const qulonglong n = body.mid(2).toULongLong(&ok, 16);
        if (!ok)
            return std::nullopt;
        return negative ? -double(n) : double(n);
    }
    bool ok = false;
    const double d = t.toDouble(&ok);
    if (!ok)
        return std::nullopt;
    return d;
}

std::optional<double> jsonToNumber(const QJsonValue& v)
{
    if (v.isDouble())
        return v.toDouble();
    if (v.isString())
        return luaToNumber(v.toString());
    return std::nullopt;
}

} // namespace

struct VarExpression::Node
{
    bool logic = false;
    Logic logicOp = Logic::And;
    std::vector<Node> children;
    // a comparison
    QString var;
    Op op = Op::Eq;
    bool reverse = false;
    bool hasValue = false; // false: lua's nil (absent, or JSON null)
    QJsonValue value;
    std::optional<double> number; // the value as a number, for the ordering operators
    QRegularExpression re;
    QList<QPair<QHostAddress, int>> subnets;

    bool compare(const QString& l) const;
    bool evalAnd(const std::function<QString(const QString&)>& lookup) const;
    bool evalOr(const std::function<QString(const QString&)>& lookup) const;
    bool eval(const std::function<QString(const QString&)>& lookup) const;
};

namespace {

// Lua's `l == r` for a variable's value (a string or nil) and the expression's value.
bool luaEquals(const QString& l, bool hasValue, const QJsonValue& r)
{
    if (!hasValue)
        return l.isNull();
    return !l.isNull() && r.isString() && l == r.toString();
}

class Compiler
{
public:
    const std::function<QString(const QString&)>& checkVar;
    VarExpression::Error* error;

    bool fail(const QString& path, const QJsonValue& value, const QString& reason)
    {
        if (error)
            *error = {path, value, reason};
        return false;
    }

    // lua-resty-expr's compile(): a list (AND), a logic form, or one comparison.
    bool any(const QJsonValue& v, const QString& path, VarExpression::Node& out)
    {
        if (!v.isArray())
            return fail(path, v,
                        QStringLiteral("failed to validate the 'vars' expression: an expression "
                                       "must be an array, not %1")
                            .arg(detail::jsonTypeName(v)));
        const QJsonArray rules = v.toArray();
        if (rules.isEmpty())
            return fail(path, v,
                        QStringLiteral("failed to validate the 'vars' expression: rule too short"));
        if (rules.at(0).isArray())
            return list(rules, path, 0, Logic::And, out);
        if (const auto logicOp = logicNamed(rules.at(0))) {
            if (rules.size() <= 2)
                return fail(path, v,
                            QStringLiteral("failed to validate the 'vars' expression: rule too "
                                           "short"));
            return list(rules, path, 1, *logicOp, out);
        }
        return comparison(rules, path, out);
    }

    bool list(const QJsonArray& rules, const QString& path, qsizetype from, Logic logicOp,
              VarExpression::Node& out)
    {
        out.logic = true;
        out.logicOp = logicOp;
        for (qsizetype i = from; i < rules.size(); ++i) {
            VarExpression::Node child;
            if (!any(rules.at(i), detail::indexPath(path, i), child))
                return false;
            out.children.push_back(std::move(child));
        }
        return true;
    }

    bool comparison(const QJsonArray& e, const QString& path, VarExpression::Node& out)
    {
        const auto bad = [&](const QString& reason) {
            return fail(path, e,
                        QStringLiteral("failed to validate the 'vars' expression: ") + reason);
        };
        QJsonValue var = e.at(0);
        QJsonValue opValue;
        bool hasOp = false;
        QJsonValue value;
        bool hasValue = false;
        if (e.size() == 4) {
            if (e.at(1) != QJsonValue(QStringLiteral("!")))
                return bad(QStringLiteral("bad 'not' expression"));
            out.reverse = true;
            opValue = e.at(2);
            hasOp = true;
            value = e.at(3);
            hasValue = true;
        } else {
            if (e.size() >= 2) {
                opValue = e.at(1);
                hasOp = true;
            }
            if (e.size() >= 3) {
                value = e.at(2);
                hasValue = true;
            }
        }
        QString op;
        if (hasOp) {
            if (opValue.isString())
                op = opValue.toString().toLower();
            else if (opValue.isDouble())
                op = luaNumberText(opValue.toDouble());
            else
                return fail(detail::indexPath(path, e.size() == 4 ? 2 : 1), opValue,
                            QStringLiteral("failed to validate the 'vars' expression: the "
                                           "operator must be a string, not %1")
                                .arg(detail::jsonTypeName(opValue)));
        }
        if (!hasValue && (!hasOp || !opNamed(op))) {
            // [var, value]: compared with ==, the value lower-cased as lua-resty-expr does
            if (!hasOp)
                return bad(QStringLiteral("invalid expression"));
            value = op;
            hasValue = true;
            op = QStringLiteral("==");
        }
        if (!var.isString())
            return fail(detail::indexPath(path, 0), var,
                        QStringLiteral("failed to validate the 'vars' expression: the variable "
                                       "name must be a string, not %1")
                            .arg(detail::jsonTypeName(var)));
        const std::optional<Op> known = opNamed(op);
        if (!known)
            return bad(QStringLiteral("invalid operator '%1'").arg(op));
        if (checkVar) {
            const QString why = checkVar(var.toString());
            if (!why.isEmpty())
                return fail(detail::indexPath(path, 0), var, why);
        }
        out.var = var.toString();
        out.op = *known;
        if (value.isNull())
            hasValue = false; // ngx.null: lua-resty-expr compares with nil
        out.hasValue = hasValue;
        out.value = value;
        out.number = hasValue ? jsonToNumber(value) : std::nullopt;
        const QString valuePath = detail::indexPath(path, e.size() == 4 ? 3 : 2);
        switch (*known) {
        case Op::Find:
        case Op::FindNoCase: {
            QString pattern;
            if (value.isString())
                pattern = value.toString();
            else if (value.isDouble())
                pattern = luaNumberText(value.toDouble());
            else
                return fail(
                    valuePath, value,
                    QStringLiteral("the regular expression of %1 must be a string").arg(op));
            out.re.setPattern(pattern);
            if (*known == Op::FindNoCase)
                out.re.setPatternOptions(QRegularExpression::CaseInsensitiveOption);
            if (!out.re.isValid())
                return fail(valuePath, value,
                            QStringLiteral("invalid regular expression: %1 (at offset %2); "
                                           "APISIX would never match it")
                                .arg(out.re.errorString())
                                .arg(out.re.patternErrorOffset()));
            out.re.optimize(); // compiled now: matching from any thread only reads it
            break;
        }
        case Op::IpMatch: {
            QJsonArray list;
            if (value.isArray())
                list = value.toArray();
            else if (hasValue && !(value.isString() && value.toString().isEmpty()))
                list.append(value);
            if (list.isEmpty())
                return fail(valuePath, value,
                            QStringLiteral("failed to validate the 'vars' expression: invalid "
                                           "ip address"));
            for (qsizetype i = 0; i < list.size(); ++i) {
                const QJsonValue ip = list.at(i);
                if (!ip.isString() || !isIpOrCidr(ip.toString()))
                    return fail(value.isArray() ? detail::indexPath(valuePath, i) : valuePath, ip,
                                QStringLiteral("failed to validate the 'vars' expression: "
                                               "invalid ip address: %1")
                                    .arg(detail::valueText(ip)));
                const QString text = ip.toString();
                QPair<QHostAddress, int> subnet;
                if (text.contains(u'/')) {
                    subnet = QHostAddress::parseSubnet(text);
                } else {
                    subnet.first = QHostAddress(text);
                    subnet.second =
                        subnet.first.protocol() == QAbstractSocket::IPv4Protocol ? 32 : 128;
                }
                out.subnets.append(subnet);
            }
            break;
        }
        default:
            break;
        }
        return true;
    }
};

} // namespace

bool VarExpression::Node::compare(const QString& l) const
{
    switch (op) {
    case Op::Eq:
        if (hasValue && value.isDouble()) {
            const auto n = luaToNumber(l);
            return n && *n == value.toDouble();
        }
        return luaEquals(l, hasValue, value);
    case Op::Ne:
        if (hasValue && value.isDouble()) {
            const auto n = luaToNumber(l);
            return !n || *n != value.toDouble();
        }
        return !luaEquals(l, hasValue, value);
    case Op::Gt:
    case Op::Ge:
    case Op::Lt:
    case Op::Le: {
        const auto n = luaToNumber(l);
        if (!n || !number)
            return false;
        switch (op) {
        case Op::Gt:
            return *n > *number;
        case Op::Ge:
            return *n >= *number;
        case Op::Lt:
            return *n < *number;
        default:
            return *n <= *number;
        }
    }
    case Op::Find:
    case Op::FindNoCase:
        return !l.isNull() && re.match(l).hasMatch();
    case Op::In:
        if (l.isNull() || !value.isArray())
            return false;
        for (const QJsonValue& v : value.toArray())
            if (v.isString() && v.toString() == l)
                return true;
        return false;
    case Op::Has:
        return false; // the left side is never a list
    case Op::IpMatch: {
        if (l.isNull())
            return false;
        QHostAddress addr;
        if (!addr.setAddress(l))
            return false;
        bool mapped = false;
        const quint32 v4 = addr.toIPv4Address(&mapped);
        if (mapped)
            addr = QHostAddress(v4);
        for (const auto& subnet : subnets)
            if (addr.isInSubnet(subnet))
                return true;
        return false;
    }
    }
    return false;
}

bool VarExpression::Node::evalAnd(const std::function<QString(const QString&)>& lookup) const
{
    for (const Node& child : children) {
        if (child.logic) {
            if (!child.eval(lookup))
                return false;
        } else if (child.compare(lookup(child.var)) == child.reverse) {
            return false;
        }
    }
    return true;
}

bool VarExpression::Node::evalOr(const std::function<QString(const QString&)>& lookup) const
{
    for (const Node& child : children) {
        if (child.logic) {
            if (child.eval(lookup))
                return true;
        } else if (child.compare(lookup(child.var)) != child.reverse) {
            return true;
        }
    }
    return false;
}

bool VarExpression::Node::eval(const std::function<QString(const QString&)>& lookup) const
{
    if (!logic) // a bare comparison at the top (lua-resty-expr wraps it in brackets first)
        return compare(lookup(var)) != reverse;
    switch (logicOp) {
    case Logic::And:
        return evalAnd(lookup);
    case Logic::Or:
        return evalOr(lookup);
    case Logic::NotAnd:
        return !evalAnd(lookup);
    case Logic::NotOr:
        return !evalOr(lookup);
    }
    return false;
}

std::optional<VarExpression>
VarExpression::compile(const QJsonArray& vars, const QString& path,
                       const std::function<QString(const QString&)>& checkVar, Error* error)
{
    VarExpression expr;
    if (vars.isEmpty())
        return expr;
    if (!vars.at(0).isArray() && !logicNamed(vars.at(0))) {
        if (error)
            *error = {path, vars,
                      QStringLiteral("failed to validate the 'vars' expression: rule should be "
                                     "wrapped inside brackets")};
        return std::nullopt;
    }
    Compiler compiler{checkVar, error};
    auto root = std::make_shared<Node>();
    if (!compiler.any(vars, path, *root))
        return std::nullopt;
    expr.m_root = std::move(root);
    return expr;
}

bool VarExpression::eval(const std::function<QString(const QString&)>& lookup) const
{
    return !m_root || m_root->eval(lookup);
}

} // namespace sg
