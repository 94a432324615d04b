#include "instancechannel.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QDeadlineTimer>
#include <QDir>
#include <QFileInfo>
#include <QLocalServer>
#include <QLocalSocket>
#include <QStandardPaths>
#include <QTimer>

namespace sg {

namespace {

constexpr qsizetype kMaxLaunchRequest = 64; // "show\n" and room to spare; more is not a launch
constexpr int kLaunchClientMs = 2000;       // a client that says nothing is dropped then

} // namespace

InstanceChannel::InstanceChannel(QObject* parent) : QObject(parent) {}

InstanceChannel::~InstanceChannel() = default;

QString InstanceChannel::socketPath(const QString& configPath)
{
    const QFileInfo file(configPath);
    const QString canonical = file.canonicalFilePath();
    const QByteArray id = QCryptographicHash::hash(
                              (canonical.isEmpty() ? file.absoluteFilePath() : canonical).toUtf8(),
                              QCryptographicHash::Sha256)
                              .toHex()
                              .left(24);
    return QStandardPaths::writableLocation(QStandardPaths::RuntimeLocation) +
           QStringLiteral("/streamgate-") + QString::fromLatin1(id);
}

QString InstanceChannel::listen(const QString& configPath)
{
    delete m_server;
    m_server = new QLocalServer(this);
    m_server->setSocketOptions(QLocalServer::UserAccessOption);
    const QString path = socketPath(configPath);
    QDir().mkpath(QFileInfo(path).absolutePath());
    QLocalServer::removeServer(path); // we hold the lock: whatever is there was left behind
    if (!m_server->listen(path))
        return path + QStringLiteral(": ") + m_server->errorString();
    connect(m_server, &QLocalServer::newConnection, this, [this] {
        while (QLocalSocket* client = m_server->nextPendingConnection()) {
            connect(client, &QLocalSocket::disconnected, client, &QObject::deleteLater);
            QTimer::singleShot(kLaunchClientMs, client, [client] { client->abort(); });
            connect(client, &QLocalSocket::readyRead, this, [this, client] {
                if (!client->canReadLine()) {
                    if (client->bytesAvailable() > kMaxLaunchRequest)
                        client->abort();
                    return;
                }
                const QByteArray line = client->readLine(kMaxLaunchRequest).trimmed();
                if (line != "show") {
                    client->abort();
                    return;
                }
                client->write("shown " + QByteArray::number(QCoreApplication::applicationPid()) +
                              '\n');
                client->disconnectFromServer(); // after the answer is written
                Q_EMIT showRequested();
            });
        }
    });
    return {};
}

qint64 InstanceChannel::askToShow(const QString& configPath, int timeoutMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    QLocalSocket socket;
    socket.connectToServer(socketPath(configPath));
    if (!socket.waitForConnected(int(qMax<qint64>(1, deadline.remainingTime()))))
        return 0;
    socket.write("show\n");
    if (!socket.waitForBytesWritten(int(qMax<qint64>(1, deadline.remainingTime()))))
        return 0;
    while (!socket.canReadLine() && !deadline.hasExpired() &&
           socket.state() == QLocalSocket::ConnectedState)
        socket.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime())));
    const QByteArray answer = socket.readLine(kMaxLaunchRequest).trimmed();
    if (!answer.startsWith("shown "))
        return 0;
    bool ok = false;
    const qint64 pid = answer.mid(6).toLongLong(&ok);
    return ok && pid > 0 ? pid : 0;
}

} // namespace sg
