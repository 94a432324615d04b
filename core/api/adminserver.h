#pragma once
// AdminServer: APISIX Admin API v3 for stream_routes and upstreams plus /streamgate/v1/, every
// request keyed by X-API-KEY. All changes go through the ConfigStore (validated whole, saved
// atomically, applied live as a GUI edit would be). Lives in the store's thread.

#include "api/adminbody.h"

#include <QHash>
#include <QHostAddress>
#include <QJsonObject>
#include <QObject>
#include <QPair>
#include <QString>
#include <QUrl>
#include <memory>

QT_BEGIN_NAMESPACE
class QHttpServer;
class QHttpServerRequest;
class QHttpServerResponse;
QT_END_NAMESPACE

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
    // listens.
    // Returns false with errorString() set when the address is invalid or cannot be bound.
    bool start(const AdminOptions& options = {});
    QString errorString() const { return m_error; }

    QHostAddress address() const { return m_address; }
    quint16 port() const { return m_port; }
    QUrl url() const; // http://127.0.0.1:9180
    QString key() const { return m_key; }

    // The key the config holds; when it has none, the one kept in ConfigStore::keyPath()
    // (generated and saved 0600 there the first time). The config file is never rewritten.
    static QString ensureKey(ConfigStore* store);

private:
    using Kind = AdminKind;

    QHttpServerResponse handleResource(Kind kind, const QString& id,
                                       const QHttpServerRequest& request);
    QHttpServerResponse handleSubPath(Kind kind, const QString& id, const QString& subPath,
                                      const QHttpServerRequest& request);
    QHttpServerResponse handleConnections(const QString& id, const QHttpServerRequest& request);
    QHttpServerResponse handleStats(const QHttpServerRequest& request);
    QHttpServerResponse handleEvents(const QHttpServerRequest& request);

    QHttpServerResponse list(Kind kind) const;
    QHttpServerResponse get(Kind kind, const QString& id) const;
    QHttpServerResponse put(Kind kind, const QString& id, const QHttpServerRequest& request,
                            bool post);
    QHttpServerResponse patch(Kind kind, const QString& id, const QString& subPath,
                              const QHttpServerRequest& request);
    QHttpServerResponse save(Kind kind, const AdminObject& object);
    QHttpServerResponse remove(Kind kind, const QString& id);

    bool authorized(const QHttpServerRequest& request, QString* why) const;
    QString newId(Kind kind) const;
    QJsonObject item(Kind kind, const QString& id, const QJsonObject& value) const;
    void track(const ConfigDiff& diff, const Config& config);
    void settingsChanged(const Config& config);

    ConfigStore* m_store;
    Engine* m_engine;
    std::unique_ptr<QHttpServer> m_http;
    QString m_key;
    bool m_keyFromOptions = false;
    QHostAddress m_address;
    quint16 m_port = 0;
    QString m_error;
    // createdIndex / modifiedIndex per object, from the store's revision counter.
    QHash<QString, QPair<qint64, qint64>> m_routeIndex;
    QHash<QString, QPair<qint64, qint64>> m_upstreamIndex;
};

} // namespace sg
