#pragma once
// Where an HTTP endpoint of Streamgate listens ("127.0.0.1:9180", "[::1]:9180", or a bare port,
// which means loopback). The admin API and the metrics endpoint stay on loopback unless the
// user names another address on purpose.

#include <QHostAddress>
#include <QString>

namespace sg {

struct HttpListen
{
    QHostAddress address;
    quint16 port = 0;
    QString error;  // "<field>: <reason>" when the text was refused (empty when valid)
    QString reason; // the reason alone: "\"127.0.0.1:99999\" has an invalid port (0-65535)"
    bool ok() const { return error.isEmpty(); }
    bool isLoopback() const { return address.isLoopback(); }
    QString text() const; // "127.0.0.1:9180", "[::1]:9180"
};

// field names the setting in error messages (e.g. "streamgate.admin.listen").
HttpListen parseHttpListen(const QString& text, const QString& field);

// The command-line option wins over the setting, the setting over the built-in default; errors
// name whichever of optionField / settingField the text came from.
HttpListen chooseHttpListen(const QString& option, const QString& optionField,
                            const QString& setting, const QString& settingField,
                            const char* fallback);

} // namespace sg
