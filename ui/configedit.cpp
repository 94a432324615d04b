#include "configedit.h"

#include "config/configstore.h"

#include <QMessageBox>

namespace sg::ui {

bool commitConfigEdit(ConfigStore* store, const std::function<Config(const Config&)>& edit,
                      QWidget* parent, const QString& what)
{
    const Problems problems = store->update([&](Config& config) {
        config = edit(config);
        return Problems{};
    });
    if (problems.isEmpty())
        return true;
    QMessageBox::warning(parent, what, formatProblems(problems));
    return false;
}

} // namespace sg::ui
