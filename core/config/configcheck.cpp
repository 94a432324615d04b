// Cross-object checks (references between routes, services, upstreams and listeners) and the
// read-only file check behind `streamgate --check` and ConfigStore::load().
#include "config/configstore.h"
#include "config/configutil_p.h"
#include "config/sslcheck.h"
#include "model/jsoncheck.h"
#include "model/settings.h"
#include "model/toxic.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QSet>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sg {

namespace {

bool hasPort(const QList<ListenEntry>& list, int port)
{
    for (const ListenEntry& e : list)
        if (e.hasPort(port))
            return true;
    return false;
}

// Two entries of one list that listen on a port of the same address (a port given singly and
// inside a range, or two overlapping ranges): nginx refuses a duplicate listen, so the config
// is refused, naming both entries. Entries that differ in address only ("9100" and
// "127.0.0.1:9100") are left to the listeners, as for single ports.
void checkListenerOverlaps(const Config& config, ConfigCheck& check)
{
    for (const bool tcp : {true, false}) {
        const QList<ListenEntry>& list = tcp ? config.streamProxy.tcp : config.streamProxy.udp;
        const QString base =
            tcp ? QStringLiteral("stream_proxy.tcp") : QStringLiteral("stream_proxy.udp");
        for (qsizetype i = 0; i < list.size(); ++i) {
            const ListenEntry& e = list.at(i);
            for (qsizetype j = 0; j < i; ++j) {
                const ListenEntry& other = list.at(j);
                if (!e.overlaps(other))
                    continue;
                check.errors << Problem{
                    detail::indexPath(base, i), e.text(),
                    QStringLiteral("%1 overlaps %2 (%3) at port %4: an address listens on a "
                                   "port only once (nginx refuses a duplicate listen), so a "
                                   "port may not be listed again, alone or in a range")
                        .arg(e.text(), detail::indexPath(base, j), other.text())
                        .arg(qMax(e.port, other.port))};
                break;
            }
        }
    }
}

// Toxics that mean nothing on the transport their route carries: slow_close, timeout,
// reset_peer, slicer and limit_data on a UDP route, loss on a TCP route. A route its
// server_port (or the lack of one) opens to both TCP and UDP may list either kind: each
// transport runs the toxics it can, and a warning says which sessions a toxic leaves alone.
void checkToxicTransports(const Config& config, ConfigCheck& check)
{
    if (!config.streamgate.toxics)
        return;
    const QString base = QLatin1String(settingkey::Section) + QStringLiteral(".toxics");
    for (auto it = config.streamgate.toxics->cbegin(); it != config.streamgate.toxics->cend();
         ++it) {
        const StreamRoute* route = config.findRoute(it.key());
        if (!route)
            continue;
        const bool tcp = route->serverPort ? hasPort(config.streamProxy.tcp, *route->serverPort)
                                           : !config.streamProxy.tcp.isEmpty();
        const bool udp = route->serverPort ? hasPort(config.streamProxy.udp, *route->serverPort)
                                           : !config.streamProxy.udp.isEmpty();
        if (!tcp && !udp)
            continue; // no listener reaches it: checkReferences warns already
        const QString where = route->serverPort
                                  ? QStringLiteral("server_port %1 is only in %2")
                                        .arg(*route->serverPort)
                                        .arg(udp ? QStringLiteral("stream_proxy.udp")
                                                 : QStringLiteral("stream_proxy.tcp"))
                                  : QStringLiteral("the only listeners are in %1")
                                        .arg(udp ? QStringLiteral("stream_proxy.udp")
                                                 : QStringLiteral("stream_proxy.tcp"));
        const QString routePath = detail::childPath(base, it.key());
        for (qsizetype i = 0; i < it.value().size(); ++i) {
            const ToxicSpec& toxic = it.value().at(i);
            const QString onUdp = toxicUnsupportedReason(toxic.type, true);
            const QString onTcp = toxicUnsupportedReason(toxic.type, false);
            const QString path = detail::indexPath(routePath, i) + QStringLiteral(".type");
            const QString type = toxicTypeName(toxic.type);
            if (udp && tcp) {
                if (!onUdp.isEmpty() || !onTcp.isEmpty())
                    check.warnings << Problem{
                        path, type,
                        QStringLiteral("%1 toxic \"%2\" acts only on the %3 sessions of "
                                       "stream_route [%4], which takes TCP and UDP: %5")
                            .arg(type, toxic.name,
                                 onUdp.isEmpty() ? QStringLiteral("UDP") : QStringLiteral("TCP"),
                                 it.key(), onUdp.isEmpty() ? onTcp : onUdp)};
                continue;
            }
            const QString reason = udp ? onUdp : onTcp;
            if (!reason.isEmpty())
                check.errors << Problem{
                    path, type,
                    QStringLiteral("%1 toxic \"%2\" cannot run on stream_route [%3], a %4 "
                                   "route (%5): %6")
                        .arg(type, toxic.name, it.key(),
                             udp ? QStringLiteral("UDP") : QStringLiteral("TCP"), where, reason)};
        }
    }
}

// Each weighted_upstreams entry of a route's or service's traffic-split, with its path.
template <typename Visit>
void forEachSplitUpstream(const Plugins& plugins, const QString& at, const Visit& visit)
{
    if (!plugins.trafficSplit)
        return;
    const QString rulesPath = detail::childPath(detail::childPath(at, QStringLiteral("plugins")),
                                                QStringLiteral("traffic-split")) +
                              QStringLiteral(".rules");
    const QList<TrafficSplitRule>& rules = plugins.trafficSplit->rules;
    for (qsizetype r = 0; r < rules.size(); ++r) {
        const QString upsPath =
            detail::indexPath(rulesPath, r) + QStringLiteral(".weighted_upstreams");
        for (qsizetype e = 0; e < rules.at(r).weightedUpstreams.size(); ++e)
            visit(rules.at(r).weightedUpstreams.at(e), detail::indexPath(upsPath, e));
    }
}

// What APISIX accepts on a stream route or upstream that this Streamgate does not run yet is
// refused by name, never stored and ignored (a route's protocol, APISIX's xRPC, would be passed
// through as raw bytes: see the codec); traffic-split's inline upstreams run as APISIX runs them.
void checkUnsupported(const Config& config, ConfigCheck& check)
{
    // traffic-split's inline upstreams run as APISIX runs them: what it leaves out is said.
    const auto checkSplit = [&](const TrafficSplitUpstream& w, const QString& path) {
        if (!w.upstream)
            return;
        const QString upPath = path + QStringLiteral(".upstream");
        const Upstream& up = *w.upstream;
        QStringList unused;
        if (up.checks)
            unused << QStringLiteral("checks");
        if (up.retries)
            unused << QStringLiteral("retries");
        if (up.retryTimeout)
            unused << QStringLiteral("retry_timeout");
        if (up.tls)
            unused << QStringLiteral("tls");
        if (!unused.isEmpty() && (w.upstreamId.isUndefined() || w.upstreamId.isNull()))
            check.warnings << Problem{
                upPath, unused.join(QStringLiteral(", ")),
                QStringLiteral("not used: as in APISIX, traffic-split runs an inline upstream "
                               "with its name, type, hash_on, key, nodes, timeout and scheme "
                               "only (no health checks, no tls; retries: one per other node); "
                               "give the "
                               "upstream an id and name it in upstream_id to keep them")};
    };
    for (qsizetype i = 0; i < config.services.size(); ++i)
        forEachSplitUpstream(config.services.at(i).plugins, QStringLiteral("services[%1]").arg(i),
                             checkSplit);
    for (qsizetype i = 0; i < config.streamRoutes.size(); ++i)
        forEachSplitUpstream(config.streamRoutes.at(i).plugins,
                             QStringLiteral("stream_routes[%1]").arg(i), checkSplit);
}

// checks.active without a type probes over HTTP, as in APISIX (where "http" is the default):
// said, since a node that does not answer HTTP, a database for one, is then marked down.
void checkUntypedHealthChecks(const Config& config, ConfigCheck& check)
{
    const auto checkUpstream = [&check](const Upstream& up, const QString& path) {
        if (!up.checks || up.checks->explicitFields.contains(QStringLiteral("type")))
            return;
        check.warnings << Problem{
            path + QStringLiteral(".checks.active"), QString(),
            QStringLiteral("checks.active has no type, so as in APISIX its nodes are probed over "
                           "HTTP (\"%1 %2 HTTP/1.1\") and a node that does not answer HTTP, such "
                           "as a database, is marked down; write \"type\": \"tcp\" to probe with "
                           "a plain connect, or \"type\": \"http\"")
                .arg(up.checks->httpMethod(), up.checks->httpPath())};
    };
    for (qsizetype i = 0; i < config.upstreams.size(); ++i)
        checkUpstream(config.upstreams.at(i), QStringLiteral("upstreams[%1]").arg(i));
    for (qsizetype i = 0; i < config.services.size(); ++i) {
        if (config.services.at(i).upstream)
            checkUpstream(*config.services.at(i).upstream,
                          QStringLiteral("services[%1].upstream").arg(i));
    }
    for (qsizetype i = 0; i < config.streamRoutes.size(); ++i) {
        if (config.streamRoutes.at(i).upstream)
            checkUpstream(*config.streamRoutes.at(i).upstream,
                          QStringLiteral("stream_routes[%1].upstream").arg(i));
    }
}

// Ids of objects in the file even though they failed to decode: a reference to one of those
// is not reported a second time as dangling.
struct KnownIds
{
    QSet<QString> upstreams;
    QSet<QString> services;
};

// upstream_id of a route or service names an upstream. One that names nothing is valid, as in
// APISIX (whose admin API deletes an upstream stream routes still name, and force-deletes any),
// and warned about: the sessions that need it are closed.
void checkUpstreamId(const Config& config, const KnownIds& known, const QJsonValue& reference,
                     const QString& at, const QString& who, ConfigCheck& check)
{
    const QString upstreamId = idText(reference);
    if (upstreamId.isEmpty() || config.findUpstream(upstreamId) ||
        known.upstreams.contains(upstreamId))
        return;
    check.warnings << Problem{at + QStringLiteral(".upstream_id"), upstreamId,
                              QStringLiteral("failed to fetch upstream info by upstream id [%1]: "
                                             "no upstream has this id (used by %2); the "
                                             "connections that need it are closed at once")
                                  .arg(upstreamId, who)};
}

// An upstream without nodes is valid in APISIX's schema; nothing can be reached through it.
void checkNodes(const Upstream& upstream, const QString& at, const QString& who, ConfigCheck& check)
{
    if (upstream.nodes.isEmpty())
        check.warnings << Problem{at + QStringLiteral(".nodes"), QString(),
                                  QStringLiteral("%1 has no nodes: the connections that need it "
                                                 "are closed at once")
                                      .arg(who)};
}

void checkServices(const Config& config, const KnownIds& known, ConfigCheck& check)
{
    for (qsizetype i = 0; i < config.upstreams.size(); ++i)
        checkNodes(config.upstreams.at(i), QStringLiteral("upstreams[%1]").arg(i),
                   QStringLiteral("upstream [%1]").arg(config.upstreams.at(i).idString()), check);
    for (qsizetype i = 0; i < config.services.size(); ++i) {
        const Service& service = config.services.at(i);
        const QString at = QStringLiteral("services[%1]").arg(i);
        const QString id = service.idString();
        const QString who = id.isEmpty() ? at : QStringLiteral("service [%1]").arg(id);
        checkUpstreamId(config, known, service.upstreamId, at, who, check);
        if (service.upstream)
            checkNodes(*service.upstream, at + QStringLiteral(".upstream"),
                       QStringLiteral("the upstream of %1").arg(who), check);
        forEachSplitUpstream(
            service.plugins, at, [&](const TrafficSplitUpstream& w, const QString& path) {
                checkUpstreamId(config, known, w.upstreamId, path,
                                QStringLiteral("traffic-split of %1").arg(who), check);
            });
    }
}

ConfigCheck checkReferences(const Config& config, const KnownIds& known)
{
    ConfigCheck check;
    checkServices(config, known, check);
    checkListenerOverlaps(config, check);

    for (qsizetype i = 0; i < config.streamRoutes.size(); ++i) {
        const StreamRoute& route = config.streamRoutes.at(i);
        const QString at = QStringLiteral("stream_routes[%1]").arg(i);
        const QString routeId = route.idString();
        // A route whose id itself failed to decode is named by its place in the list.
        const QString who =
            routeId.isEmpty() ? at : QStringLiteral("stream_route [%1]").arg(routeId);

        checkUpstreamId(config, known, route.upstreamId, at, who, check);
        forEachSplitUpstream(
            route.plugins, at, [&](const TrafficSplitUpstream& w, const QString& path) {
                checkUpstreamId(config, known, w.upstreamId, path,
                                QStringLiteral("traffic-split of %1").arg(who), check);
            });
        const QString serviceId = idText(route.serviceId);
        const Service* service = config.findService(serviceId);
        const bool ownUpstreamId = !idText(route.upstreamId).isEmpty();
        if (!serviceId.isEmpty() && !service && !known.services.contains(serviceId)) {
            if (!ownUpstreamId) // APISIX then never looks for the service
                check.warnings << Problem{
                    at + QStringLiteral(".service_id"), serviceId,
                    QStringLiteral("failed to fetch service info by service id [%1]: no service "
                                   "has this id (used by %2); its connections are closed at once")
                        .arg(serviceId, who)};
        } else if (service && ownUpstreamId && !service->plugins.empty()) {
            check.warnings << Problem{
                at + QStringLiteral(".service_id"), serviceId,
                QStringLiteral("%1 has an upstream_id of its own: as in APISIX, the plugins of "
                               "service [%2] do not apply to it")
                    .arg(who, serviceId)};
        }
        // Nothing named at all (a name that finds nothing is warned about above).
        const bool namesUpstream =
            ownUpstreamId || route.upstream ||
            (service && (service->upstream || !idText(service->upstreamId).isEmpty()));
        if (!namesUpstream && service)
            check.warnings << Problem{
                at + QStringLiteral(".service_id"), serviceId,
                QStringLiteral("neither %1 nor service [%2] has an upstream or upstream_id: its "
                               "connections are closed at once")
                    .arg(who, serviceId)};
        else if (!namesUpstream && serviceId.isEmpty() && !route.plugins.trafficSplit)
            check.warnings << Problem{at, QString(),
                                      QStringLiteral("%1 has no upstream, upstream_id or "
                                                     "service_id: its connections are closed "
                                                     "at once")
                                          .arg(who)};
        if (route.upstream)
            checkNodes(*route.upstream, at + QStringLiteral(".upstream"),
                       QStringLiteral("the upstream of %1").arg(who), check);
        if (route.serverPort && !hasPort(config.streamProxy.tcp, *route.serverPort) &&
            !hasPort(config.streamProxy.udp, *route.serverPort)) {
            check.warnings << Problem{
                at + QStringLiteral(".server_port"), QString::number(*route.serverPort),
                QStringLiteral("no listener in stream_proxy.tcp or stream_proxy.udp has port "
                               "%1: %2 can never match")
                    .arg(*route.serverPort)
                    .arg(who)};
        }
        if (const StreamRoute runs = config.effectiveRoute(route);
            runs.plugins.syslog && !runs.plugins.syslog->logFormat) {
            check.warnings << Problem{
                at + QStringLiteral(".plugins.syslog"), QString(),
                QStringLiteral("%1's syslog has no log_format and plugin_metadata gives it none: "
                               "as in APISIX, it logs nothing")
                    .arg(who)};
        }
    }
    checkUnsupported(config, check);
    checkSsls(config, check);
    checkUntypedHealthChecks(config, check);
    checkToxicTransports(config, check);
    if (config.streamProxy.tcp.isEmpty() && config.streamProxy.udp.isEmpty() &&
        !config.streamRoutes.isEmpty()) {
        check.warnings << Problem{QStringLiteral("stream_proxy"), QString(),
                                  QStringLiteral("no listener in stream_proxy.tcp or "
                                                 "stream_proxy.udp: no stream_route can ever "
                                                 "match")};
    }
    return check;
}

QSet<QString> rawIds(const QJsonObject& root, const QString& section)
{
    QSet<QString> ids;
    const QJsonArray items = root.value(section).toArray();
    for (const QJsonValue& u : items) {
        const QString id = idText(u.toObject().value(QStringLiteral("id")));
        if (!id.isEmpty())
            ids.insert(id);
    }
    return ids;
}

Problem syntaxProblem(const QString& path, const QByteArray& bytes, const QJsonParseError& error)
{
    // Qt reports the offset just past the character it choked on, except for trailing garbage
    // and malformed numbers, where it points at the character itself.
    qsizetype pos = error.offset;
    if (error.error != QJsonParseError::GarbageAtEnd &&
        error.error != QJsonParseError::IllegalNumber)
        --pos;
    pos = qBound(qsizetype(0), pos, bytes.size());
    int line = 1;
    qsizetype lineStart = 0;
    for (qsizetype i = 0; i < pos; ++i) {
        if (bytes.at(i) == '\n') {
            ++line;
            lineStart = i + 1;
        }
    }
    // Columns count characters, not UTF-8 bytes, as editors do.
    const qsizetype column = QString::fromUtf8(bytes.mid(lineStart, pos - lineStart)).size() + 1;
    qsizetype lineEnd = bytes.indexOf('\n', lineStart);
    if (lineEnd < 0)
        lineEnd = bytes.size();
    QString lineText = QString::fromUtf8(bytes.mid(lineStart, lineEnd - lineStart)).trimmed();
    if (lineText.size() > 80)
        lineText = lineText.left(77) + QStringLiteral("...");
    return Problem{QString(), lineText,
                   QStringLiteral("%1:%2:%3: JSON syntax error: %4")
                       .arg(path)
                       .arg(line)
                       .arg(column)
                       .arg(error.errorString())};
}

} // namespace

