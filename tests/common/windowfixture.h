#pragma once
// The main window on a real store and engine, wired as the application wires them
// (app/main.cpp): the engine applies the loaded config and every change of the store. Shown at
// 1400 x 860 and exposed before it returns. Needs streamgate_ui.

#include "config/configstore.h"
#include "mainwindow.h"
#include "proxy/engine.h"

#include <QTest>
#include <memory>

namespace sgtest {

struct WindowFixture
{
    std::unique_ptr<sg::ConfigStore> store;
    std::unique_ptr<sg::Engine> engine;
    std::unique_ptr<sg::MainWindow> window;

    // Loads `configPath` and opens the window on it; false when the config does not load or the
    // window is not exposed. The engine runs with `options` (two workers unless they say).
    bool open(const QString& configPath, sg::EngineOptions options = {})
    {
        store = std::make_unique<sg::ConfigStore>(configPath);
        if (!store->load().ok())
            return false;
        if (options.workers == 0)
            options.workers = 2;
        engine = std::make_unique<sg::Engine>(options);
        engine->apply(store->config());
        QObject::connect(store.get(), &sg::ConfigStore::changed, engine.get(),
                         [e = engine.get()](const sg::ConfigDiff&, const sg::Config& config) {
                             e->apply(config);
                         });
        window = std::make_unique<sg::MainWindow>(store.get(), engine.get());
        window->resize(1400, 860);
        window->show();
        // Active, as a window the user works in (shortcuts and key events reach it; on a real
        // display without a window manager it is not activated by showing it).
        window->activateWindow();
        return QTest::qWaitForWindowExposed(window.get()) &&
               QTest::qWaitForWindowActive(window.get());
    }
};

} // namespace sgtest
