#pragma once
// TcpSession relays one accepted client to an upstream node on a worker thread. Lifecycle:
// (limit-conn delay) -> non-blocking connect with per-attempt timeout and retries over the
// balancer's picks -> relay -> close. Each direction holds at most bufferSize bytes (a kernel
// pipe for splice(), or a pooled buffer for the copy path) and only while bytes are in flight;
// when the destination is full the source is not read, so TCP flow control stops the peer.
// Small reads are copied (recv/send through a pooled buffer: two system calls, where splice
// needs three); a read that fills the buffer marks the direction as bulk, and its next bytes
// go through a pipe. A pipe that keeps being filled to its cap and emptied again grows, up to
// the worker's burst size, so a bulk transfer moves more per call and per wake-up; it drops
// back to bufferSize once the destination stalls, and is shrunk and pooled after a quiet spell.
// Half-close: a FIN is forwarded as shutdown(SHUT_WR) after every buffered byte is delivered;
// the session ends when both directions are done. A reset on one side resets the other.
// MySQL: while the route's inspector wants a direction's bytes, that direction takes the copy
// path and feeds each read to it before writing it on unchanged; once it is done (or gave up on
// non-MySQL traffic) the direction goes back to splice and the inspector is dropped.

#include "proxy/admission.h"
#include "proxy/mysqlinspector.h"
#include "proxy/routetable.h"
#include "proxy/worker.h"

#include <QSet>
#include <QString>
#include <memory>

namespace sg {

struct TcpSessionSetup
{
    int clientFd = -1;
    std::shared_ptr<RouteEntry> route;
    std::shared_ptr<ConnectionRecord> record;
    QString hashKey;           // chash key value
    double delaySeconds = 0;   // limit-conn burst delay
    AdmissionTicket admission; // the plugins' hold on this session, released on close
};

class TcpSession final : public WorkerSession, public IoHandler
{
public:
    TcpSession(Worker& worker, TcpSessionSetup&& setup);
    ~TcpSession() override;

    void start(); // after Worker::adopt
    void onIo(IoWatch& watch, quint32 bits) override;
    void onTimer(quint32 tag) override;
    void close(CloseReason reason) override;
    QString routeId() const override;
    void resume() override;

private:
    enum Side { Client = 0, Upstream = 1 };
    enum TimerKind : quint32 { DelayTimer = 1, ConnectTimer = 2, IdleTimer = 3, PipeTimer = 4 };

    struct Endpoint
    {
        IoWatch watch;
        bool readable = false;
        bool writable = false;
        bool hup = false; // a FIN or hang-up was reported: read until 0, not just a short read
    };
    struct Direction
    {
        Side from;
        Side to;
        RelayPipe pipe;
        char* buffer = nullptr;
        int head = 0;
        int tail = 0;
        qint64 held = 0;
        bool eof = false;
        bool shut = false;
        bool pipeMaybeFull = false; // splice into the pipe said EAGAIN while it held bytes
        qint64 cap = 0;             // pipe only: what it may hold now (bufferSize..burstSize)
        int fills = 0;              // full reads of an emptied pipe in a row (< 0: back off)
        bool bulk = false;          // the last read filled its storage: next storage is a pipe
        qint64 lastMoveMs = 0;
        qint64 idleMs = 0;
    };

    void startConnect();
    void attemptFailed(bool timedOut);
    void connected();
    void pump();
    int transfer(Direction& d, qint64& budget);
    void updateWants();
    void updateBuffered();
    void armIdle();
    qint64 idleExpiry() const;
    void releaseStorage(Direction& d);
    qint64 capOf(const Direction& d) const
    {
        return d.pipe.readFd >= 0 ? d.cap : m_worker.bufferSize();
    }
    void growPipe(Direction& d);
    void releaseQuietPipes();
    bool inspecting(const Direction& d) const;
    void inspect(const Direction& d, const char* data, std::size_t len);
    int fd(Side s) const { return m_ends[s].watch.fd; }
    static CloseReason resetReason(Side s)
    {
        return s == Client ? CloseReason::ClientReset : CloseReason::UpstreamReset;
    }

    std::shared_ptr<RouteEntry> m_route;
    std::shared_ptr<ConnectionRecord> m_record;
    QString m_hashKey;
    double m_delaySeconds;
    AdmissionTicket m_admission;

    Endpoint m_ends[2];
    Direction m_dirs[2]; // [0] client -> upstream, [1] upstream -> client
    QSet<int> m_tried;
    int m_node = -1;
    int m_attempts = 0;
    quint32 m_connectGen = 0;
    qint64 m_firstAttemptMs = 0;
    qint64 m_attemptStartMs = 0;
    bool m_connected = false;
    bool m_closed = false;
    bool m_requeued = false;
    bool m_pipeTimerArmed = false; // a grown pipe is kept while quiet; PipeTimer returns it
    CloseReason m_firstEof = CloseReason::None;
    std::unique_ptr<MySqlInspector> m_mysql; // null when off, or once inspection is over
    bool m_mysqlPublished = false;           // the record holds what the inspector learned
};

} // namespace sg
