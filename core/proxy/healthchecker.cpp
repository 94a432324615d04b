#include "proxy/healthchecker.h"

#include "proxy/balancer.h"
#include "proxy/probesocket.h"

#include <QHostAddress>
#include <QPointer>
#include <QTcpSocket>
#include <QTimer>
#include <functional>
#include <map>
#include <optional>

namespace sg {

namespace {

using Result = HealthChecker::Result;

int seconds2ms(double seconds)
{
    return qBound(1, int(seconds * 1000), 24 * 3600 * 1000);
}

// The results that set a node's state, as the active or the passive check counts them.
struct Limits
{
    int successes = 0;
    int tcpFailures = 0;
    int httpFailures = 0;
    int timeouts = 0;
};

// lua-resty-healthcheck's counters are 8 bits wide; the limits stop at 254.
constexpr int kCounterMax = 255;

bool isHttpSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

// The status of an answer's first line as lua-resty-healthcheck reads it: "HTTP/" in any case,
// digits, a dot, digits, blanks, then the status digits (what follows them does not matter).
// 0 when the line is no status line, which lua-resty-healthcheck counts as an HTTP failure. A
// status of more digits is held at 1000000, which no list can hold.
int statusOf(QByteArrayView line)
{
    qsizetype i = 0;
    const auto digits = [&] {
        const qsizetype from = i;
        while (i < line.size() && line.at(i) >= '0' && line.at(i) <= '9')
            ++i;
        return i > from;
    };
    if (line.size() < 5 || qstrnicmp(line.data(), 5, "HTTP/", 5) != 0)
        return 0;
    i = 5;
    if (!digits() || i >= line.size() || line.at(i) != '.')
        return 0;
    ++i;
    if (!digits())
        return 0;
    const qsizetype blanks = i;
    while (i < line.size() && isHttpSpace(line.at(i)))
        ++i;
    if (i == blanks)
        return 0;
    int status = 0;
    const qsizetype from = i;
    for (; i < line.size() && line.at(i) >= '0' && line.at(i) <= '9'; ++i)
        status = qMin(status * 10 + (line.at(i) - '0'), 1000000);
    return i > from ? status : 0;
}

} // namespace

// One node's probe loop. Owned by the HealthChecker (as a QObject child, deleted with
// deleteLater so a probe may be dropped from inside its own callback).
class NodeProbe : public QObject
{
public:
    // changed: the node went from taking traffic to refusing it, or back.
    using Done = std::function<void(NodeProbe*, bool passed, bool changed)>;

    NodeProbe(const QString& nodeAddress, int intervalSecondMs, Done done, QObject* parent)
        : QObject(parent), address(nodeAddress), m_intervalSecondMs(intervalSecondMs),
          m_done(std::move(done))
    {
        m_timer.setSingleShot(false);
        m_timeout.setSingleShot(true);
        connect(&m_timer, &QTimer::timeout, this, &NodeProbe::probe);
        connect(&m_timeout, &QTimer::timeout, this, [this] { finish(Result::Timeout); });
    }

    ~NodeProbe() override { dropSocket(); }

    void configure(const ActiveHealthCheck& checks)
    {
        const bool first = !m_configured;
        m_configured = true;
        m_checks = checks;
        if (first)
            QTimer::singleShot(0, this, &NodeProbe::probe);
        schedule();
    }

    // Takes effect from the next probe; the node's state is kept. hostHeader: the Host of
    // HTTP probes.
    void setTarget(const QString& host, quint16 port, const QString& hostHeader)
    {
        m_host = host;
        m_port = port;
        m_hostHeader = hostHeader;
    }

    void stop()
    {
        m_stopped = true;
        m_timer.stop();
        m_timeout.stop();
        dropSocket();
    }

