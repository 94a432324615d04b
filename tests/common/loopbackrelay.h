#pragma once
// A plain TCP relay for tests: accepts on 127.0.0.1 (port 0) and connects each client onward
// from a chosen local address, so that a program without a bind option (the `mariadb` client)
// reaches a server as 127.0.0.2. Copies bytes both ways and passes each close on.

#include <QHostAddress>
#include <QTcpServer>
#include <QTcpSocket>
#include <memory>
#include <vector>

namespace sg::test {

class LoopbackRelay : public QObject
{
public:
    LoopbackRelay(QHostAddress from, QHostAddress toHost, quint16 toPort)
        : m_from(std::move(from)), m_toHost(std::move(toHost)), m_toPort(toPort)
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket* c = m_server.nextPendingConnection())
                startSession(c);
        });
    }

    ~LoopbackRelay() override
    {
        // Sockets die in member order; their last signals must not reach half-destroyed sessions.
        for (const auto& s : m_sessions) {
            s->client->disconnect(this);
            s->upstream->disconnect(this);
        }
    }

    bool listen() { return m_server.listen(QHostAddress(QStringLiteral("127.0.0.1")), 0); }
    quint16 port() const { return m_server.serverPort(); }
    int sessions() const { return int(m_sessions.size()); }

private:
    struct Session
    {
        QTcpSocket* client = nullptr; // owned by the QTcpServer's child list
        std::unique_ptr<QTcpSocket> upstream;
        QByteArray pending;
    };

    void startSession(QTcpSocket* client)
    {
        m_sessions.push_back(std::make_unique<Session>());
        Session* s = m_sessions.back().get();
        s->client = client;
        s->upstream = std::make_unique<QTcpSocket>();
        QTcpSocket* up = s->upstream.get();
        // Binding first makes the proxy see this session coming from m_from.
        up->bind(m_from, 0);
        connect(client, &QTcpSocket::readyRead, this, [s] {
            const QByteArray b = s->client->readAll();
            if (s->upstream->state() == QAbstractSocket::ConnectedState)
                s->upstream->write(b);
            else
                s->pending += b;
        });
        connect(up, &QTcpSocket::connected, this, [s] {
            if (!s->pending.isEmpty())
                s->upstream->write(std::exchange(s->pending, {}));
        });
        connect(up, &QTcpSocket::readyRead, this,
                [s] { s->client->write(s->upstream->readAll()); });
        connect(client, &QTcpSocket::disconnected, this,
                [s] { s->upstream->disconnectFromHost(); });
        connect(up, &QTcpSocket::disconnected, this, [s] { s->client->disconnectFromHost(); });
        connect(up, &QTcpSocket::errorOccurred, this, [s] {
            if (s->upstream->state() == QAbstractSocket::UnconnectedState)
                s->client->disconnectFromHost();
        });
        up->connectToHost(m_toHost, m_toPort);
    }

    QTcpServer m_server;
    QHostAddress m_from;
    QHostAddress m_toHost;
    quint16 m_toPort;
    std::vector<std::unique_ptr<Session>> m_sessions;
};

} // namespace sg::test
