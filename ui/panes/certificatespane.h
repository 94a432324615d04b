#pragma once
// The Certificates tab: the config's ssl objects, one row each, with their names (SNIs), type,
// subject and issuer, validity with the days left (coloured as the end comes near), key type,
// status and who uses them (TLS listeners, routes whose sni they serve); the details come from
// config/certificates.h. Its actions: Import PEM…, Create certificate… (self-signed or signed by
// the development CA), Export certificate…, Enable/Disable, Delete, each through the ConfigStore
// as the route form's edits go (checked as the admin API checks an ssl, nothing half-stored).
// Private keys are never shown.
// Expiry is watched at start, on every config change and daily: a certificate in use that
// expires within 14 days, or has expired, is said once (per certificate, end date and state) in
// the event log and the notice banner.

#include <QHash>
#include <QSet>
#include <QWidget>

class QAction;
class QLabel;
class QTableWidget;
class QTimer;

namespace sg {

class ConfigStore;
class Engine;
struct Config;
struct ExpiryNotice;

namespace ui {

class ImportCertificateDialog;
class NoticeBanner;
class CreateCertificateDialog;

class CertificatesPane final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CertificatesPane)

public:
    enum Column {
        NamesColumn,
        StatusColumn,
        DaysLeftColumn,
        NotAfterColumn,
        UsedByColumn,
        KeyColumn,
        SubjectColumn,
        IssuerColumn,
        NotBeforeColumn,
        TypeColumn,
        IdColumn,
        ColumnCount
    };
    static constexpr int kWarnDays = 14;

    // banner: where expiry is announced (may be null); engine: the event log (may be null).
    CertificatesPane(ConfigStore* store, Engine* engine, NoticeBanner* banner,
                     QWidget* parent = nullptr);

    QTableWidget* view() const { return m_view; }
    QString selectedId() const;
    void selectCertificate(const QString& id);
    int rowOf(const QString& id) const;

    // The forms, opened window-modal; each deletes itself when closed.
    ImportCertificateDialog* openImportDialog();
    CreateCertificateDialog* openCreateDialog();
    // Writes the certificate (and its chain; never the key) of `id` to `path`, off the GUI
    // thread; the outcome is in message().
    void exportCertificate(const QString& id, const QString& path);
    bool setCertificateEnabled(const QString& id, bool enabled);
    // After asking when `confirm`, naming the listeners and routes that use it.
    bool deleteCertificate(const QString& id, bool confirm);
    // Looks for certificates in use that expire soon; announces the ones not announced yet.
    void checkExpiry();

    QAction* importAction() const { return m_importAction; }
    QAction* createAction() const { return m_createAction; }
    QAction* exportAction() const { return m_exportAction; }
    QAction* enableAction() const { return m_enableAction; }
    QAction* deleteAction() const { return m_deleteAction; }

Q_SIGNALS:
    void message(const QString& text, int timeoutMs);
    // The banner's "Show certificates".
    void showRequested();
    // The expiry notice is no longer wanted (dismissed, or nothing expires any more): the
    // window takes it down, so a notice waiting behind it can show.
    void noticeDone();
    // Each announced expiry, as written to the event log.
    void expiryAnnounced(const QString& text);

private:
    void rebuild(const Config& config);
    void updateActions();
    void showExpiryNotice();
    void startImport(ImportCertificateDialog* dialog, const QString& certPath,
                     const QString& keyPath, const QStringList& snis);

    ConfigStore* m_store;
    Engine* m_engine;
    NoticeBanner* m_banner;
    QTableWidget* m_view;
    QLabel* m_summary;
    QAction* m_importAction;
    QAction* m_createAction;
    QAction* m_exportAction;
    QAction* m_enableAction;
    QAction* m_deleteAction;
    QTimer* m_daily;
    QTimer* m_retryNotice;
    QSet<QString> m_announced; // "id|notAfter|expired" already said
    QStringList m_noticeLines; // what the banner says now (or would, once it is free)
};

} // namespace ui
} // namespace sg
