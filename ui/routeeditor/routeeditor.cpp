#include "routeeditor/routeeditor.h"

#include "config/configstore.h"
#include "model/codec.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QNetworkInterface>
#include <QPushButton>
#include <QRadioButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QTableWidget>
#include <QTcpSocket>
#include <QTimer>
#include <QVBoxLayout>

namespace sg::ui {

namespace {

enum NodeColumn { HostColumn, PortColumn, WeightColumn, PriorityColumn, ResultColumn, NodeColumns };

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

QString idText(const QJsonValue& id)
{
    return id.isString() ? id.toString() : (id.isDouble() ? QString::number(id.toInteger()) : QString());
}

// The route's id as JSON: an all-digit id the user typed stays a number, as APISIX allows.
QJsonValue idJson(const QString& text, const QJsonValue& original)
{
    if (original.isDouble() && QString::number(original.toInteger()) == text)
        return original;
    return text;
}

} // namespace

RouteEditor::RouteEditor(ConfigStore* store, QWidget* parent) : QWidget(parent), m_store(store)
{
    build();
    clear();
    if (m_store)
        connect(m_store, &ConfigStore::changed, this, &RouteEditor::onStoreChanged);
}

RouteEditor::~RouteEditor()
{
    for (const Probe& probe : std::as_const(m_probes)) {
        if (probe.socket)
            probe.socket->abort();
    }
}

void RouteEditor::build()
{
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->setSpacing(0);

    auto* scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    m_form = new QWidget(scroll);
    scroll->setWidget(m_form);
    outer->addWidget(scroll, 1);

    auto* layout = new QVBoxLayout(m_form);
    layout->setContentsMargins(16, 12, 16, 12);
    layout->setSpacing(12);

    m_title = new QLabel(m_form);
    QFont titleFont = m_title->font();
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.4);
    titleFont.setBold(true);
    m_title->setFont(titleFont);
    m_subtitle = makeHint(QString(), m_form);
    layout->addWidget(m_title);
    layout->addWidget(m_subtitle);

    const auto addErrorRow = [this](QFormLayout* form, const QString& pathPrefix) {
        QLabel* label = makeErrorLabel(form->parentWidget());
        form->addRow(QString(), label);
        m_errorLabels << qMakePair(pathPrefix, label);
        return label;
    };

    // Route
    auto* routeBox = new QGroupBox(tr("Route"), m_form);
    auto* routeForm = new QFormLayout(routeBox);
    m_idEdit = new QLineEdit(routeBox);
    m_idEdit->setObjectName(QStringLiteral("idEdit"));
    m_idEdit->setToolTip(tr("APISIX id: 1-64 characters of a-z, A-Z, 0-9, '-', '_', '.'"));
    routeForm->addRow(tr("ID"), m_idEdit);
    addErrorRow(routeForm, QStringLiteral("id"));
    m_nameEdit = new QLineEdit(routeBox);
    m_nameEdit->setObjectName(QStringLiteral("nameEdit"));
    m_nameEdit->setPlaceholderText(tr("e.g. Local MySQL"));
    routeForm->addRow(tr("Name"), m_nameEdit);
    addErrorRow(routeForm, QStringLiteral("name"));
    m_descEdit = new QLineEdit(routeBox);
    m_descEdit->setObjectName(QStringLiteral("descEdit"));
    routeForm->addRow(tr("Description"), m_descEdit);
    addErrorRow(routeForm, QStringLiteral("desc"));
    layout->addWidget(routeBox);

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
    layout->addWidget(listenBox);

    // Upstream
    auto* upstreamBox = new QGroupBox(tr("Upstream"), m_form);
    auto* upstreamLayout = new QVBoxLayout(upstreamBox);
    auto* choiceRow = new QHBoxLayout;
    m_useNodes = new QRadioButton(tr("Nodes of this route"), upstreamBox);
    m_useNodes->setObjectName(QStringLiteral("useNodesRadio"));
    m_useShared = new QRadioButton(tr("Shared upstream"), upstreamBox);
    m_useShared->setObjectName(QStringLiteral("useSharedRadio"));
    m_sharedUpstream = new QComboBox(upstreamBox);
    m_sharedUpstream->setObjectName(QStringLiteral("sharedUpstream"));
    choiceRow->addWidget(m_useNodes);
    choiceRow->addWidget(m_useShared);
    choiceRow->addWidget(m_sharedUpstream, 1);
    upstreamLayout->addLayout(choiceRow);
    {
        QLabel* label = makeErrorLabel(upstreamBox);
        upstreamLayout->addWidget(label);
        m_errorLabels << qMakePair(QStringLiteral("upstream_id"), label);
    }

