#include "model/problem.h"

#include <QStringList>

namespace sg {

QString Problem::text() const
{
    return path.isEmpty() ? reason : path + QStringLiteral(": ") + reason;
}

QString formatProblems(const Problems& problems)
{
    QStringList lines;
    lines.reserve(problems.size());
    for (const Problem& p : problems)
        lines << p.text();
    return lines.join(QLatin1Char('\n'));
}

} // namespace sg
