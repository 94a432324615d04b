#pragma once
// A real peer from a Debian package (haproxy, nginx) started by a test: its config written to a
// private temporary directory, the process started in the foreground by QProcess (so stopped by
// its own PID), and start() returns once every port it must listen on accepts, or fails with
// what the process said.

#include "loopback.h"
#include "procstat.h"

#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QThread>
#include <csignal>
#include <sys/prctl.h>

namespace sgtest {

class PeerDaemon
{
public:
    ~PeerDaemon() { stop(); }

    // The directory its config and logs go to; valid for the daemon's life.
    QString dir() const { return m_dir.path(); }
    QString filePath(const QString& name) const { return m_dir.filePath(name); }

    static bool installed(const QString& program)
    {
        return !QStandardPaths::findExecutable(program, {"/usr/sbin", "/usr/bin", "/sbin"})
                    .isEmpty();
    }

    // Writes `config` to dir()/configName, runs program with args (dir() as working directory)
    // and waits up to 10 s for every port on 127.0.0.1 to accept.
    bool start(const QString& program, const QString& configName, const QByteArray& config,
               const QStringList& args, const QList<int>& ports)
    {
        QFile f(filePath(configName));
        if (!f.open(QIODevice::WriteOnly) || f.write(config) != config.size()) {
            m_error = QStringLiteral("cannot write %1").arg(f.fileName());
            return false;
        }
        f.close();
        const QString path =
            QStandardPaths::findExecutable(program, {"/usr/sbin", "/usr/bin", "/sbin"});
        m_process.setWorkingDirectory(dir());
        m_process.setProcessChannelMode(QProcess::MergedChannels);
        // Ends with the test, even one that crashes: never left holding the ports.
        m_process.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
        m_process.start(path, args);
        if (!m_process.waitForStarted(5000)) {
            m_error = QStringLiteral("%1 did not start: %2").arg(program, m_process.errorString());
            return false;
        }
        const qint64 deadline = nowMs() + 10000;
        for (int port : ports) {
            for (;;) {
                const int fd = connectTo(QStringLiteral("127.0.0.1"), port, {}, 500);
                if (fd >= 0) {
                    ::close(fd);
                    break;
                }
                if (m_process.state() != QProcess::Running || nowMs() > deadline) {
                    m_process.waitForFinished(100);
                    m_error = QStringLiteral("%1 is not listening on %2: %3")
                                  .arg(program)
                                  .arg(port)
                                  .arg(QString::fromLocal8Bit(m_process.readAll()));
                    stop();
                    return false;
                }
                QThread::msleep(20);
            }
        }
        return true;
    }

    void stop() { stopProcess(m_process); }
    QString error() const { return m_error; }

private:
    QTemporaryDir m_dir;
    QProcess m_process;
    QString m_error;
};

} // namespace sgtest
