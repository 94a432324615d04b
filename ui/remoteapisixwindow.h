#pragma once
// A window onto another APISIX (or a headless Streamgate): lists its stream routes, upstreams
// and services over the Admin API and edits them with the same forms and validation as local
// ones. Nothing here touches the local ConfigStore or engine; every change is a request to the
// remote server, and its refusals (error_msg, transport errors) are shown in the status line.

#include "api/remoteapisix.h"
#include "model/streamroute.h"

#include <QList>
#include <QPointer>
#include <QWidget>
#include <functional>

class QLabel;
class QLineEdit;
class QPushButton;
class QStackedWidget;
class QTableWidget;
class QTabWidget;

namespace sg::ui {

class RouteEditor;
class ServiceEditor;
class UpstreamEditor;
class RemoteKeyStore;

class RemoteApisixWindow final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RemoteApisixWindow)

public:
    // The admin key is kept in `keys` (by default the store all windows share: the desktop's
    // secret store, else a private file); it is read in the background and shown when it comes.
    explicit RemoteApisixWindow(QWidget* parent = nullptr, RemoteKeyStore* keys = nullptr);
    ~RemoteApisixWindow() override;

    // Points the window at an Admin API (remembered in QSettings) and refreshes.
    void connectTo(const QUrl& adminUrl, const QString& key);
    // Asked before a delete; returns true to go ahead. Defaults to a message box.
    void setConfirm(std::function<bool(const QString& question)> confirm)
    {
        m_confirm = std::move(confirm);
    }

    QString statusText() const;
    // Where the key is kept, as the note under the key field says it.
    QString keyPlaceText() const;
    bool isBusy() const { return m_pending > 0; }
    QList<StreamRoute> routes() const { return m_routes; }
    QList<Upstream> upstreams() const { return m_upstreams; }
    QList<Service> services() const { return m_services; }
    RouteEditor* editor() const { return m_editor; }
    UpstreamEditor* upstreamEditor() const { return m_upstreamEditor; }
    ServiceEditor* serviceEditor() const { return m_serviceEditor; }

public Q_SLOTS:
    void refresh();
    void addRoute();
    void editSelectedRoute();
    void deleteSelectedRoute();
    void deleteSelectedUpstream();
    // A blank upstream (one local node, no id: the server picks one) in the upstream form.
    void addUpstream();
    void editSelectedUpstream();
    // A blank service (one local node, no id: the server picks one) in the service form.
    void addService();
    void editSelectedService();
    void deleteSelectedService();

Q_SIGNALS:
    // After each completed request (success or not), for views and tests.
    void requestFinished(bool ok);

private:
    void build();
    void applyConnection();
    void setStatus(const QString& text, bool error);
    void showKeyPlace();
    void fillRoutes();
    void fillUpstreams();
    void fillServices();
    void submit(const StreamRoute& route);
    void submitUpstream(const Upstream& upstream);
    void submitService(const Service& service);
    // Brings a tab (the route table, the upstream or the service page) and its form to the front.
    void showPage(QWidget* page);
    QString selectedRouteId() const;
    QString selectedUpstreamId() const;
    QString selectedServiceId() const;
    using DeleteCall = void (RemoteApisix::*)(const QString&,
                                              std::function<void(const RemoteStatus&)>);
    // Asks, deletes `id` on the server with `call`, runs `removed` once the server agreed.
    // question: "%1" the id, "%2" the server; done: "%1" the id.
    void deleteRemote(const QString& id, const QString& noSelection, const QString& question,
                      const QString& done, DeleteCall call, std::function<void()> removed);
    void finished(const RemoteStatus& status, const QString& what);

    QPointer<RemoteApisix> m_remote;
    QList<StreamRoute> m_routes;
    QList<Upstream> m_upstreams;
    QList<Service> m_services;
    int m_pending = 0;
    std::function<bool(const QString&)> m_confirm;
    RemoteKeyStore* m_keys = nullptr;
    bool m_keyTouched = false; // typed or connected with: a late load does not overwrite it

    QLineEdit* m_urlEdit = nullptr;
    QLineEdit* m_keyEdit = nullptr;
    QLabel* m_keyNote = nullptr;
    QPushButton* m_connectButton = nullptr;
    QTabWidget* m_tabs = nullptr;
    QTableWidget* m_routeTable = nullptr;
    QWidget* m_upstreamPage = nullptr;
    QTableWidget* m_upstreamTable = nullptr;
    QPushButton* m_addUpstreamButton = nullptr;
    QPushButton* m_editUpstreamButton = nullptr;
    QWidget* m_servicePage = nullptr;
    QTableWidget* m_serviceTable = nullptr;
    QPushButton* m_addServiceButton = nullptr;
    QPushButton* m_editServiceButton = nullptr;
    QPushButton* m_deleteServiceButton = nullptr;
    QPushButton* m_refreshButton = nullptr;
    QPushButton* m_addButton = nullptr;
    QPushButton* m_editButton = nullptr;
    QPushButton* m_deleteButton = nullptr;
    QLabel* m_status = nullptr;
    QStackedWidget* m_editors = nullptr;
    RouteEditor* m_editor = nullptr;
    UpstreamEditor* m_upstreamEditor = nullptr;
    ServiceEditor* m_serviceEditor = nullptr;
};

} // namespace sg::ui
