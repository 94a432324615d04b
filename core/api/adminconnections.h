#pragma once
// What the connections table does to open connections, over HTTP: POST
// /streamgate/v1/connections/ID/{reset,close,pause,resume} for one connection and POST
// /streamgate/v1/clients/IP/{reset,close,pause,resume} for every open connection of one client
// address, on every route. pause takes {"ms": N} (1..Engine::kMaxPauseMs); the others take no
// body (or {}). An action reaches the engine (Engine::resetConnection, ...) and never the config.
// AdminServer checks the key before a request gets here.

#include "api/httpfront.h"

#include <QString>

namespace sg {

class Engine;

class AdminConnectionActions final
{
public:
    // engine may be null: every action then answers 503.
    explicit AdminConnectionActions(Engine* engine);

    // True for the paths handle() answers (the decoded path).
    static bool owns(const QString& path);
    HttpResponse handle(const HttpRequest& request);

private:
    enum class Action { Reset, Close, Pause, Resume };

    HttpResponse onConnection(const QString& id, Action action, qint64 ms);
    HttpResponse onClient(const QString& client, Action action, qint64 ms);

    Engine* m_engine;
};

} // namespace sg
