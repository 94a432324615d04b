#pragma once
// A small HTTP server on 127.0.0.1, on the test's own event loop: the node an HTTP health check
// probes. It reads each request's head (and the body its Content-Length announces), keeps it,
// then writes `answer` as given and closes the connection; with keepOpen it leaves the
// connection open after answering (or, with an empty answer, never answers at all).

#include <QHash>
#include <QTcpServer>
#include <QTcpSocket>

namespace sgtest {

class HttpNode : public QObject
{
public:
    explicit HttpNode(const QByteArray& answer, bool keepOpen = false)
        : m_answer(answer), m_keepOpen(keepOpen)
    {
        if (!m_server.listen(QHostAddress::LocalHost, 0))
            qFatal("cannot listen on 127.0.0.1");
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket* socket = m_server.nextPendingConnection())
                serve(socket);
        });
    }

    quint16 port() const { return m_server.serverPort(); }
    void setAnswer(const QByteArray& answer) { m_answer = answer; }
    // Every request, head and body, in the order they came.
    QList<QByteArray> requests;

private:
    void serve(QTcpSocket* socket)
    {
        socket->setParent(this);
        connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
            m_partial.remove(socket);
            socket->deleteLater();
        });
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] {
            QByteArray& got = m_partial[socket];
            got += socket->readAll();
            const qsizetype headEnd = got.indexOf("\r\n\r\n");
            if (headEnd < 0)
                return;
            qsizetype length = 0;
            for (const QByteArray& line : got.left(headEnd).split('\n')) {
                if (line.toLower().startsWith("content-length:"))
                    length = line.mid(15).trimmed().toLongLong();
            }
            if (got.size() < headEnd + 4 + length)
                return;
            requests << got;
            m_partial.remove(socket);
            socket->write(m_answer);
            if (!m_keepOpen)
                socket->disconnectFromHost();
        });
    }

    QTcpServer m_server;
    QByteArray m_answer;
    bool m_keepOpen = false;
    QHash<QTcpSocket*, QByteArray> m_partial;
};

} // namespace sgtest
