// ConfigStore against real files in a temporary directory: first run, round trip, atomic saves
// with NAME.bak, broken files that must survive untouched, cross-object checks, diffs.
#include "config/configstore.h"
#include "config/keyfile.h"

#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <atomic>
#include <functional>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

using namespace sg;

using Mutation = std::function<Problems(ConfigStore&)>;
Q_DECLARE_METATYPE(Mutation)

namespace QTest {
template <> char* toString(const ConfigDiff& d)
{
    const QString text =
        QStringLiteral("routes +[%1] ~[%2] -[%3] upstreams +[%4] ~[%5] -[%6] services +[%7] "
                       "~[%8] -[%9] order=%10 listeners=%11 settings=%12")
            .arg(d.routesAdded.join(','), d.routesChanged.join(','), d.routesRemoved.join(','),
                 d.upstreamsAdded.join(','), d.upstreamsChanged.join(','),
                 d.upstreamsRemoved.join(','), d.servicesAdded.join(','),
                 d.servicesChanged.join(','), d.servicesRemoved.join(','))
            .arg(d.routeOrderChanged)
            .arg(d.listenersChanged)
            .arg(d.settingsChanged);
    return qstrdup(text.toUtf8().constData());
}
template <> char* toString(const Problems& problems)
{
    return qstrdup(formatProblems(problems).toUtf8().constData());
}
} // namespace QTest

namespace {

int modeOf(const QString& path)
{
    struct stat st = {};
    return ::lstat(QFile::encodeName(path).constData(), &st) == 0 ? int(st.st_mode & 07777) : -1;
}

QByteArray readBytes(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return f.readAll();
}

bool writeBytes(const QString& path, const QByteArray& bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
}

Config decode(const QByteArray& json)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError)
        qFatal("test JSON does not parse: %s", qPrintable(error.errorString()));
    const Decoded<Config> decoded = decodeConfig(doc.object());
    if (!decoded.ok())
        qFatal("test config is invalid: %s", qPrintable(formatProblems(decoded.problems)));
    return decoded.value;
}

StreamRoute decodeRoute(const QByteArray& json)
{
    const Decoded<StreamRoute> decoded =
        decodeStreamRoute(QJsonDocument::fromJson(json).object(), {}, DecodeMode::Client);
    if (!decoded.ok())
        qFatal("test route is invalid: %s", qPrintable(formatProblems(decoded.problems)));
    return decoded.value;
}

Upstream decodeUpstreamJson(const QByteArray& json)
{
    const Decoded<Upstream> decoded =
        decodeUpstream(QJsonDocument::fromJson(json).object(), {}, DecodeMode::Client);
    if (!decoded.ok())
        qFatal("test upstream is invalid: %s", qPrintable(formatProblems(decoded.problems)));
    return decoded.value;
}

// A route a test can add: valid, with an inline upstream and a listener-backed port.
StreamRoute simpleRoute(const QString& id, int port = 13306)
{
    return decodeRoute(QStringLiteral(R"({"id": "%1", "server_port": %2,
        "upstream": {"type": "roundrobin", "nodes": {"127.0.0.1:3306": 1}}})")
                           .arg(id)
                           .arg(port)
                           .toUtf8());
}

// True if every field of `expected` is in `actual` with the same value: the saved file may
// spell out defaults, but must not lose or alter anything the user wrote.
bool containsAll(const QJsonValue& actual, const QJsonValue& expected, const QString& at,
                 QString* where)
{
    if (expected.isObject()) {
        if (!actual.isObject()) {
            *where = at;
            return false;
        }
        const QJsonObject e = expected.toObject(), a = actual.toObject();
        for (auto it = e.begin(); it != e.end(); ++it) {
            if (!a.contains(it.key()) ||
                !containsAll(a.value(it.key()), it.value(), at + '.' + it.key(), where)) {
                if (where->isEmpty())
                    *where = at + '.' + it.key();
                return false;
            }
        }
        return true;
    }
    if (expected.isArray()) {
        const QJsonArray e = expected.toArray(), a = actual.toArray();
        if (!actual.isArray() || a.size() != e.size()) {
            *where = at;
            return false;
        }
        for (qsizetype i = 0; i < e.size(); ++i) {
            if (!containsAll(a.at(i), e.at(i), at + QStringLiteral("[%1]").arg(i), where))
                return false;
        }
        return true;
    }
    if (actual != expected) {
        *where = at;
        return false;
    }
    return true;
}

const QByteArray richConfig = R"({
  "stream_proxy": { "tcp": [13306, "127.0.0.1:15432", "[::1]:16000"], "udp": [5353] },
  "stream_routes": [
    { "id": "mysql", "name": "Local MySQL", "desc": "the database", "labels": { "env": "dev" },
      "server_port": 13306, "remote_addr": "192.168.1.0/24", "server_addr": "127.0.0.1",
      "plugins": { "ip-restriction": { "whitelist": ["127.0.0.1", "192.168.1.20"] },
                   "limit-conn": { "conn": 20, "burst": 5, "default_conn_delay": 0.1,
                                   "key": "remote_addr" } },
      "upstream": { "type": "roundrobin", "nodes": { "127.0.0.1:3306": 1 },
                    "timeout": { "connect": 3, "send": 600, "read": 600 }, "retries": 1 },
      "create_time": 1700000000, "update_time": 1700000100 },
    { "id": 7, "server_port": 15432, "upstream_id": "pg" },
    { "id": "dns", "server_port": 5353, "remote_addr": "::1",
      "plugins": { "ip-restriction": { "blacklist": ["10.0.0.0/8"], "message": "go away" } },
      "upstream": { "type": "chash", "hash_on": "vars", "key": "remote_addr",
                    "nodes": { "[::1]:53": 1, "127.0.0.1:53": 2 } } }
  ],
  "upstreams": [
    { "id": "pg", "name": "Postgres", "type": "least_conn",
      "nodes": [ { "host": "127.0.0.1", "port": 5432, "weight": 1, "priority": 1 },
                 { "host": "::1", "port": 5432, "weight": 0 } ],
      "create_time": 1700000000, "update_time": 1700000000 }
  ],
  "streamgate": { "prometheus": { "listen": "127.0.0.1:9091" } }
})";

const QByteArray twoRoutesOneUpstream = R"({
  "stream_proxy": { "tcp": [13306, 15432] },
  "stream_routes": [
    { "id": "a", "server_port": 13306, "upstream_id": "pg", "create_time": 1000, "update_time": 1000 },
    { "id": "b", "server_port": 15432, "upstream_id": "pg" },
    { "id": "c", "server_port": 15432, "upstream": { "nodes": { "127.0.0.1:1": 1 } } }
  ],
  "upstreams": [ { "id": "pg", "nodes": { "127.0.0.1:5432": 1 }, "create_time": 1000, "update_time": 1000 } ]
})";

} // namespace

