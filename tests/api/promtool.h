#pragma once
// Runs `promtool check metrics` (Debian package prometheus) on exposition text.

#include <QProcess>
#include <QStandardPaths>
#include <QString>

struct PromtoolResult
{
    bool available = false;
    bool passed = false;
    QString output;
};

inline PromtoolResult promtoolCheck(const QByteArray& metrics)
{
    PromtoolResult result;
    const QString promtool = QStandardPaths::findExecutable(QStringLiteral("promtool"));
    if (promtool.isEmpty())
        return result;
    result.available = true;
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(promtool, {QStringLiteral("check"), QStringLiteral("metrics")});
    if (!process.waitForStarted(10000)) {
        result.output = process.errorString();
        return result;
    }
    process.write(metrics);
    process.closeWriteChannel();
    if (!process.waitForFinished(30000)) {
        process.kill();
        process.waitForFinished(5000);
        result.output = QStringLiteral("promtool did not finish within 30 s");
        return result;
    }
    result.output = QString::fromUtf8(process.readAll());
    result.passed = process.exitStatus() == QProcess::NormalExit && process.exitCode() == 0;
    return result;
}
