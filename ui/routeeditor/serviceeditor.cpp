#include "routeeditor/serviceeditor.h"

#include "model/codec.h"
#include "routeeditor/upstreamform.h"

#include <QComboBox>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QVBoxLayout>

namespace sg::ui {

ServiceEditor::ServiceEditor(QWidget* parent) : QWidget(parent)
{
    build();
    clear();
}

ServiceEditor::~ServiceEditor() = default;

void ServiceEditor::build()
{
    const EditorFrame frame = buildEditorFrame(this);
    m_body = frame.form;
    m_title = frame.title;
    m_subtitle = frame.subtitle;
    m_saveButton = frame.save;
    m_revertButton = frame.revert;
    QVBoxLayout* layout = frame.layout;

    const IdentityFields identity =
        buildIdentityBox(tr("Service"), tr("e.g. MySQL"), m_errorLabels, m_body);
    m_idEdit = identity.id;
    m_nameEdit = identity.name;
    m_descEdit = identity.desc;
    layout->addWidget(identity.box);

    auto* upstreamBox = new QGroupBox(tr("Upstream"), m_body);
    upstreamBox->setToolTip(tr("The upstream of the stream routes that use this service and "
                               "have none of their own"));
    auto* upstreamLayout = new QVBoxLayout(upstreamBox);
    auto* choiceRow = new QHBoxLayout;
    m_useNone = new QRadioButton(tr("None"), upstreamBox);
    m_useNone->setObjectName(QStringLiteral("noUpstreamRadio"));
    m_useNodes = new QRadioButton(tr("Nodes of this service"), upstreamBox);
    m_useNodes->setObjectName(QStringLiteral("useNodesRadio"));
    m_useShared = new QRadioButton(tr("Shared upstream"), upstreamBox);
    m_useShared->setObjectName(QStringLiteral("useSharedRadio"));
    m_sharedUpstream = new QComboBox(upstreamBox);
    m_sharedUpstream->setObjectName(QStringLiteral("sharedUpstream"));
    choiceRow->addWidget(m_useNone);
    choiceRow->addWidget(m_useNodes);
    choiceRow->addWidget(m_useShared);
    choiceRow->addWidget(m_sharedUpstream, 1);
    upstreamLayout->addLayout(choiceRow);
    {
        QLabel* label = makeErrorLabel(upstreamBox);
        upstreamLayout->addWidget(label);
        m_errorLabels.add(QStringLiteral("upstream_id"), label);
    }
    m_form = new UpstreamForm(upstreamBox);
    m_form->setObjectName(QStringLiteral("upstreamForm"));
    upstreamLayout->addWidget(m_form);
    m_errorLabels.add(m_form->problemLabels(), QStringLiteral("upstream"));
    layout->addWidget(upstreamBox);

    auto* pluginsBox = new QGroupBox(tr("Plugins"), m_body);
    auto* pluginsLayout = new QVBoxLayout(pluginsBox);
    pluginsLayout->addWidget(
        makeHint(tr("A JSON object of plugin names to their conf, as APISIX's \"plugins\"; "
                    "each is checked as the server would. Stream routes of this service take "
                    "every plugin they do not configure themselves."),
                 pluginsBox));
    m_plugins = new QPlainTextEdit(pluginsBox);
    m_plugins->setObjectName(QStringLiteral("pluginsEdit"));
    m_plugins->setPlaceholderText(
        QStringLiteral(R"({"limit-conn": {"conn": 100, "burst": 0, "default_conn_delay": 0.1, )"
                       R"("key": "remote_addr"}})"));
    m_plugins->setTabChangesFocus(true);
    pluginsLayout->addWidget(m_plugins);
    {
        QLabel* label = makeErrorLabel(pluginsBox);
        pluginsLayout->addWidget(label);
        m_errorLabels.add(QStringLiteral("plugins"), label);
    }
    layout->addWidget(pluginsBox);

    m_generalErrors = makeErrorLabel(m_body);
    m_generalErrors->setObjectName(QStringLiteral("generalErrors"));
    layout->addWidget(m_generalErrors);
    layout->addStretch();

    for (QLineEdit* edit : {m_idEdit, m_nameEdit, m_descEdit})
        connect(edit, &QLineEdit::textChanged, this, &ServiceEditor::onEdited);
    for (QRadioButton* radio : {m_useNone, m_useNodes, m_useShared})
        connect(radio, &QRadioButton::toggled, this, &ServiceEditor::onEdited);
    connect(m_sharedUpstream, &QComboBox::currentIndexChanged, this, &ServiceEditor::onEdited);
    connect(m_form, &UpstreamForm::edited, this, &ServiceEditor::onEdited);
    connect(m_plugins, &QPlainTextEdit::textChanged, this, &ServiceEditor::onEdited);
    connect(m_saveButton, &QPushButton::clicked, this, &ServiceEditor::save);
    connect(m_revertButton, &QPushButton::clicked, this, &ServiceEditor::revert);
}

void ServiceEditor::clear()
{
    m_loading = true;
    m_loaded = false;
    m_isNew = false;
    m_id.clear();
    m_service = Service{};
    m_upstreams.clear();
    m_takenIds.clear();
    m_original = {};
    m_title->setText(tr("No service selected"));
    m_subtitle->setText(tr("Select a service, or press Add service."));
    m_idEdit->clear();
    m_nameEdit->clear();
    m_descEdit->clear();
    m_sharedUpstream->clear();
    m_useNone->setChecked(true);
    m_form->clear();
    m_plugins->clear();
    m_loading = false;
    m_problems.clear();
    m_dirty = false;
    m_body->setEnabled(false);
    showProblems();
    updateEnabledState();
}

void ServiceEditor::edit(const Service& service, bool isNew, const QList<Upstream>& upstreams,
                         const QSet<QString>& takenIds)
{
    m_loading = true;
    m_loaded = true;
    m_isNew = isNew;
    m_id = service.idString();
    m_service = service;
    m_upstreams = upstreams;
    m_takenIds = takenIds;
    m_original = encodeService(service);
    m_original.remove(QStringLiteral("create_time"));
    m_original.remove(QStringLiteral("update_time"));
    m_body->setEnabled(true);
    m_title->setText(isNew ? tr("New service") : (service.name.isEmpty() ? m_id : service.name));
    m_subtitle->setText(tr("Save sends this service to the remote Admin API; the services of "
                           "this computer are not changed."));
    m_idEdit->setText(m_id);
    m_idEdit->setReadOnly(!isNew);
    m_idEdit->setPlaceholderText(isNew ? tr("empty: the server picks one") : QString());
    m_nameEdit->setText(service.name);
    m_descEdit->setText(service.desc);

    m_sharedUpstream->clear();
    for (const Upstream& u : upstreams)
        m_sharedUpstream->addItem(choiceText(u.name, u.idString()), u.idString());
    const QString upstreamId = idText(service.upstreamId);
    if (!upstreamId.isEmpty() && m_sharedUpstream->findData(upstreamId) < 0)
        m_sharedUpstream->addItem(upstreamId, upstreamId); // not (or no longer) known here
    m_sharedUpstream->setCurrentIndex(qMax(0, m_sharedUpstream->findData(upstreamId)));
    const bool shared = !service.upstream && !upstreamId.isEmpty();
    m_useNodes->setChecked(service.upstream.has_value());
    m_useShared->setChecked(shared);
    m_useNone->setChecked(!service.upstream && !shared);
    m_form->load(service.upstream);

    const QJsonValue plugins = m_original.value(QStringLiteral("plugins"));
    m_plugins->setPlainText(plugins.isObject()
                                ? QString::fromUtf8(QJsonDocument(plugins.toObject()).toJson())
                                : QString());
    m_loading = false;
    m_dirty = isNew;
    validate();
    Q_EMIT dirtyChanged(m_dirty);
    if (isNew) {
        m_nameEdit->setFocus();
        m_nameEdit->selectAll();
    }
}

void ServiceEditor::showSubmitError(const QString& message)
{
    appendError(m_generalErrors, message);
}

void ServiceEditor::onEdited()
{
    if (m_loading)
        return;
    if (!m_dirty) {
        m_dirty = true;
        Q_EMIT dirtyChanged(true);
    }
    validate();
}

QJsonObject ServiceEditor::formJson(Problems& problems) const
{
    QJsonObject o = m_original;
    const QString id = m_idEdit->text().trimmed();
    if (id.isEmpty())
        o.remove(QStringLiteral("id"));
    else
        o.insert(QStringLiteral("id"), idJson(id, m_original.value(QStringLiteral("id"))));
    setTextField(o, QStringLiteral("name"), m_nameEdit->text());
    setTextField(o, QStringLiteral("desc"), m_descEdit->text());

    if (m_useNodes->isChecked()) {
        o.remove(QStringLiteral("upstream_id"));
        o.insert(QStringLiteral("upstream"), m_form->json());
    } else if (m_useShared->isChecked()) {
        o.remove(QStringLiteral("upstream"));
        const QString upstreamId = m_sharedUpstream->currentData().toString();
        const QJsonValue originalId = m_original.value(QStringLiteral("upstream_id"));
        o.insert(
            QStringLiteral("upstream_id"),
            idJson(upstreamId, originalId.isUndefined() ? QJsonValue(upstreamId) : originalId));
    } else {
        o.remove(QStringLiteral("upstream"));
        o.remove(QStringLiteral("upstream_id"));
    }

    const QString text = m_plugins->toPlainText().trimmed();
    if (text.isEmpty()) {
        o.remove(QStringLiteral("plugins"));
        return o;
    }
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(text.toUtf8(), &error);
    if (error.error != QJsonParseError::NoError)
        problems << Problem{
            QStringLiteral("plugins"), text,
            tr("not JSON: %1 at character %2").arg(error.errorString()).arg(error.offset)};
    else if (!doc.isObject())
        problems << Problem{QStringLiteral("plugins"), text,
                            tr("must be a JSON object of plugin names to their conf")};
    else
        o.insert(QStringLiteral("plugins"), doc.object());
    return o;
}

void ServiceEditor::validate()
{
    m_problems.clear();
    if (m_loaded) {
        const QJsonObject json = formJson(m_problems);
        m_problems << decodeService(json, QString(), DecodeMode::Client).problems;
        const QString id = m_idEdit->text().trimmed();
        if (m_isNew && m_takenIds.contains(id))
            m_problems << Problem{QStringLiteral("id"), id,
                                  tr("a service with id %1 already exists").arg(id)};
    }
    m_form->setEnabled(m_useNodes->isChecked());
    m_sharedUpstream->setEnabled(m_useShared->isChecked());
    m_useShared->setEnabled(m_sharedUpstream->count() > 0 || m_useShared->isChecked());
    showProblems();
    updateEnabledState();
}

void ServiceEditor::showProblems()
{
    const QStringList general = m_errorLabels.show(m_problems);
    m_generalErrors->setText(general.join(QLatin1Char('\n')));
    m_generalErrors->setVisible(!general.isEmpty());
}

void ServiceEditor::updateEnabledState()
{
    m_saveButton->setEnabled(m_loaded && m_dirty && m_problems.isEmpty());
    m_revertButton->setEnabled(m_loaded && m_dirty);
}

bool ServiceEditor::save()
{
    validate();
    if (!m_loaded || !m_problems.isEmpty())
        return false;
    Problems ignored; // none: validate() just found the form clean
    Decoded<Service> decoded = decodeService(formJson(ignored), QString(), DecodeMode::Client);
    if (!decoded.ok()) {
        m_problems = decoded.problems;
        showProblems();
        updateEnabledState();
        return false;
    }
    Service service = decoded.value;
    if (service.upstream)
        service.upstream->nodesAsMap = m_form->nodesAsMap(); // the encoder falls back when it must
    // Stays dirty until the receiver confirms and loads the stored service back.
    Q_EMIT submitted(service);
    return true;
}

void ServiceEditor::revert()
{
    if (!m_loaded)
        return;
    if (m_isNew) {
        clear();
        Q_EMIT dirtyChanged(false);
        return;
    }
    edit(m_service, false, m_upstreams, m_takenIds);
}

} // namespace sg::ui