ConfigCheck checkConfig(const Config& config)
{
    return checkReferences(config, {});
}

FileCheck checkFile(const QString& path)
{
    QByteArray bytes;
    return detail::readAndCheckFile(path, &bytes);
}

namespace detail {

namespace {

QString fileKind(mode_t mode)
{
    if (S_ISDIR(mode))
        return QStringLiteral("it is a directory");
    if (S_ISFIFO(mode))
        return QStringLiteral("it is a FIFO (named pipe), not a regular file");
    if (S_ISCHR(mode))
        return QStringLiteral("it is a character device, not a regular file");
    if (S_ISBLK(mode))
        return QStringLiteral("it is a block device, not a regular file");
    if (S_ISSOCK(mode))
        return QStringLiteral("it is a socket, not a regular file");
    return QStringLiteral("it is not a regular file");
}

QString tooBig(qint64 size)
{
    return QStringLiteral("it is %1 bytes; a config file may have at most %2 bytes (16 MiB)")
        .arg(size)
        .arg(kMaxConfigFileBytes);
}

} // namespace

QString readConfigBytes(const QString& path, QByteArray* bytes)
{
    bytes->clear();
    // O_NONBLOCK: opening a FIFO must not wait for a writer; the type is checked right after.
    const int fd = ::open(QFile::encodeName(path).constData(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return QString::fromLocal8Bit(std::strerror(errno));
    struct stat st = {};
    QString error;
    if (::fstat(fd, &st) != 0)
        error = QString::fromLocal8Bit(std::strerror(errno));
    else if (!S_ISREG(st.st_mode))
        error = fileKind(st.st_mode);
    else if (st.st_size > kMaxConfigFileBytes)
        error = tooBig(st.st_size);
    if (error.isEmpty()) {
        // Bounded even if the file grows while it is read.
        bytes->resize(qsizetype(st.st_size) + 1);
        qsizetype done = 0;
        for (;;) {
            if (done == bytes->size()) {
                if (done > kMaxConfigFileBytes) {
                    error = tooBig(done);
                    break;
                }
                bytes->resize(qMin(bytes->size() * 2, kMaxConfigFileBytes + 1));
            }
            const ssize_t n = ::read(fd, bytes->data() + done, size_t(bytes->size() - done));
            if (n > 0)
                done += n;
            else if (n == 0)
                break;
            else if (errno != EINTR) {
                error = QString::fromLocal8Bit(std::strerror(errno));
                break;
            }
        }
        bytes->truncate(done);
    }
    ::close(fd);
    if (!error.isEmpty())
        bytes->clear();
    return error;
}

FileCheck readAndCheckFile(const QString& path, QByteArray* bytes)
{
    if (const QString why = readConfigBytes(path, bytes); !why.isEmpty()) {
        FileCheck result{LoadResult::Status::Unreadable, Config{}, {}, {}};
        result.problems << Problem{QString(), path,
                                   QStringLiteral("cannot read %1: %2").arg(path, why)};
        return result;
    }
    return checkBytes(path, *bytes);
}

FileCheck checkBytes(const QString& path, const QByteArray& bytes)
{
    FileCheck result{LoadResult::Status::SyntaxError, Config{}, {}, {}};
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(bytes, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        result.problems << syntaxProblem(path, bytes, parseError);
        return result;
    }
    result.status = LoadResult::Status::Invalid;
    if (!doc.isObject()) {
        result.problems << Problem{
            QString(), QString(),
            QStringLiteral("%1: the top level must be a JSON object").arg(path)};
        return result;
    }

    const QJsonObject root = doc.object();
    Decoded<Config> decoded = decodeConfig(root);
    const ConfigCheck check =
        checkReferences(decoded.value, KnownIds{rawIds(root, QStringLiteral("upstreams")),
                                                rawIds(root, QStringLiteral("services"))});
    result.problems = detail::duplicateKeys(bytes) + decoded.problems + check.errors;
    result.warnings = check.warnings;
    if (result.problems.isEmpty()) {
        result.status = LoadResult::Status::Loaded;
        result.config = std::move(decoded.value);
    }
    return result;
}

} // namespace detail

} // namespace sg
