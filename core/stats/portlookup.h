#pragma once
// PortLookup answers, on a thread of its own, the questions a form asks about local ports while
// the user types: which program listens on this port (SocketOwnerFinder::findListening), and
// which port nothing listens on yet. The socket table and /proc are read on that thread only;
// each answer comes back as a signal on the thread the PortLookup lives in (the GUI's), with the
// ticket its request returned, so the caller keeps the newest and drops stale ones. Requests are
// answered in order.

#include "stats/socketowner.h"

#include <QObject>
#include <QSet>
#include <QThread>
#include <memory>

namespace sg {

class PortLookup final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(PortLookup)

public:
    explicit PortLookup(QObject* parent = nullptr);
    ~PortLookup() override; // stops the thread; requests not answered yet are dropped

    // Who listens on `port`: answered by listenersFound.
    quint64 findListeners(Protocol protocol, quint16 port);
    // The first port from `from` upward (then from 1024 up to `from`) on which nothing of this
    // machine listens and that is not in `taken`: answered by freePortFound (0 when none is).
    quint64 findFreePort(Protocol protocol, quint16 from, const QSet<quint16>& taken);

    // The thread the lookups run on (never the caller's).
    const QThread* lookupThread() const { return &m_thread; }

Q_SIGNALS:
    void listenersFound(quint64 ticket, quint16 port,
                        const QList<sg::SocketOwnerFinder::Listening>& listeners);
    void freePortFound(quint64 ticket, quint16 port);

private:
    QThread m_thread;
    QObject* m_context;                          // lives on m_thread; requests run in its events
    std::unique_ptr<SocketOwnerFinder> m_finder; // used on m_thread only
    quint64 m_tickets = 0;
};

} // namespace sg
