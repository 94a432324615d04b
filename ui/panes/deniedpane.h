#pragma once
// The Denied clients tab: refused connection attempts by client and route, newest first, each
// with an Allow button where allowing would let the client in. The tab's title counts them.

#include <QWidget>

class QSettings;
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

Q_SIGNALS:
    // The Allow button of a row.
    void allowRequested(const QString& ip, const QString& routeId);
    // "Denied clients (3)" as rows come and go.
    void titleChanged(const QString& title);

private:
    DeniedClientsModel* m_denied;
    QTableView* m_view;
};

} // namespace sg::ui
