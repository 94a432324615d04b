#pragma once
// ProxyHeaderSession reads the PROXY protocol header of one client accepted on a listener with
// proxy_protocol, on the worker that will admit it, before admission: the header is required
// there (as nginx's `listen ... proxy_protocol`), so a client that sends anything else, closes
// early or stays silent past the timeout is closed. It peeks at what has arrived and takes from
// the socket exactly the header's bytes (ProxyHeaderReader), so whatever the client sent after
// the header stays in the socket for the session's relay, untouched. Listeners without
// proxy_protocol never meet it.

#include "proxy/proxyprotocol.h"
#include "proxy/worker.h"

#include <functional>

namespace sg {

class ProxyHeaderSession final : public WorkerSession, public IoHandler
{
public:
    // done: the header is read (fd is handed over, already off this loop); failed: the client
    // was closed for `why`. Neither is called when the worker closes the session (shutdown).
    using Done = std::function<void(Worker& worker, int fd, const ProxyHeader& header)>;
    using Failed = std::function<void(const QString& why)>;

    ProxyHeaderSession(Worker& worker, int fd, qint64 timeoutMs, Done done, Failed failed);
    ~ProxyHeaderSession() override;

    void start(); // after Worker::adopt
    void onIo(IoWatch& watch, quint32 bits) override;
    void onTimer(quint32 tag) override;
    void close(CloseReason reason) override;
    QString routeId() const override { return {}; } // no route before admission

    // Ids of these sessions, apart from connection ids (which are the hub's).
    static quint64 nextId();

private:
    void read();
    void fail(const QString& why);
    void release(); // off the loop, retired

    IoWatch m_watch;
    const qint64 m_timeoutMs;
    ProxyHeaderReader m_reader;
    Done m_done;
    Failed m_failed;
    bool m_ended = false;
};

} // namespace sg
