// Crash-safe saves: a child process (sg_save_looper) saves ever newer generations of a large
// config through ConfigStore; the test SIGKILLs it at random moments. After every kill the file
// must be one whole version, the last one the child confirmed or the one it was writing, never
// a mix; NAME.bak must be whole too; `streamgate --check` and ConfigStore accept the file.

#include "config/configstore.h"
#include "savelooper.h"

#include <QProcess>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <csignal>

using namespace sg;

namespace {

// A round loads and saves a 600-route config several times: about 2 s under AddressSanitizer,
// so fewer rounds there (the release build's run takes all 50).
#ifdef __SANITIZE_ADDRESS__
constexpr int kRounds = 12;
#else
constexpr int kRounds = 50;
#endif
constexpr int kRoutes = 600;
// Every kCliEvery-th round, and the last, also runs `streamgate --check` on what the kill left
// (a process start and a 600-route load: the slowest part of a round). The other rounds check
// the same file in-process with the same loader.
constexpr int kCliEvery = 5;

// The last "ready N"/"saved N" number the child printed (-1 if none).
qint64 lastConfirmed(const QByteArray& output)
{
    qint64 last = -1;
    for (const QByteArray& line : output.split('\n')) {
        const QList<QByteArray> words = line.trimmed().split(' ');
        if (words.size() == 2 && (words[0] == "saved" || words[0] == "ready"))
            last = words[1].toLongLong();
    }
    return last;
}

} // namespace

class TestCrashSafeSave : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void killedMidSave()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("streamgate.json"));
        {
            ConfigStore store(path);
            QVERIFY(store.load().ok());
            const Decoded<Config> first = decodeConfig(reliability::generationJson(0, kRoutes));
            QVERIFY2(first.ok(), qPrintable(formatProblems(first.problems)));
            QVERIFY(store.replace(first.value).isEmpty());
            // Twice, so that NAME.bak also holds generation 0 rather than the example config.
            QJsonObject again = reliability::generationJson(0, kRoutes);
            QJsonObject settings = reliability::generationSettings(0);
            settings.insert(QStringLiteral("mysql_inspect"), true);
            again.insert(QStringLiteral("streamgate"), settings);
            const Decoded<Config> second = decodeConfig(again);
            QVERIFY(store.replace(second.value).isEmpty());
        }

        const quint32 seed = QRandomGenerator::global()->generate();
        qInfo("random seed %u", seed);
        QRandomGenerator random(seed);
        qint64 previous = 0;
        int newerOnDisk = 0; // kills that landed between the rename and the confirmation
        for (int round = 0; round < kRounds; ++round) {
            QProcess child;
            child.setProcessChannelMode(QProcess::SeparateChannels);
            child.start(QStringLiteral(SAVE_LOOPER_BINARY), {path, QString::number(kRoutes)});
            QVERIFY2(child.waitForStarted(10000), qPrintable(child.errorString()));
            QByteArray output;
            // Kill once a random number of saves (0-3) went through, plus a random 0-60 ms
            // so the kill lands anywhere inside a save: validate, encode, write, rename, .bak.
            const qint64 wantSaves = random.bounded(4);
            const qint64 start = previous;
            QTRY_VERIFY_WITH_TIMEOUT((output += child.readAllStandardOutput(),
                                      lastConfirmed(output) >= start + wantSaves),
                                     20000);
            QTest::qWait(int(random.bounded(60)));
            ::kill(pid_t(child.processId()), SIGKILL);
            QVERIFY(child.waitForFinished(10000));
            QCOMPARE(child.exitStatus(), QProcess::CrashExit);
            output += child.readAllStandardOutput();
            const QByteArray errors = child.readAllStandardError();
            QVERIFY2(!errors.contains("refused") && !errors.contains("failed") &&
                         !errors.contains("mixes"),
                     errors.constData());
            const qint64 confirmed = lastConfirmed(output);

            const FileCheck check = checkFile(path);
            QVERIFY2(
                check.status == LoadResult::Status::Loaded,
                qPrintable(
                    QStringLiteral("round %1: %2").arg(round).arg(formatProblems(check.problems))));
            const qint64 onDisk = reliability::generationOf(check.config);
            QVERIFY2(
                onDisk == confirmed || onDisk == confirmed + 1,
                qPrintable(QStringLiteral("round %1: file holds generation %2, child confirmed %3")
                               .arg(round)
                               .arg(onDisk)
                               .arg(confirmed)));
            QCOMPARE(check.config.streamRoutes.size(), qsizetype(kRoutes));
            if (onDisk == confirmed + 1)
                ++newerOnDisk;

            const QString backup = path + QStringLiteral(".bak");
            if (QFile::exists(backup)) {
                const FileCheck bak = checkFile(backup);
                QVERIFY2(bak.status == LoadResult::Status::Loaded,
                         qPrintable(formatProblems(bak.problems)));
                const qint64 bakGeneration = reliability::generationOf(bak.config);
                QVERIFY2(
                    bakGeneration >= 0 && bakGeneration <= onDisk,
                    qPrintable(QStringLiteral("round %1: NAME.bak holds generation %2, file %3")
                                   .arg(round)
                                   .arg(bakGeneration)
                                   .arg(onDisk)));
            }

            // What a user would do next: check the file and start from it.
            if (round % kCliEvery == kCliEvery - 1 || round == kRounds - 1) {
                QProcess cli;
                cli.start(QStringLiteral(STREAMGATE_BINARY),
                          {QStringLiteral("--config"), path, QStringLiteral("--check")});
                QVERIFY(cli.waitForFinished(20000));
                QVERIFY2(cli.exitStatus() == QProcess::NormalExit && cli.exitCode() == 0,
                         (cli.readAllStandardOutput() + cli.readAllStandardError()).constData());
            }
            ConfigStore store(path);
            QVERIFY(store.load().ok());
            QCOMPARE(reliability::generationOf(store.config()), onDisk);
            previous = onDisk;
        }
        qInfo("%d rounds, %d with the new version on disk before it was confirmed, last generation "
              "%lld",
              kRounds, newerOnDisk, static_cast<long long>(previous));
        QVERIFY(previous > 0);
    }
};

QTEST_GUILESS_MAIN(TestCrashSafeSave)
#include "tst_crashsafe_save.moc"
