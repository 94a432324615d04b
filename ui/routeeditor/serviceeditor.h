#pragma once
// The form for one service held elsewhere (a remote APISIX's /apisix/admin/services): id, name
// and description, the upstream stream routes of the service take when they have none (nodes of
// its own on the upstream form, a shared upstream by upstream_id, or none), and its plugins as
// the JSON object APISIX takes. Every edit is validated by the core's service decoder, each
// problem shown beside its field in the core's words; Save stays disabled until the service is
// valid, then emits it for whoever holds it. Fields the form does not show (labels, ...) are
// carried over untouched.

#include "model/problem.h"
#include "model/streamroute.h"
#include "routeeditor/formparts.h"

#include <QJsonObject>
#include <QList>
#include <QSet>
#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QRadioButton;

namespace sg::ui {

class UpstreamForm;

class ServiceEditor final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ServiceEditor)

public:
    explicit ServiceEditor(QWidget* parent = nullptr);
    ~ServiceEditor() override;

    // Loads a service. A new one may be given an id, or none: the receiver then lets the server
    // pick one. `upstreams` fill the shared-upstream choice (an upstream_id the service has is
    // kept either way); `takenIds` are refused as the id of a new service.
    void edit(const Service& service, bool isNew, const QList<Upstream>& upstreams = {},
              const QSet<QString>& takenIds = {});
    void clear();
    // Shows a refusal from whoever received submitted() beside the form's other errors.
    void showSubmitError(const QString& message);

    QString serviceId() const { return m_id; }
    bool isNew() const { return m_isNew; }
    bool isDirty() const { return m_dirty; }
    bool isValid() const { return m_problems.isEmpty(); }
    Problems problems() const { return m_problems; }
    UpstreamForm* form() const { return m_form; }

public Q_SLOTS:
    // Validates and emits submitted(); false (nothing emitted) while the form has problems.
    bool save();
    void revert();

Q_SIGNALS:
    void submitted(const sg::Service& service);
    void dirtyChanged(bool dirty);

private:
    void build();
    void onEdited();
    void validate();
    // The loaded service with the form's fields laid over it; plugins text that is not a JSON
    // object adds its problem to `problems` and leaves the loaded plugins in place.
    QJsonObject formJson(Problems& problems) const;
    void showProblems();
    void updateEnabledState();

    bool m_loaded = false;
    bool m_isNew = false;
    bool m_dirty = false;
    bool m_loading = false;
    QString m_id;
    Service m_service; // as loaded, for Revert
    QList<Upstream> m_upstreams;
    QSet<QString> m_takenIds;
    QJsonObject m_original;
    Problems m_problems;

    QWidget* m_body = nullptr;
    QLabel* m_title = nullptr;
    QLabel* m_subtitle = nullptr;
    QLineEdit* m_idEdit = nullptr;
    QLineEdit* m_nameEdit = nullptr;
    QLineEdit* m_descEdit = nullptr;
    QRadioButton* m_useNone = nullptr;
    QRadioButton* m_useNodes = nullptr;
    QRadioButton* m_useShared = nullptr;
    QComboBox* m_sharedUpstream = nullptr;
    UpstreamForm* m_form = nullptr;
    QPlainTextEdit* m_plugins = nullptr;
    QLabel* m_generalErrors = nullptr;
    QPushButton* m_saveButton = nullptr;
    QPushButton* m_revertButton = nullptr;
    ProblemLabels m_errorLabels;
};

} // namespace sg::ui
