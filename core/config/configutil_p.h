#pragma once
// Helpers shared by the config store's source files; not part of the public interface.

#include "config/configstore.h"
#include "model/streamroute.h"

#include <QByteArray>
#include <QJsonValue>
#include <QString>

namespace sg::detail {

// An APISIX id (string, or integer as JSON number) as text, the way idString() spells it, so
// that upstream_id 7 and upstream id "7" refer to the same object, as they do in APISIX.
inline QString jsonIdText(const QJsonValue& id)
{
    if (id.isString())
        return id.toString();
    if (id.isDouble())
        return QString::number(qint64(id.toDouble()));
    return {};
}

// checkFile() that also hands back the bytes it read (empty when unreadable).
FileCheck readAndCheckFile(const QString& path, QByteArray* bytes);
// The checks of checkFile() on bytes already read; `path` only names the file in problems.
FileCheck checkBytes(const QString& path, const QByteArray& bytes);

} // namespace sg::detail
