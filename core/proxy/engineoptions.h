#pragma once
// EngineOptions are the engine's settings as its owner gives them; resolved() applies the
// STREAMGATE_* environment overrides and the lower bounds, in this one place, so every part of
// the engine reads the same effective values.
//
//   STREAMGATE_WORKERS=1-256           relay threads
//   STREAMGATE_BURST_BUFFER_KB=4-...   what a splice pipe may grow to during a bulk transfer
//   STREAMGATE_EVENT_LOOP=epoll|poll   the workers' event loop (when eventLoop is empty)
//   STREAMGATE_RELAY=copy              relay through user-space buffers instead of splice()
//
// A value that does not parse is ignored with a warning that names it and what is used instead.

#include "proxy/relayfilter.h"

#include <QString>

namespace sg {

enum class EventLoopKind;

struct EngineOptions
{
    // Relay threads (each runs an event loop, accepts and relays); 0 = defaultWorkers(). The
    // environment variable STREAMGATE_WORKERS (1-256) overrides it.
    int workers = 0;
    int bufferSize = 64 * 1024; // per direction of a TCP session
    // What one direction's splice pipe may grow to while a bulk transfer keeps filling it and
    // its destination keeps up (back to bufferSize when it stalls or goes quiet). At most
    // bufferSize on the copy path; values below bufferSize mean bufferSize. The environment
    // variable STREAMGATE_BURST_BUFFER_KB overrides it.
    int burstBufferSize = 1024 * 1024;
    int closedHistory = 1000;          // closed connections kept for snapshots
    int eventHistory = 10000;          // events kept for eventsSince()
    int udpSessionCap = 10000;         // per route; one client holds at most a quarter of it
    double defaultUdpIdleTimeout = 60; // seconds, when the upstream sets no timeout.read
    // Seconds a UDP session may stay quiet before its upstream first answers (at most its
    // read timeout): a client that sends once and never gets a reply does not hold a session
    // and a descriptor for the whole read timeout. Every known request/response protocol over
    // UDP (DNS, NTP, SNMP, QUIC's handshake) answers or retries well within 5 s.
    double udpNoReplyTimeout = 5;
    // Seconds a client of a listener with proxy_protocol has to send its PROXY protocol header
    // before it is closed (nginx's proxy_protocol_timeout, which APISIX leaves at 30 s).
    double proxyProtocolTimeout = 30;
    // Seconds a client of a route with mqtt-proxy has to send its MQTT CONNECT (nginx's
    // preread_timeout), and a client of a listener with tls has to finish its handshake.
    double prereadTimeout = 30;
    // Reachability probes of upstream nodes without checks.active (proxy/upstreamprober.h).
    // The application turns them on; off, an engine embedded elsewhere (a test counting its
    // upstream's connections, a benchmark) makes no connection of its own to an upstream.
    bool probeUpstreams = false;
    // How long a probe's connect may take before the node counts as not answering, and the
    // first re-probe interval of a node that does not answer, doubling up to the last.
    int reachTimeoutMs = 2000;
    int reachRetryMs = 2000;
    int reachMaxRetryMs = 30000;
    // Worker event loop: "epoll", "poll" (portable fallback), or empty for the environment
    // variable STREAMGATE_EVENT_LOOP when set, else the platform default (epoll on Linux).
    QString eventLoop;
    // Relay through kernel pipes with splice() on Linux; false copies through user-space
    // buffers (also chosen by STREAMGATE_RELAY=copy).
    bool splice = true;
    // Find out who each client is, in the background (stats/clientresolver.h): the owning
    // program of a client on this machine, the host name of one on the network. The
    // application turns it on; an engine embedded elsewhere runs no resolver thread.
    bool resolveClients = false;
    // Where the development CA for database TLS lives (config/developmentca.h): the
    // application gives `development-ca` beside the config; empty, routes with database_tls
    // refuse the clients that ask for TLS, saying why.
    QString developmentCaDir;
    // Asked for the relay filters of every new TCP session, after the route's own (the MySQL
    // inspector); see proxy/relayfilter.h.
    std::vector<FilterProvider> filterProviders;

    // These options with the environment overrides applied and every value in range:
    // workers >= 1, bufferSize >= 4096, burstBufferSize >= bufferSize, udpSessionCap >= 1,
    // defaultUdpIdleTimeout > 0, udpNoReplyTimeout > 0, proxyProtocolTimeout > 0,
    // prereadTimeout > 0, reachTimeoutMs and reachRetryMs >= 1, reachMaxRetryMs >=
    // reachRetryMs, eventLoop "epoll" or "poll".
    EngineOptions resolved() const;
    EventLoopKind eventLoopKind() const; // of eventLoop (Default when empty)
};

// One relay thread per core but one, at least one: the proxy shares the machine with its own
// GUI and engine threads and, usually, with the services it fronts and their clients. On 2
// cores one worker costs 14 % less CPU per connection than two and cuts the 8-client round
// trip p99 by 15 %, the other figures equal (tests/bench/README.md).
int defaultWorkers();

} // namespace sg
