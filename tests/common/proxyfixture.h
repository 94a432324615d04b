#pragma once
// Builders for engine configs in tests (no JSON involved) and snapshot lookups.

#include "loopback.h"
#include "model/streamroute.h"
#include "proxy/engineoptions.h"
#include "stats/snapshot.h"

#include <QJsonValue>
#include <QTest>
#include <memory>
#include <optional>

namespace sgtest {

// The relay flavours every byte-path test runs on (initTestCase_data): epoll + splice,
// epoll + copy, and the portable poll loop.
inline void addRelayFlavours()
{
    QTest::addColumn<QString>("loop");
    QTest::addColumn<bool>("splice");
    QTest::newRow("epoll-splice") << QStringLiteral("epoll") << true;
    QTest::newRow("epoll-copy") << QStringLiteral("epoll") << false;
    QTest::newRow("poll-copy") << QStringLiteral("poll") << false;
}

// Engine options for the flavour of the running row.
inline sg::EngineOptions relayFlavourOptions()
{
    QFETCH_GLOBAL(QString, loop);
    QFETCH_GLOBAL(bool, splice);
    sg::EngineOptions o;
    o.eventLoop = loop;
    o.splice = splice;
    return o;
}

inline sg::Node node(const QString& host, int port, int weight = 1, int priority = 0)
{
    sg::Node n;
    n.host = host;
    n.port = port;
    n.weight = weight;
    n.priority = priority;
    return n;
}

inline sg::Upstream upstream(const QList<sg::Node>& nodes, const QString& type = "roundrobin")
{
    sg::Upstream u;
    u.type = type;
    u.nodes = nodes;
    return u;
}

inline sg::StreamRoute route(const QString& id, const sg::Upstream& up)
{
    sg::StreamRoute r;
    r.id = QJsonValue(id);
    r.upstream = up;
    return r;
}

inline sg::ListenEntry listenEntry(const QString& host, int port)
{
    sg::ListenEntry e;
    e.host = host;
    e.port = port;
    e.given = host.isEmpty() ? QJsonValue(port)
                             : QJsonValue((host.contains(':') ? "[" + host + "]" : host) + ":" +
                                          QString::number(port));
    return e;
}

// A stream_proxy entry for the port range first..last ("127.0.0.1:2000-2002").
inline sg::ListenEntry listenRange(const QString& host, int first, int last)
{
    sg::ListenEntry e;
    e.host = host;
    e.port = first;
    e.portEnd = last;
    e.given = e.text();
    return e;
}

inline sg::RouteCounters routeCounters(const sg::Snapshot& s, const QString& id)
{
    for (const auto& r : s.routes)
        if (r.routeId == id)
            return r;
    return {};
}

// The first open connection of a route (a copy: snapshots are usually temporaries).
inline std::optional<sg::ConnectionInfo> activeOn(const sg::Snapshot& s, const QString& routeId)
{
    for (const auto& c : s.active)
        if (c.routeId == routeId)
            return c;
    return std::nullopt;
}

// Connects (from bindHost when given), sends `first` when it is not empty, and returns what
// arrived before the proxy or upstream ended the connection; an empty result with *ended ==
// Eof/Reset means refused at once.
inline QByteArray sendAndRead(const QString& host, int port, const QString& bindHost,
                              const QByteArray& first, ReadEnd* ended = nullptr,
                              int timeoutMs = 5000)
{
    const int fd = connectTo(host, port, bindHost);
    if (fd < 0) {
        if (ended)
            *ended = ReadEnd::Reset;
        return {};
    }
    if (!first.isEmpty() && !sendAll(fd, first)) {
        ::close(fd);
        if (ended)
            *ended = ReadEnd::Reset;
        return {};
    }
    QByteArray got;
    const ReadEnd e = readSome(fd, got, -1, timeoutMs);
    if (ended)
        *ended = e;
    ::close(fd);
    return got;
}

// What the upstream greets with, through the proxy (sendAndRead without a first word).
inline QByteArray greetingVia(const QString& host, int port, const QString& bindHost = {},
                              ReadEnd* ended = nullptr, int timeoutMs = 5000)
{
    return sendAndRead(host, port, bindHost, {}, ended, timeoutMs);
}

// An upstream that greets each client with `text` and closes 20 ms later.
inline std::unique_ptr<TestServer> greeter(const QByteArray& text,
                                           const QString& host = QStringLiteral("127.0.0.1"))
{
    auto s = std::make_unique<TestServer>(TestServer::Greet, host);
    s->setGreeting(text);
    s->holdMs = 20;
    return s;
}

// The texts of the Deny events among `events`, one a line.
inline QString denyTexts(const QList<sg::Event>& events)
{
    QStringList why;
    for (const sg::Event& e : events)
        if (e.kind == sg::EventKind::Deny)
            why << e.text;
    return why.join(u'\n');
}

} // namespace sgtest
