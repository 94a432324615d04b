#include "exposedialog.h"

#include "config/configstore.h"
#include "config/routeedits.h"
#include "model/codec.h"
#include "routeeditor/formparts.h"
#include "stats/portlookup.h"

#include <QButtonGroup>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QNetworkInterface>
#include <QPushButton>
#include <QRadioButton>
#include <QRegularExpression>
#include <QTimer>
#include <QVBoxLayout>

namespace sg::ui {

namespace {

constexpr int kPortOffset = 10000; // 3306 is suggested 13306 first, as the example route does

// "127.0.0.1:3306", "[::1]:3306"
QString endpoint(const QHostAddress& address, int port)
{
    const QString host = address.protocol() == QAbstractSocket::IPv6Protocol
                             ? QStringLiteral("[%1]").arg(address.toString())
                             : address.toString();
    return QStringLiteral("%1:%2").arg(host).arg(port);
}

// "mysqld (pid 812)", or why the program is not known ("another user's process (postgres,
// uid 112)").
QString holderText(const ClientProcess& process)
{
    if (process.pid != 0)
        return QStringLiteral("%1 (pid %2)").arg(process.name).arg(process.pid);
    if (process.unknown.startsWith(QLatin1String("another user's process")))
        return process.unknown;
    return QStringLiteral("a program Streamgate cannot see (%1)").arg(process.unknown);
}

// The network of `address` with `prefix` bits: 192.168.1.23/24 -> 192.168.1.0.
QHostAddress networkOf(const QHostAddress& address, int prefix)
{
    if (address.protocol() == QAbstractSocket::IPv4Protocol) {
        const quint32 mask = prefix <= 0 ? 0 : ~quint32(0) << (32 - qMin(prefix, 32));
        return QHostAddress(address.toIPv4Address() & mask);
    }
    Q_IPV6ADDR bytes = address.toIPv6Address();
    for (int bit = qMax(prefix, 0); bit < 128; ++bit)
        bytes.c[bit / 8] = quint8(bytes.c[bit / 8] & ~(0x80 >> (bit % 8)));
    return QHostAddress(bytes);
}

// Why the core refuses `entry` in an ip-restriction whitelist (its words, as the config file
// and the admin API would say it); empty when it is valid.
QString whitelistEntryError(const QString& entry)
{
    const QJsonObject probe{
        {QStringLiteral("plugins"),
         QJsonObject{{QStringLiteral("ip-restriction"),
                      QJsonObject{{QStringLiteral("whitelist"), QJsonArray{entry}}}}}}};
    for (const Problem& p : decodeStreamRoute(probe, QString(), DecodeMode::Client).problems) {
        if (p.path.contains(QLatin1String("whitelist")))
            return p.reason;
    }
    return {};
}

QStringList splitAddresses(const QString& text)
{
    static const QRegularExpression separators(QStringLiteral("[\\s,;]+"));
    return text.split(separators, Qt::SkipEmptyParts);
}

} // namespace

ExposeDialog::ExposeDialog(ConfigStore* store, QWidget* parent)
    : QDialog(parent), m_store(store), m_lookup(new PortLookup(this)),
      m_localTimer(new QTimer(this)), m_publicTimer(new QTimer(this)), m_subnets(networkSubnets())
{
    setObjectName(QStringLiteral("exposeDialog"));
    setWindowTitle(tr("Expose a local service"));
    for (QTimer* t : {m_localTimer, m_publicTimer}) {
        t->setSingleShot(true);
        t->setInterval(kTypingPauseMs);
    }
    connect(m_localTimer, &QTimer::timeout, this, &ExposeDialog::lookUpLocal);
    connect(m_publicTimer, &QTimer::timeout, this, &ExposeDialog::lookUpPublic);
    connect(m_lookup, &PortLookup::listenersFound, this, &ExposeDialog::onListenersFound);
    connect(m_lookup, &PortLookup::freePortFound, this, &ExposeDialog::onFreePortFound);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(makeHint(tr("Put a service of this machine behind Streamgate: a listener "
                                  "on the public port and a route to the local port are "
                                  "created together."),
                               this));
    auto* form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);

