#include "api/remoteapisix.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>

namespace sg {

namespace {

const QString kRoutes = QStringLiteral("/apisix/admin/stream_routes");
const QString kUpstreams = QStringLiteral("/apisix/admin/upstreams");
const QString kServices = QStringLiteral("/apisix/admin/services");

// Where each kind of object lives on the Admin API, and how a client writes and checks it.
template <typename T> struct Kind;
template <> struct Kind<StreamRoute>
{
    static const QString& path() { return kRoutes; }
    static QJsonObject encode(const StreamRoute& route) { return encodeStreamRoute(route); }
    static Decoded<StreamRoute> decodeClient(const QJsonObject& object)
    {
        return decodeStreamRoute(object, {}, DecodeMode::Client);
    }
};
template <> struct Kind<Upstream>
{
    static const QString& path() { return kUpstreams; }
    static QJsonObject encode(const Upstream& upstream) { return encodeUpstream(upstream); }
    static Decoded<Upstream> decodeClient(const QJsonObject& object)
    {
        return decodeUpstream(object, {}, DecodeMode::Client);
    }
};
template <> struct Kind<Service>
{
    static const QString& path() { return kServices; }
    static QJsonObject encode(const Service& service) { return encodeService(service); }
    static Decoded<Service> decodeClient(const QJsonObject& object)
    {
        return decodeService(object, {}, DecodeMode::Client);
    }
};

// Objects coming back from a server carry its create_time / update_time: decode as a file.
Decoded<StreamRoute> decodeRemote(const QJsonValue& v, const QString& path, const StreamRoute*)
{
    return decodeStreamRoute(v, path, DecodeMode::File);
}
Decoded<Upstream> decodeRemote(const QJsonValue& v, const QString& path, const Upstream*)
{
    return decodeUpstream(v, path, DecodeMode::File);
}
Decoded<Service> decodeRemote(const QJsonValue& v, const QString& path, const Service*)
{
    return decodeService(v, path, DecodeMode::File);
}

// What we send: the object as a client would write it (timestamps belong to the server).
QJsonObject clientBody(QJsonObject object)
{
    object.remove(QStringLiteral("create_time"));
    object.remove(QStringLiteral("update_time"));
    return object;
}

template <typename T>
void takeItem(RemoteResult<T>& result, const QJsonObject& body, const QString& path)
{
    const Decoded<T> decoded =
        decodeRemote(body.value(u"value"), path, static_cast<const T*>(nullptr));
    result.problems << decoded.problems;
    result.value = decoded.value;
}

template <typename T> void takeList(RemoteResult<QList<T>>& result, const QJsonObject& body)
{
    const QJsonArray list = body.value(u"list").toArray();
    for (int i = 0; i < list.size(); ++i) {
        const Decoded<T> decoded =
            decodeRemote(list.at(i).toObject().value(u"value"),
                         QStringLiteral("list[%1].value").arg(i), static_cast<const T*>(nullptr));
        // One object Streamgate cannot represent must not hide the others.
        if (decoded.ok())
            result.value << decoded.value;
        else
            result.problems << decoded.problems;
    }
}

} // namespace

RemoteApisix::RemoteApisix(const QUrl& adminUrl, const QString& key, QObject* parent)
    : QObject(parent), m_network(new QNetworkAccessManager(this)), m_url(adminUrl), m_key(key)
{
}

RemoteApisix::~RemoteApisix() = default;

void RemoteApisix::send(const QByteArray& verb, const QString& path, const QByteArray& body,
                        Handler handler)
{
    QUrl url = m_url;
    QString base = url.path();
    while (base.endsWith(u'/'))
        base.chop(1);
    url.setPath(base + path);
    QNetworkRequest request(url);
    request.setRawHeader("X-API-KEY", m_key.toUtf8());
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    request.setTransferTimeout(m_timeoutMs);
    QNetworkReply* reply = m_network->sendCustomRequest(request, verb, body);
    // The reply belongs to m_network, a child of this: no callback outlives the client.
    connect(reply, &QNetworkReply::finished, this, [reply, handler = std::move(handler)] {
        reply->deleteLater();
        RemoteStatus status;
        status.httpStatus = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QByteArray data = reply->readAll();
        QJsonParseError parseError;
        const QJsonDocument doc = QJsonDocument::fromJson(data, &parseError);
        const QJsonObject object = doc.object();
        if (status.httpStatus == 0) {
            status.error = reply->errorString();
        } else if (status.httpStatus < 200 || status.httpStatus >= 300) {
            status.error = object.value(u"error_msg").toString();
            if (status.error.isEmpty())
                status.error = object.value(u"message").toString();
            if (status.error.isEmpty())
                status.error = QStringLiteral("HTTP %1 %2")
                                   .arg(status.httpStatus)
                                   .arg(reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute)
                                            .toString());
        } else if (parseError.error != QJsonParseError::NoError || !doc.isObject()) {
            status.error = QStringLiteral("the server's answer is not a JSON object (%1)")
                               .arg(parseError.errorString());
        }
        handler(status, object);
    });
}

