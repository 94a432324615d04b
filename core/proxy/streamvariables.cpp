#include "proxy/streamvariables.h"

#include "proxy/addressmatch.h"

namespace sg {

namespace {

bool isVariableChar(QChar c)
{
    return c.isLetterOrNumber() || c == u'_';
}

} // namespace

QString streamVariable(const QString& name, const StreamClient& client)
{
    if (name == u"remote_addr")
        return normalizedAddress(client.remoteAddress).toString();
    if (name == u"remote_port")
        return QString::number(client.remotePort);
    if (name == u"server_addr")
        return normalizedAddress(client.serverAddress).toString();
    if (name == u"server_port")
        return QString::number(client.serverPort);
    if (name == u"protocol")
        return client.protocol == Protocol::Udp ? QStringLiteral("UDP") : QStringLiteral("TCP");
    if (name.startsWith(u"proxy_protocol_")) {
        // nginx: empty without a header, or for a header that carried no address
        const bool carried = client.proxyProtocol && !client.proxyAddress.isNull();
        if (name == u"proxy_protocol_addr")
            return carried ? normalizedAddress(client.proxyAddress).toString() : QStringLiteral("");
        if (name == u"proxy_protocol_port")
            return carried ? QString::number(client.proxyPort) : QStringLiteral("");
        if (name == u"proxy_protocol_server_addr")
            return carried ? normalizedAddress(client.proxyServerAddress).toString()
                           : QStringLiteral("");
        if (name == u"proxy_protocol_server_port")
            return carried ? QString::number(client.proxyServerPort) : QStringLiteral("");
        return QString();
    }
    if (name == u"realip_remote_addr")
        return normalizedAddress(client.peerAddress.isNull() ? client.remoteAddress
                                                             : client.peerAddress)
            .toString();
    if (name == u"realip_remote_port")
        return QString::number(client.peerAddress.isNull() ? client.remotePort : client.peerPort);
    if (name == u"mqtt_client_id") // APISIX: unset when the client gave none
        return client.mqtt.clientId.isEmpty() ? QString() : client.mqtt.clientId;
    return QString();
}

QString resolveStreamVariables(const QString& templ, const StreamClient& client, int* resolved)
{
    int count = 0;
    QString out;
    out.reserve(templ.size() + 32);
    const qsizetype n = templ.size();
    for (qsizetype i = 0; i < n;) {
        const QChar c = templ.at(i);
        if (c == u'\\' && i + 1 < n && templ.at(i + 1) == u'$') {
            out.append(u'$'); // an escaped dollar stays literal
            i += 2;
            continue;
        }
        if (c != u'$') {
            out.append(c);
            ++i;
            continue;
        }
        qsizetype start = i + 1;
        qsizetype end = start;
        bool braced = false;
        if (start < n && templ.at(start) == u'{') {
            braced = true;
            ++start;
            end = start;
        }
        while (end < n && isVariableChar(templ.at(end)))
            ++end;
        if (end == start || (braced && (end >= n || templ.at(end) != u'}'))) {
            out.append(c); // not a variable reference: keep the text as written
            ++i;
            continue;
        }
        const QString value = streamVariable(templ.mid(start, end - start), client);
        if (!value.isNull()) {
            out.append(value);
            ++count;
        }
        i = braced ? end + 1 : end;
    }
    if (resolved)
        *resolved = count;
    return out;
}

} // namespace sg
