#pragma once
// The route form: everything a user sets on one stream route (listen port and protocol, the
// service it takes what it lacks from, upstream nodes, a shared upstream or the service's,
// balancer, timeouts, allowed clients, connection limit) and, of Streamgate's own settings, its
// database TLS (streamgate.routes.<id>.database_tls, saved with the route in one step) with
// the export of the development CA's certificate that a client must trust.
// The form is a view of a JSON route: fields it does not show (labels, sni, health checks, ...)
// are carried over untouched. Every edit is validated by the core's own decoder, and each
// problem is shown beside its field in the core's words; Save stays disabled until the route
// is valid. Saving goes through the ConfigStore, which applies it live; in detached mode (a
// route held elsewhere, e.g. on a remote APISIX) Save emits the validated route instead.

#include "config/routeedits.h"
#include "model/problem.h"
#include "model/streamroute.h"
#include "routeeditor/formparts.h"

#include <QJsonObject>
#include <QWidget>
#include <optional>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QGroupBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;
class QRadioButton;
class QSpinBox;

namespace sg {
class ConfigStore;
}

namespace sg::ui {

class UpstreamForm;

class RouteEditor final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RouteEditor)

public:
    explicit RouteEditor(ConfigStore* store, QWidget* parent = nullptr);
    ~RouteEditor() override;

    // Loads a route of the store's config (enabled or disabled). Unsaved edits are dropped.
    void editRoute(const QString& id);
    // A blank route with sensible defaults (next free port, one local node).
    void newRoute();
    // A copy of an existing route under a new id and port.
    void duplicateRoute(const QString& id);
    void clear();

    // Detached mode, for routes that live elsewhere (a remote APISIX): loads the given route
    // with no ConfigStore behind it; Save validates exactly as for local routes, then emits
    // submitted() instead of writing a store. `upstreams` fill the shared-upstream choice,
    // `services` the service choice (a service_id the route has is kept either way).
    void editDetached(const StreamRoute& route, bool isNew, const QList<Upstream>& upstreams = {},
                      const QList<Service>& services = {});
    bool isDetached() const { return m_detached; }
    // Shows a refusal from whoever received submitted() beside the form's other errors.
    void showSubmitError(const QString& message);

    QString routeId() const { return m_id; }
    bool isNew() const { return m_isNew; }
    bool isDirty() const { return m_dirty; }
    bool isValid() const { return m_problems.isEmpty(); }
    // The problems of the current form, as the core reports them.
    Problems problems() const { return m_problems; }
    // Message shown beside the allowed-clients input (empty when the input is valid or empty).
    QString allowInputError() const;
    // What the last export of the development CA's certificate said (empty before any).
    QString exportStatus() const;

public Q_SLOTS:
    bool save();
    void revert();
    void testUpstream();
    // Writes the development CA's certificate (made first when there is none) to `file`, on a
    // thread of its own; the form says how it went. The button asks for the file first.
    void exportDevelopmentCa(const QString& file);

Q_SIGNALS:
    void saved(const QString& routeId);
    // Detached mode only: the validated route the user saved.
    void submitted(const sg::StreamRoute& route);
    void dirtyChanged(bool dirty);
    void developmentCaExported(const QString& status);

private:
    void build();
    void load(const StreamRoute& route, const std::optional<RouteListen>& listen, bool isNew,
              bool disabled);
    void onEdited();
    void validate();
    // The route as JSON: the loaded route with the form's fields laid over it. Nodes are in
    // array form, so each problem names its row; saving restores the form the file used.
    QJsonObject formJson() const;
    RouteListen formListen() const;
    void showProblems();
    void updateEnabledState();
    void onStoreChanged();
    void addAllowEntries(const QStringList& entries);
    void validateAllowInput();
    void refreshUpstreamChoices();

    ConfigStore* m_store;
    bool m_detached = false;
    StreamRoute m_detachedRoute;
    bool m_detachedIsNew = false;
    QList<Upstream> m_detachedUpstreams;
    QList<Service> m_detachedServices;
    QString m_id;
    bool m_isNew = false;
    bool m_disabled = false;
    bool m_dirty = false;
    bool m_loading = false;
    QJsonObject m_original; // the route as loaded (fields the form does not show survive)
    std::optional<RouteListen> m_originalListen;
    Problems m_problems;

    QLabel* m_title = nullptr;
    QLabel* m_subtitle = nullptr;
    QLineEdit* m_idEdit = nullptr;
    QLineEdit* m_nameEdit = nullptr;
    QLineEdit* m_descEdit = nullptr;
    QRadioButton* m_tcp = nullptr;
    QRadioButton* m_udp = nullptr;
    QComboBox* m_listenAddress = nullptr;
    QSpinBox* m_port = nullptr;
    QLineEdit* m_remoteAddr = nullptr;
    QLineEdit* m_sni = nullptr; // sni: the TLS name the route matches
    QRadioButton* m_useNodes = nullptr;
    QRadioButton* m_useShared = nullptr;
    QComboBox* m_sharedUpstream = nullptr;
    QComboBox* m_service = nullptr;       // service_id: "" for none
    QRadioButton* m_useService = nullptr; // no upstream of the route's own: the service's
    UpstreamForm* m_upstreamForm = nullptr;
    QComboBox* m_allowMode = nullptr;
    QListWidget* m_allowList = nullptr;
    QLineEdit* m_allowInput = nullptr;
    QPushButton* m_allowAdd = nullptr;
    QPushButton* m_allowRemove = nullptr;
    QPushButton* m_allowThisMachine = nullptr;
    QLabel* m_allowHint = nullptr;
    QCheckBox* m_limitEnabled = nullptr;
    QSpinBox* m_limitConn = nullptr;
    QSpinBox* m_limitBurst = nullptr;
    QDoubleSpinBox* m_limitDelay = nullptr;
    QLabel* m_limitRulesNote = nullptr; // shown when limit-conn counts by its `rules`
    bool m_limitByRules = false;
    QGroupBox* m_databaseTlsBox = nullptr;
    QCheckBox* m_databaseTls = nullptr;
    QComboBox* m_databaseServerTls = nullptr; // streamgate.routes.<id>.database_server_tls
    QPushButton* m_exportCa = nullptr;
    QLabel* m_exportStatus = nullptr;
    QLabel* m_generalErrors = nullptr;
    QLabel* m_staleNote = nullptr;
    QPushButton* m_saveButton = nullptr;
    QPushButton* m_revertButton = nullptr;
    QWidget* m_form = nullptr;

    ProblemLabels m_errorLabels;
    QLabel* m_allowInputError = nullptr;
};

} // namespace sg::ui
