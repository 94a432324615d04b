#pragma once
// A running `streamgate` for tests through the real binary: headless, or the window (on the
// offscreen platform unless the test chooses another), on a given config; waits until its admin API
// answers and talks to it over HTTP on loopback. Everything is bounded by deadlines; stop() ends
// only this process.

#include "httptestclient.h"
#include "loopback.h"
#include "procstat.h"

#include <QNetworkAccessManager>
#include <QProcess>
#include <QProcessEnvironment>
#include <QStringList>
#include <QTest>
#include <QUrl>

namespace sgtest {

class StreamgateProcess
{
public:
    // The key requests carry; start() gives it to the process through STREAMGATE_ADMIN_KEY
    // unless told not to (then the test sets it to the key the process uses).
    QByteArray key = QByteArrayLiteral("test-admin-key-5b1e0c");

    // When set before start(), no --admin-listen is given: the admin API listens where the
    // config's streamgate.admin.listen says, and requests go to this port.
    int configAdminPort = 0;

    // The window's Qt platform: "xcb" in a WINDOW test puts it on that test's Xvfb display.
    QString platform = QStringLiteral("offscreen");

    ~StreamgateProcess() { stop(); }

    // Where requests go from now on (after the config moved the admin API).
    void setAdminPort(int port) { m_port = port; }

    // Starts the binary on `config` (the window unless `headless`), its admin API on a free
    // loopback port. `env` entries are added to the child's environment.
    bool start(const QString& config, bool headless, const QStringList& extraArgs = {},
               const QProcessEnvironment& env = {}, bool giveKey = true)
    {
        m_port = configAdminPort ? configAdminPort : freePort();
        QStringList args{QStringLiteral("--config"), config};
        if (!configAdminPort)
            args << QStringLiteral("--admin-listen") << QStringLiteral("127.0.0.1:%1").arg(m_port);
        if (headless)
            args << QStringLiteral("--headless");
        args << extraArgs;
        QProcessEnvironment all = QProcessEnvironment::systemEnvironment();
        all.insert(QStringLiteral("QT_QPA_PLATFORM"), platform);
        all.remove(QStringLiteral("STREAMGATE_ADMIN_KEY"));
        if (giveKey)
            all.insert(QStringLiteral("STREAMGATE_ADMIN_KEY"), QString::fromLatin1(key));
        for (const QString& name : env.keys())
            all.insert(name, env.value(name));
        process.setProcessEnvironment(all);
        process.setProcessChannelMode(QProcess::MergedChannels);
        output.clear();
        process.start(QStringLiteral(STREAMGATE_BINARY), args);
        return process.waitForStarted(10000);
    }

    // True once the admin API answers an authorised GET (false if the process ended first).
    bool waitForAdmin(int timeoutMs = 20000)
    {
        const qint64 deadline = nowMs() + timeoutMs;
        while (nowMs() < deadline) {
            if (process.state() == QProcess::NotRunning)
                return false;
            if (get(QStringLiteral("/apisix/admin/stream_routes")).status == 200)
                return true;
            QTest::qWait(100);
        }
        return false;
    }

    HttpAnswer call(const QByteArray& verb, const QString& path, const QByteArray& body = {})
    {
        QUrl url(QStringLiteral("http://127.0.0.1:%1%2").arg(m_port).arg(path));
        HttpAnswer answer = request(m_network, verb, url, body, key);
        readOutput();
        return answer;
    }
    HttpAnswer get(const QString& path) { return call("GET", path); }

    // The ids of the stream routes the admin API lists, in match order.
    // The stream routes the running instance serves, as its admin API lists them (in etcd's key
    // order, as APISIX lists them).
    QStringList routeIds()
    {
        QStringList ids;
        const HttpAnswer answer = get(QStringLiteral("/apisix/admin/stream_routes"));
        for (const QJsonValue& item : answer.json.value(QStringLiteral("list")).toArray())
            ids << item.toObject()
                       .value(QStringLiteral("value"))
                       .toObject()
                       .value(QStringLiteral("id"))
                       .toVariant()
                       .toString();
        return ids;
    }

    QByteArray readOutput()
    {
        output += process.readAll();
        return output;
    }

    // Waits for the process to end by itself; returns its exit code (-1 if it did not end).
    int waitForExit(int timeoutMs = 20000)
    {
        if (!process.waitForFinished(timeoutMs) && process.state() != QProcess::NotRunning)
            return -1;
        readOutput();
        return process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -2;
    }

    void stop()
    {
        if (process.state() == QProcess::NotRunning)
            return;
        stopProcess(process);
        readOutput();
    }

    quint16 port() const { return m_port; }

    QProcess process;
    QByteArray output; // stdout and stderr together

private:
    QNetworkAccessManager m_network;
    quint16 m_port = 0;
};

} // namespace sgtest
