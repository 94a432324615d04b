#pragma once
// The upstream part of a form: nodes (host, port, weight, priority) with a connection test,
// the balancer (type, chash key), retries, retry_timeout, timeouts and TLS to the nodes (scheme
// "tls", tls.verify, tls.client_cert_id; an inline tls.client_cert/client_key is kept as given).
// The route editor embeds it for a route's inline upstream; the upstream editor uses it for a
// shared upstream. It is a view of a JSON upstream: fields it does not show (checks, labels,
// scheme, ...) are carried over untouched, and untouched fields are written back as they were given
// (or not at all). Validation is its owner's: the form only builds the JSON and shows the problems
// it is given.

#include "model/streamroute.h"
#include "routeeditor/formparts.h"

#include <QElapsedTimer>
#include <QHash>
#include <QJsonObject>
#include <QPointer>
#include <QWidget>
#include <optional>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QTcpSocket;

namespace sg::ui {

class UpstreamForm final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UpstreamForm)

public:
    explicit UpstreamForm(QWidget* parent = nullptr);
    ~UpstreamForm() override;

    // Shows `upstream` (an empty form with APISIX's defaults when there is none). Emits nothing.
    void load(const std::optional<Upstream>& upstream);
    void clear() { load(std::nullopt); }
    // The loaded upstream with the form's fields laid over it. Nodes are in array form, so
    // each problem names its row; nodesAsMap() tells the form the loaded upstream used.
    QJsonObject json() const;
    bool nodesAsMap() const { return m_originalNodesAsMap; }
    int nodeCount() const;
    // The form's error labels, by the path (relative to the upstream) of what they show.
    const ProblemLabels& problemLabels() const { return m_problemLabels; }

public Q_SLOTS:
    // Opens a TCP connection to each node and shows how long it took, or why it failed.
    void testNodes();

Q_SIGNALS:
    // The user changed a field (not emitted while loading).
    void edited();

private:
    void build();
    void addNodeRow(const QString& host, int port, int weight, int priority);
    void onEdited();
    void updateEnabledState();
    void finishProbe(int row, const QString& text, bool ok);
    void abortProbes();

    bool m_loading = false;
    QJsonObject m_original; // the upstream as loaded (fields the form does not show survive)
    bool m_originalNodesAsMap = true;

    QTableWidget* m_nodes = nullptr;
    QPushButton* m_addNode = nullptr;
    QPushButton* m_removeNode = nullptr;
    QPushButton* m_testButton = nullptr;
    QComboBox* m_balancer = nullptr;
    QLineEdit* m_hashKey = nullptr;
    QSpinBox* m_retries = nullptr;
    QDoubleSpinBox* m_retryTimeout = nullptr;
    QDoubleSpinBox* m_connectTimeout = nullptr;
    QDoubleSpinBox* m_idleTimeout = nullptr;
    QCheckBox* m_tls = nullptr;
    QCheckBox* m_verify = nullptr;
    QLineEdit* m_clientCertId = nullptr;
    QLabel* m_inlineClientCert = nullptr;
    ProblemLabels m_problemLabels;

    struct Probe
    {
        QPointer<QTcpSocket> socket;
        QElapsedTimer timer;
    };
    QHash<int, Probe> m_probes;
};

} // namespace sg::ui
