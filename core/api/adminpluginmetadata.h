#pragma once
// APISIX's /apisix/admin/plugin_metadata/NAME: one plugin's settings for every route that runs
// it. GET lists or reads, PUT sets (201 when new), DELETE removes; POST and PATCH are refused
// as APISIX's resource refuses them. Streamgate runs syslog's (log_format,
// max_pending_entries); any other plugin is refused by name. Authorization is the caller's.

#include "api/adminresources.h"
#include "api/httpfront.h"

#include <QString>

namespace sg {

class ConfigStore;
struct Config;
struct ConfigDiff;

class AdminPluginMetadata final
{
public:
    explicit AdminPluginMetadata(ConfigStore* store);

    // True for the paths handle() answers (the decoded path).
    static bool owns(const QString& path);
    HttpResponse handle(const HttpRequest& request);
    // Keeps each entry's createdIndex / modifiedIndex in step with the store's changes.
    void track(const ConfigDiff& diff, const Config& config, qint64 revision);

private:
    HttpResponse put(const QString& plugin, const HttpRequest& request);
    HttpResponse remove(const QString& plugin);

    ConfigStore* m_store;
    AdminIndex m_index;
};

} // namespace sg
