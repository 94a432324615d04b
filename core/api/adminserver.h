#pragma once
// AdminServer: APISIX Admin API v3 for stream_routes, upstreams and services (adminresources.h)
// and plugin_metadata, plus /streamgate/v1/ (the window's route edits among them, adminedits.h),
// every request keyed by X-API-KEY. All changes go through the ConfigStore (validated whole, saved
// atomically, applied live as a GUI edit would be). Lives in the store's thread.

#include "api/adminconnections.h"
#include "api/adminedits.h"
#include "api/adminpluginmetadata.h"
#include "api/adminresources.h"
#include "api/adminsql.h"
#include "api/httpendpoint.h"
#include "api/httpfront.h"

#include <QHostAddress>
#include <QObject>
#include <QString>
#include <QUrl>
#include <memory>
#include <optional>

namespace sg {

class ConfigStore;
class Engine;
struct Config;
struct ConfigDiff;

struct AdminOptions
{
    QString listen; // overrides streamgate.admin.listen (CLI --admin-listen); empty = config
    QString key;    // overrides streamgate.admin.key (CLI, key file, environment); not saved
};

class AdminServer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AdminServer)

public:
    static constexpr const char* kDefaultListen = "127.0.0.1:9180";

    // engine may be null (e.g. a config-only tool): /streamgate/v1/ then answers 503.
    AdminServer(ConfigStore* store, Engine* engine, QObject* parent = nullptr);
    ~AdminServer() override;

    // Resolves the key (one generated in ConfigStore::keyPath() when the config has none) and
    // listens. Returns false with errorString() set when the address is invalid or cannot be
    // bound. Afterwards a new streamgate.admin.listen in the config (unless options.listen is
    // set) closes the listener and binds the new address; a failure there is logged and leaves
    // the admin API closed until the next change.
    // connections: limits and timeouts of the HTTP front (tests shorten them).
    bool start(const AdminOptions& options = {}, const HttpFrontOptions& connections = {});
    QString errorString() const { return m_endpoint.errorString(); }

    QHostAddress address() const { return m_endpoint.address(); }
    quint16 port() const { return m_endpoint.port(); }
    QUrl url() const { return m_endpoint.url(); } // http://127.0.0.1:9180
    QString key() const { return m_key; }

    // The key the config holds; when it has none, the one kept in ConfigStore::keyPath()
    // (generated and saved 0600 there the first time). The config file is never rewritten.
    static QString ensureKey(ConfigStore* store);

    // The process's timed allows (runtime/allowexpiry.h): POST .../allow with a "duration",
    // GET /streamgate/v1/timed_allows.
    void setAllowExpiry(AllowExpiry* allows) { m_routeEdits.setAllowExpiry(allows); }

private:
    // At header time: the key (and the body's length), before any body byte or 100 Continue.
    std::optional<HttpResponse> admit(const HttpRequest& request) const;
    HttpResponse dispatch(const HttpRequest& request);

    HttpResponse handleConnections(const QString& id, const HttpRequest& request);
    HttpResponse handleStats(const HttpRequest& request);
    HttpResponse handleDevelopmentCa(const HttpRequest& request);
    HttpResponse handleEvents(const HttpRequest& request);

    bool authorized(const HttpRequest& request, QString* why) const;
    void track(const ConfigDiff& diff, const Config& config);
    void settingsChanged(const Config& config);

    ConfigStore* m_store;
    Engine* m_engine;
    AdminResources m_resources;                 // /apisix/admin/stream_routes, ...
    AdminPluginMetadata m_pluginMetadata;       // /apisix/admin/plugin_metadata/...
    AdminRouteEdits m_routeEdits;               // /streamgate/v1/stream_routes/..., disabled_routes
    AdminConnectionActions m_connectionActions; // .../connections/ID/ACTION, .../clients/IP/ACTION
    AdminSqlStats m_sqlStats; // /streamgate/v1/mysql/... and /streamgate/v1/postgres/...
    HttpEndpoint m_endpoint;
    QString m_key;
    bool m_keyFromOptions = false;
};

} // namespace sg
