#pragma once
// One Streamgate per config. The instance that owns a config (it holds the config's lock)
// listens on a local socket named after the config's path; a second launch on the same config
// asks it to bring its window forward and ends, instead of starting a proxy that could bind
// none of its listeners. The socket is in the user's runtime directory and only this user may
// connect. Line protocol: the launch sends "show\n", the owner answers "shown <pid>\n".

#include <QObject>
#include <QString>

class QLocalServer;

namespace sg {

class InstanceChannel : public QObject
{
    Q_OBJECT

public:
    explicit InstanceChannel(QObject* parent = nullptr);
    ~InstanceChannel() override;

    // Listens for launches on `configPath`. Call only while holding the config's lock: a socket
    // left by an instance that died is removed first. Empty on success, else why not.
    QString listen(const QString& configPath);

    // Asks the instance that owns `configPath` to bring its window forward: its pid once it
    // has, 0 when no instance answers within timeoutMs (none listens, or it is headless).
    static qint64 askToShow(const QString& configPath, int timeoutMs = 3000);

    // Where the owner of `configPath` listens: the same for every spelling of the path.
    static QString socketPath(const QString& configPath);

Q_SIGNALS:
    void showRequested();

private:
    QLocalServer* m_server = nullptr;
};

} // namespace sg
