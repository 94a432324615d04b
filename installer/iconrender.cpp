// Build-time tool: renders the application's SVG icon to a square PNG of a given size for
// the hicolor icon theme, with Qt's own SVG renderer (no ImageMagick or librsvg needed).
// Usage: sg_iconrender IN.svg OUT.png SIZE
#include <QCoreApplication>
#include <QImage>
#include <QPainter>
#include <QSvgRenderer>
#include <cstdio>

int main(int argc, char* argv[])
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    bool sizeOk = false;
    const int size = args.size() == 4 ? args[3].toInt(&sizeOk) : 0;
    if (!sizeOk || size < 8 || size > 4096) {
        std::fprintf(stderr, "usage: sg_iconrender IN.svg OUT.png SIZE (8-4096)\n");
        return 2;
    }
    QSvgRenderer renderer(args[1]);
    if (!renderer.isValid()) {
        std::fprintf(stderr, "sg_iconrender: %s: not a valid SVG file\n", qPrintable(args[1]));
        return 1;
    }
    QImage image(size, size, QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::transparent);
    QPainter painter(&image);
    painter.setRenderHint(QPainter::Antialiasing);
    renderer.render(&painter, QRectF(0, 0, size, size));
    painter.end();
    if (!image.save(args[2], "PNG")) {
        std::fprintf(stderr, "sg_iconrender: cannot write %s\n", qPrintable(args[2]));
        return 1;
    }
    return 0;
}
