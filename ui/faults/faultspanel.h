#pragma once
// The Faults tab of the selected route: its toxics (name, type, stream, effect in words,
// toxicity), presets ("Slow network", "Mobile", "Flaky", "Black hole", "Server down"), a toxic
// added by hand, and the selected toxic's values edited live. Every change is one edit of
// config/toxicedits.h committed through the ConfigStore, which the engine applies to the
// connections already open. "Server down" disables the route with the fault marker and cuts its
// connections; "Bring the server back" (or Clear all faults) enables it again.

#include "model/streamroute.h"
#include "stats/snapshot.h"

#include <QWidget>
#include <functional>
#include <variant>

class QComboBox;
class QDoubleSpinBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QToolButton;

namespace sg {

class ConfigStore;
class Engine;

namespace ui {

// "3 now · 12 in all", then " · 4.0 KiB held" while the toxic holds bytes back.
QString hittingText(const ToxicStatus& status);

class FaultsPanel final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(FaultsPanel)

public:
    // The name cell carries the toxic's on/off check box.
    enum Column {
        NameColumn,
        TypeColumn,
        StreamColumn,
        EffectColumn,
        ToxicityColumn,
        HittingColumn, // "3 now · 12 in all", from the engine's snapshot
        ClientsColumn,
        ColumnCount
    };

    FaultsPanel(ConfigStore* store, Engine* engine, QWidget* parent = nullptr);

    QString routeId() const { return m_routeId; }
    void setRoute(const QString& routeId);
    // The config as the store has it now (after every change).
    void setConfig(const Config& config);
    // What every toxic does now (Snapshot::toxics), taken with the window's periodic refresh.
    void setToxicStatus(const QList<ToxicStatus>& status);
    // The open connections the selected toxic hits now (empty when none is selected).
    QList<quint64> selectedHits() const;

    // The actions behind the panel's buttons; false (with the reason in message()) when the
    // store refused or nothing could change.
    bool addPreset(const QString& key);
    bool addToxic(ToxicType type, bool upstream);
    bool removeToxic(const QString& name);
    bool setToxicEnabled(const QString& name, bool enabled);
    bool bringServerBack();
    QString selectedToxic() const;
    void selectToxic(const QString& name);

Q_SIGNALS:
    // A line for the status bar: what was done, or why not.
    void message(const QString& text);
    // The selected toxic, or the connections it hits, changed: the connections table tints them.
    void hitsChanged(const QList<quint64>& ids);

private:
    bool commit(const std::function<std::variant<Config, QString>(const Config&)>& edit,
                const QString& done);
    void editSelected(const std::function<void(ToxicSpec&)>& change);
    void commitText(int index, QLineEdit* edit);
    bool editToxic(const QString& name, const std::function<void(ToxicSpec&)>& change);
    void commitClients();
    void refresh();
    void rebuildEditor(const ToxicSpec* toxic);
    void updateEditorValues(const ToxicSpec& toxic);
    void onCurrentRowChanged();
    void showHits();

    ConfigStore* m_store;
    Engine* m_engine;
    Config m_config;
    QString m_routeId;
    QList<ToxicSpec> m_shown;
    QList<ToxicStatus> m_status;
    QList<quint64> m_hits; // last sent through hitsChanged()

    QLabel* m_title = nullptr;
    QLabel* m_downLabel = nullptr;
    QPushButton* m_bringBack = nullptr;
    QToolButton* m_presetButton = nullptr;
    QComboBox* m_newType = nullptr;
    QComboBox* m_newStream = nullptr;
    QPushButton* m_addButton = nullptr;
    QPushButton* m_removeButton = nullptr;
    QTableWidget* m_table = nullptr;
    QLabel* m_hitsLabel = nullptr;
    QWidget* m_editor = nullptr;
    QFormLayout* m_form = nullptr;
    QLabel* m_editorTitle = nullptr;
    QComboBox* m_streamEdit = nullptr;
    QDoubleSpinBox* m_toxicityEdit = nullptr;
    QLineEdit* m_clientsEdit = nullptr;
    QLabel* m_clientsError = nullptr;
    bool m_refreshing = false; // the table is being filled: its item changes are not the user's
    QList<QSpinBox*> m_attributeEdits;
    QList<QLineEdit*> m_textEdits; // query toxics: match, command, user, ...
    QString m_editorFor;           // "<name>/<type>" the editor's widgets were built for
};

} // namespace ui
} // namespace sg