    const auto portEdit = [this](const char* name, const QString& placeholder) {
        auto* edit = new QLineEdit(this);
        edit->setObjectName(QLatin1String(name));
        edit->setPlaceholderText(placeholder);
        edit->setMaxLength(5);
        return edit;
    };
    auto* protocols = new QHBoxLayout;
    auto* protocolGroup = new QButtonGroup(this);
    m_tcp = new QRadioButton(tr("T&CP"), this);
    m_tcp->setObjectName(QStringLiteral("tcpRadio"));
    m_udp = new QRadioButton(tr("&UDP"), this);
    m_udp->setObjectName(QStringLiteral("udpRadio"));
    m_tcp->setChecked(true);
    protocolGroup->addButton(m_tcp);
    protocolGroup->addButton(m_udp);
    protocols->addWidget(m_tcp);
    protocols->addWidget(m_udp);
    protocols->addStretch();
    form->addRow(tr("Protocol:"), protocols);

    auto* local = new QVBoxLayout;
    m_localEdit = portEdit("localPortEdit", tr("e.g. 3306"));
    m_localStatus = makeHint(tr("The port the service listens on, on this machine."), this);
    m_localStatus->setObjectName(QStringLiteral("localPortStatus"));
    m_localStatus->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_localError = makeErrorLabel(this);
    m_localError->setObjectName(QStringLiteral("localPortError"));
    local->addWidget(m_localEdit);
    local->addWidget(m_localStatus);
    local->addWidget(m_localError);
    const auto buddyLabel = [this](const QString& text, QWidget* buddy) {
        auto* label = new QLabel(text, this); // a row of several widgets gets no buddy itself
        label->setBuddy(buddy);
        return label;
    };
    form->addRow(buddyLabel(tr("&Local port:"), m_localEdit), local);

    auto* pub = new QVBoxLayout;
    m_publicEdit = portEdit("publicPortEdit", tr("suggested once the local port is known"));
    m_publicStatus = makeHint(QString(), this);
    m_publicStatus->setObjectName(QStringLiteral("publicPortStatus"));
    m_publicError = makeErrorLabel(this);
    m_publicError->setObjectName(QStringLiteral("publicPortError"));
    pub->addWidget(m_publicEdit);
    pub->addWidget(m_publicStatus);
    pub->addWidget(m_publicError);
    form->addRow(buddyLabel(tr("&Public port:"), m_publicEdit), pub);

    auto* who = new QVBoxLayout;
    auto* group = new QButtonGroup(this);
    m_onlyMe = new QRadioButton(tr("&Only me: this machine (127.0.0.1)"), this);
    m_onlyMe->setObjectName(QStringLiteral("onlyMeRadio"));
    m_onlyMe->setToolTip(tr("The public port listens on 127.0.0.1 only, and only 127.0.0.1 may "
                            "connect: nothing on the network reaches it"));
    m_myNetwork = new QRadioButton(tr("My &network"), this);
    m_myNetwork->setObjectName(QStringLiteral("myNetworkRadio"));
    m_networkLabel = makeHint(
        m_subnets.isEmpty() ? tr("No network interface of this machine is up: only this machine.")
                            : tr("This machine and %1").arg(m_subnets.join(QStringLiteral(", "))),
        this);
    m_networkLabel->setObjectName(QStringLiteral("networkLabel"));
    m_networkLabel->setIndent(20);
    m_networkLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_theseAddresses = new QRadioButton(tr("&These addresses (and this machine):"), this);
    m_theseAddresses->setObjectName(QStringLiteral("theseAddressesRadio"));
    m_addressesEdit = new QLineEdit(this);
    m_addressesEdit->setObjectName(QStringLiteral("addressesEdit"));
    m_addressesEdit->setPlaceholderText(tr("IPs or CIDRs: 192.168.1.20, 10.0.0.0/24, fd00::/8"));
    m_addressesError = makeErrorLabel(this);
    m_addressesError->setObjectName(QStringLiteral("addressesError"));
    for (QRadioButton* b : {m_onlyMe, m_myNetwork, m_theseAddresses})
        group->addButton(b);
    m_onlyMe->setChecked(true);
    who->addWidget(m_onlyMe);
    who->addWidget(m_myNetwork);
    who->addWidget(m_networkLabel);
    who->addWidget(m_theseAddresses);
    who->addWidget(m_addressesEdit);
    who->addWidget(m_addressesError);
    form->addRow(tr("Who may connect:"), who);

    m_nameEdit = new QLineEdit(this);
    m_nameEdit->setObjectName(QStringLiteral("exposeNameEdit"));
    m_nameEdit->setMaxLength(256);
    form->addRow(tr("N&ame:"), m_nameEdit);
    layout->addLayout(form);

