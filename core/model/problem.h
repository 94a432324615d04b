#pragma once
// A Problem is one refused piece of input: where it is (a JSON-path-like string such as
// `stream_routes[1].upstream.nodes["db:0"]`), the offending value as text, and why.
// Validation always returns every problem at once; the same text reaches the form, the
// admin API body and the log.

#include <QList>
#include <QString>

namespace sg {

struct Problem
{
    QString path;   // e.g. "stream_routes[0].remote_addr"; empty for whole-document problems
    QString value;  // the offending value as the user wrote it (may be empty)
    QString reason; // e.g. "invalid remote_addr: :/8" (APISIX's words where it has some)

    // "path: reason" (or just the reason when the path is empty).
    QString text() const;
    bool operator==(const Problem&) const = default;
};

using Problems = QList<Problem>;

// All problems, one per line, as printed by `streamgate --check` and written to logs.
QString formatProblems(const Problems& problems);

} // namespace sg
