#pragma once
// A `vars` expression as APISIX's traffic-split reads it (lua-resty-expr v1): compiled once from
// its JSON, evaluated for each new session against the session's variables.
//
//   []                                  always true
//   [expr, expr, ...]                   all of them (AND)
//   ["AND"|"OR"|"!AND"|"!OR", e, e...]  logic form: at least two sub-expressions, each an
//                                       expression, a list or a logic form (case-insensitive)
//   [var, op, value]                    one comparison; [var, "!", op, value] negates it;
//                                       [var, value] compares with == (value lower-cased, as
//                                       lua-resty-expr does)
//
// Operators (case-insensitive): == ~= (numbers when the value is a number, else text), > >= < <=
// (both sides as numbers; false when either is not one), ~~ ~* (PCRE search, ~* ignoring case),
// in (the variable's text equals one of the array's strings), has (never true: a stream
// variable is never a list), ipmatch (the variable is an address within one of the value's
// IPs or CIDRs). A variable a session does not have (a null QString) equals only null.
//
// Streamgate refuses what lua-resty-expr would only fail on at run time: a regular expression
// that does not compile, an operator or variable name that is not a string.

#include <QHostAddress>
#include <QJsonArray>
#include <QJsonValue>
#include <QList>
#include <QRegularExpression>
#include <QString>
#include <QStringList>
#include <functional>
#include <memory>
#include <optional>

namespace sg {

class VarExpression
{
public:
    struct Error
    {
        QString path;     // path + the element's place: "vars[1][0]"
        QJsonValue value; // the offending element
        QString reason;   // lua-resty-expr's words where it has them
    };

    // checkVar(name): why a variable cannot be read (empty: it can). nullopt and *error when
    // lua-resty-expr, checkVar or Streamgate refuses the expression; `path` is the vars array's.
    static std::optional<VarExpression>
    compile(const QJsonArray& vars, const QString& path,
            const std::function<QString(const QString&)>& checkVar, Error* error);

    // lookup(name): the session's value of a variable; a null QString when it has none.
    bool eval(const std::function<QString(const QString&)>& lookup) const;

    struct Node; // the compiled expression (varexpr.cpp)

private:
    std::shared_ptr<const Node> m_root; // null: the empty expression (always true)
};

} // namespace sg