    // lua-resty-healthcheck's incr_counter: one counter per kind of result, a limit for each
    // (0: that result is not counted). True when the node went from taking traffic to refusing
    // it, or back.
    bool count(Result result, const Limits& limits)
    {
        const bool success = result == Result::Success;
        const NodeHealth report = success ? NodeHealth::Healthy : NodeHealth::Unhealthy;
        if (state.health == report)
            return false; // nothing to learn: a success on a healthy node, a failure on a down one
        int* counter = &state.successes;
        int limit = limits.successes;
        switch (result) {
        case Result::Success:
            break;
        case Result::TcpFailure:
            counter = &state.tcpFailures;
            limit = limits.tcpFailures;
            break;
        case Result::HttpFailure:
            counter = &state.httpFailures;
            limit = limits.httpFailures;
            break;
        case Result::Timeout:
            counter = &state.timeouts;
            limit = limits.timeouts;
            break;
        }
        if (limit <= 0)
            return false;
        const bool before = state.healthy();
        *counter = qMin(*counter + 1, kCounterMax);
        state.last = result;
        if (success) {
            state.tcpFailures = 0;
            state.httpFailures = 0;
            state.timeouts = 0;
        } else {
            state.successes = 0;
        }
        if (*counter >= limit)
            state.health = report;
        else if (state.health == NodeHealth::Healthy && !success)
            state.health = NodeHealth::MostlyHealthy;
        else if (state.health == NodeHealth::Unhealthy && success)
            state.health = NodeHealth::MostlyUnhealthy;
        const bool changed = state.healthy() != before;
        if (changed)
            schedule();
        return changed;
    }

    const QString address; // the node's "host:port" (the probed port may differ)
    HealthChecker::NodeState state;

private:
    // healthy.interval while up, unhealthy.interval while down; 0 disables checks in that
    // state, as in lua-resty-healthcheck.
    void schedule()
    {
        const int interval =
            state.healthy() ? m_checks.healthyInterval : m_checks.unhealthyInterval;
        if (m_stopped || interval <= 0) {
            m_timer.stop();
            return;
        }
        if (!m_timer.isActive() || m_timer.interval() != interval * m_intervalSecondMs)
            m_timer.start(interval * m_intervalSecondMs);
    }

    void probe()
    {
        if (m_stopped || m_socket)
            return; // the previous probe is still running (timeout above the interval)
        m_socket = new QTcpSocket(this);
        m_answer.clear();
        connect(m_socket, &QTcpSocket::connected, this, &NodeProbe::onConnected);
        connect(m_socket, &QTcpSocket::readyRead, this, &NodeProbe::readAnswer);
        connect(m_socket, &QTcpSocket::errorOccurred, this,
                [this](QAbstractSocket::SocketError error) {
                    // Bytes that came with the close may hold the whole status line.
                    if (m_socket && m_socket->bytesAvailable() > 0 && readAnswer())
                        return;
                    finish(error == QAbstractSocket::SocketTimeoutError ? Result::Timeout
                                                                        : Result::TcpFailure);
                });
        m_timeout.start(seconds2ms(m_checks.timeout));
        m_socket->connectToHost(m_host, m_port);
    }

    void onConnected()
    {
        if (!m_checks.http()) {
            finish(Result::Success);
            return;
        }
        // As lua-resty-healthcheck's socket timeout, checks.active.timeout applies to each
        // step: the connect, then the request and its status line.
        m_timeout.start(seconds2ms(m_checks.timeout));
        m_socket->setReadBufferSize(HealthChecker::kMaxStatusLine);
        m_socket->write(request());
    }

    QByteArray request() const
    {
        QByteArray r = m_checks.httpMethod().toUtf8() + ' ' + m_checks.httpPath().toUtf8() +
                       " HTTP/1.1\r\nConnection: close\r\n";
        const QByteArray headers = m_checks.reqHeaders().join(QStringLiteral("\r\n")).toUtf8();
        if (!headers.isEmpty())
            r += headers + "\r\n";
        r += "Host: " + m_hostHeader.toUtf8() + "\r\n";
        const QByteArray body = m_checks.httpReqBody().toUtf8();
        if (!body.isEmpty())
            r += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
        return r + "\r\n" + body;
    }

