#pragma once
// Streamgate's own route edits over HTTP, what the window's Allow, Block, Disable, Enable and
// Delete do: POST /streamgate/v1/stream_routes/ID/{allow,block,disable,enable}, DELETE
// /streamgate/v1/stream_routes/ID, GET /streamgate/v1/disabled_routes and GET
// /streamgate/v1/timed_allows (allows that end, with the time left). Allow with a "duration"
// other than "always" is the runtime's timed allow (runtime/allowexpiry.h). Each edit is one
// function of config/routeedits.h run through ConfigStore::update (on the newest config, a change
// on disk taken in first; validated whole and saved like every admin write); the engine applies
// it as any config change. AdminServer checks the key before a request gets here.

#include "api/httpfront.h"

#include <QString>

namespace sg {

class AllowExpiry;
class ConfigStore;
class Engine;
enum class AllowDuration;

class AdminRouteEdits final
{
public:
    // engine may be null: a deleted route's open connections are then left to the engine's diff.
    AdminRouteEdits(ConfigStore* store, Engine* engine);
    // The process's timed allows; without them an allow with a duration answers 503 and
    // timed_allows lists none.
    void setAllowExpiry(AllowExpiry* allows) { m_allows = allows; }

    // True for the paths handle() answers (the decoded path).
    static bool owns(const QString& path);
    HttpResponse handle(const HttpRequest& request);

private:
    enum class Action { Allow, Block, Disable, Enable };

    HttpResponse clientEdit(const QString& id, Action action, const HttpRequest& request);
    HttpResponse switchEdit(const QString& id, Action action);
    HttpResponse remove(const QString& id);
    HttpResponse timedAllow(const QString& id, const QString& client, AllowDuration duration);
    HttpResponse listDisabled() const;
    HttpResponse listTimedAllows() const;

    ConfigStore* m_store;
    Engine* m_engine;
    AllowExpiry* m_allows = nullptr;
};

} // namespace sg