    m_summary = makeHint(QString(), this);
    m_summary->setObjectName(QStringLiteral("exposeSummary"));
    layout->addWidget(m_summary);
    m_error = makeErrorLabel(this);
    m_error->setObjectName(QStringLiteral("exposeError"));
    layout->addWidget(m_error);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_done = buttons->button(QDialogButtonBox::Ok);
    m_done->setText(tr("&Done"));
    m_done->setObjectName(QStringLiteral("exposeDoneButton"));
    connect(buttons, &QDialogButtonBox::accepted, this, &ExposeDialog::create);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);

    // Another protocol: both ports are looked up again (its sockets are other ones).
    connect(m_udp, &QRadioButton::toggled, this, [this] {
        onLocalEdited();
        if (m_publicEdited)
            onPublicEdited();
    });
    connect(m_localEdit, &QLineEdit::textEdited, this, &ExposeDialog::onLocalEdited);
    connect(m_publicEdit, &QLineEdit::textEdited, this, &ExposeDialog::onPublicEdited);
    connect(m_nameEdit, &QLineEdit::textEdited, this,
            [this](const QString& text) { m_nameEdited = !text.trimmed().isEmpty(); });
    connect(m_nameEdit, &QLineEdit::textChanged, this, &ExposeDialog::updateState);
    connect(group, &QButtonGroup::buttonToggled, this, [this] {
        m_addressesEdit->setEnabled(m_theseAddresses->isChecked());
        validateAddresses();
        if (m_theseAddresses->isChecked())
            m_addressesEdit->setFocus();
    });
    connect(m_addressesEdit, &QLineEdit::textChanged, this, &ExposeDialog::validateAddresses);
    m_addressesEdit->setEnabled(false);
    m_localEdit->setFocus();
    setMinimumWidth(520);
    updateState();
}

ExposeDialog::~ExposeDialog() = default;

// ---- what the config and the machine use ------------------------------------------------

QString ExposeDialog::configUseOf(const Config& config, Protocol protocol, int port)
{
    const auto routeText = [](const StreamRoute& r, bool disabled) {
        const QString kind = disabled ? tr("disabled route") : tr("route");
        return r.name.isEmpty() ? QStringLiteral("%1 %2").arg(kind, r.idString())
                                : QStringLiteral("%1 %2 (%3)").arg(kind, r.name, r.idString());
    };
    // A route on the port would take the new listener's connections (or be taken by it).
    for (const StreamRoute& r : config.streamRoutes) {
        if (r.serverPort == port)
            return routeText(r, false);
    }
    for (const DisabledRoute& d : disabledRoutes(config)) {
        if (d.route.serverPort == port || (d.listen && d.listen->port == port))
            return routeText(d.route, true);
    }
    const bool tcp = protocol == Protocol::Tcp;
    const QList<ListenEntry>& entries = tcp ? config.streamProxy.tcp : config.streamProxy.udp;
    for (int i = 0; i < entries.size(); ++i) {
        if (entries.at(i).hasPort(port))
            return tr("listener stream_proxy.%1[%2] (%3)")
                .arg(tcp ? QStringLiteral("tcp") : QStringLiteral("udp"))
                .arg(i)
                .arg(entries.at(i).text());
    }
    return {};
}

QSet<quint16> ExposeDialog::configPorts(const Config& config)
{
    QSet<quint16> out;
    for (const StreamRoute& r : config.streamRoutes) {
        if (r.serverPort)
            out.insert(quint16(*r.serverPort));
    }
    for (const DisabledRoute& d : disabledRoutes(config)) {
        if (d.route.serverPort)
            out.insert(quint16(*d.route.serverPort));
        if (d.listen)
            out.insert(quint16(d.listen->port));
    }
    for (const ListenEntry& e : singlePorts(config.streamProxy.tcp + config.streamProxy.udp))
        out.insert(quint16(e.port));
    return out;
}

