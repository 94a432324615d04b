#pragma once
// Pieces shared by the route and upstream forms: red error labels that show the problems of
// the field they sit beside (chosen by the problem's path), hints, and the id conversions
// APISIX allows (an id is a string or an integer, and stays what it was given as).

#include "model/problem.h"

#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

class QFormLayout;
class QGroupBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QVBoxLayout;
class QWidget;

namespace sg::ui {

// A hidden, word-wrapped, selectable label in the palette's error colour.
QLabel* makeErrorLabel(QWidget* parent);
// Adds a line to an error label and shows it.
void appendError(QLabel* label, const QString& message);
// A word-wrapped label in the placeholder colour.
QLabel* makeHint(const QString& text, QWidget* parent);

// The frame the route and upstream editors share: a scrolling form that opens with a title
// and a subtitle, over a bar with Revert and Save ("revertButton", "saveButton", Ctrl+S).
struct EditorFrame
{
    QWidget* form = nullptr;
    QVBoxLayout* layout = nullptr; // the form's: the owner adds its boxes after the subtitle
    QLabel* title = nullptr;
    QLabel* subtitle = nullptr;
    QPushButton* save = nullptr;
    QPushButton* revert = nullptr;
};
EditorFrame buildEditorFrame(QWidget* owner);

// The id as JSON: an all-digit id that was a number stays a number, as APISIX allows.
QJsonValue idJson(const QString& text, const QJsonValue& original);
// A text field of an object: written when given, left out when empty.
void setTextField(QJsonObject& object, const QString& key, const QString& value);
// How a choice of an object by id reads: "name (id)", or the id alone when it has no name.
QString choiceText(const QString& name, const QString& id);

// Error labels by the path prefix of the problems they show; the longest matching prefix wins.
class ProblemLabels
{
public:
    void add(const QString& pathPrefix, QLabel* label);
    // Takes over another form's labels, their prefixes put under `base` ("upstream" turns
    // "nodes" into "upstream.nodes" and "" into "upstream").
    void add(const ProblemLabels& other, const QString& base);
    // Shows each problem beside its field (items of lists by path and reason, plain fields by
    // their reason alone) and returns the lines of those no label takes.
    QStringList show(const Problems& problems) const;

private:
    QList<QPair<QString, QLabel*>> m_labels;
};

// A row of `form` (beside no field label) holding the error label for problems under
// pathPrefix.
QLabel* addErrorRow(QFormLayout* form, ProblemLabels& labels, const QString& pathPrefix);

// The "ID / Name / Description" box every APISIX object's form opens with, with its error rows
// ("idEdit", "nameEdit", "descEdit").
struct IdentityFields
{
    QGroupBox* box = nullptr;
    QLineEdit* id = nullptr;
    QLineEdit* name = nullptr;
    QLineEdit* desc = nullptr;
};
IdentityFields buildIdentityBox(const QString& title, const QString& namePlaceholder,
                                ProblemLabels& labels, QWidget* parent);

} // namespace sg::ui
