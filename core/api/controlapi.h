#pragma once
// ControlApi: the health-check part of APISIX's control API, answered as APISIX answers it, so
// what reads an APISIX node's checker state reads Streamgate's:
//   GET /v1/healthcheck                        every checked object: [{name, type, nodes}]
//   GET /v1/healthcheck/{src_type}/{src_id}    one of them ("stream_routes", "services",
//                                              "upstreams"; "routes" names nothing here)
// A node is {ip, port, hostname, status, counter: {success, tcp_failure, timeout_failure,
// http_failure}}, with lua-resty-healthcheck's states and counters (proxy/healthchecker.h).
// Only objects with checks are listed: a stream route with an inline upstream that has
// checks.active, then a service with one, then every upstream that has them; one no route uses has
// no checker and lists no node. An "Accept: text/html" gets the status page as a table. Any other
// path or method is 404, as in APISIX.
//
// It listens on streamgate.control.listen (APISIX's default 127.0.0.1:9090); a port in use is
// logged and the rest of Streamgate runs. Like APISIX's it has no key and only reads: loopback by
// default, and a Host that does not name the listening address is refused (api/httpfront.h).

#include "api/httpendpoint.h"
#include "api/httpfront.h"
#include "model/streamroute.h"
#include "stats/snapshot.h"

#include <QHostAddress>
#include <QJsonArray>
#include <QObject>
#include <QString>

namespace sg {

class ConfigStore;
class Engine;

// What GET /v1/healthcheck lists, in APISIX's order (stream routes, then upstreams); the node
// state comes from the snapshot's checked nodes.
QJsonArray healthCheckers(const Config& config, const Snapshot& snapshot);

class ControlApi final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ControlApi)

public:
    static constexpr const char* kDefaultListen = "127.0.0.1:9090";
    // The control API reads; a body is never needed.
    static constexpr qsizetype kMaxBodyBytes = 16 * 1024;

    // engine may be null: every checked object is then listed without nodes.
    ControlApi(ConfigStore* store, Engine* engine, QObject* parent = nullptr);
    ~ControlApi() override;

    // Listens where streamgate.control.listen says; afterwards a new setting rebinds. False with
    // errorString() set when the address is invalid or cannot be bound.
    bool start(const HttpFrontOptions& connections = {});
    QString errorString() const { return m_endpoint.errorString(); }
    QHostAddress address() const { return m_endpoint.address(); }
    quint16 port() const { return m_endpoint.port(); }

private:
    HttpResponse handle(const HttpRequest& request) const;
    HttpResponse oneChecker(const HttpRequest& request, const QStringList& segments) const;

    ConfigStore* m_store;
    Engine* m_engine;
    HttpEndpoint m_endpoint;
};

} // namespace sg
