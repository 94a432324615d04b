#include "panes/routespane.h"

#include "config/configstore.h"
#include "config/routeedits.h"
#include "configedit.h"
#include "delegates.h"
#include "emptystate.h"
#include "models/connectiontablemodel.h"
#include "models/roles.h"
#include "models/routesmodel.h"
#include "proxy/engine.h"
#include "viewstyle.h"

#include <QAction>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QToolBar>
#include <QTreeView>
#include <QVBoxLayout>

namespace sg::ui {

RoutesPane::RoutesPane(RoutesModel* routes, const ConnectionTableModel* connections,
                       ConfigStore* store, Engine* engine, QWidget* parent)
    : QWidget(parent), m_routes(routes), m_connections(connections), m_store(store),
      m_engine(engine)
{
    const QStyle* s = style();
    m_newAction = new QAction(themedIcon("list-add", s, QStyle::SP_FileDialogNewFolder),
                              tr("&New route"), this);
    m_newAction->setShortcut(QKeySequence::New);
    m_newAction->setToolTip(tr("Add a route (Ctrl+N)"));
    connect(m_newAction, &QAction::triggered, this, &RoutesPane::newRouteRequested);

    m_exposeAction = new QAction(themedIcon("network-server", s, QStyle::SP_DriveNetIcon),
                                 tr("&Expose a local service…"), this);
    m_exposeAction->setObjectName(QStringLiteral("exposeAction"));
    m_exposeAction->setIconText(tr("Expose"));
    m_exposeAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E));
    m_exposeAction->setToolTip(
        tr("Put a service of this machine behind Streamgate: a listener and a route in one step "
           "(Ctrl+Shift+E)"));
    connect(m_exposeAction, &QAction::triggered, this, &RoutesPane::exposeRequested);

    m_duplicateAction =
        new QAction(themedIcon("edit-copy", s, QStyle::SP_FileIcon), tr("D&uplicate route"), this);
    m_duplicateAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_D));
    connect(m_duplicateAction, &QAction::triggered, this, [this] {
        const QString id = selectedRouteId();
        if (!id.isEmpty())
            Q_EMIT duplicateRequested(id);
    });

    m_deleteAction =
        new QAction(themedIcon("list-remove", s, QStyle::SP_TrashIcon), tr("&Delete route…"), this);
    m_deleteAction->setShortcut(QKeySequence::Delete);
    m_deleteAction->setShortcutContext(Qt::WidgetShortcut);
    connect(m_deleteAction, &QAction::triggered, this, &RoutesPane::deleteSelectedRoute);

    m_enableAction = new QAction(tr("&Enabled"), this);
    m_enableAction->setCheckable(true);
    m_enableAction->setToolTip(tr("A disabled route is removed from the proxy but kept here"));
    connect(m_enableAction, &QAction::triggered, this, &RoutesPane::toggleSelectedRouteEnabled);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 0, 6);
    layout->setSpacing(4);
    auto* header = new QHBoxLayout;
    auto* title = new QLabel(tr("<b>Routes</b>"), this);
    title->setToolTip(tr("Tried top to bottom: the first route that matches a connection takes it. "
                         "Drag to reorder."));
    header->addWidget(title);
    header->addStretch();
    auto* bar = new QToolBar(this);
    bar->setIconSize(QSize(16, 16));
    // Icons where the desktop theme has them; short words otherwise (the style's stand-ins
    // for "add" and "delete" are folder and trash pictures that read wrong here).
    bar->setToolButtonStyle(QIcon::hasThemeIcon(QStringLiteral("list-add"))
                                ? Qt::ToolButtonIconOnly
                                : Qt::ToolButtonTextOnly);
    bar->addAction(m_newAction);
    bar->addAction(m_exposeAction);
    bar->addAction(m_duplicateAction);
    bar->addAction(m_deleteAction);
    header->addWidget(bar);
    layout->addLayout(header);

    m_view = new QTreeView(this);
    m_view->setObjectName(QStringLiteral("routesView"));
    m_view->setModel(m_routes);
    m_view->setRootIsDecorated(false);
    m_view->setUniformRowHeights(true);
    m_view->setAlternatingRowColors(true);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setDragEnabled(true);
    m_view->setAcceptDrops(true);
    m_view->setDropIndicatorShown(true);
    m_view->setDragDropMode(QAbstractItemView::InternalMove);
    m_view->setDefaultDropAction(Qt::MoveAction);
    m_view->setItemDelegateForColumn(RoutesModel::StatusColumn, new StatusDotDelegate(m_view));
    m_view->header()->setStretchLastSection(true);
    m_view->header()->resizeSection(RoutesModel::NameColumn, 120);
    m_view->header()->resizeSection(RoutesModel::StatusColumn, 95);
    m_view->header()->resizeSection(RoutesModel::ProtoColumn, 45);
    m_view->header()->resizeSection(RoutesModel::ListenColumn, 120);
    m_view->setContextMenuPolicy(Qt::CustomContextMenu);
    m_view->addAction(m_deleteAction);
    connect(m_view, &QWidget::customContextMenuRequested, this, [this](const QPoint& pos) {
        QMenu menu(this);
        menu.addAction(m_newAction);
        menu.addAction(m_exposeAction);
        menu.addAction(m_duplicateAction);
        menu.addAction(m_enableAction);
        menu.addSeparator();
        menu.addAction(m_deleteAction);
        menu.exec(m_view->viewport()->mapToGlobal(pos));
    });
    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &RoutesPane::currentRouteChanged);
    connect(m_view, &QTreeView::doubleClicked, this, &RoutesPane::editRequested);
    layout->addWidget(m_view, 1);
    auto* empty = new EmptyState(m_view);
    empty->setText(tr("No routes yet. A route takes the connections of a listening port to "
                      "an upstream server: your database, a web service, a game server."));
    empty->setAction(m_newAction, tr("Add a route…"));

    connect(m_routes, &RoutesModel::moveRequested, this, [this](const QString& id, int index) {
        const Problems problems = m_store->moveRoute(id, index);
        if (!problems.isEmpty())
            QMessageBox::warning(this, tr("Cannot move the route"), formatProblems(problems));
        selectRoute(id);
    });
}

