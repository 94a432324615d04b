#include "queries/queriespanel.h"

#include "config/configstore.h"
#include "csv.h"
#include "model/problem.h"
#include "models/roles.h"
#include "proxy/engine.h"
#include "queries/querymodels.h"

#include <QComboBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSaveFile>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

namespace sg::ui {

namespace {

QTableView* makeTable(QAbstractItemModel* model, const QString& name, QWidget* parent)
{
    auto* view = new QTableView(parent);
    view->setObjectName(name);
    view->setModel(model);
    view->setSortingEnabled(true);
    view->setSelectionBehavior(QAbstractItemView::SelectRows);
    view->setAlternatingRowColors(true);
    view->setWordWrap(false);
    view->verticalHeader()->hide();
    view->horizontalHeader()->setStretchLastSection(true);
    return view;
}

} // namespace

QueriesPanel::QueriesPanel(ConfigStore* store, Engine* engine, QWidget* parent)
    : QWidget(parent), m_store(store), m_engine(engine)
{
    auto* layout = new QVBoxLayout(this);

    auto* top = new QHBoxLayout;
    m_protocolBox = new QComboBox(this);
    m_protocolBox->setObjectName(QStringLiteral("queriesProtocol"));
    m_protocolBox->addItem(tr("MySQL"), int(SqlProtocol::MySql));
    m_protocolBox->addItem(tr("PostgreSQL"), int(SqlProtocol::Postgres));
    m_protocolBox->setToolTip(tr("Which of the route's clients to show"));
    connect(m_protocolBox, &QComboBox::activated, this, [this](int index) {
        setProtocol(SqlProtocol(m_protocolBox->itemData(index).toInt()));
    });
    m_state = new QLabel(this);
    m_state->setObjectName(QStringLiteral("queriesState"));
    m_state->setWordWrap(true);
    m_record = new QPushButton(this);
    m_record->setObjectName(QStringLiteral("recordQueriesButton"));
    connect(m_record, &QPushButton::clicked, this, [this] { setRecording(!m_recording); });
    top->addWidget(m_protocolBox);
    top->addWidget(m_state, 1);
    top->addWidget(m_record);
    layout->addLayout(top);

    auto* tools = new QHBoxLayout;
    m_filter = new QLineEdit(this);
    m_filter->setObjectName(QStringLiteral("queriesFilter"));
    m_filter->setPlaceholderText(tr("Filter by statement, user, database or client"));
    m_filter->setClearButtonEnabled(true);
    m_reset = new QPushButton(tr("Reset"), this);
    m_reset->setObjectName(QStringLiteral("resetQueriesButton"));
    m_reset->setToolTip(tr("Empty the digests and errors of this route"));
    connect(m_reset, &QPushButton::clicked, this, &QueriesPanel::reset);
    m_export = new QPushButton(tr("Export CSV…"), this);
    m_export->setObjectName(QStringLiteral("exportQueriesButton"));
    connect(m_export, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Export query digests"), QStringLiteral("digests-%1.csv").arg(m_routeId),
            tr("CSV files (*.csv)"));
        if (!path.isEmpty())
            exportCsv(path);
    });
    tools->addWidget(m_filter, 1);
    tools->addWidget(m_reset);
    tools->addWidget(m_export);
    layout->addLayout(tools);

    m_digests = new DigestsModel(this);
    m_digestsView = new QSortFilterProxyModel(this);
    m_digestsView->setSourceModel(m_digests);
    m_digestsView->setSortRole(SortRole);
    m_digestsView->setDynamicSortFilter(true);
    m_digestsView->setFilterKeyColumn(-1); // any column: statement, user, database, client
    m_digestsView->setFilterCaseSensitivity(Qt::CaseInsensitive);
    connect(m_filter, &QLineEdit::textChanged, m_digestsView,
            &QSortFilterProxyModel::setFilterFixedString);
    m_errors = new MySqlErrorsModel(this);
    auto* errorsSorted = new QSortFilterProxyModel(this);
    errorsSorted->setSourceModel(m_errors);
    errorsSorted->setSortRole(SortRole);
    errorsSorted->setDynamicSortFilter(true);

    auto* split = new QSplitter(Qt::Vertical, this);
    m_digestsTable = makeTable(m_digestsView, QStringLiteral("digestsView"), split);
    m_digestsTable->sortByColumn(DigestsModel::TotalTimeColumn, Qt::DescendingOrder);
    m_digestsTable->horizontalHeader()->setSectionResizeMode(DigestsModel::TextColumn,
                                                             QHeaderView::Interactive);
    m_digestsTable->setColumnWidth(DigestsModel::TextColumn, 420);
    auto* errorsBox = new QWidget(split);
    auto* errorsLayout = new QVBoxLayout(errorsBox);
    errorsLayout->setContentsMargins(0, 0, 0, 0);
    m_errorsTitle = new QLabel(tr("Errors"), errorsBox);
    m_errorsTable = makeTable(errorsSorted, QStringLiteral("mysqlErrorsView"), errorsBox);
    m_errorsTable->sortByColumn(MySqlErrorsModel::LastSeenColumn, Qt::DescendingOrder);
    m_errorsTable->setColumnWidth(MySqlErrorsModel::MessageColumn, 360);
    errorsLayout->addWidget(m_errorsTitle);
    errorsLayout->addWidget(m_errorsTable, 1);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    layout->addWidget(split, 1);
    updateState();
}