QStringList ExposeDialog::networkSubnets()
{
    QStringList out;
    for (const QNetworkInterface& i : QNetworkInterface::allInterfaces()) {
        const auto flags = i.flags();
        if (!flags.testFlag(QNetworkInterface::IsUp) ||
            !flags.testFlag(QNetworkInterface::IsRunning) ||
            flags.testFlag(QNetworkInterface::IsLoopBack))
            continue;
        for (const QNetworkAddressEntry& e : i.addressEntries()) {
            QHostAddress ip = e.ip();
            if (ip.isLoopback() || ip.isLinkLocal() || e.prefixLength() < 0 ||
                ip.protocol() == QAbstractSocket::UnknownNetworkLayerProtocol)
                continue;
            ip.setScopeId(QString());
            const QString subnet = QStringLiteral("%1/%2").arg(
                networkOf(ip, e.prefixLength()).toString(), QString::number(e.prefixLength()));
            if (!out.contains(subnet))
                out << subnet;
        }
    }
    return out;
}

// ---- typing and looking up --------------------------------------------------------------

Protocol ExposeDialog::protocol() const
{
    return m_udp->isChecked() ? Protocol::Udp : Protocol::Tcp;
}

int ExposeDialog::localPort() const
{
    bool ok = false;
    const int port = m_localEdit->text().trimmed().toInt(&ok);
    return ok && port >= 1 && port <= 65535 ? port : 0;
}

int ExposeDialog::publicPort() const
{
    bool ok = false;
    const int port = m_publicEdit->text().trimmed().toInt(&ok);
    return ok && port >= 1 && port <= 65535 ? port : 0;
}

void ExposeDialog::onLocalEdited()
{
    m_localLooked = 0;
    m_localListeners.clear();
    m_localError->hide();
    const QString text = m_localEdit->text().trimmed();
    if (localPort() == 0) {
        m_localTimer->stop();
        m_localStatus->setText(tr("The port the service listens on, on this machine."));
        if (!text.isEmpty()) {
            m_localError->setText(
                tr("local port: \"%1\" is not a port (a number 1-65535)").arg(text));
            m_localError->show();
        }
    } else {
        m_localStatus->setText(tr("Looking for what listens on port %1…").arg(localPort()));
        m_localTimer->start();
    }
    updateState();
}

void ExposeDialog::lookUpLocal()
{
    if (const int port = localPort()) {
        m_localTicket = m_lookup->findListeners(protocol(), quint16(port));
        if (!m_publicEdited)
            suggestPublicPort();
    }
}

void ExposeDialog::suggestPublicPort()
{
    const int local = localPort();
    if (local == 0 || !m_store)
        return;
    QSet<quint16> taken = configPorts(m_store->config());
    taken.insert(quint16(local));
    const int from = local + kPortOffset <= 65535 ? local + kPortOffset : kPortOffset;
    m_suggestTicket = m_lookup->findFreePort(protocol(), quint16(from), taken);
    m_publicState = PortState::Checking;
    m_publicStatus->setText(tr("Looking for a free port…"));
    m_publicError->hide();
    updateState();
}

void ExposeDialog::onPublicEdited()
{
    m_publicTimer->stop();
    m_publicError->hide();
    const QString text = m_publicEdit->text().trimmed();
    m_publicEdited = !text.isEmpty();
    if (!m_publicEdited) { // cleared: a suggestion again
        m_publicState = PortState::Invalid;
        m_publicStatus->clear();
        suggestPublicPort();
        updateState();
        return;
    }
    const int port = publicPort();
    if (port == 0) {
        m_publicState = PortState::Invalid;
        m_publicStatus->clear();
        m_publicError->setText(
            tr("public port: \"%1\" is not a port (a number 1-65535)").arg(text));
        m_publicError->show();
    } else if (const QString use =
                   m_store ? configUseOf(m_store->config(), protocol(), port) : QString();
               !use.isEmpty()) {
        m_publicState = PortState::Taken;
        m_publicStatus->clear();
        m_publicError->setText(tr("port %1 is used by %2").arg(port).arg(use));
        m_publicError->show();
    } else {
        m_publicState = PortState::Checking;
        m_publicStatus->setText(tr("Checking port %1…").arg(port));
        m_publicTimer->start();
    }
    updateState();
}

void ExposeDialog::lookUpPublic()
{
    if (const int port = publicPort())
        m_publicTicket = m_lookup->findListeners(protocol(), quint16(port));
}

