#pragma once
// "Expose a local service…": puts a service of this machine behind Streamgate in one step. The
// user gives the local port (the dialog says, as they type, which program listens there), takes
// the free public port it suggests or types another (one in use is refused naming the program
// or the route that holds it), and chooses who may connect: only this machine, the machine's
// networks, or given addresses. Done adds the TCP (or UDP) listener and the stream route with its
// upstream and ip-restriction whitelist as one validated config change, through the store, as
// the route form saves. Ports are looked up on PortLookup's thread, never on the GUI thread,
// a moment after the typing stops.

#include "stats/socketowner.h"

#include <QDialog>
#include <QSet>

class QLabel;
class QLineEdit;
class QPushButton;
class QRadioButton;
class QTimer;

namespace sg {

class ConfigStore;
class PortLookup;
struct Config;

namespace ui {

class ExposeDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ExposeDialog)

public:
    explicit ExposeDialog(ConfigStore* store, QWidget* parent = nullptr);
    ~ExposeDialog() override;

    // How long the dialog waits after a keystroke before it looks a port up.
    static constexpr int kTypingPauseMs = 250;

    // What in the config already uses `port` for a new listener of `protocol`: "route Local
    // MySQL (mysql)", "listener stream_proxy.tcp[1] (127.0.0.1:2000-2100)"; empty when nothing
    // does.
    static QString configUseOf(const Config& config, Protocol protocol, int port);
    // The ports of the config a new listener must not take (routes' server_port, listeners of
    // both protocols, disabled routes' listeners).
    static QSet<quint16> configPorts(const Config& config);
    // The subnets of this machine's interfaces that are up ("192.168.1.0/24"), loopback and
    // link-local left out.
    static QStringList networkSubnets();

    // The whitelist Done gives the route, as chosen now (empty when the choice is not valid).
    QStringList whitelist() const;
    // The id of the route Done created (empty before).
    QString createdRouteId() const { return m_createdId; }

public Q_SLOTS:
    // Creates the listener and the route; false (the reason in the dialog) when refused.
    bool create();

Q_SIGNALS:
    void exposed(const QString& routeId, const QString& text);

private:
    enum class PortState { Invalid, Checking, Free, Taken };

    void onLocalEdited();
    void onPublicEdited();
    void lookUpLocal();
    void lookUpPublic();
    void onListenersFound(quint64 ticket, quint16 port,
                          const QList<SocketOwnerFinder::Listening>& listeners);
    void onFreePortFound(quint64 ticket, quint16 port);
    void suggestPublicPort();
    void validateAddresses();
    void updateState();
    Protocol protocol() const;
    int localPort() const;
    int publicPort() const;
    // The host the upstream node names: where the local service accepts loopback clients.
    QString upstreamHost() const;
    QString program() const; // "mysqld" of the local port's holder, empty when none
    QString defaultName() const;

    ConfigStore* m_store;
    PortLookup* m_lookup;
    QTimer* m_localTimer;
    QTimer* m_publicTimer;
    quint64 m_localTicket = 0;
    quint64 m_publicTicket = 0;
    quint64 m_suggestTicket = 0;

    int m_localLooked = 0; // the local port the listeners are of (0: none yet)
    QList<SocketOwnerFinder::Listening> m_localListeners;
    PortState m_publicState = PortState::Invalid;
    bool m_publicEdited = false; // the user typed a public port: suggestions stop
    bool m_nameEdited = false;
    QString m_addressError;
    QStringList m_subnets;
    QString m_createdId;

    QRadioButton* m_tcp = nullptr;
    QRadioButton* m_udp = nullptr;
    QLineEdit* m_localEdit = nullptr;
    QLabel* m_localStatus = nullptr;
    QLabel* m_localError = nullptr;
    QLineEdit* m_publicEdit = nullptr;
    QLabel* m_publicStatus = nullptr;
    QLabel* m_publicError = nullptr;
    QRadioButton* m_onlyMe = nullptr;
    QRadioButton* m_myNetwork = nullptr;
    QRadioButton* m_theseAddresses = nullptr;
    QLabel* m_networkLabel = nullptr;
    QLineEdit* m_addressesEdit = nullptr;
    QLabel* m_addressesError = nullptr;
    QLineEdit* m_nameEdit = nullptr;
    QLabel* m_summary = nullptr;
    QLabel* m_error = nullptr;
    QPushButton* m_done = nullptr;
};

} // namespace ui
} // namespace sg
