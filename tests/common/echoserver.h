#pragma once
// An echo service on the test's own event loop (QTcpServer): the real upstream of routes under
// test where the test drives Qt objects anyway. Tests that need one off the event loop use
// TestServer (loopback.h).

#include <QTcpServer>
#include <QTcpSocket>

namespace sgtest {

class EchoServer : public QTcpServer
{
public:
    EchoServer()
    {
        connect(this, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket* s = nextPendingConnection()) {
                connect(s, &QTcpSocket::readyRead, s, [s] { s->write(s->readAll()); });
                connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
            }
        });
    }
};

} // namespace sgtest
