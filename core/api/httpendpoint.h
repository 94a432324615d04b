#pragma once
// HttpEndpoint is one of Streamgate's own HTTP endpoints (the admin API, the metrics) on its
// listen address: the command-line option when one is given (it wins and is never rebound),
// otherwise the setting. A new setting closes the old listener and binds the new address on the
// next event-loop turn, never while one of its requests is being answered; a failed bind is
// logged and leaves the endpoint closed, with errorString() saying why, until the next change.

#include "api/httpfront.h"

#include <QHostAddress>
#include <QObject>
#include <QString>
#include <QUrl>
#include <functional>
#include <memory>

namespace sg {

class HttpEndpoint final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpEndpoint)

public:
    struct Spec
    {
        QString name;         // "admin API": in log lines and bind errors
        QString optionName;   // "--admin-listen"
        QString settingPath;  // "streamgate.admin.listen"
        const char* fallback; // the built-in default address
        QString exposure;     // what a non-loopback address lets others do, for the warning
    };
    // makeService: the endpoint's handlers, built anew for each listener.
    HttpEndpoint(Spec spec, std::function<HttpService()> makeService, QObject* parent = nullptr);
    ~HttpEndpoint() override;

    // Listens on `option` when it is not empty, else on `setting`. False with errorString() set
    // when the address is invalid or cannot be bound.
    bool start(const QString& option, const QString& setting, const HttpFrontOptions& connections);
    // The setting as the config holds it now: rebinds (queued) when it changed.
    void settingChanged(const QString& setting);

    QString errorString() const { return m_error; }
    QHostAddress address() const { return m_address; }
    quint16 port() const { return m_port; }
    QUrl url() const; // http://127.0.0.1:9180

private:
    bool bind(const QString& setting);
    void rebind(const QString& setting);

    const Spec m_spec;
    const std::function<HttpService()> m_makeService;
    std::unique_ptr<HttpFront> m_front;
    bool m_started = false;
    QString m_listenOption;  // wins over the setting, never rebinds
    QString m_listenSetting; // the setting as last applied (empty: default)
    HttpFrontOptions m_connections;
    QHostAddress m_address;
    quint16 m_port = 0;
    QString m_error;
};

} // namespace sg
