// Child process of tst_crashsafe_save: opens the config store on argv[1] and saves ever newer
// generations of a large config until it is killed. After each save returns it prints
// "saved N" so the parent knows the newest version that must be on disk.

#include "config/configstore.h"
#include "savelooper.h"

#include <QCoreApplication>
#include <cstdio>

using namespace sg;

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    if (argc != 3) {
        std::fprintf(stderr, "usage: sg_save_looper CONFIG ROUTES\n");
        return 2;
    }
    const int routes = QByteArray(argv[2]).toInt();
    ConfigStore store(QString::fromLocal8Bit(argv[1]));
    const LoadResult loaded = store.load();
    if (!loaded.ok()) {
        std::fprintf(stderr, "load failed: %s\n", qPrintable(formatProblems(loaded.problems)));
        return 1;
    }
    qint64 generation = reliability::generationOf(store.config());
    if (generation < 0) {
        std::fprintf(stderr, "the loaded config mixes generations\n");
        return 1;
    }
    std::printf("ready %lld\n", static_cast<long long>(generation));
    std::fflush(stdout);
    for (;;) {
        ++generation;
        const Decoded<Config> next = decodeConfig(reliability::generationJson(generation, routes));
        if (!next.ok()) {
            std::fprintf(stderr, "%s\n", qPrintable(formatProblems(next.problems)));
            return 1;
        }
        const Problems problems = store.replace(next.value);
        if (!problems.isEmpty()) {
            std::fprintf(stderr, "save refused: %s\n", qPrintable(formatProblems(problems)));
            return 1;
        }
        std::printf("saved %lld\n", static_cast<long long>(generation));
        std::fflush(stdout);
    }
}
