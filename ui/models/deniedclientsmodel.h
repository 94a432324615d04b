#pragma once
// Refused attempts grouped by client IP and route, as the engine's snapshots report them.
// Who the client is (its host name, the program on this machine) is the latest refusal's.
// The first time a (client IP, route) pair appears, firstRefusal() fires once, so the window
// can offer to allow that client; once more after announceAgain() (its timed access ended) at
// its next refusal. Rows are diffed by key, never reset.

#include "models/keyedtablemodel.h"
#include "stats/snapshot.h"

#include <QSet>
#include <functional>

namespace sg::ui {

struct DeniedRow
{
    DeniedClient denied;
    QString routeName;
    QString access; // "Allowed", "Allowed (52 min left)": the client may connect now
    QString key() const { return denied.clientIp + QLatin1Char('\n') + denied.routeId; }
    bool operator==(const DeniedRow& o) const
    {
        return routeName == o.routeName && access == o.access && denied.count == o.denied.count &&
               denied.lastSeenMs == o.denied.lastSeenMs && denied.reason == o.denied.reason &&
               denied.listener == o.denied.listener &&
               denied.clientProcess == o.denied.clientProcess &&
               denied.clientHost == o.denied.clientHost;
    }
};

class DeniedClientsModel final : public KeyedTableModel<DeniedRow>
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DeniedClientsModel)

public:
    enum Column {
        ClientColumn,  // the address, with its host name once a reverse lookup found one
        ProgramColumn, // the program on this machine that made the latest refused attempt
        RouteColumn,
        ListenerColumn,
        ReasonColumn,
        CountColumn,
        FirstSeenColumn,
        LastSeenColumn,
        ActionColumn,
        ColumnCount
    };
    Q_ENUM(Column)

    explicit DeniedClientsModel(QObject* parent = nullptr);

    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    void applySnapshot(const Snapshot& snapshot);
    void setRouteNames(const QHash<QString, QString>& names);
    // What a client may do now on a route: empty while it is refused, else the words the row
    // shows in place of its Allow button ("Allowed (52 min left)"). Asked at each snapshot.
    using AccessText = std::function<QString(const QString& ip, const QString& routeId)>;
    void setAccessText(const AccessText& text);
    // Asks again (the config or a remaining time changed).
    void refreshAccess();
    // The client's next refusal on the route fires firstRefusal() again (its timed access
    // ended: the user is asked anew). Refusals counted before the call do not.
    void announceAgain(const QString& ip, const QString& routeId);
    // True when adding the client to its route's allow-list would let it in (and it is not
    // allowed already).
    bool canAllow(int row) const;

Q_SIGNALS:
    void firstRefusal(const sg::DeniedClient& denied);

private:
    QList<DeniedClient> m_last;
    QHash<QString, QString> m_routeNames;
    QSet<QString> m_notified;
    QHash<QString, quint64> m_againAfter; // key -> the count of refusals when announceAgain()
    AccessText m_accessText;
};

} // namespace sg::ui