void ExposeDialog::onListenersFound(quint64 ticket, quint16 port,
                                    const QList<SocketOwnerFinder::Listening>& listeners)
{
    if (ticket == m_localTicket && port == localPort()) {
        m_localLooked = port;
        m_localListeners = listeners;
        if (listeners.isEmpty()) {
            m_localStatus->setText(
                tr("Nothing listens on port %1 on this machine yet: the route is created all "
                   "the same, and its clients are turned away until the service runs.")
                    .arg(port));
        } else {
            QStringList holders;
            QStringList where;
            for (const SocketOwnerFinder::Listening& l : listeners) {
                const QString holder = holderText(l.process);
                if (!holders.contains(holder))
                    holders << holder;
                where << endpoint(l.address, l.port);
            }
            m_localStatus->setText(
                tr("%1 listens on %2")
                    .arg(holders.join(QStringLiteral(", ")), where.join(QStringLiteral(", "))));
        }
        if (!m_nameEdited)
            m_nameEdit->setText(defaultName());
    }
    if (ticket == m_publicTicket && port == publicPort()) {
        const QString use = m_store ? configUseOf(m_store->config(), protocol(), port) : QString();
        if (!use.isEmpty()) {
            m_publicState = PortState::Taken;
            m_publicError->setText(tr("port %1 is used by %2").arg(port).arg(use));
        } else if (!listeners.isEmpty()) {
            m_publicState = PortState::Taken;
            m_publicError->setText(tr("port %1 is in use by %2")
                                       .arg(port)
                                       .arg(holderText(listeners.constFirst().process)));
        } else {
            m_publicState = PortState::Free;
            m_publicStatus->setText(tr("Free: nothing listens on it and no route uses it."));
        }
        if (m_publicState == PortState::Taken) {
            m_publicStatus->clear();
            m_publicError->show();
        }
    }
    updateState();
}

void ExposeDialog::onFreePortFound(quint64 ticket, quint16 port)
{
    if (ticket != m_suggestTicket || m_publicEdited)
        return;
    if (port == 0) {
        m_publicState = PortState::Invalid;
        m_publicStatus->setText(tr("No free port was found: type one."));
    } else {
        m_publicEdit->setText(QString::number(port));
        m_publicState = PortState::Free;
        m_publicStatus->setText(tr("Suggested: nothing listens on it and no route uses it."));
    }
    updateState();
}

void ExposeDialog::validateAddresses()
{
    m_addressError.clear();
    if (m_theseAddresses->isChecked()) {
        const QStringList entries = splitAddresses(m_addressesEdit->text());
        for (const QString& entry : entries) {
            const QString why = whitelistEntryError(entry);
            if (!why.isEmpty()) {
                m_addressError = tr("these addresses: \"%1\" is refused: %2").arg(entry, why);
                break;
            }
        }
        if (m_addressError.isEmpty() && entries.isEmpty() &&
            !m_addressesEdit->text().trimmed().isEmpty())
            m_addressError = tr("these addresses: give at least one IP or CIDR");
    }
    m_addressesError->setText(m_addressError);
    m_addressesError->setVisible(!m_addressError.isEmpty());
    updateState();
}

QStringList ExposeDialog::whitelist() const
{
    QStringList out{QStringLiteral("127.0.0.1")};
    if (m_myNetwork->isChecked()) {
        out << m_subnets;
    } else if (m_theseAddresses->isChecked()) {
        const QStringList entries = splitAddresses(m_addressesEdit->text());
        if (!m_addressError.isEmpty() || entries.isEmpty())
            return {};
        for (const QString& e : entries) {
            if (!out.contains(e))
                out << e;
        }
    }
    return out;
}

QString ExposeDialog::upstreamHost() const
{
    // A service on 0.0.0.0 or on the dual-stack :: takes 127.0.0.1 too; one on ::1 alone
    // only ::1; one bound to another address only there.
    bool v6Loopback = false;
    for (const SocketOwnerFinder::Listening& l : m_localListeners) {
        const QHostAddress& a = l.address;
        if (a == QHostAddress(QHostAddress::LocalHost) ||
            a == QHostAddress(QHostAddress::AnyIPv4) || a == QHostAddress(QHostAddress::AnyIPv6))
            return QStringLiteral("127.0.0.1");
        v6Loopback |= a == QHostAddress(QHostAddress::LocalHostIPv6);
    }
    if (v6Loopback)
        return QStringLiteral("::1");
    if (!m_localListeners.isEmpty())
        return m_localListeners.constFirst().address.toString();
    return QStringLiteral("127.0.0.1");
}

QString ExposeDialog::program() const
{
    for (const SocketOwnerFinder::Listening& l : m_localListeners) {
        if (l.process.pid != 0 && !l.process.name.isEmpty())
            return l.process.name;
    }
    return {};
}

