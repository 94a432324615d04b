#pragma once
// A client of the desktop's secret store, the freedesktop Secret Service
// (org.freedesktop.secrets on the session bus: GNOME Keyring, KWallet, KeePassXC), over QtDBus.
// Items live in the default collection and are found by their attributes. Every operation is
// asynchronous and bounded: each D-Bus call gives up after callTimeout(), and an unlock prompt
// (the user typing the keyring's password) after promptTimeout(), when it stops waiting. The
// callback runs exactly once, in this object's thread, and never after the object is destroyed.
// Secrets cross the bus in the "plain" algorithm: the session bus is this user's own.

#include <QDBusConnection>
#include <QMap>
#include <QObject>
#include <QString>
#include <QStringList>
#include <functional>

namespace sg::ui {

using SecretAttributes = QMap<QString, QString>;

struct SecretReply
{
    QString error;         // empty on success, else what failed and why
    bool answered = false; // a Secret Service answered at least one call
    bool found = false;    // lookup: an item matched
    QByteArray secret;     // lookup: the item's secret
    QString item;          // lookup, store: the item's object path
    QStringList items;     // search: the matching items' object paths, unlocked ones first
    QString collection;    // store: the collection's object path
    bool ok() const { return error.isEmpty(); }
};

class SecretService final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SecretService)

public:
    using Done = std::function<void(const SecretReply&)>;

    explicit SecretService(const QDBusConnection& bus, QObject* parent = nullptr);
    ~SecretService() override;

    int callTimeout() const { return m_callTimeout; }
    void setCallTimeout(int ms) { m_callTimeout = ms; }
    int promptTimeout() const { return m_promptTimeout; }
    void setPromptTimeout(int ms) { m_promptTimeout = ms; }

    // The secret of an item whose attributes include `attributes` (found false when none);
    // a locked item is unlocked first, through a prompt when the service asks for one.
    void lookup(const SecretAttributes& attributes, Done done);
    // Keeps `secret` as the only item whose attributes include `identity`: creates it in the
    // default collection (unlocking it first) with the attributes identity + extra, replacing
    // an item with the same attributes, then deletes any other item matching `identity`.
    void store(const QString& label, const SecretAttributes& identity,
               const SecretAttributes& extra, const QByteArray& secret, Done done);
    // Deletes every item whose attributes include `attributes`.
    void remove(const SecretAttributes& attributes, Done done);
    // Object paths of the items whose attributes include `attributes`, unlocked and locked.
    void search(const SecretAttributes& attributes, Done done);

private:
    friend class SecretOperation;
    QDBusConnection m_bus;
    int m_callTimeout = 5000;
    int m_promptTimeout = 120000;
};

} // namespace sg::ui
