#include "routeeditor/upstreamform.h"

#include "model/codec.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QTcpSocket>
#include <QTimer>
#include <QVBoxLayout>
#include <algorithm>
#include <utility>

namespace sg::ui {

namespace {

enum NodeColumn { HostColumn, PortColumn, WeightColumn, PriorityColumn, ResultColumn, NodeColumns };

QString unbracketed(QString host)
{
    host = host.trimmed();
    if (host.startsWith(QLatin1Char('[')) && host.endsWith(QLatin1Char(']')))
        host = host.mid(1, host.size() - 2);
    return host;
}

} // namespace

UpstreamForm::UpstreamForm(QWidget* parent) : QWidget(parent)
{
    build();
    clear();
}

UpstreamForm::~UpstreamForm()
{
    abortProbes();
}

void UpstreamForm::build()
{
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    const auto addErrorRow = [this](QFormLayout* form, const QString& pathPrefix) {
        ui::addErrorRow(form, m_problemLabels, pathPrefix);
    };
    const auto addErrorLine = [this, layout](const QString& pathPrefix) {
        QLabel* label = makeErrorLabel(this);
        layout->addWidget(label);
        m_problemLabels.add(pathPrefix, label);
    };

    m_nodes = new QTableWidget(0, NodeColumns, this);
    m_nodes->setObjectName(QStringLiteral("nodesTable"));
    m_nodes->setHorizontalHeaderLabels(
        {tr("Host"), tr("Port"), tr("Weight"), tr("Priority"), tr("Test")});
    m_nodes->horizontalHeader()->setSectionResizeMode(HostColumn, QHeaderView::Stretch);
    m_nodes->horizontalHeader()->setSectionResizeMode(ResultColumn, QHeaderView::Stretch);
    m_nodes->verticalHeader()->hide();
    m_nodes->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_nodes->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed |
                             QAbstractItemView::AnyKeyPressed | QAbstractItemView::SelectedClicked);
    m_nodes->setMinimumHeight(110);
    m_nodes->setMaximumHeight(180);
    layout->addWidget(m_nodes);
    auto* nodeButtons = new QHBoxLayout;
    m_addNode = new QPushButton(tr("Add node"), this);
    m_addNode->setObjectName(QStringLiteral("addNodeButton"));
    m_removeNode = new QPushButton(tr("Remove node"), this);
    m_removeNode->setObjectName(QStringLiteral("removeNodeButton"));
    m_testButton = new QPushButton(tr("Test upstream"), this);
    m_testButton->setObjectName(QStringLiteral("testUpstreamButton"));
    m_testButton->setToolTip(tr("Open a TCP connection to each node and time it"));
    nodeButtons->addWidget(m_addNode);
    nodeButtons->addWidget(m_removeNode);
    nodeButtons->addStretch();
    nodeButtons->addWidget(m_testButton);
    layout->addLayout(nodeButtons);
    addErrorLine(QStringLiteral("nodes"));

