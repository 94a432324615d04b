// The config file belongs to the user as much as to Streamgate, tried through the real binary,
// headless and with the window (offscreen): a route added by hand while Streamgate runs survives
// the next change made through the admin API, and a hand edit applies without any change at all.
#include "streamgateprocess.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

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

bool writeFile(const QString& path, const QByteArray& bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
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

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY(QFile::exists(QStringLiteral(STREAMGATE_BINARY)));
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
        QCOMPARE(sg.routeIds(), (QStringList{"first", "hand", "api"}));

        // A hand edit alone applies too: the file is watched with the window open as headless.
        QStringList ids = idsInFile(path);
        ids << QStringLiteral("later");
        QJsonObject edited = configWith(ids, port);
        QVERIFY(writeFile(path, QJsonDocument(edited).toJson()));
        QTRY_COMPARE_WITH_TIMEOUT(sg.routeIds(), (QStringList{"first", "hand", "api", "later"}),
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
        QCOMPARE(sg.routeIds(), (QStringList{"first", "hand", "api", "later"}));
        sg.stop();
    }
};

QTEST_GUILESS_MAIN(TestConfigOwner)
#include "tst_configowner.moc"
