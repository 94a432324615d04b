// The config file belongs to the user as much as to Streamgate, tried through the real binary,
// headless and with the window (offscreen): a route added by hand while Streamgate runs survives
// the next change made through the admin API, and a hand edit applies without any change at all.
// A user's file is never rewritten at start to hold a generated admin key (it is kept 0600 in
// NAME.key beside it), and the key can come from a file or the environment instead of argv.
#include "instancechannel.h"
#include "streamgateprocess.h"
#include "testfiles.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocalSocket>
#include <QNetworkAccessManager>
#include <QSet>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <sys/stat.h>

using namespace sgtest;

namespace {

QJsonObject route(const QString& id, int port)
{
    return QJsonObject{{"id", id},
                       {"server_port", port},
                       {"upstream", QJsonObject{{"nodes", QJsonObject{{"127.0.0.1:9", 1}}}}}};
}

QJsonObject configWith(const QStringList& ids, int port)
{
    QJsonArray routes;
    for (const QString& id : ids)
        routes.append(route(id, port));
    return QJsonObject{{"stream_proxy", QJsonObject{{"tcp", QJsonArray{port}}}},
                       {"stream_routes", routes}};
}

int modeOf(const QString& path)
{
    struct stat st = {};
    return ::lstat(QFile::encodeName(path).constData(), &st) == 0 ? int(st.st_mode & 07777) : -1;
}

QStringList idsInFile(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {QStringLiteral("unreadable")};
    QStringList ids;
    const QJsonArray routes =
        QJsonDocument::fromJson(f.readAll()).object().value("stream_routes").toArray();
    for (const QJsonValue& r : routes)
        ids << r.toObject().value("id").toString();
    return ids;
}

} // namespace