    auto* tuning = new QFormLayout;
    m_balancer = new QComboBox(this);
    m_balancer->setObjectName(QStringLiteral("balancerCombo"));
    m_balancer->addItem(tr("Round robin"), QStringLiteral("roundrobin"));
    m_balancer->addItem(tr("Least connections"), QStringLiteral("least_conn"));
    m_balancer->addItem(tr("Consistent hash"), QStringLiteral("chash"));
    tuning->addRow(tr("Balancer"), m_balancer);
    addErrorRow(tuning, QStringLiteral("type"));
    m_hashKey = new QLineEdit(this);
    m_hashKey->setObjectName(QStringLiteral("hashKeyEdit"));
    m_hashKey->setPlaceholderText(QStringLiteral("remote_addr"));
    tuning->addRow(tr("Hash key"), m_hashKey);
    addErrorRow(tuning, QStringLiteral("key"));
    addErrorRow(tuning, QStringLiteral("hash_on"));
    m_retries = new QSpinBox(this);
    m_retries->setObjectName(QStringLiteral("retriesSpin"));
    m_retries->setRange(-1, 100);
    m_retries->setSpecialValueText(tr("Automatic (nodes - 1)"));
    tuning->addRow(tr("Retries"), m_retries);
    addErrorRow(tuning, QStringLiteral("retries"));
    m_retryTimeout = new QDoubleSpinBox(this);
    m_retryTimeout->setObjectName(QStringLiteral("retryTimeoutSpin"));
    m_retryTimeout->setRange(0, 3600);
    m_retryTimeout->setDecimals(1);
    m_retryTimeout->setSuffix(tr(" s"));
    m_retryTimeout->setSpecialValueText(tr("No limit"));
    m_retryTimeout->setToolTip(tr("retry_timeout: no further node is tried once this much time has "
                                  "passed since the first attempt"));
    tuning->addRow(tr("Retry timeout"), m_retryTimeout);
    addErrorRow(tuning, QStringLiteral("retry_timeout"));
    m_connectTimeout = new QDoubleSpinBox(this);
    m_connectTimeout->setObjectName(QStringLiteral("connectTimeoutSpin"));
    m_connectTimeout->setRange(0, 3600);
    m_connectTimeout->setDecimals(1);
    m_connectTimeout->setSuffix(tr(" s"));
    tuning->addRow(tr("Connect timeout"), m_connectTimeout);
    m_idleTimeout = new QDoubleSpinBox(this);
    m_idleTimeout->setObjectName(QStringLiteral("idleTimeoutSpin"));
    m_idleTimeout->setRange(0, 86400);
    m_idleTimeout->setDecimals(0);
    m_idleTimeout->setSuffix(tr(" s"));
    m_idleTimeout->setToolTip(
        tr("timeout.send and timeout.read: a connection idle for longer is closed"));
    tuning->addRow(tr("Idle timeout"), m_idleTimeout);
    addErrorRow(tuning, QStringLiteral("timeout"));
    m_tls = new QCheckBox(tr("Reach the nodes over TLS"), this);
    m_tls->setObjectName(QStringLiteral("upstreamTlsCheck"));
    m_tls->setToolTip(tr("scheme \"tls\": Streamgate speaks TLS to each node (the SNI sent is "
                         "the client's, or apisix_backend)"));
    tuning->addRow(tr("TLS"), m_tls);
    addErrorRow(tuning, QStringLiteral("scheme"));
    m_verify = new QCheckBox(tr("Verify the nodes' certificates"), this);
    m_verify->setObjectName(QStringLiteral("upstreamVerifyCheck"));
    m_verify->setToolTip(tr("tls.verify: against the trusted CAs "
                            "(streamgate.ssl_trusted_certificate, the system's by default)"));
    tuning->addRow(QString(), m_verify);
    addErrorRow(tuning, QStringLiteral("tls.verify"));
    m_clientCertId = new QLineEdit(this);
    m_clientCertId->setObjectName(QStringLiteral("clientCertIdEdit"));
    m_clientCertId->setPlaceholderText(tr("none"));
    m_clientCertId->setToolTip(tr("tls.client_cert_id: the id of an ssl of type client, for "
                                  "nodes that ask for a client certificate"));
    tuning->addRow(tr("Client certificate"), m_clientCertId);
    addErrorRow(tuning, QStringLiteral("tls.client_cert_id"));
    m_inlineClientCert = new QLabel(
        tr("A client certificate is given in the upstream itself (tls.client_cert); it is kept."),
        this);
    m_inlineClientCert->setObjectName(QStringLiteral("inlineClientCertLabel"));
    m_inlineClientCert->setWordWrap(true);
    tuning->addRow(QString(), m_inlineClientCert);
    addErrorRow(tuning, QStringLiteral("tls"));
    layout->addLayout(tuning);
    addErrorLine(QString()); // whatever else is wrong with the upstream (checks, ...)