QString ExposeDialog::defaultName() const
{
    const QString name = program();
    return name.isEmpty() ? tr("port %1").arg(localPort())
                          : tr("%1 on %2").arg(name).arg(localPort());
}

void ExposeDialog::updateState()
{
    const bool localKnown = localPort() != 0 && m_localLooked == localPort();
    const QStringList allowed = whitelist();
    const bool ok = m_store && localKnown && m_publicState == PortState::Free &&
                    !allowed.isEmpty() && !m_nameEdit->text().trimmed().isEmpty();
    m_done->setEnabled(ok);
    if (!localKnown || publicPort() == 0 || m_publicState != PortState::Free) {
        m_summary->clear();
        return;
    }
    const QString listen = m_onlyMe->isChecked() ? QStringLiteral("127.0.0.1:%1").arg(publicPort())
                                                 : tr("port %1 of every address").arg(publicPort());
    m_summary->setText(
        allowed.isEmpty()
            ? QString()
            : tr("Done adds a %1 listener on %2 and the route \"%3\" to %4; allowed to "
                 "connect: %5.")
                  .arg(protocol() == Protocol::Tcp ? QStringLiteral("TCP") : QStringLiteral("UDP"),
                       listen, m_nameEdit->text().trimmed(),
                       endpoint(QHostAddress(upstreamHost()), localPort()),
                       allowed.join(QStringLiteral(", "))));
}

// ---- Done ---------------------------------------------------------------------------------

bool ExposeDialog::create()
{
    m_error->hide();
    if (!m_done->isEnabled())
        return false;
    const int local = localPort();
    const int port = publicPort();
    const QString name = m_nameEdit->text().trimmed();
    const QString host = upstreamHost();
    const QString node = endpoint(QHostAddress(host), local);
    const QJsonObject json{
        {QStringLiteral("id"), QStringLiteral("expose")}, // replaced by a free id below
        {QStringLiteral("name"), name},
        {QStringLiteral("desc"),
         tr("%1 exposed on port %2").arg(program().isEmpty() ? node : program()).arg(port)},
        {QStringLiteral("server_port"), port},
        {QStringLiteral("plugins"),
         QJsonObject{{QStringLiteral("ip-restriction"),
                      QJsonObject{{QStringLiteral("whitelist"),
                                   QJsonArray::fromStringList(whitelist())}}}}},
        {QStringLiteral("upstream"),
         QJsonObject{{QStringLiteral("type"), QStringLiteral("roundrobin")},
                     {QStringLiteral("nodes"), QJsonObject{{node, 1}}},
                     {QStringLiteral("timeout"), QJsonObject{{QStringLiteral("connect"), 5},
                                                             {QStringLiteral("send"), 600},
                                                             {QStringLiteral("read"), 600}}}}}};
    // The route form's path: the core's decoder, then the route and its listener committed
    // together as one validated change of the store.
    const Decoded<StreamRoute> decoded = decodeStreamRoute(json, QString(), DecodeMode::Client);
    if (!decoded.ok()) {
        m_error->setText(formatProblems(decoded.problems));
        m_error->show();
        return false;
    }
    const RouteListen listen{protocol(),
                             m_onlyMe->isChecked() ? QStringLiteral("127.0.0.1") : QString(), port};
    const QString base = program().isEmpty() ? QStringLiteral("port-%1").arg(local)
                                             : QStringLiteral("%1-%2").arg(program()).arg(local);
    QString id;
    const Problems problems = m_store->update([&](Config& config) {
        // The config as it is now (a hand edit may have come in since the dialog looked).
        if (const QString use = configUseOf(config, protocol(), port); !use.isEmpty())
            return Problems{{QStringLiteral("server_port"), QString::number(port),
                             tr("port %1 is used by %2").arg(port).arg(use)}};
        StreamRoute route = decoded.value;
        id = uniqueRouteId(config, base);
        route.id = id;
        config.streamProxy = proxyWithListen(config, id, std::nullopt, listen);
        // First in match order: no route before it takes its port's connections (the port is
        // new, so no other route's connections change).
        config.streamRoutes.prepend(route);
        return Problems{};
    });
    if (!problems.isEmpty()) {
        m_error->setText(formatProblems(problems));
        m_error->show();
        return false;
    }
    m_createdId = id;
    Q_EMIT exposed(id, tr("Exposed %1: port %2 → %3").arg(name).arg(port).arg(node));
    accept();
    return true;
}

} // namespace sg::ui
