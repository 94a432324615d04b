// The route form against a real ConfigStore (file in a temporary directory): typing creates a
// route and its listener; invalid input shows the core's own message, keeps Save disabled and
// writes nothing; editing the port keeps stream_proxy in step; Revert restores the route.
#include "config/certificates.h"
#include "config/configstore.h"
#include "formfill.h"
#include "model/codec.h"
#include "routeeditor/routeeditor.h"
#include "testfiles.h"

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QRadioButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableWidget>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

using namespace sg;
using namespace sgtest;
using namespace sg::ui;
using sgtest::child;
using sgtest::editCell;
using sgtest::typeInto;

namespace {

// The reason the core gives for one ip-restriction entry.
QString coreReasonForEntry(const QString& entry)
{
    const QJsonObject probe{
        {"plugins",
         QJsonObject{{"ip-restriction", QJsonObject{{"whitelist", QJsonArray{entry}}}}}}};
    for (const Problem& p : decodeStreamRoute(probe, {}, DecodeMode::Client).problems) {
        if (p.path.contains("whitelist"))
            return p.reason;
    }
    return {};
}

} // namespace

class TestRouteEditor : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_path;
    std::unique_ptr<ConfigStore> m_store;
    std::unique_ptr<RouteEditor> m_editor;

private slots:
    void init()
    {
        QVERIFY(m_dir.isValid());
        m_path =
            m_dir.filePath(QStringLiteral("streamgate-%1.json").arg(QTest::currentTestFunction()));
        QFile::remove(m_path);
        m_store = std::make_unique<ConfigStore>(m_path);
        QVERIFY(m_store->load().ok()); // created with the example route
        m_editor = std::make_unique<RouteEditor>(m_store.get());
        m_editor->resize(800, 1000);
        m_editor->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_editor.get()));
    }

    void cleanup()
    {
        m_editor.reset();
        m_store.reset();
    }

    void typingCreatesRouteAndListener()
    {
        QTcpServer upstream;
        QVERIFY(upstream.listen(QHostAddress::LocalHost));
        m_editor->newRoute();
        auto* save = child<QPushButton>(m_editor.get(), "saveButton");

        typeInto(child<QLineEdit>(m_editor.get(), "idEdit"), "echo");
        typeInto(child<QLineEdit>(m_editor.get(), "nameEdit"), "Echo service");
        typeInto(child<QSpinBox>(m_editor.get(), "portSpin"), "14444");
        auto* nodes = child<QTableWidget>(m_editor.get(), "nodesTable");
        QCOMPARE(nodes->rowCount(), 1);
        QVERIFY(editCell(nodes, 0, 1, QString::number(upstream.serverPort())));
        typeInto(child<QLineEdit>(m_editor.get(), "allowInput"), "127.0.0.1");
        QTest::keyClick(child<QLineEdit>(m_editor.get(), "allowInput"), Qt::Key_Return);
        QCOMPARE(child<QListWidget>(m_editor.get(), "allowList")->count(), 1);

        QVERIFY2(m_editor->isValid(), qPrintable(formatProblems(m_editor->problems())));
        QVERIFY(save->isEnabled());
        QSignalSpy changed(m_store.get(), &ConfigStore::changed);
        QSignalSpy saved(m_editor.get(), &RouteEditor::saved);
        QTest::mouseClick(save, Qt::LeftButton);
        QCOMPARE(saved.size(), 1);
        QCOMPARE(changed.size(), 1); // route and listener in one change

        const Config config = m_store->config();
        const StreamRoute* route = config.findRoute("echo");
        QVERIFY(route);
        QCOMPARE(route->name, QStringLiteral("Echo service"));
        QCOMPARE(route->serverPort.value_or(0), 14444);
        QVERIFY(route->upstream);
        QCOMPARE(route->upstream->nodes.size(), 1);
        QCOMPARE(route->upstream->nodes.first().port, int(upstream.serverPort()));
        QVERIFY(route->plugins.ipRestriction);
        QCOMPARE(route->plugins.ipRestriction->whitelist, QStringList{"127.0.0.1"});
        bool listening = false;
        for (const ListenEntry& e : config.streamProxy.tcp)
            listening = listening || (e.port == 14444 && e.host == "127.0.0.1");
        QVERIFY(listening);
        // The example route is untouched.
        QVERIFY(config.findRoute("local-mysql"));
        // And it is on disk.
        QVERIFY(readFile(m_path).contains("\"echo\""));
        QVERIFY(!save->isEnabled()); // clean again
    }

    void invalidCidrShowsCoreMessageAndWritesNothing()
    {
        m_editor->editRoute("local-mysql");
        const QByteArray before = readFile(m_path);
        auto* save = child<QPushButton>(m_editor.get(), "saveButton");
        auto* input = child<QLineEdit>(m_editor.get(), "allowInput");
        auto* error = child<QLabel>(m_editor.get(), "allowInputError");
        auto* add = child<QPushButton>(m_editor.get(), "allowAddButton");

        typeInto(input, "10.0.0.0/33");
        const QString expected = coreReasonForEntry("10.0.0.0/33");
        QVERIFY(!expected.isEmpty());
        QVERIFY(error->isVisible());
        QCOMPARE(error->text(), expected);
        QVERIFY(!add->isEnabled());
        QVERIFY(!save->isEnabled());
        QTest::keyClick(input, Qt::Key_Return); // Enter does not add it either
        QCOMPARE(child<QListWidget>(m_editor.get(), "allowList")->count(), 1);
        QVERIFY(!m_editor->save());
        QCOMPARE(readFile(m_path), before);

        // Fixing the text clears the message; adding the valid entry enables Save.
        typeInto(input, "10.0.0.0/8");
        QVERIFY(!error->isVisible());
        QVERIFY(add->isEnabled());
        QTest::mouseClick(add, Qt::LeftButton);
        QVERIFY(save->isEnabled());
    }

    void invalidRemoteAddrShowsCoreMessage()
    {
        m_editor->editRoute("local-mysql");
        const QByteArray before = readFile(m_path);
        typeInto(child<QLineEdit>(m_editor.get(), "remoteAddrEdit"), ":/8");
        QVERIFY(!child<QPushButton>(m_editor.get(), "saveButton")->isEnabled());
        // APISIX's words, as the decoder reports them, shown beside the field.
        bool shown = false;
        for (QLabel* label : m_editor->findChildren<QLabel*>()) {
            if (label->isVisible() && label->text() == QLatin1String("invalid remote_addr: :/8"))
                shown = true;
        }
        QVERIFY(shown);
        QVERIFY(!m_editor->save());
        QCOMPARE(readFile(m_path), before);
    }

    // The route's sni: a bad name shows the decoder's own words beside the field and writes
    // nothing; a wildcard is saved, shown again when the route is opened, and cleared.
    void sniFieldValidatedByCore()
    {
        m_editor->editRoute("local-mysql");
        const QByteArray before = readFile(m_path);
        auto* sni = child<QLineEdit>(m_editor.get(), "sniEdit");
        auto* save = child<QPushButton>(m_editor.get(), "saveButton");
        typeInto(sni, "db example.com");
        QString expected;
        for (const Problem& p :
             decodeStreamRoute(QJsonObject{{"sni", "db example.com"}}, {}, DecodeMode::Client)
                 .problems) {
            if (p.path == QLatin1String("sni"))
                expected = p.reason;
        }
        QVERIFY(!expected.isEmpty());
        QVERIFY(!save->isEnabled());
        bool shown = false;
        for (QLabel* label : m_editor->findChildren<QLabel*>())
            shown = shown || (label->isVisible() && label->text().contains(expected));
        QVERIFY2(shown, qPrintable(expected));
        QVERIFY(!m_editor->save());
        QCOMPARE(readFile(m_path), before);

        typeInto(sni, "*.example.com");
        QVERIFY2(m_editor->isValid(), qPrintable(formatProblems(m_editor->problems())));
        QVERIFY(m_editor->save());
        QCOMPARE(m_store->config().findRoute("local-mysql")->sni, QStringLiteral("*.example.com"));
        m_editor->clear();
        QVERIFY(sni->text().isEmpty());
        m_editor->editRoute("local-mysql");
        QCOMPARE(sni->text(), QStringLiteral("*.example.com"));

        sni->clear();
        QVERIFY(m_editor->save());
        QVERIFY(m_store->config().findRoute("local-mysql")->sni.isEmpty());
        QVERIFY(!readFile(m_path).contains("\"sni\""));
    }

    // TLS to the nodes: scheme "tls", tls.verify and tls.client_cert_id (an ssl of type
    // client), saved, shown again, and off again with the tls object kept as given.
    void upstreamTlsFields()
    {
        CertificateRequest request;
        request.names = {QStringLiteral("client.example.com")};
        const GeneratedCertificate pem = createSelfSigned(request);
        QVERIFY(pem.ok());
        const Decoded<Ssl> client = decodeSsl(
            QJsonObject{
                {"id", "me"}, {"type", "client"}, {"cert", pem.certPem}, {"key", pem.keyPem}},
            QString(), DecodeMode::Client);
        QVERIFY2(client.ok(), qPrintable(formatProblems(client.problems)));
        QVERIFY(m_store->putSsl(client.value).isEmpty());

        m_editor->editRoute("local-mysql");
        auto* tls = child<QCheckBox>(m_editor.get(), "upstreamTlsCheck");
        auto* verify = child<QCheckBox>(m_editor.get(), "upstreamVerifyCheck");
        auto* certId = child<QLineEdit>(m_editor.get(), "clientCertIdEdit");
        QVERIFY(!tls->isChecked());
        QVERIFY(!verify->isEnabled() && !certId->isEnabled());
        tls->setChecked(true);
        QVERIFY(verify->isEnabled() && certId->isEnabled());
        verify->setChecked(true);
        typeInto(certId, "me");
        QVERIFY2(m_editor->isValid(), qPrintable(formatProblems(m_editor->problems())));
        QVERIFY(m_editor->save());
        std::optional<Upstream> up = m_store->config().findRoute("local-mysql")->upstream;
        QVERIFY(up && up->tls);
        QCOMPARE(up->scheme, QStringLiteral("tls"));
        QVERIFY(up->tls->verifies());
        QCOMPARE(idText(up->tls->clientCertId), QStringLiteral("me"));

        m_editor->clear();
        m_editor->editRoute("local-mysql");
        QVERIFY(tls->isChecked() && verify->isChecked());
        QCOMPARE(certId->text(), QStringLiteral("me"));

        tls->setChecked(false);
        QVERIFY(m_editor->save());
        up = m_store->config().findRoute("local-mysql")->upstream;
        QVERIFY(up->scheme.isEmpty());
        QVERIFY(up->tls && up->tls->verifies()); // kept, unused without scheme "tls"
    }

    // Database TLS is the route's own Streamgate setting: saved with the route, read back when
    // the route is loaded; the export writes the development CA's certificate, made beside
    // the config, and says where.
    void databaseTlsIsSavedAndTheCaExported()
    {
        m_editor->editRoute("local-mysql");
        auto* tls = child<QCheckBox>(m_editor.get(), "databaseTls");
        QVERIFY(tls->isVisible());
        QVERIFY(!tls->isChecked());
        QTest::mouseClick(tls, Qt::LeftButton);
        QVERIFY(tls->isChecked());
        QVERIFY(child<QPushButton>(m_editor.get(), "saveButton")->isEnabled());
        QVERIFY(m_editor->save());
        QVERIFY(m_store->config().streamgate.databaseTlsFor("local-mysql"));
        QVERIFY(readFile(m_path).contains("\"database_tls\": true"));
        m_editor->editRoute("local-mysql");
        QVERIFY(child<QCheckBox>(m_editor.get(), "databaseTls")->isChecked());

        const QString file = m_dir.filePath(QStringLiteral("exported-ca.pem"));
        QSignalSpy exported(m_editor.get(), &RouteEditor::developmentCaExported);
        m_editor->exportDevelopmentCa(file);
        QVERIFY(exported.count() == 1 || exported.wait(5000));
        QVERIFY2(m_editor->exportStatus().startsWith(QStringLiteral("Wrote")),
                 qPrintable(m_editor->exportStatus()));
        QVERIFY(m_editor->exportStatus().contains(QStringLiteral("development-ca")));
        QVERIFY(readFile(file).startsWith("-----BEGIN CERTIFICATE-----"));

        // TLS to the server too: saved beside it, read back, and only while database TLS is on.
        auto* server = child<QComboBox>(m_editor.get(), "databaseServerTls");
        QVERIFY(server->isEnabled());
        QCOMPARE(server->currentData().toString(), QStringLiteral("off"));
        server->setCurrentIndex(server->findData(QStringLiteral("verify")));
        QVERIFY(m_editor->save());
        QCOMPARE(toString(m_store->config().streamgate.databaseServerTlsFor("local-mysql")),
                 QStringLiteral("verify"));
        QVERIFY(readFile(m_path).contains("\"database_server_tls\": \"verify\""));
        m_editor->editRoute("local-mysql");
        server = child<QComboBox>(m_editor.get(), "databaseServerTls");
        QCOMPARE(server->currentData().toString(), QStringLiteral("verify"));

        // Off again: both settings leave the file.
        QTest::mouseClick(child<QCheckBox>(m_editor.get(), "databaseTls"), Qt::LeftButton);
        QVERIFY(!server->isEnabled());
        QVERIFY(m_editor->save());
        QVERIFY(!m_store->config().streamgate.databaseTlsFor("local-mysql"));
        QVERIFY(!readFile(m_path).contains("database_tls"));
        QVERIFY(!readFile(m_path).contains("database_server_tls"));
    }

    void portChangeKeepsStreamProxyInStep()
    {
        m_editor->editRoute("local-mysql");
        typeInto(child<QSpinBox>(m_editor.get(), "portSpin"), "13307");
        QVERIFY(m_editor->save());
        const Config config = m_store->config();
        QCOMPARE(config.findRoute("local-mysql")->serverPort.value_or(0), 13307);
        QList<int> ports;
        for (const ListenEntry& e : config.streamProxy.tcp)
            ports << e.port;
        QCOMPARE(ports, QList<int>{13307});

        // Switching to UDP moves the listener to the udp list.
        m_editor->editRoute("local-mysql");
        QTest::mouseClick(child<QRadioButton>(m_editor.get(), "udpRadio"), Qt::LeftButton);
        QVERIFY(m_editor->save());
        QVERIFY(m_store->config().streamProxy.tcp.isEmpty());
        QCOMPARE(m_store->config().streamProxy.udp.size(), 1);
        QCOMPARE(m_store->config().streamProxy.udp.first().port, 13307);
    }

    void revertRestoresTheSavedRoute()
    {
        m_editor->editRoute("local-mysql");
        auto* name = child<QLineEdit>(m_editor.get(), "nameEdit");
        typeInto(name, "Changed");
        QVERIFY(m_editor->isDirty());
        QTest::mouseClick(child<QPushButton>(m_editor.get(), "revertButton"), Qt::LeftButton);
        QCOMPARE(name->text(), QStringLiteral("Local MySQL"));
        QVERIFY(!m_editor->isDirty());
        QVERIFY(!child<QPushButton>(m_editor.get(), "saveButton")->isEnabled());
    }

    void changeElsewhereWhileEditingIsAnnounced()
    {
        m_editor->editRoute("local-mysql");
        typeInto(child<QLineEdit>(m_editor.get(), "nameEdit"), "Renamed");
        auto* note = child<QLabel>(m_editor.get(), "staleNote");
        QVERIFY(!note->isVisible());
        // Someone allows a client meanwhile (Denied view, admin API).
        StreamRoute route = *m_store->config().findRoute("local-mysql");
        route.plugins.ipRestriction->whitelist << "10.0.0.7";
        QVERIFY(m_store->putRoute(route).isEmpty());
        QVERIFY(note->isVisible());
        QCOMPARE(child<QLineEdit>(m_editor.get(), "nameEdit")->text(),
                 QStringLiteral("Renamed")); // edits kept
        QTest::mouseClick(child<QPushButton>(m_editor.get(), "revertButton"), Qt::LeftButton);
        QVERIFY(!note->isVisible());
        QCOMPARE(child<QListWidget>(m_editor.get(), "allowList")->count(), 2);
    }

    void fieldsTheFormDoesNotShowSurvive()
    {
        Config config = m_store->config();
        StreamRoute route = *config.findRoute("local-mysql");
        route.labels.insert("team", "db");
        route.serverAddr = "127.0.0.1";
        route.plugins.prometheus = PrometheusConf{true}; // the form has no field for it
        QVERIFY(m_store->putRoute(route).isEmpty());
        m_editor->editRoute("local-mysql");
        typeInto(child<QLineEdit>(m_editor.get(), "descEdit"), "edited");
        QVERIFY(m_editor->save());
        const StreamRoute* after = m_store->config().findRoute("local-mysql");
        QCOMPARE(after->desc, QStringLiteral("edited"));
        QCOMPARE(after->labels.value("team"), QStringLiteral("db"));
        QCOMPARE(after->serverAddr, QStringLiteral("127.0.0.1"));
        QCOMPARE(after->plugins.prometheus, std::optional<PrometheusConf>(PrometheusConf{true}));
        // Untouched upstream fields keep their shape on disk: nodes as a map, no timeout added.
        const QJsonObject saved = QJsonDocument::fromJson(readFile(m_path)).object();
        const QJsonObject upstream =
            saved.value("stream_routes").toArray().at(0).toObject().value("upstream").toObject();
        QVERIFY(upstream.value("nodes").isObject());
        QVERIFY(!upstream.contains("timeout"));
        QVERIFY(!upstream.contains("retry_timeout"));
        QCOMPARE(saved.value("stream_routes")
                     .toArray()
                     .at(0)
                     .toObject()
                     .value("plugins")
                     .toObject()
                     .value("prometheus"),
                 QJsonValue(QJsonObject{{"prefer_name", true}}));
    }

    // The form picks a service: a route can take the service's upstream (none of its own), and
    // a route loaded with only a service_id shows it so; without a service it has no upstream.
    void serviceIsPickedAndKept()
    {
        Service service;
        service.id = QStringLiteral("db");
        service.name = QStringLiteral("Shared MySQL");
        Upstream up;
        up.nodes << decodeUpstream(QJsonObject{{"nodes", QJsonObject{{"127.0.0.1:3307", 1}}}})
                        .value.nodes;
        service.upstream = up;
        QCOMPARE(m_store->putService(service), Problems{});

        m_editor->editRoute("local-mysql");
        auto* combo = child<QComboBox>(m_editor.get(), "serviceCombo");
        auto* useService = child<QRadioButton>(m_editor.get(), "useServiceRadio");
        QCOMPARE(combo->currentData().toString(), QString());
        QVERIFY(!useService->isEnabled()); // no service chosen yet
        const int at = combo->findData(QStringLiteral("db"));
        QVERIFY(at > 0);
        QCOMPARE(combo->itemText(at), QStringLiteral("Shared MySQL (db)"));
        combo->setCurrentIndex(at);
        QVERIFY(useService->isEnabled());
        useService->setChecked(true);
        QVERIFY2(m_editor->isValid(), qPrintable(formatProblems(m_editor->problems())));
        QVERIFY(m_editor->save());

        const StreamRoute* after = m_store->config().findRoute("local-mysql");
        QCOMPARE(idText(after->serviceId), QStringLiteral("db"));
        QVERIFY(!after->upstream);
        QVERIFY(after->upstreamId.isUndefined());
        QCOMPARE(m_store->config().upstreamFor(*after)->nodes.first().port, 3307);

        // Loaded again, the form shows where the upstream comes from.
        m_editor->editRoute("local-mysql");
        QCOMPARE(combo->currentData().toString(), QStringLiteral("db"));
        QVERIFY(useService->isChecked());
        QVERIFY(!child<QRadioButton>(m_editor.get(), "useNodesRadio")->isChecked());

        // No service while the route still takes the service's upstream: the core says why.
        combo->setCurrentIndex(0);
        QVERIFY(!m_editor->isValid());
        QVERIFY(!child<QPushButton>(m_editor.get(), "saveButton")->isEnabled());
        m_editor->revert();
        QCOMPARE(combo->currentData().toString(), QStringLiteral("db"));
        QCOMPARE(idText(m_store->config().findRoute("local-mysql")->serviceId),
                 QStringLiteral("db"));
    }

    // A limit-conn with rules: the form says so, leaves the unused fields alone and keeps the
    // rules when the delay is changed.
    void limitConnRulesAreKept()
    {
        Config config = m_store->config();
        StreamRoute route = *config.findRoute("local-mysql");
        LimitConnConf limit;
        limit.conn = 5;
        limit.burst = 1;
        limit.defaultConnDelay = 0.5;
        limit.rules = {{2, 0, "$remote_addr"}, {10, 2, "$server_port"}};
        route.plugins.limitConn = limit;
        QVERIFY(m_store->putRoute(route).isEmpty());
        m_editor->editRoute("local-mysql");
        auto* note = child<QLabel>(m_editor.get(), "limitRulesNote");
        QVERIFY(note->isVisible());
        QVERIFY2(note->text().contains("2 rules"), qPrintable(note->text()));
        QVERIFY(!child<QSpinBox>(m_editor.get(), "limitConnSpin")->isEnabled());
        QVERIFY(!child<QSpinBox>(m_editor.get(), "limitBurstSpin")->isEnabled());
        auto* delay = child<QDoubleSpinBox>(m_editor.get(), "limitDelaySpin");
        QVERIFY(delay->isEnabled());
        delay->setValue(1.5);
        QVERIFY(m_editor->save());
        const StreamRoute* after = m_store->config().findRoute("local-mysql");
        QVERIFY(after->plugins.limitConn);
        QCOMPARE(after->plugins.limitConn->defaultConnDelay, 1.5);
        QCOMPARE(after->plugins.limitConn->rules, limit.rules);
        QCOMPARE(after->plugins.limitConn->conn, 5);

        // A route whose limit has no rules: no note, every field editable.
        route.plugins.limitConn->rules.clear();
        route.id = QStringLiteral("plain");
        QVERIFY(m_store->putRoute(route).isEmpty());
        m_editor->editRoute("plain");
        QVERIFY(!note->isVisible());
        QVERIFY(child<QSpinBox>(m_editor.get(), "limitConnSpin")->isEnabled());
    }

    void upstreamTuningReachesTheRoute()
    {
        m_editor->editRoute("local-mysql");
        auto* save = child<QPushButton>(m_editor.get(), "saveButton");
        auto* balancer = child<QComboBox>(m_editor.get(), "balancerCombo");
        auto* hashKey = child<QLineEdit>(m_editor.get(), "hashKeyEdit");
        QVERIFY(!hashKey->isEnabled());
        balancer->setCurrentIndex(balancer->findData("chash"));
        QVERIFY(hashKey->isEnabled());
        typeInto(hashKey, "no_such_var");
        // The core's words for the same key, beside the hash key field, and no Save.
        QString expected;
        for (const Problem& p :
             decodeUpstream(QJsonObject{{"nodes", QJsonObject{{"127.0.0.1:1", 1}}},
                                        {"type", "chash"},
                                        {"key", "no_such_var"}},
                            {}, DecodeMode::Client)
                 .problems)
            expected = p.path == "key" ? p.reason : expected;
        QVERIFY(!expected.isEmpty());
        QCOMPARE(m_editor->problems().size(), 1);
        QCOMPARE(m_editor->problems().first().path, QStringLiteral("upstream.key"));
        QCOMPARE(m_editor->problems().first().reason, expected);
        bool besideKey = false;
        for (QLabel* label :
             child<QWidget>(m_editor.get(), "upstreamForm")->findChildren<QLabel*>())
            besideKey = besideKey || (label->isVisible() && label->text() == expected);
        QVERIFY(besideKey);
        QVERIFY(!save->isEnabled());

        typeInto(hashKey, "remote_addr");
        typeInto(child<QDoubleSpinBox>(m_editor.get(), "retryTimeoutSpin"), "2.5");
        QVERIFY2(save->isEnabled(), qPrintable(formatProblems(m_editor->problems())));
        QVERIFY(m_editor->save());
        const StreamRoute* route = m_store->config().findRoute("local-mysql");
        QVERIFY(route->upstream);
        QCOMPARE(route->upstream->type, QStringLiteral("chash"));
        QCOMPARE(route->upstream->key, QStringLiteral("remote_addr"));
        QCOMPARE(route->upstream->retryTimeout.value_or(0), 2.5);
    }

    void testUpstreamReportsEachNode()
    {
        QTcpServer open;
        QVERIFY(open.listen(QHostAddress::LocalHost));
        QTcpServer closedServer;
        QVERIFY(closedServer.listen(QHostAddress::LocalHost));
        const quint16 closedPort = closedServer.serverPort();
        closedServer.close(); // nothing listens there now
        m_editor->newRoute();
        auto* nodes = child<QTableWidget>(m_editor.get(), "nodesTable");
        QVERIFY(editCell(nodes, 0, 1, QString::number(open.serverPort())));
        QTest::mouseClick(child<QPushButton>(m_editor.get(), "addNodeButton"), Qt::LeftButton);
        sgtest::closeCellEditor(nodes, 1, 0);
        QVERIFY(editCell(nodes, 1, 1, QString::number(closedPort)));
        QTest::mouseClick(child<QPushButton>(m_editor.get(), "testUpstreamButton"), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(nodes->item(0, 4)->text().startsWith("OK"), 5000);
        QTRY_VERIFY_WITH_TIMEOUT(!nodes->item(1, 4)->text().startsWith("Connecting"), 5000);
        QVERIFY(!nodes->item(1, 4)->text().startsWith("OK"));
        QVERIFY(nodes->item(1, 4)->text().contains("refused", Qt::CaseInsensitive));
    }
};

QTEST_MAIN(TestRouteEditor)
#include "tst_routeeditor.moc"