    // Wiring: every edit is reported.
    connect(m_hashKey, &QLineEdit::textChanged, this, &UpstreamForm::onEdited);
    connect(m_clientCertId, &QLineEdit::textChanged, this, &UpstreamForm::onEdited);
    for (QCheckBox* box : {m_tls, m_verify})
        connect(box, &QCheckBox::toggled, this, &UpstreamForm::onEdited);
    connect(m_retries, &QSpinBox::valueChanged, this, &UpstreamForm::onEdited);
    for (QDoubleSpinBox* spin : {m_retryTimeout, m_connectTimeout, m_idleTimeout})
        connect(spin, &QDoubleSpinBox::valueChanged, this, &UpstreamForm::onEdited);
    connect(m_balancer, &QComboBox::currentIndexChanged, this, &UpstreamForm::onEdited);
    connect(m_nodes, &QTableWidget::itemChanged, this, [this](QTableWidgetItem* item) {
        if (item->column() != ResultColumn)
            onEdited();
    });
    connect(m_nodes, &QTableWidget::itemSelectionChanged, this, &UpstreamForm::updateEnabledState);
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
    connect(m_testButton, &QPushButton::clicked, this, &UpstreamForm::testNodes);
}

void UpstreamForm::addNodeRow(const QString& host, int port, int weight, int priority)
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

void UpstreamForm::load(const std::optional<Upstream>& upstream)
{
    abortProbes();
    m_loading = true;
    m_original = upstream ? encodeUpstream(*upstream) : QJsonObject();
    m_original.remove(QStringLiteral("create_time"));
    m_original.remove(QStringLiteral("update_time"));
    const Upstream u = upstream.value_or(Upstream{});
    m_originalNodesAsMap = upstream ? u.nodesAsMap : true;
    m_nodes->setRowCount(0);
    for (const Node& n : u.nodes)
        addNodeRow(n.host, n.port, n.weight, n.priority);
    const int balancer = m_balancer->findData(u.type);
    m_balancer->setCurrentIndex(balancer >= 0 ? balancer : 0);
    m_hashKey->setText(u.key);
    m_retries->setValue(u.retries.value_or(-1));
    m_retryTimeout->setValue(u.retryTimeout.value_or(0));
    const Timeout t = u.effectiveTimeout();
    m_connectTimeout->setValue(t.connect);
    m_idleTimeout->setValue(qMax(t.send, t.read));
    m_tls->setChecked(u.scheme == QLatin1String("tls"));
    m_verify->setChecked(u.tls && u.tls->verifies());
    m_clientCertId->setText(u.tls ? idText(u.tls->clientCertId) : QString());
    m_inlineClientCert->setVisible(u.tls && !u.tls->clientCert.isEmpty());
    m_loading = false;
    updateEnabledState();
}

int UpstreamForm::nodeCount() const
{
    return m_nodes->rowCount();
}

void UpstreamForm::onEdited()
{
    updateEnabledState();
    if (!m_loading)
        Q_EMIT edited();
}

void UpstreamForm::updateEnabledState()
{
    m_removeNode->setEnabled(m_nodes->selectionModel()->hasSelection());
    m_testButton->setEnabled(m_nodes->rowCount() > 0);
    m_hashKey->setEnabled(m_balancer->currentData().toString() == QLatin1String("chash"));
    m_verify->setEnabled(m_tls->isChecked());
    m_clientCertId->setEnabled(m_tls->isChecked());
}

