#pragma once
// APISIX's Admin API v3 resources of a stream proxy: /apisix/admin/stream_routes, upstreams,
// services and ssls (list with APISIX's filters and pages, read, create, replace, patch, delete,
// force delete) and /apisix/admin/schema/validate/KIND, answered as APISIX answers them. Every
// write goes through the ConfigStore (validated whole, saved atomically, applied live). Another
// resource APISIX has is refused by name. Authorization is the caller's. An ssl's private keys
// are never answered in full (redactedPrivateKey).

#include "api/adminbody.h"
#include "api/httpfront.h"

#include <QHash>
#include <QJsonObject>
#include <QPair>
#include <QString>

class QUrlQuery;

namespace sg {

class ConfigStore;
struct ConfigDiff;

// createdIndex / modifiedIndex of the objects of one kind, from the store's revision counter
// (etcd's revisions, as APISIX shows them).
class AdminIndex final
{
public:
    void reset(const QStringList& ids, qint64 revision);
    void apply(qint64 revision, const QStringList& added, const QStringList& changed,
               const QStringList& removed);
    // {created, modified}; an id not tracked (yet) reads as `revision` for both.
    QPair<qint64, qint64> at(const QString& id, qint64 revision) const;

private:
    QHash<QString, QPair<qint64, qint64>> m_index;
};

class AdminResources final
{
public:
    explicit AdminResources(ConfigStore* store);

    // True for /apisix/admin and every path below it (plugin_metadata is the caller's).
    static bool owns(const QString& path);
    HttpResponse handle(const HttpRequest& request);
    // Keeps createdIndex / modifiedIndex in step with the store's changes.
    void track(const ConfigDiff& diff);

private:
    using Kind = AdminKind;

    HttpResponse handleKind(Kind kind, const QString& id, const QString& subPath,
                            const HttpRequest& request);
    HttpResponse validate(const QString& resource, const HttpRequest& request) const;
    HttpResponse list(Kind kind, const QUrlQuery& query) const;
    HttpResponse get(Kind kind, const QString& id) const;
    HttpResponse put(Kind kind, const QString& id, const HttpRequest& request);
    // pathId: the id the URL names, which a POST may not have (always refused).
    HttpResponse post(Kind kind, const QString& pathId, const HttpRequest& request);
    // Upstreams and services only: APISIX has no PATCH for stream routes.
    HttpResponse patch(Kind kind, const QString& id, const QString& subPath,
                       const HttpRequest& request);
    HttpResponse save(Kind kind, const AdminObject& object);
    HttpResponse remove(Kind kind, const QString& id, bool force);

    QString newId(Kind kind) const;
    QJsonObject item(Kind kind, const QString& id, const QJsonObject& value) const;
    const AdminIndex& indexOf(Kind kind) const;

    ConfigStore* m_store;
    AdminIndex m_routeIndex;
    AdminIndex m_upstreamIndex;
    AdminIndex m_serviceIndex;
    AdminIndex m_sslIndex;
};

} // namespace sg
