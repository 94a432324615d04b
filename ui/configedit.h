#pragma once
// One whole-config edit (config/routeedits.h, config/toxicedits.h) committed through the
// ConfigStore on the config as it is now, so a hand edit on disk is taken in first and kept. What
// refuses the result is shown in a warning box titled with what was tried.

#include <QString>
#include <functional>

class QWidget;

namespace sg {

class ConfigStore;
struct Config;

namespace ui {

// True when the edit was committed; false, after the warning box, when it was refused.
bool commitConfigEdit(ConfigStore* store, const std::function<Config(const Config&)>& edit,
                      QWidget* parent, const QString& what);

} // namespace ui
} // namespace sg
