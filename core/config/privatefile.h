#pragma once
// Private, durable writes for the files the config store keeps (the config, NAME.bak,
// NAME.broken, the generated admin key): the bytes go to a temporary file created 0600 in the
// target's directory (O_EXCL, so never through a planted link), every write and the fsync are
// checked, and only then is it renamed over the target and the directory synced. A rename
// replaces a symlink at the target rather than writing through it. Directories made here are
// 0700. Errors come back as text naming the file and the system's reason.

#include <QByteArray>
#include <QString>

namespace sg::detail {

// A whole file written under a temporary name next to `target`, not yet in place. commit()
// renames it over `target`; if it is never committed, the destructor removes it.
class PendingFile
{
public:
    explicit PendingFile(const QString& target);
    ~PendingFile();
    PendingFile(const PendingFile&) = delete;
    PendingFile& operator=(const PendingFile&) = delete;

    // Empty on success, else why not (the temporary file is removed).
    QString write(const QByteArray& bytes);
    // Renames the written file over the target and syncs the directory. Empty on success.
    QString commit();

private:
    QString m_target;
    QString m_temp;
};

// write() then commit(): the whole file or nothing. Empty on success.
QString writePrivateFile(const QString& path, const QByteArray& bytes);
// Creates `dir` and its missing parents, each 0700. Existing directories are left as they are.
QString makePrivateDirectory(const QString& dir);
// The path a write to `path` lands on: the file a symlink at `path` points to (the user's own
// link to their config), else `path`.
QString resolvedTarget(const QString& path);

} // namespace sg::detail
