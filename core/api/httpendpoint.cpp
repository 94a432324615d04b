#include "api/httpendpoint.h"

#include "config/logging.h"
#include "model/httplisten.h"

namespace sg {

HttpEndpoint::HttpEndpoint(Spec spec, std::function<HttpService()> makeService, QObject* parent)
    : QObject(parent), m_spec(std::move(spec)), m_makeService(std::move(makeService))
{
}

HttpEndpoint::~HttpEndpoint() = default;

bool HttpEndpoint::start(const QString& option, const QString& setting,
                         const HttpFrontOptions& connections)
{
    m_listenOption = option;
    m_connections = connections;
    m_started = true;
    return bind(setting);
}

void HttpEndpoint::settingChanged(const QString& setting)
{
    if (!m_started || !m_listenOption.isEmpty() || setting == m_listenSetting)
        return;
    m_listenSetting = setting;
    QMetaObject::invokeMethod(
        this, [this, setting] { rebind(setting); }, Qt::QueuedConnection);
}

bool HttpEndpoint::bind(const QString& setting)
{
    m_error.clear();
    m_listenSetting = setting;
    m_front.reset(); // the old listener (if any) closes before the new one binds
    m_address.clear();
    m_port = 0;
    const HttpListen listen = chooseHttpListen(m_listenOption, m_spec.optionName, setting,
                                               m_spec.settingPath, m_spec.fallback);
    m_front = std::make_unique<HttpFront>(m_makeService(), m_connections);
    if (!m_front->listen(listen, m_spec.name, &m_error)) {
        m_front.reset();
        return false;
    }
    m_address = m_front->address();
    m_port = m_front->port();
    if (!listen.isLoopback())
        qCWarning(lcApi).noquote() << "the" << m_spec.name << "listens on" << url().toString()
                                   << "which is not loopback:" << m_spec.exposure;
    else
        qCInfo(lcApi).noquote() << m_spec.name << "on" << url().toString();
    return true;
}

void HttpEndpoint::rebind(const QString& setting)
{
    if (setting != m_listenSetting)
        return; // a later change is queued behind this one
    const QString before = m_front ? url().toString() : QStringLiteral("(not listening)");
    qCInfo(lcApi).noquote() << m_spec.settingPath << "changed: the" << m_spec.name << "leaves"
                            << before;
    if (!bind(setting))
        qCCritical(lcApi).noquote() << m_error << "- the" << m_spec.name << "is not listening";
}

QUrl HttpEndpoint::url() const
{
    QUrl url;
    url.setScheme(QStringLiteral("http"));
    url.setHost(m_address.toString());
    url.setPort(m_port);
    return url;
}

} // namespace sg
