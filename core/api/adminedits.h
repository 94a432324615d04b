#pragma once
// Streamgate's own route edits over HTTP, what the window's Allow, Block, Disable, Enable and
// Delete do: POST /streamgate/v1/stream_routes/ID/{allow,block,disable,enable}, DELETE
// /streamgate/v1/stream_routes/ID and GET /streamgate/v1/disabled_routes. Each edit is one
// function of config/routeedits.h run through ConfigStore::update (on the newest config, a change
// on disk taken in first; validated whole and saved like every admin write); the engine applies
// it as any config change. AdminServer checks the key before a request gets here.

#include "api/httpfront.h"

#include <QString>

namespace sg {

class ConfigStore;
class Engine;

class AdminRouteEdits final
{
public:
    // engine may be null: a deleted route's open connections are then left to the engine's diff.
    AdminRouteEdits(ConfigStore* store, Engine* engine);

    // True for the paths handle() answers (the decoded path).
    static bool owns(const QString& path);
    HttpResponse handle(const HttpRequest& request);

private:
    enum class Action { Allow, Block, Disable, Enable };

    HttpResponse clientEdit(const QString& id, Action action, const HttpRequest& request);
    HttpResponse switchEdit(const QString& id, Action action);
    HttpResponse remove(const QString& id);
    HttpResponse listDisabled() const;

    ConfigStore* m_store;
    Engine* m_engine;
};

} // namespace sg
