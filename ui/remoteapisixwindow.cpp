#include "remoteapisixwindow.h"

#include "routeeditor/routeeditor.h"
#include "routeeditor/serviceeditor.h"
#include "routeeditor/upstreameditor.h"
#include "secrets/remotekeystore.h"

#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSet>
#include <QSettings>
#include <QSplitter>
#include <QStackedWidget>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>

namespace sg::ui {

namespace {

const QString kUrlKey = QStringLiteral("remoteApisix/adminUrl");
const QString kKeyKey = QStringLiteral("remoteApisix/adminKey"); // before it had its own place

QString nodesSummary(const Upstream& u)
{
    QStringList nodes;
    for (const Node& n : u.nodes)
        nodes << QStringLiteral("%1:%2").arg(n.host).arg(n.port);
    return QStringLiteral("%1 %2").arg(u.type, nodes.join(QStringLiteral(", ")));
}

// The upstream a route or a service has of its own: inline nodes, or a shared one by id.
QString ownUpstreamSummary(const std::optional<Upstream>& upstream, const QJsonValue& upstreamId)
{
    if (upstream)
        return nodesSummary(*upstream);
    if (!idText(upstreamId).isEmpty())
        return QObject::tr("upstream %1").arg(idText(upstreamId));
    return {};
}

QString upstreamSummary(const StreamRoute& r)
{
    const QString own = ownUpstreamSummary(r.upstream, r.upstreamId);
    if (!own.isEmpty())
        return own;
    if (!idText(r.serviceId).isEmpty())
        return QObject::tr("service %1").arg(idText(r.serviceId));
    return QObject::tr("(none)");
}

QTableWidgetItem* cell(const QString& text)
{
    auto* item = new QTableWidgetItem(text);
    item->setFlags(item->flags() & ~Qt::ItemIsEditable);
    return item;
}

// The id in the first column of the selected row ("" when none is selected).
QString selectedRowId(const QTableWidget* table)
{
    const QList<QTableWidgetItem*> items = table->selectedItems();
    return items.isEmpty() ? QString() : table->item(items.first()->row(), 0)->text();
}

template <typename T> QSet<QString> remoteIds(const QList<T>& objects)
{
    QSet<QString> ids;
    for (const T& object : objects)
        ids.insert(object.idString());
    return ids;
}

// What the server stored replaces the object of the same id, or joins the list.
template <typename T> void storeRemote(QList<T>& objects, const T& stored)
{
    for (T& object : objects) {
        if (object.idString() == stored.idString()) {
            object = stored;
            return;
        }
    }
    objects << stored;
}

} // namespace

RemoteApisixWindow::RemoteApisixWindow(QWidget* parent, RemoteKeyStore* keys)
    : QWidget(parent, Qt::Window), m_keys(keys ? keys : RemoteKeyStore::shared())
{
    setWindowTitle(tr("Remote APISIX"));
    m_confirm = [this](const QString& question) {
        return QMessageBox::question(this, tr("Delete"), question) == QMessageBox::Yes;
    };
    build();
    QSettings settings;
    const QUrl url(settings.value(kUrlKey).toString());
    m_urlEdit->setText(settings.value(kUrlKey).toString());
    if (settings.contains(kKeyKey)) { // kept in plain settings by earlier versions: moved out
        m_keys->save(url, settings.value(kKeyKey).toString(), nullptr, {});
        settings.remove(kKeyKey);
    }
    connect(m_keys, &RemoteKeyStore::placeChanged, this, &RemoteApisixWindow::showKeyPlace);
    connect(m_keyEdit, &QLineEdit::textEdited, this, [this] { m_keyTouched = true; });
    showKeyPlace();
    m_keys->load(url, this, [this](const RemoteKeyStore::Result& result) {
        if (!m_keyTouched)
            m_keyEdit->setText(result.key);
        showKeyPlace();
    });
    setStatus(tr("Enter the Admin API address and key, then press Connect."), false);
}

RemoteApisixWindow::~RemoteApisixWindow() = default;

void RemoteApisixWindow::build()
{
    auto* layout = new QVBoxLayout(this);

    auto* form = new QFormLayout;
    m_urlEdit = new QLineEdit(this);
    m_urlEdit->setObjectName(QStringLiteral("adminUrlEdit"));
    m_urlEdit->setPlaceholderText(QStringLiteral("http://10.0.0.5:9180"));
    form->addRow(tr("Admin API URL"), m_urlEdit);
    m_keyEdit = new QLineEdit(this);
    m_keyEdit->setObjectName(QStringLiteral("adminKeyEdit"));
    m_keyEdit->setEchoMode(QLineEdit::Password);
    form->addRow(tr("Admin key (X-API-KEY)"), m_keyEdit);
    m_keyNote = new QLabel(this);
    m_keyNote->setObjectName(QStringLiteral("keyPlaceNote"));
    m_keyNote->setWordWrap(true);
    form->addRow(QString(), m_keyNote);
    layout->addLayout(form);

    auto* bar = new QHBoxLayout;
    m_connectButton = new QPushButton(tr("Connect"), this);
    m_connectButton->setObjectName(QStringLiteral("connectButton"));
    m_refreshButton = new QPushButton(tr("Refresh"), this);
    m_refreshButton->setObjectName(QStringLiteral("refreshButton"));
    m_addButton = new QPushButton(tr("Add route"), this);
    m_addButton->setObjectName(QStringLiteral("addButton"));
    m_editButton = new QPushButton(tr("Edit"), this);
    m_editButton->setObjectName(QStringLiteral("editButton"));
    m_deleteButton = new QPushButton(tr("Delete…"), this);
    m_deleteButton->setObjectName(QStringLiteral("deleteButton"));
    for (QPushButton* b :
         {m_connectButton, m_refreshButton, m_addButton, m_editButton, m_deleteButton})
        bar->addWidget(b);
    bar->addStretch();
    layout->addLayout(bar);

    auto* splitter = new QSplitter(this);
    m_tabs = new QTabWidget(splitter);
    m_routeTable = new QTableWidget(0, 6, m_tabs);
    m_routeTable->setObjectName(QStringLiteral("routeTable"));
    m_routeTable->setHorizontalHeaderLabels({tr("ID"), tr("Name"), QStringLiteral("remote_addr"),
                                             QStringLiteral("server_addr"),
                                             QStringLiteral("server_port"), tr("Upstream")});
    m_upstreamPage = new QWidget(m_tabs);
    auto* upstreamLayout = new QVBoxLayout(m_upstreamPage);
    upstreamLayout->setContentsMargins(0, 0, 0, 0);
    m_upstreamTable = new QTableWidget(0, 4, m_upstreamPage);
    m_upstreamTable->setObjectName(QStringLiteral("upstreamTable"));
    m_upstreamTable->setHorizontalHeaderLabels({tr("ID"), tr("Name"), tr("Balancer"), tr("Nodes")});
    upstreamLayout->addWidget(m_upstreamTable, 1);
    auto* upstreamBar = new QHBoxLayout;
    m_addUpstreamButton = new QPushButton(tr("Add upstream…"), m_upstreamPage);
    m_addUpstreamButton->setObjectName(QStringLiteral("addUpstreamButton"));
    m_editUpstreamButton = new QPushButton(tr("Edit upstream…"), m_upstreamPage);
    m_editUpstreamButton->setObjectName(QStringLiteral("editUpstreamButton"));
    upstreamBar->addWidget(m_addUpstreamButton);
    upstreamBar->addWidget(m_editUpstreamButton);
    upstreamBar->addStretch();
    upstreamLayout->addLayout(upstreamBar);
    m_servicePage = new QWidget(m_tabs);
    auto* serviceLayout = new QVBoxLayout(m_servicePage);
    serviceLayout->setContentsMargins(0, 0, 0, 0);
    m_serviceTable = new QTableWidget(0, 5, m_servicePage);
    m_serviceTable->setObjectName(QStringLiteral("serviceTable"));
    m_serviceTable->setHorizontalHeaderLabels(
        {tr("ID"), tr("Name"), tr("Upstream"), tr("Plugins"), tr("Description")});
    serviceLayout->addWidget(m_serviceTable, 1);
    auto* serviceBar = new QHBoxLayout;
    m_addServiceButton = new QPushButton(tr("Add service…"), m_servicePage);
    m_addServiceButton->setObjectName(QStringLiteral("addServiceButton"));
    m_editServiceButton = new QPushButton(tr("Edit service…"), m_servicePage);
    m_editServiceButton->setObjectName(QStringLiteral("editServiceButton"));
    m_deleteServiceButton = new QPushButton(tr("Delete service…"), m_servicePage);
    m_deleteServiceButton->setObjectName(QStringLiteral("deleteServiceButton"));
    for (QPushButton* b : {m_addServiceButton, m_editServiceButton, m_deleteServiceButton})
        serviceBar->addWidget(b);
    serviceBar->addStretch();
    serviceLayout->addLayout(serviceBar);
    for (QTableWidget* t : {m_routeTable, m_upstreamTable, m_serviceTable}) {
        t->setSelectionBehavior(QAbstractItemView::SelectRows);
        t->setSelectionMode(QAbstractItemView::SingleSelection);
        t->verticalHeader()->hide();
        t->horizontalHeader()->setStretchLastSection(true);
    }
    m_tabs->addTab(m_routeTable, tr("Stream routes"));
    m_tabs->addTab(m_upstreamPage, tr("Upstreams"));
    m_tabs->addTab(m_servicePage, tr("Services"));
    // The form beside the list is the one for the tab in front.
    m_editors = new QStackedWidget(splitter);
    m_editor = new RouteEditor(nullptr, m_editors);
    m_editor->setObjectName(QStringLiteral("remoteRouteEditor"));
    m_upstreamEditor = new UpstreamEditor(m_editors);
    m_upstreamEditor->setObjectName(QStringLiteral("remoteUpstreamEditor"));
    m_editors->addWidget(m_editor);
    m_serviceEditor = new ServiceEditor(m_editors);
    m_serviceEditor->setObjectName(QStringLiteral("serviceForm"));
    m_editors->addWidget(m_upstreamEditor);
    m_editors->addWidget(m_serviceEditor);
    splitter->addWidget(m_tabs);
    splitter->addWidget(m_editors);
    layout->addWidget(splitter, 1);

    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("statusLabel"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_status);

    connect(m_connectButton, &QPushButton::clicked, this, &RemoteApisixWindow::applyConnection);
    connect(m_refreshButton, &QPushButton::clicked, this, &RemoteApisixWindow::refresh);
    connect(m_addButton, &QPushButton::clicked, this, &RemoteApisixWindow::addRoute);
    connect(m_editButton, &QPushButton::clicked, this, [this] {
        if (m_tabs->currentWidget() == m_upstreamPage)
            editSelectedUpstream();
        else if (m_tabs->currentWidget() == m_servicePage)
            editSelectedService();
        else
            editSelectedRoute();
    });
    connect(m_deleteButton, &QPushButton::clicked, this, [this] {
        if (m_tabs->currentWidget() == m_upstreamPage)
            deleteSelectedUpstream();
        else if (m_tabs->currentWidget() == m_servicePage)
            deleteSelectedService();
        else
            deleteSelectedRoute();
    });
    connect(m_addUpstreamButton, &QPushButton::clicked, this, &RemoteApisixWindow::addUpstream);
    connect(m_editUpstreamButton, &QPushButton::clicked, this,
            &RemoteApisixWindow::editSelectedUpstream);
    connect(m_routeTable, &QTableWidget::itemDoubleClicked, this,
            &RemoteApisixWindow::editSelectedRoute);
    connect(m_upstreamTable, &QTableWidget::itemDoubleClicked, this,
            &RemoteApisixWindow::editSelectedUpstream);
    connect(m_addServiceButton, &QPushButton::clicked, this, &RemoteApisixWindow::addService);
    connect(m_editServiceButton, &QPushButton::clicked, this,
            &RemoteApisixWindow::editSelectedService);
    connect(m_deleteServiceButton, &QPushButton::clicked, this,
            &RemoteApisixWindow::deleteSelectedService);
    connect(m_serviceTable, &QTableWidget::itemDoubleClicked, this,
            &RemoteApisixWindow::editSelectedService);
    connect(m_tabs, &QTabWidget::currentChanged, this,
            [this] { showPage(m_tabs->currentWidget()); });
    connect(m_editor, &RouteEditor::submitted, this, &RemoteApisixWindow::submit);
    connect(m_upstreamEditor, &UpstreamEditor::submitted, this,
            &RemoteApisixWindow::submitUpstream);
    connect(m_serviceEditor, &ServiceEditor::submitted, this, &RemoteApisixWindow::submitService);
    resize(1100, 700);
}

void RemoteApisixWindow::applyConnection()
{
    connectTo(QUrl(m_urlEdit->text().trimmed()), m_keyEdit->text());
}

void RemoteApisixWindow::connectTo(const QUrl& adminUrl, const QString& key)
{
    m_urlEdit->setText(adminUrl.toString());
    m_keyEdit->setText(key);
    if (!adminUrl.isValid() || adminUrl.host().isEmpty() ||
        (adminUrl.scheme() != QLatin1String("http") &&
         adminUrl.scheme() != QLatin1String("https"))) {
        setStatus(tr("Admin API URL: %1 is not an http(s) URL with a host").arg(m_urlEdit->text()),
                  true);
        return;
    }
    QSettings settings;
    settings.setValue(kUrlKey, adminUrl.toString());
    m_keyTouched = true;
    m_keys->save(adminUrl, key, this, [this](const RemoteKeyStore::Result&) { showKeyPlace(); });
    delete m_remote; // pending callbacks of the old connection are dropped with it
    m_pending = 0;
    m_remote = new RemoteApisix(adminUrl, key, this);
    m_routes.clear();
    m_upstreams.clear();
    m_services.clear();
    fillRoutes();
    fillUpstreams();
    fillServices();
    m_editor->clear();
    m_upstreamEditor->clear();
    m_serviceEditor->clear();
    refresh();
}

QString RemoteApisixWindow::statusText() const
{
    return m_status->text();
}

QString RemoteApisixWindow::keyPlaceText() const
{
    return m_keyNote->text();
}

void RemoteApisixWindow::showKeyPlace()
{
    QString text;
    switch (m_keys->place()) {
    case RemoteKeyStore::Place::Unknown:
        text = tr("The address is remembered for this user; looking for the desktop's secret "
                  "store to keep the key in…");
        break;
    case RemoteKeyStore::Place::SecretService:
        text = tr("The address is remembered for this user, the key in the desktop's secret "
                  "store (Secret Service).");
        break;
    case RemoteKeyStore::Place::File:
        text = tr("The address and the key are remembered for this user; the key unencrypted, in "
                  "a file only this user can read (%1): %2.")
                   .arg(m_keys->filePath(), m_keys->fileReason());
        break;
    }
    m_keyNote->setText(text);
    m_keyEdit->setToolTip(text);
}

void RemoteApisixWindow::setStatus(const QString& text, bool error)
{
    m_status->setText(text);
    m_status->setStyleSheet(error ? QStringLiteral("color: #b00020;") : QString());
}

void RemoteApisixWindow::finished(const RemoteStatus& status, const QString& what)
{
    --m_pending;
    if (status.ok()) {
        setStatus(what, false);
    } else {
        QString text = status.error;
        if (!status.problems.isEmpty())
            text = (text.isEmpty() ? QString() : text + QStringLiteral("; ")) +
                   formatProblems(status.problems);
        if (status.httpStatus != 0)
            text = tr("HTTP %1: %2").arg(status.httpStatus).arg(text);
        setStatus(text, true);
    }
    Q_EMIT requestFinished(status.ok());
}

void RemoteApisixWindow::refresh()
{
    if (!m_remote) {
        setStatus(tr("Not connected: enter the Admin API address and key, then press Connect."),
                  true);
        return;
    }
    ++m_pending;
    setStatus(tr("Loading from %1…").arg(m_remote->adminUrl().toString()), false);
    // Upstreams after routes, services after upstreams: one request in flight, one outcome in
    // the status line.
    m_remote->listStreamRoutes([this](const RemoteResult<QList<StreamRoute>>& routes) {
        if (!routes.ok() || !m_remote) {
            finished(routes, QString());
            return;
        }
        m_routes = routes.value;
        fillRoutes();
        m_remote->listUpstreams([this](const RemoteResult<QList<Upstream>>& upstreams) {
            if (!upstreams.ok() || !m_remote) {
                finished(upstreams, QString());
                return;
            }
            m_upstreams = upstreams.value;
            fillUpstreams();
            m_remote->listServices([this](const RemoteResult<QList<Service>>& services) {
                if (services.ok()) {
                    m_services = services.value;
                    fillServices();
                }
                finished(services, tr("%1: %2 stream route(s), %3 upstream(s), %4 service(s).")
                                       .arg(m_remote ? m_remote->adminUrl().toString() : QString())
                                       .arg(m_routes.size())
                                       .arg(m_upstreams.size())
                                       .arg(m_services.size()));
            });
        });
    });
}

void RemoteApisixWindow::fillRoutes()
{
    const QString selected = selectedRouteId();
    m_routeTable->setRowCount(0);
    for (const StreamRoute& r : std::as_const(m_routes)) {
        const int row = m_routeTable->rowCount();
        m_routeTable->insertRow(row);
        m_routeTable->setItem(row, 0, cell(r.idString()));
        m_routeTable->setItem(row, 1, cell(r.name));
        m_routeTable->setItem(row, 2, cell(r.remoteAddr));
        m_routeTable->setItem(row, 3, cell(r.serverAddr));
        m_routeTable->setItem(row, 4,
                              cell(r.serverPort ? QString::number(*r.serverPort) : QString()));
        m_routeTable->setItem(row, 5, cell(upstreamSummary(r)));
        if (r.idString() == selected)
            m_routeTable->selectRow(row);
    }
}

void RemoteApisixWindow::fillUpstreams()
{
    const QString selected = selectedUpstreamId();
    m_upstreamTable->setRowCount(0);
    for (const Upstream& u : std::as_const(m_upstreams)) {
        const int row = m_upstreamTable->rowCount();
        m_upstreamTable->insertRow(row);
        m_upstreamTable->setItem(row, 0, cell(u.idString()));
        m_upstreamTable->setItem(row, 1, cell(u.name));
        m_upstreamTable->setItem(row, 2, cell(u.type));
        QStringList nodes;
        for (const Node& n : u.nodes)
            nodes << QStringLiteral("%1:%2 (weight %3)").arg(n.host).arg(n.port).arg(n.weight);
        m_upstreamTable->setItem(row, 3, cell(nodes.join(QStringLiteral(", "))));
        if (u.idString() == selected)
            m_upstreamTable->selectRow(row);
    }
}

void RemoteApisixWindow::fillServices()
{
    const QString selected = selectedServiceId();
    m_serviceTable->setRowCount(0);
    for (const Service& s : std::as_const(m_services)) {
        const int row = m_serviceTable->rowCount();
        m_serviceTable->insertRow(row);
        m_serviceTable->setItem(row, 0, cell(s.idString()));
        m_serviceTable->setItem(row, 1, cell(s.name));
        m_serviceTable->setItem(row, 2, cell(ownUpstreamSummary(s.upstream, s.upstreamId)));
        QStringList plugins = s.plugins.raw.keys();
        plugins.sort();
        m_serviceTable->setItem(row, 3, cell(plugins.join(QStringLiteral(", "))));
        m_serviceTable->setItem(row, 4, cell(s.desc));
        if (s.idString() == selected)
            m_serviceTable->selectRow(row);
    }
}

QString RemoteApisixWindow::selectedRouteId() const
{
    return selectedRowId(m_routeTable);
}

QString RemoteApisixWindow::selectedUpstreamId() const
{
    return selectedRowId(m_upstreamTable);
}

QString RemoteApisixWindow::selectedServiceId() const
{
    return selectedRowId(m_serviceTable);
}

void RemoteApisixWindow::addRoute()
{
    QSet<QString> ids;
    QSet<int> ports;
    for (const StreamRoute& r : std::as_const(m_routes)) {
        ids.insert(r.idString());
        if (r.serverPort)
            ports.insert(*r.serverPort);
    }
    int n = 1;
    while (ids.contains(QStringLiteral("route-%1").arg(n)))
        ++n;
    int port = 10000;
    while (ports.contains(port))
        ++port;
    StreamRoute route;
    route.id = QStringLiteral("route-%1").arg(n);
    route.name = tr("New route");
    route.serverPort = port;
    Upstream upstream;
    upstream.nodes << Node{QStringLiteral("127.0.0.1"), 3306, 1, 0, {}, {}};
    route.upstream = upstream;
    showPage(m_routeTable);
    m_editor->editDetached(route, true, m_upstreams, m_services);
}

void RemoteApisixWindow::editSelectedRoute()
{
    const QString id = selectedRouteId();
    for (const StreamRoute& r : std::as_const(m_routes)) {
        if (r.idString() == id) {
            showPage(m_routeTable);
            m_editor->editDetached(r, false, m_upstreams, m_services);
            return;
        }
    }
    setStatus(tr("Select a stream route to edit."), true);
}

void RemoteApisixWindow::submit(const StreamRoute& route)
{
    if (!m_remote) {
        setStatus(tr("Not connected."), true);
        return;
    }
    ++m_pending;
    setStatus(tr("Saving %1…").arg(route.idString()), false);
    m_remote->putStreamRoute(route, [this](const RemoteResult<StreamRoute>& result) {
        if (result.ok()) {
            storeRemote(m_routes, result.value);
            fillRoutes();
            m_editor->editDetached(result.value, false, m_upstreams, m_services);
        }
        finished(result, result.created ? tr("Route %1 created.").arg(result.value.idString())
                                        : tr("Route %1 saved.").arg(result.value.idString()));
        if (!result.ok())
            m_editor->showSubmitError(statusText());
    });
}

void RemoteApisixWindow::deleteRemote(const QString& id, const QString& noSelection,
                                      const QString& question, const QString& done, DeleteCall call,
                                      std::function<void()> removed)
{
    if (id.isEmpty() || !m_remote) {
        setStatus(noSelection, true);
        return;
    }
    if (!m_confirm(question.arg(id, m_remote->adminUrl().toString())))
        return;
    ++m_pending;
    (m_remote->*call)(
        id, [this, done = done.arg(id), removed = std::move(removed)](const RemoteStatus& status) {
            if (status.ok())
                removed();
            finished(status, done);
        });
}

void RemoteApisixWindow::deleteSelectedRoute()
{
    const QString id = selectedRouteId();
    deleteRemote(id, tr("Select a stream route to delete."), tr("Delete stream route %1 on %2?"),
                 tr("Route %1 deleted."), &RemoteApisix::deleteStreamRoute, [this, id] {
                     m_routes.removeIf([&id](const StreamRoute& r) { return r.idString() == id; });
                     fillRoutes();
                     if (m_editor->routeId() == id)
                         m_editor->clear();
                 });
}

void RemoteApisixWindow::deleteSelectedUpstream()
{
    const QString id = selectedUpstreamId();
    deleteRemote(id, tr("Select an upstream to delete."), tr("Delete upstream %1 on %2?"),
                 tr("Upstream %1 deleted."), &RemoteApisix::deleteUpstream, [this, id] {
                     m_upstreams.removeIf([&id](const Upstream& u) { return u.idString() == id; });
                     fillUpstreams();
                     if (m_upstreamEditor->upstreamId() == id)
                         m_upstreamEditor->clear();
                 });
}

void RemoteApisixWindow::deleteSelectedService()
{
    const QString id = selectedServiceId();
    deleteRemote(id, tr("Select a service to delete."), tr("Delete service %1 on %2?"),
                 tr("Service %1 deleted."), &RemoteApisix::deleteService, [this, id] {
                     m_services.removeIf([&id](const Service& s) { return s.idString() == id; });
                     fillServices();
                     if (m_serviceEditor->serviceId() == id)
                         m_serviceEditor->clear();
                 });
}

void RemoteApisixWindow::showPage(QWidget* page)
{
    QWidget* form = m_editor;
    if (page == m_upstreamPage)
        form = m_upstreamEditor;
    else if (page == m_servicePage)
        form = m_serviceEditor;
    m_editors->setCurrentWidget(form);
    m_tabs->setCurrentWidget(page);
}

void RemoteApisixWindow::addUpstream()
{
    Upstream upstream;
    upstream.nodes << Node{QStringLiteral("127.0.0.1"), 3306, 1, 0, {}, {}};
    showPage(m_upstreamPage);
    m_upstreamEditor->edit(upstream, true, remoteIds(m_upstreams));
}

void RemoteApisixWindow::editSelectedUpstream()
{
    const QString id = selectedUpstreamId();
    for (const Upstream& u : std::as_const(m_upstreams)) {
        if (u.idString() == id) {
            showPage(m_upstreamPage);
            m_upstreamEditor->edit(u, false);
            return;
        }
    }
    setStatus(tr("Select an upstream to edit."), true);
}

void RemoteApisixWindow::submitUpstream(const Upstream& upstream)
{
    if (!m_remote) {
        setStatus(tr("Not connected."), true);
        return;
    }
    ++m_pending;
    setStatus(upstream.idString().isEmpty() ? tr("Creating upstream…")
                                            : tr("Saving upstream %1…").arg(upstream.idString()),
              false);
    m_remote->putUpstream(upstream, [this](const RemoteResult<Upstream>& result) {
        const QString id = result.value.idString();
        if (result.ok()) {
            storeRemote(m_upstreams, result.value);
            fillUpstreams();
            m_upstreamTable->selectRow(m_upstreams.indexOf(result.value));
            m_upstreamEditor->edit(result.value, false);
        }
        finished(result, result.created ? tr("Upstream %1 created.").arg(id)
                                        : tr("Upstream %1 saved.").arg(id));
        if (!result.ok())
            m_upstreamEditor->showSubmitError(statusText());
    });
}

void RemoteApisixWindow::addService()
{
    Service service;
    Upstream upstream;
    upstream.nodes << Node{QStringLiteral("127.0.0.1"), 3306, 1, 0, {}, {}};
    service.upstream = upstream;
    showPage(m_servicePage);
    m_serviceEditor->edit(service, true, m_upstreams, remoteIds(m_services));
}

void RemoteApisixWindow::editSelectedService()
{
    const QString id = selectedServiceId();
    for (const Service& s : std::as_const(m_services)) {
        if (s.idString() == id) {
            showPage(m_servicePage);
            m_serviceEditor->edit(s, false, m_upstreams);
            return;
        }
    }
    setStatus(tr("Select a service to edit."), true);
}

void RemoteApisixWindow::submitService(const Service& service)
{
    if (!m_remote) {
        setStatus(tr("Not connected."), true);
        return;
    }
    ++m_pending;
    setStatus(service.idString().isEmpty() ? tr("Creating service…")
                                           : tr("Saving service %1…").arg(service.idString()),
              false);
    m_remote->putService(service, [this](const RemoteResult<Service>& result) {
        const QString id = result.value.idString();
        if (result.ok()) {
            storeRemote(m_services, result.value);
            fillServices();
            m_serviceTable->selectRow(m_services.indexOf(result.value));
            m_serviceEditor->edit(result.value, false, m_upstreams);
        }
        finished(result, result.created ? tr("Service %1 created.").arg(id)
                                        : tr("Service %1 saved.").arg(id));
        if (!result.ok())
            m_serviceEditor->showSubmitError(statusText());
    });
}

} // namespace sg::ui
