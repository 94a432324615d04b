#include "panes/certificatedialogs.h"

#include "routeeditor/formparts.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QVBoxLayout>

namespace sg::ui {

namespace {

QLabel* errorLabel(QWidget* parent, const char* name)
{
    QLabel* label = makeErrorLabel(parent);
    label->setObjectName(QLatin1String(name));
    return label;
}

void showText(QLabel* label, const QString& text)
{
    label->setText(text);
    label->setVisible(!text.isEmpty());
}

} // namespace

QStringList splitNames(const QString& text)
{
    static const QRegularExpression separators(QStringLiteral("[,;\\s]+"));
    return text.split(separators, Qt::SkipEmptyParts);
}

ImportCertificateDialog::ImportCertificateDialog(QWidget* parent) : QDialog(parent)
{
    setObjectName(QStringLiteral("importCertificateDialog"));
    setWindowTitle(tr("Import PEM certificate"));
    auto* layout = new QVBoxLayout(this);
    auto* intro = new QLabel(tr("A certificate file (its chain may follow it) and its private key "
                                "without a passphrase, in two files or in one. The key is "
                                "stored in the config file (0600) and never shown."),
                             this);
    intro->setWordWrap(true);
    layout->addWidget(intro);
    auto* form = new QFormLayout;
    const auto fileRow = [this, form](QLineEdit*& edit, const char* name, const QString& label,
                                      const QString& placeholder, const QString& title) {
        edit = new QLineEdit(this);
        edit->setObjectName(QLatin1String(name));
        edit->setPlaceholderText(placeholder);
        edit->setMinimumWidth(360);
        auto* browse = new QPushButton(tr("Browse…"), this);
        QLineEdit* target = edit;
        connect(browse, &QPushButton::clicked, this,
                [this, target, title] { this->browse(target, title); });
        auto* row = new QHBoxLayout;
        row->addWidget(edit, 1);
        row->addWidget(browse);
        form->addRow(label, row);
    };
    fileRow(m_cert, "certFileEdit", tr("Certificate file"), tr("e.g. server.crt or server.pem"),
            tr("Certificate file"));
    fileRow(m_key, "keyFileEdit", tr("Key file"), tr("none: the key is in the certificate file"),
            tr("Private key file"));
    m_snis = new QLineEdit(this);
    m_snis->setObjectName(QStringLiteral("snisEdit"));
    m_snis->setPlaceholderText(tr("the certificate's names"));
    m_snis->setToolTip(tr("snis: the names the certificate is presented for, separated by "
                          "commas (exact, or *.example.com)"));
    form->addRow(tr("Names (SNI)"), m_snis);
    layout->addLayout(form);
    m_error = errorLabel(this, "importError");
    layout->addWidget(m_error);
    m_buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    QPushButton* ok = m_buttons->addButton(tr("Import"), QDialogButtonBox::AcceptRole);
    ok->setObjectName(QStringLiteral("importButton"));
    ok->setDefault(true);
    layout->addWidget(m_buttons);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(ok, &QPushButton::clicked, this, [this] {
        const QString cert = m_cert->text().trimmed();
        if (cert.isEmpty()) {
            showProblems(tr("Certificate file: choose the file with the certificate"));
            return;
        }
        Q_EMIT importRequested(cert, m_key->text().trimmed(), splitNames(m_snis->text()));
    });
}

void ImportCertificateDialog::setFiles(const QString& certPath, const QString& keyPath)
{
    m_cert->setText(certPath);
    m_key->setText(keyPath);
}

void ImportCertificateDialog::browse(QLineEdit* edit, const QString& title)
{
    auto* files = new QFileDialog(this, title, edit->text(),
                                  tr("PEM files (*.pem *.crt *.cer *.key);;All files (*)"));
    files->setAttribute(Qt::WA_DeleteOnClose);
    files->setFileMode(QFileDialog::ExistingFile);
    connect(files, &QFileDialog::fileSelected, edit, &QLineEdit::setText);
    files->open();
}

void ImportCertificateDialog::showProblems(const QString& text)
{
    showText(m_error, text);
}

void ImportCertificateDialog::setBusy(bool busy)
{
    m_buttons->setEnabled(!busy);
}

CreateCertificateDialog::CreateCertificateDialog(QWidget* parent) : QDialog(parent)
{
    setObjectName(QStringLiteral("createCertificateDialog"));
    setWindowTitle(tr("Create a certificate"));
    auto* layout = new QVBoxLayout(this);
    auto* form = new QFormLayout;
    m_issuer = new QComboBox(this);
    m_issuer->setObjectName(QStringLiteral("issuerCombo"));
    m_issuer->addItem(tr("Itself (self-signed)"), int(CertificateIssuer::Self));
    m_issuer->addItem(tr("Streamgate's development CA"), int(CertificateIssuer::DevelopmentCa));
    form->addRow(tr("Signed by"), m_issuer);
    m_names = new QLineEdit(this);
    m_names->setObjectName(QStringLiteral("namesEdit"));
    m_names->setMinimumWidth(360);
    m_names->setPlaceholderText(tr("e.g. db.example.com, *.db.example.com"));
    m_names->setToolTip(tr("The names it is for (subjectAltName, and the ssl's snis); the first "
                           "is also its CN"));
    form->addRow(tr("Names"), m_names);
    m_keyType = new QComboBox(this);
    m_keyType->setObjectName(QStringLiteral("keyTypeCombo"));
    m_keyType->addItem(tr("ECDSA P-256"), int(KeyKind::EcdsaP256));
    m_keyType->addItem(tr("RSA 2048"), int(KeyKind::Rsa2048));
    form->addRow(tr("Key"), m_keyType);
    m_days = new QSpinBox(this);
    m_days->setObjectName(QStringLiteral("daysSpin"));
    m_days->setRange(1, 36500);
    m_days->setValue(365);
    m_days->setSuffix(tr(" days"));
    form->addRow(tr("Valid for"), m_days);
    layout->addLayout(form);
    auto* trust = new QLabel(this);
    trust->setObjectName(QStringLiteral("trustHint"));
    trust->setWordWrap(true);
    layout->addWidget(trust);
    const auto explainTrust = [this, trust] {
        trust->setText(
            CertificateIssuer(m_issuer->currentData().toInt()) == CertificateIssuer::Self
                ? tr("For development and tests: clients do not trust it unless told to (export "
                     "it and add it to their trusted certificates).")
                : tr("Clients that trust the development CA trust it too: give them the CA's "
                     "certificate once (Export development CA… in the route form, or streamgate "
                     "--export-dev-ca FILE). The CA is made on first use."));
    };
    explainTrust();
    connect(m_issuer, &QComboBox::currentIndexChanged, this, explainTrust);
    m_error = errorLabel(this, "createError");
    layout->addWidget(m_error);
    m_buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    QPushButton* ok = m_buttons->addButton(tr("Create"), QDialogButtonBox::AcceptRole);
    ok->setObjectName(QStringLiteral("createButton"));
    ok->setDefault(true);
    layout->addWidget(m_buttons);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(ok, &QPushButton::clicked, this, [this] {
        CertificateRequest request;
        request.names = splitNames(m_names->text());
        request.key = KeyKind(m_keyType->currentData().toInt());
        request.days = m_days->value();
        request.issuer = CertificateIssuer(m_issuer->currentData().toInt());
        Q_EMIT createRequested(request);
    });
}

void CreateCertificateDialog::showProblems(const QString& text)
{
    showText(m_error, text);
}

void CreateCertificateDialog::setBusy(bool busy)
{
    m_buttons->setEnabled(!busy);
}

} // namespace sg::ui
