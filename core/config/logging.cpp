#include "config/logging.h"

namespace sg {

Q_LOGGING_CATEGORY(lcConfig, "streamgate.config")
Q_LOGGING_CATEGORY(lcProxy, "streamgate.proxy")
Q_LOGGING_CATEGORY(lcApi, "streamgate.api")
Q_LOGGING_CATEGORY(lcUi, "streamgate.ui")

} // namespace sg
