#include "connectionactions.h"

#include "format.h"
#include "proxy/engine.h"

#include <QAction>
#include <QMenu>

namespace sg::ui {

ConnectionActions::ConnectionActions(Engine* engine,
                                     std::function<QList<ConnectionInfo>()> selected,
                                     QObject* parent)
    : QObject(parent), m_engine(engine), m_selected(std::move(selected))
{
    m_reset = make(tr("&Reset now"), "resetConnectionsAction");
    m_reset->setToolTip(tr("Both peers get a TCP reset (a UDP session ends)"));
    m_pause = make(tr("&Pause 30 s"), "pauseConnectionsAction");
    m_pause->setToolTip(tr("Nothing is read from either peer for 30 s; then it goes on by itself"));
    m_resume = make(tr("Res&ume"), "resumeConnectionsAction");
    m_resetClient = make(tr("Reset now"), "resetClientAction");
    m_closeClient = make(tr("Close now"), "closeClientAction");
    m_pauseClient = make(tr("Pause 30 s"), "pauseClientAction");
    m_resumeClient = make(tr("Resume"), "resumeClientAction");
    connect(m_reset, &QAction::triggered, this, [this] { onSelected(Kind::Reset); });
    connect(m_pause, &QAction::triggered, this, [this] { onSelected(Kind::Pause); });
    connect(m_resume, &QAction::triggered, this, [this] { onSelected(Kind::Resume); });
    connect(m_resetClient, &QAction::triggered, this, [this] { onClient(Kind::Reset); });
    connect(m_closeClient, &QAction::triggered, this, [this] { onClient(Kind::Close); });
    connect(m_pauseClient, &QAction::triggered, this, [this] { onClient(Kind::Pause); });
    connect(m_resumeClient, &QAction::triggered, this, [this] { onClient(Kind::Resume); });
    update({});
}

QAction* ConnectionActions::make(const QString& text, const char* name)
{
    auto* action = new QAction(text, this);
    action->setObjectName(QLatin1String(name));
    return action;
}

QList<QAction*> ConnectionActions::connectionActions() const
{
    return {m_reset, m_pause, m_resume};
}

void ConnectionActions::update(const QHostAddress& client)
{
    m_client = client;
    const QList<ConnectionInfo> selected = m_engine ? m_selected() : QList<ConnectionInfo>();
    bool anyPaused = false;
    for (const ConnectionInfo& c : selected)
        anyPaused |= c.pausedUntilMs > 0;
    m_reset->setEnabled(!selected.isEmpty());
    m_pause->setEnabled(!selected.isEmpty());
    m_resume->setEnabled(anyPaused);
    const bool haveClient = m_engine && !client.isNull();
    for (QAction* a : {m_resetClient, m_closeClient, m_pauseClient, m_resumeClient})
        a->setEnabled(haveClient);
    const QString ip = haveClient ? formatIp(client) : tr("this client");
    m_clientMenus.removeAll(nullptr);
    for (QMenu* menu : std::as_const(m_clientMenus)) {
        menu->setTitle(tr("All connections of %1").arg(ip));
        menu->setEnabled(haveClient);
    }
}

void ConnectionActions::addTo(QMenu* menu) const
{
    menu->addActions(connectionActions());
    const QString ip = m_client.isNull() ? tr("this client") : formatIp(m_client);
    QMenu* client = menu->addMenu(tr("All connections of %1").arg(ip));
    client->setObjectName(QStringLiteral("clientConnectionsMenu"));
    client->setToolTip(tr("Every open connection of %1, on every route").arg(ip));
    client->setEnabled(m_resetClient->isEnabled());
    client->addActions({m_resetClient, m_closeClient, m_pauseClient, m_resumeClient});
    m_clientMenus << client;
}

void ConnectionActions::onSelected(Kind kind)
{
    if (!m_engine)
        return;
    int count = 0;
    for (const ConnectionInfo& c : m_selected()) {
        switch (kind) {
        case Kind::Reset:
            count += m_engine->resetConnection(c.id) ? 1 : 0;
            break;
        case Kind::Pause:
            count += m_engine->pauseConnection(c.id, kPauseMs) ? 1 : 0;
            break;
        case Kind::Resume:
            count += m_engine->resumeConnection(c.id) ? 1 : 0;
            break;
        case Kind::Close:
            count += m_engine->killConnection(c.id) ? 1 : 0;
            break;
        }
    }
    switch (kind) {
    case Kind::Reset:
        Q_EMIT done(tr("Reset %n connection(s)", nullptr, count));
        break;
    case Kind::Pause:
        Q_EMIT done(tr("Paused %n connection(s) for 30 s", nullptr, count));
        break;
    case Kind::Resume:
        Q_EMIT done(tr("Resumed %n connection(s)", nullptr, count));
        break;
    case Kind::Close:
        Q_EMIT done(tr("Closed %n connection(s)", nullptr, count));
        break;
    }
}

void ConnectionActions::onClient(Kind kind)
{
    if (!m_engine || m_client.isNull())
        return;
    const QString ip = formatIp(m_client);
    switch (kind) {
    case Kind::Reset:
        Q_EMIT done(
            tr("Reset %n connection(s) of %1", nullptr, m_engine->resetClient(m_client)).arg(ip));
        break;
    case Kind::Close:
        Q_EMIT done(
            tr("Closed %n connection(s) of %1", nullptr, m_engine->killClient(m_client)).arg(ip));
        break;
    case Kind::Pause:
        Q_EMIT done(tr("Paused %n connection(s) of %1 for 30 s", nullptr,
                       m_engine->pauseClient(m_client, kPauseMs))
                        .arg(ip));
        break;
    case Kind::Resume:
        Q_EMIT done(tr("Resumed %n connection(s) of %1", nullptr, m_engine->resumeClient(m_client))
                        .arg(ip));
        break;
    }
}

} // namespace sg::ui
