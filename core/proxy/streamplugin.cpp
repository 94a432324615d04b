#include "proxy/streamplugin.h"

#include <QMutex>
#include <QMutexLocker>
#include <algorithm>

namespace sg {

// Generated at configure time from core/proxy/plugins/*.cpp (see core/proxy/CMakeLists.txt).
std::vector<StreamPluginType> builtInStreamPluginTypes();

namespace {

QMutex& registryMutex()
{
    static QMutex mutex;
    return mutex;
}

std::vector<StreamPluginType>& added()
{
    static std::vector<StreamPluginType> types;
    return types;
}

} // namespace

std::vector<StreamPluginType> streamPluginTypes()
{
    std::vector<StreamPluginType> types = builtInStreamPluginTypes();
    {
        QMutexLocker lock(&registryMutex());
        types.insert(types.end(), added().begin(), added().end());
    }
    std::stable_sort(
        types.begin(), types.end(), [](const StreamPluginType& a, const StreamPluginType& b) {
            return a.priority != b.priority ? a.priority > b.priority : a.name < b.name;
        });
    return types;
}

void addStreamPluginType(const StreamPluginType& type)
{
    QMutexLocker lock(&registryMutex());
    added().push_back(type);
}

} // namespace sg
