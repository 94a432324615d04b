#include "mainwindow.h"

#include <QLabel>

namespace sg {

MainWindow::MainWindow(ConfigStore* store, Engine* engine, QWidget* parent)
    : QMainWindow(parent), m_store(store), m_engine(engine)
{
    setWindowTitle(tr("Streamgate"));
    setCentralWidget(new QLabel(tr("Streamgate"), this));
}

} // namespace sg
