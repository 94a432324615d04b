#pragma once
// The connections table's fault actions: "Reset now", "Pause 30 s" and "Resume" on the selected
// connections, and "Reset now", "Close now", "Pause 30 s" and "Resume" on every open connection
// of the client under the cursor (every route). They go straight to the engine
// (Engine::resetConnection, pauseClient, ...) without asking: they are what a developer uses to
// see how an app copes, and each says what it did through done().

#include "stats/snapshot.h"

#include <QHostAddress>
#include <QList>
#include <QObject>
#include <QPointer>
#include <functional>

class QAction;
class QMenu;

namespace sg {

class Engine;

namespace ui {

class ConnectionActions final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConnectionActions)

public:
    static constexpr qint64 kPauseMs = 30000;

    // selected: the open connections the per-connection actions act on, read when one is
    // triggered. engine may be null (no proxy): every action is then disabled.
    ConnectionActions(Engine* engine, std::function<QList<ConnectionInfo>()> selected,
                      QObject* parent = nullptr);

    // Enables what makes sense for the selection now and names the client of the row under the
    // cursor (a null address: no client variants).
    void update(const QHostAddress& client);
    // The per-connection actions, then a submenu with the client's (kept up to date by update()
    // for as long as the menu lives).
    void addTo(QMenu* menu) const;
    QList<QAction*> connectionActions() const;

Q_SIGNALS:
    // An action was carried out: a line for the status bar (the table refreshes after it).
    void done(const QString& message);

private:
    enum class Kind { Reset, Close, Pause, Resume };
    QAction* make(const QString& text, const char* name);
    void onSelected(Kind kind);
    void onClient(Kind kind);

    Engine* m_engine;
    std::function<QList<ConnectionInfo>()> m_selected;
    QHostAddress m_client;
    QAction* m_reset;
    QAction* m_pause;
    QAction* m_resume;
    QAction* m_resetClient;
    QAction* m_closeClient;
    QAction* m_pauseClient;
    QAction* m_resumeClient;
    mutable QList<QPointer<QMenu>> m_clientMenus; // made by addTo(), titled by update()
};

} // namespace ui
} // namespace sg
