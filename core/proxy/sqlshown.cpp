#include "proxy/sqlshown.h"

#include <QtGlobal>

namespace sg {

namespace {
constexpr qsizetype kMaxShownStatement = 256;
}

std::pair<quint64, QString> DigestCache::of(const std::string& statement)
{
    if (statement != m_statement || m_text.isEmpty()) {
        const StatementDigest digest = digestStatement(statement, kMaxDigestText, m_dialect);
        m_statement = statement;
        m_hash = digest.hash;
        m_text = QString::fromUtf8(digest.text.data(), qsizetype(digest.text.size()));
    }
    return {m_hash, m_text};
}

QString shownStatement(const std::string& raw, const QString& fallback)
{
    const std::size_t shown = qMin(raw.size(), std::size_t(kMaxShownStatement));
    const QString text = QString::fromUtf8(raw.data(), qsizetype(shown)).simplified();
    return text.isEmpty() ? fallback : text;
}

quint64 commandDigest(const QString& command)
{
    return digestStatement(command.toStdString()).hash;
}

} // namespace sg
