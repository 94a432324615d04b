#pragma once
// The nginx stream variables Streamgate knows (remote_addr, remote_port, server_addr,
// server_port, protocol, the PROXY protocol ones) and APISIX's mqtt_client_id, as the stream
// plugins and the chash balancer read them: addresses normalised (an IPv4-mapped peer is its IPv4
// address), a port as its decimal text, the protocol as "TCP" or "UDP".

#include "stats/snapshot.h"

#include <QHostAddress>
#include <QString>

namespace sg {

// What admission knows of a new client: the nginx stream variables and the transport.
struct StreamClient
{
    Protocol protocol = Protocol::Tcp;
    QHostAddress remoteAddress = nullAddress(); // remote_addr
    quint16 remotePort = 0;                     // remote_port
    QHostAddress serverAddress = nullAddress(); // server_addr: where the client arrived
    quint16 serverPort = 0;                     // server_port
    // On a listener with proxy_protocol: what the client's PROXY protocol header carried
    // (proxy_protocol_addr, _port, _server_addr, _server_port; empty for a header without
    // addresses), whether or not the peer was trusted to set remote_addr with it.
    bool proxyProtocol = false;
    QHostAddress proxyAddress = nullAddress();
    quint16 proxyPort = 0;
    QHostAddress proxyServerAddress = nullAddress();
    quint16 proxyServerPort = 0;
    // realip_remote_addr, _port: the TCP peer itself, when a trusted header replaced
    // remote_addr (unset: remote_addr is the peer).
    QHostAddress peerAddress = nullAddress();
    quint16 peerPort = 0;
    // On a route with mqtt-proxy, once read: the client's MQTT CONNECT (mqtt_client_id).
    MqttInfo mqtt;
    // On a listener with tls, once the handshake is done: the SNI the client sent (lower case),
    // what a route's sni is matched with, and the rest of the handshake.
    TlsInfo tls;
};

// The value of an nginx stream variable Streamgate knows for this client; a null QString for
// any other name.
QString streamVariable(const QString& name, const StreamClient& client);

// Replaces $name and ${name} in a template with streamVariable() values (unknown ones become
// empty); *resolved counts the variables that had a value.
QString resolveStreamVariables(const QString& templ, const StreamClient& client,
                               int* resolved = nullptr);

} // namespace sg