class TestConfigOwner : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    int m_seq = 0;

    QString freshConfig(const QJsonObject& config)
    {
        const QString dir = m_dir.filePath(QString::number(++m_seq));
        QDir().mkpath(dir);
        const QString path = dir + QStringLiteral("/streamgate.json");
        writeFile(path, QJsonDocument(config).toJson());
        return path;
    }

    static QJsonObject withListens(QJsonObject config, int adminPort, int metricsPort)
    {
        config.insert(
            "streamgate",
            QJsonObject{
                {"admin", QJsonObject{{"listen", QStringLiteral("127.0.0.1:%1").arg(adminPort)}}},
                {"prometheus",
                 QJsonObject{{"listen", QStringLiteral("127.0.0.1:%1").arg(metricsPort)}}}});
        return config;
    }

    QNetworkAccessManager m_network;

    // The top-level windows titled "Streamgate" on the test's X display (xwininfo, x11-utils),
    // each with whether it is mapped and viewable.
    static QList<bool> streamgateWindows()
    {
        QProcess tree;
        tree.start(QStringLiteral("xwininfo"),
                   {QStringLiteral("-root"), QStringLiteral("-children")});
        if (!tree.waitForFinished(5000))
            return {};
        QList<bool> windows;
        for (const QByteArray& line : tree.readAllStandardOutput().split('\n')) {
            if (!line.contains("\"Streamgate\""))
                continue;
            QProcess info;
            info.start(
                QStringLiteral("xwininfo"),
                {QStringLiteral("-id"), QString::fromLatin1(line.trimmed().split(' ').at(0))});
            info.waitForFinished(5000);
            windows << info.readAllStandardOutput().contains("Map State: IsViewable");
        }
        return windows;
    }

    int metricsStatus(int port)
    {
        return request(
                   m_network, "GET",
                   QUrl(QStringLiteral("http://127.0.0.1:%1/apisix/prometheus/metrics").arg(port)))
            .status;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY(QFile::exists(QStringLiteral(STREAMGATE_BINARY)));
    }

    // streamgate.admin.listen and streamgate.prometheus.listen changed in the file while
    // Streamgate runs: both move to the new address without a restart, and the old ports close.
    // An address that cannot be bound is logged with the reason, and the old one stays closed.
    void listenChangeInFileRebinds()
    {
        const QList<int> ports = freePorts(5);
        QCOMPARE(ports.size(), 5);
        const int port = ports[0], admin1 = ports[1], admin2 = ports[2], metrics1 = ports[3],
                  metrics2 = ports[4];
        const QString path =
            freshConfig(withListens(configWith({"first"}, port), admin1, metrics1));
        StreamgateProcess sg;
        sg.configAdminPort = admin1;
        QVERIFY(sg.start(path, true));
        QVERIFY2(sg.waitForAdmin(), sg.readOutput().constData());
        QTRY_COMPARE_WITH_TIMEOUT(metricsStatus(metrics1), 200, 10000);

        QVERIFY(writeFile(
            path,
            QJsonDocument(withListens(configWith({"first"}, port), admin2, metrics2)).toJson()));
        sg.setAdminPort(admin2);
        QVERIFY2(sg.waitForAdmin(), sg.readOutput().constData());
        QCOMPARE(sg.routeIds(), QStringList{"first"});
        QTRY_COMPARE_WITH_TIMEOUT(metricsStatus(metrics2), 200, 10000);
        sg.setAdminPort(admin1);
        QCOMPARE(sg.get(QStringLiteral("/apisix/admin/stream_routes")).status, 0);
        QCOMPARE(metricsStatus(metrics1), 0);

        // The new admin port is taken: the reason is logged, and the API is not left on admin2.
        QTcpServer squatter;
        QVERIFY(squatter.listen(QHostAddress::LocalHost, 0));
        const int taken = squatter.serverPort();
        QVERIFY(writeFile(
            path,
            QJsonDocument(withListens(configWith({"first"}, port), taken, metrics2)).toJson()));
        QTRY_VERIFY_WITH_TIMEOUT(
            sg.readOutput().contains(
                QStringLiteral("admin API cannot listen on 127.0.0.1:%1").arg(taken).toUtf8()),
            10000);
        sg.setAdminPort(admin2);
        QCOMPARE(sg.get(QStringLiteral("/apisix/admin/stream_routes")).status, 0);
        QCOMPARE(metricsStatus(metrics2), 200);
    }

    void handEditSurvivesAdminChange_data()
    {
        QTest::addColumn<bool>("headless");
        QTest::newRow("headless") << true;
        QTest::newRow("window") << false;
    }

    void handEditSurvivesAdminChange()
    {
        QFETCH(bool, headless);
        const int port = freePort();
        const QString path = freshConfig(configWith({"first"}, port));
        StreamgateProcess sg;
        QVERIFY(sg.start(path, headless));
        QVERIFY2(sg.waitForAdmin(), sg.readOutput().constData());
        QCOMPARE(sg.routeIds(), QStringList{"first"});

        // A route added in a text editor, then at once a change through the admin API (before
        // any file watcher could have seen the edit).
        QVERIFY(writeFile(path, QJsonDocument(configWith({"first", "hand"}, port)).toJson()));
        const HttpAnswer put =
            sg.call("PUT", QStringLiteral("/apisix/admin/stream_routes/api"),
                    QJsonDocument(route("api", port)).toJson(QJsonDocument::Compact));
        QVERIFY2(put.status == 201, put.body.constData());
        QCOMPARE(idsInFile(path), (QStringList{"first", "hand", "api"}));
        QCOMPARE(sg.routeIds(), (QStringList{"api", "first", "hand"}));

        // A hand edit alone applies too: the file is watched with the window open as headless.
        QStringList ids = idsInFile(path);
        ids << QStringLiteral("later");
        QJsonObject edited = configWith(ids, port);
        QVERIFY(writeFile(path, QJsonDocument(edited).toJson()));
        QTRY_COMPARE_WITH_TIMEOUT(sg.routeIds(), (QStringList{"api", "first", "hand", "later"}),
                                  10000);

        // A hand edit that does not validate: the admin change is refused with the file's name
        // and the problem, and the file stays as the user left it.
        const QByteArray broken = "{\"stream_routes\": [ {\"id\": \"x\" ]}";
        QVERIFY(writeFile(path, broken));
        const HttpAnswer refused =
            sg.call("PUT", QStringLiteral("/apisix/admin/stream_routes/api2"),
                    QJsonDocument(route("api2", port)).toJson(QJsonDocument::Compact));
        QVERIFY2(refused.status >= 400, refused.body.constData());
        QVERIFY2(refused.body.contains(path.toUtf8()), refused.body.constData());
        QVERIFY2(refused.body.contains("JSON syntax error"), refused.body.constData());
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), broken);
        QCOMPARE(sg.routeIds(), (QStringList{"api", "first", "hand", "later"}));
        sg.stop();
    }

    // A hand-written file without a key: started twice, the file keeps its exact bytes (and
    // its mode); the key is generated once into NAME.key (0600), the log says where, and it
    // opens the admin API.
    void generatedKeyStaysOutOfTheUserFile_data() { handEditSurvivesAdminChange_data(); }

    void generatedKeyStaysOutOfTheUserFile()
    {
        QFETCH(bool, headless);
        const int port = freePort();
        const QString path = freshConfig(configWith({"first"}, port));
        QVERIFY(QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner |
                                                QFile::ReadGroup | QFile::ReadOther));
        const QByteArray bytes = readFile(path);
        const QString keyPath = path + QStringLiteral(".key");
        QByteArray firstKey;
        for (int run = 0; run < 2; ++run) {
            StreamgateProcess sg;
            QVERIFY(sg.start(path, headless, {}, {}, false));
            QTRY_VERIFY_WITH_TIMEOUT(
                QFile::exists(keyPath) && sg.readOutput().contains(keyPath.toUtf8()), 20000);
            QCOMPARE(modeOf(keyPath), 0600);
            sg.key = readFile(keyPath).trimmed();
            QCOMPARE(sg.key.size(), 32);
            if (run == 0)
                firstKey = sg.key;
            QCOMPARE(sg.key, firstKey);
            QVERIFY2(sg.waitForAdmin(), sg.readOutput().constData());
            sg.stop();
            QCOMPARE(readFile(path), bytes);
            QCOMPARE(modeOf(path), 0644);
        }
    }

    // Where the key comes from: the environment, a file, the command line (with a warning),
    // or the config's own streamgate.admin.key, which wins over a generated NAME.key.
    void keySources_data()
    {
        QTest::addColumn<QString>("source");
        QTest::newRow("environment") << "env";
        QTest::newRow("key file") << "file";
        QTest::newRow("command line") << "argv";
        QTest::newRow("config wins over NAME.key") << "config";
    }

    void keySources()
    {
        QFETCH(QString, source);
        const int port = freePort();
        QJsonObject config = configWith({"first"}, port);
        const QByteArray key = "key-from-" + source.toUtf8();
        if (source == u"config")
            config.insert("streamgate",
                          QJsonObject{{"admin", QJsonObject{{"key", QString::fromUtf8(key)}}}});
        const QString path = freshConfig(config);
        QVERIFY(writeFile(path + QStringLiteral(".key"), "generated-key\n"));
        QFile::setPermissions(path + QStringLiteral(".key"), QFile::ReadOwner | QFile::WriteOwner);
        QStringList args;
        QProcessEnvironment env;
        if (source == u"env")
            env.insert(QStringLiteral("STREAMGATE_ADMIN_KEY"), QString::fromUtf8(key));
        if (source == u"file") {
            const QString keyFile = path + QStringLiteral(".mine");
            QVERIFY(writeFile(keyFile, key + "\n"));
            args << QStringLiteral("--admin-key-file") << keyFile;
        }
        if (source == u"argv")
            args << QStringLiteral("--admin-key") << QString::fromUtf8(key);

        StreamgateProcess sg;
        QVERIFY(sg.start(path, true, args, env, false));
        sg.key = key;
        QVERIFY2(sg.waitForAdmin(), sg.readOutput().constData());
        sg.key = "generated-key";
        QCOMPARE(sg.get(QStringLiteral("/apisix/admin/stream_routes")).status, 401);
        sg.stop();
        QCOMPARE(sg.output.contains("--admin-key shows the key"), source == u"argv");
        QVERIFY(!sg.output.contains(key));
    }

    // Through the binary, as the finding was: a NAME.bak symlink planted in a shared directory
    // does not make a change through the admin API write the config (and its key) through it.
    void plantedBackupLinkIsReplaced()
    {
        const int port = freePort();
        QJsonObject config = configWith({"first"}, port);
        config.insert("streamgate",
                      QJsonObject{{"admin", QJsonObject{{"key", "secret-in-config"}}}});
        const QString path = freshConfig(config);
        const QString victim = m_dir.filePath(QStringLiteral("victim"));
        QVERIFY(writeFile(victim, "someone else's file\n"));
        QVERIFY(QFile::link(victim, path + QStringLiteral(".bak")));
        StreamgateProcess sg;
        QVERIFY(sg.start(path, true, {}, {}, false));
        sg.key = "secret-in-config";
        QVERIFY2(sg.waitForAdmin(), sg.readOutput().constData());
        const HttpAnswer put =
            sg.call("PUT", QStringLiteral("/apisix/admin/stream_routes/api"),
                    QJsonDocument(route("api", port)).toJson(QJsonDocument::Compact));
        QVERIFY2(put.status == 201, put.body.constData());
        QCOMPARE(readFile(victim), QByteArray("someone else's file\n"));
        QVERIFY(!QFileInfo(path + QStringLiteral(".bak")).isSymLink());
        QCOMPARE(modeOf(path + QStringLiteral(".bak")), 0600);
        QVERIFY(readFile(path + QStringLiteral(".bak")).contains("secret-in-config"));
        sg.stop();
    }

    // One writer per config: a second instance on the same file refuses to start and names the
    // first one's pid (window or headless alike); once the owner is gone, even killed without a
    // chance to clean up, its stale lock is taken over.
    void secondInstanceRefuses_data() { handEditSurvivesAdminChange_data(); }

    void secondInstanceRefuses()
    {
        QFETCH(bool, headless);
        const QString path = freshConfig(configWith({"first"}, freePort()));
        StreamgateProcess owner;
        QVERIFY(owner.start(path, true));
        QVERIFY2(owner.waitForAdmin(), owner.readOutput().constData());

        StreamgateProcess second;
        QVERIFY(second.start(path, headless));
        QCOMPARE(second.waitForExit(), 75);
        const QByteArray pid = "pid " + QByteArray::number(owner.process.processId());
        QVERIFY2(second.output.contains(pid), second.output.constData());
        QVERIFY2(second.output.contains(path.toUtf8()), second.output.constData());
        QCOMPARE(owner.process.state(), QProcess::Running);

        owner.process.kill(); // SIGKILL: the lock file stays behind
        QVERIFY(owner.process.waitForFinished(10000));
        QVERIFY(QFile::exists(path + QStringLiteral(".lock")));
        StreamgateProcess third;
        QVERIFY(third.start(path, headless));
        QVERIFY2(third.waitForAdmin(), third.readOutput().constData());
        third.stop();
    }

    // A second launch of the window on a config whose owner has a window brings that window
    // forward and exits 0; the owner's event log says so. A headless launch is still refused.
    // On the test's Xvfb display (tst_configowner is a WINDOW test): one window, still the one
    // viewable window after the second launch.
    void secondWindowLaunchBringsTheFirstForward()
    {
        QVERIFY2(qEnvironmentVariable("QT_QPA_PLATFORM") == QLatin1String("xcb"),
                 "runs on an X display: tests/common/run-in-xvfb");
        const QString path = freshConfig(configWith({"first"}, freePort()));
        StreamgateProcess owner;
        owner.platform = QStringLiteral("xcb");
        QVERIFY(owner.start(path, false));
        QVERIFY2(owner.waitForAdmin(), owner.readOutput().constData());
        QTRY_COMPARE_WITH_TIMEOUT(streamgateWindows(), QList<bool>{true}, 10000);

        StreamgateProcess second;
        // Another spelling of the same file finds the same owner.
        const QString spelled =
            QFileInfo(path).absolutePath() + QStringLiteral("/./") + QFileInfo(path).fileName();
        QVERIFY(second.start(spelled, false));
        QCOMPARE(second.waitForExit(), 0);
        const QByteArray pid = "pid " + QByteArray::number(owner.process.processId());
        QVERIFY2(second.output.contains("its window was brought forward"),
                 second.output.constData());
        QVERIFY2(second.output.contains(pid), second.output.constData());
        QTRY_VERIFY_WITH_TIMEOUT(owner.get(QStringLiteral("/streamgate/v1/events"))
                                     .body.contains("this window was brought forward"),
                                 5000);
        QCOMPARE(owner.process.state(), QProcess::Running);
        QCOMPARE(streamgateWindows(), QList<bool>{true});

        StreamgateProcess headless;
        QVERIFY(headless.start(path, true));
        QCOMPARE(headless.waitForExit(), 75);
        QVERIFY2(headless.output.contains(pid), headless.output.constData());

        // A launch that only connects and says nothing, or says something else, is dropped; the
        // owner keeps answering.
        QLocalSocket idle;
        idle.connectToServer(sg::InstanceChannel::socketPath(path));
        QVERIFY(idle.waitForConnected(2000));
        QLocalSocket rude;
        rude.connectToServer(sg::InstanceChannel::socketPath(path));
        QVERIFY(rude.waitForConnected(2000));
        rude.write(QByteArray(100, 'x'));
        QVERIFY(rude.waitForDisconnected(3000));
        QVERIFY(idle.waitForDisconnected(5000));
        QCOMPARE(sg::InstanceChannel::askToShow(path), owner.process.processId());
        owner.stop();
    }

    void unusableKeyFileIsRefused()
    {
        const QString path = freshConfig(configWith({"first"}, freePort()));
        StreamgateProcess sg;
        const QString missing = path + QStringLiteral(".nokey");
        QVERIFY(sg.start(path, true, {QStringLiteral("--admin-key-file"), missing}, {}, false));
        QCOMPARE(sg.waitForExit(), 64);
        QVERIFY2(sg.output.contains(missing.toUtf8()), sg.output.constData());
    }
};

QTEST_GUILESS_MAIN(TestConfigOwner)
#include "tst_configowner.moc"
