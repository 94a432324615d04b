#pragma once
// Runs `promtool check metrics` (Debian package prometheus) on exposition text. Its lint
// (exit code 3) is a failure too, except for one finding: APISIX names two of its stream
// counters without the "_total" suffix (apisix_stream_status, apisix_stream_bandwidth), and
// Streamgate keeps APISIX's names so that APISIX's dashboards read it.

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
    if (process.exitStatus() != QProcess::NormalExit)
        return result;
    if (process.exitCode() == 0) {
        result.passed = true;
    } else if (process.exitCode() == 3) { // lint findings only
        result.passed = true;
        for (const QString& line : result.output.split(u'\n', Qt::SkipEmptyParts)) {
            const bool apisixName = line.startsWith(QLatin1String("apisix_stream_status ")) ||
                                    line.startsWith(QLatin1String("apisix_stream_bandwidth "));
            if (!apisixName || !line.endsWith(QLatin1String("counter metrics should have "
                                                            "\"_total\" suffix")))
                result.passed = false;
        }
    }
    return result;
}