    // Reads what the answer has so far, up to kMaxStatusLine bytes; judges the status line once
    // it is whole, or once that many bytes came without its end. True when the probe finished.
    bool readAnswer()
    {
        if (!m_socket || !m_checks.http())
            return false;
        const qsizetype room = HealthChecker::kMaxStatusLine - m_answer.size();
        m_answer += m_socket->read(room);
        qsizetype end = m_answer.indexOf('\n');
        if (end < 0) {
            if (m_answer.size() < HealthChecker::kMaxStatusLine)
                return false;
            end = m_answer.size();
        }
        QByteArrayView line(m_answer.constData(), end);
        if (line.endsWith('\r'))
            line.chop(1);
        const int status = statusOf(line);
        if (m_checks.healthyHttpStatuses().contains(status))
            finish(Result::Success);
        else if (status == 0 || m_checks.unhealthyHttpStatuses().contains(status))
            finish(Result::HttpFailure);
        else
            finish(std::nullopt); // a status in neither list counts nothing
        return true;
    }

    // result: what the probe counts as; nullopt when it counts nothing.
    void finish(std::optional<Result> result)
    {
        if (!m_socket)
            return;
        m_timeout.stop();
        dropSocket();
        const bool changed =
            result &&
            count(*result, {m_checks.healthySuccesses, m_checks.unhealthyTcpFailures,
                            m_checks.unhealthyHttpFailures(), m_checks.unhealthyTimeouts()});
        m_done(this, result == Result::Success, changed);
    }

    void dropSocket() { dropProbeSocket(m_socket, this); }

