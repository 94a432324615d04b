#pragma once
// The main window: routes, route editor, live connections, denied clients, statistics.

#include <QMainWindow>

namespace sg {

class ConfigStore;
class Engine;

class MainWindow final : public QMainWindow
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)

public:
    MainWindow(ConfigStore* store, Engine* engine, QWidget* parent = nullptr);

private:
    ConfigStore* m_store;
    Engine* m_engine;
};

} // namespace sg
