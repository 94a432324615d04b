#pragma once
// A blocking HTTP helper for tests: real requests over loopback with QNetworkAccessManager,
// waiting on the reply's finished signal (bounded), never on fixed sleeps.

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QSignalSpy>
#include <QUrl>

struct HttpAnswer
{
    int status = 0;
    QByteArray body;
    QJsonObject json;
    QByteArray contentType;
    QByteArray allow;
    QByteArray apiVersion; // X-API-VERSION
    QString transportError;
    QList<QNetworkReply::RawHeaderPair> headers; // all of them, as sent
    // The header's value; null when the answer has no such header.
    QByteArray header(const QByteArray& name) const
    {
        for (const auto& [key, value] : headers)
            if (key.compare(name, Qt::CaseInsensitive) == 0)
                return value.isNull() ? QByteArray("") : value;
        return {};
    }
};

inline HttpAnswer answerOf(QNetworkReply* reply)
{
    HttpAnswer a;
    a.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    a.body = reply->readAll();
    a.json = QJsonDocument::fromJson(a.body).object();
    a.contentType = reply->rawHeader("Content-Type");
    a.allow = reply->rawHeader("Allow");
    a.apiVersion = reply->rawHeader("X-API-VERSION");
    a.headers = reply->rawHeaderPairs();
    if (a.status == 0)
        a.transportError = reply->errorString();
    return a;
}

inline QNetworkReply* startRequest(QNetworkAccessManager& network, const QByteArray& verb,
                                   const QUrl& url, const QByteArray& body = {},
                                   const QByteArray& key = {})
{
    QNetworkRequest request(url);
    if (!key.isNull())
        request.setRawHeader("X-API-KEY", key);
    if (!body.isEmpty())
        request.setHeader(QNetworkRequest::ContentTypeHeader,
                          QByteArrayLiteral("application/json"));
    request.setTransferTimeout(10000);
    return network.sendCustomRequest(request, verb, body);
}

inline HttpAnswer request(QNetworkAccessManager& network, const QByteArray& verb, const QUrl& url,
                          const QByteArray& body = {}, const QByteArray& key = {})
{
    QNetworkReply* reply = startRequest(network, verb, url, body, key);
    if (!reply->isFinished()) {
        QSignalSpy finished(reply, &QNetworkReply::finished);
        finished.wait(15000);
    }
    HttpAnswer a = answerOf(reply);
    reply->deleteLater();
    return a;
}

inline QByteArray compact(const QJsonObject& object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

// The value of one sample of a Prometheus exposition (`series` with its labels, exactly as
// written), -1 when absent.
inline double metricSample(const QByteArray& exposition, const QByteArray& series)
{
    for (const QByteArray& line : exposition.split('\n'))
        if (line.startsWith(series + ' '))
            return line.mid(series.size() + 1).toDouble();
    return -1;
}