    m_nodes = new QTableWidget(0, NodeColumns, upstreamBox);
    m_nodes->setObjectName(QStringLiteral("nodesTable"));
    m_nodes->setHorizontalHeaderLabels({tr("Host"), tr("Port"), tr("Weight"), tr("Priority"), tr("Test")});
    m_nodes->horizontalHeader()->setSectionResizeMode(HostColumn, QHeaderView::Stretch);
    m_nodes->horizontalHeader()->setSectionResizeMode(ResultColumn, QHeaderView::Stretch);
    m_nodes->verticalHeader()->hide();
    m_nodes->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_nodes->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed
                             | QAbstractItemView::AnyKeyPressed | QAbstractItemView::SelectedClicked);
    m_nodes->setMinimumHeight(110);
    m_nodes->setMaximumHeight(180);
    upstreamLayout->addWidget(m_nodes);
    auto* nodeButtons = new QHBoxLayout;
    m_addNode = new QPushButton(tr("Add node"), upstreamBox);
    m_addNode->setObjectName(QStringLiteral("addNodeButton"));
    m_removeNode = new QPushButton(tr("Remove node"), upstreamBox);
    m_removeNode->setObjectName(QStringLiteral("removeNodeButton"));
    m_testButton = new QPushButton(tr("Test upstream"), upstreamBox);
    m_testButton->setObjectName(QStringLiteral("testUpstreamButton"));
    m_testButton->setToolTip(tr("Open a TCP connection to each node and time it"));
    nodeButtons->addWidget(m_addNode);
    nodeButtons->addWidget(m_removeNode);
    nodeButtons->addStretch();
    nodeButtons->addWidget(m_testButton);
    upstreamLayout->addLayout(nodeButtons);
    {
        QLabel* label = makeErrorLabel(upstreamBox);
        upstreamLayout->addWidget(label);
        m_errorLabels << qMakePair(QStringLiteral("upstream.nodes"), label);
    }

    auto* tuning = new QFormLayout;
    m_balancer = new QComboBox(upstreamBox);
    m_balancer->setObjectName(QStringLiteral("balancerCombo"));
    m_balancer->addItem(tr("Round robin"), QStringLiteral("roundrobin"));
    m_balancer->addItem(tr("Least connections"), QStringLiteral("least_conn"));
    m_balancer->addItem(tr("Consistent hash"), QStringLiteral("chash"));
    tuning->addRow(tr("Balancer"), m_balancer);
    addErrorRow(tuning, QStringLiteral("upstream.type"));
    m_hashKey = new QLineEdit(upstreamBox);
    m_hashKey->setObjectName(QStringLiteral("hashKeyEdit"));
    m_hashKey->setPlaceholderText(QStringLiteral("remote_addr"));
    tuning->addRow(tr("Hash key"), m_hashKey);
    addErrorRow(tuning, QStringLiteral("upstream.key"));
    addErrorRow(tuning, QStringLiteral("upstream.hash_on"));
    m_retries = new QSpinBox(upstreamBox);
    m_retries->setObjectName(QStringLiteral("retriesSpin"));
    m_retries->setRange(-1, 100);
    m_retries->setSpecialValueText(tr("Automatic (nodes - 1)"));
    tuning->addRow(tr("Retries"), m_retries);
    addErrorRow(tuning, QStringLiteral("upstream.retries"));
    m_connectTimeout = new QDoubleSpinBox(upstreamBox);
    m_connectTimeout->setObjectName(QStringLiteral("connectTimeoutSpin"));
    m_connectTimeout->setRange(0, 3600);
    m_connectTimeout->setDecimals(1);
    m_connectTimeout->setSuffix(tr(" s"));
    tuning->addRow(tr("Connect timeout"), m_connectTimeout);
    m_idleTimeout = new QDoubleSpinBox(upstreamBox);
    m_idleTimeout->setObjectName(QStringLiteral("idleTimeoutSpin"));
    m_idleTimeout->setRange(0, 86400);
    m_idleTimeout->setDecimals(0);
    m_idleTimeout->setSuffix(tr(" s"));
    m_idleTimeout->setToolTip(tr("timeout.send and timeout.read: a connection idle for longer is closed"));
    tuning->addRow(tr("Idle timeout"), m_idleTimeout);
    addErrorRow(tuning, QStringLiteral("upstream.timeout"));
    upstreamLayout->addLayout(tuning);
    {
        QLabel* label = makeErrorLabel(upstreamBox);
        upstreamLayout->addWidget(label);
        m_errorLabels << qMakePair(QStringLiteral("upstream"), label);
    }
    layout->addWidget(upstreamBox);

    // Allowed clients (ip-restriction)
    auto* allowBox = new QGroupBox(tr("Allowed clients"), m_form);
    auto* allowLayout = new QVBoxLayout(allowBox);
    m_allowMode = new QComboBox(allowBox);
    m_allowMode->setObjectName(QStringLiteral("allowMode"));
    m_allowMode->addItem(tr("Allow-list: only the clients below may connect"), QStringLiteral("whitelist"));
    m_allowMode->addItem(tr("Block-list: everyone except the clients below"), QStringLiteral("blacklist"));
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
    m_allowThisMachine->setToolTip(tr("Add the loopback addresses and this machine's own addresses"));
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
        m_errorLabels << qMakePair(QStringLiteral("plugins[\"ip-restriction\"]"), label);
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
    addErrorRow(limitForm, QStringLiteral("plugins[\"limit-conn\"]"));
    layout->addWidget(limitBox);

    m_staleNote = makeErrorLabel(m_form);
    m_staleNote->setObjectName(QStringLiteral("staleNote"));
    layout->insertWidget(2, m_staleNote);
    m_generalErrors = makeErrorLabel(m_form);
    m_generalErrors->setObjectName(QStringLiteral("generalErrors"));
    layout->addWidget(m_generalErrors);
    layout->addStretch();

    // Button bar
    auto* bar = new QWidget(this);
    bar->setAutoFillBackground(true);
    auto* barLayout = new QHBoxLayout(bar);
    barLayout->setContentsMargins(16, 8, 16, 8);
    barLayout->addStretch();
    m_revertButton = new QPushButton(tr("Revert"), bar);
    m_revertButton->setObjectName(QStringLiteral("revertButton"));
    m_saveButton = new QPushButton(tr("Save"), bar);
    m_saveButton->setObjectName(QStringLiteral("saveButton"));
    m_saveButton->setDefault(true);
    m_saveButton->setShortcut(QKeySequence::Save);
    barLayout->addWidget(m_revertButton);
    barLayout->addWidget(m_saveButton);
    auto* line = new QFrame(this);
    line->setFrameShape(QFrame::HLine);
    line->setFrameShadow(QFrame::Sunken);
    outer->addWidget(line);
    outer->addWidget(bar);

    // Wiring: every edit revalidates.
    for (QLineEdit* edit : {m_idEdit, m_nameEdit, m_descEdit, m_remoteAddr, m_hashKey})
        connect(edit, &QLineEdit::textChanged, this, &RouteEditor::onEdited);
    connect(m_listenAddress, &QComboBox::currentTextChanged, this, &RouteEditor::onEdited);
    for (QSpinBox* spin : {m_port, m_retries, m_limitConn, m_limitBurst})
        connect(spin, &QSpinBox::valueChanged, this, &RouteEditor::onEdited);
    for (QDoubleSpinBox* spin : {m_connectTimeout, m_idleTimeout, m_limitDelay})
        connect(spin, &QDoubleSpinBox::valueChanged, this, &RouteEditor::onEdited);
    for (QRadioButton* radio : {m_tcp, m_udp, m_useNodes, m_useShared})
        connect(radio, &QRadioButton::toggled, this, &RouteEditor::onEdited);
    for (QComboBox* combo : {m_sharedUpstream, m_balancer, m_allowMode})
        connect(combo, &QComboBox::currentIndexChanged, this, &RouteEditor::onEdited);
    connect(m_limitEnabled, &QCheckBox::toggled, this, &RouteEditor::onEdited);
    connect(m_nodes, &QTableWidget::itemChanged, this, [this](QTableWidgetItem* item) {
        if (item->column() != ResultColumn)
            onEdited();
    });
    connect(m_nodes, &QTableWidget::itemSelectionChanged, this, &RouteEditor::updateEnabledState);
    connect(m_allowList, &QListWidget::itemSelectionChanged, this, &RouteEditor::updateEnabledState);
    connect(m_allowList, &QListWidget::itemChanged, this, &RouteEditor::onEdited);

    connect(m_addNode, &QPushButton::clicked, this, [this] {
        addNodeRow(QStringLiteral("127.0.0.1"), 0, 1, 0);
        const int row = m_nodes->rowCount() - 1;
        m_nodes->setCurrentCell(row, HostColumn);
        m_nodes->editItem(m_nodes->item(row, HostColumn));
        onEdited();
    });
    connect(m_removeNode, &QPushButton::clicked, this, [this] {
        QList<int> rows;
        for (const QModelIndex& index : m_nodes->selectionModel()->selectedRows())
            rows << index.row();
        std::sort(rows.rbegin(), rows.rend());
        for (int row : rows)
            m_nodes->removeRow(row);
        onEdited();
    });
    connect(m_testButton, &QPushButton::clicked, this, &RouteEditor::testUpstream);
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
            if (a.isLoopback() || a.isLinkLocal() || a.protocol() == QHostAddress::UnknownNetworkLayerProtocol)
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

