#pragma once
// Toxiproxy's proxies as Streamgate routes, as pure functions on a Config value (the
// Toxiproxy API hands the result to ConfigStore). A proxy is a TCP route: its name is the
// route's id, its listen the route's listener, its upstream the route's first node, and it is
// enabled while the route is (a disabled one is kept under streamgate.disabled_routes, its
// listener closed). Every TCP route, made here or not, is a proxy by its id. The proxy's toxics
// are streamgate.toxics["<id>"]; a proxy made here gets an entry there at once, so toxics added
// later reach connections already open.

#include "model/streamroute.h"

#include <QJsonObject>
#include <QList>
#include <QString>
#include <optional>
#include <variant>

namespace sg::toxiproxy {

// Toxiproxy's error: {"error": message, "status": status}.
struct ApiError
{
    int status = 400;
    QString message;
};

struct ProxyView
{
    QString name;
    QString listen;   // "127.0.0.1:26379"; "" for a route with no listener of its own
    QString upstream; // "127.0.0.1:6379"
    bool enabled = true;
};

// What a create, update or /populate body gives; unset fields keep what the proxy has.
struct ProxyInput
{
    std::optional<QString> name;
    std::optional<QString> listen;
    std::optional<QString> upstream;
    std::optional<bool> enabled;
};

QList<ProxyView> proxies(const Config& config);
std::optional<ProxyView> findProxy(const Config& config, const QString& name);
// The proxy as Toxiproxy shows it, with its toxics.
QJsonObject proxyJson(const Config& config, const ProxyView& proxy);

// A body's fields; a field of the wrong type is an error naming it (prefix: "proxy 2: ").
std::optional<ApiError> readProxyInput(const QJsonValue& body, const QString& prefix,
                                       ProxyInput* out);

// The config with the proxy made (name and upstream required; listen defaults to
// "127.0.0.1:0": a free port), or the error Toxiproxy would answer.
std::variant<Config, ApiError> withProxyCreated(const Config& config, const ProxyInput& input);
std::variant<Config, ApiError> withProxyUpdated(const Config& config, const ProxyView& proxy,
                                                const ProxyInput& input);
// The route, its listener when no other route uses it, and its toxics.
Config withProxyDeleted(const Config& config, const ProxyView& proxy);

} // namespace sg::toxiproxy
