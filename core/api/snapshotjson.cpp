#include "api/snapshotjson.h"

#include <QDateTime>

namespace sg {

namespace {

// Counters are unsigned 64-bit; JSON numbers are doubles, exact up to 2^53, which byte
// counters of a desktop proxy do not reach.
QJsonValue count(quint64 value)
{
    return QJsonValue(qint64(value));
}

QString addressText(const QHostAddress& address)
{
    return address.isNull() ? QString() : address.toString();
}

} // namespace

QJsonObject connectionToJson(const ConnectionInfo& c)
{
    QJsonObject o{
        {QStringLiteral("id"), count(c.id)},
        {QStringLiteral("route_id"), c.routeId},
        {QStringLiteral("protocol"), toString(c.protocol)},
        {QStringLiteral("listener"), c.listener},
        {QStringLiteral("client_addr"), addressText(c.clientAddress)},
        {QStringLiteral("client_port"), int(c.clientPort)},
        {QStringLiteral("local_addr"), addressText(c.localAddress)},
        {QStringLiteral("local_port"), int(c.localPort)},
        {QStringLiteral("upstream_node"), c.upstreamNode},
        {QStringLiteral("state"), toString(c.state)},
        {QStringLiteral("start_time"), c.startMs},
        {QStringLiteral("connect_ms"), c.connectMs},
        {QStringLiteral("last_activity"), c.lastActivityMs},
        {QStringLiteral("bytes_up"), count(c.bytesUp)},
        {QStringLiteral("bytes_down"), count(c.bytesDown)},
    };
    // Who the client is, once the background lookup answered: the program owning the
    // client's socket on this machine, the reverse-DNS name of a client on the network; null
    // until then and when there is none.
    if (c.clientProcess->pid > 0)
        o.insert(QStringLiteral("client_process"),
                 QJsonObject{{QStringLiteral("pid"), c.clientProcess->pid},
                             {QStringLiteral("name"), c.clientProcess->name},
                             {QStringLiteral("cmdline"), c.clientProcess->cmdline}});
    else
        o.insert(QStringLiteral("client_process"), QJsonValue(QJsonValue::Null));
    o.insert(QStringLiteral("client_host"),
             c.clientHost.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(c.clientHost));
    if (!c.peerAddress.isNull()) {
        // client_addr came in a PROXY protocol header from this peer
        o.insert(QStringLiteral("peer_addr"), addressText(c.peerAddress));
        o.insert(QStringLiteral("peer_port"), int(c.peerPort));
    }
    if (c.endMs > 0)
        o.insert(QStringLiteral("end_time"), c.endMs);
    if (c.closeReason != CloseReason::None)
        o.insert(QStringLiteral("close_reason"), toString(c.closeReason));
    if (c.closedBy != ClosedBy::None)
        o.insert(QStringLiteral("closed_by"), toString(c.closedBy));
    if (c.closePhase != ClosePhase::None)
        o.insert(QStringLiteral("close_phase"), toString(c.closePhase));
    // ms after start_time (-1: not yet, or never); duration_ms runs until end_time, or now.
    const qint64 endMs = c.endMs > 0 ? c.endMs : QDateTime::currentMSecsSinceEpoch();
    o.insert(QStringLiteral("timers"),
             QJsonObject{{QStringLiteral("connect_ms"), c.connectMs},
                         {QStringLiteral("first_byte_up_ms"), c.firstByteUpMs},
                         {QStringLiteral("first_byte_down_ms"), c.firstByteDownMs},
                         {QStringLiteral("duration_ms"), qMax<qint64>(0, endMs - c.startMs)}});
    if (c.pausedUntilMs > 0)
        o.insert(QStringLiteral("paused_until"), c.pausedUntilMs);
    if (c.protocol == Protocol::Udp) {
        o.insert(QStringLiteral("datagrams_up"), count(c.datagramsUp));
        o.insert(QStringLiteral("datagrams_down"), count(c.datagramsDown));
    }
    if (c.mysql->detected) {
        QJsonObject mysql{
            {QStringLiteral("server_version"), c.mysql->serverVersion},
            {QStringLiteral("connection_id"), qint64(c.mysql->connectionId)},
            {QStringLiteral("user"), c.mysql->user},
            {QStringLiteral("database"), c.mysql->database},
            {QStringLiteral("tls"), c.mysql->tls},
            {QStringLiteral("commands"),
             c.mysql->commandsCounted ? count(c.mysql->commands) : QJsonValue(QJsonValue::Null)},
            {QStringLiteral("last_command"), c.mysql->lastCommand},
            {QStringLiteral("last_command_ms"), c.mysql->lastCommandMs},
        };
        // Statements followed: the one running now (null when none) and the last error.
        if (c.mysql->statementsFollowed) {
            mysql.insert(QStringLiteral("statement"), c.mysql->statement.isEmpty()
                                                          ? QJsonValue(QJsonValue::Null)
                                                          : QJsonValue(c.mysql->statement));
            if (!c.mysql->statement.isEmpty())
                mysql.insert(QStringLiteral("statement_since_ms"), c.mysql->statementSinceMs);
            if (!c.mysql->lastError.isEmpty())
                mysql.insert(QStringLiteral("last_error"), c.mysql->lastError);
            if (!c.mysql->notFollowed.isEmpty())
                mysql.insert(QStringLiteral("not_followed"), c.mysql->notFollowed);
        }
        o.insert(QStringLiteral("mysql"), mysql);
    }
    // A client of a listener with tls, or one whose database TLS Streamgate answered: its
    // handshake and who presented the certificate; one passed through (tls_passthrough): the
    // SNI it was routed by. Under "upstream", the server leg: the proxy's own handshake with an
    // upstream of scheme "tls" (also for a plain client), else {"tls": false}.
    if (c.tls->terminated || c.tls->passthrough || c.upstreamTls->used) {
        QJsonObject tls;
        if (c.tls->terminated) {
            tls = QJsonObject{{QStringLiteral("sni"), c.tls->sni},
                              {QStringLiteral("version"), c.tls->version},
                              {QStringLiteral("cipher"), c.tls->cipher},
                              {QStringLiteral("resumed"), c.tls->resumed},
                              {QStringLiteral("certificate"), c.tls->developmentCa
                                                                  ? QStringLiteral("development_ca")
                                                                  : QStringLiteral("ssl")}};
            if (!c.tls->clientCertificate.isEmpty())
                tls.insert(QStringLiteral("client_certificate"), c.tls->clientCertificate);
        } else if (c.tls->passthrough) {
            tls = QJsonObject{{QStringLiteral("sni"), c.tls->sni},
                              {QStringLiteral("passthrough"), true}};
        }
        if (c.upstreamTls->used) {
            const UpstreamTlsInfo& u = c.upstreamTls;
            tls.insert(QStringLiteral("upstream"),
                       QJsonObject{{QStringLiteral("tls"), true},
                                   {QStringLiteral("sni"), u.sni},
                                   {QStringLiteral("version"), u.version},
                                   {QStringLiteral("cipher"), u.cipher},
                                   {QStringLiteral("server_certificate"), u.serverCertificate},
                                   {QStringLiteral("verified"), u.verified},
                                   {QStringLiteral("client_certificate"), u.clientCertificate}});
        } else if (c.tls->terminated) {
            tls.insert(QStringLiteral("upstream"), QJsonObject{{QStringLiteral("tls"), false}});
        }
        o.insert(QStringLiteral("tls"), tls);
    }
    // A client of a route with mqtt-proxy: its MQTT CONNECT.
    if (c.mqtt->detected)
        o.insert(QStringLiteral("mqtt"),
                 QJsonObject{{QStringLiteral("client_id"), c.mqtt->clientId},
                             {QStringLiteral("protocol_name"), c.mqtt->protocolName},
                             {QStringLiteral("protocol_level"), c.mqtt->protocolLevel}});
    // A PostgreSQL client: its startup and login; with digests on, the statement running now
    // (null when none), the number of commands answered and the last error.
    if (c.postgres->detected) {
        const PostgresInfo& p = c.postgres;
        QJsonObject postgres{
            {QStringLiteral("user"), p.user},
            {QStringLiteral("database"), p.database},
            {QStringLiteral("application_name"), p.applicationName},
            {QStringLiteral("server_version"), p.serverVersion},
            {QStringLiteral("tls"), p.tls},
        };
        if (p.cancelRequest)
            postgres.insert(QStringLiteral("cancel_request"), true);
        if (!p.loginError.isEmpty())
            postgres.insert(QStringLiteral("login_error"), p.loginError);
        if (p.statementsFollowed) {
            postgres.insert(QStringLiteral("commands"), count(p.commands));
            postgres.insert(QStringLiteral("statement"), p.statement.isEmpty()
                                                             ? QJsonValue(QJsonValue::Null)
                                                             : QJsonValue(p.statement));
            if (!p.statement.isEmpty())
                postgres.insert(QStringLiteral("statement_since_ms"), p.statementSinceMs);
            if (!p.lastError.isEmpty())
                postgres.insert(QStringLiteral("last_error"), p.lastError);
        }
        if (!p.notFollowed.isEmpty())
            postgres.insert(QStringLiteral("not_followed"), p.notFollowed);
        o.insert(QStringLiteral("postgres"), postgres);
    }
    // Routes with protocol "redis": the command waiting for its reply (null when none), the
    // last one answered and the last error reply.
    if (c.redis->followed || !c.redis->notFollowed.isEmpty()) {
        QJsonObject redis{
            {QStringLiteral("commands"), count(c.redis->commands)},
            {QStringLiteral("command"), c.redis->command.isEmpty() ? QJsonValue(QJsonValue::Null)
                                                                   : QJsonValue(c.redis->command)},
            {QStringLiteral("last_command"), c.redis->lastCommand},
        };
        if (!c.redis->command.isEmpty())
            redis.insert(QStringLiteral("command_since_ms"), c.redis->commandSinceMs);
        if (!c.redis->lastError.isEmpty())
            redis.insert(QStringLiteral("last_error"), c.redis->lastError);
        if (!c.redis->notFollowed.isEmpty())
            redis.insert(QStringLiteral("not_followed"), c.redis->notFollowed);
        o.insert(QStringLiteral("redis"), redis);
    }
    return o;
}

QJsonObject routeCountersToJson(const RouteCounters& r)
{
    return QJsonObject{
        {QStringLiteral("route_id"), r.routeId},
        {QStringLiteral("total"), count(r.total)},
        {QStringLiteral("active"), count(r.active)},
        {QStringLiteral("max_active"), count(r.maxActive)},
        {QStringLiteral("denied_ip_restriction"), count(r.deniedIpRestriction)},
        {QStringLiteral("limited"), count(r.limited)},
        {QStringLiteral("delayed"), count(r.delayed)},
        {QStringLiteral("connect_failures"), count(r.connectFailures)},
        {QStringLiteral("timeouts"), count(r.timeouts)},
        {QStringLiteral("bytes_up"), count(r.bytesUp)},
        {QStringLiteral("bytes_down"), count(r.bytesDown)},
        {QStringLiteral("denied_datagrams"), count(r.deniedDatagrams)},
        {QStringLiteral("denied_bytes"), count(r.deniedBytes)},
    };
}

QJsonObject listenerToJson(const ListenerStatus& l)
{
    QJsonObject o{
        {QStringLiteral("protocol"), toString(l.protocol)},
        {QStringLiteral("address"), l.address},
        {QStringLiteral("port"), l.port},
        {QStringLiteral("listening"), l.listening},
        {QStringLiteral("no_route"), count(l.noRoute)},
        {QStringLiteral("no_descriptors"), count(l.noDescriptors)},
        {QStringLiteral("active"), count(l.active)},
        {QStringLiteral("bytes_up"), count(l.bytesUp)},
        {QStringLiteral("bytes_down"), count(l.bytesDown)},
    };
    if (!l.error.isEmpty())
        o.insert(QStringLiteral("error"), l.error);
    return o;
}

QJsonObject nodeToJson(const NodeStatus& n)
{
    QJsonObject o{
        {QStringLiteral("upstream"), n.upstream},        {QStringLiteral("node"), n.node},
        {QStringLiteral("active"), count(n.active)},     {QStringLiteral("total"), count(n.total)},
        {QStringLiteral("failures"), count(n.failures)}, {QStringLiteral("healthy"), n.healthy},
        {QStringLiteral("checked"), n.checked},
    };
    // Whether it answers a connect (null until first known), and why not.
    o.insert(QStringLiteral("upstream_reachable"),
             n.reach == NodeReach::Unknown ? QJsonValue(QJsonValue::Null)
                                           : QJsonValue(n.reach == NodeReach::Answering));
    if (n.reach == NodeReach::NotAnswering)
        o.insert(QStringLiteral("upstream_error"), n.reachError);
    return o;
}

QJsonObject eventToJson(const Event& e)
{
    QJsonObject o{
        {QStringLiteral("seq"), e.seq},
        {QStringLiteral("time"), e.timeMs},
        {QStringLiteral("kind"), toString(e.kind)},
        {QStringLiteral("route_id"), e.routeId},
        {QStringLiteral("text"), e.text},
    };
    if (e.kind == EventKind::Open || e.kind == EventKind::Close || e.kind == EventKind::Deny)
        o.insert(QStringLiteral("connection"), connectionToJson(e.connection));
    return o;
}

QJsonObject toxicToJson(const ToxicStatus& t)
{
    QJsonArray hitting;
    for (quint64 id : t.hitting)
        hitting.append(count(id));
    return QJsonObject{
        {QStringLiteral("route_id"), t.routeId},
        {QStringLiteral("name"), t.name},
        {QStringLiteral("type"), t.type},
        {QStringLiteral("stream"), t.stream},
        {QStringLiteral("enabled"), t.enabled},
        {QStringLiteral("hitting"), hitting},
        {QStringLiteral("hit_total"), count(t.hitTotal)},
        {QStringLiteral("bytes_held"), count(t.bytesHeld)},
    };
}

QJsonObject statsToJson(const Snapshot& s)
{
    QJsonArray routes;
    for (const RouteCounters& r : s.routes)
        routes.append(routeCountersToJson(r));
    QJsonArray listeners;
    for (const ListenerStatus& l : s.listeners)
        listeners.append(listenerToJson(l));
    QJsonArray nodes;
    for (const NodeStatus& n : s.nodes)
        nodes.append(nodeToJson(n));
    QJsonArray toxics;
    for (const ToxicStatus& t : s.toxics)
        toxics.append(toxicToJson(t));
    return QJsonObject{
        {QStringLiteral("taken"), s.takenMs},
        {QStringLiteral("routes"), routes},
        {QStringLiteral("listeners"), listeners},
        {QStringLiteral("nodes"), nodes},
        {QStringLiteral("toxics"), toxics},
        {QStringLiteral("last_event_seq"), s.lastEventSeq},
    };
}

} // namespace sg
