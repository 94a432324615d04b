// The window's route edits made over the admin API of the real `streamgate --headless`, seen
// from the network: a client on 127.0.0.2 that a whitelist refuses gets through to a real echo
// upstream once allowed and is refused again once blocked; a disabled route's port refuses
// connections and serves again when enabled; deleting the route closes its open connection and
// its port. Each change is in the config file on disk and in the log.
#include "streamgateprocess.h"
#include "testfiles.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>
#include <unistd.h>

using namespace sgtest;

namespace {

QJsonObject fileJson(const QString& path)
{
    return QJsonDocument::fromJson(readFile(path)).object();
}

QJsonArray whitelistInFile(const QString& path)
{
    for (const QJsonValue& r : fileJson(path).value("stream_routes").toArray()) {
        const QJsonObject route = r.toObject();
        if (route.value("id").toString() == u"db")
            return route.value("plugins")
                .toObject()
                .value("ip-restriction")
                .toObject()
                .value("whitelist")
                .toArray();
    }
    return {};
}

} // namespace

class TestHeadlessEdits : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    int m_port = 0;
    int m_seq = 0;

    // One round trip through the route from `from`: true when the echo upstream sent the bytes
    // back; false when the proxy closed the connection first or it could not be made.
    bool relays(const QString& from)
    {
        const int fd = connectTo(QStringLiteral("127.0.0.1"), m_port, from);
        if (fd < 0)
            return false;
        const QByteArray payload = "edit-check-" + QByteArray::number(++m_seq);
        QByteArray echoed;
        exchange(fd, payload, echoed, payload.size(), false, 3000);
        ::close(fd);
        return echoed == payload;
    }

    // True when nothing listens on the route's port any more.
    bool portRefuses()
    {
        const int fd = connectTo(QStringLiteral("127.0.0.1"), m_port, {}, 1000);
        if (fd >= 0)
            ::close(fd);
        return fd < 0;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY(QFile::exists(QStringLiteral(STREAMGATE_BINARY)));
    }

    void allowBlockDisableEnableDelete()
    {
        TestServer echo(TestServer::Echo);
        QVERIFY(echo.ok());
        m_port = freePort();
        const QString listen = QStringLiteral("127.0.0.1:%1").arg(m_port);
        const QJsonObject config{
            {"stream_proxy", QJsonObject{{"tcp", QJsonArray{listen}}}},
            {"stream_routes",
             QJsonArray{QJsonObject{
                 {"id", "db"},
                 {"server_port", m_port},
                 {"plugins", QJsonObject{{"ip-restriction",
                                          QJsonObject{{"whitelist", QJsonArray{"127.0.0.1"}}}}}},
                 {"upstream",
                  QJsonObject{
                      {"nodes",
                       QJsonObject{{QStringLiteral("127.0.0.1:%1").arg(echo.port()), 1}}}}}}}}};
        const QString path = m_dir.filePath(QStringLiteral("streamgate.json"));
        QVERIFY(writeFile(path, QJsonDocument(config).toJson()));

        StreamgateProcess sg;
        QVERIFY(sg.start(path, true));
        QVERIFY2(sg.waitForAdmin(), sg.readOutput().constData());

        // The whitelist lets 127.0.0.1 through and refuses 127.0.0.2 before any byte reaches
        // the upstream.
        QVERIFY2(relays(QStringLiteral("127.0.0.1")), sg.readOutput().constData());
        const int acceptedBefore = echo.accepted.load();
        QVERIFY(!relays(QStringLiteral("127.0.0.2")));
        QCOMPARE(echo.accepted.load(), acceptedBefore);

        // Allowed over the admin API: the same client gets through.
        HttpAnswer a = sg.call("POST", QStringLiteral("/streamgate/v1/stream_routes/db/allow"),
                               R"({"client": "127.0.0.2"})");
        QVERIFY2(a.status == 200, a.body.constData());
        QCOMPARE(whitelistInFile(path), (QJsonArray{"127.0.0.1", "127.0.0.2"}));
        QTRY_VERIFY_WITH_TIMEOUT(relays(QStringLiteral("127.0.0.2")), 5000);
        QTRY_VERIFY_WITH_TIMEOUT(
            sg.readOutput().contains("127.0.0.2 may now connect to db (admin API)"), 5000);

        // Blocked again: refused again, upstream untouched.
        a = sg.call("POST", QStringLiteral("/streamgate/v1/stream_routes/db/block"),
                    R"({"client": "127.0.0.2"})");
        QVERIFY2(a.status == 200, a.body.constData());
        QCOMPARE(whitelistInFile(path), QJsonArray{"127.0.0.1"});
        QTRY_VERIFY_WITH_TIMEOUT(!relays(QStringLiteral("127.0.0.2")), 5000);
        const int acceptedBlocked = echo.accepted.load();
        QVERIFY(!relays(QStringLiteral("127.0.0.2")));
        QCOMPARE(echo.accepted.load(), acceptedBlocked);
        QVERIFY(relays(QStringLiteral("127.0.0.1")));

        // Disabled: the port refuses connections; the file keeps the route aside.
        a = sg.call("POST", QStringLiteral("/streamgate/v1/stream_routes/db/disable"));
        QVERIFY2(a.status == 200, a.body.constData());
        QTRY_VERIFY_WITH_TIMEOUT(portRefuses(), 5000);
        QJsonObject disk = fileJson(path);
        QVERIFY(disk.value("stream_routes").toArray().isEmpty());
        QVERIFY(disk.value("stream_proxy").toObject().value("tcp").toArray().isEmpty());
        const QJsonArray disabled =
            disk.value("streamgate").toObject().value("disabled_routes").toArray();
        QCOMPARE(disabled.size(), 1);
        QCOMPARE(disabled.first().toObject().value("listen").toString(), listen);
        a = sg.get(QStringLiteral("/streamgate/v1/disabled_routes"));
        QCOMPARE(a.json.value("total").toInt(), 1);
        QCOMPARE(sg.routeIds(), QStringList());

        // Enabled: it serves again, on the same address.
        a = sg.call("POST", QStringLiteral("/streamgate/v1/stream_routes/db/enable"));
        QVERIFY2(a.status == 200, a.body.constData());
        QCOMPARE(a.json.value("listen").toString(), listen);
        QTRY_VERIFY_WITH_TIMEOUT(relays(QStringLiteral("127.0.0.1")), 5000);
        QVERIFY(!relays(QStringLiteral("127.0.0.2")));
        disk = fileJson(path);
        QCOMPARE(disk.value("stream_proxy").toObject().value("tcp").toArray(), QJsonArray{listen});
        QVERIFY(!disk.value("streamgate").toObject().contains("disabled_routes"));
        QCOMPARE(sg.routeIds(), QStringList{"db"});

        // Deleted while a connection is open: the connection is closed and the port with it.
        const int fd = connectTo(QStringLiteral("127.0.0.1"), m_port);
        QVERIFY(fd >= 0);
        QByteArray echoed;
        exchange(fd, "held", echoed, 4, false, 3000);
        QCOMPARE(echoed, QByteArray("held"));
        a = sg.call("DELETE", QStringLiteral("/streamgate/v1/stream_routes/db"));
        QVERIFY2(a.status == 200, a.body.constData());
        QCOMPARE(a.json.value("connections_closed").toInt(), 1);
        const ReadEnd end = waitForEnd(fd, 5000);
        ::close(fd);
        QVERIFY(end == ReadEnd::Eof || end == ReadEnd::Reset);
        QTRY_VERIFY_WITH_TIMEOUT(portRefuses(), 5000);
        disk = fileJson(path);
        QVERIFY(disk.value("stream_routes").toArray().isEmpty());
        QVERIFY(disk.value("stream_proxy").toObject().value("tcp").toArray().isEmpty());
        QCOMPARE(sg.call("DELETE", QStringLiteral("/streamgate/v1/stream_routes/db")).status, 404);
        sg.stop();
    }
};

QTEST_GUILESS_MAIN(TestHeadlessEdits)
#include "tst_headlessedits.moc"
