#include "faults/faultspanel.h"

#include "config/configstore.h"
#include "config/routeedits.h"
#include "config/toxicedits.h"
#include "faults/faultwords.h"
#include "format.h"
#include "proxy/engine.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHash>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QTableWidget>
#include <QToolButton>
#include <QVBoxLayout>
#include <climits>

namespace sg::ui {

namespace {

using Result = std::variant<Config, QString>;

Result result(const ToxicEdit& edit)
{
    if (const auto* e = std::get_if<ToxicEditError>(&edit))
        return e->message;
    return std::get<Config>(edit);
}

// "Latency (ms)": the attribute's name and unit as the form shows them.
QString attributeLabel(ToxicType type, const QString& name)
{
    QString unit;
    if (name == u"rate")
        unit = QStringLiteral("KB/s");
    else if (name == u"average_size" || name == u"size_variation" || name == u"bytes")
        unit = QStringLiteral("bytes");
    else if (name == u"delay" && type == ToxicType::Slicer)
        unit = QStringLiteral("µs");
    else if (name == u"loss_rate")
        unit = QStringLiteral("parts per million");
    else if (name == u"code")
        unit = QStringLiteral("MySQL error");
    else
        unit = QStringLiteral("ms");
    QString words = name;
    words.replace(u'_', u' ');
    words[0] = words[0].toUpper();
    return QStringLiteral("%1 (%2)").arg(words, unit);
}

const ToxicStatus* statusOf(const QList<ToxicStatus>& status, const QString& routeId,
                            const QString& name)
{
    for (const ToxicStatus& t : status)
        if (t.routeId == routeId && t.name == name)
            return &t;
    return nullptr;
}

} // namespace

QString hittingText(const ToxicStatus& status)
{
    QString text = QCoreApplication::translate("sg::ui::faults", "%1 now · %2 in all")
                       .arg(status.hitting.size())
                       .arg(status.hitTotal);
    if (status.bytesHeld > 0)
        text += QCoreApplication::translate("sg::ui::faults", " · %1 held")
                    .arg(formatBytes(status.bytesHeld));
    return text;
}

FaultsPanel::FaultsPanel(ConfigStore* store, Engine* engine, QWidget* parent)
    : QWidget(parent), m_store(store), m_engine(engine)
{
    auto* layout = new QVBoxLayout(this);
    m_title = new QLabel(this);
    m_title->setObjectName(QStringLiteral("faultsTitle"));
    m_title->setWordWrap(true);
    layout->addWidget(m_title);

    auto* down = new QHBoxLayout;
    m_downLabel =
        new QLabel(tr("<b>Server down</b>: the listener is closed and clients are refused."), this);
    m_downLabel->setObjectName(QStringLiteral("serverDownLabel"));
    m_bringBack = new QPushButton(tr("Bring the server back"), this);
    m_bringBack->setObjectName(QStringLiteral("bringBackButton"));
    connect(m_bringBack, &QPushButton::clicked, this, [this] { bringServerBack(); });
    down->addWidget(m_downLabel, 1);
    down->addWidget(m_bringBack);
    layout->addLayout(down);

    auto* bar = new QHBoxLayout;
    m_presetButton = new QToolButton(this);
    m_presetButton->setObjectName(QStringLiteral("presetButton"));
    m_presetButton->setText(tr("Add preset"));
    m_presetButton->setPopupMode(QToolButton::InstantPopup);
    auto* presets = new QMenu(m_presetButton);
    for (const FaultPreset& p : faultPresets()) {
        QAction* a = presets->addAction(p.label);
        a->setObjectName(QStringLiteral("preset_") + p.key);
        connect(a, &QAction::triggered, this, [this, key = p.key] { addPreset(key); });
    }
    m_presetButton->setMenu(presets);
    bar->addWidget(m_presetButton);
    bar->addSpacing(12);
    bar->addWidget(new QLabel(tr("or a toxic:"), this));
    m_newType = new QComboBox(this);
    m_newType->setObjectName(QStringLiteral("newTypeCombo"));
    m_newType->addItems(toxicTypeNames());
    m_newStream = new QComboBox(this);
    m_newStream->setObjectName(QStringLiteral("newStreamCombo"));
    m_newStream->addItem(tr("downstream (server → client)"), false);
    m_newStream->addItem(tr("upstream (client → server)"), true);
    m_addButton = new QPushButton(tr("Add"), this);
    m_addButton->setObjectName(QStringLiteral("addToxicButton"));
    connect(m_addButton, &QPushButton::clicked, this, [this] {
        addToxic(ToxicType(m_newType->currentIndex()), m_newStream->currentData().toBool());
    });
    bar->addWidget(m_newType);
    bar->addWidget(m_newStream);
    bar->addWidget(m_addButton);
    bar->addStretch();
    m_removeButton = new QPushButton(tr("Remove"), this);
    m_removeButton->setObjectName(QStringLiteral("removeToxicButton"));
    connect(m_removeButton, &QPushButton::clicked, this, [this] {
        if (!selectedToxic().isEmpty())
            removeToxic(selectedToxic());
    });
    bar->addWidget(m_removeButton);
    layout->addLayout(bar);

    m_table = new QTableWidget(0, ColumnCount, this);
    m_table->setObjectName(QStringLiteral("faultsTable"));
    m_table->setHorizontalHeaderLabels({tr("Name"), tr("Type"), tr("Stream"), tr("Effect"),
                                        tr("Toxicity"), tr("Hitting"), tr("Clients")});
    m_table->horizontalHeaderItem(HittingColumn)
        ->setToolTip(tr("Open connections the toxic acts on now, and how many it has acted on "
                        "since it was added; bytes it holds back now"));
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setSectionResizeMode(NameColumn, QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(EffectColumn, QHeaderView::Stretch);
    connect(m_table, &QTableWidget::currentCellChanged, this, &FaultsPanel::onCurrentRowChanged);
    connect(m_table, &QTableWidget::itemChanged, this, [this](QTableWidgetItem* item) {
        if (m_refreshing || item->column() != NameColumn || item->row() >= m_shown.size())
            return;
        const ToxicSpec& t = m_shown.at(item->row());
        const bool on = item->checkState() == Qt::Checked;
        if (on != t.enabled)
            setToxicEnabled(t.name, on); // copied there before the edit refreshes m_shown
    });
    layout->addWidget(m_table, 1);
    m_hitsLabel = new QLabel(this);
    m_hitsLabel->setObjectName(QStringLiteral("hitsLabel"));
    m_hitsLabel->setWordWrap(true);
    layout->addWidget(m_hitsLabel);

    m_editor = new QWidget(this);
    m_editor->setObjectName(QStringLiteral("toxicEditor"));
    m_form = new QFormLayout(m_editor);
    m_editorTitle = new QLabel(m_editor);
    m_form->addRow(m_editorTitle);
    m_streamEdit = new QComboBox(m_editor);
    m_streamEdit->setObjectName(QStringLiteral("streamEdit"));
    m_streamEdit->addItem(tr("downstream (server → client)"), false);
    m_streamEdit->addItem(tr("upstream (client → server)"), true);
    connect(m_streamEdit, &QComboBox::activated, this, [this] {
        const bool upstream = m_streamEdit->currentData().toBool();
        editSelected([upstream](ToxicSpec& t) { t.upstream = upstream; });
    });
    m_form->addRow(tr("Stream"), m_streamEdit);
    m_toxicityEdit = new QDoubleSpinBox(m_editor);
    m_toxicityEdit->setObjectName(QStringLiteral("toxicityEdit"));
    m_toxicityEdit->setRange(0, 100);
    m_toxicityEdit->setDecimals(1);
    m_toxicityEdit->setSuffix(QStringLiteral(" %"));
    m_toxicityEdit->setKeyboardTracking(false); // one commit per value, not per keystroke
    m_toxicityEdit->setToolTip(tr("The share of connections this toxic applies to"));
    connect(m_toxicityEdit, &QDoubleSpinBox::valueChanged, this, [this](double percent) {
        editSelected([percent](ToxicSpec& t) { t.toxicity = percent / 100.0; });
    });
    m_form->addRow(tr("Toxicity"), m_toxicityEdit);
    m_clientsEdit = new QLineEdit(m_editor);
    m_clientsEdit->setObjectName(QStringLiteral("clientsEdit"));
    m_clientsEdit->setPlaceholderText(
        tr("every client; or IPs and CIDRs: 10.0.0.5, 192.168.1.0/24"));
    m_clientsEdit->setToolTip(tr("Only these clients get this toxic; the others pass untouched"));
    connect(m_clientsEdit, &QLineEdit::editingFinished, this, &FaultsPanel::commitClients);
    m_clientsError = new QLabel(m_editor);
    m_clientsError->setObjectName(QStringLiteral("clientsError"));
    m_clientsError->setStyleSheet(QStringLiteral("color: #c62828"));
    m_clientsError->setWordWrap(true);
    m_clientsError->hide();
    auto* clients = new QVBoxLayout;
    clients->addWidget(m_clientsEdit);
    clients->addWidget(m_clientsError);
    m_form->addRow(tr("Clients"), clients);
    layout->addWidget(m_editor);

    refresh();
}

void FaultsPanel::setRoute(const QString& routeId)
{
    if (routeId == m_routeId)
        return;
    m_routeId = routeId;
    m_shown.clear();
    refresh();
}

void FaultsPanel::setConfig(const Config& config)
{
    m_config = config;
    refresh();
}

void FaultsPanel::setToxicStatus(const QList<ToxicStatus>& status)
{
    m_status = status;
    for (int i = 0; i < m_shown.size(); ++i) {
        QTableWidgetItem* item = m_table->item(i, HittingColumn);
        const ToxicStatus* s = statusOf(m_status, m_routeId, m_shown.at(i).name);
        const QString text = s ? hittingText(*s) : QString();
        if (item && item->text() != text)
            item->setText(text);
    }
    showHits();
}

QList<quint64> FaultsPanel::selectedHits() const
{
    const ToxicStatus* s = statusOf(m_status, m_routeId, selectedToxic());
    return s ? s->hitting : QList<quint64>();
}

// The line under the table names the connections the selected toxic hits; the connections
// table tints the same rows (hitsChanged()).
void FaultsPanel::showHits()
{
    const QString name = selectedToxic();
    const QList<quint64> hits = selectedHits();
    if (name.isEmpty()) {
        m_hitsLabel->clear();
    } else if (hits.isEmpty()) {
        m_hitsLabel->setText(tr("%1 hits no open connection now.").arg(name));
    } else {
        QStringList ids;
        for (quint64 id : hits)
            ids << QStringLiteral("#%1").arg(id);
        m_hitsLabel->setText(tr("%1 hits connection(s) %2 now, tinted in the Connections tab.")
                                 .arg(name, ids.join(QStringLiteral(", "))));
    }
    if (hits != m_hits) {
        m_hits = hits;
        Q_EMIT hitsChanged(m_hits);
    }
}

QString FaultsPanel::selectedToxic() const
{
    const int row = m_table->currentRow();
    return row >= 0 && row < m_shown.size() ? m_shown.at(row).name : QString();
}

void FaultsPanel::selectToxic(const QString& name)
{
    for (int i = 0; i < m_shown.size(); ++i)
        if (m_shown.at(i).name == name)
            m_table->setCurrentCell(i, NameColumn);
}

bool FaultsPanel::commit(const std::function<Result(const Config&)>& edit, const QString& done)
{
    if (!m_store)
        return false;
    QString why;
    const Problems problems = m_store->update([&](Config& config) {
        Result r = edit(config);
        if (const auto* e = std::get_if<QString>(&r)) {
            why = *e;
            return Problems{Problem{QString(), QString(), *e}};
        }
        config = std::get<Config>(std::move(r));
        return Problems{};
    });
    if (!problems.isEmpty()) {
        Q_EMIT message(why.isEmpty() ? formatProblems(problems) : why);
        return false;
    }
    if (!done.isEmpty())
        Q_EMIT message(done);
    return true;
}

bool FaultsPanel::addPreset(const QString& key)
{
    const QString routeId = m_routeId;
    if (routeId.isEmpty())
        return false;
    for (const FaultPreset& preset : faultPresets()) {
        if (preset.key != key)
            continue;
        if (preset.toxics.isEmpty()) {
            if (!commit([&](const Config& c) { return result(withRouteDown(c, routeId)); },
                        tr("%1: server down, clients are refused").arg(routeId)))
                return false;
            if (m_engine)
                m_engine->killRoute(routeId);
            return true;
        }
        QString first;
        const bool ok = commit(
            [&](const Config& c) -> Result {
                Config next = c;
                for (ToxicSpec t : preset.toxics) {
                    const QString base = preset.toxics.size() > 1
                                             ? preset.name + u'_' + t.streamName()
                                             : preset.name;
                    t.name = uniqueToxicName(next, routeId, base);
                    if (first.isEmpty())
                        first = t.name;
                    Result r = result(withToxicAdded(next, routeId, t));
                    if (std::holds_alternative<QString>(r))
                        return r;
                    next = std::get<Config>(std::move(r));
                }
                return next;
            },
            tr("%1 added to %2").arg(preset.label, routeId));
        if (ok)
            selectToxic(first);
        return ok;
    }
    return false;
}

bool FaultsPanel::addToxic(ToxicType type, bool upstream)
{
    const QString routeId = m_routeId;
    if (routeId.isEmpty())
        return false;
    ToxicSpec t = defaultToxic(type, upstream);
    const bool ok = commit(
        [&](const Config& c) {
            t.name = uniqueToxicName(c, routeId, toxicTypeName(type) + u'_' + t.streamName());
            return result(withToxicAdded(c, routeId, t));
        },
        tr("Toxic added to %1: %2").arg(routeId, toxicEffect(t)));
    if (ok)
        selectToxic(t.name);
    return ok;
}

bool FaultsPanel::removeToxic(const QString& name)
{
    const QString routeId = m_routeId;
    return commit([&](const Config& c) { return result(withToxicRemoved(c, routeId, name)); },
                  tr("Toxic %1 removed from %2").arg(name, routeId));
}

bool FaultsPanel::bringServerBack()
{
    const QString routeId = m_routeId;
    return commit(
        [&](const Config& c) -> Result {
            if (!isRouteDown(c, routeId))
                return tr("%1 is not down as a fault").arg(routeId);
            return withRouteEnabled(c, routeId);
        },
        tr("%1 is back: listening again").arg(routeId));
}

bool FaultsPanel::setToxicEnabled(const QString& name, bool enabled)
{
    return editToxic(name, [enabled](ToxicSpec& t) { t.enabled = enabled; });
}

// The clients field: IPs and CIDRs split on commas and spaces, checked as the config file's
// decoder checks them, so a bad entry is named before anything is saved.
void FaultsPanel::commitClients()
{
    const QString name = selectedToxic();
    if (name.isEmpty())
        return;
    const QStringList entries = m_clientsEdit->text().split(
        QRegularExpression(QStringLiteral("[,\\s]+")), Qt::SkipEmptyParts);
    ToxicSpec probe;
    const Problems problems = decodeToxicUpdate(
        QJsonObject{{QStringLiteral("clients"), QJsonArray::fromStringList(entries)}}, QString(),
        &probe);
    if (!problems.isEmpty()) {
        m_clientsError->setText(formatProblems(problems));
        m_clientsError->show();
        Q_EMIT message(formatProblems(problems));
        return;
    }
    m_clientsError->hide();
    const QString routeId = m_routeId;
    for (const ToxicSpec& t : m_config.streamgate.toxicMap().value(routeId))
        if (t.name == name && t.clients == probe.clients)
            return; // unchanged (focus left the field)
    editSelected([clients = probe.clients](ToxicSpec& t) { t.clients = clients; });
}

// A live edit of the selected toxic.
void FaultsPanel::editSelected(const std::function<void(ToxicSpec&)>& change)
{
    editToxic(selectedToxic(), change);
}

// A live edit of one toxic, on the config as the store has it now.
bool FaultsPanel::editToxic(const QString& toxicName, const std::function<void(ToxicSpec&)>& change)
{
    // A copy: the caller's name may live in the table's rows, which the commit refreshes.
    const QString name = toxicName;
    const QString routeId = m_routeId;
    if (routeId.isEmpty() || name.isEmpty())
        return false;
    ToxicSpec edited;
    const bool ok = commit(
        [&](const Config& c) -> Result {
            for (const ToxicSpec& t : c.streamgate.toxicMap().value(routeId)) {
                if (t.name != name)
                    continue;
                edited = t;
                change(edited);
                return result(withToxicReplaced(c, routeId, name, edited));
            }
            return tr("route %1 has no toxic named \"%2\"").arg(routeId, name);
        },
        QString());
    if (ok)
        Q_EMIT message(tr("%1 on %2: %3, %4 of connections%5")
                           .arg(name, routeId, toxicEffect(edited), toxicityText(edited.toxicity),
                                edited.enabled ? QString() : tr(" (off)")));
    return ok;
}

void FaultsPanel::refresh()
{
    const bool hasRoute = !m_routeId.isEmpty() && (m_config.findRoute(m_routeId) || [&] {
        for (const DisabledRoute& d : disabledRoutes(m_config))
            if (d.route.idString() == m_routeId)
                return true;
        return false;
    }());
    const bool down = hasRoute && isRouteDown(m_config, m_routeId);
    const QList<ToxicSpec> toxics =
        hasRoute ? m_config.streamgate.toxicMap().value(m_routeId) : QList<ToxicSpec>();
    if (!hasRoute)
        m_title->setText(tr("Select a route to inject faults into its connections."));
    else if (toxics.isEmpty() && !down)
        m_title->setText(tr("No faults on <b>%1</b>. Add a preset or a toxic: it applies to the "
                            "connections already open as well as new ones.")
                             .arg(m_routeId.toHtmlEscaped()));
    else
        m_title->setText(tr("Faults on <b>%1</b>: %2 active of %3.")
                             .arg(m_routeId.toHtmlEscaped())
                             .arg(routeFaultLines(m_config, m_routeId).size())
                             .arg(toxics.size() + (down ? 1 : 0)));
    m_downLabel->setVisible(down);
    m_bringBack->setVisible(down);
    for (QWidget* w : {static_cast<QWidget*>(m_presetButton), static_cast<QWidget*>(m_newType),
                       static_cast<QWidget*>(m_newStream), static_cast<QWidget*>(m_addButton)})
        w->setEnabled(hasRoute && m_store);
    if (QAction* downPreset =
            m_presetButton->menu()->findChild<QAction*>(QStringLiteral("preset_down")))
        downPreset->setEnabled(hasRoute && m_config.findRoute(m_routeId));

    const QString selected = selectedToxic();
    bool sameRows = toxics.size() == m_shown.size();
    for (int i = 0; sameRows && i < toxics.size(); ++i)
        sameRows = toxics.at(i).name == m_shown.at(i).name;
    m_shown = toxics;
    m_refreshing = true;
    if (!sameRows)
        m_table->setRowCount(int(toxics.size()));
    for (int i = 0; i < toxics.size(); ++i) {
        const ToxicSpec& t = toxics.at(i);
        const QStringList cells{t.name,
                                toxicTypeName(t.type),
                                t.streamName(),
                                toxicEffect(t),
                                toxicityText(t.toxicity),
                                [&] {
                                    const ToxicStatus* s = statusOf(m_status, m_routeId, t.name);
                                    return s ? hittingText(*s) : QString();
                                }(),
                                t.clients.isEmpty() ? tr("every client")
                                                    : t.clients.join(QStringLiteral(", "))};
        for (int c = 0; c < ColumnCount; ++c) {
            QTableWidgetItem* item = m_table->item(i, c);
            if (!item) {
                item = new QTableWidgetItem;
                if (c == NameColumn) {
                    item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
                    item->setToolTip(tr("Switch the toxic on or off; off, it stays here"));
                }
                m_table->setItem(i, c, item);
            }
            if (item->text() != cells.at(c))
                item->setText(cells.at(c));
            if (c == NameColumn && item->checkState() != (t.enabled ? Qt::Checked : Qt::Unchecked))
                item->setCheckState(t.enabled ? Qt::Checked : Qt::Unchecked);
            const bool grey = !t.enabled;
            if (item->foreground().color() !=
                (grey ? palette().color(QPalette::Disabled, QPalette::Text)
                      : palette().color(QPalette::Text)))
                item->setForeground(grey ? palette().color(QPalette::Disabled, QPalette::Text)
                                         : palette().color(QPalette::Text));
        }
    }
    m_refreshing = false;
    if (!sameRows) {
        m_table->setCurrentCell(-1, -1);
        selectToxic(selected);
        if (m_table->currentRow() < 0 && !toxics.isEmpty())
            m_table->setCurrentCell(0, NameColumn);
    }
    onCurrentRowChanged();
}

void FaultsPanel::onCurrentRowChanged()
{
    const int row = m_table->currentRow();
    const ToxicSpec* toxic = row >= 0 && row < m_shown.size() ? &m_shown.at(row) : nullptr;
    m_removeButton->setEnabled(toxic && m_store);
    rebuildEditor(toxic);
    if (toxic)
        updateEditorValues(*toxic);
    showHits();
}

// The attribute fields of the toxic's type; built again only when the toxic or its type changes,
// so a field being edited is never replaced under the user's hands.
void FaultsPanel::rebuildEditor(const ToxicSpec* toxic)
{
    const QString key = toxic ? toxic->name + u'/' + toxicTypeName(toxic->type) : QString();
    m_editor->setVisible(toxic != nullptr);
    if (key == m_editorFor)
        return;
    m_editorFor = key;
    m_clientsEdit->setText(toxic ? toxic->clients.join(QStringLiteral(", ")) : QString());
    m_clientsError->hide();
    for (QSpinBox* edit : std::as_const(m_attributeEdits))
        m_form->removeRow(edit); // deletes the field and its label
    m_attributeEdits.clear();
    for (QLineEdit* edit : std::as_const(m_textEdits))
        m_form->removeRow(edit);
    m_textEdits.clear();
    if (!toxic)
        return;
    m_editorTitle->setText(tr("<b>%1</b> (%2): values apply at once")
                               .arg(toxic->name.toHtmlEscaped(), toxicTypeName(toxic->type)));
    const QStringList names = toxicAttributeNames(toxic->type);
    for (int i = 0; i < names.size(); ++i) {
        auto* edit = new QSpinBox(m_editor);
        edit->setObjectName(QStringLiteral("attribute_") + names.at(i));
        if (names.at(i) == u"code")
            edit->setRange(1, 65535);
        else
            edit->setRange(0,
                           names.at(i) == u"loss_rate" ? int(ToxicSpec::kFractionScale) : INT_MAX);
        edit->setKeyboardTracking(false);
        connect(edit, &QSpinBox::valueChanged, this, [this, i](int value) {
            editSelected([i, value](ToxicSpec& t) { t.attributes[i] = value; });
        });
        m_form->insertRow(1 + i, attributeLabel(toxic->type, names.at(i)), edit); // below the title
        m_attributeEdits << edit;
    }
    // Query toxics: which commands they hit, and the error they answer with.
    static const QHash<QString, QString> placeholders{
        {QStringLiteral("match"), tr("regular expression on the digest text, e.g. ^UPDATE")},
        {QStringLiteral("command"), tr("any command, or e.g. COM_QUERY")},
        {QStringLiteral("user"), tr("any user")},
        {QStringLiteral("database"), tr("any database")},
        {QStringLiteral("sqlstate"), tr("the code's own")},
        {QStringLiteral("message"), tr("the code's own")}};
    const QStringList texts = toxicTextNames(toxic->type);
    for (int i = 0; i < texts.size(); ++i) {
        auto* edit = new QLineEdit(m_editor);
        edit->setObjectName(QStringLiteral("attribute_") + texts.at(i));
        edit->setPlaceholderText(placeholders.value(texts.at(i)));
        connect(edit, &QLineEdit::editingFinished, this, [this, i, edit] { commitText(i, edit); });
        QString label = texts.at(i);
        label[0] = label[0].toUpper();
        m_form->insertRow(1 + int(names.size()) + i, label, edit);
        m_textEdits << edit;
    }
}

// A text attribute of a query toxic, checked as the config file and the API check it.
void FaultsPanel::commitText(int index, QLineEdit* edit)
{
    const QString name = selectedToxic();
    if (name.isEmpty())
        return;
    ToxicSpec probe;
    for (const ToxicSpec& t : m_config.streamgate.toxicMap().value(m_routeId))
        if (t.name == name)
            probe = t;
    const QStringList texts = toxicTextNames(probe.type);
    if (probe.name.isEmpty() || index >= texts.size())
        return;
    const Problems problems = decodeToxicUpdate(
        QJsonObject{{QStringLiteral("attributes"), QJsonObject{{texts.at(index), edit->text()}}}},
        QString(), &probe);
    if (!problems.isEmpty()) {
        edit->setToolTip(formatProblems(problems));
        edit->setStyleSheet(QStringLiteral("color: #b00020"));
        Q_EMIT message(formatProblems(problems));
        return;
    }
    edit->setToolTip(QString());
    edit->setStyleSheet(QString());
    const QString value = probe.texts[std::size_t(index)];
    editSelected([index, value](ToxicSpec& t) {
        if (index < ToxicSpec::kMaxTexts)
            t.texts[std::size_t(index)] = value;
    });
}

void FaultsPanel::updateEditorValues(const ToxicSpec& toxic)
{
    const QString clients = toxic.clients.join(QStringLiteral(", "));
    if (m_clientsEdit->text() != clients && !m_clientsEdit->hasFocus())
        m_clientsEdit->setText(clients);
    const QSignalBlocker a(m_streamEdit);
    m_streamEdit->setCurrentIndex(toxic.upstream ? 1 : 0);
    if (!qFuzzyCompare(m_toxicityEdit->value() + 1, toxic.toxicity * 100 + 1)) {
        const QSignalBlocker b(m_toxicityEdit);
        m_toxicityEdit->setValue(toxic.toxicity * 100);
    }
    for (int i = 0; i < m_textEdits.size(); ++i) {
        QLineEdit* edit = m_textEdits.at(i);
        const QString& value = toxic.texts[std::size_t(i)];
        if (edit->text() != value && !edit->hasFocus())
            edit->setText(value);
    }
    for (int i = 0; i < m_attributeEdits.size(); ++i) {
        QSpinBox* edit = m_attributeEdits.at(i);
        const int value = int(qMin<qint64>(toxic.attributes[i], INT_MAX));
        if (edit->value() != value) {
            const QSignalBlocker b(edit);
            edit->setValue(value);
        }
    }
}

} // namespace sg::ui
