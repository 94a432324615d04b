#pragma once
// The Queries tab of the selected route: what its MySQL or PostgreSQL clients ask and what
// fails, live (a choice between the two; a route that records PostgreSQL digests only opens on
// PostgreSQL). Digests (statements with their literals taken out, ProxySQL's
// stats_mysql_query_digest and stats_pgsql_query_digest) are
// sorted by total time, so the statement where the time goes is on top; a filter narrows them
// by statement, user, database or client; Reset empties both tables; Export writes the digests
// as CSV. Below, the errors the server answered (code, SQLSTATE, count, last message).
// Recording is the route's "mysql_digests" (or "postgres_digests") setting: the button turns it
// on or off through the ConfigStore, and it applies to the connections opened from then on.

#include "stats/sqlstats.h"

#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSortFilterProxyModel;
class QTableView;

namespace sg {

class ConfigStore;
class Engine;
struct Config;

namespace ui {

class DigestsModel;
class MySqlErrorsModel;

class QueriesPanel final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(QueriesPanel)

public:
    QueriesPanel(ConfigStore* store, Engine* engine, QWidget* parent = nullptr);

    QString routeId() const { return m_routeId; }
    void setRoute(const QString& routeId);
    void setConfig(const Config& config);
    // Reads the route's tables from the engine (the window's periodic refresh).
    void refresh();

    SqlProtocol protocol() const { return m_protocol; }
    void setProtocol(SqlProtocol protocol);
    bool recording() const { return m_recording; }
    // The actions behind the buttons; false (with the reason in message()) when nothing changed.
    bool setRecording(bool on);
    void reset();
    bool exportCsv(const QString& path);

    const DigestsModel* digests() const { return m_digests; }
    const MySqlErrorsModel* errors() const { return m_errors; }

Q_SIGNALS:
    // A line for the status bar: what was done, or why not.
    void message(const QString& text);

private:
    void updateState();
    QString protocolName() const;

    ConfigStore* m_store;
    Engine* m_engine;
    QString m_routeId;
    bool m_routeExists = false;
    SqlProtocol m_protocol = SqlProtocol::MySql;
    bool m_recording = false;
    quint64 m_droppedDigests = 0;
    QComboBox* m_protocolBox = nullptr;
    QLabel* m_state = nullptr;
    QPushButton* m_record = nullptr;
    QPushButton* m_reset = nullptr;
    QPushButton* m_export = nullptr;
    QLineEdit* m_filter = nullptr;
    DigestsModel* m_digests = nullptr;
    QSortFilterProxyModel* m_digestsView = nullptr;
    QTableView* m_digestsTable = nullptr;
    MySqlErrorsModel* m_errors = nullptr;
    QTableView* m_errorsTable = nullptr;
    QLabel* m_errorsTitle = nullptr;
};

} // namespace ui
} // namespace sg
