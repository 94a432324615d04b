#pragma once
// The nginx stream variables Streamgate knows (remote_addr, server_addr, server_port), as the
// stream plugins and the chash balancer read them: addresses normalised (an IPv4-mapped peer is
// its IPv4 address), a port as its decimal text.

#include <QHostAddress>
#include <QString>

namespace sg {

// The value of an nginx stream variable Streamgate knows ("remote_addr", "server_addr",
// "server_port"); a null QString for any other name.
QString streamVariable(const QString& name, const QHostAddress& remote, const QHostAddress& local,
                       int serverPort);

// Replaces $name and ${name} in a template with streamVariable() values (unknown ones become
// empty); *resolved counts the variables that had a value.
QString resolveStreamVariables(const QString& templ, const QHostAddress& remote,
                               const QHostAddress& local, int serverPort, int* resolved = nullptr);

} // namespace sg