QString RoutesPane::selectedRouteId() const
{
    const QModelIndex current = m_view->currentIndex();
    return current.isValid() ? current.data(RouteIdRole).toString() : QString();
}

void RoutesPane::selectRoute(const QString& id)
{
    const int row = m_routes->rowOfRoute(id);
    if (row < 0)
        return;
    m_view->setCurrentIndex(m_routes->index(row, 0));
}

void RoutesPane::selectFirstRoute()
{
    if (m_routes->rowCount() > 0 && !m_view->currentIndex().isValid())
        m_view->setCurrentIndex(m_routes->index(0, 0));
}

void RoutesPane::reselect(const QString& previous)
{
    if (!previous.isEmpty() && m_routes->rowOfRoute(previous) < 0 && m_routes->rowCount() > 0)
        m_view->setCurrentIndex(m_routes->index(0, 0));
}

void RoutesPane::updateActions()
{
    const int row = m_routes->rowOfRoute(selectedRouteId());
    const bool has = row >= 0 && m_store;
    m_duplicateAction->setEnabled(has && m_routes->rowAt(row).enabled);
    m_deleteAction->setEnabled(has);
    m_enableAction->setEnabled(has);
    m_enableAction->setChecked(has && m_routes->rowAt(row).enabled);
    m_newAction->setEnabled(m_store != nullptr);
    m_exposeAction->setEnabled(m_store != nullptr);
}

void RoutesPane::deleteSelectedRoute()
{
    const QString id = selectedRouteId();
    const int row = m_routes->rowOfRoute(id);
    if (row < 0)
        return;
    const RoutesModel::Row& r = m_routes->rowAt(row);
    int open = 0;
    for (int i = 0; i < m_connections->rowCount(); ++i)
        open +=
            (!m_connections->isClosedAt(i) && m_connections->connectionAt(i).routeId == id) ? 1 : 0;
    QString text = tr("Delete the route \"%1\"?").arg(r.name);
    if (open > 0)
        text += QLatin1Char('\n') + tr("Its %n open connection(s) will be closed.", nullptr, open);
    QMessageBox box(QMessageBox::Question, tr("Delete route"), text, QMessageBox::Cancel, this);
    QPushButton* del = box.addButton(tr("Delete"), QMessageBox::DestructiveRole);
    box.setDefaultButton(QMessageBox::Cancel);
    box.exec();
    if (box.clickedButton() != del)
        return;
    const bool enabled = r.enabled;
    const QString name = r.name; // the model's rows change with the config
    const auto edit = [&](const Config& config) {
        return enabled ? withRouteDeleted(config, id) : withDisabledRouteRemoved(config, id);
    };
    if (commitConfigEdit(m_store, edit, this, tr("Cannot delete the route"))) {
        if (m_engine && enabled)
            m_engine->killRoute(id);
        Q_EMIT routeDeleted(id);
        Q_EMIT message(tr("Deleted %1").arg(name), 5000);
    }
}

void RoutesPane::toggleSelectedRouteEnabled()
{
    const QString id = selectedRouteId();
    const int row = m_routes->rowOfRoute(id);
    if (row < 0 || !m_store)
        return;
    const bool enabled = m_routes->rowAt(row).enabled;
    const auto edit = [&](const Config& config) {
        return enabled ? withRouteDisabled(config, id) : withRouteEnabled(config, id);
    };
    if (commitConfigEdit(m_store, edit, this,
                         enabled ? tr("Cannot disable the route")
                                 : tr("Cannot enable the route"))) {
        selectRoute(id);
        Q_EMIT routeToggled(id);
    }
    updateActions();
}

void RoutesPane::restoreSettings(const QSettings& settings)
{
    m_view->header()->restoreState(settings.value(QStringLiteral("routes/header")).toByteArray());
}

void RoutesPane::saveSettings(QSettings& settings) const
{
    settings.setValue(QStringLiteral("routes/header"), m_view->header()->saveState());
}

} // namespace sg::ui
