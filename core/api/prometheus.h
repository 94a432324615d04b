#pragma once
// Prometheus text exposition (format 0.0.4) of an engine snapshot. APISIX's own stream metric
// (apisix_stream_connection_total{route}) keeps its name so existing dashboards work, and its
// route label follows the route's prometheus plugin (prefer_name) as in APISIX; what APISIX
// does not measure for streams is named streamgate_* and always labelled with the route id.
// Every configured route, listener and node has its series even before the first connection,
// so rate() has a starting point.

#include "api/httpendpoint.h"
#include "api/httpfront.h"
#include "model/streamroute.h"
#include "stats/snapshot.h"

#include <QByteArray>
#include <QHostAddress>
#include <QObject>
#include <QString>
#include <memory>

namespace sg {

class ConfigStore;
class Engine;

QByteArray renderPrometheus(const Snapshot& snapshot, const Config& config);

// Serves GET /apisix/prometheus/metrics on its own listener (APISIX's default
// 127.0.0.1:9091, setting streamgate.prometheus.listen). No key: like APISIX's exporter it is
// meant for loopback or a scraper's network; a non-loopback address is logged as a warning.
class MetricsServer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MetricsServer)

public:
    static constexpr const char* kDefaultListen = "127.0.0.1:9091";
    static constexpr const char* kPath = "/apisix/prometheus/metrics";
    // A scraper sends no body; a request with more than this is refused at header time.
    static constexpr qsizetype kMaxBodyBytes = 16 * 1024;

    // engine may be null: the configured objects are then reported with zero counts.
    MetricsServer(ConfigStore* store, Engine* engine, QObject* parent = nullptr);
    ~MetricsServer() override;

    // listen overrides streamgate.prometheus.listen when not empty. Afterwards a new
    // streamgate.prometheus.listen in the config (unless listen is set) closes the listener and
    // binds the new address; a failure there is logged and leaves metrics unserved.
    bool start(const QString& listen = {}, const HttpFrontOptions& connections = {});
    QString errorString() const { return m_endpoint.errorString(); }
    QHostAddress address() const { return m_endpoint.address(); }
    quint16 port() const { return m_endpoint.port(); }

private:
    HttpResponse handle(const HttpRequest& request) const;

    ConfigStore* m_store;
    Engine* m_engine;
    HttpEndpoint m_endpoint;
};

} // namespace sg
