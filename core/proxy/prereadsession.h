#pragma once
// PrereadSession reads what a client sends first, on the worker that will admit it, before its
// session starts: the PROXY protocol header on a listener with proxy_protocol (required there,
// as nginx's `listen ... proxy_protocol`), the MQTT CONNECT on a route with mqtt-proxy, the TLS
// ClientHello on a listener with tls_passthrough (its SNI routes the client). A
// client that sends something else, closes early or stays silent past the timeout is closed.
// It peeks at what has arrived and takes from the socket exactly the bytes the Reader takes, so
// whatever the client sent after them stays in the socket for the session's relay, untouched.
// With `keep`, the bytes taken are handed on (the MQTT CONNECT still goes to the upstream);
// without, they are dropped (the PROXY header is the proxy's own). Clients that need neither
// never meet it.
//
// Reader: ProxyHeaderReader, MqttConnectReader or ClientHelloReader (feed, state, error,
// consumed, wantAtMost).

#include "proxy/worker.h"

#include <QByteArray>
#include <QString>
#include <functional>

namespace sg {

template <class Reader> class PrereadSession final : public WorkerSession, public IoHandler
{
public:
    // done: the reader is Done (fd is handed over, already off this loop; `kept`: the bytes
    // taken, with `keep`); failed: the client was closed for `why`. Neither is called when the
    // worker closes the session (shutdown).
    using Done = std::function<void(Worker& worker, int fd, const Reader& reader, QByteArray kept)>;
    using Failed = std::function<void(const QString& why)>;

    // what: the thing read, for the refusals ("PROXY protocol header").
    PrereadSession(Worker& worker, int fd, qint64 timeoutMs, bool keep, QString what, Done done,
                   Failed failed);
    ~PrereadSession() override;

    void start(); // after Worker::adopt
    void onIo(IoWatch& watch, quint32 bits) override;
    void onTimer(quint32 tag) override;
    void close(CloseReason reason) override;
    QString routeId() const override { return {}; } // not admitted yet

private:
    void read();
    void fail(const QString& why);
    void release(); // off the loop, retired

    IoWatch m_watch;
    const qint64 m_timeoutMs;
    const bool m_keep;
    const QString m_what;
    Reader m_reader;
    QByteArray m_kept;
    Done m_done;
    Failed m_failed;
    bool m_ended = false;
};

// Ids of these sessions, apart from connection ids (which are the hub's).
quint64 nextPrereadSessionId();

// Starts a PrereadSession for `fd` on `worker` (adopted there and started).
template <class Reader>
void startPreread(Worker& worker, int fd, qint64 timeoutMs, bool keep, const QString& what,
                  typename PrereadSession<Reader>::Done done,
                  typename PrereadSession<Reader>::Failed failed)
{
    auto session = std::make_unique<PrereadSession<Reader>>(worker, fd, timeoutMs, keep, what,
                                                            std::move(done), std::move(failed));
    PrereadSession<Reader>* raw = session.get();
    worker.adopt(std::move(session));
    raw->start();
}

} // namespace sg