// One implementation per verb, shared by every kind of object.

template <typename T>
void RemoteApisix::listObjects(std::function<void(const RemoteResult<QList<T>>&)> done)
{
    send("GET", Kind<T>::path(), {},
         [done = std::move(done)](const RemoteStatus& status, const QJsonObject& body) {
             RemoteResult<QList<T>> result;
             static_cast<RemoteStatus&>(result) = status;
             if (status.error.isEmpty())
                 takeList(result, body);
             done(result);
         });
}

template <typename T>
void RemoteApisix::getObject(const QString& id, std::function<void(const RemoteResult<T>&)> done)
{
    send("GET", Kind<T>::path() + u'/' + id, {},
         [done = std::move(done)](const RemoteStatus& status, const QJsonObject& body) {
             RemoteResult<T> result;
             static_cast<RemoteStatus&>(result) = status;
             if (status.error.isEmpty())
                 takeItem(result, body, QStringLiteral("value"));
             done(result);
         });
}

template <typename T>
void RemoteApisix::putObject(const T& object, std::function<void(const RemoteResult<T>&)> done)
{
    QJsonObject json = clientBody(Kind<T>::encode(object));
    const QString id = object.idString();
    // Same validation as a local edit, before anything leaves this machine.
    const Decoded<T> check = Kind<T>::decodeClient(json);
    if (!check.ok()) {
        RemoteResult<T> result;
        result.problems = check.problems;
        QMetaObject::invokeMethod(
            this, [done, result] { done(result); }, Qt::QueuedConnection);
        return;
    }
    if (id.isEmpty())
        json.remove(QStringLiteral("id"));
    const QByteArray body = QJsonDocument(json).toJson(QJsonDocument::Compact);
    const QString& path = Kind<T>::path();
    send(id.isEmpty() ? "POST" : "PUT", id.isEmpty() ? path : path + u'/' + id, body,
         [done = std::move(done)](const RemoteStatus& status, const QJsonObject& answer) {
             RemoteResult<T> result;
             static_cast<RemoteStatus&>(result) = status;
             result.created = status.httpStatus == 201;
             if (status.error.isEmpty())
                 takeItem(result, answer, QStringLiteral("value"));
             done(result);
         });
}

void RemoteApisix::deleteObject(const QString& path, const QString& id,
                                std::function<void(const RemoteStatus&)> done)
{
    send(
        "DELETE", path + u'/' + id, {},
        [done = std::move(done)](const RemoteStatus& status, const QJsonObject&) { done(status); });
}

void RemoteApisix::listStreamRoutes(
    std::function<void(const RemoteResult<QList<StreamRoute>>&)> done)
{
    listObjects<StreamRoute>(std::move(done));
}

void RemoteApisix::getStreamRoute(const QString& id,
                                  std::function<void(const RemoteResult<StreamRoute>&)> done)
{
    getObject<StreamRoute>(id, std::move(done));
}

void RemoteApisix::putStreamRoute(const StreamRoute& route,
                                  std::function<void(const RemoteResult<StreamRoute>&)> done)
{
    putObject(route, std::move(done));
}

void RemoteApisix::deleteStreamRoute(const QString& id,
                                     std::function<void(const RemoteStatus&)> done)
{
    deleteObject(Kind<StreamRoute>::path(), id, std::move(done));
}

void RemoteApisix::listUpstreams(std::function<void(const RemoteResult<QList<Upstream>>&)> done)
{
    listObjects<Upstream>(std::move(done));
}

void RemoteApisix::getUpstream(const QString& id,
                               std::function<void(const RemoteResult<Upstream>&)> done)
{
    getObject<Upstream>(id, std::move(done));
}

void RemoteApisix::putUpstream(const Upstream& upstream,
                               std::function<void(const RemoteResult<Upstream>&)> done)
{
    putObject(upstream, std::move(done));
}

void RemoteApisix::deleteUpstream(const QString& id, std::function<void(const RemoteStatus&)> done)
{
    deleteObject(Kind<Upstream>::path(), id, std::move(done));
}

void RemoteApisix::listServices(std::function<void(const RemoteResult<QList<Service>>&)> done)
{
    listObjects<Service>(std::move(done));
}

void RemoteApisix::getService(const QString& id,
                              std::function<void(const RemoteResult<Service>&)> done)
{
    getObject<Service>(id, std::move(done));
}

void RemoteApisix::putService(const Service& service,
                              std::function<void(const RemoteResult<Service>&)> done)
{
    putObject(service, std::move(done));
}

void RemoteApisix::deleteService(const QString& id, std::function<void(const RemoteStatus&)> done)
{
    deleteObject(Kind<Service>::path(), id, std::move(done));
}

} // namespace sg
