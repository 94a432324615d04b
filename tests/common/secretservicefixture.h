#pragma once
// A private D-Bus session bus for a test (its own dbus-daemon, configured with no service that
// could be activated on it) and, on it, GNOME Keyring's Secret Service with a fresh login
// keyring unlocked by a password given on stdin, under a temporary HOME: nothing reaches the
// user's own session bus or keyring. Both daemons are children of the test, stopped by their
// QProcess (so by their own PID).

#include "procstat.h"

#include <QDBusConnection>
#include <QDBusMessage>
#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

namespace sgtest {

class PrivateSessionBus
{
public:
    PrivateSessionBus() = default;
    PrivateSessionBus(const PrivateSessionBus&) = delete;
    PrivateSessionBus& operator=(const PrivateSessionBus&) = delete;
    ~PrivateSessionBus() { stop(); }

    // Empty on success, else why the bus did not start.
    QString start()
    {
        if (!m_dir.isValid())
            return QStringLiteral("cannot make a temporary directory");
        const QString config = m_dir.filePath(QStringLiteral("bus.conf"));
        QFile f(config);
        if (!f.open(QIODevice::WriteOnly))
            return config + QStringLiteral(": ") + f.errorString();
        // No <servicedir>: a name nobody owns stays unowned (nothing is activated).
        f.write(QStringLiteral(
                    "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration "
                    "1.0//EN\" \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                    "<busconfig><type>session</type><listen>unix:dir=%1</listen>"
                    "<auth>EXTERNAL</auth><policy context=\"default\">"
                    "<allow send_destination=\"*\" eavesdrop=\"true\"/>"
                    "<allow eavesdrop=\"true\"/><allow own=\"*\"/></policy></busconfig>\n")
                    .arg(m_dir.path())
                    .toUtf8());
        f.close();
        m_daemon.start(QStringLiteral("dbus-daemon"),
                       {QStringLiteral("--config-file=") + config, QStringLiteral("--nofork"),
                        QStringLiteral("--print-address=1")});
        if (!m_daemon.waitForStarted(5000))
            return QStringLiteral("dbus-daemon did not start: ") + m_daemon.errorString();
        const QDeadlineTimer deadline(10000);
        while (!m_daemon.canReadLine() && m_daemon.state() == QProcess::Running &&
               !deadline.hasExpired())
            m_daemon.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime())));
        m_address = QString::fromUtf8(m_daemon.readLine()).trimmed();
        if (m_address.isEmpty())
            return QStringLiteral("dbus-daemon printed no address within 10 s: ") +
                   QString::fromLocal8Bit(m_daemon.readAllStandardError());
        return {};
    }

    QString address() const { return m_address; }
    qint64 pid() const { return m_daemon.processId(); }
    // A connection of this process to the bus, under `name` (one per name).
    QDBusConnection connect(const QString& name) const
    {
        return QDBusConnection::connectToBus(m_address, name);
    }
    void stop() { stopProcess(m_daemon); }

private:
    QTemporaryDir m_dir;
    QProcess m_daemon;
    QString m_address;
};

// Whether `name` has an owner on `bus` (one call, at most 2 s).
inline bool nameHasOwner(const QDBusConnection& bus, const QString& name)
{
    QDBusMessage m = QDBusMessage::createMethodCall(
        QStringLiteral("org.freedesktop.DBus"), QStringLiteral("/org/freedesktop/DBus"),
        QStringLiteral("org.freedesktop.DBus"), QStringLiteral("NameHasOwner"));
    m << name;
    const QDBusMessage reply = bus.call(m, QDBus::Block, 2000);
    return reply.type() == QDBusMessage::ReplyMessage && reply.arguments().value(0).toBool();
}

class GnomeKeyring
{
public:
    GnomeKeyring() = default;
    GnomeKeyring(const GnomeKeyring&) = delete;
    GnomeKeyring& operator=(const GnomeKeyring&) = delete;
    ~GnomeKeyring() { stop(); }

    // Starts gnome-keyring-daemon (secrets component only) on the bus and waits, at most 15 s,
    // until org.freedesktop.secrets has an owner there. Empty on success, else why not.
    QString start(const PrivateSessionBus& bus, const QDBusConnection& probe)
    {
        const QString exe = QStandardPaths::findExecutable(QStringLiteral("gnome-keyring-daemon"));
        if (exe.isEmpty())
            return QStringLiteral("gnome-keyring-daemon is not installed (Debian package "
                                  "gnome-keyring)");
        if (!m_home.isValid())
            return QStringLiteral("cannot make a temporary HOME");
        QProcessEnvironment env;
        env.insert(QStringLiteral("PATH"), qEnvironmentVariable("PATH"));
        env.insert(QStringLiteral("LANG"), QStringLiteral("C.UTF-8"));
        env.insert(QStringLiteral("HOME"), m_home.path());
        env.insert(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"), bus.address());
        for (const auto& [name, dir] :
             {std::pair{"XDG_DATA_HOME", "data"}, std::pair{"XDG_CONFIG_HOME", "config"},
              std::pair{"XDG_CACHE_HOME", "cache"}, std::pair{"XDG_RUNTIME_DIR", "run"}}) {
            const QString path = m_home.filePath(QString::fromLatin1(dir));
            QDir().mkpath(path);
            QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
            env.insert(QString::fromLatin1(name), path);
        }
        m_daemon.setProcessEnvironment(env);
        m_daemon.start(exe, {QStringLiteral("--foreground"), QStringLiteral("--unlock"),
                             QStringLiteral("--components=secrets")});
        if (!m_daemon.waitForStarted(5000))
            return QStringLiteral("gnome-keyring-daemon did not start: ") + m_daemon.errorString();
        m_daemon.write(kPassword); // the new login keyring's password, as a login would give it
        m_daemon.closeWriteChannel();
        const QDeadlineTimer deadline(15000);
        while (!nameHasOwner(probe, QStringLiteral("org.freedesktop.secrets"))) {
            if (m_daemon.state() != QProcess::Running)
                return QStringLiteral("gnome-keyring-daemon exited (%1): %2")
                    .arg(m_daemon.exitCode())
                    .arg(QString::fromLocal8Bit(m_daemon.readAllStandardError()));
            if (deadline.hasExpired())
                return QStringLiteral("gnome-keyring-daemon did not take org.freedesktop.secrets "
                                      "on the bus within 15 s: ") +
                       QString::fromLocal8Bit(m_daemon.readAllStandardError());
            QTest::qWait(50);
        }
        return {};
    }

    qint64 pid() const { return m_daemon.processId(); }
    // How the daemon ended and what it said on stderr, for a failure message.
    QString exitReport()
    {
        return QStringLiteral("%1, exit code %2: %3")
            .arg(m_daemon.exitStatus() == QProcess::CrashExit ? QStringLiteral("crashed")
                                                              : QStringLiteral("exited"))
            .arg(m_daemon.exitCode())
            .arg(QString::fromLocal8Bit(m_daemon.readAllStandardError()));
    }
    void stop() { stopProcess(m_daemon); }

    static constexpr const char* kPassword = "streamgate-test-keyring";

private:
    QTemporaryDir m_home;
    QProcess m_daemon;
};

} // namespace sgtest