QJsonObject UpstreamForm::json() const
{
    QJsonObject up = m_original;
    // Fields the user did not touch are written back as they were given (or not at all), so
    // editing one field does not rewrite the rest of the upstream.
    const QString type = m_balancer->currentData().toString();
    if (up.contains(QStringLiteral("type")) || type != QLatin1String("roundrobin"))
        up.insert(QStringLiteral("type"), type);
    if (type == QLatin1String("chash")) {
        const QString key = m_hashKey->text().trimmed();
        up.insert(QStringLiteral("key"), key.isEmpty() ? QStringLiteral("remote_addr") : key);
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
    // 0 means no limit, as in APISIX; an explicit 0 that was given stays.
    const double retryTimeout = m_retryTimeout->value();
    if (retryTimeout > 0)
        up.insert(QStringLiteral("retry_timeout"), retryTimeout);
    else if (up.value(QStringLiteral("retry_timeout")).toDouble() > 0)
        up.remove(QStringLiteral("retry_timeout"));

    const QJsonObject oldTimeout = up.value(QStringLiteral("timeout")).toObject();
    const Timeout effective{oldTimeout.value(QStringLiteral("connect")).toDouble(60),
                            oldTimeout.value(QStringLiteral("send")).toDouble(600),
                            oldTimeout.value(QStringLiteral("read")).toDouble(600)};
    const bool idleUntouched =
        qFuzzyCompare(m_idleTimeout->value(), qMax(effective.send, effective.read));
    const bool connectUntouched = qFuzzyCompare(m_connectTimeout->value(), effective.connect);
    if (up.contains(QStringLiteral("timeout")) || !idleUntouched || !connectUntouched) {
        // APISIX's defaults stay implicit until one of them is changed.
        up.insert(
            QStringLiteral("timeout"),
            QJsonObject{
                {QStringLiteral("connect"), m_connectTimeout->value()},
                {QStringLiteral("send"), idleUntouched ? effective.send : m_idleTimeout->value()},
                {QStringLiteral("read"), idleUntouched ? effective.read : m_idleTimeout->value()}});
    }

    // TLS: scheme "tls", or back to the default (tcp) with the tls object kept as given (unused,
    // as in APISIX; the config check says so). Its other fields (an inline client_cert) stay.
    if (m_tls->isChecked()) {
        up.insert(QStringLiteral("scheme"), QStringLiteral("tls"));
        QJsonObject tls = up.value(QStringLiteral("tls")).toObject();
        if (m_verify->isChecked())
            tls.insert(QStringLiteral("verify"), true);
        else if (tls.contains(QStringLiteral("verify")))
            tls.insert(QStringLiteral("verify"), false);
        const QString certId = m_clientCertId->text().trimmed();
        if (certId.isEmpty())
            tls.remove(QStringLiteral("client_cert_id"));
        else if (idText(tls.value(QStringLiteral("client_cert_id"))) != certId)
            tls.insert(QStringLiteral("client_cert_id"), certId); // a given integer id stays
        if (tls.isEmpty())
            up.remove(QStringLiteral("tls"));
        else
            up.insert(QStringLiteral("tls"), tls);
    } else if (up.value(QStringLiteral("scheme")).toString() == QLatin1String("tls")) {
        up.remove(QStringLiteral("scheme"));
    }

    QJsonArray nodes;
    for (int row = 0; row < m_nodes->rowCount(); ++row) {
        const auto cell = [this, row](int column) {
            const QTableWidgetItem* item = m_nodes->item(row, column);
            return item ? item->data(Qt::EditRole) : QVariant();
        };
        QJsonObject node{{QStringLiteral("host"), unbracketed(cell(HostColumn).toString())},
                         {QStringLiteral("port"), cell(PortColumn).toInt()},
                         {QStringLiteral("weight"), cell(WeightColumn).toInt()}};
        if (cell(PriorityColumn).toInt() != 0)
            node.insert(QStringLiteral("priority"), cell(PriorityColumn).toInt());
        nodes.append(node);
    }
    up.insert(QStringLiteral("nodes"), nodes);
    return up;
}

void UpstreamForm::abortProbes()
{
    const QHash<int, Probe> probes = std::exchange(m_probes, {});
    for (const Probe& probe : probes) {
        if (probe.socket)
            probe.socket->abort();
    }
}

void UpstreamForm::testNodes()
{
    abortProbes();
    const int timeoutMs = int(qBound(0.2, m_connectTimeout->value(), 10.0) * 1000);
    for (int row = 0; row < m_nodes->rowCount(); ++row) {
        const QString host = unbracketed(m_nodes->item(row, HostColumn)->text());
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
            finishProbe(row, tr("%1 (after %2 ms)").arg(socket->errorString()).arg(ms, 0, 'f', 0),
                        false);
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

void UpstreamForm::finishProbe(int row, const QString& text, bool ok)
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
