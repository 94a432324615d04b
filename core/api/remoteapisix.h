#pragma once
// RemoteApisix manages the stream routes, upstreams and services of another APISIX (or a headless
// Streamgate) over its Admin API v3: same decoders and validation as local edits, the local
// engine untouched. Every call is asynchronous; its callback runs in this object's thread and
// is never called after the object is destroyed.

#include "model/codec.h"
#include "model/problem.h"
#include "model/streamroute.h"

#include <QList>
#include <QObject>
#include <QString>
#include <QUrl>
#include <functional>

QT_BEGIN_NAMESPACE
class QNetworkAccessManager;
class QNetworkReply;
QT_END_NAMESPACE

namespace sg {

struct RemoteStatus
{
    int httpStatus = 0; // 0 when no HTTP answer arrived
    QString error;      // transport error, or the server's error_msg
    Problems problems;  // local validation refusals, or objects the server sent that do not decode
    bool ok() const
    {
        return error.isEmpty() && problems.isEmpty() && httpStatus >= 200 && httpStatus < 300;
    }
};

template <typename T> struct RemoteResult : RemoteStatus
{
    T value{};
    bool created = false; // PUT/POST: 201 (new object) rather than 200 (replaced)
};

class RemoteApisix final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RemoteApisix)

public:
    // adminUrl: scheme, host and port of the Admin API, e.g. http://10.0.0.5:9180
    RemoteApisix(const QUrl& adminUrl, const QString& key, QObject* parent = nullptr);
    ~RemoteApisix() override;

    QUrl adminUrl() const { return m_url; }
    void setTimeout(int ms) { m_timeoutMs = ms; }

    void listStreamRoutes(std::function<void(const RemoteResult<QList<StreamRoute>>&)> done);
    void getStreamRoute(const QString& id,
                        std::function<void(const RemoteResult<StreamRoute>&)> done);
    // Creates or replaces by id (an empty id POSTs and the server picks one).
    void putStreamRoute(const StreamRoute& route,
                        std::function<void(const RemoteResult<StreamRoute>&)> done);
    void deleteStreamRoute(const QString& id, std::function<void(const RemoteStatus&)> done);

    void listUpstreams(std::function<void(const RemoteResult<QList<Upstream>>&)> done);
    void getUpstream(const QString& id, std::function<void(const RemoteResult<Upstream>&)> done);
    void putUpstream(const Upstream& upstream,
                     std::function<void(const RemoteResult<Upstream>&)> done);
    void deleteUpstream(const QString& id, std::function<void(const RemoteStatus&)> done);

    void listServices(std::function<void(const RemoteResult<QList<Service>>&)> done);
    void getService(const QString& id, std::function<void(const RemoteResult<Service>&)> done);
    void putService(const Service& service, std::function<void(const RemoteResult<Service>&)> done);
    void deleteService(const QString& id, std::function<void(const RemoteStatus&)> done);

private:
    using Handler = std::function<void(const RemoteStatus& status, const QJsonObject& body)>;
    void send(const QByteArray& verb, const QString& path, const QByteArray& body, Handler handler);
    template <typename T> void listObjects(std::function<void(const RemoteResult<QList<T>>&)> done);
    template <typename T>
    void getObject(const QString& id, std::function<void(const RemoteResult<T>&)> done);
    template <typename T>
    void putObject(const T& object, std::function<void(const RemoteResult<T>&)> done);
    void deleteObject(const QString& path, const QString& id,
                      std::function<void(const RemoteStatus&)> done);

    QNetworkAccessManager* m_network;
    QUrl m_url;
    QString m_key;
    int m_timeoutMs = 10000;
};

} // namespace sg
