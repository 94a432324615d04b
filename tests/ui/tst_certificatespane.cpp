// The window's Certificates tab on a real store, engine and admin API: a PEM pair made by the
// openssl command imported through the form, a key of another certificate refused naming the
// file and the reason, a self-signed certificate created in the form and presented by a
// `tls: true` listener to `openssl s_client` for its SNI, one signed by the development CA and
// verified by s_client given the CA's certificate, expiry warned (event log and banner)
// for a certificate in use that ends in 3 days and not for one valid a year, and disable,
// delete and export seen in the admin API's GET and on disk.
#include "../api/httptestclient.h"
#include "api/adminserver.h"
#include "config/certificates.h"
#include "config/configstore.h"
#include "config/developmentca.h"
#include "loopback.h"
#include "mainwindow.h"
#include "panes/certificatedialogs.h"
#include "panes/certificatespane.h"
#include "proxy/engine.h"
#include "testcerts.h"
#include "testfiles.h"
#include "windowfixture.h"

#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPointer>
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <memory>

using namespace sg;
using namespace sg::ui;
using namespace sgtest;

namespace {

const QByteArray kKey = "certificates-test-key";

template <typename T> T* child(QObject* parent, const char* name)
{
    T* w = parent->findChild<T*>(QLatin1String(name));
    if (!w)
        qFatal("no child %s", name);
    return w;
}

// Clicks the button of the message box about to open; its text goes to *text.
void answerNextMessageBox(const QString& buttonText, QString* text)
{
    QTimer::singleShot(0, [buttonText, text] {
        auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
        if (!box)
            return answerNextMessageBox(buttonText, text);
        *text = box->text();
        for (QAbstractButton* b : box->buttons()) {
            if (b->text().remove(QLatin1Char('&')) == buttonText) {
                b->click();
                return;
            }
        }
    });
}

QString cell(CertificatesPane* pane, const QString& id, int column)
{
    const int row = pane->rowOf(id);
    return row < 0 ? QString() : pane->view()->item(row, column)->text();
}

// Every text a user can see in the table: cells and tooltips.
QString everythingShown(QTableWidget* view)
{
    QString all;
    for (int r = 0; r < view->rowCount(); ++r) {
        for (int c = 0; c < view->columnCount(); ++c) {
            if (QTableWidgetItem* item = view->item(r, c))
                all += item->text() + u'\n' + item->toolTip() + u'\n';
        }
    }
    return all;
}

} // namespace

