#include "routeeditor/formparts.h"

#include <QCoreApplication>
#include <QFormLayout>
#include <QFrame>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHash>
#include <QLabel>
#include <QLineEdit>
#include <QPalette>
#include <QPushButton>
#include <QScrollArea>
#include <QVBoxLayout>

namespace sg::ui {

QLabel* makeErrorLabel(QWidget* parent)
{
    auto* label = new QLabel(parent);
    label->setWordWrap(true);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QPalette p = label->palette();
    const bool dark = p.color(QPalette::Window).lightnessF() < 0.5;
    p.setColor(QPalette::WindowText, dark ? QColor(0xff, 0x6b, 0x6b) : QColor(0xc0, 0x20, 0x20));
    label->setPalette(p);
    label->hide();
    return label;
}

QLabel* makeHint(const QString& text, QWidget* parent)
{
    auto* label = new QLabel(text, parent);
    label->setWordWrap(true);
    label->setForegroundRole(QPalette::PlaceholderText);
    return label;
}

EditorFrame buildEditorFrame(QWidget* owner)
{
    EditorFrame frame;
    auto* outer = new QVBoxLayout(owner);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->setSpacing(0);

    auto* scroll = new QScrollArea(owner);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    frame.form = new QWidget(scroll);
    scroll->setWidget(frame.form);
    outer->addWidget(scroll, 1);

    frame.layout = new QVBoxLayout(frame.form);
    frame.layout->setContentsMargins(16, 12, 16, 12);
    frame.layout->setSpacing(12);
    frame.title = new QLabel(frame.form);
    QFont titleFont = frame.title->font();
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.4);
    titleFont.setBold(true);
    frame.title->setFont(titleFont);
    frame.subtitle = makeHint(QString(), frame.form);
    frame.layout->addWidget(frame.title);
    frame.layout->addWidget(frame.subtitle);

    auto* bar = new QWidget(owner);
    bar->setAutoFillBackground(true);
    auto* barLayout = new QHBoxLayout(bar);
    barLayout->setContentsMargins(16, 8, 16, 8);
    barLayout->addStretch();
    frame.revert = new QPushButton(QObject::tr("Revert"), bar);
    frame.revert->setObjectName(QStringLiteral("revertButton"));
    frame.save = new QPushButton(QObject::tr("Save"), bar);
    frame.save->setObjectName(QStringLiteral("saveButton"));
    frame.save->setDefault(true);
    frame.save->setShortcut(QKeySequence::Save);
    barLayout->addWidget(frame.revert);
    barLayout->addWidget(frame.save);
    auto* line = new QFrame(owner);
    line->setFrameShape(QFrame::HLine);
    line->setFrameShadow(QFrame::Sunken);
    outer->addWidget(line);
    outer->addWidget(bar);
    return frame;
}

QJsonValue idJson(const QString& text, const QJsonValue& original)
{
    if (original.isDouble() && QString::number(original.toInteger()) == text)
        return original;
    return text;
}

void setTextField(QJsonObject& object, const QString& key, const QString& value)
{
    if (value.isEmpty())
        object.remove(key);
    else
        object.insert(key, value);
}

QString choiceText(const QString& name, const QString& id)
{
    return name.isEmpty() ? id : QStringLiteral("%1 (%2)").arg(name, id);
}

void ProblemLabels::add(const QString& pathPrefix, QLabel* label)
{
    m_labels << qMakePair(pathPrefix, label);
}

void ProblemLabels::add(const ProblemLabels& other, const QString& base)
{
    for (const auto& [prefix, label] : other.m_labels) {
        const QString joined = base.isEmpty()     ? prefix
                               : prefix.isEmpty() ? base
                                                  : base + QLatin1Char('.') + prefix;
        m_labels << qMakePair(joined, label);
    }
}

QStringList ProblemLabels::show(const Problems& problems) const
{
    QHash<QLabel*, QStringList> texts;
    QStringList unplaced;
    for (const Problem& p : problems) {
        QLabel* best = nullptr;
        qsizetype bestLength = -1;
        for (const auto& [prefix, label] : m_labels) {
            const bool match = p.path == prefix || p.path.startsWith(prefix + QLatin1Char('.')) ||
                               p.path.startsWith(prefix + QLatin1Char('['));
            if (match && prefix.size() > bestLength) {
                best = label;
                bestLength = prefix.size();
            }
        }
        // Rows of lists are named by their path; plain fields by their reason alone.
        const bool listItem = p.path.contains(QLatin1Char('['));
        if (best)
            texts[best] << (listItem ? p.text() : p.reason);
        else
            unplaced << p.text();
    }
    for (const auto& [prefix, label] : m_labels) {
        const QStringList lines = texts.value(label);
        label->setText(lines.join(QLatin1Char('\n')));
        label->setVisible(!lines.isEmpty());
    }
    return unplaced;
}

void appendError(QLabel* label, const QString& message)
{
    const QString existing = label->text();
    label->setText(existing.isEmpty() ? message : existing + QLatin1Char('\n') + message);
    label->setVisible(true);
}

QLabel* addErrorRow(QFormLayout* form, ProblemLabels& labels, const QString& pathPrefix)
{
    QLabel* label = makeErrorLabel(form->parentWidget());
    form->addRow(QString(), label);
    labels.add(pathPrefix, label);
    return label;
}

IdentityFields buildIdentityBox(const QString& title, const QString& namePlaceholder,
                                ProblemLabels& labels, QWidget* parent)
{
    IdentityFields f;
    f.box = new QGroupBox(title, parent);
    auto* form = new QFormLayout(f.box);
    f.id = new QLineEdit(f.box);
    f.id->setObjectName(QStringLiteral("idEdit"));
    f.id->setToolTip(QCoreApplication::translate(
        "sg::ui::IdentityFields", "APISIX id: 1-64 characters of a-z, A-Z, 0-9, '-', '_', '.'"));
    form->addRow(QCoreApplication::translate("sg::ui::IdentityFields", "ID"), f.id);
    addErrorRow(form, labels, QStringLiteral("id"));
    f.name = new QLineEdit(f.box);
    f.name->setObjectName(QStringLiteral("nameEdit"));
    f.name->setPlaceholderText(namePlaceholder);
    form->addRow(QCoreApplication::translate("sg::ui::IdentityFields", "Name"), f.name);
    addErrorRow(form, labels, QStringLiteral("name"));
    f.desc = new QLineEdit(f.box);
    f.desc->setObjectName(QStringLiteral("descEdit"));
    form->addRow(QCoreApplication::translate("sg::ui::IdentityFields", "Description"), f.desc);
    addErrorRow(form, labels, QStringLiteral("desc"));
    return f;
}

} // namespace sg::ui
