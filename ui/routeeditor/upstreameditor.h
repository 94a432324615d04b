#pragma once
// The form for one shared upstream held elsewhere (a remote APISIX's /apisix/admin/upstreams):
// id, name and description over the same upstream form the route editor embeds. Every edit is
// validated by the core's upstream decoder, each problem shown beside its field in the core's
// words; Save stays disabled until the upstream is valid, then emits it for whoever holds it.
// Fields the form does not show (checks, labels, scheme, ...) are carried over untouched.

#include "model/problem.h"
#include "model/streamroute.h"
#include "routeeditor/formparts.h"

#include <QJsonObject>
#include <QSet>
#include <QWidget>

class QLabel;
class QLineEdit;
class QPushButton;

namespace sg::ui {

class UpstreamForm;

class UpstreamEditor final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UpstreamEditor)

public:
    explicit UpstreamEditor(QWidget* parent = nullptr);
    ~UpstreamEditor() override;

    // Loads an upstream. A new one may be given an id, or none: the receiver then lets the
    // server pick one. `takenIds` are refused as the id of a new upstream.
    void edit(const Upstream& upstream, bool isNew, const QSet<QString>& takenIds = {});
    void clear();
    // Shows a refusal from whoever received submitted() beside the form's other errors.
    void showSubmitError(const QString& message);

    QString upstreamId() const { return m_id; }
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
    void submitted(const sg::Upstream& upstream);
    void dirtyChanged(bool dirty);

private:
    void build();
    void onEdited();
    void validate();
    QJsonObject formJson() const;
    void showProblems();
    void updateEnabledState();

    bool m_loaded = false;
    bool m_isNew = false;
    bool m_dirty = false;
    bool m_loading = false;
    QString m_id;
    Upstream m_upstream; // as loaded, for Revert
    QSet<QString> m_takenIds;
    QJsonObject m_original;
    Problems m_problems;

    QWidget* m_body = nullptr;
    QLabel* m_title = nullptr;
    QLabel* m_subtitle = nullptr;
    QLineEdit* m_idEdit = nullptr;
    QLineEdit* m_nameEdit = nullptr;
    QLineEdit* m_descEdit = nullptr;
    UpstreamForm* m_form = nullptr;
    QLabel* m_generalErrors = nullptr;
    QPushButton* m_saveButton = nullptr;
    QPushButton* m_revertButton = nullptr;
    ProblemLabels m_errorLabels;
};

} // namespace sg::ui