class TestCertificatesPane : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_settings;
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<WindowFixture> m_fixture;
    std::unique_ptr<AdminServer> m_admin;
    QNetworkAccessManager m_network;
    int m_port = 0;
    CertificatesPane* m_pane = nullptr;

    HttpAnswer get(const QString& path)
    {
        QUrl url = m_admin->url();
        url.setPath(path);
        return request(m_network, "GET", url, {}, kKey);
    }
    ConfigStore* store() const { return m_fixture->store.get(); }
    // A certificate for `names` valid for `days`, stored as ssl `id` as the admin API would.
    void putSelfSigned(const QString& id, const QStringList& names, int days)
    {
        CertificateRequest r;
        r.names = names;
        r.days = days;
        const GeneratedCertificate g = createSelfSigned(r);
        QVERIFY2(g.ok(), qPrintable(formatProblems(g.problems)));
        Ssl ssl;
        ssl.id = id;
        ssl.cert = g.certPem;
        ssl.key = g.keyPem;
        ssl.snis = names;
        const Problems p = store()->putSsl(ssl);
        QVERIFY2(p.isEmpty(), qPrintable(formatProblems(p)));
    }

    // openssl s_client's output for svc.test on the TLS listener.
    QString sClient(const QStringList& extra)
    {
        QProcess client;
        client.start("openssl",
                     QStringList{"s_client", "-connect", QStringLiteral("127.0.0.1:%1").arg(m_port),
                                 "-servername", "svc.test"} +
                         extra);
        client.closeWriteChannel();
        if (!client.waitForFinished(10000))
            return QStringLiteral("openssl s_client did not finish");
        return QString::fromLocal8Bit(client.readAllStandardOutput());
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_settings.isValid());
        qputenv("XDG_CONFIG_HOME", m_settings.filePath("xdg").toLocal8Bit());
    }

    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
        m_port = freePort();
        const QString path = m_dir->filePath("streamgate.json");
        QVERIFY(writeFile(path, QStringLiteral(R"({
          "stream_proxy": {"tcp": [{"addr": "127.0.0.1:%1", "tls": true}]},
          "stream_routes": [{"id": "svc", "sni": "svc.test", "server_port": %1,
                             "upstream": {"nodes": {"127.0.0.1:9": 1}}}]})")
                                    .arg(m_port)
                                    .toUtf8()));
        m_fixture = std::make_unique<WindowFixture>();
        QVERIFY(m_fixture->open(path));
        m_admin = std::make_unique<AdminServer>(store(), m_fixture->engine.get());
        QVERIFY2(m_admin->start({QStringLiteral("127.0.0.1:0"), QString::fromLatin1(kKey)}),
                 qPrintable(m_admin->errorString()));
        m_pane = child<CertificatesPane>(m_fixture->window.get(), "certificatesPane");
        auto* tabs = child<QTabWidget>(m_fixture->window.get(), "tabs");
        tabs->setCurrentWidget(m_pane);
        QCOMPARE(tabs->tabText(tabs->currentIndex()), QStringLiteral("Certificates"));
    }

    void cleanup()
    {
        m_admin.reset();
        m_fixture.reset();
        m_dir.reset();
        m_pane = nullptr;
    }

    void importPemPair()
    {
        TestCerts certs;
        QVERIFY2(certs.makeLeaf("svc", {}, "svc.test", {"svc.test"}), qPrintable(certs.error()));
        QPointer<ImportCertificateDialog> dialog = m_pane->openImportDialog();
        QVERIFY(dialog && dialog->isVisible());
        child<QLineEdit>(dialog, "certFileEdit")->setText(certs.path("svc", "crt"));
        child<QLineEdit>(dialog, "keyFileEdit")->setText(certs.path("svc", "key"));
        QTest::mouseClick(child<QPushButton>(dialog, "importButton"), Qt::LeftButton);
        QTRY_VERIFY(!dialog); // closed and deleted once stored

        QCOMPARE(store()->config().ssls.size(), 1);
        const QString id = store()->config().ssls.first().idString();
        QCOMPARE(id, QStringLiteral("svc.test"));
        QCOMPARE(m_pane->selectedId(), id);
        QCOMPARE(cell(m_pane, id, CertificatesPane::NamesColumn), QStringLiteral("svc.test"));
        QCOMPARE(cell(m_pane, id, CertificatesPane::SubjectColumn), QStringLiteral("CN=svc.test"));
        QCOMPARE(cell(m_pane, id, CertificatesPane::IssuerColumn),
                 QStringLiteral("CN=svc.test (self-signed)"));
        QCOMPARE(cell(m_pane, id, CertificatesPane::KeyColumn), QStringLiteral("ECDSA P-256"));
        QCOMPARE(cell(m_pane, id, CertificatesPane::StatusColumn), QStringLiteral("Enabled"));
        QCOMPARE(cell(m_pane, id, CertificatesPane::TypeColumn), QStringLiteral("Server"));
        QCOMPARE(cell(m_pane, id, CertificatesPane::DaysLeftColumn), QStringLiteral("2 days"));
        QCOMPARE(cell(m_pane, id, CertificatesPane::UsedByColumn),
                 QStringLiteral("listener 127.0.0.1:%1; route svc").arg(m_port));
        // The key is stored, and never shown.
        QVERIFY(store()->config().ssls.first().key.contains("PRIVATE KEY"));
        QVERIFY(!everythingShown(m_pane->view()).contains("PRIVATE KEY"));

        const HttpAnswer answer = get("/apisix/admin/ssls/" + id);
        QCOMPARE(answer.status, 200);
        const QJsonObject value = answer.json.value("value").toObject();
        QCOMPARE(value.value("snis").toArray(), QJsonArray{"svc.test"});
        QCOMPARE(value.value("cert").toString().trimmed(), certs.pem("svc", "crt").trimmed());
        QVERIFY2(value.value("key").toString().startsWith("[redacted]"), answer.body.constData());
    }

    void importRefusesKeyOfAnotherCertificate()
    {
        TestCerts certs;
        QVERIFY(certs.makeLeaf("svc", {}, "svc.test", {"svc.test"}));
        QVERIFY(certs.makeLeaf("other", {}, "other.test", {"other.test"}));
        const QByteArray before = readFile(store()->path());
        QPointer<ImportCertificateDialog> dialog = m_pane->openImportDialog();
        child<QLineEdit>(dialog, "certFileEdit")->setText(certs.path("svc", "crt"));
        child<QLineEdit>(dialog, "keyFileEdit")->setText(certs.path("other", "key"));
        QTest::mouseClick(child<QPushButton>(dialog, "importButton"), Qt::LeftButton);
        auto* error = child<QLabel>(dialog, "importError");
        QTRY_VERIFY(error->isVisible());
        QCOMPARE(error->text(), QStringLiteral("other.key: key does not match cert: it is the "
                                               "private key of another certificate"));
        QVERIFY(dialog->isVisible());
        QVERIFY(store()->config().ssls.isEmpty());
        QCOMPARE(readFile(store()->path()), before);

        // A missing file is named too; the right key then imports.
        child<QLineEdit>(dialog, "keyFileEdit")->setText(certs.path("none", "key"));
        QTest::mouseClick(child<QPushButton>(dialog, "importButton"), Qt::LeftButton);
        QTRY_VERIFY(error->text().startsWith(certs.path("none", "key") + ": cannot read it"));
        child<QLineEdit>(dialog, "keyFileEdit")->setText(certs.path("svc", "key"));
        QTest::mouseClick(child<QPushButton>(dialog, "importButton"), Qt::LeftButton);
        QTRY_VERIFY(!dialog);
        QCOMPARE(store()->config().ssls.size(), 1);
    }

    void createSelfSignedServedToOpensslClient()
    {
        QPointer<CreateCertificateDialog> dialog = m_pane->openCreateDialog();
        QVERIFY(dialog && dialog->isVisible());
        // A bad name: the decoder's words, nothing stored.
        child<QLineEdit>(dialog, "namesEdit")->setText("svc.test, bad/name");
        QTest::mouseClick(child<QPushButton>(dialog, "createButton"), Qt::LeftButton);
        auto* error = child<QLabel>(dialog, "createError");
        QTRY_VERIFY(error->isVisible());
        QVERIFY2(error->text().startsWith("names: \"bad/name\" must be a host name"),
                 qPrintable(error->text()));
        QVERIFY(store()->config().ssls.isEmpty());

        child<QLineEdit>(dialog, "namesEdit")->setText("svc.test");
        auto* keyType = child<QComboBox>(dialog, "keyTypeCombo");
        keyType->setCurrentIndex(keyType->findText("RSA 2048"));
        child<QSpinBox>(dialog, "daysSpin")->setValue(30);
        QTest::mouseClick(child<QPushButton>(dialog, "createButton"), Qt::LeftButton);
        QTRY_VERIFY(!dialog);
        QCOMPARE(store()->config().ssls.size(), 1);
        const Ssl ssl = store()->config().ssls.first();
        QCOMPARE(cell(m_pane, "svc.test", CertificatesPane::KeyColumn), QStringLiteral("RSA 2048"));
        QCOMPARE(cell(m_pane, "svc.test", CertificatesPane::DaysLeftColumn),
                 QStringLiteral("30 days"));

        // The listener presents it to a client asking for svc.test.
        const QString out = sClient({});
        QVERIFY2(out.contains("subject=CN = svc.test"), qPrintable(out));
        const qsizetype begin = out.indexOf("-----BEGIN CERTIFICATE-----");
        const qsizetype end = out.indexOf("-----END CERTIFICATE-----");
        QVERIFY2(begin >= 0 && end > begin, qPrintable(out));
        QCOMPARE(out.mid(begin, end - begin).trimmed(),
                 ssl.cert.mid(0, ssl.cert.indexOf("-----END CERTIFICATE-----")).trimmed());
    }

    void createFromDevelopmentCaTrustedByOpensslClient()
    {
        QPointer<CreateCertificateDialog> dialog = m_pane->openCreateDialog();
        QVERIFY(dialog && dialog->isVisible());
        auto* issuer = child<QComboBox>(dialog, "issuerCombo");
        auto* hint = child<QLabel>(dialog, "trustHint");
        QVERIFY2(hint->text().contains("do not trust it"), qPrintable(hint->text()));
        issuer->setCurrentIndex(issuer->findData(int(CertificateIssuer::DevelopmentCa)));
        QVERIFY2(hint->text().contains("trust the development CA"), qPrintable(hint->text()));
        child<QLineEdit>(dialog, "namesEdit")->setText("svc.test");
        // Longer than the CA lasts: refused with the date, nothing stored.
        child<QSpinBox>(dialog, "daysSpin")->setValue(36500);
        QTest::mouseClick(child<QPushButton>(dialog, "createButton"), Qt::LeftButton);
        auto* error = child<QLabel>(dialog, "createError");
        QTRY_VERIFY(error->isVisible());
        QVERIFY2(error->text().startsWith("days: a certificate cannot outlast the CA"),
                 qPrintable(error->text()));
        QVERIFY(store()->config().ssls.isEmpty());

        child<QSpinBox>(dialog, "daysSpin")->setValue(60);
        QTest::mouseClick(child<QPushButton>(dialog, "createButton"), Qt::LeftButton);
        QTRY_VERIFY(!dialog);
        QCOMPARE(store()->config().ssls.size(), 1);
        QVERIFY2(cell(m_pane, "svc.test", CertificatesPane::IssuerColumn)
                     .contains("Streamgate development CA"),
                 qPrintable(cell(m_pane, "svc.test", CertificatesPane::IssuerColumn)));
        QCOMPARE(cell(m_pane, "svc.test", CertificatesPane::DaysLeftColumn),
                 QStringLiteral("60 days"));

        // A client given the development CA's certificate verifies the listener's.
        const QString caFile =
            QDir(DevelopmentCa::directoryFor(store()->path())).filePath("ca.crt");
        QVERIFY(QFile::exists(caFile));
        const QString out = sClient({"-CAfile", caFile, "-verify_return_error"});
        QVERIFY2(out.contains("subject=CN = svc.test"), qPrintable(out));
        QVERIFY2(out.contains("Verify return code: 0 (ok)"), qPrintable(out));
    }

    void expiryWarnedInUseWithinDays()
    {
        auto* banner = child<QWidget>(m_fixture->window.get(), "banner");
        auto* bannerText = child<QLabel>(banner, "bannerText");
        const auto tlsEvents = [this] {
            int n = 0;
            for (const Event& e : m_fixture->engine->eventsSince(0))
                n += e.text.startsWith("TLS: certificate") ? 1 : 0;
            return n;
        };
        QSignalSpy announced(m_pane, &CertificatesPane::expiryAnnounced);
        putSelfSigned("year", {"svc.test"}, 365);
        QCOMPARE(cell(m_pane, "year", CertificatesPane::DaysLeftColumn),
                 QStringLiteral("365 days"));
        QCOMPARE(announced.size(), 0);
        QVERIFY(!banner->isVisible());
        QCOMPARE(tlsEvents(), 0);

        putSelfSigned("soon", {"soon.test"}, 3);
        QCOMPARE(cell(m_pane, "soon", CertificatesPane::DaysLeftColumn), QStringLiteral("3 days"));
        QCOMPARE(cell(m_pane, "year", CertificatesPane::DaysLeftColumn),
                 QStringLiteral("365 days"));
        const QColor soonColour =
            m_pane->view()
                ->item(m_pane->rowOf("soon"), CertificatesPane::DaysLeftColumn)
                ->foreground()
                .color();
        const QColor yearColour =
            m_pane->view()
                ->item(m_pane->rowOf("year"), CertificatesPane::DaysLeftColumn)
                ->foreground()
                .color();
        QVERIFY(soonColour != yearColour);
        QCOMPARE(announced.size(), 1);
        const QString text = announced.first().first().toString();
        QVERIFY2(text.startsWith("certificate soon (soon.test) expires in 3 days, on "),
                 qPrintable(text));
        QVERIFY2(text.endsWith(QStringLiteral("used by listener 127.0.0.1:%1").arg(m_port)),
                 qPrintable(text));
        QTRY_VERIFY(banner->isVisible());
        QVERIFY2(bannerText->text().contains("expires in 3 days"), qPrintable(bannerText->text()));
        QTRY_COMPARE(tlsEvents(), 1);
        // In the window's event log too.
        auto* events = child<QTableView>(m_fixture->window.get(), "eventView");
        const auto inEventLog = [events] {
            const QAbstractItemModel* m = events->model();
            for (int r = 0; r < m->rowCount(); ++r) {
                for (int c = 0; c < m->columnCount(); ++c) {
                    if (m->index(r, c).data().toString().contains("TLS: certificate soon"))
                        return true;
                }
            }
            return false;
        };
        QTRY_VERIFY(inEventLog());

        // Checked again (daily, another change): said once.
        m_pane->checkExpiry();
        putSelfSigned("other", {"other.test"}, 365);
        QCOMPARE(announced.size(), 1);
        QCOMPARE(tlsEvents(), 1);

        // Dismissed: the banner goes and stays gone; the soon one disabled: nothing to say.
        QTest::mouseClick(child<QPushButton>(banner, "bannerButton1"), Qt::LeftButton);
        QVERIFY(!banner->isVisible());
        m_pane->checkExpiry();
        QVERIFY(!banner->isVisible());
        QVERIFY(m_pane->setCertificateEnabled("soon", false));
        QCOMPARE(announced.size(), 1);
        // Enabled again, it is announced again (it was out of use meanwhile).
        QVERIFY(m_pane->setCertificateEnabled("soon", true));
        QCOMPARE(announced.size(), 2);
        QVERIFY(banner->isVisible());
        // "Show certificates" brings the tab.
        auto* tabs = child<QTabWidget>(m_fixture->window.get(), "tabs");
        tabs->setCurrentIndex(0);
        QTest::mouseClick(child<QPushButton>(banner, "bannerButton0"), Qt::LeftButton);
        QCOMPARE(tabs->currentWidget(), m_pane);
    }

    void disableDeleteAndExportSeenOutside()
    {
        putSelfSigned("svc", {"svc.test"}, 30);
        m_pane->selectCertificate("svc");
        QAction* enable = m_pane->enableAction();
        QCOMPARE(enable->text().remove(u'&'), QStringLiteral("Disable"));
        enable->trigger();
        QCOMPARE(cell(m_pane, "svc", CertificatesPane::StatusColumn), QStringLiteral("Disabled"));
        QCOMPARE(cell(m_pane, "svc", CertificatesPane::UsedByColumn), QStringLiteral("—"));
        HttpAnswer answer = get("/apisix/admin/ssls/svc");
        QCOMPARE(answer.status, 200);
        QCOMPARE(answer.json.value("value").toObject().value("status").toInt(1), 0);
        QCOMPARE(enable->text().remove(u'&'), QStringLiteral("Enable"));
        enable->trigger();
        answer = get("/apisix/admin/ssls/svc");
        QCOMPARE(answer.json.value("value").toObject().value("status").toInt(1), 1);

        // Export: the certificate, never the key.
        const QString exported = m_dir->filePath("svc.crt");
        QSignalSpy messages(m_pane, &CertificatesPane::message);
        m_pane->exportCertificate("svc", exported);
        QTRY_VERIFY(QFile::exists(exported));
        QCOMPARE(QString::fromUtf8(readFile(exported)), store()->config().ssls.first().cert);
        QVERIFY(!readFile(exported).contains("PRIVATE KEY"));
        QTRY_VERIFY(!messages.isEmpty());
        QVERIFY(messages.last().first().toString().contains("exported"));

        // Delete asks, naming who uses it; Cancel keeps it.
        QString asked;
        answerNextMessageBox("Cancel", &asked);
        m_pane->selectCertificate("svc");
        m_pane->deleteAction()->trigger();
        QVERIFY2(asked.contains(QStringLiteral("listener 127.0.0.1:%1; route svc").arg(m_port)),
                 qPrintable(asked));
        QCOMPARE(get("/apisix/admin/ssls/svc").status, 200);
        answerNextMessageBox("Delete", &asked);
        m_pane->deleteAction()->trigger();
        QCOMPARE(get("/apisix/admin/ssls/svc").status, 404);
        QCOMPARE(m_pane->rowOf("svc"), -1);
        QCOMPARE(m_pane->view()->rowCount(), 0);
    }
};

QTEST_MAIN(TestCertificatesPane)
#include "tst_certificatespane.moc"
