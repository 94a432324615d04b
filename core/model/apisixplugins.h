#pragma once
// The names of APISIX's plugins (APISIX 3.18), kept here only: the HTTP plugins its default
// config enables (apisix/cli/config.lua `plugins`), which APISIX checks a service's plugins
// against; its stream plugins (`stream_plugins`); and every plugin a release ships, enabled or
// not, which plugin_metadata takes. A name in none of them is no plugin of APISIX at all.

#include <QString>

namespace sg {

// One of the HTTP plugins APISIX's default config enables ("limit-count", "proxy-rewrite").
bool isApisixHttpPlugin(const QString& name);
// One of the stream plugins APISIX's default config enables ("mqtt-proxy", "limit-conn").
bool isApisixStreamPlugin(const QString& name);
// Any plugin an APISIX release ships (apisix/plugins and apisix/stream/plugins).
bool isApisixPlugin(const QString& name);

} // namespace sg
