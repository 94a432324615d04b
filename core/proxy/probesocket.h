#pragma once
// The end of a probe's connection (health checks, reachability probes): taken from its owner,
// disconnected from it, closed gracefully when connected (a FIN with nothing more to send is
// kinder to the node than a reset and completes at once), and deleted later.

#include <QTcpSocket>

namespace sg {

inline void dropProbeSocket(QTcpSocket*& socket, QObject* owner)
{
    if (!socket)
        return;
    QTcpSocket* s = socket;
    socket = nullptr;
    s->disconnect(owner);
    if (s->state() == QAbstractSocket::ConnectedState)
        s->disconnectFromHost();
    else
        s->abort();
    s->deleteLater();
}

} // namespace sg
