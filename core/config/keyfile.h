#pragma once
// The admin API key outside the config file: a key Streamgate generates is kept in a file of
// its own beside the config (NAME.key, 0600), so a user's hand-written config is never
// rewritten just to hold it; and a key a user gives in a file (--admin-key-file) is read from
// there, so it never has to appear on a command line.

#include <QString>

namespace sg {

struct KeyFileResult
{
    QString key;     // empty when there is none to use
    QString message; // for the log: where the key came from, or why it could not be kept
    bool ok = false; // false: an error (message says why); key may still be usable for the run
};

// A key file's key: its first line, trimmed. Refuses what is not a regular file, an empty key
// and files over 4 KiB.
KeyFileResult readKeyFile(const QString& path);

// The key in `path`, or a new random one (128 bits, hex) written there 0600 when the file does
// not exist. A key that cannot be saved is still returned (usable for this run) with ok false.
// A file that is not a regular file of this user's, or that others may read, is not trusted:
// it is replaced by a new key.
KeyFileResult loadOrCreateKeyFile(const QString& path);

// A key kept by Streamgate itself (e.g. the remote APISIX admin key): read only from a regular
// file of this user's that others cannot read, never through a symlink.
KeyFileResult readPrivateKeyFile(const QString& path);
// Saves `key` in `path`, 0600 (its directory made 0700 when missing); an empty key removes the
// file. Empty on success, else why not.
QString savePrivateKeyFile(const QString& path, const QString& key);

} // namespace sg
