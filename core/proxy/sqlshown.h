#pragma once
// What the MySQL and PostgreSQL filters share between a finished command and what the user sees
// of it: its digest, computed once for a run of the same statement, and the running statement as
// the connections table shows it.

#include "proxy/sqldigest.h"

#include <QString>
#include <string>
#include <utility>

namespace sg {

// The last statement digested and its digest: a prepared statement's every execute, or a query
// repeated in a loop, is normalised once.
class DigestCache
{
public:
    explicit DigestCache(SqlDialect dialect) : m_dialect(dialect) {}
    // The digest of `statement` (not empty), with its normalised text.
    std::pair<quint64, QString> of(const std::string& statement);

private:
    const SqlDialect m_dialect;
    std::string m_statement;
    quint64 m_hash = 0;
    QString m_text;
};

// A statement as the connections table shows it: raw, whitespace folded, cut at 256 characters;
// `fallback` (the command's name) when it has no text.
QString shownStatement(const std::string& raw, const QString& fallback);

// The digest of a command that has no statement: its name.
quint64 commandDigest(const QString& command);

} // namespace sg
