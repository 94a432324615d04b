#pragma once
// A Problem is one refused piece of input: where it is (a JSON-path-like string such as
// `stream_routes[1].upstream.nodes["db:0"]`), the offending value as text, and why.
// Validation always returns every problem at once; the same text reaches the form, `--check`,
// Streamgate's own endpoints and the log. Where APISIX refuses the same input, the problem also
// carries APISIX's wording of it, which the admin API's APISIX resources answer instead.

#include <QList>
#include <QString>

namespace sg {

// How APISIX words a refusal. The check that finds a problem decides both wordings, so they
// cannot drift apart.
struct ApisixWording
{
    enum class Kind {
        None,     // APISIX has no counterpart (Streamgate's own rules, "not supported by ...")
        Schema,   // a JSON-schema violation: `message` as the jsonschema library reports it at `at`
        Check,    // one of APISIX's own checks: `message` is APISIX's whole error_msg
        Precheck, // as Check, for a check APISIX makes before the schema's
    };
    Kind kind = Kind::None;
    // Schema: the path jsonschema reports the failure at (an anyOf above the problem's path,
    // the object that misses a key); Check: a path in the plugin whose check it is, or empty.
    // Path syntax as Problem::path.
    QString at;
    QString message;
    bool operator==(const ApisixWording&) const = default;
};

ApisixWording apisixSchema(const QString& at, const QString& message);
// `plugin`: the path of a value in a plugin's configuration when the check is that plugin's
// check_schema; the message is then said as the plugin's (see ApisixPlugins).
ApisixWording apisixCheck(const QString& message, const QString& plugin = {});

struct Problem
{
    QString path;   // e.g. "stream_routes[0].remote_addr"; empty for whole-document problems
    QString value;  // the offending value as the user wrote it (may be empty)
    QString reason; // e.g. "invalid remote_addr: :/8" (APISIX's words where it has some)
    ApisixWording apisix = {};

    // "path: reason" (or just the reason when the path is empty).
    QString text() const;
    // For a one-line message: the reason alone when it names its field as a word of its own
    // ("invalid remote_addr: :/8"), text() otherwise.
    QString brief() const;
    bool operator==(const Problem&) const = default;
};

using Problems = QList<Problem>;

// All problems, one per line, as printed by `streamgate --check` and written to logs.
QString formatProblems(const Problems& problems);
// All problems on one line, each brief(), separated by "; " (an error_msg).
QString briefProblems(const Problems& problems);

// Which words APISIX uses for a plugin's refused configuration: a stream route's plugins are
// checked as stream plugins ("failed to check the configuration of stream plugin [NAME]: ..."),
// a service's as HTTP plugins ("failed to check the configuration of plugin NAME err: ...").
enum class ApisixPlugins { Stream, Http };

// The one error_msg APISIX answers for an object refused with `problems` (paths relative to the
// object, as the admin API decodes it): the first failure APISIX's checks would meet, in
// APISIX's words ("invalid configuration: property \"upstream\" validation failed: ..."). When
// no problem has APISIX's words (APISIX would not refuse any of them), every problem is said in
// Streamgate's (briefProblems). Empty when there are no problems.
QString apisixErrorMessage(const Problems& problems, ApisixPlugins plugins);

} // namespace sg