void RouteEditor::addNodeRow(const QString& host, int port, int weight, int priority)
{
    const bool wasLoading = m_loading;
    m_loading = true;
    const int row = m_nodes->rowCount();
    m_nodes->insertRow(row);
    m_nodes->setItem(row, HostColumn, new QTableWidgetItem(host));
    for (auto [column, value] : {std::pair{PortColumn, port}, std::pair{WeightColumn, weight},
                                 std::pair{PriorityColumn, priority}}) {
        auto* item = new QTableWidgetItem;
        item->setData(Qt::EditRole, value);
        item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        m_nodes->setItem(row, column, item);
    }
    auto* result = new QTableWidgetItem;
    result->setFlags(Qt::ItemIsEnabled);
    m_nodes->setItem(row, ResultColumn, result);
    m_loading = wasLoading;
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
    m_nodes->setRowCount(0);
    m_allowList->clear();
    m_allowInput->clear();
    m_loading = false;
    m_problems.clear();
    m_dirty = false;
    m_form->setEnabled(false);
    showProblems();
    updateEnabledState();
}

void RouteEditor::editDetached(const StreamRoute& route, bool isNew, const QList<Upstream>& upstreams)
{
    m_detached = true;
    m_detachedRoute = route;
    m_detachedIsNew = isNew;
    m_detachedUpstreams = upstreams;
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
    const QString existing = m_generalErrors->text();
    m_generalErrors->setText(existing.isEmpty() ? message : existing + QLatin1Char('\n') + message);
    m_generalErrors->setVisible(true);
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
    for (const ListenEntry& e : config.streamProxy.tcp)
        used.insert(e.port);
    for (const ListenEntry& e : config.streamProxy.udp)
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
    for (const ListenEntry& e : config.streamProxy.tcp)
        used.insert(e.port);
    for (const ListenEntry& e : config.streamProxy.udp)
        used.insert(e.port);
    int port = source->serverPort.value_or(10000);
    while (used.contains(port) && port < 65535)
        ++port;
    copy.serverPort = port;
    if (listen)
        listen->port = port;
    load(copy, listen.value_or(RouteListen{Protocol::Tcp, QStringLiteral("127.0.0.1"), port}), true, false);
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
        m_subtitle->setText(tr("Fill in the form and press Save: the route starts listening at once."));
    else
        m_subtitle->setText(tr("Routes are tried top to bottom; the first that matches a "
                               "connection takes it."));

    m_idEdit->setText(m_id);
    m_idEdit->setReadOnly(!isNew);
    m_nameEdit->setText(route.name);
    m_descEdit->setText(route.desc);
    const RouteListen l = listen.value_or(RouteListen{Protocol::Tcp, QString(), route.serverPort.value_or(0)});
    m_tcp->setChecked(l.protocol == Protocol::Tcp);
    m_udp->setChecked(l.protocol == Protocol::Udp);
    const int addressIndex = m_listenAddress->findData(l.host);
    if (addressIndex >= 0)
        m_listenAddress->setCurrentIndex(addressIndex);
    else
        m_listenAddress->setEditText(l.host);
    m_port->setValue(route.serverPort.value_or(l.port > 0 ? l.port : 1));
    m_remoteAddr->setText(route.remoteAddr);

    refreshUpstreamChoices();
    const bool shared = !route.upstream && !route.upstreamId.isUndefined() && !route.upstreamId.isNull();
    m_useShared->setChecked(shared);
    m_useNodes->setChecked(!shared);
    if (shared) {
        const int i = m_sharedUpstream->findData(idText(route.upstreamId));
        if (i >= 0)
            m_sharedUpstream->setCurrentIndex(i);
    }
    m_nodes->setRowCount(0);
    const Upstream u = route.upstream.value_or(Upstream{});
    m_originalNodesAsMap = route.upstream ? u.nodesAsMap : true;
    for (const Node& n : u.nodes)
        addNodeRow(n.host, n.port, n.weight, n.priority);
    const int balancer = m_balancer->findData(u.type);
    m_balancer->setCurrentIndex(balancer >= 0 ? balancer : 0);
    m_hashKey->setText(u.key);
    m_retries->setValue(u.retries.value_or(-1));
    const Timeout t = u.effectiveTimeout();
    m_connectTimeout->setValue(t.connect);
    m_idleTimeout->setValue(qMax(t.send, t.read));

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
            m_sharedUpstream->addItem(u.name.isEmpty() ? id : QStringLiteral("%1 (%2)").arg(u.name, id), id);
        }
    } else if (m_store) {
        for (const Upstream& u : m_store->config().upstreams) {
            const QString id = u.idString();
            m_sharedUpstream->addItem(u.name.isEmpty() ? id : QStringLiteral("%1 (%2)").arg(u.name, id), id);
        }
    }
    const int i = m_sharedUpstream->findData(current);
    if (i >= 0)
        m_sharedUpstream->setCurrentIndex(i);
    m_useShared->setEnabled(m_sharedUpstream->count() > 0 || m_useShared->isChecked());
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
    const auto setOrRemove = [&o](const QString& key, const QString& value) {
        if (value.isEmpty())
            o.remove(key);
        else
            o.insert(key, value);
    };
    o.insert(QStringLiteral("id"), idJson(m_idEdit->text().trimmed(), m_original.value(QStringLiteral("id"))));
    setOrRemove(QStringLiteral("name"), m_nameEdit->text());
    setOrRemove(QStringLiteral("desc"), m_descEdit->text());
    setOrRemove(QStringLiteral("remote_addr"), m_remoteAddr->text().trimmed());
    o.insert(QStringLiteral("server_port"), m_port->value());

    if (m_useShared->isChecked()) {
        o.remove(QStringLiteral("upstream"));
        const QString id = m_sharedUpstream->currentData().toString();
        const QJsonValue originalId = m_original.value(QStringLiteral("upstream_id"));
        o.insert(QStringLiteral("upstream_id"), idJson(id, originalId.isUndefined() ? QJsonValue(id) : originalId));
    } else {
        o.remove(QStringLiteral("upstream_id"));
        QJsonObject up = m_original.value(QStringLiteral("upstream")).toObject();
        // Fields the user did not touch are written back as they were given (or not at all),
        // so editing a name does not rewrite the rest of the route.
        const QString type = m_balancer->currentData().toString();
        if (up.contains(QStringLiteral("type")) || type != QLatin1String("roundrobin"))
            up.insert(QStringLiteral("type"), type);
        if (m_balancer->currentData().toString() == QLatin1String("chash")) {
            up.insert(QStringLiteral("key"), m_hashKey->text().trimmed().isEmpty()
                                                 ? QStringLiteral("remote_addr")
                                                 : m_hashKey->text().trimmed());
            if (!up.contains(QStringLiteral("hash_on")))
                up.insert(QStringLiteral("hash_on"), QStringLiteral("vars"));
        } else {
            up.remove(QStringLiteral("key"));
            up.remove(QStringLiteral("hash_on"));
        }
        if (m_retries->value() < 0)
            up.remove(QStringLiteral("retries"));
        else
            up.insert(QStringLiteral("retries"), m_retries->value());
        const QJsonObject oldTimeout = up.value(QStringLiteral("timeout")).toObject();
        const Timeout effective{oldTimeout.value(QStringLiteral("connect")).toDouble(60),
                                oldTimeout.value(QStringLiteral("send")).toDouble(600),
                                oldTimeout.value(QStringLiteral("read")).toDouble(600)};
        const bool idleUntouched = qFuzzyCompare(m_idleTimeout->value(), qMax(effective.send, effective.read));
        const bool connectUntouched = qFuzzyCompare(m_connectTimeout->value(), effective.connect);
        if (!up.contains(QStringLiteral("timeout")) && idleUntouched && connectUntouched) {
            // APISIX's defaults stay implicit.
        } else {
            up.insert(QStringLiteral("timeout"),
                      QJsonObject{{QStringLiteral("connect"), m_connectTimeout->value()},
                                  {QStringLiteral("send"), idleUntouched ? effective.send : m_idleTimeout->value()},
                                  {QStringLiteral("read"), idleUntouched ? effective.read : m_idleTimeout->value()}});
        }
        // Array form while editing: each problem then names the row it is about.
        QJsonArray nodes;
        for (int row = 0; row < m_nodes->rowCount(); ++row) {
            const auto cell = [this, row](int column) {
                const QTableWidgetItem* item = m_nodes->item(row, column);
                return item ? item->data(Qt::EditRole) : QVariant();
            };
            QString host = cell(HostColumn).toString().trimmed();
            if (host.startsWith(QLatin1Char('[')) && host.endsWith(QLatin1Char(']')))
                host = host.mid(1, host.size() - 2);
            QJsonObject node{{QStringLiteral("host"), host},
                             {QStringLiteral("port"), cell(PortColumn).toInt()},
                             {QStringLiteral("weight"), cell(WeightColumn).toInt()}};
            if (cell(PriorityColumn).toInt() != 0)
                node.insert(QStringLiteral("priority"), cell(PriorityColumn).toInt());
            nodes.append(node);
        }
        up.insert(QStringLiteral("nodes"), nodes);
        o.insert(QStringLiteral("upstream"), up);
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
    const Decoded<StreamRoute> decoded = decodeStreamRoute(formJson(), QString(), DecodeMode::Client);
    m_problems = decoded.problems;
    if (m_isNew && m_store) {
        const QString id = m_idEdit->text().trimmed();
        const Config config = m_store->config();
        bool taken = config.findRoute(id) != nullptr;
        for (const DisabledRoute& d : disabledRoutes(config))
            taken = taken || d.route.idString() == id;
        if (taken)
            m_problems << Problem{QStringLiteral("id"), id, tr("a route with id %1 already exists").arg(id)};
    }
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
    QHash<QLabel*, QStringList> texts;
    QStringList general;
    for (const Problem& p : std::as_const(m_problems)) {
        QLabel* best = nullptr;
        qsizetype bestLength = -1;
        for (const auto& [prefix, label] : std::as_const(m_errorLabels)) {
            const bool match = p.path == prefix || p.path.startsWith(prefix + QLatin1Char('.'))
                               || p.path.startsWith(prefix + QLatin1Char('['));
            if (match && prefix.size() > bestLength) {
                best = label;
                bestLength = prefix.size();
            }
        }
        // Rows of lists are named by their path; plain fields by their reason alone.
        const bool listItem = p.path.contains(QLatin1Char('['));
        const QString text = listItem ? p.text() : p.reason;
        if (best)
            texts[best] << text;
        else
            general << p.text();
    }
    for (const auto& [prefix, label] : std::as_const(m_errorLabels)) {
        const QStringList lines = texts.value(label);
        label->setText(lines.join(QLatin1Char('\n')));
        label->setVisible(!lines.isEmpty());
    }
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
    const QJsonObject probe{{QStringLiteral("plugins"),
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
                                "before any byte reaches the upstream.", nullptr, m_allowList->count()));
    else
        m_allowHint->setText(tr("These %n client address(es) are refused; everyone else may connect.",
                                nullptr, m_allowList->count()));
}