    QString m_host;
    quint16 m_port = 0;
    QString m_hostHeader;
    int m_intervalSecondMs;
    Done m_done;
    ActiveHealthCheck m_checks;
    QTimer m_timer;
    QTimer m_timeout;
    QTcpSocket* m_socket = nullptr;
    QByteArray m_answer; // the start of an HTTP probe's answer, at most kMaxStatusLine bytes
    bool m_configured = false;
    bool m_stopped = false;
};

struct HealthChecker::Watched
{
    ActiveHealthCheck checks;
    std::optional<PassiveHealthCheck> passive;
    std::shared_ptr<Balancer> balancer;
    QHash<QString, QList<int>> indexes;   // node address -> indexes into upstream.nodes
    std::map<QString, NodeProbe*> probes; // node address -> probe (a child of the checker)
};

HealthChecker::HealthChecker(QObject* parent) : QObject(parent) {}

HealthChecker::~HealthChecker()
{
    for (const auto& watched : std::as_const(m_watched)) {
        for (const auto& [address, probe] : watched->probes)
            probe->stop();
    }
}

void HealthChecker::watch(const QString& upstreamKey, const Upstream& upstream,
                          std::shared_ptr<Balancer> balancer)
{
    if (!upstream.checks) {
        unwatch(upstreamKey);
        return;
    }
    std::shared_ptr<Watched>& slot = m_watched[upstreamKey];
    if (!slot)
        slot = std::make_shared<Watched>();
    Watched& watched = *slot;
    watched.checks = *upstream.checks;
    watched.passive = upstream.passiveChecks;
    watched.balancer = std::move(balancer);

    // APISIX's checks.active.port probes another port than the traffic one.
    const int portOverride = upstream.checks->port();
    const QString checkHost = upstream.checks->host();

    struct Target
    {
        QString host;
        quint16 port = 0;
        QString hostHeader;
    };
    watched.indexes.clear();
    QHash<QString, Target> targets;
    for (int i = 0; i < upstream.nodes.size(); ++i) {
        const Node& node = upstream.nodes.at(i);
        const QString address = node.address();
        watched.indexes[address].append(i);
        // APISIX sends a host name node's name as Host (the name it resolved), else
        // checks.active.host, else the address; an IPv6 address in brackets, as a Host must be.
        const bool ip = !QHostAddress(node.host).isNull();
        QString hostHeader = ip && !checkHost.isEmpty() ? checkHost : node.host;
        if (ip && checkHost.isEmpty() && node.host.contains(QLatin1Char(':')))
            hostHeader = QLatin1Char('[') + node.host + QLatin1Char(']');
        targets.insert(
            address,
            Target{node.host, quint16(portOverride > 0 ? portOverride : node.port), hostHeader});
    }

    for (auto it = watched.probes.begin(); it != watched.probes.end();) {
        if (targets.contains(it->first)) {
            ++it;
            continue;
        }
        it->second->stop();
        it->second->deleteLater();
        it = watched.probes.erase(it);
    }

    for (auto it = targets.cbegin(); it != targets.cend(); ++it) {
        const QString& address = it.key();
        NodeProbe*& probe = watched.probes[address];
        if (!probe) {
            probe = new NodeProbe(
                address, m_intervalSecondMs,
                [this, upstreamKey](NodeProbe* p, bool passed, bool changed) {
                    onProbeFinished(upstreamKey, p, passed, changed);
                },
                this);
        }
        probe->setTarget(it->host, it->port, it->hostHeader);
        probe->configure(watched.checks);
        pushState(watched, address, probe->state.healthy());
    }
}

void HealthChecker::unwatch(const QString& upstreamKey)
{
    const auto watched = m_watched.take(upstreamKey);
    if (!watched)
        return;
    for (const auto& [address, probe] : watched->probes) {
        probe->stop();
        probe->deleteLater();
    }
}

void HealthChecker::retainOnly(const QStringList& keys)
{
    const QStringList current = m_watched.keys();
    for (const QString& key : current) {
        if (!keys.contains(key))
            unwatch(key);
    }
}

void HealthChecker::reportFailure(const QString& upstreamKey, const QString& nodeAddress,
                                  bool timedOut)
{
    bool first = false;
    {
        const std::lock_guard<std::mutex> lock(m_reportsLock);
        first = m_reports.empty();
        m_reports.push_back(Report{upstreamKey, nodeAddress, timedOut});
    }
    // One wake-up for a burst of reports; by name, so nothing made on this thread crosses over.
    if (first)
        QMetaObject::invokeMethod(this, "takeReports", Qt::QueuedConnection);
}

void HealthChecker::takeReports()
{
    std::vector<Report> reports;
    {
        const std::lock_guard<std::mutex> lock(m_reportsLock);
        reports.swap(m_reports);
    }
    QPointer<HealthChecker> self(this);
    for (const Report& r : reports) {
        if (!self)
            return; // a receiver deleted the checker
        const auto watched = m_watched.value(r.upstreamKey);
        if (!watched || !watched->passive)
            continue;
        const auto it = watched->probes.find(r.nodeAddress);
        if (it == watched->probes.end())
            continue;
        NodeProbe* probe = it->second;
        const PassiveHealthCheck& passive = *watched->passive;
        const bool changed =
            probe->count(r.timedOut ? Result::Timeout : Result::TcpFailure,
                         {0, passive.unhealthyTcpFailures, 0, passive.unhealthyTimeouts});
        const bool healthy = probe->state.healthy();
        if (changed)
            pushState(*watched, r.nodeAddress, healthy);
        Q_EMIT nodeReported(r.upstreamKey, r.nodeAddress, r.timedOut);
        if (self && changed)
            Q_EMIT nodeHealthChanged(r.upstreamKey, r.nodeAddress, healthy);
    }
}

QStringList HealthChecker::watchedUpstreams() const
{
    return m_watched.keys();
}

std::optional<HealthChecker::NodeState> HealthChecker::nodeState(const QString& upstreamKey,
                                                                 const QString& nodeAddress) const
{
    const auto watched = m_watched.value(upstreamKey);
    if (!watched)
        return std::nullopt;
    const auto it = watched->probes.find(nodeAddress);
    if (it == watched->probes.end())
        return std::nullopt;
    return it->second->state;
}

void HealthChecker::onProbeFinished(const QString& upstreamKey, NodeProbe* probe, bool passed,
                                    bool changed)
{
    const auto watched = m_watched.value(upstreamKey);
    if (!watched)
        return;
    const auto it = watched->probes.find(probe->address);
    if (it == watched->probes.end() || it->second != probe)
        return; // a probe that a reconfiguration dropped
    if (changed)
        pushState(*watched, probe->address, probe->state.healthy());
    const QString address = probe->address;
    const bool healthy = probe->state.healthy();
    // A receiver may reconfigure or delete this checker; nothing after the emits touches it.
    QPointer<HealthChecker> self(this);
    Q_EMIT nodeProbed(upstreamKey, address, passed);
    if (self && changed)
        Q_EMIT nodeHealthChanged(upstreamKey, address, healthy);
}

void HealthChecker::pushState(const Watched& watched, const QString& nodeAddress,
                              bool healthy) const
{
    if (!watched.balancer)
        return;
    for (int index : watched.indexes.value(nodeAddress))
        watched.balancer->setHealthy(index, healthy);
}

} // namespace sg
