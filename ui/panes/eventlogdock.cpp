#include "panes/eventlogdock.h"

#include "delegates.h"
#include "models/eventlogmodel.h"
#include "viewstyle.h"

#include <QAction>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLineEdit>
#include <QScrollBar>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

namespace sg::ui {

namespace {

// The event log filter: a kind group and free text over every column.
class EventLogFilter final : public QSortFilterProxyModel
{
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;
    void setKinds(const QList<EventKind>& kinds)
    {
        m_kinds = kinds;
        invalidateRowsFilter();
    }
    void setText(const QString& text)
    {
        m_text = text.trimmed();
        invalidateRowsFilter();
    }

protected:
    bool filterAcceptsRow(int row, const QModelIndex& parent) const override
    {
        const auto* model = static_cast<const EventLogModel*>(sourceModel());
        if (!m_kinds.isEmpty() && !m_kinds.contains(model->eventAt(row).kind))
            return false;
        if (m_text.isEmpty())
            return true;
        for (int c = 0; c < EventLogModel::ColumnCount; ++c) {
            if (model->index(row, c, parent)
                    .data()
                    .toString()
                    .contains(m_text, Qt::CaseInsensitive))
                return true;
        }
        return false;
    }

private:
    QList<EventKind> m_kinds;
    QString m_text;
};

} // namespace

EventLogDock::EventLogDock(EventLogModel* events, QWidget* parent)
    : QDockWidget(tr("Event log"), parent)
{
    setObjectName(QStringLiteral("eventDock"));
    auto* box = new QWidget(this);
    auto* layout = new QVBoxLayout(box);
    layout->setContentsMargins(6, 4, 6, 4);
    layout->setSpacing(4);
    auto* bar = new QHBoxLayout;
    auto* filterEdit = new QLineEdit(box);
    filterEdit->setObjectName(QStringLiteral("eventFilterEdit"));
    filterEdit->setPlaceholderText(tr("Filter events"));
    filterEdit->setClearButtonEnabled(true);
    auto* kinds = new QComboBox(box);
    kinds->setObjectName(QStringLiteral("eventKindCombo"));
    kinds->addItem(tr("All events"));
    kinds->addItem(tr("Connections (open / close)"));
    kinds->addItem(tr("Refusals"));
    kinds->addItem(tr("Upstream nodes"));
    kinds->addItem(tr("Listeners"));
    bar->addWidget(filterEdit, 1);
    bar->addWidget(kinds);
    layout->addLayout(bar);
    m_view = new QTableView(box);
    m_view->setObjectName(QStringLiteral("eventView"));
    setupTable(m_view);
    auto* filter = new EventLogFilter(this);
    filter->setSourceModel(events);
    m_view->setModel(filter);
    m_view->setItemDelegateForColumn(EventLogModel::KindColumn, new StatusDotDelegate(m_view));
    m_view->horizontalHeader()->resizeSection(EventLogModel::TimeColumn, 75);
    m_view->horizontalHeader()->resizeSection(EventLogModel::KindColumn, 120);
    m_view->horizontalHeader()->resizeSection(EventLogModel::RouteColumn, 130);
    connect(filterEdit, &QLineEdit::textChanged, this,
            [filter](const QString& t) { filter->setText(t); });
    connect(kinds, &QComboBox::currentIndexChanged, this, [filter](int index) {
        static const QList<QList<EventKind>> groups{
            {},
            {EventKind::Open, EventKind::Close},
            {EventKind::Deny},
            {EventKind::NodeUp, EventKind::NodeDown},
            {EventKind::ListenerUp, EventKind::ListenerError}};
        filter->setKinds(groups.value(index));
    });
    // Follow the tail unless the user scrolled up to read.
    connect(events, &QAbstractItemModel::rowsAboutToBeInserted, this, [this] {
        QScrollBar* bar = m_view->verticalScrollBar();
        m_follow = bar->value() >= bar->maximum() - 2;
    });
    connect(events, &QAbstractItemModel::rowsInserted, this, [this] {
        if (m_follow)
            QTimer::singleShot(0, m_view, &QTableView::scrollToBottom);
    });
    layout->addWidget(m_view, 1);
    setWidget(box);
    toggleViewAction()->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_L));
}

} // namespace sg::ui
