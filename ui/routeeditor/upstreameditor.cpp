#include "routeeditor/upstreameditor.h"

#include "model/codec.h"
#include "routeeditor/upstreamform.h"

#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace sg::ui {

UpstreamEditor::UpstreamEditor(QWidget* parent) : QWidget(parent)
{
    build();
    clear();
}

UpstreamEditor::~UpstreamEditor() = default;

void UpstreamEditor::build()
{
    const EditorFrame frame = buildEditorFrame(this);
    m_body = frame.form;
    m_title = frame.title;
    m_subtitle = frame.subtitle;
    m_saveButton = frame.save;
    m_revertButton = frame.revert;
    QVBoxLayout* layout = frame.layout;

    const IdentityFields identity =
        buildIdentityBox(tr("Upstream"), tr("e.g. MySQL replicas"), m_errorLabels, m_body);
    m_idEdit = identity.id;
    m_nameEdit = identity.name;
    m_descEdit = identity.desc;
    layout->addWidget(identity.box);

    auto* nodesBox = new QGroupBox(tr("Nodes and balancing"), m_body);
    auto* nodesLayout = new QVBoxLayout(nodesBox);
    m_form = new UpstreamForm(nodesBox);
    m_form->setObjectName(QStringLiteral("upstreamForm"));
    nodesLayout->addWidget(m_form);
    m_errorLabels.add(m_form->problemLabels(), QString());
    layout->addWidget(nodesBox);

    m_generalErrors = makeErrorLabel(m_body);
    m_generalErrors->setObjectName(QStringLiteral("generalErrors"));
    layout->addWidget(m_generalErrors);
    layout->addStretch();

    for (QLineEdit* edit : {m_idEdit, m_nameEdit, m_descEdit})
        connect(edit, &QLineEdit::textChanged, this, &UpstreamEditor::onEdited);
    connect(m_form, &UpstreamForm::edited, this, &UpstreamEditor::onEdited);
    connect(m_saveButton, &QPushButton::clicked, this, &UpstreamEditor::save);
    connect(m_revertButton, &QPushButton::clicked, this, &UpstreamEditor::revert);
}

void UpstreamEditor::clear()
{
    m_loading = true;
    m_loaded = false;
    m_isNew = false;
    m_id.clear();
    m_upstream = Upstream{};
    m_takenIds.clear();
    m_original = {};
    m_title->setText(tr("No upstream selected"));
    m_subtitle->setText(tr("Select an upstream, or press Add upstream."));
    m_idEdit->clear();
    m_nameEdit->clear();
    m_descEdit->clear();
    m_form->clear();
    m_loading = false;
    m_problems.clear();
    m_dirty = false;
    m_body->setEnabled(false);
    showProblems();
    updateEnabledState();
}

void UpstreamEditor::edit(const Upstream& upstream, bool isNew, const QSet<QString>& takenIds)
{
    m_loading = true;
    m_loaded = true;
    m_isNew = isNew;
    m_id = upstream.idString();
    m_upstream = upstream;
    m_takenIds = takenIds;
    m_original = encodeUpstream(upstream);
    m_original.remove(QStringLiteral("create_time"));
    m_original.remove(QStringLiteral("update_time"));
    m_body->setEnabled(true);
    m_title->setText(isNew ? tr("New upstream") : (upstream.name.isEmpty() ? m_id : upstream.name));
    m_subtitle->setText(tr("Save sends this upstream to the remote Admin API; the upstreams of "
                           "this computer are not changed."));
    m_idEdit->setText(m_id);
    m_idEdit->setReadOnly(!isNew);
    m_idEdit->setPlaceholderText(isNew ? tr("empty: the server picks one") : QString());
    m_nameEdit->setText(upstream.name);
    m_descEdit->setText(upstream.desc);
    m_form->load(upstream);
    m_loading = false;
    m_dirty = isNew;
    validate();
    Q_EMIT dirtyChanged(m_dirty);
    if (isNew) {
        m_nameEdit->setFocus();
        m_nameEdit->selectAll();
    }
}

void UpstreamEditor::showSubmitError(const QString& message)
{
    appendError(m_generalErrors, message);
}

void UpstreamEditor::onEdited()
{
    if (m_loading)
        return;
    if (!m_dirty) {
        m_dirty = true;
        Q_EMIT dirtyChanged(true);
    }
    validate();
}

QJsonObject UpstreamEditor::formJson() const
{
    QJsonObject o = m_form->json();
    const QString id = m_idEdit->text().trimmed();
    if (id.isEmpty())
        o.remove(QStringLiteral("id"));
    else
        o.insert(QStringLiteral("id"), idJson(id, m_original.value(QStringLiteral("id"))));
    setTextField(o, QStringLiteral("name"), m_nameEdit->text());
    setTextField(o, QStringLiteral("desc"), m_descEdit->text());
    return o;
}

void UpstreamEditor::validate()
{
    m_problems.clear();
    if (!m_loaded) {
        showProblems();
        updateEnabledState();
        return;
    }
    m_problems = decodeUpstream(formJson(), QString(), DecodeMode::Client).problems;
    const QString id = m_idEdit->text().trimmed();
    if (m_isNew && m_takenIds.contains(id))
        m_problems << Problem{QStringLiteral("id"), id,
                              tr("an upstream with id %1 already exists").arg(id)};
    showProblems();
    updateEnabledState();
}

void UpstreamEditor::showProblems()
{
    const QStringList general = m_errorLabels.show(m_problems);
    m_generalErrors->setText(general.join(QLatin1Char('\n')));
    m_generalErrors->setVisible(!general.isEmpty());
}

void UpstreamEditor::updateEnabledState()
{
    m_saveButton->setEnabled(m_loaded && m_dirty && m_problems.isEmpty());
    m_revertButton->setEnabled(m_loaded && m_dirty);
}

bool UpstreamEditor::save()
{
    validate();
    if (!m_loaded || !m_problems.isEmpty())
        return false;
    Decoded<Upstream> decoded = decodeUpstream(formJson(), QString(), DecodeMode::Client);
    if (!decoded.ok()) {
        m_problems = decoded.problems;
        showProblems();
        updateEnabledState();
        return false;
    }
    Upstream upstream = decoded.value;
    upstream.nodesAsMap = m_form->nodesAsMap(); // the encoder falls back when it must
    // Stays dirty until the receiver confirms and loads the stored upstream back.
    Q_EMIT submitted(upstream);
    return true;
}

void UpstreamEditor::revert()
{
    if (!m_loaded)
        return;
    if (m_isNew) {
        clear();
        Q_EMIT dirtyChanged(false);
        return;
    }
    edit(m_upstream, false, m_takenIds);
}

} // namespace sg::ui