void RouteEditor::updateEnabledState()
{
    const bool editing = !m_id.isEmpty() || m_isNew;
    m_saveButton->setEnabled(editing && !m_disabled && m_dirty && m_problems.isEmpty()
                              && (m_store || m_detached));
    m_revertButton->setEnabled(editing && !m_disabled && m_dirty);
    const bool nodes = m_useNodes->isChecked();
    m_nodes->setEnabled(nodes);
    m_addNode->setEnabled(nodes);
    m_removeNode->setEnabled(nodes && m_nodes->selectionModel()->hasSelection());
    m_testButton->setEnabled(nodes && m_nodes->rowCount() > 0);
    m_balancer->setEnabled(nodes);
    m_hashKey->setEnabled(nodes && m_balancer->currentData().toString() == QLatin1String("chash"));
    m_retries->setEnabled(nodes);
    m_connectTimeout->setEnabled(nodes);
    m_idleTimeout->setEnabled(nodes);
    m_sharedUpstream->setEnabled(m_useShared->isChecked());
    m_allowAdd->setEnabled(!m_allowInput->text().trimmed().isEmpty() && allowInputError().isEmpty());
    m_allowRemove->setEnabled(!m_allowList->selectedItems().isEmpty());
    const bool limit = m_limitEnabled->isChecked();
    m_limitConn->setEnabled(limit);
    m_limitBurst->setEnabled(limit);
    m_limitDelay->setEnabled(limit);
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
            route.upstream->nodesAsMap = m_originalNodesAsMap;
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
        route.upstream->nodesAsMap = m_originalNodesAsMap; // the encoder falls back when it must
    const QString id = route.idString();
    const Config config = m_store->config();
    const RouteListen listen = formListen();
    const StreamProxy proxy = proxyWithListen(config, id, m_originalListen, listen);

    Problems problems;
    if (proxy == config.streamProxy) {
        problems = m_store->putRoute(route);
    } else {
        // Route and listener change together in one validated, atomic step.
        Config next = config;
        next.streamProxy = proxy;
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
    m_staleNote->setText(!current ? tr("This route was deleted elsewhere; Save creates it again.")
                                  : tr("This route was changed elsewhere since you started editing; "
                                       "Save replaces that change, Revert loads it."));
    m_staleNote->setVisible(changedElsewhere);
    validate();
}

void RouteEditor::testUpstream()
{
    for (const Probe& probe : std::as_const(m_probes)) {
        if (probe.socket)
            probe.socket->abort();
    }
    m_probes.clear();
    const int timeoutMs = int(qBound(0.2, m_connectTimeout->value(), 10.0) * 1000);
    for (int row = 0; row < m_nodes->rowCount(); ++row) {
        QString host = m_nodes->item(row, HostColumn)->text().trimmed();
        if (host.startsWith(QLatin1Char('[')) && host.endsWith(QLatin1Char(']')))
            host = host.mid(1, host.size() - 2);
        const int port = m_nodes->item(row, PortColumn)->data(Qt::EditRole).toInt();
        m_nodes->item(row, ResultColumn)->setText(tr("Connecting…"));
        m_nodes->item(row, ResultColumn)->setForeground(palette().brush(QPalette::PlaceholderText));
        if (port < 1 || port > 65535) {
            finishProbe(row, tr("invalid port"), false);
            continue;
        }
        // A one-shot probe: the proxied sockets live on the engine's threads, not here.
        auto* socket = new QTcpSocket(this);
        Probe& probe = m_probes[row];
        probe.socket = socket;
        probe.timer.start();
        connect(socket, &QTcpSocket::connected, this, [this, row, socket] {
            const double ms = double(m_probes.value(row).timer.nsecsElapsed()) / 1e6;
            finishProbe(row, tr("OK, connected in %1 ms").arg(ms, 0, 'f', ms < 10 ? 1 : 0), true);
            socket->abort();
            socket->deleteLater();
        });
        connect(socket, &QTcpSocket::errorOccurred, this, [this, row, socket] {
            const double ms = double(m_probes.value(row).timer.nsecsElapsed()) / 1e6;
            finishProbe(row, tr("%1 (after %2 ms)").arg(socket->errorString()).arg(ms, 0, 'f', 0), false);
            socket->deleteLater();
        });
        QTimer::singleShot(timeoutMs, socket, [this, row, socket, timeoutMs] {
            if (socket->state() == QAbstractSocket::ConnectedState)
                return;
            finishProbe(row, tr("no answer within %1 s").arg(timeoutMs / 1000.0), false);
            socket->abort();
            socket->deleteLater();
        });
        socket->connectToHost(host, quint16(port));
    }
}

void RouteEditor::finishProbe(int row, const QString& text, bool ok)
{
    if (row >= m_nodes->rowCount())
        return;
    QTableWidgetItem* item = m_nodes->item(row, ResultColumn);
    if (!item)
        return;
    item->setText(text);
    item->setToolTip(text);
    const bool dark = palette().color(QPalette::Base).lightnessF() < 0.5;
    item->setForeground(ok ? (dark ? QColor(0x4c, 0xc3, 0x6a) : QColor(0x1e, 0x9e, 0x4a))
                           : (dark ? QColor(0xff, 0x6b, 0x6b) : QColor(0xc0, 0x20, 0x20)));
    m_probes.remove(row);
}

} // namespace sg::ui
