#pragma once
// The sending half of the syslog stream plugin (plugins/syslog.cpp): APISIX's batch processor
// in front of a syslog socket, on a thread of its own so that a slow or absent syslog server
// never stalls a worker.
//
// Batches: add() queues a message; a batch goes when batch_max_size messages wait, when no
// message came for inactive_timeout seconds, or buffer_duration seconds after the first message
// of the batch. A batch that fails is sent again up to max_retry_count times, retry_delay
// seconds apart, and then dropped. At most kMaxPending messages wait (APISIX's default
// max_pending_entries); more are dropped and counted.
//
// Socket: TCP (kept open and reused; written flush_limit bytes at a time; the messages of a
// batch beyond drop_limit bytes are dropped) or UDP (one datagram per message, so a receiver
// parses each on its own). Connect and send are bounded by `timeout` ms. Unlike the Lua logger
// APISIX uses, a batch is never held back below flush_limit waiting for later messages: what
// the batch processor lets go reaches the server.
//
// The destructor sends what waits, once, within the timeout, and stops the thread.

#include "model/streamroute.h"

#include <QByteArray>
#include <QString>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace sg {

class SyslogSender
{
public:
    static constexpr int kMaxPending = 8192;

    explicit SyslogSender(const SyslogConf& conf);
    ~SyslogSender();
    Q_DISABLE_COPY_MOVE(SyslogSender)

    // Thread-safe; never waits on the network.
    void add(QByteArray message);

    struct Counters
    {
        quint64 sent = 0;    // messages the server was given
        quint64 dropped = 0; // messages given up on: queue full, drop_limit, failed batches
        quint64 failedAttempts = 0;
    };
    Counters counters() const;

private:
    void run();
    // Sends one batch; false (with the reason in *error) when the socket failed.
    bool sendBatch(const std::deque<QByteArray>& batch, QString* error);
    bool connectSocket(QString* error);
    void closeSocket();

    const SyslogConf m_conf;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<QByteArray> m_pending;
    qint64 m_firstMs = 0; // monotonic ms of the oldest waiting message
    qint64 m_lastMs = 0;  // of the newest
    bool m_stopping = false;
    Counters m_counters;
    int m_fd = -1; // the sender thread's socket
    std::thread m_thread;
};

} // namespace sg
