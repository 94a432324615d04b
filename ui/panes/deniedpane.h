#pragma once
// The Denied clients tab: refused connection attempts by client and route, newest first, each
// with an Allow button where allowing would let the client in, or what the client may do now
// once it is allowed. Allow (a click, or Enter on the row) opens the choice of how long: once,
// for 1 hour, until Streamgate quits, always. The tab's title counts them.

#include "accesscontroller.h"

#include <QWidget>

class QMenu;
class QModelIndex;
class QSettings;
class QSortFilterProxyModel;
class QTableView;

namespace sg::ui {

class DeniedClientsModel;

class DeniedPane final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DeniedPane)

public:
    explicit DeniedPane(DeniedClientsModel* denied, QWidget* parent = nullptr);

    void restoreSettings(const QSettings& settings);
    void saveSettings(QSettings& settings) const;

    QTableView* view() const { return m_view; }
    // The choice of durations for the row (a proxy index of view()), at the row's Allow cell;
    // nullptr when the row's client cannot be allowed. Shown without waiting (QMenu::popup).
    QMenu* popupAllowMenu(const QModelIndex& index);

Q_SIGNALS:
    // A duration chosen for a row's client.
    void allowRequested(const QString& ip, const QString& routeId, sg::ui::AllowDuration duration);
    // "Denied clients (3)" as rows come and go.
    void titleChanged(const QString& title);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    DeniedClientsModel* m_denied;
    QSortFilterProxyModel* m_sorted;
    QTableView* m_view;
};

} // namespace sg::ui
