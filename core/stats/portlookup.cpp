#include "stats/portlookup.h"

namespace sg {

PortLookup::PortLookup(QObject* parent)
    : QObject(parent), m_context(new QObject), m_finder(std::make_unique<SocketOwnerFinder>())
{
    m_thread.setObjectName(QStringLiteral("sg-port-lookup"));
    m_context->moveToThread(&m_thread);
    m_thread.start(QThread::LowPriority);
}

PortLookup::~PortLookup()
{
    m_thread.quit();
    m_thread.wait();
    delete m_context; // the thread is gone: its requests not run yet go with it
}

quint64 PortLookup::findListeners(Protocol protocol, quint16 port)
{
    const quint64 ticket = ++m_tickets;
    QMetaObject::invokeMethod(
        m_context,
        [this, ticket, protocol, port] {
            const QList<SocketOwnerFinder::Listening> found =
                m_finder->findListening(protocol, port);
            // Posted to this object: dropped if it is destroyed before the event loop runs it.
            QMetaObject::invokeMethod(
                this, [this, ticket, port, found] { Q_EMIT listenersFound(ticket, port, found); },
                Qt::QueuedConnection);
        },
        Qt::QueuedConnection);
    return ticket;
}

quint64 PortLookup::findFreePort(Protocol protocol, quint16 from, const QSet<quint16>& taken)
{
    const quint64 ticket = ++m_tickets;
    QMetaObject::invokeMethod(
        m_context,
        [this, ticket, protocol, from, taken] {
            const QSet<quint16> listening = SocketOwnerFinder::listeningPorts(protocol);
            const auto isFree = [&](int port) {
                return !taken.contains(quint16(port)) && !listening.contains(quint16(port));
            };
            quint16 port = 0;
            for (int p = qMax(1, int(from)); p <= 65535 && port == 0; ++p)
                port = isFree(p) ? quint16(p) : 0;
            for (int p = 1024; p < int(from) && port == 0; ++p)
                port = isFree(p) ? quint16(p) : 0;
            QMetaObject::invokeMethod(
                this, [this, ticket, port] { Q_EMIT freePortFound(ticket, port); },
                Qt::QueuedConnection);
        },
        Qt::QueuedConnection);
    return ticket;
}

} // namespace sg
