#include "routeeditor/routeeditor.h"

#include "config/configstore.h"
#include "config/developmentca.h"
#include "model/codec.h"
#include "routeeditor/formparts.h"
#include "routeeditor/upstreamform.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QNetworkInterface>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QThread>
#include <QVBoxLayout>

namespace sg::ui {

RouteEditor::RouteEditor(ConfigStore* store, QWidget* parent) : QWidget(parent), m_store(store)
{
    build();
    clear();
    if (m_store)
        connect(m_store, &ConfigStore::changed, this, &RouteEditor::onStoreChanged);
}

RouteEditor::~RouteEditor() = default;

void RouteEditor::build()
{
    const EditorFrame frame = buildEditorFrame(this);
    m_form = frame.form;
    m_title = frame.title;
    m_subtitle = frame.subtitle;
    m_saveButton = frame.save;
    m_revertButton = frame.revert;
    QVBoxLayout* layout = frame.layout;

    const auto addErrorRow = [this](QFormLayout* form, const QString& pathPrefix) {
        return ui::addErrorRow(form, m_errorLabels, pathPrefix);
    };

    // Route
    const IdentityFields identity =
        buildIdentityBox(tr("Route"), tr("e.g. Local MySQL"), m_errorLabels, m_form);
    m_idEdit = identity.id;
    m_nameEdit = identity.name;
    m_descEdit = identity.desc;
    layout->addWidget(identity.box);

    // Listen
    auto* listenBox = new QGroupBox(tr("Listen"), m_form);
    auto* listenForm = new QFormLayout(listenBox);
    auto* protoRow = new QHBoxLayout;
    m_tcp = new QRadioButton(tr("TCP"), listenBox);
    m_tcp->setObjectName(QStringLiteral("tcpRadio"));
    m_udp = new QRadioButton(tr("UDP"), listenBox);
    m_udp->setObjectName(QStringLiteral("udpRadio"));
    protoRow->addWidget(m_tcp);
    protoRow->addWidget(m_udp);
    protoRow->addStretch();
    listenForm->addRow(tr("Protocol"), protoRow);
    auto* addressRow = new QHBoxLayout;
    m_listenAddress = new QComboBox(listenBox);
    m_listenAddress->setObjectName(QStringLiteral("listenAddress"));
    m_listenAddress->setEditable(true);
    m_listenAddress->addItem(tr("All interfaces"), QString());
    m_listenAddress->addItem(QStringLiteral("127.0.0.1"), QStringLiteral("127.0.0.1"));
    m_listenAddress->addItem(QStringLiteral("::1"), QStringLiteral("::1"));
    m_listenAddress->addItem(QStringLiteral("0.0.0.0"), QStringLiteral("0.0.0.0"));
    m_port = new QSpinBox(listenBox);
    m_port->setObjectName(QStringLiteral("portSpin"));
    m_port->setRange(1, 65535);
    m_port->setAccelerated(true);
    addressRow->addWidget(m_listenAddress, 1);
    addressRow->addWidget(new QLabel(tr("Port"), listenBox));
    addressRow->addWidget(m_port);
    listenForm->addRow(tr("Address"), addressRow);
    addErrorRow(listenForm, QStringLiteral("server_port"));
    m_remoteAddr = new QLineEdit(listenBox);
    m_remoteAddr->setObjectName(QStringLiteral("remoteAddrEdit"));
    m_remoteAddr->setPlaceholderText(tr("any client (e.g. 192.168.1.0/24)"));
    m_remoteAddr->setToolTip(tr("remote_addr: the route only matches clients from this address or "
                                "CIDR; others fall through to the next route"));
    listenForm->addRow(tr("Match clients from"), m_remoteAddr);
    addErrorRow(listenForm, QStringLiteral("remote_addr"));
    addErrorRow(listenForm, QStringLiteral("server_addr"));
    m_sni = new QLineEdit(listenBox);
    m_sni->setObjectName(QStringLiteral("sniEdit"));
    m_sni->setPlaceholderText(tr("any TLS name, or no TLS (e.g. db.example.com, *.example.com)"));
    m_sni->setToolTip(tr("sni: on a listener with TLS, the route only takes connections whose "
                         "client asked for this name (exact, or *.example.com for any name "
                         "under example.com); never matches a listener without TLS"));
    listenForm->addRow(tr("TLS name (SNI)"), m_sni);
    addErrorRow(listenForm, QStringLiteral("sni"));
    layout->addWidget(listenBox);

    // Upstream, and the service the route takes what it lacks from
    auto* upstreamBox = new QGroupBox(tr("Upstream"), m_form);
    auto* upstreamLayout = new QVBoxLayout(upstreamBox);
    auto* serviceRow = new QHBoxLayout;
    m_service = new QComboBox(upstreamBox);
    m_service->setObjectName(QStringLiteral("serviceCombo"));
    m_service->setToolTip(tr("service_id: the route takes the service's upstream when it has "
                             "none of its own, and each of the service's plugins it does not "
                             "configure itself"));
    serviceRow->addWidget(new QLabel(tr("Service"), upstreamBox));
    serviceRow->addWidget(m_service, 1);
    upstreamLayout->addLayout(serviceRow);
    {
        QLabel* label = makeErrorLabel(upstreamBox);
        upstreamLayout->addWidget(label);
        m_errorLabels.add(QStringLiteral("service_id"), label);
    }
    auto* choiceRow = new QHBoxLayout;
    m_useNodes = new QRadioButton(tr("Nodes of this route"), upstreamBox);
    m_useNodes->setObjectName(QStringLiteral("useNodesRadio"));
    m_useShared = new QRadioButton(tr("Shared upstream"), upstreamBox);
    m_useShared->setObjectName(QStringLiteral("useSharedRadio"));
    m_sharedUpstream = new QComboBox(upstreamBox);
    m_sharedUpstream->setObjectName(QStringLiteral("sharedUpstream"));
    m_useService = new QRadioButton(tr("The service's"), upstreamBox);
    m_useService->setObjectName(QStringLiteral("useServiceRadio"));
    choiceRow->addWidget(m_useNodes);
    choiceRow->addWidget(m_useShared);
    choiceRow->addWidget(m_sharedUpstream, 1);
    choiceRow->addWidget(m_useService);
    upstreamLayout->addLayout(choiceRow);
    {
        QLabel* label = makeErrorLabel(upstreamBox);
        upstreamLayout->addWidget(label);
        m_errorLabels.add(QStringLiteral("upstream_id"), label);
    }
    m_upstreamForm = new UpstreamForm(upstreamBox);
    m_upstreamForm->setObjectName(QStringLiteral("upstreamForm"));
    upstreamLayout->addWidget(m_upstreamForm);
    m_errorLabels.add(m_upstreamForm->problemLabels(), QStringLiteral("upstream"));
    layout->addWidget(upstreamBox);

    // Allowed clients (ip-restriction)
    auto* allowBox = new QGroupBox(tr("Allowed clients"), m_form);
    auto* allowLayout = new QVBoxLayout(allowBox);
    m_allowMode = new QComboBox(allowBox);
    m_allowMode->setObjectName(QStringLiteral("allowMode"));
    m_allowMode->addItem(tr("Allow-list: only the clients below may connect"),
                         QStringLiteral("whitelist"));
    m_allowMode->addItem(tr("Block-list: everyone except the clients below"),
                         QStringLiteral("blacklist"));
    allowLayout->addWidget(m_allowMode);
    m_allowList = new QListWidget(allowBox);
    m_allowList->setObjectName(QStringLiteral("allowList"));
    m_allowList->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_allowList->setMinimumHeight(80);
    m_allowList->setMaximumHeight(150);
    allowLayout->addWidget(m_allowList);
    auto* allowRow = new QHBoxLayout;
    m_allowInput = new QLineEdit(allowBox);
    m_allowInput->setObjectName(QStringLiteral("allowInput"));
    m_allowInput->setPlaceholderText(tr("IP address or CIDR, e.g. 192.168.1.20 or 10.0.0.0/8"));
    m_allowInput->setClearButtonEnabled(true);
    m_allowAdd = new QPushButton(tr("Add"), allowBox);
    m_allowAdd->setObjectName(QStringLiteral("allowAddButton"));
    m_allowRemove = new QPushButton(tr("Remove"), allowBox);
    m_allowRemove->setObjectName(QStringLiteral("allowRemoveButton"));
    m_allowThisMachine = new QPushButton(tr("Add this machine"), allowBox);
    m_allowThisMachine->setObjectName(QStringLiteral("allowThisMachineButton"));
    m_allowThisMachine->setToolTip(
        tr("Add the loopback addresses and this machine's own addresses"));
    allowRow->addWidget(m_allowInput, 1);
    allowRow->addWidget(m_allowAdd);
    allowRow->addWidget(m_allowRemove);
    allowRow->addWidget(m_allowThisMachine);
    allowLayout->addLayout(allowRow);
    m_allowInputError = makeErrorLabel(allowBox);
    m_allowInputError->setObjectName(QStringLiteral("allowInputError"));
    allowLayout->addWidget(m_allowInputError);
    {
        QLabel* label = makeErrorLabel(allowBox);
        allowLayout->addWidget(label);
        m_errorLabels.add(QStringLiteral("plugins[\"ip-restriction\"]"), label);
    }
    m_allowHint = makeHint(QString(), allowBox);
    allowLayout->addWidget(m_allowHint);
    layout->addWidget(allowBox);

    // Connection limit (limit-conn)
    auto* limitBox = new QGroupBox(tr("Connection limit"), m_form);
    auto* limitForm = new QFormLayout(limitBox);
    m_limitEnabled = new QCheckBox(tr("Limit concurrent connections per client"), limitBox);
    m_limitEnabled->setObjectName(QStringLiteral("limitEnabled"));
    limitForm->addRow(m_limitEnabled);
    m_limitConn = new QSpinBox(limitBox);
    m_limitConn->setObjectName(QStringLiteral("limitConnSpin"));
    m_limitConn->setRange(0, 1000000);
    limitForm->addRow(tr("Connections"), m_limitConn);
    m_limitBurst = new QSpinBox(limitBox);
    m_limitBurst->setObjectName(QStringLiteral("limitBurstSpin"));
    m_limitBurst->setRange(0, 1000000);
    m_limitBurst->setToolTip(tr("Connections above the limit that are delayed instead of refused"));
    limitForm->addRow(tr("Burst"), m_limitBurst);
    m_limitDelay = new QDoubleSpinBox(limitBox);
    m_limitDelay->setObjectName(QStringLiteral("limitDelaySpin"));
    m_limitDelay->setRange(0, 60);
    m_limitDelay->setDecimals(2);
    m_limitDelay->setSingleStep(0.1);
    m_limitDelay->setSuffix(tr(" s"));
    limitForm->addRow(tr("Delay per excess connection"), m_limitDelay);
    m_limitRulesNote = new QLabel(limitBox);
    m_limitRulesNote->setObjectName(QStringLiteral("limitRulesNote"));
    m_limitRulesNote->setWordWrap(true);
    limitForm->addRow(m_limitRulesNote);
    addErrorRow(limitForm, QStringLiteral("plugins[\"limit-conn\"]"));
    layout->addWidget(limitBox);

    // Database TLS (Streamgate's own setting): the trust step is the user's, so it is said here.
    m_databaseTlsBox = new QGroupBox(tr("Database TLS"), m_form);
    auto* tlsLayout = new QVBoxLayout(m_databaseTlsBox);
    m_databaseTls = new QCheckBox(tr("Answer a database client's TLS (PostgreSQL, MySQL, "
                                     "MariaDB) with Streamgate's development CA"),
                                  m_databaseTlsBox);
    m_databaseTls->setObjectName(QStringLiteral("databaseTls"));
    tlsLayout->addWidget(m_databaseTls);
    auto* serverRow = new QHBoxLayout;
    auto* serverLabel = new QLabel(tr("To the server:"), m_databaseTlsBox);
    m_databaseServerTls = new QComboBox(m_databaseTlsBox);
    m_databaseServerTls->setObjectName(QStringLiteral("databaseServerTls"));
    m_databaseServerTls->addItem(tr("Plaintext"), toString(DatabaseServerTls::Off));
    m_databaseServerTls->addItem(tr("TLS when the server offers it"),
                                 toString(DatabaseServerTls::Prefer));
    m_databaseServerTls->addItem(tr("TLS, or refuse the session"),
                                 toString(DatabaseServerTls::Require));
    m_databaseServerTls->addItem(tr("TLS with the server's certificate verified"),
                                 toString(DatabaseServerTls::Verify));
    m_databaseServerTls->setToolTip(
        tr("PostgreSQL and MySQL/MariaDB. Verified: against the trusted CAs (Streamgate setting "
           "ssl_trusted_certificate, the system's by default) and the node's host."));
    serverLabel->setBuddy(m_databaseServerTls);
    serverRow->addWidget(serverLabel);
    serverRow->addWidget(m_databaseServerTls, 1);
    tlsLayout->addLayout(serverRow);
    tlsLayout->addWidget(makeHint(
        tr("User, database and statements stay visible, also with TLS to the server. A client "
           "that verifies the server (sslmode=verify-full, --ssl-verify-server-cert) must trust "
           "the CA: export its certificate and give it to the client (sslrootcert=FILE, "
           "--ssl-ca=FILE). sslmode=require and --ssl need nothing."),
        m_databaseTlsBox));
    auto* exportRow = new QHBoxLayout;
    m_exportCa = new QPushButton(tr("Export development CA…"), m_databaseTlsBox);
    m_exportCa->setObjectName(QStringLiteral("exportDevelopmentCa"));
    exportRow->addWidget(m_exportCa);
    m_exportStatus = new QLabel(m_databaseTlsBox);
    m_exportStatus->setObjectName(QStringLiteral("exportStatus"));
    m_exportStatus->setWordWrap(true);
    m_exportStatus->setTextInteractionFlags(Qt::TextSelectableByMouse);
    exportRow->addWidget(m_exportStatus, 1);
    tlsLayout->addLayout(exportRow);
    layout->addWidget(m_databaseTlsBox);

    m_staleNote = makeErrorLabel(m_form);
    m_staleNote->setObjectName(QStringLiteral("staleNote"));
    layout->insertWidget(2, m_staleNote);
    m_generalErrors = makeErrorLabel(m_form);
    m_generalErrors->setObjectName(QStringLiteral("generalErrors"));
    layout->addWidget(m_generalErrors);
    layout->addStretch();

    // Wiring: every edit revalidates.
    for (QLineEdit* edit : {m_idEdit, m_nameEdit, m_descEdit, m_remoteAddr, m_sni})
        connect(edit, &QLineEdit::textChanged, this, &RouteEditor::onEdited);
    connect(m_listenAddress, &QComboBox::currentTextChanged, this, &RouteEditor::onEdited);
    for (QSpinBox* spin : {m_port, m_limitConn, m_limitBurst})
        connect(spin, &QSpinBox::valueChanged, this, &RouteEditor::onEdited);
    connect(m_limitDelay, &QDoubleSpinBox::valueChanged, this, &RouteEditor::onEdited);
    for (QRadioButton* radio : {m_tcp, m_udp, m_useNodes, m_useShared, m_useService})
        connect(radio, &QRadioButton::toggled, this, &RouteEditor::onEdited);
    for (QComboBox* combo : {m_sharedUpstream, m_allowMode, m_service})
        connect(combo, &QComboBox::currentIndexChanged, this, &RouteEditor::onEdited);
    connect(m_limitEnabled, &QCheckBox::toggled, this, &RouteEditor::onEdited);
    connect(m_databaseTls, &QCheckBox::toggled, this, &RouteEditor::onEdited);
    connect(m_databaseServerTls, &QComboBox::currentIndexChanged, this, &RouteEditor::onEdited);
    connect(m_exportCa, &QPushButton::clicked, this, [this] {
        const QString file = QFileDialog::getSaveFileName(
            this, tr("Export development CA"),
            QDir::home().filePath(QStringLiteral("streamgate-development-ca.pem")),
            tr("PEM certificates (*.pem *.crt);;All files (*)"));
        if (!file.isEmpty())
            exportDevelopmentCa(file);
    });
    connect(m_upstreamForm, &UpstreamForm::edited, this, &RouteEditor::onEdited);
    connect(m_allowList, &QListWidget::itemSelectionChanged, this,
            &RouteEditor::updateEnabledState);
    connect(m_allowList, &QListWidget::itemChanged, this, &RouteEditor::onEdited);

    connect(m_allowInput, &QLineEdit::textChanged, this, [this] {
        validateAllowInput();
        updateEnabledState();
    });
    connect(m_allowInput, &QLineEdit::returnPressed, this, [this] {
        if (m_allowAdd->isEnabled())
            m_allowAdd->click();
    });
    connect(m_allowAdd, &QPushButton::clicked, this, [this] {
        const QString text = m_allowInput->text().trimmed();
        if (text.isEmpty() || !allowInputError().isEmpty())
            return;
        addAllowEntries({text});
        m_allowInput->clear();
    });
    connect(m_allowRemove, &QPushButton::clicked, this, [this] {
        qDeleteAll(m_allowList->selectedItems());
        onEdited();
    });
    connect(m_allowThisMachine, &QPushButton::clicked, this, [this] {
        QStringList entries{QStringLiteral("127.0.0.1"), QStringLiteral("::1")};
        for (const QHostAddress& a : QNetworkInterface::allAddresses()) {
            if (a.isLoopback() || a.isLinkLocal() ||
                a.protocol() == QHostAddress::UnknownNetworkLayerProtocol)
                continue;
            QHostAddress plain = a;
            plain.setScopeId(QString());
            entries << plain.toString();
        }
        addAllowEntries(entries);
    });
    connect(m_saveButton, &QPushButton::clicked, this, &RouteEditor::save);
    connect(m_revertButton, &QPushButton::clicked, this, &RouteEditor::revert);
}

void RouteEditor::addAllowEntries(const QStringList& entries)
{
    QStringList present;
    for (int i = 0; i < m_allowList->count(); ++i)
        present << m_allowList->item(i)->text();
    for (const QString& entry : entries) {
        if (present.contains(entry))
            continue;
        auto* item = new QListWidgetItem(entry, m_allowList);
        item->setFlags(item->flags() | Qt::ItemIsEditable);
        present << entry;
    }
    onEdited();
}

void RouteEditor::clear()
{
    m_loading = true;
    m_id.clear();
    m_isNew = false;
    m_disabled = false;
    m_original = {};
    m_originalListen.reset();
    m_title->setText(tr("No route selected"));
    m_staleNote->hide();
    m_subtitle->setText(tr("Select a route on the left, or press Ctrl+N to add one."));
    m_idEdit->clear();
    m_nameEdit->clear();
    m_descEdit->clear();
    m_remoteAddr->clear();
    m_sni->clear();
    m_upstreamForm->clear();
    m_allowList->clear();
    m_allowInput->clear();
    m_loading = false;
    m_problems.clear();
    m_dirty = false;
    m_form->setEnabled(false);
    showProblems();
    updateEnabledState();
}

void RouteEditor::editDetached(const StreamRoute& route, bool isNew,
                               const QList<Upstream>& upstreams, const QList<Service>& services)
{
    m_detached = true;
    m_detachedRoute = route;
    m_detachedIsNew = isNew;
    m_detachedUpstreams = upstreams;
    m_detachedServices = services;
    load(route, std::nullopt, isNew, false);
    // The listen address belongs to this computer's stream_proxy, not to a remote route.
    m_listenAddress->setEnabled(false);
    m_subtitle->setText(tr("Save sends this route to the remote Admin API; the routes of this "
                           "computer are not changed."));
    if (isNew) {
        m_nameEdit->setFocus();
        m_nameEdit->selectAll();
    }
}

void RouteEditor::showSubmitError(const QString& message)
{
    appendError(m_generalErrors, message);
}

void RouteEditor::editRoute(const QString& id)
{
    if (!m_store)
        return;
    const Config config = m_store->config();
    if (const StreamRoute* route = config.findRoute(id)) {
        load(*route, listenOf(config.streamProxy, *route), false, false);
        return;
    }
    for (const DisabledRoute& d : disabledRoutes(config)) {
        if (d.route.idString() == id) {
            load(d.route, d.listen, false, true);
            return;
        }
    }
    clear();
}

void RouteEditor::newRoute()
{
    const Config config = m_store ? m_store->config() : Config{};
    QSet<int> used;
    for (const ListenEntry& e : singlePorts(config.streamProxy.tcp + config.streamProxy.udp))
        used.insert(e.port);
    for (const DisabledRoute& d : disabledRoutes(config)) {
        if (d.listen)
            used.insert(d.listen->port);
    }
    int port = 10000;
    while (used.contains(port))
        ++port;
    StreamRoute route;
    route.id = uniqueRouteId(config, QStringLiteral("route"));
    route.name = tr("New route");
    route.serverPort = port;
    Upstream upstream;
    upstream.nodes << Node{QStringLiteral("127.0.0.1"), 3306, 1, 0, {}, {}};
    upstream.timeout = Timeout{5, 600, 600};
    route.upstream = upstream;
    load(route, RouteListen{Protocol::Tcp, QStringLiteral("127.0.0.1"), port}, true, false);
    m_nameEdit->setFocus();
    m_nameEdit->selectAll();
}

void RouteEditor::duplicateRoute(const QString& id)
{
    if (!m_store)
        return;
    const Config config = m_store->config();
    const StreamRoute* source = config.findRoute(id);
    if (!source)
        return;
    StreamRoute copy = *source;
    copy.id = uniqueRouteId(config, source->idString() + QStringLiteral("-copy"));
    copy.name = tr("%1 (copy)").arg(source->displayName()).left(256);
    copy.createTime = copy.updateTime = 0;
    std::optional<RouteListen> listen = listenOf(config.streamProxy, *source);
    QSet<int> used;
    for (const ListenEntry& e : singlePorts(config.streamProxy.tcp + config.streamProxy.udp))
        used.insert(e.port);
    int port = source->serverPort.value_or(10000);
    while (used.contains(port) && port < 65535)
        ++port;
    copy.serverPort = port;
    if (listen)
        listen->port = port;
    load(copy, listen.value_or(RouteListen{Protocol::Tcp, QStringLiteral("127.0.0.1"), port}), true,
         false);
    m_dirty = true;
    Q_EMIT dirtyChanged(true);
    updateEnabledState();
}

void RouteEditor::load(const StreamRoute& route, const std::optional<RouteListen>& listen,
                       bool isNew, bool disabled)
{
    m_loading = true;
    m_id = route.idString();
    m_isNew = isNew;
    m_disabled = disabled;
    m_original = encodeStreamRoute(route);
    m_original.remove(QStringLiteral("create_time"));
    m_original.remove(QStringLiteral("update_time"));
    m_originalListen = isNew ? std::nullopt : listen;
    m_form->setEnabled(true);
    m_staleNote->hide();

    m_title->setText(isNew ? tr("New route") : route.displayName());
    if (disabled)
        m_subtitle->setText(tr("This route is disabled: enable it to edit it."));
    else if (isNew)
        m_subtitle->setText(
            tr("Fill in the form and press Save: the route starts listening at once."));
    else
        m_subtitle->setText(tr("Routes are tried top to bottom; the first that matches a "
                               "connection takes it."));

    m_idEdit->setText(m_id);
    m_idEdit->setReadOnly(!isNew);
    m_nameEdit->setText(route.name);
    m_descEdit->setText(route.desc);
    const RouteListen l =
        listen.value_or(RouteListen{Protocol::Tcp, QString(), route.serverPort.value_or(0)});
    m_tcp->setChecked(l.protocol == Protocol::Tcp);
    m_udp->setChecked(l.protocol == Protocol::Udp);
    const int addressIndex = m_listenAddress->findData(l.host);
    if (addressIndex >= 0)
        m_listenAddress->setCurrentIndex(addressIndex);
    else
        m_listenAddress->setEditText(l.host);
    m_port->setValue(route.serverPort.value_or(l.port > 0 ? l.port : 1));
    m_remoteAddr->setText(route.remoteAddr);
    m_sni->setText(route.sni);

    refreshUpstreamChoices();
    const QString serviceId = idText(route.serviceId);
    if (!serviceId.isEmpty() && m_service->findData(serviceId) < 0)
        m_service->addItem(serviceId, serviceId); // not (or no longer) known here: kept as is
    m_service->setCurrentIndex(qMax(0, m_service->findData(serviceId)));
    const bool shared =
        !route.upstream && !route.upstreamId.isUndefined() && !route.upstreamId.isNull();
    const bool fromService = !route.upstream && !shared && !serviceId.isEmpty();
    m_useShared->setChecked(shared);
    m_useService->setChecked(fromService);
    m_useNodes->setChecked(!shared && !fromService);
    if (shared) {
        const int i = m_sharedUpstream->findData(idText(route.upstreamId));
        if (i >= 0)
            m_sharedUpstream->setCurrentIndex(i);
    }
    m_upstreamForm->load(route.upstream);

    m_allowList->clear();
    const std::optional<IpRestrictionConf>& ip = route.plugins.ipRestriction;
    const bool black = ip && !ip->blacklist.isEmpty();
    m_allowMode->setCurrentIndex(black ? 1 : 0);
    for (const QString& entry : ip ? (black ? ip->blacklist : ip->whitelist) : QStringList()) {
        auto* item = new QListWidgetItem(entry, m_allowList);
        item->setFlags(item->flags() | Qt::ItemIsEditable);
    }
    m_allowInput->clear();

    const std::optional<LimitConnConf>& limit = route.plugins.limitConn;
    m_limitEnabled->setChecked(limit.has_value());
    m_limitConn->setValue(limit ? limit->conn : 10);
    m_limitBurst->setValue(limit ? limit->burst : 0);
    m_limitDelay->setValue(limit ? limit->defaultConnDelay : 0.1);
    const qsizetype rules = limit ? limit->rules.size() : 0;
    m_limitRulesNote->setText(
        tr("This limit counts by its own rules (%1; edit them in the config file or the admin "
           "API): Connections and Burst are not used.")
            .arg(rules == 1 ? tr("one rule") : tr("%1 rules").arg(rules)));
    m_limitByRules = rules > 0;
    m_limitRulesNote->setVisible(m_limitByRules);
    m_databaseTls->setChecked(m_store && !m_detached &&
                              m_store->config().streamgate.databaseTlsFor(m_id));
    m_databaseServerTls->setCurrentIndex(m_databaseServerTls->findData(
        toString(m_store && !m_detached ? m_store->config().streamgate.databaseServerTlsFor(m_id)
                                        : DatabaseServerTls::Off)));

    m_loading = false;
    m_dirty = isNew;
    if (disabled)
        m_form->setEnabled(false);
    validate();
    Q_EMIT dirtyChanged(m_dirty);
}

void RouteEditor::refreshUpstreamChoices()
{
    const QString current = m_sharedUpstream->currentData().toString();
    const bool wasLoading = m_loading;
    m_loading = true;
    m_sharedUpstream->clear();
    if (m_detached) {
        for (const Upstream& u : std::as_const(m_detachedUpstreams)) {
            const QString id = u.idString();
            m_sharedUpstream->addItem(choiceText(u.name, id), id);
        }
    } else if (m_store) {
        for (const Upstream& u : m_store->config().upstreams) {
            const QString id = u.idString();
            m_sharedUpstream->addItem(choiceText(u.name, id), id);
        }
    }
    const int i = m_sharedUpstream->findData(current);
    if (i >= 0)
        m_sharedUpstream->setCurrentIndex(i);
    m_useShared->setEnabled(m_sharedUpstream->count() > 0 || m_useShared->isChecked());

    const QString currentService = m_service->currentData().toString();
    m_service->clear();
    m_service->addItem(tr("No service"), QString());
    const auto addService = [this](const Service& s) {
        const QString id = s.idString();
        m_service->addItem(choiceText(s.name, id), id);
    };
    if (m_detached) {
        for (const Service& s : std::as_const(m_detachedServices))
            addService(s);
    } else if (m_store) {
        for (const Service& s : m_store->config().services)
            addService(s);
    }
    if (!currentService.isEmpty() && m_service->findData(currentService) < 0)
        m_service->addItem(currentService, currentService);
    m_service->setCurrentIndex(qMax(0, m_service->findData(currentService)));
    m_loading = wasLoading;
}

void RouteEditor::onEdited()
{
    if (m_loading)
        return;
    if (!m_dirty) {
        m_dirty = true;
        Q_EMIT dirtyChanged(true);
    }
    validate();
}

RouteListen RouteEditor::formListen() const
{
    RouteListen l;
    l.protocol = m_udp->isChecked() ? Protocol::Udp : Protocol::Tcp;
    const int index = m_listenAddress->currentIndex();
    const QString text = m_listenAddress->currentText().trimmed();
    if (index >= 0 && m_listenAddress->itemText(index) == text)
        l.host = m_listenAddress->itemData(index).toString();
    else
        l.host = text;
    if (l.host.startsWith(QLatin1Char('[')) && l.host.endsWith(QLatin1Char(']')))
        l.host = l.host.mid(1, l.host.size() - 2);
    l.port = m_port->value();
    return l;
}

QJsonObject RouteEditor::formJson() const
{
    QJsonObject o = m_original;
    o.insert(QStringLiteral("id"),
             idJson(m_idEdit->text().trimmed(), m_original.value(QStringLiteral("id"))));
    setTextField(o, QStringLiteral("name"), m_nameEdit->text());
    setTextField(o, QStringLiteral("desc"), m_descEdit->text());
    setTextField(o, QStringLiteral("remote_addr"), m_remoteAddr->text().trimmed());
    setTextField(o, QStringLiteral("sni"), m_sni->text().trimmed());
    o.insert(QStringLiteral("server_port"), m_port->value());

    const QString serviceId = m_service->currentData().toString();
    if (serviceId.isEmpty()) {
        o.remove(QStringLiteral("service_id"));
    } else {
        const QJsonValue originalId = m_original.value(QStringLiteral("service_id"));
        o.insert(QStringLiteral("service_id"),
                 idJson(serviceId, originalId.isUndefined() ? QJsonValue(serviceId) : originalId));
    }
    if (m_useService->isChecked()) {
        o.remove(QStringLiteral("upstream"));
        o.remove(QStringLiteral("upstream_id"));
    } else if (m_useShared->isChecked()) {
        o.remove(QStringLiteral("upstream"));
        const QString id = m_sharedUpstream->currentData().toString();
        const QJsonValue originalId = m_original.value(QStringLiteral("upstream_id"));
        o.insert(QStringLiteral("upstream_id"),
                 idJson(id, originalId.isUndefined() ? QJsonValue(id) : originalId));
    } else {
        o.remove(QStringLiteral("upstream_id"));
        o.insert(QStringLiteral("upstream"), m_upstreamForm->json());
    }

    QJsonObject plugins = m_original.value(QStringLiteral("plugins")).toObject();
    QJsonArray entries;
    for (int i = 0; i < m_allowList->count(); ++i)
        entries.append(m_allowList->item(i)->text().trimmed());
    if (entries.isEmpty()) {
        plugins.remove(QStringLiteral("ip-restriction"));
    } else {
        QJsonObject ip = plugins.value(QStringLiteral("ip-restriction")).toObject();
        ip.remove(QStringLiteral("whitelist"));
        ip.remove(QStringLiteral("blacklist"));
        ip.insert(m_allowMode->currentData().toString(), entries);
        plugins.insert(QStringLiteral("ip-restriction"), ip);
    }
    if (m_limitEnabled->isChecked()) {
        QJsonObject limit = plugins.value(QStringLiteral("limit-conn")).toObject();
        limit.insert(QStringLiteral("conn"), m_limitConn->value());
        limit.insert(QStringLiteral("burst"), m_limitBurst->value());
        limit.insert(QStringLiteral("default_conn_delay"), m_limitDelay->value());
        if (!limit.contains(QStringLiteral("key")))
            limit.insert(QStringLiteral("key"), QStringLiteral("remote_addr"));
        plugins.insert(QStringLiteral("limit-conn"), limit);
    } else {
        plugins.remove(QStringLiteral("limit-conn"));
    }
    if (plugins.isEmpty())
        o.remove(QStringLiteral("plugins"));
    else
        o.insert(QStringLiteral("plugins"), plugins);
    return o;
}

void RouteEditor::validate()
{
    m_problems.clear();
    if (m_id.isEmpty() && !m_isNew) {
        showProblems();
        updateEnabledState();
        return;
    }
    const Decoded<StreamRoute> decoded =
        decodeStreamRoute(formJson(), QString(), DecodeMode::Client);
    m_problems = decoded.problems;
    if (m_isNew && m_store) {
        const QString id = m_idEdit->text().trimmed();
        const Config config = m_store->config();
        bool taken = config.findRoute(id) != nullptr;
        for (const DisabledRoute& d : disabledRoutes(config))
            taken = taken || d.route.idString() == id;
        if (taken)
            m_problems << Problem{QStringLiteral("id"), id,
                                  tr("a route with id %1 already exists").arg(id)};
    }
    // APISIX takes a route with no upstream at all (its connections are closed at once); a form
    // that says "from the service" and names none is a choice left unmade.
    if (m_useService->isChecked() && m_service->currentData().toString().isEmpty())
        m_problems << Problem{QStringLiteral("service_id"), QString(),
                              tr("choose the service whose upstream the route takes")};
    const RouteListen listen = formListen();
    if (!listen.host.isEmpty() && QHostAddress(listen.host).isNull())
        m_problems << Problem{QStringLiteral("server_port"), listen.host,
                              tr("invalid listen address: %1").arg(listen.host)};
    // The ip-restriction decoder never sees a half-typed entry: keep Save off while one waits.
    if (!allowInputError().isEmpty())
        m_problems << Problem{QStringLiteral("plugins[\"ip-restriction\"]"), m_allowInput->text(),
                              tr("the address being typed is not valid yet; fix it or clear it")};
    showProblems();
    updateEnabledState();
}

void RouteEditor::showProblems()
{
    const QStringList general = m_errorLabels.show(m_problems);
    m_generalErrors->setText(general.join(QLatin1Char('\n')));
    m_generalErrors->setVisible(!general.isEmpty());
    validateAllowInput();
}

QString RouteEditor::allowInputError() const
{
    const QString text = m_allowInput->text().trimmed();
    if (text.isEmpty())
        return {};
    // Ask the core, so the words are the ones the config file and the admin API use.
    const QJsonObject probe{
        {QStringLiteral("plugins"),
         QJsonObject{{QStringLiteral("ip-restriction"),
                      QJsonObject{{QStringLiteral("whitelist"), QJsonArray{text}}}}}}};
    for (const Problem& p : decodeStreamRoute(probe, QString(), DecodeMode::Client).problems) {
        if (p.path.contains(QLatin1String("whitelist")))
            return p.reason;
    }
    return {};
}

void RouteEditor::validateAllowInput()
{
    const QString error = allowInputError();
    m_allowInputError->setText(error);
    m_allowInputError->setVisible(!error.isEmpty());
    const QString mode = m_allowMode->currentData().toString();
    if (m_allowList->count() == 0)
        m_allowHint->setText(tr("The list is empty: every client may connect."));
    else if (mode == QLatin1String("whitelist"))
        m_allowHint->setText(tr("Only these %n client address(es) may connect; others are refused "
                                "before any byte reaches the upstream.",
                                nullptr, m_allowList->count()));
    else
        m_allowHint->setText(
            tr("These %n client address(es) are refused; everyone else may connect.", nullptr,
               m_allowList->count()));
}

void RouteEditor::updateEnabledState()
{
    const bool editing = !m_id.isEmpty() || m_isNew;
    m_saveButton->setEnabled(editing && !m_disabled && m_dirty && m_problems.isEmpty() &&
                             (m_store || m_detached));
    m_revertButton->setEnabled(editing && !m_disabled && m_dirty);
    m_upstreamForm->setEnabled(m_useNodes->isChecked());
    m_sharedUpstream->setEnabled(m_useShared->isChecked());
    // The service's upstream needs a service; one already chosen stays visible as chosen.
    m_useService->setEnabled(!m_service->currentData().toString().isEmpty() ||
                             m_useService->isChecked());
    m_allowAdd->setEnabled(!m_allowInput->text().trimmed().isEmpty() &&
                           allowInputError().isEmpty());
    m_allowRemove->setEnabled(!m_allowList->selectedItems().isEmpty());
    const bool limit = m_limitEnabled->isChecked();
    m_limitConn->setEnabled(limit && !m_limitByRules);
    m_limitBurst->setEnabled(limit && !m_limitByRules);
    m_limitDelay->setEnabled(limit);
    m_databaseTlsBox->setVisible(m_store && !m_detached); // a remote APISIX has no such setting
    m_databaseServerTls->setEnabled(m_databaseTls->isChecked());
}

bool RouteEditor::save()
{
    validate();
    if (m_detached) {
        if (m_disabled || !m_problems.isEmpty())
            return false;
        Decoded<StreamRoute> decoded = decodeStreamRoute(formJson(), QString(), DecodeMode::Client);
        if (!decoded.ok()) {
            m_problems = decoded.problems;
            showProblems();
            updateEnabledState();
            return false;
        }
        StreamRoute route = decoded.value;
        if (route.upstream)
            route.upstream->nodesAsMap = m_upstreamForm->nodesAsMap();
        // Stays dirty until the receiver confirms and loads the stored route back.
        Q_EMIT submitted(route);
        return true;
    }
    if (!m_store || m_disabled || !m_problems.isEmpty())
        return false;
    Decoded<StreamRoute> decoded = decodeStreamRoute(formJson(), QString(), DecodeMode::Client);
    if (!decoded.ok()) {
        m_problems = decoded.problems;
        showProblems();
        updateEnabledState();
        return false;
    }
    StreamRoute route = decoded.value;
    if (route.upstream)
        route.upstream->nodesAsMap =
            m_upstreamForm->nodesAsMap(); // the encoder falls back when it must
    const QString id = route.idString();
    const Config config = m_store->config();
    const RouteListen listen = formListen();
    const StreamProxy proxy = proxyWithListen(config, id, m_originalListen, listen);
    StreamgateSettings settings = config.streamgate;
    QMap<QString, RouteSettings> routes = settings.routes.value_or(QMap<QString, RouteSettings>());
    RouteSettings own = routes.value(id);
    own.databaseTls = m_databaseTls->isChecked() ? std::optional<bool>(true) : std::nullopt;
    // The server leg's setting belongs to database TLS (the config refuses it alone).
    const QString serverTls = m_databaseServerTls->currentData().toString();
    if (!own.databaseTls || serverTls == toString(DatabaseServerTls::Off))
        own.databaseServerTls.reset();
    else
        own.databaseServerTls = serverTls;
    if (own == RouteSettings{})
        routes.remove(id);
    else
        routes.insert(id, own);
    settings.routes = routes.isEmpty() ? std::nullopt : std::optional(routes);

    Problems problems;
    if (proxy == config.streamProxy && settings == config.streamgate) {
        problems = m_store->putRoute(route);
    } else {
        // Route, listener and the route's own settings change together in one validated,
        // atomic step.
        Config next = config;
        next.streamProxy = proxy;
        next.streamgate = settings;
        bool replaced = false;
        for (StreamRoute& r : next.streamRoutes) {
            if (r.idString() == id) {
                route.createTime = r.createTime;
                r = route;
                replaced = true;
            }
        }
        if (!replaced)
            next.streamRoutes << route;
        problems = m_store->replace(next);
    }
    if (!problems.isEmpty()) {
        m_problems = problems;
        showProblems();
        updateEnabledState();
        return false;
    }
    m_dirty = false;
    editRoute(id);
    Q_EMIT dirtyChanged(false);
    Q_EMIT saved(id);
    return true;
}

QString RouteEditor::exportStatus() const
{
    return m_exportStatus->text();
}

void RouteEditor::exportDevelopmentCa(const QString& file)
{
    if (!m_store)
        return;
    const QString dir = DevelopmentCa::directoryFor(m_store->path());
    auto error = std::make_shared<QString>();
    // Making the CA (a key, files synced to disk) never runs on the window's thread.
    QThread* worker = QThread::create(
        [dir, file, error] { *error = DevelopmentCa(dir).exportCertificate(file); });
    m_exportCa->setEnabled(false);
    m_exportStatus->setText(tr("Exporting…"));
    connect(worker, &QThread::finished, this, [this, file, dir, error] {
        m_exportCa->setEnabled(true);
        const QString status =
            error->isEmpty()
                ? tr("Wrote the development CA's certificate to %1 (the CA lives in %2).")
                      .arg(QDir::toNativeSeparators(file), QDir::toNativeSeparators(dir))
                : tr("Export failed: %1").arg(*error);
        m_exportStatus->setText(status);
        Q_EMIT developmentCaExported(status);
    });
    connect(worker, &QThread::finished, worker, &QObject::deleteLater);
    worker->start();
}

void RouteEditor::revert()
{
    if (m_detached) {
        if (m_detachedIsNew) {
            clear();
            Q_EMIT dirtyChanged(false);
        } else {
            load(m_detachedRoute, std::nullopt, false, false);
        }
        return;
    }
    if (m_isNew) {
        clear();
        Q_EMIT dirtyChanged(false);
        return;
    }
    editRoute(m_id);
}

void RouteEditor::onStoreChanged()
{
    refreshUpstreamChoices();
    if (m_id.isEmpty() || m_isNew)
        return;
    if (!m_dirty) {
        editRoute(m_id); // someone else (admin API, the routes list) changed it
        return;
    }
    // Unsaved edits on a route that changed meanwhile (an Allow click, the admin API): say so,
    // instead of silently overwriting the other change on Save.
    const Config config = m_store->config();
    const StreamRoute* current = config.findRoute(m_id);
    QJsonObject now = current ? encodeStreamRoute(*current) : QJsonObject();
    now.remove(QStringLiteral("create_time"));
    now.remove(QStringLiteral("update_time"));
    const bool changedElsewhere = !current || now != m_original;
    m_staleNote->setText(!current
                             ? tr("This route was deleted elsewhere; Save creates it again.")
                             : tr("This route was changed elsewhere since you started editing; "
                                  "Save replaces that change, Revert loads it."));
    m_staleNote->setVisible(changedElsewhere);
    validate();
}

void RouteEditor::testUpstream()
{
    m_upstreamForm->testNodes();
}

} // namespace sg::ui