void QueriesPanel::setRoute(const QString& routeId)
{
    if (routeId == m_routeId)
        return;
    m_routeId = routeId;
    m_digests->setDigests({});
    m_errors->setErrors({});
    if (m_store) {
        // A route that records only PostgreSQL opens on it; any other on MySQL.
        const StreamgateSettings& settings = m_store->config().streamgate;
        const bool postgres =
            settings.postgresDigestsFor(routeId) && !settings.mysqlDigestsFor(routeId);
        m_protocol = postgres ? SqlProtocol::Postgres : SqlProtocol::MySql;
        m_protocolBox->setCurrentIndex(m_protocolBox->findData(int(m_protocol)));
        setConfig(m_store->config());
    }
    refresh();
}

void QueriesPanel::setProtocol(SqlProtocol protocol)
{
    if (protocol == m_protocol)
        return;
    m_protocol = protocol;
    m_protocolBox->setCurrentIndex(m_protocolBox->findData(int(protocol)));
    m_digests->setDigests({});
    m_errors->setErrors({});
    m_droppedDigests = 0;
    if (m_store)
        setConfig(m_store->config());
    refresh();
}

QString QueriesPanel::protocolName() const
{
    return m_protocol == SqlProtocol::MySql ? tr("MySQL") : tr("PostgreSQL");
}

void QueriesPanel::setConfig(const Config& config)
{
    m_routeExists = !m_routeId.isEmpty() && config.findRoute(m_routeId);
    m_recording = m_routeExists && (m_protocol == SqlProtocol::MySql
                                        ? config.streamgate.mysqlDigestsFor(m_routeId)
                                        : config.streamgate.postgresDigestsFor(m_routeId));
    updateState();
}

void QueriesPanel::refresh()
{
    if (!m_engine || !m_routeExists) {
        m_digests->setDigests({});
        m_errors->setErrors({});
        return;
    }
    const std::shared_ptr<SqlStats> stats = m_engine->sqlStats(m_routeId, m_protocol);
    m_digests->setDigests(stats->digests());
    m_errors->setErrors(stats->errors());
    const quint64 dropped = stats->droppedDigests();
    if (dropped != m_droppedDigests) {
        m_droppedDigests = dropped;
        updateState();
    }
    m_errorsTitle->setText(m_errors->rowCount() ? tr("Errors (%1)").arg(m_errors->rowCount())
                                                : tr("Errors"));
}

void QueriesPanel::updateState()
{
    m_record->setEnabled(m_routeExists && m_store);
    m_reset->setEnabled(m_routeExists && m_engine);
    m_export->setEnabled(m_routeExists);
    m_record->setText(m_recording ? tr("Stop recording") : tr("Record queries"));
    QString text;
    if (!m_routeExists)
        text = tr("Select a route to see what its database clients ask.");
    else if (m_recording)
        text = tr("Recording every %1 command on new connections of this route: its digest, "
                  "time, rows and errors.")
                   .arg(protocolName());
    else
        text = tr("%1 query digests are off for this route. Record queries to see what its %1 "
                  "clients ask, how long each statement takes and what fails (connections opened "
                  "from then on).")
                   .arg(protocolName());
    if (m_droppedDigests)
        text += QLatin1Char(' ') +
                tr("%n digest(s) not kept: the table holds %1 at most; Reset makes room.", nullptr,
                   int(qMin<quint64>(m_droppedDigests, INT_MAX)))
                    .arg(SqlStats::kMaxDigests);
    m_state->setText(text);
}

bool QueriesPanel::setRecording(bool on)
{
    if (!m_store || !m_routeExists)
        return false;
    StreamgateSettings settings = m_store->config().streamgate;
    QMap<QString, RouteSettings> routes = settings.routes.value_or(QMap<QString, RouteSettings>());
    RouteSettings route = routes.value(m_routeId);
    std::optional<bool>& digests =
        m_protocol == SqlProtocol::MySql ? route.mysqlDigests : route.postgresDigests;
    digests = on ? std::optional<bool>(true) : std::nullopt;
    if (route == RouteSettings{})
        routes.remove(m_routeId);
    else
        routes.insert(m_routeId, route);
    settings.routes = routes.isEmpty() ? std::nullopt : std::optional(routes);
    const Problems problems = m_store->setSettings(settings);
    if (!problems.isEmpty()) {
        Q_EMIT message(tr("Could not change query recording: %1").arg(formatProblems(problems)));
        return false;
    }
    Q_EMIT message(
        on ? tr("Recording %1 queries of %2 on new connections").arg(protocolName(), m_routeId)
           : tr("Stopped recording %1 queries of %2").arg(protocolName(), m_routeId));
    return true;
}

void QueriesPanel::reset()
{
    if (!m_engine || !m_routeExists)
        return;
    const std::shared_ptr<SqlStats> stats = m_engine->sqlStats(m_routeId, m_protocol);
    stats->resetDigests();
    stats->resetErrors();
    refresh();
    Q_EMIT message(tr("Query digests and errors of %1 emptied").arg(m_routeId));
}

bool QueriesPanel::exportCsv(const QString& path)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        Q_EMIT message(tr("Export failed: %1: %2").arg(path, file.errorString()));
        return false;
    }
    file.write(tableToCsv(m_digestsView).toUtf8());
    if (!file.commit()) {
        Q_EMIT message(tr("Export failed: %1: %2").arg(path, file.errorString()));
        return false;
    }
    Q_EMIT message(tr("Exported %n digest(s) to %1", nullptr, m_digestsView->rowCount()).arg(path));
    return true;
}

} // namespace sg::ui
