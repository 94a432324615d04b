#include "panes/certificatespane.h"

#include "config/certificates.h"
#include "config/configstore.h"
#include "config/developmentca.h"
#include "emptystate.h"
#include "panes/certificatedialogs.h"
#include "panes/noticebanner.h"
#include "proxy/engine.h"
#include "viewstyle.h"

#include <QAction>
#include <QApplication>
#include <QFile>
#include <QFileDialog>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPointer>
#include <QPushButton>
#include <QSaveFile>
#include <QTableWidget>
#include <QThreadPool>
#include <QTimer>
#include <QToolBar>
#include <QVBoxLayout>
#include <functional>
#include <memory>

namespace sg::ui {

namespace {

constexpr int kIdRole = Qt::UserRole + 1;
constexpr int kDayMs = 24 * 60 * 60 * 1000;
constexpr int kNoticeRetryMs = 60 * 1000;
const QString kNoticeKey = QStringLiteral("certificates");

// Runs `work` on the thread pool and `done` with its result on the GUI thread, unless `owner`
// is gone by then.
template <typename Result>
void runInBackground(QObject* owner, std::function<Result()> work,
                     std::function<void(const Result&)> done)
{
    QPointer<QObject> guard(owner);
    QThreadPool::globalInstance()->start([guard, work = std::move(work), done = std::move(done)] {
        auto result = std::make_shared<Result>(work());
        QMetaObject::invokeMethod(
            qApp,
            [guard, done, result] {
                if (guard)
                    done(*result);
            },
            Qt::QueuedConnection);
    });
}

QString dateText(const QDateTime& utc)
{
    return utc.isValid() ? utc.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm"))
                         : QString();
}

QString daysText(qint64 days, bool expired)
{
    const auto tr = [](const char* text) {
        return QCoreApplication::translate("sg::ui::CertificatesPane", text);
    };
    if (expired) {
        if (days == 0)
            return tr("expired today");
        return days == -1 ? tr("expired 1 day ago") : tr("expired %1 days ago").arg(-days);
    }
    return days == 1 ? tr("1 day") : tr("%1 days").arg(days);
}

const Ssl* findSsl(const Config& config, const QString& id)
{
    for (const Ssl& ssl : config.ssls) {
        if (ssl.idString() == id)
            return &ssl;
    }
    return nullptr;
}

} // namespace

CertificatesPane::CertificatesPane(ConfigStore* store, Engine* engine, NoticeBanner* banner,
                                   QWidget* parent)
    : QWidget(parent), m_store(store), m_engine(engine), m_banner(banner)
{
    setObjectName(QStringLiteral("certificatesPane"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    m_summary = new QLabel(this);
    m_summary->setObjectName(QStringLiteral("certificatesSummary"));
    m_summary->setWordWrap(true);
    layout->addWidget(m_summary);

    const QStyle* s = style();
    m_importAction = new QAction(themedIcon("document-import", s, QStyle::SP_DialogOpenButton),
                                 tr("&Import PEM…"), this);
    m_importAction->setObjectName(QStringLiteral("importCertificateAction"));
    m_importAction->setToolTip(tr("Add a certificate and its private key from PEM files"));
    m_createAction = new QAction(themedIcon("document-new", s, QStyle::SP_FileIcon),
                                 tr("&Create certificate…"), this);
    m_createAction->setObjectName(QStringLiteral("createCertificateAction"));
    m_exportAction = new QAction(themedIcon("document-save-as", s, QStyle::SP_DialogSaveButton),
                                 tr("&Export certificate…"), this);
    m_exportAction->setObjectName(QStringLiteral("exportCertificateAction"));
    m_exportAction->setToolTip(tr("Save the certificate (never its key) as a PEM file, e.g. for "
                                  "a client to trust"));
    m_enableAction = new QAction(tr("&Disable"), this);
    m_enableAction->setObjectName(QStringLiteral("enableCertificateAction"));
    m_deleteAction =
        new QAction(themedIcon("edit-delete", s, QStyle::SP_TrashIcon), tr("De&lete"), this);
    m_deleteAction->setObjectName(QStringLiteral("deleteCertificateAction"));
    m_deleteAction->setShortcut(QKeySequence::Delete);
    m_deleteAction->setShortcutContext(Qt::WidgetShortcut);
    auto* toolbar = new QToolBar(this);
    toolbar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    toolbar->addAction(m_importAction);
    toolbar->addAction(m_createAction);
    toolbar->addSeparator();
    toolbar->addAction(m_exportAction);
    toolbar->addAction(m_enableAction);
    toolbar->addAction(m_deleteAction);
    layout->addWidget(toolbar);

    m_view = new QTableWidget(0, ColumnCount, this);
    m_view->setObjectName(QStringLiteral("certificatesView"));
    setupTable(m_view);
    m_view->setHorizontalHeaderLabels({tr("Names (SNI)"), tr("Status"), tr("Days left"),
                                       tr("Valid until"), tr("Used by"), tr("Key"), tr("Subject"),
                                       tr("Issuer"), tr("Valid from"), tr("Type"), tr("ID")});
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setContextMenuPolicy(Qt::ActionsContextMenu);
    m_view->addActions({m_exportAction, m_enableAction, m_deleteAction});
    QHeaderView* header = m_view->horizontalHeader();
    header->resizeSection(NamesColumn, 200);
    header->resizeSection(StatusColumn, 80);
    header->resizeSection(DaysLeftColumn, 120);
    header->resizeSection(NotAfterColumn, 130);
    header->resizeSection(NotBeforeColumn, 130);
    header->resizeSection(UsedByColumn, 220);
    header->resizeSection(SubjectColumn, 180);
    header->resizeSection(IssuerColumn, 180);
    layout->addWidget(m_view, 1);
    auto* empty = new EmptyState(m_view);
    empty->setText(tr("No certificate yet. A listener with TLS (\"tls\": true) presents the "
                      "certificate whose names match what the client asks for: import one "
                      "from PEM files, or create one for development (self-signed or signed by "
                      "Streamgate's development CA)."));
    empty->setAction(m_createAction, tr("Create certificate…"));

    connect(m_importAction, &QAction::triggered, this, [this] { openImportDialog(); });
    connect(m_createAction, &QAction::triggered, this, [this] { openCreateDialog(); });
    connect(m_exportAction, &QAction::triggered, this, [this] {
        const QString id = selectedId();
        if (id.isEmpty())
            return;
        const QString path = QFileDialog::getSaveFileName(this, tr("Export certificate"),
                                                          id + QStringLiteral(".crt"),
                                                          tr("PEM certificate (*.crt *.pem)"));
        if (!path.isEmpty())
            exportCertificate(id, path);
    });
    connect(m_enableAction, &QAction::triggered, this, [this] {
        const QString id = selectedId();
        if (!m_store || id.isEmpty())
            return;
        const Config config = m_store->config();
        if (const Ssl* ssl = findSsl(config, id))
            setCertificateEnabled(id, ssl->status != 1);
    });
    connect(m_deleteAction, &QAction::triggered, this, [this] {
        const QString id = selectedId();
        if (!id.isEmpty())
            deleteCertificate(id, true);
    });
    connect(m_view, &QTableWidget::itemSelectionChanged, this, &CertificatesPane::updateActions);

    m_daily = new QTimer(this);
    m_daily->setInterval(kDayMs);
    connect(m_daily, &QTimer::timeout, this, [this] {
        if (m_store)
            rebuild(m_store->config()); // the days left move on
        checkExpiry();
    });
    m_daily->start();
    m_retryNotice = new QTimer(this);
    m_retryNotice->setSingleShot(true);
    m_retryNotice->setInterval(kNoticeRetryMs);
    connect(m_retryNotice, &QTimer::timeout, this, &CertificatesPane::showExpiryNotice);

    if (m_store) {
        connect(m_store, &ConfigStore::changed, this, [this](const ConfigDiff&, const Config& c) {
            rebuild(c);
            checkExpiry();
        });
        rebuild(m_store->config());
    }
    updateActions();
    // At start: after the window has put up what it shows first (a load problem wins).
    QTimer::singleShot(0, this, &CertificatesPane::checkExpiry);
}

QString CertificatesPane::selectedId() const
{
    const QList<QTableWidgetItem*> items = m_view->selectedItems();
    return items.isEmpty() ? QString() : items.first()->data(kIdRole).toString();
}

int CertificatesPane::rowOf(const QString& id) const
{
    for (int r = 0; r < m_view->rowCount(); ++r) {
        if (m_view->item(r, IdColumn)->data(kIdRole).toString() == id)
            return r;
    }
    return -1;
}

void CertificatesPane::selectCertificate(const QString& id)
{
    const int row = rowOf(id);
    if (row >= 0)
        m_view->selectRow(row);
}

void CertificatesPane::rebuild(const Config& config)
{
    const QString selected = selectedId();
    const QDateTime now = QDateTime::currentDateTimeUtc();
    m_view->setRowCount(int(config.ssls.size()));
    int inUse = 0;
    int warned = 0;
    const QPalette palette = m_view->palette();
    const bool dark = palette.color(QPalette::Base).lightnessF() < 0.5;
    const QColor red = dark ? QColor(0xff, 0x6b, 0x6b) : QColor(0xc0, 0x20, 0x20);
    const QColor orange = dark ? QColor(0xff, 0xb3, 0x47) : QColor(0xb0, 0x60, 0x00);
    const QColor green = dark ? QColor(0x6b, 0xd0, 0x6b) : QColor(0x20, 0x80, 0x20);
    for (int r = 0; r < config.ssls.size(); ++r) {
        const Ssl& ssl = config.ssls.at(r);
        const QString id = ssl.idString();
        QString why;
        const std::optional<CertificateInfo> info = readCertificateInfo(ssl.cert, &why);
        const CertificateUsers users = certificateUsers(config, id);
        inUse += users.isEmpty() ? 0 : 1;
        const QStringList names = ssl.isServer() ? ssl.serverNames() : QStringList();
        const auto set = [&](int column, const QString& text) {
            auto* item = m_view->item(r, column);
            if (!item) {
                item = new QTableWidgetItem;
                m_view->setItem(r, column, item);
            }
            item->setText(text);
            item->setData(kIdRole, id);
            item->setForeground(QBrush());
            item->setToolTip(QString());
            return item;
        };
        set(NamesColumn,
            names.isEmpty() ? tr("(client certificate)") : names.join(QStringLiteral(", ")));
        QTableWidgetItem* status =
            set(StatusColumn, ssl.status == 1 ? tr("Enabled") : tr("Disabled"));
        if (ssl.status != 1)
            status->setForeground(palette.brush(QPalette::Disabled, QPalette::Text));
        set(TypeColumn, ssl.isServer() ? tr("Server") : tr("Client"));
        set(IdColumn, id);
        const QString usedBy = users.text();
        QTableWidgetItem* used = set(UsedByColumn, usedBy.isEmpty() ? tr("—") : usedBy);
        if (ssl.status != 1)
            used->setToolTip(tr("Disabled: no listener presents it"));
        else if (usedBy.isEmpty())
            used->setToolTip(tr("No listener has TLS on (\"tls\": true), and no route's sni "
                                "is served by it"));
        if (!info) {
            QTableWidgetItem* bad = set(SubjectColumn, tr("unreadable: %1").arg(why));
            bad->setForeground(red);
            for (int c : {IssuerColumn, NotBeforeColumn, NotAfterColumn, DaysLeftColumn, KeyColumn})
                set(c, QString());
            continue;
        }
        set(SubjectColumn, info->subject);
        set(IssuerColumn,
            info->selfSigned ? tr("%1 (self-signed)").arg(info->issuer) : info->issuer);
        set(NotBeforeColumn, dateText(info->notBefore));
        QTableWidgetItem* until = set(NotAfterColumn, dateText(info->notAfter));
        const qint64 days = info->daysLeft(now);
        const bool expired = info->expired(now);
        QTableWidgetItem* left = set(DaysLeftColumn, daysText(days, expired));
        const QColor colour = expired ? red : days <= kWarnDays ? orange : green;
        left->setForeground(colour);
        if (expired || days <= kWarnDays) {
            until->setForeground(colour);
            warned += users.isEmpty() ? 0 : 1;
        }
        left->setToolTip(expired ? tr("Expired: clients that verify it refuse the handshake")
                         : days <= kWarnDays
                             ? tr("Expires within %1 days: replace it").arg(kWarnDays)
                             : QString());
        // More pairs (certs/keys, e.g. RSA beside ECDSA): their key types too.
        QStringList keyTypes{info->keyType};
        for (const QString& pem : ssl.certs) {
            if (const std::optional<CertificateInfo> more = readCertificateInfo(pem))
                keyTypes << more->keyType;
        }
        set(KeyColumn, keyTypes.join(QStringLiteral(", ")));
        const QString details = tr("SHA-256 fingerprint: %1\nCertificate names: %2")
                                    .arg(info->sha256, info->names().join(QStringLiteral(", ")));
        m_view->item(r, NamesColumn)->setToolTip(details);
        m_view->item(r, SubjectColumn)->setToolTip(details);
    }
    QString summary;
    if (config.ssls.isEmpty())
        summary = tr("Certificates for listeners with TLS. None yet.");
    else if (config.ssls.size() == 1)
        summary = inUse ? tr("1 certificate, in use.") : tr("1 certificate, not in use.");
    else
        summary = tr("%1 certificates, %2 in use.").arg(config.ssls.size()).arg(inUse);
    if (warned)
        summary +=
            QLatin1Char(' ') +
            tr("In use and expiring within %1 days or expired: %2.").arg(kWarnDays).arg(warned);
    m_summary->setText(summary);
    if (!selected.isEmpty())
        selectCertificate(selected);
    updateActions();
}

void CertificatesPane::updateActions()
{
    const QString id = selectedId();
    const bool any = !id.isEmpty() && m_store != nullptr;
    m_importAction->setEnabled(m_store != nullptr);
    m_createAction->setEnabled(m_store != nullptr);
    m_exportAction->setEnabled(any);
    m_deleteAction->setEnabled(any);
    m_enableAction->setEnabled(any);
    bool enabled = true;
    if (any) {
        const Config config = m_store->config();
        if (const Ssl* ssl = findSsl(config, id))
            enabled = ssl->status == 1;
    }
    m_enableAction->setText(enabled ? tr("&Disable") : tr("&Enable"));
}

ImportCertificateDialog* CertificatesPane::openImportDialog()
{
    if (!m_store)
        return nullptr;
    auto* dialog = new ImportCertificateDialog(this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &ImportCertificateDialog::importRequested, this,
            [this, dialog](const QString& cert, const QString& key, const QStringList& snis) {
                startImport(dialog, cert, key, snis);
            });
    dialog->open();
    return dialog;
}

void CertificatesPane::startImport(ImportCertificateDialog* dialog, const QString& certPath,
                                   const QString& keyPath, const QStringList& snis)
{
    dialog->setBusy(true);
    dialog->showProblems(QString());
    // Reading the files and checking them with OpenSSL: off the GUI thread.
    std::function<ImportedSsl()> work = [certPath, keyPath, snis] {
        ImportedSsl out;
        QString why;
        const std::optional<PemFile> cert = readPemFile(certPath, &why);
        if (!cert) {
            out.problems << Problem{certPath, QString(), why};
            return out;
        }
        std::optional<PemFile> key;
        if (!keyPath.isEmpty()) {
            key = readPemFile(keyPath, &why);
            if (!key) {
                out.problems << Problem{keyPath, QString(), why};
                return out;
            }
        }
        return sslFromPemFiles(*cert, key, snis);
    };
    QPointer<ImportCertificateDialog> guard(dialog);
    runInBackground<ImportedSsl>(this, std::move(work), [this, guard](const ImportedSsl& result) {
        if (!guard)
            return;
        guard->setBusy(false);
        QStringList lines;
        for (const Problem& p : result.problems)
            lines << (p.path == QLatin1String("snis") ? tr("Names (SNI): %1").arg(p.reason)
                                                      : p.reason);
        if (!lines.isEmpty()) {
            guard->showProblems(lines.join(QLatin1Char('\n')));
            return;
        }
        Ssl ssl = result.ssl;
        const QString id = newSslId(m_store->config(), ssl.snis.value(0));
        ssl.id = id;
        const Problems stored = m_store->putSsl(ssl);
        if (!stored.isEmpty()) {
            guard->showProblems(formatProblems(stored));
            return;
        }
        selectCertificate(id);
        Q_EMIT message(tr("Certificate %1 imported").arg(id), 6000);
        guard->accept();
    });
}

CreateCertificateDialog* CertificatesPane::openCreateDialog()
{
    if (!m_store)
        return nullptr;
    auto* dialog = new CreateCertificateDialog(this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    QPointer<CreateCertificateDialog> guard(dialog);
    connect(dialog, &CreateCertificateDialog::createRequested, this,
            [this, guard](const CertificateRequest& request) {
                guard->setBusy(true);
                guard->showProblems(QString());
                // An RSA key takes visible time, the CA writes files: off the GUI thread.
                const QString caDir = DevelopmentCa::directoryFor(m_store->path());
                runInBackground<GeneratedCertificate>(
                    this,
                    [request, caDir] {
                        return request.issuer == CertificateIssuer::DevelopmentCa
                                   ? DevelopmentCa(caDir).issue(request)
                                   : createSelfSigned(request);
                    },
                    [this, guard, request](const GeneratedCertificate& made) {
                        if (!guard)
                            return;
                        guard->setBusy(false);
                        if (!made.ok()) {
                            guard->showProblems(formatProblems(made.problems));
                            return;
                        }
                        Ssl ssl;
                        const QString id = newSslId(m_store->config(), request.names.value(0));
                        ssl.id = id;
                        ssl.cert = made.certPem;
                        ssl.key = made.keyPem;
                        ssl.snis = request.names;
                        const Problems stored = m_store->putSsl(ssl);
                        if (!stored.isEmpty()) {
                            guard->showProblems(formatProblems(stored));
                            return;
                        }
                        selectCertificate(id);
                        Q_EMIT message(request.issuer == CertificateIssuer::DevelopmentCa
                                           ? tr("Certificate %1 created, signed by the "
                                                "development CA")
                                                 .arg(id)
                                           : tr("Self-signed certificate %1 created").arg(id),
                                       6000);
                        guard->accept();
                    });
            });
    dialog->open();
    return dialog;
}

void CertificatesPane::exportCertificate(const QString& id, const QString& path)
{
    if (!m_store)
        return;
    const Config config = m_store->config();
    const Ssl* ssl = findSsl(config, id);
    if (!ssl)
        return;
    const QByteArray pem = ssl->cert.toUtf8(); // the certificate and its chain, no key
    std::function<QString()> work = [path, pem] {
        QSaveFile file(path);
        if (!file.open(QIODevice::WriteOnly) || file.write(pem) != pem.size() || !file.commit())
            return QStringLiteral("%1: %2").arg(path, file.errorString());
        return QString();
    };
    runInBackground<QString>(this, std::move(work), [this, id, path](const QString& error) {
        if (error.isEmpty())
            Q_EMIT message(tr("Certificate %1 exported to %2").arg(id, path), 6000);
        else
            Q_EMIT message(tr("Cannot export certificate %1: %2").arg(id, error), 10000);
    });
}

bool CertificatesPane::setCertificateEnabled(const QString& id, bool enabled)
{
    if (!m_store)
        return false;
    const Config config = m_store->config();
    const Ssl* found = findSsl(config, id);
    if (!found)
        return false;
    Ssl ssl = *found;
    ssl.status = enabled ? 1 : 0;
    const Problems problems = m_store->putSsl(ssl);
    if (!problems.isEmpty()) {
        QMessageBox::warning(this,
                             enabled ? tr("Cannot enable the certificate")
                                     : tr("Cannot disable the certificate"),
                             formatProblems(problems));
        return false;
    }
    Q_EMIT message(enabled ? tr("Certificate %1 enabled").arg(id)
                           : tr("Certificate %1 disabled: no listener presents it").arg(id),
                   6000);
    return true;
}

bool CertificatesPane::deleteCertificate(const QString& id, bool confirm)
{
    if (!m_store)
        return false;
    // The config store refuses no ssl delete (nothing refers to one by id): the user decides,
    // told what loses its certificate.
    if (confirm) {
        const CertificateUsers users = certificateUsers(m_store->config(), id);
        const QString text =
            users.isEmpty()
                ? tr("Delete certificate %1? Its private key is removed from the config too.")
                      .arg(id)
                : tr("Certificate %1 is in use by %2: TLS clients asking for its names fail "
                     "the handshake without it, unless another certificate serves them. "
                     "Delete it?")
                      .arg(id, users.text());
        QMessageBox box(QMessageBox::Question, tr("Delete certificate"), text, QMessageBox::Cancel,
                        this);
        QPushButton* del = box.addButton(tr("Delete"), QMessageBox::DestructiveRole);
        box.setDefaultButton(QMessageBox::Cancel);
        box.exec();
        if (box.clickedButton() != del)
            return false;
    }
    const Problems problems = m_store->deleteSsl(id);
    if (!problems.isEmpty()) {
        QMessageBox::warning(this, tr("Cannot delete the certificate"), formatProblems(problems));
        return false;
    }
    Q_EMIT message(tr("Certificate %1 deleted").arg(id), 6000);
    return true;
}

void CertificatesPane::checkExpiry()
{
    if (!m_store)
        return;
    const QList<ExpiryNotice> notices =
        expiringCertificates(m_store->config(), QDateTime::currentDateTimeUtc(), kWarnDays);
    QSet<QString> current;
    QStringList fresh;
    m_noticeLines.clear();
    for (const ExpiryNotice& n : notices) {
        const QString key = QStringLiteral("%1|%2|%3")
                                .arg(n.sslId, n.notAfter.toString(Qt::ISODate))
                                .arg(n.expired ? 1 : 0);
        current.insert(key);
        m_noticeLines << n.text();
        if (m_announced.contains(key))
            continue;
        fresh << n.text();
        if (m_engine)
            m_engine->recordOperatorEvent(QString(), QStringLiteral("TLS: ") + n.text());
        Q_EMIT expiryAnnounced(n.text());
    }
    // A certificate replaced, renewed or no longer in use is announced again if it comes back.
    m_announced = current;
    if (notices.isEmpty()) {
        m_retryNotice->stop();
        if (m_banner && m_banner->key() == kNoticeKey)
            Q_EMIT noticeDone();
        return;
    }
    if (!fresh.isEmpty() || m_retryNotice->isActive())
        showExpiryNotice();
}

void CertificatesPane::showExpiryNotice()
{
    if (!m_banner || m_noticeLines.isEmpty())
        return;
    // Another notice (a load problem, a refused client) keeps the banner; try again later.
    if (!m_banner->key().isEmpty() && m_banner->key() != kNoticeKey) {
        m_retryNotice->start();
        return;
    }
    m_retryNotice->stop();
    QString text = m_noticeLines.first().toHtmlEscaped();
    if (m_noticeLines.size() > 1)
        text += QLatin1Char(' ') + tr("(%1 certificates in all expire soon or expired: see "
                                      "Certificates)")
                                       .arg(m_noticeLines.size());
    m_banner->showNotice(
        kNoticeKey, text,
        {NoticeBanner::Action(tr("Show certificates"), [this] { Q_EMIT showRequested(); }),
         NoticeBanner::Action(tr("Dismiss"), [this] { Q_EMIT noticeDone(); })});
}

} // namespace sg::ui
