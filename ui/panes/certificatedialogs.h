#pragma once
// The Certificates view's two forms, opened window-modal and never blocking the event loop:
// Import PEM (a certificate file and a key file, or one file with both; the names, from the
// certificate unless given) and Create (signed by itself or by Streamgate's development CA;
// names, key type, validity). Each is only a form: it says what was asked (importRequested,
// createRequested) and shows the problems the pane found, one per line, naming the file or
// field, until the pane accepts it.

#include "config/certificates.h"

#include <QDialog>

class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace sg::ui {

class ImportCertificateDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ImportCertificateDialog)

public:
    explicit ImportCertificateDialog(QWidget* parent = nullptr);

    // Empty key path: the key is in the certificate file. Empty names: the certificate's.
    void setFiles(const QString& certPath, const QString& keyPath);
    void showProblems(const QString& text); // empty: none
    void setBusy(bool busy);

Q_SIGNALS:
    void importRequested(const QString& certPath, const QString& keyPath, const QStringList& snis);

private:
    void browse(QLineEdit* edit, const QString& title);

    QLineEdit* m_cert;
    QLineEdit* m_key;
    QLineEdit* m_snis;
    QLabel* m_error;
    QDialogButtonBox* m_buttons;
};

class CreateCertificateDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CreateCertificateDialog)

public:
    explicit CreateCertificateDialog(QWidget* parent = nullptr);

    void showProblems(const QString& text);
    void setBusy(bool busy);

Q_SIGNALS:
    void createRequested(const sg::CertificateRequest& request);

private:
    QComboBox* m_issuer;
    QLineEdit* m_names;
    QComboBox* m_keyType;
    QSpinBox* m_days;
    QLabel* m_error;
    QDialogButtonBox* m_buttons;
};

// "a.example.com, *.example.com" or with spaces: the names, empty entries left out.
QStringList splitNames(const QString& text);

} // namespace sg::ui
