#pragma once
// Helpers shared by the config store's source files; not part of the public interface.

#include "config/configstore.h"
#include "model/streamroute.h"

#include <QByteArray>
#include <QJsonValue>
#include <QString>

namespace sg::detail {

// Reads a config file whole, refusing what is not a regular file (a directory, a FIFO, a
// device: never blocks) and files over kMaxConfigFileBytes. Empty on success, else why not.
QString readConfigBytes(const QString& path, QByteArray* bytes);
// checkFile() that also hands back the bytes it read (empty when unreadable).
FileCheck readAndCheckFile(const QString& path, QByteArray* bytes);
// The checks of checkFile() on bytes already read; `path` only names the file in problems.
FileCheck checkBytes(const QString& path, const QByteArray& bytes);

// A refusal because a file could not be written: `why` names the file and the reason.
Problems cannotWrite(const QString& path, const QString& why);
// SHA-256 of a file's bytes: how the store knows whether the file changed since it last saw it.
QByteArray fileHash(const QByteArray& bytes);

} // namespace sg::detail
