#pragma once
// Streamgate's logging categories, one per layer, so a user can turn each on or off with
// QT_LOGGING_RULES (e.g. "streamgate.proxy.debug=true"). Declared in core so that the proxy,
// the admin API, the UI and the app all log under the same names.

#include <QLoggingCategory>

namespace sg {

Q_DECLARE_LOGGING_CATEGORY(lcConfig) // "streamgate.config": loading, saving, validation
Q_DECLARE_LOGGING_CATEGORY(lcProxy)  // "streamgate.proxy": listeners, sessions, health checks
Q_DECLARE_LOGGING_CATEGORY(lcApi)    // "streamgate.api": admin API and metrics
Q_DECLARE_LOGGING_CATEGORY(lcUi)     // "streamgate.ui": windows and models

} // namespace sg
