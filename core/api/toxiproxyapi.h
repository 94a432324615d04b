#pragma once
// ToxiproxyApi: Toxiproxy's HTTP API 2.x (https://github.com/Shopify/toxiproxy#http-api), so
// its client libraries and Testcontainers modules drive Streamgate's fault injection
// unchanged. Proxies are TCP routes (api/toxiproxymodel.h), toxics live under
// streamgate.toxics (model/toxic.h); every change goes through the ConfigStore like an admin
// API edit, so it is saved, applied live and seen in the window.
//
// It listens on streamgate.toxiproxy.listen (default 127.0.0.1:8474); a port in use is logged
// and the rest of Streamgate runs. It has no key (Toxiproxy clients send none), so: loopback by
// default, a Host that does not name the listening address is refused (DNS rebinding, see
// api/httpfront.h), and a browser's User-Agent ("Mozilla/...") is refused as Toxiproxy does.
// Every change made through it is an event in the engine's event log, so the window shows it.

#include "api/httpendpoint.h"
#include "api/httpfront.h"

#include <QObject>
#include <optional>

namespace sg {

class ConfigStore;
class Engine;
struct Config;
struct ConfigDiff;

class ToxiproxyApi final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ToxiproxyApi)

public:
    static constexpr const char* kDefaultListen = "127.0.0.1:8474";
    // The Toxiproxy release whose API this follows, as GET /version answers.
    static constexpr const char* kApiVersion = "2.12.0";
    static constexpr qsizetype kMaxBodyBytes = 1024 * 1024;

    // engine, when given, has the connections of a proxy cut when it is disabled, moved to
    // another listen address or upstream, or deleted (as Toxiproxy restarts a proxy).
    explicit ToxiproxyApi(ConfigStore* store, Engine* engine = nullptr, QObject* parent = nullptr);
    ~ToxiproxyApi() override;

    // Listens where streamgate.toxiproxy.listen says; afterwards a new setting rebinds. False
    // with errorString() set when the address is invalid or cannot be bound.
    bool start(const HttpFrontOptions& connections = {});
    QString errorString() const { return m_endpoint.errorString(); }
    quint16 port() const { return m_endpoint.port(); }

private:
    HttpResponse handle(const HttpRequest& request);
    HttpResponse proxyIndex() const;
    HttpResponse proxyCreate(const QByteArray& body);
    HttpResponse populate(const QByteArray& body);
    HttpResponse reset();
    HttpResponse proxyUpdate(const QString& name, const QByteArray& body);
    HttpResponse proxyDelete(const QString& name);
    HttpResponse toxicCreate(const QString& proxy, const QByteArray& body);
    HttpResponse toxicUpdate(const QString& proxy, const QString& toxic, const QByteArray& body);
    HttpResponse toxicDelete(const QString& proxy, const QString& toxic);
    // Hands next to the store: the Toxiproxy error when it refuses. Once taken, `what` is
    // logged and, with an engine, becomes an event of the event log (for route `routeId`).
    std::optional<HttpResponse> commit(const Config& next, const QString& what,
                                       const QString& routeId = {});
    void track(const ConfigDiff& diff, const Config& config);

    void cut(const QString& proxy);

    ConfigStore* m_store;
    Engine* m_engine;
    HttpEndpoint m_endpoint;
};

} // namespace sg
