#pragma once
// The sending half of the syslog stream plugin (plugins/syslog.cpp): APISIX's batch processor
// in front of a syslog socket, on a thread of its own so that a slow or absent syslog server
// never stalls a worker.
//
// Batches: add() queues a message; a batch goes when batch_max_size messages wait, when no
// message came for inactive_timeout seconds, or buffer_duration seconds after the first message
// of the batch. A batch that fails is tried again up to max_retry_count times, retry_delay
// seconds apart, with the messages the server has not had yet, and then dropped. At most
// max_pending_entries messages wait (plugin_metadata's, 8192 by default); more are dropped and
// counted.
//
// Socket: TCP (kept open and reused; written flush_limit bytes at a time; the messages of a
// batch beyond drop_limit bytes are dropped) or UDP (one datagram per message, so a receiver
// parses each on its own). Connect and send are bounded by `timeout` ms. Unlike the Lua logger
// APISIX uses, a batch is never held back below flush_limit waiting for later messages: what
// the batch processor lets go reaches the server.
//
// Destroying the sender never waits (it may happen on a worker or the engine thread): its
// thread sends what still waits, once, within one `timeout` for all of it, and ends. At exit
// the process gives such threads that long before it goes.

#include "model/streamroute.h"

#include <QByteArray>
#include <memory>

namespace sg {

class SyslogSender
{
public:
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

    struct State; // shared with the sending thread, which may outlive the sender

private:
    std::shared_ptr<State> m_state;
};

} // namespace sg
