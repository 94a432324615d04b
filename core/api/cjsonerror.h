#pragma once
// APISIX decodes admin request bodies with lua-cjson and answers a malformed one with cjson's
// error ("Expected value but found T_END at character 12"). This reads a body the way cjson's
// decoder does, far enough to say where and how it stops, so the admin API can answer in the
// same words. It builds no value: the body's content is still Qt's to parse.

#include <QByteArray>
#include <QString>

namespace sg {

// cjson's error for `body`, or an empty string when cjson would decode it.
QString cjsonDecodeError(const QByteArray& body);

} // namespace sg