class TestConfigStore : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    int m_seq = 0;
    // A fresh subdirectory per test, so NAME.bak and leftovers of one test never meet another.
    QString freshPath()
    {
        const QString dir = m_dir.filePath(QString::number(++m_seq));
        QDir().mkpath(dir);
        return dir + QStringLiteral("/streamgate.json");
    }

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void firstRunCreatesExample()
    {
        const QString path = m_dir.filePath(QStringLiteral("first/run/streamgate.json"));
        QVERIFY(!QFile::exists(path));
        const qint64 start = QDateTime::currentSecsSinceEpoch();
        ConfigStore store(path);
        QSignalSpy spy(&store, &ConfigStore::changed);
        const LoadResult result = store.load();
        QCOMPARE(result.status, LoadResult::Status::Created);
        QVERIFY(result.ok());
        QVERIFY(result.problems.isEmpty());
        QVERIFY(QFile::exists(path));
        QVERIFY(!store.fileIsBroken());
        QCOMPARE(QFile::permissions(path) & (QFile::ReadOther | QFile::ReadGroup),
                 QFile::Permissions());

        const Config config = store.config();
        QCOMPARE(config.streamRoutes.size(), 1);
        const StreamRoute& route = config.streamRoutes.first();
        QCOMPARE(route.idString(), QStringLiteral("local-mysql"));
        QCOMPARE(route.name, QStringLiteral("Local MySQL"));
        QCOMPARE(route.serverPort, std::optional<int>(13306));
        QVERIFY(route.upstream.has_value());
        QCOMPARE(route.upstream->type, QStringLiteral("roundrobin"));
        QCOMPARE(route.upstream->nodes.size(), 1);
        QCOMPARE(route.upstream->nodes.first().host, QStringLiteral("127.0.0.1"));
        QCOMPARE(route.upstream->nodes.first().port, 3306);
        QVERIFY(route.plugins.ipRestriction.has_value());
        QCOMPARE(route.plugins.ipRestriction->whitelist, QStringList{QStringLiteral("127.0.0.1")});
        QVERIFY(route.plugins.ipRestriction->blacklist.isEmpty());
        QVERIFY(route.createTime >= start);
        QCOMPARE(route.updateTime, route.createTime);
        QCOMPARE(config.streamProxy.tcp.size(), 1);
        QCOMPARE(config.streamProxy.tcp.first().port, 13306);
        QVERIFY(config.streamProxy.udp.isEmpty());
        QVERIFY(store.warnings().isEmpty());

        // The engine learns the first config through the same signal as every later change.
        QCOMPARE(spy.size(), 1);
        QCOMPARE(spy.first().at(0).value<ConfigDiff>().routesAdded,
                 QStringList{QStringLiteral("local-mysql")});
        QVERIFY(spy.first().at(0).value<ConfigDiff>().listenersChanged);

        // What was written is indented JSON that reads back to the same config.
        const QByteArray bytes = readBytes(path);
        QVERIFY(bytes.contains("\n    \""));
        const FileCheck reread = checkFile(path);
        QCOMPARE(reread.status, LoadResult::Status::Loaded);
        QVERIFY(reread.config == config);

        // A second start finds the file and loads it as is.
        ConfigStore again(path);
        QCOMPARE(again.load().status, LoadResult::Status::Loaded);
        QVERIFY(again.config() == config);
        QCOMPARE(readBytes(path), bytes);
    }

    void exampleIsValid()
    {
        const Config example = ConfigStore::exampleConfig();
        QCOMPARE(example.streamRoutes.size(), 1);
        const Decoded<Config> again = decodeConfig(encodeConfig(example));
        QCOMPARE(again.problems, Problems{});
        const ConfigCheck check = checkConfig(example);
        QCOMPARE(check.errors, Problems{});
        QCOMPARE(check.warnings, Problems{});
    }

    void defaultPathIsInTheUserConfigFolder()
    {
        QVERIFY(ConfigStore::defaultPath().endsWith(QStringLiteral("/streamgate/streamgate.json")));
    }

    void roundTrip()
    {
        const QString path = freshPath();
        QVERIFY(writeBytes(path, richConfig));
        ConfigStore store(path);
        const LoadResult loaded = store.load();
        QCOMPARE(loaded.problems, Problems{});
        QCOMPARE(loaded.status, LoadResult::Status::Loaded);
        const Config before = store.config();
        QCOMPARE(before.streamRoutes.size(), 3);
        QCOMPARE(before.streamRoutes.at(0).idString(), QStringLiteral("mysql"));
        QCOMPARE(before.streamRoutes.at(1).idString(), QStringLiteral("7"));
        QCOMPARE(before.streamRoutes.at(2).idString(), QStringLiteral("dns"));
        QCOMPARE(before.streamRoutes.at(0).createTime, 1700000000);

        QCOMPARE(store.save(), Problems{});
        const QByteArray saved = readBytes(path);
        const QJsonObject savedJson = QJsonDocument::fromJson(saved).object();
        QString where;
        QVERIFY2(
            containsAll(savedJson, QJsonDocument::fromJson(richConfig).object(), QString(), &where),
            qPrintable(QStringLiteral("saved file lost or changed %1:\n%2")
                           .arg(where, QString::fromUtf8(saved))));
        // The integer id stays an integer, match order stays list order.
        QVERIFY(savedJson.value("stream_routes").toArray().at(1).toObject().value("id").isDouble());

        ConfigStore reloaded(path);
        QCOMPARE(reloaded.load().status, LoadResult::Status::Loaded);
        QVERIFY(reloaded.config() == before);
        // Saving what was loaded is stable: the second save writes the same bytes.
        QCOMPARE(reloaded.save(), Problems{});
        QCOMPARE(readBytes(path), saved);
    }

    void atomicSaveKeepsPreviousAsBackup()
    {
        const QString path = freshPath();
        ConfigStore store(path);
        QCOMPARE(store.load().status, LoadResult::Status::Created);
        QVERIFY(!QFile::exists(store.backupPath()));
        const QByteArray v1 = readBytes(path);

        QCOMPARE(store.putRoute(simpleRoute(QStringLiteral("second"))), Problems{});
        const QByteArray v2 = readBytes(path);
        QVERIFY(v2 != v1);
        QVERIFY(v2.contains("\"second\""));
        QCOMPARE(readBytes(store.backupPath()), v1);

        QCOMPARE(store.deleteRoute(QStringLiteral("local-mysql")), Problems{});
        const QByteArray v3 = readBytes(path);
        QVERIFY(!v3.contains("local-mysql"));
        QCOMPARE(readBytes(store.backupPath()), v2);
        QCOMPARE(checkFile(store.backupPath()).status, LoadResult::Status::Loaded);
        // The file will hold the admin key: neither the new version nor the backup is readable
        // by others.
        const auto others = QFile::ReadOther | QFile::ReadGroup;
        QCOMPARE(QFile::permissions(path) & others, QFile::Permissions());
        QCOMPARE(QFile::permissions(store.backupPath()) & others, QFile::Permissions());

        // QSaveFile leaves no temporary file behind.
        QCOMPARE(QDir(QFileInfo(path).absolutePath()).entryList(QDir::Files | QDir::Hidden),
                 QStringList(
                     {QStringLiteral("streamgate.json"), QStringLiteral("streamgate.json.bak")}));
    }

    void brokenFileIsReportedAndKept_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<int>("line");
        QTest::addColumn<int>("column");
        QTest::newRow("missing comma between members")
            << QByteArray("{\n  \"stream_routes\": []\n  \"upstreams\": []\n}\n") << 3 << 3;
        QTest::newRow("double comma in array")
            << QByteArray("{\n  \"stream_proxy\": {\"tcp\": [13306,,]}\n}\n") << 2 << 34;
        QTest::newRow("garbage after the document") << QByteArray("{}\nxx\n") << 2 << 1;
        QTest::newRow("columns count characters not bytes")
            << QByteArray("{\n  \"stream_routes\": [{\"name\": \"B\xc3\xbc"
                          "cher\" \"x\"}]\n}\n")
            << 2 << 39;
        QTest::newRow("misspelt literal on line 1") << QByteArray("{\"a\": tru}") << 1 << 7;
        QTest::newRow("letter in a number") << QByteArray("{\n\"a\": x}") << 2 << 6;
        QTest::newRow("unfinished number at the end") << QByteArray("{\"a\": -}") << 1 << 8;
        QTest::newRow("missing colon") << QByteArray("{\"a\" 1}") << 1 << 6;
        QTest::newRow("empty file") << QByteArray("") << 1 << 1;
    }

    void brokenFileIsReportedAndKept()
    {
        QFETCH(QByteArray, content);
        QFETCH(int, line);
        QFETCH(int, column);
        const QString path = freshPath();
        QVERIFY(writeBytes(path, content));
        {
            ConfigStore store(path);
            QSignalSpy spy(&store, &ConfigStore::changed);
            const LoadResult result = store.load();
            QCOMPARE(result.status, LoadResult::Status::SyntaxError);
            QVERIFY(!result.ok());
            QCOMPARE(result.problems.size(), 1);
            const QString where = QStringLiteral("%1:%2:%3:").arg(path).arg(line).arg(column);
            QVERIFY2(result.problems.first().text().startsWith(where),
                     qPrintable(result.problems.first().text() + " does not start with " + where));
            QVERIFY(!result.backupAvailable);
            QVERIFY(store.fileIsBroken());
            QVERIFY(store.config() == Config{});
            QCOMPARE(store.lastLoadResult().status, LoadResult::Status::SyntaxError);

            // Nothing but an explicit save may replace it.
            // The refusal names the file and repeats why it could not be loaded.
            const Problems refused = store.putRoute(simpleRoute(QStringLiteral("x")));
            QCOMPARE(refused, refused.mid(0, 1) + result.problems);
            QVERIFY(refused.first().reason.contains(QStringLiteral("could not be loaded")));
            QVERIFY(refused.first().reason.contains(path));
            QCOMPARE(store.setSettings(QJsonObject{{"mysql_inspect", false}}), refused);
            QCOMPARE(readBytes(path), content);
            QVERIFY(store.config() == Config{});
            QCOMPARE(spy.size(), 0);
            QCOMPARE(store.revision(), 0);
        }
        QCOMPARE(readBytes(path), content);
        QVERIFY(!QFile::exists(path + QStringLiteral(".bak")));
    }

    void brokenFileOffersBackup()
    {
        const QString path = freshPath();
        const QByteArray broken("{\n  \"stream_routes\": [\n");
        const QByteArray good = richConfig;
        QVERIFY(writeBytes(path, broken));
        QVERIFY(writeBytes(path + QStringLiteral(".bak"), good));

        ConfigStore store(path);
        QSignalSpy spy(&store, &ConfigStore::changed);
        const LoadResult result = store.load();
        QCOMPARE(result.status, LoadResult::Status::SyntaxError);
        QVERIFY(result.backupAvailable);

        const LoadResult recovered = store.loadBackup();
        QCOMPARE(recovered.status, LoadResult::Status::Loaded);
        QVERIFY(store.config() == decode(good));
        QCOMPARE(spy.size(), 1);
        // Recovering reads the backup only: the broken file stays on disk until the next write,
        // but the user has chosen, so changes are accepted again.
        QCOMPARE(readBytes(path), broken);
        QVERIFY(!store.fileIsBroken());

        QCOMPARE(store.putRoute(simpleRoute(QStringLiteral("x"))), Problems{});
        const FileCheck written = checkFile(path);
        QCOMPARE(written.status, LoadResult::Status::Loaded);
        QCOMPARE(written.config.streamRoutes.size(), 4);
        QVERIFY(written.config.streamRoutes.last().idString() == QStringLiteral("x"));
        // The broken bytes are kept aside; NAME.bak stays the last good version.
        QCOMPARE(readBytes(path + QStringLiteral(".broken")), broken);
        QCOMPARE(readBytes(path + QStringLiteral(".bak")), good);

        // Back to normal: the next change rotates the backup.
        const QByteArray savedBytes = readBytes(path);
        QCOMPARE(store.deleteRoute(QStringLiteral("x")), Problems{});
        QCOMPARE(readBytes(path + QStringLiteral(".bak")), savedBytes);
        QCOMPARE(readBytes(path + QStringLiteral(".broken")), broken);
    }

    void brokenFileIsReplacedOnlyOnPurpose()
    {
        const QString path = freshPath();
        const QByteArray broken("{\"stream_routes\": [}");
        QVERIFY(writeBytes(path, broken));
        ConfigStore store(path);
        const LoadResult result = store.load();
        QCOMPARE(result.status, LoadResult::Status::SyntaxError);
        QVERIFY(!result.backupAvailable);
        QCOMPARE(store.putRoute(simpleRoute(QStringLiteral("x"))).size(),
                 1 + result.problems.size());
        QCOMPARE(readBytes(path), broken);

        // The user starts over on purpose: an empty config replaces the file, its bytes stay.
        QCOMPARE(store.save(), Problems{});
        QVERIFY(!store.fileIsBroken());
        QCOMPARE(checkFile(path).status, LoadResult::Status::Loaded);
        QVERIFY(checkFile(path).config == Config{});
        QCOMPARE(readBytes(path + QStringLiteral(".broken")), broken);
        QVERIFY(!QFile::exists(store.backupPath()));

        QCOMPARE(store.putRoute(simpleRoute(QStringLiteral("x"))), Problems{});
        QCOMPARE(checkFile(path).config.streamRoutes.size(), 1);
        QCOMPARE(checkFile(store.backupPath()).config, Config{});
    }

    void backupIsOfferedOnlyWhenValid_data()
    {
        QTest::addColumn<bool>("writeBackup");
        QTest::addColumn<QByteArray>("backup");
        QTest::addColumn<bool>("offered");
        QTest::newRow("no backup") << false << QByteArray() << false;
        QTest::newRow("broken backup") << true << QByteArray("{\"stream_routes\": [") << false;
        QTest::newRow("invalid backup")
            << true << QByteArray(R"({"stream_routes": [{"id": "a", "remote_addr": ":/8"}]})")
            << false;
        QTest::newRow("good backup") << true << richConfig << true;
    }

    void backupIsOfferedOnlyWhenValid()
    {
        QFETCH(bool, writeBackup);
        QFETCH(QByteArray, backup);
        QFETCH(bool, offered);
        const QString path = freshPath();
        QVERIFY(writeBytes(path, "{oops"));
        if (writeBackup)
            QVERIFY(writeBytes(path + QStringLiteral(".bak"), backup));
        ConfigStore store(path);
        QCOMPARE(store.load().backupAvailable, offered);
        const LoadResult recovered = store.loadBackup();
        QCOMPARE(recovered.ok(), offered);
        if (!offered) {
            QVERIFY(!recovered.problems.isEmpty());
            QVERIFY(store.config() == Config{});
        }
        QCOMPARE(readBytes(path), QByteArray("{oops"));
    }

    void invalidFileIsReportedAndKept()
    {
        const QString path = freshPath();
        const QByteArray content = R"({
  "stream_proxy": { "tcp": [13306] },
  "stream_routes": [ { "id": "a", "server_port": 13306, "remote_addr": ":/8",
                       "upstream": { "nodes": { "127.0.0.1:3306": 1 } } } ]
})";
        QVERIFY(writeBytes(path, content));
        ConfigStore store(path);
        const LoadResult result = store.load();
        QCOMPARE(result.status, LoadResult::Status::Invalid);
        QVERIFY(store.fileIsBroken());
        bool found = false;
        for (const Problem& p : result.problems) {
            if (p.path == QStringLiteral("stream_routes[0].remote_addr") &&
                p.reason == QStringLiteral("invalid remote_addr: :/8"))
                found = true;
        }
        QVERIFY2(found, qPrintable(formatProblems(result.problems)));
        QCOMPARE(store.putRoute(simpleRoute(QStringLiteral("b"))).size(),
                 1 + result.problems.size());
        QCOMPARE(readBytes(path), content);
    }

    void hugeNumericIdIsRefusedByName()
    {
        // A number no integer type holds, as an upstream id and a reference to it: refused with
        // the field named, the file untouched (clang's UBSan aborts on the float-to-integer
        // conversion the reference check used to make).
        const QString path = freshPath();
        const QByteArray content = R"({
  "stream_proxy": { "tcp": [13306] },
  "upstreams": [ { "id": 1e300, "nodes": { "127.0.0.1:3306": 1 } } ],
  "stream_routes": [ { "id": "a", "server_port": 13306, "upstream_id": 1e300 } ]
})";
        QVERIFY(writeBytes(path, content));
        ConfigStore store(path);
        const LoadResult result = store.load();
        QCOMPARE(result.status, LoadResult::Status::Invalid);
        bool named = false;
        for (const Problem& p : result.problems)
            named = named || p.path.startsWith(QStringLiteral("upstreams[0].id"));
        QVERIFY2(named, qPrintable(formatProblems(result.problems)));
        QCOMPARE(readBytes(path), content);
    }

    void fileBrokenAfterLoadIsNotOverwritten()
    {
        const QString path = freshPath();
        ConfigStore store(path);
        QCOMPARE(store.load().status, LoadResult::Status::Created);
        const QByteArray goodBackup = readBytes(path);
        QVERIFY(writeBytes(store.backupPath(), goodBackup));
        // Someone edits the file by hand while the app runs and leaves it broken.
        const QByteArray edited("{\"stream_routes\": [ {\"id\": \"x\" ]}");
        QVERIFY(writeBytes(path, edited));

        const Problems refused = store.putRoute(simpleRoute(QStringLiteral("x")));
        QVERIFY(!refused.isEmpty());
        QVERIFY(formatProblems(refused).contains(path + QStringLiteral(":1:")));
        QCOMPARE(readBytes(path), edited);
        QCOMPARE(readBytes(store.backupPath()), goodBackup);
        QVERIFY(store.fileIsBroken());
        QCOMPARE(store.config().streamRoutes.size(), 1);
    }

    void fileEditedByHandBecomesTheBackup()
    {
        const QString path = freshPath();
        ConfigStore store(path);
        QCOMPARE(store.load().status, LoadResult::Status::Created);
        // A valid hand edit while the app runs: the next change keeps it as NAME.bak.
        QVERIFY(writeBytes(path, richConfig));
        QCOMPARE(store.putRoute(simpleRoute(QStringLiteral("two"))), Problems{});
        QCOMPARE(readBytes(store.backupPath()), richConfig);
        QVERIFY(!store.fileIsBroken());
        // The hand edit is taken in first and the change lands on top of it.
        QCOMPARE(checkFile(path).config.streamRoutes.size(), 4);
    }

    // The data-loss case: a route added by hand while the store runs survives every kind of
    // change made through the store afterwards, and the engine hears of it as a diff.
    void handEditSurvivesTheNextChange_data()
    {
        QTest::addColumn<Mutation>("mutation");
        QTest::addColumn<QStringList>("routes");
        QTest::newRow("putRoute") << Mutation([](ConfigStore& s) {
            return s.putRoute(simpleRoute(QStringLiteral("api")));
        }) << QStringList{"local-mysql", "hand", "api"};
        QTest::newRow("deleteRoute")
            << Mutation([](ConfigStore& s) { return s.deleteRoute(QStringLiteral("local-mysql")); })
            << QStringList{"hand"};
        QTest::newRow("moveRoute") << Mutation([](ConfigStore& s) {
            return s.moveRoute(QStringLiteral("local-mysql"), 1);
        }) << QStringList{"hand", "local-mysql"};
        QTest::newRow("setSettings") << Mutation([](ConfigStore& s) {
            return s.setSettings(QJsonObject{{"admin", QJsonObject{{"key", "k"}}}});
        }) << QStringList{"local-mysql", "hand"};
        // An edit that reads what it changes runs on the newest version: it sees "hand".
        QTest::newRow("update") << Mutation([](ConfigStore& s) {
            return s.update([](Config& next) {
                if (!next.findRoute(QStringLiteral("hand")))
                    return Problems{Problem{QString(), QString(), QStringLiteral("not taken in")}};
                next.streamRoutes << simpleRoute(QStringLiteral("api"));
                return Problems{};
            });
        }) << QStringList{"local-mysql", "hand", "api"};
        // A whole config built from the version before the hand edit (what the window does):
        // only what it changed is carried over.
        QTest::newRow("replace") << Mutation([](ConfigStore& s) {
            Config next = s.config();
            next.streamRoutes.first().name = QStringLiteral("renamed");
            next.streamRoutes << simpleRoute(QStringLiteral("form"));
            return s.replace(next);
        }) << QStringList{"local-mysql", "hand", "form"};
    }

    void handEditSurvivesTheNextChange()
    {
        QFETCH(Mutation, mutation);
        QFETCH(QStringList, routes);
        const QString path = freshPath();
        ConfigStore store(path);
        QCOMPARE(store.load().status, LoadResult::Status::Created);
        const QByteArray before = readBytes(path);
        QJsonObject json = QJsonDocument::fromJson(before).object();
        QJsonArray list = json.value("stream_routes").toArray();
        list.append(
            QJsonObject{{"id", "hand"},
                        {"server_port", 13306},
                        {"remote_addr", "10.0.0.0/8"},
                        {"upstream", QJsonObject{{"nodes", QJsonObject{{"10.0.0.1:3306", 1}}}}}});
        json.insert("stream_routes", list);
        const QByteArray handEdited = QJsonDocument(json).toJson();
        QVERIFY(writeBytes(path, handEdited));

        QSignalSpy spy(&store, &ConfigStore::changed);
        QCOMPARE(mutation(store), Problems{});
        QVERIFY(spy.size() >= 1);
        QCOMPARE(spy.first().at(0).value<ConfigDiff>().routesAdded,
                 QStringList{QStringLiteral("hand")});

        QStringList inFile, inMemory;
        for (const StreamRoute& r : checkFile(path).config.streamRoutes)
            inFile << r.idString();
        for (const StreamRoute& r : store.config().streamRoutes)
            inMemory << r.idString();
        QCOMPARE(inFile, routes);
        QCOMPARE(inMemory, routes);
        // What the user wrote is the previous version now.
        QCOMPARE(readBytes(store.backupPath()), handEdited);
        if (QByteArray(QTest::currentDataTag()) == "replace") {
            QCOMPARE(store.config().streamRoutes.first().name, QStringLiteral("renamed"));
            QCOMPARE(store.config().findRoute("hand")->remoteAddr, QStringLiteral("10.0.0.0/8"));
        }
    }

    // A hand edit that does not validate: the change is refused, the message names the file and
    // what is wrong, and nothing is overwritten; once the file is fixed, changes work again.
    void invalidHandEditRefusesTheChange()
    {
        const QString path = freshPath();
        ConfigStore store(path);
        QCOMPARE(store.load().status, LoadResult::Status::Created);
        const QByteArray invalid = R"({"stream_routes": [{"id": "a", "remote_addr": ":/8",
            "upstream": {"nodes": {"127.0.0.1:1": 1}}}]})";
        QVERIFY(writeBytes(path, invalid));
        const Problems refused = store.putRoute(simpleRoute(QStringLiteral("x")));
        const QString text = formatProblems(refused);
        QVERIFY2(text.contains(path), qPrintable(text));
        QVERIFY2(
            text.contains(QStringLiteral("stream_routes[0].remote_addr: invalid remote_addr: :/8")),
            qPrintable(text));
        QCOMPARE(readBytes(path), invalid);
        QVERIFY(!QFile::exists(store.backupPath()));
        QCOMPARE(store.config().streamRoutes.size(), 1); // the running config stays

        QVERIFY(writeBytes(path, richConfig));
        QCOMPARE(store.putRoute(simpleRoute(QStringLiteral("x"))), Problems{});
        QCOMPARE(checkFile(path).config.streamRoutes.size(), 4);
        QVERIFY(!store.fileIsBroken());
    }

    // With the file watched (GUI and headless alike), a hand edit applies without any change
    // through the store; a broken one is reported and the running config stays.
    void watchedFileReloadsOnChange()
    {
        const QString path = freshPath();
        ConfigStore store(path);
        QCOMPARE(store.load().status, LoadResult::Status::Created);
        store.watchFile();
        QSignalSpy spy(&store, &ConfigStore::changed);
        QVERIFY(writeBytes(path, richConfig));
        QTRY_COMPARE_WITH_TIMEOUT(store.config().streamRoutes.size(), 3, 5000);
        QCOMPARE(spy.size(), 1);
        QVERIFY(spy.first().at(0).value<ConfigDiff>().routesAdded.contains(QStringLiteral("dns")));

        const Config running = store.config();
        QVERIFY(writeBytes(path, "{\"stream_routes\": ["));
        QTRY_VERIFY_WITH_TIMEOUT(store.fileIsBroken(), 5000);
        QVERIFY(store.config() == running);
        QCOMPARE(spy.size(), 1);
    }

    // Config, NAME.bak and the key file are 0600 from the first byte and stay so whatever mode
    // the user's file had and whatever the umask; the directories the store makes are 0700.
    void savesArePrivate()
    {
        const mode_t oldMask = ::umask(0);
        const QString dir = m_dir.filePath(QStringLiteral("private/new"));
        const QString path = dir + QStringLiteral("/streamgate.json");
        {
            ConfigStore store(path);
            QCOMPARE(store.load().status, LoadResult::Status::Created);
            QCOMPARE(modeOf(path), 0600);
            QCOMPARE(modeOf(dir), 0700);
            QCOMPARE(modeOf(m_dir.filePath(QStringLiteral("private"))), 0700);
            const KeyFileResult key = loadOrCreateKeyFile(store.keyPath());
            QVERIFY2(key.ok, qPrintable(key.message));
            QCOMPARE(modeOf(store.keyPath()), 0600);
            QCOMPARE(loadOrCreateKeyFile(store.keyPath()).key, key.key); // kept, not regenerated
        }
        const QString shared = freshPath();
        QVERIFY(writeBytes(shared, richConfig));
        QVERIFY(QFile::setPermissions(shared, QFile::ReadOwner | QFile::WriteOwner |
                                                  QFile::ReadGroup | QFile::ReadOther));
        ConfigStore store(shared);
        QVERIFY(store.load().ok());
        QCOMPARE(store.putRoute(simpleRoute(QStringLiteral("x"))), Problems{});
        QCOMPARE(modeOf(shared), 0600);
        QCOMPARE(modeOf(store.backupPath()), 0600);
        QCOMPARE(readBytes(store.backupPath()), richConfig);
        ::umask(oldMask);
    }

    // A key file that is a planted symlink, or that others may read, is not trusted: it is
    // replaced by a new private file and the link's target is neither read nor written.
    void untrustedKeyFileIsReplaced_data()
    {
        QTest::addColumn<bool>("symlink");
        QTest::newRow("symlink") << true;
        QTest::newRow("readable by others") << false;
    }

    void untrustedKeyFileIsReplaced()
    {
        QFETCH(bool, symlink);
        const QString path = freshPath();
        const QString keyPath = path + QStringLiteral(".key");
        const QString planted = path + QStringLiteral(".planted");
        QVERIFY(writeBytes(planted, "known-to-others\n"));
        if (symlink) {
            QVERIFY(QFile::link(planted, keyPath));
        } else {
            QVERIFY(writeBytes(keyPath, "known-to-others\n"));
            QVERIFY(QFile::setPermissions(keyPath,
                                          QFile::ReadOwner | QFile::WriteOwner | QFile::ReadOther));
        }
        const KeyFileResult key = loadOrCreateKeyFile(keyPath);
        QVERIFY2(key.ok, qPrintable(key.message));
        QVERIFY(key.key != QStringLiteral("known-to-others"));
        QVERIFY2(key.message.contains(keyPath), qPrintable(key.message));
        QVERIFY(!QFileInfo(keyPath).isSymLink());
        QCOMPARE(modeOf(keyPath), 0600);
        QCOMPARE(readBytes(planted), QByteArray("known-to-others\n"));
    }

    // Keys given twice are errors of the load, with their path; the file is kept untouched.
    void duplicateKeysAreRefused()
    {
        const QString path = freshPath();
        const QByteArray content = R"({"stream_routes": [],
            "upstreams": [{"id": "pg", "nodes": {"127.0.0.1:5432": 1}, "type": "roundrobin",
                           "type": "least_conn"}],
            "stream_routes": []})";
        QVERIFY(writeBytes(path, content));
        ConfigStore store(path);
        const LoadResult result = store.load();
        QCOMPARE(result.status, LoadResult::Status::Invalid);
        QStringList paths;
        for (const Problem& p : result.problems)
            paths << p.path;
        QCOMPARE(paths, (QStringList{"upstreams[0].type", "stream_routes"}));
        QVERIFY(result.problems.last().reason.contains(QStringLiteral("lines 1 and 4")));
        QCOMPARE(readBytes(path), content);
    }

    // A config replaced by a FIFO while the store runs: the next change is refused at once with
    // the reason, and nothing blocks.
    void fifoInPlaceOfTheFileDoesNotHang()
    {
        const QString path = freshPath();
        ConfigStore store(path);
        QVERIFY(store.load().ok());
        QVERIFY(QFile::remove(path));
        QCOMPARE(::mkfifo(QFile::encodeName(path).constData(), 0600), 0);
        QElapsedTimer timer;
        timer.start();
        const Problems refused = store.putRoute(simpleRoute(QStringLiteral("x")));
        QVERIFY(timer.elapsed() < 5000);
        QVERIFY2(formatProblems(refused).contains(QStringLiteral("FIFO")),
                 qPrintable(formatProblems(refused)));
        QCOMPARE(store.config().streamRoutes.size(), 1);
    }

    // A NAME.bak (or NAME.broken) symlink planted beside the config: the link itself is
    // replaced by a private file, the file it points to is never written.
    void backupsNeverFollowSymlinks_data()
    {
        QTest::addColumn<QString>("suffix");
        QTest::addColumn<QByteArray>("content");
        QTest::newRow("NAME.bak") << QStringLiteral(".bak") << richConfig;
        QTest::newRow("NAME.broken") << QStringLiteral(".broken") << QByteArray("{oops");
    }

    void backupsNeverFollowSymlinks()
    {
        QFETCH(QString, suffix);
        QFETCH(QByteArray, content);
        const QString path = freshPath();
        const QString victim = m_dir.filePath(QStringLiteral("victim-%1").arg(m_seq));
        QVERIFY(writeBytes(victim, "precious\n"));
        QVERIFY(writeBytes(path, content));
        QVERIFY(QFile::link(victim, path + suffix));
        ConfigStore store(path);
        store.load();
        const Problems saved = suffix == u".bak"
                                   ? store.putRoute(simpleRoute(QStringLiteral("x")))
                                   : store.save(); // replacing the broken file on purpose
        QCOMPARE(saved, Problems{});
        QCOMPARE(readBytes(victim), QByteArray("precious\n"));
        QVERIFY(!QFileInfo(path + suffix).isSymLink());
        QCOMPARE(readBytes(path + suffix), content);
        QCOMPARE(modeOf(path + suffix), 0600);
    }

    // One writer per config: a second lock on the same file is refused with the owner's pid;
    // it is free again once the owner is gone.
    void secondWriterIsRefused()
    {
        const QString path = freshPath();
        auto owner = std::make_unique<ConfigStore>(path);
        QCOMPARE(owner->lockFile(), Problems{});
        ConfigStore second(path);
        const Problems refused = second.lockFile();
        QCOMPARE(refused.size(), 1);
        QVERIFY2(refused.first().reason.contains(
                     QStringLiteral("pid %1").arg(QCoreApplication::applicationPid())),
                 qPrintable(refused.first().reason));
        QVERIFY(refused.first().reason.contains(path));
        owner.reset();
        QCOMPARE(second.lockFile(), Problems{});
    }

    void rebaseCarriesAnEditOver()
    {
        const Config base = decode(richConfig);
        Config next = base;
        next.streamRoutes.removeAt(2); // dns
        next.streamRoutes.move(0, 1);  // 7 before mysql
        next.streamRoutes[0].name = QStringLiteral("pg");
        QVERIFY(rebaseConfig(base, next, base) == next);

        Config onto = base;
        onto.streamRoutes << simpleRoute(QStringLiteral("hand"));
        onto.streamRoutes.first().desc = QStringLiteral("edited by hand");
        const Config merged = rebaseConfig(base, next, onto);
        QStringList ids;
        for (const StreamRoute& r : merged.streamRoutes)
            ids << r.idString();
        QCOMPARE(ids, (QStringList{"7", "mysql", "hand"}));
        QCOMPARE(merged.findRoute("7")->name, QStringLiteral("pg"));
        QCOMPARE(merged.findRoute("mysql")->desc, QStringLiteral("edited by hand"));
        QVERIFY(merged.streamProxy == onto.streamProxy);
    }

    // As in APISIX, an upstream_id or service_id that names nothing is valid (its admin API
    // deletes an upstream that stream routes still use, and force-deletes anything); the check
    // warns, naming both ends, and the route's connections are closed at once.
    void missingReferencesAreWarnings()
    {
        const Config config = decode(R"({
  "stream_proxy": { "tcp": [13306] },
  "stream_routes": [ { "id": "ok", "server_port": 13306, "upstream_id": "pg" },
                     { "id": "db", "name": "Database", "server_port": 13306, "upstream_id": "nope" },
                     { "id": "sv", "server_port": 13306, "service_id": "gone" },
                     { "id": "bare", "server_port": 13306 } ],
  "services": [ { "id": "s", "upstream_id": "lost" } ],
  "upstreams": [ { "id": "pg", "nodes": { "127.0.0.1:5432": 1 } }, { "id": "empty", "nodes": [] } ]
})");
        const ConfigCheck check = checkConfig(config);
        QCOMPARE(check.errors, Problems{});
        QStringList warned;
        for (const Problem& p : check.warnings)
            warned << p.path + u' ' + p.value + u' ' + p.reason;
        const QStringList expected = {
            "upstreams[1].nodes  upstream [empty] has no nodes: the connections that need it are "
            "closed at once",
            "services[0].upstream_id lost failed to fetch upstream info by upstream id [lost]: no "
            "upstream has this id (used by service [s]); the connections that need it are closed "
            "at once",
            "stream_routes[1].upstream_id nope failed to fetch upstream info by upstream id "
            "[nope]: no upstream has this id (used by stream_route [db]); the connections that "
            "need it are closed at once",
            "stream_routes[2].service_id gone failed to fetch service info by service id [gone]: "
            "no service has this id (used by stream_route [sv]); its connections are closed at "
            "once",
            "stream_routes[3]  stream_route [bare] has no upstream, upstream_id or service_id: "
            "its connections are closed at once",
        };
        QCOMPARE(warned, expected);

        // The store keeps such a route, and says why.
        const QString path = freshPath();
        ConfigStore store(path);
        QVERIFY(store.load().ok());
        StreamRoute dangling = simpleRoute(QStringLiteral("db"));
        dangling.upstream.reset();
        dangling.upstreamId = QStringLiteral("nope");
        QCOMPARE(store.putRoute(dangling), Problems{});
        QCOMPARE(checkFile(path).config.findRoute(QStringLiteral("db"))->upstreamId,
                 QJsonValue(QStringLiteral("nope")));
        bool said = false;
        for (const Problem& w : store.warnings())
            said = said || (w.path == u"stream_routes[1].upstream_id" && w.value == u"nope");
        QVERIFY2(said, qPrintable(formatProblems(store.warnings())));

        // Integer and string spellings of an id are the same id, as in APISIX.
        const Config numeric = decode(R"({
  "stream_proxy": { "tcp": [1] },
  "stream_routes": [ { "id": "r", "server_port": 1, "upstream_id": 5 } ],
  "upstreams": [ { "id": "5", "nodes": { "127.0.0.1:5432": 1 } } ]
})");
        QCOMPARE(checkConfig(numeric).warnings, Problems{});
    }

    // checks.active without a type probes over HTTP, APISIX's default: the check says so for
    // every upstream that runs one, shared or inline; a check that names its type, either one,
    // is not mentioned.
    void healthChecksWithoutTypeAreAWarning()
    {
        const Config config = decode(R"({
  "stream_proxy": { "tcp": [1, 2, 3] },
  "stream_routes": [ { "id": "r", "server_port": 1, "upstream": { "nodes": { "127.0.0.1:3306": 1 },
                       "checks": { "active": { "http_path": "/ping" } } } },
                     { "id": "s", "server_port": 2, "service_id": "s" },
                     { "id": "u", "server_port": 3, "upstream_id": "u" } ],
  "services": [ { "id": "s", "upstream": { "nodes": { "127.0.0.1:5432": 1 },
                  "checks": { "active": { "http_method": "HEAD" } } } } ],
  "upstreams": [ { "id": "u", "nodes": { "127.0.0.1:6379": 1 }, "checks": { "active": {} } },
                 { "id": "tcp", "nodes": { "127.0.0.1:1": 1 }, "checks": { "active": { "type": "tcp" } } },
                 { "id": "http", "nodes": { "127.0.0.1:1": 1 }, "checks": { "active": { "type": "http" } } } ]
})");
        const ConfigCheck check = checkConfig(config);
        QCOMPARE(check.errors, Problems{});
        QStringList paths;
        for (const Problem& w : check.warnings)
            paths << w.path;
        QCOMPARE(paths,
                 (QStringList{"upstreams[0].checks.active", "services[0].upstream.checks.active",
                              "stream_routes[0].upstream.checks.active"}));
        QCOMPARE(check.warnings.at(2).reason,
                 QStringLiteral("checks.active has no type, so as in APISIX its nodes are probed "
                                "over HTTP (\"GET /ping HTTP/1.1\") and a node that does not "
                                "answer HTTP, such as a database, is marked down; write \"type\": "
                                "\"tcp\" to probe with a plain connect, or \"type\": \"http\""));
        QVERIFY(check.warnings.at(1).reason.contains(QStringLiteral("(\"HEAD / HTTP/1.1\")")));
    }

    void routeWithoutListenerIsAWarning()
    {
        const Config config = decode(R"({
  "stream_proxy": { "tcp": [13306], "udp": [5353] },
  "stream_routes": [ { "id": "tcp", "server_port": 13306, "upstream": { "nodes": { "127.0.0.1:1": 1 } } },
                     { "id": "udp", "server_port": 5353, "upstream": { "nodes": { "127.0.0.1:1": 1 } } },
                     { "id": "lost", "server_port": 9999, "upstream": { "nodes": { "127.0.0.1:1": 1 } } },
                     { "id": "any", "upstream": { "nodes": { "127.0.0.1:1": 1 } } } ]
})");
        const ConfigCheck check = checkConfig(config);
        QCOMPARE(check.errors, Problems{});
        QCOMPARE(check.warnings.size(), 1);
        QCOMPARE(check.warnings.first().path, QStringLiteral("stream_routes[2].server_port"));
        QCOMPARE(check.warnings.first().value, QStringLiteral("9999"));
        QVERIFY(check.warnings.first().reason.contains(QStringLiteral("can never match")));
        QVERIFY(check.warnings.first().reason.contains(QStringLiteral("[lost]")));

        // A warning does not stop a load or a change; the store reports it.
        const QString path = freshPath();
        ConfigStore store(path);
        QVERIFY(store.load().ok());
        QCOMPARE(store.putRoute(simpleRoute(QStringLiteral("far"), 20000)), Problems{});
        QCOMPARE(store.warnings().size(), 1);
        QVERIFY(store.warnings().first().reason.contains(QStringLiteral("can never match")));
    }

    // A port given singly and inside a range, or two overlapping ranges, of one address: nginx
    // refuses a duplicate listen, so the config is refused, naming both entries.
    void overlappingListenersAreRefused_data()
    {
        QTest::addColumn<QByteArray>("proxy");
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("value");
        QTest::addColumn<QString>("reason");
        const QString tail = QStringLiteral(": an address listens on a port only once (nginx "
                                            "refuses a duplicate listen), so a port may not be "
                                            "listed again, alone or in a range");
        QTest::newRow("single port inside a range")
            << QByteArray(R"({"tcp": ["127.0.0.1:2000-2010", 9100, "127.0.0.1:2005"]})")
            << "stream_proxy.tcp[2]"
            << "127.0.0.1:2005"
            << "127.0.0.1:2005 overlaps stream_proxy.tcp[0] (127.0.0.1:2000-2010) at port 2005" +
                   tail;
        QTest::newRow("range over a single port")
            << QByteArray(R"({"udp": [2005, "2000-2010"]})") << "stream_proxy.udp[1]"
            << "2000-2010"
            << "2000-2010 overlaps stream_proxy.udp[0] (2005) at port 2005" + tail;
        QTest::newRow("overlapping ranges")
            << QByteArray(R"({"tcp": [{"addr": "[::1]:2000-2010", "proxy_protocol": true},
                                      "[::1]:2010-2020"]})")
            << "stream_proxy.tcp[1]"
            << "[::1]:2010-2020"
            << "[::1]:2010-2020 overlaps stream_proxy.tcp[0] ([::1]:2000-2010) at port 2010" + tail;
        QTest::newRow("range inside a range")
            << QByteArray(R"({"tcp": ["2000-2100", "2050-2060"]})") << "stream_proxy.tcp[1]"
            << "2050-2060"
            << "2050-2060 overlaps stream_proxy.tcp[0] (2000-2100) at port 2050" + tail;
    }

    void overlappingListenersAreRefused()
    {
        QFETCH(QByteArray, proxy);
        QFETCH(QString, path);
        QFETCH(QString, value);
        QFETCH(QString, reason);
        const Config config = decode("{\"stream_proxy\": " + proxy + "}");
        const ConfigCheck check = checkConfig(config);
        QCOMPARE(check.errors.size(), 1);
        QCOMPARE(check.errors.first().path, path);
        QCOMPARE(check.errors.first().value, value);
        QCOMPARE(check.errors.first().reason, reason);

        // The store refuses the same listeners and keeps what it had.
        const QString file = freshPath();
        ConfigStore store(file);
        QVERIFY(store.load().ok());
        const StreamProxy before = store.config().streamProxy;
        const Problems refused = store.setStreamProxy(config.streamProxy);
        QCOMPARE(refused.size(), 1);
        QCOMPARE(refused.first().reason, reason);
        QVERIFY(store.config().streamProxy == before);
    }

    void rangesThatTouchAreAccepted()
    {
        // Adjacent ranges, the same range on other addresses or on the other protocol, and a
        // route whose server_port lies inside a range: no error, no "can never match".
        const Config config = decode(R"({
  "stream_proxy": { "tcp": ["2000-2010", "2011-2020", "127.0.0.1:2000-2010", "[::1]:2005"],
                    "udp": ["2000-2010"] },
  "stream_routes": [ { "id": "in", "server_port": 2015, "upstream": { "nodes": { "127.0.0.1:1": 1 } } } ]
})");
        const ConfigCheck check = checkConfig(config);
        QCOMPARE(check.errors, Problems{});
        QCOMPARE(check.warnings, Problems{});

        // Written back exactly as given, ranges included.
        const QString path = freshPath();
        ConfigStore store(path);
        QVERIFY(store.load().ok());
        QCOMPARE(store.replace(config), Problems{});
        QVERIFY(store.config().streamProxy == config.streamProxy);
        const QJsonObject saved = QJsonDocument::fromJson(readBytes(path)).object();
        QCOMPARE(saved.value(u"stream_proxy").toObject().value(u"tcp").toArray().at(1),
                 QJsonValue(QStringLiteral("2011-2020")));
    }

    void upstreamInUseCannotBeDeleted()
    {
        const QString path = freshPath();
        QVERIFY(writeBytes(path, twoRoutesOneUpstream));
        ConfigStore store(path);
        QCOMPARE(store.load().status, LoadResult::Status::Loaded);
        const QByteArray before = readBytes(path);
        QSignalSpy spy(&store, &ConfigStore::changed);

        const Problems refused = store.deleteUpstream(QStringLiteral("pg"));
        QCOMPARE(refused.size(), 1);
        QCOMPARE(refused.first().reason,
                 QStringLiteral("can not delete this upstream, stream_route [a, b] is still "
                                "using it now"));
        QCOMPARE(store.config().upstreams.size(), 1);
        QCOMPARE(readBytes(path), before);
        QCOMPARE(spy.size(), 0);

        QCOMPARE(store.deleteRoute(QStringLiteral("a")), Problems{});
        QVERIFY(store.deleteUpstream(QStringLiteral("pg"))
                    .first()
                    .reason.contains(QStringLiteral("[b]")));
        // InUse::Delete (the admin API's force) leaves b naming nothing.
        QCOMPARE(store.deleteUpstream(QStringLiteral("pg"), ConfigStore::InUse::Delete),
                 Problems{});
        QCOMPARE(spy.size(), 2);
        QVERIFY(store.config().upstreams.isEmpty());
        QCOMPARE(store.config().streamRoutes.at(0).upstreamId, QJsonValue(QStringLiteral("pg")));
        QCOMPARE(store.deleteRoute(QStringLiteral("b")), Problems{});
        QCOMPARE(spy.size(), 3);
        QCOMPARE(spy.at(1).at(0).value<ConfigDiff>().upstreamsRemoved,
                 QStringList{QStringLiteral("pg")});
        QVERIFY(checkFile(path).config.upstreams.isEmpty());
    }

    void diff_data()
    {
        QTest::addColumn<QByteArray>("before");
        QTest::addColumn<QByteArray>("after");
        QTest::addColumn<ConfigDiff>("expected");

        const auto r = [](const char* id, const char* extra = "") {
            return QByteArray("{\"id\": \"") + id +
                   "\", \"upstream\": {\"nodes\": {\"127.0.0.1:1\": 1}}" + extra + "}";
        };
        const auto routes = [](const QList<QByteArray>& list, const QByteArray& more = {}) {
            QByteArray json = "{\"stream_routes\": [";
            for (qsizetype i = 0; i < list.size(); ++i)
                json += (i ? "," : "") + list.at(i);
            return json + "]" + more + "}";
        };
        const QByteArray a = r("a"), b = r("b"), c = r("c");
        ConfigDiff d;

        QTest::newRow("identical") << routes({a, b}) << routes({a, b}) << ConfigDiff{};
        d = {};
        d.routesAdded = QStringList{"c"};
        QTest::newRow("route added at the end") << routes({a, b}) << routes({a, b, c}) << d;
        QTest::newRow("route added in the middle is not a reorder")
            << routes({a, b}) << routes({a, c, b}) << d;
        d = {};
        d.routesRemoved = QStringList{"a"};
        QTest::newRow("route removed") << routes({a, b}) << routes({b}) << d;
        d = {};
        d.routesChanged = QStringList{"b"};
        QTest::newRow("route changed")
            << routes({a, b}) << routes({a, r("b", ", \"remote_addr\": \"127.0.0.2\"")}) << d;
        d = {};
        d.routeOrderChanged = true;
        QTest::newRow("routes reordered") << routes({a, b, c}) << routes({c, a, b}) << d;
        d = {};
        d.routesAdded = QStringList{"c"};
        d.routesRemoved = QStringList{"a"};
        d.routesChanged = QStringList{"b"};
        QTest::newRow("add change remove at once")
            << routes({a, b}) << routes({r("b", ", \"server_port\": 5"), c}) << d;

        const QByteArray up1 =
            ", \"upstreams\": [{\"id\": \"u1\", \"nodes\": {\"127.0.0.1:1\": 1}}]";
        const QByteArray up1changed =
            ", \"upstreams\": [{\"id\": \"u1\", \"nodes\": {\"127.0.0.1:2\": 1}}]";
        const QByteArray up2 =
            ", \"upstreams\": [{\"id\": \"u1\", \"nodes\": {\"127.0.0.1:1\": 1}}, "
            "{\"id\": 2, \"nodes\": {\"127.0.0.1:1\": 1}}]";
        d = {};
        d.upstreamsAdded = QStringList{"2"};
        QTest::newRow("upstream added") << routes({a}, up1) << routes({a}, up2) << d;
        d = {};
        d.upstreamsRemoved = QStringList{"u1"};
        QTest::newRow("upstream removed") << routes({a}, up1) << routes({a}) << d;
        d = {};
        d.upstreamsChanged = QStringList{"u1"};
        QTest::newRow("upstream changed") << routes({a}, up1) << routes({a}, up1changed) << d;

        d = {};
        d.listenersChanged = true;
        QTest::newRow("listener added")
            << routes({a}, ", \"stream_proxy\": {\"tcp\": [1]}")
            << routes({a}, ", \"stream_proxy\": {\"tcp\": [1, 2]}") << d;
        QTest::newRow("listener address changed")
            << routes({a}, ", \"stream_proxy\": {\"tcp\": [1]}")
            << routes({a}, ", \"stream_proxy\": {\"tcp\": [\"127.0.0.1:1\"]}") << d;
        QTest::newRow("tcp listener moved to udp")
            << routes({a}, ", \"stream_proxy\": {\"tcp\": [53]}")
            << routes({a}, ", \"stream_proxy\": {\"udp\": [53]}") << d;
        QTest::newRow("range widened")
            << routes({a}, ", \"stream_proxy\": {\"tcp\": [\"2000-2002\"]}")
            << routes({a}, ", \"stream_proxy\": {\"tcp\": [\"2000-2003\"]}") << d;
        QTest::newRow("range listed port by port is no change")
            << routes({a}, ", \"stream_proxy\": {\"tcp\": [\"2000-2002\"]}")
            << routes({a}, ", \"stream_proxy\": {\"tcp\": [2000, 2001, 2002]}") << ConfigDiff{};
        QTest::newRow("listeners reordered is no change")
            << routes({a}, ", \"stream_proxy\": {\"tcp\": [1, 2]}")
            << routes({a}, ", \"stream_proxy\": {\"tcp\": [2, 1]}") << ConfigDiff{};
        // A route runs with its service: one that uses a changed service is changed too, the
        // others are not.
        const QByteArray viaService = "{\"id\": \"s\", \"service_id\": \"s1\"}";
        const QByteArray svc1 =
            ", \"services\": [{\"id\": \"s1\", \"upstream\": {\"nodes\": {\"127.0.0.1:1\": 1}}}]";
        const QByteArray svc1changed =
            ", \"services\": [{\"id\": \"s1\", \"upstream\": {\"nodes\": {\"127.0.0.1:2\": 1}}}]";
        const QByteArray svc2 =
            ", \"services\": [{\"id\": \"s1\", \"upstream\": {\"nodes\": {\"127.0.0.1:1\": 1}}}, "
            "{\"id\": \"s2\"}]";
        d = {};
        d.servicesChanged = QStringList{"s1"};
        d.routesChanged = QStringList{"s"};
        d.routesChangedByService = QStringList{"s"};
        QTest::newRow("service changed changes its routes")
            << routes({a, viaService}, svc1) << routes({a, viaService}, svc1changed) << d;
        d = {};
        d.servicesAdded = QStringList{"s2"};
        QTest::newRow("service added")
            << routes({a, viaService}, svc1) << routes({a, viaService}, svc2) << d;
        d = {};
        d.servicesRemoved = QStringList{"s2"};
        QTest::newRow("service removed")
            << routes({a, viaService}, svc2) << routes({a, viaService}, svc1) << d;

        d = {};
        d.settingsChanged = true;
        QTest::newRow("settings changed")
            << routes({a}, ", \"streamgate\": {\"mysql_inspect\": true}")
            << routes({a}, ", \"streamgate\": {\"mysql_inspect\": false}") << d;
    }

    void diff()
    {
        QFETCH(QByteArray, before);
        QFETCH(QByteArray, after);
        QFETCH(ConfigDiff, expected);
        const ConfigDiff d = diffConfigs(decode(before), decode(after));
        QCOMPARE(d, expected);
        QCOMPARE(d.isEmpty(), expected == ConfigDiff{});
    }

    void mutationsPublishDiffs()
    {
        const QString path = freshPath();
        ConfigStore store(path);
        QVERIFY(store.load().ok());
        QSignalSpy spy(&store, &ConfigStore::changed);
        qint64 revision = store.revision();
        auto lastDiff = [&] { return spy.last().at(0).value<ConfigDiff>(); };

        QCOMPARE(store.putRoute(simpleRoute(QStringLiteral("two"))), Problems{});
        QCOMPARE(spy.size(), 1);
        QCOMPARE(lastDiff().routesAdded, QStringList{QStringLiteral("two")});
        QVERIFY(spy.last().at(1).value<Config>() == store.config());
        QCOMPARE(store.revision(), ++revision);

        QCOMPARE(store.moveRoute(QStringLiteral("two"), 0), Problems{});
        QVERIFY(lastDiff().routeOrderChanged);
        QCOMPARE(store.config().streamRoutes.first().idString(), QStringLiteral("two"));
        QCOMPARE(checkFile(path).config.streamRoutes.first().idString(), QStringLiteral("two"));
        QCOMPARE(store.revision(), ++revision);

        StreamProxy proxy = store.config().streamProxy;
        proxy.udp.append(decodeListenEntry(QJsonValue(5353)).value);
        QCOMPARE(store.setStreamProxy(proxy), Problems{});
        QVERIFY(lastDiff().listenersChanged);
        QCOMPARE(checkFile(path).config.streamProxy.udp.size(), 1);

        QCOMPARE(store.setSettings(
                     QJsonObject{{"prometheus", QJsonObject{{"listen", "127.0.0.1:9092"}}}}),
                 Problems{});
        QVERIFY(lastDiff().settingsChanged);
        QCOMPARE(checkFile(path).config.streamgate.prometheusListen(), "127.0.0.1:9092");

        QCOMPARE(store.putUpstream(
                     decodeUpstreamJson(R"({"id": "pg", "nodes": {"127.0.0.1:5432": 1}})")),
                 Problems{});
        QCOMPARE(lastDiff().upstreamsAdded, QStringList{QStringLiteral("pg")});
        QCOMPARE(store.revision(), revision + 3);
        QCOMPARE(spy.size(), 5);

        // A change that changes nothing is not a change.
        QCOMPARE(store.setSettings(store.config().streamgate), Problems{});
        QCOMPARE(spy.size(), 5);
        QCOMPARE(store.revision(), revision + 3);
    }

    void failedMutationChangesNothing_data()
    {
        QTest::addColumn<Mutation>("mutation");
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("reason");

        QTest::newRow("bad remote_addr") << Mutation([](ConfigStore& s) {
            StreamRoute r = simpleRoute(QStringLiteral("z"));
            r.remoteAddr = QStringLiteral(":/8");
            return s.putRoute(r);
        }) << "stream_routes[3].remote_addr"
                                         << "invalid remote_addr: :/8";
        QTest::newRow("bad edit of an existing route") << Mutation([](ConfigStore& s) {
            StreamRoute r = s.config().streamRoutes.at(0);
            r.remoteAddr = QStringLiteral(":/8");
            return s.putRoute(r);
        }) << "stream_routes[0].remote_addr"
                                                       << "invalid remote_addr: :/8";
        QTest::newRow("route without id") << Mutation([](ConfigStore& s) {
            StreamRoute r = simpleRoute(QStringLiteral("a"));
            r.id = QJsonValue();
            return s.putRoute(r);
        }) << "id"
                                          << "missing id";
        QTest::newRow("delete unknown route")
            << Mutation([](ConfigStore& s) { return s.deleteRoute(QStringLiteral("nope")); })
            << "stream_routes"
            << "stream_route [nope] not found";
        QTest::newRow("move beyond the end")
            << Mutation([](ConfigStore& s) { return s.moveRoute(QStringLiteral("a"), 3); })
            << "stream_routes"
            << "position 3 is out of range 0-2";
        QTest::newRow("delete unknown upstream")
            << Mutation([](ConfigStore& s) { return s.deleteUpstream(QStringLiteral("nope")); })
            << "upstreams"
            << "upstream [nope] not found";
        QTest::newRow("delete upstream in use")
            << Mutation([](ConfigStore& s) { return s.deleteUpstream(QStringLiteral("pg")); })
            << "upstreams[0]"
            << "can not delete this upstream, stream_route [a, b] is still using it now";
        QTest::newRow("service without id")
            << Mutation([](ConfigStore& s) { return s.putService(Service{}); }) << "id"
            << "missing id";
        QTest::newRow("delete unknown service")
            << Mutation([](ConfigStore& s) { return s.deleteService(QStringLiteral("nope")); })
            << "services"
            << "service [nope] not found";
        QTest::newRow("upstream with ewma") << Mutation([](ConfigStore& s) {
            Upstream u = s.config().upstreams.at(0);
            u.type = QStringLiteral("ewma");
            return s.putUpstream(u);
        }) << "upstreams[0].type"
                                            << "";
        // An edit refused by the function itself (the pure edits of routeedits.h have nothing
        // to change), after it had already changed its copy.
        QTest::newRow("update refused by the edit") << Mutation([](ConfigStore& s) {
            return s.update([](Config& next) {
                next.streamRoutes.removeFirst();
                return Problems{Problem{QStringLiteral("client"), QStringLiteral("10.0.0.1"),
                                        QStringLiteral("10.0.0.1 is already allowed on a")}};
            });
        }) << "client"
                                                    << "10.0.0.1 is already allowed on a";
        // An edit whose result does not validate.
        QTest::newRow("update to an invalid config") << Mutation([](ConfigStore& s) {
            return s.update([](Config& next) {
                next.streamRoutes[1].remoteAddr = QStringLiteral(":/8");
                return Problems{};
            });
        }) << "stream_routes[1].remote_addr"
                                                     << "invalid remote_addr: :/8";
    }

    void failedMutationChangesNothing()
    {
        QFETCH(Mutation, mutation);
        QFETCH(QString, path);
        QFETCH(QString, reason);
        const QString file = freshPath();
        QVERIFY(writeBytes(file, twoRoutesOneUpstream));
        ConfigStore store(file);
        QVERIFY(store.load().ok());
        const QByteArray bytes = readBytes(file);
        const Config before = store.config();
        const qint64 revision = store.revision();
        QSignalSpy spy(&store, &ConfigStore::changed);

        const Problems problems = mutation(store);
        QVERIFY(!problems.isEmpty());
        QCOMPARE(problems.first().path, path);
        if (!reason.isEmpty())
            QCOMPARE(problems.first().reason, reason);
        QVERIFY(store.config() == before);
        QCOMPARE(readBytes(file), bytes);
        QVERIFY(!QFile::exists(store.backupPath()));
        QCOMPARE(store.revision(), revision);
        QCOMPARE(spy.size(), 0);
    }

    // A service is stored, stamped and persisted like the other objects; one in use by a route
    // and an upstream in use by a service are not deleted, in APISIX's words.
    void servicesAndTheirReferences()
    {
        const QString file = freshPath();
        QVERIFY(writeBytes(file, twoRoutesOneUpstream));
        ConfigStore store(file);
        QVERIFY(store.load().ok());
        QSignalSpy spy(&store, &ConfigStore::changed);

        Service v;
        v.id = QStringLiteral("s1");
        v.upstreamId = QStringLiteral("pg");
        QCOMPARE(store.putService(v), Problems{});
        QVERIFY(store.config().findService(QStringLiteral("s1"))->createTime > 0);
        QCOMPARE(spy.size(), 1);
        QCOMPARE(spy.last().at(0).value<ConfigDiff>().servicesAdded, QStringList{"s1"});

        StreamRoute c = store.config().streamRoutes.at(2);
        c.upstream.reset();
        c.serviceId = QStringLiteral("s1");
        QCOMPARE(store.putRoute(c), Problems{});
        const FileCheck onDisk = checkFile(file);
        QVERIFY2(onDisk.problems.isEmpty(), qPrintable(formatProblems(onDisk.problems)));
        QCOMPARE(onDisk.config.services.size(), 1);
        QCOMPARE(onDisk.config.upstreamFor(onDisk.config.streamRoutes.at(2))->idString(),
                 QStringLiteral("pg"));

        Problems problems = store.deleteService(QStringLiteral("s1"));
        QCOMPARE(problems.size(), 1);
        QCOMPARE(problems.first().reason,
                 QStringLiteral("can not delete this service directly, stream_route [c] is still "
                                "using it now"));
        // Routes a and b use pg themselves and come first.
        QCOMPARE(upstreamInUse(store.config(), QStringLiteral("pg")),
                 QStringLiteral("can not delete this upstream, stream_route [a, b] is still using "
                                "it now"));
        Config onlyService = store.config();
        onlyService.streamRoutes.removeFirst();
        onlyService.streamRoutes.removeFirst();
        QCOMPARE(
            upstreamInUse(onlyService, QStringLiteral("pg")),
            QStringLiteral("can not delete this upstream, service [s1] is still using it now"));

        // A service the route no longer names can go.
        c.serviceId = QJsonValue(QJsonValue::Undefined);
        c.upstreamId = QStringLiteral("pg");
        QCOMPARE(store.putRoute(c), Problems{});
        QCOMPARE(store.deleteService(QStringLiteral("s1")), Problems{});
        QVERIFY(checkFile(file).config.services.isEmpty());

        // A route whose service gives it no upstream is kept, with a warning.
        v.upstreamId = QJsonValue(QJsonValue::Undefined);
        QCOMPARE(store.putService(v), Problems{});
        c.upstreamId = QJsonValue(QJsonValue::Undefined);
        c.serviceId = QStringLiteral("s1");
        QCOMPARE(store.putRoute(c), Problems{});
        bool warned = false;
        for (const Problem& w : store.warnings())
            warned = warned || (w.path == u"stream_routes[2].service_id" &&
                                w.reason.contains(u"neither stream_route [c] nor service [s1]"));
        QVERIFY2(warned, qPrintable(formatProblems(store.warnings())));
    }

    // What the check says about services: a route that leaves its service's plugins out (its
    // own upstream_id), or gets no upstream from it, is kept with a warning naming both.
    void serviceChecks()
    {
        const auto check = [](const QByteArray& json) { return checkConfig(decode(json)); };
        ConfigCheck c = check(R"({"stream_proxy": {"tcp": [1]},
            "stream_routes": [{"id": "r", "server_port": 1, "service_id": "s", "upstream_id": "u"}],
            "upstreams": [{"id": "u", "nodes": {"127.0.0.1:1": 1}}],
            "services": [{"id": "s", "plugins": {"ip-restriction": {"whitelist": ["127.0.0.1"]}}}]})");
        QCOMPARE(c.errors, Problems{});
        QCOMPARE(c.warnings.size(), 1);
        QCOMPARE(c.warnings.first().reason,
                 QStringLiteral("stream_route [r] has an upstream_id of its own: as in APISIX, the "
                                "plugins of service [s] do not apply to it"));

        c = check(R"({"stream_proxy": {"tcp": [1]},
            "stream_routes": [{"id": "r", "server_port": 1, "service_id": "s"}],
            "services": [{"id": "s"}]})");
        QCOMPARE(c.errors, Problems{});
        QCOMPARE(c.warnings.size(), 1);
        QVERIFY(c.warnings.first().reason.startsWith(
            QStringLiteral("neither stream_route [r] nor service [s] has an upstream")));
    }

    void timesAreSetByTheStore()
    {
        const QString path = freshPath();
        QVERIFY(writeBytes(path, twoRoutesOneUpstream));
        ConfigStore store(path);
        QVERIFY(store.load().ok());
        const qint64 start = QDateTime::currentSecsSinceEpoch();

        // Replacing keeps create_time, moves update_time.
        StreamRoute a = store.config().streamRoutes.at(0);
        a.remoteAddr = QStringLiteral("127.0.0.1");
        QCOMPARE(store.putRoute(a), Problems{});
        a = store.config().streamRoutes.at(0);
        QCOMPARE(a.createTime, 1000);
        QVERIFY(a.updateTime >= start);

        // A new route gets both.
        QCOMPARE(store.putRoute(simpleRoute(QStringLiteral("new"), 15432)), Problems{});
        const StreamRoute created = store.config().streamRoutes.last();
        QVERIFY(created.createTime >= start);
        QCOMPARE(created.updateTime, created.createTime);

        Upstream pg = store.config().upstreams.at(0);
        pg.retries = 2;
        QCOMPARE(store.putUpstream(pg), Problems{});
        QCOMPARE(store.config().upstreams.at(0).createTime, 1000);
        QVERIFY(store.config().upstreams.at(0).updateTime >= start);

        // A whole replacement touches only what it changes.
        Config next = store.config();
        next.streamRoutes[1].remoteAddr = QStringLiteral("127.0.0.2");
        QCOMPARE(store.replace(next), Problems{});
        const Config after = store.config();
        QCOMPARE(after.streamRoutes.at(0).updateTime, a.updateTime);
        QVERIFY(after.streamRoutes.at(1).createTime >= start); // had none in the file
        QVERIFY(after.streamRoutes.at(1).updateTime >= start);
        QCOMPARE(after.streamRoutes.at(2).createTime, 0);
        QCOMPARE(checkFile(path).config.streamRoutes.at(0).createTime, 1000);

        // update() stamps as replace() does: the route it changed (which had no times) gets
        // them, the others keep theirs.
        QCOMPARE(store.update([](Config& next) {
            next.streamRoutes[2].remoteAddr = QStringLiteral("127.0.0.3");
            return Problems{};
        }),
                 Problems{});
        QCOMPARE(store.config().streamRoutes.at(0).updateTime, a.updateTime);
        QCOMPARE(store.config().streamRoutes.at(1).updateTime, after.streamRoutes.at(1).updateTime);
        QVERIFY(store.config().streamRoutes.at(2).createTime >= start);
        QVERIFY(store.config().streamRoutes.at(2).updateTime >= start);

        // Stamp::KeepGiven (the admin API's PATCH) keeps what the object holds, and sets what
        // it lacks.
        pg = store.config().upstreams.at(0);
        pg.createTime = 7;
        pg.updateTime = 8;
        QCOMPARE(store.putUpstream(pg, ConfigStore::Stamp::KeepGiven), Problems{});
        QCOMPARE(store.config().upstreams.at(0).createTime, 7);
        QCOMPARE(store.config().upstreams.at(0).updateTime, 8);
        pg.createTime = 0;
        pg.updateTime = 0;
        QCOMPARE(store.putUpstream(pg, ConfigStore::Stamp::KeepGiven), Problems{});
        QCOMPARE(store.config().upstreams.at(0).createTime, 7);
        QVERIFY(store.config().upstreams.at(0).updateTime >= start);
    }

    void loadBackupOfAGoodFileRevertsTheLastChange()
    {
        const QString path = freshPath();
        ConfigStore store(path);
        QVERIFY(store.load().ok());
        const Config v1 = store.config();
        QCOMPARE(store.putRoute(simpleRoute(QStringLiteral("two"))), Problems{});
        const QByteArray v2bytes = readBytes(path);

        QSignalSpy spy(&store, &ConfigStore::changed);
        QVERIFY(store.loadBackup().ok());
        QVERIFY(store.config() == v1);
        QCOMPARE(spy.size(), 1);
        QCOMPARE(spy.first().at(0).value<ConfigDiff>().routesRemoved,
                 QStringList{QStringLiteral("two")});
        QVERIFY(checkFile(path).config == v1);
        QCOMPARE(readBytes(store.backupPath()), v2bytes);
    }

    void configIsSafeToReadFromOtherThreads()
    {
        const QString path = freshPath();
        ConfigStore store(path);
        QVERIFY(store.load().ok());
        std::atomic<bool> stop = false;
        std::atomic<int> reads = 0, inconsistent = 0;
        QThread* reader = QThread::create([&] {
            while (!stop) {
                const Config c = store.config();
                // Every snapshot is one whole accepted version: ids unique, count in range.
                QSet<QString> ids;
                for (const StreamRoute& r : c.streamRoutes)
                    ids.insert(r.idString());
                if (ids.size() != c.streamRoutes.size() || c.streamRoutes.isEmpty() ||
                    c.streamRoutes.size() > 41)
                    ++inconsistent;
                ++reads;
            }
        });
        reader->start();
        for (int i = 0; i < 40; ++i)
            QCOMPARE(store.putRoute(simpleRoute(QStringLiteral("r%1").arg(i))), Problems{});
        QTRY_VERIFY_WITH_TIMEOUT(reads > 0, 10000);
        stop = true;
        QVERIFY(reader->wait(10000));
        delete reader;
        QCOMPARE(inconsistent.load(), 0);
        QCOMPARE(store.config().streamRoutes.size(), 41);
        QCOMPARE(checkFile(path).config.streamRoutes.size(), 41);
    }
};

QTEST_GUILESS_MAIN(TestConfigStore)
#include "tst_configstore.moc"
